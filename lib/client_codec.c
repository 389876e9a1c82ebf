/*
 * client_codec.c — the client library's wire records: request frames and
 * bodies (create, ACLs, multi), bounds-checked decoding of reply bodies
 * into a zkc_result backed by a per-reply arena, and deep copies of results
 * for the synchronous wrappers.
 */
#include <string.h>

#include "client_internal.h"

/* ---- arena ---- */

void zkc_arena_init(zkc_arena *a)
{
    a->cur = a->inline_buf;
    a->left = sizeof a->inline_buf;
    a->chunks = NULL;
}

void *zkc_arena_alloc(zkc_arena *a, size_t n)
{
    const size_t align = _Alignof(max_align_t);
    size_t pad = (align - ((uintptr_t)a->cur & (align - 1))) & (align - 1);
    if (pad + n > a->left) {
        size_t size = n + align > 8192 ? n + align : 8192;
        char *chunk = g_malloc(size);
        a->chunks = g_slist_prepend(a->chunks, chunk);
        a->cur = chunk;      /* g_malloc returns max-aligned memory */
        a->left = size;
        pad = 0;
    }
    char *p = a->cur + pad;
    a->cur = p + n;
    a->left -= pad + n;
    return p;
}

char *zkc_arena_strdup(zkc_arena *a, jute_view v, size_t skip_prefix)
{
    if (v.len < 0 || v.ptr == NULL)
        return NULL;
    size_t len = (size_t)v.len;
    const char *src = v.ptr;
    if (skip_prefix > 0 && len >= skip_prefix) {
        src += skip_prefix;
        len -= skip_prefix;
        if (len == 0) {          /* the chroot itself is "/" to the caller */
            src = "/";
            len = 1;
        }
    }
    char *s = zkc_arena_alloc(a, len + 1);
    memcpy(s, src, len);
    s[len] = '\0';
    return s;
}

void zkc_arena_clear(zkc_arena *a)
{
    g_slist_free_full(a->chunks, g_free);
    zkc_arena_init(a);
}

/* ---- request encoding ---- */

void zkc_frame_begin(jute_writer *w, int32_t xid, int32_t op)
{
    jw_int(w, 0);            /* length, patched by zkc_frame_end */
    jw_int(w, xid);
    jw_int(w, op);
}

void zkc_frame_end(jute_writer *w)
{
    jw_patch_int(w, 0, (int32_t)(w->len - 4));
}

void zkc_write_path(jute_writer *w, const char *chroot, const char *path)
{
    if (chroot == NULL) {
        jw_string(w, path);
        return;
    }
    size_t clen = strlen(chroot);
    size_t plen = strcmp(path, "/") == 0 ? 0 : strlen(path);
    jw_int(w, (int32_t)(clen + plen));
    jw_raw(w, chroot, clen);
    jw_raw(w, path, plen);
}

char *zkc_full_path(const char *chroot, const char *path)
{
    if (chroot == NULL)
        return g_strdup(path);
    if (strcmp(path, "/") == 0)
        return g_strdup(chroot);
    return g_strconcat(chroot, path, NULL);
}

static const zkc_acl_entry open_entries[] = { { ZK_PERM_ALL, "world", "anyone" } };
static const zkc_acl_entry read_entries[] = { { ZK_PERM_READ, "world", "anyone" } };
static const zkc_acl_entry creator_entries[] = { { ZK_PERM_ALL, "auth", "" } };
const zkc_acl zkc_acl_open_unsafe = { 1, open_entries };
const zkc_acl zkc_acl_read_unsafe = { 1, read_entries };
const zkc_acl zkc_acl_creator_all = { 1, creator_entries };

void zkc_write_acl(jute_writer *w, const zkc_acl *acl)
{
    if (acl == NULL)
        acl = &zkc_acl_open_unsafe;
    jw_int(w, (int32_t)acl->count);
    for (size_t i = 0; i < acl->count; i++) {
        jw_int(w, acl->entries[i].perms);
        jw_string(w, acl->entries[i].scheme ? acl->entries[i].scheme : "");
        jw_string(w, acl->entries[i].id ? acl->entries[i].id : "");
    }
}

