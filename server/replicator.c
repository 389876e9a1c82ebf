/*
 * replicator.c — the two implementations of replicator.h: the standalone
 * log and Zab through the ensemble host (quorum.c).
 */
#include "replicator.h"

#include "quorum.h"
#include "request.h"
#include "server.h"

static void standalone_log_durable(zk_server *s, int64_t zxid)
{
    request_on_durable(s, zxid);
}

static void standalone_log_failed(zk_server *s)
{
    (void)s;    /* request_abort_inflight drops what was not durable */
}

static void standalone_resume_conn(zk_server *s, zk_conn *c)
{
    (void)s;
    request_resume_conn(c);
}

static void standalone_tick(zk_server *s)
{
    (void)s;
}

const zk_replicator replicator_standalone = {
    .log_durable = standalone_log_durable,
    .log_failed = standalone_log_failed,
    .resume_conn = standalone_resume_conn,
    .tick = standalone_tick,
    .stop_on_any_log_failure = false,
    .fatal_why = "after a failed fsync the file's contents are unknown",
    .fatal_recovery = "",
};

static void zab_repl_log_durable(zk_server *s, int64_t zxid)
{
    quorum_on_log_durable(s->quorum, zxid);
}

static void zab_repl_log_failed(zk_server *s)
{
    quorum_on_log_failed(s->quorum);
}

static void zab_repl_resume_conn(zk_server *s, zk_conn *c)
{
    quorum_resume_conn(s->quorum, c);
}

static void zab_repl_tick(zk_server *s)
{
    quorum_tick(s->quorum);
}

const zk_replicator replicator_zab = {
    .log_durable = zab_repl_log_durable,
    .log_failed = zab_repl_log_failed,
    .resume_conn = zab_repl_resume_conn,
    .tick = zab_repl_tick,
    .stop_on_any_log_failure = true,
    .fatal_why = "this member's Zab state no longer matches its log",
    .fatal_recovery = " and catches up from the leader",
};
