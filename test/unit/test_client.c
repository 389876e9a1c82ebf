/*
 * test_client.c — tests of the client library (include/zk/client.h)
 * against a real server it starts itself: bin/zkserver by default, or
 * Apache ZooKeeper 3.8 from the Debian package when ZK_TEST_APACHE=1
 * (test/integration/test_client_apache.sh).  Each server runs on a free
 * loopback port with a temp dataDir, dies with this process
 * (PR_SET_PDEATHSIG) and is killed by PID at the end; every wait is
 * bounded.
 *
 * Environment: ZK_TEST_APACHE=1 (use Apache), ZKSERVER (path of our
 * server binary, default bin/zkserver then ../../bin/zkserver).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "zk/client.h"

/* ---- the server under test ---- */

typedef struct test_server {
    pid_t pid;              /* 0 when not running */
    int port;
    char dir[64];           /* temp dir holding zoo.cfg and data/ */
    char hosts[64];         /* "127.0.0.1:port" */
    bool apache;
} test_server;

static test_server g_server;
static bool g_have_server;

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

/* Sends a four-letter word; true if the reply starts with expect. */
static bool four_letter(int port, const char *word, const char *expect)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    struct timeval tv = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    char buf[256] = { 0 };
    size_t got = 0;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) == 0 && write(fd, word, 4) == 4) {
        ssize_t n;
        while (got < sizeof buf - 1 && (n = read(fd, buf + got, sizeof buf - 1 - got)) > 0)
            got += (size_t)n;
    }
    close(fd);
    return strncmp(buf, expect, strlen(expect)) == 0 || (expect[0] == '\0' && got > 0);
}

static const char *zkserver_path(void)
{
    const char *env = getenv("ZKSERVER");
    if (env && *env)
        return env;
    if (access("bin/zkserver", X_OK) == 0)
        return "bin/zkserver";
    return "../../bin/zkserver";
}

static void launch(test_server *s)
{
    char cfg[128], log[128];
    snprintf(cfg, sizeof cfg, "%s/zoo.cfg", s->dir);
    snprintf(log, sizeof log, "%s/server.log", s->dir);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(1);
        setpgid(0, 0);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (s->apache) {
            char log4j[160];
            snprintf(log4j, sizeof log4j, "-Dlog4j.configuration=file:%s/log4j.properties", s->dir);
            execlp("java", "java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                   log4j, "-Dzookeeper.admin.enableServer=false",
                   "-cp",
                   "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:"
                   "/usr/share/java/log4j-1.2.jar",
                   "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg, (char *)NULL);
        } else {
            execl(zkserver_path(), "zkserver", cfg, (char *)NULL);
        }
        _exit(127);
    }
    s->pid = pid;
}

/* Waits (bounded) until the server answers ruok and srvr says it serves. */
static bool wait_serving(test_server *s, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    while (mono_ms() < end) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            s->pid = 0;
            return false;
        }
        if (four_letter(s->port, "ruok", "imok") && four_letter(s->port, "srvr", "Zoo"))
            return true;
        sleep_ms(100);
    }
    return false;
}

static bool server_start(test_server *s, bool apache)
{
    memset(s, 0, sizeof *s);
    s->apache = apache;
    snprintf(s->dir, sizeof s->dir, "/tmp/zkc-test.XXXXXX");
    if (!mkdtemp(s->dir))
        return false;
    s->port = free_port();
    snprintf(s->hosts, sizeof s->hosts, "127.0.0.1:%d", s->port);
    char path[128];
    snprintf(path, sizeof path, "%s/data", s->dir);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/zoo.cfg", s->dir);
    FILE *f = fopen(path, "w");
    if (!f)
        return false;
    fprintf(f, "tickTime=1000\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data\nclientPort=%d\n"
               "clientPortAddress=127.0.0.1\n4lw.commands.whitelist=*\n"
               "admin.enableServer=false\nextendedTypesEnabled=true\n",
            s->dir, s->port);
    fclose(f);
    if (apache) {
        snprintf(path, sizeof path, "%s/log4j.properties", s->dir);
        f = fopen(path, "w");
        if (!f)
            return false;
        fputs("log4j.rootLogger=WARN, OUT\nlog4j.appender.OUT=org.apache.log4j.ConsoleAppender\n"
              "log4j.appender.OUT.layout=org.apache.log4j.PatternLayout\n"
              "log4j.appender.OUT.layout.ConversionPattern=%d %-5p [%t] - %m%n\n",
              f);
        fclose(f);
    }
    launch(s);
    return wait_serving(s, 30000);
}

/* SIGTERM, then SIGKILL after 10 s; reaps the process. */
static void server_stop(test_server *s)
{
    if (s->pid <= 0)
        return;
    kill(s->pid, SIGCONT);
    kill(s->pid, SIGTERM);
    int64_t end = mono_ms() + 10000;
    int status;
    while (waitpid(s->pid, &status, WNOHANG) == 0) {
        if (mono_ms() > end) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &status, 0);
            break;
        }
        sleep_ms(20);
    }
    s->pid = 0;
}

