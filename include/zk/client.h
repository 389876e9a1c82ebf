/*
 * client.h — asynchronous, pipelined, thread-safe client for the ZooKeeper
 * client protocol (works against bin/zkserver and Apache ZooKeeper 3.5+).
 *
 * API STABLE.
 *
 * Model
 *   - One handle (zkc) = one session = one I/O thread that owns the socket.
 *   - Every function below may be called from any thread.  Async functions
 *     (zkc_a*) encode the request, queue it and return at once; the reply is
 *     delivered to the completion callback ON THE I/O THREAD.  Callbacks and
 *     the watcher must not block; they may call async functions.  A sync
 *     wrapper called from a callback is refused (returns ZAPIERROR) and so
 *     is zkc_close (g_critical, no effect).
 *   - An async function returns ZOK when the request was queued: its
 *     callback then runs exactly once (with err ZCONNECTIONLOSS if the
 *     connection is lost before the reply, ZCLOSING if the handle is closed).
 *     Any other return value means the request was not queued and the
 *     callback will NOT be called (ZCONNECTIONLOSS while disconnected,
 *     ZSESSIONEXPIRED, ZAUTHFAILED, ZCLOSING, ZBADARGUMENTS).
 *   - Requests are pipelined on the connection; replies come back in order.
 *   - Synchronous wrappers (no "a" prefix) wait at most request_timeout_ms;
 *     then they return ZOPERATIONTIMEOUT and the late reply is ignored.
 *   - While disconnected, new requests fail immediately with
 *     ZCONNECTIONLOSS; the I/O thread keeps reconnecting in the background
 *     (same session id, password and last zxid seen), re-sends the digest
 *     auth and re-registers the active watches (SetWatches2).
 *   - Paths given and returned are relative to the connect string's chroot.
 *
 * Errors are ZooKeeper's codes from zk/proto.h (ZOK, ZNONODE, ...);
 * zk_error_name() gives their names.
 */
#ifndef ZK_CLIENT_H
#define ZK_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#include "zk/proto.h"

/* An open client handle (opaque). */
typedef struct zkc zkc;

/* One ACL entry or one authenticated identity (whoAmI: perms is 0). */
typedef struct zkc_acl_entry {
    int32_t perms;          /* ZK_PERM_* bits */
    const char *scheme;     /* "world", "digest", "ip", "auth", "sasl", ... */
    const char *id;         /* "anyone", "user:base64(sha1)", ... */
} zkc_acl_entry;

/* A list of ACL entries.  Who owns it is said where it is used. */
typedef struct zkc_acl {
    size_t count;
    const zkc_acl_entry *entries;
} zkc_acl;

/* Ready-made ACLs (static storage, never freed). */
extern const zkc_acl zkc_acl_open_unsafe;   /* world:anyone ALL  (the default) */
extern const zkc_acl zkc_acl_read_unsafe;   /* world:anyone READ */
extern const zkc_acl zkc_acl_creator_all;   /* auth:"" ALL (needs an auth id) */

/* One operation of a multi request.  Strings/data/acl are the caller's and
 * only need to live until zkc_amulti/zkc_multi returns (they are encoded
 * at once).  Build them with the zkc_op_* helpers below. */
typedef struct zkc_op {
    int32_t type;           /* ZK_OP_CREATE, ZK_OP_DELETE, ZK_OP_SETDATA, ZK_OP_CHECK */
    const char *path;
    const void *data;       /* create/setData; NULL = null data */
    int32_t data_len;
    int32_t flags;          /* create: ZK_CREATE_* mode */
    int64_t ttl;            /* create with a TTL mode, in ms; else ignored */
    const zkc_acl *acl;     /* create: NULL = zkc_acl_open_unsafe */
    int32_t version;        /* delete/setData/check; -1 = any */
} zkc_op;

static inline zkc_op zkc_op_create(const char *path, const void *data, int32_t len,
                                   int32_t flags, const zkc_acl *acl, int64_t ttl)
{
    zkc_op op = { ZK_OP_CREATE, path, data, len, flags, ttl, acl, -1 };
    return op;
}
static inline zkc_op zkc_op_delete(const char *path, int32_t version)
{
    zkc_op op = { ZK_OP_DELETE, path, NULL, 0, 0, 0, NULL, version };
    return op;
}
static inline zkc_op zkc_op_set(const char *path, const void *data, int32_t len, int32_t version)
{
    zkc_op op = { ZK_OP_SETDATA, path, data, len, 0, 0, NULL, version };
    return op;
}
static inline zkc_op zkc_op_check(const char *path, int32_t version)
{
    zkc_op op = { ZK_OP_CHECK, path, NULL, 0, 0, 0, NULL, version };
    return op;
}

