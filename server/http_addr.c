/*
 * http_addr.c — the listening address of the AdminServer and of the
 * /metrics server from a configured host (see http_addr.h).
 */
#include "http_addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

bool http_listen_addr(const char *host, int port, struct sockaddr_storage *ss, bool *ipv6)
{
    memset(ss, 0, sizeof *ss);
    struct sockaddr_in *v4 = (struct sockaddr_in *)ss;
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)ss;
    char *bare = g_strdup(host);
    if (bare[0] == '[') {
        memmove(bare, bare + 1, strlen(bare));
        char *e = strchr(bare, ']');
        if (e)
            *e = '\0';
    }
    bool ok = true;
    *ipv6 = false;
    if (inet_pton(AF_INET, bare, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
    } else if (inet_pton(AF_INET6, bare, &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons((uint16_t)port);
        *ipv6 = true;
    } else {
        ok = false;
    }
    g_free(bare);
    return ok;
}
