/*
 * reconfig.c — dynamic reconfiguration on the server side (see
 * reconfig.h): Apache 3.8's PrepRequestProcessor checks and input rules
 * for `reconfig`, activation of a committed membership, and the dynamic
 * config file (zoo.cfg.dynamic.<hex version>) that makes it survive a
 * restart.  Nothing here is called for a standalone server except the
 * check, which then answers ZUNIMPLEMENTED.
 */
#include "reconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "quorum.h"
#include "txn.h"
#include "request_internal.h"

/* The most members a configuration may have (zkserver's limit, not
 * Apache's: the Zab core counts acknowledgements of at most 256 peers). */
#define RECONFIG_MAX_MEMBERS 255

/* ------------------------------------------------------------------ */
/* input parsing                                                       */

/* Apache's StringUtils.split: split on sep, trim each piece, drop empty
 * ones.  Returns a NULL-terminated vector (g_strfreev). */
static char **split_trim(const char *s, const char *sep)
{
    char **raw = g_strsplit(s, sep, -1);
    GPtrArray *out = g_ptr_array_new();
    for (int i = 0; raw[i]; i++) {
        char *t = g_strstrip(g_strdup(raw[i]));
        if (*t)
            g_ptr_array_add(out, t);
        else
            g_free(t);
    }
    g_strfreev(raw);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

/* Long.parseLong: an optional sign and decimal digits, nothing else.
 * Returns false where Java throws NumberFormatException. */
static bool java_parse_long(const char *s, int64_t *out)
{
    const char *p = s;
    if (*p == '+' || *p == '-')
        p++;
    if (!*p)
        return false;
    for (const char *q = p; *q; q++)
        if (!g_ascii_isdigit(*q))
            return false;
    errno = 0;
    gint64 v = g_ascii_strtoll(s, NULL, 10);
    if (errno)
        return false;
    *out = v;
    return true;
}

/* A sid that parsed as a long; zkserver's sids are ints >= 1. */
static bool sid_usable(int64_t sid)
{
    return sid >= 1 && sid <= INT_MAX;
}

static GPtrArray *copy_peers(const GPtrArray *peers)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(zk_peer_config_free);
    for (guint i = 0; peers && i < peers->len; i++) {
        const zk_peer_config *p = peers->pdata[i];
        zk_peer_config *c = g_new0(zk_peer_config, 1);
        *c = *p;
        c->host = g_strdup(p->host);
        c->client_host = g_strdup(p->client_host);
        g_ptr_array_add(out, c);
    }
    return out;
}

static void remove_sid(GPtrArray *peers, int sid)
{
    for (guint i = 0; i < peers->len; i++)
        if (((zk_peer_config *)peers->pdata[i])->sid == sid) {
            g_ptr_array_remove_index(peers, i);
            return;
        }
}

static void put_peer(GPtrArray *peers, zk_peer_config *p)
{
    remove_sid(peers, p->sid);
    g_ptr_array_add(peers, p);
}

/* One "server.N" key: the sid after its last '.'.  ZOK, ZMARSHALLINGERROR
 * (not a long) or ZBADARGUMENTS (a long zkserver cannot use). */
static int key_sid(const char *key, int *sid)
{
    const char *dot = strrchr(key, '.');
    int64_t v;
    if (!java_parse_long(dot ? dot + 1 : key, &v))
        return ZMARSHALLINGERROR;
    if (!sid_usable(v))
        return ZBADARGUMENTS;
    *sid = (int)v;
    return ZOK;
}

/* Incremental: leaving then joining, applied to a copy of the current
 * membership (PrepRequestProcessor's nextServers). */
