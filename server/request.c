/*
 * request.c — the request pipeline: session establishment, per-connection
 * ordering, "prep" of writes into transactions (validated against the tree
 * plus Apache's outstanding-change records, so pipelined writes see each
 * other), group-committed logging, apply and reply, the read operations,
 * session expiry and container/TTL reaping.  The error precedence of every
 * operation follows Apache ZooKeeper 3.8's PrepRequestProcessor and
 * FinalRequestProcessor, because clients observe it.
 */
#include "server.h"

#include <string.h>

#include "quorum.h"
#include "zk/path.h"

static void process_request(zk_server *s, zk_request *req);
static void drain_waiting(zk_conn *c);
static void drain_synced(zk_server *s);

/* ------------------------------------------------------------------ */
/* helpers                                                             */

static bool op_is_write(int32_t type)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER: case ZK_OP_SETDATA: case ZK_OP_SETACL:
    case ZK_OP_CHECK: case ZK_OP_MULTI: case ZK_OP_RECONFIG: case ZK_OP_CLOSESESSION:
    case ZK_OP_CREATESESSION:
        return true;
    default:
        return false;
    }
}

static bool op_is_known(int32_t type)
{
    switch (type) {
    case ZK_OP_EXISTS: case ZK_OP_GETDATA: case ZK_OP_GETACL: case ZK_OP_GETCHILDREN:
    case ZK_OP_GETCHILDREN2: case ZK_OP_SYNC: case ZK_OP_PING: case ZK_OP_SETWATCHES:
    case ZK_OP_SETWATCHES2: case ZK_OP_CHECKWATCHES: case ZK_OP_REMOVEWATCHES:
    case ZK_OP_GETEPHEMERALS: case ZK_OP_GETALLCHILDRENNUMBER: case ZK_OP_MULTIREAD:
    case ZK_OP_ADDWATCH: case ZK_OP_WHOAMI:
        return true;
    default:
        return op_is_write(type);
    }
}

/* The request of a client connection enters the pipeline: it counts as
 * outstanding (globalOutstandingLimit) until answered or dropped. */
static void request_count(zk_request *req)
{
    if (req->conn && !req->counted) {
        req->counted = true;
        conn_request_begin(req->conn);
    }
}

static void request_uncount(zk_request *req)
{
    if (req->counted) {
        req->counted = false;
        conn_request_end(req->conn->srv, req->conn);
    }
}

static void request_free(zk_request *req)
{
    if (!req)
        return;
    request_uncount(req);
    if (req->conn)
        conn_unref(req->conn);
    if (req->owns_auth && req->auth)
        g_ptr_array_free(req->auth, TRUE);
    g_free(req->body);
    g_free(req->txn);
    g_free(req);
}

static zk_request *request_new(zk_conn *c, int64_t session_id, int32_t xid, int32_t type,
                               const uint8_t *body, size_t len)
{
    zk_request *req = g_new0(zk_request, 1);
    req->conn = c;
    if (c) {
        conn_ref(c);
        req->auth = c->auth;
    }
    req->session_id = session_id;
    req->xid = xid;
    req->type = type;
    req->body = len ? g_memdup2(body, len) : NULL;
    req->body_len = len;
    req->recv_ms = loop_now_ms();
    req->is_write = op_is_write(type);
    return req;
}

/* Sends ReplyHeader + body on c and updates statistics. */
static void send_reply(zk_server *s, zk_request *req, int32_t xid, int64_t zxid, int32_t err,
                       jute_writer *body, const char *op)
{
    zk_conn *c = req->conn;
    if (!c || c->closed)
        return;
    jute_writer w;
    jw_init(&w, 16 + (body ? body->len : 0));
    zk_reply_header h = { xid, zxid, err };
    zk_reply_header_write(&w, &h);
    if (body && err == ZOK)
        jw_raw(&w, body->buf, body->len);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    int64_t now = loop_now_ms();
    c->last_cxid = req->xid;
    c->last_zxid = zxid;
    c->last_op = op;
    c->last_response_ms = now;
    request_uncount(req);
    server_record_latency(s, c, now - req->recv_ms);
}

/* ------------------------------------------------------------------ */
/* outstanding change records                                          */

typedef struct rec_view {
    bool found;
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int32_t child_count;
    zk_acl_list *acl;     /* borrowed */
} rec_view;

/* A path from the wire, or NULL when it is null or holds a NUL (no znode
 * can have such a name, so lookups of it find nothing). */
static char *wire_path(jute_view v)
{
    if (v.len < 0 || (v.len > 0 && memchr(v.ptr, 0, (size_t)v.len)))
        return NULL;
    return jute_view_dup(v);
}

/* The watch-table key of a path from the wire (g_malloc'd; v.len >= 0).
 * Apache keys watches by the Java string, NULs included — addWatch,
 * checkWatches, removeWatches and setWatches do not validate paths — so
 * "/a\0b" is a key of its own that no event ever matches, never "/a".  A NUL
 * becomes C0 80 (Java's modified UTF-8 for U+0000), which no valid UTF-8
 * path contains, so the mapping stays one to one. */
static char *watch_key(jute_view v)
{
    GString *k = g_string_sized_new((gsize)MAX(v.len, 0) + 8);
    for (int32_t i = 0; i < v.len; i++) {
        if (v.ptr[i] == 0)
            g_string_append(k, "\xC0\x80");
        else
            g_string_append_c(k, v.ptr[i]);
    }
    return g_string_free(k, FALSE);
}

static zk_node *lookup(zk_server *s, jute_view v)
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
    return v;
}

static void add_change(zk_server *s, int64_t zxid, const char *path, const rec_view *v)
{
    change_rec *cr = g_new0(change_rec, 1);
    cr->zxid = zxid;
    cr->path = g_strdup(path);
    if (v && v->found) {
        cr->exists = true;
        cr->version = v->version;
        cr->cversion = v->cversion;
        cr->aversion = v->aversion;
        cr->ephemeral_owner = v->ephemeral_owner;
        cr->child_count = v->child_count;
        cr->acl = acl_ref(v->acl);
    }
    g_queue_push_tail(&s->changes, cr);
    g_hash_table_replace(s->change_by_path, cr->path, cr);
}

static void change_free(zk_server *s, change_rec *cr)
{
    if (cr->acl)
        acl_unref(s->tree->acls, cr->acl);
    g_free(cr->path);
    g_free(cr);
}

