/*
 * zab_election.c — fast leader election (the semantics of Apache's
 * FastLeaderElection): votes ordered by peer epoch, then zxid, then sid;
 * logical clocks; a finalize wait once a quorum agrees; votes from peers
 * that already follow or lead ("out of election") let a late joiner find the
 * existing leader instead of starting a new epoch.  Observers never vote;
 * they follow a leader that a quorum of voters reports.
 */
#include "zab_internal.h"

#include <string.h>

/* True if vote (e1, z1, s1) beats (e2, z2, s2) — totalOrderPredicate. */
static bool vote_beats(uint32_t e1, int64_t z1, int s1, uint32_t e2, int64_t z2, int s2)
{
    if (e1 != e2)
        return e1 > e2;
    if (z1 != z2)
        return z1 > z2;
    return s1 > s2;
}

static bool vote_same(const zab_vote *a, const zab_vote *b)
{
    return a->valid && b->valid && a->leader == b->leader && a->zxid == b->zxid &&
           a->peer_epoch == b->peer_epoch && a->election_epoch == b->election_epoch;
}

static zab_vote my_own_vote(const zab *z)
{
    zab_vote v = { .valid = true, .leader = z->cfg.my_sid, .zxid = z->last_logged,
                   .peer_epoch = z->current_epoch, .election_epoch = z->logical_clock,
                   .state = ZAB_LOOKING };
    if (z->observer)
        v.leader = -1;
    return v;
}

static zab_vote vote_of(const zab_msg *m)
{
    zab_vote v = { .valid = true, .leader = m->leader, .zxid = m->zxid, .peer_epoch = m->epoch,
                   .election_epoch = m->election_epoch, .state = m->state };
    return v;
}

/* The notification describing what I currently say. */
static zab_msg my_notification(const zab *z)
{
    const zab_vote *v = z->role == ZAB_LOOKING ? &z->proposal : &z->current_vote;
    zab_msg m = { .type = ZAB_MSG_NOTIFICATION, .leader = v->leader, .zxid = v->zxid,
                  .epoch = v->peer_epoch, .election_epoch = v->election_epoch,
                  .state = (int)z->role };
    return m;
}

static void notify_one(zab *z, int idx)
{
    zab_msg m = my_notification(z);
    zab_send(z, z->peers[idx].sid, &m);
}

/* Every other member, observers in my view included: after a reconfig one
 * of them may be a voter of a newer configuration, whose answer (it
 * follows or leads) lets me find the leader (recv_settled). */
static void notify_voters(zab *z)
{
    for (int i = 0; i < z->cfg.npeers; i++)
        if (i != z->me)
            notify_one(z, i);
}

/* termPredicate: a quorum of voters in votes cast exactly v. */
static bool quorum_agrees(const zab *z, const zab_vote *votes, const zab_vote *v)
{
    int n = 0;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (zab_is_voter_index(z, i) && vote_same(&votes[i], v))
            n++;
    return n >= z->quorum;
}

/* checkLeader: the leader itself must say LEADING (or be me in my round). */
static bool leader_confirmed(const zab *z, const zab_vote *votes, int leader, uint64_t ee)
{
    if (leader == z->cfg.my_sid)
        return z->logical_clock == ee;
    int li = zab_peer_index(z, leader);
    return li >= 0 && votes[li].valid && votes[li].state == ZAB_LEADING;
}

static void clear_votes(zab_vote *votes, int n)
{
    for (int i = 0; i < n; i++)
        votes[i].valid = false;
}

static void decide(zab *z, zab_vote v, int64_t now)
{
    z->current_vote = v;
    z->current_vote.election_epoch = z->logical_clock;
    z->finalize_at = -1;
    z->leader_sid = v.leader;
    z->ldphase = LD_DISCOVERY;  /* nothing of an earlier term may show */
    z->new_epoch = 0;
    z->lphase = LP_NONE;
    if (v.leader == z->cfg.my_sid) {
        z->role = ZAB_LEADING;
        z->current_vote.state = ZAB_LEADING;
        zab_report_role(z);
        zab_leader_start(z, now);
    } else {
        memset(z->early, 0, sizeof(zab_early_info) * (size_t)z->cfg.npeers);
        z->role = z->observer ? ZAB_OBSERVING : ZAB_FOLLOWING;
        z->current_vote.state = z->role;
        zab_report_role(z);
        zab_learner_start(z, now);
    }
}

void zab_election_start(zab *z, int64_t now)
{
    z->logical_clock++;
    clear_votes(z->recvset, z->cfg.npeers);
    clear_votes(z->outofelection, z->cfg.npeers);
    memset(z->early, 0, sizeof(zab_early_info) * (size_t)z->cfg.npeers);
    z->proposal = my_own_vote(z);
    if (!z->observer)
        z->recvset[z->me] = z->proposal;
    z->finalize_at = -1;
    z->notify_interval = ZAB_NOTIFY_MIN_MS;
    z->notify_at = now + z->notify_interval;
    notify_voters(z);
    if (!z->observer && quorum_agrees(z, z->recvset, &z->proposal))
        z->finalize_at = now + ZAB_FINALIZE_WAIT_MS;  /* a one-voter ensemble */
}

