/*
 * tinygen MLPerf Tiny harness: the hooks a port implements (th_*).
 *
 * The board- and model-specific hooks are written by tinygen's code generator; the thin libc
 * wrappers at the end live in th_libc.c. Everything has C linkage so a C++ port (TFLM) can
 * implement the hooks directly.
 */
#ifndef TINYGEN_TH_API_H
#define TINYGEN_TH_API_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define TH_PRINTF_LIKE(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#else
#define TH_PRINTF_LIKE(fmt_index, first_arg)
#endif

/* UART 8N1: 115200 baud in performance mode, 9600 in energy mode. */
void th_serialport_initialize(void);

/* Set up the timer (or the timestamp GPIO), print m-timestamp-mode-performance or
 * m-timestamp-mode-energy, then call th_timestamp() once. */
void th_timestamp_initialize(void);

/* Performance mode: print m-lap-us-<N> (free-running microsecond counter, unsigned decimal).
 * Energy mode: drive the timestamp GPIO low for at least 1 us, then high; print nothing. */
void th_timestamp(void);

/* Build the interpreter: op resolver, arena, AllocateTensors. */
void th_final_initialize(void);

/* Copy/convert the bytes received with `db` (ee_get_buffer*) into the input tensor. Called once
 * per `infer`, before the warm-up, untimed. The harness only calls it after a complete
 * `db load`, so ee_get_buffer_length() is the announced size; the port still checks that this
 * is the size its model expects. */
void th_load_tensor(void);

/* Exactly one inference: the only work inside the timed loop. */
void th_infer(void);

/* Print one line m-results-[v0,v1,...] for the last inference. */
void th_results(void);

/* Called just after the start stamp and just before the end stamp, inside the timed window. */
void th_pre(void);
void th_post(void);

/* tinygen extension (`outbytes` command): print the raw output tensor of the last inference as
 * exactly one line
 *     m-outbytes-[<two lowercase hex digits per byte, no separators>]
 * e.g. m-outbytes-[7f80017e] for the bytes 0x7f 0x80 0x01 0x7e. ee_print_output_bytes() in
 * ee_benchmark.h prints this format; a port normally just calls it on its output tensor. */
void th_print_output_bytes(void);

/* tinygen extension (`memory` command): the stack's high-water mark since reset and the heap
 * taken so far, against what the link reserved for each, in bytes. The harness prints
 *     m-memory-[stack_peak=<n>,stack_size=<n>,heap_used=<n>,heap_size=<n>]
 * tinygen's build runs it after one inference to size the stack of the final firmware. */
typedef struct {
    size_t stack_peak;
    size_t stack_size;
    size_t heap_used;
    size_t heap_size;
} th_memory_t;
void th_memory_usage(th_memory_t *usage);

/* tinygen extension, profile builds only (TINYGEN_PROFILE; the `opprofile` command): a free-running
 * counter of the core clock (32 bits, wrapping; differences of two readings are exact) and its
 * rate in ticks per second. */
uint32_t th_profile_ticks(void);
uint32_t th_profile_clock_hz(void);

/* UART output with printf semantics; the harness never prints floats. */
void th_printf(const char *fmt, ...) TH_PRINTF_LIKE(1, 2);
void th_vprintf(const char *fmt, va_list args);

/* Blocking read of one byte from the UART (0..255). */
int th_getchar(void);

/* Called by ee_serial_callback() when a complete, well-formed command has arrived (without its
 * '%'); must pass cmd to ee_serial_command_parser_callback() before returning, since the
 * buffer is reused for the next command. */
void th_command_ready(char volatile *cmd);

/* Thin libc wrappers (th_libc.c), so a port can swap the C library in one place. */
int th_strncmp(const char *str1, const char *str2, size_t n);
char *th_strncpy(char *dest, const char *src, size_t n);
size_t th_strnlen(const char *str, size_t maxlen);
char *th_strcat(char *dest, const char *src);
char *th_strtok(char *str, const char *sep);
int th_atoi(const char *str);
void *th_memset(void *dest, int value, size_t n);
void *th_memcpy(void *dest, const void *src, size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_TH_API_H */
