/*
 * inode.h — zkfs's table of the inodes the kernel knows (FUSE node ids).
 *
 * An inode is one life of one name in one view: (view, znode path, czxid,
 * is_dir).  When a lookup finds the same path with another czxid or type,
 * the old inode is detached (still valid for the kernel until forgotten)
 * and a new one is made, so the kernel never sees a type change on an
 * inode.  The kernel's lookup count is kept; an inode is freed when it
 * reaches zero (forget).  Node id 1 is the root (main view, "/"), never
 * freed.  Thread-safe (one mutex); callers get copies or hold the id.
 */
#ifndef ZKFS_INODE_H
#define ZKFS_INODE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "map.h"

/* A snapshot of one inode, returned by copy (path g_malloc'd: caller
 * frees it with zkfs_inode_info_clear). */
typedef struct zkfs_inode_info {
    uint64_t nodeid;
    zkfs_view view;
    char *path;          /* znode path ("/" for the roots of views) */
    int64_t czxid;       /* 0 for the roots of views and uncommitted files */
    bool is_dir;
    bool pending;        /* a new file not yet committed (main view) */
    uint64_t nlookup;
    int64_t seen_mzxid;  /* mzxid of the last Stat shown to the kernel, 0 = none */
} zkfs_inode_info;

typedef struct zkfs_inodes zkfs_inodes;

/* A new table holding the root (node id 1).  Owned by the caller. */
zkfs_inodes *zkfs_inodes_new(void);
void zkfs_inodes_free(zkfs_inodes *t);

/*
 * The inode for (view, path, czxid, is_dir): the attached one if it
 * matches, else a new one that becomes the attached inode of (view, path).
 * Adds `lookups` to its lookup count (1 for a lookup reply, 0 to only
 * peek).  Returns its node id.  For ZKFS_VIEW_CREATED inodes, which are
 * never looked up by name, every call makes a new inode.
 */
uint64_t zkfs_inodes_get(zkfs_inodes *t, zkfs_view view, const char *path, int64_t czxid,
                         bool is_dir, bool pending, uint64_t lookups);

/* Copies the inode's info into *out; false if the node id is unknown. */
bool zkfs_inodes_info(zkfs_inodes *t, uint64_t nodeid, zkfs_inode_info *out);
/* Frees the strings of an info. */
void zkfs_inode_info_clear(zkfs_inode_info *info);

/* The node id attached to (view, path), 0 if none. */
uint64_t zkfs_inodes_find(zkfs_inodes *t, zkfs_view view, const char *path);
/* The node id attached to (view, path) only if it is a pending new file. */
uint64_t zkfs_inodes_find_pending(zkfs_inodes *t, const char *path);

/* Adds to the lookup count (e.g. an entry returned by readdirplus). */
void zkfs_inodes_ref(zkfs_inodes *t, uint64_t nodeid, uint64_t n);
/* The kernel forgets n lookups; the inode is freed at zero. */
void zkfs_inodes_forget(zkfs_inodes *t, uint64_t nodeid, uint64_t n);

/* A pending file got committed: records its czxid and type. */
void zkfs_inodes_commit(zkfs_inodes *t, uint64_t nodeid, int64_t czxid, bool is_dir);
/* Detaches the inode from its name (it was deleted or replaced). */
void zkfs_inodes_detach(zkfs_inodes *t, uint64_t nodeid);

/*
 * A rename in the main view: the inode attached to old_path (and every
 * main-view inode under it) now stands for new_path (and the same names
 * under it), with czxid new_czxid (0 = keep); any inode attached to
 * new_path before is detached.
 */
void zkfs_inodes_rename(zkfs_inodes *t, const char *old_path, const char *new_path,
                        int64_t new_czxid);

/* Node ids of every main-view inode, attached or not (for a full kernel
 * invalidation).  g_array of uint64_t; caller frees. */
GArray *zkfs_inodes_all(zkfs_inodes *t);
/* Infos of the main-view inodes attached to their names (what the kernel
 * can show), the root included.  GArray of zkfs_inode_info, with its clear
 * function set (g_array_free frees the paths too). */
GArray *zkfs_inodes_attached(zkfs_inodes *t);

/*
 * The kernel's page cache of an inode (docs/zkfs-internals.md).  Pages may
 * be shared by read-only descriptors only while they all read the same
 * version of the data (mzxid) and the kernel's size is that version's, or
 * its attributes were invalidated (it then asks for them before it
 * trusts the size).
 *
 * zkfs_inodes_note_attr: the kernel was given the attributes of version
 * mzxid (lookup, getattr, readdirplus).  zkfs_inodes_pages_dropped: the
 * kernel's pages and attributes were invalidated.
 * zkfs_inodes_open_cached: a read-only open of version mzxid: returns true
 * if it may use the page cache (then *keep tells whether the pages already
 * cached are that version's) and counts it until zkfs_inodes_close_cached.
 */
void zkfs_inodes_note_attr(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid);
/* The kernel was shown the Stat of version mzxid (kept across
 * invalidations: what a reconnection compares with, see echo.h). */
void zkfs_inodes_note_seen(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid);
void zkfs_inodes_pages_dropped(zkfs_inodes *t, uint64_t nodeid);
bool zkfs_inodes_open_cached(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid, bool *keep);
void zkfs_inodes_close_cached(zkfs_inodes *t, uint64_t nodeid);

/* Number of inodes (the root included). */
size_t zkfs_inodes_count(zkfs_inodes *t);

#endif
