/* apache_fmt.c — Apache ZooKeeper's log and snapshot files (see apache_fmt.h). */
#include "apache_fmt.h"

#include <string.h>

#include "checksum.h"
#include "jtext.h"
#include "walk.h"
#include "zk/path.h"

bool apache_header_read(const uint8_t *buf, size_t len, apache_file_header *h)
{
    if (len < APACHE_FILE_HEADER_SIZE)
        return false;
    h->magic = zk_be32(buf);
    h->version = (int32_t)zk_be32(buf + 4);
    h->dbid = (int64_t)zk_be64(buf + 8);
    return true;
}

/* ---- transaction log --------------------------------------------------- */

void apache_log_reader_init(apache_log_reader *r, const uint8_t *buf, size_t len, size_t max_buffer)
{
    r->buf = buf;
    r->len = len;
    r->pos = len < APACHE_FILE_HEADER_SIZE ? len : APACHE_FILE_HEADER_SIZE;
    r->max_buffer = max_buffer;
}

apache_log_status apache_log_next(apache_log_reader *r, apache_log_record *rec)
{
    memset(rec, 0, sizeof *rec);
    size_t pos = r->pos;
    rec->offset = pos;
    /* FileTxnIterator: readLong(crc), readBuffer (an int length, then the
     * bytes; 0 or -1 ends the file), readByte == 'B'. */
    if (r->len - pos < 12)
        return APACHE_LOG_END;
    rec->checksum = (int64_t)zk_be64(r->buf + pos);
    int32_t n = (int32_t)zk_be32(r->buf + pos + 8);
    if (n == 0 || n == -1)
        return APACHE_LOG_END;
    if (n < 0 || (size_t)n > r->max_buffer) {
        rec->bad_length = n;
        return APACHE_LOG_BAD_LENGTH;
    }
    size_t left = r->len - pos - 12;
    if (left < (size_t)n + 1)
        return APACHE_LOG_TORN;
    rec->data = r->buf + pos + 12;
    rec->len = (size_t)n;
    if (r->buf[pos + 12 + (size_t)n] != 'B')
        return APACHE_LOG_BAD_EOR;
    rec->checksum_ok = rec->checksum == (int64_t)zt_adler32(1, rec->data, rec->len);
    r->pos = pos + 12 + (size_t)n + 1;
    return APACHE_LOG_RECORD;
}

void apache_log_write_header(jute_writer *w, uint32_t magic, int64_t dbid)
{
    jw_int(w, (int32_t)magic);
    jw_int(w, APACHE_FORMAT_VERSION);
    jw_long(w, dbid);
}

void apache_log_write_record(jute_writer *w, const void *txn, size_t len)
{
    jw_long(w, (int64_t)zt_adler32(1, txn, len));
    jw_buffer(w, txn, (int32_t)len);
    uint8_t eor = 'B';
    jw_raw(w, &eor, 1);
}

/* ---- snapshot decoding ------------------------------------------------- */

/* A string or buffer within BinaryInputArchive's length limit. */
static bool view_ok(jute_reader *r, jute_view v, size_t max_buffer)
{
    if (v.len > 0 && (size_t)v.len > max_buffer)
        r->err = true;
    return jr_ok(r);
}

/* The Adler-32 seal: checksum of everything before it, then the string
 * "/" (read, not compared, as SnapStream.checkSealIntegrity). */
static bool read_seal(jute_reader *r, uint32_t *computed, int64_t *stored)
{
    *computed = zt_adler32(1, r->buf, r->pos);
    *stored = jr_long(r);
    (void)jr_string(r);
    return jr_ok(r);
}

void apache_snapshot_clear(apache_snapshot *s)
{
    if (s->sessions)
        g_array_free(s->sessions, TRUE);
    if (s->acls)
        g_array_free(s->acls, TRUE);
    if (s->nodes)
        g_array_free(s->nodes, TRUE);
    memset(s, 0, sizeof *s);
}

static bool fail(char **err, const jute_reader *r, const char *what)
{
    *err = g_strdup_printf("%s at offset %zu", what, r->pos);
    return false;
}

