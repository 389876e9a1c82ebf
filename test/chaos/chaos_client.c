/*
 * chaos_client.c — the chaos test's workload client built on the project's
 * own client library (include/zk/client.h).
 *
 *   chaos-client watch HOSTS PATH OUT SECONDS
 *       adds a persistent recursive watch on PATH and records, in the
 *       order the library delivers them on its I/O thread, every session
 *       state change ("S <t_ns> <state>") and every event
 *       ("E <t_ns> <type> <path>") to OUT, for SECONDS or until SIGTERM.
 *       The watch is re-registered by the library after each reconnect.
 *   chaos-client register HOSTS KEYS OUT SECONDS SEED NAME
 *       the compare-and-set register workload (like workload.py's): on
 *       /chaos/reg/k0..k<KEYS-1>, random sync+reads, blind writes and
 *       versioned writes (CAS), one at a time, each recorded as a JSON
 *       line with invoke and completion times (CLOCK_MONOTONIC ns) and its
 *       outcome: ok, fail (BadVersion: no effect) or info (timeout,
 *       connection loss: it may or may not have taken effect).
 * t_ns is CLOCK_MONOTONIC in nanoseconds (shared by every namespace).
 * Exits 0; 2 on bad arguments or when the handle cannot be opened.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zk/client.h"

static volatile sig_atomic_t stop;
static FILE *out;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* Runs until SECONDS passed or a signal came. */
static void run_for(double seconds)
{
    int64_t end = now_ns() + (int64_t)(seconds * 1e9);
    while (!stop && now_ns() < end)
        sleep_ms(50);
}

/* A handle on hosts (4 s sessions, hosts shuffled); NULL after a message. */
static zkc *open_client(const char *hosts, int request_timeout_ms, zkc_watcher_fn watcher)
{
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = hosts;
    o.session_timeout_ms = 4000;
    o.request_timeout_ms = request_timeout_ms;
    o.watcher = watcher;
    o.shuffle_hosts = true;
    char *err = NULL;
    zkc *zk = zkc_open(&o, &err);
    if (!zk)
        fprintf(stderr, "chaos-client: %s\n", err ? err : "cannot open");
    g_free(err);
    return zk;
}

/* ---- watch ------------------------------------------------------------ */

static void watch_cb(zkc *zk, int type, int state, const char *path, void *ctx)
{
    (void)zk; (void)ctx;
    if (type == ZK_EVENT_NONE)
        fprintf(out, "S %lld %d\n", (long long)now_ns(), state);
    else
        fprintf(out, "E %lld %d %s\n", (long long)now_ns(), type, path ? path : "");
    fflush(out);
}

static int cmd_watch(char **argv)
{
    const char *hosts = argv[0], *path = argv[1];
    out = fopen(argv[2], "w");
    if (!out)
        return 2;
    zkc *zk = open_client(hosts, 3000, watch_cb);
    if (!zk)
        return 2;
    /* Until the watch is in place (the library keeps it across reconnects). */
    int rc = -1;
    int64_t give_up = now_ns() + (int64_t)(atof(argv[3]) * 1e9);
    while (!stop && now_ns() < give_up) {
        if (zkc_wait_connected(zk, 1000) == ZOK &&
            (rc = zkc_add_watch(zk, path, ZK_ADDWATCH_PERSISTENT_RECURSIVE)) == ZOK)
            break;
        sleep_ms(100);
    }
    fprintf(out, "W %lld %d\n", (long long)now_ns(), rc);
    fflush(out);
    run_for((double)(give_up - now_ns()) / 1e9);
    zkc_close(zk);
    fclose(out);
    return 0;
}

/* ---- register ----------------------------------------------------------- */

static uint64_t rng;

