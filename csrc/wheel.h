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
    int started;
} fc_wheel;

static void
fc_wheel_init(fc_wheel *w, double tick)
{
    for (int i = 0; i < FC_WHEEL_LEVELS * FC_WHEEL_SIZE; i++)
        w->head[i] = FC_NIL;
    w->hlen = 0;  /* the heap array itself is kept */
    w->now = 0;
    w->tick = tick;
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

/* Make sure the wheel has a tick and a starting point, given the current time and the delay
 * of the entry about to be scheduled. */
static void
fc_wheel_start(fc_wheel *w, double now, double delay)
{
    if (w->started)
        return;
    if (!(w->tick > 0) || !isfinite(w->tick))
        w->tick = (delay > 0 && isfinite(delay)) ? delay / 16.0 : 1.0;
    /* keep tick numbers within int64 for the magnitudes this timer produces */
    double floor_tick = fabs(now) * 0x1p-40;
    if (w->tick < floor_tick)
        w->tick = floor_tick;
    w->now = fc_wheel_ticks(w, now);
    w->started = 1;
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

static void
fc_heap_sift(fc_wheel *w, fc_tnode *nodes, Py_ssize_t pos)
{
    fc_idx ix = w->heap[pos];
    while (pos > 0) {  /* up */
        Py_ssize_t parent = (pos - 1) / 2;
        if (!fc_before(nodes, ix, w->heap[parent]))
            break;
        fc_heap_place(w, nodes, pos, w->heap[parent]);
        pos = parent;
    }
    for (;;) {  /* down */
        Py_ssize_t child = 2 * pos + 1;
        if (child >= w->hlen)
            break;
        if (child + 1 < w->hlen && fc_before(nodes, w->heap[child + 1], w->heap[child]))
            child++;
        if (!fc_before(nodes, w->heap[child], ix))
            break;
        fc_heap_place(w, nodes, pos, w->heap[child]);
        pos = child;
    }
    fc_heap_place(w, nodes, pos, ix);
}

static void
fc_heap_push(fc_wheel *w, fc_tnode *nodes, fc_idx ix)
{
    nodes[ix].bucket = FC_IN_HEAP;
    fc_heap_place(w, nodes, w->hlen++, ix);
    fc_heap_sift(w, nodes, w->hlen - 1);
}

static void
fc_heap_remove(fc_wheel *w, fc_tnode *nodes, fc_idx ix)
{
    Py_ssize_t pos = nodes[ix].prev;
    nodes[ix].bucket = FC_UNSCHEDULED;
    fc_idx last = w->heap[--w->hlen];
    if (pos < w->hlen) {
        fc_heap_place(w, nodes, pos, last);
        fc_heap_sift(w, nodes, pos);
    }
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

static void
fc_wheel_schedule(fc_wheel *w, fc_tnode *nodes, fc_idx ix)
{
    fc_tnode *n = &nodes[ix];
    n->bucket = FC_UNSCHEDULED;
    if (!isfinite(n->deadline))
        return;
    int64_t t = fc_wheel_ticks(w, n->deadline);
    int64_t delta = t - w->now;
    if (delta <= 0) {  /* due within the current tick */
        fc_heap_push(w, nodes, ix);
        return;
    }
    if (delta >= FC_WHEEL_SPAN) {
        t = w->now + FC_WHEEL_SPAN - 1;  /* parked; rescheduled when its bucket comes round */
        delta = FC_WHEEL_SPAN - 1;
    }
    int level = 0;
    while (delta >= ((int64_t)1 << (FC_WHEEL_BITS * (level + 1))))
        level++;
    int32_t b = level * FC_WHEEL_SIZE + (int32_t)((t >> (FC_WHEEL_BITS * level)) & FC_WHEEL_MASK);
    n->bucket = b;
    n->prev = FC_NIL;
    n->next = w->head[b];
    if (n->next != FC_NIL)
        nodes[n->next].prev = ix;
    w->head[b] = ix;
}

/* Called for each entry found due; it must unlink nothing in the wheel (the entry is already
 * detached) and may remove the entry from the cache. */
typedef void (*fc_expire_fn)(void *ctx, fc_idx ix);

static void
fc_wheel_process(fc_wheel *w, fc_tnode *nodes, int32_t b, double now,
                 fc_expire_fn expire, void *ctx)
{
    fc_idx ix = w->head[b];
    w->head[b] = FC_NIL;
    while (ix != FC_NIL) {
        fc_idx next = nodes[ix].next;
        nodes[ix].bucket = FC_UNSCHEDULED;
        if (!(now < nodes[ix].deadline))
            expire(ctx, ix);
        else
            fc_wheel_schedule(w, nodes, ix);
        ix = next;
    }
}

/* Reclaim every scheduled entry whose deadline is <= now. */
static void
fc_wheel_advance(fc_wheel *w, fc_tnode *nodes, double now, fc_expire_fn expire, void *ctx)
{
    if (!w->started)
        return;
    int64_t old = w->now, target = fc_wheel_ticks(w, now);
    if (target > old) {
        w->now = target;
        /* the old tick's heap is due: pop it in order; what rounding left undue is taken out
         * (chained through `next`) and scheduled again against the new tick */
        fc_idx undue = FC_NIL;
        while (w->hlen > 0) {
            fc_idx ix = w->heap[0];
            fc_heap_remove(w, nodes, ix);
            if (!(now < nodes[ix].deadline)) {
                expire(ctx, ix);
            }
            else {
                nodes[ix].next = undue;
                undue = ix;
            }
        }
        while (undue != FC_NIL) {
            fc_idx next = nodes[undue].next;
            fc_wheel_schedule(w, nodes, undue);
            undue = next;
        }
        for (int level = 0; level < FC_WHEEL_LEVELS; level++) {
            int shift = FC_WHEEL_BITS * level;
            int64_t from = (old >> shift) + 1, to = target >> shift;
            if (from > to)
                break;
            int64_t count = to - from + 1;
            if (count > FC_WHEEL_SIZE)
                count = FC_WHEEL_SIZE;
            for (int64_t s = from; s < from + count; s++)
                fc_wheel_process(w, nodes, level * FC_WHEEL_SIZE + (int32_t)(s & FC_WHEEL_MASK),
                                 now, expire, ctx);
        }
    }
    /* entries due within the current tick, in deadline order */
    while (w->hlen > 0 && !(now < nodes[w->heap[0]].deadline)) {
        fc_idx ix = w->heap[0];
        fc_heap_remove(w, nodes, ix);
        expire(ctx, ix);
    }
}

#endif /* FC_WHEEL_H */
