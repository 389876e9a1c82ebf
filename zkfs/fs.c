/*
 * fs.c — zkfs's FUSE low-level operations: the mapping of
 * docs/filesystem.md applied to requests, on top of the client library
 * (zk/client.h), the loaders and cache (load.c, cache.c), the inode table
 * (inode.c), the lock manager (lock.c) and the echo thread (echo.c).
 * Handlers never send a FUSE notification.  The echo thread's requests
 * are routed by one table to the echo_* handlers; -o ro wraps the
 * changing operations in one more table (docs/zkfs-internals.md).
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/file.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "echo.h"

/* Data of listed children cached up to this size (bytes). */
#define LISTING_DATA_MAX 65536

/* Kernel cache lifetimes (s): events invalidate sooner. */
#define ATTR_TIMEOUT 1.0
#define ENTRY_TIMEOUT 1.0

/* One open file.  Owned through fi->fh; freed at release. */
typedef struct zkfs_handle {
    gint refs;              /* fi->fh's reference + temporary ones (commit_pending) */
    GMutex lock;
    zkfs_view view;
    char *path;             /* znode path (the created path for CREATED) */
    uint64_t nodeid;
    bool echo;              /* opened by the echo thread: no server at all */
    bool writable, trunc, append, excl;
    bool pending_create;    /* main view: new file, created at first commit */
    bool immediate;         /* creation views: every write commits */
    bool ephemeral;         /* delete the znode at release */
    int64_t eph_session;    /* ephemeral: the session that owns the znode */
    gint lost_logged;       /* the loss of its session was logged (atomic) */
    GByteArray *buf;        /* the content (snapshot at open + writes) */
    gint buf_len;           /* buf->len, readable without the lock (atomic) */
    int32_t base_version;   /* version the buffer was read at */
    int64_t mzxid;          /* mzxid of the data read at open (0 = none) */
    bool page_cached;       /* read-only, through the kernel's page cache */
    bool dirty;             /* written since the last commit */
    bool trunc_pending;     /* opened with O_TRUNC, not committed yet */
    int sticky_err;         /* a failed commit: returned forever */
    bool discarded;         /* a new file unlinked before its creation: never commit */
} zkfs_handle;

/* One directory listing, built at opendir.  Owned through fi->fh. */
typedef struct dir_entry {
    char *name;             /* as shown */
    zkfs_view view;
    char *path;             /* znode path */
    bool is_dir;
    bool has_stat;
    zk_stat st;
    uint32_t acl;
} dir_entry;

typedef struct dir_handle {
    GArray *entries;        /* dir_entry, strings owned */
} dir_handle;

/* ------------------------------------------------------------------ */
/* Options and small helpers                                            */

void zkfs_options_init(zkfs_options *o)
{
    memset(o, 0, sizeof *o);
    o->servers = g_strdup("127.0.0.1:2181");
    o->timeout_ms = 5000;
    o->session_timeout_ms = 10000;
    o->maxbuffer = ZKFS_DEFAULT_MAXBUFFER;
    o->cache_timeout_s = 60;
    o->uid = getuid();
    o->gid = getgid();
}

void zkfs_options_clear(zkfs_options *o)
{
    g_free(o->servers);
    g_free(o->digest);
    o->servers = o->digest = NULL;
    g_free(o->tls_ca);
    g_free(o->tls_cert);
    g_free(o->tls_key);
    if (o->tls_pass)
        memset(o->tls_pass, 0, strlen(o->tls_pass));
    g_free(o->tls_pass);
    o->tls_ca = o->tls_cert = o->tls_key = o->tls_pass = NULL;
}

static zkfs *FS(fuse_req_t req)
{
    return fuse_req_userdata(req);
}

static bool from_echo(zkfs *fs, fuse_req_t req)
{
    return zkfs_echo_is_self(fs->echo, fuse_req_ctx(req)->pid);
}

static char *expect_key(int type, const char *path)
{
    return g_strdup_printf("%d:%s", type, path);
}

void zkfs_expect(zkfs *fs, int type, const char *path)
{
    char *key = expect_key(type, path);
    g_mutex_lock(&fs->lock);
    gpointer n = g_hash_table_lookup(fs->expected, key);
    g_hash_table_replace(fs->expected, key, GINT_TO_POINTER(GPOINTER_TO_INT(n) + 1));
    g_mutex_unlock(&fs->lock);
}

/* Decrements; true if there was one.  Lock held. */
static bool expected_dec_locked(zkfs *fs, const char *key)
{
    int n = GPOINTER_TO_INT(g_hash_table_lookup(fs->expected, key));
    if (n <= 0)
        return false;
    if (n == 1)
        g_hash_table_remove(fs->expected, key);
    else
        g_hash_table_replace(fs->expected, g_strdup(key), GINT_TO_POINTER(n - 1));
    return true;
}

void zkfs_unexpect(zkfs *fs, int type, const char *path)
{
    (void)zkfs_take_expected(fs, type, path);
}

bool zkfs_take_expected(zkfs *fs, int type, const char *path)
{
    char *key = expect_key(type, path);
    g_mutex_lock(&fs->lock);
    bool had = expected_dec_locked(fs, key);
    g_mutex_unlock(&fs->lock);
    g_free(key);
    return had;
}

static int zk_errno(int rc)
{
    return zkfs_errno(rc);
}

/* ------------------------------------------------------------------ */
/* Attributes                                                           */

static size_t writer_size(zkfs *fs, const char *path, bool *found)
{
    size_t n = 0;
    *found = false;
    g_mutex_lock(&fs->lock);
    zkfs_handle *h = g_hash_table_lookup(fs->writers, path);
    if (h) {
        /* Never h->lock here: its holder may be waiting for the server,
         * whose reply needs the I/O thread, which may need fs->lock. */
        n = (size_t)g_atomic_int_get(&h->buf_len);
        *found = true;
    }
    g_mutex_unlock(&fs->lock);
    return n;
}

static void fill_attr(zkfs *fs, zkfs_view view, const char *path, bool is_dir,
                      const zk_stat *st, uint32_t acl, struct stat *out)
{
    memset(out, 0, sizeof *out);
    int64_t czxid = st ? st->czxid : 0;
    out->st_ino = (view == ZKFS_VIEW_MAIN && strcmp(path, "/") == 0) ? 1 : zkfs_ino(view, czxid, path);
    mode_t perms;
    if (view == ZKFS_VIEW_CTL || !st)
        perms = is_dir ? 0755 : 0644;
    else
        perms = zkfs_mode_from_summary(acl, is_dir);
    out->st_mode = (is_dir ? S_IFDIR : S_IFREG) | perms;
    out->st_nlink = 1;
    out->st_uid = fs->opts.uid;
    out->st_gid = fs->opts.gid;
    out->st_blksize = 4096;
    int64_t mtime = st ? st->mtime : fs->mount_time_ms;
    int64_t ctime = st ? st->ctime : fs->mount_time_ms;
    if (!is_dir) {
        bool found;
        size_t wsize = writer_size(fs, path, &found);
        out->st_size = found && (view == ZKFS_VIEW_MAIN || view == ZKFS_VIEW_DATAFILE)
                           ? (off_t)wsize : (st ? st->data_length : 0);
    }
    out->st_blocks = (out->st_size + 511) / 512;
    out->st_mtim.tv_sec = mtime / 1000;
    out->st_mtim.tv_nsec = (mtime % 1000) * 1000000;
    out->st_atim = out->st_mtim;
    out->st_ctim.tv_sec = ctime / 1000;
    out->st_ctim.tv_nsec = (ctime % 1000) * 1000000;
}

/* A node as resolved by a lookup. */
typedef struct node_ref {
    zkfs_view view;
    char *path;             /* g_malloc'd */
    bool is_dir;
    bool pending;
    bool has_stat;
    zk_stat st;
    uint32_t acl;
} node_ref;

/* Loads the attributes of path into n (st, acl; *is_dir by the type
 * rule).  0 and *exists, or -errno. */
static int load_node(zkfs *fs, const char *path, bool *exists, node_ref *n, bool *is_dir)
{
    zkfs_attr a;
    int rc = zkfs_load_attr(&fs->loader, path, exists, &a);
    if (rc == 0 && *exists) {
        n->st = a.st;
        n->acl = a.acl;
        if (is_dir)
            *is_dir = zkfs_is_dir(&a.st, a.lock_kids);
    }
    return rc;
}

static void node_ref_clear(node_ref *n)
{
    g_free(n->path);
    n->path = NULL;
}

/* The attributes of the root, for the control directories' times. */
static void root_stat(zkfs *fs, node_ref *n)
{
    bool exists = false;
    if (load_node(fs, "/", &exists, n, NULL) == 0 && exists)
        n->has_stat = true;
}

/* Resolves `name` in the directory `parent`.  0 or -errno. */
static int resolve(zkfs *fs, const zkfs_inode_info *parent, const char *name, node_ref *out)
{
    memset(out, 0, sizeof *out);
    bool exists = false;
    int rc;
    switch (parent->view) {
    case ZKFS_VIEW_MAIN: {
        if (strcmp(parent->path, "/") == 0 && strcmp(name, ZKFS_CTL_NAME) == 0) {
            out->view = ZKFS_VIEW_CTL;
            out->path = g_strdup("/");
            out->is_dir = true;
            root_stat(fs, out);
            return 0;
        }
        if (!zkfs_name_valid(name))
            return -ENOENT;
        char *child = zkfs_child_path(parent->path, name);
        bool is_dir = false;
        rc = load_node(fs, child, &exists, out, &is_dir);
        if (rc != 0) {
            g_free(child);
            return rc;
        }
        out->view = ZKFS_VIEW_MAIN;
        out->path = child;
        if (exists && zkfs_lock_name_parse(name, NULL, NULL)) {
            node_ref_clear(out);
            return -ENOENT;      /* lock contenders are not in the main tree */
        }
        if (exists) {
            out->has_stat = true;
            out->is_dir = is_dir;
            return 0;
        }
        if (zkfs_inodes_find_pending(fs->inodes, child)) {
            out->pending = true;
            return 0;
        }
        node_ref_clear(out);
        return -ENOENT;
    }
    case ZKFS_VIEW_CTL: {
        int view = zkfs_ctl_entry_view(name);
        if (view < 0)
            return -ENOENT;
        out->view = (zkfs_view)view;
        out->path = g_strdup("/");
        out->is_dir = true;
        root_stat(fs, out);
        return 0;
    }
    case ZKFS_VIEW_DATA: {
        bool is_data_file = false;
        char *child_name = zkfs_child_for_data_name(name, &is_data_file);
        if (is_data_file) {
            rc = load_node(fs, parent->path, &exists, out, NULL);
            if (rc != 0)
                return rc;
            if (!exists)
                return -ENOENT;
            out->view = ZKFS_VIEW_DATAFILE;
            out->path = g_strdup(parent->path);
            out->has_stat = true;
            return 0;
        }
        if (!child_name)
            return -ENOENT;
        if (!zkfs_name_valid(child_name)) {
            g_free(child_name);
            return -ENOENT;
        }
        char *child = zkfs_child_path(parent->path, child_name);
        g_free(child_name);
        rc = load_node(fs, child, &exists, out, NULL);
        if (rc != 0 || !exists) {
            g_free(child);
            return rc != 0 ? rc : -ENOENT;
        }
        out->view = ZKFS_VIEW_DATA;
        out->path = child;
        out->is_dir = true;
        out->has_stat = true;
        return 0;
    }
    case ZKFS_VIEW_EPH:
    case ZKFS_VIEW_SEQ:
    case ZKFS_VIEW_EPHSEQ: {
        if (!zkfs_name_valid(name))
            return -ENOENT;
        char *child = zkfs_child_path(parent->path, name);
        rc = load_node(fs, child, &exists, out, &out->is_dir);   /* files here can only fail to open */
        if (rc != 0 || !exists) {
            g_free(child);
            return rc != 0 ? rc : -ENOENT;
        }
        out->view = parent->view;
        out->path = child;
        out->has_stat = true;
        return 0;
    }
    default:
        return -ENOTDIR;
    }
}

