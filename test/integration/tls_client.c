/*
 * tls_client.c — drives the project's client library (include/zk/client.h)
 * over TLS for test_tls.sh: against a server's secureClientPort it
 * creates and reads znodes, creates a node whose only ACL is its
 * certificate's x509 identity and reads it back, checks whoAmI, and
 * reconnects over TLS keeping the session; or it checks that a bad
 * configuration or a refused handshake fails with the expected message.
 * Every wait is bounded.  Exit status 0 on success.
 *
 *   tls_client [--ca F] [--cert F] [--key F] [--password P] [--no-host-check]
 *              HOSTS check DN          (DN: the x509 id, "" for no cert)
 *              HOSTS refuse TEXT       (never connects; last error has TEXT)
 *              HOSTS openfail TEXT     (zkc_open fails with TEXT)
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "zk/client.h"

static atomic_int g_connects;   /* SYNC_CONNECTED events seen */

static void watcher(zkc *zk, int type, int state, const char *path, void *ctx)
{
    (void)zk; (void)path; (void)ctx;
    if (type == ZK_EVENT_NONE && state == ZK_STATE_SYNC_CONNECTED)
        atomic_fetch_add(&g_connects, 1);
}

static int fail(const char *what, int rc)
{
    fprintf(stderr, "tls_client: FAIL: %s (%s)\n", what, rc ? zk_error_name(rc) : "-");
    return 1;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int check(zkc *zk, const char *dn)
{
    int rc = zkc_wait_connected(zk, 30000);
    if (rc != ZOK) {
        char *e = zkc_last_error(zk);
        fprintf(stderr, "tls_client: last error: %s\n", e ? e : "(none)");
        g_free(e);
        return fail("connect over TLS", rc);
    }
    char path[64], xpath[64];
    snprintf(path, sizeof path, "/libtls-%d", (int)getpid());
    snprintf(xpath, sizeof xpath, "/libtls-x509-%d", (int)getpid());
    if ((rc = zkc_create(zk, path, "over tls", 8, ZK_CREATE_PERSISTENT, NULL, 0, NULL, NULL)) != ZOK)
        return fail("create", rc);
    GBytes *data = NULL;
    if ((rc = zkc_get(zk, path, false, &data, NULL)) != ZOK)
        return fail("get", rc);
    gsize n;
    const char *p = g_bytes_get_data(data, &n);
    if (n != 8 || memcmp(p, "over tls", 8) != 0)
        return fail("data read back differs", 0);
    g_bytes_unref(data);
    if (*dn) {
        zkc_acl *ids = NULL;
        if ((rc = zkc_whoami(zk, &ids)) != ZOK)
            return fail("whoAmI", rc);
        bool found = false;
        for (size_t i = 0; i < ids->count; i++) {
            printf("tls_client: whoAmI %s:%s\n", ids->entries[i].scheme, ids->entries[i].id);
            found |= strcmp(ids->entries[i].scheme, "x509") == 0 && strcmp(ids->entries[i].id, dn) == 0;
        }
        g_free(ids);
        if (!found)
            return fail("whoAmI does not show the certificate's x509 id", 0);
        zkc_acl_entry e = { ZK_PERM_ALL, "x509", dn };
        zkc_acl acl = { 1, &e };
        if ((rc = zkc_create(zk, xpath, "secret", 6, ZK_CREATE_PERSISTENT, &acl, 0, NULL, NULL)) != ZOK)
            return fail("create with an x509 ACL", rc);
        if ((rc = zkc_get(zk, xpath, false, &data, NULL)) != ZOK)
            return fail("get of the x509-protected node", rc);
        g_bytes_unref(data);
        zkc_acl *got = NULL;
        if ((rc = zkc_get_acl(zk, xpath, &got, NULL)) != ZOK)
            return fail("getACL", rc);
        bool same = got->count == 1 && strcmp(got->entries[0].scheme, "x509") == 0 &&
                    strcmp(got->entries[0].id, dn) == 0;
        g_free(got);
        if (!same)
            return fail("the ACL read back is not x509:DN", 0);
    }
    /* A new TLS connection, same session. */
    int64_t sid = zkc_session_id(zk);
    int before = atomic_load(&g_connects);
    zkc_force_reconnect(zk);
    for (int i = 0; i < 3000 && atomic_load(&g_connects) == before; i++)
        sleep_ms(10);
    if (atomic_load(&g_connects) == before || (rc = zkc_wait_connected(zk, 30000)) != ZOK)
        return fail("reconnect over TLS", rc);
    if (zkc_session_id(zk) != sid)
        return fail("the reconnection started a new session", 0);
    for (int i = 0; i < 100; i++) {
        rc = zkc_exists(zk, path, false, NULL);
        if (rc != ZCONNECTIONLOSS)
            break;
        zkc_wait_connected(zk, 30000);
    }
    if (rc != ZOK)
        return fail("exists after the reconnection", rc);
    if (*dn && (rc = zkc_delete(zk, xpath, -1)) != ZOK)
        return fail("delete the x509 node", rc);
    if ((rc = zkc_delete(zk, path, -1)) != ZOK)
        return fail("delete", rc);
    printf("tls_client: check ok\n");
    return 0;
}

static int refuse(zkc *zk, const char *text)
{
    char *e = NULL;
    /* Attempts repeat; give the first failures time to be recorded. */
    for (int i = 0; i < 300; i++) {
        if (zkc_state(zk) == ZK_STATE_SYNC_CONNECTED)
            return fail("connected although the handshake must fail", 0);
        g_free(e);
        e = zkc_last_error(zk);
        if (e && strstr(e, text))
            break;
        sleep_ms(50);
    }
    if (zkc_state(zk) == ZK_STATE_SYNC_CONNECTED)
        return fail("connected although the handshake must fail", 0);
    printf("tls_client: last error: %s\n", e ? e : "(none)");
    bool ok = e && strstr(e, text);
    g_free(e);
    if (!ok) {
        fprintf(stderr, "tls_client: FAIL: the last error does not contain '%s'\n", text);
        return 1;
    }
    printf("tls_client: refuse ok\n");
    return 0;
}

int main(int argc, char **argv)
{
    zkc_options o;
    zkc_options_init(&o);
    o.tls = true;
    o.session_timeout_ms = 10000;
    o.request_timeout_ms = 20000;
    o.connect_timeout_ms = 10000;
    o.watcher = watcher;
    int i = 1;
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--ca") == 0)
            o.tls_ca_file = argv[++i];
        else if (strcmp(argv[i], "--cert") == 0)
            o.tls_cert_file = argv[++i];
        else if (strcmp(argv[i], "--key") == 0)
            o.tls_key_file = argv[++i];
        else if (strcmp(argv[i], "--password") == 0)
            o.tls_ca_password = o.tls_key_password = argv[++i];
        else if (strcmp(argv[i], "--no-host-check") == 0)
            o.tls_no_hostname_check = true;
        else
            break;
    }
    if (argc - i != 3) {
        fprintf(stderr, "usage: tls_client [--ca F] [--cert F] [--key F] [--password P] [--no-host-check] "
                        "HOSTS check|refuse|openfail ARG\n");
        return 2;
    }
    o.hosts = argv[i];
    const char *mode = argv[i + 1], *arg = argv[i + 2];
    char *err = NULL;
    zkc *zk = zkc_open(&o, &err);
    if (strcmp(mode, "openfail") == 0) {
        if (zk) {
            zkc_close(zk);
            return fail("zkc_open accepted a bad TLS configuration", 0);
        }
        printf("tls_client: zkc_open: %s\n", err);
        int rc = strstr(err, arg) ? 0 : 1;
        if (rc)
            fprintf(stderr, "tls_client: FAIL: the message does not contain '%s'\n", arg);
        g_free(err);
        return rc;
    }
    if (!zk) {
        fprintf(stderr, "tls_client: zkc_open: %s\n", err);
        g_free(err);
        return 1;
    }
    int rc = strcmp(mode, "check") == 0 ? check(zk, arg) : refuse(zk, arg);
    zkc_close(zk);
    return rc;
}
