/*
 * test_fourlw.c — the four-letter-word renderers (fourlw_render, fourlw.h)
 * and the AdminServer's command runner (admin_run_command) on an in-process
 * standalone server (memory connections, no sockets, no disk), against the
 * Apache ZooKeeper 3.8 captures in test/vectors/fourlw/ and
 * test/vectors/admin/: exact text where the output is deterministic, the
 * same labels/keys in the same order where it holds numbers and times.
 *
 * Run from the repository root (vectors are looked up as "test/vectors").
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <json-glib/json-glib.h>
#include <string.h>

#include "admin_http.h"
#include "config.h"
#include "conn.h"
#include "fourlw.h"
#include "request.h"
#include "server.h"

static zk_config cfg;
static zk_server srv;

static char *read_vector(const char *rel)
{
    static const char *const roots[] = { "test/vectors", "../test/vectors", "../../test/vectors" };
    for (size_t i = 0; i < G_N_ELEMENTS(roots); i++) {
        char *p = g_build_filename(roots[i], rel, NULL);
        char *text = NULL;
        gboolean ok = g_file_get_contents(p, &text, NULL, NULL);
        g_free(p);
        if (ok)
            return text;
    }
    fail_msg("vector %s not found (run from the repository root)", rel);
    return NULL;
}

static void frame(zk_conn *c, const void *payload, size_t len)
{
    uint8_t prefix[4];
    zk_put_be32(prefix, (uint32_t)len);
    conn_receive(c, prefix, 4);
    conn_receive(c, payload, len);
}

/* The capture's workload, in one session: /app/eph ephemeral, a data watch
 * on /app/eph and an exists watch on /app. */
static void populate(zk_server *s)
{
    zk_conn *c = conn_new_memory(s, "127.0.0.1", 30001);
    jute_writer w;
    jw_init(&w, 128);
    zk_connect_request cr = { 0, 0, 30000, 0, { "0123456789abcdef", 16 }, false, true };
    zk_connect_request_write(&w, &cr);
    frame(c, w.buf, w.len);
    request_on_durable(s, s->last_zxid);
    const char *paths[2] = { "/app", "/app/eph" };
    for (int i = 0; i < 2; i++) {
        jw_reset(&w);
        zk_request_header h = { 1 + i, ZK_OP_CREATE };
        zk_request_header_write(&w, &h);
        jw_string(&w, paths[i]);
        jw_buffer(&w, "x", 1);
        jw_int(&w, 1);
        jw_int(&w, ZK_PERM_ALL);
        jw_string(&w, "world");
        jw_string(&w, "anyone");
        jw_int(&w, i ? ZK_CREATE_EPHEMERAL : 0);
        frame(c, w.buf, w.len);
        request_on_durable(s, s->last_zxid);
    }
    int32_t ops[2] = { ZK_OP_GETDATA, ZK_OP_EXISTS };
    for (int i = 0; i < 2; i++) {
        jw_reset(&w);
        zk_request_header g = { 5 + i, ops[i] };
        zk_request_header_write(&w, &g);
        jw_string(&w, i ? "/app" : "/app/eph");
        jw_bool(&w, true);
        frame(c, w.buf, w.len);
        request_on_durable(s, s->last_zxid);
    }
    jw_free(&w);
    jw_reset(&c->out);
}

static int setup(void **state)
{
    (void)state;
    zk_log_enabled = false;
    char *err = NULL;
    const char *text = "tickTime=2000\ndataDir=/nonexistent/zkfs-unit\nclientPort=2181\n4lw.commands.whitelist=*\n";
    if (zk_config_parse_string(text, "unit.cfg", NULL, &cfg, NULL, NULL, &err) < 0)
        return -1;
    server_init(&srv, &cfg);
    request_init_delivery(&srv);
    populate(&srv);
    return 0;
}

static char *render(const char *word)
{
    GString *out = g_string_new(NULL);
    assert_true(fourlw_render(&srv, NULL, word, out));
    return g_string_free(out, FALSE);
}

/* The part of each line before sep (the whole line if it has none), for
 * lines that have sep; as a NULL-terminated vector (g_strfreev). */
