/*
 * persist.c — durability glue: recovery at start-up (newest valid snapshot
 * plus log replay), the group-commit completion callback, and snapshots
 * written by a forked child.
 *
 * Why fork: the child gets a copy-on-write image of the tree frozen at an
 * exact zxid, so the snapshot is consistent (not "fuzzy" as Apache's) and
 * the event loop never stalls while gigabytes are serialised and fsynced;
 * the cost is the page-table copy at fork time and the pages the parent
 * dirties meanwhile.  A background thread would need locking or a copy of
 * the tree.  The child only serialises and writes, never touches the log,
 * the sockets or the allocator state of other threads (the log's writer
 * thread does not exist in the child; the child uses only g_malloc, which
 * is safe after fork in glibc).
 */
#include "conn.h"
#include "persist.h"
#include "txn.h"
#include "replicator.h"
#include "request.h"
#include "server.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "quorum.h"
#include "reconfig.h"
#include "snapbody.h"
#include "snapfile.h"

static void log_line(void *ctx, const char *msg)
{
    (void)ctx;
    LOG_WARN("%s", msg);
}

/* Snapshot body: tree, then sessions (snapbody.c). */
void persist_serialize(zk_server *s, jute_writer *w)
{
    GArray *table = g_array_sized_new(FALSE, FALSE, sizeof(snap_session),
                                      g_hash_table_size(s->sessions.by_id));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->sessions.by_id);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const zk_session *ss = v;
        snap_session e = { ss->id, ss->timeout };
        g_array_append_val(table, e);
    }
    snapbody_write(w, s->tree, (const snap_session *)(void *)table->data, table->len);
    g_array_free(table, TRUE);
}

typedef struct replay_ctx {
    zk_server *s;
    uint64_t count;
} replay_ctx;

static int replay_one(void *ctx, int64_t zxid, const uint8_t *data, size_t len)
{
    replay_ctx *rc = ctx;
    zk_server *s = rc->s;
    txn_ctx tctx = { s->tree, &s->sessions, loop_now_ms(), NULL, NULL };
    txn_result res;
    if (!txn_apply(&tctx, data, len, &res)) {
        txn_result_clear(&res);
        LOG_ERROR("log record 0x%" G_GINT64_MODIFIER "x is not a valid transaction", zxid);
        return -1;
    }
    txn_result_clear(&res);
    s->tree->last_processed_zxid = zxid;
    rc->count++;
    return 0;
}

void persist_init_config_node(zk_server *s)
{
    if (!zk_config_is_distributed(s->cfg))
        return;
    if (reconfig_adopt_tree(s))
        return;   /* a committed reconfig newer than the config files */
    char *members = zk_config_membership(s->cfg);
    tree_init_config_node(s->tree, members, loop_wall_ms());
    g_free(members);
    zk_node *n = tree_get(s->tree, "/zookeeper/config");
    if (n)
        n->mzxid = s->cfg->config_version;   /* ZKDatabase.initConfigInZKDatabase */
}

/* Loads a snapshot body into fresh tree + sessions (replacing s's). */
static int load_body(zk_server *s, int64_t snap_zxid, const uint8_t *body, size_t body_len, char **err)
{
    GArray *table = NULL;
    zk_tree *t = snapbody_read(body, body_len, &table, err);
    if (!t)
        return -1;
    session_table fresh = s->sessions;
    fresh.by_id = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, g_free);
    int64_t now = loop_now_ms();
    for (guint i = 0; i < table->len; i++) {
        const snap_session *e = &g_array_index(table, snap_session, i);
        session_add(&fresh, e->id, e->timeout, now);
    }
    g_array_free(table, TRUE);
    t->deliver = s->tree ? s->tree->deliver : NULL;
    t->deliver_ctx = s->tree ? s->tree->deliver_ctx : NULL;
    tree_free(s->tree);
    s->tree = t;
    s->tree->last_processed_zxid = snap_zxid;
    persist_init_config_node(s);
    session_table_destroy(&s->sessions);
    s->sessions = fresh;
    return 0;
}

