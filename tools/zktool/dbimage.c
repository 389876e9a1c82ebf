/* dbimage.c — load and write whole databases (see dbimage.h). */
#include "dbimage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apache_dir.h"
#include "apache_fmt.h"
#include "files.h"
#include "snapfile.h"
#include "txn.h"
#include "txnfmt.h"
#include "txnlog.h"

#define ZK_SUBDIR "zkfs-v1"
#define APACHE_SUBDIR "version-2"

/* ---- where the data is ------------------------------------------------- */

const char *data_kind_name(data_kind k)
{
    return k == DATA_APACHE ? "Apache ZooKeeper" : "zkserver";
}

static bool is_dir(const char *p)
{
    return g_file_test(p, G_FILE_TEST_IS_DIR);
}

/* Reads the first bytes of a file (up to n); returns how many. */
static size_t read_head(const char *path, uint8_t *buf, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    ssize_t r = read(fd, buf, n);
    close(fd);
    return r > 0 ? (size_t)r : 0;
}

/* Tells a snapshot file's kind from its header (both start with "ZKSN"). */
static bool snapshot_kind(const char *path, data_kind *kind)
{
    uint8_t h[8];
    if (read_head(path, h, sizeof h) < sizeof h || zk_be32(h) != APACHE_SNAP_MAGIC)
        return false;
    uint32_t version = zk_be32(h + 4);
    if (version == 1)
        *kind = DATA_ZKSERVER;
    else if (version == APACHE_FORMAT_VERSION)
        *kind = DATA_APACHE;
    else
        return false;
    return true;
}

/* A directory holding zkserver files directly (log.<16 hex>, snapshot.<16 hex>)? */
typedef struct count_ctx { int n; } count_ctx;
static void count_snap(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    (void)path; (void)zxid; (void)is_tmp;
    ((count_ctx *)ctx)->n++;
}

static bool holds_zk_files(const char *dir)
{
    count_ctx c = { 0 };
    char *err = NULL;
    int logs = txnlog_inspect(dir, NULL, NULL, NULL, &err);
    g_free(err);
    snapfile_list(dir, count_snap, &c);
    return logs > 0 || c.n > 0;
}

static void set_dirs(data_source *src, data_kind kind, const char *data_dir, const char *sub,
                     const char *apache_log_dir)
{
    src->kind = kind;
    src->data_dir = data_dir ? g_strdup(data_dir) : NULL;
    src->snap_dir = g_strdup(sub);
    if (kind == DATA_APACHE && apache_log_dir) {
        char *v2 = g_build_filename(apache_log_dir, APACHE_SUBDIR, NULL);
        src->log_dir = is_dir(v2) ? v2 : g_strdup(apache_log_dir);
        if (src->log_dir != v2)
            g_free(v2);
    } else {
        src->log_dir = g_strdup(sub);
    }
}

bool data_source_resolve(const char *path, const char *apache_log_dir, data_source *src, char **err)
{
    memset(src, 0, sizeof *src);
    *err = NULL;
    if (g_file_test(path, G_FILE_TEST_IS_REGULAR)) {
        if (!snapshot_kind(path, &src->kind)) {
            *err = g_strdup_printf("%s: not a zkserver or Apache ZooKeeper snapshot file", path);
            return false;
        }
        src->file = g_strdup(path);
        return true;
    }
    if (!is_dir(path)) {
        *err = g_strdup_printf("%s: no such file or directory", path);
        return false;
    }
    char *zk = g_build_filename(path, ZK_SUBDIR, NULL);
    char *ap = g_build_filename(path, APACHE_SUBDIR, NULL);
    char *base = g_path_get_basename(path);
    char *parent = g_path_get_dirname(path);
    bool ok = true;
    if (is_dir(zk) && is_dir(ap)) {
        *err = g_strdup_printf("%s holds both a zkserver (%s/) and an Apache (%s/) database;"
                               " name the one you mean (%s or %s)", path, ZK_SUBDIR, APACHE_SUBDIR, zk, ap);
        ok = false;
    } else if (is_dir(zk)) {
        set_dirs(src, DATA_ZKSERVER, path, zk, NULL);
    } else if (is_dir(ap)) {
        set_dirs(src, DATA_APACHE, path, ap, apache_log_dir);
    } else if (strcmp(base, ZK_SUBDIR) == 0) {
        set_dirs(src, DATA_ZKSERVER, parent, path, NULL);
    } else if (strcmp(base, APACHE_SUBDIR) == 0) {
        set_dirs(src, DATA_APACHE, parent, path, apache_log_dir);
    } else if (holds_zk_files(path)) {
        set_dirs(src, DATA_ZKSERVER, NULL, path, NULL);
    } else if (adir_has_data(path)) {
        set_dirs(src, DATA_APACHE, NULL, path, apache_log_dir);
    } else {
        *err = g_strdup_printf("%s: no zkserver (%s/) or Apache ZooKeeper (%s/) data found", path,
                               ZK_SUBDIR, APACHE_SUBDIR);
        ok = false;
    }
    g_free(zk);
    g_free(ap);
    g_free(base);
    g_free(parent);
    return ok;
}

