/*
 * readonly.c — read-only mode (see readonly.h): the local session table,
 * the ConnectRequest rules and the ZNOTREADONLY filter of Apache 3.8's
 * ReadOnlyZooKeeperServer / ReadOnlyRequestProcessor.
 */
#include "readonly.h"

#include <string.h>

#include "conn.h"
#include "request.h"
#include "request_internal.h"
#include "server.h"
#include "session.h"

/* The state of an active read-only mode (zk_server.ro, owned by it). */
struct zk_readonly {
    session_table sessions;   /* local sessions; the ids come from s->sessions' generator */
};

bool readonly_active(const zk_server *s)
{
    return s->ro != NULL;
}

bool readonly_has_session(const zk_server *s, int64_t id)
{
    return s->ro && session_get(&s->ro->sessions, id) != NULL;
}

int64_t readonly_local_sessions(const zk_server *s)
{
    return s->ro ? (int64_t)g_hash_table_size(s->ro->sessions.by_id) : 0;
}

int64_t readonly_grace_ms(const zk_server *s)
{
    return s->cfg->tick_time > 2000 ? s->cfg->tick_time : 2000;
}

void readonly_enter(zk_server *s)
{
    if (s->ro)
        return;
    s->ro = g_new0(struct zk_readonly, 1);
    session_table_init(&s->ro->sessions, s->cfg->myid, s->cfg->tick_time, loop_wall_ms());
    /* A fresh ZooKeeperServer in Apache: zeroed statistics. */
    server_reset_stats(s);
    s->start_ms = server_now_ms(s);
    LOG_INFO("Read-only server started (no quorum for %" G_GINT64_FORMAT " ms)", readonly_grace_ms(s));
}

void readonly_leave(zk_server *s, const char *why)
{
    if (!s->ro)
        return;
    /* ReadOnlyZooKeeperServer.shutdown: closeAllConnections. */
    GList *conns = g_hash_table_get_values(s->conns);
    for (GList *l = conns; l; l = l->next) {
        zk_conn *c = l->data;
        if (c->state != CONN_HANDSHAKE || c->packets_received > 0)
            conn_close(c, why);
    }
    g_list_free(conns);
    session_table_destroy(&s->ro->sessions);
    g_free(s->ro);
    s->ro = NULL;
    LOG_INFO("Read-only server stopped: %s", why);
}

/* The open connection (other than except) that holds session id, or NULL. */
static zk_conn *conn_of_session(zk_server *s, int64_t id, const zk_conn *except)
{
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *o = v;
        if (o != except && o->session_id == id && !o->closed)
            return o;
    }
    return NULL;
}

/* ReadOnlyRequestProcessor's answer to what it filters: a ReplyHeader with
 * the request's xid, the tree's last zxid and ZNOTREADONLY, no body. */
static void send_not_read_only(zk_server *s, zk_conn *c, int32_t xid)
{
    jute_writer w;
    jw_init(&w, 16);
    zk_reply_header h = { xid, s->tree->last_processed_zxid, ZNOTREADONLY };
    zk_reply_header_write(&w, &h);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
}

