/*
 * test_op.c — the request-body decoder (server/op.c): every op of the
 * captured real-client frames decodes; every truncation of them does not;
 * Apache's MultiOperationRecord rules (create opcodes from flags, no mixing
 * of reads and writes, a dropped ttl); deleteContainer names a path only
 * for the server's own requests; how undecodable bodies are answered.
 * Apache's actual answers are compared frame by frame by
 * test/integration/malformed_diff.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "op.h"

static const char *const vector_dirs[] = { "test/vectors", "../test/vectors", "../../test/vectors", NULL };

static uint8_t *load(const char *name, size_t *len)
{
    for (int i = 0; vector_dirs[i]; i++) {
        char *p = g_build_filename(vector_dirs[i], name, NULL);
        gchar *data = NULL;
        gsize n = 0;
        gboolean ok = g_file_get_contents(p, &data, &n, NULL);
        g_free(p);
        if (ok) {
            *len = n;
            return (uint8_t *)data;
        }
    }
    fail_msg("vector %s not found", name);
    return NULL;
}

static void test_real_requests(void **state)
{
    (void)state;
    static const char *const reqs[] = {
        "kazoo_create_req.bin", "kazoo_create2_req.bin", "kazoo_getdata_req.bin",
        "kazoo_setdata_req.bin", "kazoo_getchildren2_req.bin", "kazoo_exists_watch_req.bin",
        "kazoo_multi_req.bin", "kazoo_auth_req.bin", "climt_setwatches_req.bin",
        "zkcli_addwatch_req.bin",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(reqs); i++) {
        size_t len;
        uint8_t *f = load(reqs[i], &len);
        int32_t type = (int32_t)zk_be32(f + 4);
        zk_op op;
        assert_true(zk_op_decode(type, f + 8, len - 8, false, &op));
        zk_op_clear(&op);
        /* every cut inside the record fails (the last field is never optional) */
        for (size_t cut = 8; cut < len; cut++) {
            assert_false(zk_op_decode(type, f + 8, cut - 8, false, &op));
        }
        g_free(f);
    }
}

static void put_header(jute_writer *w, int32_t type)
{
    zk_multi_header h = { type, false, -1 };
    zk_multi_header_write(w, &h);
}

static void put_create(jute_writer *w, int32_t opcode, const char *path, int32_t flags, bool ttl)
{
    put_header(w, opcode);
    jw_string(w, path);
    jw_buffer(w, "", 0);
    jw_int(w, 1);
    jw_int(w, ZK_PERM_ALL);
    jw_string(w, "world");
    jw_string(w, "anyone");
    jw_int(w, flags);
    if (ttl)
        jw_long(w, 5000);
}

static void put_end(jute_writer *w)
{
    zk_multi_header h = { -1, true, -1 };
    zk_multi_header_write(w, &h);
}

static void test_multi_rules(void **state)
{
    (void)state;
    jute_writer w;
    jw_init(&w, 256);
    put_create(&w, ZK_OP_CREATE2, "/c", ZK_CREATE_CONTAINER, false);
    put_create(&w, ZK_OP_CREATE, "/t", ZK_CREATE_PERSISTENT_WITH_TTL, false);
    put_create(&w, ZK_OP_CREATETTL, "/p", ZK_CREATE_PERSISTENT, true);
    put_create(&w, ZK_OP_CREATETTL, "/q", ZK_CREATE_PERSISTENT_WITH_TTL, true);
    put_end(&w);
    zk_op op;
    assert_true(zk_op_decode(ZK_OP_MULTI, w.buf, w.len, false, &op));
    assert_int_equal(op.u.multi.n, 4);
    assert_false(op.u.multi.reads);
    assert_int_equal(op.u.multi.ops[0].type, ZK_OP_CREATECONTAINER);
    assert_int_equal(op.u.multi.ops[1].type, ZK_MULTI_CREATE_TTL_BAD_CAST);
    assert_int_equal(op.u.multi.ops[2].type, ZK_OP_CREATE);
    assert_int_equal(op.u.multi.ops[2].u.create.ttl, -1);   /* Op.create drops it */
    assert_int_equal(op.u.multi.ops[3].type, ZK_OP_CREATETTL);
    assert_int_equal(op.u.multi.ops[3].u.create.ttl, 5000);
    zk_op_clear(&op);

    /* a read among writes: "Mixing different kind of ops" */
    jw_reset(&w);
    put_create(&w, ZK_OP_CREATE, "/a", 0, false);
    put_header(&w, ZK_OP_GETDATA);
    jw_string(&w, "/a");
    jw_bool(&w, false);
    put_end(&w);
    assert_false(zk_op_decode(ZK_OP_MULTI, w.buf, w.len, false, &op));

    /* an unknown inner type, and no end marker */
    jw_reset(&w);
    put_header(&w, 99);
    put_end(&w);
    assert_false(zk_op_decode(ZK_OP_MULTI, w.buf, w.len, false, &op));
    jw_reset(&w);
    put_create(&w, ZK_OP_CREATE, "/a", 0, false);
    assert_false(zk_op_decode(ZK_OP_MULTI, w.buf, w.len, false, &op));

    /* only reads: decodes (multiRead), flagged as reads */
    jw_reset(&w);
    put_header(&w, ZK_OP_GETCHILDREN);
    jw_string(&w, "/");
    jw_bool(&w, true);
    put_end(&w);
    assert_true(zk_op_decode(ZK_OP_MULTIREAD, w.buf, w.len, false, &op));
    assert_true(op.u.multi.reads);
    zk_op_clear(&op);
    jw_free(&w);
}

