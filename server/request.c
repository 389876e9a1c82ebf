/*
 * request.c — the request pipeline's core: request objects (creation,
 * accounting, freeing), operation classification, sending replies and
 * their statistics, per-connection ordering (a read never overtakes an
 * earlier write of its connection: drain_waiting), dispatch of frames from
 * established connections (request_on_frame -> process_request) and
 * internal requests.  The concerns around it live in their own files:
 * request_prep.c (writes -> transactions), request_read.c (reads),
 * request_session.c (connect, auth, watch delivery), request_commit.c
 * (apply + reply), request_ensemble.c (forwarding, syncs), request_timer.c
 * (expiry, reaping).  The error precedence of every operation follows
 * Apache ZooKeeper 3.8's PrepRequestProcessor and FinalRequestProcessor,
 * because clients observe it.
 */
#include "conn.h"
#include "fourlw.h"
#include "sasl.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "metrics.h"
#include "quorum.h"
#include "readonly.h"
#include "reqpool.h"
#include "zk/path.h"
#include "request_internal.h"

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static bool op_is_write(int32_t type)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER: case ZK_OP_SETDATA: case ZK_OP_SETACL:
    case ZK_OP_CHECK: case ZK_OP_MULTI: case ZK_OP_RECONFIG: case ZK_OP_CLOSESESSION:
    case ZK_OP_CREATESESSION:
        return true;
    default:
        return false;
    }
}

static bool op_is_known(int32_t type)
{
    switch (type) {
    case ZK_OP_EXISTS: case ZK_OP_GETDATA: case ZK_OP_GETACL: case ZK_OP_GETCHILDREN:
    case ZK_OP_GETCHILDREN2: case ZK_OP_SYNC: case ZK_OP_PING: case ZK_OP_SETWATCHES:
    case ZK_OP_SETWATCHES2: case ZK_OP_CHECKWATCHES: case ZK_OP_REMOVEWATCHES:
    case ZK_OP_GETEPHEMERALS: case ZK_OP_GETALLCHILDRENNUMBER: case ZK_OP_MULTIREAD:
    case ZK_OP_ADDWATCH: case ZK_OP_WHOAMI:
        return true;
    default:
        return op_is_write(type);
    }
}

/* The short name Apache's cons/stat report as a connection's last op. */
const char *op_stat_name(int32_t type)
{
    switch (type) {
    case ZK_OP_PING: return "PING";
    case ZK_OP_SYNC: return "SYNC";
    case ZK_OP_EXISTS: return "EXIS";
    case ZK_OP_GETDATA: return "GETD";
    case ZK_OP_GETCHILDREN: case ZK_OP_GETCHILDREN2: return "GETC";
    case ZK_OP_GETACL: return "GETA";
    case ZK_OP_GETALLCHILDRENNUMBER: return "GETACN";
    case ZK_OP_SETWATCHES: return "SETW";
    case ZK_OP_SETWATCHES2: return "STW2";
    case ZK_OP_ADDWATCH: return "ADDW";
    case ZK_OP_REMOVEWATCHES: return "REMW";
    case ZK_OP_CHECKWATCHES: return "CHKW";
    case ZK_OP_WHOAMI: return "HOMI";
    case ZK_OP_GETEPHEMERALS: return "GETE";
    case ZK_OP_MULTIREAD: return "MLTR";
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER: return "CREA";
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER: return "DELE";
    case ZK_OP_SETDATA: return "SETD";
    case ZK_OP_SETACL: return "SETA";
    case ZK_OP_CHECK: return "CHEC";
    case ZK_OP_MULTI: return "MULT";
    case ZK_OP_CLOSESESSION: return "CLOS";
    case ZK_OP_CREATESESSION: return "SESS";
    case ZK_OP_RECONFIG: return "RECO";
    default: return "NA";
    }
}

/* The request of a client connection enters the pipeline: it counts as
 * outstanding (globalOutstandingLimit) until answered or dropped. */
void request_count(zk_request *req)
{
    if (req->conn && !req->counted) {
        req->counted = true;
        conn_request_begin(req->conn);
    }
}

void request_uncount(zk_request *req)
{
    if (req->counted) {
        req->counted = false;
        conn_request_end(req->conn->srv, req->conn);
    }
}

