/*
 * zab_fixture.c — the deterministic Zab simulation (see zab_fixture.h):
 * real cores (server/zab*.c) on a virtual clock with in-memory links and
 * disks, fault injection, the invariant checker run after every step, and
 * the liveness check of a seed.
 */
#include "zab_fixture.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

void sim_trace(sim *s, const char *fmt, ...)
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

void sim_violation(sim *s, const char *fmt, ...)
{
    if (s->failure)
        return;
    va_list ap;
    va_start(ap, fmt);
    s->failure = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    sim_trace(s, "VIOLATION: %s", s->failure);
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
            sim_violation(s, "server %d truncated committed entry %s", nd->sid, zx(e->zxid, b));
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
    if (nd->z && zab_failed(nd->z))
        sim_violation(s, "server %d sent %s after its core failed", nd->sid, zab_msg_type_name(m->type));
    int to = -1;
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].sid == to_sid)
            to = i;
    if (to < 0 || !s->nodes[to].up || s->cut[nd->idx][to])
        return;             /* no link: lost */
    if (!zab_msg_is_election(m->type) && to_sid == nd->qlink_sid && !nd->qlink_up)
        return;             /* the quorum link to the leader is still being dialled */
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

static int cb_persist(void *ctx, uint32_t accepted, uint32_t current)
{
    sim_node *nd = ctx;
    if (nd->fail_persist) {
        nd->fail_persist = false;
        sim_trace(nd->s, "s%d: writing epochs %u/%u fails", nd->sid, accepted, current);
        return -1;          /* nothing written */
    }
    /* currentEpoch may fall (a sync that drops entries lowers it first) */
    if (accepted < nd->accepted || current > accepted)
        sim_violation(nd->s, "server %d persisted epochs %u/%u after %u/%u", nd->sid, accepted, current,
             nd->accepted, nd->current);
    nd->accepted = accepted;
    nd->current = current;
    return 0;
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

static int cb_log_append(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    sim_node *nd = ctx;
    char b[32], c[32];
    int64_t last = nd->log->len ? g_array_index(nd->log, sim_entry, nd->log->len - 1).zxid
                                : nd->log_base;
    if (nd->held->len) {
        sim_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
        g_array_append_val(nd->held, e);
        return 0;
    }
    if (zxid <= last)
        sim_violation(nd->s, "server %d appended %s after %s", nd->sid, zx(zxid, b), zx(last, c));
    sim_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
    g_array_append_val(nd->log, e);
    schedule_fsync(nd);
    return 0;
}

/* superseded: a held cut followed, in the same held batch, by the log reset
 * of a snapshot installed meanwhile (as quorum.c's run_held does them in
 * order): the snapshot already covers everything the cut drops (seed 10189:
 * TRUNC after 1:263 held, rejoin, SNAP at 2:1). */
static void do_cut(sim_node *nd, int64_t after, bool superseded)
{
    sim *s = nd->s;
    char b[32];
    sim_trace(s, "s%d truncates log after %s%s", nd->sid, zx(after, b),
              superseded ? " (before a held snapshot's log reset)" : "");
    if (after < nd->snap_zxid && !superseded)
        sim_violation(s, "server %d truncates into its snapshot", nd->sid);
    while (nd->log->len && g_array_index(nd->log, sim_entry, nd->log->len - 1).zxid > after) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, nd->log->len - 1);
        note_dropped(s, nd, e, !superseded);
        g_free(e->payload);
        g_array_set_size(nd->log, nd->log->len - 1);
    }
    if (nd->durable_len > nd->log->len)
        nd->durable_len = nd->log->len;
    if (nd->fsync_target > nd->log->len)
        nd->fsync_target = nd->log->len;
}

/* Holds a cut (ZAB_IO_PENDING) half the time, until the fsync in flight
 * (or one started for it) returns. */
