/* A test-only port for the bring-up firmware that faults on purpose (tests/runner/faulty.py
 * builds it): TEST_FAULT picks the fault and where it happens. Everything else is the bring-up
 * firmware's board support and harness, so the fault handlers under test are the real ones. */
#include <stddef.h>
#include <stdint.h>

#include "board.h"
#include "ee_benchmark.h"
#include "th_api.h"

#define BOOT_WRITE 1     /* a store to an address no memory answers, while booting */
#define INFER_WRITE 2    /* the same store, during `infer` */
#define NULL_CALL 3      /* a call through a null function pointer, during `infer` */
#define RECURSION 4      /* unbounded recursion until the stack overflows, during `infer` */
#define HUGE_FRAME 5     /* one function with a local array larger than the stack */
#define LOCKUP 6         /* the bad store with FAULTMASK set: no handler may run, the core locks up */
#define BOOT_ERROR 7     /* no fault: the error line a TFLM port prints when its arena is too small */
#define TIME_CHECK 8     /* no fault: board_time_us() read back to back for 2 s never goes back */

#ifndef TEST_FAULT
#error "define TEST_FAULT"
#endif

/* The address the SVDF model wrote to: a fill pattern, not a pointer. */
volatile uint32_t *volatile g_bad_pointer = (volatile uint32_t *)0x86667FE4u;
void (*volatile g_null_function)(void) = NULL;
volatile uint32_t g_sink;

__attribute__((noinline)) void store_through_bad_pointer(uint32_t value)
{
    *g_bad_pointer = value;
}

__attribute__((noinline)) uint32_t recurse_forever(uint32_t depth)
{
    volatile uint32_t frame[8];
    frame[depth & 7u] = depth;
    /* Using the result after the call keeps it from becoming a loop. */
    return recurse_forever(depth + 1u) + frame[(depth + 3u) & 7u];
}

__attribute__((noinline)) void fill_huge_frame(uint32_t n)
{
    volatile uint8_t big[64 * 1024];
    for (uint32_t i = 0; i < n && i < sizeof big; ++i) {
        big[i] = (uint8_t)i;
    }
    g_sink = big[n / 2u];
}

static void fault_now(void)
{
#if TEST_FAULT == BOOT_WRITE || TEST_FAULT == INFER_WRITE
    store_through_bad_pointer(0x12345678u);
#elif TEST_FAULT == NULL_CALL
    g_null_function();
#elif TEST_FAULT == RECURSION
    g_sink = recurse_forever(0u);
#elif TEST_FAULT == HUGE_FRAME
    fill_huge_frame(sizeof(uint8_t[64 * 1024]));
#elif TEST_FAULT == LOCKUP
    __asm volatile("cpsid f" ::: "memory");
    store_through_bad_pointer(0x12345678u);
#endif
}

void th_final_initialize(void)
{
#if TEST_FAULT == BOOT_WRITE
    fault_now();
#elif TEST_FAULT == BOOT_ERROR
    th_printf("e-[AllocateTensors failed with a 1024-byte arena]\r\n");
#elif TEST_FAULT == TIME_CHECK
    uint32_t start = board_time_us();
    uint32_t last = start;
    while (last - start < 2000000u) {
        uint32_t now = board_time_us();
        if (now - last > 0x80000000u) {
            th_printf("e-[time went back from %lu to %lu us]\r\n", (unsigned long)last,
                      (unsigned long)now);
            return;
        }
        last = now;
    }
#endif
}

void th_load_tensor(void)
{
}

void th_infer(void)
{
    fault_now();
}

void th_pre(void)
{
}

void th_post(void)
{
}

void th_results(void)
{
    th_printf("m-results-[0.000]\r\n");
}

void th_print_output_bytes(void)
{
    ee_print_output_bytes(&g_sink, sizeof g_sink);
}
