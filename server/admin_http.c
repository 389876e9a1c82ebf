/*
 * admin_http.c — the AdminServer: Apache ZooKeeper 3.8's Jetty admin server
 * (admin.enableServer, admin.serverAddress, admin.serverPort 8080,
 * admin.commandURL /commands, admin.idleTimeout), JSON at
 * <commandURL>/<command>, with Apache's command names, aliases and JSON
 * field names (test/vectors/admin/ holds real Apache 3.8 captures).
 *
 * HTTP is libmicrohttpd in its external-epoll mode (http_server.c, shared
 * with the /metrics endpoint): the daemon's epoll fd
 * is watched by the server's event loop, so every command runs on the loop
 * thread and reads the server state without locks.  JSON is json-glib.
 *
 * Bounds on hostile HTTP: libmicrohttpd's per-connection memory limit caps
 * the request line and headers (it answers 414/431 itself); connections in
 * all and per IP are limited; idle connections time out after
 * admin.idleTimeout; only GET and HEAD are served (others: 405); a request
 * body is never read; a query argument longer than 64 bytes is refused.
 *
 * Where a command's content is what a four-letter word prints, the JSON
 * is built from that word's renderer (fourlw.h), so both stay consistent.
 *
 * Ownership: the daemon is process-wide (one server per process) and owned
 * here; every JSON document and response is freed before returning.
 */
#include "admin_http.h"
#include "http_server.h"
#include "conn.h"
#include "fourlw.h"
#include "quorum.h"
#include "readonly.h"
#include "session.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <json-glib/json-glib.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define ADMIN_MAX_URL 512           /* longer URLs are answered 414 */
#define ADMIN_MAX_ARG 64            /* query argument values */
#define ADMIN_MEMORY_LIMIT (16 * 1024)
#define ADMIN_MAX_CONNECTIONS 64
#define ADMIN_MAX_PER_IP 32

static http_server *http_ = NULL;   /* owned */
static zk_server *server_ = NULL;

/* ------------------------------------------------------------------ */
/* helpers                                                             */
/* ------------------------------------------------------------------ */

/* Renders a four-letter word into a new string (owned by the caller). */
static char *render_word(zk_server *s, const char *word)
{
    GString *out = g_string_new(NULL);
    fourlw_render(s, NULL, word, out);
    return g_string_free(out, FALSE);
}

static bool not_serving(const char *text)
{
    return g_str_has_prefix(text, "This ZooKeeper instance is not currently serving");
}

/* Adds a number or string value parsed from 4lw text: integers as integers,
 * decimals as doubles, anything else as a string. */
static void add_parsed_value(JsonBuilder *b, const char *v)
{
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (*v && end && *end == '\0' && errno == 0) {
        json_builder_add_int_value(b, n);
        return;
    }
    double d = g_ascii_strtod(v, &end);
    if (*v && end && *end == '\0' && strchr(v, '.')) {
        json_builder_add_double_value(b, d);
        return;
    }
    json_builder_add_string_value(b, v);
}

static int64_t parse_hex_id(const char *p)
{
    if (g_str_has_prefix(p, "0x"))
        p += 2;
    return (int64_t)g_ascii_strtoull(p, NULL, 16);
}

/* Appends "<path>": [ids...] or "<id>": [paths...] objects from the
 * "head\n\titem\n" layout of wchc, wchp and the ephemerals dump, until a
 * line that is neither a head nor an item (or the end).  ids_are_heads:
 * heads are hex session ids (printed as decimal keys); items are the other
 * kind.  Returns the pointer after the consumed lines. */
static const char *add_grouped(JsonBuilder *b, const char *text, bool heads_are_ids, bool stop_on_plain)
{
    char **lines = g_strsplit(text, "\n", -1);
    bool open = false;
    size_t consumed = 0;
    for (char **l = lines; *l; l++) {
        if (**l == '\0') {
            consumed += 1;
            continue;
        }
        if (**l == '\t') {
            if (!open)
                break;
            const char *item = *l + 1;
            if (heads_are_ids)
                json_builder_add_string_value(b, item);
            else
                json_builder_add_int_value(b, parse_hex_id(item));
            consumed += strlen(*l) + 1;
            continue;
        }
        if (stop_on_plain && !g_str_has_prefix(*l, "0x"))
            break;
        if (open)
            json_builder_end_array(b);
        char *key;
        size_t len = strlen(*l);
        char *head = g_strndup(*l, len && (*l)[len - 1] == ':' ? len - 1 : len);
        if (heads_are_ids)
            key = g_strdup_printf("%" G_GINT64_FORMAT, parse_hex_id(head));
        else
            key = g_strdup(head);
        json_builder_set_member_name(b, key);
        json_builder_begin_array(b);
        open = true;
        g_free(key);
        g_free(head);
        consumed += strlen(*l) + 1;
    }
    if (open)
        json_builder_end_array(b);
    g_strfreev(lines);
    return text + MIN(consumed, strlen(text));
}

