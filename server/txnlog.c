/*
 * txnlog.c — the transaction log: recovery scan of log.<zxid> files,
 * in-memory queue of framed records, and the background writer thread that
 * writes each queued batch with a single fdatasync (group commit).
 * See server/txnlog.h for the API and threading contract and
 * docs/formats.md for the byte format and the recovery rules.
 */
#include "txnlog.h"
#include "metrics.h"

#include "zk/crc32c.h"
#include "zk/jute.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* File header: magic, version, dbid, base zxid, crc32c of the first 24
 * bytes, 4 reserved zero bytes. */
#define LOG_MAGIC 0x5A4B544Cu /* "ZKTL" */
#define LOG_VERSION 1u
#define LOG_HEADER_SIZE 32u
/* Record frame: u32 length (8 + payload length; 0 = end of data),
 * u32 crc32c over the `length` bytes that follow, u64 zxid, payload. */
#define FRAME_HEADER_SIZE 16u
#define FRAME_MAX_LENGTH ((uint64_t)TXNLOG_MAX_PAYLOAD + 8)
/* When looking for valid records behind a bad one, only zxids this close
 * above the last good zxid count (keeps the scan of garbage cheap). */
#define RESCUE_ZXID_WINDOW ((uint64_t)1 << 40)

/* One log file known to the owner thread. */
typedef struct txnlog_file {
    char *path;         /* owned */
    int64_t first_zxid; /* from the name == header base == first record */
    int64_t last_zxid;  /* zxid of the last durable record */
    uint64_t data_end;  /* offset just past the last durable record */
} txnlog_file;

/* A batch handed from the owner to the writer thread and back. */
typedef struct txnlog_batch {
    GByteArray *frames;   /* owned by the batch: encoded records */
    int64_t first_zxid;
    int64_t last_zxid;
    bool start_new_file;  /* owner asked for a roll */
    /* Results, filled by the writer. */
    int error;            /* 0 or an errno value */
    char *error_msg;      /* owned, g_malloc'd, set when error != 0 */
    char *new_path;       /* owned; set when the batch went to a new file */
    uint64_t data_end;    /* end of data in the written file afterwards */
    int64_t fsync_ms;     /* duration of the batch's fdatasync, -1 if none ran */
} txnlog_batch;

struct txnlog {
    char *dir;              /* owned */
    txnlog_log_fn log;      /* may be NULL */
    void *log_ctx;          /* not owned */
    uint64_t dbid;

    /* Owner-thread state. */
    GPtrArray *files;       /* of txnlog_file*, oldest first; owns them */
    GByteArray *queue;      /* owned: frames appended since the last hand-off */
    int64_t queue_first_zxid;
    int64_t last_zxid;
    int64_t durable_zxid;
    bool roll_requested;
    bool in_flight;
    bool failed;            /* a batch failed and the log went into the failed state */
    int event_fd;

    /* Writer state: used by the writer thread while a batch is in flight,
     * by the owner thread only when none is. */
    int write_fd;           /* -1: the next batch starts a new file */
    uint64_t write_off;     /* end of data in write_fd */
    uint64_t alloc_end;     /* file size (preallocated up to here) */
    uint64_t roll_bytes;
    uint64_t prealloc_bytes;
    char *broken_msg;       /* owned; non-NULL: failed state */
    int test_fail_errno;
    size_t test_fail_prefix;

    /* Hand-off between the two threads, guarded by mu. */
    pthread_t thread;
    bool thread_started;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    txnlog_batch *job;      /* owner -> writer */
    txnlog_batch *done;     /* writer -> owner */
    bool stop;

    _Atomic uint64_t fsyncs;
};

/* ---- small helpers ---------------------------------------------------- */