static bool hold_cut(sim_node *nd, int64_t after, bool snap)
{
    if (!nd->held->len && !rng_chance(&nd->s->rng, 50))
        return false;
    if (!nd->fsync_pending) {
        /* as if a batch were in flight: the cut waits for its return */
        sim *s = nd->s;
        nd->fsync_pending = true;
        nd->fsync_target = nd->log->len;
        heap_push(s, ev_new(s, EV_FSYNC, s->now + rng_range(&s->rng, nd->fsync_min, nd->fsync_max),
                            nd->idx));
    }
    char b[32];
    sim_trace(nd->s, "s%d holds a cut after %s until its fsync returns", nd->sid, zx(after, b));
    sim_entry e = { -after - 1, NULL, snap ? 1 : 0 };
    g_array_append_val(nd->held, e);
    return true;
}

static int cb_log_truncate(void *ctx, int64_t after)
{
    sim_node *nd = ctx;
    if (hold_cut(nd, after, false))
        return ZAB_IO_PENDING;
    do_cut(nd, after, false);
    return 0;
}

/* ---- reconfig ------------------------------------------------------------ */

/* A reconfig payload's member list (0 if txn is no reconfig). */
static int parse_reconfig(const uint8_t *txn, size_t len, zab_peer *out)
{
    if (len < 4 || memcmp(txn, "RCFG", 4) != 0 || (len - 4) % 2 != 0 ||
        (len - 4) / 2 > ZF_MAX_NODES)
        return 0;
    int n = (int)(len - 4) / 2;
    for (int i = 0; i < n; i++) {
        out[i].sid = txn[4 + 2 * i];
        out[i].observer = txn[5 + 2 * i] != 0;
    }
    return n;
}

/* The configuration after the first count entries of the global sequence. */
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

static int member_role(const zab_peer *m, int n, int sid)
{
    for (int k = 0; k < n; k++)
        if (m[k].sid == sid)
            return m[k].observer ? 1 : 0;
    return -1;
}

/* True if sid is a member of the configuration the global sequence ends in. */
static bool final_member(sim *s, int sid)
{
    zab_peer m[ZF_MAX_NODES];
    int n = config_at(s, s->global->len, m);
    return member_role(m, n, sid) >= 0;
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

static void break_link(sim *s, int a, int b);

/* Hosts activate delivered configurations once the core has returned:
 * the core gets the new view, links to servers that left break (a role
 * change keeps its links: that server still needs the COMMIT/INFORM). */
static void apply_reconfigs(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        if (!nd->up || !nd->reconfig_due)
            continue;
        nd->reconfig_due = false;
        zab_peer view[ZF_MAX_NODES + 1];
        int nview = node_view(nd, view);
        if (zab_reconfigure(nd->z, view, nview, s->now) != 0)
            sim_violation(s, "server %d: zab_reconfigure refused its own view", nd->sid);
        for (int j = 0; j < s->n; j++) {
            if (j == i)
                continue;
            int was = nd->prev_role[j], now = member_role(view, nview, s->nodes[j].sid);
            if (was >= 0 && now < 0)
                break_link(s, i, j);
            nd->prev_role[j] = now;
        }
    }
}

static int parse_spec(const char *spec, zab_peer *out)
{
    int n = 0;
    for (const char *c = spec; c[0] && c[1] && n < ZF_MAX_NODES; c += 2) {
        out[n].sid = c[0] - '0';
        out[n].observer = c[1] == 'o';
        n++;
    }
    return n;
}

void sim_set_initial(sim *s, const char *spec)
{
    s->ninitial = parse_spec(spec, s->initial);
    for (int i = 0; i < s->n; i++) {
        memcpy(s->nodes[i].members, s->initial, sizeof s->initial);
        s->nodes[i].nmembers = s->ninitial;
    }
}

void sim_set_members(sim *s, int sid, const char *spec)
{
    s->nodes[sid - 1].nmembers = parse_spec(spec, s->nodes[sid - 1].members);
}

int sim_propose_reconfig(sim *s, int i, const char *spec)
{
    zab_peer m[ZF_MAX_NODES];
    int n = parse_spec(spec, m);
    uint8_t payload[4 + 2 * ZF_MAX_NODES];
    memcpy(payload, "RCFG", 4);
    for (int k = 0; k < n; k++) {
        payload[4 + 2 * k] = (uint8_t)m[k].sid;
        payload[5 + 2 * k] = m[k].observer ? 1 : 0;
    }
    sim_node *nd = &s->nodes[i];
    sim_trace(s, "s%d proposes reconfig %s", nd->sid, spec);
    s->proposals++;
    return zab_propose_reconfig(nd->z, zab_next_zxid(nd->z), payload, 4 + 2 * (size_t)n, m, n,
                                s->now);
}

