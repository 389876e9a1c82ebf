/*
 * test_txnlog.c — unit tests for server/txnlog.c: round trip, group commit,
 * reopen, torn-tail repair, refusal on middle corruption, truncate_after,
 * roll and purge, preallocation, failed writes.  Each test works in its own
 * mkdtemp directory, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "vectors.h"

#include "txnlog.h"
#include "zk/crc32c.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HEADER_SIZE 32
#define FRAME_OVERHEAD 16
#define SMALL_PREALLOC 4096

/* ---- fixtures and helpers --------------------------------------------- */

typedef struct fixture {
    char dir[64];
    GString *messages; /* everything the log reported, one line each */
} fixture;

static void capture(void *ctx, const char *msg)
{
    fixture *fx = ctx;
    g_string_append_printf(fx->messages, "%s\n", msg);
}

static int setup(void **state)
{
    fixture *fx = g_new0(fixture, 1);
    if (!unit_tempdir_make(fx->dir, sizeof fx->dir, "test_txnlog"))
        return -1;
    fx->messages = g_string_new(NULL);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    if (getenv("TXNLOG_TEST_VERBOSE") && fx->messages->len)
        fprintf(stderr, "log messages:\n%s", fx->messages->str);
    unit_tempdir_remove(fx->dir);
    g_string_free(fx->messages, TRUE);
    g_free(fx);
    return 0;
}

static txnlog *open_log(fixture *fx, int64_t *last)
{
    char *err = NULL;
    txnlog *l = txnlog_open(fx->dir, last, capture, fx, &err);
    if (!l)
        fail_msg("txnlog_open failed: %s", err);
    assert_null(err);
    txnlog_set_limits(l, TXNLOG_DEFAULT_ROLL_BYTES, SMALL_PREALLOC);
    return l;
}

/* Opens expecting failure; returns the g_malloc'd message. */
static char *open_log_fails(fixture *fx)
{
    char *err = NULL;
    int64_t last = -1;
    txnlog *l = txnlog_open(fx->dir, &last, capture, fx, &err);
    assert_null(l);
    assert_non_null(err);
    return err;
}

/* Waits (bounded) for the in-flight flush and completes it. */
static int wait_flush(txnlog *l, int64_t *durable, char **err)
{
    struct pollfd p = { .fd = txnlog_event_fd(l), .events = POLLIN };
    int r = poll(&p, 1, 10000);
    assert_int_equal(r, 1);
    return txnlog_flush_complete(l, durable, err);
}

/* Appends payload "rec-<zxid>" for each zxid in [from, to]. */
static void append_range(txnlog *l, int64_t from, int64_t to)
{
    for (int64_t z = from; z <= to; z++) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "rec-%" PRId64, z);
        txnlog_append(l, z, buf, (size_t)n);
    }
}

/* Flushes everything queued and asserts success. */
static void commit(txnlog *l)
{
    int64_t durable = -1;
    char *err = NULL;
    assert_true(txnlog_flush_start(l));
    assert_int_equal(wait_flush(l, &durable, &err), 0);
    assert_null(err);
    assert_int_equal(durable, txnlog_last_zxid(l));
    assert_int_equal(txnlog_durable_zxid(l), durable);
}

typedef struct collected {
    GArray *zxids;      /* int64_t */
    GPtrArray *payloads; /* g_strndup'd */
} collected;

static int collect_fn(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    collected *c = ctx;
    g_array_append_val(c->zxids, zxid);
    g_ptr_array_add(c->payloads, g_strndup((const char *)data, len));
    return 0;
}

static collected *replay_all(txnlog *l, int64_t after)
{
    collected *c = g_new0(collected, 1);
    c->zxids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    c->payloads = g_ptr_array_new_with_free_func(g_free);
    char *err = NULL;
    if (txnlog_replay(l, after, collect_fn, c, &err) != 0)
        fail_msg("replay failed: %s", err);
    return c;
}

static void collected_free(collected *c)
{
    g_array_free(c->zxids, TRUE);
    g_ptr_array_free(c->payloads, TRUE);
    g_free(c);
}

/* Asserts the replay after `after` yields exactly "rec-<z>" for z in (after, to]. */
static void assert_replay_range(txnlog *l, int64_t after, int64_t to)
{
    collected *c = replay_all(l, after);
    assert_int_equal(c->zxids->len, (guint)(to - after));
    for (guint i = 0; i < c->zxids->len; i++) {
        int64_t z = after + 1 + (int64_t)i;
        char expect[32];
        snprintf(expect, sizeof expect, "rec-%" PRId64, z);
        assert_int_equal(g_array_index(c->zxids, int64_t, i), z);
        assert_string_equal(g_ptr_array_index(c->payloads, i), expect);
    }
    collected_free(c);
}

