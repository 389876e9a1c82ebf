/*
 * fuzz_client_frames.c — the client port, in process: up to four client
 * connections (memory connections, conn_new_memory: no sockets) of a real
 * standalone server (server_init: tree, sessions, watches, ACLs, the whole
 * request pipeline of request.c, the 4lw sniff of conn.c), fed with what the
 * input says, applied into the real tree.
 *
 * Input: records [tag u8][len u16 BE][len bytes]; slot = tag & 3, action =
 * tag >> 4:
 *   0, 7..15  one frame to the slot (the harness adds the length prefix;
 *             the slot's first frame is its ConnectRequest)
 *   1         raw bytes to the slot (framing and the 4lw sniff are fuzzed)
 *   2         make everything in flight durable (apply + replies)
 *   3         the slot's client disconnects
 *   4         every session expires and containers/TTLs are reaped
 *   5         a learner forwards a request for the slot's session:
 *             bytes = [type i32][body]
 *   6         the server submits an internal deleteContainer of the bytes
 * Writes stay in flight until action 2 (or the end), so pipelined writes
 * validate against each other's outstanding change records.
 *
 * Checked (a failure aborts with a message):
 *   - every byte the server sends is a whole frame; the first one of a
 *     connection is a ConnectResponse; every other one is a well-formed
 *     reply to a request this connection sent (matched by xid; a ping's
 *     reply has xid -2; a createSession frame may get a ConnectResponse)
 *     or a watch event; a reply with ZOK decodes with the client
 *     library's decoder (lib/client_codec.c) as the reply to that op;
 *   - every transaction the pipeline makes applies cleanly to a second,
 *     shadow tree (a follower's view), and at the end the shadow equals
 *     the server's tree (snapshot bytes) and session table;
 *   - the server's tree survives a snapshot round trip unchanged.
 */
#include <string.h>

#include "common.h"
#include "config.h"
#include "conn.h"
#include "request.h"
#include "server.h"
#include "txn.h"
#include "../../lib/client_internal.h"

#define SLOTS 4
#define MAX_PENDING 4096

typedef struct pending {
    int32_t xid;
    int32_t op;
} pending;

typedef struct slot {
    zk_conn *c;          /* a reference, NULL when no connection */
    GByteArray *sent;    /* sent bytes not yet framed */
    bool sent_first;     /* the ConnectRequest was sent */
    bool untracked;      /* a 4lw or a framing error: replies not checked */
    bool got_connect;    /* the ConnectResponse came */
    GArray *pending;     /* of pending, oldest first */
} slot;

static zk_config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    zk_log_enabled = false;
    char *err = NULL;
    static const char text[] =
        "tickTime=2000\ndataDir=/nonexistent/zkfs-fuzz\nclientPort=2181\n"
        "4lw.commands.whitelist=*\nextendedTypesEnabled=true\nenforceQuota=true\n"
        "superDigest=super:0bX78nEegDzJM3ju0iLBEJdWzjg=\n";   /* super:pw */
    if (zk_config_parse_string(text, "fuzz.cfg", NULL, &cfg, NULL, NULL, &err) < 0) {
        fprintf(stderr, "config: %s\n", err);
        abort();
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* replies                                                             */

static bool decodable_op(int32_t op)
{
    switch (op) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
    case ZK_OP_EXISTS: case ZK_OP_SETDATA: case ZK_OP_SETACL: case ZK_OP_GETDATA:
    case ZK_OP_GETACL: case ZK_OP_GETCHILDREN: case ZK_OP_GETCHILDREN2: case ZK_OP_SYNC:
    case ZK_OP_MULTI: case ZK_OP_GETALLCHILDRENNUMBER: case ZK_OP_WHOAMI:
    case ZK_OP_GETEPHEMERALS:
        return true;
    default:
        return false;
    }
}

/* True if pending request p may be the one a reply with this xid answers
 * (a ping is answered with xid -2 whatever its own xid was). */
static bool may_answer(const pending *p, int32_t xid)
{
    return p->xid == xid || (xid == ZK_XID_PING && p->op == ZK_OP_PING);
}

static bool is_connect_response(const slot *sl, const uint8_t *f, size_t len)
{
    if (len != 36 && len != 37)
        return false;
    jute_reader r;
    jr_init(&r, f, len);
    zk_connect_response cr;
    return zk_connect_response_read(&r, &cr) && cr.passwd.len == 16 && jr_remaining(&r) == 0 &&
           cr.protocol_version == 0 && (cr.session_id == 0 || cr.session_id == sl->c->session_id);
}

