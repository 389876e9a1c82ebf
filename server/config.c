/*
 * config.c — the zoo.cfg configuration parser (see config.h and
 * docs/configuration.md).
 *
 * The file is read with Java properties syntax (as Apache's
 * QuorumPeerConfig does through java.util.Properties): "#" / "!" comment
 * lines, "key=value", "key: value" or "key value", backslash line
 * continuations and escapes.  Each key is looked up in a table of known
 * settings; values are checked as they are applied, so errors can name the
 * line.  Cross-key checks (session timeouts, server.N lines, myid) run once
 * every key has been seen.
 */
#include "config.h"

#include <glib/gstdio.h>
#include <sys/stat.h>

#include <stdarg.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- the four-letter words ------------------------------------------------ */

/* Every word Apache 3.8's FourLetterCommands knows ("*" enables all). */
static const char *const known_fourlw[] = {
    "conf", "cons", "crst", "dirs", "dump", "envi", "gtmk", "ruok", "stmk",
    "srst", "srvr", "stat", "wchc", "wchp", "wchs", "mntr", "isro", "hash",
};

bool zk_fourlw_known(const char *word)
{
    for (size_t i = 0; i < G_N_ELEMENTS(known_fourlw); i++)
        if (strcmp(known_fourlw[i], word) == 0)
            return true;
    return false;
}

/* ---- the table of settings ------------------------------------------------ */

typedef enum value_kind {
    KIND_INT,        /* a Java int in [min, max] */
    KIND_BOOL,       /* true/false (also yes/no), case-insensitive */
    KIND_STRING,     /* any non-empty string (owned char* field) */
    KIND_FORCESYNC,  /* yes/no/true/false; only "no"/"false" disables */
    KIND_WHITELIST,  /* comma-separated four-letter words or "*" */
    KIND_DIGEST,     /* "super:BASE64" */
} value_kind;

typedef struct setting {
    const char *names[3];  /* accepted spellings; names[0] is the canonical one */
    value_kind kind;
    size_t offset;         /* of the field in zk_config */
    long min, max;         /* KIND_INT bounds */
    bool sysprop;          /* a Java system property in Apache: also accepted with a
                            * "zookeeper." prefix in zoo.cfg and as -D in JVMFLAGS */
    bool decode;           /* KIND_INT parsed like Java's Integer.decode (0x.., #.., 0..) */
    const char *expect;    /* what a good value looks like, for error messages */
} setting;

#define FIELD(f) offsetof(zk_config, f)
#define NOFIELD SIZE_MAX

