/*
 * request.h — the request pipeline (request*.c): decoded client requests,
 * prep (validation against the tree plus outstanding changes), reads,
 * sessions and auth, commit and reply, ensemble forwarding, timers.
 *
 * The pipeline, in the order a write travels:
 *   conn.c decodes a frame -> prep (validate against the tree plus
 *   outstanding changes, build the txn, assign the zxid) -> the log (group
 *   commit; for the ensemble: Zab proposal) -> once durable, apply
 *   (txn_apply: tree, sessions, watches) -> reply.  Reads are answered from
 *   the tree directly, but never ahead of an earlier write of the same
 *   connection.
 */
#ifndef ZK_REQUEST_H
#define ZK_REQUEST_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "acl.h"
#include "op.h"

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;

/* A decoded client request waiting in the pipeline. */
typedef struct zk_request {
    struct zk_conn *conn;    /* NULL for internal requests (expiry, reaping); a reference */
    int64_t session_id;
    int32_t xid;
    int32_t type;
    uint8_t *body;           /* owned copy of the bytes after the RequestHeader */
    size_t body_len;
    /* The body decoded once (op.h), views into body; prep and the reads use
     * only op, and only when decoded is true. */
    zk_op op;
    bool decoded;
    int64_t zxid;            /* assigned for writes */
    uint8_t *txn;            /* owned encoded transaction, for writes */
    size_t txn_len;
    int64_t recv_ms;         /* monotonic, for latency stats */
    bool is_write;           /* becomes a transaction (else answered in order like a read) */
    bool from_connect;       /* createSession made by a ConnectRequest (else a client's frame) */
    /* createSession requests carry what the ConnectResponse needs. */
    int32_t session_timeout;
    GPtrArray *auth;         /* identities for ACL checks: the connection's (borrowed), or owned */
    bool owns_auth;
    int origin_sid;          /* leader: the learner that forwarded it (0 = local) */
    bool synced;             /* learner sync: the leader answered (zxid = point reached) */
    bool counted;            /* counts as outstanding on its connection (conn_request_begin) */
} zk_request;

/* Change records for validating pipelined writes (Apache's outstandingChanges). */
typedef struct change_rec {
    int64_t zxid;
    char *path;              /* owned */
    bool exists;             /* false: deleted by a pending txn */
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int32_t child_count;
    int32_t data_len;        /* the node's data length (-1: null), for checkQuota */
    zk_acl_list *acl;        /* reference, NULL when !exists */
} change_rec;

/* Handles a complete frame from an established connection. */
void request_on_frame(zk_conn *c, const uint8_t *frame, size_t len);
/* Handles the first frame (ConnectRequest) of a connection. */
void request_on_connect(zk_conn *c, const uint8_t *frame, size_t len);
/* Standalone: the log made everything up to zxid durable: apply + reply. */
void request_on_durable(zk_server *s, int64_t zxid);
/* A transaction is committed (standalone: durable; ensemble: Zab delivered
 * it): apply it and answer the local request it belongs to, if any.
 * Returns 0, or -1 if it cannot be applied (a corrupt encoding): then the
 * server fail-stops (server_fail_stop, naming the zxid), since a replica
 * that skipped a committed transaction would silently diverge. */
int request_on_commit(zk_server *s, int64_t zxid, const uint8_t *txn, size_t len);
/* Processes c's requests that waited behind its writes, as far as they
 * may go now (drain_waiting).  Called through the replicator once a write
 * of c committed (replicator.h resume_conn). */
void request_resume_conn(zk_conn *c);
/* A connection went away: drop its watches and waiting requests. */
void request_on_conn_closed(zk_conn *c);
/* Periodic work: session expiry, container and TTL reaping. */
void request_tick(zk_server *s);
/* The log failed: drops everything in flight without acknowledging it. */
void request_abort_inflight(zk_server *s);
/* Points the tree's watch delivery at the client connections. */
void request_init_delivery(zk_server *s);
/* Leader: a request a learner forwarded (auth is taken over). */
void request_submit_forwarded(zk_server *s, int origin_sid, int64_t session_id, int32_t xid,
                              int32_t type, const uint8_t *body, size_t len, int32_t timeout,
                              GPtrArray *auth);
/* Learner: the leader answered a forwarded sync: everything up to zxid is committed. */
void request_on_synced(zk_server *s, int64_t session_id, int32_t xid, int64_t zxid);
/* True if clients may be served now (log healthy; in an ensemble: in a quorum). */
bool server_accepting(const zk_server *s);
/* Submits an internal closeSession (expiry) or delete (reaping). */
void request_submit_internal(zk_server *s, int64_t session_id, int32_t type, const uint8_t *body, size_t len);

#endif