static int cb_deliver(void *ctx, int64_t zxid, const uint8_t *txn, size_t len)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    char b[32], c[32];
    if (zab_failed(nd->z))
        sim_violation(s, "server %d delivered %s after its core failed", nd->sid, zx(zxid, b));
    if (zxid <= nd->delivered_zxid)
        sim_violation(s, "server %d delivered %s after %s", nd->sid, zx(zxid, b), zx(nd->delivered_zxid, c));
    if (g_hash_table_contains(s->skipped, &zxid))
        sim_violation(s, "server %d delivered skipped proposal %s", nd->sid, zx(zxid, b));
    guint i = nd->delivered_count;
    if (i < s->global->len) {
        sim_entry *g = &g_array_index(s->global, sim_entry, i);
        if (g->zxid != zxid || g->len != len || (len && memcmp(g->payload, txn, len)))
            sim_violation(s, "server %d delivered %s as entry #%u, but #%u is %s elsewhere", nd->sid,
                 zx(zxid, b), i, i, zx(g->zxid, c));
    } else {
        sim_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
        g_array_append_val(s->global, e);
    }
    nd->delivered_count++;
    nd->delivered_zxid = zxid;
    zab_peer m[ZF_MAX_NODES];
    int nm = parse_reconfig(txn, len, m);
    if (nm > 0) {
        memcpy(nd->members, m, sizeof m);
        nd->nmembers = nm;
        nd->reconfig_due = true;
        sim_trace(s, "s%d activates a %d-member config at %s", nd->sid, nm, zx(zxid, b));
    }
    if (s->generate && zab_next_zxid(nd->z) >= 0 && rng_chance(&s->rng, 10)) {
        /* a client's write waited behind a read behind this commit */
        int w = nd->idx << 16 | (nd->incarnation & 0xffff);
        g_array_append_val(s->work, w);
    }
    return 0;
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

/* A snapshot's log reset: every entry goes (those <= the snapshot are in it). */
static void clear_log(sim_node *nd, int64_t base)
{
    nd->log_base = base;
    for (guint i = 0; i < nd->log->len; i++) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, i);
        note_dropped(nd->s, nd, e, false);
        g_free(e->payload);
    }
    g_array_set_size(nd->log, 0);
    nd->durable_len = nd->fsync_target = 0;
}

static int cb_snapshot_install(void *ctx, int64_t zxid, const uint8_t *blob, size_t len)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    char b[32];
    snap_blob sb;
    sim_trace(s, "s%d installs snapshot %s", nd->sid, zx(zxid, b));
    nd->sync_msgs[ZAB_MSG_SNAP]++;
    if (len != sizeof sb) {
        sim_violation(s, "server %d got a bad snapshot blob", nd->sid);
        return 0;
    }
    memcpy(&sb, blob, sizeof sb);
    if (sb.zxid != zxid || sb.count > s->global->len ||
        (sb.count > 0 && g_array_index(s->global, sim_entry, sb.count - 1).zxid != zxid)) {
        sim_violation(s, "server %d got a snapshot that is not a committed prefix", nd->sid);
        return 0;
    }
    nd->snap_zxid = zxid;
    nd->snap_count = sb.count;
    nd->delivered_count = sb.count;
    nd->delivered_zxid = zxid;
    zab_peer m[ZF_MAX_NODES];
    int nm = config_at(s, sb.count, m);
    if (nm > 0 && (nm != nd->nmembers || memcmp(m, nd->members, sizeof(zab_peer) * (size_t)nm))) {
        memcpy(nd->members, m, sizeof(zab_peer) * (size_t)nm);
        nd->nmembers = nm;
        nd->reconfig_due = true;
    }
    if (hold_cut(nd, zxid, true))
        return ZAB_IO_PENDING;   /* the snapshot is durable; the old log waits */
    clear_log(nd, zxid);
    return 0;
}

/* As quorum.c's peer_set_leader: a learner dials its leader's quorum port
 * (connect + hello: a round trip), a node that leads or looks dials none. */
