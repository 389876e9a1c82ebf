/*
 * test_zab_sim.c — a deterministic simulation of a Zab ensemble running the
 * real core (server/zab*.c) on a virtual clock with in-memory links and
 * disks, plus an invariant checker run after every simulated step.
 *
 * Model: per-link FIFO queues with random delay; a link break loses what is
 * in flight and tells both ends (zab_peer_lost); partitions cut sets of
 * links (two sides, or random pairs: a node may see both sides); one
 * direction of a link may stall (its messages wait, the other direction
 * flows); a process may pause (SIGSTOP: its messages, ticks and fsync
 * completions wait and then arrive at once); a crash loses the volatile state and the log entries that were not
 * reported durable (a random number of them survive, as a partly landed
 * write would); a restart rebuilds zab from the durable epochs, snapshot and
 * log.  Random client proposals go to whoever leads.
 *
 * Invariants (checked as events happen and after every step):
 *   - at most one server ever establishes a given epoch;
 *   - a serving learner follows the server that established its epoch;
 *   - delivered sequences are prefixes of one global sequence (zxid and
 *     payload), and zxids strictly increase per server;
 *   - no committed (delivered anywhere) entry is ever truncated, and a
 *     skipped proposal (truncated after the sequence passed it) never shows
 *     up in a delivered sequence;
 *   - epochs persist monotonically, acceptedEpoch >= currentEpoch;
 *   - no core reports a protocol error;
 *   - liveness at the end of each seed: heal everything, restart everyone;
 *     a leader emerges, every server delivers the whole global sequence and
 *     one more write (every member of the final configuration, once a
 *     reconfig changed it).
 *
 * Reconfig: a proposal whose payload starts with "RCFG" carries a member
 * list; each node's host activates it when it delivers it (after the core
 * returns, as server/quorum.c does), keeps it on its "disk" (the dynamic
 * config file) for its next boot, and breaks its links to servers that
 * left.  A snapshot install activates the configuration
 * of the prefix it holds.
 *
 *   build/test/test_zab_sim                   default seed count
 *   ZAB_SIM_SEEDS=5000 build/test/test_zab_sim
 *   ZAB_SIM_SEED=1234 build/test/test_zab_sim  replay one seed, verbose
 *   ZAB_SIM_FIRST=10000                        first seed of the range
 *   ZAB_SIM_RECONFIG_SEEDS=5000                seeds of the reconfig crash test (300)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <glib.h>

#include "zab.h"

#define MAX_NODES 8

/* ---- random numbers (splitmix64: the seed fully determines a run) ------- */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t rng_range(uint64_t *s, int64_t lo, int64_t hi)
{
    if (hi <= lo)
        return lo;
    return lo + (int64_t)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

static bool rng_chance(uint64_t *s, int percent)
{
    return (int)(rng_next(s) % 100) < percent;
}

/* ---- the simulated world ------------------------------------------------ */

typedef struct sim sim;

/* A log entry on a simulated disk; payload owned. */
typedef struct sim_entry {
    int64_t zxid;
    uint8_t *payload;
    size_t len;
} sim_entry;

typedef struct sim_node {
    sim *s;
    int idx, sid;
    bool observer, up;
    zab *z;                  /* owned while up */
    int incarnation;
    /* durable disk */
    uint32_t accepted, current;
    GArray *log;             /* of sim_entry, owned */
    guint durable_len;       /* log[0..durable_len) is fsynced */
    bool fsync_pending;
    guint fsync_target;
    int64_t snap_zxid;
    guint snap_count;        /* the snapshot holds the global sequence [0, snap_count) */
    /* volatile state machine: the global sequence [0, delivered_count) */
    guint delivered_count;
    int64_t delivered_zxid;
    int fsync_min, fsync_max;
    int sync_msgs[ZAB_MSG_TYPE_MAX + 1]; /* DIFF/TRUNC/SNAP received */
    /* reconfig: the node's configuration (durable, like the dynamic file) */
    zab_peer members[MAX_NODES];
    int nmembers;
    bool reconfig_due;       /* delivered a new one: activate after the core returns */
    int prev_role[MAX_NODES];/* per node in the core's view: -1 absent, 0 voter, 1 observer */
} sim_node;

enum { EV_MSG, EV_FSYNC, EV_TICK, EV_FAULT, EV_PROPOSE, EV_RESTART, EV_HEAL };

typedef struct sim_event {
    int64_t at;
    uint64_t seq;
    int kind;
    int node, from;
    int incarnation;
    uint64_t link_gen;
    uint64_t link_seq;       /* EV_MSG: position in its link's stream */
    zab_msg msg;             /* msg.data points at data */
    uint8_t *data;           /* owned copy */
} sim_event;

typedef struct sim_params {
    int nvoters, nobservers;
    int delay_min, delay_max;    /* message delay, ms */
    int spike_percent, spike_max;
    int fsync_min, fsync_max;
    int history_limit;
    uint32_t first_counter;      /* zab_config.first_counter (0 = normal) */
    bool faults;
    int propose_min, propose_max;
    int64_t duration_ms;
} sim_params;

struct sim {
    uint64_t seed, rng;
    sim_params p;
    int n;
    sim_node nodes[MAX_NODES];
    zab_peer peers[MAX_NODES];
    int64_t now;
    uint64_t seq;
    GPtrArray *heap;         /* of sim_event*, a binary min-heap */
    uint64_t link_gen[MAX_NODES][MAX_NODES];
    int64_t link_last[MAX_NODES][MAX_NODES];
    bool cut[MAX_NODES][MAX_NODES];
    /* One-way stall (a TCP direction whose packets are dropped): messages
     * from a to b wait (TCP retransmits) until the stall ends or the link
     * breaks; b to a flows. */
    bool stalled[MAX_NODES][MAX_NODES];
    /* A paused process (SIGSTOP): until then its events wait, in order. */
    int64_t paused_until[MAX_NODES];
    /* per link: messages sent / delivered in this link generation (a
     * message waits until every earlier one of its link is delivered) */
    uint64_t link_sent[MAX_NODES][MAX_NODES], link_done[MAX_NODES][MAX_NODES];
    /* checker state */
    GArray *global;          /* of sim_entry: the committed sequence, payload owned */
    GHashTable *epoch_leader;/* epoch -> sid */
    GHashTable *skipped;     /* zxid (int64*) -> present */
    char *failure;           /* first violation, owned */
    uint64_t proposals;
    bool generate;           /* faults and proposals on */
    bool verbose;
    GQueue *trace;           /* recent lines, owned */
    zab_peer initial[MAX_NODES]; /* the configuration before any reconfig */
    int ninitial;
};

static void trace(sim *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void trace(sim *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *body = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    char *line = g_strdup_printf("%8" G_GINT64_FORMAT " ms  %s", s->now, body);
    g_free(body);
    if (s->verbose)
        printf("%s\n", line);
    g_queue_push_tail(s->trace, line);
    while (g_queue_get_length(s->trace) > 60)
        g_free(g_queue_pop_head(s->trace));
}

static void violation(sim *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void violation(sim *s, const char *fmt, ...)
{
    if (s->failure)
        return;
    va_list ap;
    va_start(ap, fmt);
    s->failure = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    trace(s, "VIOLATION: %s", s->failure);
}

static char *zx(int64_t zxid, char buf[32])
{
    if (zxid < 0)
        snprintf(buf, 32, "-1");
    else
        snprintf(buf, 32, "%u:%u", (unsigned)((uint64_t)zxid >> 32), (unsigned)zxid);
    return buf;
}

/* ---- event heap ---------------------------------------------------------- */

static bool ev_before(const sim_event *a, const sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(sim *s, sim_event *e)
{
    e->seq = s->seq++;
    g_ptr_array_add(s->heap, e);
    guint i = s->heap->len - 1;
    while (i > 0) {
        guint parent = (i - 1) / 2;
        sim_event *pe = s->heap->pdata[parent];
        if (!ev_before(e, pe))
            break;
        s->heap->pdata[i] = pe;
        i = parent;
    }
    s->heap->pdata[i] = e;
}

static sim_event *heap_pop(sim *s)
{
    if (s->heap->len == 0)
        return NULL;
    sim_event *top = s->heap->pdata[0];
    sim_event *last = g_ptr_array_steal_index(s->heap, s->heap->len - 1);
    if (s->heap->len == 0)
        return top;
    guint i = 0, n = s->heap->len;
    for (;;) {
        guint l = 2 * i + 1, r = l + 1, m = i;
        sim_event *best = last;
        if (l < n && ev_before(s->heap->pdata[l], best)) {
            m = l;
            best = s->heap->pdata[l];
        }
        if (r < n && ev_before(s->heap->pdata[r], best))
            m = r;
        if (m == i)
            break;
        s->heap->pdata[i] = s->heap->pdata[m];
        i = m;
    }
    s->heap->pdata[i] = last;
    return top;
}

static void ev_free(sim_event *e)
{
    if (e) {
        g_free(e->data);
        g_free(e);
    }
}

static sim_event *ev_new(sim *s, int kind, int64_t at, int node)
{
    sim_event *e = g_new0(sim_event, 1);
    e->kind = kind;
    e->at = at;
    e->node = node;
    e->incarnation = node >= 0 ? s->nodes[node].incarnation : 0;
    return e;
}

/* ---- the global committed sequence --------------------------------------- */

/* Index of zxid in the global sequence, or -1. */
static int global_find(sim *s, int64_t zxid)
{
    guint lo = 0, hi = s->global->len;
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        int64_t z = g_array_index(s->global, sim_entry, mid).zxid;
        if (z == zxid)
            return (int)mid;
        if (z < zxid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static int64_t global_last(sim *s)
{
    return s->global->len ? g_array_index(s->global, sim_entry, s->global->len - 1).zxid : -1;
}

static bool entry_in_global(sim *s, int64_t zxid, const uint8_t *p, size_t len)
{
    int i = global_find(s, zxid);
    if (i < 0)
        return false;
    sim_entry *g = &g_array_index(s->global, sim_entry, i);
    return g->len == len && (len == 0 || memcmp(g->payload, p, len) == 0);
}

/* An entry leaves a log without being applied from there. */
static void note_dropped(sim *s, sim_node *nd, const sim_entry *e, bool by_trunc)
{
    char b[32];
    if (entry_in_global(s, e->zxid, e->payload, e->len)) {
        if (by_trunc)
            violation(s, "server %d truncated committed entry %s", nd->sid, zx(e->zxid, b));
        return;
    }
    if (e->zxid < global_last(s)) {
        int64_t *k = g_new(int64_t, 1);
        *k = e->zxid;
        g_hash_table_add(s->skipped, k);
    }
}

/* ---- host callbacks (ctx = sim_node) ------------------------------------ */

static void cb_send(void *ctx, int to_sid, const zab_msg *m)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    int to = -1;
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].sid == to_sid)
            to = i;
    if (to < 0 || !s->nodes[to].up || s->cut[nd->idx][to])
        return;             /* no link: lost */
    int64_t delay = rng_range(&s->rng, s->p.delay_min, s->p.delay_max);
    if (s->p.spike_percent && rng_chance(&s->rng, s->p.spike_percent))
        delay += rng_range(&s->rng, 0, s->p.spike_max);
    int64_t at = s->now + delay;
    if (at < s->link_last[nd->idx][to])
        at = s->link_last[nd->idx][to];   /* FIFO per link */
    s->link_last[nd->idx][to] = at;
    sim_event *e = ev_new(s, EV_MSG, at, to);
    e->from = nd->idx;
    e->link_gen = s->link_gen[nd->idx][to];
    e->link_seq = ++s->link_sent[nd->idx][to];
    e->msg = *m;
    if (m->len) {
        e->data = g_memdup2(m->data, m->len);
        e->msg.data = e->data;
    } else {
        e->msg.data = NULL;
    }
    heap_push(s, e);
}

static void cb_persist(void *ctx, uint32_t accepted, uint32_t current)
{
    sim_node *nd = ctx;
    /* currentEpoch may fall (a sync that drops entries lowers it first) */
    if (accepted < nd->accepted || current > accepted)
        violation(nd->s, "server %d persisted epochs %u/%u after %u/%u", nd->sid, accepted, current,
             nd->accepted, nd->current);
    nd->accepted = accepted;
    nd->current = current;
}

static void schedule_fsync(sim_node *nd)
{
    sim *s = nd->s;
    if (nd->fsync_pending || nd->durable_len >= nd->log->len)
        return;
    nd->fsync_pending = true;
    nd->fsync_target = nd->log->len;
    heap_push(s, ev_new(s, EV_FSYNC, s->now + rng_range(&s->rng, nd->fsync_min, nd->fsync_max),
                        nd->idx));
}

static void cb_log_append(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    sim_node *nd = ctx;
    char b[32], c[32];
    int64_t last = nd->log->len ? g_array_index(nd->log, sim_entry, nd->log->len - 1).zxid
                                : nd->snap_zxid;
    if (zxid <= last)
        violation(nd->s, "server %d appended %s after %s", nd->sid, zx(zxid, b), zx(last, c));
    sim_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
    g_array_append_val(nd->log, e);
    schedule_fsync(nd);
}

static void cb_log_truncate(void *ctx, int64_t after)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    char b[32];
    trace(s, "s%d truncates log after %s", nd->sid, zx(after, b));
    if (after < nd->snap_zxid)
        violation(s, "server %d truncates into its snapshot", nd->sid);
    while (nd->log->len && g_array_index(nd->log, sim_entry, nd->log->len - 1).zxid > after) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, nd->log->len - 1);
        note_dropped(s, nd, e, true);
        g_free(e->payload);
        g_array_set_size(nd->log, nd->log->len - 1);
    }
    if (nd->durable_len > nd->log->len)
        nd->durable_len = nd->log->len;
    if (nd->fsync_target > nd->log->len)
        nd->fsync_target = nd->log->len;
}

