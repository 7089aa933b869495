/*
 * Protocol fuzzer for the tinygen harness (templates/harness), built with ASan/UBSan.
 *
 * Each input is a byte stream fed to ee_serial_callback() one byte at a time after a fresh
 * ee_benchmark_initialize(), so an input is reproducible on its own from (seed, index). Inputs
 * mix valid commands, full loads followed by `infer`, random hex, garbage bytes, over-long
 * commands and mutated commands. Besides the sanitizers, every answer is checked against a
 * small model of the protocol written from ee_benchmark.h:
 *   - only '%' produces output; the answer is printable ASCII lines ending in CR LF, with
 *     exactly one m-ready, last, and at most one e-[...] line;
 *   - each command is accepted or rejected exactly when the model says so; a rejected command
 *     changes neither the buffer nor the load state;
 *   - accepted `db` chunks append exactly their bytes; m-load-done comes with the last byte;
 *   - `infer N W` loads once, runs W + N inferences with exactly N between th_pre and th_post,
 *     and only ever on a complete load;
 *   - after each input the harness still answers `name`.
 * A valid `infer` asking for more than FUZZ_MAX_INFERS loops is neutralised by a 0x01 byte
 * before its '%' (it would only be slow).
 *
 *   fuzz_protocol [--seed S] [--count N] [--start I] [--max-len L]   run generated inputs
 *   fuzz_protocol --dump [--seed S] [--start I]                       write input I to stdout
 *   fuzz_protocol --replay FILE...                                    run files as inputs
 * Build with -DTINYGEN_LIBFUZZER and clang -fsanitize=fuzzer for a libFuzzer target instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ee_benchmark.h"
#include "host_common.h"

#define FUZZ_MAX_INPUT 16384u
#define FUZZ_OUT_SIZE 65536u
#define FUZZ_MAX_INFERS 100000UL /* per command; commands asking for more are neutralised */
#define FUZZ_MAX_COUNT 2147483647UL
#define FUZZ_MAX_WORDS 8

/* ---- what the port saw while one byte was handled ---- */
static char out_buf[FUZZ_OUT_SIZE];
static size_t out_len;
static unsigned long n_load, n_infer, n_pre, n_post, n_results, n_timed;
static int in_timed;

/* ---- the model: protocol state as the spec says it must be ---- */
static size_t model_expected;  /* announced by the last accepted `db load`; 0: none */
static size_t model_received;
static int model_inferred;

/* ---- the command being sent, as the fuzzer sent it ---- */
static char sent_cmd[FUZZ_MAX_INPUT + 1];
static size_t sent_len; /* characters other than CR and LF since the last '%' */
static int sent_bad;    /* first byte outside printable ASCII and TAB, or -1 */

/* ---- context for failure reports and statistics ---- */
static const char *where_source = "";
static unsigned long long where_seed;
static unsigned long where_index;
static size_t where_offset;
static unsigned long long stat_bytes, stat_commands, stat_errors, stat_infers, stat_loads;

static void fail(const char *what)
{
    size_t i;
    fprintf(stderr, "fuzz_protocol: FAILURE: %s\n", what);
    fprintf(stderr, "  input %s seed %llu index %lu, byte offset %lu\n", where_source, where_seed,
            where_index, (unsigned long)where_offset);
    fprintf(stderr, "  command sent (%lu characters): \"", (unsigned long)sent_len);
    for (i = 0; i < sent_len && i < 200u; i++) {
        unsigned char c = (unsigned char)sent_cmd[i];
        if (c >= 0x20u && c <= 0x7eu) {
            fputc(c, stderr);
        } else {
            fprintf(stderr, "\\x%02x", c);
        }
    }
    fprintf(stderr, "\"\n  answer:\n%.*s\n", (int)out_len, out_buf);
    abort();
}

/* ---- the port ---- */

void th_serialport_initialize(void)
{
}

void th_timestamp_initialize(void)
{
    th_printf("m-timestamp-mode-performance\r\n");
    th_timestamp();
}

