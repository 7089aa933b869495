/*
 * tinygen native runtime: int8 DEPTHWISE_CONV_2D of depth multiplier 1 on four or more
 * channels, four channels at a time.
 *
 * Everything a group of four channels needs is one run of int32 words in flash (the
 * "stream", laid out by tinygen.native.weight_layout.depthwise_stream), read through one
 * pointer at constant offsets:
 *
 *   4 words             the accumulators' start values (the folded biases)
 *   2 words per tap     the filter taps pre-extended to int16 halfword pairs, as SXTB16
 *                       splits the four input bytes: channels 0 and 2, then 1 and 3
 *   3 words per channel the requantization (fast: multiplier, rounding term plus the output
 *                       zero point times 2^right, right shift; generic: multiplier, shift, 0)
 *
 * Groups start at channel 0, then (with c % 4 channels left over) at c % 4, then every four
 * channels, so that the last one ends at the last channel: the first two overlap when c is not
 * a multiple of four (the channels they share are computed twice, to the same
 * bytes); fewer than four channels go to tg_depthwise_s8. In the fast form (fast_requant) the
 * filter and the biases are doubled at generation time, so the accumulator is the 2x that
 * SMMLAR multiplies (tg_requant_round2), and the output needs no separate zero point add;
 * with an activation range of all of int8 (no activation, or ReLU6 on [-128, 127]) the clamp
 * is one SSAT.
 *
 * Taps outside the image read a pixel of input zero points, which the folded bias cancels.
 * A 3x3 window inside the image reads its taps from its corner at a row and a column offset
 * held in registers (any stride and dilation); other windows go through a table of tap
 * pointers filled per pixel.
 */
#include "tg_arith.h"
#include "tg_dot.h"
#include "tg_kernels.h"
#include "tg_window.h"

/* Words of a group before its taps and after them. */
#define TG_DW_HEAD 4
#define TG_DW_TAIL 12

/* Groups start at channel 0, then (with c % 4 channels left over) at c % 4, then every
 * four channels: the last one ends at channel c - 1. */
#define TG_DW_FIRST_STEP(c) ((c) % 4 != 0 ? (c) % 4 : 4)

/* The requantization forms, each compiling the whole loop nest once. */
#define TG_DW_GENERIC 0
#define TG_DW_FAST_CLAMP 1
#define TG_DW_FAST_SAT8 2

#if TG_DSP
/* The taps are written in assembly: from intrinsics, GCC's scheduler hoists the loads of a
 * whole window ahead of the multiplies and runs out of registers (spilling even the weights'
 * halfwords through the stack). One tap: four input bytes at [x + o] (o a register, or none),
 * the even/odd weight words at [s + w], SXTB16 into channels 0/2 and 1/3, four products. */
#define TG_DW_ASM_TAP(at, w)                                                                \
    "ldr %[v], " at "\n\t"                                                                  \
    "ldrd %[we], %[wo], [%[s], #" #w "]\n\t"                                                \
    "sxtb16 %[e], %[v]\n\t"                                                                 \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                         \
    "smlabb %[a0], %[e], %[we], %[a0]\n\t"                                                  \
    "smlatt %[a2], %[e], %[we], %[a2]\n\t"                                                  \
    "smlabb %[a1], %[v], %[wo], %[a1]\n\t"                                                  \
    "smlatt %[a3], %[v], %[wo], %[a3]\n\t"
/* A tap through the pointer table: the next pointer (post-incremented), then as above with
 * the weights post-incremented too. */
#define TG_DW_ASM_ROW_TAP                                                                   \
    "ldr %[v], [%[rows]], #4\n\t"                                                           \
    "ldr %[v], [%[v], %[off]]\n\t"                                                          \
    "ldrd %[we], %[wo], [%[s]], #8\n\t"                                                     \
    "sxtb16 %[e], %[v]\n\t"                                                                 \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                         \
    "smlabb %[a0], %[e], %[we], %[a0]\n\t"                                                  \
    "smlatt %[a2], %[e], %[we], %[a2]\n\t"                                                  \
    "smlabb %[a1], %[v], %[wo], %[a1]\n\t"                                                  \
    "smlatt %[a3], %[v], %[wo], %[a3]\n\t"
