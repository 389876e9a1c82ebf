/*
 * main.c — bin/zktool: the data-directory tool.  One program, one
 * subcommand per job (see `zktool help`); each command lives in its own
 * cmd_*.c.  docs/operations.md is the manual.
 */
#include "zktool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "apache_fmt.h"

static const zt_command *const commands[] = {
    &zt_cmd_log, &zt_cmd_snapshot, &zt_cmd_verify, &zt_cmd_truncate,
    &zt_cmd_compare, &zt_cmd_import, &zt_cmd_export,
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

int zt_jute_maxbuffer = 0xfffff;

size_t zt_max_buffer(void)
{
    return (size_t)zt_jute_maxbuffer + 1024;
}

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

static GOptionContext *make_context(const zt_command *cmd, GOptionEntry *entries)
{
    char *param = g_strdup_printf("%s - %s", cmd->args, cmd->summary);
    GOptionContext *ctx = g_option_context_new(param);
    g_free(param);
    char *prog = g_strdup_printf("zktool %s", cmd->name);
    g_set_prgname(prog);
    g_free(prog);
    if (entries)
        g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(ctx, cmd->description);
    return ctx;
}

void zt_error(const zt_command *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "zktool %s: %s\n", cmd->name, msg);
    g_free(msg);
}

bool zt_parse(const zt_command *cmd, GOptionEntry *entries, int *argc, char ***argv, int min_args,
              int max_args)
{
    GOptionContext *ctx = make_context(cmd, entries);
    GError *gerr = NULL;
    bool ok = g_option_context_parse(ctx, argc, argv, &gerr);
    if (!ok) {
        zt_error(cmd, "%s (see zktool %s --help)", gerr->message, cmd->name);
        g_error_free(gerr);
    } else if (*argc - 1 < min_args || *argc - 1 > max_args) {
        zt_error(cmd, "expected %s (see zktool %s --help)", cmd->args, cmd->name);
        ok = false;
    }
    g_option_context_free(ctx);
    return ok;
}

bool zt_parse_zxid(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    char *end = NULL;
    errno = 0;
    guint64 v;
    if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X"))
        v = g_ascii_strtoull(s + 2, &end, 16);
    else
        v = g_ascii_strtoull(s, &end, 10);
    if (errno || !end || *end || end == s || v > INT64_MAX || s[0] == '-' || s[0] == '+')
        return false;
    *out = (int64_t)v;
    return true;
}

bool zt_print(const GString *out)
{
    if (out->len && fwrite(out->str, 1, out->len, stdout) != out->len) {
        fprintf(stderr, "zktool: cannot write the output: %s\n", g_strerror(errno));
        return false;
    }
    return true;
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
