/*
 * request_commit.c — commit and reply: a committed transaction (standalone:
 * durable in the log; ensemble: delivered by Zab) is applied (txn_apply:
 * tree, sessions, watches) and the local request it belongs to answered;
 * when the log fails everything in flight is dropped unacknowledged.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "replicator.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "quorum.h"
#include "reconfig.h"
#include "zk/path.h"
#include "request_internal.h"

static void write_sub_result(jute_writer *w, const txn_result *sub)
{
    switch (sub->type) {
    case ZK_OP_CREATE:
        write_multi_header(w, ZK_OP_CREATE, false, 0);
        jw_string(w, sub->path);
        break;
    case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER:
        write_multi_header(w, ZK_OP_CREATE2, false, 0);
        jw_string(w, sub->path);
        zk_stat_write(w, &sub->stat);
        break;
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER:
        write_multi_header(w, ZK_OP_DELETE, false, 0);
        break;
    case ZK_OP_SETDATA:
        write_multi_header(w, ZK_OP_SETDATA, false, 0);
        zk_stat_write(w, &sub->stat);
        break;
    case ZK_OP_CHECK:
        write_multi_header(w, ZK_OP_CHECK, false, 0);
        break;
    default:
        write_multi_header(w, ZK_OP_ERROR, false, sub->err);
        jw_int(w, sub->err);
        break;
    }
}


static void session_closed_cb(void *ctx, int64_t session_id)
{
    zk_server *s = ctx;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *c = v;
        if (c->session_id == session_id && !c->closed && c->state != CONN_CLOSING)
            c->state = CONN_CLOSING;
    }
}

/* Answers a local request whose transaction was just applied. */
static void reply_for(zk_server *s, zk_request *req, const txn_result *res)
{
    zk_conn *c = req->conn;
    if (!c)
        return;
    c->writes_in_flight--;
    if (req->type == ZK_OP_CREATESESSION && (req->from_connect || res->err == ZOK)) {
        /* A ConnectRequest's session, or a client's createSession frame on
         * its established session, which Apache answers with another
         * ConnectResponse (finishSessionInit). */
        request_uncount(req);
        c->last_op = "SESS";
        finish_session_init(s, c, !c->closed && res->err == ZOK);
        return;
    }
    jute_writer out;
    jw_init(&out, 128);
    int32_t err = res->err;
    switch (req->type) {
    case ZK_OP_CREATE:
        jw_string(&out, res->path);
        break;
    case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER:
        jw_string(&out, res->path);
        zk_stat_write(&out, &res->stat);
        break;
    case ZK_OP_SETDATA: case ZK_OP_SETACL: case ZK_OP_CHECK:
        if (req->type != ZK_OP_CHECK || res->has_stat)
            zk_stat_write(&out, &res->stat);
        break;
    case ZK_OP_RECONFIG:
        /* GetDataResponse: the configuration now in force and the Stat
         * of /zookeeper/config (FinalRequestProcessor). */
        if (res->err == ZOK) {
            zk_node *cn = tree_get(s->tree, "/zookeeper/config");
            jw_buffer(&out, cn ? cn->data : NULL, cn ? cn->data_len : -1);
            zk_stat_write(&out, &res->stat);
        }
        break;
    case ZK_OP_MULTI:
        if (res->type == ZK_OP_MULTI) {
            for (guint i = 0; res->multi && i < res->multi->len; i++)
                write_sub_result(&out, &g_array_index(res->multi, txn_result, i));
            write_multi_header(&out, -1, true, -1);
            err = ZOK;
        }
        break;
    default:
        break;
    }
    if (req->type == ZK_OP_CHECK && err == ZOK) {
        /* FinalRequestProcessor answers check with a SetDataResponse whose
         * Stat is null, and serialising it throws: Apache 3.8.0 never
         * answers a check that succeeds (the connection stays open). */
        reply_done(s, req, s->tree->last_processed_zxid, op_stat_name(req->type));
        jw_free(&out);
        return;
    }
    request_send_reply(s, req, req->xid, s->tree->last_processed_zxid, err, &out, false,
               op_stat_name(req->type));
    jw_free(&out);
    if (req->type == ZK_OP_CLOSESESSION)
        conn_close_after_flush(c);
}

/* Finds (and unqueues) the local request a committed transaction answers:
 * the head of the in-flight queue (standalone, or the leader's own
 * clients) when the zxid matches, else the head of the learner's queue of
 * forwarded requests when session and xid match. */
