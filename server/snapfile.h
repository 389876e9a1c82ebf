/*
 * snapfile.h — snapshot files snapshot.<16 hex zxid>: a checksummed
 * container for an opaque body (the server's serialized tree and
 * sessions).  Byte format in docs/formats.md.
 *
 * The writer is plain blocking code (no glib main loop, no shared state),
 * so it can run in a forked child or a background thread.  It writes to
 * snapshot.<zxid>.tmp and renames into place only after fsync, so a crash
 * leaves either the complete snapshot or a temp file that the next
 * snapfile_load_newest removes.  snapfile_load_newest and snapfile_purge
 * must not run while a writer for the same directory is active.
 */
#ifndef ZKFS_SNAPFILE_H
#define ZKFS_SNAPFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "txnlog.h" /* txnlog_log_fn */

typedef struct snapfile_writer snapfile_writer;

/*
 * Starts writing the snapshot taken at `zxid` into directory `dir`
 * (created if missing), to a temp file.  Returns the writer (owned by the
 * caller until commit or abort frees it), or NULL with *err set
 * (g_strdup'd, caller frees).
 */
snapfile_writer *snapfile_writer_open(const char *dir, int64_t zxid, char **err);

/*
 * Appends len bytes of body (copied into the writer's buffer, written out
 * as it fills) and updates the checksum.  Returns 0, or -1 with errno set;
 * the first error is also remembered and reported by commit.
 */
int snapfile_writer_write(snapfile_writer *w, const void *buf, size_t len);

/*
 * Writes the trailer, fsyncs, renames the temp file to snapshot.<zxid>,
 * fsyncs the directory and frees the writer (always, also on failure,
 * in which case the temp file is removed).  Returns 0, or -1 with *err.
 */
int snapfile_writer_commit(snapfile_writer *w, char **err);

/* Removes the temp file and frees the writer.  NULL is a no-op. */
void snapfile_writer_abort(snapfile_writer *w);

/*
 * Removes stale temp files, then finds the newest snapshot in `dir` whose
 * header, length and checksum check out, skipping (and reporting through
 * log, or stderr if log is NULL) invalid ones.  Returns 1 with *zxid and
 * *body (g_malloc'd, caller g_frees; NULL when *body_len == 0) set; 0 if
 * there is no valid snapshot (or no directory); -1 with *err if the
 * directory cannot be read.
 */
int snapfile_load_newest(const char *dir, int64_t *zxid, uint8_t **body, size_t *body_len,
                         txnlog_log_fn log, void *log_ctx, char **err);

/*
 * Deletes every snapshot file in `dir` except the newest `retain` valid
 * ones (retain < 1 counts as 1); invalid files are deleted too.  Reads
 * each candidate in full to check it.  Returns the zxid of the oldest
 * snapshot retained (logs up to it may be purged with
 * txnlog_purge_before), or -1 if no valid snapshot exists.
 */
int64_t snapfile_purge(const char *dir, int retain);

/*
 * Deletes every snapshot (and temp file) of a zxid greater than zxid, e.g.
 * after a Zab TRUNC made those states invalid.  Must not run while a
 * writer for the same directory is active.
 */
void snapfile_drop_after(const char *dir, int64_t zxid);

/* Receives one snapshot file of a directory listing (path valid during
 * the call); is_tmp marks an unfinished snapshot.<zxid>.tmp. */
typedef void (*snapfile_list_fn)(void *ctx, const char *path, int64_t zxid, bool is_tmp);

/*
 * Calls fn for every snapshot.<zxid> and snapshot.<zxid>.tmp file of dir,
 * newest zxid first, without checking or changing anything.  Returns the
 * number of files, or -1 with errno set if dir cannot be read.
 */
int snapfile_list(const char *dir, snapfile_list_fn fn, void *ctx);

/*
 * Reads and checks the one snapshot file at path (any name; the header's
 * zxid is used when the name is not snapshot.<zxid>).  Returns NULL and
 * sets *zxid, *body (g_malloc'd, caller g_frees; NULL when *body_len is 0)
 * and *body_len if it is valid, else a g_malloc'd reason.  Read-only.
 */
char *snapfile_read(const char *path, int64_t *zxid, uint8_t **body, size_t *body_len);

#endif