/* Path of the log file starting at zxid (g_malloc'd). */
static char *log_file(fixture *fx, int64_t first_zxid)
{
    return g_strdup_printf("%s/log.%016" PRIx64, fx->dir, (uint64_t)first_zxid);
}

/* Size of the frame of payload "rec-<z>". */
static uint64_t frame_size(int64_t z)
{
    char buf[32];
    return FRAME_OVERHEAD + (uint64_t)snprintf(buf, sizeof buf, "rec-%" PRId64, z);
}

/* Offset of the frame of zxid z in a file whose records are first..z-1. */
static uint64_t frame_offset(int64_t first, int64_t z)
{
    uint64_t off = HEADER_SIZE;
    for (int64_t i = first; i < z; i++)
        off += frame_size(i);
    return off;
}

static void patch_file(const char *path, uint64_t off, const void *bytes, size_t len)
{
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(pwrite(fd, bytes, len, (off_t)off), (ssize_t)len);
    close(fd);
}

static uint64_t file_size(const char *path)
{
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    return (uint64_t)st.st_size;
}

static unsigned count_log_files(fixture *fx)
{
    unsigned n = 0;
    GDir *d = g_dir_open(fx->dir, 0, NULL);
    const char *name;
    while ((name = g_dir_read_name(d)))
        n += g_str_has_prefix(name, "log.");
    g_dir_close(d);
    return n;
}

/* ---- tests ------------------------------------------------------------ */

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

/* The published vectors, chaining, unaligned starts and odd lengths, for one
 * implementation. */
