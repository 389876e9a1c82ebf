/*
 * zab_leader.c — the leader side of Zab.
 *
 * Discovery: collect FOLLOWERINFO from a quorum, propose epoch = 1 + the
 * highest acceptedEpoch seen, and wait for a quorum of FRESH ACKEPOCHs (a
 * learner that had already accepted this epoch does not count, so two
 * leaders can never both establish one epoch).  A learner with a more recent
 * history than mine makes me step down.  Sync: per learner DIFF, TRUNC (its
 * tail is not in my history) or SNAP (it is behind my history window), then
 * my entries and NEWLEADER; once a quorum ACKed NEWLEADER and my own log is
 * durable the epoch is established: everything I logged is committed and
 * UPTODATE goes out.  Broadcast: per-learner FIFO of PROPOSALs, commit at a
 * quorum of ACKs (mine counts once fsynced), COMMIT to followers, INFORM to
 * observers.  A leader without a live synced quorum within syncLimit steps
 * down; discovery+sync must finish within initLimit ticks each.
 */
#include "zab_internal.h"

#include <stdlib.h>
#include <string.h>

static void send_to(zab *z, int idx, zab_msg *m)
{
    m->session = z->learners[idx].session;
    zab_send(z, z->peers[idx].sid, m);
}

static void reset_learner(zab *z, int idx)
{
    zab_learner *l = &z->learners[idx];
    memset(l, 0, sizeof *l);
    l->phase = LRN_NONE;
    l->acked = -1;
}

void zab_leader_stop(zab *z)
{
    z->epoch_unpersisted = false;
    zab_reconfig_clear(z);
    for (int i = 0; i < z->cfg.npeers; i++) {
        reset_learner(z, i);
        z->epoch_acked[i] = false;
    }
}

static void step_down(zab *z, int64_t now)
{
    zab_become_looking(z, now);
}

static void send_leaderinfo(zab *z, int idx)
{
    zab_msg m = { .type = ZAB_MSG_LEADERINFO, .epoch = z->new_epoch };
    z->learners[idx].phase = LRN_EPOCH_SENT;
    send_to(z, idx, &m);
}

/* Sends entries (from, last_logged] to idx as PROPOSALs. */
static void send_entries_after(zab *z, int idx, int64_t from)
{
    for (guint i = zab_hist_after(z, from); i < zab_hist_count(z); i++) {
        zab_entry *e = zab_hist_at(z, i);
        zab_msg m = { .type = ZAB_MSG_PROPOSAL, .zxid = e->zxid, .data = e->txn, .len = e->len };
        send_to(z, idx, &m);
    }
}

static uint32_t epoch_of(int64_t zxid)
{
    return (uint32_t)((uint64_t)zxid >> 32);
}

/* Tells the host which sync a learner gets (for its log). */
static void note_sync(zab *z, int idx, int type, int64_t from)
{
    if (z->io.sync_chosen)
        z->io.sync_chosen(z->io.ctx, z->peers[idx].sid, type, z->learners[idx].last_zxid, from);
}

/* Sends a SNAP of my delivered state; false if the host cannot. */
static bool send_snap(zab *z, int idx)
{
    if (!z->io.snapshot_take)
        return false;
    int64_t snap_zxid = -1;
    uint8_t *blob = NULL;
    size_t len = 0;
    z->io.snapshot_take(z->io.ctx, &snap_zxid, &blob, &len);
    if (snap_zxid < z->hist_base || snap_zxid > z->last_logged) {
        g_free(blob);       /* entries after it are not all in my window */
        return false;
    }
    zab_msg m = { .type = ZAB_MSG_SNAP, .zxid = snap_zxid, .data = blob, .len = len };
    note_sync(z, idx, ZAB_MSG_SNAP, snap_zxid);
    send_to(z, idx, &m);
    g_free(blob);
    send_entries_after(z, idx, snap_zxid);
    return true;
}

/* My last zxid in epoch e (the history base counts), or -1. */
static int64_t my_last_in_epoch(zab *z, uint32_t e)
{
    int64_t end = (int64_t)((uint64_t)e << 32 | 0xffffffffu);
    guint i = zab_hist_after(z, end);
    int64_t cand = i > 0 ? zab_hist_at(z, i - 1)->zxid : z->hist_base;
    return epoch_of(cand) == e ? cand : -1;
}

