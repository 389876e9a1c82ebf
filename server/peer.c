/*
 * peer.c — TCP links between replicas (see peer.h), and the bounds on what
 * anyone who can reach the quorum and election ports can make a replica do
 * (docs/security.md, "Resource bounds"):
 *
 *   - an inbound connection must send its 12-byte hello within
 *     quorumCnxnTimeoutMs (default tickTime * syncLimit); any other first
 *     frame closes it at once, and at most PEER_MAX_PENDING connections per
 *     port wait for their hello (the oldest is dropped);
 *   - the hello must name a configured server other than this one, on the
 *     right channel; on the election port only a higher sid dials; a sid
 *     that already has a live link is refused (the link in place stays);
 *   - frames are bounded per channel: election 512 KiB (Apache's
 *     QuorumCnxManager.PACKETMAXSIZE), learner -> leader jute.maxbuffer +
 *     2 MiB, leader -> learner PEER_MAX_FRAME (a SNAP carries the tree);
 *   - unsent output per link is bounded (a peer that does not read is
 *     dropped), outbound connects time out after cnxTimeout, and TCP
 *     keepalive ends links to hosts that vanished;
 *   - running out of file descriptors pauses accepting instead of spinning;
 *   - with sslQuorum=true every link is TLS (tls.h, "quorum TLS"): both
 *     ends present a certificate the other's ssl.quorum.trustStore
 *     verifies, and (ssl.quorum.hostnameVerification, default true) the
 *     certificate must name the configured host of the sid it claims, or
 *     the address it comes from; portUnification=true also accepts plain
 *     links (a TLS ClientHello starts with byte 0x16, a hello with 0).
 * Every refusal is logged (rate-limited per reason) with the remote address.
 *
 * Output is written before the loop sleeps (peer_flush), not through a
 * second epoll round trip: a frame queued on a link puts it on n->flush,
 * and EPOLLOUT is armed only for a link whose socket did not take all of
 * it (out_blocked), until it drained (docs/perf-notes.md, change 2).
 */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "log.h"
#include "tls.h"
#include "zk/jute.h"

#define PEER_MAGIC 0x7a6b6673u          /* "zkfs" */
#define PEER_HELLO_LEN 12
#define PEER_MAX_FRAME (1u << 30)      /* snapshots travel as one frame */
#define PEER_MAX_ELECTION_FRAME (512u << 10)   /* QuorumCnxManager.PACKETMAXSIZE */
#define PEER_MAX_ELECTION_OUTPUT (4u << 20)
#define PEER_MAX_QUORUM_OUTPUT ((size_t)PEER_MAX_FRAME + (64u << 20))
#define PEER_ACCEPT_PAUSE_MS 200
#define PEER_KEEPALIVE_IDLE_S 10
#define PEER_KEEPALIVE_INTVL_S 5
#define PEER_KEEPALIVE_CNT 3

/* Why a connection was refused or dropped (one log limiter each). */
typedef enum {
    DROP_NOT_HELLO, DROP_BAD_HELLO, DROP_UNKNOWN_SID, DROP_OWN_SID, DROP_LOWER_SID, DROP_DUPLICATE,
    DROP_WRONG_SID, DROP_HELLO_TIMEOUT, DROP_PENDING_FULL, DROP_FRAME_SIZE, DROP_OUTPUT,
    DROP_CONNECT_TIMEOUT, DROP_ACCEPT, DROP_REFUSED, DROP_TLS, DROP_KINDS
} drop_kind;

typedef struct peer_link {
    peer_net *net;
    int fd;
    int sid;             /* 0 until the hello arrived (inbound) */
    int channel;
    bool inbound;        /* accepted (else dialled) */
    bool connecting;     /* outbound connect() in progress */
    bool hello_done;
    bool doomed;         /* over its output bound: closed by the next peer_tick */
    bool plain_checked;  /* inbound under sslQuorum: TLS or plain was decided */
    tls_peer *tls;       /* owned; the TLS session, NULL for a plain link */
    char ip[INET6_ADDRSTRLEN];         /* remote numeric address */
    int64_t opened_ms;   /* monotonic: accepted or dialled */
    char addr[INET6_ADDRSTRLEN + 8];   /* remote "host:port", for logs */
    uint8_t *in;
    size_t in_len, in_cap;
    jute_writer out;
    size_t out_sent;
    bool out_blocked;    /* the socket took less than all of out: EPOLLOUT armed until drained */
    bool flush_queued;   /* in net->flush */
    uint64_t out_frames;  /* frames queued in out since it was last empty */
} peer_link;