/* Result of one multi operation. */
typedef struct zkc_op_result {
    int32_t err;            /* ZOK, or the op's error (ops after a failed
                             * one report ZRUNTIMEINCONSISTENCY, as Apache) */
    int32_t type;           /* opcode of the reply (ZK_OP_CREATE2, ...; -1 on error) */
    const char *path;       /* create: the created path; else NULL */
    bool has_stat;          /* create/setData: stat is valid */
    zk_stat stat;
} zkc_op_result;

/* One read of a multiRead request (opcode 22, ZooKeeper 3.6+): getData or
 * getChildren of path (the caller's string, encoded at once). */
typedef struct zkc_read_op {
    int32_t type;           /* ZK_OP_GETDATA or ZK_OP_GETCHILDREN */
    const char *path;
} zkc_read_op;

/* Result of one read of a multiRead (valid during the callback only). */
typedef struct zkc_read_result {
    int32_t err;            /* ZOK or this read's error (ZNONODE, ZNOAUTH, ...) */
    int32_t type;           /* the read's type (ZK_OP_GETDATA / ZK_OP_GETCHILDREN) */
    const char *data;       /* getData: the bytes; NULL if null */
    int32_t data_len;       /* getData: length, -1 for null data */
    bool has_stat;          /* getData: stat is valid */
    zk_stat stat;
    const char *const *children; /* getChildren: names */
    size_t n_children;
} zkc_read_result;

/*
 * What a completion callback receives.  Everything it points to is owned by
 * the library and valid only during the callback: copy what you keep.
 * Fields not produced by the operation are zero/NULL.
 */
typedef struct zkc_result {
    int32_t err;            /* ZOK or a ZooKeeper error code */
    int32_t op;             /* the request's opcode */
    int64_t zxid;           /* zxid of the reply header (0 on local errors) */
    bool has_stat;          /* stat is valid (create, exists, get, set, getACL, setACL, children2) */
    zk_stat stat;
    const char *data;       /* getData: the bytes (not NUL-terminated); NULL if null */
    int32_t data_len;       /* getData: length, -1 for null data */
    const char *path;       /* create: created path; sync: the path */
    const char *const *children; /* getChildren(2), getEphemerals: NUL-terminated names */
    size_t n_children;
    const zkc_acl_entry *acl;    /* getACL: the ACL; whoAmI: the client's ids (perms 0) */
    size_t n_acl;
    const zkc_op_result *ops;    /* multi: one result per op */
    size_t n_ops;
    int32_t number;         /* getAllChildrenNumber */
    const zkc_read_result *reads; /* multiRead: one result per read */
    size_t n_reads;
} zkc_result;

/* Completion callback; runs on the I/O thread; res is valid only during
 * the call.  ctx is the pointer given with the request (not touched). */
typedef void (*zkc_completion_fn)(const zkc_result *res, void *ctx);

/*
 * Session events and watch notifications; runs on the I/O thread.
 *   type  ZK_EVENT_* (ZK_EVENT_NONE = -1 for a connection state change)
 *   state ZK_STATE_SYNC_CONNECTED, ZK_STATE_DISCONNECTED, ZK_STATE_EXPIRED,
 *         ZK_STATE_AUTH_FAILED, ZK_STATE_CLOSED
 *   path  the znode (chroot removed); NULL for state changes; valid only
 *         during the call.
 */
typedef void (*zkc_watcher_fn)(zkc *zk, int type, int state, const char *path, void *ctx);

/* Connection options.  Initialise with zkc_options_init() (a zeroed struct
 * means auto_new_session = false; zero numbers mean "default"). Strings are
 * copied by zkc_open. */
typedef struct zkc_options {
    const char *hosts;          /* "host:port,host:port[/chroot]" (required) */
    int session_timeout_ms;     /* asked of the server; default 10000 */
    int request_timeout_ms;     /* sync wrappers' bound; default 5000 */
    int connect_timeout_ms;     /* TCP connect + handshake per host; default session/3 */
    const char *digest_auth;    /* NULL, or "user:password" (sent after every connect) */
    zkc_watcher_fn watcher;     /* NULL = no events */
    void *watcher_ctx;          /* passed to watcher, not touched */
    bool auto_new_session;      /* on expiry, start a new session (default true) */
    bool shuffle_hosts;         /* try hosts in random order (default false) */
    int max_frame_bytes;        /* largest reply accepted; default 4 MiB + 64 KiB */

    /* TLS to the servers' secureClientPort (docs/client.md, "TLS").  The
     * files are read by zkc_open (a bad file fails it); a handshake that
     * fails (untrusted or expired certificate, wrong host, refused client
     * certificate) fails that attempt, the next host is tried, and
     * zkc_last_error says why. */
    bool tls;                   /* connect over TLS (default false) */
    const char *tls_ca_file;    /* CA certificates the server's must chain to: PEM,
                                 * or a JKS (.jks) / PKCS12 (.p12, .pfx) trust
                                 * store; NULL = the system's CAs */
    const char *tls_ca_password;/* the trust store's password (JKS/PKCS12) */
    const char *tls_cert_file;  /* client certificate (PEM, chain after the leaf),
                                 * or a JKS/PKCS12 key store with key and chain;
                                 * NULL = none.  The server sees x509:<subject DN> */
    const char *tls_key_file;   /* PEM private key of tls_cert_file; NULL = in it */
    const char *tls_key_password; /* password of the key / key store; NULL = none */
    bool tls_no_hostname_check; /* do not check that the server certificate names
                                 * the host (Apache: ssl.hostnameVerification=false) */
} zkc_options;

