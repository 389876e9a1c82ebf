/*
 * conn.c — client connections: accepting (per-IP and global limits, file
 * descriptor shortage), reading and framing (4-byte big-endian length), the
 * four-letter-word sniff on a new connection, buffered writing, closing, and
 * the resource bounds that keep one misbehaving client from hurting the
 * others (docs/security.md, "Resource bounds"):
 *
 *   - backpressure: a connection is not read (its frames stay in its socket)
 *     while its unsent output reaches cnxnOutputThrottleBytes, while more
 *     than globalOutstandingLimit requests are outstanding in the server and
 *     it has one of them (Apache's ZooKeeperServer.shouldThrottle), or while
 *     request_throttle_max_requests are in process;
 *   - a connection whose unsent output would pass cnxnOutputLimitBytes is
 *     closed (a client that does not read its replies and watch events);
 *   - a connection holding more than cnxnMaxWatches watches is closed;
 *   - a connection without a session nio.sessionlessCnxnTimeout after it
 *     was accepted is closed, however slowly it trickles bytes;
 *   - maxCnxns and the process's file descriptor limit bound the number of
 *     connections; when accept() runs out of descriptors the listening
 *     socket is left alone for a while instead of spinning.
 *
 * Connections accepted on secureClientPort read and write through their
 * TLS session (tls.c); everything above the bytes is the same.
 *
 * Frames are parsed and run from the socket callback, except that resuming
 * a throttled connection and closing one over its output limit wait for the
 * before-sleep hook, so neither happens inside the pipeline's own calls.
 *
 * Output is written without a second trip through epoll: a reply or event
 * appended to c->out puts c on s->flush, and the before-sleep hook sends
 * everything queued in the iteration at once (one send() for all of a
 * connection's replies of the iteration).  EPOLLOUT is armed only when the
 * socket did not take all of it (out_blocked), and disarmed once it drained
 * (docs/perf-notes.md, change 2).
 */
#include "conn.h"
#include "fourlw.h"
#include "request.h"
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "metrics.h"
#include "peer.h"
#include "sasl_digest.h"
#include "tls.h"

/* Why accepting a connection failed (one log limiter each). */
enum { REFUSE_MAX_CNXNS, REFUSE_PER_IP, REFUSE_NO_FDS };

/* Why a connection is not read (zk_conn.throttle_reason). */
enum { THROTTLE_NONE = 0, THROTTLE_OUTPUT, THROTTLE_OUTSTANDING, THROTTLE_THROTTLER };

#define ACCEPT_PAUSE_MS 100          /* no descriptor left: retry accept() after this */
#define LOG_INTERVAL_MS 10000        /* repeated resource warnings: one line per interval */
#define RESUME_ROUNDS 4              /* resume passes per loop iteration */

static void conn_on_event(zk_loop *l, int fd, int events, void *ctx);
static void conn_on_accept_event(zk_loop *l, int lfd, int events, void *ctx);
static void parse_input(zk_conn *c);

static size_t pending_output(const zk_conn *c)
{
    return c->out.len - c->out_sent;
}

bool conn_throttled(const zk_conn *c)
{
    return c->throttle_reason != THROTTLE_NONE;
}

static void conn_update_interest(zk_conn *c)
{
    if (c->closed || c->memory)
        return;
    int mask = 0;
    /* CONN_CLOSING: a session being settled (its frames wait in the
     * socket, as Apache's disableRecv), or a connection on its way out */
    if (!c->close_after_flush && !c->close_pending && !conn_throttled(c) && c->state != CONN_CLOSING)
        mask |= LOOP_READABLE;
    if (((c->out_blocked && pending_output(c) > 0) || tls_conn_wants_write(c)) && !c->close_pending)
        mask |= LOOP_WRITABLE;
    loop_watch(c->srv->loop, c->fd, mask, conn_on_event, c);
}

void conn_ref(zk_conn *c)
{
    c->refs++;
}

/* Has c's output written before the loop sleeps (unless the socket already
 * refused some: then EPOLLOUT is armed and writes it when it can). */
static void queue_flush(zk_conn *c)
{
    if (c->flush_queued || c->out_blocked || c->closed || c->memory)
        return;
    c->flush_queued = true;
    conn_ref(c);
    g_queue_push_tail(&c->srv->flush, c);
}

