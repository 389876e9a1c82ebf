/*
 * op.c — decoding of every client request body into a zk_op (see op.h):
 * one switch over the opcodes, each case one jute record, plus Apache's
 * MultiOperationRecord rules for multi and multiRead.
 */
#include "op.h"

#include <glib.h>
#include <string.h>

static bool reconfig_read(jute_reader *r, zk_reconfig_request *rc)
{
    rc->joining = jr_string(r);
    rc->leaving = jr_string(r);
    rc->new_members = jr_string(r);
    rc->cur_config_id = jr_long(r);
    return jr_ok(r);
}

/* One op of a MultiOperationRecord whose header said `type`; false if its
 * record does not decode or the type is not one a multi can hold. */
static bool sub_op_read(jute_reader *r, int32_t type, zk_sub_op *op)
{
    memset(op, 0, sizeof *op);
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER:
        /* Op.create(path, data, acl, flags): the opcode follows the flags —
         * CONTAINER -> createContainer, a TTL mode -> createTTL (around a
         * plain CreateRequest: the bad cast), anything else -> create. */
        if (!zk_create_request_read(r, ZK_OP_CREATE, &op->u.create))
            return false;
        if (op->u.create.flags == ZK_CREATE_CONTAINER)
            op->type = ZK_OP_CREATECONTAINER;
        else if (op->u.create.flags == ZK_CREATE_PERSISTENT_WITH_TTL ||
                 op->u.create.flags == ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL)
            op->type = ZK_MULTI_CREATE_TTL_BAD_CAST;
        else
            op->type = ZK_OP_CREATE;
        return true;
    case ZK_OP_CREATETTL:
        /* Op.create(path, data, acl, flags, ttl): a TTL mode makes a real
         * createTTL op; any other mode drops the ttl (createContainer or
         * create, as above). */
        if (!zk_create_request_read(r, ZK_OP_CREATETTL, &op->u.create))
            return false;
        if (op->u.create.flags == ZK_CREATE_PERSISTENT_WITH_TTL ||
            op->u.create.flags == ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL) {
            op->type = ZK_OP_CREATETTL;
            return true;
        }
        op->type = op->u.create.flags == ZK_CREATE_CONTAINER ? ZK_OP_CREATECONTAINER : ZK_OP_CREATE;
        op->u.create.ttl = -1;
        return true;
    case ZK_OP_DELETE: case ZK_OP_CHECK:
        op->type = type;
        return zk_path_version_request_read(r, &op->u.path_version);
    case ZK_OP_SETDATA:
        op->type = type;
        return zk_set_data_request_read(r, &op->u.set_data);
    case ZK_OP_GETDATA: case ZK_OP_GETCHILDREN:
        op->type = type;
        return zk_path_watch_request_read(r, &op->u.path_watch);
    default:
        return false;   /* MultiOperationRecord: "Invalid type of op" */
    }
}

static bool sub_op_is_read(int32_t type)
{
    return type == ZK_OP_GETDATA || type == ZK_OP_GETCHILDREN;
}

/* MultiOperationRecord.deserialize: headers and ops until a done header;
 * all ops of one kind (reads or transactions) or it does not decode. */
static bool multi_read(jute_reader *r, zk_multi *m)
{
    GArray *ops = g_array_new(FALSE, FALSE, sizeof(zk_sub_op));
    bool kind_known = false;
    for (;;) {
        zk_multi_header mh;
        if (!zk_multi_header_read(r, &mh))
            goto bad;
        if (mh.done)
            break;
        zk_sub_op op;
        if (!sub_op_read(r, mh.type, &op))
            goto bad;
        bool reads = sub_op_is_read(op.type);
        if (kind_known && reads != m->reads)
            goto bad;   /* "Mixing different kind of ops" */
        kind_known = true;
        m->reads = reads;
        g_array_append_val(ops, op);
    }
    m->n = (int)ops->len;
    if (ops->len) {
        m->ops = (zk_sub_op *)(void *)g_array_free(ops, FALSE);
    } else {
        m->ops = NULL;
        g_array_free(ops, TRUE);
    }
    return true;
bad:
    g_array_free(ops, TRUE);
    return false;
}