void th_timestamp(void)
{
    static unsigned long clock_us;
    th_printf("m-lap-us-%lu\r\n", clock_us);
    clock_us += 7u;
}

void th_final_initialize(void)
{
}

void th_load_tensor(void)
{
    static uint8_t copy[MAX_DB_INPUT_SIZE];
    size_t len = ee_get_buffer_length();

    if (model_expected == 0u || len != model_expected) {
        fail("th_load_tensor called without a complete load");
    }
#ifdef EE_CFG_INPUT_BYTES
    if (len != EE_CFG_INPUT_BYTES) {
        fail("th_load_tensor called with a size other than EE_CFG_INPUT_BYTES");
    }
#endif
    if (ee_get_buffer(copy, sizeof copy) != len ||
        memcmp(copy, ee_get_buffer_pointer(), len) != 0) {
        fail("ee_get_buffer disagrees with ee_get_buffer_pointer");
    }
    n_load++;
}

void th_infer(void)
{
    n_infer++;
    if (in_timed) {
        n_timed++;
    }
    if (n_infer > FUZZ_MAX_INFERS) {
        fail("runaway inference loop");
    }
}

void th_pre(void)
{
    n_pre++;
    n_timed = 0;
    in_timed = 1;
}

void th_post(void)
{
    n_post++;
    in_timed = 0;
}

void th_results(void)
{
    n_results++;
    th_printf("m-results-[%lu]\r\n", n_timed);
}

void th_print_output_bytes(void)
{
    ee_print_output_bytes(ee_get_buffer_pointer(), ee_get_buffer_length());
}


void th_vprintf(const char *fmt, va_list args)
{
    size_t room = sizeof out_buf - out_len;
    int n = vsnprintf(out_buf + out_len, room, fmt, args);
    if (n < 0 || (size_t)n >= room) {
        fail("answer too long for the capture buffer");
    }
    out_len += (size_t)n;
}

int th_getchar(void)
{
    fail("th_getchar is not used by the fuzzer");
    return 0;
}

void th_command_ready(char volatile *cmd)
{
    ee_serial_command_parser_callback((char *)cmd);
}

/* ---- the model of the protocol ---- */

