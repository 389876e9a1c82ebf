/*
 * server.c — building, running and stopping a standalone zkserver: the
 * event loop's hooks (before-sleep group commit, the periodic tick),
 * signal handling, logging and shared statistics.
 */
#include "conn.h"
#include "fourlw.h"
#include "persist.h"
#include "readonly.h"
#include "replicator.h"
#include "reqpool.h"
#include "request.h"
#include "server.h"
#include "acl.h"
#include "admin_http.h"
#include "metrics.h"

#include <openssl/ssl.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "logfile.h"
#include "quorum.h"
#include "sasl.h"
#include "sdnotify.h"
#include "server_main.h"

bool zk_log_enabled = true;

void zk_log(const char *level, const char *fmt, ...)
{
    if (!zk_log_enabled)
        return;
    char ts[64];
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm tm;
    localtime_r(&now.tv_sec, &tm);
    size_t n = strftime(ts, sizeof ts, "%Y-%m-%d %H:%M:%S", &tm);
    snprintf(ts + n, sizeof ts - n, ",%03ld", now.tv_nsec / 1000000);
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s [zkserver] %s - %s\n", ts, level, msg);
    g_free(msg);
}

bool log_limiter_allow(log_limiter *l, int64_t interval_ms, uint64_t *suppressed)
{
    int64_t now = loop_now_ms();
    if (now < l->next_ms) {
        l->suppressed++;
        return false;
    }
    l->next_ms = now + interval_ms;
    *suppressed = l->suppressed;
    l->suppressed = 0;
    return true;
}

void server_record_latency(zk_server *s, zk_conn *c, int64_t latency)
{
    if (latency < 0)
        latency = 0;
    if (s->min_latency < 0 || latency < s->min_latency)
        s->min_latency = latency;
    if (latency > s->max_latency)
        s->max_latency = latency;
    s->total_latency += latency;
    s->latency_count++;
    if (c) {
        c->last_latency = latency;
        if (c->min_latency < 0 || latency < c->min_latency)
            c->min_latency = latency;
        if (latency > c->max_latency)
            c->max_latency = latency;
        c->total_latency += latency;
        c->latency_count++;
    }
}

void server_fail_stop(zk_server *s, const char *why)
{
    if (s->log_fatal)
        return;
    LOG_ERROR("FATAL: %s; stopping the server (fail-stop) rather than diverge: nothing it could not"
              " make durable is acknowledged. Restart it once the cause is fixed: it recovers from"
              " what is on disk%s", why, s->repl ? s->repl->fatal_recovery : "");
    s->log_fatal = true;
    s->serving = false;
    request_abort_inflight(s);
    if (s->loop)
        loop_stop(s->loop);
}

void server_reset_stats(zk_server *s)
{
    s->packets_received = 0;
    s->packets_sent = 0;
    s->min_latency = -1;
    s->max_latency = 0;
    s->total_latency = 0;
    s->latency_count = 0;
    s->last_response_size = s->min_response_size = s->max_response_size = -1;
}

/* Before sleeping: hand everything logged this iteration to the writer
 * thread as one batch (group commit).  Replies go out when it is durable. */
static void before_sleep(zk_loop *l, void *ctx)
{
    (void)l;
    zk_server *s = ctx;
    /* Peer links first (what a lost link causes may answer clients), then
     * the clients (resumed connections may forward to the leader), then
     * the links again. */
    if (s->quorum)
        quorum_before_sleep(s->quorum);
    conn_before_sleep(s);
    if (s->quorum)
        quorum_before_sleep(s->quorum);
    if (!s->log_fatal)
        txnlog_flush_start(s->log);
}

/*
 * systemd readiness: READY=1 the first time the server serves (standalone:
 * once it listens; an ensemble member: once it is in a synced quorum), and
 * a STATUS= line whenever what it does changes.  Without $NOTIFY_SOCKET
 * nothing is sent.
 */
static void notify_state(zk_server *s)
{
    bool serving = server_is_serving(s);
    char *status = serving ? g_strdup_printf("Mode: %s, client port %d", server_mode_name(s),
                                             s->cfg->client_port)
                           : g_strdup("looking for a quorum (not serving yet)");
    if (g_strcmp0(status, s->notified_status) == 0 && (s->notified_ready || !serving)) {
        g_free(status);
        return;
    }
    char *msg = g_strdup_printf("%sSTATUS=%s", serving && !s->notified_ready ? "READY=1\n" : "", status);
    if (sdnotify_send(msg) < 0)
        LOG_WARN("cannot notify systemd ($NOTIFY_SOCKET): %s", g_strerror(errno));
    g_free(msg);
    s->notified_ready = s->notified_ready || serving;
    g_free(s->notified_status);
    s->notified_status = status;
}

