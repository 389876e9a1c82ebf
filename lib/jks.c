/*
 * jks.c — the Java KeyStore reader (see jks.h).
 *
 * Layout (all integers big-endian):
 *   u32 magic 0xFEEDFEED, u32 version (1 or 2), u32 entry count, entries,
 *   then a 20-byte SHA-1 over UTF-16BE(password) || "Mighty Aphrodite" ||
 *   every preceding byte.
 *   entry: u32 tag (1 = private key, 2 = trusted certificate),
 *          UTF alias (u16 length + bytes), u64 creation time (ms), then
 *     tag 1: u32 length + DER EncryptedPrivateKeyInfo, u32 chain length,
 *            that many certificates;
 *     tag 2: one certificate;
 *   certificate: (version 2 only) UTF type ("X.509"), u32 length + DER.
 * The protected key is salt(20) || ciphertext || check(20): the keystream
 * is D1 = SHA1(pw || salt), Di = SHA1(pw || Di-1) XORed over the
 * ciphertext, and check must equal SHA1(pw || plaintext), where pw is the
 * password as UTF-16BE.  The plaintext is a PKCS#8 PrivateKeyInfo.
 */
#include "zk/jks.h"

#include <glib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/sha.h>

#define JKS_MAGIC 0xFEEDFEEDu
#define JKS_MAX_ENTRIES 4096
#define JKS_MAX_CHAIN 64
#define SUN_KEY_PROTECTOR_OID "1.3.6.1.4.1.42.2.17.1.1"

typedef struct rd {
    const uint8_t *p;
    size_t len, pos;
    bool bad;
} rd;

/* out = SHA1(a || b || c); any part may be empty (len 0). */
static void sha1_3(const void *a, size_t alen, const void *b, size_t blen, const void *c, size_t clen,
                   uint8_t out[SHA_DIGEST_LENGTH])
{
    EVP_MD_CTX *h = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!h || !EVP_DigestInit_ex(h, EVP_sha1(), NULL) || !EVP_DigestUpdate(h, a, alen) ||
        !EVP_DigestUpdate(h, b, blen) || !EVP_DigestUpdate(h, c, clen) || !EVP_DigestFinal_ex(h, out, &n))
        memset(out, 0, SHA_DIGEST_LENGTH);   /* cannot match a real digest check by chance */
    EVP_MD_CTX_free(h);
}

static bool need(rd *r, size_t n)
{
    if (r->bad || r->len - r->pos < n) {
        r->bad = true;
        return false;
    }
    return true;
}

static uint32_t get_u32(rd *r)
{
    if (!need(r, 4))
        return 0;
    const uint8_t *q = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3];
}

static uint16_t get_u16(rd *r)
{
    if (!need(r, 2))
        return 0;
    const uint8_t *q = r->p + r->pos;
    r->pos += 2;
    return (uint16_t)(q[0] << 8 | q[1]);
}

/* Returns a pointer to n bytes in the input (borrowed), or NULL. */
static const uint8_t *get_bytes(rd *r, size_t n)
{
    if (!need(r, n))
        return NULL;
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return q;
}

static void skip_utf(rd *r)
{
    uint16_t n = get_u16(r);
    get_bytes(r, n);
}

/* The password as UTF-16BE (g_free the result); NULL if not valid UTF-8. */
static uint8_t *password_utf16be(const char *password, size_t *out_len)
{
    glong n = 0;
    gunichar2 *u = g_utf8_to_utf16(password ? password : "", -1, NULL, &n, NULL);
    if (!u)
        return NULL;
    uint8_t *b = g_malloc((size_t)n * 2 + 1);
    for (glong i = 0; i < n; i++) {
        b[2 * i] = (uint8_t)(u[i] >> 8);
        b[2 * i + 1] = (uint8_t)(u[i] & 0xff);
    }
    g_free(u);
    *out_len = (size_t)n * 2;
    return b;
}

static X509 *read_cert(rd *r, uint32_t version)
{
    if (version == 2)
        skip_utf(r);   /* certificate type; only X.509 exists */
    uint32_t n = get_u32(r);
    const uint8_t *der = get_bytes(r, n);
    if (!der)
        return NULL;
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)n);
    if (!x || q != der + n) {
        X509_free(x);
        r->bad = true;
        return NULL;
    }
    return x;
}

