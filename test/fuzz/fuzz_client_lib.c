/*
 * fuzz_client_lib.c — a hostile server seen by the client library
 * (lib/client.c, lib/client_codec.c: the ConnectResponse, replies matched
 * by xid, watch events, multi and multiRead results, reconnects that re-register the
 * watches), which zkfs and every program on the library sit on.  The
 * handle runs without its I/O thread and without a socket
 * (zkc_open_unthreaded, client_internal.h): this harness is its I/O thread.
 *
 * Input: [options u8], then records [tag u8][len u16 BE][bytes]:
 *   tag & 3 == 0  bytes from the server (a new connection attempt starts
 *                 first if the last one is gone)
 *   tag & 3 == 1  API calls, one per byte (every asynchronous zkc_a*
 *                 function, on a few paths; at most 256 per input)
 *   otherwise     the client's output is taken and checked
 * options: bit 0 a chroot ("/app"), bit 1 digest auth, bit 2 no automatic
 * new session after expiry.
 *
 * Checked: every completion callback runs exactly once (also after the
 * handle is freed with requests outstanding) with the op it was asked for
 * and a result whose strings, arrays and counts are consistent; watcher
 * paths are strings; every byte the client sends is a whole frame: a
 * ConnectRequest, then requests whose body the server's decoder
 * (server/op.c) accepts.
 */
#include <string.h>

#include "common.h"
#include "op.h"
#include "zk/path.h"
#include "../../lib/client_internal.h"

#define MAX_CALLS 256

typedef struct call {
    int32_t op;
    int completions;
} call;

static GPtrArray *calls;   /* call*, owned, for the current input */

static void drop_message(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain; (void)level; (void)msg; (void)data;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    /* the library's g_message lines ("reply xid ... does not match") are
     * expected here by the thousand; warnings and criticals still print */
    g_log_set_handler(NULL, G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG, drop_message, NULL);
    return 0;
}

static void check_str(const char *s)
{
    if (s)
        (void)strlen(s);   /* ASan: it must be a string inside its arena */
}

static void on_done(const zkc_result *res, void *ctx)
{
    call *c = ctx;
    c->completions++;
    FZ_CHECK(c->completions == 1, "completion %d for one request", c->completions);
    FZ_CHECK(res->op == c->op, "completion for op %d has op %d", c->op, res->op);
    if (res->err != ZOK && res->op != ZK_OP_MULTI)
        return;
    check_str(res->path);
    FZ_CHECK(res->data_len >= -1 && (res->data_len < 0 || res->data), "data %p/%d", (void *)res->data,
             res->data_len);
    if (res->data_len > 0) {
        volatile char sum = 0;
        for (int32_t i = 0; i < res->data_len; i++)
            sum ^= res->data[i];
        (void)sum;
    }
    if (res->children) {
        for (size_t i = 0; i < res->n_children; i++) {
            FZ_CHECK(res->children[i], "child %zu of %zu is NULL", i, res->n_children);
            check_str(res->children[i]);
        }
        FZ_CHECK(res->children[res->n_children] == NULL, "children not NULL-terminated");
    }
    for (size_t i = 0; i < res->n_acl; i++) {
        FZ_CHECK(res->acl[i].scheme && res->acl[i].id, "ACL entry %zu without strings", i);
        check_str(res->acl[i].scheme);
        check_str(res->acl[i].id);
    }
    for (size_t i = 0; i < res->n_ops; i++)
        check_str(res->ops[i].path);
    for (size_t i = 0; i < res->n_reads; i++) {
        const zkc_read_result *rr = &res->reads[i];
        FZ_CHECK(rr->data_len >= -1 && (rr->data_len < 0 || rr->data), "read %zu data %p/%d", i,
                 (void *)rr->data, rr->data_len);
        if (rr->data_len > 0) {
            volatile char sum = 0;
            for (int32_t j = 0; j < rr->data_len; j++)
                sum ^= rr->data[j];
            (void)sum;
        }
        if (rr->children) {
            for (size_t j = 0; j < rr->n_children; j++) {
                FZ_CHECK(rr->children[j], "read %zu child %zu is NULL", i, j);
                check_str(rr->children[j]);
            }
            FZ_CHECK(rr->children[rr->n_children] == NULL, "read %zu children not NULL-terminated", i);
        }
    }
}

