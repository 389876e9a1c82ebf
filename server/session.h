/*
 * session.h — the session table: every live session's id, password,
 * negotiated timeout and expiry deadline, and the connection it is attached
 * to.  Expiry follows Apache's ExpiryQueue: a deadline is rounded up to the
 * next multiple of tickTime and sessions are expired tick by tick.
 * Creating and closing sessions are transactions; this table only records
 * their effect (session_add / session_remove are called when the
 * createSession / closeSession transaction is applied).
 */
#ifndef ZK_SESSION_H
#define ZK_SESSION_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct zk_conn;

typedef struct zk_session {
    int64_t id;
    int32_t timeout;          /* negotiated, ms */
    int64_t expire_at;        /* monotonic ms, rounded to a tick */
    bool closing;             /* a closeSession is in the pipeline */
    struct zk_conn *conn;     /* attached connection or NULL (not owned) */
} zk_session;

typedef struct session_table {
    GHashTable *by_id;        /* int64 id -> zk_session* (owned) */
    int64_t next_id;
    int32_t tick_ms;
} session_table;

/* Initialises the table; ids start from Apache's initializeNextSessionId(server_id). */
void session_table_init(session_table *st, int64_t server_id, int32_t tick_ms, int64_t now_wall_ms);
void session_table_destroy(session_table *st);
/* The next unused session id (consumed). */
int64_t session_next_id(session_table *st);
/* Records a session (createSession applied, or loaded from a snapshot); returns it. */
zk_session *session_add(session_table *st, int64_t id, int32_t timeout, int64_t now_ms);
zk_session *session_get(const session_table *st, int64_t id);
void session_remove(session_table *st, int64_t id);
/* Pushes the deadline of a live session to now + timeout (rounded up to a tick). */
void session_touch(session_table *st, zk_session *s, int64_t now_ms);
/* Collects ids (GArray of int64) whose deadline has passed and that are not closing. */
GArray *session_expired(session_table *st, int64_t now_ms);
/* The 16-byte password Apache derives from a session id (java.util.Random). */
void session_password(int64_t id, uint8_t out[16]);

#endif
