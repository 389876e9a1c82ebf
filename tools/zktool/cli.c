/* cli.c — what the zktool commands share: option parsing, messages,
 * zxid arguments, output (see zktool.h). */
#include "zktool.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int zt_jute_maxbuffer = 0xfffff;

size_t zt_max_buffer(void)
{
    return (size_t)zt_jute_maxbuffer + 1024;
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

