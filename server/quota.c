/* quota.c — quota roots, stats znodes and enforcement (see quota.h). */
#include "quota.h"

#include <stdarg.h>
#include <string.h>

#include "jset.h"
#include "log.h"
#include "zk/proto.h"

/* ------------------------------------------------------------------ */
/* StatsTrack                                                          */

void quota_stats_init(quota_stats *st)
{
    st->keys = g_ptr_array_new_with_free_func(g_free);
    st->values = g_array_new(FALSE, FALSE, sizeof(int64_t));
}

void quota_stats_clear(quota_stats *st)
{
    if (st->keys)
        g_ptr_array_free(st->keys, TRUE);
    if (st->values)
        g_array_free(st->values, TRUE);
    st->keys = NULL;
    st->values = NULL;
}

static void stats_empty(quota_stats *st)
{
    g_ptr_array_set_size(st->keys, 0);
    g_array_set_size(st->values, 0);
}

static int stats_find(const quota_stats *st, const char *key)
{
    for (guint i = 0; i < st->keys->len; i++)
        if (strcmp(g_ptr_array_index(st->keys, i), key) == 0)
            return (int)i;
    return -1;
}

int64_t quota_stats_get(const quota_stats *st, const char *key)
{
    int i = stats_find(st, key);
    return i < 0 ? -1 : g_array_index(st->values, int64_t, i);
}

void quota_stats_set(quota_stats *st, const char *key, int64_t value)
{
    int i = stats_find(st, key);
    if (i >= 0) {
        g_array_index(st->values, int64_t, i) = value;
        return;
    }
    g_ptr_array_add(st->keys, g_strdup(key));
    g_array_append_val(st->values, value);
}

/* Long.parseLong(s[0..n)) for ASCII digits; false where it throws. */
static bool java_parse_long(const char *s, size_t n, int64_t *out)
{
    if (n == 0)
        return false;
    size_t i = 0;
    bool neg = false;
    if (s[0] == '-' || s[0] == '+') {
        neg = s[0] == '-';
        i = 1;
        if (n == 1)
            return false;
    }
    /* accumulate negatively, as Java does, so INT64_MIN parses */
    int64_t limit = neg ? INT64_MIN : -INT64_MAX;
    int64_t mulmin = limit / 10;
    int64_t acc = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        int d = s[i] - '0';
        if (acc < mulmin)
            return false;
        acc *= 10;
        if (acc < limit + d)
            return false;
        acc -= d;
    }
    *out = neg ? acc : -acc;
    return true;
}

/* One "key=value" pair of StatsTrack(String): keyValuePair.split("=") then
 * kv[0] and kv[1] (an IndexOutOfBounds where there are fewer parts). */
static bool parse_pair(quota_stats *st, const char *p, size_t n)
{
    /* parts of split("="): trailing empty parts removed */
    const char *part0 = p, *part1 = NULL;
    size_t len0 = n, len1 = 0;
    const char *eq = memchr(p, '=', n);
    size_t nonempty_end = n;
    while (nonempty_end > 0 && p[nonempty_end - 1] == '=')
        nonempty_end--;
    if (nonempty_end == 0)
        return false;                 /* "", "==": no parts at all, or [""] */
    if (!eq || (size_t)(eq - p) >= nonempty_end)
        return false;                 /* one part only: kv[1] throws */
    len0 = (size_t)(eq - p);
    part1 = eq + 1;
    const char *eq2 = memchr(part1, '=', nonempty_end - (size_t)(part1 - p));
    len1 = eq2 ? (size_t)(eq2 - part1) : nonempty_end - (size_t)(part1 - p);
    int64_t v = -1;
    if (len1 > 0 && !java_parse_long(part1, len1, &v))
        return false;
    char *key = g_strndup(part0, len0);
    quota_stats_set(st, key, v);
    g_free(key);
    return true;
}