/* A LOOKING notification from a voter while I am a LOOKING voter. */
static void recv_looking(zab *z, int from, const zab_vote *n, int64_t now)
{
    if (n->election_epoch > z->logical_clock) {
        z->logical_clock = n->election_epoch;
        clear_votes(z->recvset, z->cfg.npeers);
        zab_vote mine = my_own_vote(z);
        if (n->leader >= 0 && zab_is_voter_index(z, zab_peer_index(z, n->leader)) &&
            vote_beats(n->peer_epoch, n->zxid, n->leader, mine.peer_epoch, mine.zxid, mine.leader))
            mine = *n;
        z->proposal = mine;
        z->proposal.election_epoch = z->logical_clock;
        z->proposal.state = ZAB_LOOKING;
        z->finalize_at = -1;
        notify_voters(z);
    } else if (n->election_epoch < z->logical_clock) {
        notify_one(z, from);   /* its clock lags: tell it where we are */
        return;
    } else if (n->leader >= 0 && zab_is_voter_index(z, zab_peer_index(z, n->leader)) &&
               vote_beats(n->peer_epoch, n->zxid, n->leader, z->proposal.peer_epoch,
                          z->proposal.zxid, z->proposal.leader)) {
        z->proposal = *n;
        z->proposal.state = ZAB_LOOKING;
        z->finalize_at = -1;
        notify_voters(z);
    } else if (!vote_same(n, &z->proposal)) {
        notify_one(z, from);   /* it does not know my better vote yet */
    }
    z->recvset[from] = *n;
    z->recvset[z->me] = z->proposal;
    if (z->finalize_at < 0 && quorum_agrees(z, z->recvset, &z->proposal))
        z->finalize_at = now + ZAB_FINALIZE_WAIT_MS;
}

/* A FOLLOWING/LEADING notification while I am LOOKING. */
static void recv_settled(zab *z, int from, const zab_vote *n, int64_t now)
{
    if (!z->observer && n->election_epoch == z->logical_clock) {
        z->recvset[from] = *n;
        if (quorum_agrees(z, z->recvset, n) &&
            leader_confirmed(z, z->recvset, n->leader, n->election_epoch)) {
            decide(z, *n, now);
            return;
        }
    }
    /* Out of election: a quorum of voters follow or lead the same server,
     * which itself says it leads.  Only the leader's sid has to match: the
     * followers may have joined it in different rounds.  (Safety does not
     * rest on this; discovery's epoch quorum decides who really leads.) */
    z->outofelection[from] = *n;
    if (n->leader == z->cfg.my_sid)
        return;
    int same = 0;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (z->outofelection[i].valid && z->outofelection[i].leader == n->leader &&
            (zab_is_voter_index(z, i) || z->outofelection[i].state != ZAB_OBSERVING))
            same++;   /* a member I know as an observer that follows is a voter of a newer config */
    if (same >= z->quorum && leader_confirmed(z, z->outofelection, n->leader, n->election_epoch)) {
        if (n->election_epoch > z->logical_clock)
            z->logical_clock = n->election_epoch;
        decide(z, *n, now);
    }
}

void zab_election_recv(zab *z, int from, const zab_msg *m, int64_t now)
{
    zab_vote n = vote_of(m);
    if (!zab_is_voter_index(z, from)) {
        /* a looking observer only learns: answer it with what I think */
        if (!z->observer && n.state == ZAB_LOOKING)
            notify_one(z, from);
        /* One I know as an observer that follows or leads is a voter of a
         * configuration newer than mine (a reconfig I missed): its word
         * counts out of election, so I can find the leader and catch up. */
        if (z->role == ZAB_LOOKING && (n.state == ZAB_FOLLOWING || n.state == ZAB_LEADING) &&
            n.leader >= 0 && zab_peer_index(z, n.leader) >= 0)
            recv_settled(z, from, &n, now);
        return;
    }
    if (z->role != ZAB_LOOKING) {
        if (z->observer)
            return;         /* voters need nothing from an observer */
        if (n.state == ZAB_LOOKING) {
            if (z->role != ZAB_LEADING && z->peers[from].sid == z->leader_sid &&
                n.election_epoch > z->current_vote.election_epoch) {
                /* my leader started a new round: it is not my leader any more */
                zab_become_looking(z, now);
                zab_election_recv(z, from, m, now);
                return;
            }
            notify_one(z, from);
        }
        return;
    }
    if (n.state == ZAB_LOOKING) {
        if (!z->observer)
            recv_looking(z, from, &n, now);
        return;
    }
    if (n.leader < 0 || zab_peer_index(z, n.leader) < 0)
        return;   /* (a leader I know as an observer may lead a newer configuration) */
    recv_settled(z, from, &n, now);
}

void zab_election_tick(zab *z, int64_t now)
{
    if (z->finalize_at >= 0 && now >= z->finalize_at) {
        z->finalize_at = -1;
        if (quorum_agrees(z, z->recvset, &z->proposal)) {
            decide(z, z->proposal, now);
            return;
        }
    }
    if (now >= z->notify_at) {
        notify_voters(z);
        z->notify_interval *= 2;
        if (z->notify_interval > ZAB_NOTIFY_MAX_MS)
            z->notify_interval = ZAB_NOTIFY_MAX_MS;
        z->notify_at = now + z->notify_interval;
    }
}

/*
 * A learner chose me while I am still LOOKING (my finalize wait, or the
 * notifications that make me decide are still on their way): its
 * FOLLOWERINFO would be lost and it would only try again after its retry
 * interval.  Kept (the newest per peer) for zab_leader_start; dropped when
 * I decide for someone else, start a new LOOKING period, or the link it
 * came on breaks (zab_peer_lost: the learner, if it still follows me,
 * sends it again on its next link).
 */
void zab_election_keep_info(zab *z, int from_idx, const zab_msg *m)
{
    if (z->observer)
        return;             /* an observer never leads */
    zab_early_info *e = &z->early[from_idx];
    e->valid = true;
    e->type = m->type;
    e->epoch = m->epoch;
    e->zxid = m->zxid;
    e->session = m->session;
}
