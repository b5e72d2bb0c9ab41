/*
 * wheel.h: a hierarchical timer wheel (Varghese and Lauck, "Hashed and Hierarchical Timing
 * Wheels", 1987; the layout follows Caffeine's TimerWheel) that decides when expired entries
 * are reclaimed.
 *
 * Expiry itself stays exact: every entry keeps its own deadline (a double in the user's timer
 * units) and an access compares it with timer(). The wheel only makes reclamation cheap:
 * scheduling, cancelling and rescheduling are O(1), and advancing the clock visits only the
 * buckets whose span has been crossed (at most FC_WHEEL_SIZE per level) and the entries in them,
 * each either expired (reclaimed) or cascaded to a finer level. No pass ever scans live
 * entries that are not due.
 *
 * Level L holds entries due in [2^(6L), 2^(6(L+1))) ticks from now, in 64 buckets each spanning
 * 2^(6L) ticks; six levels span 2^36 ticks, and anything further is parked in the top level and
 * reconsidered each time its bucket comes round. The tick is derived from the timer's own
 * units (a sixteenth of the cache's ttl, or of the first delay seen), never from seconds
 * hard-coded here, so a counter timer that ticks 0, 1, 2, ... works as well as
 * time.monotonic.
 *
 * Exactness of expire(now): entries due within the current tick are not in a bucket but in a
 * small binary heap ordered by (deadline, scheduling order), so that an expire(now) within the
 * same tick pops exactly the entries due, in O(log k) each, and costs O(1) when none is due.
 * When the clock moves to a later tick the heap is drained (everything in it is due) and the
 * level-0 bucket of the new tick is poured into it.
 */
#ifndef FC_WHEEL_H
#define FC_WHEEL_H

#include <math.h>
#include "table.h"

#define FC_WHEEL_BITS 6
#define FC_WHEEL_SIZE (1 << FC_WHEEL_BITS)
#define FC_WHEEL_MASK (FC_WHEEL_SIZE - 1)
#define FC_WHEEL_LEVELS 6
#define FC_WHEEL_SPAN ((int64_t)1 << (FC_WHEEL_BITS * FC_WHEEL_LEVELS))
#define FC_UNSCHEDULED (-1)
#define FC_IN_HEAP (FC_WHEEL_LEVELS * FC_WHEEL_SIZE)  /* bucket id of the current-tick heap */

typedef struct {
    double deadline;   /* +inf: never expires, not scheduled */
    uint64_t seq;      /* scheduling order, to order ties */
    fc_idx prev, next; /* bucket list; in the heap, prev is the heap position */
    int32_t bucket;    /* level * FC_WHEEL_SIZE + slot, or FC_UNSCHEDULED */
    int32_t unused;
} fc_tnode;

typedef struct {
    fc_idx head[FC_WHEEL_LEVELS * FC_WHEEL_SIZE];
    fc_idx *heap;      /* entries due in the current tick; capacity >= entries (never grows
                          during an update: the cache sizes it with its entry arrays) */
    Py_ssize_t hlen;
    int64_t now;       /* the tick the wheel was last advanced to */
    double tick;       /* timer units per tick; 0 until known */
    double boundary;   /* the first time of a later tick than `now` (-inf: unknown), so that
                          fc_wheel_idle needs no division (fc_wheel_set_clock keeps it) */
    int started;
} fc_wheel;

static inline void
fc_wheel_init(fc_wheel *w, double tick)
{
    for (int i = 0; i < FC_WHEEL_LEVELS * FC_WHEEL_SIZE; i++)
        w->head[i] = FC_NIL;
    w->hlen = 0;  /* the heap array itself is kept */
    w->now = 0;
    w->tick = tick;
    w->boundary = -INFINITY;
    w->started = 0;
}

static inline int64_t
fc_wheel_ticks(const fc_wheel *w, double t)
{
    double q = floor(t / w->tick);
    if (q > 4e18)
        return (int64_t)4e18;
    if (q < -4e18)
        return (int64_t)-4e18;
    return (int64_t)q;
}

/* Called for each entry found due; it must unlink nothing in the wheel (the entry is already
 * detached) and may remove the entry from the cache. */
typedef void (*fc_expire_fn)(void *ctx, fc_idx ix);

/* wheel.c */
void fc_wheel_start(fc_wheel *w, double now, double delay);
void fc_wheel_set_clock(fc_wheel *w, int64_t now, int started);
void fc_heap_sift(fc_wheel *w, fc_tnode *nodes, Py_ssize_t pos);
void fc_heap_push(fc_wheel *w, fc_tnode *nodes, fc_idx ix);
void fc_heap_remove(fc_wheel *w, fc_tnode *nodes, fc_idx ix);
void fc_wheel_schedule(fc_wheel *w, fc_tnode *nodes, fc_idx ix);
void fc_wheel_advance(fc_wheel *w, fc_tnode *nodes, double now, fc_expire_fn expire, void *ctx);

/* Whether fc_wheel_advance(w, nodes, now, ...) would do nothing: no tick boundary crossed
 * since the last advance and nothing in the current tick's heap due. The write and read
 * paths ask this inline on every call; it is exact (never idle when something is due). */
static inline int
fc_wheel_idle(const fc_wheel *w, const fc_tnode *nodes, double now)
{
    return !w->started ||
           (now < w->boundary && (w->hlen == 0 || now < nodes[w->heap[0]].deadline));
}

static inline int
fc_before(const fc_tnode *nodes, fc_idx a, fc_idx b)
{
    return nodes[a].deadline < nodes[b].deadline ||
           (nodes[a].deadline == nodes[b].deadline && nodes[a].seq < nodes[b].seq);
}

static inline void
fc_heap_place(fc_wheel *w, fc_tnode *nodes, Py_ssize_t pos, fc_idx ix)
{
    w->heap[pos] = ix;
    nodes[ix].prev = (fc_idx)pos;
}

static inline void
fc_wheel_unlink(fc_wheel *w, fc_tnode *nodes, fc_idx ix)
{
    fc_tnode *n = &nodes[ix];
    if (n->bucket == FC_UNSCHEDULED)
        return;
    if (n->bucket == FC_IN_HEAP) {
        fc_heap_remove(w, nodes, ix);
        return;
    }
    if (n->prev != FC_NIL)
        nodes[n->prev].next = n->next;
    else
        w->head[n->bucket] = n->next;
    if (n->next != FC_NIL)
        nodes[n->next].prev = n->prev;
    n->bucket = FC_UNSCHEDULED;
}

#endif /* FC_WHEEL_H */