bool quota_stats_parse(quota_stats *st, const uint8_t *data, int32_t len)
{
    stats_empty(st);
    if (len < 0)
        return false;                 /* new String(null): NullPointerException */
    if (len == 0)
        return true;
    if (memchr(data, 0, (size_t)len))
        return false;                 /* see docs/compatibility.md: not modelled */
    char *text = g_utf8_make_valid((const char *)data, len);
    size_t n = strlen(text);
    /* PAIRS_SEPARATOR.split: runs of ',' / ';' separate; a leading run
     * makes an empty first pair; trailing empty pairs are dropped. */
    bool ok = true;
    size_t i = 0;
    bool first = true;
    while (i <= n && ok) {
        size_t j = i;
        while (j < n && text[j] != ',' && text[j] != ';')
            j++;
        size_t k = j;
        while (k < n && (text[k] == ',' || text[k] == ';'))
            k++;
        bool last = k >= n;
        if (j > i)
            ok = parse_pair(st, text + i, j - i);
        else if (first && !last)
            ok = false;               /* "".split("=") is [""]: kv[1] throws */
        first = false;
        if (last)
            break;
        i = k;
    }
    g_free(text);
    if (!ok)
        stats_empty(st);
    return ok;
}

/* Java String.compareTo: by UTF-16 unit. */
static gint java_string_cmp(gconstpointer a, gconstpointer b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    gunichar2 *ux = g_utf8_to_utf16(x, -1, NULL, NULL, NULL);
    gunichar2 *uy = g_utf8_to_utf16(y, -1, NULL, NULL, NULL);
    gint r = 0;
    if (!ux || !uy) {
        r = strcmp(x, y);
    } else {
        size_t i = 0;
        while (ux[i] && ux[i] == uy[i])
            i++;
        r = (gint)ux[i] - (gint)uy[i];
    }
    g_free(ux);
    g_free(uy);
    return r;
}

char *quota_stats_format(const quota_stats *st)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "count=%" G_GINT64_FORMAT ",bytes=%" G_GINT64_FORMAT,
                           quota_stats_get(st, "count"), quota_stats_get(st, "bytes"));
    GPtrArray *others = g_ptr_array_new();
    for (guint i = 0; i < st->keys->len; i++) {
        const char *k = g_ptr_array_index(st->keys, i);
        if (strcmp(k, "count") != 0 && strcmp(k, "bytes") != 0)
            g_ptr_array_add(others, (gpointer)k);
    }
    if (others->len > 0) {
        g_string_append_c(s, '=');
        g_ptr_array_sort(others, java_string_cmp);
        for (guint i = 0; i < others->len; i++) {
            const char *k = g_ptr_array_index(others, i);
            g_string_append_printf(s, ";%s=%" G_GINT64_FORMAT, k, quota_stats_get(st, k));
        }
    }
    g_ptr_array_free(others, TRUE);
    return g_string_free(s, FALSE);
}

/* ------------------------------------------------------------------ */
/* the path trie                                                       */

struct quota_trie {
    GHashTable *roots;   /* normalised path ("/c1/c2") -> itself, owned */
};

quota_trie *quota_trie_new(void)
{
    quota_trie *q = g_new0(quota_trie, 1);
    q->roots = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return q;
}

void quota_trie_free(quota_trie *q)
{
    if (!q)
        return;
    g_hash_table_destroy(q->roots);
    g_free(q);
}

guint quota_trie_size(const quota_trie *q)
{
    return g_hash_table_size(q->roots);
}

/* String.trim().isEmpty(): every char is <= U+0020. */
static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] > ' ')
            return false;
    return true;
}

/* PathTrie.split: the components that are not blank, joined as
 * "/c1/c2" (g_malloc'd); "" when there are none. */
static char *trie_normalise(const char *path)
{
    GString *s = g_string_new(NULL);
    const char *p = path;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n > 0 && !blank(p, n)) {
            g_string_append_c(s, '/');
            g_string_append_len(s, p, (gssize)n);
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return g_string_free(s, FALSE);
}

void quota_trie_add(quota_trie *q, const char *path)
{
    char *norm = trie_normalise(path);
    if (!norm[0]) {
        g_free(norm);
        return;
    }
    g_hash_table_add(q->roots, norm);
}

void quota_trie_delete(quota_trie *q, const char *path)
{
    char *norm = trie_normalise(path);
    g_hash_table_remove(q->roots, norm);
    g_free(norm);
}

