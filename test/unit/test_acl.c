/*
 * test_acl.c — unit tests for server/acl.c: the digest provider
 * (generateDigest, isValid), the ip provider (isValid, matches), both
 * compared with Apache ZooKeeper's own classes (test/vectors/java/digests.txt,
 * digest_valid.txt, ip.txt); interning and reference counts; checkACL and
 * fixupACL semantics of ZooKeeperServer / PrepRequestProcessor (3.8).
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

#include "acl.h"
#include "vectors.h"

/* ---- helpers --------------------------------------------------------------- */

/* A jute-encoded vector<ACL> of n entries (perms, scheme, id triples); the
 * writer owns the bytes the returned zk_vec points into. */
static zk_vec make_vec(jute_writer *w, int n, const zk_acl_entry *items)
{
    jw_init(w, 64);
    for (int i = 0; i < n; i++) {
        jw_int(w, items[i].perms);
        jw_string(w, items[i].scheme);
        jw_string(w, items[i].id);
    }
    zk_vec v = { n, { (const char *)w->buf, (int32_t)w->len } };
    return v;
}

/* An auth list (GPtrArray of zk_auth_id*, owns them) from scheme,id pairs ending in NULL. */
static GPtrArray *auth_of(const char *scheme, ...)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(auth_id_free);
    va_list ap;
    va_start(ap, scheme);
    for (const char *s = scheme; s; s = va_arg(ap, const char *)) {
        const char *id = va_arg(ap, const char *);
        auth_add(a, s, id);
    }
    va_end(ap);
    return a;
}

/* ---- Java vectors ---------------------------------------------------------- */

static void test_java_digest(void **state)
{
    (void)state;
    GPtrArray *rows = vectors_read_rows("test/vectors/java/digests.txt");
    assert_true(rows->len >= 10);
    for (guint i = 0; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        size_t len;
        char *in = (char *)vectors_unhex(f[0], &len);
        char *want = (char *)vectors_unhex(f[1], NULL);
        char *got = acl_digest(in, len);
        if (strcmp(got, want) != 0)
            fail_msg("generateDigest(%s): want %s got %s", in, want, got);
        g_free(got);
        g_free(want);
        g_free(in);
    }
    g_ptr_array_free(rows, TRUE);
}

static void test_java_digest_is_valid(void **state)
{
    (void)state;
    GPtrArray *rows = vectors_read_rows("test/vectors/java/digest_valid.txt");
    assert_true(rows->len >= 10);
    int failures = 0;
    for (guint i = 0; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        char *id = (char *)vectors_unhex(f[0], NULL);
        bool want = atoi(f[1]) == 1;
        if (acl_id_valid("digest", id) != want) {
            print_error("digest isValid(\"%s\"): Java says %d\n", id, want);
            failures++;
        }
        g_free(id);
    }
    g_ptr_array_free(rows, TRUE);
    assert_int_equal(failures, 0);
}

static void test_java_ip(void **state)
{
    (void)state;
    GPtrArray *rows = vectors_read_rows("test/vectors/java/ip.txt");
    assert_true(rows->len > 100);
    int failures = 0;
    for (guint i = 0; i < rows->len; i++) {
        char **f = g_ptr_array_index(rows, i);
        char *expr = (char *)vectors_unhex(f[1], NULL);
        if (strcmp(f[0], "valid") == 0) {
            bool want = atoi(f[2]) == 1;
            if (acl_id_valid("ip", expr) != want) {
                print_error("ip isValid(\"%s\"): Java says %d\n", expr, want);
                failures++;
            }
        } else {
            bool want = atoi(f[3]) == 1;
            if (acl_ip_matches(expr, f[2]) != want) {
                print_error("ip matches(\"%s\", acl \"%s\"): Java says %d\n", f[2], expr, want);
                failures++;
            }
        }
        g_free(expr);
    }
    g_ptr_array_free(rows, TRUE);
    assert_int_equal(failures, 0);
}

/* ---- interning ------------------------------------------------------------- */

