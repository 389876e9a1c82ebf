/*
 * test_quota.c — unit tests for server/quota.c: StatsTrack parsing and
 * formatting (Java String.split / Long.parseLong corner cases, where
 * Apache's constructor throws), the quota-root trie and its max-prefix
 * lookup (PathTrie, blank components), the stats znode kept by tree
 * mutations (deepest quota only, no Stat change), the recomputation after
 * a snapshot round trip, and quota_check's soft/hard decisions.
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

#include "log.h"
#include "quota.h"
#include "tree.h"

/* Parses text and returns the formatted result, or NULL if it throws. */
static char *reformat(const char *text)
{
    quota_stats st;
    quota_stats_init(&st);
    char *out = NULL;
    if (quota_stats_parse(&st, (const uint8_t *)text, (int32_t)strlen(text)))
        out = quota_stats_format(&st);
    quota_stats_clear(&st);
    return out;
}

static void expect_format(const char *in, const char *want)
{
    char *got = reformat(in);
    if (!want) {
        if (got)
            fail_msg("\"%s\" parsed as \"%s\", expected a throw", in, got);
        return;
    }
    if (!got)
        fail_msg("\"%s\" did not parse", in);
    assert_string_equal(got, want);
    g_free(got);
}

static void test_stats_parse_format(void **state)
{
    (void)state;
    expect_format("count=2,bytes=5", "count=2,bytes=5");
    expect_format("", "count=-1,bytes=-1");
    expect_format(",,;", "count=-1,bytes=-1");
    /* what zkCli writes for setquota -n 3 */
    expect_format("count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1",
                  "count=3,bytes=-1=;byteHardLimit=-1;countHardLimit=-1");
    /* other keys sorted after "=", count/bytes always first */
    expect_format("zz=1;countHardLimit=4,bytes=7;count=1", "count=1,bytes=7=;countHardLimit=4;zz=1");
    expect_format("count=1;count=9", "count=9,bytes=-1");
    expect_format("count==5", "count=-1,bytes=-1");        /* kv[1] is "" */
    expect_format("count=5==", "count=5,bytes=-1");        /* trailing parts dropped */
    expect_format("=5", "count=-1,bytes=-1=;=5");          /* key "" */
    expect_format("count=+7,bytes=-0", "count=7,bytes=0");
    expect_format("count=9223372036854775807", "count=9223372036854775807,bytes=-1");
    expect_format("bytes=-9223372036854775808", "count=-1,bytes=-9223372036854775808");
    expect_format("count=1,", "count=1,bytes=-1");
    /* where new StatsTrack throws */
    expect_format("count", NULL);
    expect_format("count=", NULL);
    expect_format("==", NULL);
    expect_format(",count=1", NULL);
    expect_format("count=x", NULL);
    expect_format("count= 1", NULL);
    expect_format("count=+", NULL);
    expect_format("count=9223372036854775808", NULL);
    expect_format("a=b=c", NULL);
    quota_stats st;
    quota_stats_init(&st);
    assert_false(quota_stats_parse(&st, NULL, -1));           /* null data */
    assert_true(quota_stats_parse(&st, (const uint8_t *)"count=4", 7));
    assert_int_equal(quota_stats_get(&st, "count"), 4);
    assert_int_equal(quota_stats_get(&st, "bytes"), -1);
    assert_int_equal(quota_stats_get(&st, "countHardLimit"), -1);
    quota_stats_set(&st, "byteHardLimit", 10);
    char *s = quota_stats_format(&st);
    assert_string_equal(s, "count=4,bytes=-1=;byteHardLimit=10");
    g_free(s);
    quota_stats_clear(&st);
}

static void expect_prefix(const quota_trie *q, const char *path, const char *want)
{
    char *got = quota_max_prefix(q, path);
    if (!want) {
        if (got)
            fail_msg("%s: prefix %s, expected none", path, got);
        return;
    }
    if (!got)
        fail_msg("%s: no prefix, expected %s", path, want);
    assert_string_equal(got, want);
    g_free(got);
}

static void test_trie_max_prefix(void **state)
{
    (void)state;
    quota_trie *q = quota_trie_new();
    expect_prefix(q, "/a", NULL);
    quota_trie_add(q, "/a");
    quota_trie_add(q, "/a/b/c");
    quota_trie_add(q, "/");            /* the root: never a quota root */
    quota_trie_add(q, "");
    assert_int_equal(quota_trie_size(q), 2);
    expect_prefix(q, "/", NULL);
    expect_prefix(q, "/a", "/a");
    expect_prefix(q, "/ab", NULL);
    expect_prefix(q, "/a/b", "/a");
    expect_prefix(q, "/a/b/c", "/a/b/c");
    expect_prefix(q, "/a/b/c/d/e", "/a/b/c");
    expect_prefix(q, "/a/b/cd", "/a");
    expect_prefix(q, "/b/a", NULL);
    /* PathTrie drops blank components */
    expect_prefix(q, "/a/ /b/c/x", "/a/b/c");
    quota_trie_add(q, "/x/ /y");
    expect_prefix(q, "/x/y/z", "/x/y");
    quota_trie_delete(q, "/a/b/c");
    expect_prefix(q, "/a/b/c/d", "/a");
    quota_trie_delete(q, "/nothing");
    quota_trie_delete(q, "/a");
    expect_prefix(q, "/a/b", NULL);
    quota_trie_free(q);
}