static bool server_restart(test_server *s)
{
    launch(s);
    return wait_serving(s, 30000);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void server_cleanup(test_server *s)
{
    server_stop(s);
    if (s->dir[0] && getenv("KEEP_TMP") == NULL)
        nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    s->dir[0] = '\0';
}

static void on_exit_cleanup(void)
{
    if (g_have_server)
        server_cleanup(&g_server);
}

static void on_fatal_signal(int sig)
{
    if (g_server.pid > 0)
        kill(g_server.pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- watcher event recording ---- */

typedef struct event {
    int type, state;
    char *path;
} event;

typedef struct recorder {
    GAsyncQueue *events;    /* event*, owned */
} recorder;

static void record_event(zkc *zk, int type, int state, const char *path, void *ctx)
{
    (void)zk;
    recorder *rec = ctx;
    event *ev = g_new0(event, 1);
    ev->type = type;
    ev->state = state;
    ev->path = g_strdup(path);
    g_async_queue_push(rec->events, ev);
}

static void event_free(gpointer p)
{
    event *ev = p;
    g_free(ev->path);
    g_free(ev);
}

static recorder *recorder_new(void)
{
    recorder *rec = g_new0(recorder, 1);
    rec->events = g_async_queue_new_full(event_free);
    return rec;
}

static void recorder_free(recorder *rec)
{
    g_async_queue_unref(rec->events);
    g_free(rec);
}

/* Waits up to timeout_ms for an event of that type (and path, state when
 * given: state -999 = any); earlier non-matching events are dropped. */
static bool wait_event(recorder *rec, int type, int state, const char *path, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return false;
        event *ev = g_async_queue_timeout_pop(rec->events, (guint64)left * 1000);
        if (!ev)
            return false;
        bool match = ev->type == type && (state == -999 || ev->state == state) &&
                     (path == NULL || (ev->path && strcmp(ev->path, path) == 0));
        event_free(ev);
        if (match)
            return true;
    }
}

/* True if no watch event (type != NONE) arrives within ms. */
static bool no_node_event(recorder *rec, int ms)
{
    int64_t end = mono_ms() + ms;
    for (;;) {
        int64_t left = end - mono_ms();
        if (left <= 0)
            return true;
        event *ev = g_async_queue_timeout_pop(rec->events, (guint64)left * 1000);
        if (!ev)
            return true;
        bool node = ev->type != ZK_EVENT_NONE;
        event_free(ev);
        if (node)
            return false;
    }
}

/* ---- client helpers ---- */

static zkc *open_client(const char *hosts, recorder *rec, const char *auth, int session_ms,
                        int request_ms)
{
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = hosts;
    o.digest_auth = auth;
    if (session_ms)
        o.session_timeout_ms = session_ms;
    if (request_ms)
        o.request_timeout_ms = request_ms;
    if (rec) {
        o.watcher = record_event;
        o.watcher_ctx = rec;
    }
    char *err = NULL;
    zkc *zk = zkc_open(&o, &err);
    if (!zk)
        fail_msg("zkc_open: %s", err);
    assert_int_equal(zkc_wait_connected(zk, 15000), ZOK);
    return zk;
}

static zkc *connect_default(recorder *rec)
{
    return open_client(g_server.hosts, rec, NULL, 0, 0);
}

/* Deletes path and everything under it (best effort). */
static void delete_tree(zkc *zk, const char *path)
{
    GPtrArray *kids = NULL;
    if (zkc_children(zk, path, false, &kids) == ZOK) {
        for (guint i = 0; i < kids->len; i++) {
            char *child = strcmp(path, "/") == 0
                              ? g_strconcat("/", (char *)kids->pdata[i], NULL)
                              : g_strconcat(path, "/", (char *)kids->pdata[i], NULL);
            delete_tree(zk, child);
            g_free(child);
        }
        g_ptr_array_unref(kids);
    }
    zkc_delete(zk, path, -1);
}

/* ---- group setup ---- */

static int group_setup(void **state)
{
    (void)state;
    bool apache = getenv("ZK_TEST_APACHE") && strcmp(getenv("ZK_TEST_APACHE"), "1") == 0;
    g_have_server = true;
    if (!server_start(&g_server, apache)) {
        fprintf(stderr, "could not start the %s server (dir %s)\n",
                apache ? "Apache" : "zkserver", g_server.dir);
        return -1;
    }
    fprintf(stderr, "# server: %s on port %d\n", apache ? "Apache ZooKeeper" : "zkserver",
            g_server.port);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    server_cleanup(&g_server);
    g_have_server = false;
    return 0;
}

/* ---- tests ---- */

static void test_basic_operations(void **state)
{
    (void)state;
    zkc *zk = connect_default(NULL);
    assert_int_equal(zkc_state(zk), ZK_STATE_SYNC_CONNECTED);
    assert_true(zkc_session_id(zk) != 0);
    assert_true(zkc_session_timeout(zk) > 0);
    delete_tree(zk, "/basic");

    char *created = NULL;
    zk_stat st;
    assert_int_equal(zkc_create(zk, "/basic", "hello", 5, ZK_CREATE_PERSISTENT, NULL, 0,
                                &created, &st), ZOK);
    assert_string_equal(created, "/basic");
    g_free(created);
    assert_int_equal(st.data_length, 5);
    assert_int_equal(st.version, 0);
    assert_true(zkc_last_zxid(zk) >= st.czxid);

    assert_int_equal(zkc_create(zk, "/basic", "x", 1, 0, NULL, 0, NULL, NULL), ZNODEEXISTS);
    assert_int_equal(zkc_create(zk, "/nope/child", "x", 1, 0, NULL, 0, NULL, NULL), ZNONODE);
    assert_int_equal(zkc_create(zk, "relative", "x", 1, 0, NULL, 0, NULL, NULL), ZBADARGUMENTS);
    assert_int_equal(zkc_create(zk, "/basic/", "x", 1, 0, NULL, 0, NULL, NULL), ZBADARGUMENTS);

    GBytes *data = NULL;
    assert_int_equal(zkc_get(zk, "/basic", false, &data, &st), ZOK);
    gsize len;
    const char *bytes = g_bytes_get_data(data, &len);
    assert_int_equal(len, 5);
    assert_memory_equal(bytes, "hello", 5);
    g_bytes_unref(data);
    assert_int_equal(zkc_get(zk, "/missing", false, &data, NULL), ZNONODE);

    assert_int_equal(zkc_set(zk, "/basic", "world!", 6, 0, &st), ZOK);
    assert_int_equal(st.version, 1);
    assert_int_equal(zkc_set(zk, "/basic", "x", 1, 0, NULL), ZBADVERSION);
    assert_int_equal(zkc_set(zk, "/missing", "x", 1, -1, NULL), ZNONODE);
    /* null data */
    assert_int_equal(zkc_set(zk, "/basic", NULL, 0, -1, &st), ZOK);
    assert_int_equal(zkc_get(zk, "/basic", false, &data, &st), ZOK);
    assert_int_equal(g_bytes_get_size(data), 0);
    g_bytes_unref(data);

    assert_int_equal(zkc_exists(zk, "/basic", false, &st), ZOK);
    assert_int_equal(st.version, 2);
    assert_int_equal(zkc_exists(zk, "/missing", false, NULL), ZNONODE);

    /* children, sequential, ephemeral, container, TTL */
    assert_int_equal(zkc_create(zk, "/basic/a", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_int_equal(zkc_create(zk, "/basic/seq-", "s", 1, ZK_CREATE_PERSISTENT_SEQUENTIAL,
                                NULL, 0, &created, NULL), ZOK);
    assert_string_equal(created, "/basic/seq-0000000001");
    g_free(created);
    assert_int_equal(zkc_create(zk, "/basic/eph", "e", 1, ZK_CREATE_EPHEMERAL, NULL, 0, NULL,
                                &st), ZOK);
    assert_int_equal(st.ephemeral_owner, zkc_session_id(zk));
    assert_int_equal(zkc_create(zk, "/basic/eph/child", "e", 1, 0, NULL, 0, NULL, NULL),
                     ZNOCHILDRENFOREPHEMERALS);
    assert_int_equal(zkc_create(zk, "/basic/cont", NULL, 0, ZK_CREATE_CONTAINER, NULL, 0, NULL,
                                &st), ZOK);
    assert_int_equal(zkc_create(zk, "/basic/ttl", "t", 1, ZK_CREATE_PERSISTENT_WITH_TTL, NULL,
                                60000, NULL, &st), ZOK);
    assert_int_equal(zkc_create(zk, "/basic/ttl2", "t", 1, ZK_CREATE_PERSISTENT_WITH_TTL, NULL,
                                0, NULL, NULL), ZBADARGUMENTS);

    GPtrArray *names = NULL;
    assert_int_equal(zkc_children(zk, "/basic", false, &names), ZOK);
    assert_int_equal(names->len, 5);
    g_ptr_array_unref(names);
    assert_int_equal(zkc_children2(zk, "/basic", false, &names, &st), ZOK);
    assert_int_equal(names->len, 5);
    assert_int_equal(st.num_children, 5);
    bool found = false;
    for (guint i = 0; i < names->len; i++)
        found |= strcmp(names->pdata[i], "seq-0000000001") == 0;
    assert_true(found);
    g_ptr_array_unref(names);
    assert_int_equal(zkc_children(zk, "/missing", false, &names), ZNONODE);

    int32_t number = -1;
    assert_int_equal(zkc_get_all_children_number(zk, "/basic", &number), ZOK);
    assert_int_equal(number, 5);
    GPtrArray *ephemerals = NULL;
    assert_int_equal(zkc_get_ephemerals(zk, "/basic", &ephemerals), ZOK);
    assert_int_equal(ephemerals->len, 1);
    assert_string_equal(ephemerals->pdata[0], "/basic/eph");
    g_ptr_array_unref(ephemerals);

    /* ACLs */
    zkc_acl *acl = NULL;
    assert_int_equal(zkc_get_acl(zk, "/basic", &acl, &st), ZOK);
    assert_int_equal(acl->count, 1);
    assert_int_equal(acl->entries[0].perms, ZK_PERM_ALL);
    assert_string_equal(acl->entries[0].scheme, "world");
    assert_string_equal(acl->entries[0].id, "anyone");
    g_free(acl);
    assert_int_equal(zkc_set_acl(zk, "/basic/a", &zkc_acl_open_unsafe, 3, NULL), ZBADVERSION);
    assert_int_equal(zkc_set_acl(zk, "/basic/a", &zkc_acl_read_unsafe, -1, &st), ZOK);
    assert_int_equal(st.aversion, 1);
    /* no ADMIN permission left */
    assert_int_equal(zkc_set_acl(zk, "/basic/a", &zkc_acl_open_unsafe, 1, NULL), ZNOAUTH);
    assert_int_equal(zkc_set(zk, "/basic/a", "x", 1, -1, NULL), ZNOAUTH);
    assert_int_equal(zkc_get_acl(zk, "/missing", &acl, NULL), ZNONODE);
    assert_int_equal(zkc_set_acl(zk, "/basic", &zkc_acl_creator_all, -1, NULL), ZINVALIDACL);

    assert_int_equal(zkc_sync(zk, "/basic"), ZOK);
    zkc_acl *ids = NULL;
    assert_int_equal(zkc_whoami(zk, &ids), ZOK);
    assert_int_equal(ids->count, 1);
    assert_string_equal(ids->entries[0].scheme, "ip");
    g_free(ids);

    assert_int_equal(zkc_delete(zk, "/basic", -1), ZNOTEMPTY);
    assert_int_equal(zkc_delete(zk, "/basic/a", 5), ZBADVERSION);
    assert_int_equal(zkc_delete(zk, "/basic/missing", -1), ZNONODE);
    assert_int_equal(zkc_delete(zk, "/basic/a", 0), ZOK);
    delete_tree(zk, "/basic");
    assert_int_equal(zkc_exists(zk, "/basic", false, NULL), ZNONODE);
    zkc_close(zk);
}

static void test_chroot(void **state)
{
    (void)state;
    zkc *root = connect_default(NULL);
    delete_tree(root, "/chr");
    assert_int_equal(zkc_create(root, "/chr", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    char hosts[128];
    snprintf(hosts, sizeof hosts, "%s/chr", g_server.hosts);
    recorder *rec = recorder_new();
    zkc *zk = open_client(hosts, rec, NULL, 0, 0);
    char *created = NULL;
    assert_int_equal(zkc_create(zk, "/x", "1", 1, ZK_CREATE_EPHEMERAL_SEQUENTIAL, NULL, 0,
                                &created, NULL), ZOK);
    assert_string_equal(created, "/x0000000000");
    assert_int_equal(zkc_exists(root, "/chr/x0000000000", false, NULL), ZOK);
    GPtrArray *names = NULL;
    assert_int_equal(zkc_children(zk, "/", true, &names), ZOK);
    assert_int_equal(names->len, 1);
    g_ptr_array_unref(names);
    GPtrArray *eph = NULL;
    assert_int_equal(zkc_get_ephemerals(zk, "/", &eph), ZOK);
    assert_int_equal(eph->len, 1);
    assert_string_equal(eph->pdata[0], created);
    g_ptr_array_unref(eph);
    assert_int_equal(zkc_create(root, "/chr/y", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CHILD_CHANGED, -999, "/", 5000));
    g_free(created);
    zkc_close(zk);
    delete_tree(root, "/chr");
    zkc_close(root);
    recorder_free(rec);
}

typedef struct pipeline_state {
    pthread_mutex_t mu;
    int next_expected;      /* index of the next callback expected */
    int done, ok, out_of_order;
} pipeline_state;

typedef struct pipeline_item {
    pipeline_state *ps;
    int index;
} pipeline_item;

static void pipeline_cb(const zkc_result *res, void *ctx)
{
    pipeline_item *item = ctx;
    pipeline_state *ps = item->ps;
    pthread_mutex_lock(&ps->mu);
    if (item->index != ps->next_expected)
        ps->out_of_order++;
    ps->next_expected = item->index + 1;
    if (res->err == ZOK && res->path && res->has_stat)
        ps->ok++;
    ps->done++;
    pthread_mutex_unlock(&ps->mu);
}

static void test_pipelining(void **state)
{
    (void)state;
    zkc *zk = connect_default(NULL);
    delete_tree(zk, "/pipe");
    assert_int_equal(zkc_create(zk, "/pipe", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    enum { N = 1000 };
    pipeline_state ps = { .next_expected = 0 };
    pthread_mutex_init(&ps.mu, NULL);
    pipeline_item *items = g_new0(pipeline_item, N);
    int64_t t0 = mono_ms();
    for (int i = 0; i < N; i++) {
        char path[64];
        snprintf(path, sizeof path, "/pipe/n%04d", i);
        items[i].ps = &ps;
        items[i].index = i;
        assert_int_equal(zkc_acreate(zk, path, "v", 1, 0, NULL, 0, pipeline_cb, &items[i]), ZOK);
    }
    int64_t end = mono_ms() + 20000;
    for (;;) {
        pthread_mutex_lock(&ps.mu);
        int done = ps.done;
        pthread_mutex_unlock(&ps.mu);
        if (done == N || mono_ms() > end)
            break;
        sleep_ms(5);
    }
    fprintf(stderr, "# 1000 pipelined creates in %lld ms\n", (long long)(mono_ms() - t0));
    assert_int_equal(ps.done, N);
    assert_int_equal(ps.ok, N);
    assert_int_equal(ps.out_of_order, 0);
    int32_t number = 0;
    assert_int_equal(zkc_get_all_children_number(zk, "/pipe", &number), ZOK);
    assert_int_equal(number, N);
    delete_tree(zk, "/pipe");
    zkc_close(zk);
    g_free(items);
    pthread_mutex_destroy(&ps.mu);
}

static void test_watches(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = connect_default(rec);
    zkc *other = connect_default(NULL);
    delete_tree(other, "/w");
    assert_int_equal(zkc_create(other, "/w", "0", 1, 0, NULL, 0, NULL, NULL), ZOK);

    /* data watch via getData: fires once */
    assert_int_equal(zkc_get(zk, "/w", true, NULL, NULL), ZOK);
    assert_int_equal(zkc_set(other, "/w", "1", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, ZK_STATE_SYNC_CONNECTED, "/w", 5000));
    assert_int_equal(zkc_set(other, "/w", "2", 1, -1, NULL), ZOK);
    assert_true(no_node_event(rec, 300));

    /* exists watch on a missing node: fires on create */
    assert_int_equal(zkc_exists(zk, "/w/a", true, NULL), ZNONODE);
    assert_int_equal(zkc_create(other, "/w/a", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CREATED, -999, "/w/a", 5000));

    /* exists watch on an existing node: fires on delete */
    assert_int_equal(zkc_exists(zk, "/w/a", true, NULL), ZOK);
    assert_int_equal(zkc_delete(other, "/w/a", -1), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DELETED, -999, "/w/a", 5000));

    /* child watch */
    assert_int_equal(zkc_children2(zk, "/w", true, NULL, NULL), ZOK);
    assert_int_equal(zkc_create(other, "/w/b", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CHILD_CHANGED, -999, "/w", 5000));

    /* removeWatches */
    assert_int_equal(zkc_children(zk, "/w", true, NULL), ZOK);
    assert_int_equal(zkc_remove_watches(zk, "/w", ZK_WATCHER_CHILDREN), ZOK);
    assert_int_equal(zkc_create(other, "/w/c", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(no_node_event(rec, 300));
    assert_int_equal(zkc_remove_watches(zk, "/w", ZK_WATCHER_DATA), ZNOWATCHER);

    /* persistent: fires every time, not for children's data */
    assert_int_equal(zkc_add_watch(zk, "/w", ZK_ADDWATCH_PERSISTENT), ZOK);
    assert_int_equal(zkc_set(other, "/w", "3", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/w", 5000));
    assert_int_equal(zkc_set(other, "/w", "4", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/w", 5000));
    assert_int_equal(zkc_create(other, "/w/d", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CHILD_CHANGED, -999, "/w", 5000));
    assert_int_equal(zkc_remove_watches(zk, "/w", ZK_WATCHER_ANY), ZOK);
    assert_int_equal(zkc_set(other, "/w", "5", 1, -1, NULL), ZOK);
    assert_true(no_node_event(rec, 300));

    /* persistent recursive: the whole subtree, no child events */
    assert_int_equal(zkc_add_watch(zk, "/w", ZK_ADDWATCH_PERSISTENT_RECURSIVE), ZOK);
    assert_int_equal(zkc_create(other, "/w/d/deep", "x", 1, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CREATED, -999, "/w/d/deep", 5000));
    assert_int_equal(zkc_set(other, "/w/d/deep", "y", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/w/d/deep", 5000));
    assert_int_equal(zkc_delete(other, "/w/d/deep", -1), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DELETED, -999, "/w/d/deep", 5000));
    assert_int_equal(zkc_add_watch(zk, "relative", ZK_ADDWATCH_PERSISTENT), ZBADARGUMENTS);

    zkc_close(zk);
    delete_tree(other, "/w");
    zkc_close(other);
    recorder_free(rec);
}

static void test_multi(void **state)
{
    (void)state;
    zkc *zk = connect_default(NULL);
    delete_tree(zk, "/m");
    zkc_op ops[] = {
        zkc_op_create("/m", "root", 4, ZK_CREATE_PERSISTENT, NULL, 0),
        zkc_op_create("/m/s-", "a", 1, ZK_CREATE_PERSISTENT_SEQUENTIAL, NULL, 0),
        zkc_op_set("/m", "r2", 2, 0),
        zkc_op_check("/m", 1),
        zkc_op_create("/m/gone", NULL, 0, ZK_CREATE_PERSISTENT, NULL, 0),
        zkc_op_delete("/m/gone", 0),
    };
    zkc_op_result *res = NULL;
    size_t n = G_N_ELEMENTS(ops);
    assert_int_equal(zkc_multi(zk, ops, n, &res), ZOK);
    assert_non_null(res);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(res[i].err, ZOK);
    assert_string_equal(res[0].path, "/m");
    assert_string_equal(res[1].path, "/m/s-0000000000");
    assert_true(res[2].has_stat);
    assert_int_equal(res[2].stat.version, 1);
    zkc_op_results_free(res, n);

    /* a failing op: nothing applied; per-op errors */
    zkc_op bad[] = {
        zkc_op_create("/m/new", NULL, 0, ZK_CREATE_PERSISTENT, NULL, 0),
        zkc_op_check("/m", 7),
        zkc_op_delete("/m", -1),
    };
    assert_int_equal(zkc_multi(zk, bad, 3, &res), ZBADVERSION);
    assert_non_null(res);
    assert_int_equal(res[0].err, ZOK);
    assert_int_equal(res[1].err, ZBADVERSION);
    assert_int_equal(res[2].err, ZRUNTIMEINCONSISTENCY);
    zkc_op_results_free(res, 3);
    assert_int_equal(zkc_exists(zk, "/m/new", false, NULL), ZNONODE);

    zkc_op bad_type = { .type = ZK_OP_GETDATA, .path = "/m" };
    assert_int_equal(zkc_multi(zk, &bad_type, 1, &res), ZBADARGUMENTS);
    assert_int_equal(zkc_multi(zk, NULL, 0, &res), ZBADARGUMENTS);
    delete_tree(zk, "/m");
    zkc_close(zk);
}

static void test_digest_auth_acl(void **state)
{
    (void)state;
    zkc *alice = open_client(g_server.hosts, NULL, "alice:secret", 0, 0);
    zkc *anon = connect_default(NULL);
    zkc *bob = open_client(g_server.hosts, NULL, "bob:other", 0, 0);
    delete_tree(alice, "/auth");
    assert_int_equal(zkc_create(alice, "/auth", "private", 7, 0, &zkc_acl_creator_all, 0, NULL,
                                NULL), ZOK);
    zkc_acl *acl = NULL;
    assert_int_equal(zkc_get_acl(anon, "/auth", &acl, NULL), ZNOAUTH); /* needs READ|ADMIN */
    assert_int_equal(zkc_get_acl(alice, "/auth", &acl, NULL), ZOK);
    assert_int_equal(acl->count, 1);
    assert_string_equal(acl->entries[0].scheme, "digest");
    assert_true(g_str_has_prefix(acl->entries[0].id, "alice:"));
    g_free(acl);
    assert_int_equal(zkc_get(anon, "/auth", false, NULL, NULL), ZNOAUTH);
    assert_int_equal(zkc_get(bob, "/auth", false, NULL, NULL), ZNOAUTH);
    GBytes *data = NULL;
    assert_int_equal(zkc_get(alice, "/auth", false, &data, NULL), ZOK);
    assert_int_equal(g_bytes_get_size(data), 7);
    g_bytes_unref(data);

    zkc_acl *ids = NULL;
    assert_int_equal(zkc_whoami(alice, &ids), ZOK);
    bool digest = false;
    for (size_t i = 0; i < ids->count; i++)
        digest |= strcmp(ids->entries[i].scheme, "digest") == 0 &&
                  strcmp(ids->entries[i].id, "alice") == 0;
    assert_true(digest);
    g_free(ids);

    /* auth is re-sent after a reconnect */
    zkc_force_reconnect(alice);
    assert_int_equal(zkc_wait_connected(alice, 10000), ZOK);
    int rc;
    int64_t end = mono_ms() + 10000;
    while ((rc = zkc_get(alice, "/auth", false, NULL, NULL)) == ZCONNECTIONLOSS &&
           mono_ms() < end) {
        assert_int_equal(zkc_wait_connected(alice, 5000), ZOK);
    }
    assert_int_equal(rc, ZOK);
    assert_int_equal(zkc_delete(alice, "/auth", -1), ZOK);
    zkc_close(alice);
    zkc_close(anon);
    zkc_close(bob);
}

static void test_unreachable(void **state)
{
    (void)state;
    int port = free_port();
    char hosts[160];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", port);
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = hosts;
    zkc *zk = zkc_open(&o, NULL);
    assert_non_null(zk);
    assert_int_equal(zkc_wait_connected(zk, 300), ZOPERATIONTIMEOUT);
    assert_int_equal(zkc_state(zk), ZK_STATE_DISCONNECTED);
    int64_t t0 = mono_ms();
    assert_int_equal(zkc_get(zk, "/", false, NULL, NULL), ZCONNECTIONLOSS);
    assert_int_equal(zkc_aget(zk, "/", false, pipeline_cb, NULL), ZCONNECTIONLOSS);
    assert_true(mono_ms() - t0 < 100);
    t0 = mono_ms();
    zkc_close(zk);
    assert_true(mono_ms() - t0 < 2000);

    /* bad connect strings */
    char *err = NULL;
    o.hosts = "";
    assert_null(zkc_open(&o, &err));
    assert_non_null(err);
    g_free(err);
    o.hosts = "127.0.0.1:notaport";
    assert_null(zkc_open(&o, &err));
    g_free(err);
    o.hosts = "127.0.0.1:2181/bad/";
    assert_null(zkc_open(&o, &err));
    g_free(err);

    /* a dead host first, then the live one */
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d,%s", port, g_server.hosts);
    o.hosts = hosts;
    zk = zkc_open(&o, NULL);
    assert_non_null(zk);
    assert_int_equal(zkc_wait_connected(zk, 10000), ZOK);
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZOK);
    zkc_close(zk);
}

typedef struct close_state {
    pthread_mutex_t mu;
    int calls, unexpected;
} close_state;

static void close_cb(const zkc_result *res, void *ctx)
{
    close_state *cs = ctx;   /* no cmocka asserts here: this is the I/O thread */
    pthread_mutex_lock(&cs->mu);
    if (res->err != ZOK && res->err != ZCLOSING)
        cs->unexpected++;
    cs->calls++;
    pthread_mutex_unlock(&cs->mu);
}

static void test_close_completes_everything(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = connect_default(rec);
    close_state cs = { .calls = 0 };
    pthread_mutex_init(&cs.mu, NULL);
    for (int i = 0; i < 100; i++)
        assert_int_equal(zkc_aexists(zk, "/", false, close_cb, &cs), ZOK);
    zkc_close(zk);
    assert_int_equal(cs.calls, 100);
    assert_int_equal(cs.unexpected, 0);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_CLOSED, NULL, 1000));
    pthread_mutex_destroy(&cs.mu);
    recorder_free(rec);
    zkc_close(NULL);
}

/* Restart the server: the session survives and watches are re-registered. */
static void test_reconnect_after_restart(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = open_client(g_server.hosts, rec, NULL, 20000, 0);
    delete_tree(zk, "/rw");
    assert_int_equal(zkc_create(zk, "/rw", "0", 1, 0, NULL, 0, NULL, NULL), ZOK);
    assert_int_equal(zkc_create(zk, "/rw/fired", "0", 1, 0, NULL, 0, NULL, NULL), ZOK);
    assert_int_equal(zkc_create(zk, "/rw/eph", "0", 1, ZK_CREATE_EPHEMERAL, NULL, 0, NULL,
                                NULL), ZOK);
    int64_t session = zkc_session_id(zk);

    /* a one-shot watch that fires before the restart (must not come back) */
    assert_int_equal(zkc_get(zk, "/rw/fired", true, NULL, NULL), ZOK);
    assert_int_equal(zkc_set(zk, "/rw/fired", "1", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/rw/fired", 5000));
    /* active watches: data, exist, child, persistent recursive */
    assert_int_equal(zkc_get(zk, "/rw", true, NULL, NULL), ZOK);
    assert_int_equal(zkc_exists(zk, "/rw/later", true, NULL), ZNONODE);
    assert_int_equal(zkc_children(zk, "/rw", true, NULL), ZOK);
    assert_int_equal(zkc_add_watch(zk, "/rw/fired", ZK_ADDWATCH_PERSISTENT_RECURSIVE), ZOK);

    server_stop(&g_server);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 10000));
    assert_int_equal(zkc_get(zk, "/rw", false, NULL, NULL), ZCONNECTIONLOSS);
    assert_true(server_restart(&g_server));
    assert_int_equal(zkc_wait_connected(zk, 20000), ZOK);
    assert_int_equal(zkc_session_id(zk), session);
    assert_int_equal(zkc_exists(zk, "/rw/eph", false, NULL), ZOK);

    zkc *other = connect_default(NULL);
    assert_int_equal(zkc_set(other, "/rw", "x", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/rw", 5000));
    assert_int_equal(zkc_create(other, "/rw/later", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_CREATED, -999, "/rw/later", 5000));
    assert_true(wait_event(rec, ZK_EVENT_CHILD_CHANGED, -999, "/rw", 5000));
    assert_int_equal(zkc_set(other, "/rw/fired", "2", 1, -1, NULL), ZOK);
    /* only the persistent recursive watch fires (the one-shot one did before) */
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/rw/fired", 5000));
    assert_true(no_node_event(rec, 300));
    assert_int_equal(zkc_set(other, "/rw/fired", "3", 1, -1, NULL), ZOK);
    assert_true(wait_event(rec, ZK_EVENT_DATA_CHANGED, -999, "/rw/fired", 5000));
    zkc_close(zk);
    delete_tree(other, "/rw");
    zkc_close(other);
    recorder_free(rec);
}

/* True once every thread of process pid is stopped ('T' or 't' in its
 * /proc stat), within timeout_ms.  kill(SIGSTOP) returns before a thread
 * running on another CPU has stopped: a JVM's selector thread could still
 * answer a request sent right after it (seen once in CI with two tests at
 * a time on two loaded cores). */
static bool wait_stopped(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 5) {
        char dir[64];
        snprintf(dir, sizeof dir, "/proc/%d/task", (int)pid);
        DIR *d = opendir(dir);
        if (!d)
            return false;
        bool all = true, any = false;
        struct dirent *e;
        while ((e = readdir(d)) && all) {
            if (e->d_name[0] == '.')
                continue;
            char path[384], buf[512];
            snprintf(path, sizeof path, "%s/%s/stat", dir, e->d_name);
            FILE *f = fopen(path, "r");
            if (!f)
                continue;   /* the thread ended */
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = 0;
            const char *paren = strrchr(buf, ')');
            if (!paren || paren[1] != ' ')
                continue;
            any = true;
            if (paren[2] != 'T' && paren[2] != 't')
                all = false;
        }
        closedir(d);
        if (all && any)
            return true;
        usleep(5000);
    }
    return false;
}

/* A SIGSTOPped server: sync calls time out, the connection is declared
 * lost, and the client reconnects after SIGCONT. */
static void test_request_timeout_stopped_server(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = open_client(g_server.hosts, rec, NULL, 4000, 800);
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZOK);
    kill(g_server.pid, SIGSTOP);
    assert_true(wait_stopped(g_server.pid, 5000));
    int64_t t0 = mono_ms();
    int rc = zkc_get(zk, "/", false, NULL, NULL);
    int64_t took = mono_ms() - t0;
    assert_int_equal(rc, ZOPERATIONTIMEOUT);
    assert_true(took >= 700 && took < 1500);
    /* nothing arrives within 2/3 of the session timeout: disconnected */
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 6000));
    t0 = mono_ms();
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZCONNECTIONLOSS);
    assert_true(mono_ms() - t0 < 100);
    kill(g_server.pid, SIGCONT);
    /* the session may have expired meanwhile: a new one is made then */
    assert_int_equal(zkc_wait_connected(zk, 20000), ZOK);
    int64_t end = mono_ms() + 10000;
    while ((rc = zkc_exists(zk, "/", false, NULL)) != ZOK && mono_ms() < end)
        zkc_wait_connected(zk, 5000);
    assert_int_equal(rc, ZOK);
    zkc_close(zk);
    recorder_free(rec);
}

/* ---- a scripted fake server: handshakes, malformed replies, expiry,
 * auth failure (one step per accepted connection) ---- */

enum fake_step {
    FAKE_OVERSIZED,         /* session, then a frame header claiming 2 GB */
    FAKE_TRUNCATED,         /* session, then a getData reply cut short */
    FAKE_WRONG_XID,         /* session, then a reply with an unknown xid */
    FAKE_DROP,              /* session, then hang up */
    FAKE_EXPIRED,           /* answer the handshake with session 0 / timeout 0 */
    FAKE_AUTH_FAIL,         /* session, then fail the auth packet */
    FAKE_SERVE,             /* session, then answer pings until the client leaves */
};

typedef struct fake_server {
    int listen_fd;
    int port;
    const int *steps;       /* not owned */
    int n_steps;
    int64_t session_ids[8]; /* per connection: the session id the client asked for */
    int64_t session_to_give[8];
    int connections;
} fake_server;

static ssize_t read_frame(int fd, uint8_t *buf, size_t cap)
{
    uint8_t hdr[4];
    size_t got = 0;
    while (got < 4) {
        ssize_t n = read(fd, hdr + got, 4 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    size_t len = zk_be32(hdr);
    if (len > cap)
        return -1;
    got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    return (ssize_t)len;
}

static void write_all(int fd, const jute_writer *w)
{
    size_t off = 0;
    while (off < w->len) {
        ssize_t n = write(fd, w->buf + off, w->len - off);
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

static void *fake_server_main(void *arg)
{
    fake_server *fs = arg;
    struct timeval tv = { 5, 0 };
    setsockopt(fs->listen_fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    static uint8_t buf[65536];
    for (int i = 0; i < fs->n_steps; i++) {
        int fd = accept(fs->listen_fd, NULL, NULL);
        if (fd < 0)
            return NULL;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        fs->connections++;
        int step = fs->steps[i];
        ssize_t n = read_frame(fd, buf, sizeof buf);    /* ConnectRequest */
        if (n < 0) {
            close(fd);
            continue;
        }
        jute_reader r;
        zk_connect_request creq;
        jr_init(&r, buf, (size_t)n);
        if (zk_connect_request_read(&r, &creq))
            fs->session_ids[i] = creq.session_id;
        jute_writer w;
        jw_init(&w, 128);
        jw_int(&w, 0);
        bool expired = step == FAKE_EXPIRED;
        zk_connect_response resp = { 0, expired ? 0 : 4000,
                                     expired ? 0 : fs->session_to_give[i],
                                     { "0123456789abcdef", 16 }, false };
        zk_connect_response_write(&w, &resp);
        jw_patch_int(&w, 0, (int32_t)(w.len - 4));
        write_all(fd, &w);
        jw_reset(&w);
        if (step == FAKE_OVERSIZED || step == FAKE_TRUNCATED || step == FAKE_WRONG_XID) {
            n = read_frame(fd, buf, sizeof buf);       /* the getData request */
            int32_t xid = n >= 8 ? (int32_t)zk_be32(buf) : 1;
            if (step == FAKE_OVERSIZED) {
                jw_int(&w, 0x7ffffff0);
            } else {
                jw_int(&w, 0);
                jw_int(&w, step == FAKE_WRONG_XID ? xid + 5 : xid);
                jw_long(&w, 7);
                jw_int(&w, 0);
                jw_buffer(&w, "abc", 3);
                jw_long(&w, 1);                         /* stat cut short */
                jw_patch_int(&w, 0, (int32_t)(w.len - 4));
            }
            write_all(fd, &w);
        } else if (step == FAKE_AUTH_FAIL || step == FAKE_SERVE) {
            while ((n = read_frame(fd, buf, sizeof buf)) >= 8) {
                int32_t xid = (int32_t)zk_be32(buf), op = (int32_t)zk_be32(buf + 4);
                jw_reset(&w);
                jw_int(&w, 0);
                jw_int(&w, xid);
                jw_long(&w, 0);
                jw_int(&w, op == ZK_OP_AUTH ? ZAUTHFAILED : ZOK);
                jw_patch_int(&w, 0, (int32_t)(w.len - 4));
                write_all(fd, &w);
                if (op == ZK_OP_CLOSESESSION)
                    break;
            }
        }
        if (step != FAKE_DROP && step != FAKE_EXPIRED) {
            shutdown(fd, SHUT_WR);
            while (read(fd, buf, sizeof buf) > 0)       /* until the client hangs up */
                ;
        }
        jw_free(&w);
        close(fd);
    }
    return NULL;
}

static void fake_server_start(fake_server *fs, pthread_t *th, const int *steps, int n)
{
    memset(fs, 0, sizeof *fs);
    fs->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    fs->steps = steps;
    fs->n_steps = n;
    for (int i = 0; i < 8; i++)
        fs->session_to_give[i] = 0x1234;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    assert_int_equal(bind(fs->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(fs->listen_fd, 4), 0);
    getsockname(fs->listen_fd, (struct sockaddr *)&a, &len);
    fs->port = ntohs(a.sin_port);
    pthread_create(th, NULL, fake_server_main, fs);
}

static void test_malformed_replies(void **state)
{
    (void)state;
    for (int step = FAKE_OVERSIZED; step <= FAKE_WRONG_XID; step++) {
        fake_server fs;
        pthread_t th;
        fake_server_start(&fs, &th, &step, 1);
        char hosts[64];
        snprintf(hosts, sizeof hosts, "127.0.0.1:%d", fs.port);
        recorder *rec = recorder_new();
        zkc *zk = open_client(hosts, rec, NULL, 4000, 2000);
        assert_int_equal(zkc_session_id(zk), 0x1234);
        assert_int_equal(zkc_get(zk, "/x", false, NULL, NULL), ZCONNECTIONLOSS);
        assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 2000));
        zkc_close(zk);
        pthread_join(th, NULL);
        close(fs.listen_fd);
        recorder_free(rec);
    }
}

/* Reconnect with the old session, get "expired", start a new session. */
static void test_session_expiry(void **state)
{
    (void)state;
    static const int steps[] = { FAKE_DROP, FAKE_EXPIRED, FAKE_SERVE };
    fake_server fs;
    pthread_t th;
    fake_server_start(&fs, &th, steps, 3);
    fs.session_to_give[2] = 0x5678;
    char hosts[64];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", fs.port);
    recorder *rec = recorder_new();
    zkc *zk = open_client(hosts, rec, NULL, 4000, 2000);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_SYNC_CONNECTED, NULL, 2000));
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 5000));
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_EXPIRED, NULL, 5000));
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_SYNC_CONNECTED, NULL, 5000));
    assert_int_equal(zkc_session_id(zk), 0x5678);
    assert_int_equal(fs.session_ids[0], 0);
    assert_int_equal(fs.session_ids[1], 0x1234);  /* tried to resume the session */
    assert_int_equal(fs.session_ids[2], 0);       /* then asked for a new one */
    assert_int_equal(zkc_delete(zk, "/x", -1), ZOK); /* the fake answers ZOK, no body */
    zkc_close(zk);
    pthread_join(th, NULL);
    close(fs.listen_fd);
    recorder_free(rec);

    /* without auto_new_session the handle stays expired */
    static const int steps2[] = { FAKE_DROP, FAKE_EXPIRED };
    fake_server_start(&fs, &th, steps2, 2);
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", fs.port);
    rec = recorder_new();
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = hosts;
    o.auto_new_session = false;
    o.watcher = record_event;
    o.watcher_ctx = rec;
    zk = zkc_open(&o, NULL);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_EXPIRED, NULL, 5000));
    assert_int_equal(zkc_state(zk), ZK_STATE_EXPIRED);
    assert_int_equal(zkc_wait_connected(zk, 100), ZSESSIONEXPIRED);
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZSESSIONEXPIRED);
    zkc_close(zk);
    pthread_join(th, NULL);
    close(fs.listen_fd);
    recorder_free(rec);
}

static void test_auth_failed(void **state)
{
    (void)state;
    static const int steps[] = { FAKE_AUTH_FAIL };
    fake_server fs;
    pthread_t th;
    fake_server_start(&fs, &th, steps, 1);
    char hosts[64];
    snprintf(hosts, sizeof hosts, "127.0.0.1:%d", fs.port);
    recorder *rec = recorder_new();
    zkc_options o;
    zkc_options_init(&o);
    o.hosts = hosts;
    o.digest_auth = "user:wrong";
    o.watcher = record_event;
    o.watcher_ctx = rec;
    zkc *zk = zkc_open(&o, NULL);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_AUTH_FAILED, NULL, 5000));
    assert_int_equal(zkc_state(zk), ZK_STATE_AUTH_FAILED);
    assert_int_equal(zkc_wait_connected(zk, 100), ZAUTHFAILED);
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZAUTHFAILED);
    zkc_close(zk);
    pthread_join(th, NULL);
    close(fs.listen_fd);
    recorder_free(rec);
}