/* Loads the newest valid snapshot into s (tree + sessions).  Returns 1 and
 * *snap_zxid if there was one, 0 if none (s untouched), -1 with *err. */
static int load_newest_snapshot(zk_server *s, int64_t *snap_zxid, char **err)
{
    uint8_t *body = NULL;
    size_t body_len = 0;
    *snap_zxid = 0;
    int found = snapfile_load_newest(s->data_dir, snap_zxid, &body, &body_len, log_line, s, err);
    if (found != 1)
        return found;
    int rc = load_body(s, *snap_zxid, body, body_len, err);
    g_free(body);
    return rc < 0 ? -1 : 1;
}

int persist_reload(zk_server *s, char **err)
{
    int64_t snap_zxid = 0;
    int found = load_newest_snapshot(s, &snap_zxid, err);
    if (found < 0)
        return -1;
    if (found == 0) {
        zk_tree *t = tree_new();
        t->deliver = s->tree->deliver;
        t->deliver_ctx = s->tree->deliver_ctx;
        tree_free(s->tree);
        s->tree = t;
        persist_init_config_node(s);
        g_hash_table_remove_all(s->sessions.by_id);
    }
    s->snap_zxid = snap_zxid;
    replay_ctx rc = { s, 0 };
    if (txnlog_replay(s->log, snap_zxid, replay_one, &rc, err) < 0)
        return -1;
    LOG_INFO("reloaded: snapshot 0x%" G_GINT64_MODIFIER "x + %" G_GUINT64_FORMAT " transactions",
             snap_zxid, rc.count);
    return 0;
}

int persist_install(zk_server *s, int64_t zxid, const uint8_t *body, size_t len, char **err)
{
    if (load_body(s, zxid, body, len, err) < 0)
        return -1;
    snapfile_writer *w = snapfile_writer_open(s->data_dir, zxid, err);
    if (!w)
        return -1;
    if (snapfile_writer_write(w, body, len) < 0) {
        snapfile_writer_abort(w);
        *err = g_strdup("cannot write the snapshot");
        return -1;
    }
    return snapfile_writer_commit(w, err);
}

int persist_recover(zk_server *s, bool replay_log, char **err)
{
    int64_t snap_zxid = 0;
    int found = load_newest_snapshot(s, &snap_zxid, err);
    if (found < 0)
        return -1;
    if (found == 1) {
        LOG_INFO("loaded snapshot 0x%" G_GINT64_MODIFIER "x (%u znodes, %u sessions)", snap_zxid,
                 tree_node_count(s->tree), g_hash_table_size(s->sessions.by_id));
    }
    s->snap_zxid = snap_zxid;
    int64_t last_log = 0;
    s->log = txnlog_open(s->data_dir, &last_log, log_line, s, err);
    if (!s->log)
        return -1;
    txnlog_set_limits(s->log, TXNLOG_DEFAULT_ROLL_BYTES,
                      (uint64_t)(s->cfg->prealloc_size_kb > 0 ? s->cfg->prealloc_size_kb : 65536) * 1024);
    replay_ctx rc = { s, 0 };
    /* Standalone, everything logged was acknowledged: replay it.  In an
     * ensemble the log may end with proposals that were never committed;
     * they stay in the log and the Zab core delivers them once the leader
     * confirms them (or truncates them). */
    if (replay_log && txnlog_replay(s->log, snap_zxid, replay_one, &rc, err) < 0)
        return -1;
    s->last_zxid = s->tree->last_processed_zxid;
    if (last_log > s->last_zxid)
        s->last_zxid = last_log;
    s->txns_since_snap = rc.count;
    LOG_INFO("recovered: snapshot 0x%" G_GINT64_MODIFIER "x + %" G_GUINT64_FORMAT
             " logged transactions, last zxid 0x%" G_GINT64_MODIFIER "x",
             snap_zxid, rc.count, s->last_zxid);
    return 0;
}

