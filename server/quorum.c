/*
 * quorum.c — the ensemble host (see quorum.h).
 *
 * Frames on the peer links start with a kind:
 *   QMSG_ZAB      a zab_msg (zab_wire.h)                    both channels
 *   QMSG_FORWARD  learner -> leader: a client request       quorum channel
 *   QMSG_SYNCED   leader -> learner: a forwarded sync is    quorum channel
 *                 answered (everything before it committed)
 *   QMSG_TOUCH    learner -> leader: sessions kept alive    quorum channel
 * The quorum channel is FIFO, so a SYNCED follows the COMMITs of every
 * proposal made before the sync reached the leader.
 */
#include "quorum.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "peer.h"
#include "server.h"
#include "snapfile.h"
#include "zab_wire.h"

enum { QMSG_ZAB = 1, QMSG_FORWARD = 2, QMSG_SYNCED = 3, QMSG_TOUCH = 4 };

typedef struct pending_sync {
    int origin_sid;
    int64_t session_id;
    int32_t xid;
    int64_t wait_zxid;
} pending_sync;

struct quorum {
    zk_server *s;
    zab *z;
    peer_net *net;
    zab_role role;
    int leader;
    uint32_t epoch;
    bool serving;
    int64_t last_proposed;
    GQueue syncs;            /* leader: pending_sync* waiting for a commit */
    int64_t last_touch_ms;
    int64_t deferred_durable;  /* durability seen inside a callback */
    int64_t leading_since_ms;  /* when this leader started serving */
    const char *synced_by;     /* learner: how the last sync went (static string) */
    int64_t proposal_count;
    int64_t last_proposal_size, min_proposal_size, max_proposal_size;
    bool deferred_serving;     /* re-check serving after the core returns */
    int64_t last_peer_tick_ms;
    zab_peer *peers;
    int npeers;
};

/* ------------------------------------------------------------------ */
/* epochs                                                              */

static char *epoch_path(zk_server *s, const char *name)
{
    return g_build_filename(s->data_dir, name, NULL);
}

static uint32_t read_epoch(zk_server *s, const char *name)
{
    char *p = epoch_path(s, name);
    gchar *text = NULL;
    uint32_t v = 0;
    if (g_file_get_contents(p, &text, NULL, NULL))
        v = (uint32_t)g_ascii_strtoull(text, NULL, 10);
    g_free(text);
    g_free(p);
    return v;
}

/* Writes a small file durably: temp file, fsync, rename, fsync the dir. */
static void write_durably(zk_server *s, const char *name, const char *content)
{
    char *p = epoch_path(s, name);
    char *tmp = g_strconcat(p, ".tmp", NULL);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, content, strlen(content)) != (ssize_t)strlen(content) || fsync(fd) < 0) {
        LOG_ERROR("cannot write %s: %s", tmp, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        abort();   /* an epoch we cannot persist would break Zab's guarantees */
    }
    close(fd);
    if (rename(tmp, p) < 0)
        abort();
    int dfd = open(s->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    g_free(tmp);
    g_free(p);
}

/* ------------------------------------------------------------------ */
/* zab_io                                                              */

static void io_send(void *ctx, int to_sid, const zab_msg *m)
{
    quorum *q = ctx;
    jute_writer w;
    jw_init(&w, 64 + m->len);
    jw_int(&w, QMSG_ZAB);
    zab_wire_encode(&w, m);
    peer_send(q->net, to_sid, zab_msg_is_election(m->type) ? PEER_ELECTION : PEER_QUORUM, w.buf, w.len);
    jw_free(&w);
}

static void io_persist_epochs(void *ctx, uint32_t accepted, uint32_t current)
{
    quorum *q = ctx;
    char buf[32];
    snprintf(buf, sizeof buf, "%u", accepted);
    write_durably(q->s, "acceptedEpoch", buf);
    snprintf(buf, sizeof buf, "%u", current);
    write_durably(q->s, "currentEpoch", buf);
}

static void io_log_append(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    quorum *q = ctx;
    txnlog_append(q->s->log, zxid, txn, len);
    q->s->txns_logged++;
}

/* Waits for an in-flight log batch to finish.  Its durability cannot be
 * reported to the core from inside a callback, so it is remembered and
 * reported after the core returns (flush_deferred). */
static void wait_log_idle(quorum *q)
{
    zk_server *s = q->s;
    while (txnlog_flush_in_flight(s->log)) {
        struct pollfd pfd = { txnlog_event_fd(s->log), POLLIN, 0 };
        poll(&pfd, 1, 100);
        int64_t durable = 0;
        char *err = NULL;
        if (txnlog_flush_complete(s->log, &durable, &err) == 0) {
            if (durable > q->deferred_durable)
                q->deferred_durable = durable;
        } else {
            LOG_ERROR("transaction log write failed: %s", err ? err : "?");
        }
        g_free(err);
    }
}

static void io_log_truncate(void *ctx, int64_t after_zxid)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    wait_log_idle(q);
    char *err = NULL;
    if (txnlog_truncate_after(s->log, after_zxid, &err) < 0) {
        LOG_ERROR("cannot truncate the log after 0x%" G_GINT64_MODIFIER "x: %s", after_zxid, err);
        abort();
    }
    LOG_INFO("truncated the log after 0x%" G_GINT64_MODIFIER "x", after_zxid);
    q->synced_by = "TRUNC";
    snapfile_drop_after(s->data_dir, after_zxid);   /* they hold truncated txns */
    if (s->tree->last_processed_zxid > after_zxid) {
        /* The tree holds truncated transactions: rebuild it from disk. */
        if (persist_reload(s, &err) < 0) {
            LOG_ERROR("cannot reload the database after truncation: %s", err);
            abort();
        }
    }
    s->last_zxid = after_zxid;
}

