/*
 * cmd_dump.c — `zktool log` (a transaction log as Apache's TxnLogToolkit
 * or LogFormatter prints it) and `zktool snapshot` (a snapshot as
 * SnapshotFormatter prints it, or a summary), for files of both kinds.
 */
#include "zktool.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "apache_dir.h"
#include "apache_fmt.h"
#include "checksum.h"
#include "dbimage.h"
#include "files.h"
#include "snapbody.h"
#include "snapfile.h"
#include "snapfmt.h"
#include "txnfmt.h"
#include "txnlog.h"

#define ZK_LOG_MAGIC 0x5A4B544Cu   /* "ZKTL" */

/* ---- zktool log -------------------------------------------------------- */

static char *opt_format = NULL;

typedef struct log_printer {
    bool logformatter;
    GString *out;
    const char *only;       /* print only this file (basename), or NULL */
    char *current;          /* file whose header was printed */
    uint64_t count;         /* records printed of the current file */
    int status;
} log_printer;

static void print_header(log_printer *p, const char *path, int64_t dbid, int version)
{
    g_free(p->current);
    p->current = g_strdup(path);
    p->count = 0;
    g_string_append_printf(p->out, "ZooKeeper Transactional Log File with dbid %" PRId64
                                   " txnlog format version %d\n", dbid, version);
}

static void print_record(log_printer *p, const txn_view *t, const char *prefix)
{
    if (p->logformatter)
        txnfmt_logformatter_line(p->out, t);
    else
        txnfmt_toolkit_line(p->out, t, prefix);
}

static void print_eof(log_printer *p)
{
    g_string_append_printf(p->out, "EOF reached after %" PRIu64 " txns.\n", p->count);
    zt_print(p->out);
    g_string_truncate(p->out, 0);
}

static bool wanted(const log_printer *p, const char *path)
{
    if (!p->only)
        return true;
    char *b = g_path_get_basename(path);
    bool yes = strcmp(b, p->only) == 0;
    g_free(b);
    return yes;
}

static int64_t zk_dbid(const char *path)
{
    uint8_t h[16] = { 0 };
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, h, sizeof h) != (ssize_t)sizeof h)
            memset(h, 0, sizeof h);
        close(fd);
    }
    return (int64_t)zk_be64(h + 8);
}

static int zk_log_record(void *ctx, const char *path, uint64_t offset, int64_t zxid, const uint8_t *data,
                         size_t len)
{
    log_printer *p = ctx;
    if (!wanted(p, path))
        return 0;
    if (!p->current || strcmp(p->current, path) != 0)
        print_header(p, path, zk_dbid(path), 1);
    txn_view t;
    const char *why = txnfmt_parse(data, len, &t);
    if (why) {
        zt_print(p->out);
        g_string_truncate(p->out, 0);
        fprintf(stderr, "zktool log: %s: record 0x%" PRIx64 " at offset %" PRIu64 ": %s\n", path,
                (uint64_t)zxid, offset, why);
        p->status = ZT_FOUND;
        return 0;
    }
    print_record(p, &t, NULL);
    p->count++;
    return 0;
}

static void zk_log_file(void *ctx, const txnlog_file_info *f)
{
    log_printer *p = ctx;
    if (!wanted(p, f->path))
        return;
    if (!p->current || strcmp(p->current, f->path) != 0) {
        if (f->data_end == 0 && f->problem) {
            fprintf(stderr, "zktool log: %s: %s\n", f->path, f->problem);
            p->status = ZT_FOUND;
            return;
        }
        print_header(p, f->path, zk_dbid(f->path), 1);
    }
    print_eof(p);
    if (f->problem) {
        fprintf(stderr, "zktool log: %s: %s at offset %" PRIu64 "\n", f->path, f->problem,
                f->problem_offset);
        p->status = ZT_FOUND;
    }
}

