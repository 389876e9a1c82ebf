/* tree.c — the data tree (see tree.h). */
#include "tree.h"
#include "metrics.h"

#include <string.h>

#include "jstring.h"
#include "quota.h"
#include "zk/path.h"

bool zk_extended_types_enabled = false;

/* The struct and its path in one allocation (n->path points just past the
 * struct): one malloc less per znode, on every create and on a snapshot
 * load of millions of them.  len is strlen(path). */
static zk_node *node_new_len(const char *path, size_t len, zk_node *parent)
{
    zk_node *n = g_malloc0(sizeof *n + len + 1);
    n->path = (char *)(n + 1);
    memcpy(n->path, path, len);
    n->path[len] = '\0';
    const char *slash = strrchr(n->path, '/');
    n->name = strcmp(n->path, "/") == 0 ? n->path + 1 : (slash ? slash + 1 : n->path);
    n->parent = parent;
    n->data_len = 0;
    jset_init(&n->children, 8);     /* DataNode: new HashSet<String>(8) */
    return n;
}

static zk_node *node_new(const char *path, zk_node *parent)
{
    return node_new_len(path, strlen(path), parent);
}

static void node_free(zk_tree *t, zk_node *n)
{
    jset_clear(&n->children);
    acl_unref(t->acls, n->acl);
    g_free(n->data);
    g_free(n);   /* and the path, in the same allocation */
}

static void set_data(zk_node *n, const void *data, int32_t len)
{
    g_free(n->data);
    n->data = NULL;
    n->data_len = len < 0 ? -1 : len;
    if (len > 0)
        n->data = g_memdup2(data, (gsize)len);
}

/* A path's share of approximate_data_size: Apache counts path.length(),
 * in UTF-16 units, not bytes. */
static int64_t path_units(const char *path)
{
    return (int64_t)jstring_utf16_len(path, strlen(path));
}

static int64_t data_bytes(const zk_node *n)
{
    return n->data_len > 0 ? n->data_len : 0;
}

zk_tree *tree_new(void)
{
    zk_tree *t = g_new0(zk_tree, 1);
    t->nodes = g_hash_table_new(g_str_hash, g_str_equal);
    t->acls = acl_cache_new();
    t->ephemerals = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    t->containers = g_hash_table_new(g_str_hash, g_str_equal);
    t->ttls = g_hash_table_new(g_str_hash, g_str_equal);
    t->data_watches = watch_mgr_new();
    t->child_watches = watch_mgr_new();
    t->quota = quota_trie_new();

    zk_node *root = node_new("/", NULL);
    root->acl = acl_open_unsafe(t->acls);
    t->root = root;
    g_hash_table_insert(t->nodes, root->path, root);
    g_hash_table_insert(t->nodes, "", root);

    /* /zookeeper, /zookeeper/quota and /zookeeper/config as Apache's
     * DataTree constructor makes them: zero Stat, empty data, added without
     * touching any cversion; config has READ_ACL_UNSAFE and aversion -1. */
    zk_node *proc = node_new("/zookeeper", root);
    proc->acl = acl_open_unsafe(t->acls);
    jset_add(&root->children, proc->name, proc);
    g_hash_table_insert(t->nodes, proc->path, proc);
    zk_node *quota = node_new("/zookeeper/quota", proc);
    quota->acl = acl_open_unsafe(t->acls);
    jset_add(&proc->children, quota->name, quota);
    g_hash_table_insert(t->nodes, quota->path, quota);
    zk_node *config = node_new("/zookeeper/config", proc);
    zk_acl_entry read_unsafe = { ZK_PERM_READ, "world", "anyone" };
    config->acl = acl_intern(t->acls, &read_unsafe, 1);
    config->aversion = -1;
    jset_add(&proc->children, config->name, config);
    g_hash_table_insert(t->nodes, config->path, config);
    /* DataTree counts path length + data length of these four nodes. */
    t->data_size = 1 + 10 + 16 + 17;
    return t;
}

static void free_ephemeral_set(gpointer key, gpointer value, gpointer ud)
{
    (void)key; (void)ud;
    jset_clear(value);
    g_free(value);
}

