/* txn.c — transaction encoding and application (see txn.h). */
#include "txn.h"

#include <string.h>

#include "zk/path.h"

/* The path a transaction record names, g_malloc'd; NULL if it is not a
 * valid path (or the root where root_ok is false).  The pipeline only makes
 * transactions on paths it validated, so anything else is not one of this
 * server's transactions (a corrupt log, a hostile leader): refused before
 * the tree sees it. */
static char *txn_path(jute_view v, bool root_ok)
{
    if (v.len <= 0 || !zk_path_valid(v.ptr, (size_t)v.len) || (!root_ok && v.len == 1))
        return NULL;
    return jute_view_dup(v);
}

void txn_header_write(jute_writer *w, const txn_header *h)
{
    jw_long(w, h->client_id);
    jw_int(w, h->cxid);
    jw_long(w, h->zxid);
    jw_long(w, h->time);
    jw_int(w, h->type);
}

bool txn_header_read(jute_reader *r, txn_header *h)
{
    h->client_id = jr_long(r);
    h->cxid = jr_int(r);
    h->zxid = jr_long(r);
    h->time = jr_long(r);
    h->type = jr_int(r);
    return jr_ok(r);
}

void txn_result_clear(txn_result *res)
{
    g_free(res->path);
    res->path = NULL;
    if (res->multi) {
        for (guint i = 0; i < res->multi->len; i++)
            txn_result_clear(&g_array_index(res->multi, txn_result, i));
        g_array_free(res->multi, TRUE);
        res->multi = NULL;
    }
}

static void close_session(txn_ctx *ctx, const txn_header *h, const zk_vec *paths, txn_result *res)
{
    (void)res;
    /* DataTree.killSession: delete the paths named in the txn, then any
     * other ephemeral the session still owns. */
    if (paths && paths->count > 0) {
        jute_reader it;
        zk_vec_iter(paths, &it);
        for (int i = 0; i < paths->count; i++) {
            char *p = jute_view_dup(jr_string(&it));
            if (!p)
                continue;
            zk_node *n = tree_get(ctx->tree, p);
            if (n && n->ephemeral_owner == h->client_id)
                tree_delete(ctx->tree, p, h->zxid);
            g_free(p);
        }
    }
    GPtrArray *rest = tree_session_ephemerals(ctx->tree, h->client_id);
    GPtrArray *copies = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < rest->len; i++)
        g_ptr_array_add(copies, g_strdup(g_ptr_array_index(rest, i)));
    g_ptr_array_free(rest, TRUE);
    for (guint i = 0; i < copies->len; i++)
        tree_delete(ctx->tree, g_ptr_array_index(copies, i), h->zxid);
    g_ptr_array_free(copies, TRUE);
    jset *set = g_hash_table_lookup(ctx->tree->ephemerals, &h->client_id);
    if (set) {
        jset_clear(set);
        g_free(set);
        g_hash_table_remove(ctx->tree->ephemerals, &h->client_id);
    }
    session_remove(ctx->sessions, h->client_id);
    if (ctx->session_closed)
        ctx->session_closed(ctx->cb_ctx, h->client_id);
}