char *quota_max_prefix(const quota_trie *q, const char *path)
{
    if (!q || g_hash_table_size(q->roots) == 0)
        return NULL;
    char *norm = trie_normalise(path);
    if (!norm[0]) {
        g_free(norm);
        return NULL;
    }
    size_t best = 0;
    for (size_t i = 1; ; i++) {
        if (norm[i] == '/' || norm[i] == 0) {
            char c = norm[i];
            norm[i] = 0;
            if (g_hash_table_contains(q->roots, norm))
                best = i;
            norm[i] = c;
            if (!c)
                break;
        }
    }
    if (best == 0) {
        g_free(norm);
        return NULL;
    }
    norm[best] = 0;
    return norm;
}

/* ------------------------------------------------------------------ */
/* stats znodes                                                        */

/* The ERROR/WARN lines about broken quota znodes: a client that may write
 * under /zookeeper/quota can make one fire on every write, so at most one
 * line a second (with the count of the lines skipped meanwhile). */
static log_limiter quota_log_limit;

static void G_GNUC_PRINTF(2, 3) quota_log(const char *level, const char *fmt, ...)
{
    uint64_t skipped;
    if (!log_limiter_allow(&quota_log_limit, 1000, &skipped))
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (skipped > 0)
        zk_log(level, "%s (%" G_GUINT64_FORMAT " more quota lines skipped)", msg, skipped);
    else
        zk_log(level, "%s", msg);
    g_free(msg);
}

static void node_set_data(zk_node *n, const char *text)
{
    /* The data changes and nothing else: no Stat change, no watch, and
     * Apache's approximate data size is not adjusted either. */
    g_free(n->data);
    n->data_len = (int32_t)strlen(text);
    n->data = n->data_len > 0 ? g_memdup2(text, (gsize)n->data_len) : NULL;
}

/* DataTree.updateQuotaStat. */
static void update_quota_stat(zk_tree *t, const char *prefix, int64_t bytes_diff, int64_t count_diff)
{
    char *stat_path = g_strconcat(ZK_QUOTA_ROOT, prefix, "/" ZK_QUOTA_STATS, NULL);
    zk_node *n = tree_get(t, stat_path);
    if (!n) {
        quota_log("ERROR", "Missing node for stat %s", stat_path);
        g_free(stat_path);
        return;
    }
    quota_stats st;
    quota_stats_init(&st);
    if (quota_stats_parse(&st, n->data, n->data_len)) {
        int64_t c = (int64_t)((uint64_t)quota_stats_get(&st, "count") + (uint64_t)count_diff);
        quota_stats_set(&st, "count", c);
        int64_t b = (int64_t)((uint64_t)quota_stats_get(&st, "bytes") + (uint64_t)bytes_diff);
        quota_stats_set(&st, "bytes", b);
        char *text = quota_stats_format(&st);
        node_set_data(n, text);
        g_free(text);
    } else {
        /* Apache's StatsTrack throws here (the commit thread dies); the
         * stats are left as they are, the same on every replica. */
        quota_log("ERROR", "quota: %s does not parse as quota stats; not updated", stat_path);
    }
    quota_stats_clear(&st);
    g_free(stat_path);
}

typedef struct counts {
    int64_t bytes;
    int32_t count;
} counts;

static void count_visit(const zk_node *n, void *ctx)
{
    counts *c = ctx;
    c->count = zk_jint_add(c->count, 1);
    c->bytes += n->data_len > 0 ? n->data_len : 0;
}

/* DataTree.updateQuotaForPath: the stats znode of path gets the node and
 * byte count of path's subtree (nothing when path is absent). */
static void update_quota_for_path(zk_tree *t, const char *path)
{
    counts c = { 0, 0 };
    zk_node *root = tree_get(t, path);
    if (root)
        tree_walk(root, count_visit, &c);
    char *stat_path = g_strconcat(ZK_QUOTA_ROOT, path, "/" ZK_QUOTA_STATS, NULL);
    zk_node *n = tree_get(t, stat_path);
    if (!n) {
        quota_log("WARN", "Missing quota stat node %s", stat_path);
        g_free(stat_path);
        return;
    }
    quota_stats st;
    quota_stats_init(&st);
    quota_stats_set(&st, "bytes", c.bytes);
    quota_stats_set(&st, "count", c.count);
    char *text = quota_stats_format(&st);
    node_set_data(n, text);
    g_free(text);
    quota_stats_clear(&st);
    g_free(stat_path);
}

static void quota_node_created(zk_tree *t, const char *path);
static void quota_node_deleted(zk_tree *t, const char *path);

