/*
 * walk.h — a pre-order walk of a zk_tree (children in HashSet order, as
 * Apache's serializeNode and SnapshotFormatter visit them) with an explicit
 * stack, so that a chain of nodes as deep as a snapshot can hold never
 * overflows the C stack.
 */
#ifndef ZKTOOL_WALK_H
#define ZKTOOL_WALK_H

#include "tree.h"

/* enter(ctx, n) before n's children, leave(ctx, n) after them (leave may
 * be NULL). */
void zt_walk(const zk_node *root, void (*enter)(void *ctx, const zk_node *n),
             void (*leave)(void *ctx, const zk_node *n), void *ctx);

#endif
