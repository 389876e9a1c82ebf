/*
 * test_sasl.c — unit tests for SASL: the JAAS reader (server/jaas.c), the
 * DIGEST-MD5 server (server/sasl_digest.c, checked against responses
 * computed here independently with GLib's MD5), the SASL settings of
 * server/config.c and the sasl ACL scheme of server/acl.c.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <glib.h>

#include "acl.h"
#include "config.h"
#include "jaas.h"
#include "sasl_digest.h"

/* ---- JAAS ---------------------------------------------------------------------- */

static void test_jaas_kazoo_file(void **state)
{
    (void)state;
    const char *text =
        "/* written by kazoo's harness */\n"
        "Server {\n"
        "    org.apache.zookeeper.server.auth.DigestLoginModule required\n"
        "    user_super=\"super_secret\"\n"
        "    user_jaasuser=\"jaas_password\";\n"
        "};\n"
        "// a client section\n"
        "Client { org.apache.zookeeper.server.auth.DigestLoginModule REQUIRED username=bob\n"
        "  password=\"a\\\"b\\\\c\\101\" password=\"later\"; x.Other optional; };\n";
    char *err = NULL;
    jaas_config *c = jaas_parse(text, strlen(text), &err);
    assert_non_null(c);
    assert_null(err);
    assert_int_equal(c->sections->len, 2);
    const jaas_section *s = jaas_find(c, "Server");
    assert_non_null(s);
    assert_null(jaas_find(c, "server"));
    assert_int_equal(s->entries->len, 1);
    const jaas_entry *e = g_ptr_array_index(s->entries, 0);
    assert_string_equal(e->module, "org.apache.zookeeper.server.auth.DigestLoginModule");
    assert_string_equal(e->flag, "required");
    assert_string_equal(jaas_option_get(e, "user_jaasuser"), "jaas_password");
    assert_string_equal(jaas_option_get(e, "user_super"), "super_secret");
    const jaas_section *cl = jaas_find(c, "Client");
    assert_int_equal(cl->entries->len, 2);
    e = g_ptr_array_index(cl->entries, 0);
    assert_string_equal(e->flag, "required");
    assert_string_equal(jaas_option_get(e, "username"), "bob");
    assert_string_equal(jaas_option_get(e, "password"), "later");   /* HashMap.put: the last wins */
    assert_int_equal(e->options->len, 2);
    e = g_ptr_array_index(cl->entries, 1);
    assert_string_equal(e->module, "x.Other");
    assert_int_equal(e->options->len, 0);
    jaas_free(c);

    const char *esc = "Client { m required p=\"a\\\"b\\\\c\\101\"; };";
    c = jaas_parse(esc, strlen(esc), &err);
    assert_non_null(c);
    e = g_ptr_array_index(((jaas_section *)g_ptr_array_index(c->sections, 0))->entries, 0);
    assert_string_equal(jaas_option_get(e, "p"), "a\"b\\cA");
    jaas_free(c);

    c = jaas_parse("", 0, &err);   /* an empty file: no sections, as in Java */
    assert_non_null(c);
    assert_int_equal(c->sections->len, 0);
    jaas_free(c);
}

static void expect_error(const char *text, const char *needle)
{
    char *err = NULL;
    jaas_config *c = jaas_parse(text, strlen(text), &err);
    assert_null(c);
    assert_non_null(err);
    if (!strstr(err, needle))
        fail_msg("'%s': error '%s' lacks '%s'", text, err, needle);
    g_free(err);
}

