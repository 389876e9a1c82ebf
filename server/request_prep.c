/*
 * request_prep.c — PrepRequestProcessor: validates a write against the tree
 * plus Apache's outstanding-change records (so pipelined writes see each
 * other), and builds its transaction (an ErrorTxn when it fails).  The
 * change records (s->changes, s->change_by_path) are owned here and
 * retired once their transaction is applied.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "quota.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "quorum.h"
#include "reconfig.h"
#include "reqpool.h"
#include "zk/path.h"
#include "readonly.h"
#include "request_internal.h"
#include "metrics.h"

/* ------------------------------------------------------------------ */
/* outstanding change records                                          */

typedef struct rec_view {
    bool found;
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int32_t child_count;
    zk_acl_list *acl;     /* borrowed */
    int32_t data_len;     /* -1: null data */
} rec_view;

/* A path from the wire, or NULL when it is null or holds a NUL (no znode
 * can have such a name, so lookups of it find nothing). */
static char *wire_path(jute_view v)
{
    if (v.len < 0 || (v.len > 0 && memchr(v.ptr, 0, (size_t)v.len)))
        return NULL;
    return jute_view_dup(v);
}

zk_node *request_lookup(zk_server *s, jute_view v)
{
    char *p = wire_path(v);
    zk_node *n = p ? tree_get(s->tree, p) : NULL;
    g_free(p);
    return n;
}

static rec_view get_record(zk_server *s, const char *path)
{
    rec_view v = { 0 };
    change_rec *cr = g_hash_table_lookup(s->change_by_path, path);
    if (cr) {
        if (!cr->exists)
            return v;
        v.found = true;
        v.version = cr->version;
        v.cversion = cr->cversion;
        v.aversion = cr->aversion;
        v.ephemeral_owner = cr->ephemeral_owner;
        v.child_count = cr->child_count;
        v.acl = cr->acl;
        v.data_len = cr->data_len;
        return v;
    }
    zk_node *n = tree_get(s->tree, path);
    if (!n)
        return v;
    v.found = true;
    v.version = n->version;
    v.cversion = n->cversion;
    v.aversion = n->aversion;
    v.ephemeral_owner = n->ephemeral_owner;
    v.child_count = (int32_t)n->children.size;
    v.acl = n->acl;
    v.data_len = n->data_len;
    return v;
}

static void add_change(zk_server *s, int64_t zxid, const char *path, const rec_view *v)
{
    change_rec *cr = reqpool_new_change(path);
    cr->zxid = zxid;
    if (v && v->found) {
        cr->exists = true;
        cr->version = v->version;
        cr->cversion = v->cversion;
        cr->aversion = v->aversion;
        cr->ephemeral_owner = v->ephemeral_owner;
        cr->child_count = v->child_count;
        cr->data_len = v->data_len;
        cr->acl = acl_ref(v->acl);
    }
    g_queue_push_tail(&s->changes, cr);
    g_hash_table_replace(s->change_by_path, cr->path, cr);
    metrics_count(MC_OUTSTANDING_CHANGES_QUEUED, 1);   /* PrepRequestProcessor.addChangeRecord */
}

void request_change_free(zk_server *s, change_rec *cr)
{
    if (cr->acl)
        acl_unref(s->tree->acls, cr->acl);
    reqpool_free_change(cr);   /* and the path */
}

/* Drops records of transactions that are now applied. */
void retire_changes(zk_server *s, int64_t zxid)
{
    change_rec *cr;
    while ((cr = g_queue_peek_head(&s->changes)) && cr->zxid <= zxid) {
        g_queue_pop_head(&s->changes);
        if (g_hash_table_lookup(s->change_by_path, cr->path) == cr)
            g_hash_table_remove(s->change_by_path, cr->path);
        request_change_free(s, cr);
        metrics_count(MC_OUTSTANDING_CHANGES_REMOVED, 1);   /* ZooKeeperServer.processTxn */
    }
}

