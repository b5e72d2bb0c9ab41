/*
 * sieve.c: SIEVECache's policy (sieve.h has the design). cache.c calls in from its policy
 * switches: fc_entry_link (fc_sieve_enter), fc_entry_remove (fc_sieve_leave), victim()
 * (fc_sieve_victim) and touch() (sieve.h's fc_sieve_touch).
 *
 * The algorithm is csrc/sim.c's run_sieve step for step: a replay of a trace through a
 * SIEVECache (unit sizes, `c[k]` on a hit, `c[k] = k` on a miss) hits exactly as often as
 * fastcache.simulate's "sieve" at the same capacity (tests/core/test_sim_agreement.py).
 * How the mapping differs from the simulator:
 *   1. c[k] = v over a present key counts as a hit (sets the visited bit); the simulator
 *      only reads.
 *   2. With getsizeof, the hand evicts unvisited entries until the value fits: capacity is
 *      in size units, the simulator's in entries.
 *   3. The entry being written (pinned, or `skip` while making room for its larger value)
 *      is passed over by the hand: its bit is left as it is.
 *   4. del/pop of the entry under the hand moves the hand to the next newer entry (the
 *      simulator never deletes).
 * The twin is fastcache/_py/sieve.py: the same algorithm and order; it differs in storage
 * only (two OrderedDicts split at the hand; the C keeps a hand index and one byte per entry),
 * and the two pickles are not interchangeable.
 */
#include "core.h"

void
fc_sieve_enter(CacheObject *c, fc_idx ix, uint64_t mark)
{
    fc_list_append(c->t.entries, &c->order, ix);
    c->marks[ix] = (uint8_t)(mark & FC_SIEVE_VISITED);
    if (mark & FC_SIEVE_HAND)
        c->sieve.hand = ix;
}

/* Before entry ix leaves the order list: the hand moves on to the next newer entry. */
void
fc_sieve_leave(CacheObject *c, fc_idx ix)
{
    if (c->sieve.hand == ix)
        c->sieve.hand = c->t.entries[ix].next;
}

/* The entry to evict, never `skip`; the caller removes it (which moves the hand past it).
 * There is one besides `skip` (victim() checked): the walk clears every other bit within
 * one turn. */
fc_idx
fc_sieve_victim(CacheObject *c, fc_idx skip)
{
    fc_entry *e = c->t.entries;
    uint8_t *marks = c->marks;
    fc_idx v = c->sieve.hand != FC_NIL ? c->sieve.hand : c->order.head;
    for (;;) {
        if (v != skip) {
            if (!marks[v])
                break;
            marks[v] = 0;
        }
        v = e[v].next;
        if (v == FC_NIL)
            v = c->order.head;
    }
    c->sieve.hand = v;
    return v;
}

/* The mark pickled with entry ix (its visited bit, FC_SIEVE_HAND under the hand). */
uint64_t
fc_sieve_pickled_mark(CacheObject *c, fc_idx ix)
{
    return c->marks[ix] | (c->sieve.hand == ix ? FC_SIEVE_HAND : 0);
}

int
fc_sieve_check(CacheObject *c, const char **what)
{
    int hand_found = c->sieve.hand == FC_NIL;
    FC_FOR_EACH_IN_ORDER(c, ix) {
        if (c->marks[ix] & ~FC_SIEVE_VISITED) {
            *what = "SIEVE visited bit";
            return -1;
        }
        hand_found |= ix == c->sieve.hand;
    }
    if (!hand_found) {
        *what = "SIEVE hand not on an entry";
        return -1;
    }
    return 0;
}