static const setting settings[] = {
    {{"tickTime"}, KIND_INT, FIELD(tick_time), 1, INT_MAX, false, false, "a positive integer"},
    {{"initLimit"}, KIND_INT, FIELD(init_limit), 0, INT_MAX, false, false, "a non-negative integer"},
    {{"syncLimit"}, KIND_INT, FIELD(sync_limit), 0, INT_MAX, false, false, "a non-negative integer"},
    {{"dataDir"}, KIND_STRING, FIELD(data_dir), 0, 0, false, false, "a directory path"},
    {{"dataLogDir"}, KIND_STRING, FIELD(data_log_dir), 0, 0, false, false, "a directory path"},
    {{"clientPort"}, KIND_INT, FIELD(client_port), 1, 65535, false, false, "a port number 1..65535"},
    {{"clientPortAddress"}, KIND_STRING, FIELD(client_port_address), 0, 0, false, false, "a host name or address"},
    {{"maxClientCnxns"}, KIND_INT, FIELD(max_client_cnxns), 0, INT_MAX, false, false, "a non-negative integer"},
    {{"minSessionTimeout"}, KIND_INT, FIELD(min_session_timeout), -1, INT_MAX, true, false,
     "a timeout in ms, or -1 for 2*tickTime"},
    {{"maxSessionTimeout"}, KIND_INT, FIELD(max_session_timeout), -1, INT_MAX, true, false,
     "a timeout in ms, or -1 for 20*tickTime"},
    {{"autopurge.snapRetainCount"}, KIND_INT, FIELD(autopurge_snap_retain_count), INT_MIN, INT_MAX,
     false, false, "an integer"},
    {{"autopurge.purgeInterval"}, KIND_INT, FIELD(autopurge_purge_interval), 0, INT_MAX, false, false,
     "a non-negative number of hours"},
    {{"standaloneEnabled"}, KIND_BOOL, FIELD(standalone_enabled), 0, 0, false, false, "true or false"},
    {{"reconfigEnabled"}, KIND_BOOL, FIELD(reconfig_enabled), 0, 0, false, false, "true or false"},
    {{"electionAlg"}, KIND_INT, NOFIELD, 3, 3, false, false, "3 (the only supported algorithm)"},
    {{"4lw.commands.whitelist"}, KIND_WHITELIST, NOFIELD, 0, 0, true, false,
     "a comma-separated list of four-letter words, or *"},
    {{"DigestAuthenticationProvider.superDigest", "superDigest"}, KIND_DIGEST, FIELD(super_digest), 0, 0,
     true, false, "super:BASE64-SHA1-DIGEST"},
    {{"extendedTypesEnabled"}, KIND_BOOL, FIELD(extended_types_enabled), 0, 0, true, false, "true or false"},
    {{"enforceQuota"}, KIND_BOOL, FIELD(enforce_quota), 0, 0, true, false, "true or false"},
    {{"znode.container.checkIntervalMs"}, KIND_INT, FIELD(container_check_interval_ms), 1, INT_MAX, true,
     true, "a positive number of ms"},
    {{"jute.maxbuffer"}, KIND_INT, FIELD(jute_maxbuffer), 1, INT_MAX, true, true, "a positive number of bytes"},
    {{"readonlymode.enabled"}, KIND_BOOL, FIELD(readonly_mode_enabled), 0, 0, true, false, "true or false"},
    {{"localSessionsEnabled"}, KIND_BOOL, FIELD(local_sessions_enabled), 0, 0, false, false, "true or false"},
    {{"zkfs.test.zxidHeadroom"}, KIND_INT, FIELD(test_zxid_headroom), 0, 1000000, true, true,
     "a number of zxids 0..1000000 (tests only; 0 = off)"},
    {{"snapCount"}, KIND_INT, FIELD(snap_count), 2, INT_MAX, true, true, "an integer >= 2"},
    {{"globalOutstandingLimit"}, KIND_INT, FIELD(global_outstanding_limit), 1, INT_MAX, true, true,
     "a positive integer"},
    {{"request_throttle_max_requests"}, KIND_INT, FIELD(request_throttle_max_requests), 0, INT_MAX, true,
     true, "a non-negative integer (0 = off)"},
    {{"maxCnxns"}, KIND_INT, FIELD(max_cnxns), 0, INT_MAX, true, true, "a non-negative integer (0 = no limit)"},
    {{"nio.sessionlessCnxnTimeout"}, KIND_INT, FIELD(sessionless_cnxn_timeout), 1, INT_MAX, true, true,
     "a positive number of ms"},
    {{"quorumCnxnTimeoutMs"}, KIND_INT, FIELD(quorum_cnxn_timeout_ms), INT_MIN, INT_MAX, true, true,
     "a number of ms (<= 0: tickTime * syncLimit)"},
    {{"cnxTimeout"}, KIND_INT, FIELD(cnx_timeout), 1, INT_MAX, true, true, "a positive number of ms"},
    {{"cnxnOutputThrottleBytes"}, KIND_INT, FIELD(cnxn_output_throttle_bytes), 1, INT_MAX, false, false,
     "a positive number of bytes"},
    {{"cnxnOutputLimitBytes"}, KIND_INT, FIELD(cnxn_output_limit_bytes), 1, INT_MAX, false, false,
     "a positive number of bytes"},
    {{"admin.enableServer"}, KIND_BOOL, FIELD(admin_enable), 0, 0, true, false, "true or false"},
    {{"admin.serverAddress"}, KIND_STRING, FIELD(admin_address), 0, 0, true, false, "an IP address"},
    {{"admin.serverPort"}, KIND_INT, FIELD(admin_port), 1, 65535, true, false, "a port number 1..65535"},
    {{"admin.commandURL"}, KIND_STRING, FIELD(admin_command_url), 0, 0, true, false, "a URL path like /commands"},
    {{"admin.idleTimeout"}, KIND_INT, FIELD(admin_idle_timeout), 1, INT_MAX, true, false,
     "a positive number of ms"},
    {{"metricsProvider.className"}, KIND_STRING, FIELD(metrics_class_name), 0, 0, false, false,
     "a Java class name"},
    {{"metricsProvider.httpHost"}, KIND_STRING, FIELD(metrics_http_host), 0, 0, false, false, "an IP address"},
    {{"metricsProvider.httpPort"}, KIND_INT, FIELD(metrics_http_port), 1, 65535, false, false,
     "a port number 1..65535"},
    {{"metricsProvider.exportJvmInfo"}, KIND_BOOL, FIELD(metrics_export_jvm_info), 0, 0, false, false,
     "true or false"},
    {{"cnxnMaxWatches"}, KIND_INT, FIELD(cnxn_max_watches), 0, INT_MAX, false, false,
     "a non-negative number of watches (0 = no limit)"},
    {{"preAllocSize"}, KIND_INT, FIELD(prealloc_size_kb), 1, INT_MAX, true, false, "a positive number of KiB"},
    {{"secureClientPort"}, KIND_INT, FIELD(secure_client_port), 1, 65535, false, false, "a port number 1..65535"},
    {{"secureClientPortAddress"}, KIND_STRING, FIELD(secure_client_port_address), 0, 0, false, false,
     "a host name or address"},
    {{"ssl.keyStore.location"}, KIND_STRING, FIELD(ssl_keystore_location), 0, 0, true, false, "a file path"},
    {{"ssl.keyStore.password"}, KIND_STRING, FIELD(ssl_keystore_password), 0, 0, true, false, "a password"},
    {{"ssl.keyStore.type"}, KIND_STRING, FIELD(ssl_keystore_type), 0, 0, true, false, "JKS, PKCS12 or PEM"},
    {{"ssl.trustStore.location"}, KIND_STRING, FIELD(ssl_truststore_location), 0, 0, true, false, "a file path"},
    {{"ssl.trustStore.password"}, KIND_STRING, FIELD(ssl_truststore_password), 0, 0, true, false, "a password"},
    {{"ssl.trustStore.type"}, KIND_STRING, FIELD(ssl_truststore_type), 0, 0, true, false, "JKS, PKCS12 or PEM"},
    {{"ssl.clientAuth"}, KIND_STRING, FIELD(ssl_client_auth), 0, 0, true, false, "none, want or need"},
    {{"ssl.protocol"}, KIND_STRING, FIELD(ssl_protocol), 0, 0, true, false, "TLSv1.2 or TLSv1.3"},
    {{"ssl.enabledProtocols"}, KIND_STRING, FIELD(ssl_enabled_protocols), 0, 0, true, false,
     "a comma-separated list of TLS versions"},
    {{"ssl.ciphersuites"}, KIND_STRING, FIELD(ssl_ciphersuites), 0, 0, true, false,
     "a comma-separated list of cipher suites"},
    {{"sasl.serverconfig"}, KIND_STRING, FIELD(sasl_server_section), 0, 0, true, false,
     "a JAAS section name"},
    {{"superUser"}, KIND_STRING, FIELD(sasl_super_user), 0, 0, true, false, "a SASL user name"},
    {{"SASLAuthenticationProvider.superPassword"}, KIND_STRING, FIELD(sasl_super_password), 0, 0, true, false,
     "a password"},
    {{"letAnySaslUserDoX"}, KIND_STRING, FIELD(sasl_let_any_user), 0, 0, true, false, "a SASL ACL id"},
    {{"allowSaslFailedClients"}, KIND_BOOL, FIELD(allow_sasl_failed_clients), 0, 0, true, false,
     "true or false"},
    {{"sessionRequireClientSASLAuth"}, KIND_BOOL, FIELD(session_require_sasl), 0, 0, true, false,
     "true or false"},
    {{"enforce.auth.enabled"}, KIND_BOOL, FIELD(enforce_auth_enabled), 0, 0, true, false, "true or false"},
    {{"enforce.auth.schemes"}, KIND_STRING, FIELD(enforce_auth_schemes), 0, 0, true, false,
     "a comma-separated list of auth schemes (digest, ip, sasl, x509)"},
    {{"sslQuorum"}, KIND_BOOL, FIELD(ssl_quorum), 0, 0, false, false, "true or false"},
    {{"portUnification"}, KIND_BOOL, FIELD(port_unification), 0, 0, false, false, "true or false"},
    {{"ssl.quorum.keyStore.location"}, KIND_STRING, FIELD(ssl_quorum_keystore_location), 0, 0, true, false,
     "a file path"},
    {{"ssl.quorum.keyStore.password"}, KIND_STRING, FIELD(ssl_quorum_keystore_password), 0, 0, true, false,
     "a password"},
    {{"ssl.quorum.keyStore.type"}, KIND_STRING, FIELD(ssl_quorum_keystore_type), 0, 0, true, false,
     "JKS, PKCS12 or PEM"},
    {{"ssl.quorum.trustStore.location"}, KIND_STRING, FIELD(ssl_quorum_truststore_location), 0, 0, true, false,
     "a file path"},
    {{"ssl.quorum.trustStore.password"}, KIND_STRING, FIELD(ssl_quorum_truststore_password), 0, 0, true, false,
     "a password"},
    {{"ssl.quorum.trustStore.type"}, KIND_STRING, FIELD(ssl_quorum_truststore_type), 0, 0, true, false,
     "JKS, PKCS12 or PEM"},
    {{"ssl.quorum.hostnameVerification"}, KIND_BOOL, FIELD(ssl_quorum_hostname_verification), 0, 0, true, false,
     "true or false"},
    {{"ssl.quorum.clientAuth"}, KIND_STRING, FIELD(ssl_quorum_client_auth), 0, 0, true, false,
     "none, want or need"},
    {{"ssl.quorum.protocol"}, KIND_STRING, FIELD(ssl_quorum_protocol), 0, 0, true, false, "TLSv1.2 or TLSv1.3"},
    {{"ssl.quorum.enabledProtocols"}, KIND_STRING, FIELD(ssl_quorum_enabled_protocols), 0, 0, true, false,
     "a comma-separated list of TLS versions"},
    {{"ssl.quorum.ciphersuites"}, KIND_STRING, FIELD(ssl_quorum_ciphersuites), 0, 0, true, false,
     "a comma-separated list of cipher suites"},
    {{"forceSync"}, KIND_FORCESYNC, FIELD(force_sync), 0, 0, true, false, "yes or no"},
};

enum { N_SETTINGS = G_N_ELEMENTS(settings) };

/*
 * Java-only keys Apache's own harnesses and typical deployments write,
 * accepted silently because ignoring them changes nothing zkserver does.
 * Matched after any "zookeeper." prefix is removed.
 */