/* ------------------------------------------------------------------ */
/* prep: request -> transaction                                        */

typedef struct prep {
    zk_server *s;
    zk_request *req;
    int64_t zxid;
    int64_t time;
    jute_writer rec;     /* the txn record being built */
    int32_t txn_type;    /* type to put in the header/Txn */
} prep;

static int check_acl(zk_request *req, zk_acl_list *acl, int perm)
{
    return acl_check(acl, perm, req->auth);
}

static char *view_path(jute_view v)
{
    return v.len < 0 ? NULL : jute_view_dup(v);
}

static bool has_nul(const char *p, jute_view v)
{
    return v.len > 0 && memchr(v.ptr, 0, (size_t)v.len) != NULL && p;
}

static char *parent_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    return g_strndup(path, (gsize)(slash - path));
}

static bool is_special_path(const char *p)
{
    return strcmp(p, "/") == 0 || strcmp(p, "/zookeeper") == 0 ||
           strcmp(p, "/zookeeper/quota") == 0 || strcmp(p, "/zookeeper/config") == 0;
}

int request_session_check(zk_server *s, int64_t session_id)
{
    zk_session *ss = session_get(&s->sessions, session_id);
    if ((!ss || ss->closing) && !readonly_has_session(s, session_id))
        return ZSESSIONEXPIRED;
    return ZOK;
}

/* A RuntimeException in Apache's prep (here: checkQuota reading limits or
 * stats text that does not parse): the whole request, a multi too, becomes
 * an ErrorTxn(MARSHALLINGERROR).  Never a client-visible code itself. */
#define PREP_RUNTIME_ERROR INT32_MIN

/* ZooKeeperServer.checkQuota (enforceQuota only): ZOK, ZQUOTAEXCEEDED or
 * PREP_RUNTIME_ERROR. */
static int prep_quota(zk_server *s, const char *path, int64_t bytes_diff, int64_t count_diff)
{
    if (!s->cfg->enforce_quota)
        return ZOK;
    switch (quota_check(s->tree, path, bytes_diff, count_diff)) {
    case QUOTA_CHECK_EXCEEDED:
        metrics_quota_exceeded_path(path);   /* updateQuotaExceededMetrics */
        return ZQUOTAEXCEEDED;
    case QUOTA_CHECK_BROKEN:
        return PREP_RUNTIME_ERROR;
    default:
        return ZOK;
    }
}

static bool mode_valid(int32_t f) { return f >= 0 && f <= 6; }
static bool mode_is_ttl(int32_t f) { return f == ZK_CREATE_PERSISTENT_WITH_TTL || f == ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL; }
static bool mode_is_seq(int32_t f) { return f == 2 || f == 3 || f == 6; }
static bool mode_is_ephemeral(int32_t f) { return f == 1 || f == 3; }

