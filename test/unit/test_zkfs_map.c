/*
 * test_zkfs_map.c — unit tests of zkfs's pure parts: the mapping
 * (zkfs/map.c), the watch-coherent cache (zkfs/cache.c) and the inode
 * table (zkfs/inode.c).  No server, no FUSE.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "../../zkfs/cache.h"
#include "../../zkfs/inode.h"
#include "../../zkfs/map.h"

static zk_stat make_stat(int32_t data_length, int32_t num_children, int64_t owner)
{
    zk_stat st;
    memset(&st, 0, sizeof st);
    st.data_length = data_length;
    st.num_children = num_children;
    st.ephemeral_owner = owner;
    st.czxid = 5;
    return st;
}

static void test_is_dir(void **state)
{
    (void)state;
    zk_stat st = make_stat(0, 0, 0);
    assert_true(zkfs_is_dir(&st, 0));         /* persistent, empty, never set: directory */
    st.version = 1;
    assert_false(zkfs_is_dir(&st, 0));        /* empty but its data was set: file */
    st = make_stat(3, 0, 0);
    assert_false(zkfs_is_dir(&st, 0));        /* childless with data: file */
    st = make_stat(3, 2, 0);
    assert_true(zkfs_is_dir(&st, 0));         /* children: directory */
    assert_true(zkfs_is_dir(&st, 1));         /* one real child is enough */
    assert_false(zkfs_is_dir(&st, 2));        /* only lock contenders: still a file */
    st = make_stat(0, 0, 0x1234);
    assert_false(zkfs_is_dir(&st, 0));        /* ephemeral, even empty: file */
    st = make_stat(0, 1, 0);
    assert_true(zkfs_is_dir(&st, 0));
    assert_true(zkfs_is_dir(&st, 1));         /* never written, only a lock: directory */
}

static void test_lock_names(void **state)
{
    (void)state;
    bool shared = true;
    int64_t seq = 0;
    assert_true(zkfs_lock_name_parse("0f3a9c__lock__0000000012", &shared, &seq));
    assert_false(shared);
    assert_int_equal(seq, 12);
    assert_true(zkfs_lock_name_parse("ab__rlock__0000000007", &shared, &seq));
    assert_true(shared);
    assert_int_equal(seq, 7);
    assert_true(zkfs_lock_name_parse("_c_1b2-lock-0000000003", &shared, &seq));
    assert_false(shared);
    assert_int_equal(seq, 3);
    /* zkfs's own name: kazoo's marker last, Curator's before it. */
    assert_true(zkfs_lock_name_parse("zkfs-1a-lock-0000000005__lock__0000000005", NULL, &seq));
    assert_int_equal(seq, 5);
    assert_false(zkfs_lock_name_parse("lock", NULL, NULL));
    assert_false(zkfs_lock_name_parse("x__lock__123", NULL, NULL));
    assert_false(zkfs_lock_name_parse("x__lock__00000000012", NULL, NULL));
    assert_false(zkfs_lock_name_parse("config", NULL, NULL));
    GPtrArray *names = g_ptr_array_new();
    g_ptr_array_add(names, "a__lock__0000000001");
    g_ptr_array_add(names, "conf");
    assert_int_equal(zkfs_count_lock_names(names), 1);
    g_ptr_array_unref(names);
}