static void on_watch(zkc *zk, int type, int state, const char *path, void *ctx)
{
    (void)zk; (void)type; (void)state; (void)ctx;
    check_str(path);
}

static call *new_call(int32_t op)
{
    call *c = g_new0(call, 1);
    c->op = op;
    g_ptr_array_add(calls, c);
    return c;
}

/* One API call; a request that could not be queued has no callback. */
static void api_call(zkc *zk, uint8_t b)
{
    static const char *const paths[] = { "/", "/a", "/a/b", "/kz" };
    const char *path = paths[(b >> 5) & 3];
    bool watch = b & 0x80;
    static const zkc_acl_entry ents[] = { { ZK_PERM_ALL, "digest", "u:x" } };
    static const zkc_acl acl = { 1, ents };
    int rc = ZOK;
    call *c;
#define CALL(op, expr) do { c = new_call(op); rc = (expr); } while (0)
    switch (b & 31) {
    case 0: CALL(ZK_OP_CREATE2, zkc_acreate(zk, path, "v", 1, 0, NULL, 0, on_done, c)); break;
    case 1: CALL(ZK_OP_CREATE2, zkc_acreate(zk, path, NULL, 0, ZK_CREATE_EPHEMERAL_SEQUENTIAL, &acl, 0, on_done, c)); break;
    case 2: CALL(ZK_OP_CREATECONTAINER, zkc_acreate(zk, path, "", 0, ZK_CREATE_CONTAINER, NULL, 0, on_done, c)); break;
    case 3: CALL(ZK_OP_CREATETTL, zkc_acreate(zk, path, "t", 1, ZK_CREATE_PERSISTENT_WITH_TTL, NULL, 5000, on_done, c)); break;
    case 4: CALL(ZK_OP_DELETE, zkc_adelete(zk, path, -1, on_done, c)); break;
    case 5: CALL(ZK_OP_EXISTS, zkc_aexists(zk, path, watch, on_done, c)); break;
    case 6: CALL(ZK_OP_GETDATA, zkc_aget(zk, path, watch, on_done, c)); break;
    case 7: CALL(ZK_OP_SETDATA, zkc_aset(zk, path, "w", 1, -1, on_done, c)); break;
    case 8: CALL(ZK_OP_GETACL, zkc_aget_acl(zk, path, on_done, c)); break;
    case 9: CALL(ZK_OP_SETACL, zkc_aset_acl(zk, path, &acl, -1, on_done, c)); break;
    case 10: CALL(ZK_OP_GETCHILDREN, zkc_achildren(zk, path, watch, on_done, c)); break;
    case 11: CALL(ZK_OP_GETCHILDREN2, zkc_achildren2(zk, path, watch, on_done, c)); break;
    case 12: CALL(ZK_OP_SYNC, zkc_async(zk, path, on_done, c)); break;
    case 13: {
        zkc_op ops[4] = { zkc_op_create("/m", "x", 1, 0, NULL, 0), zkc_op_check(path, -1),
                          zkc_op_set(path, "y", 1, -1), zkc_op_delete("/m", -1) };
        CALL(ZK_OP_MULTI, zkc_amulti(zk, ops, 1 + (b >> 5) % 4, on_done, c));
        break;
    }
    case 14: CALL(ZK_OP_ADDWATCH, zkc_aadd_watch(zk, path, watch ? ZK_ADDWATCH_PERSISTENT_RECURSIVE : ZK_ADDWATCH_PERSISTENT, on_done, c)); break;
    case 15: CALL(ZK_OP_REMOVEWATCHES, zkc_aremove_watches(zk, path, 1 + (b >> 5) % 3, on_done, c)); break;
    case 16: CALL(ZK_OP_GETEPHEMERALS, zkc_aget_ephemerals(zk, path, on_done, c)); break;
    case 17: CALL(ZK_OP_GETALLCHILDRENNUMBER, zkc_aget_all_children_number(zk, path, on_done, c)); break;
    case 18: CALL(ZK_OP_WHOAMI, zkc_awhoami(zk, on_done, c)); break;
    case 19: {
        zkc_read_op reads[3] = { { ZK_OP_GETDATA, path }, { ZK_OP_GETCHILDREN, "/" },
                                 { ZK_OP_GETDATA, "/kz" } };
        CALL(ZK_OP_MULTIREAD, zkc_amulti_read(zk, reads, 1 + (b >> 5) % 3, on_done, c));
        break;
    }
    default: return;
    }
#undef CALL
    if (rc != ZOK)
        c->completions = 1;   /* refused at once: no callback will come */
}

