/*
 * log.h — the server's logging: one timestamped line per call on stderr
 * (or the log file, logfile.c) and a rate limiter for conditions that can
 * repeat fast.  Any module may include it; it depends on nothing else of
 * the server, so including it joins no circle of headers.
 */
#ifndef ZK_LOG_H
#define ZK_LOG_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

/* At most one log line per interval for a condition that can repeat fast
 * (an attacker can make it fire thousands of times a second). */
typedef struct log_limiter {
    int64_t next_ms;         /* monotonic: when the next line may be logged */
    uint64_t suppressed;     /* lines skipped since the last one logged */
} log_limiter;

/* Logs one line to stderr with a timestamp and level. */
void zk_log(const char *level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* false silences zk_log (the fuzz harnesses; default true). */
extern bool zk_log_enabled;
/* True if a line may be logged now (at most one per interval_ms); then
 * *suppressed holds how many were skipped since the previous one. */
bool log_limiter_allow(log_limiter *l, int64_t interval_ms, uint64_t *suppressed);
#define LOG_INFO(...) zk_log("INFO", __VA_ARGS__)
#define LOG_WARN(...) zk_log("WARN", __VA_ARGS__)
#define LOG_ERROR(...) zk_log("ERROR", __VA_ARGS__)
#endif