static const char *const harmless_keys[] = {
    "localSessionsUpgradingEnabled", "clientPortListenBacklog",
    "connectToLearnerMasterLimit", "quorumListenOnAllIPs", "peerType", "syncEnabled",
    "quorum.cnxn.threads.size", "audit.enable", "serverCnxnFactory",
    "electionPortBindRetry", "leader.nodelay", "tcpKeepAlive",
    "clientTcpKeepAlive", "fsync.warningthresholdms", "digest.enabled",
    "commitLogCount", "snapSizeLimitInKb", "txnLogSizeLimitInKb", "maxBatchSize",
    "learner.asyncSending", "leaderServes", "observer.reconnectDelayMs",
    "request_throttle_stall_time", "request_throttle_drop_stale",
};

static const char *const harmless_prefixes[] = {
    "admin.", "metricsProvider.", "jvm.pause.", "audit.", "quorum.auth.",
    "multiAddress.", "request.throttler.", "throttled_op_wait_time", "flushDelay",
    "maxWriteQueuePollTime", "connection_throttle_", "netty.", "kerberos.",
};

/* Keys that would change behaviour in Apache but that zkserver does not implement. */
static const char *const unsupported_prefixes[] = {
    "ssl.quorum", "ssl.", "sslQuorumReloadCertFiles", "observerMasterPort",
    "group.", "weight.", "oraclePath", "client.portUnification",
};

/* ---- the parser's state --------------------------------------------------- */

#define ORIGIN_DEFAULT 0
#define ORIGIN_JVMFLAGS (-1)

typedef struct parse_state {
    zk_config *cfg;             /* being filled; owned by the caller */
    const char *name;           /* file name for messages; borrowed */
    zk_config_warn_fn warn;
    void *warn_ctx;
    char *err;                  /* owned until handed to the caller */
    int origin[N_SETTINGS];     /* line that set each setting, or ORIGIN_* */
    char *whitelist;            /* owned; the winning 4lw.commands.whitelist value */
    GHashTable *peer_lines;     /* sid (GINT_TO_POINTER) -> line number */
    bool in_dynamic;            /* parsing the dynamicConfigFile (server.N lines only) */
} parse_state;