static void split_path(const char *path, char **parent, const char **child)
{
    const char *slash = strrchr(path, '/');
    *parent = g_strndup(path, (gsize)(slash - path));
    *child = slash + 1;
}

void quota_on_create(zk_tree *t, const char *path, int32_t data_len)
{
    /* (a parent that starts with /zookeeper/quota needs a path that does) */
    if (g_str_has_prefix(path, ZK_QUOTA_ROOT))
        quota_node_created(t, path);
    char *prefix = quota_max_prefix(t->quota, path);
    if (prefix)
        update_quota_stat(t, prefix, data_len > 0 ? data_len : 0, 1);
    g_free(prefix);
}

/* DataTree.createNode's check of a child of /zookeeper/quota*: a limits
 * znode makes a quota root, a stats znode gets the subtree's usage. */
static void quota_node_created(zk_tree *t, const char *path)
{
    char *parent;
    const char *child;
    split_path(path, &parent, &child);
    if (g_str_has_prefix(parent, ZK_QUOTA_ROOT)) {
        const char *real = parent + strlen(ZK_QUOTA_ROOT);
        if (strcmp(child, ZK_QUOTA_LIMITS) == 0) {
            if (real[0])
                quota_trie_add(t->quota, real);
            else    /* PathTrie.addPath("") throws in Apache */
                quota_log("ERROR", "quota: %s names no quota root; ignored", path);
        }
        if (strcmp(child, ZK_QUOTA_STATS) == 0)
            update_quota_for_path(t, real);
    }
    g_free(parent);
}

/* Quotas.trimQuotaPath(parent) = parent.substring(16) (UTF-16 units):
 * the byte offset of unit 16, or -1 where Java would throw or cut a
 * surrogate pair (such a path can be no quota root). */
static gssize trim_offset(const char *parent)
{
    size_t units = 0;
    const char *p = parent;
    while (units < 16) {
        if (!*p)
            return -1;
        gunichar c = g_utf8_get_char(p);
        units += c >= 0x10000 ? 2 : 1;
        p = g_utf8_next_char(p);
    }
    return units == 16 ? (gssize)(p - parent) : -1;
}

void quota_on_delete(zk_tree *t, const char *path, int32_t old_len)
{
    if (g_str_has_prefix(path, "/zookeeper"))
        quota_node_deleted(t, path);
    char *prefix = quota_max_prefix(t->quota, path);
    if (prefix)
        update_quota_stat(t, prefix, -(int64_t)(old_len > 0 ? old_len : 0), -1);
    g_free(prefix);
}

/* DataTree.deleteNode's check: a limits znode deleted under /zookeeper*
 * ends its quota root. */
static void quota_node_deleted(zk_tree *t, const char *path)
{
    char *parent;
    const char *child;
    split_path(path, &parent, &child);
    if (g_str_has_prefix(parent, "/zookeeper") && strcmp(child, ZK_QUOTA_LIMITS) == 0) {
        gssize off = trim_offset(parent);
        if (off >= 0 && parent[off])
            quota_trie_delete(t->quota, parent + off);
        else    /* Apache throws (substring or PathTrie.deletePath) */
            quota_log("ERROR", "quota: %s names no quota root; ignored", path);
    }
    g_free(parent);
}

void quota_on_set_data(zk_tree *t, const char *path, int32_t old_len, int32_t new_len)
{
    char *prefix = quota_max_prefix(t->quota, path);
    if (prefix)
        update_quota_stat(t, prefix, (int64_t)(new_len > 0 ? new_len : 0) - (old_len > 0 ? old_len : 0), 0);
    g_free(prefix);
}

/* ------------------------------------------------------------------ */
/* after a snapshot load                                               */

static void collect_leaves(const zk_node *n, void *ctx)
{
    if (n->children.size == 0)
        g_ptr_array_add(ctx, n->path);
}

/* The leaves under /zookeeper/quota in Apache's traversal order (borrowed
 * paths, valid while the tree is not changed structurally). */
static GPtrArray *quota_leaves(const zk_tree *t)
{
    GPtrArray *leaves = g_ptr_array_new();
    zk_node *root = tree_get(t, ZK_QUOTA_ROOT);
    if (root && root->children.size > 0)
        tree_walk(root, collect_leaves, leaves);
    return leaves;
}