static int dump_zk_logs(log_printer *p, const char *dir)
{
    char *err = NULL;
    int n = txnlog_inspect(dir, zk_log_record, zk_log_file, p, &err);
    if (n < 0) {
        zt_error(&zt_cmd_log, "%s", err);
        g_free(err);
        return ZT_ERROR;
    }
    return p->status;
}

/* One Apache log file, as TxnLogToolkit.dump reads it. */
static int dump_apache_log(log_printer *p, const char *path)
{
    const uint8_t *buf;
    size_t len;
    char *err = NULL;
    GMappedFile *mf = zt_map_file(path, &buf, &len, &err);
    if (!mf) {
        zt_error(&zt_cmd_log, "%s", err);
        g_free(err);
        return ZT_ERROR;
    }
    apache_file_header h;
    int status = ZT_OK;
    if (!apache_header_read(buf, len, &h) || h.magic != APACHE_LOG_MAGIC) {
        zt_error(&zt_cmd_log, "Invalid magic number for %s", path);
        g_mapped_file_unref(mf);
        return ZT_ERROR;
    }
    print_header(p, path, h.dbid, h.version);
    apache_log_reader r;
    apache_log_reader_init(&r, buf, len, zt_max_buffer());
    for (;;) {
        apache_log_record rec;
        apache_log_status st = apache_log_next(&r, &rec);
        if (st == APACHE_LOG_END || st == APACHE_LOG_TORN) {
            print_eof(p);
            if (st == APACHE_LOG_TORN) {
                fprintf(stderr, "zktool log: %s: torn record at offset %" PRIu64 "\n", path, rec.offset);
                status = ZT_FOUND;
            }
            break;
        }
        if (st == APACHE_LOG_BAD_LENGTH) {
            zt_print(p->out);
            g_string_truncate(p->out, 0);
            fprintf(stderr, "zktool log: %s: unreasonable record length %d at offset %" PRIu64 "\n", path,
                    rec.bad_length, rec.offset);
            status = ZT_FOUND;
            break;
        }
        txn_view t;
        const char *why = txnfmt_parse(rec.data, rec.len, &t);
        if (why) {
            zt_print(p->out);
            g_string_truncate(p->out, 0);
            fprintf(stderr, "zktool log: %s: record at offset %" PRIu64 ": %s\n", path, rec.offset, why);
            status = ZT_FOUND;
            break;
        }
        if (!rec.checksum_ok) {
            status = ZT_FOUND;
            if (p->logformatter) {
                zt_print(p->out);
                g_string_truncate(p->out, 0);
                fprintf(stderr, "zktool log: %s: CRC doesn't match %" PRId64 " vs %u (record at offset %"
                        PRIu64 ")\n", path, rec.checksum, zt_adler32(1, rec.data, rec.len), rec.offset);
                break;
            }
            print_record(p, &t, "CRC ERROR");
        }
        print_record(p, &t, NULL);
        if (st == APACHE_LOG_BAD_EOR) {
            zt_print(p->out);
            g_string_truncate(p->out, 0);
            fprintf(stderr, "zktool log: %s: Last transaction was partial (no 'B' after the record at"
                            " offset %" PRIu64 ").\n", path, rec.offset);
            status = ZT_FOUND;
            break;
        }
        p->count++;
    }
    g_mapped_file_unref(mf);
    zt_print(p->out);
    g_string_truncate(p->out, 0);
    return status;
}