/* The client's output: whole frames, a ConnectRequest first on each
 * connection, then requests the server can decode. */
typedef struct out_state {
    GByteArray *sent;
    bool handshake_sent;
} out_state;

static void check_output(zkc *zk, out_state *o)
{
    zkc_unthreaded_output(zk, o->sent);
    size_t off = 0;
    while (o->sent->len - off >= 4) {
        uint32_t len = zk_be32(o->sent->data + off);
        FZ_CHECK(o->sent->len - off - 4 >= len, "the client sent a partial frame");
        const uint8_t *f = o->sent->data + off + 4;
        jute_reader r;
        jr_init(&r, f, len);
        if (!o->handshake_sent) {
            zk_connect_request cr;
            FZ_CHECK(zk_connect_request_read(&r, &cr) && cr.passwd.len >= 0, "a bad ConnectRequest");
            o->handshake_sent = true;
        } else {
            zk_request_header h;
            FZ_CHECK(zk_request_header_read(&r, &h), "a frame without a request header");
            zk_op op;
            FZ_CHECK(zk_op_decode(h.type, f + 8, len - 8, false, &op),
                     "the client sent an op %d the server cannot decode", h.type);
            zk_op_clear(&op);
        }
        off += 4 + len;
    }
    FZ_CHECK(off == o->sent->len, "stray bytes in the client's output");
    g_byte_array_set_size(o->sent, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t opt = fz_u8(&in);
    calls = g_ptr_array_new_with_free_func(g_free);
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = opt & 1 ? "127.0.0.1:2181,127.0.0.2:2182/app" : "127.0.0.1:2181,[::1]:2182";
    o.digest_auth = opt & 2 ? "u:p" : NULL;
    o.auto_new_session = !(opt & 4);
    o.watcher = on_watch;
    o.max_frame_bytes = 1 << 20;
    char *err = NULL;
    zkc *zk = zkc_open_unthreaded(&o, &err);
    FZ_CHECK(zk, "open: %s", err ? err : "?");
    out_state out = { g_byte_array_new(), false };
    while (fz_more(&in)) {
        uint8_t tag = fz_u8(&in);
        const uint8_t *p;
        size_t len = fz_chunk(&in, &p);
        switch (tag & 3) {
        case 0:
            if (zkc_unthreaded_idle(zk)) {
                check_output(zk, &out);
                out.handshake_sent = false;
                zkc_unthreaded_connect(zk);
            }
            zkc_unthreaded_receive(zk, p, len);
            break;
        case 1:
            /* at most MAX_CALLS per input: thousands of queued creates only
             * slow the fuzzer down, they reach no new code */
            for (size_t i = 0; i < len && calls->len < MAX_CALLS; i++)
                api_call(zk, p[i]);
            break;
        default:
            break;
        }
        check_output(zk, &out);
    }
    zkc_unthreaded_free(zk);
    for (guint i = 0; i < calls->len; i++) {
        const call *c = g_ptr_array_index(calls, i);
        FZ_CHECK(c->completions == 1, "request %u (op %d) completed %d times", i, c->op, c->completions);
    }
    g_ptr_array_free(calls, TRUE);
    g_byte_array_free(out.sent, TRUE);
    return 0;
}
