/*
 * fsyncfloor.c — bin/fsyncfloor DIR [SECONDS]: the disk's durability floor
 * under DIR, the lowest latency any server that fsyncs each write can
 * reach for one client with one request in flight.  Two loops, each for
 * SECONDS (default 2), each write followed by fdatasync:
 *   append     4 KiB appends to a growing file (the size changes, so the
 *              inode is written too);
 *   prealloc   4 KiB writes into a file pre-written with zeros (64 MiB, as
 *              Apache's log preallocation does);
 *   fallocate  4 KiB writes into a posix_fallocate'd file (unwritten
 *              extents: each first write converts one, a metadata update;
 *              zkserver's log preallocates this way).
 * Prints one line per loop:
 *   RESULT {"mode":"append"|"prealloc"|"fallocate","ops":N,"p50_us":..,"p99_us":..,"max_us":..}
 * and removes its files.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BLOCK 4096
#define MAX_SAMPLES 1000000

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Runs one loop on path; returns 0 or -1 (message on stderr). */
static int run(const char *path, const char *mode, double seconds, int64_t *lat)
{
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY | (mode[0] == 'a' ? O_APPEND : 0), 0600);
    if (fd < 0) {
        fprintf(stderr, "fsyncfloor: %s: %s\n", path, strerror(errno));
        return -1;
    }
    static char block[BLOCK];
    memset(block, 'z', sizeof block);
    size_t prealloc_blocks = 64u * 1024 * 1024 / BLOCK;   /* 64 MiB, as both servers' logs */
    if (mode[0] == 'f') {
        int r = posix_fallocate(fd, 0, (off_t)prealloc_blocks * BLOCK);
        if (r != 0 || fsync(fd) != 0) {
            fprintf(stderr, "fsyncfloor: fallocate %s: %s\n", path, strerror(r ? r : errno));
            close(fd);
            return -1;
        }
    }
    if (mode[0] == 'p') {
        for (size_t i = 0; i < prealloc_blocks; i++)
            if (write(fd, block, BLOCK) != BLOCK) {
                fprintf(stderr, "fsyncfloor: preallocating %s: %s\n", path, strerror(errno));
                close(fd);
                return -1;
            }
        if (fsync(fd) != 0 || lseek(fd, 0, SEEK_SET) != 0) {
            close(fd);
            return -1;
        }
    }
    int64_t end = now_us() + (int64_t)(seconds * 1e6);
    size_t n = 0;
    while (n < MAX_SAMPLES && now_us() < end && (mode[0] == 'a' || n < prealloc_blocks)) {
        if (mode[0] == 'f' && lseek(fd, (off_t)n * BLOCK, SEEK_SET) < 0)
            break;
        int64_t t0 = now_us();
        if (write(fd, block, BLOCK) != BLOCK || fdatasync(fd) != 0) {
            fprintf(stderr, "fsyncfloor: %s: %s\n", path, strerror(errno));
            close(fd);
            return -1;
        }
        lat[n++] = now_us() - t0;
    }
    close(fd);
    unlink(path);
    qsort(lat, n, sizeof *lat, cmp64);
    printf("RESULT {\"mode\":\"%s\",\"ops\":%zu,\"p50_us\":%lld,\"p99_us\":%lld,\"max_us\":%lld}\n",
           mode, n, n ? (long long)lat[n / 2] : 0, n ? (long long)lat[n * 99 / 100] : 0,
           n ? (long long)lat[n - 1] : 0);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s DIR [SECONDS]\n", argv[0]);
        return 2;
    }
    double seconds = argc == 3 ? atof(argv[2]) : 2.0;
    if (seconds <= 0 || seconds > 600) {
        fprintf(stderr, "fsyncfloor: SECONDS must be in (0, 600]\n");
        return 2;
    }
    int64_t *lat = malloc(MAX_SAMPLES * sizeof *lat);
    if (!lat)
        return 1;
    char path[4096];
    snprintf(path, sizeof path, "%s/fsyncfloor.%ld", argv[1], (long)getpid());
    int rc = run(path, "append", seconds, lat) || run(path, "prealloc", seconds, lat) ||
             run(path, "fallocate", seconds, lat);
    unlink(path);
    free(lat);
    return rc ? 1 : 0;
}
