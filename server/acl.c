/* acl.c — ACL interning, checks and the digest/ip/world/super providers (see acl.h). */
#include "acl.h"

#include <stdlib.h>
#include <string.h>

struct acl_cache {
    GHashTable *lists;          /* GBytes key -> zk_acl_list* (not a reference) */
    zk_acl_list *open_unsafe;   /* one reference held by the cache */
};

static guint bytes_hash(gconstpointer p) { return g_bytes_hash(p); }
static gboolean bytes_equal(gconstpointer a, gconstpointer b) { return g_bytes_equal(a, b); }

acl_cache *acl_cache_new(void)
{
    acl_cache *c = g_new0(acl_cache, 1);
    c->lists = g_hash_table_new(bytes_hash, bytes_equal);
    zk_acl_entry open = { ZK_PERM_ALL, "world", "anyone" };
    c->open_unsafe = acl_intern(c, &open, 1);
    return c;
}

static void list_free(zk_acl_list *l)
{
    for (int i = 0; i < l->count; i++) {
        g_free(l->items[i].scheme);
        g_free(l->items[i].id);
    }
    g_bytes_unref(l->key);
    g_free(l);
}

void acl_cache_free(acl_cache *c)
{
    if (!c)
        return;
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, c->lists);
    while (g_hash_table_iter_next(&it, &k, &v))
        list_free(v);
    g_hash_table_destroy(c->lists);
    g_free(c);
}

guint acl_cache_size(const acl_cache *c)
{
    return g_hash_table_size(c->lists);
}

static void encode_entries(jute_writer *w, const zk_acl_entry *items, int count)
{
    jw_int(w, count);
    for (int i = 0; i < count; i++) {
        jw_int(w, items[i].perms);
        jw_string(w, items[i].scheme);
        jw_string(w, items[i].id);
    }
}

zk_acl_list *acl_intern(acl_cache *c, const zk_acl_entry *items, int count)
{
    jute_writer w;
    jw_init(&w, 64);
    encode_entries(&w, items, count);
    GBytes *key = g_bytes_new(w.buf, w.len);
    jw_free(&w);
    zk_acl_list *l = g_hash_table_lookup(c->lists, key);
    if (l) {
        g_bytes_unref(key);
        l->refs++;
        return l;
    }
    l = g_malloc(sizeof(*l) + (size_t)count * sizeof(zk_acl_entry));
    l->refs = 1;
    l->count = count;
    l->key = key;
    for (int i = 0; i < count; i++) {
        l->items[i].perms = items[i].perms;
        l->items[i].scheme = g_strdup(items[i].scheme ? items[i].scheme : "");
        l->items[i].id = g_strdup(items[i].id ? items[i].id : "");
    }
    g_hash_table_insert(c->lists, key, l);
    return l;
}

zk_acl_list *acl_intern_vec(acl_cache *c, const zk_vec *vec)
{
    jute_reader it;
    zk_vec_iter(vec, &it);
    int n = vec->count < 0 ? 0 : vec->count;
    zk_acl_entry *items = g_new0(zk_acl_entry, n ? n : 1);
    for (int i = 0; i < n; i++) {
        zk_acl a;
        zk_acl_read(&it, &a);
        items[i].perms = a.perms;
        items[i].scheme = jute_view_dup(a.id.scheme);
        items[i].id = jute_view_dup(a.id.id);
    }
    zk_acl_list *l = jr_ok(&it) ? acl_intern(c, items, n) : NULL;
    for (int i = 0; i < n; i++) {
        g_free(items[i].scheme);
        g_free(items[i].id);
    }
    g_free(items);
    return l;
}

zk_acl_list *acl_ref(zk_acl_list *l)
{
    l->refs++;
    return l;
}

void acl_unref(acl_cache *c, zk_acl_list *l)
{
    if (!l || --l->refs > 0)
        return;
    g_hash_table_remove(c->lists, l->key);
    list_free(l);
}

zk_acl_list *acl_open_unsafe(acl_cache *c)
{
    return acl_ref(c->open_unsafe);
}

void acl_write(jute_writer *w, const zk_acl_list *l)
{
    encode_entries(w, l->items, l->count);
}

/* Java's Integer.parseInt for the small numbers IPAuthenticationProvider
 * parses: optional sign, at least one digit, nothing else. */
static bool java_parse_int(const char *s, size_t len, long *out)
{
    size_t i = 0;
    bool neg = false;
    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        i = 1;
    }
    if (i == len || len - i > 10)
        return false;
    long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return true;
}

