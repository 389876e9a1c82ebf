/*
 * server.h — the zkserver core: the server object, client connections and
 * requests, shared by conn.c (sockets and framing), request.c (the request
 * pipeline), persist.c (recovery, log and snapshots) and fourlw.c.
 *
 * Threading: one event-loop thread owns everything here.  The transaction
 * log's writer thread and the snapshot child process only report back
 * through file descriptors the loop polls.
 *
 * The pipeline, in the order a write travels:
 *   conn.c decodes a frame -> request.c prep (validate against the tree
 *   plus outstanding changes, build the txn, assign the zxid) -> the log
 *   (group commit; for the ensemble: Zab proposal) -> once durable, apply
 *   (txn_apply: tree, sessions, watches) -> reply.  Reads are answered from
 *   the tree directly, but never ahead of an earlier write of the same
 *   connection.
 */
#ifndef ZK_SERVER_H
#define ZK_SERVER_H

#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "acl.h"
#include "config.h"
#include "loop.h"
#include "op.h"
#include "session.h"
#include "tree.h"
#include "txn.h"
#include "txnlog.h"
#include "zk/jute.h"

typedef struct zk_server zk_server;
struct quorum;

/* At most one log line per interval for a condition that can repeat fast
 * (an attacker can make it fire thousands of times a second). */
typedef struct log_limiter {
    int64_t next_ms;         /* monotonic: when the next line may be logged */
    uint64_t suppressed;     /* lines skipped since the last one logged */
} log_limiter;

/* What the server is doing (the Mode of srvr/stat). */
typedef enum { SERVER_STANDALONE, SERVER_LOOKING, SERVER_LEADING, SERVER_FOLLOWING,
               SERVER_OBSERVING } server_role;

/* A decoded client request waiting in the pipeline. */
typedef struct zk_request {
    struct zk_conn *conn;    /* NULL for internal requests (expiry, reaping); a reference */
    int64_t session_id;
    int32_t xid;
    int32_t type;
    uint8_t *body;           /* owned copy of the bytes after the RequestHeader */
    size_t body_len;
    /* The body decoded once (op.h), views into body; prep and the reads use
     * only op, and only when decoded is true. */
    zk_op op;
    bool decoded;
    int64_t zxid;            /* assigned for writes */
    uint8_t *txn;            /* owned encoded transaction, for writes */
    size_t txn_len;
    int64_t recv_ms;         /* monotonic, for latency stats */
    bool is_write;           /* becomes a transaction (else answered in order like a read) */
    bool from_connect;       /* createSession made by a ConnectRequest (else a client's frame) */
    /* createSession requests carry what the ConnectResponse needs. */
    int32_t session_timeout;
    GPtrArray *auth;         /* identities for ACL checks: the connection's (borrowed), or owned */
    bool owns_auth;
    int origin_sid;          /* leader: the learner that forwarded it (0 = local) */
    bool synced;             /* learner sync: the leader answered (zxid = point reached) */
    bool counted;            /* counts as outstanding on its connection (conn_request_begin) */
} zk_request;

typedef enum { CONN_HANDSHAKE, CONN_ESTABLISHED, CONN_CLOSING } conn_state;

typedef struct zk_conn {
    zk_server *srv;
    int fd;
    int refs;                /* 1 for the socket + 1 per request in the pipeline */
    conn_state state;
    bool closed;             /* socket gone; kept alive only by pipeline refs */
    char addr[INET6_ADDRSTRLEN];
    int port;
    uint8_t *in;             /* input buffer (owned) */
    size_t in_len, in_cap;
    jute_writer out;         /* pending output */
    size_t out_sent;
    bool close_after_flush;
    int64_t session_id;
    int32_t session_timeout;
    bool old_client;         /* ConnectRequest without the readOnly byte */
    GPtrArray *auth;         /* zk_auth_id*, owned */
    GQueue waiting;          /* zk_request* held back behind an earlier write */
    int writes_in_flight;
    /* statistics for cons / stat */
    int64_t established_ms, last_response_ms;
    uint64_t packets_received, packets_sent;
    int64_t last_cxid, last_zxid, last_latency;
    int64_t min_latency, max_latency, total_latency, latency_count;
    const char *last_op;
    int outstanding;         /* requests received, not yet answered */
    bool first_bytes_seen;   /* the 4lw sniff is done */
    bool memory;             /* no socket: conn_new_memory (in-process harnesses) */
    int64_t last_activity_ms;/* monotonic: last read or write */
    int64_t last_frame_ms;   /* monotonic: last complete frame received */
    int64_t wall_connected_ms;
    /* resource bounds (conn.c) */
    int throttle_reason;     /* why reading is stopped (conn.c THROTTLE_*), 0 = reading */
    GList throttle_link;     /* in s->throttled_output or s->throttled_requests while throttled */
    bool resume_queued;      /* in s->resume: re-checked before the loop sleeps */
    bool close_pending;      /* output limit exceeded: output is dropped, closed before sleeping */
    uint64_t throttle_count; /* how often reading was stopped */
    log_limiter throttle_log;
    struct zk_tls_conn *tls; /* owned; the TLS session on the secure port (tls.c), NULL on the plain port */
} zk_conn;

