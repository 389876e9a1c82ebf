/*
 * test_zktool.c — unit tests for zktool's pure parts (tools/zktool/): the
 * Java text emulation against values printed by the real JDK and Jackson
 * (test/vectors/java/jtext.txt), Adler-32 and CRC-32, Apache's snapshot
 * and log codecs (round trips, and every prefix and many corruptions of a
 * real encoding decoded without a crash), and txn record decoding,
 * checking and printing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apache_fmt.h"
#include "checksum.h"
#include "jtext.h"
#include "snapbody.h"
#include "tree.h"
#include "txnfmt.h"
#include "vectors.h"
#include "zk/proto.h"

/* ---- Java text --------------------------------------------------------- */

static char *hex_of(const char *p, size_t n)
{
    GString *g = g_string_new(NULL);
    for (size_t i = 0; i < n; i++)
        g_string_append_printf(g, "%02x", (unsigned char)p[i]);
    return g_string_free(g, FALSE);
}

static void test_jtext_vectors(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    char **lines = vectors_read_lines("test/vectors/java/jtext.txt");
    unsigned utf8 = 0, json = 0, dates = 0, maps = 0;
    for (char **l = lines; *l; l++) {
        if (!**l)
            continue;
        char **f = g_strsplit(*l, "\t", -1);
        GString *out = g_string_new(NULL);
        if (strcmp(f[0], "utf8") == 0 || strcmp(f[0], "json") == 0) {
            size_t n;
            uint8_t *in = vectors_unhex(f[1], &n);
            if (f[0][0] == 'u') {
                jtext_utf8(out, in, n);
                utf8++;
            } else {
                jtext_json_quote(out, in, n);
                json++;
            }
            char *got = hex_of(out->str, out->len);
            if (strcmp(got, f[2]) != 0)
                fail_msg("%s of %s: got %s, Java %s", f[0], f[1], got, f[2]);
            g_free(got);
            g_free(in);
        } else if (strcmp(f[0], "date") == 0) {
            int64_t ms = g_ascii_strtoll(f[1], NULL, 10);
            jtext_date_short_long(out, ms);
            assert_string_equal(out->str, f[2]);
            g_string_truncate(out, 0);
            jtext_date_string(out, ms);
            assert_string_equal(out->str, f[3]);
            dates++;
        } else if (strcmp(f[0], "map") == 0) {
            char **ks = g_strsplit(f[1], " ", -1);
            size_t n = f[1][0] ? g_strv_length(ks) : 0;
            int64_t *keys = g_new(int64_t, n + 1);
            size_t *order = g_new(size_t, n + 1);
            for (size_t i = 0; i < n; i++)
                keys[i] = g_ascii_strtoll(ks[i], NULL, 10);
            size_t m = jtext_long_map_order(keys, n, order);
            for (size_t i = 0; i < m; i++)
                g_string_append_printf(out, "%s%" G_GINT64_FORMAT, i ? " " : "", keys[order[i]]);
            if (strcmp(out->str, f[2]) != 0)
                fail_msg("HashMap order of %s: got %s, Java %s", f[1], out->str, f[2]);
            g_strfreev(ks);
            g_free(keys);
            g_free(order);
            maps++;
        }
        g_string_free(out, TRUE);
        g_strfreev(f);
    }
    g_strfreev(lines);
    assert_true(utf8 > 1000 && json > 1000 && dates > 20 && maps > 50);
}

static void test_jute_to_string(void **state)
{
    (void)state;
    GString *out = g_string_new(NULL);
    jts j;
    jts_init(&j, out);
    jts_start_record(&j, "");
    jts_string(&j, "/a,b}%\n", 7);
    jts_buffer(&j, "\x01\xff\x10", 3);
    jts_start_vector(&j);
    jts_start_record(&j, "e1");
    jts_long(&j, 31);
    jts_end_record(&j, "e1");
    jts_end_vector(&j);
    jts_bool(&j, false);
    jts_string(&j, NULL, -1);
    jts_end_record(&j, "");
    assert_string_equal(out->str, "'/a%2Cb%7D%25%0A,#1ffffffff10,v{s{31}},F,\n");
    g_string_free(out, TRUE);
}