/* A reconfig payload: "RCFG" then one (sid, observer) byte pair per member.
 * Returns the member count (0 if txn is no reconfig). */
static int parse_reconfig(const uint8_t *txn, size_t len, zab_peer *out)
{
    if (len < 4 || memcmp(txn, "RCFG", 4) != 0 || (len - 4) % 2 != 0 || (len - 4) / 2 > MAX_NODES)
        return 0;
    int n = (int)(len - 4) / 2;
    for (int i = 0; i < n; i++) {
        out[i].sid = txn[4 + 2 * i];
        out[i].observer = txn[5 + 2 * i] != 0;
    }
    return n;
}

/* The configuration after the first count entries of the global sequence
 * (the initial one, s->peers minus the nodes started outside it, if no
 * reconfig is among them).  Returns the member count. */
static int config_at(sim *s, guint count, zab_peer *out);

static void cb_deliver(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    char b[32], c[32];
    if (zxid <= nd->delivered_zxid)
        violation(s, "server %d delivered %s after %s", nd->sid, zx(zxid, b), zx(nd->delivered_zxid, c));
    if (g_hash_table_contains(s->skipped, &zxid))
        violation(s, "server %d delivered skipped proposal %s", nd->sid, zx(zxid, b));
    guint i = nd->delivered_count;
    if (i < s->global->len) {
        sim_entry *g = &g_array_index(s->global, sim_entry, i);
        if (g->zxid != zxid || g->len != len || (len && memcmp(g->payload, txn, len)))
            violation(s, "server %d delivered %s as entry #%u, but #%u is %s elsewhere", nd->sid,
                 zx(zxid, b), i, i, zx(g->zxid, c));
    } else {
        sim_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
        g_array_append_val(s->global, e);
    }
    nd->delivered_count++;
    nd->delivered_zxid = zxid;
    zab_peer m[MAX_NODES];
    int n = parse_reconfig(txn, len, m);
    if (n > 0) {
        memcpy(nd->members, m, sizeof m);
        nd->nmembers = n;
        nd->reconfig_due = true;
        trace(s, "s%d activates a %d-member config at %s", nd->sid, n, zx(zxid, b));
    }
}

typedef struct snap_blob {
    guint count;
    int64_t zxid;
} snap_blob;

static void cb_snapshot_take(void *ctx, int64_t *zxid, uint8_t **blob, size_t *len)
{
    sim_node *nd = ctx;
    snap_blob b = { nd->delivered_count, nd->delivered_zxid };
    *zxid = nd->delivered_zxid;
    *blob = g_memdup2(&b, sizeof b);
    *len = sizeof b;
}

