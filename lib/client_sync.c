/*
 * client_sync.c — synchronous wrappers over the asynchronous client API:
 * each queues the request, waits (bounded by request_timeout_ms) for its
 * completion and hands back g_malloc'd copies of the results.
 *
 * A waiter is shared by the caller and the completion callback (refcount
 * 2).  If the caller gives up (timeout) it drops its reference and the late
 * callback frees the waiter without copying anything.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

typedef struct zkc_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int refs;               /* caller + callback */
    bool done;
    /* Copied results, owned by the waiter until taken by the wrapper. */
    int32_t err;
    bool has_stat;
    zk_stat stat;
    GBytes *data;
    char *path;
    GPtrArray *names;
    zkc_acl *acl;
    zkc_op_result *ops;
    size_t n_ops;
    bool has_ops;
    int32_t number;
} zkc_waiter;

static zkc_waiter *waiter_new(void)
{
    zkc_waiter *w = g_new0(zkc_waiter, 1);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    w->refs = 2;
    return w;
}

static void waiter_free(zkc_waiter *w)
{
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    if (w->data)
        g_bytes_unref(w->data);
    g_free(w->path);
    if (w->names)
        g_ptr_array_unref(w->names);
    g_free(w->acl);
    zkc_op_results_free(w->ops, w->n_ops);
    g_free(w);
}

static void waiter_unref(zkc_waiter *w)
{
    pthread_mutex_lock(&w->mu);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->mu);
    if (last)
        waiter_free(w);
}

/* The completion callback of every synchronous call. */
static void waiter_done(const zkc_result *res, void *ctx)
{
    zkc_waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    if (w->refs == 2) {      /* the caller still waits: copy the results */
        w->err = res->err;
        w->has_stat = res->has_stat;
        w->stat = res->stat;
        if (res->op == ZK_OP_GETDATA && res->err == ZOK)
            w->data = g_bytes_new(res->data, res->data_len > 0 ? (gsize)res->data_len : 0);
        w->path = g_strdup(res->path);
        if (res->children)
            w->names = zkc_names_copy(res->children, res->n_children);
        if (res->acl)
            w->acl = zkc_acl_copy(res->acl, res->n_acl);
        if (res->ops) {
            w->ops = zkc_op_results_copy(res->ops, res->n_ops);
            w->n_ops = res->n_ops;
            w->has_ops = true;
        }
        w->number = res->number;
    }
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    waiter_unref(w);
}

/* Waits for w's completion.  Returns the operation's error, or
 * ZOPERATIONTIMEOUT (then the waiter is abandoned and *wp set to NULL). */
static int waiter_wait(zkc *zk, zkc_waiter **wp)
{
    zkc_waiter *w = *wp;
    int timeout_ms = zkc_request_timeout_ms(zk);
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&w->mu);
    while (!w->done)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &deadline) == ETIMEDOUT)
            break;
    bool done = w->done;
    pthread_mutex_unlock(&w->mu);
    if (!done) {
        waiter_unref(w);
        *wp = NULL;
        return ZOPERATIONTIMEOUT;
    }
    return w->err;
}

/* Common prologue/epilogue: rc is what the async call returned.  On ZOK
 * waits; otherwise the callback will never run, so both refs are dropped. */
static int waiter_finish_submit(zkc *zk, int rc, zkc_waiter **wp)
{
    if (rc != ZOK) {
        waiter_free(*wp);
        *wp = NULL;
        return rc;
    }
    return waiter_wait(zk, wp);
}

/* Releases the caller's reference (NULL if abandoned). */
static void waiter_release(zkc_waiter *w)
{
    if (w)
        waiter_unref(w);
}

#define SYNC_GUARD(zk)                                                         \
    do {                                                                       \
        if (zkc_on_io_thread(zk)) {                                            \
            g_critical("zk client: synchronous call from a callback refused"); \
            return ZAPIERROR;                                                  \
        }                                                                      \
    } while (0)

static void take_stat(const zkc_waiter *w, zk_stat *st)
{
    if (st && w->has_stat)
        *st = w->stat;
}

int zkc_create(zkc *zk, const char *path, const void *data, int32_t len, int32_t flags,
               const zkc_acl *acl, int64_t ttl, char **created, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(
        zk, zkc_acreate(zk, path, data, len, flags, acl, ttl, waiter_done, w), &w);
    if (rc == ZOK) {
        take_stat(w, st);
        if (created) {
            *created = w->path;
            w->path = NULL;
        }
    }
    waiter_release(w);
    return rc;
}

int zkc_delete(zkc *zk, const char *path, int32_t version)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_adelete(zk, path, version, waiter_done, w), &w);
    waiter_release(w);
    return rc;
}

