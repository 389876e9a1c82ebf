/*
 * zab_fixture.h — a deterministic simulation of a Zab ensemble for unit
 * tests, in the manner of canonical/raft's src/fixture.c: N real Zab cores
 * (server/zab*.c) in one process on a virtual clock, with in-memory links
 * (FIFO, random delay and spikes, breaks, partitions, one-way stalls),
 * process pauses, crashes and restarts from the simulated disk, disks that
 * are slow or fail (a failed fsync or epoch write must fail-stop the node),
 * host snapshots, and an invariant checker run after every step.  The
 * invariants and the fault model are described in docs/zab.md
 * ("The simulation").
 *
 * Ownership: sim_new returns a sim the caller frees with sim_free; every
 * pointer inside it is owned by it.  Everything is single-threaded and
 * fully determined by the seed (splitmix64).
 */
#ifndef ZK_ZAB_FIXTURE_H
#define ZK_ZAB_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "zab.h"

#define ZF_MAX_NODES 8

typedef struct sim sim;

/* A log entry on a simulated disk; payload owned. */
typedef struct sim_entry {
    int64_t zxid;
    uint8_t *payload;
    size_t len;
} sim_entry;

/* One simulated server: its core, disk and state machine. */
typedef struct sim_node {
    sim *s;
    int idx, sid;
    bool observer, up;
    zab *z;                  /* owned while up */
    int incarnation;
    /* durable disk */
    uint32_t accepted, current;
    GArray *log;             /* of sim_entry, owned */
    guint durable_len;       /* log[0..durable_len) is fsynced */
    int64_t log_base;        /* an empty log's next append must be above it */
    bool fsync_pending;
    guint fsync_target;
    int64_t snap_zxid;
    guint snap_count;        /* the snapshot holds the global sequence [0, snap_count) */
    /* volatile state machine: the global sequence [0, delivered_count) */
    guint delivered_count;
    int64_t delivered_zxid;
    int fsync_min, fsync_max;
    int sync_msgs[ZAB_MSG_TYPE_MAX + 1]; /* DIFF/TRUNC/SNAP received */
    /* disk faults: the next fsync / epoch write fails (the core must
     * fail-stop: nothing sent after it; the host then stops the node) */
    bool fail_fsync, fail_persist;
    int fail_stops;          /* times this node fail-stopped */
    /* A cut may be held (the host returns ZAB_IO_PENDING, as quorum.c does
     * while its log thread writes): it and every later append wait for the
     * fsync in flight (volatile: a crash loses them). */
    GArray *held;            /* of sim_entry (payload owned); zxid < 0: a cut after -zxid-1,
                              * len 1 if it is a snapshot's log reset */
    /* reconfig: the node's configuration (durable, like the dynamic file) */
    zab_peer members[ZF_MAX_NODES];
    int nmembers;
    bool reconfig_due;       /* delivered a new one: activate after the core returns */
    int prev_role[ZF_MAX_NODES]; /* per node in the core's view: -1 absent, 0 voter, 1 observer */
    /* The quorum link a learner dials to its leader (quorum.c's
     * peer_set_leader): quorum messages to qlink_sid are lost until it is
     * up (EV_LINKUP, which tells both cores with zab_peer_up). */
    int qlink_sid;           /* the leader it dials, 0 = none */
    bool qlink_up;
    uint64_t qlink_gen;      /* bumped on every new dial: older EV_LINKUPs are stale */
} sim_node;

/* Event kinds of the simulation's queue. */
enum { EV_MSG, EV_FSYNC, EV_TICK, EV_FAULT, EV_PROPOSE, EV_RESTART, EV_HEAL, EV_LINKUP };

/* One queued event (owned by the heap until handled). */
typedef struct sim_event {
    int64_t at;
    uint64_t seq;
    int kind;
    int node, from;
    int incarnation;
    uint64_t link_gen;       /* EV_MSG: its link's generation; EV_LINKUP: the dial's qlink_gen */
    uint64_t link_seq;       /* EV_MSG: position in its link's stream */
    zab_msg msg;             /* msg.data points at data */
    uint8_t *data;           /* owned copy */
} sim_event;

/* The shape of a simulated run (random per seed, or fixed by a scenario). */
typedef struct sim_params {
    int nvoters, nobservers;
    int delay_min, delay_max;    /* message delay, ms */
    int spike_percent, spike_max;
    int fsync_min, fsync_max;
    int history_limit;
    uint32_t first_counter;      /* zab_config.first_counter (0 = normal) */
    bool faults;
    int propose_min, propose_max;
    int64_t duration_ms;
} sim_params;