void conn_unref(zk_conn *c)
{
    if (--c->refs > 0)
        return;
    g_free(c->in);
    jw_free(&c->out);
    g_ptr_array_free(c->auth, TRUE);
    sasl_digest_free(c->sasl);
    g_free(c);
}

/* ------------------------------------------------------------------ */
/* backpressure                                                        */

/* More requests outstanding than globalOutstandingLimit allows. */
static bool over_outstanding_limit(const zk_server *s)
{
    return s->outstanding > s->cfg->global_outstanding_limit;
}

/* request_throttle_max_requests (0 = off) requests in process. */
static bool throttler_full(const zk_server *s)
{
    int max = s->cfg->request_throttle_max_requests;
    return max > 0 && s->outstanding >= max;
}

/* Why c must not be read now (THROTTLE_NONE: it may).  The outstanding
 * rule is Apache's ZooKeeperServer.shouldThrottle: over the global limit,
 * a connection with a request of its own in the server waits. */
static int read_blocker(const zk_conn *c)
{
    const zk_server *s = c->srv;
    if (pending_output(c) >= (size_t)s->cfg->cnxn_output_throttle_bytes)
        return THROTTLE_OUTPUT;
    if (over_outstanding_limit(s) && c->outstanding > 0)
        return THROTTLE_OUTSTANDING;
    if (throttler_full(s))
        return THROTTLE_THROTTLER;
    return THROTTLE_NONE;
}

static GQueue *throttle_queue(zk_server *s, int reason)
{
    return reason == THROTTLE_OUTPUT ? &s->throttled_output : &s->throttled_requests;
}

static void log_throttle(zk_conn *c, int reason)
{
    zk_server *s = c->srv;
    uint64_t skipped;
    if (!log_limiter_allow(&c->throttle_log, LOG_INTERVAL_MS, &skipped))
        return;
    char why[160];
    if (reason == THROTTLE_OUTPUT)
        g_snprintf(why, sizeof why, "%zu bytes of replies and watch events unread by the client "
                   "(cnxnOutputThrottleBytes %d)", pending_output(c), s->cfg->cnxn_output_throttle_bytes);
    else if (reason == THROTTLE_OUTSTANDING)
        g_snprintf(why, sizeof why, "%d requests outstanding in the server, %d of them its own "
                   "(globalOutstandingLimit %d)", s->outstanding, c->outstanding,
                   s->cfg->global_outstanding_limit);
    else
        g_snprintf(why, sizeof why, "%d requests in process (request_throttle_max_requests %d)",
                   s->outstanding, s->cfg->request_throttle_max_requests);
    LOG_WARN("Throttling recv of connection %s:%d session 0x%" G_GINT64_MODIFIER "x: %s; "
             "stopped reading %" G_GUINT64_FORMAT " times (%" G_GUINT64_FORMAT " not logged)",
             c->addr, c->port, c->session_id, why, c->throttle_count, skipped);
}

/* Stops reading from c (NIOServerCnxn.disableRecv). */
static void conn_throttle(zk_conn *c, int reason)
{
    if (c->throttle_reason == reason)
        return;
    zk_server *s = c->srv;
    if (conn_throttled(c))
        g_queue_unlink(throttle_queue(s, c->throttle_reason), &c->throttle_link);
    else
        c->throttle_count++;
    c->throttle_reason = reason;
    c->throttle_link.data = c;
    g_queue_push_tail_link(throttle_queue(s, reason), &c->throttle_link);
    log_throttle(c, reason);
    conn_update_interest(c);
}

/* Takes c off its throttle queue (reading resumes once interest is updated). */
static void conn_unthrottle(zk_conn *c)
{
    if (!conn_throttled(c))
        return;
    g_queue_unlink(throttle_queue(c->srv, c->throttle_reason), &c->throttle_link);
    c->throttle_reason = THROTTLE_NONE;
}

/* Has c re-checked before the loop sleeps (it may have unparsed input). */
static void queue_resume(zk_conn *c)
{
    if (c->resume_queued || c->closed)
        return;
    c->resume_queued = true;
    conn_ref(c);
    g_queue_push_tail(&c->srv->resume, c);
}