int zkc_exists(zkc *zk, const char *path, bool watch, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aexists(zk, path, watch, waiter_done, w), &w);
    if (rc == ZOK)
        take_stat(w, st);
    waiter_release(w);
    return rc;
}

int zkc_get(zkc *zk, const char *path, bool watch, GBytes **data, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aget(zk, path, watch, waiter_done, w), &w);
    if (rc == ZOK) {
        take_stat(w, st);
        if (data) {
            *data = w->data ? w->data : g_bytes_new(NULL, 0);
            w->data = NULL;
        }
    }
    waiter_release(w);
    return rc;
}

int zkc_set(zkc *zk, const char *path, const void *data, int32_t len, int32_t version,
            zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aset(zk, path, data, len, version, waiter_done, w),
                                  &w);
    if (rc == ZOK)
        take_stat(w, st);
    waiter_release(w);
    return rc;
}

int zkc_get_acl(zkc *zk, const char *path, zkc_acl **acl, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aget_acl(zk, path, waiter_done, w), &w);
    if (rc == ZOK) {
        take_stat(w, st);
        if (acl) {
            *acl = w->acl ? w->acl : zkc_acl_copy(NULL, 0);
            w->acl = NULL;
        }
    }
    waiter_release(w);
    return rc;
}

int zkc_set_acl(zkc *zk, const char *path, const zkc_acl *acl, int32_t version, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aset_acl(zk, path, acl, version, waiter_done, w),
                                  &w);
    if (rc == ZOK)
        take_stat(w, st);
    waiter_release(w);
    return rc;
}

static void take_names(zkc_waiter *w, GPtrArray **names)
{
    if (names) {
        *names = w->names ? w->names : g_ptr_array_new_with_free_func(g_free);
        w->names = NULL;
    }
}

int zkc_children(zkc *zk, const char *path, bool watch, GPtrArray **names)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_achildren(zk, path, watch, waiter_done, w), &w);
    if (rc == ZOK)
        take_names(w, names);
    waiter_release(w);
    return rc;
}

int zkc_children2(zkc *zk, const char *path, bool watch, GPtrArray **names, zk_stat *st)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_achildren2(zk, path, watch, waiter_done, w), &w);
    if (rc == ZOK) {
        take_names(w, names);
        take_stat(w, st);
    }
    waiter_release(w);
    return rc;
}

int zkc_sync(zkc *zk, const char *path)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_async(zk, path, waiter_done, w), &w);
    waiter_release(w);
    return rc;
}

int zkc_multi(zkc *zk, const zkc_op *ops, size_t n, zkc_op_result **results)
{
    SYNC_GUARD(zk);
    if (results)
        *results = NULL;
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_amulti(zk, ops, n, waiter_done, w), &w);
    if (w && w->has_ops && results) {
        /* The server answers one result per op; pad defensively. */
        zkc_op_result *out = g_new0(zkc_op_result, n);
        for (size_t i = 0; i < n && i < w->n_ops; i++) {
            out[i] = w->ops[i];
            w->ops[i].path = NULL;
        }
        *results = out;
    }
    waiter_release(w);
    return rc;
}

int zkc_add_watch(zkc *zk, const char *path, int32_t mode)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aadd_watch(zk, path, mode, waiter_done, w), &w);
    waiter_release(w);
    return rc;
}

int zkc_remove_watches(zkc *zk, const char *path, int32_t watcher_type)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(
        zk, zkc_aremove_watches(zk, path, watcher_type, waiter_done, w), &w);
    waiter_release(w);
    return rc;
}

int zkc_get_ephemerals(zkc *zk, const char *prefix, GPtrArray **paths)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aget_ephemerals(zk, prefix, waiter_done, w), &w);
    if (rc == ZOK)
        take_names(w, paths);
    waiter_release(w);
    return rc;
}

int zkc_get_all_children_number(zkc *zk, const char *path, int32_t *number)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_aget_all_children_number(zk, path, waiter_done, w),
                                  &w);
    if (rc == ZOK && number)
        *number = w->number;
    waiter_release(w);
    return rc;
}

int zkc_whoami(zkc *zk, zkc_acl **ids)
{
    SYNC_GUARD(zk);
    zkc_waiter *w = waiter_new();
    int rc = waiter_finish_submit(zk, zkc_awhoami(zk, waiter_done, w), &w);
    if (rc == ZOK && ids) {
        *ids = w->acl ? w->acl : zkc_acl_copy(NULL, 0);
        w->acl = NULL;
    }
    waiter_release(w);
    return rc;
}
