/*
 * client.c — the client handle and its I/O thread: connect-string parsing,
 * connecting and reconnecting (same session), the pipelined request queue
 * matched by xid, pings and loss detection, digest auth and watch
 * re-registration after every connect, watch bookkeeping, session events,
 * and the asynchronous API (see include/zk/client.h).
 *
 * Threads: API functions take zk->lock only to check the state and append
 * to send_queue, then poke wake_fd.  Everything else (socket, in-flight
 * queue, watch tables, buffers) belongs to the I/O thread alone, which runs
 * every callback without holding the lock.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "client_tls.h"
#include "zk/path.h"

/* Phases of the I/O thread's connection. */
enum {
    PH_IDLE,        /* no socket; next attempt at deadline_ms */
    PH_TCP,         /* non-blocking connect in progress */
    PH_TLS,         /* TLS handshake in progress (options.tls) */
    PH_HANDSHAKE,   /* ConnectRequest sent, waiting for the response */
    PH_CONNECTED,   /* session established */
    PH_CLOSING,     /* closeSession sent, waiting for its reply */
    PH_DEAD,        /* auth failed or expired without auto_new_session */
};

/* What a request's successful reply does to the client's watch records. */
enum {
    WK_NONE,
    WK_EXISTS,      /* exists(watch): data watch if found, exist watch if not */
    WK_DATA,        /* getData(watch) */
    WK_CHILD,       /* getChildren(2)(watch) */
    WK_ADD,         /* addWatch: watch_arg is the mode */
    WK_REMOVE,      /* removeWatches: watch_arg is the watcher type */
};

/* Largest SetWatches2 packet body (as the Java client). */
#define SET_WATCHES_MAX_BYTES (128 * 1024)
#define DEFAULT_MAX_FRAME (4 * 1024 * 1024 + 64 * 1024)

/* A queued or in-flight request; owned by the queue it is in. */
typedef struct zkc_request {
    int32_t xid;
    int32_t op;
    jute_writer frame;          /* owned; freed once copied to the out buffer */
    zkc_completion_fn cb;       /* may be NULL (internal requests) */
    void *ctx;                  /* caller's, not touched */
    int watch_kind;             /* WK_* */
    int32_t watch_arg;
    char *watch_path;           /* owned; server path (chroot included) */
} zkc_request;

typedef struct zkc_host {
    char *host;                 /* owned */
    char *port;                 /* owned */
} zkc_host;

struct zkc {
    /* Immutable after zkc_open. */
    zkc_host *hosts;            /* owned array */
    size_t n_hosts;
    char *chroot;               /* owned; NULL for none */
    int session_timeout_ms, request_timeout_ms, connect_timeout_ms, max_frame;
    char *digest_auth;          /* owned; NULL for none */
    zkc_watcher_fn watcher;
    void *watcher_ctx;
    bool auto_new_session;
    zkc_tls *tls_ctx;           /* owned; NULL without TLS */
    pthread_t thread;
    int wake_fd;                /* eventfd */

    /* Shared, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cond;        /* broadcast on every state change */
    int state;                  /* ZK_STATE_* */
    bool close_requested;
    bool reconnect_requested;
    int64_t session_id;
    uint8_t passwd[16];
    int32_t passwd_len;
    int negotiated_ms;
    int32_t next_xid;
    GQueue send_queue;          /* zkc_request*, owned */
    _Atomic int64_t last_zxid;
    char *last_error;           /* owned; why the last attempt failed, or NULL */

