/*
 * zab.c — the Zab core's lifecycle, in-memory history window, delivery,
 * role reporting and message dispatch.  Election, leader and learner logic
 * live in zab_election.c, zab_leader.c and zab_learner.c.  Pure: no system
 * calls, no clock reads (see zab.h).
 */
#include "zab_internal.h"

#include <assert.h>
#include <stdarg.h>

#include <string.h>

/* ---- names -------------------------------------------------------------- */

const char *zab_role_name(zab_role role)
{
    switch (role) {
    case ZAB_LOOKING: return "looking";
    case ZAB_FOLLOWING: return "following";
    case ZAB_LEADING: return "leading";
    case ZAB_OBSERVING: return "observing";
    }
    return "?";
}

bool zab_msg_is_election(int type)
{
    return type == ZAB_MSG_NOTIFICATION;
}

const char *zab_msg_type_name(int type)
{
    static const char *const names[] = {
        [ZAB_MSG_NOTIFICATION] = "NOTIFICATION", [ZAB_MSG_FOLLOWERINFO] = "FOLLOWERINFO",
        [ZAB_MSG_OBSERVERINFO] = "OBSERVERINFO", [ZAB_MSG_LEADERINFO] = "LEADERINFO",
        [ZAB_MSG_ACKEPOCH] = "ACKEPOCH",         [ZAB_MSG_DIFF] = "DIFF",
        [ZAB_MSG_TRUNC] = "TRUNC",               [ZAB_MSG_SNAP] = "SNAP",
        [ZAB_MSG_PROPOSAL] = "PROPOSAL",         [ZAB_MSG_COMMIT] = "COMMIT",
        [ZAB_MSG_INFORM] = "INFORM",             [ZAB_MSG_NEWLEADER] = "NEWLEADER",
        [ZAB_MSG_ACK] = "ACK",                   [ZAB_MSG_UPTODATE] = "UPTODATE",
        [ZAB_MSG_PING] = "PING",
    };
    if (type < 1 || type > ZAB_MSG_TYPE_MAX)
        return "?";
    return names[type];
}

/* ---- helpers shared by the core's files ---------------------------------- */

int zab_peer_index(const zab *z, int sid)
{
    for (int i = 0; i < z->cfg.npeers; i++)
        if (z->peers[i].sid == sid)
            return i;
    return -1;
}

bool zab_is_voter_index(const zab *z, int idx)
{
    return idx >= 0 && idx < z->cfg.npeers && !z->peers[idx].observer;
}

bool zab_counts_index(const zab *z, int idx)
{
    return zab_is_voter_index(z, idx) && (idx == z->me || !z->learners[idx].as_observer);
}

int64_t zab_tick_ms(const zab *z, int ticks)
{
    return (int64_t)z->cfg.tick_ms * ticks;
}

void zab_send(zab *z, int to_sid, const zab_msg *m)
{
    if (z->failed)
        return;     /* a stopped core says nothing (no ACK of what it could not log) */
    if (to_sid != z->cfg.my_sid && z->io.send)
        z->io.send(z->io.ctx, to_sid, m);
}

void zab_fail(zab *z, const char *fmt, ...)
{
    if (z->failed)
        return;
    va_list ap;
    va_start(ap, fmt);
    g_vsnprintf(z->failure, sizeof z->failure, fmt, ap);
    va_end(ap);
    if (z->role == ZAB_LEADING)
        zab_leader_stop(z);
    else if (z->role != ZAB_LOOKING)
        zab_learner_stop(z);
    z->role = ZAB_LOOKING;
    z->leader_sid = -1;
    z->finalize_at = -1;
    zab_report_role(z);     /* the last thing it tells the host */
    z->failed = true;
}

bool zab_persist_epochs(zab *z)
{
    if (z->failed)
        return false;
    if (z->io.persist_epochs && z->io.persist_epochs(z->io.ctx, z->accepted_epoch, z->current_epoch) != 0)
        zab_fail(z, "cannot persist epochs %u/%u", z->accepted_epoch, z->current_epoch);
    return !z->failed;
}

void zab_report_role(zab *z)
{
    if (z->failed)
        return;
    uint32_t epoch = z->current_epoch;
    if (z->role == ZAB_LEADING)
        epoch = z->ldphase >= LD_SYNC ? z->new_epoch : 0;
    else if (z->role != ZAB_LOOKING)
        epoch = z->lphase >= LP_SYNCING ? z->new_epoch : 0;
    bool serving = zab_serving(z);
    if (z->rep_done && z->rep_role == z->role && z->rep_leader == z->leader_sid &&
        z->rep_epoch == epoch && z->rep_serving == serving)
        return;
    z->rep_done = true;
    z->rep_role = z->role;
    z->rep_leader = z->leader_sid;
    z->rep_epoch = epoch;
    z->rep_serving = serving;
    if (z->io.role_changed)
        z->io.role_changed(z->io.ctx, z->role, z->leader_sid, epoch);
}