static char **labels(const char *text, char sep)
{
    char **lines = g_strsplit(text, "\n", -1);
    GPtrArray *out = g_ptr_array_new();
    for (char **l = lines; *l; l++) {
        char *p = strchr(*l, sep);
        if (p)
            g_ptr_array_add(out, g_strndup(*l, (size_t)(p - *l)));
    }
    g_ptr_array_add(out, NULL);
    g_strfreev(lines);
    return (char **)g_ptr_array_free(out, FALSE);
}

static void assert_same_labels(const char *word, const char *vector, char sep)
{
    char *ours = render(word);
    char *theirs = read_vector(vector);
    char **a = labels(ours, sep), **b = labels(theirs, sep);
    guint na = g_strv_length(a), nb = g_strv_length(b);
    for (guint i = 0; i < MIN(na, nb); i++)
        if (strcmp(a[i], b[i]) != 0)
            fail_msg("%s line %u: label '%s', Apache '%s'", word, i + 1, a[i], b[i]);
    assert_int_equal(na, nb);
    g_strfreev(a);
    g_strfreev(b);
    g_free(ours);
    g_free(theirs);
}

/* Digits to N (and 0x<hex> to 0xH), to compare layouts. */
static char *skeleton(const char *text)
{
    GString *out = g_string_new(NULL);
    for (const char *p = text; *p;) {
        if (p[0] == '0' && p[1] == 'x') {
            g_string_append(out, "0xH");
            p += 2;
            while (g_ascii_isxdigit(*p))
                p++;
        } else if (g_ascii_isdigit(*p)) {
            g_string_append_c(out, 'N');
            while (g_ascii_isdigit(*p))
                p++;
        } else {
            g_string_append_c(out, *p++);
        }
    }
    return g_string_free(out, FALSE);
}

static void assert_same_skeleton(const char *word, const char *vector)
{
    char *ours = render(word), *theirs = read_vector(vector);
    char *a = skeleton(ours), *b = skeleton(theirs);
    assert_string_equal(a, b);
    g_free(a);
    g_free(b);
    g_free(ours);
    g_free(theirs);
}

static void assert_exact(const char *word, const char *vector)
{
    char *ours = render(word), *theirs = read_vector(vector);
    assert_string_equal(ours, theirs);
    g_free(ours);
    g_free(theirs);
}

static void test_exact_words(void **state)
{
    (void)state;
    assert_exact("ruok", "fourlw/ruok.txt");
    assert_exact("isro", "fourlw/isro.txt");
    assert_exact("gtmk", "fourlw/gtmk.txt");
}

static void test_srvr_conf_envi_labels(void **state)
{
    (void)state;
    assert_same_labels("srvr", "fourlw/srvr.txt", ':');
    assert_same_labels("conf", "fourlw/conf.txt", '=');
    assert_same_labels("envi", "fourlw/envi.txt", '=');
    assert_same_labels("dirs", "fourlw/dirs.txt", ':');
}

/* mntr: every key zkserver prints is one Apache prints, and zkserver has
 * at least 95% of Apache's keys (the rest are JVM or processor internals). */
static void test_mntr_keys(void **state)
{
    (void)state;
    char *ours = render("mntr"), *theirs = read_vector("fourlw/mntr.txt");
    char **a = labels(ours, '\t'), **b = labels(theirs, '\t');
    guint found = 0;
    for (char **k = a; *k; k++) {
        if (!g_strv_contains((const char *const *)b, *k))
            fail_msg("mntr key %s is not Apache's", *k);
        found++;
    }
    assert_true(found * 100 >= g_strv_length(b) * 95);
    g_strfreev(a);
    g_strfreev(b);
    g_free(ours);
    g_free(theirs);
}

static void test_watch_layouts(void **state)
{
    (void)state;
    /* the capture has 1 session watching 3 paths; ours 2: same layout */
    assert_same_skeleton("wchs", "fourlw/wchs.txt");
    char *wchc = render("wchc");
    char *sk = skeleton(wchc);
    /* paths in the order of Apache's HashSet (fourlw.c jset) */
    assert_string_equal(sk, "0xH\n\t/app/eph\n\t/app\n\n");
    g_free(sk);
    g_free(wchc);
    char *wchp = render("wchp");
    sk = skeleton(wchp);
    assert_string_equal(sk, "/app/eph\n\t0xH\n/app\n\t0xH\n\n");
    g_free(sk);
    g_free(wchp);
}