static int incremental(const zk_reconfig_request *rq, GPtrArray *next)
{
    int rc = ZOK;
    char **leaving = NULL, **joining = NULL;
    if (rq->leaving.len >= 0) {
        char *s = jute_view_dup(rq->leaving);
        leaving = split_trim(s, ",");
        g_free(s);
    }
    if (rq->joining.len >= 0) {
        char *s = jute_view_dup(rq->joining);
        joining = split_trim(s, ",");
        g_free(s);
    }
    for (int i = 0; leaving && leaving[i] && rc == ZOK; i++) {
        int64_t sid;
        if (!java_parse_long(leaving[i], &sid))
            rc = ZMARSHALLINGERROR;   /* NumberFormatException: not a KeeperException */
        else if (sid_usable(sid))
            remove_sid(next, (int)sid);
    }
    for (int i = 0; joining && joining[i] && rc == ZOK; i++) {
        /* server.x=server_spec;client_spec */
        char **parts = split_trim(joining[i], "=");
        int sid = 0;
        if (g_strv_length(parts) != 2)
            rc = ZBADARGUMENTS;   /* "Wrong format of server string" */
        else
            rc = key_sid(parts[0], &sid);
        if (rc == ZOK) {
            const char *why;
            zk_peer_config *p = zk_config_parse_peer(sid, parts[1], &why);
            if (!p || p->client_port == 0) {
                /* a spec Apache's QuorumServer refuses, or one without the
                 * client port ("each server should have 3 ports") */
                zk_peer_config_free(p);
                rc = ZBADARGUMENTS;
            } else {
                put_peer(next, p);
            }
        }
        g_strfreev(parts);
    }
    g_strfreev(leaving);
    g_strfreev(joining);
    return rc;
}

/* Non-incremental: newMembers, commas read as newlines, each line a Java
 * property; server.N keys make the membership (QuorumMaj), group/weight
 * would make a hierarchical one (not supported), anything else is ignored. */
static int non_incremental(const zk_reconfig_request *rq, GPtrArray *next)
{
    g_ptr_array_set_size(next, 0);
    char *s = jute_view_dup(rq->new_members);
    for (char *c = s; *c; c++)
        if (*c == ',')
            *c = '\n';
    char **lines = g_strsplit(s, "\n", -1);
    g_free(s);
    int rc = ZOK;
    for (int i = 0; lines[i] && rc == ZOK; i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line || *line == '#' || *line == '!')
            continue;
        size_t k = strcspn(line, "=: \t\f");
        char *key = g_strndup(line, k);
        const char *v = line + k;
        while (*v == ' ' || *v == '\t' || *v == '\f')
            v++;
        if (*v == '=' || *v == ':')
            v++;
        char *value = g_strstrip(g_strdup(v));
        if (g_str_has_prefix(key, "group") || g_str_has_prefix(key, "weight")) {
            rc = ZBADARGUMENTS;
        } else if (g_str_has_prefix(key, "server.")) {
            int sid = 0;
            rc = key_sid(key, &sid);
            if (rc == ZOK) {
                const char *why;
                zk_peer_config *p = zk_config_parse_peer(sid, value, &why);
                if (p)
                    put_peer(next, p);
                else
                    rc = ZBADARGUMENTS;
            }
        }
        g_free(key);
        g_free(value);
    }
    g_strfreev(lines);
    return rc;
}

/* Leader.isQuorumSynced: me (if I vote in next) and every synced follower
 * that votes in next make a majority of next's voters. */
static bool quorum_synced(zk_server *s, const GPtrArray *next)
{
    int voters = 0, synced = 0;
    for (guint i = 0; i < next->len; i++) {
        const zk_peer_config *p = next->pdata[i];
        if (p->observer)
            continue;
        voters++;
        if (p->sid == s->cfg->myid || quorum_learner_synced(s->quorum, p->sid))
            synced++;
    }
    return synced > voters / 2;
}

int reconfig_check(zk_server *s, int64_t session_id, const zk_reconfig_request *rq, int64_t zxid,
                   char **text)
{
    *text = NULL;
    if (!s->cfg->reconfig_enabled)
        return ZRECONFIGDISABLED;
    int rc = request_session_check(s, session_id);
    if (rc != ZOK)
        return rc;
    if (!s->quorum)
        return ZUNIMPLEMENTED;   /* standalone: not a LeaderZooKeeperServer */
    if (s->reconfig_pending > s->cfg->config_version)
        return ZRECONFIGINPROGRESS;
    if (rq->cur_config_id != -1 && rq->cur_config_id != s->cfg->config_version)
        return ZBADVERSION;
    GPtrArray *next = copy_peers(s->cfg->peers);
    rc = rq->new_members.len >= 0 ? non_incremental(rq, next) : incremental(rq, next);
    if (rc == ZOK) {
        int voters = 0;
        for (guint i = 0; i < next->len; i++)
            if (!((zk_peer_config *)next->pdata[i])->observer)
                voters++;
        if (voters < (s->cfg->standalone_enabled ? 2 : 1) || next->len > RECONFIG_MAX_MEMBERS)
            rc = ZBADARGUMENTS;
        else if (!quorum_synced(s, next))
            rc = ZNEWCONFIGNOQUORUM;
    }
    if (rc == ZOK)
        *text = zk_membership_text(next, zxid);
    g_ptr_array_free(next, TRUE);
    return rc;
}