static int prep_create(prep *p, int32_t type, const zk_create_request *cr)
{
    if (cr->path.len < 0)
        return ZMARSHALLINGERROR;   /* Apache: NPE in validatePathForCreate */
    zk_server *s = p->s;
    if (!mode_valid(cr->flags))
        return ZBADARGUMENTS;
    if (mode_is_ttl(cr->flags) && !s->cfg->extended_types_enabled)
        return ZUNIMPLEMENTED;
    if (mode_is_ttl(cr->flags)) {
        if (cr->ttl > ZK_TTL_MAX || cr->ttl <= 0)
            return ZBADARGUMENTS;
    } else if (cr->ttl >= 0 || type == ZK_OP_CREATETTL) {
        /* Apache dies on createTTL with a non-TTL mode and ttl < 0; we refuse it. */
        return ZBADARGUMENTS;
    }
    int rc = request_session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    char *path = view_path(cr->path);
    if (!strchr(path, '/') || has_nul(path, cr->path)) {
        g_free(path);
        return ZBADARGUMENTS;
    }
    char *ppath = parent_path(path);
    zk_acl_list *acl = NULL;
    rc = acl_fixup(s->tree->acls, &cr->acl, p->req->auth, &acl);
    if (rc != ZOK)
        goto out;
    rec_view parent = get_record(s, ppath);
    if (!parent.found) {
        rc = ZNONODE;
        goto out;
    }
    rc = check_acl(p->req, parent.acl, ZK_PERM_CREATE);
    if (rc != ZOK)
        goto out;
    if (mode_is_seq(cr->flags)) {
        char *seq = g_strdup_printf("%s%010d", path, parent.cversion);
        g_free(path);
        path = seq;
    }
    if (!zk_path_valid(path, strlen(path))) {
        rc = ZBADARGUMENTS;
        goto out;
    }
    if (get_record(s, path).found) {
        rc = ZNODEEXISTS;
        goto out;
    }
    if (zk_owner_is_session(parent.ephemeral_owner)) {
        rc = ZNOCHILDRENFOREPHEMERALS;
        goto out;
    }
    rc = prep_quota(s, path, cr->data.len > 0 ? cr->data.len : 0, 1);
    if (rc != ZOK)
        goto out;
    int32_t new_cversion = zk_jint_add(parent.cversion, 1);
    jw_string(&p->rec, path);
    jw_view(&p->rec, cr->data);
    acl_write(&p->rec, acl);
    if (type == ZK_OP_CREATECONTAINER) {
        jw_int(&p->rec, new_cversion);
    } else if (type == ZK_OP_CREATETTL) {
        jw_int(&p->rec, new_cversion);
        jw_long(&p->rec, cr->ttl);
    } else {
        jw_bool(&p->rec, mode_is_ephemeral(cr->flags));
        jw_int(&p->rec, new_cversion);
    }
    int64_t owner = 0;
    if (cr->flags == ZK_CREATE_CONTAINER)
        owner = ZK_CONTAINER_OWNER;
    else if (mode_is_ttl(cr->flags))
        owner = zk_ttl_owner(cr->ttl);
    else if (mode_is_ephemeral(cr->flags))
        owner = p->req->session_id;
    parent.child_count++;
    parent.cversion = new_cversion;
    add_change(s, p->zxid, ppath, &parent);
    rec_view node = { .found = true, .ephemeral_owner = owner, .acl = acl, .data_len = cr->data.len };
    add_change(s, p->zxid, path, &node);
    p->txn_type = type;
out:
    if (acl)
        acl_unref(s->tree->acls, acl);
    g_free(ppath);
    g_free(path);
    return rc;
}

/* delete and deleteContainer once the path is a C string. */
static int prep_delete_path(prep *p, const char *path, int32_t version, bool container)
{
    zk_server *s = p->s;
    if (!strchr(path, '/') || is_special_path(path))
        return ZBADARGUMENTS;
    char *ppath = parent_path(path);
    int rc = ZOK;
    rec_view parent = get_record(s, ppath);
    rec_view node;
    if (container) {
        node = get_record(s, path);
        if (!node.found) { rc = ZNONODE; goto out; }
        if (node.child_count > 0) { rc = ZNOTEMPTY; goto out; }
        if (zk_owner_is_session(node.ephemeral_owner)) { rc = ZBADVERSION; goto out; }
        if (!parent.found) { rc = ZNONODE; goto out; }
    } else {
        if (!parent.found) { rc = ZNONODE; goto out; }
        rc = check_acl(p->req, parent.acl, ZK_PERM_DELETE);
        if (rc != ZOK) goto out;
        node = get_record(s, path);
        if (!node.found) { rc = ZNONODE; goto out; }
        if (version != -1 && version != node.version) { rc = ZBADVERSION; goto out; }
        if (node.child_count > 0) { rc = ZNOTEMPTY; goto out; }
    }
    jw_string(&p->rec, path);
    parent.child_count--;
    add_change(s, p->zxid, ppath, &parent);
    add_change(s, p->zxid, path, NULL);
    p->txn_type = container ? ZK_OP_DELETECONTAINER : ZK_OP_DELETE;
out:
    g_free(ppath);
    return rc;
}