static void test_checksums(void **state)
{
    (void)state;
    assert_int_equal(zt_adler32(1, "Wikipedia", 9), 0x11E60398u);
    assert_int_equal(zt_crc32(0, "123456789", 9), 0xCBF43926u);
    /* Incremental = one shot, across the Adler-32 modulo boundary. */
    uint8_t *big = g_malloc(100000);
    for (int i = 0; i < 100000; i++)
        big[i] = (uint8_t)(i * 7 + 3);
    assert_int_equal(zt_adler32(zt_adler32(1, big, 33333), big + 33333, 66667), zt_adler32(1, big, 100000));
    assert_int_equal(zt_crc32(zt_crc32(0, big, 5), big + 5, 99995), zt_crc32(0, big, 100000));
    g_free(big);
}

/* ---- Apache snapshots -------------------------------------------------- */

static zk_acl_list *acl(zk_tree *t, int perms, const char *scheme, const char *id)
{
    zk_acl_entry e = { perms, (char *)scheme, (char *)id };
    return acl_intern(t->acls, &e, 1);
}

/* A tree with every kind of node. */
static zk_tree *sample_tree(void)
{
    zk_tree *t = tree_new();
    zk_acl_list *open = acl_open_unsafe(t->acls);
    zk_acl_list *dig = acl(t, 31, "digest", "u:abc=");
    assert_int_equal(tree_create(t, "/a", "x", 1, open, 0, -1, 2, 1000, NULL), ZOK);
    assert_int_equal(tree_create(t, "/a/b", NULL, -1, dig, 0, -1, 3, 1001, NULL), ZOK);
    assert_int_equal(tree_create(t, "/a/e", "", 0, open, 0x100000000000abcLL, -1, 4, 1002, NULL), ZOK);
    assert_int_equal(tree_create(t, "/c", "c", 1, open, ZK_CONTAINER_OWNER, -1, 5, 1003, NULL), ZOK);
    assert_int_equal(tree_create(t, "/t", "t", 1, dig, zk_ttl_owner(5000), -1, 6, 1004, NULL), ZOK);
    for (int i = 0; i < 30; i++) {
        char p[32];
        snprintf(p, sizeof p, "/a/n%d", i);
        assert_int_equal(tree_create(t, p, p, (int32_t)strlen(p), open, 0, -1, 7 + i, 1005 + i, NULL), ZOK);
    }
    assert_int_equal(tree_set_data(t, "/a", "yy", 2, 1, 40, 2000, NULL), ZOK);
    acl_unref(t->acls, open);
    acl_unref(t->acls, dig);
    t->last_processed_zxid = 40;
    return t;
}

static void assert_same_tree(const zk_tree *a, const zk_tree *b)
{
    assert_int_equal(tree_node_count(a), tree_node_count(b));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, a->nodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_node *x = v, *y = tree_get(b, k);
        assert_non_null(y);
        assert_int_equal(x->czxid, y->czxid);
        assert_int_equal(x->mzxid, y->mzxid);
        assert_int_equal(x->pzxid, y->pzxid);
        assert_int_equal(x->ctime, y->ctime);
        assert_int_equal(x->mtime, y->mtime);
        assert_int_equal(x->version, y->version);
        assert_int_equal(x->cversion, y->cversion);
        assert_int_equal(x->aversion, y->aversion);
        assert_int_equal(x->ephemeral_owner, y->ephemeral_owner);
        assert_int_equal(x->data_len, y->data_len);
        if (x->data_len > 0)
            assert_memory_equal(x->data, y->data, (size_t)x->data_len);
        assert_true(g_bytes_equal(x->acl->key, y->acl->key));
        /* The same children in the same (HashSet) order. */
        const jset_entry *ea = jset_first(&x->children), *eb = jset_first(&y->children);
        for (; ea && eb; ea = jset_next(&x->children, ea), eb = jset_next(&y->children, eb))
            assert_string_equal(ea->key, eb->key);
        assert_true(!ea && !eb);
    }
}

static void encode_sample(jute_writer *w, zk_tree **tree_out)
{
    zk_tree *t = sample_tree();
    snap_session s[2] = { { 0x100000000000abcLL, 30000 }, { 0x200000000000001LL, 4000 } };
    jw_init(w, 4096);
    apache_snap_encode(w, t, s, 2, 40, apache_tree_digest(t));
    *tree_out = t;
}