/* ------------------------------------------------------------------ */
/* activation and the dynamic config file                              */

/* The membership text of /zookeeper/config back into peers; NULL if a
 * line does not parse. */
static GPtrArray *parse_membership(const char *text, int64_t *version)
{
    GPtrArray *peers = g_ptr_array_new_with_free_func(zk_peer_config_free);
    char **lines = g_strsplit(text, "\n", -1);
    bool ok = true;
    *version = 0;
    for (int i = 0; lines[i] && ok; i++) {
        char *line = g_strstrip(lines[i]);
        if (!*line)
            continue;
        char *eq = strchr(line, '=');
        if (!eq) {
            ok = false;
            break;
        }
        *eq = '\0';
        if (strcmp(line, "version") == 0) {
            char *end = NULL;
            guint64 v = g_ascii_strtoull(eq + 1, &end, 16);
            ok = end && *end == '\0' && end != eq + 1 && v <= G_MAXINT64;
            *version = (int64_t)v;
            continue;
        }
        int sid = 0;
        const char *why;
        zk_peer_config *p = NULL;
        if (!g_str_has_prefix(line, "server.") || key_sid(line, &sid) != ZOK ||
            !(p = zk_config_parse_peer(sid, eq + 1, &why))) {
            ok = false;
            break;
        }
        put_peer(peers, p);
    }
    g_strfreev(lines);
    if (!ok || peers->len == 0) {
        g_ptr_array_free(peers, TRUE);
        return NULL;
    }
    return peers;
}

/* Writes path durably (temp file, fsync, rename); false (logged) on error. */
static bool write_file_durably(const char *path, const char *content)
{
    char *tmp = g_strconcat(path, ".tmp", NULL);
    bool ok = false;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t len = strlen(content), off = 0;
        while (off < len) {
            ssize_t n = write(fd, content + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            off += (size_t)n;
        }
        ok = off == len && fsync(fd) == 0;
        close(fd);
        ok = ok && rename(tmp, path) == 0;
    }
    if (!ok) {
        LOG_ERROR("cannot write %s: %s", path, g_strerror(errno));
        unlink(tmp);
    } else {
        char *dir = g_path_get_dirname(path);
        int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        g_free(dir);
    }
    g_free(tmp);
    return ok;
}

/* QuorumPeer.setQuorumVerifier(qv, true): the membership (server.N lines,
 * no version: that is the name's suffix) to <zoo.cfg>.dynamic.<hex>, then
 * the static file without server.N lines and pointing at it (the original
 * is kept once as <zoo.cfg>.bak). */
static void write_dynamic_file(zk_server *s)
{
    zk_config *cfg = s->cfg;
    if (!cfg->path || !g_file_test(cfg->path, G_FILE_TEST_IS_REGULAR))
        return;   /* an in-process harness: no file to keep in step */
    char *text = zk_config_membership(cfg);
    char *vline = strrchr(text, '\n');
    if (vline)
        vline[0] = '\0';   /* drop the version line (Apache's file has no final newline) */
    char *base = g_path_is_absolute(cfg->path) ? g_strdup(cfg->path)
                 : g_build_filename(g_get_current_dir(), cfg->path, NULL);
    char *dyn = g_strdup_printf("%s.dynamic.%" G_GINT64_MODIFIER "x", base, cfg->config_version);
    bool ok = write_file_durably(dyn, vline ? text : "");
    gchar *old = NULL;
    if (ok && g_file_get_contents(cfg->path, &old, NULL, NULL)) {
        char *bak = g_strconcat(cfg->path, ".bak", NULL);
        if (!g_file_test(bak, G_FILE_TEST_EXISTS))
            write_file_durably(bak, old);
        g_free(bak);
        GString *out = g_string_new(NULL);
        char **lines = g_strsplit(old, "\n", -1);
        for (int i = 0; lines[i]; i++) {
            const char *l = lines[i];
            while (*l == ' ' || *l == '\t')
                l++;
            if (g_str_has_prefix(l, "server.") || g_str_has_prefix(l, "dynamicConfigFile"))
                continue;
            if (!*l && !lines[i + 1])
                continue;
            g_string_append_printf(out, "%s\n", lines[i]);
        }
        g_strfreev(lines);
        g_string_append_printf(out, "dynamicConfigFile=%s\n", dyn);
        if (write_file_durably(cfg->path, out->str)) {
            g_free(cfg->dynamic_config_file);
            cfg->dynamic_config_file = g_strdup(dyn);
        }
        g_string_free(out, TRUE);
    }
    g_free(old);
    g_free(dyn);
    g_free(base);
    g_free(text);
}

