/*
 * quorum.c — the ensemble host (see quorum.h).
 *
 * Frames on the peer links start with a kind:
 *   QMSG_ZAB      a zab_msg (zab_wire.h)                    both channels
 *   QMSG_FORWARD  learner -> leader: a client request       quorum channel
 *   QMSG_SYNCED   leader -> learner: a forwarded sync is    quorum channel
 *                 answered with the zxid to apply first
 *   QMSG_TOUCH    learner -> leader: sessions kept alive    quorum channel
 * The quorum channel is FIFO, so a SYNCED follows the PROPOSALs of every
 * transaction made before the sync reached the leader and precedes the
 * PROPOSALs (and COMMITs) of every later one.
 * Every frame is decoded by qmsg_decode (qmsg.h) before anything here
 * looks at it; one that does not decode is dropped (drop_malformed).
 */
#include "quorum.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "metrics.h"
#include "peer.h"
#include "qmsg.h"
#include "conn.h"
#include "persist.h"
#include "readonly.h"
#include "request.h"
#include "server.h"
#include "reconfig.h"
#include "snapfile.h"

struct quorum {
    zk_server *s;
    zab *z;
    peer_net *net;
    zab_role role;
    int leader;
    uint32_t epoch;
    bool serving;
    int64_t last_proposed;
    int64_t last_touch_ms;
    GQueue held;               /* of held_op*, owned: log work behind a cut that waits for the log */
    int in_core;               /* > 0 while a call into the Zab core runs (its callbacks included) */
    bool flushing;             /* flush_deferred is running */
    GQueue work;               /* of host_work*, owned: what callbacks asked for, run after the core returned */
    int64_t leading_since_ms;  /* when this leader started serving */
    const char *synced_by;     /* learner: how the last sync went (static string) */
    uint64_t rollovers;        /* zab_counter_rollovers() already logged */
    uint64_t epoch_stepdowns;  /* zab_epoch_stepdowns() already logged */
    int64_t proposal_count;
    int64_t last_proposal_size, min_proposal_size, max_proposal_size;
    bool deferred_serving;     /* re-check serving after the core returns */
    char *rejoin_why;          /* owned: the state broke inside a callback; rebuild from disk */
    int64_t last_peer_tick_ms;
    int64_t looking_since_ms;  /* when the role last became LOOKING (read-only mode's grace) */
    zab_peer *peers;
    int npeers;
    bool deferred_reconfig;    /* s->cfg->peers changed: re-plan after the core returns */
    GPtrArray *reads;          /* of log_read*, owned: leader's DIFFs from the log in progress */
    int64_t installed_zxid;    /* the snapInstalledZxid file: the log is never read below it */
    GHashTable *links;         /* sid -> link_stats* (owned): per quorum link, since it came up */
};

/* What Apache's LearnerHandler counts for one learner connection
 * (getLearnerHandlerInfo), kept per quorum link from the moment it is up. */
typedef struct link_stats {
    int64_t established_ms;    /* wall clock, ms since the epoch */
    uint64_t packets_sent, packets_received, requests;
    int64_t last_zxid;         /* of the last packet sent with a zxid > 0; -1 if none */
} link_stats;

static link_stats *link_stats_of(quorum *q, int sid)
{
    return q->links ? g_hash_table_lookup(q->links, GINT_TO_POINTER(sid)) : NULL;
}

/* Every call into the core goes through CORE: while it runs, the host's
 * own reactions to the core's callbacks (a write that a delivered commit
 * lets through, a link dropped on a role change) are queued as host_work
 * and run by flush_deferred once the core returned, so the core is never
 * re-entered (zab.h; the core asserts it, zab_reentries). */
#define CORE(q, call) do { (q)->in_core++; call; (q)->in_core--; } while (0)

typedef enum { WORK_PEER_LOST, WORK_PEER_UP, WORK_RESUME_CONN } host_work_kind;

typedef struct host_work {
    host_work_kind kind;
    int sid;            /* WORK_PEER_LOST / WORK_PEER_UP: the quorum link that broke / came up */
    zk_conn *conn;      /* WORK_RESUME_CONN: a reference (conn_ref) */
} host_work;

static void queue_work(quorum *q, host_work_kind kind, int sid, zk_conn *c)
{
    host_work *w = g_new0(host_work, 1);
    w->kind = kind;
    w->sid = sid;
    if (c) {
        conn_ref(c);
        w->conn = c;
    }
    g_queue_push_tail(&q->work, w);
}

static void host_work_free(host_work *w)
{
    if (w->conn)
        conn_unref(w->conn);
    g_free(w);
}

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

/* write(2) until all of buf is written (a short write is not an error). */
static int write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Writes a small file durably: temp file, fsync, rename, fsync the dir.
 * Returns 0, or -1 after logging at ERROR what failed (the caller's Zab
 * core then fail-stops: an epoch it cannot persist would break Zab's
 * guarantees). */
static int write_durably(zk_server *s, const char *name, const char *content)
{
    char *p = epoch_path(s, name);
    char *tmp = g_strconcat(p, ".tmp", NULL);
    int rc = -1;
    const char *step = "open";
    const char *what = tmp;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        step = "write";
        if (write_all(fd, content, strlen(content)) == 0) {
            step = "fsync";
            if (fsync(fd) == 0)
                rc = 0;
        }
    }
    int saved = errno;
    if (fd >= 0 && close(fd) < 0 && rc == 0) {
        saved = errno;
        step = "close";
        rc = -1;
    }
    if (rc == 0 && rename(tmp, p) < 0) {
        saved = errno;
        step = "rename to";
        what = p;
        rc = -1;
    }
    if (rc == 0) {
        int dfd = open(s->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0 || fsync(dfd) < 0) {
            saved = errno;
            step = "fsync the directory";
            what = s->data_dir;
            rc = -1;
        }
        if (dfd >= 0)
            close(dfd);
    }
    if (rc < 0)
        LOG_ERROR("cannot %s %s: %s", step, what, g_strerror(saved));
    g_free(tmp);
    g_free(p);
    return rc;
}

