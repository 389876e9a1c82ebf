/*
 * client_tls.h — TLS for the client library's connections (the server's
 * secureClientPort): the per-handle context built from zkc_options' tls_*
 * fields, and the per-connection session the I/O thread of lib/client.c
 * drives on its non-blocking socket.  Not a public header.  See
 * docs/client.md, "TLS".
 */
#ifndef ZK_CLIENT_TLS_H
#define ZK_CLIENT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "zk/client.h"

/* The TLS settings of one handle (opaque; owns its SSL_CTX). */
typedef struct zkc_tls zkc_tls;
/* One TLS session on one socket (opaque). */
typedef struct zkc_tls_conn zkc_tls_conn;

/*
 * Builds the context from o's tls_* fields: reads the trust store and the
 * client certificate and key now.  Returns it (the caller owns it:
 * zkc_tls_free), or NULL with a g_strdup'd message in *err.
 */
zkc_tls *zkc_tls_new(const zkc_options *o, char **err);
/* Frees the context (NULL is ignored).  No session may still use it. */
void zkc_tls_free(zkc_tls *t);

/*
 * Starts a client session on the connected non-blocking socket fd
 * (not owned: the caller closes it after zkc_tls_conn_free) to host, the
 * name or address of the connect string (copied; checked against the
 * server's certificate after the handshake, with the peer's numeric
 * address, unless hostname checks are off).  NULL with *err on failure.
 */
zkc_tls_conn *zkc_tls_conn_new(zkc_tls *t, int fd, const char *host, char **err);

/*
 * Advances the handshake: 1 when it is complete and the server's
 * certificate was accepted, 0 while it waits for the socket (see
 * zkc_tls_conn_wants_write), -1 on failure with a g_strdup'd message in
 * *err (untrusted or expired certificate, host mismatch, alert, EOF).
 */
int zkc_tls_conn_handshake(zkc_tls_conn *c, char **err);

/*
 * Reads/writes application data: > 0 bytes moved; 0 on the peer's close
 * (read only); -1 with errno EAGAIN when the session waits for the socket,
 * any other errno on failure (then zkc_tls_conn_error says why).
 */
ssize_t zkc_tls_conn_read(zkc_tls_conn *c, void *buf, size_t len);
ssize_t zkc_tls_conn_write(zkc_tls_conn *c, const void *buf, size_t len);

/* True if the last operation waits for the socket to become writable. */
bool zkc_tls_conn_wants_write(const zkc_tls_conn *c);
/* True if decrypted bytes are buffered in the session (read before polling). */
bool zkc_tls_conn_pending(const zkc_tls_conn *c);
/* Why the last read/write failed ("" if it did not); owned by c. */
const char *zkc_tls_conn_error(const zkc_tls_conn *c);

/* Sends close_notify (best effort, never waits) and frees c (NULL ignored). */
void zkc_tls_conn_free(zkc_tls_conn *c);

#endif
