/*
 * fuzz_jks.c — the Java KeyStore reader (server/jks.c), which parses a file
 * named by ssl.keyStore.location / ssl.trustStore.location.
 *
 * Input: [flags u8][len u16][password][rest: the keystore body].  Unless
 * flags bit 0 is set, the harness appends the correct integrity digest
 * (SHA-1 over UTF-16BE(password) || "Mighty Aphrodite" || body) so that the
 * fuzzer reaches the entry decoder instead of stopping at the digest; with
 * bit 0 the body is passed as it is (digest included, usually wrong).
 *
 * Checked: a refusal comes with a message and an empty store; an accepted
 * store has non-NULL certificate stacks and a key only with a chain.
 */
#include <string.h>

#include <glib.h>
#include <openssl/evp.h>

#include "common.h"
#include "zk/jks.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t flags = fz_u8(&in);
    const uint8_t *pwp, *body;
    size_t pwlen = fz_chunk(&in, &pwp);
    size_t blen = fz_rest(&in, &body);
    char *pw = g_strndup((const char *)pwp, pwlen);
    uint8_t *buf = g_malloc(blen + 20);
    memcpy(buf, body, blen);
    size_t len = blen;
    if (!(flags & 1)) {
        glong n = 0;
        gunichar2 *u = g_utf8_to_utf16(pw, -1, NULL, &n, NULL);
        if (u) {
            uint8_t *be = g_malloc((size_t)n * 2 + 1);
            for (glong i = 0; i < n; i++) {
                be[2 * i] = (uint8_t)(u[i] >> 8);
                be[2 * i + 1] = (uint8_t)u[i];
            }
            EVP_MD_CTX *h = EVP_MD_CTX_new();
            unsigned int dl = 0;
            EVP_DigestInit_ex(h, EVP_sha1(), NULL);
            EVP_DigestUpdate(h, be, (size_t)n * 2);
            EVP_DigestUpdate(h, "Mighty Aphrodite", 16);
            EVP_DigestUpdate(h, buf, blen);
            EVP_DigestFinal_ex(h, buf + blen, &dl);
            EVP_MD_CTX_free(h);
            len = blen + 20;
            g_free(be);
            g_free(u);
        }
    }
    jks_store st;
    char *err = NULL;
    int rc = jks_parse(buf, len, pw, &st, &err);
    if (rc < 0) {
        FZ_CHECK(err && *err, "refusal without a message");
        FZ_CHECK(!st.key && !st.chain && !st.trusted, "refusal left a half-filled store");
    } else {
        FZ_CHECK(!err, "success with a message: %s", err);
        FZ_CHECK(st.chain && st.trusted, "accepted store without its stacks");
        FZ_CHECK(!st.key || sk_X509_num(st.chain) >= 0, "key without a chain stack");
    }
    g_free(err);
    jks_free(&st);
    g_free(buf);
    g_free(pw);
    return 0;
}
