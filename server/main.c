/*
 * main.c — bin/zkserver: `zkserver CONFIG` (zoo.cfg) like Apache's
 * QuorumPeerMain, or `zkserver PORT DATADIR [TICKTIME] [MAXCNXNS]` like
 * ZooKeeperServerMain.  Runs in the foreground; SIGTERM stops it cleanly.
 * `-l LOGFILE` logs to a file that SIGHUP reopens; `--version` prints the
 * version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "logfile.h"
#include "fourlw.h"
#include "server.h"
#include "server_main.h"

static void warn_cb(void *ctx, const char *msg)
{
    (void)ctx;
    LOG_WARN("%s", msg);
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

static int usage(const char *prog)
{
    fprintf(stderr, "usage: %s [-l LOGFILE] CONFIG\n       %s [-l LOGFILE] PORT DATADIR [TICKTIME] [MAXCNXNS]\n"
                    "       %s --version\n"
                    "  -l LOGFILE  log to LOGFILE (appended; SIGHUP reopens it) instead of stderr\n",
            prog, prog, prog);
    return 2;
}

int main(int argc, char **argv)
{
    const char *prog = argv[0];
    const char *log_file = NULL;
    while (argc >= 2 && argv[1][0] == '-' && argv[1][1]) {
        if (strcmp(argv[1], "--version") == 0) {
            printf("zkserver %s\n", server_version());
            return 0;
        }
        if (strcmp(argv[1], "-l") == 0 && argc >= 3) {
            log_file = argv[2];
            argc -= 2;
            argv += 2;
        } else if (strncmp(argv[1], "--log-file=", 11) == 0) {
            log_file = argv[1] + 11;
            argc--;
            argv++;
        } else {
            return usage(prog);
        }
    }
    if (argc < 2)
        return usage(prog);
    if (log_file) {
        char *lerr = NULL;
        if (logfile_open(log_file, &lerr) < 0) {
            fprintf(stderr, "zkserver: %s\n", lerr);
            g_free(lerr);
            return 2;
        }
    }
    zk_config cfg;
    char *err = NULL;
    int rc;
    if (argc >= 3 && all_digits(argv[1])) {
        GString *text = g_string_new(NULL);
        g_string_append_printf(text, "clientPort=%s\ndataDir=%s\n", argv[1], argv[2]);
        if (argc >= 4)
            g_string_append_printf(text, "tickTime=%s\n", argv[3]);
        if (argc >= 5)
            g_string_append_printf(text, "maxClientCnxns=%s\n", argv[4]);
        rc = zk_config_parse_string(text->str, "command line", getenv("SERVER_JVMFLAGS"), &cfg,
                                    warn_cb, NULL, &err);
        g_string_free(text, TRUE);
    } else {
        rc = zk_config_load(argv[1], &cfg, warn_cb, NULL, &err);
    }
    if (rc < 0) {
        fprintf(stderr, "zkserver: invalid configuration: %s\n", err ? err : "?");
        g_free(err);
        return 2;
    }
    rc = server_run(&cfg);
    zk_config_free(&cfg);
    return rc;
}