static void check_crc32c_impl(crc_fn crc)
{
    assert_int_equal(crc(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(crc(crc(0, "1234", 4), "56789", 5), 0xE3069283u);
    uint8_t buf[32];
    memset(buf, 0, sizeof buf);
    assert_int_equal(crc(0, buf, sizeof buf), 0x8A9136AAu); /* RFC 3720 B.4 */
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(crc(0, buf, sizeof buf), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        buf[i] = (uint8_t)i;
    assert_int_equal(crc(0, buf, sizeof buf), 0x46DD794Eu);
    assert_int_equal(crc(0, NULL, 0), 0);
    /* Unaligned starts and odd lengths agree with byte-wise chaining. */
    for (size_t start = 0; start < 8; start++) {
        uint32_t whole = crc(0, buf + start, 23);
        uint32_t pieces = 0;
        for (size_t i = 0; i < 23; i++)
            pieces = crc(pieces, buf + start + i, 1);
        assert_int_equal(whole, pieces);
    }
}

static void test_crc32c_vectors(void **state)
{
    (void)state;
    check_crc32c_impl(crc32c);
    check_crc32c_impl(crc32c_table);
    check_crc32c_impl(crc32c_hw);   /* the table code where the CPU lacks SSE4.2 */
    /* Both agree on every length and alignment of a pseudo-random buffer. */
    uint8_t big[1100];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof big; i++) {
        x = x * 1103515245u + 12345u;
        big[i] = (uint8_t)(x >> 16);
    }
    for (size_t start = 0; start < 9; start++)
        for (size_t len = 0; start + len <= sizeof big; len += 1 + len / 7)
            assert_int_equal(crc32c_hw(7, big + start, len), crc32c_table(7, big + start, len));
    if (!crc32c_hw_supported())
        print_message("no SSE4.2 on this CPU: crc32c_hw was the table code\n");
}

static void test_round_trip(void **state)
{
    fixture *fx = *state;
    int64_t last = -1;
    txnlog *l = open_log(fx, &last);
    assert_int_equal(last, 0);
    assert_int_equal(txnlog_last_zxid(l), 0);
    assert_false(txnlog_flush_start(l)); /* nothing queued */

    append_range(l, 1, 3);
    assert_int_equal(txnlog_last_zxid(l), 3);
    assert_int_equal(txnlog_durable_zxid(l), 0);
    assert_true(txnlog_flush_start(l));
    assert_true(txnlog_flush_in_flight(l));
    append_range(l, 4, 4);
    assert_false(txnlog_flush_start(l)); /* one batch at a time */
    int64_t durable = -1;
    char *err = NULL;
    assert_int_equal(wait_flush(l, &durable, &err), 0);
    assert_int_equal(durable, 3);
    assert_false(txnlog_flush_in_flight(l));
    assert_replay_range(l, 0, 3); /* the queued 4 is not durable yet */
    commit(l);
    assert_int_equal(txnlog_durable_zxid(l), 4);
    assert_replay_range(l, 0, 4);
    assert_replay_range(l, 2, 4);
    assert_replay_range(l, 4, 4);
    uint64_t dbid = txnlog_dbid(l);
    assert_true(dbid != 0);
    txnlog_close(l);

    /* Reopen: everything is there, appends continue in a new file. */
    l = open_log(fx, &last);
    assert_int_equal(last, 4);
    assert_int_equal(txnlog_dbid(l), dbid);
    assert_replay_range(l, 0, 4);
    append_range(l, 5, 7);
    commit(l);
    assert_int_equal(txnlog_file_count(l), 2);
    txnlog_close(l);

    l = open_log(fx, &last);
    assert_int_equal(last, 7);
    assert_replay_range(l, 0, 7);
    assert_replay_range(l, 5, 7);
    txnlog_close(l);
    assert_string_equal(fx->messages->str, ""); /* clean files: nothing to report */
}

static void test_group_commit_one_fsync(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    assert_int_equal(txnlog_fsync_count(l), 0);
    append_range(l, 1, 1000);
    commit(l);
    assert_int_equal(txnlog_fsync_count(l), 1);

    /* Records appended while a batch is in flight go into the next one. */
    append_range(l, 1001, 1001);
    assert_true(txnlog_flush_start(l));
    append_range(l, 1002, 1500);
    int64_t durable;
    char *err = NULL;
    assert_int_equal(wait_flush(l, &durable, &err), 0);
    assert_int_equal(durable, 1001);
    commit(l);
    assert_int_equal(txnlog_fsync_count(l), 3);
    assert_replay_range(l, 0, 1500);
    txnlog_close(l);
}

static void test_torn_tail_partial_record(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 5);
    commit(l);
    txnlog_close(l);

    /* Cut the file in the middle of record 5. */
    char *path = log_file(fx, 1);
    uint64_t off5 = frame_offset(1, 5);
    assert_int_equal(truncate(path, (off_t)(off5 + 7)), 0);

    l = open_log(fx, &last);
    assert_int_equal(last, 4);
    char *expect = g_strdup_printf("%s: torn tail at offset %" PRIu64, path, off5);
    assert_non_null(strstr(fx->messages->str, expect));
    assert_non_null(strstr(fx->messages->str, "7 bytes dropped"));
    assert_int_equal(file_size(path), off5);
    assert_replay_range(l, 0, 4);

    /* New appends work and survive a reopen. */
    append_range(l, 5, 6);
    commit(l);
    txnlog_close(l);
    g_string_truncate(fx->messages, 0);
    l = open_log(fx, &last);
    assert_int_equal(last, 6);
    assert_replay_range(l, 0, 6);
    assert_string_equal(fx->messages->str, "");
    txnlog_close(l);
    g_free(expect);
    g_free(path);
}

/* Appends records from..to to an opened log l, commits, closes it, and
 * checks that a reopen finds exactly 1..to. */
static void append_and_reopen(fixture *fx, txnlog *l, int64_t from, int64_t to)
{
    int64_t last;
    append_range(l, from, to);
    commit(l);
    txnlog_close(l);
    l = open_log(fx, &last);
    assert_int_equal(last, to);
    assert_replay_range(l, 0, to);
    txnlog_close(l);
}

/* Removes every file of fx->dir (the directory stays). */
static void empty_dir(fixture *fx)
{
    GDir *d = g_dir_open(fx->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        char *p = g_build_filename(fx->dir, name, NULL);
        unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
}

/* A torn last record at every byte offset, both as a file that ends there
 * (cut) and as one whose bytes from there on are zeros (preallocated space
 * the write never reached): the log opens, keeps exactly the records
 * before the last one, says where it cut whenever a byte of the record
 * survived, and takes new appends. */
static void test_torn_tail_every_offset(void **state)
{
    fixture *fx = *state;
    uint64_t start = frame_offset(1, 5), end = start + frame_size(5);
    for (int zero_fill = 0; zero_fill <= 1; zero_fill++) {
        for (uint64_t off = start; off < end; off++) {
            empty_dir(fx);
            g_string_truncate(fx->messages, 0);
            int64_t last;
            txnlog *l = open_log(fx, &last);
            append_range(l, 1, 5);
            commit(l);
            txnlog_close(l);
            char *path = log_file(fx, 1);
            /* Only a cut after a non-zero byte of the record is visible: a
             * prefix of zeros (the high bytes of the length) reads like
             * the preallocated space after a clean end. */
            bool visible = false;
            {
                uint8_t rec[64];
                int fd = open(path, O_RDONLY);
                assert_true(fd >= 0 && end - start <= sizeof rec);
                assert_int_equal(pread(fd, rec, (size_t)(end - start), (off_t)start), (ssize_t)(end - start));
                close(fd);
                for (uint64_t i = 0; i < off - start; i++)
                    visible = visible || rec[i] != 0;
            }
            if (zero_fill) {
                uint8_t zeros[64] = { 0 };
                assert_true(end - off <= sizeof zeros);
                patch_file(path, off, zeros, (size_t)(end - off));
            } else {
                assert_int_equal(truncate(path, (off_t)off), 0);
            }
            l = open_log(fx, &last);
            assert_int_equal(last, 4);
            assert_replay_range(l, 0, 4);
            if (visible) {
                char *expect = g_strdup_printf("%s: torn tail at offset %" PRIu64, path, start);
                if (!strstr(fx->messages->str, expect))
                    fail_msg("offset %" PRIu64 " (zero fill %d): no torn-tail message in: %s", off,
                             zero_fill, fx->messages->str);
                g_free(expect);
            }
            append_and_reopen(fx, l, 5, 6);
            g_free(path);
        }
    }
}

static void test_torn_tail_garbage(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 5);
    commit(l);
    txnlog_close(l);

    /* Garbage where the preallocated zeros were, then more past EOF. */
    char *path = log_file(fx, 1);
    uint64_t end = frame_offset(1, 6);
    uint8_t garbage[300];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (uint8_t)(i * 37 + 11);
    patch_file(path, end, garbage, sizeof garbage);
    uint64_t size = file_size(path);
    patch_file(path, size, garbage, sizeof garbage);

    l = open_log(fx, &last);
    assert_int_equal(last, 5);
    char *expect = g_strdup_printf("%s: torn tail at offset %" PRIu64, path, end);
    assert_non_null(strstr(fx->messages->str, expect));
    assert_int_equal(file_size(path), end);
    assert_replay_range(l, 0, 5);
    append_and_reopen(fx, l, 6, 8);
    g_free(expect);
    g_free(path);
}

/* The zero tail is checked through SEEK_DATA (holes and unwritten extents
 * are skipped): one non-zero byte deep in a large preallocated tail, or
 * behind a hole past the old end of file, is still found. */
static void test_torn_tail_byte_deep_in_preallocation(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    txnlog_set_limits(l, TXNLOG_DEFAULT_ROLL_BYTES, 4 << 20);
    append_range(l, 1, 5);
    commit(l);
    txnlog_close(l);

    char *path = log_file(fx, 1);
    uint64_t end = frame_offset(1, 6);
    uint64_t size = file_size(path);
    assert_true(size >= 4 << 20);
    const uint8_t one = 1;
    for (int round = 0; round < 2; round++) {
        /* round 0: inside the preallocated extents; round 1: past the end
         * of the file, behind a hole of 1 MiB */
        uint64_t at = round == 0 ? size - 12345 : file_size(path) + (1 << 20) + 7;
        patch_file(path, at, &one, 1);
        l = open_log(fx, &last);
        assert_int_equal(last, 5);
        char *expect = g_strdup_printf("%s: torn tail at offset %" PRIu64
                                       " (non-zero bytes after the end-of-data marker)", path, end);
        assert_non_null(strstr(fx->messages->str, expect));
        assert_int_equal(file_size(path), end);
        assert_replay_range(l, 0, 5);
        txnlog_close(l);
        g_free(expect);
        g_string_truncate(fx->messages, 0);
        /* make the file end in a long zero tail again for the next round */
        if (round == 0) {
            int fd = open(path, O_WRONLY);
            assert_true(fd >= 0);
            assert_int_equal(ftruncate(fd, (off_t)size), 0);
            close(fd);
        }
    }
    /* A tail of zeros only (sparse, never written) is a clean end. */
    int fd = open(path, O_WRONLY);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 8 << 20), 0);
    close(fd);
    l = open_log(fx, &last);
    assert_int_equal(last, 5);
    assert_null(strstr(fx->messages->str, "torn tail"));
    assert_replay_range(l, 0, 5);
    txnlog_close(l);
    g_free(path);
}

