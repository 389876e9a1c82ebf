/*
 * apache_fmt.h — Apache ZooKeeper 3.8's own data-directory files
 * (docs/formats.md, "Apache ZooKeeper's formats"): the transaction log
 * FileTxnLog writes (log.<hex zxid>) and the snapshot FileSnap writes
 * (snapshot.<hex zxid>), decoded from bytes and encoded from a zkserver
 * tree.  The decoders are pure functions over a buffer (every length and
 * count is checked against the bytes present), so they can be fed
 * anything, e.g. by a fuzzer.
 */
#ifndef ZKTOOL_APACHE_FMT_H
#define ZKTOOL_APACHE_FMT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "snapbody.h"
#include "tree.h"
#include "zk/jute.h"
#include "zk/proto.h"

#define APACHE_LOG_MAGIC 0x5A4B4C47u    /* "ZKLG" */
#define APACHE_SNAP_MAGIC 0x5A4B534Eu   /* "ZKSN" (zkserver's snapshots start alike, version 1) */
#define APACHE_FORMAT_VERSION 2
#define APACHE_FILE_HEADER_SIZE 16u
/* BinaryInputArchive refuses buffers and strings longer than jute.maxbuffer
 * (default 0xfffff) plus 1024. */
#define APACHE_DEFAULT_MAX_BUFFER (0xfffff + 1024)

typedef struct apache_file_header {
    uint32_t magic;
    int32_t version;
    int64_t dbid;
} apache_file_header;

/* Reads the 16-byte FileHeader; false if the buffer is shorter. */
bool apache_header_read(const uint8_t *buf, size_t len, apache_file_header *h);

/* ---- transaction log --------------------------------------------------- */

typedef enum {
    APACHE_LOG_RECORD,      /* a complete record (check crc_ok) */
    APACHE_LOG_END,         /* end of data: EOF, or a zero (preallocated) length */
    APACHE_LOG_TORN,        /* a record cut short by the end of the file */
    APACHE_LOG_BAD_EOR,     /* the byte after a record is not 'B' */
    APACHE_LOG_BAD_LENGTH,  /* a negative or oversized record length */
} apache_log_status;

typedef struct apache_log_reader {
    const uint8_t *buf;     /* not owned */
    size_t len;
    size_t pos;
    size_t max_buffer;
} apache_log_reader;

typedef struct apache_log_record {
    uint64_t offset;        /* of the record (its checksum) in the file */
    int64_t checksum;       /* as stored */
    const uint8_t *data;    /* the txn bytes (borrowed from the reader's buffer) */
    size_t len;
    bool checksum_ok;       /* Adler-32 of data == checksum */
    int32_t bad_length;     /* for APACHE_LOG_BAD_LENGTH */
} apache_log_record;

/* Starts reading a log file's bytes after its header (the caller checks
 * the header with apache_header_read first). */
void apache_log_reader_init(apache_log_reader *r, const uint8_t *buf, size_t len, size_t max_buffer);
/* The next record or why there is none; after a non-RECORD status r->pos
 * stays at the offset where reading stopped. */
apache_log_status apache_log_next(apache_log_reader *r, apache_log_record *rec);

/* Appends a FileHeader (magic, version 2, dbid). */
void apache_log_write_header(jute_writer *w, uint32_t magic, int64_t dbid);
/* Appends one record: Adler-32, length, the bytes, 'B'. */
void apache_log_write_record(jute_writer *w, const void *txn, size_t len);

/* ---- snapshot ---------------------------------------------------------- */

typedef struct apache_acl_entry {
    int64_t id;             /* the reference nodes carry */
    zk_vec acls;            /* vector<ACL>, borrowed from the decoded buffer */
} apache_acl_entry;

typedef struct apache_snap_node {
    jute_view path;         /* "" is the root */
    jute_view data;         /* len -1: null */
    int64_t acl;            /* -1: OPEN_ACL_UNSAFE, else an apache_acl_entry id */
    int64_t czxid, mzxid, ctime, mtime;
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner, pzxid;
} apache_snap_node;

typedef struct apache_snapshot {
    apache_file_header header;
    GArray *sessions;       /* snap_session, file order */
    GArray *acls;           /* apache_acl_entry, file order */
    GArray *nodes;          /* apache_snap_node, file order (pre-order) */
    uint32_t seal_computed; /* Adler-32 of everything before the seal */
    int64_t seal_stored;
    bool has_digest;        /* a ZxidDigest (3.6+) followed */
    int64_t digest_zxid;
    int32_t digest_version;
    int64_t digest;
    bool digest_seal_ok;
    bool has_last_zxid;     /* 3.9's lastProcessedZxid section followed */
    int64_t last_processed_zxid;
    size_t end;             /* bytes used */
} apache_snapshot;

/*
 * Decodes a whole (uncompressed) snapshot file.  Returns true and fills *s
 * (free with apache_snapshot_clear; views point into buf) if the structure
 * is complete, else false with *err (g_strdup'd) saying what is wrong and
 * where.  The seal is decoded, not judged: compare seal_computed and
 * seal_stored.  Strings and buffers longer than max_buffer are refused, as
 * Apache does.
 */
bool apache_snap_decode(const uint8_t *buf, size_t len, size_t max_buffer, apache_snapshot *s,
                        char **err);
void apache_snapshot_clear(apache_snapshot *s);

/*
 * Converts a decoded snapshot into zkserver's snapshot body (snapbody.h):
 * the same nodes in the same order with their ACL lists resolved, and the
 * sessions.  Checks what Apache's DataTree.deserialize checks (every
 * parent present before its children, every ACL reference known) and that
 * every path is valid.  Returns false with *err.
 */
bool apache_snap_to_body(const apache_snapshot *s, jute_writer *body, char **err);

/*
 * Encodes tree t and the sessions as Apache 3.8's FileSnap writes them:
 * header (dbid -1), sessions, the ACL cache (ids 1..n in first-use order),
 * the nodes in pre-order with the root as "", the "/" end marker, the
 * Adler-32 seal, then a ZxidDigest (digest_zxid, version 2, digest) and a
 * second seal.
 */
void apache_snap_encode(jute_writer *w, const zk_tree *t, const snap_session *sessions, size_t n,
                        int64_t digest_zxid, int64_t digest);

/* The tree digest Apache's DataTree keeps (DigestCalculator version 2 over
 * every node outside /zookeeper/, summed as AdHash does). */
int64_t apache_tree_digest(const zk_tree *t);

#endif
