/*
 * tinygen MLPerf Tiny harness: command reception, parsing and the benchmark sequence.
 * The protocol and every error line are documented in ee_benchmark.h.
 *
 * The harness uses no C library function directly (only th_* hooks), so a port decides what
 * it links.
 */
#include "ee_benchmark.h"

/* Largest accepted `infer` count or warm-up: fits a 32-bit signed int on every target. */
#define EE_MAX_INFER_COUNT 2147483647UL
#define EE_DB_BYTES_PER_LINE 8u
#define EE_OUTBYTES_CHUNK 32u

typedef enum {
    EE_NUM_OK,
    EE_NUM_NOT_A_NUMBER,
    EE_NUM_NEGATIVE,
    EE_NUM_TOO_BIG
} ee_num_status_t;

/* Everything the harness remembers; ee_benchmark_initialize() resets it. */
typedef struct {
    char cmd[EE_CMD_SIZE];
    size_t cmd_len;
    int cmd_too_long;       /* more than EE_CMD_SIZE - 1 characters since the last '%' */
    int cmd_bad_char;       /* first bad byte (0..255) of the command, or -1 */
    size_t db_expected;     /* size announced by the last successful `db load`; 0: none yet */
    size_t db_received;     /* bytes received since then, <= db_expected */
    int have_inference;     /* an `infer` has run, so results/outbytes have something to show */
} ee_state_t;

static ee_state_t ee_state;

/* The db buffer, aligned for any scalar a port may read from it (float input of ad01). */
static union {
    uint8_t bytes[MAX_DB_INPUT_SIZE];
    double align_double;
    uint64_t align_u64;
} ee_db_buffer;

static const char ee_hex_digits[] = "0123456789abcdef";

#if TINYGEN_PROFILE
/* The operators of the inference in progress or the last one: index and ticks each. */
static struct {
    uint32_t index[EE_PROFILE_OPS];
    uint32_t ticks[EE_PROFILE_OPS];
    uint32_t count;   /* operators ended, also beyond EE_PROFILE_OPS (then not recorded) */
    uint32_t last;    /* the reading the next operator's time counts from */
    uint32_t start;
    uint32_t total;
} ee_profile;
#endif

static void ee_reset_command(void)
{
    ee_state.cmd_len = 0;
    ee_state.cmd_too_long = 0;
    ee_state.cmd_bad_char = -1;
}

void ee_benchmark_initialize(void)
{
    ee_reset_command();
    ee_state.db_expected = 0;
    ee_state.db_received = 0;
    ee_state.have_inference = 0;
    th_serialport_initialize();
    th_timestamp_initialize();
    th_final_initialize();
    th_printf("m-init-done\r\n");
    th_printf("m-ready\r\n");
}

void ee_serial_callback(char c)
{
    unsigned char byte = (unsigned char)c;

    if (c == '%') {
        if (ee_state.cmd_too_long) {
            th_printf("e-[Command too long (max %u characters)]\r\n", (unsigned)(EE_CMD_SIZE - 1));
            th_printf("m-ready\r\n");
        } else if (ee_state.cmd_bad_char >= 0) {
            th_printf("e-[Bad character 0x%02x in command]\r\n", (unsigned)ee_state.cmd_bad_char);
            th_printf("m-ready\r\n");
        } else {
            ee_state.cmd[ee_state.cmd_len] = '\0';
            th_command_ready(ee_state.cmd);
        }
        ee_reset_command();
        return;
    }
    if (c == '\r' || c == '\n' || ee_state.cmd_too_long) {
        return;
    }
    if ((byte < 0x20u || byte > 0x7eu) && c != '\t' && ee_state.cmd_bad_char < 0) {
        ee_state.cmd_bad_char = (int)byte;
    }
    if (ee_state.cmd_len >= (size_t)(EE_CMD_SIZE - 1)) {
        ee_state.cmd_too_long = 1;
        return;
    }
    ee_state.cmd[ee_state.cmd_len] = c;
    ee_state.cmd_len++;
}

/* ---- small string helpers (no libc) ---- */