int32_t zkc_create_opcode(int32_t flags)
{
    switch (flags) {
    case ZK_CREATE_CONTAINER:
        return ZK_OP_CREATECONTAINER;
    case ZK_CREATE_PERSISTENT_WITH_TTL:
    case ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL:
        return ZK_OP_CREATETTL;
    default:
        return ZK_OP_CREATE2;
    }
}

void zkc_write_create(jute_writer *w, int32_t op, const char *chroot, const char *path,
                      const void *data, int32_t len, const zkc_acl *acl, int32_t flags,
                      int64_t ttl)
{
    zkc_write_path(w, chroot, path);
    jw_buffer(w, data, data ? len : -1);
    zkc_write_acl(w, acl);
    jw_int(w, flags);
    if (op == ZK_OP_CREATETTL)
        jw_long(w, ttl);
}

bool zkc_write_multi(jute_writer *w, const char *chroot, const zkc_op *ops, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const zkc_op *op = &ops[i];
        if (op->path == NULL || op->path[0] != '/')
            return false;
        switch (op->type) {
        case ZK_OP_CREATE:
        case ZK_OP_CREATE2:
        case ZK_OP_CREATECONTAINER:
        case ZK_OP_CREATETTL: {
            int32_t code = zkc_create_opcode(op->flags);
            jw_int(w, code);
            jw_bool(w, false);
            jw_int(w, -1);
            zkc_write_create(w, code, chroot, op->path, op->data, op->data_len, op->acl,
                             op->flags, op->ttl);
            break;
        }
        case ZK_OP_DELETE:
        case ZK_OP_CHECK:
            jw_int(w, op->type);
            jw_bool(w, false);
            jw_int(w, -1);
            zkc_write_path(w, chroot, op->path);
            jw_int(w, op->version);
            break;
        case ZK_OP_SETDATA:
            jw_int(w, op->type);
            jw_bool(w, false);
            jw_int(w, -1);
            zkc_write_path(w, chroot, op->path);
            jw_buffer(w, op->data, op->data ? op->data_len : -1);
            jw_int(w, op->version);
            break;
        default:
            return false;
        }
    }
    jw_int(w, -1);
    jw_bool(w, true);
    jw_int(w, -1);
    return true;
}

/* ---- reply decoding ---- */

const char *zkc_strip_chroot(const char *chroot, const char *path)
{
    if (chroot == NULL || path == NULL)
        return path;
    size_t clen = strlen(chroot);
    if (strncmp(path, chroot, clen) != 0 || (path[clen] != '\0' && path[clen] != '/'))
        return path;
    return path[clen] == '\0' ? "/" : path + clen;
}

static size_t chroot_skip(const char *chroot, jute_view v)
{
    if (chroot == NULL || v.len < 0)
        return 0;
    size_t clen = strlen(chroot);
    if ((size_t)v.len < clen || memcmp(v.ptr, chroot, clen) != 0)
        return 0;
    if ((size_t)v.len > clen && v.ptr[clen] != '/')
        return 0;
    return clen;
}

/* A vector of strings as a NULL-terminated array in the arena. */
static bool read_string_vector(jute_reader *r, zkc_arena *a, const char *chroot,
                               const char *const **out, size_t *n_out)
{
    int32_t count = jr_vector_len(r, 4);
    if (!jr_ok(r))
        return false;
    if (count < 0)
        count = 0;
    const char **names = zkc_arena_alloc(a, ((size_t)count + 1) * sizeof *names);
    for (int32_t i = 0; i < count; i++) {
        jute_view v = jr_string(r);
        if (!jr_ok(r) || v.len < 0)
            return false;
        names[i] = zkc_arena_strdup(a, v, chroot_skip(chroot, v));
    }
    names[count] = NULL;
    *out = names;
    *n_out = (size_t)count;
    return true;
}