static void test_intern_shares_lists(void **state)
{
    (void)state;
    acl_cache *c = acl_cache_new();
    guint base = acl_cache_size(c);
    zk_acl_entry e[2] = { { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_ALL, "digest", "u:x" } };
    zk_acl_list *a = acl_intern(c, e, 2);
    zk_acl_list *b = acl_intern(c, e, 2);
    assert_ptr_equal(a, b);
    assert_int_equal(a->count, 2);
    assert_string_equal(a->items[1].scheme, "digest");
    assert_string_equal(a->items[1].id, "u:x");
    assert_int_equal(acl_cache_size(c), base + 1);
    zk_acl_list *one = acl_intern(c, e, 1);
    assert_ptr_not_equal(one, a);
    assert_int_equal(acl_cache_size(c), base + 2);

    /* Same list through the jute form. */
    jute_writer w;
    zk_vec v = make_vec(&w, 2, e);
    zk_acl_list *viavec = acl_intern_vec(c, &v);
    assert_ptr_equal(viavec, a);
    /* acl_write produces the same encoding: count + elements. */
    jute_writer out;
    jw_init(&out, 64);
    acl_write(&out, a);
    assert_int_equal(out.len, 4 + w.len);
    assert_int_equal(zk_be32(out.buf), 2);
    assert_memory_equal(out.buf + 4, w.buf, w.len);
    jw_free(&out);
    /* Malformed (truncated) encoding is refused. */
    zk_vec bad = { 2, { (const char *)w.buf, (int32_t)w.len - 3 } };
    assert_null(acl_intern_vec(c, &bad));
    jw_free(&w);

    acl_unref(c, viavec);
    acl_unref(c, b);
    assert_int_equal(acl_cache_size(c), base + 2);
    acl_unref(c, a);
    assert_int_equal(acl_cache_size(c), base + 1);   /* last reference dropped */
    acl_unref(c, one);
    assert_int_equal(acl_cache_size(c), base);

    zk_acl_list *open = acl_open_unsafe(c);
    assert_int_equal(open->count, 1);
    assert_int_equal(open->items[0].perms, ZK_PERM_ALL);
    assert_string_equal(open->items[0].scheme, "world");
    assert_string_equal(open->items[0].id, "anyone");
    acl_unref(c, open);
    assert_int_equal(acl_cache_size(c), base);       /* the cache keeps its own */
    acl_cache_free(c);
}

/* ---- checkACL -------------------------------------------------------------- */

static void test_check(void **state)
{
    (void)state;
    acl_cache *c = acl_cache_new();
    GPtrArray *none = auth_of(NULL);
    GPtrArray *ip = auth_of("ip", "10.1.2.3", NULL);
    GPtrArray *dig = auth_of("ip", "127.0.0.1", "digest", "bob:HASH", NULL);
    GPtrArray *super = auth_of("ip", "127.0.0.1", "super", "", NULL);

    assert_int_equal(acl_check(NULL, ZK_PERM_READ, none), ZOK);
    zk_acl_list *empty = acl_intern(c, NULL, 0);
    assert_int_equal(acl_check(empty, ZK_PERM_ADMIN, none), ZOK);   /* empty ACL: anything goes */

    zk_acl_entry e1[] = { { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_WRITE | ZK_PERM_DELETE, "ip", "10.1.0.0/16" },
                          { ZK_PERM_ALL, "digest", "bob:HASH" }, { ZK_PERM_ALL, "mystery", "x" } };
    zk_acl_list *l = acl_intern(c, e1, 4);
    assert_int_equal(acl_check(l, ZK_PERM_READ, none), ZOK);
    assert_int_equal(acl_check(l, ZK_PERM_WRITE, none), ZNOAUTH);
    assert_int_equal(acl_check(l, ZK_PERM_WRITE, ip), ZOK);
    assert_int_equal(acl_check(l, ZK_PERM_DELETE, ip), ZOK);
    assert_int_equal(acl_check(l, ZK_PERM_ADMIN, ip), ZNOAUTH);
    assert_int_equal(acl_check(l, ZK_PERM_ADMIN, dig), ZOK);
    assert_int_equal(acl_check(l, ZK_PERM_CREATE, super), ZOK);
    /* Any bit of perm is enough (Java: (a.perms & perm) != 0). */
    assert_int_equal(acl_check(l, ZK_PERM_READ | ZK_PERM_ADMIN, none), ZOK);

    zk_acl_entry e2[] = { { ZK_PERM_READ, "digest", "bob:OTHER" }, { ZK_PERM_READ, "world", "somebody" },
                          { ZK_PERM_READ, "mystery", "x" } };
    zk_acl_list *l2 = acl_intern(c, e2, 3);
    assert_int_equal(acl_check(l2, ZK_PERM_READ, dig), ZNOAUTH);
    assert_int_equal(acl_check(l2, ZK_PERM_READ, none), ZNOAUTH);
    GPtrArray *myst = auth_of("mystery", "x", NULL);
    assert_int_equal(acl_check(l2, ZK_PERM_READ, myst), ZNOAUTH);   /* no provider for the scheme */
    assert_int_equal(acl_check(l2, ZK_PERM_READ, super), ZOK);
    /* skipACL=yes: every check passes; off again, they count again */
    acl_configure_skip(true);
    assert_true(acl_skip_enabled());
    assert_int_equal(acl_check(l2, ZK_PERM_READ, none), ZOK);
    assert_int_equal(acl_check(l, ZK_PERM_ADMIN, ip), ZOK);
    acl_configure_skip(false);
    assert_false(acl_skip_enabled());
    assert_int_equal(acl_check(l2, ZK_PERM_READ, none), ZNOAUTH);

    acl_unref(c, l);
    acl_unref(c, l2);
    acl_unref(c, empty);
    g_ptr_array_free(none, TRUE);
    g_ptr_array_free(ip, TRUE);
    g_ptr_array_free(dig, TRUE);
    g_ptr_array_free(super, TRUE);
    g_ptr_array_free(myst, TRUE);
    acl_cache_free(c);
}