static int ee_is_space(char c)
{
    return c == ' ' || c == '\t';
}

static int ee_streq(const char *a, const char *b)
{
    while (*a != '\0' && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

/* Split off the next word of *cursor in place (NUL-terminating it); NULL when none is left. */
static char *ee_next_word(char **cursor)
{
    char *p = *cursor;
    char *word;

    while (ee_is_space(*p)) {
        p++;
    }
    if (*p == '\0') {
        *cursor = p;
        return NULL;
    }
    word = p;
    while (*p != '\0' && !ee_is_space(*p)) {
        p++;
    }
    if (*p != '\0') {
        *p = '\0';
        p++;
    }
    *cursor = p;
    return word;
}

/* True when nothing follows; otherwise prints the error for `command`. */
static int ee_expect_end(const char *command, char **cursor)
{
    const char *extra = ee_next_word(cursor);

    if (extra == NULL) {
        return 1;
    }
    th_printf("e-[%s: unexpected argument: %s]\r\n", command, extra);
    return 0;
}

/* Decimal digits with an optional leading '-'; never overflows, whatever the length. */
static ee_num_status_t ee_parse_decimal(const char *word, unsigned long max, unsigned long *value)
{
    const char *p = word;
    unsigned long v = 0;
    int negative = 0;
    int too_big = 0;

    if (*p == '-') {
        negative = 1;
        p++;
    }
    if (*p == '\0') {
        return EE_NUM_NOT_A_NUMBER;
    }
    for (; *p != '\0'; p++) {
        unsigned long digit;
        if (*p < '0' || *p > '9') {
            return EE_NUM_NOT_A_NUMBER;
        }
        digit = (unsigned long)(*p - '0');
        if (too_big) {
            continue;
        }
        if (digit > max || v > (max - digit) / 10u) {
            too_big = 1;
        } else {
            v = v * 10u + digit;
        }
    }
    if (negative && (too_big || v != 0u)) {
        return EE_NUM_NEGATIVE;
    }
    if (too_big) {
        return EE_NUM_TOO_BIG;
    }
    *value = v;
    return EE_NUM_OK;
}

static int ee_hex_value(char c)
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

/* ---- commands ---- */

static void ee_cmd_help(void)
{
    th_printf("tinygen MLPerf Tiny harness; commands end with '%%':\r\n");
    th_printf("  name         print the device name\r\n");
    th_printf("  profile      print the benchmark profile and the model\r\n");
    th_printf("  help         print this text\r\n");
    th_printf("  timestamp    take a timestamp\r\n");
    th_printf("  db load N    expect N input bytes (1..%lu)\r\n",
              (unsigned long)MAX_DB_INPUT_SIZE);
    th_printf("  db HEX       append input bytes, two hex digits each\r\n");
    th_printf("  db print     print the input bytes received\r\n");
    th_printf("  infer N W    W warm-up, then N timed inferences (default 1 10)\r\n");
    th_printf("  results      print the results of the last inference again\r\n");
    th_printf("  outbytes     print the raw output tensor of the last inference\r\n");
    th_printf("  memory       print the stack peak and heap use since reset\r\n");
#if TINYGEN_PROFILE
    th_printf("  opprofile    print the time of each operator of the last inference\r\n");
#endif
}

static void ee_cmd_db_load(char **cursor)
{
    const char *size_word = ee_next_word(cursor);
    unsigned long size = 0;

    if (size_word == NULL) {
        th_printf("e-[db load: missing size]\r\n");
        return;
    }
    switch (ee_parse_decimal(size_word, (unsigned long)MAX_DB_INPUT_SIZE, &size)) {
    case EE_NUM_OK:
        break;
    case EE_NUM_NOT_A_NUMBER:
        th_printf("e-[db load: size is not a decimal number: %s]\r\n", size_word);
        return;
    case EE_NUM_NEGATIVE:
        th_printf("e-[db load: size must be > 0]\r\n");
        return;
    case EE_NUM_TOO_BIG:
    default:
        th_printf("e-[db load: size %s exceeds the buffer of %lu bytes]\r\n", size_word,
                  (unsigned long)MAX_DB_INPUT_SIZE);
        return;
    }
    if (size == 0u) {
        th_printf("e-[db load: size must be > 0]\r\n");
        return;
    }
    if (!ee_expect_end("db load", cursor)) {
        return;
    }
    ee_state.db_expected = (size_t)size;
    ee_state.db_received = 0;
    th_printf("m-[Expecting %lu bytes]\r\n", size);
}

static void ee_cmd_db_print(void)
{
    /* "m-buffer-" plus "hh-" per byte, the last '-' replaced by the NUL. */
    char line[9u + 3u * EE_DB_BYTES_PER_LINE];
    size_t i = 0;

    while (i < ee_state.db_received) {
        size_t pos = 0;
        size_t in_line = 0;
        const char *prefix = "m-buffer-";
        while (*prefix != '\0') {
            line[pos++] = *prefix++;
        }
        for (; in_line < EE_DB_BYTES_PER_LINE && i < ee_state.db_received; in_line++, i++) {
            uint8_t byte = ee_db_buffer.bytes[i];
            if (in_line > 0u) {
                line[pos++] = '-';
            }
            line[pos++] = ee_hex_digits[byte >> 4];
            line[pos++] = ee_hex_digits[byte & 0x0fu];
        }
        line[pos] = '\0';
        th_printf("%s\r\n", line);
    }
}

/* Validate the whole chunk first so that a rejected one writes nothing. */
static void ee_cmd_db_data(const char *hex)
{
    size_t digits = 0;
    size_t count;
    size_t remaining;
    size_t i;

    for (; hex[digits] != '\0'; digits++) {
        if (ee_hex_value(hex[digits]) < 0) {
            th_printf("e-[db: bad hex digit '%c']\r\n", hex[digits]);
            return;
        }
    }
    if (digits % 2u != 0u) {
        th_printf("e-[db: odd number of hex digits]\r\n");
        return;
    }
    if (ee_state.db_expected == 0u) {
        th_printf("e-[db: no db load in progress]\r\n");
        return;
    }
    count = digits / 2u;
    remaining = ee_state.db_expected - ee_state.db_received;
    if (count > remaining) {
        th_printf("e-[db: %lu bytes exceed the %lu bytes still expected]\r\n",
                  (unsigned long)count, (unsigned long)remaining);
        return;
    }
    for (i = 0; i < count; i++) {
        int high = ee_hex_value(hex[2u * i]);
        int low = ee_hex_value(hex[2u * i + 1u]);
        ee_db_buffer.bytes[ee_state.db_received + i] = (uint8_t)((high << 4) | low);
    }
    ee_state.db_received += count;
    if (count > 0u && ee_state.db_received == ee_state.db_expected) {
        th_printf("m-load-done\r\n");
    }
}

static void ee_cmd_db(char **cursor)
{
    const char *word = ee_next_word(cursor);

    if (word == NULL) {
        th_printf("e-[db: missing argument]\r\n");
    } else if (ee_streq(word, "load")) {
        ee_cmd_db_load(cursor);
    } else if (ee_streq(word, "print")) {
        if (ee_expect_end("db print", cursor)) {
            ee_cmd_db_print();
        }
    } else if (ee_expect_end("db", cursor)) {
        ee_cmd_db_data(word);
    }
}

/* Parse an optional `infer` argument; prints the error and returns 0 when it is bad. */
static int ee_parse_infer_arg(const char *word, const char *what, unsigned long minimum,
                              unsigned long *value)
{
    unsigned long parsed = 0;

    if (word == NULL) {
        return 1; /* keep the default */
    }
    switch (ee_parse_decimal(word, EE_MAX_INFER_COUNT, &parsed)) {
    case EE_NUM_OK:
        if (parsed >= minimum) {
            *value = parsed;
            return 1;
        }
        break;
    case EE_NUM_NOT_A_NUMBER:
        th_printf("e-[infer: %s is not a decimal number: %s]\r\n", what, word);
        return 0;
    case EE_NUM_TOO_BIG:
        th_printf("e-[infer: %s out of range: %s]\r\n", what, word);
        return 0;
    case EE_NUM_NEGATIVE:
    default:
        break;
    }
    th_printf("e-[infer: %s must be %s]\r\n", what, minimum > 0u ? "> 0" : ">= 0");
    return 0;
}

static void ee_cmd_infer(char **cursor)
{
    unsigned long count = 1;
    unsigned long warmup = 10;
    unsigned long i;
    const char *count_word = ee_next_word(cursor);
    const char *warmup_word = count_word != NULL ? ee_next_word(cursor) : NULL;

    if (!ee_parse_infer_arg(count_word, "count", 1, &count) ||
        !ee_parse_infer_arg(warmup_word, "warm-up", 0, &warmup) ||
        !ee_expect_end("infer", cursor)) {
        return;
    }
    if (ee_state.db_expected == 0u) {
        th_printf("e-[infer: no input loaded]\r\n");
        return;
    }
    if (ee_state.db_received < ee_state.db_expected) {
        th_printf("e-[infer: input incomplete: %lu of %lu bytes]\r\n",
                  (unsigned long)ee_state.db_received, (unsigned long)ee_state.db_expected);
        return;
    }
#ifdef EE_CFG_INPUT_BYTES
    /* Checked here so that a wrong size runs nothing, rather than inferring a stale tensor. */
    if (ee_state.db_received != (size_t)EE_CFG_INPUT_BYTES) {
        th_printf("e-[infer: input is %lu bytes, the model takes %lu]\r\n",
                  (unsigned long)ee_state.db_received, (unsigned long)EE_CFG_INPUT_BYTES);
        return;
    }
#endif

    th_load_tensor();
    th_printf("m-warmup-start-%lu\r\n", warmup);
    for (i = 0; i < warmup; i++) {
        th_infer();
    }
    th_printf("m-warmup-done\r\n");
    th_printf("m-infer-start-%lu\r\n", count);
    th_timestamp();
    th_pre();
    for (i = 0; i < count; i++) {
        th_infer();
    }
    th_post();
    th_timestamp();
    th_printf("m-infer-done\r\n");
    ee_state.have_inference = 1;
    th_results();
}

/* True when an inference has run; otherwise prints the error for `command`. */
static int ee_expect_inference(const char *command)
{
    if (ee_state.have_inference) {
        return 1;
    }
    th_printf("e-[%s: no inference yet]\r\n", command);
    return 0;
}

#if TINYGEN_PROFILE
static void ee_cmd_opprofile(void)
{
    uint32_t i;

    if (ee_profile.count > (uint32_t)EE_PROFILE_OPS) {
        th_printf("e-[opprofile: %lu operators ran, EE_PROFILE_OPS is %lu]\r\n",
                  (unsigned long)ee_profile.count, (unsigned long)EE_PROFILE_OPS);
        return;
    }
    th_printf("m-opprofile-clock-%lu\r\n", (unsigned long)th_profile_clock_hz());
    for (i = 0; i < ee_profile.count; i++) {
        th_printf("m-opprofile-op-%lu-%lu\r\n", (unsigned long)ee_profile.index[i],
                  (unsigned long)ee_profile.ticks[i]);
    }
    th_printf("m-opprofile-total-%lu\r\n", (unsigned long)ee_profile.total);
}
#endif

void ee_serial_command_parser_callback(char *cmd)
{
    char empty[1] = {'\0'};
    char *cursor = cmd != NULL ? cmd : empty;
    const char *command = ee_next_word(&cursor);

    if (command == NULL) {
        /* Empty command: only m-ready, so a host can resynchronise with a bare '%'. */
    } else if (ee_streq(command, "db")) {
        ee_cmd_db(&cursor);
    } else if (ee_streq(command, "infer")) {
        ee_cmd_infer(&cursor);
    } else if (ee_streq(command, "name")) {
        if (ee_expect_end(command, &cursor)) {
            th_printf("m-name-dut-[%s]\r\n", TH_VENDOR_NAME_STRING);
        }
    } else if (ee_streq(command, "profile")) {
        if (ee_expect_end(command, &cursor)) {
            th_printf("m-profile-[%s]\r\n", EE_FIRMWARE_VERSION);
            th_printf("m-model-[%s]\r\n", TH_MODEL_VERSION);
        }
    } else if (ee_streq(command, "help")) {
        if (ee_expect_end(command, &cursor)) {
            ee_cmd_help();
        }
    } else if (ee_streq(command, "timestamp")) {
        if (ee_expect_end(command, &cursor)) {
            th_timestamp();
        }
    } else if (ee_streq(command, "results")) {
        if (ee_expect_end(command, &cursor) && ee_expect_inference(command)) {
            th_results();
        }
    } else if (ee_streq(command, "outbytes")) {
        if (ee_expect_end(command, &cursor) && ee_expect_inference(command)) {
            th_print_output_bytes();
        }
#if TINYGEN_PROFILE
    } else if (ee_streq(command, "opprofile")) {
        if (ee_expect_end(command, &cursor) && ee_expect_inference(command)) {
            ee_cmd_opprofile();
        }
#endif
    } else if (ee_streq(command, "memory")) {
        if (ee_expect_end(command, &cursor)) {
            th_memory_t usage;
            th_memory_usage(&usage);
            th_printf("m-memory-[stack_peak=%lu,stack_size=%lu,heap_used=%lu,heap_size=%lu]\r\n",
                      (unsigned long)usage.stack_peak, (unsigned long)usage.stack_size,
                      (unsigned long)usage.heap_used, (unsigned long)usage.heap_size);
        }
    } else {
        th_printf("e-[Unknown command: %s]\r\n", command);
    }
    th_printf("m-ready\r\n");
}

/* ---- buffer access for the port ---- */

size_t ee_get_buffer(uint8_t *dst, size_t max_len)
{
    size_t count = ee_state.db_received < max_len ? ee_state.db_received : max_len;

    if (dst != NULL && count > 0u) {
        th_memcpy(dst, ee_db_buffer.bytes, count);
    }
    return dst != NULL ? count : 0u;
}

uint8_t *ee_get_buffer_pointer(void)
{
    return ee_db_buffer.bytes;
}

size_t ee_get_buffer_length(void)
{
    return ee_state.db_received;
}

void ee_print_output_bytes(const void *data, size_t len)
{
    const uint8_t *bytes = (const uint8_t *)data;
    char chunk[2u * EE_OUTBYTES_CHUNK + 1u];
    size_t i = 0;

    th_printf("m-outbytes-[");
    while (bytes != NULL && i < len) {
        size_t pos = 0;
        for (; pos < 2u * EE_OUTBYTES_CHUNK && i < len; i++) {
            chunk[pos++] = ee_hex_digits[bytes[i] >> 4];
            chunk[pos++] = ee_hex_digits[bytes[i] & 0x0fu];
        }
        chunk[pos] = '\0';
        th_printf("%s", chunk);
    }
    th_printf("]\r\n");
}

#if TINYGEN_PROFILE
/* ---- per-operator profile (the port calls these from th_infer) ---- */

void ee_profile_start(void)
{
    ee_profile.count = 0;
    ee_profile.total = 0;
    ee_profile.start = th_profile_ticks();
    ee_profile.last = ee_profile.start;
}

void ee_profile_op_begin(void)
{
    ee_profile.last = th_profile_ticks();
}

void ee_profile_op_end(uint32_t op_index)
{
    uint32_t now = th_profile_ticks();

    if (ee_profile.count < (uint32_t)EE_PROFILE_OPS) {
        ee_profile.index[ee_profile.count] = op_index;
        ee_profile.ticks[ee_profile.count] = now - ee_profile.last;
    }
    ee_profile.count++;
    ee_profile.last = now;
}

void ee_profile_stop(void)
{
    ee_profile.total = th_profile_ticks() - ee_profile.start;
}
#endif
