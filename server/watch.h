/*
 * watch.h — the watch manager: which watcher (a client connection) watches
 * which path, with which mode, and who is told when a path changes.  The
 * server keeps two of them, as Apache does: one for data/exists watches and
 * one for child watches.  Semantics follow Apache 3.8's WatchManager:
 * one mode per (watcher, path); a standard watch fires once and is removed;
 * a persistent one fires and stays; a persistent recursive one fires for
 * its path and every descendant, except for NodeChildrenChanged.
 *
 * Watchers are opaque pointers owned by the caller; the caller must call
 * watch_remove_watcher() before freeing one.
 */
#ifndef ZK_WATCH_H
#define ZK_WATCH_H

#include <glib.h>
#include <stdbool.h>

enum { WATCH_STANDARD = 0, WATCH_PERSISTENT = 1, WATCH_PERSISTENT_RECURSIVE = 2 };

typedef struct watch_mgr watch_mgr;

/* Called once per watcher that a trigger fires. */
typedef void (*watch_deliver_fn)(void *ctx, void *watcher, int event_type, const char *path);

watch_mgr *watch_mgr_new(void);
void watch_mgr_free(watch_mgr *m);
/* Adds (or re-modes) the watch of `watcher` on `path`. */
void watch_add(watch_mgr *m, const char *path, void *watcher, int mode);
/*
 * Fires the watches that an event of `event_type` on `path` triggers,
 * skipping watchers in `suppress` (a set, may be NULL).  If `fired` is not
 * NULL, the watchers that were triggered are added to it (a set of pointers).
 * Returns how many watchers the event triggered (suppressed ones included,
 * as Apache's WatchManager counts them in node_*_watch_count).
 */
guint watch_trigger(watch_mgr *m, const char *path, int event_type, GHashTable *suppress,
                   GHashTable *fired, watch_deliver_fn deliver, void *ctx);
/* Removes the watch of `watcher` on exactly `path`; true if there was one. */
bool watch_remove(watch_mgr *m, const char *path, void *watcher);
/* Apache's containsWatcher: a watch on path, or a recursive one above it. */
bool watch_contains(watch_mgr *m, const char *path, void *watcher);
/*
 * Whether Apache's containsWatcher(path, watcher) on this manager throws
 * instead of answering: its PathParentIterator.next() computes the parent
 * of each element it returns with path.substring(0, path.lastIndexOf('/')),
 * which throws for an element without '/' other than "/".  The first
 * element is always computed; parents only when the leaf check said no and
 * the manager holds a recursive watch (PathParentIterator.forAll).
 * checkWatches then fails with MARSHALLINGERROR.
 */
bool watch_contains_throws(watch_mgr *m, const char *path, void *watcher);
/* Removes every watch of `watcher` (connection closed). */
void watch_remove_watcher(watch_mgr *m, void *watcher);
/* Number of paths `watcher` watches in this manager (O(1)). */
guint watch_count_of(const watch_mgr *m, const void *watcher);
/* Counters for the wchs 4lw and mntr. */
guint watch_watcher_count(const watch_mgr *m);
guint watch_path_count(const watch_mgr *m);
guint watch_total(const watch_mgr *m);
/* Iteration for wchc/wchp: calls fn(path, watcher) for every watch. */
void watch_foreach(watch_mgr *m, void (*fn)(void *ctx, const char *path, void *watcher), void *ctx);

#endif