static void test_acl_parse(void **state)
{
    (void)state;
    const char *v = "world:anyone:r,digest:bob:MoL+QsM2MtdMFGwNB2OjbuqiCTk=:cdrwa\n";
    zkc_acl *acl = zkfs_acl_parse(v, strlen(v));
    assert_non_null(acl);
    assert_int_equal(acl->count, 2);
    assert_string_equal(acl->entries[0].scheme, "world");
    assert_string_equal(acl->entries[0].id, "anyone");
    assert_int_equal(acl->entries[0].perms, ZK_PERM_READ);
    assert_string_equal(acl->entries[1].scheme, "digest");
    assert_string_equal(acl->entries[1].id, "bob:MoL+QsM2MtdMFGwNB2OjbuqiCTk=");
    assert_int_equal(acl->entries[1].perms, ZK_PERM_ALL);
    /* What getfattr prints parses back to the same value. */
    char *printed = zkfs_xattr_acl_value(acl->entries, acl->count);
    zkc_acl *again = zkfs_acl_parse(printed, strlen(printed));
    assert_non_null(again);
    char *printed2 = zkfs_xattr_acl_value(again->entries, again->count);
    assert_string_equal(printed, printed2);
    g_free(printed);
    g_free(printed2);
    g_free(again);
    g_free(acl);
    const char *bad[] = { "", "world:anyone", "world:anyone:x", ":anyone:r", "world:anyone:",
                          "nonsense", NULL };
    for (const char **b = bad; *b; b++)
        assert_null(zkfs_acl_parse(*b, strlen(*b)));
}

static void test_paths(void **state)
{
    (void)state;
    char *p = zkfs_child_path("/", "a");
    assert_string_equal(p, "/a");
    g_free(p);
    p = zkfs_child_path("/a", "b");
    assert_string_equal(p, "/a/b");
    g_free(p);
    p = zkfs_parent_path("/a/b");
    assert_string_equal(p, "/a");
    g_free(p);
    p = zkfs_parent_path("/a");
    assert_string_equal(p, "/");
    g_free(p);
    p = zkfs_parent_path("/");
    assert_string_equal(p, "/");
    g_free(p);
    assert_string_equal(zkfs_base_name("/a/b"), "b");
    assert_string_equal(zkfs_base_name("/"), "");
    assert_true(zkfs_path_under("/a/b", "/a"));
    assert_true(zkfs_path_under("/a", "/a"));
    assert_false(zkfs_path_under("/ab", "/a"));
    assert_true(zkfs_path_under("/x", "/"));
}

static void test_names(void **state)
{
    (void)state;
    assert_true(zkfs_name_valid("conf"));
    assert_true(zkfs_name_valid("..."));
    assert_true(zkfs_name_valid("@x"));
    assert_false(zkfs_name_valid("."));
    assert_false(zkfs_name_valid(".."));
    assert_false(zkfs_name_valid(""));
    assert_false(zkfs_name_valid("a/b"));
    assert_false(zkfs_name_valid("bad\001name"));
    assert_false(zkfs_name_valid("\xef\xa3\xbf"));   /* U+F8FF, forbidden */
}

static void test_data_escaping(void **state)
{
    (void)state;
    const char *children[] = { "conf", "@data", "@@x", "@", "a@b" };
    for (size_t i = 0; i < G_N_ELEMENTS(children); i++) {
        char *shown = zkfs_data_name_for_child(children[i]);
        bool is_data = true;
        char *back = zkfs_child_for_data_name(shown, &is_data);
        assert_non_null(back);
        assert_false(is_data);
        assert_string_equal(back, children[i]);   /* a bijection */
        assert_string_not_equal(shown, ZKFS_DATA_FILE_NAME);
        g_free(shown);
        g_free(back);
    }
    bool is_data = false;
    assert_null(zkfs_child_for_data_name("@data", &is_data));
    assert_true(is_data);
    assert_null(zkfs_child_for_data_name("@other", &is_data));
    assert_false(is_data);
}

static void test_errno(void **state)
{
    (void)state;
    assert_int_equal(zkfs_errno(ZOK), 0);
    assert_int_equal(zkfs_errno(ZNONODE), ENOENT);
    assert_int_equal(zkfs_errno(ZNODEEXISTS), EEXIST);
    assert_int_equal(zkfs_errno(ZNOTEMPTY), ENOTEMPTY);
    assert_int_equal(zkfs_errno(ZNOAUTH), EACCES);
    assert_int_equal(zkfs_errno(ZQUOTAEXCEEDED), EDQUOT);
    assert_int_equal(zkfs_errno(ZBADVERSION), ESTALE);
    assert_int_equal(zkfs_errno(ZNOCHILDRENFOREPHEMERALS), ENOTDIR);
    assert_int_equal(zkfs_errno(ZBADARGUMENTS), EINVAL);
    assert_int_equal(zkfs_errno(ZCONNECTIONLOSS), EIO);
    assert_int_equal(zkfs_errno(ZOPERATIONTIMEOUT), EIO);
    assert_int_equal(zkfs_errno(ZSESSIONEXPIRED), EIO);
}

