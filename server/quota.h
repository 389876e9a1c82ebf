/*
 * quota.h — ZooKeeper quotas as Apache 3.8 keeps them (Quotas, StatsTrack,
 * the DataTree's path trie and quota stats, ZooKeeperServer.checkQuota).
 *
 * A quota on /p is two znodes that clients create (zkCli setquota):
 * /zookeeper/quota/p/zookeeper_limits (the limits, StatsTrack text such as
 * "count=3,bytes=-1=;byteHardLimit=10;countHardLimit=-1") and
 * /zookeeper/quota/p/zookeeper_stats (the usage, "count=N,bytes=M").  The
 * tree keeps the set of quota roots (Apache's PathTrie) and, as a side
 * effect of every create/delete/setData it applies, rewrites the usage of
 * the deepest quota root above the node: the stats znode's data changes
 * but its Stat (version, mzxid, mtime) does not, no watch fires, and no
 * transaction of its own is logged, exactly as in Apache, so every replica
 * that applies the same transactions holds the same bytes.  A loaded
 * snapshot recomputes every stats znode from the subtree (setupQuota).
 *
 * Enforcement (enforceQuota=true) is a check in prep: a create or setData
 * that would pass a hard limit is refused with ZQUOTAEXCEEDED; passing a
 * soft limit only logs.  Everything runs on the event-loop thread.
 */
#ifndef ZK_QUOTA_H
#define ZK_QUOTA_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "tree.h"

#define ZK_QUOTA_ROOT   "/zookeeper/quota"
#define ZK_QUOTA_LIMITS "zookeeper_limits"
#define ZK_QUOTA_STATS  "zookeeper_stats"

/* Apache's StatsTrack: the key=value pairs of a limits or stats znode. */
typedef struct quota_stats {
    GPtrArray *keys;     /* owned g_malloc'd strings, in insertion order */
    GArray *values;      /* int64_t, one per key */
} quota_stats;

/* An empty StatsTrack (every value reads -1). */
void quota_stats_init(quota_stats *st);
/* Frees what st owns; st may be initialised again. */
void quota_stats_clear(quota_stats *st);
/*
 * Parses data[0..len) like new StatsTrack(byte[]): pairs separated by runs
 * of ',' or ';', each "key=value" (split on '=', trailing empty parts
 * dropped, an empty value reads -1), values Java longs.  Empty data is an
 * empty StatsTrack.  Returns false where Apache's constructor throws (null
 * data, a pair without '=', a value that is not a long); st is then empty.
 * st must be initialised; earlier contents are replaced.
 */
bool quota_stats_parse(quota_stats *st, const uint8_t *data, int32_t len);
/* The value of key, or -1 when absent (StatsTrack.getValue). */
int64_t quota_stats_get(const quota_stats *st, const char *key);
/* Sets key (copied) to value. */
void quota_stats_set(quota_stats *st, const char *key, int64_t value);
/* StatsTrack.toString: "count=C,bytes=B", then, if other keys exist, "="
 * and ";key=value" for each in Java String order.  Caller frees. */
char *quota_stats_format(const quota_stats *st);

/* Apache's PathTrie of quota roots (only its observable behaviour: the set
 * of paths marked as quota roots, by their non-blank components). */
typedef struct quota_trie quota_trie;

quota_trie *quota_trie_new(void);
void quota_trie_free(quota_trie *q);
/* PathTrie.addPath (a path with no non-blank component marks nothing). */
void quota_trie_add(quota_trie *q, const char *path);
/* PathTrie.deletePath. */
void quota_trie_delete(quota_trie *q, const char *path);
/* DataTree.getMaxPrefixWithQuota: the deepest quota root that is path or
 * one of its ancestors, as "/c1/c2" (g_malloc'd, caller frees), or NULL. */
char *quota_max_prefix(const quota_trie *q, const char *path);
/* The number of quota roots. */
guint quota_trie_size(const quota_trie *q);

/* Tree hooks, called by tree.c after the node changed (DataTree.createNode,
 * deleteNode, setData): keep the trie and the stats znodes.  data_len -1
 * is null data (0 bytes). */
void quota_on_create(zk_tree *t, const char *path, int32_t data_len);
void quota_on_delete(zk_tree *t, const char *path, int32_t old_len);
void quota_on_set_data(zk_tree *t, const char *path, int32_t old_len, int32_t new_len);
/* DataTree.setupQuota, after a snapshot is loaded: rebuilds the trie from
 * the zookeeper_limits leaves under /zookeeper/quota and recomputes each
 * quota's stats znode from its subtree. */
void quota_setup(zk_tree *t);

/* What quota_check found. */
#define QUOTA_CHECK_OK       0
#define QUOTA_CHECK_EXCEEDED 1    /* a hard limit: ZQUOTAEXCEEDED */
#define QUOTA_CHECK_BROKEN   2    /* unparseable limits/stats text: Apache
                                   * throws a RuntimeException in prep, the
                                   * request becomes MARSHALLINGERROR */
/*
 * ZooKeeperServer.checkQuota for a create (count_diff 1, bytes_diff the new
 * data's length) or a setData (count_diff 0, bytes_diff new - old length)
 * of path, against the committed tree (as Apache reads zkDb, not the
 * outstanding changes).  Logs (rate-limited, as Apache's RateLogger) when a
 * soft or hard limit is passed and counts hard refusals per top namespace.
 * The caller checks enforceQuota first.
 */
int quota_check(const zk_tree *t, const char *path, int64_t bytes_diff, int64_t count_diff);

/*
 * Metrics hook (Apache's QuotaMetricsUtils, for a Prometheus exporter):
 * calls fn once per top namespace with the summed limits (hard limit if
 * set, else the soft one) and usage of every quota under it, in the order
 * of Apache's gauge sets quota_count_limit_per_namespace,
 * quota_bytes_limit_per_namespace, quota_count_usage_per_namespace,
 * quota_bytes_usage_per_namespace.  A namespace appears in a set only if
 * some limits (or stats) znode of it has data; has_* says which.
 */
typedef struct quota_ns_figures {
    const char *ns;              /* borrowed, valid during the call */
    bool has_limit, has_usage;
    int64_t count_limit, bytes_limit, count_usage, bytes_usage;
} quota_ns_figures;
typedef void (*quota_ns_fn)(void *ctx, const quota_ns_figures *f);
void quota_metrics_foreach(const zk_tree *t, quota_ns_fn fn, void *ctx);
/* quota_exceeded_error_per_namespace: hard refusals since start, namespace
 * (borrowed key) -> guint64 count (borrowed pointer as value). */
GHashTable *quota_exceeded_counts(void);

/* mntr (DefaultMetricsProvider's dump): the four gauge sets, as
 * "zk_<ns>_quota_bytes_limit_per_namespace\t4" lines in Apache's order
 * (the sets in ConcurrentHashMap order, namespaces in Java hash order),
 * appended to out; nothing when there is no quota. */
void quota_mntr_gauge_sets(const zk_tree *t, GString *out);
/* mntr: the counter set "zk_<ns>_quota_exceeded_error_per_namespace". */
void quota_mntr_counter_sets(GString *out);
/* srst (ServerMetrics.resetAll): every exceeded counter back to 0 (the
 * namespaces stay listed, as Apache's SimpleCounterSet.reset). */
void quota_exceeded_reset(void);

#endif
