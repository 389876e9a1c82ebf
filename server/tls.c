/*
 * tls.c — TLS on secureClientPort (see tls.h and docs/security.md, "TLS").
 *
 * The context follows ZooKeeper's X509Util: the key store holds this
 * server's key and certificate chain, the trust store the certificates
 * client certificates are verified against; either is JKS (lib/jks.c), PKCS12
 * or PEM, from ssl.*.type or else the file name's extension (.jks, .p12 /
 * .pfx, .pem; anything else is JKS, Java's default).  ssl.clientAuth is
 * need (the default), want or none.  A verified client certificate
 * authenticates the session as x509:<subject DN in RFC 2253 form>.
 *
 * Sessions are non-blocking: SSL_read/SSL_write report WANT_READ /
 * WANT_WRITE, which become EAGAIN for conn.c plus a flag that asks conn.c
 * to wait for writability; the handshake happens inside the first reads.
 */
#include "tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "zk/keystore.h"
#include "server.h"

typedef struct zk_tls_conn {
    SSL *ssl;                /* owned */
    bool want_write;         /* the last operation waits for POLLOUT */
    bool peer_checked;       /* the x509 identity was looked at once */
} zk_tls_conn;

/* ---- key and trust material ------------------------------------------------ */

/* The last OpenSSL error as text (zk/keystore.h). */
static const char *ssl_error_text(void)
{
    return zk_ssl_error_text();
}

/*
 * Loads the store ssl.<what>.* (zk/keystore.h; an unknown extension means
 * JKS, Java's default) into *st.  Returns false with *err set.
 */
static bool load_store(const char *what, const char *path, const char *password, const char *type,
                       zk_store *st, char **err)
{
    zk_store_type t;
    memset(st, 0, sizeof *st);
    if (!zk_store_type_of(type, path, ZK_STORE_JKS, &t)) {
        *err = g_strdup_printf("ssl.%s.type: unknown store type '%s' (expected JKS, PKCS12 or PEM)", what, type);
        return false;
    }
    char *e = NULL;
    if (!zk_store_load(path, password, t, st, &e)) {
        *err = g_strdup_printf("ssl.%s.location: %s", what, e);
        g_free(e);
        return false;
    }
    return true;
}

/* ---- protocol settings -------------------------------------------------------- */

static int tls_version_of(const char *name)
{
    if (g_ascii_strcasecmp(name, "TLSv1.3") == 0)
        return TLS1_3_VERSION;
    if (g_ascii_strcasecmp(name, "TLSv1.2") == 0 || g_ascii_strcasecmp(name, "TLS") == 0)
        return TLS1_2_VERSION;
    if (g_ascii_strcasecmp(name, "TLSv1.1") == 0)
        return TLS1_1_VERSION;
    if (g_ascii_strcasecmp(name, "TLSv1") == 0)
        return TLS1_VERSION;
    return 0;
}

