/*
 * request_read.c — the operations that make no transaction (reads,
 * watches, sync, multiRead), answered from the tree in connection order,
 * with FinalRequestProcessor's error precedence.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "request.h"
#include "server.h"
#include "txn.h"

#include <string.h>

#include "jstring.h"
#include "quorum.h"
#include "zk/path.h"
#include "request_internal.h"
#include "metrics.h"

/* ------------------------------------------------------------------ */
/* reads                                                               */

/* getData; `may_watch` false ignores the request's watch flag (multiRead). */
static int read_get_data(zk_server *s, zk_conn *c, const zk_path_watch_request *g,
                         jute_writer *out, bool may_watch)
{
    if (g->path.len < 0)
        return ZMARSHALLINGERROR;   /* Apache: NPE on the null path */
    zk_node *n = request_lookup(s, g->path);
    if (!n)
        return ZNONODE;
    int rc = acl_check(n->acl, ZK_PERM_READ, c->auth);
    if (rc != ZOK)
        return rc;
    if (g->watch && may_watch) {
        char *key = jstring_watch_key(g->path);
        watch_add(s->tree->data_watches, key, c, WATCH_STANDARD);
        g_free(key);
    }
    jw_buffer(out, n->data, n->data_len);
    zk_stat st;
    tree_stat(n, &st);
    zk_stat_write(out, &st);
    metrics_read_stat(n->path, n->data_len > 0 ? n->data_len : 0);   /* DataTree.getData: updateReadStat */
    return ZOK;
}

/* getChildren(2); `may_watch` false ignores the request's watch flag (multiRead). */
static int read_get_children(zk_server *s, zk_conn *c, const zk_path_watch_request *g,
                             jute_writer *out, bool with_stat, bool may_watch)
{
    if (g->path.len < 0)
        return ZMARSHALLINGERROR;
    zk_node *n = request_lookup(s, g->path);
    if (!n)
        return ZNONODE;
    int rc = acl_check(n->acl, ZK_PERM_READ, c->auth);
    if (rc != ZOK)
        return rc;
    jw_int(out, (int32_t)n->children.size);
    int64_t names = 0;
    for (jset_entry *e = jset_first(&n->children); e; e = jset_next(&n->children, e)) {
        jw_string(out, e->key);
        names += metrics_name_length(e->key);
    }
    metrics_read_stat(n->path, names);   /* DataTree.getChildren: updateReadStat */
    if (with_stat) {
        zk_stat st;
        tree_stat(n, &st);
        zk_stat_write(out, &st);
    }
    if (g->watch && may_watch) {
        char *key = jstring_watch_key(g->path);
        watch_add(s->tree->child_watches, key, c, WATCH_STANDARD);
        g_free(key);
    }
    return ZOK;
}

/* One list of a setWatches (kind 0 data, 1 exist, 2 child, 3 persistent,
 * 4 persistent recursive).  False if a data/exist/child entry is the null
 * path: Apache's getNode(null) throws there (the entries before it took
 * effect); persistent ones take it as the null key. */
static bool add_watch_list(zk_server *s, zk_conn *c, const zk_vec *v, int kind, int64_t rel)
{
    jute_reader it;
    zk_vec_iter(v, &it);
    for (int i = 0; i < v->count; i++) {
        jute_view pv = jr_string(&it);
        if (!jr_ok(&it))
            break;
        if (pv.len < 0 && kind <= 2)
            return false;
        char *path = jstring_watch_key(pv);
        zk_node *n = request_lookup(s, pv);
        switch (kind) {
        case 0: /* data */
            if (!n)
                request_deliver_event(s, c, ZK_EVENT_DELETED, path, NULL);
            else if (n->mzxid > rel)
                request_deliver_event(s, c, ZK_EVENT_DATA_CHANGED, path, NULL);
            else
                watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
            break;
        case 1: /* exist */
            if (n)
                request_deliver_event(s, c, ZK_EVENT_CREATED, path, NULL);
            else
                watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
            break;
        case 2: /* child */
            if (!n)
                request_deliver_event(s, c, ZK_EVENT_DELETED, path, NULL);
            else if (n->pzxid > rel)
                request_deliver_event(s, c, ZK_EVENT_CHILD_CHANGED, path, NULL);
            else
                watch_add(s->tree->child_watches, path, c, WATCH_STANDARD);
            break;
        case 3:
            watch_add(s->tree->child_watches, path, c, WATCH_PERSISTENT);
            watch_add(s->tree->data_watches, path, c, WATCH_PERSISTENT);
            break;
        case 4:
            watch_add(s->tree->child_watches, path, c, WATCH_PERSISTENT_RECURSIVE);
            watch_add(s->tree->data_watches, path, c, WATCH_PERSISTENT_RECURSIVE);
            break;
        }
        g_free(path);
    }
    return true;
}

