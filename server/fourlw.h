/*
 * fourlw.h — the four-letter-word renderers, separated from sending: the
 * client-port words (fourlw_handle in server.h) and the AdminServer
 * (admin_http.c) render through the same functions.
 */
#ifndef ZK_FOURLW_H
#define ZK_FOURLW_H

#include "server.h"

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

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