void persist_stop_on_log_failure(zk_server *s, const char *err)
{
    if (s->log_fatal)
        return;
    LOG_ERROR("FATAL: transaction log failure: %s; stopping the server: nothing of the failed batch"
              " is acknowledged, and %s. Restart it once the disk is fixed: it recovers from what"
              " is on disk%s", err ? err : "?",
              s->repl->fatal_why, s->repl->fatal_recovery);
    s->log_fatal = true;
    s->serving = false;
    s->repl->log_failed(s);   /* the Zab core fail-stops: no ACK over the gap */
    request_abort_inflight(s);
    loop_stop(s->loop);
}

void persist_on_log_event(zk_loop *l, int fd, int events, void *ctx)
{
    (void)l; (void)fd; (void)events;
    zk_server *s = ctx;
    int64_t durable = 0;
    char *err = NULL;
    if (s->log_fatal)
        return;
    if (txnlog_flush_complete(s->log, &durable, &err) < 0) {
        if (s->repl->stop_on_any_log_failure || txnlog_failed(s->log)) {
            /* In an ensemble the Zab core already counts the dropped
             * records as logged: going on would ACK later zxids over the
             * gap.  After a failed fsync nothing may be written to the
             * file again.  Either way: stop. */
            persist_stop_on_log_failure(s, err);
            g_free(err);
            return;
        }
        LOG_ERROR("transaction log write failed: %s; refusing writes until it succeeds again",
                  err ? err : "?");
        g_free(err);
        request_abort_inflight(s);
        s->serving = false;
        return;
    }
    s->fsync_batches++;
    s->repl->log_durable(s, durable);
}

void persist_maybe_snapshot(zk_server *s, bool force)
{
    if (s->snap_pid > 0)
        return;
    if (!force && s->txns_since_snap == 0)
        return;
    int64_t zxid = s->tree->last_processed_zxid;
    /* Records up to zxid are applied, so they are durable; newer records
     * go to a new log file, which makes purging by file simple. */
    txnlog_roll(s->log);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        LOG_WARN("cannot fork for a snapshot: %s", g_strerror(errno));
        return;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        char *err = NULL;
        snapfile_writer *w = snapfile_writer_open(s->data_dir, zxid, &err);
        if (!w) {
            fprintf(stderr, "snapshot: %s\n", err);
            _exit(1);
        }
        jute_writer jw;
        jw_init(&jw, 1 << 20);
        persist_serialize(s, &jw);
        if (snapfile_writer_write(w, jw.buf, jw.len) < 0) {
            snapfile_writer_abort(w);
            _exit(1);
        }
        if (snapfile_writer_commit(w, &err) < 0) {
            fprintf(stderr, "snapshot: %s\n", err);
            _exit(1);
        }
        _exit(0);
    }
    s->snap_pid = pid;
    s->txns_since_snap = 0;
    LOG_INFO("writing snapshot 0x%" G_GINT64_MODIFIER "x in process %d", zxid, (int)pid);
    s->snap_zxid = zxid;
}

void persist_check_snapshot(zk_server *s)
{
    if (s->snap_pid <= 0)
        return;
    int status;
    pid_t r = waitpid(s->snap_pid, &status, WNOHANG);
    if (r == 0)
        return;
    s->snap_pid = 0;
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        LOG_WARN("snapshot 0x%" G_GINT64_MODIFIER "x failed; will retry later", s->snap_zxid);
        return;
    }
    int retain = s->cfg->autopurge_snap_retain_count < 3 ? 3 : s->cfg->autopurge_snap_retain_count;
    int64_t oldest = snapfile_purge(s->data_dir, retain);
    if (oldest > 0 && !txnlog_flush_in_flight(s->log))
        txnlog_purge_before(s->log, oldest);
}