/* The value after "key: " or "key=" in 4lw text, as a new string or NULL. */
static char *text_value(const char *text, const char *key, char sep)
{
    char **lines = g_strsplit(text, "\n", -1);
    char *found = NULL;
    size_t klen = strlen(key);
    for (char **l = lines; *l && !found; l++)
        if (strncmp(*l, key, klen) == 0 && (*l)[klen] == sep)
            found = g_strdup(g_strstrip(*l + klen + 1));
    g_strfreev(lines);
    return found;
}

static int64_t text_int(const char *text, const char *key, char sep)
{
    char *v = text_value(text, key, sep);
    int64_t n = v ? g_ascii_strtoll(v, NULL, 10) : 0;
    g_free(v);
    return n;
}

typedef struct cmd_ctx {
    zk_server *s;
    JsonBuilder *b;
    struct MHD_Connection *conn;
    const char *error;        /* set to report an error (static or in err_buf) */
    char err_buf[160];
} cmd_ctx;

/* ------------------------------------------------------------------ */
/* commands                                                            */
/* ------------------------------------------------------------------ */

static void cmd_ruok(cmd_ctx *c) { (void)c; }

static void cmd_configuration(cmd_ctx *c)
{
    const zk_config *cfg = c->s->cfg;
    JsonBuilder *b = c->b;
    char *data = g_build_filename(cfg->data_dir, "version-2", NULL);
    char *log = g_build_filename(cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir, "version-2", NULL);
    json_builder_set_member_name(b, "client_port");
    json_builder_add_int_value(b, cfg->client_port);
    json_builder_set_member_name(b, "data_dir");
    json_builder_add_string_value(b, data);
    json_builder_set_member_name(b, "data_log_dir");
    json_builder_add_string_value(b, log);
    json_builder_set_member_name(b, "tick_time");
    json_builder_add_int_value(b, cfg->tick_time);
    json_builder_set_member_name(b, "max_client_cnxns");
    json_builder_add_int_value(b, cfg->max_client_cnxns);
    json_builder_set_member_name(b, "min_session_timeout");
    json_builder_add_int_value(b, cfg->min_session_timeout);
    json_builder_set_member_name(b, "max_session_timeout");
    json_builder_add_int_value(b, cfg->max_session_timeout);
    json_builder_set_member_name(b, "server_id");
    json_builder_add_int_value(b, cfg->myid);
    json_builder_set_member_name(b, "client_port_listen_backlog");
    json_builder_add_int_value(b, -1);
    g_free(data);
    g_free(log);
}

static void discard_word(cmd_ctx *c, const char *word)
{
    g_free(render_word(c->s, word));
}

static void cmd_connection_stat_reset(cmd_ctx *c) { discard_word(c, "crst"); }
static void cmd_stat_reset(cmd_ctx *c) { discard_word(c, "srst"); }
/* Apache resets its observers' connection stats on a leader (and on a
 * follower's observer master, which zkserver does not have). */
static void cmd_observer_connection_stat_reset(cmd_ctx *c)
{
    if (c->s->quorum && c->s->role == SERVER_LEADING)
        quorum_reset_observer_stats(c->s->quorum);
}