static void warnf(parse_state *st, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void warnf(parse_state *st, const char *fmt, ...)
{
    if (!st->warn)
        return;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    st->warn(st->warn_ctx, msg);
    g_free(msg);
}

/* Records the first error only. */
static void failf(parse_state *st, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static void failf(parse_state *st, const char *fmt, ...)
{
    if (st->err)
        return;
    va_list ap;
    va_start(ap, fmt);
    st->err = g_strdup_vprintf(fmt, ap);
    va_end(ap);
}

/* "zoo.cfg:7", "JVMFLAGS" or "zoo.cfg": where a setting came from (g_free it). */
static char *origin_text(const parse_state *st, int line)
{
    if (line > 0)
        return g_strdup_printf("%s:%d", st->name, line);
    if (line == ORIGIN_JVMFLAGS)
        return g_strdup("JVMFLAGS");
    return g_strdup(st->name);
}

static void fail_value(parse_state *st, int line, const char *key, const char *value, const char *expect)
{
    char *where = origin_text(st, line);
    failf(st, "%s: bad value for %s: '%s' (expected %s)", where, key, value, expect);
    g_free(where);
}

/* ---- value parsing --------------------------------------------------------- */

/*
 * Parses a Java int: optional sign and decimal digits (Integer.parseInt), or
 * with decode also 0x/0X/# hex and leading-0 octal (Integer.decode).
 */
static bool parse_java_int(const char *s, bool decode, long *out)
{
    const char *p = s;
    bool negative = false;
    if (*p == '+' || *p == '-')
        negative = *p++ == '-';
    int base = 10;
    if (decode) {
        if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
            base = 16;
            p += 2;
        } else if (p[0] == '#') {
            base = 16;
            p += 1;
        } else if (p[0] == '0' && p[1] != '\0') {
            base = 8;
            p += 1;
        }
    }
    if (*p == '\0')
        return false;
    long long v = 0;
    for (; *p; p++) {
        int d;
        if (*p >= '0' && *p <= '9')
            d = *p - '0';
        else if (*p >= 'a' && *p <= 'f')
            d = *p - 'a' + 10;
        else if (*p >= 'A' && *p <= 'F')
            d = *p - 'A' + 10;
        else
            return false;
        if (d >= base)
            return false;
        v = v * base + d;
        if (v > (long long)INT_MAX + 1)
            return false;
    }
    if (negative)
        v = -v;
    if (v > INT_MAX || v < INT_MIN)
        return false;
    *out = (long)v;
    return true;
}

static bool parse_bool_word(const char *s, bool *out)
{
    if (g_ascii_strcasecmp(s, "true") == 0 || g_ascii_strcasecmp(s, "yes") == 0) {
        *out = true;
        return true;
    }
    if (g_ascii_strcasecmp(s, "false") == 0 || g_ascii_strcasecmp(s, "no") == 0) {
        *out = false;
        return true;
    }
    return false;
}

/* Checks a 4lw.commands.whitelist value; on a bad word returns it (g_free it). */
static char *whitelist_bad_word(const char *value)
{
    char **words = g_strsplit(value, ",", -1);
    char *bad = NULL;
    for (char **w = words; *w && !bad; w++) {
        char *word = g_strstrip(*w);
        if (*word == '\0' || strcmp(word, "*") == 0)
            continue;
        if (!zk_fourlw_known(word))
            bad = g_strdup(word);
    }
    g_strfreev(words);
    return bad;
}

/* ---- server.N lines -------------------------------------------------------- */

/*
 * Splits "host:p1:p2..." like Apache's ConfigUtils.getHostAndPort: a host in
 * [brackets] may contain colons.  Returns a NULL-terminated vector (g_strfreev
 * it) whose first element is the host, or NULL if the brackets are malformed.
 */
static char **split_host_and_ports(const char *s)
{
    if (s[0] != '[')
        return g_strsplit(s, ":", -1);
    const char *close = strchr(s, ']');
    if (!close || (close[1] != '\0' && close[1] != ':'))
        return NULL;
    char *host = g_strndup(s + 1, (gsize)(close - s - 1));
    char **rest = close[1] ? g_strsplit(close + 2, ":", -1) : g_new0(char *, 1);
    guint n = g_strv_length(rest);
    char **parts = g_new0(char *, n + 2);
    parts[0] = host;
    for (guint i = 0; i < n; i++)
        parts[i + 1] = rest[i];
    g_free(rest); /* the strings moved into parts */
    return parts;
}

static bool parse_port(const char *s, int *out)
{
    long v;
    if (!parse_java_int(s, false, &v) || v < 1 || v > 65535)
        return false;
    *out = (int)v;
    return true;
}

void zk_peer_config_free(gpointer p)
{
    zk_peer_config *peer = p;
    if (!peer)
        return;
    g_free(peer->host);
    g_free(peer->client_host);
    g_free(peer);
}

/* True if HOST can name a machine: a DNS name or IPv4 address (letters,
 * digits, '-', '.', '_') or an IPv6 literal (hex digits, ':', '.', and a
 * '%zone' suffix). Apache would take any string and fail later when it
 * resolves it; a host with control characters, blanks, '=', '#', '\\' or
 * ';' can never resolve, and written back into /zookeeper/config or a
 * dynamic config file it would not parse again (a newline from a "\\n"
 * escape splits the line), so it is refused here with a clear message. */
static bool is_plausible_host(const char *host)
{
    if (host[0] == '\0' || strlen(host) > 253 + 1 + 64)
        return false;
    bool ipv6 = strchr(host, ':') != NULL;
    for (const char *c = host; *c; c++) {
        unsigned char ch = (unsigned char)*c;
        if (g_ascii_isalnum(ch) || ch == '-' || ch == '.' || ch == '_')
            continue;
        if (ipv6 && (ch == ':' || ch == '%'))
            continue;
        return false;
    }
    return true;
}

/* Parses the value of server.<sid>; NULL and *why set on error. */
zk_peer_config *zk_config_parse_peer(int sid, const char *value, const char **why)
{
    zk_peer_config *peer = g_new0(zk_peer_config, 1);
    peer->sid = sid;
    char **halves = g_strsplit(value, ";", -1);
    char **server_parts = NULL;
    char **client_parts = NULL;
    guint nhalves = g_strv_length(halves);
    *why = NULL;

    if (nhalves < 1 || nhalves > 2) {
        *why = "at most one ';' separating the client address";
        goto fail;
    }
    if (strchr(halves[0], '|')) {
        *why = "a single quorum address (multiple addresses with '|' are not supported)";
        goto fail;
    }
    server_parts = split_host_and_ports(g_strstrip(halves[0]));
    guint nparts = server_parts ? g_strv_length(server_parts) : 0;
    if (nparts < 3 || nparts > 4 || server_parts[0][0] == '\0') {
        *why = "host:quorumPort:electionPort[:observer|:participant][;[clientHost:]clientPort]";
        goto fail;
    }
    if (!is_plausible_host(server_parts[0])) {
        *why = "a host name or IP address (letters, digits, '-', '.', '_'; IPv6 in [])";
        goto fail;
    }
    peer->host = g_strdup(server_parts[0]);
    if (!parse_port(server_parts[1], &peer->quorum_port)) {
        *why = "a quorum port 1..65535";
        goto fail;
    }
    if (!parse_port(server_parts[2], &peer->election_port)) {
        *why = "an election port 1..65535";
        goto fail;
    }
    if (peer->quorum_port == peer->election_port) {
        *why = "different quorum and election ports";
        goto fail;
    }
    if (nparts == 4) {
        if (g_ascii_strcasecmp(server_parts[3], "observer") == 0) {
            peer->observer = true;
        } else if (g_ascii_strcasecmp(server_parts[3], "participant") != 0) {
            *why = "a server type of 'observer' or 'participant'";
            goto fail;
        }
    }
    if (nhalves == 2) {
        client_parts = split_host_and_ports(g_strstrip(halves[1]));
        guint nclient = client_parts ? g_strv_length(client_parts) : 0;
        if (nclient < 1 || nclient > 2) {
            *why = "a client address of the form [clientHost:]clientPort";
            goto fail;
        }
        if (!parse_port(client_parts[nclient - 1], &peer->client_port)) {
            *why = "a client port 1..65535";
            goto fail;
        }
        if (nclient == 2) {
            if (client_parts[0][0] == '\0') {
                *why = "a client host before the ':'";
                goto fail;
            }
            if (!is_plausible_host(client_parts[0])) {
                *why = "a client host name or IP address (letters, digits, '-', '.', '_'; IPv6 in [])";
                goto fail;
            }
            peer->client_host = g_strdup(client_parts[0]);
        }
    }
    g_strfreev(halves);
    g_strfreev(server_parts);
    g_strfreev(client_parts);
    return peer;

fail:
    g_strfreev(halves);
    g_strfreev(server_parts);
    g_strfreev(client_parts);
    zk_peer_config_free(peer);
    return NULL;
}

static void apply_server_line(parse_state *st, const char *key, const char *value, int line)
{
    zk_config *cfg = st->cfg;
    long sid;
    long max_sid = st->in_dynamic ? INT_MAX : 255;   /* reconfig may add any sid (QuorumServer's long) */
    if (!parse_java_int(key + strlen("server."), false, &sid) || sid < 1 || sid > max_sid) {
        char *where = origin_text(st, line);
        failf(st, "%s: bad server id in '%s' (expected server.N with N in 1..255)", where, key);
        g_free(where);
        return;
    }
    const char *why;
    zk_peer_config *peer = zk_config_parse_peer((int)sid, value, &why);
    if (!peer) {
        fail_value(st, line, key, value, why);
        return;
    }
    for (guint i = 0; i < cfg->peers->len; i++) {
        zk_peer_config *old = g_ptr_array_index(cfg->peers, i);
        if (old->sid == peer->sid) {
            warnf(st, "%s:%d: %s given again; the later line wins", st->name, line, key);
            g_ptr_array_remove_index(cfg->peers, i);
            break;
        }
    }
    g_ptr_array_add(cfg->peers, peer);
    g_hash_table_insert(st->peer_lines, GINT_TO_POINTER(peer->sid), GINT_TO_POINTER(line));
}

/* ---- applying one key ------------------------------------------------------ */

/* The setting a key names (see setting.sysprop for the prefix rule), or -1. */
static int find_setting(const char *key)
{
    const char *bare = g_str_has_prefix(key, "zookeeper.") ? key + strlen("zookeeper.") : NULL;
    for (int i = 0; i < N_SETTINGS; i++) {
        for (int n = 0; n < 3 && settings[i].names[n]; n++) {
            if (strcmp(key, settings[i].names[n]) == 0)
                return i;
            if (bare && settings[i].sysprop && strcmp(bare, settings[i].names[n]) == 0)
                return i;
        }
    }
    return -1;
}

static bool in_list(const char *const *list, size_t n, const char *key, bool prefix)
{
    for (size_t i = 0; i < n; i++)
        if (prefix ? g_str_has_prefix(key, list[i]) : strcmp(key, list[i]) == 0)
            return true;
    return false;
}

/* Sets setting idx from value (already trimmed); key is the spelling used. */
static void apply_setting(parse_state *st, int idx, const char *key, const char *value, int line)
{
    const setting *s = &settings[idx];
    void *field = s->offset == NOFIELD ? NULL : (char *)st->cfg + s->offset;
    switch (s->kind) {
    case KIND_INT: {
        long v;
        if (!parse_java_int(value, s->decode, &v) || v < s->min || v > s->max) {
            fail_value(st, line, key, value, s->expect);
            return;
        }
        if (field)
            *(int *)field = (int)v;
        break;
    }
    case KIND_BOOL:
    case KIND_FORCESYNC: {
        bool v;
        if (!parse_bool_word(value, &v)) {
            fail_value(st, line, key, value, s->expect);
            return;
        }
        *(bool *)field = v;
        break;
    }
    case KIND_STRING:
        if (*value == '\0') {
            fail_value(st, line, key, value, s->expect);
            return;
        }
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        break;
    case KIND_DIGEST: {
        const char *colon = strchr(value, ':');
        if (!colon || colon == value || colon[1] == '\0') {
            fail_value(st, line, key, value, s->expect);
            return;
        }
        g_free(*(char **)field);
        *(char **)field = g_strdup(value);
        break;
    }
    case KIND_WHITELIST: {
        char *bad = whitelist_bad_word(value);
        if (bad) {
            char *why = g_strdup_printf("a comma-separated list of four-letter words or *; "
                                        "'%s' is not a four-letter word", bad);
            fail_value(st, line, key, value, why);
            g_free(why);
            g_free(bad);
            return;
        }
        g_free(st->whitelist);
        st->whitelist = g_strdup(value);
        break;
    }
    }
    st->origin[idx] = line;
}

/* The authentication provider classes of Apache 3.8 (ProviderRegistry). */
#define SASL_PROVIDER_CLASS "org.apache.zookeeper.server.auth.SASLAuthenticationProvider"
static const char *const known_providers[] = {
    SASL_PROVIDER_CLASS,
    "org.apache.zookeeper.server.auth.X509AuthenticationProvider",
    "org.apache.zookeeper.server.auth.DigestAuthenticationProvider",
    "org.apache.zookeeper.server.auth.IPAuthenticationProvider",
};

/* authProvider.N / zookeeper.authProvider.N=CLASS: registers the sasl
 * scheme for SASLAuthenticationProvider; other classes Apache would try to
 * load (and skip with a warning if it cannot) are ignored with a warning. */
static void apply_auth_provider(parse_state *st, const char *key, const char *value, int line)
{
    if (strcmp(value, SASL_PROVIDER_CLASS) == 0) {
        st->cfg->sasl_provider = true;
        return;
    }
    if (in_list(known_providers, G_N_ELEMENTS(known_providers), value, false))
        return;
    char *where = origin_text(st, line);
    warnf(st, "%s: %s=%s: zkserver has no such authentication provider (ignored)", where, key, value);
    g_free(where);
}

/* Applies one key=value line of the file. */
static void apply_file_key(parse_state *st, const char *key, const char *value, int line)
{
    g_hash_table_insert(st->cfg->raw, g_strdup(key), g_strdup(value));
    int idx = find_setting(key);
    if (idx >= 0) {
        apply_setting(st, idx, key, value, line);
        return;
    }
    if (g_str_has_prefix(key, "server.")) {
        apply_server_line(st, key, value, line);
        return;
    }
    if (st->in_dynamic) {
        /* QuorumMaj reads server.N lines only; group/weight need a
         * hierarchical quorum system, which zkserver does not have. */
        if (g_str_has_prefix(key, "group") || g_str_has_prefix(key, "weight"))
            failf(st, "%s:%d: %s: hierarchical quorums are not supported", st->name, line, key);
        else if (strcmp(key, "version") == 0)
            failf(st, "%s:%d: a dynamic config file must not hold a version line (the version is the "
                      "file name's suffix)", st->name, line);
        return;
    }
    if (strcmp(key, "dynamicConfigFile") == 0) {
        g_free(st->cfg->dynamic_config_file);
        st->cfg->dynamic_config_file = g_strdup(value);
        return;
    }
    const char *bare = g_str_has_prefix(key, "zookeeper.") ? key + strlen("zookeeper.") : key;
    if (g_str_has_prefix(bare, "authProvider.")) {
        apply_auth_provider(st, key, value, line);
        return;
    }
    if (strcmp(bare, "skipACL") == 0) {   /* ZooKeeperServer: "yes".equals(zookeeper.skipACL) */
        st->cfg->skip_acl = strcmp(value, "yes") == 0;
        return;
    }
    if (g_str_has_prefix(bare, "superUser.")) {   /* ZooKeeperServer.isSaslSuperUser: superUser[.*] */
        g_ptr_array_add(st->cfg->sasl_super_users, g_strdup(value));
        return;
    }
    if (in_list(harmless_keys, G_N_ELEMENTS(harmless_keys), bare, false) ||
        in_list(harmless_prefixes, G_N_ELEMENTS(harmless_prefixes), bare, true))
        return;
    if (in_list(unsupported_prefixes, G_N_ELEMENTS(unsupported_prefixes), bare, true)) {
        warnf(st, "%s:%d: %s is not supported by zkserver (ignored)", st->name, line, key);
        return;
    }
    warnf(st, "%s:%d: unknown key '%s' (ignored)", st->name, line, key);
}

/*
 * Applies the -Dkey=value words of flags (whitespace-separated, as the
 * unquoted $JVMFLAGS of zkServer.sh).  Only system-property settings are
 * taken; every other word (-Xmx..., -Dlog4j...) is ignored.
 */
static void apply_jvmflags(parse_state *st, const char *flags)
{
    if (!flags)
        return;
    char **words = g_strsplit_set(flags, " \t\n", -1);
    for (char **w = words; *w && !st->err; w++) {
        if (!g_str_has_prefix(*w, "-D") || (*w)[2] == '\0')
            continue;
        char *key = g_strdup(*w + 2);
        char *eq = strchr(key, '=');
        const char *value = "";
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        int idx = find_setting(key);
        if (strcmp(key, "java.security.auth.login.config") == 0) {
            g_free(st->cfg->jaas_config);
            st->cfg->jaas_config = *value ? g_strdup(value) : NULL;
        } else if (g_str_has_prefix(key, "zookeeper.authProvider.")) {
            apply_auth_provider(st, key, value, ORIGIN_JVMFLAGS);
        } else if (strcmp(key, "zookeeper.skipACL") == 0) {
            st->cfg->skip_acl = strcmp(value, "yes") == 0;
        } else if (g_str_has_prefix(key, "zookeeper.superUser.")) {
            g_ptr_array_add(st->cfg->sasl_super_users, g_strdup(value));
        } else if (idx >= 0 && settings[idx].sysprop) {
            char *trimmed = g_strstrip(g_strdup(value));
            char *shown = g_strconcat("-D", key, NULL);
            apply_setting(st, idx, shown, trimmed, ORIGIN_JVMFLAGS);
            g_free(shown);
            g_free(trimmed);
        }
        g_free(key);
    }
    g_strfreev(words);
}

/* ---- Java properties syntax ----------------------------------------------- */

static bool is_prop_space(char c)
{
    return c == ' ' || c == '\t' || c == '\f';
}

/* Appends the UTF-8 of a \uXXXX escape at *p (just after the 'u'); advances *p. */
static bool unescape_unicode(const char **p, GString *out)
{
    unsigned cp = 0;
    for (int i = 0; i < 4; i++) {
        char c = (*p)[i];
        int d = g_ascii_xdigit_value(c);
        if (d < 0)
            return false;
        cp = cp * 16 + (unsigned)d;
    }
    *p += 4;
    g_string_append_unichar(out, cp);
    return true;
}

/*
 * Splits one logical line (continuations already joined, leading space
 * removed) into its key and value with Java's rules, resolving escapes.
 * A " #..." tail (whitespace then '#') is taken as a comment and dropped,
 * which Java would not do (see docs/configuration.md).
 */
static bool split_property(const char *line, char **key_out, char **value_out)
{
    GString *key = g_string_new(NULL);
    GString *value = g_string_new(NULL);
    const char *p = line;
    bool ok = true;

    /* The key ends at the first unescaped '=', ':' or whitespace. */
    while (*p && *p != '=' && *p != ':' && !is_prop_space(*p)) {
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 'u') {
                p++;
                if (!unescape_unicode(&p, key)) {
                    ok = false;
                    break;
                }
                continue;
            }
            g_string_append_c(key, *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 'f' ? '\f' : *p);
            p++;
            continue;
        }
        g_string_append_c(key, *p++);
    }
    while (is_prop_space(*p))
        p++;
    if (*p == '=' || *p == ':')
        p++;
    while (is_prop_space(*p))
        p++;
    bool prev_space = false;
    while (ok && *p) {
        if (*p == '#' && prev_space)
            break; /* trailing comment */
        prev_space = is_prop_space(*p);
        if (*p == '\\' && p[1]) {
            p++;
            if (*p == 'u') {
                p++;
                if (!unescape_unicode(&p, value))
                    ok = false;
                continue;
            }
            g_string_append_c(value, *p == 't' ? '\t' : *p == 'n' ? '\n' : *p == 'r' ? '\r' : *p == 'f' ? '\f' : *p);
            p++;
            continue;
        }
        g_string_append_c(value, *p++);
    }
    *key_out = g_strstrip(g_string_free(key, FALSE));
    *value_out = g_strstrip(g_string_free(value, FALSE));
    return ok;
}

