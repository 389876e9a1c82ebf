/*
 * test_config.c — unit tests for the zoo.cfg parser (server/config.c):
 * defaults, every key, aliases, -D words from JVMFLAGS, server.N lines,
 * errors with line numbers, DATADIR/myid handling and warnings,
 * dynamicConfigFile and the /zookeeper/config membership text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config.h"

/* ---- helpers --------------------------------------------------------------- */

/* Collects warnings: ctx is a GPtrArray of g_strdup'd messages. */
static void collect_warning(void *ctx, const char *msg)
{
    g_ptr_array_add(ctx, g_strdup(msg));
}

/* True if some warning contains needle. */
static bool warned(GPtrArray *warnings, const char *needle)
{
    for (guint i = 0; i < warnings->len; i++)
        if (strstr(g_ptr_array_index(warnings, i), needle))
            return true;
    return false;
}

/* Parses text that must be valid; warnings (may be NULL) receives warnings. */
static void parse_ok(const char *text, const char *flags, zk_config *cfg, GPtrArray *warnings)
{
    char *err = NULL;
    int rc = zk_config_parse_string(text, "zoo.cfg", flags, cfg, warnings ? collect_warning : NULL, warnings,
                                    &err);
    if (rc != 0)
        fail_msg("unexpected error: %s", err);
    assert_null(err);
}

/* Parses text that must fail with an error containing needle. */
static void parse_fails(const char *text, const char *flags, const char *needle)
{
    zk_config cfg;
    char *err = NULL;
    int rc = zk_config_parse_string(text, "zoo.cfg", flags, &cfg, NULL, NULL, &err);
    if (rc != -1)
        fail_msg("expected an error containing \"%s\" for:\n%s", needle, text);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("error \"%s\" does not contain \"%s\"", err, needle);
    assert_null(cfg.peers); /* freed and zeroed on failure */
    zk_config_free(&cfg);   /* must be harmless */
    g_free(err);
}

/* A temporary data directory, optionally with a myid file. */
static char *make_datadir(const char *myid_content)
{
    char *dir = g_strdup("/tmp/test_config.XXXXXX");
    assert_non_null(g_mkdtemp(dir));
    if (myid_content) {
        char *path = g_build_filename(dir, "myid", NULL);
        assert_true(g_file_set_contents(path, myid_content, -1, NULL));
        g_free(path);
    }
    return dir;
}

static void remove_datadir(char *dir)
{
    char *path = g_build_filename(dir, "myid", NULL);
    g_unlink(path);
    g_free(path);
    path = g_build_filename(dir, "zoo.cfg", NULL);
    g_unlink(path);
    g_free(path);
    assert_int_equal(g_rmdir(dir), 0);
    g_free(dir);
}

/* ---- tests ----------------------------------------------------------------- */

static void test_defaults(void **state)
{
    (void)state;
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("dataDir=/var/lib/zk\n", NULL, &cfg, warnings);
    assert_int_equal(warnings->len, 0);
    assert_string_equal(cfg.path, "zoo.cfg");
    assert_int_equal(cfg.tick_time, 2000);
    assert_int_equal(cfg.init_limit, 10);
    assert_int_equal(cfg.sync_limit, 5);
    assert_string_equal(cfg.data_dir, "/var/lib/zk");
    assert_string_equal(cfg.data_log_dir, "/var/lib/zk");
    assert_int_equal(cfg.client_port, 2181);
    assert_null(cfg.client_port_address);
    assert_int_equal(cfg.max_client_cnxns, 60);
    assert_int_equal(cfg.min_session_timeout, 4000);
    assert_int_equal(cfg.max_session_timeout, 40000);
    assert_int_equal(cfg.peers->len, 0);
    assert_int_equal(cfg.myid, 0);
    assert_false(cfg.fourlw_all);
    assert_null(cfg.super_digest);
    assert_false(cfg.extended_types_enabled);
    assert_int_equal(cfg.container_check_interval_ms, 60000);
    assert_int_equal(cfg.jute_maxbuffer, 0xfffff);
    assert_false(cfg.readonly_mode_enabled);
    assert_false(cfg.local_sessions_enabled);
    assert_int_equal(cfg.snap_count, 100000);
    assert_int_equal(cfg.autopurge_snap_retain_count, 3);
    assert_int_equal(cfg.autopurge_purge_interval, 0);
    assert_true(cfg.standalone_enabled);
    assert_false(cfg.reconfig_enabled);
    assert_int_equal(cfg.global_outstanding_limit, 1000);
    assert_int_equal(cfg.request_throttle_max_requests, 0);
    assert_int_equal(cfg.max_cnxns, 0);
    assert_int_equal(cfg.sessionless_cnxn_timeout, 10000);
    assert_int_equal(cfg.quorum_cnxn_timeout_ms, -1);
    assert_int_equal(cfg.cnx_timeout, 5000);
    assert_int_equal(cfg.cnxn_output_throttle_bytes, 1 << 20);
    assert_int_equal(cfg.cnxn_output_limit_bytes, 64 << 20);
    assert_int_equal(cfg.cnxn_max_watches, 1000000);
    assert_int_equal(cfg.prealloc_size_kb, 65536);
    assert_true(cfg.force_sync);
    assert_false(zk_config_is_distributed(&cfg));
    /* Apache's default whitelist: srvr only. */
    assert_true(zk_config_fourlw_enabled(&cfg, "srvr"));
    assert_false(zk_config_fourlw_enabled(&cfg, "ruok"));
    assert_false(zk_config_fourlw_enabled(&cfg, "stat"));
    assert_false(zk_config_fourlw_enabled(&cfg, "isro"));
    assert_int_equal(g_hash_table_size(cfg.fourlw_whitelist), 1);
    assert_string_equal(g_hash_table_lookup(cfg.raw, "dataDir"), "/var/lib/zk");
    zk_config_free(&cfg);
    g_ptr_array_free(warnings, TRUE);
}

