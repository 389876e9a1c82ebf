/*
 * metrics.c — Prometheus metrics as Apache ZooKeeper 3.8 exports them with
 * metricsProvider.className=org.apache.zookeeper.metrics.prometheus.
 * PrometheusMetricsProvider: GET /metrics on metricsProvider.httpHost
 * (default 0.0.0.0) : metricsProvider.httpPort (default 7000), in the text
 * exposition format 0.0.4 exactly as Apache's Prometheus client
 * (simpleclient 0.9.0 TextFormat.write004) writes it:
 *
 *   # HELP <name> <name>            (Apache uses the name as the help text)
 *   # TYPE <name> counter|gauge|summary
 *   <name> 12.0                     (Java Double.toString; NaN, +Inf, -Inf)
 *   <name>{key="ns",} 3.0           (labels end with a comma, as 0.9.0 does)
 *   <name>{quantile="0.5",} NaN     (summaries: quantiles, _count, _sum)
 *
 * test/vectors/metrics/apache-3.8-metrics.txt lists every family Apache
 * 3.8 exports, its type and labels, with its provenance, and says which
 * ones zkserver exports (measured), exports as constant zero (the
 * mechanism does not exist in zkserver) or leaves out (not measured; the
 * JVM's jvm_* families).  What is exported:
 *   - ZooKeeperServer's gauges (znode_count, watch_count, ...), only while
 *     the server serves (Apache registers them when its ZooKeeperServer
 *     starts and unregisters them when it stops); the leader's gauges
 *     while leading, synced_observers while following, quorum_size in an
 *     ensemble; the quota_*_per_namespace gauge sets read from
 *     /zookeeper/quota as Apache's QuotaMetricsUtils does;
 *   - the ServerMetrics counters and summaries zkserver measures
 *     (metrics.h), always;
 *   - with metricsProvider.exportJvmInfo=true (the default) the process_*
 *     families of the Prometheus client's StandardExports (CPU seconds,
 *     start time, fds, memory), which describe the process, not the JVM.
 *
 * Summaries: _count and _sum are cumulative; quantiles are computed at
 * scrape time over the observations of the last 10 minutes, as the Java
 * client's sliding window (maxAgeSeconds 600, 5 age buckets).  Each
 * 2-minute bucket keeps a uniform random sample of at most
 * METRICS_BUCKET_SAMPLES observations (reservoir sampling), so memory is
 * bounded whatever the rate; with no observation in the window a quantile
 * is NaN, as in Java.
 *
 * HTTP is libmicrohttpd in external-epoll mode on the server's loop (http_server.c), as
 * the AdminServer (admin_http.c), with the same bounds: connection caps
 * (in all and per IP), an idle timeout, a per-connection memory limit that
 * caps the request line and headers (libmicrohttpd answers 414/431), a URL
 * length limit, no request body read.  GET, HEAD and POST are served
 * (Apache's MetricsServlet answers POST as GET); other methods get 405.
 *
 * Ownership: the registry and the daemon are process-wide (one server per
 * process) and owned here; every rendered string is owned by the caller.
 */
#include "metrics.h"
#include "http_server.h"
#include "procinfo.h"
#include "fourlw.h"
#include "quorum.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PROMETHEUS_PROVIDER "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider"
#define METRICS_PATH "/metrics"
#define METRICS_MAX_URL 512
#define METRICS_MEMORY_LIMIT (16 * 1024)
#define METRICS_MAX_CONNECTIONS 64
#define METRICS_MAX_PER_IP 32
#define METRICS_IDLE_TIMEOUT_S 30      /* Jetty's default idle timeout */
#define METRICS_MAX_FILTERS 64         /* name[] arguments honoured */
#define METRICS_MAX_NAMESPACES 1024    /* quota_exceeded_error_per_namespace keys */
#define METRICS_QUOTA_WALK_LIMIT 100000 /* quota nodes visited per scrape */

#define METRICS_BUCKETS 5
#define METRICS_BUCKET_MS (120 * 1000)
#define METRICS_BUCKET_SAMPLES 512

/* ------------------------------------------------------------------ */
/* registry                                                            */
/* ------------------------------------------------------------------ */

typedef struct window_bucket {
    int64_t start_ms;              /* 0: empty */
    uint64_t seen;                 /* observations offered in this bucket */
    uint32_t n;                    /* kept (<= the summary's cap) */
    double *v;                     /* owned; cap values, allocated at the first observation */
} window_bucket;

typedef struct summary_state {
    uint64_t count;
    double sum;
    uint32_t cap;                  /* samples kept per bucket; 0 = METRICS_BUCKET_SAMPLES */
    window_bucket b[METRICS_BUCKETS];
} summary_state;

/* Summary sets (Apache's SummarySet, label "key"): the per-namespace
 * read/write sizes.  Each key keeps a smaller sample than a summary, and
 * the number of keys is bounded. */
#define METRICS_SET_SAMPLES 64
#define METRICS_SET_MAX_KEYS 1024

typedef enum { MSS_READ_PER_NAMESPACE, MSS_WRITE_PER_NAMESPACE, MSS_COUNT_ } metrics_summary_set;

static const char *const summary_set_names[MSS_COUNT_] = {
    [MSS_READ_PER_NAMESPACE] = "read_per_namespace",
    [MSS_WRITE_PER_NAMESPACE] = "write_per_namespace",
};

