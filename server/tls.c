/*
 * tls.c — TLS on secureClientPort (see tls.h and docs/security.md, "TLS").
 *
 * The context follows ZooKeeper's X509Util: the key store holds this
 * server's key and certificate chain, the trust store the certificates
 * client certificates are verified against; either is JKS (jks.c), PKCS12
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

#include <errno.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>

#include "conn.h"
#include "jks.h"
#include "server.h"

typedef struct zk_tls_conn {
    SSL *ssl;                /* owned */
    bool want_write;         /* the last operation waits for POLLOUT */
    bool peer_checked;       /* the x509 identity was looked at once */
} zk_tls_conn;

/* ---- key and trust material ------------------------------------------------ */

typedef enum { STORE_JKS, STORE_PKCS12, STORE_PEM } store_type;

static bool store_type_of(const char *type, const char *path, store_type *out)
{
    if (type && *type) {
        if (g_ascii_strcasecmp(type, "JKS") == 0)
            *out = STORE_JKS;
        else if (g_ascii_strcasecmp(type, "PKCS12") == 0)
            *out = STORE_PKCS12;
        else if (g_ascii_strcasecmp(type, "PEM") == 0)
            *out = STORE_PEM;
        else
            return false;
        return true;
    }
    if (g_str_has_suffix(path, ".p12") || g_str_has_suffix(path, ".pfx"))
        *out = STORE_PKCS12;
    else if (g_str_has_suffix(path, ".pem"))
        *out = STORE_PEM;
    else
        *out = STORE_JKS;
    return true;
}

/* The last OpenSSL error as text (static buffer), or "unknown error". */
static const char *ssl_error_text(void)
{
    static char buf[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return "unknown error";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

static int store_password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u ? u : "";
    int n = (int)strlen(pw);
    if (n > size)
        n = size;
    memcpy(buf, pw, (size_t)n);
    return n;
}

/*
 * Loads a store: *key (may be NULL if none), *chain (leaf first) and
 * *certs (every other certificate, for a trust store: every certificate).
 * All outputs are owned by the caller.  Returns false with *err set.
 */
static bool load_store(const char *what, const char *path, const char *password, const char *type,
                       EVP_PKEY **key, STACK_OF(X509) **chain, STACK_OF(X509) **certs, char **err)
{
    store_type t;
    *key = NULL;
    *chain = sk_X509_new_null();
    *certs = sk_X509_new_null();
    if (!store_type_of(type, path, &t)) {
        *err = g_strdup_printf("ssl.%s.type: unknown store type '%s' (expected JKS, PKCS12 or PEM)", what, type);
        return false;
    }
    gchar *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        *err = g_strdup_printf("ssl.%s.location: %s", what, gerr->message);
        g_error_free(gerr);
        return false;
    }
    bool ok = false;
    if (t == STORE_JKS) {
        jks_store js;
        char *jerr = NULL;
        if (jks_parse((const uint8_t *)data, len, password, &js, &jerr) < 0) {
            *err = g_strdup_printf("%s: %s", path, jerr);
            g_free(jerr);
        } else {
            *key = js.key;
            js.key = NULL;
            sk_X509_pop_free(*chain, X509_free);
            *chain = js.chain;
            js.chain = NULL;
            sk_X509_pop_free(*certs, X509_free);
            *certs = js.trusted;
            js.trusted = NULL;
            jks_free(&js);
            ok = true;
        }
    } else if (t == STORE_PKCS12) {
        const unsigned char *q = (const unsigned char *)data;
        PKCS12 *p12 = d2i_PKCS12(NULL, &q, (long)len);
        X509 *leaf = NULL;
        STACK_OF(X509) *ca = NULL;
        if (!p12 || !PKCS12_parse(p12, password ? password : "", key, &leaf, &ca)) {
            *err = g_strdup_printf("%s: not a PKCS12 store or wrong password (%s)", path, ssl_error_text());
        } else {
            if (leaf)
                sk_X509_push(*chain, leaf);
            for (int i = 0; ca && i < sk_X509_num(ca); i++) {
                X509 *x = sk_X509_value(ca, i);
                X509_up_ref(x);
                sk_X509_push(*certs, x);
                if (leaf) {
                    X509_up_ref(x);
                    sk_X509_push(*chain, x);
                }
            }
            ok = true;
        }
        if (ca)
            sk_X509_pop_free(ca, X509_free);
        PKCS12_free(p12);
    } else {
        BIO *b = BIO_new_mem_buf(data, (int)len);
        STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, store_password_cb, (void *)password) : NULL;
        if (!infos) {
            *err = g_strdup_printf("%s: not a PEM file (%s)", path, ssl_error_text());
        } else {
            for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
                X509_INFO *xi = sk_X509_INFO_value(infos, i);
                if (xi->x509) {
                    X509_up_ref(xi->x509);
                    sk_X509_push(*chain, xi->x509);
                    X509_up_ref(xi->x509);
                    sk_X509_push(*certs, xi->x509);
                }
                if (xi->x_pkey && xi->x_pkey->dec_pkey && !*key) {
                    *key = xi->x_pkey->dec_pkey;
                    EVP_PKEY_up_ref(*key);
                }
            }
            sk_X509_INFO_pop_free(infos, X509_INFO_free);
            ok = true;
        }
        BIO_free(b);
    }
    if (data)
        OPENSSL_cleanse(data, len);
    g_free(data);
    return ok;
}

