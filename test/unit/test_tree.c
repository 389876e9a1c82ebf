/*
 * test_tree.c — unit tests for server/tree.c.  The main test replays a
 * script that Apache ZooKeeper's own DataTree executed
 * (test/vectors/java/tree_ops.txt, tools/gen-java-vectors.sh): createNode,
 * deleteNode, setData, setACL, setCversionPzxid, and after each step the
 * client-visible Stat (DataNode.copyStat), children order (HashSet) and
 * per-session ephemerals (a HashSet copy).  Other tests: snapshot
 * serialise/deserialise round trip, container/TTL indexes, watch firing.
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

#include "tree.h"
#include "vectors.h"

/* ---- helpers --------------------------------------------------------------- */

/* "-" -> NULL (len -1); "x<hex>" -> g_malloc'd bytes. */
static uint8_t *data_arg(const char *a, int32_t *len)
{
    if (strcmp(a, "-") == 0) {
        *len = -1;
        return NULL;
    }
    size_t n = strlen(a + 1) / 2;
    uint8_t *b = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        sscanf(a + 1 + 2 * i, "%2x", &v);
        b[i] = (uint8_t)v;
    }
    *len = (int32_t)n;
    return b;
}

/* Children names of a node in set order, space-separated, g_malloc'd. */
static char *children_str(const zk_node *n)
{
    GString *g = g_string_new(NULL);
    for (jset_entry *e = jset_first(&n->children); e; e = jset_next(&n->children, e)) {
        if (g->len)
            g_string_append_c(g, ' ');
        g_string_append(g, e->key);
    }
    return g_string_free(g, FALSE);
}

/* Records mismatches of one replayed line. */
typedef struct replay {
    int line;
    int failures;
    int checked;
} replay;

static void check_str(replay *r, const char *what, const char *want, const char *got)
{
    r->checked++;
    if (strcmp(want, got) != 0) {
        if (r->failures < 12)
            print_error("tree_ops.txt:%d %s\n  Java: %s\n  ours: %s\n", r->line, what, want, got);
        r->failures++;
    }
}

/* Executes one "op args => expected" line on t. */
static void replay_line(zk_tree *t, replay *r, const char *line)
{
    char **halves = g_strsplit(line, " => ", 2);
    char **a = g_strsplit(halves[0], " ", -1);
    const char *want = halves[1] ? halves[1] : "";
    const char *op = a[0];
    char *got = NULL;
    zk_stat st;
    if (strcmp(op, "create") == 0) {
        int32_t len;
        uint8_t *d = data_arg(a[2], &len);
        zk_acl_list *acl = acl_open_unsafe(t->acls);
        int rc = tree_create(t, a[1], d, len, acl, g_ascii_strtoll(a[3], NULL, 10), atoi(a[4]),
                             g_ascii_strtoll(a[5], NULL, 10), g_ascii_strtoll(a[6], NULL, 10), &st);
        acl_unref(t->acls, acl);
        g_free(d);
        if (rc == ZOK) {
            char *s = unit_stat_str(&st, ' ');
            got = g_strdup_printf("0 %s", s);
            g_free(s);
        } else {
            got = g_strdup_printf("%d", rc);
        }
    } else if (strcmp(op, "delete") == 0) {
        got = g_strdup_printf("%d", tree_delete(t, a[1], g_ascii_strtoll(a[2], NULL, 10)));
    } else if (strcmp(op, "setdata") == 0) {
        int32_t len;
        uint8_t *d = data_arg(a[2], &len);
        int rc = tree_set_data(t, a[1], d, len, atoi(a[3]), g_ascii_strtoll(a[4], NULL, 10),
                               g_ascii_strtoll(a[5], NULL, 10), &st);
        g_free(d);
        char *s = rc == ZOK ? unit_stat_str(&st, ' ') : NULL;
        got = rc == ZOK ? g_strdup_printf("0 %s", s) : g_strdup_printf("%d", rc);
        g_free(s);
    } else if (strcmp(op, "setacl") == 0) {
        zk_acl_entry read_unsafe = { ZK_PERM_READ, "world", "anyone" };
        zk_acl_list *acl = acl_intern(t->acls, &read_unsafe, 1);
        int rc = tree_set_acl(t, a[1], acl, atoi(a[2]), &st);
        acl_unref(t->acls, acl);
        char *s = rc == ZOK ? unit_stat_str(&st, ' ') : NULL;
        got = rc == ZOK ? g_strdup_printf("0 %s", s) : g_strdup_printf("%d", rc);
        g_free(s);
        if (rc == ZOK) {
            zk_node *n = tree_get(t, a[1]);
            r->checked++;
            if (n->acl->count != 1 || n->acl->items[0].perms != ZK_PERM_READ)
                r->failures++;
        }
    } else if (strcmp(op, "setcv") == 0) {
        /* void in C; Java's NONODE is not observable here. */
        tree_set_cversion_pzxid(t, a[1], atoi(a[2]), g_ascii_strtoll(a[3], NULL, 10));
        got = g_strdup(want);
    } else if (strcmp(op, "stat") == 0) {
        zk_node *n = tree_get(t, a[1]);
        if (n) {
            tree_stat(n, &st);
            got = unit_stat_str(&st, ' ');
        } else {
            got = g_strdup_printf("%d", ZNONODE);
        }
    } else if (strcmp(op, "children") == 0) {
        zk_node *n = tree_get(t, a[1]);
        got = n ? children_str(n) : g_strdup_printf("%d", ZNONODE);
    } else if (strcmp(op, "ephemerals") == 0) {
        GPtrArray *e = tree_session_ephemerals(t, g_ascii_strtoll(a[1], NULL, 10));
        g_ptr_array_add(e, NULL);
        got = g_strjoinv(" ", (char **)e->pdata);
        g_ptr_array_free(e, TRUE);
    } else if (strcmp(op, "count") == 0) {
        /* Java's getNodeCount counts "" and "/" (both name the root). */
        got = g_strdup_printf("%u", tree_node_count(t) + 1);
    } else {
        fail_msg("unknown op %s at line %d", op, r->line);
    }
    check_str(r, halves[0], want, got);
    g_free(got);
    g_strfreev(a);
    g_strfreev(halves);
}