/* Drops records of transactions that are now applied. */
static void retire_changes(zk_server *s, int64_t zxid)
{
    change_rec *cr;
    while ((cr = g_queue_peek_head(&s->changes)) && cr->zxid <= zxid) {
        g_queue_pop_head(&s->changes);
        if (g_hash_table_lookup(s->change_by_path, cr->path) == cr)
            g_hash_table_remove(s->change_by_path, cr->path);
        change_free(s, cr);
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

static int session_check(zk_server *s, int64_t session_id)
{
    zk_session *ss = session_get(&s->sessions, session_id);
    if (!ss || ss->closing)
        return ZSESSIONEXPIRED;
    return ZOK;
}

static bool mode_valid(int32_t f) { return f >= 0 && f <= 6; }
static bool mode_is_ttl(int32_t f) { return f == ZK_CREATE_PERSISTENT_WITH_TTL || f == ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL; }
static bool mode_is_seq(int32_t f) { return f == 2 || f == 3 || f == 6; }
static bool mode_is_ephemeral(int32_t f) { return f == 1 || f == 3; }

static int prep_create(prep *p, int32_t type, jute_reader *r)
{
    zk_create_request cr;
    if (!zk_create_request_read(r, type, &cr) || cr.path.len < 0)
        return ZMARSHALLINGERROR;
    zk_server *s = p->s;
    if (!mode_valid(cr.flags))
        return ZBADARGUMENTS;
    if (mode_is_ttl(cr.flags) && !s->cfg->extended_types_enabled)
        return ZUNIMPLEMENTED;
    if (mode_is_ttl(cr.flags)) {
        if (cr.ttl > ZK_TTL_MAX || cr.ttl <= 0)
            return ZBADARGUMENTS;
    } else if (cr.ttl >= 0 || type == ZK_OP_CREATETTL) {
        /* Apache dies on createTTL with a non-TTL mode and ttl < 0; we refuse it. */
        return ZBADARGUMENTS;
    }
    int rc = session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    char *path = view_path(cr.path);
    if (!strchr(path, '/') || has_nul(path, cr.path)) {
        g_free(path);
        return ZBADARGUMENTS;
    }
    char *ppath = parent_path(path);
    zk_acl_list *acl = NULL;
    rc = acl_fixup(s->tree->acls, &cr.acl, p->req->auth, &acl);
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
    if (mode_is_seq(cr.flags)) {
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
    int32_t new_cversion = parent.cversion + 1;
    jw_string(&p->rec, path);
    jw_view(&p->rec, cr.data);
    acl_write(&p->rec, acl);
    if (type == ZK_OP_CREATECONTAINER) {
        jw_int(&p->rec, new_cversion);
    } else if (type == ZK_OP_CREATETTL) {
        jw_int(&p->rec, new_cversion);
        jw_long(&p->rec, cr.ttl);
    } else {
        jw_bool(&p->rec, mode_is_ephemeral(cr.flags));
        jw_int(&p->rec, new_cversion);
    }
    int64_t owner = 0;
    if (cr.flags == ZK_CREATE_CONTAINER)
        owner = ZK_CONTAINER_OWNER;
    else if (mode_is_ttl(cr.flags))
        owner = zk_ttl_owner(cr.ttl);
    else if (mode_is_ephemeral(cr.flags))
        owner = p->req->session_id;
    parent.child_count++;
    parent.cversion = new_cversion;
    add_change(s, p->zxid, ppath, &parent);
    rec_view node = { true, 0, 0, 0, owner, 0, acl };
    add_change(s, p->zxid, path, &node);
    p->txn_type = type;
out:
    if (acl)
        acl_unref(s->tree->acls, acl);
    g_free(ppath);
    g_free(path);
    return rc;
}

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

static int prep_delete(prep *p, jute_reader *r)
{
    int rc = session_check(p->s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    zk_path_version_request d;
    if (!zk_path_version_request_read(r, &d) || d.path.len < 0)
        return ZMARSHALLINGERROR;
    char *path = view_path(d.path);
    if (has_nul(path, d.path)) {
        g_free(path);
        return ZBADARGUMENTS;
    }
    rc = prep_delete_path(p, path, d.version, false);
    g_free(path);
    return rc;
}

/* The head that setData and check share (PrepRequestProcessor order):
 * session, path validation, the node's record, its ACL for perm.  On ZOK
 * *path (g_malloc'd, caller frees) and *node are set. */
static int prep_existing_node(prep *p, jute_view pv, int perm, char **path, rec_view *node)
{
    *path = NULL;
    if (!zk_path_valid(pv.ptr, (size_t)pv.len))
        return ZBADARGUMENTS;
    *path = view_path(pv);
    *node = get_record(p->s, *path);
    if (!node->found)
        return ZNONODE;
    return check_acl(p->req, node->acl, perm);
}

static int prep_set_data(prep *p, jute_reader *r)
{
    zk_server *s = p->s;
    int rc = session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    zk_set_data_request sd;
    if (!zk_set_data_request_read(r, &sd) || sd.path.len < 0)
        return ZMARSHALLINGERROR;
    char *path;
    rec_view node;
    rc = prep_existing_node(p, sd.path, ZK_PERM_WRITE, &path, &node);
    if (rc == ZOK && sd.version != -1 && sd.version != node.version)
        rc = ZBADVERSION;
    if (rc == ZOK) {
        node.version++;
        jw_string(&p->rec, path);
        jw_view(&p->rec, sd.data);
        jw_int(&p->rec, node.version);
        add_change(s, p->zxid, path, &node);
        p->txn_type = ZK_OP_SETDATA;
    }
    g_free(path);
    return rc;
}

static int prep_set_acl(prep *p, jute_reader *r)
{
    zk_server *s = p->s;
    int rc = session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    zk_set_acl_request sa;
    if (!zk_set_acl_request_read(r, &sa) || sa.path.len < 0)
        return ZMARSHALLINGERROR;
    if (!zk_path_valid(sa.path.ptr, (size_t)sa.path.len))
        return ZBADARGUMENTS;
    zk_acl_list *acl = NULL;
    rc = acl_fixup(s->tree->acls, &sa.acl, p->req->auth, &acl);
    if (rc != ZOK)
        return rc;
    char *path = view_path(sa.path);
    rec_view node = get_record(s, path);
    if (!node.found)
        rc = ZNONODE;
    else if ((rc = check_acl(p->req, node.acl, ZK_PERM_ADMIN)) != ZOK)
        ;
    else if (sa.version != -1 && sa.version != node.aversion)
        rc = ZBADVERSION;
    else {
        node.aversion++;
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

static int prep_check(prep *p, jute_reader *r)
{
    zk_server *s = p->s;
    int rc = session_check(s, p->req->session_id);
    if (rc != ZOK)
        return rc;
    zk_path_version_request cv;
    if (!zk_path_version_request_read(r, &cv) || cv.path.len < 0)
        return ZMARSHALLINGERROR;
    char *path;
    rec_view node;
    rc = prep_existing_node(p, cv.path, ZK_PERM_READ, &path, &node);
    if (rc == ZOK && cv.version != -1 && cv.version != node.version)
        rc = ZBADVERSION;
    if (rc == ZOK) {
        jw_string(&p->rec, path);
        jw_int(&p->rec, node.version + 1);
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

/* Runs one op of any write type; on error the record writer is reset. */
static int prep_op(prep *p, int32_t type, jute_reader *r)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
        return prep_create(p, type, r);
    case ZK_OP_DELETE:
        return prep_delete(p, r);
    case ZK_OP_SETDATA:
        return prep_set_data(p, r);
    case ZK_OP_SETACL:
        return prep_set_acl(p, r);
    case ZK_OP_CHECK:
        return prep_check(p, r);
    case ZK_OP_RECONFIG:
        return ZRECONFIGDISABLED;
    default:
        return ZMARSHALLINGERROR;
    }
}

/* Rolls back the change records a failed multi added, restoring the saved ones. */
static void rollback_multi(zk_server *s, int64_t zxid, GHashTable *saved)
{
    change_rec *cr;
    while ((cr = g_queue_peek_tail(&s->changes)) && cr->zxid == zxid) {
        g_queue_pop_tail(&s->changes);
        if (g_hash_table_lookup(s->change_by_path, cr->path) == cr)
            g_hash_table_remove(s->change_by_path, cr->path);
        change_free(s, cr);
    }
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, saved);
    while (g_hash_table_iter_next(&it, &k, &v))
        if (g_queue_find(&s->changes, v))
            g_hash_table_replace(s->change_by_path, ((change_rec *)v)->path, v);
}

/* Sub-op type of a multi create whose opcode is not createTTL but whose
 * flags are a TTL mode: Apache's Op.create(path, data, acl, flags) makes it a
 * createTTL op around a plain CreateRequest, and PrepRequestProcessor's cast
 * to CreateTTLRequest then fails (MARSHALLINGERROR for the whole multi). */
#define MULTI_CREATE_TTL_BAD_CAST (-1000)

static int prep_multi(prep *p, jute_writer *txn)
{
    zk_server *s = p->s;
    jute_reader r;
    jr_init(&r, p->req->body, p->req->body_len);
    /* Decode the whole MultiOperationRecord first (a bad one fails as a whole). */
    GArray *ops = g_array_new(FALSE, FALSE, sizeof(jute_view));
    GArray *types = g_array_new(FALSE, FALSE, sizeof(int32_t));
    for (;;) {
        zk_multi_header mh;
        if (!zk_multi_header_read(&r, &mh))
            goto bad;
        if (mh.done)
            break;
        size_t start = r.pos;
        switch (mh.type) {
        case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: {
            /* Apache 3.8.0 (MultiOperationRecord + Op.create): a create op's
             * opcode is derived from its flags — CONTAINER -> createContainer,
             * TTL modes -> createTTL (which then fails to cast its
             * CreateRequest: MARSHALLINGERROR), anything else -> create. */
            zk_create_request cr;
            if (!zk_create_request_read(&r, ZK_OP_CREATE, &cr))
                goto bad;
            if (cr.flags == ZK_CREATE_CONTAINER)
                mh.type = ZK_OP_CREATECONTAINER;
            else if (mode_is_ttl(cr.flags))
                mh.type = MULTI_CREATE_TTL_BAD_CAST;
            else
                mh.type = ZK_OP_CREATE;
            break;
        }
        case ZK_OP_CREATETTL: {
            /* MultiOperationRecord reads a CreateTTLRequest and calls
             * Op.create(path, data, acl, flags, ttl): a TTL mode makes a real
             * createTTL op; any other mode drops the ttl and is an
             * Op.create(flags) as above (createContainer or create). */
            zk_create_request cr;
            if (!zk_create_request_read(&r, ZK_OP_CREATETTL, &cr))
                goto bad;
            if (mode_is_ttl(cr.flags))
                mh.type = ZK_OP_CREATETTL;
            else if (cr.flags == ZK_CREATE_CONTAINER)
                mh.type = ZK_OP_CREATECONTAINER;
            else
                mh.type = ZK_OP_CREATE;
            break;
        }
        case ZK_OP_DELETE: case ZK_OP_CHECK: {
            zk_path_version_request d;
            if (!zk_path_version_request_read(&r, &d))
                goto bad;
            break;
        }
        case ZK_OP_SETDATA: {
            zk_set_data_request sd;
            if (!zk_set_data_request_read(&r, &sd))
                goto bad;
            break;
        }
        case ZK_OP_GETCHILDREN: case ZK_OP_GETDATA: {
            zk_path_watch_request g;
            if (!zk_path_watch_request_read(&r, &g))
                goto bad;
            break;
        }
        default:
            goto bad;
        }
        jute_view v = { (const char *)r.buf + start, (int32_t)(r.pos - start) };
        g_array_append_val(ops, v);
        g_array_append_val(types, mh.type);
    }
    /* Save the outstanding records of every path involved, for rollback. */
    GHashTable *saved = g_hash_table_new(g_str_hash, g_str_equal);
    for (guint i = 0; i < ops->len; i++) {
        jute_reader pr;
        jute_view v = g_array_index(ops, jute_view, i);
        jr_init(&pr, v.ptr, (size_t)v.len);
        jute_view pv = jr_string(&pr);
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
    jw_int(txn, (int32_t)ops->len);
    int failed = ZOK;
    for (guint i = 0; i < ops->len; i++) {
        int32_t type = g_array_index(types, int32_t, i);
        jute_view v = g_array_index(ops, jute_view, i);
        jw_reset(&p->rec);
        int32_t sub_type;
        if (failed != ZOK) {
            sub_type = ZK_OP_ERROR;
            jw_int(&p->rec, ZRUNTIMEINCONSISTENCY);
        } else {
            jute_reader or;
            jr_init(&or, v.ptr, (size_t)v.len);
            if (type == MULTI_CREATE_TTL_BAD_CAST || type == ZK_OP_GETDATA ||
                type == ZK_OP_GETCHILDREN) {
                /* Apache throws a non-Keeper exception here: the whole
                 * request becomes an ErrorTxn(MARSHALLINGERROR). */
                rollback_multi(s, p->zxid, saved);
                g_hash_table_destroy(saved);
                g_array_free(ops, TRUE);
                g_array_free(types, TRUE);
                return ZMARSHALLINGERROR;
            }
            int rc = type == ZK_OP_CREATECONTAINER ? prep_create(p, ZK_OP_CREATECONTAINER, &or)
                                                   : prep_op(p, type, &or);
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
    g_array_free(ops, TRUE);
    g_array_free(types, TRUE);
    p->txn_type = ZK_OP_MULTI;
    return ZOK;
bad:
    g_array_free(ops, TRUE);
    g_array_free(types, TRUE);
    return ZMARSHALLINGERROR;
}

/* Builds req->txn for a write request; always succeeds (errors become ErrorTxn). */
static void prep_write(zk_server *s, zk_request *req, int64_t zxid)
{
    s->last_zxid = zxid;
    prep p = { .s = s, .req = req, .zxid = zxid, .time = loop_wall_ms() };
    jw_init(&p.rec, 256);
    jute_writer body;
    jw_init(&body, 256);
    int rc = ZOK;
    jute_reader r;
    jr_init(&r, req->body, req->body_len);
    switch (req->type) {
    case ZK_OP_CREATESESSION:
        jw_int(&body, req->session_timeout);
        p.txn_type = ZK_OP_CREATESESSION;
        break;
    case ZK_OP_CLOSESESSION:
        prep_close_session(&p);
        jw_raw(&body, p.rec.buf, p.rec.len);
        break;
    case ZK_OP_MULTI:
        rc = prep_multi(&p, &body);
        break;
    case ZK_OP_DELETECONTAINER: {
        char *path = g_strndup((const char *)req->body, req->body_len);
        rc = prep_delete_path(&p, path, -1, true);
        g_free(path);
        jw_raw(&body, p.rec.buf, p.rec.len);
        break;
    }
    default:
        rc = prep_op(&p, req->type, &r);
        if (rc == ZOK)
            jw_raw(&body, p.rec.buf, p.rec.len);
        break;
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

/* ------------------------------------------------------------------ */
/* watch delivery                                                      */

/* Sends a watch event to connection `watcher`, unless `acl` (the znode's,
 * borrowed; NULL for setWatches replays, which Apache never filters) denies
 * it READ: Apache 3.8.4 NIOServerCnxn.process(event, znodeAcl), the fix of
 * CVE-2024-23944 that Debian's 3.8.0-11+deb12u2 carries. */
static void deliver_event(void *ctx, void *watcher, int type, const char *path,
                          const zk_acl_list *acl)
{
    (void)ctx;
    zk_conn *c = watcher;
    if (c->closed)
        return;
    if (acl_check(acl, ZK_PERM_READ, c->auth) != ZOK)
        return;
    jute_writer w;
    jw_init(&w, 32 + strlen(path));
    zk_reply_header h = { ZK_XID_NOTIFICATION, -1, ZOK };
    zk_reply_header_write(&w, &h);
    jw_int(&w, type);
    jw_int(&w, ZK_STATE_SYNC_CONNECTED);
    jw_string(&w, path);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
}

/* ------------------------------------------------------------------ */
/* session establishment                                               */

static void finish_session_init(zk_server *s, zk_conn *c, bool valid)
{
    if (c->closed)
        return;
    jute_writer w;
    jw_init(&w, 64);
    uint8_t passwd[16] = { 0 };
    if (valid)
        session_password(c->session_id, passwd);
    jw_int(&w, 0);
    jw_int(&w, valid ? c->session_timeout : 0);
    jw_long(&w, valid ? c->session_id : 0);
    jw_buffer(&w, passwd, 16);
    if (!c->old_client)
        jw_bool(&w, false);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    if (valid) {
        c->state = CONN_ESTABLISHED;
        zk_session *ss = session_get(&s->sessions, c->session_id);
        if (ss)
            ss->conn = c;
    } else {
        LOG_INFO("Invalid session 0x%" G_GINT64_MODIFIER "x for client %s:%d, probably expired",
                 c->session_id, c->addr, c->port);
        c->state = CONN_CLOSING;
        conn_close_after_flush(c);
    }
}

void request_on_connect(zk_conn *c, const uint8_t *frame, size_t len)
{
    zk_server *s = c->srv;
    jute_reader r;
    jr_init(&r, frame, len);
    zk_connect_request cr;
    if (!zk_connect_request_read(&r, &cr)) {
        conn_close(c, "malformed ConnectRequest");
        return;
    }
    c->old_client = !cr.has_read_only;
    if (!server_accepting(s)) {
        conn_close(c, "ZooKeeperServer not running");
        return;
    }
    if (cr.last_zxid_seen > s->tree->last_processed_zxid) {
        LOG_INFO("Refusing session request for client %s:%d as it has seen zxid 0x%" G_GINT64_MODIFIER
                 "x our last zxid is 0x%" G_GINT64_MODIFIER "x client must try another server",
                 c->addr, c->port, cr.last_zxid_seen, s->tree->last_processed_zxid);
        conn_close(c, NULL);
        return;
    }
    int32_t timeout = cr.timeout;
    if (timeout < s->cfg->min_session_timeout)
        timeout = s->cfg->min_session_timeout;
    if (timeout > s->cfg->max_session_timeout)
        timeout = s->cfg->max_session_timeout;
    c->session_timeout = timeout;
    c->state = CONN_CLOSING;   /* no requests until the session is settled */
    if (cr.session_id == 0) {
        c->session_id = session_next_id(&s->sessions);
        zk_request *req = request_new(c, c->session_id, 0, ZK_OP_CREATESESSION, NULL, 0);
        req->session_timeout = timeout;
        request_count(req);
        process_request(s, req);
        return;
    }
    /* Reconnect: the session moves to this connection. */
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    zk_conn *old = NULL;
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *o = v;
        if (o != c && o->session_id == cr.session_id && !o->closed)
            old = o;
    }
    if (old)
        conn_close(old, "client reconnected elsewhere");
    c->session_id = cr.session_id;
    uint8_t expect[16];
    session_password(cr.session_id, expect);
    bool pw_ok = cr.passwd.len == 16 && memcmp(cr.passwd.ptr, expect, 16) == 0;
    zk_session *ss = session_get(&s->sessions, cr.session_id);
    if (!pw_ok) {
        LOG_WARN("Incorrect password from %s:%d for session 0x%" G_GINT64_MODIFIER "x", c->addr,
                 c->port, cr.session_id);
        finish_session_init(s, c, false);
        return;
    }
    if (!ss || ss->closing) {
        finish_session_init(s, c, false);
        return;
    }
    int64_t now = loop_now_ms();
    int32_t keep = ss->timeout;
    ss->timeout = timeout;
    session_touch(&s->sessions, ss, now);
    ss->timeout = keep;
    finish_session_init(s, c, true);
}

/* ------------------------------------------------------------------ */
/* auth                                                                */

static void handle_auth(zk_server *s, zk_conn *c, int32_t xid, jute_reader *r)
{
    zk_auth_packet ap;
    int rc = ZAUTHFAILED;
    if (zk_auth_packet_read(r, &ap)) {
        if (jute_view_eq(ap.scheme, "digest") && ap.auth.len >= 0) {
            char *digest = acl_digest(ap.auth.ptr ? ap.auth.ptr : "", (size_t)ap.auth.len);
            bool added = true;
            if (s->cfg->super_digest && strcmp(digest, s->cfg->super_digest) == 0)
                added = auth_add(c->auth, "super", "");
            added = added && auth_add(c->auth, "digest", digest);
            g_free(digest);
            rc = added ? ZOK : ZAUTHFAILED;
            if (!added)
                LOG_WARN("connection %s:%d holds too many identities (at most %d, %u bytes); "
                         "refusing another", c->addr, c->port, AUTH_MAX_IDS, AUTH_MAX_ID_BYTES);
        } else if (jute_view_eq(ap.scheme, "ip")) {
            auth_add(c->auth, "ip", c->addr);
            rc = ZOK;
        }
    }
    jute_writer w;
    jw_init(&w, 16);
    zk_reply_header h = { xid, 0, rc };
    zk_reply_header_write(&w, &h);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    if (rc != ZOK) {
        LOG_WARN("Authentication failed for scheme from %s:%d", c->addr, c->port);
        s->auth_failed_count++;
        conn_close_after_flush(c);
    }
}

/* ------------------------------------------------------------------ */
/* frames from established connections                                 */

void request_on_frame(zk_conn *c, const uint8_t *frame, size_t len)
{
    zk_server *s = c->srv;
    jute_reader r;
    jr_init(&r, frame, len);
    zk_request_header rh;
    if (!zk_request_header_read(&r, &rh)) {
        conn_close(c, "malformed request header");
        return;
    }
    zk_session *ss = session_get(&s->sessions, c->session_id);
    if (ss && !ss->closing)
        session_touch(&s->sessions, ss, loop_now_ms());
    if (rh.type == ZK_OP_AUTH) {
        handle_auth(s, c, rh.xid, &r);
        return;
    }
    if (!op_is_known(rh.type) || rh.type == ZK_OP_CREATESESSION) {
        LOG_WARN("Received packet at server of unknown type %d", rh.type);
        jute_writer w;
        jw_init(&w, 16);
        zk_reply_header h = { rh.xid, -1, ZUNIMPLEMENTED };
        zk_reply_header_write(&w, &h);
        conn_send_frame(c, w.buf, w.len);
        jw_free(&w);
        conn_close_after_flush(c);   /* as Apache: the connection is dropped */
        return;
    }
    zk_request *req = request_new(c, c->session_id, rh.xid, rh.type, frame + r.pos, len - r.pos);
    if (rh.type == ZK_OP_SYNC && s->quorum && quorum_learner_serving(s->quorum))
        req->is_write = true;   /* a learner's sync goes through the leader */
    request_count(req);
    if (g_queue_is_empty(&c->waiting) && (req->is_write || c->writes_in_flight == 0))
        process_request(s, req);
    else
        g_queue_push_tail(&c->waiting, req);
}

static void drain_waiting(zk_conn *c)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&c->waiting))) {
        if (!req->is_write && c->writes_in_flight > 0)
            break;
        g_queue_pop_head(&c->waiting);
        process_request(c->srv, req);
        if (c->closed || c->close_pending)
            break;   /* a doomed connection's replies would be dropped: the rest go when it closes */
    }
}

/* ------------------------------------------------------------------ */
/* reads                                                               */

/* getData; `may_watch` false ignores the request's watch flag (multiRead). */
static int read_get_data(zk_server *s, zk_conn *c, jute_reader *r, jute_writer *out,
                         bool may_watch)
{
    zk_path_watch_request g;
    if (!zk_path_watch_request_read(r, &g) || g.path.len < 0)
        return ZMARSHALLINGERROR;
    char *path = jute_view_dup(g.path);
    zk_node *n = lookup(s, g.path);
    int rc = ZOK;
    if (!n)
        rc = ZNONODE;
    else if ((rc = acl_check(n->acl, ZK_PERM_READ, c->auth)) == ZOK) {
        if (g.watch && may_watch)
            watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
        jw_buffer(out, n->data, n->data_len);
        zk_stat st;
        tree_stat(n, &st);
        zk_stat_write(out, &st);
    }
    g_free(path);
    return rc;
}

/* getChildren(2); `may_watch` false ignores the request's watch flag (multiRead). */
static int read_get_children(zk_server *s, zk_conn *c, jute_reader *r, jute_writer *out,
                             bool with_stat, bool may_watch)
{
    zk_path_watch_request g;
    if (!zk_path_watch_request_read(r, &g) || g.path.len < 0)
        return ZMARSHALLINGERROR;
    char *path = jute_view_dup(g.path);
    zk_node *n = lookup(s, g.path);
    int rc = ZOK;
    if (!n)
        rc = ZNONODE;
    else if ((rc = acl_check(n->acl, ZK_PERM_READ, c->auth)) == ZOK) {
        jw_int(out, (int32_t)n->children.size);
        for (jset_entry *e = jset_first(&n->children); e; e = jset_next(&n->children, e))
            jw_string(out, e->key);
        if (with_stat) {
            zk_stat st;
            tree_stat(n, &st);
            zk_stat_write(out, &st);
        }
        if (g.watch && may_watch)
            watch_add(s->tree->child_watches, path, c, WATCH_STANDARD);
    }
    g_free(path);
    return rc;
}

static void add_watch_list(zk_server *s, zk_conn *c, const zk_vec *v, int kind, int64_t rel)
{
    jute_reader it;
    zk_vec_iter(v, &it);
    for (int i = 0; i < v->count; i++) {
        jute_view pv = jr_string(&it);
        if (pv.len < 0)
            continue;
        /* A path with a NUL names no node; its key keeps the NUL apart
         * (the event path then carries C0 80 where Apache sends 00). */
        char *path = watch_key(pv);
        zk_node *n = lookup(s, pv);
        switch (kind) {
        case 0: /* data */
            if (!n)
                deliver_event(s, c, ZK_EVENT_DELETED, path, NULL);
            else if (n->mzxid > rel)
                deliver_event(s, c, ZK_EVENT_DATA_CHANGED, path, NULL);
            else
                watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
            break;
        case 1: /* exist */
            if (n)
                deliver_event(s, c, ZK_EVENT_CREATED, path, NULL);
            else
                watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
            break;
        case 2: /* child */
            if (!n)
                deliver_event(s, c, ZK_EVENT_DELETED, path, NULL);
            else if (n->pzxid > rel)
                deliver_event(s, c, ZK_EVENT_CHILD_CHANGED, path, NULL);
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
}

static void write_multi_header(jute_writer *w, int32_t type, bool done, int32_t err)
{
    zk_multi_header mh = { type, done, err };
    zk_multi_header_write(w, &mh);
}

static int read_multi(zk_server *s, zk_conn *c, jute_reader *r, jute_writer *out)
{
    /* Decode all first: a malformed record fails the whole request. */
    size_t start = r->pos;
    for (;;) {
        zk_multi_header mh;
        if (!zk_multi_header_read(r, &mh))
            return ZMARSHALLINGERROR;
        if (mh.done)
            break;
        if (mh.type != ZK_OP_GETCHILDREN && mh.type != ZK_OP_GETDATA)
            return ZMARSHALLINGERROR;
        zk_path_watch_request g;
        if (!zk_path_watch_request_read(r, &g))
            return ZMARSHALLINGERROR;
    }
    r->pos = start;
    for (;;) {
        zk_multi_header mh;
        zk_multi_header_read(r, &mh);
        if (mh.done)
            break;
        /* A reply this big cannot be sent (conn_send_frame closes the
         * connection at cnxnOutputLimitBytes): stop building it. */
        if (out->len > conn_output_room(c))
            break;
        jute_writer sub;
        jw_init(&sub, 128);
        /* Apache builds Op.getData(path) / Op.getChildren(path) from the
         * records (MultiOperationRecord.deserialize), and their
         * toRequestRecord() sets watch=false: multiRead never sets a watch. */
        int rc = mh.type == ZK_OP_GETDATA ? read_get_data(s, c, r, &sub, false)
                                          : read_get_children(s, c, r, &sub, false, false);
        if (rc == ZOK) {
            write_multi_header(out, mh.type, false, 0);
            jw_raw(out, sub.buf, sub.len);
        } else {
            write_multi_header(out, ZK_OP_ERROR, false, rc);
            jw_int(out, rc);
        }
        jw_free(&sub);
    }
    write_multi_header(out, -1, true, -1);
    return ZOK;
}

static int watcher_type_ok(int32_t t)
{
    return t == ZK_WATCHER_CHILDREN || t == ZK_WATCHER_DATA || t == ZK_WATCHER_ANY;
}

/* Appends the UTF-16 unit u as jute's BinaryOutputArchive writes it (1-3 bytes). */
static void jute_put_unit(GByteArray *out, unsigned u)
{
    uint8_t b[3];
    guint n;
    if (u < 0x80) {
        b[0] = (uint8_t)u;
        n = 1;
    } else if (u < 0x800) {
        b[0] = (uint8_t)(0xC0 | (u >> 6));
        b[1] = (uint8_t)(0x80 | (u & 0x3F));
        n = 2;
    } else {
        b[0] = (uint8_t)(0xE0 | (u >> 12));
        b[1] = (uint8_t)(0x80 | ((u >> 6) & 0x3F));
        b[2] = (uint8_t)(0x80 | (u & 0x3F));
        n = 3;
    }
    g_byte_array_append(out, b, n);
}

static bool is_cont(uint8_t b) { return (b & 0xC0) == 0x80; }

/*
 * Appends to `out` the bytes Apache sends back for a client string: jute's
 * readString decodes with new String(bytes, UTF_8) (JDK rules: a malformed
 * sequence becomes one U+FFFD, and how many bytes it swallows depends on
 * the lead byte), and writeString re-encodes each UTF-16 unit in 1-3 bytes,
 * so a 4-byte character comes back as two 3-byte surrogates.
 */
static void java_string_roundtrip(GByteArray *out, const uint8_t *s, size_t n)
{
    const unsigned repl = 0xFFFD;
    size_t i = 0;
    while (i < n) {
        uint8_t b1 = s[i++];
        if (b1 < 0x80) {
            jute_put_unit(out, b1);
        } else if (b1 >= 0xC2 && b1 <= 0xDF) {            /* two bytes */
            if (i >= n) {
                jute_put_unit(out, repl);
                break;
            }
            if (!is_cont(s[i])) {
                jute_put_unit(out, repl);                  /* s[i] is read again */
            } else {
                jute_put_unit(out, ((b1 & 0x1Fu) << 6) | (s[i] & 0x3Fu));
                i++;
            }
        } else if ((b1 & 0xF0) == 0xE0) {                   /* three bytes */
            bool overlong2 = i < n && b1 == 0xE0 && (s[i] & 0xE0) == 0x80;
            if (i + 1 < n) {
                uint8_t b2 = s[i], b3 = s[i + 1];
                if (overlong2 || !is_cont(b2) || !is_cont(b3)) {
                    jute_put_unit(out, repl);
                    i += (overlong2 || !is_cont(b2)) ? 0 : 1;   /* skip b1 (and b2 if it was fine) */
                } else {
                    unsigned c = ((b1 & 0x0Fu) << 12) | ((b2 & 0x3Fu) << 6) | (b3 & 0x3Fu);
                    jute_put_unit(out, c >= 0xD800 && c <= 0xDFFF ? repl : c);
                    i += 2;
                }
                continue;
            }
            jute_put_unit(out, repl);
            if (i < n && (overlong2 || !is_cont(s[i])))
                continue;                                  /* s[i] is read again */
            break;
        } else if ((b1 & 0xF8) == 0xF0) {                   /* four bytes */
            if (i + 2 < n) {
                uint8_t b2 = s[i], b3 = s[i + 1], b4 = s[i + 2];
                unsigned uc = ((b1 & 0x07u) << 18) | ((b2 & 0x3Fu) << 12) |
                              ((b3 & 0x3Fu) << 6) | (b4 & 0x3Fu);
                if (!is_cont(b2) || !is_cont(b3) || !is_cont(b4) || uc < 0x10000 || uc > 0x10FFFF) {
                    jute_put_unit(out, repl);
                    bool bad2 = b1 > 0xF4 || (b1 == 0xF0 && (b2 < 0x90 || b2 > 0xBF)) ||
                                (b1 == 0xF4 && (b2 & 0xF0) != 0x80) || !is_cont(b2);
                    i += bad2 ? 0 : !is_cont(b3) ? 1 : 2;
                } else {
                    uc -= 0x10000;
                    jute_put_unit(out, 0xD800 | (uc >> 10));
                    jute_put_unit(out, 0xDC00 | (uc & 0x3FF));
                    i += 3;
                }
                continue;
            }
            bool bad2 = i < n && ((b1 == 0xF0 && (s[i] < 0x90 || s[i] > 0xBF)) ||
                                  (b1 == 0xF4 && (s[i] & 0xF0) != 0x80) || !is_cont(s[i]));
            jute_put_unit(out, repl);
            if (b1 > 0xF4 || bad2)
                continue;
            i++;
            if (i < n && !is_cont(s[i]))
                continue;
            break;
        } else {
            jute_put_unit(out, repl);
        }
    }
}

/* Answers a read-only request; returns the error code, body in *out. */
static int process_read(zk_server *s, zk_request *req, jute_writer *out, const char **op,
                        int32_t *reply_xid)
{
    zk_conn *c = req->conn;
    jute_reader r;
    jr_init(&r, req->body, req->body_len);
    int rc = session_check(s, req->session_id);
    if (rc != ZOK && req->type != ZK_OP_PING)
        return rc;
    switch (req->type) {
    case ZK_OP_PING:
        *op = "PING";
        *reply_xid = ZK_XID_PING;
        return ZOK;
    case ZK_OP_SYNC: {
        *op = "SYNC";
        jute_view path;
        if (!zk_path_request_read(&r, &path))
            return ZMARSHALLINGERROR;
        if (path.len < 0) {
            jw_view(out, path);
            return ZOK;
        }
        /* Apache echoes the path as a Java string: malformed UTF-8 comes
         * back as U+FFFD (e.g. an encoded surrogate "\xED\xA0\x80"). */
        GByteArray *echo = g_byte_array_new();
        java_string_roundtrip(echo, (const uint8_t *)path.ptr, (size_t)path.len);
        jute_view ev = { (const char *)echo->data, (int32_t)echo->len };
        jw_view(out, ev);
        g_byte_array_free(echo, TRUE);
        return ZOK;
    }
    case ZK_OP_EXISTS: {
        *op = "EXIS";
        zk_path_watch_request g;
        if (!zk_path_watch_request_read(&r, &g) || g.path.len < 0)
            return ZMARSHALLINGERROR;
        if (memchr(g.path.ptr, 0, (size_t)g.path.len))
            return ZBADARGUMENTS;
        char *path = jute_view_dup(g.path);
        /* Apache 3.8.0 checks no ACL on exists (3.8.2+ do): we follow the
         * 3.8.0 that Debian ships and our differential test runs against. */
        zk_node *n = tree_get(s->tree, path);
        if (g.watch)
            watch_add(s->tree->data_watches, path, c, WATCH_STANDARD);
        g_free(path);
        if (!n)
            return ZNONODE;
        zk_stat st;
        tree_stat(n, &st);
        zk_stat_write(out, &st);
        return ZOK;
    }
    case ZK_OP_GETDATA:
        *op = "GETD";
        return read_get_data(s, c, &r, out, true);
    case ZK_OP_GETCHILDREN:
        *op = "GETC";
        return read_get_children(s, c, &r, out, false, true);
    case ZK_OP_GETCHILDREN2:
        *op = "GETC";
        return read_get_children(s, c, &r, out, true, true);
    case ZK_OP_GETACL: {
        *op = "GETA";
        jute_view pv;
        if (!zk_path_request_read(&r, &pv) || pv.len < 0)
            return ZMARSHALLINGERROR;
        zk_node *n = lookup(s, pv);
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
        *op = "GETACN";
        jute_view pv;
        if (!zk_path_request_read(&r, &pv) || pv.len < 0)
            return ZMARSHALLINGERROR;
        zk_node *n = lookup(s, pv);
        if (!n)
            return ZNONODE;
        if ((rc = acl_check(n->acl, ZK_PERM_READ, c->auth)) != ZOK)
            return rc;
        jw_int(out, tree_count_descendants(n));
        return ZOK;
    }
    case ZK_OP_SETWATCHES:
    case ZK_OP_SETWATCHES2: {
        *op = req->type == ZK_OP_SETWATCHES ? "SETW" : "STW2";
        zk_set_watches sw;
        if (!zk_set_watches_read(&r, req->type, &sw))
            return ZMARSHALLINGERROR;
        add_watch_list(s, c, &sw.data, 0, sw.relative_zxid);
        add_watch_list(s, c, &sw.exist, 1, sw.relative_zxid);
        add_watch_list(s, c, &sw.child, 2, sw.relative_zxid);
        add_watch_list(s, c, &sw.persistent, 3, sw.relative_zxid);
        add_watch_list(s, c, &sw.persistent_recursive, 4, sw.relative_zxid);
        return ZOK;
    }
    case ZK_OP_ADDWATCH: {
        *op = "ADDW";
        zk_path_type_request aw;
        if (!zk_path_type_request_read(&r, &aw) || aw.path.len < 0)
            return ZMARSHALLINGERROR;
        if (aw.type != ZK_ADDWATCH_PERSISTENT && aw.type != ZK_ADDWATCH_PERSISTENT_RECURSIVE)
            return ZMARSHALLINGERROR;
        char *path = watch_key(aw.path);
        int mode = aw.type == ZK_ADDWATCH_PERSISTENT ? WATCH_PERSISTENT : WATCH_PERSISTENT_RECURSIVE;
        watch_add(s->tree->data_watches, path, c, mode);
        watch_add(s->tree->child_watches, path, c, mode);
        g_free(path);
        jw_int(out, 0);
        return ZOK;
    }
    case ZK_OP_CHECKWATCHES:
    case ZK_OP_REMOVEWATCHES: {
        bool remove = req->type == ZK_OP_REMOVEWATCHES;
        *op = remove ? "REMW" : "CHKW";
        zk_path_type_request pt;
        if (!zk_path_type_request_read(&r, &pt) || pt.path.len < 0)
            return ZMARSHALLINGERROR;
        if (!watcher_type_ok(pt.type))
            return ZMARSHALLINGERROR;
        char *path = watch_key(pt.path);
        bool found = false;
        bool want_child = pt.type == ZK_WATCHER_CHILDREN || pt.type == ZK_WATCHER_ANY;
        bool want_data = pt.type == ZK_WATCHER_DATA || pt.type == ZK_WATCHER_ANY;
        /* Apache's containsWatcher throws on paths its parent walk cannot
         * take apart ("diff", "a/b"): MARSHALLINGERROR (see watch.h). */
        if (!remove && ((want_child && watch_contains_throws(s->tree->child_watches, path, c)) ||
                        (want_data && watch_contains_throws(s->tree->data_watches, path, c)))) {
            g_free(path);
            return ZMARSHALLINGERROR;
        }
        if (pt.type == ZK_WATCHER_CHILDREN || pt.type == ZK_WATCHER_ANY)
            found |= remove ? watch_remove(s->tree->child_watches, path, c)
                            : watch_contains(s->tree->child_watches, path, c);
        if (pt.type == ZK_WATCHER_DATA || pt.type == ZK_WATCHER_ANY)
            found |= remove ? watch_remove(s->tree->data_watches, path, c)
                            : watch_contains(s->tree->data_watches, path, c);
        g_free(path);
        return found ? ZOK : ZNOWATCHER;
    }
    case ZK_OP_WHOAMI: {
        *op = "HOMI";
        jw_int(out, (int32_t)c->auth->len);
        for (guint i = 0; i < c->auth->len; i++) {
            const zk_auth_id *a = g_ptr_array_index(c->auth, i);
            jw_string(out, a->scheme);
            if (strcmp(a->scheme, "digest") == 0) {
                const char *colon = strchr(a->id, ':');
                char *user = colon ? g_strndup(a->id, (gsize)(colon - a->id)) : g_strdup(a->id);
                jw_string(out, user);
                g_free(user);
            } else if (strcmp(a->scheme, "ip") == 0) {
                jw_string(out, a->id);
            } else {
                jw_string(out, NULL);
            }
        }
        return ZOK;
    }
    case ZK_OP_GETEPHEMERALS: {
        *op = "GETE";
        jute_view pv;
        if (!zk_path_request_read(&r, &pv))
            return ZMARSHALLINGERROR;
        char *prefix = jute_view_dup(pv);
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
        *op = "MLTR";
        return read_multi(s, c, &r, out);
    default:
        return ZUNIMPLEMENTED;
    }
}

/* ------------------------------------------------------------------ */
/* the pipeline                                                        */

/* Ensemble: the leader preps and proposes; a learner forwards to the
 * leader; anyone else cannot take writes now. */
static void process_write_in_ensemble(zk_server *s, zk_request *req)
{
    zk_conn *c = req->conn;
    quorum *q = s->quorum;
    if (quorum_can_propose(q)) {
        int64_t zxid = quorum_next_zxid(q);
        if (zxid > 0) {
            prep_write(s, req, zxid);
            if (c) {
                g_queue_push_tail(&s->inflight, req);
                c->writes_in_flight++;
            }
            if (quorum_propose(q, zxid, req->txn, req->txn_len) == 0) {
                if (!c)
                    request_free(req);
                return;
            }
            if (c) {
                g_queue_remove(&s->inflight, req);
                c->writes_in_flight--;
            }
        }
    } else if (c && quorum_learner_serving(q)) {
        g_queue_push_tail(&s->forwarded, req);
        c->writes_in_flight++;
        quorum_forward(q, req);
        return;
    }
    if (c)
        conn_close(c, "not serving: no quorum");
    request_free(req);
}

static void process_request(zk_server *s, zk_request *req)
{
    zk_conn *c = req->conn;
    if (req->is_write) {
        if (!s->serving) {
            /* The log cannot take writes (disk full, I/O error): never
             * acknowledge; the client sees a lost connection and retries. */
            if (c)
                conn_close(c, "not serving writes: transaction log unavailable");
            request_free(req);
            return;
        }
        if (s->quorum) {
            process_write_in_ensemble(s, req);
            return;
        }
        prep_write(s, req, s->last_zxid + 1);
        txnlog_append(s->log, req->zxid, req->txn, req->txn_len);
        s->txns_logged++;
        g_queue_push_tail(&s->inflight, req);
        if (c)
            c->writes_in_flight++;
        return;
    }
    jute_writer out;
    jw_init(&out, 256);
    const char *op = "NA";
    int32_t xid = req->xid;
    int rc = process_read(s, req, &out, &op, &xid);
    send_reply(s, req, xid, s->tree->last_processed_zxid, rc, &out, op);
    jw_free(&out);
    request_free(req);
}

static void write_sub_result(jute_writer *w, const txn_result *sub)
{
    switch (sub->type) {
    case ZK_OP_CREATE:
        write_multi_header(w, ZK_OP_CREATE, false, 0);
        jw_string(w, sub->path);
        break;
    case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER:
        write_multi_header(w, ZK_OP_CREATE2, false, 0);
        jw_string(w, sub->path);
        zk_stat_write(w, &sub->stat);
        break;
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER:
        write_multi_header(w, ZK_OP_DELETE, false, 0);
        break;
    case ZK_OP_SETDATA:
        write_multi_header(w, ZK_OP_SETDATA, false, 0);
        zk_stat_write(w, &sub->stat);
        break;
    case ZK_OP_CHECK:
        write_multi_header(w, ZK_OP_CHECK, false, 0);
        break;
    default:
        write_multi_header(w, ZK_OP_ERROR, false, sub->err);
        jw_int(w, sub->err);
        break;
    }
}

static const char *write_op_name(int32_t type)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER: return "CREA";
    case ZK_OP_DELETE: case ZK_OP_DELETECONTAINER: return "DELE";
    case ZK_OP_SETDATA: return "SETD";
    case ZK_OP_SETACL: return "SETA";
    case ZK_OP_CHECK: return "CHEC";
    case ZK_OP_MULTI: return "MULT";
    case ZK_OP_CLOSESESSION: return "CLOS";
    case ZK_OP_CREATESESSION: return "SESS";
    case ZK_OP_RECONFIG: return "RECO";
    default: return "NA";
    }
}

static void session_closed_cb(void *ctx, int64_t session_id)
{
    zk_server *s = ctx;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->conns);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zk_conn *c = v;
        if (c->session_id == session_id && !c->closed && c->state != CONN_CLOSING)
            c->state = CONN_CLOSING;
    }
}

/* Answers a local request whose transaction was just applied. */
static void reply_for(zk_server *s, zk_request *req, const txn_result *res)
{
    zk_conn *c = req->conn;
    if (!c)
        return;
    c->writes_in_flight--;
    if (req->type == ZK_OP_CREATESESSION) {
        request_uncount(req);
        c->last_op = "SESS";
        finish_session_init(s, c, !c->closed && res->err == ZOK);
        return;
    }
    jute_writer out;
    jw_init(&out, 128);
    int32_t err = res->err;
    switch (req->type) {
    case ZK_OP_CREATE:
        jw_string(&out, res->path);
        break;
    case ZK_OP_CREATE2: case ZK_OP_CREATETTL: case ZK_OP_CREATECONTAINER:
        jw_string(&out, res->path);
        zk_stat_write(&out, &res->stat);
        break;
    case ZK_OP_SETDATA: case ZK_OP_SETACL: case ZK_OP_CHECK:
        if (req->type != ZK_OP_CHECK || res->has_stat)
            zk_stat_write(&out, &res->stat);
        break;
    case ZK_OP_MULTI:
        if (res->type == ZK_OP_MULTI) {
            for (guint i = 0; res->multi && i < res->multi->len; i++)
                write_sub_result(&out, &g_array_index(res->multi, txn_result, i));
            write_multi_header(&out, -1, true, -1);
            err = ZOK;
        }
        break;
    default:
        break;
    }
    if (req->type == ZK_OP_CHECK && err == ZOK) {
        /* FinalRequestProcessor answers check with a SetDataResponse
         * whose Stat is null: an all-zero Stat on the wire. */
        jw_reset(&out);
        zk_stat zero = { 0 };
        zk_stat_write(&out, &zero);
    }
    send_reply(s, req, req->xid, s->tree->last_processed_zxid, err, &out, write_op_name(req->type));
    jw_free(&out);
    if (req->type == ZK_OP_CLOSESESSION)
        conn_close_after_flush(c);
}

/* Finds (and unqueues) the local request a committed transaction answers:
 * the head of the in-flight queue (standalone, or the leader's own
 * clients) when the zxid matches, else the head of the learner's queue of
 * forwarded requests when session and xid match. */
static zk_request *take_local_request(zk_server *s, int64_t zxid, const txn_header *h)
{
    zk_request *head = g_queue_peek_head(&s->inflight);
    if (head && head->zxid == zxid)
        return g_queue_pop_head(&s->inflight);
    head = g_queue_peek_head(&s->forwarded);
    if (head && head->session_id == h->client_id && head->xid == h->cxid &&
        (head->type == ZK_OP_CREATESESSION) == (h->type == ZK_OP_CREATESESSION))
        return g_queue_pop_head(&s->forwarded);
    return NULL;
}

void request_on_commit(zk_server *s, int64_t zxid, const uint8_t *txn, size_t len)
{
    txn_ctx ctx = { s->tree, &s->sessions, loop_now_ms(), session_closed_cb, s };
    txn_result res;
    txn_header h = { 0 };
    jute_reader hr;
    jr_init(&hr, txn, len);
    txn_header_read(&hr, &h);
    if (!txn_apply(&ctx, txn, len, &res))
        LOG_ERROR("cannot apply transaction 0x%" G_GINT64_MODIFIER "x (corrupt encoding)", zxid);
    s->tree->last_processed_zxid = zxid > s->tree->last_processed_zxid ? zxid : s->tree->last_processed_zxid;
    retire_changes(s, zxid);
    zk_request *req = take_local_request(s, zxid, &h);
    zk_conn *c = req ? req->conn : NULL;
    if (req)
        reply_for(s, req, &res);
    if (h.type == ZK_OP_CLOSESESSION) {
        /* An expired or closed session's connections go away. */
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, s->conns);
        GPtrArray *victims = g_ptr_array_new();
        while (g_hash_table_iter_next(&it, &k, &v)) {
            zk_conn *o = v;
            if (o->session_id == h.client_id && o != c)
                g_ptr_array_add(victims, o);
        }
        for (guint i = 0; i < victims->len; i++)
            conn_close(g_ptr_array_index(victims, i), "session closed");
        g_ptr_array_free(victims, TRUE);
    }
    txn_result_clear(&res);
    s->txns_since_snap++;
    if (c && !c->closed)
        drain_waiting(c);
    if (req)
        request_free(req);
    if (s->quorum)
        drain_synced(s);
}

void request_on_durable(zk_server *s, int64_t zxid)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&s->inflight)) && req->zxid <= zxid) {
        /* request_on_commit unqueues and frees req after using its txn */
        request_on_commit(s, req->zxid, req->txn, req->txn_len);
    }
}

