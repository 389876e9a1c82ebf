/*
 * http_server.c — the libmicrohttpd daemon shared by the AdminServer
 * (admin_http.c) and the /metrics endpoint (metrics.c): start with the
 * bounds of http_server_opts, run from the event loop, stop; response
 * helpers; and the reaping of connections whose peer has closed.
 *
 * Why the reaping: in its epoll mode libmicrohttpd registers each
 * connection edge-triggered and, after a read that returns fewer bytes
 * than it asked for, assumes the socket is drained without reading again.
 * When the peer's last bytes and its FIN arrive together (a client that
 * sends a partial request, or a whole one, and closes at once), the FIN
 * raises no further edge: libmicrohttpd never reads the end of stream and
 * the socket stays in CLOSE-WAIT, holding one of the connection slots,
 * until the idle timeout (30 s by default).  A flood of such clients
 * fills the slots.  So every connection's descriptor is tracked
 * (MHD_OPTION_NOTIFY_CONNECTION) and, after each MHD_run, polled for
 * POLLRDHUP; one whose peer closed and which has nothing left in its send
 * queue (so no answer is cut short: every handler answers within the
 * MHD_run that read the request) is shut down, which raises the edge
 * libmicrohttpd needs: it reads the end of stream and closes the
 * connection in its next run.
 *
 * Ownership: an http_server owns its daemon and its table of connections;
 * the caller owns the http_server (http_server_stop frees it).
 */
#include "http_server.h"
#include "http_addr.h"
#include "log.h"

#include <errno.h>
#include <glib.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

/* One open connection of the daemon. */
typedef struct http_conn {
    int fd;
    bool reaped;                   /* shut down after its peer closed */
} http_conn;

struct http_server {
    http_server_opts o;
    zk_loop *loop;
    struct MHD_Daemon *daemon;
    int epoll_fd;
    GHashTable *conns;             /* struct MHD_Connection* -> http_conn* (owned) */
    log_limiter log_limit;
};

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *h = cls;
    uint64_t suppressed = 0;
    if (!log_limiter_allow(&h->log_limit, 1000, &suppressed))
        return;
    char *msg = g_strdup_vprintf(fmt, ap);
    g_strchomp(msg);
    if (suppressed)
        LOG_WARN("%s: %s (%" G_GUINT64_FORMAT " similar messages suppressed)", h->o.name, msg, suppressed);
    else
        LOG_WARN("%s: %s", h->o.name, msg);
    g_free(msg);
}

static void on_notify(void *cls, struct MHD_Connection *conn, void **socket_context,
                      enum MHD_ConnectionNotificationCode toe)
{
    (void)socket_context;
    http_server *h = cls;
    if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
        g_hash_table_remove(h->conns, conn);
        return;
    }
    if (toe != MHD_CONNECTION_NOTIFY_STARTED)
        return;
    const union MHD_ConnectionInfo *info = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (!info || info->connect_fd < 0)
        return;
    http_conn *c = g_new0(http_conn, 1);
    c->fd = info->connect_fd;
    g_hash_table_replace(h->conns, conn, c);
}

static void on_epoll(zk_loop *l, int fd, int events, void *ctx)
{
    (void)l;
    (void)fd;
    (void)events;
    http_server_run(ctx);
}

http_server *http_server_start(zk_loop *loop, const http_server_opts *o, http_start_result *why)
{
    struct sockaddr_storage ss;
    bool ipv6;
    if (!http_listen_addr(o->host, o->port, &ss, &ipv6)) {
        *why = HTTP_START_BAD_ADDRESS;
        return NULL;
    }
    http_server *h = g_new0(http_server, 1);
    h->o = *o;
    h->loop = loop;
    h->epoll_fd = -1;
    h->conns = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | (ipv6 ? MHD_USE_IPv6 : 0);
    h->daemon = MHD_start_daemon(flags, (uint16_t)o->port, NULL, NULL, o->handler, o->handler_cls,
                                 MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
                                 MHD_OPTION_NOTIFY_CONNECTION, on_notify, h,
                                 MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
                                 MHD_OPTION_CONNECTION_TIMEOUT, o->idle_timeout_s,
                                 MHD_OPTION_CONNECTION_LIMIT, o->max_connections,
                                 MHD_OPTION_PER_IP_CONNECTION_LIMIT, o->max_per_ip,
                                 MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->memory_limit,
                                 MHD_OPTION_END);
    if (!h->daemon) {
        int e = errno;
        g_hash_table_destroy(h->conns);
        g_free(h);
        *why = HTTP_START_LISTEN_FAILED;
        errno = e;
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    h->epoll_fd = info ? info->epoll_fd : -1;
    if (h->epoll_fd < 0) {
        MHD_stop_daemon(h->daemon);
        g_hash_table_destroy(h->conns);
        g_free(h);
        *why = HTTP_START_NO_EPOLL;
        return NULL;
    }
    loop_watch(loop, h->epoll_fd, LOOP_READABLE, on_epoll, h);
    *why = HTTP_START_OK;
    return h;
}

/* Shuts down the connections whose peer closed and whose answer is sent
 * (see the head comment). */
static void reap_closed_peers(http_server *h)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, h->conns);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        http_conn *c = value;
        if (c->reaped)
            continue;
        struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };
        if (poll(&p, 1, 0) <= 0 || !(p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
            continue;
        int unsent = 0;
        if (!(p.revents & (POLLHUP | POLLERR)) && (ioctl(c->fd, SIOCOUTQ, &unsent) < 0 || unsent > 0))
            continue;   /* an answer is still going out: libmicrohttpd sees the peer when it writes */
        shutdown(c->fd, SHUT_RDWR);
        c->reaped = true;
    }
}

void http_server_run(http_server *h)
{
    if (!h)
        return;
    MHD_run(h->daemon);
    reap_closed_peers(h);
}

void http_server_stop(http_server *h)
{
    if (!h)
        return;
    if (h->epoll_fd >= 0)
        loop_unwatch(h->loop, h->epoll_fd);
    MHD_stop_daemon(h->daemon);
    g_hash_table_destroy(h->conns);
    g_free(h);
}

enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status, const char *type, const char *body)
{
    /* libmicrohttpd frees the body with free(): a malloc'd copy */
    size_t n = strlen(body);
    char *copy = malloc(n + 1);
    if (!copy)
        return MHD_NO;
    memcpy(copy, body, n + 1);
    struct MHD_Response *r = MHD_create_response_from_buffer(n, copy, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(copy);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

enum MHD_Result http_respond_error(struct MHD_Connection *conn, unsigned code, const char *msg)
{
    char *body = g_strdup_printf("<html>\n<head>\n<meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n"
                                 "<title>Error %u %s</title>\n</head>\n<body><h2>HTTP ERROR %u %s</h2>\n</body>\n</html>\n",
                                 code, msg, code, msg);
    enum MHD_Result r = http_respond(conn, code, "text/html;charset=iso-8859-1", body);
    g_free(body);
    return r;
}
