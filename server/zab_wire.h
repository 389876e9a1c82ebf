/*
 * zab_wire.h — the byte encoding of zab_msg for the peer links (the
 * project's own peer protocol, documented in docs/zab.md).  Big-endian,
 * written and read with include/zk/jute.h; decoding is bounds-checked and
 * rejects unknown types, bad field values and trailing bytes.
 */
#ifndef ZK_ZAB_WIRE_H
#define ZK_ZAB_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "zab.h"
#include "zk/jute.h"

#define ZAB_WIRE_VERSION 1
/* Largest payload (txn or snapshot blob) a frame may carry. */
#define ZAB_WIRE_MAX_DATA (1u << 30)

/* Appends the encoding of m to w (no outer length prefix: the link frames). */
void zab_wire_encode(jute_writer *w, const zab_msg *m);
/*
 * Decodes one whole message from buf[0..len).  On success returns 0 and
 * fills *m, with m->data pointing INTO buf (borrowed: valid while buf is);
 * on malformed input returns -1 and *m is zeroed.
 */
int zab_wire_decode(const uint8_t *buf, size_t len, zab_msg *m);

#endif
