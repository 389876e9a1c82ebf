/*
 * proto.h — Apache ZooKeeper's client protocol (zookeeper.jute, 3.5–3.9):
 * opcodes, error codes, event types, flags, and the records exchanged on
 * the client port, with decoders and encoders built on jute.h.
 *
 * Decoders fill structs whose strings and buffers are views into the
 * frame being decoded (no allocation); vectors are kept as a zk_vec (count
 * plus the raw encoded elements) and walked with zk_vec_iter().  Every
 * decoder returns false if the record was truncated or malformed.
 */
#ifndef ZK_PROTO_H
#define ZK_PROTO_H

#include "zk/jute.h"

/* Opcodes (ZooDefs.OpCode). */
enum {
    ZK_OP_NOTIFICATION = 0,
    ZK_OP_CREATE = 1,
    ZK_OP_DELETE = 2,
    ZK_OP_EXISTS = 3,
    ZK_OP_GETDATA = 4,
    ZK_OP_SETDATA = 5,
    ZK_OP_GETACL = 6,
    ZK_OP_SETACL = 7,
    ZK_OP_GETCHILDREN = 8,
    ZK_OP_SYNC = 9,
    ZK_OP_PING = 11,
    ZK_OP_GETCHILDREN2 = 12,
    ZK_OP_CHECK = 13,
    ZK_OP_MULTI = 14,
    ZK_OP_CREATE2 = 15,
    ZK_OP_RECONFIG = 16,
    ZK_OP_CHECKWATCHES = 17,
    ZK_OP_REMOVEWATCHES = 18,
    ZK_OP_CREATECONTAINER = 19,
    ZK_OP_DELETECONTAINER = 20,
    ZK_OP_CREATETTL = 21,
    ZK_OP_MULTIREAD = 22,
    ZK_OP_AUTH = 100,
    ZK_OP_SETWATCHES = 101,
    ZK_OP_SASL = 102,
    ZK_OP_GETEPHEMERALS = 103,
    ZK_OP_GETALLCHILDRENNUMBER = 104,
    ZK_OP_SETWATCHES2 = 105,
    ZK_OP_ADDWATCH = 106,
    ZK_OP_WHOAMI = 107,
    ZK_OP_CREATESESSION = -10,
    ZK_OP_CLOSESESSION = -11,
    ZK_OP_ERROR = -1,
};

/* Special xids. */
enum {
    ZK_XID_NOTIFICATION = -1,
    ZK_XID_PING = -2,
    ZK_XID_AUTH = -4,
    ZK_XID_SETWATCHES = -8,
};

/* Error codes (KeeperException.Code). */
enum {
    ZOK = 0,
    ZSYSTEMERROR = -1,
    ZRUNTIMEINCONSISTENCY = -2,
    ZDATAINCONSISTENCY = -3,
    ZCONNECTIONLOSS = -4,
    ZMARSHALLINGERROR = -5,
    ZUNIMPLEMENTED = -6,
    ZOPERATIONTIMEOUT = -7,
    ZBADARGUMENTS = -8,
    ZNEWCONFIGNOQUORUM = -13,
    ZRECONFIGINPROGRESS = -14,
    ZUNKNOWNSESSION = -12,
    ZAPIERROR = -100,
    ZNONODE = -101,
    ZNOAUTH = -102,
    ZBADVERSION = -103,
    ZNOCHILDRENFOREPHEMERALS = -108,
    ZNODEEXISTS = -110,
    ZNOTEMPTY = -111,
    ZSESSIONEXPIRED = -112,
    ZINVALIDCALLBACK = -113,
    ZINVALIDACL = -114,
    ZAUTHFAILED = -115,
    ZCLOSING = -116,
    ZNOTHING = -117,
    ZSESSIONMOVED = -118,
    ZNOTREADONLY = -119,
    ZEPHEMERALONLOCALSESSION = -120,
    ZNOWATCHER = -121,
    ZRECONFIGDISABLED = -123,
    ZSESSIONCLOSEDREQUIRESASLAUTH = -124,
    ZQUOTAEXCEEDED = -125,          /* a hard quota limit (enforceQuota) */
    ZTHROTTLEDOP = -127,
};

