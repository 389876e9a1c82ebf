/*
 * main.c — bin/zkserver: `zkserver CONFIG` (zoo.cfg) like Apache's
 * QuorumPeerMain, or `zkserver PORT DATADIR [TICKTIME] [MAXCNXNS]` like
 * ZooKeeperServerMain.  Runs in the foreground; SIGTERM stops it cleanly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
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

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fprintf(stderr, "usage: %s CONFIG\n       %s PORT DATADIR [TICKTIME] [MAXCNXNS]\n",
                argv[0], argv[0]);
        return 2;
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
