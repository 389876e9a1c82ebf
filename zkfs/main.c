/*
 * main.c — bin/zkfs: mounts a ZooKeeper tree through FUSE.
 *
 *   bin/zkfs [-f] [-d] [-o OPTS] [--servers HOST:PORT[,HOST:PORT...]] MOUNTPOINT
 *
 * Our own -o options (digest=, timeout=, session_timeout=, maxbuffer=,
 * uid=, gid=, servers=, tls, cafile=, cert=, key=, keypass=,
 * tls_nohostcheck) are taken out; the others go to FUSE.  The client
 * options (TLS files included) are checked before anything is mounted.  SIGTERM,
 * SIGINT and SIGHUP end the FUSE loop (libfuse's handlers); then the mount
 * is detached, its kernel connection aborted (so that no thread of ours can
 * stay blocked on it), the session closed.
 */
#include "fs.h"
#include "echo.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: zkfs [-f] [-d] [-o OPTS] [--servers HOST:PORT[,HOST:PORT...][/chroot]] MOUNTPOINT\n"
            "  -f                 stay in the foreground\n"
            "  -d                 FUSE debug output (implies -f)\n"
            "  --servers LIST     ZooKeeper servers (default 127.0.0.1:2181)\n"
            "  -o digest=USER:PASS   digest authentication\n"
            "  -o timeout=MS         per-request bound (default 5000)\n"
            "  -o session_timeout=MS session timeout (default 10000)\n"
            "  -o maxbuffer=N        the servers' jute.maxbuffer (default 1048575)\n"
            "  -o uid=N,gid=N        owner shown for every file\n"
            "  -o cache_timeout=S    kernel cache lifetime of entries and attributes\n"
            "                        (default 60; watch events invalidate sooner)\n"
            "  -o ro                 read-only: every change fails with EROFS\n"
            "  -o tls                TLS to the servers' secureClientPort; with\n"
            "     cafile=FILE        CA certificate(s) (PEM, or .jks/.p12 trust store;\n"
            "                        default: the system's CAs)\n"
            "     cert=FILE,key=FILE client certificate and key (PEM; or cert= a\n"
            "                        .p12/.jks key store) for the x509 scheme\n"
            "     keypass=PASS       password of the key / stores\n"
            "     tls_nohostcheck    do not check the server certificate's host name\n"
            "  other -o options are passed to FUSE (allow_other, default_permissions, ...)\n"
            "mount -t zkfs and /etc/fstab work through mount.zkfs.  See zkfs(8) and\n"
            "docs/filesystem.md.\n");
}

/* Parses one comma-separated -o list: ours into opts, the rest into fuse_o. */
static int parse_o(const char *list, zkfs_options *opts, GString *fuse_o)
{
    char **items = g_strsplit(list, ",", -1);
    int rc = 0;
    for (char **it = items; *it && rc == 0; it++) {
        const char *item = *it;
        if (!*item)
            continue;
        const char *eq = strchr(item, '=');
        const char *val = eq ? eq + 1 : "";
        size_t klen = eq ? (size_t)(eq - item) : strlen(item);
#define KEY(k) (klen == strlen(k) && strncmp(item, k, klen) == 0)
        char *end = NULL;
        if (KEY("ro")) {
            opts->read_only = true;
        } else if (KEY("rw")) {
            opts->read_only = false;
        } else if (KEY("digest")) {
            g_free(opts->digest);
            opts->digest = g_strdup(val);
            if (!strchr(val, ':')) {
                fprintf(stderr, "zkfs: digest must be user:password\n");
                rc = -1;
            }
        } else if (KEY("tls")) {
            opts->tls = true;
        } else if (KEY("tls_nohostcheck")) {
            opts->tls_no_host_check = true;
        } else if (KEY("cafile") || KEY("cert") || KEY("key") || KEY("keypass")) {
            char **field = KEY("cafile") ? &opts->tls_ca
                           : KEY("cert") ? &opts->tls_cert
                           : KEY("key")  ? &opts->tls_key
                                         : &opts->tls_pass;
            g_free(*field);
            /* Files are read after zkfs has daemonized (cwd /): absolute. */
            *field = *val && field != &opts->tls_pass ? g_canonicalize_filename(val, NULL) : g_strdup(val);
            opts->tls = true;   /* a TLS file means TLS */
            if (!*val) {
                fprintf(stderr, "zkfs: -o %.*s needs a value\n", (int)klen, item);
                rc = -1;
            }
        } else if (KEY("servers")) {
            g_free(opts->servers);
            opts->servers = g_strdup(val);
        } else if (KEY("timeout") || KEY("session_timeout") || KEY("maxbuffer") ||
                   KEY("uid") || KEY("gid") || KEY("cache_timeout")) {
            long v = strtol(val, &end, 10);
            if (!*val || *end || v < 0 || v > INT_MAX) {
                fprintf(stderr, "zkfs: bad value in -o %s\n", item);
                rc = -1;
            } else if (KEY("timeout")) {
                opts->timeout_ms = (int)v;
            } else if (KEY("session_timeout")) {
                opts->session_timeout_ms = (int)v;
            } else if (KEY("maxbuffer")) {
                opts->maxbuffer = (int)v;
            } else if (KEY("cache_timeout")) {
                opts->cache_timeout_s = (int)v;
            } else if (KEY("uid")) {
                opts->uid = (uid_t)v;
            } else {
                opts->gid = (gid_t)v;
            }
        } else {
            if (fuse_o->len)
                g_string_append_c(fuse_o, ',');
            g_string_append(fuse_o, item);
        }
#undef KEY
    }
    g_strfreev(items);
    return rc;
}

