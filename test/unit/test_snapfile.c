/*
 * test_snapfile.c — unit tests for server/snapfile.c: write/commit/load,
 * fallback past a corrupt newest snapshot, aborted and crashed writers,
 * purge.  Each test works in its own mkdtemp directory, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vectors.h"

#include "snapfile.h"

#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct fixture {
    char dir[64];
    GString *messages; /* everything reported through the log callback */
} fixture;

static void capture(void *ctx, const char *msg)
{
    fixture *fx = ctx;
    g_string_append_printf(fx->messages, "%s\n", msg);
}

static int setup(void **state)
{
    fixture *fx = g_new0(fixture, 1);
    if (!unit_tempdir_make(fx->dir, sizeof fx->dir, "test_snapfile"))
        return -1;
    fx->messages = g_string_new(NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    unit_tempdir_remove(fx->dir);
    g_string_free(fx->messages, TRUE);
    g_free(fx);
    return 0;
}

/* A deterministic body of len bytes, different per seed. */
static uint8_t *make_body(size_t len, unsigned seed)
{
    uint8_t *b = g_malloc(len ? len : 1);
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        b[i] = (uint8_t)(x >> 16);
    }
    return b;
}

/* Writes and commits a snapshot at zxid with make_body(len, seed), in
 * uneven chunks. */
static void write_snapshot(fixture *fx, int64_t zxid, size_t len, unsigned seed)
{
    char *err = NULL;
    snapfile_writer *w = snapfile_writer_open(fx->dir, zxid, &err);
    if (!w)
        fail_msg("writer_open: %s", err);
    uint8_t *body = make_body(len, seed);
    size_t off = 0, chunk = 1;
    while (off < len) {
        size_t n = len - off < chunk ? len - off : chunk;
        assert_int_equal(snapfile_writer_write(w, body + off, n), 0);
        off += n;
        chunk = chunk * 3 + 7;
    }
    if (snapfile_writer_commit(w, &err) != 0)
        fail_msg("commit: %s", err);
    assert_null(err);
    g_free(body);
}

static char *snap_path(fixture *fx, int64_t zxid)
{
    return g_strdup_printf("%s/snapshot.%016" PRIx64, fx->dir, (uint64_t)zxid);
}

static unsigned count_files(fixture *fx)
{
    unsigned n = 0;
    GDir *d = g_dir_open(fx->dir, 0, NULL);
    while (g_dir_read_name(d))
        n++;
    g_dir_close(d);
    return n;
}

static void assert_loads(fixture *fx, int64_t zxid, size_t len, unsigned seed)
{
    int64_t got_zxid = -1;
    uint8_t *body = NULL;
    size_t body_len = 0;
    char *err = NULL;
    assert_int_equal(snapfile_load_newest(fx->dir, &got_zxid, &body, &body_len, capture, fx, &err), 1);
    assert_null(err);
    assert_int_equal(got_zxid, zxid);
    assert_int_equal(body_len, len);
    uint8_t *expect = make_body(len, seed);
    if (len)
        assert_memory_equal(body, expect, len);
    else
        assert_null(body);
    g_free(expect);
    g_free(body);
}

static void test_write_commit_load(void **state)
{
    fixture *fx = *state;
    write_snapshot(fx, 0x100000005, 3 * 1024 * 1024 + 17, 1); /* crosses the 1 MiB buffer */
    char *path = snap_path(fx, 0x100000005);
    assert_int_equal(access(path, F_OK), 0);
    assert_int_equal(count_files(fx), 1);
    assert_loads(fx, 0x100000005, 3 * 1024 * 1024 + 17, 1);

    write_snapshot(fx, 0x100000009, 1000, 2);
    assert_loads(fx, 0x100000009, 1000, 2);
    assert_string_equal(fx->messages->str, "");
    g_free(path);
}

static void test_empty_body(void **state)
{
    fixture *fx = *state;
    write_snapshot(fx, 7, 0, 0);
    assert_loads(fx, 7, 0, 0);
}