static void cb_snapshot_install(void *ctx, int64_t zxid, const uint8_t *blob, size_t len)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    char b[32];
    snap_blob sb;
    trace(s, "s%d installs snapshot %s", nd->sid, zx(zxid, b));
    nd->sync_msgs[ZAB_MSG_SNAP]++;
    if (len != sizeof sb) {
        violation(s, "server %d got a bad snapshot blob", nd->sid);
        return;
    }
    memcpy(&sb, blob, sizeof sb);
    if (sb.zxid != zxid || sb.count > s->global->len ||
        (sb.count > 0 && g_array_index(s->global, sim_entry, sb.count - 1).zxid != zxid)) {
        violation(s, "server %d got a snapshot that is not a committed prefix", nd->sid);
        return;
    }
    for (guint i = 0; i < nd->log->len; i++) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, i);
        note_dropped(s, nd, e, false);
        g_free(e->payload);
    }
    g_array_set_size(nd->log, 0);
    nd->durable_len = nd->fsync_target = 0;
    nd->snap_zxid = zxid;
    nd->snap_count = sb.count;
    nd->delivered_count = sb.count;
    nd->delivered_zxid = zxid;
    zab_peer m[MAX_NODES];
    int n = config_at(s, sb.count, m);
    if (n > 0 && (n != nd->nmembers || memcmp(m, nd->members, sizeof(zab_peer) * (size_t)n))) {
        memcpy(nd->members, m, sizeof(zab_peer) * (size_t)n);
        nd->nmembers = n;
        nd->reconfig_due = true;
    }
}

static void cb_role(void *ctx, zab_role role, int leader, uint32_t epoch)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    trace(s, "s%d %s leader=%d epoch=%u%s", nd->sid, zab_role_name(role), leader, epoch,
          nd->z && zab_serving(nd->z) ? " serving" : "");
    if (role == ZAB_LEADING && epoch != 0) {
        gpointer old;
        if (g_hash_table_lookup_extended(s->epoch_leader, GUINT_TO_POINTER(epoch), NULL, &old)) {
            if (GPOINTER_TO_INT(old) != nd->sid)
                violation(s, "epoch %u established by server %d and by server %d", epoch,
                     GPOINTER_TO_INT(old), nd->sid);
        } else {
            g_hash_table_insert(s->epoch_leader, GUINT_TO_POINTER(epoch),
                                GINT_TO_POINTER(nd->sid));
        }
    }
}

/* ---- nodes: start, crash, restart ---------------------------------------- */

static zab_io node_io(sim_node *nd)
{
    zab_io io = { .ctx = nd, .send = cb_send, .persist_epochs = cb_persist,
                  .log_append = cb_log_append, .log_truncate = cb_log_truncate,
                  .deliver = cb_deliver, .snapshot_take = cb_snapshot_take,
                  .snapshot_install = cb_snapshot_install, .role_changed = cb_role };
    return io;
}

static int member_role(const zab_peer *m, int n, int sid)
{
    for (int k = 0; k < n; k++)
        if (m[k].sid == sid)
            return m[k].observer ? 1 : 0;
    return -1;
}

/* What the node's host hands its core: its configuration, plus itself as
 * an observer nobody accepts if it was removed (server/quorum.c). */
static int node_view(const sim_node *nd, zab_peer *view)
{
    int n = 0;
    bool me = false;
    for (int k = 0; k < nd->nmembers; k++) {
        view[n++] = nd->members[k];
        me = me || nd->members[k].sid == nd->sid;
    }
    if (!me)
        view[n++] = (zab_peer){ nd->sid, true };
    return n;
}

static void node_boot(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    zab_peer view[MAX_NODES + 1];
    int nview = node_view(nd, view);
    zab_config cfg = { .my_sid = nd->sid, .peers = view, .npeers = nview, .tick_ms = 100,
                       .init_limit = 10, .sync_limit = 5, .history_limit = s->p.history_limit,
                       .first_counter = s->p.first_counter };
    zab_io io = node_io(nd);
    /* state = snapshot; the log after it is handed over as history */
    nd->delivered_count = nd->snap_count;
    nd->delivered_zxid = nd->snap_zxid;
    int64_t last = nd->log->len ? g_array_index(nd->log, sim_entry, nd->log->len - 1).zxid
                                : nd->snap_zxid;
    nd->z = zab_new(&cfg, &io, nd->accepted, nd->current, last, nd->snap_zxid);
    for (guint k = 0; k < nd->log->len; k++) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, k);
        zab_load_history(nd->z, e->zxid, e->payload, e->len);
    }
    nd->durable_len = nd->log->len;   /* what survived is on disk */
    nd->reconfig_due = false;
    for (int j = 0; j < s->n; j++)
        nd->prev_role[j] = member_role(view, nview, s->nodes[j].sid);
    nd->fsync_pending = false;
    nd->up = true;
    nd->incarnation++;
    char b[32], c[32];
    trace(s, "s%d boots: epochs %u/%u, %u log entries up to %s, snapshot #%u at %s", nd->sid,
          nd->accepted, nd->current, nd->log->len, zx(last, b), nd->snap_count,
          zx(nd->snap_zxid, c));
    zab_start(nd->z, s->now);
    heap_push(s, ev_new(s, EV_TICK, s->now + rng_range(&s->rng, 1, 50), i));
}

static void break_link(sim *s, int a, int b)
{
    s->link_gen[a][b]++;
    s->link_gen[b][a]++;
    s->link_done[a][b] = s->link_sent[a][b];   /* what was in flight is lost */
    s->link_done[b][a] = s->link_sent[b][a];
    s->link_last[a][b] = s->link_last[b][a] = 0;
    if (s->nodes[a].up)
        zab_peer_lost(s->nodes[a].z, s->nodes[b].sid, s->now);
    if (s->nodes[b].up)
        zab_peer_lost(s->nodes[b].z, s->nodes[a].sid, s->now);
}

static void node_crash(sim *s, int i, bool keep_some_unsynced)
{
    sim_node *nd = &s->nodes[i];
    if (!nd->up)
        return;
    if (zab_protocol_errors(nd->z))
        violation(s, "server %d reported %" G_GUINT64_FORMAT " protocol errors", nd->sid,
             zab_protocol_errors(nd->z));
    zab_free(nd->z);
    nd->z = NULL;
    nd->up = false;
    nd->incarnation++;
    guint keep = nd->durable_len;
    if (keep_some_unsynced && nd->log->len > keep)
        keep += (guint)rng_range(&s->rng, 0, nd->log->len - keep);
    for (guint k = keep; k < nd->log->len; k++)
        g_free(g_array_index(nd->log, sim_entry, k).payload);
    trace(s, "s%d crashes, keeps %u of %u log entries (%u synced)", nd->sid, keep, nd->log->len,
          nd->durable_len);
    g_array_set_size(nd->log, keep);
    nd->durable_len = keep;
    nd->fsync_pending = false;
    for (int j = 0; j < s->n; j++)
        if (j != i)
            break_link(s, i, j);
}

/* The host snapshots its state and drops the log entries it covers. */
static void node_snapshot(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    if (!nd->up || nd->delivered_count == nd->snap_count)
        return;
    nd->snap_count = nd->delivered_count;
    nd->snap_zxid = nd->delivered_zxid;
    guint drop = 0;
    while (drop < nd->log->len && g_array_index(nd->log, sim_entry, drop).zxid <= nd->snap_zxid)
        g_free(g_array_index(nd->log, sim_entry, drop++).payload);
    g_array_remove_range(nd->log, 0, drop);
    nd->durable_len = nd->durable_len > drop ? nd->durable_len - drop : 0;
    nd->fsync_target = nd->fsync_target > drop ? nd->fsync_target - drop : 0;
}

static void set_partition(sim *s, const bool *side)
{
    for (int a = 0; a < s->n; a++)
        for (int b = a + 1; b < s->n; b++) {
            bool cut = side[a] != side[b];
            if (cut && !s->cut[a][b]) {
                s->cut[a][b] = s->cut[b][a] = true;
                break_link(s, a, b);
            } else if (!cut) {
                s->cut[a][b] = s->cut[b][a] = false;
            }
        }
}

static void heal(sim *s)
{
    bool side[MAX_NODES] = { 0 };
    set_partition(s, side);
    memset(s->stalled, 0, sizeof s->stalled);
}

/* ---- the event loop ------------------------------------------------------ */

static int leader_index(sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && zab_next_zxid(s->nodes[i].z) >= 0)
            return i;
    return -1;
}