    /* I/O thread only. */
    int phase;
    int fd;
    zkc_tls_conn *tls;          /* owned; the TLS session on fd, or NULL */
    size_t host_idx;
    size_t attempts_in_round;
    unsigned failed_rounds;
    int64_t deadline_ms;
    int64_t last_recv_ms, last_send_ms;
    bool close_done;
    GQueue inflight;            /* zkc_request*, owned, in xid order */
    GByteArray *out;            /* bytes to send */
    size_t out_off;
    uint8_t *in;                /* received bytes, owned */
    size_t in_len, in_cap;
    GHashTable *w_data, *w_exist, *w_child, *w_persistent, *w_recursive; /* server paths */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void wake(zkc *zk)
{
    uint64_t one = 1;
    ssize_t n = write(zk->wake_fd, &one, sizeof one);
    (void)n;                 /* a full counter already means "wake up" */
}

static void request_free(zkc_request *req)
{
    jw_free(&req->frame);
    g_free(req->watch_path);
    g_free(req);
}

/* Runs the request's callback with res, then frees the request. */
static void request_complete(zkc_request *req, const zkc_result *res)
{
    if (req->cb)
        req->cb(res, req->ctx);
    request_free(req);
}

static void request_fail(zkc_request *req, int32_t err)
{
    zkc_result res;
    memset(&res, 0, sizeof res);
    res.err = err;
    res.op = req->op;
    res.data_len = -1;
    request_complete(req, &res);
}

static void fail_queue(GQueue *q, int32_t err)
{
    zkc_request *req;
    while ((req = g_queue_pop_head(q)) != NULL)
        request_fail(req, err);
}

static void emit(zkc *zk, int type, int state, const char *path)
{
    if (zk->watcher)
        zk->watcher(zk, type, state, path, zk->watcher_ctx);
}

/* Sets the shared state; the send queue's requests are moved to *drained
 * when the new state is not connected. Caller holds the lock. */
static void set_state_locked(zkc *zk, int state, GQueue *drained)
{
    zk->state = state;
    if (state != ZK_STATE_SYNC_CONNECTED && drained) {
        zkc_request *req;
        while ((req = g_queue_pop_head(&zk->send_queue)) != NULL)
            g_queue_push_tail(drained, req);
    }
    pthread_cond_broadcast(&zk->cond);
}

static void clear_watches(zkc *zk)
{
    g_hash_table_remove_all(zk->w_data);
    g_hash_table_remove_all(zk->w_exist);
    g_hash_table_remove_all(zk->w_child);
    g_hash_table_remove_all(zk->w_persistent);
    g_hash_table_remove_all(zk->w_recursive);
}

/* Records why the current attempt or connection failed (zkc_last_error). */
static void set_error(zkc *zk, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void set_error(zkc *zk, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&zk->lock);
    g_free(zk->last_error);
    zk->last_error = msg;
    pthread_mutex_unlock(&zk->lock);
}

static const zkc_host *current_host(const zkc *zk)
{
    return &zk->hosts[zk->host_idx];
}

/* The TLS session's reason for its last failure, if it has one. */
static void note_tls_error(zkc *zk)
{
    const char *e = zkc_tls_conn_error(zk->tls);
    if (zk->tls && e[0])
        set_error(zk, "%s:%s: %s", current_host(zk)->host, current_host(zk)->port, e);
}

static void close_socket(zkc *zk)
{
    zkc_tls_conn_free(zk->tls);
    zk->tls = NULL;
    if (zk->fd >= 0)
        close(zk->fd);
    zk->fd = -1;
    g_byte_array_set_size(zk->out, 0);
    zk->out_off = 0;
    zk->in_len = 0;
}

/* ---- connecting ---- */

/* The attempt on the current host failed: move on to the next host, with a
 * growing pause after every full round of failures. */
static void attempt_failed(zkc *zk)
{
    close_socket(zk);
    zk->phase = PH_IDLE;
    zk->host_idx = (zk->host_idx + 1) % zk->n_hosts;
    int64_t delay = 0;
    if (++zk->attempts_in_round >= zk->n_hosts) {
        zk->attempts_in_round = 0;
        unsigned shift = zk->failed_rounds < 4 ? zk->failed_rounds : 4;
        delay = 50 << shift;         /* 50, 100, 200, 400, 800 ms */
        zk->failed_rounds++;
    }
    zk->deadline_ms = now_ms() + delay;
}

/* The connected session's connection is gone: fail what is in flight,
 * tell the watcher, and reconnect (to the next host, at once). */
static void connection_lost(zkc *zk)
{
    GQueue drained = G_QUEUE_INIT;
    close_socket(zk);
    pthread_mutex_lock(&zk->lock);
    set_state_locked(zk, ZK_STATE_DISCONNECTED, &drained);
    pthread_mutex_unlock(&zk->lock);
    fail_queue(&zk->inflight, ZCONNECTIONLOSS);
    fail_queue(&drained, ZCONNECTIONLOSS);
    emit(zk, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL);
    zk->phase = PH_IDLE;
    zk->attempts_in_round = 0;
    zk->host_idx = (zk->host_idx + 1) % zk->n_hosts;
    zk->deadline_ms = now_ms();
}

/* Any socket failure, whatever the phase. */
static void socket_failed(zkc *zk)
{
    note_tls_error(zk);
    switch (zk->phase) {
    case PH_TCP:
    case PH_TLS:
    case PH_HANDSHAKE:
        attempt_failed(zk);
        break;
    case PH_CONNECTED:
        connection_lost(zk);
        break;
    case PH_CLOSING:
        close_socket(zk);
        zk->close_done = true;
        break;
    default:
        close_socket(zk);
        break;
    }
}

static void send_connect_request(zkc *zk)
{
    jute_writer w;
    jw_init(&w, 64);
    jw_int(&w, 0);
    zk_connect_request req;
    memset(&req, 0, sizeof req);
    pthread_mutex_lock(&zk->lock);
    uint8_t passwd[16];
    memcpy(passwd, zk->passwd, sizeof passwd);
    req.protocol_version = 0;
    req.last_zxid_seen = atomic_load(&zk->last_zxid);
    req.timeout = zk->session_timeout_ms;
    req.session_id = zk->session_id;
    req.passwd.ptr = (const char *)passwd;
    req.passwd.len = zk->session_id ? zk->passwd_len : 16;
    pthread_mutex_unlock(&zk->lock);
    req.read_only = false;
    zk_connect_request_write(&w, &req);
    zkc_frame_end(&w);
    g_byte_array_append(zk->out, w.buf, (guint)w.len);
    jw_free(&w);
    zk->phase = PH_HANDSHAKE;
    zk->deadline_ms = now_ms() + zk->connect_timeout_ms;
}

/* One step of the TLS handshake (phase PH_TLS); on success the
 * ConnectRequest goes out. */
static void tls_step(zkc *zk)
{
    char *err = NULL;
    int r = zkc_tls_conn_handshake(zk->tls, &err);
    if (r == 0)
        return;
    if (r < 0) {
        set_error(zk, "%s:%s: %s", current_host(zk)->host, current_host(zk)->port, err);
        g_free(err);
        attempt_failed(zk);
        return;
    }
    send_connect_request(zk);
}

static void on_tcp_connected(zkc *zk)
{
    if (!zk->tls_ctx) {
        send_connect_request(zk);
        return;
    }
    char *err = NULL;
    zk->tls = zkc_tls_conn_new(zk->tls_ctx, zk->fd, current_host(zk)->host, &err);
    if (!zk->tls) {
        set_error(zk, "%s", err);
        g_free(err);
        attempt_failed(zk);
        return;
    }
    zk->phase = PH_TLS;
    zk->deadline_ms = now_ms() + zk->connect_timeout_ms;
    tls_step(zk);
}

static void start_attempt(zkc *zk)
{
    const zkc_host *h = &zk->hosts[zk->host_idx];
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    int gai = getaddrinfo(h->host, h->port, &hints, &res);
    if (gai != 0 || res == NULL) {
        set_error(zk, "%s:%s: %s", h->host, h->port, gai ? gai_strerror(gai) : "no address");
        if (res)
            freeaddrinfo(res);
        attempt_failed(zk);
        return;
    }
    int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        freeaddrinfo(res);
        attempt_failed(zk);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(fd, res->ai_addr, res->ai_addrlen);
    freeaddrinfo(res);
    zk->fd = fd;
    if (rc == 0) {
        on_tcp_connected(zk);
    } else if (errno == EINPROGRESS) {
        zk->phase = PH_TCP;
        zk->deadline_ms = now_ms() + zk->connect_timeout_ms;
    } else {
        set_error(zk, "%s:%s: connect: %s", h->host, h->port, g_strerror(errno));
        attempt_failed(zk);
    }
}

/* Appends the SetWatches2 packets (xid -8) re-registering every watch. */
static void queue_set_watches(zkc *zk)
{
    GHashTable *tables[5] = { zk->w_data, zk->w_exist, zk->w_child, zk->w_persistent,
                              zk->w_recursive };
    GPtrArray *lists[5];
    size_t idx[5] = { 0 }, total = 0;
    for (int k = 0; k < 5; k++) {
        lists[k] = g_ptr_array_new();
        GHashTableIter it;
        gpointer key;
        g_hash_table_iter_init(&it, tables[k]);
        while (g_hash_table_iter_next(&it, &key, NULL))
            g_ptr_array_add(lists[k], key);
        total += lists[k]->len;
    }
    size_t done = 0;
    while (done < total) {
        jute_writer w;
        jw_init(&w, 256);
        zkc_frame_begin(&w, ZK_XID_SETWATCHES, ZK_OP_SETWATCHES2);
        jw_long(&w, atomic_load(&zk->last_zxid));
        size_t budget = SET_WATCHES_MAX_BYTES, in_frame = 0;
        for (int k = 0; k < 5; k++) {
            size_t count_off = w.len;
            int32_t count = 0;
            jw_int(&w, 0);
            while (idx[k] < lists[k]->len) {
                const char *p = g_ptr_array_index(lists[k], idx[k]);
                size_t len = strlen(p) + 4;
                if (in_frame > 0 && len > budget)
                    break;
                jw_string(&w, p);
                budget = len > budget ? 0 : budget - len;
                idx[k]++;
                in_frame++;
                count++;
                done++;
            }
            jw_patch_int(&w, count_off, count);
        }
        zkc_frame_end(&w);
        g_byte_array_append(zk->out, w.buf, (guint)w.len);
        jw_free(&w);
    }
    for (int k = 0; k < 5; k++)
        g_ptr_array_free(lists[k], TRUE);
}

static void queue_auth(zkc *zk)
{
    jute_writer w;
    jw_init(&w, 64);
    zkc_frame_begin(&w, ZK_XID_AUTH, ZK_OP_AUTH);
    jw_int(&w, 0);
    jw_string(&w, "digest");
    jw_buffer(&w, zk->digest_auth, (int32_t)strlen(zk->digest_auth));
    zkc_frame_end(&w);
    g_byte_array_append(zk->out, w.buf, (guint)w.len);
    jw_free(&w);
}

/* The ConnectResponse.  Returns false if the connection was closed. */
static bool on_handshake(zkc *zk, const uint8_t *frame, size_t len)
{
    jute_reader r;
    zk_connect_response resp;
    jr_init(&r, frame, len);
    if (!zk_connect_response_read(&r, &resp) || resp.passwd.len > 16) {
        attempt_failed(zk);
        return false;
    }
    if (resp.timeout <= 0 || resp.session_id == 0) {
        /* The session expired (or was never accepted). */
        GQueue drained = G_QUEUE_INIT;
        close_socket(zk);
        clear_watches(zk);
        pthread_mutex_lock(&zk->lock);
        zk->session_id = 0;
        zk->passwd_len = 0;
        memset(zk->passwd, 0, sizeof zk->passwd);
        zk->negotiated_ms = 0;
        set_state_locked(zk, ZK_STATE_EXPIRED, &drained);
        pthread_mutex_unlock(&zk->lock);
        fail_queue(&drained, ZSESSIONEXPIRED);
        emit(zk, ZK_EVENT_NONE, ZK_STATE_EXPIRED, NULL);
        if (zk->auto_new_session) {
            zk->phase = PH_IDLE;
            zk->deadline_ms = now_ms();
        } else {
            zk->phase = PH_DEAD;
        }
        return false;
    }
    pthread_mutex_lock(&zk->lock);
    zk->session_id = resp.session_id;
    zk->passwd_len = resp.passwd.len > 0 ? resp.passwd.len : 0;
    memset(zk->passwd, 0, sizeof zk->passwd);
    if (zk->passwd_len > 0)
        memcpy(zk->passwd, resp.passwd.ptr, (size_t)zk->passwd_len);
    zk->negotiated_ms = resp.timeout;
    g_free(zk->last_error);
    zk->last_error = NULL;
    pthread_mutex_unlock(&zk->lock);

    /* Auth and watches go out before any user request. */
    if (zk->digest_auth)
        queue_auth(zk);
    queue_set_watches(zk);

    pthread_mutex_lock(&zk->lock);
    set_state_locked(zk, ZK_STATE_SYNC_CONNECTED, NULL);
    pthread_mutex_unlock(&zk->lock);
    zk->phase = PH_CONNECTED;
    zk->last_recv_ms = zk->last_send_ms = now_ms();
    zk->failed_rounds = 0;
    zk->attempts_in_round = 0;
    emit(zk, ZK_EVENT_NONE, ZK_STATE_SYNC_CONNECTED, NULL);
    return true;
}

/* ---- replies and events ---- */

static void watch_add(GHashTable *t, const char *path)
{
    if (!g_hash_table_contains(t, path))
        g_hash_table_add(t, g_strdup(path));
}

static void record_watch(zkc *zk, const zkc_request *req, int32_t err)
{
    switch (req->watch_kind) {
    case WK_EXISTS:
        if (err == ZOK)
            watch_add(zk->w_data, req->watch_path);
        else if (err == ZNONODE)
            watch_add(zk->w_exist, req->watch_path);
        break;
    case WK_DATA:
        if (err == ZOK)
            watch_add(zk->w_data, req->watch_path);
        break;
    case WK_CHILD:
        if (err == ZOK)
            watch_add(zk->w_child, req->watch_path);
        break;
    case WK_ADD:
        if (err == ZOK)
            watch_add(req->watch_arg == ZK_ADDWATCH_PERSISTENT_RECURSIVE ? zk->w_recursive
                                                                         : zk->w_persistent,
                      req->watch_path);
        break;
    case WK_REMOVE:
        if (err != ZOK)
            break;
        if (req->watch_arg == ZK_WATCHER_CHILDREN || req->watch_arg == ZK_WATCHER_ANY)
            g_hash_table_remove(zk->w_child, req->watch_path);
        if (req->watch_arg == ZK_WATCHER_DATA || req->watch_arg == ZK_WATCHER_ANY) {
            g_hash_table_remove(zk->w_data, req->watch_path);
            g_hash_table_remove(zk->w_exist, req->watch_path);
        }
        if (req->watch_arg == ZK_WATCHER_ANY) {
            g_hash_table_remove(zk->w_persistent, req->watch_path);
            g_hash_table_remove(zk->w_recursive, req->watch_path);
        }
        break;
    default:
        break;
    }
}

static void on_event(zkc *zk, jute_reader *r)
{
    zk_watcher_event ev;
    if (!zk_watcher_event_read(r, &ev))
        return;
    zkc_arena arena;
    zkc_arena_init(&arena);
    const char *path = ev.path.len >= 0 ? zkc_arena_strdup(&arena, ev.path, 0) : NULL;
    if (path) {
        /* One-shot watches are consumed (persistent ones stay). */
        switch (ev.type) {
        case ZK_EVENT_CREATED:
        case ZK_EVENT_DATA_CHANGED:
            g_hash_table_remove(zk->w_data, path);
            g_hash_table_remove(zk->w_exist, path);
            break;
        case ZK_EVENT_DELETED:
            g_hash_table_remove(zk->w_data, path);
            g_hash_table_remove(zk->w_exist, path);
            g_hash_table_remove(zk->w_child, path);
            break;
        case ZK_EVENT_CHILD_CHANGED:
            g_hash_table_remove(zk->w_child, path);
            break;
        default:
            break;
        }
    }
    emit(zk, ev.type, ev.state, zkc_strip_chroot(zk->chroot, path));
    zkc_arena_clear(&arena);
}

static void auth_failed(zkc *zk)
{
    GQueue drained = G_QUEUE_INIT;
    close_socket(zk);
    pthread_mutex_lock(&zk->lock);
    set_state_locked(zk, ZK_STATE_AUTH_FAILED, &drained);
    pthread_mutex_unlock(&zk->lock);
    fail_queue(&zk->inflight, ZAUTHFAILED);
    fail_queue(&drained, ZAUTHFAILED);
    zk->phase = PH_DEAD;
    emit(zk, ZK_EVENT_NONE, ZK_STATE_AUTH_FAILED, NULL);
}

/* One frame on an established connection.  Returns false if the
 * connection was closed (the caller stops parsing). */
static bool on_reply(zkc *zk, const uint8_t *frame, size_t len)
{
    jute_reader r;
    zk_reply_header hdr;
    jr_init(&r, frame, len);
    if (!zk_reply_header_read(&r, &hdr)) {
        socket_failed(zk);
        return false;
    }
    if (hdr.zxid > 0) {
        int64_t seen = atomic_load(&zk->last_zxid);
        while (hdr.zxid > seen && !atomic_compare_exchange_weak(&zk->last_zxid, &seen, hdr.zxid))
            ;
    }
    switch (hdr.xid) {
    case ZK_XID_PING:
    case ZK_XID_SETWATCHES:
        return true;
    case ZK_XID_NOTIFICATION:
        on_event(zk, &r);
        return true;
    case ZK_XID_AUTH:
        if (hdr.err != ZOK) {
            auth_failed(zk);
            return false;
        }
        return true;
    default:
        break;
    }
    zkc_request *req = g_queue_peek_head(&zk->inflight);
    if (req == NULL || req->xid != hdr.xid) {
        g_message("zk client: reply xid %d does not match the request in flight (%d)",
                  hdr.xid, req ? req->xid : 0);
        socket_failed(zk);
        return false;
    }
    g_queue_pop_head(&zk->inflight);
    if (req->op == ZK_OP_CLOSESESSION)
        zk->close_done = true;

    zkc_result res;
    memset(&res, 0, sizeof res);
    res.err = hdr.err;
    res.op = req->op;
    res.zxid = hdr.zxid;
    res.data_len = -1;
    zkc_arena arena;
    zkc_arena_init(&arena);
    if (hdr.err == ZOK && !zkc_decode_reply(req->op, &r, &arena, zk->chroot, &res)) {
        zkc_arena_clear(&arena);
        request_fail(req, ZCONNECTIONLOSS);
        socket_failed(zk);
        return false;
    }
    record_watch(zk, req, hdr.err);
    request_complete(req, &res);
    zkc_arena_clear(&arena);
    return true;
}

static bool on_frame(zkc *zk, const uint8_t *frame, size_t len)
{
    zk->last_recv_ms = now_ms();
    if (zk->phase == PH_HANDSHAKE)
        return on_handshake(zk, frame, len);
    return on_reply(zk, frame, len);
}

/* ---- socket I/O ---- */

static void do_write(zkc *zk)
{
    while (zk->fd >= 0 && zk->out_off < zk->out->len) {
        ssize_t n = zk->tls ? zkc_tls_conn_write(zk->tls, zk->out->data + zk->out_off,
                                                 zk->out->len - zk->out_off)
                            : send(zk->fd, zk->out->data + zk->out_off, zk->out->len - zk->out_off,
                                   MSG_NOSIGNAL);
        if (n > 0) {
            zk->out_off += (size_t)n;
            zk->last_send_ms = now_ms();
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        } else {
            socket_failed(zk);
            return;
        }
    }
    if (zk->fd >= 0) {
        g_byte_array_set_size(zk->out, 0);
        zk->out_off = 0;
    }
}

/* Handles every complete frame in the input buffer; false if the
 * connection was closed meanwhile (the buffer is then already reset). */
static bool parse_in(zkc *zk)
{
    size_t pos = 0;
    while (zk->in_len - pos >= 4) {
        uint32_t flen = zk_be32(zk->in + pos);
        if (flen > (uint32_t)zk->max_frame) {
            g_message("zk client: reply of %u bytes exceeds the limit", flen);
            socket_failed(zk);
            return false;
        }
        if (zk->in_len - pos - 4 < flen)
            break;
        if (!on_frame(zk, zk->in + pos + 4, flen))
            return false;        /* connection closed: buffer already reset */
        pos += 4 + flen;
    }
    if (pos > 0) {
        memmove(zk->in, zk->in + pos, zk->in_len - pos);
        zk->in_len -= pos;
    }
    return true;
}

static void do_read(zkc *zk)
{
    for (int rounds = 0; rounds < 16 && zk->fd >= 0; rounds++) {
        if (zk->in_cap - zk->in_len < 65536) {
            zk->in_cap = zk->in_len + 65536;
            zk->in = g_realloc(zk->in, zk->in_cap);
        }
        ssize_t n = zk->tls ? zkc_tls_conn_read(zk->tls, zk->in + zk->in_len, zk->in_cap - zk->in_len)
                            : recv(zk->fd, zk->in + zk->in_len, zk->in_cap - zk->in_len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            socket_failed(zk);
            return;
        }
        zk->in_len += (size_t)n;
        if (!parse_in(zk) || zk->fd < 0)
            return;
    }
}

/* Moves queued requests to the out buffer and the in-flight queue. */
static void take_send_queue_locked(zkc *zk)
{
    zkc_request *req;
    while ((req = g_queue_pop_head(&zk->send_queue)) != NULL) {
        g_byte_array_append(zk->out, req->frame.buf, (guint)req->frame.len);
        jw_free(&req->frame);
        g_queue_push_tail(&zk->inflight, req);
    }
}

static void start_close(zkc *zk)
{
    zkc_request *req = g_new0(zkc_request, 1);
    req->op = ZK_OP_CLOSESESSION;
    jw_init(&req->frame, 16);
    pthread_mutex_lock(&zk->lock);
    req->xid = zk->next_xid++;
    if (zk->next_xid <= 0)
        zk->next_xid = 1;
    pthread_mutex_unlock(&zk->lock);
    zkc_frame_begin(&req->frame, req->xid, ZK_OP_CLOSESESSION);
    zkc_frame_end(&req->frame);
    g_byte_array_append(zk->out, req->frame.buf, (guint)req->frame.len);
    jw_free(&req->frame);
    g_queue_push_tail(&zk->inflight, req);
    zk->phase = PH_CLOSING;
    zk->deadline_ms = now_ms() + zk->request_timeout_ms;
}

static void *io_thread_main(void *arg)
{
    zkc *zk = arg;
    /* OpenSSL writes with write(2), without MSG_NOSIGNAL: a peer that
     * closed must not kill the process with SIGPIPE (the signal stays
     * pending on this thread, which never unblocks it). */
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, NULL);
    static const uint8_t ping_frame[12] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11 };
    zk->phase = PH_IDLE;
    zk->deadline_ms = now_ms();
    for (;;) {
        pthread_mutex_lock(&zk->lock);
        bool close_req = zk->close_requested;
        bool reconnect_req = zk->reconnect_requested;
        zk->reconnect_requested = false;
        if (zk->phase == PH_CONNECTED || zk->phase == PH_CLOSING)
            take_send_queue_locked(zk);
        pthread_mutex_unlock(&zk->lock);

        if (reconnect_req && zk->phase == PH_CONNECTED && !close_req)
            connection_lost(zk);
        if (close_req) {
            if (zk->phase == PH_CONNECTED)
                start_close(zk);
            else if (zk->phase != PH_CLOSING)
                break;
        }

        int64_t now = now_ms();
        int negotiated = zk->negotiated_ms > 0 ? zk->negotiated_ms : zk->session_timeout_ms;
        int64_t read_timeout = negotiated * 2 / 3, ping_interval = negotiated / 3;
        switch (zk->phase) {
        case PH_IDLE:
            if (now >= zk->deadline_ms)
                start_attempt(zk);
            break;
        case PH_TCP:
        case PH_TLS:
        case PH_HANDSHAKE:
            if (now >= zk->deadline_ms) {
                set_error(zk, "%s:%s: %s timed out after %d ms", current_host(zk)->host,
                          current_host(zk)->port,
                          zk->phase == PH_TCP   ? "TCP connect"
                          : zk->phase == PH_TLS ? "TLS handshake"
                                                : "session handshake",
                          zk->connect_timeout_ms);
                attempt_failed(zk);
            }
            break;
        case PH_CONNECTED:
            if (now - zk->last_recv_ms >= read_timeout)
                connection_lost(zk);
            else if (now - zk->last_send_ms >= ping_interval && zk->out->len == zk->out_off)
                g_byte_array_append(zk->out, ping_frame, sizeof ping_frame);
            break;
        case PH_CLOSING:
            if (now >= zk->deadline_ms)
                zk->close_done = true;
            break;
        default:
            break;
        }
        if (zk->phase == PH_CLOSING && zk->close_done)
            break;
        if (zk->fd >= 0 && zk->phase != PH_TCP && zk->phase != PH_TLS && zk->out_off < zk->out->len)
            do_write(zk);

        /* Sleep until the next timer, I/O or a wake-up. */
        now = now_ms();
        int64_t wait = 1000;
        switch (zk->phase) {
        case PH_IDLE:
        case PH_TCP:
        case PH_TLS:
        case PH_HANDSHAKE:
        case PH_CLOSING:
            wait = zk->deadline_ms - now;
            break;
        case PH_CONNECTED: {
            int64_t a = zk->last_recv_ms + read_timeout - now;
            int64_t b = zk->last_send_ms + ping_interval - now;
            wait = a < b ? a : b;
            break;
        }
        default:
            break;
        }
        if (wait < 0 || zkc_tls_conn_pending(zk->tls))
            wait = 0;                /* decrypted bytes wait inside the session */
        if (wait > 1000)
            wait = 1000;
        struct pollfd pfd[2] = { { zk->wake_fd, POLLIN, 0 }, { zk->fd, 0, 0 } };
        nfds_t nfds = 1;
        if (zk->fd >= 0) {
            nfds = 2;
            if (zk->phase == PH_TCP)
                pfd[1].events = POLLOUT;
            else
                pfd[1].events = POLLIN | (zk->out_off < zk->out->len || zkc_tls_conn_wants_write(zk->tls)
                                              ? POLLOUT
                                              : 0);
        }
        int rc = poll(pfd, nfds, (int)wait);
        if (rc < 0 && errno != EINTR) {
            g_message("zk client: poll: %s", g_strerror(errno));
            usleep(10000);
            continue;
        }
        if (rc == 0 && zkc_tls_conn_pending(zk->tls) && zk->phase != PH_TLS) {
            do_read(zk);
            continue;
        }
        if (rc <= 0)
            continue;
        if (pfd[0].revents & POLLIN) {
            uint64_t count;
            ssize_t n = read(zk->wake_fd, &count, sizeof count);
            (void)n;
        }
        if (nfds == 2 && zk->fd >= 0 && pfd[1].revents) {
            if (zk->phase == PH_TCP) {
                int soerr = 0;
                socklen_t sl = sizeof soerr;
                if (getsockopt(zk->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0 || soerr != 0) {
                    set_error(zk, "%s:%s: connect: %s", current_host(zk)->host, current_host(zk)->port,
                              g_strerror(soerr ? soerr : errno));
                    attempt_failed(zk);
                } else {
                    on_tcp_connected(zk);
                }
            } else if (zk->phase == PH_TLS) {
                tls_step(zk);
            } else {
                /* A TLS session may need to read to write, or the reverse. */
                if ((pfd[1].revents & (POLLIN | POLLHUP | POLLERR)) || zk->tls)
                    do_read(zk);
                if (zk->fd >= 0 && (pfd[1].revents & POLLOUT))
                    do_write(zk);
            }
        }
    }

    /* Closed: everything outstanding completes with ZCLOSING. */
    GQueue drained = G_QUEUE_INIT;
    close_socket(zk);
    pthread_mutex_lock(&zk->lock);
    set_state_locked(zk, ZK_STATE_CLOSED, &drained);
    pthread_mutex_unlock(&zk->lock);
    fail_queue(&zk->inflight, ZCLOSING);
    fail_queue(&drained, ZCLOSING);
    emit(zk, ZK_EVENT_NONE, ZK_STATE_CLOSED, NULL);
    return NULL;
}