/*
 * How long the kernel may keep an entry / attributes.  The main tree's are
 * invalidated by the echo thread whenever a watch event concerns them, so
 * they can live long (-o cache_timeout); the control views get no
 * invalidations and are kept for ENTRY_TIMEOUT only; the creation views'
 * entries not at all (every name must reach zkfs).
 */
static double entry_timeout_for(const zkfs *fs, zkfs_view view)
{
    switch (view) {
    case ZKFS_VIEW_EPH:
    case ZKFS_VIEW_SEQ:
    case ZKFS_VIEW_EPHSEQ:
    case ZKFS_VIEW_CREATED:
        return 0.0;
    case ZKFS_VIEW_MAIN:
        return fs->opts.cache_timeout_s;
    default:
        return ENTRY_TIMEOUT;
    }
}

static double attr_timeout_for(const zkfs *fs, zkfs_view view)
{
    return view == ZKFS_VIEW_MAIN ? fs->opts.cache_timeout_s : ATTR_TIMEOUT;
}

/* Records which version's attributes the kernel got for a file (the page
 * cache rule of inode.h); a file with an open writer shows the writer's
 * size, which is no version's. */
static void note_attr(zkfs *fs, uint64_t nodeid, const zk_stat *st, const struct stat *attr)
{
    bool exact = st && S_ISREG(attr->st_mode) && attr->st_size == st->data_length;
    zkfs_inodes_note_attr(fs->inodes, nodeid, exact ? st->mzxid : 0);
    if (st)
        zkfs_inodes_note_seen(fs->inodes, nodeid, st->mzxid);
}

/* Fills e for node n, registering `lookups` kernel references. */
static void make_entry(zkfs *fs, const node_ref *n, uint64_t lookups, struct fuse_entry_param *e)
{
    memset(e, 0, sizeof *e);
    int64_t czxid = n->has_stat ? n->st.czxid : 0;
    e->ino = zkfs_inodes_get(fs->inodes, n->view, n->path, czxid, n->is_dir, n->pending, lookups);
    fill_attr(fs, n->view, n->path, n->is_dir, n->has_stat ? &n->st : NULL, n->acl, &e->attr);
    e->attr_timeout = attr_timeout_for(fs, n->view);
    e->entry_timeout = entry_timeout_for(fs, n->view);
    note_attr(fs, e->ino, n->has_stat ? &n->st : NULL, &e->attr);
}

static bool get_info(zkfs *fs, fuse_ino_t ino, zkfs_inode_info *info)
{
    return zkfs_inodes_info(fs->inodes, ino, info);
}

/* get_info, else answers ENOENT (the kernel asked about a forgotten inode). */
static bool info_or_enoent(zkfs *fs, fuse_req_t req, fuse_ino_t ino, zkfs_inode_info *info)
{
    if (get_info(fs, ino, info))
        return true;
    fuse_reply_err(req, ENOENT);
    return false;
}

/* Current attributes of an inode (and the Stat they come from, zeroed if
 * none, when zst is not NULL).  0 or -errno. */
static int inode_attr(zkfs *fs, const zkfs_inode_info *info, struct stat *out, zk_stat *zst)
{
    if (zst)
        memset(zst, 0, sizeof *zst);
    node_ref n = { .view = info->view, .path = info->path, .is_dir = info->is_dir };
    if (info->view == ZKFS_VIEW_CTL ||
        (info->view != ZKFS_VIEW_MAIN && info->view != ZKFS_VIEW_DATAFILE &&
         info->view != ZKFS_VIEW_CREATED && strcmp(info->path, "/") == 0)) {
        root_stat(fs, &n);
        fill_attr(fs, info->view, info->path, true, n.has_stat ? &n.st : NULL, n.acl, out);
        return 0;
    }
    bool exists = false;
    int rc = load_node(fs, info->path, &exists, &n, NULL);
    if (rc != 0)
        return rc;
    if (!exists) {
        if (info->pending || info->view == ZKFS_VIEW_CREATED) {
            fill_attr(fs, info->view, info->path, false, NULL, 0, out);
            return 0;
        }
        return -ENOENT;
    }
    n.has_stat = true;
    fill_attr(fs, info->view, info->path, info->is_dir, &n.st, n.acl, out);
    if (zst)
        *zst = n.st;
    return 0;
}

