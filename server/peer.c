/* peer.c — TCP links between replicas (see peer.h). */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <stdio.h>
#include <unistd.h>

#include "server.h"
#include "zk/jute.h"

#define PEER_MAGIC 0x7a6b6673u          /* "zkfs" */
#define PEER_MAX_FRAME (1u << 30)      /* snapshots travel as one frame */

typedef struct peer_link {
    peer_net *net;
    int fd;
    int sid;             /* 0 until the hello arrived (inbound) */
    int channel;
    bool connecting;     /* outbound connect() in progress */
    bool hello_done;
    uint8_t *in;
    size_t in_len, in_cap;
    jute_writer out;
    size_t out_sent;
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
    GPtrArray *pending;       /* inbound links before their hello */
    int leader_sid;
};

static void link_event(zk_loop *l, int fd, int events, void *ctx);

static void link_interest(peer_link *k)
{
    int mask = LOOP_READABLE;
    if (k->connecting || k->out.len > k->out_sent)
        mask |= LOOP_WRITABLE;
    loop_watch(k->net->loop, k->fd, mask, link_event, k);
}

static void link_free(peer_link *k)
{
    g_free(k->in);
    jw_free(&k->out);
    g_free(k);
}

/* Tears a link down; tells the owner if it was established. */
static void link_close(peer_link *k)
{
    peer_net *n = k->net;
    loop_unwatch(n->loop, k->fd);
    close(k->fd);
    bool was_up = k->hello_done && k->sid > 0;
    if (k->sid > 0 && g_hash_table_lookup(n->links[k->channel], GINT_TO_POINTER(k->sid)) == k)
        g_hash_table_remove(n->links[k->channel], GINT_TO_POINTER(k->sid));
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
}

static void send_hello(peer_link *k)
{
    uint8_t hello[12];
    zk_put_be32(hello, PEER_MAGIC);
    zk_put_be32(hello + 4, (uint32_t)k->net->cfg->myid);
    zk_put_be32(hello + 8, (uint32_t)k->channel);
    queue_frame(k, hello, sizeof hello);
}

static bool flush_link(peer_link *k)
{
    while (k->out_sent < k->out.len) {
        ssize_t w = send(k->fd, k->out.buf + k->out_sent, k->out.len - k->out_sent, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return false;
        }
        k->out_sent += (size_t)w;
    }
    if (k->out_sent == k->out.len) {
        jw_reset(&k->out);
        k->out_sent = 0;
    }
    return true;
}

int peer_hello_parse(const zk_config *cfg, int channel, const uint8_t *p, size_t len)
{
    if (len != 12 || zk_be32(p) != PEER_MAGIC)
        return -1;
    int sid = (int)zk_be32(p + 4);
    int ch = (int)zk_be32(p + 8);
    if (ch != channel || !zk_config_find_peer(cfg, sid) || sid == cfg->myid)
        return -1;
    return sid;
}

long peer_frame_next(const uint8_t *buf, size_t avail, const uint8_t **frame, size_t *len)
{
    if (avail < 4)
        return 0;
    uint32_t n = zk_be32(buf);
    if (n > PEER_MAX_FRAME)
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
        int sid = peer_hello_parse(n->cfg, k->channel, p, len);
        int ch = k->channel;
        if (sid < 0)
            return false;
        if (k->sid && k->sid != sid)
            return false;
        if (!k->sid) {
            /* inbound: replaces any older link from the same peer */
            peer_link *old = g_hash_table_lookup(n->links[ch], GINT_TO_POINTER(sid));
            g_ptr_array_remove(n->pending, k);
            if (old)
                link_close(old);
            k->sid = sid;
            g_hash_table_insert(n->links[ch], GINT_TO_POINTER(sid), k);
            send_hello(k);
        }
        k->hello_done = true;
        if (n->up)
            n->up(n->ctx, sid, ch);
        return true;
    }
    n->recv(n->ctx, k->sid, k->channel, p, len);
    return true;
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
    }
    if ((events & LOOP_WRITABLE) && !flush_link(k)) {
        link_close(k);
        return;
    }
    if (events & LOOP_READABLE) {
        for (;;) {
            if (k->in_cap - k->in_len < 65536) {
                k->in_cap = k->in_cap ? k->in_cap * 2 : 131072;
                k->in = g_realloc(k->in, k->in_cap);
            }
            ssize_t r = recv(k->fd, k->in + k->in_len, k->in_cap - k->in_len, 0);
            if (r == 0) {
                link_close(k);
                return;
            }
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN || errno == EWOULDBLOCK)
                    break;
                link_close(k);
                return;
            }
            k->in_len += (size_t)r;
            size_t off = 0;
            for (;;) {
                const uint8_t *frame;
                size_t len;
                long took = peer_frame_next(k->in + off, k->in_len - off, &frame, &len);
                if (took < 0) {
                    LOG_WARN("peer link from sid %d: frame of %u bytes refused", k->sid,
                             zk_be32(k->in + off));
                    link_close(k);
                    return;
                }
                if (took == 0) {
                    if (k->in_len - off >= 4) {
                        size_t want = (size_t)zk_be32(k->in + off) + 4 + off;
                        if (k->in_cap < want) {
                            k->in_cap = want;
                            k->in = g_realloc(k->in, k->in_cap);
                        }
                    }
                    break;
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
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
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
    jw_init(&k->out, 4096);
    g_hash_table_insert(n->links[channel], GINT_TO_POINTER(sid), k);
    send_hello(k);
    link_interest(k);
}

static void on_accept(zk_loop *l, int lfd, int events, void *ctx)
{
    (void)l; (void)events;
    peer_net *n = ctx;
    int channel = lfd == n->listen_fd[PEER_ELECTION] ? PEER_ELECTION : PEER_QUORUM;
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        peer_link *k = g_new0(peer_link, 1);
        k->net = n;
        k->fd = fd;
        k->channel = channel;
        jw_init(&k->out, 4096);
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
    if (n->listen_fd[PEER_ELECTION] > 0)
        close(n->listen_fd[PEER_ELECTION]);
    g_hash_table_destroy(n->links[0]);
    g_hash_table_destroy(n->links[1]);
    g_ptr_array_free(n->pending, TRUE);
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
    g_free(n);
}

int peer_send(peer_net *n, int sid, int channel, const uint8_t *msg, size_t len)
{
    peer_link *k = g_hash_table_lookup(n->links[channel], GINT_TO_POINTER(sid));
    if (!k || !k->hello_done)
        return -1;
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

void peer_tick(peer_net *n)
{
    for (guint i = 0; i < n->cfg->peers->len; i++) {
        const zk_peer_config *pc = g_ptr_array_index(n->cfg->peers, i);
        if (pc->sid < n->cfg->myid)
            dial(n, pc->sid, PEER_ELECTION);
    }
    if (n->leader_sid > 0 && n->leader_sid != n->cfg->myid)
        dial(n, n->leader_sid, PEER_QUORUM);
}