static void check_frame(slot *sl, const uint8_t *f, size_t len)
{
    if (!sl->got_connect) {
        FZ_CHECK(is_connect_response(sl, f, len), "first frame of %zu bytes is no ConnectResponse", len);
        sl->got_connect = true;
        return;
    }
    if (is_connect_response(sl, f, len)) {
        /* a createSession frame on an established session */
        for (guint i = 0; i < sl->pending->len; i++)
            if (g_array_index(sl->pending, pending, i).op == ZK_OP_CREATESESSION) {
                g_array_remove_index(sl->pending, i);
                return;
            }
    }
    jute_reader r;
    jr_init(&r, f, len);
    zk_reply_header h;
    FZ_CHECK(zk_reply_header_read(&r, &h), "frame of %zu bytes has no ReplyHeader", len);
    /* An event: xid -1, zxid -1, err 0.  (A client may use xid -1 itself:
     * the reply to that request has a real zxid, or an error.) */
    if (h.xid == ZK_XID_NOTIFICATION && h.zxid == -1 && h.err == ZOK) {
        zk_watcher_event ev;
        FZ_CHECK(zk_watcher_event_read(&r, &ev) && jr_remaining(&r) == 0 && ev.path.len >= 0,
                 "malformed watch event");
        FZ_CHECK(ev.type >= ZK_EVENT_CREATED && ev.type <= ZK_EVENT_CHILD_CHANGED &&
                     ev.state == ZK_STATE_SYNC_CONNECTED, "event type %d state %d", ev.type, ev.state);
        return;
    }
    /* The request it answers: one this connection sent with that xid (a
     * client may reuse xids, and auth, sasl and unknown opcodes are
     * answered at once, ahead of requests queued behind a write), for
     * which this reply is well-formed. */
    size_t body_at = r.pos;
    for (guint i = 0; i < sl->pending->len; i++) {
        const pending *p = &g_array_index(sl->pending, pending, i);
        if (!may_answer(p, h.xid))
            continue;
        bool ok = true;
        if (h.err == ZOK && decodable_op(p->op)) {
            zkc_arena arena;
            zkc_arena_init(&arena);
            zkc_result res;
            memset(&res, 0, sizeof res);
            r.pos = body_at;
            ok = zkc_decode_reply(p->op, &r, &arena, NULL, &res);
            zkc_arena_clear(&arena);
        }
        if (ok) {
            g_array_remove_index(sl->pending, i);
            return;
        }
    }
    FZ_CHECK(false, "a reply (xid %d, err %d, %zu bytes) that answers no request of this connection "
             "(none sent with that xid, or the client library cannot decode it)", h.xid, h.err, len);
}

/* Takes what the server sent on the slot and checks it. */
static void drain_output(slot *sl)
{
    zk_conn *c = sl->c;
    if (!c)
        return;
    size_t off = 0;
    while (!sl->untracked && c->out.len - off >= 4) {
        int32_t len = (int32_t)zk_be32(c->out.buf + off);
        FZ_CHECK(len >= 0 && (size_t)len <= c->out.len - off - 4, "a partial or negative frame (%d)", len);
        check_frame(sl, c->out.buf + off + 4, (size_t)len);
        off += 4 + (size_t)len;
    }
    FZ_CHECK(sl->untracked || off == c->out.len, "stray bytes after the frames");
    jw_reset(&c->out);
}

/* ------------------------------------------------------------------ */
/* sending                                                             */

static void slot_open(zk_server *s, slot *sl, int k)
{
    sl->c = conn_new_memory(s, k == 3 ? "10.1.2.3" : "127.0.0.1", 40000 + k);
    conn_ref(sl->c);
    g_byte_array_set_size(sl->sent, 0);
    g_array_set_size(sl->pending, 0);
    sl->sent_first = sl->untracked = sl->got_connect = false;
}

static void slot_close(slot *sl)
{
    if (!sl->c)
        return;
    drain_output(sl);
    conn_close(sl->c, NULL);
    conn_unref(sl->c);
    sl->c = NULL;
}

/* Follows the bytes the client sent as the server frames them, to know
 * which requests it made (xid, opcode). */