static void test_jaas_errors(void **state)
{
    (void)state;
    expect_error("Server {\n m required\n a=\"b\"\n};\n", "line 4: expected an option name or ';', found '}'");
    expect_error("Server {\n m mandatory;\n};", "line 2: invalid control flag 'mandatory'");
    expect_error("Server { m required; };\nServer { m required; };", "line 2: section 'Server' appears twice");
    expect_error("Server { m required a=1; };", "line 1: expected an option value, found a number");
    expect_error("Server { m required a='x'; };", "single-quoted");
    expect_error("Server { m required a=\"x\"; }", "line 1: expected ';', found the end of the file");
    expect_error("Server { m required a=\"x\" ", "expected an option name or ';', found the end of the file");
    expect_error("# comment\nServer {};", "line 1: expected a section name, found '#'");
    expect_error("Server\n{\n", "line 3: expected a login module class name, found the end of the file");
    expect_error("Server { m required a=\"\xff\"; };", "not valid UTF-8");
    char nul[] = "Server { m required a=\"x\0\"; };";
    char *err = NULL;
    assert_null(jaas_parse(nul, sizeof nul - 1, &err));
    assert_non_null(strstr(err, "NUL"));
    g_free(err);
}

/* ---- DIGEST-MD5 -------------------------------------------------------------------- */

static const char *pw_of(void *ctx, const char *user)
{
    (void)ctx;
    if (strcmp(user, "jaasuser") == 0)
        return "jaas_password";
    if (strcmp(user, "j\xc3\xa9") == 0)   /* "jé": goes into the digest as ISO-8859-1 */
        return "p\xc3\xa4ss";
    if (strcmp(user, "bob@EXAMPLE.COM") == 0)
        return "k";
    return NULL;
}

static char *md5_hex(const void *p, size_t n)
{
    return g_compute_checksum_for_data(G_CHECKSUM_MD5, p, n);
}

/* The client's response (RFC 2831 2.1.2.1) computed here; user_bytes is the
 * user name as it goes into the digest (ISO-8859-1 where possible). */
static char *client_response(const char *user, const char *user_bytes, const char *pw_bytes, const char *nonce,
                             const char *authzid, const char *prefix, char **rspauth)
{
    GChecksum *ck = g_checksum_new(G_CHECKSUM_MD5);
    char *x = g_strdup_printf("%s:zk-sasl-md5:%s", user_bytes, pw_bytes);
    g_checksum_update(ck, (const guchar *)x, (gssize)strlen(x));
    uint8_t h[16];
    gsize hl = 16;
    g_checksum_get_digest(ck, h, &hl);
    g_checksum_free(ck);
    g_free(x);
    GByteArray *a1 = g_byte_array_new();
    g_byte_array_append(a1, h, 16);
    char *tail = g_strdup_printf(":%s:cnonce%s%s", nonce, authzid ? ":" : "", authzid ? authzid : "");
    g_byte_array_append(a1, (const guint8 *)tail, (guint)strlen(tail));
    char *ha1 = md5_hex(a1->data, a1->len);
    char *ha2 = md5_hex("AUTHENTICATE:zookeeper/zk-sasl-md5", 34);
    char *ha2r = md5_hex(":zookeeper/zk-sasl-md5", 22);
    char *kd = g_strdup_printf("%s:%s:00000001:cnonce:auth:%s", ha1, nonce, ha2);
    char *kdr = g_strdup_printf("%s:%s:00000001:cnonce:auth:%s", ha1, nonce, ha2r);
    char *resp = md5_hex(kd, strlen(kd));
    *rspauth = md5_hex(kdr, strlen(kdr));
    char *out = g_strdup_printf("%susername=\"%s\",realm=\"zk-sasl-md5\",nonce=\"%s\",cnonce=\"cnonce\",nc=00000001,"
                                "qop=auth,digest-uri=\"zookeeper/zk-sasl-md5\",charset=utf-8,"
                                "response=%s%s%s%s",
                                prefix, user, nonce, resp, authzid ? ",authzid=\"" : "", authzid ? authzid : "",
                                authzid ? "\"" : "");
    g_free(tail);
    g_byte_array_free(a1, TRUE);
    g_free(ha1);
    g_free(ha2);
    g_free(ha2r);
    g_free(kd);
    g_free(kdr);
    g_free(resp);
    return out;
}

