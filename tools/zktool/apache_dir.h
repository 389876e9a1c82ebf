/*
 * apache_dir.h — the files of an Apache ZooKeeper data directory
 * (dataDir/version-2, dataLogDir/version-2): their names as
 * Util.getZxidFromName reads them, listed in zxid order, and the offline
 * cut of a damaged log.  File contents are decoded by apache_fmt.h.
 */
#ifndef ZKTOOL_APACHE_DIR_H
#define ZKTOOL_APACHE_DIR_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "txnfmt.h"

typedef struct adir_file {
    char *path;         /* owned */
    int64_t zxid;       /* from the name */
    char *suffix;       /* owned: what follows the zxid (e.g. "gz"), or NULL */
} adir_file;

/*
 * Files of dir named "<prefix>.<hex zxid>[.<suffix>]" (prefix "log" or
 * "snapshot"), sorted by zxid (ascending or not).  A GArray of adir_file
 * (free with adir_list_free), or NULL with *err.
 */
GArray *adir_list(const char *dir, const char *prefix, bool ascending, char **err);
void adir_list_free(GArray *files);

/* "<prefix>.<Long.toHexString(zxid)>" in dir (g_malloc'd). */
char *adir_name(const char *dir, const char *prefix, int64_t zxid);

/* True if dir holds any Apache log or snapshot file. */
bool adir_has_data(const char *dir);

/* What adir_scan_log found in one log file. */
typedef struct adir_log_scan {
    int64_t dbid;
    uint64_t records;        /* good records read */
    int64_t first_zxid, last_zxid;
    uint64_t end;            /* offset just past the last good record */
    const char *problem;     /* static; NULL if the file ended cleanly */
    uint64_t problem_offset;
    bool fatal;              /* Apache refuses to start because of it */
    bool stopped;            /* the callback asked to stop */
} adir_log_scan;

/* Gets each good record (decoded) of adir_scan_log; non-zero stops. */
typedef int (*adir_record_fn)(void *ctx, const char *path, uint64_t offset, const txn_view *t);

/*
 * Reads one Apache log file as FileTxnIterator does: the header, then
 * records until the end of data.  A torn or unterminated record ends the
 * file (Apache goes on with the next file); a bad magic, a checksum
 * mismatch, an unreasonable length or an undecodable record is fatal (it
 * stops Apache's start).  Returns false with *err only if the file cannot
 * be read.
 */
bool adir_scan_log(const char *path, size_t max_buffer, adir_record_fn fn, void *ctx,
                   adir_log_scan *out, char **err);

/*
 * Cuts the log file `path` of dir at `offset` (a record boundary; at or
 * before the file header the file is removed) and removes every later log
 * file of dir, then syncs the directory.  Returns 0 or -1 with *err.
 */
int adir_cut_log(const char *dir, const char *path, uint64_t offset, char **err);

#endif