/* The log failed: nothing in flight may be acknowledged or applied. */
void request_abort_inflight(zk_server *s)
{
    zk_request *req;
    while ((req = g_queue_pop_head(&s->forwarded))) {
        if (req->conn) {
            req->conn->writes_in_flight--;
            conn_close(req->conn, "lost the leader");
        }
        request_free(req);
    }
    while ((req = g_queue_pop_head(&s->inflight))) {
        if (req->conn) {
            req->conn->writes_in_flight--;
            conn_close(req->conn, "transaction log write failed");
        }
        request_free(req);
    }
    change_rec *cr;
    while ((cr = g_queue_pop_head(&s->changes)))
        change_free(s, cr);
    g_hash_table_remove_all(s->change_by_path);
    s->last_zxid = s->tree->last_processed_zxid;
}

void request_on_conn_closed(zk_conn *c)
{
    zk_server *s = c->srv;
    watch_remove_watcher(s->tree->data_watches, c);
    watch_remove_watcher(s->tree->child_watches, c);
    zk_request *req;
    while ((req = g_queue_pop_head(&c->waiting)))
        request_free(req);   /* no longer outstanding */
    zk_session *ss = session_get(&s->sessions, c->session_id);
    if (ss && ss->conn == c)
        ss->conn = NULL;
}

