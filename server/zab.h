/*
 * zab.h — the Zab atomic-broadcast protocol (fast leader election,
 * discovery, synchronisation, broadcast) as a pure state machine.
 *
 * The core does no I/O, reads no clock and makes no system call: the host
 * feeds it messages (zab_recv), time (zab_tick and the now_ms argument of
 * every entry point), link failures (zab_peer_lost), fsync completions
 * (zab_log_durable) and log reads (zab_log_read_chunk); the core asks for
 * sends, log appends, truncations, epoch persistence, deliveries, snapshots
 * and log reads through the zab_io callbacks,
 * which it calls synchronously from inside those entry points.  A callback
 * must not call back into the same zab instance: the core enforces it (a
 * re-entered entry point is refused and counted, see zab_reentries()).
 *
 * I/O requests report their status (docs/zab.md, "The I/O interface"): a
 * callback that does I/O returns 0 when done (or, for log_append, queued:
 * its completion comes later through zab_log_durable or zab_log_failed), and
 * non-zero when it failed.  A failed request fail-stops the core: from then
 * on it sends, logs, persists and delivers nothing (so nothing it could not
 * make durable is ever acknowledged), reports LOOKING / not serving once and
 * ignores every input; zab_failed() says so and zab_failure() why.  The host
 * then stops (or rebuilds a fresh core from what is on disk).
 *
 * The same code runs in the real server (TCP links, the transaction log)
 * and in the deterministic simulation (test/unit/zab_fixture.h, run by
 * test/unit/test_zab_sim.c).  The protocol, the message set and the
 * invariants are described in docs/zab.md.
 */
#ifndef ZK_ZAB_H
#define ZK_ZAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum zab_role { ZAB_LOOKING, ZAB_FOLLOWING, ZAB_LEADING, ZAB_OBSERVING } zab_role;

/* Returns "looking", "following", "leading" or "observing". */
const char *zab_role_name(zab_role role);

/* One member of the ensemble (voter, or observer when observer is true). */
typedef struct zab_peer {
    int sid;
    bool observer;
} zab_peer;

typedef struct zab_config {
    int my_sid;
    const zab_peer *peers; /* borrowed for zab_new only (copied); includes me */
    int npeers;
    int tick_ms;           /* tickTime */
    int init_limit;        /* ticks a learner may take to connect and sync */
    int sync_limit;        /* ticks a synced learner may stay silent */
    int history_limit;     /* committed entries kept for DIFF; 0 = 500 */
    uint32_t first_counter; /* TESTS ONLY: zxid counter of a new epoch's first
                             * proposal (to reach the counter limit quickly);
                             * 0 = 1, the normal value */
} zab_config;

/* The last zxid counter (low 32 bits) a leader proposes in one epoch; at it
 * the leader steps down so a new election starts a new epoch (Apache's
 * ZOOKEEPER-1277 rollover: counter 0xffffffff is never proposed). */
#define ZAB_LAST_COUNTER 0xfffffffeu

/* The message set.  NOTIFICATION travels on the election links, every other
 * type on the learner<->leader (quorum) link; see zab_msg_is_election(). */
typedef enum zab_msg_type {
    ZAB_MSG_NOTIFICATION = 1, /* election: vote + sender state */
    ZAB_MSG_FOLLOWERINFO,     /* learner -> leader: accepted epoch, last zxid, session */
    ZAB_MSG_OBSERVERINFO,     /* same, from an observer */
    ZAB_MSG_LEADERINFO,       /* leader -> learner: the new epoch */
    ZAB_MSG_ACKEPOCH,         /* learner -> leader: current epoch, last zxid, fresh */
    ZAB_MSG_DIFF,             /* sync: proposals after zxid follow */
    ZAB_MSG_TRUNC,            /* sync: drop every entry > zxid, proposals follow */
    ZAB_MSG_SNAP,             /* sync: data = snapshot as of zxid, proposals follow */
    ZAB_MSG_PROPOSAL,         /* zxid + txn (sync and broadcast) */
    ZAB_MSG_COMMIT,           /* every entry <= zxid is committed */
    ZAB_MSG_INFORM,           /* to observers: committed zxid + txn */
    ZAB_MSG_NEWLEADER,        /* end of sync: epoch, zxid = the sync point */
    ZAB_MSG_ACK,              /* learner -> leader: logged durably up to zxid */
    ZAB_MSG_UPTODATE,         /* leader -> learner: serve; entries <= zxid committed */
    ZAB_MSG_PING,             /* liveness, both directions */
    ZAB_MSG_TYPE_MAX = ZAB_MSG_PING
} zab_msg_type;