/* Fills *o with the defaults (hosts NULL, auto_new_session true). */
void zkc_options_init(zkc_options *o);

/*
 * Opens a handle and starts its I/O thread, which connects in the
 * background (use zkc_wait_connected).  Returns NULL on a bad connect
 * string or a system failure, with a g_malloc'd message in *err (if err is
 * not NULL; caller g_free's it).  The handle is owned by the caller and
 * released by zkc_close.
 */
zkc *zkc_open(const zkc_options *opts, char **err);

/*
 * Checks opts as zkc_open would (connect string, TLS files and keys)
 * without opening anything.  Returns false with a g_malloc'd message in
 * *err (if err is not NULL; caller g_free's it).
 */
bool zkc_options_check(const zkc_options *opts, char **err);

/* Waits up to timeout_ms (>= 0) for the session to be connected.  Returns ZOK,
 * ZOPERATIONTIMEOUT, ZAUTHFAILED, ZSESSIONEXPIRED (no auto_new_session) or
 * ZCLOSING. */
int zkc_wait_connected(zkc *zk, int timeout_ms);

/* The current state: ZK_STATE_SYNC_CONNECTED, ZK_STATE_DISCONNECTED
 * (connecting), ZK_STATE_EXPIRED, ZK_STATE_AUTH_FAILED or ZK_STATE_CLOSED. */
int zkc_state(zkc *zk);

/* The session id (0 before the first session is established). */
int64_t zkc_session_id(zkc *zk);

/* The session timeout negotiated with the server, in ms (0 before). */
int zkc_session_timeout(zkc *zk);

/* Why the last connection attempt failed (TCP, TLS handshake, certificate
 * checks), as a g_malloc'd string the caller g_free's; NULL when no
 * attempt failed since the session was last connected. */
char *zkc_last_error(zkc *zk);

/* The largest zxid seen in any reply or event. */
int64_t zkc_last_zxid(zkc *zk);

/* Drops the current connection as if it were lost (in-flight requests
 * complete with ZCONNECTIONLOSS; the thread reconnects to the next host
 * keeping the session).  For tests and for a caller that saw a stale
 * server. */
void zkc_force_reconnect(zkc *zk);

/*
 * Closes the session (closeSession, waited for at most request_timeout_ms),
 * completes every outstanding request with ZCLOSING, delivers a last
 * (ZK_EVENT_NONE, ZK_STATE_CLOSED) event, joins the I/O thread and frees
 * the handle.  The watcher's ctx must stay valid until zkc_close returns.  NULL is ignored.  Must not be called from a
 * callback or the watcher (that would join its own thread: it is refused
 * with a g_critical).
 */
void zkc_close(zkc *zk);

/* ---- Asynchronous operations (see the return-value rule at the top). ---- */

/* create / create2 / createContainer / createTTL (chosen from flags).
 * data NULL = null data; acl NULL = world:anyone ALL; ttl used only for the
 * *_WITH_TTL modes.  Result: path (created, chroot removed) and stat. */
int zkc_acreate(zkc *zk, const char *path, const void *data, int32_t len, int32_t flags,
                const zkc_acl *acl, int64_t ttl, zkc_completion_fn cb, void *ctx);
/* delete; version -1 = any. */
int zkc_adelete(zkc *zk, const char *path, int32_t version, zkc_completion_fn cb, void *ctx);
/* exists; watch=true leaves a data watch (node exists) or an exist watch
 * (ZNONODE).  Result: stat. */
int zkc_aexists(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx);
/* getData.  Result: data, data_len, stat. */
int zkc_aget(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx);
/* setData; version -1 = any.  Result: stat. */
int zkc_aset(zkc *zk, const char *path, const void *data, int32_t len, int32_t version,
             zkc_completion_fn cb, void *ctx);