static void io_deliver(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    quorum *q = ctx;
    request_on_commit(q->s, zxid, txn, len);
    quorum_on_applied(q, zxid);
}

static void io_snapshot_take(void *ctx, int64_t *zxid, uint8_t **blob, size_t *len)
{
    quorum *q = ctx;
    jute_writer w;
    jw_init(&w, 1 << 16);
    persist_serialize(q->s, &w);
    *zxid = q->s->tree->last_processed_zxid;
    *blob = w.buf;     /* ownership moves to the core */
    *len = w.len;
}

static void io_snapshot_install(void *ctx, int64_t zxid, const uint8_t *blob, size_t len)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    char *err = NULL;
    wait_log_idle(q);
    if (persist_install(s, zxid, blob, len, &err) < 0) {
        LOG_ERROR("cannot install the leader's snapshot 0x%" G_GINT64_MODIFIER "x: %s", zxid, err);
        abort();
    }
    s->last_zxid = zxid;
    q->synced_by = "SNAP";
    LOG_INFO("installed the leader's snapshot at 0x%" G_GINT64_MODIFIER "x (%u znodes)", zxid,
             tree_node_count(s->tree));
}

static void set_serving(quorum *q, bool serving)
{
    zk_server *s = q->s;
    if (q->serving == serving)
        return;
    q->serving = serving;
    if (!serving) {
        /* Like Apache's ZooKeeperServer shutdown on leaving a quorum: every
         * client is disconnected (it reconnects elsewhere or later) and
         * nothing in flight is acknowledged. */
        GList *conns = g_hash_table_get_values(s->conns);
        for (GList *l = conns; l; l = l->next) {
            zk_conn *c = l->data;
            if (c->state != CONN_HANDSHAKE || c->packets_received > 0)
                conn_close(c, "this server left the quorum");
        }
        g_list_free(conns);
        request_abort_inflight(s);
        pending_sync *ps;
        while ((ps = g_queue_pop_head(&q->syncs)))
            g_free(ps);
        return;
    }
    /* Serving again is, in Apache, a fresh ZooKeeperServer: zeroed stats. */
    server_reset_stats(s);
    s->start_ms = loop_now_ms();
    if (q->role != ZAB_LEADING) {
        LOG_INFO("synced with leader %d by %s, serving at zxid 0x%" G_GINT64_MODIFIER "x", q->leader,
                 q->synced_by ? q->synced_by : "DIFF", s->tree->last_processed_zxid);
        return;
    }
    LOG_INFO("leading epoch %u with a synced quorum, serving at zxid 0x%" G_GINT64_MODIFIER "x",
             q->epoch, s->tree->last_processed_zxid);
    q->leading_since_ms = loop_now_ms();
    q->proposal_count = 0;
    /* The new leader owns session expiry: every session gets its full
     * timeout from now, as in Apache's SessionTrackerImpl start-up. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->sessions.by_id);
    int64_t now = loop_now_ms();
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_session *ss = v;
        ss->expire_at = 0;
        session_touch(&s->sessions, ss, now);
    }
}

static void io_sync_chosen(void *ctx, int sid, int type, int64_t learner_zxid, int64_t from_zxid)
{
    (void)ctx;
    LOG_INFO("syncing server %d (last zxid 0x%" G_GINT64_MODIFIER "x) by %s from 0x%" G_GINT64_MODIFIER "x",
             sid, learner_zxid, zab_msg_type_name(type), from_zxid);
}

static void io_role_changed(void *ctx, zab_role role, int leader_sid, uint32_t epoch)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    /* A new role is logged once its epoch is agreed (the core reports epoch
     * 0 while discovery runs); LOOKING at once. */
    if ((q->role != role || q->leader != leader_sid || q->epoch != epoch) &&
        (role == ZAB_LOOKING || epoch != 0))
        LOG_INFO("%s (leader %d, epoch %u)", zab_role_name(role), leader_sid, epoch);
    if (role != q->role && (role == ZAB_FOLLOWING || role == ZAB_OBSERVING))
        q->synced_by = "DIFF";   /* unless a TRUNC or SNAP comes */
    q->role = role;
    q->leader = leader_sid;
    q->epoch = epoch;
    s->role = role == ZAB_LEADING ? SERVER_LEADING : role == ZAB_FOLLOWING ? SERVER_FOLLOWING
            : role == ZAB_OBSERVING ? SERVER_OBSERVING : SERVER_LOOKING;
    peer_set_leader(q->net, (role == ZAB_FOLLOWING || role == ZAB_OBSERVING) ? leader_sid : 0);
    q->deferred_serving = true;   /* re-evaluated after the core returns */
}