static gint compare_fd(gconstpointer a, gconstpointer b)
{
    const zk_conn *x = *(zk_conn *const *)a, *y = *(zk_conn *const *)b;
    return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/* Apache's ServerCnxn.getConnectionInfo(brief=false). */
static void add_connection(JsonBuilder *b, const zk_conn *k)
{
    char remote[INET6_ADDRSTRLEN + 16];
    snprintf(remote, sizeof remote, strchr(k->addr, ':') ? "[%s]:%d" : "%s:%d", k->addr, k->port);
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "remote_socket_address");
    json_builder_add_string_value(b, remote);
    json_builder_set_member_name(b, "interest_ops");
    json_builder_add_int_value(b, conn_throttled(k) ? 0 : 1);
    json_builder_set_member_name(b, "outstanding_requests");
    json_builder_add_int_value(b, k->outstanding);
    json_builder_set_member_name(b, "packets_received");
    json_builder_add_int_value(b, (int64_t)k->packets_received);
    json_builder_set_member_name(b, "packets_sent");
    json_builder_add_int_value(b, (int64_t)k->packets_sent);
    if (k->session_id != 0) {
        json_builder_set_member_name(b, "session_id");
        json_builder_add_int_value(b, k->session_id);
        json_builder_set_member_name(b, "last_operation");
        json_builder_add_string_value(b, k->last_op ? k->last_op : "NA");
        json_builder_set_member_name(b, "established");
        json_builder_add_int_value(b, k->wall_connected_ms);
        json_builder_set_member_name(b, "session_timeout");
        json_builder_add_int_value(b, k->session_timeout);
        json_builder_set_member_name(b, "last_cxid");
        json_builder_add_int_value(b, k->last_cxid);
        json_builder_set_member_name(b, "last_zxid");
        json_builder_add_int_value(b, k->last_zxid);
        json_builder_set_member_name(b, "last_response_time");
        json_builder_add_int_value(b, k->last_response_ms);
        json_builder_set_member_name(b, "last_latency");
        json_builder_add_int_value(b, k->last_latency);
        json_builder_set_member_name(b, "min_latency");
        json_builder_add_int_value(b, k->latency_count ? k->min_latency : 0);
        json_builder_set_member_name(b, "avg_latency");
        json_builder_add_int_value(b, k->latency_count ? k->total_latency / k->latency_count : 0);
        json_builder_set_member_name(b, "max_latency");
        json_builder_add_int_value(b, k->max_latency);
    }
    json_builder_end_object(b);
}

static void add_connections(cmd_ctx *c)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, c->s->conns);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        zk_conn *k = value;
        if (!k->closed && !k->memory && k->state != CONN_CLOSING)
            g_ptr_array_add(list, k);
    }
    g_ptr_array_sort(list, compare_fd);
    json_builder_set_member_name(c->b, "connections");
    json_builder_begin_array(c->b);
    for (guint i = 0; i < list->len; i++)
        add_connection(c->b, list->pdata[i]);
    json_builder_end_array(c->b);
    json_builder_set_member_name(c->b, "secure_connections");
    json_builder_begin_array(c->b);
    json_builder_end_array(c->b);
    g_ptr_array_free(list, TRUE);
}

static void cmd_connections(cmd_ctx *c) { add_connections(c); }

static void cmd_dirs(cmd_ctx *c)
{
    char *t = render_word(c->s, "dirs");
    json_builder_set_member_name(c->b, "datadir_size");
    json_builder_add_int_value(c->b, text_int(t, "datadir_size", ':'));
    json_builder_set_member_name(c->b, "logdir_size");
    json_builder_add_int_value(c->b, text_int(t, "logdir_size", ':'));
    g_free(t);
}

static gint compare_i64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static gint compare_i64_data(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    return compare_i64(a, b);
}

static void unref_array(gpointer p)
{
    g_array_unref(p);
}

static void cmd_dump(cmd_ctx *c)
{
    JsonBuilder *b = c->b;
    /* expiry (monotonic ms, tick-rounded, as Apache's elapsed-time keys) -> ids */
    GTree *by_expiry = g_tree_new_full(compare_i64_data, NULL, g_free, unref_array);
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, c->s->sessions.by_id);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        const zk_session *sess = value;
        GArray *ids = g_tree_lookup(by_expiry, &sess->expire_at);
        if (!ids) {
            int64_t *k = g_new(int64_t, 1);
            *k = sess->expire_at;
            ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
            g_tree_insert(by_expiry, k, ids);
        }
        g_array_append_val(ids, sess->id);
    }
    json_builder_set_member_name(b, "expiry_time_to_session_ids");
    json_builder_begin_object(b);
    GTreeNode *n = g_tree_node_first(by_expiry);
    for (; n; n = g_tree_node_next(n)) {
        char k[24];
        snprintf(k, sizeof k, "%" G_GINT64_FORMAT, *(int64_t *)g_tree_node_key(n));
        GArray *ids = g_tree_node_value(n);
        g_array_sort(ids, compare_i64);
        json_builder_set_member_name(b, k);
        json_builder_begin_array(b);
        for (guint i = 0; i < ids->len; i++)
            json_builder_add_int_value(b, g_array_index(ids, int64_t, i));
        json_builder_end_array(b);
    }
    json_builder_end_object(b);
    g_tree_destroy(by_expiry);

    json_builder_set_member_name(b, "session_id_to_ephemeral_paths");
    json_builder_begin_object(b);
    char *t = render_word(c->s, "dump");
    const char *eph = strstr(t, "Sessions with Ephemerals");
    if (eph && (eph = strchr(eph, '\n')))
        add_grouped(b, eph + 1, true, true);
    g_free(t);
    json_builder_end_object(b);
}