/* Runs step 1 and returns the nonce (g_free it). */
static char *challenge(sasl_digest *d)
{
    GByteArray *out = g_byte_array_new();
    char *id = NULL;
    const char *why = NULL;
    assert_int_equal(sasl_digest_step(d, (const uint8_t *)"", 0, pw_of, NULL, out, &id, &why), SASL_STEP_CONTINUE);
    char *text = g_strndup((const char *)out->data, out->len);
    assert_int_equal(strlen(text), 101);
    assert_true(g_str_has_prefix(text, "realm=\"zk-sasl-md5\",nonce=\""));
    assert_true(g_str_has_suffix(text, "\",charset=utf-8,algorithm=md5-sess"));
    char *nonce = g_strndup(text + 27, 40);
    g_free(text);
    g_byte_array_free(out, TRUE);
    return nonce;
}

/* One exchange with response text; returns the result and the identity. */
static sasl_step_result exchange(const char *user, const char *user_bytes, const char *pw_bytes, const char *authzid,
                                 const char *prefix, char **id, bool tamper)
{
    sasl_digest *d = sasl_digest_new();
    char *nonce = challenge(d);
    char *rspauth = NULL;
    char *resp = client_response(user, user_bytes, pw_bytes, nonce, authzid, prefix, &rspauth);
    if (tamper)
        resp[strlen(resp) - 1] ^= 1;
    GByteArray *out = g_byte_array_new();
    const char *why = NULL;
    sasl_step_result r = sasl_digest_step(d, (const uint8_t *)resp, strlen(resp), pw_of, NULL, out, id, &why);
    if (r == SASL_STEP_DONE) {
        char *want = g_strconcat("rspauth=", rspauth, NULL);
        assert_int_equal(out->len, strlen(want));
        assert_memory_equal(out->data, want, out->len);
        g_free(want);
    } else {
        assert_non_null(why);
    }
    /* nothing more is accepted */
    GByteArray *more = g_byte_array_new();
    char *id2 = NULL;
    assert_int_equal(sasl_digest_step(d, (const uint8_t *)resp, strlen(resp), pw_of, NULL, more, &id2, &why),
                     SASL_STEP_FAIL);
    assert_null(id2);
    g_byte_array_free(more, TRUE);
    g_byte_array_free(out, TRUE);
    g_free(resp);
    g_free(rspauth);
    g_free(nonce);
    sasl_digest_free(d);
    return r;
}

static void test_digest_exchange(void **state)
{
    (void)state;
    char *id = NULL;
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "", &id, false), SASL_STEP_DONE);
    assert_string_equal(id, "jaasuser");
    g_free(id);
    /* an authzid goes into A1; the identity is still the user (Apache's callback handler) */
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", "other", " , ", &id, false), SASL_STEP_DONE);
    assert_string_equal(id, "jaasuser");
    g_free(id);
    /* ISO-8859-1 in the digest when every character fits */
    assert_int_equal(exchange("j\xc3\xa9", "j\xe9", "p\xe4ss", NULL, "", &id, false), SASL_STEP_DONE);
    assert_string_equal(id, "j\xc3\xa9");
    g_free(id);
    /* NAME@REALM: no auth_to_local rule applies, the authzid is kept */
    assert_int_equal(exchange("bob@EXAMPLE.COM", "bob@EXAMPLE.COM", "k", "bob", "", &id, false), SASL_STEP_DONE);
    assert_string_equal(id, "bob");
    g_free(id);
    assert_int_equal(exchange("jaasuser", "jaasuser", "wrong", NULL, "", &id, false), SASL_STEP_FAIL);
    assert_null(id);
    assert_int_equal(exchange("nobody", "nobody", "x", NULL, "", &id, false), SASL_STEP_FAIL);
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "", &id, true), SASL_STEP_FAIL);
    /* a repeated directive */
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "username=\"x\",", &id, false),
                     SASL_STEP_FAIL);
    /* numbers the JDK cannot parse: an unchecked exception there */
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "maxbuf=x,", &id, false),
                     SASL_STEP_FATAL);
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "nonce-count=zz,", &id, false),
                     SASL_STEP_FATAL);
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "nonce-count=2,", &id, false),
                     SASL_STEP_FAIL);
    assert_int_equal(exchange("jaasuser", "jaasuser", "jaas_password", NULL, "nonce-count=+1,", &id, false),
                     SASL_STEP_DONE);
    g_free(id);
}