static unsigned long buffer_hash(void)
{
    const uint8_t *p = ee_get_buffer_pointer();
    size_t len = ee_get_buffer_length();
    unsigned long hash = 2166136261UL;
    size_t i;
    for (i = 0; i < len; i++) {
        hash = ((hash ^ p[i]) * 16777619UL) & 0xffffffffUL;
    }
    return hash;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Optional '-', then digits; a '-' is only allowed on zero. Valid when in [min, max]. */
static int model_number(const char *w, unsigned long min, unsigned long max, unsigned long *v)
{
    int negative = (*w == '-');
    unsigned long value = 0;
    int saturated = 0;
    const char *p = w + negative;

    if (*p == '\0') {
        return 0;
    }
    for (; *p != '\0'; p++) {
        if (*p < '0' || *p > '9') {
            return 0;
        }
        if (value >= 429496729UL) {
            saturated = 1;
        } else {
            value = value * 10u + (unsigned long)(*p - '0');
        }
    }
    if (saturated || (negative && value != 0u) || value < min || value > max) {
        return 0;
    }
    *v = value;
    return 1;
}

/* The arguments of a valid `infer` command (words[0] is "infer"). */
static int model_infer_args(char **w, size_t n, unsigned long *count, unsigned long *warmup)
{
    *count = 1;
    *warmup = 10;
    return n <= 3u && (n < 2u || model_number(w[1], 1u, FUZZ_MAX_COUNT, count)) &&
           (n < 3u || model_number(w[2], 0u, FUZZ_MAX_COUNT, warmup));
}

static size_t split_words(char *text, char **words)
{
    size_t n = 0;
    char *p = text;
    for (;;) {
        while (*p == ' ' || *p == '\t') {
            p++;
        }
        if (*p == '\0') {
            return n;
        }
        if (n < FUZZ_MAX_WORDS) {
            words[n] = p;
        }
        n++;
        while (*p != '\0' && *p != ' ' && *p != '\t') {
            p++;
        }
        if (*p != '\0') {
            *p++ = '\0';
        }
    }
}

typedef struct {
    size_t lines;
    int error;                /* index of the e- line or -1 */
    unsigned long expecting;  /* from m-[Expecting N bytes], 0 if absent */
    int load_done;
    int warmup_start, warmup_done, infer_start, infer_done, results;  /* line indexes or -1 */
    unsigned long warmup, count;
    int laps;
    char first[160];          /* the first line, for exact comparisons */
} answer_t;

static int starts_with(const char *s, size_t len, const char *prefix)
{
    size_t n = strlen(prefix);
    return len >= n && memcmp(s, prefix, n) == 0;
}

/* Check the form of the answer (lines, m-ready) and summarise it. */
static void read_answer(answer_t *a)
{
    size_t pos = 0;
    int ready = 0;

    memset(a, 0, sizeof *a);
    a->error = a->warmup_start = a->warmup_done = a->infer_start = a->infer_done = a->results = -1;
    while (pos < out_len) {
        const char *line = out_buf + pos;
        size_t len = 0;
        int index = (int)a->lines;
        while (pos + len < out_len && line[len] != '\r' && line[len] != '\n') {
            unsigned char c = (unsigned char)line[len];
            if (c < 0x20u || c > 0x7eu) {
                fail("answer holds a non-printable byte");
            }
            len++;
        }
        if (pos + len + 1u >= out_len || line[len] != '\r' || line[len + 1u] != '\n') {
            fail("answer line not terminated by CR LF");
        }
        pos += len + 2u;
        a->lines++;
        if (ready) {
            fail("output after m-ready");
        }
        if (index == 0) {
            size_t n = len < sizeof a->first - 1u ? len : sizeof a->first - 1u;
            memcpy(a->first, line, n);
            a->first[n] = '\0';
        }
        if (len == 7u && memcmp(line, "m-ready", 7) == 0) {
            ready = 1;
        } else if (starts_with(line, len, "e-")) {
            if (a->error >= 0 || !starts_with(line, len, "e-[") || line[len - 1u] != ']') {
                fail("more than one e- line, or one not of the form e-[...]");
            }
            a->error = index;
        } else if (starts_with(line, len, "m-[Expecting ")) {
            a->expecting = strtoul(line + 13, NULL, 10);
        } else if (len == 11u && memcmp(line, "m-load-done", 11) == 0) {
            a->load_done = 1;
        } else if (starts_with(line, len, "m-warmup-start-")) {
            a->warmup_start = index;
            a->warmup = strtoul(line + 15, NULL, 10);
        } else if (len == 13u && memcmp(line, "m-warmup-done", 13) == 0) {
            a->warmup_done = index;
        } else if (starts_with(line, len, "m-infer-start-")) {
            a->infer_start = index;
            a->count = strtoul(line + 14, NULL, 10);
        } else if (len == 12u && memcmp(line, "m-infer-done", 12) == 0) {
            a->infer_done = index;
        } else if (starts_with(line, len, "m-results-")) {
            a->results = index;
        } else if (starts_with(line, len, "m-lap-us-")) {
            a->laps++;
        } else if (starts_with(line, len, "m-outbytes-[")) {
            if (len != 13u + 2u * ee_get_buffer_length() || line[len - 1u] != ']') {
                fail("m-outbytes line of the wrong length");
            }
        }
    }
    if (!ready) {
        fail("answer does not end with m-ready");
    }
}

static void expect_only_error(const answer_t *a, const char *expected)
{
    if (a->lines != 2u || a->error != 0 || strcmp(a->first, expected) != 0) {
        fprintf(stderr, "expected: %s\n", expected);
        fail("wrong answer to a malformed command");
    }
}

/* Decide from the model whether the command must be accepted, then compare. */
static void check_command(const answer_t *a, size_t old_len, unsigned long old_hash)
{
    char text[EE_CMD_SIZE];
    char *w[FUZZ_MAX_WORDS];
    size_t n;
    int accept = 0;
    int is_chunk = 0;
    int is_load = 0;
    int is_infer = 0;
    size_t chunk_bytes = 0;
    unsigned long load_size = 0, count = 1, warmup = 10;

    memcpy(text, sent_cmd, sent_len);
    text[sent_len] = '\0';
    n = split_words(text, w);
    if (n == 0u) {
        if (a->lines != 1u) {
            fail("empty command answered more than m-ready");
        }
        return;
    }
    if (strcmp(w[0], "db") == 0 && n >= 2u && strcmp(w[1], "load") == 0) {
        is_load = 1;
        accept = n == 3u && w[2][0] != '-' &&
                 model_number(w[2], 1u, (unsigned long)MAX_DB_INPUT_SIZE, &load_size);
    } else if (strcmp(w[0], "db") == 0 && n >= 2u && strcmp(w[1], "print") == 0) {
        accept = n == 2u;
    } else if (strcmp(w[0], "db") == 0 && n == 2u) {
        size_t digits = strlen(w[1]);
        size_t i;
        int all_hex = 1;
        for (i = 0; i < digits; i++) {
            all_hex = all_hex && hex_value(w[1][i]) >= 0;
        }
        is_chunk = 1;
        chunk_bytes = digits / 2u;
        accept = all_hex && digits % 2u == 0u && model_expected > 0u &&
                 chunk_bytes <= model_expected - model_received;
    } else if (strcmp(w[0], "db") == 0) {
        accept = 0;
    } else if (strcmp(w[0], "infer") == 0) {
        is_infer = 1;
        accept = model_infer_args(w, n, &count, &warmup) && model_expected > 0u &&
                 model_received == model_expected;
#ifdef EE_CFG_INPUT_BYTES
        accept = accept && model_received == EE_CFG_INPUT_BYTES;
#endif
    } else if (strcmp(w[0], "results") == 0 || strcmp(w[0], "outbytes") == 0) {
        accept = n == 1u && model_inferred;
    } else if (strcmp(w[0], "name") == 0 || strcmp(w[0], "profile") == 0 ||
               strcmp(w[0], "help") == 0 || strcmp(w[0], "timestamp") == 0) {
        accept = n == 1u;
    } else {
        char expected[EE_CMD_SIZE + 32];
        snprintf(expected, sizeof expected, "e-[Unknown command: %s]", w[0]);
        expect_only_error(a, expected);
    }

    if (accept != (a->error < 0)) {
        fail(accept ? "valid command rejected" : "invalid command accepted");
    }
    if (!accept) {
        if (a->lines != 2u) {
            fail("a rejected command printed more than its e- line");
        }
        if (ee_get_buffer_length() != old_len || buffer_hash() != old_hash) {
            fail("a rejected command changed the buffer");
        }
        return;
    }
    stat_commands++;
    if (is_load) {
        if (a->expecting != load_size || ee_get_buffer_length() != 0u) {
            fail("db load: wrong announcement or buffer not restarted");
        }
        model_expected = load_size;
        model_received = 0;
        return;
    }
    if (is_chunk) {
        size_t i;
        const uint8_t *p = ee_get_buffer_pointer();
        if (ee_get_buffer_length() != old_len + chunk_bytes) {
            fail("db chunk: wrong number of bytes appended");
        }
        for (i = 0; i < chunk_bytes; i++) {
            int byte = hex_value(w[1][2u * i]) * 16 + hex_value(w[1][2u * i + 1u]);
            if (p[old_len + i] != (uint8_t)byte) {
                fail("db chunk: wrong byte stored");
            }
        }
        model_received += chunk_bytes;
        if (a->load_done != (model_received == model_expected)) {
            fail("m-load-done missing or early");
        }
        return;
    }
    if (ee_get_buffer_length() != old_len || buffer_hash() != old_hash) {
        fail("a command other than db changed the buffer");
    }
    if (is_infer) {
        if (a->warmup != warmup || a->count != count || n_load != 1u ||
            n_infer != warmup + count || n_timed != count || n_pre != 1u || n_post != 1u ||
            n_results != 1u || a->laps != 2) {
            fail("infer: wrong sequence of hooks");
        }
        if (!(a->warmup_start >= 0 && a->warmup_start < a->warmup_done &&
              a->warmup_done < a->infer_start && a->infer_start < a->infer_done &&
              a->infer_done < a->results)) {
            fail("infer: lines out of order");
        }
        model_inferred = 1;
        stat_infers += count + warmup;
        stat_loads++;
    }
}

/* True when the pending command is a valid `infer` asking for more than FUZZ_MAX_INFERS
 * loops: a slow input, not a finding. */
static int pending_infer_too_long(void)
{
    char text[EE_CMD_SIZE];
    char *w[FUZZ_MAX_WORDS];
    size_t n;
    unsigned long count, warmup;

    if (sent_bad >= 0 || sent_len > (size_t)(EE_CMD_SIZE - 1)) {
        return 0;
    }
    memcpy(text, sent_cmd, sent_len);
    text[sent_len] = '\0';
    n = split_words(text, w);
    return n >= 1u && strcmp(w[0], "infer") == 0 && model_infer_args(w, n, &count, &warmup) &&
           count + warmup > FUZZ_MAX_INFERS;
}

static void feed(char c)
{
    size_t old_len = ee_get_buffer_length();
    unsigned long old_hash = c == '%' ? buffer_hash() : 0u;
    answer_t answer;

    if (c == '%' && pending_infer_too_long()) {
        feed('\x01'); /* turns it into a rejected command */
        old_len = ee_get_buffer_length();
    }
    out_len = 0;
    n_load = n_infer = n_pre = n_post = n_results = 0;
    in_timed = 0;
    ee_serial_callback(c);
    where_offset++;
    if (c != '%') {
        unsigned char byte = (unsigned char)c;
        if (out_len != 0u) {
            fail("output before '%'");
        }
        if (c == '\r' || c == '\n') {
            return;
        }
        if (sent_bad < 0 && (byte < 0x20u || byte > 0x7eu) && c != '\t') {
            sent_bad = byte;
        }
        if (sent_len < FUZZ_MAX_INPUT) {
            sent_cmd[sent_len++] = c;
        }
        return;
    }

    read_answer(&answer);
    if (answer.error >= 0) {
        stat_errors++;
    }
    if (answer.infer_start < 0 && (n_load != 0u || n_infer != 0u || n_pre != 0u)) {
        fail("hooks ran outside infer");
    }
    if (sent_len > (size_t)(EE_CMD_SIZE - 1)) {
        char expected[64];
        snprintf(expected, sizeof expected, "e-[Command too long (max %u characters)]",
                 (unsigned)(EE_CMD_SIZE - 1));
        expect_only_error(&answer, expected);
    } else if (sent_bad >= 0) {
        char expected[64];
        snprintf(expected, sizeof expected, "e-[Bad character 0x%02x in command]",
                 (unsigned)sent_bad);
        expect_only_error(&answer, expected);
    } else {
        check_command(&answer, old_len, old_hash);
    }
    if (ee_get_buffer_length() != model_received || ee_get_buffer_length() > MAX_DB_INPUT_SIZE) {
        fail("buffer length differs from the model");
    }
    sent_len = 0;
    sent_bad = -1;
}

static void feed_text(const char *text)
{
    while (*text != '\0') {
        feed(*text++);
    }
}

static void run_input(const uint8_t *data, size_t size)
{
    static const char name_answer[] = "m-name-dut-[" TH_VENDOR_NAME_STRING "]\r\nm-ready\r\n";
    static const char init_end[] = "m-init-done\r\nm-ready\r\n";
    const size_t init_len = sizeof init_end - 1u;
    size_t i;

    out_len = 0;
    ee_benchmark_initialize();
    if (out_len < init_len || memcmp(out_buf + out_len - init_len, init_end, init_len) != 0) {
        fail("initialisation does not end with m-init-done, m-ready");
    }
    model_expected = model_received = 0;
    model_inferred = 0;
    sent_len = 0;
    sent_bad = -1;
    where_offset = 0;
    for (i = 0; i < size; i++) {
        feed((char)data[i]);
    }
    /* Still alive: finish whatever was pending, then an exact `name`. */
    feed('%');
    feed_text("name%");
    if (out_len != sizeof name_answer - 1u || memcmp(out_buf, name_answer, out_len) != 0) {
        fail("no exact answer to `name` after the input");
    }
    stat_bytes += size;
}

#ifdef TINYGEN_LIBFUZZER

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    where_source = "libfuzzer";
    run_input(data, size);
    return 0;
}

