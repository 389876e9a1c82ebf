/*
 * test_metrics.c — the Prometheus exposition of server/metrics.c
 * (metrics_render) on an in-process standalone server (no sockets, no
 * disk): the text format of Apache's simpleclient 0.9.0 (HELP = name,
 * TYPE, labels ending with a comma, Java Double.toString values, NaN for
 * an empty summary window), escaping of label values, summary quantiles,
 * the quota gauge sets read from /zookeeper/quota, the quota hook, the
 * per-namespace summary sets, the name[] filter and mntr's provider dump.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <string.h>

#include "acl.h"
#include "config.h"
#include "fourlw.h"
#include "metrics.h"
#include "request.h"
#include "server.h"

static zk_config cfg;
static zk_server srv;

static int setup(void **state)
{
    (void)state;
    zk_log_enabled = false;
    char *err = NULL;
    const char *text = "tickTime=2000\ndataDir=/nonexistent/zkfs-unit\nclientPort=2181\n"
                       "metricsProvider.className=org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider\n"
                       "metricsProvider.httpPort=7001\nmetricsProvider.exportJvmInfo=false\n";
    if (zk_config_parse_string(text, "unit.cfg", NULL, &cfg, NULL, NULL, &err) < 0)
        return -1;
    server_init(&srv, &cfg);
    request_init_delivery(&srv);
    return 0;
}

/* The block of family name: from its "# HELP" line to the next family. */
static char *family_text(const char *all, const char *name)
{
    char *head = g_strdup_printf("# HELP %s ", name);
    const char *p = strstr(all, head);
    g_free(head);
    if (!p)
        return NULL;
    const char *end = strstr(p + 1, "# HELP ");
    return end ? g_strndup(p, (gsize)(end - p)) : g_strdup(p);
}

static void test_config_keys(void **state)
{
    (void)state;
    assert_string_equal(cfg.metrics_class_name,
                        "org.apache.zookeeper.metrics.prometheus.PrometheusMetricsProvider");
    assert_int_equal(cfg.metrics_http_port, 7001);
    assert_string_equal(cfg.metrics_http_host, "0.0.0.0");
    assert_false(cfg.metrics_export_jvm_info);
}

static void test_format(void **state)
{
    (void)state;
    char *all = metrics_render(&srv, NULL);
    /* every line is a HELP, TYPE or sample line; HELP then TYPE per family */
    char **lines = g_strsplit(all, "\n", -1);
    for (char **l = lines; *l && **l; l++) {
        if (g_str_has_prefix(*l, "# HELP ")) {
            char **w = g_strsplit(*l + 7, " ", 2);
            assert_non_null(w[1]);
            assert_string_equal(w[0], w[1]);   /* help text = name */
            char *type = g_strdup_printf("# TYPE %s ", w[0]);
            assert_non_null(l[1]);
            assert_true(g_str_has_prefix(l[1], type));
            g_free(type);
            g_strfreev(w);
        }
    }
    g_strfreev(lines);
    char *f = family_text(all, "znode_count");
    assert_non_null(f);
    assert_string_equal(f, "# HELP znode_count znode_count\n# TYPE znode_count gauge\nznode_count 5.0\n");
    g_free(f);
    f = family_text(all, "election_time");
    assert_string_equal(f, "# HELP election_time election_time\n# TYPE election_time summary\n"
                           "election_time{quantile=\"0.5\",} NaN\nelection_time_count 0.0\n"
                           "election_time_sum 0.0\n");
    g_free(f);
    f = family_text(all, "commit_count");
    assert_string_equal(f, "# HELP commit_count commit_count\n# TYPE commit_count counter\ncommit_count 0.0\n");
    g_free(f);
    /* the quota sets with no quota: HELP and TYPE only */
    f = family_text(all, "quota_count_limit_per_namespace");
    assert_string_equal(f, "# HELP quota_count_limit_per_namespace quota_count_limit_per_namespace\n"
                           "# TYPE quota_count_limit_per_namespace gauge\n");
    g_free(f);
    assert_null(strstr(all, "process_"));   /* exportJvmInfo=false */
    assert_null(strstr(all, "jvm_"));
    g_free(all);
}

