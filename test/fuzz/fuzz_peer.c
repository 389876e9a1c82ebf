/*
 * fuzz_peer.c — the peer protocol, fed into a real Zab core: hello frames
 * and length framing (server/peer.c's parsers), the server-level frames
 * (server/qmsg.c), every Zab message (server/zab_wire.c) and the core
 * itself (server/zab*.c), whose transactions are applied into a real tree
 * (server/txn.c) as the host would.  The ensemble is sids 1, 2, 3 (voters)
 * and 4 (an observer); messages also come from sids 0 and 5, which are not
 * members.
 *
 * Input: [me u8][history u8], then records [tag u8][len u16 BE][bytes]:
 *   action = tag & 7, sid = (tag >> 3) % 6:
 *   0, 1  one frame from sid (a qmsg: kind + body)
 *   2     bytes on a link from sid: the first frame must be a hello, then
 *         frames (peer_hello_decode / peer_frame_next, as peer.c)
 *   3     time passes: bytes[0..1] ms (big-endian), then zab_tick
 *   4     the log is durable up to what was appended
 *   5     the quorum link to sid broke
 *   6     the leader proposes bytes as a transaction (if it can)
 *   7     the core restarts from the harness's durable state
 * me = 1 + byte % 4 (so the core is a voter or the observer); history
 * selects a fresh start or a log with entries of epoch 1.
 *
 * Checked at every callback (a failure aborts with a message): the core
 * sends only to other members, and what it sends survives an encode/decode
 * round trip; appended zxids increase; a truncation never cuts below what
 * was delivered; deliveries come in zxid order, each one an entry that was
 * logged with the same bytes; acceptedEpoch never decreases and
 * currentEpoch never exceeds it; the core follows only a voter that is not
 * itself, leads only as a voter, and reports a leader only from the
 * configuration; and it never delivers past what it logged.
 */
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"
#include "peer.h"
#include "qmsg.h"
#include "log.h"
#include "server.h"
#include "txn.h"
#include "zab.h"
#include "zab_wire.h"

#define NPEERS 4

typedef struct entry {
    int64_t zxid;
    GBytes *txn;
} entry;

typedef struct host {
    zab *z;
    int me;
    int64_t now;
    GArray *log;              /* of entry: the log as the core left it (durable or not) */
    int64_t durable;          /* what the harness told the core is durable */
    int64_t delivered;
    uint32_t accepted, current;
    zk_tree *tree;
    session_table sessions;
} host;

static const zab_peer peers[NPEERS] = { { 1, false }, { 2, false }, { 3, false }, { 4, true } };
static zk_config cfg;

static bool is_member(int sid) { return sid >= 1 && sid <= NPEERS; }
static bool is_voter(int sid) { return sid >= 1 && sid <= 3; }

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    zk_log_enabled = false;
    /* the peer list the hello checks use (myid is set per input) */
    char tmpl[] = "/tmp/zkfuzz-peer.XXXXXX";
    char *dir = mkdtemp(tmpl);
    char *myid = dir ? g_build_filename(dir, "myid", NULL) : NULL;
    if (!myid || !g_file_set_contents(myid, "1\n", -1, NULL))
        abort();
    char *text = g_strdup_printf(
        "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=%s\nclientPort=2181\n"
        "server.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889\n"
        "server.3=127.0.0.1:2890:3890\nserver.4=127.0.0.1:2891:3891:observer\n", dir);
    char *err = NULL;
    if (zk_config_parse_string(text, "fuzz.cfg", NULL, &cfg, NULL, NULL, &err) < 0) {
        fprintf(stderr, "config: %s\n", err);
        abort();
    }
    unlink(myid);
    rmdir(dir);
    g_free(myid);
    g_free(text);
    return 0;
}

/* ------------------------------------------------------------------ */
/* the host's side of zab_io, with the checks                          */

static int64_t log_last(const host *h)
{
    return h->log->len ? g_array_index(h->log, entry, h->log->len - 1).zxid : h->delivered;
}

