/*
 * sasl_digest.c — SASL DIGEST-MD5 server (RFC 2831) with the choices of the
 * JDK's DigestMD5Server that Apache ZooKeeper 3.8 uses (see sasl_digest.h).
 *
 * Validation follows the JDK's order, so that the same response fails the
 * same way: charset, maxbuf, username, realm, nonce, cnonce, nonce-count,
 * qop, digest-uri, response, then the password and the digest.  The
 * "nc" directive clients send is not one the JDK reads (it reads
 * "nonce-count"), so the nonce count is always 1.  User names, realm and
 * password go into the digest as ISO-8859-1 when every character fits,
 * else as UTF-8 (RFC 2831 2.1.2.1, the JDK's stringToByte_8859_1).
 */
#include "sasl_digest.h"

#include "acl.h"

#include <stdbool.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#define REALM "zk-sasl-md5"
#define DIGEST_URI "zookeeper/" REALM
#define NONCE_BYTES 30

struct sasl_digest {
    int step;                 /* 1: expecting the first token, 3: the response, 0: done or failed */
    char nonce[64];           /* base64 of NONCE_BYTES random bytes, NUL-terminated */
    size_t nonce_len;
};

static const char *const field_names[SD_N_FIELDS] = {
    "username", "realm", "nonce", "cnonce", "nonce-count", "qop", "digest-uri",
    "response", "maxbuf", "charset", "cipher", "authzid", "auth-param",
};

/* ---- the digest-response parser -------------------------------------------- */

static bool is_lws(uint8_t c)
{
    return c == '\r' || c == '\n' || c == ' ' || c == '\t';
}

static size_t skip_lws(const uint8_t *in, size_t len, size_t i)
{
    while (i < len && is_lws(in[i]))
        i++;
    return i;
}

void sasl_digest_fields_clear(sasl_digest_fields *f)
{
    for (int i = 0; i < SD_N_FIELDS; i++) {
        if (f->v[i])
            g_byte_array_free(f->v[i], TRUE);
        f->v[i] = NULL;
    }
}

/* Stores one directive; false (with *why) on a repeated known directive. */
static bool store_directive(sasl_digest_fields *f, const GByteArray *key, const GByteArray *value,
                            const char **why)
{
    for (int i = 0; i < SD_N_FIELDS; i++) {
        size_t n = strlen(field_names[i]);
        if (key->len != n || g_ascii_strncasecmp((const char *)key->data, field_names[i], n) != 0)
            continue;
        if (f->v[i]) {
            *why = "DIGEST-MD5: peer sent more than one directive of a kind";
            return false;
        }
        f->v[i] = g_byte_array_sized_new(value->len);
        g_byte_array_append(f->v[i], value->data, value->len);
        return true;
    }
    return true;   /* unknown directive: ignored */
}

gboolean sasl_digest_parse(const uint8_t *in, size_t len, sasl_digest_fields *f, const char **why)
{
    memset(f, 0, sizeof *f);
    *why = NULL;
    GByteArray *key = g_byte_array_new(), *value = g_byte_array_new();
    bool getting_key = true, quoted = false, expect_sep = false, ok = true;
    size_t i = skip_lws(in, len, 0);
    while (ok && i < len) {
        uint8_t c = in[i];
        if (getting_key) {
            if (c == ',') {
                if (key->len != 0) {
                    *why = "DIGEST-MD5: directive key contains a ','";
                    ok = false;
                }
                i = skip_lws(in, len, i + 1);
            } else if (c == '=') {
                if (key->len == 0) {
                    *why = "DIGEST-MD5: empty directive key";
                    ok = false;
                    break;
                }
                getting_key = false;
                i = skip_lws(in, len, i + 1);
                if (i >= len) {
                    *why = "DIGEST-MD5: valueless directive";
                    ok = false;
                } else if (in[i] == '"') {
                    quoted = true;
                    i++;
                }
            } else if (is_lws(c)) {
                i = skip_lws(in, len, i + 1);
                if (i >= len || in[i] != '=') {
                    *why = "DIGEST-MD5: '=' expected after a directive key";
                    ok = false;
                }
            } else {
                g_byte_array_append(key, &c, 1);
                i++;
            }
        } else if (quoted) {
            if (c == '\\') {
                i++;
                if (i >= len) {
                    *why = "DIGEST-MD5: unmatched quote";
                    ok = false;
                } else {
                    g_byte_array_append(value, &in[i], 1);
                    i++;
                }
            } else if (c == '"') {
                i++;
                quoted = false;
                expect_sep = true;
            } else {
                g_byte_array_append(value, &c, 1);
                i++;
            }
        } else if (is_lws(c) || c == ',') {
            ok = store_directive(f, key, value, why);
            g_byte_array_set_size(key, 0);
            g_byte_array_set_size(value, 0);
            getting_key = true;
            quoted = expect_sep = false;
            i = skip_lws(in, len, i + 1);
        } else if (expect_sep) {
            *why = "DIGEST-MD5: comma or white space expected after a quoted string";
            ok = false;
        } else {
            g_byte_array_append(value, &c, 1);
            i++;
        }
    }
    if (ok && quoted) {
        *why = "DIGEST-MD5: unmatched quote";
        ok = false;
    }
    if (ok && key->len > 0)
        ok = store_directive(f, key, value, why);
    g_byte_array_free(key, TRUE);
    g_byte_array_free(value, TRUE);
    if (!ok)
        sasl_digest_fields_clear(f);
    return ok;
}