static zk_request *take_local_request(zk_server *s, int64_t zxid, const txn_header *h)
{
    zk_request *head = g_queue_peek_head(&s->inflight);
    if (head && head->zxid == zxid)
        return g_queue_pop_head(&s->inflight);
    head = g_queue_peek_head(&s->forwarded);
    if (head && head->session_id == h->client_id && head->xid == h->cxid &&
        (head->type == ZK_OP_CREATESESSION) == (h->type == ZK_OP_CREATESESSION))
        return g_queue_pop_head(&s->forwarded);
    return NULL;
}

int request_on_commit(zk_server *s, int64_t zxid, const uint8_t *txn, size_t len)
{
    txn_ctx ctx = { s->tree, &s->sessions, loop_now_ms(), session_closed_cb, s };
    txn_result res;
    txn_header h = { 0 };
    jute_reader hr;
    jr_init(&hr, txn, len);
    txn_header_read(&hr, &h);
    if (s->log_fatal)
        return -1;          /* stopping: nothing more is applied or answered */
    if (!txn_apply(&ctx, txn, len, &res)) {
        /* Not applied (or only in part): this replica's state no longer
         * follows the committed sequence.  Going on would serve (and
         * snapshot) a diverged tree. */
        txn_result_clear(&res);
        char *why = g_strdup_printf("cannot apply committed transaction 0x%" G_GINT64_MODIFIER
                                    "x (%zu bytes, type %d, session 0x%" G_GINT64_MODIFIER
                                    "x): corrupt encoding", zxid, len, h.type, h.client_id);
        server_fail_stop(s, why);
        g_free(why);
        return -1;
    }
    s->tree->last_processed_zxid = zxid > s->tree->last_processed_zxid ? zxid : s->tree->last_processed_zxid;
    retire_changes(s, zxid);
    if (h.type == ZK_OP_RECONFIG && res.err == ZOK) {
        zk_node *cn = tree_get(s->tree, "/zookeeper/config");
        if (cn)
            reconfig_activate(s, zxid, cn->data, cn->data_len);
    }
    zk_request *req = take_local_request(s, zxid, &h);
    zk_conn *c = req ? req->conn : NULL;
    if (req)
        reply_for(s, req, &res);
    if (h.type == ZK_OP_CLOSESESSION) {
        /* An expired or closed session's connections go away. */
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, s->conns);
        GPtrArray *victims = g_ptr_array_new();
        while (g_hash_table_iter_next(&it, &k, &v)) {
            zk_conn *o = v;
            if (o->session_id == h.client_id && o != c)
                g_ptr_array_add(victims, o);
        }
        for (guint i = 0; i < victims->len; i++)
            conn_close(g_ptr_array_index(victims, i), "session closed");
        g_ptr_array_free(victims, TRUE);
    }
    txn_result_clear(&res);
    s->txns_since_snap++;
    if (c && !c->closed)
        s->repl->resume_conn(s, c);   /* Zab: after the core returned (no re-entry) */
    if (req)
        request_free(req);
    if (s->quorum)
        drain_synced(s);
    return 0;
}

void request_on_durable(zk_server *s, int64_t zxid)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&s->inflight)) && req->zxid <= zxid) {
        /* request_on_commit unqueues and frees req after using its txn;
         * on failure the server stopped and the queue is empty */
        if (request_on_commit(s, req->zxid, req->txn, req->txn_len) < 0)
            break;
    }
}

/* The log failed: nothing in flight may be acknowledged or applied. */
void request_abort_inflight(zk_server *s)
{
    zk_request *req;
    while ((req = g_queue_pop_head(&s->forwarded))) {
        if (req->conn) {
            req->conn->writes_in_flight--;
            conn_close(req->conn, "lost the leader");
        }
        request_free(req);
    }
    while ((req = g_queue_pop_head(&s->inflight))) {
        if (req->conn) {
            req->conn->writes_in_flight--;
            conn_close(req->conn, "transaction log write failed");
        }
        request_free(req);
    }
    change_rec *cr;
    while ((cr = g_queue_pop_head(&s->changes)))
        request_change_free(s, cr);
    g_hash_table_remove_all(s->change_by_path);
    s->last_zxid = s->tree->last_processed_zxid;
    s->reconfig_pending = 0;   /* a reconfig in flight is no longer this server's to commit */
}
