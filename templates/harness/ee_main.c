/*
 * tinygen MLPerf Tiny harness: the firmware's main loop. Kept alone in this file so that host
 * tests and fuzzers can drive the harness with a main of their own.
 */
#include "ee_benchmark.h"

int main(void)
{
    ee_benchmark_initialize();
    for (;;) {
        int c = th_getchar();
        ee_serial_callback((char)c);
    }
}