static void cmd_environment(cmd_ctx *c)
{
    char *t = render_word(c->s, "envi");
    char **lines = g_strsplit(t, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (!eq)
            continue;
        *eq = '\0';
        json_builder_set_member_name(c->b, *l);
        json_builder_add_string_value(c->b, eq + 1);
    }
    g_strfreev(lines);
    g_free(t);
}

static void cmd_get_trace_mask(cmd_ctx *c)
{
    json_builder_set_member_name(c->b, "tracemask");
    json_builder_add_int_value(c->b, fourlw_trace_mask());
}

static void cmd_set_trace_mask(cmd_ctx *c)
{
    const char *v = c->conn ? MHD_lookup_connection_value(c->conn, MHD_GET_ARGUMENT_KIND, "traceMask") : NULL;
    char *end = NULL;
    long long mask = 0;
    bool ok = false;
    if (v && strlen(v) <= ADMIN_MAX_ARG) {
        errno = 0;
        mask = strtoll(v, &end, 10);
        ok = *v && *end == '\0' && errno == 0;
    }
    if (!ok) {
        if (!v)
            c->error = "setTraceMask requires long traceMask argument";
        else {
            snprintf(c->err_buf, sizeof c->err_buf, "setTraceMask requires long traceMask argument, got %.*s",
                     ADMIN_MAX_ARG, v);
            c->error = c->err_buf;
        }
        return;
    }
    fourlw_set_trace_mask(mask);
    cmd_get_trace_mask(c);
}

static void cmd_hash(cmd_ctx *c)
{
    json_builder_set_member_name(c->b, "digests");
    json_builder_begin_array(c->b);
    json_builder_end_array(c->b);
}

static void cmd_initial_configuration(cmd_ctx *c)
{
    char *text = NULL;
    if (!c->s->cfg->path || !g_file_get_contents(c->s->cfg->path, &text, NULL, NULL))
        text = g_strdup("");
    json_builder_set_member_name(c->b, "initial_configuration");
    json_builder_add_string_value(c->b, text);
    g_free(text);
}

static void cmd_is_read_only(cmd_ctx *c)
{
    char *t = render_word(c->s, "isro");
    json_builder_set_member_name(c->b, "read_only");
    json_builder_add_boolean_value(c->b, g_str_has_prefix(t, "ro"));
    g_free(t);
}

/* The newest snapshot file in the data directory: its zxid (from the name
 * snapshot.<hex>) and modification time in seconds. */
static void cmd_last_snapshot(cmd_ctx *c)
{
    int64_t best = -1, when = 0;
    DIR *d = opendir(c->s->data_dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!g_str_has_prefix(e->d_name, "snapshot."))
                continue;
            char *end = NULL;
            int64_t z = (int64_t)g_ascii_strtoull(e->d_name + 9, &end, 16);
            if (!end || *end != '\0' || z <= best)
                continue;
            char *p = g_build_filename(c->s->data_dir, e->d_name, NULL);
            struct stat st;
            if (stat(p, &st) == 0) {
                best = z;
                when = st.st_mtime;
            }
            g_free(p);
        }
        closedir(d);
    }
    char hex[24];
    snprintf(hex, sizeof hex, "%" G_GINT64_MODIFIER "x", (uint64_t)(best < 0 ? 0 : best));
    json_builder_set_member_name(c->b, "zxid");
    json_builder_add_string_value(c->b, hex);
    json_builder_set_member_name(c->b, "timestamp");
    json_builder_add_int_value(c->b, when);
}

static void cmd_leader(cmd_ctx *c)
{
    quorum_stats st;
    /* Apache's LeaderCommand: only a QuorumZooKeeperServer answers (a
     * read-only server is not one). */
    if (!c->s->quorum || !server_is_serving(c->s) || readonly_active(c->s)) {
        c->error = "server is not initialized";
        return;
    }
    memset(&st, 0, sizeof st);
    quorum_get_stats(c->s->quorum, &st);
    json_builder_set_member_name(c->b, "is_leader");
    json_builder_add_boolean_value(c->b, c->s->role == SERVER_LEADING);
    json_builder_set_member_name(c->b, "leader_id");
    json_builder_add_int_value(c->b, st.leader_sid);
    const zk_peer_config *leader = NULL;
    for (guint i = 0; i < c->s->cfg->peers->len; i++) {
        const zk_peer_config *p = c->s->cfg->peers->pdata[i];
        if (p->sid == st.leader_sid)
            leader = p;
    }
    json_builder_set_member_name(c->b, "leader_ip");
    json_builder_add_string_value(c->b, leader ? leader->host : "");
}