/* Replays a Java script file on a fresh tree; returns the number of mismatches. */
static int replay_file(const char *path, zk_tree **tree_out, int *checked)
{
    char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        fail_msg("cannot read %s", path);
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    zk_tree *t = tree_new();
    replay r = { 0, 0, 0 };
    for (char **l = lines; *l; l++) {
        r.line++;
        if (**l)
            replay_line(t, &r, *l);
    }
    g_strfreev(lines);
    *checked = r.checked;
    if (tree_out)
        *tree_out = t;
    else
        tree_free(t);
    return r.failures;
}

/* ---- the Java DataTree script ---------------------------------------------- */

static void test_java_datatree_script(void **state)
{
    (void)state;
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;     /* the generator ran with extendedTypesEnabled */
    int checked = 0;
    int failures = replay_file("test/vectors/java/tree_ops.txt", NULL, &checked);
    zk_extended_types_enabled = saved;
    assert_true(checked > 500);
    assert_int_equal(failures, 0);
}

/* ---- focused checks (each also covered by the script) ---------------------- */

static void test_initial_tree(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    assert_non_null(tree_get(t, "/"));
    assert_ptr_equal(tree_get(t, ""), tree_get(t, "/"));
    assert_non_null(tree_get(t, "/zookeeper/quota"));
    zk_node *cfg = tree_get(t, "/zookeeper/config");
    assert_non_null(cfg);
    assert_int_equal(cfg->aversion, -1);
    assert_int_equal(cfg->acl->items[0].perms, ZK_PERM_READ);
    assert_int_equal(tree_node_count(t), 4);
    assert_int_equal(tree_count_descendants(t->root), 3);
    tree_free(t);
}

/* Java createNode: an explicit parentCVersion (the txn's new value) is
 * stored as is; only -1 means "current + 1". */
static void test_create_parent_cversion(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    assert_int_equal(tree_create(t, "/p", NULL, -1, acl, 0, -1, 10, 1, NULL), ZOK);
    assert_int_equal(tree_get(t, "/")->cversion, 1);
    assert_int_equal(tree_create(t, "/p/a", "", 0, acl, 0, 1, 11, 1, NULL), ZOK);
    assert_int_equal(tree_get(t, "/p")->cversion, 1);
    assert_int_equal(tree_get(t, "/p")->pzxid, 11);
    assert_int_equal(tree_create(t, "/p/b", "", 0, acl, 0, 2, 12, 1, NULL), ZOK);
    assert_int_equal(tree_get(t, "/p")->cversion, 2);
    acl_unref(t->acls, acl);
    tree_free(t);
}

