/*
 * conn.c — client connections: accepting, per-IP limits, reading and
 * framing (4-byte big-endian length), the four-letter-word sniff on a new
 * connection, buffered writing, and closing.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define OUT_HIGH_WATER (64u << 20)   /* stop reading a client that does not read */

static void conn_on_event(zk_loop *l, int fd, int events, void *ctx);

static void conn_update_interest(zk_conn *c)
{
    if (c->closed)
        return;
    int mask = 0;
    if (!c->close_after_flush && c->out.len - c->out_sent < OUT_HIGH_WATER)
        mask |= LOOP_READABLE;
    if (c->out.len > c->out_sent)
        mask |= LOOP_WRITABLE;
    loop_watch(c->srv->loop, c->fd, mask, conn_on_event, c);
}

void conn_ref(zk_conn *c)
{
    c->refs++;
}

void conn_unref(zk_conn *c)
{
    if (--c->refs > 0)
        return;
    g_free(c->in);
    jw_free(&c->out);
    g_ptr_array_free(c->auth, TRUE);
    g_free(c);
}

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
    loop_unwatch(s->loop, c->fd);
    /* Close gracefully: send our FIN first and drop what the client already
     * sent, so the kernel does not answer unread input with a RST that
     * could overtake our last reply. */
    shutdown(c->fd, SHUT_WR);
    char sink[4096];
    for (int i = 0; i < 16 && recv(c->fd, sink, sizeof sink, MSG_DONTWAIT) > 0; i++)
        ;
    close(c->fd);
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
    if (c->out.len == c->out_sent)
        conn_close(c, NULL);
    else
        conn_update_interest(c);
}