#else

/* ---- the generator ---- */

typedef struct {
    unsigned long long state;
} rng_t;

static unsigned long long rng_next(rng_t *r)
{
    unsigned long long z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t rng_below(rng_t *r, size_t n)
{
    return (size_t)(rng_next(r) % (unsigned long long)n);
}

typedef struct {
    uint8_t data[FUZZ_MAX_INPUT];
    size_t len;
} input_t;

static void put_byte(input_t *in, int c)
{
    if (in->len < sizeof in->data) {
        in->data[in->len++] = (uint8_t)c;
    }
}

static void put_text(input_t *in, const char *text)
{
    while (*text != '\0') {
        put_byte(in, *text++);
    }
}

static const char *pick(rng_t *r, const char *const *choices, size_t n)
{
    return choices[rng_below(r, n)];
}

#define PICK(r, array) pick(r, array, sizeof(array) / sizeof(array[0]))

static void put_hex_bytes(rng_t *r, input_t *in, size_t count)
{
    static const char digits[] = "0123456789abcdefABCDEF";
    size_t i;
    for (i = 0; i < 2u * count; i++) {
        put_byte(in, digits[rng_below(r, sizeof digits - 1u)]);
    }
}

static void put_number(rng_t *r, input_t *in, unsigned long max)
{
    char text[32];
    snprintf(text, sizeof text, "%lu", (unsigned long)rng_below(r, (size_t)max + 1u));
    put_text(in, text);
}

static void put_db_load_arg(rng_t *r, input_t *in)
{
    static const char *const odd[] = {
        "0", "-1", "-0", "+4", "x", "4x", "0x10", "", "007", "4 5",
        "99999999999999999999999", "4294967296", "18446744073709551617",
    };
    char text[32];
    switch (rng_below(r, 5)) {
    case 0:
        put_text(in, PICK(r, odd));
        break;
    case 1:
        snprintf(text, sizeof text, "%lu", (unsigned long)MAX_DB_INPUT_SIZE + rng_below(r, 3));
        put_text(in, text);
        break;
    default:
        put_number(r, in, (unsigned long)MAX_DB_INPUT_SIZE);
        break;
    }
}

static void put_db_chunk(rng_t *r, input_t *in)
{
    size_t start = in->len;
    size_t i;
    put_text(in, "db ");
    put_hex_bytes(r, in, rng_below(r, 40) + (rng_below(r, 4) == 0 ? 0u : 1u));
    if (rng_below(r, 8) == 0 && in->len > start + 3u) {
        in->len--; /* odd digit count */
    }
    if (rng_below(r, 10) == 0 && in->len > start + 3u) {
        static const char bad[] = "gxzG-+.:'";
        i = start + 3u + rng_below(r, in->len - start - 3u);
        in->data[i] = (uint8_t)bad[rng_below(r, sizeof bad - 1u)];
    }
}

static void put_infer_arg(rng_t *r, input_t *in, int warmup)
{
    static const char *const odd[] = {
        "0", "-1", "-0", "x", "1x", "+1", "2147483648", "99999999999", "4294967297", "--1",
    };
    if (rng_below(r, 4) == 0) {
        put_text(in, PICK(r, odd));
    } else {
        put_number(r, in, warmup ? 4u : 5u);
    }
}

static void put_infer(rng_t *r, input_t *in)
{
    size_t args = rng_below(r, 4);
    put_text(in, "infer");
    if (args >= 1u) {
        put_byte(in, ' ');
        put_infer_arg(r, in, 0);
    }
    if (args >= 2u) {
        put_byte(in, ' ');
        put_infer_arg(r, in, 1);
    }
    if (args >= 3u) {
        put_text(in, " 1");
    }
}

/* db load K, chunks that fit a command until complete, infer: the runner's conversation. */
static void put_full_load(rng_t *r, input_t *in)
{
    const size_t max_chunk = (EE_CMD_SIZE - 1u - 3u) / 2u; /* "db " + two digits a byte */
    size_t total = 1u + rng_below(r, MAX_DB_INPUT_SIZE);
    size_t sent = 0;
#ifdef EE_CFG_INPUT_BYTES
    if (rng_below(r, 4) != 0) {
        total = EE_CFG_INPUT_BYTES; /* mostly the size the model takes */
    }
#endif
    char text[48];
    snprintf(text, sizeof text, "db load %lu%%", (unsigned long)total);
    put_text(in, text);
    while (sent < total) {
        size_t chunk = 1u + rng_below(r, max_chunk);
        if (chunk > total - sent) {
            chunk = total - sent;
        }
        put_text(in, "db ");
        put_hex_bytes(r, in, chunk);
        put_byte(in, '%');
        sent += chunk;
    }
    snprintf(text, sizeof text, "infer %lu %lu%%", (unsigned long)(1u + rng_below(r, 3)),
             (unsigned long)rng_below(r, 3));
    put_text(in, text);
}

static void put_valid_simple(rng_t *r, input_t *in)
{
    static const char *const simple[] = {
        "name", "profile", "help", "timestamp", "results", "outbytes", "db print", "",
    };
    put_text(in, PICK(r, simple));
}

static void put_mutated(rng_t *r, input_t *in)
{
    size_t start = in->len;
    size_t mutations = 1u + rng_below(r, 3);
    switch (rng_below(r, 4)) {
    case 0:
        put_valid_simple(r, in);
        break;
    case 1:
        put_text(in, "db load ");
        put_db_load_arg(r, in);
        break;
    case 2:
        put_db_chunk(r, in);
        break;
    default:
        put_infer(r, in);
        break;
    }
    while (mutations-- > 0u && in->len > start && in->len < sizeof in->data) {
        size_t at = start + rng_below(r, in->len - start);
        int byte = (int)rng_below(r, 256);
        switch (rng_below(r, 3)) {
        case 0:
            in->data[at] = (uint8_t)byte;
            break;
        case 1:
            memmove(in->data + at, in->data + at + 1u, in->len - at - 1u);
            in->len--;
            break;
        default:
            memmove(in->data + at + 1u, in->data + at, in->len - at);
            in->data[at] = (uint8_t)byte;
            in->len++;
            break;
        }
    }
}

static void put_segment(rng_t *r, input_t *in)
{
    static const char near[] = " %abdefhilmnoprstux0123456789-\t\r\n";
    static const char *const spaces[] = {"", " ", "  ", "\t", " \t "};
    size_t i;
    size_t n;
    int terminate = 1;

    switch (rng_below(r, 13)) {
    case 0:
    case 1:
        put_text(in, PICK(r, spaces));
        put_valid_simple(r, in);
        put_text(in, PICK(r, spaces));
        break;
    case 2:
        put_text(in, "db load ");
        put_db_load_arg(r, in);
        break;
    case 3:
    case 4:
        put_db_chunk(r, in);
        break;
    case 5:
        put_infer(r, in);
        break;
    case 6:
        n = rng_below(r, 64);
        for (i = 0; i < n; i++) {
            put_byte(in, (int)rng_below(r, 256));
        }
        terminate = (int)rng_below(r, 2);
        break;
    case 7:
        n = rng_below(r, 64);
        for (i = 0; i < n; i++) {
            put_byte(in, near[rng_below(r, sizeof near - 1u)]);
        }
        break;
    case 8:
        /* around the command length limit, sometimes as a db chunk */
        n = EE_CMD_SIZE - 4u + rng_below(r, 8);
        if (rng_below(r, 2) == 0) {
            put_text(in, "db ");
            put_hex_bytes(r, in, (n - 3u) / 2u);
        } else {
            for (i = 0; i < n; i++) {
                put_byte(in, 'a');
            }
        }
        if (rng_below(r, 8) == 0) {
            for (i = 0; i < 2000u; i++) {
                put_byte(in, 'z');
            }
        }
        break;
    case 9:
    case 10:
        put_full_load(r, in);
        terminate = 0;
        break;
    case 11:
        put_mutated(r, in);
        break;
    default:
        put_text(in, rng_below(r, 2) == 0 ? "\r\n" : "");
        break;
    }
    if (terminate) {
        put_byte(in, '%');
    }
}

static void generate(unsigned long long seed, unsigned long index, size_t max_len, input_t *in)
{
    rng_t r;
    size_t target;
    r.state = seed * 0x2545f4914f6cdd1dULL + index;
    (void)rng_next(&r);
    target = rng_below(&r, max_len + 1u);
    in->len = 0;
    while (in->len < target && in->len < sizeof in->data) {
        put_segment(&r, in);
    }
}

static int replay_file(const char *path)
{
    static input_t in;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        fprintf(stderr, "fuzz_protocol: cannot open %s\n", path);
        return 0;
    }
    in.len = fread(in.data, 1, sizeof in.data, f);
    fclose(f);
    where_source = path;
    run_input(in.data, in.len);
    return 1;
}