/* setWatches(2): DataTree.setWatches walks the lists in this order and
 * dies (MARSHALLINGERROR) at the first null one, after the earlier lists
 * took effect. */
static int read_set_watches(zk_server *s, zk_conn *c, int32_t type, const zk_set_watches *sw)
{
    const zk_vec *lists[5] = { &sw->data, &sw->exist, &sw->child, &sw->persistent,
                               &sw->persistent_recursive };
    int nlists = type == ZK_OP_SETWATCHES ? 3 : 5;
    for (int k = 0; k < nlists; k++) {
        if (lists[k]->count < 0 || !add_watch_list(s, c, lists[k], k, sw->relative_zxid))
            return ZMARSHALLINGERROR;
    }
    return ZOK;
}

void write_multi_header(jute_writer *w, int32_t type, bool done, int32_t err)
{
    zk_multi_header mh = { type, done, err };
    zk_multi_header_write(w, &mh);
}

/* The MultiResponse end marker. */
static void write_multi_end(jute_writer *w)
{
    write_multi_header(w, -1, true, -1);
}

/*
 * multiRead (FinalRequestProcessor): each getData/getChildren answered in
 * turn, a KeeperException as that op's ErrorResult.  Anything else ends
 * the request with MARSHALLINGERROR and the results built so far (*body is
 * then sent with the error): an op that is not a read ("Invalid type of
 * op"), or one naming the null path (a NullPointerException).
 */
static int read_multi(zk_server *s, zk_conn *c, const zk_multi *m, jute_writer *out, bool *body)
{
    for (int i = 0; i < m->n; i++) {
        const zk_sub_op *op = &m->ops[i];
        /* A reply this big cannot be sent (conn_send_frame closes the
         * connection at cnxnOutputLimitBytes): stop building it. */
        if (out->len > conn_output_room(c))
            break;
        if ((op->type != ZK_OP_GETDATA && op->type != ZK_OP_GETCHILDREN) ||
            op->u.path_watch.path.len < 0) {
            write_multi_end(out);
            *body = true;
            return ZMARSHALLINGERROR;
        }
        jute_writer sub;
        jw_init(&sub, 128);
        /* Apache builds Op.getData(path) / Op.getChildren(path) from the
         * records (MultiOperationRecord.deserialize), and their
         * toRequestRecord() sets watch=false: multiRead never sets a watch. */
        int rc = op->type == ZK_OP_GETDATA
                     ? read_get_data(s, c, &op->u.path_watch, &sub, false)
                     : read_get_children(s, c, &op->u.path_watch, &sub, false, false);
        if (rc == ZOK) {
            write_multi_header(out, op->type, false, 0);
            jw_raw(out, sub.buf, sub.len);
        } else {
            write_multi_header(out, ZK_OP_ERROR, false, rc);
            jw_int(out, rc);
        }
        jw_free(&sub);
    }
    write_multi_end(out);
    return ZOK;
}

static int watcher_type_ok(int32_t t)
{
    return t == ZK_WATCHER_CHILDREN || t == ZK_WATCHER_DATA || t == ZK_WATCHER_ANY;
}

static int read_check_or_remove_watches(zk_server *s, zk_conn *c, bool remove,
                                        const zk_path_type_request *pt)
{
    if (!watcher_type_ok(pt->type))
        return ZMARSHALLINGERROR;   /* WatcherType.fromInt throws */
    if (pt->path.len < 0 && !remove)
        return ZMARSHALLINGERROR;   /* containsWatcher: NPE on the null path */
    char *path = jstring_watch_key(pt->path);
    if (pt->path.len < 0) {
        /* removeWatches of the null path: Apache's WatcherModeManager
         * throws comparing the null path of a null-path watch it holds
         * (addWatch of the null path made one), after taking it out. */
        bool held_child = watch_remove(s->tree->child_watches, path, c);
        bool held_data = watch_remove(s->tree->data_watches, path, c);
        bool held = held_child || held_data;
        g_free(path);
        return held ? ZMARSHALLINGERROR : ZNOWATCHER;
    }
    bool found = false;
    bool want_child = pt->type == ZK_WATCHER_CHILDREN || pt->type == ZK_WATCHER_ANY;
    bool want_data = pt->type == ZK_WATCHER_DATA || pt->type == ZK_WATCHER_ANY;
    /* Apache's containsWatcher throws on paths its parent walk cannot
     * take apart ("diff", "a/b"): MARSHALLINGERROR (see watch.h). */
    if (!remove && ((want_child && watch_contains_throws(s->tree->child_watches, path, c)) ||
                    (want_data && watch_contains_throws(s->tree->data_watches, path, c)))) {
        g_free(path);
        return ZMARSHALLINGERROR;
    }
    if (want_child)
        found |= remove ? watch_remove(s->tree->child_watches, path, c)
                        : watch_contains(s->tree->child_watches, path, c);
    if (want_data)
        found |= remove ? watch_remove(s->tree->data_watches, path, c)
                        : watch_contains(s->tree->data_watches, path, c);
    g_free(path);
    return found ? ZOK : ZNOWATCHER;
}