static int dump_path(log_printer *p, const char *path)
{
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        uint8_t h[4] = { 0 };
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, h, 4) : -1;
        if (fd >= 0)
            close(fd);
        if (n == 4 && zk_be32(h) == APACHE_LOG_MAGIC)
            return dump_apache_log(p, path);
        if (n == 4 && zk_be32(h) == ZK_LOG_MAGIC) {
            char *dir = g_path_get_dirname(path);
            char *base = g_path_get_basename(path);
            p->only = base;
            int rc = dump_zk_logs(p, dir);
            p->only = NULL;
            g_free(dir);
            g_free(base);
            return rc;
        }
        zt_error(&zt_cmd_log, "Invalid magic number for %s (not a zkserver or Apache txn log)", path);
        return ZT_ERROR;
    }
    data_source src;
    char *err = NULL;
    if (!data_source_resolve(path, NULL, &src, &err)) {
        zt_error(&zt_cmd_log, "%s", err);
        g_free(err);
        return ZT_ERROR;
    }
    int rc = ZT_OK;
    if (src.kind == DATA_ZKSERVER) {
        rc = dump_zk_logs(p, src.log_dir);
    } else {
        GArray *files = adir_list(src.log_dir, "log", true, &err);
        if (!files) {
            zt_error(&zt_cmd_log, "%s", err);
            g_free(err);
            rc = ZT_ERROR;
        }
        for (guint i = 0; files && i < files->len; i++) {
            int r = dump_apache_log(p, g_array_index(files, adir_file, i).path);
            if (r > rc)
                rc = r;
        }
        adir_list_free(files);
    }
    data_source_clear(&src);
    return rc;
}

static GOptionEntry log_entries[] = {
    { "format", 'f', 0, G_OPTION_ARG_STRING, &opt_format,
      "toolkit (TxnLogToolkit, the default) or logformatter (LogFormatter up to 3.6)", "FORMAT" },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static int run_log(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_log, log_entries, &argc, &argv, 1, 1000))
        return ZT_ERROR;
    log_printer p = { false, g_string_new(NULL), NULL, NULL, 0, ZT_OK };
    if (opt_format && strcmp(opt_format, "logformatter") == 0) {
        p.logformatter = true;
    } else if (opt_format && strcmp(opt_format, "toolkit") != 0) {
        zt_error(&zt_cmd_log, "unknown format '%s' (toolkit or logformatter)", opt_format);
        return ZT_ERROR;
    }
    int rc = ZT_OK;
    for (int i = 1; i < argc; i++) {
        int r = dump_path(&p, argv[i]);
        if (r > rc)
            rc = r;
    }
    zt_print(p.out);
    g_string_free(p.out, TRUE);
    g_free(p.current);
    return rc;
}

const zt_command zt_cmd_log = {
    "log", "LOGFILE|DATADIR...",
    "print a transaction log as Apache's TxnLogToolkit prints it",
    "Prints every transaction of a log file, or of all log files of a data directory in\n"
    "zxid order, zkserver's (zkfs-v1/log.*) or Apache ZooKeeper's (version-2/log.*), one\n"
    "line per transaction exactly as org.apache.zookeeper.server.persistence.TxnLogToolkit\n"
    "(zkTxnLogToolkit.sh) prints it; --format=logformatter prints the 3.5/3.6\n"
    "org.apache.zookeeper.server.LogFormatter lines (Record.toString of each txn).\n"
    "Dates are in the local time zone (TZ), as Java prints them.\n"
    "Exit status: 0 all records read, 1 a damaged or undecodable record, 2 an error.\n",
    run_log,
};

/* ---- zktool snapshot --------------------------------------------------- */

static gboolean opt_data, opt_json, opt_summary;