static void cmd_monitor(cmd_ctx *c)
{
    char *t = render_word(c->s, "mntr");
    if (not_serving(t)) {
        g_free(t);
        c->error = "This ZooKeeper instance is not currently serving requests";
        return;
    }
    char **lines = g_strsplit(t, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *tab = strchr(*l, '\t');
        if (!tab)
            continue;
        *tab = '\0';
        const char *name = g_str_has_prefix(*l, "zk_") ? *l + 3 : *l;
        json_builder_set_member_name(c->b, name);
        if (strcmp(name, "version") == 0 || strcmp(name, "server_state") == 0)
            json_builder_add_string_value(c->b, tab + 1);
        else
            add_parsed_value(c->b, tab + 1);
    }
    g_strfreev(lines);
    g_free(t);
}

/* Apache's SyncedObserverConsCommand: on a leader its observingLearners,
 * each as LearnerHandler.getLearnerHandlerInfo (the keys in its order);
 * elsewhere 0 and [] (zkserver has no observer masters on followers). */
static void cmd_observers(cmd_ctx *c)
{
    GArray *obs = c->s->quorum && c->s->role == SERVER_LEADING ? quorum_observers(c->s->quorum) : NULL;
    json_builder_set_member_name(c->b, "synced_observers");
    json_builder_add_int_value(c->b, obs ? (gint64)obs->len : 0);
    json_builder_set_member_name(c->b, "observers");
    json_builder_begin_array(c->b);
    for (guint i = 0; obs && i < obs->len; i++) {
        const quorum_learner_info *li = &g_array_index(obs, quorum_learner_info, i);
        json_builder_begin_object(c->b);
        json_builder_set_member_name(c->b, "remote_socket_address");
        json_builder_add_string_value(c->b, li->remote_address);
        json_builder_set_member_name(c->b, "sid");
        json_builder_add_int_value(c->b, li->sid);
        json_builder_set_member_name(c->b, "established");
        json_builder_add_int_value(c->b, li->established_ms);   /* Jackson writes a Date as epoch ms */
        json_builder_set_member_name(c->b, "queued_packets");
        json_builder_add_int_value(c->b, (gint64)li->queued_packets);
        json_builder_set_member_name(c->b, "queued_packets_size");
        json_builder_add_int_value(c->b, (gint64)li->queued_bytes);
        json_builder_set_member_name(c->b, "packets_received");
        json_builder_add_int_value(c->b, (gint64)li->packets_received);
        json_builder_set_member_name(c->b, "packets_sent");
        json_builder_add_int_value(c->b, (gint64)li->packets_sent);
        json_builder_set_member_name(c->b, "requests");
        json_builder_add_int_value(c->b, (gint64)li->requests);
        json_builder_set_member_name(c->b, "last_zxid");
        json_builder_add_int_value(c->b, li->last_zxid);
        json_builder_end_object(c->b);
    }
    json_builder_end_array(c->b);
    if (obs)
        g_array_free(obs, TRUE);
}

static void add_response_stats(JsonBuilder *b, const zk_server *s)
{
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "last_buffer_size");
    json_builder_add_int_value(b, s->last_response_size);
    json_builder_set_member_name(b, "min_buffer_size");
    json_builder_add_int_value(b, s->min_response_size);
    json_builder_set_member_name(b, "max_buffer_size");
    json_builder_add_int_value(b, s->max_response_size);
    json_builder_end_object(b);
}