static uint64_t next_rand(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ok / fail / info for a write-like result code. */
static const char *outcome(int rc)
{
    if (rc == ZOK)
        return "ok";
    if (rc == ZBADVERSION)
        return "fail";
    return "info";
}

static int cmd_register(char **argv)
{
    const char *hosts = argv[0];
    int keys = atoi(argv[1]);
    out = fopen(argv[2], "w");
    double seconds = atof(argv[3]);
    rng = strtoull(argv[4], NULL, 10) * 0x2545f4914f6cdd1dull + 7;
    const char *name = argv[5];
    if (!out || keys <= 0)
        return 2;
    zkc *zk = open_client(hosts, 2000, NULL);
    if (!zk)
        return 2;
    int32_t *known = g_new0(int32_t, keys);   /* last version seen per key */
    int64_t end = now_ns() + (int64_t)(seconds * 1e9);
    long n = 0;
    while (!stop && now_ns() < end) {
        if (zkc_state(zk) != ZK_STATE_SYNC_CONNECTED) {
            zkc_wait_connected(zk, 500);
            continue;
        }
        int k = (int)(next_rand() % (uint64_t)keys);
        char path[64], value[96];
        snprintf(path, sizeof path, "/chaos/reg/k%d", k);
        snprintf(value, sizeof value, "%s-%ld", name, n++);
        int choice = (int)(next_rand() % 100);
        int64_t sid = zkc_session_id(zk);
        int64_t t0 = now_ns();
        if (choice < 40) {
            GBytes *data = NULL;
            zk_stat st;
            int rc = zkc_sync(zk, "/");
            if (rc == ZOK)
                rc = zkc_get(zk, path, false, &data, &st);
            int64_t t1 = now_ns();
            if (rc == ZOK) {
                gsize len = 0;
                const char *d = g_bytes_get_data(data, &len);
                fprintf(out, "{\"p\":\"%s\",\"s\":\"%llx\",\"k\":\"k%d\",\"f\":\"read\",\"t0\":%lld,"
                        "\"t1\":%lld,\"ok\":true,\"out\":\"%.*s\",\"ver\":%d,\"zx\":%lld}\n",
                        name, (unsigned long long)sid, k, (long long)t0, (long long)t1, (int)len,
                        d ? d : "", st.version, (long long)st.mzxid);
                known[k] = st.version;
                g_bytes_unref(data);
            }
            /* A failed read had no effect: not recorded. */
        } else {
            bool cas = choice >= 60;
            int32_t expect = cas ? known[k] : -1;
            zk_stat st;
            int rc = zkc_set(zk, path, value, (int32_t)strlen(value), expect, &st);
            int64_t t1 = now_ns();
            const char *res = outcome(rc);
            if (rc == ZOK)
                known[k] = st.version;
            fprintf(out, "{\"p\":\"%s\",\"s\":\"%llx\",\"k\":\"k%d\",\"f\":\"%s\",\"t0\":%lld,"
                    "\"t1\":%s%lld,\"ok\":%s,\"val\":\"%s\",\"exp\":%d,\"ver\":%d,\"zx\":%lld,"
                    "\"err\":%d}\n",
                    name, (unsigned long long)sid, k, cas ? "cas" : "write", (long long)t0,
                    strcmp(res, "info") == 0 ? "null,\"t1x\":" : "", (long long)t1,
                    strcmp(res, "ok") == 0 ? "true" : strcmp(res, "fail") == 0 ? "false" : "null",
                    value, expect, rc == ZOK ? st.version : -1, rc == ZOK ? (long long)st.mzxid : 0LL,
                    rc);
            if (rc == ZBADVERSION)
                known[k] = -2;   /* unknown now: the next CAS on k reads first */
        }
        fflush(out);
        if (known[k] == -2) {
            GBytes *data = NULL;
            zk_stat st;
            if (zkc_get(zk, path, false, &data, &st) == ZOK) {
                known[k] = st.version;
                g_bytes_unref(data);
            }
        }
    }
    g_free(known);
    zkc_close(zk);
    fclose(out);
    return 0;
}

int main(int argc, char **argv)
{
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    signal(SIGPIPE, SIG_IGN);
    if (argc == 6 && strcmp(argv[1], "watch") == 0)
        return cmd_watch(argv + 2);
    if (argc == 8 && strcmp(argv[1], "register") == 0)
        return cmd_register(argv + 2);
    fprintf(stderr, "usage: %s watch HOSTS PATH OUT SECONDS\n"
                    "       %s register HOSTS KEYS OUT SECONDS SEED NAME\n", argv[0], argv[0]);
    return 2;
}
