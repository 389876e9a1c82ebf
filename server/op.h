/*
 * op.h — the body of every client request, decoded once, in one place, into
 * a struct (zk_op).  The request pipeline (request.c) preps and answers only
 * decoded structs: a body that does not decode never reaches a field access,
 * and what the client gets for it is decided by the kind of op (see
 * zk_op_undecodable_answer), the way Apache ZooKeeper 3.8 answers it.
 *
 * Decoding follows Apache's jute records and their quirks where clients can
 * observe them: trailing bytes are ignored; a vector count below -1 is an
 * empty vector (jute's BinaryIndex); a multi's create ops get their opcode
 * from their flags (Op.create); a multi mixing read and write ops does not
 * decode; deleteContainer's body is a bare path only when the server itself
 * submits it (for a client or a learner it is Apache's whole packet as a
 * string, which always holds NULs: BADARGUMENTS).
 *
 * Strings and buffers in a zk_op are views into the body it was decoded
 * from, which must outlive it.  A multi's sub-op array is owned by the
 * zk_op: zk_op_clear() frees it.
 */
#ifndef ZK_SERVER_OP_H
#define ZK_SERVER_OP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zk/proto.h"

/* A multi create op whose flags are a TTL mode but whose record is a plain
 * CreateRequest: Apache's Op.create makes it a createTTL op that
 * PrepRequestProcessor then fails to cast (MARSHALLINGERROR for the whole
 * multi). */
#define ZK_MULTI_CREATE_TTL_BAD_CAST (-1000)

/* ReconfigRequest (zookeeper.jute). */
typedef struct zk_reconfig_request {
    jute_view joining, leaving, new_members;
    int64_t cur_config_id;
} zk_reconfig_request;

/* One op of a multi or multiRead. */
typedef struct zk_sub_op {
    int32_t type;   /* effective opcode (create ops: from the flags), or ZK_MULTI_CREATE_TTL_BAD_CAST */
    union {
        zk_create_request create;          /* create, createContainer, createTTL, bad cast */
        zk_path_version_request path_version; /* delete, check */
        zk_set_data_request set_data;      /* setData */
        zk_path_watch_request path_watch;  /* getData, getChildren (watch is ignored) */
    } u;
} zk_sub_op;

typedef struct zk_multi {
    zk_sub_op *ops;     /* owned (g_malloc'd), NULL when n == 0 */
    int n;
    bool reads;         /* every op is getData/getChildren (Apache's OpKind.READ) */
} zk_multi;

/* A decoded request body; which member is valid depends on type. */
typedef struct zk_op {
    int32_t type;
    union {
        zk_create_request create;          /* create, create2, createContainer, createTTL */
        zk_path_version_request path_version; /* delete, check */
        zk_set_data_request set_data;      /* setData */
        zk_set_acl_request set_acl;        /* setACL */
        zk_path_watch_request path_watch;  /* exists, getData, getChildren, getChildren2 */
        jute_view path;                    /* sync, getACL, getAllChildrenNumber, getEphemerals */
        zk_path_type_request path_type;    /* checkWatches, removeWatches (type), addWatch (mode) */
        zk_set_watches set_watches;        /* setWatches, setWatches2 */
        zk_reconfig_request reconfig;      /* reconfig */
        int32_t session_timeout;           /* createSession */
        jute_view container_path;          /* deleteContainer: ptr NULL unless the server's own */
        zk_multi multi;                    /* multi, multiRead */
        zk_auth_packet auth;               /* auth */
        jute_view sasl_token;              /* sasl (GetSASLRequest) */
    } u;
} zk_op;

/*
 * Decodes the body of a request of type `type` (the bytes after the
 * RequestHeader) into *op.  `internal` is true for requests the server
 * submits itself (session expiry, container reaping).  Returns true if the
 * record decoded (op->u is then filled as the type says; types without a
 * record, such as ping or closeSession, always decode); false if it did not,
 * in which case *op holds nothing to free.  Unknown types decode to nothing
 * (they are refused before their body matters).
 */
bool zk_op_decode(int32_t type, const uint8_t *body, size_t len, bool internal, zk_op *op);

/* Frees what a decoded op owns (a multi's sub-op array).  Safe on a zeroed op. */
void zk_op_clear(zk_op *op);

/* How Apache 3.8 answers a request whose body does not decode. */
typedef enum zk_undecodable_answer {
    /* PrepRequestProcessor: the IOException becomes an ErrorTxn
     * (MARSHALLINGERROR) that consumes a zxid; for delete, setData, setACL
     * and check the session is checked first. */
    ZK_UNDECODABLE_ERROR_TXN,
    /* A MARSHALLINGERROR reply without a transaction: reads
     * (FinalRequestProcessor), and reconfig (decoded before any txn header). */
    ZK_UNDECODABLE_REPLY,
    /* The connection is closed without a reply (auth, sasl: the IOException
     * leaves ZooKeeperServer.processPacket). */
    ZK_UNDECODABLE_CLOSE,
} zk_undecodable_answer;

zk_undecodable_answer zk_op_undecodable_answer(int32_t type);

/* True for the write types whose session PrepRequestProcessor checks
 * before it decodes the record (delete, setData, setACL, check). */
bool zk_op_checks_session_first(int32_t type);

#endif
