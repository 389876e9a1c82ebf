/*
 * fuzz_fourlw.c — the first bytes of a client connection (server/conn.c's
 * four-letter-word sniff, server/fourlw.c's commands).  The server has a
 * little state (two sessions with watches and ephemeral nodes, made once at
 * start-up) so that cons, dump, wchc, wchp and friends have something to
 * print.
 *
 * Input: [config u8][split u8][bytes]: config & 1 selects the whitelist
 * (every word, or Apache's default: srvr only); the bytes reach a new
 * memory connection in two pieces, cut at split (so a word may arrive
 * across reads).
 *
 * Checked: when the first four bytes are a four-letter word, the server
 * answers with text (non-empty, no NUL byte; stmk without its mask and the
 * unimplemented hash answer nothing) and closes the connection;
 * otherwise they are the length of a first frame and nothing is printed
 * before a ConnectResponse.
 */
#include <string.h>

#include "common.h"
#include "config.h"
#include "conn.h"
#include "fourlw.h"
#include "request.h"
#include "server.h"

static zk_config cfg_all, cfg_default;
static zk_server srv_all, srv_default;

static void frame(zk_conn *c, const void *payload, size_t len)
{
    uint8_t prefix[4];
    zk_put_be32(prefix, (uint32_t)len);
    conn_receive(c, prefix, 4);
    conn_receive(c, payload, len);
}

/* A session that creates an ephemeral node and sets a few watches. */
static void populate(zk_server *s, int k)
{
    zk_conn *c = conn_new_memory(s, "127.0.0.1", 30000 + k);
    jute_writer w;
    jw_init(&w, 128);
    zk_connect_request cr = { 0, 0, 30000, 0, { "0123456789abcdef", 16 }, false, true };
    zk_connect_request_write(&w, &cr);
    frame(c, w.buf, w.len);
    request_on_durable(s, s->last_zxid);
    char path[32];
    snprintf(path, sizeof path, "/e%d", k);
    jw_reset(&w);
    zk_request_header h = { 1, ZK_OP_CREATE };
    zk_request_header_write(&w, &h);
    jw_string(&w, path);
    jw_buffer(&w, "x", 1);
    jw_int(&w, 1);
    jw_int(&w, ZK_PERM_ALL);
    jw_string(&w, "world");
    jw_string(&w, "anyone");
    jw_int(&w, ZK_CREATE_EPHEMERAL);
    frame(c, w.buf, w.len);
    request_on_durable(s, s->last_zxid);
    int32_t ops[3] = { ZK_OP_EXISTS, ZK_OP_GETCHILDREN, ZK_OP_GETDATA };
    for (int i = 0; i < 3; i++) {
        jw_reset(&w);
        zk_request_header g = { 2 + i, ops[i] };
        zk_request_header_write(&w, &g);
        jw_string(&w, i == 1 ? "/" : path);
        jw_bool(&w, true);
        frame(c, w.buf, w.len);
    }
    jw_reset(&w);
    zk_request_header a = { 9, ZK_OP_ADDWATCH };
    zk_request_header_write(&w, &a);
    jw_string(&w, "/zookeeper");
    jw_int(&w, ZK_ADDWATCH_PERSISTENT_RECURSIVE);
    frame(c, w.buf, w.len);
    jw_free(&w);
    jw_reset(&c->out);
}

static void make_server(zk_config *cfg, zk_server *s, const char *extra)
{
    char *err = NULL;
    char *text = g_strdup_printf("tickTime=2000\ndataDir=/nonexistent/zkfs-fuzz\nclientPort=2181\n%s", extra);
    if (zk_config_parse_string(text, "fuzz.cfg", NULL, cfg, NULL, NULL, &err) < 0)
        abort();
    g_free(text);
    server_init(s, cfg);
    request_init_delivery(s);
    populate(s, 1);
    populate(s, 2);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    zk_log_enabled = false;
    make_server(&cfg_all, &srv_all, "4lw.commands.whitelist=*\n");
    make_server(&cfg_default, &srv_default, "");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    uint8_t conf = fz_u8(&in);
    size_t split = fz_u8(&in);
    const uint8_t *p;
    size_t len = fz_rest(&in, &p);
    zk_server *s = conf & 1 ? &srv_default : &srv_all;
    zk_conn *c = conn_new_memory(s, "127.0.0.1", 45000);
    conn_ref(c);
    if (split > len)
        split = len;
    conn_receive(c, p, split);
    conn_receive(c, p + split, len - split);
    char word[5] = { 0 };
    if (len >= 4)
        memcpy(word, p, 4);
    if (len >= 4 && zk_fourlw_known(word)) {
        FZ_CHECK(c->out.len > 0 || strcmp(word, "stmk") == 0 || strcmp(word, "hash") == 0,
                 "no answer to '%s'", word);
        FZ_CHECK(memchr(c->out.buf, 0, c->out.len) == NULL, "a NUL byte in the answer to '%s'", word);
        FZ_CHECK(c->closed, "the connection stays open after '%s'", word);
    } else if (c->out.len > 0) {
        FZ_CHECK(c->out.len >= 40 && zk_be32(c->out.buf) + 4 == c->out.len,
                 "%zu bytes that are no ConnectResponse frame", c->out.len);
    }
    conn_close(c, NULL);
    conn_unref(c);
    /* what the request pipeline queued (a createSession) is applied, so
     * state does not pile up across inputs beyond the session table */
    request_on_durable(s, s->last_zxid);
    return 0;
}