static void test_no_snapshot(void **state)
{
    fixture *fx = *state;
    int64_t zxid = -1;
    uint8_t *body = NULL;
    size_t len = 1;
    char *err = NULL;
    assert_int_equal(snapfile_load_newest(fx->dir, &zxid, &body, &len, capture, fx, &err), 0);
    assert_null(body);
    assert_int_equal(len, 0);
    char *missing = g_strdup_printf("%s/does-not-exist", fx->dir);
    assert_int_equal(snapfile_load_newest(missing, &zxid, &body, &len, capture, fx, &err), 0);
    assert_null(err);
    g_free(missing);
}

static void test_corrupt_newest_falls_back(void **state)
{
    fixture *fx = *state;
    write_snapshot(fx, 5, 5000, 5);
    write_snapshot(fx, 9, 5000, 9);
    write_snapshot(fx, 12, 5000, 12);

    /* Body byte of 12, then a truncated 9: load falls back to 5. */
    char *p12 = snap_path(fx, 12);
    char *p9 = snap_path(fx, 9);
    unit_flip_byte(p12, 24 + 100, 0x01);
    assert_int_equal(truncate(p9, 3000), 0);
    assert_loads(fx, 5, 5000, 5);
    assert_non_null(strstr(fx->messages->str, p12));
    assert_non_null(strstr(fx->messages->str, "checksum"));
    assert_non_null(strstr(fx->messages->str, p9));

    /* Header damage is caught too. */
    char *p5 = snap_path(fx, 5);
    unit_flip_byte(p5, 9, 0x01);
    int64_t zxid;
    uint8_t *body;
    size_t len;
    char *err = NULL;
    assert_int_equal(snapfile_load_newest(fx->dir, &zxid, &body, &len, capture, fx, &err), 0);
    g_free(p5);
    g_free(p9);
    g_free(p12);
}

static void test_abort_leaves_nothing(void **state)
{
    fixture *fx = *state;
    char *err = NULL;
    snapfile_writer *w = snapfile_writer_open(fx->dir, 42, &err);
    assert_non_null(w);
    uint8_t *body = make_body(2 * 1024 * 1024, 3);
    assert_int_equal(snapfile_writer_write(w, body, 2 * 1024 * 1024), 0);
    assert_int_equal(count_files(fx), 1); /* the temp file */
    snapfile_writer_abort(w);
    assert_int_equal(count_files(fx), 0);
    g_free(body);
    snapfile_writer_abort(NULL);
}

static void test_stale_temp_removed_on_load(void **state)
{
    fixture *fx = *state;
    write_snapshot(fx, 3, 100, 3);
    /* A writer that "crashed": its temp file stays behind. */
    char *err = NULL;
    snapfile_writer *w = snapfile_writer_open(fx->dir, 8, &err);
    assert_non_null(w);
    assert_int_equal(snapfile_writer_write(w, "partial", 7), 0);
    char *tmp = g_strdup_printf("%s/snapshot.%016" PRIx64 ".tmp", fx->dir, (uint64_t)8);
    assert_int_equal(access(tmp, F_OK), 0);

    assert_loads(fx, 3, 100, 3);
    assert_int_equal(access(tmp, F_OK), -1);
    assert_non_null(strstr(fx->messages->str, "stale temp file"));
    assert_int_equal(count_files(fx), 1);
    snapfile_writer_abort(w); /* its file is already gone: still fine */
    g_free(tmp);
}

static void test_purge(void **state)
{
    fixture *fx = *state;
    assert_int_equal(snapfile_purge(fx->dir, 2), -1); /* nothing yet */
    for (int64_t z = 1; z <= 5; z++)
        write_snapshot(fx, z * 10, 64, (unsigned)z);
    char *p50 = snap_path(fx, 50);
    unit_flip_byte(p50, 24 + 3, 0x01); /* the newest is invalid: it does not count */

    assert_int_equal(snapfile_purge(fx->dir, 2), 30);
    assert_int_equal(count_files(fx), 2); /* 40 and 30 */
    char *p40 = snap_path(fx, 40);
    char *p30 = snap_path(fx, 30);
    assert_int_equal(access(p40, F_OK), 0);
    assert_int_equal(access(p30, F_OK), 0);
    assert_int_equal(access(p50, F_OK), -1);

    assert_int_equal(snapfile_purge(fx->dir, 0), 40); /* at least one is kept */
    assert_int_equal(count_files(fx), 1);
    assert_loads(fx, 40, 64, 4);
    g_free(p50);
    g_free(p40);
    g_free(p30);
}

