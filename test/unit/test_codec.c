/*
 * test_codec.c — checks our jute codec (lib/jute.c, lib/proto.c) against
 * byte-exact frames captured between real clients (kazoo, the C client
 * cli_mt, zkCli.sh) and Apache ZooKeeper 3.8 (the .bin files in test/vectors, see
 * test/vectors/README.md): decode each vector, check its fields, re-encode
 * where we have an encoder and compare byte for byte.  Then hostile input:
 * every vector truncated at every offset, negative lengths, absurd vector
 * counts, and every 4-byte word of every vector overwritten with nasty
 * values.  Run it under ASan: an out-of-bounds read is a failure.
 *
 * Run from the repository root (vectors are looked up as "test/vectors").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <glib.h>

#include "zk/jute.h"
#include "zk/proto.h"

/* ------------------------------------------------------------ vectors */

/* Directories tried in order, relative to the current directory. */
static const char *const vector_dirs[] = {
    "test/vectors", "../test/vectors", "../../test/vectors", "vectors", NULL,
};

/* Loads test/vectors/NAME into a g_malloc'd buffer of exactly its size
 * (so ASan sees any overread).  Caller owns the result (g_free). */
static uint8_t *load_vector(const char *name, size_t *len_out)
{
    for (int i = 0; vector_dirs[i]; i++) {
        char *path = g_build_filename(vector_dirs[i], name, NULL);
        gchar *contents = NULL;
        gsize len = 0;
        gboolean ok = g_file_get_contents(path, &contents, &len, NULL);
        g_free(path);
        if (ok) {
            uint8_t *exact = g_malloc(len ? len : 1);
            memcpy(exact, contents, len);
            g_free(contents);
            *len_out = len;
            return exact;
        }
    }
    fail_msg("vector %s not found (run from the repository root)", name);
    return NULL;
}

static void assert_view_eq(jute_view v, const char *expected)
{
    assert_non_null(expected);
    assert_int_equal(v.len, (int32_t)strlen(expected));
    assert_memory_equal(v.ptr, expected, strlen(expected));
}

static void assert_bytes_eq(const jute_writer *w, const uint8_t *buf, size_t len)
{
    assert_int_equal(w->len, len);
    assert_memory_equal(w->buf, buf, len);
}

/* ------------------------------------------- whole-record decoders
 * Each decodes one complete frame the way a server (requests) or a client
 * (replies) would, and returns true only if every field decoded and no byte
 * was left over.  They are shared by the field checks and the hostile tests. */

static bool decode_connect_request(jute_reader *r)
{
    zk_connect_request c;
    return zk_connect_request_read(r, &c) && jr_remaining(r) == 0;
}

static bool decode_connect_response(jute_reader *r)
{
    zk_connect_response c;
    return zk_connect_response_read(r, &c) && jr_remaining(r) == 0;
}

/* Body of one (sub-)request of type op. */
static bool decode_request_body(jute_reader *r, int32_t op)
{
    switch (op) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL: {
        zk_create_request c;
        return zk_create_request_read(r, op, &c);
    }
    case ZK_OP_DELETE: case ZK_OP_CHECK: {
        zk_path_version_request d;
        return zk_path_version_request_read(r, &d);
    }
    case ZK_OP_EXISTS: case ZK_OP_GETDATA: case ZK_OP_GETCHILDREN: case ZK_OP_GETCHILDREN2: {
        zk_path_watch_request g;
        return zk_path_watch_request_read(r, &g);
    }
    case ZK_OP_SETDATA: {
        zk_set_data_request s;
        return zk_set_data_request_read(r, &s);
    }
    case ZK_OP_AUTH: {
        zk_auth_packet a;
        return zk_auth_packet_read(r, &a);
    }
    case ZK_OP_SETWATCHES: case ZK_OP_SETWATCHES2: {
        zk_set_watches w;
        return zk_set_watches_read(r, op, &w);
    }
    case ZK_OP_ADDWATCH: case ZK_OP_CHECKWATCHES: case ZK_OP_REMOVEWATCHES: {
        zk_path_type_request p;
        return zk_path_type_request_read(r, &p);
    }
    case ZK_OP_PING: case ZK_OP_CLOSESESSION:
        return jr_ok(r);
    case ZK_OP_MULTI:
        for (;;) {
            zk_multi_header h;
            if (!zk_multi_header_read(r, &h))
                return false;
            if (h.done)
                return true;
            if (!decode_request_body(r, h.type))
                return false;
        }
    default:
        return false;
    }
}