void quota_setup(zk_tree *t)
{
    GPtrArray *leaves = quota_leaves(t);
    const char *end = "/" ZK_QUOTA_LIMITS;
    for (guint i = 0; i < leaves->len; i++) {
        const char *p = g_ptr_array_index(leaves, i);
        if (!g_str_has_suffix(p, end))
            continue;
        /* path.substring(quotaZookeeper.length(), path.indexOf(endString)) */
        const char *first = strstr(p, end);
        char *real = g_strndup(p + strlen(ZK_QUOTA_ROOT), (gsize)(first - p) - strlen(ZK_QUOTA_ROOT));
        update_quota_for_path(t, real);
        if (real[0])
            quota_trie_add(t->quota, real);
        else
            quota_log("ERROR", "quota: %s names no quota root; ignored", p);
        g_free(real);
    }
    g_ptr_array_free(leaves, TRUE);
}

/* ------------------------------------------------------------------ */
/* enforcement                                                         */

/* Apache's RateLogger (interval 100 ms): a message is logged when it
 * differs from the previous one; repeats are counted and summarised. */
static struct {
    char *msg;
    int64_t stamp_ms;
    int count;
} rate_log;

static int64_t mono_ms(void)
{
    return g_get_monotonic_time() / 1000;
}

static void rate_log_flush(void)
{
    if (rate_log.msg && rate_log.count > 0) {
        if (rate_log.count > 1)
            LOG_WARN("[%d times] Message: %s", rate_log.count, rate_log.msg);
        else
            LOG_WARN("Message: %s", rate_log.msg);
    }
    g_free(rate_log.msg);
    rate_log.msg = NULL;
    rate_log.count = 0;
}

static void rate_log_msg(char *msg /* owned */)
{
    int64_t now = mono_ms();
    if (rate_log.msg && strcmp(rate_log.msg, msg) == 0) {
        rate_log.count++;
        if (now - rate_log.stamp_ms >= 100) {
            rate_log_flush();
            rate_log.msg = msg;
            rate_log.stamp_ms = now;
            return;
        }
        g_free(msg);
        return;
    }
    rate_log_flush();
    rate_log.msg = msg;
    rate_log.stamp_ms = now;
    LOG_WARN("Message:%s Value:null", msg);
}

static GHashTable *exceeded_by_ns;    /* g_malloc'd namespace -> guint64* */

GHashTable *quota_exceeded_counts(void)
{
    if (!exceeded_by_ns)
        exceeded_by_ns = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    return exceeded_by_ns;
}

/* PathUtils.getTopNamespace: path.split("/")[1], or NULL. */
static char *top_namespace(const char *path)
{
    if (path[0] != '/')
        return NULL;
    const char *s = path + 1;
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0) {
        /* an empty parts[1] is kept only if something non-empty follows */
        const char *rest = s;
        while (*rest == '/')
            rest++;
        return *rest ? g_strdup("") : NULL;
    }
    return g_strndup(s, n);
}

static void count_exceeded(const char *path)
{
    char *ns = top_namespace(path);
    if (!ns)
        return;
    GHashTable *h = quota_exceeded_counts();
    guint64 *c = g_hash_table_lookup(h, ns);
    if (!c) {
        c = g_new0(guint64, 1);
        g_hash_table_insert(h, ns, c);
    } else {
        g_free(ns);
    }
    (*c)++;
}

