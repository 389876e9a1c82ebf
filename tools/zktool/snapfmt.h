/*
 * snapfmt.h — a snapshot printed as Apache's SnapshotFormatter
 * (zkSnapShotToolkit.sh) prints it: the znode details, the session
 * details, the last zxid; its -d (data in Base64) and -json (ncdu) modes;
 * and zktool's own one-screen summary.
 */
#ifndef ZKTOOL_SNAPFMT_H
#define ZKTOOL_SNAPFMT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "snapbody.h"
#include "tree.h"

/* SnapshotFormatter.printDetails; sessions in file order; name_zxid is
 * Util.getZxidFromName of the file name (-1 if it has none). */
void snapfmt_details(GString *out, const zk_tree *t, const snap_session *sessions, size_t n,
                     int64_t name_zxid, bool dump_data);

/* SnapshotFormatter.printSnapshotJson (no final newline, as Apache). */
void snapfmt_json(GString *out, const zk_tree *t, int64_t timestamp_ms);

/* Counts, sizes and the Apache tree digest of a snapshot. */
void snapfmt_summary(GString *out, const zk_tree *t, size_t sessions, int64_t zxid);

#endif
