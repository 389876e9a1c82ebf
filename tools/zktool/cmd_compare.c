/*
 * cmd_compare.c — `zktool compare`: two databases (snapshot files, or data
 * directories loaded at a zxid; either kind) compared znode by znode and
 * session by session.
 */
#include "zktool.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "acl.h"
#include "apache_fmt.h"
#include "dbimage.h"

static char *opt_zxid, *opt_log_dir_a, *opt_log_dir_b;
static gboolean opt_ignore_sessions, opt_ignore_times;

static GOptionEntry compare_entries[] = {
    { "zxid", 'z', 0, G_OPTION_ARG_STRING, &opt_zxid,
      "compare the states at ZXID (the newest snapshot at or below it plus the log up to it)", "ZXID" },
    { "log-dir-a", 0, 0, G_OPTION_ARG_FILENAME, &opt_log_dir_a, "Apache dataLogDir of A", "DIR" },
    { "log-dir-b", 0, 0, G_OPTION_ARG_FILENAME, &opt_log_dir_b, "Apache dataLogDir of B", "DIR" },
    { "ignore-sessions", 0, 0, G_OPTION_ARG_NONE, &opt_ignore_sessions, "do not compare the session tables", NULL },
    { "ignore-times", 0, 0, G_OPTION_ARG_NONE, &opt_ignore_times, "do not compare ctime and mtime", NULL },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static dbimage *load(const char *label, const char *path, const char *log_dir, int64_t upto)
{
    data_source src;
    char *err = NULL;
    if (!data_source_resolve(path, log_dir, &src, &err)) {
        zt_error(&zt_cmd_compare, "%s", err);
        g_free(err);
        return NULL;
    }
    dbimage_opts o = { upto, false, zt_max_buffer() };
    dbimage *img = dbimage_load(&src, &o, &err);
    if (!img) {
        zt_error(&zt_cmd_compare, "%s", err);
        g_free(err);
    } else {
        for (guint i = 0; i < img->notes->len; i++)
            fprintf(stderr, "zktool compare: %s: %s\n", label, (const char *)g_ptr_array_index(img->notes, i));
        printf("%s: %s %s at zxid 0x%" PRIx64 " (snapshot 0x%" PRIx64 " + %" PRIu64 " transactions):"
               " %u znodes, %u sessions, digest %" PRId64 "\n",
               label, data_kind_name(img->kind), src.file ? src.file : src.snap_dir, (uint64_t)img->zxid,
               (uint64_t)img->snap_zxid, img->applied, tree_node_count(img->tree),
               g_hash_table_size(img->sessions.by_id), apache_tree_digest(img->tree));
    }
    data_source_clear(&src);
    return img;
}

/* "scheme:id:cdrwa,..." as zkCli shows permissions. */
static void acl_text(GString *out, const zk_acl_list *l)
{
    for (int i = 0; i < l->count; i++) {
        const zk_acl_entry *e = &l->items[i];
        int p = e->perms;
        g_string_append_printf(out, "%s%s:%s:%s%s%s%s%s", i ? "," : "", e->scheme, e->id,
                               p & ZK_PERM_CREATE ? "c" : "", p & ZK_PERM_DELETE ? "d" : "",
                               p & ZK_PERM_READ ? "r" : "", p & ZK_PERM_WRITE ? "w" : "",
                               p & ZK_PERM_ADMIN ? "a" : "");
    }
}

static int compare_nodes(const char *path, const zk_node *a, const zk_node *b)
{
    int diffs = 0;
#define FIELD(name, fmt, fa, fb)                                                          \
    if ((fa) != (fb)) {                                                                    \
        printf("%s: %s A " fmt " B " fmt "\n", path, name, fa, fb);                       \
        diffs++;                                                                           \
    }
    FIELD("czxid", "0x%" PRIx64, (uint64_t)a->czxid, (uint64_t)b->czxid);
    FIELD("mzxid", "0x%" PRIx64, (uint64_t)a->mzxid, (uint64_t)b->mzxid);
    FIELD("pzxid", "0x%" PRIx64, (uint64_t)a->pzxid, (uint64_t)b->pzxid);
    if (!opt_ignore_times) {
        FIELD("ctime", "%" PRId64, a->ctime, b->ctime);
        FIELD("mtime", "%" PRId64, a->mtime, b->mtime);
    }
    FIELD("version", "%d", (int)a->version, (int)b->version);
    FIELD("cversion", "%d", (int)a->cversion, (int)b->cversion);
    FIELD("aversion", "%d", (int)a->aversion, (int)b->aversion);
    FIELD("ephemeralOwner", "0x%" PRIx64, (uint64_t)a->ephemeral_owner, (uint64_t)b->ephemeral_owner);
#undef FIELD
    bool same_data = a->data_len == b->data_len &&
                     (a->data_len <= 0 || memcmp(a->data, b->data, (size_t)a->data_len) == 0);
    if (!same_data) {
        printf("%s: data differs (A %d bytes, B %d bytes)\n", path, (int)a->data_len, (int)b->data_len);
        diffs++;
    }
    GString *ta = g_string_new(NULL), *tb = g_string_new(NULL);
    acl_text(ta, a->acl);
    acl_text(tb, b->acl);
    if (strcmp(ta->str, tb->str) != 0) {
        printf("%s: acl A %s B %s\n", path, ta->str, tb->str);
        diffs++;
    }
    g_string_free(ta, TRUE);
    g_string_free(tb, TRUE);
    return diffs;
}

static gint str_cmp(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int compare_trees(const zk_tree *a, const zk_tree *b)
{
    GHashTable *all = g_hash_table_new(g_str_hash, g_str_equal);
    const zk_tree *trees[] = { a, b };
    for (int i = 0; i < 2; i++) {
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, trees[i]->nodes);
        while (g_hash_table_iter_next(&it, &k, &v))
            if (((const char *)k)[0])
                g_hash_table_add(all, k);
    }
    GPtrArray *paths = g_ptr_array_new();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, all);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_ptr_array_add(paths, k);
    g_ptr_array_sort(paths, str_cmp);
    int diffs = 0;
    for (guint i = 0; i < paths->len; i++) {
        const char *p = g_ptr_array_index(paths, i);
        const zk_node *na = tree_get(a, p), *nb = tree_get(b, p);
        if (!nb) {
            printf("only in A: %s\n", p);
            diffs++;
        } else if (!na) {
            printf("only in B: %s\n", p);
            diffs++;
        } else {
            diffs += compare_nodes(p, na, nb);
        }
    }
    g_ptr_array_free(paths, TRUE);
    g_hash_table_destroy(all);
    return diffs;
}

