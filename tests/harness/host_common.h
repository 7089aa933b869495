/*
 * The th_* hooks every host port of the harness shares (tests only): th_printf over the port's
 * own th_vprintf, and th_memory_usage reporting the figures the port defines before including
 * this (HOST_STACK_PEAK, HOST_STACK_SIZE, HOST_HEAP_USED, HOST_HEAP_SIZE; 0 when not).
 * Include it in exactly one file of a program.
 */
#ifndef TINYGEN_HOST_COMMON_H
#define TINYGEN_HOST_COMMON_H

#include <stdarg.h>

#include "th_api.h"

#ifndef HOST_STACK_PEAK
#define HOST_STACK_PEAK 0u
#endif
#ifndef HOST_STACK_SIZE
#define HOST_STACK_SIZE 0u
#endif
#ifndef HOST_HEAP_USED
#define HOST_HEAP_USED 0u
#endif
#ifndef HOST_HEAP_SIZE
#define HOST_HEAP_SIZE 0u
#endif

void th_memory_usage(th_memory_t *usage)
{
    usage->stack_peak = HOST_STACK_PEAK;
    usage->stack_size = HOST_STACK_SIZE;
    usage->heap_used = HOST_HEAP_USED;
    usage->heap_size = HOST_HEAP_SIZE;
}

void th_printf(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    th_vprintf(fmt, args);
    va_end(args);
}

#endif
