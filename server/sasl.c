/*
 * sasl.c — SASL on the client port: the JAAS login, the sasl (opcode 102)
 * packet and authentication enforcement, following Apache 3.8's
 * ServerCnxnFactory.configureSaslLogin, SaslServerCallbackHandler,
 * ZooKeeperServer.processSasl and AuthenticationHelper (see sasl.h).
 */
#include "sasl.h"

#include <string.h>

#include "acl.h"
#include "conn.h"
#include "jaas.h"
#include "log.h"
#include "sasl_digest.h"
#include "server.h"
#include "zk/proto.h"

#define DIGEST_LOGIN_MODULE "org.apache.zookeeper.server.auth.DigestLoginModule"

struct zk_sasl_login {
    GHashTable *users;      /* user name -> password (both owned) */
    char *super_password;   /* owned; zookeeper.SASLAuthenticationProvider.superPassword, or NULL */
};

int sasl_login_load(const zk_config *cfg, zk_sasl_login **out, char **err)
{
    *out = NULL;
    *err = NULL;
    if (!cfg->jaas_config)
        return 0;
    const char *section = cfg->sasl_server_section ? cfg->sasl_server_section : "Server";
    char *text = NULL;
    gsize len = 0;
    GError *gerr = NULL;
    if (!g_file_get_contents(cfg->jaas_config, &text, &len, &gerr)) {
        *err = g_strdup_printf("cannot read the JAAS file %s (java.security.auth.login.config): %s",
                               cfg->jaas_config, gerr->message);
        g_error_free(gerr);
        return -1;
    }
    char *perr = NULL;
    jaas_config *jc = jaas_parse(text, len, &perr);
    g_free(text);
    if (!jc) {
        *err = g_strdup_printf("invalid JAAS file %s (java.security.auth.login.config): %s", cfg->jaas_config,
                               perr);
        g_free(perr);
        return -1;
    }
    const jaas_section *sec = jaas_find(jc, section);
    if (!sec) {
        LOG_INFO("no JAAS section '%s' in %s: SASL authentication is off", section, cfg->jaas_config);
        jaas_free(jc);
        return 0;
    }
    zk_sasl_login *l = g_new0(zk_sasl_login, 1);
    l->users = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (guint i = 0; i < sec->entries->len; i++) {
        const jaas_entry *e = g_ptr_array_index(sec->entries, i);
        if (strcmp(e->module, DIGEST_LOGIN_MODULE) != 0) {
            *err = g_strdup_printf("JAAS file %s, section '%s': login module %s is not supported by zkserver "
                                   "(only " DIGEST_LOGIN_MODULE ", i.e. SASL DIGEST-MD5; no Kerberos)",
                                   cfg->jaas_config, section, e->module);
            jaas_free(jc);
            sasl_login_free(l);
            return -1;
        }
        for (guint j = 0; j < e->options->len; j++) {
            const jaas_option *o = g_ptr_array_index(e->options, j);
            if (g_str_has_prefix(o->key, "user_"))
                g_hash_table_insert(l->users, g_strdup(o->key + strlen("user_")), g_strdup(o->value));
        }
    }
    jaas_free(jc);
    l->super_password = cfg->sasl_super_password ? g_strdup(cfg->sasl_super_password) : NULL;
    LOG_INFO("SASL DIGEST-MD5 on the client port: %u user(s) from section '%s' of %s",
             g_hash_table_size(l->users), section, cfg->jaas_config);
    *out = l;
    return 0;
}

void sasl_login_free(zk_sasl_login *l)
{
    if (!l)
        return;
    g_hash_table_destroy(l->users);
    g_free(l->super_password);
    g_free(l);
}

unsigned sasl_login_user_count(const zk_sasl_login *l)
{
    return l ? g_hash_table_size(l->users) : 0;
}

void sasl_configure_acl(const zk_config *cfg)
{
    acl_configure_sasl(cfg->sasl_provider, cfg->sasl_let_any_user);
}

/* SaslServerCallbackHandler: a known user's password; user "super" takes
 * superPassword instead when that is set. */
static const char *lookup_password(void *ctx, const char *user)
{
    zk_sasl_login *l = ctx;
    const char *pw = g_hash_table_lookup(l->users, user);
    if (pw && strcmp(user, "super") == 0 && l->super_password)
        return l->super_password;
    return pw;
}

/* ZooKeeperServer.isSaslSuperUser: zookeeper.superUser or any
 * zookeeper.superUser.<suffix> names id (a non-empty id). */
static bool is_super_user(const zk_config *cfg, const char *id)
{
    if (!*id)
        return false;
    if (cfg->sasl_super_user && strcmp(cfg->sasl_super_user, id) == 0)
        return true;
    for (guint i = 0; cfg->sasl_super_users && i < cfg->sasl_super_users->len; i++)
        if (strcmp(g_ptr_array_index(cfg->sasl_super_users, i), id) == 0)
            return true;
    return false;
}

