/*
 * tinygen MLPerf Tiny harness: the benchmark side (ee_*) of the serial protocol.
 *
 * Written for tinygen from the protocol description (shared/mlperf-tiny/PROTOCOL.md); portable
 * C99, no dynamic memory, no stdio (all output goes through th_printf). Settings come from the
 * generated tinygen_config.h:
 *   TH_MODEL_VERSION       string, e.g. "kws01"                       (required)
 *   TH_VENDOR_NAME_STRING  string shown by `name`                     (required)
 *   MAX_DB_INPUT_SIZE      size of the `db` buffer in bytes, a plain
 *                          integer literal > 0                        (required)
 *   EE_CFG_ENERGY_MODE     0 performance, 1 energy                    (default 0; used by the port)
 *   EE_CMD_SIZE            command buffer incl. the terminating NUL   (default 80)
 *   EE_CFG_INPUT_BYTES     bytes the model's input takes; when defined, `infer` refuses
 *                          a load of any other size                   (optional)
 *   TINYGEN_PROFILE        1: the per-operator profile (`opprofile`, ee_profile_*) is
 *                          compiled in; a normal build leaves it out  (default 0)
 *   EE_PROFILE_OPS         operators one inference may time           (required when profiling)
 *
 * Protocol as implemented here. Commands are ASCII ending with '%'; every answer ends with the
 * line m-ready; lines end with CR LF. Stricter than the reference harness, and the same rules
 * hold for every command:
 *   - A rejected command prints exactly one e-[...] line (then m-ready) and changes nothing:
 *     no byte is written to the buffer, a load in progress stays as it was.
 *   - A command may hold EE_CMD_SIZE - 1 characters; a longer one is discarded up to its '%'
 *     and answered  e-[Command too long (max <EE_CMD_SIZE - 1> characters)].
 *   - CR and LF are ignored (a terminal may send them); any other byte outside printable ASCII
 *     and TAB discards the command:  e-[Bad character 0x<hh> in command].
 *   - Words are separated by spaces or tabs; a bare '%' (empty command) answers only m-ready,
 *     which a host may use to resynchronise.
 *   - Extra words after a complete command are an error:  e-[<command>: unexpected argument: <w>].
 *
 *   name                m-name-dut-[<TH_VENDOR_NAME_STRING>]
 *   profile             m-profile-[ULPMark for tinyML Firmware V0.0.1]
 *                       m-model-[<TH_MODEL_VERSION>]
 *   help                free text (no line starts with m- or e-)
 *   timestamp           th_timestamp()
 *   db load <N>         m-[Expecting <N> bytes]; starts a new load (received = 0).
 *                       e-[db load: missing size]
 *                       e-[db load: size is not a decimal number: <w>]
 *                       e-[db load: size must be > 0]
 *                       e-[db load: size <w> exceeds the buffer of <MAX_DB_INPUT_SIZE> bytes]
 *   db <hex>            appends hex pairs (either case); m-load-done when byte N arrives.
 *                       e-[db: missing argument]
 *                       e-[db: bad hex digit '<c>']
 *                       e-[db: odd number of hex digits]
 *                       e-[db: no db load in progress]
 *                       e-[db: <k> bytes exceed the <r> bytes still expected]
 *   db print            m-buffer-hh-hh-... , 8 received bytes a line (nothing if none)
 *   infer [N [W]]       defaults N = 1, W = 10; runs th_load_tensor(), W warm-up th_infer(),
 *                       m-warmup-start-<W> / m-warmup-done around them, m-infer-start-<N>,
 *                       th_timestamp(), th_pre(), N x th_infer(), th_post(), th_timestamp(),
 *                       m-infer-done, th_results().
 *                       e-[infer: count is not a decimal number: <w>]
 *                       e-[infer: count must be > 0]
 *                       e-[infer: count out of range: <w>]        (above 2147483647)
 *                       e-[infer: warm-up is not a decimal number: <w>]
 *                       e-[infer: warm-up must be >= 0]
 *                       e-[infer: warm-up out of range: <w>]
 *                       e-[infer: no input loaded]
 *                       e-[infer: input incomplete: <r> of <N> bytes]
 *                       e-[infer: input is <N> bytes, the model takes <EE_CFG_INPUT_BYTES>]
 *   results             th_results() again;   e-[results: no inference yet]
 *   outbytes            th_print_output_bytes();   e-[outbytes: no inference yet]
 *   memory              m-memory-[stack_peak=<n>,stack_size=<n>,heap_used=<n>,heap_size=<n>]
 *                       (th_memory_usage: bytes since reset)
 *   opprofile           (TINYGEN_PROFILE builds only) the operators of the last inference:
 *                       m-opprofile-clock-<ticks per second>
 *                       m-opprofile-op-<operator index>-<ticks>   one per operator, as run
 *                       m-opprofile-total-<ticks>   the whole inference on the same counter
 *                       e-[opprofile: no inference yet]
 *                       e-[opprofile: <n> operators ran, EE_PROFILE_OPS is <m>]
 *   anything else       e-[Unknown command: <first word>]
 *
 * Infer before a complete load is refused (the reference allows it): a benchmark run on a
 * half-written or stale buffer is a host bug, and refusing it lets th_load_tensor() rely on
 * ee_get_buffer_length() being the announced size. A complete load may be inferred any number
 * of times.
 */
