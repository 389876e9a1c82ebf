/*
 * cmd_check.c — `zktool verify` (every checksum of a data directory, the
 * last valid zxid, whether the server would start) and `zktool truncate`
 * (cut a damaged log tail, or roll back to a zxid, with a backup or as a
 * dry run), for zkserver's and Apache ZooKeeper's data directories.
 */
#include "zktool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apache_dir.h"
#include "dbimage.h"
#include "files.h"
#include "snapfile.h"
#include "txnlog.h"

static char *opt_log_dir;

/* ---- what a directory holds ------------------------------------------- */

/* One file's verdict. */
typedef struct file_check {
    char *path;
    bool is_log;
    int64_t zxid;            /* snapshot zxid, or the log's first record */
    int64_t last_zxid;       /* log: last good record */
    uint64_t records;
    char *problem;           /* NULL: fine */
    uint64_t offset;         /* where the problem starts */
    bool refused;            /* the server will not start because of it */
    bool damaged;            /* good data ends before the end of the file */
} file_check;

typedef struct dir_check {
    data_source src;
    GArray *files;           /* file_check, snapshots (newest first) then logs */
    int64_t snap_zxid;       /* newest valid snapshot, 0 if none */
    int64_t log_zxid;        /* last zxid of the good prefix of the log */
    bool log_broken;         /* the good prefix ended at a problem */
    const file_check *first_damage;  /* the first log problem that ends the good prefix */
} dir_check;

static void file_check_clear(gpointer p)
{
    file_check *f = p;
    g_free(f->path);
    g_free(f->problem);
}

static file_check *add_file(dir_check *d, const char *path, bool is_log)
{
    file_check f = { 0 };
    f.path = g_strdup(path);
    f.is_log = is_log;
    g_array_append_val(d->files, f);
    return &g_array_index(d->files, file_check, d->files->len - 1);
}

static void check_snapshot(dir_check *d, const char *path, bool is_tmp)
{
    file_check *f = add_file(d, path, false);
    if (is_tmp) {
        f->problem = g_strdup("unfinished snapshot (removed at start)");
        return;
    }
    snapshot_file s;
    char *err = NULL;
    if (!snapshot_file_read(path, zt_max_buffer(), &s, &err)) {
        f->problem = err;
    } else if (!s.seal_ok) {
        f->problem = g_strdup_printf("checksum mismatch (stored %" PRId64 ", computed %u)", s.seal_stored,
                                     s.seal_computed);
    } else if (s.has_digest && !s.digest_seal_ok) {
        f->problem = g_strdup("the checksum after the digest does not match");
    }
    f->zxid = s.zxid;
    if (!f->problem && s.zxid > d->snap_zxid)
        d->snap_zxid = s.zxid;
    snapshot_file_clear(&s);
}

static void zk_snap_cb(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    (void)zxid;
    check_snapshot(ctx, path, is_tmp);
}

/* After a log file's verdict: does the good prefix of the log end here? */
static void account_log(dir_check *d, file_check *f)
{
    if (d->log_broken)
        return;
    if (f->records)
        d->log_zxid = f->last_zxid;
    if (f->damaged) {
        d->log_broken = true;
        d->first_damage = f;   /* index stays valid: no more appends after the scan */
    }
}

static void zk_log_cb(void *ctx, const txnlog_file_info *i)
{
    dir_check *d = ctx;
    file_check *f = add_file(d, i->path, true);
    f->zxid = i->first_zxid;
    f->last_zxid = i->last_zxid;
    f->records = i->records;
    f->problem = i->problem ? g_strdup(i->problem) : NULL;
    f->offset = i->problem_offset;
    f->refused = i->refused;
    /* Damage ends the good data; an empty file or a bare header does not. */
    f->damaged = i->problem && (i->refused || i->records > 0);
}