static void emit(const txnlog *l, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void emit(const txnlog *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (l->log)
        l->log(l->log_ctx, msg);
    else
        fprintf(stderr, "%s\n", msg);
    g_free(msg);
}

static void txnlog_file_free(gpointer p)
{
    txnlog_file *f = p;
    g_free(f->path);
    g_free(f);
}

static void batch_free(txnlog_batch *b)
{
    if (!b)
        return;
    g_byte_array_unref(b->frames);
    g_free(b->error_msg);
    g_free(b->new_path);
    g_free(b);
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
}

/* Makes [off, off+len) allocated: fallocate, or zeros where the file
 * system cannot fallocate.  Returns 0 or an errno value. */
static int preallocate(int fd, uint64_t off, uint64_t len)
{
    int r = posix_fallocate(fd, (off_t)off, (off_t)len);
    if (r != EOPNOTSUPP && r != EINVAL)
        return r;
    static const uint8_t zeros[65536];
    while (len > 0) {
        size_t n = len < sizeof zeros ? (size_t)len : sizeof zeros;
        if (pwrite_all(fd, zeros, n, off) < 0)
            return errno;
        off += n;
        len -= n;
    }
    return 0;
}

static void encode_header(uint8_t out[LOG_HEADER_SIZE], uint64_t dbid, int64_t base_zxid)
{
    memset(out, 0, LOG_HEADER_SIZE);
    zk_put_be32(out, LOG_MAGIC);
    zk_put_be32(out + 4, LOG_VERSION);
    zk_put_be64(out + 8, dbid);
    zk_put_be64(out + 16, (uint64_t)base_zxid);
    zk_put_be32(out + 24, crc32c(0, out, 24));
}

static char *log_path(const char *dir, int64_t zxid)
{
    return g_strdup_printf("%s/log.%016" PRIx64, dir, (uint64_t)zxid);
}

/*
 * Checks the frame at m[pos] (size bytes mapped).  Returns NULL and sets
 * *zxid and *frame_size if it is a complete frame with a good crc, else a
 * static reason string.  Does not look at zxid ordering.
 */
static const char *check_frame(const uint8_t *m, uint64_t size, uint64_t pos,
                               int64_t *zxid, uint64_t *frame_size)
{
    if (size - pos < FRAME_HEADER_SIZE)
        return "truncated record header";
    uint32_t length = zk_be32(m + pos);
    if (length < 8 || length > FRAME_MAX_LENGTH)
        return "impossible record length";
    if (size - pos - 8 < length)
        return "truncated record";
    if (crc32c(0, m + pos + 8, length) != zk_be32(m + pos + 4))
        return "checksum mismatch";
    *zxid = (int64_t)zk_be64(m + pos + 8);
    *frame_size = 8 + (uint64_t)length;
    return NULL;
}

/* Looks for any valid frame starting after bad_pos whose zxid lies in
 * (prev_zxid, prev_zxid + RESCUE_ZXID_WINDOW].  Returns its offset or 0. */
static uint64_t find_valid_frame_after(const uint8_t *m, uint64_t size, uint64_t bad_pos,
                                       int64_t prev_zxid)
{
    for (uint64_t q = bad_pos + 1; q + FRAME_HEADER_SIZE <= size; q++) {
        uint32_t length = zk_be32(m + q);
        if (length < 8 || length > FRAME_MAX_LENGTH || size - q - 8 < length)
            continue;
        int64_t zxid = (int64_t)zk_be64(m + q + 8);
        if (zxid <= prev_zxid || (uint64_t)zxid - (uint64_t)prev_zxid > RESCUE_ZXID_WINDOW)
            continue;
        if (crc32c(0, m + q + 8, length) == zk_be32(m + q + 4))
            return q;
    }
    return 0;
}

/* Whether p[0, len) is all zeros: 4 KiB at a time with memcmp (which the C
 * library vectorises), not byte by byte. */
static bool all_zero(const uint8_t *p, uint64_t len)
{
    static const uint8_t zeros[4096];
    while (len >= sizeof zeros) {
        if (memcmp(p, zeros, sizeof zeros) != 0)
            return false;
        p += sizeof zeros;
        len -= sizeof zeros;
    }
    return len == 0 || memcmp(p, zeros, (size_t)len) == 0;
}

/*
 * Whether m[from, size) (the mapping of fd) is all zeros, without reading
 * the parts the file system reports as holes: a preallocated tail is
 * unwritten extents, which SEEK_DATA skips (a file system may report a hole
 * as data, never data as a hole, so what it skips reads as zeros).  Without
 * SEEK_DATA (fd < 0, or EINVAL from a file system that lacks it) every byte
 * is checked.  Restart cost: this was a byte loop faulting in the whole
 * 64 MiB tail (docs/perf-notes.md).
 */
static bool tail_is_zero(int fd, const uint8_t *m, uint64_t from, uint64_t size)
{
    uint64_t pos = from;
    while (pos < size) {
        off_t data = fd >= 0 ? lseek(fd, (off_t)pos, SEEK_DATA) : -1;
        if (data < 0) {
            if (fd >= 0 && errno == ENXIO)
                return true;   /* nothing but holes from pos to the end */
            return all_zero(m + pos, size - pos);
        }
        if ((uint64_t)data >= size)
            return true;
        if ((uint64_t)data < pos)
            data = (off_t)pos;
        off_t hole = lseek(fd, data, SEEK_HOLE);
        uint64_t stop = hole < 0 || (uint64_t)hole > size || hole <= data ? size : (uint64_t)hole;
        if (!all_zero(m + data, stop - (uint64_t)data))
            return false;
        pos = stop;
    }
    return true;
}

/* Offset just past the last non-zero byte in m[from, size), or from. */
static uint64_t nonzero_end(const uint8_t *m, uint64_t from, uint64_t size)
{
    uint64_t end = size;
    while (end > from && m[end - 1] == 0)
        end--;
    return end;
}

/* ---- recovery --------------------------------------------------------- */

/* What scan_contents found in one mapped log file. */
typedef struct scan_result {
    bool no_header;       /* shorter than a header, or a header of zeros */
    bool all_zero;        /* ... and the whole file is zeros (or too short) */
    char *fatal;          /* g_malloc'd: a header or ordering error (refuse) */
    uint64_t dbid;
    uint64_t records;
    int64_t last;         /* last good zxid (prev_zxid if no record) */
    uint64_t end;         /* offset just past the last good record */
    const char *bad;      /* static reason the scan stopped at `end`, or NULL */
    bool stopped;         /* on_record asked to stop at `end` */
} scan_result;

/*
 * Validates the header and walks the records of one log file mapped at m
 * (size bytes; fd is the open file, -1 if none), without changing anything.  prev_zxid is the last zxid of
 * the files before it (0 if none); expect_dbid is the dbid those files
 * carry (NULL if none).  on_record, if not NULL, is called for each good
 * record; a non-zero return stops the walk (res->stopped; res->end is
 * that record's offset).
 */
static void scan_contents(int fd, const uint8_t *m, uint64_t size, const char *path, int64_t name_zxid,
                          int64_t prev_zxid, const uint64_t *expect_dbid, txnlog_record_fn on_record,
                          void *ctx, scan_result *res)
{
    memset(res, 0, sizeof *res);
    res->last = prev_zxid;
    if (size < LOG_HEADER_SIZE || all_zero(m, LOG_HEADER_SIZE)) {
        res->no_header = true;
        res->all_zero = size < LOG_HEADER_SIZE || tail_is_zero(fd, m, 0, size);
        return;
    }
    if (zk_be32(m) != LOG_MAGIC) {
        res->fatal = g_strdup_printf("txnlog: %s: bad magic at offset 0, not a zkfs log file", path);
        return;
    }
    if (zk_be32(m + 24) != crc32c(0, m, 24)) {
        res->fatal = g_strdup_printf("txnlog: %s: file header checksum mismatch at offset 0", path);
        return;
    }
    if (zk_be32(m + 4) != LOG_VERSION) {
        res->fatal = g_strdup_printf("txnlog: %s: unsupported format version %u", path, zk_be32(m + 4));
        return;
    }
    res->dbid = zk_be64(m + 8);
    if (expect_dbid && res->dbid != *expect_dbid) {
        res->fatal = g_strdup_printf("txnlog: %s: belongs to another database (dbid %016" PRIx64
                                     ", expected %016" PRIx64 ")", path, res->dbid, *expect_dbid);
        return;
    }
    int64_t base_zxid = (int64_t)zk_be64(m + 16);
    if (base_zxid != name_zxid) {
        res->fatal = g_strdup_printf("txnlog: %s: header base zxid 0x%" PRIx64 " does not match the file name",
                                     path, (uint64_t)base_zxid);
        return;
    }
    if (base_zxid <= prev_zxid) {
        res->fatal = g_strdup_printf("txnlog: %s: starts at zxid 0x%" PRIx64 " but earlier files reach 0x%" PRIx64,
                                     path, (uint64_t)base_zxid, (uint64_t)prev_zxid);
        return;
    }

    uint64_t pos = LOG_HEADER_SIZE;
    while (pos < size) {
        if (size - pos < 4 || zk_be32(m + pos) == 0) {
            /* End of data: only zeros may follow. */
            if (!tail_is_zero(fd, m, pos, size))
                res->bad = size - pos < 4 ? "truncated record header" : "non-zero bytes after the end-of-data marker";
            break;
        }
        int64_t zxid;
        uint64_t frame_size;
        res->bad = check_frame(m, size, pos, &zxid, &frame_size);
        if (res->bad)
            break;
        if (zxid <= res->last) {
            res->fatal = g_strdup_printf("txnlog: %s: zxid 0x%" PRIx64 " at offset %" PRIu64
                                         " does not increase (previous 0x%" PRIx64 ")",
                                         path, (uint64_t)zxid, pos, (uint64_t)res->last);
            break;
        }
        if (res->records == 0 && zxid != base_zxid) {
            res->fatal = g_strdup_printf("txnlog: %s: first record at offset %" PRIu64 " has zxid 0x%" PRIx64
                                         ", file name says 0x%" PRIx64,
                                         path, pos, (uint64_t)zxid, (uint64_t)base_zxid);
            break;
        }
        if (on_record && on_record(ctx, path, pos, zxid, m + pos + FRAME_HEADER_SIZE,
                                   (size_t)(frame_size - FRAME_HEADER_SIZE)) != 0) {
            res->stopped = true;
            break;
        }
        res->last = zxid;
        res->records++;
        pos += frame_size;
    }
    res->end = pos;
}

/* Maps path read-only; returns the mapping (NULL for an empty file) and
 * *size, or sets *err and returns MAP_FAILED. */
static uint8_t *map_path(const char *path, int fd, uint64_t *size, char **err)
{
    struct stat st;
    if (fstat(fd, &st) < 0) {
        *err = g_strdup_printf("txnlog: cannot stat %s: %s", path, g_strerror(errno));
        return MAP_FAILED;
    }
    *size = (uint64_t)st.st_size;
    if (*size == 0)
        return NULL;
    uint8_t *m = mmap(NULL, *size, PROT_READ, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        *err = g_strdup_printf("txnlog: cannot map %s: %s", path, g_strerror(errno));
    return m;
}

enum scan_outcome { SCAN_ERROR = -1, SCAN_KEEP = 0, SCAN_REMOVE = 1 };

/*
 * Validates one log file (and repairs its torn tail if it is the last).
 * prev_zxid is the last zxid of the files before it (0 if none); *have_dbid
 * says whether l->dbid is already fixed by an earlier file.  On SCAN_KEEP
 * fills *out (out->path is a g_strdup'd copy of path).  SCAN_REMOVE means
 * the file holds nothing (the caller unlinks it); SCAN_ERROR sets *err.
 */
static enum scan_outcome scan_file(txnlog *l, const char *path, int64_t name_zxid, int64_t prev_zxid,
                                   bool is_last, bool *have_dbid, txnlog_file *out, char **err)
{
    enum scan_outcome outcome = SCAN_ERROR;
    int fd = open(path, (is_last ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        *err = g_strdup_printf("txnlog: cannot open %s: %s", path, g_strerror(errno));
        return SCAN_ERROR;
    }
    uint64_t size = 0;
    uint8_t *m = map_path(path, fd, &size, err);
    if (m == MAP_FAILED) {
        close(fd);
        return SCAN_ERROR;
    }

    scan_result res;
    scan_contents(fd, m, size, path, name_zxid, prev_zxid, *have_dbid ? &l->dbid : NULL, NULL, NULL, &res);
    if (res.no_header) {
        if (is_last && res.all_zero) {
            emit(l, "txnlog: %s: incomplete file header (file size %" PRIu64 "), removing the file",
                 path, size);
            outcome = SCAN_REMOVE;
        } else {
            *err = g_strdup_printf("txnlog: %s: missing file header at offset 0", path);
        }
        goto out;
    }
    if (res.fatal) {
        *err = res.fatal;
        goto out;
    }
    if (!*have_dbid) {
        l->dbid = res.dbid;
        *have_dbid = true;
    }
    uint64_t pos = res.end;
    if (res.bad) {
        if (!is_last) {
            *err = g_strdup_printf("txnlog: %s: corrupt record at offset %" PRIu64 " (%s) in a log file"
                                   " that is not the last one; refusing to open", path, pos, res.bad);
            goto out;
        }
        int64_t window_base = res.records ? res.last : name_zxid - 1;
        uint64_t valid_at = find_valid_frame_after(m, size, pos, window_base);
        if (valid_at) {
            *err = g_strdup_printf("txnlog: %s: corrupt record at offset %" PRIu64 " (%s) followed by a valid"
                                   " record at offset %" PRIu64 "; refusing to open (corruption in the"
                                   " middle of the log)", path, pos, res.bad, valid_at);
            goto out;
        }
        uint64_t last_nonzero = nonzero_end(m, pos, size);
        if (ftruncate(fd, (off_t)pos) < 0 || fsync(fd) < 0) {
            *err = g_strdup_printf("txnlog: %s: cannot cut torn tail at offset %" PRIu64 ": %s",
                                   path, pos, g_strerror(errno));
            goto out;
        }
        emit(l, "txnlog: %s: torn tail at offset %" PRIu64 " (%s): file cut there, %" PRIu64
             " bytes dropped (%" PRIu64 " up to the last non-zero byte)",
             path, pos, res.bad, size - pos, last_nonzero - pos);
    } else if (is_last && res.records > 0 && size > pos) {
        /* A clean end followed by preallocated zeros: this file will not be
         * appended to again, so give the space back (nothing is lost). */
        if (ftruncate(fd, (off_t)pos) < 0 || fsync(fd) < 0)
            emit(l, "txnlog: %s: cannot release preallocated space: %s", path, g_strerror(errno));
    }
    if (res.records == 0) {
        emit(l, "txnlog: %s: holds no records, removing the file", path);
        outcome = SCAN_REMOVE;
        goto out;
    }
    out->path = g_strdup(path);
    out->first_zxid = name_zxid;
    out->last_zxid = res.last;
    out->data_end = pos;
    outcome = SCAN_KEEP;
out:
    if (m)
        munmap(m, size);
    close(fd);
    return outcome;
}

typedef struct name_entry {
    int64_t zxid;
    char *path; /* owned */
} name_entry;

static gint name_entry_cmp(gconstpointer a, gconstpointer b)
{
    const name_entry *x = a, *y = b;
    return x->zxid < y->zxid ? -1 : x->zxid > y->zxid;
}

/* Parses "log.<16 lowercase hex>"; returns false for anything else. */
static bool parse_log_name(const char *name, int64_t *zxid)
{
    if (strncmp(name, "log.", 4) != 0 || strlen(name) != 4 + 16)
        return false;
    uint64_t v = 0;
    for (const char *p = name + 4; *p; p++) {
        int d = g_ascii_xdigit_value(*p);
        if (d < 0 || g_ascii_isupper(*p))
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v == 0 || v > INT64_MAX)
        return false;
    *zxid = (int64_t)v;
    return true;
}

/* The log files of dir in zxid order: a GArray of name_entry (free with
 * free_names), or NULL with *err. */
static GArray *list_log_files(const char *dir, char **err)
{
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        *err = g_strdup_printf("txnlog: cannot read directory %s: %s", dir, gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    GArray *names = g_array_new(FALSE, FALSE, sizeof(name_entry));
    const char *name;
    while ((name = g_dir_read_name(d))) {
        name_entry e;
        if (parse_log_name(name, &e.zxid)) {
            e.path = g_build_filename(dir, name, NULL);
            g_array_append_val(names, e);
        }
    }
    g_dir_close(d);
    g_array_sort(names, name_entry_cmp);
    return names;
}

static void free_names(GArray *names)
{
    for (guint i = 0; i < names->len; i++)
        g_free(g_array_index(names, name_entry, i).path);
    g_array_free(names, TRUE);
}

static int recover(txnlog *l, char **err)
{
    GArray *names = list_log_files(l->dir, err);
    if (!names)
        return -1;

    int rc = 0;
    bool have_dbid = false;
    bool removed_any = false;
    int64_t prev = 0;
    for (guint i = 0; i < names->len && rc == 0; i++) {
        name_entry *e = &g_array_index(names, name_entry, i);
        txnlog_file f = { 0 };
        switch (scan_file(l, e->path, e->zxid, prev, i + 1 == names->len, &have_dbid, &f, err)) {
        case SCAN_KEEP:
            g_ptr_array_add(l->files, g_memdup2(&f, sizeof f));
            prev = f.last_zxid;
            break;
        case SCAN_REMOVE:
            if (unlink(e->path) < 0) {
                *err = g_strdup_printf("txnlog: cannot remove %s: %s", e->path, g_strerror(errno));
                rc = -1;
            }
            removed_any = true;
            break;
        case SCAN_ERROR:
            rc = -1;
            break;
        }
    }
    free_names(names);
    if (rc == 0 && removed_any && fsync_dir(l->dir) < 0) {
        *err = g_strdup_printf("txnlog: cannot sync directory %s: %s", l->dir, g_strerror(errno));
        rc = -1;
    }
    if (rc == 0 && l->files->len == 0) {
        /* A fresh database: pick its id. */
        l->dbid = 0;
        while (l->dbid == 0)
            l->dbid = (uint64_t)g_random_int() << 32 | g_random_int();
    }
    l->durable_zxid = l->last_zxid = prev;
    return rc;
}

/* ---- offline inspection and repair (tools) ---------------------------- */

/* Inspects one file for txnlog_inspect: fills *info, whose problem string
 * is put in *why (g_malloc'd, caller frees).  Returns true if on_record
 * asked to stop. */
static bool inspect_file(const name_entry *e, bool is_last, int64_t *prev_zxid, bool *have_dbid,
                         uint64_t *dbid, txnlog_record_fn on_record, void *ctx,
                         txnlog_file_info *info, char **why)
{
    memset(info, 0, sizeof *info);
    info->path = e->path;
    info->first_zxid = e->zxid;
    int fd = open(e->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        info->problem = *why = g_strdup_printf("cannot open: %s", g_strerror(errno));
        info->refused = true;
        return false;
    }
    char *err = NULL;
    uint64_t size = 0;
    uint8_t *m = map_path(e->path, fd, &size, &err);
    info->size = size;
    if (m == MAP_FAILED) {
        info->problem = *why = err;
        info->refused = true;
        close(fd);
        return false;
    }
    scan_result res;
    scan_contents(fd, m, size, e->path, e->zxid, *prev_zxid, *have_dbid ? dbid : NULL, on_record, ctx, &res);
    info->records = res.records;
    info->last_zxid = res.records ? res.last : 0;
    info->data_end = res.no_header ? 0 : res.end;
    info->problem_offset = info->data_end;
    if (res.no_header) {
        if (is_last && res.all_zero) {
            *why = g_strdup("incomplete file header (zkserver removes the file at start)");
        } else {
            *why = g_strdup("missing file header");
            info->refused = true;
        }
    } else if (res.fatal) {
        *why = res.fatal;
        info->refused = true;
    } else {
        if (!*have_dbid) {
            *dbid = res.dbid;
            *have_dbid = true;
        }
        if (res.bad) {
            int64_t window_base = res.records ? res.last : e->zxid - 1;
            info->valid_after = find_valid_frame_after(m, size, res.end, window_base);
            if (!is_last) {
                *why = g_strdup_printf("corrupt record (%s) in a file that is not the last one", res.bad);
                info->refused = true;
            } else if (info->valid_after) {
                *why = g_strdup_printf("corrupt record (%s) followed by a valid record at offset %" PRIu64,
                                       res.bad, info->valid_after);
                info->refused = true;
            } else {
                *why = g_strdup_printf("torn tail (%s); zkserver cuts it at start", res.bad);
            }
        } else if (res.records == 0 && !res.stopped) {
            *why = g_strdup("holds no records (zkserver removes the file at start)");
        }
    }
    info->problem = *why;
    if (res.records)
        *prev_zxid = res.last;
    if (m)
        munmap(m, size);
    close(fd);
    return res.stopped;
}

int txnlog_inspect(const char *dir, txnlog_record_fn on_record, txnlog_file_fn on_file, void *ctx,
                   char **err)
{
    *err = NULL;
    GArray *names = list_log_files(dir, err);
    if (!names)
        return -1;
    int64_t prev = 0;
    bool have_dbid = false;
    uint64_t dbid = 0;
    int count = 0;
    for (guint i = 0; i < names->len; i++) {
        txnlog_file_info info;
        char *why = NULL;
        bool stop = inspect_file(&g_array_index(names, name_entry, i), i + 1 == names->len, &prev,
                                 &have_dbid, &dbid, on_record, ctx, &info, &why);
        count++;
        if (on_file)
            on_file(ctx, &info);
        g_free(why);
        if (stop)
            break;
    }
    free_names(names);
    return count;
}

int txnlog_cut(const char *dir, const char *path, uint64_t offset, char **err)
{
    *err = NULL;
    GArray *names = list_log_files(dir, err);
    if (!names)
        return -1;
    char *base = g_path_get_basename(path);
    int rc = 0;
    guint at = names->len;
    for (guint i = 0; i < names->len; i++) {
        char *b = g_path_get_basename(g_array_index(names, name_entry, i).path);
        if (strcmp(b, base) == 0)
            at = i;
        g_free(b);
    }
    if (at == names->len) {
        *err = g_strdup_printf("txnlog: %s is not a log file of %s", path, dir);
        rc = -1;
    }
    /* Later files first, so that a failure leaves a prefix of the log. */
    for (guint i = names->len; rc == 0 && i-- > at + 1;) {
        const char *p = g_array_index(names, name_entry, i).path;
        if (unlink(p) < 0) {
            *err = g_strdup_printf("txnlog: cannot remove %s: %s", p, g_strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0) {
        const char *p = g_array_index(names, name_entry, at).path;
        if (offset <= LOG_HEADER_SIZE) {
            if (unlink(p) < 0) {
                *err = g_strdup_printf("txnlog: cannot remove %s: %s", p, g_strerror(errno));
                rc = -1;
            }
        } else {
            int fd = open(p, O_RDWR | O_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)offset) < 0 || fsync(fd) < 0) {
                *err = g_strdup_printf("txnlog: cannot cut %s at offset %" PRIu64 ": %s", p, offset,
                                       g_strerror(errno));
                rc = -1;
            }
            if (fd >= 0)
                close(fd);
        }
    }
    if (rc == 0 && fsync_dir(dir) < 0) {
        *err = g_strdup_printf("txnlog: cannot sync directory %s: %s", dir, g_strerror(errno));
        rc = -1;
    }
    g_free(base);
    free_names(names);
    return rc;
}

/* ---- the writer thread ------------------------------------------------ */

/* Records a failure of batch b (errno value `error`) with a message. */
static void batch_fail(txnlog_batch *b, int error, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static void batch_fail(txnlog_batch *b, int error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *what = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    b->error = error ? error : EIO;
    b->error_msg = g_strdup_printf("txnlog: %s: %s", what, g_strerror(b->error));
    g_free(what);
}

/* Creates, stamps, preallocates and syncs a new file for batch b. */
static int writer_create_file(txnlog *l, txnlog_batch *b)
{
    char *path = log_path(l->dir, b->first_zxid);
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        batch_fail(b, errno, "cannot create %s", path);
        g_free(path);
        return -1;
    }
    uint8_t header[LOG_HEADER_SIZE];
    encode_header(header, l->dbid, b->first_zxid);
    int r = 0;
    const char *step = "write header";
    if (pwrite_all(fd, header, sizeof header, 0) < 0) {
        r = errno;
    } else if ((step = "preallocate", r = preallocate(fd, 0, LOG_HEADER_SIZE + l->prealloc_bytes)) == 0) {
        step = "sync";
        if (fsync(fd) < 0 || fsync_dir(l->dir) < 0)
            r = errno;
    }
    if (r) {
        batch_fail(b, r, "cannot %s of new log file %s", step, path);
        close(fd);
        unlink(path);
        if (strcmp(step, "sync") == 0) {
            /* After a failed fsync nothing on this disk is trusted again. */
            l->broken_msg = g_strdup_printf("%s; the log is in a failed state until restart",
                                            b->error_msg);
        } else {
            fsync_dir(l->dir);
        }
        g_free(path);
        return -1;
    }
    l->write_fd = fd;
    l->write_off = LOG_HEADER_SIZE;
    l->alloc_end = LOG_HEADER_SIZE + l->prealloc_bytes;
    b->new_path = path;
    return 0;
}

/* Writes batch b to the current file (test hook aware); returns 0 or errno. */
static int writer_write_frames(txnlog *l, txnlog_batch *b)
{
    size_t len = b->frames->len;
    if (l->test_fail_errno) {
        int error = l->test_fail_errno;
        size_t prefix = l->test_fail_prefix < len ? l->test_fail_prefix : len;
        l->test_fail_errno = 0;
        if (pwrite_all(l->write_fd, b->frames->data, prefix, l->write_off) < 0)
            return errno;
        return error;
    }
    if (pwrite_all(l->write_fd, b->frames->data, len, l->write_off) < 0)
        return errno;
    return 0;
}

static void writer_process(txnlog *l, txnlog_batch *b)
{
    if (l->broken_msg) {
        b->error = EIO;
        b->error_msg = g_strdup(l->broken_msg);
        return;
    }
    if (l->write_fd >= 0 && (b->start_new_file || l->write_off >= l->roll_bytes)) {
        /* All of its data is already synced; give the preallocated rest
         * back (best effort: a zero tail left by a failure is harmless). */
        if (ftruncate(l->write_fd, (off_t)l->write_off) == 0)
            fsync(l->write_fd);
        close(l->write_fd);
        l->write_fd = -1;
    }
    if (l->write_fd < 0 && writer_create_file(l, b) < 0)
        return;

    uint64_t start = l->write_off;
    uint64_t need = start + b->frames->len;
    int r = 0;
    const char *step = "preallocate";
    if (need > l->alloc_end) {
        uint64_t grow = need - l->alloc_end;
        grow = (grow + l->prealloc_bytes - 1) / l->prealloc_bytes * l->prealloc_bytes;
        r = preallocate(l->write_fd, l->alloc_end, grow);
        if (r == 0)
            l->alloc_end += grow;
    }
    if (r == 0) {
        step = "write";
        r = writer_write_frames(l, b);
    }
    if (r == 0) {
        step = "fdatasync";
        atomic_fetch_add(&l->fsyncs, 1);
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        if (fdatasync(l->write_fd) < 0)
            r = errno;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        b->fsync_ms = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    }
    if (r == 0) {
        l->write_off = need;
        b->data_end = need;
        return;
    }

    if (strcmp(step, "fdatasync") == 0) {
        /* An fsync error leaves the file in an unknown state: the kernel
         * may have dropped the dirty pages and a second fsync would report
         * success for data that never reached the disk ("fsyncgate").  The
         * file is neither cut nor synced again: the log goes into the
         * failed state and its owner must stop; the next start recovers
         * from what really is on disk. */
        batch_fail(b, r, "cannot fdatasync batch of zxids 0x%" PRIx64 "..0x%" PRIx64 " at offset %" PRIu64,
                   (uint64_t)b->first_zxid, (uint64_t)b->last_zxid, start);
        l->broken_msg = g_strdup_printf("%s; the log is in a failed state until restart", b->error_msg);
        close(l->write_fd);
        l->write_fd = -1;
        g_free(b->new_path);
        b->new_path = NULL;
        return;
    }
    /* A write failed (nothing was synced): no part of this batch may survive. */
    if (b->new_path) {
        batch_fail(b, r, "cannot %s %s", step, b->new_path);
        close(l->write_fd);
        l->write_fd = -1;
        unlink(b->new_path);
        fsync_dir(l->dir);
        g_free(b->new_path);
        b->new_path = NULL;
        return;
    }
    batch_fail(b, r, "cannot %s batch of zxids 0x%" PRIx64 "..0x%" PRIx64 " at offset %" PRIu64,
               step, (uint64_t)b->first_zxid, (uint64_t)b->last_zxid, start);
    if (ftruncate(l->write_fd, (off_t)start) < 0 || fsync(l->write_fd) < 0) {
        l->broken_msg = g_strdup_printf("%s; cutting the batch off failed too (%s), the log is in a"
                                        " failed state until restart", b->error_msg, g_strerror(errno));
        close(l->write_fd);
        l->write_fd = -1;
        return;
    }
    l->alloc_end = start;
}

static void *writer_main(void *arg)
{
    txnlog *l = arg;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (!l->job && !l->stop)
            pthread_cond_wait(&l->cv, &l->mu);
        if (!l->job)
            break; /* stop requested, nothing pending */
        txnlog_batch *b = l->job;
        l->job = NULL;
        pthread_mutex_unlock(&l->mu);

        writer_process(l, b);

        pthread_mutex_lock(&l->mu);
        l->done = b;
        uint64_t one = 1;
        while (write(l->event_fd, &one, sizeof one) < 0 && errno == EINTR)
            ;
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

/* ---- public API ------------------------------------------------------- */

txnlog *txnlog_open(const char *dir, int64_t *last_zxid, txnlog_log_fn log, void *log_ctx, char **err)
{
    *err = NULL;
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        *err = g_strdup_printf("txnlog: cannot create directory %s: %s", dir, g_strerror(errno));
        return NULL;
    }
    txnlog *l = g_new0(txnlog, 1);
    l->dir = g_strdup(dir);
    l->log = log;
    l->log_ctx = log_ctx;
    l->files = g_ptr_array_new_with_free_func(txnlog_file_free);
    l->queue = g_byte_array_new();
    l->write_fd = -1;
    l->event_fd = -1;
    l->roll_bytes = TXNLOG_DEFAULT_ROLL_BYTES;
    l->prealloc_bytes = TXNLOG_DEFAULT_PREALLOC_BYTES;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    atomic_init(&l->fsyncs, 0);

    if (recover(l, err) < 0)
        goto fail;
    l->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->event_fd < 0) {
        *err = g_strdup_printf("txnlog: eventfd: %s", g_strerror(errno));
        goto fail;
    }
    int r = pthread_create(&l->thread, NULL, writer_main, l);
    if (r != 0) {
        *err = g_strdup_printf("txnlog: cannot start writer thread: %s", g_strerror(r));
        goto fail;
    }
    l->thread_started = true;
    *last_zxid = l->last_zxid;
    return l;
fail:
    txnlog_close(l);
    return NULL;
}

void txnlog_append(txnlog *l, int64_t zxid, const void *data, size_t len)
{
    if (zxid <= l->last_zxid || zxid <= 0)
        g_error("txnlog_append: zxid 0x%" PRIx64 " not above last 0x%" PRIx64,
                (uint64_t)zxid, (uint64_t)l->last_zxid);
    if (len > TXNLOG_MAX_PAYLOAD)
        g_error("txnlog_append: record of %zu bytes is too large", len);
    uint8_t header[FRAME_HEADER_SIZE];
    zk_put_be32(header, (uint32_t)(8 + len));
    zk_put_be64(header + 8, (uint64_t)zxid);
    uint32_t crc = crc32c(0, header + 8, 8);
    crc = crc32c(crc, data, len);
    zk_put_be32(header + 4, crc);
    if (l->queue->len == 0)
        l->queue_first_zxid = zxid;
    g_byte_array_append(l->queue, header, sizeof header);
    if (len)
        g_byte_array_append(l->queue, data, (guint)len);
    l->last_zxid = zxid;
}

bool txnlog_flush_start(txnlog *l)
{
    if (l->in_flight || l->queue->len == 0)
        return false;
    txnlog_batch *b = g_new0(txnlog_batch, 1);
    b->frames = l->queue;
    b->first_zxid = l->queue_first_zxid;
    b->last_zxid = l->last_zxid;
    b->fsync_ms = -1;
    b->start_new_file = l->roll_requested;
    l->roll_requested = false;
    l->queue = g_byte_array_new();
    l->in_flight = true;
    pthread_mutex_lock(&l->mu);
    l->job = b;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    return true;
}

int txnlog_event_fd(txnlog *l)
{
    return l->event_fd;
}

bool txnlog_flush_in_flight(const txnlog *l)
{
    return l->in_flight;
}

int txnlog_flush_complete(txnlog *l, int64_t *durable_zxid, char **err)
{
    uint64_t count;
    while (read(l->event_fd, &count, sizeof count) < 0 && errno == EINTR)
        ;
    pthread_mutex_lock(&l->mu);
    txnlog_batch *b = l->done;
    l->done = NULL;
    pthread_mutex_unlock(&l->mu);
    if (!b) {
        *durable_zxid = l->durable_zxid;
        return 0;
    }
    l->in_flight = false;
    int rc = 0;
    if (b->error == 0) {
        if (b->new_path) {
            txnlog_file *f = g_new0(txnlog_file, 1);
            f->path = b->new_path;
            b->new_path = NULL;
            f->first_zxid = b->first_zxid;
            g_ptr_array_add(l->files, f);
        }
        txnlog_file *cur = g_ptr_array_index(l->files, l->files->len - 1);
        cur->last_zxid = b->last_zxid;
        cur->data_end = b->data_end;
        l->durable_zxid = b->last_zxid;
        if (b->fsync_ms >= 0)
            metrics_observe(MS_FSYNCTIME, b->fsync_ms);   /* Apache's FileTxnLog.commit: fsynctime */
    } else {
        *err = b->error_msg;
        b->error_msg = NULL;
        if (b->start_new_file)
            l->roll_requested = true;
        g_byte_array_set_size(l->queue, 0);
        l->last_zxid = l->durable_zxid;
        if (l->broken_msg)
            l->failed = true;
        rc = -1;
    }
    *durable_zxid = l->durable_zxid;
    batch_free(b);
    return rc;
}

bool txnlog_failed(const txnlog *l)
{
    return l->failed;
}

int64_t txnlog_last_zxid(const txnlog *l)
{
    return l->last_zxid;
}

int64_t txnlog_durable_zxid(const txnlog *l)
{
    return l->durable_zxid;
}

uint64_t txnlog_dbid(const txnlog *l)
{
    return l->dbid;
}

uint64_t txnlog_fsync_count(const txnlog *l)
{
    return atomic_load(&((txnlog *)l)->fsyncs);
}

unsigned txnlog_file_count(const txnlog *l)
{
    return l->files->len;
}

void txnlog_roll(txnlog *l)
{
    l->roll_requested = true;
}

void txnlog_set_limits(txnlog *l, uint64_t roll_bytes, uint64_t prealloc_bytes)
{
    if (l->in_flight)
        return;
    if (roll_bytes)
        l->roll_bytes = roll_bytes;
    if (prealloc_bytes)
        l->prealloc_bytes = prealloc_bytes;
}

void txnlog_test_fail_next_write(txnlog *l, int error, size_t prefix_bytes)
{
    if (l->in_flight)
        return;
    l->test_fail_errno = error;
    l->test_fail_prefix = prefix_bytes;
}

/* Maps the durable part of f; returns NULL with *err on failure. */
static uint8_t *map_file(const txnlog_file *f, char **err)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err = g_strdup_printf("txnlog: cannot open %s: %s", f->path, g_strerror(errno));
        return NULL;
    }
    uint8_t *m = mmap(NULL, f->data_end, PROT_READ, MAP_SHARED, fd, 0);
    int saved = errno;
    close(fd);
    if (m == MAP_FAILED) {
        *err = g_strdup_printf("txnlog: cannot map %s: %s", f->path, g_strerror(saved));
        return NULL;
    }
    return m;
}

int txnlog_replay(txnlog *l, int64_t after_zxid, txnlog_replay_fn fn, void *ctx, char **err)
{
    for (guint i = 0; i < l->files->len; i++) {
        const txnlog_file *f = g_ptr_array_index(l->files, i);
        if (f->last_zxid <= after_zxid)
            continue;
        uint8_t *m = map_file(f, err);
        if (!m)
            return -1;
        int rc = 0;
        for (uint64_t pos = LOG_HEADER_SIZE; pos < f->data_end && rc == 0;) {
            int64_t zxid;
            uint64_t frame_size;
            const char *bad = check_frame(m, f->data_end, pos, &zxid, &frame_size);
            if (bad) {
                *err = g_strdup_printf("txnlog: %s: %s at offset %" PRIu64 " during replay",
                                       f->path, bad, pos);
                rc = -1;
            } else if (zxid > after_zxid &&
                       fn(ctx, zxid, m + pos + FRAME_HEADER_SIZE, frame_size - FRAME_HEADER_SIZE) != 0) {
                *err = g_strdup_printf("txnlog: replay stopped by the caller at zxid 0x%" PRIx64,
                                       (uint64_t)zxid);
                rc = -1;
            }
            pos += frame_size;
        }
        munmap(m, f->data_end);
        if (rc)
            return rc;
    }
    return 0;
}

/* Cuts file f just before its first record with zxid > zxid. */
static int cut_file_after(txnlog_file *f, int64_t zxid, char **err)
{
    uint8_t *m = map_file(f, err);
    if (!m)
        return -1;
    uint64_t pos = LOG_HEADER_SIZE;
    int64_t kept_last = 0;
    while (pos < f->data_end) {
        int64_t rec_zxid;
        uint64_t frame_size;
        const char *bad = check_frame(m, f->data_end, pos, &rec_zxid, &frame_size);
        if (bad) {
            *err = g_strdup_printf("txnlog: %s: %s at offset %" PRIu64, f->path, bad, pos);
            munmap(m, f->data_end);
            return -1;
        }
        if (rec_zxid > zxid)
            break;
        kept_last = rec_zxid;
        pos += frame_size;
    }
    munmap(m, f->data_end);
    int fd = open(f->path, O_RDWR | O_CLOEXEC);
    if (fd < 0 || ftruncate(fd, (off_t)pos) < 0 || fsync(fd) < 0) {
        *err = g_strdup_printf("txnlog: cannot cut %s at offset %" PRIu64 ": %s", f->path, pos,
                               g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    f->data_end = pos;
    f->last_zxid = kept_last;
    return 0;
}

int txnlog_truncate_after(txnlog *l, int64_t zxid, char **err)
{
    if (l->in_flight) {
        *err = g_strdup("txnlog: truncate_after while a flush is in flight");
        return -1;
    }
    /* The queue: keep frames with zxid <= zxid. */
    size_t keep = 0;
    int64_t queue_last = 0;
    while (keep < l->queue->len) {
        const uint8_t *frame = l->queue->data + keep;
        int64_t rec_zxid = (int64_t)zk_be64(frame + 8);
        if (rec_zxid > zxid)
            break;
        queue_last = rec_zxid;
        keep += 8 + zk_be32(frame);
    }
    g_byte_array_set_size(l->queue, (guint)keep);

    /* The files: the next flush starts a fresh one. */
    if (l->write_fd >= 0) {
        close(l->write_fd);
        l->write_fd = -1;
    }
    bool unlinked = false;
    int rc = 0;
    while (l->files->len > 0) {
        txnlog_file *f = g_ptr_array_index(l->files, l->files->len - 1);
        if (f->first_zxid > zxid) {
            if (unlink(f->path) < 0 && errno != ENOENT) {
                *err = g_strdup_printf("txnlog: cannot remove %s: %s", f->path, g_strerror(errno));
                rc = -1;
                break;
            }
            unlinked = true;
            g_ptr_array_remove_index(l->files, l->files->len - 1);
            continue;
        }
        if (f->last_zxid > zxid)
            rc = cut_file_after(f, zxid, err);
        break;
    }
    if (unlinked && fsync_dir(l->dir) < 0 && rc == 0) {
        *err = g_strdup_printf("txnlog: cannot sync directory %s: %s", l->dir, g_strerror(errno));
        rc = -1;
    }
    if (l->files->len > 0) {
        const txnlog_file *f = g_ptr_array_index(l->files, l->files->len - 1);
        l->durable_zxid = f->last_zxid;
    } else if (l->durable_zxid > zxid) {
        l->durable_zxid = zxid < 0 ? 0 : zxid;
    }
    l->last_zxid = l->queue->len ? queue_last : l->durable_zxid;
    return rc;
}

void txnlog_purge_before(txnlog *l, int64_t keep_from_zxid)
{
    if (keep_from_zxid < 0 || keep_from_zxid == INT64_MAX)
        return;
    /* The newest file starting at or before keep_from_zxid + 1 holds the
     * first record replay needs; everything before it is covered. */
    guint keep_index = 0;
    bool found = false;
    for (guint i = 0; i < l->files->len; i++) {
        const txnlog_file *f = g_ptr_array_index(l->files, i);
        if (f->first_zxid <= keep_from_zxid + 1) {
            keep_index = i;
            found = true;
        }
    }
    if (!found || keep_index == 0)
        return;
    for (guint i = 0; i < keep_index; i++) {
        const txnlog_file *f = g_ptr_array_index(l->files, i);
        if (unlink(f->path) < 0 && errno != ENOENT)
            emit(l, "txnlog: cannot remove %s: %s", f->path, g_strerror(errno));
    }
    g_ptr_array_remove_range(l->files, 0, keep_index);
    fsync_dir(l->dir);
}

void txnlog_close(txnlog *l)
{
    if (!l)
        return;
    if (l->thread_started) {
        pthread_mutex_lock(&l->mu);
        l->stop = true;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    batch_free(l->job);
    batch_free(l->done);
    if (l->write_fd >= 0)
        close(l->write_fd);
    if (l->event_fd >= 0)
        close(l->event_fd);
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    g_ptr_array_free(l->files, TRUE);
    g_byte_array_unref(l->queue);
    g_free(l->broken_msg);
    g_free(l->dir);
    g_free(l);
}

/* ---- cursors: reads of the durable records in bounded steps ------------- */

#define CURSOR_BLOCK ((size_t)1 << 20)

struct txnlog_cursor {
    int64_t after;          /* records <= after are skipped */
    bool found_after;       /* the record `after` was seen */
    int fd;                 /* the open file, -1 between files */
    int64_t file_first;     /* its first_zxid (the name): finds it in the list */
    uint64_t file_end;      /* its data end when last looked up */
    uint64_t pos;           /* next offset to read */
    GByteArray *buf;        /* owned: the last block */
};

/* The file of l starting at first_zxid, or NULL (purged). */
static const txnlog_file *find_file(const txnlog *l, int64_t first_zxid, guint *index)
{
    for (guint i = 0; i < l->files->len; i++) {
        const txnlog_file *f = g_ptr_array_index(l->files, i);
        if (f->first_zxid == first_zxid) {
            if (index)
                *index = i;
            return f;
        }
    }
    return NULL;
}

static int cursor_open_file(txnlog_cursor *c, const txnlog_file *f, char **err)
{
    c->fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        *err = g_strdup_printf("txnlog: cannot open %s: %s", f->path, g_strerror(errno));
        return -1;
    }
    c->file_first = f->first_zxid;
    c->file_end = f->data_end;
    c->pos = LOG_HEADER_SIZE;
    return 0;
}

txnlog_cursor *txnlog_cursor_open(txnlog *l, int64_t after_zxid, uint64_t *bytes, char **err)
{
    /* the newest durable file starting at or before after_zxid whose
     * records go at least that far */
    int found = -1;
    for (guint i = 0; i < l->files->len; i++) {
        const txnlog_file *f = g_ptr_array_index(l->files, i);
        if (f->first_zxid <= after_zxid && f->data_end > LOG_HEADER_SIZE)
            found = (int)i;
    }
    if (found < 0 || ((const txnlog_file *)g_ptr_array_index(l->files, (guint)found))->last_zxid < after_zxid) {
        *err = g_strdup_printf("txnlog: no log file holds zxid 0x%" PRIx64, (uint64_t)after_zxid);
        return NULL;
    }
    txnlog_cursor *c = g_new0(txnlog_cursor, 1);
    c->after = after_zxid;
    c->buf = g_byte_array_new();
    if (cursor_open_file(c, g_ptr_array_index(l->files, (guint)found), err) < 0) {
        txnlog_cursor_free(c);
        return NULL;
    }
    if (bytes) {
        *bytes = 0;
        for (guint i = (guint)found; i < l->files->len; i++)
            *bytes += ((const txnlog_file *)g_ptr_array_index(l->files, i))->data_end;
    }
    return c;
}

void txnlog_cursor_free(txnlog_cursor *c)
{
    if (!c)
        return;
    if (c->fd >= 0)
        close(c->fd);
    g_byte_array_free(c->buf, TRUE);
    g_free(c);
}

/* Reads exactly len bytes at off into buf; -1 with *err. */
static int pread_full(int fd, uint8_t *buf, size_t len, uint64_t off, char **err)
{
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, buf + done, len - done, (off_t)(off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *err = g_strdup_printf("txnlog: read at offset %" PRIu64 " failed: %s", off + done,
                                   n < 0 ? g_strerror(errno) : "end of file");
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

int txnlog_cursor_next(txnlog_cursor *c, txnlog *l, int64_t upto_zxid, txnlog_replay_fn fn,
                       void *ctx, size_t *nread, char **err)
{
    if (nread)
        *nread = 0;
    guint index = 0;
    const txnlog_file *f = find_file(l, c->file_first, &index);
    if (f)
        c->file_end = f->data_end;  /* it may have grown (the file being written) */
    if (c->pos >= c->file_end) {
        /* this file is done: the next one, if any */
        if (!f) {
            /* purged while read: the files after it may be gone too */
            *err = g_strdup_printf("txnlog: log file 0x%" PRIx64 " was purged while read",
                                   (uint64_t)c->file_first);
            return -1;
        }
        index++;
        if (index >= l->files->len)
            return 0;           /* the durable log ends here */
        const txnlog_file *next = g_ptr_array_index(l->files, index);
        if (next->data_end <= LOG_HEADER_SIZE)
            return 0;           /* a new file with nothing durable yet */
        close(c->fd);
        c->fd = -1;
        if (cursor_open_file(c, next, err) < 0)
            return -1;
        return 1;               /* its first block comes with the next step */
    }
    uint64_t left = c->file_end - c->pos;
    size_t want = left < CURSOR_BLOCK ? (size_t)left : CURSOR_BLOCK;
    g_byte_array_set_size(c->buf, (guint)want);
    if (pread_full(c->fd, c->buf->data, want, c->pos, err) < 0)
        return -1;
    if (want >= FRAME_HEADER_SIZE) {
        /* a record bigger than the block: read it whole */
        uint32_t length = zk_be32(c->buf->data);
        if (length >= 8 && length <= FRAME_MAX_LENGTH && 8 + (uint64_t)length > want &&
            8 + (uint64_t)length <= left) {
            want = 8 + (size_t)length;
            g_byte_array_set_size(c->buf, (guint)want);
            if (pread_full(c->fd, c->buf->data, want, c->pos, err) < 0)
                return -1;
        }
    }
    if (nread)
        *nread = want;
    uint64_t off = 0;
    while (off < want) {
        int64_t zxid;
        uint64_t frame_size;
        const char *bad = check_frame(c->buf->data, want, off, &zxid, &frame_size);
        if (bad) {
            if (off > 0 && want < left)
                break;          /* a record cut by the block's end: the next step reads it */
            *err = g_strdup_printf("txnlog: log file 0x%" PRIx64 ": %s at offset %" PRIu64,
                                   (uint64_t)c->file_first, bad, c->pos + off);
            return -1;
        }
        if (zxid == c->after) {
            c->found_after = true;
        } else if (zxid > c->after) {
            if (!c->found_after) {
                *err = g_strdup_printf("txnlog: zxid 0x%" PRIx64 " is not in the log",
                                       (uint64_t)c->after);
                return -1;
            }
            if (zxid > upto_zxid) {
                c->pos += off;
                return 0;
            }
            if (fn(ctx, zxid, c->buf->data + off + FRAME_HEADER_SIZE,
                   (size_t)(frame_size - FRAME_HEADER_SIZE)) != 0) {
                *err = g_strdup("txnlog: the read was stopped by the caller");
                return -1;
            }
        }
        off += frame_size;
    }
    c->pos += off;
    return 1;
}
