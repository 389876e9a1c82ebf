/*
 * fuzz_config.c — the operator's configuration (server/config.c): zoo.cfg
 * text, the -D words of SERVER_JVMFLAGS/JVMFLAGS and DATADIR/myid.
 *
 * Input: [len u16][zoo.cfg text][len u16][JVM flags][rest: the myid file].
 * The harness appends "dataDir=<a temp dir>" to the text (the last value
 * of a key wins, so the fuzzed dataDir values are parsed but the myid read
 * is always this harness's file).
 *
 * Checked: a refusal comes with a message and leaves the config empty; an
 * accepted config holds what the server relies on (a positive tickTime,
 * positive init/sync limits for an ensemble, min <= max session timeout, jute.maxbuffer > 0, peers sorted by
 * unique sid 1..255 with ports 1..65535, an ensemble member's myid among
 * them), and its membership text (the /zookeeper/config node) parses back
 * into the same peers.
 */
#include <string.h>
#include <unistd.h>

#include "common.h"
#include "config.h"

static char *data_dir;
static char *myid_path;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc; (void)argv;
    char tmpl[] = "/tmp/zkfuzz-config.XXXXXX";
    data_dir = g_strdup(mkdtemp(tmpl));
    if (!data_dir)
        abort();
    myid_path = g_build_filename(data_dir, "myid", NULL);
    return 0;
}

static void check_peers(const zk_config *cfg)
{
    int last = 0;
    for (guint i = 0; i < cfg->peers->len; i++) {
        const zk_peer_config *pc = g_ptr_array_index(cfg->peers, i);
        FZ_CHECK(pc->sid > last && pc->sid <= 255, "peer sids not sorted, unique, 1..255 (%d)", pc->sid);
        last = pc->sid;
        FZ_CHECK(pc->host && *pc->host, "server.%d without a host", pc->sid);
        FZ_CHECK(pc->quorum_port > 0 && pc->quorum_port < 65536 && pc->election_port > 0 &&
                     pc->election_port < 65536, "server.%d ports %d:%d", pc->sid, pc->quorum_port,
                 pc->election_port);
        FZ_CHECK(zk_config_find_peer(cfg, pc->sid) == pc, "find_peer(%d)", pc->sid);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_input in = { data, size };
    const uint8_t *text, *flags, *myid;
    size_t text_len = fz_chunk(&in, &text);
    size_t flags_len = fz_chunk(&in, &flags);
    size_t myid_len = fz_rest(&in, &myid);
    if (!g_file_set_contents(myid_path, (const char *)myid, (gssize)myid_len, NULL))
        abort();
    /* two newlines: a fuzzed text ending in a line continuation swallows one */
    char *cfg_text = g_strdup_printf("%.*s\n\ndataDir=%s\n", (int)text_len, (const char *)text, data_dir);
    char *jvm = g_strndup((const char *)flags, flags_len);
    zk_config cfg;
    char *err = NULL;
    int rc = zk_config_parse_string(cfg_text, "fuzz.cfg", jvm, &cfg, NULL, NULL, &err);
    if (rc < 0) {
        FZ_CHECK(err && *err, "a refusal without a message");
        FZ_CHECK(cfg.peers == NULL || cfg.peers->len == 0, "a refused config keeps peers");
        g_free(err);
    } else {
        FZ_CHECK(err == NULL, "an accepted config with an error message");
        FZ_CHECK(cfg.tick_time > 0 && cfg.init_limit >= 0 && cfg.sync_limit >= 0, "tickTime %d initLimit %d syncLimit %d",
                 cfg.tick_time, cfg.init_limit, cfg.sync_limit);
        FZ_CHECK(!zk_config_is_distributed(&cfg) || (cfg.init_limit > 0 && cfg.sync_limit > 0),
                 "an ensemble with initLimit %d syncLimit %d", cfg.init_limit, cfg.sync_limit);
        FZ_CHECK(cfg.min_session_timeout <= cfg.max_session_timeout, "session timeouts %d > %d",
                 cfg.min_session_timeout, cfg.max_session_timeout);
        FZ_CHECK(cfg.jute_maxbuffer > 0, "jute.maxbuffer %d", cfg.jute_maxbuffer);
        FZ_CHECK(cfg.client_port > 0 && cfg.client_port < 65536, "clientPort %d", cfg.client_port);
        FZ_CHECK(cfg.data_dir && strcmp(cfg.data_dir, data_dir) == 0, "dataDir");
        check_peers(&cfg);
        if (zk_config_is_distributed(&cfg))
            FZ_CHECK(zk_config_find_peer(&cfg, cfg.myid) != NULL, "myid %d is no member", cfg.myid);
        (void)zk_config_fourlw_enabled(&cfg, "stat");
        (void)zk_config_fourlw_enabled(&cfg, "mntr");
        /* the membership text parses back into the same peers */
        char *members = zk_config_membership(&cfg);
        FZ_CHECK(members != NULL, "no membership text");
        if (cfg.peers->len > 0) {
            char *again_text = g_strdup_printf("%s\ndataDir=%s\n", members, data_dir);
            zk_config again;
            char *err2 = NULL;
            const zk_peer_config *first = g_ptr_array_index(cfg.peers, 0);
            char *id = g_strdup_printf("%d\n", first->sid);
            g_file_set_contents(myid_path, id, -1, NULL);
            g_free(id);
            int rc2 = zk_config_parse_string(again_text, "membership", NULL, &again, NULL, NULL, &err2);
            FZ_CHECK(rc2 == 0, "the membership text does not parse: %s", err2 ? err2 : "?");
            if (rc2 == 0) {
                FZ_CHECK(again.peers->len == cfg.peers->len, "membership round trip: %u peers vs %u",
                         again.peers->len, cfg.peers->len);
                for (guint i = 0; i < cfg.peers->len; i++) {
                    const zk_peer_config *a = g_ptr_array_index(cfg.peers, i);
                    const zk_peer_config *b = g_ptr_array_index(again.peers, i);
                    FZ_CHECK(a->sid == b->sid && a->quorum_port == b->quorum_port &&
                                 a->election_port == b->election_port && a->observer == b->observer &&
                                 strcmp(a->host, b->host) == 0,
                             "membership round trip changes server.%d", a->sid);
                }
                zk_config_free(&again);
            }
            g_free(err2);
            g_free(again_text);
        }
        g_free(members);
        zk_config_free(&cfg);
    }
    g_free(cfg_text);
    g_free(jvm);
    return 0;
}
