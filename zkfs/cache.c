/*
 * cache.c — watch-coherent znode cache (see cache.h).
 */
#include "cache.h"

#include <string.h>

#include "map.h"

/* What is known about one path.  Strings and arrays are owned by it. */
typedef struct cache_entry {
    uint64_t last_invalidation;   /* counter value of the last invalidation */
    bool attr_valid, exists;
    zkfs_attr attr;
    GBytes *data;                 /* NULL = unknown */
    zk_stat data_stat;
    GPtrArray *children;          /* NULL = unknown; g_free'd strings */
} cache_entry;

struct zkfs_cache {
    GMutex lock;
    GHashTable *entries;          /* g_malloc'd path -> cache_entry* (owned) */
    uint64_t counter;             /* tickets and invalidations */
    uint64_t last_clear;
    size_t max_entries;
    size_t data_bytes, max_data_bytes;
    zkfs_cache_stats stats;
};

static void entry_free(gpointer p)
{
    cache_entry *e = p;
    if (e->data)
        g_bytes_unref(e->data);
    if (e->children)
        g_ptr_array_unref(e->children);
    g_free(e);
}

zkfs_cache *zkfs_cache_new(size_t max_entries, size_t max_data_bytes)
{
    zkfs_cache *c = g_new0(zkfs_cache, 1);
    g_mutex_init(&c->lock);
    c->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, entry_free);
    c->max_entries = max_entries ? max_entries : 100000;
    c->max_data_bytes = max_data_bytes ? max_data_bytes : (size_t)256 << 20;
    return c;
}

/* Forgets everything; older tickets are refused from now on.  Lock held. */
static void clear_locked(zkfs_cache *c)
{
    g_hash_table_remove_all(c->entries);
    c->data_bytes = 0;
    c->last_clear = ++c->counter;
}

/* Drops e's data (lock held). */
static void drop_data_locked(zkfs_cache *c, cache_entry *e)
{
    if (!e->data)
        return;
    c->data_bytes -= MIN(c->data_bytes, g_bytes_get_size(e->data));
    g_bytes_unref(e->data);
    e->data = NULL;
}

void zkfs_cache_free(zkfs_cache *c)
{
    if (!c)
        return;
    g_hash_table_destroy(c->entries);
    g_mutex_clear(&c->lock);
    g_free(c);
}

uint64_t zkfs_cache_ticket(zkfs_cache *c)
{
    g_mutex_lock(&c->lock);
    uint64_t t = ++c->counter;
    g_mutex_unlock(&c->lock);
    return t;
}

/* The entry of path for a store with ticket, created if needed; NULL if
 * the ticket is stale.  Lock held. */
static cache_entry *entry_for_store(zkfs_cache *c, const char *path, uint64_t ticket)
{
    if (ticket < c->last_clear) {
        c->stats.refused_stores++;
        return NULL;
    }
    cache_entry *e = g_hash_table_lookup(c->entries, path);
    if (e && e->last_invalidation > ticket) {
        c->stats.refused_stores++;
        return NULL;
    }
    if (!e) {
        if (g_hash_table_size(c->entries) >= c->max_entries) {
            clear_locked(c);
            c->stats.refused_stores++;
            return NULL;
        }
        e = g_new0(cache_entry, 1);
        g_hash_table_insert(c->entries, g_strdup(path), e);
    }
    c->stats.stores++;
    return e;
}

bool zkfs_cache_get_attr(zkfs_cache *c, const char *path, bool *exists, zkfs_attr *attr)
{
    g_mutex_lock(&c->lock);
    cache_entry *e = g_hash_table_lookup(c->entries, path);
    bool hit = e && e->attr_valid;
    if (hit) {
        *exists = e->exists;
        if (e->exists && attr)
            *attr = e->attr;
        c->stats.hits++;
    } else {
        c->stats.misses++;
    }
    g_mutex_unlock(&c->lock);
    return hit;
}

void zkfs_cache_put_attr(zkfs_cache *c, const char *path, uint64_t ticket, bool exists,
                         const zkfs_attr *attr)
{
    g_mutex_lock(&c->lock);
    cache_entry *e = entry_for_store(c, path, ticket);
    if (e) {
        e->attr_valid = true;
        e->exists = exists;
        if (exists) {
            e->attr = *attr;
        } else {
            drop_data_locked(c, e);
            if (e->children)
                g_ptr_array_unref(e->children);
            e->children = NULL;
        }
    }
    g_mutex_unlock(&c->lock);
}

bool zkfs_cache_get_data(zkfs_cache *c, const char *path, GBytes **data, zk_stat *st)
{
    g_mutex_lock(&c->lock);
    cache_entry *e = g_hash_table_lookup(c->entries, path);
    bool hit = e && e->data;
    if (hit) {
        *data = g_bytes_ref(e->data);
        if (st)
            *st = e->data_stat;
        c->stats.hits++;
    } else {
        c->stats.misses++;
    }
    g_mutex_unlock(&c->lock);
    return hit;
}

