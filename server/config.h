/*
 * config.h — the zoo.cfg configuration parser.
 *
 * Reads an Apache ZooKeeper 3.8 style zoo.cfg (Java properties syntax),
 * applies the -Dkey=value words of the SERVER_JVMFLAGS / JVMFLAGS
 * environment variables for the settings Apache takes as Java system
 * properties, validates every value and, for an ensemble, reads
 * DATADIR/myid.  docs/configuration.md lists every key, its default and its
 * aliases, and explains the precedence rules.
 *
 * Ownership: a zk_config owns every string, array and table it points to;
 * zk_config_free() releases them all.  Nothing is shared with the caller.
 */
#ifndef ZK_SERVER_CONFIG_H
#define ZK_SERVER_CONFIG_H

#include <stdbool.h>

#include <glib.h>

/* One "server.N=host:quorumPort:electionPort[:type][;[clientHost:]clientPort]" line. */
typedef struct zk_peer_config {
    int sid;               /* N of server.N, 1..255 */
    char *host;            /* owned (g_strdup'd); IPv6 brackets removed */
    int quorum_port;       /* port followers connect to the leader on */
    int election_port;     /* leader-election port */
    bool observer;         /* ":observer"; ":participant" (or nothing) = voter */
    char *client_host;     /* owned; client address host part, NULL if absent */
    int client_port;       /* client port part; 0 if absent */
} zk_peer_config;

