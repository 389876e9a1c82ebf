/*
 * zkload.c — bin/zkload, the independent benchmark client: the load driver
 * of loadgen.c on top of the official Apache ZooKeeper C client
 * (libzookeeper_mt, Debian's libzookeeper-mt-dev) and nothing of the
 * project's own client or server code, so anyone can reproduce the
 * comparison without trusting our client.  Same options and output as
 * bin/zkbench (`bin/zkload --help`).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zookeeper/zookeeper.h>

#include "loadgen.h"

/* One session: the handle and a connected flag set by the watcher. */
typedef struct zl_session {
    zhandle_t *zh;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int state;
} zl_session;

/* Per-slot storage for multi: the ops and their results must live until
 * the completion. */
typedef struct zl_multi {
    zoo_op_t ops[LG_MULTI_OPS];
    zoo_op_result_t results[LG_MULTI_OPS];
    struct Stat stats[LG_MULTI_OPS];
} zl_multi;

static void on_watch(zhandle_t *zh, int type, int state, const char *path, void *ctx)
{
    (void)zh; (void)path;
    zl_session *s = ctx;
    if (type != ZOO_SESSION_EVENT)
        return;
    pthread_mutex_lock(&s->mu);
    s->state = state;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void *zl_open(const char *servers)
{
    zl_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    s->zh = zookeeper_init(servers, on_watch, 30000, NULL, s, 0);
    if (!s->zh) {
        perror("zookeeper_init");
        free(s);
        return NULL;
    }
    /* By default the client resolves the host list again every time it
     * polls its socket (a getaddrinfo per wake-up: netlink sockets, ~40 %
     * of the client's CPU on loopback); a benchmark of loopback servers
     * whose addresses never change resolves them once, at connect. */
    zoo_set_servers_resolution_delay(s->zh, -1);
    return s;
}

static int zl_wait(void *session, int timeout_ms)
{
    zl_session *s = session;
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&s->mu);
    while (s->state != ZOO_CONNECTED_STATE) {
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) != 0)
            break;
    }
    int ok = s->state == ZOO_CONNECTED_STATE;
    pthread_mutex_unlock(&s->mu);
    return ok ? 0 : -1;
}

static void zl_close(void *session)
{
    zl_session *s = session;
    zookeeper_close(s->zh);
    free(s);
}

static void done_void(int rc, const void *data)
{
    lg_complete((lg_slot *)data, rc, 0);
}

static void done_stat(int rc, const struct Stat *st, const void *data)
{
    lg_complete((lg_slot *)data, rc, rc == ZOK && st ? st->mzxid : 0);
}

static void done_data(int rc, const char *v, int len, const struct Stat *st, const void *data)
{
    (void)v; (void)len; (void)st;
    lg_complete((lg_slot *)data, rc, 0);
}

static void done_string(int rc, const char *value, const void *data)
{
    (void)value;
    lg_complete((lg_slot *)data, rc, 0);
}

static void done_strings(int rc, const struct String_vector *v, const void *data)
{
    (void)v;
    lg_complete((lg_slot *)data, rc, 0);
}

static void done_multi(int rc, const void *data)
{
    lg_slot *slot = (lg_slot *)data;
    zl_multi *m = *lg_slot_backend_data(slot);
    lg_complete(slot, rc, rc == ZOK ? m->stats[0].mzxid : 0);
}

static int zl_issue(void *session, const lg_op *op, lg_slot *slot)
{
    zhandle_t *zh = ((zl_session *)session)->zh;
    switch (op->kind) {
    case LG_CREATE:
        return zoo_acreate(zh, op->path, op->data, op->data_len, &ZOO_OPEN_ACL_UNSAFE, 0,
                           done_string, slot);
    case LG_DELETE:
        return zoo_adelete(zh, op->path, -1, done_void, slot);
    case LG_SET:
        return zoo_aset(zh, op->path, op->data, op->data_len, -1, done_stat, slot);
    case LG_GET:
        return zoo_aget(zh, op->path, 0, done_data, slot);
    case LG_EXISTS:
        return zoo_aexists(zh, op->path, 0, done_stat, slot);
    case LG_CHILDREN:
        return zoo_aget_children(zh, op->path, 0, done_strings, slot);
    case LG_MULTI_SET: {
        zl_multi **m = (zl_multi **)lg_slot_backend_data(slot);
        if (!*m && !(*m = calloc(1, sizeof **m)))
            return ZSYSTEMERROR;
        for (int i = 0; i < op->npaths; i++)
            zoo_set_op_init(&(*m)->ops[i], op->paths[i], op->data, op->data_len, -1,
                            &(*m)->stats[i]);
        return zoo_amulti(zh, op->npaths, (*m)->ops, (*m)->results, done_multi, slot);
    }
    }
    return ZBADARGUMENTS;
}

static const lg_backend zkload_backend = { "zkload", zl_open, zl_wait, zl_close, zl_issue };

int main(int argc, char **argv)
{
    zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
    /* The driver spreads sessions over the hosts itself (session i starts
     * at host i mod n), the same way for both clients. */
    zoo_deterministic_conn_order(1);
    return lg_main(&zkload_backend, argc, argv);
}
