/*
 * acl.h — ACL lists, authentication identities and permission checks, as
 * Apache ZooKeeper's ZooKeeperServer.checkACL / PrepRequestProcessor.fixupACL
 * and its digest, ip, world and super providers define them.
 *
 * ACL lists are immutable, interned in an acl_cache and reference counted:
 * thousands of znodes usually share a handful of lists.
 */
#ifndef ZK_ACL_H
#define ZK_ACL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "zk/proto.h"

typedef struct zk_acl_entry {
    int32_t perms;
    char *scheme;   /* owned by the list */
    char *id;       /* owned by the list */
} zk_acl_entry;

typedef struct zk_acl_list {
    int refs;
    int count;
    GBytes *key;            /* the list's jute encoding (interning key) */
    zk_acl_entry items[];
} zk_acl_list;

/* An authenticated identity of a connection ("digest","user:HASH"), ("ip","127.0.0.1"), ("super",""). */
typedef struct zk_auth_id {
    char *scheme;   /* owned */
    char *id;       /* owned */
    uint32_t hash;  /* Java's Id.hashCode() of (scheme, id), computed once */
} zk_auth_id;

/* Bounds on the identities one connection collects with auth packets: each
 * addauth of a new digest adds one, and every ACL check and every forwarded
 * request carries them all.  Apache 3.8 has no bound. */
#define AUTH_MAX_IDS 1024
#define AUTH_MAX_ID_BYTES (1u << 20)

typedef struct acl_cache acl_cache;

acl_cache *acl_cache_new(void);
void acl_cache_free(acl_cache *c);
/* Number of distinct lists interned (for mntr/diagnostics). */
guint acl_cache_size(const acl_cache *c);

/*
 * Interns a list given as raw jute-encoded entries (count elements in vec)
 * and returns it with one more reference (caller owns that reference).
 * Returns NULL if the encoding is malformed.
 */
zk_acl_list *acl_intern_vec(acl_cache *c, const zk_vec *vec);
/* Interns a list given as an array of entries; returns a new reference. */
zk_acl_list *acl_intern(acl_cache *c, const zk_acl_entry *items, int count);
zk_acl_list *acl_ref(zk_acl_list *l);
void acl_unref(acl_cache *c, zk_acl_list *l);
/* The shared OPEN_ACL_UNSAFE list (world:anyone, ALL); a new reference. */
zk_acl_list *acl_open_unsafe(acl_cache *c);

/* Appends the jute encoding of a list (vector<ACL>). */
void acl_write(jute_writer *w, const zk_acl_list *l);

/*
 * zookeeper.skipACL=yes (Apache's ZooKeeperServer.skipACL): every
 * acl_check passes, for every request and every watch event.  Process-wide,
 * set once at start-up (sasl.c, with the sasl scheme).
 */
void acl_configure_skip(bool skip);
/* True if acl_configure_skip(true) is in effect. */
bool acl_skip_enabled(void);

/*
 * Checks that `auth` (GPtrArray of zk_auth_id*) grants any bit of `perm` on
 * a node with ACL `acl` (always, under skipACL).  Returns ZOK or ZNOAUTH.
 */
int acl_check(const zk_acl_list *acl, int perm, const GPtrArray *auth);

/*
 * PrepRequestProcessor.fixupACL: validates the requested ACL (vec), removes
 * duplicates, expands "auth" entries into the connection's authenticated
 * ids, and interns the result into *out (a new reference).
 * Returns ZOK or ZINVALIDACL.
 */
int acl_fixup(acl_cache *c, const zk_vec *vec, const GPtrArray *auth, zk_acl_list **out);

/* "user:password" -> "user:base64(sha1(user:password))" (g_malloc'd). */
char *acl_digest(const char *user_password, size_t len);

/* Does an ip ACL id ("10.0.0.0/8", "127.0.0.1") match address `addr`? */
bool acl_ip_matches(const char *acl_id, const char *addr);
/* Is `id` a valid id for scheme `scheme` (digest: user:hash; ip: addr[/bits]; world: anyone)? */
bool acl_id_valid(const char *scheme, const char *id);

/*
 * Registers (enabled) or removes the sasl scheme, as an authProvider.N of
 * SASLAuthenticationProvider does in Apache: with it, sasl:<name> ACL ids
 * are valid (a Kerberos-style name) and checked; a sasl identity "super"
 * matches every sasl id, and every sasl identity matches the id
 * let_any_user (zookeeper.letAnySaslUserDoX; NULL = none; copied).
 * Process-wide: the server calls it once at start.
 */
void acl_configure_sasl(bool enabled, const char *let_any_user);
/* Is the sasl scheme registered (acl_configure_sasl)? */
bool acl_sasl_enabled(void);
/* Is name a valid Kerberos-style name (no '@', or NAME[/HOST]@REALM)? */
bool acl_kerberos_name_valid(const char *name);

/* zk_auth_id helpers (GPtrArray element free function included). */
zk_auth_id *auth_id_new(const char *scheme, const char *id);
void auth_id_free(gpointer p);
/*
 * Adds an identity unless an equal one is present, keeping `auth` in the
 * order Apache iterates a connection's identities (ServerCnxn.authInfo is a
 * ConcurrentHashMap key set): that order is visible in whoAmI replies and in
 * the ACL that an "auth" entry expands to (see auth_add in acl.c).
 * Returns false, adding nothing, if a new identity would take `auth` past
 * AUTH_MAX_IDS identities or AUTH_MAX_ID_BYTES bytes of them.
 */
bool auth_add(GPtrArray *auth, const char *scheme, const char *id);

#endif