/* DataNode.copyStat: client cversion = stored*2 - numChildren; containers
 * and TTL nodes show ephemeralOwner 0. */
static void test_client_stat_view(void **state)
{
    (void)state;
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;
    zk_tree *t = tree_new();
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    zk_stat st;
    tree_create(t, "/p", NULL, -1, acl, 0, -1, 10, 1, NULL);
    tree_create(t, "/p/a", NULL, -1, acl, 0, -1, 11, 1, NULL);
    tree_delete(t, "/p/a", 12);
    tree_stat(tree_get(t, "/p"), &st);
    assert_int_equal(st.cversion, 2);          /* one create + one delete */
    assert_int_equal(st.pzxid, 12);
    tree_create(t, "/c", NULL, -1, acl, ZK_CONTAINER_OWNER, -1, 13, 1, &st);
    assert_int_equal(st.ephemeral_owner, 0);
    tree_create(t, "/t", NULL, -1, acl, zk_ttl_owner(5000), -1, 14, 1, &st);
    assert_int_equal(st.ephemeral_owner, 0);
    assert_true(g_hash_table_contains(t->containers, "/c"));
    assert_true(g_hash_table_contains(t->ttls, "/t"));
    tree_delete(t, "/c", 15);
    tree_delete(t, "/t", 16);
    assert_false(g_hash_table_contains(t->containers, "/c"));
    assert_false(g_hash_table_contains(t->ttls, "/t"));
    acl_unref(t->acls, acl);
    tree_free(t);
    zk_extended_types_enabled = saved;
}

/* Java deleteNode moves the parent's pzxid even when the child is gone. */
static void test_delete_missing_child_moves_pzxid(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    tree_create(t, "/p", NULL, -1, acl, 0, -1, 10, 1, NULL);
    int rc1 = tree_delete(t, "/p/gone", 20);
    int64_t pzxid = tree_get(t, "/p")->pzxid;
    int rc2 = tree_delete(t, "/nope/gone", 21);
    acl_unref(t->acls, acl);
    tree_free(t);          /* before asserting: a failure must not leak */
    assert_int_equal(rc1, ZNONODE);
    assert_int_equal(pzxid, 20);
    assert_int_equal(rc2, ZNONODE);
}

/* ---- snapshot round trip ---------------------------------------------------- */

static void test_serialize_round_trip(void **state)
{
    (void)state;
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;
    zk_tree *t = NULL;
    int checked = 0;
    replay_file("test/vectors/java/tree_ops.txt", &t, &checked);
    zk_acl_entry dig = { ZK_PERM_ALL, "digest", "u:abc" };
    zk_acl_list *l = acl_intern(t->acls, &dig, 1);
    tree_set_acl(t, "/big", l, 3, NULL);
    acl_unref(t->acls, l);

    jute_writer w;
    jw_init(&w, 1024);
    tree_serialize(t, &w);
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *u = tree_deserialize(&r, &err);
    assert_null(err);
    assert_non_null(u);
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(tree_node_count(u), tree_node_count(t));

    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t->nodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_node *a = v, *b = tree_get(u, k);
        assert_non_null(b);
        zk_stat sa, sb;
        tree_stat(a, &sa);
        tree_stat(b, &sb);
        char *ssa = unit_stat_str(&sa, ' '), *ssb = unit_stat_str(&sb, ' ');   /* field by field (struct has padding) */
        assert_string_equal(ssa, ssb);
        g_free(ssa);
        g_free(ssb);
        assert_int_equal(a->data_len, b->data_len);
        if (a->data_len > 0)
            assert_memory_equal(a->data, b->data, (size_t)a->data_len);
        assert_int_equal(a->acl->count, b->acl->count);
        for (int i = 0; i < a->acl->count; i++) {
            assert_int_equal(a->acl->items[i].perms, b->acl->items[i].perms);
            assert_string_equal(a->acl->items[i].scheme, b->acl->items[i].scheme);
            assert_string_equal(a->acl->items[i].id, b->acl->items[i].id);
        }
        char *ca = children_str(a), *cb = children_str(b);
        /* Sets never shrunk by removals keep their order exactly. */
        if (strcmp(a->path, "/big") != 0 && strcmp(a->path, "/eph") != 0)
            assert_string_equal(ca, cb);
        g_free(ca);
        g_free(cb);
    }
    /* Ephemeral / container / TTL indexes are rebuilt. */
    assert_int_equal(g_hash_table_size(u->ephemerals) >= 2, 1);
    assert_int_equal(g_hash_table_size(u->containers), g_hash_table_size(t->containers));
    assert_int_equal(g_hash_table_size(u->ttls), g_hash_table_size(t->ttls));
    int64_t s1 = 0x0100000000001234LL;
    GPtrArray *ea = tree_session_ephemerals(t, s1), *eb = tree_session_ephemerals(u, s1);
    assert_int_equal(ea->len, eb->len);
    g_ptr_array_free(ea, TRUE);
    g_ptr_array_free(eb, TRUE);

    /* Re-serialising the reloaded tree is a fixed point. */
    jute_writer w2;
    jw_init(&w2, 1024);
    tree_serialize(u, &w2);
    jute_reader r2;
    jr_init(&r2, w2.buf, w2.len);
    zk_tree *u2 = tree_deserialize(&r2, &err);
    jute_writer w3;
    jw_init(&w3, 1024);
    tree_serialize(u2, &w3);
    assert_int_equal(w2.len, w3.len);
    assert_memory_equal(w2.buf, w3.buf, w2.len);

    /* Truncated input is refused with a message. */
    for (size_t cut = 1; cut < w.len; cut += w.len / 7 + 1) {
        jute_reader rt;
        jr_init(&rt, w.buf, w.len - cut);
        char *e2 = NULL;
        zk_tree *bad = tree_deserialize(&rt, &e2);
        assert_null(bad);
        assert_non_null(e2);
        g_free(e2);
    }
    jw_free(&w);
    jw_free(&w2);
    jw_free(&w3);
    tree_free(u2);
    tree_free(u);
    tree_free(t);
    zk_extended_types_enabled = saved;
}