void request_free(zk_request *req)
{
    if (!req)
        return;
    request_uncount(req);
    if (req->conn)
        conn_unref(req->conn);
    if (req->owns_auth && req->auth)
        g_ptr_array_free(req->auth, TRUE);
    zk_op_clear(&req->op);
    g_free(req->txn);
    reqpool_free_request(req);   /* and the body */
}


/* True if the request becomes a transaction.  The writes that do not are
 * answered in order like reads: a reconfig whose record does not decode
 * (Apache decodes it before it makes a txn header), and a multi naming the
 * null path (Apache's getPendingChanges dies before the header). */
bool request_makes_txn(const zk_request *req)
{
    if (!op_is_write(req->type))
        return false;
    if (!req->decoded)
        return zk_op_undecodable_answer(req->type) == ZK_UNDECODABLE_ERROR_TXN;
    if (req->type == ZK_OP_MULTI && multi_has_null_path(&req->op.u.multi))
        return false;
    return true;
}

/* A request with its body decoded once (op.h); `internal` for the server's
 * own requests (expiry, reaping). */
zk_request *request_new(zk_conn *c, int64_t session_id, int32_t xid, int32_t type,
                               const uint8_t *body, size_t len, bool internal)
{
    uint8_t *copy;
    zk_request *req = reqpool_new_request(len, &copy);
    req->conn = c;
    if (c) {
        conn_ref(c);
        req->auth = c->auth;
    }
    req->session_id = session_id;
    req->xid = xid;
    req->type = type;
    if (len)
        memcpy(copy, body, len);
    req->body = copy;
    req->body_len = len;
    req->decoded = zk_op_decode(type, req->body, len, internal, &req->op);
    req->recv_ms = loop_now_ms();
    req->is_write = request_makes_txn(req);
    return req;
}

/* The statistics of a request that was answered (or, for a check that
 * Apache never answers, would have been). */
void reply_done(zk_server *s, zk_request *req, int64_t zxid, const char *op)
{
    zk_conn *c = req->conn;
    if (!c || c->closed)
        return;
    int64_t now = loop_now_ms();
    c->last_cxid = req->xid;
    c->last_zxid = zxid;
    c->last_op = op;
    c->last_response_ms = now;
    request_uncount(req);
    server_record_latency(s, c, now - req->recv_ms);
    /* ServerStats.updateLatency: a request with a txn header is an update */
    metrics_observe(req->is_write ? MS_UPDATELATENCY : MS_READLATENCY, now - req->recv_ms);
}

/* Sends ReplyHeader + body on c and updates statistics.  The body goes
 * with ZOK, or with an error when body_on_error (Apache sends the part of
 * a MultiResponse it had built when a multiRead fails). */
void request_send_reply(zk_server *s, zk_request *req, int32_t xid, int64_t zxid, int32_t err,
                       jute_writer *body, bool body_on_error, const char *op)
{
    zk_conn *c = req->conn;
    if (!c || c->closed)
        return;
    /* ReplyHeader (xid, zxid, err: zk_reply_header_write's layout) on the
     * stack and the body where it is: no buffer per reply (perf-notes change 4) */
    uint8_t head[16];
    zk_put_be32(head, (uint32_t)xid);
    zk_put_be64(head + 4, (uint64_t)zxid);
    zk_put_be32(head + 12, (uint32_t)err);
    bool with_body = body && (err == ZOK || body_on_error);
    size_t body_len = with_body ? body->len : 0;
    conn_send_frame2(c, head, sizeof head, with_body ? body->buf : NULL, body_len);
    metrics_count(MC_RESPONSE_BYTES, sizeof head + body_len);   /* FinalRequestProcessor: response_bytes */
    reply_done(s, req, zxid, op);
}

/* ------------------------------------------------------------------ */
/* frames from established connections                                 */

