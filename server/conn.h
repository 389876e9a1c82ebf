/*
 * conn.h — client connections (conn.c): sockets, framing, output
 * buffering, backpressure and resource bounds.  A zk_conn is owned by
 * s->conns while its socket is open and kept alive by references (one per
 * request in the pipeline) after it closes.
 */
#ifndef ZK_CONN_H
#define ZK_CONN_H

#include <glib.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "log.h"
#include "zk/jute.h"

typedef struct zk_server zk_server;

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
    bool out_blocked;        /* the socket took less than all of it: EPOLLOUT armed until drained */
    bool flush_queued;       /* in s->flush: written before the loop sleeps */
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
    struct sasl_digest *sasl; /* owned; the SASL DIGEST-MD5 exchange (sasl.c), NULL before the first sasl packet */
} zk_conn;

/* Opens the client port; returns 0 or -1 with *err. */
int conn_listen(zk_server *s, char **err);
/* Accepts one connection (non-blocking, close-on-exec) from listening socket
 * lfd into *ss, retrying EINTR/ECONNABORTED.  Returns the socket, or -1 with
 * errno set and *no_fds true if the process or system is out of descriptors
 * or memory for it (the caller should stop polling lfd for a while). */
int conn_accept(int lfd, struct sockaddr_storage *ss, bool *no_fds);
/* Queues bytes of a frame (the 4-byte length is added); it is written
 * before the loop sleeps (conn_before_sleep), together with everything
 * else queued on c in this iteration. */
void conn_send_frame(zk_conn *c, const uint8_t *body, size_t len);
/* The same for a frame made of two parts, head then tail (tail may be NULL
 * when tail_len is 0): a reply's header and body without copying them
 * into one buffer first. */
void conn_send_frame2(zk_conn *c, const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len);
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
 * writes the output queued in this iteration (EPOLLOUT is armed only for a
 * socket that did not take all of it), resumes reading from connections
 * whose throttle lifted (parsing what they already sent), and resumes
 * accepting after a file-descriptor shortage. */
void conn_before_sleep(zk_server *s);
/* Closes connections that have not established a session within
 * nio.sessionlessCnxnTimeout of being accepted (called once per tick). */
void conn_close_idle_handshakes(zk_server *s, int64_t now);
/* Bytes of output c may still queue before cnxnOutputLimitBytes closes it. */
size_t conn_output_room(const zk_conn *c);
/* True while reading from c is stopped (backpressure), for cons. */
bool conn_throttled(const zk_conn *c);

#endif
