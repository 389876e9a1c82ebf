/*
 * jaas.h — a reader for Java JAAS login configuration files (the file named
 * by -Djava.security.auth.login.config), in the syntax of the JDK's
 * sun.security.provider.ConfigFile:
 *
 *     Server {
 *         org.apache.zookeeper.server.auth.DigestLoginModule required
 *         user_super="secret"
 *         user_bob="bobs-password";
 *     };
 *
 * Sections (application names) hold login-module entries: a module class,
 * a control flag (required, requisite, sufficient, optional; any case) and
 * key=value options ended by ';'.  Comments are // and C-style; words and
 * "quoted strings" (with Java escapes) are the tokens, as Java's
 * StreamTokenizer reads them.  Every error names the line.  zkserver uses
 * it for SASL DIGEST-MD5 (server/sasl.c, docs/security.md).
 */
#ifndef ZK_JAAS_H
#define ZK_JAAS_H

#include <glib.h>
#include <stddef.h>

/* One key=value option of a login-module entry (both owned). */
typedef struct jaas_option {
    char *key;
    char *value;
} jaas_option;

/* One login-module entry of a section. */
typedef struct jaas_entry {
    char *module;        /* owned; the module class name */
    char *flag;          /* owned; the control flag, lower case */
    GPtrArray *options;  /* owned; jaas_option*, file order; a repeated key keeps the last value
                          * at the first key's place (Java's HashMap.put) */
} jaas_entry;

/* One application section ("Server", "Client", ...). */
typedef struct jaas_section {
    char *name;          /* owned */
    GPtrArray *entries;  /* owned; jaas_entry* in file order */
} jaas_section;

/* A parsed file: its sections in file order (names are unique). */
typedef struct jaas_config {
    GPtrArray *sections; /* owned; jaas_section* */
} jaas_config;

/*
 * Parses text[0..len) (UTF-8; NUL bytes are refused).  On success returns a
 * new config (the caller frees it with jaas_free).  On failure returns NULL
 * and stores in *err a g_malloc'd message "line N: ..." (the caller
 * g_free()s it).  An empty file (or only comments) is a valid config with
 * no sections, as in Java.
 */
jaas_config *jaas_parse(const char *text, size_t len, char **err);

/* The section named name (exact, case-sensitive), or NULL; borrowed from cfg. */
const jaas_section *jaas_find(const jaas_config *cfg, const char *name);

/* The value of option key of entry e, or NULL; borrowed from e. */
const char *jaas_option_get(const jaas_entry *e, const char *key);

/* Frees cfg and everything it holds (NULL is fine). */
void jaas_free(jaas_config *cfg);

#endif
