/*
 * quorum.h — the ensemble host: runs the pure Zab core (zab.h) inside the
 * server.  It owns the peer links (peer.h), feeds the core messages, ticks
 * and fsync completions, and implements the core's I/O requests with the
 * real transaction log, snapshots, epoch files and the request pipeline.
 * It also carries the server-level traffic that is not Zab itself:
 * learners forward client writes and syncs to the leader, and report which
 * sessions their clients keep alive.
 */
#ifndef ZK_QUORUM_H
#define ZK_QUORUM_H

#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zab.h"

struct zk_server;
struct zk_request;
struct zk_conn;
typedef struct quorum quorum;

/* Starts the peer links and the Zab core (LOOKING).  NULL with *err on failure. */
quorum *quorum_new(struct zk_server *s, char **err);
void quorum_free(quorum *q);
/* Leader in broadcast: may propose. */
bool quorum_can_propose(const quorum *q);
/* Learner that is synced with its leader: forwards writes. */
bool quorum_learner_serving(const quorum *q);
/* Any role that may serve clients now. */
bool quorum_serving(const quorum *q);
zab_role quorum_role(const quorum *q);
int quorum_leader(const quorum *q);
/* Leader: the zxid for the next proposal (-1 if none can be made). */
int64_t quorum_next_zxid(quorum *q);
/* Leader: proposes an encoded transaction (its zxid from quorum_next_zxid). */
int quorum_propose(quorum *q, int64_t zxid, const uint8_t *txn, size_t len);
/* Learner: sends a client write (or sync) to the leader. */
void quorum_forward(quorum *q, const struct zk_request *req);
/* The log made everything up to zxid durable. */
void quorum_on_log_durable(quorum *q, int64_t zxid);
/* A log batch failed (write or fsync error): the Zab core fail-stops, so
 * nothing after the last durable zxid is ever acknowledged.  The caller
 * stops the server (persist_stop_on_log_failure). */
void quorum_on_log_failed(quorum *q);
/* A committed write of c lets its waiting requests go on (drain_waiting):
 * at once, or, from inside a Zab core callback (a delivery), once the
 * core returned, since they may propose. */
void quorum_resume_conn(quorum *q, struct zk_conn *c);
/* Periodic work (every loop tick). */
void quorum_tick(quorum *q);
/* Before the loop sleeps: writes what was queued on the peer links in this
 * iteration (peer_flush; a link whose write fails is lost as usual). */
void quorum_before_sleep(quorum *q);
/* Statistics for the four-letter words (Apache's leader/learner gauges). */
typedef struct quorum_stats {
    zab_role role;
    bool serving;
    int leader_sid;
    uint32_t epoch;
    int voters;                 /* voting members in the configuration */
    int quorum_size;            /* voters / 2 + 1 */
    int learners;               /* leader: learners with a quorum link up */
    int synced_followers;       /* leader: learners with a link up registered as followers
                                 * (FOLLOWERINFO; by configuration role before they synced) */
    int synced_observers;       /* leader: the same registered as observers (OBSERVERINFO) */
    int synced_non_voting_followers; /* leader: of synced_followers, those no voter of the
                                 * current configuration (after a reconfig, until they re-join) */
    int pending_syncs;          /* leader: learner syncs waiting (always 0: answered at once) */
    int64_t leader_uptime_ms;   /* leader: since it started serving; else 0 */
    int64_t proposal_count;     /* leader: proposals made since it started leading */
    int64_t last_proposal_size, min_proposal_size, max_proposal_size; /* -1 if none */
} quorum_stats;

/* Leader: sid is a voter whose session is synced and whose link is up
 * (what Leader.isQuorumSynced counts); false on any other role. */
bool quorum_learner_synced(const quorum *q, int sid);
/* The membership in s->cfg->peers changed (a reconfig was activated):
 * after the core returns, links to servers that left (or changed role)
 * are closed and the Zab core gets the new member list (zab_reconfigure).
 * Safe to call from inside a core callback. */
void quorum_reconfigure(quorum *q);
/* Fills *st with the current statistics. */
void quorum_get_stats(const quorum *q, quorum_stats *st);
/* Forgets the proposal-size statistics (srst). */
void quorum_reset_stats(quorum *q);

/* One synced observer of a leader, as Apache's LearnerHandler describes it
 * (getLearnerHandlerInfo, the AdminServer's `observers`). */
typedef struct quorum_learner_info {
    int sid;
    char remote_address[INET6_ADDRSTRLEN + 10];  /* "/host:port" of the quorum link */
    int64_t established_ms;    /* wall clock when the quorum link came up, ms since the epoch */
    uint64_t queued_packets;   /* frames queued and not yet written */
    size_t queued_bytes;       /* their bytes */
    uint64_t packets_received, packets_sent; /* quorum frames since the link came up (or orst) */
    uint64_t requests;         /* client requests it forwarded */
    int64_t last_zxid;         /* of the last packet sent to it with a zxid; -1 if none */
} quorum_learner_info;

/* Leader: the learners registered as observers with a synced session and
 * a link up, in sid order (Apache's observingLearners); empty on any other
 * role.  Returns a new GArray of quorum_learner_info (g_array_free it). */
GArray *quorum_observers(const quorum *q);
/* Leader: zeroes the observers' packet and request counts and forgets
 * their last zxid (orst, Apache's resetObserverConnectionStats). */
void quorum_reset_observer_stats(quorum *q);

#endif