/*
 * One message.  Which fields mean something depends on type (docs/zab.md has
 * the table); unused ones are zero.  data is NOT owned by the message: for a
 * message the core hands to io->send it points into the core's memory and is
 * valid only during the send call; for a message given to zab_recv it must
 * stay valid during that call only (the core copies what it keeps).
 */
typedef struct zab_msg {
    int type;                /* zab_msg_type */
    uint32_t epoch;          /* vote peer epoch / accepted / new / current epoch */
    int64_t zxid;            /* vote zxid / last zxid / sync base / entry zxid */
    uint64_t session;        /* learner session: echoed on every quorum message */
    int leader;              /* NOTIFICATION: proposed leader sid (-1 = none) */
    uint64_t election_epoch; /* NOTIFICATION: the sender's logical clock */
    int state;               /* NOTIFICATION: sender's zab_role */
    bool fresh;              /* ACKEPOCH: the epoch was newly accepted */
    uint32_t acked_epoch;    /* ACKEPOCH: the new epoch it answers */
    const uint8_t *data;     /* PROPOSAL/INFORM txn, SNAP blob (not owned) */
    size_t len;
} zab_msg;

/* True if messages of this type belong on the election channel. */
bool zab_msg_is_election(int type);
/* A short upper-case name for a message type ("PROPOSAL"), "?" if unknown. */
const char *zab_msg_type_name(int type);

/*
 * What the core asks of its host.  Every callback is synchronous from the
 * core's point of view; pointers passed to a callback are valid only during
 * the call (the host copies what it keeps) unless stated otherwise.  The
 * int-returning ones are I/O requests: 0 = done (ordered before every later
 * request), non-zero = failed, which fail-stops the core (see above).
 */
/* What log_truncate / snapshot_install return when the host accepted the
 * request but completes it later (see zab_io). */
#define ZAB_IO_PENDING 1

typedef struct zab_io {
    void *ctx; /* passed back to every callback; owned by the host */
    /* Best effort: may be lost; FIFO per peer while the link stays up. */
    void (*send)(void *ctx, int to_sid, const zab_msg *m);
    /* Durable when it returns 0. */
    int (*persist_epochs)(void *ctx, uint32_t accepted_epoch, uint32_t current_epoch);
    /* Queues an append to the log; 0 = queued (its durability is reported
     * later by zab_log_durable(), its failure by zab_log_failed()). */
    int (*log_append)(void *ctx, int64_t zxid, const uint8_t *txn, size_t len);
    /* Drops every logged entry > after_zxid.  0 = done and durable: no
     * entry > after_zxid can come back after a crash.  ZAB_IO_PENDING =
     * accepted but not carried out yet (the host's log is busy): the host
     * carries it out before every later log_append, and reports its
     * durability with zab_log_durable() (the core acknowledges nothing
     * until then).  Anything else: failed. */
    int (*log_truncate)(void *ctx, int64_t after_zxid);
    /* Committed: apply to the state machine (called strictly in zxid order).
     * Non-zero: it could not be applied; the replica would diverge. */
    int (*deliver)(void *ctx, int64_t zxid, const uint8_t *txn, size_t len);
    /* Leader: the state as of the last delivered zxid; *blob is g_malloc'd by
     * the host and g_free'd by the core.  In memory only: cannot fail. */
    void (*snapshot_take)(void *ctx, int64_t *zxid, uint8_t **blob, size_t *len);
    /* Learner: replace the state with blob (as of zxid) and reset the log to
     * start after zxid; 0 = done and durable; ZAB_IO_PENDING = the state is
     * replaced but the log reset waits as for log_truncate (durability,
     * at least zxid, comes with zab_log_durable()); anything else: failed. */
    int (*snapshot_install)(void *ctx, int64_t zxid, const uint8_t *blob, size_t len);
    /* Called whenever role, leader, epoch or serving (zab_serving()) changes.
     * epoch is 0 while the new epoch is not agreed yet (just elected); a
     * LEADING call with epoch != 0 means this server established that epoch
     * (a quorum accepted it).  May be NULL. */
    void (*role_changed)(void *ctx, zab_role role, int leader_sid, uint32_t epoch);
    /* Leader: how it syncs a learner (type is ZAB_MSG_DIFF, ZAB_MSG_TRUNC or
     * ZAB_MSG_SNAP; learner_zxid is what the learner reported, from_zxid
     * where the sync starts).  For the operator's log; may be NULL. */
    void (*sync_chosen)(void *ctx, int learner_sid, int type, int64_t learner_zxid,
                        int64_t from_zxid);
    /* Leader, optional (NULL: DIFF only from the in-memory history): the
     * learner learner_sid (in session) is behind my in-memory history; asks
     * for the logged entries (after_zxid, upto_zxid] from the on-disk log,
     * which the host hands over later, in zxid order and in as many chunks
     * as it likes, through zab_log_read_chunk() (never from inside this
     * call).  0 = accepted; anything else = the host will not (after_zxid is
     * not a record of its log, the log since it is too large for
     * zookeeper.snapshotSizeFactor, on-disk DIFF is disabled): the learner
     * gets a SNAP.  Not a failing I/O request: a read that fails later is
     * reported by zab_log_read_chunk and costs only that learner's sync.  A
     * new request for the same learner replaces an unfinished one. */
    int (*log_read)(void *ctx, int learner_sid, uint64_t session, int64_t after_zxid,
                    int64_t upto_zxid);
} zab_io;

