/*
 * fourlw.c — the four-letter words of the client port (ruok, srvr, stat,
 * mntr, conf, cons, crst, srst, wchs, wchc, wchp, dump, envi, isro, plus
 * dirs, gtmk, stmk and hash), printed byte for byte as Apache ZooKeeper 3.8
 * prints them.  docs/fourlw-formats.md is the reference for every format,
 * and test/vectors/fourlw/ holds real captures.
 *
 * A word is the first 4 bytes of a fresh connection (conn.c sniffs them and
 * calls fourlw_handle).  The whole reply is built in one GString, queued
 * with conn_send_raw() and the connection is closed after the flush.
 *
 * Roles: standalone, and the ensemble roles leader, follower and observer
 * (a LOOKING member, or one still syncing, is "not currently serving").
 * Everything that differs per role goes through the hooks in the "server
 * role" section (server_mode, server_is_running, server_id, role_stats,
 * append_role_head_values, append_role_stat_lines, append_quorum_conf,
 * append_session_tracker_dump, the leader gauges of word_mntr); the
 * ensemble statistics come from quorum_get_stats() (quorum.h).
 *
 * Stand-ins for what only a JVM has (envi):
 *   java.version, java.vendor, java.home   <NA> (there is no JVM)
 *   java.class.path       the server executable (/proc/self/exe)
 *   java.library.path     $LD_LIBRARY_PATH, or <NA>
 *   java.io.tmpdir        g_get_tmp_dir() ($TMPDIR or /tmp)
 *   java.compiler         <NA> (as Apache)
 *   os.memory.total       the process's resident set size, MB
 *   os.memory.free        bytes free inside malloc's heap (mallinfo2), MB
 *   os.memory.max         RLIMIT_AS if set, else the machine's MemTotal, MB
 *   host.name             gethostname() (no DNS lookup: it would block the loop)
 *
 * Ownership: every buffer built here is local and freed before returning;
 * nothing here keeps pointers to connections or server state, except the
 * process-wide trace mask of gtmk/stmk (Apache's ZooTrace is static too).
 */
#include "conn.h"
#include "fourlw.h"
#include "procinfo.h"
#include "metrics.h"
#include "request.h"
#include "server.h"
#include "quorum.h"
#include "readonly.h"
#include "quota.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <malloc.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* version                                                             */
/* ------------------------------------------------------------------ */

/*
 * The version we report, in Apache's "<version>-<revision>" shape.  The
 * X.Y.Z prefix stays 3.8.0 so that tools checking "Zookeeper version: X.Y.Z"
 * accept us; "-zkfs-1" says who we are.
 */
#define ZKFS_ZK_VERSION "3.8.0-zkfs-1"

/*
 * Build time as "yyyy-MM-dd HH:mm" (Apache's Version.getFullVersion shape).
 * Override with -DZKFS_BUILD_DATE='"2026-01-01 00:00"' for reproducible
 * builds; otherwise the compiler's __DATE__/__TIME__ are used (builds run
 * in UTC, which the text after the date claims).
 */
static const char *build_date(void)
{
#ifdef ZKFS_BUILD_DATE
    return ZKFS_BUILD_DATE;
#else
    static char buf[32];
    if (buf[0])
        return buf;
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const char *d = __DATE__; /* "Nov 22 2026" */
    const char *t = __TIME__; /* "12:34:56" */
    int month = 1;
    for (int i = 0; i < 12; i++)
        if (strncmp(d, months + 3 * i, 3) == 0)
            month = i + 1;
    int day = atoi(d + 4);
    snprintf(buf, sizeof buf, "%.4s-%02d-%02d %.5s", d + 7, month, day, t);
    return buf;
#endif
}

/* "<version>, built on <date> UTC" (Version.getFullVersion); static buffer. */
static const char *full_version(void)
{
    static char buf[96];
    if (!buf[0])
        snprintf(buf, sizeof buf, "%s, built on %s UTC", ZKFS_ZK_VERSION, build_date());
    return buf;
}

/* ------------------------------------------------------------------ */
/* server role hooks                                                   */
/* ------------------------------------------------------------------ */

/* Apache's ServerStats.Provider.getState(): "standalone", "leader",
 * "follower", "observer" or "read-only" ("looking" is never printed: a
 * looking member is not running, see server_is_running). */
static const char *server_mode(const zk_server *s)
{
    if (readonly_active(s))
        return "read-only";   /* ReadOnlyZooKeeperServer.getState */
    switch (s->role) {
    case SERVER_LEADING: return "leader";
    case SERVER_FOLLOWING: return "follower";
    case SERVER_OBSERVING: return "observer";
    case SERVER_LOOKING: return "looking";
    default: return "standalone";
    }
}

/* False while there is no serving ZooKeeperServer (an ensemble member that
 * is LOOKING or still syncing with its leader, or start-up/shut-down); most
 * words then print ZK_NOT_SERVING.  A standalone server that accepts
 * connections is always running. */
static bool server_is_running(const zk_server *s)
{
    if (s->stopping)
        return false;
    if (s->role == SERVER_STANDALONE || readonly_active(s))
        return true;
    return s->role != SERVER_LOOKING && server_accepting(s);
}

/* True for a read-only server (READ-ONLY line in srvr/stat, isro "ro"). */
static bool server_is_read_only(const zk_server *s)
{
    return readonly_active(s);
}

/* serverId of conf: 0 standalone, myid in an ensemble. */
static int server_id(const zk_server *s)
{
    return s->role == SERVER_STANDALONE ? 0 : s->cfg->myid;
}

/* The ensemble statistics into *st; false (and *st zeroed) in standalone
 * and in read-only mode (Apache's ReadOnlyZooKeeperServer is not a
 * QuorumZooKeeperServer: no zk_peer_state, no zk_quorum_size). */
static bool role_stats(const zk_server *s, quorum_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!s->quorum || readonly_active(s))
        return false;
    quorum_get_stats(s->quorum, st);
    return true;
}

/* QuorumPeer.getDetailedPeerState: "<peer state> - <zab phase>", e.g.
 * "leading - broadcast".  A member that serves is in broadcast; otherwise
 * a leader or learner is still in discovery (no epoch agreed yet) or
 * synchronization, and a looking one has no phase. */
static void append_peer_state(GString *out, const quorum_stats *st)
{
    g_string_append(out, zab_role_name(st->role));
    if (st->serving)
        g_string_append(out, " - broadcast");
    else if (st->role != ZAB_LOOKING)
        g_string_append(out, st->epoch == 0 ? " - discovery" : " - synchronization");
}

