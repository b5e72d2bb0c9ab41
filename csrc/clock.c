/*
 * clock.c: what clock.h needs measured once.
 */
#include "clock.h"

double fc_coarse_slack = -1.0;
#ifdef _WIN32
double fc_qpc_scale = 0.0;
#endif

void
fc_clock_init(void)
{
#if defined(_WIN32)
    LARGE_INTEGER f;
    QueryPerformanceFrequency(&f);
    fc_qpc_scale = 1e9 / (double)f.QuadPart;
#elif defined(CLOCK_MONOTONIC_COARSE)
    struct timespec res;
    if (clock_getres(CLOCK_MONOTONIC_COARSE, &res) == 0 && res.tv_sec == 0)
        fc_coarse_slack = 2.0 * ((double)res.tv_nsec * 1e-9) + 1e-6;
#endif
}