static bool set_protocols(SSL_CTX *ctx, const zk_config *cfg, char **err)
{
    int lo = 0, hi = 0;
    if (cfg->ssl_enabled_protocols) {
        char **words = g_strsplit(cfg->ssl_enabled_protocols, ",", -1);
        for (char **w = words; *w; w++) {
            char *name = g_strstrip(*w);
            if (!*name)
                continue;
            int v = tls_version_of(name);
            if (!v) {
                *err = g_strdup_printf("ssl.enabledProtocols: unknown protocol '%s'", name);
                g_strfreev(words);
                return false;
            }
            lo = lo == 0 || v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        g_strfreev(words);
    } else if (cfg->ssl_protocol) {
        /* X509Util: without enabledProtocols only ssl.protocol is enabled
         * ("TLS" means any version). */
        if (g_ascii_strcasecmp(cfg->ssl_protocol, "TLS") == 0) {
            lo = TLS1_2_VERSION;
        } else {
            lo = hi = tls_version_of(cfg->ssl_protocol);
            if (!lo) {
                *err = g_strdup_printf("ssl.protocol: unknown protocol '%s'", cfg->ssl_protocol);
                return false;
            }
        }
    } else {
        lo = TLS1_2_VERSION;
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    return true;
}

/* ssl.ciphersuites holds Java (IANA) names; TLS 1.3 ones go to
 * SSL_CTX_set_ciphersuites, the others through their OpenSSL names. */
static bool set_ciphers(SSL_CTX *ctx, const char *list, char **err)
{
    if (!list)
        return true;
    GString *v12 = g_string_new(NULL), *v13 = g_string_new(NULL);
    char **words = g_strsplit(list, ",", -1);
    bool ok = true;
    for (char **w = words; *w && ok; w++) {
        char *name = g_strstrip(*w);
        if (!*name)
            continue;
        if (g_str_has_prefix(name, "TLS_AES_") || g_str_has_prefix(name, "TLS_CHACHA20_")) {
            g_string_append_printf(v13, "%s%s", v13->len ? ":" : "", name);
            continue;
        }
        const char *ossl = OPENSSL_cipher_name(name);
        if (!ossl || strcmp(ossl, "(NONE)") == 0)
            ossl = name;   /* already an OpenSSL name */
        g_string_append_printf(v12, "%s%s", v12->len ? ":" : "", ossl);
    }
    g_strfreev(words);
    if (v12->len && !SSL_CTX_set_cipher_list(ctx, v12->str)) {
        *err = g_strdup_printf("ssl.ciphersuites: no usable TLS 1.2 cipher suite in '%s'", list);
        ok = false;
    }
    if (ok && v13->len && !SSL_CTX_set_ciphersuites(ctx, v13->str)) {
        *err = g_strdup_printf("ssl.ciphersuites: no usable TLS 1.3 cipher suite in '%s'", list);
        ok = false;
    }
    if (ok && !v12->len && v13->len)
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (ok && v12->len && !v13->len)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    g_string_free(v12, TRUE);
    g_string_free(v13, TRUE);
    return ok;
}

/*
 * A context of method m holding the key store's key and chain and the
 * trust store's certificates (the system's CAs without a trust store);
 * what_ks / what_ts name the settings ("keyStore", "quorum.trustStore")
 * in messages.  NULL with *err on failure.
 */
static SSL_CTX *ctx_with_stores(const SSL_METHOD *m, const char *what_ks, const char *ks_loc, const char *ks_pw,
                                const char *ks_type, const char *what_ts, const char *ts_loc, const char *ts_pw,
                                const char *ts_type, char **err)
{
    SSL_CTX *ctx = SSL_CTX_new(m);
    if (!ctx) {
        *err = g_strdup_printf("SSL_CTX_new: %s", ssl_error_text());
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    zk_store st = { 0 };
    if (!load_store(what_ks, ks_loc, ks_pw, ks_type, &st, err))
        goto fail;
    if (!st.key || sk_X509_num(st.chain) == 0) {
        *err = g_strdup_printf("%s: no private key with a certificate in the key store", ks_loc);
        goto fail;
    }
    if (SSL_CTX_use_certificate(ctx, sk_X509_value(st.chain, 0)) != 1 || SSL_CTX_use_PrivateKey(ctx, st.key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        *err = g_strdup_printf("%s: the key does not fit the certificate (%s)", ks_loc, ssl_error_text());
        goto fail;
    }
    for (int i = 1; i < sk_X509_num(st.chain); i++)
        SSL_CTX_add1_chain_cert(ctx, sk_X509_value(st.chain, i));
    zk_store_clear(&st);

    X509_STORE *trust = SSL_CTX_get_cert_store(ctx);
    if (ts_loc) {
        if (!load_store(what_ts, ts_loc, ts_pw, ts_type, &st, err))
            goto fail;
        for (int i = 0; i < sk_X509_num(st.certs); i++)
            X509_STORE_add_cert(trust, sk_X509_value(st.certs, i));
        zk_store_clear(&st);
    } else {
        SSL_CTX_set_default_verify_paths(ctx);   /* Java: the JDK's cacerts */
    }
    return ctx;
fail:
    zk_store_clear(&st);
    SSL_CTX_free(ctx);
    return NULL;
}

SSL_CTX *tls_server_ctx_new(const zk_config *cfg, char **err)
{
    *err = NULL;
    if (!cfg->ssl_keystore_location) {
        *err = g_strdup("secureClientPort needs ssl.keyStore.location (zookeeper.ssl.keyStore.location)");
        return NULL;
    }
    SSL_CTX *ctx = ctx_with_stores(TLS_server_method(), "keyStore", cfg->ssl_keystore_location,
                                   cfg->ssl_keystore_password, cfg->ssl_keystore_type, "trustStore",
                                   cfg->ssl_truststore_location, cfg->ssl_truststore_password,
                                   cfg->ssl_truststore_type, err);
    if (!ctx)
        return NULL;
    const char *ca = cfg->ssl_client_auth ? cfg->ssl_client_auth : "need";
    int mode;
    if (g_ascii_strcasecmp(ca, "need") == 0)
        mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (g_ascii_strcasecmp(ca, "want") == 0)
        mode = SSL_VERIFY_PEER;
    else if (g_ascii_strcasecmp(ca, "none") == 0)
        mode = SSL_VERIFY_NONE;
    else {
        *err = g_strdup_printf("ssl.clientAuth: '%s' (expected none, want or need)", ca);
        goto fail;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (!set_protocols(ctx, cfg, err) || !set_ciphers(ctx, cfg->ssl_ciphersuites, err))
        goto fail;
    return ctx;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

/* ---- sessions ------------------------------------------------------------------ */

bool tls_conn_start(zk_conn *c, SSL_CTX *ctx)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return false;
    if (SSL_set_fd(ssl, c->fd) != 1) {
        SSL_free(ssl);
        return false;
    }
    SSL_set_accept_state(ssl);
    c->tls = g_new0(zk_tls_conn, 1);
    c->tls->ssl = ssl;
    return true;
}

/* After the handshake: a verified client certificate becomes x509:<DN>. */
static void check_peer(zk_conn *c)
{
    zk_tls_conn *t = c->tls;
    if (t->peer_checked || !SSL_is_init_finished(t->ssl))
        return;
    t->peer_checked = true;
    X509 *peer = SSL_get1_peer_certificate(t->ssl);
    if (!peer)
        return;
    if (SSL_get_verify_result(t->ssl) == X509_V_OK) {
        BIO *b = BIO_new(BIO_s_mem());
        unsigned long flags = (XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) | ASN1_STRFLGS_UTF8_CONVERT;
        if (b && X509_NAME_print_ex(b, X509_get_subject_name(peer), 0, flags) >= 0) {
            char *p = NULL;
            long n = BIO_get_mem_data(b, &p);
            char *dn = g_strndup(p, (gsize)n);
            auth_add(c->auth, "x509", dn);
            LOG_INFO("TLS client %s:%d authenticated as x509:%s", c->addr, c->port, dn);
            g_free(dn);
        }
        BIO_free(b);
    }
    X509_free(peer);
}

static ssize_t map_error(zk_conn *c, int r)
{
    int e = SSL_get_error(c->tls->ssl, r);
    c->tls->want_write = false;
    switch (e) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        c->tls->want_write = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (errno == 0 || errno == EAGAIN)
            errno = ECONNRESET;
        break;
    default: {
        unsigned long le = ERR_peek_error();
        if (le)
            LOG_INFO("TLS error on %s:%d: %s", c->addr, c->port, ssl_error_text());
        errno = EPROTO;
        break;
    }
    }
    ERR_clear_error();
    return -1;
}

ssize_t tls_conn_recv(zk_conn *c, void *buf, size_t len)
{
    ERR_clear_error();
    int r = SSL_read(c->tls->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    if (r > 0) {
        c->tls->want_write = false;
        check_peer(c);
        return r;
    }
    ssize_t m = map_error(c, r);
    check_peer(c);
    if (m == 0 && SSL_get_error(c->tls->ssl, r) != SSL_ERROR_ZERO_RETURN)
        return 0;
    return m;
}

ssize_t tls_conn_send(zk_conn *c, const void *buf, size_t len)
{
    ERR_clear_error();
    int r = SSL_write(c->tls->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    if (r > 0) {
        c->tls->want_write = false;
        return r;
    }
    return map_error(c, r);
}

bool tls_conn_wants_write(const zk_conn *c)
{
    return c->tls && c->tls->want_write;
}

bool tls_conn_pending(const zk_conn *c)
{
    return c->tls && SSL_pending(c->tls->ssl) > 0;
}

void tls_conn_free(zk_conn *c)
{
    if (!c->tls)
        return;
    if (SSL_is_init_finished(c->tls->ssl))
        SSL_shutdown(c->tls->ssl);   /* close_notify, not waiting for the peer's */
    SSL_free(c->tls->ssl);
    g_free(c->tls);
    c->tls = NULL;
}

/* ---- quorum TLS (sslQuorum): links between replicas ---------------------------- */

struct tls_peer {
    SSL *ssl;                /* owned */
    bool want_write;
    bool write_wants_read;   /* the last send waits for input (a handshake) */
    char err[200];           /* why the last operation failed */
};

SSL_CTX *tls_quorum_ctx_new(const zk_config *cfg, char **err)
{
    *err = NULL;
    if (!cfg->ssl_quorum_keystore_location) {
        *err = g_strdup("sslQuorum=true needs ssl.quorum.keyStore.location (zookeeper.ssl.quorum.keyStore.location)");
        return NULL;
    }
    SSL_CTX *ctx = ctx_with_stores(TLS_method(), "quorum.keyStore", cfg->ssl_quorum_keystore_location,
                                   cfg->ssl_quorum_keystore_password, cfg->ssl_quorum_keystore_type,
                                   "quorum.trustStore", cfg->ssl_quorum_truststore_location,
                                   cfg->ssl_quorum_truststore_password, cfg->ssl_quorum_truststore_type, err);
    if (!ctx)
        return NULL;
    /* Both ends present a certificate and verify the other's (Apache:
     * ssl.quorum.clientAuth need). */
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    return ctx;
}

tls_peer *tls_peer_new(SSL_CTX *ctx, int fd, bool accept)
{
    SSL *ssl = SSL_new(ctx);
    if (!ssl)
        return NULL;
    if (SSL_set_fd(ssl, fd) != 1) {
        SSL_free(ssl);
        return NULL;
    }
    if (accept)
        SSL_set_accept_state(ssl);
    else
        SSL_set_connect_state(ssl);
    tls_peer *t = g_new0(tls_peer, 1);
    t->ssl = ssl;
    return t;
}

/* 0: wait for the socket (errno EAGAIN); -1: failed (errno, t->err). */
static ssize_t peer_failure(tls_peer *t, int r)
{
    int saved = errno;
    int e = SSL_get_error(t->ssl, r);
    t->want_write = false;
    t->err[0] = '\0';
    switch (e) {
    case SSL_ERROR_WANT_READ:
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_WANT_WRITE:
        t->want_write = true;
        errno = EAGAIN;
        return -1;
    case SSL_ERROR_ZERO_RETURN:
        return 0;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error())
            g_snprintf(t->err, sizeof t->err, "%s", ssl_error_text());
        else
            g_snprintf(t->err, sizeof t->err, "%s", saved ? g_strerror(saved) : "closed during the TLS handshake");
        errno = saved && saved != EAGAIN ? saved : ECONNRESET;
        break;
    default: {
        long v = SSL_get_verify_result(t->ssl);
        if (v != X509_V_OK)
            g_snprintf(t->err, sizeof t->err, "certificate not accepted: %s", X509_verify_cert_error_string(v));
        else
            g_snprintf(t->err, sizeof t->err, "%s", ssl_error_text());
        errno = EPROTO;
        break;
    }
    }
    ERR_clear_error();
    return -1;
}

ssize_t tls_peer_recv(tls_peer *t, void *buf, size_t len)
{
    t->write_wants_read = false;   /* reading may unblock the pending send */
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(t->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    if (r > 0) {
        t->want_write = false;
        return r;
    }
    ssize_t m = peer_failure(t, r);
    return m == 0 && SSL_get_error(t->ssl, r) != SSL_ERROR_ZERO_RETURN ? -1 : m;
}

ssize_t tls_peer_send(tls_peer *t, const void *buf, size_t len)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(t->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    t->write_wants_read = false;
    if (r > 0) {
        t->want_write = false;
        return r;
    }
    t->write_wants_read = SSL_get_error(t->ssl, r) == SSL_ERROR_WANT_READ;
    ssize_t m = peer_failure(t, r);
    if (m == 0) {            /* the peer closed: no more writing */
        errno = EPIPE;
        return -1;
    }
    return m;
}

bool tls_peer_wants_write(const tls_peer *t)
{
    return t && t->want_write;
}

bool tls_peer_send_waits_for_input(const tls_peer *t)
{
    return t && t->write_wants_read;
}

bool tls_peer_pending(const tls_peer *t)
{
    return t && SSL_pending(t->ssl) > 0;
}

const char *tls_peer_error(const tls_peer *t)
{
    return t && t->err[0] ? t->err : "connection closed";
}

bool tls_peer_names_host(tls_peer *t, const char *host, const char *addr)
{
    X509 *cert = SSL_get0_peer_certificate(t->ssl);
    if (!cert)
        return false;
    if (addr && *addr && X509_check_ip_asc(cert, addr, 0) == 1)
        return true;
    if (!host || !*host)
        return false;
    unsigned char ip[16];
    if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1)
        return X509_check_ip_asc(cert, host, 0) == 1;
    return X509_check_host(cert, host, 0, 0, NULL) == 1;
}

void tls_peer_free(tls_peer *t)
{
    if (!t)
        return;
    if (SSL_is_init_finished(t->ssl))
        SSL_shutdown(t->ssl);   /* close_notify, not waiting for the peer's */
    ERR_clear_error();
    SSL_free(t->ssl);
    g_free(t);
}
