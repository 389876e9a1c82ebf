/*
 * replicator.h — the seam between the server and the way its transactions
 * become committed: the standalone log (durable = committed) or Zab through
 * the ensemble host (quorum.c: durable = acknowledged, committed when a
 * quorum has it).  server.c picks the implementation (s->repl) when it
 * wires the server; persist.c and the timer call through it and never ask
 * which one runs.
 *
 * The operations are static tables (never freed); they run on the
 * event-loop thread.
 */
#ifndef ZK_REPLICATOR_H
#define ZK_REPLICATOR_H

#include <stdbool.h>
#include <stdint.h>

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;

typedef struct zk_replicator {
    /* The log made every record up to zxid durable. */
    void (*log_durable)(zk_server *s, int64_t zxid);
    /* A log batch failed (the server is stopping): nothing after the last
     * durable zxid may be acknowledged. */
    void (*log_failed)(zk_server *s);
    /* A committed write of c lets c's waiting requests go on
     * (request_resume_conn).  Zab: deferred until the core returned when
     * called from inside its delivery callback, since a waiting write
     * proposes (the core must not be re-entered). */
    void (*resume_conn)(zk_server *s, zk_conn *c);
    /* Periodic work of the replication layer (once per server tick). */
    void (*tick)(zk_server *s);
    /* True if any failed log batch must stop the server: the replicated
     * state already counts the dropped records as logged (going on would
     * acknowledge later zxids over the gap).  False: only a failed fsync
     * stops it; a failed write refuses writes until one succeeds again. */
    bool stop_on_any_log_failure;
    /* For the FATAL line of a log failure: why the state cannot go on, and
     * what recovery adds to "it recovers from what is on disk". */
    const char *fatal_why;
    const char *fatal_recovery;
} zk_replicator;

/* Standalone: durable is committed (request_on_durable applies + replies). */
extern const zk_replicator replicator_standalone;
/* Ensemble: durability is reported to the Zab core through s->quorum,
 * which must be set (quorum_on_log_durable, quorum_tick). */
extern const zk_replicator replicator_zab;

#endif
