/* logfile.c — the log destination and its reopening (see logfile.h). */
#include "logfile.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <unistd.h>

/* One log destination per process: the path given at start-up. */
static char *log_path;

static int attach(const char *path, char **err)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        *err = g_strdup_printf("cannot open the log file %s: %s", path, g_strerror(errno));
        return -1;
    }
    /* dup2 is atomic: a writer on another thread sees the old or the new file. */
    if (dup2(fd, STDOUT_FILENO) < 0 || dup2(fd, STDERR_FILENO) < 0) {
        *err = g_strdup_printf("cannot redirect output to %s: %s", path, g_strerror(errno));
        close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

int logfile_open(const char *path, char **err)
{
    if (attach(path, err) < 0)
        return -1;
    g_free(log_path);
    log_path = g_strdup(path);
    return 0;
}

int logfile_reopen(char **err)
{
    if (!log_path)
        return 0;
    return attach(log_path, err) < 0 ? -1 : 1;
}

const char *logfile_path(void)
{
    return log_path;
}