/* True if line ends with an odd number of backslashes (a continuation). */
static bool continues(const char *line, size_t len)
{
    size_t n = 0;
    while (n < len && line[len - 1 - n] == '\\')
        n++;
    return n % 2 == 1;
}

static void parse_properties(parse_state *st, const char *text)
{
    char **lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i] && !st->err; i++) {
        int first_line = i + 1;
        char *natural = lines[i];
        size_t len = strlen(natural);
        if (len && natural[len - 1] == '\r')
            natural[--len] = '\0';
        const char *start = natural;
        while (is_prop_space(*start))
            start++;
        if (*start == '\0' || *start == '#' || *start == '!')
            continue;
        GString *logical = g_string_new(start);
        while (continues(logical->str, logical->len) && lines[i + 1]) {
            g_string_truncate(logical, logical->len - 1);
            char *next = lines[++i];
            size_t nlen = strlen(next);
            if (nlen && next[nlen - 1] == '\r')
                next[nlen - 1] = '\0';
            while (is_prop_space(*next))
                next++;
            g_string_append(logical, next);
        }
        if (continues(logical->str, logical->len))
            g_string_truncate(logical, logical->len - 1);
        char *key, *value;
        if (!split_property(logical->str, &key, &value)) {
            failf(st, "%s:%d: malformed \\uXXXX escape", st->name, first_line);
        } else if (*key == '\0') {
            failf(st, "%s:%d: line has no key: '%s'", st->name, first_line, logical->str);
        } else {
            apply_file_key(st, key, value, first_line);
        }
        g_free(key);
        g_free(value);
        g_string_free(logical, TRUE);
    }
    g_strfreev(lines);
}

