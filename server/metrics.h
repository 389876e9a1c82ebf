/*
 * metrics.h — Prometheus metrics, as Apache ZooKeeper 3.8's
 * PrometheusMetricsProvider exports them (metricsProvider.className=
 * org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider):
 * the ServerMetrics counters and summaries zkserver measures (fed by the
 * metrics_count/metrics_observe hooks below from the request pipeline, the
 * log, snapshots and the ensemble), the server gauges read from the server
 * state at scrape time, and the /metrics HTTP endpoint on
 * metricsProvider.httpHost:metricsProvider.httpPort.  See metrics.c and
 * docs/operations.md ("Prometheus metrics").
 *
 * Threading: every function runs on the event-loop thread.
 */
#ifndef ZK_METRICS_H
#define ZK_METRICS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "server.h"

/* ServerMetrics counters zkserver counts (Apache's names in metrics.c). */
typedef enum {
    MC_BYTES_RECEIVED,           /* bytes_received_count: bytes read from client sockets */
    MC_COMMIT,                   /* commit_count: proposals a leader committed */
    MC_CONNECTION_REQUEST,       /* connection_request_count: ConnectRequests processed */
    MC_DIFF,                     /* diff_count: learner syncs by DIFF or TRUNC (leader) */
    MC_LEARNER_COMMIT_RECEIVED,  /* learner_commit_received_count */
    MC_LEARNER_PROPOSAL_RECEIVED,/* learner_proposal_received_count (followers) */
    MC_LOOKING,                  /* looking_count: elections entered */
    MC_OUTSTANDING_CHANGES_QUEUED,  /* outstanding_changes_queued: change records added in prep */
    MC_OUTSTANDING_CHANGES_REMOVED, /* outstanding_changes_removed: change records retired */
    MC_PROPOSAL,                 /* proposal_count: proposals a leader made */
    MC_RESPONSE_BYTES,           /* response_bytes: reply payload bytes */
    MC_SNAP,                     /* snap_count: learner syncs by SNAP (leader) */
    MC_STALE_SESSIONS_EXPIRED,   /* stale_sessions_expired: sessions the tracker expired */
    MC_WATCH_BYTES,              /* watch_bytes: watch notification payload bytes */
    MC_COUNT_
} metrics_counter;

/* ServerMetrics summaries zkserver observes (values in ms unless noted). */
typedef enum {
    MS_DBINITTIME,               /* dbinittime: loading snapshot + log at start */
    MS_ELECTION_TIME,            /* election_time: LOOKING until leading/following */
    MS_FOLLOWER_SYNC_TIME,       /* follower_sync_time: following until serving */
    MS_FSYNCTIME,                /* fsynctime: one fdatasync of the txn log */
    MS_LEADER_UNAVAILABLE_TIME,  /* leader_unavailable_time: unavailable_time of a member that then leads */
    MS_NODE_CHANGED_WATCH_COUNT, /* node_changed_watch_count: watchers one event fired */
    MS_NODE_CHILDREN_WATCH_COUNT,/* node_children_watch_count */
    MS_NODE_CREATED_WATCH_COUNT, /* node_created_watch_count */
    MS_NODE_DELETED_WATCH_COUNT, /* node_deleted_watch_count */
    MS_OBSERVER_SYNC_TIME,       /* observer_sync_time: observing until serving */
    MS_PROPAGATION_LATENCY,      /* propagation_latency: txn time to its application (ADVANCED) */
    MS_READLATENCY,              /* readlatency: requests without a txn (ADVANCED) */
    MS_SNAPSHOTTIME,             /* snapshottime: writing a snapshot */
    MS_STARTUP_SNAP_LOAD_TIME,   /* startup_snap_load_time */
    MS_STARTUP_TXNS_LOAD_TIME,   /* startup_txns_load_time */
    MS_STARTUP_TXNS_LOADED,      /* startup_txns_loaded (a count of txns) */
    MS_UNAVAILABLE_TIME,         /* unavailable_time: not serving until broadcast */
    MS_UPDATELATENCY,            /* updatelatency: requests with a txn (ADVANCED) */
    MS_COUNT_
} metrics_summary;