/* ------------------------------------------------------------------ */
/* zab_io                                                              */

static void io_send(void *ctx, int to_sid, const zab_msg *m)
{
    quorum *q = ctx;
    jute_writer w;
    jw_init(&w, 64 + m->len);
    qmsg_write_zab(&w, m);
    bool election = zab_msg_is_election(m->type);
    if (peer_send(q->net, to_sid, election ? PEER_ELECTION : PEER_QUORUM, w.buf, w.len) == 0 && !election) {
        link_stats *ls = link_stats_of(q, to_sid);
        if (ls) {
            ls->packets_sent++;
            if (m->zxid > 0)
                ls->last_zxid = m->zxid;
        }
    }
    jw_free(&w);
}

static int io_persist_epochs(void *ctx, uint32_t accepted, uint32_t current)
{
    quorum *q = ctx;
    char buf[32];
    snprintf(buf, sizeof buf, "%u", accepted);
    if (write_durably(q->s, "acceptedEpoch", buf) < 0)
        return -1;
    snprintf(buf, sizeof buf, "%u", current);
    return write_durably(q->s, "currentEpoch", buf);
}

/* A log operation held back behind a cut that waits for the log to go
 * idle (txnlog_truncate_after needs it: no blocking wait on the loop). */
typedef struct held_op {
    bool cut;           /* true: drop every entry > zxid; false: append */
    bool snap;          /* cut: the log reset after an installed snapshot at zxid */
    int64_t zxid;
    uint8_t *txn;       /* append: owned copy */
    size_t len;
} held_op;

static void held_op_free(gpointer p)
{
    held_op *op = p;
    g_free(op->txn);
    g_free(op);
}

static void drop_held(quorum *q)
{
    held_op *op;
    while ((op = g_queue_pop_head(&q->held)))
        held_op_free(op);
}

static bool log_busy(const quorum *q)
{
    return txnlog_flush_in_flight(q->s->log);
}

static int io_log_append(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    quorum *q = ctx;
    if (q->s->log_fatal)
        return -1;          /* the log failed for good: nothing is queued any more */
    q->s->txns_logged++;
    if (!g_queue_is_empty(&q->held)) {
        /* behind a cut not carried out yet: it goes to the log after it */
        held_op *op = g_new0(held_op, 1);
        op->zxid = zxid;
        op->txn = g_memdup2(txn, len);
        op->len = len;
        g_queue_push_tail(&q->held, op);
        return 0;
    }
    txnlog_append(q->s->log, zxid, txn, len);
    return 0;
}

/* Drops every logged entry > after now (the log is idle); the log restarts
 * in a new file after a snapshot's cut.  0, or -1 after logging why. */
static int do_cut(quorum *q, int64_t after, bool snap)
{
    zk_server *s = q->s;
    char *err = NULL;
    if (s->log_fatal || txnlog_truncate_after(s->log, after, &err) < 0) {
        LOG_ERROR("cannot truncate the log after 0x%" G_GINT64_MODIFIER "x: %s", after,
                  err ? err : "the log failed");
        g_free(err);
        return -1;
    }
    if (snap)
        txnlog_roll(s->log);
    else
        LOG_INFO("truncated the log after 0x%" G_GINT64_MODIFIER "x", after);
    return 0;
}

/* A cut now if the log is idle (0 or -1), else held until the log thread
 * reports its batch (ZAB_IO_PENDING: run_held carries it out and reports
 * its durability to the core). */
static int request_cut(quorum *q, int64_t after, bool snap)
{
    if (!log_busy(q) && g_queue_is_empty(&q->held))
        return do_cut(q, after, snap);
    held_op *op = g_new0(held_op, 1);
    op->cut = true;
    op->snap = snap;
    op->zxid = after;
    g_queue_push_tail(&q->held, op);
    return ZAB_IO_PENDING;
}

/* The log is idle: carries out the held cuts and appends in order and
 * tells the core what is durable after them (or that the log failed).
 * Not from inside a core callback. */
static void run_held(quorum *q)
{
    zk_server *s = q->s;
    if (g_queue_is_empty(&q->held) || log_busy(q))
        return;
    int64_t report = -1;
    bool failed = false;
    held_op *op;
    while ((op = g_queue_pop_head(&q->held))) {
        if (failed) {
            held_op_free(op);
            continue;
        }
        if (!op->cut) {
            txnlog_append(s->log, op->zxid, op->txn, op->len);
        } else if (do_cut(q, op->zxid, op->snap) < 0) {
            failed = true;
        } else if (op->snap || txnlog_last_zxid(s->log) == txnlog_durable_zxid(s->log)) {
            /* Every entry <= the cut is durable: in the log (nothing of
             * it is still queued) or in the installed snapshot. */
            report = op->zxid;
        } else {
            report = txnlog_durable_zxid(s->log);   /* the rest is reported when flushed */
        }
        held_op_free(op);
    }
    if (failed)
        CORE(q, zab_log_failed(q->z, server_now_ms(s)));
    else if (report >= 0)
        CORE(q, zab_log_durable(q->z, report, server_now_ms(s)));
}