static void propose_at(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    int64_t zxid = zab_next_zxid(nd->z);
    if (zxid < 0)
        return;
    char payload[64];
    int len = snprintf(payload, sizeof payload, "seed%" G_GUINT64_FORMAT "-w%" G_GUINT64_FORMAT,
                       s->seed, s->proposals++);
    char b[32];
    trace(s, "s%d proposes %s", nd->sid, zx(zxid, b));
    if (zab_propose(nd->z, zxid, (const uint8_t *)payload, (size_t)len, s->now) != 0)
        violation(s, "server %d refused a proposal at its next zxid", nd->sid);
}

static void random_fault(sim *s)
{
    int i = (int)rng_range(&s->rng, 0, s->n - 1);
    int kind = (int)rng_range(&s->rng, 0, 119);
    if (kind < 25) {
        if (!s->nodes[i].up)
            return;
        node_crash(s, i, rng_chance(&s->rng, 50));
        heap_push(s, ev_new(s, EV_RESTART, s->now + rng_range(&s->rng, 100, 3000), i));
    } else if (kind < 45) {
        bool side[MAX_NODES];
        for (int k = 0; k < s->n; k++)
            side[k] = rng_chance(&s->rng, 50);
        trace(s, "partition");
        set_partition(s, side);
        heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
    } else if (kind < 65) {
        int j = (int)rng_range(&s->rng, 0, s->n - 1);
        if (j != i) {
            trace(s, "link s%d-s%d breaks", s->nodes[i].sid, s->nodes[j].sid);
            break_link(s, i, j);
        }
    } else if (kind < 80) {
        node_snapshot(s, i);
    } else if (kind >= 100 && kind < 108) {
        int j = (int)rng_range(&s->rng, 0, s->n - 1);
        if (j != i) {
            trace(s, "link s%d->s%d stalls one way", s->nodes[i].sid, s->nodes[j].sid);
            s->stalled[i][j] = true;
            heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
        }
    } else if (kind >= 108 && kind < 114) {
        if (s->nodes[i].up && s->paused_until[i] <= s->now) {
            s->paused_until[i] = s->now + rng_range(&s->rng, 200, 4000);
            trace(s, "s%d paused until %" G_GINT64_FORMAT, s->nodes[i].sid, s->paused_until[i]);
        }
    } else if (kind >= 114) {
        /* random pairs cut: not a clean two-sided split */
        trace(s, "partial partition");
        for (int a = 0; a < s->n; a++)
            for (int b = a + 1; b < s->n; b++)
                if (rng_chance(&s->rng, 35) && !s->cut[a][b]) {
                    s->cut[a][b] = s->cut[b][a] = true;
                    break_link(s, a, b);
                }
        heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
    } else if (kind < 90) {
        /* a slow disk for a while */
        s->nodes[i].fsync_min = (int)rng_range(&s->rng, 1, 50);
        s->nodes[i].fsync_max = s->nodes[i].fsync_min + (int)rng_range(&s->rng, 0, 400);
    } else {
        s->nodes[i].fsync_min = s->p.fsync_min;
        s->nodes[i].fsync_max = s->p.fsync_max;
    }
}

static void check_step(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (!nd->up)
            continue;
        if (zab_protocol_errors(nd->z))
            violation(s, "server %d reported a protocol error", nd->sid);
        zab_role r = zab_get_role(nd->z);
        if ((r == ZAB_FOLLOWING || r == ZAB_OBSERVING) && zab_serving(nd->z)) {
            gpointer who;
            uint32_t e = zab_epoch(nd->z);
            if (!g_hash_table_lookup_extended(s->epoch_leader, GUINT_TO_POINTER(e), NULL, &who) ||
                GPOINTER_TO_INT(who) != zab_leader(nd->z))
                violation(s, "server %d serves epoch %u under %d, which did not establish it",
                     nd->sid, e, zab_leader(nd->z));
        }
    }
}

/* Returns false if e must wait (paused target, stalled direction). */
static bool deferred(sim *s, sim_event *e)
{
    if (e->node < 0 || (e->kind != EV_MSG && e->kind != EV_FSYNC && e->kind != EV_TICK))
        return false;
    if (s->paused_until[e->node] > s->now) {
        e->at = s->paused_until[e->node];
        return true;
    }
    if (e->kind == EV_MSG && e->link_gen == s->link_gen[e->from][e->node]) {
        if (s->stalled[e->from][e->node]) {
            e->at = s->now + 50;
            return true;
        }
        if (e->link_seq != s->link_done[e->from][e->node] + 1) {
            e->at = s->now + 1;    /* an earlier message of the link still waits */
            return true;
        }
    }
    return false;
}

static void handle(sim *s, sim_event *e)
{
    sim_node *nd = e->node >= 0 ? &s->nodes[e->node] : NULL;
    switch (e->kind) {
    case EV_MSG:
        if (e->link_gen == s->link_gen[e->from][e->node])
            s->link_done[e->from][e->node] = e->link_seq;
        if (!nd->up || e->link_gen != s->link_gen[e->from][e->node] || s->cut[e->from][e->node])
            break;
        if (e->msg.type == ZAB_MSG_DIFF || e->msg.type == ZAB_MSG_TRUNC)
            nd->sync_msgs[e->msg.type]++;
        if (s->verbose && e->msg.type != ZAB_MSG_PING) {
            char b[32];
            if (e->msg.type == ZAB_MSG_NOTIFICATION)
                trace(s, "s%d -> s%d NOTIFICATION %s vote=%d zxid=%s epoch=%u round=%" G_GUINT64_FORMAT,
                      s->nodes[e->from].sid, nd->sid, zab_role_name(e->msg.state), e->msg.leader,
                      zx(e->msg.zxid, b), e->msg.epoch, e->msg.election_epoch);
            else
                trace(s, "s%d -> s%d %s zxid=%s epoch=%u", s->nodes[e->from].sid, nd->sid,
                      zab_msg_type_name(e->msg.type), zx(e->msg.zxid, b), e->msg.epoch);
        }
        zab_recv(nd->z, s->nodes[e->from].sid, &e->msg, s->now);
        break;
    case EV_FSYNC:
        if (!nd->up || e->incarnation != nd->incarnation || !nd->fsync_pending)
            break;
        nd->fsync_pending = false;
        if (nd->fsync_target > nd->durable_len)
            nd->durable_len = nd->fsync_target;
        if (nd->durable_len > 0)
            zab_log_durable(nd->z, g_array_index(nd->log, sim_entry, nd->durable_len - 1).zxid,
                            s->now);
        schedule_fsync(nd);
        break;
    case EV_TICK:
        if (!nd->up || e->incarnation != nd->incarnation)
            break;
        zab_tick(nd->z, s->now);
        heap_push(s, ev_new(s, EV_TICK, s->now + 50, e->node));
        break;
    case EV_FAULT:
        if (!s->generate)
            break;
        random_fault(s);
        heap_push(s, ev_new(s, EV_FAULT, s->now + rng_range(&s->rng, 100, 900), -1));
        break;
    case EV_PROPOSE:
        if (!s->generate)
            break;
        for (int i = 0; i < s->n; i++)
            if (s->nodes[i].up && zab_next_zxid(s->nodes[i].z) >= 0)
                propose_at(s, i);
        heap_push(s, ev_new(s, EV_PROPOSE,
                            s->now + rng_range(&s->rng, s->p.propose_min, s->p.propose_max), -1));
        break;
    case EV_RESTART:
        if (!nd->up && s->generate)
            node_boot(s, e->node);
        break;
    case EV_HEAL:
        if (s->generate) {
            trace(s, "heal");
            heal(s);
        }
        break;
    }
}

/* Hosts activate delivered configurations once the core has returned:
 * the core gets the new view, links to servers that left or changed role
 * break (their sessions restart, or never again). */
static void apply_reconfigs(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (!nd->up || !nd->reconfig_due)
            continue;
        nd->reconfig_due = false;
        zab_peer view[MAX_NODES + 1];
        int nview = node_view(nd, view);
        if (zab_reconfigure(nd->z, view, nview, s->now) != 0)
            violation(s, "server %d: zab_reconfigure refused its own view", nd->sid);
        for (int j = 0; j < s->n; j++) {
            if (j == i)
                continue;
            int was = nd->prev_role[j], now = member_role(view, nview, s->nodes[j].sid);
            if (was >= 0 && now < 0)
                break_link(s, i, j);   /* left: cut off (a role change keeps its links) */
            nd->prev_role[j] = now;
        }
    }
}

