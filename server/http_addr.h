/*
 * http_addr.h — the listening address of the AdminServer and of the
 * /metrics server (both libmicrohttpd daemons) from a configured host.
 */
#ifndef ZKFS_HTTP_ADDR_H
#define ZKFS_HTTP_ADDR_H

#include <stdbool.h>
#include <sys/socket.h>

/*
 * Fills *ss (zeroed first) with host, an IPv4 or IPv6 literal (an IPv6 one
 * may be in brackets), and port; *ipv6 says which (MHD_USE_IPv6).  False if
 * host is no IP literal (*ss is then unspecified).
 */
bool http_listen_addr(const char *host, int port, struct sockaddr_storage *ss, bool *ipv6);

#endif