/* Recovers the PKCS#8 key from a Sun-protected EncryptedPrivateKeyInfo. */
static EVP_PKEY *unprotect_key(const uint8_t *der, size_t len, const uint8_t *pw, size_t pwlen, char **err)
{
    const unsigned char *q = der;
    X509_SIG *sig = d2i_X509_SIG(NULL, &q, (long)len);
    if (!sig || q != der + len) {
        X509_SIG_free(sig);
        *err = g_strdup("private key entry: not an EncryptedPrivateKeyInfo");
        return NULL;
    }
    const X509_ALGOR *alg = NULL;
    const ASN1_OCTET_STRING *enc = NULL;
    X509_SIG_get0(sig, &alg, &enc);
    const ASN1_OBJECT *oid = NULL;
    X509_ALGOR_get0(&oid, NULL, NULL, alg);
    char oidtxt[64] = "";
    OBJ_obj2txt(oidtxt, sizeof oidtxt, oid, 1);
    if (strcmp(oidtxt, SUN_KEY_PROTECTOR_OID) != 0) {
        *err = g_strdup_printf("private key entry: unsupported protection algorithm %s", oidtxt);
        X509_SIG_free(sig);
        return NULL;
    }
    const uint8_t *e = ASN1_STRING_get0_data(enc);
    size_t elen = (size_t)ASN1_STRING_length(enc);
    if (elen < 2 * SHA_DIGEST_LENGTH + 1) {
        *err = g_strdup("private key entry: protected key too short");
        X509_SIG_free(sig);
        return NULL;
    }
    size_t klen = elen - 2 * SHA_DIGEST_LENGTH;
    const uint8_t *salt = e, *ct = e + SHA_DIGEST_LENGTH, *check = e + SHA_DIGEST_LENGTH + klen;
    uint8_t *plain = g_malloc(klen);
    uint8_t d[SHA_DIGEST_LENGTH];
    memcpy(d, salt, sizeof d);
    for (size_t off = 0; off < klen; off += SHA_DIGEST_LENGTH) {
        sha1_3(pw, pwlen, d, sizeof d, NULL, 0, d);
        for (size_t i = 0; i < SHA_DIGEST_LENGTH && off + i < klen; i++)
            plain[off + i] = ct[off + i] ^ d[i];
    }
    uint8_t want[SHA_DIGEST_LENGTH];
    sha1_3(pw, pwlen, plain, klen, NULL, 0, want);
    EVP_PKEY *key = NULL;
    if (CRYPTO_memcmp(want, check, sizeof want) != 0) {
        *err = g_strdup("private key entry: wrong password (key check failed)");
    } else {
        const unsigned char *pq = plain;
        PKCS8_PRIV_KEY_INFO *p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &pq, (long)klen);
        if (p8)
            key = EVP_PKCS82PKEY(p8);
        PKCS8_PRIV_KEY_INFO_free(p8);
        if (!key)
            *err = g_strdup("private key entry: not a PKCS#8 key");
    }
    OPENSSL_cleanse(plain, klen);
    g_free(plain);
    X509_SIG_free(sig);
    return key;
}

void jks_free(jks_store *st)
{
    EVP_PKEY_free(st->key);
    if (st->chain)
        sk_X509_pop_free(st->chain, X509_free);
    if (st->trusted)
        sk_X509_pop_free(st->trusted, X509_free);
    memset(st, 0, sizeof *st);
}

int jks_parse(const uint8_t *data, size_t len, const char *password, jks_store *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    size_t pwlen = 0;
    uint8_t *pw = password_utf16be(password, &pwlen);
    if (!pw) {
        *err = g_strdup("keystore password is not valid UTF-8");
        return -1;
    }
    if (len < 12 + SHA_DIGEST_LENGTH) {
        *err = g_strdup("not a JKS keystore (too short)");
        goto fail;
    }
    /* Integrity first: nothing else is believed before the digest matches. */
    {
        uint8_t dg[SHA_DIGEST_LENGTH];
        sha1_3(pw, pwlen, "Mighty Aphrodite", 16, data, len - SHA_DIGEST_LENGTH, dg);
        rd m = {data, len, 0, false};
        if (get_u32(&m) != JKS_MAGIC) {
            *err = g_strdup("not a JKS keystore (bad magic)");
            goto fail;
        }
        if (CRYPTO_memcmp(dg, data + len - SHA_DIGEST_LENGTH, sizeof dg) != 0) {
            *err = g_strdup("JKS keystore integrity check failed (wrong password or corrupt file)");
            goto fail;
        }
    }
    rd r = {data, len - SHA_DIGEST_LENGTH, 4, false};
    uint32_t version = get_u32(&r);
    if (version != 1 && version != 2) {
        *err = g_strdup_printf("unsupported JKS version %u", version);
        goto fail;
    }
    uint32_t count = get_u32(&r);
    if (count > JKS_MAX_ENTRIES) {
        *err = g_strdup_printf("JKS keystore claims %u entries", count);
        goto fail;
    }
    out->chain = sk_X509_new_null();
    out->trusted = sk_X509_new_null();
    for (uint32_t i = 0; i < count && !r.bad; i++) {
        uint32_t tag = get_u32(&r);
        skip_utf(&r);           /* alias */
        get_bytes(&r, 8);       /* creation date */
        if (r.bad)
            break;
        if (tag == 1) {
            uint32_t klen = get_u32(&r);
            const uint8_t *kder = get_bytes(&r, klen);
            uint32_t nchain = get_u32(&r);
            if (!kder || r.bad || nchain > JKS_MAX_CHAIN) {
                r.bad = true;
                break;
            }
            STACK_OF(X509) *chain = sk_X509_new_null();
            for (uint32_t c = 0; c < nchain; c++) {
                X509 *x = read_cert(&r, version);
                if (!x)
                    break;
                sk_X509_push(chain, x);
            }
            if (r.bad) {
                sk_X509_pop_free(chain, X509_free);
                break;
            }
            if (out->key) {             /* only the first key entry is used */
                sk_X509_pop_free(chain, X509_free);
                continue;
            }
            out->key = unprotect_key(kder, klen, pw, pwlen, err);
            if (!out->key) {
                sk_X509_pop_free(chain, X509_free);
                goto fail;
            }
            sk_X509_pop_free(out->chain, X509_free);
            out->chain = chain;
        } else if (tag == 2) {
            X509 *x = read_cert(&r, version);
            if (!x)
                break;
            sk_X509_push(out->trusted, x);
        } else {
            *err = g_strdup_printf("JKS entry %u has unknown tag %u", i, tag);
            goto fail;
        }
    }
    if (r.bad) {
        *err = g_strdup("JKS keystore is truncated or malformed");
        goto fail;
    }
    if (r.pos != r.len) {
        *err = g_strdup("JKS keystore has trailing bytes before its digest");
        goto fail;
    }
    OPENSSL_cleanse(pw, pwlen);
    g_free(pw);
    return 0;
fail:
    OPENSSL_cleanse(pw, pwlen);
    g_free(pw);
    jks_free(out);
    return -1;
}