/* ---- helpers ------------------------------------------------------------------ */

static bool field_is(const GByteArray *v, const char *s)
{
    size_t n = strlen(s);
    return v && v->len == n && memcmp(v->data, s, n) == 0;
}

/* A NUL-terminated UTF-8 copy of v, or NULL if v is not valid UTF-8 or has a NUL. */
static char *field_text(const GByteArray *v)
{
    if (v->len == 0)
        return g_strdup("");
    if (memchr(v->data, '\0', v->len) || !g_utf8_validate((const char *)v->data, (gssize)v->len, NULL))
        return NULL;
    return g_strndup((const char *)v->data, v->len);
}

/* Java's Integer.parseInt(s, radix): optional sign, at least one digit, no overflow. */
static bool java_parse_int(const GByteArray *v, int radix, long *out)
{
    size_t i = 0;
    bool neg = false;
    if (v->len > 0 && (v->data[0] == '+' || v->data[0] == '-')) {
        neg = v->data[0] == '-';
        i = 1;
    }
    if (i >= v->len)
        return false;
    long long acc = 0;
    for (; i < v->len; i++) {
        int d = g_ascii_xdigit_value((char)v->data[i]);
        if (d < 0 || d >= radix)
            return false;
        acc = acc * radix + d;
        if (acc > 2147483648LL)
            return false;
    }
    if (neg)
        acc = -acc;
    if (acc > 2147483647LL)
        return false;
    *out = (long)acc;
    return true;
}

/* Appends s as ISO-8859-1 if every code point is below 256, else as UTF-8. */
static void append_latin1_or_utf8(GByteArray *b, const char *s)
{
    bool latin1 = true;
    for (const char *p = s; *p; p = g_utf8_next_char(p))
        if (g_utf8_get_char(p) > 0xFF)
            latin1 = false;
    if (!latin1) {
        g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s));
        return;
    }
    for (const char *p = s; *p; p = g_utf8_next_char(p)) {
        guint8 c = (guint8)g_utf8_get_char(p);
        g_byte_array_append(b, &c, 1);
    }
}

static void md5(const void *data, size_t len, uint8_t out[16])
{
    unsigned int n = 16;
    if (!EVP_Digest(data, len, out, &n, EVP_md5(), NULL))
        memset(out, 0, 16);   /* cannot happen with the default provider; fails every compare */
}

static void hex16(const uint8_t in[16], char out[33])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[32] = '\0';
}

static void append_str(GByteArray *b, const char *s)
{
    g_byte_array_append(b, (const guint8 *)s, (guint)strlen(s));
}

static void append_field(GByteArray *b, const GByteArray *v)
{
    g_byte_array_append(b, v->data, v->len);
}

/*
 * The response-value of RFC 2831 2.1.2.1 in hex (out[33]): a2_prefix is
 * "AUTHENTICATE" for the client's response and "" for rspauth.
 */
