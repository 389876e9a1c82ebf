/*
 * echo.c — the echo thread (see echo.h and docs/filesystem.md section 8).
 */
#include "echo.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef enum job_kind { JOB_EVENT, JOB_RESET, JOB_INVAL_ENTRY } job_kind;

/* One queued job; path and listings owned by the job. */
typedef struct echo_job {
    job_kind kind;
    int type;
    char *path;
    bool old_type_known, old_is_dir, own;
    GHashTable *listings;      /* RESET: dir path -> GPtrArray of names before, or NULL */
    int64_t gap_zxid;          /* RESET: the last zxid seen before the gap */
} echo_job;

struct zkfs_echo {
    zkfs_echo_env env;         /* mountpoint owned, the rest not */
    GThread *thread;
    GMutex lock;
    GCond cond;
    GQueue jobs;               /* echo_job* (owned) */
    bool stop;                 /* set under lock */
    bool running;              /* the thread has not returned yet */
    volatile pid_t tid;        /* the thread's id, -1 before it runs */
    GMutex target_lock;
    zkfs_echo_target target;   /* action NONE when idle; path owned */
};

static void job_free(echo_job *j)
{
    g_free(j->path);
    if (j->listings)
        g_hash_table_destroy(j->listings);
    g_free(j);
}

static bool stopping(zkfs_echo *e)
{
    g_mutex_lock(&e->lock);
    bool s = e->stop;
    g_mutex_unlock(&e->lock);
    return s;
}

bool zkfs_echo_is_self(zkfs_echo *e, pid_t pid)
{
    return e && pid > 0 && pid == e->tid;
}

bool zkfs_echo_target_get(zkfs_echo *e, zkfs_echo_target *out)
{
    g_mutex_lock(&e->target_lock);
    bool have = e->target.action != ZKFS_ECHO_NONE;
    if (have) {
        *out = e->target;
        out->path = g_strdup(e->target.path);
    }
    g_mutex_unlock(&e->target_lock);
    return have;
}

void zkfs_echo_target_clear(zkfs_echo_target *t)
{
    g_free(t->path);
    t->path = NULL;
}

static void set_target(zkfs_echo *e, zkfs_echo_action action, const char *path, bool is_dir,
                       const zk_stat *st, uint32_t acl_summary)
{
    g_mutex_lock(&e->target_lock);
    g_free(e->target.path);
    e->target.action = action;
    e->target.path = path ? g_strdup(path) : NULL;
    e->target.is_dir = is_dir;
    if (st)
        e->target.stat = *st;
    else
        memset(&e->target.stat, 0, sizeof e->target.stat);
    e->target.acl_summary = acl_summary;
    g_mutex_unlock(&e->target_lock);
}

static void clear_target(zkfs_echo *e)
{
    set_target(e, ZKFS_ECHO_NONE, NULL, false, NULL, 0);
}

static void inval_inode(zkfs_echo *e, uint64_t id)
{
    if (id && !stopping(e)) {
        /* First forget what the kernel had, so an open racing with the
         * notification does not trust the old pages (inode.h). */
        zkfs_inodes_pages_dropped(e->env.inodes, id);
        fuse_lowlevel_notify_inval_inode(e->env.se, id, 0, 0);
    }
}

/* Drops the kernel's dentry for path (if its parent is known). */
static void inval_entry(zkfs_echo *e, const char *path)
{
    if (strcmp(path, "/") == 0 || stopping(e))
        return;
    char *parent = zkfs_parent_path(path);
    uint64_t parent_id = zkfs_inodes_find(e->env.inodes, ZKFS_VIEW_MAIN, parent);
    const char *name = zkfs_base_name(path);
    if (parent_id)
        fuse_lowlevel_notify_inval_entry(e->env.se, parent_id, name, strlen(name));
    g_free(parent);
}

static char *mount_path(zkfs_echo *e, const char *path)
{
    return g_strconcat(e->env.mountpoint, strcmp(path, "/") == 0 ? "" : path, NULL);
}

/* The kernel's idea of the node's type: true if it has an inode for it. */
static bool kernel_type(zkfs_echo *e, const char *path, bool *is_dir)
{
    uint64_t id = zkfs_inodes_find(e->env.inodes, ZKFS_VIEW_MAIN, path);
    zkfs_inode_info info;
    if (!id || !zkfs_inodes_info(e->env.inodes, id, &info))
        return false;
    *is_dir = info.is_dir;
    zkfs_inode_info_clear(&info);
    return true;
}

