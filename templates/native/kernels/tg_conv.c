/*
 * tinygen native runtime: int8 CONV_2D.
 *
 * CONV_2D is im2col + a 2x2-blocked matrix product: each output pixel's receptive field is
 * gathered into a column of k_h * k_w * in_c bytes (taps outside the image read the input zero
 * point, which the folded bias cancels exactly; 1x1 convolutions read the input in place), two
 * columns are interleaved, and two output channels are computed together against them, so
 * that every byte loaded serves two multiply-accumulates (see tg_dot.h for the layouts). A
 * depthwise convolution of one input channel into four or more output channels (a depth
 * multiplier of 4 or more) is lowered to this kernel too.
 */
#include <string.h>

#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"

static inline void tg_store4(int8_t *p, uint32_t v)
{
    memcpy(p, &v, sizeof v);  /* an unaligned STR */
}

/* n bytes from src to dst (not overlapping); a short run (a filter row of a few channels) as
 * up to four word copies, the last one overlapping the one before when n is not a multiple
 * of four: no loop. */
static inline void tg_bytes(int8_t *dst, const int8_t *src, int32_t n)
{
    if (n >= 16) {
        memcpy(dst, src, (size_t)n);
    } else if (n >= 4) {
        const uint32_t last = tg_load4(src + n - 4);
        if (n > 4) {
            const uint32_t a = tg_load4(src);
            if (n > 8) {
                const uint32_t b = tg_load4(src + 4);
                if (n > 12) {
                    tg_store4(dst + 8, tg_load4(src + 8));
                }
                tg_store4(dst + 4, b);
            }
            tg_store4(dst, a);
        }
        tg_store4(dst + n - 4, last);
    } else {
        for (int32_t i = 0; i < n; ++i) {
            dst[i] = src[i];
        }
    }
}

static inline void tg_fill(int8_t *dst, int32_t value, int32_t n)
{
    for (int32_t i = 0; i < n; ++i) {
        dst[i] = (int8_t)value;
    }
}

/* Copies the receptive field of output pixel (oy, ox) to col (k_h * k_w * in_c bytes). */
static void tg_gather(const tg_conv_t *p, const int8_t *image, int32_t oy, int32_t ox,
                      int8_t *col)
{
    const int32_t y0 = oy * p->stride_h - p->pad_h;
    const int32_t x0 = ox * p->stride_w - p->pad_w;
    const int32_t c = p->in_c;
    const int32_t row = p->k_w * c;
    const int whole = p->dil_w == 1 && x0 >= 0 && x0 + p->k_w <= p->in_w;
    for (int32_t ky = 0; ky < p->k_h; ++ky, col += row) {
        const int32_t y = y0 + ky * p->dil_h;
        if (y < 0 || y >= p->in_h) {
            tg_fill(col, p->in_zp, row);
        } else if (whole) {
            /* The filter row lies inside the image: its taps are contiguous in the input. */
            tg_bytes(col, image + (y * p->in_w + x0) * c, row);
        } else {
            for (int32_t kx = 0; kx < p->k_w; ++kx) {
                const int32_t x = x0 + kx * p->dil_w;
                if (x < 0 || x >= p->in_w) {
                    tg_fill(col + kx * c, p->in_zp, c);
                } else {
                    tg_bytes(col + kx * c, image + (y * p->in_w + x) * c, c);
                }
            }
        }
    }
}

/* Sign-extends n groups of four bytes from src into an extended buffer's slot (tg_dot.h's
 * layout: per group its even and odd int16 pairs at dst[0] and dst[1], the next group
 * `stride` words on; stride is a constant at each call). */
