/*
 * list.h: intrusive doubly linked lists threaded through 32-bit entry numbers.
 *
 * FC_LIST_OPS(name, node_type, prev, next) defines, for nodes of `node_type` in one array
 * whose fields `prev`/`next` hold the links, the operations on an fc_list {head, tail}:
 *   name_unlink(nodes, list, ix)
 *   name_insert_after(nodes, list, ix, after)   after == FC_NIL: at the head
 *   name_append(nodes, list, ix)                at the tail
 *   name_move_to_tail(nodes, list, ix)
 * The cache classes and the decorators thread their eviction order through the entries
 * (fc_list_*); the decorators' TTL thread their write order through a parallel array.
 * Head is evicted first.
 */
#ifndef FC_LIST_H
#define FC_LIST_H

#include "table.h"

typedef struct {
    fc_idx head, tail;
} fc_list;

#define FC_LIST_OPS(name, node_type, PREV, NEXT)                                          \
    static inline void name##_unlink(node_type *n, fc_list *l, fc_idx ix)                 \
    {                                                                                     \
        fc_idx p = n[ix].PREV, q = n[ix].NEXT;                                            \
        if (p != FC_NIL) n[p].NEXT = q; else l->head = q;                                 \
        if (q != FC_NIL) n[q].PREV = p; else l->tail = p;                                 \
    }                                                                                     \
    static inline void name##_insert_after(node_type *n, fc_list *l, fc_idx ix,          \
                                           fc_idx after)                                  \
    {                                                                                     \
        n[ix].PREV = after;                                                               \
        n[ix].NEXT = (after == FC_NIL) ? l->head : n[after].NEXT;                         \
        if (n[ix].NEXT != FC_NIL) n[n[ix].NEXT].PREV = ix; else l->tail = ix;             \
        if (after != FC_NIL) n[after].NEXT = ix; else l->head = ix;                       \
    }                                                                                     \
    static inline void name##_append(node_type *n, fc_list *l, fc_idx ix)                 \
    {                                                                                     \
        name##_insert_after(n, l, ix, l->tail);                                           \
    }                                                                                     \
    static inline void name##_move_to_tail(node_type *n, fc_list *l, fc_idx ix)           \
    {                                                                                     \
        if (l->tail != ix) {                                                              \
            name##_unlink(n, l, ix);                                                      \
            name##_append(n, l, ix);                                                      \
        }                                                                                 \
    }

FC_LIST_OPS(fc_list, fc_entry, prev, next)

static inline void
fc_list_init(fc_list *l)
{
    l->head = l->tail = FC_NIL;
}

#endif /* FC_LIST_H */