static void dial_leader(sim_node *nd, int leader_sid)
{
    sim *s = nd->s;
    if (nd->qlink_sid == leader_sid)
        return;
    nd->qlink_sid = leader_sid;
    nd->qlink_up = false;
    nd->qlink_gen++;
    if (leader_sid <= 0)
        return;
    for (int j = 0; j < s->n; j++)
        if (s->nodes[j].sid == leader_sid) {
            sim_event *e = ev_new(s, EV_LINKUP, s->now + rng_range(&s->rng, 2 * s->p.delay_min,
                                                                     2 * s->p.delay_max + 1), nd->idx);
            e->from = j;
            e->link_gen = nd->qlink_gen;
            heap_push(s, e);
        }
}

static void cb_role(void *ctx, zab_role role, int leader, uint32_t epoch)
{
    sim_node *nd = ctx;
    sim *s = nd->s;
    sim_trace(s, "s%d %s leader=%d epoch=%u%s", nd->sid, zab_role_name(role), leader, epoch,
          nd->z && zab_serving(nd->z) ? " serving" : "");
    dial_leader(nd, role == ZAB_FOLLOWING || role == ZAB_OBSERVING ? leader : 0);
    if (role == ZAB_LEADING && epoch != 0) {
        gpointer old;
        if (g_hash_table_lookup_extended(s->epoch_leader, GUINT_TO_POINTER(epoch), NULL, &old)) {
            if (GPOINTER_TO_INT(old) != nd->sid)
                sim_violation(s, "epoch %u established by server %d and by server %d", epoch,
                     GPOINTER_TO_INT(old), nd->sid);
        } else {
            g_hash_table_insert(s->epoch_leader, GUINT_TO_POINTER(epoch),
                                GINT_TO_POINTER(nd->sid));
        }
    }
}

/* The fsync returned: the held cut, then the appends behind it, and the
 * cut's durability to the core (as quorum.c's run_held). */
