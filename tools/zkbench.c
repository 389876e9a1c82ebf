/*
 * zkbench.c — bin/zkbench, the benchmark client on the project's own client
 * library (lib/client.c): the load driver of tools/bench/loadgen.c (N
 * sessions x D operations in flight, a measured window, latency
 * percentiles, CPU) with the zkc_* calls as its backend.  bin/zkload is the
 * same driver on the official Apache C client; both take the same options
 * (`bin/zkbench --help`) and print the same lines.  Works against zkserver
 * or any ZooKeeper ensemble.  Over TLS (secureClientPort) with
 * ZKBENCH_TLS_CA=ca.pem [ZKBENCH_TLS_CERT=c.pem ZKBENCH_TLS_KEY=c.key].
 */
#include <stdio.h>
#include <stdlib.h>

#include "../tools/bench/loadgen.h"
#include "zk/client.h"

static void *zb_open(const char *servers)
{
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = servers;
    o.session_timeout_ms = 30000;
    o.request_timeout_ms = 30000;
    /* TLS from the environment (bin/zkload has no TLS): ZKBENCH_TLS_CA
     * (implies TLS), ZKBENCH_TLS_CERT, ZKBENCH_TLS_KEY. */
    o.tls_ca_file = getenv("ZKBENCH_TLS_CA");
    o.tls_cert_file = getenv("ZKBENCH_TLS_CERT");
    o.tls_key_file = getenv("ZKBENCH_TLS_KEY");
    o.tls = o.tls_ca_file != NULL;
    char *err = NULL;
    zkc *zk = zkc_open(&o, &err);
    if (!zk) {
        fprintf(stderr, "zkbench: cannot open a session to %s: %s\n", servers, err ? err : "?");
        g_free(err);
    }
    return zk;
}

static int zb_wait(void *session, int timeout_ms)
{
    return zkc_wait_connected(session, timeout_ms) == ZOK ? 0 : -1;
}

static void zb_close(void *session) { zkc_close(session); }

static void done(const zkc_result *res, void *ctx)
{
    int64_t zxid = 0;
    if (res->err == ZOK && res->has_stat)
        zxid = res->stat.mzxid;
    else if (res->err == ZOK && res->n_ops > 0 && res->ops[0].has_stat)
        zxid = res->ops[0].stat.mzxid;
    lg_complete(ctx, res->err, zxid);
}

static int zb_issue(void *session, const lg_op *op, lg_slot *slot)
{
    zkc *zk = session;
    switch (op->kind) {
    case LG_CREATE:
        return zkc_acreate(zk, op->path, op->data, op->data_len, 0, NULL, -1, done, slot);
    case LG_DELETE:
        return zkc_adelete(zk, op->path, -1, done, slot);
    case LG_SET:
        return zkc_aset(zk, op->path, op->data, op->data_len, -1, done, slot);
    case LG_GET:
        return zkc_aget(zk, op->path, false, done, slot);
    case LG_EXISTS:
        return zkc_aexists(zk, op->path, false, done, slot);
    case LG_CHILDREN:
        return zkc_achildren(zk, op->path, false, done, slot);
    case LG_MULTI_SET: {
        zkc_op ops[LG_MULTI_OPS];
        for (int i = 0; i < op->npaths; i++)
            ops[i] = zkc_op_set(op->paths[i], op->data, op->data_len, -1);
        return zkc_amulti(zk, ops, (size_t)op->npaths, done, slot);   /* encoded at once */
    }
    }
    return ZBADARGUMENTS;
}

static const lg_backend zkbench_backend = { "zkbench", zb_open, zb_wait, zb_close, zb_issue };

int main(int argc, char **argv)
{
    return lg_main(&zkbench_backend, argc, argv);
}
