/*
 * loadgen.h — the closed-loop load driver shared by the two benchmark
 * clients: bin/zkbench (the project's client library) and bin/zkload (only
 * the official Apache C client, libzookeeper_mt).  The driver knows nothing
 * about either library: it owns the sessions' in-flight windows, the
 * operation mix, the timing window, latency statistics and the output; a
 * backend (lg_backend) opens sessions and sends one operation
 * asynchronously, reporting its completion with lg_complete().
 *
 * Output protocol on stdout (one line each, flushed):
 *   START <monotonic_us>    the measured window begins
 *   STOP <monotonic_us>     it ends (in-flight requests are then drained)
 *   EPOCH <epoch> <monotonic_us>   (--epochs) first success of a new zxid epoch
 *   RESULT {json}           the figures of the window
 * Everything else goes to stderr.  tools/bench/bench.py samples the
 * servers' /proc/PID/stat when it reads START and STOP.
 */
#ifndef ZK_BENCH_LOADGEN_H
#define ZK_BENCH_LOADGEN_H

#include <stdint.h>

/* The operation kinds a backend must send. */
typedef enum lg_kind {
    LG_CREATE,      /* create path with data, persistent, open ACL */
    LG_DELETE,      /* delete path, any version */
    LG_SET,         /* setData path, any version */
    LG_GET,         /* getData path, no watch */
    LG_EXISTS,      /* exists path, no watch */
    LG_CHILDREN,    /* getChildren path, no watch */
    LG_MULTI_SET,   /* multi of npaths setData ops */
} lg_kind;

/* How many setData ops one multi case carries. */
#define LG_MULTI_OPS 10

/* One operation to send.  Everything it points to belongs to the driver and
 * stays valid until the completion is reported. */
typedef struct lg_op {
    lg_kind kind;
    const char *path;                 /* every kind but LG_MULTI_SET */
    const char *paths[LG_MULTI_OPS];  /* LG_MULTI_SET */
    int npaths;
    const char *data;                 /* create / set / multi */
    int data_len;
} lg_op;

typedef struct lg_slot lg_slot;

/* A client library seen through the four calls the driver needs. */
typedef struct lg_backend {
    const char *name;
    /* Starts opening one session to servers (connects in the background).
     * Returns an opaque session owned by the driver until close(), or NULL
     * (message on stderr). */
    void *(*open)(const char *servers);
    /* Waits at most timeout_ms until session is connected; 0 when it is. */
    int (*wait)(void *session, int timeout_ms);
    /* Closes a session opened by open(). */
    void (*close)(void *session);
    /* Sends op asynchronously on session.  Returns 0 when it was queued;
     * then lg_complete(slot, ...) is called exactly once, from any thread.
     * Any other return is the ZooKeeper error and no completion follows.
     * The backend may keep per-slot state in *lg_slot_backend_data(slot). */
    int (*issue)(void *session, const lg_op *op, lg_slot *slot);
} lg_backend;

/* Reports the completion of the operation sent with slot: err is the
 * ZooKeeper error code (0 = ZOK), zxid the modified zxid of the node when
 * the reply carries a Stat (set, multi), else 0. */
void lg_complete(lg_slot *slot, int err, int64_t zxid);

/* Per-slot storage for the backend (initially NULL, kept across reuses of
 * the slot, freed by the backend's free() of choice: the driver never
 * frees it; slots live until the process exits). */
void **lg_slot_backend_data(lg_slot *slot);

/* Parses argv (see loadgen.c's usage text), runs the benchmark with backend
 * and returns the process exit code. */
int lg_main(const lg_backend *backend, int argc, char **argv);

#endif