void data_source_clear(data_source *src)
{
    g_free(src->data_dir);
    g_free(src->snap_dir);
    g_free(src->log_dir);
    g_free(src->file);
    memset(src, 0, sizeof *src);
}

/* ---- the image --------------------------------------------------------- */

static void note(dbimage *img, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void note(dbimage *img, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_ptr_array_add(img->notes, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static void record_clear(gpointer p)
{
    db_record *r = p;
    g_bytes_unref(r->txn);
}

static dbimage *image_new(data_kind kind)
{
    dbimage *img = g_new0(dbimage, 1);
    img->kind = kind;
    img->notes = g_ptr_array_new_with_free_func(g_free);
    img->records = g_array_new(FALSE, FALSE, sizeof(db_record));
    g_array_set_clear_func(img->records, record_clear);
    session_table_init(&img->sessions, 1, 2000, 0);
    return img;
}

void dbimage_free(dbimage *img)
{
    if (!img)
        return;
    tree_free(img->tree);
    session_table_destroy(&img->sessions);
    g_free(img->snap_path);
    g_ptr_array_free(img->notes, TRUE);
    g_array_free(img->records, TRUE);
    g_free(img->accepted_epoch);
    g_free(img->current_epoch);
    g_free(img->myid);
    g_free(img);
}

/* Installs a decoded snapshot body as the image's state. */
static bool install_body(dbimage *img, const uint8_t *body, size_t len, int64_t zxid, char **err)
{
    GArray *sessions = NULL;
    zk_tree *t = snapbody_read(body, len, &sessions, err);
    if (!t)
        return false;
    tree_free(img->tree);
    img->tree = t;
    g_hash_table_remove_all(img->sessions.by_id);
    for (guint i = 0; i < sessions->len; i++) {
        const snap_session *s = &g_array_index(sessions, snap_session, i);
        session_add(&img->sessions, s->id, s->timeout, 0);
    }
    g_array_free(sessions, TRUE);
    img->snap_zxid = img->zxid = zxid;
    t->last_processed_zxid = zxid;
    return true;
}

/* Keeps a record for conversion (zkserver payload, strictly increasing). */
static void keep_record(dbimage *img, const txn_view *t)
{
    if (img->records->len) {
        const db_record *last = &g_array_index(img->records, db_record, img->records->len - 1);
        if (t->hdr.zxid <= last->zxid) {
            note(img, "log record 0x%" PRIx64 " does not increase the zxid; not kept", (uint64_t)t->hdr.zxid);
            return;
        }
    }
    GByteArray *b = g_byte_array_new();
    txnfmt_zk_payload(t, b);
    db_record r = { t->hdr.zxid, g_byte_array_free_to_bytes(b) };
    g_array_append_val(img->records, r);
}

/* Applies one vetted record; false with *why if it cannot be applied. */
static bool apply_txn(dbimage *img, const txn_view *t, const char **why)
{
    *why = txnfmt_check_apply(t);
    if (*why)
        return false;
    GByteArray *b = g_byte_array_new();
    txnfmt_zk_payload(t, b);
    txn_ctx ctx = { img->tree, &img->sessions, 0, NULL, NULL };
    txn_result res;
    bool ok = txn_apply(&ctx, b->data, b->len, &res);
    txn_result_clear(&res);
    g_byte_array_free(b, TRUE);
    if (!ok) {
        *why = "txn_apply refused it";
        return false;
    }
    img->applied++;
    if (t->hdr.zxid > img->zxid)
        img->zxid = t->hdr.zxid;
    return true;
}

static char *read_text(const char *dir, const char *name)
{
    if (!dir)
        return NULL;
    char *p = g_build_filename(dir, name, NULL);
    char *text = NULL;
    if (!g_file_get_contents(p, &text, NULL, NULL))
        text = NULL;
    g_free(p);
    return text;
}

/* ---- snapshot files of either kind -------------------------------------- */

bool snapshot_file_read(const char *path, size_t max_buffer, snapshot_file *out, char **err)
{
    memset(out, 0, sizeof *out);
    *err = NULL;
    if (!snapshot_kind(path, &out->kind)) {
        *err = g_strdup("not a zkserver or Apache ZooKeeper snapshot");
        return false;
    }
    char *base = g_path_get_basename(path);
    out->name_zxid = -1;
    if (g_str_has_prefix(base, "snapshot.")) {
        /* Util.getZxidFromName: the hex between the first two dots. */
        const char *hex = base + strlen("snapshot.");
        size_t n = strcspn(hex, ".");
        if (n > 0 && n <= 16 && strspn(hex, "0123456789abcdefABCDEF") >= n) {
            uint64_t v = g_ascii_strtoull(hex, NULL, 16);
            if (v <= INT64_MAX)
                out->name_zxid = (int64_t)v;
        }
    }
    g_free(base);
    out->body = g_byte_array_new();
    out->seal_ok = true;
    if (out->kind == DATA_ZKSERVER) {
        int64_t zxid;
        uint8_t *body = NULL;
        size_t len = 0;
        char *why = snapfile_read(path, &zxid, &body, &len);
        if (why) {
            *err = g_strdup_printf("invalid zkserver snapshot: %s", why);
            g_free(why);
            return false;
        }
        out->zxid = zxid;
        if (len)
            g_byte_array_append(out->body, body, (guint)len);
        g_free(body);
        return true;
    }
    const uint8_t *buf;
    size_t len;
    GMappedFile *mf = zt_map_file(path, &buf, &len, err);
    if (!mf)
        return false;
    apache_snapshot s;
    jute_writer body;
    jw_init(&body, len + 64);
    bool ok = apache_snap_decode(buf, len, max_buffer, &s, err) &&
              apache_snap_to_body(&s, &body, err);
    if (ok) {
        out->zxid = out->name_zxid > 0 ? out->name_zxid : 0;
        out->seal_ok = s.seal_stored == (int64_t)s.seal_computed;
        out->seal_stored = s.seal_stored;
        out->seal_computed = s.seal_computed;
        out->has_digest = s.has_digest;
        out->digest_seal_ok = s.digest_seal_ok;
        out->digest_zxid = s.digest_zxid;
        out->digest = s.digest;
        g_byte_array_append(out->body, body.buf, (guint)body.len);
    }
    apache_snapshot_clear(&s);
    jw_free(&body);
    g_mapped_file_unref(mf);
    return ok;
}

void snapshot_file_clear(snapshot_file *f)
{
    if (f->body)
        g_byte_array_free(f->body, TRUE);
    memset(f, 0, sizeof *f);
}

/* Loads one snapshot file as the image's starting state.  A checksum
 * mismatch fails unless `lenient` (then it is noted). */
static bool load_snapshot_file(dbimage *img, const char *path, const dbimage_opts *o, bool lenient,
                               char **why)
{
    snapshot_file f;
    bool ok = snapshot_file_read(path, o->max_buffer, &f, why);
    if (ok && !f.seal_ok) {
        char *msg = g_strdup_printf("checksum mismatch (stored %" PRId64 ", computed %u)", f.seal_stored,
                                    f.seal_computed);
        if (lenient) {
            note(img, "%s: %s", path, msg);
            g_free(msg);
        } else {
            *why = msg;
            ok = false;
        }
    }
    if (ok && f.has_digest && !f.digest_seal_ok)
        note(img, "%s: the checksum after the digest does not match", path);
    if (ok)
        ok = install_body(img, f.body->data, f.body->len, f.zxid, why);
    if (ok) {
        img->snap_path = g_strdup(path);
        if (f.has_digest && f.digest_zxid == f.zxid && f.zxid > 0) {
            img->has_digest = true;
            img->digest_zxid = f.digest_zxid;
            img->digest = f.digest;
        }
    }
    snapshot_file_clear(&f);
    return ok;
}

/* ---- zkserver ---------------------------------------------------------- */

typedef struct snap_list {
    GArray *paths;      /* char* */
    GArray *zxids;      /* int64_t */
    GArray *tmp;        /* gboolean */
} snap_list;

static void collect_snap(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    snap_list *l = ctx;
    char *p = g_strdup(path);
    gboolean t = is_tmp;
    g_array_append_val(l->paths, p);
    g_array_append_val(l->zxids, zxid);
    g_array_append_val(l->tmp, t);
}

typedef struct zk_replay {
    dbimage *img;
    const dbimage_opts *opts;
    bool stopped;
} zk_replay;

static int zk_on_record(void *ctx, const char *path, uint64_t offset, int64_t zxid,
                        const uint8_t *data, size_t len)
{
    zk_replay *z = ctx;
    dbimage *img = z->img;
    if (z->stopped)
        return 0;
    if (zxid > z->opts->upto_zxid) {
        z->stopped = true;
        return 1;
    }
    img->log_records++;
    txn_view t;
    const char *why = txnfmt_parse(data, len, &t);
    if (!why && t.hdr.zxid != zxid)
        why = "its transaction header names another zxid";
    if (!why && z->opts->keep_records)
        keep_record(img, &t);
    if (!why && zxid > img->snap_zxid)
        apply_txn(img, &t, &why);
    if (why) {
        note(img, "%s: record 0x%" PRIx64 " at offset %" PRIu64 " is not a valid transaction (%s);"
             " zkserver cannot replay past it: stopped there", path, (uint64_t)zxid, offset, why);
        z->stopped = true;
        img->damaged = true;
    }
    return 0;
}

static void zk_on_file(void *ctx, const txnlog_file_info *f)
{
    zk_replay *z = ctx;
    if (!f->problem)
        return;
    note(z->img, "%s: %s at offset %" PRIu64, f->path, f->problem, f->problem_offset);
    /* An empty file is dropped at start; anything else ends the log. */
    if (f->refused || f->records > 0) {
        z->stopped = true;
        z->img->damaged = true;
    }
}

static bool load_zk(const data_source *src, const dbimage_opts *o, dbimage *img, char **err)
{
    snap_list l = { g_array_new(FALSE, FALSE, sizeof(char *)), g_array_new(FALSE, FALSE, sizeof(int64_t)),
                    g_array_new(FALSE, FALSE, sizeof(gboolean)) };
    snapfile_list(src->snap_dir, collect_snap, &l);
    bool ok = true;
    for (guint i = 0; i < l.paths->len && ok; i++) {
        const char *p = g_array_index(l.paths, char *, i);
        int64_t z = g_array_index(l.zxids, int64_t, i);
        if (g_array_index(l.tmp, gboolean, i)) {
            note(img, "%s: unfinished snapshot (zkserver removes it at start)", p);
            continue;
        }
        if (img->snap_path || z > o->upto_zxid)
            continue;
        char *why = NULL;
        if (!load_snapshot_file(img, p, o, false, &why)) {
            note(img, "%s: invalid snapshot skipped: %s", p, why);
            g_free(why);
        }
    }
    for (guint i = 0; i < l.paths->len; i++)
        g_free(g_array_index(l.paths, char *, i));
    g_array_free(l.paths, TRUE);
    g_array_free(l.zxids, TRUE);
    g_array_free(l.tmp, TRUE);
    if (!img->tree)
        img->tree = tree_new();
    zk_replay z = { img, o, false };
    if (txnlog_inspect(src->log_dir, zk_on_record, zk_on_file, &z, err) < 0)
        ok = false;
    img->accepted_epoch = read_text(src->snap_dir, "acceptedEpoch");
    img->current_epoch = read_text(src->snap_dir, "currentEpoch");
    return ok;
}

/* ---- Apache ------------------------------------------------------------ */

typedef struct apache_replay {
    dbimage *img;
    const dbimage_opts *opts;
    bool done;          /* reached upto_zxid */
    char *error;        /* a record that cannot be applied */
} apache_replay;

static int apache_on_record(void *ctx, const char *path, uint64_t offset, const txn_view *t)
{
    apache_replay *a = ctx;
    dbimage *img = a->img;
    if (t->hdr.zxid > a->opts->upto_zxid) {
        a->done = true;
        return 1;
    }
    img->log_records++;
    if (a->opts->keep_records)
        keep_record(img, t);
    if (t->hdr.zxid <= img->snap_zxid)
        return 0;
    const char *why;
    if (!apply_txn(img, t, &why)) {
        a->error = g_strdup_printf("%s: record 0x%" PRIx64 " at offset %" PRIu64 " cannot be applied: %s",
                                   path, (uint64_t)t->hdr.zxid, offset, why);
        return 1;
    }
    img->has_digest = t->has_digest;
    img->digest_zxid = t->hdr.zxid;
    img->digest = t->digest;
    return 0;
}

/* Replays one Apache log file as FileTxnIterator does.  Returns false with
 * *err for what stops Apache (and for a record we cannot apply). */
static bool apache_replay_file(apache_replay *a, const char *path, char **err)
{
    adir_log_scan scan;
    if (!adir_scan_log(path, a->opts->max_buffer, apache_on_record, a, &scan, err))
        return false;
    if (a->error) {
        *err = a->error;
        a->error = NULL;
        return false;
    }
    if (scan.problem && scan.fatal) {
        *err = g_strdup_printf("%s: %s at offset %" PRIu64 " (Apache refuses to start with this log)",
                               path, scan.problem, scan.problem_offset);
        return false;
    }
    if (scan.problem)
        note(a->img, "%s: %s at offset %" PRIu64 "; Apache stops reading this file there", path,
             scan.problem, scan.problem_offset);
    return true;
}

static bool load_apache(const data_source *src, const dbimage_opts *o, dbimage *img, char **err)
{
    GArray *snaps = adir_list(src->snap_dir, "snapshot", false, err);
    if (!snaps)
        return false;
    bool ok = true;
    for (guint i = 0; i < snaps->len && ok && !img->snap_path; i++) {
        const adir_file *f = &g_array_index(snaps, adir_file, i);
        if (f->zxid > o->upto_zxid)
            continue;
        if (f->suffix) {
            *err = g_strdup_printf("%s: compressed snapshots (%s) are not supported; decompress it"
                                   " to %s/snapshot.%" PRIx64 " first", f->path, f->suffix,
                                   src->snap_dir, (uint64_t)f->zxid);
            ok = false;
            break;
        }
        char *why = NULL;
        if (!load_snapshot_file(img, f->path, o, false, &why)) {
            note(img, "%s: invalid snapshot skipped (%s)", f->path, why);
            g_free(why);
        }
    }
    adir_list_free(snaps);
    if (!ok)
        return false;
    if (!img->tree)
        img->tree = tree_new();
    GArray *logs = adir_list(src->log_dir, "log", true, err);
    if (!logs)
        return false;
    if (!img->snap_path && logs->len > 0)
        note(img, "no valid snapshot but log files exist (Apache refuses to start like this unless"
                  " zookeeper.snapshot.trust.empty=true)");
    /* FileTxnLog.getLogFiles: the newest file starting at or before the
     * snapshot's zxid, and every later one. */
    int64_t from = 0;
    for (guint i = 0; i < logs->len; i++) {
        int64_t z = g_array_index(logs, adir_file, i).zxid;
        if (z <= img->snap_zxid && z > from)
            from = z;
    }
    apache_replay a = { img, o, false, NULL };
    for (guint i = 0; i < logs->len && ok && !a.done; i++) {
        const adir_file *f = &g_array_index(logs, adir_file, i);
        if (f->zxid < from)
            continue;
        ok = apache_replay_file(&a, f->path, err);
    }
    adir_list_free(logs);
    img->accepted_epoch = read_text(src->snap_dir, "acceptedEpoch");
    img->current_epoch = read_text(src->snap_dir, "currentEpoch");
    return ok;
}

dbimage *dbimage_load(const data_source *src, const dbimage_opts *opts, char **err)
{
    *err = NULL;
    dbimage *img = image_new(src->kind);
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;   /* recognise TTL owners in every file */
    bool ok;
    if (src->file) {
        char *why = NULL;
        ok = load_snapshot_file(img, src->file, opts, true, &why);
        if (!ok) {
            *err = g_strdup_printf("%s: %s", src->file, why);
            g_free(why);
        }
    } else {
        ok = src->kind == DATA_APACHE ? load_apache(src, opts, img, err) : load_zk(src, opts, img, err);
    }
    zk_extended_types_enabled = saved;
    if (!ok) {
        dbimage_free(img);
        return NULL;
    }
    img->myid = read_text(src->data_dir, "myid");
    img->tree->last_processed_zxid = img->zxid;
    return img;
}

static gint session_cmp(gconstpointer a, gconstpointer b)
{
    const snap_session *x = a, *y = b;
    return x->id < y->id ? -1 : x->id > y->id;
}

GArray *dbimage_sessions(const dbimage *img)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(snap_session));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, img->sessions.by_id);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_session *s = v;
        snap_session e = { s->id, s->timeout };
        g_array_append_val(out, e);
    }
    g_array_sort(out, session_cmp);
    return out;
}

