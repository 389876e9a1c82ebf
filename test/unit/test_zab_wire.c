/*
 * test_zab_wire.c — unit tests for server/zab_wire.c: every message type
 * round-trips field for field, payloads are views into the input, and
 * truncated, oversized, trailing-garbage or out-of-range input is rejected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "zab_wire.h"

static void assert_same(const zab_msg *a, const zab_msg *b)
{
    assert_int_equal(a->type, b->type);
    assert_int_equal(a->epoch, b->epoch);
    assert_int_equal(a->zxid, b->zxid);
    assert_int_equal(a->session, b->session);
    assert_int_equal(a->leader, b->leader);
    assert_int_equal(a->election_epoch, b->election_epoch);
    assert_int_equal(a->state, b->state);
    assert_int_equal(a->fresh, b->fresh);
    assert_int_equal(a->acked_epoch, b->acked_epoch);
    assert_int_equal(a->len, b->len);
    if (a->len)
        assert_memory_equal(a->data, b->data, a->len);
}

static void test_round_trip(void **state)
{
    (void)state;
    static const uint8_t txn[] = { 0, 1, 2, 0xff, 0x80 };
    for (int type = 1; type <= ZAB_MSG_TYPE_MAX; type++) {
        zab_msg m = { .type = type, .epoch = 0xfffffffeu, .zxid = (int64_t)0x0000000700000009,
                      .session = 0x123456789abcdefull, .leader = type % 4 - 1,
                      .election_epoch = 77, .state = type % 4, .fresh = type & 1,
                      .acked_epoch = 42 };
        if (type == ZAB_MSG_PROPOSAL || type == ZAB_MSG_SNAP || type == ZAB_MSG_INFORM) {
            m.data = txn;
            m.len = sizeof txn;
        }
        jute_writer w;
        jw_init(&w, 16);
        zab_wire_encode(&w, &m);
        zab_msg out;
        assert_int_equal(zab_wire_decode(w.buf, w.len, &out), 0);
        assert_same(&m, &out);
        if (m.len)
            assert_true(out.data >= w.buf && out.data < w.buf + w.len); /* a view */
        /* every strict prefix is rejected */
        for (size_t cut = 0; cut < w.len; cut++)
            assert_int_equal(zab_wire_decode(w.buf, cut, &out), -1);
        /* trailing garbage is rejected */
        jw_int(&w, 0);
        assert_int_equal(zab_wire_decode(w.buf, w.len, &out), -1);
        jw_free(&w);
    }
}

static void test_empty_payload_vs_none(void **state)
{
    (void)state;
    zab_msg m = { .type = ZAB_MSG_PROPOSAL, .zxid = 5, .data = (const uint8_t *)"", .len = 0 };
    jute_writer w;
    jw_init(&w, 16);
    zab_wire_encode(&w, &m);
    zab_msg out;
    assert_int_equal(zab_wire_decode(w.buf, w.len, &out), 0);
    assert_int_equal(out.len, 0);
    jw_free(&w);
}

/* Encodes m with one field patched at byte offset off to v. */
static int decode_patched(const zab_msg *m, size_t off, int32_t v)
{
    jute_writer w;
    jw_init(&w, 16);
    zab_wire_encode(&w, m);
    jw_patch_int(&w, off, v);
    zab_msg out;
    int rc = zab_wire_decode(w.buf, w.len, &out);
    jw_free(&w);
    return rc;
}

static void test_bad_fields(void **state)
{
    (void)state;
    zab_msg m = { .type = ZAB_MSG_PING };
    /* offsets: version 0, type 4, epoch 8, zxid 12, session 20, leader 28,
     * election_epoch 32, state 40, fresh 44, acked_epoch 45, data 49 */
    assert_int_equal(decode_patched(&m, 0, 2), -1);            /* version */
    assert_int_equal(decode_patched(&m, 4, 0), -1);            /* type */
    assert_int_equal(decode_patched(&m, 4, ZAB_MSG_TYPE_MAX + 1), -1);
    assert_int_equal(decode_patched(&m, 28, -2), -1);          /* leader */
    assert_int_equal(decode_patched(&m, 40, 4), -1);           /* state */
    assert_int_equal(decode_patched(&m, 40, -1), -1);
    assert_int_equal(decode_patched(&m, 49, -5), -1);          /* data length */
    assert_int_equal(decode_patched(&m, 49, 1000), -1);        /* longer than input */
    assert_int_equal(decode_patched(&m, 49, -1), 0);           /* null data is fine */
    assert_int_equal(decode_patched(&m, 12, -1), -1);          /* zxid high word: negative */
    assert_int_equal(decode_patched(&m, 12, INT32_MIN), -1);
    zab_msg out;
    assert_int_equal(zab_wire_decode(NULL, 0, &out), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_empty_payload_vs_none),
        cmocka_unit_test(test_bad_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