/* Watcher event types and keeper states. */
enum {
    ZK_EVENT_NONE = -1,
    ZK_EVENT_CREATED = 1,
    ZK_EVENT_DELETED = 2,
    ZK_EVENT_DATA_CHANGED = 3,
    ZK_EVENT_CHILD_CHANGED = 4,
    ZK_EVENT_CHILD_WATCH_REMOVED = 5,
    ZK_EVENT_DATA_WATCH_REMOVED = 6,
    ZK_EVENT_PERSISTENT_WATCH_REMOVED = 7,
};
enum {
    ZK_STATE_DISCONNECTED = 0,
    ZK_STATE_SYNC_CONNECTED = 3,
    ZK_STATE_AUTH_FAILED = 4,
    ZK_STATE_CONNECTED_READONLY = 5,
    ZK_STATE_SASL_AUTHENTICATED = 6,
    ZK_STATE_EXPIRED = -112,
    ZK_STATE_CLOSED = 7,
};

/* Create modes (CreateMode.toFlag). */
enum {
    ZK_CREATE_PERSISTENT = 0,
    ZK_CREATE_EPHEMERAL = 1,
    ZK_CREATE_PERSISTENT_SEQUENTIAL = 2,
    ZK_CREATE_EPHEMERAL_SEQUENTIAL = 3,
    ZK_CREATE_CONTAINER = 4,
    ZK_CREATE_PERSISTENT_WITH_TTL = 5,
    ZK_CREATE_PERSISTENT_SEQUENTIAL_WITH_TTL = 6,
};

/* Permissions. */
enum {
    ZK_PERM_READ = 1,
    ZK_PERM_WRITE = 2,
    ZK_PERM_CREATE = 4,
    ZK_PERM_DELETE = 8,
    ZK_PERM_ADMIN = 16,
    ZK_PERM_ALL = 31,
};

/* WatcherType for checkWatches/removeWatches, and addWatch modes. */
enum { ZK_WATCHER_CHILDREN = 1, ZK_WATCHER_DATA = 2, ZK_WATCHER_ANY = 3 };
enum { ZK_ADDWATCH_PERSISTENT = 0, ZK_ADDWATCH_PERSISTENT_RECURSIVE = 1 };

/* A vector as found on the wire: count (-1 = null) and its encoded body. */
typedef struct zk_vec {
    int32_t count;
    jute_view raw;
} zk_vec;

typedef struct zk_stat {
    int64_t czxid, mzxid, ctime, mtime;
    int32_t version, cversion, aversion;
    int64_t ephemeral_owner;
    int32_t data_length, num_children;
    int64_t pzxid;
} zk_stat;

typedef struct zk_id {
    jute_view scheme;
    jute_view id;
} zk_id;

typedef struct zk_acl {
    int32_t perms;
    zk_id id;
} zk_acl;

typedef struct zk_connect_request {
    int32_t protocol_version;
    int64_t last_zxid_seen;
    int32_t timeout;
    int64_t session_id;
    jute_view passwd;
    bool read_only;
    bool has_read_only;  /* old clients omit the trailing boolean */
} zk_connect_request;

typedef struct zk_connect_response {
    int32_t protocol_version;
    int32_t timeout;
    int64_t session_id;
    jute_view passwd;
    bool read_only;
} zk_connect_response;

typedef struct zk_request_header { int32_t xid; int32_t type; } zk_request_header;
typedef struct zk_reply_header { int32_t xid; int64_t zxid; int32_t err; } zk_reply_header;
typedef struct zk_multi_header { int32_t type; bool done; int32_t err; } zk_multi_header;

typedef struct zk_create_request {
    jute_view path;
    jute_view data;
    zk_vec acl;
    int32_t flags;
    int64_t ttl;       /* only for ZK_OP_CREATETTL; else -1 */
} zk_create_request;

typedef struct zk_path_version_request {  /* Delete, CheckVersion */
    jute_view path;
    int32_t version;
} zk_path_version_request;

