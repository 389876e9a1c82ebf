/*
 * zab_logsync.c — the leader's DIFF from the on-disk log (docs/zab.md,
 * "Synchronisation"): a learner whose last zxid is older than the in-memory
 * history window still gets a DIFF when the host's log holds that zxid and
 * what follows it (Apache's LearnerHandler.syncFollower with
 * ZKDatabase.getProposalsFromTxnLog, bounded by zookeeper.snapshotSizeFactor,
 * which the host applies).
 *
 * The core stays a state machine: it asks for the range (learner's zxid,
 * history base] through io.log_read and gets the records back in chunks
 * through zab_log_read_chunk, sending each as a PROPOSAL after the DIFF.
 * When the range is complete the in-memory entries after it follow, then
 * NEWLEADER (zab_leader_sync_sent).  If the history moved on during the
 * read (its oldest entries were trimmed past the range), the rest of the
 * log is asked for in another round.  A read that fails before the DIFF
 * went out becomes a SNAP; after it, the learner's session is dropped (it
 * times out and registers again, as after any broken sync).  Every record
 * must follow the one before it on the committed sequence (follows()), or
 * the read fails.
 */
#include "zab_internal.h"

bool zab_logsync_request(zab *z, int idx)
{
    zab_learner *l = &z->learners[idx];
    if (!z->io.log_read || l->last_zxid >= z->hist_base || l->last_zxid <= 0)
        return false;
    if (z->io.log_read(z->io.ctx, z->peers[idx].sid, l->session, l->last_zxid, z->hist_base) != 0)
        return false;
    l->phase = LRN_LOG_READING;
    l->read_next = l->read_round_start = l->last_zxid;
    l->read_upto = z->hist_base;
    l->diff_sent = false;
    return true;
}

static void send_diff(zab *z, int idx)
{
    zab_learner *l = &z->learners[idx];
    zab_msg m = { .type = ZAB_MSG_DIFF, .zxid = l->last_zxid, .session = l->session };
    zab_leader_note_sync(z, idx, ZAB_MSG_DIFF, l->last_zxid);
    zab_send(z, z->peers[idx].sid, &m);
    l->diff_sent = true;
}

/*
 * True if b can follow a on the committed sequence: the next counter of
 * a's epoch, or the first counter of a later epoch (a leader numbers its
 * proposals 1, 2, 3... and never skips one).  A log with a gap (entries a
 * snapshot install covered, or stale ones) fails this somewhere; the host
 * also never reads below its last installed snapshot (docs/zab.md).
 */
static bool follows(const zab *z, int64_t a, int64_t b)
{
    uint64_t ea = (uint64_t)a >> 32, eb = (uint64_t)b >> 32;
    uint32_t cb = (uint32_t)b;
    if (eb == ea)
        return cb == (uint32_t)a + 1;
    return eb > ea && cb == (z->cfg.first_counter ? z->cfg.first_counter : 1);
}

/* The read cannot finish: a SNAP while nothing of the DIFF went out, else
 * the session goes. */
static void read_failed(zab *z, int idx)
{
    if (!z->learners[idx].diff_sent && zab_leader_send_snap(z, idx)) {
        zab_leader_sync_sent(z, idx);
        return;
    }
    zab_leader_reset_learner(z, idx);
}

bool zab_logsync_chunk(zab *z, int idx, uint64_t session, const zab_record *recs, size_t n,
                       zab_read_status status)
{
    zab_learner *l = &z->learners[idx];
    if (z->role != ZAB_LEADING || l->phase != LRN_LOG_READING || l->session != session)
        return false;       /* stale: that sync is over */
    if (status != ZAB_READ_MORE && status != ZAB_READ_DONE) {
        read_failed(z, idx);
        return false;
    }
    /* every record must continue the range in order, or none is used */
    int64_t prev = l->read_next;
    for (size_t i = 0; i < n; i++) {
        if (!follows(z, prev, recs[i].zxid) || recs[i].zxid > l->read_upto ||
            (recs[i].len && !recs[i].txn)) {
            read_failed(z, idx);
            return false;
        }
        prev = recs[i].zxid;
    }
    if (n > 0 && !l->diff_sent)
        send_diff(z, idx);
    for (size_t i = 0; i < n; i++) {
        zab_msg m = { .type = ZAB_MSG_PROPOSAL, .zxid = recs[i].zxid, .data = recs[i].txn,
                      .len = recs[i].len, .session = l->session };
        zab_send(z, z->peers[idx].sid, &m);
        l->read_next = recs[i].zxid;
    }
    if (status == ZAB_READ_MORE)
        return true;
    if (l->read_next >= z->hist_base && l->diff_sent) {
        /* the log reached my history: its entries follow, then NEWLEADER */
        zab_leader_send_entries_after(z, idx, l->read_next);
        zab_leader_sync_sent(z, idx);
        return false;
    }
    /* The history's oldest entries were trimmed past the range while the
     * host read it: another round for the rest, as long as each one makes
     * progress (a log that ends early, not durable yet or purged, does not). */
    if (l->read_next == l->read_round_start ||
        z->io.log_read(z->io.ctx, z->peers[idx].sid, l->session, l->read_next, z->hist_base) != 0) {
        read_failed(z, idx);
        return false;
    }
    l->read_round_start = l->read_next;
    l->read_upto = z->hist_base;
    return false;           /* this read is over; the new one replaced it */
}