__attribute__((always_inline))
static inline uint32_t *tg_extend_run(const int8_t *src, int32_t n, uint32_t *dst,
                                      const int32_t stride)
{
#if TG_DSP
    if (n & 1) {
        const uint32_t a = tg_load4(src);
        dst[0] = tg_even16(a);
        dst[1] = tg_odd16(a);
        src += 4;
        dst += stride;
    }
    if (n > 1) {
        /* Two groups a turn: a load, two SXTB16 and a store of both words each. */
        const int8_t *const end = src + 4 * (n & ~1);
        uint32_t a, b, e, o;
        __asm__ volatile(
            "1:\n\t"
            "ldr    %[a], [%[s]], #4\n\t"
            "ldr    %[b], [%[s]], #4\n\t"
            "sxtb16 %[e], %[a]\n\t"
            "sxtb16 %[o], %[a], ror #8\n\t"
            "strd   %[e], %[o], [%[d]], %[st]\n\t"
            "sxtb16 %[e], %[b]\n\t"
            "sxtb16 %[o], %[b], ror #8\n\t"
            "strd   %[e], %[o], [%[d]], %[st]\n\t"
            "cmp    %[s], %[end]\n\t"
            "bne    1b\n\t"
            : [s] "+r"(src), [d] "+r"(dst), [a] "=&r"(a), [b] "=&r"(b), [e] "=&r"(e),
              [o] "=&r"(o)
            : [end] "r"(end), [st] "i"(4 * stride)
            : "cc", "memory");
    }
#else
    for (int32_t g = 0; g < n; ++g, src += 4, dst += stride) {
        const uint32_t a = tg_load4(src);
        dst[0] = tg_even16_c(a);
        dst[1] = tg_odd16_c(a);
    }
#endif
    return dst;
}

/* Sign-extends a column of `depth` bytes into its slot of an extended buffer, zero-padding
 * the last group (the weights are zero there too). */
__attribute__((always_inline))
static inline void tg_extend(const int8_t *c, int32_t depth, uint32_t *dst, const int32_t stride)
{
    dst = tg_extend_run(c, depth / 4, dst, stride);
    const int32_t k = depth & ~3;
    if (k < depth) {
        uint32_t a = 0;
        for (int32_t i = 0; k + i < depth; ++i) {
            a |= (uint32_t)(uint8_t)c[k + i] << (8 * i);
        }
        dst[0] = tg_even16_c(a);
        dst[1] = tg_odd16_c(a);
    }
}

/* One output of the fast form: `full` when the activation range is int8's own (SSAT). */
static inline int8_t tg_out_fast(int32_t acc, int32_t mult, int32_t right, int32_t round,
                                 int32_t zp, int32_t lo, int32_t hi, const int full)
{
    const int32_t v = tg_requant_round(acc, mult, right, round) + zp;
    return (int8_t)(full ? tg_sat8(v) : tg_clamp(v, lo, hi));
}

/* One output of the packed form: m the multiplier, r the right shift, t the rounding term
 * with the zero point folded in (tinygen.native.lowering.packed_requant). */
static inline int8_t tg_out_rq(int32_t acc, int32_t m, int32_t r, int32_t t, int32_t lo,
                               int32_t hi, const int full)
{
    const int32_t v = tg_requant_round(acc, m, r, t);
    return (int8_t)(full ? tg_sat8(v) : tg_clamp(v, lo, hi));
}

#if TG_DSP
/* One output of tg_conv_pairs3: the accumulator `acc` doubled, SMMLAR with the multiplier u
 * and the rounding term s, the sign, the shift by t, SSAT, stored at `at` (e the temporary). */
#define TG_ASM_OUTPUT(acc, at)                                                              \
    "lsl    %[e], %[" acc "], #1\n\t"                                                       \
    "smmlar %[e], %[e], %[u], %[s]\n\t"                                                     \
    "add    %[e], %[e], %[" acc "], asr #31\n\t"                                            \
    "asr    %[e], %[e], %[t]\n\t"                                                           \
    "ssat   %[e], #8, %[e]\n\t"                                                             \
    "strb   %[e], " at "\n\t"

