/*
 * persist.h — recovery, the transaction log's completions and snapshots
 * (persist.c).  Everything runs on the event loop; the snapshot is written
 * by a forked child that persist_check_snapshot reaps.
 */
#ifndef ZK_PERSIST_H
#define ZK_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "zk/jute.h"

typedef struct zk_server zk_server;

/* Loads the newest snapshot and opens the log; replays the log into
 * s->tree/sessions if replay_log (standalone; an ensemble member leaves
 * the unconfirmed tail to Zab). */
int persist_recover(zk_server *s, bool replay_log, char **err);
/* Ensemble: /zookeeper/config holds the membership (a fresh or reloaded tree). */
void persist_init_config_node(zk_server *s);
/* Rebuilds the tree and sessions from disk (snapshot + the log as it is now). */
int persist_reload(zk_server *s, char **err);
/* Appends the snapshot body (tree + sessions) of the current state. */
void persist_serialize(zk_server *s, jute_writer *w);
/* Replaces the state with a snapshot body taken at zxid and writes it as a
 * durable snapshot file.  The log is not touched: the caller drops the
 * logged entries after zxid (quorum.c, once the log is idle) and sets
 * s->snap_zxid. */
int persist_install(zk_server *s, int64_t zxid, const uint8_t *body, size_t len, char **err);
/* Starts a snapshot in a forked child if none is running. */
void persist_maybe_snapshot(zk_server *s, bool force);
/* Reaps a finished snapshot child (called from the timer). */
void persist_check_snapshot(zk_server *s);
/* Event-loop callback for the log's completion fd. */
void persist_on_log_event(zk_loop *l, int fd, int events, void *ctx);
/* The log cannot be written safely any more (a failed fsync; in an ensemble
 * any failed batch): logs a FATAL line naming err, aborts everything in
 * flight (nothing of it is acknowledged) and stops the event loop;
 * server_run then returns 3.  No later flush is started or reported. */
void persist_stop_on_log_failure(zk_server *s, const char *err);

#endif