void tree_free(zk_tree *t)
{
    if (!t)
        return;
    g_hash_table_remove(t->nodes, "");
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t->nodes);
    while (g_hash_table_iter_next(&it, &k, &v))
        node_free(t, v);
    g_hash_table_destroy(t->nodes);
    g_hash_table_foreach(t->ephemerals, free_ephemeral_set, NULL);
    g_hash_table_destroy(t->ephemerals);
    g_hash_table_destroy(t->containers);
    g_hash_table_destroy(t->ttls);
    watch_mgr_free(t->data_watches);
    watch_mgr_free(t->child_watches);
    quota_trie_free(t->quota);
    acl_cache_free(t->acls);
    g_free(t);
}

zk_node *tree_get(const zk_tree *t, const char *path)
{
    return g_hash_table_lookup(t->nodes, path);
}

guint tree_node_count(const zk_tree *t)
{
    return g_hash_table_size(t->nodes) - 1;   /* "" aliases the root */
}

void tree_stat(const zk_node *n, zk_stat *s)
{
    s->czxid = n->czxid;
    s->mzxid = n->mzxid;
    s->ctime = n->ctime;
    s->mtime = n->mtime;
    s->version = n->version;
    /* DataNode.copyStat: the stored cversion counts creates; clients see
     * the count of changes (creates + deletes) = 2 * creates - children. */
    s->cversion = zk_jint_add(zk_jint_add(n->cversion, n->cversion), -(int32_t)n->children.size);
    s->aversion = n->aversion;
    /* ...and only a real session owner is shown (0 for containers, TTL). */
    s->ephemeral_owner = zk_owner_is_session(n->ephemeral_owner) ? n->ephemeral_owner : 0;
    s->data_length = n->data_len < 0 ? 0 : n->data_len;
    s->num_children = (int32_t)n->children.size;
    s->pzxid = n->pzxid;
}

static char *parent_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? g_strndup(path, (gsize)(slash - path)) : g_strdup("");
}

static void index_owner(zk_tree *t, zk_node *n)
{
    int64_t o = n->ephemeral_owner;
    if (zk_owner_is_container(o)) {
        g_hash_table_add(t->containers, n->path);
    } else if (zk_owner_is_ttl(o)) {
        g_hash_table_add(t->ttls, n->path);
    } else if (o != 0) {
        jset *set = g_hash_table_lookup(t->ephemerals, &o);
        if (!set) {
            set = g_new(jset, 1);
            jset_init(set, 16);
            g_hash_table_insert(t->ephemerals, g_memdup2(&o, sizeof o), set);
        }
        jset_add(set, n->path, n);
    }
}

static void unindex_owner(zk_tree *t, zk_node *n)
{
    int64_t o = n->ephemeral_owner;
    if (zk_owner_is_container(o)) {
        g_hash_table_remove(t->containers, n->path);
    } else if (zk_owner_is_ttl(o)) {
        g_hash_table_remove(t->ttls, n->path);
    } else if (o != 0) {
        jset *set = g_hash_table_lookup(t->ephemerals, &o);
        if (set)
            jset_remove(set, n->path);
    }
}

/* Adapts watch_trigger's callback to t->deliver, adding the znode's ACL. */
typedef struct fire_ctx {
    zk_tree *tree;
    const zk_acl_list *acl;    /* borrowed: ACL of the znode the event is about */
} fire_ctx;

static void deliver_with_acl(void *ctx, void *watcher, int type, const char *path)
{
    fire_ctx *f = ctx;
    f->tree->deliver(f->tree->deliver_ctx, watcher, type, path, f->acl);
}

/* Fires the watches of `m` for an event on `path`; each receiver checks READ
 * on `acl` (Apache 3.8.4 DataTree passes the node's or the parent's ACL). */
static void fire(zk_tree *t, watch_mgr *m, const char *path, int type, const zk_acl_list *acl,
                 GHashTable *suppress, GHashTable *fired)
{
    if (!t->deliver)
        return;
    fire_ctx f = { t, acl };
    guint n = watch_trigger(m, path, type, suppress, fired, deliver_with_acl, &f);
    /* WatchManager.triggerWatch: node_*_watch_count, when any watcher fired */
    if (n > 0)
        metrics_observe_watch_trigger(type, n);
}

