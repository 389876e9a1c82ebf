/*
 * zab_wire.c — encode/decode zab_msg to/from bytes (see zab_wire.h).
 *
 * Layout (all big-endian, jute primitives):
 *   int version (1), int type, int epoch, long zxid, long session,
 *   int leader, long election_epoch, int state, boolean fresh,
 *   int acked_epoch,
 *   buffer data (int length, -1 = none, then the bytes)
 * Every field is always present, so the format has one shape for all types.
 */
#include "zab_wire.h"

#include <string.h>

void zab_wire_encode(jute_writer *w, const zab_msg *m)
{
    jw_int(w, ZAB_WIRE_VERSION);
    jw_int(w, m->type);
    jw_int(w, (int32_t)m->epoch);
    jw_long(w, m->zxid);
    jw_long(w, (int64_t)m->session);
    jw_int(w, m->leader);
    jw_long(w, (int64_t)m->election_epoch);
    jw_int(w, m->state);
    jw_bool(w, m->fresh);
    jw_int(w, (int32_t)m->acked_epoch);
    if (m->data || m->len)
        jw_buffer(w, m->data ? m->data : (const uint8_t *)"", (int32_t)m->len);
    else
        jw_buffer(w, NULL, -1);
}

int zab_wire_decode(const uint8_t *buf, size_t len, zab_msg *m)
{
    jute_reader r;
    memset(m, 0, sizeof *m);
    jr_init(&r, buf, len);
    int32_t version = jr_int(&r);
    zab_msg out = { 0 };
    out.type = jr_int(&r);
    out.epoch = (uint32_t)jr_int(&r);
    out.zxid = jr_long(&r);
    out.session = (uint64_t)jr_long(&r);
    out.leader = jr_int(&r);
    out.election_epoch = (uint64_t)jr_long(&r);
    out.state = jr_int(&r);
    out.fresh = jr_bool(&r);
    out.acked_epoch = (uint32_t)jr_int(&r);
    jute_view data = jr_buffer(&r);
    if (!jr_ok(&r) || jr_remaining(&r) != 0 || version != ZAB_WIRE_VERSION)
        return -1;
    if (out.type < 1 || out.type > ZAB_MSG_TYPE_MAX)
        return -1;
    if (out.state < ZAB_LOOKING || out.state > ZAB_OBSERVING || out.leader < -1)
        return -1;
    if (out.zxid < 0)
        return -1;          /* no message carries a negative zxid */
    if (data.len > 0 && (size_t)data.len > ZAB_WIRE_MAX_DATA)
        return -1;
    if (data.len >= 0) {
        out.data = (const uint8_t *)data.ptr;
        out.len = (size_t)data.len;
    }
    *m = out;
    return 0;
}