static void test_ino(void **state)
{
    (void)state;
    uint64_t a = zkfs_ino(ZKFS_VIEW_MAIN, 0x100000002LL, "/a");
    assert_int_equal(a, zkfs_ino(ZKFS_VIEW_MAIN, 0x100000002LL, "/a"));   /* stable */
    assert_int_not_equal(a, zkfs_ino(ZKFS_VIEW_MAIN, 0x100000002LL, "/b")); /* same multi */
    assert_int_not_equal(a, zkfs_ino(ZKFS_VIEW_MAIN, 0x100000003LL, "/a")); /* recreated */
    assert_int_not_equal(a, zkfs_ino(ZKFS_VIEW_DATA, 0x100000002LL, "/a"));
    assert_int_equal(zkfs_ino(ZKFS_VIEW_DATA, 7, "/a") >> 61, ZKFS_VIEW_DATA);
    assert_true(zkfs_ino(ZKFS_VIEW_MAIN, 0, "/") >= 2);
}

static void test_acl_modes(void **state)
{
    (void)state;
    zkc_acl_entry open_all[] = { { ZK_PERM_ALL, "world", "anyone" } };
    assert_int_equal(zkfs_mode_from_acl(open_all, 1, false, NULL), 0666);
    assert_int_equal(zkfs_mode_from_acl(open_all, 1, true, NULL), 0777);
    zkc_acl_entry read_only[] = { { ZK_PERM_READ, "world", "anyone" } };
    assert_int_equal(zkfs_mode_from_acl(read_only, 1, false, NULL), 0444);
    assert_int_equal(zkfs_mode_from_acl(read_only, 1, true, NULL), 0555);
    char *me = zkfs_digest_id("bob:secret");
    assert_non_null(me);
    /* ZooKeeper's DigestAuthenticationProvider.generateDigest("bob:secret"). */
    assert_true(g_str_has_prefix(me, "bob:"));
    assert_int_equal(strlen(me), 4 + 28);
    zkc_acl_entry mine[] = { { ZK_PERM_ALL, "digest", me }, { ZK_PERM_READ, "world", "anyone" } };
    assert_int_equal(zkfs_mode_from_acl(mine, 2, false, me), 0644);
    assert_int_equal(zkfs_mode_from_acl(mine, 2, false, NULL), 0444);
    assert_int_equal(zkfs_mode_from_acl(mine, 2, true, me), 0755);
    g_free(me);
    assert_null(zkfs_digest_id("nocolon"));
    char *known = zkfs_digest_id("super:test");
    /* The digest the ZooKeeper docs give for super:test. */
    assert_string_equal(known, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    g_free(known);
}

static void test_xattr_values(void **state)
{
    (void)state;
    zk_stat st = make_stat(11, 0, 0);
    st.czxid = 0x1a;
    st.mzxid = 0x100000002LL;
    st.pzxid = 0;
    st.version = 3;
    st.ephemeral_owner = 0x1a2035722250003LL;
    char *v = zkfs_xattr_stat_value("user.zk.czxid", &st);
    assert_string_equal(v, "0x1a");
    g_free(v);
    v = zkfs_xattr_stat_value("user.zk.mzxid", &st);
    assert_string_equal(v, "0x100000002");
    g_free(v);
    v = zkfs_xattr_stat_value("user.zk.pzxid", &st);
    assert_string_equal(v, "0x0");
    g_free(v);
    v = zkfs_xattr_stat_value("user.zk.version", &st);
    assert_string_equal(v, "3");
    g_free(v);
    v = zkfs_xattr_stat_value("user.zk.ephemeralOwner", &st);
    assert_string_equal(v, "0x1a2035722250003");
    g_free(v);
    v = zkfs_xattr_stat_value("user.zk.dataLength", &st);
    assert_string_equal(v, "11");
    g_free(v);
    assert_null(zkfs_xattr_stat_value("user.zk.nope", &st));
    assert_true(zkfs_xattr_is_stat("user.zk.numChildren"));
    assert_false(zkfs_xattr_is_stat("user.zk.acl"));
    size_t n = 0;
    for (const char *const *p = zkfs_xattr_names(); *p; p++)
        n++;
    assert_int_equal(n, 13);
    zkc_acl_entry acl[] = { { ZK_PERM_ALL, "world", "anyone" }, { ZK_PERM_READ | ZK_PERM_WRITE, "ip", "10.0.0.1" } };
    v = zkfs_xattr_acl_value(acl, 2);
    assert_string_equal(v, "world:anyone:cdrwa\nip:10.0.0.1:rw\n");
    g_free(v);
    char letters[6];
    zkfs_perm_letters(ZK_PERM_CREATE | ZK_PERM_ADMIN, letters);
    assert_string_equal(letters, "ca");
    setenv("TZ", "UTC", 1);
    char t[64];
    zkfs_format_time(1795782259000LL, t);
    assert_string_equal(t, "Fri Nov 27 12:24:19 UTC 2026");
}

static void test_ctl_entries(void **state)
{
    (void)state;
    assert_int_equal(zkfs_ctl_entry_view("data"), ZKFS_VIEW_DATA);
    assert_int_equal(zkfs_ctl_entry_view("ephemeral"), ZKFS_VIEW_EPH);
    assert_int_equal(zkfs_ctl_entry_view("sequential"), ZKFS_VIEW_SEQ);
    assert_int_equal(zkfs_ctl_entry_view("ephemeral-sequential"), ZKFS_VIEW_EPHSEQ);
    assert_int_equal(zkfs_ctl_entry_view("other"), -1);
    assert_int_equal(zkfs_view_create_mode(ZKFS_VIEW_EPHSEQ), ZK_CREATE_EPHEMERAL_SEQUENTIAL);
    assert_int_equal(zkfs_view_create_mode(ZKFS_VIEW_MAIN), -1);
}

static void test_cache_coherence(void **state)
{
    (void)state;
    zkfs_cache *c = zkfs_cache_new(0, 0);
    zk_stat st = make_stat(3, 0, 0), gst;
    zkfs_attr at = { .st = st, .acl = 0x1f1f }, got;
    bool exists = false;
    assert_false(zkfs_cache_get_attr(c, "/a", &exists, &got));
    uint64_t t1 = zkfs_cache_ticket(c);
    zkfs_cache_put_attr(c, "/a", t1, true, &at);
    assert_true(zkfs_cache_get_attr(c, "/a", &exists, &got));
    assert_true(exists);
    assert_int_equal(got.acl, 0x1f1f);
    assert_int_equal(got.st.data_length, 3);
    at.acl = 0;

    /* A reply that was requested before an event must not be stored. */
    uint64_t t2 = zkfs_cache_ticket(c);
    zkfs_cache_apply_event(c, ZK_EVENT_DATA_CHANGED, "/a");
    assert_false(zkfs_cache_get_attr(c, "/a", &exists, &got));
    zkfs_cache_put_attr(c, "/a", t2, true, &at);
    assert_false(zkfs_cache_get_attr(c, "/a", &exists, &got));
    uint64_t t3 = zkfs_cache_ticket(c);
    zkfs_cache_put_attr(c, "/a", t3, true, &at);
    assert_true(zkfs_cache_get_attr(c, "/a", &exists, &got));

    /* Negative entries, invalidated by a creation. */
    uint64_t t4 = zkfs_cache_ticket(c);
    zkfs_cache_put_attr(c, "/a/new", t4, false, NULL);
    assert_true(zkfs_cache_get_attr(c, "/a/new", &exists, NULL));
    assert_false(exists);
    zkfs_cache_apply_event(c, ZK_EVENT_CREATED, "/a/new");
    assert_false(zkfs_cache_get_attr(c, "/a/new", &exists, NULL));
    /* ... which also invalidated the parent (numChildren changed). */
    assert_false(zkfs_cache_get_attr(c, "/a", &exists, NULL));

    /* Data and children. */
    uint64_t t5 = zkfs_cache_ticket(c);
    GBytes *data = g_bytes_new("xyz", 3);
    zkfs_cache_put_data(c, "/d", t5, data, &st);
    g_bytes_unref(data);
    GPtrArray *kids = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(kids, g_strdup("k1"));
    zkfs_cache_put_children(c, "/d", t5, kids);
    g_ptr_array_unref(kids);
    GBytes *out = NULL;
    assert_true(zkfs_cache_get_data(c, "/d", &out, &gst));
    assert_int_equal(g_bytes_get_size(out), 3);
    g_bytes_unref(out);
    GPtrArray *names = NULL;
    assert_true(zkfs_cache_get_children(c, "/d", &names));
    assert_int_equal(names->len, 1);
    assert_string_equal(g_ptr_array_index(names, 0), "k1");
    g_ptr_array_unref(names);
    zkfs_cache_apply_event(c, ZK_EVENT_DELETED, "/d/k1");
    assert_false(zkfs_cache_get_children(c, "/d", &names));

    /* Deleting a node forgets what is cached under it. */
    uint64_t t6 = zkfs_cache_ticket(c);
    zkfs_cache_put_attr(c, "/p/q/r", t6, true, &at);
    zkfs_cache_apply_event(c, ZK_EVENT_DELETED, "/p");
    assert_false(zkfs_cache_get_attr(c, "/p/q/r", &exists, NULL));

    /* clear refuses older tickets everywhere. */
    uint64_t t7 = zkfs_cache_ticket(c);
    zkfs_cache_clear(c);
    zkfs_cache_put_attr(c, "/z", t7, true, &at);
    assert_false(zkfs_cache_get_attr(c, "/z", &exists, NULL));
    zkfs_cache_stats stats;
    zkfs_cache_get_stats(c, &stats);
    assert_true(stats.refused_stores >= 2);
    zkfs_cache_free(c);
}

static void test_cache_data_limit(void **state)
{
    (void)state;
    zkfs_cache *c = zkfs_cache_new(0, 1000);
    zk_stat st = make_stat(400, 0, 0);
    GBytes *d = g_bytes_new_take(g_malloc0(400), 400);
    zkfs_cache_put_data(c, "/a", zkfs_cache_ticket(c), d, &st);
    zkfs_cache_put_data(c, "/b", zkfs_cache_ticket(c), d, &st);
    zkfs_cache_stats stats;
    zkfs_cache_get_stats(c, &stats);
    assert_int_equal(stats.data_bytes, 800);
    zkfs_cache_put_data(c, "/a", zkfs_cache_ticket(c), d, &st);   /* replaces: still 800 */
    zkfs_cache_get_stats(c, &stats);
    assert_int_equal(stats.data_bytes, 800);
    zkfs_cache_apply_event(c, ZK_EVENT_DATA_CHANGED, "/b");
    zkfs_cache_get_stats(c, &stats);
    assert_int_equal(stats.data_bytes, 400);
    zkfs_cache_put_data(c, "/c", zkfs_cache_ticket(c), d, &st);
    zkfs_cache_put_data(c, "/d", zkfs_cache_ticket(c), d, &st);   /* over 1000: cleared */
    zkfs_cache_get_stats(c, &stats);
    assert_true(stats.data_bytes <= 1000);
    GBytes *out = NULL;
    assert_false(zkfs_cache_get_data(c, "/a", &out, NULL));
    g_bytes_unref(d);
    zkfs_cache_free(c);
}

static void test_cache_limit(void **state)
{
    (void)state;
    zkfs_cache *c = zkfs_cache_new(10, 0);
    zkfs_attr at = { .st = make_stat(1, 0, 0) };
    for (int i = 0; i < 50; i++) {
        char path[32];
        snprintf(path, sizeof path, "/n%d", i);
        zkfs_cache_put_attr(c, path, zkfs_cache_ticket(c), true, &at);
    }
    zkfs_cache_stats stats;
    zkfs_cache_get_stats(c, &stats);
    assert_true(stats.entries <= 10);
    zkfs_cache_free(c);
}

static void test_inodes(void **state)
{
    (void)state;
    zkfs_inodes *t = zkfs_inodes_new();
    zkfs_inode_info info;
    assert_true(zkfs_inodes_info(t, 1, &info));
    assert_string_equal(info.path, "/");
    assert_true(info.is_dir);
    zkfs_inode_info_clear(&info);

    uint64_t a = zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/a", 10, false, false, 1);
    assert_true(a >= 2);
    assert_int_equal(zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/a", 10, false, false, 1), a);
    /* Another life of the name (recreated, or now a directory): new inode. */
    uint64_t a2 = zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/a", 10, true, false, 1);
    assert_int_not_equal(a2, a);
    assert_int_equal(zkfs_inodes_find(t, ZKFS_VIEW_MAIN, "/a"), a2);
    assert_true(zkfs_inodes_info(t, a, &info));   /* the old one lives until forgotten */
    zkfs_inode_info_clear(&info);
    zkfs_inodes_forget(t, a, 2);
    assert_false(zkfs_inodes_info(t, a, &info));
    /* Views are separate. */
    uint64_t d = zkfs_inodes_get(t, ZKFS_VIEW_DATA, "/a", 10, true, false, 1);
    assert_int_not_equal(d, a2);

    /* Pending files and their commit. */
    uint64_t p = zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/new", 0, false, true, 1);
    assert_int_equal(zkfs_inodes_find_pending(t, "/new"), p);
    zkfs_inodes_commit(t, p, 77, false);
    assert_int_equal(zkfs_inodes_find_pending(t, "/new"), 0);
    assert_int_equal(zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/new", 77, false, false, 1), p);

    /* Rename moves the subtree's inodes. */
    uint64_t s = zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/src", 20, true, false, 1);
    uint64_t sf = zkfs_inodes_get(t, ZKFS_VIEW_MAIN, "/src/f", 21, false, false, 1);
    zkfs_inodes_rename(t, "/src", "/dst", 30);
    assert_int_equal(zkfs_inodes_find(t, ZKFS_VIEW_MAIN, "/dst"), s);
    assert_int_equal(zkfs_inodes_find(t, ZKFS_VIEW_MAIN, "/dst/f"), sf);
    assert_int_equal(zkfs_inodes_find(t, ZKFS_VIEW_MAIN, "/src"), 0);
    assert_true(zkfs_inodes_info(t, s, &info));
    assert_int_equal(info.czxid, 30);
    zkfs_inode_info_clear(&info);

    /* Created-file inodes are never shared. */
    uint64_t c1 = zkfs_inodes_get(t, ZKFS_VIEW_CREATED, "/e", 40, false, false, 1);
    uint64_t c2 = zkfs_inodes_get(t, ZKFS_VIEW_CREATED, "/e", 40, false, false, 1);
    assert_int_not_equal(c1, c2);

    /* The root is never forgotten. */
    zkfs_inodes_forget(t, 1, 100);
    assert_true(zkfs_inodes_info(t, 1, &info));
    zkfs_inode_info_clear(&info);
    GArray *all = zkfs_inodes_all(t);
    assert_true(all->len >= 4);
    g_array_free(all, TRUE);
    zkfs_inodes_detach(t, sf);
    assert_int_equal(zkfs_inodes_find(t, ZKFS_VIEW_MAIN, "/dst/f"), 0);
    zkfs_inodes_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_is_dir),
        cmocka_unit_test(test_lock_names),
        cmocka_unit_test(test_acl_parse),
        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_data_escaping),
        cmocka_unit_test(test_errno),
        cmocka_unit_test(test_ino),
        cmocka_unit_test(test_acl_modes),
        cmocka_unit_test(test_xattr_values),
        cmocka_unit_test(test_ctl_entries),
        cmocka_unit_test(test_cache_coherence),
        cmocka_unit_test(test_cache_limit),
        cmocka_unit_test(test_cache_data_limit),
        cmocka_unit_test(test_inodes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