/* IPAuthenticationProvider.v4addr2Bytes: four dot-separated ints 0..255. */
static bool parse_ipv4(const char *s, size_t len, uint32_t *out)
{
    uint32_t v = 0;
    int parts = 0;
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && s[i] != '.')
            continue;
        long b;
        if (parts == 4 || !java_parse_int(s + start, i - start, &b) || b < 0 || b > 255)
            return false;
        v = v << 8 | (uint32_t)b;
        parts++;
        start = i + 1;
    }
    if (parts != 4)
        return false;
    *out = v;
    return true;
}

/* Parses "addr[/bits]" like IPAuthenticationProvider; false if invalid. */
static bool parse_ip_acl(const char *id, uint32_t *addr, int *bits)
{
    const char *slash = strchr(id, '/');
    size_t alen = slash ? (size_t)(slash - id) : strlen(id);
    if (!parse_ipv4(id, alen, addr))
        return false;
    *bits = 32;
    if (slash) {
        long b;
        if (!java_parse_int(slash + 1, strlen(slash + 1), &b) || b < 0 || b > 32)
            return false;
        *bits = (int)b;
    }
    return true;
}

bool acl_ip_matches(const char *acl_id, const char *addr)
{
    uint32_t want, have;
    int bits;
    if (!parse_ip_acl(acl_id, &want, &bits) || !parse_ipv4(addr, strlen(addr), &have))
        return false;
    uint32_t mask = bits == 0 ? 0 : 0xFFFFFFFFu << (32 - bits);
    return (want & mask) == (have & mask);
}

/* The sasl scheme (SASLAuthenticationProvider), registered by acl_configure_sasl. */
static bool sasl_scheme;
static char *sasl_let_any_user;   /* owned; zookeeper.letAnySaslUserDoX */

void acl_configure_sasl(bool enabled, const char *let_any_user)
{
    sasl_scheme = enabled;
    g_free(sasl_let_any_user);
    sasl_let_any_user = let_any_user ? g_strdup(let_any_user) : NULL;
}

bool acl_sasl_enabled(void)
{
    return sasl_scheme;
}

bool acl_kerberos_name_valid(const char *name)
{
    /* KerberosName: NAME[/HOST]@REALM (no '/' or '@' inside the parts), or any name without '@'. */
    const char *at = strchr(name, '@');
    if (!at)
        return true;
    if (strchr(at + 1, '@') || strchr(at + 1, '/'))
        return false;
    const char *slash = strchr(name, '/');
    return !(slash && slash < at && memchr(slash + 1, '/', (size_t)(at - slash - 1)));
}

bool acl_id_valid(const char *scheme, const char *id)
{
    if (strcmp(scheme, "sasl") == 0)
        return sasl_scheme && acl_kerberos_name_valid(id);
    if (strcmp(scheme, "world") == 0)
        return strcmp(id, "anyone") == 0;
    if (strcmp(scheme, "digest") == 0) {
        /* Java: id.split(":").length == 2, trailing empty strings dropped */
        size_t len = strlen(id);
        while (len > 0 && id[len - 1] == ':')
            len--;
        int parts = len > 0 ? 1 : 0;
        for (size_t i = 0; i < len; i++)
            if (id[i] == ':')
                parts++;
        return parts == 2;
    }
    if (strcmp(scheme, "ip") == 0) {
        uint32_t a;
        int bits;
        return parse_ip_acl(id, &a, &bits);
    }
    if (strcmp(scheme, "x509") == 0)
        return *id != '\0';   /* a certificate's subject DN (TLS, tls.c) */
    return false;       /* "super" and unknown schemes have no provider */
}

static bool provider_exists(const char *scheme)
{
    if (strcmp(scheme, "sasl") == 0)
        return sasl_scheme;
    return strcmp(scheme, "digest") == 0 || strcmp(scheme, "ip") == 0 || strcmp(scheme, "x509") == 0;
}

static bool provider_matches(const char *scheme, const char *have, const char *want)
{
    if (strcmp(scheme, "ip") == 0)
        return acl_ip_matches(want, have);
    if (strcmp(scheme, "sasl") == 0)   /* SASLAuthenticationProvider.matches */
        return strcmp(have, "super") == 0 || strcmp(have, want) == 0 ||
               (sasl_let_any_user && strcmp(want, sasl_let_any_user) == 0);
    return strcmp(have, want) == 0;
}