void conn_resume(zk_conn *c)
{
    conn_update_interest(c);
    queue_resume(c);
}

void conn_request_begin(zk_conn *c)
{
    c->outstanding++;
    c->srv->outstanding++;
}

void conn_request_end(zk_server *s, zk_conn *c)
{
    bool was_busy = over_outstanding_limit(s) || throttler_full(s);
    if (s->outstanding > 0)
        s->outstanding--;
    if (c && c->outstanding > 0)
        c->outstanding--;
    if (c && !c->closed && c->throttle_reason != THROTTLE_NONE && c->throttle_reason != THROTTLE_OUTPUT &&
        read_blocker(c) != c->throttle_reason)
        queue_resume(c);
    /* The global condition just lifted: every connection held back by it is
     * re-checked (each then reads at most until it blocks again). */
    if (was_busy && !over_outstanding_limit(s) && !throttler_full(s))
        for (GList *l = s->throttled_requests.head; l; l = l->next)
            queue_resume(l->data);
}

/* ------------------------------------------------------------------ */
/* closing                                                             */

void conn_close(zk_conn *c, const char *why)
{
    if (c->closed)
        return;
    zk_server *s = c->srv;
    if (why && c->session_id)
        LOG_INFO("closing connection %s:%d session 0x%" G_GINT64_MODIFIER "x: %s", c->addr, c->port,
                 c->session_id, why);
    c->closed = true;
    c->state = CONN_CLOSING;
    conn_unthrottle(c);
    if (!c->memory) {
        loop_unwatch(s->loop, c->fd);
        /* Close gracefully: send our FIN first and drop what the client
         * already sent, so the kernel does not answer unread input with a
         * RST that could overtake our last reply. */
        tls_conn_free(c);   /* close_notify first on the secure port */
        shutdown(c->fd, SHUT_WR);
        char sink[4096];
        for (int i = 0; i < 16 && recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
            ;
        close(c->fd);
    }
    g_hash_table_remove(s->conns, GINT_TO_POINTER(c->fd));
    gpointer cnt = g_hash_table_lookup(s->conns_per_ip, c->addr);
    if (cnt) {
        int n = GPOINTER_TO_INT(cnt) - 1;
        if (n > 0)
            g_hash_table_insert(s->conns_per_ip, g_strdup(c->addr), GINT_TO_POINTER(n));
        else
            g_hash_table_remove(s->conns_per_ip, c->addr);
    }
    request_on_conn_closed(c);
    c->fd = -1;
    conn_unref(c);
}

void conn_close_after_flush(zk_conn *c)
{
    c->close_after_flush = true;
    if (pending_output(c) == 0 || c->memory) {   /* a memory connection keeps its output */
        conn_close(c, NULL);
    } else {
        queue_flush(c);
        conn_update_interest(c);
    }
}

/* c's output would pass cnxnOutputLimitBytes: from now on its output is
 * dropped and it is closed before the loop sleeps (not here: the caller
 * may be in the middle of applying a transaction or firing watches). */
static void doom_for_output(zk_conn *c, size_t len)
{
    if (c->close_pending)
        return;
    zk_server *s = c->srv;
    c->close_pending = true;
    LOG_WARN("closing connection %s:%d session 0x%" G_GINT64_MODIFIER "x: %zu bytes of replies and "
             "watch events not read by the client and %zu more to send would pass cnxnOutputLimitBytes %d",
             c->addr, c->port, c->session_id, pending_output(c), len, s->cfg->cnxn_output_limit_bytes);
    conn_ref(c);
    g_queue_push_tail(&s->doomed, c);
    conn_update_interest(c);
}

size_t conn_output_room(const zk_conn *c)
{
    size_t limit = (size_t)c->srv->cfg->cnxn_output_limit_bytes, pending = pending_output(c);
    return pending < limit ? limit - pending : 0;
}

/* True if len more bytes of output may be queued on c. */
static bool output_fits(zk_conn *c, size_t len)
{
    if (c->close_pending)
        return false;
    if (pending_output(c) + len <= (size_t)c->srv->cfg->cnxn_output_limit_bytes)
        return true;
    doom_for_output(c, len);
    return false;
}

/* ------------------------------------------------------------------ */
/* writing                                                             */

static void flush_out(zk_conn *c)
{
    while (c->out_sent < c->out.len) {
        ssize_t n = c->tls ? tls_conn_send(c, c->out.buf + c->out_sent, c->out.len - c->out_sent)
                           : send(c->fd, c->out.buf + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(c, "write error");
            return;
        }
        c->out_sent += (size_t)n;
        c->last_activity_ms = loop_now_ms();
    }
    c->out_blocked = c->out_sent < c->out.len;
    if (c->out_sent == c->out.len) {
        c->out_sent = 0;
        jw_reset(&c->out);
        if (c->out.cap > (1u << 20)) {   /* give back a big burst buffer */
            jw_free(&c->out);
            jw_init(&c->out, 4096);
        }
        if (c->close_after_flush) {
            conn_close(c, NULL);
            return;
        }
    }
    /* Below the throttle: re-checked before sleeping (if something else
     * holds it back now, it moves to the queue that will wake it). */
    if (c->throttle_reason == THROTTLE_OUTPUT &&
        pending_output(c) < (size_t)c->srv->cfg->cnxn_output_throttle_bytes)
        queue_resume(c);
    conn_update_interest(c);
}

void conn_send_raw(zk_conn *c, const void *p, size_t len)
{
    if (c->closed || !output_fits(c, len))
        return;
    jw_raw(&c->out, p, len);
    queue_flush(c);
}

void conn_send_frame(zk_conn *c, const uint8_t *body, size_t len)
{
    conn_send_frame2(c, body, len, NULL, 0);
}

void conn_send_frame2(zk_conn *c, const uint8_t *head, size_t head_len, const uint8_t *tail, size_t tail_len)
{
    size_t len = head_len + tail_len;
    if (c->closed || !output_fits(c, len + 4))
        return;
    jw_int(&c->out, (int32_t)len);
    jw_raw(&c->out, head, head_len);
    if (tail_len)
        jw_raw(&c->out, tail, tail_len);
    c->packets_sent++;
    zk_server *s = c->srv;
    s->packets_sent++;
    s->last_response_size = (int64_t)len;
    if (s->min_response_size < 0 || (int64_t)len < s->min_response_size)
        s->min_response_size = (int64_t)len;
    if ((int64_t)len > s->max_response_size)
        s->max_response_size = (int64_t)len;
    queue_flush(c);
}

/* ------------------------------------------------------------------ */
/* reading                                                             */

static unsigned conn_watch_count(const zk_conn *c)
{
    const zk_tree *t = c->srv->tree;
    return watch_count_of(t->data_watches, c) + watch_count_of(t->child_watches, c);
}

/* Processes the complete frames in the input buffer, until c must wait. */
static void parse_input(zk_conn *c)
{
    zk_server *s = c->srv;
    size_t off = 0;
    while (!c->closed && !c->close_after_flush && !c->close_pending && c->state != CONN_CLOSING &&
           c->in_len - off >= 4) {
        uint32_t word = zk_be32(c->in + off);
        if (!c->first_bytes_seen) {
            c->first_bytes_seen = true;
            if (c->state == CONN_HANDSHAKE && off == 0 && fourlw_handle(c, word))
                return;
        }
        int32_t len = (int32_t)word;
        if (len < 0 || len > s->cfg->jute_maxbuffer) {
            LOG_WARN("closing connection %s:%d: Len error %d", c->addr, c->port, len);
            conn_close(c, "frame length out of range");
            return;
        }
        if (c->in_len - off - 4 < (size_t)len)
            break;
        int blocker = read_blocker(c);
        if (blocker != THROTTLE_NONE) {
            conn_throttle(c, blocker);
            break;
        }
        const uint8_t *frame = c->in + off + 4;
        off += 4 + (size_t)len;
        c->packets_received++;
        s->packets_received++;
        c->last_frame_ms = loop_now_ms();
        conn_ref(c);
        if (c->state == CONN_HANDSHAKE)
            request_on_connect(c, frame, (size_t)len);
        else if (c->state == CONN_ESTABLISHED)
            request_on_frame(c, frame, (size_t)len);
        int max_watches = s->cfg->cnxn_max_watches;
        if (!c->closed && max_watches > 0 && conn_watch_count(c) > (unsigned)max_watches) {
            LOG_WARN("closing connection %s:%d session 0x%" G_GINT64_MODIFIER "x: it holds %u watches, "
                     "more than cnxnMaxWatches %d", c->addr, c->port, c->session_id, conn_watch_count(c),
                     max_watches);
            conn_close(c, "too many watches");
        }
        bool gone = c->closed;
        conn_unref(c);
        if (gone)
            return;
    }
    if (off > 0) {
        memmove(c->in, c->in + off, c->in_len - off);
        c->in_len -= off;
    }
}

/* Makes room for at least 4096 more bytes of input.  The buffer grows with
 * what arrives (doubling, up to the frame being read), never to a length
 * prefix's word alone: a client that announces a big frame and trickles it
 * holds only what it has sent. */
static void reserve_input(zk_conn *c)
{
    if (c->in_cap - c->in_len >= 4096)
        return;
    size_t need = c->in_len + 65536;
    if (c->in_len >= 4) {
        int32_t len = (int32_t)zk_be32(c->in);
        size_t frame = (size_t)len + 4;
        if (len > 0 && len <= c->srv->cfg->jute_maxbuffer && frame > need)
            need = MIN(frame, MAX(need, c->in_cap * 2));
    }
    c->in = g_realloc(c->in, need);
    c->in_cap = need;
}

static void read_in(zk_conn *c)
{
    while (!conn_throttled(c)) {
        reserve_input(c);
        ssize_t n = c->tls ? tls_conn_recv(c, c->in + c->in_len, c->in_cap - c->in_len)
                           : recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            metrics_count(MC_BYTES_RECEIVED, (uint64_t)n);   /* ServerCnxn.packetReceived: bytes_received_count */
            c->last_activity_ms = loop_now_ms();
            conn_ref(c);
            parse_input(c);
            bool gone = c->closed;
            conn_unref(c);
            if (gone)
                return;
            if (((size_t)n < 4096 && !tls_conn_pending(c)) || c->close_pending)
                break;
            continue;
        }
        if (n == 0) {
            conn_close(c, "client closed the connection");
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            conn_close(c, "read error");
        else if (c->tls)
            conn_update_interest(c);   /* the session may wait for writability */
        return;
    }
    if (c->in_len == 0 && c->in_cap > 262144) {
        g_free(c->in);
        c->in = NULL;
        c->in_cap = 0;
    }
}

static void conn_on_event(zk_loop *l, int fd, int events, void *ctx)
{
    (void)l; (void)fd;
    zk_conn *c = ctx;
    conn_ref(c);
    bool tls_blocked = tls_conn_wants_write(c);
    if ((events & LOOP_WRITABLE) && !c->closed)
        flush_out(c);
    if ((events & LOOP_WRITABLE) && tls_blocked && !c->closed && !conn_throttled(c) && !c->close_pending)
        read_in(c);   /* a TLS read (or handshake) that waited for the socket */
    if ((events & LOOP_READABLE) && !c->closed) {
        if (!conn_throttled(c) && !c->close_pending)
            read_in(c);
        else if (events & LOOP_ERROR)
            conn_close(c, "connection reset by the client");   /* not read, but gone */
    }
    conn_unref(c);
}

/* ------------------------------------------------------------------ */
/* before the loop sleeps                                              */

/* Writes the output queued on connections in this iteration (s->flush).
 * A connection over its output limit is skipped: it is closed with its
 * output dropped. */
static void flush_queued(zk_server *s)
{
    zk_conn *c;
    while ((c = g_queue_pop_head(&s->flush))) {
        c->flush_queued = false;
        if (!c->closed && !c->close_pending && !c->out_blocked)
            flush_out(c);
        conn_unref(c);
    }
}

void conn_before_sleep(zk_server *s)
{
    zk_conn *c;
    while ((c = g_queue_pop_head(&s->doomed))) {
        conn_close(c, "output over cnxnOutputLimitBytes");
        conn_unref(c);
    }
    /* Resuming runs requests, which may queue more resumes: a few rounds
     * here, the rest on the next iteration (the loop's timer bounds the wait).
     * Output is written before each round: a connection throttled for its
     * unsent output resumes in the same pass once it drained. */
    for (int round = 0; round < RESUME_ROUNDS; round++) {
        flush_queued(s);
        if (g_queue_is_empty(&s->resume))
            break;
        GQueue batch = s->resume;
        g_queue_init(&s->resume);
        while ((c = g_queue_pop_head(&batch))) {
            c->resume_queued = false;
            int why = c->closed || !conn_throttled(c) ? THROTTLE_NONE : read_blocker(c);
            if (why != THROTTLE_NONE) {
                conn_throttle(c, why);   /* to the queue that wakes it */
            } else if (!c->closed && (conn_throttled(c) || c->in_len > 0)) {
                conn_unthrottle(c);
                conn_update_interest(c);
                conn_ref(c);
                parse_input(c);
                conn_unref(c);
            }
            conn_unref(c);
        }
    }
    flush_queued(s);   /* the replies of the last round */
    if (s->accept_resume_ms && loop_now_ms() >= s->accept_resume_ms) {
        s->accept_resume_ms = 0;
        if (s->listen_fd >= 0)
            loop_watch(s->loop, s->listen_fd, LOOP_READABLE, conn_on_accept_event, s);
        if (s->secure_listen_fd >= 0)
            loop_watch(s->loop, s->secure_listen_fd, LOOP_READABLE, conn_on_accept_event, s);
    }
}

void conn_close_idle_handshakes(zk_server *s, int64_t now)
{
    GHashTableIter ci;
    gpointer ck, cv;
    GPtrArray *idle = g_ptr_array_new();
    g_hash_table_iter_init(&ci, s->conns);
    while (g_hash_table_iter_next(&ci, &ck, &cv)) {
        zk_conn *c = cv;
        if (c->state == CONN_HANDSHAKE && now - c->established_ms > s->cfg->sessionless_cnxn_timeout)
            g_ptr_array_add(idle, c);
    }
    for (guint i = 0; i < idle->len; i++) {
        zk_conn *c = g_ptr_array_index(idle, i);
        LOG_INFO("closing connection %s:%d: no session established within %d ms "
                 "(nio.sessionlessCnxnTimeout; %" G_GUINT64_FORMAT " bytes received)",
                 c->addr, c->port, s->cfg->sessionless_cnxn_timeout, (guint64)c->in_len);
        s->sessionless_expired++;
        conn_close(c, NULL);
    }
    g_ptr_array_free(idle, TRUE);
}

/* ------------------------------------------------------------------ */
/* accepting                                                           */

/* Refuses an accepted socket, with a log line (at most one a second per reason). */
static void refuse(zk_server *s, int fd, int reason, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void refuse(zk_server *s, int fd, int reason, const char *fmt, ...)
{
    close(fd);
    s->cnxns_rejected++;
    uint64_t skipped;
    if (!log_limiter_allow(&s->accept_log[reason], 1000, &skipped))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    LOG_WARN("Error accepting new connection: %s (%" G_GUINT64_FORMAT " more refused since the last line)",
             msg, skipped);
    g_free(msg);
}

int conn_accept(int lfd, struct sockaddr_storage *ss, bool *no_fds)
{
    *no_fds = false;
    for (;;) {
        socklen_t sl = sizeof *ss;
        int fd = accept4(lfd, (struct sockaddr *)ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0)
            return fd;
        if (errno == EINTR || errno == ECONNABORTED)
            continue;
        *no_fds = errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM;
        return -1;
    }
}

/* A new connection in the handshake state (not yet in s->conns). */
static zk_conn *conn_alloc(zk_server *s, int fd, const char *addr, int port)
{
    zk_conn *c = g_new0(zk_conn, 1);
    c->srv = s;
    c->fd = fd;
    c->refs = 1;
    c->state = CONN_HANDSHAKE;
    g_strlcpy(c->addr, addr, sizeof c->addr);
    c->port = port;
    jw_init(&c->out, 4096);
    c->auth = g_ptr_array_new_with_free_func(auth_id_free);
    g_queue_init(&c->waiting);
    c->min_latency = -1;
    c->last_op = "NA";
    c->last_cxid = -1;
    c->last_zxid = -1;
    c->last_latency = 0;
    c->established_ms = loop_now_ms();
    c->last_activity_ms = c->established_ms;
    c->last_frame_ms = c->established_ms;
    c->wall_connected_ms = loop_wall_ms();
    return c;
}

static void conn_on_accept_event(zk_loop *l, int lfd, int events, void *ctx)
{
    (void)l; (void)events;
    zk_server *s = ctx;
    for (;;) {
        struct sockaddr_storage ss;
        bool no_fds;
        int fd = conn_accept(lfd, &ss, &no_fds);
        if (fd < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (no_fds) {
                /* The pending connection stays in the backlog: stop polling
                 * the listening socket for a while instead of spinning on it
                 * (Apache's AcceptThread.pauseAccept). */
                int err = errno;
                if (s->listen_fd >= 0)
                    loop_unwatch(s->loop, s->listen_fd);
                if (s->secure_listen_fd >= 0)
                    loop_unwatch(s->loop, s->secure_listen_fd);
                s->accept_resume_ms = loop_now_ms() + ACCEPT_PAUSE_MS;
                uint64_t skipped;
                if (log_limiter_allow(&s->accept_log[REFUSE_NO_FDS], 1000, &skipped))
                    LOG_WARN("Error accepting new connection: %s; not accepting for %d ms "
                             "(%u client connections open; %" G_GUINT64_FORMAT " similar lines not logged)",
                             g_strerror(err), ACCEPT_PAUSE_MS, g_hash_table_size(s->conns), skipped);
                return;
            }
            LOG_WARN("accept: %s", g_strerror(errno));
            return;
        }
        char addr[INET6_ADDRSTRLEN] = "";
        int port = 0;
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, addr, sizeof addr);
            port = ntohs(a->sin_port);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, addr, sizeof addr);
            port = ntohs(a->sin6_port);
            if (g_str_has_prefix(addr, "::ffff:"))
                memmove(addr, addr + 7, strlen(addr + 7) + 1);
        }
        guint open_cnxns = g_hash_table_size(s->conns);
        if (s->max_cnxns > 0 && open_cnxns >= (guint)s->max_cnxns) {
            refuse(s, fd, REFUSE_MAX_CNXNS, "Too many connections %u - max is %d (maxCnxns and the file descriptor limit); "
                   "refused /%s:%d", open_cnxns, s->max_cnxns, addr, port);
            continue;
        }
        int per_ip = GPOINTER_TO_INT(g_hash_table_lookup(s->conns_per_ip, addr));
        if (s->cfg->max_client_cnxns > 0 && per_ip >= s->cfg->max_client_cnxns) {
            refuse(s, fd, REFUSE_PER_IP, "Too many connections from /%s - max is %d", addr, s->cfg->max_client_cnxns);
            continue;
        }
        zk_conn *c = conn_alloc(s, fd, addr, port);
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        g_hash_table_insert(s->conns_per_ip, g_strdup(c->addr), GINT_TO_POINTER(per_ip + 1));
        /* NIOServerCnxn: every connection is authenticated as its ip. */
        auth_add(c->auth, "ip", c->addr);
        g_hash_table_insert(s->conns, GINT_TO_POINTER(fd), c);
        if (lfd == s->secure_listen_fd && !tls_conn_start(c, s->tls_ctx)) {
            conn_close(c, "cannot start a TLS session");
            continue;
        }
        conn_update_interest(c);
    }
}