/*
 * The last zxid both logs hold.  Two logs that both hold entries of epoch e
 * are prefixes of the one sequence e's leader built, so they agree up to the
 * smaller of their last zxids in e; the learner reported where each of its
 * newest epochs ends.  -1 if no reported epoch is one I can see.
 */
static int64_t common_point(zab *z, const zab_learner *l)
{
    for (int k = 0; k < l->nepoch_lasts; k++) {
        int64_t theirs = l->epoch_lasts[k];
        if (theirs == z->hist_base || zab_hist_find(z, theirs) >= 0)
            return theirs;
        int64_t mine = my_last_in_epoch(z, epoch_of(theirs));
        if (mine >= 0)
            return mine < theirs ? mine : theirs;
    }
    return -1;
}

/* Chooses DIFF / TRUNC / SNAP for a learner; false if nothing fits. */
static bool sync_learner(zab *z, int idx)
{
    zab_learner *l = &z->learners[idx];
    int64_t peer = l->last_zxid;
    int64_t common = peer;
    if (!(peer == z->hist_base || zab_hist_find(z, peer) >= 0))
        common = common_point(z, l);
    if (common >= z->hist_base && common == peer) {
        zab_msg m = { .type = ZAB_MSG_DIFF, .zxid = peer };
        note_sync(z, idx, ZAB_MSG_DIFF, peer);
        send_to(z, idx, &m);
        send_entries_after(z, idx, peer);
        return true;
    }
    if (common >= z->hist_base) {
        zab_msg m = { .type = ZAB_MSG_TRUNC, .zxid = common };
        note_sync(z, idx, ZAB_MSG_TRUNC, common);
        send_to(z, idx, &m);
        send_entries_after(z, idx, common);
        return true;
    }
    /* behind my window, or no epoch in common: everything after the common
     * point (if any) is not in my history, so not committed */
    return send_snap(z, idx);
}

/* Syncs a learner that acked the epoch, then sends NEWLEADER. */
static void start_sync(zab *z, int idx)
{
    zab_learner *l = &z->learners[idx];
    if (!sync_learner(z, idx)) {
        reset_learner(z, idx);   /* it will time out and come back */
        return;
    }
    zab_msg nl = { .type = ZAB_MSG_NEWLEADER, .epoch = z->new_epoch, .zxid = z->last_logged };
    send_to(z, idx, &nl);
    l->sync_point = z->last_logged;
    l->acked = -1;
    l->phase = LRN_SYNCING;
}

static int64_t my_durable(const zab *z)
{
    return z->durable < z->last_logged ? z->durable : z->last_logged;
}

/* currentEpoch reaches the disk only once my log up to the sync point does. */
static void persist_epoch_if_durable(zab *z)
{
    if (!z->epoch_unpersisted || my_durable(z) < z->initial_last)
        return;
    z->epoch_unpersisted = false;
    z->current_epoch = z->new_epoch;
    zab_persist_epochs(z);  /* a failure stops the core */
}

static void send_uptodate(zab *z, int idx)
{
    zab_msg m = { .type = ZAB_MSG_UPTODATE, .zxid = z->commit_point };
    z->learners[idx].uptodate_sent = true;
    send_to(z, idx, &m);
}

