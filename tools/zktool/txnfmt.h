/*
 * txnfmt.h — one transaction log record's bytes (TxnHeader + txn record +
 * optional TxnDigest, the same encoding in Apache's log and zkserver's)
 * decoded the way Apache's SerializeUtils.deserializeTxn does, checked
 * before it may be applied to a tree, and printed in the line formats of
 * Apache's TxnLogToolkit (3.6+) and LogFormatter (up to 3.6).
 *
 * Every field is bounds-checked; the bytes may come from any file.
 */
#ifndef ZKTOOL_TXNFMT_H
#define ZKTOOL_TXNFMT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "txn.h"

typedef struct txn_view {
    txn_header hdr;
    const uint8_t *bytes;  /* the whole record (borrowed) */
    size_t len;
    size_t record_at;      /* offset of the txn record (after the header) */
    size_t record_end;     /* offset just past the txn record */
    bool has_record;       /* false: a closeSession without CloseSessionTxn */
    bool v0_create;        /* a CreateTxnV0 (no parentCVersion) */
    bool has_digest;
    int32_t digest_version;
    int64_t digest;        /* TxnDigest.treeDigest */
} txn_view;

/*
 * Decodes a record like SerializeUtils.deserializeTxn (3.8, digests on).
 * Returns NULL, or a static message for a record Apache would refuse
 * (truncated header or record, a type it has no txn for).
 */
const char *txnfmt_parse(const uint8_t *bytes, size_t len, txn_view *t);

/*
 * Checks what txn_apply relies on: valid paths (no create of "/"), ACL
 * lists with non-null scheme and id, multi ops of the types a MultiTxn
 * holds, nothing left over inside a multi op.  Returns NULL or a static
 * message.
 */
const char *txnfmt_check_apply(const txn_view *t);

/*
 * The bytes zkserver logs for this transaction: header + record with no
 * digest, a CreateTxnV0 made a CreateTxn with parentCVersion -1 (as
 * Apache's replay does).  Appended to out.
 */
void txnfmt_zk_payload(const txn_view *t, GByteArray *out);

/* Request.op2String of Apache 3.8. */
const char *txnfmt_op_name(int32_t op, char buf[24]);

/* One TxnLogToolkit line (with its newline; the ACL lists of creates
 * carry the embedded newlines Apache prints); prefix "CRC ERROR" etc. or
 * NULL. */
void txnfmt_toolkit_line(GString *out, const txn_view *t, const char *prefix);
/* One LogFormatter line: the header fields and the txn's Record.toString()
 * without its final newline. */
void txnfmt_logformatter_line(GString *out, const txn_view *t);

#endif
