/*
 * test_path.c — unit tests for lib/path.c (zk_path_valid), compared with
 * Apache ZooKeeper's own PathUtils.validatePath run on
 * new String(bytes, UTF_8) for the same bytes
 * (test/vectors/java/paths.txt, made by tools/gen-java-vectors.sh).
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

#include "zk/path.h"
#include "vectors.h"

static void test_java_vectors(void **state)
{
    (void)state;
    char *text = NULL;
    assert_true(g_file_get_contents("test/vectors/java/paths.txt", &text, NULL, NULL));
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    int cases = 0, valid = 0, failures = 0;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        char **f = g_strsplit(*l, "\t", 2);
        size_t len;
        char *p = (char *)vectors_unhex(f[0], &len);
        bool want = atoi(f[1]) == 1;
        if (zk_path_valid(p, len) != want) {
            print_error("path hex %s: Java says %s\n", f[0], want ? "valid" : "invalid");
            failures++;
        }
        valid += want;
        g_free(p);
        g_strfreev(f);
        cases++;
    }
    g_strfreev(lines);
    assert_true(cases > 1000);
    assert_true(valid > 100 && valid < cases - 100);   /* both outcomes covered */
    assert_int_equal(failures, 0);
}

static bool ok(const char *s) { return zk_path_valid(s, strlen(s)); }

static void test_basic_rules(void **state)
{
    (void)state;
    assert_true(ok("/"));
    assert_true(ok("/a/b.c/..d"));
    assert_false(ok(""));
    assert_false(ok("a"));
    assert_false(ok("/a/"));
    assert_false(ok("/a//b"));
    assert_false(ok("/a/./b"));
    assert_false(ok("/a/.."));
    assert_false(zk_path_valid(NULL, 0));
    /* Length is honoured: an embedded NUL is inside the path. */
    assert_false(zk_path_valid("/a\0b", 4));
    assert_true(zk_path_valid("/ab/c", 3));     /* only "/ab" is looked at */
    assert_false(zk_path_valid("/ab/c", 4));    /* "/ab/" */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_vectors),
        cmocka_unit_test(test_basic_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