struct peer_net {
    zk_loop *loop;
    const zk_config *cfg;
    peer_recv_fn recv;
    peer_lost_fn lost;
    peer_up_fn up;
    void *ctx;
    int listen_fd[2];
    GHashTable *links[2];     /* sid -> peer_link* (established or dialling) */
    GPtrArray *pending;       /* inbound links before their hello, oldest first */
    int leader_sid;
    int64_t accept_resume_ms[2];  /* accepting paused (no descriptors) until then; 0 = not */
    log_limiter drop_log[DROP_KINDS][2];   /* per reason and channel */
    SSL_CTX *tls_ctx;         /* owned; sslQuorum=true, else NULL */
    GPtrArray *flush;         /* peer_link* with output to write before sleeping (a link leaves it when freed) */
};

static const char *const channel_name[2] = { "election", "quorum" };

static void link_event(zk_loop *l, int fd, int events, void *ctx);
static void on_accept(zk_loop *l, int lfd, int events, void *ctx);

/* Updates what the loop watches k for.  Output the socket has not refused
 * yet is written by peer_flush before the loop sleeps; EPOLLOUT is armed
 * only while connecting, after a short write, or for TLS. */
static void link_interest(peer_link *k)
{
    int mask = LOOP_READABLE;
    bool pending = k->out.len > k->out_sent;
    bool out = pending && k->out_blocked && !tls_peer_send_waits_for_input(k->tls);
    if (pending && !k->out_blocked && !k->connecting && !k->flush_queued) {
        k->flush_queued = true;
        g_ptr_array_add(k->net->flush, k);
    }
    if (k->connecting || out || tls_peer_wants_write(k->tls))
        mask |= LOOP_WRITABLE;
    loop_watch(k->net->loop, k->fd, mask, link_event, k);
}

static void link_free(peer_link *k)
{
    if (k->flush_queued)
        g_ptr_array_remove(k->net->flush, k);
    tls_peer_free(k->tls);
    g_free(k->in);
    jw_free(&k->out);
    g_free(k);
}

/* Logs why a connection on channel goes, at most once a second per reason
 * and channel. */
static void log_drop(peer_net *n, drop_kind kind, int channel, const char *fmt, ...) G_GNUC_PRINTF(4, 5);
static void log_drop(peer_net *n, drop_kind kind, int channel, const char *fmt, ...)
{
    uint64_t skipped;
    if (!log_limiter_allow(&n->drop_log[kind][channel], 1000, &skipped))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (skipped)
        LOG_WARN("%s (%" G_GUINT64_FORMAT " more like this not logged)", msg, skipped);
    else
        LOG_WARN("%s", msg);
    g_free(msg);
}

/* Tears a link down; tells the owner if it was established. */
static void link_close(peer_link *k)
{
    peer_net *n = k->net;
    loop_unwatch(n->loop, k->fd);
    tls_peer_free(k->tls);   /* close_notify before the socket goes */
    k->tls = NULL;
    close(k->fd);
    bool was_up = k->hello_done && k->sid > 0;
    if (k->sid > 0 && g_hash_table_lookup(n->links[k->channel], GINT_TO_POINTER(k->sid)) == k)
        g_hash_table_remove(n->links[k->channel], GINT_TO_POINTER(k->sid));
    else
        was_up = false;   /* a refused newcomer never was the link of its sid */
    g_ptr_array_remove(n->pending, k);
    int sid = k->sid, ch = k->channel;
    link_free(k);
    if (was_up && n->lost)
        n->lost(n->ctx, sid, ch);
}

static void queue_frame(peer_link *k, const uint8_t *msg, size_t len)
{
    jw_int(&k->out, (int32_t)len);
    jw_raw(&k->out, msg, len);
    k->out_frames++;
}

static void send_hello(peer_link *k)
{
    uint8_t hello[PEER_HELLO_LEN];
    zk_put_be32(hello, PEER_MAGIC);
    zk_put_be32(hello + 4, (uint32_t)k->net->cfg->myid);
    zk_put_be32(hello + 8, (uint32_t)k->channel);
    queue_frame(k, hello, sizeof hello);
}