static void check_established(zab *z, int64_t now)
{
    (void)now;
    if (z->ldphase != LD_SYNC)
        return;
    int n = my_durable(z) >= z->initial_last ? 1 : 0;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (i != z->me && zab_counts_index(z, i) && z->learners[i].phase == LRN_SYNCED)
            n++;
    if (n < z->quorum)
        return;
    z->ldphase = LD_BROADCAST;
    z->next_counter = z->cfg.first_counter ? z->cfg.first_counter : 1;
    z->commit_point = z->initial_last;
    zab_deliver_upto(z, z->commit_point);
    for (int i = 0; i < z->cfg.npeers; i++)
        if (z->learners[i].phase == LRN_SYNCED && !z->learners[i].uptodate_sent)
            send_uptodate(z, i);
    zab_report_role(z);
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* Commits up to the highest zxid a quorum has durably logged. */
static void try_commit(zab *z)
{
    if (z->ldphase != LD_BROADCAST)
        return;
    int64_t acks[256];
    int n = 0;
    if (z->cfg.npeers > 256)
        return;
    acks[n++] = my_durable(z);
    for (int i = 0; i < z->cfg.npeers; i++)
        if (i != z->me && zab_counts_index(z, i) && z->learners[i].phase == LRN_SYNCED)
            acks[n++] = z->learners[i].acked;
    if (n < z->quorum)
        return;
    qsort(acks, (size_t)n, sizeof acks[0], cmp_desc);
    int64_t candidate = acks[z->quorum - 1];
    if (z->rc_zxid > 0)
        candidate = zab_reconfig_commit_bound(z, candidate, my_durable(z));
    if (candidate <= z->commit_point)
        return;
    int64_t old = z->commit_point;
    z->commit_point = candidate;
    /* observers: COMMIT for what their sync already carried, INFORM after */
    for (int i = 0; i < z->cfg.npeers; i++) {
        zab_learner *l = &z->learners[i];
        if (i == z->me || l->phase < LRN_SYNCING)
            continue;
        if (!l->as_observer) {
            zab_msg m = { .type = ZAB_MSG_COMMIT, .zxid = candidate };
            send_to(z, i, &m);
            continue;
        }
        if (old < l->sync_point) {
            zab_msg m = { .type = ZAB_MSG_COMMIT,
                          .zxid = candidate < l->sync_point ? candidate : l->sync_point };
            send_to(z, i, &m);
        }
        int64_t from = old > l->sync_point ? old : l->sync_point;
        for (guint k = zab_hist_after(z, from); k < zab_hist_count(z); k++) {
            zab_entry *e = zab_hist_at(z, k);
            if (e->zxid > candidate)
                break;
            zab_msg m = { .type = ZAB_MSG_INFORM, .zxid = e->zxid, .data = e->txn, .len = e->len };
            send_to(z, i, &m);
        }
    }
    zab_deliver_upto(z, candidate);
}

static void finish_discovery(zab *z, int64_t now)
{
    z->ldphase = LD_SYNC;
    z->initial_last = z->last_logged;
    z->epoch_unpersisted = true;
    persist_epoch_if_durable(z);
    z->phase_deadline = now + zab_tick_ms(z, z->cfg.init_limit);
    zab_report_role(z);
    for (int i = 0; i < z->cfg.npeers; i++)
        if (z->learners[i].phase == LRN_EPOCH_ACKED)
            start_sync(z, i);
    check_established(z, now);
}

static void check_epoch_quorum(zab *z, int64_t now)
{
    if (z->ldphase != LD_DISCOVERY || z->new_epoch == 0)
        return;
    int n = 0;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (zab_counts_index(z, i) && z->epoch_acked[i])
            n++;
    if (n >= z->quorum)
        finish_discovery(z, now);
}

/* Once a quorum of voters (me included) registered: propose the epoch. */
static void try_propose_epoch(zab *z, int64_t now)
{
    if (z->ldphase != LD_DISCOVERY || z->new_epoch != 0)
        return;
    int n = 1;
    uint32_t max_epoch = z->accepted_epoch;
    for (int i = 0; i < z->cfg.npeers; i++) {
        zab_learner *l = &z->learners[i];
        if (i == z->me || l->phase == LRN_NONE)
            continue;
        if (zab_counts_index(z, i))
            n++;
        if (l->accepted_epoch > max_epoch)
            max_epoch = l->accepted_epoch;
    }
    if (n < z->quorum)
        return;
    if (max_epoch == UINT32_MAX) {
        step_down(z, now);
        return;
    }
    z->new_epoch = max_epoch + 1;
    z->accepted_epoch = z->new_epoch;
    if (!zab_persist_epochs(z))
        return;
    z->epoch_acked[z->me] = true;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (i != z->me && z->learners[i].phase == LRN_INFO)
            send_leaderinfo(z, i);
    check_epoch_quorum(z, now);
}

static void on_info(zab *z, int idx, const zab_msg *m, int64_t now);

void zab_leader_start(zab *z, int64_t now)
{
    zab_leader_stop(z);
    z->ldphase = LD_DISCOVERY;
    z->new_epoch = 0;
    z->phase_deadline = now + zab_tick_ms(z, z->cfg.init_limit);
    z->next_ping_ms = now;
    /* the infos that came while I was still deciding, as if they came now */
    for (int i = 0; i < z->cfg.npeers; i++) {
        zab_early_info e = z->early[i];
        z->early[i].valid = false;
        if (!e.valid || i == z->me || z->role != ZAB_LEADING || z->failed)
            continue;
        zab_msg m = { .type = e.type, .epoch = e.epoch, .zxid = e.zxid, .session = e.session };
        on_info(z, i, &m, now);
    }
    if (z->role == ZAB_LEADING && !z->failed)
        try_propose_epoch(z, now);
}

static void on_info(zab *z, int idx, const zab_msg *m, int64_t now)
{
    zab_learner *l = &z->learners[idx];
    /* A learner registers in the role its own view gives it; after a
     * reconfig that is its old role until it activates the change and
     * re-joins: it is served in that role and counts only as a follower
     * that is a voter in my view (zab_counts_index). */
    if (l->phase != LRN_NONE && l->session == m->session)
        return;             /* a repeat of the registration I am handling */
    if (z->new_epoch != 0 && m->epoch > z->new_epoch) {
        /* It accepted a newer epoch than mine (from a leader that did not
         * establish it): it can never take my LEADERINFO, and the elections
         * it starts keep finding me.  Apache 3.8 loops here for good (the
         * learner's "Leaders epoch ... is less than accepted epoch", back
         * to LOOKING, back to me); stepping down lets the next discovery
         * propose an epoch above every accepted one (seed 16668). */
        z->epoch_stepdowns++;
        step_down(z, now);
        return;
    }
    reset_learner(z, idx);
    l->as_observer = m->type == ZAB_MSG_OBSERVERINFO;
    l->phase = LRN_INFO;
    l->session = m->session;
    l->accepted_epoch = m->epoch;
    l->last_zxid = m->zxid;
    l->last_heard_ms = now;
    if (z->new_epoch != 0)
        send_leaderinfo(z, idx);
    else
        try_propose_epoch(z, now);
}

static void on_ackepoch(zab *z, int idx, const zab_msg *m, int64_t now)
{
    zab_learner *l = &z->learners[idx];
    if (l->phase != LRN_EPOCH_SENT || m->acked_epoch != z->new_epoch)
        return;
    l->last_zxid = m->zxid;
    l->nepoch_lasts = 0;
    for (size_t k = 0; k + 8 <= m->len && l->nepoch_lasts < ZAB_EPOCH_LASTS; k += 8) {
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v = v << 8 | m->data[k + (size_t)b];
        l->epoch_lasts[l->nepoch_lasts++] = (int64_t)v;
    }
    if (z->ldphase == LD_DISCOVERY) {
        if (m->epoch > z->current_epoch ||
            (m->epoch == z->current_epoch && m->zxid > z->last_logged)) {
            step_down(z, now);  /* it knows more than I do: I must not lead */
            return;
        }
        l->phase = LRN_EPOCH_ACKED;
        if (m->fresh && zab_counts_index(z, idx))
            z->epoch_acked[idx] = true;
        check_epoch_quorum(z, now);
        return;
    }
    start_sync(z, idx);
}

static void on_ack(zab *z, int idx, const zab_msg *m, int64_t now)
{
    zab_learner *l = &z->learners[idx];
    if (l->phase == LRN_SYNCING) {
        if (m->zxid < l->sync_point)
            return;
        l->phase = LRN_SYNCED;
        l->acked = m->zxid;
        if (z->ldphase == LD_BROADCAST) {
            send_uptodate(z, idx);
            try_commit(z);
        } else {
            check_established(z, now);
        }
    } else if (l->phase == LRN_SYNCED) {
        if (m->zxid > l->acked)
            l->acked = m->zxid;
        try_commit(z);
    }
}

void zab_leader_recv(zab *z, int idx, const zab_msg *m, int64_t now)
{
    zab_learner *l = &z->learners[idx];
    if (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO) {
        on_info(z, idx, m, now);
        return;
    }
    if (l->phase == LRN_NONE || m->session != l->session)
        return;
    l->last_heard_ms = now;
    switch (m->type) {
    case ZAB_MSG_ACKEPOCH: on_ackepoch(z, idx, m, now); break;
    case ZAB_MSG_ACK: on_ack(z, idx, m, now); break;
    default: break;         /* PING and anything else: liveness only */
    }
}

/* Voters (me included) synced and heard from within syncLimit. */
static int live_synced_voters(const zab *z, int64_t now)
{
    int n = 1;
    for (int i = 0; i < z->cfg.npeers; i++) {
        const zab_learner *l = &z->learners[i];
        if (i != z->me && zab_counts_index(z, i) && l->phase == LRN_SYNCED &&
            now - l->last_heard_ms <= zab_tick_ms(z, z->cfg.sync_limit))
            n++;
    }
    return n;
}

void zab_leader_tick(zab *z, int64_t now)
{
    if (z->ldphase != LD_BROADCAST && now >= z->phase_deadline) {
        step_down(z, now);
        return;
    }
    /* drop learners that went silent */
    for (int i = 0; i < z->cfg.npeers; i++) {
        zab_learner *l = &z->learners[i];
        if (i == z->me || l->phase == LRN_NONE)
            continue;
        int limit = l->phase == LRN_SYNCED ? z->cfg.sync_limit : z->cfg.init_limit;
        if (now - l->last_heard_ms > zab_tick_ms(z, limit))
            reset_learner(z, i);
    }
    if (z->ldphase == LD_BROADCAST && live_synced_voters(z, now) < z->quorum) {
        step_down(z, now);
        return;
    }
    /* ZOOKEEPER-1277: the epoch's counter is used up.  Once every proposal
     * is committed (or after syncLimit if commits stall) the leader steps
     * down; the election that follows starts a new epoch at counter 1.
     * Nothing acknowledged is lost: commits stand, and an uncommitted tail
     * is recovered or truncated by the new leader's sync as after any
     * leader change. */
    if (z->ldphase == LD_BROADCAST && z->next_counter > ZAB_LAST_COUNTER &&
        (z->commit_point >= z->last_logged || now >= z->exhausted_deadline)) {
        z->counter_rollovers++;
        step_down(z, now);
        return;
    }
    if (now >= z->next_ping_ms) {
        z->next_ping_ms = now + zab_tick_ms(z, 1) / 2;
        for (int i = 0; i < z->cfg.npeers; i++)
            if (i != z->me && z->learners[i].phase != LRN_NONE) {
                zab_msg m = { .type = ZAB_MSG_PING };
                send_to(z, i, &m);
            }
    }
}

void zab_leader_peer_lost(zab *z, int idx, int64_t now)
{
    reset_learner(z, idx);
    if (z->ldphase == LD_BROADCAST && live_synced_voters(z, now) < z->quorum)
        step_down(z, now);
}

void zab_leader_durable(zab *z, int64_t now)
{
    persist_epoch_if_durable(z);
    if (z->ldphase == LD_SYNC)
        check_established(z, now);
    else
        try_commit(z);
}

int zab_leader_propose(zab *z, int64_t zxid, const uint8_t *txn, size_t len, int64_t now)
{
    if (!zab_log_entry(z, zxid, txn, len))
        return -1;          /* the core is stopped: nothing is sent */
    z->next_counter++;
    if (z->next_counter > ZAB_LAST_COUNTER)
        z->exhausted_deadline = now + zab_tick_ms(z, z->cfg.sync_limit);
    for (int i = 0; i < z->cfg.npeers; i++) {
        zab_learner *l = &z->learners[i];
        if (i == z->me || l->as_observer || l->phase < LRN_SYNCING)
            continue;
        zab_msg m = { .type = ZAB_MSG_PROPOSAL, .zxid = zxid, .data = txn, .len = len };
        send_to(z, i, &m);
    }
    try_commit(z);          /* a one-voter ensemble commits at once */
    return 0;
}