static bool read_acl_vector(jute_reader *r, zkc_arena *a, bool with_perms,
                            const zkc_acl_entry **out, size_t *n_out)
{
    int32_t count = jr_vector_len(r, with_perms ? 12 : 8);
    if (!jr_ok(r))
        return false;
    if (count < 0)
        count = 0;
    zkc_acl_entry *entries = zkc_arena_alloc(a, ((size_t)count + 1) * sizeof *entries);
    for (int32_t i = 0; i < count; i++) {
        entries[i].perms = with_perms ? jr_int(r) : 0;
        jute_view scheme = jr_string(r), id = jr_string(r);
        if (!jr_ok(r))
            return false;
        entries[i].scheme = scheme.len >= 0 ? zkc_arena_strdup(a, scheme, 0) : "";
        entries[i].id = id.len >= 0 ? zkc_arena_strdup(a, id, 0) : "";
    }
    *out = entries;
    *n_out = (size_t)count;
    return true;
}

static bool read_multi(jute_reader *r, zkc_arena *a, const char *chroot, zkc_result *res)
{
    /* Each op result takes at least a 9-byte header: bounds the count. */
    size_t cap = jr_remaining(r) / 9 + 1;
    zkc_op_result *ops = zkc_arena_alloc(a, cap * sizeof *ops);
    size_t n = 0;
    res->err = ZOK;
    for (;;) {
        zk_multi_header h;
        if (!zk_multi_header_read(r, &h))
            return false;
        if (h.done)
            break;
        if (n >= cap)
            return false;
        zkc_op_result *op = &ops[n++];
        memset(op, 0, sizeof *op);
        op->type = h.type;
        switch (h.type) {
        case ZK_OP_CREATE: {
            jute_view p = jr_string(r);
            op->path = zkc_arena_strdup(a, p, chroot_skip(chroot, p));
            break;
        }
        case ZK_OP_CREATE2: {
            jute_view p = jr_string(r);
            op->path = zkc_arena_strdup(a, p, chroot_skip(chroot, p));
            op->has_stat = zk_stat_read(r, &op->stat);
            break;
        }
        case ZK_OP_SETDATA:
            op->has_stat = zk_stat_read(r, &op->stat);
            break;
        case ZK_OP_DELETE:
        case ZK_OP_CHECK:
            break;
        case ZK_OP_ERROR:
            op->err = jr_int(r);
            if (op->err != ZOK && op->err != ZRUNTIMEINCONSISTENCY && res->err == ZOK)
                res->err = op->err;
            break;
        default:
            return false;    /* reads (getData/getChildren) are never sent */
        }
        if (!jr_ok(r))
            return false;
    }
    /* All ops rolled back with only ZRUNTIMEINCONSISTENCY: report that. */
    if (res->err == ZOK)
        for (size_t i = 0; i < n; i++)
            if (ops[i].err != ZOK) {
                res->err = ops[i].err;
                break;
            }
    res->ops = ops;
    res->n_ops = n;
    return true;
}