static void track_sent(zk_server *s, slot *sl)
{
    size_t off = 0;
    if (!sl->sent_first && sl->sent->len >= 4) {
        char word[5] = { 0 };
        memcpy(word, sl->sent->data, 4);
        if (zk_fourlw_known(word))
            sl->untracked = true;
    }
    while (!sl->untracked && sl->sent->len - off >= 4) {
        int32_t len = (int32_t)zk_be32(sl->sent->data + off);
        if (len < 0 || len > s->cfg->jute_maxbuffer) {
            sl->untracked = true;   /* the server closes the connection */
            break;
        }
        if (sl->sent->len - off - 4 < (size_t)len)
            break;
        const uint8_t *f = sl->sent->data + off + 4;
        if (!sl->sent_first) {
            sl->sent_first = true;
        } else if (len < 8) {
            sl->untracked = true;   /* no request header: closed */
        } else if (sl->pending->len < MAX_PENDING) {
            pending p = { (int32_t)zk_be32(f), (int32_t)zk_be32(f + 4) };
            g_array_append_val(sl->pending, p);
        } else {
            sl->untracked = true;
        }
        off += 4 + (size_t)len;
    }
    g_byte_array_remove_range(sl->sent, 0, (guint)off);
}

static void slot_send(zk_server *s, slot *sl, int k, const uint8_t *p, size_t len, bool framed)
{
    if (!sl->c || sl->c->closed) {
        slot_close(sl);
        slot_open(s, sl, k);
    }
    uint8_t prefix[4];
    if (framed) {
        zk_put_be32(prefix, (uint32_t)len);
        g_byte_array_append(sl->sent, prefix, 4);
    }
    g_byte_array_append(sl->sent, p, (guint)len);
    track_sent(s, sl);
    if (framed)
        conn_receive(sl->c, prefix, 4);
    conn_receive(sl->c, p, len);
    drain_output(sl);
}

/* ------------------------------------------------------------------ */
/* the shadow replica                                                  */

typedef struct shadow {
    zk_tree *tree;
    session_table sessions;
} shadow;

/* Applies to the shadow every transaction in flight, then makes them
 * durable on the server (apply + replies + watches). */
static void make_durable(zk_server *s, shadow *sh, slot *slots)
{
    for (GList *l = s->inflight.head; l; l = l->next) {
        zk_request *req = l->data;
        txn_ctx ctx = { sh->tree, &sh->sessions, loop_now_ms(), NULL, NULL };
        txn_result res;
        bool ok = txn_apply(&ctx, req->txn, req->txn_len, &res);
        txn_result_clear(&res);
        FZ_CHECK(ok, "the pipeline made a transaction (op %d) that does not apply", req->type);
    }
    request_on_durable(s, s->last_zxid);
    for (int k = 0; k < SLOTS; k++)
        drain_output(&slots[k]);
}

static GBytes *tree_bytes(const zk_tree *t)
{
    jute_writer w;
    jw_init(&w, 4096);
    tree_serialize(t, &w);
    return g_bytes_new_take(w.buf, w.len);
}

static gint cmp_i64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static GArray *session_ids(const session_table *st)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, st->by_id);
    while (g_hash_table_iter_next(&it, &k, &v))
        g_array_append_val(ids, ((zk_session *)v)->id);
    g_array_sort(ids, cmp_i64);
    return ids;
}

