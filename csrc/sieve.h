/*
 * sieve.h: the state of SIEVECache's policy (sieve.c) and its hit path.
 *
 * SIEVE (Zhang et al., "SIEVE is Simpler than LRU", NSDI'24): the entries stay in one FIFO
 * queue, the cache's order list (head: the oldest). A hit only sets the entry's visited bit
 * (c->marks[ix], one byte per entry, parallel to the entries); eviction moves a hand from
 * the oldest entry towards the newest, clearing visited bits, until it finds an unvisited
 * entry, which goes; the hand stays there for the next eviction (past the newest it wraps
 * to the oldest).
 */
#ifndef FC_SIEVE_H
#define FC_SIEVE_H

#include "list.h"

#define FC_SIEVE_VISITED 0x01
#define FC_SIEVE_HAND    0x02   /* pickled marks only: this entry is under the hand */

typedef struct {
    fc_idx hand;        /* where the next eviction starts; FC_NIL: at the oldest */
} fc_sieve;

/* A hit: one byte store. */
static inline void
fc_sieve_touch(uint8_t *marks, fc_idx ix)
{
    marks[ix] = FC_SIEVE_VISITED;
}

#endif /* FC_SIEVE_H */