/* Work that must not run inside a core callback. */
static void flush_deferred(quorum *q)
{
    int64_t now = loop_now_ms();
    while (q->deferred_durable > 0) {
        int64_t d = q->deferred_durable;
        q->deferred_durable = 0;
        zab_log_durable(q->z, d, now);
    }
    if (q->deferred_serving) {
        q->deferred_serving = false;
        set_serving(q, zab_serving(q->z));
    }
}

/* ------------------------------------------------------------------ */
/* server-level messages                                               */

static void send_kind(quorum *q, int sid, jute_writer *w)
{
    peer_send(q->net, sid, PEER_QUORUM, w->buf, w->len);
}

void quorum_forward(quorum *q, const zk_request *req)
{
    jute_writer w;
    jw_init(&w, 64 + req->body_len);
    jw_int(&w, QMSG_FORWARD);
    jw_long(&w, req->session_id);
    jw_int(&w, req->xid);
    jw_int(&w, req->type);
    jw_int(&w, req->session_timeout);
    int n = req->auth ? (int)req->auth->len : 0;
    jw_int(&w, n);
    for (int i = 0; i < n; i++) {
        const zk_auth_id *a = g_ptr_array_index(req->auth, i);
        jw_string(&w, a->scheme);
        jw_string(&w, a->id);
    }
    jw_buffer(&w, req->body, (int32_t)req->body_len);
    send_kind(q, q->leader, &w);
    jw_free(&w);
}

static void send_synced(quorum *q, int sid, int64_t session, int32_t xid, int64_t zxid)
{
    jute_writer w;
    jw_init(&w, 32);
    jw_int(&w, QMSG_SYNCED);
    jw_long(&w, session);
    jw_int(&w, xid);
    jw_long(&w, zxid);
    send_kind(q, sid, &w);
    jw_free(&w);
}

void quorum_on_applied(quorum *q, int64_t zxid)
{
    pending_sync *ps;
    while ((ps = g_queue_peek_head(&q->syncs)) && ps->wait_zxid <= zxid) {
        g_queue_pop_head(&q->syncs);
        send_synced(q, ps->origin_sid, ps->session_id, ps->xid, ps->wait_zxid);
        g_free(ps);
    }
}