/*
 * Cuts the mount's connection to the kernel: the /dev/fuse descriptor is
 * replaced by /dev/null, so the kernel aborts the connection and any
 * syscall still waiting on it (e.g. the echo thread's) fails with ENOTCONN
 * instead of waiting forever for a loop that no longer runs.  The session
 * stays allocated (notifications then go to /dev/null).
 */
static void abort_connection(struct fuse_session *se)
{
    int fd = fuse_session_fd(se);
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0 && null_fd >= 0)
        dup2(null_fd, fd);
    if (null_fd >= 0)
        close(null_fd);
}

int main(int argc, char **argv)
{
    zkfs_options opts;
    zkfs_options_init(&opts);
    bool foreground = false, debug = false;
    const char *mountpoint = NULL;
    GString *fuse_o = g_string_new("fsname=zkfs,subtype=zkfs");
    int rc = 0;
    for (int i = 1; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-f") == 0) {
            foreground = true;
        } else if (strcmp(a, "-d") == 0) {
            debug = foreground = true;
        } else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            g_string_free(fuse_o, TRUE);
            zkfs_options_clear(&opts);
            return 0;
        } else if (strcmp(a, "-o") == 0 && i + 1 < argc) {
            rc = parse_o(argv[++i], &opts, fuse_o);
        } else if (strncmp(a, "-o", 2) == 0 && a[2]) {
            rc = parse_o(a + 2, &opts, fuse_o);
        } else if (strcmp(a, "--servers") == 0 && i + 1 < argc) {
            g_free(opts.servers);
            opts.servers = g_strdup(argv[++i]);
        } else if (strncmp(a, "--servers=", 10) == 0) {
            g_free(opts.servers);
            opts.servers = g_strdup(a + 10);
        } else if (a[0] == '-' || mountpoint) {
            fprintf(stderr, "zkfs: unexpected argument '%s'\n", a);
            rc = -1;
        } else {
            mountpoint = a;
        }
    }
    if (rc != 0 || !mountpoint) {
        if (!mountpoint && rc == 0)
            fprintf(stderr, "zkfs: no mount point given\n");
        usage(stderr);
        g_string_free(fuse_o, TRUE);
        zkfs_options_clear(&opts);
        return 2;
    }
    {
        zkc_options co;
        zkfs_client_options(&opts, &co);
        char *cerr = NULL;
        if (!zkc_options_check(&co, &cerr)) {
            fprintf(stderr, "zkfs: %s\n", cerr);
            g_free(cerr);
            g_string_free(fuse_o, TRUE);
            zkfs_options_clear(&opts);
            return 1;
        }
    }
    char *abs_mount = realpath(mountpoint, NULL);
    if (!abs_mount) {
        fprintf(stderr, "zkfs: %s: %s\n", mountpoint, strerror(errno));
        g_string_free(fuse_o, TRUE);
        zkfs_options_clear(&opts);
        return 1;
    }

    struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
    fuse_opt_add_arg(&args, argv[0]);
    fuse_opt_add_arg(&args, "-o");
    fuse_opt_add_arg(&args, fuse_o->str);
    if (debug)
        fuse_opt_add_arg(&args, "-d");
    g_string_free(fuse_o, TRUE);

    zkfs *fs = zkfs_new(&opts);
    const struct fuse_lowlevel_ops *ops = zkfs_ops(fs->opts.read_only);
    struct fuse_session *se = fuse_session_new(&args, ops, sizeof *ops, fs);
    fuse_opt_free_args(&args);
    if (!se) {
        zkfs_free(fs);
        free(abs_mount);
        return 1;
    }
    if (fuse_session_mount(se, abs_mount) != 0) {
        fuse_session_destroy(se);
        zkfs_free(fs);
        free(abs_mount);
        return 1;
    }
    fuse_daemonize(foreground);

    /* The threads zkfs_start creates (echo, client I/O) must never take
     * the termination signals: only the FUSE loop's threads do, through
     * libfuse's handlers, which end the loop. */
    sigset_t blocked, saved;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigaddset(&blocked, SIGINT);
    sigaddset(&blocked, SIGHUP);
    sigaddset(&blocked, SIGPIPE);
    signal(SIGPIPE, SIG_IGN);
    pthread_sigmask(SIG_BLOCK, &blocked, &saved);
    int started = zkfs_start(fs, se, abs_mount);
    pthread_sigmask(SIG_SETMASK, &saved, NULL);

    int ret = 1;
    if (started == 0 && fuse_set_signal_handlers(se) == 0) {
        /* At most 32 workers, and none is ever ended (libfuse's default
         * when no idle limit is set): with an idle limit, every burst
         * (a RELEASE arriving while the OPEN after it is served) started
         * a thread and the next idle moment ended one, 440 pthread_create
         * + exit per warm `grep -r` of 10,000 files, each under the loop's
         * mutex, which the other workers then waited for (4,000 futex
         * calls against 600 without the limit; docs/benchmarks-zkfs.md). */
        struct fuse_loop_config *cfg = fuse_loop_cfg_create();
        fuse_loop_cfg_set_max_threads(cfg, 32);
        ret = fuse_session_loop_mt(se, cfg) != 0;
        fuse_loop_cfg_destroy(cfg);
        fuse_remove_signal_handlers(se);
    }
    /* Shutdown: nothing may wait on the mount once the loop is gone. */
    zkfs_stop_async(fs);
    fuse_session_unmount(se);
    abort_connection(se);
    zkfs_free(fs);
    fuse_session_destroy(se);
    free(abs_mount);
    return ret;
}