static int io_log_truncate(void *ctx, int64_t after_zxid)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    if (s->log_fatal)
        return -1;
    if (s->tree->last_processed_zxid > after_zxid) {
        /* The core never truncates what it delivered (docs/zab.md): the
         * tree and the core disagree, this replica cannot go on. */
        LOG_ERROR("asked to truncate the log after 0x%" G_GINT64_MODIFIER "x below the applied "
                  "0x%" G_GINT64_MODIFIER "x", after_zxid, s->tree->last_processed_zxid);
        return -1;
    }
    snapfile_drop_after(s->data_dir, after_zxid);   /* they hold truncated txns */
    int rc = request_cut(q, after_zxid, false);
    if (rc < 0)
        return -1;
    q->synced_by = "TRUNC";
    s->last_zxid = after_zxid;
    return rc;
}

static int io_deliver(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    quorum *q = ctx;
    if (q->role == ZAB_LEADING)
        metrics_count(MC_COMMIT, 1);   /* Leader.commit: commit_count */
    return request_on_commit(q->s, zxid, txn, len);
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

/* snapInstalledZxid: the last leader's snapshot this data directory
 * installed.  The log below it may hold stale entries or miss the ones the
 * snapshot covers (its reset may be held and a crash may come first), so a
 * leader never DIFFs a learner from there (io_log_read).  A directory
 * without the file (written before it existed, or imported) counts from
 * its newest snapshot at start-up, which is written down then. */
#define INSTALLED_ZXID_FILE "snapInstalledZxid"

static int write_installed_zxid(quorum *q, int64_t zxid)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%" G_GINT64_MODIFIER "x", zxid);
    if (write_durably(q->s, INSTALLED_ZXID_FILE, buf) < 0)
        return -1;
    q->installed_zxid = zxid;
    return 0;
}

static void load_installed_zxid(quorum *q)
{
    zk_server *s = q->s;
    char *p = epoch_path(s, INSTALLED_ZXID_FILE);
    gchar *text = NULL;
    char *end = NULL;
    int64_t v = -1;
    if (g_file_get_contents(p, &text, NULL, NULL)) {
        guint64 u = g_ascii_strtoull(text, &end, 16);
        if (end != text && (*end == '\0' || *end == '\n') && u <= (guint64)INT64_MAX)
            v = (int64_t)u;
    }
    g_free(text);
    g_free(p);
    if (v >= 0) {
        q->installed_zxid = v;
        return;
    }
    /* missing or unreadable: nothing below the newest snapshot is trusted */
    q->installed_zxid = s->snap_zxid;
    if (write_installed_zxid(q, s->snap_zxid) < 0)
        LOG_WARN("cannot write %s: DIFFs from the log stay above 0x%" G_GINT64_MODIFIER "x",
                 INSTALLED_ZXID_FILE, s->snap_zxid);
}

static int io_snapshot_install(void *ctx, int64_t zxid, const uint8_t *blob, size_t len)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    char *err = NULL;
    /* before anything of the snapshot is on disk (see INSTALLED_ZXID_FILE);
     * a failure fail-stops the core as a failed epoch write does */
    if (zxid > q->installed_zxid && write_installed_zxid(q, zxid) < 0)
        return -1;
    if (persist_install(s, zxid, blob, len, &err) < 0) {
        /* A snapshot that does not load (or cannot be written): the core
         * fail-stops; as Apache's learner, this host then leaves the
         * leader and rebuilds the state from disk with a fresh core
         * (rejoin(), once the core returned). */
        if (!q->rejoin_why)
            q->rejoin_why = g_strdup_printf("cannot install the leader's snapshot 0x%" G_GINT64_MODIFIER
                                            "x: %s", zxid, err ? err : "?");
        g_free(err);
        return -1;
    }
    int rc = request_cut(q, zxid, true);   /* the log restarts after the snapshot */
    if (rc < 0)
        return -1;
    s->snap_zxid = zxid;
    s->last_zxid = zxid;
    q->synced_by = "SNAP";
    LOG_INFO("installed the leader's snapshot at 0x%" G_GINT64_MODIFIER "x (%u znodes)", zxid,
             tree_node_count(s->tree));
    return rc;
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
        metrics_unavailable_started();
        return;
    }
    reconfig_established(s, q->epoch);
    /* Serving again is, in Apache, a fresh ZooKeeperServer: zeroed stats. */
    server_reset_stats(s);
    s->start_ms = server_now_ms(s);
    metrics_unavailable_ended(q->role == ZAB_LEADING);
    if (q->role != ZAB_LEADING) {
        metrics_sync_finished(q->role == ZAB_OBSERVING);
        LOG_INFO("synced with leader %d by %s, serving at zxid 0x%" G_GINT64_MODIFIER "x", q->leader,
                 q->synced_by ? q->synced_by : "DIFF", s->tree->last_processed_zxid);
        return;
    }
    LOG_INFO("leading epoch %u with a synced quorum, serving at zxid 0x%" G_GINT64_MODIFIER "x",
             q->epoch, s->tree->last_processed_zxid);
    q->leading_since_ms = server_now_ms(q->s);
    q->proposal_count = 0;
    /* The new leader owns session expiry: every session gets its full
     * timeout from now, as in Apache's SessionTrackerImpl start-up. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->sessions.by_id);
    int64_t now = server_now_ms(q->s);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_session *ss = v;
        ss->expire_at = 0;
        session_touch(&s->sessions, ss, now);
    }
}

static void io_sync_chosen(void *ctx, int sid, int type, int64_t learner_zxid, int64_t from_zxid)
{
    (void)ctx;
    /* LearnerHandler.syncFollower: snap_count, else diff_count (DIFF or TRUNC) */
    metrics_count(type == ZAB_MSG_SNAP ? MC_SNAP : MC_DIFF, 1);
    LOG_INFO("syncing server %d (last zxid 0x%" G_GINT64_MODIFIER "x) by %s from 0x%" G_GINT64_MODIFIER "x",
             sid, learner_zxid, zab_msg_type_name(type), from_zxid);
}