void readonly_on_connect(zk_conn *c, const zk_connect_request *cr)
{
    zk_server *s = c->srv;
    struct zk_readonly *ro = s->ro;
    if (!cr->has_read_only || !cr->read_only) {
        LOG_INFO("Refusing session request for not-read-only client %s:%d", c->addr, c->port);
        conn_close(c, NULL);
        return;
    }
    if (cr->last_zxid_seen > s->tree->last_processed_zxid) {
        LOG_INFO("Refusing session request for client %s:%d as it has seen zxid 0x%" G_GINT64_MODIFIER
                 "x our last zxid is 0x%" G_GINT64_MODIFIER "x client must try another server",
                 c->addr, c->port, cr->last_zxid_seen, s->tree->last_processed_zxid);
        conn_close(c, NULL);
        return;
    }
    int32_t timeout = cr->timeout;
    if (timeout < s->cfg->min_session_timeout)
        timeout = s->cfg->min_session_timeout;
    if (timeout > s->cfg->max_session_timeout)
        timeout = s->cfg->max_session_timeout;
    c->session_timeout = timeout;
    int64_t now = loop_now_ms();
    if (cr->session_id == 0) {
        if (!s->cfg->local_sessions_enabled) {
            /* Apache submits a global createSession, which its read-only
             * processor answers ZNOTREADONLY (xid 0) in place of a
             * ConnectResponse.  Apache then leaves the half-made connection
             * open; it can never get a session, so it is closed here. */
            send_not_read_only(s, c, 0);
            c->state = CONN_CLOSING;
            conn_close_after_flush(c);
            return;
        }
        c->session_id = session_next_id(&s->sessions);
        session_add(&ro->sessions, c->session_id, timeout, now);
        finish_session_init(s, c, true);
        return;
    }
    if (session_get(&s->sessions, cr->session_id)) {
        LOG_INFO("Refusing global session reconnection in RO mode %s:%d", c->addr, c->port);
        conn_close(c, NULL);
        return;
    }
    zk_conn *old = conn_of_session(s, cr->session_id, c);
    if (old)
        conn_close(old, "client reconnected elsewhere");
    c->session_id = cr->session_id;
    uint8_t expect[16];
    session_password(cr->session_id, expect);
    bool pw_ok = cr->passwd.len == 16 && memcmp(cr->passwd.ptr, expect, 16) == 0;
    zk_session *ss = session_get(&ro->sessions, cr->session_id);
    if (!pw_ok || !ss) {
        if (!pw_ok)
            LOG_WARN("Incorrect password from %s:%d for session 0x%" G_GINT64_MODIFIER "x", c->addr,
                     c->port, cr->session_id);
        finish_session_init(s, c, false);
        return;
    }
    int32_t keep = ss->timeout;
    ss->timeout = timeout;
    session_touch(&ro->sessions, ss, now);
    ss->timeout = keep;
    finish_session_init(s, c, true);
}

/* The opcodes ReadOnlyRequestProcessor answers ZNOTREADONLY (Apache
 * 3.8.0's switch): everything that changes state, and sync. */
static bool refused_in_read_only(int32_t type)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_DELETE: case ZK_OP_SETDATA: case ZK_OP_SETACL:
    case ZK_OP_SYNC: case ZK_OP_CHECK: case ZK_OP_MULTI: case ZK_OP_CREATE2:
    case ZK_OP_RECONFIG: case ZK_OP_CREATECONTAINER: case ZK_OP_DELETECONTAINER:
    case ZK_OP_CREATETTL:
        return true;
    default:
        return false;
    }
}

bool readonly_on_frame(zk_conn *c, const zk_request_header *rh)
{
    zk_server *s = c->srv;
    struct zk_readonly *ro = s->ro;
    zk_session *ss = session_get(&ro->sessions, c->session_id);
    if (ss)
        session_touch(&ro->sessions, ss, loop_now_ms());
    if (refused_in_read_only(rh->type)) {
        send_not_read_only(s, c, rh->xid);
        return true;
    }
    if (rh->type != ZK_OP_CLOSESESSION)
        return false;
    /* A local session ends here: removed, answered, the connection closed
     * after the reply (as Apache's closeSession of a local session). */
    if (ss)
        session_remove(&ro->sessions, c->session_id);
    jute_writer w;
    jw_init(&w, 16);
    zk_reply_header h = { rh->xid, s->tree->last_processed_zxid, ZOK };
    zk_reply_header_write(&w, &h);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    conn_close_after_flush(c);
    return true;
}

void readonly_tick(zk_server *s)
{
    if (!s->ro)
        return;
    GArray *expired = session_expired(&s->ro->sessions, loop_now_ms());
    for (guint i = 0; i < expired->len; i++) {
        int64_t id = g_array_index(expired, int64_t, i);
        LOG_INFO("Expiring local session 0x%" G_GINT64_MODIFIER "x (read-only mode)", id);
        session_remove(&s->ro->sessions, id);
        zk_conn *c = conn_of_session(s, id, NULL);
        if (c)
            conn_close(c, "local session expired");
    }
    g_array_free(expired, TRUE);
}
