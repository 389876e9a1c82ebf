/*
 * map.c — the pure mapping functions of docs/filesystem.md (see map.h).
 */
#include "map.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "zk/path.h"

bool zkfs_is_dir(const zk_stat *st, int32_t lock_children)
{
    if (st->num_children > lock_children)
        return true;
    return st->ephemeral_owner == 0 && st->data_length <= 0 && st->version == 0;
}

/* True if name ends with marker followed by exactly 10 digits; *seq. */
static bool ends_with_seq(const char *name, const char *marker, int64_t *seq)
{
    size_t n = strlen(name), m = strlen(marker);
    if (n < m + 10 || strncmp(name + n - 10 - m, marker, m) != 0)
        return false;
    int64_t v = 0;
    for (size_t i = n - 10; i < n; i++) {
        if (name[i] < '0' || name[i] > '9')
            return false;
        v = v * 10 + (name[i] - '0');
    }
    if (seq)
        *seq = v;
    return true;
}

bool zkfs_lock_name_parse(const char *name, bool *shared, int64_t *seq)
{
    bool sh = ends_with_seq(name, "__rlock__", seq);
    bool ok = sh || ends_with_seq(name, "__lock__", seq) || ends_with_seq(name, "lock-", seq);
    if (ok && shared)
        *shared = sh;
    return ok;
}

int32_t zkfs_count_lock_names(const GPtrArray *names)
{
    int32_t n = 0;
    for (guint i = 0; names && i < names->len; i++)
        if (zkfs_lock_name_parse(g_ptr_array_index(names, i), NULL, NULL))
            n++;
    return n;
}

int zkfs_view_create_mode(zkfs_view view)
{
    switch (view) {
    case ZKFS_VIEW_EPH: return ZK_CREATE_EPHEMERAL;
    case ZKFS_VIEW_SEQ: return ZK_CREATE_PERSISTENT_SEQUENTIAL;
    case ZKFS_VIEW_EPHSEQ: return ZK_CREATE_EPHEMERAL_SEQUENTIAL;
    default: return -1;
    }
}

static const char *const ctl_entry_names[] = {
    "data", "ephemeral", "ephemeral-sequential", "sequential", NULL
};
static const zkfs_view ctl_entry_views[] = {
    ZKFS_VIEW_DATA, ZKFS_VIEW_EPH, ZKFS_VIEW_EPHSEQ, ZKFS_VIEW_SEQ
};

int zkfs_ctl_entry_view(const char *name)
{
    for (size_t i = 0; ctl_entry_names[i]; i++)
        if (strcmp(name, ctl_entry_names[i]) == 0)
            return (int)ctl_entry_views[i];
    return -1;
}

const char *const *zkfs_ctl_entry_names(void)
{
    return ctl_entry_names;
}

/* 64-bit FNV-1a over a string. */
static uint64_t fnv1a64(const char *s, uint64_t h)
{
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* splitmix64 finaliser: spreads the bits of x. */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

uint64_t zkfs_ino(zkfs_view view, int64_t czxid, const char *path)
{
    uint64_t h = mix64(fnv1a64(path, 0xcbf29ce484222325ULL) ^ mix64((uint64_t)czxid));
    h &= (UINT64_C(1) << 61) - 1;
    h |= (uint64_t)view << 61;
    if (h < 2)
        h += 2;
    return h;
}

char *zkfs_child_path(const char *parent, const char *name)
{
    if (strcmp(parent, "/") == 0)
        return g_strconcat("/", name, NULL);
    return g_strconcat(parent, "/", name, NULL);
}

char *zkfs_parent_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return g_strdup("/");
    return g_strndup(path, (gsize)(slash - path));
}

const char *zkfs_base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