static void test_apache_snapshot_round_trip(void **state)
{
    (void)state;
    zk_extended_types_enabled = true;
    jute_writer w;
    zk_tree *t;
    encode_sample(&w, &t);
    apache_snapshot s;
    char *err = NULL;
    if (!apache_snap_decode(w.buf, w.len, APACHE_DEFAULT_MAX_BUFFER, &s, &err))
        fail_msg("decode: %s", err);
    assert_int_equal(s.header.magic, APACHE_SNAP_MAGIC);
    assert_int_equal(s.header.version, 2);
    assert_int_equal(s.header.dbid, -1);
    assert_int_equal(s.sessions->len, 2);
    assert_int_equal(s.acls->len, 3);               /* open, digest, /zookeeper/config read-only */
    assert_int_equal(s.nodes->len, tree_node_count(t));
    assert_int_equal(s.seal_stored, (int64_t)s.seal_computed);
    assert_true(s.has_digest && s.digest_seal_ok);
    assert_int_equal(s.digest_zxid, 40);
    assert_int_equal(s.digest, apache_tree_digest(t));
    assert_int_equal(s.end, w.len);
    assert_int_equal(g_array_index(s.nodes, apache_snap_node, 0).path.len, 0);  /* the root is "" */
    jute_writer body;
    jw_init(&body, 1024);
    assert_true(apache_snap_to_body(&s, &body, &err));
    GArray *sessions = NULL;
    zk_tree *back = snapbody_read(body.buf, body.len, &sessions, &err);
    assert_non_null(back);
    assert_same_tree(t, back);
    assert_int_equal(apache_tree_digest(back), apache_tree_digest(t));
    assert_int_equal(g_array_index(sessions, snap_session, 1).timeout, 4000);
    assert_int_equal(g_hash_table_size(back->containers), 1);
    assert_int_equal(g_hash_table_size(back->ttls), 1);
    g_array_free(sessions, TRUE);
    tree_free(back);
    jw_free(&body);
    apache_snapshot_clear(&s);
    tree_free(t);
    jw_free(&w);
}

/* Decoding then converting must fail cleanly or succeed, never crash. */
static void decode_any(const uint8_t *buf, size_t len)
{
    apache_snapshot s;
    char *err = NULL;
    if (apache_snap_decode(buf, len, APACHE_DEFAULT_MAX_BUFFER, &s, &err)) {
        jute_writer body;
        jw_init(&body, 256);
        if (apache_snap_to_body(&s, &body, &err)) {
            GArray *sessions = NULL;
            zk_tree *t = snapbody_read(body.buf, body.len, &sessions, &err);
            if (t) {
                tree_free(t);
                g_array_free(sessions, TRUE);
            }
        }
        jw_free(&body);
    }
    g_free(err);
    apache_snapshot_clear(&s);
}

static void test_apache_snapshot_hostile(void **state)
{
    (void)state;
    jute_writer w;
    zk_tree *t;
    encode_sample(&w, &t);
    /* Every prefix: only the complete file (and cuts inside the optional
     * digest section) decode; none crashes. */
    unsigned decoded = 0;
    for (size_t n = 0; n <= w.len; n++) {
        apache_snapshot s;
        char *err = NULL;
        bool ok = apache_snap_decode(w.buf, n, APACHE_DEFAULT_MAX_BUFFER, &s, &err);
        decoded += ok;
        if (!ok)
            assert_non_null(err);
        g_free(err);
        apache_snapshot_clear(&s);
        decode_any(w.buf, n);
    }
    assert_true(decoded >= 1 && decoded < 40);
    /* Byte flips and overwrites with extreme values. */
    uint8_t *copy = g_malloc(w.len);
    srand(12345);
    for (int i = 0; i < 4000; i++) {
        memcpy(copy, w.buf, w.len);
        int flips = 1 + rand() % 4;
        for (int k = 0; k < flips; k++) {
            size_t at = (size_t)rand() % w.len;
            static const uint8_t extremes[] = { 0x00, 0xff, 0x7f, 0x80, 0x01 };
            copy[at] = rand() % 2 ? (uint8_t)(copy[at] ^ (1u << (rand() % 8))) : extremes[rand() % 5];
        }
        decode_any(copy, w.len);
    }
    g_free(copy);
    tree_free(t);
    jw_free(&w);
}