/* The kernel raises IN_CREATE (+ IN_MODIFY, IN_CLOSE_WRITE for a file). */
static void do_create(zkfs_echo *e, const char *path, const zkfs_attr *a)
{
    if (stopping(e))
        return;
    const zk_stat *st = &a->st;
    bool is_dir = zkfs_is_dir(st, a->lock_kids);
    char *full = mount_path(e, path);
    set_target(e, ZKFS_ECHO_CREATE, path, is_dir, st, a->acl);
    if (is_dir) {
        (void)mkdir(full, 0755);
    } else {
        int fd = open(full, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0644);
        if (fd >= 0) {
            if (st->data_length > 0)
                (void)!pwrite(fd, "x", 1, 0);
            close(fd);
        }
    }
    clear_target(e);
    g_free(full);
}

/* The kernel raises IN_DELETE (with IN_ISDIR for a directory). */
static void do_delete(zkfs_echo *e, const char *path, bool is_dir)
{
    if (stopping(e))
        return;
    char *full = mount_path(e, path);
    set_target(e, ZKFS_ECHO_DELETE, path, is_dir, NULL, 0);
    int rc = is_dir ? rmdir(full) : unlink(full);
    if (rc != 0 && !is_dir && (errno == EISDIR || errno == EPERM)) {
        set_target(e, ZKFS_ECHO_DELETE, path, true, NULL, 0);
        (void)rmdir(full);
    }
    clear_target(e);
    g_free(full);
}

/* The kernel raises IN_MODIFY + IN_CLOSE_WRITE (file) or IN_ATTRIB (dir). */
static void do_modify(zkfs_echo *e, const char *path, const zkfs_attr *a)
{
    if (stopping(e))
        return;
    bool is_dir = zkfs_is_dir(&a->st, a->lock_kids);
    char *full = mount_path(e, path);
    set_target(e, ZKFS_ECHO_MODIFY, path, is_dir, &a->st, a->acl);
    if (is_dir) {
        (void)utimensat(AT_FDCWD, full, NULL, 0);
    } else {
        int fd = open(full, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            (void)!pwrite(fd, "x", 1, 0);
            close(fd);
        }
    }
    clear_target(e);
    g_free(full);
}

/* The node's type changed: the old entry goes, the new one comes. */
static void do_retype(zkfs_echo *e, const char *path, bool old_is_dir, const zkfs_attr *a)
{
    do_delete(e, path, old_is_dir);
    do_create(e, path, a);
}