/* ------------------------------------------------------------------ */
/* Lookup, forget, getattr                                              */

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    node_ref n;
    int rc = resolve(fs, &pinfo, name, &n);
    zkfs_inode_info_clear(&pinfo);
    if (rc != 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    struct fuse_entry_param e;
    make_entry(fs, &n, 1, &e);
    node_ref_clear(&n);
    fuse_reply_entry(req, &e);
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    zkfs_inodes_forget(FS(req)->inodes, ino, nlookup);
    fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
    for (size_t i = 0; i < count; i++)
        zkfs_inodes_forget(FS(req)->inodes, forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    struct stat st;
    zk_stat zst;
    int rc = inode_attr(fs, &info, &st, &zst);
    zkfs_view view = info.view;
    zkfs_inode_info_clear(&info);
    if (rc == 0 && fi && fi->fh && !info.is_dir) {
        /* fstat of an open file: the size of what that descriptor sees. */
        zkfs_handle *h = (zkfs_handle *)(uintptr_t)fi->fh;
        st.st_size = (off_t)g_atomic_int_get(&h->buf_len);
        st.st_blocks = (st.st_size + 511) / 512;
    }
    if (rc != 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    note_attr(fs, ino, zst.mzxid ? &zst : NULL, &st);
    fuse_reply_attr(req, &st, attr_timeout_for(fs, view));
}

/* ------------------------------------------------------------------ */
/* Open files: buffer, commit                                           */

/* Publishes h->buf->len for lock-free readers (h->lock held). */
static void handle_len_changed(zkfs_handle *h)
{
    g_atomic_int_set(&h->buf_len, (gint)h->buf->len);
}

static void handle_unref(zkfs_handle *h)
{
    if (!h || !g_atomic_int_dec_and_test(&h->refs))
        return;
    g_byte_array_unref(h->buf);
    g_free(h->path);
    g_mutex_clear(&h->lock);
    g_free(h);
}

static zkfs_handle *handle_new(zkfs_view view, const char *path, uint64_t nodeid)
{
    zkfs_handle *h = g_new0(zkfs_handle, 1);
    h->refs = 1;
    g_mutex_init(&h->lock);
    h->view = view;
    h->path = g_strdup(path);
    h->nodeid = nodeid;
    h->buf = g_byte_array_new();
    h->base_version = -1;
    return h;
}

static void writers_add(zkfs *fs, zkfs_handle *h)
{
    g_mutex_lock(&fs->lock);
    g_hash_table_replace(fs->writers, g_strdup(h->path), h);
    g_mutex_unlock(&fs->lock);
}

static void writers_remove(zkfs *fs, zkfs_handle *h)
{
    g_mutex_lock(&fs->lock);
    if (g_hash_table_lookup(fs->writers, h->path) == h)
        g_hash_table_remove(fs->writers, h->path);
    g_mutex_unlock(&fs->lock);
}

/*
 * Creates the persistent znode of a new file with its data.  An empty
 * file gets its data set in the same multi (version 1): an empty znode
 * whose data was never set is a directory (docs/filesystem.md section 1).
 * Marks the watch events as ours when own.  A ZooKeeper code.
 */
static int create_file_znode(zkfs *fs, const char *path, const void *data, int32_t len,
                             bool own, zk_stat *st)
{
    if (own)
        zkfs_expect(fs, ZK_EVENT_CREATED, path);
    if (len > 0) {
        int rc = zkc_create(fs->zk, path, data, len, ZK_CREATE_PERSISTENT, NULL, 0, NULL, st);
        if (rc != ZOK && own)
            zkfs_unexpect(fs, ZK_EVENT_CREATED, path);
        return rc;
    }
    if (own)
        zkfs_expect(fs, ZK_EVENT_DATA_CHANGED, path);
    zkc_op ops[2] = { zkc_op_create(path, "", 0, ZK_CREATE_PERSISTENT, NULL, 0),
                      zkc_op_set(path, "", 0, -1) };
    zkc_op_result *res = NULL;
    int rc = zkc_multi(fs->zk, ops, 2, &res);
    if (rc == ZOK && res && res[1].has_stat)
        *st = res[1].stat;
    else if (rc == ZOK)
        rc = zkc_exists(fs->zk, path, false, st);
    zkc_op_results_free(res, 2);
    if (rc != ZOK && own) {
        zkfs_unexpect(fs, ZK_EVENT_CREATED, path);
        zkfs_unexpect(fs, ZK_EVENT_DATA_CHANGED, path);
    }
    return rc;
}

/* The type of a znode just written (Stat from the write's reply). */
static bool written_is_dir(zkfs *fs, const char *path, const zk_stat *st)
{
    if (st->num_children == 0)
        return zkfs_is_dir(st, 0);
    node_ref n = { 0 };
    bool exists = false, is_dir = true;
    if (load_node(fs, path, &exists, &n, &is_dir) != 0 || !exists)
        return true;
    return is_dir;
}

/*
 * Commits the buffer of h (h->lock held).  0 or -errno.  A flush (final
 * false) commits only what was written: shells open, dup2 and close the
 * descriptor before writing, and that first close must not create an
 * empty file or empty an O_TRUNC one.  The final commit (release) also
 * creates a new file and applies an O_TRUNC that saw no write.
 */
static int commit_locked(zkfs *fs, zkfs_handle *h, bool final)
{
    if (h->sticky_err)
        return -h->sticky_err;
    if (h->discarded)
        return 0;
    if (!h->dirty && !(final && (h->pending_create || h->trunc_pending)))
        return 0;
    if (!fs->zk)
        return -EIO;
    bool own = h->view == ZKFS_VIEW_MAIN;
    const void *data = h->buf->len ? (const void *)h->buf->data : (const void *)"";
    int32_t len = (int32_t)h->buf->len;
    zk_stat st;
    int rc;
    if (h->pending_create) {
        rc = create_file_znode(fs, h->path, data, len, own, &st);
        if (rc == ZNODEEXISTS && !h->excl) {
            if (own)
                zkfs_expect(fs, ZK_EVENT_DATA_CHANGED, h->path);
            rc = zkc_set(fs->zk, h->path, data, len, -1, &st);
            if (rc != ZOK && own)
                zkfs_unexpect(fs, ZK_EVENT_DATA_CHANGED, h->path);
        }
        if (rc == ZOK) {
            h->pending_create = false;
            zkfs_cache_invalidate(fs->cache, h->path);
            bool is_dir = written_is_dir(fs, h->path, &st);
            zkfs_inodes_commit(fs->inodes, h->nodeid, st.czxid, is_dir);
            if (is_dir)
                zkfs_echo_push_inval_entry(fs->echo, h->path);
        }
    } else {
        int32_t version = (h->trunc || h->immediate || h->view == ZKFS_VIEW_CREATED) ? -1 : h->base_version;
        if (own)
            zkfs_expect(fs, ZK_EVENT_DATA_CHANGED, h->path);
        rc = zkc_set(fs->zk, h->path, data, len, version, &st);
        if (rc != ZOK && own)
            zkfs_unexpect(fs, ZK_EVENT_DATA_CHANGED, h->path);
        zkfs_cache_invalidate(fs->cache, h->path);
        if (rc == ZOK && own && written_is_dir(fs, h->path, &st))
            zkfs_echo_push_inval_entry(fs->echo, h->path);
    }
    zkfs_cache_invalidate(fs->cache, h->path);
    if (rc != ZOK) {
        int err = zk_errno(rc);
        if (err == EIO)
            g_printerr("zkfs: commit of %s failed: %s\n", h->path, zk_error_name(rc));
        if (rc == ZBADVERSION || rc == ZNODEEXISTS || rc == ZNONODE || rc == ZNOAUTH)
            h->sticky_err = err;
        return -err;
    }
    h->base_version = st.version;
    h->dirty = false;
    h->trunc_pending = false;
    return 0;
}

/* The latest open writer of path with a new reference, or NULL. */
static zkfs_handle *writers_get(zkfs *fs, const char *path)
{
    g_mutex_lock(&fs->lock);
    zkfs_handle *h = g_hash_table_lookup(fs->writers, path);
    if (h)
        g_atomic_int_inc(&h->refs);
    g_mutex_unlock(&fs->lock);
    return h;
}

/* Commits the creation of the new file path that is still open. */
static int commit_pending(zkfs *fs, const char *path)
{
    zkfs_handle *h = writers_get(fs, path);
    if (!h)
        return -EBUSY;
    g_mutex_lock(&h->lock);
    int rc = h->pending_create ? commit_locked(fs, h, true) : 0;
    g_mutex_unlock(&h->lock);
    handle_unref(h);
    return rc;
}

/* A new file not created yet is unlinked: its open writer (whose last
 * close may still come) never creates it.  False if it was created
 * meanwhile (a concurrent release committed it): then delete it. */
static bool discard_pending(zkfs *fs, const char *path)
{
    zkfs_handle *h = writers_get(fs, path);
    if (!h)
        return true;
    g_mutex_lock(&h->lock);
    bool pending = h->pending_create;
    if (pending)
        h->discarded = true;
    g_mutex_unlock(&h->lock);
    handle_unref(h);
    return pending;
}

/* After a rename: the open writer of from now writes to to (its next
 * commit replaces the data unconditionally). */
static void writers_moved(zkfs *fs, const char *from, const char *to)
{
    zkfs_handle *h = writers_get(fs, from);
    if (!h)
        return;
    writers_remove(fs, h);
    g_mutex_lock(&h->lock);
    g_free(h->path);
    h->path = g_strdup(to);
    h->trunc = true;
    g_mutex_unlock(&h->lock);
    writers_add(fs, h);
    handle_unref(h);
}

/*
 * Opening for writing checks the ACL afresh (setACL raises no watch event,
 * and a refused commit at close is often ignored: shells close through
 * dup2).  EACCES when the ACL grants the mount no WRITE and holds no entry
 * zkfs cannot evaluate (ip, sasl, x509: the server decides at commit).
 */
static int check_write_access(zkfs *fs, const char *path)
{
    if (!fs->zk)
        return -EIO;
    zkc_acl *acl = NULL;
    zk_stat st;
    int rc = zkc_get_acl(fs->zk, path, &acl, &st);
    if (rc != ZOK)
        return -zk_errno(rc);
    uint32_t summary = zkfs_acl_summary(acl->entries, acl->count, fs->digest_id);
    bool decidable = true;
    for (size_t i = 0; i < acl->count; i++) {
        const char *scheme = acl->entries[i].scheme ? acl->entries[i].scheme : "";
        if (strcmp(scheme, "world") != 0 && strcmp(scheme, "digest") != 0)
            decidable = false;
    }
    g_free(acl);
    zkfs_attr old;
    bool exists = false;
    if (!zkfs_cache_get_attr(fs->cache, path, &exists, &old) || !exists || old.acl != summary) {
        /* The ACL changed (setACL raises no event): refresh what we and
         * the kernel have. */
        zkfs_cache_invalidate(fs->cache, path);
        zkfs_echo_push_event(fs->echo, ZK_EVENT_DATA_CHANGED, path, false, false, true);
    }
    if (decidable && !(summary & ZK_PERM_WRITE))
        return -EACCES;
    return 0;
}

static int open_file(zkfs *fs, const zkfs_inode_info *info, int flags, zkfs_handle **out)
{
    int acc_mode = flags & O_ACCMODE;
    if ((acc_mode == O_WRONLY || acc_mode == O_RDWR) && !info->pending) {
        int rc = check_write_access(fs, info->path);
        if (rc != 0)
            return rc;
    }
    zkfs_handle *h = handle_new(info->view, info->path, info->nodeid);
    int acc = flags & O_ACCMODE;
    h->writable = acc == O_WRONLY || acc == O_RDWR;
    h->trunc = (flags & O_TRUNC) != 0 && h->writable;
    h->append = (flags & O_APPEND) != 0;
    if (info->view == ZKFS_VIEW_CREATED) {
        h->immediate = true;
        h->trunc = true;
    }
    if (info->pending && info->view == ZKFS_VIEW_MAIN) {
        /* Another open of a new file not committed yet. */
        h->pending_create = true;
    } else if (!h->trunc) {
        GBytes *data = NULL;
        zk_stat st;
        int rc = zkfs_load_data(&fs->loader, info->path, &data, &st);
        if (rc != 0) {
            handle_unref(h);
            return rc;
        }
        gsize n = 0;
        const guint8 *p = g_bytes_get_data(data, &n);
        g_byte_array_append(h->buf, p, (guint)n);
        handle_len_changed(h);
        g_bytes_unref(data);
        h->base_version = st.version;
        h->mzxid = st.mzxid;
    } else {
        h->trunc_pending = true;   /* emptied at release even with no write */
    }
    if (h->writable)
        writers_add(fs, h);
    *out = h;
    return 0;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    if (info.is_dir) {
        zkfs_inode_info_clear(&info);
        fuse_reply_err(req, EISDIR);
        return;
    }
    zkfs_handle *h = NULL;
    if (zkfs_view_create_mode(info.view) >= 0) {
        /* An existing znode in a creation view: creating it again fails. */
        zkfs_inode_info_clear(&info);
        fuse_reply_err(req, EEXIST);
        return;
    }
    int rc = open_file(fs, &info, fi->flags, &h);
    if (rc != 0) {
        zkfs_inode_info_clear(&info);
        fuse_reply_err(req, -rc);
        return;
    }
    zkfs_inode_info_clear(&info);
    fi->fh = (uint64_t)(uintptr_t)h;
    /* Every read is served from this descriptor's snapshot.  Read-only
     * descriptors share the kernel's page cache while they all read the
     * version the kernel's pages and size are of (inode.h); the others
     * use direct I/O, so descriptors opened at different versions never
     * share pages (private mmap, hence exec, still works). */
    bool keep = false;
    bool writer = false;
    if (!h->writable && (h->view == ZKFS_VIEW_MAIN || h->view == ZKFS_VIEW_DATAFILE))
        (void)writer_size(fs, h->path, &writer);
    if (!h->writable && !writer &&
        (h->view == ZKFS_VIEW_MAIN || h->view == ZKFS_VIEW_DATAFILE))
        h->page_cached = zkfs_inodes_open_cached(fs->inodes, ino, h->mzxid, &keep);
    fi->keep_cache = keep;
    fi->direct_io = !h->page_cached;
    fi->noflush = !h->writable;   /* nothing to commit at close */
    if (fuse_reply_open(req, fi) == -ENOENT) {
        if (h->page_cached)
            zkfs_inodes_close_cached(fs->inodes, ino);
        writers_remove(fs, h);
        handle_unref(h);
    }
}

static zkfs_handle *HANDLE(struct fuse_file_info *fi)
{
    return (zkfs_handle *)(uintptr_t)fi->fh;
}

/*
 * True if what the descriptor stands for went with an expired session:
 * the ephemeral znode it created, or a lock taken through it.  Every
 * operation on it then fails with EIO until it is closed (docs/filesystem.md
 * section 9, "Session loss"), so its holder never goes on believing it is
 * registered or holds the lock.  Logged once per descriptor.
 */
static bool handle_lost(zkfs *fs, zkfs_handle *h, uint64_t fh)
{
    if (h->echo)
        return false;
    bool eph = h->ephemeral && fs->zk && h->eph_session != zkc_session_id(fs->zk);
    bool lock = !eph && zkfs_locks_handle_lost(fs->locks, fh);
    if (!eph && !lock)
        return false;
    if (g_atomic_int_compare_and_exchange(&h->lost_logged, 0, 1)) {
        g_mutex_lock(&h->lock);
        if (eph)
            g_printerr("zkfs: %s: ephemeral znode lost with session 0x%" PRIx64
                       "; the descriptor fails with EIO until closed\n",
                       h->path, (uint64_t)h->eph_session);
        else
            g_printerr("zkfs: %s: its lock was lost with an expired session; the descriptor "
                       "fails with EIO until closed\n", h->path);
        g_mutex_unlock(&h->lock);
    }
    return true;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                    struct fuse_file_info *fi)
{
    (void)ino;
    zkfs_handle *h = HANDLE(fi);
    if (handle_lost(FS(req), h, fi->fh)) {
        fuse_reply_err(req, EIO);
        return;
    }
    g_mutex_lock(&h->lock);
    size_t len = h->buf->len;
    if (off < 0 || (size_t)off >= len) {
        g_mutex_unlock(&h->lock);
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    size_t n = MIN(size, len - (size_t)off);
    char *copy = g_memdup2(h->buf->data + off, n);
    g_mutex_unlock(&h->lock);
    fuse_reply_buf(req, copy, n);
    g_free(copy);
}

static void op_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                     struct fuse_file_info *fi)
{
    (void)ino;
    zkfs *fs = FS(req);
    zkfs_handle *h = HANDLE(fi);
    if (handle_lost(fs, h, fi->fh)) {
        fuse_reply_err(req, EIO);
        return;
    }
    g_mutex_lock(&h->lock);
    if (h->sticky_err) {
        int err = h->sticky_err;
        g_mutex_unlock(&h->lock);
        fuse_reply_err(req, err);
        return;
    }
    if (h->append)
        off = (off_t)h->buf->len;
    if (off < 0 || (size_t)off + size > fs->max_data) {
        g_mutex_unlock(&h->lock);
        fuse_reply_err(req, EFBIG);
        return;
    }
    size_t end = (size_t)off + size;
    if (end > h->buf->len) {
        size_t old = h->buf->len;
        g_byte_array_set_size(h->buf, (guint)end);
        memset(h->buf->data + old, 0, end - old);
    }
    memcpy(h->buf->data + off, buf, size);
    handle_len_changed(h);
    h->dirty = true;
    int rc = 0;
    if (h->immediate)
        rc = commit_locked(fs, h, false);
    g_mutex_unlock(&h->lock);
    if (rc != 0)
        fuse_reply_err(req, -rc);
    else
        fuse_reply_write(req, size);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    zkfs *fs = FS(req);
    zkfs_handle *h = HANDLE(fi);
    bool lost = handle_lost(fs, h, fi->fh);
    int rc = 0;
    if (!lost) {
        g_mutex_lock(&h->lock);
        rc = commit_locked(fs, h, false);
        g_mutex_unlock(&h->lock);
    }
    /* A process's POSIX locks go when it closes any descriptor of the file. */
    zkfs_locks_release_owner(fs->locks, ino, fi->lock_owner);
    fuse_reply_err(req, lost ? EIO : -rc);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    (void)ino;
    zkfs *fs = FS(req);
    zkfs_handle *h = HANDLE(fi);
    if (handle_lost(fs, h, fi->fh)) {
        fuse_reply_err(req, EIO);
        return;
    }
    g_mutex_lock(&h->lock);
    int rc = commit_locked(fs, h, true);   /* fsync also commits a creation */
    g_mutex_unlock(&h->lock);
    fuse_reply_err(req, -rc);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    zkfs *fs = FS(req);
    zkfs_handle *h = HANDLE(fi);
    zkfs_locks_release_handle(fs->locks, fi->fh);
    if (h->page_cached)
        zkfs_inodes_close_cached(fs->inodes, h->nodeid);
    if (!h->echo) {
        g_mutex_lock(&h->lock);
        (void)commit_locked(fs, h, true);
        g_mutex_unlock(&h->lock);
        writers_remove(fs, h);
        if (h->ephemeral && fs->zk) {
            /* The ephemeral lives as long as the descriptor that made it;
             * only ours (after a session expiry the name may be another's). */
            zk_stat st;
            if (zkc_exists(fs->zk, h->path, false, &st) == ZOK &&
                st.ephemeral_owner == zkc_session_id(fs->zk))
                (void)zkc_delete(fs->zk, h->path, st.version);
            zkfs_cache_invalidate(fs->cache, h->path);
        }
    }
    handle_unref(h);
    fuse_reply_err(req, 0);
}

/* ------------------------------------------------------------------ */
/* Creation                                                             */

/* The znode path for creating `name` in directory `parent`, for the views
 * where creation is allowed.  0 or -errno. */
static int creation_path(const zkfs_inode_info *parent, const char *name, char **out)
{
    switch (parent->view) {
    case ZKFS_VIEW_MAIN:
    case ZKFS_VIEW_EPH:
    case ZKFS_VIEW_SEQ:
    case ZKFS_VIEW_EPHSEQ:
        break;
    case ZKFS_VIEW_DATA: {
        bool is_data = false;
        char *child = zkfs_child_for_data_name(name, &is_data);
        if (!child)
            return -EPERM;
        if (!zkfs_name_valid(child)) {
            g_free(child);
            return -EINVAL;
        }
        *out = zkfs_child_path(parent->path, child);
        g_free(child);
        return 0;
    }
    default:
        return -EPERM;
    }
    if (strcmp(parent->path, "/") == 0 && parent->view == ZKFS_VIEW_MAIN &&
        strcmp(name, ZKFS_CTL_NAME) == 0)
        return -EEXIST;
    if (!zkfs_name_valid(name))
        return -EINVAL;
    *out = zkfs_child_path(parent->path, name);
    return 0;
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    (void)mode;
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    char *path = NULL;
    int rc = creation_path(&pinfo, name, &path);
    if (rc != 0) {
        zkfs_inode_info_clear(&pinfo);
        fuse_reply_err(req, -rc);
        return;
    }
    struct fuse_entry_param e;
    zkfs_handle *h = NULL;
    int create_mode = zkfs_view_create_mode(pinfo.view);
    if (create_mode >= 0) {
        /* Creation views: the znode is created now, empty. */
        char *created = NULL;
        zk_stat st;
        rc = fs->zk ? zkc_create(fs->zk, path, "", 0, create_mode, NULL, 0, &created, &st) : ZCONNECTIONLOSS;
        if (rc != ZOK) {
            g_free(path);
            zkfs_inode_info_clear(&pinfo);
            fuse_reply_err(req, zk_errno(rc));
            return;
        }
        zkfs_cache_invalidate(fs->cache, created);
        node_ref n = { .view = ZKFS_VIEW_CREATED, .path = created, .is_dir = false,
                       .has_stat = true, .st = st, .acl = 0x1f1f };
        make_entry(fs, &n, 1, &e);
        h = handle_new(ZKFS_VIEW_CREATED, created, e.ino);
        h->writable = true;
        h->immediate = true;
        h->trunc = true;
        h->ephemeral = create_mode == ZK_CREATE_EPHEMERAL || create_mode == ZK_CREATE_EPHEMERAL_SEQUENTIAL;
        h->eph_session = st.ephemeral_owner ? st.ephemeral_owner : zkc_session_id(fs->zk);
        h->base_version = st.version;
        g_free(created);
    } else {
        /* Main view or .zk/data: the znode must not exist; main-view files
         * are created at their first commit. */
        bool exists = false;
        rc = zkfs_load_attr(&fs->loader, path, &exists, NULL);
        if (rc == 0 && exists)
            rc = -EEXIST;
        if (rc != 0) {
            g_free(path);
            zkfs_inode_info_clear(&pinfo);
            fuse_reply_err(req, -rc);
            return;
        }
        if (pinfo.view == ZKFS_VIEW_DATA) {
            /* Every znode is a directory in .zk/data: only mkdir creates. */
            g_free(path);
            zkfs_inode_info_clear(&pinfo);
            fuse_reply_err(req, EPERM);
            return;
        }
        node_ref n = { .view = ZKFS_VIEW_MAIN, .path = path, .is_dir = false, .pending = true };
        make_entry(fs, &n, 1, &e);
        h = handle_new(ZKFS_VIEW_MAIN, path, e.ino);
        h->writable = true;
        h->trunc = true;
        h->excl = (fi->flags & O_EXCL) != 0;
        h->append = (fi->flags & O_APPEND) != 0;
        h->pending_create = true;
        writers_add(fs, h);
    }
    if (h->immediate)
        writers_add(fs, h);
    g_free(path);
    zkfs_inode_info_clear(&pinfo);
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->keep_cache = 0;
    fi->direct_io = 1;
    if (fuse_reply_create(req, &e, fi) == -ENOENT) {
        writers_remove(fs, h);
        handle_unref(h);
    }
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
    (void)parent; (void)name; (void)rdev; (void)mode;
    fuse_reply_err(req, EPERM);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    (void)mode;
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    char *path = NULL;
    int rc = (pinfo.view == ZKFS_VIEW_MAIN || pinfo.view == ZKFS_VIEW_DATA)
                 ? creation_path(&pinfo, name, &path) : -EPERM;
    if (rc != 0) {
        zkfs_inode_info_clear(&pinfo);
        fuse_reply_err(req, -rc);
        return;
    }
    bool own = pinfo.view == ZKFS_VIEW_MAIN;
    if (own)
        zkfs_expect(fs, ZK_EVENT_CREATED, path);
    zk_stat st;
    int zrc = fs->zk ? zkc_create(fs->zk, path, "", 0, ZK_CREATE_PERSISTENT, NULL, 0, NULL, &st)
                     : ZCONNECTIONLOSS;
    if (zrc != ZOK) {
        if (own)
            zkfs_unexpect(fs, ZK_EVENT_CREATED, path);
        g_free(path);
        zkfs_inode_info_clear(&pinfo);
        fuse_reply_err(req, zk_errno(zrc));
        return;
    }
    zkfs_cache_invalidate(fs->cache, path);
    bool exists = false;
    node_ref n = { .view = pinfo.view, .path = path, .is_dir = true, .has_stat = true, .st = st,
                   .acl = 0 };
    if (load_node(fs, path, &exists, &n, NULL) != 0 || !exists)
        n.acl = 0x1f1f;
    struct fuse_entry_param e;
    make_entry(fs, &n, 1, &e);
    g_free(path);
    zkfs_inode_info_clear(&pinfo);
    fuse_reply_entry(req, &e);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
    (void)link; (void)parent; (void)name;
    fuse_reply_err(req, EPERM);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
    (void)ino; (void)newparent; (void)newname;
    fuse_reply_err(req, EPERM);
}

/* ------------------------------------------------------------------ */
/* Removal                                                              */

static void remove_node(fuse_req_t req, fuse_ino_t parent, const char *name, bool dir)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    char *path = NULL;
    if (pinfo.view == ZKFS_VIEW_MAIN) {
        if (strcmp(pinfo.path, "/") == 0 && strcmp(name, ZKFS_CTL_NAME) == 0) {
            zkfs_inode_info_clear(&pinfo);
            fuse_reply_err(req, EBUSY);
            return;
        }
        path = zkfs_child_path(pinfo.path, name);
    } else if (pinfo.view == ZKFS_VIEW_DATA && dir) {
        bool is_data = false;
        char *child = zkfs_child_for_data_name(name, &is_data);
        if (child)
            path = zkfs_child_path(pinfo.path, child);
        g_free(child);
    }
    if (!path) {
        zkfs_inode_info_clear(&pinfo);
        fuse_reply_err(req, EPERM);
        return;
    }
    bool own = pinfo.view == ZKFS_VIEW_MAIN;
    uint64_t pending = own ? zkfs_inodes_find_pending(fs->inodes, path) : 0;
    int rc;
    if (pending && discard_pending(fs, path)) {
        /* A new file not committed yet: forget it locally. */
        zkfs_inodes_detach(fs->inodes, pending);
        rc = ZOK;
    } else {
        if (own)
            zkfs_expect(fs, ZK_EVENT_DELETED, path);
        rc = fs->zk ? zkc_delete(fs->zk, path, -1) : ZCONNECTIONLOSS;
        if (rc != ZOK && own)
            zkfs_unexpect(fs, ZK_EVENT_DELETED, path);
        if (rc == ZOK) {
            uint64_t id = zkfs_inodes_find(fs->inodes, pinfo.view, path);
            if (id)
                zkfs_inodes_detach(fs->inodes, id);
        }
    }
    zkfs_cache_invalidate(fs->cache, path);
    zkfs_cache_invalidate(fs->cache, pinfo.path);
    g_free(path);
    zkfs_inode_info_clear(&pinfo);
    fuse_reply_err(req, zk_errno(rc));
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_node(req, parent, name, false);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    remove_node(req, parent, name, true);
}

/* ------------------------------------------------------------------ */
/* Rename                                                               */

/* One znode of a subtree being moved.  Strings g_malloc'd. */
typedef struct moved_node {
    char *rel;              /* path relative to the subtree's top ("" = top) */
    GBytes *data;
    zkc_acl *acl;           /* g_free */
    int32_t version;
} moved_node;

static void moved_node_clear(gpointer p)
{
    moved_node *m = p;
    g_free(m->rel);
    if (m->data)
        g_bytes_unref(m->data);
    g_free(m->acl);
}

/* Reads the subtree at top (pre-order) into nodes.  0 or -errno. */
static int collect_subtree(zkfs *fs, const char *top, const char *rel, GArray *nodes, size_t *bytes)
{
    if (nodes->len >= ZKFS_RENAME_MAX_NODES)
        return -EXDEV;
    char *path = rel[0] ? g_strconcat(top, rel, NULL) : g_strdup(top);
    moved_node m = { .rel = g_strdup(rel) };
    zk_stat st;
    int rc = zkc_get(fs->zk, path, false, &m.data, &st);
    if (rc == ZOK)
        rc = zkc_get_acl(fs->zk, path, &m.acl, NULL);
    if (rc != ZOK) {
        moved_node_clear(&m);
        g_free(path);
        return -zk_errno(rc);
    }
    m.version = st.version;
    if (st.ephemeral_owner != 0) {
        moved_node_clear(&m);
        g_free(path);
        return -EBUSY;
    }
    *bytes += g_bytes_get_size(m.data) + 2 * strlen(path) + 64;
    g_array_append_val(nodes, m);
    GPtrArray *kids = NULL;
    rc = st.num_children > 0 ? zkc_children(fs->zk, path, false, &kids) : ZOK;
    g_free(path);
    if (rc != ZOK)
        return -zk_errno(rc);
    int result = 0;
    for (guint i = 0; kids && i < kids->len && result == 0; i++) {
        char *krel = g_strconcat(rel, "/", (char *)g_ptr_array_index(kids, i), NULL);
        result = collect_subtree(fs, top, krel, nodes, bytes);
        g_free(krel);
    }
    if (kids)
        g_ptr_array_unref(kids);
    return result;
}

/* The watch event a multi op causes. */
static int op_event(const zkc_op *op)
{
    switch (op->type) {
    case ZK_OP_CREATE: return ZK_EVENT_CREATED;
    case ZK_OP_SETDATA: return ZK_EVENT_DATA_CHANGED;
    default: return ZK_EVENT_DELETED;
    }
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pa, pb;
    if (!info_or_enoent(fs, req, parent, &pa))
        return;
    if (!get_info(fs, newparent, &pb)) {
        zkfs_inode_info_clear(&pa);
        fuse_reply_err(req, ENOENT);
        return;
    }
    int err = 0;
    char *from = NULL, *to = NULL;
    GArray *nodes = NULL;
    zkc_op *ops = NULL;
    char **op_paths = NULL;
    size_t n_ops = 0;
    if (flags & RENAME_EXCHANGE) { err = EINVAL; goto out; }
    if (pa.view != ZKFS_VIEW_MAIN || pb.view != ZKFS_VIEW_MAIN) { err = EXDEV; goto out; }
    if ((strcmp(pa.path, "/") == 0 && strcmp(name, ZKFS_CTL_NAME) == 0) ||
        (strcmp(pb.path, "/") == 0 && strcmp(newname, ZKFS_CTL_NAME) == 0)) { err = EBUSY; goto out; }
    if (!zkfs_name_valid(newname)) { err = EINVAL; goto out; }
    if (!fs->zk) { err = EIO; goto out; }
    from = zkfs_child_path(pa.path, name);
    to = zkfs_child_path(pb.path, newname);
    if (strcmp(from, to) == 0)
        goto out;
    if (zkfs_inodes_find_pending(fs->inodes, from)) {
        /* A new file still open (mkstemp + write + rename, as rsync,
         * editors and git do): it is created now, then moved. */
        int crc = commit_pending(fs, from);
        if (crc != 0) { err = -crc; goto out; }
    }
    /* The target. */
    bool to_exists = false;
    zkfs_attr to_attr;
    zkfs_cache_invalidate(fs->cache, to);
    int rc = zkfs_load_attr(&fs->loader, to, &to_exists, &to_attr);
    zk_stat to_st = to_attr.st;
    if (rc != 0) { err = -rc; goto out; }
    if (to_exists && (flags & RENAME_NOREPLACE)) { err = EEXIST; goto out; }
    if (to_exists && to_st.num_children > 0) { err = ENOTEMPTY; goto out; }
    if (to_exists && to_st.ephemeral_owner != 0) { err = EBUSY; goto out; }
    /* The source subtree. */
    nodes = g_array_new(FALSE, TRUE, sizeof(moved_node));
    g_array_set_clear_func(nodes, moved_node_clear);
    size_t bytes = 0;
    rc = collect_subtree(fs, from, "", nodes, &bytes);
    if (rc != 0) { err = -rc; goto out; }
    if (bytes > fs->max_data) { err = EXDEV; goto out; }
    ops = g_new0(zkc_op, 3 * nodes->len + 1);
    op_paths = g_new0(char *, 3 * nodes->len + 2);
    if (to_exists) {
        op_paths[n_ops] = g_strdup(to);
        ops[n_ops] = zkc_op_delete(op_paths[n_ops], to_st.version);
        n_ops++;
    }
    for (guint i = 0; i < nodes->len; i++) {
        moved_node *m = &g_array_index(nodes, moved_node, i);
        gsize dlen = 0;
        const void *d = g_bytes_get_data(m->data, &dlen);
        op_paths[n_ops] = g_strconcat(to, m->rel, NULL);
        ops[n_ops] = zkc_op_create(op_paths[n_ops], dlen ? d : "", (int32_t)dlen,
                                   ZK_CREATE_PERSISTENT, m->acl, 0);
        n_ops++;
        if (dlen == 0 && m->version > 0) {
            /* An empty file stays a file: its data was set (section 1). */
            op_paths[n_ops] = g_strdup(op_paths[n_ops - 1]);
            ops[n_ops] = zkc_op_set(op_paths[n_ops], "", 0, -1);
            n_ops++;
        }
    }
    for (guint i = nodes->len; i-- > 0;) {
        moved_node *m = &g_array_index(nodes, moved_node, i);
        op_paths[n_ops] = g_strconcat(from, m->rel, NULL);
        ops[n_ops] = zkc_op_delete(op_paths[n_ops], m->version);
        n_ops++;
    }
    for (size_t i = 0; i < n_ops; i++)
        zkfs_expect(fs, op_event(&ops[i]), op_paths[i]);
    zkc_op_result *results = NULL;
    rc = zkc_multi(fs->zk, ops, n_ops, &results);
    if (results)
        zkc_op_results_free(results, n_ops);
    if (rc != ZOK) {
        for (size_t i = 0; i < n_ops; i++)
            zkfs_unexpect(fs, op_event(&ops[i]), op_paths[i]);
        err = rc == ZBADVERSION || rc == ZNONODE ? (rc == ZNONODE ? ENOENT : ESTALE) : zk_errno(rc);
        goto out;
    }
    for (size_t i = 0; i < n_ops; i++)
        zkfs_cache_invalidate(fs->cache, op_paths[i]);
    zkfs_cache_invalidate(fs->cache, pa.path);
    zkfs_cache_invalidate(fs->cache, pb.path);
    zk_stat new_st;
    int64_t czxid = zkc_exists(fs->zk, to, false, &new_st) == ZOK ? new_st.czxid : 0;
    zkfs_inodes_rename(fs->inodes, from, to, czxid);
    writers_moved(fs, from, to);
out:
    if (op_paths) {
        for (size_t i = 0; i < n_ops; i++)
            g_free(op_paths[i]);
        g_free(op_paths);
    }
    g_free(ops);
    if (nodes)
        g_array_free(nodes, TRUE);
    g_free(from);
    g_free(to);
    zkfs_inode_info_clear(&pa);
    zkfs_inode_info_clear(&pb);
    fuse_reply_err(req, err);
}

/* ------------------------------------------------------------------ */
/* setattr                                                              */

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    struct stat st;
    /* chmod, chown and times are accepted without effect (section 3):
     * the permission bits come from the ACL (user.zk.acl sets it), the
     * owner from the mount, the times from the Stat. */
    int err = 0;
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (info.is_dir) {
            err = EISDIR;
        } else if ((size_t)attr->st_size > fs->max_data || attr->st_size < 0) {
            err = EFBIG;
        } else if (fi && fi->fh) {
            zkfs_handle *h = HANDLE(fi);
            g_mutex_lock(&h->lock);
            size_t old = h->buf->len;
            g_byte_array_set_size(h->buf, (guint)attr->st_size);
            if ((size_t)attr->st_size > old)
                memset(h->buf->data + old, 0, (size_t)attr->st_size - old);
            handle_len_changed(h);
            h->dirty = true;
            int rc = h->immediate ? commit_locked(fs, h, false) : 0;
            g_mutex_unlock(&h->lock);
            err = -rc;
        } else if (info.view == ZKFS_VIEW_MAIN || info.view == ZKFS_VIEW_DATAFILE ||
                   info.view == ZKFS_VIEW_CREATED) {
            /* truncate(path): commit at once, unconditionally. */
            zkfs_handle *h = handle_new(info.view, info.path, ino);
            h->pending_create = info.pending;
            GBytes *data = NULL;
            zk_stat dst;
            int rc = info.pending ? 0 : zkfs_load_data(&fs->loader, info.path, &data, &dst);
            if (rc == 0) {
                if (data) {
                    gsize n = 0;
                    const guint8 *p = g_bytes_get_data(data, &n);
                    g_byte_array_append(h->buf, p, (guint)n);
                    g_bytes_unref(data);
                }
                size_t old = h->buf->len;
                g_byte_array_set_size(h->buf, (guint)attr->st_size);
                if ((size_t)attr->st_size > old)
                    memset(h->buf->data + old, 0, (size_t)attr->st_size - old);
                h->trunc = true;
                h->dirty = true;
                g_mutex_lock(&h->lock);
                rc = commit_locked(fs, h, true);
                g_mutex_unlock(&h->lock);
            }
            handle_unref(h);
            err = -rc;
        } else {
            err = EPERM;
        }
    }
    if (err) {
        zkfs_inode_info_clear(&info);
        fuse_reply_err(req, err);
        return;
    }
    /* Times are accepted and ignored. */
    zk_stat zst;
    int rc = inode_attr(fs, &info, &st, &zst);
    zkfs_view view = info.view;
    zkfs_inode_info_clear(&info);
    if (rc != 0) {
        fuse_reply_err(req, -rc);
        return;
    }
    note_attr(fs, ino, zst.mzxid ? &zst : NULL, &st);
    fuse_reply_attr(req, &st, attr_timeout_for(fs, view));
}