/* Runs events until virtual time t (or a violation). */
static void run_until(sim *s, int64_t t)
{
    while (!s->failure && s->heap->len > 0) {
        sim_event *e = s->heap->pdata[0];
        if (e->at > t)
            break;
        heap_pop(s);
        s->now = e->at;
        if (deferred(s, e)) {
            heap_push(s, e);   /* re-queued in pop order: FIFO kept */
            continue;
        }
        handle(s, e);
        ev_free(e);
        apply_reconfigs(s);
        check_step(s);
    }
    if (s->now < t)
        s->now = t;
}

static sim *sim_new(uint64_t seed, const sim_params *p, bool verbose)
{
    sim *s = g_new0(sim, 1);
    s->seed = seed;
    s->rng = seed * 0x2545f4914f6cdd1dull + 1;
    s->p = *p;
    s->n = p->nvoters + p->nobservers;
    g_assert(s->n <= MAX_NODES);
    s->heap = g_ptr_array_new();
    s->global = g_array_new(FALSE, FALSE, sizeof(sim_entry));
    s->epoch_leader = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->skipped = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    s->trace = g_queue_new();
    s->verbose = verbose;
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        nd->s = s;
        nd->idx = i;
        nd->sid = i + 1;
        nd->observer = i >= p->nvoters;
        nd->log = g_array_new(FALSE, FALSE, sizeof(sim_entry));
        nd->delivered_zxid = 0;
        nd->fsync_min = p->fsync_min;
        nd->fsync_max = p->fsync_max;
        s->peers[i].sid = nd->sid;
        s->peers[i].observer = nd->observer;
    }
    for (int i = 0; i < s->n; i++) {
        memcpy(s->nodes[i].members, s->peers, sizeof(zab_peer) * (size_t)s->n);
        s->nodes[i].nmembers = s->n;
    }
    s->ninitial = s->n;
    memcpy(s->initial, s->peers, sizeof(zab_peer) * (size_t)s->n);
    return s;
}

static int config_at(sim *s, guint count, zab_peer *out)
{
    for (guint i = count; i > 0; i--) {
        const sim_entry *e = &g_array_index(s->global, sim_entry, i - 1);
        int n = parse_reconfig(e->payload, e->len, out);
        if (n > 0)
            return n;
    }
    memcpy(out, s->initial, sizeof(zab_peer) * (size_t)s->ninitial);
    return s->ninitial;
}

/* True if sid is a member of the configuration the global sequence ends in. */
static bool final_member(sim *s, int sid)
{
    zab_peer m[MAX_NODES];
    int n = config_at(s, s->global->len, m);
    return member_role(m, n, sid) >= 0;
}

static void free_entries(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, sim_entry, i).payload);
    g_array_free(a, TRUE);
}

static void sim_free(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        zab_free(s->nodes[i].z);
        free_entries(s->nodes[i].log);
    }
    sim_event *e;
    while ((e = heap_pop(s)))
        ev_free(e);
    g_ptr_array_free(s->heap, TRUE);
    free_entries(s->global);
    g_hash_table_destroy(s->epoch_leader);
    g_hash_table_destroy(s->skipped);
    g_queue_free_full(s->trace, g_free);
    g_free(s->failure);
    g_free(s);
}

static void print_failure(sim *s)
{
    fprintf(stderr, "\nzab sim: seed %" G_GUINT64_FORMAT " FAILED: %s\nlast events:\n", s->seed,
            s->failure);
    for (GList *l = s->trace->head; l; l = l->next)
        fprintf(stderr, "  %s\n", (char *)l->data);
    fprintf(stderr, "replay: ZAB_SIM_SEED=%" G_GUINT64_FORMAT " build/test/test_zab_sim\n\n",
            s->seed);
}

/* ---- liveness ------------------------------------------------------------ */

/* True when one server leads, all serve and all delivered everything. */
static bool converged(sim *s)
{
    int leader = leader_index(s);
    if (leader < 0)
        return false;
    int64_t last = zab_last_logged(s->nodes[leader].z);
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (!final_member(s, nd->sid))
            continue;   /* removed by a reconfig: never serves again */
        if (!nd->up || !zab_serving(nd->z) || nd->delivered_count != s->global->len ||
            nd->delivered_zxid != last)
            return false;
        if (i != leader && zab_get_role(nd->z) == ZAB_LEADING)
            return false;
    }
    return true;
}

/* Heal, restart everyone, and wait for convergence plus one more write. */
static void liveness(sim *s)
{
    s->generate = false;
    heal(s);
    memset(s->paused_until, 0, sizeof s->paused_until);
    for (int i = 0; i < s->n; i++)
        if (!s->nodes[i].up)
            node_boot(s, i);
    int64_t deadline = s->now + 60000;
    while (!s->failure && !converged(s) && s->now < deadline)
        run_until(s, s->now + 100);
    if (s->failure)
        return;
    if (!converged(s)) {
        char b[32];
        GString *st = g_string_new(NULL);
        for (int i = 0; i < s->n; i++)
            g_string_append_printf(st, " s%d:%s%s,delivered#%u,logged=%s", s->nodes[i].sid,
                                   zab_role_name(zab_get_role(s->nodes[i].z)),
                                   zab_serving(s->nodes[i].z) ? "+serving" : "",
                                   s->nodes[i].delivered_count,
                                   zx(zab_last_logged(s->nodes[i].z), b));
        violation(s, "liveness: no convergence 60 s after healing (global #%u):%s", s->global->len,
             st->str);
        g_string_free(st, TRUE);
        return;
    }
    int64_t want = zab_next_zxid(s->nodes[leader_index(s)].z);
    propose_at(s, leader_index(s));
    deadline = s->now + 10000;
    while (!s->failure && s->now < deadline) {
        run_until(s, s->now + 100);
        bool all = true;
        for (int i = 0; i < s->n; i++)
            all = all && (!final_member(s, s->nodes[i].sid) ||
                          (s->nodes[i].delivered_zxid == want &&
                           s->nodes[i].delivered_count == s->global->len));
        if (all)
            return;
    }
    if (!s->failure)
        violation(s, "liveness: the final write was not delivered everywhere");
}

/* ---- one random seed ------------------------------------------------------ */

static void random_params(uint64_t seed, sim_params *p)
{
    uint64_t r = seed ^ 0x5bd1e995ull;
    memset(p, 0, sizeof *p);
    p->nvoters = rng_chance(&r, 60) ? 3 : 5;
    p->nobservers = rng_chance(&r, 60) ? 0 : (int)rng_range(&r, 1, 2);
    p->delay_min = (int)rng_range(&r, 0, 5);
    p->delay_max = p->delay_min + (int)rng_range(&r, 0, 40);
    p->spike_percent = (int)rng_range(&r, 0, 5);
    p->spike_max = (int)rng_range(&r, 0, 600);
    p->fsync_min = (int)rng_range(&r, 0, 5);
    p->fsync_max = p->fsync_min + (int)rng_range(&r, 0, 30);
    static const int hist[] = { 2, 5, 20, 500 };
    p->history_limit = hist[rng_range(&r, 0, 3)];
    p->faults = true;
    p->propose_min = 5;
    p->propose_max = (int)rng_range(&r, 10, 80);
    p->duration_ms = 20000;
}

/* Runs one seed; returns true if every invariant held. */
static bool run_seed(uint64_t seed, bool verbose)
{
    sim_params p;
    random_params(seed, &p);
    sim *s = sim_new(seed, &p, verbose);
    trace(s, "seed %" G_GUINT64_FORMAT ": %d voters, %d observers, delay %d-%d ms, history %d",
          seed, p.nvoters, p.nobservers, p.delay_min, p.delay_max, p.history_limit);
    s->generate = true;
    for (int i = 0; i < s->n; i++)
        heap_push(s, ev_new(s, EV_RESTART, rng_range(&s->rng, 0, 500), i));
    heap_push(s, ev_new(s, EV_FAULT, 1500, -1));
    heap_push(s, ev_new(s, EV_PROPOSE, 600, -1));
    run_until(s, p.duration_ms);
    if (!s->failure)
        liveness(s);
    for (int i = 0; i < s->n && !s->failure; i++)
        if (s->nodes[i].up && zab_protocol_errors(s->nodes[i].z))
            violation(s, "server %d reported protocol errors", s->nodes[i].sid);
    bool ok = !s->failure;
    if (!ok)
        print_failure(s);
    else if (verbose)
        printf("seed %" G_GUINT64_FORMAT " ok: %u entries committed, %" G_GUINT64_FORMAT
               " proposed, %u epochs\n", seed, s->global->len, s->proposals,
               g_hash_table_size(s->epoch_leader));
    sim_free(s);
    return ok;
}