/* Every output channel pair of three extended columns in the packed fast form with int8's own
 * activation range, in one block of assembly, walking the op's stream (both biases, the two
 * filter rows, each channel's multiplier, shift and rounding term: one pointer): one LDRD
 * starts the accumulators, tg_dot_triple's loop (four groups a turn, entered for the group
 * count at a place chosen once), then the six outputs (SMMLAR, the sign, the shift, SSAT)
 * stored at o, o + s and o + 2s. What does not fit in the 14 registers the loop uses (the
 * columns' start and end, the outputs' pointer and end, the stride) is kept in memory.
 * Returns the stream after the last pair; *o advances. */
static const int32_t *tg_conv_pairs3(const int32_t *q, const uint32_t *x, int32_t groups,
                                     int8_t **o, int32_t s, int32_t pairs)
{
    struct {
        const uint32_t *x, *x_end;
        int32_t mod, s;
        uint32_t entry;
        int8_t *o, *o_end;
    } m = {x, x + 6 * groups, groups & 3, s, 0, *o, *o + 2 * pairs};
    int32_t a0, a1, a2, a3, a4, a5;
    uint32_t v, u, t, k, e, d;
    const uint32_t *xr;
    const int8_t *w = (const int8_t *)q;
    __asm__ volatile(
        /* the loop's entry for the group count, its Thumb bit set for BX */
        "ldr    %[t], %[mmod]\n\t"
        "adr.w  %[e], 1f\n\t"
        "cmp    %[t], #3\n\t"
        "bne    5f\n\t"
        "adr.w  %[e], 2f\n\t"
        "5:\n\t"
        "cmp    %[t], #2\n\t"
        "bne    6f\n\t"
        "adr.w  %[e], 3f\n\t"
        "6:\n\t"
        "cmp    %[t], #1\n\t"
        "bne    7f\n\t"
        "adr.w  %[e], 4f\n\t"
        "7:\n\t"
        "orr    %[e], %[e], #1\n\t"
        "str    %[e], %[mentry]\n\t"
        "0:\n\t"
        "ldrd   %[a0], %[a1], [%[w]], #8\n\t"
        "mov    %[a2], %[a0]\n\t"
        "mov    %[a3], %[a1]\n\t"
        "mov    %[a4], %[a0]\n\t"
        "mov    %[a5], %[a1]\n\t"
        "ldr    %[x], %[mx]\n\t"
        /* four groups a turn; a count of 4k + r enters at group 4 - r */
        "ldr    %[t], %[mentry]\n\t"
        "bx     %[t]\n\t"
        "1:\n\t"
        TG_ASM_TRIPLE_GROUP
        "2:\n\t"
        TG_ASM_TRIPLE_GROUP
        "3:\n\t"
        TG_ASM_TRIPLE_GROUP
        "4:\n\t"
        TG_ASM_TRIPLE_GROUP
        "ldr    %[e], %[mxe]\n\t"
        "cmp    %[x], %[e]\n\t"
        "bne    1b\n\t"
        /* the outputs: x = their pointer, v = the stride; u, t, s = the channel's multiplier,
         * right shift and rounding term, from the stream */
        "ldr    %[x], %[mo]\n\t"
        "ldr    %[v], %[ms]\n\t"
        "ldrd   %[u], %[t], [%[w]], #8\n\t"
        "ldr    %[s], [%[w]], #4\n\t"
        TG_ASM_OUTPUT("a2", "[%[x], %[v]]")
        TG_ASM_OUTPUT("a4", "[%[x], %[v], lsl #1]")
        TG_ASM_OUTPUT("a0", "[%[x]], #1")
        "ldrd   %[u], %[t], [%[w]], #8\n\t"
        "ldr    %[s], [%[w]], #4\n\t"
        TG_ASM_OUTPUT("a3", "[%[x], %[v]]")
        TG_ASM_OUTPUT("a5", "[%[x], %[v], lsl #1]")
        TG_ASM_OUTPUT("a1", "[%[x]], #1")
        "str    %[x], %[mo]\n\t"
        "ldr    %[e], %[moe]\n\t"
        "cmp    %[x], %[e]\n\t"
        "bne    0b\n\t"
        : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [a4] "=&r"(a4),
          [a5] "=&r"(a5), [w] "+r"(w), [x] "=&r"(xr), [v] "=&r"(v), [u] "=&r"(u),
          [t] "=&r"(t), [s] "=&r"(k), [e] "=&r"(e), [o] "=&r"(d),
          [mo] "+m"(m.o), [mentry] "+m"(m.entry)
        : [mx] "m"(m.x), [mxe] "m"(m.x_end), [mmod] "m"(m.mod), [ms] "m"(m.s),
          [moe] "m"(m.o_end)
        : "cc", "memory");
    *o = m.o;
    return (const int32_t *)(const void *)w;
}
#endif