static const char *const counter_names[MC_COUNT_] = {
    [MC_BYTES_RECEIVED] = "bytes_received_count",
    [MC_COMMIT] = "commit_count",
    [MC_CONNECTION_REQUEST] = "connection_request_count",
    [MC_DIFF] = "diff_count",
    [MC_LEARNER_COMMIT_RECEIVED] = "learner_commit_received_count",
    [MC_LEARNER_PROPOSAL_RECEIVED] = "learner_proposal_received_count",
    [MC_LOOKING] = "looking_count",
    [MC_OUTSTANDING_CHANGES_QUEUED] = "outstanding_changes_queued",
    [MC_OUTSTANDING_CHANGES_REMOVED] = "outstanding_changes_removed",
    [MC_PROPOSAL] = "proposal_count",
    [MC_RESPONSE_BYTES] = "response_bytes",
    [MC_SNAP] = "snap_count",
    [MC_STALE_SESSIONS_EXPIRED] = "stale_sessions_expired",
    [MC_WATCH_BYTES] = "watch_bytes",
};

static const struct {
    const char *name;
    bool advanced;                 /* DetailLevel.ADVANCED: 0.5, 0.9, 0.99; BASIC: 0.5 */
} summary_defs[MS_COUNT_] = {
    [MS_DBINITTIME] = { "dbinittime", false },
    [MS_ELECTION_TIME] = { "election_time", false },
    [MS_FOLLOWER_SYNC_TIME] = { "follower_sync_time", false },
    [MS_FSYNCTIME] = { "fsynctime", false },
    [MS_LEADER_UNAVAILABLE_TIME] = { "leader_unavailable_time", false },
    [MS_NODE_CHANGED_WATCH_COUNT] = { "node_changed_watch_count", false },
    [MS_NODE_CHILDREN_WATCH_COUNT] = { "node_children_watch_count", false },
    [MS_NODE_CREATED_WATCH_COUNT] = { "node_created_watch_count", false },
    [MS_NODE_DELETED_WATCH_COUNT] = { "node_deleted_watch_count", false },
    [MS_OBSERVER_SYNC_TIME] = { "observer_sync_time", false },
    [MS_PROPAGATION_LATENCY] = { "propagation_latency", true },
    [MS_READLATENCY] = { "readlatency", true },
    [MS_SNAPSHOTTIME] = { "snapshottime", false },
    [MS_STARTUP_SNAP_LOAD_TIME] = { "startup_snap_load_time", false },
    [MS_STARTUP_TXNS_LOAD_TIME] = { "startup_txns_load_time", false },
    [MS_STARTUP_TXNS_LOADED] = { "startup_txns_loaded", false },
    [MS_UNAVAILABLE_TIME] = { "unavailable_time", false },
    [MS_UPDATELATENCY] = { "updatelatency", true },
};

/* ServerMetrics counters of mechanisms zkserver does not have: exported
 * as constant zeros, which is the truth (there is no response cache). */
static const char *const zero_counters[] = {
    "response_packet_cache_hits", "response_packet_cache_misses",
    "response_packet_get_children_cache_hits", "response_packet_get_children_cache_misses",
};

static uint64_t counters_[MC_COUNT_];
static summary_state summaries_[MS_COUNT_];
static GHashTable *summary_sets_[MSS_COUNT_];   /* key (owned) -> summary_state* (owned) */
static GHashTable *quota_exceeded_;   /* namespace (owned) -> uint64_t* (owned) */
static int64_t election_start_ms_ = -1, sync_start_ms_ = -1, snapshot_start_ms_ = -1;
static int64_t unavailable_start_ms_ = -1;

void metrics_count(metrics_counter id, uint64_t delta)
{
    if ((unsigned)id < MC_COUNT_)
        counters_[id] += delta;
}

static void summary_add(summary_state *st, int64_t value)
{
    if (value < 0)
        value = 0;
    uint32_t cap = st->cap ? st->cap : METRICS_BUCKET_SAMPLES;
    int64_t now = loop_now_ms();
    int64_t slot_start = now - now % METRICS_BUCKET_MS;
    window_bucket *b = &st->b[(uint64_t)(now / METRICS_BUCKET_MS) % METRICS_BUCKETS];
    if (b->start_ms != slot_start) {
        b->start_ms = slot_start;
        b->seen = 0;
        b->n = 0;
    }
    if (!b->v)
        b->v = g_new(double, cap);
    st->count++;
    st->sum += (double)value;
    b->seen++;
    if (b->n < cap) {
        b->v[b->n++] = (double)value;
    } else {
        /* reservoir sampling: keep each of the seen values with equal chance */
        uint64_t j = (uint64_t)g_random_double_range(0, (double)b->seen);
        if (j < cap)
            b->v[j] = (double)value;
    }
}

void metrics_observe(metrics_summary id, int64_t value)
{
    if ((unsigned)id < MS_COUNT_)
        summary_add(&summaries_[id], value);
}

static void free_summary(gpointer p)
{
    summary_state *st = p;
    for (int i = 0; i < METRICS_BUCKETS; i++)
        g_free(st->b[i].v);
    g_free(st);
}

/* Java's String.length() of UTF-8 text: UTF-16 code units (a 4-byte
 * sequence is a surrogate pair); bytes of invalid text count one each. */
