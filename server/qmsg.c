/* qmsg.c — encoding and decoding of the server-level peer frames (see qmsg.h). */
#include "qmsg.h"

#include <glib.h>
#include <string.h>

#include "acl.h"
#include "zab_wire.h"

static void skip_auth_pair(jute_reader *r)
{
    (void)jr_string(r);
    (void)jr_string(r);
}

bool qmsg_decode(const uint8_t *frame, size_t len, qmsg *m)
{
    memset(m, 0, sizeof *m);
    jute_reader r;
    jr_init(&r, frame, len);
    m->kind = jr_int(&r);
    if (!jr_ok(&r))
        return false;
    switch (m->kind) {
    case QMSG_ZAB:
        return zab_wire_decode(frame + 4, len - 4, &m->zab) == 0;
    case QMSG_FORWARD:
        m->forward.session_id = jr_long(&r);
        m->forward.xid = jr_int(&r);
        m->forward.type = jr_int(&r);
        m->forward.timeout = jr_int(&r);
        if (!zk_vec_read(&r, &m->forward.auth, skip_auth_pair) || m->forward.auth.count < 0)
            return false;
        m->forward.body = jr_buffer(&r);
        if (m->forward.body.len < 0)
            m->forward.body.len = 0;
        return jr_ok(&r);
    case QMSG_SYNCED:
        m->synced.session_id = jr_long(&r);
        m->synced.xid = jr_int(&r);
        m->synced.zxid = jr_long(&r);
        return jr_ok(&r);
    case QMSG_TOUCH: {
        int32_t n = jr_vector_len(&r, 8);
        if (!jr_ok(&r) || n < 0 || jr_remaining(&r) < (size_t)n * 8)
            return false;
        m->touch.count = n;
        m->touch.raw.ptr = (const char *)frame + r.pos;
        m->touch.raw.len = n * 8;
        return true;
    }
    default:
        return false;
    }
}

bool qmsg_next_auth(jute_reader *it, jute_view *scheme, jute_view *id)
{
    *scheme = jr_string(it);
    *id = jr_string(it);
    return jr_ok(it);
}

void qmsg_write_zab(jute_writer *w, const zab_msg *m)
{
    jw_int(w, QMSG_ZAB);
    zab_wire_encode(w, m);
}

void qmsg_write_forward(jute_writer *w, int64_t session_id, int32_t xid, int32_t type,
                        int32_t timeout, const GPtrArray *auth, const uint8_t *body,
                        size_t body_len)
{
    jw_int(w, QMSG_FORWARD);
    jw_long(w, session_id);
    jw_int(w, xid);
    jw_int(w, type);
    jw_int(w, timeout);
    int n = auth ? (int)auth->len : 0;
    jw_int(w, n);
    for (int i = 0; i < n; i++) {
        const zk_auth_id *a = g_ptr_array_index((GPtrArray *)auth, i);
        jw_string(w, a->scheme);
        jw_string(w, a->id);
    }
    jw_buffer(w, body, (int32_t)body_len);
}

void qmsg_write_synced(jute_writer *w, int64_t session_id, int32_t xid, int64_t zxid)
{
    jw_int(w, QMSG_SYNCED);
    jw_long(w, session_id);
    jw_int(w, xid);
    jw_long(w, zxid);
}

void qmsg_write_touch(jute_writer *w, const int64_t *ids, guint n)
{
    jw_int(w, QMSG_TOUCH);
    jw_int(w, (int32_t)n);
    for (guint i = 0; i < n; i++)
        jw_long(w, ids[i]);
}