static void log_clear_from(host *h, guint from)
{
    for (guint i = from; i < h->log->len; i++)
        g_bytes_unref(g_array_index(h->log, entry, i).txn);
    g_array_set_size(h->log, from);
}

static void io_send(void *ctx, int to, const zab_msg *m)
{
    host *h = ctx;
    FZ_CHECK(is_member(to) && to != h->me, "send to sid %d", to);
    jute_writer w;
    jw_init(&w, 64 + m->len);
    qmsg_write_zab(&w, m);
    qmsg back;
    FZ_CHECK(qmsg_decode(w.buf, w.len, &back) && back.kind == QMSG_ZAB, "a sent message does not decode");
    FZ_CHECK(back.zab.type == m->type && back.zab.zxid == m->zxid && back.zab.epoch == m->epoch &&
                 back.zab.session == m->session && back.zab.len == m->len &&
                 (m->len == 0 || memcmp(back.zab.data, m->data, m->len) == 0),
             "a sent %s does not survive the wire", zab_msg_type_name(m->type));
    jw_free(&w);
}

static int io_persist_epochs(void *ctx, uint32_t accepted, uint32_t current)
{
    host *h = ctx;
    FZ_CHECK(accepted >= h->accepted, "acceptedEpoch goes back from %u to %u", h->accepted, accepted);
    FZ_CHECK(current <= accepted, "currentEpoch %u above acceptedEpoch %u", current, accepted);
    h->accepted = accepted;
    h->current = current;
    return 0;
}

static int io_log_append(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    host *h = ctx;
    FZ_CHECK(zxid > log_last(h), "appended zxid 0x%llx after 0x%llx", (long long)zxid,
             (long long)log_last(h));
    entry e = { zxid, g_bytes_new(txn, len) };
    g_array_append_val(h->log, e);
    return 0;
}

static int io_log_truncate(void *ctx, int64_t after)
{
    host *h = ctx;
    FZ_CHECK(after >= h->delivered, "truncation to 0x%llx undoes delivered 0x%llx", (long long)after,
             (long long)h->delivered);
    guint keep = 0;
    while (keep < h->log->len && g_array_index(h->log, entry, keep).zxid <= after)
        keep++;
    log_clear_from(h, keep);
    if (h->durable > after)
        h->durable = after;
    return 0;
}

static int io_deliver(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    host *h = ctx;
    FZ_CHECK(zxid > h->delivered, "delivery of 0x%llx after 0x%llx", (long long)zxid,
             (long long)h->delivered);
    const entry *found = NULL;
    for (guint i = 0; i < h->log->len; i++)
        if (g_array_index(h->log, entry, i).zxid == zxid)
            found = &g_array_index(h->log, entry, i);
    FZ_CHECK(found, "delivery of 0x%llx, which was never logged", (long long)zxid);
    gsize n;
    const void *p = g_bytes_get_data(found->txn, &n);
    FZ_CHECK(n == len && (len == 0 || memcmp(p, txn, len) == 0), "delivered bytes differ from the log");
    h->delivered = zxid;
    /* the host applies it (a hostile leader's txn must not hurt) */
    txn_ctx tc = { h->tree, &h->sessions, h->now, NULL, NULL };
    txn_result res;
    (void)txn_apply(&tc, txn, len, &res);
    txn_result_clear(&res);
    return 0;
}

static void io_snapshot_take(void *ctx, int64_t *zxid, uint8_t **blob, size_t *len)
{
    host *h = ctx;
    jute_writer w;
    jw_init(&w, 1024);
    tree_serialize(h->tree, &w);
    *zxid = h->delivered;
    *blob = w.buf;
    *len = w.len;
}

static int io_snapshot_install(void *ctx, int64_t zxid, const uint8_t *blob, size_t len)
{
    host *h = ctx;
    jute_reader r;
    jr_init(&r, blob, len);
    char *err = NULL;
    zk_tree *t = tree_deserialize(&r, &err);   /* a hostile blob: refused, never a crash */
    g_free(err);
    if (t) {
        tree_free(h->tree);
        h->tree = t;
    }
    log_clear_from(h, 0);
    h->delivered = h->durable = zxid;
    return 0;
}

