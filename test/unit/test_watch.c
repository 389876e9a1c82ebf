/*
 * test_watch.c — unit tests for server/watch.c.  The main test replays a
 * script that Apache ZooKeeper 3.8's own WatchManager executed
 * (test/vectors/java/watch_ops.txt, tools/gen-java-vectors.sh): standard,
 * persistent and persistent-recursive watches, NodeChildrenChanged not
 * reaching recursive watchers, suppression, remove/contains, summaries.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "watch.h"
#include "zk/proto.h"

/* Watchers are the addresses of these ints (1..6, as in the Java script). */
static int watcher_ids[7] = { 0, 1, 2, 3, 4, 5, 6 };
#define W(i) ((void *)&watcher_ids[i])

/* deliver(): adds the watcher id to a GHashTable set (ctx). */
static void collect(void *ctx, void *watcher, int type, const char *path)
{
    (void)type;
    (void)path;
    g_hash_table_add(ctx, watcher);
}

/* "1,3" from a set of watchers (ids ascending), or "-"; g_malloc'd. */
static char *ids_str(GHashTable *set)
{
    GString *g = g_string_new(NULL);
    for (int i = 1; i <= 6; i++)
        if (g_hash_table_contains(set, W(i)))
            g_string_append_printf(g, "%s%d", g->len ? "," : "", i);
    if (!g->len)
        g_string_append_c(g, '-');
    return g_string_free(g, FALSE);
}

/*
 * Replays the Java script.  check_connections: whether "summary" also
 * compares the connection count (Java keeps a watcher whose last standard
 * watch fired in its count until the connection closes).
 */
