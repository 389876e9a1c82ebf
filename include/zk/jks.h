/*
 * jks.h — a reader for Java KeyStore (JKS) files: the public format of
 * sun.security.provider.JavaKeyStore (magic 0xFEEDFEED, versions 1 and 2),
 * with private-key entries protected by Sun's proprietary algorithm
 * (OID 1.3.6.1.4.1.42.2.17.1.1, a SHA-1 keystream XOR) and trusted
 * certificate entries.  Every length and count is bounds-checked against
 * the input; nothing is trusted before the integrity digest is verified.
 */
#ifndef ZK_JKS_H
#define ZK_JKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* What a keystore held (all members owned by the struct; see jks_free). */
typedef struct jks_store {
    EVP_PKEY *key;                 /* the first private key entry's key, or NULL */
    STACK_OF(X509) *chain;         /* its certificate chain (leaf first); never NULL after jks_parse */
    STACK_OF(X509) *trusted;       /* every trustedCertEntry; never NULL after jks_parse */
} jks_store;

/*
 * Parses the JKS bytes data[0..len) with the keystore password (UTF-8;
 * used both for the integrity digest and for the key protection, as
 * ZooKeeper's X509Util does).  On success returns 0 and fills *out (the
 * caller releases it with jks_free).  On failure returns -1, leaves *out
 * empty and stores a g_strdup'd message in *err (the caller g_free()s it).
 */
int jks_parse(const uint8_t *data, size_t len, const char *password, jks_store *out, char **err);

/* Releases what st holds and zeroes it (st itself is not freed). */
void jks_free(jks_store *st);

#endif