static void run_held(sim_node *nd)
{
    GArray *ops = nd->held;
    nd->held = g_array_new(FALSE, FALSE, sizeof(sim_entry));
    int64_t report = -1;
    guint last_snap = 0;    /* 1 + index of the last snapshot reset held, or 0 */
    for (guint i = 0; i < ops->len; i++) {
        sim_entry *op = &g_array_index(ops, sim_entry, i);
        if (op->zxid < 0 && op->len == 1)
            last_snap = i + 1;
    }
    for (guint i = 0; i < ops->len; i++) {
        sim_entry *op = &g_array_index(ops, sim_entry, i);
        if (op->zxid < 0) {
            int64_t after = -op->zxid - 1;
            bool snap = op->len == 1;
            if (snap)
                clear_log(nd, after);
            else
                do_cut(nd, after, i + 1 < last_snap);
            if (snap || nd->durable_len == nd->log->len)
                report = after;    /* every entry <= after is synced (or in the snapshot) */
            else if (nd->durable_len > 0)
                report = g_array_index(nd->log, sim_entry, nd->durable_len - 1).zxid;
            else
                report = nd->snap_zxid;
            op->len = 0;
        } else {
            cb_log_append(nd, op->zxid, op->payload, op->len);
        }
        g_free(op->payload);
    }
    g_array_free(ops, TRUE);
    if (report >= 0)
        zab_log_durable(nd->z, report, nd->s->now);
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

void sim_boot_node(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    zab_peer view[ZF_MAX_NODES + 1];
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
    if (last < nd->snap_zxid)
        last = nd->snap_zxid;   /* a crash before a held snapshot's log reset (as quorum.c) */
    nd->z = zab_new(&cfg, &io, nd->accepted, nd->current, last, nd->snap_zxid);
    /* After the snapshot only, as quorum.c replays (txnlog_replay after
     * snap_zxid): a crash after a SNAP install but before the old log's
     * reset leaves older entries that are not contiguous with the snapshot,
     * and must not become the history (seed 5486). */
    for (guint k = 0; k < nd->log->len; k++) {
        sim_entry *e = &g_array_index(nd->log, sim_entry, k);
        if (e->zxid > nd->snap_zxid)
            zab_load_history(nd->z, e->zxid, e->payload, e->len);
    }
    nd->durable_len = nd->log->len;   /* what survived is on disk */
    nd->fsync_pending = false;
    nd->reconfig_due = false;
    for (int j = 0; j < s->n; j++)
        nd->prev_role[j] = member_role(view, nview, s->nodes[j].sid);
    nd->up = true;
    nd->incarnation++;
    char b[32], c[32];
    sim_trace(s, "s%d boots: epochs %u/%u, %u log entries up to %s, snapshot #%u at %s", nd->sid,
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

void sim_crash_node(sim *s, int i, bool keep_some_unsynced)
{
    sim_node *nd = &s->nodes[i];
    if (!nd->up)
        return;
    if (zab_protocol_errors(nd->z))
        sim_violation(s, "server %d reported %" G_GUINT64_FORMAT " protocol errors", nd->sid,
             zab_protocol_errors(nd->z));
    zab_free(nd->z);
    nd->z = NULL;
    nd->up = false;
    nd->fail_fsync = nd->fail_persist = false;   /* the restart comes with a repaired disk */
    nd->incarnation++;
    guint keep = nd->durable_len;
    if (keep_some_unsynced && nd->log->len > keep)
        keep += (guint)rng_range(&s->rng, 0, nd->log->len - keep);
    for (guint k = keep; k < nd->log->len; k++)
        g_free(g_array_index(nd->log, sim_entry, k).payload);
    sim_trace(s, "s%d crashes, keeps %u of %u log entries (%u synced)", nd->sid, keep, nd->log->len,
          nd->durable_len);
    g_array_set_size(nd->log, keep);
    nd->durable_len = keep;
    nd->fsync_pending = false;
    for (guint k = 0; k < nd->held->len; k++)   /* held cuts and appends were volatile */
        g_free(g_array_index(nd->held, sim_entry, k).payload);
    g_array_set_size(nd->held, 0);
    for (int j = 0; j < s->n; j++)
        if (j != i)
            break_link(s, i, j);
}

/* The host snapshots its state and drops the log entries it covers. */
void sim_snapshot_node(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    /* (not while a cut is held: the model's log would then start after
     * entries that are still to be appended) */
    if (!nd->up || nd->delivered_count == nd->snap_count || nd->held->len)
        return;
    nd->snap_count = nd->delivered_count;
    nd->snap_zxid = nd->delivered_zxid;
    guint drop = 0;
    while (drop < nd->log->len && g_array_index(nd->log, sim_entry, drop).zxid <= nd->snap_zxid)
        g_free(g_array_index(nd->log, sim_entry, drop++).payload);
    g_array_remove_range(nd->log, 0, drop);
    nd->log_base = nd->snap_zxid;
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

void sim_heal(sim *s)
{
    bool side[ZF_MAX_NODES] = { 0 };
    set_partition(s, side);
    memset(s->stalled, 0, sizeof s->stalled);
}

/* ---- the event loop ------------------------------------------------------ */

int sim_leader_index(sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && zab_next_zxid(s->nodes[i].z) >= 0)
            return i;
    return -1;
}

void sim_propose(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    int64_t zxid = zab_next_zxid(nd->z);
    if (zxid < 0)
        return;
    char payload[64];
    int len = snprintf(payload, sizeof payload, "seed%" G_GUINT64_FORMAT "-w%" G_GUINT64_FORMAT,
                       s->seed, s->proposals++);
    char b[32];
    sim_trace(s, "s%d proposes %s", nd->sid, zx(zxid, b));
    if (zab_propose(nd->z, zxid, (const uint8_t *)payload, (size_t)len, s->now) != 0)
        sim_violation(s, "server %d refused a proposal at its next zxid", nd->sid);
}

static void random_fault(sim *s)
{
    int i = (int)rng_range(&s->rng, 0, s->n - 1);
    int kind = (int)rng_range(&s->rng, 0, 119);
    if (kind < 25) {
        if (!s->nodes[i].up)
            return;
        sim_crash_node(s, i, rng_chance(&s->rng, 50));
        heap_push(s, ev_new(s, EV_RESTART, s->now + rng_range(&s->rng, 100, 3000), i));
    } else if (kind < 45) {
        bool side[ZF_MAX_NODES];
        for (int k = 0; k < s->n; k++)
            side[k] = rng_chance(&s->rng, 50);
        sim_trace(s, "partition");
        set_partition(s, side);
        heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
    } else if (kind < 65) {
        int j = (int)rng_range(&s->rng, 0, s->n - 1);
        if (j != i) {
            sim_trace(s, "link s%d-s%d breaks", s->nodes[i].sid, s->nodes[j].sid);
            break_link(s, i, j);
        }
    } else if (kind < 80) {
        sim_snapshot_node(s, i);
    } else if (kind >= 100 && kind < 108) {
        int j = (int)rng_range(&s->rng, 0, s->n - 1);
        if (j != i) {
            sim_trace(s, "link s%d->s%d stalls one way", s->nodes[i].sid, s->nodes[j].sid);
            s->stalled[i][j] = true;
            heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
        }
    } else if (kind >= 108 && kind < 114) {
        if (s->nodes[i].up && s->paused_until[i] <= s->now) {
            s->paused_until[i] = s->now + rng_range(&s->rng, 200, 4000);
            sim_trace(s, "s%d paused until %" G_GINT64_FORMAT, s->nodes[i].sid, s->paused_until[i]);
        }
    } else if (kind >= 114) {
        /* random pairs cut: not a clean two-sided split */
        sim_trace(s, "partial partition");
        for (int a = 0; a < s->n; a++)
            for (int b = a + 1; b < s->n; b++)
                if (rng_chance(&s->rng, 35) && !s->cut[a][b]) {
                    s->cut[a][b] = s->cut[b][a] = true;
                    break_link(s, a, b);
                }
        heap_push(s, ev_new(s, EV_HEAL, s->now + rng_range(&s->rng, 200, 3000), -1));
    } else if (kind >= 96 && kind < 100) {
        /* the disk fails the next fsync or epoch write of node i */
        if (s->nodes[i].up) {
            if (kind < 98)
                s->nodes[i].fail_fsync = true;
            else
                s->nodes[i].fail_persist = true;
        }
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
            sim_violation(s, "server %d reported a protocol error", nd->sid);
        if (zab_reentries(nd->z))
            sim_violation(s, "server %d: its core was re-entered from a callback", nd->sid);
        zab_role r = zab_get_role(nd->z);
        if ((r == ZAB_FOLLOWING || r == ZAB_OBSERVING) && zab_serving(nd->z)) {
            gpointer who;
            uint32_t e = zab_epoch(nd->z);
            if (!g_hash_table_lookup_extended(s->epoch_leader, GUINT_TO_POINTER(e), NULL, &who) ||
                GPOINTER_TO_INT(who) != zab_leader(nd->z))
                sim_violation(s, "server %d serves epoch %u under %d, which did not establish it",
                     nd->sid, e, zab_leader(nd->z));
        }
    }
}

/* Returns false if e must wait (paused target, stalled direction). */
static bool deferred(sim *s, sim_event *e)
{
    if (e->node < 0 || (e->kind != EV_MSG && e->kind != EV_FSYNC && e->kind != EV_TICK &&
                        e->kind != EV_LINKUP))
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
                sim_trace(s, "s%d -> s%d NOTIFICATION %s vote=%d zxid=%s epoch=%u round=%" G_GUINT64_FORMAT,
                      s->nodes[e->from].sid, nd->sid, zab_role_name(e->msg.state), e->msg.leader,
                      zx(e->msg.zxid, b), e->msg.epoch, e->msg.election_epoch);
            else
                sim_trace(s, "s%d -> s%d %s zxid=%s epoch=%u", s->nodes[e->from].sid, nd->sid,
                      zab_msg_type_name(e->msg.type), zx(e->msg.zxid, b), e->msg.epoch);
        }
        zab_recv(nd->z, s->nodes[e->from].sid, &e->msg, s->now);
        break;
    case EV_FSYNC:
        if (!nd->up || e->incarnation != nd->incarnation || !nd->fsync_pending)
            break;
        nd->fsync_pending = false;
        if (nd->fail_fsync) {
            /* EIO: what this batch wrote may or may not be on disk */
            nd->fail_fsync = false;
            sim_trace(s, "s%d: fsync fails", nd->sid);
            zab_log_failed(nd->z, s->now);
            break;          /* run_work fail-stops the node */
        }
        if (nd->fsync_target > nd->durable_len)
            nd->durable_len = nd->fsync_target;
        if (nd->held->len)
            run_held(nd);
        else if (nd->durable_len > 0)
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
                sim_propose(s, i);
        heap_push(s, ev_new(s, EV_PROPOSE,
                            s->now + rng_range(&s->rng, s->p.propose_min, s->p.propose_max), -1));
        break;
    case EV_RESTART:
        if (!nd->up && s->generate)
            sim_boot_node(s, e->node);
        break;
    case EV_HEAL:
        if (s->generate) {
            sim_trace(s, "heal");
            sim_heal(s);
        }
        break;
    case EV_LINKUP: {
        sim_node *ld = &s->nodes[e->from];
        if (!nd->up || e->incarnation != nd->incarnation || e->link_gen != nd->qlink_gen ||
            nd->qlink_up)
            break;          /* a dial of an earlier session */
        if (!ld->up || s->cut[e->node][e->from] || s->cut[e->from][e->node] ||
            s->paused_until[e->from] > s->now) {
            /* refused or unanswered: peer_tick dials again */
            sim_event *again = ev_new(s, EV_LINKUP, s->now + 200, e->node);
            again->from = e->from;
            again->link_gen = e->link_gen;
            heap_push(s, again);
            break;
        }
        nd->qlink_up = true;
        sim_trace(s, "s%d: quorum link to s%d up", nd->sid, ld->sid);
        zab_peer_up(ld->z, nd->sid, s->now);
        zab_peer_up(nd->z, ld->sid, s->now);
        break;
    }
    }
}

/* Proposals made by host work queued in a delivery, and fail-stops after
 * an injected disk fault (all seeds of a run). */
static uint64_t work_proposals, fail_stop_count;

/* A node's core failed: the host stops the process (fail-stop), which
 * keeps what is on disk (the unsynced tail in part or not at all); a
 * supervisor restarts it later while faults are on. */
static void fail_stop(sim *s, int i)
{
    sim_node *nd = &s->nodes[i];
    sim_trace(s, "s%d fail-stops: %s", nd->sid, zab_failure(nd->z));
    nd->fail_stops++;
    fail_stop_count++;
    sim_crash_node(s, i, rng_chance(&s->rng, 50));
    if (s->generate)
        heap_push(s, ev_new(s, EV_RESTART, s->now + rng_range(&s->rng, 100, 3000), i));
}

/* Runs the host work the callbacks queued (after the core returned). */
void sim_counters(uint64_t *proposals_from_work, uint64_t *fail_stops)
{
    *proposals_from_work = work_proposals;
    *fail_stops = fail_stop_count;
}

static void run_work(sim *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->nodes[i].up && zab_failed(s->nodes[i].z))
            fail_stop(s, i);
    for (guint k = 0; k < s->work->len && !s->failure; k++) {
        int w = g_array_index(s->work, int, k);
        sim_node *nd = &s->nodes[w >> 16];
        if (nd->up && (nd->incarnation & 0xffff) == (w & 0xffff) && zab_next_zxid(nd->z) >= 0)
        {
            sim_propose(s, w >> 16);   /* may queue more: this loop takes it */
            work_proposals++;
        }
    }
    g_array_set_size(s->work, 0);
}