bool apache_snap_decode(const uint8_t *buf, size_t len, size_t max_buffer, apache_snapshot *s,
                        char **err)
{
    memset(s, 0, sizeof *s);
    *err = NULL;
    if (!apache_header_read(buf, len, &s->header)) {
        *err = g_strdup("too short for a file header");
        return false;
    }
    if (s->header.magic != APACHE_SNAP_MAGIC) {
        *err = g_strdup_printf("bad magic 0x%08x (expected \"ZKSN\")", s->header.magic);
        return false;
    }
    jute_reader r;
    jr_init(&r, buf, len);
    r.pos = APACHE_FILE_HEADER_SIZE;
    s->sessions = g_array_new(FALSE, FALSE, sizeof(snap_session));
    s->acls = g_array_new(FALSE, FALSE, sizeof(apache_acl_entry));
    s->nodes = g_array_new(FALSE, FALSE, sizeof(apache_snap_node));

    /* Sessions: while (count > 0) { id, timeout }. */
    int32_t count = jr_int(&r);
    if (jr_ok(&r) && count > 0 && (size_t)count > jr_remaining(&r) / 12)
        return fail(err, &r, "session count larger than the file");
    for (int32_t i = 0; i < count && jr_ok(&r); i++) {
        snap_session e;
        e.id = jr_long(&r);
        e.timeout = jr_int(&r);
        g_array_append_val(s->sessions, e);
    }
    if (!jr_ok(&r))
        return fail(err, &r, "truncated session table");

    /* The ACL cache: count, then (long id, vector<ACL>) pairs. */
    count = jr_int(&r);
    if (jr_ok(&r) && count > 0 && (size_t)count > jr_remaining(&r) / 12)
        return fail(err, &r, "ACL map count larger than the file");
    for (int32_t i = 0; i < count && jr_ok(&r); i++) {
        apache_acl_entry e;
        e.id = jr_long(&r);
        size_t vec_at = r.pos;
        int32_t n = jr_vector_len(&r, 12);
        if (!jr_ok(&r))
            break;
        if (n < 0)
            return fail(err, &r, "null ACL list in the ACL map");
        for (int32_t k = 0; k < n && jr_ok(&r); k++) {
            zk_acl a;
            zk_acl_read(&r, &a);
            if (jr_ok(&r) && (a.id.scheme.len < 0 || a.id.id.len < 0))
                return fail(err, &r, "null scheme or id in an ACL");
            view_ok(&r, a.id.scheme, max_buffer);
            view_ok(&r, a.id.id, max_buffer);
        }
        e.acls.count = n;
        e.acls.raw.ptr = (const char *)buf + vec_at + 4;
        e.acls.raw.len = (int32_t)(r.pos - vec_at - 4);
        g_array_append_val(s->acls, e);
    }
    if (!jr_ok(&r))
        return fail(err, &r, "truncated ACL map");

    /* Nodes until the path "/". */
    for (;;) {
        size_t at = r.pos;
        apache_snap_node n;
        n.path = jr_string(&r);
        if (!view_ok(&r, n.path, max_buffer)) {
            r.pos = at;
            return fail(err, &r, "truncated node list (no \"/\" end marker)");
        }
        if (n.path.len < 0)
            return fail(err, &r, "null node path");
        if (n.path.len == 1 && n.path.ptr[0] == '/')
            break;
        n.data = jr_buffer(&r);
        view_ok(&r, n.data, max_buffer);
        n.acl = jr_long(&r);
        n.czxid = jr_long(&r);
        n.mzxid = jr_long(&r);
        n.ctime = jr_long(&r);
        n.mtime = jr_long(&r);
        n.version = jr_int(&r);
        n.cversion = jr_int(&r);
        n.aversion = jr_int(&r);
        n.ephemeral_owner = jr_long(&r);
        n.pzxid = jr_long(&r);
        if (!jr_ok(&r)) {
            r.pos = at;
            return fail(err, &r, "truncated node");
        }
        g_array_append_val(s->nodes, n);
    }
    if (!read_seal(&r, &s->seal_computed, &s->seal_stored))
        return fail(err, &r, "truncated checksum seal");
    s->end = r.pos;

    /* Optional sections (each sealed again): the ZxidDigest (3.6+) and
     * the last processed zxid (3.9).  A short section counts as absent,
     * as Apache's EOFException handling does. */
    jute_reader d = r;
    int64_t dz = jr_long(&d);
    int32_t dv = jr_int(&d);
    int64_t dg = 0;
    if (dv < 2) {
        jute_view hex = jr_string(&d);
        if (jr_ok(&d) && hex.len > 0) {
            char *text = g_strndup(hex.ptr, (gsize)hex.len);
            dg = (int64_t)g_ascii_strtoull(text, NULL, 16);
            g_free(text);
        }
    } else {
        dg = jr_long(&d);
    }
    uint32_t computed;
    int64_t stored;
    if (jr_ok(&d) && read_seal(&d, &computed, &stored)) {
        s->has_digest = true;
        s->digest_zxid = dz;
        s->digest_version = dv;
        s->digest = dg;
        s->digest_seal_ok = stored == (int64_t)computed;
        s->end = d.pos;
        jute_reader z = d;
        int64_t last = jr_long(&z);
        if (jr_ok(&z) && read_seal(&z, &computed, &stored) && stored == (int64_t)computed) {
            s->has_last_zxid = true;
            s->last_processed_zxid = last;
            s->end = z.pos;
        }
    }
    return true;
}

