/*
 * loop.h — a small epoll event loop in the spirit of Redis's ae.c: file
 * events (readable/writable callbacks per fd), one periodic timer, and a
 * before-sleep hook.  One thread owns a loop and everything its callbacks
 * touch.
 *
 * Ordering contract (why before_sleep exists): callbacks queue work — log
 * records, replies — and before_sleep runs once per iteration, after all
 * ready events were handled and before epoll_wait blocks again.  That is
 * where the server starts a group-commit flush of everything queued in this
 * iteration, so many requests share one fsync.
 */
#ifndef ZK_LOOP_H
#define ZK_LOOP_H

#include <stdbool.h>
#include <stdint.h>

/* Event bits.  LOOP_ERROR is only ever passed to callbacks (never a
 * subscription): the socket hung up or has an error (EPOLLHUP/EPOLLERR),
 * which epoll reports even for a descriptor watched for nothing; it comes
 * with LOOP_READABLE so that a plain reader sees the error on its next read. */
enum { LOOP_READABLE = 1, LOOP_WRITABLE = 2, LOOP_ERROR = 4 };

typedef struct zk_loop zk_loop;
typedef void (*loop_fd_fn)(zk_loop *l, int fd, int events, void *ctx);
typedef void (*loop_hook_fn)(zk_loop *l, void *ctx);

zk_loop *loop_new(void);
void loop_free(zk_loop *l);
/* Registers or updates interest in fd (mask of LOOP_*). ctx is not owned. */
int loop_watch(zk_loop *l, int fd, int mask, loop_fd_fn fn, void *ctx);
/* Forgets fd (call before closing it). */
void loop_unwatch(zk_loop *l, int fd);
/* Calls fn every period_ms (best effort; never more often). */
void loop_set_timer(zk_loop *l, int period_ms, loop_hook_fn fn, void *ctx);
void loop_set_before_sleep(zk_loop *l, loop_hook_fn fn, void *ctx);
/* Runs until loop_stop(). */
void loop_run(zk_loop *l);
void loop_stop(zk_loop *l);
/* Monotonic and wall clocks in milliseconds. */
int64_t loop_now_ms(void);
int64_t loop_wall_ms(void);

#endif
