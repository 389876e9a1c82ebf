/*
 * tls.h — TLS on the secure client port (secureClientPort) with OpenSSL:
 * the server context built from ZooKeeper's ssl.* settings (keystores and
 * truststores in JKS, PKCS12 or PEM form), and the per-connection layer the
 * non-blocking event loop of conn.c reads and writes through; and quorum
 * TLS (sslQuorum) on the links between replicas, used by peer.c.
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

/* ---- quorum TLS (sslQuorum=true; server/peer.c) ---- */

/* A TLS session on one link between replicas (opaque). */
typedef struct tls_peer tls_peer;

/*
 * Builds the context of the quorum and election links from
 * ssl.quorum.keyStore.* / ssl.quorum.trustStore.*, .protocol,
 * .enabledProtocols, .ciphersuites and .clientAuth (Apache's defaults:
 * TLSv1.2, X509Util's cipher suites, need): both sides present the key
 * store's certificate; the dialling side requires one the trust store
 * verifies, the accepting side as ssl.quorum.clientAuth says.
 * Returns it (owned by the caller: SSL_CTX_free) or NULL with a g_strdup'd
 * message in *err.
 */
SSL_CTX *tls_quorum_ctx_new(const zk_config *cfg, char **err);

/* A session on the connected non-blocking socket fd (not owned), as the
 * TLS server if accept (an inbound link), else as the client.  NULL on
 * failure.  The handshake runs inside the first sends and receives. */
tls_peer *tls_peer_new(SSL_CTX *ctx, int fd, bool accept);

/* recv()/send() through the session: > 0 bytes moved; 0 on the peer's
 * orderly close (recv only); -1 with errno EAGAIN when it waits for the
 * socket (see tls_peer_wants_write), any other errno on failure (then
 * tls_peer_error says why). */
ssize_t tls_peer_recv(tls_peer *t, void *buf, size_t len);
ssize_t tls_peer_send(tls_peer *t, const void *buf, size_t len);

/* True if the last operation waits for the socket to become writable. */
bool tls_peer_wants_write(const tls_peer *t);
/* True if the last send waits for input (the handshake), and nothing was
 * read since: waiting for writability would spin. */
bool tls_peer_send_waits_for_input(const tls_peer *t);
/* True if decrypted input is buffered inside the session. */
bool tls_peer_pending(const tls_peer *t);
/* Why the last operation failed (owned by t; never NULL). */
const char *tls_peer_error(const tls_peer *t);

/* True if the other end presented a certificate (an accepted link under
 * ssl.quorum.clientAuth none or want may have none). */
bool tls_peer_has_certificate(const tls_peer *t);

/* True if the peer's (verified) certificate names the numeric address addr
 * (may be NULL) or host (a name or an address; may be NULL): Apache's
 * ssl.quorum.hostnameVerification, without the reverse-DNS fallback. */
bool tls_peer_names_host(tls_peer *t, const char *host, const char *addr);

/* Sends close_notify (best effort) and frees t (NULL is ignored). */
void tls_peer_free(tls_peer *t);

#endif