static GOptionEntry snapshot_entries[] = {
    { "data", 'd', 0, G_OPTION_ARG_NONE, &opt_data, "print each znode's data (Base64), as -d", NULL },
    { "json", 'j', 0, G_OPTION_ARG_NONE, &opt_json, "print the tree as JSON (ncdu), as -json", NULL },
    { "summary", 's', 0, G_OPTION_ARG_NONE, &opt_summary, "print counts, sizes and the digest", NULL },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

typedef struct newest_ctx {
    char *path;
} newest_ctx;

static void first_valid(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    (void)zxid;
    newest_ctx *n = ctx;
    if (n->path || is_tmp)
        return;
    snapshot_file f;
    char *err = NULL;
    if (snapshot_file_read(path, zt_max_buffer(), &f, &err))
        n->path = g_strdup(path);
    g_free(err);
    snapshot_file_clear(&f);
}

/* The newest snapshot of a data directory that reads cleanly (or NULL). */
static char *newest_snapshot(const data_source *src)
{
    newest_ctx n = { NULL };
    if (src->kind == DATA_ZKSERVER) {
        snapfile_list(src->snap_dir, first_valid, &n);
        return n.path;
    }
    char *err = NULL;
    GArray *files = adir_list(src->snap_dir, "snapshot", false, &err);
    g_free(err);
    for (guint i = 0; files && i < files->len && !n.path; i++) {
        const adir_file *f = &g_array_index(files, adir_file, i);
        first_valid(&n, f->path, f->zxid, false);
    }
    adir_list_free(files);
    return n.path;
}

static int run_snapshot(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_snapshot, snapshot_entries, &argc, &argv, 1, 1))
        return ZT_ERROR;
    if (opt_data + opt_json + opt_summary > 1) {
        zt_error(&zt_cmd_snapshot, "Cannot specify more than one of --data, --json and --summary");
        return ZT_ERROR;
    }
    char *path = NULL;
    char *err = NULL;
    if (g_file_test(argv[1], G_FILE_TEST_IS_DIR)) {
        data_source src;
        if (!data_source_resolve(argv[1], NULL, &src, &err)) {
            zt_error(&zt_cmd_snapshot, "%s", err);
            g_free(err);
            return ZT_ERROR;
        }
        path = newest_snapshot(&src);
        data_source_clear(&src);
        if (!path) {
            zt_error(&zt_cmd_snapshot, "%s: no valid snapshot", argv[1]);
            return ZT_ERROR;
        }
    } else {
        path = g_strdup(argv[1]);
    }
    snapshot_file f;
    if (!snapshot_file_read(path, zt_max_buffer(), &f, &err)) {
        zt_error(&zt_cmd_snapshot, "%s: %s", path, err);
        g_free(err);
        g_free(path);
        snapshot_file_clear(&f);
        return ZT_ERROR;
    }
    GArray *sessions = NULL;
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;
    zk_tree *t = snapbody_read(f.body->data, f.body->len, &sessions, &err);
    zk_extended_types_enabled = saved;
    int rc = ZT_OK;
    if (!t) {
        zt_error(&zt_cmd_snapshot, "%s: %s", path, err);
        g_free(err);
        rc = ZT_ERROR;
    } else {
        GString *out = g_string_new(NULL);
        if (opt_json)
            snapfmt_json(out, t, g_get_real_time() / 1000);
        else if (opt_summary)
            snapfmt_summary(out, t, sessions->len, f.zxid);
        else
            snapfmt_details(out, t, (const snap_session *)(void *)sessions->data, sessions->len,
                            f.name_zxid, opt_data);
        if (!zt_print(out))
            rc = ZT_ERROR;
        g_string_free(out, TRUE);
        tree_free(t);
        g_array_free(sessions, TRUE);
    }
    if (rc == ZT_OK && !f.seal_ok) {
        fprintf(stderr, "zktool snapshot: %s: checksum mismatch (stored %" PRId64 ", computed %u)\n", path,
                f.seal_stored, f.seal_computed);
        rc = ZT_FOUND;
    }
    snapshot_file_clear(&f);
    g_free(path);
    return rc;
}

const zt_command zt_cmd_snapshot = {
    "snapshot", "SNAPSHOT|DATADIR",
    "print a snapshot as Apache's SnapshotFormatter prints it",
    "Prints a snapshot file (zkserver's snapshot.<16 hex> or Apache's snapshot.<hex>), or\n"
    "the newest valid snapshot of a data directory, exactly as\n"
    "org.apache.zookeeper.server.SnapshotFormatter (zkSnapShotToolkit.sh) prints it:\n"
    "every znode's stat in tree order, the sessions, the last zxid.  -d adds the data,\n"
    "--json prints the ncdu JSON, --summary a few lines of counts.\n"
    "Exit status: 0 printed, 1 printed but the file's checksum is wrong, 2 an error.\n",
    run_snapshot,
};
