/* loop.c — epoll event loop (see loop.h). */
#include "loop.h"

#include <errno.h>
#include <glib.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

typedef struct fd_entry {
    loop_fd_fn fn;
    void *ctx;
    int mask;
} fd_entry;

struct zk_loop {
    int epfd;
    GHashTable *fds;            /* fd -> fd_entry* (owned) */
    loop_hook_fn timer_fn, before_sleep;
    void *timer_ctx, *before_sleep_ctx;
    int period_ms;
    int64_t next_timer;
    bool stop;
};

int64_t loop_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t loop_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

zk_loop *loop_new(void)
{
    zk_loop *l = g_new0(zk_loop, 1);
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0) {
        g_free(l);
        return NULL;
    }
    l->fds = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    return l;
}

void loop_free(zk_loop *l)
{
    if (!l)
        return;
    close(l->epfd);
    g_hash_table_destroy(l->fds);
    g_free(l);
}

int loop_watch(zk_loop *l, int fd, int mask, loop_fd_fn fn, void *ctx)
{
    fd_entry *e = g_hash_table_lookup(l->fds, GINT_TO_POINTER(fd));
    struct epoll_event ev = { 0 };
    ev.events = (mask & LOOP_READABLE ? EPOLLIN : 0) | (mask & LOOP_WRITABLE ? EPOLLOUT : 0);
    ev.data.fd = fd;
    if (!e) {
        e = g_new0(fd_entry, 1);
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            g_free(e);
            return -1;
        }
        g_hash_table_insert(l->fds, GINT_TO_POINTER(fd), e);
    } else if (e->mask != mask && epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0) {
        return -1;
    }
    e->fn = fn;
    e->ctx = ctx;
    e->mask = mask;
    return 0;
}

void loop_unwatch(zk_loop *l, int fd)
{
    if (g_hash_table_remove(l->fds, GINT_TO_POINTER(fd)))
        epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
}

void loop_set_timer(zk_loop *l, int period_ms, loop_hook_fn fn, void *ctx)
{
    l->period_ms = period_ms;
    l->timer_fn = fn;
    l->timer_ctx = ctx;
    l->next_timer = loop_now_ms() + period_ms;
}

void loop_set_before_sleep(zk_loop *l, loop_hook_fn fn, void *ctx)
{
    l->before_sleep = fn;
    l->before_sleep_ctx = ctx;
}

void loop_stop(zk_loop *l)
{
    l->stop = true;
}

void loop_run(zk_loop *l)
{
    struct epoll_event evs[256];
    l->stop = false;
    while (!l->stop) {
        if (l->before_sleep)
            l->before_sleep(l, l->before_sleep_ctx);
        int timeout = -1;
        if (l->timer_fn) {
            int64_t wait = l->next_timer - loop_now_ms();
            timeout = wait < 0 ? 0 : (int)wait;
        }
        int n = epoll_wait(l->epfd, evs, 256, timeout);
        if (n < 0 && errno != EINTR)
            break;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            fd_entry *e = g_hash_table_lookup(l->fds, GINT_TO_POINTER(fd));
            if (!e)
                continue;   /* closed by an earlier callback this round */
            bool hangup = (evs[i].events & (EPOLLHUP | EPOLLERR)) != 0;
            int mask = 0;
            if (evs[i].events & EPOLLIN)
                mask |= LOOP_READABLE;
            if (evs[i].events & EPOLLOUT)
                mask |= LOOP_WRITABLE;
            mask &= e->mask;
            if (hangup)
                mask |= LOOP_READABLE | LOOP_ERROR | (e->mask & LOOP_WRITABLE);
            e->fn(l, fd, mask, e->ctx);
        }
        if (l->timer_fn && loop_now_ms() >= l->next_timer) {
            l->next_timer = loop_now_ms() + l->period_ms;
            l->timer_fn(l, l->timer_ctx);
        }
    }
}