/* ---- snapshot -> zkserver body ----------------------------------------- */

/* OPEN_ACL_UNSAFE as a vector<ACL> body (count written separately). */
static void write_open_acl(jute_writer *w)
{
    jw_int(w, 1);
    jw_int(w, ZK_PERM_ALL);
    jw_string(w, "world");
    jw_string(w, "anyone");
}

bool apache_snap_to_body(const apache_snapshot *s, jute_writer *body, char **err)
{
    *err = NULL;
    GHashTable *acl_by_id = g_hash_table_new(g_int64_hash, g_int64_equal);
    for (guint i = 0; i < s->acls->len; i++) {
        apache_acl_entry *e = &g_array_index(s->acls, apache_acl_entry, i);
        g_hash_table_insert(acl_by_id, &e->id, e);
    }
    GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    size_t count_at = body->len;
    jw_int(body, 0);
    int32_t written = 0;
    bool ok = true;
    for (guint i = 0; i < s->nodes->len && ok; i++) {
        const apache_snap_node *n = &g_array_index(s->nodes, apache_snap_node, i);
        char *path = jute_view_dup(n->path);
        if (n->path.len == 0) {
            g_free(path);
            path = g_strdup("/");
        } else if (!zk_path_valid(n->path.ptr, (size_t)n->path.len)) {
            *err = g_strdup_printf("node %u has an invalid path", i);
            ok = false;
        } else {
            const char *slash = strrchr(path, '/');
            char *parent = slash == path ? g_strdup("/") : g_strndup(path, (gsize)(slash - path));
            if (!g_hash_table_contains(seen, parent)) {
                *err = g_strdup_printf("invalid data tree: the parent of %s is not before it", path);
                ok = false;
            }
            g_free(parent);
        }
        const apache_acl_entry *acl = NULL;
        if (ok && n->acl != -1 && !(acl = g_hash_table_lookup(acl_by_id, &n->acl))) {
            *err = g_strdup_printf("node %s refers to ACL %" G_GINT64_FORMAT
                                   ", which is not in the ACL map", path, n->acl);
            ok = false;
        }
        if (ok) {
            jw_string(body, path);
            jw_view(body, n->data);
            if (acl) {
                jw_int(body, acl->acls.count);
                jw_raw(body, acl->acls.raw.ptr, (size_t)acl->acls.raw.len);
            } else {
                write_open_acl(body);
            }
            jw_long(body, n->czxid);
            jw_long(body, n->mzxid);
            jw_long(body, n->ctime);
            jw_long(body, n->mtime);
            jw_int(body, n->version);
            jw_int(body, n->cversion);
            jw_int(body, n->aversion);
            jw_long(body, n->ephemeral_owner);
            jw_long(body, n->pzxid);
            written++;
            g_hash_table_add(seen, path);
            path = NULL;
        }
        g_free(path);
    }
    if (ok && !g_hash_table_contains(seen, "/")) {
        *err = g_strdup("the snapshot has no root node");
        ok = false;
    }
    g_hash_table_destroy(seen);
    g_hash_table_destroy(acl_by_id);
    if (!ok)
        return false;
    jw_patch_int(body, count_at, written);
    jw_int(body, (int32_t)s->sessions->len);
    for (guint i = 0; i < s->sessions->len; i++) {
        const snap_session *e = &g_array_index(s->sessions, snap_session, i);
        jw_long(body, e->id);
        jw_int(body, e->timeout);
    }
    return true;
}

/* ---- zkserver tree -> snapshot ----------------------------------------- */

typedef struct acl_ids {
    GHashTable *ids;        /* zk_acl_list* -> id (GINT_TO_POINTER) */
    GPtrArray *lists;       /* in id order */
} acl_ids;