static bool decode_request(jute_reader *r)
{
    zk_request_header h;
    if (!zk_request_header_read(r, &h))
        return false;
    return decode_request_body(r, h.type) && jr_ok(r) && jr_remaining(r) == 0;
}

static bool skip_stat(jute_reader *r)
{
    zk_stat s;
    return zk_stat_read(r, &s);
}

static bool skip_string_vector(jute_reader *r)
{
    zk_vec v;
    return zk_vec_read(r, &v, zk_skip_string);
}

/* A reply to a request of type op (ZK_OP_NOTIFICATION for a watch event). */
static bool decode_reply(jute_reader *r, int32_t op)
{
    zk_reply_header h;
    if (!zk_reply_header_read(r, &h))
        return false;
    if (h.xid == ZK_XID_NOTIFICATION) {
        zk_watcher_event e;
        return zk_watcher_event_read(r, &e) && jr_remaining(r) == 0;
    }
    if (h.err != ZOK && op != ZK_OP_MULTI)
        return jr_remaining(r) == 0;
    switch (op) {
    case ZK_OP_CREATE:
        (void)jr_string(r);
        break;
    case ZK_OP_CREATE2:
        (void)jr_string(r);
        skip_stat(r);
        break;
    case ZK_OP_GETDATA:
        (void)jr_buffer(r);
        skip_stat(r);
        break;
    case ZK_OP_SETDATA: case ZK_OP_EXISTS:
        skip_stat(r);
        break;
    case ZK_OP_GETCHILDREN2:
        skip_string_vector(r);
        skip_stat(r);
        break;
    case ZK_OP_ADDWATCH:
        (void)jr_int(r);
        break;
    case ZK_OP_MULTI:
        for (;;) {
            zk_multi_header m;
            if (!zk_multi_header_read(r, &m))
                return false;
            if (m.done)
                break;
            if (m.type == ZK_OP_ERROR)
                (void)jr_int(r);
            else if (m.type == ZK_OP_CREATE)
                (void)jr_string(r);
            else if (m.type == ZK_OP_SETDATA)
                skip_stat(r);
            else if (m.type != ZK_OP_DELETE && m.type != ZK_OP_CHECK)
                return false;
        }
        break;
    default:    /* ping, closeSession, auth, setWatches: header only */
        break;
    }
    return jr_ok(r) && jr_remaining(r) == 0;
}

/* ------------------------------------------------------- vector table */

enum kind { CONNECT_REQ, CONNECT_RESP, REQUEST, REPLY };

typedef struct vector_case {
    const char *file;
    enum kind kind;
    int32_t op;          /* for REPLY: opcode of the request it answers */
} vector_case;

static const vector_case all_vectors[] = {
    { "kazoo_connect_req.bin", CONNECT_REQ, 0 },
    { "climt_connect_req.bin", CONNECT_REQ, 0 },
    { "climt_reconnect_req.bin", CONNECT_REQ, 0 },
    { "zkcli_connect_req.bin", CONNECT_REQ, 0 },
    { "connect_resp.bin", CONNECT_RESP, 0 },
    { "reconnect_resp.bin", CONNECT_RESP, 0 },
    { "kazoo_auth_req.bin", REQUEST, 0 },
    { "kazoo_create_req.bin", REQUEST, 0 },
    { "kazoo_create2_req.bin", REQUEST, 0 },
    { "kazoo_getdata_req.bin", REQUEST, 0 },
    { "kazoo_setdata_req.bin", REQUEST, 0 },
    { "kazoo_getchildren2_req.bin", REQUEST, 0 },
    { "kazoo_exists_watch_req.bin", REQUEST, 0 },
    { "kazoo_create_watched_req.bin", REQUEST, 0 },
    { "kazoo_multi_req.bin", REQUEST, 0 },
    { "kazoo_ping_req.bin", REQUEST, 0 },
    { "kazoo_close_req.bin", REQUEST, 0 },
    { "climt_create_req.bin", REQUEST, 0 },
    { "climt_getchildren2_watch_req.bin", REQUEST, 0 },
    { "climt_auth_badscheme_req.bin", REQUEST, 0 },
    { "climt_setwatches_req.bin", REQUEST, 0 },
    { "zkcli_addwatch_req.bin", REQUEST, 0 },
    { "auth_resp.bin", REPLY, ZK_OP_AUTH },
    { "auth_failed_resp.bin", REPLY, ZK_OP_AUTH },
    { "create_resp.bin", REPLY, ZK_OP_CREATE },
    { "create_watched_resp.bin", REPLY, ZK_OP_CREATE },
    { "create2_resp.bin", REPLY, ZK_OP_CREATE2 },
    { "getdata_resp.bin", REPLY, ZK_OP_GETDATA },
    { "setdata_resp.bin", REPLY, ZK_OP_SETDATA },
    { "getchildren2_resp.bin", REPLY, ZK_OP_GETCHILDREN2 },
    { "exists_nonode_resp.bin", REPLY, ZK_OP_EXISTS },
    { "watch_event.bin", REPLY, ZK_OP_NOTIFICATION },
    { "watch_event_climt.bin", REPLY, ZK_OP_NOTIFICATION },
    { "multi_fail_resp.bin", REPLY, ZK_OP_MULTI },
    { "ping_resp.bin", REPLY, ZK_OP_PING },
    { "close_resp.bin", REPLY, ZK_OP_CLOSESESSION },
    { "setwatches_resp.bin", REPLY, ZK_OP_SETWATCHES },
    { "addwatch_resp.bin", REPLY, ZK_OP_ADDWATCH },
};
#define N_VECTORS (sizeof all_vectors / sizeof all_vectors[0])