static zk_acl_list *open_acl(zk_tree *t)
{
    zk_acl_entry e = { ZK_PERM_ALL, "world", "anyone" };
    return acl_intern(t->acls, &e, 1);
}

static void mk(zk_tree *t, zk_acl_list *acl, const char *path, const char *data, int64_t zxid)
{
    int32_t len = data ? (int32_t)strlen(data) : -1;
    assert_int_equal(tree_create(t, path, data, len, acl, 0, -1, zxid, 1000 + zxid, NULL), ZOK);
}

static void expect_data(zk_tree *t, const char *path, const char *want)
{
    zk_node *n = tree_get(t, path);
    assert_non_null(n);
    char *got = g_strndup((const char *)n->data, n->data_len > 0 ? (gsize)n->data_len : 0);
    assert_string_equal(got, want);
    g_free(got);
}

/* The steps of zkCli setquota -n 3 /a (limits node first, then stats). */
static void setquota(zk_tree *t, zk_acl_list *acl, const char *qdir, const char *limits, int64_t *zxid)
{
    char *lp = g_strconcat(qdir, "/" ZK_QUOTA_LIMITS, NULL);
    char *sp = g_strconcat(qdir, "/" ZK_QUOTA_STATS, NULL);
    mk(t, acl, qdir, NULL, (*zxid)++);
    mk(t, acl, lp, limits, (*zxid)++);
    mk(t, acl, sp, "count=0,bytes=0", (*zxid)++);
    g_free(lp);
    g_free(sp);
}

static void test_tree_keeps_stats(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    zk_acl_list *acl = open_acl(t);
    int64_t z = 1;
    mk(t, acl, "/a", "xy", z++);
    mk(t, acl, "/a/b", "123", z++);
    setquota(t, acl, "/zookeeper/quota/a", "count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1", &z);
    /* created with "count=0,bytes=0", recomputed from the subtree */
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=2,bytes=5");
    zk_node *sn = tree_get(t, "/zookeeper/quota/a/zookeeper_stats");
    int64_t mzxid = sn->mzxid;
    mk(t, acl, "/a/c", "4567", z++);
    mk(t, acl, "/a/d", NULL, z++);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=4,bytes=9");
    assert_int_equal(tree_set_data(t, "/a/b", "1", 1, 1, z, 2000, NULL), ZOK);
    z++;
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=4,bytes=7");
    assert_int_equal(tree_delete(t, "/a/c", z++), ZOK);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=3,bytes=3");
    /* the stats znode's Stat never moves */
    assert_int_equal(sn->mzxid, mzxid);
    assert_int_equal(sn->version, 0);

    /* a nested quota takes its subtree's changes (the deepest prefix only) */
    mk(t, acl, "/a/n", "", z++);
    setquota(t, acl, "/zookeeper/quota/a/n", "count=-1,bytes=100", &z);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=4,bytes=3");
    expect_data(t, "/zookeeper/quota/a/n/zookeeper_stats", "count=1,bytes=0");
    mk(t, acl, "/a/n/x", "abcd", z++);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=4,bytes=3");
    expect_data(t, "/zookeeper/quota/a/n/zookeeper_stats", "count=2,bytes=4");

    /* a snapshot round trip recomputes every stats znode from its subtree:
     * the outer quota now counts the inner subtree too, as in Apache */
    jute_writer w;
    jw_init(&w, 1024);
    tree_serialize(t, &w);
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    char *err = NULL;
    zk_tree *u = tree_deserialize(&r, &err);
    assert_null(err);
    assert_non_null(u);
    expect_data(u, "/zookeeper/quota/a/zookeeper_stats", "count=5,bytes=7");
    expect_data(u, "/zookeeper/quota/a/n/zookeeper_stats", "count=2,bytes=4");
    assert_int_equal(quota_trie_size(u->quota), 2);
    zk_acl_list *uacl = open_acl(u);
    mk(u, uacl, "/a/y", "z", 100);
    expect_data(u, "/zookeeper/quota/a/zookeeper_stats", "count=6,bytes=8");
    acl_unref(u->acls, uacl);
    tree_free(u);
    jw_free(&w);

    /* delquota: the limits znode goes, the path stops being tracked */
    assert_int_equal(tree_delete(t, "/zookeeper/quota/a/n/zookeeper_limits", z++), ZOK);
    mk(t, acl, "/a/n/y", "12", z++);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "count=5,bytes=5");
    expect_data(t, "/zookeeper/quota/a/n/zookeeper_stats", "count=2,bytes=4");

    /* a stats znode a client broke is left alone (Apache would throw) */
    bool saved = zk_log_enabled;
    zk_log_enabled = false;
    assert_int_equal(tree_set_data(t, "/zookeeper/quota/a/zookeeper_stats", "junk", 4, 1, z++, 3000, NULL), ZOK);
    mk(t, acl, "/a/q", NULL, z++);
    expect_data(t, "/zookeeper/quota/a/zookeeper_stats", "junk");
    /* limits znodes that name no quota root change nothing */
    mk(t, acl, "/zookeeper/quota/zookeeper_limits", "count=1", z++);
    assert_int_equal(tree_delete(t, "/zookeeper/quota/zookeeper_limits", z++), ZOK);
    mk(t, acl, "/zookeeper/zookeeper_limits", "count=1", z++);
    assert_int_equal(tree_delete(t, "/zookeeper/zookeeper_limits", z++), ZOK);
    zk_log_enabled = saved;

    acl_unref(t->acls, acl);
    tree_free(t);
}