void zab_become_looking(zab *z, int64_t now)
{
    if (z->role == ZAB_LEADING)
        zab_leader_stop(z);
    else if (z->role != ZAB_LOOKING)
        zab_learner_stop(z);
    z->role = ZAB_LOOKING;
    z->leader_sid = -1;
    zab_report_role(z);
    zab_election_start(z, now);
}

void zab_protocol_error(zab *z, int64_t now)
{
    z->protocol_errors++;
    zab_become_looking(z, now);
}

/* ---- history ------------------------------------------------------------ */

guint zab_hist_count(const zab *z)
{
    return z->hist->len - z->hist_start;
}

zab_entry *zab_hist_at(zab *z, guint i)
{
    return &g_array_index(z->hist, zab_entry, z->hist_start + i);
}

guint zab_hist_after(const zab *z, int64_t after)
{
    guint lo = 0, hi = zab_hist_count(z);
    while (lo < hi) {  /* first index with zxid > after */
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(z->hist, zab_entry, z->hist_start + mid).zxid > after)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

int zab_hist_find(const zab *z, int64_t zxid)
{
    if (zxid <= z->hist_base)
        return -1;          /* live entries are above the base (and zxid - 1 cannot overflow) */
    guint i = zab_hist_after(z, zxid - 1);
    if (i < zab_hist_count(z) &&
        g_array_index(z->hist, zab_entry, z->hist_start + i).zxid == zxid)
        return (int)i;
    return -1;
}

void zab_hist_append(zab *z, int64_t zxid, const uint8_t *txn, size_t len)
{
    zab_entry e = { zxid, len ? g_memdup2(txn, len) : NULL, len };
    g_array_append_val(z->hist, e);
}

void zab_hist_truncate(zab *z, int64_t after)
{
    while (zab_hist_count(z) > 0) {
        zab_entry *e = zab_hist_at(z, zab_hist_count(z) - 1);
        if (e->zxid <= after)
            break;
        g_free(e->txn);
        g_array_set_size(z->hist, z->hist->len - 1);
    }
    if (after < z->hist_base)
        z->hist_base = after;
}

void zab_hist_reset(zab *z, int64_t base)
{
    for (guint i = z->hist_start; i < z->hist->len; i++)
        g_free(g_array_index(z->hist, zab_entry, i).txn);
    g_array_set_size(z->hist, 0);
    z->hist_start = 0;
    z->hist_base = base;
}

void zab_hist_trim(zab *z)
{
    guint limit = (guint)(z->cfg.history_limit > 0 ? z->cfg.history_limit : ZAB_DEFAULT_HISTORY);
    while (zab_hist_count(z) > limit) {
        zab_entry *e = zab_hist_at(z, 0);
        if (e->zxid > z->last_delivered)
            break;          /* never drop what is not delivered yet */
        z->hist_base = e->zxid;
        g_free(e->txn);
        e->txn = NULL;
        z->hist_start++;
    }
    if (z->hist_start > 64 && z->hist_start > z->hist->len / 2) {
        g_array_remove_range(z->hist, 0, z->hist_start);
        z->hist_start = 0;
    }
}

int zab_epoch_lasts(zab *z, int64_t *out, int max)
{
    int n = 0;
    guint i = zab_hist_count(z);
    while (i > 0 && n < max - 1) {
        int64_t last = zab_hist_at(z, i - 1)->zxid;
        out[n++] = last;
        /* skip to before the first entry of last's epoch */
        i = zab_hist_after(z, (int64_t)(((uint64_t)last >> 32) << 32) - 1);
    }
    if (n < max)
        out[n++] = z->hist_base;
    return n;
}

void zab_deliver_upto(zab *z, int64_t upto)
{
    int64_t limit = upto < z->last_logged ? upto : z->last_logged;
    if (limit <= z->last_delivered)
        return;
    for (guint i = zab_hist_after(z, z->last_delivered); i < zab_hist_count(z); i++) {
        zab_entry *e = zab_hist_at(z, i);
        if (e->zxid > limit)
            break;
        if (z->failed)
            return;
        z->last_delivered = e->zxid;
        if (z->io.deliver && z->io.deliver(z->io.ctx, e->zxid, e->txn, e->len) != 0) {
            zab_fail(z, "cannot apply committed transaction 0x%" G_GINT64_MODIFIER "x", e->zxid);
            return;
        }
    }
    zab_hist_trim(z);
}

bool zab_log_entry(zab *z, int64_t zxid, const uint8_t *txn, size_t len)
{
    if (z->failed)
        return false;
    zab_hist_append(z, zxid, txn, len);
    z->last_logged = zxid;
    if (z->io.log_append && z->io.log_append(z->io.ctx, zxid, txn, len) != 0)
        zab_fail(z, "cannot append 0x%" G_GINT64_MODIFIER "x to the log", zxid);
    return !z->failed;
}

/* ---- public API --------------------------------------------------------- */

/* The re-entry guard around every entry point that can call back into the
 * host: a call made from inside a callback is refused (and asserted
 * against in debug builds), so the core never runs two steps at once. */
static bool enter(zab *z)
{
    if (z->busy) {
        z->reentries++;
        assert(!"zab: an entry point was called from inside a zab_io callback");
        return false;
    }
    z->busy = true;
    return true;
}

static void leave(zab *z)
{
    z->busy = false;
}

zab *zab_new(const zab_config *cfg, const zab_io *io, uint32_t accepted_epoch,
             uint32_t current_epoch, int64_t last_logged_zxid, int64_t last_delivered_zxid)
{
    zab *z = g_new0(zab, 1);
    z->cfg = *cfg;
    z->peers = g_memdup2(cfg->peers, sizeof(zab_peer) * (size_t)cfg->npeers);
    z->cfg.peers = z->peers;
    z->io = *io;
    z->me = zab_peer_index(z, cfg->my_sid);
    if (z->me < 0 || cfg->tick_ms <= 0) {
        g_free(z->peers);
        g_free(z);
        return NULL;
    }
    z->observer = z->peers[z->me].observer;
    for (int i = 0; i < cfg->npeers; i++)
        if (!z->peers[i].observer)
            z->nvoters++;
    z->quorum = z->nvoters / 2 + 1;
    z->role = ZAB_LOOKING;
    z->leader_sid = -1;
    z->accepted_epoch = accepted_epoch;
    z->current_epoch = current_epoch;
    z->last_logged = last_logged_zxid;
    z->last_delivered = last_delivered_zxid;
    z->durable = last_logged_zxid;
    z->commit_point = last_delivered_zxid;
    z->hist = g_array_new(FALSE, FALSE, sizeof(zab_entry));
    z->hist_base = last_delivered_zxid;
    z->recvset = g_new0(zab_vote, (gsize)cfg->npeers);
    z->outofelection = g_new0(zab_vote, (gsize)cfg->npeers);
    z->learners = g_new0(zab_learner, (gsize)cfg->npeers);
    z->epoch_acked = g_new0(bool, (gsize)cfg->npeers);
    z->early = g_new0(zab_early_info, (gsize)cfg->npeers);
    z->finalize_at = -1;
    return z;
}

void zab_load_history(zab *z, int64_t zxid, const uint8_t *txn, size_t len)
{
    if (!z->hist_loaded) {
        z->hist_loaded = true;
        if (zxid <= z->last_delivered) {
            /* the first loaded entry is known and delivered: it is the base */
            z->hist_base = zxid;
            return;
        }
    }
    if (zab_hist_count(z) > 0 && zxid <= zab_hist_at(z, zab_hist_count(z) - 1)->zxid)
        return;             /* not increasing: ignore */
    if (zxid <= z->hist_base)
        return;
    zab_hist_append(z, zxid, txn, len);
    if (zxid > z->last_logged)
        z->last_logged = z->durable = zxid;
    zab_hist_trim(z);
}

void zab_start(zab *z, int64_t now_ms)
{
    if (z->failed || !enter(z))
        return;
    /* sessions of this incarnation differ from those of earlier ones */
    z->session_counter = (uint64_t)now_ms << 20;
    z->role = ZAB_LOOKING;
    zab_report_role(z);
    zab_election_start(z, now_ms);
    leave(z);
}

void zab_tick(zab *z, int64_t now_ms)
{
    if (z->failed || !enter(z))
        return;
    switch (z->role) {
    case ZAB_LOOKING: zab_election_tick(z, now_ms); break;
    case ZAB_LEADING: zab_leader_tick(z, now_ms); break;
    default: zab_learner_tick(z, now_ms); break;
    }
    leave(z);
}

void zab_recv(zab *z, int from_sid, const zab_msg *m, int64_t now_ms)
{
    int idx = zab_peer_index(z, from_sid);
    if (idx < 0 || idx == z->me || z->failed || !enter(z))
        return;
    if (m->type == ZAB_MSG_NOTIFICATION)
        zab_election_recv(z, idx, m, now_ms);
    else if (z->role == ZAB_LEADING)
        zab_leader_recv(z, idx, m, now_ms);
    else if (z->role != ZAB_LOOKING && from_sid == z->leader_sid)
        zab_learner_recv(z, idx, m, now_ms);
    else if (z->role == ZAB_LOOKING &&
             (m->type == ZAB_MSG_FOLLOWERINFO || m->type == ZAB_MSG_OBSERVERINFO))
        zab_election_keep_info(z, idx, m);   /* it chose me before I decided */
    leave(z);
}

void zab_peer_lost(zab *z, int sid, int64_t now_ms)
{
    int idx = zab_peer_index(z, sid);
    if (idx < 0 || idx == z->me || z->failed || !enter(z))
        return;
    z->early[idx].valid = false;    /* it registers again on its next link */
    if (z->role == ZAB_LEADING)
        zab_leader_peer_lost(z, idx, now_ms);
    else if (z->role != ZAB_LOOKING && sid == z->leader_sid)
        zab_become_looking(z, now_ms);
    leave(z);
}

void zab_peer_up(zab *z, int sid, int64_t now_ms)
{
    int idx = zab_peer_index(z, sid);
    if (idx < 0 || idx == z->me || z->failed || !enter(z))
        return;
    if ((z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING) && sid == z->leader_sid)
        zab_learner_link_up(z, now_ms);
    leave(z);
}

void zab_log_durable(zab *z, int64_t zxid, int64_t now_ms)
{
    if (z->failed || zxid <= z->durable || !enter(z))
        return;
    z->durable = zxid;
    if (z->role == ZAB_LEADING)
        zab_leader_durable(z, now_ms);
    else if (z->role != ZAB_LOOKING)
        zab_learner_durable(z, now_ms);
    leave(z);
}

void zab_log_failed(zab *z, int64_t now_ms)
{
    (void)now_ms;
    if (!enter(z))
        return;
    zab_fail(z, "the log could not make entries after 0x%" G_GINT64_MODIFIER "x durable", z->durable);
    leave(z);
}

int64_t zab_next_zxid(zab *z)
{
    if (z->failed)
        return -1;
    if (z->role != ZAB_LEADING || z->ldphase != LD_BROADCAST || z->next_counter > ZAB_LAST_COUNTER)
        return -1;
    return (int64_t)((uint64_t)z->new_epoch << 32 | z->next_counter);
}

int zab_propose(zab *z, int64_t zxid, const uint8_t *txn, size_t len, int64_t now_ms)
{
    if (zab_next_zxid(z) < 0 || zxid != zab_next_zxid(z) || !enter(z))
        return -1;
    int rc = zab_leader_propose(z, zxid, txn, len, now_ms);
    leave(z);
    return rc;
}

zab_role zab_get_role(const zab *z) { return z->role; }
int zab_leader(const zab *z) { return z->leader_sid; }

uint32_t zab_epoch(const zab *z)
{
    if (z->role == ZAB_LEADING && z->ldphase >= LD_SYNC)
        return z->new_epoch;
    if ((z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING) && z->lphase >= LP_SYNCING)
        return z->new_epoch;
    return z->current_epoch;
}

bool zab_serving(const zab *z)
{
    if (z->role == ZAB_LEADING)
        return z->ldphase == LD_BROADCAST;
    if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING)
        return z->lphase == LP_BROADCAST;
    return false;
}

int64_t zab_last_committed(const zab *z) { return z->last_delivered; }
int64_t zab_last_logged(const zab *z) { return z->last_logged; }
uint64_t zab_protocol_errors(const zab *z) { return z->protocol_errors; }
uint64_t zab_counter_rollovers(const zab *z) { return z->counter_rollovers; }
uint64_t zab_epoch_stepdowns(const zab *z) { return z->epoch_stepdowns; }
bool zab_failed(const zab *z) { return z->failed; }
uint64_t zab_reentries(const zab *z) { return z->reentries; }
const char *zab_failure(const zab *z) { return z->failure; }

void zab_free(zab *z)
{
    if (!z || !enter(z))
        return;
    zab_hist_reset(z, 0);
    g_array_free(z->hist, TRUE);
    g_free(z->recvset);
    g_free(z->outofelection);
    g_free(z->learners);
    g_free(z->epoch_acked);
    g_free(z->early);
    g_free(z->peers);
    g_free(z->rc_peers);
    g_free(z);
}
