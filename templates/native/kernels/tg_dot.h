/*
 * tinygen native runtime: int8 dot products, the inner loops of CONV_2D and FULLY_CONNECTED.
 *
 * Weights are laid out in flash at generation time so that one pointer walks several rows at
 * once: rows are grouped (two for a convolution, four for a fully connected layer) and within
 * a group their bytes are interleaved four at a time (row 0 bytes 0-3, row 1 bytes 0-3, row 0
 * bytes 4-7, ...), each row padded with zeros to a multiple of four bytes. A convolution's two
 * columns are interleaved the same way in its scratch buffer.
 *
 * Integer sums are exact, so any evaluation order gives TFLM's result. With the DSP extension
 * (__ARM_FEATURE_DSP: Cortex-M4, M7, M33, M55) four bytes are loaded at once, split into two
 * pairs of sign-extended halfwords (bytes 0 and 2, bytes 1 and 3: SXTB16 without and with an
 * 8-bit rotation) and multiplied-accumulated a pair at a time (SMLAD). Both operands are split
 * the same way, so byte k of one always meets byte k of the other.
 */
#ifndef TG_DOT_H
#define TG_DOT_H

#include <stdint.h>
#include <string.h>

#include "tg_arith.h"

/* Four bytes from any address (an unaligned LDR on Armv7-M and later). */
static inline uint32_t tg_load4(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* Four bytes from a 4-byte aligned address (lets the compiler pair loads into LDRD). */
static inline uint32_t tg_load4a(const int8_t *p)
{
    uint32_t v;
    memcpy(&v, __builtin_assume_aligned(p, 4), sizeof v);
    return v;
}

#if TG_DSP
static inline uint32_t tg_even16(uint32_t x)
{
    return __sxtb16(x);
}

static inline uint32_t tg_odd16(uint32_t x)
{
    uint32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t tg_smlad(uint32_t a, uint32_t b, int32_t acc)
{
    return (int32_t)__smlad(a, b, (uint32_t)acc);
}

/* acc += the four byte products of a and b */
static inline int32_t tg_mac4(uint32_t ae, uint32_t ao, uint32_t b, int32_t acc)
{
    return tg_smlad(ao, tg_odd16(b), tg_smlad(ae, tg_even16(b), acc));
}
#endif

#if TG_DSP
/* One group of four bytes of tg_dot_pair's loop: the two rows' words (one LDRD that moves w),
 * four SXTB16, the columns' words (two LDRD, x moved), eight SMLAD. Operands: a0-a3, w, x and
 * the temporaries v, u, t, s, e, o. */
#define TG_ASM_PAIR_GROUP                                                                      \
    "ldrd   %[v], %[u], [%[w]], #8\n\t"                                                        \
    "ldrd   %[e], %[o], [%[x]], #16\n\t"                                                       \
    "sxtb16 %[t], %[v]\n\t"                                                                    \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                            \
    "smlad  %[a0], %[t], %[e], %[a0]\n\t"                                                      \
    "smlad  %[a0], %[v], %[o], %[a0]\n\t"                                                      \
    "sxtb16 %[s], %[u]\n\t"                                                                    \
    "sxtb16 %[u], %[u], ror #8\n\t"                                                            \
    "smlad  %[a1], %[s], %[e], %[a1]\n\t"                                                      \
    "smlad  %[a1], %[u], %[o], %[a1]\n\t"                                                      \
    "ldrd   %[e], %[o], [%[x], #-8]\n\t"                                                       \
    "smlad  %[a2], %[t], %[e], %[a2]\n\t"                                                      \
    "smlad  %[a2], %[v], %[o], %[a2]\n\t"                                                      \
    "smlad  %[a3], %[s], %[e], %[a3]\n\t"                                                      \
    "smlad  %[a3], %[u], %[o], %[a3]\n\t"

/* One group of tg_dot_triple's loop (and tg_conv.c's channel-pair loop): the two rows' words,
 * four SXTB16, three columns' words (three LDRD), twelve SMLAD. Operands: a0-a5, w, x and the
 * temporaries v, u, t, s, e, o. */
#define TG_ASM_TRIPLE_GROUP                                                                    \
    "ldrd   %[v], %[u], [%[w]], #8\n\t"                                                        \
    "ldrd   %[e], %[o], [%[x]], #24\n\t"                                                       \
    "sxtb16 %[t], %[v]\n\t"                                                                    \
    "sxtb16 %[v], %[v], ror #8\n\t"                                                            \
    "sxtb16 %[s], %[u]\n\t"                                                                    \
    "sxtb16 %[u], %[u], ror #8\n\t"                                                            \
    "smlad  %[a0], %[t], %[e], %[a0]\n\t"                                                      \
    "smlad  %[a0], %[v], %[o], %[a0]\n\t"                                                      \
    "smlad  %[a1], %[s], %[e], %[a1]\n\t"                                                      \
    "smlad  %[a1], %[u], %[o], %[a1]\n\t"                                                      \
    "ldrd   %[e], %[o], [%[x], #-16]\n\t"                                                      \
    "smlad  %[a2], %[t], %[e], %[a2]\n\t"                                                      \
    "smlad  %[a2], %[v], %[o], %[a2]\n\t"                                                      \
    "smlad  %[a3], %[s], %[e], %[a3]\n\t"                                                      \
    "smlad  %[a3], %[u], %[o], %[a3]\n\t"                                                      \
    "ldrd   %[e], %[o], [%[x], #-8]\n\t"                                                       \
    "smlad  %[a4], %[t], %[e], %[a4]\n\t"                                                      \
    "smlad  %[a4], %[v], %[o], %[a4]\n\t"                                                      \
    "smlad  %[a5], %[s], %[e], %[a5]\n\t"                                                      \
    "smlad  %[a5], %[u], %[o], %[a5]\n\t"
#endif

/* A convolution's two columns, sign-extended once into int16 pairs as SXTB16 splits a word:
 * for each group of four bytes k, column 0's even pair (bytes 0 and 2) and odd pair (bytes 1
 * and 3), then column 1's, four words. The weights are split the same way in the loop, so
 * byte k of a row always meets byte k of a column. Without the DSP extension the same words
 * are read as int16 halves. */
static inline uint32_t tg_even16_c(uint32_t x)
{
    return (uint32_t)(uint16_t)(int16_t)(int8_t)x
        | (uint32_t)(uint16_t)(int16_t)(int8_t)(x >> 16) << 16;
}

static inline uint32_t tg_odd16_c(uint32_t x)
{
    return tg_even16_c(x >> 8);
}

static inline int32_t tg_lo16(uint32_t x)
{
    return (int16_t)(uint16_t)x;
}

static inline int32_t tg_hi16(uint32_t x)
{
    return (int16_t)(uint16_t)(x >> 16);
}

/* The four byte products of weight word v and the extended pair (e, o). */
static inline int32_t tg_mac4_ext(uint32_t v, uint32_t e, uint32_t o, int32_t acc)
{
#if TG_DSP
    return tg_smlad(tg_odd16(v), o, tg_smlad(tg_even16(v), e, acc));
#else
    const int8_t *b = (const int8_t *)&v;
    return acc + b[0] * tg_lo16(e) + b[2] * tg_hi16(e) + b[1] * tg_lo16(o) + b[3] * tg_hi16(o);
#endif
}

/* Two weight rows (interleaved by groups of four bytes) by two extended columns x, `groups`
 * groups: acc[0] += w0.x0, acc[1] += w1.x0, acc[2] += w0.x1, acc[3] += w1.x1. Per group one
 * LDRD of weights, four SXTB16, two LDRD of columns and eight SMLAD: 16 MACs. */
static inline void tg_dot_pair(const int8_t *w, const uint32_t *x, int32_t groups, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if TG_DSP
    {
        /* Two groups a turn, written out so that every load is an LDRD that moves its
         * pointer and the loop costs a compare and a branch (32 instructions for 32 MACs,
         * and 2); an odd count enters at the second group. */
        uint32_t n = (uint32_t)groups, v, u, t, s, e, o;
        __asm__ volatile(
            "lsls   %[t], %[n], #31\n\t"
            "add    %[n], %[w], %[n], lsl #3\n\t"  /* the weights' end */
            "bne    2f\n\t"
            "1:\n\t"
            TG_ASM_PAIR_GROUP
            "2:\n\t"
            TG_ASM_PAIR_GROUP
            "cmp    %[w], %[n]\n\t"
            "bne    1b\n\t"
            : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [w] "+r"(w),
              [x] "+r"(x), [n] "+r"(n), [v] "=&r"(v), [u] "=&r"(u), [t] "=&r"(t),
              [s] "=&r"(s), [e] "=&r"(e), [o] "=&r"(o)
            :
            : "cc", "memory");
    }
#else
    const int8_t *const end = w + 8 * groups;
    for (; w < end; w += 8, x += 4) {
        const uint32_t v = tg_load4a(w), u = tg_load4a(w + 4);
        a0 = tg_mac4_ext(v, x[0], x[1], a0);
        a1 = tg_mac4_ext(u, x[0], x[1], a1);
        a2 = tg_mac4_ext(v, x[2], x[3], a2);
        a3 = tg_mac4_ext(u, x[2], x[3], a3);
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* Two weight rows (interleaved) by three extended columns (six words a group: column 0's
 * even and odd pairs, column 1's, column 2's): acc[2k] += w0.xk, acc[2k + 1] += w1.xk. The
 * weights, split once, serve three columns: 20 instructions for 24 MACs a group. */
static inline void tg_dot_triple(const int8_t *w, const uint32_t *x, int32_t groups,
                                 int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3], a4 = acc[4], a5 = acc[5];
#if TG_DSP
    /* Fourteen registers in use: the loop's end and the group count are read from memory. */
    const int8_t *const end = w + 8 * groups;
    uint32_t v, u, t, s, e, o;
    __asm__ volatile(
        "ldr    %[t], %[g]\n\t"
        "lsls   %[t], %[t], #31\n\t"
        "bne    2f\n\t"
        "1:\n\t"
        TG_ASM_TRIPLE_GROUP
        "2:\n\t"
        TG_ASM_TRIPLE_GROUP
        "ldr    %[e], %[end]\n\t"
        "cmp    %[w], %[e]\n\t"
        "bne    1b\n\t"
        : [a0] "+r"(a0), [a1] "+r"(a1), [a2] "+r"(a2), [a3] "+r"(a3), [a4] "+r"(a4),
          [a5] "+r"(a5), [w] "+r"(w), [x] "+r"(x), [v] "=&r"(v), [u] "=&r"(u),
          [t] "=&r"(t), [s] "=&r"(s), [e] "=&r"(e), [o] "=&r"(o)
        : [end] "m"(end), [g] "m"(groups)
        : "cc", "memory");
#else
    const int8_t *const end = w + 8 * groups;
    for (; w < end; w += 8, x += 6) {
        const uint32_t v = tg_load4a(w), u = tg_load4a(w + 4);
        a0 = tg_mac4_ext(v, x[0], x[1], a0);
        a1 = tg_mac4_ext(u, x[0], x[1], a1);
        a2 = tg_mac4_ext(v, x[2], x[3], a2);
        a3 = tg_mac4_ext(u, x[2], x[3], a3);
        a4 = tg_mac4_ext(v, x[4], x[5], a4);
        a5 = tg_mac4_ext(u, x[4], x[5], a5);
    }
#endif
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
    acc[4] = a4;
    acc[5] = a5;
}

/* Two weight rows (interleaved) by the first n (1 or 2) of three extended columns: the last
 * pixels of a convolution whose count is not a multiple of three. */
static inline void tg_dot_few(const int8_t *w, const uint32_t *x, int32_t groups, int32_t *acc,
                              const int n)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    const int8_t *const end = w + 8 * groups;
    for (; w < end; w += 8, x += 6) {
        const uint32_t v = tg_load4a(w), u = tg_load4a(w + 4);
        a0 = tg_mac4_ext(v, x[0], x[1], a0);
        a1 = tg_mac4_ext(u, x[0], x[1], a1);
        if (n == 2) {
            a2 = tg_mac4_ext(v, x[2], x[3], a2);
            a3 = tg_mac4_ext(u, x[2], x[3], a3);
        }
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* One weight row (plain) by three extended columns. */
static inline void tg_dot_lone3(const int8_t *w, const uint32_t *x, int32_t groups,
                                int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2];
    for (int32_t g = 0; g < groups; ++g, w += 4, x += 6) {
        const uint32_t v = tg_load4a(w);
        a0 = tg_mac4_ext(v, x[0], x[1], a0);
        a1 = tg_mac4_ext(v, x[2], x[3], a1);
        a2 = tg_mac4_ext(v, x[4], x[5], a2);
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
}

/* One weight row (plain) by two extended columns: acc[0] += w.x0, acc[1] += w.x1. */
static inline void tg_dot_lone(const int8_t *w, const uint32_t *x, int32_t groups, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1];
    for (int32_t g = 0; g < groups; ++g, w += 4, x += 4) {
        const uint32_t v = tg_load4a(w);
        a0 = tg_mac4_ext(v, x[0], x[1], a0);
        a1 = tg_mac4_ext(v, x[2], x[3], a1);
    }
    acc[0] = a0;
    acc[1] = a1;
}

/* Four weight rows (interleaved, rows padded to a multiple of 4) by one plain vector of
 * `depth` bytes: acc[r] += w_r.x. */
static inline void tg_dot_quad(const int8_t *w, const int8_t *x, int32_t depth, int32_t *acc)
{
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t k = 0;
#if TG_DSP
    for (; k + 4 <= depth; k += 4, w += 16) {
        const uint32_t p = tg_load4(x + k);
        const uint32_t pe = tg_even16(p), po = tg_odd16(p);
        uint32_t v = tg_load4a(w);
        a0 = tg_smlad(tg_odd16(v), po, tg_smlad(tg_even16(v), pe, a0));
        v = tg_load4a(w + 4);
        a1 = tg_smlad(tg_odd16(v), po, tg_smlad(tg_even16(v), pe, a1));
        v = tg_load4a(w + 8);
        a2 = tg_smlad(tg_odd16(v), po, tg_smlad(tg_even16(v), pe, a2));
        v = tg_load4a(w + 12);
        a3 = tg_smlad(tg_odd16(v), po, tg_smlad(tg_even16(v), pe, a3));
    }
#else
    /* Four input bytes in registers against the four rows' four bytes each: 20 byte loads and
     * 16 multiply-accumulates a turn. */
    for (; k + 4 <= depth; k += 4, w += 16) {
        const int32_t p0 = x[k], p1 = x[k + 1], p2 = x[k + 2], p3 = x[k + 3];
        a0 += w[0] * p0 + w[1] * p1 + w[2] * p2 + w[3] * p3;
        a1 += w[4] * p0 + w[5] * p1 + w[6] * p2 + w[7] * p3;
        a2 += w[8] * p0 + w[9] * p1 + w[10] * p2 + w[11] * p3;
        a3 += w[12] * p0 + w[13] * p1 + w[14] * p2 + w[15] * p3;
    }
#endif
    for (int32_t i = 0; k + i < depth; ++i) {
        const int32_t p = x[k + i];
        a0 += w[i] * p;
        a1 += w[4 + i] * p;
        a2 += w[8 + i] * p;
        a3 += w[12 + i] * p;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* One plain weight row by one plain vector of `depth` bytes. */
static inline int32_t tg_dot_row(const int8_t *w, const int8_t *x, int32_t depth)
{
    int32_t acc = 0;
    int32_t k = 0;
#if TG_DSP
    for (; k + 4 <= depth; k += 4) {
        const uint32_t v = tg_load4a(w + k);
        acc = tg_mac4(tg_even16(v), tg_odd16(v), tg_load4(x + k), acc);
    }
#endif
    for (; k < depth; ++k) {
        acc += (int32_t)w[k] * x[k];
    }
    return acc;
}

#endif