/* ------------------------------------------------------------------ */
/* Directories                                                          */

static void dir_entry_clear(gpointer p)
{
    dir_entry *d = p;
    g_free(d->name);
    g_free(d->path);
}

static void add_dir_entry(GArray *entries, const char *name, zkfs_view view, const char *path,
                          bool is_dir)
{
    dir_entry d = { .name = g_strdup(name), .view = view, .path = g_strdup(path), .is_dir = is_dir };
    g_array_append_val(entries, d);
}

static int build_listing(zkfs *fs, const zkfs_inode_info *info, GArray *entries)
{
    add_dir_entry(entries, ".", info->view, info->path, true);
    add_dir_entry(entries, "..", info->view, info->path, true);
    if (info->view == ZKFS_VIEW_CTL) {
        for (const char *const *n = zkfs_ctl_entry_names(); *n; n++)
            add_dir_entry(entries, *n, (zkfs_view)zkfs_ctl_entry_view(*n), "/", true);
        return 0;
    }
    GPtrArray *names = NULL;
    int rc = zkfs_load_listing(&fs->loader, info->path, &names);
    if (rc != 0)
        return rc;
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    for (guint i = 0; i < names->len; i++)
        g_ptr_array_add(paths, zkfs_child_path(info->path, g_ptr_array_index(names, i)));
    if (info->view == ZKFS_VIEW_DATA)
        add_dir_entry(entries, ZKFS_DATA_FILE_NAME, ZKFS_VIEW_DATAFILE, info->path, false);
    for (guint i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        const char *path = g_ptr_array_index(paths, i);
        if (info->view == ZKFS_VIEW_MAIN && strcmp(info->path, "/") == 0 &&
            strcmp(name, ZKFS_CTL_NAME) == 0)
            continue;
        if (info->view == ZKFS_VIEW_MAIN && zkfs_lock_name_parse(name, NULL, NULL))
            continue;   /* lock contenders are not in the main tree */
        bool exists = false;
        zkfs_attr a;
        if (!zkfs_cache_get_attr(fs->cache, path, &exists, &a)) {
            /* Not fetched by the batch (timeout, lost connection) or
             * invalidated since: one more try, then give up on the whole
             * listing rather than wait once per entry. */
            int rc = zkfs_load_attr(&fs->loader, path, &exists, &a);
            if (rc != 0) {
                g_ptr_array_unref(paths);
                g_ptr_array_unref(names);
                return rc;
            }
        }
        if (!exists)
            continue;   /* deleted meanwhile: not listed */
        dir_entry d = { .view = info->view, .path = g_strdup(path), .has_stat = true,
                        .st = a.st, .acl = a.acl };
        bool is_dir = zkfs_is_dir(&a.st, a.lock_kids);
        if (info->view == ZKFS_VIEW_MAIN) {
            d.name = g_strdup(name);
            d.is_dir = is_dir;
        } else {
            d.name = info->view == ZKFS_VIEW_DATA ? zkfs_data_name_for_child(name) : g_strdup(name);
            d.is_dir = info->view == ZKFS_VIEW_DATA || is_dir;
        }
        g_array_append_val(entries, d);
    }
    g_ptr_array_unref(paths);
    g_ptr_array_unref(names);
    return 0;
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    if (!info.is_dir) {
        zkfs_inode_info_clear(&info);
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    dir_handle *d = g_new0(dir_handle, 1);
    d->entries = g_array_new(FALSE, TRUE, sizeof(dir_entry));
    g_array_set_clear_func(d->entries, dir_entry_clear);
    int rc = build_listing(fs, &info, d->entries);
    zkfs_inode_info_clear(&info);
    if (rc != 0) {
        g_array_free(d->entries, TRUE);
        g_free(d);
        fuse_reply_err(req, -rc);
        return;
    }
    fi->fh = (uint64_t)(uintptr_t)d;
    if (fuse_reply_open(req, fi) == -ENOENT) {
        g_array_free(d->entries, TRUE);
        g_free(d);
    }
}

static void do_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi, bool plus)
{
    (void)ino;
    zkfs *fs = FS(req);
    dir_handle *d = (dir_handle *)(uintptr_t)fi->fh;
    char *buf = g_malloc(size);
    size_t used = 0;
    for (size_t i = (size_t)off; i < d->entries->len; i++) {
        dir_entry *de = &g_array_index(d->entries, dir_entry, i);
        size_t n;
        bool dot = i < 2;
        if (plus) {
            struct fuse_entry_param e;
            memset(&e, 0, sizeof e);
            if (dot) {
                e.attr.st_mode = S_IFDIR;
                e.attr.st_ino = 1;
            } else {
                node_ref nr = { .view = de->view, .path = de->path, .is_dir = de->is_dir,
                                .has_stat = de->has_stat, .st = de->st, .acl = de->acl };
                if (!de->has_stat)
                    root_stat(fs, &nr);
                make_entry(fs, &nr, 0, &e);
            }
            n = fuse_add_direntry_plus(req, buf + used, size - used, de->name, &e, (off_t)i + 1);
            if (n > size - used)
                break;
            if (!dot)
                zkfs_inodes_ref(fs->inodes, e.ino, 1);
        } else {
            struct stat st;
            memset(&st, 0, sizeof st);
            st.st_mode = de->is_dir ? S_IFDIR : S_IFREG;
            st.st_ino = de->has_stat ? zkfs_ino(de->view, de->st.czxid, de->path) : 1;
            n = fuse_add_direntry(req, buf + used, size - used, de->name, &st, (off_t)i + 1);
            if (n > size - used)
                break;
        }
        used += n;
    }
    fuse_reply_buf(req, buf, used);
    g_free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                           struct fuse_file_info *fi)
{
    do_readdir(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino;
    zkfs_locks_release_handle(FS(req)->locks, fi->fh);
    dir_handle *d = (dir_handle *)(uintptr_t)fi->fh;
    if (d) {
        g_array_free(d->entries, TRUE);
        g_free(d);
    }
    fuse_reply_err(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)ino; (void)datasync; (void)fi;
    fuse_reply_err(req, 0);
}

/* ------------------------------------------------------------------ */
/* statfs and xattrs                                                    */

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
    (void)ino;
    zkfs *fs = FS(req);
    int32_t count = 0;
    int rc = fs->zk ? zkc_get_all_children_number(fs->zk, "/", &count) : ZCONNECTIONLOSS;
    if (rc != ZOK) {
        fuse_reply_err(req, zk_errno(rc));
        return;
    }
    struct statvfs sv;
    memset(&sv, 0, sizeof sv);
    sv.f_bsize = 4096;
    sv.f_frsize = 4096;
    sv.f_files = (fsfilcnt_t)count + 1;
    sv.f_ffree = 1000000;
    sv.f_favail = sv.f_ffree;
    sv.f_bfree = (fsblkcnt_t)1000000 * 256;
    sv.f_bavail = sv.f_bfree;
    sv.f_blocks = sv.f_files * 256 + sv.f_bfree;
    sv.f_namemax = 255;
    fuse_reply_statfs(req, &sv);
}