int tree_create(zk_tree *t, const char *path, const void *data, int32_t data_len,
                zk_acl_list *acl, int64_t ephemeral_owner, int32_t parent_cversion,
                int64_t zxid, int64_t time, zk_stat *out)
{
    char *parent_path = parent_of(path);
    zk_node *parent = tree_get(t, parent_path);
    if (!parent) {
        g_free(parent_path);
        return ZNONODE;
    }
    const char *child_name = strrchr(path, '/') + 1;
    if (jset_contains(&parent->children, child_name)) {
        g_free(parent_path);
        return ZNODEEXISTS;
    }
    if (parent_cversion == -1)
        parent_cversion = zk_jint_add(parent->cversion, 1);
    if (parent_cversion > parent->cversion) {
        parent->cversion = parent_cversion;
        parent->pzxid = zxid;
    }
    zk_node *n = node_new(path, parent);
    set_data(n, data, data_len);
    n->acl = acl_ref(acl);
    n->czxid = n->mzxid = n->pzxid = zxid;
    n->ctime = n->mtime = time;
    n->ephemeral_owner = ephemeral_owner;
    jset_add(&parent->children, n->name, n);
    g_hash_table_insert(t->nodes, n->path, n);
    t->data_size += path_units(path) + data_bytes(n);
    index_owner(t, n);
    if (out)
        tree_stat(n, out);
    quota_on_create(t, path, data_len);
    if (t->last_processed_zxid < zxid)
        t->last_processed_zxid = zxid;
    fire(t, t->data_watches, path, ZK_EVENT_CREATED, n->acl, NULL, NULL);
    fire(t, t->child_watches, parent_path[0] ? parent_path : "/", ZK_EVENT_CHILD_CHANGED,
         parent->acl, NULL, NULL);
    g_free(parent_path);
    metrics_write_stat(path, data_len > 0 ? data_len : 0);   /* DataTree.createNode: updateWriteStat */
    return ZOK;
}

int tree_delete(zk_tree *t, const char *path, int64_t zxid)
{
    char *parent_path = parent_of(path);
    zk_node *parent = tree_get(t, parent_path);
    zk_node *n = tree_get(t, path);
    if (parent && !n && zxid > parent->pzxid)
        parent->pzxid = zxid;   /* DataTree.deleteNode moves pzxid first */
    if (!parent || !n || n == t->root) {
        g_free(parent_path);
        return ZNONODE;
    }
    if (n->children.size > 0) {
        /* Never from the pipeline (prep refuses NOTEMPTY first): a corrupt
         * log or a hostile leader.  Deleting it would orphan its children. */
        g_free(parent_path);
        return ZNOTEMPTY;
    }
    /* Keep a copy of the path: the node (and its path) is freed below. */
    char *p = g_strdup(path);
    zk_acl_list *acl = acl_ref(n->acl);    /* the events below need it after node_free */
    g_hash_table_remove(t->nodes, n->path);
    unindex_owner(t, n);
    jset_remove(&parent->children, n->name);
    if (zxid > parent->pzxid)
        parent->pzxid = zxid;
    t->data_size -= path_units(p) + data_bytes(n);
    int32_t old_len = n->data_len;
    /* An orphaned subtree (cannot happen through the pipeline, which refuses
     * NOTEMPTY) would leak; detach children defensively. */
    for (jset_entry *e = jset_first(&n->children); e; e = jset_next(&n->children, e))
        ((zk_node *)e->value)->parent = NULL;
    node_free(t, n);
    quota_on_delete(t, p, old_len);
    if (t->last_processed_zxid < zxid)
        t->last_processed_zxid = zxid;
    GHashTable *fired = g_hash_table_new(g_direct_hash, g_direct_equal);
    fire(t, t->data_watches, p, ZK_EVENT_DELETED, acl, NULL, fired);
    fire(t, t->child_watches, p, ZK_EVENT_DELETED, acl, fired, NULL);
    fire(t, t->child_watches, parent_path[0] ? parent_path : "/", ZK_EVENT_CHILD_CHANGED,
         parent->acl, NULL, NULL);
    g_hash_table_destroy(fired);
    acl_unref(t->acls, acl);
    metrics_write_stat(p, 0);   /* DataTree.deleteNode: updateWriteStat (path may be the freed node's) */
    g_free(p);
    g_free(parent_path);
    return ZOK;
}