/* ---- handle lifecycle ---- */

void zkc_options_init(zkc_options *o)
{
    memset(o, 0, sizeof *o);
    o->session_timeout_ms = 10000;
    o->request_timeout_ms = 5000;
    o->auto_new_session = true;
}

/* Parses "host:port,host:port[/chroot]" into zk->hosts and zk->chroot. */
static bool parse_hosts(zkc *zk, const char *spec, char **err)
{
    const char *slash = strchr(spec, '/');
    char *list = slash ? g_strndup(spec, (gsize)(slash - spec)) : g_strdup(spec);
    if (slash && strcmp(slash, "/") != 0) {
        if (!zk_path_valid(slash, strlen(slash))) {
            if (err)
                *err = g_strdup_printf("invalid chroot '%s'", slash);
            g_free(list);
            return false;
        }
        zk->chroot = g_strdup(slash);
    }
    char **parts = g_strsplit(list, ",", -1);
    g_free(list);
    GArray *hosts = g_array_new(FALSE, TRUE, sizeof(zkc_host));
    for (char **p = parts; *p; p++) {
        char *item = g_strstrip(*p);
        if (*item == '\0')
            continue;
        zkc_host h = { NULL, NULL };
        const char *colon;
        if (item[0] == '[') {
            const char *close = strchr(item, ']');
            if (!close)
                break;
            h.host = g_strndup(item + 1, (gsize)(close - item - 1));
            colon = close[1] == ':' ? close + 1 : NULL;
        } else {
            colon = strrchr(item, ':');
            h.host = colon ? g_strndup(item, (gsize)(colon - item)) : g_strdup(item);
        }
        h.port = g_strdup(colon && colon[1] ? colon + 1 : "2181");
        char *end;
        long port = strtol(h.port, &end, 10);
        if (*end != '\0' || port <= 0 || port > 65535 || *h.host == '\0') {
            if (err)
                *err = g_strdup_printf("invalid host '%s'", item);
            g_free(h.host);
            g_free(h.port);
            for (guint i = 0; i < hosts->len; i++) {
                g_free(g_array_index(hosts, zkc_host, i).host);
                g_free(g_array_index(hosts, zkc_host, i).port);
            }
            g_array_free(hosts, TRUE);
            g_strfreev(parts);
            return false;
        }
        g_array_append_val(hosts, h);
    }
    g_strfreev(parts);
    if (hosts->len == 0) {
        g_array_free(hosts, TRUE);
        if (err)
            *err = g_strdup("no host in the connect string");
        return false;
    }
    zk->n_hosts = hosts->len;
    zk->hosts = (zkc_host *)(void *)g_array_free(hosts, FALSE);
    return true;
}