static void process_event(zkfs_echo *e, echo_job *j)
{
    const zkfs_loader *l = e->env.loader;
    zkfs_inodes *inodes = e->env.inodes;
    const char *path = j->path;
    char *parent = zkfs_parent_path(path);
    uint64_t parent_id = zkfs_inodes_find(inodes, ZKFS_VIEW_MAIN, parent);
    uint64_t node_id = zkfs_inodes_find(inodes, ZKFS_VIEW_MAIN, path);

    /* Our own changes and lock contenders (hidden: a lock changes no type
     * and no data) only invalidate what the kernel cached. */
    if (j->own || strcmp(path, "/") == 0 || strcmp(path, "/" ZKFS_CTL_NAME) == 0 ||
        zkfs_lock_name_parse(zkfs_base_name(path), NULL, NULL)) {
        inval_inode(e, node_id);
        inval_inode(e, parent_id);
        g_free(parent);
        return;
    }
    if (!parent_id && !node_id) {
        /* The kernel knows neither the node nor its directory: nobody can
         * watch it, nothing is cached to invalidate. */
        g_free(parent);
        return;
    }
    bool was_dir = false;
    if (j->type == ZK_EVENT_DATA_CHANGED && node_id && kernel_type(e, path, &was_dir) && !was_dir) {
        /* New data for what the kernel has as a file: it stays a file (a
         * setData never makes a file a directory), so replay it at once,
         * without loading the node first (one round trip less). */
        zkfs_attr unknown = { .st = { .version = 1, .data_length = 1 } };
        do_modify(e, path, &unknown);
        inval_inode(e, node_id);
        g_free(parent);
        return;
    }
    if (j->type == ZK_EVENT_DELETED) {
        /* A deletion needs nothing from the server (the type is the
         * kernel's or the cache's): replayed even while disconnected, as
         * after a session loss, when the events that were waiting in the
         * socket are read with no server left to ask. */
        if (parent_id) {
            bool k_dir = false;
            bool old_is_dir = kernel_type(e, path, &k_dir) ? k_dir
                              : (j->old_type_known ? j->old_is_dir : false);
            do_delete(e, path, old_is_dir);
            /* A directory that lost its last child and has data is a file now. */
            bool parent_kernel_dir = false;
            if (strcmp(parent, "/") != 0 && kernel_type(e, parent, &parent_kernel_dir) &&
                parent_kernel_dir) {
                bool pexists = false;
                zkfs_attr pa;
                if (zkfs_load_attr(l, parent, &pexists, &pa) == 0 && pexists &&
                    !zkfs_is_dir(&pa.st, pa.lock_kids))
                    do_retype(e, parent, true, &pa);
            }
        }
        inval_inode(e, zkfs_inodes_find(inodes, ZKFS_VIEW_MAIN, path));
        inval_inode(e, parent_id);
        g_free(parent);
        return;
    }
    bool exists = false;
    zkfs_attr a;
    if (zkfs_load_attr(l, path, &exists, &a) != 0) {
        /* Server unreachable: at least make the kernel ask again later
         * (the reconnection's diff replays what was missed). */
        inval_entry(e, path);
        inval_inode(e, node_id);
        inval_inode(e, parent_id);
        g_free(parent);
        return;
    }
    bool known_is_dir = false;
    bool known = kernel_type(e, path, &known_is_dir);

    switch (j->type) {
    case ZK_EVENT_CREATED: {
        if (!exists || !parent_id)
            break;
        bool parent_is_dir = true;
        if (kernel_type(e, parent, &parent_is_dir) && !parent_is_dir && strcmp(parent, "/") != 0) {
            /* A file got its first child: it is a directory now. */
            bool pexists = false;
            zkfs_attr pa;
            if (zkfs_load_attr(l, parent, &pexists, &pa) == 0 && pexists &&
                zkfs_is_dir(&pa.st, pa.lock_kids))
                do_retype(e, parent, false, &pa);
            break;
        }
        if (known)
            inval_entry(e, path);
        do_create(e, path, &a);
        break;
    }
    case ZK_EVENT_DATA_CHANGED:
        if (!exists || (!parent_id && !node_id))
            break;
        if (known && known_is_dir != zkfs_is_dir(&a.st, a.lock_kids))
            do_retype(e, path, known_is_dir, &a);
        else
            do_modify(e, path, &a);
        break;
    default:
        break;
    }
    inval_inode(e, zkfs_inodes_find(inodes, ZKFS_VIEW_MAIN, path));
    inval_inode(e, parent_id);
    g_free(parent);
}

/* True if names (a GPtrArray of char*, may be NULL) holds name. */
static bool has_name(const GPtrArray *names, const char *name)
{
    for (guint i = 0; names && i < names->len; i++)
        if (strcmp(g_ptr_array_index(names, i), name) == 0)
            return true;
    return false;
}

/*
 * After a reconnection: what changed while the session was disconnected
 * raised no watch event, so compare what the kernel can show (its inodes,
 * and the listings cached before the disconnection) with the server, and
 * replay every difference: created, deleted, modified, retyped.
 */