static int compare_sessions(const dbimage *a, const dbimage *b)
{
    GArray *sa = dbimage_sessions(a), *sb = dbimage_sessions(b);
    int diffs = 0;
    guint i = 0, j = 0;
    while (i < sa->len || j < sb->len) {
        const snap_session *x = i < sa->len ? &g_array_index(sa, snap_session, i) : NULL;
        const snap_session *y = j < sb->len ? &g_array_index(sb, snap_session, j) : NULL;
        if (x && (!y || x->id < y->id)) {
            printf("session 0x%" PRIx64 ": only in A (timeout %d)\n", (uint64_t)x->id, (int)x->timeout);
            i++;
            diffs++;
        } else if (y && (!x || y->id < x->id)) {
            printf("session 0x%" PRIx64 ": only in B (timeout %d)\n", (uint64_t)y->id, (int)y->timeout);
            j++;
            diffs++;
        } else {
            if (x->timeout != y->timeout) {
                printf("session 0x%" PRIx64 ": timeout A %d B %d\n", (uint64_t)x->id, (int)x->timeout,
                       (int)y->timeout);
                diffs++;
            }
            i++;
            j++;
        }
    }
    g_array_free(sa, TRUE);
    g_array_free(sb, TRUE);
    return diffs;
}

static int run_compare(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_compare, compare_entries, &argc, &argv, 2, 2))
        return ZT_ERROR;
    int64_t upto = INT64_MAX;
    if (opt_zxid && !zt_parse_zxid(opt_zxid, &upto)) {
        zt_error(&zt_cmd_compare, "bad zxid '%s' (0x-hex or decimal)", opt_zxid);
        return ZT_ERROR;
    }
    dbimage *a = load("A", argv[1], opt_log_dir_a, upto);
    dbimage *b = a ? load("B", argv[2], opt_log_dir_b, upto) : NULL;
    if (!a || !b) {
        dbimage_free(a);
        return ZT_ERROR;
    }
    fflush(stdout);
    int diffs = compare_trees(a->tree, b->tree);
    if (!opt_ignore_sessions)
        diffs += compare_sessions(a, b);
    if (diffs)
        printf("%d difference%s\n", diffs, diffs == 1 ? "" : "s");
    else
        printf("identical%s\n", a->zxid != b->zxid ? " (although the zxids differ)" : "");
    dbimage_free(a);
    dbimage_free(b);
    return diffs ? ZT_FOUND : ZT_OK;
}

const zt_command zt_cmd_compare = {
    "compare", "A B",
    "compare two databases (snapshots, or data directories at a zxid)",
    "A and B are snapshot files or data directories, zkserver's or Apache ZooKeeper's in\n"
    "any mix.  A directory is loaded as its server would load it: the newest valid\n"
    "snapshot, then the log (with --zxid, the state at that zxid).  Prints every znode\n"
    "only one side has, every stat field, data or ACL that differs, and every session\n"
    "that differs, in path order.\n"
    "Exit status: 0 identical, 1 different, 2 an error.\n",
    run_compare,
};