/* ------------------------------------------------------------------ */
/* DIFF from the on-disk log (zab_io.log_read; docs/zab.md)            */

/* One learner's read of the log: quorum_tick hands it to the core in
 * blocks (pump_reads), never more than LOG_READ_TICK_BYTES per tick. */
typedef struct log_read {
    int sid;
    uint64_t session;
    int64_t upto;
    txnlog_cursor *cur;    /* owned */
    bool dead;             /* over or replaced: freed by the next sweep */
} log_read;

#define LOG_READ_TICK_BYTES ((size_t)8 << 20)

static void log_read_free(gpointer p)
{
    log_read *r = p;
    txnlog_cursor_free(r->cur);
    g_free(r);
}

typedef struct newest_snap {
    char *path;            /* owned: the newest finished snapshot file */
} newest_snap;

static void find_newest_snap(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    (void)zxid;
    newest_snap *n = ctx;
    if (!is_tmp && !n->path)
        n->path = g_strdup(path);   /* the listing is newest first */
}

/* ZKDatabase.calculateTxnLogSizeLimit: snapshotSizeFactor times the size of
 * the newest snapshot file (0 when there is none: no limit). */
static int64_t log_size_limit(zk_server *s)
{
    newest_snap n = { NULL };
    snapfile_list(s->data_dir, find_newest_snap, &n);
    int64_t size = 0;
    GStatBuf st;
    if (n.path && g_stat(n.path, &st) == 0)
        size = (int64_t)st.st_size;
    g_free(n.path);
    return (int64_t)((double)size * s->cfg->snapshot_size_factor);
}

static int io_log_read(void *ctx, int sid, uint64_t session, int64_t after_zxid, int64_t upto_zxid)
{
    quorum *q = ctx;
    zk_server *s = q->s;
    if (s->cfg->snapshot_size_factor < 0 || s->log_fatal)
        return -1;          /* on-disk DIFF disabled (Apache: isTxnLogSyncEnabled) */
    if (after_zxid < q->installed_zxid) {
        LOG_INFO("cannot DIFF server %d from the log: 0x%" G_GINT64_MODIFIER "x is below the "
                 "snapshot installed at 0x%" G_GINT64_MODIFIER "x", sid, after_zxid, q->installed_zxid);
        return -1;
    }
    uint64_t bytes = 0;
    char *err = NULL;
    txnlog_cursor *cur = txnlog_cursor_open(s->log, after_zxid, &bytes, &err);
    if (!cur) {
        LOG_INFO("cannot DIFF server %d from the log: %s", sid, err ? err : "?");
        g_free(err);
        return -1;
    }
    int64_t limit = log_size_limit(s);
    if (limit > 0 && (int64_t)bytes > limit) {
        LOG_INFO("cannot DIFF server %d from the log: the log since 0x%" G_GINT64_MODIFIER "x is %"
                 G_GUINT64_FORMAT " bytes, over the limit %" G_GINT64_MODIFIER "d "
                 "(snapshotSizeFactor %g of the newest snapshot)", sid, after_zxid, bytes, limit,
                 s->cfg->snapshot_size_factor);
        txnlog_cursor_free(cur);
        return -1;
    }
    for (guint i = 0; i < q->reads->len; i++) {
        log_read *old = g_ptr_array_index(q->reads, i);
        if (old->sid == sid)
            old->dead = true;   /* replaced; its records may still be in use: swept later */
    }
    log_read *r = g_new0(log_read, 1);
    r->sid = sid;
    r->session = session;
    r->upto = upto_zxid;
    r->cur = cur;
    g_ptr_array_add(q->reads, r);
    LOG_INFO("reading the log after 0x%" G_GINT64_MODIFIER "x up to 0x%" G_GINT64_MODIFIER "x "
             "(%" G_GUINT64_FORMAT " bytes from its file on) to DIFF server %d", after_zxid, upto_zxid,
             bytes, sid);
    return 0;
}

static int collect_record(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    GArray *recs = ctx;
    zab_record r = { zxid, data, len };
    g_array_append_val(recs, r);
    return 0;
}

/* Hands the next blocks of every log read to the core, within the tick's
 * byte budget; drops the reads that are over. */
