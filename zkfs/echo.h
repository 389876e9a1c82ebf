/*
 * echo.h — the echo thread: makes the kernel raise inotify events for
 * changes made elsewhere (SPEC section 8) and invalidates the kernel's
 * caches, always from its own thread, never from a FUSE handler.
 *
 * For a remote change it performs the same operation on the mount itself
 * (mkdir, open(O_CREAT)+pwrite+close, unlink, rmdir, pwrite, utimensat);
 * the FUSE handlers recognise the echo thread by fuse_req_ctx()->pid and
 * answer from the current "echo target" without touching the server.
 */
#ifndef ZKFS_ECHO_H
#define ZKFS_ECHO_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include "inode.h"
#include "load.h"

typedef struct zkfs_echo zkfs_echo;

/* What the echo thread works with (nothing owned; all must outlive it). */
typedef struct zkfs_echo_env {
    struct fuse_session *se;   /* the mounted session (notifications) */
    const char *mountpoint;    /* absolute path (copied) */
    zkfs_inodes *inodes;       /* the kernel's inodes */
    const zkfs_loader *loader; /* current state of znodes */
} zkfs_echo_env;

/* What the echo thread is doing right now. */
typedef enum zkfs_echo_action {
    ZKFS_ECHO_NONE = 0,
    ZKFS_ECHO_CREATE,      /* lookup of the name answers ENOENT; create/mkdir answer `stat` */
    ZKFS_ECHO_DELETE,      /* lookup answers the old type; unlink/rmdir answer 0 */
    ZKFS_ECHO_MODIFY,      /* open/write/setattr answer without the server */
} zkfs_echo_action;

/* A copy of the echo target (path g_malloc'd; zkfs_echo_target_clear). */
typedef struct zkfs_echo_target {
    zkfs_echo_action action;
    char *path;            /* znode path of the node being echoed */
    bool is_dir;           /* its type (new type for CREATE, old for DELETE) */
    zk_stat stat;          /* its Stat (CREATE, MODIFY) */
    uint32_t acl_summary;
} zkfs_echo_target;

/* Starts the thread.  Returns NULL on failure. */
zkfs_echo *zkfs_echo_start(const zkfs_echo_env *env);
/* Asks the thread to stop and joins it, waiting at most wait_ms; returns
 * false if it did not stop in time.  Idempotent; e stays valid (handlers
 * may still ask zkfs_echo_is_self). */
bool zkfs_echo_stop(zkfs_echo *e, int wait_ms);
/* Asks the thread to stop, without waiting. */
void zkfs_echo_request_stop(zkfs_echo *e);
/* Frees a stopped echo; false (nothing freed) if the thread still runs. */
bool zkfs_echo_free(zkfs_echo *e);

/* True if the request comes from the echo thread. */
bool zkfs_echo_is_self(zkfs_echo *e, pid_t pid);
/* Copies the current target; false if none. */
bool zkfs_echo_target_get(zkfs_echo *e, zkfs_echo_target *out);
void zkfs_echo_target_clear(zkfs_echo_target *t);

/*
 * Queues a watch event (called from the client's I/O thread; never blocks).
 * old_type_known/old_is_dir: the type the node had in the cache before the
 * event (for deletions).  own: the event was caused by this mount's own
 * request (no echo, only kernel cache invalidation).
 */
void zkfs_echo_push_event(zkfs_echo *e, int type, const char *path, bool old_type_known,
                          bool old_is_dir, bool own);
/*
 * After a (re)connection: queues a full kernel invalidation and, if diff
 * (a reconnection, not the first connection), first the replay of every
 * difference between what the kernel can show and the server (changes
 * made while disconnected raised no watch event).  Takes a snapshot of the
 * cached listings: call it before clearing the cache.  I/O thread.
 */
void zkfs_echo_push_reset(zkfs_echo *e, bool diff);
/* Queues an entry invalidation of (parent's main-view inode, name of path). */
void zkfs_echo_push_inval_entry(zkfs_echo *e, const char *path);

#endif
