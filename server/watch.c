/* watch.c — watch manager with Apache 3.8 semantics (see watch.h). */
#include "watch.h"

#include <string.h>

#include "zk/proto.h"

struct watch_mgr {
    GHashTable *by_path;     /* char* path (owned) -> GHashTable(watcher -> GINT mode+1) */
    GHashTable *by_watcher;  /* watcher -> GHashTable(char* path, owned set) */
    guint recursive;         /* number of recursive watches (fast path when 0) */
    GHashTable *recursive_paths; /* set of prefix_key* (owned): paths with recursive watches */
};

/*
 * A path and its hash.  The hash is a rolling one (h = h * 31 + byte), so
 * the hashes of every prefix of an event path come out of one pass over it
 * and the ancestors can be looked up in recursive_paths without copying or
 * rehashing each of them: firing an event on a path of depth d and length L
 * costs O(L), not O(d * L) (a very deep path would otherwise make every
 * change under it quadratic).  In lookups `path` is borrowed and need not
 * end at `len`.
 */
typedef struct prefix_key {
    guint hash;
    size_t len;
    char *path;
    guint count;     /* stored keys: recursive watches on the path (not compared) */
} prefix_key;

static guint rolling_hash(guint h, unsigned char c)
{
    return h * 31u + c;
}

static guint prefix_key_hash(gconstpointer k)
{
    return ((const prefix_key *)k)->hash;
}

static gboolean prefix_key_equal(gconstpointer a, gconstpointer b)
{
    const prefix_key *x = a, *y = b;
    return x->len == y->len && memcmp(x->path, y->path, x->len) == 0;
}

static void prefix_key_free(gpointer k)
{
    prefix_key *p = k;
    g_free(p->path);
    g_free(p);
}

static prefix_key prefix_of(const char *path, size_t len)
{
    guint h = 0;
    for (size_t i = 0; i < len; i++)
        h = rolling_hash(h, (unsigned char)path[i]);
    return (prefix_key){ h, len, (char *)path, 0 };
}

watch_mgr *watch_mgr_new(void)
{
    watch_mgr *m = g_new0(watch_mgr, 1);
    m->by_path = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_hash_table_destroy);
    m->by_watcher = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                          (GDestroyNotify)g_hash_table_destroy);
    m->recursive_paths = g_hash_table_new_full(prefix_key_hash, prefix_key_equal, prefix_key_free, NULL);
    return m;
}

void watch_mgr_free(watch_mgr *m)
{
    if (!m)
        return;
    g_hash_table_destroy(m->by_path);
    g_hash_table_destroy(m->by_watcher);
    g_hash_table_destroy(m->recursive_paths);
    g_free(m);
}

/* A recursive watch on path was added / removed. */
static void recursive_inc(watch_mgr *m, const char *path)
{
    m->recursive++;
    prefix_key k = prefix_of(path, strlen(path));
    gpointer stored;
    if (g_hash_table_lookup_extended(m->recursive_paths, &k, &stored, NULL)) {
        ((prefix_key *)stored)->count++;
        return;
    }
    prefix_key *own = g_new(prefix_key, 1);
    *own = k;
    own->path = g_strdup(path);
    own->count = 1;
    g_hash_table_add(m->recursive_paths, own);
}

static void recursive_dec(watch_mgr *m, const char *path)
{
    m->recursive--;
    prefix_key k = prefix_of(path, strlen(path));
    gpointer stored;
    if (!g_hash_table_lookup_extended(m->recursive_paths, &k, &stored, NULL))
        return;
    if (--((prefix_key *)stored)->count == 0)
        g_hash_table_remove(m->recursive_paths, &k);
}

void watch_add(watch_mgr *m, const char *path, void *watcher, int mode)
{
    GHashTable *ws = g_hash_table_lookup(m->by_path, path);
    if (!ws) {
        ws = g_hash_table_new(g_direct_hash, g_direct_equal);
        g_hash_table_insert(m->by_path, g_strdup(path), ws);
    }
    gpointer old;
    if (g_hash_table_lookup_extended(ws, watcher, NULL, &old) &&
        GPOINTER_TO_INT(old) - 1 == WATCH_PERSISTENT_RECURSIVE)
        recursive_dec(m, path);
    if (mode == WATCH_PERSISTENT_RECURSIVE)
        recursive_inc(m, path);
    g_hash_table_insert(ws, watcher, GINT_TO_POINTER(mode + 1));
    GHashTable *ps = g_hash_table_lookup(m->by_watcher, watcher);
    if (!ps) {
        ps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        g_hash_table_insert(m->by_watcher, watcher, ps);
    }
    if (!g_hash_table_contains(ps, path))
        g_hash_table_add(ps, g_strdup(path));
}

