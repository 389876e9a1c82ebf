/*
 * main.c — bin/zktool: the data-directory tool.  One program, one
 * subcommand per job (see `zktool help`); each command lives in its own
 * cmd_*.c.  docs/operations.md is the manual.
 */
#include "zktool.h"

#include <stdio.h>
#include <string.h>

static const zt_command *const commands[] = {
    &zt_cmd_log, &zt_cmd_snapshot, &zt_cmd_verify, &zt_cmd_truncate,
    &zt_cmd_compare, &zt_cmd_import, &zt_cmd_export,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "usage: zktool COMMAND [OPTIONS] ARGS...\n"
               "Reads, checks, repairs and converts ZooKeeper data directories: zkserver's\n"
               "(DATADIR/zkfs-v1) and Apache ZooKeeper 3.8's (DATADIR/version-2).\n\n"
               "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-9s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "  %-9s %s\n", "help", "zktool help COMMAND (or zktool COMMAND --help)");
    fprintf(f, "\nexit status: 0 done (clean, equal), 1 a problem found (damage, differences),\n"
               "2 usage error or unreadable input.  See docs/operations.md.\n");
}

static const zt_command *find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i]->name, name) == 0)
            return commands[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? ZT_ERROR : ZT_OK;
    }
    if (strcmp(argv[1], "help") == 0) {
        if (argc < 3) {
            usage(stdout);
            return ZT_OK;
        }
        const zt_command *cmd = find(argv[2]);
        if (!cmd) {
            fprintf(stderr, "zktool: unknown command '%s' (see zktool help)\n", argv[2]);
            return ZT_ERROR;
        }
        /* The option entries live with the command: let it print its help. */
        char *args[] = { argv[2], (char *)"--help", NULL };
        return cmd->run(2, args);
    }
    const zt_command *cmd = find(argv[1]);
    if (!cmd) {
        fprintf(stderr, "zktool: unknown command '%s' (see zktool help)\n", argv[1]);
        return ZT_ERROR;
    }
    return cmd->run(argc - 1, argv + 1);
}