int tree_set_data(zk_tree *t, const char *path, const void *data, int32_t data_len,
                  int32_t version, int64_t zxid, int64_t time, zk_stat *out)
{
    zk_node *n = tree_get(t, path);
    if (!n)
        return ZNONODE;
    t->data_size -= data_bytes(n);
    int32_t old_len = n->data_len;
    set_data(n, data, data_len);
    t->data_size += data_bytes(n);
    n->mtime = time;
    n->mzxid = zxid;
    n->version = version;
    if (out)
        tree_stat(n, out);
    quota_on_set_data(t, path, old_len, n->data_len);
    if (t->last_processed_zxid < zxid)
        t->last_processed_zxid = zxid;
    fire(t, t->data_watches, path, ZK_EVENT_DATA_CHANGED, n->acl, NULL, NULL);
    metrics_write_stat(path, data_len > 0 ? data_len : 0);   /* DataTree.setData: updateWriteStat */
    return ZOK;
}

int tree_set_acl(zk_tree *t, const char *path, zk_acl_list *acl, int32_t version, zk_stat *out)
{
    zk_node *n = tree_get(t, path);
    if (!n)
        return ZNONODE;
    zk_acl_list *old = n->acl;
    n->acl = acl_ref(acl);
    acl_unref(t->acls, old);
    n->aversion = version;
    if (out)
        tree_stat(n, out);
    return ZOK;
}

void tree_init_config_node(zk_tree *t, const char *membership, int64_t now_ms)
{
    zk_node *n = tree_get(t, "/zookeeper/config");
    if (!n)
        return;
    t->data_size -= data_bytes(n);
    int32_t old_len = n->data_len;
    set_data(n, membership, (int32_t)strlen(membership));
    t->data_size += data_bytes(n);
    quota_on_set_data(t, n->path, old_len, n->data_len);
    n->version = -1;
    n->mzxid = 0;
    n->mtime = now_ms;
}

void tree_set_cversion_pzxid(zk_tree *t, const char *path, int32_t cversion, int64_t zxid)
{
    zk_node *n = tree_get(t, path[0] ? path : "/");
    if (!n)
        return;
    if (cversion == -1)
        cversion = zk_jint_add(n->cversion, 1);
    if (cversion > n->cversion) {
        n->cversion = cversion;
        n->pzxid = zxid;
    }
}

GPtrArray *tree_session_ephemerals(const zk_tree *t, int64_t session)
{
    GPtrArray *out = g_ptr_array_new();
    jset *set = g_hash_table_lookup(t->ephemerals, &session);
    if (!set || set->size == 0)
        return out;
    /* new HashSet<>(collection): capacity max(size/.75 + 1, 16) */
    jset copy;
    uint32_t cap = (uint32_t)((float)set->size / 0.75f) + 1;
    jset_init(&copy, cap < 16 ? 16 : cap);
    for (jset_entry *e = jset_first(set); e; e = jset_next(set, e))
        jset_add(&copy, e->key, e->value);
    for (jset_entry *e = jset_first(&copy); e; e = jset_next(&copy, e))
        g_ptr_array_add(out, (gpointer)e->key);
    jset_clear(&copy);
    return out;
}

/* One level of a pre-order walk: a node and its next child to visit. */
typedef struct walk_frame {
    const zk_node *node;
    jset_entry *next;
} walk_frame;

/* Calls visit for n and every descendant in pre-order, children in set
 * order, with an explicit stack: a chain of nodes as deep as jute.maxbuffer
 * allows (a path of "/a" components) must not overflow the C stack. */
void tree_walk(const zk_node *n, void (*visit)(const zk_node *, void *), void *ctx)
{
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(walk_frame));
    visit(n, ctx);
    walk_frame root = { n, jset_first(&n->children) };
    g_array_append_val(stack, root);
    while (stack->len > 0) {
        walk_frame *top = &g_array_index(stack, walk_frame, stack->len - 1);
        jset_entry *e = top->next;
        if (!e) {
            g_array_set_size(stack, stack->len - 1);
            continue;
        }
        top->next = jset_next(&top->node->children, e);
        const zk_node *child = e->value;
        visit(child, ctx);
        walk_frame f = { child, jset_first(&child->children) };
        g_array_append_val(stack, f);
    }
    g_array_free(stack, TRUE);
}

