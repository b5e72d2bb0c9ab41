/*
 * clock.h: the clocks behind time.monotonic and time.time, read in C, and the coarse-clock
 * shortcut that lets a TTL hit far from its deadline skip the precise read.
 *
 * fc_clock_monotonic() and fc_clock_realtime() return the same double as the time module
 * (nanoseconds / 1e9). POSIX: clock_gettime. Windows: QueryPerformanceCounter (as
 * time.monotonic there) and GetSystemTimePreciseAsFileTime (as time.time). Elsewhere
 * (no clock_gettime): timespec_get for the wall clock and the same as the monotonic
 * stand-in, which callers then must not take for time.monotonic: fc_clock_native() says
 * whether the C clocks match the time module (the caches fall back to calling the Python
 * function when they do not).
 *
 * CLOCK_MONOTONIC_COARSE (Linux) is CLOCK_MONOTONIC as of the last tick: it lags by at
 * most its resolution and costs a fraction of the precise read (10 ns against 34 ns here).
 * When the coarse time plus twice the resolution (plus a microsecond for rounding) is still
 * before a deadline, the precise time is too, so fc_monotonic_before() stays exact.
 */
#ifndef FC_CLOCK_H
#define FC_CLOCK_H

#include <Python.h>   /* first: pyconfig.h sets the feature macros (CLOCK_MONOTONIC...) */
#include <stdint.h>
#include <time.h>
#ifdef _WIN32
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#endif

/* < 0: no coarse clock. Set at the first module exec (clock.c). */
extern double fc_coarse_slack;
void fc_clock_init(void);

static inline double
fc_ns_to_double(int64_t ns)
{
    return (ns % 1000000000 == 0) ? (double)(ns / 1000000000) : (double)ns / 1e9;
}

#if defined(_WIN32)
#define FC_NATIVE_CLOCKS 1
extern double fc_qpc_scale;  /* 1e9 / QueryPerformanceFrequency */

static inline double
fc_clock_monotonic(void)
{
    LARGE_INTEGER c;
    QueryPerformanceCounter(&c);
    return fc_ns_to_double((int64_t)((double)c.QuadPart * fc_qpc_scale));
}

static inline double
fc_clock_realtime(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    /* 100 ns units since 1601-01-01 */
    int64_t t = ((int64_t)ft.dwHighDateTime << 32 | ft.dwLowDateTime) - 116444736000000000LL;
    return fc_ns_to_double(t * 100);
}
#elif defined(CLOCK_MONOTONIC)
#define FC_NATIVE_CLOCKS 1

static inline double
fc_clock_read_id(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return fc_ns_to_double((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static inline double fc_clock_monotonic(void) { return fc_clock_read_id(CLOCK_MONOTONIC); }
static inline double fc_clock_realtime(void) { return fc_clock_read_id(CLOCK_REALTIME); }
#else
/* no known clock: the caches call time.monotonic / time.time themselves */
#define FC_NATIVE_CLOCKS 0

static inline double
fc_clock_realtime(void)
{
    struct timespec ts;
    timespec_get(&ts, TIME_UTC);
    return fc_ns_to_double((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
}

static inline double fc_clock_monotonic(void) { return fc_clock_realtime(); }
#endif

/* Whether time.monotonic() is now before `deadline`. */
static inline int
fc_monotonic_before(double deadline)
{
#if defined(CLOCK_MONOTONIC_COARSE) && !defined(_WIN32)
    if (fc_coarse_slack >= 0) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        if ((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9 + fc_coarse_slack < deadline)
            return 1;
    }
#endif
    return fc_clock_monotonic() < deadline;
}

#endif /* FC_CLOCK_H */