/* One logged entry handed to zab_log_read_chunk (txn borrowed for the call). */
typedef struct zab_record {
    int64_t zxid;
    const uint8_t *txn;
    size_t len;
} zab_record;

/* How a chunk of a log read ends (zab_log_read_chunk). */
typedef enum zab_read_status {
    ZAB_READ_MORE,   /* more chunks of this range follow */
    ZAB_READ_DONE,   /* the range is complete (or the durable log ends here) */
    ZAB_READ_FAILED  /* the read failed: the records of this chunk are not used */
} zab_read_status;

typedef struct zab zab;

/*
 * Creates the state machine (not started).  cfg and io are copied (cfg->peers
 * too).  accepted_epoch/current_epoch are the persisted epochs,
 * last_logged_zxid the last entry of the durable log, last_delivered_zxid
 * the zxid the host's state machine reflects (snapshot + replayed entries).
 * Entries after last_delivered_zxid must be given with zab_load_history();
 * they are delivered again once committed.  Returns NULL if my_sid is not
 * among the peers.  Free with zab_free().
 */
zab *zab_new(const zab_config *cfg, const zab_io *io, uint32_t accepted_epoch,
             uint32_t current_epoch, int64_t last_logged_zxid, int64_t last_delivered_zxid);
/*
 * At start-up, before zab_start: the logged entries, oldest first (at least
 * every entry after last_delivered_zxid; older ones let the leader answer
 * with DIFF instead of SNAP).  txn is copied.  The core keeps a bounded
 * window (history_limit committed entries plus everything not delivered).
 */
void zab_load_history(zab *z, int64_t zxid, const uint8_t *txn, size_t len);
/* Begins the first election. */
void zab_start(zab *z, int64_t now_ms);
/* Call often (every ~50 ms); the core keeps its own deadlines. */
void zab_tick(zab *z, int64_t now_ms);
/* A message from from_sid (m and m->data borrowed for the call). */
void zab_recv(zab *z, int from_sid, const zab_msg *m, int64_t now_ms);
/* The host's quorum link to sid broke (what was in flight is lost). */
void zab_peer_lost(zab *z, int sid, int64_t now_ms);
/* The host's quorum link to sid is up (connected and greeted; what is sent
 * to sid from now on arrives unless the link breaks).  A learner that
 * registers with sid sends its FOLLOWERINFO / OBSERVERINFO again at once:
 * the one sent when it chose sid found no link and was lost. */
void zab_peer_up(zab *z, int sid, int64_t now_ms);
/* Every appended entry <= zxid is fsynced. */
void zab_log_durable(zab *z, int64_t zxid, int64_t now_ms);
/* Completion of queued appends with a failure (a write or fsync error): the
 * entries not yet reported durable may be lost, so the core fail-stops
 * (nothing after the last durable zxid is ever acknowledged). */
void zab_log_failed(zab *z, int64_t now_ms);
/*
 * Leader: n records (recs and their txns borrowed for the call) of the log
 * read that io->log_read accepted for learner_sid's session, continuing it
 * in zxid order, and how the read stands (zab_read_status).  The core sends
 * them as the DIFF's PROPOSALs as they come, then, once the read is DONE,
 * the in-memory entries after it and NEWLEADER (or asks for the rest of the
 * log if the in-memory history moved on meanwhile).  Returns true while the
 * core wants more of this read; false if it is over (done, failed, or
 * stale: that learner's session changed, or I no longer lead), and then
 * the host drops it.
 */