static void pump_reads(quorum *q)
{
    if (q->reads->len == 0)
        return;
    size_t budget = LOG_READ_TICK_BYTES;
    GArray *recs = g_array_new(FALSE, FALSE, sizeof(zab_record));
    for (guint i = 0; i < q->reads->len && budget > 0; i++) {
        log_read *r = g_ptr_array_index(q->reads, i);
        while (!r->dead && budget > 0) {
            g_array_set_size(recs, 0);
            size_t nread = 0;
            char *err = NULL;
            int rc = txnlog_cursor_next(r->cur, q->s->log, r->upto, collect_record, recs, &nread, &err);
            if (rc < 0) {
                LOG_WARN("cannot DIFF server %d from the log: %s", r->sid, err ? err : "?");
                g_free(err);
            }
            zab_read_status st = rc < 0 ? ZAB_READ_FAILED : rc == 0 ? ZAB_READ_DONE : ZAB_READ_MORE;
            bool more;
            CORE(q, more = zab_log_read_chunk(q->z, r->sid, r->session,
                                              (const zab_record *)(void *)recs->data, recs->len, st,
                                              server_now_ms(q->s)));
            if (!more || st != ZAB_READ_MORE)
                r->dead = true;
            budget = nread < budget ? budget - nread : 0;
        }
    }
    g_array_free(recs, TRUE);
    for (guint i = q->reads->len; i-- > 0;)
        if (((log_read *)g_ptr_array_index(q->reads, i))->dead)
            g_ptr_array_remove_index(q->reads, i);
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
    if (role == ZAB_LOOKING && q->z && zab_counter_rollovers(q->z) != q->rollovers) {
        q->rollovers = zab_counter_rollovers(q->z);
        LOG_INFO("zxid counter used up in epoch %u: stepping down for a new epoch "
                 "(ZOOKEEPER-1277)", q->epoch);
    }
    if (role == ZAB_LOOKING && q->z && zab_epoch_stepdowns(q->z) != q->epoch_stepdowns) {
        q->epoch_stepdowns = zab_epoch_stepdowns(q->z);
        LOG_WARN("a learner has accepted an epoch newer than the one this leader proposed or "
                 "leads: stepping down so that a new election proposes a higher epoch");
    }
    if (role != q->role && (role == ZAB_FOLLOWING || role == ZAB_OBSERVING))
        q->synced_by = "DIFF";   /* unless a TRUNC or SNAP comes */
    /* ServerMetrics: looking_count per election entered; election_time
     * until leading or following (Leader.lead / Follower.followLeader);
     * a learner's sync time from then until it serves. */
    if (role != q->role) {
        if (role == ZAB_LOOKING)
            metrics_election_started();
        else if (q->role == ZAB_LOOKING && role != ZAB_OBSERVING)
            metrics_election_finished();
        if (role == ZAB_FOLLOWING || role == ZAB_OBSERVING)
            metrics_sync_started();
    }
    if (role == ZAB_LOOKING && q->role != ZAB_LOOKING)
        q->looking_since_ms = server_now_ms(s);
    q->role = role;
    q->leader = leader_sid;
    q->epoch = epoch;
    s->role = role == ZAB_LEADING ? SERVER_LEADING : role == ZAB_FOLLOWING ? SERVER_FOLLOWING
            : role == ZAB_OBSERVING ? SERVER_OBSERVING : SERVER_LOOKING;
    peer_set_leader(q->net, (role == ZAB_FOLLOWING || role == ZAB_OBSERVING) ? leader_sid : 0);
    q->deferred_serving = true;   /* re-evaluated after the core returns */
}

static zab *core_new(quorum *q, char **err);

/* The state the core believes in broke inside a callback (a leader's
 * snapshot that does not load): the tree and sessions are reloaded from
 * disk and a fresh core starts a new election from what the disk holds, as
 * a restarted server would. */
static void rejoin(quorum *q)
{
    zk_server *s = q->s;
    LOG_ERROR("%s; leaving leader %d and rejoining from the state on disk", q->rejoin_why, q->leader);
    g_free(q->rejoin_why);
    q->rejoin_why = NULL;
    drop_held(q);   /* the failed core's cut and appends: the disk state is rebuilt as it is */
    char *err = NULL;
    zab *fresh = NULL;
    if (persist_reload(s, &err) < 0 || !(fresh = core_new(q, &err))) {
        char *why = g_strdup_printf("cannot rebuild the state from disk: %s", err ? err : "?");
        server_fail_stop(s, why);
        g_free(why);
        g_free(err);
        return;
    }
    zab_free(q->z);
    q->z = fresh;
    q->rollovers = 0;
    q->epoch_stepdowns = 0;
    s->last_zxid = zab_last_logged(q->z);
    CORE(q, zab_start(q->z, server_now_ms(q->s)));
}

static void apply_reconfig(quorum *q);

/* The core fail-stopped (an I/O request or an apply failed): going on
 * could acknowledge what is not durable or serve a diverged state, so the
 * server stops (exit status 3) and recovers from its disk at the next start. */
static void fail_stop(quorum *q)
{
    zk_server *s = q->s;
    char *why = g_strdup_printf("Zab: %s", zab_failure(q->z));
    server_fail_stop(s, why);
    g_free(why);
}

/* After the core returned: a failure or rejoin, then serving, then the
 * queued host work, until nothing is left. */
static void settle(quorum *q)
{
    if (q->rejoin_why) {
        if (log_busy(q)) {
            /* The reload replays the log: once the log thread reports
             * its batch (quorum_on_log_durable).  Meanwhile the failed
             * core ignores everything and nobody is served. */
            set_serving(q, false);
            return;
        }
        rejoin(q);
    } else if (zab_failed(q->z)) {
        fail_stop(q);
    }
    if (zab_failed(q->z))
        return;
    if (q->deferred_reconfig) {
        q->deferred_reconfig = false;
        apply_reconfig(q);
    }
    if (q->deferred_serving) {
        q->deferred_serving = false;
        /* Read-only mode ends when the member stops looking (Apache's
         * roZk.shutdown after lookForLeader returns): its clients are
         * closed, so they find a read-write server. */
        if (q->role != ZAB_LOOKING)
            readonly_leave(q->s, "this server stopped looking for a leader");
        set_serving(q, zab_serving(q->z));
    }
}

/* Read-only mode (readonly.h) starts after max(2000 ms, tickTime) of
 * LOOKING, when readonlymode.enabled; while it runs, its local sessions
 * expire here. */
static void readonly_check(quorum *q)
{
    zk_server *s = q->s;
    if (q->role == ZAB_LOOKING && s->cfg->readonly_mode_enabled && !readonly_active(s) &&
        !s->stopping && server_now_ms(s) - q->looking_since_ms >= readonly_grace_ms(s))
        readonly_enter(s);
    readonly_tick(s);
}

/* Work that must not run inside a core callback: called by every host
 * path after its call into the core; does nothing while a core call is
 * still running (the outermost caller flushes) or a flush is (work a
 * flush produces is taken by its own loop). */
