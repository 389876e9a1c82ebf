/*
 * map.h — the znode-to-file mapping of docs/filesystem.md as pure
 * functions: file or directory, inode numbers, permission bits from ACLs,
 * the `.zk/data` name escaping, errno mapping and the xattr values.
 * Nothing here talks to a server or to FUSE, so all of it is unit-tested.
 */
#ifndef ZKFS_MAP_H
#define ZKFS_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <glib.h>

#include "zk/client.h"
#include "zk/proto.h"

/* The views of the tree a mount shows (docs/filesystem.md section 2). */
typedef enum zkfs_view {
    ZKFS_VIEW_MAIN = 0,       /* the tree itself: files and directories */
    ZKFS_VIEW_CTL = 1,        /* the `.zk` directory itself */
    ZKFS_VIEW_DATA = 2,       /* `.zk/data/<path>/`: every znode a directory */
    ZKFS_VIEW_DATAFILE = 3,   /* `.zk/data/<path>/@data`: a znode's data */
    ZKFS_VIEW_EPH = 4,        /* `.zk/ephemeral/<path>` */
    ZKFS_VIEW_SEQ = 5,        /* `.zk/sequential/<path>` */
    ZKFS_VIEW_EPHSEQ = 6,     /* `.zk/ephemeral-sequential/<path>` */
    ZKFS_VIEW_CREATED = 7,    /* a file created through one of the three above */
} zkfs_view;

/* Name of the control directory at the mount's root. */
#define ZKFS_CTL_NAME ".zk"
/* The reserved data file name inside `.zk/data/<path>/`. */
#define ZKFS_DATA_FILE_NAME "@data"
/* Bytes of a request that are not data (subtracted from jute.maxbuffer). */
#define ZKFS_REQUEST_OVERHEAD 1024
/* Default jute.maxbuffer of ZooKeeper servers. */
#define ZKFS_DEFAULT_MAXBUFFER 0xfffff
/* Largest subtree a directory rename moves in one multi. */
#define ZKFS_RENAME_MAX_NODES 1000

/*
 * True if the znode is shown as a directory in the main tree
 * (docs/filesystem.md section 1): it has a child that is not a lock
 * contender (lock_children of its st->num_children children are), or it
 * is persistent, childless, empty and its data was never set (version 0:
 * what mkdir and `zkCli create /x` make).  An empty znode whose data was
 * set (touch, `: > f`, truncate to 0) is a file.
 */
bool zkfs_is_dir(const zk_stat *st, int32_t lock_children);

/*
 * Lock contenders (docs/filesystem.md section 6): children named as the
 * lock recipes name them, a 10-digit sequence number at the end after
 * "__lock__" (kazoo Lock, zkfs), "__rlock__" (kazoo ReadLock, zkfs shared)
 * or "lock-" (Curator InterProcessMutex).  Hidden from the main tree.
 * Returns true for such a name and sets *shared (an "__rlock__") and
 * *seq (the sequence number) when they are not NULL.
 */
bool zkfs_lock_name_parse(const char *name, bool *shared, int64_t *seq);
/* Number of lock contender names among names (GPtrArray of char*). */
int32_t zkfs_count_lock_names(const GPtrArray *names);

/* The create mode of a creation view (EPH, SEQ, EPHSEQ); -1 for others. */
int zkfs_view_create_mode(zkfs_view view);

/* The view a name inside `.zk` selects ("data", "ephemeral", ...), or -1. */
int zkfs_ctl_entry_view(const char *name);
/* The names of the `.zk` entries, NULL-terminated (static storage). */
const char *const *zkfs_ctl_entry_names(void);

/*
 * st_ino of a znode: a 61-bit hash of (czxid, path) with the view in the
 * top 3 bits; never 0 or 1.  path is not kept.
 */
uint64_t zkfs_ino(zkfs_view view, int64_t czxid, const char *path);

/* The path of child `name` under `parent` ("/" + name for the root);
 * g_malloc'd, caller frees. */
