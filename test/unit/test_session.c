/*
 * test_session.c — unit tests for server/session.c: session ids as
 * SessionTrackerImpl.initializeNextSessionId makes them, ExpiryQueue-style
 * deadline rounding and expiry, and session passwords compared with
 * new java.util.Random(id ^ 0xB3415C00L).nextBytes(16) run on the JDK
 * (test/vectors/java/session_passwords.txt, tools/gen-java-vectors.sh).
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

#include "session.h"

static void test_java_passwords(void **state)
{
    (void)state;
    char *text = NULL;
    assert_true(g_file_get_contents("test/vectors/java/session_passwords.txt", &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    int cases = 0;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        char **f = g_strsplit(*l, "\t", 2);
        int64_t id = g_ascii_strtoll(f[0], NULL, 10);
        uint8_t pw[16];
        session_password(id, pw);
        char hex[33];
        for (int i = 0; i < 16; i++)
            snprintf(hex + 2 * i, 3, "%02x", pw[i]);
        if (strcmp(hex, f[1]) != 0)
            fail_msg("password of %" G_GINT64_FORMAT ": want %s got %s", id, f[1], hex);
        g_strfreev(f);
        cases++;
    }
    g_strfreev(lines);
    assert_true(cases >= 30);
}

static void test_next_id(void **state)
{
    (void)state;
    session_table st;
    int64_t now = 1700000000123LL;
    session_table_init(&st, 3, 2000, now);
    /* ((now << 24) >>> 8) | (sid << 56) */
    uint64_t want = (((uint64_t)now << 24) >> 8) | ((uint64_t)3 << 56);
    assert_int_equal(session_next_id(&st), (int64_t)want);
    assert_int_equal(session_next_id(&st), (int64_t)want + 1);
    assert_int_equal((uint64_t)session_next_id(&st) >> 56, 3);
    session_table_destroy(&st);

    /* Server id 255 sets the sign bit (Java: long arithmetic, negative ids). */
    session_table_init(&st, 255, 2000, now);
    assert_true(session_next_id(&st) < 0);
    session_table_destroy(&st);
}

static void test_expiry_rounding(void **state)
{
    (void)state;
    session_table st;
    session_table_init(&st, 1, 2000, 0);
    /* ExpiryQueue.roundToNextInterval: (t / tick + 1) * tick */
    zk_session *s = session_add(&st, 42, 5000, 1234);
    assert_non_null(s);
    assert_ptr_equal(session_get(&st, 42), s);
    assert_int_equal(s->timeout, 5000);
    assert_int_equal(s->expire_at, 8000);            /* 6234 -> 8000 */
    zk_session *t = session_add(&st, 43, 4000, 2000);
    assert_int_equal(t->expire_at, 8000);            /* exactly 6000 still rounds up a tick */
    assert_null(session_get(&st, 44));

    GArray *ex = session_expired(&st, 7999);
    assert_int_equal(ex->len, 0);
    g_array_free(ex, TRUE);
    ex = session_expired(&st, 8000);
    assert_int_equal(ex->len, 2);
    g_array_free(ex, TRUE);

    /* Touch pushes the deadline; closing sessions are not reported. */
    session_touch(&st, s, 7000);
    assert_int_equal(s->expire_at, 14000);
    t->closing = true;
    ex = session_expired(&st, 9000);
    assert_int_equal(ex->len, 0);
    g_array_free(ex, TRUE);
    ex = session_expired(&st, 14000);
    assert_int_equal(ex->len, 1);
    assert_int_equal(g_array_index(ex, int64_t, 0), 42);
    g_array_free(ex, TRUE);

    session_remove(&st, 42);
    assert_null(session_get(&st, 42));
    session_remove(&st, 42);      /* harmless */
    assert_non_null(session_get(&st, 43));
    session_table_destroy(&st);
}

static void test_readd_keeps_one_entry(void **state)
{
    (void)state;
    session_table st;
    session_table_init(&st, 1, 1000, 0);
    zk_session *a = session_add(&st, 7, 3000, 0);
    a->closing = true;
    zk_session *b = session_add(&st, 7, 6000, 500);
    assert_ptr_equal(a, b);
    assert_false(b->closing);
    assert_int_equal(b->timeout, 6000);
    assert_int_equal(b->expire_at, 7000);
    assert_int_equal(g_hash_table_size(st.by_id), 1);
    session_table_destroy(&st);
}

static void test_default_tick(void **state)
{
    (void)state;
    session_table st;
    session_table_init(&st, 1, 0, 0);
    assert_int_equal(st.tick_ms, 2000);
    zk_session *s = session_add(&st, 1, 4000, 0);
    assert_int_equal(s->expire_at, 6000);
    session_table_destroy(&st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_passwords),
        cmocka_unit_test(test_next_id),
        cmocka_unit_test(test_expiry_rounding),
        cmocka_unit_test(test_readd_keeps_one_entry),
        cmocka_unit_test(test_default_tick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
