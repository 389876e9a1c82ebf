/*
 * tls.h — TLS on the secure client port (secureClientPort) with OpenSSL:
 * the server context built from ZooKeeper's ssl.* settings (keystores and
 * truststores in JKS, PKCS12 or PEM form), and the per-connection layer the
 * non-blocking event loop of conn.c reads and writes through.
 * See docs/security.md, "TLS".
 */
#ifndef ZK_TLS_H
#define ZK_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <openssl/ssl.h>

#include "config.h"

struct zk_conn;

/*
 * Builds the server SSL_CTX from cfg's ssl.* settings.  Returns it (the
 * caller owns it: SSL_CTX_free), or NULL with a g_strdup'd message in *err.
 */
SSL_CTX *tls_server_ctx_new(const zk_config *cfg, char **err);

/* Attaches a server-side TLS session on c->fd to c (c->tls).  False on failure. */
bool tls_conn_start(struct zk_conn *c, SSL_CTX *ctx);

/*
 * recv()/send() through c's TLS session: > 0 bytes moved; 0 on the peer's
 * orderly close (recv only); -1 with errno EAGAIN when the session waits
 * for the socket (see tls_conn_wants_write), any other errno on failure.
 */
ssize_t tls_conn_recv(struct zk_conn *c, void *buf, size_t len);
ssize_t tls_conn_send(struct zk_conn *c, const void *buf, size_t len);

/* True if the last TLS operation waits for the socket to become writable. */
bool tls_conn_wants_write(const struct zk_conn *c);

/* True if decrypted input is buffered inside the session (read it before sleeping). */
bool tls_conn_pending(const struct zk_conn *c);

/* Sends close_notify (best effort) and frees c's TLS session. */
void tls_conn_free(struct zk_conn *c);

#endif