/* The SyncResponse: Apache echoes the path as a Java string (malformed
 * UTF-8 comes back as U+FFFD, e.g. an encoded surrogate "\xED\xA0\x80";
 * the null path as null). */
void write_sync_path(jute_writer *out, jute_view path)
{
    if (path.len < 0) {
        jw_view(out, path);
        return;
    }
    GByteArray *echo = g_byte_array_new();
    jstring_jute_echo(echo, (const uint8_t *)path.ptr, (size_t)path.len);
    jute_view ev = { (const char *)echo->data, (int32_t)echo->len };
    jw_view(out, ev);
    g_byte_array_free(echo, TRUE);
}

/* True if the session is known here and its closeSession is in the pipeline. */
static bool closing_session(const zk_server *s, int64_t session_id)
{
    const zk_session *ss = session_get(&s->sessions, session_id);
    return ss && ss->closing;
}

/* Answers a request that makes no transaction (reads, and the writes of
 * request_makes_txn() that make none); returns the error code, the body in
 * *out (sent with an error too when *body_on_error). */
int process_read(zk_server *s, zk_request *req, jute_writer *out, const char **op,
                        int32_t *reply_xid, bool *body_on_error)
{
    zk_conn *c = req->conn;
    const zk_op *o = &req->op;
    *op = op_stat_name(req->type);
    if (req->type == ZK_OP_PING)
        *reply_xid = ZK_XID_PING;
    int rc = request_session_check(s, req->session_id);
    /* A ping is answered for a session this server does not know (as a
     * follower's FinalRequestProcessor answers it), but one behind the
     * session's closeSession (the session closing, or closed and the
     * connection closing after its last reply) gets SESSIONEXPIRED, as the
     * ping that PrepRequestProcessor's checkSession refuses in Apache
     * (test/integration/diff_test.py: closeSession's trailing requests). */
    if (rc != ZOK && (req->type != ZK_OP_PING || closing_session(s, req->session_id) ||
                      (c && c->close_after_flush)))
        return rc;
    if (!req->decoded)
        return ZMARSHALLINGERROR;   /* FinalRequestProcessor (and an undecodable reconfig) */
    switch (req->type) {
    case ZK_OP_PING:
        return ZOK;
    case ZK_OP_SYNC:
        write_sync_path(out, o->u.path);
        return ZOK;
    case ZK_OP_EXISTS: {
        const zk_path_watch_request *g = &o->u.path_watch;
        if (g->path.len < 0)
            return ZMARSHALLINGERROR;
        if (memchr(g->path.ptr, 0, (size_t)g->path.len))
            return ZBADARGUMENTS;
        /* Apache 3.8.0 checks no ACL on exists (3.8.2+ do): we follow the
         * 3.8.0 that Debian ships and our differential test runs against. */
        zk_node *n = request_lookup(s, g->path);
        if (g->watch) {
            char *key = jstring_watch_key(g->path);
            watch_add(s->tree->data_watches, key, c, WATCH_STANDARD);
            g_free(key);
        }
        if (!n)
            return ZNONODE;
        zk_stat st;
        tree_stat(n, &st);
        zk_stat_write(out, &st);
        metrics_read_stat(n->path, 0);   /* DataTree.statNode: updateReadStat */
        return ZOK;
    }
    case ZK_OP_GETDATA:
        return read_get_data(s, c, &o->u.path_watch, out, true);
    case ZK_OP_GETCHILDREN:
        return read_get_children(s, c, &o->u.path_watch, out, false, true);
    case ZK_OP_GETCHILDREN2:
        return read_get_children(s, c, &o->u.path_watch, out, true, true);
    case ZK_OP_GETACL: {
        if (o->u.path.len < 0)
            return ZMARSHALLINGERROR;
        zk_node *n = request_lookup(s, o->u.path);
        if (!n)
            return ZNONODE;
        if ((rc = acl_check(n->acl, ZK_PERM_READ | ZK_PERM_ADMIN, c->auth)) != ZOK)
            return rc;
        bool admin = acl_check(n->acl, ZK_PERM_ADMIN, c->auth) == ZOK;
        jw_int(out, n->acl->count);
        for (int i = 0; i < n->acl->count; i++) {
            const zk_acl_entry *e = &n->acl->items[i];
            jw_int(out, e->perms);
            jw_string(out, e->scheme);
            if (!admin && strcmp(e->scheme, "digest") == 0) {
                const char *colon = strchr(e->id, ':');
                char *masked = colon ? g_strdup_printf("%.*s:x", (int)(colon - e->id), e->id)
                                     : g_strdup(e->id);
                jw_string(out, masked);
                g_free(masked);
            } else {
                jw_string(out, e->id);
            }
        }
        zk_stat st;
        tree_stat(n, &st);
        zk_stat_write(out, &st);
        return ZOK;
    }
    case ZK_OP_GETALLCHILDRENNUMBER: {
        if (o->u.path.len < 0)
            return ZMARSHALLINGERROR;
        zk_node *n = request_lookup(s, o->u.path);
        if (!n)
            return ZNONODE;
        if ((rc = acl_check(n->acl, ZK_PERM_READ, c->auth)) != ZOK)
            return rc;
        jw_int(out, tree_count_descendants(n));
        return ZOK;
    }
    case ZK_OP_SETWATCHES:
    case ZK_OP_SETWATCHES2:
        return read_set_watches(s, c, req->type, &o->u.set_watches);
    case ZK_OP_ADDWATCH: {
        const zk_path_type_request *aw = &o->u.path_type;
        if (aw->type != ZK_ADDWATCH_PERSISTENT && aw->type != ZK_ADDWATCH_PERSISTENT_RECURSIVE)
            return ZMARSHALLINGERROR;
        /* A null path is a watch of its own in Apache's tables (a HashMap
         * takes the null key): removeWatches of the null path finds it. */
        char *path = jstring_watch_key(aw->path);
        int mode = aw->type == ZK_ADDWATCH_PERSISTENT ? WATCH_PERSISTENT : WATCH_PERSISTENT_RECURSIVE;
        watch_add(s->tree->data_watches, path, c, mode);
        watch_add(s->tree->child_watches, path, c, mode);
        g_free(path);
        jw_int(out, 0);
        return ZOK;
    }
    case ZK_OP_CHECKWATCHES:
    case ZK_OP_REMOVEWATCHES:
        return read_check_or_remove_watches(s, c, req->type == ZK_OP_REMOVEWATCHES, &o->u.path_type);
    case ZK_OP_WHOAMI: {
        jw_int(out, (int32_t)c->auth->len);
        for (guint i = 0; i < c->auth->len; i++) {
            const zk_auth_id *a = g_ptr_array_index(c->auth, i);
            jw_string(out, a->scheme);
            if (strcmp(a->scheme, "digest") == 0) {
                const char *colon = strchr(a->id, ':');
                char *user = colon ? g_strndup(a->id, (gsize)(colon - a->id)) : g_strdup(a->id);
                jw_string(out, user);
                g_free(user);
            } else if (strcmp(a->scheme, "ip") == 0 || strcmp(a->scheme, "x509") == 0 ||
                       (strcmp(a->scheme, "sasl") == 0 && acl_sasl_enabled())) {
                /* Apache (AuthUtil.getUser): the provider's getUserName, the
                 * id itself for ip, x509 and sasl (when SASLAuthenticationProvider
                 * is registered; null without a provider) */
                jw_string(out, a->id);
            } else {
                jw_string(out, NULL);
            }
        }
        return ZOK;
    }
    case ZK_OP_GETEPHEMERALS: {
        char *prefix = jute_view_dup(o->u.path);
        char *trimmed = prefix ? g_strstrip(g_strdup(prefix)) : NULL;
        bool all = !prefix || !*trimmed || strcmp(trimmed, "/") == 0;
        GPtrArray *eph = tree_session_ephemerals(s->tree, req->session_id);
        size_t count_at = out->len;
        jw_int(out, 0);
        int32_t n = 0;
        for (guint i = 0; i < eph->len; i++) {
            const char *p = g_ptr_array_index(eph, i);
            if (all || g_str_has_prefix(p, prefix)) {
                jw_string(out, p);
                n++;
            }
        }
        jw_patch_int(out, count_at, n);
        g_ptr_array_free(eph, TRUE);
        g_free(trimmed);
        g_free(prefix);
        return ZOK;
    }
    case ZK_OP_MULTIREAD:
        return read_multi(s, c, &o->u.multi, out, body_on_error);
    case ZK_OP_MULTI:
        /* A multi naming the null path (request_makes_txn): Apache's
         * getPendingChanges dies after it took a zxid and before the txn
         * header; FinalRequestProcessor then answers MARSHALLINGERROR with
         * the empty MultiResponse it had started.  Standalone, the zxid it
         * took is skipped like Apache's; in an ensemble only the answer is
         * Apache's (its learners would wait for that request forever). */
        if (!s->quorum)
            s->last_zxid++;
        write_multi_end(out);
        *body_on_error = true;
        return ZMARSHALLINGERROR;
    default:
        return ZUNIMPLEMENTED;
    }
}