static void reply_xattr_value(fuse_req_t req, const char *value, size_t len, size_t size)
{
    if (size == 0)
        fuse_reply_xattr(req, len);
    else if (size < len)
        fuse_reply_err(req, ERANGE);
    else
        fuse_reply_buf(req, value, len);
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (strncmp(name, "user.", 5) != 0) {
        /* No security labels, no POSIX ACLs: ENOTSUP tells ls and cp so
         * once per filesystem instead of one ENODATA per file. */
        fuse_reply_err(req, ENOTSUP);
        return;
    }
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    char *value = NULL;
    int err = 0;
    bool known = false;
    for (const char *const *n = zkfs_xattr_names(); *n; n++)
        if (strcmp(*n, name) == 0)
            known = true;
    if (!known || info.view == ZKFS_VIEW_CTL) {
        err = ENODATA;
    } else if (info.pending) {
        err = strcmp(name, "user.zk.path") == 0 ? 0 : ENODATA;
        if (!err)
            value = g_strdup(info.path);
    } else if (strcmp(name, "user.zk.path") == 0) {
        value = g_strdup(info.path);
    } else if (!fs->zk) {
        err = EIO;
    } else if (strcmp(name, "user.zk.acl") == 0) {
        zkc_acl *acl = NULL;
        int rc = zkc_get_acl(fs->zk, info.path, &acl, NULL);
        if (rc == ZOK) {
            value = zkfs_xattr_acl_value(acl->entries, acl->count);
            g_free(acl);
        } else {
            err = zk_errno(rc);
        }
    } else {
        zk_stat st;
        int rc = zkc_exists(fs->zk, info.path, false, &st);
        if (rc == ZOK)
            value = zkfs_xattr_stat_value(name, &st);
        else
            err = zk_errno(rc);
    }
    zkfs_inode_info_clear(&info);
    if (err)
        fuse_reply_err(req, err);
    else
        reply_xattr_value(req, value, strlen(value), size);
    g_free(value);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    GString *names = g_string_new(NULL);
    if (info.view != ZKFS_VIEW_CTL)
        for (const char *const *n = zkfs_xattr_names(); *n; n++)
            g_string_append_len(names, *n, (gssize)strlen(*n) + 1);
    zkfs_inode_info_clear(&info);
    reply_xattr_value(req, names->str, names->len, size);
    g_string_free(names, TRUE);
}