static bool decode_case(const vector_case *vc, const uint8_t *buf, size_t len)
{
    jute_reader r;
    jr_init(&r, buf, len);
    switch (vc->kind) {
    case CONNECT_REQ: return decode_connect_request(&r);
    case CONNECT_RESP: return decode_connect_response(&r);
    case REQUEST: return decode_request(&r);
    case REPLY: return decode_reply(&r, vc->op);
    }
    return false;
}

/* --------------------------------------------------- field checks */

static void check_connect_request(const char *file, int32_t timeout, int64_t last_zxid,
                                  int64_t session_id)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    zk_connect_request c;
    assert_true(zk_connect_request_read(&r, &c));
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(c.protocol_version, 0);
    assert_int_equal(c.timeout, timeout);
    assert_int_equal(c.last_zxid_seen, last_zxid);
    assert_int_equal(c.session_id, session_id);
    assert_int_equal(c.passwd.len, 16);
    assert_true(c.has_read_only);
    assert_false(c.read_only);

    jute_writer w;
    jw_init(&w, 0);
    zk_connect_request_write(&w, &c);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_connect_requests(void **state)
{
    (void)state;
    check_connect_request("kazoo_connect_req.bin", 4000, 0, 0);
    check_connect_request("climt_connect_req.bin", 30000, 0, 0);
    check_connect_request("zkcli_connect_req.bin", 30000, 0, 0);
    /* cli_mt resuming its session after the proxy dropped the connection */
    check_connect_request("climt_reconnect_req.bin", 30000, 0x31f1, 0x10000072beb0278LL);
}

static void check_connect_response(const char *file, int32_t timeout, int64_t session_id)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    zk_connect_response c;
    assert_true(zk_connect_response_read(&r, &c));
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(c.protocol_version, 0);
    assert_int_equal(c.timeout, timeout);
    assert_int_equal(c.session_id, session_id);
    assert_int_equal(c.passwd.len, 16);
    assert_false(c.read_only);

    jute_writer w;
    jw_init(&w, 0);
    zk_connect_response_write(&w, &c);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_connect_responses(void **state)
{
    (void)state;
    check_connect_response("connect_resp.bin", 4000, 0x10000072beb0276LL);
    check_connect_response("reconnect_resp.bin", 30000, 0x10000072beb0278LL);
}

/* Decodes the request header of a vector, checks it and re-encodes it. */
static void check_request_header(jute_reader *r, const uint8_t *buf, int32_t xid, int32_t type)
{
    zk_request_header h;
    assert_true(zk_request_header_read(r, &h));
    assert_int_equal(h.xid, xid);
    assert_int_equal(h.type, type);
    jute_writer w;
    jw_init(&w, 0);
    zk_request_header_write(&w, &h);
    assert_bytes_eq(&w, buf, 8);
    jw_free(&w);
}

/* Checks a create request against expected values, then re-encodes the whole
 * frame from the decoded fields and compares byte for byte. */
