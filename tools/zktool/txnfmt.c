/* txnfmt.c — transaction records: decode, check, print (see txnfmt.h). */
#include "txnfmt.h"

#include <stdio.h>
#include <string.h>

#include "jtext.h"
#include "zk/path.h"
#include "zk/proto.h"

/* ---- decoding ---------------------------------------------------------- */

static void skip_acl_vector(jute_reader *r)
{
    zk_vec v;
    zk_vec_read(r, &v, zk_skip_acl);
}

/* Reads the txn record of type `type` (as deserializeTxn picks it).
 * Returns false if the type has no record class; jr_ok says whether the
 * bytes were enough. */
static bool read_record(jute_reader *r, int32_t type, bool v0)
{
    switch (type) {
    case ZK_OP_CREATESESSION:
    case ZK_OP_ERROR:
        (void)jr_int(r);
        return true;
    case ZK_OP_CLOSESESSION: {
        zk_vec v;
        zk_vec_read(r, &v, zk_skip_string);
        return true;
    }
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
        (void)jr_string(r);
        (void)jr_buffer(r);
        skip_acl_vector(r);
        (void)jr_bool(r);
        if (!v0)
            (void)jr_int(r);
        return true;
    case ZK_OP_CREATETTL:
    case ZK_OP_CREATECONTAINER:
        (void)jr_string(r);
        (void)jr_buffer(r);
        skip_acl_vector(r);
        (void)jr_int(r);
        if (type == ZK_OP_CREATETTL)
            (void)jr_long(r);
        return true;
    case ZK_OP_DELETE:
    case ZK_OP_DELETECONTAINER:
        (void)jr_string(r);
        return true;
    case ZK_OP_RECONFIG:
    case ZK_OP_SETDATA:
        (void)jr_string(r);
        (void)jr_buffer(r);
        (void)jr_int(r);
        return true;
    case ZK_OP_SETACL:
        (void)jr_string(r);
        skip_acl_vector(r);
        (void)jr_int(r);
        return true;
    case ZK_OP_CHECK:   /* only inside a multi */
        (void)jr_string(r);
        (void)jr_int(r);
        return true;
    case ZK_OP_MULTI: {
        int32_t n = jr_vector_len(r, 8);
        for (int32_t i = 0; i < n && jr_ok(r); i++) {
            (void)jr_int(r);
            (void)jr_buffer(r);
        }
        return true;
    }
    default:
        return false;
    }
}

const char *txnfmt_parse(const uint8_t *bytes, size_t len, txn_view *t)
{
    memset(t, 0, sizeof *t);
    t->bytes = bytes;
    t->len = len;
    jute_reader r;
    jr_init(&r, bytes, len);
    if (!txn_header_read(&r, &t->hdr))
        return "truncated transaction header";
    t->record_at = r.pos;
    if (t->hdr.type == ZK_OP_CHECK || !read_record(&r, t->hdr.type, false))
        return "unsupported transaction type";
    t->has_record = true;
    if (!jr_ok(&r)) {
        /* deserializeTxn's EOF fallbacks: an old create, a bare closeSession. */
        jr_init(&r, bytes, len);
        r.pos = t->record_at;
        if (t->hdr.type == ZK_OP_CREATE) {
            read_record(&r, ZK_OP_CREATE, true);
            if (!jr_ok(&r))
                return "truncated transaction record";
            t->v0_create = true;
        } else if (t->hdr.type == ZK_OP_CLOSESESSION) {
            t->has_record = false;
        } else {
            return "truncated transaction record";
        }
    }
    t->record_end = r.pos;
    if (jr_remaining(&r) >= 12) {
        t->digest_version = jr_int(&r);
        t->digest = jr_long(&r);
        t->has_digest = true;
    }
    return NULL;
}

/* ---- checks before applying ------------------------------------------- */

static bool path_ok(jute_view p)
{
    return p.len > 0 && zk_path_valid(p.ptr, (size_t)p.len);
}

static bool acl_vector_ok(jute_reader *r)
{
    int32_t n = jr_vector_len(r, 12);
    if (n < 0)
        return false;
    for (int32_t i = 0; i < n && jr_ok(r); i++) {
        zk_acl a;
        if (!zk_acl_read(r, &a) || a.id.scheme.len < 0 || a.id.id.len < 0)
            return false;
    }
    return jr_ok(r);
}

