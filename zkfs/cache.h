/*
 * cache.h — zkfs's watch-coherent cache of znode state, keyed by path:
 * existence + Stat + ACL summary (zkfs_acl_summary), data, child list.
 *
 * Coherence: every watch event invalidates the paths it concerns.  A reader
 * takes a ticket (zkfs_cache_ticket) BEFORE asking the server and stores
 * the answer with that ticket; the store is refused if any invalidation of
 * that path (or a zkfs_cache_clear) happened after the ticket was taken,
 * because the answer may then predate the change.  Negative answers (no
 * such znode) are cached too: the persistent recursive watch on "/" reports
 * the creation of any path.  Thread-safe (one mutex).
 */
#ifndef ZKFS_CACHE_H
#define ZKFS_CACHE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#include "zk/proto.h"

typedef struct zkfs_cache zkfs_cache;

/* What the attributes of an existing znode are made of. */
typedef struct zkfs_attr {
    zk_stat st;
    uint32_t acl;          /* zkfs_acl_summary of its ACL */
    int32_t lock_kids;     /* how many of its children are lock contenders */
} zkfs_attr;

/* A new empty cache; when it would hold more than max_entries paths
 * (0 = 100000) or more than max_data_bytes of data (0 = 256 MiB) it is
 * cleared wholesale.  Owned by the caller (zkfs_cache_free). */
zkfs_cache *zkfs_cache_new(size_t max_entries, size_t max_data_bytes);
void zkfs_cache_free(zkfs_cache *c);

/* A ticket to pass to the store functions (see the file comment). */
uint64_t zkfs_cache_ticket(zkfs_cache *c);

/*
 * Attributes.  get returns true on a hit and then sets *exists, and if it
 * exists *attr (may be NULL).  put stores them (attr ignored when !exists)
 * unless the ticket is stale.
 */
bool zkfs_cache_get_attr(zkfs_cache *c, const char *path, bool *exists, zkfs_attr *attr);
void zkfs_cache_put_attr(zkfs_cache *c, const char *path, uint64_t ticket, bool exists,
                         const zkfs_attr *attr);

/* Data with the Stat read with it.  get returns a new reference in *data
 * (g_bytes_unref) on a hit.  put takes its own reference to data. */
bool zkfs_cache_get_data(zkfs_cache *c, const char *path, GBytes **data, zk_stat *st);
void zkfs_cache_put_data(zkfs_cache *c, const char *path, uint64_t ticket, GBytes *data,
                         const zk_stat *st);

/* Child names.  get returns a new GPtrArray of g_strdup'd names (caller
 * g_ptr_array_unref's it) on a hit; put copies names. */
bool zkfs_cache_get_children(zkfs_cache *c, const char *path, GPtrArray **names);
void zkfs_cache_put_children(zkfs_cache *c, const char *path, uint64_t ticket,
                             const GPtrArray *names);

/* Forgets everything known about path (attributes, data, children). */
void zkfs_cache_invalidate(zkfs_cache *c, const char *path);
/*
 * Applies a watch event: created/deleted/data changed invalidate path and
 * its parent; children changed invalidates path.  For a deleted node, also
 * every cached path under it.
 */
void zkfs_cache_apply_event(zkfs_cache *c, int event_type, const char *path);
/* Forgets everything (after a reconnection: events may have been missed). */
void zkfs_cache_clear(zkfs_cache *c);

/* Counters for tests and statistics. */
typedef struct zkfs_cache_stats {
    uint64_t hits, misses, stores, refused_stores, invalidations;
    size_t entries;
    size_t data_bytes;          /* data held now */
} zkfs_cache_stats;
void zkfs_cache_get_stats(zkfs_cache *c, zkfs_cache_stats *out);

#endif
