/*
 * server.h — the zkserver core: the server object (struct zk_server) and
 * server.c's API (init, destroy, statistics).  Each module declares its own
 * API in its own header: conn.h (client connections), request.h (the
 * request pipeline), persist.h (recovery, log, snapshots), fourlw.h (four
 * letter words), log.h (logging).  server.c is the one place that wires
 * them together.
 *
 * Threading: one event-loop thread owns everything here.  The transaction
 * log's writer thread and the snapshot child process only report back
 * through file descriptors the loop polls.
 */
#ifndef ZK_SERVER_H
#define ZK_SERVER_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "log.h"
#include "loop.h"
#include "session.h"
#include "tree.h"
#include "txnlog.h"

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;
struct quorum;

/* What the server is doing (the Mode of srvr/stat). */
typedef enum { SERVER_STANDALONE, SERVER_LOOKING, SERVER_LEADING, SERVER_FOLLOWING,
               SERVER_OBSERVING } server_role;

/* The server's monotonic clock in milliseconds.  Injected so that a test
 * (an in-process harness, a simulation) can drive time itself; ctx is the
 * clock's own state (not owned). */
typedef int64_t (*zk_clock_fn)(void *ctx);

struct zk_server {
    zk_config *cfg;          /* not owned */
    zk_clock_fn clock;       /* monotonic ms; server_init sets the real clock */
    void *clock_ctx;         /* not owned */
    zk_loop *loop;           /* owned */
    int listen_fd;
    int secure_listen_fd;    /* secureClientPort's socket, -1 if none */
    struct ssl_ctx_st *tls_ctx; /* owned (SSL_CTX_free); NULL without secureClientPort */
    struct zk_sasl_login *sasl_login; /* owned (sasl_login_free); NULL without a JAAS Server section */
    zk_tree *tree;           /* owned */
    session_table sessions;
    /* owned.  NULL only in an in-process harness (test/fuzz): standalone
     * writes are then prepped and queued in inflight without logging, and
     * the harness makes them durable with request_on_durable(). */
    txnlog *log;
    char *data_dir;          /* DATADIR/zkfs-v1, owned */
    int64_t last_zxid;       /* highest zxid assigned */
    GQueue changes;          /* change_rec*, oldest first (owned) */
    GHashTable *change_by_path; /* path -> latest change_rec* */
    GQueue inflight;         /* zk_request* logged, waiting for durability, zxid order */
    GQueue forwarded;        /* learner: zk_request* sent to the leader, in order */
    GHashTable *conns;       /* fd -> zk_conn* */
    GHashTable *conns_per_ip;/* ip string -> count */
    /* resource bounds on client connections (conn.c) */
    int max_cnxns;           /* client connections allowed: maxCnxns and the fd limit */
    GQueue throttled_output; /* zk_conn* not read until their output drains (links, no refs) */
    GQueue throttled_requests; /* zk_conn* not read until fewer requests are outstanding */
    GQueue resume;           /* zk_conn* to re-check before sleeping (a reference each) */
    GQueue doomed;           /* zk_conn* to close before sleeping (a reference each) */
    GQueue flush;            /* zk_conn* with output to write before sleeping (a reference each) */
    int64_t accept_resume_ms;/* accepting paused (no file descriptors) until then; 0 = not */
    log_limiter accept_log[3];/* per refusal reason (conn.c REFUSE_*) */
    uint64_t cnxns_rejected; /* connections refused at accept (mntr connection_rejected) */
    uint64_t sessionless_expired; /* closed without a session in time (mntr sessionless_connections_expired) */
    bool serving;            /* false after a log write error: refuse writes */
    bool log_fatal;          /* a fatal failure (log, epochs, apply): stopping, exit 3 */
    struct quorum *quorum;   /* the ensemble host, NULL when standalone (owned) */
    const struct zk_replicator *repl; /* how txns commit (replicator.h; static, server.c sets it) */
    struct zk_readonly *ro;  /* owned; non-NULL while serving in read-only mode (readonly.h) */
    server_role role;
    int64_t reconfig_pending; /* leader: zxid of a reconfig proposed, not yet committed; 0 = none */
    bool stopping;
    /* snapshot state */
    pid_t snap_pid;
    int64_t snap_zxid;
    uint64_t txns_since_snap;
    int64_t last_container_check_ms;
    int64_t next_expiry_check_ms;   /* next tick boundary for expiry scans */
    /* statistics */
    int64_t start_ms;
    uint64_t packets_received, packets_sent;
    int64_t min_latency, max_latency, total_latency, latency_count;
    uint64_t fsync_batches, txns_logged;
    int outstanding;
    int64_t last_response_size, min_response_size, max_response_size; /* -1 until a reply */
    uint64_t auth_failed_count;
    /* systemd notification state (server.c) */
    bool notified_ready;
    char *notified_status;   /* owned: the last STATUS= sent */
};

/* Initialises *s for cfg (borrowed, must outlive s): an empty tree and
 * session table, the pipeline's queues and tables, the event loop; no log,
 * no listening socket, no quorum (server_run adds those; an in-process
 * harness leaves them out). */
void server_init(zk_server *s, zk_config *cfg);
/* Closes every connection, drops what is in flight and frees everything
 * s owns (quorum, log and listening socket if it has them). */
void server_destroy(zk_server *s);
/* Now on s's monotonic clock (s->clock), in milliseconds. */
int64_t server_now_ms(const zk_server *s);
/* ServerStats.reset: packet counters, latencies, response sizes (srst,
 * and an ensemble member starting to serve, as Apache's fresh
 * ZooKeeperServer starts with zeroed stats). */
void server_reset_stats(zk_server *s);
/* Fail-stop: logs "FATAL: <why>; stopping ..." at ERROR, drops everything
 * in flight unacknowledged and stops the event loop; server_run then
 * returns 3.  For failures after which going on could acknowledge what is
 * not durable or serve a diverged state.  why is borrowed.  Idempotent. */
void server_fail_stop(zk_server *s, const char *why);
/* Records a request's latency in the server and connection stats. */
void server_record_latency(zk_server *s, zk_conn *c, int64_t latency);

#endif