/* mntr lines that only some roles have, printed right after
 * zk_server_state: zk_peer_state ("leading - broadcast" ...) and, on an
 * observer, zk_observer_master_id (the leader's sid).  Nothing in
 * standalone mode. */
static void append_role_head_values(GString *out, const zk_server *s)
{
    quorum_stats st;
    if (!role_stats(s, &st))
        return;
    g_string_append(out, "zk_peer_state\t");
    append_peer_state(out, &st);
    g_string_append_c(out, '\n');
    if (s->role == SERVER_OBSERVING)
        g_string_append_printf(out, "zk_observer_master_id\t%d\n", st.leader_sid);
}

/* Extra stat/srvr lines of a role, printed after "Node count": the
 * leader's "Proposal sizes last/min/max: L/M/X" (BufferStats, -1 before the
 * first proposal and after srst).  Nothing in other modes. */
static void append_role_stat_lines(GString *out, const zk_server *s)
{
    quorum_stats st;
    if (s->role != SERVER_LEADING || !role_stats(s, &st))
        return;
    g_string_append_printf(out, "Proposal sizes last/min/max: %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT
                                "/%" G_GINT64_FORMAT "\n",
                           st.last_proposal_size, st.min_proposal_size, st.max_proposal_size);
}

/* The sids whose LearnerHandler metrics a leader shows (the
 * zk_*_<sid>_learner_handler_qp_* summary sets): every other member of the
 * configuration, ascending (Apache adds a key when a learner first
 * connects; a configured learner that never connected is listed too). */
static GArray *learner_sids(const zk_server *s)
{
    GArray *sids = g_array_new(FALSE, FALSE, sizeof(int));
    for (guint i = 0; s->cfg->peers && i < s->cfg->peers->len; i++) {
        const zk_peer_config *p = s->cfg->peers->pdata[i];
        if (p->sid != s->cfg->myid)
            g_array_append_val(sids, p->sid);
    }
    return sids;
}

/* ------------------------------------------------------------------ */
/* formatting helpers                                                  */
/* ------------------------------------------------------------------ */

#define ZK_NOT_SERVING "This ZooKeeper instance is not currently serving requests"

/* Expiry interval of Apache's NIO connection expiry queue
 * (zookeeper.nio.sessionlessCnxnTimeout), also the timeout of a
 * connection without a session. */
#define CNXN_EXPIRY_INTERVAL_MS 10000

/* Size of the chunks Apache sends a reply in (BufferedWriter's default
 * buffer), each one counted as a sent packet. */
#define FOURLW_CHUNK 8192

/* Default trace mask of ZooTrace (gtmk), changed by stmk. */
static int64_t trace_mask = 306;

/*
 * Appends total/count the way Apache's AvgMinMaxCounter.getAvg prints it:
 * rounded HALF_UP to 4 decimals, then Java's Double.toString (at least one
 * decimal, no trailing zeros).  0 samples print "0.0".  (Java switches to
 * an exponent only at 1e7 and above: an average latency of 2.7 hours.)
 */
static void append_java_avg(GString *out, int64_t total, int64_t count)
{
    if (count <= 0 || total < 0) {
        g_string_append(out, "0.0");
        return;
    }
    /* exact rational rounding: q = round_half_up(total * 10000 / count) */
    unsigned __int128 scaled = (unsigned __int128)total * 10000u * 2u + (unsigned __int128)count;
    uint64_t q = (uint64_t)(scaled / ((unsigned __int128)count * 2u));
    uint64_t whole = q / 10000, frac = q % 10000;
    char digits[8];
    snprintf(digits, sizeof digits, "%04u", (unsigned)frac);
    int len = 4;
    while (len > 1 && digits[len - 1] == '0')
        len--;
    g_string_append_printf(out, "%" G_GUINT64_FORMAT ".%.*s", whole, len, digits);
}

/* Java's Long.toHexString: lowercase, unpadded, two's complement. */
static void append_hex(GString *out, int64_t v)
{
    g_string_append_printf(out, "%" G_GINT64_MODIFIER "x", (uint64_t)v);
}

/* Java's InetSocketAddress.toString() of an accepted socket:
 * "/127.0.0.1:35576" or "/[0:0:0:0:0:0:0:1]:2181". */
static void append_remote(GString *out, const zk_conn *c)
{
    struct in6_addr a6;
    if (strchr(c->addr, ':') && inet_pton(AF_INET6, c->addr, &a6) == 1) {
        g_string_append(out, "/[");
        for (int i = 0; i < 8; i++)
            g_string_append_printf(out, "%s%x", i ? ":" : "",
                                   (unsigned)(a6.s6_addr[2 * i] << 8 | a6.s6_addr[2 * i + 1]));
        g_string_append_printf(out, "]:%d", c->port);
    } else {
        g_string_append_printf(out, "/%s:%d", c->addr, c->port);
    }
}

/* java.util.Date.toString() of a wall-clock time in ms:
 * "Sun Nov 22 12:03:08 UTC 2026" (local zone, C locale names). */
