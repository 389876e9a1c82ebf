/*
 * lock.c — flock/fcntl locks as ZooKeeper lock recipes (see lock.h).
 *
 * Every lock (held or waited for) is a zlock in the table, keyed by its
 * owner.  The manager's mutex protects the table and each zlock's state
 * and pending request; ZooKeeper calls are made without it.  A zlock is
 * refcounted: the table holds one reference, a worker job another.
 */
#include "lock.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "map.h"

/* Attempts at getting the predicted sequence number (see lock.h). */
#define NAME_ATTEMPTS 20

typedef struct zlock {
    gint refs;
    zkfs_lock_owner owner;
    char *key;                 /* table key (owned) */
    char *path;                /* the file's znode */
    char *node;                /* our child's name, NULL before it exists */
    bool shared;
    bool held;
    bool removed;              /* out of the table: nothing more to do */
    int64_t session;           /* the session node was created in */
    bool lost;                 /* held when the session expired: its node is
                                * gone; the handle fails with EIO until closed */
    fuse_req_t req;            /* a blocking request waiting, or NULL */
    struct zkfs_locks *manager;
} zlock;

struct zkfs_locks {
    const zkfs_loader *loader;
    GMutex lock;
    GHashTable *locks;         /* key -> zlock* (one reference) */
    GThreadPool *worker;       /* one thread: re-checks waiters */
    gint n_lost;               /* locks in the table with lost set (atomic reads) */
};

/*
 * The table key of a lock.  The open file handle is part of it: the
 * kernel's lock owner ids are addresses (of a struct file, of a process's
 * file table) that are reused once freed, while the release that frees
 * our lock of the old owner may still be on its way (it is asynchronous);
 * our handle is alive until that release.  A flock lock belongs to the
 * open file description, which is exactly one handle.
 */
static char *owner_key(const zkfs_lock_owner *o)
{
    return g_strdup_printf("%c:%" PRIu64 ":%" PRIu64 ":%" PRIu64, o->posix ? 'p' : 'f',
                           o->nodeid, o->posix ? o->owner : 0, o->handle);
}

static void zlock_unref(zlock *l)
{
    if (!l || !g_atomic_int_dec_and_test(&l->refs))
        return;
    g_free(l->key);
    g_free(l->path);
    g_free(l->node);
    g_free(l);
}

/* ---- ZooKeeper side (no manager lock held) ---- */

/* Creates our contender child; *node: its name, *session_out: the session
 * it was made in.  A ZooKeeper code. */
static int create_node(zkc *zk, const char *path, bool shared, char **node,
                       int64_t *session_out)
{
    int rc = ZOK;
    char *created = NULL;
    int64_t session = zkc_session_id(zk);
    *session_out = session;
    for (int attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
        GPtrArray *names = NULL;
        zk_stat st;
        rc = zkc_children2(zk, path, false, &names, &st);
        if (names)
            g_ptr_array_unref(names);
        if (rc != ZOK)
            return rc;
        /* ZooKeeper numbers a sequential child with the count of the
         * parent's child creations; the Stat reports cversion as
         * 2 x creations - numChildren (Apache's DataNode.copyStat). */
        int32_t predicted = (int32_t)(((int64_t)st.cversion + st.num_children) / 2);
        char *prefix = g_strdup_printf("%s/zkfs-%" PRIx64 "-lock-%010d__%slock__", path,
                                       (uint64_t)session, predicted, shared ? "r" : "");
        g_free(created);
        created = NULL;
        rc = zkc_create(zk, prefix, "", 0, ZK_CREATE_EPHEMERAL_SEQUENTIAL, NULL, 0, &created,
                        NULL);
        g_free(prefix);
        if (rc != ZOK)
            return rc;
        int64_t seq = -1;
        const char *name = zkfs_base_name(created);
        (void)zkfs_lock_name_parse(name, NULL, &seq);
        if (seq == predicted || attempt == NAME_ATTEMPTS - 1)
            break;
        /* Someone else changed the children in between: Curator would
         * misorder this name; try again. */
        (void)zkc_delete(zk, created, -1);
    }
    *node = g_strdup(zkfs_base_name(created));
    g_free(created);
    return ZOK;
}

/*
 * Checks the contenders: *blocked when one with a smaller number
 * conflicts; *present false when our node is gone (session expired).
 * blocker_shared: the type of the nearest conflicting one.  A ZK code.
 */