typedef struct zk_config {
    char *path;                  /* owned; the config file path (or name given to parse_string) */
    int tick_time;               /* ms, tickTime, default 2000 */
    int init_limit, sync_limit;  /* ticks, default 10 and 5 */
    char *data_dir;              /* owned; dataDir (required) */
    char *data_log_dir;          /* owned; dataLogDir, defaults to a copy of data_dir */
    int client_port;             /* clientPort, default 2181 (or this server's server.N client port) */
    char *client_port_address;   /* owned; clientPortAddress, NULL = all addresses */
    int max_client_cnxns;        /* per-IP limit, default 60; 0 = unlimited */
    int min_session_timeout;     /* ms; default (file value -1 or absent) 2*tickTime */
    int max_session_timeout;     /* ms; default 20*tickTime; >= min_session_timeout */
    GPtrArray *peers;            /* owned; zk_peer_config*, sorted by sid; empty = standalone */
    int myid;                    /* DATADIR/myid (1..255) when peers non-empty; 0 otherwise */
    bool fourlw_all;             /* 4lw.commands.whitelist=* */
    GHashTable *fourlw_whitelist;/* owned; set of enabled words (owned char* keys) */
    char *super_digest;          /* owned; "super:BASE64" or NULL */
    bool extended_types_enabled; /* zookeeper.extendedTypesEnabled, default false */
    bool enforce_quota;          /* zookeeper.enforceQuota, default false (quota.h) */
    int container_check_interval_ms; /* znode.container.checkIntervalMs, default 60000 */
    int jute_maxbuffer;          /* jute.maxbuffer, default 0xfffff */
    bool readonly_mode_enabled;  /* readonlymode.enabled, default false */
    bool local_sessions_enabled; /* localSessionsEnabled, default false: only read-only
                                  * mode creates local sessions (readonly.h) */
    int snap_count;              /* snapCount, default 100000 */
    int test_zxid_headroom;      /* zkfs.test.zxidHeadroom: TESTS ONLY; > 0 = every
                                  * epoch proposes only this many zxids before the
                                  * counter limit (0 = off, the default) */
    int autopurge_snap_retain_count; /* autopurge.snapRetainCount, default 3 (minimum 3) */
    int autopurge_purge_interval;    /* autopurge.purgeInterval, hours, default 0 = off */
    bool standalone_enabled;     /* standaloneEnabled, default true */
    bool reconfig_enabled;       /* reconfigEnabled, default false */
    char *dynamic_config_file;   /* owned; dynamicConfigFile (holds the server.N lines), NULL if none */
    int64_t config_version;      /* the membership's version: the dynamic file name's hex
                                  * suffix, then the zxid of each committed reconfig; 0 = none */
    int global_outstanding_limit;/* globalOutstandingLimit, default 1000 */
    int request_throttle_max_requests; /* zookeeper.request_throttle_max_requests, default 0 = off */
    int max_cnxns;               /* zookeeper.maxCnxns: client connections in all, default 0 = no limit */
    int sessionless_cnxn_timeout;/* zookeeper.nio.sessionlessCnxnTimeout, ms, default 10000 */
    int quorum_cnxn_timeout_ms;  /* zookeeper.quorumCnxnTimeoutMs, default -1 = tickTime * syncLimit */
    int cnx_timeout;             /* zookeeper.cnxTimeout: peer connect timeout, ms, default 5000 */
    int cnxn_output_throttle_bytes; /* unsent output that stops reading a client, default 1 MiB */
    int cnxn_output_limit_bytes; /* unsent output that closes a client, default 64 MiB */
    int cnxn_max_watches;        /* watches one client connection may hold, default 1000000; 0 = no limit */
    int prealloc_size_kb;        /* preAllocSize, KiB, default 65536 */
    bool force_sync;             /* forceSync, default true ("no" disables) */
    int secure_client_port;      /* secureClientPort, 0 = none (TLS, server/tls.c) */
    char *secure_client_port_address; /* owned; secureClientPortAddress, NULL = all addresses
                                       * (clientPortAddress does not apply, as in Apache) */
    /* ssl.* (zookeeper.ssl.* as -D flags): owned strings, NULL when unset */
    char *ssl_keystore_location, *ssl_keystore_password, *ssl_keystore_type;
    char *ssl_truststore_location, *ssl_truststore_password, *ssl_truststore_type;
    char *ssl_client_auth;       /* none, want or need (default need) */
    char *ssl_protocol, *ssl_enabled_protocols, *ssl_ciphersuites;
    /* SASL (server/sasl.c, docs/security.md); owned strings, NULL when unset */
    char *jaas_config;           /* -Djava.security.auth.login.config (JVM flags only): the JAAS file */
    char *sasl_server_section;   /* zookeeper.sasl.serverconfig: its section, NULL = "Server" */
    bool sasl_provider;          /* an authProvider.N names SASLAuthenticationProvider: the sasl ACL scheme exists */
    char *sasl_super_user;       /* zookeeper.superUser: this sasl identity is also super */
    GPtrArray *sasl_super_users; /* owned (char*); the values of zookeeper.superUser.<anything>, also super */
    char *sasl_super_password;   /* zookeeper.SASLAuthenticationProvider.superPassword: user super's password */
    char *sasl_let_any_user;     /* zookeeper.letAnySaslUserDoX: a sasl ACL id every sasl identity matches */
    bool allow_sasl_failed_clients; /* zookeeper.allowSaslFailedClients, default false */
    bool session_require_sasl;   /* zookeeper.sessionRequireClientSASLAuth, default false */
    bool enforce_auth_enabled;   /* zookeeper.enforce.auth.enabled, default false */
    bool skip_acl;               /* zookeeper.skipACL is exactly "yes" (Apache's test): no ACL is checked */
    char *enforce_auth_schemes;  /* zookeeper.enforce.auth.schemes: comma-separated */
    /* Quorum TLS (server/tls.c, server/peer.c): every quorum and election
     * link over TLS with ssl.quorum.* stores, certificates required on
     * both sides.  Strings owned, NULL when unset. */
    bool ssl_quorum;             /* sslQuorum, default false */
    bool port_unification;       /* portUnification: also accept plain peer links, default false */
    char *ssl_quorum_keystore_location, *ssl_quorum_keystore_password, *ssl_quorum_keystore_type;
    char *ssl_quorum_truststore_location, *ssl_quorum_truststore_password, *ssl_quorum_truststore_type;
    bool ssl_quorum_hostname_verification; /* ssl.quorum.hostnameVerification, default true */
    char *ssl_quorum_client_auth; /* ssl.quorum.clientAuth: none, want or need (default need) */
    char *ssl_quorum_protocol, *ssl_quorum_enabled_protocols, *ssl_quorum_ciphersuites;
    /* AdminServer (admin_http.c); Apache system properties zookeeper.admin.* */
    bool admin_enable;           /* admin.enableServer, default true */
    char *admin_address;         /* owned; admin.serverAddress, default 0.0.0.0 */
    int admin_port;              /* admin.serverPort, default 8080 */
    char *admin_command_url;     /* owned; admin.commandURL, default /commands */
    int admin_idle_timeout;      /* admin.idleTimeout, ms, default 30000 */
    /* Prometheus metrics (metrics.c); zoo.cfg keys metricsProvider.* */
    char *metrics_class_name;    /* owned; metricsProvider.className, NULL = Apache's default provider */
    char *metrics_http_host;     /* owned; metricsProvider.httpHost, default 0.0.0.0 */
    int metrics_http_port;       /* metricsProvider.httpPort, default 7000 */
    bool metrics_export_jvm_info;/* metricsProvider.exportJvmInfo, default true (process_* families) */
    GHashTable *raw;             /* owned; every key=value of the file (owned char* keys and values; last one wins) */
} zk_config;

