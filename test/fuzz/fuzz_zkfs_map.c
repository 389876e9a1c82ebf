/*
 * fuzz_zkfs_map.c — zkfs's mapping between znode names and file names
 * (zkfs/map.c): what a hostile server's child names and a user's file names
 * go through.
 *
 * Input: [len u16][a name][len u16][a path][rest: a Stat (68 bytes) and ACL
 * entries ([perms u32][len u8][scheme][len u8][id])...].
 *
 * Checked: `.zk/data` escaping round-trips for every name
 * (zkfs_child_for_data_name(zkfs_data_name_for_child(x)) == x, never the
 * reserved file); a name that zkfs_name_valid accepts is a valid path
 * component (zk_path_valid of "/" + name); child/parent/base name agree
 * (parent(child(p, n)) == p and base(child(p, n)) == n for valid n); inode
 * numbers are never 0 or 1; lock contender names (zkfs_lock_name_parse,
 * zkfs_count_lock_names) give a 10-digit sequence number; directory-ness
 * (zkfs_is_dir) and the xattr and permission formatting of any Stat and
 * ACL terminate and stay in range.
 */
#include <string.h>

#include "common.h"
#include "zk/path.h"
#include "../../zkfs/map.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    const uint8_t *np, *pp;
    size_t nlen = fz_chunk(&in, &np);
    size_t plen = fz_chunk(&in, &pp);
    char *name = g_strndup((const char *)np, nlen);   /* stops at a NUL, as a C name would */
    char *path = g_strndup((const char *)pp, plen);

    /* escaping */
    char *escaped = zkfs_data_name_for_child(name);
    bool is_data = true;
    char *back = zkfs_child_for_data_name(escaped, &is_data);
    FZ_CHECK(back && strcmp(back, name) == 0 && !is_data, "escaping '%s' -> '%s' does not round-trip",
             name, escaped);
    g_free(back);
    g_free(escaped);
    bool df = false;
    char *child = zkfs_child_for_data_name(name, &df);
    if (child) {
        char *again = zkfs_data_name_for_child(child);
        FZ_CHECK(strcmp(again, name) == 0, "unescaping '%s' -> '%s' does not round-trip", name, child);
        g_free(again);
        g_free(child);
    }

    /* names and paths */
    if (zkfs_name_valid(name)) {
        char *full = g_strconcat("/", name, NULL);
        FZ_CHECK(zk_path_valid(full, strlen(full)), "zkfs accepts '%s' but it is no path component", name);
        g_free(full);
    }
    if (path[0] == '/' && zk_path_valid(path, strlen(path)) && zkfs_name_valid(name)) {
        char *c = zkfs_child_path(path, name);
        char *parent = zkfs_parent_path(c);
        FZ_CHECK(strcmp(parent, path) == 0, "parent of '%s' is '%s', not '%s'", c, parent, path);
        FZ_CHECK(strcmp(zkfs_base_name(c), name) == 0, "base of '%s'", c);
        FZ_CHECK(zkfs_path_under(c, path), "'%s' is not under '%s'", c, path);
        g_free(parent);
        g_free(c);
    }
    if (path[0] == '/') {
        char *parent = zkfs_parent_path(path);
        FZ_CHECK(parent[0] == '/', "parent of '%s' is '%s'", path, parent);
        g_free(parent);
        (void)zkfs_base_name(path);
    }

    /* stat, inode, xattrs, permissions */
    zk_stat st;
    memset(&st, 0, sizeof st);
    const uint8_t *sp;
    size_t slen = fz_rest(&in, &sp);
    if (slen >= 68) {
        jute_reader r;
        jr_init(&r, sp, 68);
        zk_stat_read(&r, &st);
    }
    fz_input acl_in = { slen >= 68 ? sp + 68 : sp, slen >= 68 ? slen - 68 : slen };
    zkc_acl_entry acl[8];
    char *strs[16];
    size_t n_acl = 0, n_str = 0;
    while (fz_more(&acl_in) && n_acl < 8) {
        acl[n_acl].perms = (int32_t)fz_u32(&acl_in);
        size_t l1 = fz_u8(&acl_in);
        if (l1 > acl_in.n) l1 = acl_in.n;
        strs[n_str] = g_strndup((const char *)acl_in.p, l1);
        acl_in.p += l1; acl_in.n -= l1;
        acl[n_acl].scheme = strs[n_str++];
        size_t l2 = fz_u8(&acl_in);
        if (l2 > acl_in.n) l2 = acl_in.n;
        strs[n_str] = g_strndup((const char *)acl_in.p, l2);
        acl_in.p += l2; acl_in.n -= l2;
        acl[n_acl].id = strs[n_str++];
        n_acl++;
    }
    for (int v = 0; v < 8; v++) {
        uint64_t ino = zkfs_ino((zkfs_view)v, st.czxid, path);
        FZ_CHECK(ino > 1, "inode %llu", (unsigned long long)ino);
    }
    for (const char *const *x = zkfs_xattr_names(); *x; x++) {
        char *val = zkfs_xattr_stat_value(*x, &st);
        FZ_CHECK(!zkfs_xattr_is_stat(*x) || val, "no value for %s", *x);
        g_free(val);
    }
    char *aclv = zkfs_xattr_acl_value(acl, n_acl);
    g_free(aclv);
    char *digest = zkfs_digest_id(name);
    /* lock contenders (hidden from the main tree) */
    bool shared = false;
    int64_t seq = -1;
    if (zkfs_lock_name_parse(name, &shared, &seq))
        FZ_CHECK(seq >= 0 && seq <= 9999999999LL, "lock name '%s' gives sequence %lld", name, (long long)seq);
    GPtrArray *names = g_ptr_array_new();
    g_ptr_array_add(names, name);
    g_ptr_array_add(names, path);
    int32_t locks = zkfs_count_lock_names(names);
    FZ_CHECK(locks >= 0 && locks <= 2, "%d lock names of 2", (int)locks);
    g_ptr_array_free(names, TRUE);
    if (st.num_children > 0 && locks > st.num_children)
        locks = st.num_children;
    mode_t m = zkfs_mode_from_acl(acl, n_acl, zkfs_is_dir(&st, locks), digest);
    FZ_CHECK((m & ~0777u) == 0, "mode %o", (unsigned)m);
    uint32_t sum = zkfs_acl_summary(acl, n_acl, digest);
    FZ_CHECK((zkfs_mode_from_summary(sum, true) & ~0777u) == 0, "mode from summary");
    g_free(digest);
    char letters[6], zx[20], when[64];
    zkfs_perm_letters(n_acl ? acl[0].perms : 0, letters);
    zkfs_format_zxid(st.mzxid, zx);
    zkfs_format_time(st.mtime, when);
    (void)zkfs_errno((int)st.version);
    (void)zkfs_ctl_entry_view(name);
    for (size_t i = 0; i < n_str; i++)
        g_free(strs[i]);
    g_free(name);
    g_free(path);
    return 0;
}