/* Apache's StatCommand / StatsCommand (ServerStats as JSON). */
static void add_server_stats(cmd_ctx *c)
{
    zk_server *s = c->s;
    JsonBuilder *b = c->b;
    if (!server_is_serving(s)) {
        c->error = "This ZooKeeper instance is not currently serving requests";
        return;
    }
    char *mntr = render_word(s, "mntr");
    char *dirs = render_word(s, "dirs");
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, server_version());
    json_builder_set_member_name(b, "read_only");
    json_builder_add_boolean_value(b, false);
    json_builder_set_member_name(b, "server_stats");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "packets_sent");
    json_builder_add_int_value(b, (int64_t)s->packets_sent);
    json_builder_set_member_name(b, "packets_received");
    json_builder_add_int_value(b, (int64_t)s->packets_received);
    json_builder_set_member_name(b, "fsync_threshold_exceed_count");
    json_builder_add_int_value(b, 0);
    json_builder_set_member_name(b, "client_response_stats");
    add_response_stats(b, s);
    json_builder_set_member_name(b, "data_dir_size");
    json_builder_add_int_value(b, text_int(dirs, "datadir_size", ':'));
    json_builder_set_member_name(b, "log_dir_size");
    json_builder_add_int_value(b, text_int(dirs, "logdir_size", ':'));
    json_builder_set_member_name(b, "provider_null");
    json_builder_add_boolean_value(b, false);
    json_builder_set_member_name(b, "server_state");
    json_builder_add_string_value(b, server_mode_name(s));
    json_builder_set_member_name(b, "last_processed_zxid");
    json_builder_add_int_value(b, s->last_zxid);
    json_builder_set_member_name(b, "outstanding_requests");
    json_builder_add_int_value(b, s->outstanding);
    json_builder_set_member_name(b, "avg_latency");
    json_builder_add_double_value(b, s->latency_count ? (double)s->total_latency / (double)s->latency_count : 0.0);
    json_builder_set_member_name(b, "max_latency");
    json_builder_add_int_value(b, s->max_latency);
    json_builder_set_member_name(b, "min_latency");
    json_builder_add_int_value(b, s->latency_count ? s->min_latency : 0);
    json_builder_set_member_name(b, "num_alive_client_connections");
    json_builder_add_int_value(b, text_int(mntr, "zk_num_alive_connections", '\t'));
    json_builder_set_member_name(b, "auth_failed_count");
    json_builder_add_int_value(b, (int64_t)s->auth_failed_count);
    json_builder_set_member_name(b, "non_mtlsremote_conn_count");
    json_builder_add_int_value(b, 0);
    json_builder_set_member_name(b, "non_mtlslocal_conn_count");
    json_builder_add_int_value(b, 0);
    json_builder_set_member_name(b, "uptime");
    json_builder_add_int_value(b, text_int(mntr, "zk_uptime", '\t'));
    json_builder_end_object(b);
    json_builder_set_member_name(b, "client_response");
    add_response_stats(b, s);
    json_builder_set_member_name(b, "node_count");
    json_builder_add_int_value(b, text_int(mntr, "zk_znode_count", '\t'));
    g_free(mntr);
    g_free(dirs);
}

static void cmd_server_stats(cmd_ctx *c) { add_server_stats(c); }

static void cmd_stats(cmd_ctx *c)
{
    add_server_stats(c);
    if (!c->error)
        add_connections(c);
}

/* envi keys that are Java system properties too (the others, such as
 * os.memory.free, are not). */
static const char *const sysprop_keys[] = {
    "java.version", "java.vendor", "java.home", "java.class.path", "java.library.path", "java.io.tmpdir",
    "os.name", "os.arch", "os.version", "user.name", "user.home", "user.dir",
};

static void cmd_system_properties(cmd_ctx *c)
{
    /* There is no JVM: the stand-ins envi prints (see fourlw.c), plus the
     * separators every JVM has. */
    char *t = render_word(c->s, "envi");
    char **lines = g_strsplit(t, "\n", -1);
    for (char **l = lines; *l; l++) {
        char *eq = strchr(*l, '=');
        if (!eq)
            continue;
        *eq = '\0';
        for (size_t i = 0; i < G_N_ELEMENTS(sysprop_keys); i++)
            if (strcmp(*l, sysprop_keys[i]) == 0) {
                json_builder_set_member_name(c->b, *l);
                json_builder_add_string_value(c->b, eq + 1);
            }
    }
    g_strfreev(lines);
    g_free(t);
    json_builder_set_member_name(c->b, "file.separator");
    json_builder_add_string_value(c->b, "/");
    json_builder_set_member_name(c->b, "line.separator");
    json_builder_add_string_value(c->b, "\n");
    json_builder_set_member_name(c->b, "path.separator");
    json_builder_add_string_value(c->b, ":");
}

static void cmd_voting_view(cmd_ctx *c)
{
    const zk_config *cfg = c->s->cfg;
    json_builder_set_member_name(c->b, "current_config");
    json_builder_begin_object(c->b);
    for (guint i = 0; c->s->quorum && i < cfg->peers->len; i++) {
        const zk_peer_config *p = cfg->peers->pdata[i];
        if (p->observer)
            continue;
        char k[16];
        snprintf(k, sizeof k, "%d", p->sid);
        char *v = g_strdup_printf("%s:%d:%d:participant;%s:%d", p->host, p->quorum_port, p->election_port,
                                  p->client_host ? p->client_host : "0.0.0.0", p->client_port);
        json_builder_set_member_name(c->b, k);
        json_builder_add_string_value(c->b, v);
        g_free(v);
    }
    json_builder_end_object(c->b);
}

