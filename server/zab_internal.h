/*
 * zab_internal.h — the zab struct and the functions the Zab core's files
 * (zab.c: lifecycle, history, dispatch; zab_election.c; zab_leader.c;
 * zab_learner.c) share.  Not for use outside server/zab*.c.
 */
#ifndef ZK_ZAB_INTERNAL_H
#define ZK_ZAB_INTERNAL_H

#include <glib.h>

#include "zab.h"

#define ZAB_FINALIZE_WAIT_MS 200   /* FLE finalizeWait */
#define ZAB_NOTIFY_MIN_MS 200      /* first notification re-send interval */
#define ZAB_NOTIFY_MAX_MS 3200     /* back-off cap */
#define ZAB_DEFAULT_HISTORY 500
#define ZAB_EPOCH_LASTS 16         /* epoch ends a learner reports in ACKEPOCH */

/* A logged entry kept in memory; txn is owned (g_malloc'd). */
typedef struct zab_entry {
    int64_t zxid;
    uint8_t *txn;
    size_t len;
} zab_entry;

/* A vote as FLE sees it. */
typedef struct zab_vote {
    bool valid;
    int leader;
    int64_t zxid;
    uint32_t peer_epoch;
    uint64_t election_epoch;
    int state;              /* zab_role of whoever cast it */
} zab_vote;

/* Leader side: where one learner is in its session. */
typedef enum {
    LRN_NONE,        /* no session */
    LRN_INFO,        /* FOLLOWERINFO received, epoch not yet known */
    LRN_EPOCH_SENT,  /* LEADERINFO sent, waiting for ACKEPOCH */
    LRN_EPOCH_ACKED, /* ACKEPOCH received, waiting for discovery to finish */
    LRN_SYNCING,     /* sync + NEWLEADER sent, waiting for the ACK */
    LRN_SYNCED       /* NEWLEADER acked (UPTODATE sent once established) */
} learner_phase;

typedef struct zab_learner {
    learner_phase phase;
    uint64_t session;
    uint32_t accepted_epoch;
    int64_t last_zxid;       /* from FOLLOWERINFO, then ACKEPOCH */
    int64_t epoch_lasts[ZAB_EPOCH_LASTS]; /* ACKEPOCH: its last zxid per epoch, newest first */
    int nepoch_lasts;
    int64_t sync_point;      /* NEWLEADER zxid sent to it */
    int64_t acked;           /* highest ACK in this session */
    bool uptodate_sent;
    int64_t last_heard_ms;
    bool as_observer;        /* registered with OBSERVERINFO (its own view; after a
                              * reconfig it may differ from mine until it re-joins) */
} zab_learner;

/* A FOLLOWERINFO / OBSERVERINFO that came while I was LOOKING (its sender
 * chose me before I decided): kept until I decide, the link it came on
 * breaks, or a newer one replaces it. */
typedef struct zab_early_info {
    bool valid;
    int type;                /* ZAB_MSG_FOLLOWERINFO or ZAB_MSG_OBSERVERINFO */
    uint32_t epoch;          /* its acceptedEpoch */
    int64_t zxid;
    uint64_t session;
} zab_early_info;

/* Learner side: where I am in my session with the leader. */
typedef enum {
    LP_NONE,
    LP_CONNECTING,   /* FOLLOWERINFO sent, waiting for LEADERINFO */
    LP_SYNCING,      /* ACKEPOCH sent, receiving DIFF/TRUNC/SNAP + entries */
    LP_NEWLEADER,    /* NEWLEADER received, waiting for UPTODATE */
    LP_BROADCAST     /* UPTODATE received: serving */
} learner_local_phase;

typedef enum { LD_DISCOVERY, LD_SYNC, LD_BROADCAST } leader_phase;

struct zab {
    zab_config cfg;          /* cfg.peers points at peers below */
    zab_peer *peers;         /* owned copy */
    zab_io io;
    int me;                  /* my index in peers */
    bool observer;           /* am I an observer */
    int nvoters, quorum;

    zab_role role;
    int leader_sid;
    uint32_t accepted_epoch, current_epoch;
    int64_t last_logged, last_delivered, durable, commit_point;

    /* history: entries [hist_start, hist->len) of hist are live, oldest first;
     * hist_base is a zxid known to be in my history just before them. */
    GArray *hist;            /* of zab_entry, owned */
    guint hist_start;
    int64_t hist_base;
    bool hist_loaded;

    /* election */
    uint64_t logical_clock;
    zab_vote proposal;       /* while LOOKING */
    zab_vote current_vote;   /* after deciding: what I tell others */
    zab_vote *recvset;       /* per peer index, owned */
    zab_vote *outofelection; /* per peer index, owned */
    int64_t finalize_at;     /* -1: not waiting */
    int64_t notify_at;
    int64_t notify_interval;
    zab_early_info *early;   /* per peer index, owned: infos kept while LOOKING */

    /* learner */
    learner_local_phase lphase;
    uint64_t session, session_counter;
    int64_t last_heard_ms;
    int64_t next_info_ms;
    int64_t acked_sent;
    int64_t newleader_zxid;
    uint32_t new_epoch;      /* learner: from LEADERINFO; leader: proposed */