static void test_java_doubles_and_quantiles(void **state)
{
    (void)state;
    for (int i = 1; i <= 100; i++)
        metrics_observe(MS_READLATENCY, i);
    metrics_observe(MS_SNAPSHOTTIME, 12345678);
    metrics_observe(MS_FSYNCTIME, 10000000);
    metrics_observe(MS_FSYNCTIME, -5);           /* counts as 0 */
    srv.total_latency = 1;
    srv.latency_count = 3;
    char *all = metrics_render(&srv, NULL);
    char *f = family_text(all, "readlatency");
    assert_string_equal(f, "# HELP readlatency readlatency\n# TYPE readlatency summary\n"
                           "readlatency{quantile=\"0.5\",} 50.0\nreadlatency{quantile=\"0.9\",} 90.0\n"
                           "readlatency{quantile=\"0.99\",} 99.0\nreadlatency_count 100.0\n"
                           "readlatency_sum 5050.0\n");
    g_free(f);
    assert_non_null(strstr(all, "\nsnapshottime{quantile=\"0.5\",} 1.2345678E7\n"));
    assert_non_null(strstr(all, "\nsnapshottime_sum 1.2345678E7\n"));
    assert_non_null(strstr(all, "\nfsynctime_sum 1.0E7\n"));
    assert_non_null(strstr(all, "\nfsynctime_count 2.0\n"));
    assert_non_null(strstr(all, "\navg_latency 0.3333\n"));   /* AvgMinMaxCounter: 4 decimals */
    g_free(all);
    srv.total_latency = 0;
    srv.latency_count = 0;
}

static void add_node(const char *path, const char *data)
{
    zk_acl_list *acl = acl_open_unsafe(srv.tree->acls);
    int rc = tree_create(srv.tree, path, data, data ? (int32_t)strlen(data) : -1, acl, 0, -1, 1, 1, NULL);
    acl_unref(srv.tree->acls, acl);
    assert_int_equal(rc, ZOK);
}

static void test_quota_gauges_and_hook(void **state)
{
    (void)state;
    add_node("/zookeeper/quota/app", NULL);
    add_node("/zookeeper/quota/app/zookeeper_limits", "count=10,bytes=-1");
    add_node("/zookeeper/quota/app/zookeeper_stats", "count=2,bytes=5");
    add_node("/zookeeper/quota/app/sub", NULL);
    add_node("/zookeeper/quota/app/sub/zookeeper_limits", "count=-1,bytes=100,countHardLimit=7");
    add_node("/zookeeper/quota/app/sub/zookeeper_stats", "count=1,bytes=3");
    add_node("/zookeeper/quota/b", NULL);
    add_node("/zookeeper/quota/b/zookeeper_limits", "count=4,bytes=8");
    add_node("/zookeeper/quota/b/zookeeper_stats", "garbage");
    /* the quota code (server/quota.c) recomputes a stats node when it is
     * created (nothing under /app yet: 0); overwrite them as a restore of
     * other figures would */
    assert_int_equal(tree_set_data(srv.tree, "/zookeeper/quota/app/zookeeper_stats", "count=2,bytes=5", 15, 1, 2, 2, NULL), ZOK);
    assert_int_equal(tree_set_data(srv.tree, "/zookeeper/quota/app/sub/zookeeper_stats", "count=1,bytes=3", 15, 1, 2, 2, NULL), ZOK);
    assert_int_equal(tree_set_data(srv.tree, "/zookeeper/quota/b/zookeeper_stats", "garbage", 7, 1, 2, 2, NULL), ZOK);
    metrics_quota_exceeded("app");
    metrics_quota_exceeded("app");
    metrics_quota_exceeded("we\"ird\\ns\n");
    metrics_quota_exceeded("");
    metrics_quota_exceeded(NULL);
    char *all = metrics_render(&srv, NULL);
    /* per namespace, the hard limit when set: app = 10 + 7 */
    assert_non_null(strstr(all, "\nquota_count_limit_per_namespace{key=\"app\",} 17.0\n"));
    assert_non_null(strstr(all, "\nquota_count_limit_per_namespace{key=\"b\",} 4.0\n"));
    assert_non_null(strstr(all, "\nquota_bytes_limit_per_namespace{key=\"app\",} 99.0\n"));
    assert_non_null(strstr(all, "\nquota_count_usage_per_namespace{key=\"app\",} 3.0\n"));
    assert_non_null(strstr(all, "\nquota_bytes_usage_per_namespace{key=\"app\",} 8.0\n"));
    assert_non_null(strstr(all, "\nquota_count_usage_per_namespace{key=\"b\",} -1.0\n"));
    assert_non_null(strstr(all, "\nquota_exceeded_error_per_namespace{key=\"app\",} 2.0\n"));
    assert_non_null(strstr(all, "\nquota_exceeded_error_per_namespace{key=\"we\\\"ird\\\\ns\\n\",} 1.0\n"));
    g_free(all);
}

