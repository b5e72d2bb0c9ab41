/*
 * mini.h: the miniature simulations that configure W-TinyLFU (Waldspurger et al., USENIX ATC
 * 2017; SHARDS sampling), one mechanism for the simulator's run_mini (sim.c: wtinylfu-mini,
 * auto) and WTinyLFUCache(adaptive=True) (wtinylfu.c).
 *
 * FC_NMINI shadow W-TinyLFU caches, one per candidate configuration (FC_MINI_CONFIGS), see
 * the requests of a hash-sampled subset of the keys (rate floor / C, all of them when
 * C <= floor; FC_MINI_FLOOR by default) with their capacity scaled by the same rate. Every
 * `period` x (shadow capacity) sampled requests each shadow's misses are added to a score
 * that decays by `decay` per period; when another shadow's score is below the current
 * configuration's by more than `hysteresis` (a fraction), the owner takes that configuration:
 * it moves its window's boundary, resizes its protected segment and switches its admission
 * mode (sim.c wt_configure, wtinylfu.c configure).
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

/* How a W-TinyLFU admits and evicts (fc_mini_config.filter):
 *   FC_ADMIT_ALL     no filter: every candidate enters main (an SLRU behind a window);
 *   FC_ADMIT_SKETCH  TinyLFU: the candidate enters if the sketch counts it more than the
 *                    victim (W-TinyLFU proper);
 *   FC_ADMIT_S3      S3-FIFO's rules on the same segments: the window is the small FIFO,
 *                    probation the main FIFO, hits move nothing and count to 3 in the
 *                    entry; the small queue's first entry goes to main if it was hit
 *                    twice, otherwise it is evicted into a ghost (bloomghost.h); main's
 *                    first entry is evicted if its count is 0, otherwise counted down and
 *                    moved to main's tail; a new key the ghost remembers goes to main
 *                    (sim.c wt_s3_miss, wtinylfu.c s3_victim). Leaving the mode keeps the
 *                    counts (the other modes ignore them); entering it finds them as left. */
enum { FC_ADMIT_ALL, FC_ADMIT_SKETCH, FC_ADMIT_S3 };

/* FC_ADMIT_S3: a hit counts to at most 3; the small queue's first entry moves to main at 2
 * (S3-FIFO's defaults); the ghost remembers 0.9 x C keys (S3-FIFO's ghost FIFO's length) to
 * twice that (bloomghost.h). */
#define FC_S3_MAX_FREQ 3
#define FC_S3_MOVE_FREQ 2

static inline uint64_t
fc_s3_ghost_cap(uint64_t C)
{
    uint64_t g = (uint64_t)((double)C * 0.9);
    return g ? g : 1;
}

typedef struct {
    double window, protect; /* the window's fraction of the capacity, protected's of main */
    int filter;             /* FC_ADMIT_* */
} fc_mini_config;

#define FC_NMINI 4
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
 * bench/auto_cells.py (19 of 21, and 11 of its 12 holdout cells; with the fourth
 * configuration 20 of 21 and 12 of 12, against 21 and 12 for 256) at four times the shadows'
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

/* Taking configuration cfg, for an owner of capacity C whose window and protected maxima are
 * *wmax and *pmax: the window is moved to cfg's share (at most 64 moves, and no more once one
 * makes no progress), all of main paying for a larger window (the climber's moves take it
 * from protected's maximum, which is 0 under FC_ADMIT_S3); returns protected's maximum for
 * the window reached. The owner then demotes protected's overflow and sets the filter. */
static inline int64_t
fc_mini_resize(void *owner, fc_window_move move, int64_t *pmax, const int64_t *wmax,
               int64_t C, int cfg)
{
    int64_t target = C - (int64_t)((double)C * (1.0 - FC_MINI_CONFIGS[cfg].window));
    *pmax = C - *wmax;
    for (int t = 0; t < 64 && *wmax != target; t++) {
        int64_t before = *wmax;
        move(owner, target - *wmax);
        if (*wmax == before)
            break;
    }
    return (int64_t)((double)(C - *wmax) * FC_MINI_CONFIGS[cfg].protect);
}

#endif /* FC_MINI_H */