static int check_contenders(zkc *zk, const char *path, const char *node, bool shared,
                            bool *present, bool *blocked, bool *blocker_shared)
{
    GPtrArray *names = NULL;
    int rc = zkc_children(zk, path, false, &names);
    if (rc != ZOK)
        return rc;
    int64_t my_seq = -1;
    bool my_shared = false;
    (void)zkfs_lock_name_parse(node, &my_shared, &my_seq);
    *present = false;
    *blocked = false;
    int64_t nearest = -1;
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        if (strcmp(n, node) == 0) {
            *present = true;
            continue;
        }
        bool sh = false;
        int64_t seq = -1;
        if (!zkfs_lock_name_parse(n, &sh, &seq) || seq >= my_seq)
            continue;
        if (shared && sh)
            continue;          /* readers do not exclude readers */
        *blocked = true;
        if (seq > nearest) {
            nearest = seq;
            *blocker_shared = sh;
        }
    }
    g_ptr_array_unref(names);
    return ZOK;
}

/* ---- the table ---- */

typedef struct job {
    zlock *l;                  /* a reference */
    bool cancel;               /* interrupted: give up the wait */
} job;

/* Takes l's waiting request (manager lock held). */
/* Deletes our queue node `node` under the lock file `path` (best effort:
 * a node already gone with its session is fine). */
static void delete_queue_node(zkc *zk, const char *path, const char *node)
{
    char *p = zkfs_child_path(path, node);
    (void)zkc_delete(zk, p, -1);
    g_free(p);
}

static fuse_req_t take_req_locked(zlock *l)
{
    fuse_req_t req = l->req;
    l->req = NULL;
    return req;
}

/* Answers a request taken from l (drops the interrupt's reference). */
static void answer(zlock *l, fuse_req_t req, int err)
{
    if (!req)
        return;
    fuse_req_interrupt_func(req, NULL, NULL);
    zlock_unref(l);
    fuse_reply_err(req, err);
}

/* Forgets l and deletes its node (the caller holds a reference). */
static void drop(zkfs_locks *m, zlock *l)
{
    g_mutex_lock(&m->lock);
    char *node = l->node;
    l->node = NULL;
    if (!l->removed) {
        l->removed = true;
        if (l->lost)
            g_atomic_int_add(&m->n_lost, -1);
        g_hash_table_remove(m->locks, l->key);   /* the table's reference */
    }
    g_mutex_unlock(&m->lock);
    zkc *zk = m->loader->zk;
    if (node && zk)
        delete_queue_node(zk, l->path, node);
    g_free(node);
}

/*
 * Evaluates l (the caller holds a reference): makes its node if it has
 * none, then takes the lock if no predecessor conflicts (answering a
 * waiting request).  Returns true if held; else *err is 0 (wait) or the
 * errno of a failure.
 */
static bool evaluate(zkfs_locks *m, zlock *l, int *err)
{
    zkc *zk = m->loader->zk;
    *err = 0;
    if (!zk) {
        *err = EIO;
        return false;
    }
    for (int round = 0; round < 2; round++) {
        g_mutex_lock(&m->lock);
        char *node = g_strdup(l->node);
        bool removed = l->removed;
        g_mutex_unlock(&m->lock);
        if (removed) {
            g_free(node);
            return false;
        }
        if (!node) {
            int64_t session = 0;
            int rc = create_node(zk, l->path, l->shared, &node, &session);
            if (rc != ZOK) {
                *err = zkfs_errno(rc);
                return false;
            }
            g_mutex_lock(&m->lock);
            bool gone = l->removed;
            if (!gone) {
                l->node = g_strdup(node);
                l->session = session;
            }
            g_mutex_unlock(&m->lock);
            if (gone) {
                /* Cancelled while we created it. */
                delete_queue_node(zk, l->path, node);
                g_free(node);
                return false;
            }
        }
        bool present = false, blocked = false, blocker_shared = false;
        int rc = check_contenders(zk, l->path, node, l->shared, &present, &blocked,
                                  &blocker_shared);
        g_free(node);
        if (rc != ZOK) {
            *err = zkfs_errno(rc);
            return false;
        }
        if (!present) {
            /* Our ephemeral node went with an expired session. */
            g_mutex_lock(&m->lock);
            bool was_held = l->held;
            g_free(l->node);
            l->node = NULL;
            g_mutex_unlock(&m->lock);
            if (was_held) {
                g_printerr("zkfs: lock on %s lost with the session\n", l->path);
                *err = EIO;
                return false;
            }
            continue;          /* a waiter queues again */
        }
        if (blocked)
            return false;
        int64_t current = zkc_session_id(zk);   /* not under the leaf mutex */
        g_mutex_lock(&m->lock);
        if (l->session != current) {
            /* The session changed while we evaluated: the node may have
             * gone with it (zkfs_locks_session_lost ran before we held it).
             * Start again in the current session. */
            char *stale = l->node;
            l->node = NULL;
            g_mutex_unlock(&m->lock);
            if (stale) {
                delete_queue_node(zk, l->path, stale);
                g_free(stale);
            }
            continue;
        }
        l->held = true;
        fuse_req_t req = take_req_locked(l);
        g_mutex_unlock(&m->lock);
        answer(l, req, 0);
        return true;
    }
    return false;
}