/* DataTree.updateReadStat / updateWriteStat: summary sets by namespace. */
static void test_per_namespace(void **state)
{
    (void)state;
    metrics_write_stat("/", 5);                 /* no namespace: nothing */
    metrics_write_stat("/ns1/a", 10);           /* 6 + 10 */
    metrics_write_stat("/ns1", 0);              /* 4 */
    metrics_read_stat("/ns1/a", 10);            /* 6 + 10 + 68 */
    metrics_read_stat("/caf\xc3\xa9", 0);       /* 5 UTF-16 units + 68 */
    char *all = metrics_render(&srv, NULL);
    char *f = family_text(all, "write_per_namespace");
    /* the quota test's creates are under "zookeeper" (sorted after ns1) */
    assert_true(g_str_has_prefix(f, "# HELP write_per_namespace write_per_namespace\n# TYPE write_per_namespace summary\n"
                           "write_per_namespace{key=\"ns1\",quantile=\"0.5\",} 4.0\n"
                           "write_per_namespace_count{key=\"ns1\",} 2.0\n"
                           "write_per_namespace_sum{key=\"ns1\",} 20.0\nwrite_per_namespace{key=\"zookeeper\","));
    g_free(f);
    assert_non_null(strstr(all, "\nread_per_namespace_sum{key=\"ns1\",} 84.0\n"));
    assert_non_null(strstr(all, "\nread_per_namespace_sum{key=\"caf\xc3\xa9\",} 73.0\n"));
    g_free(all);
}

static void test_filter(void **state)
{
    (void)state;
    const char *only[] = { "znode_count", "readlatency", "nosuch", NULL };
    char *all = metrics_render(&srv, only);
    assert_non_null(strstr(all, "# TYPE znode_count gauge\n"));
    assert_non_null(strstr(all, "# TYPE readlatency summary\n"));
    int n = 0;
    for (const char *p = all; (p = strstr(p, "# TYPE ")); p++)
        n++;
    assert_int_equal(n, 2);
    g_free(all);
}

/* With the Prometheus provider mntr prints the provider's samples after
 * its head values, as Apache's MonitorCommand. */
static void test_mntr_dump(void **state)
{
    (void)state;
    GString *out = g_string_new(NULL);
    assert_true(fourlw_render(&srv, NULL, "mntr", out));
    assert_true(g_str_has_prefix(out->str, "zk_version\t"));
    assert_non_null(strstr(out->str, "\nzk_server_state\tstandalone\nzk_approximate_data_size\t"));
    assert_non_null(strstr(out->str, "\nzk_readlatency{quantile=\"0.99\"}\t99.0\n"));
    assert_non_null(strstr(out->str, "\nzk_readlatency_count\t100.0\n"));
    assert_non_null(strstr(out->str, "\nzk_quota_exceeded_error_per_namespace{key=\"app\"}\t2.0\n"));
    assert_null(strstr(out->str, "# HELP"));
    assert_null(strstr(out->str, "zk_avg_fsynctime"));   /* not the default provider's keys */
    g_string_free(out, TRUE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_keys),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_java_doubles_and_quantiles),
        cmocka_unit_test(test_quota_gauges_and_hook),
        cmocka_unit_test(test_per_namespace),
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_mntr_dump),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