static void append_java_date(GString *out, int64_t wall_ms)
{
    static const char *const wday[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
    static const char *const mon[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t secs = (time_t)(wall_ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    g_string_append_printf(out, "%s %s %02d %02d:%02d:%02d %s %04d", wday[tm.tm_wday % 7],
                           mon[tm.tm_mon % 12], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                           tm.tm_zone ? tm.tm_zone : "UTC", tm.tm_year + 1900);
}

/* Monotonic ms -> wall ms (Apache's Time.elapsedTimeToDate). */
static int64_t mono_to_wall(int64_t mono_ms)
{
    return loop_wall_ms() + (mono_ms - loop_now_ms());
}

/* Every live connection (zk_conn*, borrowed) ordered by fd, so that the
 * output is stable from one call to the next.  Caller frees the array. */
static gint compare_conn_fd(gconstpointer a, gconstpointer b)
{
    const zk_conn *ca = *(zk_conn *const *)a, *cb = *(zk_conn *const *)b;
    return (ca->fd > cb->fd) - (ca->fd < cb->fd);
}

static GPtrArray *live_connections(const zk_server *s)
{
    GPtrArray *all = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_ptr_array_add(all, value);
    g_ptr_array_sort(all, compare_conn_fd);
    return all;
}

/* ------------------------------------------------------------------ */
/* connection lines (stat, cons)                                       */
/* ------------------------------------------------------------------ */

/* NIO interest ops as Apache prints them: 0 for a connection running a
 * four-letter word (its key is cancelled), else read (1) plus write (4)
 * while output is pending. */
static int interest_ops(const zk_conn *c, const zk_conn *asker)
{
    if (c == asker || c->close_after_flush || c->closed)
        return 0;
    int ops = conn_throttled(c) ? 0 : 1;   /* NIOServerCnxn: no OP_READ while throttled */
    if (c->out.len > c->out_sent)
        ops |= 4;
    return ops;
}

/* ServerCnxn.dumpConnectionInfo(pw, brief), without the final newline. */
static void append_connection_info(GString *out, const zk_conn *c, const zk_conn *asker, bool brief)
{
    g_string_append_c(out, ' ');
    append_remote(out, c);
    g_string_append_printf(out, "[%x](queued=%d,recved=%" G_GUINT64_FORMAT ",sent=%" G_GUINT64_FORMAT,
                           (unsigned)interest_ops(c, asker), c->outstanding, c->packets_received,
                           c->packets_sent);
    if (!brief && c->session_id != 0) {
        g_string_append(out, ",sid=0x");
        append_hex(out, c->session_id);
        g_string_append_printf(out, ",lop=%s,est=%" G_GINT64_FORMAT ",to=%d",
                               c->last_op ? c->last_op : "NA", c->wall_connected_ms, c->session_timeout);
        if (c->last_cxid >= 0) {
            g_string_append(out, ",lcxid=0x");
            append_hex(out, c->last_cxid);
        }
        g_string_append(out, ",lzxid=0x");
        append_hex(out, c->last_zxid);
        int64_t avg = c->latency_count > 0 ? c->total_latency / c->latency_count : 0;
        g_string_append_printf(out,
                               ",lresp=%" G_GINT64_FORMAT ",llat=%" G_GINT64_FORMAT
                               ",minlat=%" G_GINT64_FORMAT ",avglat=%" G_GINT64_FORMAT
                               ",maxlat=%" G_GINT64_FORMAT,
                               c->last_response_ms, c->last_latency,
                               c->min_latency < 0 ? 0 : c->min_latency, avg, c->max_latency);
    }
    g_string_append_c(out, ')');
}

/* ------------------------------------------------------------------ */
/* the words                                                           */
/* ------------------------------------------------------------------ */

typedef struct word_ctx {
    zk_server *srv;
    zk_conn *asker;          /* the connection running the word */
    GString *out;            /* the reply being built (owned by fourlw_handle) */
} word_ctx;

static void word_ruok(word_ctx *w)
{
    g_string_append(w->out, "imok");
}

/* srvr and stat (StatCommand + ServerStats.toString). */
static void word_stat(word_ctx *w, bool with_clients)
{
    zk_server *s = w->srv;
    GString *out = w->out;
    g_string_append_printf(out, "Zookeeper version: %s\n", full_version());
    if (server_is_read_only(s))
        g_string_append(out, "READ-ONLY mode; serving only read-only clients\n");
    if (with_clients) {
        g_string_append(out, "Clients:\n");
        GPtrArray *conns = live_connections(s);
        for (guint i = 0; i < conns->len; i++) {
            append_connection_info(out, conns->pdata[i], w->asker, true);
            g_string_append_c(out, '\n');
        }
        g_ptr_array_free(conns, TRUE);
        g_string_append_c(out, '\n');
    }
    g_string_append_printf(out, "Latency min/avg/max: %" G_GINT64_FORMAT "/",
                           s->min_latency < 0 ? 0 : s->min_latency);
    append_java_avg(out, s->total_latency, s->latency_count);
    g_string_append_printf(out, "/%" G_GINT64_FORMAT "\n", s->max_latency);
    g_string_append_printf(out, "Received: %" G_GUINT64_FORMAT "\nSent: %" G_GUINT64_FORMAT
                           "\nConnections: %u\nOutstanding: %d\nZxid: 0x",
                           s->packets_received, s->packets_sent, g_hash_table_size(s->conns),
                           s->outstanding);
    append_hex(out, s->tree->last_processed_zxid);
    /* DataTree.getNodeCount counts the root twice ("" and "/"). */
    g_string_append_printf(out, "\nMode: %s\nNode count: %u\n", server_mode(s),
                           tree_node_count(s->tree) + 1);
    append_role_stat_lines(out, s);
}

static void word_srvr(word_ctx *w) { word_stat(w, false); }
static void word_stat_clients(word_ctx *w) { word_stat(w, true); }

static void word_cons(word_ctx *w)
{
    GPtrArray *conns = live_connections(w->srv);
    for (guint i = 0; i < conns->len; i++) {
        append_connection_info(w->out, conns->pdata[i], w->asker, false);
        g_string_append_c(w->out, '\n');
    }
    g_ptr_array_free(conns, TRUE);
    g_string_append_c(w->out, '\n');
}

/* crst: ServerCnxn.resetStats on every connection. */
static void word_crst(word_ctx *w)
{
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, w->srv->conns);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        zk_conn *c = value;
        c->packets_received = 0;
        c->packets_sent = 0;
        c->min_latency = -1;
        c->max_latency = 0;
        c->last_op = "NA";
        c->last_cxid = -1;
        c->last_zxid = -1;
        c->last_response_ms = 0;
        c->last_latency = 0;
        c->latency_count = 0;
        c->total_latency = 0;
    }
    g_string_append(w->out, "Connection stats reset.\n");
}

/* srst: ServerStats.reset (latency, packet counters) and, on a leader,
 * the proposal sizes (Leader.getProposalStats().reset()). */
static void word_srst(word_ctx *w)
{
    zk_server *s = w->srv;
    if (s->quorum && s->role == SERVER_LEADING)
        quorum_reset_stats(s->quorum);
    server_reset_stats(s);
    /* ServerMetrics.resetAll: the mntr counters too */
    s->cnxns_rejected = 0;
    s->sessionless_expired = 0;
    quota_exceeded_reset();
    g_string_append(w->out, "Server stats reset.\n");
}

/* --- watches (data watches only, as DataTree.dumpWatches*) --- */

/*
 * Apache's WatchManager keeps watchTable (path -> watchers) in a
 * HashMap<String, ...> and each watcher's paths in a HashSet<String>, so
 * paths come out in Java's String-hash order; jset reproduces it (for a
 * table that never held more paths than now, the usual case).  Watchers are
 * ordered by identity hash in Apache, i.e. arbitrarily; we keep first-seen
 * order.
 */
typedef struct watch_groups {
    jset paths;               /* every watched path (borrowed keys), Java order */
    GHashTable *watchers_of;  /* path -> GPtrArray* of zk_conn* (owned arrays) */
    GPtrArray *watchers;      /* zk_conn* in first-seen order (borrowed) */
    GHashTable *paths_of;     /* zk_conn* -> jset* of its paths (owned sets) */
} watch_groups;

static void free_jset(gpointer p)
{
    jset_clear(p);
    g_free(p);
}

static void collect_watch(void *ctx, const char *path, void *watcher)
{
    watch_groups *g = ctx;
    jset_add(&g->paths, path, NULL);
    GPtrArray *ws = g_hash_table_lookup(g->watchers_of, path);
    if (!ws) {
        ws = g_ptr_array_new();
        g_hash_table_insert(g->watchers_of, (gpointer)path, ws);
    }
    g_ptr_array_add(ws, watcher);
    jset *ps = g_hash_table_lookup(g->paths_of, watcher);
    if (!ps) {
        ps = g_new(jset, 1);
        jset_init(ps, 16);
        g_hash_table_insert(g->paths_of, watcher, ps);
        g_ptr_array_add(g->watchers, watcher);
    }
    jset_add(ps, path, NULL);
}

static void word_watches(word_ctx *w, bool by_path)
{
    watch_groups g;
    jset_init(&g.paths, 16);
    g.watchers_of = g_hash_table_new_full(g_str_hash, g_str_equal, NULL,
                                          (GDestroyNotify)g_ptr_array_unref);
    g.watchers = g_ptr_array_new();
    g.paths_of = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free_jset);
    watch_foreach(w->srv->tree->data_watches, collect_watch, &g);
    if (by_path) {
        for (jset_entry *e = jset_first(&g.paths); e; e = jset_next(&g.paths, e)) {
            GPtrArray *ws = g_hash_table_lookup(g.watchers_of, e->key);
            g_string_append_printf(w->out, "%s\n", e->key);
            for (guint j = 0; j < ws->len; j++) {
                g_string_append(w->out, "\t0x");
                append_hex(w->out, ((zk_conn *)ws->pdata[j])->session_id);
                g_string_append_c(w->out, '\n');
            }
        }
    } else {
        for (guint i = 0; i < g.watchers->len; i++) {
            zk_conn *c = g.watchers->pdata[i];
            const jset *ps = g_hash_table_lookup(g.paths_of, c);
            g_string_append(w->out, "0x");
            append_hex(w->out, c->session_id);
            g_string_append_c(w->out, '\n');
            for (jset_entry *e = jset_first(ps); e; e = jset_next(ps, e))
                g_string_append_printf(w->out, "\t%s\n", e->key);
        }
    }
    g_string_append_c(w->out, '\n');
    g_hash_table_destroy(g.paths_of);
    g_ptr_array_free(g.watchers, TRUE);
    g_hash_table_destroy(g.watchers_of);
    jset_clear(&g.paths);
}