static int replay(bool check_connections, int *checked)
{
    char *text = NULL;
    assert_true(g_file_get_contents("test/vectors/java/watch_ops.txt", &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    watch_mgr *m = watch_mgr_new();
    int failures = 0, lineno = 0;
    *checked = 0;
    for (char **l = lines; *l; l++) {
        lineno++;
        if (!**l)
            continue;
        char **halves = g_strsplit(*l, " => ", 2);
        char **a = g_strsplit(halves[0], " ", -1);
        const char *want = halves[1] ? halves[1] : "";
        char *got = NULL;
        if (strcmp(a[0], "add") == 0) {
            watch_add(m, a[1], W(atoi(a[2])), atoi(a[3]));
        } else if (strcmp(a[0], "contains") == 0) {
            got = g_strdup_printf("%d", watch_contains(m, a[1], W(atoi(a[2]))) ? 1 : 0);
        } else if (strcmp(a[0], "remove") == 0) {
            got = g_strdup_printf("%d", watch_remove(m, a[1], W(atoi(a[2]))) ? 1 : 0);
        } else if (strcmp(a[0], "removewatcher") == 0) {
            watch_remove_watcher(m, W(atoi(a[1])));
        } else if (strcmp(a[0], "summary") == 0) {
            char **w = g_strsplit(want, " ", 3);
            got = g_strdup_printf("%s %u %u", check_connections ? "" : w[0], watch_path_count(m), watch_total(m));
            if (check_connections) {
                g_free(got);
                got = g_strdup_printf("%u %u %u", watch_watcher_count(m), watch_path_count(m), watch_total(m));
            }
            g_strfreev(w);
        } else if (strcmp(a[0], "trigger") == 0) {
            GHashTable *suppress = NULL;
            if (strcmp(a[3], "-") != 0) {
                suppress = g_hash_table_new(g_direct_hash, g_direct_equal);
                char **ids = g_strsplit(a[3], ",", -1);
                for (char **i = ids; *i; i++)
                    g_hash_table_add(suppress, W(atoi(*i)));
                g_strfreev(ids);
            }
            GHashTable *fired = g_hash_table_new(g_direct_hash, g_direct_equal);
            GHashTable *deliv = g_hash_table_new(g_direct_hash, g_direct_equal);
            watch_trigger(m, a[1], atoi(a[2]), suppress, fired, collect, deliv);
            char *f = ids_str(fired), *d = ids_str(deliv);
            got = g_strdup_printf("%s %s", f, d);
            g_free(f);
            g_free(d);
            g_hash_table_destroy(fired);
            g_hash_table_destroy(deliv);
            if (suppress)
                g_hash_table_destroy(suppress);
        }
        if (got) {
            (*checked)++;
            if (strcmp(got, want) != 0) {
                print_error("watch_ops.txt:%d %s\n  Java: %s\n  ours: %s\n", lineno, halves[0], want, got);
                failures++;
            }
        }
        g_free(got);
        g_strfreev(a);
        g_strfreev(halves);
    }
    g_strfreev(lines);
    watch_mgr_free(m);
    return failures;
}

static void test_java_watchmanager_script(void **state)
{
    (void)state;
    int checked;
    int failures = replay(false, &checked);
    assert_true(checked > 30);
    assert_int_equal(failures, 0);
}

/* wchs: "N connections watching M paths" counts, as Java's watch2Paths. */
static void test_java_connection_count(void **state)
{
    (void)state;
    int checked;
    assert_int_equal(replay(true, &checked), 0);
}

/* ---- behaviour not in the script -------------------------------------------- */

static void count_cb(void *ctx, const char *path, void *watcher)
{
    (void)path;
    (void)watcher;
    (*(int *)ctx)++;
}

static void test_foreach_and_remove_watcher(void **state)
{
    (void)state;
    watch_mgr *m = watch_mgr_new();
    watch_add(m, "/a", W(1), WATCH_STANDARD);
    watch_add(m, "/b", W(1), WATCH_PERSISTENT_RECURSIVE);
    watch_add(m, "/a", W(2), WATCH_PERSISTENT);
    watch_add(m, "/a", W(2), WATCH_PERSISTENT);      /* same watch again: no duplicate */
    int n = 0;
    watch_foreach(m, count_cb, &n);
    assert_int_equal(n, 3);
    assert_int_equal(watch_total(m), 3);
    assert_int_equal(watch_path_count(m), 2);
    watch_remove_watcher(m, W(1));
    n = 0;
    watch_foreach(m, count_cb, &n);
    assert_int_equal(n, 1);
    assert_int_equal(watch_watcher_count(m), 1);
    /* The recursive watch is gone: a descendant no longer fires anything. */
    GHashTable *got = g_hash_table_new(g_direct_hash, g_direct_equal);
    watch_trigger(m, "/b/c", ZK_EVENT_CREATED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 0);
    /* A persistent watch survives firing; the path is the triggering one. */
    watch_trigger(m, "/a", ZK_EVENT_DATA_CHANGED, NULL, NULL, collect, got);
    watch_trigger(m, "/a", ZK_EVENT_DATA_CHANGED, NULL, NULL, collect, got);
    assert_true(g_hash_table_contains(got, W(2)));
    assert_int_equal(watch_total(m), 1);
    g_hash_table_destroy(got);
    watch_remove_watcher(m, W(3));   /* unknown watcher: no effect */
    assert_int_equal(watch_total(m), 1);
    watch_mgr_free(m);
}

static void test_recursive_deep_and_children_changed(void **state)
{
    (void)state;
    watch_mgr *m = watch_mgr_new();
    watch_add(m, "/a", W(1), WATCH_PERSISTENT_RECURSIVE);
    watch_add(m, "/a/b/c", W(2), WATCH_STANDARD);
    GHashTable *got = g_hash_table_new(g_direct_hash, g_direct_equal);
    watch_trigger(m, "/a/b/c/d/e", ZK_EVENT_DELETED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 1);          /* only the recursive one */
    assert_true(g_hash_table_contains(got, W(1)));
    g_hash_table_remove_all(got);
    watch_trigger(m, "/a/b/c", ZK_EVENT_CHILD_CHANGED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 1);          /* the standard one, not the recursive */
    assert_true(g_hash_table_contains(got, W(2)));
    g_hash_table_remove_all(got);
    watch_trigger(m, "/ab", ZK_EVENT_CREATED, NULL, NULL, collect, got);   /* not under /a */
    assert_int_equal(g_hash_table_size(got), 0);
    assert_true(watch_contains(m, "/a", W(1)));
    g_hash_table_destroy(got);
    watch_mgr_free(m);
}

/* Apache's containsWatcher throws (-> MARSHALLINGERROR) where its
 * PathParentIterator meets an element without '/' (checked on the Debian
 * 3.8.0 server: checkWatches "diff" fails even with no watch at all). */
static void test_contains_throws_like_java(void **state)
{
    (void)state;
    watch_mgr *m = watch_mgr_new();
    assert_true(watch_contains_throws(m, "diff", W(1)));      /* first next() */
    assert_false(watch_contains_throws(m, "a/b", W(1)));      /* forPathOnly: one element */
    assert_false(watch_contains_throws(m, "", W(1)));
    assert_false(watch_contains_throws(m, "/", W(1)));
    assert_false(watch_contains_throws(m, "/a/b", W(1)));
    watch_add(m, "/r", W(2), WATCH_PERSISTENT_RECURSIVE);      /* now forAll */
    assert_true(watch_contains_throws(m, "a/b", W(1)));       /* walks to "a" */
    assert_true(watch_contains_throws(m, "x/", W(1)));
    assert_false(watch_contains_throws(m, "/a/b", W(1)));
    watch_add(m, "a/b", W(1), WATCH_PERSISTENT);
    assert_false(watch_contains_throws(m, "a/b", W(1)));      /* found at the leaf first */
    assert_true(watch_contains_throws(m, "diff", W(1)));
    watch_mgr_free(m);
}

/* The ancestor walk of Apache's PathParentIterator, the way watch.c once
 * did it (strrchr on a copy, one step at a time): the oracle for the
 * linear walk. */
static GPtrArray *oracle_ancestors(const char *path)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);
    char *p = g_strdup(path);
    for (;;) {
        if (strcmp(p, "/") == 0)
            break;
        char *slash = strrchr(p, '/');
        if (!slash)
            break;
        if (slash == p)
            p[1] = 0;
        else
            *slash = 0;
        g_ptr_array_add(out, g_strdup(p));
    }
    g_free(p);
    return out;
}

