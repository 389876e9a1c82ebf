/*
 * fourlw.h — four-letter words (fourlw.c) and the server-state queries
 * they and the admin paths share (mode, serving state, version).  The
 * renderers are separated from sending: the client-port words
 * (fourlw_handle) and the AdminServer (admin_http.c) render through
 * fourlw_render.
 */
#ifndef ZK_FOURLW_H
#define ZK_FOURLW_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;

/* If `word` is a four-letter word, answers it on c and returns true. */
bool fourlw_handle(zk_conn *c, uint32_t word);
/* True while the server serves clients (the 4lw "running" state: standalone,
 * or an ensemble member in a synced quorum). */
bool server_is_serving(const zk_server *s);
/* The Mode srvr prints: "standalone", "leader", "follower", "observer", "looking". */
const char *server_mode_name(const zk_server *s);
/* "3.8.0-zkfs-1, built on <date> UTC", as srvr prints it. */
const char *server_version(void);

/*
 * Appends to out the reply of four-letter word `word` exactly as Apache 3.8
 * prints it (or "This ZooKeeper instance is not currently serving requests"
 * for a word that needs a running server).  asker is the client connection
 * that asked (its interest ops print as 0 in cons), or NULL.  The whitelist
 * is not checked here.  crst and srst reset the statistics, as the words do.
 * Returns false (out untouched) if there is no renderer for word.
 * Ownership: out is the caller's; nothing is retained.
 */
bool fourlw_render(zk_server *s, zk_conn *asker, const char *word, GString *out);

/* The process-wide trace mask of gtmk/stmk (Apache's ZooTrace, default 306). */
int64_t fourlw_trace_mask(void);
/* Sets the trace mask (stmk, and the AdminServer's set_trace_mask). */
void fourlw_set_trace_mask(int64_t mask);

#endif