static void handle_free(zkc *zk)
{
    for (size_t i = 0; i < zk->n_hosts; i++) {
        g_free(zk->hosts[i].host);
        g_free(zk->hosts[i].port);
    }
    g_free(zk->hosts);
    g_free(zk->chroot);
    g_free(zk->digest_auth);
    g_free(zk->last_error);
    zkc_tls_free(zk->tls_ctx);
    if (zk->wake_fd >= 0)
        close(zk->wake_fd);
    pthread_mutex_destroy(&zk->lock);
    pthread_cond_destroy(&zk->cond);
    g_byte_array_unref(zk->out);
    g_free(zk->in);
    g_hash_table_destroy(zk->w_data);
    g_hash_table_destroy(zk->w_exist);
    g_hash_table_destroy(zk->w_child);
    g_hash_table_destroy(zk->w_persistent);
    g_hash_table_destroy(zk->w_recursive);
    g_free(zk);
}

/* A handle without its I/O thread (zkc_open starts it). */
static zkc *handle_new(const zkc_options *opts, char **err)
{
    if (err)
        *err = NULL;
    if (opts == NULL || opts->hosts == NULL) {
        if (err)
            *err = g_strdup("no connect string");
        return NULL;
    }
    zkc *zk = g_new0(zkc, 1);
    zk->fd = -1;
    zk->wake_fd = -1;
    pthread_mutex_init(&zk->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&zk->cond, &ca);
    pthread_condattr_destroy(&ca);
    g_queue_init(&zk->send_queue);
    g_queue_init(&zk->inflight);
    zk->out = g_byte_array_new();
    zk->w_data = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    zk->w_exist = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    zk->w_child = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    zk->w_persistent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    zk->w_recursive = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    zk->state = ZK_STATE_DISCONNECTED;
    zk->next_xid = 1;
    if (!parse_hosts(zk, opts->hosts, err)) {
        handle_free(zk);
        return NULL;
    }
    if (opts->shuffle_hosts)
        for (size_t i = zk->n_hosts; i > 1; i--) {
            size_t j = (size_t)g_random_int_range(0, (gint32)i);
            zkc_host t = zk->hosts[i - 1];
            zk->hosts[i - 1] = zk->hosts[j];
            zk->hosts[j] = t;
        }
    zk->session_timeout_ms = opts->session_timeout_ms > 0 ? opts->session_timeout_ms : 10000;
    zk->request_timeout_ms = opts->request_timeout_ms > 0 ? opts->request_timeout_ms : 5000;
    zk->connect_timeout_ms = opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                          : zk->session_timeout_ms / 3;
    zk->max_frame = opts->max_frame_bytes > 0 ? opts->max_frame_bytes : DEFAULT_MAX_FRAME;
    zk->digest_auth = opts->digest_auth ? g_strdup(opts->digest_auth) : NULL;
    zk->watcher = opts->watcher;
    zk->watcher_ctx = opts->watcher_ctx;
    zk->auto_new_session = opts->auto_new_session;
    if (opts->tls) {
        char *terr = NULL;
        zk->tls_ctx = zkc_tls_new(opts, &terr);
        if (!zk->tls_ctx) {
            if (err)
                *err = terr;
            else
                g_free(terr);
            handle_free(zk);
            return NULL;
        }
    }
    zk->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (zk->wake_fd < 0) {
        if (err)
            *err = g_strdup_printf("eventfd: %s", g_strerror(errno));
        handle_free(zk);
        return NULL;
    }
    return zk;
}

