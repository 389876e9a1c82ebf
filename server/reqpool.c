/*
 * reqpool.c — free lists of request and change-record blocks (see
 * reqpool.h).  A block is the struct followed by a small inline buffer;
 * a body or path that does not fit is allocated on its own, and freeing
 * tells the two apart by comparing the pointer with the block's tail.
 */
#include "reqpool.h"

#include <glib.h>
#include <string.h>

#define REQ_INLINE_BODY 256     /* a set/create of ~100 bytes with its path fits */
#define CHANGE_INLINE_PATH 120  /* the change record's block stays under 192 bytes */

#if defined(__SANITIZE_ADDRESS__)
#define REQPOOL_KEEP 0          /* ASan: every block goes back to malloc */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define REQPOOL_KEEP 0
#endif
#endif
#ifndef REQPOOL_KEEP
#define REQPOOL_KEEP 4096       /* free blocks kept per kind (~1.5 MiB of requests at most) */
#endif

/* A free list: blocks chained through their first word. */
typedef struct free_list {
    void *head;
    unsigned count;
} free_list;

static free_list requests, changes;

static void *take(free_list *fl, size_t size)
{
    void *b = fl->head;
    if (b) {
        fl->head = *(void **)b;
        fl->count--;
        return b;
    }
    return g_malloc(size);
}

static void give(free_list *fl, void *b)
{
    if (fl->count + 1 > (unsigned)REQPOOL_KEEP) {   /* (not >=: KEEP may be 0) */
        g_free(b);
        return;
    }
    *(void **)b = fl->head;
    fl->head = b;
    fl->count++;
}

static uint8_t *request_tail(zk_request *req)
{
    return (uint8_t *)(req + 1);
}

zk_request *reqpool_new_request(size_t len, uint8_t **body)
{
    zk_request *req = take(&requests, sizeof(zk_request) + REQ_INLINE_BODY);
    memset(req, 0, sizeof *req);
    if (len == 0)
        *body = NULL;
    else if (len <= REQ_INLINE_BODY)
        *body = request_tail(req);
    else
        *body = g_malloc(len);
    return req;
}

void reqpool_free_request(zk_request *req)
{
    if (!req)
        return;
    if (req->body != request_tail(req))
        g_free(req->body);
    give(&requests, req);
}

static char *change_tail(change_rec *cr)
{
    return (char *)(cr + 1);
}

change_rec *reqpool_new_change(const char *path)
{
    change_rec *cr = take(&changes, sizeof(change_rec) + CHANGE_INLINE_PATH);
    memset(cr, 0, sizeof *cr);
    size_t n = strlen(path) + 1;
    if (n <= CHANGE_INLINE_PATH) {
        cr->path = change_tail(cr);
        memcpy(cr->path, path, n);
    } else {
        cr->path = g_strdup(path);
    }
    return cr;
}

void reqpool_free_change(change_rec *cr)
{
    if (!cr)
        return;
    if (cr->path != change_tail(cr))
        g_free(cr->path);
    give(&changes, cr);
}

static void drain(free_list *fl)
{
    while (fl->head) {
        void *b = fl->head;
        fl->head = *(void **)b;
        g_free(b);
    }
    fl->count = 0;
}

void reqpool_trim(void)
{
    drain(&requests);
    drain(&changes);
}
