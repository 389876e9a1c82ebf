/*
 * request_ensemble.c — the pipeline's ensemble paths: the leader preps and
 * proposes writes, a learner forwards them (and syncs) to the leader; the
 * leader takes requests learners forwarded; a learner answers forwarded
 * syncs once their point is applied.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "quorum.h"
#include "zk/path.h"
#include "request_internal.h"

/* Ensemble: the leader preps and proposes; a learner forwards to the
 * leader; anyone else cannot take writes now. */
void process_write_in_ensemble(zk_server *s, zk_request *req)
{
    zk_conn *c = req->conn;
    quorum *q = s->quorum;
    if (quorum_can_propose(q)) {
        int64_t zxid = quorum_next_zxid(q);
        if (zxid > 0) {
            prep_write(s, req, zxid);
            if (c) {
                g_queue_push_tail(&s->inflight, req);
                c->writes_in_flight++;
            }
            if (quorum_propose(q, zxid, req->txn, req->txn_len) == 0) {
                if (!c)
                    request_free(req);
                return;
            }
            if (c) {
                g_queue_remove(&s->inflight, req);
                c->writes_in_flight--;
            }
        }
    } else if (c && quorum_learner_serving(q)) {
        g_queue_push_tail(&s->forwarded, req);
        c->writes_in_flight++;
        quorum_forward(q, req);
        return;
    }
    if (c)
        conn_close(c, "not serving: no quorum");
    request_free(req);
}

void request_submit_forwarded(zk_server *s, int origin_sid, int64_t session_id, int32_t xid,
                              int32_t type, const uint8_t *body, size_t len, int32_t timeout,
                              GPtrArray *auth)
{
    zk_request *req = request_new(NULL, session_id, xid, type, body, len, false);
    req->origin_sid = origin_sid;
    req->session_timeout = timeout;
    req->auth = auth;
    req->owns_auth = true;
    if (!req->is_write) {
        request_free(req);
        return;
    }
    process_request(s, req);
}

/* Learner: answers forwarded syncs whose commits are all applied. */
void drain_synced(zk_server *s)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&s->forwarded)) && req->type == ZK_OP_SYNC && req->synced &&
           s->tree->last_processed_zxid >= req->zxid) {
        g_queue_pop_head(&s->forwarded);
        zk_conn *c = req->conn;
        jute_writer out;
        jw_init(&out, 64);
        int rc = req->decoded ? ZOK : ZMARSHALLINGERROR;
        if (rc == ZOK)
            write_sync_path(&out, req->op.u.path);
        if (c)
            c->writes_in_flight--;
        request_send_reply(s, req, req->xid, s->tree->last_processed_zxid, rc, &out, false, "SYNC");
        jw_free(&out);
        if (c && !c->closed)
            drain_waiting(c);
        request_free(req);
    }
}

void request_on_synced(zk_server *s, int64_t session_id, int32_t xid, int64_t zxid)
{
    for (GList *l = s->forwarded.head; l; l = l->next) {
        zk_request *req = l->data;
        if (req->type == ZK_OP_SYNC && req->session_id == session_id && req->xid == xid) {
            req->synced = true;
            req->zxid = zxid;
            break;
        }
    }
    drain_synced(s);
}