/* A TLS link failed: say why (the handshake's refusals are the news). */
static void log_tls_failure(peer_link *k)
{
    if (k->tls && k->sid)
        log_drop(k->net, DROP_TLS, k->channel, "%s link of sid %d (%s): TLS: %s; closing", channel_name[k->channel],
                 k->sid, k->addr, tls_peer_error(k->tls));
    else if (k->tls)
        log_drop(k->net, DROP_TLS, k->channel, "%s port: connection from %s: TLS: %s; closing",
                 channel_name[k->channel], k->addr, tls_peer_error(k->tls));
}

static bool flush_link(peer_link *k)
{
    while (k->out_sent < k->out.len) {
        ssize_t w = k->tls ? tls_peer_send(k->tls, k->out.buf + k->out_sent, k->out.len - k->out_sent)
                           : send(k->fd, k->out.buf + k->out_sent, k->out.len - k->out_sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            log_tls_failure(k);
            return false;
        }
        k->out_sent += (size_t)w;
    }
    k->out_blocked = k->out_sent < k->out.len;
    if (k->out_sent == k->out.len) {
        jw_reset(&k->out);
        k->out_sent = 0;
        k->out_frames = 0;
    }
    return true;
}

size_t peer_quorum_request_limit(const zk_config *cfg)
{
    return (size_t)cfg->jute_maxbuffer + (2u << 20);
}

/* The largest frame k may receive. */
static size_t max_frame(const peer_link *k)
{
    if (!k->hello_done)
        return PEER_HELLO_LEN;
    if (k->channel == PEER_ELECTION)
        return PEER_MAX_ELECTION_FRAME;
    /* A learner reads its leader's SNAP; a leader reads requests. */
    return k->inbound ? peer_quorum_request_limit(k->net->cfg) : PEER_MAX_FRAME;
}

/* True if `old`, the live link of a sid, is in fact gone (its peer closed
 * it or it failed, and that was not processed yet). */
