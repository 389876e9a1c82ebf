/*
 * sasl_digest.h — the server side of SASL DIGEST-MD5 (RFC 2831) as Apache
 * ZooKeeper 3.8 runs it through the JDK's DigestMD5Server: service
 * "zookeeper", server name and realm "zk-sasl-md5", qop "auth" only (no
 * integrity or privacy layer), no subsequent authentication.
 *
 * The exchange, one GetSASLRequest token per step (server/sasl.c):
 *   1. any token (kazoo and the Java client send an empty one) -> the
 *      challenge realm="zk-sasl-md5",nonce="<40 base64 chars>",
 *      charset=utf-8,algorithm=md5-sess
 *   2. the client's digest-response -> "rspauth=<32 hex digits>" and the
 *      exchange is complete, or a failure
 *   3. anything after that -> a failure ("Server at illegal state")
 * The client response is attacker input: its length is bounded, every
 * directive is checked, the response digest is compared in constant time,
 * and the nonce comes from OpenSSL's CSPRNG.
 */
#ifndef ZK_SASL_DIGEST_H
#define ZK_SASL_DIGEST_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

/* The longest client response accepted (the JDK's MAX_RESPONSE_LENGTH). */
#define SASL_DIGEST_MAX_RESPONSE 4096

/* The directives of a digest-response the server reads (RFC 2831 2.1.2). */
enum {
    SD_USERNAME, SD_REALM, SD_NONCE, SD_CNONCE, SD_NONCE_COUNT, SD_QOP, SD_DIGEST_URI,
    SD_RESPONSE, SD_MAXBUF, SD_CHARSET, SD_CIPHER, SD_AUTHZID, SD_AUTH_PARAM, SD_N_FIELDS
};

/* A parsed digest-response: each directive's unquoted value (owned), or
 * NULL when absent.  Directive names are matched case-insensitively;
 * unknown ones (kazoo's "nc", for one) are skipped, as the JDK does. */
typedef struct sasl_digest_fields {
    GByteArray *v[SD_N_FIELDS];
} sasl_digest_fields;

/*
 * Parses a digest-response (key=value or key="quoted \" value" pairs
 * separated by commas and linear white space).  Returns true and fills *f,
 * or false with *why set to a static message (f is then emptied).  Either
 * way the caller releases f with sasl_digest_fields_clear.
 */
gboolean sasl_digest_parse(const uint8_t *in, size_t len, sasl_digest_fields *f, const char **why);

/* Frees every value of f and sets them to NULL. */
void sasl_digest_fields_clear(sasl_digest_fields *f);

/* Looks up the password of user (UTF-8, NUL-terminated); returns it
 * (borrowed, must stay valid during the call) or NULL if the user is unknown. */
typedef const char *(*sasl_password_fn)(void *ctx, const char *user);

typedef enum sasl_step_result {
    SASL_STEP_CONTINUE,  /* *out holds the next challenge */
    SASL_STEP_DONE,      /* *out holds the final challenge (rspauth); *authz_id is set */
    SASL_STEP_FAIL,      /* authentication failed (the JDK's SaslException); *why set */
    SASL_STEP_FATAL,     /* input on which the JDK throws an unchecked exception (a number
                          * that does not parse, a malformed Kerberos name); *why set */
} sasl_step_result;

/* One connection's DIGEST-MD5 server state. */
typedef struct sasl_digest sasl_digest;

/* A new exchange (the caller owns it; free with sasl_digest_free). */
sasl_digest *sasl_digest_new(void);

/* Frees d (NULL is fine); wipes the nonce. */
void sasl_digest_free(sasl_digest *d);

/*
 * Evaluates one client token in[0..len).  out (caller-owned, appended to)
 * receives the server's token for CONTINUE and DONE.  On DONE *authz_id is
 * the g_malloc'd identity the connection authenticated as (the caller
 * frees it): the user name, as Apache's SaslServerCallbackHandler makes it
 * from the authentication id.  *why (static text) is set on FAIL and FATAL.
 */
sasl_step_result sasl_digest_step(sasl_digest *d, const uint8_t *in, size_t len, sasl_password_fn pw,
                                  void *pw_ctx, GByteArray *out, char **authz_id, const char **why);

#endif