static void test_every_key(void **state)
{
    (void)state;
    static const char text[] =
        "tickTime=500\n"
        "initLimit=7\n"
        "syncLimit=3\n"
        "dataDir=/d\n"
        "dataLogDir=/l\n"
        "clientPort=12181\n"
        "clientPortAddress=127.0.0.1\n"
        "maxClientCnxns=0\n"
        "minSessionTimeout=1500\n"
        "maxSessionTimeout=9000\n"
        "4lw.commands.whitelist=stat, ruok ,mntr\n"
        "DigestAuthenticationProvider.superDigest=super:D/InIHSb7yEEbrWz8b9l71RjZJU=\n"
        "zookeeper.extendedTypesEnabled=true\n"
        "znode.container.checkIntervalMs=100\n"
        "jute.maxbuffer=4194304\n"
        "readonlymode.enabled=true\n"
        "localSessionsEnabled=true\n"
        "snapCount=5000\n"
        "autopurge.snapRetainCount=5\n"
        "autopurge.purgeInterval=24\n"
        "standaloneEnabled=false\n"
        "reconfigEnabled=true\n"
        "globalOutstandingLimit=2000\n"
        "preAllocSize=1024\n"
        "forceSync=no\n"
        "electionAlg=3\n";
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok(text, NULL, &cfg, warnings);
    assert_int_equal(warnings->len, 0);
    assert_int_equal(cfg.tick_time, 500);
    assert_int_equal(cfg.init_limit, 7);
    assert_int_equal(cfg.sync_limit, 3);
    assert_string_equal(cfg.data_dir, "/d");
    assert_string_equal(cfg.data_log_dir, "/l");
    assert_int_equal(cfg.client_port, 12181);
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_int_equal(cfg.max_client_cnxns, 0);
    assert_int_equal(cfg.min_session_timeout, 1500);
    assert_int_equal(cfg.max_session_timeout, 9000);
    assert_false(cfg.fourlw_all);
    assert_true(zk_config_fourlw_enabled(&cfg, "stat"));
    assert_true(zk_config_fourlw_enabled(&cfg, "ruok"));
    assert_true(zk_config_fourlw_enabled(&cfg, "mntr"));
    assert_true(zk_config_fourlw_enabled(&cfg, "srvr")); /* always */
    assert_true(zk_config_fourlw_enabled(&cfg, "isro")); /* readonlymode.enabled */
    assert_false(zk_config_fourlw_enabled(&cfg, "dump"));
    assert_string_equal(cfg.super_digest, "super:D/InIHSb7yEEbrWz8b9l71RjZJU=");
    assert_true(cfg.extended_types_enabled);
    assert_int_equal(cfg.container_check_interval_ms, 100);
    assert_int_equal(cfg.jute_maxbuffer, 4194304);
    assert_true(cfg.readonly_mode_enabled);
    assert_true(cfg.local_sessions_enabled);
    assert_int_equal(cfg.snap_count, 5000);
    assert_int_equal(cfg.autopurge_snap_retain_count, 5);
    assert_int_equal(cfg.autopurge_purge_interval, 24);
    assert_false(cfg.standalone_enabled);
    assert_true(cfg.reconfig_enabled);
    assert_int_equal(cfg.global_outstanding_limit, 2000);
    assert_int_equal(cfg.prealloc_size_kb, 1024);
    assert_false(cfg.force_sync);
    assert_int_equal(g_hash_table_size(cfg.raw), 26);
    assert_string_equal(g_hash_table_lookup(cfg.raw, "4lw.commands.whitelist"), "stat, ruok ,mntr");
    zk_config_free(&cfg);
    g_ptr_array_free(warnings, TRUE);
}

static void test_session_timeouts_follow_tick(void **state)
{
    (void)state;
    zk_config cfg;
    parse_ok("dataDir=/d\ntickTime=100\nminSessionTimeout=-1\n", NULL, &cfg, NULL);
    assert_int_equal(cfg.min_session_timeout, 200);
    assert_int_equal(cfg.max_session_timeout, 2000);
    zk_config_free(&cfg);
    /* Only one of them given: the other still follows tickTime. */
    parse_ok("dataDir=/d\ntickTime=1000\nmaxSessionTimeout=60000\n", NULL, &cfg, NULL);
    assert_int_equal(cfg.min_session_timeout, 2000);
    assert_int_equal(cfg.max_session_timeout, 60000);
    zk_config_free(&cfg);
}

static void test_aliases(void **state)
{
    (void)state;
    static const char *const digests[] = {
        "zookeeper.DigestAuthenticationProvider.superDigest", "DigestAuthenticationProvider.superDigest",
        "superDigest", "zookeeper.superDigest",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(digests); i++) {
        char *text = g_strdup_printf("dataDir=/d\n%s = super:abc=\n", digests[i]);
        zk_config cfg;
        GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
        parse_ok(text, NULL, &cfg, warnings);
        assert_int_equal(warnings->len, 0);
        assert_string_equal(cfg.super_digest, "super:abc=");
        zk_config_free(&cfg);
        g_ptr_array_free(warnings, TRUE);
        g_free(text);
    }
    zk_config cfg;
    parse_ok("dataDir=/d\n"
             "extendedTypesEnabled=TRUE\n"
             "zookeeper.jute.maxbuffer=0x200000\n"
             "zookeeper.znode.container.checkIntervalMs=#10\n"
             "zookeeper.readonlymode.enabled=true\n"
             "zookeeper.snapCount=010\n"
             "zookeeper.globalOutstandingLimit=5\n"
             "zookeeper.preAllocSize=64\n"
             "zookeeper.forceSync=false\n"
             "zookeeper.4lw.commands.whitelist=*\n"
             "enforceQuota=true\n",
             NULL, &cfg, NULL);
    assert_true(cfg.extended_types_enabled);
    assert_true(cfg.enforce_quota);
    assert_int_equal(cfg.jute_maxbuffer, 0x200000);
    assert_int_equal(cfg.container_check_interval_ms, 16);
    assert_true(cfg.readonly_mode_enabled);
    assert_int_equal(cfg.snap_count, 8); /* Integer.decode: leading 0 is octal */
    assert_int_equal(cfg.global_outstanding_limit, 5);
    assert_int_equal(cfg.prealloc_size_kb, 64);
    assert_false(cfg.force_sync);
    assert_true(cfg.fourlw_all);
    zk_config_free(&cfg);
    /* A plain zoo.cfg key is not accepted with the prefix. */
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("dataDir=/d\nzookeeper.tickTime=5\n", NULL, &cfg, warnings);
    assert_int_equal(cfg.tick_time, 2000);
    assert_true(warned(warnings, "zoo.cfg:2: unknown key 'zookeeper.tickTime'"));
    zk_config_free(&cfg);
    g_ptr_array_free(warnings, TRUE);
}