static int64_t java_length(const char *s)
{
    int64_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if ((*p & 0xC0) != 0x80)
            n++;
        if (*p >= 0xF0)
            n++;
    }
    return n;
}

/* PathUtils.getTopNamespace: the span of "app" in /app/x; false for "/"
 * (and anything not starting with one component). */
static bool top_namespace(const char *path, const char **start, size_t *len)
{
    if (!path || path[0] != '/' || path[1] == '\0' || path[1] == '/')
        return false;
    const char *end = strchr(path + 1, '/');
    *start = path + 1;
    *len = end ? (size_t)(end - path - 1) : strlen(path + 1);
    return true;
}

static void set_add(metrics_summary_set id, const char *path, int64_t value)
{
    const char *start;
    size_t len;
    if (!top_namespace(path, &start, &len))
        return;
    /* the lookup key on the stack: one allocation only for a new key */
    char small[128];
    char *ns = len < sizeof small ? small : g_malloc(len + 1);
    memcpy(ns, start, len);
    ns[len] = '\0';
    if (!summary_sets_[id])
        summary_sets_[id] = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_summary);
    summary_state *st = g_hash_table_lookup(summary_sets_[id], ns);
    if (!st && g_hash_table_size(summary_sets_[id]) < METRICS_SET_MAX_KEYS) {
        st = g_new0(summary_state, 1);
        st->cap = METRICS_SET_SAMPLES;
        g_hash_table_insert(summary_sets_[id], g_strdup(ns), st);
    }
    if (st)
        summary_add(st, value);
    if (ns != small)
        g_free(ns);
}

void metrics_quota_exceeded_path(const char *path)
{
    const char *start;
    size_t len;
    if (!top_namespace(path, &start, &len))
        return;
    char *ns = g_strndup(start, len);
    metrics_quota_exceeded(ns);
    g_free(ns);
}

void metrics_read_stat(const char *path, int64_t bytes)
{
    /* DataTree.updateReadStat: path + bytes + STAT_OVERHEAD_BYTES (6 longs, 5 ints) */
    if (path)
        set_add(MSS_READ_PER_NAMESPACE, path, java_length(path) + bytes + 6 * 8 + 5 * 4);
}

void metrics_write_stat(const char *path, int64_t bytes)
{
    /* DataTree.updateWriteStat: path + bytes */
    if (path)
        set_add(MSS_WRITE_PER_NAMESPACE, path, java_length(path) + bytes);
}

int64_t metrics_name_length(const char *name)
{
    return name ? java_length(name) : 0;
}

void metrics_observe_watch_trigger(int type, unsigned n)
{
    switch (type) {
    case ZK_EVENT_CREATED: metrics_observe(MS_NODE_CREATED_WATCH_COUNT, n); break;
    case ZK_EVENT_DELETED: metrics_observe(MS_NODE_DELETED_WATCH_COUNT, n); break;
    case ZK_EVENT_DATA_CHANGED: metrics_observe(MS_NODE_CHANGED_WATCH_COUNT, n); break;
    case ZK_EVENT_CHILD_CHANGED: metrics_observe(MS_NODE_CHILDREN_WATCH_COUNT, n); break;
    default: break;   /* other types are not recorded, as Apache */
    }
}

void metrics_quota_exceeded(const char *ns)
{
    if (!ns || !*ns)
        return;
    if (!quota_exceeded_)
        quota_exceeded_ = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    uint64_t *v = g_hash_table_lookup(quota_exceeded_, ns);
    if (!v) {
        if (g_hash_table_size(quota_exceeded_) >= METRICS_MAX_NAMESPACES)
            return;
        v = g_new0(uint64_t, 1);
        g_hash_table_insert(quota_exceeded_, g_strdup(ns), v);
    }
    (*v)++;
}

void metrics_election_started(void)
{
    metrics_count(MC_LOOKING, 1);
    election_start_ms_ = loop_now_ms();
}

void metrics_election_finished(void)
{
    if (election_start_ms_ < 0)
        return;
    metrics_observe(MS_ELECTION_TIME, loop_now_ms() - election_start_ms_);
    election_start_ms_ = -1;
}

void metrics_sync_started(void)
{
    sync_start_ms_ = loop_now_ms();
}

void metrics_sync_finished(bool observer)
{
    if (sync_start_ms_ < 0)
        return;
    metrics_observe(observer ? MS_OBSERVER_SYNC_TIME : MS_FOLLOWER_SYNC_TIME, loop_now_ms() - sync_start_ms_);
    sync_start_ms_ = -1;
}

void metrics_unavailable_started(void)
{
    if (unavailable_start_ms_ < 0)
        unavailable_start_ms_ = loop_now_ms();
}

void metrics_unavailable_ended(bool leader)
{
    if (unavailable_start_ms_ < 0)
        return;
    int64_t t = loop_now_ms() - unavailable_start_ms_;
    metrics_observe(MS_UNAVAILABLE_TIME, t);
    if (leader)
        metrics_observe(MS_LEADER_UNAVAILABLE_TIME, t);
    unavailable_start_ms_ = -1;
}

void metrics_snapshot_started(void)
{
    snapshot_start_ms_ = loop_now_ms();
}

void metrics_snapshot_finished(bool ok)
{
    if (snapshot_start_ms_ >= 0 && ok)
        metrics_observe(MS_SNAPSHOTTIME, loop_now_ms() - snapshot_start_ms_);
    snapshot_start_ms_ = -1;
}