static void diff_after_reconnect(zkfs_echo *e, GHashTable *listings, int64_t gap_zxid)
{
    const zkfs_loader *l = e->env.loader;
    GArray *known = zkfs_inodes_attached(e->env.inodes);
    GHashTable *kids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify)g_ptr_array_unref);
    for (guint i = 0; i < known->len; i++) {
        zkfs_inode_info *info = &g_array_index(known, zkfs_inode_info, i);
        if (strcmp(info->path, "/") == 0)
            continue;
        char *parent = zkfs_parent_path(info->path);
        GPtrArray *list = g_hash_table_lookup(kids, parent);
        if (!list) {
            list = g_ptr_array_new();
            g_hash_table_insert(kids, g_strdup(parent), list);
        }
        g_ptr_array_add(list, info);
        g_free(parent);
    }
    for (guint i = 0; i < known->len && !stopping(e); i++) {
        zkfs_inode_info *dir = &g_array_index(known, zkfs_inode_info, i);
        if (!dir->is_dir)
            continue;
        GPtrArray *now = NULL;
        if (zkfs_load_children(l, dir->path, &now) != 0)
            continue;          /* gone: its parent's turn; or unreachable */
        GPtrArray *before = g_hash_table_lookup(listings, dir->path);
        GHashTable *done = g_hash_table_new(g_str_hash, g_str_equal);
        /* Names the kernel knows in this directory. */
        GPtrArray *mine = g_hash_table_lookup(kids, dir->path);
        for (guint k = 0; mine && k < mine->len && !stopping(e); k++) {
            zkfs_inode_info *kid = g_ptr_array_index(mine, k);
            const char *name = zkfs_base_name(kid->path);
            g_hash_table_add(done, (gpointer)name);
            bool exists = false;
            zkfs_attr a;
            if (!has_name(now, name)) {
                do_delete(e, kid->path, kid->is_dir);
            } else if (zkfs_load_attr(l, kid->path, &exists, &a) == 0 && exists) {
                bool is_dir = zkfs_is_dir(&a.st, a.lock_kids);
                if ((kid->czxid && kid->czxid != a.st.czxid) || is_dir != kid->is_dir)
                    do_retype(e, kid->path, kid->is_dir, &a);
                else if (kid->seen_mzxid && kid->seen_mzxid != a.st.mzxid)
                    do_modify(e, kid->path, &a);
            }
        }
        /* Names listed before: the ones gone, and the new ones. */
        for (guint k = 0; before && k < before->len && !stopping(e); k++) {
            const char *name = g_ptr_array_index(before, k);
            if (!g_hash_table_contains(done, name) && !has_name(now, name) &&
                !zkfs_lock_name_parse(name, NULL, NULL)) {
                char *child = zkfs_child_path(dir->path, name);
                do_delete(e, child, false);
                g_free(child);
            }
        }
        /* New names: not listed before; or, when no listing was cached
         * (an event of the gap's start invalidated it), unknown to the
         * kernel and created after the last zxid seen before the gap. */
        for (guint k = 0; k < now->len && !stopping(e); k++) {
            const char *name = g_ptr_array_index(now, k);
            if (g_hash_table_contains(done, name) || (before && has_name(before, name)) ||
                zkfs_lock_name_parse(name, NULL, NULL) ||
                (strcmp(dir->path, "/") == 0 && strcmp(name, ZKFS_CTL_NAME) == 0))
                continue;
            if (!before && gap_zxid <= 0)
                continue;
            char *child = zkfs_child_path(dir->path, name);
            bool exists = false;
            zkfs_attr a;
            if (zkfs_load_attr(l, child, &exists, &a) == 0 && exists &&
                (before || a.st.czxid > gap_zxid))
                do_create(e, child, &a);
            g_free(child);
        }
        g_hash_table_destroy(done);
        g_ptr_array_unref(now);
    }
    g_hash_table_destroy(kids);
    g_array_free(known, TRUE);
}

static void process_reset(zkfs_echo *e, echo_job *j)
{
    if (j->listings)
        diff_after_reconnect(e, j->listings, j->gap_zxid);
    GArray *ids = zkfs_inodes_all(e->env.inodes);
    for (guint i = 0; i < ids->len && !stopping(e); i++) {
        uint64_t id = g_array_index(ids, uint64_t, i);
        zkfs_inode_info info;
        if (!zkfs_inodes_info(e->env.inodes, id, &info))
            continue;
        inval_inode(e, id);
        inval_entry(e, info.path);
        zkfs_inode_info_clear(&info);
    }
    g_array_free(ids, TRUE);
}

static gpointer echo_main(gpointer arg)
{
    zkfs_echo *e = arg;
    e->tid = gettid();
    for (;;) {
        g_mutex_lock(&e->lock);
        while (!e->stop && g_queue_is_empty(&e->jobs)) {
            gint64 until = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
            g_cond_wait_until(&e->cond, &e->lock, until);
        }
        if (e->stop) {
            g_mutex_unlock(&e->lock);
            break;
        }
        echo_job *j = g_queue_pop_head(&e->jobs);
        g_mutex_unlock(&e->lock);
        switch (j->kind) {
        case JOB_EVENT: process_event(e, j); break;
        case JOB_RESET: process_reset(e, j); break;
        case JOB_INVAL_ENTRY: inval_entry(e, j->path); break;
        }
        job_free(j);
    }
    g_mutex_lock(&e->lock);
    e->running = false;
    g_cond_broadcast(&e->cond);
    g_mutex_unlock(&e->lock);
    return NULL;
}