static void test_torn_tail_bad_crc_last_record(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 5);
    commit(l);
    txnlog_close(l);

    char *path = log_file(fx, 1);
    uint64_t off5 = frame_offset(1, 5);
    unit_flip_byte(path, off5 + FRAME_OVERHEAD + 2, 0x5a); /* payload of record 5 */

    l = open_log(fx, &last);
    assert_int_equal(last, 4);
    assert_non_null(strstr(fx->messages->str, "checksum mismatch"));
    assert_replay_range(l, 0, 4);
    txnlog_close(l);
    g_free(path);
}

static void test_corrupt_middle_refuses(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 5);
    commit(l);
    txnlog_close(l);

    char *path = log_file(fx, 1);
    uint64_t off2 = frame_offset(1, 2);
    unit_flip_byte(path, off2 + FRAME_OVERHEAD + 1, 0x5a);
    uint64_t size_before = file_size(path);

    char *err = open_log_fails(fx);
    char *expect = g_strdup_printf("%s: corrupt record at offset %" PRIu64, path, off2);
    if (!strstr(err, expect))
        fail_msg("unexpected error: %s", err);
    assert_non_null(strstr(err, "middle"));
    assert_int_equal(file_size(path), size_before); /* nothing was cut */
    g_free(expect);
    g_free(err);

    /* A zeroed length in the middle is just as fatal. */
    unit_flip_byte(path, off2 + FRAME_OVERHEAD + 1, 0x5a); /* undo */
    uint8_t zeros[4] = { 0 };
    uint64_t off3 = frame_offset(1, 3);
    patch_file(path, off3, zeros, sizeof zeros);
    err = open_log_fails(fx);
    expect = g_strdup_printf("offset %" PRIu64, off3);
    assert_non_null(strstr(err, expect));
    g_free(expect);
    g_free(err);
    g_free(path);
}