/* ---- watches fired by mutations --------------------------------------------- */

/* Each delivery appended as "watcher:type:path" to a GPtrArray of strings. */
static void record_delivery(void *ctx, void *watcher, int type, const char *path,
                            const zk_acl_list *acl)
{
    (void)acl;
    g_ptr_array_add(ctx, g_strdup_printf("%s:%d:%s", (const char *)watcher, type, path));
}

static bool delivered(GPtrArray *log, const char *s)
{
    for (guint i = 0; i < log->len; i++)
        if (strcmp(g_ptr_array_index(log, i), s) == 0)
            return true;
    return false;
}

/* A deep chain and a wide level round-trip through the snapshot body in
 * pre-order (the walk is iterative: no recursion per level), and
 * getAllChildrenNumber counts them. */
static void test_deep_chain_serializes(void **state)
{
    (void)state;
    enum { DEPTH = 3000, WIDTH = 50 };
    zk_tree *t = tree_new();
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    GString *p = g_string_new(NULL);
    for (int i = 0; i < DEPTH; i++) {
        g_string_append(p, "/d");
        assert_int_equal(tree_create(t, p->str, NULL, -1, acl, 0, -1, 10 + i, 1, NULL), ZOK);
    }
    for (int i = 0; i < WIDTH; i++) {
        char *c = g_strdup_printf("/d/w%d", i);
        assert_int_equal(tree_create(t, c, NULL, -1, acl, 0, -1, 10 + DEPTH + i, 1, NULL), ZOK);
        g_free(c);
    }
    assert_int_equal(tree_count_descendants(t->root), DEPTH + WIDTH + 3);   /* + the 3 of /zookeeper */
    assert_int_equal(tree_count_descendants(tree_get(t, "/d")), DEPTH - 1 + WIDTH);
    jute_writer w;
    jw_init(&w, 1024);
    tree_serialize(t, &w);
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *u = tree_deserialize(&r, &err);   /* needs every parent before its child */
    assert_null(err);
    assert_int_equal(tree_node_count(u), tree_node_count(t));
    assert_non_null(tree_get(u, p->str));
    assert_non_null(tree_get(u, "/d/w49"));
    tree_free(u);
    jw_free(&w);
    g_string_free(p, TRUE);
    acl_unref(t->acls, acl);
    tree_free(t);
}

/* One snapshot node with an ACL of `n` entries (perms, scheme, id);
 * n == -1 writes a null vector. */
