/*
 * cmd_convert.c — `zktool import` (an Apache ZooKeeper 3.8 dataDir into a
 * zkserver dataDir) and `zktool export` (back), through the in-memory
 * database of dbimage.c.
 */
#include "zktool.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "apache_fmt.h"
#include "dbimage.h"

static char *opt_log_dir;
static gboolean opt_no_log, opt_ignore_digest;

static void print_notes(const zt_command *cmd, const dbimage *img)
{
    for (guint i = 0; i < img->notes->len; i++)
        fprintf(stderr, "zktool %s: %s\n", cmd->name, (const char *)g_ptr_array_index(img->notes, i));
}

static dbimage *load_source(const zt_command *cmd, const char *path, const char *log_dir, data_kind want,
                            data_source *src)
{
    char *err = NULL;
    if (!data_source_resolve(path, log_dir, src, &err)) {
        zt_error(cmd, "%s", err);
        g_free(err);
        return NULL;
    }
    if (src->kind != want || src->file) {
        zt_error(cmd, "%s is not a%s %s data directory", path, want == DATA_APACHE ? "n" : "",
                 data_kind_name(want));
        return NULL;
    }
    dbimage_opts o = { INT64_MAX, !opt_no_log, zt_max_buffer() };
    dbimage *img = dbimage_load(src, &o, &err);
    if (!img) {
        zt_error(cmd, "%s", err);
        g_free(err);
        return NULL;
    }
    print_notes(cmd, img);
    return img;
}

static void print_state(const char *verb, const dbimage *img, const char *from, const char *to)
{
    guint ephemerals = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, img->tree->ephemerals);
    while (g_hash_table_iter_next(&it, &k, &v))
        ephemerals += ((const jset *)v)->size;
    printf("%s %s -> %s: zxid 0x%" PRIx64 " (snapshot 0x%" PRIx64 " + %" PRIu64 " transactions),"
           " %u znodes, %u sessions, %u ephemerals, %u log records\n",
           verb, from, to, (uint64_t)img->zxid, (uint64_t)img->snap_zxid, img->applied,
           tree_node_count(img->tree), g_hash_table_size(img->sessions.by_id), ephemerals,
           img->records->len);
}

/* ---- zktool import ----------------------------------------------------- */

static GOptionEntry import_entries[] = {
    { "log-dir", 'l', 0, G_OPTION_ARG_FILENAME, &opt_log_dir,
      "Apache's dataLogDir, when the logs are not in the dataDir", "DIR" },
    { "no-log", 0, 0, G_OPTION_ARG_NONE, &opt_no_log, "write only the snapshot, not the log history", NULL },
    { "ignore-digest", 0, 0, G_OPTION_ARG_NONE, &opt_ignore_digest,
      "import even if the tree digest differs from the one Apache recorded", NULL },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static int run_import(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_import, import_entries, &argc, &argv, 2, 2))
        return ZT_ERROR;
    data_source src;
    dbimage *img = load_source(&zt_cmd_import, argv[1], opt_log_dir, DATA_APACHE, &src);
    if (!img) {
        data_source_clear(&src);
        return ZT_ERROR;
    }
    int rc = ZT_OK;
    /* Apache records the digest of its tree with every transaction: the
     * state we rebuilt must be the one Apache had. */
    if (img->has_digest) {
        int64_t mine = apache_tree_digest(img->tree);
        if (mine != img->digest) {
            fprintf(stderr, "zktool import: the tree digest %" PRId64 " differs from %" PRId64
                            ", which Apache recorded at zxid 0x%" PRIx64 "\n",
                    mine, img->digest, (uint64_t)img->digest_zxid);
            if (!opt_ignore_digest)
                rc = ZT_ERROR;
        } else {
            printf("tree digest %" PRId64 " matches the one Apache recorded at zxid 0x%" PRIx64 "\n", mine,
                   (uint64_t)img->digest_zxid);
        }
    }
    char *err = NULL;
    if (rc == ZT_OK && dbimage_write_zkserver(img, argv[2], &err) < 0) {
        zt_error(&zt_cmd_import, "%s", err);
        g_free(err);
        rc = ZT_ERROR;
    }
    if (rc == ZT_OK)
        print_state("imported", img, src.snap_dir, argv[2]);
    dbimage_free(img);
    data_source_clear(&src);
    return rc;
}

const zt_command zt_cmd_import = {
    "import", "APACHE_DATADIR ZK_DATADIR",
    "convert an Apache ZooKeeper 3.8 dataDir into a zkserver dataDir",
    "Loads an Apache ZooKeeper data directory as Apache 3.8 starts from it (the newest\n"
    "valid snapshot.*, then the log.* after it), checks the result against the tree digest\n"
    "Apache recorded, and writes it as a zkserver database into ZK_DATADIR/zkfs-v1: a\n"
    "snapshot holding the whole state (the tree with every stat, ACLs, the sessions and\n"
    "their ephemerals) and a log holding the imported transactions, plus the epoch files\n"
    "and myid.  ZK_DATADIR may be the Apache dataDir itself.  Stop Apache first; point\n"
    "zkserver's dataDir at ZK_DATADIR.  Clients keep their sessions if they reconnect\n"
    "within their session timeout.\n"
    "Exit status: 0 imported, 2 an error (nothing usable was written).\n",
    run_import,
};

/* ---- zktool export ----------------------------------------------------- */

static GOptionEntry export_entries[] = {
    { "no-log", 0, 0, G_OPTION_ARG_NONE, &opt_no_log, "write only the snapshot, not the log history", NULL },
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static int run_export(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_export, export_entries, &argc, &argv, 2, 2))
        return ZT_ERROR;
    data_source src;
    dbimage *img = load_source(&zt_cmd_export, argv[1], NULL, DATA_ZKSERVER, &src);
    if (!img) {
        data_source_clear(&src);
        return ZT_ERROR;
    }
    int rc = ZT_OK;
    char *err = NULL;
    if (img->damaged) {
        zt_error(&zt_cmd_export, "%s is damaged (see above; zktool verify); repair it first", argv[1]);
        rc = ZT_ERROR;
    } else if (dbimage_write_apache(img, argv[2], &err) < 0) {
        zt_error(&zt_cmd_export, "%s", err);
        g_free(err);
        rc = ZT_ERROR;
    }
    if (rc == ZT_OK)
        print_state("exported", img, src.snap_dir, argv[2]);
    dbimage_free(img);
    data_source_clear(&src);
    return rc;
}

const zt_command zt_cmd_export = {
    "export", "ZK_DATADIR APACHE_DATADIR",
    "convert a zkserver dataDir into an Apache ZooKeeper 3.8 dataDir",
    "Loads a zkserver data directory as zkserver starts from it and writes it as Apache\n"
    "ZooKeeper 3.8's FileSnap/FileTxnLog files into APACHE_DATADIR/version-2: a snapshot\n"
    "of the whole state with its tree digest (Apache checks it when it loads the\n"
    "snapshot) and a log.* holding the logged transactions, plus the epoch files and\n"
    "myid.  Stop zkserver first.\n"
    "Exit status: 0 exported, 2 an error.\n",
    run_export,
};