static void check_create(const char *file, int32_t xid, int32_t type, const char *path,
                         const char *data)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, xid, type);
    zk_create_request c;
    assert_true(zk_create_request_read(&r, type, &c));
    assert_int_equal(jr_remaining(&r), 0);
    assert_view_eq(c.path, path);
    assert_view_eq(c.data, data);
    assert_int_equal(c.flags, 0);
    assert_int_equal(c.ttl, -1);
    assert_int_equal(c.acl.count, 1);
    jute_reader it;
    zk_vec_iter(&c.acl, &it);
    zk_acl acl;
    assert_true(zk_acl_read(&it, &acl));
    assert_int_equal(acl.perms, ZK_PERM_ALL);
    assert_view_eq(acl.id.scheme, "world");
    assert_view_eq(acl.id.id, "anyone");
    assert_int_equal(jr_remaining(&it), 0);

    jute_writer w;
    jw_init(&w, 0);
    zk_request_header_write(&w, &(zk_request_header){ xid, type });
    jw_view(&w, c.path);
    jw_view(&w, c.data);
    jw_int(&w, c.acl.count);
    zk_acl_write(&w, &acl);
    jw_int(&w, c.flags);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_create_requests(void **state)
{
    (void)state;
    check_create("kazoo_create_req.bin", 1, ZK_OP_CREATE, "/kz", "hello");
    check_create("kazoo_create2_req.bin", 2, ZK_OP_CREATE2, "/kz/c", "x");
    check_create("kazoo_create_watched_req.bin", 7, ZK_OP_CREATE, "/kz/missing", "");
    check_create("climt_create_req.bin", 0x6b02db35, ZK_OP_CREATE, "/cli", "new");
}

static void check_path_watch(const char *file, int32_t xid, int32_t type, const char *path,
                             bool watch)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, xid, type);
    zk_path_watch_request g;
    assert_true(zk_path_watch_request_read(&r, &g));
    assert_int_equal(jr_remaining(&r), 0);
    assert_view_eq(g.path, path);
    assert_int_equal(g.watch, watch);

    jute_writer w;
    jw_init(&w, 0);
    zk_request_header_write(&w, &(zk_request_header){ xid, type });
    jw_view(&w, g.path);
    jw_bool(&w, g.watch);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_read_requests(void **state)
{
    (void)state;
    check_path_watch("kazoo_getdata_req.bin", 3, ZK_OP_GETDATA, "/kz", false);
    check_path_watch("kazoo_getchildren2_req.bin", 5, ZK_OP_GETCHILDREN2, "/kz", false);
    check_path_watch("kazoo_exists_watch_req.bin", 6, ZK_OP_EXISTS, "/kz/missing", true);
    check_path_watch("climt_getchildren2_watch_req.bin", 0x6b02db37, ZK_OP_GETCHILDREN2, "/cli", true);
}

static void test_setdata_request(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("kazoo_setdata_req.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, 4, ZK_OP_SETDATA);
    zk_set_data_request s;
    assert_true(zk_set_data_request_read(&r, &s));
    assert_int_equal(jr_remaining(&r), 0);
    assert_view_eq(s.path, "/kz");
    assert_view_eq(s.data, "world");
    assert_int_equal(s.version, -1);
    g_free(buf);
}

static void check_auth(const char *file, const char *scheme, const char *auth)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, ZK_XID_AUTH, ZK_OP_AUTH);
    zk_auth_packet a;
    assert_true(zk_auth_packet_read(&r, &a));
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(a.type, 0);
    assert_view_eq(a.scheme, scheme);
    assert_view_eq(a.auth, auth);
    g_free(buf);
}

static void test_auth_requests(void **state)
{
    (void)state;
    check_auth("kazoo_auth_req.bin", "digest", "user1:pw1");
    /* cli_mt's "addauth user2:pw2 digest" puts the words the other way round */
    check_auth("climt_auth_badscheme_req.bin", "user2:pw2", "digest");
}