/* After a Zab TRUNC, snapshots newer than the cut are dropped; older ones
 * and unrelated files stay. */
static void test_drop_after(void **state)
{
    fixture *fx = *state;
    for (int64_t z = 1; z <= 4; z++)
        write_snapshot(fx, z * 10, 64, (unsigned)z);
    char *other = g_build_filename(fx->dir, "log.0000000000000001", NULL);
    g_file_set_contents(other, "x", 1, NULL);
    snapfile_drop_after(fx->dir, 25);
    assert_int_equal(count_files(fx), 3); /* 10, 20 and the other file */
    char *p20 = snap_path(fx, 20), *p30 = snap_path(fx, 30);
    assert_int_equal(access(p20, F_OK), 0);
    assert_int_equal(access(p30, F_OK), -1);
    assert_int_equal(access(other, F_OK), 0);
    assert_loads(fx, 20, 64, 2);
    unlink(other);
    g_free(other);
    g_free(p20);
    g_free(p30);
}

typedef struct listing {
    GString *text;   /* "zxid[.tmp] " per file, in listing order */
} listing;

static void list_cb(void *ctx, const char *path, int64_t zxid, bool is_tmp)
{
    listing *li = ctx;
    assert_non_null(strstr(path, "snapshot."));
    g_string_append_printf(li->text, "%" PRId64 "%s ", zxid, is_tmp ? ".tmp" : "");
}

static void test_list_and_read_one(void **state)
{
    fixture *fx = *state;
    write_snapshot(fx, 5, 300, 5);
    write_snapshot(fx, 12, 400, 12);
    char *tmp = g_strdup_printf("%s/snapshot.%016x.tmp", fx->dir, 20);
    assert_true(g_file_set_contents(tmp, "junk", 4, NULL));
    char *other = g_strdup_printf("%s/not-a-snapshot", fx->dir);
    assert_true(g_file_set_contents(other, "x", 1, NULL));

    listing li = { g_string_new(NULL) };
    assert_int_equal(snapfile_list(fx->dir, list_cb, &li), 3);
    assert_string_equal(li.text->str, "20.tmp 12 5 ");
    g_string_free(li.text, TRUE);
    assert_int_equal(count_files(fx), 4);   /* listing removes nothing */

    /* One file by path: valid, under another name (header zxid), corrupt. */
    char *p12 = snap_path(fx, 12);
    int64_t zxid = -1;
    uint8_t *body = NULL;
    size_t len = 0;
    assert_null(snapfile_read(p12, &zxid, &body, &len));
    assert_int_equal(zxid, 12);
    assert_int_equal(len, 400);
    uint8_t *expect = make_body(400, 12);
    assert_memory_equal(body, expect, 400);
    g_free(expect);
    g_free(body);
    char *copy = g_strdup_printf("%s/copy", fx->dir);
    assert_int_equal(rename(p12, copy), 0);
    assert_null(snapfile_read(copy, &zxid, &body, &len));
    assert_int_equal(zxid, 12);
    g_free(body);
    unit_flip_byte(copy, 24 + 10, 0x01);
    char *why = snapfile_read(copy, &zxid, &body, &len);
    assert_non_null(why);
    assert_non_null(strstr(why, "checksum"));
    assert_null(body);
    g_free(why);
    why = snapfile_read(other, &zxid, &body, &len);
    assert_non_null(why);
    g_free(why);
    assert_int_equal(snapfile_list("/nonexistent/dir", list_cb, &li), -1);
    g_free(copy);
    g_free(p12);
    g_free(tmp);
    g_free(other);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write_commit_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_body, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_newest_falls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_temp_removed_on_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_list_and_read_one, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