static void io_role_changed(void *ctx, zab_role role, int leader, uint32_t epoch)
{
    host *h = ctx;
    (void)epoch;
    switch (role) {
    case ZAB_LOOKING:
        break;
    case ZAB_LEADING:
        FZ_CHECK(leader == h->me && is_voter(h->me), "leading as sid %d with leader %d", h->me, leader);
        break;
    case ZAB_FOLLOWING: case ZAB_OBSERVING:
        FZ_CHECK(is_voter(leader) && leader != h->me, "following sid %d", leader);
        FZ_CHECK((role == ZAB_OBSERVING) == !is_voter(h->me), "role %d as sid %d", role, h->me);
        break;
    }
}

static void host_start(host *h, uint32_t accepted, uint32_t current, int64_t delivered)
{
    zab_config zc = { h->me, peers, NPEERS, 2000, 10, 5, 50, 0 };
    zab_io io = { h, io_send, io_persist_epochs, io_log_append, io_log_truncate, io_deliver,
                  io_snapshot_take, io_snapshot_install, io_role_changed, NULL, NULL };
    int64_t logged = log_last(h);
    h->z = zab_new(&zc, &io, accepted, current, logged, delivered);
    FZ_CHECK(h->z, "zab_new refused sid %d", h->me);
    for (guint i = 0; i < h->log->len; i++) {
        const entry *e = &g_array_index(h->log, entry, i);
        gsize n;
        const uint8_t *p = g_bytes_get_data(e->txn, &n);
        zab_load_history(h->z, e->zxid, p, n);
    }
    h->durable = logged;
    zab_start(h->z, h->now);
}

/* A transaction the way the pipeline encodes it: create /f<zxid>. */
static GBytes *make_txn(int64_t zxid)
{
    jute_writer w;
    jw_init(&w, 128);
    txn_header th = { 0x100, 1, zxid, 1000, ZK_OP_CREATE };
    txn_header_write(&w, &th);
    char path[40];
    snprintf(path, sizeof path, "/f%llx", (long long)zxid);
    jw_string(&w, path);
    jw_buffer(&w, "v", 1);
    jw_int(&w, 1);
    jw_int(&w, ZK_PERM_ALL);
    jw_string(&w, "world");
    jw_string(&w, "anyone");
    jw_bool(&w, false);
    jw_int(&w, 1);
    return g_bytes_new_take(w.buf, w.len);
}

static void after_step(host *h)
{
    FZ_CHECK(zab_last_committed(h->z) <= zab_last_logged(h->z), "delivered 0x%llx past logged 0x%llx",
             (long long)zab_last_committed(h->z), (long long)zab_last_logged(h->z));
    FZ_CHECK(zab_last_committed(h->z) == h->delivered, "the core's delivered point differs");
    if (zab_serving(h->z))
        FZ_CHECK(zab_get_role(h->z) != ZAB_LOOKING, "serving while looking");
}