/* Leader: a learner forwarded a client request; false if it does not decode. */
static bool on_forward(quorum *q, int sid, jute_reader *r)
{
    zk_server *s = q->s;
    int64_t session = jr_long(r);
    int32_t xid = jr_int(r);
    int32_t type = jr_int(r);
    int32_t timeout = jr_int(r);
    int32_t n = jr_vector_len(r, 8);
    GPtrArray *auth = g_ptr_array_new_with_free_func(auth_id_free);
    for (int32_t i = 0; i < n && jr_ok(r); i++) {
        char *scheme = jute_view_dup(jr_string(r));
        char *id = jute_view_dup(jr_string(r));
        if (scheme && id)
            g_ptr_array_add(auth, auth_id_new(scheme, id));
        g_free(scheme);
        g_free(id);
    }
    jute_view body = jr_buffer(r);
    if (!jr_ok(r) || q->role != ZAB_LEADING) {
        g_ptr_array_free(auth, TRUE);
        return jr_ok(r);
    }
    if (type == ZK_OP_SYNC) {
        g_ptr_array_free(auth, TRUE);
        if (q->last_proposed <= s->tree->last_processed_zxid) {
            send_synced(q, sid, session, xid, s->tree->last_processed_zxid);
        } else {
            pending_sync *ps = g_new(pending_sync, 1);
            *ps = (pending_sync){ sid, session, xid, q->last_proposed };
            g_queue_push_tail(&q->syncs, ps);
        }
        return true;
    }
    request_submit_forwarded(s, sid, session, xid, type, (const uint8_t *)body.ptr,
                             body.len > 0 ? (size_t)body.len : 0, timeout, auth);
    return true;
}

/* Leader: a learner's live sessions; false if the list does not decode. */
static bool on_touch(quorum *q, jute_reader *r)
{
    zk_server *s = q->s;
    int32_t n = jr_vector_len(r, 8);
    int64_t now = loop_now_ms();
    for (int32_t i = 0; i < n && jr_ok(r); i++) {
        int64_t id = jr_long(r);
        zk_session *ss = session_get(&s->sessions, id);
        if (ss && !ss->closing)
            session_touch(&s->sessions, ss, now);
    }
    return jr_ok(r) && n >= 0;
}

/* Session ids per TOUCH frame (512 KiB, within peer_quorum_request_limit). */
#define TOUCH_MAX_SESSIONS 65536

/* Learner: the sessions whose clients sent something (a request or a ping)
 * since `since` are alive; tell the leader (Apache's LearnerSessionTracker
 * touch table).  A connected but silent client keeps nothing alive: its
 * session expires after its timeout, as on the leader. */
static void send_touches(quorum *q, int64_t since)
{
    zk_server *s = q->s;
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *c = v;
        if (c->state == CONN_ESTABLISHED && c->session_id && c->last_frame_ms >= since)
            g_array_append_val(ids, c->session_id);
    }
    for (guint from = 0; from < ids->len; from += TOUCH_MAX_SESSIONS) {
        guint n = MIN(ids->len - from, TOUCH_MAX_SESSIONS);
        jute_writer w;
        jw_init(&w, 16 + 8 * n);
        jw_int(&w, QMSG_TOUCH);
        jw_int(&w, (int32_t)n);
        for (guint i = from; i < from + n; i++)
            jw_long(&w, g_array_index(ids, int64_t, i));
        send_kind(q, q->leader, &w);
        jw_free(&w);
    }
    g_array_free(ids, TRUE);
}

/* A peer sent something that does not decode: it is not one of us (or is
 * broken); its link goes. */
static void drop_malformed(quorum *q, int sid, int channel, const char *what)
{
    static log_limiter limiter;
    uint64_t skipped;
    if (log_limiter_allow(&limiter, 1000, &skipped))
        LOG_WARN("malformed %s from server %d; dropping its %s link (%" G_GUINT64_FORMAT " more not logged)",
                 what, sid, channel == PEER_ELECTION ? "election" : "quorum", skipped);
    peer_drop(q->net, sid, channel);
}

