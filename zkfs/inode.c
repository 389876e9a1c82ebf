/*
 * inode.c — table of kernel-visible inodes (see inode.h).
 */
#include "inode.h"

#include <string.h>

typedef struct inode_rec {
    uint64_t nodeid;
    zkfs_view view;
    char *path;        /* owned */
    char *key;         /* owned: the (view, path) key while attached, else NULL */
    int64_t czxid;
    bool is_dir, pending;
    uint64_t nlookup;
    int64_t attr_mzxid;    /* version of the attributes the kernel has, 0 = unknown */
    bool attr_dropped;     /* invalidated: the kernel asks again before trusting the size */
    int64_t cache_mzxid;   /* version of the pages the kernel may have, 0 = none known */
    int cached_opens;      /* open read-only descriptors using the page cache */
    int64_t cached_mzxid;  /* ... all reading this version */
    int64_t seen_mzxid;    /* see zkfs_inodes_note_seen */
} inode_rec;

struct zkfs_inodes {
    GMutex lock;
    GHashTable *by_id;     /* uint64_t* nodeid -> inode_rec* (owned) */
    GHashTable *by_key;    /* key string (owned by the rec) -> inode_rec* */
    uint64_t next_id;
};

static char *make_key(zkfs_view view, const char *path)
{
    return g_strdup_printf("%d:%s", (int)view, path);
}

static void rec_free(gpointer p)
{
    inode_rec *r = p;
    g_free(r->path);
    g_free(r->key);
    g_free(r);
}

static inode_rec *rec_new(zkfs_inodes *t, uint64_t id, zkfs_view view, const char *path,
                          int64_t czxid, bool is_dir, bool pending)
{
    inode_rec *r = g_new0(inode_rec, 1);
    r->nodeid = id;
    r->view = view;
    r->path = g_strdup(path);
    r->czxid = czxid;
    r->is_dir = is_dir;
    r->pending = pending;
    uint64_t *k = g_new(uint64_t, 1);
    *k = id;
    g_hash_table_insert(t->by_id, k, r);
    return r;
}

/* Lock held. */
static void detach_locked(zkfs_inodes *t, inode_rec *r)
{
    if (!r->key)
        return;
    if (g_hash_table_lookup(t->by_key, r->key) == r)
        g_hash_table_remove(t->by_key, r->key);
    g_free(r->key);
    r->key = NULL;
}

/* Lock held. */
static void attach_locked(zkfs_inodes *t, inode_rec *r)
{
    char *key = make_key(r->view, r->path);
    inode_rec *old = g_hash_table_lookup(t->by_key, key);
    if (old && old != r)
        detach_locked(t, old);
    g_free(r->key);
    r->key = key;
    g_hash_table_insert(t->by_key, r->key, r);
}

zkfs_inodes *zkfs_inodes_new(void)
{
    zkfs_inodes *t = g_new0(zkfs_inodes, 1);
    g_mutex_init(&t->lock);
    t->by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, rec_free);
    t->by_key = g_hash_table_new(g_str_hash, g_str_equal);
    inode_rec *root = rec_new(t, 1, ZKFS_VIEW_MAIN, "/", 0, true, false);
    root->nlookup = 1;
    attach_locked(t, root);
    t->next_id = 2;
    return t;
}

void zkfs_inodes_free(zkfs_inodes *t)
{
    if (!t)
        return;
    g_hash_table_destroy(t->by_key);
    g_hash_table_destroy(t->by_id);
    g_mutex_clear(&t->lock);
    g_free(t);
}

static inode_rec *by_id(zkfs_inodes *t, uint64_t id)
{
    return g_hash_table_lookup(t->by_id, &id);
}

uint64_t zkfs_inodes_get(zkfs_inodes *t, zkfs_view view, const char *path, int64_t czxid,
                         bool is_dir, bool pending, uint64_t lookups)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = NULL;
    if (view == ZKFS_VIEW_MAIN && strcmp(path, "/") == 0) {
        r = by_id(t, 1);
    } else if (view != ZKFS_VIEW_CREATED) {
        char *key = make_key(view, path);
        r = g_hash_table_lookup(t->by_key, key);
        g_free(key);
        if (r && (r->is_dir != is_dir || (!r->pending && r->czxid != czxid) ||
                  (r->pending && !pending)))
            r = NULL;   /* another life of this name */
    }
    if (!r) {
        r = rec_new(t, t->next_id++, view, path, czxid, is_dir, pending);
        if (view != ZKFS_VIEW_CREATED)
            attach_locked(t, r);
    }
    r->nlookup += lookups;
    uint64_t id = r->nodeid;
    g_mutex_unlock(&t->lock);
    return id;
}

/* A copy of r (path g_strdup'd).  Lock held. */
static zkfs_inode_info info_of(const inode_rec *r)
{
    return (zkfs_inode_info){ .nodeid = r->nodeid, .view = r->view, .path = g_strdup(r->path),
                              .czxid = r->czxid, .is_dir = r->is_dir, .pending = r->pending,
                              .nlookup = r->nlookup, .seen_mzxid = r->seen_mzxid };
}

bool zkfs_inodes_info(zkfs_inodes *t, uint64_t nodeid, zkfs_inode_info *out)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r)
        *out = info_of(r);
    g_mutex_unlock(&t->lock);
    return r != NULL;
}

void zkfs_inode_info_clear(zkfs_inode_info *info)
{
    g_free(info->path);
    info->path = NULL;
}