static void on_tick(zk_loop *l, void *ctx)
{
    (void)l;
    zk_server *s = ctx;
    if (!s->serving && !s->log_fatal && !txnlog_flush_in_flight(s->log)) {
        /* After a log failure, writes are tried again: the log cut the
         * failed batch off, so a new attempt is safe. */
        s->serving = true;
        LOG_INFO("accepting writes again");
    }
    s->repl->tick(s);
    notify_state(s);
    request_tick(s);
    persist_check_snapshot(s);
    admin_tick();
    metrics_tick();
    /* Apache snapshots every snapCount/2 .. snapCount transactions. */
    if (s->txns_since_snap >= (uint64_t)s->cfg->snap_count / 2 + 1)
        persist_maybe_snapshot(s, false);
}

static void on_signal(zk_loop *l, int fd, int events, void *ctx)
{
    (void)events; (void)ctx;
    struct signalfd_siginfo si;
    while (read(fd, &si, sizeof si) == sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            LOG_INFO("received signal %d, shutting down", (int)si.ssi_signo);
            sdnotify_send("STOPPING=1");
            loop_stop(l);
        } else if (si.ssi_signo == SIGHUP) {
            /* logrotate moved the file away: continue in a new one. */
            char *err = NULL;
            int r = logfile_reopen(&err);
            if (r > 0)
                LOG_INFO("SIGHUP: log file %s reopened", logfile_path());
            else if (r == 0)
                LOG_INFO("SIGHUP: not logging to a file (no -l), nothing to reopen");
            else
                LOG_WARN("SIGHUP: %s; still writing to the old file", err);
            g_free(err);
        }
    }
}

/* Like the JVM (MaxFDLimit), run with the soft file descriptor limit raised
 * to the hard one: every client connection is a descriptor. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rlim_t was = rl.rlim_cur;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        LOG_INFO("file descriptor limit raised from %lu to %lu", (unsigned long)was,
                 (unsigned long)rl.rlim_cur);
}

/* The real clock: the event loop's monotonic milliseconds. */
static int64_t real_clock(void *ctx)
{
    (void)ctx;
    return loop_now_ms();
}

int64_t server_now_ms(const zk_server *s)
{
    return s->clock(s->clock_ctx);
}

void server_init(zk_server *s, zk_config *cfg)
{
    memset(s, 0, sizeof *s);
    s->cfg = cfg;
    s->clock = real_clock;
    s->clock_ctx = NULL;
    s->repl = &replicator_standalone;
    s->listen_fd = -1;
    s->secure_listen_fd = -1;
    s->serving = true;
    s->start_ms = loop_now_ms();
    s->min_latency = -1;
    zk_extended_types_enabled = cfg->extended_types_enabled;
    if (cfg->enforce_quota)
        LOG_INFO("zookeeper.enforceQuota = true, Quota Enforce enables");
    s->loop = loop_new();
    s->tree = tree_new();
    /* Session ids carry the creating server's id in their top byte; Apache's
     * standalone server uses 1. */
    bool ensemble = zk_config_is_distributed(cfg);
    session_table_init(&s->sessions, ensemble ? cfg->myid : 1, cfg->tick_time, loop_wall_ms());
    s->role = ensemble ? SERVER_LOOKING : SERVER_STANDALONE;
    s->data_dir = g_build_filename(cfg->data_log_dir ? cfg->data_log_dir : cfg->data_dir, "zkfs-v1", NULL);
    g_queue_init(&s->changes);
    g_queue_init(&s->inflight);
    g_queue_init(&s->forwarded);
    s->change_by_path = g_hash_table_new(g_str_hash, g_str_equal);
    s->conns = g_hash_table_new(g_direct_hash, g_direct_equal);
    s->conns_per_ip = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->last_container_check_ms = loop_now_ms();
    s->last_response_size = s->min_response_size = s->max_response_size = -1;
}

/* Set by server_run just before its final server_destroy when the process
 * is about to exit: the data tree is then left to the kernel (see
 * free_tree_at_exit).  Other callers (the fuzzers) always free it. */
static bool leave_tree_to_exit;

/*
 * Whether a stopping zkserver frees its data tree before exiting.  Freeing
 * 1,000,000 znodes allocation by allocation took 4-6 s of a clean stop
 * (docs/perf-notes.md) for nothing: everything the tree holds is already
 * durable in the log and snapshots, and the kernel takes the whole heap
 * back at exit at once.  Sanitizer builds (bin/zkserver-san) free it so that
 * LeakSanitizer still checks the tree's ownership on every clean stop, and
 * so does any build when the environment says ZKSERVER_FREE_AT_EXIT=1
 * (e.g. under valgrind --leak-check).
 */
static bool free_tree_at_exit(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#endif
#endif
    const char *e = getenv("ZKSERVER_FREE_AT_EXIT");
    return e && e[0] && strcmp(e, "0") != 0;
}