#define TG_DW_ASM_OUT                                                                       \
    [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [v] "=&r"(v_), [e] "=&r"(e_), \
    [we] "=&r"(we_), [wo] "=&r"(wo_)
#else
/* a0..a3 += the products of the four channels at x by one tap's weights w (the channel 0/2
 * and 1/3 words). A macro, so that the accumulators stay scalars. */
#define TG_DW_TAP(x, w, a0, a1, a2, a3)                                                     \
    do {                                                                                    \
        const int8_t *const x_ = (x);                                                       \
        const int32_t we_ = (w)[0], wo_ = (w)[1];                                           \
        a0 += (int32_t)(int16_t)we_ * x_[0];                                                \
        a2 += (we_ >> 16) * x_[2];                                                          \
        a1 += (int32_t)(int16_t)wo_ * x_[1];                                                \
        a3 += (wo_ >> 16) * x_[3];                                                          \
    } while (0)
#endif

/* The output range and zero point, read into locals once. */
typedef struct {
    int32_t zp, lo, hi;
} tg_dw_range_t;

/* One output byte from its accumulator and its three requantization words q. */
__attribute__((always_inline))
static inline int8_t tg_dw_out(int32_t acc, const int32_t *q, const tg_dw_range_t *r,
                               const int mode)
{
    if (mode == TG_DW_GENERIC) {
        return (int8_t)tg_clamp(tg_requant(acc, q[0], q[1]) + r->zp, r->lo, r->hi);
    }
    const int32_t v = tg_requant_round2(acc, q[0], q[2], q[1]);
    return (int8_t)(mode == TG_DW_FAST_SAT8 ? tg_sat8(v) : tg_clamp(v, r->lo, r->hi));
}

#define TG_DW_STORE4(q, dst, r, mode)                                                       \
    do {                                                                                    \
        (dst)[0] = tg_dw_out(a0, (q), (r), (mode));                                         \
        (dst)[1] = tg_dw_out(a1, (q) + 3, (r), (mode));                                     \
        (dst)[2] = tg_dw_out(a2, (q) + 6, (r), (mode));                                     \
        (dst)[3] = tg_dw_out(a3, (q) + 9, (r), (mode));                                     \
    } while (0)

/* One group of a 3x3 window inside the image: x is its corner's channel, row and col the
 * offsets between its rows and columns. */
__attribute__((always_inline))
static inline void tg_dw_group3x3(const int8_t *x, int32_t row, int32_t col, const int32_t *s,
                                  int8_t *dst, const tg_dw_range_t *r, const int mode)
{
    const int32_t col2 = 2 * col;
#if TG_DSP
    int32_t a0, a1, a2, a3, v_, e_, we_, wo_;
    __asm__("ldrd %[a0], %[a1], [%[s]]\n\t"
            "ldrd %[a2], %[a3], [%[s], #8]\n\t"
            TG_DW_ASM_TAP("[%[x]]", 16) TG_DW_ASM_TAP("[%[x], %[col]]", 24)
            TG_DW_ASM_TAP("[%[x], %[col2]]", 32) "add %[x], %[x], %[row]\n\t"
            TG_DW_ASM_TAP("[%[x]]", 40) TG_DW_ASM_TAP("[%[x], %[col]]", 48)
            TG_DW_ASM_TAP("[%[x], %[col2]]", 56) "add %[x], %[x], %[row]\n\t"
            TG_DW_ASM_TAP("[%[x]]", 64) TG_DW_ASM_TAP("[%[x], %[col]]", 72)
            TG_DW_ASM_TAP("[%[x], %[col2]]", 80)
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [v] "=&r"(v_),
              [e] "=&r"(e_), [we] "=&r"(we_), [wo] "=&r"(wo_), [x] "+r"(x)
            : [s] "r"(s), [col] "r"(col), [col2] "r"(col2), [row] "r"(row)
            : "memory");
#else
    int32_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3];
    const int32_t *w = s + TG_DW_HEAD;
    for (int32_t ky = 0; ky < 3; ++ky, x += row, w += 6) {
        TG_DW_TAP(x, w, a0, a1, a2, a3);
        TG_DW_TAP(x + col, w + 2, a0, a1, a2, a3);
        TG_DW_TAP(x + col2, w + 4, a0, a1, a2, a3);
    }
#endif
    TG_DW_STORE4(s + TG_DW_HEAD + 18, dst, r, mode);
}