static void test_apache_snapshot_refusals(void **state)
{
    (void)state;
    jute_writer w;
    jw_init(&w, 256);
    apache_log_write_header(&w, APACHE_SNAP_MAGIC, -1);
    jw_int(&w, 0);            /* sessions */
    jw_int(&w, 0);            /* ACL map */
    jw_string(&w, "/a");      /* a node before its parent */
    jw_buffer(&w, NULL, -1);
    jw_long(&w, -1);
    for (int i = 0; i < 4; i++)
        jw_long(&w, 0);
    for (int i = 0; i < 3; i++)
        jw_int(&w, 0);
    jw_long(&w, 0);
    jw_long(&w, 0);
    jw_string(&w, "/");
    jw_long(&w, (int64_t)zt_adler32(1, w.buf, w.len));
    jw_string(&w, "/");
    apache_snapshot s;
    char *err = NULL;
    assert_true(apache_snap_decode(w.buf, w.len, APACHE_DEFAULT_MAX_BUFFER, &s, &err));
    assert_false(s.has_digest);
    jute_writer body;
    jw_init(&body, 64);
    assert_false(apache_snap_to_body(&s, &body, &err));
    assert_non_null(strstr(err, "parent"));
    g_free(err);
    jw_free(&body);
    apache_snapshot_clear(&s);
    /* A session count that cannot fit. */
    jw_reset(&w);
    apache_log_write_header(&w, APACHE_SNAP_MAGIC, -1);
    jw_int(&w, 0x7fffffff);
    assert_false(apache_snap_decode(w.buf, w.len, APACHE_DEFAULT_MAX_BUFFER, &s, &err));
    assert_non_null(strstr(err, "session count"));
    g_free(err);
    apache_snapshot_clear(&s);
    jw_free(&w);
}

/* ---- Apache logs ------------------------------------------------------- */

static void test_apache_log_reader(void **state)
{
    (void)state;
    jute_writer w;
    jw_init(&w, 256);
    apache_log_write_header(&w, APACHE_LOG_MAGIC, 0);
    apache_log_write_record(&w, "abc", 3);
    apache_log_write_record(&w, "defgh", 5);
    size_t two = w.len;
    apache_log_record rec;
    apache_log_reader r;
    apache_log_reader_init(&r, w.buf, w.len, 100);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_RECORD);
    assert_true(rec.checksum_ok);
    assert_int_equal(rec.len, 3);
    assert_int_equal(rec.offset, 16);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_RECORD);
    assert_memory_equal(rec.data, "defgh", 5);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_END);
    /* Preallocated zeros end the data too. */
    uint8_t zeros[64] = { 0 };
    jw_raw(&w, zeros, sizeof zeros);
    apache_log_reader_init(&r, w.buf, w.len, 100);
    apache_log_next(&r, &rec);
    apache_log_next(&r, &rec);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_END);
    /* Torn at every point of the second record. */
    for (size_t n = 16 + 16; n < two; n++) {
        apache_log_reader_init(&r, w.buf, n, 100);
        assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_RECORD);
        apache_log_status st = apache_log_next(&r, &rec);
        assert_true(st == APACHE_LOG_TORN || st == APACHE_LOG_END);
    }
    /* A bad end byte, a bad checksum, an unreasonable length. */
    w.buf[16 + 12 + 3] = 'X';
    apache_log_reader_init(&r, w.buf, w.len, 100);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_BAD_EOR);
    w.buf[16 + 12 + 3] = 'B';
    w.buf[16 + 12] ^= 1;
    apache_log_reader_init(&r, w.buf, w.len, 100);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_RECORD);
    assert_false(rec.checksum_ok);
    apache_log_reader_init(&r, w.buf, w.len, 2);
    assert_int_equal(apache_log_next(&r, &rec), APACHE_LOG_BAD_LENGTH);
    assert_int_equal(rec.bad_length, 3);
    jw_free(&w);
}

/* ---- txn records ------------------------------------------------------- */

static void txn_head(jute_writer *w, int32_t type, int64_t zxid)
{
    txn_header h = { 0x100000000000abcLL, 1, zxid, 0, type };
    txn_header_write(w, &h);
}

static void open_acl(jute_writer *w)
{
    jw_int(w, 1);
    jw_int(w, 31);
    jw_string(w, "world");
    jw_string(w, "anyone");
}