void zkfs_cache_put_data(zkfs_cache *c, const char *path, uint64_t ticket, GBytes *data,
                         const zk_stat *st)
{
    g_mutex_lock(&c->lock);
    size_t size = g_bytes_get_size(data);
    cache_entry *old = g_hash_table_lookup(c->entries, path);
    size_t replaced = old && old->data ? g_bytes_get_size(old->data) : 0;
    if (c->data_bytes - MIN(c->data_bytes, replaced) + size > c->max_data_bytes) {
        clear_locked(c);       /* bounded memory: start again */
        c->stats.refused_stores++;
        g_mutex_unlock(&c->lock);
        return;
    }
    cache_entry *e = entry_for_store(c, path, ticket);
    if (e) {
        drop_data_locked(c, e);
        e->data = g_bytes_ref(data);
        c->data_bytes += size;
        e->data_stat = *st;
        /* The Stat is newer than or as new as any cached one: keep them
         * consistent (the permission bits stay). */
        if (e->attr_valid && e->exists)
            e->attr.st = *st;
    }
    g_mutex_unlock(&c->lock);
}

bool zkfs_cache_get_children(zkfs_cache *c, const char *path, GPtrArray **names)
{
    g_mutex_lock(&c->lock);
    cache_entry *e = g_hash_table_lookup(c->entries, path);
    bool hit = e && e->children;
    if (hit) {
        GPtrArray *copy = g_ptr_array_new_full(e->children->len, g_free);
        for (guint i = 0; i < e->children->len; i++)
            g_ptr_array_add(copy, g_strdup(g_ptr_array_index(e->children, i)));
        *names = copy;
        c->stats.hits++;
    } else {
        c->stats.misses++;
    }
    g_mutex_unlock(&c->lock);
    return hit;
}

void zkfs_cache_put_children(zkfs_cache *c, const char *path, uint64_t ticket,
                             const GPtrArray *names)
{
    g_mutex_lock(&c->lock);
    cache_entry *e = entry_for_store(c, path, ticket);
    if (e) {
        if (e->children)
            g_ptr_array_unref(e->children);
        e->children = g_ptr_array_new_full(names->len, g_free);
        for (guint i = 0; i < names->len; i++)
            g_ptr_array_add(e->children, g_strdup(g_ptr_array_index(names, i)));
    }
    g_mutex_unlock(&c->lock);
}

/* Lock held.  keep_data: only the Stat and the child list changed (a
 * child came or went), not the data. */
static void invalidate_locked(zkfs_cache *c, const char *path, bool keep_data)
{
    c->stats.invalidations++;
    uint64_t now = ++c->counter;
    cache_entry *e = g_hash_table_lookup(c->entries, path);
    if (!e) {
        /* A tombstone, so that a store with an older ticket is refused. */
        e = g_new0(cache_entry, 1);
        g_hash_table_insert(c->entries, g_strdup(path), e);
    }
    e->last_invalidation = now;
    e->attr_valid = false;
    if (!keep_data)
        drop_data_locked(c, e);
    if (e->children)
        g_ptr_array_unref(e->children);
    e->children = NULL;
}

void zkfs_cache_invalidate(zkfs_cache *c, const char *path)
{
    g_mutex_lock(&c->lock);
    invalidate_locked(c, path, false);
    g_mutex_unlock(&c->lock);
}

void zkfs_cache_apply_event(zkfs_cache *c, int event_type, const char *path)
{
    g_mutex_lock(&c->lock);
    invalidate_locked(c, path, false);
    if (event_type == ZK_EVENT_CREATED || event_type == ZK_EVENT_DELETED ||
        event_type == ZK_EVENT_DATA_CHANGED) {
        char *parent = zkfs_parent_path(path);
        if (strcmp(parent, path) != 0)
            invalidate_locked(c, parent, true);
        g_free(parent);
    }
    if (event_type == ZK_EVENT_DELETED) {
        GPtrArray *under = g_ptr_array_new();
        GHashTableIter it;
        gpointer key, value;
        g_hash_table_iter_init(&it, c->entries);
        while (g_hash_table_iter_next(&it, &key, &value))
            if (strcmp(key, path) != 0 && zkfs_path_under(key, path))
                g_ptr_array_add(under, g_strdup(key));
        for (guint i = 0; i < under->len; i++) {
            invalidate_locked(c, g_ptr_array_index(under, i), false);
            g_free(g_ptr_array_index(under, i));
        }
        g_ptr_array_free(under, TRUE);
    }
    g_mutex_unlock(&c->lock);
}

void zkfs_cache_clear(zkfs_cache *c)
{
    g_mutex_lock(&c->lock);
    clear_locked(c);
    g_mutex_unlock(&c->lock);
}

void zkfs_cache_get_stats(zkfs_cache *c, zkfs_cache_stats *out)
{
    g_mutex_lock(&c->lock);
    *out = c->stats;
    out->entries = g_hash_table_size(c->entries);
    out->data_bytes = c->data_bytes;
    g_mutex_unlock(&c->lock);
}
