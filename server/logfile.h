/*
 * logfile.h — where the server's log goes: stderr (the default: a
 * terminal, or journald under systemd), or a file given with `zkserver -l
 * FILE` that SIGHUP reopens, so logrotate can move it away and the server
 * continues in a fresh file.  The file replaces file descriptors 1 and 2,
 * so everything the process writes there (the snapshot child's messages,
 * sanitizer reports) lands in it too.
 */
#ifndef ZK_LOGFILE_H
#define ZK_LOGFILE_H

#include <stdbool.h>

/* Opens path for appending (created 0644) as stdout and stderr and
 * remembers it for logfile_reopen.  Returns 0 or -1 with *err (g_strdup'd). */
int logfile_open(const char *path, char **err);

/* Reopens the remembered file (SIGHUP).  Returns 1 if reopened, 0 if not
 * logging to a file, -1 with *err if the file cannot be opened (the old
 * one stays in use). */
int logfile_reopen(char **err);

/* The log file's path, or NULL when logging to stderr. */
const char *logfile_path(void);

#endif