static int check_dir(const char *path, dir_check *d)
{
    memset(d, 0, sizeof *d);
    d->files = g_array_new(FALSE, FALSE, sizeof(file_check));
    g_array_set_clear_func(d->files, file_check_clear);
    char *err = NULL;
    if (!data_source_resolve(path, opt_log_dir, &d->src, &err) || d->src.file) {
        if (!err)
            err = g_strdup_printf("%s is a file; name its data directory", path);
        fprintf(stderr, "zktool: %s\n", err);
        g_free(err);
        return ZT_ERROR;
    }
    if (d->src.kind == DATA_ZKSERVER) {
        snapfile_list(d->src.snap_dir, zk_snap_cb, d);
        if (txnlog_inspect(d->src.log_dir, NULL, zk_log_cb, d, &err) < 0) {
            fprintf(stderr, "zktool: %s\n", err);
            g_free(err);
            return ZT_ERROR;
        }
    } else {
        GArray *snaps = adir_list(d->src.snap_dir, "snapshot", false, &err);
        GArray *logs = snaps ? adir_list(d->src.log_dir, "log", true, &err) : NULL;
        if (!logs) {
            fprintf(stderr, "zktool: %s\n", err);
            g_free(err);
            adir_list_free(snaps);
            return ZT_ERROR;
        }
        for (guint i = 0; i < snaps->len; i++)
            check_snapshot(d, g_array_index(snaps, adir_file, i).path, false);
        for (guint i = 0; i < logs->len; i++) {
            const char *p = g_array_index(logs, adir_file, i).path;
            adir_log_scan s;
            if (!adir_scan_log(p, zt_max_buffer(), NULL, NULL, &s, &err)) {
                fprintf(stderr, "zktool: %s\n", err);
                g_free(err);
                err = NULL;
                continue;
            }
            file_check *f = add_file(d, p, true);
            f->zxid = s.records ? s.first_zxid : g_array_index(logs, adir_file, i).zxid;
            f->last_zxid = s.last_zxid;
            f->records = s.records;
            if (s.problem) {
                f->problem = g_strdup_printf("%s%s", s.problem,
                                             s.fatal ? " (Apache refuses to start)"
                                                     : " (Apache stops reading this file there)");
                f->offset = s.problem_offset;
                f->refused = s.fatal;
                /* A file too short for a header holds nothing; all else ends the data. */
                f->damaged = s.fatal || strcmp(s.problem, "shorter than a file header") != 0;
            }
        }
        adir_list_free(snaps);
        adir_list_free(logs);
    }
    for (guint i = 0; i < d->files->len; i++) {
        file_check *f = &g_array_index(d->files, file_check, i);
        if (f->is_log)
            account_log(d, f);
    }
    return ZT_OK;
}

static void dir_check_clear(dir_check *d)
{
    if (d->files)
        g_array_free(d->files, TRUE);
    data_source_clear(&d->src);
}

/* ---- zktool verify ----------------------------------------------------- */

static GOptionEntry verify_entries[] = {
    { "log-dir", 'l', 0, G_OPTION_ARG_FILENAME, &opt_log_dir,
      "Apache's dataLogDir, when the logs are not in the dataDir", "DIR" },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

static int run_verify(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_verify, verify_entries, &argc, &argv, 1, 1))
        return ZT_ERROR;
    dir_check d;
    int rc = check_dir(argv[1], &d);
    if (rc != ZT_OK) {
        dir_check_clear(&d);
        return rc;
    }
    const char *server = d.src.kind == DATA_APACHE ? "Apache ZooKeeper" : "zkserver";
    printf("%s data directory %s", data_kind_name(d.src.kind), d.src.snap_dir);
    if (strcmp(d.src.log_dir, d.src.snap_dir) != 0)
        printf(" (logs in %s)", d.src.log_dir);
    printf("\n");
    bool problems = false, refused = false;
    const char *refusal = NULL;
    for (guint i = 0; i < d.files->len; i++) {
        const file_check *f = &g_array_index(d.files, file_check, i);
        char *base = g_path_get_basename(f->path);
        if (f->is_log && f->records)
            printf("%s: %" PRIu64 " records, zxid 0x%" PRIx64 "..0x%" PRIx64, base, f->records,
                   (uint64_t)f->zxid, (uint64_t)f->last_zxid);
        else if (f->is_log)
            printf("%s: no records", base);
        else
            printf("%s: zxid 0x%" PRIx64, base, (uint64_t)f->zxid);
        if (f->problem) {
            printf(": %s at offset %" PRIu64 "\n", f->problem, f->offset);
            problems = true;
            if (f->refused && !refused) {
                refused = true;
                refusal = f->path;
            }
        } else {
            printf(": ok\n");
        }
        g_free(base);
    }
    int64_t last = d.snap_zxid > d.log_zxid ? d.snap_zxid : d.log_zxid;
    printf("last valid zxid: 0x%" PRIx64 " (newest valid snapshot 0x%" PRIx64 ", log up to 0x%" PRIx64 "%s)\n",
           (uint64_t)last, (uint64_t)d.snap_zxid, (uint64_t)d.log_zxid,
           d.log_broken ? ", then damage" : "");
    if (refused)
        printf("%s refuses to start because of %s (zktool truncate cuts the log there)\n", server, refusal);
    else if (problems)
        printf("%s starts (it repairs or ignores what is listed above)\n", server);
    else
        printf("clean\n");
    dir_check_clear(&d);
    return problems ? ZT_FOUND : ZT_OK;
}