static void put_node(jute_writer *w, const char *path, int n, int32_t perms, const char *scheme,
                     const char *id)
{
    jw_string(w, path);
    jw_buffer(w, path, (int32_t)strlen(path));   /* data: the path itself */
    jw_int(w, n);
    for (int i = 0; i < n; i++) {
        jw_int(w, perms);
        jw_string(w, scheme);
        jw_string(w, id);
    }
    for (int i = 0; i < 4; i++)
        jw_long(w, 7);          /* czxid, mzxid, ctime, mtime */
    for (int i = 0; i < 3; i++)
        jw_int(w, 0);           /* version, cversion, aversion */
    jw_long(w, 0);              /* ephemeralOwner */
    jw_long(w, 7);              /* pzxid */
}

/* tree_deserialize decodes each distinct ACL encoding once and shares the
 * interned list; references stay exact through a node listed twice, a
 * child that does not follow its parent's subtree (the parent comes from
 * the path table), and the two encodings of an empty list (null, 0). */
static void test_deserialize_shares_acls(void **state)
{
    (void)state;
    jute_writer w;
    jw_init(&w, 1024);
    jw_int(&w, 11);
    put_node(&w, "/", 1, ZK_PERM_ALL, "world", "anyone");
    put_node(&w, "/zookeeper", 1, ZK_PERM_ALL, "world", "anyone");
    put_node(&w, "/zookeeper/quota", 1, ZK_PERM_ALL, "world", "anyone");
    put_node(&w, "/zookeeper/config", 1, ZK_PERM_READ, "world", "anyone");
    put_node(&w, "/a", 1, ZK_PERM_ALL, "digest", "u:b");
    put_node(&w, "/b", 1, ZK_PERM_ALL, "world", "anyone");
    put_node(&w, "/a/x", 1, ZK_PERM_ALL, "digest", "u:b");       /* parent not on /b's chain */
    put_node(&w, "/a", 1, ZK_PERM_ALL, "digest", "u:c");         /* listed again: replaces */
    put_node(&w, "/b/y", -1, 0, NULL, NULL);
    put_node(&w, "/c", 0, 0, NULL, NULL);
    put_node(&w, "/a/x/z", 1, ZK_PERM_ALL, "digest", "u:b");
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *u = tree_deserialize(&r, &err);
    assert_null(err);
    assert_non_null(u);
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(tree_node_count(u), 10);
    zk_node *a = tree_get(u, "/a"), *x = tree_get(u, "/a/x"), *z = tree_get(u, "/a/x/z");
    zk_node *b = tree_get(u, "/b"), *y = tree_get(u, "/b/y"), *c = tree_get(u, "/c");
    assert_true(a && x && z && b && y && c);
    assert_ptr_equal(x->parent, a);
    assert_ptr_equal(z->parent, x);
    assert_ptr_equal(y->parent, b);
    assert_int_equal(a->children.size, 1);
    assert_string_equal(a->acl->items[0].id, "u:c");
    assert_int_equal(a->acl->refs, 1);
    assert_ptr_equal(x->acl, z->acl);
    assert_string_equal(x->acl->items[0].id, "u:b");
    assert_int_equal(x->acl->refs, 2);
    assert_ptr_equal(y->acl, c->acl);
    assert_int_equal(y->acl->count, 0);
    assert_int_equal(y->acl->refs, 2);
    assert_ptr_equal(b->acl, tree_get(u, "/")->acl);
    assert_int_equal(tree_get(u, "/zookeeper/config")->acl->items[0].perms, ZK_PERM_READ);
    /* world:anyone ALL, READ, u:b, u:c, the empty list: nothing else kept */
    assert_int_equal(acl_cache_size(u->acls), 5);
    assert_int_equal(x->data_len, 4);
    assert_memory_equal(x->data, "/a/x", 4);
    tree_free(u);

    /* A node whose parent is missing is refused, not attached elsewhere. */
    jw_free(&w);
    jw_init(&w, 256);
    jw_int(&w, 2);
    put_node(&w, "/", 1, ZK_PERM_ALL, "world", "anyone");
    put_node(&w, "/p/q", 1, ZK_PERM_ALL, "world", "anyone");
    jr_init(&r, w.buf, w.len);
    assert_null(tree_deserialize(&r, &err));
    assert_non_null(strstr(err, "/p/q has no parent"));
    g_free(err);
    jw_free(&w);
}

