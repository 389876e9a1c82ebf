/* proto.c — decoders and encoders for the client-protocol records (see include/zk/proto.h). */
#include "zk/proto.h"

bool zk_stat_read(jute_reader *r, zk_stat *s)
{
    s->czxid = jr_long(r);
    s->mzxid = jr_long(r);
    s->ctime = jr_long(r);
    s->mtime = jr_long(r);
    s->version = jr_int(r);
    s->cversion = jr_int(r);
    s->aversion = jr_int(r);
    s->ephemeral_owner = jr_long(r);
    s->data_length = jr_int(r);
    s->num_children = jr_int(r);
    s->pzxid = jr_long(r);
    return jr_ok(r);
}

void zk_stat_write(jute_writer *w, const zk_stat *s)
{
    uint8_t *p = jw_reserve(w, 68);
    zk_put_be64(p, (uint64_t)s->czxid);
    zk_put_be64(p + 8, (uint64_t)s->mzxid);
    zk_put_be64(p + 16, (uint64_t)s->ctime);
    zk_put_be64(p + 24, (uint64_t)s->mtime);
    zk_put_be32(p + 32, (uint32_t)s->version);
    zk_put_be32(p + 36, (uint32_t)s->cversion);
    zk_put_be32(p + 40, (uint32_t)s->aversion);
    zk_put_be64(p + 44, (uint64_t)s->ephemeral_owner);
    zk_put_be32(p + 52, (uint32_t)s->data_length);
    zk_put_be32(p + 56, (uint32_t)s->num_children);
    zk_put_be64(p + 60, (uint64_t)s->pzxid);
    w->len += 68;
}

bool zk_id_read(jute_reader *r, zk_id *id)
{
    id->scheme = jr_string(r);
    id->id = jr_string(r);
    return jr_ok(r);
}

bool zk_acl_read(jute_reader *r, zk_acl *a)
{
    a->perms = jr_int(r);
    return zk_id_read(r, &a->id);
}

void zk_acl_write(jute_writer *w, const zk_acl *a)
{
    jw_int(w, a->perms);
    jw_view(w, a->id.scheme);
    jw_view(w, a->id.id);
}

void zk_skip_string(jute_reader *r)
{
    (void)jr_string(r);
}

void zk_skip_acl(jute_reader *r)
{
    zk_acl a;
    (void)zk_acl_read(r, &a);
}

bool zk_vec_read(jute_reader *r, zk_vec *v, void (*elem_skip)(jute_reader *))
{
    v->count = jr_vector_len(r, 4);
    size_t start = r->pos;
    for (int32_t i = 0; i < v->count && jr_ok(r); i++)
        elem_skip(r);
    if (!jr_ok(r)) {
        v->count = 0;
        v->raw.ptr = NULL;
        v->raw.len = 0;
        return false;
    }
    v->raw.ptr = (const char *)r->buf + start;
    v->raw.len = (int32_t)(r->pos - start);
    return true;
}

void zk_vec_iter(const zk_vec *v, jute_reader *it)
{
    jr_init(it, v->raw.ptr, v->raw.len > 0 ? (size_t)v->raw.len : 0);
}

bool zk_connect_request_read(jute_reader *r, zk_connect_request *c)
{
    c->protocol_version = jr_int(r);
    c->last_zxid_seen = jr_long(r);
    c->timeout = jr_int(r);
    c->session_id = jr_long(r);
    c->passwd = jr_buffer(r);
    c->read_only = false;
    c->has_read_only = false;
    if (jr_ok(r) && jr_remaining(r) >= 1) {
        c->read_only = jr_bool(r);
        c->has_read_only = true;
    }
    return jr_ok(r);
}

void zk_connect_request_write(jute_writer *w, const zk_connect_request *c)
{
    jw_int(w, c->protocol_version);
    jw_long(w, c->last_zxid_seen);
    jw_int(w, c->timeout);
    jw_long(w, c->session_id);
    jw_view(w, c->passwd);
    jw_bool(w, c->read_only);
}

bool zk_connect_response_read(jute_reader *r, zk_connect_response *c)
{
    c->protocol_version = jr_int(r);
    c->timeout = jr_int(r);
    c->session_id = jr_long(r);
    c->passwd = jr_buffer(r);
    c->read_only = jr_remaining(r) >= 1 ? jr_bool(r) : false;
    return jr_ok(r);
}

