/*
 * zab_reconfig.c — dynamic reconfiguration inside the Zab core: the host
 * hands the core a new member list once a reconfig transaction is
 * committed (activation at commit, on every replica, in zxid order), and
 * the core carries each surviving peer's election and learner state over
 * by sid (a learner whose role changed stays in the role it registered
 * with, without counting as a voter unless it registered as a follower,
 * until it re-joins), recomputes the voters and the quorum, and changes
 * role where the new configuration demands it (a removed or demoted leader steps down, a
 * learner whose leader left looks for a new one, a member whose own role
 * changed re-joins in its new role).  docs/zab.md describes the rules.
 * Pure like the rest of the core: no I/O, no clock.
 */
#include "zab_internal.h"

#include <string.h>

bool zab_learner_synced(const zab *z, int sid)
{
    if (z->role != ZAB_LEADING)
        return false;
    int idx = zab_peer_index(z, sid);
    return idx >= 0 && idx != z->me && zab_counts_index(z, idx) &&
           z->learners[idx].phase == LRN_SYNCED;
}

int zab_learner_synced_as(const zab *z, int sid)
{
    if (z->role != ZAB_LEADING)
        return -1;
    int idx = zab_peer_index(z, sid);
    if (idx < 0 || idx == z->me || z->learners[idx].phase != LRN_SYNCED)
        return -1;
    return z->learners[idx].as_observer ? 1 : 0;
}

/* Voters (me included once my log is durable enough) in a synced session. */
static int synced_voters(const zab *z)
{
    int n = zab_is_voter_index(z, z->me) ? 1 : 0;
    for (int i = 0; i < z->cfg.npeers; i++)
        if (i != z->me && zab_counts_index(z, i) && z->learners[i].phase == LRN_SYNCED)
            n++;
    return n;
}

void zab_reconfig_clear(zab *z)
{
    g_free(z->rc_peers);
    z->rc_peers = NULL;
    z->rc_npeers = 0;
    z->rc_zxid = 0;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? 1 : x > y ? -1 : 0;
}

int64_t zab_reconfig_commit_bound(const zab *z, int64_t candidate, int64_t me_durable)
{
    if (z->rc_zxid <= 0 || candidate < z->rc_zxid)
        return candidate;
    int64_t acks[256];
    int n = 0, voters = 0;
    for (int k = 0; k < z->rc_npeers && n < 256; k++) {
        if (z->rc_peers[k].observer)
            continue;
        voters++;
        int sid = z->rc_peers[k].sid;
        if (sid == z->cfg.my_sid) {
            acks[n++] = me_durable;
            continue;
        }
        int idx = zab_peer_index(z, sid);
        if (idx >= 0 && !z->learners[idx].as_observer && z->learners[idx].phase == LRN_SYNCED)
            acks[n++] = z->learners[idx].acked;
    }
    int q = voters / 2 + 1;
    int64_t bound = z->rc_zxid - 1;   /* what precedes the reconfig needs only the old quorum */
    if (n >= q) {
        qsort(acks, (size_t)n, sizeof acks[0], cmp_desc);
        if (acks[q - 1] > bound)
            bound = acks[q - 1];
    }
    return candidate < bound ? candidate : bound;
}

int zab_propose_reconfig(zab *z, int64_t zxid, const uint8_t *txn, size_t len,
                         const zab_peer *next, int nnext, int64_t now_ms)
{
    if (zab_next_zxid(z) < 0 || zxid != zab_next_zxid(z) || nnext <= 0 || nnext > 256)
        return -1;
    zab_reconfig_clear(z);
    z->rc_peers = g_memdup2(next, sizeof(zab_peer) * (size_t)nnext);
    z->rc_npeers = nnext;
    z->rc_zxid = zxid;
    return zab_propose(z, zxid, txn, len, now_ms);
}

int zab_reconfigure(zab *z, const zab_peer *peers, int npeers, int64_t now_ms)
{
    int new_me = -1;
    for (int i = 0; i < npeers; i++)
        if (peers[i].sid == z->cfg.my_sid)
            new_me = i;
    if (new_me < 0 || npeers <= 0)
        return -1;
    zab_reconfig_clear(z);   /* activated: the new quorum is the only one now */
    zab_peer *np = g_memdup2(peers, sizeof(zab_peer) * (size_t)npeers);
    zab_vote *rs = g_new0(zab_vote, (gsize)npeers);
    zab_vote *oe = g_new0(zab_vote, (gsize)npeers);
    zab_learner *ln = g_new0(zab_learner, (gsize)npeers);
    bool *ea = g_new0(bool, (gsize)npeers);
    zab_early_info *ei = g_new0(zab_early_info, (gsize)npeers);
    for (int i = 0; i < npeers; i++) {
        int old = zab_peer_index(z, np[i].sid);
        if (old < 0)
            continue;
        rs[i] = z->recvset[old];
        oe[i] = z->outofelection[old];
        ea[i] = z->epoch_acked[old];
        ei[i] = z->early[old];
        /* Every surviving peer keeps its session, in the role it registered
         * with: one whose role changed goes on being served so until it
         * activates this configuration itself and re-joins (it needs the
         * COMMIT or INFORM of the reconfig for that). */
        ln[i] = z->learners[old];
    }
    bool was_observer = z->observer;
    g_free(z->peers);
    g_free(z->recvset);
    g_free(z->outofelection);
    g_free(z->learners);
    g_free(z->epoch_acked);
    g_free(z->early);
    z->peers = np;
    z->recvset = rs;
    z->outofelection = oe;
    z->learners = ln;
    z->epoch_acked = ea;
    z->early = ei;
    z->cfg.peers = np;
    z->cfg.npeers = npeers;
    z->me = new_me;
    z->observer = np[new_me].observer;
    z->nvoters = 0;
    for (int i = 0; i < npeers; i++)
        if (!np[i].observer)
            z->nvoters++;
    z->quorum = z->nvoters / 2 + 1;

    if (z->observer != was_observer) {
        /* Removed (the host keeps me as an observer nobody accepts), demoted
         * or promoted: leave the current role and join in the new one. */
        zab_become_looking(z, now_ms);
        return 0;
    }
    if (z->role == ZAB_LEADING) {
        if (z->ldphase == LD_BROADCAST && synced_voters(z) < z->quorum)
            zab_become_looking(z, now_ms);
        else
            zab_leader_durable(z, now_ms);   /* the new quorum may commit more */
    } else if (z->role == ZAB_FOLLOWING || z->role == ZAB_OBSERVING) {
        int li = zab_peer_index(z, z->leader_sid);
        if (li < 0 || z->peers[li].observer)
            zab_become_looking(z, now_ms);   /* my leader left the voters */
    }
    return 0;
}