static void deliver_frame(host *h, int sid, const uint8_t *p, size_t len)
{
    qmsg m;
    if (!qmsg_decode(p, len, &m))
        return;
    if (m.kind == QMSG_ZAB)
        zab_recv(h->z, sid, &m.zab, h->now);
    after_step(h);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    host h = { 0 };
    h.me = 1 + fz_u8(&in) % NPEERS;
    uint8_t history = fz_u8(&in);
    h.now = 1000;
    h.log = g_array_new(FALSE, FALSE, sizeof(entry));
    h.tree = tree_new();
    session_table_init(&h.sessions, h.me, 2000, 0);
    uint32_t epoch = 0;
    if (history & 1) {
        /* a log of epoch 1 (entries 1..n), the first half already applied */
        int n = 1 + (history >> 1) % 6;
        for (int i = 1; i <= n; i++) {
            int64_t zxid = (int64_t)1 << 32 | (uint32_t)i;
            entry e = { zxid, make_txn(zxid) };
            g_array_append_val(h.log, e);
            if (i <= n / 2) {
                gsize tl;
                const uint8_t *tp = g_bytes_get_data(e.txn, &tl);
                txn_ctx tc = { h.tree, &h.sessions, h.now, NULL, NULL };
                txn_result res;
                (void)txn_apply(&tc, tp, tl, &res);
                txn_result_clear(&res);
                h.delivered = zxid;
            }
        }
        epoch = 1;
        h.accepted = h.current = 1;
    }
    cfg.myid = h.me;
    host_start(&h, epoch, epoch, h.delivered);
    after_step(&h);

    GByteArray *links[6];
    bool hello[6] = { false };
    for (int i = 0; i < 6; i++)
        links[i] = g_byte_array_new();
    while (fz_more(&in)) {
        uint8_t tag = fz_u8(&in);
        const uint8_t *p;
        size_t len = fz_chunk(&in, &p);
        int sid = (tag >> 3) % 6;
        switch (tag & 7) {
        case 0: case 1:
            deliver_frame(&h, sid, p, len);
            break;
        case 2: {
            GByteArray *b = links[sid];
            g_byte_array_append(b, p, (guint)len);
            size_t off = 0;
            while (b->len > 0) {
                const uint8_t *frame;
                size_t flen;
                long took = peer_frame_next(b->data + off, b->len - off,
                                            hello[sid] ? peer_quorum_request_limit(&cfg) : 12, &frame, &flen);
                if (took < 0) {
                    off = b->len;      /* peer.c closes the link */
                    hello[sid] = false;
                    break;
                }
                if (took == 0)
                    break;
                off += (size_t)took;
                if (!hello[sid]) {
                    int who, ch;
                    /* peer.c's acceptance: a hello, on this channel, from
                     * another member */
                    if (!peer_hello_decode(frame, flen, &who, &ch) || ch != PEER_QUORUM ||
                        !zk_config_find_peer(&cfg, who) || who == h.me) {
                        off = b->len;   /* closed */
                        break;
                    }
                    FZ_CHECK(is_member(who), "hello from sid %d accepted", who);
                    hello[sid] = true;
                    continue;
                }
                deliver_frame(&h, sid, frame, flen);
            }
            g_byte_array_remove_range(b, 0, (guint)off);
            break;
        }
        case 3:
            h.now += len >= 2 ? (int64_t)(p[0] << 8 | p[1]) : 100;
            zab_tick(h.z, h.now);
            after_step(&h);
            break;
        case 4:
            h.durable = log_last(&h);
            zab_log_durable(h.z, h.durable, h.now);
            after_step(&h);
            break;
        case 5:
            zab_peer_lost(h.z, sid, h.now);
            after_step(&h);
            break;
        case 6: {
            int64_t zxid = zab_next_zxid(h.z);
            if (zxid > 0) {
                FZ_CHECK(zab_propose(h.z, zxid, p, len, h.now) == 0, "the leader refused its next zxid");
                after_step(&h);
            }
            break;
        }
        case 7: {
            /* a restart: what is durable stays, the rest of the log is lost */
            guint keep = 0;
            while (keep < h.log->len && g_array_index(h.log, entry, keep).zxid <= h.durable)
                keep++;
            log_clear_from(&h, keep);
            if (h.delivered > h.durable)
                h.delivered = h.durable;   /* state = snapshot + the durable log */
            zab_free(h.z);
            host_start(&h, h.accepted, h.current, h.delivered);
            after_step(&h);
            break;
        }
        }
    }
    zab_free(h.z);
    log_clear_from(&h, 0);
    g_array_free(h.log, TRUE);
    for (int i = 0; i < 6; i++)
        g_byte_array_free(links[i], TRUE);
    tree_free(h.tree);
    session_table_destroy(&h.sessions);
    return 0;
}