bool server_accepting(const zk_server *s)
{
    return s->serving && (!s->quorum || quorum_serving(s->quorum));
}

void request_submit_forwarded(zk_server *s, int origin_sid, int64_t session_id, int32_t xid,
                              int32_t type, const uint8_t *body, size_t len, int32_t timeout,
                              GPtrArray *auth)
{
    zk_request *req = request_new(NULL, session_id, xid, type, body, len);
    req->origin_sid = origin_sid;
    req->session_timeout = timeout;
    req->auth = auth;
    req->owns_auth = true;
    if (!req->is_write) {
        request_free(req);
        return;
    }
    process_request(s, req);
}

/* Learner: answers forwarded syncs whose commits are all applied. */
static void drain_synced(zk_server *s)
{
    zk_request *req;
    while ((req = g_queue_peek_head(&s->forwarded)) && req->type == ZK_OP_SYNC && req->synced &&
           s->tree->last_processed_zxid >= req->zxid) {
        g_queue_pop_head(&s->forwarded);
        zk_conn *c = req->conn;
        jute_writer out;
        jw_init(&out, 64);
        jute_reader r;
        jr_init(&r, req->body, req->body_len);
        jute_view path;
        int rc = zk_path_request_read(&r, &path) ? ZOK : ZMARSHALLINGERROR;
        if (rc == ZOK)
            jw_view(&out, path);
        if (c)
            c->writes_in_flight--;
        send_reply(s, req, req->xid, s->tree->last_processed_zxid, rc, &out, "SYNC");
        jw_free(&out);
        if (c && !c->closed)
            drain_waiting(c);
        request_free(req);
    }
}

