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

/* The TLS settings of one side: ssl.* (the client port) or ssl.quorum.*. */
typedef struct tls_opts {
    const char *prefix;      /* "ssl." or "ssl.quorum.", for messages */
    const char *protocol, *enabled_protocols, *ciphersuites, *client_auth;   /* NULL = unset */
} tls_opts;

/*
 * X509Util (3.8): the context's protocol is ssl.protocol (default
 * TLSv1.2) and, without ssl.enabledProtocols, the only one enabled; with
 * it, the range from its lowest to its highest version ("TLS" alone: any
 * from TLS 1.2 on).
 */
static bool set_protocols(SSL_CTX *ctx, const tls_opts *o, char **err)
{
    int lo = 0, hi = 0;
    if (o->enabled_protocols) {
        char **words = g_strsplit(o->enabled_protocols, ",", -1);
        for (char **w = words; *w; w++) {
            char *name = g_strstrip(*w);
            if (!*name)
                continue;
            int v = tls_version_of(name);
            if (!v) {
                *err = g_strdup_printf("%senabledProtocols: unknown protocol '%s'", o->prefix, name);
                g_strfreev(words);
                return false;
            }
            lo = lo == 0 || v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        g_strfreev(words);
        if (!lo) {
            *err = g_strdup_printf("%senabledProtocols: no protocol in '%s'", o->prefix, o->enabled_protocols);
            return false;
        }
    } else if (o->protocol && g_ascii_strcasecmp(o->protocol, "TLS") == 0) {
        lo = TLS1_2_VERSION;
    } else {
        const char *p = o->protocol ? o->protocol : "TLSv1.2";
        lo = hi = tls_version_of(p);
        if (!lo) {
            *err = g_strdup_printf("%sprotocol: unknown protocol '%s'", o->prefix, p);
            return false;
        }
    }
    SSL_CTX_set_min_proto_version(ctx, lo);
    SSL_CTX_set_max_proto_version(ctx, hi);
    return true;
}

/* X509Util's default cipher suites on Java 9 and later, in its order
 * (GCM first, then CBC): ECDHE with ECDSA or RSA keys only.  They are
 * TLS 1.2 suites; TLS 1.3 keeps OpenSSL's own suites (see docs/security.md). */
static const char *const default_ciphers =
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256,"
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA,"
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA384,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384,"
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA";

/* ssl.ciphersuites holds Java (IANA) names; TLS 1.3 ones go to
 * SSL_CTX_set_ciphersuites, the others through their OpenSSL names.  An
 * explicit list of one kind only also limits the versions to those the
 * list can serve. */
static bool set_ciphers(SSL_CTX *ctx, const tls_opts *o, char **err)
{
    const char *list = o->ciphersuites ? o->ciphersuites : default_ciphers;
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
        *err = g_strdup_printf("%sciphersuites: no usable TLS 1.2 cipher suite in '%s'", o->prefix, list);
        ok = false;
    }
    if (ok && v13->len && !SSL_CTX_set_ciphersuites(ctx, v13->str)) {
        *err = g_strdup_printf("%sciphersuites: no usable TLS 1.3 cipher suite in '%s'", o->prefix, list);
        ok = false;
    }
    if (ok && !v12->len && !v13->len) {
        *err = g_strdup_printf("%sciphersuites: no cipher suite in '%s'", o->prefix, list);
        ok = false;
    }
    if (ok && o->ciphersuites && !v12->len && v13->len)
        SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
    if (ok && o->ciphersuites && v12->len && !v13->len)
        SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    g_string_free(v12, TRUE);
    g_string_free(v13, TRUE);
    return ok;
}

/* ssl.clientAuth as SSL_VERIFY_* flags for the accepting side (Apache's
 * ClientAuth: unset or empty = need).  False with *err on a bad value. */
static bool client_auth_mode(const tls_opts *o, int *mode, char **err)
{
    const char *ca = o->client_auth && *o->client_auth ? o->client_auth : "need";
    if (g_ascii_strcasecmp(ca, "need") == 0)
        *mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    else if (g_ascii_strcasecmp(ca, "want") == 0)
        *mode = SSL_VERIFY_PEER;
    else if (g_ascii_strcasecmp(ca, "none") == 0)
        *mode = SSL_VERIFY_NONE;
    else {
        *err = g_strdup_printf("%sclientAuth: '%s' (expected none, want or need)", o->prefix, ca);
        return false;
    }
    return true;
}

/* Protocols, then cipher suites (which may narrow the versions further). */
static bool apply_opts(SSL_CTX *ctx, const tls_opts *o, char **err)
{
    return set_protocols(ctx, o, err) && set_ciphers(ctx, o, err);
}