static bool skip_acl;   /* zookeeper.skipACL=yes */

void acl_configure_skip(bool skip)
{
    skip_acl = skip;
}

bool acl_skip_enabled(void)
{
    return skip_acl;
}

int acl_check(const zk_acl_list *acl, int perm, const GPtrArray *auth)
{
    if (skip_acl || !acl || acl->count == 0)
        return ZOK;
    for (guint i = 0; auth && i < auth->len; i++) {
        const zk_auth_id *a = g_ptr_array_index(auth, i);
        if (strcmp(a->scheme, "super") == 0)
            return ZOK;
    }
    for (int i = 0; i < acl->count; i++) {
        const zk_acl_entry *e = &acl->items[i];
        if (!(e->perms & perm))
            continue;
        if (strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0)
            return ZOK;
        if (!provider_exists(e->scheme))
            continue;
        for (guint j = 0; auth && j < auth->len; j++) {
            const zk_auth_id *a = g_ptr_array_index(auth, j);
            if (strcmp(a->scheme, e->scheme) == 0 && provider_matches(e->scheme, a->id, e->id))
                return ZOK;
        }
    }
    return ZNOAUTH;
}

static bool entry_eq(const zk_acl_entry *a, const zk_acl_entry *b)
{
    return a->perms == b->perms && strcmp(a->scheme, b->scheme) == 0 && strcmp(a->id, b->id) == 0;
}

int acl_fixup(acl_cache *c, const zk_vec *vec, const GPtrArray *auth, zk_acl_list **out)
{
    *out = NULL;
    if (vec->count <= 0)
        return ZINVALIDACL;
    jute_reader it;
    zk_vec_iter(vec, &it);
    GArray *uniq = g_array_new(FALSE, FALSE, sizeof(zk_acl_entry));
    GArray *rv = g_array_new(FALSE, FALSE, sizeof(zk_acl_entry));
    int rc = ZOK;
    for (int i = 0; i < vec->count; i++) {
        zk_acl a;
        if (!zk_acl_read(&it, &a)) {
            rc = ZINVALIDACL;
            goto done;
        }
        if (a.id.scheme.len < 0) {   /* Java: null scheme -> invalid; a null id reads as "" */
            rc = ZINVALIDACL;
            goto done;
        }
        zk_acl_entry e = { a.perms, jute_view_dup(a.id.scheme),
                           a.id.id.len < 0 ? g_strdup("") : jute_view_dup(a.id.id) };
        bool dup = false;
        for (guint j = 0; j < uniq->len && !dup; j++)
            dup = entry_eq(&g_array_index(uniq, zk_acl_entry, j), &e);
        if (dup) {
            g_free(e.scheme);
            g_free(e.id);
        } else {
            g_array_append_val(uniq, e);
        }
    }
    for (guint i = 0; i < uniq->len; i++) {
        zk_acl_entry *e = &g_array_index(uniq, zk_acl_entry, i);
        if (strcmp(e->scheme, "world") == 0 && strcmp(e->id, "anyone") == 0) {
            zk_acl_entry x = { e->perms, g_strdup(e->scheme), g_strdup(e->id) };
            g_array_append_val(rv, x);
        } else if (strcmp(e->scheme, "auth") == 0) {
            bool valid = false;
            for (guint j = 0; auth && j < auth->len; j++) {
                const zk_auth_id *a = g_ptr_array_index(auth, j);
                /* only providers whose isAuthenticated() is true: digest
                 * and, when registered, sasl (ip is not, and "super" has
                 * no provider at all) */
                if (strcmp(a->scheme, "digest") != 0 && !(sasl_scheme && strcmp(a->scheme, "sasl") == 0))
                    continue;
                valid = true;
                zk_acl_entry x = { e->perms, g_strdup(a->scheme), g_strdup(a->id) };
                g_array_append_val(rv, x);
            }
            if (!valid) {
                rc = ZINVALIDACL;
                goto done;
            }
        } else {
            if (!provider_exists(e->scheme) || !acl_id_valid(e->scheme, e->id)) {
                rc = ZINVALIDACL;
                goto done;
            }
            zk_acl_entry x = { e->perms, g_strdup(e->scheme), g_strdup(e->id) };
            g_array_append_val(rv, x);
        }
    }
    *out = acl_intern(c, (zk_acl_entry *)rv->data, (int)rv->len);
done:
    for (guint i = 0; i < uniq->len; i++) {
        g_free(g_array_index(uniq, zk_acl_entry, i).scheme);
        g_free(g_array_index(uniq, zk_acl_entry, i).id);
    }
    for (guint i = 0; i < rv->len; i++) {
        g_free(g_array_index(rv, zk_acl_entry, i).scheme);
        g_free(g_array_index(rv, zk_acl_entry, i).id);
    }
    g_array_free(uniq, TRUE);
    g_array_free(rv, TRUE);
    return rc;
}