static void test_bad_crc_in_non_last_file_refuses(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 3);
    commit(l);
    txnlog_roll(l);
    append_range(l, 4, 6);
    commit(l);
    assert_int_equal(txnlog_file_count(l), 2);
    txnlog_close(l);

    /* The LAST record of the first file: a tail, but not of the last file. */
    char *path = log_file(fx, 1);
    uint64_t off3 = frame_offset(1, 3);
    unit_flip_byte(path, off3 + FRAME_OVERHEAD, 0x5a);
    char *err = open_log_fails(fx);
    char *expect = g_strdup_printf("%s: corrupt record at offset %" PRIu64, path, off3);
    if (!strstr(err, expect))
        fail_msg("unexpected error: %s", err);
    assert_non_null(strstr(err, "not the last"));
    g_free(expect);
    g_free(err);
    g_free(path);
}

static void test_file_name_must_match_header(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 10, 12);
    commit(l);
    txnlog_roll(l);
    append_range(l, 13, 14);
    commit(l);
    txnlog_close(l);

    /* Rename the second file to claim it starts below the first's end. */
    char *second = log_file(fx, 13);
    char *bogus = log_file(fx, 11);
    assert_int_equal(rename(second, bogus), 0);
    char *err = open_log_fails(fx);
    assert_non_null(strstr(err, bogus));
    g_free(err);
    g_free(second);
    g_free(bogus);
}

static void test_truncate_after(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 3);
    commit(l);
    txnlog_roll(l);
    append_range(l, 4, 6);
    commit(l);
    txnlog_roll(l);
    append_range(l, 7, 9);
    commit(l);
    append_range(l, 10, 11); /* queued, not flushed */
    assert_int_equal(txnlog_file_count(l), 3);

    /* Not while a flush is in flight. */
    append_range(l, 12, 12);
    assert_true(txnlog_flush_start(l));
    char *err = NULL;
    assert_int_equal(txnlog_truncate_after(l, 5, &err), -1);
    assert_non_null(err);
    g_free(err);
    err = NULL;
    int64_t durable;
    assert_int_equal(wait_flush(l, &durable, &err), 0);
    assert_int_equal(durable, 12);

    assert_int_equal(txnlog_truncate_after(l, 5, &err), 0);
    assert_null(err);
    assert_int_equal(txnlog_last_zxid(l), 5);
    assert_int_equal(txnlog_durable_zxid(l), 5);
    assert_int_equal(txnlog_file_count(l), 2);
    assert_int_equal(count_log_files(fx), 2);
    assert_replay_range(l, 0, 5);

    /* Writing continues with new records above the cut. */
    append_range(l, 6, 7);
    commit(l);
    txnlog_close(l);
    l = open_log(fx, &last);
    assert_int_equal(last, 7);
    assert_replay_range(l, 0, 7);

    /* Cut within the queue only, then beyond everything (a no-op). */
    append_range(l, 8, 10);
    assert_int_equal(txnlog_truncate_after(l, 8, &err), 0);
    assert_int_equal(txnlog_last_zxid(l), 8);
    assert_int_equal(txnlog_durable_zxid(l), 7);
    commit(l);
    assert_int_equal(txnlog_truncate_after(l, 100, &err), 0);
    assert_int_equal(txnlog_last_zxid(l), 8);
    assert_replay_range(l, 0, 8);
    txnlog_close(l);
    assert_string_equal(fx->messages->str, "");
}

static void test_roll_and_purge(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    for (int64_t first = 1; first <= 7; first += 3) {
        append_range(l, first, first + 2);
        commit(l);
        txnlog_roll(l);
    }
    assert_int_equal(txnlog_file_count(l), 3); /* log.1, log.4, log.7 */
    txnlog_purge_before(l, 2);                 /* needs 3.. from log.1 */
    assert_int_equal(count_log_files(fx), 3);
    txnlog_purge_before(l, 3);                 /* needs 4.. : log.1 goes */
    assert_int_equal(count_log_files(fx), 2);
    txnlog_purge_before(l, 5);                 /* needs 6.. from log.4 */
    assert_int_equal(count_log_files(fx), 2);
    assert_replay_range(l, 5, 9);
    txnlog_purge_before(l, 100);               /* the last file always stays */
    assert_int_equal(count_log_files(fx), 1);
    assert_int_equal(txnlog_file_count(l), 1);
    assert_replay_range(l, 6, 9);
    txnlog_close(l);
    l = open_log(fx, &last);
    assert_int_equal(last, 9);
    assert_replay_range(l, 6, 9);
    txnlog_close(l);
}