bool zab_log_read_chunk(zab *z, int learner_sid, uint64_t session, const zab_record *recs,
                        size_t n, zab_read_status status, int64_t now_ms);
/* Leader in broadcast only: the zxid the next proposal gets; -1 if it
 * cannot propose now. */
int64_t zab_next_zxid(zab *z);
/* Leader: logs and broadcasts (txn copied).  zxid must be zab_next_zxid().
 * Returns 0, or -1 if not leading in broadcast or zxid is wrong. */
int zab_propose(zab *z, int64_t zxid, const uint8_t *txn, size_t len, int64_t now_ms);

zab_role zab_get_role(const zab *z);
/* The leader's sid, or -1 while looking. */
int zab_leader(const zab *z);
/* The epoch being led/followed once agreed, else the current epoch. */
uint32_t zab_epoch(const zab *z);
/* Leader with a synced quorum, or learner that got UPTODATE. */
bool zab_serving(const zab *z);
/* The last zxid delivered to the state machine. */
int64_t zab_last_committed(const zab *z);
/* The last zxid in the log. */
int64_t zab_last_logged(const zab *z);
/* Count of messages that no correct peer can send (a TRUNC below what was
 * delivered, a zxid going backwards...); each one made the core go back to
 * LOOKING.  The simulation asserts it stays 0. */
uint64_t zab_protocol_errors(const zab *z);

/* Entry points (zab_start, zab_tick, zab_recv, zab_peer_lost,
 * zab_log_durable, zab_log_failed, zab_log_read_chunk, zab_propose,
 * zab_free) called from
 * inside one of this core's callbacks: each was refused (zab_propose
 * returned -1) and, in a build without NDEBUG, failed an assert().  The
 * host must queue such work and run it once the core returned. */
uint64_t zab_reentries(const zab *z);
/* True once an I/O request failed: the core is stopped for good (see the
 * header comment); the host must stop or replace it. */
bool zab_failed(const zab *z);
/* What failed ("log append of 0x100000003 failed"), "" if nothing did.
 * Owned by the core, valid until zab_free. */
const char *zab_failure(const zab *z);

/** Times this core, leading, stepped down because its epoch's zxid counter
 * reached ZAB_LAST_COUNTER (ZOOKEEPER-1277). */
uint64_t zab_counter_rollovers(const zab *z);
/** Times this core, leading epoch E (proposed or established), stepped
 * down because a learner registered with an acceptedEpoch above E: such a
 * learner can never join E (it refuses an older LEADERINFO), so the leader
 * makes way for a discovery that proposes a higher epoch. */
uint64_t zab_epoch_stepdowns(const zab *z);
/*
 * Dynamic reconfiguration (zab_reconfig.c): once a reconfig transaction is
 * delivered, the host installs the new member list (peers copied; it must
 * include me: a removed server passes itself as an observer).  Each
 * surviving peer keeps its state, a learner its session in the role it
 * registered with (counting only as a follower that is a voter now) until
 * it re-joins; the quorum becomes a majority of the new voters.  A
 * leader that is no longer a voter, or no longer has a synced quorum of
 * the new voters, steps down; a learner whose leader is no longer a voter,
 * or whose own role changed, goes LOOKING.  Must not be called from inside
 * a zab_io callback.  Returns 0, or -1 (nothing changed) if I am missing.
 */
int zab_reconfigure(zab *z, const zab_peer *peers, int npeers, int64_t now_ms);
/*
 * Leader: like zab_propose for a reconfig whose new member list is next
 * (copied): from zxid on, a proposal commits only once a quorum of the old
 * voters AND a quorum of next's voters have logged it (Apache's rule for a
 * reconfig proposal), until the host activates it with zab_reconfigure.
 */
int zab_propose_reconfig(zab *z, int64_t zxid, const uint8_t *txn, size_t len,
                         const zab_peer *next, int nnext, int64_t now_ms);
/* Leader: true if sid is a voter with a synced session (Leader.isQuorumSynced's
 * forwardingFollowers that are synced); false on any other role. */
bool zab_learner_synced(const zab *z, int sid);
/* Leader: how sid registered in its current session once synced (Apache's
 * forwardingFollowers / observingLearners): 1 with OBSERVERINFO, 0 with
 * FOLLOWERINFO, -1 when it has no synced session or I do not lead. */
int zab_learner_synced_as(const zab *z, int sid);
/* Frees everything, including history copies. */
void zab_free(zab *z);

#endif
