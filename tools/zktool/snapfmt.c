/* snapfmt.c — SnapshotFormatter output (see snapfmt.h). */
#include "snapfmt.h"

#include <string.h>

#include "acl.h"
#include "apache_fmt.h"
#include "jtext.h"
#include "walk.h"

static void stat_line_hex(GString *out, const char *name, int64_t v)
{
    g_string_append_printf(out, "  %s = ", name);
    jtext_hex016(out, v);
    g_string_append_c(out, '\n');
}

static void stat_line_date(GString *out, const char *name, int64_t ms)
{
    g_string_append_printf(out, "  %s = ", name);
    jtext_date_string(out, ms);
    g_string_append_c(out, '\n');
}

/* printZnode, for each node in tree order: its path, stat and data (or
 * length); zxid collects the largest mzxid/pzxid seen. */
typedef struct details_ctx {
    GString *out;
    bool dump_data;
    int64_t zxid;
    const zk_node *root;
} details_ctx;

static void print_znode(void *ctx, const zk_node *n)
{
    details_ctx *d = ctx;
    GString *out = d->out;
    g_string_append(out, "----\n");
    const char *name = n == d->root ? "/" : n->path;
    jtext_utf8(out, name, strlen(name));
    g_string_append_c(out, '\n');
    stat_line_hex(out, "cZxid", n->czxid);
    stat_line_date(out, "ctime", n->ctime);
    stat_line_hex(out, "mZxid", n->mzxid);
    stat_line_date(out, "mtime", n->mtime);
    stat_line_hex(out, "pZxid", n->pzxid);
    g_string_append_printf(out, "  cversion = %d\n", (int)n->cversion);
    g_string_append_printf(out, "  dataVersion = %d\n", (int)n->version);
    g_string_append_printf(out, "  aclVersion = %d\n", (int)n->aversion);
    stat_line_hex(out, "ephemeralOwner", n->ephemeral_owner);
    int64_t z = n->mzxid > n->pzxid ? n->mzxid : n->pzxid;
    if (z > d->zxid)
        d->zxid = z;
    int32_t len = n->data_len > 0 ? n->data_len : 0;
    if (d->dump_data) {
        char *b64 = len ? g_base64_encode(n->data, (gsize)len) : g_strdup("");
        g_string_append_printf(out, "  data = %s\n", b64);
        g_free(b64);
    } else {
        g_string_append_printf(out, "  dataLength = %d\n", (int)len);
    }
}

static uint32_t ephemeral_count(const zk_tree *t, int64_t sid)
{
    const jset *set = g_hash_table_lookup(t->ephemerals, &sid);
    return set ? set->size : 0;
}

void snapfmt_details(GString *out, const zk_tree *t, const snap_session *sessions, size_t n,
                     int64_t name_zxid, bool dump_data)
{
    /* DataTree.getNodeCount: the root is in the map as "" and as "/". */
    g_string_append_printf(out, "ZNode Details (count=%u):\n", tree_node_count(t) + 1);
    details_ctx d = { out, dump_data, INT64_MIN, t->root };
    zt_walk(t->root, print_znode, NULL, &d);
    int64_t zxid = d.zxid;
    g_string_append(out, "----\n");
    g_string_append(out, "Session Details (sid, timeout, ephemeralCount):\n");
    int64_t *ids = g_new(int64_t, n ? n : 1);
    size_t *order = g_new(size_t, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        ids[i] = sessions[i].id;
    /* A HashMap<Long,Integer> filled in file order; a repeated id keeps its
     * first position and its last timeout. */
    size_t m = jtext_long_map_order(ids, n, order);
    for (size_t i = 0; i < m; i++) {
        int64_t id = ids[order[i]];
        int32_t timeout = sessions[order[i]].timeout;
        for (size_t k = order[i] + 1; k < n; k++)
            if (ids[k] == id)
                timeout = sessions[k].timeout;
        jtext_hex016(out, id);
        g_string_append_printf(out, ", %d, %u\n", (int)timeout, ephemeral_count(t, id));
    }
    g_free(ids);
    g_free(order);
    g_string_append(out, "----\nLast zxid: 0x");
    jtext_hex(out, name_zxid > zxid ? name_zxid : zxid);
    g_string_append_c(out, '\n');
}

/* printZnodeJson: ",{node}" for a leaf, ",[{node},children...]" otherwise. */
typedef struct json_ctx {
    GString *out;
    const zk_node *root;
    int ino;              /* SnapshotFormatter's INODE_IDX, from 1000 */
} json_ctx;

static void json_enter(void *ctx, const zk_node *n)
{
    json_ctx *j = ctx;
    GString *out = j->out;
    g_string_append_c(out, ',');
    if (n->children.size > 0)
        g_string_append_c(out, '[');
    int32_t len = n->data_len > 0 ? n->data_len : 0;
    g_string_append(out, "{\"name\":\"");
    if (n == j->root)
        g_string_append_c(out, '/');
    else
        jtext_json_quote(out, n->name, strlen(n->name));
    g_string_append_printf(out, "\",\"asize\":%d,\"dsize\":%d,\"dev\":0,\"ino\":%d}", (int)len, (int)len,
                           ++j->ino);
}

static void json_leave(void *ctx, const zk_node *n)
{
    json_ctx *j = ctx;
    if (n->children.size > 0)
        g_string_append_c(j->out, ']');
}

void snapfmt_json(GString *out, const zk_tree *t, int64_t timestamp_ms)
{
    g_string_append_printf(out, "[1,0,{\"progname\":\"SnapshotFormatter.java\",\"progver\":\"0.01\","
                                "\"timestamp\":%" G_GINT64_FORMAT "}", timestamp_ms);
    json_ctx j = { out, t->root, 1000 };
    zt_walk(t->root, json_enter, json_leave, &j);
    g_string_append_c(out, ']');
}

void snapfmt_summary(GString *out, const zk_tree *t, size_t sessions, int64_t zxid)
{
    guint nodes = tree_node_count(t);
    guint ephemerals = 0;
    uint64_t data = 0;
    int64_t max_zxid = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t->nodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_node *n = v;
        if (((const char *)k)[0] == '\0')
            continue;
        if (zk_owner_is_session(n->ephemeral_owner))
            ephemerals++;
        data += n->data_len > 0 ? (uint64_t)n->data_len : 0;
        if (n->mzxid > max_zxid)
            max_zxid = n->mzxid;
        if (n->pzxid > max_zxid)
            max_zxid = n->pzxid;
    }
    g_string_append_printf(out, "zxid: 0x%" G_GINT64_MODIFIER "x (largest mzxid/pzxid 0x%" G_GINT64_MODIFIER "x)\n",
                           (guint64)zxid, (guint64)max_zxid);
    g_string_append_printf(out, "znodes: %u (ephemeral %u, container %u, TTL %u)\n", nodes, ephemerals,
                           g_hash_table_size(t->containers), g_hash_table_size(t->ttls));
    g_string_append_printf(out, "data bytes: %" G_GUINT64_FORMAT "\n", data);
    g_string_append_printf(out, "ACL lists: %u\n", acl_cache_size(t->acls));
    g_string_append_printf(out, "sessions: %zu\n", sessions);
    g_string_append_printf(out, "digest: %" G_GINT64_FORMAT " (Apache DigestCalculator version 2)\n",
                           apache_tree_digest(t));
}