static void flush_out(zk_conn *c)
{
    while (c->out_sent < c->out.len) {
        ssize_t n = send(c->fd, c->out.buf + c->out_sent, c->out.len - c->out_sent, MSG_NOSIGNAL);
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
    conn_update_interest(c);
}

void conn_send_raw(zk_conn *c, const void *p, size_t len)
{
    if (c->closed)
        return;
    jw_raw(&c->out, p, len);
    conn_update_interest(c);
}

void conn_send_frame(zk_conn *c, const uint8_t *body, size_t len)
{
    if (c->closed)
        return;
    jw_int(&c->out, (int32_t)len);
    jw_raw(&c->out, body, len);
    c->packets_sent++;
    zk_server *s = c->srv;
    s->packets_sent++;
    s->last_response_size = (int64_t)len;
    if (s->min_response_size < 0 || (int64_t)len < s->min_response_size)
        s->min_response_size = (int64_t)len;
    if ((int64_t)len > s->max_response_size)
        s->max_response_size = (int64_t)len;
    conn_update_interest(c);
}

/* Processes every complete frame in the input buffer. */
static void parse_input(zk_conn *c)
{
    zk_server *s = c->srv;
    size_t off = 0;
    while (!c->closed && !c->close_after_flush && c->in_len - off >= 4) {
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
        const uint8_t *frame = c->in + off + 4;
        off += 4 + (size_t)len;
        c->packets_received++;
        s->packets_received++;
        conn_ref(c);
        if (c->state == CONN_HANDSHAKE)
            request_on_connect(c, frame, (size_t)len);
        else if (c->state == CONN_ESTABLISHED)
            request_on_frame(c, frame, (size_t)len);
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

static void read_in(zk_conn *c)
{
    for (;;) {
        if (c->in_cap - c->in_len < 4096) {
            size_t need = c->in_len + 65536;
            if (c->in_len >= 4) {
                int32_t len = (int32_t)zk_be32(c->in);
                if (len > 0 && len <= c->srv->cfg->jute_maxbuffer && (size_t)len + 4 > need)
                    need = (size_t)len + 4;
            }
            c->in = g_realloc(c->in, need);
            c->in_cap = need;
        }
        ssize_t n = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (n > 0) {
            c->in_len += (size_t)n;
            c->last_activity_ms = c->last_recv_ms = loop_now_ms();
            conn_ref(c);
            parse_input(c);
            bool gone = c->closed;
            conn_unref(c);
            if (gone)
                return;
            if ((size_t)n < 4096)
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
    if ((events & LOOP_WRITABLE) && !c->closed)
        flush_out(c);
    if ((events & LOOP_READABLE) && !c->closed)
        read_in(c);
    conn_unref(c);
}

static void on_accept(zk_loop *l, int lfd, int events, void *ctx)
{
    (void)l; (void)events;
    zk_server *s = ctx;
    for (;;) {
        struct sockaddr_storage ss;
        socklen_t sl = sizeof ss;
        int fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                LOG_WARN("accept: %s", g_strerror(errno));
            return;
        }
        zk_conn *c = g_new0(zk_conn, 1);
        c->srv = s;
        c->fd = fd;
        c->refs = 1;
        c->state = CONN_HANDSHAKE;
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
        c->last_recv_ms = c->established_ms;
        c->wall_connected_ms = loop_wall_ms();
        if (ss.ss_family == AF_INET) {
            struct sockaddr_in *a = (struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &a->sin_addr, c->addr, sizeof c->addr);
            c->port = ntohs(a->sin_port);
        } else {
            struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &a->sin6_addr, c->addr, sizeof c->addr);
            c->port = ntohs(a->sin6_port);
            if (g_str_has_prefix(c->addr, "::ffff:"))
                memmove(c->addr, c->addr + 7, strlen(c->addr + 7) + 1);
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int per_ip = GPOINTER_TO_INT(g_hash_table_lookup(s->conns_per_ip, c->addr));
        if (s->cfg->max_client_cnxns > 0 && per_ip >= s->cfg->max_client_cnxns) {
            LOG_WARN("Too many connections from /%s - max is %d", c->addr, s->cfg->max_client_cnxns);
            close(fd);
            jw_free(&c->out);
            g_ptr_array_free(c->auth, TRUE);
            g_free(c);
            continue;
        }
        g_hash_table_insert(s->conns_per_ip, g_strdup(c->addr), GINT_TO_POINTER(per_ip + 1));
        /* NIOServerCnxn: every connection is authenticated as its ip. */
        auth_add(c->auth, "ip", c->addr);
        g_hash_table_insert(s->conns, GINT_TO_POINTER(fd), c);
        conn_update_interest(c);
    }
}

int conn_listen(zk_server *s, char **err)
{
    const char *host = s->cfg->client_port_address;
    int fd = -1;
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof ss);
    if (host && strchr(host, ':')) {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)s->cfg->client_port);
        if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
            goto bad_addr;
        sl = sizeof *a;
    } else if (host) {
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)s->cfg->client_port);
        if (strcmp(host, "localhost") == 0)
            host = "127.0.0.1";
        if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
            goto bad_addr;
        sl = sizeof *a;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
        a->sin6_family = AF_INET6;
        a->sin6_port = htons((uint16_t)s->cfg->client_port);
        a->sin6_addr = in6addr_any;
        sl = sizeof *a;
    }
    fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0 && ss.ss_family == AF_INET6 && !host) {
        /* no IPv6: fall back to IPv4 any */
        struct sockaddr_in *a = (struct sockaddr_in *)&ss;
        memset(&ss, 0, sizeof ss);
        a->sin_family = AF_INET;
        a->sin_port = htons((uint16_t)s->cfg->client_port);
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
        *err = g_strdup_printf("cannot listen on client port %d: %s", s->cfg->client_port,
                               g_strerror(errno));
        close(fd);
        return -1;
    }
    s->listen_fd = fd;
    loop_watch(s->loop, fd, LOOP_READABLE, on_accept, s);
    return 0;
bad_addr:
    *err = g_strdup_printf("bad clientPortAddress '%s'", host);
    return -1;
}