int quota_check(const zk_tree *t, const char *path, int64_t bytes_diff, int64_t count_diff)
{
    char *prefix = quota_max_prefix(t->quota, path);
    if (!prefix)
        return QUOTA_CHECK_OK;
    int rc = QUOTA_CHECK_OK;
    quota_stats lim, cur;
    quota_stats_init(&lim);
    quota_stats_init(&cur);
    char *limit_path = g_strconcat(ZK_QUOTA_ROOT, prefix, "/" ZK_QUOTA_LIMITS, NULL);
    char *stat_path = g_strconcat(ZK_QUOTA_ROOT, prefix, "/" ZK_QUOTA_STATS, NULL);
    zk_node *ln = tree_get(t, limit_path);
    if (!ln) {
        quota_log("ERROR", "Missing limit node for quota %s", limit_path);
        goto out;
    }
    if (!quota_stats_parse(&lim, ln->data, ln->data_len)) {
        rc = QUOTA_CHECK_BROKEN;
        goto out;
    }
    bool check_count = count_diff != 0 &&
        (quota_stats_get(&lim, "count") > -1 || quota_stats_get(&lim, "countHardLimit") > -1);
    bool check_bytes = bytes_diff != 0 &&
        (quota_stats_get(&lim, "bytes") > -1 || quota_stats_get(&lim, "byteHardLimit") > -1);
    if (!check_count && !check_bytes)
        goto out;
    zk_node *sn = tree_get(t, stat_path);
    if (!sn) {
        quota_log("ERROR", "Missing node for stat %s", stat_path);
        goto out;
    }
    if (!quota_stats_parse(&cur, sn->data, sn->data_len)) {
        rc = QUOTA_CHECK_BROKEN;
        goto out;
    }
    if (check_count) {
        int64_t now = (int64_t)((uint64_t)quota_stats_get(&cur, "count") + (uint64_t)count_diff);
        bool hard = quota_stats_get(&lim, "countHardLimit") > -1;
        int64_t limit = hard ? quota_stats_get(&lim, "countHardLimit") : quota_stats_get(&lim, "count");
        if (now > limit) {
            rate_log_msg(g_strdup_printf("Quota exceeded: %s [current count=%" G_GINT64_FORMAT
                                         ", %sCountLimit=%" G_GINT64_FORMAT "]",
                                         prefix, now, hard ? "hard" : "soft", limit));
            if (hard) {
                count_exceeded(path);
                rc = QUOTA_CHECK_EXCEEDED;
                goto out;
            }
        }
    }
    if (check_bytes) {
        int64_t now = (int64_t)((uint64_t)quota_stats_get(&cur, "bytes") + (uint64_t)bytes_diff);
        bool hard = quota_stats_get(&lim, "byteHardLimit") > -1;
        int64_t limit = hard ? quota_stats_get(&lim, "byteHardLimit") : quota_stats_get(&lim, "bytes");
        if (now > limit) {
            rate_log_msg(g_strdup_printf("Quota exceeded: %s [current bytes=%" G_GINT64_FORMAT
                                         ", %sByteLimit=%" G_GINT64_FORMAT "]",
                                         prefix, now, hard ? "hard" : "soft", limit));
            if (hard) {
                count_exceeded(path);
                rc = QUOTA_CHECK_EXCEEDED;
            }
        }
    }
out:
    quota_stats_clear(&lim);
    quota_stats_clear(&cur);
    g_free(limit_path);
    g_free(stat_path);
    g_free(prefix);
    return rc;
}

/* ------------------------------------------------------------------ */
/* metrics                                                             */

typedef struct ns_acc {
    quota_ns_figures f;
    char *ns;      /* owned */
} ns_acc;

static void ns_acc_free(gpointer p)
{
    ns_acc *a = p;
    g_free(a->ns);
    g_free(a);
}

void quota_metrics_foreach(const zk_tree *t, quota_ns_fn fn, void *ctx)
{
    GHashTable *by_ns = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, ns_acc_free);
    GPtrArray *order = g_ptr_array_new();
    GPtrArray *leaves = quota_leaves(t);
    for (guint i = 0; i < leaves->len; i++) {
        const char *p = g_ptr_array_index(leaves, i);
        bool is_limit = g_str_has_suffix(p, "/" ZK_QUOTA_LIMITS);
        bool is_stats = g_str_has_suffix(p, "/" ZK_QUOTA_STATS);
        if (!is_limit && !is_stats)
            continue;
        zk_node *n = tree_get(t, p);
        char *ns = top_namespace(p + strlen(ZK_QUOTA_ROOT));
        quota_stats st;
        quota_stats_init(&st);
        if (ns && n && n->data_len >= 0 && quota_stats_parse(&st, n->data, n->data_len)) {
            ns_acc *a = g_hash_table_lookup(by_ns, ns);
            if (!a) {
                a = g_new0(ns_acc, 1);
                a->ns = ns;
                a->f.ns = a->ns;
                g_hash_table_insert(by_ns, a->ns, a);
                g_ptr_array_add(order, a);
                ns = NULL;
            }
            if (is_limit) {
                int64_t ch = quota_stats_get(&st, "countHardLimit"), bh = quota_stats_get(&st, "byteHardLimit");
                a->f.has_limit = true;
                a->f.count_limit += ch > -1 ? ch : quota_stats_get(&st, "count");
                a->f.bytes_limit += bh > -1 ? bh : quota_stats_get(&st, "bytes");
            } else {
                a->f.has_usage = true;
                a->f.count_usage += quota_stats_get(&st, "count");
                a->f.bytes_usage += quota_stats_get(&st, "bytes");
            }
        }
        quota_stats_clear(&st);
        g_free(ns);
    }
    for (guint i = 0; i < order->len; i++) {
        ns_acc *a = g_ptr_array_index(order, i);
        fn(ctx, &a->f);
    }
    g_ptr_array_free(leaves, TRUE);
    g_ptr_array_free(order, TRUE);
    g_hash_table_destroy(by_ns);
}