/* The fast form with the packed stream (tinygen.native.lowering.conv_stream): o[k s + ch] for
 * every output channel and the first n (1 to 3, a constant at each call) of three extended
 * columns, s = out_c bytes apart. Each pair's parameters are read before its first store,
 * which could otherwise alias them. */
__attribute__((always_inline))
static inline void tg_conv_columns_rq(const tg_conv_t *p, int32_t groups, const uint32_t *x,
                                      int8_t *o, const int n, const int full)
{
    const int32_t lo = p->act_min, hi = p->act_max, s = p->out_c;
    const int32_t *q = p->rq;
    int8_t *const end = o + (s & ~1);
#if TG_DSP
    if (n == 3 && full && s >= 2) {
        q = tg_conv_pairs3(q, x, groups, &o, s, s / 2);
    }
#endif
    for (; o < end; o += 2) {
        int32_t acc[6] = {q[0], q[1], q[0], q[1], q[0], q[1]};
        const int8_t *const w = (const int8_t *)(const void *)(q + 2);
        if (n == 3) {
            tg_dot_triple(w, x, groups, acc);
        } else {
            tg_dot_few(w, x, groups, acc, n);
        }
        q += 2 + 2 * groups;
        const int32_t m0 = q[0], r0 = q[1], t0 = q[2], m1 = q[3], r1 = q[4], t1 = q[5];
        q += 6;
        const int8_t y00 = tg_out_rq(acc[0], m0, r0, t0, lo, hi, full);
        const int8_t y01 = tg_out_rq(acc[1], m1, r1, t1, lo, hi, full);
        const int8_t y10 = tg_out_rq(acc[2], m0, r0, t0, lo, hi, full);
        const int8_t y11 = tg_out_rq(acc[3], m1, r1, t1, lo, hi, full);
        const int8_t y20 = tg_out_rq(acc[4], m0, r0, t0, lo, hi, full);
        const int8_t y21 = tg_out_rq(acc[5], m1, r1, t1, lo, hi, full);
        o[0] = y00;
        o[1] = y01;
        if (n >= 2) {
            o[s] = y10;
            o[s + 1] = y11;
        }
        if (n == 3) {
            o[2 * s] = y20;
            o[2 * s + 1] = y21;
        }
    }
    if (s & 1) {
        int32_t acc[3] = {q[0], q[0], q[0]};
        tg_dot_lone3((const int8_t *)(const void *)(q + 1), x, groups, acc);
        q += 1 + groups;
        const int8_t y0 = tg_out_rq(acc[0], q[0], q[1], q[2], lo, hi, full);
        const int8_t y1 = tg_out_rq(acc[1], q[0], q[1], q[2], lo, hi, full);
        const int8_t y2 = tg_out_rq(acc[2], q[0], q[1], q[2], lo, hi, full);
        o[0] = y0;
        if (n >= 2) {
            o[s] = y1;
        }
        if (n == 3) {
            o[2 * s] = y2;
        }
    }
}

/* out0/out1[ch] for every output channel from the extended columns x (out1 may be NULL).
 * The parameters are read into locals once: the int8 stores could otherwise alias them.
 * `fast` (tg_requant_round) and `full` (SSAT) are constants at each call, so each
 * specialises the loop. */
