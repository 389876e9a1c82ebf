/*
 * dbimage.h — a ZooKeeper database in memory, loaded from a zkserver data
 * directory, an Apache ZooKeeper 3.8 data directory or one snapshot file
 * of either kind, by the start-up rules of the server that wrote it; and
 * written back out as either kind.  It is the server's own zk_tree and
 * session table: loading applies log records with txn_apply, after
 * txnfmt_check_apply has vetted them.
 */
#ifndef ZKTOOL_DBIMAGE_H
#define ZKTOOL_DBIMAGE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "session.h"
#include "snapbody.h"
#include "tree.h"

typedef enum { DATA_ZKSERVER = 1, DATA_APACHE = 2 } data_kind;

/* Where a database lives. */
typedef struct data_source {
    data_kind kind;
    char *data_dir;     /* the dataDir (holds myid); NULL for a single file */
    char *snap_dir;     /* zkfs-v1 or version-2 holding the snapshots */
    char *log_dir;      /* where the logs are (Apache's dataLogDir/version-2) */
    char *file;         /* a single snapshot file, or NULL */
} data_source;

/*
 * Works out what `path` is: a zkserver dataDir or its zkfs-v1, an Apache
 * dataDir or its version-2, or one snapshot file (zkserver's or Apache's,
 * told apart by the header).  apache_log_dir is Apache's dataLogDir when it
 * differs from the dataDir (or NULL).  Returns false with *err.
 */
bool data_source_resolve(const char *path, const char *apache_log_dir, data_source *src, char **err);
void data_source_clear(data_source *src);
const char *data_kind_name(data_kind k);

/* A log record kept for conversion: zkserver's payload (no digest). */
typedef struct db_record {
    int64_t zxid;
    GBytes *txn;
} db_record;

typedef struct dbimage {
    data_kind kind;
    zk_tree *tree;           /* owned */
    session_table sessions;  /* owned */
    int64_t zxid;            /* the last transaction reflected */
    int64_t snap_zxid;       /* the snapshot it started from (0: none) */
    char *snap_path;         /* owned; NULL when there was no snapshot */
    uint64_t applied;        /* log records applied after the snapshot */
    uint64_t log_records;    /* good log records seen */
    GPtrArray *notes;        /* char*: what loading noticed (damage, skips) */
    bool damaged;            /* zkserver: loading stopped at damage before the log's end */
    GArray *records;         /* db_record in log order, when kept */
    bool has_digest;         /* Apache recorded the tree digest of this state */
    int64_t digest_zxid;
    int64_t digest;
    char *accepted_epoch;    /* contents of acceptedEpoch / currentEpoch, or NULL */
    char *current_epoch;
    char *myid;              /* contents of dataDir/myid, or NULL */
} dbimage;

typedef struct dbimage_opts {
    int64_t upto_zxid;       /* load the state at this zxid (INT64_MAX: the newest) */
    bool keep_records;       /* collect every good log record into records */
    size_t max_buffer;       /* Apache's jute.maxbuffer + 1024 */
} dbimage_opts;

/*
 * Loads the database.  A zkserver directory: the newest valid snapshot at
 * or below upto, then every good log record above it up to upto, stopping
 * at the first damaged record (noted).  An Apache directory: as
 * FileTxnSnapLog.restore does (newest valid snapshot, the log files from
 * the one holding the next zxid, a torn or unterminated record ends a
 * file); a checksum error or an undecodable record fails, as it stops
 * Apache.  Returns NULL with *err.
 */
dbimage *dbimage_load(const data_source *src, const dbimage_opts *opts, char **err);
void dbimage_free(dbimage *img);

/* One snapshot file of either kind, converted to zkserver's body encoding. */
typedef struct snapshot_file {
    data_kind kind;
    int64_t zxid;            /* the snapshot's zxid (zkserver: header; Apache: name) */
    int64_t name_zxid;       /* Util.getZxidFromName of the file name, -1 if none */
    GByteArray *body;        /* owned: snapbody.h encoding, sessions in file order */
    bool seal_ok;            /* Apache: the Adler-32 seal matches */
    int64_t seal_stored;
    uint32_t seal_computed;
    bool has_digest;         /* Apache: a ZxidDigest follows */
    bool digest_seal_ok;
    int64_t digest_zxid, digest;
} snapshot_file;

/*
 * Reads and checks one snapshot file of either kind (an invalid zkserver
 * snapshot, or an Apache one whose structure is broken, fails; an Apache
 * seal mismatch is reported in seal_ok).  Returns false with *err.
 */
bool snapshot_file_read(const char *path, size_t max_buffer, snapshot_file *out, char **err);
void snapshot_file_clear(snapshot_file *f);

/* The sessions as (id, timeout), sorted by id; caller frees. */
GArray *dbimage_sessions(const dbimage *img);

/*
 * Writes the image as a zkserver dataDir: DATA_DIR/zkfs-v1/snapshot.<zxid>
 * first, then a log holding the kept records, the epoch files and myid
 * (unless present).  Refuses a directory that already holds a database.
 */
int dbimage_write_zkserver(const dbimage *img, const char *data_dir, char **err);

/*
 * Writes the image as an Apache 3.8 dataDir: DATA_DIR/version-2/
 * snapshot.<hex zxid> with the tree digest, a log.<hex> with the kept
 * records, the epoch files and myid (unless present).  Refuses a
 * directory that already holds Apache data.
 */
int dbimage_write_apache(const dbimage *img, const char *data_dir, char **err);

#endif