/* Adds delta to counter id (always counted, whether or not exported). */
void metrics_count(metrics_counter id, uint64_t delta);
/* Records one observation of summary id (negative values count as 0). */
void metrics_observe(metrics_summary id, int64_t value);
/*
 * Per-namespace sizes (Apache's DataTree.updateReadStat / updateWriteStat,
 * the read_per_namespace / write_per_namespace summary sets keyed by the
 * first path component): a read of path returning bytes (data length, or
 * the children's name lengths; 0 for exists), a write of path with bytes
 * of data (0 for a delete).  path is borrowed; "/" counts nothing.  At
 * most 1024 namespaces are kept per set.
 */
void metrics_read_stat(const char *path, int64_t bytes);
void metrics_write_stat(const char *path, int64_t bytes);
/* Java's String.length() of a UTF-8 name (for the children's bytes). */
int64_t metrics_name_length(const char *name);
/* An event of type (ZK_EVENT_CREATED ... ZK_EVENT_CHILD_CHANGED) fired n
 * watchers of one watch manager: the node_*_watch_count summaries. */
void metrics_observe_watch_trigger(int type, unsigned n);

/*
 * Quota hook: counts one refused request in
 * quota_exceeded_error_per_namespace{key="<namespace>"} (Apache's
 * ZooKeeperServer.checkQuota: namespace is the first component of the
 * path, e.g. "app" for /app/x).  namespace is copied; NULL or "" is
 * ignored.  At most 1024 distinct namespaces are kept (more are dropped).
 */
void metrics_quota_exceeded(const char *namespace_);
/* The same for a refused request on path (its top namespace: "app" for
 * /app/x, as Apache's checkQuota takes it); path is borrowed. */
void metrics_quota_exceeded_path(const char *path);

/* Election / sync timing, called on role changes (quorum.c). */
void metrics_election_started(void);
/* The election ended with this member leading or following (observers
 * do not record election_time, as Apache). */
void metrics_election_finished(void);
/* A learner started syncing with its leader. */
void metrics_sync_started(void);
/* The learner's sync finished and it serves; observer picks
 * observer_sync_time instead of follower_sync_time.  No-op without a
 * matching metrics_sync_started. */
void metrics_sync_finished(bool observer);
/* QuorumPeer's unavailable time: from the start, or from leaving
 * broadcast, until serving again (unavailable_time; leader_unavailable_time
 * too when the member then leads).  A second start before the end is
 * ignored, as Apache keeps the first start time. */
void metrics_unavailable_started(void);
void metrics_unavailable_ended(bool leader);
/* A snapshot started being written / finished (ok: it was committed). */
void metrics_snapshot_started(void);
void metrics_snapshot_finished(bool ok);

/*
 * Renders every exported metric family of s in the Prometheus text
 * exposition format 0.0.4, as Apache's (simpleclient 0.9.0) writes it.
 * only: a NULL-terminated list of family names to keep (the name[]
 * arguments of Apache's MetricsServlet), or NULL for all.  Returns a new
 * string (g_free it).
 */
char *metrics_render(zk_server *s, const char *const *only);

/* True when cfg asks for Apache's PrometheusMetricsProvider. */
bool metrics_prometheus_enabled(const zk_config *cfg);
/*
 * Appends to out what Apache's mntr prints after its head values when the
 * Prometheus provider is on (PrometheusMetricsProvider.dump): one line
 * zk_<sample>\t<value> per sample of every family metrics_render exports,
 * e.g. "zk_znode_count\t5.0", "zk_readlatency{quantile=\"0.5\"}\tNaN",
 * "zk_readlatency_count\t0.0"; families sorted by name.
 */
void metrics_dump(zk_server *s, GString *out);

/*
 * Starts the /metrics endpoint when metricsProvider.className names
 * Apache's PrometheusMetricsProvider, and registers its descriptor with
 * s->loop.  Returns 0 when started or when no endpoint is configured
 * (no className, or Apache's Default/NullMetricsProvider); -1, logged,
 * when the endpoint cannot start (port in use, bad httpHost) or the class
 * is another one: the caller then exits, as Apache does when it cannot
 * boot its MetricsProvider.  s must outlive metrics_stop().
 */
int metrics_start(zk_server *s);
/* Runs pending HTTP work and idle timeouts (called from the server tick). */
void metrics_tick(void);
/* Stops the endpoint and closes its connections (no-op if not running). */
void metrics_stop(void);

#endif