static bool link_is_dead(const peer_link *old)
{
    if (old->connecting)
        return false;
    char b;
    ssize_t r = recv(old->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Checks the hello of inbound link k; returns false (and logs) to refuse it. */
static bool accept_hello(peer_link *k, int sid, int ch)
{
    peer_net *n = k->net;
    const char *chn = channel_name[k->channel];
    if (ch != k->channel) {
        log_drop(n, DROP_BAD_HELLO, k->channel, "%s port: connection from %s claims channel %d; closing", chn, k->addr, ch);
        return false;
    }
    if (sid == n->cfg->myid) {
        log_drop(n, DROP_OWN_SID, k->channel, "%s port: connection from %s claims our own id %d (a second server with "
                 "myid %d?); closing", chn, k->addr, sid, sid);
        return false;
    }
    if (!zk_config_find_peer(n->cfg, sid)) {
        log_drop(n, DROP_UNKNOWN_SID, k->channel, "%s port: connection from %s claims sid %d, which is not a server.N "
                 "of the configuration; closing", chn, k->addr, sid);
        return false;
    }
    if (ch == PEER_ELECTION && sid < n->cfg->myid) {
        log_drop(n, DROP_LOWER_SID, k->channel, "election port: connection from %s claims sid %d, lower than ours (%d); "
                 "only higher sids dial us; closing", k->addr, sid, n->cfg->myid);
        return false;
    }
    peer_link *old = g_hash_table_lookup(n->links[ch], GINT_TO_POINTER(sid));
    if (old && link_is_dead(old)) {
        link_close(old);   /* its owner hears of it, and may dial anew */
        old = g_hash_table_lookup(n->links[ch], GINT_TO_POINTER(sid));
    }
    if (old) {
        /* Keep the link in place: a second process with the same myid, or
         * anyone who can reach the port, must not take a member's place.
         * An empty frame makes a link whose other end is gone fail at once
         * (the real peer's next dial then gets through). */
        log_drop(n, DROP_DUPLICATE, k->channel, "%s port: connection from %s claims sid %d, which is already connected "
                 "from %s (two servers with the same myid?); keeping the existing link, closing the new one",
                 chn, k->addr, sid, old->addr);
        if (old->hello_done) {
            queue_frame(old, NULL, 0);
            link_interest(old);
        }
        return false;
    }
    return true;
}

bool peer_hello_decode(const uint8_t *p, size_t len, int *sid, int *channel)
{
    if (len != PEER_HELLO_LEN || zk_be32(p) != PEER_MAGIC)
        return false;
    *sid = (int)zk_be32(p + 4);
    *channel = (int)zk_be32(p + 8);
    return true;
}

long peer_frame_next(const uint8_t *buf, size_t avail, size_t limit, const uint8_t **frame, size_t *len)
{
    if (avail < 4)
        return 0;
    uint32_t n = zk_be32(buf);
    if (n > limit)
        return -1;
    if (avail - 4 < n)
        return 0;
    *frame = buf + 4;
    *len = n;
    return 4 + (long)n;
}

/* Handles one complete frame; returns false if the link must close. */
static bool on_frame(peer_link *k, const uint8_t *p, size_t len)
{
    peer_net *n = k->net;
    if (!k->hello_done) {
        int sid, ch;
        if (!peer_hello_decode(p, len, &sid, &ch)) {
            log_drop(n, DROP_BAD_HELLO, k->channel, "%s port: connection from %s sent a bad hello; closing",
                     channel_name[k->channel], k->addr);
            return false;
        }
        if (k->sid && (k->sid != sid || ch != k->channel)) {
            log_drop(n, DROP_WRONG_SID, k->channel, "%s link to sid %d at %s: the server there says it is sid %d; closing",
                     channel_name[k->channel], k->sid, k->addr, sid);
            return false;
        }
        if (k->tls && n->cfg->ssl_quorum_hostname_verification && tls_peer_has_certificate(k->tls)) {
            const zk_peer_config *pc = zk_config_find_peer(n->cfg, sid);
            if (pc && !tls_peer_names_host(k->tls, pc->host, k->ip)) {
                log_drop(n, DROP_TLS, k->channel, "%s link %s (sid %d): its certificate names neither %s (the host "
                         "of server.%d) nor %s (ssl.quorum.hostnameVerification); closing", channel_name[k->channel],
                         k->addr, sid, pc->host, sid, k->ip);
                return false;
            }
        }
        if (!k->sid) {
            if (!accept_hello(k, sid, ch))
                return false;
            g_ptr_array_remove(n->pending, k);
            k->sid = sid;
            g_hash_table_insert(n->links[ch], GINT_TO_POINTER(sid), k);
            send_hello(k);
        }
        k->hello_done = true;
        if (n->up)
            n->up(n->ctx, sid, ch);
        return true;
    }
    if (len == 0)
        return true;   /* a probe (see accept_hello) */
    n->recv(n->ctx, k->sid, k->channel, p, len);
    return true;
}

/* Makes room to read into.  The buffer grows with what arrives (doubling,
 * up to the frame being read), so a frame's length word alone allocates
 * nothing; before the hello there is room for a hello only. */
static void reserve_input(peer_link *k)
{
    size_t room = k->hello_done ? 65536 : (size_t)4 + PEER_HELLO_LEN;
    if (k->in_cap - k->in_len >= room)
        return;
    size_t need = k->in_len + room;
    if (k->in_len >= 4) {
        size_t frame = (size_t)zk_be32(k->in) + 4;   /* frames start at 0 (see below) */
        if (frame > need && frame <= max_frame(k) + 4)
            need = MIN(frame, MAX(need, k->in_cap * 2));
    }
    k->in = g_realloc(k->in, need);
    k->in_cap = need;
}

static void link_event(zk_loop *l, int fd, int events, void *ctx)
{
    (void)l; (void)fd;
    peer_link *k = ctx;
    if (k->connecting && (events & (LOOP_WRITABLE | LOOP_READABLE))) {
        int err = 0;
        socklen_t sl = sizeof err;
        getsockopt(k->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
        if (err) {
            link_close(k);
            return;
        }
        k->connecting = false;
        if (k->net->tls_ctx && !(k->tls = tls_peer_new(k->net->tls_ctx, k->fd, false))) {
            link_close(k);
            return;
        }
    }
    if (k->inbound && k->net->tls_ctx && !k->plain_checked) {
        /* TLS or (portUnification) plain: the first byte says. */
        uint8_t b;
        ssize_t r = recv(k->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            link_interest(k);
            return;
        }
        if (r <= 0) {
            link_close(k);
            return;
        }
        k->plain_checked = true;
        if (b == 0x16) {
            if (!(k->tls = tls_peer_new(k->net->tls_ctx, k->fd, true))) {
                link_close(k);
                return;
            }
        } else if (!k->net->cfg->port_unification) {
            log_drop(k->net, DROP_TLS, k->channel, "%s port: plain connection from %s, but sslQuorum=true (and no "
                     "portUnification); closing", channel_name[k->channel], k->addr);
            link_close(k);
            return;
        }
    }
    if (k->tls)
        events |= LOOP_READABLE;   /* a TLS session may need to read to write, or the reverse */
    if ((events & LOOP_WRITABLE) && !flush_link(k)) {
        link_close(k);
        return;
    }
    if (events & LOOP_READABLE) {
        for (;;) {
            reserve_input(k);
            /* Before the hello, read no more than a hello: nothing is
             * buffered for a connection that has not said who it is. */
            size_t want = k->hello_done ? k->in_cap - k->in_len
                                        : MIN(k->in_cap - k->in_len, (size_t)4 + PEER_HELLO_LEN - k->in_len);
            ssize_t r = k->tls ? tls_peer_recv(k->tls, k->in + k->in_len, want) : recv(k->fd, k->in + k->in_len, want, 0);
            if (r == 0) {
                if (!k->inbound && !k->hello_done)
                    log_drop(k->net, DROP_REFUSED, k->channel, "%s link to sid %d at %s: closed before its hello "
                             "came back: refused (is another server running with myid %d?)",
                             channel_name[k->channel], k->sid, k->addr, k->net->cfg->myid);
                link_close(k);
                return;
            }
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                log_tls_failure(k);
                link_close(k);
                return;
            }
            k->in_len += (size_t)r;
            size_t off = 0;
            for (;;) {
                const uint8_t *frame;
                size_t len;
                size_t limit = max_frame(k);
                long took = peer_frame_next(k->in + off, k->in_len - off, limit, &frame, &len);
                if (took == 0)
                    break;
                if (took < 0) {
                    uint32_t flen = zk_be32(k->in + off);
                    if (k->hello_done)
                        log_drop(k->net, DROP_FRAME_SIZE, k->channel, "%s link of sid %d (%s): frame of %u bytes, more "
                                 "than %zu; closing", channel_name[k->channel], k->sid, k->addr, flen, limit);
                    else
                        log_drop(k->net, DROP_NOT_HELLO, k->channel, "%s port: connection from %s did not start with a "
                                 "hello (frame of %u bytes); closing", channel_name[k->channel], k->addr, flen);
                    link_close(k);
                    return;
                }
                /* A data frame's callback may close (free) this very link.
                 * Keep what is needed to find out without touching k: a
                 * hello frame calls no user code that could free it. */
                peer_net *net = k->net;
                int sid = k->sid, ch = k->channel;
                bool hello = !k->hello_done;
                bool keep = on_frame(k, frame, len);
                if (!keep) {
                    link_close(k);
                    return;
                }
                if (!hello && g_hash_table_lookup(net->links[ch], GINT_TO_POINTER(sid)) != k)
                    return;   /* closed or replaced by the callback */
                off += (size_t)took;
            }
            if (off) {
                memmove(k->in, k->in + off, k->in_len - off);
                k->in_len -= off;
            }
        }
    }
    /* What was read may have let a TLS send that waited go on. */
    if (k->tls && k->out.len > k->out_sent && !flush_link(k)) {
        link_close(k);
        return;
    }
    link_interest(k);
}

static int resolve(const char *host, int port, struct sockaddr_storage *ss, socklen_t *sl)
{
    struct addrinfo hints = { 0 }, *res = NULL;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    if (getaddrinfo(host, ps, &hints, &res) != 0 || !res)
        return -1;
    memcpy(ss, res->ai_addr, res->ai_addrlen);
    *sl = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

/* TCP_NODELAY, and keepalive so that a link to a host that vanished (no
 * FIN ever comes) ends within about half a minute. */
static void set_link_options(int fd)
{
    int one = 1, idle = PEER_KEEPALIVE_IDLE_S, intvl = PEER_KEEPALIVE_INTVL_S, cnt = PEER_KEEPALIVE_CNT;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* The numeric address of ss into ip (INET6_ADDRSTRLEN bytes). */
static void format_ip(const struct sockaddr_storage *ss, char *ip)
{
    ip[0] = '\0';
    if (ss->ss_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, ip, INET6_ADDRSTRLEN);
    else if (ss->ss_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, ip, INET6_ADDRSTRLEN);
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t size)
{
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        port = ntohs(a->sin_port);
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        port = ntohs(a->sin6_port);
    }
    snprintf(out, size, "%s:%d", host, port);
}

static void dial(peer_net *n, int sid, int channel)
{
    if (g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid)))
        return;
    const zk_peer_config *pc = zk_config_find_peer(n->cfg, sid);
    if (!pc)
        return;
    struct sockaddr_storage ss;
    socklen_t sl;
    int port = channel == PEER_ELECTION ? pc->election_port : pc->quorum_port;
    if (resolve(pc->host, port, &ss, &sl) < 0)
        return;
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    set_link_options(fd);
    if (connect(fd, (struct sockaddr *)&ss, sl) < 0 && errno != EINPROGRESS) {
        close(fd);
        return;
    }
    peer_link *k = g_new0(peer_link, 1);
    k->net = n;
    k->fd = fd;
    k->sid = sid;
    k->channel = channel;
    k->connecting = true;
    k->opened_ms = loop_now_ms();
    format_addr(&ss, k->addr, sizeof k->addr);
    format_ip(&ss, k->ip);
    jw_init(&k->out, 4096);
    g_hash_table_insert(n->links[channel], GINT_TO_POINTER(sid), k);
    send_hello(k);
    link_interest(k);
}

static int pending_on(const peer_net *n, int channel)
{
    int count = 0;
    for (guint i = 0; i < n->pending->len; i++)
        if (((peer_link *)g_ptr_array_index(n->pending, i))->channel == channel)
            count++;
    return count;
}

static void on_accept(zk_loop *l, int lfd, int events, void *ctx)
{
    (void)l; (void)events;
    peer_net *n = ctx;
    int channel = lfd == n->listen_fd[PEER_ELECTION] ? PEER_ELECTION : PEER_QUORUM;
    for (;;) {
        struct sockaddr_storage ss;
        bool no_fds;
        int fd = conn_accept(lfd, &ss, &no_fds);
        if (fd < 0) {
            if (no_fds) {
                /* Leave the listening socket alone for a while rather than spin on it. */
                log_drop(n, DROP_ACCEPT, channel, "%s port: cannot accept: %s; not accepting for %d ms",
                         channel_name[channel], g_strerror(errno), PEER_ACCEPT_PAUSE_MS);
                loop_unwatch(n->loop, lfd);
                n->accept_resume_ms[channel] = loop_now_ms() + PEER_ACCEPT_PAUSE_MS;
            }
            return;
        }
        set_link_options(fd);
        peer_link *k = g_new0(peer_link, 1);
        k->net = n;
        k->fd = fd;
        k->channel = channel;
        k->inbound = true;
        k->opened_ms = loop_now_ms();
        format_addr(&ss, k->addr, sizeof k->addr);
        format_ip(&ss, k->ip);
        jw_init(&k->out, 4096);
        if (pending_on(n, channel) >= PEER_MAX_PENDING) {
            for (guint i = 0; i < n->pending->len; i++) {
                peer_link *oldest = g_ptr_array_index(n->pending, i);
                if (oldest->channel != channel)
                    continue;
                log_drop(n, DROP_PENDING_FULL, channel, "%s port: %d connections without a hello; dropping the "
                         "oldest, from %s", channel_name[channel], PEER_MAX_PENDING, oldest->addr);
                link_close(oldest);
                break;
            }
        }
        g_ptr_array_add(n->pending, k);
        link_interest(k);
    }
}

static int listen_on(const char *host, int port, char **err)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    if (resolve(host, port, &ss, &sl) < 0) {
        *err = g_strdup_printf("cannot resolve %s", host);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 64) < 0) {
        *err = g_strdup_printf("cannot listen on %s:%d: %s", host, port, g_strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

peer_net *peer_net_new(zk_loop *loop, const zk_config *cfg, peer_recv_fn recv, peer_lost_fn lost,
                       peer_up_fn up, void *ctx, char **err)
{
    const zk_peer_config *me = zk_config_find_peer(cfg, cfg->myid);
    if (!me) {
        *err = g_strdup_printf("myid %d is not among the server.N lines", cfg->myid);
        return NULL;
    }
    peer_net *n = g_new0(peer_net, 1);
    n->loop = loop;
    n->cfg = cfg;
    n->recv = recv;
    n->lost = lost;
    n->up = up;
    n->ctx = ctx;
    n->links[0] = g_hash_table_new(g_direct_hash, g_direct_equal);
    n->links[1] = g_hash_table_new(g_direct_hash, g_direct_equal);
    n->pending = g_ptr_array_new();
    n->flush = g_ptr_array_new();
    n->listen_fd[PEER_ELECTION] = n->listen_fd[PEER_QUORUM] = -1;
    if (cfg->ssl_quorum) {
        n->tls_ctx = tls_quorum_ctx_new(cfg, err);
        if (!n->tls_ctx)
            goto fail;
        LOG_INFO("quorum TLS (sslQuorum) on the quorum and election links%s",
                 cfg->port_unification ? "; plain links accepted too (portUnification)" : "");
    }
    n->listen_fd[PEER_ELECTION] = listen_on(me->host, me->election_port, err);
    if (n->listen_fd[PEER_ELECTION] < 0)
        goto fail;
    n->listen_fd[PEER_QUORUM] = listen_on(me->host, me->quorum_port, err);
    if (n->listen_fd[PEER_QUORUM] < 0)
        goto fail;
    loop_watch(loop, n->listen_fd[PEER_ELECTION], LOOP_READABLE, on_accept, n);
    loop_watch(loop, n->listen_fd[PEER_QUORUM], LOOP_READABLE, on_accept, n);
    peer_tick(n);
    return n;
fail:
    if (n->listen_fd[PEER_ELECTION] >= 0)
        close(n->listen_fd[PEER_ELECTION]);
    SSL_CTX_free(n->tls_ctx);
    g_hash_table_destroy(n->links[0]);
    g_hash_table_destroy(n->links[1]);
    g_ptr_array_free(n->pending, TRUE);
    g_ptr_array_free(n->flush, TRUE);
    g_free(n);
    return NULL;
}

void peer_net_free(peer_net *n)
{
    if (!n)
        return;
    n->lost = NULL;
    for (int ch = 0; ch < 2; ch++) {
        GList *ls = g_hash_table_get_values(n->links[ch]);
        for (GList *l = ls; l; l = l->next)
            link_close(l->data);
        g_list_free(ls);
        g_hash_table_destroy(n->links[ch]);
        loop_unwatch(n->loop, n->listen_fd[ch]);
        close(n->listen_fd[ch]);
    }
    while (n->pending->len)
        link_close(g_ptr_array_index(n->pending, 0));
    g_ptr_array_free(n->pending, TRUE);
    g_ptr_array_free(n->flush, TRUE);
    SSL_CTX_free(n->tls_ctx);
    g_free(n);
}

void peer_flush(peer_net *n)
{
    /* One link at a time from the front: closing one (its lost callback)
     * may close or queue others, and a freed link leaves the array. */
    while (n->flush->len) {
        peer_link *k = g_ptr_array_steal_index(n->flush, 0);
        k->flush_queued = false;
        if (!flush_link(k))
            link_close(k);
        else
            link_interest(k);
    }
}

int peer_send(peer_net *n, int sid, int channel, const uint8_t *msg, size_t len)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    if (!k || !k->hello_done || k->doomed)
        return -1;
    size_t cap = channel == PEER_ELECTION ? PEER_MAX_ELECTION_OUTPUT : PEER_MAX_QUORUM_OUTPUT;
    if (k->out.len - k->out_sent + len + 4 > cap) {
        /* The peer does not read: drop the link on the next tick (not
         * here, inside a send the Zab core is making). */
        log_drop(n, DROP_OUTPUT, channel, "%s link of sid %d (%s): %zu bytes unsent, the peer is not reading; "
                 "dropping the link", channel_name[channel], sid, k->addr, k->out.len - k->out_sent);
        k->doomed = true;
        return -1;
    }
    queue_frame(k, msg, len);
    link_interest(k);
    return 0;
}

int peer_connected(const peer_net *n, int sid, int channel)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    return k && k->hello_done;
}