/* Checks the record of `type` at r; `in_multi` restricts the types. */
static const char *check_record(jute_reader *r, int32_t type, bool in_multi, bool v0)
{
    switch (type) {
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
    case ZK_OP_CREATETTL:
    case ZK_OP_CREATECONTAINER: {
        jute_view p = jr_string(r);
        (void)jr_buffer(r);
        if (!path_ok(p) || (p.len == 1 && p.ptr[0] == '/'))
            return "create of an invalid path";
        if (!acl_vector_ok(r))
            return "malformed ACL list";
        if (type == ZK_OP_CREATE || type == ZK_OP_CREATE2)
            (void)jr_bool(r);
        if (!v0)
            (void)jr_int(r);
        if (type == ZK_OP_CREATETTL)
            (void)jr_long(r);
        break;
    }
    case ZK_OP_DELETE:
    case ZK_OP_DELETECONTAINER:
    case ZK_OP_SETDATA:
    case ZK_OP_CHECK: {
        jute_view p = jr_string(r);
        if (!path_ok(p))
            return "invalid path";
        if (type == ZK_OP_SETDATA)
            (void)jr_buffer(r);
        if (type == ZK_OP_SETDATA || type == ZK_OP_CHECK)
            (void)jr_int(r);
        break;
    }
    case ZK_OP_ERROR:
        (void)jr_int(r);
        break;
    default:
        if (in_multi)
            return "an operation type a multi cannot hold";
        switch (type) {
        case ZK_OP_SETACL: {
            jute_view p = jr_string(r);
            if (!path_ok(p))
                return "invalid path";
            if (!acl_vector_ok(r))
                return "malformed ACL list";
            (void)jr_int(r);
            break;
        }
        case ZK_OP_CREATESESSION:
            (void)jr_int(r);
            break;
        case ZK_OP_CLOSESESSION:
        case ZK_OP_MULTI:
            break;  /* checked by the caller */
        default:
            return "a transaction type zkserver does not apply";
        }
    }
    return jr_ok(r) ? NULL : "truncated transaction record";
}

const char *txnfmt_check_apply(const txn_view *t)
{
    jute_reader r;
    jr_init(&r, t->bytes, t->record_end);
    r.pos = t->record_at;
    int32_t type = t->hdr.type;
    if (type == ZK_OP_RECONFIG)
        return "reconfig transactions are not supported";
    if (type == ZK_OP_CLOSESESSION) {
        if (!t->has_record)
            return NULL;
        int32_t n = jr_vector_len(&r, 4);
        for (int32_t i = 0; i < n && jr_ok(&r); i++) {
            jute_view p = jr_string(&r);
            if (p.len < 0)
                return "null path in closeSession";
        }
        return jr_ok(&r) ? NULL : "truncated transaction record";
    }
    if (type == ZK_OP_MULTI) {
        int32_t n = jr_vector_len(&r, 8);
        if (n < 0)
            return "null multi";
        for (int32_t i = 0; i < n && jr_ok(&r); i++) {
            int32_t st = jr_int(&r);
            jute_view body = jr_buffer(&r);
            if (!jr_ok(&r))
                break;
            jute_reader br;
            jr_init(&br, body.ptr, body.len > 0 ? (size_t)body.len : 0);
            const char *why = check_record(&br, st, true, false);
            if (why)
                return why;
        }
        return jr_ok(&r) ? NULL : "truncated transaction record";
    }
    return check_record(&r, type, false, t->v0_create);
}

void txnfmt_zk_payload(const txn_view *t, GByteArray *out)
{
    g_byte_array_append(out, t->bytes, (guint)t->record_end);
    if (t->v0_create) {
        static const uint8_t minus_one[4] = { 0xff, 0xff, 0xff, 0xff };
        g_byte_array_append(out, minus_one, 4);
    }
}

/* ---- printing ---------------------------------------------------------- */

const char *txnfmt_op_name(int32_t op, char buf[24])
{
    switch (op) {
    case ZK_OP_CREATETTL: return "createTtl";
    case ZK_OP_ADDWATCH: break;
    default: {
        const char *n = zk_op_name(op);
        if (strcmp(n, "unknown") != 0)
            return n;
    }
    }
    snprintf(buf, 24, "unknown %d", (int)op);
    return buf;
}