__attribute__((always_inline))
static inline void tg_conv_columns(const tg_conv_t *p, int32_t groups, const uint32_t *x,
                                   int8_t *restrict out0, int8_t *restrict out1,
                                   const int fast, const int full)
{
    const int32_t out_c = p->out_c;
    const int32_t *const bias = p->bias;
    const int32_t *const mult = p->mult;
    const int32_t *const shift = p->shift;
    const int32_t out_zp = p->out_zp, act_min = p->act_min, act_max = p->act_max;
    const int8_t *w = p->weights;
    int32_t ch = 0;
    for (; ch + 1 < out_c; ch += 2, w += 8 * groups) {
        int32_t acc[4] = {bias[ch], bias[ch + 1], bias[ch], bias[ch + 1]};
        tg_dot_pair(w, x, groups, acc);
        const int32_t m0 = mult[ch], m1 = mult[ch + 1], s0 = shift[ch], s1 = shift[ch + 1];
        if (fast) {
            const int32_t r0 = -s0, r1 = -s1;
            const int32_t h0 = (int32_t)(UINT32_C(1) << (r0 - 1));
            const int32_t h1 = (int32_t)(UINT32_C(1) << (r1 - 1));
            out0[ch] = tg_out_fast(acc[0], m0, r0, h0, out_zp, act_min, act_max, full);
            out0[ch + 1] = tg_out_fast(acc[1], m1, r1, h1, out_zp, act_min, act_max, full);
            if (out1) {
                out1[ch] = tg_out_fast(acc[2], m0, r0, h0, out_zp, act_min, act_max, full);
                out1[ch + 1] = tg_out_fast(acc[3], m1, r1, h1, out_zp, act_min, act_max, full);
            }
        } else {
            out0[ch] = tg_output(acc[0], m0, s0, 0, out_zp, act_min, act_max);
            out0[ch + 1] = tg_output(acc[1], m1, s1, 0, out_zp, act_min, act_max);
            if (out1) {
                out1[ch] = tg_output(acc[2], m0, s0, 0, out_zp, act_min, act_max);
                out1[ch + 1] = tg_output(acc[3], m1, s1, 0, out_zp, act_min, act_max);
            }
        }
    }
    if (ch < out_c) {
        int32_t acc[2] = {bias[ch], bias[ch]};
        tg_dot_lone(w, x, groups, acc);
        out0[ch] = tg_output(acc[0], mult[ch], shift[ch], fast, out_zp, act_min, act_max);
        if (out1) {
            out1[ch] = tg_output(acc[1], mult[ch], shift[ch], fast, out_zp, act_min, act_max);
        }
    }
}