typedef struct zk_path_watch_request {    /* Exists, GetData, GetChildren(2) */
    jute_view path;
    bool watch;
} zk_path_watch_request;

typedef struct zk_set_data_request {
    jute_view path;
    jute_view data;
    int32_t version;
} zk_set_data_request;

typedef struct zk_set_acl_request {
    jute_view path;
    zk_vec acl;
    int32_t version;
} zk_set_acl_request;

typedef struct zk_path_type_request {     /* CheckWatches, RemoveWatches, AddWatch(mode) */
    jute_view path;
    int32_t type;
} zk_path_type_request;

typedef struct zk_set_watches {
    int64_t relative_zxid;
    zk_vec data, exist, child;
    zk_vec persistent, persistent_recursive; /* SetWatches2 only; count 0 otherwise */
} zk_set_watches;

typedef struct zk_auth_packet {
    int32_t type;
    jute_view scheme;
    jute_view auth;
} zk_auth_packet;

typedef struct zk_watcher_event {
    int32_t type;
    int32_t state;
    jute_view path;
} zk_watcher_event;

/* Decoders: return false on a truncated or malformed record. */
bool zk_stat_read(jute_reader *r, zk_stat *s);
bool zk_id_read(jute_reader *r, zk_id *id);
bool zk_acl_read(jute_reader *r, zk_acl *a);
/* Reads a vector header and captures its elements without decoding them:
 * the elements are walked once to find their extent (elem_skip reads one). */
bool zk_vec_read(jute_reader *r, zk_vec *v, void (*elem_skip)(jute_reader *));
/* Starts a reader over a vector's elements. */
void zk_vec_iter(const zk_vec *v, jute_reader *it);
void zk_skip_string(jute_reader *r);
void zk_skip_acl(jute_reader *r);

bool zk_connect_request_read(jute_reader *r, zk_connect_request *c);
bool zk_connect_response_read(jute_reader *r, zk_connect_response *c);
bool zk_request_header_read(jute_reader *r, zk_request_header *h);
bool zk_reply_header_read(jute_reader *r, zk_reply_header *h);
bool zk_multi_header_read(jute_reader *r, zk_multi_header *h);
/* For ZK_OP_CREATE, CREATE2, CREATECONTAINER (no ttl) and CREATETTL. */
bool zk_create_request_read(jute_reader *r, int32_t op, zk_create_request *c);
bool zk_path_version_request_read(jute_reader *r, zk_path_version_request *d);
bool zk_path_watch_request_read(jute_reader *r, zk_path_watch_request *g);
bool zk_path_request_read(jute_reader *r, jute_view *path);
bool zk_set_data_request_read(jute_reader *r, zk_set_data_request *s);
bool zk_set_acl_request_read(jute_reader *r, zk_set_acl_request *s);
bool zk_path_type_request_read(jute_reader *r, zk_path_type_request *p);
/* For ZK_OP_SETWATCHES (v1) and ZK_OP_SETWATCHES2. */
bool zk_set_watches_read(jute_reader *r, int32_t op, zk_set_watches *w);
bool zk_auth_packet_read(jute_reader *r, zk_auth_packet *a);
bool zk_watcher_event_read(jute_reader *r, zk_watcher_event *e);

/* Encoders. */
void zk_stat_write(jute_writer *w, const zk_stat *s);
void zk_acl_write(jute_writer *w, const zk_acl *a);
void zk_connect_request_write(jute_writer *w, const zk_connect_request *c);
void zk_connect_response_write(jute_writer *w, const zk_connect_response *c);
void zk_request_header_write(jute_writer *w, const zk_request_header *h);
void zk_reply_header_write(jute_writer *w, const zk_reply_header *h);
void zk_multi_header_write(jute_writer *w, const zk_multi_header *h);
void zk_watcher_event_write(jute_writer *w, const zk_watcher_event *e);

/* Human-readable names, for logs and 4lw output. */
const char *zk_op_name(int32_t op);
const char *zk_error_name(int32_t err);

#endif
