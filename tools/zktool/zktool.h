/*
 * zktool.h — what the subcommands of bin/zktool share: exit codes, the
 * command table entry, option parsing with per-command help, zxid
 * arguments, and error reporting.
 */
#ifndef ZKTOOL_ZKTOOL_H
#define ZKTOOL_ZKTOOL_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* Exit status of every command. */
enum {
    ZT_OK = 0,          /* done; clean; equal */
    ZT_FOUND = 1,       /* a problem was found: damage, differences */
    ZT_ERROR = 2,       /* usage error, unreadable or malformed input, failed write */
};

typedef struct zt_command {
    const char *name;
    const char *args;         /* e.g. "[OPTIONS] PATH" */
    const char *summary;      /* one line */
    const char *description;  /* the --help text after the options */
    int (*run)(int argc, char **argv);
} zt_command;

extern const zt_command zt_cmd_log, zt_cmd_snapshot, zt_cmd_verify, zt_cmd_truncate,
    zt_cmd_compare, zt_cmd_import, zt_cmd_export;

/*
 * Parses argv (argv[0] is the command name) with entries; on success argv
 * keeps the positional arguments (argv[0] unchanged).  --help prints the
 * command's help and exits 0.  Returns false after printing the error and
 * a hint (the caller returns ZT_ERROR); also when the number of positional
 * arguments is not in [min_args, max_args].
 */
bool zt_parse(const zt_command *cmd, GOptionEntry *entries, int *argc, char ***argv, int min_args,
              int max_args);

/* "zktool CMD: message" on stderr. */
void zt_error(const zt_command *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* Parses a zxid: 0x-prefixed hex or decimal (Long.decode); false if invalid. */
bool zt_parse_zxid(const char *s, int64_t *out);

/* Writes out to stdout; false (and a message) on a write error. */
bool zt_print(const GString *out);

/* The jute.maxbuffer limit of the Apache readers (--jute-maxbuffer). */
extern int zt_jute_maxbuffer;
size_t zt_max_buffer(void);
/* The option entry that sets it, for every command that reads Apache files. */
#define ZT_OPT_JUTE_MAXBUFFER                                                              \
    { "jute-maxbuffer", 0, 0, G_OPTION_ARG_INT, &zt_jute_maxbuffer,                        \
      "largest string or buffer Apache's reader accepts, as jute.maxbuffer (default 1048575)", "BYTES" }

#endif
