/*
 * fuzz_sasl.c — the SASL surfaces: the JAAS file reader (server/jaas.c,
 * the file named by -Djava.security.auth.login.config) and the DIGEST-MD5
 * server (server/sasl_digest.c), whose client response is attacker input
 * on the client port.
 *
 * Input: [mode u8] then
 *   mode % 3 == 0: the rest is a JAAS file;
 *   mode % 3 == 1: [len16][first token][rest: the digest-response]; every
 *                  "@N" in the response is replaced by the server's nonce,
 *                  so that the fuzzer gets past the nonce check;
 *   mode % 3 == 2: [len16][user][len16][cnonce][len16][authzid][rest: extra
 *                  directives]: the harness builds a response with the
 *                  correct digest for the password of user "jaasuser"
 *                  (another user name fails), to reach success.
 *
 * Checked: a refused JAAS file comes with a "line N:" message, an accepted
 * one has unique section names; a digest step that fails says why; one that
 * succeeds returns an identity and "rspauth=" + 32 hex digits; a third step
 * always fails; sasl_digest_parse never keeps fields after a refusal.
 */
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "common.h"
#include "jaas.h"
#include "sasl_digest.h"

static const char *password_of(void *ctx, const char *user)
{
    (void)ctx;
    if (strcmp(user, "jaasuser") == 0)
        return "jaas_password";
    if (strcmp(user, "\xc3\xa9t\xc3\xa9") == 0)   /* "été": ISO-8859-1 in the digest */
        return "p\xc3\xa4ss";
    return NULL;
}

static void fuzz_jaas(const uint8_t *p, size_t n)
{
    char *err = NULL;
    jaas_config *c = jaas_parse((const char *)p, n, &err);
    if (!c) {
        FZ_CHECK(err && (strncmp(err, "line ", 5) == 0 || strstr(err, "NUL")), "refusal without a line: %s",
                 err ? err : "(null)");
        g_free(err);
        return;
    }
    FZ_CHECK(err == NULL, "message on success");
    for (guint i = 0; i < c->sections->len; i++) {
        const jaas_section *s = g_ptr_array_index(c->sections, i);
        FZ_CHECK(jaas_find(c, s->name) == s, "section names not unique");
        for (guint j = 0; j < s->entries->len; j++) {
            const jaas_entry *e = g_ptr_array_index(s->entries, j);
            FZ_CHECK(e->module && e->flag, "entry without module or flag");
            for (guint k = 0; k < e->options->len; k++) {
                const jaas_option *o = g_ptr_array_index(e->options, k);
                FZ_CHECK(jaas_option_get(e, o->key) == o->value, "duplicate option key kept");
            }
        }
    }
    jaas_free(c);
}

/* The nonce of a challenge (g_malloc'd). */
static char *challenge_nonce(const GByteArray *ch)
{
    char *text = g_strndup((const char *)ch->data, ch->len);
    char *start = strstr(text, "nonce=\"");
    FZ_CHECK(start, "challenge without a nonce: %s", text);
    start += 7;
    char *end = strchr(start, '"');
    FZ_CHECK(end && end - start == 40, "nonce of unexpected length");
    char *nonce = g_strndup(start, (gsize)(end - start));
    g_free(text);
    return nonce;
}

static void check_result(sasl_digest *d, sasl_step_result r, const GByteArray *out, char *id, const char *why)
{
    if (r == SASL_STEP_DONE) {
        FZ_CHECK(id != NULL, "success without an identity");
        FZ_CHECK(out->len == 8 + 32 && memcmp(out->data, "rspauth=", 8) == 0, "bad rspauth");
    } else {
        FZ_CHECK(r == SASL_STEP_FAIL || r == SASL_STEP_FATAL, "a second challenge");
        FZ_CHECK(why != NULL && id == NULL, "failure without a reason");
    }
    g_free(id);
    GByteArray *again = g_byte_array_new();
    char *id2 = NULL;
    const char *why2 = NULL;
    FZ_CHECK(sasl_digest_step(d, (const uint8_t *)"", 0, password_of, NULL, again, &id2, &why2) ==
             SASL_STEP_FAIL, "a step after the response did not fail");
    FZ_CHECK(id2 == NULL && again->len == 0, "output after the end");
    g_byte_array_free(again, TRUE);
}

/* Starts an exchange and returns its nonce (g_malloc'd). */
static char *start(sasl_digest *d, const uint8_t *first, size_t flen)
{
    GByteArray *out = g_byte_array_new();
    char *id = NULL;
    const char *why = NULL;
    sasl_step_result r = sasl_digest_step(d, first, flen, password_of, NULL, out, &id, &why);
    char *nonce = NULL;
    if (flen <= SASL_DIGEST_MAX_RESPONSE) {
        FZ_CHECK(r == SASL_STEP_CONTINUE && id == NULL, "no challenge");
        nonce = challenge_nonce(out);
    } else {
        FZ_CHECK(r == SASL_STEP_FAIL, "an over-long first token was taken");
    }
    g_byte_array_free(out, TRUE);
    return nonce;
}