/* Runs events until virtual time t (or a violation). */
void sim_run_until(sim *s, int64_t t)
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
        run_work(s);
        check_step(s);
    }
    if (s->now < t)
        s->now = t;
}

sim *sim_new(uint64_t seed, const sim_params *p, bool verbose)
{
    sim *s = g_new0(sim, 1);
    s->seed = seed;
    s->rng = seed * 0x2545f4914f6cdd1dull + 1;
    s->p = *p;
    s->n = p->nvoters + p->nobservers;
    g_assert(s->n <= ZF_MAX_NODES);
    s->heap = g_ptr_array_new();
    s->global = g_array_new(FALSE, FALSE, sizeof(sim_entry));
    s->epoch_leader = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->skipped = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    s->trace = g_queue_new();
    s->work = g_array_new(FALSE, FALSE, sizeof(int));
    s->verbose = verbose;
    for (int i = 0; i < s->n; i++) {
        sim_node *nd = &s->nodes[i];
        nd->s = s;
        nd->idx = i;
        nd->sid = i + 1;
        nd->observer = i >= p->nvoters;
        nd->log = g_array_new(FALSE, FALSE, sizeof(sim_entry));
        nd->held = g_array_new(FALSE, FALSE, sizeof(sim_entry));
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
    memcpy(s->initial, s->peers, sizeof(zab_peer) * (size_t)s->n);
    s->ninitial = s->n;
    return s;
}

static void free_entries(GArray *a)
{
    for (guint i = 0; i < a->len; i++)
        g_free(g_array_index(a, sim_entry, i).payload);
    g_array_free(a, TRUE);
}

void sim_free(sim *s)
{
    for (int i = 0; i < s->n; i++) {
        zab_free(s->nodes[i].z);
        free_entries(s->nodes[i].log);
        free_entries(s->nodes[i].held);
    }
    sim_event *e;
    while ((e = heap_pop(s)))
        ev_free(e);
    g_ptr_array_free(s->heap, TRUE);
    free_entries(s->global);
    g_hash_table_destroy(s->epoch_leader);
    g_hash_table_destroy(s->skipped);
    g_queue_free_full(s->trace, g_free);
    g_array_free(s->work, TRUE);
    g_free(s->failure);
    g_free(s);
}

void sim_print_failure(sim *s)
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
    int leader = sim_leader_index(s);
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
    sim_heal(s);
    for (int i = 0; i < s->n; i++)
        s->nodes[i].fail_fsync = s->nodes[i].fail_persist = false;
    memset(s->paused_until, 0, sizeof s->paused_until);
    for (int i = 0; i < s->n; i++)
        if (!s->nodes[i].up)
            sim_boot_node(s, i);
    int64_t deadline = s->now + 60000;
    while (!s->failure && !converged(s) && s->now < deadline)
        sim_run_until(s, s->now + 100);
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
        sim_violation(s, "liveness: no convergence 60 s after healing (global #%u):%s", s->global->len,
             st->str);
        g_string_free(st, TRUE);
        return;
    }
    int64_t want = zab_next_zxid(s->nodes[sim_leader_index(s)].z);
    sim_propose(s, sim_leader_index(s));
    deadline = s->now + 10000;
    while (!s->failure && s->now < deadline) {
        sim_run_until(s, s->now + 100);
        bool all = true;
        for (int i = 0; i < s->n; i++)
            all = all && (!final_member(s, s->nodes[i].sid) ||
                          (s->nodes[i].delivered_zxid == want &&
                           s->nodes[i].delivered_count == s->global->len));
        if (all)
            return;
    }
    if (!s->failure)
        sim_violation(s, "liveness: the final write was not delivered everywhere");
}