static void test_jvmflags(void **state)
{
    (void)state;
    zk_config cfg;
    const char *flags = "-Xmx512m -Dzookeeper.log.dir=/var/log -Dzookeeper.extendedTypesEnabled=true "
                        "-Dzookeeper.DigestAuthenticationProvider.superDigest=super:xyz= "
                        "-Dznode.container.checkIntervalMs=250 -Djute.maxbuffer=2000000 "
                        "-Dreadonlymode.enabled=true -DmaxSessionTimeout=90000 -Dzookeeper.minSessionTimeout=1000 "
                        "-Dzookeeper.4lw.commands.whitelist=ruok -DtickTime=1 -Dzookeeper.snapCount=77 "
                        "-Dfoo=bar -D -Dzookeeper.forceSync=no -Dzookeeper.enforceQuota=true";
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("dataDir=/d\n", flags, &cfg, warnings);
    assert_int_equal(warnings->len, 0); /* other -D words are ignored silently */
    assert_true(cfg.extended_types_enabled);
    assert_true(cfg.enforce_quota);
    assert_string_equal(cfg.super_digest, "super:xyz=");
    assert_int_equal(cfg.container_check_interval_ms, 250);
    assert_int_equal(cfg.jute_maxbuffer, 2000000);
    assert_true(cfg.readonly_mode_enabled);
    assert_int_equal(cfg.max_session_timeout, 90000);
    assert_int_equal(cfg.min_session_timeout, 1000);
    assert_true(zk_config_fourlw_enabled(&cfg, "ruok"));
    assert_int_equal(cfg.tick_time, 2000); /* tickTime is not a system property */
    assert_int_equal(cfg.snap_count, 77);
    assert_false(cfg.force_sync);
    assert_int_equal(g_hash_table_size(cfg.raw), 1); /* raw is the file only */
    zk_config_free(&cfg);
    g_ptr_array_free(warnings, TRUE);

    /* The file wins over -D; a later -D wins over an earlier one. */
    parse_ok("dataDir=/d\njute.maxbuffer=1000\n", "-Djute.maxbuffer=5 -Dzookeeper.snapCount=10 -DsnapCount=20",
             &cfg, NULL);
    assert_int_equal(cfg.jute_maxbuffer, 1000);
    assert_int_equal(cfg.snap_count, 20);
    zk_config_free(&cfg);

    parse_fails("dataDir=/d\n", "-Xmx1g -Djute.maxbuffer=big",
                "JVMFLAGS: bad value for -Djute.maxbuffer: 'big' (expected a positive number of bytes)");
}

static void test_load_file_and_env(void **state)
{
    (void)state;
    char *dir = make_datadir(NULL);
    char *path = g_build_filename(dir, "zoo.cfg", NULL);
    char *text = g_strdup_printf("# test\ntickTime=1000\ndataDir=%s\nclientPort=3000\n", dir);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    char *old_server = g_strdup(g_getenv("SERVER_JVMFLAGS"));
    char *old_flags = g_strdup(g_getenv("JVMFLAGS"));
    g_setenv("SERVER_JVMFLAGS", "-Xmx1000m -Djute.maxbuffer=100 -Dzookeeper.snapCount=30", TRUE);
    g_setenv("JVMFLAGS", "-Djute.maxbuffer=200", TRUE);

    zk_config cfg;
    char *err = NULL;
    assert_int_equal(zk_config_load(path, &cfg, NULL, NULL, &err), 0);
    assert_null(err);
    assert_string_equal(cfg.path, path);
    assert_int_equal(cfg.tick_time, 1000);
    assert_int_equal(cfg.client_port, 3000);
    assert_string_equal(cfg.data_dir, dir);
    assert_int_equal(cfg.jute_maxbuffer, 200); /* JVMFLAGS comes after SERVER_JVMFLAGS */
    assert_int_equal(cfg.snap_count, 30);
    zk_config_free(&cfg);

    /* Errors name the file as given. */
    g_free(text);
    text = g_strdup_printf("dataDir=%s\n\ntickTime=abc\n", dir);
    assert_true(g_file_set_contents(path, text, -1, NULL));
    assert_int_equal(zk_config_load(path, &cfg, NULL, NULL, &err), -1);
    char *expected = g_strdup_printf("%s:3: bad value for tickTime: 'abc' (expected a positive integer)", path);
    assert_string_equal(err, expected);
    g_free(expected);
    g_free(err);

    if (old_server)
        g_setenv("SERVER_JVMFLAGS", old_server, TRUE);
    else
        g_unsetenv("SERVER_JVMFLAGS");
    if (old_flags)
        g_setenv("JVMFLAGS", old_flags, TRUE);
    else
        g_unsetenv("JVMFLAGS");
    g_free(old_server);
    g_free(old_flags);

    /* A missing file. */
    char *missing = g_build_filename(dir, "nope.cfg", NULL);
    assert_int_equal(zk_config_load(missing, &cfg, NULL, NULL, &err), -1);
    assert_non_null(strstr(err, "nope.cfg: cannot read the configuration file"));
    g_free(err);
    zk_config_free(&cfg);
    g_free(missing);
    g_free(text);
    g_free(path);
    remove_datadir(dir);
}

