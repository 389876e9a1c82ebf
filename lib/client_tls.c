/*
 * client_tls.c — TLS for the client library (see client_tls.h and
 * docs/client.md, "TLS").
 *
 * As Apache's Java client (X509Util, ZKTrustManager): the server's
 * certificate chain must lead to a certificate of the trust store (the
 * system's CAs when none is given), and the server certificate must name
 * the host: either the numeric address the socket is connected to or the
 * host as written in the connect string (DNS or IP subjectAltName, the CN
 * when there is no DNS name).  Apache also tries the reverse-DNS name of
 * the address; that lookup would block the I/O thread, so it is not done.
 * An optional client certificate and key (PEM, or one PKCS12/JKS key
 * store) authenticate the session as x509:<subject DN> on the server.
 *
 * Sessions are non-blocking: SSL_connect/SSL_read/SSL_write report
 * WANT_READ / WANT_WRITE, which become "in progress" / EAGAIN plus a flag
 * asking the I/O thread to wait for writability.  Nothing is allocated per
 * request: one SSL per connection, one SSL_CTX per handle.
 */
#include "client_tls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "zk/keystore.h"

struct zkc_tls {
    SSL_CTX *ctx;               /* owned */
    bool check_host;
};

struct zkc_tls_conn {
    SSL *ssl;                   /* owned */
    int fd;                     /* not owned */
    char *host;                 /* owned */
    bool check_host;
    bool want_write;
    char err[256];              /* why the last read/write failed */
};

/* Loads a store named by an option (PEM unless the extension says otherwise). */
static bool load(const char *what, const char *path, const char *password, zk_store *st, char **err)
{
    zk_store_type t;
    zk_store_type_of(NULL, path, ZK_STORE_PEM, &t);
    char *e = NULL;
    if (!zk_store_load(path, password, t, st, &e)) {
        *err = g_strdup_printf("TLS %s: %s", what, e);
        g_free(e);
        return false;
    }
    return true;
}

zkc_tls *zkc_tls_new(const zkc_options *o, char **err)
{
    *err = NULL;
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        *err = g_strdup_printf("TLS: SSL_CTX_new: %s", zk_ssl_error_text());
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    zk_store st = { 0 };
    if (o->tls_ca_file && *o->tls_ca_file) {
        if (!load("cafile", o->tls_ca_file, o->tls_ca_password, &st, err))
            goto fail;
        if (sk_X509_num(st.certs) == 0) {
            *err = g_strdup_printf("TLS cafile: %s holds no certificate", o->tls_ca_file);
            goto fail;
        }
        X509_STORE *trust = SSL_CTX_get_cert_store(ctx);
        for (int i = 0; i < sk_X509_num(st.certs); i++)
            X509_STORE_add_cert(trust, sk_X509_value(st.certs, i));
        zk_store_clear(&st);
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        *err = g_strdup_printf("TLS: no cafile and no system CA store (%s)", zk_ssl_error_text());
        goto fail;
    }
    if (o->tls_cert_file && *o->tls_cert_file) {
        const char *pw = o->tls_key_password;
        if (!load("cert", o->tls_cert_file, pw, &st, err))
            goto fail;
        if (sk_X509_num(st.chain) == 0) {
            *err = g_strdup_printf("TLS cert: %s holds no certificate", o->tls_cert_file);
            goto fail;
        }
        if (o->tls_key_file && *o->tls_key_file) {
            zk_store ks = { 0 };
            if (!load("key", o->tls_key_file, pw, &ks, err))
                goto fail;
            EVP_PKEY_free(st.key);
            st.key = ks.key;
            ks.key = NULL;
            zk_store_clear(&ks);
        }
        if (!st.key) {
            *err = g_strdup_printf("TLS key: no private key in %s (give key=)", o->tls_key_file && *o->tls_key_file
                                                                                  ? o->tls_key_file
                                                                                  : o->tls_cert_file);
            goto fail;
        }
        if (SSL_CTX_use_certificate(ctx, sk_X509_value(st.chain, 0)) != 1 || SSL_CTX_use_PrivateKey(ctx, st.key) != 1 ||
            SSL_CTX_check_private_key(ctx) != 1) {
            *err = g_strdup_printf("TLS key: the key does not fit the certificate of %s (%s)", o->tls_cert_file,
                                   zk_ssl_error_text());
            goto fail;
        }
        for (int i = 1; i < sk_X509_num(st.chain); i++)
            SSL_CTX_add1_chain_cert(ctx, sk_X509_value(st.chain, i));
        zk_store_clear(&st);
    } else if (o->tls_key_file && *o->tls_key_file) {
        *err = g_strdup("TLS: key= given without cert=");
        goto fail;
    }
    zkc_tls *t = g_new0(zkc_tls, 1);
    t->ctx = ctx;
    t->check_host = !o->tls_no_hostname_check;
    return t;
fail:
    zk_store_clear(&st);
    SSL_CTX_free(ctx);
    return NULL;
}

void zkc_tls_free(zkc_tls *t)
{
    if (!t)
        return;
    SSL_CTX_free(t->ctx);
    g_free(t);
}