/* dynamicConfigFile (QuorumPeerConfig): the server.N lines live in their
 * own file, whose name ends in ".<hex version>" (zoo.cfg.dynamic.100000000);
 * the static file must not have any. */
static void parse_dynamic_file(parse_state *st)
{
    zk_config *cfg = st->cfg;
    if (cfg->peers->len > 0) {
        failf(st, "%s: server.N lines must be in the dynamic config file %s, not in the static file",
              st->name, cfg->dynamic_config_file);
        return;
    }
    GStatBuf sb;
    if (g_stat(cfg->dynamic_config_file, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_size > (1 << 20)) {
        failf(st, "%s: the dynamic config file %s is not a readable regular file of at most 1 MiB",
              st->name, cfg->dynamic_config_file);
        return;
    }
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(cfg->dynamic_config_file, &text, NULL, &gerr)) {
        failf(st, "%s: cannot read the dynamic config file %s: %s", st->name, cfg->dynamic_config_file,
              gerr->message);
        g_error_free(gerr);
        return;
    }
    const char *dot = strrchr(cfg->dynamic_config_file, '.');
    char *end = NULL;
    if (dot && dot[1]) {
        guint64 v = g_ascii_strtoull(dot + 1, &end, 16);
        if (end && *end == '\0' && v <= G_MAXINT64)
            cfg->config_version = (int64_t)v;
    }
    const char *keep = st->name;
    st->name = cfg->dynamic_config_file;
    st->in_dynamic = true;
    parse_properties(st, text);
    st->in_dynamic = false;
    st->name = keep;
    g_free(text);
}

/* ---- cross-key checks ------------------------------------------------------ */

static int setting_index(const char *canonical)
{
    for (int i = 0; i < N_SETTINGS; i++)
        if (strcmp(settings[i].names[0], canonical) == 0)
            return i;
    g_assert_not_reached();
    return -1;
}

static gint compare_peers(gconstpointer a, gconstpointer b)
{
    const zk_peer_config *pa = *(zk_peer_config *const *)a;
    const zk_peer_config *pb = *(zk_peer_config *const *)b;
    return (pa->sid > pb->sid) - (pa->sid < pb->sid);
}

static void build_whitelist(parse_state *st)
{
    zk_config *cfg = st->cfg;
    if (st->whitelist) {
        char **words = g_strsplit(st->whitelist, ",", -1);
        for (char **w = words; *w; w++) {
            char *word = g_strstrip(*w);
            if (strcmp(word, "*") == 0) {
                cfg->fourlw_all = true;
                for (size_t i = 0; i < G_N_ELEMENTS(known_fourlw); i++)
                    g_hash_table_add(cfg->fourlw_whitelist, g_strdup(known_fourlw[i]));
                break; /* like Apache, words after "*" are not looked at */
            }
            if (*word)
                g_hash_table_add(cfg->fourlw_whitelist, g_strdup(word));
        }
        g_strfreev(words);
    }
    /* Apache always enables srvr (zkServer.sh status uses it), and isro in read-only mode. */
    g_hash_table_add(cfg->fourlw_whitelist, g_strdup("srvr"));
    if (cfg->readonly_mode_enabled)
        g_hash_table_add(cfg->fourlw_whitelist, g_strdup("isro"));
}

/* Reads DATADIR/myid; required is false when peers exist but we run standalone. */
static void read_myid(parse_state *st, bool required)
{
    zk_config *cfg = st->cfg;
    char *path = g_build_filename(cfg->data_dir, "myid", NULL);
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        if (required)
            failf(st, "%s: cannot read the myid file (%s); an ensemble member needs DATADIR/myid "
                      "holding its server id", path, gerr->message);
        g_error_free(gerr);
        g_free(path);
        return;
    }
    char *newline = strchr(text, '\n');
    if (newline)
        *newline = '\0';
    char *id = g_strstrip(text);
    long v;
    if (!parse_java_int(id, false, &v) || v < 1 || v > 255) {
        failf(st, "%s: bad value for myid: '%s' (expected a server id 1..255)", path, id);
    } else if (!zk_config_find_peer(cfg, (int)v)) {
        failf(st, "%s: myid %ld is not among the server.N lines of %s", path, v, st->name);
    } else {
        cfg->myid = (int)v;
    }
    g_free(text);
    g_free(path);
}

static void check_peers(parse_state *st)
{
    zk_config *cfg = st->cfg;
    if (cfg->peers->len == 0)
        return;
    g_ptr_array_sort(cfg->peers, compare_peers);
    int voters = 0, observers = 0;
    for (guint i = 0; i < cfg->peers->len; i++) {
        const zk_peer_config *p = g_ptr_array_index(cfg->peers, i);
        if (p->observer)
            observers++;
        else
            voters++;
    }
    const zk_peer_config *first = g_ptr_array_index(cfg->peers, 0);
    int first_line = GPOINTER_TO_INT(g_hash_table_lookup(st->peer_lines, GINT_TO_POINTER(first->sid)));
    if (voters == 0) {
        failf(st, "%s:%d: the server.N lines name only observers; at least one participant is needed",
              st->name, first_line);
        return;
    }
    if (voters == 1 && cfg->standalone_enabled) {
        if (observers > 0) {
            failf(st, "%s:%d: observers without a quorum (one participant and standaloneEnabled=true) "
                      "is an invalid configuration", st->name, first_line);
            return;
        }
        warnf(st, "%s:%d: only one server specified; running standalone (set standaloneEnabled=false "
                  "for a one-server ensemble)", st->name, first_line);
    } else if (voters <= 2) {
        warnf(st, "%s: %d voting servers: no server failure will be tolerated; you need at least 3",
              st->name, voters);
    } else if (voters % 2 == 0) {
        warnf(st, "%s: %d voting servers: consider an odd number", st->name, voters);
    }
    bool distributed = zk_config_is_distributed(cfg);
    if (distributed) {
        static const char *const limits[] = {"initLimit", "syncLimit"};
        for (int i = 0; i < 2; i++) {
            int idx = setting_index(limits[i]);
            if (*(int *)((char *)cfg + settings[idx].offset) == 0) {
                char *where = origin_text(st, st->origin[idx]);
                failf(st, "%s: bad value for %s: '0' (an ensemble needs a positive number of ticks)", where,
                      limits[i]);
                g_free(where);
                return;
            }
        }
    }
    read_myid(st, distributed);
    if (st->err || cfg->myid == 0)
        return;

    /* Like Apache's setupClientPort: this server's ";clientPort" part wins. */
    const zk_peer_config *me = zk_config_find_peer(cfg, cfg->myid);
    if (me->client_port == 0)
        return;
    int cp_idx = setting_index("clientPort");
    if (st->origin[cp_idx] != ORIGIN_DEFAULT && cfg->client_port != me->client_port) {
        int line = GPOINTER_TO_INT(g_hash_table_lookup(st->peer_lines, GINT_TO_POINTER(me->sid)));
        failf(st, "%s:%d: clientPort=%d differs from the client port %d of server.%d (line %d)", st->name,
              st->origin[cp_idx], cfg->client_port, me->client_port, me->sid, line);
        return;
    }
    cfg->client_port = me->client_port;
    if (me->client_host && strcmp(me->client_host, "0.0.0.0") != 0) {
        g_free(cfg->client_port_address);
        cfg->client_port_address = g_strdup(me->client_host);
    }
}