static void test_properties_syntax(void **state)
{
    (void)state;
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("# a comment\r\n"
             "   ! another comment\r\n"
             "\r\n"
             "   \t\n"
             "  tickTime = 3000   \r\n"
             "dataDir=/var/lib/zkfs      # holds myid (1..255)\n"
             "initLimit: 4\n"
             "syncLimit 2\n"
             "clientPortAddress=127.\\\n"
             "     0.0.1\n"
             "dataLogDir=/with\\ space/x\\u0041\n"
             "4lw.commands.whitelist=ruok,\\\n"
             "   stat\n",
             NULL, &cfg, warnings);
    /* Apache refuses clientPortAddress without clientPort; we warn and use 2181. */
    assert_int_equal(warnings->len, 1);
    assert_true(warned(warnings, "zoo.cfg: clientPortAddress is set but clientPort is not; using 2181"));
    assert_int_equal(cfg.tick_time, 3000);
    assert_string_equal(cfg.data_dir, "/var/lib/zkfs");
    assert_int_equal(cfg.init_limit, 4);
    assert_int_equal(cfg.sync_limit, 2);
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_string_equal(cfg.data_log_dir, "/with space/xA");
    assert_true(zk_config_fourlw_enabled(&cfg, "stat"));
    assert_true(zk_config_fourlw_enabled(&cfg, "ruok"));
    zk_config_free(&cfg);
    /* The last value of a repeated key wins. */
    parse_ok("dataDir=/a\ndataDir=/b\ntickTime=1\ntickTime=2\n", NULL, &cfg, NULL);
    assert_string_equal(cfg.data_dir, "/b");
    assert_int_equal(cfg.tick_time, 2);
    assert_string_equal(g_hash_table_lookup(cfg.raw, "dataDir"), "/b");
    zk_config_free(&cfg);
    /* Line numbers count continuation lines, comments and blank lines. */
    parse_fails("# c\n\ndataDir=/d\nclientPortAddress=a\\\n b\nmaxClientCnxns=x\n", NULL,
                "zoo.cfg:6: bad value for maxClientCnxns: 'x'");
    g_ptr_array_free(warnings, TRUE);
}

static void test_fourlw_whitelist(void **state)
{
    (void)state;
    zk_config cfg;
    parse_ok("dataDir=/d\n4lw.commands.whitelist=*\n", NULL, &cfg, NULL);
    assert_true(cfg.fourlw_all);
    static const char *const words[] = {"ruok", "srvr", "stat", "mntr", "conf", "cons", "crst", "srst",
                                        "wchs", "wchc", "wchp", "dump", "envi", "isro", "dirs", "gtmk",
                                        "stmk"};
    for (size_t i = 0; i < G_N_ELEMENTS(words); i++) {
        assert_true(zk_fourlw_known(words[i]));
        assert_true(zk_config_fourlw_enabled(&cfg, words[i]));
    }
    assert_false(zk_fourlw_known("abcd"));
    assert_false(zk_config_fourlw_enabled(&cfg, "abcd"));
    zk_config_free(&cfg);

    parse_ok("dataDir=/d\n4lw.commands.whitelist= stat , ,  *\n", NULL, &cfg, NULL);
    assert_true(cfg.fourlw_all);
    assert_true(zk_config_fourlw_enabled(&cfg, "dump"));
    zk_config_free(&cfg);

    parse_ok("dataDir=/d\n4lw.commands.whitelist=\n", NULL, &cfg, NULL);
    assert_int_equal(g_hash_table_size(cfg.fourlw_whitelist), 1);
    assert_true(zk_config_fourlw_enabled(&cfg, "srvr"));
    zk_config_free(&cfg);

    parse_fails("dataDir=/d\n4lw.commands.whitelist=stat,ruok,bogus\n", NULL,
                "zoo.cfg:2: bad value for 4lw.commands.whitelist: 'stat,ruok,bogus'");
    parse_fails("dataDir=/d\n4lw.commands.whitelist=stat,ruok,bogus\n", NULL, "'bogus' is not a four-letter word");
}

static void test_server_lines(void **state)
{
    (void)state;
    char *dir = make_datadir("2\n");
    char *text = g_strdup_printf("dataDir=%s\n"
                                 "server.3=10.0.0.3:2888:3888:observer\n"
                                 "server.1 = 10.0.0.1:2888:3888 \n"
                                 "server.2=zk2.example.com:2889:3889:participant;2182\n"
                                 "server.4=[fe80::1]:2888:3888:OBSERVER;[::1]:2183\n"
                                 "server.5=10.0.0.5:2888:3888;0.0.0.0:2184\n",
                                 dir);
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok(text, NULL, &cfg, warnings);
    assert_int_equal(cfg.peers->len, 5);
    for (guint i = 0; i < cfg.peers->len; i++)
        assert_int_equal(((zk_peer_config *)g_ptr_array_index(cfg.peers, i))->sid, (int)i + 1);
    const zk_peer_config *p1 = zk_config_find_peer(&cfg, 1);
    assert_string_equal(p1->host, "10.0.0.1");
    assert_int_equal(p1->quorum_port, 2888);
    assert_int_equal(p1->election_port, 3888);
    assert_false(p1->observer);
    assert_null(p1->client_host);
    assert_int_equal(p1->client_port, 0);
    const zk_peer_config *p2 = zk_config_find_peer(&cfg, 2);
    assert_string_equal(p2->host, "zk2.example.com");
    assert_int_equal(p2->quorum_port, 2889);
    assert_int_equal(p2->election_port, 3889);
    assert_false(p2->observer);
    assert_null(p2->client_host);
    assert_int_equal(p2->client_port, 2182);
    const zk_peer_config *p3 = zk_config_find_peer(&cfg, 3);
    assert_true(p3->observer);
    const zk_peer_config *p4 = zk_config_find_peer(&cfg, 4);
    assert_string_equal(p4->host, "fe80::1");
    assert_true(p4->observer);
    assert_string_equal(p4->client_host, "::1");
    assert_int_equal(p4->client_port, 2183);
    const zk_peer_config *p5 = zk_config_find_peer(&cfg, 5);
    assert_string_equal(p5->client_host, "0.0.0.0");
    assert_int_equal(p5->client_port, 2184);
    assert_null(zk_config_find_peer(&cfg, 6));
    assert_true(zk_config_is_distributed(&cfg));
    assert_int_equal(cfg.myid, 2);
    /* This server's ";2182" client part becomes the client port. */
    assert_int_equal(cfg.client_port, 2182);
    assert_null(cfg.client_port_address);
    assert_true(warned(warnings, "3 voting servers") == false);
    zk_config_free(&cfg);
    g_free(text);
    g_ptr_array_free(warnings, TRUE);
    remove_datadir(dir);
}