static void flush_deferred(quorum *q)
{
    if (q->in_core > 0 || q->flushing)
        return;
    q->flushing = true;
    for (;;) {
        settle(q);
        host_work *w = g_queue_pop_head(&q->work);
        if (!w)
            break;
        if (w->kind == WORK_PEER_LOST)
            CORE(q, zab_peer_lost(q->z, w->sid, server_now_ms(q->s)));
        else if (w->kind == WORK_PEER_UP)
            CORE(q, zab_peer_up(q->z, w->sid, server_now_ms(q->s)));
        else if (!w->conn->closed)
            request_resume_conn(w->conn);   /* may propose: the core is not running now */
        host_work_free(w);
    }
    q->flushing = false;
}

void quorum_resume_conn(quorum *q, zk_conn *c)
{
    if (q->in_core > 0) {
        queue_work(q, WORK_RESUME_CONN, 0, c);
        return;
    }
    request_resume_conn(c);
}

/* ------------------------------------------------------------------ */
/* server-level messages                                               */

static void send_kind(quorum *q, int sid, jute_writer *w)
{
    link_stats *ls = link_stats_of(q, sid);
    if (peer_send(q->net, sid, PEER_QUORUM, w->buf, w->len) == 0 && ls)
        ls->packets_sent++;
}

void quorum_forward(quorum *q, const zk_request *req)
{
    jute_writer w;
    jw_init(&w, 64 + req->body_len);
    qmsg_write_forward(&w, req->session_id, req->xid, req->type, req->session_timeout, req->auth,
                       req->body, req->body_len);
    send_kind(q, q->leader, &w);
    jw_free(&w);
}

static void send_synced(quorum *q, int sid, int64_t session, int32_t xid, int64_t zxid)
{
    jute_writer w;
    jw_init(&w, 32);
    qmsg_write_synced(&w, session, xid, zxid);
    send_kind(q, sid, &w);
    jw_free(&w);
}

/* Leader: a learner forwarded a client request (decoded by qmsg_decode). */
static void on_forward(quorum *q, int sid, const qmsg *m)
{
    zk_server *s = q->s;
    if (q->role != ZAB_LEADING)
        return;
    int64_t session = m->forward.session_id;
    int32_t xid = m->forward.xid, type = m->forward.type;
    GPtrArray *auth = g_ptr_array_new_with_free_func(auth_id_free);
    jute_reader it;
    zk_vec_iter(&m->forward.auth, &it);
    for (int32_t i = 0; i < m->forward.auth.count; i++) {
        jute_view sv, iv;
        if (!qmsg_next_auth(&it, &sv, &iv))
            break;
        char *scheme = jute_view_dup(sv);
        char *id = jute_view_dup(iv);
        if (scheme && id)
            g_ptr_array_add(auth, auth_id_new(scheme, id));
        g_free(scheme);
        g_free(id);
    }
    if (type == ZK_OP_SYNC) {
        /* Answered at once with the zxid the learner must apply first: the
         * last one proposed (or applied).  Its PROPOSAL already went down
         * the same FIFO link, and every later proposal goes after this
         * SYNCED, so the learner learns the sync point before it applies
         * anything proposed after the sync reached the leader.  (Answering
         * only once that zxid was applied here put the SYNCED behind a
         * COMMIT covering later proposals: the learner then applied a
         * later write while the sync still headed its queue of forwarded
         * requests, lost that write's reply and answered none after it.) */
        g_ptr_array_free(auth, TRUE);
        int64_t upto = q->last_proposed > s->tree->last_processed_zxid ? q->last_proposed
                                                                        : s->tree->last_processed_zxid;
        send_synced(q, sid, session, xid, upto);
        return;
    }
    request_submit_forwarded(s, sid, session, xid, type, (const uint8_t *)m->forward.body.ptr,
                             (size_t)m->forward.body.len, m->forward.timeout, auth);
}

static void on_touch(quorum *q, const qmsg *m)
{
    zk_server *s = q->s;
    int64_t now = server_now_ms(q->s);
    jute_reader r;
    zk_vec_iter(&m->touch, &r);
    for (int32_t i = 0; i < m->touch.count; i++) {
        int64_t id = jr_long(&r);
        zk_session *ss = session_get(&s->sessions, id);
        if (ss && !ss->closing)
            session_touch(&s->sessions, ss, now);
    }
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
        qmsg_write_touch(&w, &g_array_index(ids, int64_t, from), n);
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
    qmsg m;
    if (!qmsg_decode(msg, len, &m)) {
        drop_malformed(q, sid, channel, m.kind == QMSG_ZAB ? "Zab message" : "frame");
        return;
    }
    if (channel == PEER_ELECTION && m.kind != QMSG_ZAB) {
        drop_malformed(q, sid, channel, "frame");
        return;
    }
    if (channel == PEER_QUORUM) {
        link_stats *ls = link_stats_of(q, sid);
        if (ls) {
            ls->packets_received++;
            if (m.kind == QMSG_FORWARD)
                ls->requests++;
        }
    }
    switch (m.kind) {
    case QMSG_ZAB:
        /* Follower/Observer.processPacket: learner_*_received_count */
        if (sid == q->leader && q->role == ZAB_FOLLOWING && m.zab.type == ZAB_MSG_PROPOSAL)
            metrics_count(MC_LEARNER_PROPOSAL_RECEIVED, 1);
        else if (sid == q->leader && (q->role == ZAB_FOLLOWING || q->role == ZAB_OBSERVING) &&
                 (m.zab.type == ZAB_MSG_COMMIT || m.zab.type == ZAB_MSG_INFORM))
            metrics_count(MC_LEARNER_COMMIT_RECEIVED, 1);
        CORE(q, zab_recv(q->z, sid, &m.zab, server_now_ms(q->s)));
        break;
    case QMSG_FORWARD:
        on_forward(q, sid, &m);
        break;
    case QMSG_SYNCED:
        request_on_synced(q->s, m.synced.session_id, m.synced.xid, m.synced.zxid);
        break;
    case QMSG_TOUCH:
        if (q->role == ZAB_LEADING)
            on_touch(q, &m);
        break;
    default:
        break;
    }
    flush_deferred(q);
}