/* "TLSv1.2" or "TLSv1.2 to TLSv1.3": the versions ssl may negotiate. */
static void describe_versions(const SSL *ssl, char *buf, size_t len)
{
    int lo = SSL_get_min_proto_version((SSL *)ssl), hi = SSL_get_max_proto_version((SSL *)ssl);
    const char *l = lo == TLS1_3_VERSION ? "TLSv1.3" : lo == TLS1_2_VERSION ? "TLSv1.2" : lo == TLS1_1_VERSION ? "TLSv1.1" : "TLSv1";
    const char *h = hi == TLS1_2_VERSION ? "TLSv1.2" : hi == TLS1_1_VERSION ? "TLSv1.1" : hi == TLS1_VERSION ? "TLSv1" : "TLSv1.3";
    if (strcmp(l, h) == 0)
        g_snprintf(buf, len, "%s", l);
    else
        g_snprintf(buf, len, "%s to %s", l, h);
}

/*
 * If the failed handshake's error (the first queued OpenSSL error) says the
 * peer offered no enabled protocol version or cipher suite, a message that
 * names them and the settings (prefix "ssl." or "ssl.quorum."), g_free'd by
 * the caller; else NULL.
 */
static char *negotiation_refusal(const SSL *ssl, const char *prefix)
{
    unsigned long e = ERR_peek_error();
    if (!e || ERR_GET_LIB(e) != ERR_LIB_SSL)
        return NULL;
    const char *what;
    switch (ERR_GET_REASON(e)) {
    case SSL_R_UNSUPPORTED_PROTOCOL:
    case SSL_R_WRONG_VERSION_NUMBER:
    case SSL_R_TLSV1_ALERT_PROTOCOL_VERSION:
    case SSL_R_NO_PROTOCOLS_AVAILABLE:
        what = "protocol version";
        break;
    case SSL_R_NO_SHARED_CIPHER:
    case SSL_R_NO_CIPHERS_AVAILABLE:
    case SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE:
        what = "cipher suite";
        break;
    default:
        return NULL;
    }
    char versions[40];
    describe_versions(ssl, versions, sizeof versions);
    return g_strdup_printf("no %s in common with the peer (enabled here: %s; see %senabledProtocols and "
                           "%sciphersuites): %s", what, versions, prefix, prefix, ssl_error_text());
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
    tls_opts o = { "ssl.", cfg->ssl_protocol, cfg->ssl_enabled_protocols, cfg->ssl_ciphersuites,
                   cfg->ssl_client_auth };
    int mode;
    if (!client_auth_mode(&o, &mode, err))
        goto fail;
    SSL_CTX_set_verify(ctx, mode, NULL);
    if (!apply_opts(ctx, &o, err))
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
        char *why = SSL_is_init_finished(c->tls->ssl) ? NULL : negotiation_refusal(c->tls->ssl, "ssl.");
        if (why)
            LOG_WARN("TLS handshake with %s:%d refused: %s", c->addr, c->port, why);
        else if (ERR_peek_error())
            LOG_INFO("TLS error on %s:%d: %s", c->addr, c->port, ssl_error_text());
        g_free(why);
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
    char err[320];           /* why the last operation failed */
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
    /* Both ends present their certificate; the dialling end always
     * verifies the other's, the accepting end as ssl.quorum.clientAuth says
     * (the context's mode; tls_peer_new sets the dialler's). */
    tls_opts o = { "ssl.quorum.", cfg->ssl_quorum_protocol, cfg->ssl_quorum_enabled_protocols,
                   cfg->ssl_quorum_ciphersuites, cfg->ssl_quorum_client_auth };
    int mode;
    if (!client_auth_mode(&o, &mode, err) || !apply_opts(ctx, &o, err)) {
        SSL_CTX_free(ctx);
        return NULL;
    }
    SSL_CTX_set_verify(ctx, mode, NULL);
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
    if (accept) {
        SSL_set_accept_state(ssl);
    } else {
        SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
        SSL_set_connect_state(ssl);
    }
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
        char *why = SSL_is_init_finished(t->ssl) ? NULL : negotiation_refusal(t->ssl, "ssl.quorum.");
        if (why)
            g_snprintf(t->err, sizeof t->err, "%s", why);
        else if (v != X509_V_OK)
            g_snprintf(t->err, sizeof t->err, "certificate not accepted: %s", X509_verify_cert_error_string(v));
        else
            g_snprintf(t->err, sizeof t->err, "%s", ssl_error_text());
        g_free(why);
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

bool tls_peer_has_certificate(const tls_peer *t)
{
    return t && SSL_get0_peer_certificate(t->ssl) != NULL;
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