void zk_connect_response_write(jute_writer *w, const zk_connect_response *c)
{
    jw_int(w, c->protocol_version);
    jw_int(w, c->timeout);
    jw_long(w, c->session_id);
    jw_view(w, c->passwd);
    jw_bool(w, c->read_only);
}

bool zk_request_header_read(jute_reader *r, zk_request_header *h)
{
    h->xid = jr_int(r);
    h->type = jr_int(r);
    return jr_ok(r);
}

void zk_request_header_write(jute_writer *w, const zk_request_header *h)
{
    jw_int(w, h->xid);
    jw_int(w, h->type);
}

bool zk_reply_header_read(jute_reader *r, zk_reply_header *h)
{
    h->xid = jr_int(r);
    h->zxid = jr_long(r);
    h->err = jr_int(r);
    return jr_ok(r);
}

void zk_reply_header_write(jute_writer *w, const zk_reply_header *h)
{
    jw_int(w, h->xid);
    jw_long(w, h->zxid);
    jw_int(w, h->err);
}

bool zk_multi_header_read(jute_reader *r, zk_multi_header *h)
{
    h->type = jr_int(r);
    h->done = jr_bool(r);
    h->err = jr_int(r);
    return jr_ok(r);
}

void zk_multi_header_write(jute_writer *w, const zk_multi_header *h)
{
    jw_int(w, h->type);
    jw_bool(w, h->done);
    jw_int(w, h->err);
}

bool zk_create_request_read(jute_reader *r, int32_t op, zk_create_request *c)
{
    c->path = jr_string(r);
    c->data = jr_buffer(r);
    zk_vec_read(r, &c->acl, zk_skip_acl);
    c->flags = jr_int(r);
    c->ttl = op == ZK_OP_CREATETTL ? jr_long(r) : -1;
    return jr_ok(r);
}

bool zk_path_version_request_read(jute_reader *r, zk_path_version_request *d)
{
    d->path = jr_string(r);
    d->version = jr_int(r);
    return jr_ok(r);
}

bool zk_path_watch_request_read(jute_reader *r, zk_path_watch_request *g)
{
    g->path = jr_string(r);
    g->watch = jr_bool(r);
    return jr_ok(r);
}

bool zk_path_request_read(jute_reader *r, jute_view *path)
{
    *path = jr_string(r);
    return jr_ok(r);
}

bool zk_set_data_request_read(jute_reader *r, zk_set_data_request *s)
{
    s->path = jr_string(r);
    s->data = jr_buffer(r);
    s->version = jr_int(r);
    return jr_ok(r);
}

bool zk_set_acl_request_read(jute_reader *r, zk_set_acl_request *s)
{
    s->path = jr_string(r);
    zk_vec_read(r, &s->acl, zk_skip_acl);
    s->version = jr_int(r);
    return jr_ok(r);
}

bool zk_path_type_request_read(jute_reader *r, zk_path_type_request *p)
{
    p->path = jr_string(r);
    p->type = jr_int(r);
    return jr_ok(r);
}

bool zk_set_watches_read(jute_reader *r, int32_t op, zk_set_watches *w)
{
    w->relative_zxid = jr_long(r);
    zk_vec_read(r, &w->data, zk_skip_string);
    zk_vec_read(r, &w->exist, zk_skip_string);
    zk_vec_read(r, &w->child, zk_skip_string);
    w->persistent = (zk_vec){ 0, { NULL, 0 } };
    w->persistent_recursive = (zk_vec){ 0, { NULL, 0 } };
    if (op == ZK_OP_SETWATCHES2) {
        zk_vec_read(r, &w->persistent, zk_skip_string);
        zk_vec_read(r, &w->persistent_recursive, zk_skip_string);
    }
    return jr_ok(r);
}

bool zk_auth_packet_read(jute_reader *r, zk_auth_packet *a)
{
    a->type = jr_int(r);
    a->scheme = jr_string(r);
    a->auth = jr_buffer(r);
    return jr_ok(r);
}

bool zk_watcher_event_read(jute_reader *r, zk_watcher_event *e)
{
    e->type = jr_int(r);
    e->state = jr_int(r);
    e->path = jr_string(r);
    return jr_ok(r);
}

void zk_watcher_event_write(jute_writer *w, const zk_watcher_event *e)
{
    jw_int(w, e->type);
    jw_int(w, e->state);
    jw_view(w, e->path);
}

