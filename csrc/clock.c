/*
 * clock.c: what clock.h needs measured once.
 */
#include "clock.h"

double fc_coarse_slack = -1.0;
#ifdef _WIN32
double fc_qpc_scale = 0.0;
#endif

/* Every exec of the module (one per interpreter) measures the same process-wide values;
 * only a value that differs is written, so that an exec in one interpreter never writes
 * what another interpreter's caches are reading (with a per-interpreter GIL). */
void
fc_clock_init(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    double scale = 1e9 / (double)f.QuadPart;
    if (fc_qpc_scale != scale)
        fc_qpc_scale = scale;
#elif defined(CLOCK_MONOTONIC_COARSE)
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0) {
        double slack = 2.0 * ((double)res.tv_nsec * 1e-9) + 1e-6;
        if (fc_coarse_slack != slack)
            fc_coarse_slack = slack;
    }
#endif
}
