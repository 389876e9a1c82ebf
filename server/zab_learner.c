/*
 * zab_learner.c — the follower/observer side of Zab: register with the
 * elected leader (FOLLOWERINFO/OBSERVERINFO), accept its epoch (LEADERINFO
 * -> ACKEPOCH, acceptedEpoch persisted), take the sync (DIFF / TRUNC / SNAP
 * + entries), NEWLEADER (currentEpoch persisted, ACK once durable), then
 * UPTODATE and broadcast (PROPOSAL logged then ACKed once fsynced, COMMIT /
 * INFORM delivered in zxid order).  Every message carries the session the
 * learner chose, so nothing from an earlier session is ever taken.
 * FOLLOWERINFO goes when the learner chooses its leader, again when the
 * host reports the quorum link to it up (zab_peer_up), and every
 * tickTime/2 while no LEADERINFO came.
 */
#include "zab_internal.h"

static void send_to_leader(zab *z, zab_msg *m)
{
    m->session = z->session;
    zab_send(z, z->leader_sid, m);
}

static void send_info(zab *z)
{
    zab_msg m = { .type = z->observer ? ZAB_MSG_OBSERVERINFO : ZAB_MSG_FOLLOWERINFO,
                  .epoch = z->accepted_epoch, .zxid = z->last_logged };
    send_to_leader(z, &m);
}

void zab_learner_start(zab *z, int64_t now)
{
    z->lphase = LP_CONNECTING;
    z->session = ++z->session_counter;
    z->last_heard_ms = now;
    z->acked_sent = -1;
    z->newleader_zxid = -1;
    z->new_epoch = 0;
    z->next_info_ms = now + zab_tick_ms(z, 1) / 2;
    /* Usually lost: the host dials the leader only now.  The info goes
     * again when the link is up (zab_learner_link_up) and, as a fallback,
     * every tickTime/2 (zab_learner_tick); a leader still LOOKING keeps it
     * (zab_election_keep_info). */
    send_info(z);
}

void zab_learner_link_up(zab *z, int64_t now)
{
    if (z->lphase != LP_CONNECTING)
        return;
    send_info(z);
    z->next_info_ms = now + zab_tick_ms(z, 1) / 2;
}

void zab_learner_stop(zab *z)
{
    z->lphase = LP_NONE;
    z->session = 0;
}

/* ACKs what is durable once NEWLEADER came (observers ACK NEWLEADER only). */
static void maybe_ack(zab *z)
{
    if (z->lphase < LP_NEWLEADER)
        return;
    int64_t upto = z->durable < z->last_logged ? z->durable : z->last_logged;
    if (upto < z->newleader_zxid || upto <= z->acked_sent)
        return;
    if (z->current_epoch != z->new_epoch) {
        /* only now that the synced log is durable may the epoch be current:
         * a currentEpoch on disk over a shorter log would win elections it
         * must lose */
        z->current_epoch = z->new_epoch;
        if (!zab_persist_epochs(z))
            return;
    }
    if (z->observer && z->acked_sent >= z->newleader_zxid)
        return;
    zab_msg m = { .type = ZAB_MSG_ACK, .zxid = upto };
    z->acked_sent = upto;
    send_to_leader(z, &m);
}

static void commit_upto(zab *z, int64_t zxid)
{
    if (zxid > z->commit_point)
        z->commit_point = zxid;
    zab_deliver_upto(z, z->commit_point);
}

static void on_leaderinfo(zab *z, const zab_msg *m, int64_t now)
{
    bool fresh;
    if (m->epoch > z->accepted_epoch) {
        z->accepted_epoch = m->epoch;
        if (!zab_persist_epochs(z))
            return;
        fresh = true;
    } else if (m->epoch == z->accepted_epoch) {
        fresh = false;
    } else {
        zab_become_looking(z, now);   /* a leader of an older epoch */
        return;
    }
    z->new_epoch = m->epoch;
    z->lphase = LP_SYNCING;
    /* where each epoch of my log ends, so the leader finds the point where
     * our logs part (the data is big-endian int64s, newest first) */
    int64_t lasts[ZAB_EPOCH_LASTS];
    uint8_t wire[ZAB_EPOCH_LASTS * 8];
    int n = zab_epoch_lasts(z, lasts, ZAB_EPOCH_LASTS);
    for (int i = 0; i < n; i++)
        for (int b = 0; b < 8; b++)
            wire[i * 8 + b] = (uint8_t)((uint64_t)lasts[i] >> (56 - 8 * b));
    zab_msg ack = { .type = ZAB_MSG_ACKEPOCH, .epoch = z->current_epoch, .zxid = z->last_logged,
                    .fresh = fresh, .acked_epoch = m->epoch, .data = wire,
                    .len = (size_t)n * 8 };
    send_to_leader(z, &ack);
    zab_report_role(z);
}

/*
 * Before a sync step drops entries (TRUNC, SNAP), currentEpoch falls to the
 * epoch of the zxid the log will end at.  currentEpoch claims "my log holds
 * the history of that epoch's leader"; a half-done sync (crash or new
 * election before NEWLEADER) must not keep claiming a newer epoch over a
 * shorter log, or it could win an election against the holders of committed
 * entries it no longer has.  A log that ends at zxid (e, n) always holds
 * epoch e's initial history, so e is a true, conservative claim.
 */
static void lower_current_epoch(zab *z, int64_t new_last)
{
    uint32_t e = (uint32_t)((uint64_t)new_last >> 32);
    if (e >= z->current_epoch)
        return;
    z->current_epoch = e;
    zab_persist_epochs(z);  /* a failure stops the core: callers check z->failed */
}