static void response_value(const sasl_digest *d, const sasl_digest_fields *f, const char *user,
                           const char *password, const char *a2_prefix, char out[33])
{
    uint8_t h[16];
    char hex_a1[33], hex_a2[33];
    GByteArray *b = g_byte_array_new();

    append_str(b, a2_prefix);
    append_str(b, ":");
    append_field(b, f->v[SD_DIGEST_URI]);
    md5(b->data, b->len, h);
    hex16(h, hex_a2);

    g_byte_array_set_size(b, 0);
    append_latin1_or_utf8(b, user);
    append_str(b, ":" REALM ":");
    append_latin1_or_utf8(b, password);
    md5(b->data, b->len, h);
    OPENSSL_cleanse(b->data, b->len);

    g_byte_array_set_size(b, 0);
    g_byte_array_append(b, h, 16);
    append_str(b, ":");
    g_byte_array_append(b, (const guint8 *)d->nonce, (guint)d->nonce_len);
    append_str(b, ":");
    append_field(b, f->v[SD_CNONCE]);
    if (f->v[SD_AUTHZID]) {
        append_str(b, ":");
        append_field(b, f->v[SD_AUTHZID]);
    }
    md5(b->data, b->len, h);
    hex16(h, hex_a1);

    g_byte_array_set_size(b, 0);
    append_str(b, hex_a1);
    append_str(b, ":");
    g_byte_array_append(b, (const guint8 *)d->nonce, (guint)d->nonce_len);
    append_str(b, ":00000001:");
    append_field(b, f->v[SD_CNONCE]);
    append_str(b, ":auth:");
    append_str(b, hex_a2);
    md5(b->data, b->len, h);
    hex16(h, out);
    OPENSSL_cleanse(b->data, b->len);
    OPENSSL_cleanse(hex_a1, sizeof hex_a1);
    g_byte_array_free(b, TRUE);
}

/*
 * Apache's SaslServerCallbackHandler.handleAuthorizeCallback: the identity is
 * the Kerberos short name of the authentication id.  A name without '@' is
 * itself; NAME[/HOST]@REALM has no auth_to_local rule that applies without a
 * Kerberos setup, so Apache keeps the id the client asked for (authzid, else
 * the user name); any other name with an '@' makes KerberosName throw.
 */
static bool authorized_id(const char *user, const char *authzid, char **out)
{
    if (!acl_kerberos_name_valid(user))
        return false;
    *out = g_strdup(strchr(user, '@') && authzid ? authzid : user);
    return true;
}

/* ---- the exchange ---------------------------------------------------------------- */

sasl_digest *sasl_digest_new(void)
{
    sasl_digest *d = g_new0(sasl_digest, 1);
    d->step = 1;
    return d;
}

void sasl_digest_free(sasl_digest *d)
{
    if (!d)
        return;
    OPENSSL_cleanse(d, sizeof *d);
    g_free(d);
}

static sasl_step_result first_challenge(sasl_digest *d, GByteArray *out, const char **why)
{
    uint8_t raw[NONCE_BYTES];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        d->step = 0;
        *why = "DIGEST-MD5: no random bytes for a nonce";
        return SASL_STEP_FAIL;
    }
    gchar *b64 = g_base64_encode(raw, sizeof raw);
    OPENSSL_cleanse(raw, sizeof raw);
    d->nonce_len = strlen(b64);   /* 30 bytes -> 40 characters, always */
    if (d->nonce_len >= sizeof d->nonce) {
        g_free(b64);
        d->step = 0;
        *why = "DIGEST-MD5: nonce too long";
        return SASL_STEP_FAIL;
    }
    memcpy(d->nonce, b64, d->nonce_len + 1);
    g_free(b64);
    append_str(out, "realm=\"" REALM "\",nonce=\"");
    append_str(out, d->nonce);
    append_str(out, "\",charset=utf-8,algorithm=md5-sess");
    d->step = 3;
    return SASL_STEP_CONTINUE;
}