const char *zk_op_name(int32_t op)
{
    switch (op) {
    case ZK_OP_NOTIFICATION: return "notification";
    case ZK_OP_CREATE: return "create";
    case ZK_OP_DELETE: return "delete";
    case ZK_OP_EXISTS: return "exists";
    case ZK_OP_GETDATA: return "getData";
    case ZK_OP_SETDATA: return "setData";
    case ZK_OP_GETACL: return "getACL";
    case ZK_OP_SETACL: return "setACL";
    case ZK_OP_GETCHILDREN: return "getChildren";
    case ZK_OP_SYNC: return "sync";
    case ZK_OP_PING: return "ping";
    case ZK_OP_GETCHILDREN2: return "getChildren2";
    case ZK_OP_CHECK: return "check";
    case ZK_OP_MULTI: return "multi";
    case ZK_OP_CREATE2: return "create2";
    case ZK_OP_RECONFIG: return "reconfig";
    case ZK_OP_CHECKWATCHES: return "checkWatches";
    case ZK_OP_REMOVEWATCHES: return "removeWatches";
    case ZK_OP_CREATECONTAINER: return "createContainer";
    case ZK_OP_DELETECONTAINER: return "deleteContainer";
    case ZK_OP_CREATETTL: return "createTTL";
    case ZK_OP_MULTIREAD: return "multiRead";
    case ZK_OP_AUTH: return "auth";
    case ZK_OP_SETWATCHES: return "setWatches";
    case ZK_OP_SASL: return "sasl";
    case ZK_OP_GETEPHEMERALS: return "getEphemerals";
    case ZK_OP_GETALLCHILDRENNUMBER: return "getAllChildrenNumber";
    case ZK_OP_SETWATCHES2: return "setWatches2";
    case ZK_OP_ADDWATCH: return "addWatch";
    case ZK_OP_WHOAMI: return "whoAmI";
    case ZK_OP_CREATESESSION: return "createSession";
    case ZK_OP_CLOSESESSION: return "closeSession";
    case ZK_OP_ERROR: return "error";
    default: return "unknown";
    }
}

const char *zk_error_name(int32_t err)
{
    switch (err) {
    case ZOK: return "OK";
    case ZSYSTEMERROR: return "SYSTEMERROR";
    case ZRUNTIMEINCONSISTENCY: return "RUNTIMEINCONSISTENCY";
    case ZDATAINCONSISTENCY: return "DATAINCONSISTENCY";
    case ZCONNECTIONLOSS: return "CONNECTIONLOSS";
    case ZMARSHALLINGERROR: return "MARSHALLINGERROR";
    case ZUNIMPLEMENTED: return "UNIMPLEMENTED";
    case ZOPERATIONTIMEOUT: return "OPERATIONTIMEOUT";
    case ZBADARGUMENTS: return "BADARGUMENTS";
    case ZUNKNOWNSESSION: return "UNKNOWNSESSION";
    case ZNEWCONFIGNOQUORUM: return "NEWCONFIGNOQUORUM";
    case ZRECONFIGINPROGRESS: return "RECONFIGINPROGRESS";
    case ZAPIERROR: return "APIERROR";
    case ZNONODE: return "NONODE";
    case ZNOAUTH: return "NOAUTH";
    case ZBADVERSION: return "BADVERSION";
    case ZNOCHILDRENFOREPHEMERALS: return "NOCHILDRENFOREPHEMERALS";
    case ZNODEEXISTS: return "NODEEXISTS";
    case ZNOTEMPTY: return "NOTEMPTY";
    case ZSESSIONEXPIRED: return "SESSIONEXPIRED";
    case ZINVALIDCALLBACK: return "INVALIDCALLBACK";
    case ZINVALIDACL: return "INVALIDACL";
    case ZAUTHFAILED: return "AUTHFAILED";
    case ZCLOSING: return "CLOSING";
    case ZNOTHING: return "NOTHING";
    case ZSESSIONMOVED: return "SESSIONMOVED";
    case ZNOTREADONLY: return "NOTREADONLY";
    case ZEPHEMERALONLOCALSESSION: return "EPHEMERALONLOCALSESSION";
    case ZNOWATCHER: return "NOWATCHER";
    case ZRECONFIGDISABLED: return "RECONFIGDISABLED";
    case ZQUOTAEXCEEDED: return "QUOTAEXCEEDED";
    case ZSESSIONCLOSEDREQUIRESASLAUTH: return "SESSIONCLOSEDREQUIRESASLAUTH";
    case ZTHROTTLEDOP: return "THROTTLEDOP";
    default: return "UNKNOWN";
    }
}