static int prep_delete(prep *p, const zk_path_version_request *d)
{
    int rc = request_session_check(p->s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    if (d->path.len < 0)
        return ZMARSHALLINGERROR;   /* Apache: NPE in getParentPathAndValidate */
    char *path = view_path(d->path);
    if (has_nul(path, d->path)) {
        g_free(path);
        return ZBADARGUMENTS;
    }
    rc = prep_delete_path(p, path, d->version, false);
    g_free(path);
    return rc;
}

/* deleteContainer: only the server's own reaper names a path (a client's
 * or a learner's request is, to Apache, a path full of NULs). */
static int prep_delete_container(prep *p, jute_view container_path)
{
    if (!container_path.ptr || container_path.len <= 0 ||
        memchr(container_path.ptr, 0, (size_t)container_path.len))
        return ZBADARGUMENTS;
    char *path = jute_view_dup(container_path);
    int rc = prep_delete_path(p, path, -1, true);
    g_free(path);
    return rc;
}

/* The head that setData and check share (PrepRequestProcessor order):
 * session, path validation, the node's record, its ACL for perm.  On ZOK
 * *path (g_malloc'd, caller frees) and *node are set. */
static int prep_existing_node(prep *p, jute_view pv, int perm, char **path, rec_view *node)
{
    *path = NULL;
    if (pv.len < 0 || !zk_path_valid(pv.ptr, (size_t)pv.len))
        return ZBADARGUMENTS;   /* a null path too: validatePath throws */
    *path = view_path(pv);
    *node = get_record(p->s, *path);
    if (!node->found)
        return ZNONODE;
    return check_acl(p->req, node->acl, perm);
}

static int prep_set_data(prep *p, const zk_set_data_request *sd)
{
    zk_server *s = p->s;
    int rc = request_session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    char *path;
    rec_view node;
    rc = prep_existing_node(p, sd->path, ZK_PERM_WRITE, &path, &node);
    if (rc == ZOK)
        rc = prep_quota(s, path, (int64_t)(sd->data.len > 0 ? sd->data.len : 0) -
                                 (node.data_len > 0 ? node.data_len : 0), 0);
    if (rc == ZOK && sd->version != -1 && sd->version != node.version)
        rc = ZBADVERSION;
    if (rc == ZOK) {
        node.version = zk_jint_add(node.version, 1);
        node.data_len = sd->data.len;
        jw_string(&p->rec, path);
        jw_view(&p->rec, sd->data);
        jw_int(&p->rec, node.version);
        add_change(s, p->zxid, path, &node);
        p->txn_type = ZK_OP_SETDATA;
    }
    g_free(path);
    return rc;
}

static int prep_set_acl(prep *p, const zk_set_acl_request *sa)
{
    zk_server *s = p->s;
    int rc = request_session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    if (sa->path.len < 0 || !zk_path_valid(sa->path.ptr, (size_t)sa->path.len))
        return ZBADARGUMENTS;
    zk_acl_list *acl = NULL;
    rc = acl_fixup(s->tree->acls, &sa->acl, p->req->auth, &acl);
    if (rc != ZOK)
        return rc;
    char *path = view_path(sa->path);
    rec_view node = get_record(s, path);
    if (!node.found)
        rc = ZNONODE;
    else if ((rc = check_acl(p->req, node.acl, ZK_PERM_ADMIN)) != ZOK)
        ;
    else if (sa->version != -1 && sa->version != node.aversion)
        rc = ZBADVERSION;
    else {
        node.aversion = zk_jint_add(node.aversion, 1);
        node.acl = acl;
        jw_string(&p->rec, path);
        acl_write(&p->rec, acl);
        jw_int(&p->rec, node.aversion);
        add_change(s, p->zxid, path, &node);
        p->txn_type = ZK_OP_SETACL;
    }
    acl_unref(s->tree->acls, acl);
    g_free(path);
    return rc;
}

static int prep_check(prep *p, const zk_path_version_request *cv)
{
    zk_server *s = p->s;
    int rc = request_session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    char *path;
    rec_view node;
    rc = prep_existing_node(p, cv->path, ZK_PERM_READ, &path, &node);
    if (rc == ZOK && cv->version != -1 && cv->version != node.version)
        rc = ZBADVERSION;
    if (rc == ZOK) {
        jw_string(&p->rec, path);
        jw_int(&p->rec, zk_jint_add(node.version, 1));
        p->txn_type = ZK_OP_CHECK;
    }
    g_free(path);
    return rc;
}

static int prep_close_session(prep *p)
{
    zk_server *s = p->s;
    GPtrArray *eph = tree_session_ephemerals(s->tree, p->req->session_id);
    /* Adjust by pending changes, like Apache: deleted ones drop out, newly
     * created ephemerals of this session join. */
    GPtrArray *list = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < eph->len; i++) {
        const char *path = g_ptr_array_index(eph, i);
        change_rec *cr = g_hash_table_lookup(s->change_by_path, path);
        if (cr && !cr->exists)
            continue;
        g_ptr_array_add(list, g_strdup(path));
    }
    for (GList *l = s->changes.head; l; l = l->next) {
        change_rec *cr = l->data;
        if (cr->exists && cr->ephemeral_owner == p->req->session_id &&
            g_hash_table_lookup(s->change_by_path, cr->path) == cr && !tree_get(s->tree, cr->path))
            g_ptr_array_add(list, g_strdup(cr->path));
    }
    g_ptr_array_free(eph, TRUE);
    jw_int(&p->rec, (int32_t)list->len);
    for (guint i = 0; i < list->len; i++) {
        const char *path = g_ptr_array_index(list, i);
        jw_string(&p->rec, path);
        add_change(s, p->zxid, path, NULL);
    }
    g_ptr_array_free(list, TRUE);
    zk_session *ss = session_get(&s->sessions, p->req->session_id);
    if (ss)
        ss->closing = true;
    p->txn_type = ZK_OP_CLOSESESSION;
    return ZOK;
}

