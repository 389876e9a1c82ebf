/*
 * request_internal.h — what the request*.c files share and nothing else
 * includes: the helpers each concern file uses from another.  Everything
 * runs on the event-loop thread.  A zk_request is owned by whoever holds it
 * in the pipeline (a connection's waiting queue, s->inflight,
 * s->forwarded, or the caller of a function below); request_free releases
 * it and its connection reference.
 */
#ifndef ZK_REQUEST_INTERNAL_H
#define ZK_REQUEST_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conn.h"
#include "op.h"
#include "request.h"
#include "server.h"
#include "tree.h"
#include "txn.h"
#include "zk/jute.h"

/* --- request.c --- */
/* The short name Apache's cons/stat report as a connection's last op. */
const char *op_stat_name(int32_t type);
/* The request of a client connection enters the pipeline: it counts as
 * outstanding (globalOutstandingLimit) until answered or dropped. */
void request_count(zk_request *req);
/* Ends request_count's accounting (once; a no-op for an uncounted request). */
void request_uncount(zk_request *req);
/* Frees req (owned by the caller) with its body and txn, ends its
 * accounting and drops its connection reference. */
void request_free(zk_request *req);
/* True if the request becomes a transaction.  The writes that do not are
 * answered in order like reads: a reconfig whose record does not decode
 * (Apache decodes it before it makes a txn header), and a multi naming the
 * null path (Apache's getPendingChanges dies before the header). */
bool request_makes_txn(const zk_request *req);
/* A request with its body decoded once (op.h); `internal` for the server's
 * own requests (expiry, reaping). */
zk_request *request_new(zk_conn *c, int64_t session_id, int32_t xid, int32_t type,
                               const uint8_t *body, size_t len, bool internal);
/* The statistics of a request that was answered (or, for a check that
 * Apache never answers, would have been). */
void reply_done(zk_server *s, zk_request *req, int64_t zxid, const char *op);
/* Sends ReplyHeader + body on c and updates statistics.  The body goes
 * with ZOK, or with an error when body_on_error (Apache sends the part of
 * a MultiResponse it had built when a multiRead fails). */
void request_send_reply(zk_server *s, zk_request *req, int32_t xid, int64_t zxid, int32_t err,
                       jute_writer *body, bool body_on_error, const char *op);
/* Runs the requests c held back, in order, until a read meets a write
 * still in flight or c is closed or doomed. */
void drain_waiting(zk_conn *c);
/* Takes req (owned) through the pipeline: a read is answered now, a
 * write prepped and logged (standalone) or proposed/forwarded (ensemble). */
void process_request(zk_server *s, zk_request *req);

/* --- request_prep.c --- */
/* The node at wire path v in the tree (borrowed), or NULL. */
zk_node *request_lookup(zk_server *s, jute_view v);
/* Frees a change record (owned; the caller has already unlinked it from
 * s->changes and s->change_by_path) and drops its ACL reference. */
void request_change_free(zk_server *s, change_rec *cr);
/* Drops records of transactions that are now applied. */
void retire_changes(zk_server *s, int64_t zxid);
/* ZOK if session_id is a live session not being closed, else ZSESSIONEXPIRED. */
int request_session_check(zk_server *s, int64_t session_id);
/* True if some op of a multi names the null path: Apache's
 * getPendingChanges then dies on path.lastIndexOf (see answer_txnless). */
bool multi_has_null_path(const zk_multi *m);
/* Builds req->txn for a write request; always succeeds (errors become ErrorTxn). */
void prep_write(zk_server *s, zk_request *req, int64_t zxid);

/* --- request_session.c --- */
/* Sends a watch event to connection `watcher`, unless `acl` (the znode's,
 * borrowed; NULL for setWatches replays, which Apache never filters) denies
 * it READ: Apache 3.8.4 NIOServerCnxn.process(event, znodeAcl), the fix of
 * CVE-2024-23944 that Debian's 3.8.0-11+deb12u2 carries. */
void request_deliver_event(void *ctx, void *watcher, int type, const char *path,
                          const zk_acl_list *acl);
/* Sends the ConnectResponse of c (valid: the session is established and
 * reading resumes; else an expired-session answer and a close). */
void finish_session_init(zk_server *s, zk_conn *c, bool valid);
/* An AuthPacket that decoded (zk_op.u.auth). */
void request_handle_auth(zk_server *s, zk_conn *c, int32_t xid, const zk_auth_packet *ap);

/* --- request_read.c --- */
/* A MultiHeader (type, done, err) of a MultiResponse. */
void write_multi_header(jute_writer *w, int32_t type, bool done, int32_t err);
/* The SyncResponse: Apache echoes the path as a Java string (malformed
 * UTF-8 comes back as U+FFFD, e.g. an encoded surrogate "\xED\xA0\x80";
 * the null path as null). */
void write_sync_path(jute_writer *out, jute_view path);
/* Answers a request that makes no transaction (reads, and the writes of
 * request_makes_txn() that make none); returns the error code, the body in
 * *out (sent with an error too when *body_on_error). */
int process_read(zk_server *s, zk_request *req, jute_writer *out, const char **op,
                        int32_t *reply_xid, bool *body_on_error);

/* --- request_ensemble.c --- */
/* Ensemble: the leader preps and proposes; a learner forwards to the
 * leader; anyone else cannot take writes now. */
void process_write_in_ensemble(zk_server *s, zk_request *req);
/* Learner: answers forwarded syncs whose commits are all applied. */
void drain_synced(zk_server *s);

#endif