static void on_peer_recv(void *ctx, int sid, int channel, const uint8_t *msg, size_t len)
{
    quorum *q = ctx;
    jute_reader r;
    jr_init(&r, msg, len);
    int32_t kind = jr_int(&r);
    if (!jr_ok(&r) || kind < QMSG_ZAB || kind > QMSG_TOUCH || (channel == PEER_ELECTION && kind != QMSG_ZAB)) {
        drop_malformed(q, sid, channel, "frame");
        return;
    }
    switch (kind) {
    case QMSG_ZAB: {
        zab_msg m;
        if (zab_wire_decode(msg + 4, len - 4, &m) < 0) {
            drop_malformed(q, sid, channel, "Zab message");
            return;
        }
        zab_recv(q->z, sid, &m, loop_now_ms());
        break;
    }
    case QMSG_FORWARD:
        if (!on_forward(q, sid, &r)) {
            drop_malformed(q, sid, channel, "FORWARD");
            return;
        }
        break;
    case QMSG_SYNCED: {
        int64_t session = jr_long(&r);
        int32_t xid = jr_int(&r);
        int64_t zxid = jr_long(&r);
        if (!jr_ok(&r)) {
            drop_malformed(q, sid, channel, "SYNCED");
            return;
        }
        request_on_synced(q->s, session, xid, zxid);
        break;
    }
    case QMSG_TOUCH:
        if (q->role == ZAB_LEADING && !on_touch(q, &r)) {
            drop_malformed(q, sid, channel, "TOUCH");
            return;
        }
        break;
    default:
        break;
    }
    flush_deferred(q);
}

static void on_peer_lost(void *ctx, int sid, int channel)
{
    quorum *q = ctx;
    if (channel == PEER_QUORUM) {
        zab_peer_lost(q->z, sid, loop_now_ms());
        flush_deferred(q);
    }
}

static void on_peer_up(void *ctx, int sid, int channel)
{
    (void)ctx; (void)sid; (void)channel;
}

/* ------------------------------------------------------------------ */
/* public                                                              */

typedef struct history_ctx {
    zab *z;
} history_ctx;

static int load_history(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    history_ctx *h = ctx;
    zab_load_history(h->z, zxid, data, len);
    return 0;
}

quorum *quorum_new(zk_server *s, char **err)
{
    const zk_config *cfg = s->cfg;
    quorum *q = g_new0(quorum, 1);
    q->s = s;
    q->role = ZAB_LOOKING;
    q->leader = -1;
    g_queue_init(&q->syncs);
    quorum_reset_stats(q);
    q->npeers = (int)cfg->peers->len;
    q->peers = g_new0(zab_peer, q->npeers);
    for (int i = 0; i < q->npeers; i++) {
        const zk_peer_config *pc = g_ptr_array_index(cfg->peers, i);
        q->peers[i].sid = pc->sid;
        q->peers[i].observer = pc->observer;
    }
    zab_config zc = { cfg->myid, q->peers, q->npeers, cfg->tick_time, cfg->init_limit,
                      cfg->sync_limit, 1000 };
    zab_io io = { q, io_send, io_persist_epochs, io_log_append, io_log_truncate, io_deliver,
                  io_snapshot_take, io_snapshot_install, io_role_changed, io_sync_chosen };
    uint32_t accepted = read_epoch(s, "acceptedEpoch");
    uint32_t current = read_epoch(s, "currentEpoch");
    /* The tree holds the snapshot (committed); the log may go further with
     * entries nobody confirmed yet: they are handed to the core as
     * history and delivered once committed. */
    int64_t delivered = s->tree->last_processed_zxid;
    int64_t logged = txnlog_last_zxid(s->log);
    if (logged < delivered)
        logged = delivered;
    persist_init_config_node(s);
    q->z = zab_new(&zc, &io, accepted, current, logged, delivered);
    if (!q->z) {
        *err = g_strdup("cannot start Zab (myid not among the servers?)");
        quorum_free(q);
        return NULL;
    }
    /* The logged entries since the last snapshot serve DIFF syncs. */
    history_ctx hc = { q->z };
    if (txnlog_replay(s->log, s->snap_zxid, load_history, &hc, err) < 0) {
        quorum_free(q);
        return NULL;
    }
    q->net = peer_net_new(s->loop, cfg, on_peer_recv, on_peer_lost, on_peer_up, q, err);
    if (!q->net) {
        quorum_free(q);
        return NULL;
    }
    s->role = SERVER_LOOKING;
    zab_start(q->z, loop_now_ms());
    flush_deferred(q);
    return q;
}