static void fuzz_response(fz_input *in)
{
    const uint8_t *first, *resp;
    size_t flen = fz_chunk(in, &first);
    size_t rlen = fz_rest(in, &resp);
    sasl_digest *d = sasl_digest_new();
    char *nonce = start(d, first, flen);
    if (nonce) {
        GString *r = g_string_sized_new(rlen + 64);
        for (size_t i = 0; i < rlen; i++) {
            if (resp[i] == '@' && i + 1 < rlen && resp[i + 1] == 'N') {
                g_string_append(r, nonce);
                i++;
            } else {
                g_string_append_c(r, (char)resp[i]);
            }
        }
        sasl_digest_fields f;
        const char *pwhy = NULL;
        if (!sasl_digest_parse((const uint8_t *)r->str, r->len, &f, &pwhy)) {
            FZ_CHECK(pwhy != NULL, "parse refusal without a reason");
            for (int i = 0; i < SD_N_FIELDS; i++)
                FZ_CHECK(f.v[i] == NULL, "fields kept after a refusal");
        }
        sasl_digest_fields_clear(&f);
        GByteArray *out = g_byte_array_new();
        char *id = NULL;
        const char *why = NULL;
        sasl_step_result res = sasl_digest_step(d, (const uint8_t *)r->str, r->len, password_of, NULL, out, &id, &why);
        check_result(d, res, out, id, why);
        g_byte_array_free(out, TRUE);
        g_string_free(r, TRUE);
        g_free(nonce);
    }
    sasl_digest_free(d);
}

static void md5_hex(const void *p, size_t n, char out[33])
{
    uint8_t h[16];
    unsigned int len = 16;
    EVP_Digest(p, n, h, &len, EVP_md5(), NULL);
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* Quotes s for a digest-response value (\ and " escaped). */
static void append_quoted(GString *g, const uint8_t *s, size_t n)
{
    g_string_append_c(g, '"');
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"' || s[i] == '\\')
            g_string_append_c(g, '\\');
        g_string_append_c(g, (char)s[i]);
    }
    g_string_append_c(g, '"');
}

static void fuzz_valid(fz_input *in)
{
    const uint8_t *user, *cnonce, *authzid, *extra;
    size_t ulen = fz_chunk(in, &user);
    size_t clen = fz_chunk(in, &cnonce);
    size_t alen = fz_chunk(in, &authzid);
    size_t elen = fz_rest(in, &extra);
    sasl_digest *d = sasl_digest_new();
    char *nonce = start(d, (const uint8_t *)"", 0);
    /* H(user:realm:password) over the raw user bytes (a harness for the plain
     * ASCII/ISO-8859-1 case; other users simply fail) */
    GByteArray *a1 = g_byte_array_new();
    g_byte_array_append(a1, user, (guint)ulen);
    g_byte_array_append(a1, (const guint8 *)":zk-sasl-md5:jaas_password", 26);
    uint8_t h[16];
    unsigned int hl = 16;
    EVP_Digest(a1->data, a1->len, h, &hl, EVP_md5(), NULL);
    g_byte_array_set_size(a1, 0);
    g_byte_array_append(a1, h, 16);
    g_byte_array_append(a1, (const guint8 *)":", 1);
    g_byte_array_append(a1, (const guint8 *)nonce, 40);
    g_byte_array_append(a1, (const guint8 *)":", 1);
    g_byte_array_append(a1, cnonce, (guint)clen);
    if (alen > 0) {
        g_byte_array_append(a1, (const guint8 *)":", 1);
        g_byte_array_append(a1, authzid, (guint)alen);
    }
    char ha1[33], ha2[33], rs[33];
    md5_hex(a1->data, a1->len, ha1);
    md5_hex("AUTHENTICATE:zookeeper/zk-sasl-md5", 34, ha2);
    GByteArray *kd = g_byte_array_new();
    g_byte_array_append(kd, (const guint8 *)ha1, 32);
    g_byte_array_append(kd, (const guint8 *)":", 1);
    g_byte_array_append(kd, (const guint8 *)nonce, 40);
    g_byte_array_append(kd, (const guint8 *)":00000001:", 10);
    g_byte_array_append(kd, cnonce, (guint)clen);
    g_byte_array_append(kd, (const guint8 *)":auth:", 6);
    g_byte_array_append(kd, (const guint8 *)ha2, 32);
    md5_hex(kd->data, kd->len, rs);
    GString *r = g_string_new("username=");
    append_quoted(r, user, ulen);
    g_string_append_printf(r, ",realm=\"zk-sasl-md5\",nonce=\"%s\",cnonce=", nonce);
    append_quoted(r, cnonce, clen);
    if (alen > 0) {
        g_string_append(r, ",authzid=");
        append_quoted(r, authzid, alen);
    }
    g_string_append_printf(r, ",digest-uri=\"zookeeper/zk-sasl-md5\",qop=auth,response=%s", rs);
    g_string_append_len(r, (const char *)extra, (gssize)elen);
    GByteArray *out = g_byte_array_new();
    char *id = NULL;
    const char *why = NULL;
    sasl_step_result res = sasl_digest_step(d, (const uint8_t *)r->str, r->len, password_of, NULL, out, &id, &why);
    bool plain = ulen == 8 && memcmp(user, "jaasuser", 8) == 0 && clen > 0 && elen == 0 &&
                 !memchr(authzid, '\0', alen) && g_utf8_validate((const char *)authzid, (gssize)alen, NULL);
    if (plain)
        FZ_CHECK(res == SASL_STEP_DONE && strcmp(id, "jaasuser") == 0, "a correct response failed: %s",
                 why ? why : "?");
    check_result(d, res, out, id, why);
    g_byte_array_free(out, TRUE);
    g_string_free(r, TRUE);
    g_byte_array_free(a1, TRUE);
    g_byte_array_free(kd, TRUE);
    g_free(nonce);
    sasl_digest_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t mode = fz_u8(&in);
    switch (mode % 3) {
    case 0: {
        const uint8_t *p;
        size_t n = fz_rest(&in, &p);
        fuzz_jaas(p, n);
        break;
    }
    case 1:
        fuzz_response(&in);
        break;
    default:
        fuzz_valid(&in);
        break;
    }
    return 0;
}
