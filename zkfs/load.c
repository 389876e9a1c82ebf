/*
 * load.c — loading znode state through the cache (see load.h).
 *
 * A load job covers one or more znodes ("kids").  For each it sends a
 * getACL (Stat + ACL) and, in a multiRead shared by up to CHUNK kids, a
 * getChildren (for the lock contender count) and optionally a getData.  A
 * kid's attributes are stored when both of its replies are in.  Every
 * callback runs on the client's I/O thread; the job is refcounted so a
 * waiter that gave up (timeout) leaves it to the last callback.
 */
#include "load.h"

#include <errno.h>
#include <string.h>

#include "map.h"

#define CHUNK ZKFS_LISTING_CHUNK

typedef struct kid {
    char *path;
    bool got_acl, got_reads, failed, exists;
    zkfs_attr attr;
} kid;

typedef struct load_job {
    gint refs;
    GMutex lock;
    GCond cond;
    int outstanding;           /* requests not answered yet (lock) */
    zkfs_cache *cache;
    const char *digest_id;
    size_t max_data;
    bool with_data;
    uint64_t ticket;
    kid *kids;
    size_t n;
} load_job;

/* The context of one multiRead: kids [first, first + count). */
typedef struct chunk_ctx {
    load_job *job;
    size_t first, count;
} chunk_ctx;

typedef struct acl_ctx {
    load_job *job;
    size_t index;
} acl_ctx;

static void job_unref(load_job *j)
{
    if (!g_atomic_int_dec_and_test(&j->refs))
        return;
    for (size_t i = 0; i < j->n; i++)
        g_free(j->kids[i].path);
    g_free(j->kids);
    g_mutex_clear(&j->lock);
    g_cond_clear(&j->cond);
    g_free(j);
}

static load_job *job_new(const zkfs_loader *l, bool with_data, size_t n)
{
    load_job *j = g_new0(load_job, 1);
    j->refs = 1;
    g_mutex_init(&j->lock);
    g_cond_init(&j->cond);
    j->cache = l->cache;
    j->digest_id = l->digest_id;
    j->max_data = l->max_listing_data;
    j->with_data = with_data;
    j->ticket = zkfs_cache_ticket(l->cache);
    j->kids = g_new0(kid, n ? n : 1);
    j->n = n;
    return j;
}

/* A request was answered (or will never be): one less outstanding. */
static void job_answered(load_job *j)
{
    g_mutex_lock(&j->lock);
    j->outstanding--;
    g_cond_broadcast(&j->cond);
    g_mutex_unlock(&j->lock);
    job_unref(j);
}

/* Registers a request about to be sent. */
static void job_sending(load_job *j)
{
    g_atomic_int_inc(&j->refs);
    g_mutex_lock(&j->lock);
    j->outstanding++;
    g_mutex_unlock(&j->lock);
}

/* Stores a kid whose replies are all in (I/O thread). */
static void kid_maybe_store(load_job *j, kid *k)
{
    if (!k->got_acl || !k->got_reads || k->failed)
        return;
    zkfs_cache_put_attr(j->cache, k->path, j->ticket, k->exists, &k->attr);
}

static void acl_done(const zkc_result *res, void *ctx)
{
    acl_ctx *c = ctx;
    kid *k = &c->job->kids[c->index];
    k->got_acl = true;
    if (res->err == ZOK && res->has_stat) {
        k->exists = true;
        k->attr.st = res->stat;
        k->attr.acl = zkfs_acl_summary(res->acl, res->n_acl, c->job->digest_id);
    } else if (res->err == ZNONODE) {
        k->exists = false;
    } else {
        k->failed = true;
    }
    kid_maybe_store(c->job, k);
    job_answered(c->job);
    g_free(c);
}

static void chunk_done(const zkc_result *res, void *ctx)
{
    chunk_ctx *c = ctx;
    load_job *j = c->job;
    size_t per = j->with_data ? 2 : 1;
    bool ok = res->err == ZOK && res->n_reads == c->count * per;
    for (size_t i = 0; i < c->count; i++) {
        kid *k = &j->kids[c->first + i];
        k->got_reads = true;
        if (!ok) {
            k->failed = true;
            continue;
        }
        const zkc_read_result *kids_rd = &res->reads[i * per + per - 1];
        if (j->with_data) {
            const zkc_read_result *d = &res->reads[i * per];
            if (d->err == ZOK && d->has_stat && d->data_len >= 0 &&
                (size_t)d->data_len <= j->max_data) {
                GBytes *b = g_bytes_new(d->data ? d->data : "", (gsize)d->data_len);
                zkfs_cache_put_data(j->cache, k->path, j->ticket, b, &d->stat);
                g_bytes_unref(b);
            }
        }
        if (kids_rd->err == ZOK) {
            GPtrArray *names = g_ptr_array_new_full((guint)kids_rd->n_children, g_free);
            for (size_t n = 0; n < kids_rd->n_children; n++)
                g_ptr_array_add(names, g_strdup(kids_rd->children[n]));
            k->attr.lock_kids = zkfs_count_lock_names(names);
            zkfs_cache_put_children(j->cache, k->path, j->ticket, names);
            g_ptr_array_unref(names);
        } else if (kids_rd->err != ZNONODE) {
            k->failed = true;
        }
        kid_maybe_store(j, k);
    }
    job_answered(j);
    g_free(c);
}

