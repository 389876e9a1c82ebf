/* vectors.c — test vector file helpers (see vectors.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vectors.h"

#include <glib.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char **vectors_read_lines(const char *path)
{
    char *text = NULL;
    GError *err = NULL;
    if (!g_file_get_contents(path, &text, NULL, &err)) {
        fail_msg("cannot read %s (run the tests from the repo root): %s", path, err->message);
        g_error_free(err);
        return NULL;
    }
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    return lines;
}

GPtrArray *vectors_read_rows(const char *path)
{
    char **lines = vectors_read_lines(path);
    GPtrArray *rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    for (char **l = lines; lines && *l; l++)
        if (**l)
            g_ptr_array_add(rows, g_strsplit(*l, "\t", -1));
    g_strfreev(lines);
    return rows;
}

uint8_t *vectors_unhex(const char *hex, size_t *len_out)
{
    size_t n = strlen(hex) / 2;
    uint8_t *out = g_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = (uint8_t)(g_ascii_xdigit_value(hex[2 * i]) << 4 | g_ascii_xdigit_value(hex[2 * i + 1]));
    out[n] = 0;
    if (len_out)
        *len_out = n;
    return out;
}

void unit_flip_byte(const char *path, uint64_t off, uint8_t mask)
{
    int fd = open(path, O_RDWR);
    assert_true(fd >= 0);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, (off_t)off), 1);
    b ^= mask;
    assert_int_equal(pwrite(fd, &b, 1, (off_t)off), 1);
    close(fd);
}

char *unit_stat_str(const zk_stat *s, char sep)
{
    char *out = g_strdup_printf("%" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT " %" G_GINT64_FORMAT
                                " %d %d %d %" G_GINT64_FORMAT " %d %d %" G_GINT64_FORMAT,
                                s->czxid, s->mzxid, s->ctime, s->mtime, s->version, s->cversion, s->aversion,
                                s->ephemeral_owner, s->data_length, s->num_children, s->pzxid);
    for (char *p = out; *p; p++)
        if (*p == ' ')
            *p = sep;
    return out;
}

bool unit_tempdir_make(char *dir, size_t cap, const char *name)
{
    if (g_snprintf(dir, cap, "/tmp/%s-XXXXXX", name) >= (int)cap)
        return false;
    return mkdtemp(dir) != NULL;
}

void unit_tempdir_remove(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    if (d) {
        const char *name;
        while ((name = g_dir_read_name(d))) {
            char *p = g_build_filename(dir, name, NULL);
            unlink(p);
            g_free(p);
        }
        g_dir_close(d);
    }
    rmdir(dir);
}
