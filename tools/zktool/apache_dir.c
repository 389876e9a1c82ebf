/* apache_dir.c — Apache data-directory files (see apache_dir.h). */
#include "apache_dir.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "apache_fmt.h"
#include "files.h"

/* Util.getZxidFromName: the part after "<prefix>." up to the next '.' is
 * a hex long (Long.parseLong(s, 16)). */
static bool parse_name(const char *name, const char *prefix, int64_t *zxid, const char **suffix)
{
    size_t plen = strlen(prefix);
    if (strncmp(name, prefix, plen) != 0 || name[plen] != '.')
        return false;
    const char *p = name + plen + 1;
    const char *dot = strchr(p, '.');
    size_t n = dot ? (size_t)(dot - p) : strlen(p);
    if (n == 0 || n > 16)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        int d = g_ascii_xdigit_value(p[i]);
        if (d < 0)
            return false;
        v = v << 4 | (uint64_t)d;
    }
    if (v > INT64_MAX)
        return false;
    *zxid = (int64_t)v;
    *suffix = dot ? dot + 1 : NULL;
    return true;
}

static gint cmp_asc(gconstpointer a, gconstpointer b)
{
    const adir_file *x = a, *y = b;
    return x->zxid < y->zxid ? -1 : x->zxid > y->zxid;
}

static gint cmp_desc(gconstpointer a, gconstpointer b)
{
    return cmp_asc(b, a);
}

GArray *adir_list(const char *dir, const char *prefix, bool ascending, char **err)
{
    GError *gerr = NULL;
    GDir *d = g_dir_open(dir, 0, &gerr);
    if (!d) {
        *err = g_strdup_printf("cannot read directory %s: %s", dir, gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    GArray *files = g_array_new(FALSE, FALSE, sizeof(adir_file));
    const char *name;
    while ((name = g_dir_read_name(d))) {
        adir_file f;
        const char *suffix;
        if (!parse_name(name, prefix, &f.zxid, &suffix))
            continue;
        f.path = g_build_filename(dir, name, NULL);
        if (!g_file_test(f.path, G_FILE_TEST_IS_REGULAR)) {
            g_free(f.path);
            continue;
        }
        f.suffix = suffix ? g_strdup(suffix) : NULL;
        g_array_append_val(files, f);
    }
    g_dir_close(d);
    g_array_sort(files, ascending ? cmp_asc : cmp_desc);
    return files;
}

void adir_list_free(GArray *files)
{
    if (!files)
        return;
    for (guint i = 0; i < files->len; i++) {
        adir_file *f = &g_array_index(files, adir_file, i);
        g_free(f->path);
        g_free(f->suffix);
    }
    g_array_free(files, TRUE);
}

char *adir_name(const char *dir, const char *prefix, int64_t zxid)
{
    return g_strdup_printf("%s/%s.%" PRIx64, dir, prefix, (uint64_t)zxid);
}

bool adir_has_data(const char *dir)
{
    char *err = NULL;
    bool any = false;
    const char *prefixes[] = { "log", "snapshot" };
    for (int i = 0; i < 2 && !any; i++) {
        GArray *files = adir_list(dir, prefixes[i], true, &err);
        g_free(err);
        err = NULL;
        any = files && files->len > 0;
        adir_list_free(files);
    }
    return any;
}

int adir_cut_log(const char *dir, const char *path, uint64_t offset, char **err)
{
    GArray *files = adir_list(dir, "log", true, err);
    if (!files)
        return -1;
    int rc = 0;
    guint at = files->len;
    for (guint i = 0; i < files->len; i++)
        if (strcmp(g_array_index(files, adir_file, i).path, path) == 0)
            at = i;
    if (at == files->len) {
        *err = g_strdup_printf("%s is not a log file of %s", path, dir);
        rc = -1;
    }
    for (guint i = files->len; rc == 0 && i-- > at + 1;) {
        const char *p = g_array_index(files, adir_file, i).path;
        if (unlink(p) < 0) {
            *err = g_strdup_printf("cannot remove %s: %s", p, g_strerror(errno));
            rc = -1;
        }
    }
    if (rc == 0) {
        if (offset <= APACHE_FILE_HEADER_SIZE) {
            if (unlink(path) < 0) {
                *err = g_strdup_printf("cannot remove %s: %s", path, g_strerror(errno));
                rc = -1;
            }
        } else {
            int fd = open(path, O_RDWR | O_CLOEXEC);
            if (fd < 0 || ftruncate(fd, (off_t)offset) < 0 || fsync(fd) < 0) {
                *err = g_strdup_printf("cannot cut %s at offset %" PRIu64 ": %s", path, offset,
                                       g_strerror(errno));
                rc = -1;
            }
            if (fd >= 0)
                close(fd);
        }
    }
    if (rc == 0 && zt_sync_dir(dir) < 0) {
        *err = g_strdup_printf("cannot sync directory %s: %s", dir, g_strerror(errno));
        rc = -1;
    }
    adir_list_free(files);
    return rc;
}

bool adir_scan_log(const char *path, size_t max_buffer, adir_record_fn fn, void *ctx,
                   adir_log_scan *out, char **err)
{
    memset(out, 0, sizeof *out);
    const uint8_t *buf;
    size_t len;
    GMappedFile *mf = zt_map_file(path, &buf, &len, err);
    if (!mf)
        return false;
    apache_file_header h;
    if (!apache_header_read(buf, len, &h)) {
        out->problem = "shorter than a file header";
        goto out;
    }
    out->dbid = h.dbid;
    if (h.magic != APACHE_LOG_MAGIC) {
        out->problem = "invalid magic number (not an Apache txn log)";
        out->fatal = true;
        goto out;
    }
    apache_log_reader r;
    apache_log_reader_init(&r, buf, len, max_buffer);
    out->end = r.pos;
    for (;;) {
        apache_log_record rec;
        apache_log_status st = apache_log_next(&r, &rec);
        out->problem_offset = rec.offset;
        if (st == APACHE_LOG_END)
            break;
        if (st == APACHE_LOG_TORN) {
            out->problem = "torn record";
            break;
        }
        if (st == APACHE_LOG_BAD_EOR) {
            out->problem = "record not ended by 'B'";
            break;
        }
        if (st == APACHE_LOG_BAD_LENGTH) {
            out->problem = "unreasonable record length";
            out->fatal = true;
            break;
        }
        if (!rec.checksum_ok) {
            out->problem = "checksum mismatch";
            out->fatal = true;
            break;
        }
        txn_view t;
        if (txnfmt_parse(rec.data, rec.len, &t)) {
            out->problem = "undecodable transaction";
            out->fatal = true;
            break;
        }
        if (fn && fn(ctx, path, rec.offset, &t) != 0) {
            out->stopped = true;
            break;
        }
        if (out->records++ == 0)
            out->first_zxid = t.hdr.zxid;
        out->last_zxid = t.hdr.zxid;
        out->end = r.pos;
    }
out:
    g_mapped_file_unref(mf);
    return true;
}
