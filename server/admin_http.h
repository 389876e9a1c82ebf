/*
 * admin_http.h — the AdminServer (Apache 3.8's Jetty admin server: JSON
 * commands over HTTP at admin.serverAddress:admin.serverPort under
 * admin.commandURL), run on the server's event loop.  See admin_http.c.
 */
#ifndef ZK_ADMIN_HTTP_H
#define ZK_ADMIN_HTTP_H

#include "server.h"

struct MHD_Connection;

/*
 * Starts the AdminServer if admin.enableServer (the default) and registers
 * its descriptor with s->loop.  A failure (port in use...) is logged as a
 * warning and the server runs on without it, as Apache does; returns 0
 * when started or disabled, -1 on failure.  s must outlive admin_stop().
 */
int admin_start(zk_server *s);
/* Runs pending HTTP work and idle timeouts (called from the server tick). */
void admin_tick(void);
/* Stops the AdminServer and closes its connections (no-op if not running). */
void admin_stop(void);
/*
 * Runs AdminServer command `name` (a primary name or alias) and returns its
 * JSON document as Apache 3.8 shapes it (g_free it).  conn supplies query
 * arguments (set_trace_mask's traceMask) and may be NULL.
 */
char *admin_run_command(zk_server *s, const char *name, struct MHD_Connection *conn);

#endif