/* The simulated world: nodes, links, the event heap and the checker. */
struct sim {
    uint64_t seed, rng;
    sim_params p;
    int n;
    sim_node nodes[ZF_MAX_NODES];
    zab_peer peers[ZF_MAX_NODES];
    int64_t now;
    uint64_t seq;
    GPtrArray *heap;         /* of sim_event*, a binary min-heap */
    uint64_t link_gen[ZF_MAX_NODES][ZF_MAX_NODES];
    int64_t link_last[ZF_MAX_NODES][ZF_MAX_NODES];
    bool cut[ZF_MAX_NODES][ZF_MAX_NODES];
    /* One-way stall (a TCP direction whose packets are dropped): messages
     * from a to b wait (TCP retransmits) until the stall ends or the link
     * breaks; b to a flows. */
    bool stalled[ZF_MAX_NODES][ZF_MAX_NODES];
    /* A paused process (SIGSTOP): until then its events wait, in order. */
    int64_t paused_until[ZF_MAX_NODES];
    /* per link: messages sent / delivered in this link generation (a
     * message waits until every earlier one of its link is delivered) */
    uint64_t link_sent[ZF_MAX_NODES][ZF_MAX_NODES], link_done[ZF_MAX_NODES][ZF_MAX_NODES];
    /* checker state */
    GArray *global;          /* of sim_entry: the committed sequence, payload owned */
    GHashTable *epoch_leader;/* epoch -> sid */
    GHashTable *skipped;     /* zxid (int64*) -> present */
    char *failure;           /* first violation, owned */
    uint64_t proposals;
    bool generate;           /* faults and proposals on */
    /* Host work queued by callbacks (a delivered commit lets a pipelined
     * client write through, which proposes): run once the core returned,
     * as quorum.c does, since a callback must not re-enter the core. */
    GArray *work;            /* of int: node index << 16 | incarnation & 0xffff */
    bool verbose;
    GQueue *trace;           /* recent lines, owned */
    zab_peer initial[ZF_MAX_NODES]; /* the configuration before any reconfig */
    int ninitial;
};


/* A world for p (copied) and seed, every node down (boot them with
 * sim_boot_node or queue EV_RESTART events); verbose traces every event to
 * stdout.  Free with sim_free. */
sim *sim_new(uint64_t seed, const sim_params *p, bool verbose);
/* Frees s and everything it owns (NULL-safe is not needed: s non-NULL). */
void sim_free(sim *s);
/* Appends a line to the trace (the last 60 are printed on failure). */
void sim_trace(sim *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Records the first broken invariant (s->failure); later ones are ignored. */
void sim_violation(sim *s, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Runs events (and the host work they queue, and the checker) until
 * virtual time t or the first violation. */
void sim_run_until(sim *s, int64_t t);
/* Starts node i from its simulated disk (epochs, snapshot, log). */
void sim_boot_node(sim *s, int i);
/* Crashes node i: its volatile state goes, the durable log stays, and if
 * keep_some_unsynced a random part of its unsynced tail survives. */
void sim_crash_node(sim *s, int i, bool keep_some_unsynced);
/* Node i's host snapshots its state and drops the log entries it covers. */
void sim_snapshot_node(sim *s, int i);
/* Ends every partition and stall. */
void sim_heal(sim *s);
/* The index of a node that can propose now (a serving leader), or -1. */
int sim_leader_index(sim *s);
/* Proposes one write at node i (which must be able to). */
void sim_propose(sim *s, int i);
/* Prints the failure, the trace and the replay command to stderr. */
void sim_print_failure(sim *s);
/* Runs one random seed (faults, proposals, then the liveness check);
 * true if every invariant held. */
bool sim_run_seed(uint64_t seed, bool verbose);
/*
 * Reconfig (docs/zab.md): a proposal whose payload is "RCFG" and one
 * (sid, observer) byte pair per member.  Each node's host activates it
 * when it delivers it, after the core returns (zab_reconfigure), keeps it
 * on its disk for its next boot and breaks its links to servers that left;
 * a snapshot install activates the configuration of its prefix; the
 * liveness check counts only the members of the final configuration.
 * Specs are "1v2v3o": sids with v (voter) or o (observer).
 */
/* The initial configuration of every node and of the global sequence. */
void sim_set_initial(sim *s, const char *spec);
/* Node sid's own configuration (a joiner: the members plus itself). */
void sim_set_members(sim *s, int sid, const char *spec);
/* Node i (a serving leader) proposes the configuration spec with
 * zab_propose_reconfig; returns its result. */
int sim_propose_reconfig(sim *s, int i, const char *spec);
/* Heals, restarts everyone and checks convergence of the final members plus
 * one more write (what every random seed ends with). */
void sim_check_liveness(sim *s);
/* Totals over every seed run in this process: proposals made by host work
 * queued in a delivery callback, and fail-stops after injected disk faults. */
void sim_counters(uint64_t *proposals_from_work, uint64_t *fail_stops);

#endif
