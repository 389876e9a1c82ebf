/* files.c — directory sync, durable writes, copies (see files.h). */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

GMappedFile *zt_map_file(const char *path, const uint8_t **buf, size_t *len, char **err)
{
    GError *gerr = NULL;
    GMappedFile *mf = g_mapped_file_new(path, FALSE, &gerr);
    if (!mf) {
        *err = g_strdup_printf("%s: %s", path, gerr->message);
        g_error_free(gerr);
        return NULL;
    }
    const char *p = g_mapped_file_get_contents(mf);
    *buf = (const uint8_t *)(p ? p : "");
    *len = g_mapped_file_get_length(mf);
    return mf;
}

int zt_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int r = fsync(fd);
    close(fd);
    return r;
}

/* Writes all of data to fd and syncs it; 0 or -1 (errno). */
static int write_all_sync(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return fsync(fd);
}

int zt_write_file(const char *path, const void *data, size_t len, char **err)
{
    char *tmp = g_strconcat(path, ".tmp", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || write_all_sync(fd, data, len) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        *err = g_strdup_printf("cannot write %s: %s", path, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        unlink(tmp);
        rc = -1;
    } else {
        char *dir = g_path_get_dirname(path);
        zt_sync_dir(dir);
        g_free(dir);
    }
    g_free(tmp);
    return rc;
}

int zt_copy_file(const char *from, const char *to, char **err)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(from, &data, &len, &gerr)) {
        *err = g_strdup(gerr->message);
        g_error_free(gerr);
        return -1;
    }
    int fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    int rc = 0;
    if (fd < 0 || write_all_sync(fd, data, len) < 0) {
        *err = g_strdup_printf("cannot write %s: %s", to, g_strerror(errno));
        rc = -1;
    }
    if (fd >= 0)
        close(fd);
    g_free(data);
    return rc;
}
