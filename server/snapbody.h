/*
 * snapbody.h — the body of a zkserver snapshot file: the serialised data
 * tree (tree_serialize) followed by the session table (int32 count, then
 * int64 session id + int32 timeout per session).  The byte layout is in
 * docs/formats.md; this module reads and writes it without a server, for
 * persist.c and for the data-directory tool.
 */
#ifndef ZK_SNAPBODY_H
#define ZK_SNAPBODY_H

#include <glib.h>
#include <stdint.h>

#include "tree.h"
#include "zk/jute.h"

/* One session of the table. */
typedef struct snap_session {
    int64_t id;
    int32_t timeout;    /* negotiated, ms */
} snap_session;

/* Appends a body: the tree, then the n sessions in the order given. */
void snapbody_write(jute_writer *w, const zk_tree *t, const snap_session *sessions, size_t n);

/*
 * Parses a body.  Returns a new tree (caller frees with tree_free; its
 * deliver hook is unset) and sets *sessions to a new GArray of snap_session
 * in file order (caller frees); or returns NULL with *err (g_strdup'd)
 * naming what is malformed.  Bytes after the session table are ignored.
 */
zk_tree *snapbody_read(const uint8_t *body, size_t len, GArray **sessions, char **err);

#endif
