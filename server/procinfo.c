/*
 * procinfo.c — figures about this process that mntr and /metrics both
 * report (descriptor counts).
 */
#include "procinfo.h"

#include <dirent.h>
#include <stddef.h>
#include <sys/resource.h>

int64_t procinfo_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int64_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n > 0 ? n - 1 : 0;     /* not the descriptor used to read it */
}

int64_t procinfo_max_fds(void)
{
    struct rlimit rl;
    return getrlimit(RLIMIT_NOFILE, &rl) == 0 ? (int64_t)rl.rlim_cur : -1;
}
