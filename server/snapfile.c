/*
 * snapfile.c — writing (temp file, fsync, rename, fsync dir), validating,
 * loading and purging snapshot.<zxid> files.  See server/snapfile.h and
 * docs/formats.md.
 */
#include "snapfile.h"

#include "zk/crc32c.h"
#include "zk/jute.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Header: magic, version, zxid, crc32c of the first 16 bytes, reserved. */
#define SNAP_MAGIC 0x5A4B534Eu       /* "ZKSN" */
#define SNAP_END_MAGIC 0x5A4B5345u   /* "ZKSE" */
#define SNAP_VERSION 1u
#define SNAP_HEADER_SIZE 24u
/* Trailer: u64 body length, u32 crc32c of the body, end magic. */
#define SNAP_TRAILER_SIZE 16u
#define SNAP_BUFFER_SIZE ((size_t)1 << 20)

struct snapfile_writer {
    char *dir;          /* owned */
    char *tmp_path;     /* owned */
    char *final_path;   /* owned */
    int fd;
    uint8_t *buf;       /* owned, SNAP_BUFFER_SIZE bytes */
    size_t buffered;
    uint64_t body_len;
    uint32_t body_crc;
    int error;          /* first errno seen, 0 if none */
};

static int write_all(int fd, const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads exactly len bytes at off; returns 0, or -1 (errno, or 0 on EOF). */
static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len > 0) {
        ssize_t n = pread(fd, p, len, (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = 0;
            return -1;
        }
        p += n;
        len -= (size_t)n;
        off += (uint64_t)n;
    }
    return 0;
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

static void writer_free(snapfile_writer *w)
{
    if (w->fd >= 0)
        close(w->fd);
    g_free(w->dir);
    g_free(w->tmp_path);
    g_free(w->final_path);
    g_free(w->buf);
    g_free(w);
}

snapfile_writer *snapfile_writer_open(const char *dir, int64_t zxid, char **err)
{
    *err = NULL;
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        *err = g_strdup_printf("snapfile: cannot create directory %s: %s", dir, g_strerror(errno));
        return NULL;
    }
    snapfile_writer *w = g_new0(snapfile_writer, 1);
    w->dir = g_strdup(dir);
    w->final_path = g_strdup_printf("%s/snapshot.%016" PRIx64, dir, (uint64_t)zxid);
    w->tmp_path = g_strdup_printf("%s.tmp", w->final_path);
    w->buf = g_malloc(SNAP_BUFFER_SIZE);
    w->fd = open(w->tmp_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (w->fd < 0) {
        *err = g_strdup_printf("snapfile: cannot create %s: %s", w->tmp_path, g_strerror(errno));
        writer_free(w);
        return NULL;
    }
    uint8_t *header = w->buf;
    memset(header, 0, SNAP_HEADER_SIZE);
    zk_put_be32(header, SNAP_MAGIC);
    zk_put_be32(header + 4, SNAP_VERSION);
    zk_put_be64(header + 8, (uint64_t)zxid);
    zk_put_be32(header + 16, crc32c(0, header, 16));
    w->buffered = SNAP_HEADER_SIZE;
    return w;
}

static int writer_drain(snapfile_writer *w)
{
    if (w->buffered && write_all(w->fd, w->buf, w->buffered) < 0) {
        if (!w->error)
            w->error = errno;
        return -1;
    }
    w->buffered = 0;
    return 0;
}

int snapfile_writer_write(snapfile_writer *w, const void *buf, size_t len)
{
    if (w->error) {
        errno = w->error;
        return -1;
    }
    const uint8_t *p = buf;
    w->body_crc = crc32c(w->body_crc, p, len);
    w->body_len += len;
    while (len > 0) {
        if (w->buffered == SNAP_BUFFER_SIZE && writer_drain(w) < 0)
            return -1;
        size_t room = SNAP_BUFFER_SIZE - w->buffered;
        size_t n = len < room ? len : room;
        memcpy(w->buf + w->buffered, p, n);
        w->buffered += n;
        p += n;
        len -= n;
    }
    return 0;
}

int snapfile_writer_commit(snapfile_writer *w, char **err)
{
    *err = NULL;
    const char *step = "write";
    if (!w->error) {
        uint8_t trailer[SNAP_TRAILER_SIZE];
        zk_put_be64(trailer, w->body_len);
        zk_put_be32(trailer + 8, w->body_crc);
        zk_put_be32(trailer + 12, SNAP_END_MAGIC);
        if (writer_drain(w) == 0 && write_all(w->fd, trailer, sizeof trailer) < 0)
            w->error = errno;
    }
    if (!w->error) {
        step = "fsync";
        if (fsync(w->fd) < 0)
            w->error = errno;
    }
    if (!w->error) {
        step = "close";
        int r = close(w->fd);
        w->fd = -1;
        if (r < 0)
            w->error = errno;
    }
    if (!w->error) {
        step = "rename";
        if (rename(w->tmp_path, w->final_path) < 0)
            w->error = errno;
    }
    if (!w->error) {
        /* The snapshot is in place; a failing directory sync is reported
         * but the file stays (it is complete and valid). */
        step = "sync directory of";
        if (fsync_dir(w->dir) < 0) {
            *err = g_strdup_printf("snapfile: cannot %s %s: %s", step, w->final_path, g_strerror(errno));
            writer_free(w);
            return -1;
        }
        writer_free(w);
        return 0;
    }
    *err = g_strdup_printf("snapfile: cannot %s %s: %s", step, w->tmp_path, g_strerror(w->error));
    unlink(w->tmp_path);
    writer_free(w);
    return -1;
}

void snapfile_writer_abort(snapfile_writer *w)
{
    if (!w)
        return;
    if (w->fd >= 0) {
        close(w->fd);
        w->fd = -1;
    }
    unlink(w->tmp_path);
    writer_free(w);
}

/* ---- reading ---------------------------------------------------------- */

/*
 * Checks the snapshot at path (named for name_zxid).  When body is not
 * NULL, also returns the body (g_malloc'd) and its length.  Returns NULL if
 * valid, else a g_malloc'd reason.
 */
static char *check_snapshot(const char *path, int64_t name_zxid, uint8_t **body, size_t *body_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return g_strdup_printf("cannot open: %s", g_strerror(errno));
    char *why = NULL;
    uint8_t *data = NULL;
    struct stat st;
    uint8_t header[SNAP_HEADER_SIZE], trailer[SNAP_TRAILER_SIZE];
    if (fstat(fd, &st) < 0) {
        why = g_strdup_printf("cannot stat: %s", g_strerror(errno));
        goto out;
    }
    uint64_t size = (uint64_t)st.st_size;
    if (size < SNAP_HEADER_SIZE + SNAP_TRAILER_SIZE) {
        why = g_strdup_printf("too short (%" PRIu64 " bytes)", size);
        goto out;
    }
    if (pread_all(fd, header, sizeof header, 0) < 0 ||
        pread_all(fd, trailer, sizeof trailer, size - SNAP_TRAILER_SIZE) < 0) {
        why = g_strdup_printf("read error: %s", g_strerror(errno));
        goto out;
    }
    if (zk_be32(header) != SNAP_MAGIC || zk_be32(header + 16) != crc32c(0, header, 16)) {
        why = g_strdup("bad header");
        goto out;
    }
    if (zk_be32(header + 4) != SNAP_VERSION) {
        why = g_strdup_printf("unsupported version %u", zk_be32(header + 4));
        goto out;
    }
    if ((int64_t)zk_be64(header + 8) != name_zxid) {
        why = g_strdup("header zxid does not match the file name");
        goto out;
    }
    uint64_t len = zk_be64(trailer);
    if (zk_be32(trailer + 12) != SNAP_END_MAGIC || len != size - SNAP_HEADER_SIZE - SNAP_TRAILER_SIZE) {
        why = g_strdup_printf("bad trailer or length (file size %" PRIu64 ")", size);
        goto out;
    }
    if (len > SIZE_MAX) {
        why = g_strdup("too large for this machine");
        goto out;
    }
    uint32_t crc = 0;
    if (body) {
        data = g_try_malloc(len ? (size_t)len : 1);
        if (!data) {
            why = g_strdup_printf("cannot allocate %" PRIu64 " bytes", len);
            goto out;
        }
        if (len && pread_all(fd, data, (size_t)len, SNAP_HEADER_SIZE) < 0) {
            why = g_strdup_printf("read error: %s", errno ? g_strerror(errno) : "short file");
            goto out;
        }
        crc = crc32c(0, data, (size_t)len);
    } else {
        uint8_t *chunk = g_malloc(SNAP_BUFFER_SIZE);
        for (uint64_t off = 0; off < len && !why;) {
            size_t n = len - off < SNAP_BUFFER_SIZE ? (size_t)(len - off) : SNAP_BUFFER_SIZE;
            if (pread_all(fd, chunk, n, SNAP_HEADER_SIZE + off) < 0)
                why = g_strdup_printf("read error: %s", errno ? g_strerror(errno) : "short file");
            crc = crc32c(crc, chunk, n);
            off += n;
        }
        g_free(chunk);
        if (why)
            goto out;
    }
    if (crc != zk_be32(trailer + 8)) {
        why = g_strdup("body checksum mismatch");
        goto out;
    }
    if (body) {
        *body = len ? data : NULL;
        *body_len = (size_t)len;
        if (len)
            data = NULL;
    }
out:
    g_free(data);
    close(fd);
    return why;
}

typedef struct snap_entry {
    int64_t zxid;
    char *path; /* owned */
} snap_entry;

/* Newest first. */
static gint snap_entry_cmp_desc(gconstpointer a, gconstpointer b)
{
    const snap_entry *x = a, *y = b;
    return x->zxid > y->zxid ? -1 : x->zxid < y->zxid;
}

/* Parses "snapshot.<16 lowercase hex>" with an optional ".tmp" suffix. */
static bool parse_snap_name(const char *name, int64_t *zxid, bool *is_tmp)
{
    static const char prefix[] = "snapshot.";
    size_t plen = sizeof prefix - 1;
    size_t len = strlen(name);
    if (strncmp(name, prefix, plen) != 0)
        return false;
    if (len == plen + 16)
        *is_tmp = false;
    else if (len == plen + 16 + 4 && strcmp(name + plen + 16, ".tmp") == 0)
        *is_tmp = true;
    else
        return false;
    uint64_t v = 0;
    for (size_t i = plen; i < plen + 16; i++) {
        int d = g_ascii_xdigit_value(name[i]);
        if (d < 0 || g_ascii_isupper(name[i]))
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v > INT64_MAX)
        return false;
    *zxid = (int64_t)v;
    return true;
}

/*
 * Lists the snapshots in dir, newest first, into a GArray of snap_entry
 * (caller frees with free_entries).  Temp files are skipped, unlinked (and
 * reported), or listed too, as tmp says.  Returns NULL with errno set if
 * the directory cannot be read.
 */
enum tmp_files { TMP_SKIP, TMP_REMOVE, TMP_LIST };
static GArray *list_snapshots(const char *dir, enum tmp_files tmp, txnlog_log_fn log, void *log_ctx)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return NULL;
    GArray *entries = g_array_new(FALSE, FALSE, sizeof(snap_entry));
    const char *name;
    while ((name = g_dir_read_name(d))) {
        snap_entry e;
        bool is_tmp;
        if (!parse_snap_name(name, &e.zxid, &is_tmp))
            continue;
        e.path = g_build_filename(dir, name, NULL);
        if (is_tmp && tmp != TMP_LIST) {
            if (tmp == TMP_REMOVE) {
                char *msg = g_strdup_printf("snapfile: removing stale temp file %s", e.path);
                if (log)
                    log(log_ctx, msg);
                else
                    fprintf(stderr, "%s\n", msg);
                g_free(msg);
                unlink(e.path);
            }
            g_free(e.path);
            continue;
        }
        g_array_append_val(entries, e);
    }
    g_dir_close(d);
    g_array_sort(entries, snap_entry_cmp_desc);
    return entries;
}