/* One group of any window through its tap pointers (channel `off` of each tap's pixel); the
 * nine taps of a 3x3 window written out. */
__attribute__((always_inline))
static inline void tg_dw_group_rows(const int8_t *const *rows, int32_t taps, int32_t off,
                                    const int32_t *s, int8_t *dst, const tg_dw_range_t *r,
                                    const int mode)
{
    int32_t a0 = s[0], a1 = s[1], a2 = s[2], a3 = s[3];
    const int32_t *w = s + TG_DW_HEAD;
#if TG_DSP
    int32_t v_, e_, we_, wo_;
    if (taps == 9) {
        __asm__(TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP
                TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP
                TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP TG_DW_ASM_ROW_TAP
                : TG_DW_ASM_OUT, [rows] "+r"(rows), [s] "+r"(w)
                : [off] "r"(off)
                : "memory");
    } else {
        for (int32_t t = 0; t < taps; ++t) {
            __asm__(TG_DW_ASM_ROW_TAP
                    : TG_DW_ASM_OUT, [rows] "+r"(rows), [s] "+r"(w)
                    : [off] "r"(off)
                    : "memory");
        }
    }
#else
    for (int32_t t = 0; t < taps; ++t, w += 2) {
        TG_DW_TAP(rows[t] + off, w, a0, a1, a2, a3);
    }
#endif
    TG_DW_STORE4(w, dst, r, mode);
}

/* Every group of one pixel through its tap pointers; 3x3 with a constant tap count. */
__attribute__((always_inline))
static inline void tg_dw_pixel_rows(const int8_t *const *rows, int32_t taps, int32_t c,
                                    const int32_t *s, int8_t *dst, const tg_dw_range_t *r,
                                    const int mode)
{
    const int32_t size = TG_DW_HEAD + 2 * taps + TG_DW_TAIL;
    int32_t off = 0, step = TG_DW_FIRST_STEP(c);
    for (int32_t k = (c + 3) / 4;; s += size, off += step, step = 4) {
        if (taps == 9 && mode != TG_DW_GENERIC) {
            tg_dw_group_rows(rows, 9, off, s, dst + off, r, mode);
        } else {
            tg_dw_group_rows(rows, taps, off, s, dst + off, r, mode);
        }
        if (--k == 0) {
            break;
        }
    }
}

/* n pixels of a row of 3x3 windows inside the image, the first one's corner at corner; a
 * multiple of four channels. */
__attribute__((always_inline))
static inline void tg_dw_run3x3(const tg_conv_t *p, const int8_t *corner, int32_t n,
                                const int32_t *stream, int8_t *dst, const tg_dw_range_t *r,
                                const int mode)
{
    const int32_t c = p->in_c, step = p->stride_w * c;
    const int32_t row = p->dil_h * p->in_w * c, col = p->dil_w * c;
    const int32_t *const end = stream + c / 4 * (TG_DW_HEAD + 18 + TG_DW_TAIL);
    for (; n > 0; --n, corner += step, dst += c) {
        const int8_t *x = corner;
        int8_t *d = dst;
        for (const int32_t *s = stream; s != end; s += TG_DW_HEAD + 18 + TG_DW_TAIL, x += 4,
             d += 4) {
            tg_dw_group3x3(x, row, col, s, d, r, mode);
        }
    }
}