zkc *zkc_open(const zkc_options *opts, char **err)
{
    zkc *zk = handle_new(opts, err);
    if (!zk)
        return NULL;
    int rc = pthread_create(&zk->thread, NULL, io_thread_main, zk);
    if (rc != 0) {
        if (err)
            *err = g_strdup_printf("pthread_create: %s", g_strerror(rc));
        handle_free(zk);
        return NULL;
    }
    return zk;
}

bool zkc_options_check(const zkc_options *opts, char **err)
{
    zkc *zk = handle_new(opts, err);
    if (!zk)
        return false;
    handle_free(zk);
    return true;
}

int zkc_wait_connected(zkc *zk, int timeout_ms)
{
    if (timeout_ms < 0)
        timeout_ms = 0;
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    int result = ZOPERATIONTIMEOUT;
    pthread_mutex_lock(&zk->lock);
    for (;;) {
        if (zk->close_requested || zk->state == ZK_STATE_CLOSED) {
            result = ZCLOSING;
            break;
        }
        if (zk->state == ZK_STATE_SYNC_CONNECTED) {
            result = ZOK;
            break;
        }
        if (zk->state == ZK_STATE_AUTH_FAILED) {
            result = ZAUTHFAILED;
            break;
        }
        if (zk->state == ZK_STATE_EXPIRED && !zk->auto_new_session) {
            result = ZSESSIONEXPIRED;
            break;
        }
        if (pthread_cond_timedwait(&zk->cond, &zk->lock, &deadline) == ETIMEDOUT)
            break;
    }
    pthread_mutex_unlock(&zk->lock);
    return result;
}