static void test_quota_check(void **state)
{
    (void)state;
    bool saved = zk_log_enabled;
    zk_log_enabled = false;
    zk_tree *t = tree_new();
    zk_acl_list *acl = open_acl(t);
    int64_t z = 1;
    mk(t, acl, "/a", "xy", z++);
    mk(t, acl, "/b", NULL, z++);
    setquota(t, acl, "/zookeeper/quota/a", "count=2,bytes=-1=;byteHardLimit=10;countHardLimit=-1", &z);
    setquota(t, acl, "/zookeeper/quota/b", "count=-1,bytes=-1=;countHardLimit=2", &z);
    /* no quota */
    assert_int_equal(quota_check(t, "/c", 100, 1), QUOTA_CHECK_OK);
    /* soft count only warns; the hard byte limit refuses */
    assert_int_equal(quota_check(t, "/a/x", 1, 1), QUOTA_CHECK_OK);
    assert_int_equal(quota_check(t, "/a/x", 3, 1), QUOTA_CHECK_OK);
    mk(t, acl, "/a/x", "12345678", z++);
    assert_int_equal(quota_check(t, "/a/y", 1, 1), QUOTA_CHECK_EXCEEDED);
    assert_int_equal(quota_check(t, "/a/y", 0, 1), QUOTA_CHECK_OK);
    assert_int_equal(quota_check(t, "/a/x", -1, 0), QUOTA_CHECK_OK);
    /* the hard count limit */
    mk(t, acl, "/b/x", NULL, z++);
    assert_int_equal(quota_check(t, "/b/y", 0, 1), QUOTA_CHECK_EXCEEDED);
    assert_int_equal(quota_check(t, "/b/x", 100, 0), QUOTA_CHECK_OK);
    GHashTable *ex = quota_exceeded_counts();
    guint64 *na = g_hash_table_lookup(ex, "a"), *nb = g_hash_table_lookup(ex, "b");
    assert_non_null(na);
    assert_non_null(nb);
    assert_int_equal(*na, 1);
    assert_int_equal(*nb, 1);
    /* broken limits text: Apache's prep throws */
    assert_int_equal(tree_set_data(t, "/zookeeper/quota/b/zookeeper_limits", "x", 1, 1, z++, 5, NULL), ZOK);
    assert_int_equal(quota_check(t, "/b/y", 0, 1), QUOTA_CHECK_BROKEN);
    acl_unref(t->acls, acl);
    tree_free(t);
    zk_log_enabled = saved;
}

typedef struct seen {
    int calls;
    int64_t a_count_limit, a_bytes_limit, a_count_usage, a_bytes_usage;
} seen;

static void on_ns(void *ctx, const quota_ns_figures *f)
{
    seen *s = ctx;
    s->calls++;
    if (strcmp(f->ns, "a") == 0) {
        assert_true(f->has_limit);
        assert_true(f->has_usage);
        s->a_count_limit = f->count_limit;
        s->a_bytes_limit = f->bytes_limit;
        s->a_count_usage = f->count_usage;
        s->a_bytes_usage = f->bytes_usage;
    }
}

static void test_metrics(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    zk_acl_list *acl = open_acl(t);
    int64_t z = 1;
    mk(t, acl, "/a", "xy", z++);
    mk(t, acl, "/a/b", "123", z++);
    setquota(t, acl, "/zookeeper/quota/a", "count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1", &z);
    seen s = { 0 };
    quota_metrics_foreach(t, on_ns, &s);
    assert_int_equal(s.calls, 1);
    assert_int_equal(s.a_count_limit, 3);
    assert_int_equal(s.a_bytes_limit, 10);
    assert_int_equal(s.a_count_usage, 2);
    assert_int_equal(s.a_bytes_usage, 5);
    GString *out = g_string_new(NULL);
    quota_mntr_gauge_sets(t, out);
    assert_string_equal(out->str,
                        "zk_a_quota_bytes_limit_per_namespace\t10\n"
                        "zk_a_quota_count_usage_per_namespace\t2\n"
                        "zk_a_quota_count_limit_per_namespace\t3\n"
                        "zk_a_quota_bytes_usage_per_namespace\t5\n");
    g_string_free(out, TRUE);
    acl_unref(t->acls, acl);
    tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats_parse_format),
        cmocka_unit_test(test_trie_max_prefix),
        cmocka_unit_test(test_tree_keeps_stats),
        cmocka_unit_test(test_quota_check),
        cmocka_unit_test(test_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
