/*
 * jute.h — bounds-checked readers and writers for Apache ZooKeeper's "jute"
 * binary serialisation (big-endian ints and longs, one-byte booleans,
 * length-prefixed buffers/strings where length -1 means null, and vectors
 * as a count followed by elements).
 *
 * Reading never allocates: strings and buffers come back as views into the
 * caller's buffer.  Any out-of-bounds or malformed read sets a sticky error
 * flag on the reader; callers decode a whole record and then check
 * jr_ok() once.  Writing appends to a growable byte buffer owned by the
 * jute_writer.
 */
#ifndef ZK_JUTE_H
#define ZK_JUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A view of bytes inside someone else's buffer.  len == -1 is jute's null. */
typedef struct jute_view {
    const char *ptr;
    int32_t len;
} jute_view;

typedef struct jute_reader {
    const uint8_t *buf; /* not owned */
    size_t len;
    size_t pos;
    bool err;           /* sticky: set by the first failed read */
} jute_reader;

typedef struct jute_writer {
    uint8_t *buf;       /* owned; g_free'd by jw_free */
    size_t len;
    size_t cap;
} jute_writer;

/* Starts reading len bytes at buf (not copied, must outlive the reader). */
void jr_init(jute_reader *r, const void *buf, size_t len);
/* True while no read has failed. */
static inline bool jr_ok(const jute_reader *r) { return !r->err; }
/* Bytes not yet consumed. */
static inline size_t jr_remaining(const jute_reader *r) { return r->err ? 0 : r->len - r->pos; }
int32_t jr_int(jute_reader *r);
int64_t jr_long(jute_reader *r);
bool jr_bool(jute_reader *r);
/* A length-prefixed byte buffer; the view points into the reader's buffer. */
jute_view jr_buffer(jute_reader *r);
/* Like jr_buffer: jute "ustring" (UTF-8, not NUL-terminated in the view). */
jute_view jr_string(jute_reader *r);
/*
 * A vector's element count.  -1 (null) is returned as -1; any other
 * negative count is an empty vector (0), as Apache's BinaryInputArchive
 * reads it (its index is done once the count is <= 0); a count that cannot
 * possibly fit in the remaining bytes (min_elem_size each) sets the error
 * flag and returns 0, so a hostile count never drives an allocation.
 */
int32_t jr_vector_len(jute_reader *r, size_t min_elem_size);

/* Starts an empty writer with some preallocated room. */
void jw_init(jute_writer *w, size_t initial_cap);
/* Frees the writer's buffer. */
void jw_free(jute_writer *w);
/* Forgets the content but keeps the allocation (for reuse). */
static inline void jw_reset(jute_writer *w) { w->len = 0; }
/* Makes sure n more bytes fit; returns a pointer to them (len unchanged). */
uint8_t *jw_reserve(jute_writer *w, size_t n);
void jw_raw(jute_writer *w, const void *p, size_t n);
void jw_int(jute_writer *w, int32_t v);
void jw_long(jute_writer *w, int64_t v);
void jw_bool(jute_writer *w, bool v);
/* Writes a buffer; p == NULL writes jute's null (length -1). */
void jw_buffer(jute_writer *w, const void *p, int32_t len);
/* Writes a NUL-terminated string; NULL writes jute's null. */
void jw_string(jute_writer *w, const char *s);
void jw_view(jute_writer *w, jute_view v);
/* Overwrites a big-endian int already written at offset off. */
void jw_patch_int(jute_writer *w, size_t off, int32_t v);

/* Big-endian helpers for code that frames bytes itself. */
static inline uint32_t zk_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline void zk_put_be32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = v;
}
static inline uint64_t zk_be64(const uint8_t *p)
{
    return (uint64_t)zk_be32(p) << 32 | zk_be32(p + 4);
}
static inline void zk_put_be64(uint8_t *p, uint64_t v)
{
    zk_put_be32(p, v >> 32); zk_put_be32(p + 4, (uint32_t)v);
}

/* True if the view equals the NUL-terminated string s. */
bool jute_view_eq(jute_view v, const char *s);
/* A freshly g_malloc'd NUL-terminated copy of v (NULL for a null view). */
char *jute_view_dup(jute_view v);

#endif
