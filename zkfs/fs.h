/*
 * fs.h — the state of one zkfs mount and its FUSE low-level operations
 * (zkfs/fs.c), used by main.c.  See docs/zkfs-internals.md for the
 * threads, locks and ownership.
 */
#ifndef ZKFS_FS_H
#define ZKFS_FS_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#include "zk/client.h"
#include "cache.h"
#include "inode.h"
#include "load.h"
#include "lock.h"
#include "map.h"

typedef struct zkfs_echo zkfs_echo;

/* Mount options (docs/filesystem.md section 10).  Strings g_malloc'd,
 * owned by the struct (zkfs_options_clear). */
typedef struct zkfs_options {
    char *servers;             /* connect string */
    char *digest;              /* "user:pass" or NULL */
    int timeout_ms;            /* per request */
    int session_timeout_ms;
    int maxbuffer;             /* the servers' jute.maxbuffer */
    int cache_timeout_s;       /* kernel entry/attribute lifetime, main tree */
    bool read_only;            /* -o ro: zkfs refuses changes itself */
    bool tls;                  /* -o tls: TLS to the servers' secureClientPort */
    char *tls_ca;              /* -o cafile= (NULL: the system's CAs) */
    char *tls_cert;            /* -o cert= (NULL: no client certificate) */
    char *tls_key;             /* -o key= (NULL: in cert=) */
    char *tls_pass;            /* -o keypass= (key, key store and trust store password) */
    bool tls_no_host_check;    /* -o tls_nohostcheck */
    uid_t uid;
    gid_t gid;
} zkfs_options;

/* Fills *o with the client options of a mount (timeouts, auth, TLS...;
 * every string points into opts, which must outlive *o).  No watcher. */
void zkfs_client_options(const zkfs_options *opts, zkc_options *o);

/* Sets the defaults (servers 127.0.0.1:2181, timeout 5000, ...). */
void zkfs_options_init(zkfs_options *o);
/* Frees the strings. */
void zkfs_options_clear(zkfs_options *o);

/* One mount.  Everything is owned by it unless said otherwise. */
typedef struct zkfs {
    zkfs_options opts;
    zkc *zk;                   /* the session */
    zkfs_cache *cache;
    zkfs_loader loader;        /* zk + cache for the loaders (load.h) */
    zkfs_inodes *inodes;
    struct fuse_session *se;   /* not owned (main.c) */
    char *mountpoint;          /* absolute path */
    char *digest_id;           /* zkfs_digest_id(opts.digest) or NULL */
    size_t max_data;           /* largest file: maxbuffer - ZKFS_REQUEST_OVERHEAD */
    int64_t mount_time_ms;

    GMutex lock;               /* protects expected and writers */
    GHashTable *expected;      /* "type:path" -> count of our own pending events */
    GHashTable *writers;       /* znode path -> zkfs_handle* (not owned): latest open writer */

    zkfs_echo *echo;           /* the echo thread (echo.c) */
    zkfs_locks *locks;         /* flock/fcntl locks (lock.c) */
    bool connected_before;     /* a session was connected once (watcher thread only) */
    int64_t session_id;        /* the live session, 0 once it expired (watcher thread only) */
} zkfs;

/*
 * Creates the mount state (no session yet: zkfs_start opens it).  opts is
 * moved into the result (the caller must not clear it).
 */
zkfs *zkfs_new(zkfs_options *opts);
/* Opens the session, waits up to the timeout for it (not fatal) and starts
 * the echo thread.  se must be the mounted session.  Returns 0 or -1 with a
 * message on stderr. */
int zkfs_start(zkfs *fs, struct fuse_session *se, const char *mountpoint);
/* Tells the echo thread to stop, without waiting. */
void zkfs_stop_async(zkfs *fs);
/* Stops the echo thread (bounded), closes the session, frees everything. */
void zkfs_free(zkfs *fs);

/* The FUSE operations (userdata must be the zkfs*); read_only: every
 * change fails with EROFS (-o ro), except the echo thread's. */
const struct fuse_lowlevel_ops *zkfs_ops(bool read_only);

/* Records that one of our own requests will cause the watch event
 * (type, path), so that it is not echoed.  zkfs_unexpect undoes it (the
 * request failed); zkfs_take_expected consumes one if present. */
void zkfs_expect(zkfs *fs, int type, const char *path);
void zkfs_unexpect(zkfs *fs, int type, const char *path);
bool zkfs_take_expected(zkfs *fs, int type, const char *path);

#endif
