/* The int8 pass of corpus_tools._screen (kernels in _screen_kernels.pyx): one integer dot product per vocabulary row.
 *
 * Each row is stored as int8 (its own scale) and the query as int16; a row's sum of
 * products is exact in int32 as long as D * 127 * 16384 < 2^31 (D <= 1032; the Python
 * side enables the screen for D <= 1024 only). The body is compiled twice, for the
 * baseline x86-64 instruction set (SSE2) and for AVX2, and the AVX2 version is chosen
 * at run time when the processor has it; WORDSTACK_SIMD=sse2 in the environment forces
 * the portable one (for tests), as in models/core/_simd.h. GCC vectorizes the loop
 * with pmaddwd (16-bit products summed in pairs into 32-bit lanes).
 */
#ifndef WORDSTACK_SCREEN_H
#define WORDSTACK_SCREEN_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WS_SCREEN_DISPATCH 1
#define WS_SCREEN_BODY static inline __attribute__((always_inline))
#else
#define WS_SCREEN_DISPATCH 0
#define WS_SCREEN_BODY static inline
#endif

WS_SCREEN_BODY void ws_screen_dots_body(const int8_t *M, long n_rows, long dim, const int16_t *q, int32_t *out) {
    long r, i;
    for (r = 0; r < n_rows; r++) {
        const int8_t *row = M + r * dim;
        int32_t acc = 0;
        for (i = 0; i < dim; i++)
            acc += (int32_t)row[i] * (int32_t)q[i];
        out[r] = acc;
    }
}

#if WS_SCREEN_DISPATCH
__attribute__((target("avx2"))) static void ws_screen_dots_avx2(const int8_t *M, long n_rows, long dim,
                                                                const int16_t *q, int32_t *out) {
    ws_screen_dots_body(M, n_rows, dim, q, out);
}
#endif

static void ws_screen_dots_base(const int8_t *M, long n_rows, long dim, const int16_t *q, int32_t *out) {
    ws_screen_dots_body(M, n_rows, dim, q, out);
}

static int ws_screen_avx2_state = -1;   /* -1 unknown; set once (a benign race: every thread writes the same) */

/* 1 when the AVX2 version runs. */
static inline int ws_screen_simd_level(void) {
#if WS_SCREEN_DISPATCH
    if (ws_screen_avx2_state < 0) {
        const char *force = getenv("WORDSTACK_SIMD");
        __builtin_cpu_init();
        ws_screen_avx2_state = __builtin_cpu_supports("avx2") && !(force != NULL && strcmp(force, "sse2") == 0);
    }
    return ws_screen_avx2_state;
#else
    return 0;
#endif
}

/* out[r] = sum_i M[r, i] * q[i] for the first n_rows rows of the row-major (., dim) matrix M. */
static inline void ws_screen_dots(const int8_t *M, long n_rows, long dim, const int16_t *q, int32_t *out) {
#if WS_SCREEN_DISPATCH
    if (ws_screen_simd_level()) { ws_screen_dots_avx2(M, n_rows, dim, q, out); return; }
#endif
    ws_screen_dots_base(M, n_rows, dim, q, out);
}

#endif