/* Is SASL required of every connection (AuthenticationHelper.isSaslAuthRequired)? */
static bool sasl_required(const zk_config *cfg)
{
    if (!cfg->enforce_auth_enabled || !cfg->enforce_auth_schemes)
        return false;
    char **schemes = g_strsplit(cfg->enforce_auth_schemes, ",", -1);
    bool found = false;
    for (char **w = schemes; *w && !found; w++)
        found = strcmp(g_strstrip(*w), "sasl") == 0;
    g_strfreev(schemes);
    return found;
}

static void send_sasl_reply(zk_conn *c, int32_t xid, int err, const GByteArray *token)
{
    jute_writer w;
    jw_init(&w, 24 + (token ? token->len : 0));
    zk_reply_header h = { xid, 0, err };
    zk_reply_header_write(&w, &h);
    jw_buffer(&w, token ? token->data : NULL, token ? (int32_t)token->len : -1);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
}

void sasl_handle_request(zk_server *s, zk_conn *c, int32_t xid, jute_view token)
{
    if (!s->sasl_login) {
        /* No login: Apache's processSasl catches the NullPointerException of
         * the missing SASL server and answers OK with a null token. */
        send_sasl_reply(c, xid, ZOK, NULL);
        return;
    }
    if (!c->sasl)
        c->sasl = sasl_digest_new();
    GByteArray *out = g_byte_array_new();
    char *id = NULL;
    const char *why = NULL;
    sasl_step_result r = sasl_digest_step(c->sasl, (const uint8_t *)token.ptr, token.len > 0 ? (size_t)token.len : 0,
                                          lookup_password, s->sasl_login, out, &id, &why);
    switch (r) {
    case SASL_STEP_CONTINUE:
        send_sasl_reply(c, xid, ZOK, out);
        break;
    case SASL_STEP_DONE: {
        bool added = auth_add(c->auth, "sasl", id);
        LOG_INFO("Session 0x%" G_GINT64_MODIFIER "x: adding SASL authorization for authorizationID: %s",
                 c->session_id, id);
        if (added && is_super_user(s->cfg, id)) {
            added = auth_add(c->auth, "super", "");
            LOG_INFO("Session 0x%" G_GINT64_MODIFIER "x: Authenticated Id '%s' as super user", c->session_id, id);
        }
        if (!added)   /* the connection's identity bounds (acl.h) */
            LOG_WARN("connection %s:%d holds too many identities; SASL identity %s not added", c->addr, c->port,
                     id);
        send_sasl_reply(c, xid, ZOK, out);
        break;
    }
    case SASL_STEP_FAIL: {
        LOG_WARN("Client %s:%d failed to SASL authenticate: %s", c->addr, c->port, why);
        bool required = sasl_required(s->cfg);
        if (s->cfg->allow_sasl_failed_clients && !required) {
            LOG_WARN("Maintaining client connection despite SASL authentication failure.");
            send_sasl_reply(c, xid, ZOK, NULL);
            break;
        }
        LOG_WARN("Closing client connection due to %s", required ? "server requiring SASL authentication"
                                                                   : "SASL authentication failure.");
        send_sasl_reply(c, xid, required ? ZSESSIONCLOSEDREQUIRESASLAUTH : ZAUTHFAILED, NULL);
        conn_close_after_flush(c);
        break;
    }
    case SASL_STEP_FATAL:
        /* The JDK throws an unchecked exception out of processPacket: the
         * connection is closed without an answer. */
        conn_close(c, why);
        break;
    }
    g_free(id);
    g_byte_array_free(out, TRUE);
}

bool sasl_enforce_auth(zk_server *s, zk_conn *c, int32_t xid)
{
    const zk_config *cfg = s->cfg;
    if (!cfg->enforce_auth_enabled)
        return true;
    char **schemes = g_strsplit(cfg->enforce_auth_schemes ? cfg->enforce_auth_schemes : "", ",", -1);
    bool ok = false;
    for (guint i = 0; c->auth && i < c->auth->len && !ok; i++) {
        const zk_auth_id *a = g_ptr_array_index(c->auth, i);
        for (char **w = schemes; *w && !ok; w++)
            ok = strcmp(g_strstrip(*w), a->scheme) == 0;
    }
    g_strfreev(schemes);
    if (ok)
        return true;
    LOG_ERROR("Client authentication scheme(s) do not match any of the expected authentication schemes "
              "[%s], closing session.", cfg->enforce_auth_schemes ? cfg->enforce_auth_schemes : "");
    jute_writer w;
    jw_init(&w, 16);
    zk_reply_header h = { xid, 0, ZSESSIONCLOSEDREQUIRESASLAUTH };
    zk_reply_header_write(&w, &h);
    conn_send_frame(c, w.buf, w.len);
    jw_free(&w);
    conn_close_after_flush(c);
    return false;
}