const zt_command zt_cmd_verify = {
    "verify", "DATADIR",
    "check every checksum of a data directory and report the last valid zxid",
    "Checks every snapshot (header, length, checksum; Apache: the Adler-32 seals) and\n"
    "every log record (checksum, length, order; Apache: Adler-32 and the 'B' end byte)\n"
    "of a zkserver or Apache ZooKeeper data directory, changing nothing.  Prints one\n"
    "line per file, the last valid zxid (the newest valid snapshot or the end of the\n"
    "undamaged log, whichever is later) and whether the server would start.\n"
    "Exit status: 0 clean, 1 something is damaged (details on stdout), 2 an error.\n",
    run_verify,
};

/* ---- zktool truncate --------------------------------------------------- */

static gboolean opt_dry_run, opt_no_backup, opt_force;
static char *opt_backup, *opt_zxid;

static GOptionEntry truncate_entries[] = {
    { "dry-run", 'n', 0, G_OPTION_ARG_NONE, &opt_dry_run, "print what would be done, change nothing", NULL },
    { "backup", 'b', 0, G_OPTION_ARG_FILENAME, &opt_backup,
      "copy every file changed or removed into DIR first (default DATADIR/zktool-backup-TIME)", "DIR" },
    { "no-backup", 0, 0, G_OPTION_ARG_NONE, &opt_no_backup, "do not keep a copy", NULL },
    { "zxid", 'z', 0, G_OPTION_ARG_STRING, &opt_zxid,
      "roll back to ZXID: drop every later log record and snapshot", "ZXID" },
    { "log-dir", 'l', 0, G_OPTION_ARG_FILENAME, &opt_log_dir,
      "Apache's dataLogDir, when the logs are not in the dataDir", "DIR" },
    { "force", 0, 0, G_OPTION_ARG_NONE, &opt_force, "even if a server seems to be running", NULL },
    ZT_OPT_JUTE_MAXBUFFER,
    { NULL, 0, 0, 0, NULL, NULL, NULL }
};

/* The cut: where the log ends afterwards, and what goes. */
typedef struct cut_plan {
    char *log_path;          /* file to cut, NULL if the log stays */
    uint64_t offset;
    GPtrArray *removed;      /* char*: later log files, and snapshots above the zxid */
    int64_t keep_zxid;       /* the last record kept */
} cut_plan;

typedef struct zxid_finder {
    int64_t zxid;            /* cut after this */
    char *path;
    uint64_t offset;
    int64_t last_kept;
    bool found;
} zxid_finder;

static int find_zk_record(void *ctx, const char *path, uint64_t offset, int64_t zxid, const uint8_t *data,
                          size_t len)
{
    (void)data; (void)len;
    zxid_finder *z = ctx;
    if (zxid > z->zxid) {
        z->path = g_strdup(path);
        z->offset = offset;
        z->found = true;
        return 1;
    }
    z->last_kept = zxid;
    return 0;
}

static int find_apache_record(void *ctx, const char *path, uint64_t offset, const txn_view *t)
{
    return find_zk_record(ctx, path, offset, t->hdr.zxid, NULL, 0);
}

/* A running server holding the directory (zkServer.sh / zkserverctl pid file)? */
static bool server_running(const char *data_dir, long *pid)
{
    if (!data_dir)
        return false;
    char *p = g_build_filename(data_dir, "zookeeper_server.pid", NULL);
    char *text = NULL;
    bool running = false;
    if (g_file_get_contents(p, &text, NULL, NULL)) {
        *pid = strtol(text, NULL, 10);
        running = *pid > 0 && kill((pid_t)*pid, 0) == 0;
    }
    g_free(text);
    g_free(p);
    return running;
}