static void test_digest_parse(void **state)
{
    (void)state;
    sasl_digest_fields f;
    const char *why = NULL;
    const char *t = "  Username = \"a\\\"b\" ,, realm=x nonce=\"n\",qop=auth\t,unknown=1,nc=2";
    assert_true(sasl_digest_parse((const uint8_t *)t, strlen(t), &f, &why));
    assert_int_equal(f.v[SD_USERNAME]->len, 3);
    assert_memory_equal(f.v[SD_USERNAME]->data, "a\"b", 3);
    assert_memory_equal(f.v[SD_REALM]->data, "x", 1);
    assert_memory_equal(f.v[SD_NONCE]->data, "n", 1);
    assert_null(f.v[SD_NONCE_COUNT]);   /* "nc" is not a directive the JDK reads */
    sasl_digest_fields_clear(&f);
    const char *bad[] = { "a=\"x", "=x", "a b=c", "a=\"x\"y", "a=", "a,b=c", "realm=a,REALM=b" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        assert_false(sasl_digest_parse((const uint8_t *)bad[i], strlen(bad[i]), &f, &why));
        assert_non_null(why);
        for (int k = 0; k < SD_N_FIELDS; k++)
            assert_null(f.v[k]);
    }
    /* over-long: refused at any step */
    sasl_digest *d = sasl_digest_new();
    char *big = g_malloc0(SASL_DIGEST_MAX_RESPONSE + 1);
    memset(big, 'a', SASL_DIGEST_MAX_RESPONSE + 1);
    GByteArray *out = g_byte_array_new();
    char *id = NULL;
    assert_int_equal(sasl_digest_step(d, (const uint8_t *)big, SASL_DIGEST_MAX_RESPONSE + 1, pw_of, NULL, out, &id,
                                      &why), SASL_STEP_FAIL);
    g_byte_array_free(out, TRUE);
    g_free(big);
    sasl_digest_free(d);
}

/* ---- configuration and ACLs ----------------------------------------------------------- */

static void test_config_sasl_keys(void **state)
{
    (void)state;
    zk_config cfg;
    char *err = NULL;
    const char *text = "dataDir=/tmp/x\nauthProvider.1=org.apache.zookeeper.server.auth.SASLAuthenticationProvider\n"
                       "superUser=admin\nsuperUser.2=dave\nsessionRequireClientSASLAuth=true\n";
    assert_int_equal(zk_config_parse_string(text, "zoo.cfg",
                                            "-Djava.security.auth.login.config=/etc/jaas.conf "
                                            "-Dzookeeper.sasl.serverconfig=ZkServer -Dzookeeper.allowSaslFailedClients=true "
                                            "-Dzookeeper.superUser.ops=carol",
                                            &cfg, NULL, NULL, &err), 0);
    assert_true(cfg.sasl_provider);
    assert_string_equal(cfg.jaas_config, "/etc/jaas.conf");
    assert_string_equal(cfg.sasl_server_section, "ZkServer");
    assert_string_equal(cfg.sasl_super_user, "admin");
    assert_int_equal(cfg.sasl_super_users->len, 2);
    assert_string_equal(g_ptr_array_index(cfg.sasl_super_users, 0), "carol");
    assert_string_equal(g_ptr_array_index(cfg.sasl_super_users, 1), "dave");
    assert_true(cfg.allow_sasl_failed_clients);
    assert_true(cfg.enforce_auth_enabled);
    assert_string_equal(cfg.enforce_auth_schemes, "sasl");
    zk_config_free(&cfg);

    assert_int_equal(zk_config_parse_string("dataDir=/tmp/x\n", "zoo.cfg",
                                            "-Dzookeeper.authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider",
                                            &cfg, NULL, NULL, &err), 0);
    assert_true(cfg.sasl_provider);
    zk_config_free(&cfg);

    /* sasl required without its provider, enforcement without schemes: refused */
    assert_int_equal(zk_config_parse_string("dataDir=/tmp/x\nsessionRequireClientSASLAuth=true\n", "zoo.cfg", NULL,
                                            &cfg, NULL, NULL, &err), -1);
    assert_non_null(strstr(err, "authentication scheme sasl is not available"));
    g_free(err);
    assert_int_equal(zk_config_parse_string("dataDir=/tmp/x\nenforce.auth.enabled=true\n", "zoo.cfg", NULL, &cfg,
                                            NULL, NULL, &err), -1);
    assert_non_null(strstr(err, "enforce.auth.schemes is not set"));
    g_free(err);
    assert_int_equal(zk_config_parse_string("dataDir=/tmp/x\nenforce.auth.enabled=true\nenforce.auth.schemes=digest, ip\n",
                                            "zoo.cfg", NULL, &cfg, NULL, NULL, &err), 0);
    zk_config_free(&cfg);
}