zab_peer *reconfig_txn_members(const uint8_t *txn, size_t len, int *n)
{
    *n = 0;
    jute_reader r;
    jr_init(&r, txn, len);
    txn_header h;
    if (!txn_header_read(&r, &h) || h.type != ZK_OP_RECONFIG)
        return NULL;
    (void)jr_string(&r);
    jute_view data = jr_buffer(&r);
    (void)jr_int(&r);
    if (!jr_ok(&r) || data.len <= 0)
        return NULL;
    char *text = g_strndup(data.ptr, (gsize)data.len);
    int64_t version = 0;
    GPtrArray *peers = parse_membership(text, &version);
    g_free(text);
    if (!peers)
        return NULL;
    zab_peer *out = g_new0(zab_peer, peers->len);
    for (guint i = 0; i < peers->len; i++) {
        const zk_peer_config *p = peers->pdata[i];
        out[i].sid = p->sid;
        out[i].observer = p->observer;
    }
    *n = (int)peers->len;
    g_ptr_array_free(peers, TRUE);
    return out;
}

void reconfig_activate(zk_server *s, int64_t zxid, const uint8_t *data, int32_t len)
{
    zk_config *cfg = s->cfg;
    if (len < 0)
        len = 0;
    char *text = g_strndup((const char *)data, (gsize)len);
    int64_t version = 0;
    GPtrArray *peers = parse_membership(text, &version);
    if (!peers) {
        LOG_ERROR("reconfig 0x%" G_GINT64_MODIFIER "x: the new configuration does not parse; ignored", zxid);
        g_free(text);
        return;
    }
    /* keep cfg->peers sorted by sid, as the parser leaves it */
    for (guint i = 1; i < peers->len; i++)
        for (guint j = i; j > 0 && ((zk_peer_config *)peers->pdata[j - 1])->sid >
                                       ((zk_peer_config *)peers->pdata[j])->sid; j--) {
            gpointer t = peers->pdata[j];
            peers->pdata[j] = peers->pdata[j - 1];
            peers->pdata[j - 1] = t;
        }
    g_ptr_array_free(cfg->peers, TRUE);
    cfg->peers = peers;
    cfg->config_version = zxid;
    if (s->reconfig_pending <= zxid)
        s->reconfig_pending = 0;
    char *flat = g_strdelimit(g_strdup(text), "\n", ' ');
    LOG_INFO("reconfig 0x%" G_GINT64_MODIFIER "x activated: %s", zxid, flat);
    g_free(flat);
    g_free(text);
    write_dynamic_file(s);
    if (s->quorum)
        quorum_reconfigure(s->quorum);
}

void reconfig_established(zk_server *s, uint32_t epoch)
{
    zk_config *cfg = s->cfg;
    if (!cfg->reconfig_enabled || cfg->config_version != 0 || epoch == 0 ||
        !zk_config_is_distributed(cfg))
        return;
    cfg->config_version = (int64_t)epoch << 32;
    zk_node *n = tree_get(s->tree, "/zookeeper/config");
    if (n) {
        char *text = zk_config_membership(cfg);
        tree_init_config_node(s->tree, text, loop_wall_ms());
        n->mzxid = cfg->config_version;
        g_free(text);
    }
    write_dynamic_file(s);
}

bool reconfig_adopt_tree(zk_server *s)
{
    if (!s->cfg->reconfig_enabled)
        return false;   /* no reconfig can have been committed under this config */
    zk_node *n = tree_get(s->tree, "/zookeeper/config");
    if (!n || n->mzxid <= s->cfg->config_version || n->data_len <= 0)
        return false;
    reconfig_activate(s, n->mzxid, n->data, n->data_len);
    return s->cfg->config_version == n->mzxid;
}