static void snap_above(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    (void)is_tmp;
    cut_plan *p = ctx;
    if (zxid > p->keep_zxid)
        g_ptr_array_add(p->removed, g_strdup(path));
}

/* Orders places in the log: (index of the file, offset). */
static uint64_t log_position(const dir_check *d, const char *path, uint64_t offset)
{
    for (guint i = 0; i < d->files->len; i++)
        if (strcmp(g_array_index(d->files, file_check, i).path, path) == 0)
            return (uint64_t)i << 40 | offset;
    return UINT64_MAX;
}

static int plan_cut(const dir_check *d, cut_plan *p, char **err)
{
    memset(p, 0, sizeof *p);
    p->removed = g_ptr_array_new_with_free_func(g_free);
    int64_t zxid;
    bool by_zxid = opt_zxid != NULL;
    if (by_zxid && !zt_parse_zxid(opt_zxid, &zxid)) {
        *err = g_strdup_printf("bad zxid '%s' (0x-hex or decimal)", opt_zxid);
        return -1;
    }
    const file_check *damage = d->first_damage;
    if (by_zxid) {
        zxid_finder z = { zxid, NULL, 0, 0, false };
        if (d->src.kind == DATA_ZKSERVER) {
            if (txnlog_inspect(d->src.log_dir, find_zk_record, NULL, &z, err) < 0)
                return -1;
        } else {
            for (guint i = 0; i < d->files->len && !z.found; i++) {
                const file_check *f = &g_array_index(d->files, file_check, i);
                adir_log_scan s;
                if (f->is_log && !adir_scan_log(f->path, zt_max_buffer(), find_apache_record, &z, &s, err))
                    return -1;
                if (f == damage)
                    break;
            }
        }
        if (z.found && (!damage || log_position(d, z.path, z.offset) < log_position(d, damage->path, damage->offset))) {
            p->log_path = z.path;
            p->offset = z.offset;
        } else {
            g_free(z.path);
        }
        p->keep_zxid = zxid;
        if (d->src.kind == DATA_ZKSERVER) {
            snapfile_list(d->src.snap_dir, snap_above, p);
        } else {
            GArray *snaps = adir_list(d->src.snap_dir, "snapshot", false, err);
            if (!snaps)
                return -1;
            for (guint i = 0; i < snaps->len; i++) {
                const adir_file *f = &g_array_index(snaps, adir_file, i);
                snap_above(p, f->path, f->zxid, false);
            }
            adir_list_free(snaps);
        }
    }
    if (!p->log_path && damage) {
        p->log_path = g_strdup(damage->path);
        p->offset = damage->offset;
    }
    if (p->log_path) {
        bool after = false;
        for (guint i = 0; i < d->files->len; i++) {
            const file_check *f = &g_array_index(d->files, file_check, i);
            if (f->is_log && after)
                g_ptr_array_add(p->removed, g_strdup(f->path));
            if (f->is_log && strcmp(f->path, p->log_path) == 0)
                after = true;
        }
    }
    return 0;
}