static void free_store(EVP_PKEY *key, STACK_OF(X509) *chain, STACK_OF(X509) *certs)
{
    EVP_PKEY_free(key);
    if (chain)
        sk_X509_pop_free(chain, X509_free);
    if (certs)
        sk_X509_pop_free(certs, X509_free);
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

SSL_CTX *tls_server_ctx_new(const zk_config *cfg, char **err)
{
    *err = NULL;
    if (!cfg->ssl_keystore_location) {
        *err = g_strdup("secureClientPort needs ssl.keyStore.location (zookeeper.ssl.keyStore.location)");
        return NULL;
    }
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (!ctx) {
        *err = g_strdup_printf("SSL_CTX_new: %s", ssl_error_text());
        return NULL;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    EVP_PKEY *key = NULL;
    STACK_OF(X509) *chain = NULL, *certs = NULL;
    if (!load_store("keyStore", cfg->ssl_keystore_location, cfg->ssl_keystore_password, cfg->ssl_keystore_type,
                    &key, &chain, &certs, err))
        goto fail;
    if (!key || sk_X509_num(chain) == 0) {
        *err = g_strdup_printf("%s: no private key with a certificate in the key store", cfg->ssl_keystore_location);
        goto fail;
    }
    if (SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0)) != 1 || SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        *err = g_strdup_printf("%s: the key does not fit the certificate (%s)", cfg->ssl_keystore_location,
                               ssl_error_text());
        goto fail;
    }
    for (int i = 1; i < sk_X509_num(chain); i++)
        SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, i));
    free_store(key, chain, certs);
    key = NULL;
    chain = certs = NULL;

    X509_STORE *trust = SSL_CTX_get_cert_store(ctx);
    if (cfg->ssl_truststore_location) {
        if (!load_store("trustStore", cfg->ssl_truststore_location, cfg->ssl_truststore_password,
                        cfg->ssl_truststore_type, &key, &chain, &certs, err))
            goto fail;
        for (int i = 0; i < sk_X509_num(certs); i++)
            X509_STORE_add_cert(trust, sk_X509_value(certs, i));
        free_store(key, chain, certs);
        key = NULL;
        chain = certs = NULL;
    } else {
        SSL_CTX_set_default_verify_paths(ctx);   /* Java: the JDK's cacerts */
    }
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
    free_store(key, chain, certs);
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