/* ------------------------------------------------------------------ */
/* mntr                                                                */

typedef struct mntr_ctx {
    GPtrArray *figs;     /* of quota_ns_figures*, owned copies (ns owned) */
} mntr_ctx;

static void collect_fig(void *ctx, const quota_ns_figures *f)
{
    mntr_ctx *m = ctx;
    quota_ns_figures *c = g_memdup2(f, sizeof *f);
    c->ns = g_strdup(f->ns);
    g_ptr_array_add(m->figs, c);
}

static void free_fig(gpointer p)
{
    quota_ns_figures *f = p;
    g_free((char *)f->ns);
    g_free(f);
}

void quota_mntr_gauge_sets(const zk_tree *t, GString *out)
{
    mntr_ctx m = { g_ptr_array_new_with_free_func(free_fig) };
    quota_metrics_foreach(t, collect_fig, &m);
    if (m.figs->len == 0) {
        g_ptr_array_free(m.figs, TRUE);
        return;
    }
    /* a fresh ConcurrentHashMap per gauge set, filled in traversal order:
     * the order of a java.util.HashMap of the same keys */
    jset order;
    jset_init(&order, 16);
    for (guint i = 0; i < m.figs->len; i++) {
        quota_ns_figures *f = g_ptr_array_index(m.figs, i);
        jset_add(&order, f->ns, f);
    }
    /* the gauge sets in the order Apache 3.8's mntr prints them */
    static const char *const names[] = {
        "quota_bytes_limit_per_namespace", "quota_count_usage_per_namespace",
        "quota_count_limit_per_namespace", "quota_bytes_usage_per_namespace",
    };
    for (size_t k = 0; k < G_N_ELEMENTS(names); k++) {
        for (jset_entry *e = jset_first(&order); e; e = jset_next(&order, e)) {
            const quota_ns_figures *f = e->value;
            bool limit = k == 0 || k == 2;
            if (limit ? !f->has_limit : !f->has_usage)
                continue;
            int64_t v = k == 0 ? f->bytes_limit : k == 1 ? f->count_usage
                      : k == 2 ? f->count_limit : f->bytes_usage;
            g_string_append_printf(out, "zk_%s_%s\t%" G_GINT64_FORMAT "\n", f->ns, names[k], v);
        }
    }
    jset_clear(&order);
    g_ptr_array_free(m.figs, TRUE);
}

void quota_mntr_counter_sets(GString *out)
{
    if (!exceeded_by_ns || g_hash_table_size(exceeded_by_ns) == 0)
        return;
    jset order;
    jset_init(&order, 16);
    GHashTableIter it;
    gpointer k, v;
    /* SimpleCounterSet's ConcurrentHashMap: insertion order only matters
     * within a hash bin; the names' hash order is what shows */
    g_hash_table_iter_init(&it, exceeded_by_ns);
    while (g_hash_table_iter_next(&it, &k, &v))
        jset_add(&order, k, v);
    for (jset_entry *e = jset_first(&order); e; e = jset_next(&order, e))
        g_string_append_printf(out, "zk_%s_quota_exceeded_error_per_namespace\t%" G_GUINT64_FORMAT "\n",
                               e->key, *(guint64 *)e->value);
    jset_clear(&order);
}

void quota_exceeded_reset(void)
{
    if (!exceeded_by_ns)
        return;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, exceeded_by_ns);
    while (g_hash_table_iter_next(&it, &k, &v))
        *(guint64 *)v = 0;
}