/* ---- writing ----------------------------------------------------------- */

/* The epoch files and myid that go with the database. */
static int write_companions(const dbimage *img, const char *sub, const char *data_dir, char **err)
{
    const char *names[] = { "acceptedEpoch", "currentEpoch" };
    const char *texts[] = { img->accepted_epoch, img->current_epoch };
    for (int i = 0; i < 2; i++) {
        if (!texts[i])
            continue;
        char *p = g_build_filename(sub, names[i], NULL);
        int rc = zt_write_file(p, texts[i], strlen(texts[i]), err);
        g_free(p);
        if (rc < 0)
            return -1;
    }
    if (img->myid) {
        char *p = g_build_filename(data_dir, "myid", NULL);
        int rc = g_file_test(p, G_FILE_TEST_EXISTS) ? 0 : zt_write_file(p, img->myid, strlen(img->myid), err);
        g_free(p);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static void log_to_stderr(void *ctx, const char *msg)
{
    (void)ctx;
    fprintf(stderr, "zktool: %s\n", msg);
}

/* Writes the kept records as a zkserver log in dir (one group commit). */
static int write_zk_log(const dbimage *img, const char *dir, char **err)
{
    if (img->records->len == 0)
        return 0;
    int64_t last = 0;
    txnlog *l = txnlog_open(dir, &last, log_to_stderr, NULL, err);
    if (!l)
        return -1;
    /* One file just big enough (a server never appends to it). */
    uint64_t bytes = 0;
    for (guint i = 0; i < img->records->len; i++)
        bytes += 16 + g_bytes_get_size(g_array_index(img->records, db_record, i).txn);
    txnlog_set_limits(l, TXNLOG_DEFAULT_ROLL_BYTES + bytes, bytes > 4096 ? bytes : 4096);
    for (guint i = 0; i < img->records->len; i++) {
        const db_record *r = &g_array_index(img->records, db_record, i);
        gsize n;
        const void *p = g_bytes_get_data(r->txn, &n);
        txnlog_append(l, r->zxid, p, n);
    }
    int rc = 0;
    int64_t durable = 0;
    if (txnlog_flush_start(l)) {
        struct pollfd pfd = { txnlog_event_fd(l), POLLIN, 0 };
        if (poll(&pfd, 1, 600000) != 1) {
            *err = g_strdup("the log write did not finish within 10 minutes");
            rc = -1;
        } else {
            rc = txnlog_flush_complete(l, &durable, err);
        }
    }
    txnlog_close(l);
    return rc;
}

int dbimage_write_zkserver(const dbimage *img, const char *data_dir, char **err)
{
    *err = NULL;
    char *dir = g_build_filename(data_dir, ZK_SUBDIR, NULL);
    int rc = -1;
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        *err = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
        goto out;
    }
    if (holds_zk_files(dir)) {
        *err = g_strdup_printf("%s already holds a zkserver database; move it away first", dir);
        goto out;
    }
    /* The snapshot first: on a crash midway the directory holds either
     * nothing or the complete state. */
    snapfile_writer *w = snapfile_writer_open(dir, img->zxid, err);
    if (!w)
        goto out;
    GArray *sessions = dbimage_sessions(img);
    jute_writer body;
    jw_init(&body, 1 << 16);
    snapbody_write(&body, img->tree, (const snap_session *)(void *)sessions->data, sessions->len);
    g_array_free(sessions, TRUE);
    if (snapfile_writer_write(w, body.buf, body.len) < 0) {
        *err = g_strdup_printf("cannot write the snapshot: %s", g_strerror(errno));
        snapfile_writer_abort(w);
        jw_free(&body);
        goto out;
    }
    jw_free(&body);
    if (snapfile_writer_commit(w, err) < 0)
        goto out;
    if (write_zk_log(img, dir, err) < 0)
        goto out;
    rc = write_companions(img, dir, data_dir, err);
out:
    g_free(dir);
    return rc;
}

int dbimage_write_apache(const dbimage *img, const char *data_dir, char **err)
{
    *err = NULL;
    char *dir = g_build_filename(data_dir, APACHE_SUBDIR, NULL);
    int rc = -1;
    char *path = NULL;
    jute_writer w;
    jw_init(&w, 1 << 16);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        *err = g_strdup_printf("cannot create %s: %s", dir, g_strerror(errno));
        goto out;
    }
    if (adir_has_data(dir)) {
        *err = g_strdup_printf("%s already holds Apache ZooKeeper data; move it away first", dir);
        goto out;
    }
    GArray *sessions = dbimage_sessions(img);
    int64_t digest = apache_tree_digest(img->tree);
    apache_snap_encode(&w, img->tree, (const snap_session *)(void *)sessions->data, sessions->len,
                       img->zxid, digest);
    g_array_free(sessions, TRUE);
    path = adir_name(dir, "snapshot", img->zxid);
    if (zt_write_file(path, w.buf, w.len, err) < 0)
        goto out;
    if (img->records->len) {
        jw_reset(&w);
        apache_log_write_header(&w, APACHE_LOG_MAGIC, 0);
        for (guint i = 0; i < img->records->len; i++) {
            const db_record *r = &g_array_index(img->records, db_record, i);
            gsize n;
            const void *p = g_bytes_get_data(r->txn, &n);
            apache_log_write_record(&w, p, n);
        }
        g_free(path);
        path = adir_name(dir, "log", g_array_index(img->records, db_record, 0).zxid);
        if (zt_write_file(path, w.buf, w.len, err) < 0)
            goto out;
    }
    rc = write_companions(img, dir, data_dir, err);
out:
    jw_free(&w);
    g_free(path);
    g_free(dir);
    return rc;
}