static inline uint32_t tg_load2(const int8_t *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* A 3x3 window of three channels (an RGB image's first convolution) inside the image, its
 * rows at r0, r0 + step, r0 + 2 * step: the 27 bytes' seven groups of four built from word and
 * halfword loads (no copy), each group extended into its slot. Every byte read lies inside
 * the window's rows or just before the second one (replaced), so inside the image. */
__attribute__((always_inline))
static inline void tg_extend_rgb3x3(const int8_t *r0, int32_t step, uint32_t *dst,
                                    const int32_t stride)
{
    const int8_t *const r1 = r0 + step, *const r2 = r1 + step;
    const uint32_t g[7] = {
        tg_load4(r0), tg_load4(r0 + 4),
        (tg_load4(r1 - 1) & ~UINT32_C(0xff)) | (uint8_t)r0[8],
        tg_load4(r1 + 3),
        tg_load2(r1 + 7) | tg_load2(r2) << 16,
        tg_load4(r2 + 2),
        tg_load2(r2 + 6) | (uint32_t)(uint8_t)r2[8] << 16,
    };
#pragma GCC unroll 7
    for (int32_t k = 0; k < 7; ++k, dst += stride) {
#if TG_DSP
        dst[0] = tg_even16(g[k]);
        dst[1] = tg_odd16(g[k]);
#else
        dst[0] = tg_even16_c(g[k]);
        dst[1] = tg_odd16_c(g[k]);
#endif
    }
}

/* Walks the output pixels in raster order with what extending their columns needs, computed
 * once per call: the window's top-left corner (an offset in the input, possibly outside it)
 * moves by a constant step, and the windows inside the image (whose rows are contiguous runs
 * of input) are a rectangle of output pixels. A local struct: the stores to the scratch and
 * the output cannot alias it. */
typedef struct {
    const int8_t *image;                   /* the batch's input */
    int32_t line, corner;                  /* the corner's offset in it at ox = 0, at ox */
    int8_t *col;                           /* the gathered column */
    int32_t oy, ox, out_w, depth, direct;
    int32_t pixel_step, line_step, step, row, k_h;
    int32_t ox_lo, ox_hi, oy_lo, oy_hi;    /* windows inside the image: [lo, hi) */
} tg_cursor_t;

/* floor(a / b) for b > 0 */
static inline int32_t tg_floor_div(int32_t a, int32_t b)
{
    return a >= 0 ? a / b : -((-a + b - 1) / b);
}

static inline void tg_cursor_start(tg_cursor_t *c, const tg_conv_t *p, const int8_t *image,
                                   int8_t *col, int32_t depth, int direct)
{
    const int32_t pixel = p->in_c, line = p->in_w * p->in_c;
    c->image = image;
    c->line = -p->pad_h * line - p->pad_w * pixel;
    c->corner = c->line;
    c->col = col;
    c->oy = 0;
    c->ox = 0;
    c->out_w = p->out_w;
    c->depth = depth;
    c->direct = direct;
    c->pixel_step = p->stride_w * pixel;
    c->line_step = p->stride_h * line;
    c->step = p->dil_h * line;
    c->row = p->k_w * p->in_c;
    c->k_h = p->k_h;
    /* y0 = oy * stride_h - pad_h >= 0 and y0 + (k_h - 1) * dil_h < in_h; the same across
     * (contiguous rows need dil_w == 1) */
    c->oy_lo = tg_floor_div(p->pad_h + p->stride_h - 1, p->stride_h);
    c->oy_hi = tg_floor_div(p->in_h - 1 - (p->k_h - 1) * p->dil_h + p->pad_h, p->stride_h) + 1;
    c->ox_lo = tg_floor_div(p->pad_w + p->stride_w - 1, p->stride_w);
    c->ox_hi = p->dil_w == 1
        ? tg_floor_div(p->in_w - p->k_w + p->pad_w, p->stride_w) + 1 : c->ox_lo;
}

/* Extends the current pixel's column into its slot of the extended buffer, then moves to the
 * next pixel: the input itself for a 1x1 convolution; for a window inside the image whose
 * filter rows are whole groups of four bytes, straight from its k_h runs of input; else its
 * receptive field copied or gathered into col first (zero past the depth: whole groups). */
__attribute__((always_inline))
static inline void tg_cursor_extend(tg_cursor_t *c, const tg_conv_t *p, uint32_t *dst,
                                    const int32_t stride)
{
    if (c->direct) {
        tg_extend(c->image + c->corner, c->depth, dst, stride);
    } else if (c->ox >= c->ox_lo && c->ox < c->ox_hi && c->oy >= c->oy_lo && c->oy < c->oy_hi) {
        const int8_t *src = c->image + c->corner;  /* inside the image */
        const int32_t row = c->row;
        if ((row & 3) == 0) {
            for (int32_t ky = 0; ky < c->k_h; ++ky, src += c->step) {
                dst = tg_extend_run(src, row / 4, dst, stride);
            }
        } else if (row == 9 && c->k_h == 3) {
            tg_extend_rgb3x3(src, c->step, dst, stride);
        } else {
            int8_t *d = c->col;
            for (int32_t ky = 0; ky < c->k_h; ++ky, src += c->step, d += row) {
                tg_bytes(d, src, row);
            }
            tg_extend_run(c->col, (c->depth + 3) / 4, dst, stride);
        }
    } else {
        tg_gather(p, c->image, c->oy, c->ox, c->col);
        tg_extend_run(c->col, (c->depth + 3) / 4, dst, stride);
    }
    if (++c->ox == c->out_w) {
        c->ox = 0;
        ++c->oy;
        c->line += c->line_step;
        c->corner = c->line;
    } else {
        c->corner += c->pixel_step;
    }
}

/* The packed fast form: three output pixels at a time, then the one or two left. A gathered
 * column's bytes past the depth are zero (set once by tg_conv_s8). */
static void tg_conv_rq(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch,
                       int32_t depth, int32_t groups, int direct)
{
    uint32_t *ext = (uint32_t *)(void *)scratch;
    int8_t *col = scratch + 24 * groups;
    const int full = p->act_min == -128 && p->act_max == 127;
    const int32_t pixels = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * pixels * p->out_c;
        tg_cursor_t cursor;
        tg_cursor_start(&cursor, p, image, col, depth, direct);
        for (int32_t i = 0; i < pixels; i += 3) {
            const int32_t n = pixels - i < 3 ? pixels - i : 3;
            for (int32_t k = 0; k < n; ++k) {
                tg_cursor_extend(&cursor, p, ext + 2 * k, 6);
            }
            int8_t *o = dst + i * p->out_c;
            if (n == 3) {
                if (full) {
                    tg_conv_columns_rq(p, groups, ext, o, 3, 1);
                } else {
                    tg_conv_columns_rq(p, groups, ext, o, 3, 0);
                }
            } else if (n == 2) {
                tg_conv_columns_rq(p, groups, ext, o, 2, full);
            } else {
                tg_conv_columns_rq(p, groups, ext, o, 1, full);
            }
        }
    }
}

void tg_conv_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch)
{
    /* scratch: three extended columns (24 bytes a group of four), then one gathered column
     * (unless 1x1), see _conv in tinygen/native/lowering.py. */
    const int32_t depth = p->k_h * p->k_w * p->in_c;
    const int32_t groups = (depth + 3) / 4;
    const int direct = p->k_h == 1 && p->k_w == 1 && p->pad_h == 0 && p->pad_w == 0;
    /* A gathered column is zero past its depth, so that it is extended by whole groups (a 1x1
     * convolution has no gathered column: its scratch ends with the extended ones). */
    for (int32_t k = depth; !direct && k < 4 * groups; ++k) {
        scratch[24 * groups + k] = 0;
    }
    if (p->rq) {
        tg_conv_rq(p, in, out, scratch, depth, groups, direct);
        return;
    }
    uint32_t *pair = (uint32_t *)(void *)scratch;
    int8_t *col = scratch + 24 * groups;
    const int32_t pixels = p->out_h * p->out_w;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * p->in_c;
        int8_t *dst = out + b * pixels * p->out_c;
        tg_cursor_t cursor;
        tg_cursor_start(&cursor, p, image, col, depth, direct);
        for (int32_t i = 0; i < pixels; i += 2) {
            const int two = i + 1 < pixels;
            for (int32_t k = 0; k < 2; ++k) {
                if (k == 1 && !two) {
                    /* computed, not stored */
                    for (int32_t g = 0; g < groups; ++g) {
                        pair[4 * g + 2] = pair[4 * g];
                        pair[4 * g + 3] = pair[4 * g + 1];
                    }
                    break;
                }
                tg_cursor_extend(&cursor, p, pair + 2 * k, 4);
            }
            int8_t *out0 = dst + i * p->out_c;
            int8_t *out1 = two ? dst + (i + 1) * p->out_c : NULL;
            if (!p->fast_requant) {
                tg_conv_columns(p, groups, pair, out0, out1, 0, 0);
            } else if (p->act_min == -128 && p->act_max == 127) {
                tg_conv_columns(p, groups, pair, out0, out1, 1, 1);
            } else {
                tg_conv_columns(p, groups, pair, out0, out1, 1, 0);
            }
        }
    }
}