/* Collects what a cursor hands out (zxids, and payload lengths). */
static int cursor_collect(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    (void)data;
    GArray *a = ctx;
    g_array_append_val(a, zxid);
    return len > 0 ? 0 : 1;
}

/* Runs a cursor after `after` up to `upto` to its end; returns its last
 * txnlog_cursor_next result (0 or -1) and the zxids in out. */
static int cursor_run(txnlog *l, int64_t after, int64_t upto, GArray *out, uint64_t *bytes)
{
    char *err = NULL;
    txnlog_cursor *c = txnlog_cursor_open(l, after, bytes, &err);
    if (!c) {
        g_free(err);
        return -2;
    }
    int rc;
    int steps = 0;
    while ((rc = txnlog_cursor_next(c, l, upto, cursor_collect, out, NULL, &err)) == 1)
        assert_true(++steps < 100000);     /* bounded */
    if (rc < 0) {
        assert_non_null(err);
        g_free(err);
    }
    txnlog_cursor_free(c);
    return rc;
}

/* Cursors (a leader's DIFF from the log): across files, from a record
 * only, up to a bound, over records bigger than a block, after a purge. */
static void test_cursor(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    for (int64_t first = 1; first <= 7; first += 3) {  /* log.1, log.4, log.7: 1..9 */
        append_range(l, first, first + 2);
        commit(l);
        txnlog_roll(l);
    }
    GArray *got = g_array_new(FALSE, FALSE, sizeof(int64_t));
    uint64_t bytes = 0;
    assert_int_equal(cursor_run(l, 2, 100, got, &bytes), 0);
    assert_int_equal(got->len, 7);
    for (guint i = 0; i < got->len; i++)
        assert_int_equal(g_array_index(got, int64_t, i), 3 + (int64_t)i);
    assert_int_equal(bytes, frame_offset(1, 10) + 2 * HEADER_SIZE); /* all 3 files */
    g_array_set_size(got, 0);
    assert_int_equal(cursor_run(l, 3, 6, got, &bytes), 0);        /* (3, 6] */
    assert_int_equal(got->len, 3);
    assert_int_equal(g_array_index(got, int64_t, 2), 6);
    g_array_set_size(got, 0);
    assert_int_equal(cursor_run(l, 9, 100, got, NULL), 0);        /* nothing after the end */
    assert_int_equal(got->len, 0);
    assert_int_equal(cursor_run(l, 0, 100, got, NULL), -2);       /* before the first file */
    assert_int_equal(cursor_run(l, 10, 100, got, NULL), -2);      /* after the last record */
    /* a record bigger than the cursor's block, then small ones */
    size_t big = (size_t)3 << 20;
    uint8_t *blob = g_malloc0(big);
    txnlog_append(l, 10, blob, big);
    append_range(l, 11, 12);
    commit(l);
    g_free(blob);
    g_array_set_size(got, 0);
    assert_int_equal(cursor_run(l, 8, 100, got, NULL), 0);
    assert_int_equal(got->len, 4);                                /* 9, 10, 11, 12 */
    assert_int_equal(g_array_index(got, int64_t, 1), 10);
    assert_int_equal(g_array_index(got, int64_t, 3), 12);
    /* a zxid between files is not in the log */
    txnlog_roll(l);
    append_range(l, 20, 21);
    commit(l);
    g_array_set_size(got, 0);
    assert_int_equal(cursor_run(l, 15, 100, got, NULL), -2);   /* no file holds 15 */
    assert_int_equal(got->len, 0);
    /* a purge while a cursor reads: the open file is read to its end,
     * moving on from it fails */
    char *err = NULL;
    txnlog_cursor *c = txnlog_cursor_open(l, 1, NULL, &err);
    assert_non_null(c);
    txnlog_purge_before(l, 100);
    g_array_set_size(got, 0);
    int rc, steps = 0;
    while ((rc = txnlog_cursor_next(c, l, 100, cursor_collect, got, NULL, &err)) == 1)
        assert_true(++steps < 100000);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(err, "purged"));
    g_free(err);
    assert_int_equal(got->len, 2);                                /* 2, 3 from log.1 */
    assert_int_equal(g_array_index(got, int64_t, 1), 3);
    txnlog_cursor_free(c);
    g_array_free(got, TRUE);
    txnlog_close(l);
}

