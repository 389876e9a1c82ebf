/*
 * txn.h — transactions: the unit the log stores, Zab replicates and every
 * replica applies in zxid order.  A transaction is encoded exactly like
 * Apache ZooKeeper's TxnHeader followed by the txn record (CreateTxn,
 * DeleteTxn, SetDataTxn, SetACLTxn, CheckVersionTxn, CreateSessionTxn,
 * CloseSessionTxn, ErrorTxn, MultiTxn, CreateContainerTxn, CreateTTLTxn).
 *
 * txn_apply() is the only way state changes: the tree, the session table
 * and the watches are updated, and a txn_result says what the client gets.
 */
#ifndef ZK_TXN_H
#define ZK_TXN_H

#include <glib.h>
#include <stdint.h>

#include "session.h"
#include "tree.h"
#include "zk/jute.h"
#include "zk/proto.h"

typedef struct txn_header {
    int64_t client_id;  /* session id */
    int32_t cxid;       /* the client's xid */
    int64_t zxid;
    int64_t time;       /* wall-clock ms */
    int32_t type;       /* opcode, or ZK_OP_ERROR */
} txn_header;

/* The outcome of applying one transaction (or one op of a multi). */
typedef struct txn_result {
    int32_t type;       /* opcode as applied (ZK_OP_ERROR for failed ops) */
    int32_t err;
    char *path;         /* owned, may be NULL */
    bool has_stat;
    zk_stat stat;
    GArray *multi;      /* of txn_result, for ZK_OP_MULTI; owned */
} txn_result;

void txn_header_write(jute_writer *w, const txn_header *h);
bool txn_header_read(jute_reader *r, txn_header *h);

/* Frees what a result owns (not the struct itself). */
void txn_result_clear(txn_result *res);

/* Context that applying needs besides the tree. */
typedef struct txn_ctx {
    zk_tree *tree;
    session_table *sessions;
    int64_t now_ms;          /* monotonic, for new session deadlines */
    /* Called when a closeSession txn has removed a session (may be NULL). */
    void (*session_closed)(void *ctx, int64_t session_id);
    void *cb_ctx;
} txn_ctx;

/*
 * Applies an encoded transaction (header + record).  Fills *res (caller
 * clears it).  Returns false only if the bytes are not a valid transaction;
 * errors of the operation itself (e.g. ZNONODE on replay) are in res->err.
 */
bool txn_apply(txn_ctx *ctx, const uint8_t *buf, size_t len, txn_result *res);

#endif