static bool is_ip(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

zkc_tls_conn *zkc_tls_conn_new(zkc_tls *t, int fd, const char *host, char **err)
{
    *err = NULL;
    SSL *ssl = SSL_new(t->ctx);
    if (!ssl || SSL_set_fd(ssl, fd) != 1) {
        *err = g_strdup_printf("TLS: SSL_new: %s", zk_ssl_error_text());
        SSL_free(ssl);
        return NULL;
    }
    if (!is_ip(host))
        SSL_set_tlsext_host_name(ssl, host);   /* SNI, as Java sends it */
    SSL_set_connect_state(ssl);
    zkc_tls_conn *c = g_new0(zkc_tls_conn, 1);
    c->ssl = ssl;
    c->fd = fd;
    c->host = g_strdup(host);
    c->check_host = t->check_host;
    return c;
}

/* The numeric address fd is connected to ("" if unknown). */
static void peer_address(int fd, char *buf, size_t len)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    buf[0] = '\0';
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
        return;
    if (ss.ss_family == AF_INET)
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, buf, (socklen_t)len);
    else if (ss.ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, buf, (socklen_t)len);
}

/* The host check of ZKTrustManager (see the top of the file). */
static bool host_matches(zkc_tls_conn *c, char **err)
{
    X509 *cert = SSL_get0_peer_certificate(c->ssl);
    if (!cert) {
        *err = g_strdup("TLS: the server sent no certificate");
        return false;
    }
    if (!c->check_host)
        return true;
    char addr[INET6_ADDRSTRLEN];
    peer_address(c->fd, addr, sizeof addr);
    if (addr[0] && X509_check_ip_asc(cert, addr, 0) == 1)
        return true;
    if (is_ip(c->host) ? X509_check_ip_asc(cert, c->host, 0) == 1 : X509_check_host(cert, c->host, 0, 0, NULL) == 1)
        return true;
    char *subject = X509_NAME_oneline(X509_get_subject_name(cert), NULL, 0);
    *err = g_strdup_printf("TLS: the server certificate (%s) does not name host %s (address %s)",
                           subject ? subject : "?", c->host, addr[0] ? addr : "?");
    OPENSSL_free(subject);
    return false;
}

/* Maps a failed SSL_* call: 0 for "wait for the socket", -1 for failure
 * (message in c->err). */
static int failure(zkc_tls_conn *c, int r)
{
    int saved = errno;
    int e = SSL_get_error(c->ssl, r);
    c->want_write = false;
    c->err[0] = '\0';
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return 0;
    case SSL_ERROR_WANT_WRITE:
        c->want_write = true;
        return 0;
    case SSL_ERROR_ZERO_RETURN:
        g_strlcpy(c->err, "the server closed the TLS session", sizeof c->err);
        break;
    case SSL_ERROR_SYSCALL:
        if (ERR_peek_error())
            g_snprintf(c->err, sizeof c->err, "TLS: %s", zk_ssl_error_text());
        else if (saved)
            g_snprintf(c->err, sizeof c->err, "TLS: %s", g_strerror(saved));
        else
            g_strlcpy(c->err, "TLS: the server closed the connection", sizeof c->err);
        break;
    default: {
        long v = SSL_get_verify_result(c->ssl);
        if (v != X509_V_OK && !SSL_is_init_finished(c->ssl))
            g_snprintf(c->err, sizeof c->err, "TLS: the server certificate was not accepted: %s",
                       X509_verify_cert_error_string(v));
        else
            g_snprintf(c->err, sizeof c->err, "TLS: %s", zk_ssl_error_text());
        break;
    }
    }
    ERR_clear_error();
    return -1;
}

int zkc_tls_conn_handshake(zkc_tls_conn *c, char **err)
{
    *err = NULL;
    ERR_clear_error();
    errno = 0;
    int r = SSL_connect(c->ssl);
    if (r == 1) {
        c->want_write = false;
        return host_matches(c, err) ? 1 : -1;
    }
    if (failure(c, r) == 0)
        return 0;
    *err = g_strdup(c->err);
    return -1;
}

ssize_t zkc_tls_conn_read(zkc_tls_conn *c, void *buf, size_t len)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_read(c->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    if (r > 0) {
        c->want_write = false;
        return r;
    }
    if (failure(c, r) == 0) {
        errno = EAGAIN;
        return -1;
    }
    if (SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN)
        return 0;
    errno = ECONNRESET;
    return -1;
}

ssize_t zkc_tls_conn_write(zkc_tls_conn *c, const void *buf, size_t len)
{
    ERR_clear_error();
    errno = 0;
    int r = SSL_write(c->ssl, buf, (int)MIN(len, (size_t)INT_MAX));
    if (r > 0) {
        c->want_write = false;
        return r;
    }
    errno = failure(c, r) == 0 ? EAGAIN : ECONNRESET;
    return -1;
}

bool zkc_tls_conn_wants_write(const zkc_tls_conn *c)
{
    return c && c->want_write;
}

bool zkc_tls_conn_pending(const zkc_tls_conn *c)
{
    return c && SSL_pending(c->ssl) > 0;
}

const char *zkc_tls_conn_error(const zkc_tls_conn *c)
{
    return c ? c->err : "";
}

void zkc_tls_conn_free(zkc_tls_conn *c)
{
    if (!c)
        return;
    if (SSL_is_init_finished(c->ssl))
        SSL_shutdown(c->ssl);     /* close_notify; the socket is non-blocking */
    ERR_clear_error();
    SSL_free(c->ssl);
    g_free(c->host);
    g_free(c);
}