static void push_job(zkfs_locks *m, zlock *l, bool cancel)
{
    job *j = g_new(job, 1);
    g_atomic_int_inc(&l->refs);
    *j = (job){ l, cancel };
    g_thread_pool_push(m->worker, j, NULL);
}

/* The worker: re-evaluates a waiter, or gives up an interrupted wait. */
static void worker_main(gpointer data, gpointer user)
{
    zkfs_locks *m = user;
    job *j = data;
    zlock *l = j->l;
    g_mutex_lock(&m->lock);
    bool waiting = !l->removed && l->req;
    fuse_req_t req = j->cancel ? take_req_locked(l) : NULL;
    g_mutex_unlock(&m->lock);
    int err = 0;
    if (req) {
        drop(m, l);
        answer(l, req, EINTR);
    } else if (!j->cancel && waiting && !evaluate(m, l, &err) && err) {
        g_mutex_lock(&m->lock);
        req = take_req_locked(l);
        g_mutex_unlock(&m->lock);
        drop(m, l);
        answer(l, req, err);
    }
    zlock_unref(l);
    g_free(j);
}

/* The kernel interrupted a waiting request (a signal). */
static void on_interrupt(fuse_req_t req, void *data)
{
    (void)req;
    zlock *l = data;
    zkfs_locks *m = l->manager;
    push_job(m, l, true);      /* answered by the worker, not from here */
}

zkfs_locks *zkfs_locks_new(const zkfs_loader *l)
{
    zkfs_locks *m = g_new0(zkfs_locks, 1);
    m->loader = l;
    g_mutex_init(&m->lock);
    m->locks = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)zlock_unref);
    m->worker = g_thread_pool_new(worker_main, m, 1, FALSE, NULL);
    return m;
}

void zkfs_locks_free(zkfs_locks *m)
{
    if (!m)
        return;
    g_thread_pool_free(m->worker, TRUE, TRUE);
    GList *all = g_hash_table_get_values(m->locks);
    for (GList *it = all; it; it = it->next) {
        zlock *l = it->data;
        answer(l, take_req_locked(l), EIO);
    }
    g_list_free(all);
    g_hash_table_destroy(m->locks);
    g_mutex_clear(&m->lock);
    g_free(m);
}

/* Gives l up: forgets it, deletes its node, answers a waiting request
 * EINTR (the caller keeps its reference). */
static void give_up(zkfs_locks *m, zlock *l)
{
    g_mutex_lock(&m->lock);
    fuse_req_t req = take_req_locked(l);
    g_mutex_unlock(&m->lock);
    drop(m, l);
    answer(l, req, EINTR);
}

/* The zlock of o with a new reference, or NULL. */
static zlock *find(zkfs_locks *m, const zkfs_lock_owner *o)
{
    char *key = owner_key(o);
    g_mutex_lock(&m->lock);
    zlock *l = g_hash_table_lookup(m->locks, key);
    if (l)
        g_atomic_int_inc(&l->refs);
    g_mutex_unlock(&m->lock);
    g_free(key);
    return l;
}

void zkfs_locks_acquire(zkfs_locks *m, fuse_req_t req, const char *path,
                        const zkfs_lock_owner *o, bool shared, bool wait)
{
    zlock *old = find(m, o);
    if (old) {
        bool same = old->held && old->shared == shared && !old->removed;
        if (!same) {
            /* A change of type (or a new request while one waits): the
             * old lock goes first, as a conversion is not atomic. */
            give_up(m, old);
        }
        zlock_unref(old);
        if (same) {
            fuse_reply_err(req, 0);
            return;
        }
    }
    zlock *l = g_new0(zlock, 1);
    l->refs = 2;               /* the table's and ours */
    l->manager = m;
    l->owner = *o;
    l->key = owner_key(o);
    l->path = g_strdup(path);
    l->shared = shared;
    g_mutex_lock(&m->lock);
    g_hash_table_replace(m->locks, l->key, l);
    g_mutex_unlock(&m->lock);
    int err = 0;
    if (evaluate(m, l, &err)) {
        fuse_reply_err(req, 0);
    } else if (err || !wait) {
        drop(m, l);
        fuse_reply_err(req, err ? err : EAGAIN);
    } else {
        g_atomic_int_inc(&l->refs);          /* the interrupt's reference */
        fuse_req_interrupt_func(req, on_interrupt, l);
        g_mutex_lock(&m->lock);
        l->req = req;
        g_mutex_unlock(&m->lock);
        if (fuse_req_interrupted(req))
            push_job(m, l, true);
        push_job(m, l, false);               /* a predecessor may have gone meanwhile */
    }
    zlock_unref(l);
}

int zkfs_locks_release(zkfs_locks *m, const zkfs_lock_owner *o)
{
    zlock *l = find(m, o);
    if (!l)
        return 0;
    give_up(m, l);
    zlock_unref(l);
    return 0;
}

