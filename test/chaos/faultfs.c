/*
 * faultfs.c — an LD_PRELOAD shim that makes the disk fail for one process
 * (and the children it forks), for the chaos and disk-fault tests.  No
 * kernel module, no root, no FUSE: it wraps the libc calls zkserver uses to
 * write its data directory.
 *
 * Which files: those whose path (readlink of /proc/self/fd/N) contains the
 * string in $FAULTFS_MATCH (e.g. the replica's "/data/zkfs-v1/"); with
 * "only=PREFIX" in the control file, only files whose base name starts
 * with PREFIX ("log." = the transaction log).  Without $FAULTFS_MATCH the
 * shim does nothing.
 *
 * What: the control file $FAULTFS_CTL, re-read whenever its mtime or size
 * changes, holds space- or line-separated words (an empty or missing file
 * means no fault):
 *   fsync=eio          every fsync/fdatasync of a matching file fails (EIO)
 *   fsync=eio:N        the next N of them fail, then they succeed again
 *   write=enospc       write/pwrite/fallocate/posix_fallocate fail (ENOSPC)
 *   write=eio          the same with EIO
 *   short=1            write/pwrite write at most half of what was asked
 *                      (at least 1 byte) and return the short count
 *   fsync_delay_ms=N   every fsync/fdatasync of a matching file first
 *                      sleeps N ms (a very slow disk)
 *   only=PREFIX        restrict the faults to base names starting with PREFIX
 * A count ("eio:N") starts again each time the file changes.
 *
 * Every injected fault is counted in $FAULTFS_CTL.hits (one line per fault:
 * "<call> <EIO|ENOSPC|short|delay> <path>"), so a test can tell that it
 * fired.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

typedef struct fault_state {
    bool loaded;
    struct timespec mtime;
    off_t size;
    int fsync_errno;      /* 0 = none */
    long fsync_left;      /* -1 = unlimited */
    int write_errno;
    bool short_writes;
    long fsync_delay_ms;
    char only[128];
} fault_state;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static fault_state st;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off_t);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_posix_fallocate)(int, off_t, off_t);

static void *next_sym(const char *name)
{
    return dlsym(RTLD_NEXT, name);
}

/* zkserver forks its snapshot writer while its log thread may be inside
 * the shim: hold the lock across fork so the child never inherits it taken. */
static void before_fork(void)
{
    pthread_mutex_lock(&mu);
}

static void after_fork(void)
{
    pthread_mutex_unlock(&mu);
}

__attribute__((constructor)) static void faultfs_init(void)
{
    pthread_atfork(before_fork, after_fork, after_fork);
    real_write = next_sym("write");
    real_pwrite = next_sym("pwrite");
    real_pwrite64 = next_sym("pwrite64");
    real_fsync = next_sym("fsync");
    real_fdatasync = next_sym("fdatasync");
    real_fallocate = next_sym("fallocate");
    real_posix_fallocate = next_sym("posix_fallocate");
}

/* Parses the control file into st if it changed.  Called with mu held. */
static void reload(void)
{
    /* At most every 20 ms: write() on sockets goes through here too. */
    static struct timespec last;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
    if (st.loaded && (now.tv_sec - last.tv_sec) * 1000 + (now.tv_nsec - last.tv_nsec) / 1000000 < 20)
        return;
    last = now;
    const char *ctl = getenv("FAULTFS_CTL");
    struct stat sb;
    if (!ctl || stat(ctl, &sb) < 0) {
        memset(&st, 0, sizeof st);
        st.loaded = true;
        return;
    }
    if (st.loaded && sb.st_mtim.tv_sec == st.mtime.tv_sec && sb.st_mtim.tv_nsec == st.mtime.tv_nsec &&
        sb.st_size == st.size)
        return;
    memset(&st, 0, sizeof st);
    st.loaded = true;
    st.mtime = sb.st_mtim;
    st.size = sb.st_size;
    FILE *f = fopen(ctl, "re");
    if (!f)
        return;
    char word[128];
    while (fscanf(f, "%127s", word) == 1) {
        if (strcmp(word, "fsync=eio") == 0) {
            st.fsync_errno = EIO;
            st.fsync_left = -1;
        } else if (strncmp(word, "fsync=eio:", 10) == 0) {
            st.fsync_errno = EIO;
            st.fsync_left = strtol(word + 10, NULL, 10);
        } else if (strcmp(word, "write=enospc") == 0) {
            st.write_errno = ENOSPC;
        } else if (strcmp(word, "write=eio") == 0) {
            st.write_errno = EIO;
        } else if (strcmp(word, "short=1") == 0) {
            st.short_writes = true;
        } else if (strncmp(word, "fsync_delay_ms=", 15) == 0) {
            st.fsync_delay_ms = strtol(word + 15, NULL, 10);
        } else if (strncmp(word, "only=", 5) == 0) {
            snprintf(st.only, sizeof st.only, "%s", word + 5);
        }
    }
    fclose(f);
}