/* createSession: PrepRequestProcessor's trackSession pushes the deadline
 * of an existing session with the requested timeout (a client's frame on
 * an established session); the transaction records the timeout. */
static int prep_create_session(prep *p, int32_t timeout)
{
    zk_server *s = p->s;
    zk_session *ss = session_get(&s->sessions, p->req->session_id);
    if (ss) {
        int32_t keep = ss->timeout;
        ss->timeout = timeout;
        session_touch(&s->sessions, ss, loop_now_ms());
        ss->timeout = keep;
    }
    jw_int(&p->rec, timeout);
    p->txn_type = ZK_OP_CREATESESSION;
    return ZOK;
}

/* One op of a multi (never a read or the bad TTL cast: prep_multi refuses
 * those first); on error the record writer is reset by the caller. */
static int prep_sub_op(prep *p, const zk_sub_op *op)
{
    switch (op->type) {
    case ZK_OP_CREATE: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
        return prep_create(p, op->type, &op->u.create);
    case ZK_OP_DELETE:
        return prep_delete(p, &op->u.path_version);
    case ZK_OP_SETDATA:
        return prep_set_data(p, &op->u.set_data);
    case ZK_OP_CHECK:
        return prep_check(p, &op->u.path_version);
    default:
        return ZMARSHALLINGERROR;
    }
}

/* The path every multi op names (Op.getPath()). */
static jute_view sub_op_path(const zk_sub_op *op)
{
    switch (op->type) {
    case ZK_OP_DELETE: case ZK_OP_CHECK:
        return op->u.path_version.path;
    case ZK_OP_SETDATA:
        return op->u.set_data.path;
    case ZK_OP_GETDATA: case ZK_OP_GETCHILDREN:
        return op->u.path_watch.path;
    default:
        return op->u.create.path;
    }
}

/* True if some op of a multi names the null path: Apache's
 * getPendingChanges then dies on path.lastIndexOf (see answer_txnless). */