static void test_dump_sections(void **state)
{
    (void)state;
    char *ours = render("dump");
    const char *heads[] = { "SessionTracker dump:\n", "ephemeral nodes dump:\n", "Sessions with Ephemerals (1):\n",
                            "\t/app/eph\n", "Connections dump:\n" };
    const char *p = ours;
    for (size_t i = 0; i < G_N_ELEMENTS(heads); i++) {
        const char *q = strstr(p, heads[i]);
        if (!q)
            fail_msg("dump: no '%s' after offset %td in:\n%s", heads[i], p - ours, ours);
        p = q;
    }
    g_free(ours);
}

static void test_unknown_word(void **state)
{
    (void)state;
    GString *out = g_string_new(NULL);
    assert_false(fourlw_render(&srv, NULL, "xyzw", out));
    assert_int_equal(out->len, 0);
    g_string_free(out, TRUE);
}

static void test_trace_mask(void **state)
{
    (void)state;
    fourlw_set_trace_mask(42);
    char *t = render("gtmk");
    assert_string_equal(t, "42");
    g_free(t);
    fourlw_set_trace_mask(306);
}

static JsonObject *admin_json(const char *name, JsonParser **parser)
{
    char *text = admin_run_command(&srv, name, NULL);
    *parser = json_parser_new();
    assert_true(json_parser_load_from_data(*parser, text, -1, NULL));
    g_free(text);
    JsonNode *root = json_parser_get_root(*parser);
    assert_true(JSON_NODE_HOLDS_OBJECT(root));
    return json_node_get_object(root);
}

static void test_admin_commands(void **state)
{
    (void)state;
    JsonParser *p;
    JsonObject *o = admin_json("ruok", &p);
    assert_string_equal(json_object_get_string_member(o, "command"), "ruok");
    assert_true(json_object_get_null_member(o, "error"));
    g_object_unref(p);

    o = admin_json("wchs", &p);
    assert_string_equal(json_object_get_string_member(o, "command"), "watch_summary");
    assert_int_equal(json_object_get_int_member(o, "num_connections"), 1);
    assert_int_equal(json_object_get_int_member(o, "num_paths"), 2);
    assert_int_equal(json_object_get_int_member(o, "num_total_watches"), 2);
    g_object_unref(p);

    o = admin_json("watches_by_path", &p);
    JsonObject *m = json_object_get_object_member(o, "path_to_session_ids");
    assert_non_null(m);
    assert_true(json_object_has_member(m, "/app"));
    assert_true(json_object_has_member(m, "/app/eph"));
    g_object_unref(p);

    o = admin_json("dump", &p);
    m = json_object_get_object_member(o, "session_id_to_ephemeral_paths");
    assert_int_equal(json_object_get_size(m), 1);
    g_object_unref(p);

    /* the unknown command, exactly as Apache's capture */
    char *ours = admin_run_command(&srv, "nosuch", NULL);
    char *theirs = read_vector("admin/unknown_command.json");
    JsonParser *a = json_parser_new(), *b = json_parser_new();
    assert_true(json_parser_load_from_data(a, ours, -1, NULL));
    assert_true(json_parser_load_from_data(b, theirs, -1, NULL));
    assert_true(json_node_equal(json_parser_get_root(a), json_parser_get_root(b)));
    g_object_unref(a);
    g_object_unref(b);
    g_free(ours);
    g_free(theirs);

    o = admin_json("set_trace_mask", &p);
    assert_string_equal(json_object_get_string_member(o, "error"), "setTraceMask requires long traceMask argument");
    g_object_unref(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_words),
        cmocka_unit_test(test_srvr_conf_envi_labels),
        cmocka_unit_test(test_mntr_keys),
        cmocka_unit_test(test_watch_layouts),
        cmocka_unit_test(test_dump_sections),
        cmocka_unit_test(test_unknown_word),
        cmocka_unit_test(test_trace_mask),
        cmocka_unit_test(test_admin_commands),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
