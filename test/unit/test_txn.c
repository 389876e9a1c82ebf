/*
 * test_txn.c — unit tests for server/txn.c.  The main test feeds txn_apply
 * transactions that Apache ZooKeeper's jute classes serialised (TxnHeader +
 * CreateTxn, Create2, SetData, SetACL, CheckVersion, Error, Delete,
 * CreateContainer, CreateTTL, Multi incl. failed ones, CloseSession) and
 * compares each result and the tree afterwards with what the real
 * DataTree.processTxn produced (test/vectors/java/txn_ops.txt, made by
 * tools/gen-java-vectors.sh).  Other tests: createSession/closeSession on
 * the session table, header round trip, malformed input.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "txn.h"
#include "vectors.h"

/* ---- helpers --------------------------------------------------------------- */

/* One result as "type err path stat" (Java ProcessTxnResult), g_malloc'd. */
static char *result_str(const txn_result *r, char sep)
{
    char *st = r->has_stat ? unit_stat_str(&r->stat, ',') : g_strdup("-");
    char *s = g_strdup_printf("%d%c%d%c%s%c%s", r->type, sep, r->err, sep, r->path ? r->path : "-", sep, st);
    g_free(st);
    return s;
}

static void closed_cb(void *ctx, int64_t id)
{
    g_array_append_val((GArray *)ctx, id);
}

/* ---- the Java processTxn script ------------------------------------------- */

