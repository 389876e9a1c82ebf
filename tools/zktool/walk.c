/* walk.c — iterative pre-order walk of a tree (see walk.h). */
#include "walk.h"

typedef struct frame {
    const zk_node *node;
    jset_entry *next;       /* the next child to enter */
} frame;

void zt_walk(const zk_node *root, void (*enter)(void *ctx, const zk_node *n),
             void (*leave)(void *ctx, const zk_node *n), void *ctx)
{
    GArray *stack = g_array_new(FALSE, FALSE, sizeof(frame));
    enter(ctx, root);
    frame f = { root, jset_first(&root->children) };
    g_array_append_val(stack, f);
    while (stack->len > 0) {
        frame *top = &g_array_index(stack, frame, stack->len - 1);
        jset_entry *e = top->next;
        if (!e) {
            if (leave)
                leave(ctx, top->node);
            g_array_set_size(stack, stack->len - 1);
            continue;
        }
        top->next = jset_next(&top->node->children, e);
        const zk_node *child = e->value;
        enter(ctx, child);
        frame c = { child, jset_first(&child->children) };
        g_array_append_val(stack, c);
    }
    g_array_free(stack, TRUE);
}