static void count_node(const zk_node *n, void *ctx)
{
    (void)n;
    (*(int *)ctx)++;
}

int tree_count_descendants(const zk_node *n)
{
    int total = 0;
    tree_walk(n, count_node, &total);
    return total - 1;
}

/* --- snapshot body -------------------------------------------------------
 * int32 node count, then per node in pre-order: path, data (buffer),
 * acl (vector), czxid, mzxid, ctime, mtime, version, cversion, aversion,
 * ephemeralOwner, pzxid.  Children follow their parent in set order, so a
 * reload rebuilds the same HashSet insertion order Apache's would.
 */
typedef struct serialize_ctx {
    jute_writer *w;
    int32_t count;
} serialize_ctx;

static void serialize_node(const zk_node *n, void *ctx)
{
    serialize_ctx *sc = ctx;
    jute_writer *w = sc->w;
    jw_string(w, n->path);
    jw_buffer(w, n->data, n->data_len);
    acl_write(w, n->acl);
    jw_long(w, n->czxid);
    jw_long(w, n->mzxid);
    jw_long(w, n->ctime);
    jw_long(w, n->mtime);
    jw_int(w, n->version);
    jw_int(w, n->cversion);
    jw_int(w, n->aversion);
    jw_long(w, n->ephemeral_owner);
    jw_long(w, n->pzxid);
    sc->count++;
}

void tree_serialize(const zk_tree *t, jute_writer *w)
{
    size_t count_at = w->len;
    jw_int(w, 0);
    serialize_ctx sc = { w, 0 };
    tree_walk(t->root, serialize_node, &sc);
    jw_patch_int(w, count_at, sc.count);
}

/* A snapshot ACL's bytes (count and entries, pointing into the snapshot
 * body) and the interned list they decode to: tree_deserialize decodes and
 * interns each distinct encoding once (a tree whose nodes share a handful of
 * ACLs would otherwise decode, copy and look up every node's ACL: 18-22 %
 * of a restart with 1,000,000 znodes, docs/perf-notes.md). */
typedef struct raw_acl {
    const uint8_t *ptr;     /* borrowed: into the body being loaded */
    size_t len;
    zk_acl_list *list;      /* one reference, held by the table */
} raw_acl;

static guint raw_acl_hash(gconstpointer k)
{
    const raw_acl *a = k;
    guint h = 5381;
    for (size_t i = 0; i < a->len; i++)
        h = h * 33 + a->ptr[i];
    return h;
}

static gboolean raw_acl_equal(gconstpointer x, gconstpointer y)
{
    const raw_acl *a = x, *b = y;
    return a->len == b->len && memcmp(a->ptr, b->ptr, a->len) == 0;
}

/* The interned list for the ACL vector whose encoding is r's bytes
 * [start, r->pos) (acl is that vector, decoded as a view); a new reference
 * for the caller, or NULL if the entries are malformed. */
static zk_acl_list *intern_snapshot_acl(zk_tree *t, GHashTable *seen, raw_acl **last,
                                        const uint8_t *start, size_t len, const zk_vec *acl)
{
    raw_acl key = { start, len, NULL };
    raw_acl *hit = *last && raw_acl_equal(*last, &key) ? *last : g_hash_table_lookup(seen, &key);
    if (!hit) {
        zk_acl_list *l = acl_intern_vec(t->acls, acl);
        if (!l)
            return NULL;
        hit = g_new(raw_acl, 1);
        *hit = key;
        hit->list = l;
        g_hash_table_add(seen, hit);
    }
    *last = hit;
    return acl_ref(hit->list);
}

static void raw_acl_free(gpointer p, gpointer ctx)
{
    raw_acl *a = p;
    acl_unref(ctx, a->list);
    g_free(a);
}

/* The parent of path (len bytes, a valid path other than "/"): found among
 * prev and its ancestors (a snapshot lists nodes in pre-order, so the
 * parent is nearly always there), else through the path table, with buf as
 * scratch.  NULL if there is none. */