static void collect_acl(void *ctx, const zk_node *n)
{
    acl_ids *a = ctx;
    if (!g_hash_table_contains(a->ids, n->acl)) {
        g_ptr_array_add(a->lists, n->acl);
        g_hash_table_insert(a->ids, n->acl, GINT_TO_POINTER(a->lists->len));
    }
}

typedef struct node_writer {
    jute_writer *w;
    acl_ids *acls;
    const zk_tree *t;
} node_writer;

static void write_node(void *ctx, const zk_node *n)
{
    node_writer *nw = ctx;
    const zk_tree *t = nw->t;
    jw_string(nw->w, n == t->root ? "" : n->path);
    jw_buffer(nw->w, n->data, n->data_len);
    jw_long(nw->w, GPOINTER_TO_INT(g_hash_table_lookup(nw->acls->ids, n->acl)));
    jw_long(nw->w, n->czxid);
    jw_long(nw->w, n->mzxid);
    jw_long(nw->w, n->ctime);
    jw_long(nw->w, n->mtime);
    jw_int(nw->w, n->version);
    jw_int(nw->w, n->cversion);
    jw_int(nw->w, n->aversion);
    jw_long(nw->w, n->ephemeral_owner);
    jw_long(nw->w, n->pzxid);
}

/* The seal over the file's bytes so far (the file starts at w->buf + start). */
static void write_seal(jute_writer *w, size_t start)
{
    jw_long(w, (int64_t)zt_adler32(1, w->buf + start, w->len - start));
    jw_string(w, "/");
}

void apache_snap_encode(jute_writer *w, const zk_tree *t, const snap_session *sessions, size_t n,
                        int64_t digest_zxid, int64_t digest)
{
    size_t start = w->len;
    apache_log_write_header(w, APACHE_SNAP_MAGIC, -1);
    jw_int(w, (int32_t)n);
    for (size_t i = 0; i < n; i++) {
        jw_long(w, sessions[i].id);
        jw_int(w, sessions[i].timeout);
    }
    acl_ids acls = { g_hash_table_new(g_direct_hash, g_direct_equal), g_ptr_array_new() };
    zt_walk(t->root, collect_acl, NULL, &acls);
    jw_int(w, (int32_t)acls.lists->len);
    for (guint i = 0; i < acls.lists->len; i++) {
        jw_long(w, (int64_t)i + 1);
        acl_write(w, g_ptr_array_index(acls.lists, i));
    }
    node_writer nw = { w, &acls, t };
    zt_walk(t->root, write_node, NULL, &nw);
    jw_string(w, "/");
    write_seal(w, start);
    jw_long(w, digest_zxid);
    jw_int(w, 2);
    jw_long(w, digest);
    write_seal(w, start);
    g_hash_table_destroy(acls.ids);
    g_ptr_array_free(acls.lists, TRUE);
}

/* ---- Apache's tree digest ---------------------------------------------- */

int64_t apache_tree_digest(const zk_tree *t)
{
    uint64_t sum = 0;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, t->nodes);
    GString *path = g_string_new(NULL);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_node *n = v;
        if (((const char *)k)[0] == '\0')
            continue;       /* the "" alias of the root */
        g_string_truncate(path, 0);
        if (n != t->root)
            jtext_utf8(path, n->path, strlen(n->path));
        if (g_str_has_prefix(path->str, "/zookeeper/"))
            continue;
        uint8_t stat[60];
        zk_put_be64(stat, (uint64_t)n->czxid);
        zk_put_be64(stat + 8, (uint64_t)n->mzxid);
        zk_put_be64(stat + 16, (uint64_t)n->pzxid);
        zk_put_be64(stat + 24, (uint64_t)n->ctime);
        zk_put_be64(stat + 32, (uint64_t)n->mtime);
        zk_put_be32(stat + 40, (uint32_t)n->version);
        zk_put_be32(stat + 44, (uint32_t)n->cversion);
        zk_put_be32(stat + 48, (uint32_t)n->aversion);
        zk_put_be64(stat + 52, (uint64_t)n->ephemeral_owner);
        uint32_t crc = zt_crc32(0, path->str, path->len);
        if (n->data_len > 0)
            crc = zt_crc32(crc, n->data, (size_t)n->data_len);
        crc = zt_crc32(crc, stat, sizeof stat);
        sum += crc;
    }
    g_string_free(path, TRUE);
    return (int64_t)sum;
}
