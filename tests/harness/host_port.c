/*
 * Host port of the tinygen harness for tests: the "UART" is stdin/stdout, the clock is fake
 * and the "model" is a checksum, so every answer is predictable.
 *
 *   th_timestamp   m-lap-us-<clock>; the clock starts at 1000, a stamp adds 1 us and each
 *                  th_infer 100 us, so t1 - t0 = 1 + 100 * N.
 *   th_load_tensor copies the db buffer into the "input tensor" and prints h-load-tensor-<len>
 *   th_pre/th_post h-pre-<n> / h-post-<n>, n = th_infer calls since th_load_tensor
 *                  (HOST_QUIET=1: none of these h- lines, as a real port prints them not)
 *   th_results     m-results-[<len>,<FNV-1a 32 of the input>]
 *   output tensor  the input bytes inverted (XOR 0xff), printed by `outbytes`
 *   profile        (TINYGEN_PROFILE builds) th_infer times HOST_PROFILE_OPS fake operators
 *                  (default EE_PROFILE_OPS) on a 1 MHz tick counter that an inference starts
 *                  at 0: operator i takes HOST_OP_TICKS(i) ticks, with HOST_GAP_TICKS between
 *                  operators and after the last one.
 * The buffer accessors are cross-checked on every load; a mismatch aborts (a test failure).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ee_benchmark.h"
/* The host port has no linker-reserved stack or heap: fixed figures the tests check. */
#define HOST_STACK_PEAK 1024u
#define HOST_STACK_SIZE 8192u
#define HOST_HEAP_SIZE 4096u
#include "host_common.h"

#ifndef HOST_QUIET
#define HOST_QUIET 0
#endif
/* The port's own diagnostics (h- lines), which a host runner would refuse. */
#define HOST_NOTE(...)                                                                        \
    do {                                                                                      \
        if (!HOST_QUIET) {                                                                    \
            th_printf(__VA_ARGS__);                                                           \
        }                                                                                     \
    } while (0)

static unsigned long fake_clock_us = 1000;
static uint8_t input_tensor[MAX_DB_INPUT_SIZE];
static uint8_t output_tensor[MAX_DB_INPUT_SIZE];
static size_t input_len;
static unsigned long input_hash;
static unsigned long infers_since_load;

static void fail(const char *what)
{
    fflush(stdout);
    fprintf(stderr, "host_port: %s\n", what);
    abort();
}

static unsigned long fnv1a32(const uint8_t *data, size_t len)
{
    unsigned long hash = 2166136261UL;
    size_t i;
    for (i = 0; i < len; i++) {
        hash = ((hash ^ data[i]) * 16777619UL) & 0xffffffffUL;
    }
    return hash;
}

void th_serialport_initialize(void)
{
}

void th_timestamp_initialize(void)
{
    th_printf(EE_CFG_ENERGY_MODE ? "m-timestamp-mode-energy\r\n"
                                 : "m-timestamp-mode-performance\r\n");
    th_timestamp();
}

void th_timestamp(void)
{
    if (!EE_CFG_ENERGY_MODE) {
        th_printf("m-lap-us-%lu\r\n", fake_clock_us);
    }
    fake_clock_us += 1;
}

void th_final_initialize(void)
{
}

void th_load_tensor(void)
{
    uint8_t head[3];
    size_t len = ee_get_buffer(input_tensor, sizeof input_tensor);
    size_t head_len = ee_get_buffer(head, sizeof head);
    size_t i;

    if (len != ee_get_buffer_length() || len == 0) {
        fail("ee_get_buffer returned a wrong count");
    }
    if (memcmp(input_tensor, ee_get_buffer_pointer(), len) != 0) {
        fail("ee_get_buffer and ee_get_buffer_pointer disagree");
    }
    if (head_len != (len < sizeof head ? len : sizeof head) ||
        memcmp(head, input_tensor, head_len) != 0) {
        fail("ee_get_buffer ignored max_len");
    }
    if (ee_get_buffer(NULL, 10) != 0) {
        fail("ee_get_buffer(NULL, ...) copied something");
    }
    for (i = 0; i < len; i++) {
        output_tensor[i] = (uint8_t)(input_tensor[i] ^ 0xffu);
    }
    input_len = len;
    infers_since_load = 0;
    HOST_NOTE("h-load-tensor-%lu\r\n", (unsigned long)len);
}

#if TINYGEN_PROFILE
#ifndef HOST_PROFILE_OPS
#define HOST_PROFILE_OPS EE_PROFILE_OPS
#endif
#define HOST_OP_TICKS(i) (1000u * ((i) + 1u))
#define HOST_GAP_TICKS 7u

static uint32_t fake_ticks;

uint32_t th_profile_ticks(void)
{
    return fake_ticks;
}

uint32_t th_profile_clock_hz(void)
{
    return 1000000u;
}

static void profile_fake_operators(void)
{
    uint32_t i;

    fake_ticks = 0;
    ee_profile_start();
    for (i = 0; i < (uint32_t)HOST_PROFILE_OPS; i++) {
        fake_ticks += HOST_GAP_TICKS;
        ee_profile_op_begin();
        fake_ticks += HOST_OP_TICKS(i);
        ee_profile_op_end(i);
    }
    fake_ticks += HOST_GAP_TICKS;
    ee_profile_stop();
}
#endif

void th_infer(void)
{
    input_hash = fnv1a32(input_tensor, input_len);
    infers_since_load++;
    fake_clock_us += 100;
#if TINYGEN_PROFILE
    profile_fake_operators();
#endif
}

void th_pre(void)
{
    HOST_NOTE("h-pre-%lu\r\n", infers_since_load);
}

void th_post(void)
{
    HOST_NOTE("h-post-%lu\r\n", infers_since_load);
}

void th_results(void)
{
    th_printf("m-results-[%lu,%lu]\r\n", (unsigned long)input_len, input_hash);
}

void th_print_output_bytes(void)
{
    ee_print_output_bytes(output_tensor, input_len);
}


void th_vprintf(const char *fmt, va_list args)
{
    vprintf(fmt, args);
}

int th_getchar(void)
{
    int c = getchar();
    if (c == EOF) {
        fflush(stdout);
        exit(0);
    }
    return c;
}

void th_command_ready(char volatile *cmd)
{
    ee_serial_command_parser_callback((char *)cmd);
}
