/*
 * peer.h — TCP links between replicas, owned by the event loop.
 *
 * Two channels, as in Apache ZooKeeper:
 *   PEER_ELECTION  a full mesh on the election ports; for every pair the
 *                  server with the HIGHER sid dials the lower one (so a pair
 *                  never has two connections), and keeps re-dialling while
 *                  the link is down;
 *   PEER_QUORUM    learner -> leader links on the leader's quorum port; a
 *                  learner dials the leader it was told about
 *                  (peer_set_leader) and keeps re-dialling; the leader
 *                  accepts any number of learners.
 * Every connection starts with a hello frame naming the sender's sid and the
 * channel; afterwards each frame is a 4-byte big-endian length + payload
 * (an empty frame is a probe, ignored by the receiver).  peer.c bounds what
 * a connection may make a replica do (see the comment at its top).
 * A link is FIFO; when it breaks, what was in flight is lost and the owner
 * is told (lost callback) — exactly the model the Zab simulation assumes.
 */
#ifndef ZK_PEER_H
#define ZK_PEER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "loop.h"

enum { PEER_ELECTION = 0, PEER_QUORUM = 1 };

/* Inbound connections per port that have not sent their hello yet; past
 * this the oldest one is dropped. */
#define PEER_MAX_PENDING 16

typedef struct peer_net peer_net;

/* A complete frame from sid on channel; msg is valid during the call only. */
typedef void (*peer_recv_fn)(void *ctx, int sid, int channel, const uint8_t *msg, size_t len);
/* The link to sid on channel broke (or was refused). */
typedef void (*peer_lost_fn)(void *ctx, int sid, int channel);
/* A link to sid on channel is up (after the hello). */
typedef void (*peer_up_fn)(void *ctx, int sid, int channel);

/*
 * Listens on this server's quorum and election ports (from cfg->peers and
 * cfg->myid) and starts dialling.  Returns NULL with *err on failure.
 * cfg and ctx are borrowed and must outlive the net.
 */
peer_net *peer_net_new(zk_loop *loop, const zk_config *cfg, peer_recv_fn recv, peer_lost_fn lost,
                       peer_up_fn up, void *ctx, char **err);
void peer_net_free(peer_net *n);
/* Queues a frame to sid on channel; dropped (returns -1) if there is no
 * link.  It is written by the next peer_flush (before the loop sleeps). */
int peer_send(peer_net *n, int sid, int channel, const uint8_t *msg, size_t len);
/* Writes the output queued on the links since the last call; call before
 * the loop sleeps, outside the Zab core (a link whose write fails is
 * closed and its lost callback runs).  A socket that does not take all of
 * it is written when it becomes writable. */
void peer_flush(peer_net *n);
/* True if a link to sid on channel is up. */
int peer_connected(const peer_net *n, int sid, int channel);
/* Learners: dial this leader's quorum port (0 = none; drops the old link). */
void peer_set_leader(peer_net *n, int leader_sid);
/* Closes the link to sid on channel (the lost callback is called). */
void peer_drop(peer_net *n, int sid, int channel);
/* The parsing of what arrives on a link, shared by the socket code here
 * and the fuzz harness (the policy on top, which sids a link may claim,
 * stays in peer.c): a hello frame is 12 bytes, magic "zkfs", sid, channel;
 * false if p is no hello. */
bool peer_hello_decode(const uint8_t *p, size_t len, int *sid, int *channel);
/* The next frame in buf[0..avail): returns the bytes it takes (length
 * prefix included) with *frame and *len set, 0 if it is not complete yet,
 * -1 if its length is over limit. */
long peer_frame_next(const uint8_t *buf, size_t avail, size_t limit, const uint8_t **frame, size_t *len);
/* Periodic work: re-dial missing links (call from the loop timer). */
void peer_tick(peer_net *n);
/* Bytes queued to sid on channel and not yet written (for back-pressure). */
size_t peer_backlog(const peer_net *n, int sid, int channel);
/*
 * The established link to sid on channel: its remote "host:port" copied
 * into addr (addr_len bytes, NUL-terminated; addr may be NULL), the bytes
 * queued and not yet written, and how many frames those belong to (the
 * frames queued since the output was last empty: an upper bound while a
 * frame is half written).  False when there is no established link.
 */
bool peer_link_info(const peer_net *n, int sid, int channel, char *addr, size_t addr_len, size_t *queued_bytes,
                    uint64_t *queued_frames);
/* The largest frame a leader accepts from a learner (FORWARD, TOUCH, Zab):
 * jute.maxbuffer for the request plus 2 MiB for the connection's
 * identities (bounded by AUTH_MAX_ID_BYTES) and the headers.  Learners
 * never send more. */
size_t peer_quorum_request_limit(const zk_config *cfg);

#endif