/*
 * setxattr: only user.zk.acl, which sets the znode's ACL (setACL
 * conditional on the ACL version read just before, so a concurrent
 * change is not overwritten: ESTALE).  Everything else is ENOTSUP.
 */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (strcmp(name, "user.zk.acl") != 0) {
        fuse_reply_err(req, ENOTSUP);
        return;
    }
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    int err = 0;
    zkc_acl *acl = zkfs_acl_parse(value, size);
    zk_stat st;
    if (flags & XATTR_CREATE) {
        err = EEXIST;          /* every znode has an ACL */
    } else if (info.view == ZKFS_VIEW_CTL || info.pending ||
               (info.view != ZKFS_VIEW_MAIN && info.view != ZKFS_VIEW_DATAFILE &&
                info.view != ZKFS_VIEW_CREATED && info.view != ZKFS_VIEW_DATA)) {
        err = ENOTSUP;
    } else if (!acl) {
        err = EINVAL;
    } else if (!fs->zk) {
        err = EIO;
    } else {
        int rc = zkc_exists(fs->zk, info.path, false, &st);
        if (rc == ZOK)
            rc = zkc_set_acl(fs->zk, info.path, acl, st.aversion, NULL);
        err = zk_errno(rc);
        zkfs_cache_invalidate(fs->cache, info.path);
        if (rc == ZOK && info.view == ZKFS_VIEW_MAIN)
            /* setACL raises no watch event: refresh the kernel's bits. */
            zkfs_echo_push_event(fs->echo, ZK_EVENT_DATA_CHANGED, info.path, false, false, true);
    }
    g_free(acl);
    zkfs_inode_info_clear(&info);
    fuse_reply_err(req, err);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
    (void)ino; (void)name;
    fuse_reply_err(req, ENOTSUP);
}

/* ------------------------------------------------------------------ */
/* Locks (lock.c): flock and fcntl                                      */

/* The znode a lock on ino is taken on (a new file is created first).
 * g_malloc'd path, or NULL with *err. */