char *acl_digest(const char *user_password, size_t len)
{
    const char *colon = memchr(user_password, ':', len);
    size_t user_len = colon ? (size_t)(colon - user_password) : len;
    GChecksum *ck = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(ck, (const guchar *)user_password, len);
    guint8 digest[20];
    gsize dlen = sizeof digest;
    g_checksum_get_digest(ck, digest, &dlen);
    g_checksum_free(ck);
    gchar *b64 = g_base64_encode(digest, dlen);
    char *out = g_strdup_printf("%.*s:%s", (int)user_len, user_password, b64);
    g_free(b64);
    return out;
}

static uint32_t java_string_hash(const char *s);

zk_auth_id *auth_id_new(const char *scheme, const char *id)
{
    zk_auth_id *a = g_new(zk_auth_id, 1);
    a->scheme = g_strdup(scheme);
    a->id = g_strdup(id);
    a->hash = 37u * (37u * 17u + java_string_hash(a->scheme)) + java_string_hash(a->id);
    return a;
}

void auth_id_free(gpointer p)
{
    zk_auth_id *a = p;
    if (!a)
        return;
    g_free(a->scheme);
    g_free(a->id);
    g_free(a);
}

/* java.lang.String.hashCode() of a UTF-8 string (over its UTF-16 units). */
static uint32_t java_string_hash(const char *s)
{
    uint32_t h = 0;
    gunichar2 *units = g_utf8_to_utf16(s, -1, NULL, NULL, NULL);
    if (units) {
        for (const gunichar2 *u = units; *u; u++)
            h = 31 * h + *u;
        g_free(units);
    } else {                  /* not UTF-8: Java would see U+FFFD; close enough */
        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
            h = 31 * h + *p;
    }
    return h;
}

/* Bucket of an Id in a ConcurrentHashMap table of `table_size` bins:
 * Id.hashCode() is 37 * (37 * 17 + scheme.hashCode()) + id.hashCode(),
 * and CHM.spread() folds the high half in. */
static guint chm_bucket(const zk_auth_id *a, guint table_size)
{
    uint32_t h = a->hash;
    h = (h ^ (h >> 16)) & 0x7fffffffu;
    return h & (table_size - 1);
}

/* Sort order of two ids; `table_size` points to the number of bins. */
static gint by_chm_bucket(gconstpointer pa, gconstpointer pb, gpointer table_size)
{
    guint n = *(const guint *)table_size;
    guint ba = chm_bucket(*(zk_auth_id *const *)pa, n);
    guint bb = chm_bucket(*(zk_auth_id *const *)pb, n);
    return ba < bb ? -1 : ba > bb;
}

bool auth_add(GPtrArray *auth, const char *scheme, const char *id)
{
    zk_auth_id *fresh = auth_id_new(scheme, id);
    size_t bytes = strlen(scheme) + strlen(id);
    for (guint i = 0; i < auth->len; i++) {
        const zk_auth_id *a = g_ptr_array_index(auth, i);
        if (a->hash == fresh->hash && strcmp(a->scheme, scheme) == 0 && strcmp(a->id, id) == 0) {
            auth_id_free(fresh);
            return true;
        }
        bytes += strlen(a->scheme) + strlen(a->id);
    }
    if (auth->len >= AUTH_MAX_IDS || bytes > AUTH_MAX_ID_BYTES) {
        auth_id_free(fresh);
        return false;
    }
    g_ptr_array_add(auth, fresh);
    /* Apache's iteration order: by CHM bin (16 bins, doubled whenever the
     * count reaches 3/4 of them), and in insertion order within a bin (a
     * stable sort keeps that).  Exact up to 11 identities; past a resize
     * Java may reorder a shared bin, which no real client gets near. */
    guint table_size = 16;
    while (auth->len >= table_size - table_size / 4)
        table_size *= 2;
    g_ptr_array_sort_with_data(auth, by_chm_bucket, &table_size);   /* stable */
    return true;
}