static zk_node *find_parent(zk_tree *t, zk_node *prev, const char *path, size_t len, GString *buf)
{
    size_t plen = len;
    while (plen > 0 && path[plen - 1] != '/')
        plen--;
    plen--;   /* the slash; 0 for a child of the root */
    for (zk_node *a = prev; a; a = a->parent) {
        if (a == t->root) {
            if (plen == 0)
                return a;
            break;   /* the path table has the rest */
        }
        if (strncmp(a->path, path, plen) == 0 && a->path[plen] == '\0')
            return a;
    }
    g_string_truncate(buf, 0);
    g_string_append_len(buf, path, (gssize)plen);
    return tree_get(t, buf->str);
}

zk_tree *tree_deserialize(jute_reader *r, char **err)
{
    zk_tree *t = tree_new();
    t->data_size = 0;   /* every node, the built-in ones too, is in the snapshot */
    GHashTable *seen = g_hash_table_new(raw_acl_hash, raw_acl_equal);
    raw_acl *last = NULL;
    GString *pbuf = g_string_sized_new(256), *scratch = g_string_sized_new(256);
    zk_node *prev = t->root;
    bool refused = false;
    int32_t count = jr_int(r);
    for (int32_t i = 0; i < count && jr_ok(r); i++) {
        jute_view path = jr_string(r);
        jute_view data = jr_buffer(r);
        const uint8_t *acl_start = r->buf + r->pos;
        zk_vec acl;
        zk_vec_read(r, &acl, zk_skip_acl);
        size_t acl_len = (size_t)(r->buf + r->pos - acl_start);
        int64_t czxid = jr_long(r), mzxid = jr_long(r), ctime = jr_long(r), mtime = jr_long(r);
        int32_t version = jr_int(r), cversion = jr_int(r), aversion = jr_int(r);
        int64_t owner = jr_long(r), pzxid = jr_long(r);
        if (!jr_ok(r))
            break;
        if (path.len <= 0 || !zk_path_valid(path.ptr, (size_t)path.len)) {
            /* "//a" would be a second child "a" of "/", "/a/" a child named
             * "": a tree no snapshot of ours can hold, refused whole */
            *err = g_strdup_printf("snapshot: node %d has an invalid path", i);
            refused = true;
            break;
        }
        g_string_truncate(pbuf, 0);
        g_string_append_len(pbuf, path.ptr, path.len);
        zk_node *n = NULL;
        if (path.len == 1) {
            n = t->root;
        } else {
            zk_node *parent = find_parent(t, prev, pbuf->str, pbuf->len, scratch);
            if (!parent) {
                *err = g_strdup_printf("snapshot: node %s has no parent", pbuf->str);
                refused = true;
                break;
            }
            const char *name = strrchr(pbuf->str, '/') + 1;
            n = jset_get(&parent->children, name);
            if (!n) {
                n = node_new_len(pbuf->str, pbuf->len, parent);
                jset_add(&parent->children, n->name, n);
                g_hash_table_insert(t->nodes, n->path, n);
            }
        }
        prev = n;
        set_data(n, data.ptr, data.len);
        zk_acl_list *l = intern_snapshot_acl(t, seen, &last, acl_start, acl_len, &acl);
        if (!l) {
            r->err = true;
            break;
        }
        acl_unref(t->acls, n->acl);
        n->acl = l;
        n->czxid = czxid; n->mzxid = mzxid; n->ctime = ctime; n->mtime = mtime;
        n->version = version; n->cversion = cversion; n->aversion = aversion;
        n->ephemeral_owner = owner; n->pzxid = pzxid;
        t->data_size += path_units(n->path) + data_bytes(n);
        index_owner(t, n);
    }
    g_string_free(pbuf, TRUE);
    g_string_free(scratch, TRUE);
    GHashTableIter it;
    gpointer k;
    g_hash_table_iter_init(&it, seen);
    while (g_hash_table_iter_next(&it, &k, NULL))
        raw_acl_free(k, t->acls);
    g_hash_table_destroy(seen);
    if (refused || !jr_ok(r)) {
        if (!refused)
            *err = g_strdup("snapshot: truncated or malformed tree");
        tree_free(t);
        return NULL;
    }
    quota_setup(t);    /* DataTree.deserialize: setupQuota */
    return t;
}
