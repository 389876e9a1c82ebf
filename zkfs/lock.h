/*
 * lock.h — cluster-wide file locks: flock(2) and fcntl (POSIX) locks on a
 * zkfs file are ZooKeeper lock recipes on the file's znode, so every mount
 * of the tree, kazoo's Lock and Curator's InterProcessMutex on the same
 * path exclude each other (docs/filesystem.md section 6).
 *
 * A lock is an EPHEMERAL_SEQUENTIAL child of the file's znode named
 *   zkfs-<session>-lock-<N>__lock__<N>     (exclusive)
 *   zkfs-<session>-lock-<N>__rlock__<N>    (shared)
 * where N is the sequence number the server assigns (predicted from the
 * parent's Stat, (cversion + numChildren) / 2, and checked): kazoo reads the number after the last
 * "__lock__"/"__rlock__", Curator the text after the last "lock-", and both
 * then order it exactly by N.  A lock is held when no contender with a
 * smaller number conflicts (any, for an exclusive lock; an exclusive one,
 * for a shared lock).  Blocking requests are answered later, from a worker
 * thread, when a predecessor goes (the mount's persistent watch reports
 * every deletion), or EINTR when the kernel interrupts them.
 *
 * Byte ranges are not kept: any POSIX lock covers the whole file.  A
 * process locking one file through two descriptors holds two locks (they
 * conflict), unlike POSIX.  Locks
 * live in the mount's session: if it expires the locks are lost, and the
 * descriptors they were taken through fail with EIO until closed (as NFS
 * does with locks it could not recover), so a holder never goes on
 * believing it holds a lock that another process may now hold.
 * Thread-safe.  Handlers call the zkfs_locks_* functions; the watcher
 * calls zkfs_locks_on_event (never blocks).
 */
#ifndef ZKFS_LOCK_H
#define ZKFS_LOCK_H

#define FUSE_USE_VERSION 312
#include <fuse_lowlevel.h>

#include <stdbool.h>
#include <stdint.h>

#include "load.h"

typedef struct zkfs_locks zkfs_locks;

/* Who holds a lock: flock locks belong to an open file description (one
 * handle), POSIX locks to a process (the kernel's lock owner id) and here
 * also to the handle they were taken through (see lock.c). */
typedef struct zkfs_lock_owner {
    uint64_t nodeid;
    uint64_t owner;            /* fi->lock_owner (POSIX) */
    bool posix;
    uint64_t handle;           /* fi->fh it was taken through */
} zkfs_lock_owner;

/* A new manager using l's session (l must outlive it).  Owned by the
 * caller: zkfs_locks_free (after the session is closed). */
zkfs_locks *zkfs_locks_new(const zkfs_loader *l);
void zkfs_locks_free(zkfs_locks *m);

/*
 * Takes (shared or exclusive) or changes the lock of o on znode path.
 * Replies to req itself: 0 when held, EAGAIN when !wait and another holds
 * it, EINTR when interrupted while waiting, or the errno of a failure.
 */
void zkfs_locks_acquire(zkfs_locks *m, fuse_req_t req, const char *path,
                        const zkfs_lock_owner *o, bool shared, bool wait);
/* Releases o's lock (if any).  Returns 0 or -errno (does not reply). */
int zkfs_locks_release(zkfs_locks *m, const zkfs_lock_owner *o);
/* Releases every lock taken through handle (its last close: flock locks
 * of the description, POSIX locks taken through it). */
void zkfs_locks_release_handle(zkfs_locks *m, uint64_t handle);
/* Releases the POSIX locks of a process (owner) on nodeid: it closed a
 * descriptor of the file (flush). */
void zkfs_locks_release_owner(zkfs_locks *m, uint64_t nodeid, uint64_t owner);
/*
 * F_GETLK: the lock that would conflict with o taking a lock (shared or
 * not) on path: sets *conflict_type to F_UNLCK (none), F_RDLCK or F_WRLCK.
 * 0 or -errno.
 */
int zkfs_locks_test(zkfs_locks *m, const char *path, const zkfs_lock_owner *o, bool shared,
                    int *conflict_type);

/* A watch event (I/O thread; never blocks): a deleted contender wakes
 * the waiters of its parent; a reconnection re-checks every waiter. */
void zkfs_locks_on_event(zkfs_locks *m, int type, int state, const char *path);

/*
 * The mount's session expired (watcher thread; never blocks on the
 * server): every held lock is lost (its ephemeral node went with the
 * session) and is marked so until its descriptor is closed; waiting
 * requests stay queued and create a new node in the next session.  Logs
 * each lost lock; returns how many were lost.
 */
int zkfs_locks_session_lost(zkfs_locks *m);
/* True if a lock taken through handle (fi->fh) was lost with an expired
 * session: the handle's operations must fail with EIO.  Cheap when no
 * lock was ever lost (no mutex). */
bool zkfs_locks_handle_lost(zkfs_locks *m, uint64_t handle);

#endif