int zkc_state(zkc *zk)
{
    pthread_mutex_lock(&zk->lock);
    int state = zk->state;
    pthread_mutex_unlock(&zk->lock);
    return state;
}

int64_t zkc_session_id(zkc *zk)
{
    pthread_mutex_lock(&zk->lock);
    int64_t id = zk->session_id;
    pthread_mutex_unlock(&zk->lock);
    return id;
}

int zkc_session_timeout(zkc *zk)
{
    pthread_mutex_lock(&zk->lock);
    int t = zk->negotiated_ms;
    pthread_mutex_unlock(&zk->lock);
    return t;
}

char *zkc_last_error(zkc *zk)
{
    pthread_mutex_lock(&zk->lock);
    char *e = g_strdup(zk->last_error);
    pthread_mutex_unlock(&zk->lock);
    return e;
}

int64_t zkc_last_zxid(zkc *zk)
{
    return atomic_load(&zk->last_zxid);
}

int zkc_request_timeout_ms(const zkc *zk)
{
    return zk->request_timeout_ms;
}

bool zkc_on_io_thread(const zkc *zk)
{
    return pthread_equal(pthread_self(), zk->thread);
}

void zkc_force_reconnect(zkc *zk)
{
    pthread_mutex_lock(&zk->lock);
    zk->reconnect_requested = true;
    pthread_mutex_unlock(&zk->lock);
    wake(zk);
}