zkfs_echo *zkfs_echo_start(const zkfs_echo_env *env)
{
    zkfs_echo *e = g_new0(zkfs_echo, 1);
    e->env = *env;
    e->env.mountpoint = g_strdup(env->mountpoint);
    e->tid = -1;
    g_mutex_init(&e->lock);
    g_cond_init(&e->cond);
    g_mutex_init(&e->target_lock);
    g_queue_init(&e->jobs);
    e->running = true;
    GError *err = NULL;
    e->thread = g_thread_try_new("zkfs-echo", echo_main, e, &err);
    if (!e->thread) {
        g_printerr("zkfs: cannot start the echo thread: %s\n", err ? err->message : "?");
        g_clear_error(&err);
        g_free((char *)e->env.mountpoint);
        g_free(e);
        return NULL;
    }
    return e;
}

bool zkfs_echo_stop(zkfs_echo *e, int wait_ms)
{
    if (!e)
        return true;
    g_mutex_lock(&e->lock);
    e->stop = true;
    g_cond_broadcast(&e->cond);
    gint64 until = g_get_monotonic_time() + (gint64)wait_ms * 1000;
    while (e->running)
        if (!g_cond_wait_until(&e->cond, &e->lock, until))
            break;
    bool stopped = !e->running;
    bool join = stopped && e->thread;
    GThread *thread = e->thread;
    if (join)
        e->thread = NULL;
    g_mutex_unlock(&e->lock);
    if (join)
        g_thread_join(thread);
    return stopped;
}

void zkfs_echo_request_stop(zkfs_echo *e)
{
    g_mutex_lock(&e->lock);
    e->stop = true;
    g_cond_broadcast(&e->cond);
    g_mutex_unlock(&e->lock);
}

bool zkfs_echo_free(zkfs_echo *e)
{
    if (!e)
        return true;
    if (!zkfs_echo_stop(e, 0))
        return false;
    g_queue_clear_full(&e->jobs, (GDestroyNotify)job_free);
    g_free(e->target.path);
    g_free((char *)e->env.mountpoint);
    g_mutex_clear(&e->lock);
    g_cond_clear(&e->cond);
    g_mutex_clear(&e->target_lock);
    g_free(e);
    return true;
}

static void push(zkfs_echo *e, echo_job *j)
{
    g_mutex_lock(&e->lock);
    if (e->stop) {
        job_free(j);
    } else {
        g_queue_push_tail(&e->jobs, j);
        g_cond_signal(&e->cond);
    }
    g_mutex_unlock(&e->lock);
}

void zkfs_echo_push_event(zkfs_echo *e, int type, const char *path, bool old_type_known,
                          bool old_is_dir, bool own)
{
    if (!e)
        return;
    echo_job *j = g_new0(echo_job, 1);
    j->kind = JOB_EVENT;
    j->type = type;
    j->path = g_strdup(path);
    j->old_type_known = old_type_known;
    j->old_is_dir = old_is_dir;
    j->own = own;
    push(e, j);
}

void zkfs_echo_push_reset(zkfs_echo *e, bool diff)
{
    if (!e)
        return;
    echo_job *j = g_new0(echo_job, 1);
    j->kind = JOB_RESET;
    if (diff) {
        /* The listings of the directories the kernel knows, as cached
         * before the disconnection (the caller clears the cache next). */
        j->listings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify)g_ptr_array_unref);
        /* No reply of the new connection has been read yet. */
        j->gap_zxid = e->env.loader->zk ? zkc_last_zxid(e->env.loader->zk) : 0;
        GArray *known = zkfs_inodes_attached(e->env.inodes);
        for (guint i = 0; i < known->len; i++) {
            zkfs_inode_info *info = &g_array_index(known, zkfs_inode_info, i);
            GPtrArray *names = NULL;
            if (info->is_dir && zkfs_cache_get_children(e->env.loader->cache, info->path, &names))
                g_hash_table_insert(j->listings, g_strdup(info->path), names);
        }
        g_array_free(known, TRUE);
    }
    push(e, j);
}

void zkfs_echo_push_inval_entry(zkfs_echo *e, const char *path)
{
    if (!e)
        return;
    echo_job *j = g_new0(echo_job, 1);
    j->kind = JOB_INVAL_ENTRY;
    j->path = g_strdup(path);
    push(e, j);
}