static sasl_step_result check_response(sasl_digest *d, const sasl_digest_fields *f, sasl_password_fn pw,
                                       void *pw_ctx, GByteArray *out, char **authz_id, const char **why)
{
    long n;
    if (f->v[SD_CHARSET] && !field_is(f->v[SD_CHARSET], "utf-8")) {
        *why = "DIGEST-MD5: incompatible charset value";
        return SASL_STEP_FAIL;
    }
    if (f->v[SD_MAXBUF] && !java_parse_int(f->v[SD_MAXBUF], 10, &n)) {
        *why = "DIGEST-MD5: maxbuf is not a number";
        return SASL_STEP_FATAL;
    }
    if (!f->v[SD_USERNAME]) {
        *why = "DIGEST-MD5: missing username";
        return SASL_STEP_FAIL;
    }
    if (!field_is(f->v[SD_REALM], REALM)) {
        *why = "DIGEST-MD5: nonexistent realm";
        return SASL_STEP_FAIL;
    }
    if (!f->v[SD_NONCE]) {
        *why = "DIGEST-MD5: missing nonce";
        return SASL_STEP_FAIL;
    }
    if (f->v[SD_NONCE]->len != d->nonce_len || memcmp(f->v[SD_NONCE]->data, d->nonce, d->nonce_len) != 0) {
        *why = "DIGEST-MD5: mismatched nonce";
        return SASL_STEP_FAIL;
    }
    if (!f->v[SD_CNONCE]) {
        *why = "DIGEST-MD5: missing cnonce";
        return SASL_STEP_FAIL;
    }
    if (f->v[SD_NONCE_COUNT]) {
        if (!java_parse_int(f->v[SD_NONCE_COUNT], 16, &n)) {
            *why = "DIGEST-MD5: nonce-count is not a hex number";
            return SASL_STEP_FATAL;
        }
        if (n != 1) {
            *why = "DIGEST-MD5: nonce count does not match";
            return SASL_STEP_FAIL;
        }
    }
    if (f->v[SD_QOP] && !field_is(f->v[SD_QOP], "auth")) {
        *why = field_is(f->v[SD_QOP], "auth-int") || field_is(f->v[SD_QOP], "auth-conf")
                   ? "DIGEST-MD5: server does not support the qop"
                   : "DIGEST-MD5: invalid qop";
        return SASL_STEP_FAIL;
    }
    const GByteArray *uri = f->v[SD_DIGEST_URI];
    if (!uri || uri->len != strlen(DIGEST_URI) ||
        g_ascii_strncasecmp((const char *)uri->data, DIGEST_URI, uri->len) != 0) {
        *why = "DIGEST-MD5: mismatched URI";
        return SASL_STEP_FAIL;
    }
    if (!f->v[SD_RESPONSE]) {
        *why = "DIGEST-MD5: missing response";
        return SASL_STEP_FAIL;
    }
    char *user = field_text(f->v[SD_USERNAME]);
    char *authzid = f->v[SD_AUTHZID] ? field_text(f->v[SD_AUTHZID]) : NULL;
    const char *password = user ? pw(pw_ctx, user) : NULL;
    sasl_step_result rc = SASL_STEP_FAIL;
    if (!password) {
        *why = "DIGEST-MD5: cannot acquire a password for the user";
        goto done;
    }
    if (f->v[SD_AUTHZID] && !authzid) {
        *why = "DIGEST-MD5: authzid is not UTF-8";
        goto done;
    }
    char expect[33];
    response_value(d, f, user, password, "AUTHENTICATE", expect);
    bool match = f->v[SD_RESPONSE]->len == 32 && CRYPTO_memcmp(f->v[SD_RESPONSE]->data, expect, 32) == 0;
    OPENSSL_cleanse(expect, sizeof expect);
    if (!match) {
        *why = "DIGEST-MD5: mismatched response";
        goto done;
    }
    if (!authorized_id(user, authzid, authz_id)) {
        *why = "DIGEST-MD5: malformed Kerberos name";
        rc = SASL_STEP_FATAL;
        goto done;
    }
    char rspauth[33];
    response_value(d, f, user, password, "", rspauth);
    append_str(out, "rspauth=");
    append_str(out, rspauth);
    rc = SASL_STEP_DONE;
done:
    g_free(user);
    g_free(authzid);
    return rc;
}

sasl_step_result sasl_digest_step(sasl_digest *d, const uint8_t *in, size_t len, sasl_password_fn pw,
                                  void *pw_ctx, GByteArray *out, char **authz_id, const char **why)
{
    *authz_id = NULL;
    *why = NULL;
    if (len > SASL_DIGEST_MAX_RESPONSE) {   /* checked first, at any step, as the JDK does */
        d->step = 0;
        *why = "DIGEST-MD5: invalid digest response length";
        return SASL_STEP_FAIL;
    }
    if (d->step == 1)   /* an initial response is ignored: no subsequent authentication */
        return first_challenge(d, out, why);
    if (d->step != 3) {
        *why = "DIGEST-MD5: server at illegal state";
        return SASL_STEP_FAIL;
    }
    d->step = 0;   /* one response only, whatever happens */
    sasl_digest_fields f;
    if (!sasl_digest_parse(in, len, &f, why)) {
        sasl_digest_fields_clear(&f);
        return SASL_STEP_FAIL;
    }
    sasl_step_result rc = check_response(d, &f, pw, pw_ctx, out, authz_id, why);
    sasl_digest_fields_clear(&f);
    return rc;
}