void request_on_synced(zk_server *s, int64_t session_id, int32_t xid, int64_t zxid)
{
    for (GList *l = s->forwarded.head; l; l = l->next) {
        zk_request *req = l->data;
        if (req->type == ZK_OP_SYNC && req->session_id == session_id && req->xid == xid) {
            req->synced = true;
            req->zxid = zxid;
            break;
        }
    }
    drain_synced(s);
}

void request_submit_internal(zk_server *s, int64_t session_id, int32_t type, const uint8_t *body, size_t len)
{
    zk_request *req = request_new(NULL, session_id, 0, type, body, len);
    process_request(s, req);
}

/* SessionTracker: sessions past their deadline are closed through the
 * pipeline (a replicated closeSession). */
static void expire_sessions(zk_server *s, int64_t now)
{
    GArray *expired = session_expired(&s->sessions, now);
    for (guint i = 0; i < expired->len; i++) {
        int64_t id = g_array_index(expired, int64_t, i);
        zk_session *ss = session_get(&s->sessions, id);
        LOG_INFO("Expiring session 0x%" G_GINT64_MODIFIER "x, timeout of %dms exceeded", id,
                 ss ? ss->timeout : 0);
        if (ss)
            ss->closing = true;
        request_submit_internal(s, id, ZK_OP_CLOSESESSION, NULL, 0);
    }
    g_array_free(expired, TRUE);
}