/* ACL.toString() of one ACL at r: "perms,s{'scheme,'id}\n". */
static void acl_to_string(GString *out, jute_reader *r)
{
    zk_acl a;
    zk_acl_read(r, &a);
    jts j;
    jts_init(&j, out);
    jts_start_record(&j, "");
    jts_long(&j, a.perms);
    jts_start_record(&j, "id");
    jts_string(&j, a.id.scheme.ptr, a.id.scheme.len);
    jts_string(&j, a.id.id.ptr, a.id.id.len);
    jts_end_record(&j, "id");
    jts_end_record(&j, "");
}

/* An ACL vector inside a record's toString: v{s{perms,s{'scheme,'id}},...}. */
static void acl_vector_jts(jts *j, jute_reader *r)
{
    int32_t n = jr_vector_len(r, 12);
    jts_start_vector(j);
    for (int32_t i = 0; i < n && jr_ok(r); i++) {
        zk_acl a;
        zk_acl_read(r, &a);
        jts_start_record(j, "e1");
        jts_long(j, a.perms);
        jts_start_record(j, "id");
        jts_string(j, a.id.scheme.ptr, a.id.scheme.len);
        jts_string(j, a.id.id.ptr, a.id.id.len);
        jts_end_record(j, "id");
        jts_end_record(j, "e1");
    }
    jts_end_vector(j);
}

/* java.util.List<ACL>.toString(): "[a1, a2]" of ACL.toString()s, or "null". */
static void acl_list_java(GString *out, jute_reader *r)
{
    int32_t n = jr_vector_len(r, 12);
    if (n < 0) {
        g_string_append(out, "null");
        return;
    }
    g_string_append_c(out, '[');
    for (int32_t i = 0; i < n && jr_ok(r); i++) {
        if (i)
            g_string_append(out, ", ");
        acl_to_string(out, r);
    }
    g_string_append_c(out, ']');
}

/* A Java String field printed by concatenation: decoded, or "null". */
static void java_string(GString *out, jute_view v)
{
    if (v.len < 0)
        g_string_append(out, "null");
    else
        jtext_utf8(out, v.ptr, (size_t)v.len);
}

/* checkNullToEmpty(data): the bytes decoded as UTF-8. */
static void java_data(GString *out, jute_view v)
{
    if (v.len > 0)
        jtext_utf8(out, v.ptr, (size_t)v.len);
}

/* Record.toString() of the txn record of `type` at r (ends with "\n"). */
static void record_to_string(GString *out, jute_reader *r, int32_t type, bool v0)
{
    jts j;
    jts_init(&j, out);
    jts_start_record(&j, "");
    switch (type) {
    case ZK_OP_CREATESESSION:
    case ZK_OP_ERROR:
        jts_long(&j, jr_int(r));
        break;
    case ZK_OP_CLOSESESSION: {
        int32_t n = jr_vector_len(r, 4);
        jts_start_vector(&j);
        for (int32_t i = 0; i < n && jr_ok(r); i++) {
            jute_view p = jr_string(r);
            jts_string(&j, p.ptr, p.len);
        }
        jts_end_vector(&j);
        break;
    }
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
    case ZK_OP_CREATETTL:
    case ZK_OP_CREATECONTAINER: {
        jute_view p = jr_string(r);
        jute_view d = jr_buffer(r);
        jts_string(&j, p.ptr, p.len);
        jts_buffer(&j, d.ptr, d.len);
        acl_vector_jts(&j, r);
        if (type == ZK_OP_CREATE || type == ZK_OP_CREATE2)
            jts_bool(&j, jr_bool(r));
        /* A CreateTxnV0 is read into a CreateTxn with parentCVersion -1. */
        jts_long(&j, v0 ? -1 : jr_int(r));
        if (type == ZK_OP_CREATETTL)
            jts_long(&j, jr_long(r));
        break;
    }
    case ZK_OP_DELETE:
    case ZK_OP_DELETECONTAINER: {
        jute_view p = jr_string(r);
        jts_string(&j, p.ptr, p.len);
        break;
    }
    case ZK_OP_RECONFIG:
    case ZK_OP_SETDATA: {
        jute_view p = jr_string(r);
        jute_view d = jr_buffer(r);
        jts_string(&j, p.ptr, p.len);
        jts_buffer(&j, d.ptr, d.len);
        jts_long(&j, jr_int(r));
        break;
    }
    case ZK_OP_SETACL: {
        jute_view p = jr_string(r);
        jts_string(&j, p.ptr, p.len);
        acl_vector_jts(&j, r);
        jts_long(&j, jr_int(r));
        break;
    }
    case ZK_OP_CHECK: {
        jute_view p = jr_string(r);
        jts_string(&j, p.ptr, p.len);
        jts_long(&j, jr_int(r));
        break;
    }
    case ZK_OP_MULTI: {
        int32_t n = jr_vector_len(r, 8);
        jts_start_vector(&j);
        for (int32_t i = 0; i < n && jr_ok(r); i++) {
            int32_t st = jr_int(r);
            jute_view d = jr_buffer(r);
            jts_start_record(&j, "e1");
            jts_long(&j, st);
            jts_buffer(&j, d.ptr, d.len);
            jts_end_record(&j, "e1");
        }
        jts_end_vector(&j);
        break;
    }
    }
    jts_end_record(&j, "");
}