/* AuthenticationHelper: sessionRequireClientSASLAuth=true means
 * enforce.auth.enabled with the schemes "sasl"; an enabled enforcement
 * needs schemes, each with a provider. */
static void check_enforce_auth(parse_state *st)
{
    zk_config *cfg = st->cfg;
    if (cfg->session_require_sasl) {
        cfg->enforce_auth_enabled = true;
        g_free(cfg->enforce_auth_schemes);
        cfg->enforce_auth_schemes = g_strdup("sasl");
    }
    if (!cfg->enforce_auth_enabled)
        return;
    int idx = setting_index("enforce.auth.schemes");
    char **schemes = g_strsplit(cfg->enforce_auth_schemes ? cfg->enforce_auth_schemes : "", ",", -1);
    bool any = false;
    for (char **w = schemes; *w && !st->err; w++) {
        char *scheme = g_strstrip(*w);
        if (*scheme == '\0')
            continue;
        any = true;
        bool known = strcmp(scheme, "digest") == 0 || strcmp(scheme, "ip") == 0 ||
                     strcmp(scheme, "x509") == 0 || (strcmp(scheme, "sasl") == 0 && cfg->sasl_provider);
        if (!known) {
            char *where = origin_text(st, st->origin[idx]);
            failf(st, "%s: enforce.auth.schemes: authentication scheme %s is not available%s", where, scheme,
                  strcmp(scheme, "sasl") == 0 ? " (no authProvider.N=" SASL_PROVIDER_CLASS ")" : "");
            g_free(where);
        }
    }
    if (!any && !st->err)
        failf(st, "%s: enforce.auth.enabled is true but enforce.auth.schemes is not set", st->name);
    g_strfreev(schemes);
}

static void finish(parse_state *st)
{
    zk_config *cfg = st->cfg;
    if (!cfg->data_dir) {
        failf(st, "%s: dataDir is not set", st->name);
        return;
    }
    if (!cfg->data_log_dir)
        cfg->data_log_dir = g_strdup(cfg->data_dir);

    int min_idx = setting_index("minSessionTimeout"), max_idx = setting_index("maxSessionTimeout");
    if (cfg->min_session_timeout == -1)
        cfg->min_session_timeout = (int)MIN((gint64)cfg->tick_time * 2, INT_MAX);
    if (cfg->max_session_timeout == -1)
        cfg->max_session_timeout = (int)MIN((gint64)cfg->tick_time * 20, INT_MAX);
    if (cfg->min_session_timeout > cfg->max_session_timeout) {
        int line = st->origin[max_idx] != ORIGIN_DEFAULT ? st->origin[max_idx] : st->origin[min_idx];
        char *where = origin_text(st, line);
        failf(st, "%s: bad value for %s: maxSessionTimeout %d is smaller than minSessionTimeout %d", where,
              st->origin[max_idx] != ORIGIN_DEFAULT ? "maxSessionTimeout" : "minSessionTimeout",
              cfg->max_session_timeout, cfg->min_session_timeout);
        g_free(where);
        return;
    }

    if (cfg->autopurge_snap_retain_count < 3) {
        warnf(st, "%s:%d: autopurge.snapRetainCount %d is below the minimum; using 3", st->name,
              st->origin[setting_index("autopurge.snapRetainCount")], cfg->autopurge_snap_retain_count);
        cfg->autopurge_snap_retain_count = 3;
    }
    if (cfg->client_port_address && st->origin[setting_index("clientPort")] == ORIGIN_DEFAULT &&
        cfg->peers->len == 0)
        warnf(st, "%s: clientPortAddress is set but clientPort is not; using %d", st->name, cfg->client_port);
    if (cfg->secure_client_port_address && cfg->secure_client_port == 0) {   /* Apache refuses it too */
        char *where = origin_text(st, st->origin[setting_index("secureClientPortAddress")]);
        failf(st, "%s: secureClientPortAddress is set but secureClientPort is not set", where);
        g_free(where);
        return;
    }

    if (cfg->cnxn_output_limit_bytes < cfg->cnxn_output_throttle_bytes) {
        int idx = setting_index("cnxnOutputLimitBytes");
        char *where = origin_text(st, st->origin[idx] != ORIGIN_DEFAULT
                                          ? st->origin[idx]
                                          : st->origin[setting_index("cnxnOutputThrottleBytes")]);
        failf(st, "%s: bad value for cnxnOutputLimitBytes: %d is smaller than cnxnOutputThrottleBytes %d",
              where, cfg->cnxn_output_limit_bytes, cfg->cnxn_output_throttle_bytes);
        g_free(where);
        return;
    }

    check_enforce_auth(st);
    build_whitelist(st);
    check_peers(st);
}

/* ---- public API ------------------------------------------------------------ */

static void config_init(zk_config *cfg, const char *name)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->path = g_strdup(name);
    cfg->tick_time = 2000;
    cfg->init_limit = 10;
    cfg->sync_limit = 5;
    cfg->client_port = 2181;
    cfg->max_client_cnxns = 60;
    cfg->min_session_timeout = -1;
    cfg->max_session_timeout = -1;
    cfg->peers = g_ptr_array_new_with_free_func(zk_peer_config_free);
    cfg->fourlw_whitelist = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    cfg->container_check_interval_ms = 60000;
    cfg->jute_maxbuffer = 0xfffff;
    cfg->snap_count = 100000;
    cfg->autopurge_snap_retain_count = 3;
    cfg->autopurge_purge_interval = 0;
    cfg->standalone_enabled = true;
    cfg->reconfig_enabled = false;
    cfg->global_outstanding_limit = 1000;
    cfg->request_throttle_max_requests = 0;
    cfg->max_cnxns = 0;
    cfg->sessionless_cnxn_timeout = 10000;
    cfg->quorum_cnxn_timeout_ms = -1;
    cfg->cnx_timeout = 5000;
    cfg->cnxn_output_throttle_bytes = 1 << 20;
    cfg->cnxn_output_limit_bytes = 64 << 20;
    cfg->cnxn_max_watches = 1000000;
    cfg->prealloc_size_kb = 65536;
    cfg->force_sync = true;
    cfg->ssl_quorum_hostname_verification = true;
    cfg->admin_enable = true;
    cfg->admin_address = g_strdup("0.0.0.0");
    cfg->admin_port = 8080;
    cfg->admin_command_url = g_strdup("/commands");
    cfg->admin_idle_timeout = 30000;
    cfg->metrics_class_name = NULL;
    cfg->metrics_http_host = g_strdup("0.0.0.0");
    cfg->metrics_http_port = 7000;
    cfg->metrics_export_jvm_info = true;
    cfg->raw = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    cfg->sasl_super_users = g_ptr_array_new_with_free_func(g_free);
}