void server_destroy(zk_server *s)
{
    readonly_leave(s, "the server is shutting down");
    GList *conns = g_hash_table_get_values(s->conns);
    for (GList *l = conns; l; l = l->next)
        conn_close(l->data, NULL);
    g_list_free(conns);
    conn_before_sleep(s);   /* releases the closed connections still queued there */
    request_abort_inflight(s);
    quorum_free(s->quorum);
    s->quorum = NULL;
    if (s->snap_pid > 0) {
        int st;
        waitpid(s->snap_pid, &st, 0);
    }
    txnlog_close(s->log);
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    if (s->secure_listen_fd >= 0)
        close(s->secure_listen_fd);
    SSL_CTX_free(s->tls_ctx);
    sasl_login_free(s->sasl_login);
    s->sasl_login = NULL;
    loop_free(s->loop);
    g_hash_table_destroy(s->conns);
    g_hash_table_destroy(s->conns_per_ip);
    g_hash_table_destroy(s->change_by_path);
    if (leave_tree_to_exit)
        s->tree = NULL;   /* deliberately not freed: the process exits next */
    else
        tree_free(s->tree);
    session_table_destroy(&s->sessions);
    g_free(s->data_dir);
    g_free(s->notified_status);
    reqpool_trim();   /* the free request and change blocks */
}

int server_run(zk_config *cfg)
{
    zk_server s;
    raise_fd_limit();
    server_init(&s, cfg);
    bool ensemble = zk_config_is_distributed(cfg);

    /* Block the stop signals before any thread exists (the log's writer
     * thread inherits the mask), so they reach only our signalfd. */
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    sigprocmask(SIG_BLOCK, &mask, NULL);
    /* An ignored signal is discarded, never queued for the signalfd: undo a
     * `nohup` (the signals are blocked now, so the default cannot act). */
    signal(SIGHUP, SIG_DFL);

    char *err = NULL;
    /* ServerCnxnFactory.configureSaslLogin: a JAAS file that cannot be read
     * or parsed stops the server. */
    if (sasl_login_load(cfg, &s.sasl_login, &err) < 0) {
        LOG_ERROR("%s", err ? err : "?");
        g_free(err);
        return 1;
    }
    sasl_configure_acl(cfg);
    acl_configure_skip(cfg->skip_acl);
    if (cfg->skip_acl)
        LOG_INFO("zookeeper.skipACL==\"yes\", ACL checks will be skipped");
    int64_t recover_start = loop_now_ms();
    if (persist_recover(&s, !ensemble, &err) < 0) {
        LOG_ERROR("cannot recover the database from %s: %s", s.data_dir, err ? err : "?");
        g_free(err);
        return 1;
    }
    metrics_observe(MS_DBINITTIME, loop_now_ms() - recover_start);
    request_init_delivery(&s);
    if (ensemble) {
        s.quorum = quorum_new(&s, &err);
        if (!s.quorum) {
            LOG_ERROR("cannot join the ensemble: %s", err ? err : "?");
            g_free(err);
            return 1;
        }
        s.repl = &replicator_zab;
    }
    if (conn_listen(&s, &err) < 0) {
        LOG_ERROR("%s", err);
        g_free(err);
        return 1;
    }
    loop_watch(s.loop, txnlog_event_fd(s.log), LOOP_READABLE, persist_on_log_event, &s);

    signal(SIGPIPE, SIG_IGN);
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    loop_watch(s.loop, sfd, LOOP_READABLE, on_signal, &s);

    loop_set_before_sleep(s.loop, before_sleep, &s);
    loop_set_timer(s.loop, 50, on_tick, &s);
    admin_start(&s);
    if (metrics_start(&s) < 0) {
        /* as Apache: "Cannot boot MetricsProvider" stops the server */
        admin_stop();
        return 1;
    }
    if (s.txns_since_snap > 0)
        persist_maybe_snapshot(&s, true);
    notify_state(&s);
    LOG_INFO("zkserver %s on client port %d (dataDir %s, last zxid 0x%" G_GINT64_MODIFIER "x)",
             ensemble ? "ensemble member" : "standalone", cfg->client_port, s.data_dir, s.last_zxid);
    loop_run(s.loop);

    /* Clean stop: let the in-flight batch finish, answer what it made
     * durable (standalone only: there durable is committed; on an ensemble
     * member a locally durable txn may not be committed by a quorum, so its
     * client gets no answer and sees a lost connection), then close
     * everything. */
    while (txnlog_flush_in_flight(s.log)) {
        int64_t durable;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
        uint64_t v;
        if (read(txnlog_event_fd(s.log), &v, sizeof v) < 0 && errno == EAGAIN)
            continue;
        char *e2 = NULL;
        if (txnlog_flush_complete(s.log, &durable, &e2) == 0 && s.repl == &replicator_standalone)
            request_on_durable(&s, durable);
        g_free(e2);
    }
    admin_stop();
    metrics_stop();
    close(sfd);
    bool log_fatal = s.log_fatal;
    leave_tree_to_exit = !free_tree_at_exit();
    server_destroy(&s);
    LOG_INFO("stopped%s", log_fatal ? " after a fatal failure (see the FATAL line)" : "");
    return log_fatal ? 3 : 0;
}
