/*
 * http_server.h — one libmicrohttpd daemon on the server's event loop, as
 * the AdminServer (admin_http.c) and the /metrics endpoint (metrics.c)
 * both run it: external-epoll mode (the daemon's epoll descriptor is
 * watched by the loop, so every request is answered on the loop thread),
 * the same bounds on hostile HTTP (connections in all and per IP, an idle
 * timeout, a per-connection memory limit that caps the request line and
 * headers), a rate-limited log of libmicrohttpd's messages, and the
 * reaping of connections whose peer closed (see http_server.c: without it
 * they stay in CLOSE-WAIT until the idle timeout).
 *
 * Threading: every function runs on the event-loop thread.
 */
#ifndef ZK_HTTP_SERVER_H
#define ZK_HTTP_SERVER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "loop.h"

/* What one daemon is: its listening address, bounds and request handler. */
typedef struct http_server_opts {
    const char *name;              /* log prefix ("AdminServer"); borrowed, must outlive the server */
    const char *host;              /* IPv4 or IPv6 literal (brackets allowed); borrowed */
    int port;
    unsigned idle_timeout_s;       /* idle connections are closed after this (0: never) */
    unsigned max_connections;      /* in all */
    unsigned max_per_ip;
    size_t memory_limit;           /* per connection: request line + headers */
    MHD_AccessHandlerCallback handler;
    void *handler_cls;
} http_server_opts;

typedef struct http_server http_server;

/* Why http_server_start failed. */
typedef enum {
    HTTP_START_OK,
    HTTP_START_BAD_ADDRESS,        /* host is no IP literal */
    HTTP_START_LISTEN_FAILED,      /* MHD_start_daemon failed: errno says why (port in use...) */
    HTTP_START_NO_EPOLL,           /* the daemon has no epoll descriptor */
} http_start_result;

/*
 * Starts a daemon as o says and watches its descriptor on loop.  Returns
 * the server (owned by the caller: http_server_stop frees it) or NULL with
 * *why set (and errno kept for HTTP_START_LISTEN_FAILED); logs nothing
 * itself on failure, so the caller words the message as Apache does.
 * o is copied; the strings it points to are borrowed.
 */
http_server *http_server_start(zk_loop *loop, const http_server_opts *o, http_start_result *why);

/* Runs pending HTTP work, idle timeouts and the reaping of closed peers
 * (called from the server tick and when the descriptor is readable).
 * NULL is a no-op. */
void http_server_run(http_server *h);

/* Stops the daemon, closes its connections, unwatches its descriptor and
 * frees h.  NULL is a no-op. */
void http_server_stop(http_server *h);

/*
 * Queues a response of status with Content-Type type and a copy of body
 * (borrowed) on conn.  MHD_NO when it cannot (out of memory), which makes
 * libmicrohttpd close the connection.
 */
enum MHD_Result http_respond(struct MHD_Connection *conn, unsigned status, const char *type, const char *body);

/* Queues Jetty's HTML error page ("HTTP ERROR 404 Not Found"), as Apache's
 * Jetty writes it, with status code. */
enum MHD_Result http_respond_error(struct MHD_Connection *conn, unsigned code, const char *msg);

#endif