int zk_config_parse_string(const char *text, const char *name, const char *env_jvmflags, zk_config *cfg,
                           zk_config_warn_fn warn, void *warn_ctx, char **err)
{
    if (!name)
        name = "zoo.cfg";
    config_init(cfg, name);
    parse_state st = {
        .cfg = cfg, .name = name, .warn = warn, .warn_ctx = warn_ctx,
        .peer_lines = g_hash_table_new(g_direct_hash, g_direct_equal),
    };
    /* -D flags first, so that a key in the file overrides them. */
    apply_jvmflags(&st, env_jvmflags);
    if (!st.err)
        parse_properties(&st, text ? text : "");
    if (!st.err && cfg->dynamic_config_file)
        parse_dynamic_file(&st);
    if (!st.err)
        finish(&st);
    g_free(st.whitelist);
    g_hash_table_destroy(st.peer_lines);
    if (st.err) {
        zk_config_free(cfg);
        if (err)
            *err = st.err;
        else
            g_free(st.err);
        return -1;
    }
    if (err)
        *err = NULL;
    return 0;
}

int zk_config_load(const char *path, zk_config *cfg, zk_config_warn_fn warn, void *warn_ctx, char **err)
{
    char *text = NULL;
    GError *gerr = NULL;
    if (!g_file_get_contents(path, &text, NULL, &gerr)) {
        memset(cfg, 0, sizeof *cfg);
        if (err)
            *err = g_strdup_printf("%s: cannot read the configuration file: %s", path, gerr->message);
        g_error_free(gerr);
        return -1;
    }
    /* zkServer.sh runs java ... $SERVER_JVMFLAGS $JVMFLAGS ...: the later -D wins. */
    const char *server_flags = g_getenv("SERVER_JVMFLAGS");
    const char *flags = g_getenv("JVMFLAGS");
    char *all_flags = g_strjoin(" ", server_flags ? server_flags : "", flags ? flags : "", NULL);
    int rc = zk_config_parse_string(text, path, all_flags, cfg, warn, warn_ctx, err);
    g_free(all_flags);
    g_free(text);
    return rc;
}

void zk_config_free(zk_config *cfg)
{
    if (!cfg)
        return;
    g_free(cfg->dynamic_config_file);
    g_free(cfg->path);
    g_free(cfg->data_dir);
    g_free(cfg->data_log_dir);
    g_free(cfg->client_port_address);
    g_free(cfg->super_digest);
    char **ssl_fields[] = {&cfg->ssl_keystore_location, &cfg->ssl_keystore_password, &cfg->ssl_keystore_type,
                           &cfg->ssl_truststore_location, &cfg->ssl_truststore_password,
                           &cfg->ssl_truststore_type, &cfg->ssl_client_auth, &cfg->ssl_protocol,
                           &cfg->ssl_enabled_protocols, &cfg->ssl_ciphersuites,
                           &cfg->ssl_quorum_keystore_location, &cfg->ssl_quorum_keystore_password,
                           &cfg->ssl_quorum_keystore_type, &cfg->ssl_quorum_truststore_location,
                           &cfg->ssl_quorum_truststore_password, &cfg->ssl_quorum_truststore_type,
                           &cfg->ssl_quorum_client_auth, &cfg->ssl_quorum_protocol,
                           &cfg->ssl_quorum_enabled_protocols, &cfg->ssl_quorum_ciphersuites,
                           &cfg->secure_client_port_address};
    for (size_t i = 0; i < G_N_ELEMENTS(ssl_fields); i++)
        g_free(*ssl_fields[i]);
    char **sasl_fields[] = {&cfg->jaas_config, &cfg->sasl_server_section, &cfg->sasl_super_user,
                            &cfg->sasl_super_password, &cfg->sasl_let_any_user, &cfg->enforce_auth_schemes};
    for (size_t i = 0; i < G_N_ELEMENTS(sasl_fields); i++)
        g_free(*sasl_fields[i]);
    g_free(cfg->admin_address);
    g_free(cfg->admin_command_url);
    g_free(cfg->metrics_class_name);
    g_free(cfg->metrics_http_host);
    if (cfg->peers)
        g_ptr_array_free(cfg->peers, TRUE);
    if (cfg->fourlw_whitelist)
        g_hash_table_destroy(cfg->fourlw_whitelist);
    if (cfg->raw)
        g_hash_table_destroy(cfg->raw);
    if (cfg->sasl_super_users)
        g_ptr_array_free(cfg->sasl_super_users, TRUE);
    memset(cfg, 0, sizeof *cfg);
}

bool zk_config_fourlw_enabled(const zk_config *cfg, const char *word)
{
    if (!cfg->fourlw_whitelist || !word)
        return false;
    return g_hash_table_contains(cfg->fourlw_whitelist, word);
}

bool zk_config_is_distributed(const zk_config *cfg)
{
    if (!cfg->peers || cfg->peers->len == 0)
        return false;
    int voters = 0;
    for (guint i = 0; i < cfg->peers->len; i++)
        if (!((const zk_peer_config *)g_ptr_array_index(cfg->peers, i))->observer)
            voters++;
    return !cfg->standalone_enabled || voters > 1;
}

const zk_peer_config *zk_config_find_peer(const zk_config *cfg, int sid)
{
    if (!cfg->peers)
        return NULL;
    for (guint i = 0; i < cfg->peers->len; i++) {
        const zk_peer_config *p = g_ptr_array_index(cfg->peers, i);
        if (p->sid == sid)
            return p;
    }
    return NULL;
}

/* An IPv6 literal is bracketed, as QuorumServer.delimitedHostString does. */
static void append_delimited_host(GString *out, const char *host)
{
    if (strchr(host, ':'))
        g_string_append_printf(out, "[%s]", host);
    else
        g_string_append(out, host);
}

/* Java's HashMap<Long,...> iteration order for small keys: by bucket
 * (key & (capacity - 1)), then by insertion (ascending sid here); the
 * capacity is 16, doubled while the count exceeds 0.75 of it. */
static int hashmap_capacity(guint n)
{
    int cap = 16;
    while ((double)n > 0.75 * cap)
        cap *= 2;
    return cap;
}

static int hashmap_bucket_cmp(gconstpointer a, gconstpointer b, gpointer cap)
{
    const zk_peer_config *pa = *(zk_peer_config *const *)a;
    const zk_peer_config *pb = *(zk_peer_config *const *)b;
    int mask = GPOINTER_TO_INT(cap) - 1;
    int ba = pa->sid & mask, bb = pb->sid & mask;
    if (ba != bb)
        return ba < bb ? -1 : 1;
    return (pa->sid > pb->sid) - (pa->sid < pb->sid);
}

char *zk_membership_text(const GPtrArray *peers, int64_t version)
{
    GString *out = g_string_new(NULL);
    GPtrArray *order = g_ptr_array_new();
    for (guint i = 0; peers && i < peers->len; i++)
        g_ptr_array_add(order, peers->pdata[i]);
    g_ptr_array_sort_with_data(order, hashmap_bucket_cmp, GINT_TO_POINTER(hashmap_capacity(order->len)));
    for (guint i = 0; i < order->len; i++) {
        const zk_peer_config *p = order->pdata[i];
        g_string_append_printf(out, "server.%d=", p->sid);
        append_delimited_host(out, p->host);
        g_string_append_printf(out, ":%d:%d:%s", p->quorum_port, p->election_port,
                               p->observer ? "observer" : "participant");
        if (p->client_port > 0) {
            g_string_append_c(out, ';');
            append_delimited_host(out, p->client_host ? p->client_host : "0.0.0.0");
            g_string_append_printf(out, ":%d", p->client_port);
        }
        g_string_append_c(out, '\n');
    }
    g_ptr_array_free(order, TRUE);
    g_string_append_printf(out, "version=%" G_GINT64_MODIFIER "x", version);
    return g_string_free(out, FALSE);
}

char *zk_config_membership(const zk_config *cfg)
{
    return zk_membership_text(cfg->peers, cfg->config_version);
}