/* True if fd is a file the faults apply to; its path goes to path. */
static bool targeted(int fd, char *path, size_t cap)
{
    const char *match = getenv("FAULTFS_MATCH");
    if (!match || !*match)
        return false;
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, cap - 1);
    if (n <= 0)
        return false;
    path[n] = '\0';
    if (!strstr(path, match))
        return false;
    if (st.only[0]) {
        const char *base = strrchr(path, '/');
        base = base ? base + 1 : path;
        if (strncmp(base, st.only, strlen(st.only)) != 0)
            return false;
    }
    return true;
}

static void note_hit(const char *call, const char *what, const char *path)
{
    const char *ctl = getenv("FAULTFS_CTL");
    if (!ctl)
        return;
    char hits[PATH_MAX];
    snprintf(hits, sizeof hits, "%s.hits", ctl);
    int fd = open(hits, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0)
        return;
    char line[PATH_MAX + 64];
    int len = snprintf(line, sizeof line, "%s %s %s\n", call, what, path);
    if (len > 0)
        real_write(fd, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
    close(fd);
}

/* Decides the fate of a write-like call on fd: returns an errno value to
 * fail with, 0 to go on; *limit is lowered for a short write. */
static int write_fault(const char *call, int fd, size_t *limit)
{
    char path[PATH_MAX];
    int err = 0;
    bool shorten = false;
    pthread_mutex_lock(&mu);
    reload();
    if ((st.write_errno || st.short_writes) && targeted(fd, path, sizeof path)) {
        err = st.write_errno;
        shorten = !err && st.short_writes && *limit > 1;
    }
    pthread_mutex_unlock(&mu);
    if (err)
        note_hit(call, strerrorname_np(err), path);
    else if (shorten) {
        static int shorts_noted;   /* short writes are many: note the first ones */
        *limit = *limit / 2;
        if (__atomic_fetch_add(&shorts_noted, 1, __ATOMIC_RELAXED) < 20)
            note_hit(call, "short", path);
    }
    return err;
}

/* The same for fsync-like calls (may sleep first). */
static int sync_fault(const char *call, int fd)
{
    char path[PATH_MAX];
    int err = 0;
    long delay = 0;
    pthread_mutex_lock(&mu);
    reload();
    if ((st.fsync_errno || st.fsync_delay_ms) && targeted(fd, path, sizeof path)) {
        delay = st.fsync_delay_ms;
        if (st.fsync_errno && st.fsync_left != 0) {
            err = st.fsync_errno;
            if (st.fsync_left > 0)
                st.fsync_left--;
        }
    }
    pthread_mutex_unlock(&mu);
    if (delay > 0) {
        note_hit(call, "delay", path);
        struct timespec ts = { delay / 1000, (delay % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
            ;
    }
    if (err)
        note_hit(call, strerrorname_np(err), path);
    return err;
}

ssize_t write(int fd, const void *buf, size_t len)
{
    int err = write_fault("write", fd, &len);
    if (err) {
        errno = err;
        return -1;
    }
    return real_write(fd, buf, len);
}

ssize_t pwrite(int fd, const void *buf, size_t len, off_t off)
{
    int err = write_fault("pwrite", fd, &len);
    if (err) {
        errno = err;
        return -1;
    }
    return real_pwrite(fd, buf, len, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t len, off_t off)
{
    int err = write_fault("pwrite", fd, &len);
    if (err) {
        errno = err;
        return -1;
    }
    return real_pwrite64(fd, buf, len, off);
}

int fallocate(int fd, int mode, off_t off, off_t len)
{
    size_t one = 1;
    int err = write_fault("fallocate", fd, &one);
    if (err) {
        errno = err;
        return -1;
    }
    return real_fallocate(fd, mode, off, len);
}

int posix_fallocate(int fd, off_t off, off_t len)
{
    size_t one = 1;
    int err = write_fault("posix_fallocate", fd, &one);
    if (err)
        return err;   /* posix_fallocate returns the error number */
    return real_posix_fallocate(fd, off, len);
}

int fsync(int fd)
{
    int err = sync_fault("fsync", fd);
    if (err) {
        errno = err;
        return -1;
    }
    return real_fsync(fd);
}

int fdatasync(int fd)
{
    int err = sync_fault("fdatasync", fd);
    if (err) {
        errno = err;
        return -1;
    }
    return real_fdatasync(fd);
}