static void word_wchs(word_ctx *w)
{
    const watch_mgr *m = w->srv->tree->data_watches;
    g_string_append_printf(w->out, "%u connections watching %u paths\nTotal watches:%u\n",
                           watch_watcher_count(m), watch_path_count(m), watch_total(m));
}

static void word_wchc(word_ctx *w) { word_watches(w, false); }
static void word_wchp(word_ctx *w) { word_watches(w, true); }

/* --- dump --- */

/* One expiry bucket of ExpiryQueue.dump: members in insertion order. */
typedef struct expiry_bucket {
    int64_t expire_mono_ms;
    GString *lines;           /* "\t...\n" per member (owned) */
    int count;
} expiry_bucket;

static gint compare_bucket(gconstpointer a, gconstpointer b)
{
    const expiry_bucket *x = *(expiry_bucket *const *)a, *y = *(expiry_bucket *const *)b;
    return (x->expire_mono_ms > y->expire_mono_ms) - (x->expire_mono_ms < y->expire_mono_ms);
}

static void free_bucket(gpointer p)
{
    expiry_bucket *b = p;
    g_string_free(b->lines, TRUE);
    g_free(b);
}

/* Collects buckets keyed by expiry time; see append_expiry_queue. */
typedef struct expiry_queue {
    GHashTable *by_time;      /* int64* -> expiry_bucket* (owned) */
    int elements;
} expiry_queue;

static void expiry_queue_init(expiry_queue *q)
{
    q->by_time = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, free_bucket);
    q->elements = 0;
}

/* Adds one member line (without tab/newline) to the bucket of `expire`. */
static void expiry_queue_add(expiry_queue *q, int64_t expire_mono_ms, const char *line)
{
    expiry_bucket *b = g_hash_table_lookup(q->by_time, &expire_mono_ms);
    if (!b) {
        b = g_new0(expiry_bucket, 1);
        b->expire_mono_ms = expire_mono_ms;
        b->lines = g_string_new(NULL);
        g_hash_table_insert(q->by_time, &b->expire_mono_ms, b);
    }
    g_string_append_printf(b->lines, "\t%s\n", line);
    b->count++;
    q->elements++;
}

/* ExpiryQueue.dump after the caller's prefix ("Session " / "Connections "),
 * then frees the queue. */
static void expiry_queue_dump_free(GString *out, expiry_queue *q)
{
    g_string_append_printf(out, "Sets (%u)/(%d):\n", g_hash_table_size(q->by_time), q->elements);
    GPtrArray *buckets = g_ptr_array_new();
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, q->by_time);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_ptr_array_add(buckets, value);
    g_ptr_array_sort(buckets, compare_bucket);
    for (guint i = 0; i < buckets->len; i++) {
        expiry_bucket *b = buckets->pdata[i];
        g_string_append_printf(out, "%d expire at ", b->count);
        append_java_date(out, mono_to_wall(b->expire_mono_ms));
        g_string_append(out, ":\n");
        g_string_append_len(out, b->lines->str, (gssize)b->lines->len);
    }
    g_ptr_array_free(buckets, TRUE);
    g_hash_table_destroy(q->by_time);
}

static gint compare_int64(gconstpointer a, gconstpointer b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The SessionTracker part of dump.  Standalone and leader:
 * SessionTrackerImpl's expiry queue in tick-sized buckets.  Follower and
 * observer: LearnerSessionTracker's "Global Sessions(<n>):" list, one
 * "0x<id>\t<timeout>ms" line per session in ascending id order. */
static void append_session_tracker_dump(GString *out, const zk_server *s)
{
    GArray *ids = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->sessions.by_id);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_array_append_val(ids, ((zk_session *)value)->id);
    g_array_sort(ids, compare_int64);
    if (s->role == SERVER_FOLLOWING || s->role == SERVER_OBSERVING) {
        g_string_append_printf(out, "Global Sessions(%u):\n", ids->len);
        for (guint i = 0; i < ids->len; i++) {
            const zk_session *sess = session_get(&s->sessions, g_array_index(ids, int64_t, i));
            g_string_append(out, "0x");
            append_hex(out, sess->id);
            g_string_append_printf(out, "\t%dms\n", (int)sess->timeout);
        }
        g_array_free(ids, TRUE);
        return;
    }
    expiry_queue q;
    expiry_queue_init(&q);
    for (guint i = 0; i < ids->len; i++) {
        zk_session *sess = session_get(&s->sessions, g_array_index(ids, int64_t, i));
        char line[24];
        snprintf(line, sizeof line, "0x%" G_GINT64_MODIFIER "x", (uint64_t)sess->id);
        expiry_queue_add(&q, sess->expire_at, line);
    }
    g_array_free(ids, TRUE);
    g_string_append(out, "Session ");
    expiry_queue_dump_free(out, &q);
}

