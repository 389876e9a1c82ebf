/* watch.c — watch manager with Apache 3.8 semantics (see watch.h). */
#include "watch.h"

#include <string.h>

#include "zk/proto.h"

struct watch_mgr {
    GHashTable *by_path;     /* char* path (owned) -> GHashTable(watcher -> GINT mode+1) */
    GHashTable *by_watcher;  /* watcher -> GHashTable(char* path, owned set) */
    guint recursive;         /* number of recursive watches (fast path when 0) */
};

watch_mgr *watch_mgr_new(void)
{
    watch_mgr *m = g_new0(watch_mgr, 1);
    m->by_path = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify)g_hash_table_destroy);
    m->by_watcher = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL,
                                          (GDestroyNotify)g_hash_table_destroy);
    return m;
}

void watch_mgr_free(watch_mgr *m)
{
    if (!m)
        return;
    g_hash_table_destroy(m->by_path);
    g_hash_table_destroy(m->by_watcher);
    g_free(m);
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
        m->recursive--;
    if (mode == WATCH_PERSISTENT_RECURSIVE)
        m->recursive++;
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

/* The parent in Apache's PathParentIterator: "/a/b" -> "/a" -> "/" -> end. */
static bool parent_path(char *p)
{
    if (strcmp(p, "/") == 0)
        return false;
    char *slash = strrchr(p, '/');
    if (!slash)
        return false;
    if (slash == p)
        p[1] = 0;
    else
        *slash = 0;
    return true;
}

void watch_trigger(watch_mgr *m, const char *path, int event_type, GHashTable *suppress,
                   GHashTable *fired, watch_deliver_fn deliver, void *ctx)
{
    GPtrArray *targets = g_ptr_array_new();
    GHashTable *seen = g_hash_table_new(g_direct_hash, g_direct_equal);
    char *p = g_strdup(path);
    bool at_parent = false;
    for (;;) {
        GHashTable *ws = g_hash_table_lookup(m->by_path, p);
        if (ws) {
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
                        forget_path_of_watcher(m, w, p);
                    }
                }
                if (fire && !g_hash_table_contains(seen, w)) {
                    g_hash_table_add(seen, w);
                    g_ptr_array_add(targets, w);
                }
            }
            if (g_hash_table_size(ws) == 0)
                g_hash_table_remove(m->by_path, p);
        }
        if (m->recursive == 0 || !parent_path(p))
            break;
        at_parent = true;
    }
    g_free(p);
    for (guint i = 0; i < targets->len; i++) {
        void *w = g_ptr_array_index(targets, i);
        if (suppress && g_hash_table_contains(suppress, w))
            continue;
        deliver(ctx, w, event_type, path);
    }
    if (fired)
        for (guint i = 0; i < targets->len; i++)
            g_hash_table_add(fired, g_ptr_array_index(targets, i));
    g_hash_table_destroy(seen);
    g_ptr_array_free(targets, TRUE);
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
        m->recursive--;
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
    bool throws = false;
    while (parent_path(p)) {          /* every further next() on p */
        if (!java_parent_computable(p)) {
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
            m->recursive--;
        g_hash_table_remove(ws, watcher);
        if (g_hash_table_size(ws) == 0)
            g_hash_table_remove(m->by_path, path);
    }
    g_hash_table_remove(m->by_watcher, watcher);
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