static char *lock_target(zkfs *fs, fuse_ino_t ino, int *err)
{
    zkfs_inode_info info;
    if (!get_info(fs, ino, &info)) {
        *err = ENOENT;
        return NULL;
    }
    *err = info.pending ? -commit_pending(fs, info.path) : 0;
    char *path = *err ? NULL : g_strdup(info.path);
    zkfs_inode_info_clear(&info);
    return path;
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
    zkfs *fs = FS(req);
    if (zkfs_locks_handle_lost(fs->locks, fi->fh)) {
        fuse_reply_err(req, EIO);   /* its lock went with an expired session */
        return;
    }
    zkfs_lock_owner o = { .nodeid = ino, .owner = fi->lock_owner, .posix = false,
                          .handle = fi->fh };
    if (op & LOCK_UN) {
        fuse_reply_err(req, -zkfs_locks_release(fs->locks, &o));
        return;
    }
    int err = 0;
    char *path = lock_target(fs, ino, &err);
    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    zkfs_locks_acquire(fs->locks, req, path, &o, (op & LOCK_SH) != 0, !(op & LOCK_NB));
    g_free(path);
}

static void op_getlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
                     struct flock *lock)
{
    zkfs *fs = FS(req);
    if (zkfs_locks_handle_lost(fs->locks, fi->fh)) {
        fuse_reply_err(req, EIO);   /* its lock went with an expired session */
        return;
    }
    zkfs_lock_owner o = { .nodeid = ino, .owner = fi->lock_owner, .posix = true,
                          .handle = fi->fh };
    int err = 0, type = F_UNLCK;
    char *path = lock_target(fs, ino, &err);
    if (path)
        err = -zkfs_locks_test(fs->locks, path, &o, lock->l_type == F_RDLCK, &type);
    g_free(path);
    if (err) {
        fuse_reply_err(req, err);
        return;
    }
    lock->l_type = (short)type;
    if (type != F_UNLCK) {
        /* Held elsewhere (maybe on another machine): the whole file, no pid. */
        lock->l_whence = SEEK_SET;
        lock->l_start = 0;
        lock->l_len = 0;
        lock->l_pid = 0;
    }
    fuse_reply_lock(req, lock);
}

static void op_setlk(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
                     struct flock *lock, int sleep)
{
    zkfs *fs = FS(req);
    if (zkfs_locks_handle_lost(fs->locks, fi->fh)) {
        fuse_reply_err(req, EIO);   /* its lock went with an expired session */
        return;
    }
    zkfs_lock_owner o = { .nodeid = ino, .owner = fi->lock_owner, .posix = true,
                          .handle = fi->fh };
    if (lock->l_type == F_UNLCK) {
        fuse_reply_err(req, -zkfs_locks_release(fs->locks, &o));
        return;
    }
    int err = 0;
    char *path = lock_target(fs, ino, &err);
    if (!path) {
        fuse_reply_err(req, err);
        return;
    }
    zkfs_locks_acquire(fs->locks, req, path, &o, lock->l_type == F_RDLCK, sleep != 0);
    g_free(path);
}

/* ------------------------------------------------------------------ */
/* The echo thread's own requests (SPEC section 8, echo.h)              */
/*
 * The echo thread replays a remote change on the mount so that the kernel
 * raises its inotify events.  Its requests (recognised by the caller's
 * thread id) are routed to the handlers below by one table, echo_ops, so
 * the handlers above never ask who calls: these answer from the echo
 * target (the change being replayed) without touching the server, and
 * fall back to the ordinary handler for anything else (e.g. the lookup of
 * a parent directory).  Only release, which the kernel sends from no
 * thread in particular, recognises an echo handle by its flag.
 */

static void echo_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    if (pinfo.view == ZKFS_VIEW_MAIN) {
        zkfs_echo_target t;
        if (zkfs_echo_target_get(fs->echo, &t)) {
            char *child = zkfs_child_path(pinfo.path, name);
            bool hit = strcmp(child, t.path) == 0;
            g_free(child);
            if (hit && t.action == ZKFS_ECHO_CREATE) {
                zkfs_echo_target_clear(&t);
                zkfs_inode_info_clear(&pinfo);
                fuse_reply_err(req, ENOENT);
                return;
            }
            if (hit && t.action == ZKFS_ECHO_DELETE) {
                /* The node is gone on the server: answer its old self. */
                node_ref n = { .view = ZKFS_VIEW_MAIN, .path = t.path, .is_dir = t.is_dir };
                struct fuse_entry_param e;
                uint64_t id = zkfs_inodes_find(fs->inodes, ZKFS_VIEW_MAIN, t.path);
                zkfs_inode_info old;
                if (id && zkfs_inodes_info(fs->inodes, id, &old)) {
                    n.is_dir = old.is_dir;
                    n.pending = old.pending;
                    n.st.czxid = old.czxid;
                    n.has_stat = old.czxid != 0;
                    zkfs_inode_info_clear(&old);
                }
                make_entry(fs, &n, 1, &e);
                e.entry_timeout = 0;
                e.attr_timeout = 0;
                fuse_reply_entry(req, &e);
                zkfs_echo_target_clear(&t);
                zkfs_inode_info_clear(&pinfo);
                return;
            }
            zkfs_echo_target_clear(&t);
        }
    }
    zkfs_inode_info_clear(&pinfo);
    op_lookup(req, parent, name);
}

/* Answers an echo create/mkdir from the echo target. */
static bool echo_create_reply(zkfs *fs, fuse_req_t req, const zkfs_inode_info *parent,
                              const char *name, struct fuse_file_info *fi)
{
    if (parent->view != ZKFS_VIEW_MAIN)
        return false;
    zkfs_echo_target t;
    if (!zkfs_echo_target_get(fs->echo, &t))
        return false;
    char *child = zkfs_child_path(parent->path, name);
    bool hit = t.action == ZKFS_ECHO_CREATE && strcmp(child, t.path) == 0;
    g_free(child);
    if (!hit) {
        zkfs_echo_target_clear(&t);
        return false;
    }
    node_ref n = { .view = ZKFS_VIEW_MAIN, .path = t.path, .is_dir = t.is_dir,
                   .has_stat = true, .st = t.stat, .acl = t.acl_summary };
    struct fuse_entry_param e;
    make_entry(fs, &n, 1, &e);
    if (fi) {
        zkfs_handle *h = handle_new(ZKFS_VIEW_MAIN, t.path, e.ino);
        h->echo = true;
        fi->fh = (uint64_t)(uintptr_t)h;
        fi->direct_io = 1;
        if (fuse_reply_create(req, &e, fi) == -ENOENT)
            handle_unref(h);
    } else {
        fuse_reply_entry(req, &e);
    }
    zkfs_echo_target_clear(&t);
    return true;
}

static void echo_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                        struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    bool done = echo_create_reply(fs, req, &pinfo, name, fi);
    zkfs_inode_info_clear(&pinfo);
    if (!done)
        op_create(req, parent, name, mode, fi);
}

static void echo_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    bool done = echo_create_reply(fs, req, &pinfo, name, NULL);
    zkfs_inode_info_clear(&pinfo);
    if (!done)
        op_mkdir(req, parent, name, mode);
}

/* The node is already gone on the server: forget its inode's name. */
static void echo_remove(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    zkfs *fs = FS(req);
    zkfs_inode_info pinfo;
    if (!info_or_enoent(fs, req, parent, &pinfo))
        return;
    char *path = zkfs_child_path(pinfo.path, name);
    uint64_t id = zkfs_inodes_find(fs->inodes, ZKFS_VIEW_MAIN, path);
    if (id)
        zkfs_inodes_detach(fs->inodes, id);
    g_free(path);
    zkfs_inode_info_clear(&pinfo);
    fuse_reply_err(req, 0);
}

static void echo_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    zkfs_handle *h = handle_new(info.view, info.path, ino);
    h->echo = true;
    zkfs_inode_info_clear(&info);
    fi->fh = (uint64_t)(uintptr_t)h;
    fi->direct_io = 1;
    if (fuse_reply_open(req, fi) == -ENOENT)
        handle_unref(h);
}

static void echo_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
    (void)ino; (void)buf; (void)off; (void)fi;
    fuse_reply_write(req, size);
}

static void echo_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)ino; (void)fi;
    fuse_reply_err(req, 0);
}

static void echo_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    (void)datasync;
    echo_flush(req, ino, fi);
}

/* utimensat of a directory (IN_ATTRIB): the target's attributes. */
static void echo_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                         struct fuse_file_info *fi)
{
    zkfs *fs = FS(req);
    zkfs_inode_info info;
    zkfs_echo_target t;
    if (!info_or_enoent(fs, req, ino, &info))
        return;
    if (!zkfs_echo_target_get(fs->echo, &t)) {
        zkfs_inode_info_clear(&info);
        op_setattr(req, ino, attr, to_set, fi);
        return;
    }
    struct stat st;
    fill_attr(fs, info.view, info.path, info.is_dir, &t.stat, t.acl_summary, &st);
    zkfs_echo_target_clear(&t);
    zkfs_inode_info_clear(&info);
    fuse_reply_attr(req, &st, 0);
}

/* The echo thread's fstat-less getattr: the node's own attributes. */
static void echo_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    (void)fi;
    op_getattr(req, ino, NULL);
}

/* ------------------------------------------------------------------ */
/* init and the ops table                                               */

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
    (void)userdata;
    if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
        conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
    if (conn->capable & FUSE_CAP_READDIRPLUS)
        conn->want |= FUSE_CAP_READDIRPLUS;
    conn->want &= ~(unsigned)FUSE_CAP_WRITEBACK_CACHE;
    conn->want &= ~(unsigned)FUSE_CAP_HANDLE_KILLPRIV;
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = op_init,
    .lookup = op_lookup,
    .forget = op_forget,
    .forget_multi = op_forget_multi,
    .getattr = op_getattr,
    .setattr = op_setattr,
    .mknod = op_mknod,
    .mkdir = op_mkdir,
    .unlink = op_unlink,
    .rmdir = op_rmdir,
    .symlink = op_symlink,
    .rename = op_rename,
    .link = op_link,
    .open = op_open,
    .read = op_read,
    .write = op_write,
    .flush = op_flush,
    .release = op_release,
    .fsync = op_fsync,
    .opendir = op_opendir,
    .readdir = op_readdir,
    .readdirplus = op_readdirplus,
    .releasedir = op_releasedir,
    .fsyncdir = op_fsyncdir,
    .statfs = op_statfs,
    .setxattr = op_setxattr,
    .getxattr = op_getxattr,
    .listxattr = op_listxattr,
    .removexattr = op_removexattr,
    .create = op_create,
    .getlk = op_getlk,
    .setlk = op_setlk,
    .flock = op_flock,
};

/* Requests of the echo thread go to these; the others to fs_ops. */
static const struct fuse_lowlevel_ops echo_ops = {
    .lookup = echo_lookup,
    .getattr = echo_getattr,
    .setattr = echo_setattr,
    .mkdir = echo_mkdir,
    .unlink = echo_remove,
    .rmdir = echo_remove,
    .open = echo_open,
    .write = echo_write,
    .flush = echo_flush,
    .fsync = echo_fsync,
    .create = echo_create,
};

/* The one check: which table answers this request. */
#define ROUTE(op, ...) \
    (from_echo(FS(req), req) ? echo_ops.op : fs_ops.op)(__VA_ARGS__)