/* Apache's NIO connection expiry queue: a connection expires its timeout
 * (the session's, or sessionlessCnxnTimeout) after its last activity,
 * rounded up to the next multiple of 10 s.  We take the last response (or
 * the accept) as the last activity. */
static int64_t connection_expiry(const zk_conn *c)
{
    int64_t last = c->established_ms;
    if (c->last_response_ms > last)
        last = c->last_response_ms;
    int64_t timeout = c->session_id != 0 && c->session_timeout > 0 ? c->session_timeout
                                                                  : CNXN_EXPIRY_INTERVAL_MS;
    return ((last + timeout) / CNXN_EXPIRY_INTERVAL_MS + 1) * CNXN_EXPIRY_INTERVAL_MS;
}

static void word_dump(word_ctx *w)
{
    zk_server *s = w->srv;
    GString *out = w->out;
    g_string_append(out, "SessionTracker dump:\n");
    append_session_tracker_dump(out, s);

    g_string_append(out, "ephemeral nodes dump:\n");
    g_string_append_printf(out, "Sessions with Ephemerals (%u):\n",
                           g_hash_table_size(s->tree->ephemerals));
    GArray *owners = g_array_new(FALSE, FALSE, sizeof(int64_t));
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, s->tree->ephemerals);
    while (g_hash_table_iter_next(&it, &key, &value))
        g_array_append_val(owners, *(int64_t *)key);
    g_array_sort(owners, compare_int64);
    for (guint i = 0; i < owners->len; i++) {
        int64_t owner = g_array_index(owners, int64_t, i);
        const jset *paths = g_hash_table_lookup(s->tree->ephemerals, &owner);
        g_string_append(out, "0x");
        append_hex(out, owner);
        g_string_append(out, ":\n");
        for (jset_entry *e = jset_first(paths); e; e = jset_next(paths, e))
            g_string_append_printf(out, "\t%s\n", e->key);
    }
    g_array_free(owners, TRUE);

    g_string_append(out, "Connections dump:\n");
    expiry_queue q;
    expiry_queue_init(&q);
    GPtrArray *conns = live_connections(s);
    for (guint i = 0; i < conns->len; i++) {
        zk_conn *c = conns->pdata[i];
        GString *line = g_string_new("ip: ");
        append_remote(line, c);
        g_string_append(line, " sessionId: 0x");
        append_hex(line, c->session_id);
        expiry_queue_add(&q, connection_expiry(c), line->str);
        g_string_free(line, TRUE);
    }
    g_ptr_array_free(conns, TRUE);
    g_string_append(out, "Connections ");
    expiry_queue_dump_free(out, &q);
}

/* --- conf, dirs --- */

/* Sum of the sizes of the regular files under dir (FileUtils.sizeOf). */
static uint64_t directory_size(const char *dir, int depth)
{
    uint64_t total = 0;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = g_build_filename(dir, e->d_name, NULL);
        struct stat st;
        if (lstat(p, &st) == 0) {
            if (S_ISREG(st.st_mode))
                total += (uint64_t)st.st_size;
            else if (S_ISDIR(st.st_mode) && depth < 8)
                total += directory_size(p, depth + 1);
        }
        g_free(p);
    }
    closedir(d);
    return total;
}

/* The directory holding snapshots and log files, absolute (owned). */
static char *storage_dir(const zk_server *s)
{
    const char *d = s->data_dir ? s->data_dir : s->cfg->data_dir;
    return g_canonicalize_filename(d, NULL);
}

/* A host as Apache's delimitedHostString prints it: IPv6 in brackets. */

/* QuorumZooKeeperServer.dumpConf, after ZooKeeperServer's part: the
 * limits, this member's ports and type, then QuorumMaj.toString(): one
 * "server.N=host:qp:ep:participant|observer[;clientHost:clientPort]" line
 * per member (ascending sid; the client part only when the server.N line
 * had one) and "version=<hex>" with NO final newline (reconfig is off, so
 * the dynamic-config version stays 0). */
static void append_quorum_conf(GString *out, const zk_server *s)
{
    const zk_config *cfg = s->cfg;
    const zk_peer_config *me = NULL;
    for (guint i = 0; cfg->peers && i < cfg->peers->len; i++) {
        const zk_peer_config *p = cfg->peers->pdata[i];
        if (p->sid == cfg->myid)
            me = p;
    }
    g_string_append_printf(out, "initLimit=%d\nsyncLimit=%d\nelectionAlg=3\n", cfg->init_limit,
                           cfg->sync_limit);
    g_string_append_printf(out, "electionPort=%d\nquorumPort=%d\npeerType=%d\n",
                           me ? me->election_port : -1, me ? me->quorum_port : -1,
                           me && me->observer ? 1 : 0);
    g_string_append(out, "membership: \n");
    char *members = zk_config_membership(cfg);
    g_string_append(out, members);
    g_free(members);
}

static void word_conf(word_ctx *w)
{
    zk_server *s = w->srv;
    const zk_config *cfg = s->cfg;
    GString *out = w->out;
    /* zkserver keeps snapshots and log files in one directory. */
    char *dir = storage_dir(s);
    uint64_t size = directory_size(dir, 0);
    const char *backlog = cfg->raw ? g_hash_table_lookup(cfg->raw, "clientPortListenBacklog") : NULL;
    g_string_append_printf(out, "clientPort=%d\n", cfg->client_port);
    if (s->cfg->secure_client_port > 0)
        g_string_append_printf(out, "secureClientPort=%d\n", s->cfg->secure_client_port);
    else
        g_string_append(out, "secureClientPort=-1\n");
    g_string_append_printf(out, "dataDir=%s\ndataDirSize=%" G_GUINT64_FORMAT "\n", dir, size);
    g_string_append_printf(out, "dataLogDir=%s\ndataLogSize=%" G_GUINT64_FORMAT "\n", dir, size);
    g_string_append_printf(out, "tickTime=%d\nmaxClientCnxns=%d\nminSessionTimeout=%d\nmaxSessionTimeout=%d\n",
                           cfg->tick_time, cfg->max_client_cnxns, cfg->min_session_timeout,
                           cfg->max_session_timeout);
    g_string_append_printf(out, "clientPortListenBacklog=%s\n",
                           backlog && *backlog ? backlog : "-1");
    g_string_append_printf(out, "serverId=%d\n", server_id(s));
    if (s->role != SERVER_STANDALONE)
        append_quorum_conf(out, s);
    g_free(dir);
}