/* Applies one record of type `type` read from r. */
static bool apply_record(txn_ctx *ctx, const txn_header *h, int32_t type, jute_reader *r,
                         txn_result *res)
{
    zk_tree *t = ctx->tree;
    res->type = type;
    res->err = ZOK;
    switch (type) {
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
    case ZK_OP_CREATECONTAINER:
    case ZK_OP_CREATETTL: {
        jute_view path = jr_string(r);
        jute_view data = jr_buffer(r);
        zk_vec aclv;
        zk_vec_read(r, &aclv, zk_skip_acl);
        bool ephemeral = false;
        if (type == ZK_OP_CREATE || type == ZK_OP_CREATE2)
            ephemeral = jr_bool(r);
        int32_t parent_cversion = jr_int(r);
        int64_t ttl = type == ZK_OP_CREATETTL ? jr_long(r) : 0;
        if (!jr_ok(r))
            return false;
        int64_t owner = ephemeral ? h->client_id : 0;
        if (type == ZK_OP_CREATECONTAINER)
            owner = ZK_CONTAINER_OWNER;
        else if (type == ZK_OP_CREATETTL)
            owner = zk_ttl_owner(ttl);
        res->path = txn_path(path, false);
        if (!res->path)
            return false;
        zk_acl_list *acl = acl_intern_vec(t->acls, &aclv);
        if (!acl)
            return false;
        res->err = tree_create(t, res->path, data.ptr, data.len, acl, owner, parent_cversion,
                               h->zxid, h->time, &res->stat);
        res->has_stat = res->err == ZOK && type != ZK_OP_CREATE;
        acl_unref(t->acls, acl);
        if (res->err == ZNODEEXISTS && type == ZK_OP_CREATE) {
            /* DataTree.processTxn: a replayed create that finds its node
             * (fuzzy snapshot) still moves the parent's cversion/pzxid. */
            char *slash = strrchr(res->path, '/');
            char *parent = g_strndup(res->path, (gsize)(slash - res->path));
            tree_set_cversion_pzxid(t, parent, parent_cversion, h->zxid);
            g_free(parent);
        }
        break;
    }
    case ZK_OP_DELETE:
    case ZK_OP_DELETECONTAINER: {
        jute_view path = jr_string(r);
        if (!jr_ok(r) || !(res->path = txn_path(path, false)))
            return false;
        res->err = tree_delete(t, res->path, h->zxid);
        break;
    }
    case ZK_OP_SETDATA:
    case ZK_OP_RECONFIG: {   /* a SetDataTxn on /zookeeper/config (DataTree.processTxn) */
        jute_view path = jr_string(r);
        jute_view data = jr_buffer(r);
        int32_t version = jr_int(r);
        if (!jr_ok(r) || !(res->path = txn_path(path, true)))
            return false;
        res->err = tree_set_data(t, res->path, data.ptr, data.len, version, h->zxid, h->time,
                                 &res->stat);
        res->has_stat = res->err == ZOK;
        break;
    }
    case ZK_OP_SETACL: {
        jute_view path = jr_string(r);
        zk_vec aclv;
        zk_vec_read(r, &aclv, zk_skip_acl);
        int32_t version = jr_int(r);
        if (!jr_ok(r) || !(res->path = txn_path(path, true)))
            return false;
        zk_acl_list *acl = acl_intern_vec(t->acls, &aclv);
        if (!acl)
            return false;
        res->err = tree_set_acl(t, res->path, acl, version, &res->stat);
        res->has_stat = res->err == ZOK;
        acl_unref(t->acls, acl);
        break;
    }
    case ZK_OP_CHECK: {
        jute_view path = jr_string(r);
        (void)jr_int(r);
        if (!jr_ok(r) || !(res->path = txn_path(path, true)))
            return false;
        break;
    }
    case ZK_OP_CREATESESSION: {
        int32_t timeout = jr_int(r);
        if (!jr_ok(r))
            return false;
        session_add(ctx->sessions, h->client_id, timeout, ctx->now_ms);
        break;
    }
    case ZK_OP_CLOSESESSION: {
        zk_vec paths = { 0, { NULL, 0 } };
        if (jr_remaining(r) > 0)
            zk_vec_read(r, &paths, zk_skip_string);
        if (!jr_ok(r))
            return false;
        close_session(ctx, h, &paths, res);
        break;
    }
    case ZK_OP_ERROR: {
        res->err = jr_int(r);
        if (!jr_ok(r))
            return false;
        break;
    }
    case ZK_OP_MULTI: {
        int32_t n = jr_vector_len(r, 8);
        if (!jr_ok(r) || n < 0)
            return false;
        /* First pass: is any sub-transaction an error? */
        size_t start = r->pos;
        bool failed = false;
        for (int32_t i = 0; i < n; i++) {
            int32_t st = jr_int(r);
            (void)jr_buffer(r);
            if (st == ZK_OP_ERROR)
                failed = true;
        }
        if (!jr_ok(r))
            return false;
        r->pos = start;
        res->multi = g_array_sized_new(FALSE, TRUE, sizeof(txn_result), (guint)n);
        bool post_failed = false;
        for (int32_t i = 0; i < n; i++) {
            int32_t st = jr_int(r);
            jute_view body = jr_buffer(r);
            txn_result sub = { 0 };
            jute_reader br;
            jr_init(&br, body.ptr, body.len > 0 ? (size_t)body.len : 0);
            if (st == ZK_OP_ERROR)
                post_failed = true;
            if (failed && st != ZK_OP_ERROR) {
                sub.type = ZK_OP_ERROR;
                sub.err = post_failed ? ZRUNTIMEINCONSISTENCY : ZOK;
            } else if (!apply_record(ctx, h, st, &br, &sub)) {
                txn_result_clear(&sub);
                return false;
            }
            g_array_append_val(res->multi, sub);
            if (sub.err != ZOK && res->err == ZOK)
                res->err = sub.err;
        }
        break;
    }
    default:
        return false;
    }
    return true;
}

bool txn_apply(txn_ctx *ctx, const uint8_t *buf, size_t len, txn_result *res)
{
    memset(res, 0, sizeof *res);
    jute_reader r;
    jr_init(&r, buf, len);
    txn_header h;
    if (!txn_header_read(&r, &h))
        return false;
    bool ok = apply_record(ctx, &h, h.type, &r, res);
    if (ctx->tree->last_processed_zxid < h.zxid)
        ctx->tree->last_processed_zxid = h.zxid;
    return ok;
}