static void route_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    ROUTE(lookup, req, parent, name);
}
static void route_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    ROUTE(getattr, req, ino, fi);
}
static void route_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                          struct fuse_file_info *fi)
{
    ROUTE(setattr, req, ino, attr, to_set, fi);
}
static void route_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    ROUTE(mkdir, req, parent, name, mode);
}
static void route_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    ROUTE(unlink, req, parent, name);
}
static void route_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    ROUTE(rmdir, req, parent, name);
}
static void route_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    ROUTE(open, req, ino, fi);
}
static void route_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
    ROUTE(write, req, ino, buf, size, off, fi);
}
static void route_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    ROUTE(flush, req, ino, fi);
}
static void route_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
    ROUTE(fsync, req, ino, datasync, fi);
}
static void route_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                         struct fuse_file_info *fi)
{
    ROUTE(create, req, parent, name, mode, fi);
}

/* What the kernel talks to: fs_ops with the echo thread's routes. */
static struct fuse_lowlevel_ops mount_ops;

static const struct fuse_lowlevel_ops *routed_ops(void)
{
    mount_ops = fs_ops;
    mount_ops.lookup = route_lookup;
    mount_ops.getattr = route_getattr;
    mount_ops.setattr = route_setattr;
    mount_ops.mkdir = route_mkdir;
    mount_ops.unlink = route_unlink;
    mount_ops.rmdir = route_rmdir;
    mount_ops.open = route_open;
    mount_ops.write = route_write;
    mount_ops.flush = route_flush;
    mount_ops.fsync = route_fsync;
    mount_ops.create = route_create;
    return &mount_ops;
}

/*
 * A read-only mount (-o ro): zkfs refuses every change itself (EROFS)
 * instead of asking the kernel for a read-only mount, so that the echo
 * thread can still replay remote changes on the mount (section 8).  One
 * table of wrappers, one check each: the echo thread passes.
 */
#define RO_REFUSE(req)                                  \
    do {                                                \
        if (!from_echo(FS(req), (req))) {               \
            fuse_reply_err((req), EROFS);               \
            return;                                     \
        }                                               \
    } while (0)

static void ro_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                      struct fuse_file_info *fi)
{
    RO_REFUSE(req);
    route_create(req, parent, name, mode, fi);
}

static void ro_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
    RO_REFUSE(req);
    route_mkdir(req, parent, name, mode);
}

static void ro_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    RO_REFUSE(req);
    route_unlink(req, parent, name);
}

static void ro_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
    RO_REFUSE(req);
    route_rmdir(req, parent, name);
}

static void ro_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                      const char *newname, unsigned int flags)
{
    RO_REFUSE(req);
    fs_ops.rename(req, parent, name, newparent, newname, flags);
}

static void ro_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                       struct fuse_file_info *fi)
{
    RO_REFUSE(req);
    route_setattr(req, ino, attr, to_set, fi);
}

static void ro_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                        size_t size, int flags)
{
    RO_REFUSE(req);
    fs_ops.setxattr(req, ino, name, value, size, flags);
}

static void ro_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
    if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
        RO_REFUSE(req);
    route_open(req, ino, fi);
}

const struct fuse_lowlevel_ops *zkfs_ops(bool read_only)
{
    static struct fuse_lowlevel_ops ro_ops;
    if (!read_only)
        return routed_ops();
    ro_ops = *routed_ops();
    ro_ops.create = ro_create;
    ro_ops.mkdir = ro_mkdir;
    ro_ops.unlink = ro_unlink;
    ro_ops.rmdir = ro_rmdir;
    ro_ops.rename = ro_rename;
    ro_ops.setattr = ro_setattr;
    ro_ops.setxattr = ro_setxattr;
    ro_ops.open = ro_open;
    return &ro_ops;
}

/* ------------------------------------------------------------------ */
/* Session and lifetime                                                 */

static void add_watch_done(const zkc_result *res, void *ctx)
{
    (void)ctx;
    if (res->err != ZOK)
        g_printerr("zkfs: addWatch(/, persistent recursive) failed: %s\n", zk_error_name(res->err));
}

/*
 * The mount's session is gone (expired, or replaced by a new one): its
 * ephemeral znodes and locks went with it.  Logged once per session; the
 * locks are marked lost (lock.h), ephemeral descriptors notice by
 * themselves (handle_lost).  The resynchronisation of the mount's view is
 * the reconnection's (on_watch).  Watcher thread.
 */
static void session_lost(zkfs *fs, const char *how)
{
    if (!fs->session_id)
        return;
    int n = zkfs_locks_session_lost(fs->locks);
    g_printerr("zkfs: session 0x%" PRIx64 " %s: its ephemeral znodes are gone and %d lock(s) "
               "lost (their descriptors fail with EIO until closed); starting a new session "
               "and resynchronising the mount\n", (uint64_t)fs->session_id, how, n);
    fs->session_id = 0;
}

/* Watcher: runs on the client's I/O thread; must not block. */
static void on_watch(zkc *zk, int type, int state, const char *path, void *ctx)
{
    zkfs *fs = ctx;
    if (type == ZK_EVENT_NONE) {
        if (state == ZK_STATE_EXPIRED)
            session_lost(fs, "expired");
        if (state == ZK_STATE_SYNC_CONNECTED) {
            int64_t sid = zkc_session_id(zk);
            if (fs->session_id && sid != fs->session_id)
                session_lost(fs, "was replaced");
            if (sid != fs->session_id)
                g_printerr("zkfs: session 0x%" PRIx64 " established (timeout %d ms)\n",
                           (uint64_t)sid, zkc_session_timeout(zk));
            fs->session_id = sid;
            /* Events may have been missed: the echo thread replays the
             * differences (from a snapshot of the cache), then forget
             * everything. */
            zkfs_echo_push_reset(fs->echo, fs->connected_before);
            fs->connected_before = true;
            zkfs_cache_clear(fs->cache);
            g_mutex_lock(&fs->lock);
            g_hash_table_remove_all(fs->expected);
            g_mutex_unlock(&fs->lock);
            (void)zkc_aadd_watch(zk, "/", ZK_ADDWATCH_PERSISTENT_RECURSIVE, add_watch_done, fs);
        }
        zkfs_locks_on_event(fs->locks, type, state, path);
        return;
    }
    if (!path)
        return;
    zkfs_locks_on_event(fs->locks, type, state, path);
    bool exists = false;
    zkfs_attr a;
    bool known = zkfs_cache_get_attr(fs->cache, path, &exists, &a) && exists;
    bool old_is_dir = known && zkfs_is_dir(&a.st, a.lock_kids);
    zkfs_cache_apply_event(fs->cache, type, path);
    bool own = zkfs_take_expected(fs, type, path);
    zkfs_echo_push_event(fs->echo, type, path, known, old_is_dir, own);
}

zkfs *zkfs_new(zkfs_options *opts)
{
    zkfs *fs = g_new0(zkfs, 1);
    fs->opts = *opts;
    memset(opts, 0, sizeof *opts);
    fs->cache = zkfs_cache_new(0, 0);
    fs->inodes = zkfs_inodes_new();
    fs->digest_id = fs->opts.digest ? zkfs_digest_id(fs->opts.digest) : NULL;
    fs->loader = (zkfs_loader){ .cache = fs->cache, .digest_id = fs->digest_id,
                                .timeout_ms = fs->opts.timeout_ms,
                                .max_listing_data = LISTING_DATA_MAX };
    int maxbuf = fs->opts.maxbuffer > 0 ? fs->opts.maxbuffer : ZKFS_DEFAULT_MAXBUFFER;
    fs->max_data = maxbuf > ZKFS_REQUEST_OVERHEAD ? (size_t)(maxbuf - ZKFS_REQUEST_OVERHEAD) : 0;
    fs->mount_time_ms = g_get_real_time() / 1000;
    g_mutex_init(&fs->lock);
    fs->expected = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fs->writers = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    fs->locks = zkfs_locks_new(&fs->loader);
    return fs;
}

void zkfs_client_options(const zkfs_options *opts, zkc_options *o)
{
    zkc_options_init(o);
    o->hosts = opts->servers;
    o->session_timeout_ms = opts->session_timeout_ms;
    o->request_timeout_ms = opts->timeout_ms;
    o->digest_auth = opts->digest;
    /* A listing's multiRead answers up to ZKFS_LISTING_CHUNK znodes' data
     * at once (load.c). */
    int64_t frame = (int64_t)(ZKFS_LISTING_CHUNK + 1) * opts->maxbuffer + (1 << 20);
    o->max_frame_bytes = frame > INT_MAX ? INT_MAX : (int)frame;
    o->auto_new_session = true;
    o->tls = opts->tls;
    o->tls_ca_file = opts->tls_ca;
    o->tls_ca_password = opts->tls_pass;
    o->tls_cert_file = opts->tls_cert;
    o->tls_key_file = opts->tls_key;
    o->tls_key_password = opts->tls_pass;
    o->tls_no_hostname_check = opts->tls_no_host_check;
}

int zkfs_start(zkfs *fs, struct fuse_session *se, const char *mountpoint)
{
    fs->se = se;
    fs->mountpoint = g_strdup(mountpoint);
    zkfs_echo_env env = { .se = se, .mountpoint = mountpoint, .inodes = fs->inodes,
                          .loader = &fs->loader };
    fs->echo = zkfs_echo_start(&env);
    if (!fs->echo)
        return -1;
    zkc_options o;
    zkfs_client_options(&fs->opts, &o);
    o.watcher = on_watch;
    o.watcher_ctx = fs;
    o.auto_new_session = true;
    char *err = NULL;
    zkc *zk = zkc_open(&o, &err);
    if (!zk) {
        g_printerr("zkfs: cannot connect to %s: %s\n", fs->opts.servers, err ? err : "?");
        g_free(err);
        return -1;
    }
    fs->zk = zk;
    fs->loader.zk = zk;
    int rc = zkc_wait_connected(zk, fs->opts.timeout_ms);
    if (rc != ZOK) {
        char *why = zkc_last_error(zk);
        g_printerr("zkfs: not connected to %s yet (%s%s%s); retrying in the background\n",
                   fs->opts.servers, zk_error_name(rc), why ? ": " : "", why ? why : "");
        g_free(why);
    }
    return 0;
}

void zkfs_stop_async(zkfs *fs)
{
    if (fs && fs->echo)
        zkfs_echo_request_stop(fs->echo);
}

void zkfs_free(zkfs *fs)
{
    if (!fs)
        return;
    if (!zkfs_echo_stop(fs->echo, 3000)) {
        /* The echo thread is stuck in a syscall on a dead mount: leave
         * everything it may touch allocated (the process is exiting; the
         * session expires by itself). */
        return;
    }
    zkfs_locks_free(fs->locks);    /* its worker may still use the session */
    zkc_close(fs->zk);
    zkfs_echo_free(fs->echo);
    fs->echo = NULL;
    fs->zk = NULL;
    zkfs_cache_free(fs->cache);
    zkfs_inodes_free(fs->inodes);
    g_hash_table_destroy(fs->expected);
    g_hash_table_destroy(fs->writers);
    g_mutex_clear(&fs->lock);
    g_free(fs->mountpoint);
    g_free(fs->digest_id);
    zkfs_options_clear(&fs->opts);
    g_free(fs);
}