/* The connection limit: maxCnxns, and never more than the descriptors the
 * process may open less what the server itself needs (log and snapshot
 * files, peer links, the election and quorum listeners), so running out of
 * descriptors refuses clients rather than failing a log roll or a peer link. */
static int effective_max_cnxns(const zk_config *cfg)
{
    struct rlimit rl;
    long fd_cap = 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        long reserve = 64 + 4 * (long)cfg->peers->len + 2 * PEER_MAX_PENDING;
        long n = (long)rl.rlim_cur;
        fd_cap = n > 2 * reserve ? n - reserve : n / 2;
    }
    long cap = cfg->max_cnxns;
    if (fd_cap > 0 && (cap == 0 || fd_cap < cap))
        cap = fd_cap;
    return (int)MIN(cap, (long)INT_MAX);
}

static int listen_on(zk_server *s, const char *key, const char *host, int port, char **err);

int conn_listen(zk_server *s, char **err)
{
    s->listen_fd = -1;
    if (s->cfg->client_port > 0) {
        s->listen_fd = listen_on(s, "clientPortAddress", s->cfg->client_port_address, s->cfg->client_port, err);
        if (s->listen_fd < 0)
            return -1;
    }
    if (s->cfg->secure_client_port > 0) {
        s->tls_ctx = tls_server_ctx_new(s->cfg, err);
        if (!s->tls_ctx)
            return -1;
        /* secureClientPortAddress, else every address (Apache: clientPortAddress does not apply) */
        s->secure_listen_fd = listen_on(s, "secureClientPortAddress", s->cfg->secure_client_port_address,
                                        s->cfg->secure_client_port, err);
        if (s->secure_listen_fd < 0)
            return -1;
        LOG_INFO("TLS on secureClientPort %d (%s)", s->cfg->secure_client_port,
                 s->cfg->secure_client_port_address ? s->cfg->secure_client_port_address : "all addresses");
    }
    s->max_cnxns = effective_max_cnxns(s->cfg);
    LOG_INFO("maxCnxns %d, maxClientCnxns %d per address: at most %d client connections "
             "(file descriptor limit included)", s->cfg->max_cnxns, s->cfg->max_client_cnxns, s->max_cnxns);
    return 0;
}