static void test_mutations_fire_watches(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    GPtrArray *log = g_ptr_array_new_with_free_func(g_free);
    t->deliver = record_delivery;
    t->deliver_ctx = log;
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    char w1[] = "w1", w2[] = "w2";

    watch_add(t->data_watches, "/a", w1, WATCH_STANDARD);          /* exists on missing node */
    watch_add(t->child_watches, "/", w2, WATCH_STANDARD);
    tree_create(t, "/a", NULL, -1, acl, 0, -1, 1, 1, NULL);
    assert_int_equal(log->len, 2);
    assert_true(delivered(log, "w1:1:/a"));
    assert_true(delivered(log, "w2:4:/"));

    g_ptr_array_set_size(log, 0);
    watch_add(t->data_watches, "/a", w1, WATCH_STANDARD);
    tree_set_data(t, "/a", "x", 1, 1, 2, 2, NULL);
    assert_int_equal(log->len, 1);
    assert_true(delivered(log, "w1:3:/a"));

    /* Delete: data and child watch of the same watcher on the node give one
     * NodeDeleted (the child one is suppressed); the parent gets
     * NodeChildrenChanged. */
    g_ptr_array_set_size(log, 0);
    watch_add(t->data_watches, "/a", w1, WATCH_STANDARD);
    watch_add(t->child_watches, "/a", w1, WATCH_STANDARD);
    watch_add(t->child_watches, "/a", w2, WATCH_STANDARD);
    watch_add(t->child_watches, "/", w2, WATCH_STANDARD);
    assert_int_equal(tree_delete(t, "/a", 3), ZOK);
    assert_int_equal(log->len, 3);
    assert_true(delivered(log, "w1:2:/a"));
    assert_true(delivered(log, "w2:2:/a"));
    assert_true(delivered(log, "w2:4:/"));
    assert_int_equal(watch_total(t->child_watches), 0);

    acl_unref(t->acls, acl);
    g_ptr_array_free(log, TRUE);
    tree_free(t);
}

/* t's approximate_data_size after a snapshot round trip. */
static int64_t restored_data_size(const zk_tree *t)
{
    jute_writer w;
    jw_init(&w, 256);
    tree_serialize(t, &w);
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *u = tree_deserialize(&r, &err);
    assert_null(err);
    assert_non_null(u);
    int64_t size = u->data_size;
    tree_free(u);
    jw_free(&w);
    return size;
}

/* approximate_data_size counts a path as Apache's path.length() (UTF-16
 * units) plus the data bytes, through create, setData, delete and a
 * snapshot round trip. */
static void test_data_size_counts_utf16_units(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    int64_t base = t->data_size;
    zk_acl_list *acl = acl_open_unsafe(t->acls);
    /* "/\u00fc" is 2 units (3 bytes), "/\u65e5\u672c" 3 units (7 bytes) */
    assert_int_equal(tree_create(t, "/\xc3\xbc", "ab", 2, acl, 0, -1, 10, 1, NULL), ZOK);
    assert_int_equal(t->data_size, base + 2 + 2);
    assert_int_equal(tree_create(t, "/\xe6\x97\xa5\xe6\x9c\xac", NULL, -1, acl, 0, -1, 11, 1, NULL), ZOK);
    assert_int_equal(t->data_size, base + 4 + 3);
    assert_int_equal(tree_set_data(t, "/\xc3\xbc", "abcde", 5, 1, 12, 2, NULL), ZOK);
    assert_int_equal(t->data_size, base + 7 - 2 + 5);

    /* a restored tree counts the same paths (the built-in nodes as a
     * restored fresh tree counts them) */
    zk_tree *fresh = tree_new();
    int64_t restored_base = restored_data_size(fresh);
    assert_int_equal(restored_data_size(t) - restored_base, t->data_size - base);
    tree_free(fresh);

    assert_int_equal(tree_delete(t, "/\xc3\xbc", 13), ZOK);
    assert_int_equal(tree_delete(t, "/\xe6\x97\xa5\xe6\x9c\xac", 14), ZOK);
    assert_int_equal(t->data_size, base);
    acl_unref(t->acls, acl);
    tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_datatree_script),
        cmocka_unit_test(test_initial_tree),
        cmocka_unit_test(test_create_parent_cversion),
        cmocka_unit_test(test_client_stat_view),
        cmocka_unit_test(test_delete_missing_child_moves_pzxid),
        cmocka_unit_test(test_serialize_round_trip),
        cmocka_unit_test(test_deep_chain_serializes),
        cmocka_unit_test(test_deserialize_shares_acls),
        cmocka_unit_test(test_mutations_fire_watches),
        cmocka_unit_test(test_data_size_counts_utf16_units),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