void request_on_frame(zk_conn *c, const uint8_t *frame, size_t len)
{
    zk_server *s = c->srv;
    jute_reader r;
    jr_init(&r, frame, len);
    zk_request_header rh;
    if (!zk_request_header_read(&r, &rh)) {
        conn_close(c, "malformed request header");
        return;
    }
    if (readonly_active(s) && readonly_on_frame(c, &rh))
        return;
    zk_session *ss = session_get(&s->sessions, c->session_id);
    if (ss && !ss->closing)
        session_touch(&s->sessions, ss, loop_now_ms());
    if (rh.type == ZK_OP_AUTH || rh.type == ZK_OP_SASL) {
        /* ZooKeeperServer.processPacket: a packet that does not decode
         * throws out of it and the connection is closed, unanswered. */
        zk_op op;
        if (!zk_op_decode(rh.type, frame + r.pos, len - r.pos, false, &op) ||
            (rh.type == ZK_OP_SASL && op.u.sasl_token.len < 0)) {   /* null token: NPE */
            conn_close(c, rh.type == ZK_OP_AUTH ? "malformed auth packet" : "malformed sasl packet");
            return;
        }
        if (rh.type == ZK_OP_AUTH)
            request_handle_auth(s, c, rh.xid, &op.u.auth);
        else
            sasl_handle_request(s, c, rh.xid, op.u.sasl_token);
        return;
    }
    if (!sasl_enforce_auth(s, c, rh.xid))
        return;
    if (!op_is_known(rh.type)) {
        LOG_WARN("Received packet at server of unknown type %d", rh.type);
        jute_writer w;
        jw_init(&w, 16);
        zk_reply_header h = { rh.xid, -1, ZUNIMPLEMENTED };
        zk_reply_header_write(&w, &h);
        conn_send_frame(c, w.buf, w.len);
        jw_free(&w);
        conn_close_after_flush(c);   /* as Apache: the connection is dropped */
        return;
    }
    zk_request *req = request_new(c, c->session_id, rh.xid, rh.type, frame + r.pos, len - r.pos,
                                  false);
    if (rh.type == ZK_OP_SYNC && s->quorum && quorum_learner_serving(s->quorum))
        req->is_write = true;   /* a learner's sync goes through the leader */
    request_count(req);
    if (g_queue_is_empty(&c->waiting) && (req->is_write || c->writes_in_flight == 0))
        process_request(s, req);
    else
        g_queue_push_tail(&c->waiting, req);
}

void request_resume_conn(zk_conn *c)
{
    drain_waiting(c);
}

void drain_waiting(zk_conn *c)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&c->waiting))) {
        if (!req->is_write && c->writes_in_flight > 0)
            break;
        g_queue_pop_head(&c->waiting);
        process_request(c->srv, req);
        if (c->closed || c->close_pending)
            break;   /* a doomed connection's replies would be dropped: the rest go when it closes */
    }
}

/* ------------------------------------------------------------------ */
/* the pipeline                                                        */

void process_request(zk_server *s, zk_request *req)
{
    zk_conn *c = req->conn;
    if (req->is_write) {
        if (!s->serving) {
            /* The log cannot take writes (disk full, I/O error): never
             * acknowledge; the client sees a lost connection and retries. */
            if (c)
                conn_close(c, "not serving writes: transaction log unavailable");
            request_free(req);
            return;
        }
        if (s->quorum) {
            process_write_in_ensemble(s, req);
            return;
        }
        prep_write(s, req, s->last_zxid + 1);
        if (s->log)   /* NULL: in-process harness, see server.h */
            txnlog_append(s->log, req->zxid, req->txn, req->txn_len);
        s->txns_logged++;
        g_queue_push_tail(&s->inflight, req);
        if (c)
            c->writes_in_flight++;
        return;
    }
    jute_writer out;
    jw_init(&out, 256);
    const char *op = "NA";
    int32_t xid = req->xid;
    bool body_on_error = false;
    int rc = process_read(s, req, &out, &op, &xid, &body_on_error);
    request_send_reply(s, req, xid, s->tree->last_processed_zxid, rc, &out, body_on_error, op);
    jw_free(&out);
    request_free(req);
}

void request_on_conn_closed(zk_conn *c)
{
    zk_server *s = c->srv;
    watch_remove_watcher(s->tree->data_watches, c);
    watch_remove_watcher(s->tree->child_watches, c);
    zk_request *req;
    while ((req = g_queue_pop_head(&c->waiting)))
        request_free(req);   /* no longer outstanding */
    zk_session *ss = session_get(&s->sessions, c->session_id);
    if (ss && ss->conn == c)
        ss->conn = NULL;
}

bool server_accepting(const zk_server *s)
{
    return s->serving && (!s->quorum || quorum_serving(s->quorum));
}

void request_submit_internal(zk_server *s, int64_t session_id, int32_t type, const uint8_t *body, size_t len)
{
    zk_request *req = request_new(NULL, session_id, 0, type, body, len, true);
    process_request(s, req);
}
