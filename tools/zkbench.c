/*
 * zkbench.c — bin/zkbench, the benchmark client: N client sessions, each
 * keeping D asynchronous requests in flight (pipelining), for a fixed
 * number of operations of one kind; prints throughput and latency
 * percentiles.  Works against zkserver or any ZooKeeper ensemble.
 *
 *   bin/zkbench [--servers H:P[,H:P...]] [--clients N] [--ops M] [--depth D]
 *               [--size BYTES] [--op create|set|get|mixed] [--root PATH]
 */
#include <getopt.h>
#include <glib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "zk/client.h"

typedef struct bench_client {
    zkc *zk;
    int id;
    long issued, done, errors;
    long target;
    int64_t *lat_us;         /* one entry per completed op (owned) */
    pthread_mutex_t mu;
    pthread_cond_t cv;
} bench_client;

static const char *op_kind = "mixed";
static int data_size = 128;
static int depth = 32;
static const char *root = "/zkbench";
static char *payload;

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

typedef struct op_ctx {
    bench_client *c;
    int64_t t0;
} op_ctx;

static void issue(bench_client *c, long n);

static void on_done(const zkc_result *res, void *ctx)
{
    op_ctx *o = ctx;
    bench_client *c = o->c;
    int64_t lat = now_us() - o->t0;
    g_free(o);
    pthread_mutex_lock(&c->mu);
    if (res->err != ZOK && res->err != ZNODEEXISTS)
        c->errors++;
    c->lat_us[c->done++] = lat;
    long next = c->issued < c->target ? c->issued++ : -1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (next >= 0)
        issue(c, next);
}

/* Sends operation number n of client c. */
static void issue(bench_client *c, long n)
{
    op_ctx *o = g_new(op_ctx, 1);
    o->c = c;
    o->t0 = now_us();
    char path[256];
    snprintf(path, sizeof path, "%s/c%d-%ld", root, c->id, n % 1000);
    const char *kind = op_kind;
    if (strcmp(kind, "mixed") == 0)
        kind = (n % 10 == 0) ? "set" : "get";   /* 90% reads, like ZooKeeper's usual load */
    int rc;
    if (strcmp(kind, "create") == 0) {
        snprintf(path, sizeof path, "%s/c%d-%ld", root, c->id, n);
        rc = zkc_acreate(c->zk, path, payload, data_size, 0, NULL, -1, on_done, o);
    } else if (strcmp(kind, "set") == 0) {
        snprintf(path, sizeof path, "%s/c%d", root, c->id);
        rc = zkc_aset(c->zk, path, payload, data_size, -1, on_done, o);
    } else {
        snprintf(path, sizeof path, "%s/c%d", root, c->id);
        rc = zkc_aget(c->zk, path, false, on_done, o);
    }
    if (rc != ZOK) {
        zkc_result r = { 0 };
        r.err = rc;
        on_done(&r, o);
    }
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    const char *servers = "127.0.0.1:2181";
    int nclients = 4;
    long ops = 100000;
    static struct option longopts[] = {
        { "servers", required_argument, 0, 's' }, { "clients", required_argument, 0, 'c' },
        { "ops", required_argument, 0, 'n' },     { "depth", required_argument, 0, 'd' },
        { "size", required_argument, 0, 'b' },    { "op", required_argument, 0, 'o' },
        { "root", required_argument, 0, 'r' },    { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "s:c:n:d:b:o:r:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': servers = optarg; break;
        case 'c': nclients = atoi(optarg); break;
        case 'n': ops = atol(optarg); break;
        case 'd': depth = atoi(optarg); break;
        case 'b': data_size = atoi(optarg); break;
        case 'o': op_kind = optarg; break;
        case 'r': root = optarg; break;
        default:
            fprintf(stderr, "usage: %s [--servers H:P,...] [--clients N] [--ops M] [--depth D] "
                            "[--size BYTES] [--op create|set|get|mixed] [--root PATH]\n", argv[0]);
            return ch == 'h' ? 0 : 2;
        }
    }
    if (nclients < 1 || ops < 1 || depth < 1 || data_size < 0 || data_size > 1000000) {
        fprintf(stderr, "zkbench: bad arguments\n");
        return 2;
    }
    payload = g_malloc0((gsize)data_size + 1);
    memset(payload, 'x', (size_t)data_size);
    bench_client *cs = g_new0(bench_client, nclients);
    for (int i = 0; i < nclients; i++) {
        zkc_options o;
        zkc_options_init(&o);
        o.hosts = servers;
        o.session_timeout_ms = 30000;
        o.request_timeout_ms = 30000;
        char *err = NULL;
        cs[i].zk = zkc_open(&o, &err);
        if (!cs[i].zk || zkc_wait_connected(cs[i].zk, 10000) != ZOK) {
            fprintf(stderr, "zkbench: cannot connect to %s: %s\n", servers, err ? err : "timeout");
            return 1;
        }
        cs[i].id = i;
        cs[i].target = ops / nclients;
        cs[i].lat_us = g_new(int64_t, cs[i].target);
        pthread_mutex_init(&cs[i].mu, NULL);
        pthread_cond_init(&cs[i].cv, NULL);
    }
    /* set up: the root and one node per client */
    zkc_create(cs[0].zk, root, "", 0, 0, NULL, -1, NULL, NULL);
    for (int i = 0; i < nclients; i++) {
        char path[256];
        snprintf(path, sizeof path, "%s/c%d", root, i);
        zkc_create(cs[0].zk, path, payload, data_size, 0, NULL, -1, NULL, NULL);
    }
    int64_t t0 = now_us();
    for (int i = 0; i < nclients; i++) {
        pthread_mutex_lock(&cs[i].mu);
        long start = depth < cs[i].target ? depth : cs[i].target;
        cs[i].issued = start;
        pthread_mutex_unlock(&cs[i].mu);
        for (long k = 0; k < start; k++)
            issue(&cs[i], k);
    }
    long total = 0, errors = 0;
    for (int i = 0; i < nclients; i++) {
        pthread_mutex_lock(&cs[i].mu);
        while (cs[i].done < cs[i].target)
            pthread_cond_wait(&cs[i].cv, &cs[i].mu);
        pthread_mutex_unlock(&cs[i].mu);
        total += cs[i].done;
        errors += cs[i].errors;
    }
    double secs = (double)(now_us() - t0) / 1e6;
    int64_t *all = g_new(int64_t, total);
    long k = 0;
    for (int i = 0; i < nclients; i++) {
        memcpy(all + k, cs[i].lat_us, (size_t)cs[i].done * sizeof(int64_t));
        k += cs[i].done;
    }
    qsort(all, (size_t)total, sizeof(int64_t), cmp64);
    printf("zkbench: op=%s clients=%d depth=%d size=%d ops=%ld errors=%ld\n", op_kind, nclients,
           depth, data_size, total, errors);
    printf("zkbench: %.0f ops/s over %.2f s; latency us p50=%" G_GINT64_FORMAT " p90=%" G_GINT64_FORMAT
           " p99=%" G_GINT64_FORMAT " max=%" G_GINT64_FORMAT "\n",
           (double)total / secs, secs, all[total / 2], all[total * 9 / 10], all[total * 99 / 100],
           all[total - 1]);
    for (int i = 0; i < nclients; i++) {
        zkc_close(cs[i].zk);
        g_free(cs[i].lat_us);
    }
    g_free(all);
    g_free(cs);
    g_free(payload);
    return errors ? 1 : 0;
}
