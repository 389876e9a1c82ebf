/* jute.c — the jute binary codec primitives (see include/zk/jute.h). */
#include "zk/jute.h"

#include <glib.h>
#include <string.h>

void jr_init(jute_reader *r, const void *buf, size_t len)
{
    r->buf = buf;
    r->len = len;
    r->pos = 0;
    r->err = false;
}

static const uint8_t *take(jute_reader *r, size_t n)
{
    if (r->err || r->len - r->pos < n) {
        r->err = true;
        return NULL;
    }
    const uint8_t *p = r->buf + r->pos;
    r->pos += n;
    return p;
}

int32_t jr_int(jute_reader *r)
{
    const uint8_t *p = take(r, 4);
    return p ? (int32_t)zk_be32(p) : 0;
}

int64_t jr_long(jute_reader *r)
{
    const uint8_t *p = take(r, 8);
    return p ? (int64_t)zk_be64(p) : 0;
}

bool jr_bool(jute_reader *r)
{
    const uint8_t *p = take(r, 1);
    return p ? *p != 0 : false;
}

jute_view jr_buffer(jute_reader *r)
{
    jute_view v = { NULL, -1 };
    int32_t n = jr_int(r);
    if (r->err || n == -1)
        return v;
    if (n < -1) {           /* Apache treats other negatives as errors */
        r->err = true;
        return v;
    }
    const uint8_t *p = take(r, (size_t)n);
    if (!p)
        return v;
    v.ptr = (const char *)p;
    v.len = n;
    return v;
}

jute_view jr_string(jute_reader *r)
{
    return jr_buffer(r);
}

int32_t jr_vector_len(jute_reader *r, size_t min_elem_size)
{
    int32_t n = jr_int(r);
    if (r->err)
        return 0;
    if (n == -1)
        return -1;
    if (n < -1)
        return 0;           /* jute's BinaryIndex: done() once nelems <= 0 */
    if (min_elem_size && (size_t)n > jr_remaining(r) / min_elem_size) {
        r->err = true;
        return 0;
    }
    return n;
}

void jw_init(jute_writer *w, size_t initial_cap)
{
    w->cap = initial_cap ? initial_cap : 64;
    w->buf = g_malloc(w->cap);
    w->len = 0;
}

void jw_free(jute_writer *w)
{
    g_free(w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

uint8_t *jw_reserve(jute_writer *w, size_t n)
{
    if (w->cap - w->len < n) {
        size_t cap = w->cap ? w->cap : 64;
        while (cap - w->len < n)
            cap *= 2;
        w->buf = g_realloc(w->buf, cap);
        w->cap = cap;
    }
    return w->buf + w->len;
}

void jw_raw(jute_writer *w, const void *p, size_t n)
{
    if (n == 0)
        return;
    memcpy(jw_reserve(w, n), p, n);
    w->len += n;
}

void jw_int(jute_writer *w, int32_t v)
{
    zk_put_be32(jw_reserve(w, 4), (uint32_t)v);
    w->len += 4;
}

void jw_long(jute_writer *w, int64_t v)
{
    zk_put_be64(jw_reserve(w, 8), (uint64_t)v);
    w->len += 8;
}

void jw_bool(jute_writer *w, bool v)
{
    *jw_reserve(w, 1) = v ? 1 : 0;
    w->len += 1;
}

void jw_buffer(jute_writer *w, const void *p, int32_t len)
{
    if (len < 0 || (!p && len > 0)) {
        jw_int(w, -1);
        return;
    }
    jw_int(w, len);
    jw_raw(w, p, (size_t)len);
}

void jw_string(jute_writer *w, const char *s)
{
    if (!s) {
        jw_int(w, -1);
        return;
    }
    jw_buffer(w, s, (int32_t)strlen(s));
}

void jw_view(jute_writer *w, jute_view v)
{
    jw_buffer(w, v.ptr, v.len);
}

void jw_patch_int(jute_writer *w, size_t off, int32_t v)
{
    g_assert(off + 4 <= w->len);
    zk_put_be32(w->buf + off, (uint32_t)v);
}

bool jute_view_eq(jute_view v, const char *s)
{
    if (v.len < 0)
        return s == NULL;
    return s && strlen(s) == (size_t)v.len && memcmp(v.ptr, s, (size_t)v.len) == 0;
}

char *jute_view_dup(jute_view v)
{
    if (v.len < 0)
        return NULL;
    return g_strndup(v.ptr ? v.ptr : "", (gsize)v.len);
}