static void test_client_address_from_server_line(void **state)
{
    (void)state;
    char *dir = make_datadir("  1  \nextra line ignored\n");
    char *text = g_strdup_printf("dataDir=%s\nclientPort=2181\n"
                                 "server.1=127.0.0.1:2888:3888;127.0.0.5:2181\n"
                                 "server.2=127.0.0.2:2888:3888;2182\n"
                                 "server.3=127.0.0.3:2888:3888\n",
                                 dir);
    zk_config cfg;
    parse_ok(text, NULL, &cfg, NULL);
    assert_int_equal(cfg.myid, 1);
    assert_int_equal(cfg.client_port, 2181);
    assert_string_equal(cfg.client_port_address, "127.0.0.5");
    zk_config_free(&cfg);
    g_free(text);
    /* clientPort contradicting this server's client part is an error. */
    text = g_strdup_printf("dataDir=%s\nclientPort=2199\n"
                           "server.1=127.0.0.1:2888:3888;2181\n"
                           "server.2=127.0.0.2:2888:3888\n",
                           dir);
    parse_fails(text, NULL, "zoo.cfg:2: clientPort=2199 differs from the client port 2181 of server.1 (line 3)");
    g_free(text);
    remove_datadir(dir);
}

static void test_myid(void **state)
{
    (void)state;
    static const char servers[] = "server.1=h1:2888:3888\nserver.2=h2:2888:3888\nserver.3=h3:2888:3888\n";
    struct {
        const char *myid; /* NULL: no file */
        const char *error;
    } cases[] = {
        {NULL, "/myid: cannot read the myid file"},
        {"abc\n", "/myid: bad value for myid: 'abc' (expected a server id 1..255)"},
        {"0\n", "bad value for myid: '0'"},
        {"256\n", "bad value for myid: '256'"},
        {"", "bad value for myid: ''"},
        {"4\n", "/myid: myid 4 is not among the server.N lines of zoo.cfg"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        char *dir = make_datadir(cases[i].myid);
        char *text = g_strdup_printf("dataDir=%s\n%s", dir, servers);
        parse_fails(text, NULL, cases[i].error);
        g_free(text);
        remove_datadir(dir);
    }
    /* Good myid, no trailing newline. */
    char *dir = make_datadir("3");
    char *text = g_strdup_printf("dataDir=%s\n%s", dir, servers);
    zk_config cfg;
    parse_ok(text, NULL, &cfg, NULL);
    assert_int_equal(cfg.myid, 3);
    assert_int_equal(cfg.client_port, 2181);
    zk_config_free(&cfg);
    g_free(text);
    remove_datadir(dir);

    /* Standalone: no myid needed, none read. */
    dir = make_datadir("7\n");
    text = g_strdup_printf("dataDir=%s\n", dir);
    parse_ok(text, NULL, &cfg, NULL);
    assert_int_equal(cfg.myid, 0);
    zk_config_free(&cfg);
    g_free(text);
    remove_datadir(dir);
}

static void test_single_server_line(void **state)
{
    (void)state;
    /* One voter + standaloneEnabled (default): standalone, myid optional. */
    char *dir = make_datadir(NULL);
    char *text = g_strdup_printf("dataDir=%s\nserver.1=127.0.0.1:2888:3888\n", dir);
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok(text, NULL, &cfg, warnings);
    assert_false(zk_config_is_distributed(&cfg));
    assert_int_equal(cfg.peers->len, 1);
    assert_int_equal(cfg.myid, 0);
    assert_true(warned(warnings, "zoo.cfg:2: only one server specified; running standalone"));
    zk_config_free(&cfg);
    g_free(text);
    /* With standaloneEnabled=false it is a one-server ensemble: myid needed. */
    text = g_strdup_printf("dataDir=%s\nstandaloneEnabled=false\nserver.1=127.0.0.1:2888:3888\n", dir);
    parse_fails(text, NULL, "cannot read the myid file");
    g_free(text);
    /* Observers need a quorum. */
    text = g_strdup_printf("dataDir=%s\nserver.1=127.0.0.1:2888:3888\nserver.2=127.0.0.1:2889:3889:observer\n",
                           dir);
    parse_fails(text, NULL, "zoo.cfg:2: observers without a quorum");
    g_free(text);
    text = g_strdup_printf("dataDir=%s\nserver.2=127.0.0.1:2889:3889:observer\n", dir);
    parse_fails(text, NULL, "zoo.cfg:2: the server.N lines name only observers");
    g_free(text);
    g_ptr_array_free(warnings, TRUE);
    remove_datadir(dir);
}

static void test_errors_name_key_and_line(void **state)
{
    (void)state;
    struct {
        const char *text;
        const char *error;
    } cases[] = {
        {"dataDir=/d\n\n\n\n\n\ntickTime=abc\n",
         "zoo.cfg:7: bad value for tickTime: 'abc' (expected a positive integer)"},
        {"dataDir=/d\ntickTime=0\n", "zoo.cfg:2: bad value for tickTime: '0'"},
        {"dataDir=/d\ntickTime=-5\n", "zoo.cfg:2: bad value for tickTime: '-5'"},
        {"dataDir=/d\ntickTime=99999999999\n", "zoo.cfg:2: bad value for tickTime: '99999999999'"},
        {"dataDir=/d\ntickTime=2000 ms\n", "zoo.cfg:2: bad value for tickTime: '2000 ms'"},
        {"dataDir=/d\ninitLimit=-1\n", "zoo.cfg:2: bad value for initLimit: '-1'"},
        {"dataDir=/d\nsyncLimit=\n", "zoo.cfg:2: bad value for syncLimit: ''"},
        {"dataDir=/d\nclientPort=65536\n", "zoo.cfg:2: bad value for clientPort: '65536' (expected a port number 1..65535)"},
        {"dataDir=/d\nclientPort=0\n", "zoo.cfg:2: bad value for clientPort: '0'"},
        {"dataDir=/d\nclientPort=21x\n", "zoo.cfg:2: bad value for clientPort: '21x'"},
        {"dataDir=/d\nmaxClientCnxns=-1\n", "zoo.cfg:2: bad value for maxClientCnxns: '-1'"},
        {"dataDir=/d\nminSessionTimeout=-2\n", "zoo.cfg:2: bad value for minSessionTimeout: '-2'"},
        {"dataDir=/d\nminSessionTimeout=5000\nmaxSessionTimeout=4000\n",
         "zoo.cfg:3: bad value for maxSessionTimeout: maxSessionTimeout 4000 is smaller than minSessionTimeout 5000"},
        {"dataDir=/d\nminSessionTimeout=50000\n",
         "zoo.cfg:2: bad value for minSessionTimeout: maxSessionTimeout 40000 is smaller than minSessionTimeout 50000"},
        {"tickTime=2000\n", "zoo.cfg: dataDir is not set"},
        {"dataDir=\n", "zoo.cfg:1: bad value for dataDir: ''"},
        {"dataDir=/d\nstandaloneEnabled=maybe\n", "zoo.cfg:2: bad value for standaloneEnabled: 'maybe' (expected true or false)"},
        {"dataDir=/d\nreconfigEnabled=1\n", "zoo.cfg:2: bad value for reconfigEnabled: '1'"},
        {"dataDir=/d\nextendedTypesEnabled=on\n", "zoo.cfg:2: bad value for extendedTypesEnabled: 'on'"},
        {"dataDir=/d\nforceSync=perhaps\n", "zoo.cfg:2: bad value for forceSync: 'perhaps' (expected yes or no)"},
        {"dataDir=/d\njute.maxbuffer=0\n", "zoo.cfg:2: bad value for jute.maxbuffer: '0'"},
        {"dataDir=/d\nzookeeper.jute.maxbuffer=0xZZ\n", "zoo.cfg:2: bad value for zookeeper.jute.maxbuffer: '0xZZ'"},
        {"dataDir=/d\nsnapCount=1\n", "zoo.cfg:2: bad value for snapCount: '1' (expected an integer >= 2)"},
        {"dataDir=/d\nsuperDigest=nocolon\n", "zoo.cfg:2: bad value for superDigest: 'nocolon'"},
        {"dataDir=/d\nelectionAlg=1\n", "zoo.cfg:2: bad value for electionAlg: '1' (expected 3"},
        {"dataDir=/d\nautopurge.purgeInterval=-3\n", "zoo.cfg:2: bad value for autopurge.purgeInterval: '-3'"},
        {"dataDir=/d\npreAllocSize=0x10\n", "zoo.cfg:2: bad value for preAllocSize: '0x10'"},
        {"dataDir=/d\nserver.x=h:1:2\n", "zoo.cfg:2: bad server id in 'server.x' (expected server.N with N in 1..255)"},
        {"dataDir=/d\nserver.0=h:1:2\n", "zoo.cfg:2: bad server id in 'server.0'"},
        {"dataDir=/d\nserver.256=h:1:2\n", "zoo.cfg:2: bad server id in 'server.256'"},
        {"dataDir=/d\nserver.=h:1:2\n", "zoo.cfg:2: bad server id in 'server.'"},
        {"dataDir=/d\nserver.1=h:2888\n", "zoo.cfg:2: bad value for server.1: 'h:2888' (expected host:quorumPort:electionPort"},
        {"dataDir=/d\nserver.1=h:2888:3888:observer:x\n", "zoo.cfg:2: bad value for server.1"},
        {"dataDir=/d\nserver.1=:2888:3888\n", "zoo.cfg:2: bad value for server.1"},
        {"dataDir=/d\nserver.1=h:0:3888\n", "(expected a quorum port 1..65535)"},
        {"dataDir=/d\nserver.1=h:2888:70000\n", "(expected an election port 1..65535)"},
        {"dataDir=/d\nserver.1=h:2888:2888\n", "(expected different quorum and election ports)"},
        {"dataDir=/d\nserver.1=h:2888:3888:voter\n", "(expected a server type of 'observer' or 'participant')"},
        {"dataDir=/d\nserver.1=h:2888:3888;a:b:2181\n", "(expected a client address of the form [clientHost:]clientPort)"},
        {"dataDir=/d\nserver.1=h:2888:3888;abc\n", "(expected a client port 1..65535)"},
        {"dataDir=/d\nserver.1=h:2888:3888;1;2\n", "zoo.cfg:2: bad value for server.1"},
        {"dataDir=/d\nserver.1=h:2888:3888|g:2888:3888\n", "multiple addresses with '|' are not supported"},
        {"dataDir=/d\nserver.1=[::1:2888:3888\n", "zoo.cfg:2: bad value for server.1"},
        {"dataDir=/d\nserver.1=10.0.0\\n1:2888:3888\n", "(expected a host name or IP address"},
        {"dataDir=/d\nserver.1=a b:2888:3888\n", "(expected a host name or IP address"},
        {"dataDir=/d\nserver.1=h=x:2888:3888\n", "(expected a host name or IP address"},
        {"dataDir=/d\nserver.1=h:2888:3888;c#d:2181\n", "(expected a client host name or IP address"},
        {"dataDir=/d\ndynamicConfigFile=/nonexistent/x\n", "the dynamic config file /nonexistent/x is not a readable regular file"},
        {"dataDir=/d\ndynamicConfigFile=/dev/zero\n", "the dynamic config file /dev/zero is not a readable regular file"},
        {"dataDir=/d\n=value\n", "zoo.cfg:2: line has no key"},
        {"dataDir=/d\nfoo=\\u12\n", "zoo.cfg:2: malformed \\uXXXX escape"},
        {"dataDir=/d\ninitLimit=0\nserver.1=a:1:2\nserver.2=b:1:2\n",
         "zoo.cfg:2: bad value for initLimit: '0' (an ensemble needs a positive number of ticks)"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
        parse_fails(cases[i].text, NULL, cases[i].error);
}

/* The resource bounds (docs/security.md): Apache's system properties with
 * and without the zookeeper. prefix and as -D words; zkserver's own keys
 * in the file only; Apache's throttler tuning keys accepted silently. */
static void test_resource_bound_keys(void **state)
{
    (void)state;
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("dataDir=/d\n"
             "zookeeper.maxCnxns=500\n"
             "nio.sessionlessCnxnTimeout=3000\n"
             "request_throttle_max_requests=0x40\n"
             "zookeeper.request_throttle_stall_time=50\n"
             "zookeeper.request_throttle_drop_stale=false\n"
             "quorumCnxnTimeoutMs=2500\n"
             "cnxnOutputThrottleBytes=65536\n"
             "cnxnOutputLimitBytes=131072\n"
             "cnxnMaxWatches=0\n",
             "-Dzookeeper.cnxTimeout=700 -Dzookeeper.nio.sessionlessCnxnTimeout=9999", &cfg, warnings);
    assert_int_equal(warnings->len, 0);
    assert_int_equal(cfg.max_cnxns, 500);
    assert_int_equal(cfg.sessionless_cnxn_timeout, 3000);   /* the file wins over -D */
    assert_int_equal(cfg.request_throttle_max_requests, 64);
    assert_int_equal(cfg.quorum_cnxn_timeout_ms, 2500);
    assert_int_equal(cfg.cnx_timeout, 700);
    assert_int_equal(cfg.cnxn_output_throttle_bytes, 65536);
    assert_int_equal(cfg.cnxn_output_limit_bytes, 131072);
    assert_int_equal(cfg.cnxn_max_watches, 0);
    zk_config_free(&cfg);
    /* zkserver's own keys are not system properties. */
    parse_ok("dataDir=/d\n", "-DcnxnMaxWatches=5", &cfg, warnings);
    assert_int_equal(cfg.cnxn_max_watches, 1000000);
    zk_config_free(&cfg);
    parse_fails("dataDir=/d\ncnxnOutputThrottleBytes=4096\ncnxnOutputLimitBytes=1024\n", NULL,
                "zoo.cfg:3: bad value for cnxnOutputLimitBytes: 1024 is smaller than cnxnOutputThrottleBytes 4096");
    parse_fails("dataDir=/d\ncnxnOutputThrottleBytes=134217728\n", NULL,
                "zoo.cfg:2: bad value for cnxnOutputLimitBytes: 67108864 is smaller than cnxnOutputThrottleBytes");
    parse_fails("dataDir=/d\nmaxCnxns=-1\n", NULL, "zoo.cfg:2: bad value for maxCnxns: '-1'");
    parse_fails("dataDir=/d\nnio.sessionlessCnxnTimeout=0\n", NULL,
                "zoo.cfg:2: bad value for nio.sessionlessCnxnTimeout: '0'");
    parse_fails("dataDir=/d\ncnxnMaxWatches=lots\n", NULL, "zoo.cfg:2: bad value for cnxnMaxWatches: 'lots'");
    g_ptr_array_free(warnings, TRUE);
}

static void test_unknown_keys_warn(void **state)
{
    (void)state;
    zk_config cfg;
    GPtrArray *warnings = g_ptr_array_new_with_free_func(g_free);
    parse_ok("dataDir=/d\n"
             "fooBar=1\n"
             "admin.enableServer=false\n"
             "admin.serverPort=8080\n"
             "metricsProvider.className=org.apache.zookeeper.metrics.impl.DefaultMetricsProvider\n"
             "audit.enable=false\n"
             "authProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
             "quorumListenOnAllIPs=true\n"
             "zookeeper.admin.enableServer=false\n"
             "sslQuorumReloadCertFiles=true\n"
             "ssl.quorum.crl=true\n"
             "baz.qux=2\n"
             "autopurge.snapRetainCount=1\n",
             NULL, &cfg, warnings);
    assert_int_equal(warnings->len, 5);
    assert_true(warned(warnings, "zoo.cfg:2: unknown key 'fooBar' (ignored)"));
    assert_true(warned(warnings, "zoo.cfg:12: unknown key 'baz.qux' (ignored)"));
    assert_true(warned(warnings, "zoo.cfg:10: sslQuorumReloadCertFiles is not supported by zkserver (ignored)"));
    assert_true(warned(warnings, "zoo.cfg:11: ssl.quorum.crl is not supported"));
    assert_true(warned(warnings, "zoo.cfg:13: autopurge.snapRetainCount 1 is below the minimum; using 3"));
    assert_int_equal(cfg.autopurge_snap_retain_count, 3);
    /* Everything is in raw, known or not. */
    assert_string_equal(g_hash_table_lookup(cfg.raw, "fooBar"), "1");
    assert_string_equal(g_hash_table_lookup(cfg.raw, "admin.serverPort"), "8080");
    assert_int_equal(g_hash_table_size(cfg.raw), 13);
    zk_config_free(&cfg);
    g_ptr_array_free(warnings, TRUE);

    /* TLS: secureClientPort and ssl.* from the file, zookeeper.ssl.* from -D flags. */
    parse_ok("dataDir=/d\nsecureClientPort=2281\nssl.keyStore.location=/k.jks\n",
             "-Dzookeeper.ssl.keyStore.password=pw -Dzookeeper.ssl.clientAuth=want -Dzookeeper.ssl.trustStore.type=PEM",
             &cfg, NULL);
    assert_int_equal(cfg.secure_client_port, 2281);
    assert_string_equal(cfg.ssl_keystore_location, "/k.jks");
    assert_string_equal(cfg.ssl_keystore_password, "pw");
    assert_string_equal(cfg.ssl_client_auth, "want");
    assert_string_equal(cfg.ssl_truststore_type, "PEM");
    assert_false(cfg.ssl_quorum);
    assert_true(cfg.ssl_quorum_hostname_verification);
    zk_config_free(&cfg);

    /* Quorum TLS: sslQuorum and portUnification from the file, ssl.quorum.* from either. */
    parse_ok("dataDir=/d\nsslQuorum=true\nportUnification=true\nssl.quorum.keyStore.location=/q.jks\n",
             "-Dzookeeper.ssl.quorum.trustStore.location=/t.pem -Dzookeeper.ssl.quorum.hostnameVerification=false",
             &cfg, NULL);
    assert_true(cfg.ssl_quorum);
    assert_true(cfg.port_unification);
    assert_string_equal(cfg.ssl_quorum_keystore_location, "/q.jks");
    assert_string_equal(cfg.ssl_quorum_truststore_location, "/t.pem");
    assert_false(cfg.ssl_quorum_hostname_verification);
    assert_null(cfg.ssl_protocol);
    assert_null(cfg.ssl_quorum_protocol);
    assert_null(cfg.ssl_quorum_client_auth);
    zk_config_free(&cfg);

    /* ssl.quorum.protocol, .enabledProtocols, .ciphersuites, .clientAuth;
     * secureClientPortAddress (apart from clientPortAddress). */
    parse_ok("dataDir=/d\nssl.quorum.protocol=TLSv1.3\nssl.quorum.ciphersuites=TLS_AES_128_GCM_SHA256\n"
             "clientPortAddress=127.0.0.1\nsecureClientPort=2281\nsecureClientPortAddress=127.0.0.2\n",
             "-Dzookeeper.ssl.quorum.enabledProtocols=TLSv1.2,TLSv1.3 -Dzookeeper.ssl.quorum.clientAuth=none",
             &cfg, NULL);
    assert_string_equal(cfg.ssl_quorum_protocol, "TLSv1.3");
    assert_string_equal(cfg.ssl_quorum_enabled_protocols, "TLSv1.2,TLSv1.3");
    assert_string_equal(cfg.ssl_quorum_ciphersuites, "TLS_AES_128_GCM_SHA256");
    assert_string_equal(cfg.ssl_quorum_client_auth, "none");
    assert_string_equal(cfg.client_port_address, "127.0.0.1");
    assert_string_equal(cfg.secure_client_port_address, "127.0.0.2");
    zk_config_free(&cfg);
    /* skipACL: exactly "yes", from the file or a -D flag */
    parse_ok("dataDir=/d\nskipACL=yes\n", NULL, &cfg, NULL);
    assert_true(cfg.skip_acl);
    zk_config_free(&cfg);
    parse_ok("dataDir=/d\nskipACL=true\n", NULL, &cfg, NULL);
    assert_false(cfg.skip_acl);
    zk_config_free(&cfg);
    parse_ok("dataDir=/d\n", "-Dzookeeper.skipACL=yes", &cfg, NULL);
    assert_true(cfg.skip_acl);
    zk_config_free(&cfg);
    /* as in Apache: the address without the port is an error */
    parse_fails("dataDir=/d\nsecureClientPortAddress=127.0.0.2\n", NULL,
                "zoo.cfg:2: secureClientPortAddress is set but secureClientPort is not set");

    /* A NULL warn callback and a NULL err pointer are allowed. */
    assert_int_equal(zk_config_parse_string("dataDir=/d\nfoo=1\n", NULL, NULL, &cfg, NULL, NULL, NULL), 0);
    assert_string_equal(cfg.path, "zoo.cfg");
    zk_config_free(&cfg);
    assert_int_equal(zk_config_parse_string("tickTime=1\n", "x.cfg", NULL, &cfg, NULL, NULL, NULL), -1);
    zk_config_free(&cfg);
}

/* dynamicConfigFile: the server.N lines (any sid a reconfig may add) come
 * from the named file, the version from its hex suffix; the membership
 * text lists servers in Java HashMap order with that version. */
static void test_dynamic_config_file(void **state)
{
    (void)state;
    char *dir = make_datadir("2\n");
    char *dyn = g_build_filename(dir, "zoo.cfg.dynamic.10000001c", NULL);
    assert_true(g_file_set_contents(dyn,
        "server.1=127.0.0.1:2001:3001:participant\n"
        "server.2=127.0.0.1:2002:3002:participant;0.0.0.0:2182\n"
        "server.17=127.0.0.1:2017:3017:participant\n"
        "server.999=0.0.0.0:2999:3999:observer;0.0.0.0:4999", -1, NULL));
    char *text = g_strdup_printf("dataDir=%s\ndynamicConfigFile=%s\n", dir, dyn);
    zk_config cfg;
    parse_ok(text, NULL, &cfg, NULL);
    assert_int_equal(cfg.peers->len, 4);
    assert_int_equal(cfg.myid, 2);
    assert_int_equal(cfg.client_port, 2182);
    assert_true(cfg.config_version == 0x10000001cLL);
    assert_string_equal(cfg.dynamic_config_file, dyn);
    char *m = zk_config_membership(&cfg);
    /* buckets of a 16-slot HashMap: 1, 17 (both 1), 2, 999 (7) */
    assert_string_equal(m,
        "server.1=127.0.0.1:2001:3001:participant\n"
        "server.17=127.0.0.1:2017:3017:participant\n"
        "server.2=127.0.0.1:2002:3002:participant;0.0.0.0:2182\n"
        "server.999=0.0.0.0:2999:3999:observer;0.0.0.0:4999\n"
        "version=10000001c");
    g_free(m);
    zk_config_free(&cfg);
    g_free(text);
    /* server.N lines may not be in both files; no version line inside */
    text = g_strdup_printf("dataDir=%s\nserver.1=a:1:2\ndynamicConfigFile=%s\n", dir, dyn);
    parse_fails(text, NULL, "must be in the dynamic config file");
    g_free(text);
    assert_true(g_file_set_contents(dyn, "server.2=127.0.0.1:2002:3002\nversion=5\n", -1, NULL));
    text = g_strdup_printf("dataDir=%s\ndynamicConfigFile=%s\n", dir, dyn);
    parse_fails(text, NULL, "must not hold a version line");
    g_free(text);
    g_unlink(dyn);
    g_free(dyn);
    remove_datadir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_every_key),
        cmocka_unit_test(test_session_timeouts_follow_tick),
        cmocka_unit_test(test_aliases),
        cmocka_unit_test(test_jvmflags),
        cmocka_unit_test(test_load_file_and_env),
        cmocka_unit_test(test_properties_syntax),
        cmocka_unit_test(test_fourlw_whitelist),
        cmocka_unit_test(test_server_lines),
        cmocka_unit_test(test_client_address_from_server_line),
        cmocka_unit_test(test_myid),
        cmocka_unit_test(test_single_server_line),
        cmocka_unit_test(test_errors_name_key_and_line),
        cmocka_unit_test(test_resource_bound_keys),
        cmocka_unit_test(test_unknown_keys_warn),
        cmocka_unit_test(test_dynamic_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