bool multi_has_null_path(const zk_multi *m)
{
    for (int i = 0; i < m->n; i++)
        if (sub_op_path(&m->ops[i]).len < 0)
            return true;
    return false;
}

/* Rolls back the change records a failed multi added, restoring the saved ones. */
static void rollback_multi(zk_server *s, int64_t zxid, GHashTable *saved)
{
    change_rec *cr;
    while ((cr = g_queue_peek_tail(&s->changes)) && cr->zxid == zxid) {
        g_queue_pop_tail(&s->changes);
        if (g_hash_table_lookup(s->change_by_path, cr->path) == cr)
            g_hash_table_remove(s->change_by_path, cr->path);
        request_change_free(s, cr);
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, saved);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_queue_find(&s->changes, v))
            g_hash_table_replace(s->change_by_path, ((change_rec *)v)->path, v);
}

static int prep_multi(prep *p, const zk_multi *m, jute_writer *txn)
{
    zk_server *s = p->s;
    /* Save the outstanding records of every path involved, for rollback. */
    GHashTable *saved = g_hash_table_new(g_str_hash, g_str_equal);
    for (int i = 0; i < m->n; i++) {
        jute_view pv = sub_op_path(&m->ops[i]);
        if (pv.len <= 0)
            continue;
        char *path = jute_view_dup(pv);
        change_rec *cr = g_hash_table_lookup(s->change_by_path, path);
        if (cr)
            g_hash_table_insert(saved, cr->path, cr);
        char *slash = strrchr(path, '/');
        if (slash) {
            *slash = 0;
            cr = g_hash_table_lookup(s->change_by_path, path);
            if (cr)
                g_hash_table_insert(saved, cr->path, cr);
        }
        g_free(path);
    }
    jw_int(txn, m->n);
    int failed = ZOK;
    for (int i = 0; i < m->n; i++) {
        const zk_sub_op *op = &m->ops[i];
        jw_reset(&p->rec);
        int32_t sub_type;
        if (failed != ZOK) {
            sub_type = ZK_OP_ERROR;
            jw_int(&p->rec, ZRUNTIMEINCONSISTENCY);
        } else if (op->type == ZK_MULTI_CREATE_TTL_BAD_CAST || op->type == ZK_OP_GETDATA ||
                   op->type == ZK_OP_GETCHILDREN) {
            /* Apache throws a non-Keeper exception here: the whole
             * request becomes an ErrorTxn(MARSHALLINGERROR). */
            rollback_multi(s, p->zxid, saved);
            g_hash_table_destroy(saved);
            return ZMARSHALLINGERROR;
        } else {
            int rc = prep_sub_op(p, op);
            if (rc == PREP_RUNTIME_ERROR) {
                rollback_multi(s, p->zxid, saved);
                g_hash_table_destroy(saved);
                return ZMARSHALLINGERROR;
            }
            if (rc != ZOK) {
                failed = rc;
                sub_type = ZK_OP_ERROR;
                jw_reset(&p->rec);
                jw_int(&p->rec, rc);
                rollback_multi(s, p->zxid, saved);
            } else {
                sub_type = p->txn_type;
            }
        }
        jw_int(txn, sub_type);
        jw_buffer(txn, p->rec.buf, (int32_t)p->rec.len);
    }
    g_hash_table_destroy(saved);
    p->txn_type = ZK_OP_MULTI;
    return ZOK;
}

/* reconfig: reconfig.c's checks, then WRITE on /zookeeper/config (super
 * passes, as in every ACL check; skipACL=yes lets anyone), then a SetDataTxn of the new config with
 * version -1 under the reconfig opcode. */