bool zkc_decode_reply(int32_t op, jute_reader *r, zkc_arena *a, const char *chroot,
                      zkc_result *res)
{
    switch (op) {
    case ZK_OP_CREATE:
    case ZK_OP_CREATE2:
    case ZK_OP_CREATECONTAINER:
    case ZK_OP_CREATETTL: {
        jute_view p = jr_string(r);
        if (!jr_ok(r) || p.len < 0)
            return false;
        res->path = zkc_arena_strdup(a, p, chroot_skip(chroot, p));
        if (op != ZK_OP_CREATE)
            res->has_stat = zk_stat_read(r, &res->stat);
        break;
    }
    case ZK_OP_EXISTS:
    case ZK_OP_SETDATA:
    case ZK_OP_SETACL:
        res->has_stat = zk_stat_read(r, &res->stat);
        break;
    case ZK_OP_GETDATA: {
        jute_view d = jr_buffer(r);
        res->has_stat = zk_stat_read(r, &res->stat);
        res->data = d.len >= 0 ? d.ptr : NULL;
        res->data_len = d.len >= 0 ? d.len : -1;
        break;
    }
    case ZK_OP_GETACL:
        if (!read_acl_vector(r, a, true, &res->acl, &res->n_acl))
            return false;
        res->has_stat = zk_stat_read(r, &res->stat);
        break;
    case ZK_OP_GETCHILDREN:
        return read_string_vector(r, a, NULL, &res->children, &res->n_children);
    case ZK_OP_GETCHILDREN2:
        if (!read_string_vector(r, a, NULL, &res->children, &res->n_children))
            return false;
        res->has_stat = zk_stat_read(r, &res->stat);
        break;
    case ZK_OP_GETEPHEMERALS:
        return read_string_vector(r, a, chroot, &res->children, &res->n_children);
    case ZK_OP_SYNC: {
        jute_view p = jr_string(r);
        if (!jr_ok(r))
            return false;
        res->path = zkc_arena_strdup(a, p, chroot_skip(chroot, p));
        break;
    }
    case ZK_OP_MULTI:
        return read_multi(r, a, chroot, res);
    case ZK_OP_MULTIREAD:
        return zkc_decode_multi_read(r, a, res);
    case ZK_OP_GETALLCHILDRENNUMBER:
        res->number = jr_int(r);
        break;
    case ZK_OP_WHOAMI:
        return read_acl_vector(r, a, false, &res->acl, &res->n_acl);
    default:                /* delete, addWatch, removeWatches, closeSession: no body */
        break;
    }
    return jr_ok(r);
}

bool zkc_decode_names(jute_reader *r, zkc_arena *a, const char *const **out, size_t *n_out)
{
    return read_string_vector(r, a, NULL, out, n_out);
}

/* ---- deep copies for the synchronous wrappers ---- */

zkc_acl *zkc_acl_copy(const zkc_acl_entry *entries, size_t n)
{
    size_t bytes = sizeof(zkc_acl) + n * sizeof(zkc_acl_entry);
    for (size_t i = 0; i < n; i++)
        bytes += strlen(entries[i].scheme) + strlen(entries[i].id) + 2;
    char *block = g_malloc(bytes);
    zkc_acl *acl = (zkc_acl *)block;
    zkc_acl_entry *copy = (zkc_acl_entry *)(block + sizeof(zkc_acl));
    char *strings = (char *)(copy + n);
    for (size_t i = 0; i < n; i++) {
        copy[i].perms = entries[i].perms;
        size_t ls = strlen(entries[i].scheme) + 1, li = strlen(entries[i].id) + 1;
        memcpy(strings, entries[i].scheme, ls);
        copy[i].scheme = strings;
        strings += ls;
        memcpy(strings, entries[i].id, li);
        copy[i].id = strings;
        strings += li;
    }
    acl->count = n;
    acl->entries = copy;
    return acl;
}

zkc_op_result *zkc_op_results_copy(const zkc_op_result *ops, size_t n)
{
    zkc_op_result *copy = g_new0(zkc_op_result, n > 0 ? n : 1);
    for (size_t i = 0; i < n; i++) {
        copy[i] = ops[i];
        copy[i].path = g_strdup(ops[i].path);
    }
    return copy;
}

void zkc_op_results_free(zkc_op_result *results, size_t n)
{
    if (results == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        g_free((char *)results[i].path);
    g_free(results);
}

GPtrArray *zkc_names_copy(const char *const *names, size_t n)
{
    GPtrArray *arr = g_ptr_array_new_full((guint)n, g_free);
    for (size_t i = 0; i < n; i++)
        g_ptr_array_add(arr, g_strdup(names[i]));
    return arr;
}