/* Change records for validating pipelined writes (Apache's outstandingChanges). */
typedef struct change_rec {
    int64_t zxid;
    char *path;              /* owned */
    bool exists;             /* false: deleted by a pending txn */
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int32_t child_count;
    zk_acl_list *acl;        /* reference, NULL when !exists */
} change_rec;

struct zk_server {
    zk_config *cfg;          /* not owned */
    zk_loop *loop;           /* owned */
    int listen_fd;
    int secure_listen_fd;    /* secureClientPort's socket, -1 if none */
    struct ssl_ctx_st *tls_ctx; /* owned (SSL_CTX_free); NULL without secureClientPort */
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
    int64_t accept_resume_ms;/* accepting paused (no file descriptors) until then; 0 = not */
    log_limiter accept_log[3];/* per refusal reason (conn.c REFUSE_*) */
    uint64_t cnxns_rejected; /* connections refused at accept (mntr connection_rejected) */
    uint64_t sessionless_expired; /* closed without a session in time (mntr sessionless_connections_expired) */
    bool serving;            /* false after a log write error: refuse writes */
    bool log_fatal;          /* the log failed for good: the server is stopping */
    struct quorum *quorum;   /* the ensemble host, NULL when standalone (owned) */
    server_role role;
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

/* --- conn.c --- */
/* Opens the client port; returns 0 or -1 with *err. */
int conn_listen(zk_server *s, char **err);
/* Accepts one connection (non-blocking, close-on-exec) from listening socket
 * lfd into *ss, retrying EINTR/ECONNABORTED.  Returns the socket, or -1 with
 * errno set and *no_fds true if the process or system is out of descriptors
 * or memory for it (the caller should stop polling lfd for a while). */
int conn_accept(int lfd, struct sockaddr_storage *ss, bool *no_fds);
/* Queues bytes of a frame (the 4-byte length is added) and arms writing. */
void conn_send_frame(zk_conn *c, const uint8_t *body, size_t len);
/* Queues raw bytes without framing (4lw output). */
void conn_send_raw(zk_conn *c, const void *p, size_t len);
/* Closes the socket now (pending requests keep the struct alive). */
void conn_close(zk_conn *c, const char *why);
/* Closes after all queued output is written. */
void conn_close_after_flush(zk_conn *c);
void conn_ref(zk_conn *c);
void conn_unref(zk_conn *c);
/*
 * The seam for running the pipeline in-process (test/fuzz): a connection
 * without a socket, from addr:port, in the handshake state and in s->conns
 * (its fd is a negative key).  Its output accumulates in c->out and is
 * never written anywhere; a close keeps it there (closed is set, and the
 * struct lives while references remain: the caller takes one with
 * conn_ref and drops it with conn_unref).
 */
zk_conn *conn_new_memory(zk_server *s, const char *addr, int port);
/* Bytes from a memory connection's client, framed and handled exactly as
 * bytes read from a socket (the 4lw sniff included). */
void conn_receive(zk_conn *c, const uint8_t *p, size_t len);
/*
 * Outstanding-request accounting (Apache's ServerCnxn
 * incrOutstandingAndCheckThrottle / decrOutstandingAndCheckThrottle):
 * every request of c that enters the pipeline is begun once and ended once
 * (answered or dropped).  Ending may let throttled connections read again.
 */
void conn_request_begin(zk_conn *c);
void conn_request_end(zk_server *s, zk_conn *c);
/* c may read again (its session is established): reading resumes, and
 * what it already sent is parsed before the loop sleeps. */
void conn_resume(zk_conn *c);
/* Before the loop sleeps: closes connections over their output limit,
 * resumes reading from connections whose throttle lifted (parsing what they
 * already sent), and resumes accepting after a file-descriptor shortage. */
void conn_before_sleep(zk_server *s);
/* Closes connections that have not established a session within
 * nio.sessionlessCnxnTimeout of being accepted (called once per tick). */
void conn_close_idle_handshakes(zk_server *s, int64_t now);
/* Bytes of output c may still queue before cnxnOutputLimitBytes closes it. */
size_t conn_output_room(const zk_conn *c);
/* True while reading from c is stopped (backpressure), for cons. */
bool conn_throttled(const zk_conn *c);

/* --- request.c --- */
/* Handles a complete frame from an established connection. */
void request_on_frame(zk_conn *c, const uint8_t *frame, size_t len);
/* Handles the first frame (ConnectRequest) of a connection. */
void request_on_connect(zk_conn *c, const uint8_t *frame, size_t len);
/* Standalone: the log made everything up to zxid durable: apply + reply. */
void request_on_durable(zk_server *s, int64_t zxid);
/* A transaction is committed (standalone: durable; ensemble: Zab delivered
 * it): apply it and answer the local request it belongs to, if any. */
void request_on_commit(zk_server *s, int64_t zxid, const uint8_t *txn, size_t len);
/* A connection went away: drop its watches and waiting requests. */
void request_on_conn_closed(zk_conn *c);
/* Periodic work: session expiry, container and TTL reaping. */
void request_tick(zk_server *s);
/* The log failed: drops everything in flight without acknowledging it. */
void request_abort_inflight(zk_server *s);
/* Points the tree's watch delivery at the client connections. */
void request_init_delivery(zk_server *s);
/* Leader: a request a learner forwarded (auth is taken over). */
void request_submit_forwarded(zk_server *s, int origin_sid, int64_t session_id, int32_t xid,
                              int32_t type, const uint8_t *body, size_t len, int32_t timeout,
                              GPtrArray *auth);
/* Learner: the leader answered a forwarded sync: everything up to zxid is committed. */
void request_on_synced(zk_server *s, int64_t session_id, int32_t xid, int64_t zxid);
/* True if clients may be served now (log healthy; in an ensemble: in a quorum). */
bool server_accepting(const zk_server *s);
/* Submits an internal closeSession (expiry) or delete (reaping). */
void request_submit_internal(zk_server *s, int64_t session_id, int32_t type, const uint8_t *body, size_t len);

/* --- persist.c --- */
/* Loads the newest snapshot and opens the log; replays the log into
 * s->tree/sessions if replay_log (standalone; an ensemble member leaves
 * the unconfirmed tail to Zab). */
int persist_recover(zk_server *s, bool replay_log, char **err);
/* Ensemble: /zookeeper/config holds the membership (a fresh or reloaded tree). */
void persist_init_config_node(zk_server *s);
/* Rebuilds the tree and sessions from disk (snapshot + the log as it is now). */
int persist_reload(zk_server *s, char **err);
/* Appends the snapshot body (tree + sessions) of the current state. */
void persist_serialize(zk_server *s, jute_writer *w);
/* Replaces the state with a snapshot body taken at zxid, writes it as a
 * snapshot file and drops every logged entry after zxid. */
int persist_install(zk_server *s, int64_t zxid, const uint8_t *body, size_t len, char **err);
/* Starts a snapshot in a forked child if none is running. */
void persist_maybe_snapshot(zk_server *s, bool force);
/* Reaps a finished snapshot child (called from the timer). */
void persist_check_snapshot(zk_server *s);
/* Event-loop callback for the log's completion fd. */
void persist_on_log_event(zk_loop *l, int fd, int events, void *ctx);
/* The log cannot be written safely any more (a failed fsync; in an ensemble
 * any failed batch): logs a FATAL line naming err, aborts everything in
 * flight (nothing of it is acknowledged) and stops the event loop;
 * server_run then returns 3.  No later flush is started or reported. */
void persist_stop_on_log_failure(zk_server *s, const char *err);

/* --- fourlw.c --- */
/* If `word` is a four-letter word, answers it on c and returns true. */
bool fourlw_handle(zk_conn *c, uint32_t word);
/* True while the server serves clients (the 4lw "running" state: standalone,
 * or an ensemble member in a synced quorum). */
bool server_is_serving(const zk_server *s);
/* The Mode srvr prints: "standalone", "leader", "follower", "observer", "looking". */
const char *server_mode_name(const zk_server *s);
/* "3.8.0-zkfs-1, built on <date> UTC", as srvr prints it. */
const char *server_version(void);

/* --- server.c --- */
/* Initialises *s for cfg (borrowed, must outlive s): an empty tree and
 * session table, the pipeline's queues and tables, the event loop; no log,
 * no listening socket, no quorum (server_run adds those; an in-process
 * harness leaves them out). */
void server_init(zk_server *s, zk_config *cfg);
/* Closes every connection, drops what is in flight and frees everything
 * s owns (quorum, log and listening socket if it has them). */
void server_destroy(zk_server *s);
/* Logs one line to stderr with a timestamp and level. */
void zk_log(const char *level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* false silences zk_log (the fuzz harnesses; default true). */
extern bool zk_log_enabled;
/* True if a line may be logged now (at most one per interval_ms); then
 * *suppressed holds how many were skipped since the previous one. */
bool log_limiter_allow(log_limiter *l, int64_t interval_ms, uint64_t *suppressed);
#define LOG_INFO(...) zk_log("INFO", __VA_ARGS__)
#define LOG_WARN(...) zk_log("WARN", __VA_ARGS__)
#define LOG_ERROR(...) zk_log("ERROR", __VA_ARGS__)
/* ServerStats.reset: packet counters, latencies, response sizes (srst,
 * and an ensemble member starting to serve, as Apache's fresh
 * ZooKeeperServer starts with zeroed stats). */
void server_reset_stats(zk_server *s);
/* Records a request's latency in the server and connection stats. */
void server_record_latency(zk_server *s, zk_conn *c, int64_t latency);

#endif