static void word_dirs(word_ctx *w)
{
    char *dir = storage_dir(w->srv);
    uint64_t size = directory_size(dir, 0);
    g_string_append_printf(w->out, "datadir_size: %" G_GUINT64_FORMAT "\nlogdir_size: %" G_GUINT64_FORMAT "\n",
                           size, size);
    g_free(dir);
}

/* --- envi --- */

/* Reads "key: N kB" from a /proc file; -1 if absent. */
static int64_t proc_kb(const char *file, const char *key)
{
    char *text = NULL;
    int64_t kb = -1;
    if (!g_file_get_contents(file, &text, NULL, NULL))
        return -1;
    size_t klen = strlen(key);
    for (char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
            kb = g_ascii_strtoll(line + klen + 1, NULL, 10);
            break;
        }
    }
    g_free(text);
    return kb;
}

static void append_env(GString *out, const char *key, const char *value)
{
    g_string_append_printf(out, "%s=%s\n", key, value && *value ? value : "<NA>");
}

/* Java's os.arch names for uname's machine. */
static const char *java_arch(const char *machine)
{
    if (strcmp(machine, "x86_64") == 0)
        return "amd64";
    if (strcmp(machine, "i386") == 0 || strcmp(machine, "i486") == 0 || strcmp(machine, "i586") == 0 ||
        strcmp(machine, "i686") == 0)
        return "x86";
    return machine;
}

static void word_envi(word_ctx *w)
{
    GString *out = w->out;
    g_string_append(out, "Environment:\n");
    append_env(out, "zookeeper.version", full_version());
    char host[256] = "";
    if (gethostname(host, sizeof host - 1) != 0)
        host[0] = 0;
    append_env(out, "host.name", host);
    append_env(out, "java.version", NULL);
    append_env(out, "java.vendor", NULL);
    append_env(out, "java.home", NULL);
    char *exe = g_file_read_link("/proc/self/exe", NULL);
    if (exe && g_str_has_suffix(exe, " (deleted)"))   /* the binary was replaced */
        exe[strlen(exe) - strlen(" (deleted)")] = 0;
    append_env(out, "java.class.path", exe);
    g_free(exe);
    append_env(out, "java.library.path", g_getenv("LD_LIBRARY_PATH"));
    append_env(out, "java.io.tmpdir", g_get_tmp_dir());
    append_env(out, "java.compiler", NULL);
    struct utsname u;
    bool have_uname = uname(&u) == 0;
    append_env(out, "os.name", have_uname ? u.sysname : NULL);
    append_env(out, "os.arch", have_uname ? java_arch(u.machine) : NULL);
    append_env(out, "os.version", have_uname ? u.release : NULL);
    struct passwd pw, *pwp = NULL;
    char pwbuf[4096];
    if (getpwuid_r(geteuid(), &pw, pwbuf, sizeof pwbuf, &pwp) != 0)
        pwp = NULL;
    append_env(out, "user.name", pwp ? pwp->pw_name : g_get_user_name());
    append_env(out, "user.home", pwp ? pwp->pw_dir : g_get_home_dir());
    char *cwd = g_get_current_dir();
    append_env(out, "user.dir", cwd);
    g_free(cwd);

    const int64_t mb = 1024 * 1024;
    struct mallinfo2 mi = mallinfo2();
    int64_t rss_kb = proc_kb("/proc/self/status", "VmRSS");
    int64_t max_bytes = -1;
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        max_bytes = (int64_t)rl.rlim_cur;
    if (max_bytes < 0) {
        int64_t total_kb = proc_kb("/proc/meminfo", "MemTotal");
        max_bytes = total_kb < 0 ? 0 : total_kb * 1024;
    }
    g_string_append_printf(out, "os.memory.free=%" G_GINT64_FORMAT "MB\n", (int64_t)mi.fordblks / mb);
    g_string_append_printf(out, "os.memory.max=%" G_GINT64_FORMAT "MB\n", max_bytes / mb);
    g_string_append_printf(out, "os.memory.total=%" G_GINT64_FORMAT "MB\n",
                           rss_kb < 0 ? 0 : rss_kb * 1024 / mb);
}

static void word_isro(word_ctx *w)
{
    if (!server_is_running(w->srv))
        g_string_append(w->out, "null");
    else
        g_string_append(w->out, server_is_read_only(w->srv) ? "ro" : "rw");
}

static void word_gtmk(word_ctx *w)
{
    g_string_append_printf(w->out, "%" G_GINT64_FORMAT, trace_mask);
}

/* hash (DigestCommand): the recent tree digests.  zkserver keeps no tree
 * digests (zookeeper.digest.enabled=false behaviour), so the list is empty. */
static void word_hash(word_ctx *w)
{
    (void)w;
}

/* --- mntr --- */

/* ServerMetrics counters, in the order Apache 3.8's mntr prints them. */
static const char *const mntr_counters[] = {
    "proposal_count", "watch_bytes", "outstanding_changes_removed", "throttled_ops",
    "stale_requests_dropped", "large_requests_rejected", "insecure_admin_count",
    "connection_rejected", "cnxn_closed_without_zk_server_running",
    "sessionless_connections_expired", "looking_count", "dead_watchers_queued", "stale_requests",
    "connection_drop_count", "learner_proposal_received_count", "digest_mismatches_count",
    "dead_watchers_cleared", "response_packet_cache_hits", "bytes_received_count",
    "add_dead_watcher_stall_time", "request_throttle_wait_count",
    "requests_not_forwarded_to_commit_processor", "response_packet_cache_misses",
    "ensemble_auth_success", "prep_processor_request_queued", "learner_commit_received_count",
    "stale_replies", "connection_request_count", "response_bytes", "ensemble_auth_fail",
    "diff_count", "response_packet_get_children_cache_misses", "connection_revalidate_count",
    "quit_leading_due_to_disloyal_voter", "snap_count", "unrecoverable_error_count",
    "unsuccessful_handshake", "commit_count", "stale_sessions_expired",
    "response_packet_get_children_cache_hits", "sync_processor_request_queued",
    "outstanding_changes_queued", "request_commit_queued", "ensemble_auth_skip",
    "skip_learner_request_to_next_processor_count", "tls_handshake_exceeded", "revalidate_count",
};