/* Always inlined: each caller's constant `mode` specialises the whole loop nest. */
__attribute__((always_inline))
static inline void tg_dw_m1(const tg_conv_t *p, const int8_t *in, int8_t *out,
                            const int32_t *stream, const int8_t *padding, const int8_t **rows,
                            int32_t *offsets, const int mode)
{
    const tg_dw_range_t r = {p->out_zp, p->act_min, p->act_max};
    const int32_t c = p->in_c, taps = p->k_h * p->k_w;
    const int32_t span_h = (p->k_h - 1) * p->dil_h, span_w = (p->k_w - 1) * p->dil_w;
    /* The generic form takes the tap table everywhere: it is for rare layers, kept small. */
    const int three = p->k_h == 3 && p->k_w == 3 && mode != TG_DW_GENERIC && c % 4 == 0;
    for (int32_t ky = 0, t = 0; ky < p->k_h; ++ky) {
        for (int32_t kx = 0; kx < p->k_w; ++kx, ++t) {
            offsets[t] = (ky * p->dil_h * p->in_w + kx * p->dil_w) * c;
        }
    }
    /* The output columns [x_lo, x_hi) whose windows lie inside the image horizontally. */
    const int32_t last_x = p->in_w - 1 - span_w + p->pad_w;
    int32_t x_lo = (p->pad_w + p->stride_w - 1) / p->stride_w;
    int32_t x_hi = last_x < 0 ? 0 : last_x / p->stride_w + 1;
    x_lo = x_lo < p->out_w ? x_lo : p->out_w;
    x_hi = x_hi < p->out_w ? x_hi : p->out_w;
    x_hi = x_hi > x_lo ? x_hi : x_lo;
    for (int32_t b = 0; b < p->batches; ++b) {
        const int8_t *image = in + b * p->in_h * p->in_w * c;
        int8_t *dst = out + b * p->out_h * p->out_w * c;
        for (int32_t oy = 0; oy < p->out_h; ++oy) {
            const int32_t y0 = oy * p->stride_h - p->pad_h;
            const int y_inside = y0 >= 0 && y0 + span_h < p->in_h;
            for (int32_t ox = 0; ox < p->out_w; ++ox, dst += c) {
                const int32_t x0 = ox * p->stride_w - p->pad_w;
                if (y_inside && ox >= x_lo && ox < x_hi) {
                    const int8_t *corner = image + (y0 * p->in_w + x0) * c;
                    if (three) {
                        const int32_t n = x_hi - ox;
                        tg_dw_run3x3(p, corner, n, stream, dst, &r, mode);
                        ox += n - 1;
                        dst += (n - 1) * c;
                        continue;
                    }
                    for (int32_t t = 0; t < taps; ++t) {
                        rows[t] = corner + offsets[t];
                    }
                } else {
                    tg_tap_pointers(p, image, y0, x0, padding, rows);
                }
                tg_dw_pixel_rows(rows, three ? 9 : taps, c, stream, dst, &r, mode);
            }
        }
    }
}

void tg_depthwise_m1_s8(const tg_conv_t *p, const int8_t *in, int8_t *out, int8_t *scratch,
                        const int32_t *stream)
{
    /* scratch: one pixel of in_c zero-point bytes that the taps outside the image read, then
     * (8-byte aligned, whatever the pointer size) a table of k_h * k_w tap pointers and one of
     * k_h * k_w int32 tap offsets (see _conv in tinygen/native/lowering.py). */
    int8_t *padding = scratch;
    const int8_t **rows = (const int8_t **)(void *)(
        ((uintptr_t)(scratch + p->in_c) + 7u) & ~(uintptr_t)7u);
    int32_t *offsets = (int32_t *)(void *)(rows + p->k_h * p->k_w);
    for (int32_t i = 0; i < p->in_c; ++i) {
        padding[i] = (int8_t)p->in_zp;
    }
    if (!p->fast_requant) {
        tg_dw_m1(p, in, out, stream, padding, rows, offsets, TG_DW_GENERIC);
    } else if (p->act_min == -128 && p->act_max == 127) {
        tg_dw_m1(p, in, out, stream, padding, rows, offsets, TG_DW_FAST_SAT8);
    } else {
        tg_dw_m1(p, in, out, stream, padding, rows, offsets, TG_DW_FAST_CLAMP);
    }
}
