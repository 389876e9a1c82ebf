/*
 * test_jset.c — unit tests for server/jset.c, the java.util.HashSet<String>
 * look-alike.  Iteration orders and String.hashCode values are compared
 * with those printed by the real JDK (test/vectors/java/hashset_orders.txt
 * and string_hash.txt, made by tools/gen-java-vectors.sh).
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

#include "jset.h"
#include "vectors.h"

/* ---- helpers --------------------------------------------------------------- */

/* The iteration order of s as one space-separated g_malloc'd string. */
static char *order_of(const jset *s)
{
    GString *g = g_string_new(NULL);
    for (jset_entry *e = jset_first(s); e; e = jset_next(s, e)) {
        if (g->len)
            g_string_append_c(g, ' ');
        g_string_append(g, e->key);
    }
    return g_string_free(g, FALSE);
}

/* Applies "+x"/"-x" ops (tokens stay alive: they are the keys). */
static void apply_ops(jset *s, char **ops)
{
    for (char **op = ops; *op; op++) {
        if (!**op)
            continue;
        if ((*op)[0] == '+')
            jset_add(s, *op + 1, *op);
        else
            jset_remove(s, *op + 1);
    }
}

/* new HashSet<>(collection): capacity max((int)(size/.75f) + 1, 16), then addAll in order. */
static void copy_set(jset *dst, const jset *src)
{
    uint32_t cap = (uint32_t)((float)src->size / 0.75f) + 1;
    jset_init(dst, cap < 16 ? 16 : cap);
    for (jset_entry *e = jset_first(src); e; e = jset_next(src, e))
        jset_add(dst, e->key, e->value);
}

/* ---- tests against the JDK ------------------------------------------------- */

static void test_java_iteration_orders(void **state)
{
    (void)state;
    char **lines = vectors_read_lines("test/vectors/java/hashset_orders.txt");
    int cases = 0, failures = 0;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        char **f = g_strsplit(*l, "\t", 4);
        assert_non_null(f[0]);
        assert_non_null(f[3]);
        int cap = atoi(f[1]);
        char **ops = g_strsplit(f[2], " ", -1);
        jset s;
        jset_init(&s, cap < 0 ? 16 : (uint32_t)cap);
        apply_ops(&s, ops);
        char *got;
        if (strcmp(f[0], "copy") == 0) {
            jset c;
            copy_set(&c, &s);
            got = order_of(&c);
            assert_int_equal(c.size, s.size);
            jset_clear(&c);
        } else {
            got = order_of(&s);
        }
        if (strcmp(got, f[3]) != 0) {
            if (failures < 5)
                print_error("line %d (%s cap %d): expected [%.200s]\n got [%.200s]\n",
                            (int)(l - lines) + 1, f[0], cap, f[3], got);
            failures++;
        }
        /* Size agrees with the number of distinct names Java kept. */
        char **want = g_strsplit(f[3], " ", -1);
        assert_int_equal(s.size, f[3][0] ? g_strv_length(want) : 0);
        g_strfreev(want);
        g_free(got);
        jset_clear(&s);
        g_strfreev(ops);
        g_strfreev(f);
        cases++;
    }
    g_strfreev(lines);
    assert_true(cases > 200);
    assert_int_equal(failures, 0);
}

static void test_java_string_hash(void **state)
{
    (void)state;
    char **lines = vectors_read_lines("test/vectors/java/string_hash.txt");
    int cases = 0;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        char **f = g_strsplit(*l, "\t", 2);
        char *s = (char *)vectors_unhex(f[0], NULL);
        int32_t want = (int32_t)strtol(f[1], NULL, 10);
        if (jset_string_hash(s) != want)
            fail_msg("hashCode of %s: want %d got %d", f[0], want, jset_string_hash(s));
        g_free(s);
        g_strfreev(f);
        cases++;
    }
    g_strfreev(lines);
    assert_true(cases > 200);
}

/* ---- behaviour ------------------------------------------------------------- */

static void test_add_get_remove(void **state)
{
    (void)state;
    jset s;
    jset_init(&s, 8);
    assert_null(jset_first(&s));
    assert_false(jset_contains(&s, "a"));
    assert_false(jset_remove(&s, "a"));
    int va = 1, vb = 2;
    assert_true(jset_add(&s, "a", &va));
    assert_true(jset_add(&s, "b", &vb));
    assert_false(jset_add(&s, "a", &vb));       /* already present: unchanged */
    assert_ptr_equal(jset_get(&s, "a"), &va);
    assert_ptr_equal(jset_get(&s, "b"), &vb);
    assert_null(jset_get(&s, "c"));
    assert_int_equal(s.size, 2);
    assert_true(jset_remove(&s, "a"));
    assert_false(jset_remove(&s, "a"));
    assert_false(jset_contains(&s, "a"));
    assert_int_equal(s.size, 1);
    jset_clear(&s);
    assert_int_equal(s.size, 0);
    assert_null(jset_first(&s));
    /* Reusable after clear. */
    assert_true(jset_add(&s, "z", NULL));
    assert_true(jset_contains(&s, "z"));
    jset_clear(&s);
}

static void test_known_hashes(void **state)
{
    (void)state;
    assert_int_equal(jset_string_hash(""), 0);
    assert_int_equal(jset_string_hash("a"), 97);
    assert_int_equal(jset_string_hash("Aa"), jset_string_hash("BB"));
    assert_int_equal(jset_string_hash("Aa"), 2112);
    /* "hello".hashCode() == 99162322; "zookeeper".hashCode() overflows. */
    assert_int_equal(jset_string_hash("hello"), 99162322);
    assert_int_equal(jset_string_hash("\xc3\xa9"), 0xe9);                /* é: one UTF-16 unit */
    assert_int_equal(jset_string_hash("\xf0\x9f\x98\x80"), 0xd83d * 31 + 0xde00); /* surrogate pair */
}

static void test_many_entries_all_iterated(void **state)
{
    (void)state;
    enum { N = 5000 };
    char **names = g_new0(char *, N + 1);
    jset s;
    jset_init(&s, 16);
    for (int i = 0; i < N; i++) {
        names[i] = g_strdup_printf("n-%d", i);
        assert_true(jset_add(&s, names[i], names[i]));
    }
    for (int i = 0; i < N; i += 2)
        assert_true(jset_remove(&s, names[i]));
    GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
    int count = 0;
    for (jset_entry *e = jset_first(&s); e; e = jset_next(&s, e)) {
        assert_ptr_equal(e->key, e->value);
        assert_false(g_hash_table_contains(seen, e->key));
        g_hash_table_add(seen, (gpointer)e->key);
        count++;
    }
    assert_int_equal(count, N / 2);
    assert_int_equal(s.size, N / 2);
    g_hash_table_destroy(seen);
    jset_clear(&s);
    g_strfreev(names);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_iteration_orders),
        cmocka_unit_test(test_java_string_hash),
        cmocka_unit_test(test_add_get_remove),
        cmocka_unit_test(test_known_hashes),
        cmocka_unit_test(test_many_entries_all_iterated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