static void test_random_seeds(void **state)
{
    (void)state;
    const char *one = getenv("ZAB_SIM_SEED");
    if (one && *one) {
        assert_true(run_seed(g_ascii_strtoull(one, NULL, 10), true));
        return;
    }
    /* ~3-5 ms a seed plain, ~15 ms under ASan+UBSan: 20-30 s either way */
#if defined(__SANITIZE_ADDRESS__)
    uint64_t count = 1200;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    uint64_t count = 1200;
#else
    uint64_t count = 6000;
#endif
#else
    uint64_t count = 6000;
#endif
    const char *env = getenv("ZAB_SIM_SEEDS");
    if (env && *env)
        count = g_ascii_strtoull(env, NULL, 10);
    const char *first_env = getenv("ZAB_SIM_FIRST");
    uint64_t first = first_env && *first_env ? g_ascii_strtoull(first_env, NULL, 10) : 1;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int failures = 0;
    for (uint64_t seed = first; seed < first + count && failures < 5; seed++)
        if (!run_seed(seed, false))
            failures++;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("zab sim: seeds %" G_GUINT64_FORMAT "..%" G_GUINT64_FORMAT ", %d failed, %.1f s\n",
           first, first + count - 1, failures,
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    assert_int_equal(failures, 0);
}

/* ---- deterministic scenarios ---------------------------------------------- */

static sim *scenario_sim(int nvoters, int nobservers, int history_limit)
{
    sim_params p = { .nvoters = nvoters, .nobservers = nobservers, .delay_min = 5,
                     .delay_max = 5, .fsync_min = 2, .fsync_max = 2,
                     .history_limit = history_limit };
    sim *s = sim_new(0, &p, getenv("ZAB_SIM_VERBOSE") != NULL);
    s->generate = false;
    return s;
}

static void expect_ok(sim *s)
{
    if (s->failure)
        print_failure(s);
    assert_null(s->failure);
}

static zab_role role_of(sim *s, int sid)
{
    return zab_get_role(s->nodes[sid - 1].z);
}

/* Proposes n writes at the serving leader and runs until they commit. */
static void write_n(sim *s, int n)
{
    for (int k = 0; k < n; k++) {
        int l = leader_index(s);
        assert_true(l >= 0);
        propose_at(s, l);
        run_until(s, s->now + 20);
    }
    run_until(s, s->now + 500);
}

static void crash(sim *s, int sid)
{
    node_crash(s, sid - 1, false);
}

static void boot(sim *s, int sid)
{
    node_boot(s, sid - 1);
}

static void test_spec_scenarios(void **state)
{
    (void)state;
    sim *s = scenario_sim(3, 0, 0);
    /* 1: start 1, then 2 while 1 is looking, then 3 after 1 and 2 settled */
    boot(s, 1);
    run_until(s, 1000);
    assert_int_equal(role_of(s, 1), ZAB_LOOKING);
    boot(s, 2);
    run_until(s, 3000);
    assert_int_equal(role_of(s, 2), ZAB_LEADING);
    assert_int_equal(role_of(s, 1), ZAB_FOLLOWING);
    boot(s, 3);
    run_until(s, 5000);
    assert_int_equal(role_of(s, 2), ZAB_LEADING);
    assert_int_equal(role_of(s, 3), ZAB_FOLLOWING);
    assert_int_equal(zab_leader(s->nodes[2].z), 2);
    assert_true(zab_serving(s->nodes[2].z));
    assert_int_equal(zab_epoch(s->nodes[1].z), 1);
    write_n(s, 3);
    expect_ok(s);
    /* 2: kill the leader 2: 3 leads */
    crash(s, 2);
    run_until(s, s->now + 3000);
    assert_int_equal(role_of(s, 3), ZAB_LEADING);
    assert_int_equal(role_of(s, 1), ZAB_FOLLOWING);
    assert_true(zab_serving(s->nodes[2].z));
    /* 3: write with 1 and 3 up, stop both, restart 1, 2, 3: 1 leads */
    write_n(s, 5);
    assert_int_equal(s->nodes[0].delivered_count, 8);
    crash(s, 1);
    crash(s, 3);
    run_until(s, s->now + 1000);
    boot(s, 1);
    run_until(s, s->now + 1000);
    boot(s, 2);
    run_until(s, s->now + 2000);
    boot(s, 3);
    run_until(s, s->now + 2000);
    assert_int_equal(role_of(s, 1), ZAB_LEADING);
    assert_int_equal(role_of(s, 2), ZAB_FOLLOWING);
    assert_int_equal(role_of(s, 3), ZAB_FOLLOWING);
    write_n(s, 2);
    for (int i = 0; i < 3; i++)
        assert_int_equal(s->nodes[i].delivered_count, 10);
    expect_ok(s);
    sim_free(s);
}

/* 3 voters + 2 observers: two voters down = no quorum, observers included. */
static void test_observers_do_not_count(void **state)
{
    (void)state;
    sim *s = scenario_sim(3, 2, 0);
    for (int sid = 1; sid <= 5; sid++)
        boot(s, sid);
    run_until(s, 4000);
    assert_int_equal(role_of(s, 3), ZAB_LEADING);
    assert_int_equal(role_of(s, 4), ZAB_OBSERVING);
    assert_int_equal(role_of(s, 5), ZAB_OBSERVING);
    write_n(s, 4);
    for (int i = 0; i < 5; i++)
        assert_int_equal(s->nodes[i].delivered_count, 4);
    crash(s, 1);
    crash(s, 2);
    run_until(s, s->now + 3000);
    assert_int_equal(role_of(s, 3), ZAB_LOOKING);
    assert_int_equal(leader_index(s), -1);
    for (int i = 2; i < 5; i++)
        assert_false(zab_serving(s->nodes[i].z));
    boot(s, 1);
    run_until(s, s->now + 4000);
    assert_true(leader_index(s) >= 0);
    write_n(s, 2);
    for (int i = 0; i < 5; i++)
        if (i != 1)
            assert_int_equal(s->nodes[i].delivered_count, 6);
    expect_ok(s);
    sim_free(s);
}

/* 5 voters survive 2 failures, including the leader. */
static void test_five_survive_two(void **state)
{
    (void)state;
    sim *s = scenario_sim(5, 0, 0);
    for (int sid = 1; sid <= 5; sid++)
        boot(s, sid);
    run_until(s, 4000);
    int l = leader_index(s);
    assert_true(l >= 0);
    write_n(s, 3);
    crash(s, l + 1);
    crash(s, (l + 1) % 5 + 1);
    run_until(s, s->now + 4000);
    assert_true(leader_index(s) >= 0);
    write_n(s, 3);
    int up = 0;
    for (int i = 0; i < 5; i++)
        if (s->nodes[i].up) {
            assert_int_equal(s->nodes[i].delivered_count, 6);
            up++;
        }
    assert_int_equal(up, 3);
    expect_ok(s);
    sim_free(s);
}

/* Brings up 1..3 so that 2 leads (scenario 1). */
static void three_with_leader_2(sim *s)
{
    boot(s, 1);
    run_until(s, 1000);
    boot(s, 2);
    run_until(s, 3000);
    boot(s, 3);
    run_until(s, 5000);
    assert_int_equal(role_of(s, 2), ZAB_LEADING);
}

/* A follower behind by a few entries gets DIFF; far behind gets SNAP. */
static void test_diff_and_snap(void **state)
{
    (void)state;
    for (int far = 0; far <= 1; far++) {
        sim *s = scenario_sim(3, 0, 10);
        three_with_leader_2(s);
        write_n(s, 2);
        crash(s, 3);
        write_n(s, far ? 30 : 3);
        memset(s->nodes[2].sync_msgs, 0, sizeof s->nodes[2].sync_msgs);
        boot(s, 3);
        run_until(s, s->now + 3000);
        assert_int_equal(role_of(s, 3), ZAB_FOLLOWING);
        assert_true(zab_serving(s->nodes[2].z));
        assert_int_equal(s->nodes[2].sync_msgs[ZAB_MSG_SNAP], far ? 1 : 0);
        assert_int_equal(s->nodes[2].sync_msgs[ZAB_MSG_DIFF], far ? 0 : 1);
        assert_int_equal(s->nodes[2].sync_msgs[ZAB_MSG_TRUNC], 0);
        assert_int_equal(s->nodes[2].delivered_count, s->global->len);
        write_n(s, 1);
        assert_int_equal(s->nodes[2].delivered_count, s->global->len);
        expect_ok(s);
        sim_free(s);
    }
}

/* A follower with an uncommitted tail from an old epoch is TRUNCated. */
static void test_trunc_uncommitted_tail(void **state)
{
    (void)state;
    sim *s = scenario_sim(3, 0, 0);
    three_with_leader_2(s);
    write_n(s, 2);
    crash(s, 3);
    /* the leader's own fsync and 1's ACK are slow: the write cannot commit */
    s->nodes[1].fsync_min = s->nodes[1].fsync_max = 5000;
    s->p.delay_min = s->p.delay_max = 5;
    propose_at(s, 1);
    int64_t tail = zab_last_logged(s->nodes[1].z);
    run_until(s, s->now + 3);   /* not yet at 1 */
    s->p.delay_min = s->p.delay_max = 2000;  /* 1's ACK crawls */
    run_until(s, s->now + 20);  /* 1 logged it and fsyncs */
    assert_int_equal(zab_last_logged(s->nodes[0].z), tail);
    s->p.delay_min = s->p.delay_max = 5;
    crash(s, 1);
    crash(s, 2);                /* loses the unsynced tail */
    s->nodes[1].fsync_min = s->nodes[1].fsync_max = 2;
    assert_int_equal(s->nodes[0].log->len, 3);
    assert_int_equal(s->nodes[1].log->len, 2);
    boot(s, 2);
    boot(s, 3);
    run_until(s, s->now + 3000);
    assert_true(leader_index(s) >= 0);
    write_n(s, 2);
    memset(s->nodes[0].sync_msgs, 0, sizeof s->nodes[0].sync_msgs);
    boot(s, 1);
    run_until(s, s->now + 3000);
    assert_int_equal(role_of(s, 1), ZAB_FOLLOWING);
    assert_true(zab_serving(s->nodes[0].z));
    assert_int_equal(s->nodes[0].sync_msgs[ZAB_MSG_TRUNC], 1);
    assert_int_equal(s->nodes[0].delivered_count, 4);
    assert_true(g_hash_table_contains(s->skipped, &tail));
    for (guint i = 0; i < s->global->len; i++)
        assert_true(g_array_index(s->global, sim_entry, i).zxid != tail);
    expect_ok(s);
    sim_free(s);
}

/* ZOOKEEPER-1277: an epoch whose counter is used up ends with a new
 * election; every write proposed through the boundary commits everywhere,
 * each epoch's counters stay <= ZAB_LAST_COUNTER, the epoch goes up. */
static void test_counter_rollover(void **state)
{
    (void)state;
    sim *s = scenario_sim(3, 0, 0);
    s->p.first_counter = ZAB_LAST_COUNTER - 4;   /* 5 proposals per epoch */
    three_with_leader_2(s);
    uint32_t first_epoch = zab_epoch(s->nodes[1].z);
    int proposed = 0;
    for (int k = 0; k < 40 && proposed < 17; k++) {
        int l = -1;
        for (int t = 0; t < 100 && (l = leader_index(s)) < 0; t++)
            run_until(s, s->now + 50);       /* an election: bounded wait */
        assert_true(l >= 0);
        propose_at(s, l);
        proposed++;
        run_until(s, s->now + 50);
    }
    for (int t = 0; t < 100 && leader_index(s) < 0; t++)
        run_until(s, s->now + 50);
    run_until(s, s->now + 1000);
    expect_ok(s);
    assert_int_equal(s->global->len, (guint)proposed);
    uint64_t rollovers = 0;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(s->nodes[i].delivered_count, (guint)proposed);
        rollovers += zab_counter_rollovers(s->nodes[i].z);
    }
    for (guint k = 0; k < s->global->len; k++) {
        uint32_t counter = (uint32_t)g_array_index(s->global, sim_entry, k).zxid;
        assert_true(counter >= ZAB_LAST_COUNTER - 4 && counter <= ZAB_LAST_COUNTER);
    }
    /* 17 writes at 5 per epoch: at least 3 rollovers, epoch + 3 or more */
    assert_true(rollovers >= 3);
    int l = leader_index(s);
    assert_true(l >= 0);
    assert_true(zab_epoch(s->nodes[l].z) >= first_epoch + 3);
    sim_free(s);
}

