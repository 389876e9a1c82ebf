/*
 * client_multiread.c — the multiRead request (opcode 22, ZooKeeper 3.6+):
 * several getData/getChildren reads answered in one reply.  Encoding of
 * the request body and decoding of the reply; the submission is
 * zkc_amulti_read in lib/client.c.
 *
 * Wire format (as Apache's MultiOperationRecord / MultiResponse): per read
 * a MultiHeader {type, done=false, err=-1} and the read's request
 * {path, watch=false}; then {-1, true, -1}.  The reply: per read a
 * MultiHeader and GetDataResponse {data, stat}, GetChildrenResponse
 * {children} or ErrorResponse {err} (header type -1); then the end header.
 */
#include <string.h>

#include "client_internal.h"

bool zkc_write_multi_read(jute_writer *w, const char *chroot, const zkc_read_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (ops[i].type != ZK_OP_GETDATA && ops[i].type != ZK_OP_GETCHILDREN)
            return false;
        zk_multi_header h = { ops[i].type, false, -1 };
        zk_multi_header_write(w, &h);
        zkc_write_path(w, chroot, ops[i].path);
        jw_bool(w, false);
    }
    zk_multi_header end = { -1, true, -1 };
    zk_multi_header_write(w, &end);
    return true;
}

bool zkc_decode_multi_read(jute_reader *r, zkc_arena *a, zkc_result *res)
{
    /* Every result takes at least a 9-byte header: bounds the count. */
    size_t cap = jr_remaining(r) / 9 + 1;
    zkc_read_result *reads = zkc_arena_alloc(a, cap * sizeof *reads);
    size_t n = 0;
    for (;;) {
        zk_multi_header h;
        if (!zk_multi_header_read(r, &h))
            return false;
        if (h.done)
            break;
        if (n >= cap)
            return false;
        zkc_read_result *rd = &reads[n++];
        memset(rd, 0, sizeof *rd);
        rd->type = h.type;
        rd->data_len = -1;
        switch (h.type) {
        case ZK_OP_GETDATA: {
            jute_view d = jr_buffer(r);
            rd->has_stat = zk_stat_read(r, &rd->stat);
            if (!rd->has_stat)
                return false;
            rd->data = d.len >= 0 ? d.ptr : NULL;
            rd->data_len = d.len >= 0 ? d.len : -1;
            break;
        }
        case ZK_OP_GETCHILDREN:
            if (!zkc_decode_names(r, a, &rd->children, &rd->n_children))
                return false;
            break;
        case ZK_OP_ERROR:
            rd->err = jr_int(r);
            if (rd->err == ZOK)
                return false;    /* an error result must carry an error */
            break;
        default:
            return false;
        }
        if (!jr_ok(r))
            return false;
    }
    res->reads = reads;
    res->n_reads = n;
    return true;
}