size_t peer_backlog(const peer_net *n, int sid, int channel)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    return k ? k->out.len - k->out_sent : 0;
}

bool peer_link_info(const peer_net *n, int sid, int channel, char *addr, size_t addr_len, size_t *queued_bytes,
                    uint64_t *queued_frames)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    if (!k || !k->hello_done)
        return false;
    if (addr && addr_len)
        g_strlcpy(addr, k->addr, addr_len);
    *queued_bytes = k->out.len - k->out_sent;
    *queued_frames = *queued_bytes ? k->out_frames : 0;
    return true;
}

void peer_drop(peer_net *n, int sid, int channel)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    if (k)
        link_close(k);
}

void peer_set_leader(peer_net *n, int leader_sid)
{
    if (n->leader_sid == leader_sid)
        return;
    if (n->leader_sid > 0 && n->leader_sid != n->cfg->myid)
        peer_drop(n, n->leader_sid, PEER_QUORUM);
    n->leader_sid = leader_sid;
    if (leader_sid > 0 && leader_sid != n->cfg->myid)
        dial(n, leader_sid, PEER_QUORUM);
}

/* tickTime * syncLimit, as Apache's QuorumCnxManager socket timeout, unless
 * quorumCnxnTimeoutMs is set. */
static int64_t hello_timeout_ms(const zk_config *cfg)
{
    if (cfg->quorum_cnxn_timeout_ms > 0)
        return cfg->quorum_cnxn_timeout_ms;
    return (int64_t)cfg->tick_time * MAX(cfg->sync_limit, 1);
}