static unsigned long long parse_option(const char *name, const char *value)
{
    char *end = NULL;
    unsigned long long v;
    if (value == NULL) {
        fprintf(stderr, "fuzz_protocol: %s needs a value\n", name);
        exit(2);
    }
    v = strtoull(value, &end, 10);
    if (end == value || *end != '\0') {
        fprintf(stderr, "fuzz_protocol: %s: not a number: %s\n", name, value);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static input_t in;
    unsigned long long seed = 1;
    unsigned long count = 1000;
    unsigned long start = 0;
    size_t max_len = 4096;
    int dump = 0;
    int replayed = 0;
    unsigned long i;
    int arg;

    for (arg = 1; arg < argc; arg++) {
        const char *value = arg + 1 < argc ? argv[arg + 1] : NULL;
        if (strcmp(argv[arg], "--seed") == 0) {
            seed = parse_option(argv[arg++], value);
        } else if (strcmp(argv[arg], "--count") == 0) {
            count = (unsigned long)parse_option(argv[arg++], value);
        } else if (strcmp(argv[arg], "--start") == 0) {
            start = (unsigned long)parse_option(argv[arg++], value);
        } else if (strcmp(argv[arg], "--max-len") == 0) {
            max_len = (size_t)parse_option(argv[arg++], value);
        } else if (strcmp(argv[arg], "--dump") == 0) {
            dump = 1;
        } else if (strcmp(argv[arg], "--replay") == 0) {
            for (arg++; arg < argc; arg++) {
                if (!replay_file(argv[arg])) {
                    return 2;
                }
                replayed++;
            }
        } else {
            fprintf(stderr, "usage: fuzz_protocol [--seed S] [--count N] [--start I] "
                            "[--max-len L] [--dump] [--replay FILE...]\n");
            return 2;
        }
    }
    if (replayed > 0) {
        printf("fuzz_protocol: %d inputs replayed, 0 failures\n", replayed);
        return 0;
    }
    if (dump) {
        generate(seed, start, max_len, &in);
        fwrite(in.data, 1, in.len, stdout);
        return 0;
    }
    where_source = "generated";
    where_seed = seed;
    for (i = start; i < start + count; i++) {
        where_index = i;
        generate(seed, i, max_len, &in);
        run_input(in.data, in.len);
    }
    printf("fuzz_protocol: %lu inputs, %llu bytes, %llu commands accepted, %llu rejected, "
           "%llu loads inferred (%llu inferences), 0 failures, seed %llu\n",
           count, stat_bytes, stat_commands, stat_errors, stat_loads, stat_infers, seed);
    return 0;
}

#endif /* TINYGEN_LIBFUZZER */