static void test_size_roll_and_preallocation(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    txnlog_set_limits(l, 100, 64 * 1024);
    append_range(l, 1, 10); /* ~140 bytes: the file passes the roll size */
    commit(l);
    char *first = log_file(fx, 1);
    assert_true(file_size(first) >= 64 * 1024); /* preallocated */
    append_range(l, 11, 11);
    commit(l);
    assert_int_equal(txnlog_file_count(l), 2); /* rolled by size */

    /* A batch bigger than the preallocation grows the file. */
    txnlog_set_limits(l, TXNLOG_DEFAULT_ROLL_BYTES, 4096);
    txnlog_roll(l);
    char big[3000];
    memset(big, 'x', sizeof big);
    for (int64_t z = 12; z < 20; z++)
        txnlog_append(l, z, big, sizeof big);
    commit(l);
    char *third = log_file(fx, 12);
    uint64_t size = file_size(third);
    assert_true(size >= HEADER_SIZE + 8 * (FRAME_OVERHEAD + sizeof big));
    assert_int_equal(size % 4096, HEADER_SIZE);
    txnlog_close(l);

    /* The zero-filled preallocated tails are not corruption. */
    l = open_log(fx, &last);
    assert_int_equal(last, 19);
    assert_string_equal(fx->messages->str, "");
    collected *c = replay_all(l, 0);
    assert_int_equal(c->zxids->len, 19);
    assert_int_equal(strlen(g_ptr_array_index(c->payloads, 18)), sizeof big);
    collected_free(c);
    txnlog_close(l);
    g_free(first);
    g_free(third);
}

static void test_failed_write_is_cut_off(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);

    /* First batch of a new file fails: the file goes away. */
    txnlog_test_fail_next_write(l, ENOSPC, 10);
    append_range(l, 1, 3);
    assert_true(txnlog_flush_start(l));
    append_range(l, 4, 4); /* queued behind the failing batch */
    int64_t durable = -1;
    char *err = NULL;
    assert_int_equal(wait_flush(l, &durable, &err), -1);
    assert_non_null(err);
    assert_non_null(strstr(err, "No space left on device"));
    g_free(err);
    err = NULL;
    assert_int_equal(durable, 0);
    assert_int_equal(txnlog_last_zxid(l), 0);
    assert_int_equal(count_log_files(fx), 0);

    /* Retry works. */
    append_range(l, 1, 3);
    commit(l);

    /* A failing batch in an existing file is cut back. */
    char *path = log_file(fx, 1);
    uint64_t end = frame_offset(1, 4);
    txnlog_test_fail_next_write(l, EIO, 20);
    append_range(l, 4, 6);
    assert_true(txnlog_flush_start(l));
    assert_int_equal(wait_flush(l, &durable, &err), -1);
    assert_non_null(err);
    g_free(err);
    err = NULL;
    assert_int_equal(durable, 3);
    assert_int_equal(txnlog_last_zxid(l), 3);
    assert_int_equal(file_size(path), end);
    assert_replay_range(l, 0, 3);

    append_range(l, 4, 5);
    commit(l);
    txnlog_close(l);
    l = open_log(fx, &last);
    assert_int_equal(last, 5);
    assert_replay_range(l, 0, 5);
    assert_string_equal(fx->messages->str, "");
    txnlog_close(l);
    g_free(path);
}

static void test_empty_last_file_removed(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 2);
    commit(l);
    txnlog_close(l);

    /* A crash right after creating the next file: all zeros. */
    char *path = log_file(fx, 3);
    int fd = open(path, O_CREAT | O_WRONLY, 0644);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, 4096), 0);
    close(fd);

    l = open_log(fx, &last);
    assert_int_equal(last, 2);
    assert_non_null(strstr(fx->messages->str, path));
    assert_int_equal(access(path, F_OK), -1);
    append_range(l, 3, 3);
    commit(l);
    assert_replay_range(l, 0, 3);
    txnlog_close(l);
    g_free(path);
}

static int stop_at_two(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    (void)data;
    (void)len;
    int *calls = ctx;
    (*calls)++;
    return zxid == 2;
}

static void test_replay_callback_stop(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 3);
    commit(l);
    char *err = NULL;
    int calls = 0;
    assert_int_equal(txnlog_replay(l, 0, stop_at_two, &calls, &err), -1);
    assert_non_null(err);
    assert_int_equal(calls, 2);
    g_free(err);
    txnlog_close(l);
}

/* ---- offline inspection and cut ---------------------------------------- */

typedef struct inspection {
    GArray *zxids;        /* int64_t, every good record */
    GArray *offsets;      /* uint64_t, their offsets */
    GPtrArray *problems;  /* "basename: problem" per damaged file */
    GArray *refused;      /* gboolean per damaged file */
    uint64_t first_problem_offset;
    unsigned files;
} inspection;

static int inspect_record(void *ctx, const char *path, uint64_t offset, int64_t zxid,
                          const uint8_t *data, size_t len)
{
    (void)path;
    inspection *in = ctx;
    char expect[32];
    snprintf(expect, sizeof expect, "rec-%" PRId64, zxid);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(data, expect, len);
    g_array_append_val(in->zxids, zxid);
    g_array_append_val(in->offsets, offset);
    return 0;
}

