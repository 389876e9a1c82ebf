/*
 * sasl.h — SASL authentication on the client port, as Apache ZooKeeper 3.8
 * does it: the JAAS file named by -Djava.security.auth.login.config gives
 * the users of its "Server" section (zookeeper.sasl.serverconfig) as
 * user_<name>="<password>" options of DigestLoginModule; each connection
 * runs a DIGEST-MD5 exchange (server/sasl_digest.c) over sasl (opcode 102)
 * packets; success adds the identity sasl:<name> (and super for
 * zookeeper.superUser); failure answers AUTHFAILED (or
 * SESSIONCLOSEDREQUIRESASLAUTH when SASL is required) and closes the
 * connection.  docs/security.md and docs/configuration.md describe it.
 */
#ifndef ZK_SASL_H
#define ZK_SASL_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "zk/jute.h"

struct zk_server;
struct zk_conn;

/* The server's SASL login: the DIGEST-MD5 users of the JAAS section. */
typedef struct zk_sasl_login zk_sasl_login;

/*
 * Reads cfg->jaas_config (if set) and builds the login of its section.
 * Returns 0 with *out NULL when there is no JAAS file or the file has no
 * such section (SASL is then off, as in Apache: sasl packets are answered
 * OK with no token), 0 with a new login in *out (free with
 * sasl_login_free), or -1 with a g_malloc'd message in *err for a file
 * that cannot be read or parsed, or a section whose login module zkserver
 * cannot run (only DigestLoginModule: no Kerberos).
 */
int sasl_login_load(const zk_config *cfg, zk_sasl_login **out, char **err);

/* Frees a login (NULL is fine). */
void sasl_login_free(zk_sasl_login *l);

/* The number of users of a login. */
unsigned sasl_login_user_count(const zk_sasl_login *l);

/*
 * Registers the sasl ACL scheme from cfg (authProvider.N,
 * letAnySaslUserDoX) with acl.c.  Called once at start.
 */
void sasl_configure_acl(const zk_config *cfg);

/*
 * Answers one GetSASLRequest (token: the decoded, non-null buffer,
 * borrowed) from established connection c with header xid.  Per-connection
 * exchange state lives in c->sasl (created here, freed with c).
 */
void sasl_handle_request(struct zk_server *s, struct zk_conn *c, int32_t xid, jute_view token);

/*
 * AuthenticationHelper.enforceAuthentication: with enforce.auth.enabled (or
 * sessionRequireClientSASLAuth), a request from a connection without an
 * identity of one of the required schemes is answered
 * SESSIONCLOSEDREQUIRESASLAUTH and the connection closed.  Returns true if
 * the request may go on, false if it was answered here.
 */
bool sasl_enforce_auth(struct zk_server *s, struct zk_conn *c, int32_t xid);

#endif
