/*
 * reqpool.h — recycled memory for the two objects every request makes:
 * the zk_request with its body, and a write's change record with its path
 * (issue 13, docs/perf-notes.md change 4).  Each comes as one block with
 * room for a small body or path in its tail, so the common request costs
 * no malloc at all once the pool is warm.  Free blocks are kept up to a
 * bound (REQPOOL_KEEP each) so memory returns after a burst; under
 * AddressSanitizer nothing is kept, so use-after-free is still caught.
 * The pool is the event loop thread's: never call these from another one.
 */
#ifndef ZK_REQPOOL_H
#define ZK_REQPOOL_H

#include <stddef.h>
#include <stdint.h>

#include "request.h"

/* A zeroed zk_request whose body buffer can hold len bytes: *body points
 * at it (inside the block when len is small, else a separate allocation
 * owned by the request), or is NULL when len is 0.  Free with
 * reqpool_free_request. */
zk_request *reqpool_new_request(size_t len, uint8_t **body);
/* Frees req's block and body (not what req references: the caller drops
 * the connection, auth, op and txn first).  req may be NULL. */
void reqpool_free_request(zk_request *req);
/* A zeroed change_rec whose path is a copy of path (NUL-terminated).
 * Free with reqpool_free_change. */
change_rec *reqpool_new_change(const char *path);
/* Frees cr's block and path (not its acl reference).  cr may be NULL. */
void reqpool_free_change(change_rec *cr);
/* Gives every kept free block back to malloc (shutdown, tests). */
void reqpool_trim(void);

#endif