/* ServerMetrics summaries (avg/min/max/cnt/sum), in mntr order. */
static const char *const mntr_summaries[] = {
    "socket_closing_time", "proposal_process_time", "leader_unavailable_time",
    "node_created_watch_count", "session_queues_drained", "write_commit_proc_req_queued",
    "connection_token_deficit", "read_commit_proc_req_queued", "node_deleted_watch_count",
    "startup_txns_load_time", "sync_processor_queue_size", "follower_sync_time",
    "prep_processor_queue_size", "fsynctime", "inflight_snap_count",
    "reads_issued_from_session_queue", "learner_request_processor_queue_size", "snapshottime",
    "unavailable_time", "startup_txns_loaded", "reads_after_write_in_session_queue",
    "requests_in_session_queue", "write_commit_proc_issued", "prep_process_time",
    "pending_session_queue_size", "time_waiting_empty_pool_in_commit_processor_read_ms",
    "commit_process_time", "dbinittime", "inflight_diff_count", "netty_queued_buffer_capacity",
    "election_time", "commit_commit_proc_req_queued", "sync_processor_batch_size",
    "node_children_watch_count", "write_batch_time_in_commit_processor",
    "read_commit_proc_issued", "concurrent_request_processing_in_commit_processor",
    "observer_sync_time", "node_changed_watch_count", "sync_process_time",
    "startup_snap_load_time",
};

/* ServerMetrics percentile summaries (adds p50/p95/p99/p999), in mntr order. */
static const char *const mntr_percentile_summaries[] = {
    "prep_processor_queue_time_ms", "jvm_pause_time_ms", "close_session_prep_time",
    "read_commitproc_time_ms", "updatelatency", "local_write_committed_time_ms",
    "request_throttle_queue_time_ms", "readlatency", "quorum_ack_latency",
    "om_commit_process_time_ms", "read_final_proc_time_ms", "commit_propagation_latency",
    "dead_watchers_cleaner_latency", "write_final_proc_time_ms", "proposal_ack_creation_latency",
    "proposal_latency", "om_proposal_process_time_ms", "sync_processor_queue_and_flush_time_ms",
    "propagation_latency", "server_write_committed_time_ms", "sync_processor_queue_time_ms",
    "sync_processor_queue_flush_time_ms", "write_commitproc_time_ms",
};

static void mntr_long(GString *out, const char *key, int64_t v)
{
    g_string_append_printf(out, "zk_%s\t%" G_GINT64_FORMAT "\n", key, v);
}


static int64_t ephemerals_count(const zk_tree *t)
{
    int64_t n = 0;
    GHashTableIter it;
    gpointer key, value;
    g_hash_table_iter_init(&it, t->ephemerals);
    while (g_hash_table_iter_next(&it, &key, &value))
        n += ((const jset *)value)->size;
    return n;
}

/* One summary of ServerMetrics with no samples: zk_avg_<key>_<name> ...
 * (key is "" or "<set key>_"); a percentile summary adds p50..p999. */
static void append_summary(GString *out, const char *key, const char *name, bool percentiles)
{
    g_string_append_printf(out, "zk_avg_%1$s%2$s\t0.0\nzk_min_%1$s%2$s\t0\nzk_max_%1$s%2$s\t0\n"
                                "zk_cnt_%1$s%2$s\t0\nzk_sum_%1$s%2$s\t0\n",
                           key, name);
    if (percentiles)
        g_string_append_printf(out, "zk_p50_%1$s%2$s\t0\nzk_p95_%1$s%2$s\t0\nzk_p99_%1$s%2$s\t0\n"
                                    "zk_p999_%1$s%2$s\t0\n",
                               key, name);
}

static void word_mntr(word_ctx *w)
{
    zk_server *s = w->srv;
    GString *out = w->out;
    g_string_append_printf(out, "zk_version\t%s\n", full_version());
    g_string_append_printf(out, "zk_server_state\t%s\n", server_mode(s));
    append_role_head_values(out, s);

    /* Gauges of ZooKeeperServer.registerMetrics, in Apache's print order;
     * a leader's gauges (LeaderZooKeeperServer.registerMetrics) come
     * interleaved, as the ConcurrentHashMap of gauges orders them, and
     * every ensemble member ends with zk_quorum_size. */
    /* With the Prometheus provider, Apache's mntr dumps the provider's
     * samples instead (MonitorCommand: dumpMonitorValues, then
     * getMetricsProvider().dump). */
    if (metrics_prometheus_enabled(s->cfg)) {
        metrics_dump(s, out);
        return;
    }
    quorum_stats st;
    bool ensemble = role_stats(s, &st);
    bool leader = ensemble && s->role == SERVER_LEADING;
    int64_t max_fds = procinfo_max_fds();
    mntr_long(out, "ephemerals_count", ephemerals_count(s->tree));
    mntr_long(out, "num_alive_connections", g_hash_table_size(s->conns));
    g_string_append(out, "zk_avg_latency\t");
    append_java_avg(out, s->total_latency, s->latency_count);
    g_string_append_c(out, '\n');
    if (leader)
        mntr_long(out, "min_proposal_size", st.min_proposal_size);
    mntr_long(out, "outstanding_requests", s->outstanding);
    mntr_long(out, "znode_count", (int64_t)tree_node_count(s->tree) + 1);
    mntr_long(out, "global_sessions", g_hash_table_size(s->sessions.by_id));
    mntr_long(out, "non_mtls_remote_conn_count", 0);
    mntr_long(out, "last_client_response_size", s->last_response_size);
    mntr_long(out, "packets_sent", (int64_t)s->packets_sent);
    mntr_long(out, "packets_received", (int64_t)s->packets_received);
    if (leader)
        mntr_long(out, "max_proposal_size", st.max_proposal_size);
    mntr_long(out, "max_client_response_size", s->max_response_size);
    if (leader)
        mntr_long(out, "synced_followers", st.synced_followers);
    g_string_append(out, "zk_connection_drop_probability\t0.0\n");
    mntr_long(out, "watch_count",
              (int64_t)watch_total(s->tree->data_watches) + watch_total(s->tree->child_watches));
    if (leader) {
        mntr_long(out, "synced_non_voting_followers", st.synced_non_voting_followers);
        mntr_long(out, "synced_observers", st.synced_observers);
    }
    mntr_long(out, "auth_failed_count", (int64_t)s->auth_failed_count);
    mntr_long(out, "min_latency", s->min_latency < 0 ? 0 : s->min_latency);
    mntr_long(out, "max_file_descriptor_count", max_fds);
    mntr_long(out, "approximate_data_size", s->tree->data_size);
    mntr_long(out, "open_file_descriptor_count", procinfo_open_fds());
    if (leader) {
        mntr_long(out, "last_proposal_size", st.last_proposal_size);
        mntr_long(out, "pending_syncs", st.pending_syncs);
        mntr_long(out, "leader_uptime", st.leader_uptime_ms);
    }
    mntr_long(out, "local_sessions", readonly_local_sessions(s));
    mntr_long(out, "uptime", loop_now_ms() - s->start_ms);
    mntr_long(out, "max_latency", s->max_latency);
    mntr_long(out, "outstanding_tls_handshake", 0);
    if (leader)
        mntr_long(out, "learners", st.learners);
    mntr_long(out, "min_client_response_size", s->min_response_size);
    mntr_long(out, "non_mtls_local_conn_count", 0);
    /* QuorumPeer.getQuorumSize(): the number of voting members (not the
     * majority). */
    if (ensemble)
        mntr_long(out, "quorum_size", st.voters);
    /* gauge sets: the quota figures per top namespace (QuotaMetricsUtils) */
    quota_mntr_gauge_sets(s->tree, out);

    /* ServerMetrics: what zkserver does not measure prints as on an idle
     * Apache server; a leader counts its proposals, and the connection
     * bounds count what they refused and expired. */
    for (size_t i = 0; i < G_N_ELEMENTS(mntr_counters); i++) {
        const char *name = mntr_counters[i];
        int64_t v = 0;
        if (leader && strcmp(name, "proposal_count") == 0)
            v = st.proposal_count;
        else if (strcmp(name, "connection_rejected") == 0)
            v = (int64_t)s->cnxns_rejected;
        else if (strcmp(name, "sessionless_connections_expired") == 0)
            v = (int64_t)s->sessionless_expired;
        mntr_long(out, name, v);
    }
    /* counter sets: quota_exceeded_error_per_namespace */
    quota_mntr_counter_sets(out);
    for (size_t i = 0; i < G_N_ELEMENTS(mntr_summaries); i++)
        append_summary(out, "", mntr_summaries[i], false);
    for (size_t i = 0; i < G_N_ELEMENTS(mntr_percentile_summaries); i++)
        append_summary(out, "", mntr_percentile_summaries[i], true);
    /* Summary sets (LearnerHandler queue sizes per learner sid), then
     * percentile summary sets (LearnerHandler queue times); the
     * per-namespace read/write sets are not kept. */
    if (leader) {
        GArray *sids = learner_sids(s);
        char prefix[16];
        for (guint i = 0; i < sids->len; i++) {
            snprintf(prefix, sizeof prefix, "%d_", g_array_index(sids, int, i));
            append_summary(out, prefix, "learner_handler_qp_size", false);
        }
        for (guint i = 0; i < sids->len; i++) {
            snprintf(prefix, sizeof prefix, "%d_", g_array_index(sids, int, i));
            append_summary(out, prefix, "learner_handler_qp_time_ms", true);
        }
        g_array_free(sids, TRUE);
    }
}