static void on_peer_lost(void *ctx, int sid, int channel)
{
    quorum *q = ctx;
    if (channel != PEER_QUORUM)
        return;
    if (q->in_core > 0) {
        /* the link went inside a callback (peer_set_leader on a role
         * change): the core hears of it once it returned */
        queue_work(q, WORK_PEER_LOST, sid, NULL);
        return;
    }
    CORE(q, zab_peer_lost(q->z, sid, server_now_ms(q->s)));
    flush_deferred(q);
}

/* A learner's link to its leader is up: the core registers at once (the
 * FOLLOWERINFO it sent when it chose the leader found no link; waiting
 * for its retry cost a second of every failover, docs/perf-notes.md). */
static void on_peer_up(void *ctx, int sid, int channel)
{
    quorum *q = ctx;
    if (channel != PEER_QUORUM)
        return;
    link_stats *ls = g_new0(link_stats, 1);
    ls->established_ms = g_get_real_time() / 1000;
    ls->last_zxid = -1;
    g_hash_table_replace(q->links, GINT_TO_POINTER(sid), ls);
    if (q->in_core > 0) {
        queue_work(q, WORK_PEER_UP, sid, NULL);
        return;
    }
    CORE(q, zab_peer_up(q->z, sid, server_now_ms(q->s)));
    flush_deferred(q);
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

/* A Zab core for the state on disk: the persisted epochs, the tree (what
 * was delivered) and the log (the history for DIFF syncs). */
static zab *core_new(quorum *q, char **err)
{
    zk_server *s = q->s;
    const zk_config *cfg = s->cfg;
    zab_config zc = { cfg->myid, q->peers, q->npeers, cfg->tick_time, cfg->init_limit,
                      cfg->sync_limit, 1000, 0 };
    if (cfg->test_zxid_headroom > 0)   /* tests only: reach the counter limit fast */
        zc.first_counter = ZAB_LAST_COUNTER - (uint32_t)cfg->test_zxid_headroom + 1;
    zab_io io = { q, io_send, io_persist_epochs, io_log_append, io_log_truncate, io_deliver,
                  io_snapshot_take, io_snapshot_install, io_role_changed, io_sync_chosen,
                  io_log_read };
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
    zab *z = zab_new(&zc, &io, accepted, current, logged, delivered);
    if (!z) {
        *err = g_strdup("cannot start Zab (myid not among the servers?)");
        return NULL;
    }
    /* The logged entries since the last snapshot serve DIFF syncs. */
    history_ctx hc = { z };
    if (txnlog_replay(s->log, s->snap_zxid, load_history, &hc, err) < 0) {
        zab_free(z);
        return NULL;
    }
    return z;
}

quorum *quorum_new(zk_server *s, char **err)
{
    const zk_config *cfg = s->cfg;
    quorum *q = g_new0(quorum, 1);
    q->s = s;
    q->role = ZAB_LOOKING;
    q->looking_since_ms = server_now_ms(s);
    q->leader = -1;
    quorum_reset_stats(q);
    q->reads = g_ptr_array_new_with_free_func(log_read_free);
    q->npeers = (int)cfg->peers->len;
    q->peers = g_new0(zab_peer, q->npeers);
    q->links = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    for (int i = 0; i < q->npeers; i++) {
        const zk_peer_config *pc = g_ptr_array_index(cfg->peers, i);
        q->peers[i].sid = pc->sid;
        q->peers[i].observer = pc->observer;
    }
    load_installed_zxid(q);
    q->z = core_new(q, err);
    if (!q->z) {
        quorum_free(q);
        return NULL;
    }
    q->net = peer_net_new(s->loop, cfg, on_peer_recv, on_peer_lost, on_peer_up, q, err);
    if (!q->net) {
        quorum_free(q);
        return NULL;
    }
    s->role = SERVER_LOOKING;
    metrics_election_started();   /* QuorumPeer starts LOOKING */
    metrics_unavailable_started();
    CORE(q, zab_start(q->z, server_now_ms(q->s)));
    flush_deferred(q);
    return q;
}

void quorum_free(quorum *q)
{
    if (!q)
        return;
    peer_net_free(q->net);
    drop_held(q);
    if (q->reads)
        g_ptr_array_free(q->reads, TRUE);
    host_work *w;
    while ((w = g_queue_pop_head(&q->work)))
        host_work_free(w);
    zab_free(q->z);
    g_free(q->rejoin_why);
    g_free(q->peers);
    if (q->links)
        g_hash_table_destroy(q->links);
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
    int nnext = 0;
    zab_peer *next = reconfig_txn_members(txn, len, &nnext);
    int rc;
    if (next)
        CORE(q, rc = zab_propose_reconfig(q->z, zxid, txn, len, next, nnext, server_now_ms(q->s)));
    else
        CORE(q, rc = zab_propose(q->z, zxid, txn, len, server_now_ms(q->s)));
    g_free(next);
    if (rc == 0) {
        q->last_proposed = zxid;
        q->proposal_count++;
        metrics_count(MC_PROPOSAL, 1);
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

void quorum_on_log_failed(quorum *q)
{
    drop_held(q);
    CORE(q, zab_log_failed(q->z, server_now_ms(q->s)));
}

void quorum_on_log_durable(quorum *q, int64_t zxid)
{
    /* While a cut is held the batch that just finished was started before
     * it: its zxid may lie beyond the cut, and the core waits for the cut's
     * own report (run_held) before it acknowledges anything. */
    if (g_queue_is_empty(&q->held))
        CORE(q, zab_log_durable(q->z, zxid, server_now_ms(q->s)));
    else
        run_held(q);
    flush_deferred(q);
}

void quorum_tick(quorum *q)
{
    int64_t now = server_now_ms(q->s);
    CORE(q, zab_tick(q->z, now));
    pump_reads(q);
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
    readonly_check(q);
}

void quorum_before_sleep(quorum *q)
{
    peer_flush(q->net);   /* a lost link reaches the core through on_peer_lost */
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
            /* as Apache: by how the learner registered (FOLLOWERINFO or
             * OBSERVERINFO), not by its role in the current configuration;
             * a follower that is no voter of it (a reconfig made it an
             * observer, or removed it, and it has not re-joined yet) is a
             * non-voting follower.  No synced session yet: its role in the
             * configuration. */
            int as = zab_learner_synced_as(q->z, sid);
            if (as < 0)
                as = q->peers[i].observer ? 1 : 0;
            if (as == 1) {
                st->synced_observers++;
            } else {
                st->synced_followers++;
                if (q->peers[i].observer)
                    st->synced_non_voting_followers++;
            }
        }
        st->pending_syncs = 0;   /* learners' syncs are answered at once (on_forward) */
        st->leader_uptime_ms = q->serving && q->leading_since_ms ? server_now_ms(q->s) - q->leading_since_ms : 0;
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

/* The learners that registered as observers and are synced (Apache's
 * observingLearners), in sid order. */
static GArray *synced_observer_sids(const quorum *q)
{
    GArray *sids = g_array_new(FALSE, FALSE, sizeof(int));
    if (q->role != ZAB_LEADING)
        return sids;
    for (int i = 0; i < q->npeers; i++) {
        int sid = q->peers[i].sid;
        if (sid != q->s->cfg->myid && peer_connected(q->net, sid, PEER_QUORUM) &&
            zab_learner_synced_as(q->z, sid) == 1)
            g_array_append_val(sids, sid);
    }
    return sids;
}

GArray *quorum_observers(const quorum *q)
{
    GArray *sids = synced_observer_sids(q);
    GArray *out = g_array_sized_new(FALSE, TRUE, sizeof(quorum_learner_info), sids->len);
    for (guint i = 0; i < sids->len; i++) {
        int sid = g_array_index(sids, int, i);
        quorum_learner_info li = { .sid = sid, .last_zxid = -1 };
        char addr[sizeof li.remote_address - 1];
        if (!peer_link_info(q->net, sid, PEER_QUORUM, addr, sizeof addr, &li.queued_bytes, &li.queued_packets))
            continue;
        snprintf(li.remote_address, sizeof li.remote_address, "/%s", addr);
        const link_stats *ls = g_hash_table_lookup(q->links, GINT_TO_POINTER(sid));
        if (ls) {
            li.established_ms = ls->established_ms;
            li.packets_sent = ls->packets_sent;
            li.packets_received = ls->packets_received;
            li.requests = ls->requests;
            li.last_zxid = ls->last_zxid;
        }
        g_array_append_val(out, li);
    }
    g_array_free(sids, TRUE);
    return out;
}

void quorum_reset_observer_stats(quorum *q)
{
    GArray *sids = synced_observer_sids(q);
    for (guint i = 0; i < sids->len; i++) {
        link_stats *ls = link_stats_of(q, g_array_index(sids, int, i));
        if (ls) {
            ls->packets_sent = ls->packets_received = ls->requests = 0;
            ls->last_zxid = -1;
        }
    }
    g_array_free(sids, TRUE);
}

/* ------------------------------------------------------------------ */
/* dynamic reconfiguration (reconfig.c activates, this re-plans)       */

bool quorum_learner_synced(const quorum *q, int sid)
{
    return zab_learner_synced(q->z, sid) && peer_connected(q->net, sid, PEER_QUORUM);
}

void quorum_reconfigure(quorum *q)
{
    q->deferred_reconfig = true;
}

static int peer_role(const zab_peer *peers, int n, int sid)
{
    for (int i = 0; i < n; i++)
        if (peers[i].sid == sid)
            return peers[i].observer ? 1 : 0;
    return -1;
}

/* The new member list to the core (a removed server keeps itself as an
 * observer that nobody accepts, so it stops serving), then the links to
 * servers that left are closed.  A server whose role changed keeps its
 * links: it must still get the reconfig's COMMIT (or INFORM) to re-join in
 * its new role. */
static void apply_reconfig(quorum *q)
{
    const zk_config *cfg = q->s->cfg;
    int n = (int)cfg->peers->len;
    bool me_in = zk_config_find_peer(cfg, cfg->myid) != NULL;
    int nn = n + (me_in ? 0 : 1);
    zab_peer *np = g_new0(zab_peer, (gsize)nn);
    for (int i = 0; i < n; i++) {
        const zk_peer_config *pc = g_ptr_array_index(cfg->peers, i);
        np[i].sid = pc->sid;
        np[i].observer = pc->observer;
    }
    if (!me_in) {
        np[n].sid = cfg->myid;
        np[n].observer = true;
        LOG_INFO("this server (%d) is not in the new configuration: it stops serving", cfg->myid);
    }
    zab_peer *old = q->peers;
    int nold = q->npeers;
    q->peers = np;
    q->npeers = nn;
    CORE(q, zab_reconfigure(q->z, np, nn, server_now_ms(q->s)));
    for (int i = 0; i < nold; i++) {
        int sid = old[i].sid;
        if (sid == cfg->myid)
            continue;
        if (peer_role(np, nn, sid) < 0) {
            peer_drop(q->net, sid, PEER_QUORUM);
            peer_drop(q->net, sid, PEER_ELECTION);
        }
    }
    g_free(old);
}