static void test_setwatches_request(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("climt_setwatches_req.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, ZK_XID_SETWATCHES, ZK_OP_SETWATCHES);
    zk_set_watches sw;
    assert_true(zk_set_watches_read(&r, ZK_OP_SETWATCHES, &sw));
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(sw.relative_zxid, 0x31f1);
    assert_int_equal(sw.data.count, 0);
    assert_int_equal(sw.exist.count, 1);
    assert_int_equal(sw.child.count, 0);
    assert_int_equal(sw.persistent.count, 0);
    jute_reader it;
    zk_vec_iter(&sw.exist, &it);
    assert_view_eq(jr_string(&it), "/cli/w");
    assert_true(jr_ok(&it));
    assert_int_equal(jr_remaining(&it), 0);
    g_free(buf);
}

static void test_addwatch_request(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("zkcli_addwatch_req.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, 1, ZK_OP_ADDWATCH);
    zk_path_type_request p;
    assert_true(zk_path_type_request_read(&r, &p));
    assert_int_equal(jr_remaining(&r), 0);
    assert_view_eq(p.path, "/kz");
    assert_int_equal(p.type, ZK_ADDWATCH_PERSISTENT_RECURSIVE);
    g_free(buf);
}

static void test_multi_request(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("kazoo_multi_req.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, 8, ZK_OP_MULTI);
    zk_multi_header h;
    assert_true(zk_multi_header_read(&r, &h));
    assert_int_equal(h.type, ZK_OP_CREATE);
    assert_false(h.done);
    assert_int_equal(h.err, -1);
    zk_create_request c;
    assert_true(zk_create_request_read(&r, h.type, &c));
    assert_view_eq(c.path, "/kz/t1");
    assert_view_eq(c.data, "v");
    assert_true(zk_multi_header_read(&r, &h));
    assert_int_equal(h.type, ZK_OP_DELETE);
    zk_path_version_request d;
    assert_true(zk_path_version_request_read(&r, &d));
    assert_view_eq(d.path, "/kz/nonexistent");
    assert_int_equal(d.version, -1);
    assert_true(zk_multi_header_read(&r, &h));
    assert_int_equal(h.type, -1);
    assert_true(h.done);
    assert_int_equal(h.err, -1);
    assert_int_equal(jr_remaining(&r), 0);

    /* our multi-header encoder reproduces the end marker */
    jute_writer w;
    jw_init(&w, 0);
    zk_multi_header_write(&w, &h);
    assert_bytes_eq(&w, buf + len - 9, 9);
    jw_free(&w);
    g_free(buf);
}

static void test_simple_requests(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("kazoo_ping_req.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_request_header(&r, buf, ZK_XID_PING, ZK_OP_PING);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);

    buf = load_vector("kazoo_close_req.bin", &len);
    jr_init(&r, buf, len);
    check_request_header(&r, buf, 9, ZK_OP_CLOSESESSION);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);
}

/* Reads a reply header, checks it, and checks our encoder reproduces it. */
static void check_reply_header(jute_reader *r, const uint8_t *buf, int32_t xid, int64_t zxid,
                               int32_t err)
{
    zk_reply_header h;
    assert_true(zk_reply_header_read(r, &h));
    assert_int_equal(h.xid, xid);
    assert_int_equal(h.zxid, zxid);
    assert_int_equal(h.err, err);
    jute_writer w;
    jw_init(&w, 0);
    zk_reply_header_write(&w, &h);
    assert_bytes_eq(&w, buf, 16);
    jw_free(&w);
}

/* Header-only replies: ping, closeSession, auth, setWatches, errors. */
static void test_header_only_replies(void **state)
{
    (void)state;
    static const struct { const char *file; int32_t xid; int64_t zxid; int32_t err; } cases[] = {
        { "ping_resp.bin", ZK_XID_PING, 0x31ec, ZOK },
        { "close_resp.bin", 9, 0x31ed, ZOK },
        { "auth_resp.bin", ZK_XID_AUTH, 0, ZOK },
        { "auth_failed_resp.bin", ZK_XID_AUTH, 0, ZAUTHFAILED },
        { "setwatches_resp.bin", ZK_XID_SETWATCHES, 0x31f1, ZOK },
        { "exists_nonode_resp.bin", 6, 0x31ea, ZNONODE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        uint8_t *buf = load_vector(cases[i].file, &len);
        jute_reader r;
        jr_init(&r, buf, len);
        check_reply_header(&r, buf, cases[i].xid, cases[i].zxid, cases[i].err);
        assert_int_equal(jr_remaining(&r), 0);
        g_free(buf);
    }
}

/* Checks a Stat decoded from a vector and that our encoder reproduces it. */
static void check_stat(jute_reader *r, const zk_stat *expected)
{
    size_t start = r->pos;
    zk_stat s;
    assert_true(zk_stat_read(r, &s));
    assert_int_equal(s.czxid, expected->czxid);
    assert_int_equal(s.mzxid, expected->mzxid);
    assert_int_equal(s.ctime, expected->ctime);
    assert_int_equal(s.mtime, expected->mtime);
    assert_int_equal(s.version, expected->version);
    assert_int_equal(s.cversion, expected->cversion);
    assert_int_equal(s.aversion, expected->aversion);
    assert_int_equal(s.ephemeral_owner, expected->ephemeral_owner);
    assert_int_equal(s.data_length, expected->data_length);
    assert_int_equal(s.num_children, expected->num_children);
    assert_int_equal(s.pzxid, expected->pzxid);
    jute_writer w;
    jw_init(&w, 0);
    zk_stat_write(&w, &s);
    assert_bytes_eq(&w, r->buf + start, 68);
    jw_free(&w);
}

/* Times captured from the real server (ms since the epoch). */
#define KZ_CTIME 0x1a203282d59LL   /* /kz created */
#define KZ_MTIME 0x1a203282d5eLL   /* /kz set */
#define KZC_CTIME 0x1a203282d5cLL  /* /kz/c created */

static void test_create_replies(void **state)
{
    (void)state;
    size_t len;
    jute_reader r;
    uint8_t *buf = load_vector("create_resp.bin", &len);
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 1, 0x31e8, ZOK);
    assert_view_eq(jr_string(&r), "/kz");
    assert_true(jr_ok(&r));
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);

    buf = load_vector("create2_resp.bin", &len);
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 2, 0x31e9, ZOK);
    assert_view_eq(jr_string(&r), "/kz/c");
    zk_stat st = { .czxid = 0x31e9, .mzxid = 0x31e9, .ctime = KZC_CTIME, .mtime = KZC_CTIME,
                   .data_length = 1, .pzxid = 0x31e9 };
    check_stat(&r, &st);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);
}

