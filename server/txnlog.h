/*
 * txnlog.h — the durable transaction log: zxid-tagged opaque records in
 * preallocated, CRC-32C-framed files log.<16 hex first zxid>, with group
 * commit done by one background thread.  Byte formats and recovery rules
 * are in docs/formats.md.
 *
 * Threading contract
 * ------------------
 * A txnlog belongs to ONE owner thread (the event loop).  Every function
 * below must be called from that thread only.  The log owns one private
 * writer thread that does all blocking disk work of the append path
 * (file creation, preallocation, write, fdatasync) and nothing else.
 *
 *   owner:   txnlog_append() ... txnlog_append()    (queued in memory)
 *   owner:   txnlog_flush_start()                    (hands the whole queue
 *                                                     to the writer thread)
 *   writer:  create/extend file, pwrite, ONE fdatasync, then writes 1 to
 *            the eventfd
 *   owner:   poll(txnlog_event_fd()) -> readable -> txnlog_flush_complete()
 *
 * At most one batch is in flight; records appended meanwhile wait for the
 * next txnlog_flush_start().  The hand-off goes through a mutex/condvar;
 * while a batch is in flight the owner never touches the writer's file
 * state, and the writer never touches the owner's queue or file list.
 *
 * Functions that do synchronous disk I/O on the owner thread, and are
 * therefore meant for start-up or rare recovery steps only:
 * txnlog_open, txnlog_replay, txnlog_truncate_after, txnlog_purge_before
 * (unlinks), txnlog_close (waits for the writer).
 */
#ifndef ZKFS_TXNLOG_H
#define ZKFS_TXNLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct txnlog txnlog;

/* Receives one operator-visible message line (no trailing newline); msg is
 * only valid during the call.  ctx is the caller's pointer, passed back. */
typedef void (*txnlog_log_fn)(void *ctx, const char *msg);

/* Called by txnlog_replay for each record; data is only valid during the
 * call.  Return 0 to go on, non-zero to stop the replay with an error. */
typedef int (*txnlog_replay_fn)(void *ctx, int64_t zxid, const uint8_t *data, size_t len);

/* Largest payload a single record may carry (bigger appends abort). */
#define TXNLOG_MAX_PAYLOAD ((size_t)128 << 20)
/* Default size after which the writer starts a new file, and default
 * preallocation chunk. */
#define TXNLOG_DEFAULT_ROLL_BYTES ((uint64_t)64 << 20)
#define TXNLOG_DEFAULT_PREALLOC_BYTES ((uint64_t)64 << 20)

/*
 * Opens the log in directory `dir` (created with parents if missing),
 * validates every log file, repairs a torn tail of the last file (the
 * repair is reported through `log`), and starts the writer thread.  A new
 * file is started at the first flush; existing files are never appended to.
 * On success *last_zxid is the highest valid zxid on disk (0 if none).
 * On failure returns NULL and sets *err to a g_strdup'd message naming the
 * file and offset (caller g_frees it).  `dir` is copied; `log` may be NULL
 * (messages then go to stderr); log_ctx is not owned.
 */
txnlog *txnlog_open(const char *dir, int64_t *last_zxid, txnlog_log_fn log, void *log_ctx, char **err);

/*
 * Calls fn(ctx, ...) for every durable record with zxid > after_zxid, in
 * zxid order, re-checking each CRC.  Returns 0, or -1 with *err set
 * (g_strdup'd) on an I/O or CRC error or when fn returns non-zero.
 * Records queued but not yet durable are not visited.
 */
int txnlog_replay(txnlog *l, int64_t after_zxid, txnlog_replay_fn fn, void *ctx, char **err);

/*
 * Queues one record (data is copied; the caller keeps its buffer).  Not
 * durable until a flush started later completes.  zxid must be greater
 * than every zxid appended before and len <= TXNLOG_MAX_PAYLOAD; breaking
 * either is a programming error and aborts.
 */
void txnlog_append(txnlog *l, int64_t zxid, const void *data, size_t len);

/*
 * If no flush is in flight and records are queued, hands the whole queue
 * to the writer thread, which writes it and calls fdatasync once (group
 * commit).  Returns true if a flush was started.  Meant to be called once
 * per event-loop iteration, before sleeping.  Never blocks on disk.
 */