bool zk_op_decode(int32_t type, const uint8_t *body, size_t len, bool internal, zk_op *op)
{
    memset(op, 0, sizeof *op);
    op->type = type;
    jute_reader r;
    jr_init(&r, body, len);
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
        return zk_create_request_read(&r, type, &op->u.create);
    case ZK_OP_DELETE: case ZK_OP_CHECK:
        return zk_path_version_request_read(&r, &op->u.path_version);
    case ZK_OP_SETDATA:
        return zk_set_data_request_read(&r, &op->u.set_data);
    case ZK_OP_SETACL:
        return zk_set_acl_request_read(&r, &op->u.set_acl);
    case ZK_OP_EXISTS: case ZK_OP_GETDATA: case ZK_OP_GETCHILDREN: case ZK_OP_GETCHILDREN2:
        return zk_path_watch_request_read(&r, &op->u.path_watch);
    case ZK_OP_SYNC: case ZK_OP_GETACL: case ZK_OP_GETALLCHILDRENNUMBER: case ZK_OP_GETEPHEMERALS:
        return zk_path_request_read(&r, &op->u.path);
    case ZK_OP_CHECKWATCHES: case ZK_OP_REMOVEWATCHES: case ZK_OP_ADDWATCH:
        return zk_path_type_request_read(&r, &op->u.path_type);
    case ZK_OP_SETWATCHES: case ZK_OP_SETWATCHES2:
        return zk_set_watches_read(&r, type, &op->u.set_watches);
    case ZK_OP_RECONFIG:
        return reconfig_read(&r, &op->u.reconfig);
    case ZK_OP_MULTI: case ZK_OP_MULTIREAD:
        return multi_read(&r, &op->u.multi);
    case ZK_OP_CREATESESSION:
        /* request.request.getInt(): the first four bytes, the rest ignored */
        op->u.session_timeout = jr_int(&r);
        return jr_ok(&r);
    case ZK_OP_DELETECONTAINER:
        /* Apache reads the whole packet as the path: the server's own
         * request carries just the path; a client's (or a learner's
         * forward) starts with binary headers. */
        if (internal) {
            op->u.container_path.ptr = (const char *)body;
            op->u.container_path.len = (int32_t)len;
        }
        return true;
    case ZK_OP_AUTH:
        return zk_auth_packet_read(&r, &op->u.auth);
    case ZK_OP_SASL:
        op->u.sasl_token = jr_buffer(&r);
        return jr_ok(&r);
    default:
        /* ping, closeSession, whoAmI: no record; unknown types: refused */
        return true;
    }
}

void zk_op_clear(zk_op *op)
{
    if (op->type == ZK_OP_MULTI || op->type == ZK_OP_MULTIREAD) {
        g_free(op->u.multi.ops);
        op->u.multi.ops = NULL;
        op->u.multi.n = 0;
    }
}

zk_undecodable_answer zk_op_undecodable_answer(int32_t type)
{
    switch (type) {
    case ZK_OP_CREATE: case ZK_OP_CREATE2: case ZK_OP_CREATECONTAINER: case ZK_OP_CREATETTL:
    case ZK_OP_DELETE: case ZK_OP_SETDATA: case ZK_OP_SETACL: case ZK_OP_CHECK:
    case ZK_OP_MULTI: case ZK_OP_CREATESESSION:
        return ZK_UNDECODABLE_ERROR_TXN;
    case ZK_OP_AUTH: case ZK_OP_SASL:
        return ZK_UNDECODABLE_CLOSE;
    default:
        return ZK_UNDECODABLE_REPLY;
    }
}

bool zk_op_checks_session_first(int32_t type)
{
    return type == ZK_OP_DELETE || type == ZK_OP_SETDATA || type == ZK_OP_SETACL ||
           type == ZK_OP_CHECK;
}