static void test_auth_add_dedups(void **state)
{
    (void)state;
    GPtrArray *a = auth_of("ip", "1.2.3.4", "digest", "u:h", "ip", "1.2.3.4", "digest", "u:h2", NULL);
    assert_int_equal(a->len, 3);
    g_ptr_array_free(a, TRUE);
}

/* The order Apache 3.8 reports a connection's ids in (whoAmI), observed on
 * the Debian server: auth user1:pw1 then user2:pw2 from 127.0.0.1 gives
 * [digest user2, ip 127.0.0.1, digest user1]. */
static void test_auth_order_is_javas(void **state)
{
    (void)state;
    GPtrArray *a = auth_of("ip", "127.0.0.1",
                           "digest", "user1:GMJqCvSAmNfv41XqBotWHO0HsNc=",
                           "digest", "user2:bpD4uPzrrsGNcJsBFLRErJIlBog=", NULL);
    assert_int_equal(a->len, 3);
    assert_string_equal(((zk_auth_id *)g_ptr_array_index(a, 0))->id, "user2:bpD4uPzrrsGNcJsBFLRErJIlBog=");
    assert_string_equal(((zk_auth_id *)g_ptr_array_index(a, 1))->id, "127.0.0.1");
    assert_string_equal(((zk_auth_id *)g_ptr_array_index(a, 2))->id, "user1:GMJqCvSAmNfv41XqBotWHO0HsNc=");
    g_ptr_array_free(a, TRUE);
}

/* ---- fixupACL -------------------------------------------------------------- */

/* Runs acl_fixup on entries; returns rc and the list (or NULL). */
static int fixup(acl_cache *c, int n, const zk_acl_entry *items, const GPtrArray *auth, zk_acl_list **out)
{
    jute_writer w;
    zk_vec v = make_vec(&w, n, items);
    int rc = acl_fixup(c, &v, auth, out);
    jw_free(&w);
    return rc;
}

static void test_fixup(void **state)
{
    (void)state;
    acl_cache *c = acl_cache_new();
    GPtrArray *none = auth_of(NULL);
    GPtrArray *ipdig = auth_of("ip", "127.0.0.1", "digest", "bob:H1", "digest", "amy:H2", NULL);
    GPtrArray *iponly = auth_of("ip", "127.0.0.1", "super", "", NULL);
    zk_acl_list *out;

    /* Empty list is invalid. */
    assert_int_equal(fixup(c, 0, NULL, none, &out), ZINVALIDACL);
    assert_null(out);

    /* world:anyone kept as is (any perms), duplicates removed, order kept. */
    zk_acl_entry a[] = { { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_ALL, "digest", "u:h" },
                         { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_READ, "ip", "10.0.0.0/8" } };
    assert_int_equal(fixup(c, 4, a, none, &out), ZOK);
    assert_non_null(out);
    assert_int_equal(out->count, 3);
    assert_string_equal(out->items[0].scheme, "world");
    assert_string_equal(out->items[1].id, "u:h");
    assert_string_equal(out->items[2].id, "10.0.0.0/8");
    acl_unref(c, out);

    /* Same perms+id but different perms are not duplicates. */
    zk_acl_entry b[] = { { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_ALL, "world", "anyone" } };
    assert_int_equal(fixup(c, 2, b, none, &out), ZOK);
    assert_int_equal(out->count, 2);
    acl_unref(c, out);

    /* "auth" expands into every authenticated id (digest; not ip), in the
     * connection's (Java ConcurrentHashMap) order: amy:H2 is in bin 5,
     * ip and bob:H1 share bin 12. */
    zk_acl_entry au[] = { { ZK_PERM_READ | ZK_PERM_WRITE, "auth", "" }, { ZK_PERM_READ, "world", "anyone" } };
    assert_int_equal(fixup(c, 2, au, ipdig, &out), ZOK);
    assert_int_equal(out->count, 3);
    assert_int_equal(out->items[0].perms, ZK_PERM_READ | ZK_PERM_WRITE);
    assert_string_equal(out->items[0].scheme, "digest");
    assert_string_equal(out->items[0].id, "amy:H2");
    assert_string_equal(out->items[1].id, "bob:H1");
    assert_string_equal(out->items[2].scheme, "world");
    acl_unref(c, out);
    /* ... and is invalid when there is none (ip is not "authenticated"). */
    assert_int_equal(fixup(c, 2, au, iponly, &out), ZINVALIDACL);
    assert_null(out);
    assert_int_equal(fixup(c, 2, au, none, &out), ZINVALIDACL);

    /* Unknown scheme, invalid ids, world with another id. */
    zk_acl_entry bad1[] = { { ZK_PERM_READ, "mystery", "x" } };
    assert_int_equal(fixup(c, 1, bad1, ipdig, &out), ZINVALIDACL);
    zk_acl_entry bad2[] = { { ZK_PERM_READ, "digest", "nocolon" } };
    assert_int_equal(fixup(c, 1, bad2, ipdig, &out), ZINVALIDACL);
    zk_acl_entry bad3[] = { { ZK_PERM_READ, "ip", "300.1.1.1" } };
    assert_int_equal(fixup(c, 1, bad3, ipdig, &out), ZINVALIDACL);
    zk_acl_entry bad4[] = { { ZK_PERM_READ, "world", "everyone" } };
    assert_int_equal(fixup(c, 1, bad4, ipdig, &out), ZINVALIDACL);
    zk_acl_entry bad5[] = { { ZK_PERM_READ, "world", "anyone" }, { ZK_PERM_READ, "super", "" } };
    assert_int_equal(fixup(c, 2, bad5, iponly, &out), ZINVALIDACL);
    assert_null(out);

    /* Results are interned: same fixup twice gives the same list. */
    zk_acl_list *x, *y;
    assert_int_equal(fixup(c, 4, a, none, &x), ZOK);
    assert_int_equal(fixup(c, 4, a, none, &y), ZOK);
    assert_ptr_equal(x, y);
    acl_unref(c, x);
    acl_unref(c, y);

    g_ptr_array_free(none, TRUE);
    g_ptr_array_free(ipdig, TRUE);
    g_ptr_array_free(iponly, TRUE);
    acl_cache_free(c);
}