bool txnlog_flush_start(txnlog *l);

/* An eventfd (owned by the log; do not close) that becomes readable when a
 * flush has finished.  Poll it for POLLIN and call txnlog_flush_complete. */
int txnlog_event_fd(txnlog *l);

/* True while a batch handed out by txnlog_flush_start is not completed. */
bool txnlog_flush_in_flight(const txnlog *l);

/*
 * Consumes a finished flush (call when the event fd is readable; a call
 * with nothing finished returns 0 and leaves things unchanged).  Returns 0
 * and sets *durable_zxid to the highest zxid now on disk; or -1 with *err
 * (g_strdup'd) if the batch could not be made durable.  Either way the
 * failed batch and everything queued behind it are dropped and
 * txnlog_last_zxid() falls back to the durable zxid; already durable
 * records are untouched.
 *   - A write (or preallocation) failed, e.g. ENOSPC: the batch has been
 *     cut off the file again (nothing of it can be recovered) and a later
 *     flush may succeed.
 *   - An fdatasync failed (or the cut-off did): the file's contents are
 *     unknown, since the kernel may have dropped the unwritten pages and
 *     a second fsync could not tell.  The file is not touched again; the
 *     log is in the failed state (txnlog_failed() is true) in which every
 *     later flush fails.  The owner must stop and recover at the next
 *     start from what is really on disk (records of the failed batch may
 *     or may not be there; none of them was acknowledged).
 */
int txnlog_flush_complete(txnlog *l, int64_t *durable_zxid, char **err);

/* True once a flush failed in a way that leaves the log in the failed
 * state (see txnlog_flush_complete): stop and restart. */
bool txnlog_failed(const txnlog *l);

/* Highest zxid appended (queued, in flight or durable); 0 if none. */
int64_t txnlog_last_zxid(const txnlog *l);
/* Highest zxid known durable on disk; 0 if none. */
int64_t txnlog_durable_zxid(const txnlog *l);
/* The database id stamped in every file header of this directory. */
uint64_t txnlog_dbid(const txnlog *l);
/* Number of fdatasync calls made by the writer thread for batches so far
 * (one per successful or failed batch write; file creation syncs are not
 * counted).  For tests and metrics. */
uint64_t txnlog_fsync_count(const txnlog *l);
/* Number of log files currently known (for tests and metrics). */
unsigned txnlog_file_count(const txnlog *l);

/* Makes the next flush start a new log file (called after a snapshot). */
void txnlog_roll(txnlog *l);

/* Changes the roll threshold and the preallocation chunk (bytes, > 0; for
 * tests and tuning).  Takes effect from the next flush.  Only when no
 * flush is in flight. */
void txnlog_set_limits(txnlog *l, uint64_t roll_bytes, uint64_t prealloc_bytes);

/*
 * A read of the durable records after a given zxid, in bounded steps, for a
 * leader's DIFF from the log (quorum.c): each txnlog_cursor_next reads one
 * block (about 1 MiB, or one bigger record) with pread, so the owner thread
 * is never held up for long.  The cursor keeps its file open, so a purge
 * (txnlog_purge_before) during the read still lets it read that file to
 * its end (moving on from a purged file fails: later files may be gone
 * too); it reads only up to the durable end known when a step starts, and
 * sees records that become durable later in later steps.
 */
typedef struct txnlog_cursor txnlog_cursor;

/*
 * Opens a cursor positioned before the first record with zxid > after_zxid,
 * in the newest file that can hold after_zxid.  *bytes (may be NULL) is
 * the size of the log's records from that file on (the sum of their data
 * ends; for zookeeper.snapshotSizeFactor).  Returns NULL with *err set
 * (g_strdup'd) if no file can hold after_zxid or that file cannot be
 * opened.  That the record after_zxid itself is there is checked by the
 * first txnlog_cursor_next that passes it.  Free with txnlog_cursor_free.
 */
txnlog_cursor *txnlog_cursor_open(txnlog *l, int64_t after_zxid, uint64_t *bytes, char **err);