static int run_truncate(int argc, char **argv)
{
    if (!zt_parse(&zt_cmd_truncate, truncate_entries, &argc, &argv, 1, 1))
        return ZT_ERROR;
    if (opt_backup && opt_no_backup) {
        zt_error(&zt_cmd_truncate, "--backup and --no-backup exclude each other");
        return ZT_ERROR;
    }
    dir_check d;
    int rc = check_dir(argv[1], &d);
    if (rc != ZT_OK) {
        dir_check_clear(&d);
        return rc;
    }
    long pid = 0;
    cut_plan p;
    char *err = NULL;
    if (!opt_dry_run && !opt_force && server_running(d.src.data_dir, &pid)) {
        zt_error(&zt_cmd_truncate, "a server is running on %s (pid %ld); stop it first (or --force)",
                 d.src.data_dir, pid);
        dir_check_clear(&d);
        return ZT_ERROR;
    }
    if (plan_cut(&d, &p, &err) < 0) {
        zt_error(&zt_cmd_truncate, "%s", err);
        g_free(err);
        dir_check_clear(&d);
        return ZT_ERROR;
    }
    const char *verb = opt_dry_run ? "would " : "";
    if (!p.log_path && p.removed->len == 0) {
        printf("nothing to cut: %s\n", opt_zxid ? "nothing is logged after that zxid" : "no damaged log record");
        g_ptr_array_free(p.removed, TRUE);
        dir_check_clear(&d);
        return ZT_OK;
    }
    /* The backup first: everything that is about to change. */
    char *backup = NULL;
    if (!opt_dry_run && !opt_no_backup) {
        if (opt_backup) {
            backup = g_strdup(opt_backup);
        } else {
            char stamp[32];
            time_t now = time(NULL);
            struct tm tm;
            localtime_r(&now, &tm);
            strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
            const char *base = d.src.data_dir ? d.src.data_dir : d.src.snap_dir;
            backup = g_strdup_printf("%s/zktool-backup-%s", base, stamp);
        }
        GPtrArray *all = g_ptr_array_new();
        if (p.log_path)
            g_ptr_array_add(all, p.log_path);
        for (guint i = 0; i < p.removed->len; i++)
            g_ptr_array_add(all, g_ptr_array_index(p.removed, i));
        if (g_mkdir_with_parents(backup, 0755) < 0) {
            err = g_strdup_printf("cannot create %s: %s", backup, g_strerror(errno));
            rc = ZT_ERROR;
        }
        for (guint i = 0; i < all->len && rc == ZT_OK; i++) {
            const char *from = g_ptr_array_index(all, i);
            char *base = g_path_get_basename(from);
            char *to = g_build_filename(backup, base, NULL);
            if (zt_copy_file(from, to, &err) < 0)
                rc = ZT_ERROR;
            g_free(base);
            g_free(to);
        }
        g_ptr_array_free(all, TRUE);
        if (rc != ZT_OK) {
            zt_error(&zt_cmd_truncate, "backup failed, nothing changed: %s", err);
            g_free(err);
            goto out;
        }
        printf("backup of the files below in %s\n", backup);
    }
    if (p.log_path)
        printf("%scut %s at offset %" PRIu64 "\n", verb, p.log_path, p.offset);
    for (guint i = 0; i < p.removed->len; i++)
        printf("%sremove %s\n", verb, (const char *)g_ptr_array_index(p.removed, i));
    if (opt_dry_run)
        goto out;
    /* Snapshots above the zxid first, then the log from its end. */
    for (guint i = 0; i < p.removed->len && rc == ZT_OK; i++) {
        const char *path = g_ptr_array_index(p.removed, i);
        if (strstr(path, "/snapshot.") && unlink(path) < 0) {
            zt_error(&zt_cmd_truncate, "cannot remove %s: %s", path, g_strerror(errno));
            rc = ZT_ERROR;
        }
    }
    if (rc == ZT_OK && p.log_path) {
        int r = d.src.kind == DATA_ZKSERVER ? txnlog_cut(d.src.log_dir, p.log_path, p.offset, &err)
                                            : adir_cut_log(d.src.log_dir, p.log_path, p.offset, &err);
        if (r < 0) {
            zt_error(&zt_cmd_truncate, "%s", err);
            g_free(err);
            rc = ZT_ERROR;
        }
    }
    if (rc == ZT_OK) {
        dir_check after;
        if (check_dir(argv[1], &after) == ZT_OK) {
            int64_t last = after.snap_zxid > after.log_zxid ? after.snap_zxid : after.log_zxid;
            printf("last valid zxid now 0x%" PRIx64 "%s\n", (uint64_t)last,
                   after.log_broken ? " (the log is still damaged)" : "");
        }
        dir_check_clear(&after);
    }
out:
    g_free(backup);
    g_free(p.log_path);
    g_ptr_array_free(p.removed, TRUE);
    dir_check_clear(&d);
    return rc;
}

const zt_command zt_cmd_truncate = {
    "truncate", "DATADIR",
    "cut a damaged log tail (or roll back to a zxid), keeping a backup",
    "Cuts the transaction log of a zkserver or Apache ZooKeeper data directory at its first\n"
    "damaged record (what `zktool verify` reports) and removes the log files after it, so\n"
    "that the server starts with every transaction before the damage.  With --zxid, cuts\n"
    "after that zxid instead and also removes the snapshots above it.  Every file that is\n"
    "changed or removed is first copied to the backup directory; --dry-run only prints.\n"
    "Stop the server first.\n"
    "Exit status: 0 done (or nothing to do), 2 an error (then nothing was changed, unless\n"
    "the message says otherwise).\n",
    run_truncate,
};