/* ------------------------------------------------------------------ */
/* dispatch                                                            */
/* ------------------------------------------------------------------ */

typedef struct word_def {
    const char *name;
    void (*run)(word_ctx *w);
    bool needs_running;      /* prints ZK_NOT_SERVING when the server is not running */
} word_def;

static const word_def words[] = {
    { "ruok", word_ruok, false },
    { "srvr", word_srvr, true },
    { "stat", word_stat_clients, true },
    { "mntr", word_mntr, true },
    { "conf", word_conf, true },
    { "cons", word_cons, true },
    { "crst", word_crst, true },
    { "srst", word_srst, true },
    { "wchs", word_wchs, true },
    { "wchc", word_wchc, true },
    { "wchp", word_wchp, true },
    { "dump", word_dump, true },
    { "envi", word_envi, false },
    { "isro", word_isro, false },
    { "dirs", word_dirs, true },
    { "gtmk", word_gtmk, false },
    { "stmk", word_gtmk, false },   /* the mask is set before, see fourlw_handle */
    { "hash", word_hash, false },
};

bool fourlw_render(zk_server *s, zk_conn *asker, const char *word, GString *out)
{
    const word_def *def = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
        if (strcmp(words[i].name, word) == 0)
            def = &words[i];
    if (!def)
        return false;
    if (def->needs_running && !server_is_running(s)) {
        g_string_append(out, ZK_NOT_SERVING "\n");
        return true;
    }
    word_ctx w = { .srv = s, .asker = asker, .out = out };
    def->run(&w);
    return true;
}

int64_t fourlw_trace_mask(void)
{
    return trace_mask;
}

void fourlw_set_trace_mask(int64_t mask)
{
    trace_mask = mask;
}

bool fourlw_handle(zk_conn *c, uint32_t word)
{
    char name[5] = { (char)(word >> 24), (char)(word >> 16), (char)(word >> 8), (char)word, 0 };
    if (!zk_fourlw_known(name))
        return false;
    zk_server *s = c->srv;
    /* Apache counts the word as one received packet (packetReceived(4));
     * the server's ServerStats only exist while it runs. */
    bool running = server_is_running(s);
    c->packets_received++;
    if (running)
        s->packets_received++;

    GString *out = g_string_new(NULL);
    if (!zk_config_fourlw_enabled(s->cfg, name)) {
        g_string_append_printf(out, "%s is not executed because it is not in the whitelist.\n", name);
    } else if (strcmp(name, "stmk") == 0 && c->in_len < 12) {
        /* the 8-byte mask did not come with the word: Apache fails the read
         * and closes without a reply */
    } else {
        if (strcmp(name, "stmk") == 0)
            trace_mask = (int64_t)((uint64_t)zk_be32(c->in + 4) << 32 | zk_be32(c->in + 8));
        /* known to the config but not implemented: answers nothing */
        fourlw_render(s, c, name, out);
    }
    if (out->len > 0) {
        conn_send_raw(c, out->str, out->len);
        /* Apache's SendBufferWriter (behind an 8192-char BufferedWriter)
         * sends the reply in 8 KiB chunks and counts each as one sent
         * packet (sendBufferSync -> packetSent), after the word ran. */
        uint64_t chunks = (out->len + FOURLW_CHUNK - 1) / FOURLW_CHUNK;
        c->packets_sent += chunks;
        if (running)
            s->packets_sent += chunks;
    }
    g_string_free(out, TRUE);
    conn_close_after_flush(c);
    return true;
}

/* ------------------------------------------------------------------ */
/* for the server's own use (systemd status, zkserver --version)        */
/* ------------------------------------------------------------------ */

bool server_is_serving(const zk_server *s)
{
    return server_is_running(s);
}

const char *server_mode_name(const zk_server *s)
{
    return server_mode(s);
}

const char *server_version(void)
{
    return full_version();
}