/*
 * One step: reads the next block and calls fn(ctx, ...) for each durable
 * record in it with after_zxid < zxid <= upto_zxid, in zxid order (data is
 * valid until the next call on this cursor; fn returning non-zero fails the
 * read).  *nread (may be NULL) is the number of bytes read from disk.
 * Returns 1 if there is more to read, 0 once a record > upto_zxid was seen
 * or the durable log ends, -1 with *err (g_strdup'd) on an I/O or CRC error,
 * a missing record after_zxid, or a file purged before the read left it.  Only from the
 * owner thread (it looks at the log's file list).
 */
int txnlog_cursor_next(txnlog_cursor *c, txnlog *l, int64_t upto_zxid, txnlog_replay_fn fn,
                       void *ctx, size_t *nread, char **err);

/* Closes the cursor's file and frees it.  NULL is a no-op. */
void txnlog_cursor_free(txnlog_cursor *c);

/*
 * Removes every record with zxid > zxid, on disk and in the queue (Zab
 * TRUNC): later files are unlinked, the file holding the cut is shortened
 * and synced, and the next flush starts a new file.  Only when no flush is
 * in flight (returns -1 with *err otherwise).  Returns 0 or -1 with *err.
 */
int txnlog_truncate_after(txnlog *l, int64_t zxid, char **err);

/*
 * Deletes log files all of whose records are <= keep_from_zxid (the zxid
 * of the oldest snapshot kept), keeping the newest file that starts at or
 * before keep_from_zxid + 1, every later file, and the file being written.
 * Safe while a flush is in flight.
 */
void txnlog_purge_before(txnlog *l, int64_t keep_from_zxid);

/* Waits for any in-flight flush (its result is discarded; call
 * txnlog_flush_complete first to learn it), stops the writer thread,
 * closes files and frees the log.  Records still queued (never handed to
 * txnlog_flush_start) are discarded.  NULL is a no-op. */
void txnlog_close(txnlog *l);

/*
 * Test hook: the next batch write writes only its first `prefix_bytes`
 * bytes and then fails with errno `error` (e.g. ENOSPC), exercising the
 * failure path.  0 disarms.  Only when no flush is in flight.
 */
void txnlog_test_fail_next_write(txnlog *l, int error, size_t prefix_bytes);

/* ---- offline inspection and repair (tools; the log must not be open) ---- */

/* Called by txnlog_inspect for each good record: the file, the record's
 * offset in it, its zxid and payload (valid during the call).  Return 0 to
 * go on, non-zero to stop the inspection. */
typedef int (*txnlog_record_fn)(void *ctx, const char *path, uint64_t offset, int64_t zxid,
                                const uint8_t *data, size_t len);

/* What txnlog_inspect found in one log file (strings valid during the call). */
typedef struct txnlog_file_info {
    const char *path;
    int64_t first_zxid;      /* from the file name */
    int64_t last_zxid;       /* zxid of the last good record, 0 if none */
    uint64_t records;        /* good records */
    uint64_t data_end;       /* offset just past the last good record (0: no header) */
    uint64_t size;           /* file size */
    const char *problem;     /* NULL if the file is clean, else what is wrong */
    uint64_t problem_offset; /* where the problem starts (== data_end) */
    uint64_t valid_after;    /* offset of a valid record behind a bad one, 0 if none */
    bool refused;            /* txnlog_open refuses the directory because of it */
} txnlog_file_info;

typedef void (*txnlog_file_fn)(void *ctx, const txnlog_file_info *info);

/*
 * Checks every log file of dir by the rules of txnlog_open (docs/formats.md)
 * but changes nothing: on_record (may be NULL) gets each good record in
 * zxid order, on_file (may be NULL) gets each file's summary after its
 * records.  Files after a damaged one are still inspected.  Returns the
 * number of files inspected, or -1 with *err (g_strdup'd) if dir cannot be
 * read.  Read-only; safe on a directory a server is using.
 */
int txnlog_inspect(const char *dir, txnlog_record_fn on_record, txnlog_file_fn on_file, void *ctx,
                   char **err);

/*
 * Offline repair, for a log no process has open: cuts the log file `path`
 * of dir at `offset` (a record boundary as txnlog_inspect reports it: a
 * record's offset or a file's data_end; at or before the header the file
 * is removed) and removes every later log file, then syncs the directory.
 * Returns 0 or -1 with *err (g_strdup'd).
 */
int txnlog_cut(const char *dir, const char *path, uint64_t offset, char **err);

#endif