void zkc_close(zkc *zk)
{
    if (zk == NULL)
        return;
    if (zkc_on_io_thread(zk)) {
        g_critical("zkc_close called from a zk client callback; refused");
        return;
    }
    pthread_mutex_lock(&zk->lock);
    zk->close_requested = true;
    pthread_mutex_unlock(&zk->lock);
    wake(zk);
    pthread_join(zk->thread, NULL);
    handle_free(zk);
}

/* ---- submitting requests ---- */

/* ZOK if requests can be queued now, else the error to return. */
static int32_t submit_error_locked(const zkc *zk)
{
    if (zk->close_requested)
        return ZCLOSING;
    switch (zk->state) {
    case ZK_STATE_SYNC_CONNECTED:
        return ZOK;
    case ZK_STATE_EXPIRED:
        return ZSESSIONEXPIRED;
    case ZK_STATE_AUTH_FAILED:
        return ZAUTHFAILED;
    case ZK_STATE_CLOSED:
        return ZCLOSING;
    default:
        return ZCONNECTIONLOSS;
    }
}

static zkc_request *request_new(int32_t op, zkc_completion_fn cb, void *ctx)
{
    zkc_request *req = g_new0(zkc_request, 1);
    req->op = op;
    req->cb = cb;
    req->ctx = ctx;
    jw_init(&req->frame, 128);
    zkc_frame_begin(&req->frame, 0, op);
    return req;
}

/* Finishes the frame, assigns the xid and queues the request; frees it and
 * returns the error if it cannot be queued. */
static int submit(zkc *zk, zkc_request *req)
{
    zkc_frame_end(&req->frame);
    pthread_mutex_lock(&zk->lock);
    int32_t err = submit_error_locked(zk);
    if (err != ZOK) {
        pthread_mutex_unlock(&zk->lock);
        request_free(req);
        return err;
    }
    req->xid = zk->next_xid++;
    if (zk->next_xid <= 0)
        zk->next_xid = 1;
    jw_patch_int(&req->frame, 4, req->xid);
    bool was_empty = g_queue_is_empty(&zk->send_queue);
    g_queue_push_tail(&zk->send_queue, req);
    pthread_mutex_unlock(&zk->lock);
    if (was_empty)
        wake(zk);
    return ZOK;
}

static bool path_ok(const char *path)
{
    return path != NULL && path[0] == '/';
}

static void set_watch(zkc *zk, zkc_request *req, int kind, int32_t arg, const char *path)
{
    req->watch_kind = kind;
    req->watch_arg = arg;
    req->watch_path = zkc_full_path(zk->chroot, path);
}

int zkc_acreate(zkc *zk, const char *path, const void *data, int32_t len, int32_t flags,
                const zkc_acl *acl, int64_t ttl, zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path) || len < 0 || flags < 0 || flags > ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL)
        return ZBADARGUMENTS;
    int32_t op = zkc_create_opcode(flags);
    zkc_request *req = request_new(op, cb, ctx);
    zkc_write_create(&req->frame, op, zk->chroot, path, data, len, acl, flags, ttl);
    return submit(zk, req);
}

int zkc_adelete(zkc *zk, const char *path, int32_t version, zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_DELETE, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    jw_int(&req->frame, version);
    return submit(zk, req);
}