static void test_data_replies(void **state)
{
    (void)state;
    size_t len;
    jute_reader r;
    uint8_t *buf = load_vector("getdata_resp.bin", &len);
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 3, 0x31e9, ZOK);
    assert_view_eq(jr_buffer(&r), "hello");
    zk_stat st = { .czxid = 0x31e8, .mzxid = 0x31e8, .ctime = KZ_CTIME, .mtime = KZ_CTIME,
                   .cversion = 1, .data_length = 5, .num_children = 1, .pzxid = 0x31e9 };
    check_stat(&r, &st);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);

    buf = load_vector("setdata_resp.bin", &len);
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 4, 0x31ea, ZOK);
    st = (zk_stat){ .czxid = 0x31e8, .mzxid = 0x31ea, .ctime = KZ_CTIME, .mtime = KZ_MTIME,
                    .version = 1, .cversion = 1, .data_length = 5, .num_children = 1,
                    .pzxid = 0x31e9 };
    check_stat(&r, &st);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);

    buf = load_vector("getchildren2_resp.bin", &len);
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 5, 0x31ea, ZOK);
    zk_vec children;
    assert_true(zk_vec_read(&r, &children, zk_skip_string));
    assert_int_equal(children.count, 1);
    jute_reader it;
    zk_vec_iter(&children, &it);
    assert_view_eq(jr_string(&it), "c");
    check_stat(&r, &st);
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);
}