static void test_fixup_null_scheme_invalid(void **state)
{
    (void)state;
    acl_cache *c = acl_cache_new();
    GPtrArray *none = auth_of(NULL);
    jute_writer w;
    jw_init(&w, 32);
    jw_int(&w, ZK_PERM_READ);
    jw_string(&w, NULL);        /* null scheme */
    jw_string(&w, "anyone");
    zk_vec v = { 1, { (const char *)w.buf, (int32_t)w.len } };
    zk_acl_list *out = NULL;
    assert_int_equal(acl_fixup(c, &v, none, &out), ZINVALIDACL);
    assert_null(out);
    jw_free(&w);
    g_ptr_array_free(none, TRUE);
    acl_cache_free(c);
}

/* A connection's identities are bounded (AUTH_MAX_IDS, AUTH_MAX_ID_BYTES):
 * past them auth_add refuses; a repeated identity is never refused. */
static void test_auth_bounds(void **state)
{
    (void)state;
    GPtrArray *a = g_ptr_array_new_with_free_func(auth_id_free);
    for (int i = 0; i < AUTH_MAX_IDS; i++) {
        char *id = g_strdup_printf("u%d:hash", i);
        assert_true(auth_add(a, "digest", id));
        g_free(id);
    }
    assert_int_equal(a->len, AUTH_MAX_IDS);
    assert_false(auth_add(a, "digest", "one:more"));
    assert_true(auth_add(a, "digest", "u7:hash"));         /* already there */
    assert_int_equal(a->len, AUTH_MAX_IDS);
    g_ptr_array_free(a, TRUE);

    a = g_ptr_array_new_with_free_func(auth_id_free);
    char *big = g_strnfill(AUTH_MAX_ID_BYTES / 2, 'x');
    assert_true(auth_add(a, "digest", big));
    big[0] = 'y';
    assert_false(auth_add(a, "digest", big));               /* would pass the byte bound */
    assert_true(auth_add(a, "ip", "127.0.0.1"));
    assert_int_equal(a->len, 2);
    g_free(big);
    g_ptr_array_free(a, TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_java_digest),
        cmocka_unit_test(test_java_digest_is_valid),
        cmocka_unit_test(test_java_ip),
        cmocka_unit_test(test_intern_shares_lists),
        cmocka_unit_test(test_check),
        cmocka_unit_test(test_auth_add_dedups),
        cmocka_unit_test(test_auth_order_is_javas),
        cmocka_unit_test(test_fixup),
        cmocka_unit_test(test_fixup_null_scheme_invalid),
        cmocka_unit_test(test_auth_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