/* Opens a listening socket on port at host (the value of the setting key;
 * NULL = every address), watched by the accept handler; returns it or -1
 * with *err set. */
static int listen_on(zk_server *s, const char *key, const char *host, int port, char **err)
{
    const char *given = host;
    int fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (host && strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            goto bad_addr;
        sl = sizeof *a;
    } else if (host) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        if (strcmp(host, "localhost") == 0)
            host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            goto bad_addr;
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)port);
        a->sin6_addr = in6addr_any;
        sl = sizeof *a;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && ss.ss_family == AF_INET6 && !host) {
        /* no IPv6: fall back to IPv4 any */
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        memset(&ss, 0, sizeof ss);
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)port);
        a->sin_addr.s_addr = htonl(INADDR_ANY);
        sl = sizeof *a;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    }
    if (fd < 0) {
        *err = g_strdup_printf("socket: %s", g_strerror(errno));
        return -1;
    }
    int one = 1, zero = 0;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
    if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 512) < 0) {
        *err = g_strdup_printf("cannot listen on client port %d: %s", port,
                               g_strerror(errno));
        close(fd);
        return -1;
    }
    loop_watch(s->loop, fd, LOOP_READABLE, conn_on_accept_event, s);
    return fd;
bad_addr:
    *err = g_strdup_printf("bad %s '%s'", key, given);
    return -1;
}

zk_conn *conn_new_memory(zk_server *s, const char *addr, int port)
{
    static int next_key = -2;   /* fake descriptors: keys of s->conns only */
    zk_conn *c = conn_alloc(s, next_key--, addr, port);
    if (next_key < -1000000000)
        next_key = -2;
    c->memory = true;
    gpointer cnt = g_hash_table_lookup(s->conns_per_ip, c->addr);
    g_hash_table_insert(s->conns_per_ip, g_strdup(c->addr), GINT_TO_POINTER(GPOINTER_TO_INT(cnt) + 1));
    auth_add(c->auth, "ip", c->addr);
    g_hash_table_insert(s->conns, GINT_TO_POINTER(c->fd), c);
    return c;
}

void conn_receive(zk_conn *c, const uint8_t *p, size_t len)
{
    if (c->closed || len == 0)
        return;
    if (c->in_cap - c->in_len < len) {
        c->in_cap = c->in_len + len;
        c->in = g_realloc(c->in, c->in_cap);
    }
    memcpy(c->in + c->in_len, p, len);
    c->in_len += len;
    conn_ref(c);
    parse_input(c);
    conn_unref(c);
}