/* Idle longer than the session timeout: pings keep the session. */
static void test_pings_keep_session(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = open_client(g_server.hosts, rec, NULL, 3000, 0);
    int64_t session = zkc_session_id(zk);
    assert_int_equal(zkc_session_timeout(zk), 3000);
    /* idle for longer than the session timeout */
    assert_false(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 4000));
    assert_int_equal(zkc_state(zk), ZK_STATE_SYNC_CONNECTED);
    assert_int_equal(zkc_session_id(zk), session);
    assert_int_equal(zkc_exists(zk, "/", false, NULL), ZOK);
    zkc_close(zk);
    recorder_free(rec);
}

/* Several threads issuing synchronous calls on one handle. */
typedef struct worker_arg {
    zkc *zk;
    int id;
    int errors;
} worker_arg;

static void *worker_main(void *p)
{
    worker_arg *wa = p;
    char path[64];
    snprintf(path, sizeof path, "/mt/w%d", wa->id);
    if (zkc_create(wa->zk, path, "0", 1, 0, NULL, 0, NULL, NULL) != ZOK)
        wa->errors++;
    for (int i = 0; i < 100; i++) {
        char val[16];
        int len = snprintf(val, sizeof val, "%d", i);
        zk_stat st;
        GBytes *data = NULL;
        if (zkc_set(wa->zk, path, val, len, i, &st) != ZOK || st.version != i + 1)
            wa->errors++;
        if (zkc_get(wa->zk, path, false, &data, NULL) != ZOK ||
            g_bytes_get_size(data) != (gsize)len ||
            memcmp(g_bytes_get_data(data, NULL), val, (size_t)len) != 0)
            wa->errors++;
        if (data)
            g_bytes_unref(data);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    zkc *zk = connect_default(NULL);
    delete_tree(zk, "/mt");
    assert_int_equal(zkc_create(zk, "/mt", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    enum { T = 4 };
    pthread_t th[T];
    worker_arg args[T];
    for (int i = 0; i < T; i++) {
        args[i] = (worker_arg){ zk, i, 0 };
        pthread_create(&th[i], NULL, worker_main, &args[i]);
    }
    for (int i = 0; i < T; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(args[i].errors, 0);
    }
    delete_tree(zk, "/mt");
    zkc_close(zk);
}

/* Thousands of watches (more than one SetWatches2 packet) survive a
 * reconnect. */
typedef struct count_state {
    pthread_mutex_t mu;
    int done, nonode, api_refused;
    zkc *zk;
} count_state;

static void count_cb(const zkc_result *res, void *ctx)
{
    count_state *cs = ctx;
    pthread_mutex_lock(&cs->mu);
    cs->done++;
    if (res->err == ZNONODE)
        cs->nonode++;
    pthread_mutex_unlock(&cs->mu);
}

static bool wait_count(count_state *cs, int n, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;
    for (;;) {
        pthread_mutex_lock(&cs->mu);
        int done = cs->done;
        pthread_mutex_unlock(&cs->mu);
        if (done >= n)
            return true;
        if (mono_ms() > end)
            return false;
        sleep_ms(5);
    }
}

static void test_many_watches_reregistered(void **state)
{
    (void)state;
    recorder *rec = recorder_new();
    zkc *zk = connect_default(rec);
    zkc *other = connect_default(NULL);
    delete_tree(other, "/many");
    char parent[160];
    snprintf(parent, sizeof parent, "/many/%0100d", 0);
    assert_int_equal(zkc_create(other, "/many", NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    assert_int_equal(zkc_create(other, parent, NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
    enum { N = 2000 };     /* ~230 KB of paths: two SetWatches2 packets */
    count_state cs = { .done = 0 };
    pthread_mutex_init(&cs.mu, NULL);
    for (int i = 0; i < N; i++) {
        char path[200];
        snprintf(path, sizeof path, "%s/n%05d", parent, i);
        assert_int_equal(zkc_aexists(zk, path, true, count_cb, &cs), ZOK);
    }
    assert_true(wait_count(&cs, N, 20000));
    assert_int_equal(cs.nonode, N);
    int64_t session = zkc_session_id(zk);
    zkc_force_reconnect(zk);
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_DISCONNECTED, NULL, 5000));
    assert_true(wait_event(rec, ZK_EVENT_NONE, ZK_STATE_SYNC_CONNECTED, NULL, 10000));
    assert_int_equal(zkc_session_id(zk), session);
    /* a round trip after SetWatches2 makes sure the server has them */
    assert_int_equal(zkc_sync(zk, "/"), ZOK);
    int picks[] = { 0, 1234, N - 1 };
    for (size_t k = 0; k < G_N_ELEMENTS(picks); k++) {
        char path[200];
        snprintf(path, sizeof path, "%s/n%05d", parent, picks[k]);
        assert_int_equal(zkc_create(other, path, NULL, 0, 0, NULL, 0, NULL, NULL), ZOK);
        assert_true(wait_event(rec, ZK_EVENT_CREATED, -999, path, 5000));
    }
    zkc_close(zk);
    delete_tree(other, "/many");
    zkc_close(other);
    pthread_mutex_destroy(&cs.mu);
    recorder_free(rec);
}

/* A sync wrapper called from a callback is refused instead of deadlocking. */
static void refusing_cb(const zkc_result *res, void *ctx)
{
    (void)res;
    count_state *cs = ctx;
    int rc = zkc_exists(cs->zk, "/", false, NULL);
    pthread_mutex_lock(&cs->mu);
    if (rc == ZAPIERROR)
        cs->api_refused++;
    cs->done++;
    pthread_mutex_unlock(&cs->mu);
}

static void test_sync_call_from_callback(void **state)
{
    (void)state;
    zkc *zk = connect_default(NULL);
    count_state cs = { .done = 0, .zk = zk };
    pthread_mutex_init(&cs.mu, NULL);
    assert_int_equal(zkc_aexists(zk, "/", false, refusing_cb, &cs), ZOK);
    assert_true(wait_count(&cs, 1, 5000));
    assert_int_equal(cs.api_refused, 1);
    zkc_close(zk);
    pthread_mutex_destroy(&cs.mu);
}

int main(void)
{
    atexit(on_exit_cleanup);
    signal(SIGINT, on_fatal_signal);
    signal(SIGTERM, on_fatal_signal);
    signal(SIGABRT, on_fatal_signal);
    signal(SIGSEGV, on_fatal_signal);
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic_operations),
        cmocka_unit_test(test_chroot),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_watches),
        cmocka_unit_test(test_multi),
        cmocka_unit_test(test_digest_auth_acl),
        cmocka_unit_test(test_unreachable),
        cmocka_unit_test(test_close_completes_everything),
        cmocka_unit_test(test_malformed_replies),
        cmocka_unit_test(test_session_expiry),
        cmocka_unit_test(test_auth_failed),
        cmocka_unit_test(test_pings_keep_session),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_many_watches_reregistered),
        cmocka_unit_test(test_sync_call_from_callback),
        cmocka_unit_test(test_reconnect_after_restart),
        cmocka_unit_test(test_request_timeout_stopped_server),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