static void check_event(const char *file, const char *path)
{
    size_t len;
    uint8_t *buf = load_vector(file, &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, ZK_XID_NOTIFICATION, -1, ZOK);
    zk_watcher_event e;
    assert_true(zk_watcher_event_read(&r, &e));
    assert_int_equal(jr_remaining(&r), 0);
    assert_int_equal(e.type, ZK_EVENT_CREATED);
    assert_int_equal(e.state, ZK_STATE_SYNC_CONNECTED);
    assert_view_eq(e.path, path);
    jute_writer w;
    jw_init(&w, 0);
    zk_reply_header_write(&w, &(zk_reply_header){ ZK_XID_NOTIFICATION, -1, ZOK });
    zk_watcher_event_write(&w, &e);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_watch_events(void **state)
{
    (void)state;
    check_event("watch_event.bin", "/kz/missing");
    check_event("watch_event_climt.bin", "/cli/w");
}

static void test_multi_fail_reply(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("multi_fail_resp.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    /* Apache 3.8: the reply header of a failed multi says OK; each result is
     * an ErrorResult: 0 for the ops before the failing one, then its code. */
    check_reply_header(&r, buf, 8, 0x31ec, ZOK);
    static const int32_t expected_errs[] = { ZOK, ZNONODE };
    jute_writer w;
    jw_init(&w, 0);
    zk_reply_header_write(&w, &(zk_reply_header){ 8, 0x31ec, ZOK });
    for (size_t i = 0; i < 2; i++) {
        zk_multi_header h;
        assert_true(zk_multi_header_read(&r, &h));
        assert_int_equal(h.type, ZK_OP_ERROR);
        assert_false(h.done);
        assert_int_equal(h.err, expected_errs[i]);
        assert_int_equal(jr_int(&r), expected_errs[i]);
        zk_multi_header_write(&w, &h);
        jw_int(&w, expected_errs[i]);
    }
    zk_multi_header end;
    assert_true(zk_multi_header_read(&r, &end));
    assert_true(end.done);
    assert_int_equal(end.type, -1);
    assert_int_equal(end.err, -1);
    assert_int_equal(jr_remaining(&r), 0);
    zk_multi_header_write(&w, &end);
    assert_bytes_eq(&w, buf, len);
    jw_free(&w);
    g_free(buf);
}

static void test_addwatch_reply(void **state)
{
    (void)state;
    size_t len;
    uint8_t *buf = load_vector("addwatch_resp.bin", &len);
    jute_reader r;
    jr_init(&r, buf, len);
    check_reply_header(&r, buf, 1, 0x31f4, ZOK);
    assert_int_equal(jr_int(&r), 0);   /* ErrorResponse(0) */
    assert_true(jr_ok(&r));
    assert_int_equal(jr_remaining(&r), 0);
    g_free(buf);
}

/* Every vector decodes completely with the whole-record decoders. */
static void test_all_vectors_decode(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        size_t len;
        uint8_t *buf = load_vector(all_vectors[i].file, &len);
        if (!decode_case(&all_vectors[i], buf, len))
            fail_msg("%s does not decode", all_vectors[i].file);
        g_free(buf);
    }
}

/* ------------------------------------------------------- hostile input */

/* Every prefix of every vector, in its own exact-size allocation, must be
 * rejected (the only valid prefix is a connect record without its optional
 * trailing readOnly byte). */
static void test_truncated_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_case *vc = &all_vectors[i];
        size_t len;
        uint8_t *full = load_vector(vc->file, &len);
        for (size_t cut = 0; cut < len; cut++) {
            uint8_t *prefix = g_malloc(cut ? cut : 1);
            memcpy(prefix, full, cut);
            bool ok = decode_case(vc, prefix, cut);
            bool optional_tail = (vc->kind == CONNECT_REQ || vc->kind == CONNECT_RESP) &&
                                 cut == len - 1;
            if (ok != optional_tail)
                fail_msg("%s cut at %zu of %zu: decoder said %s", vc->file, cut, len,
                         ok ? "ok" : "error");
            g_free(prefix);
        }
        g_free(full);
    }
}

/* Overwrites each 4-byte window of every vector with hostile values; the
 * decoders may accept or reject, but must never read out of bounds. */
static void test_mutated_vectors(void **state)
{
    (void)state;
    static const uint32_t nasty[] = { 0xffffffffu, 0xfffffffeu, 0x80000000u, 0x7fffffffu,
                                      0x00010000u, 0x00000100u };
    for (size_t i = 0; i < N_VECTORS; i++) {
        const vector_case *vc = &all_vectors[i];
        size_t len;
        uint8_t *full = load_vector(vc->file, &len);
        for (size_t off = 0; off + 4 <= len; off++) {
            for (size_t k = 0; k < sizeof nasty / sizeof nasty[0]; k++) {
                uint8_t *copy = g_memdup2(full, len);
                zk_put_be32(copy + off, nasty[k]);
                (void)decode_case(vc, copy, len);
                g_free(copy);
            }
        }
        g_free(full);
    }
}