static void test_vector_counts(void **state)
{
    (void)state;
    /* an ACL count of -2 is an empty vector; what follows is read on */
    jute_writer w;
    jw_init(&w, 64);
    jw_string(&w, "/n");
    jw_buffer(&w, "", 0);
    jw_int(&w, -2);
    jw_int(&w, ZK_CREATE_EPHEMERAL);
    zk_op op;
    assert_true(zk_op_decode(ZK_OP_CREATE, w.buf, w.len, false, &op));
    assert_int_equal(op.u.create.acl.count, 0);
    assert_int_equal(op.u.create.flags, ZK_CREATE_EPHEMERAL);
    jw_free(&w);
}

static void test_special_bodies(void **state)
{
    (void)state;
    zk_op op;
    /* deleteContainer: a path only when the server submits it */
    assert_true(zk_op_decode(ZK_OP_DELETECONTAINER, (const uint8_t *)"/c", 2, true, &op));
    assert_int_equal(op.u.container_path.len, 2);
    assert_true(zk_op_decode(ZK_OP_DELETECONTAINER, (const uint8_t *)"/c", 2, false, &op));
    assert_null(op.u.container_path.ptr);
    assert_true(zk_op_decode(ZK_OP_DELETECONTAINER, NULL, 0, false, &op));
    /* createSession: the first four bytes */
    static const uint8_t to[] = { 0, 0, 0x75, 0x30, 9, 9 };
    assert_true(zk_op_decode(ZK_OP_CREATESESSION, to, sizeof to, false, &op));
    assert_int_equal(op.u.session_timeout, 30000);
    assert_false(zk_op_decode(ZK_OP_CREATESESSION, to, 3, false, &op));
    /* bodies without a record */
    assert_true(zk_op_decode(ZK_OP_PING, (const uint8_t *)"junk", 4, false, &op));
    assert_true(zk_op_decode(ZK_OP_CLOSESESSION, NULL, 0, false, &op));
    /* how an undecodable body is answered */
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_CREATE), ZK_UNDECODABLE_ERROR_TXN);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_MULTI), ZK_UNDECODABLE_ERROR_TXN);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_CREATESESSION), ZK_UNDECODABLE_ERROR_TXN);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_GETDATA), ZK_UNDECODABLE_REPLY);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_RECONFIG), ZK_UNDECODABLE_REPLY);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_AUTH), ZK_UNDECODABLE_CLOSE);
    assert_int_equal(zk_op_undecodable_answer(ZK_OP_SASL), ZK_UNDECODABLE_CLOSE);
    assert_true(zk_op_checks_session_first(ZK_OP_DELETE));
    assert_false(zk_op_checks_session_first(ZK_OP_CREATE));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_real_requests),
        cmocka_unit_test(test_multi_rules),
        cmocka_unit_test(test_vector_counts),
        cmocka_unit_test(test_special_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
