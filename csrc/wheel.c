/*
 * wheel.c: the timer wheel's scheduling and advancing (see wheel.h).
 */
#include "wheel.h"

/* Make sure the wheel has a tick and a starting point, given the current time and the delay
 * of the entry about to be scheduled. */
void
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
    fc_wheel_set_clock(w, fc_wheel_ticks(w, now), 1);
}

/* Set the wheel's tick (and whether it started) and the boundary fc_wheel_idle compares
 * with: the smallest time whose tick is later than `now` (fc_wheel_ticks is monotonic, so
 * every earlier time is in this tick or before). Found from (now + 1) * tick, corrected by
 * a few ulps for rounding; -inf (never idle: always advance) if that fails. */
void
fc_wheel_set_clock(fc_wheel *w, int64_t now, int started)
{
    w->now = now;
    w->started = started;
    double b = -INFINITY;
    if (started && w->tick > 0 && isfinite(w->tick)) {
        if (now >= (int64_t)4e18) {
            b = INFINITY;  /* fc_wheel_ticks is clamped there: no later tick */
        }
        else {
            double t = (double)(now + 1) * w->tick;
            int i = 0;
            for (; i < 64 && isfinite(t) && fc_wheel_ticks(w, t) <= now; i++)
                t = nextafter(t, INFINITY);
            for (; i < 64 && isfinite(t); i++) {
                double before = nextafter(t, -INFINITY);
                if (fc_wheel_ticks(w, before) <= now)
                    break;
                t = before;
            }
            if (i < 64 && isfinite(t) && fc_wheel_ticks(w, t) > now)
                b = t;
        }
    }
    w->boundary = b;
}

void
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

void
fc_heap_push(fc_wheel *w, fc_tnode *nodes, fc_idx ix)
{
    nodes[ix].bucket = FC_IN_HEAP;
    fc_heap_place(w, nodes, w->hlen++, ix);
    fc_heap_sift(w, nodes, w->hlen - 1);
}

void
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

void
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
void
fc_wheel_advance(fc_wheel *w, fc_tnode *nodes, double now, fc_expire_fn expire, void *ctx)
{
    if (!w->started)
        return;
    int64_t old = w->now, target = fc_wheel_ticks(w, now);
    if (target > old) {
        fc_wheel_set_clock(w, target, 1);
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