void request_tick(zk_server *s)
{
    int64_t now = loop_now_ms();
    /* Session deadlines are rounded to tick boundaries (ExpiryQueue), so the
     * connection and session scans run once per tickTime, not on every loop
     * tick; container reaping keeps its own interval. */
    bool boundary = now >= s->next_expiry_check_ms;
    if (boundary) {
        int32_t tick = s->cfg->tick_time > 0 ? s->cfg->tick_time : 2000;
        s->next_expiry_check_ms = (now / tick + 1) * tick;
        conn_close_idle_handshakes(s, now);
    }
    /* Sessions and containers are the leader's business in an ensemble. */
    if (s->quorum && !quorum_can_propose(s->quorum))
        return;
    if (boundary)
        expire_sessions(s, now);

    /* ContainerManager: empty containers that once had children, and
     * expired TTL nodes, are deleted through the pipeline. */
    int64_t wall = loop_wall_ms();
    if (now - s->last_container_check_ms >= s->cfg->container_check_interval_ms) {
        s->last_container_check_ms = now;
        GPtrArray *victims = g_ptr_array_new_with_free_func(g_free);
        GHashTableIter it;
        gpointer k;
        g_hash_table_iter_init(&it, s->tree->containers);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            zk_node *n = tree_get(s->tree, k);
            if (n && n->children.size == 0 && n->cversion > 0)
                g_ptr_array_add(victims, g_strdup(k));
        }
        g_hash_table_iter_init(&it, s->tree->ttls);
        while (g_hash_table_iter_next(&it, &k, NULL)) {
            zk_node *n = tree_get(s->tree, k);
            if (n && n->children.size == 0) {
                int64_t ttl = zk_owner_ttl(n->ephemeral_owner);
                if (ttl != 0 && wall - n->mtime > ttl)
                    g_ptr_array_add(victims, g_strdup(k));
            }
        }
        for (guint i = 0; i < victims->len; i++) {
            const char *p = g_ptr_array_index(victims, i);
            if (g_hash_table_lookup(s->change_by_path, p))
                continue;   /* something is already happening to it */
            request_submit_internal(s, 0, ZK_OP_DELETECONTAINER, (const uint8_t *)p, strlen(p));
        }
        g_ptr_array_free(victims, TRUE);
    }
}

void request_init_delivery(zk_server *s)
{
    s->tree->deliver = deliver_event;
    s->tree->deliver_ctx = s;
}
