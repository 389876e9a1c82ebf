/*
 * procinfo.h — figures about this process that mntr and /metrics both
 * report (descriptor counts).
 */
#ifndef ZKFS_PROCINFO_H
#define ZKFS_PROCINFO_H

#include <stdint.h>

/* Open descriptors of this process (/proc/self/fd minus the one used to
 * read it), -1 if unknown. */
int64_t procinfo_open_fds(void);

/* The soft RLIMIT_NOFILE of this process, -1 if unknown. */
int64_t procinfo_max_fds(void);

#endif