static void cmd_watch_summary(cmd_ctx *c)
{
    char *t = render_word(c->s, "wchs");
    long conns = 0, paths = 0, total = 0;
    if (sscanf(t, "%ld connections watching %ld paths", &conns, &paths) != 2)
        conns = paths = 0;
    const char *tw = strstr(t, "Total watches:");
    if (tw)
        total = strtol(tw + strlen("Total watches:"), NULL, 10);
    json_builder_set_member_name(c->b, "num_connections");
    json_builder_add_int_value(c->b, conns);
    json_builder_set_member_name(c->b, "num_paths");
    json_builder_add_int_value(c->b, paths);
    json_builder_set_member_name(c->b, "num_total_watches");
    json_builder_add_int_value(c->b, total);
    g_free(t);
}

/* MEMBER: the grouped lines of WORD (wchc or wchp) as an object, empty
 * when the server is not serving.  heads_are_ids as for add_grouped. */
static void add_watch_groups(cmd_ctx *c, const char *word, const char *member, bool heads_are_ids)
{
    char *t = render_word(c->s, word);
    json_builder_set_member_name(c->b, member);
    json_builder_begin_object(c->b);
    if (!not_serving(t))
        add_grouped(c->b, t, heads_are_ids, false);
    json_builder_end_object(c->b);
    g_free(t);
}

static void cmd_watches(cmd_ctx *c)
{
    add_watch_groups(c, "wchc", "session_id_to_watched_paths", true);
}

static void cmd_watches_by_path(cmd_ctx *c)
{
    add_watch_groups(c, "wchp", "path_to_session_ids", false);
}

static void cmd_zabstate(cmd_ctx *c)
{
    const char *state = "";
    bool voting = false;
    /* Apache's ZabStateCommand answers for a QuorumZooKeeperServer only; a
     * read-only server is not one: voting false, zabstate "" as standalone. */
    if (c->s->quorum && !readonly_active(c->s)) {
        voting = c->s->role != SERVER_OBSERVING;
        state = server_is_serving(c->s) ? "broadcast" : "election";
    }
    json_builder_set_member_name(c->b, "voting");
    json_builder_add_boolean_value(c->b, voting);
    json_builder_set_member_name(c->b, "zabstate");
    json_builder_add_string_value(c->b, state);
}

typedef struct admin_cmd {
    const char *names[4];     /* names[0] is the primary name (the "command" field) */
    void (*run)(cmd_ctx *c);
} admin_cmd;

/* Apache 3.8.0's Commands, sorted by primary name as /commands lists them. */
static const admin_cmd commands[] = {
    { { "configuration", "conf", "config" }, cmd_configuration },
    { { "connection_stat_reset", "crst" }, cmd_connection_stat_reset },
    { { "connections", "cons" }, cmd_connections },
    { { "dirs" }, cmd_dirs },
    { { "dump" }, cmd_dump },
    { { "environment", "env", "envi" }, cmd_environment },
    { { "get_trace_mask", "gtmk" }, cmd_get_trace_mask },
    { { "hash" }, cmd_hash },
    { { "initial_configuration", "icfg" }, cmd_initial_configuration },
    { { "is_read_only", "isro" }, cmd_is_read_only },
    { { "last_snapshot", "lsnp" }, cmd_last_snapshot },
    { { "leader", "lead" }, cmd_leader },
    { { "monitor", "mntr" }, cmd_monitor },
    { { "observer_connection_stat_reset", "orst" }, cmd_observer_connection_stat_reset },
    { { "observers", "obsr" }, cmd_observers },
    { { "ruok" }, cmd_ruok },
    { { "server_stats", "srvr" }, cmd_server_stats },
    { { "set_trace_mask", "stmk" }, cmd_set_trace_mask },
    { { "stat_reset", "srst" }, cmd_stat_reset },
    { { "stats", "stat" }, cmd_stats },
    { { "system_properties", "sysp" }, cmd_system_properties },
    { { "voting_view" }, cmd_voting_view },
    { { "watch_summary", "wchs" }, cmd_watch_summary },
    { { "watches", "wchc" }, cmd_watches },
    { { "watches_by_path", "wchp" }, cmd_watches_by_path },
    { { "zabstate" }, cmd_zabstate },
};

static const admin_cmd *find_command(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
        for (size_t n = 0; n < G_N_ELEMENTS(commands[i].names) && commands[i].names[n]; n++)
            if (strcmp(commands[i].names[n], name) == 0)
                return &commands[i];
    return NULL;
}

