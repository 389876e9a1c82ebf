/*
 * fusefloor.c — bin/fusefloor [-s] [-i IDLE] MOUNTPOINT DIRS FILES: the
 * floor of a FUSE mount on this machine, what the fastest libfuse 3.14
 * low-level filesystem can reach for a tree walk, so that zkfs's figures
 * (tools/bench/zkfs.sh, docs/benchmarks-zkfs.md) can be compared with it.
 *
 * Serves, from memory and read-only, the tree zkfs.sh builds: DIRS
 * directories dNNN of FILES files fNNN, each 8 bytes ("payload\n", and
 * "needle\n" + one byte in the middle one), with everything a FUSE
 * filesystem may ask the kernel to cache: entries and attributes for 60 s,
 * READDIRPLUS, the page cache kept across opens (keep_cache), no FLUSH at
 * close (noflush), cached listings (cache_readdir).  Every handler answers
 * at once from arithmetic on the inode number, so what a walk costs beyond
 * tmpfs is the kernel's FUSE round trips (OPEN and RELEASE per file when
 * warm) and nothing else.
 *
 *   -s        the single-threaded loop (fuse_session_loop)
 *   -i IDLE   the multi-threaded loop's idle threads (default 4, as zkfs)
 *
 * Runs in the foreground until unmounted or signalled (SIGTERM, SIGINT,
 * SIGHUP: libfuse's handlers end the loop, then it unmounts).  Inode
 * numbers: 1 the root, 2 + d * (FILES + 1) directory d, that plus 1 + f
 * its file f.
 */
#define FUSE_USE_VERSION 312
#include <errno.h>
#include <fuse_lowlevel.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMEOUT 60.0
#define DATA_LEN 8

static unsigned long n_dirs, n_files;

/* What an inode number stands for: the root, directory d, or file f of d. */
typedef struct {
    enum { NODE_NONE, NODE_ROOT, NODE_DIR, NODE_FILE } kind;
    unsigned long d, f;
} node;

static fuse_ino_t dir_ino(unsigned long d)
{
    return 2 + d * (n_files + 1);
}

static node decode(fuse_ino_t ino)
{
    node n = { NODE_NONE, 0, 0 };
    if (ino == FUSE_ROOT_ID) {
        n.kind = NODE_ROOT;
    } else if (ino >= 2 && ino < dir_ino(n_dirs)) {
        n.d = (ino - 2) / (n_files + 1);
        unsigned long off = (ino - 2) % (n_files + 1);
        n.kind = off == 0 ? NODE_DIR : NODE_FILE;
        n.f = off == 0 ? 0 : off - 1;
    }
    return n;
}

/* The 8 bytes of file f of directory d. */
static const char *file_data(unsigned long d, unsigned long f)
{
    return d == n_dirs / 2 && f == n_files / 2 ? "needle\n\n" : "payload\n";
}

/* Fills st for ino; false if no such inode. */
static bool fill_stat(fuse_ino_t ino, struct stat *st)
{
    node n = decode(ino);
    if (n.kind == NODE_NONE)
        return false;
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    st->st_uid = getuid();
    st->st_gid = getgid();
    if (n.kind == NODE_FILE) {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = DATA_LEN;
    } else {
        st->st_mode = S_IFDIR | 0555;
        st->st_nlink = 2;
    }
    return true;
}

/* Parses a name "<prefix>NNN" (decimal, below limit) into *out. */
static bool parse_name(const char *name, char prefix, unsigned long limit, unsigned long *out)
{
    if (name[0] != prefix || name[1] == '\0')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(name + 1, &end, 10);
    if (errno != 0 || *end != '\0' || v >= limit)
        return false;
    *out = v;
    return true;
}

static void fl_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    node p = decode(parent);
    unsigned long v = 0;
    fuse_ino_t ino = 0;
    if (p.kind == NODE_ROOT && parse_name(name, 'd', n_dirs, &v))
        ino = dir_ino(v);
    else if (p.kind == NODE_DIR && parse_name(name, 'f', n_files, &v))
        ino = dir_ino(p.d) + 1 + v;
    struct fuse_entry_param e;
    memset(&e, 0, sizeof e);
    if (ino == 0 || !fill_stat(ino, &e.attr)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    e.ino = ino;
    e.attr_timeout = TIMEOUT;
    e.entry_timeout = TIMEOUT;
    fuse_reply_entry(req, &e);
}

static void fl_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    struct stat st;
    if (!fill_stat(ino, &st))
        fuse_reply_err(req, ENOENT);
    else
        fuse_reply_attr(req, &st, TIMEOUT);
}

