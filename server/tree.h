/*
 * tree.h — the data tree: znodes by path, their data, Stat and ACL, the
 * ephemeral/container/TTL indexes, and the watch triggers that every change
 * fires.  It is Apache ZooKeeper's DataTree: it applies transactions that
 * the request pipeline has already validated, and it is the one structure
 * that snapshots serialise.  Only the event-loop thread touches it (a
 * forked snapshot child reads its copy-on-write image).
 */
#ifndef ZK_TREE_H
#define ZK_TREE_H

#include <glib.h>
#include <stdint.h>

#include "acl.h"
#include "jset.h"
#include "watch.h"
#include "zk/proto.h"

/* Apache's EphemeralType encodings inside ephemeralOwner. */
#define ZK_CONTAINER_OWNER ((int64_t)0x8000000000000000ULL)
#define ZK_TTL_MASK        ((int64_t)0xFF00000000000000ULL)
#define ZK_TTL_MAX         ((int64_t)0x000000FFFFFFFFFFLL)
/* zookeeper.extendedTypesEnabled: TTL owners are only recognised when set. */
extern bool zk_extended_types_enabled;
/* Java int arithmetic (versions, cversions): two's complement, wrapping,
 * never undefined behaviour however large a snapshot's numbers are. */
static inline int32_t zk_jint_add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }

static inline bool zk_owner_is_container(int64_t o) { return o == ZK_CONTAINER_OWNER; }
static inline bool zk_owner_is_ttl(int64_t o)
{
    return zk_extended_types_enabled && (o & ZK_TTL_MASK) == ZK_TTL_MASK;
}
static inline bool zk_owner_is_session(int64_t o) { return o != 0 && !zk_owner_is_container(o) && !zk_owner_is_ttl(o); }
static inline int64_t zk_ttl_owner(int64_t ttl) { return ZK_TTL_MASK | ttl; }
static inline int64_t zk_owner_ttl(int64_t o) { return o & ZK_TTL_MAX; }

typedef struct zk_node {
    char *path;                /* owned; "/" for the root */
    const char *name;          /* points into path: the last component */
    struct zk_node *parent;    /* NULL for the root */
    uint8_t *data;             /* owned, may be NULL */
    int32_t data_len;          /* -1: null data (distinct from empty) */
    zk_acl_list *acl;          /* one reference */
    int64_t czxid, mzxid, ctime, mtime, ephemeral_owner, pzxid;
    int32_t version, cversion, aversion;
    jset children;             /* name -> zk_node*, keys point into child->path */
} zk_node;

/*
 * How a fired watch reaches its connection: like watch_deliver_fn, plus the
 * ACL of the znode the event is about (borrowed, valid during the call; NULL
 * means "no check").  The receiver delivers the event only if the watcher's
 * identities grant READ on that ACL: CVE-2024-23944 (ZOOKEEPER-4799, Apache
 * 3.8.4), backported to Debian's 3.8.0-11+deb12u2, which is our reference.
 */
typedef void (*tree_deliver_fn)(void *ctx, void *watcher, int event_type, const char *path,
                                const zk_acl_list *acl);

typedef struct zk_tree {
    GHashTable *nodes;         /* path -> zk_node* (key is node->path); also "" -> root */
    zk_node *root;
    acl_cache *acls;           /* owned */
    GHashTable *ephemerals;    /* int64 session (g_int64 key, owned) -> jset* of paths */
    GHashTable *containers;    /* path set (keys are node->path) */
    GHashTable *ttls;          /* path set (keys are node->path) */
    int64_t last_processed_zxid;
    int64_t data_size;         /* approximate bytes (paths + data), mntr */
    watch_mgr *data_watches;   /* owned */
    watch_mgr *child_watches;  /* owned */
    tree_deliver_fn deliver;   /* how a fired watch reaches its connection */
    void *deliver_ctx;
    struct quota_trie *quota;  /* owned: the quota roots (quota.h) */
} zk_tree;

/* A new tree with "/", "/zookeeper", "/zookeeper/quota" and "/zookeeper/config". */
zk_tree *tree_new(void);
void tree_free(zk_tree *t);
/* Looks a node up by path ("" is the root too); NULL if absent. */
zk_node *tree_get(const zk_tree *t, const char *path);
/* Fills a client Stat from a node. */
void tree_stat(const zk_node *n, zk_stat *out);
guint tree_node_count(const zk_tree *t);

/* Mutations (DataTree.createNode, deleteNode, setData, setACL).  They fire
 * watches through t->deliver; create, delete and setData also update the
 * quota stats znode of the node's quota root, if any (quota.h).  Return ZOK, ZNONODE or ZNODEEXISTS;
 * tree_delete of a node with children returns ZNOTEMPTY and changes
 * nothing (only a corrupt or hostile transaction asks for it). */
int tree_create(zk_tree *t, const char *path, const void *data, int32_t data_len,
                zk_acl_list *acl /* borrowed; the node takes its own ref */,
                int64_t ephemeral_owner, int32_t parent_cversion, int64_t zxid, int64_t time,
                zk_stat *out);
int tree_delete(zk_tree *t, const char *path, int64_t zxid);
int tree_set_data(zk_tree *t, const char *path, const void *data, int32_t data_len,
                  int32_t version, int64_t zxid, int64_t time, zk_stat *out);
int tree_set_acl(zk_tree *t, const char *path, zk_acl_list *acl, int32_t version, zk_stat *out);
/* ZKDatabase.initConfigInZKDatabase: /zookeeper/config holds the ensemble
 * membership (setData with version -1 and zxid 0, as Apache does). */
void tree_init_config_node(zk_tree *t, const char *membership, int64_t now_ms);
/* DataTree.setCversionPzxid (used when a replayed create hits NODEEXISTS). */
void tree_set_cversion_pzxid(zk_tree *t, const char *path, int32_t cversion, int64_t zxid);

/* The ephemeral paths of a session, as a GPtrArray of paths (borrowed
 * strings) in Apache's order (a copy into a fresh HashSet).  Caller frees
 * the array (not the strings). */
GPtrArray *tree_session_ephemerals(const zk_tree *t, int64_t session);
/* Calls visit for n and every descendant, in pre-order with children in
 * set order (Apache's recursive traversals), without recursion.  visit
 * must not add or remove nodes. */
void tree_walk(const zk_node *n, void (*visit)(const zk_node *, void *), void *ctx);
/* Total descendants of path (getAllChildrenNumber). */
int tree_count_descendants(const zk_node *n);

/* Snapshot body: serialises every node (pre-order, children in set order). */
void tree_serialize(const zk_tree *t, jute_writer *w);
/* Rebuilds a tree from tree_serialize output; NULL with *err if malformed.
 * The quota stats znodes are recomputed from the loaded tree (quota.h). */
zk_tree *tree_deserialize(jute_reader *r, char **err);

#endif