/* ---- reconfig ------------------------------------------------------------- */

/* "1v2v3o": sids with v (voter) or o (observer). */
static int parse_spec(const char *spec, zab_peer *out)
{
    int n = 0;
    for (const char *c = spec; c[0] && c[1]; c += 2) {
        out[n].sid = c[0] - '0';
        out[n].observer = c[1] == 'o';
        n++;
    }
    return n;
}

/* The initial configuration of every node (and of the global sequence). */
static void set_initial(sim *s, const char *spec)
{
    s->ninitial = parse_spec(spec, s->initial);
    for (int i = 0; i < s->n; i++) {
        memcpy(s->nodes[i].members, s->initial, sizeof s->initial);
        s->nodes[i].nmembers = s->ninitial;
    }
}

/* A joiner's own configuration (the old one plus itself, as in Apache). */
static void set_members(sim *s, int sid, const char *spec)
{
    s->nodes[sid - 1].nmembers = parse_spec(spec, s->nodes[sid - 1].members);
}

/* The serving leader proposes the configuration spec; runs until it commits. */
static void reconfig(sim *s, const char *spec)
{
    zab_peer m[MAX_NODES];
    int n = parse_spec(spec, m);
    uint8_t payload[4 + 2 * MAX_NODES];
    memcpy(payload, "RCFG", 4);
    for (int k = 0; k < n; k++) {
        payload[4 + 2 * k] = (uint8_t)m[k].sid;
        payload[5 + 2 * k] = m[k].observer ? 1 : 0;
    }
    int l = leader_index(s);
    assert_true(l >= 0);
    int64_t zxid = zab_next_zxid(s->nodes[l].z);
    trace(s, "s%d proposes reconfig %s", s->nodes[l].sid, spec);
    assert_int_equal(zab_propose_reconfig(s->nodes[l].z, zxid, payload, 4 + 2 * (size_t)n, m, n,
                                          s->now), 0);
    run_until(s, s->now + 1000);
}

static bool serving(sim *s, int sid)
{
    return s->nodes[sid - 1].up && zab_serving(s->nodes[sid - 1].z);
}

/* Remove a follower, then the leader; add a voter that waits with the
 * new configuration; add and remove an observer; change roles. */