static void fl_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    node n = decode(ino);
    if (n.kind != NODE_ROOT && n.kind != NODE_DIR) {
        fuse_reply_err(req, n.kind == NODE_NONE ? ENOENT : ENOTDIR);
        return;
    }
    fi->keep_cache = 1;
    fi->cache_readdir = 1;
    fuse_reply_open(req, fi);
}

/* READDIRPLUS of directory ino from offset off (entry index + 1). */
static void fl_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    (void)fi;
    node n = decode(ino);
    unsigned long count = n.kind == NODE_ROOT ? n_dirs : n_files;
    char *buf = malloc(size);
    if (!buf) {
        fuse_reply_err(req, ENOMEM);
        return;
    }
    size_t used = 0;
    for (unsigned long i = (unsigned long)(off < 0 ? 0 : off); i < count; i++) {
        char name[32];
        struct fuse_entry_param e;
        memset(&e, 0, sizeof e);
        snprintf(name, sizeof name, "%c%03lu", n.kind == NODE_ROOT ? 'd' : 'f', i);
        e.ino = n.kind == NODE_ROOT ? dir_ino(i) : dir_ino(n.d) + 1 + i;
        (void)fill_stat(e.ino, &e.attr);
        e.attr_timeout = TIMEOUT;
        e.entry_timeout = TIMEOUT;
        size_t len = fuse_add_direntry_plus(req, buf + used, size - used, name, &e,
                                            (off_t)(i + 1));
        if (len > size - used)
            break;
        used += len;
    }
    fuse_reply_buf(req, buf, used);
    free(buf);
}

static void fl_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    node n = decode(ino);
    if (n.kind != NODE_FILE) {
        fuse_reply_err(req, n.kind == NODE_NONE ? ENOENT : EISDIR);
        return;
    }
    if ((fi->flags & O_ACCMODE) != O_RDONLY) {
        fuse_reply_err(req, EROFS);
        return;
    }
    fi->keep_cache = 1;
    fi->noflush = 1;
    fuse_reply_open(req, fi);
}

static void fl_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)fi;
    node n = decode(ino);
    if (n.kind != NODE_FILE) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    if (off < 0 || off >= DATA_LEN) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t len = DATA_LEN - (size_t)off;
    fuse_reply_buf(req, file_data(n.d, n.f) + off, len < size ? len : size);
}

static void fl_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    (void)fi;
    fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops fl_ops = {
    .lookup = fl_lookup,
    .getattr = fl_getattr,
    .opendir = fl_opendir,
    .readdirplus = fl_readdirplus,
    .releasedir = fl_release,
    .open = fl_open,
    .read = fl_read,
    .release = fl_release,
};

static int usage(void)
{
    fprintf(stderr, "usage: fusefloor [-s] [-i IDLE] MOUNTPOINT DIRS FILES\n");
    return 2;
}

int main(int argc, char **argv)
{
    bool single = false;
    unsigned long idle = 4;
    int opt;
    while ((opt = getopt(argc, argv, "si:")) != -1) {
        if (opt == 's')
            single = true;
        else if (opt == 'i')
            idle = strtoul(optarg, NULL, 10);
        else
            return usage();
    }
    if (argc - optind != 3)
        return usage();
    const char *mnt = argv[optind];
    n_dirs = strtoul(argv[optind + 1], NULL, 10);
    n_files = strtoul(argv[optind + 2], NULL, 10);
    if (n_dirs == 0 || n_dirs > 1000 || n_files == 0 || n_files > 1000 || idle > 64)
        return usage();

    char *fargv[] = { argv[0], "-o", "fsname=fusefloor,default_permissions", NULL };
    struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
    struct fuse_session *se = fuse_session_new(&args, &fl_ops, sizeof fl_ops, NULL);
    if (!se)
        return 1;
    int ret = 1;
    if (fuse_set_signal_handlers(se) == 0) {
        if (fuse_session_mount(se, mnt) == 0) {
            if (single) {
                ret = fuse_session_loop(se) != 0;
            } else {
                struct fuse_loop_config *cfg = fuse_loop_cfg_create();
                fuse_loop_cfg_set_max_threads(cfg, 32);
                fuse_loop_cfg_set_idle_threads(cfg, (unsigned)idle);
                ret = fuse_session_loop_mt(se, cfg) != 0;
                fuse_loop_cfg_destroy(cfg);
            }
            fuse_session_unmount(se);
        }
        fuse_remove_signal_handlers(se);
    }
    fuse_session_destroy(se);
    return ret;
}