static void free_entries(GArray *entries)
{
    for (guint i = 0; i < entries->len; i++)
        g_free(g_array_index(entries, snap_entry, i).path);
    g_array_free(entries, TRUE);
}

int snapfile_load_newest(const char *dir, int64_t *zxid, uint8_t **body, size_t *body_len,
                         txnlog_log_fn log, void *log_ctx, char **err)
{
    *err = NULL;
    *body = NULL;
    *body_len = 0;
    GArray *entries = list_snapshots(dir, TMP_REMOVE, log, log_ctx);
    if (!entries) {
        if (errno == ENOENT)
            return 0;
        *err = g_strdup_printf("snapfile: cannot read directory %s: %s", dir, g_strerror(errno));
        return -1;
    }
    int found = 0;
    for (guint i = 0; i < entries->len && !found; i++) {
        const snap_entry *e = &g_array_index(entries, snap_entry, i);
        char *why = check_snapshot(e->path, e->zxid, body, body_len);
        if (!why) {
            *zxid = e->zxid;
            found = 1;
            break;
        }
        char *msg = g_strdup_printf("snapfile: skipping invalid snapshot %s: %s", e->path, why);
        if (log)
            log(log_ctx, msg);
        else
            fprintf(stderr, "%s\n", msg);
        g_free(msg);
        g_free(why);
    }
    free_entries(entries);
    return found;
}

