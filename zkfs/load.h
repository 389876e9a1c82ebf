/*
 * load.h — zkfs's loaders: the state of znodes (attributes, data, child
 * lists) from the watch-coherent cache (cache.h), else from the server,
 * stored back into the cache.  A directory listing loads every child in
 * one round trip after the names: one multiRead (getData + getChildren of
 * each child, in chunks) pipelined with one getACL per child.
 *
 * Used by the FUSE handlers (fs.c), the echo thread (echo.c) and the lock
 * manager (lock.c); knows nothing of FUSE.  Thread-safe; every wait is
 * bounded by the request timeout.  Must not be called from the client's
 * I/O thread (callbacks, watcher).
 */
#ifndef ZKFS_LOAD_H
#define ZKFS_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#include "zk/client.h"
#include "cache.h"

/* Znodes per multiRead of a listing: one reply holds up to this many
 * znodes' data (the client's frame limit must allow it). */
#define ZKFS_LISTING_CHUNK 32

/* What the loaders work with.  Nothing is owned. */
typedef struct zkfs_loader {
    zkc *zk;                   /* the session; NULL before it exists */
    zkfs_cache *cache;
    const char *digest_id;     /* the mount's digest identity or NULL */
    int timeout_ms;            /* bound of one batch */
    size_t max_listing_data;   /* data of listed children cached up to this size */
} zkfs_loader;

/*
 * The attributes of a znode: Stat, ACL summary and the number of its
 * children that are lock contenders (one getACL, plus a getChildren when
 * it has children, pipelined).  0 and *exists (and *attr when it exists),
 * or -errno.
 */
int zkfs_load_attr(const zkfs_loader *l, const char *path, bool *exists, zkfs_attr *attr);

/* The data of a znode with the Stat read with it.  *data: a new reference
 * (g_bytes_unref).  0 or -errno. */
int zkfs_load_data(const zkfs_loader *l, const char *path, GBytes **data, zk_stat *st);

/* The child names of a znode (GPtrArray of g_malloc'd names; the caller
 * unrefs it).  0 or -errno. */
int zkfs_load_children(const zkfs_loader *l, const char *path, GPtrArray **names);

/*
 * A directory listing: the child names (as zkfs_load_children) and, in
 * the cache, the attributes of every child (and the data of the small
 * ones, and each child's own child names), loaded with one multiRead per
 * chunk and one getACL per child, all pipelined.  Children whose
 * attributes could not be loaded are simply not in the cache.  0 or -errno
 * (the names could not be read).
 */
int zkfs_load_listing(const zkfs_loader *l, const char *path, GPtrArray **names);

#endif