/* Like Apache's watch2Paths, a watcher whose last path is gone keeps its
 * (empty) entry until its connection closes: wchs counts it. */
static void forget_path_of_watcher(watch_mgr *m, void *watcher, const char *path)
{
    GHashTable *ps = g_hash_table_lookup(m->by_watcher, watcher);
    if (ps)
        g_hash_table_remove(ps, path);
}

/* The parent in Apache's PathParentIterator: "/a/b" -> "/a" -> "/" -> end;
 * *len is p's length (kept, so a walk up a deep path stays linear). */
static bool parent_path(char *p, size_t *len)
{
    if (*len == 1 && p[0] == '/')
        return false;
    char *slash = memrchr(p, '/', *len);
    if (!slash)
        return false;
    *len = slash == p ? 1 : (size_t)(slash - p);
    p[*len] = 0;
    return true;
}

/* Adds the watchers of ws that an event fires to targets (once each). */
static void collect_targets(watch_mgr *m, GHashTable *ws, const char *path, bool at_parent, int event_type,
                            GHashTable *seen, GPtrArray *targets)
{
    GHashTableIter it;
    gpointer w, modep;
    g_hash_table_iter_init(&it, ws);
    while (g_hash_table_iter_next(&it, &w, &modep)) {
        int mode = GPOINTER_TO_INT(modep) - 1;
        bool fire = false;
        if (mode == WATCH_PERSISTENT_RECURSIVE) {
            fire = event_type != ZK_EVENT_CHILD_CHANGED;
        } else if (!at_parent) {
            fire = true;
            if (mode == WATCH_STANDARD) {
                g_hash_table_iter_remove(&it);
                forget_path_of_watcher(m, w, path);
            }
        }
        if (fire && !g_hash_table_contains(seen, w)) {
            g_hash_table_add(seen, w);
            g_ptr_array_add(targets, w);
        }
    }
}

/* The ancestors of path in PathParentIterator order (deepest first), as
 * prefix keys into path; the walk parent_path would take. */
static GArray *ancestors_of(const char *path)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(prefix_key));
    size_t len = strlen(path);
    if (len == 1 && path[0] == '/')
        return out;
    GArray *hashes = g_array_sized_new(FALSE, FALSE, sizeof(guint), (guint)len + 1);
    guint h = 0;
    g_array_append_val(hashes, h);
    for (size_t i = 0; i < len; i++) {
        h = rolling_hash(h, (unsigned char)path[i]);
        g_array_append_val(hashes, h);
    }
    for (size_t j = len; j-- > 0;) {
        if (path[j] != '/')
            continue;
        size_t plen = j == 0 ? 1 : j;
        prefix_key k = { g_array_index(hashes, guint, plen), plen, (char *)path, 0 };
        g_array_append_val(out, k);
        if (plen == 1 && path[0] == '/')
            break;   /* "/" has no parent */
    }
    g_array_free(hashes, TRUE);
    return out;
}

guint watch_trigger(watch_mgr *m, const char *path, int event_type, GHashTable *suppress,
                    GHashTable *fired, watch_deliver_fn deliver, void *ctx)
{
    GPtrArray *targets = g_ptr_array_new();
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    GHashTable *ws = g_hash_table_lookup(m->by_path, path);
    if (ws) {
        collect_targets(m, ws, path, false, event_type, seen, targets);
        if (g_hash_table_size(ws) == 0)
            g_hash_table_remove(m->by_path, path);
    }
    /* Above the path only recursive watches fire. */
    if (m->recursive > 0) {
        GArray *up = ancestors_of(path);
        for (guint i = 0; i < up->len; i++) {
            prefix_key *k = &g_array_index(up, prefix_key, i);
            if (!g_hash_table_contains(m->recursive_paths, k))
                continue;
            char *p = g_strndup(k->path, k->len);
            GHashTable *pws = g_hash_table_lookup(m->by_path, p);
            if (pws)
                collect_targets(m, pws, p, true, event_type, seen, targets);
            g_free(p);
        }
        g_array_free(up, TRUE);
    }
    for (guint i = 0; i < targets->len; i++) {
        void *w = g_ptr_array_index(targets, i);
        if (suppress && g_hash_table_contains(suppress, w))
            continue;
        deliver(ctx, w, event_type, path);
    }
    if (fired)
        for (guint i = 0; i < targets->len; i++)
            g_hash_table_add(fired, g_ptr_array_index(targets, i));
    guint n = targets->len;
    g_hash_table_destroy(seen);
    g_ptr_array_free(targets, TRUE);
    return n;
}