uint64_t zkfs_inodes_find(zkfs_inodes *t, zkfs_view view, const char *path)
{
    g_mutex_lock(&t->lock);
    char *key = make_key(view, path);
    inode_rec *r = g_hash_table_lookup(t->by_key, key);
    g_free(key);
    uint64_t id = r ? r->nodeid : 0;
    g_mutex_unlock(&t->lock);
    return id;
}

uint64_t zkfs_inodes_find_pending(zkfs_inodes *t, const char *path)
{
    g_mutex_lock(&t->lock);
    char *key = make_key(ZKFS_VIEW_MAIN, path);
    inode_rec *r = g_hash_table_lookup(t->by_key, key);
    g_free(key);
    uint64_t id = r && r->pending ? r->nodeid : 0;
    g_mutex_unlock(&t->lock);
    return id;
}

void zkfs_inodes_ref(zkfs_inodes *t, uint64_t nodeid, uint64_t n)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r)
        r->nlookup += n;
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_forget(zkfs_inodes *t, uint64_t nodeid, uint64_t n)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r && nodeid != 1) {
        r->nlookup = n >= r->nlookup ? 0 : r->nlookup - n;
        if (r->nlookup == 0) {
            detach_locked(t, r);
            g_hash_table_remove(t->by_id, &nodeid);
        }
    }
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_commit(zkfs_inodes *t, uint64_t nodeid, int64_t czxid, bool is_dir)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r) {
        r->czxid = czxid;
        r->pending = false;
        if (r->is_dir != is_dir)
            detach_locked(t, r);   /* the name is now another type */
    }
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_detach(zkfs_inodes *t, uint64_t nodeid)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r && nodeid != 1)
        detach_locked(t, r);
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_rename(zkfs_inodes *t, const char *old_path, const char *new_path,
                        int64_t new_czxid)
{
    g_mutex_lock(&t->lock);
    /* Detach whatever was attached at or under the new name. */
    GPtrArray *moved = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, t->by_id);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        inode_rec *r = value;
        if (r->view != ZKFS_VIEW_MAIN || r->nodeid == 1)
            continue;
        if (zkfs_path_under(r->path, new_path) && r->key)
            detach_locked(t, r);
        if (zkfs_path_under(r->path, old_path) && r->key)
            g_ptr_array_add(moved, r);
    }
    size_t old_len = strlen(old_path);
    for (guint i = 0; i < moved->len; i++) {
        inode_rec *r = g_ptr_array_index(moved, i);
        bool top = strcmp(r->path, old_path) == 0;
        char *np = g_strconcat(new_path, r->path + old_len, NULL);
        detach_locked(t, r);
        g_free(r->path);
        r->path = np;
        if (top && new_czxid)
            r->czxid = new_czxid;
        attach_locked(t, r);
    }
    g_ptr_array_free(moved, TRUE);
    g_mutex_unlock(&t->lock);
}

GArray *zkfs_inodes_all(zkfs_inodes *t)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    g_mutex_lock(&t->lock);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, t->by_id);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        inode_rec *r = value;
        if (r->view == ZKFS_VIEW_MAIN)
            g_array_append_val(ids, r->nodeid);
    }
    g_mutex_unlock(&t->lock);
    return ids;
}

size_t zkfs_inodes_count(zkfs_inodes *t)
{
    g_mutex_lock(&t->lock);
    size_t n = g_hash_table_size(t->by_id);
    g_mutex_unlock(&t->lock);
    return n;
}

void zkfs_inodes_note_attr(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r) {
        r->attr_mzxid = mzxid;
        r->attr_dropped = false;
    }
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_pages_dropped(zkfs_inodes *t, uint64_t nodeid)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r) {
        r->attr_mzxid = 0;
        r->attr_dropped = true;
        r->cache_mzxid = 0;
    }
    g_mutex_unlock(&t->lock);
}

bool zkfs_inodes_open_cached(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid, bool *keep)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    bool ok = r && mzxid != 0 && (r->attr_mzxid == mzxid || r->attr_dropped) &&
              (r->cached_opens == 0 || r->cached_mzxid == mzxid);
    if (ok) {
        *keep = r->cache_mzxid == mzxid;
        r->cache_mzxid = mzxid;
        r->cached_mzxid = mzxid;
        r->cached_opens++;
    }
    g_mutex_unlock(&t->lock);
    return ok;
}

void zkfs_inodes_close_cached(zkfs_inodes *t, uint64_t nodeid)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r && r->cached_opens > 0)
        r->cached_opens--;
    g_mutex_unlock(&t->lock);
}

void zkfs_inodes_note_seen(zkfs_inodes *t, uint64_t nodeid, int64_t mzxid)
{
    g_mutex_lock(&t->lock);
    inode_rec *r = by_id(t, nodeid);
    if (r && mzxid)
        r->seen_mzxid = mzxid;
    g_mutex_unlock(&t->lock);
}

static void info_clear_func(gpointer p)
{
    zkfs_inode_info_clear(p);
}

GArray *zkfs_inodes_attached(zkfs_inodes *t)
{
    GArray *out = g_array_new(FALSE, TRUE, sizeof(zkfs_inode_info));
    g_array_set_clear_func(out, info_clear_func);
    g_mutex_lock(&t->lock);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, t->by_id);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        inode_rec *r = value;
        if (r->view != ZKFS_VIEW_MAIN || !r->key)
            continue;
        zkfs_inode_info info = info_of(r);
        g_array_append_val(out, info);
    }
    g_mutex_unlock(&t->lock);
    return out;
}