/* exists, getData, getChildren, getChildren2: path + watch flag. */
static int path_watch_request(zkc *zk, int32_t op, int kind, const char *path, bool watch,
                              zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    zkc_request *req = request_new(op, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    jw_bool(&req->frame, watch);
    if (watch)
        set_watch(zk, req, kind, 0, path);
    return submit(zk, req);
}

int zkc_aexists(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx)
{
    return path_watch_request(zk, ZK_OP_EXISTS, WK_EXISTS, path, watch, cb, ctx);
}

int zkc_aget(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx)
{
    return path_watch_request(zk, ZK_OP_GETDATA, WK_DATA, path, watch, cb, ctx);
}

int zkc_achildren(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx)
{
    return path_watch_request(zk, ZK_OP_GETCHILDREN, WK_CHILD, path, watch, cb, ctx);
}

int zkc_achildren2(zkc *zk, const char *path, bool watch, zkc_completion_fn cb, void *ctx)
{
    return path_watch_request(zk, ZK_OP_GETCHILDREN2, WK_CHILD, path, watch, cb, ctx);
}

int zkc_aset(zkc *zk, const char *path, const void *data, int32_t len, int32_t version,
             zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path) || len < 0)
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_SETDATA, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    jw_buffer(&req->frame, data, data ? len : -1);
    jw_int(&req->frame, version);
    return submit(zk, req);
}

/* Requests whose body is just the path. */
static int path_request(zkc *zk, int32_t op, const char *path, zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    zkc_request *req = request_new(op, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    return submit(zk, req);
}

int zkc_aget_acl(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx)
{
    return path_request(zk, ZK_OP_GETACL, path, cb, ctx);
}

int zkc_aset_acl(zkc *zk, const char *path, const zkc_acl *acl, int32_t version,
                 zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path))
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_SETACL, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    zkc_write_acl(&req->frame, acl);
    jw_int(&req->frame, version);
    return submit(zk, req);
}

int zkc_async(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx)
{
    return path_request(zk, ZK_OP_SYNC, path, cb, ctx);
}

int zkc_amulti(zkc *zk, const zkc_op *ops, size_t n, zkc_completion_fn cb, void *ctx)
{
    if (ops == NULL || n == 0)
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_MULTI, cb, ctx);
    if (!zkc_write_multi(&req->frame, zk->chroot, ops, n)) {
        request_free(req);
        return ZBADARGUMENTS;
    }
    return submit(zk, req);
}

int zkc_amulti_read(zkc *zk, const zkc_read_op *ops, size_t n, zkc_completion_fn cb, void *ctx)
{
    if (ops == NULL || n == 0)
        return ZBADARGUMENTS;
    for (size_t i = 0; i < n; i++)
        if (!path_ok(ops[i].path))
            return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_MULTIREAD, cb, ctx);
    if (!zkc_write_multi_read(&req->frame, zk->chroot, ops, n)) {
        request_free(req);
        return ZBADARGUMENTS;
    }
    return submit(zk, req);
}

int zkc_aadd_watch(zkc *zk, const char *path, int32_t mode, zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path) ||
        (mode != ZK_ADDWATCH_PERSISTENT && mode != ZK_ADDWATCH_PERSISTENT_RECURSIVE))
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_ADDWATCH, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    jw_int(&req->frame, mode);
    set_watch(zk, req, WK_ADD, mode, path);
    return submit(zk, req);
}

int zkc_aremove_watches(zkc *zk, const char *path, int32_t watcher_type,
                        zkc_completion_fn cb, void *ctx)
{
    if (!path_ok(path) || watcher_type < ZK_WATCHER_CHILDREN || watcher_type > ZK_WATCHER_ANY)
        return ZBADARGUMENTS;
    zkc_request *req = request_new(ZK_OP_REMOVEWATCHES, cb, ctx);
    zkc_write_path(&req->frame, zk->chroot, path);
    jw_int(&req->frame, watcher_type);
    set_watch(zk, req, WK_REMOVE, watcher_type, path);
    return submit(zk, req);
}

int zkc_aget_ephemerals(zkc *zk, const char *prefix, zkc_completion_fn cb, void *ctx)
{
    return path_request(zk, ZK_OP_GETEPHEMERALS, prefix, cb, ctx);
}

int zkc_aget_all_children_number(zkc *zk, const char *path, zkc_completion_fn cb, void *ctx)
{
    return path_request(zk, ZK_OP_GETALLCHILDRENNUMBER, path, cb, ctx);
}

int zkc_awhoami(zkc *zk, zkc_completion_fn cb, void *ctx)
{
    return submit(zk, request_new(ZK_OP_WHOAMI, cb, ctx));
}

/* ---- a handle driven in process (client_internal.h) ---- */

zkc *zkc_open_unthreaded(const zkc_options *opts, char **err)
{
    zkc *zk = handle_new(opts, err);
    if (zk) {
        zk->phase = PH_IDLE;
        zk->thread = pthread_self();   /* callbacks run on the caller's thread */
    }
    return zk;
}

void zkc_unthreaded_connect(zkc *zk)
{
    if (zk->phase == PH_IDLE)
        send_connect_request(zk);
}

void zkc_unthreaded_receive(zkc *zk, const uint8_t *p, size_t n)
{
    if (n == 0 || (zk->phase != PH_HANDSHAKE && zk->phase != PH_CONNECTED && zk->phase != PH_CLOSING))
        return;                      /* no connection: nobody is listening */
    if (zk->in_cap - zk->in_len < n) {
        zk->in_cap = zk->in_len + n;
        zk->in = g_realloc(zk->in, zk->in_cap);
    }
    memcpy(zk->in + zk->in_len, p, n);
    zk->in_len += n;
    parse_in(zk);
}

void zkc_unthreaded_output(zkc *zk, GByteArray *sent)
{
    pthread_mutex_lock(&zk->lock);
    if (zk->phase == PH_CONNECTED || zk->phase == PH_CLOSING)
        take_send_queue_locked(zk);
    pthread_mutex_unlock(&zk->lock);
    g_byte_array_append(sent, zk->out->data, zk->out->len);
    g_byte_array_set_size(zk->out, 0);
    zk->out_off = 0;
}

bool zkc_unthreaded_idle(const zkc *zk)
{
    return zk->phase == PH_IDLE;
}

void zkc_unthreaded_free(zkc *zk)
{
    GQueue drained = G_QUEUE_INIT;
    pthread_mutex_lock(&zk->lock);
    set_state_locked(zk, ZK_STATE_CLOSED, &drained);
    pthread_mutex_unlock(&zk->lock);
    fail_queue(&zk->inflight, ZCLOSING);
    fail_queue(&drained, ZCLOSING);
    handle_free(zk);
}