static int prep_reconfig(prep *p, const zk_reconfig_request *rq)
{
    char *text = NULL;
    int rc = reconfig_check(p->s, p->req->session_id, rq, p->zxid, &text);
    if (rc != ZOK)
        return rc;
    static const char config_path[] = "/zookeeper/config";
    rec_view node = get_record(p->s, config_path);
    if (acl_skip_enabled())   /* PrepRequestProcessor: the check is skipped, with this warning */
        LOG_WARN("skipACL is set, reconfig operation will skip ACL checks!");
    rc = node.found ? check_acl(p->req, node.acl, ZK_PERM_WRITE) : ZNONODE;
    if (rc == ZOK) {
        jw_string(&p->rec, config_path);
        jw_buffer(&p->rec, text, (int32_t)strlen(text));
        jw_int(&p->rec, -1);
        node.version = -1;
        add_change(p->s, p->zxid, config_path, &node);
        p->txn_type = ZK_OP_RECONFIG;
        p->s->reconfig_pending = p->zxid;
    }
    g_free(text);
    return rc;
}

/* Preps one decoded write (not multi, not closeSession); the txn record
 * goes to p->rec. */
static int prep_decoded(prep *p, const zk_op *op)
{
    switch (op->type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
        return prep_create(p, op->type, &op->u.create);
    case ZK_OP_DELETE:
        return prep_delete(p, &op->u.path_version);
    case ZK_OP_DELETECONTAINER:
        return prep_delete_container(p, op->u.container_path);
    case ZK_OP_SETDATA:
        return prep_set_data(p, &op->u.set_data);
    case ZK_OP_SETACL:
        return prep_set_acl(p, &op->u.set_acl);
    case ZK_OP_CHECK:
        return prep_check(p, &op->u.path_version);
    case ZK_OP_CREATESESSION:
        return prep_create_session(p, op->u.session_timeout);
    case ZK_OP_RECONFIG:
        return prep_reconfig(p, &op->u.reconfig);
    default:
        return ZMARSHALLINGERROR;
    }
}

/* A write whose body did not decode: PrepRequestProcessor's ErrorTxn
 * (MARSHALLINGERROR), behind the session check for the ops that check
 * the session before they deserialize. */
static int prep_undecodable(prep *p)
{
    if (zk_op_checks_session_first(p->req->type)) {
        int rc = request_session_check(p->s, p->req->session_id);
        if (rc != ZOK)
            return rc;
    }
    return ZMARSHALLINGERROR;
}

/* Builds req->txn for a write request; always succeeds (errors become ErrorTxn). */
void prep_write(zk_server *s, zk_request *req, int64_t zxid)
{
    s->last_zxid = zxid;
    prep p = { .s = s, .req = req, .zxid = zxid, .time = loop_wall_ms() };
    jw_init(&p.rec, 256);
    jute_writer body;
    jw_init(&body, 256);
    int rc = ZOK;
    if (!req->decoded) {
        rc = prep_undecodable(&p);
    } else if (req->type == ZK_OP_CLOSESESSION) {
        prep_close_session(&p);
        jw_raw(&body, p.rec.buf, p.rec.len);
    } else if (req->type == ZK_OP_MULTI) {
        rc = prep_multi(&p, &req->op.u.multi, &body);
    } else {
        rc = prep_decoded(&p, &req->op);
        if (rc == PREP_RUNTIME_ERROR)
            rc = ZMARSHALLINGERROR;
        if (rc == ZOK)
            jw_raw(&body, p.rec.buf, p.rec.len);
    }
    txn_header h = { req->session_id, req->xid, p.zxid, p.time, p.txn_type };
    if (rc != ZOK) {
        h.type = ZK_OP_ERROR;
        jw_reset(&body);
        jw_int(&body, rc);
    } else if (req->type == ZK_OP_CREATE2 || req->type == ZK_OP_CREATE) {
        h.type = req->type;
    }
    jute_writer txn;
    jw_init(&txn, 32 + body.len);
    txn_header_write(&txn, &h);
    jw_raw(&txn, body.buf, body.len);
    req->zxid = p.zxid;
    req->txn = txn.buf;          /* ownership moves to the request */
    req->txn_len = txn.len;
    jw_free(&body);
    jw_free(&p.rec);
}
