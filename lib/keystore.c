/*
 * keystore.c — loads TLS key and trust stores in JKS, PKCS12 or PEM form
 * (see zk/keystore.h); used by the server's secureClientPort and by the
 * client library's TLS connections.
 */
#include "zk/keystore.h"

#include <string.h>

#include <glib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "zk/jks.h"

bool zk_store_type_of(const char *type, const char *path, zk_store_type fallback, zk_store_type *out)
{
    if (type && *type) {
        if (g_ascii_strcasecmp(type, "JKS") == 0)
            *out = ZK_STORE_JKS;
        else if (g_ascii_strcasecmp(type, "PKCS12") == 0)
            *out = ZK_STORE_PKCS12;
        else if (g_ascii_strcasecmp(type, "PEM") == 0)
            *out = ZK_STORE_PEM;
        else
            return false;
        return true;
    }
    if (g_str_has_suffix(path, ".p12") || g_str_has_suffix(path, ".pfx"))
        *out = ZK_STORE_PKCS12;
    else if (g_str_has_suffix(path, ".pem"))
        *out = ZK_STORE_PEM;
    else if (g_str_has_suffix(path, ".jks"))
        *out = ZK_STORE_JKS;
    else
        *out = fallback;
    return true;
}

const char *zk_ssl_error_text(void)
{
    static _Thread_local char buf[256];
    unsigned long e = ERR_get_error();
    if (!e)
        return "unknown error";
    ERR_error_string_n(e, buf, sizeof buf);
    ERR_clear_error();
    return buf;
}

static int password_cb(char *buf, int size, int rwflag, void *u)
{
    (void)rwflag;
    const char *pw = u ? u : "";
    int n = (int)strlen(pw);
    if (n > size)
        n = size;
    memcpy(buf, pw, (size_t)n);
    return n;
}

void zk_store_clear(zk_store *st)
{
    EVP_PKEY_free(st->key);
    if (st->chain)
        sk_X509_pop_free(st->chain, X509_free);
    if (st->certs)
        sk_X509_pop_free(st->certs, X509_free);
    memset(st, 0, sizeof *st);
}

static bool load_jks(const char *path, const char *data, size_t len, const char *password, zk_store *out,
                     char **err)
{
    jks_store js;
    char *jerr = NULL;
    if (jks_parse((const uint8_t *)data, len, password, &js, &jerr) < 0) {
        *err = g_strdup_printf("%s: %s", path, jerr);
        g_free(jerr);
        return false;
    }
    out->key = js.key;
    sk_X509_pop_free(out->chain, X509_free);
    out->chain = js.chain;
    sk_X509_pop_free(out->certs, X509_free);
    out->certs = js.trusted;
    js.key = NULL;
    js.chain = js.trusted = NULL;
    jks_free(&js);
    return true;
}

static bool load_pkcs12(const char *path, const char *data, size_t len, const char *password, zk_store *out,
                        char **err)
{
    const unsigned char *q = (const unsigned char *)data;
    PKCS12 *p12 = len <= (size_t)LONG_MAX ? d2i_PKCS12(NULL, &q, (long)len) : NULL;
    X509 *leaf = NULL;
    STACK_OF(X509) *ca = NULL;
    bool ok = false;
    if (!p12 || !PKCS12_parse(p12, password ? password : "", &out->key, &leaf, &ca)) {
        *err = g_strdup_printf("%s: not a PKCS12 store or wrong password (%s)", path, zk_ssl_error_text());
    } else {
        if (leaf)
            sk_X509_push(out->chain, leaf);
        for (int i = 0; ca && i < sk_X509_num(ca); i++) {
            X509 *x = sk_X509_value(ca, i);
            X509_up_ref(x);
            sk_X509_push(out->certs, x);
            if (leaf) {
                X509_up_ref(x);
                sk_X509_push(out->chain, x);
            }
        }
        ok = true;
    }
    if (ca)
        sk_X509_pop_free(ca, X509_free);
    PKCS12_free(p12);
    return ok;
}

static bool load_pem(const char *path, const char *data, size_t len, const char *password, zk_store *out,
                     char **err)
{
    BIO *b = len <= (size_t)INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
    STACK_OF(X509_INFO) *infos = b ? PEM_X509_INFO_read_bio(b, NULL, password_cb, (void *)password) : NULL;
    bool ok = false;
    if (!infos) {
        *err = g_strdup_printf("%s: not a PEM file or wrong password (%s)", path, zk_ssl_error_text());
    } else {
        for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
            X509_INFO *xi = sk_X509_INFO_value(infos, i);
            if (xi->x509) {
                X509_up_ref(xi->x509);
                sk_X509_push(out->chain, xi->x509);
                X509_up_ref(xi->x509);
                sk_X509_push(out->certs, xi->x509);
            }
            if (xi->x_pkey && xi->x_pkey->dec_pkey && !out->key) {
                out->key = xi->x_pkey->dec_pkey;
                EVP_PKEY_up_ref(out->key);
            }
        }
        sk_X509_INFO_pop_free(infos, X509_INFO_free);
        ok = true;
    }
    BIO_free(b);
    return ok;
}

bool zk_store_load(const char *path, const char *password, zk_store_type t, zk_store *out, char **err)
{
    memset(out, 0, sizeof *out);
    out->chain = sk_X509_new_null();
    out->certs = sk_X509_new_null();
    *err = NULL;
    gchar *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!out->chain || !out->certs) {
        *err = g_strdup_printf("%s: out of memory", path);
        zk_store_clear(out);
        return false;
    }
    if (!g_file_get_contents(path, &data, &len, &gerr)) {
        *err = g_strdup(gerr->message);
        g_error_free(gerr);
        zk_store_clear(out);
        return false;
    }
    bool ok;
    ERR_clear_error();
    if (t == ZK_STORE_JKS)
        ok = load_jks(path, data, len, password, out, err);
    else if (t == ZK_STORE_PKCS12)
        ok = load_pkcs12(path, data, len, password, out, err);
    else
        ok = load_pem(path, data, len, password, out, err);
    OPENSSL_cleanse(data, len);
    g_free(data);
    if (!ok)
        zk_store_clear(out);
    return ok;
}