static void inspect_file_cb(void *ctx, const txnlog_file_info *fi)
{
    inspection *in = ctx;
    in->files++;
    if (!fi->problem)
        return;
    char *base = g_path_get_basename(fi->path);
    if (in->problems->len == 0)
        in->first_problem_offset = fi->problem_offset;
    g_ptr_array_add(in->problems, g_strdup_printf("%s: %s", base, fi->problem));
    gboolean r = fi->refused;
    g_array_append_val(in->refused, r);
    g_free(base);
}

static inspection *inspect_dir(fixture *fx)
{
    inspection *in = g_new0(inspection, 1);
    in->zxids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    in->offsets = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    in->problems = g_ptr_array_new_with_free_func(g_free);
    in->refused = g_array_new(FALSE, FALSE, sizeof(gboolean));
    char *err = NULL;
    int n = txnlog_inspect(fx->dir, inspect_record, inspect_file_cb, in, &err);
    if (n < 0)
        fail_msg("inspect failed: %s", err);
    assert_int_equal((unsigned)n, in->files);
    return in;
}

static void inspection_free(inspection *in)
{
    g_array_free(in->zxids, TRUE);
    g_array_free(in->offsets, TRUE);
    g_ptr_array_free(in->problems, TRUE);
    g_array_free(in->refused, TRUE);
    g_free(in);
}

static void test_inspect_and_cut_middle_corruption(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 5);
    commit(l);
    txnlog_roll(l);
    append_range(l, 6, 9);
    commit(l);
    txnlog_close(l);

    /* Clean: every record, in order, nothing changed on disk. */
    char *path1 = log_file(fx, 1), *path6 = log_file(fx, 6);
    uint64_t size6 = file_size(path6);
    inspection *in = inspect_dir(fx);
    assert_int_equal(in->files, 2);
    assert_int_equal(in->zxids->len, 9);
    assert_int_equal(in->problems->len, 0);
    assert_int_equal(g_array_index(in->offsets, uint64_t, 6), frame_offset(6, 7));
    assert_int_equal(file_size(path6), size6);
    inspection_free(in);

    /* Record 3 damaged: the open refuses (not the last file); inspect
     * reports it, keeps going, changes nothing. */
    uint64_t off3 = frame_offset(1, 3);
    unit_flip_byte(path1, off3 + FRAME_OVERHEAD, 0x5a);
    uint64_t size1 = file_size(path1);
    in = inspect_dir(fx);
    assert_int_equal(in->problems->len, 1);
    assert_non_null(strstr(g_ptr_array_index(in->problems, 0), "checksum mismatch"));
    assert_true(g_array_index(in->refused, gboolean, 0));
    assert_int_equal(in->first_problem_offset, off3);
    assert_int_equal(in->zxids->len, 2 + 4); /* 1, 2 and the second file */
    assert_int_equal(file_size(path1), size1);
    inspection_free(in);
    char *err = open_log_fails(fx);
    g_free(err);

    /* Cut there: the later file goes, the log ends at zxid 2 and opens. */
    assert_int_equal(txnlog_cut(fx->dir, path1, off3, &err), 0);
    assert_null(err);
    assert_int_equal(count_log_files(fx), 1);
    assert_int_equal(file_size(path1), off3);
    l = open_log(fx, &last);
    assert_int_equal(last, 2);
    assert_replay_range(l, 0, 2);
    txnlog_close(l);

    /* Cutting at the header removes the file; an unknown file is refused. */
    assert_int_equal(txnlog_cut(fx->dir, path1, 0, &err), 0);
    assert_int_equal(count_log_files(fx), 0);
    assert_int_equal(txnlog_cut(fx->dir, path1, 100, &err), -1);
    assert_non_null(err);
    g_free(err);
    g_free(path1);
    g_free(path6);
}

static void test_inspect_torn_tail_not_refused(void **state)
{
    fixture *fx = *state;
    int64_t last;
    txnlog *l = open_log(fx, &last);
    append_range(l, 1, 4);
    commit(l);
    txnlog_close(l);
    char *path = log_file(fx, 1);
    uint64_t off4 = frame_offset(1, 4);
    unit_flip_byte(path, off4 + FRAME_OVERHEAD + 2, 0x5a);   /* the last record */
    inspection *in = inspect_dir(fx);
    assert_int_equal(in->zxids->len, 3);
    assert_int_equal(in->problems->len, 1);
    assert_non_null(strstr(g_ptr_array_index(in->problems, 0), "torn tail"));
    assert_false(g_array_index(in->refused, gboolean, 0));
    inspection_free(in);
    g_free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_vectors),
        cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_one_fsync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_partial_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_bad_crc_last_record, setup, teardown),
        cmocka_unit_test_setup_teardown(test_torn_tail_byte_deep_in_preallocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_corrupt_middle_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_crc_in_non_last_file_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_file_name_must_match_header, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncate_after, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roll_and_purge, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cursor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_roll_and_preallocation, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_cut_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_empty_last_file_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_callback_stop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_and_cut_middle_corruption, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inspect_torn_tail_not_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