    /* leader */
    leader_phase ldphase;
    zab_learner *learners;   /* per peer index, owned */
    bool *epoch_acked;       /* per peer index, owned: fresh ACKEPOCH */
    int64_t phase_deadline;
    int64_t initial_last;    /* my last zxid when discovery finished */
    bool epoch_unpersisted;  /* currentEpoch waits for my log to be durable */
    uint32_t next_counter;
    int64_t exhausted_deadline;  /* counter used up: step down by then at the latest */
    uint64_t counter_rollovers;  /* times this core stepped down for a used-up counter */
    uint64_t epoch_stepdowns;    /* times it stepped down for a learner's newer accepted epoch */
    int64_t next_ping_ms;

    /* role reporting */
    zab_role rep_role;
    int rep_leader;
    uint32_t rep_epoch;
    bool rep_serving;
    bool rep_done;

    uint64_t protocol_errors;

    /* leader: a reconfig proposed and not yet activated (zab_reconfig.c) */
    int64_t rc_zxid;         /* 0: none */
    zab_peer *rc_peers;      /* owned: its member list */
    int rc_npeers;
    /* re-entry guard: an entry point is running (a callback must not call
     * back in); reentries counts refused calls */
    bool busy;
    uint64_t reentries;

    /* fail-stop: an I/O request failed (see zab.h) */
    bool failed;
    char failure[128];
};

/* ---- zab.c -------------------------------------------------------------- */
int zab_peer_index(const zab *z, int sid);
bool zab_is_voter_index(const zab *z, int idx);
/* Leader: idx counts for quorums: a voter in my view that (unless it is me)
 * registered as a follower. */
bool zab_counts_index(const zab *z, int idx);
int64_t zab_tick_ms(const zab *z, int ticks);
void zab_send(zab *z, int to_sid, const zab_msg *m);
/* Goes (back) to LOOKING and starts a new election round. */
void zab_become_looking(zab *z, int64_t now);
/* Counts an impossible message and goes back to LOOKING. */
void zab_protocol_error(zab *z, int64_t now);
/* Reports role/leader/epoch/serving to the host if any changed. */
void zab_report_role(zab *z);
/* An I/O request failed: stop for good (what is printf-style, for
 * zab_failure()).  Reports LOOKING / not serving to the host once. */
void zab_fail(zab *z, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* io.persist_epochs of my epochs; false if it failed (the core is stopped). */
bool zab_persist_epochs(zab *z);

/* history */
guint zab_hist_count(const zab *z);
zab_entry *zab_hist_at(zab *z, guint i);   /* i from 0 = oldest live */
/* Index of zxid in the live history, or -1. */
int zab_hist_find(const zab *z, int64_t zxid);
/* Index of the first entry with zxid > after (hist_count() if none). */
guint zab_hist_after(const zab *z, int64_t after);
/* Copies txn; the caller has already checked zxid > last_logged. */
void zab_hist_append(zab *z, int64_t zxid, const uint8_t *txn, size_t len);
/* Drops entries > after. */
void zab_hist_truncate(zab *z, int64_t after);
/* Drops everything; base becomes the history base. */
void zab_hist_reset(zab *z, int64_t base);
/* Drops delivered entries beyond history_limit. */
void zab_hist_trim(zab *z);
/* Fills out[] with my last zxid in each epoch of my history, newest first
 * (ending with the history base); returns the count (<= max). */
int zab_epoch_lasts(zab *z, int64_t *out, int max);
/* Delivers every logged entry with last_delivered < zxid <= upto. */
void zab_deliver_upto(zab *z, int64_t upto);
/* Appends to history and the host log, advancing last_logged; false if the
 * append failed (the core is stopped). */
bool zab_log_entry(zab *z, int64_t zxid, const uint8_t *txn, size_t len);

/* ---- zab_election.c ----------------------------------------------------- */
void zab_election_start(zab *z, int64_t now);
void zab_election_recv(zab *z, int from_idx, const zab_msg *m, int64_t now);
void zab_election_tick(zab *z, int64_t now);
/* LOOKING: keeps an info a learner sent me before I decided (m is one). */
void zab_election_keep_info(zab *z, int from_idx, const zab_msg *m);

/* ---- zab_leader.c ------------------------------------------------------- */
/* Starts discovery, taking the infos kept while I was LOOKING. */
void zab_leader_start(zab *z, int64_t now);
void zab_leader_stop(zab *z);
void zab_leader_recv(zab *z, int from_idx, const zab_msg *m, int64_t now);
void zab_leader_tick(zab *z, int64_t now);
void zab_leader_peer_lost(zab *z, int idx, int64_t now);
void zab_leader_durable(zab *z, int64_t now);
int zab_leader_propose(zab *z, int64_t zxid, const uint8_t *txn, size_t len, int64_t now);

/* ---- zab_reconfig.c ------------------------------------------------------ */
/* Leader: candidate lowered so that nothing from a pending reconfig's zxid
 * on commits before a quorum of the NEXT configuration's voters (synced
 * learners registered as followers, by their ACKs; me by me_durable, my
 * durable zxid) has logged it too. */
int64_t zab_reconfig_commit_bound(const zab *z, int64_t candidate, int64_t me_durable);
/* Forgets a pending reconfig proposal (stepping down, activation). */
void zab_reconfig_clear(zab *z);

/* ---- zab_learner.c ------------------------------------------------------ */
void zab_learner_start(zab *z, int64_t now);
/* The quorum link to my leader came up: register now. */
void zab_learner_link_up(zab *z, int64_t now);
void zab_learner_stop(zab *z);
void zab_learner_recv(zab *z, int from_idx, const zab_msg *m, int64_t now);
void zab_learner_tick(zab *z, int64_t now);
void zab_learner_durable(zab *z, int64_t now);

#endif