void sim_check_liveness(sim *s)
{
    liveness(s);
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
bool sim_run_seed(uint64_t seed, bool verbose)
{
    sim_params p;
    random_params(seed, &p);
    sim *s = sim_new(seed, &p, verbose);
    sim_trace(s, "seed %" G_GUINT64_FORMAT ": %d voters, %d observers, delay %d-%d ms, history %d",
          seed, p.nvoters, p.nobservers, p.delay_min, p.delay_max, p.history_limit);
    s->generate = true;
    for (int i = 0; i < s->n; i++)
        heap_push(s, ev_new(s, EV_RESTART, rng_range(&s->rng, 0, 500), i));
    heap_push(s, ev_new(s, EV_FAULT, 1500, -1));
    heap_push(s, ev_new(s, EV_PROPOSE, 600, -1));
    sim_run_until(s, p.duration_ms);
    if (!s->failure)
        liveness(s);
    for (int i = 0; i < s->n && !s->failure; i++)
        if (s->nodes[i].up && zab_protocol_errors(s->nodes[i].z))
            sim_violation(s, "server %d reported protocol errors", s->nodes[i].sid);
    bool ok = !s->failure;
    if (!ok)
        sim_print_failure(s);
    else if (verbose)
        printf("seed %" G_GUINT64_FORMAT " ok: %u entries committed, %" G_GUINT64_FORMAT
               " proposed, %u epochs\n", seed, s->global->len, s->proposals,
               g_hash_table_size(s->epoch_leader));
    sim_free(s);
    return ok;
}