static zk_acl_list *one_acl(acl_cache *c, const char *scheme, const char *id)
{
    zk_acl_entry e = { ZK_PERM_ALL, (char *)scheme, (char *)id };
    return acl_intern(c, &e, 1);
}

static void test_acl_sasl_scheme(void **state)
{
    (void)state;
    acl_cache *c = acl_cache_new();
    zk_acl_list *l = one_acl(c, "sasl", "bob");
    GPtrArray *auth = g_ptr_array_new_with_free_func(auth_id_free);
    auth_add(auth, "sasl", "bob");
    acl_configure_sasl(false, NULL);
    assert_false(acl_id_valid("sasl", "bob"));
    assert_int_equal(acl_check(l, ZK_PERM_READ, auth), ZNOAUTH);   /* no provider: the entry is skipped */
    acl_configure_sasl(true, "everyone");
    assert_true(acl_id_valid("sasl", "bob"));
    assert_true(acl_id_valid("sasl", "svc/host@REALM"));
    assert_false(acl_id_valid("sasl", "a@b@c"));
    assert_false(acl_id_valid("sasl", "a/b/c@R"));
    assert_int_equal(acl_check(l, ZK_PERM_READ, auth), ZOK);
    GPtrArray *other = g_ptr_array_new_with_free_func(auth_id_free);
    auth_add(other, "sasl", "carol");
    assert_int_equal(acl_check(l, ZK_PERM_READ, other), ZNOAUTH);
    zk_acl_list *any = one_acl(c, "sasl", "everyone");
    assert_int_equal(acl_check(any, ZK_PERM_READ, other), ZOK);   /* letAnySaslUserDoX */
    GPtrArray *su = g_ptr_array_new_with_free_func(auth_id_free);
    auth_add(su, "sasl", "super");
    assert_int_equal(acl_check(l, ZK_PERM_READ, su), ZOK);   /* sasl "super" matches any sasl id */
    zk_acl_list *dig = one_acl(c, "digest", "u:x");
    assert_int_equal(acl_check(dig, ZK_PERM_READ, su), ZNOAUTH);   /* ... and nothing else */
    acl_configure_sasl(false, NULL);
    acl_unref(c, l);
    acl_unref(c, any);
    acl_unref(c, dig);
    g_ptr_array_free(auth, TRUE);
    g_ptr_array_free(other, TRUE);
    g_ptr_array_free(su, TRUE);
    acl_cache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jaas_kazoo_file),
        cmocka_unit_test(test_jaas_errors),
        cmocka_unit_test(test_digest_exchange),
        cmocka_unit_test(test_digest_parse),
        cmocka_unit_test(test_config_sasl_keys),
        cmocka_unit_test(test_acl_sasl_scheme),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