/* Recursive watches on odd keys (the watch table takes any string) fire
 * exactly for the leaf and the ancestors the Java walk visits. */
static void test_recursive_ancestors_match_java_walk(void **state)
{
    (void)state;
    const char *keys[] = { "/", "/a", "/a/b", "/a/", "//", "a", "a/b", "/a/b/c", "x", "", "/b" };
    const char *events[] = { "/a/b/c/d", "/a/b", "/a", "/", "/a//b", "//a", "a/b/c", "a", "/ab/c", "/a/",
                             "/b/a/b" };
    enum { NKEYS = G_N_ELEMENTS(keys) };
    int ids[NKEYS];
    watch_mgr *m = watch_mgr_new();
    for (int i = 0; i < NKEYS; i++)
        watch_add(m, keys[i], &ids[i], WATCH_PERSISTENT_RECURSIVE);
    for (size_t e = 0; e < G_N_ELEMENTS(events); e++) {
        GHashTable *got = g_hash_table_new(g_direct_hash, g_direct_equal);
        watch_trigger(m, events[e], ZK_EVENT_DATA_CHANGED, NULL, NULL, collect, got);
        GPtrArray *up = oracle_ancestors(events[e]);
        for (int i = 0; i < NKEYS; i++) {
            bool want = strcmp(keys[i], events[e]) == 0;
            for (guint j = 0; j < up->len; j++)
                want |= strcmp(keys[i], g_ptr_array_index(up, j)) == 0;
            if (want != g_hash_table_contains(got, &ids[i]))
                fail_msg("event on '%s': watch on '%s' %s", events[e], keys[i],
                         want ? "did not fire" : "fired");
        }
        g_ptr_array_free(up, TRUE);
        g_hash_table_destroy(got);
    }
    watch_mgr_free(m);
}

/* The index of recursive watch paths follows removals and mode changes. */
static void test_recursive_index_follows_changes(void **state)
{
    (void)state;
    watch_mgr *m = watch_mgr_new();
    GHashTable *got = g_hash_table_new(g_direct_hash, g_direct_equal);
    watch_add(m, "/a", W(1), WATCH_PERSISTENT_RECURSIVE);
    watch_add(m, "/a", W(2), WATCH_PERSISTENT_RECURSIVE);
    watch_add(m, "/a", W(3), WATCH_PERSISTENT_RECURSIVE);
    assert_true(watch_remove(m, "/a", W(1)));
    watch_add(m, "/a", W(3), WATCH_PERSISTENT);                /* re-moded: not recursive any more */
    watch_trigger(m, "/a/x", ZK_EVENT_CREATED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 1);
    assert_true(g_hash_table_contains(got, W(2)));
    watch_remove_watcher(m, W(2));
    g_hash_table_remove_all(got);
    watch_trigger(m, "/a/x", ZK_EVENT_CREATED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 0);
    watch_add(m, "/a", W(4), WATCH_PERSISTENT_RECURSIVE);       /* the index entry comes back */
    watch_trigger(m, "/a/x", ZK_EVENT_CREATED, NULL, NULL, collect, got);
    assert_true(g_hash_table_contains(got, W(4)));
    assert_int_equal(watch_count_of(m, W(3)), 1);
    assert_int_equal(watch_count_of(m, W(4)), 1);
    assert_int_equal(watch_count_of(m, W(1)), 0);
    g_hash_table_destroy(got);
    watch_mgr_free(m);
}

/* A chain as deep as a 1 MiB path allows: one event, one delivery, and no
 * walk that copies every prefix (that took minutes at this depth). */
static void test_recursive_very_deep_path(void **state)
{
    (void)state;
    enum { DEPTH = 400000 };
    GString *p = g_string_sized_new(2 * DEPTH + 1);
    for (int i = 0; i < DEPTH; i++)
        g_string_append(p, "/d");
    watch_mgr *m = watch_mgr_new();
    watch_add(m, "/", W(1), WATCH_PERSISTENT_RECURSIVE);
    watch_add(m, "/d/d", W(2), WATCH_PERSISTENT_RECURSIVE);
    GHashTable *got = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < 20; i++)
        watch_trigger(m, p->str, ZK_EVENT_DATA_CHANGED, NULL, NULL, collect, got);
    assert_int_equal(g_hash_table_size(got), 2);
    g_hash_table_destroy(got);
    g_string_free(p, TRUE);
    watch_mgr_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_watchmanager_script),
        cmocka_unit_test(test_java_connection_count),
        cmocka_unit_test(test_foreach_and_remove_watcher),
        cmocka_unit_test(test_recursive_deep_and_children_changed),
        cmocka_unit_test(test_contains_throws_like_java),
        cmocka_unit_test(test_recursive_ancestors_match_java_walk),
        cmocka_unit_test(test_recursive_index_follows_changes),
        cmocka_unit_test(test_recursive_very_deep_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