char *zkfs_child_path(const char *parent, const char *name);
/* The parent of an absolute path ("/" for "/a" and for "/"); g_malloc'd. */
char *zkfs_parent_path(const char *path);
/* The last component of path (points into path; "" for "/"). */
const char *zkfs_base_name(const char *path);
/* True if path equals prefix or lies under it ("/a/b" is under "/a"). */
bool zkfs_path_under(const char *path, const char *prefix);

/* True if name is a valid znode path component (not ".", "..", no '/',
 * nothing ZooKeeper forbids). */
bool zkfs_name_valid(const char *name);

/*
 * `.zk/data` escaping.  zkfs_data_name_for_child gives the directory name
 * showing a real child (one more '@' in front of names starting with '@');
 * g_malloc'd.  zkfs_child_for_data_name undoes it: returns the child's name
 * (g_malloc'd) or NULL for a name that cannot denote a child (the reserved
 * "@data" and other single-'@' names); *is_data_file tells "@data".
 */
char *zkfs_data_name_for_child(const char *child);
char *zkfs_child_for_data_name(const char *name, bool *is_data_file);

/* errno for a ZooKeeper error code (docs/filesystem.md section 9); 0 for ZOK. */
int zkfs_errno(int zk_err);

/*
 * The digest id ZooKeeper stores for "user:password": "user:" +
 * base64(sha1("user:password")).  g_malloc'd; NULL if no ':' in it.
 */
char *zkfs_digest_id(const char *user_password);

/*
 * Permission bits (0..0777, no type bits) derived from an ACL: owner bits
 * from the entries matching world:anyone or digest_id (may be NULL), group
 * and other bits from world:anyone.  READ -> r; WRITE -> w on files;
 * CREATE|DELETE -> w on directories; directories get x with r.
 */
mode_t zkfs_mode_from_acl(const zkc_acl_entry *acl, size_t n_acl, bool is_dir,
                          const char *digest_id);

/* The ACL reduced to what permission bits need: the ZooKeeper perms
 * granted to the mount (world:anyone + digest_id) in bits 0..4 and those of
 * world:anyone in bits 8..12. */
uint32_t zkfs_acl_summary(const zkc_acl_entry *acl, size_t n_acl, const char *digest_id);
/* Permission bits (0..0777) of a zkfs_acl_summary for a file or directory. */
mode_t zkfs_mode_from_summary(uint32_t summary, bool is_dir);

/* zkCli's letters for perms in "cdrwa" order ("cdrwa", "r", ...); buf >= 6. */
void zkfs_perm_letters(int32_t perms, char buf[6]);

/* Formats a zxid as zkCli: "0x" + lowercase hex.  buf >= 20. */
void zkfs_format_zxid(int64_t zxid, char buf[20]);
/* Formats ms since the epoch as zkCli (java.util.Date.toString in local
 * time): "Sun Nov 22 12:24:19 UTC 2026".  buf >= 64. */
void zkfs_format_time(int64_t ms, char buf[64]);

/* The names of the Stat xattrs plus user.zk.acl and user.zk.path,
 * NULL-terminated (static storage). */
const char *const *zkfs_xattr_names(void);
/* True if name is one of the Stat xattrs (answered from a Stat). */
bool zkfs_xattr_is_stat(const char *name);
/* Value of a Stat xattr ("user.zk.czxid", ...) as a g_malloc'd string;
 * NULL if name is not a Stat xattr. */
char *zkfs_xattr_stat_value(const char *name, const zk_stat *st);
/* user.zk.acl's value: "scheme:id:letters\n" per entry; g_malloc'd. */
char *zkfs_xattr_acl_value(const zkc_acl_entry *acl, size_t n_acl);
/*
 * Parses a value written to user.zk.acl: entries "scheme:id:letters"
 * separated by newlines or commas (the id may hold ':', as digest ids do;
 * letters from "cdrwa", at least one).  Returns one g_malloc'd block (the
 * zkc_acl, its entries and strings: g_free) or NULL if malformed or empty.
 */
zkc_acl *zkfs_acl_parse(const char *value, size_t len);

#endif