static void check_state(zk_server *s, shadow *sh)
{
    GBytes *mine = tree_bytes(s->tree), *theirs = tree_bytes(sh->tree);
    FZ_CHECK(g_bytes_equal(mine, theirs), "the shadow replica's tree differs (%zu vs %zu bytes)",
             g_bytes_get_size(mine), g_bytes_get_size(theirs));
    GArray *a = session_ids(&s->sessions), *b = session_ids(&sh->sessions);
    FZ_CHECK(a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len * sizeof(int64_t)) == 0),
             "the shadow replica's sessions differ (%u vs %u)", a->len, b->len);
    g_array_free(a, TRUE);
    g_array_free(b, TRUE);
    /* snapshot round trip */
    jute_reader r;
    gsize n;
    const uint8_t *p = g_bytes_get_data(mine, &n);
    jr_init(&r, p, n);
    char *err = NULL;
    zk_tree *t = tree_deserialize(&r, &err);
    FZ_CHECK(t != NULL, "the server's own snapshot does not load: %s", err ? err : "?");
    /* the same nodes with the same Stat and data (children may iterate in
     * another order: a java.util.HashSet rebuilt at its own capacity) */
    FZ_CHECK(tree_node_count(t) == tree_node_count(s->tree), "a snapshot round trip changes the node count");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->tree->nodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_node *a = v, *b = tree_get(t, a->path);
        FZ_CHECK(b, "a snapshot round trip loses %s", a->path);
        zk_stat sa, sb;
        tree_stat(a, &sa);
        tree_stat(b, &sb);
        /* A quota stats znode's data (so its dataLength) is recomputed from
         * its subtree on load (Apache's setupQuota; docs/compatibility.md),
         * the rest of its Stat is kept. */
        bool quota_stats = g_str_has_prefix(a->path, "/zookeeper/quota/") &&
                           g_str_has_suffix(a->path, "/zookeeper_stats");
        if (quota_stats)
            sb.data_length = sa.data_length;
        FZ_CHECK(sa.czxid == sb.czxid && sa.mzxid == sb.mzxid && sa.pzxid == sb.pzxid &&
                     sa.ctime == sb.ctime && sa.mtime == sb.mtime && sa.version == sb.version &&
                     sa.cversion == sb.cversion && sa.aversion == sb.aversion &&
                     sa.ephemeral_owner == sb.ephemeral_owner && sa.num_children == sb.num_children &&
                     sa.data_length == sb.data_length,
                 "a snapshot round trip changes the Stat of %s (cversion %d/%d, pzxid %lld/%lld, "
                 "owner %llx/%llx)", a->path, sa.cversion, sb.cversion, (long long)sa.pzxid,
                 (long long)sb.pzxid, (long long)sa.ephemeral_owner, (long long)sb.ephemeral_owner);
        /* ...except a quota stats znode's data (above) */
        FZ_CHECK(quota_stats || (a->data_len == b->data_len &&
                     (a->data_len <= 0 || memcmp(a->data, b->data, (size_t)a->data_len) == 0)),
                 "a snapshot round trip changes the data of %s", a->path);
    }
    tree_free(t);
    g_bytes_unref(mine);
    g_bytes_unref(theirs);
}

/* ------------------------------------------------------------------ */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    zk_server s;
    server_init(&s, &cfg);
    request_init_delivery(&s);
    shadow sh = { tree_new(), { 0 } };
    session_table_init(&sh.sessions, 1, cfg.tick_time, 0);
    slot slots[SLOTS];
    for (int k = 0; k < SLOTS; k++) {
        slots[k] = (slot){ NULL, g_byte_array_new(), false, false, false,
                           g_array_new(FALSE, FALSE, sizeof(pending)) };
    }
    fz_input in = { data, size };
    while (fz_more(&in)) {
        uint8_t tag = fz_u8(&in);
        const uint8_t *p;
        size_t len = fz_chunk(&in, &p);
        int k = tag & 3;
        slot *sl = &slots[k];
        switch (tag >> 4) {
        case 1:
            slot_send(&s, sl, k, p, len, false);
            break;
        case 2:
            make_durable(&s, &sh, slots);
            break;
        case 3:
            slot_close(sl);
            break;
        case 4: {
            make_durable(&s, &sh, slots);
            GHashTableIter it;
            gpointer key, v;
            g_hash_table_iter_init(&it, s.sessions.by_id);
            while (g_hash_table_iter_next(&it, &key, &v))
                ((zk_session *)v)->expire_at = 0;
            s.next_expiry_check_ms = 0;
            s.last_container_check_ms = INT64_MIN / 2;
            request_tick(&s);
            break;
        }
        case 5: {
            if (len < 4)
                break;
            GPtrArray *auth = g_ptr_array_new_with_free_func(auth_id_free);
            auth_add(auth, "ip", "10.0.0.2");
            int64_t session = sl->c ? sl->c->session_id : 0;
            request_submit_forwarded(&s, 2, session, 77, (int32_t)zk_be32(p), p + 4, len - 4,
                                     30000, auth);
            break;
        }
        case 6:
            request_submit_internal(&s, 0, ZK_OP_DELETECONTAINER, p, len);
            break;
        default:
            slot_send(&s, sl, k, p, len, true);
            break;
        }
        /* what the event loop does before it sleeps: connections whose
         * backpressure lifted read on, those over their output limit close */
        conn_before_sleep(&s);
        for (int j = 0; j < SLOTS; j++)
            drain_output(&slots[j]);
    }
    make_durable(&s, &sh, slots);
    check_state(&s, &sh);
    for (int k = 0; k < SLOTS; k++) {
        slot_close(&slots[k]);
        g_byte_array_free(slots[k].sent, TRUE);
        g_array_free(slots[k].pending, TRUE);
    }
    server_destroy(&s);
    tree_free(sh.tree);
    session_table_destroy(&sh.sessions);
    return 0;
}
