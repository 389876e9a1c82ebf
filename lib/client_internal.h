/*
 * client_internal.h — pieces shared by the client library's files
 * (lib/client.c: handle and I/O thread; lib/client_codec.c: request
 * encoding, reply decoding, result copies; lib/client_sync.c: synchronous
 * wrappers).  Not a public header.
 */
#ifndef ZK_CLIENT_INTERNAL_H
#define ZK_CLIENT_INTERNAL_H

#include "zk/client.h"
#include "zk/jute.h"
#include "zk/proto.h"

/*
 * A bump allocator for one reply's decoded result: strings, pointer arrays
 * and multi results are carved from an inline buffer and, if that is not
 * enough, from a few g_malloc'd chunks.  Everything is released at once by
 * zkc_arena_clear after the completion callback returned.
 */
typedef struct zkc_arena {
    char *cur;              /* next free byte (in inline_buf or a chunk) */
    size_t left;            /* bytes free at cur */
    GSList *chunks;         /* g_malloc'd overflow chunks, owned */
    _Alignas(max_align_t) char inline_buf[2048];
} zkc_arena;

/* Starts an empty arena (no allocation). */
void zkc_arena_init(zkc_arena *a);
/* n bytes aligned for any type; never fails (g_malloc aborts on OOM). */
void *zkc_arena_alloc(zkc_arena *a, size_t n);
/* A NUL-terminated copy of v in the arena (NULL for a null view). */
char *zkc_arena_strdup(zkc_arena *a, jute_view v, size_t skip_prefix);
/* Frees the overflow chunks; the arena can be reused after zkc_arena_init. */
void zkc_arena_clear(zkc_arena *a);

/* Starts a request frame: length placeholder, xid placeholder (patched by
 * the submitter) and opcode. */
void zkc_frame_begin(jute_writer *w, int32_t xid, int32_t op);
/* Patches the frame's length prefix once the body is written. */
void zkc_frame_end(jute_writer *w);
/* Writes a ZooKeeper path: chroot (may be NULL) followed by path; a bare
 * "/" under a chroot is the chroot itself. */
void zkc_write_path(jute_writer *w, const char *chroot, const char *path);
/* The same path as a g_malloc'd string (caller g_free's it). */
char *zkc_full_path(const char *chroot, const char *path);
/* Writes an ACL vector (NULL = world:anyone ALL). */
void zkc_write_acl(jute_writer *w, const zkc_acl *acl);
/* Writes a create body (path, data, acl, flags[, ttl]) for opcode op. */
void zkc_write_create(jute_writer *w, int32_t op, const char *chroot, const char *path,
                      const void *data, int32_t len, const zkc_acl *acl, int32_t flags,
                      int64_t ttl);
/* The create opcode for a create mode: CREATE2, CREATECONTAINER or CREATETTL. */
int32_t zkc_create_opcode(int32_t flags);
/* Writes a MultiRequest body (ops then the end marker).  Returns false on
 * a bad op type. */
bool zkc_write_multi(jute_writer *w, const char *chroot, const zkc_op *ops, size_t n);

/* Writes a multiRead body (lib/client_multiread.c): the reads then the end
 * marker.  Returns false on a read type other than getData/getChildren. */
bool zkc_write_multi_read(jute_writer *w, const char *chroot, const zkc_read_op *ops, size_t n);
/* Decodes a multiRead reply body into res->reads (arena).  False if
 * malformed. */
bool zkc_decode_multi_read(jute_reader *r, zkc_arena *a, zkc_result *res);
/* Decodes a vector of strings (names, no chroot) into the arena as a
 * NULL-terminated array (lib/client_codec.c).  False if malformed. */
bool zkc_decode_names(jute_reader *r, zkc_arena *a, const char *const **out, size_t *n_out);

/*
 * Decodes the body of a successful reply to a request with opcode op into
 * res (strings and arrays in the arena; data points into the frame, which
 * must outlive the use of res).  The chroot (NULL for none) is removed
 * from returned paths that start with it.  Returns false if the body is
 * malformed.
 */
bool zkc_decode_reply(int32_t op, jute_reader *r, zkc_arena *a, const char *chroot,
                      zkc_result *res);
/* A path with the chroot removed, as a pointer into path (or "/"). */
const char *zkc_strip_chroot(const char *chroot, const char *path);

/* A deep, g_malloc'd copy of an ACL/id list (one block; g_free). */
zkc_acl *zkc_acl_copy(const zkc_acl_entry *entries, size_t n);
/* A deep, g_malloc'd copy of multi results (free with zkc_op_results_free). */
zkc_op_result *zkc_op_results_copy(const zkc_op_result *ops, size_t n);
/* A GPtrArray (free func g_free) holding copies of names. */
GPtrArray *zkc_names_copy(const char *const *names, size_t n);

/* The handle's request_timeout_ms (immutable after zkc_open). */
int zkc_request_timeout_ms(const zkc *zk);
/* True when called on the handle's I/O thread (from a callback). */
bool zkc_on_io_thread(const zkc *zk);

/*
 * The seam for driving a handle in process (the fuzz harness of
 * test/fuzz/fuzz_client_lib.c): a handle without its I/O thread and
 * without a socket, whose caller does what the I/O thread does, on its own
 * thread (every callback runs there).  zkc_unthreaded_connect starts a
 * connection attempt (the ConnectRequest is queued as output);
 * zkc_unthreaded_receive hands it bytes as if read from the socket;
 * zkc_unthreaded_output moves queued requests out (as a write would) and
 * appends every byte the client would send to `sent`; zkc_unthreaded_idle
 * says the connection is gone (a new attempt may start);
 * zkc_unthreaded_free completes what is outstanding with ZCLOSING and frees
 * the handle (instead of zkc_close).
 */
zkc *zkc_open_unthreaded(const zkc_options *opts, char **err);
void zkc_unthreaded_connect(zkc *zk);
void zkc_unthreaded_receive(zkc *zk, const uint8_t *p, size_t n);
void zkc_unthreaded_output(zkc *zk, GByteArray *sent);
bool zkc_unthreaded_idle(const zkc *zk);
void zkc_unthreaded_free(zkc *zk);

#endif
