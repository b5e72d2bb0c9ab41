/*
 * mini.h: the miniature simulations that configure W-TinyLFU (Waldspurger et al., USENIX ATC
 * 2017; SHARDS sampling), one mechanism for the simulator's run_mini (sim.c: wtinylfu-mini,
 * auto) and WTinyLFUCache(adaptive=True) (wtinylfu.c).
 *
 * FC_NMINI shadow W-TinyLFU caches, one per candidate configuration (FC_MINI_CONFIGS), see
 * the requests of a hash-sampled subset of the keys (rate floor / C, all of them when
 * C <= floor; FC_MINI_FLOOR by default) with their capacity scaled by the same rate. Every `period` x (shadow capacity)
 * sampled requests each shadow's misses are added to a score that decays by `decay` per
 * period; when another shadow's score is below the current configuration's by more than
 * `hysteresis` (a fraction), the owner takes that configuration: it moves its window's
 * boundary, resizes its protected segment and switches its admission filter (sim.c
 * wt_configure, wtinylfu.c configure).
 *
 * The owner feeds uint64 keys: the simulator its trace's keys, the cache the keys' Python
 * hashes (hash(k) is k for an int 0 <= k < 2**61 - 1, so both see the same keys). The
 * sampling hash and the shadows' sketches are keyed by the owner's seed. The shadows are
 * sim.c's W-TinyLFU (WT on a Run's node pool and table: plain C, no Python objects, no
 * allocation after fc_mini_init), so the simulator and the cache run the same code.
 */
#ifndef FC_MINI_H
#define FC_MINI_H

#include <stdint.h>

#include "sketch.h"

typedef struct {
    double window, protect; /* the window's fraction of the capacity, protected's of main */
    int filter;             /* the sketch's admission filter on */
} fc_mini_config;

#define FC_NMINI 3
extern const fc_mini_config FC_MINI_CONFIGS[FC_NMINI];

typedef struct fc_shadows fc_shadows; /* sim.c */

typedef struct {
    uint64_t salt, thr;     /* sampled: fc_mix64(key ^ salt) >> 40 < thr */
    uint64_t period, s_reqs;
    double decay, hyst;
    double score[FC_NMINI];
    fc_shadows *sh;         /* NULL: none (before fc_mini_init, after fc_mini_free) */
} fc_mini;

/* The default floor: shadows of at most 256 entries. 1024 met the same cells of
 * bench/auto_cells.py (19 of 21, and 11 of its 12 holdout cells) at four times the shadows'
 * memory and sampled requests (a cache of up to 1024 entries then sampled every key). */
#define FC_MINI_FLOOR 256

/* Shadows for an owner of capacity C (entries) and sketch seed `seed`; the parameters are
 * sim_run's (floor, sample, decay, hysteresis), a negative one takes the default. 0, or -1
 * when out of memory (m->sh stays NULL). No Python API: runs without the GIL. */
int fc_mini_init(fc_mini *m, uint64_t C, uint64_t seed, double floor, double period,
                 double decay, double hyst);
void fc_mini_free(fc_mini *m);

/* Whether the shadows see key k (the one test of every request). */
static inline int
fc_mini_sampled(const fc_mini *m, uint64_t k)
{
    return (fc_mix64(k ^ m->salt) >> 40) < m->thr;
}

/* A sampled request for k, the owner being in configuration cur: the configuration to take
 * (cur when nothing changes). */
int fc_mini_step(fc_mini *m, uint64_t k, int cur);

/* How an owner moves its window's maximum by adj (sim.c's wt_move_window, wtinylfu.c's
 * move_window: bounded moves, so several may be needed). */
typedef void (*fc_window_move)(void *owner, int64_t adj);

/* Taking configuration cfg, for an owner of capacity C whose window maximum is *wmax: the
 * window is moved to cfg's share (at most 64 moves, and no more once one makes no progress);
 * returns protected's maximum for the window reached. The owner then demotes protected's
 * overflow and sets the filter. */
static inline int64_t
fc_mini_resize(void *owner, fc_window_move move, const int64_t *wmax, int64_t C, int cfg)
{
    int64_t target = C - (int64_t)((double)C * (1.0 - FC_MINI_CONFIGS[cfg].window));
    for (int t = 0; t < 64 && *wmax != target; t++) {
        int64_t before = *wmax;
        move(owner, target - *wmax);
        if (*wmax == before)
            break;
    }
    return (int64_t)((double)(C - *wmax) * FC_MINI_CONFIGS[cfg].protect);
}

#endif /* FC_MINI_H */