static void test_txnfmt_lines(void **state)
{
    (void)state;
    setenv("TZ", "UTC", 1);
    tzset();
    jute_writer w;
    jw_init(&w, 256);
    txn_head(&w, ZK_OP_CREATE, 2);
    jw_string(&w, "/a");
    jw_buffer(&w, "hi", 2);
    open_acl(&w);
    jw_bool(&w, false);
    jw_int(&w, 1);
    jw_int(&w, 2);              /* a TxnDigest */
    jw_long(&w, 12345);
    txn_view t;
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_true(t.has_digest);
    assert_int_equal(t.digest, 12345);
    assert_null(txnfmt_check_apply(&t));
    GString *out = g_string_new(NULL);
    txnfmt_logformatter_line(out, &t);
    assert_string_equal(out->str, "1/1/70, 12:00:00 AM UTC session 0x100000000000abc cxid 0x1 zxid 0x2 create "
                                  "'/a,#6869,v{s{31,s{'world,'anyone}}},F,1\n");
    g_string_truncate(out, 0);
    txnfmt_toolkit_line(out, &t, NULL);
    assert_string_equal(out->str, "1/1/70, 12:00:00 AM UTC session 0x100000000000abc cxid 0x1 zxid 0x2 create "
                                  "/a,hi,[31,s{'world,'anyone}\n],false,1\n");
    GByteArray *payload = g_byte_array_new();
    txnfmt_zk_payload(&t, payload);
    assert_int_equal(payload->len, w.len - 12);    /* the digest is not zkserver's */
    g_byte_array_free(payload, TRUE);
    /* Every prefix decodes or fails cleanly. */
    for (size_t n = 0; n < w.len; n++) {
        txn_view p;
        if (!txnfmt_parse(w.buf, n, &p))
            (void)txnfmt_check_apply(&p);
    }
    g_string_free(out, TRUE);
    jw_free(&w);
}

static void test_txnfmt_refuses_what_apply_cannot_take(void **state)
{
    (void)state;
    jute_writer w;
    jw_init(&w, 256);
    txn_view t;
    /* A path without a slash. */
    txn_head(&w, ZK_OP_DELETE, 3);
    jw_string(&w, "a");
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_non_null(txnfmt_check_apply(&t));
    /* A create of the root. */
    jw_reset(&w);
    txn_head(&w, ZK_OP_CREATE, 3);
    jw_string(&w, "/");
    jw_buffer(&w, NULL, -1);
    open_acl(&w);
    jw_bool(&w, false);
    jw_int(&w, 1);
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_non_null(txnfmt_check_apply(&t));
    /* A null ACL scheme. */
    jw_reset(&w);
    txn_head(&w, ZK_OP_SETACL, 3);
    jw_string(&w, "/a");
    jw_int(&w, 1);
    jw_int(&w, 31);
    jw_string(&w, NULL);
    jw_string(&w, "x");
    jw_int(&w, 0);
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_non_null(txnfmt_check_apply(&t));
    /* A multi inside a multi. */
    jw_reset(&w);
    txn_head(&w, ZK_OP_MULTI, 3);
    jw_int(&w, 1);
    jw_int(&w, ZK_OP_MULTI);
    uint8_t inner[4] = { 0, 0, 0, 0 };
    jw_buffer(&w, inner, 4);
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_non_null(txnfmt_check_apply(&t));
    /* A type Apache has no txn record for. */
    jw_reset(&w);
    txn_head(&w, ZK_OP_GETDATA, 3);
    assert_non_null(txnfmt_parse(w.buf, w.len, &t));
    /* An old CreateTxnV0 becomes a create with parentCVersion -1. */
    jw_reset(&w);
    txn_head(&w, ZK_OP_CREATE, 3);
    jw_string(&w, "/v0");
    jw_buffer(&w, "d", 1);
    open_acl(&w);
    jw_bool(&w, true);
    assert_null(txnfmt_parse(w.buf, w.len, &t));
    assert_true(t.v0_create);
    assert_null(txnfmt_check_apply(&t));
    GByteArray *payload = g_byte_array_new();
    txnfmt_zk_payload(&t, payload);
    assert_int_equal(payload->len, w.len + 4);
    assert_int_equal(zk_be32(payload->data + payload->len - 4), 0xffffffffu);
    g_byte_array_free(payload, TRUE);
    jw_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jtext_vectors),
        cmocka_unit_test(test_jute_to_string),
        cmocka_unit_test(test_checksums),
        cmocka_unit_test(test_apache_snapshot_round_trip),
        cmocka_unit_test(test_apache_snapshot_hostile),
        cmocka_unit_test(test_apache_snapshot_refusals),
        cmocka_unit_test(test_apache_log_reader),
        cmocka_unit_test(test_txnfmt_lines),
        cmocka_unit_test(test_txnfmt_refuses_what_apply_cannot_take),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