static void test_reconfig_scenarios(void **state)
{
    (void)state;
    /* a follower removed: it stops serving, the other two are the quorum */
    sim *s = scenario_sim(3, 0, 0);
    three_with_leader_2(s);
    write_n(s, 2);
    reconfig(s, "1v2v");
    write_n(s, 3);
    assert_false(serving(s, 3));
    assert_true(serving(s, 1) && serving(s, 2));
    assert_int_equal(s->nodes[0].delivered_count, s->global->len);
    crash(s, 1);               /* 1 of 2 voters is no quorum */
    run_until(s, s->now + 3000);
    assert_false(serving(s, 2));
    boot(s, 1);
    run_until(s, s->now + 3000);
    assert_true(leader_index(s) >= 0 && leader_index(s) <= 1);
    write_n(s, 1);
    assert_int_equal(s->nodes[1].delivered_count, s->global->len);
    expect_ok(s);
    sim_free(s);

    /* the leader removed: it steps down, one of the others leads */
    s = scenario_sim(3, 0, 0);
    three_with_leader_2(s);
    write_n(s, 2);
    reconfig(s, "1v3v");
    run_until(s, s->now + 3000);
    assert_false(serving(s, 2));
    int l = leader_index(s);
    assert_true(l == 0 || l == 2);
    write_n(s, 3);
    assert_int_equal(s->nodes[0].delivered_count, s->global->len);
    assert_int_equal(s->nodes[2].delivered_count, s->global->len);
    expect_ok(s);
    sim_free(s);

    /* a voter added: 4 runs with the new config, joins at activation and
     * then counts: 3 of the 4 keep serving without 1 */
    s = scenario_sim(4, 0, 0);
    set_initial(s, "1v2v3v");
    set_members(s, 4, "1v2v3v4v");
    three_with_leader_2(s);
    boot(s, 4);
    write_n(s, 2);
    run_until(s, s->now + 1000);
    assert_false(serving(s, 4));
    reconfig(s, "1v2v3v4v");
    run_until(s, s->now + 3000);
    assert_true(serving(s, 4));
    assert_int_equal(role_of(s, 4), ZAB_FOLLOWING);
    crash(s, 1);
    run_until(s, s->now + 3000);
    write_n(s, 3);
    assert_int_equal(s->nodes[3].delivered_count, s->global->len);
    crash(s, 3);               /* 2 of 4 voters: no quorum */
    run_until(s, s->now + 3000);
    assert_true(leader_index(s) < 0);
    expect_ok(s);
    sim_free(s);

    /* an observer added, then removed */
    s = scenario_sim(3, 1, 0);
    set_initial(s, "1v2v3v");
    set_members(s, 4, "1v2v3v4o");
    three_with_leader_2(s);
    boot(s, 4);
    write_n(s, 1);
    assert_false(serving(s, 4));
    reconfig(s, "1v2v3v4o");
    run_until(s, s->now + 3000);
    assert_int_equal(role_of(s, 4), ZAB_OBSERVING);
    assert_true(serving(s, 4));
    write_n(s, 2);
    assert_int_equal(s->nodes[3].delivered_count, s->global->len);
    reconfig(s, "1v2v3v");
    run_until(s, s->now + 2000);
    assert_false(serving(s, 4));
    write_n(s, 1);
    assert_true(s->nodes[3].delivered_count < s->global->len);
    expect_ok(s);
    sim_free(s);

    /* role changes: voter 3 becomes an observer, observer 4 a voter */
    s = scenario_sim(3, 1, 0);
    three_with_leader_2(s);
    boot(s, 4);
    run_until(s, s->now + 2000);
    assert_int_equal(role_of(s, 4), ZAB_OBSERVING);
    write_n(s, 1);
    reconfig(s, "1v2v3o4v");
    run_until(s, s->now + 3000);
    assert_int_equal(role_of(s, 3), ZAB_OBSERVING);
    assert_true(serving(s, 3));
    assert_int_equal(role_of(s, 4), ZAB_FOLLOWING);
    assert_true(serving(s, 4));
    write_n(s, 2);
    crash(s, 1);               /* voters 2 and 4 are a quorum of 3 */
    run_until(s, s->now + 3000);
    write_n(s, 1);
    assert_int_equal(s->nodes[3].delivered_count, s->global->len);
    assert_int_equal(s->nodes[2].delivered_count, s->global->len);
    crash(s, 4);               /* 1 of 3 voters: observer 3 alone does not count */
    run_until(s, s->now + 3000);
    assert_true(leader_index(s) < 0);
    expect_ok(s);
    sim_free(s);
}

/* A reconfig commits only with a quorum of the old voters AND of the new
 * ones: 1v2v3v4o -> 1v2v3o4v with 1 down has the old quorum {2,3} but of
 * the new voters {1,2,4} only 2 (observer 4 is no follower yet): nothing
 * from the reconfig on commits until 1 is back. */
static void test_reconfig_needs_both_quorums(void **state)
{
    (void)state;
    sim *s = scenario_sim(3, 1, 0);
    three_with_leader_2(s);
    boot(s, 4);
    run_until(s, s->now + 2000);
    write_n(s, 2);
    crash(s, 1);
    run_until(s, s->now + 1000);
    assert_true(serving(s, 2));
    guint before = s->global->len;
    reconfig(s, "1v2v3o4v");
    int l = leader_index(s);
    assert_int_equal(l, 1);
    propose_at(s, l);
    run_until(s, s->now + 1500);
    assert_int_equal(s->global->len, before);        /* neither committed */
    boot(s, 1);
    run_until(s, s->now + 4000);
    assert_int_equal(s->global->len, before + 2);    /* both, once 1 is back */
    assert_int_equal(role_of(s, 3), ZAB_OBSERVING);
    assert_int_equal(role_of(s, 4), ZAB_FOLLOWING);
    write_n(s, 1);
    for (int i = 0; i < 4; i++)
        assert_int_equal(s->nodes[i].delivered_count, s->global->len);
    expect_ok(s);
    sim_free(s);
}

/* Many seeds: random delays, a reconfig (remove a voter or the leader, add
 * server 4 as a voter or observer, promote an observer, demote a voter,
 * swap the two), and a crash of a random server
 * at a random moment around it; then everyone restarts and the members of
 * the final configuration converge with every invariant held. */
static void test_reconfig_crash_seeds(void **state)
{
    (void)state;
    const char *env = getenv("ZAB_SIM_RECONFIG_SEEDS");
    int seeds = env ? atoi(env) : 300;
    /* initial configuration, server 4's own, the new one */
    static const char *const cases[][3] = {
        { "1v2v3v", "1v2v3v4v", "1v2v" },     { "1v2v3v", "1v2v3v4v", "1v3v" },
        { "1v2v3v", "1v2v3v4v", "2v3v" },     { "1v2v3v", "1v2v3v4v", "1v2v3v4v" },
        { "1v2v3v", "1v2v3v4o", "1v2v3v4o" }, { "1v2v3v4o", "1v2v3v4o", "1v2v3v4v" },
        { "1v2v3v4o", "1v2v3v4o", "1v2v3o4v" }, { "1v2v3v", "1v2v3v4v", "1v2v3o" },
    };
    int failures = 0, committed = 0;
    for (int seed = 1; seed <= seeds; seed++) {
        uint64_t r = (uint64_t)seed * 0x9e3779b97f4a7c15ull;
        sim_params p = { .nvoters = 4, .nobservers = 0, .history_limit = (int)rng_range(&r, 2, 50) };
        p.delay_min = (int)rng_range(&r, 0, 5);
        p.delay_max = p.delay_min + (int)rng_range(&r, 0, 30);
        p.fsync_min = (int)rng_range(&r, 0, 3);
        p.fsync_max = p.fsync_min + (int)rng_range(&r, 0, 20);
        sim *s = sim_new((uint64_t)seed, &p, false);
        s->generate = false;
        const char *const *c = cases[rng_range(&r, 0, (int64_t)G_N_ELEMENTS(cases) - 1)];
        const char *change = c[2];
        set_initial(s, c[0]);
        set_members(s, 4, c[1]);
        for (int sid = 1; sid <= 4; sid++)
            boot(s, sid);
        run_until(s, 5000);
        int l = leader_index(s);
        if (l < 0) {
            violation(s, "no leader before the reconfig");
        } else {
            for (int k = 0; k < 3; k++)
                propose_at(s, l);
            run_until(s, s->now + (int64_t)rng_range(&r, 0, 30));
            l = leader_index(s);
            if (l >= 0) {
                zab_peer m[MAX_NODES];
                int n = parse_spec(change, m);
                uint8_t payload[4 + 2 * MAX_NODES];
                memcpy(payload, "RCFG", 4);
                for (int k = 0; k < n; k++) {
                    payload[4 + 2 * k] = (uint8_t)m[k].sid;
                    payload[5 + 2 * k] = m[k].observer ? 1 : 0;
                }
                trace(s, "s%d proposes reconfig %s", s->nodes[l].sid, change);
                zab_propose_reconfig(s->nodes[l].z, zab_next_zxid(s->nodes[l].z), payload,
                                     4 + 2 * (size_t)n, m, n, s->now);
                propose_at(s, l);
            }
            run_until(s, s->now + (int64_t)rng_range(&r, 0, 40));
            node_crash(s, (int)rng_range(&r, 0, 3), rng_chance(&r, 50));
            run_until(s, s->now + (int64_t)rng_range(&r, 0, 3000));
            if (!s->failure)
                liveness(s);
        }
        zab_peer fin[MAX_NODES];
        if (config_at(s, s->global->len, fin) != s->ninitial ||
            memcmp(fin, s->initial, sizeof(zab_peer) * (size_t)s->ninitial) != 0)
            committed++;
        if (s->failure) {
            print_failure(s);
            failures++;
        }
        sim_free(s);
    }
    printf("zab sim reconfig: %d seeds, reconfig committed in %d, %d failed\n", seeds, committed,
           failures);
    assert_int_equal(failures, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_scenarios),
        cmocka_unit_test(test_observers_do_not_count),
        cmocka_unit_test(test_five_survive_two),
        cmocka_unit_test(test_diff_and_snap),
        cmocka_unit_test(test_trunc_uncommitted_tail),
        cmocka_unit_test(test_counter_rollover),
        cmocka_unit_test(test_reconfig_scenarios),
        cmocka_unit_test(test_reconfig_needs_both_quorums),
        cmocka_unit_test(test_reconfig_crash_seeds),
        cmocka_unit_test(test_random_seeds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