static void test_negative_lengths(void **state)
{
    (void)state;
    /* -1 is jute's null: a null view, no error */
    static const uint8_t null_buf[] = { 0xff, 0xff, 0xff, 0xff };
    jute_reader r;
    jr_init(&r, null_buf, sizeof null_buf);
    jute_view v = jr_buffer(&r);
    assert_true(jr_ok(&r));
    assert_int_equal(v.len, -1);
    assert_null(v.ptr);

    /* any other negative length is an error */
    static const uint8_t negs[][4] = {
        { 0xff, 0xff, 0xff, 0xfe }, { 0x80, 0x00, 0x00, 0x00 }, { 0xff, 0x00, 0x00, 0x00 },
    };
    for (size_t i = 0; i < sizeof negs / sizeof negs[0]; i++) {
        jr_init(&r, negs[i], 4);
        v = jr_string(&r);
        assert_false(jr_ok(&r));
        assert_int_equal(v.len, -1);
        /* but a vector count below -1 is an empty vector, as jute's
         * BinaryIndex reads it (Apache: create with ACL count -2 gets
         * an empty ACL list, not a decoding error) */
        jr_init(&r, negs[i], 4);
        assert_int_equal(jr_vector_len(&r, 4), 0);
        assert_true(jr_ok(&r));
    }

    /* a length pointing past the end */
    static const uint8_t too_long[] = { 0x00, 0x00, 0x00, 0x05, 'a', 'b' };
    jr_init(&r, too_long, sizeof too_long);
    (void)jr_buffer(&r);
    assert_false(jr_ok(&r));
    assert_int_equal(jr_remaining(&r), 0);
    /* sticky: later reads keep failing and return zeros */
    assert_int_equal(jr_int(&r), 0);
    assert_int_equal(jr_long(&r), 0);
    assert_false(jr_bool(&r));
    assert_false(jr_ok(&r));

    /* a path with a negative length inside a real request */
    size_t len;
    uint8_t *buf = load_vector("kazoo_getdata_req.bin", &len);
    zk_put_be32(buf + 8, 0xfffffff0u);
    jr_init(&r, buf, len);
    assert_false(decode_request(&r));
    g_free(buf);
}

static void test_huge_vector_counts(void **state)
{
    (void)state;
    /* count larger than what the remaining bytes could hold */
    static const uint8_t counts[][4] = {
        { 0x7f, 0xff, 0xff, 0xff }, { 0x00, 0x01, 0x00, 0x00 }, { 0x00, 0x00, 0x00, 0x03 },
    };
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        uint8_t buf[12] = { 0 };
        memcpy(buf, counts[i], 4);  /* then 8 bytes: room for two 4-byte elements */
        jute_reader r;
        jr_init(&r, buf, sizeof buf);
        int32_t n = jr_vector_len(&r, 4);
        if (i < 2) {
            assert_false(jr_ok(&r));
            assert_int_equal(n, 0);
        } else {
            /* 3 elements of >= 4 bytes cannot fit in 8 bytes */
            assert_false(jr_ok(&r));
        }
        jr_init(&r, buf, sizeof buf);
        zk_vec vec;
        assert_false(zk_vec_read(&r, &vec, zk_skip_string));
        assert_int_equal(vec.count, 0);
    }

    /* a null vector (-1) is valid and empty */
    static const uint8_t null_vec[] = { 0xff, 0xff, 0xff, 0xff };
    jute_reader r;
    jr_init(&r, null_vec, sizeof null_vec);
    zk_vec vec;
    assert_true(zk_vec_read(&r, &vec, zk_skip_string));
    assert_int_equal(vec.count, -1);

    /* the children count of a real reply, inflated */
    size_t len;
    uint8_t *buf = load_vector("getchildren2_resp.bin", &len);
    zk_put_be32(buf + 16, 0x10000000u);
    jr_init(&r, buf, len);
    assert_false(decode_reply(&r, ZK_OP_GETCHILDREN2));
    g_free(buf);

    /* the ACL count of a real create request, inflated */
    buf = load_vector("kazoo_create_req.bin", &len);
    /* header 8 + path (4+3) + data (4+5) = 24: the ACL count */
    assert_int_equal(zk_be32(buf + 24), 1);
    zk_put_be32(buf + 24, 1000);
    jr_init(&r, buf, len);
    assert_false(decode_request(&r));
    g_free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connect_requests),
        cmocka_unit_test(test_connect_responses),
        cmocka_unit_test(test_create_requests),
        cmocka_unit_test(test_read_requests),
        cmocka_unit_test(test_setdata_request),
        cmocka_unit_test(test_auth_requests),
        cmocka_unit_test(test_setwatches_request),
        cmocka_unit_test(test_addwatch_request),
        cmocka_unit_test(test_multi_request),
        cmocka_unit_test(test_simple_requests),
        cmocka_unit_test(test_header_only_replies),
        cmocka_unit_test(test_create_replies),
        cmocka_unit_test(test_data_replies),
        cmocka_unit_test(test_watch_events),
        cmocka_unit_test(test_multi_fail_reply),
        cmocka_unit_test(test_addwatch_reply),
        cmocka_unit_test(test_all_vectors_decode),
        cmocka_unit_test(test_truncated_vectors),
        cmocka_unit_test(test_mutated_vectors),
        cmocka_unit_test(test_negative_lengths),
        cmocka_unit_test(test_huge_vector_counts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