char *admin_run_command(zk_server *s, const char *name, struct MHD_Connection *conn)
{
    const admin_cmd *cmd = find_command(name);
    JsonBuilder *b = json_builder_new();
    json_builder_begin_object(b);
    cmd_ctx c = { .s = s, .b = b, .conn = conn };
    if (cmd) {
        cmd->run(&c);
    } else {
        snprintf(c.err_buf, sizeof c.err_buf, "Unknown command: %.100s", name);
        c.error = c.err_buf;
    }
    if (c.error && cmd) {
        /* Apache puts "error" before "command" when a command fails */
        json_builder_set_member_name(b, "error");
        json_builder_add_string_value(b, c.error);
    }
    json_builder_set_member_name(b, "command");
    json_builder_add_string_value(b, cmd ? cmd->names[0] : name);
    if (!c.error || !cmd) {
        json_builder_set_member_name(b, "error");
        if (c.error)
            json_builder_add_string_value(b, c.error);
        else
            json_builder_add_null_value(b);
    }
    json_builder_end_object(b);
    JsonGenerator *g = json_generator_new();
    JsonNode *root = json_builder_get_root(b);
    json_generator_set_root(g, root);
    json_generator_set_pretty(g, TRUE);
    json_generator_set_indent(g, 2);
    char *text = json_generator_to_data(g, NULL);
    json_node_unref(root);
    g_object_unref(g);
    g_object_unref(b);
    return text;
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    zk_server *s = server_;
    const char *base = s->cfg->admin_command_url;
    size_t blen = strlen(base);
    while (blen > 1 && base[blen - 1] == '/')
        blen--;
    bool get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
    if (!get) {
        *upload_data_size = 0;   /* the body is never read */
        return http_respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "HTTP method not supported by this URL");
    }
    if (strlen(url) > ADMIN_MAX_URL)
        return http_respond_error(conn, MHD_HTTP_URI_TOO_LONG, "URI Too Long");
    if (strncmp(url, base, blen) != 0 || (url[blen] != '\0' && url[blen] != '/'))
        return http_respond_error(conn, MHD_HTTP_NOT_FOUND, "Not Found");
    const char *name = url + blen;
    while (*name == '/')
        name++;
    if (*name == '\0' || strchr(name, '/')) {
        /* the command list, as Apache's CommandListServlet */
        GString *out = g_string_new(NULL);
        for (size_t i = 0; i < G_N_ELEMENTS(commands); i++)
            g_string_append_printf(out, "<a href=\"%.*s/%s\">%s</a>\n<br/>\n", (int)blen, base,
                                   commands[i].names[0], commands[i].names[0]);
        enum MHD_Result r = http_respond(conn, MHD_HTTP_OK, "text/html", out->str);
        g_string_free(out, TRUE);
        return r;
    }
    char *json = admin_run_command(s, name, conn);
    enum MHD_Result r = http_respond(conn, MHD_HTTP_OK, "application/json", json);
    g_free(json);
    return r;
}

int admin_start(zk_server *s)
{
    const zk_config *cfg = s->cfg;
    if (!cfg->admin_enable || http_)
        return 0;
    const char *host = cfg->admin_address;
    server_ = s;
    http_server_opts o = {
        .name = "AdminServer",
        .host = host,
        .port = cfg->admin_port,
        .idle_timeout_s = (unsigned)((cfg->admin_idle_timeout + 999) / 1000),
        .max_connections = ADMIN_MAX_CONNECTIONS,
        .max_per_ip = ADMIN_MAX_PER_IP,
        .memory_limit = ADMIN_MEMORY_LIMIT,
        .handler = on_request,
    };
    http_start_result why;
    http_ = http_server_start(s->loop, &o, &why);
    if (!http_) {
        /* As Apache: the server runs on without its AdminServer. */
        if (why == HTTP_START_BAD_ADDRESS)
            LOG_WARN("Problem starting AdminServer: admin.serverAddress %s is not an IP address", host);
        else if (why == HTTP_START_NO_EPOLL)
            LOG_WARN("Problem starting AdminServer: no epoll descriptor");
        else
            LOG_WARN("Problem starting AdminServer on %s:%d: %s", host, cfg->admin_port, g_strerror(errno));
        server_ = NULL;
        return -1;
    }
    LOG_INFO("Started AdminServer on address %s, port %d and command URL %s", host, cfg->admin_port,
             cfg->admin_command_url);
    return 0;
}

void admin_tick(void)
{
    http_server_run(http_);
}

void admin_stop(void)
{
    http_server_stop(http_);
    http_ = NULL;
    server_ = NULL;
}