/* Closes links that overstayed: no hello in time, a connect that does not
 * complete, or over their output bound. */
static void expire_links(peer_net *n, int64_t now)
{
    int64_t hello_ms = hello_timeout_ms(n->cfg);
    for (guint i = 0; i < n->pending->len;) {
        peer_link *k = g_ptr_array_index(n->pending, i);
        if (now - k->opened_ms <= hello_ms) {
            i++;
            continue;
        }
        log_drop(n, DROP_HELLO_TIMEOUT, k->channel, "%s port: connection from %s sent no hello within %" G_GINT64_FORMAT
                 " ms (quorumCnxnTimeoutMs); closing", channel_name[k->channel], k->addr, hello_ms);
        link_close(k);   /* removes it from pending */
    }
    for (int ch = 0; ch < 2; ch++) {
        /* By sid, not by pointer: closing one link tells the owner, who may
         * close or open others. */
        GList *sids = g_hash_table_get_keys(n->links[ch]);
        for (GList *l = sids; l; l = l->next) {
            peer_link *k = g_hash_table_lookup(n->links[ch], l->data);
            if (!k)
                continue;
            if (k->connecting && now - k->opened_ms > n->cfg->cnx_timeout) {
                log_drop(n, DROP_CONNECT_TIMEOUT, ch, "%s link to sid %d at %s: connect did not complete within "
                         "%d ms (cnxTimeout); retrying", channel_name[ch], k->sid, k->addr, n->cfg->cnx_timeout);
                link_close(k);
            } else if (k->doomed) {
                link_close(k);
            } else if (k->tls && !k->hello_done && now - k->opened_ms > n->cfg->cnx_timeout + hello_timeout_ms(n->cfg)) {
                log_drop(n, DROP_TLS, ch, "%s link to sid %d at %s: no TLS handshake and hello within %" G_GINT64_FORMAT
                         " ms; retrying", channel_name[ch], k->sid, k->addr,
                         (int64_t)n->cfg->cnx_timeout + hello_timeout_ms(n->cfg));
                link_close(k);
            }
        }
        g_list_free(sids);
        if (n->accept_resume_ms[ch] && now >= n->accept_resume_ms[ch]) {
            n->accept_resume_ms[ch] = 0;
            loop_watch(n->loop, n->listen_fd[ch], LOOP_READABLE, on_accept, n);
        }
    }
}

void peer_tick(peer_net *n)
{
    expire_links(n, loop_now_ms());
    for (guint i = 0; i < n->cfg->peers->len; i++) {
        const zk_peer_config *pc = g_ptr_array_index(n->cfg->peers, i);
        if (pc->sid < n->cfg->myid)
            dial(n, pc->sid, PEER_ELECTION);
    }
    if (n->leader_sid > 0 && n->leader_sid != n->cfg->myid)
        dial(n, n->leader_sid, PEER_QUORUM);
}