#ifndef TINYGEN_EE_BENCHMARK_H
#define TINYGEN_EE_BENCHMARK_H

#include <stddef.h>
#include <stdint.h>

#include "th_api.h"
#include "tinygen_config.h"

#ifndef TH_MODEL_VERSION
#error "tinygen_config.h must define TH_MODEL_VERSION (e.g. \"kws01\")"
#endif
#ifndef TH_VENDOR_NAME_STRING
#error "tinygen_config.h must define TH_VENDOR_NAME_STRING"
#endif
#ifndef MAX_DB_INPUT_SIZE
#error "tinygen_config.h must define MAX_DB_INPUT_SIZE (bytes of the db buffer)"
#endif
#if !(MAX_DB_INPUT_SIZE > 0)
#error "MAX_DB_INPUT_SIZE must be > 0"
#endif
#ifndef EE_CFG_ENERGY_MODE
#define EE_CFG_ENERGY_MODE 0
#endif
#ifndef EE_CMD_SIZE
#define EE_CMD_SIZE 80
#endif
#ifndef TINYGEN_PROFILE
#define TINYGEN_PROFILE 0
#endif
#if TINYGEN_PROFILE && !(defined(EE_PROFILE_OPS) && EE_PROFILE_OPS > 0)
#error "a TINYGEN_PROFILE build must define EE_PROFILE_OPS > 0"
#endif
#if defined(EE_CFG_INPUT_BYTES)
#if !(EE_CFG_INPUT_BYTES > 0 && EE_CFG_INPUT_BYTES <= MAX_DB_INPUT_SIZE)
#error "EE_CFG_INPUT_BYTES must be in 1..MAX_DB_INPUT_SIZE"
#endif
#endif
/* Room for "db load <N>" and "infer <N> <W>" with their largest values. */
#if EE_CMD_SIZE < 32
#error "EE_CMD_SIZE must be >= 32"
#endif

#define EE_FIRMWARE_VERSION "ULPMark for tinyML Firmware V0.0.1"

#ifdef __cplusplus
extern "C" {
#endif

/* Initialise the port (serial, timestamp, interpreter), reset the harness state, print
 * m-init-done and m-ready. */
void ee_benchmark_initialize(void);

/* Feed one received byte; runs the command when '%' arrives. Call it from one context only
 * (ee_main.c's loop): the whole command, an `infer` included, runs inside this call. */
void ee_serial_callback(char c);

/* Run one command (without its '%'); the text is split in place. Ends with m-ready. */
void ee_serial_command_parser_callback(char *cmd);

/* The bytes received with `db` since the last successful `db load`. */
size_t ee_get_buffer(uint8_t *dst, size_t max_len); /* copies min(received, max_len) bytes */
uint8_t *ee_get_buffer_pointer(void);               /* MAX_DB_INPUT_SIZE bytes, aligned */
size_t ee_get_buffer_length(void);                  /* bytes received so far */

/* Print the line m-outbytes-[<lowercase hex pairs>] (see th_print_output_bytes). */
void ee_print_output_bytes(const void *data, size_t len);

#if TINYGEN_PROFILE
/* Per-operator profile, read with th_profile_ticks(); the port calls these from th_infer:
 * ee_profile_start() as the inference begins, ee_profile_op_end(i) as operator i ends (the
 * time since the last ee_profile_op_begin() or ee_profile_op_end()), ee_profile_stop() at the
 * end. A runtime that times operators back to back (tinygen's native code) never calls
 * ee_profile_op_begin(); one with gaps between them (TFLM's interpreter loop) calls it as
 * each operator begins. */
void ee_profile_start(void);
void ee_profile_op_begin(void);
void ee_profile_op_end(uint32_t op_index);
void ee_profile_stop(void);
#endif

#ifdef __cplusplus
}
#endif

#endif /* TINYGEN_EE_BENCHMARK_H */
