/*
 * request_session.c — session establishment (ConnectRequest ->
 * createSession or reattach), auth and SASL packets, and watch-event
 * delivery from the tree to client connections.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "metrics.h"
#include "quorum.h"
#include "readonly.h"
#include "zk/path.h"
#include "request_internal.h"

/* ------------------------------------------------------------------ */
/* watch delivery                                                      */

/* Sends a watch event to connection `watcher`, unless `acl` (the znode's,
 * borrowed; NULL for setWatches replays, which Apache never filters) denies
 * it READ: Apache 3.8.4 NIOServerCnxn.process(event, znodeAcl), the fix of
 * CVE-2024-23944 that Debian's 3.8.0-11+deb12u2 carries. */
void request_deliver_event(void *ctx, void *watcher, int type, const char *path,
                          const zk_acl_list *acl)
{
    (void)ctx;
    zk_conn *c = watcher;
    if (c->closed)
        return;
    if (acl_check(acl, ZK_PERM_READ, c->auth) != ZOK)
        return;
    jute_writer w;
    jw_init(&w, 32 + strlen(path));
    zk_reply_header h = { ZK_XID_NOTIFICATION, -1, ZOK };
    zk_reply_header_write(&w, &h);
    jw_int(&w, type);
    jw_int(&w, ZK_STATE_SYNC_CONNECTED);
    jstring_write_key(&w, path);
    conn_send_frame(c, w.buf, w.len);
    metrics_count(MC_WATCH_BYTES, w.len);      /* NIOServerCnxn.process: watch_bytes */
    jw_free(&w);
}

/* ------------------------------------------------------------------ */
/* session establishment                                               */

void finish_session_init(zk_server *s, zk_conn *c, bool valid)
{
    if (c->closed)
        return;
    jute_writer w;
    jw_init(&w, 64);
    uint8_t passwd[16] = { 0 };
    if (valid)
        session_password(c->session_id, passwd);
    jw_int(&w, 0);
    jw_int(&w, valid ? c->session_timeout : 0);
    jw_long(&w, valid ? c->session_id : 0);
    jw_buffer(&w, passwd, 16);
    if (!c->old_client)
        jw_bool(&w, readonly_active(s));
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    if (valid) {
        bool settling = c->state == CONN_CLOSING;
        c->state = CONN_ESTABLISHED;
        zk_session *ss = session_get(&s->sessions, c->session_id);
        if (ss)
            ss->conn = c;
        /* Frames the client sent behind its ConnectRequest waited (Apache
         * stops reading until the session exists, then reads on). */
        if (settling)
            conn_resume(c);
    } else {
        LOG_INFO("Invalid session 0x%" G_GINT64_MODIFIER "x for client %s:%d, probably expired",
                 c->session_id, c->addr, c->port);
        c->state = CONN_CLOSING;
        conn_close_after_flush(c);
    }
}

void request_on_connect(zk_conn *c, const uint8_t *frame, size_t len)
{
    zk_server *s = c->srv;
    jute_reader r;
    jr_init(&r, frame, len);
    zk_connect_request cr;
    if (!zk_connect_request_read(&r, &cr)) {
        conn_close(c, "malformed ConnectRequest");
        return;
    }
    c->old_client = !cr.has_read_only;
    if (readonly_active(s)) {
        readonly_on_connect(c, &cr);
        return;
    }
    if (!server_accepting(s)) {
        conn_close(c, "ZooKeeperServer not running");
        return;
    }
    metrics_count(MC_CONNECTION_REQUEST, 1);   /* processConnectRequest: connection_request_count */
    if (cr.last_zxid_seen > s->tree->last_processed_zxid) {
        LOG_INFO("Refusing session request for client %s:%d as it has seen zxid 0x%" G_GINT64_MODIFIER
                 "x our last zxid is 0x%" G_GINT64_MODIFIER "x client must try another server",
                 c->addr, c->port, cr.last_zxid_seen, s->tree->last_processed_zxid);
        conn_close(c, NULL);
        return;
    }
    int32_t timeout = cr.timeout;
    if (timeout < s->cfg->min_session_timeout)
        timeout = s->cfg->min_session_timeout;
    if (timeout > s->cfg->max_session_timeout)
        timeout = s->cfg->max_session_timeout;
    c->session_timeout = timeout;
    c->state = CONN_CLOSING;   /* no requests until the session is settled */
    if (cr.session_id == 0) {
        c->session_id = session_next_id(&s->sessions);
        /* As Apache's createSession: the body is the timeout. */
        uint8_t body[4];
        zk_put_be32(body, (uint32_t)timeout);
        zk_request *req = request_new(c, c->session_id, 0, ZK_OP_CREATESESSION, body, sizeof body,
                                      false);
        req->session_timeout = timeout;
        req->from_connect = true;
        request_count(req);
        process_request(s, req);
        return;
    }
    /* Reconnect: the session moves to this connection. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    zk_conn *old = NULL;
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *o = v;
        if (o != c && o->session_id == cr.session_id && !o->closed)
            old = o;
    }
    if (old)
        conn_close(old, "client reconnected elsewhere");
    c->session_id = cr.session_id;
    uint8_t expect[16];
    session_password(cr.session_id, expect);
    bool pw_ok = cr.passwd.len == 16 && memcmp(cr.passwd.ptr, expect, 16) == 0;
    zk_session *ss = session_get(&s->sessions, cr.session_id);
    if (!pw_ok) {
        LOG_WARN("Incorrect password from %s:%d for session 0x%" G_GINT64_MODIFIER "x", c->addr,
                 c->port, cr.session_id);
        finish_session_init(s, c, false);
        return;
    }
    if (!ss || ss->closing) {
        finish_session_init(s, c, false);
        return;
    }
    int64_t now = loop_now_ms();
    int32_t keep = ss->timeout;
    ss->timeout = timeout;
    session_touch(&s->sessions, ss, now);
    ss->timeout = keep;
    finish_session_init(s, c, true);
}

/* ------------------------------------------------------------------ */
/* auth and sasl                                                       */

/* An AuthPacket that decoded (zk_op.u.auth). */
void request_handle_auth(zk_server *s, zk_conn *c, int32_t xid, const zk_auth_packet *ap)
{
    int rc = ZAUTHFAILED;
    if (jute_view_eq(ap->scheme, "digest") && ap->auth.len >= 0) {
        char *digest = acl_digest(ap->auth.ptr ? ap->auth.ptr : "", (size_t)ap->auth.len);
        bool added = true;
        if (s->cfg->super_digest && strcmp(digest, s->cfg->super_digest) == 0)
            added = auth_add(c->auth, "super", "");
        added = added && auth_add(c->auth, "digest", digest);
        g_free(digest);
        rc = added ? ZOK : ZAUTHFAILED;
        if (!added)
            LOG_WARN("connection %s:%d holds too many identities (at most %d, %u bytes); "
                     "refusing another", c->addr, c->port, AUTH_MAX_IDS, AUTH_MAX_ID_BYTES);
    } else if (jute_view_eq(ap->scheme, "ip")) {
        auth_add(c->auth, "ip", c->addr);
        rc = ZOK;
    }
    jute_writer w;
    jw_init(&w, 16);
    zk_reply_header h = { xid, 0, rc };
    zk_reply_header_write(&w, &h);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    if (rc != ZOK) {
        LOG_WARN("Authentication failed for scheme from %s:%d", c->addr, c->port);
        s->auth_failed_count++;
        conn_close_after_flush(c);
    }
}

void request_init_delivery(zk_server *s)
{
    s->tree->deliver = request_deliver_event;
    s->tree->deliver_ctx = s;
}