/* Sends every request of the job and waits for the answers (bounded). */
static void job_run(const zkfs_loader *l, load_job *j)
{
    size_t per = j->with_data ? 2 : 1;
    zkc_read_op *ops = g_new(zkc_read_op, CHUNK * per);
    bool failed = false;
    for (size_t first = 0; first < j->n && !failed; first += CHUNK) {
        size_t count = MIN((size_t)CHUNK, j->n - first);
        for (size_t i = 0; i < count; i++) {
            const char *p = j->kids[first + i].path;
            if (j->with_data)
                ops[i * per] = (zkc_read_op){ ZK_OP_GETDATA, p };
            ops[i * per + per - 1] = (zkc_read_op){ ZK_OP_GETCHILDREN, p };
        }
        chunk_ctx *c = g_new(chunk_ctx, 1);
        *c = (chunk_ctx){ j, first, count };
        job_sending(j);
        if (zkc_amulti_read(l->zk, ops, count * per, chunk_done, c) != ZOK) {
            g_free(c);
            job_answered(j);
            failed = true;
            break;
        }
        for (size_t i = 0; i < count; i++) {
            acl_ctx *a = g_new(acl_ctx, 1);
            *a = (acl_ctx){ j, first + i };
            job_sending(j);
            if (zkc_aget_acl(l->zk, j->kids[first + i].path, acl_done, a) != ZOK) {
                g_free(a);
                job_answered(j);
                failed = true;
                break;
            }
        }
    }
    g_free(ops);
    gint64 until = g_get_monotonic_time() + (gint64)l->timeout_ms * 1000;
    g_mutex_lock(&j->lock);
    while (j->outstanding > 0)
        if (!g_cond_wait_until(&j->cond, &j->lock, until))
            break;
    g_mutex_unlock(&j->lock);
}

int zkfs_load_attr(const zkfs_loader *l, const char *path, bool *exists, zkfs_attr *attr)
{
    zkfs_attr a;
    if (zkfs_cache_get_attr(l->cache, path, exists, &a)) {
        if (*exists && attr)
            *attr = a;
        return 0;
    }
    if (!l->zk)
        return -EIO;
    load_job *j = job_new(l, false, 1);
    j->kids[0].path = g_strdup(path);
    job_run(l, j);
    int rc = -EIO;
    /* The answers are in the cache unless an event came in between: then
     * (or on a timeout) one plain getACL decides. */
    if (zkfs_cache_get_attr(l->cache, path, exists, &a)) {
        rc = 0;
    } else {
        zkc_acl *acl = NULL;
        zk_stat st;
        int zrc = zkc_get_acl(l->zk, path, &acl, &st);
        if (zrc == ZNONODE) {
            *exists = false;
            rc = 0;
        } else if (zrc == ZOK) {
            GPtrArray *names = NULL;
            int crc = st.num_children > 0 ? zkc_children(l->zk, path, false, &names) : ZOK;
            *exists = true;
            a.st = st;
            a.acl = zkfs_acl_summary(acl->entries, acl->count, l->digest_id);
            a.lock_kids = zkfs_count_lock_names(names);
            if (names)
                g_ptr_array_unref(names);
            rc = crc == ZOK || crc == ZNONODE ? 0 : -zkfs_errno(crc);
            g_free(acl);
        } else {
            rc = -zkfs_errno(zrc);
        }
    }
    job_unref(j);
    if (rc == 0 && *exists && attr)
        *attr = a;
    return rc;
}

int zkfs_load_data(const zkfs_loader *l, const char *path, GBytes **data, zk_stat *st)
{
    if (zkfs_cache_get_data(l->cache, path, data, st))
        return 0;
    if (!l->zk)
        return -EIO;
    uint64_t ticket = zkfs_cache_ticket(l->cache);
    int rc = zkc_get(l->zk, path, false, data, st);
    if (rc != ZOK)
        return -zkfs_errno(rc);
    zkfs_cache_put_data(l->cache, path, ticket, *data, st);
    return 0;
}

int zkfs_load_children(const zkfs_loader *l, const char *path, GPtrArray **names)
{
    if (zkfs_cache_get_children(l->cache, path, names))
        return 0;
    if (!l->zk)
        return -EIO;
    uint64_t ticket = zkfs_cache_ticket(l->cache);
    int rc = zkc_children(l->zk, path, false, names);
    if (rc != ZOK)
        return -zkfs_errno(rc);
    zkfs_cache_put_children(l->cache, path, ticket, *names);
    return 0;
}

int zkfs_load_listing(const zkfs_loader *l, const char *path, GPtrArray **names)
{
    int rc = zkfs_load_children(l, path, names);
    if (rc != 0 || !l->zk)
        return rc;
    size_t missing = 0;
    for (guint i = 0; i < (*names)->len; i++) {
        char *p = zkfs_child_path(path, g_ptr_array_index(*names, i));
        bool exists;
        if (!zkfs_cache_get_attr(l->cache, p, &exists, NULL))
            missing++;
        g_free(p);
    }
    if (missing == 0)
        return 0;
    load_job *j = job_new(l, true, missing);
    size_t n = 0;
    for (guint i = 0; i < (*names)->len && n < missing; i++) {
        char *p = zkfs_child_path(path, g_ptr_array_index(*names, i));
        bool exists;
        if (!zkfs_cache_get_attr(l->cache, p, &exists, NULL))
            j->kids[n++].path = p;
        else
            g_free(p);
    }
    j->n = n;
    job_run(l, j);
    job_unref(j);
    return 0;
}