static void on_trunc(zab *z, int64_t after, int64_t now)
{
    if (after < z->last_delivered) {   /* would undo a committed entry */
        zab_protocol_error(z, now);
        return;
    }
    if (after >= z->last_logged)
        return;
    lower_current_epoch(z, after);
    if (z->failed)
        return;
    int rc = z->io.log_truncate ? z->io.log_truncate(z->io.ctx, after) : 0;
    if (rc != 0 && rc != ZAB_IO_PENDING) {
        zab_fail(z, "cannot truncate the log after 0x%" G_GINT64_MODIFIER "x", after);
        return;
    }
    zab_hist_truncate(z, after);
    z->last_logged = after;
    if (z->durable > after)
        z->durable = after;
    if (rc == ZAB_IO_PENDING)
        z->durable = -1;    /* nothing is acknowledged before the host reports the cut durable */
}

static void on_snap(zab *z, const zab_msg *m)
{
    lower_current_epoch(z, m->zxid);
    if (z->failed)
        return;
    int rc = z->io.snapshot_install ? z->io.snapshot_install(z->io.ctx, m->zxid, m->data, m->len) : 0;
    if (rc != 0 && rc != ZAB_IO_PENDING) {
        zab_fail(z, "cannot install the leader's snapshot 0x%" G_GINT64_MODIFIER "x", m->zxid);
        return;
    }
    zab_hist_reset(z, m->zxid);
    z->last_logged = z->last_delivered = z->durable = z->commit_point = m->zxid;
    if (rc == ZAB_IO_PENDING)
        z->durable = -1;    /* as in on_trunc */
}

/* A PROPOSAL (sync or broadcast) or an observer's INFORM. */
static bool take_entry(zab *z, const zab_msg *m, int64_t now)
{
    if (m->zxid <= z->last_logged) {
        if (m->type == ZAB_MSG_INFORM && zab_hist_find(z, m->zxid) >= 0)
            return true;    /* an observer already has it from the sync */
        zab_protocol_error(z, now);
        return false;
    }
    return zab_log_entry(z, m->zxid, m->data, m->len);
}

void zab_learner_recv(zab *z, int from_idx, const zab_msg *m, int64_t now)
{
    (void)from_idx;
    if (m->session != z->session || z->lphase == LP_NONE)
        return;             /* from an earlier session */
    z->last_heard_ms = now;
    if (m->type == ZAB_MSG_PING) {
        zab_msg pong = { .type = ZAB_MSG_PING };
        send_to_leader(z, &pong);
        return;
    }
    if (z->lphase == LP_CONNECTING) {
        if (m->type == ZAB_MSG_LEADERINFO)
            on_leaderinfo(z, m, now);
        return;
    }
    switch (m->type) {
    case ZAB_MSG_LEADERINFO:
        /* the leader began a new term and took a stale copy of my
         * registration: this session is over */
        zab_become_looking(z, now);
        break;
    case ZAB_MSG_DIFF:
        if (z->lphase != LP_SYNCING || m->zxid != z->last_logged)
            zab_protocol_error(z, now);
        break;
    case ZAB_MSG_TRUNC:
        if (z->lphase != LP_SYNCING)
            zab_protocol_error(z, now);
        else
            on_trunc(z, m->zxid, now);
        break;
    case ZAB_MSG_SNAP:
        if (z->lphase != LP_SYNCING)
            zab_protocol_error(z, now);
        else
            on_snap(z, m);
        break;
    case ZAB_MSG_PROPOSAL:
        if (take_entry(z, m, now))
            maybe_ack(z);
        break;
    case ZAB_MSG_NEWLEADER:
        if (z->lphase != LP_SYNCING || m->epoch != z->new_epoch || m->zxid != z->last_logged) {
            zab_protocol_error(z, now);
            break;
        }
        z->newleader_zxid = m->zxid;
        z->lphase = LP_NEWLEADER;
        maybe_ack(z);
        break;
    case ZAB_MSG_UPTODATE:
        if (z->lphase != LP_NEWLEADER) {
            zab_protocol_error(z, now);
            break;
        }
        z->lphase = LP_BROADCAST;
        commit_upto(z, m->zxid);
        zab_report_role(z);
        break;
    case ZAB_MSG_COMMIT:
        if (z->lphase < LP_NEWLEADER)
            zab_protocol_error(z, now);
        else
            commit_upto(z, m->zxid);
        break;
    case ZAB_MSG_INFORM:
        if (z->lphase < LP_NEWLEADER || !z->observer)
            zab_protocol_error(z, now);
        else if (take_entry(z, m, now))
            commit_upto(z, m->zxid);
        break;
    default:
        break;              /* not for a learner: ignore */
    }
}

void zab_learner_tick(zab *z, int64_t now)
{
    if (z->lphase == LP_CONNECTING && now >= z->next_info_ms) {
        /* fallback (link-up and the leader's keeping of early infos make
         * it rare): the leader dropped it (it followed someone else then),
         * or the host gave no link-up */
        send_info(z);
        z->next_info_ms = now + zab_tick_ms(z, 1) / 2;
    }
    int limit = z->lphase == LP_BROADCAST ? z->cfg.sync_limit : z->cfg.init_limit;
    if (now - z->last_heard_ms > zab_tick_ms(z, limit))
        zab_become_looking(z, now);
}

void zab_learner_durable(zab *z, int64_t now)
{
    (void)now;
    maybe_ack(z);
}
