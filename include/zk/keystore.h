/*
 * keystore.h — key and trust material for TLS, shared by the server
 * (server/tls.c: ssl.keyStore.* / ssl.trustStore.*) and the client library
 * (lib/client_tls.c: cafile=, cert=, key=): one loader for stores in JKS
 * (zk/jks.h), PKCS12 or PEM form.
 */
#ifndef ZK_KEYSTORE_H
#define ZK_KEYSTORE_H

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

/* The forms a store can take. */
typedef enum zk_store_type { ZK_STORE_JKS, ZK_STORE_PKCS12, ZK_STORE_PEM } zk_store_type;

/*
 * The store type named by type ("JKS", "PKCS12", "PEM", any case) or, if
 * type is NULL or empty, guessed from path's extension (.jks, .p12/.pfx,
 * .pem; anything else is fallback).  False on an unknown type name.
 */
bool zk_store_type_of(const char *type, const char *path, zk_store_type fallback, zk_store_type *out);

/* What a store held.  Every member is owned by the struct (zk_store_clear). */
typedef struct zk_store {
    EVP_PKEY *key;              /* the (first) private key, or NULL if none */
    STACK_OF(X509) *chain;      /* the key's certificate chain, leaf first (PEM:
                                 * every certificate in file order); never NULL */
    STACK_OF(X509) *certs;      /* every certificate that is not the leaf of a
                                 * key entry (PEM: every certificate), for a
                                 * trust store; never NULL */
} zk_store;

/*
 * Loads the store at path (password may be NULL: empty; it decrypts PEM
 * keys, PKCS12 files and JKS files and their keys) of type t into *out.
 * On failure returns false with *out emptied and a g_strdup'd message
 * naming the file in *err (the caller g_free()s it).  On success the
 * caller releases *out with zk_store_clear.
 */
bool zk_store_load(const char *path, const char *password, zk_store_type t, zk_store *out, char **err);

/* Frees what st holds and zeroes it (st itself is not freed). */
void zk_store_clear(zk_store *st);

/* The last OpenSSL error of this thread as text (a static, per-thread
 * buffer), or "unknown error"; clears the thread's error queue. */
const char *zk_ssl_error_text(void);

#endif
