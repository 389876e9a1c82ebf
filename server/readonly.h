/*
 * readonly.h — read-only mode (readonlymode.enabled), as Apache 3.8's
 * ReadOnlyZooKeeperServer: an ensemble member that has been LOOKING for
 * max(2000 ms, tickTime) serves clients that connect with canBeReadOnly
 * from its own tree, answers every state-changing request with
 * ZNOTREADONLY, and closes every client connection when it leaves LOOKING
 * (so its clients reconnect to a read-write server).
 *
 * Sessions of read-only mode are local: kept in their own table (never in
 * the replicated s->sessions, never logged), created only when
 * localSessionsEnabled=true (without it Apache refuses the createSession
 * with ZNOTREADONLY), expired here, and forgotten when the mode ends; a
 * client that comes back with one to a read-write server finds it expired.
 *
 * quorum.c decides when the mode starts and ends (readonly_enter /
 * readonly_leave); the request pipeline asks readonly_active() at its two
 * hooks (the ConnectRequest and every request frame).  Everything runs on
 * the event-loop thread.
 */
#ifndef ZK_READONLY_H
#define ZK_READONLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zk/proto.h"

typedef struct zk_server zk_server;
typedef struct zk_conn zk_conn;

/* True while s serves in read-only mode. */
bool readonly_active(const zk_server *s);
/* How long (ms) a member must have been LOOKING before read-only mode
 * starts: max(2000, tickTime), as QuorumPeer's grace period. */
int64_t readonly_grace_ms(const zk_server *s);
/* Starts read-only mode (no-op if active): an empty local session table. */
void readonly_enter(zk_server *s);
/* Ends read-only mode (no-op if not active): every client connection is
 * closed (why: the log line) and the local sessions are forgotten. */
void readonly_leave(zk_server *s, const char *why);
/* Read-only mode's ConnectRequest (cr decoded, borrowed): refuses a client
 * without canBeReadOnly and a reconnection of a global session (the
 * connection is closed), creates or reattaches a local session, or answers
 * ZNOTREADONLY without localSessionsEnabled.  Only when active. */
void readonly_on_connect(zk_conn *c, const zk_connect_request *cr);
/* A request frame of an established connection in read-only mode (rh its
 * decoded header): true if it was handled here (a state-changing opcode
 * answered ZNOTREADONLY, or a closeSession of the local session), false if
 * the read pipeline takes it.  Keeps the connection's local session alive. */
bool readonly_on_frame(zk_conn *c, const zk_request_header *rh);
/* True if id is a live local session of read-only mode. */
bool readonly_has_session(const zk_server *s, int64_t id);
/* The number of local sessions (mntr zk_local_sessions): 0 unless active. */
int64_t readonly_local_sessions(const zk_server *s);
/* Periodic work while active: expires local sessions (closes their
 * connections). */
void readonly_tick(zk_server *s);

#endif