/* getACL.  Result: acl/n_acl, stat. */
int zkc_aget_acl(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx);
/* setACL (acl NULL = world:anyone ALL).  Result: stat. */
int zkc_aset_acl(zkc *zk, const char *path, const zkc_acl *acl, int32_t version,
                 zkc_completion_fn cb, void *ctx);
/* getChildren.  Result: children. */
int zkc_achildren(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx);
/* getChildren2.  Result: children and stat. */
int zkc_achildren2(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx);
/* sync.  Result: path. */
int zkc_async(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx);
/* multi (n >= 1 ops).  Result: err (ZOK, or the first failed op's error)
 * and ops/n_ops. */
int zkc_amulti(zkc *zk, const zkc_op *ops, size_t n, zkc_completion_fn cb, void *ctx);
/* multiRead (n >= 1 reads, ZooKeeper 3.6+): the reads are answered in one
 * reply, each with its own error (res->err is ZOK when the server
 * answered).  Result: reads/n_reads, in the order of ops. */
int zkc_amulti_read(zkc *zk, const zkc_read_op *ops, size_t n, zkc_completion_fn cb, void *ctx);
/* addWatch; mode ZK_ADDWATCH_PERSISTENT or ZK_ADDWATCH_PERSISTENT_RECURSIVE. */
int zkc_aadd_watch(zkc *zk, const char *path, int32_t mode, zkc_completion_fn cb, void *ctx);
/* removeWatches; watcher_type ZK_WATCHER_CHILDREN / DATA / ANY.  On ZOK the
 * client also forgets its own record of those watches. */
int zkc_aremove_watches(zkc *zk, const char *path, int32_t watcher_type,
                        zkc_completion_fn cb, void *ctx);
/* getEphemerals of this session under prefix ("/" = all).  Result: children
 * holds the full paths. */
int zkc_aget_ephemerals(zkc *zk, const char *prefix, zkc_completion_fn cb, void *ctx);
/* getAllChildrenNumber.  Result: number. */
int zkc_aget_all_children_number(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx);
/* whoAmI.  Result: acl/n_acl hold the ids (perms 0). */
int zkc_awhoami(zkc *zk, zkc_completion_fn cb, void *ctx);

/* ---- Synchronous wrappers: return the error code.  Output pointers may be
 * NULL when not wanted; outputs are written only on ZOK and are owned by
 * the caller. ---- */

/* *created: g_malloc'd path (g_free). */
int zkc_create(zkc *zk, const char *path, const void *data, int32_t len, int32_t flags,
               const zkc_acl *acl, int64_t ttl, char **created, zk_stat *st);
int zkc_delete(zkc *zk, const char *path, int32_t version);
/* Returns ZOK or ZNONODE (a watch is left in both cases if watch). */
int zkc_exists(zkc *zk, const char *path, bool watch, zk_stat *st);
/* *data: a new GBytes (g_bytes_unref), empty for null data. */
int zkc_get(zkc *zk, const char *path, bool watch, GBytes **data, zk_stat *st);
int zkc_set(zkc *zk, const char *path, const void *data, int32_t len, int32_t version,
            zk_stat *st);
/* *acl: one g_malloc'd block (zkc_acl and its entries and strings): g_free. */
int zkc_get_acl(zkc *zk, const char *path, zkc_acl **acl, zk_stat *st);
int zkc_set_acl(zkc *zk, const char *path, const zkc_acl *acl, int32_t version, zk_stat *st);
/* *names: GPtrArray of g_malloc'd strings, with g_free as free func
 * (g_ptr_array_unref). */
int zkc_children(zkc *zk, const char *path, bool watch, GPtrArray **names);
int zkc_children2(zkc *zk, const char *path, bool watch, GPtrArray **names, zk_stat *st);
int zkc_sync(zkc *zk, const char *path);
/* *results: g_malloc'd array of n results, written whenever the server
 * answered the multi (also when an op failed); free with
 * zkc_op_results_free(*results, n).  Returns the first op error or ZOK. */
int zkc_multi(zkc *zk, const zkc_op *ops, size_t n, zkc_op_result **results);
void zkc_op_results_free(zkc_op_result *results, size_t n);
int zkc_add_watch(zkc *zk, const char *path, int32_t mode);
int zkc_remove_watches(zkc *zk, const char *path, int32_t watcher_type);
/* *paths: like zkc_children's names. */
int zkc_get_ephemerals(zkc *zk, const char *prefix, GPtrArray **paths);
int zkc_get_all_children_number(zkc *zk, const char *path, int32_t *number);
/* *ids: like zkc_get_acl's block (perms 0): g_free. */
int zkc_whoami(zkc *zk, zkc_acl **ids);

#endif