/* Releases the locks whose owner matches (handle, or posix owner on nodeid). */
static void release_matching(zkfs_locks *m, bool by_handle, uint64_t handle, uint64_t nodeid,
                             uint64_t owner)
{
    GPtrArray *mine = NULL;    /* allocated at the first match: every close comes here */
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->locks);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zlock *l = v;
        if (by_handle ? l->owner.handle == handle
                      : l->owner.posix && l->owner.nodeid == nodeid && l->owner.owner == owner) {
            g_atomic_int_inc(&l->refs);
            if (!mine)
                mine = g_ptr_array_new();
            g_ptr_array_add(mine, l);
        }
    }
    g_mutex_unlock(&m->lock);
    if (!mine)
        return;
    for (guint i = 0; i < mine->len; i++) {
        zlock *l = g_ptr_array_index(mine, i);
        (void)zkfs_locks_release(m, &l->owner);
        zlock_unref(l);
    }
    g_ptr_array_unref(mine);
}

void zkfs_locks_release_handle(zkfs_locks *m, uint64_t handle)
{
    release_matching(m, true, handle, 0, 0);
}

void zkfs_locks_release_owner(zkfs_locks *m, uint64_t nodeid, uint64_t owner)
{
    release_matching(m, false, 0, nodeid, owner);
}

int zkfs_locks_test(zkfs_locks *m, const char *path, const zkfs_lock_owner *o, bool shared,
                    int *conflict_type)
{
    *conflict_type = F_UNLCK;
    zlock *mine = find(m, o);
    char *my_node = NULL;
    if (mine) {
        g_mutex_lock(&m->lock);
        my_node = g_strdup(mine->node);
        g_mutex_unlock(&m->lock);
        zlock_unref(mine);
    }
    zkc *zk = m->loader->zk;
    if (!zk) {
        g_free(my_node);
        return -EIO;
    }
    GPtrArray *names = NULL;
    int rc = zkc_children(zk, path, false, &names);
    if (rc != ZOK) {
        g_free(my_node);
        return rc == ZNONODE ? 0 : -zkfs_errno(rc);
    }
    for (guint i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);
        bool sh = false;
        if (!zkfs_lock_name_parse(n, &sh, NULL) || (my_node && strcmp(n, my_node) == 0))
            continue;
        if (shared && sh)
            continue;
        *conflict_type = sh ? F_RDLCK : F_WRLCK;
        if (!sh)
            break;
    }
    g_ptr_array_unref(names);
    g_free(my_node);
    return 0;
}

void zkfs_locks_on_event(zkfs_locks *m, int type, int state, const char *path)
{
    bool all = type == ZK_EVENT_NONE && state == ZK_STATE_SYNC_CONNECTED;
    if (!all && (type != ZK_EVENT_DELETED || !path ||
                 !zkfs_lock_name_parse(zkfs_base_name(path), NULL, NULL)))
        return;
    char *parent = path ? zkfs_parent_path(path) : NULL;
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->locks);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zlock *l = v;
        if (l->req && (all || strcmp(l->path, parent) == 0)) {
            job *j = g_new(job, 1);
            g_atomic_int_inc(&l->refs);
            *j = (job){ l, false };
            g_thread_pool_push(m->worker, j, NULL);
        }
    }
    g_mutex_unlock(&m->lock);
    g_free(parent);
}

int zkfs_locks_session_lost(zkfs_locks *m)
{
    GPtrArray *paths = g_ptr_array_new_with_free_func(g_free);
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->locks);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        zlock *l = v;
        if (!l->held || l->lost || l->removed)
            continue;      /* waiters queue again in the next session */
        l->held = false;
        l->lost = true;
        g_free(l->node);   /* the server deleted it with the session */
        l->node = NULL;
        g_atomic_int_inc(&m->n_lost);
        g_ptr_array_add(paths, g_strdup(l->path));
    }
    g_mutex_unlock(&m->lock);
    for (guint i = 0; i < paths->len; i++)
        g_printerr("zkfs: lock on %s lost with the expired session; its descriptor fails "
                   "with EIO until closed\n", (const char *)g_ptr_array_index(paths, i));
    int n = (int)paths->len;
    g_ptr_array_unref(paths);
    return n;
}

bool zkfs_locks_handle_lost(zkfs_locks *m, uint64_t handle)
{
    if (g_atomic_int_get(&m->n_lost) == 0)
        return false;      /* the usual case: no mutex */
    bool lost = false;
    g_mutex_lock(&m->lock);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, m->locks);
    while (!lost && g_hash_table_iter_next(&it, &k, &v)) {
        const zlock *l = v;
        lost = l->lost && !l->removed && l->owner.handle == handle;
    }
    g_mutex_unlock(&m->lock);
    return lost;
}