/* TxnLogToolkit.getFormattedTxnStr. */
static void toolkit_txn_string(GString *out, const txn_view *t)
{
    if (!t->has_record)
        return;
    jute_reader r;
    jr_init(&r, t->bytes, t->record_end);
    r.pos = t->record_at;
    switch (t->hdr.type) {
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
    case ZK_OP_CREATECONTAINER:
    case ZK_OP_CREATETTL: {
        java_string(out, jr_string(&r));
        g_string_append_c(out, ',');
        java_data(out, jr_buffer(&r));
        g_string_append_c(out, ',');
        acl_list_java(out, &r);
        if (t->hdr.type == ZK_OP_CREATE || t->hdr.type == ZK_OP_CREATE2)
            g_string_append(out, jr_bool(&r) ? ",true" : ",false");
        g_string_append_printf(out, ",%d", t->v0_create ? -1 : (int)jr_int(&r));
        if (t->hdr.type == ZK_OP_CREATETTL)
            g_string_append_printf(out, ",%" G_GINT64_FORMAT, jr_long(&r));
        break;
    }
    case ZK_OP_SETDATA:
    case ZK_OP_RECONFIG: {
        java_string(out, jr_string(&r));
        g_string_append_c(out, ',');
        java_data(out, jr_buffer(&r));
        g_string_append_printf(out, ",%d", (int)jr_int(&r));
        break;
    }
    case ZK_OP_MULTI: {
        int32_t n = jr_vector_len(&r, 8);
        for (int32_t i = 0; i < n && jr_ok(&r); i++) {
            char buf[24];
            int32_t st = jr_int(&r);
            jute_view d = jr_buffer(&r);
            if (i)
                g_string_append_c(out, ';');
            g_string_append_printf(out, "%s:", txnfmt_op_name(st, buf));
            java_data(out, d);
        }
        break;
    }
    default:
        record_to_string(out, &r, t->hdr.type, t->v0_create);
    }
}

/* "DATE session 0x.. cxid 0x.. zxid 0x.. OP " */
static void line_head(GString *out, const txn_view *t)
{
    char buf[24];
    jtext_date_short_long(out, t->hdr.time);
    g_string_append(out, " session 0x");
    jtext_hex(out, t->hdr.client_id);
    g_string_append(out, " cxid 0x");
    jtext_hex(out, t->hdr.cxid);
    g_string_append(out, " zxid 0x");
    jtext_hex(out, t->hdr.zxid);
    g_string_append_printf(out, " %s ", txnfmt_op_name(t->hdr.type, buf));
}

void txnfmt_toolkit_line(GString *out, const txn_view *t, const char *prefix)
{
    if (prefix && prefix[0])
        g_string_append_printf(out, "%s - ", prefix);
    gsize start = out->len;
    line_head(out, t);
    toolkit_txn_string(out, t);
    if (out->len == start || out->str[out->len - 1] != '\n')
        g_string_append_c(out, '\n');
}

void txnfmt_logformatter_line(GString *out, const txn_view *t)
{
    line_head(out, t);
    if (t->has_record) {
        jute_reader r;
        jr_init(&r, t->bytes, t->record_end);
        r.pos = t->record_at;
        record_to_string(out, &r, t->hdr.type, t->v0_create);
        if (out->len && out->str[out->len - 1] == '\n')
            g_string_truncate(out, out->len - 1);
    } else {
        g_string_append(out, "null");
    }
    g_string_append_c(out, '\n');
}