bool zkfs_path_under(const char *path, const char *prefix)
{
    if (strcmp(prefix, "/") == 0)
        return path[0] == '/';
    size_t n = strlen(prefix);
    return strncmp(path, prefix, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

bool zkfs_name_valid(const char *name)
{
    if (name[0] == '\0' || strchr(name, '/'))
        return false;
    /* Validate "/" + name with ZooKeeper's own rules. */
    size_t len = strlen(name);
    char *p = g_malloc(len + 2);
    p[0] = '/';
    memcpy(p + 1, name, len + 1);
    bool ok = zk_path_valid(p, len + 1);
    g_free(p);
    return ok;
}

char *zkfs_data_name_for_child(const char *child)
{
    if (child[0] == '@')
        return g_strconcat("@", child, NULL);
    return g_strdup(child);
}

char *zkfs_child_for_data_name(const char *name, bool *is_data_file)
{
    *is_data_file = false;
    if (name[0] != '@')
        return g_strdup(name);
    if (name[1] == '@')
        return g_strdup(name + 1);
    if (strcmp(name, ZKFS_DATA_FILE_NAME) == 0)
        *is_data_file = true;
    return NULL;
}

int zkfs_errno(int zk_err)
{
    switch (zk_err) {
    case ZOK: return 0;
    case ZNONODE: return ENOENT;
    case ZNODEEXISTS: return EEXIST;
    case ZNOTEMPTY: return ENOTEMPTY;
    case ZNOAUTH:
    case ZAUTHFAILED: return EACCES;
    case ZBADVERSION: return ESTALE;
    case ZNOCHILDRENFOREPHEMERALS: return ENOTDIR;
    case ZBADARGUMENTS:
    case ZINVALIDACL: return EINVAL;
    case ZUNIMPLEMENTED: return ENOSYS;
    case ZNOTREADONLY: return EROFS;
    case ZTHROTTLEDOP: return EAGAIN;
    case ZQUOTAEXCEEDED: return EDQUOT;
    default: return EIO;
    }
}

char *zkfs_digest_id(const char *user_password)
{
    const char *colon = strchr(user_password, ':');
    if (!colon)
        return NULL;
    guint8 digest[20];
    gsize digest_len = sizeof digest;
    GChecksum *sha1 = g_checksum_new(G_CHECKSUM_SHA1);
    g_checksum_update(sha1, (const guchar *)user_password, (gssize)strlen(user_password));
    g_checksum_get_digest(sha1, digest, &digest_len);
    g_checksum_free(sha1);
    char *b64 = g_base64_encode(digest, digest_len);
    char *id = g_strdup_printf("%.*s:%s", (int)(colon - user_password), user_password, b64);
    g_free(b64);
    return id;
}

/* rwx bits (0..7) for the ZooKeeper perms of one class. */
static mode_t class_bits(int32_t perms, bool is_dir)
{
    mode_t bits = 0;
    if (perms & ZK_PERM_READ)
        bits |= 4 | (is_dir ? 1 : 0);
    if (is_dir ? (perms & (ZK_PERM_CREATE | ZK_PERM_DELETE)) : (perms & ZK_PERM_WRITE))
        bits |= 2;
    return bits;
}

uint32_t zkfs_acl_summary(const zkc_acl_entry *acl, size_t n_acl, const char *digest_id)
{
    uint32_t world = 0, owner = 0;
    for (size_t i = 0; i < n_acl; i++) {
        const char *scheme = acl[i].scheme ? acl[i].scheme : "";
        const char *id = acl[i].id ? acl[i].id : "";
        if (strcmp(scheme, "world") == 0 && strcmp(id, "anyone") == 0) {
            world |= (uint32_t)acl[i].perms & ZK_PERM_ALL;
            owner |= (uint32_t)acl[i].perms & ZK_PERM_ALL;
        } else if (digest_id && strcmp(scheme, "digest") == 0 && strcmp(id, digest_id) == 0) {
            owner |= (uint32_t)acl[i].perms & ZK_PERM_ALL;
        }
    }
    return owner | world << 8;
}

mode_t zkfs_mode_from_summary(uint32_t summary, bool is_dir)
{
    mode_t w = class_bits((int32_t)(summary >> 8 & ZK_PERM_ALL), is_dir);
    return class_bits((int32_t)(summary & ZK_PERM_ALL), is_dir) << 6 | w << 3 | w;
}

mode_t zkfs_mode_from_acl(const zkc_acl_entry *acl, size_t n_acl, bool is_dir,
                          const char *digest_id)
{
    return zkfs_mode_from_summary(zkfs_acl_summary(acl, n_acl, digest_id), is_dir);
}

void zkfs_perm_letters(int32_t perms, char buf[6])
{
    size_t n = 0;
    if (perms & ZK_PERM_CREATE) buf[n++] = 'c';
    if (perms & ZK_PERM_DELETE) buf[n++] = 'd';
    if (perms & ZK_PERM_READ) buf[n++] = 'r';
    if (perms & ZK_PERM_WRITE) buf[n++] = 'w';
    if (perms & ZK_PERM_ADMIN) buf[n++] = 'a';
    buf[n] = '\0';
}

void zkfs_format_zxid(int64_t zxid, char buf[20])
{
    snprintf(buf, 20, "0x%" PRIx64, (uint64_t)zxid);
}

void zkfs_format_time(int64_t ms, char buf[64])
{
    time_t secs = (time_t)(ms / 1000);
    if (ms < 0 && ms % 1000)
        secs--;
    struct tm tm;
    if (!localtime_r(&secs, &tm) || strftime(buf, 64, "%a %b %d %H:%M:%S %Z %Y", &tm) == 0)
        snprintf(buf, 64, "%" PRId64, ms);
}

static const char *const xattr_names[] = {
    "user.zk.czxid", "user.zk.mzxid", "user.zk.pzxid", "user.zk.ctime", "user.zk.mtime",
    "user.zk.version", "user.zk.cversion", "user.zk.aversion", "user.zk.ephemeralOwner",
    "user.zk.dataLength", "user.zk.numChildren", "user.zk.acl", "user.zk.path", NULL
};

const char *const *zkfs_xattr_names(void)
{
    return xattr_names;
}

bool zkfs_xattr_is_stat(const char *name)
{
    for (size_t i = 0; i < 11; i++)
        if (strcmp(name, xattr_names[i]) == 0)
            return true;
    return false;
}

char *zkfs_xattr_stat_value(const char *name, const zk_stat *st)
{
    char buf[64];
    if (strcmp(name, "user.zk.czxid") == 0) zkfs_format_zxid(st->czxid, buf);
    else if (strcmp(name, "user.zk.mzxid") == 0) zkfs_format_zxid(st->mzxid, buf);
    else if (strcmp(name, "user.zk.pzxid") == 0) zkfs_format_zxid(st->pzxid, buf);
    else if (strcmp(name, "user.zk.ctime") == 0) zkfs_format_time(st->ctime, buf);
    else if (strcmp(name, "user.zk.mtime") == 0) zkfs_format_time(st->mtime, buf);
    else if (strcmp(name, "user.zk.version") == 0) snprintf(buf, sizeof buf, "%d", st->version);
    else if (strcmp(name, "user.zk.cversion") == 0) snprintf(buf, sizeof buf, "%d", st->cversion);
    else if (strcmp(name, "user.zk.aversion") == 0) snprintf(buf, sizeof buf, "%d", st->aversion);
    else if (strcmp(name, "user.zk.ephemeralOwner") == 0) zkfs_format_zxid(st->ephemeral_owner, buf);
    else if (strcmp(name, "user.zk.dataLength") == 0) snprintf(buf, sizeof buf, "%d", st->data_length);
    else if (strcmp(name, "user.zk.numChildren") == 0) snprintf(buf, sizeof buf, "%d", st->num_children);
    else return NULL;
    return g_strdup(buf);
}

char *zkfs_xattr_acl_value(const zkc_acl_entry *acl, size_t n_acl)
{
    GString *out = g_string_new(NULL);
    for (size_t i = 0; i < n_acl; i++) {
        char letters[6];
        zkfs_perm_letters(acl[i].perms, letters);
        g_string_append_printf(out, "%s:%s:%s\n", acl[i].scheme ? acl[i].scheme : "",
                               acl[i].id ? acl[i].id : "", letters);
    }
    return g_string_free(out, FALSE);
}

/* The ZooKeeper perms of zkCli's letters; -1 on another character. */
static int32_t perms_from_letters(const char *s)
{
    int32_t perms = 0;
    for (; *s; s++) {
        switch (*s) {
        case 'c': perms |= ZK_PERM_CREATE; break;
        case 'd': perms |= ZK_PERM_DELETE; break;
        case 'r': perms |= ZK_PERM_READ; break;
        case 'w': perms |= ZK_PERM_WRITE; break;
        case 'a': perms |= ZK_PERM_ADMIN; break;
        default: return -1;
        }
    }
    return perms;
}

zkc_acl *zkfs_acl_parse(const char *value, size_t len)
{
    char *text = g_strndup(value, len);
    g_strdelimit(text, ",", '\n');
    char **lines = g_strsplit(text, "\n", -1);
    g_free(text);
    GPtrArray *schemes = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *ids = g_ptr_array_new_with_free_func(g_free);
    GArray *perms = g_array_new(FALSE, FALSE, sizeof(int32_t));
    bool ok = true;
    size_t bytes = 0;
    for (char **l = lines; *l && ok; l++) {
        char *line = g_strstrip(*l);
        if (!*line)
            continue;
        char *first = strchr(line, ':'), *last = strrchr(line, ':');
        if (!first || first == last || first == line) {
            ok = false;
            break;
        }
        int32_t p = perms_from_letters(last + 1);
        if (p <= 0) {
            ok = false;
            break;
        }
        g_ptr_array_add(schemes, g_strndup(line, (gsize)(first - line)));
        g_ptr_array_add(ids, g_strndup(first + 1, (gsize)(last - first - 1)));
        g_array_append_val(perms, p);
        bytes += (size_t)(last - line) + 2;
    }
    g_strfreev(lines);
    zkc_acl *acl = NULL;
    size_t n = perms->len;
    if (ok && n > 0) {
        char *block = g_malloc(sizeof(zkc_acl) + n * sizeof(zkc_acl_entry) + bytes);
        acl = (zkc_acl *)block;
        zkc_acl_entry *e = (zkc_acl_entry *)(block + sizeof(zkc_acl));
        char *strings = (char *)(e + n);
        for (size_t i = 0; i < n; i++) {
            const char *sc = g_ptr_array_index(schemes, i), *id = g_ptr_array_index(ids, i);
            size_t ls = strlen(sc) + 1, li = strlen(id) + 1;
            memcpy(strings, sc, ls);
            e[i].scheme = strings;
            strings += ls;
            memcpy(strings, id, li);
            e[i].id = strings;
            strings += li;
            e[i].perms = g_array_index(perms, int32_t, i);
        }
        acl->count = n;
        acl->entries = e;
    }
    g_ptr_array_unref(schemes);
    g_ptr_array_unref(ids);
    g_array_free(perms, TRUE);
    return acl;
}