static void test_java_processtxn_script(void **state)
{
    (void)state;
    bool saved = zk_extended_types_enabled;
    zk_extended_types_enabled = true;
    char *text = NULL;
    assert_true(g_file_get_contents("test/vectors/java/txn_ops.txt", &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    zk_tree *t = tree_new();
    session_table st;
    session_table_init(&st, 1, 2000, 0);
    GArray *closed = g_array_new(FALSE, FALSE, sizeof(int64_t));
    txn_ctx ctx = { t, &st, 0, closed_cb, closed };
    int failures = 0, checked = 0, lineno = 0;
    for (char **l = lines; *l; l++) {
        lineno++;
        if (!**l)
            continue;
        char **halves = g_strsplit(*l, " => ", 2);
        char **a = g_strsplit(halves[0], " ", -1);
        const char *want = halves[1] ? halves[1] : "";
        char *got = NULL;
        if (strcmp(a[0], "txn") == 0) {
            size_t len;
            uint8_t *buf = vectors_unhex(a[1], &len);
            txn_result res;
            assert_true(txn_apply(&ctx, buf, len, &res));
            got = result_str(&res, ' ');
            if (res.multi) {
                GString *g = g_string_new(got);
                g_string_append(g, " [");
                for (guint i = 0; i < res.multi->len; i++) {
                    char *s = result_str(&g_array_index(res.multi, txn_result, i), ':');
                    g_string_append_printf(g, " %s", s);
                    g_free(s);
                }
                g_string_append(g, " ]");
                g_free(got);
                got = g_string_free(g, FALSE);
            }
            txn_result_clear(&res);
            g_free(buf);
        } else if (strcmp(a[0], "stat") == 0) {
            zk_node *n = tree_get(t, a[1]);
            zk_stat s;
            if (n)
                tree_stat(n, &s);
            got = n ? unit_stat_str(&s, ' ') : g_strdup_printf("%d", ZNONODE);
        } else if (strcmp(a[0], "children") == 0) {
            zk_node *n = tree_get(t, a[1]);
            GString *g = g_string_new(NULL);
            for (jset_entry *e = n ? jset_first(&n->children) : NULL; e; e = jset_next(&n->children, e))
                g_string_append_printf(g, "%s%s", g->len ? " " : "", e->key);
            got = g_string_free(g, FALSE);
        } else if (strcmp(a[0], "ephemerals") == 0) {
            GPtrArray *e = tree_session_ephemerals(t, g_ascii_strtoll(a[1], NULL, 10));
            g_ptr_array_add(e, NULL);
            got = g_strjoinv(" ", (char **)e->pdata);
            g_ptr_array_free(e, TRUE);
        } else {
            fail_msg("unknown op %s", a[0]);
        }
        checked++;
        if (strcmp(got, want) != 0) {
            print_error("txn_ops.txt:%d %.60s\n  Java: %s\n  ours: %s\n", lineno, halves[0], want, got);
            failures++;
        }
        g_free(got);
        g_strfreev(a);
        g_strfreev(halves);
    }
    g_strfreev(lines);
    /* The closeSession at the end told the callback. */
    assert_int_equal(closed->len, 1);
    assert_int_equal(g_array_index(closed, int64_t, 0), 0x0100000000000abcLL);
    g_array_free(closed, TRUE);
    assert_int_equal(t->last_processed_zxid > 0x200000000LL, 1);
    session_table_destroy(&st);
    tree_free(t);
    zk_extended_types_enabled = saved;
    assert_true(checked > 40);
    assert_int_equal(failures, 0);
}

/* ---- sessions, header, malformed ---------------------------------------------- */

/* Encodes a header + body into w. */
static void encode(jute_writer *w, int64_t session, int64_t zxid, int32_t type)
{
    txn_header h = { session, 5, zxid, 1000, type };
    txn_header_write(w, &h);
}

static void test_sessions(void **state)
{
    (void)state;
    zk_tree *t = tree_new();
    session_table st;
    session_table_init(&st, 1, 2000, 0);
    GArray *closed = g_array_new(FALSE, FALSE, sizeof(int64_t));
    txn_ctx ctx = { t, &st, 10000, closed_cb, closed };
    jute_writer w;
    jw_init(&w, 64);
    txn_result res;

    encode(&w, 77, 1, ZK_OP_CREATESESSION);
    jw_int(&w, 6000);
    assert_true(txn_apply(&ctx, w.buf, w.len, &res));
    assert_int_equal(res.err, ZOK);
    txn_result_clear(&res);
    zk_session *s = session_get(&st, 77);
    assert_non_null(s);
    assert_int_equal(s->timeout, 6000);
    assert_int_equal(s->expire_at, 18000);      /* 16000 rounds up a tick */

    /* An ephemeral of the session, then closeSession (old form: no body). */
    jw_reset(&w);
    encode(&w, 77, 2, ZK_OP_CREATE);
    jw_string(&w, "/e");
    jw_buffer(&w, "", 0);
    jw_int(&w, 1);
    jw_int(&w, ZK_PERM_ALL);
    jw_string(&w, "world");
    jw_string(&w, "anyone");
    jw_bool(&w, true);
    jw_int(&w, 1);
    assert_true(txn_apply(&ctx, w.buf, w.len, &res));
    assert_int_equal(res.err, ZOK);
    txn_result_clear(&res);
    assert_int_equal(tree_get(t, "/e")->ephemeral_owner, 77);

    jw_reset(&w);
    encode(&w, 77, 3, ZK_OP_CLOSESESSION);
    assert_true(txn_apply(&ctx, w.buf, w.len, &res));
    assert_int_equal(res.err, ZOK);
    txn_result_clear(&res);
    assert_null(session_get(&st, 77));
    assert_null(tree_get(t, "/e"));
    assert_int_equal(closed->len, 1);
    assert_int_equal(t->last_processed_zxid, 3);

    /* Header round trip. */
    jw_reset(&w);
    txn_header h = { -5, 9, 0x500000001LL, 123456789, ZK_OP_SETDATA }, back;
    txn_header_write(&w, &h);
    assert_int_equal(w.len, 32);   /* long, int, long, long, int */
    jute_reader r;
    jr_init(&r, w.buf, w.len);
    assert_true(txn_header_read(&r, &back));
    assert_int_equal(back.client_id, -5);
    assert_int_equal(back.cxid, 9);
    assert_int_equal(back.zxid, 0x500000001LL);
    assert_int_equal(back.time, 123456789);
    assert_int_equal(back.type, ZK_OP_SETDATA);
    jr_init(&r, w.buf, w.len - 1);
    assert_false(txn_header_read(&r, &back));

    /* Malformed: truncated record, unknown type. */
    jw_reset(&w);
    encode(&w, 1, 4, ZK_OP_SETDATA);
    jw_string(&w, "/zookeeper");
    assert_false(txn_apply(&ctx, w.buf, w.len, &res));
    txn_result_clear(&res);
    jw_reset(&w);
    encode(&w, 1, 5, 4242);
    assert_false(txn_apply(&ctx, w.buf, w.len, &res));
    txn_result_clear(&res);
    assert_false(txn_apply(&ctx, w.buf, 10, &res));
    txn_result_clear(&res);

    jw_free(&w);
    g_array_free(closed, TRUE);
    session_table_destroy(&st);
    tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_processtxn_script),
        cmocka_unit_test(test_sessions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