/* Receives one warning message (not owned; valid during the call only). */
typedef void (*zk_config_warn_fn)(void *ctx, const char *msg);

/*
 * Parses the zoo.cfg at path into *cfg (which this function initialises;
 * any previous content is not freed).  -Dkey=value words of the
 * environment variables SERVER_JVMFLAGS then JVMFLAGS (the order zkServer.sh
 * passes them, so JVMFLAGS wins) set system-property settings; a key in the
 * file overrides the same setting given with -D.  For an ensemble
 * DATADIR/myid is read.  warn (may be NULL) receives one message per
 * unknown key or questionable value.
 * Returns 0 on success.  On failure returns -1, leaves *cfg empty (safe to
 * pass to zk_config_free) and stores in *err a g_strdup'd message naming the
 * file, line and key, e.g.
 *   "zoo.cfg:7: bad value for tickTime: 'abc' (expected a positive integer)";
 * the caller g_free()s it.
 */
int zk_config_load(const char *path, zk_config *cfg, zk_config_warn_fn warn, void *warn_ctx,
                   char **err);

/*
 * Like zk_config_load but parses text (the file's content) instead of a
 * file; name is used as cfg->path and in messages; env_jvmflags (may be
 * NULL) stands for the concatenated SERVER_JVMFLAGS and JVMFLAGS values.
 * DATADIR/myid is read from disk as by zk_config_load.
 */
int zk_config_parse_string(const char *text, const char *name, const char *env_jvmflags,
                           zk_config *cfg, zk_config_warn_fn warn, void *warn_ctx, char **err);

/* Releases everything cfg owns and zeroes it.  cfg itself is not freed. */
void zk_config_free(zk_config *cfg);
/*
 * QuorumMaj.toString() of peers (zk_peer_config*, borrowed): one
 * "server.N=host:qp:ep:participant|observer[;clientHost:clientPort]" line
 * per member, in the order Java's HashMap iterates them (by sid modulo the
 * table size, which is ascending sid for sids below 16), and
 * "version=<hex version>" with no final newline.  g_malloc'd; the caller
 * frees it.
 */
char *zk_membership_text(const GPtrArray *peers, int64_t version);
/*
 * Parses the value of a server.N line ("host:qp:ep[:type][;[clientHost:]clientPort]")
 * for server id sid.  Returns a new zk_peer_config (the caller frees it
 * with zk_peer_config_free) or NULL with *why (static text) saying what
 * was expected.
 */
zk_peer_config *zk_config_parse_peer(int sid, const char *value, const char **why);
/* Frees a zk_peer_config (a GDestroyNotify for arrays of them). */
void zk_peer_config_free(gpointer p);
/*
 * zk_membership_text of cfg->peers and cfg->config_version (what
 * /zookeeper/config holds).  g_malloc'd; the caller frees it.
 */
char *zk_config_membership(const zk_config *cfg);

/* True if the four-letter word (e.g. "stat") may be executed. */
bool zk_config_fourlw_enabled(const zk_config *cfg, const char *word);

/* True if word is one of Apache 3.8's four-letter words (enabled or not). */
bool zk_fourlw_known(const char *word);

/*
 * True if this configuration runs an ensemble (Apache's isDistributed()):
 * more than one voting server.N line, or any server.N line with
 * standaloneEnabled=false.  A single voting server.N line with
 * standaloneEnabled=true (the default) runs standalone.
 */
bool zk_config_is_distributed(const zk_config *cfg);

/* The peer with the given sid (borrowed pointer into cfg->peers) or NULL. */
const zk_peer_config *zk_config_find_peer(const zk_config *cfg, int sid);

#endif /* ZK_SERVER_CONFIG_H */