bool watch_remove(watch_mgr *m, const char *path, void *watcher)
{
    GHashTable *ps = g_hash_table_lookup(m->by_watcher, watcher);
    if (!ps || !g_hash_table_contains(ps, path))
        return false;
    GHashTable *ws = g_hash_table_lookup(m->by_path, path);
    forget_path_of_watcher(m, watcher, path);
    gpointer modep;
    if (!ws || !g_hash_table_lookup_extended(ws, watcher, NULL, &modep))
        return false;
    if (GPOINTER_TO_INT(modep) - 1 == WATCH_PERSISTENT_RECURSIVE)
        recursive_dec(m, path);
    g_hash_table_remove(ws, watcher);
    if (g_hash_table_size(ws) == 0)
        g_hash_table_remove(m->by_path, path);
    return true;
}

bool watch_contains(watch_mgr *m, const char *path, void *watcher)
{
    /* Apache 3.8 quirk kept as is: the mode looked up is that of (watcher,
     * path) itself, and any watch of anyone on path counts at the leaf. */
    int mode = WATCH_STANDARD;
    GHashTable *ws = g_hash_table_lookup(m->by_path, path);
    gpointer modep;
    if (ws && g_hash_table_lookup_extended(ws, watcher, NULL, &modep))
        mode = GPOINTER_TO_INT(modep) - 1;
    if (ws)
        return true;
    return mode == WATCH_PERSISTENT_RECURSIVE;
}

/* Java's "element has a parent": "/" does, and so does any path with a '/'. */
static bool java_parent_computable(const char *p)
{
    return strcmp(p, "/") == 0 || strchr(p, '/') != NULL;
}

bool watch_contains_throws(watch_mgr *m, const char *path, void *watcher)
{
    if (!*path)
        return false;                 /* hasNext() is false at once */
    if (!java_parent_computable(path))
        return true;                  /* the first next() throws */
    if (watch_contains(m, path, watcher) || m->recursive == 0)
        return false;                 /* answered at the leaf, or forPathOnly */
    char *p = g_strdup(path);
    size_t len = strlen(p);
    size_t first_slash = strcspn(p, "/");   /* every prefix keeps it or loses it */
    bool throws = false;
    while (parent_path(p, &len)) {    /* every further next() on p */
        if (!(len == 1 && p[0] == '/') && first_slash >= len) {   /* !java_parent_computable(p) */
            throws = true;
            break;
        }
    }
    g_free(p);
    return throws;
}

void watch_remove_watcher(watch_mgr *m, void *watcher)
{
    GHashTable *ps = g_hash_table_lookup(m->by_watcher, watcher);
    if (!ps)
        return;
    GHashTableIter it;
    gpointer path;
    g_hash_table_iter_init(&it, ps);
    while (g_hash_table_iter_next(&it, &path, NULL)) {
        GHashTable *ws = g_hash_table_lookup(m->by_path, path);
        if (!ws)
            continue;
        gpointer modep;
        if (g_hash_table_lookup_extended(ws, watcher, NULL, &modep) &&
            GPOINTER_TO_INT(modep) - 1 == WATCH_PERSISTENT_RECURSIVE)
            recursive_dec(m, path);
        g_hash_table_remove(ws, watcher);
        if (g_hash_table_size(ws) == 0)
            g_hash_table_remove(m->by_path, path);
    }
    g_hash_table_remove(m->by_watcher, watcher);
}

guint watch_count_of(const watch_mgr *m, const void *watcher)
{
    GHashTable *ps = g_hash_table_lookup(m->by_watcher, watcher);
    return ps ? g_hash_table_size(ps) : 0;
}

guint watch_watcher_count(const watch_mgr *m) { return g_hash_table_size(m->by_watcher); }
guint watch_path_count(const watch_mgr *m) { return g_hash_table_size(m->by_path); }

guint watch_total(const watch_mgr *m)
{
    guint total = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->by_watcher);
    while (g_hash_table_iter_next(&it, &k, &v))
        total += g_hash_table_size(v);
    return total;
}

void watch_foreach(watch_mgr *m, void (*fn)(void *ctx, const char *path, void *watcher), void *ctx)
{
    GHashTableIter it;
    gpointer path, ws;
    g_hash_table_iter_init(&it, m->by_path);
    while (g_hash_table_iter_next(&it, &path, &ws)) {
        GHashTableIter wi;
        gpointer w;
        g_hash_table_iter_init(&wi, ws);
        while (g_hash_table_iter_next(&wi, &w, NULL))
            fn(ctx, path, w);
    }
}