int64_t snapfile_purge(const char *dir, int retain)
{
    if (retain < 1)
        retain = 1;
    GArray *entries = list_snapshots(dir, TMP_SKIP, NULL, NULL);
    if (!entries)
        return -1;
    int kept = 0;
    int64_t oldest_kept = -1;
    for (guint i = 0; i < entries->len; i++) {
        const snap_entry *e = &g_array_index(entries, snap_entry, i);
        if (kept < retain) {
            char *why = check_snapshot(e->path, e->zxid, NULL, NULL);
            if (!why) {
                kept++;
                oldest_kept = e->zxid;
                continue;
            }
            g_free(why);
        }
        unlink(e->path);
    }
    free_entries(entries);
    fsync_dir(dir);
    return oldest_kept;
}

void snapfile_drop_after(const char *dir, int64_t zxid)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (!d)
        return;
    const char *name;
    while ((name = g_dir_read_name(d))) {
        int64_t z;
        bool is_tmp;
        if (!parse_snap_name(name, &z, &is_tmp) || z <= zxid)
            continue;
        char *p = g_build_filename(dir, name, NULL);
        unlink(p);
        g_free(p);
    }
    g_dir_close(d);
}

int snapfile_list(const char *dir, snapfile_list_fn fn, void *ctx)
{
    GArray *entries = list_snapshots(dir, TMP_LIST, NULL, NULL);
    if (!entries)
        return -1;
    for (guint i = 0; i < entries->len; i++) {
        const snap_entry *e = &g_array_index(entries, snap_entry, i);
        fn(ctx, e->path, e->zxid, g_str_has_suffix(e->path, ".tmp"));
    }
    int n = (int)entries->len;
    free_entries(entries);
    return n;
}

char *snapfile_read(const char *path, int64_t *zxid, uint8_t **body, size_t *body_len)
{
    *body = NULL;
    *body_len = 0;
    char *base = g_path_get_basename(path);
    int64_t name_zxid;
    bool is_tmp;
    bool named = parse_snap_name(base, &name_zxid, &is_tmp) && !is_tmp;
    g_free(base);
    if (!named) {
        /* Any other name: the header's zxid stands for the name. */
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return g_strdup_printf("cannot open: %s", g_strerror(errno));
        uint8_t header[SNAP_HEADER_SIZE];
        int r = pread_all(fd, header, sizeof header, 0);
        close(fd);
        if (r < 0)
            return g_strdup("too short for a snapshot header");
        name_zxid = (int64_t)zk_be64(header + 8);
    }
    char *why = check_snapshot(path, name_zxid, body, body_len);
    if (!why)
        *zxid = name_zxid;
    return why;
}
