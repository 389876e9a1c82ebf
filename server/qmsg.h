/*
 * qmsg.h — the server-level frames on the peer links (the project's own
 * peer protocol, docs/peer-protocol.md): every frame starts with a kind,
 *   QMSG_ZAB      a zab_msg (zab_wire.h)                    both channels
 *   QMSG_FORWARD  learner -> leader: a client request       quorum channel
 *   QMSG_SYNCED   leader -> learner: a forwarded sync is    quorum channel
 *                 answered (everything before it committed)
 *   QMSG_TOUCH    learner -> leader: sessions kept alive    quorum channel
 * and qmsg_decode() turns a frame into a struct in one place, checking
 * every field, before quorum.c acts on it.
 */
#ifndef ZK_SERVER_QMSG_H
#define ZK_SERVER_QMSG_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "zab.h"
#include "zk/jute.h"
#include "zk/proto.h"

enum { QMSG_ZAB = 1, QMSG_FORWARD = 2, QMSG_SYNCED = 3, QMSG_TOUCH = 4 };

/* A decoded frame; views point into the frame, which must outlive it. */
typedef struct qmsg {
    int32_t kind;
    zab_msg zab;                 /* QMSG_ZAB */
    struct {                     /* QMSG_FORWARD */
        int64_t session_id;
        int32_t xid, type, timeout;
        zk_vec auth;             /* (scheme, id) string pairs */
        jute_view body;          /* the request body (len >= 0) */
    } forward;
    struct {                     /* QMSG_SYNCED */
        int64_t session_id;
        int32_t xid;
        int64_t zxid;
    } synced;
    zk_vec touch;                /* QMSG_TOUCH: longs, the session ids */
} qmsg;

/* Decodes one frame; false if the kind is unknown or a field does not
 * decode (the frame is then dropped). */
bool qmsg_decode(const uint8_t *frame, size_t len, qmsg *m);

/* Walks the (scheme, id) pairs of a decoded forward's auth: call with
 * *it from zk_vec_iter(&m->forward.auth, it), count times. */
bool qmsg_next_auth(jute_reader *it, jute_view *scheme, jute_view *id);

/* Encoders: append one whole frame to w. */
void qmsg_write_zab(jute_writer *w, const zab_msg *m);
void qmsg_write_forward(jute_writer *w, int64_t session_id, int32_t xid, int32_t type,
                        int32_t timeout, const GPtrArray *auth, const uint8_t *body,
                        size_t body_len);
void qmsg_write_synced(jute_writer *w, int64_t session_id, int32_t xid, int64_t zxid);
/* ids: n session ids. */
void qmsg_write_touch(jute_writer *w, const int64_t *ids, guint n);

#endif