void quorum_free(quorum *q)
{
    if (!q)
        return;
    peer_net_free(q->net);
    zab_free(q->z);
    pending_sync *ps;
    while ((ps = g_queue_pop_head(&q->syncs)))
        g_free(ps);
    g_free(q->peers);
    g_free(q);
}

bool quorum_can_propose(const quorum *q)
{
    return q->role == ZAB_LEADING && q->serving;
}

bool quorum_learner_serving(const quorum *q)
{
    return (q->role == ZAB_FOLLOWING || q->role == ZAB_OBSERVING) && q->serving;
}

bool quorum_serving(const quorum *q)
{
    return q->serving;
}

zab_role quorum_role(const quorum *q)
{
    return q->role;
}

int quorum_leader(const quorum *q)
{
    return q->leader;
}

int64_t quorum_next_zxid(quorum *q)
{
    return zab_next_zxid(q->z);
}

int quorum_propose(quorum *q, int64_t zxid, const uint8_t *txn, size_t len)
{
    int rc = zab_propose(q->z, zxid, txn, len, loop_now_ms());
    if (rc == 0) {
        q->last_proposed = zxid;
        q->proposal_count++;
        /* Apache counts the serialized QuorumPacket: type, zxid, the txn
         * as a buffer and an empty authinfo vector. */
        int64_t size = 4 + 8 + 4 + (int64_t)len + 4;
        q->last_proposal_size = size;
        if (q->min_proposal_size < 0 || size < q->min_proposal_size)
            q->min_proposal_size = size;
        if (size > q->max_proposal_size)
            q->max_proposal_size = size;
    }
    flush_deferred(q);
    return rc;
}

void quorum_on_log_durable(quorum *q, int64_t zxid)
{
    zab_log_durable(q->z, zxid, loop_now_ms());
    flush_deferred(q);
}

void quorum_tick(quorum *q)
{
    int64_t now = loop_now_ms();
    zab_tick(q->z, now);
    if (now - q->last_peer_tick_ms >= 200) {
        q->last_peer_tick_ms = now;
        peer_tick(q->net);
    }
    if (quorum_learner_serving(q) && now - q->last_touch_ms >= q->s->cfg->tick_time / 2) {
        int64_t since = q->last_touch_ms;
        q->last_touch_ms = now;
        send_touches(q, since);
    }
    flush_deferred(q);
}

void quorum_get_stats(const quorum *q, quorum_stats *st)
{
    memset(st, 0, sizeof *st);
    st->role = q->role;
    st->serving = q->serving;
    st->leader_sid = q->leader;
    st->epoch = q->epoch;
    for (int i = 0; i < q->npeers; i++)
        if (!q->peers[i].observer)
            st->voters++;
    st->quorum_size = st->voters / 2 + 1;
    if (q->role == ZAB_LEADING) {
        for (int i = 0; i < q->npeers; i++) {
            int sid = q->peers[i].sid;
            if (sid == q->s->cfg->myid || !peer_connected(q->net, sid, PEER_QUORUM))
                continue;
            st->learners++;
            if (q->peers[i].observer)
                st->synced_observers++;
            else
                st->synced_followers++;
        }
        st->pending_syncs = (int)g_queue_get_length((GQueue *)&q->syncs);
        st->leader_uptime_ms = q->serving && q->leading_since_ms ? loop_now_ms() - q->leading_since_ms : 0;
        st->proposal_count = q->proposal_count;
    }
    st->last_proposal_size = q->last_proposal_size;
    st->min_proposal_size = q->min_proposal_size;
    st->max_proposal_size = q->max_proposal_size;
}

void quorum_reset_stats(quorum *q)
{
    q->last_proposal_size = q->min_proposal_size = q->max_proposal_size = -1;
}