/* ------------------------------------------------------------------ */
/* exposition format                                                   */
/* ------------------------------------------------------------------ */

/* Java's Double.toString (what simpleclient 0.9.0 prints): the shortest
 * digits that read back as d; plain notation with at least one decimal
 * for 1e-3 <= |d| < 1e7, else d.dddE<exp>; NaN, +Inf and -Inf as Go
 * spells them. */
static void append_java_double(GString *out, double d)
{
    if (isnan(d)) {
        g_string_append(out, "NaN");
        return;
    }
    if (isinf(d)) {
        g_string_append(out, d > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (d == 0) {
        g_string_append(out, signbit(d) ? "-0.0" : "0.0");
        return;
    }
    char buf[40];
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, sizeof buf, "%.*e", p - 1, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    /* buf: [-]D[.DDD]e[+-]XX */
    char digits[24];
    size_t nd = 0;
    const char *c = buf;
    bool neg = *c == '-';
    if (neg)
        c++;
    for (; *c && *c != 'e' && nd < sizeof digits - 1; c++)
        if (*c >= '0' && *c <= '9')
            digits[nd++] = *c;
    digits[nd] = '\0';
    int exp = *c == 'e' ? atoi(c + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    if (neg)
        g_string_append_c(out, '-');
    double a = fabs(d);
    if (a >= 1e-3 && a < 1e7) {
        if (exp >= 0) {
            for (int i = 0; i <= exp; i++)
                g_string_append_c(out, (size_t)i < nd ? digits[i] : '0');
            g_string_append_c(out, '.');
            if ((size_t)exp + 1 < nd)
                g_string_append(out, digits + exp + 1);
            else
                g_string_append_c(out, '0');
        } else {
            g_string_append(out, "0.");
            for (int i = 0; i < -exp - 1; i++)
                g_string_append_c(out, '0');
            g_string_append(out, digits);
        }
    } else {
        g_string_append_c(out, digits[0]);
        g_string_append_c(out, '.');
        g_string_append(out, nd > 1 ? digits + 1 : "0");
        g_string_append_printf(out, "E%d", exp);
    }
}

/* A label value escaped as the exposition format wants: \\, \" and \n. */
static void append_label_value(GString *out, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            g_string_append(out, "\\\\");
        else if (*v == '"')
            g_string_append(out, "\\\"");
        else if (*v == '\n')
            g_string_append(out, "\\n");
        else
            g_string_append_c(out, *v);
    }
}

static gint compare_str(gconstpointer a, gconstpointer b, gpointer unused)
{
    (void)unused;
    return strcmp(a, b);
}

typedef struct render_ctx {
    GTree *families;               /* family name (owned) -> GString* (owned): sorted output */
    GString *out;                  /* the current family's text (in families), NULL when skipped */
    const char *const *only;       /* NULL-terminated, or NULL for all */
    bool on;                       /* the current family is written */
    bool dump;                     /* mntr lines instead of the exposition format */
} render_ctx;

static bool wanted(const render_ctx *r, const char *name)
{
    if (!r->only)
        return true;
    for (const char *const *p = r->only; *p; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

/* Starts family name of type; its samples follow while r->on.  The help
 * text is the name (Apache builds every collector as build(name, name));
 * help is escaped (\\ and \n) as the format wants. */
static void family(render_ctx *r, const char *name, const char *type, const char *help)
{
    r->on = wanted(r, name) && !g_tree_lookup(r->families, name);
    r->out = NULL;
    if (!r->on)
        return;
    r->out = g_string_new(NULL);
    g_tree_insert(r->families, g_strdup(name), r->out);
    if (r->dump)
        return;
    g_string_append_printf(r->out, "# HELP %s ", name);
    for (const char *h = help ? help : name; *h; h++) {
        if (*h == '\\')
            g_string_append(r->out, "\\\\");
        else if (*h == '\n')
            g_string_append(r->out, "\\n");
        else
            g_string_append_c(r->out, *h);
    }
    g_string_append_printf(r->out, "\n# TYPE %s %s\n", name, type);
}

/* One sample line: name[suffix]{k1="v1",k2="v2",} value.  label names
 * and values: up to two pairs (NULL name = none). */
static void sample(render_ctx *r, const char *name, const char *suffix, const char *k1, const char *v1,
                   const char *k2, const char *v2, double value)
{
    if (!r->on)
        return;
    if (r->dump) {
        /* PrometheusMetricsProvider.dump as MonitorCommand prints it:
         * zk_<name>{k="v",k2="v2"}<TAB><Double.toString>, the label values
         * as they are (buildKeyForDump does not escape them) */
        g_string_append_printf(r->out, "zk_%s%s", name, suffix ? suffix : "");
        if (k1) {
            g_string_append_printf(r->out, "{%s=\"%s\"", k1, v1);
            if (k2)
                g_string_append_printf(r->out, ",%s=\"%s\"", k2, v2);
            g_string_append_c(r->out, '}');
        }
        g_string_append_c(r->out, '\t');
        append_java_double(r->out, value);
        g_string_append_c(r->out, '\n');
        return;
    }
    g_string_append(r->out, name);
    if (suffix)
        g_string_append(r->out, suffix);
    if (k1) {
        g_string_append_printf(r->out, "{%s=\"", k1);
        append_label_value(r->out, v1);
        g_string_append(r->out, "\",");
        if (k2) {
            g_string_append_printf(r->out, "%s=\"", k2);
            append_label_value(r->out, v2);
            g_string_append(r->out, "\",");
        }
        g_string_append_c(r->out, '}');
    }
    g_string_append_c(r->out, ' ');
    append_java_double(r->out, value);
    g_string_append_c(r->out, '\n');
}

static void gauge(render_ctx *r, const char *name, double value)
{
    family(r, name, "gauge", NULL);
    sample(r, name, NULL, NULL, NULL, NULL, NULL, value);
}

static void counter(render_ctx *r, const char *name, double value)
{
    family(r, name, "counter", NULL);
    sample(r, name, NULL, NULL, NULL, NULL, NULL, value);
}

static int compare_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The samples of one summary (key NULL) or of one key of a summary set. */
static void summary_samples(render_ctx *r, const char *name, bool advanced, const char *key,
                            const summary_state *st)
{
    int64_t now = loop_now_ms();
    int64_t window_start = now - (int64_t)METRICS_BUCKETS * METRICS_BUCKET_MS;
    size_t n = 0;
    double *all = g_new(double, (size_t)METRICS_BUCKETS * (st->cap ? st->cap : METRICS_BUCKET_SAMPLES));
    for (int i = 0; i < METRICS_BUCKETS; i++) {
        const window_bucket *b = &st->b[i];
        if (b->n == 0 || b->start_ms <= window_start)
            continue;
        memcpy(all + n, b->v, b->n * sizeof(double));
        n += b->n;
    }
    qsort(all, n, sizeof(double), compare_double);
    static const double qs[] = { 0.5, 0.9, 0.99 };
    static const char *const qnames[] = { "0.5", "0.9", "0.99" };
    for (int i = 0; i < (advanced ? 3 : 1); i++) {
        double v = NAN;
        if (n > 0) {
            /* nearest rank: the smallest value with at least q of the sample at or below it */
            size_t rank = (size_t)ceil(qs[i] * (double)n);
            v = all[rank == 0 ? 0 : rank - 1];
        }
        if (key)
            sample(r, name, NULL, "key", key, "quantile", qnames[i], v);
        else
            sample(r, name, NULL, "quantile", qnames[i], NULL, NULL, v);
    }
    g_free(all);
    sample(r, name, "_count", key ? "key" : NULL, key, NULL, NULL, (double)st->count);
    sample(r, name, "_sum", key ? "key" : NULL, key, NULL, NULL, st->sum);
}

static void render_summary(render_ctx *r, metrics_summary id)
{
    family(r, summary_defs[id].name, "summary", NULL);
    if (r->on)
        summary_samples(r, summary_defs[id].name, summary_defs[id].advanced, NULL, &summaries_[id]);
}

/* A BASIC summary set: no samples until a key has one (as Java's). */
static void render_summary_set(render_ctx *r, metrics_summary_set id)
{
    const char *name = summary_set_names[id];
    family(r, name, "summary", NULL);
    if (!r->on || !summary_sets_[id])
        return;
    GList *keys = g_list_sort(g_hash_table_get_keys(summary_sets_[id]), (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next)
        summary_samples(r, name, false, l->data, g_hash_table_lookup(summary_sets_[id], l->data));
    g_list_free(keys);
}

/* ------------------------------------------------------------------ */
/* gauges read from the server                                         */
/* ------------------------------------------------------------------ */

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

/* Apache's AvgMinMaxCounter.getAvg: total/count rounded half up to 4
 * decimals, 0 without samples. */
static double java_avg(int64_t total, int64_t count)
{
    if (count <= 0 || total < 0)
        return 0.0;
    return floor((double)total * 10000.0 / (double)count + 0.5) / 10000.0;
}

/* StatsTrack value of key in "count=1,bytes=5,countHardLimit=..." (pairs
 * split by , or ;), -1 when absent or not a number. */
static int64_t stats_track_value(const uint8_t *data, int32_t len, const char *key)
{
    if (!data || len <= 0)
        return -1;
    char *text = g_strndup((const char *)data, (gsize)len);
    int64_t v = -1;
    char **pairs = g_strsplit_set(text, ",;", -1);
    for (char **p = pairs; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq)
            continue;
        *eq = '\0';
        if (strcmp(*p, key) != 0)
            continue;
        char *end = NULL;
        errno = 0;
        long long n = strtoll(eq + 1, &end, 10);
        if (eq[1] && end && *end == '\0' && errno == 0)
            v = n;
    }
    g_strfreev(pairs);
    g_free(text);
    return v;
}

typedef struct quota_sums {
    GTree *count_limit, *bytes_limit, *count_usage, *bytes_usage; /* ns (owned) -> int64_t* (owned) */
    int visited;
} quota_sums;

static void quota_add(GTree *t, const char *ns, int64_t v)
{
    int64_t *p = g_tree_lookup(t, ns);
    if (!p) {
        p = g_new0(int64_t, 1);
        g_tree_insert(t, g_strdup(ns), p);
    }
    *p += v;
}

/* One leaf of the quota tree (see quota_walk). */
static void quota_leaf(const zk_node *n, quota_sums *q)
{
    bool limits = strcmp(n->name, "zookeeper_limits") == 0;
    bool stats = strcmp(n->name, "zookeeper_stats") == 0;
    if (!limits && !stats)
        return;
    const char *trimmed = n->path + strlen("/zookeeper/quota");
    if (*trimmed != '/')
        return;
    const char *start = trimmed + 1, *slash = strchr(start, '/');
    if (!slash || slash == start)
        return;
    char *ns = g_strndup(start, (gsize)(slash - start));
    if (limits) {
        int64_t hard = stats_track_value(n->data, n->data_len, "countHardLimit");
        quota_add(q->count_limit, ns, hard > -1 ? hard : stats_track_value(n->data, n->data_len, "count"));
        hard = stats_track_value(n->data, n->data_len, "byteHardLimit");
        quota_add(q->bytes_limit, ns, hard > -1 ? hard : stats_track_value(n->data, n->data_len, "bytes"));
    } else {
        quota_add(q->count_usage, ns, stats_track_value(n->data, n->data_len, "count"));
        quota_add(q->bytes_usage, ns, stats_track_value(n->data, n->data_len, "bytes"));
    }
    g_free(ns);
}

/* QuotaMetricsUtils.getQuotaLimitOrUsage: the leaves under
 * /zookeeper/quota named zookeeper_limits / zookeeper_stats, summed by the
 * top namespace of the quota'd path (limits: the hard limit if set, else
 * the soft one).  Iterative (a client can build a deep chain under
 * /zookeeper/quota) and bounded to METRICS_QUOTA_WALK_LIMIT nodes. */
static void quota_walk(const zk_node *root, quota_sums *q)
{
    GPtrArray *todo = g_ptr_array_new();   /* zk_node*, borrowed */
    g_ptr_array_add(todo, (gpointer)root);
    while (todo->len > 0 && q->visited < METRICS_QUOTA_WALK_LIMIT) {
        const zk_node *n = g_ptr_array_remove_index(todo, todo->len - 1);
        q->visited++;
        if (n->children.size == 0) {
            quota_leaf(n, q);
            continue;
        }
        for (jset_entry *e = jset_first(&n->children); e; e = jset_next(&n->children, e))
            g_ptr_array_add(todo, e->value);
    }
    g_ptr_array_free(todo, TRUE);
}

typedef struct keyed_ctx {
    render_ctx *r;
    const char *name;
} keyed_ctx;

static gboolean emit_keyed_value(gpointer key, gpointer value, gpointer data)
{
    keyed_ctx *k = data;
    sample(k->r, k->name, NULL, "key", key, NULL, NULL, (double)*(int64_t *)value);
    return FALSE;
}

static void keyed_gauges(render_ctx *r, const char *name, GTree *t)
{
    family(r, name, "gauge", NULL);
    keyed_ctx k = { r, name };
    g_tree_foreach(t, emit_keyed_value, &k);
}

static void render_quota_gauges(render_ctx *r, const zk_server *s)
{
    quota_sums q = { 0 };
    q.count_limit = g_tree_new_full(compare_str, NULL, g_free, g_free);
    q.bytes_limit = g_tree_new_full(compare_str, NULL, g_free, g_free);
    q.count_usage = g_tree_new_full(compare_str, NULL, g_free, g_free);
    q.bytes_usage = g_tree_new_full(compare_str, NULL, g_free, g_free);
    const zk_node *root = tree_get(s->tree, "/zookeeper/quota");
    if (root)
        quota_walk(root, &q);
    keyed_gauges(r, "quota_bytes_limit_per_namespace", q.bytes_limit);
    keyed_gauges(r, "quota_bytes_usage_per_namespace", q.bytes_usage);
    keyed_gauges(r, "quota_count_limit_per_namespace", q.count_limit);
    keyed_gauges(r, "quota_count_usage_per_namespace", q.count_usage);
    g_tree_destroy(q.count_limit);
    g_tree_destroy(q.bytes_limit);
    g_tree_destroy(q.count_usage);
    g_tree_destroy(q.bytes_usage);
}

static void render_quota_exceeded(render_ctx *r)
{
    family(r, "quota_exceeded_error_per_namespace", "counter", NULL);
    if (!quota_exceeded_ || !r->on)
        return;
    GList *keys = g_list_sort(g_hash_table_get_keys(quota_exceeded_), (GCompareFunc)strcmp);
    for (GList *l = keys; l; l = l->next)
        sample(r, "quota_exceeded_error_per_namespace", NULL, "key", l->data, NULL, NULL,
               (double)*(uint64_t *)g_hash_table_lookup(quota_exceeded_, l->data));
    g_list_free(keys);
}

/* ZooKeeperServer.registerMetrics' gauges (plus the quota gauge sets). */
static void render_server_gauges(render_ctx *r, zk_server *s)
{
    gauge(r, "approximate_data_size", (double)s->tree->data_size);
    gauge(r, "auth_failed_count", (double)s->auth_failed_count);
    gauge(r, "avg_latency", java_avg(s->total_latency, s->latency_count));
    gauge(r, "connection_drop_probability", 0.0);
    gauge(r, "ephemerals_count", (double)ephemerals_count(s->tree));
    gauge(r, "global_sessions", (double)g_hash_table_size(s->sessions.by_id));
    gauge(r, "last_client_response_size", (double)s->last_response_size);
    gauge(r, "local_sessions", 0.0);   /* zkserver has no local sessions */
    gauge(r, "max_client_response_size", (double)s->max_response_size);
    gauge(r, "max_file_descriptor_count", (double)procinfo_max_fds());
    gauge(r, "max_latency", (double)s->max_latency);
    gauge(r, "min_client_response_size", (double)s->min_response_size);
    gauge(r, "min_latency", (double)(s->min_latency < 0 ? 0 : s->min_latency));
    gauge(r, "non_mtls_local_conn_count", 0.0);
    gauge(r, "non_mtls_remote_conn_count", 0.0);
    gauge(r, "num_alive_connections", (double)g_hash_table_size(s->conns));
    gauge(r, "open_file_descriptor_count", (double)procinfo_open_fds());
    gauge(r, "outstanding_requests", (double)s->outstanding);
    gauge(r, "outstanding_tls_handshake", 0.0);
    gauge(r, "packets_received", (double)s->packets_received);
    gauge(r, "packets_sent", (double)s->packets_sent);
    render_quota_gauges(r, s);
    gauge(r, "uptime", (double)(loop_now_ms() - s->start_ms));
    gauge(r, "watch_count", (double)(watch_total(s->tree->data_watches) + watch_total(s->tree->child_watches)));
    gauge(r, "znode_count", (double)tree_node_count(s->tree) + 1);
}

/* LeaderZooKeeperServer / FollowerZooKeeperServer / QuorumZooKeeperServer
 * gauges. */
static void render_role_gauges(render_ctx *r, zk_server *s)
{
    if (!s->quorum)
        return;
    quorum_stats st;
    memset(&st, 0, sizeof st);
    quorum_get_stats(s->quorum, &st);
    if (s->role == SERVER_LEADING) {
        gauge(r, "last_proposal_size", (double)st.last_proposal_size);
        gauge(r, "leader_uptime", (double)st.leader_uptime_ms);
        gauge(r, "learners", (double)st.learners);
        gauge(r, "max_proposal_size", (double)st.max_proposal_size);
        gauge(r, "min_proposal_size", (double)st.min_proposal_size);
        gauge(r, "pending_syncs", (double)st.pending_syncs);
        gauge(r, "synced_followers", (double)st.synced_followers);
        gauge(r, "synced_non_voting_followers", (double)st.synced_non_voting_followers);
    }
    if (s->role == SERVER_LEADING || s->role == SERVER_FOLLOWING)
        gauge(r, "synced_observers", s->role == SERVER_LEADING ? (double)st.synced_observers : 0.0);
    gauge(r, "quorum_size", (double)st.voters);
}

/* StandardExports of the Prometheus Java client (exportJvmInfo=true). */
static void render_process(render_ctx *r)
{
    long tck = sysconf(_SC_CLK_TCK);
    long page = sysconf(_SC_PAGESIZE);
    double cpu = 0, start = 0, vsize = 0, rss = 0;
    char *stat = NULL;
    if (g_file_get_contents("/proc/self/stat", &stat, NULL, NULL)) {
        /* fields after "(comm)": state is field 3; utime 14, stime 15,
         * starttime 22, vsize 23, rss 24 */
        const char *p = strrchr(stat, ')');
        char **f = p ? g_strsplit(p + 2, " ", -1) : NULL;
        if (f && g_strv_length(f) > 21 && tck > 0) {
            cpu = (g_ascii_strtod(f[11], NULL) + g_ascii_strtod(f[12], NULL)) / (double)tck;
            double boot = 0;
            char *s = NULL;
            if (g_file_get_contents("/proc/stat", &s, NULL, NULL)) {
                const char *b = strstr(s, "\nbtime ");
                if (b)
                    boot = g_ascii_strtod(b + 7, NULL);
                g_free(s);
            }
            start = boot + g_ascii_strtod(f[19], NULL) / (double)tck;
            vsize = g_ascii_strtod(f[20], NULL);
            rss = g_ascii_strtod(f[21], NULL) * (double)(page > 0 ? page : 4096);
        }
        g_strfreev(f);
        g_free(stat);
    }
    family(r, "process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
    sample(r, "process_cpu_seconds_total", NULL, NULL, NULL, NULL, NULL, cpu);
    family(r, "process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.");
    sample(r, "process_start_time_seconds", NULL, NULL, NULL, NULL, NULL, start);
    family(r, "process_open_fds", "gauge", "Number of open file descriptors.");
    sample(r, "process_open_fds", NULL, NULL, NULL, NULL, NULL, (double)procinfo_open_fds());
    family(r, "process_max_fds", "gauge", "Maximum number of open file descriptors.");
    sample(r, "process_max_fds", NULL, NULL, NULL, NULL, NULL, (double)procinfo_max_fds());
    family(r, "process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.");
    sample(r, "process_virtual_memory_bytes", NULL, NULL, NULL, NULL, NULL, vsize);
    family(r, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    sample(r, "process_resident_memory_bytes", NULL, NULL, NULL, NULL, NULL, rss);
}

static void free_gstring(gpointer p)
{
    g_string_free(p, TRUE);
}

static gboolean concat_family(gpointer key, gpointer value, gpointer data)
{
    (void)key;
    const GString *f = value;
    g_string_append_len(data, f->str, (gssize)f->len);
    return FALSE;
}

static char *render(zk_server *s, const char *const *only, bool dump)
{
    render_ctx r = { .families = g_tree_new_full(compare_str, NULL, g_free, free_gstring), .only = only,
                     .dump = dump };
    /* ServerMetrics: always registered */
    for (int i = 0; i < MC_COUNT_; i++)
        counter(&r, counter_names[i], (double)counters_[i]);
    counter(&r, "connection_rejected", (double)s->cnxns_rejected);
    counter(&r, "sessionless_connections_expired", (double)s->sessionless_expired);
    for (size_t i = 0; i < G_N_ELEMENTS(zero_counters); i++)
        counter(&r, zero_counters[i], 0.0);
    render_quota_exceeded(&r);
    for (int i = 0; i < MS_COUNT_; i++)
        render_summary(&r, (metrics_summary)i);
    for (int i = 0; i < MSS_COUNT_; i++)
        render_summary_set(&r, (metrics_summary_set)i);
    /* the gauges of a running ZooKeeperServer */
    if (server_is_serving(s)) {
        render_server_gauges(&r, s);
        render_role_gauges(&r, s);
    }
    if (s->cfg->metrics_export_jvm_info)
        render_process(&r);
    GString *out = g_string_new(NULL);
    g_tree_foreach(r.families, concat_family, out);
    g_tree_destroy(r.families);
    return g_string_free(out, FALSE);
}

char *metrics_render(zk_server *s, const char *const *only)
{
    return render(s, only, false);
}

bool metrics_prometheus_enabled(const zk_config *cfg)
{
    return cfg->metrics_class_name && strcmp(cfg->metrics_class_name, PROMETHEUS_PROVIDER) == 0;
}

void metrics_dump(zk_server *s, GString *out)
{
    char *text = render(s, NULL, true);
    g_string_append(out, text);
    g_free(text);
}

/* ------------------------------------------------------------------ */
/* HTTP                                                                */
/* ------------------------------------------------------------------ */

static http_server *http_ = NULL;   /* owned */
static zk_server *server_ = NULL;

typedef struct filter_ctx {
    const char *names[METRICS_MAX_FILTERS + 1];
    int n;
} filter_ctx;

static enum MHD_Result collect_filter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    filter_ctx *f = cls;
    if (key && value && strcmp(key, "name[]") == 0 && f->n < METRICS_MAX_FILTERS)
        f->names[f->n++] = value;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    (void)upload_data;
    (void)con_cls;
    bool served = strcmp(method, MHD_HTTP_METHOD_GET) == 0 || strcmp(method, MHD_HTTP_METHOD_HEAD) == 0 ||
                  strcmp(method, MHD_HTTP_METHOD_POST) == 0;
    *upload_data_size = 0;   /* a body is never read */
    if (strlen(url) > METRICS_MAX_URL)
        return http_respond_error(conn, MHD_HTTP_URI_TOO_LONG, "URI Too Long");
    if (strcmp(url, METRICS_PATH) != 0)
        return http_respond_error(conn, MHD_HTTP_NOT_FOUND, "Not Found");
    if (!served)
        return http_respond_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "HTTP method not supported by this URL");
    filter_ctx f = { .n = 0 };
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_filter, &f);
    f.names[f.n] = NULL;
    char *text = metrics_render(server_, f.n ? f.names : NULL);
    enum MHD_Result r = http_respond(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8", text);
    g_free(text);
    return r;
}

int metrics_start(zk_server *s)
{
    const zk_config *cfg = s->cfg;
    if (http_ || !cfg->metrics_class_name)
        return 0;
    if (strcmp(cfg->metrics_class_name, PROMETHEUS_PROVIDER) != 0) {
        if (strcmp(cfg->metrics_class_name, "org.apache.zookeeper.metrics.impl.DefaultMetricsProvider") == 0 ||
            strcmp(cfg->metrics_class_name, "org.apache.zookeeper.metrics.impl.NullMetricsProvider") == 0)
            return 0;
        /* Apache cannot load the class and does not start */
        LOG_ERROR("Cannot boot MetricsProvider %s: zkserver provides only %s", cfg->metrics_class_name,
                  PROMETHEUS_PROVIDER);
        return -1;
    }
    const char *host = cfg->metrics_http_host;
    server_ = s;
    http_server_opts o = {
        .name = "metrics endpoint",
        .host = host,
        .port = cfg->metrics_http_port,
        .idle_timeout_s = METRICS_IDLE_TIMEOUT_S,
        .max_connections = METRICS_MAX_CONNECTIONS,
        .max_per_ip = METRICS_MAX_PER_IP,
        .memory_limit = METRICS_MEMORY_LIMIT,
        .handler = on_request,
    };
    http_start_result why;
    http_ = http_server_start(s->loop, &o, &why);
    if (!http_) {
        if (why == HTTP_START_BAD_ADDRESS)
            LOG_ERROR("Cannot start /metrics server: metricsProvider.httpHost %s is not an IP address", host);
        else if (why == HTTP_START_NO_EPOLL)
            LOG_ERROR("Cannot start /metrics server: no epoll descriptor");
        else
            LOG_ERROR("Cannot start /metrics server on %s:%d: %s", host, cfg->metrics_http_port, g_strerror(errno));
        server_ = NULL;
        return -1;
    }
    LOG_INFO("Starting /metrics HTTP endpoint at host: %s, port: %d, exportJvmInfo: %s", host,
             cfg->metrics_http_port, cfg->metrics_export_jvm_info ? "true" : "false");
    return 0;
}

void metrics_tick(void)
{
    http_server_run(http_);
}

void metrics_stop(void)
{
    http_server_stop(http_);
    http_ = NULL;
    server_ = NULL;
}
