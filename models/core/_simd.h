/* Small dense kernels for models/core/_linalg.pxd: elementwise sigmoid/tanh and the matrix
 * products too small for BLAS, written so that GCC vectorizes them.
 *
 * Each kernel is compiled twice from one always-inline body: for the baseline x86-64
 * instruction set (SSE2) and for AVX2+FMA, and the AVX2 version is chosen at run time
 * when the processor has it (__builtin_cpu_supports; WORDSTACK_SIMD=sse2 in the
 * environment forces the portable version, for tests). The per-step products have a
 * third version for AVX-512F, bit-identical to the AVX2 one (ws_gemm_avx512;
 * WORDSTACK_SIMD=avx2 turns it off). Other compilers and processors get the portable
 * version. Nothing here depends on compiler flags given to setup.py.
 *
 * ws_exp: exp(x) by Cody-Waite range reduction x = n ln2 + r, |r| <= ln2/2, a degree-13
 * Taylor polynomial for exp(r) (truncation < 5e-18) and 2^n built from its bits; the
 * argument is clamped to [-708, 709] (results stay finite and normal), NaN propagates.
 * Relative error about 4e-15 (SSE2) and 2e-16 (FMA) against libm: the kernels agree
 * with their numpy references far inside the 1e-10 the tests ask.
 * "no-trapping-math" lets GCC turn the clamps into vector min/max (Python never enables
 * floating-point traps); "associative-math" lets it vectorize the dot products.
 */
#ifndef WORDSTACK_MODELS_SIMD_H
#define WORDSTACK_MODELS_SIMD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define WS_DISPATCH 1
#define WS_BODY static inline __attribute__((always_inline, optimize("no-trapping-math")))
#define WS_DOT_BODY static inline __attribute__((always_inline, optimize("no-trapping-math", "no-signed-zeros", "associative-math")))
#define WS_AVX2 __attribute__((target("avx2,fma"), optimize("no-trapping-math")))
#define WS_AVX2_DOT __attribute__((target("avx2,fma"), optimize("no-trapping-math", "no-signed-zeros", "associative-math")))
#define WS_BASE __attribute__((optimize("no-trapping-math")))
#define WS_BASE_DOT __attribute__((optimize("no-trapping-math", "no-signed-zeros", "associative-math")))
#else
#define WS_DISPATCH 0
#define WS_BODY static inline
#define WS_DOT_BODY static inline
#define WS_AVX2
#define WS_AVX2_DOT
#define WS_BASE
#define WS_BASE_DOT
#endif

#if defined(__GNUC__)
#define WS_RESTRICT __restrict__
#else
#define WS_RESTRICT
#endif

WS_BODY double ws_exp(double x) {
    const double magic = 6755399441055744.0;          /* 1.5 * 2^52: rounds to an integer */
    double t, n, r, p, s;
    int64_t ti, si;
    x = x < -708.0 ? -708.0 : x;
    x = x > 709.0 ? 709.0 : x;
    t = x * 1.4426950408889634 + magic;
    n = t - magic;                                     /* round(x / ln2) */
    memcpy(&ti, &t, sizeof ti);
    r = x - n * 0.693147180559945286226764;            /* ln2, high part */
    r = r - n * 2.319046813846299558e-17;              /* ln2, low part */
    p = 1.0 / 6227020800.0;
    p = p * r + 1.0 / 479001600.0;
    p = p * r + 1.0 / 39916800.0;
    p = p * r + 1.0 / 3628800.0;
    p = p * r + 1.0 / 362880.0;
    p = p * r + 1.0 / 40320.0;
    p = p * r + 1.0 / 5040.0;
    p = p * r + 1.0 / 720.0;
    p = p * r + 1.0 / 120.0;
    p = p * r + 1.0 / 24.0;
    p = p * r + 1.0 / 6.0;
    p = p * r + 0.5;
    p = p * r + 1.0;
    p = p * r + 1.0;
    si = ((ti - (int64_t)0x4338000000000000LL) + 1023) << 52;   /* 2^n */
    memcpy(&s, &si, sizeof s);
    return p * s;
}

WS_BODY void ws_sigmoid_body(double *WS_RESTRICT a, long n) {
    long i;
    for (i = 0; i < n; i++)
        a[i] = 1.0 / (1.0 + ws_exp(-a[i]));
}

WS_BODY void ws_tanh_body(double *WS_RESTRICT a, long n) {
    long i;
    for (i = 0; i < n; i++) {
        double x = a[i];
        double e = ws_exp(-2.0 * fabs(x));
        a[i] = copysign((1.0 - e) / (1.0 + e), x);
    }
}

#if defined(__GNUC__)
/* Four doubles as one value (GCC/Clang vector extension): an AVX register in the AVX2
 * build, two SSE2 registers in the baseline one. aligned(8): loads need no alignment. */
typedef double ws_v4 __attribute__((vector_size(32), aligned(8)));
#define WS_HAVE_V4 1
#else
#define WS_HAVE_V4 0
#endif

/* C[i, j:j+w] += alpha * sum_p a(i, p) * B[p, j:j+w] for one row i, with a(i, p) at
 * A[p * a_step] (the caller offsets A to row i): the row block of C stays in registers
 * over the whole inner dimension (updating it in memory term by term would stall each
 * step on the store of the previous one). */
WS_DOT_BODY void ws_row_update(int n, int k, double alpha, const double *A, long a_step,
                               const double *B, int ldb, double *C) {
    int j = 0, p;
#if WS_HAVE_V4
    for (; j + 16 <= n; j += 16) {
        ws_v4 c0 = {0.0, 0.0, 0.0, 0.0}, c1 = c0, c2 = c0, c3 = c0;
        for (p = 0; p < k; p++) {
            const double a = A[p * a_step];
            const double *b = B + (long)p * ldb + j;
            c0 += a * *(const ws_v4 *)(b);
            c1 += a * *(const ws_v4 *)(b + 4);
            c2 += a * *(const ws_v4 *)(b + 8);
            c3 += a * *(const ws_v4 *)(b + 12);
        }
        *(ws_v4 *)(C + j) += alpha * c0;
        *(ws_v4 *)(C + j + 4) += alpha * c1;
        *(ws_v4 *)(C + j + 8) += alpha * c2;
        *(ws_v4 *)(C + j + 12) += alpha * c3;
    }
    for (; j + 4 <= n; j += 4) {
        ws_v4 c0 = {0.0, 0.0, 0.0, 0.0};
        for (p = 0; p < k; p++)
            c0 += A[p * a_step] * *(const ws_v4 *)(B + (long)p * ldb + j);
        *(ws_v4 *)(C + j) += alpha * c0;
    }
#endif
    for (; j < n; j++) {
        double s = 0.0;
        for (p = 0; p < k; p++)
            s += A[p * a_step] * B[(long)p * ldb + j];
        C[j] += alpha * s;
    }
}

#if WS_HAVE_V4
/* C[i+r, j:j+8] += alpha * sum_p a(i+r, p) * B[p, j:j+8] for R = 4 or 6 rows r at once,
 * columns j = 0, 8, ..., n8-8 (n8 a multiple of 8), with a(i+r, p) at
 * A[r * a_row + p * a_step]. Each load of B feeds R rows, and the 2R independent FMA
 * chains hide the FMA latency; the one-row kernel above loads B once per FMA, which
 * bounds the per-step products of the recurrent kernels (batch rows x gates) by loads.
 * Every element is the same sum in the same order as in ws_row_update (p = 0, 1, ...,
 * k-1 into a zeroed accumulator, then alpha times it added to C): bit-identical results.
 * ws_v4 arithmetic on the accumulators, spelled out per row (R is a constant, so the
 * compiler keeps them in registers: 12 of the 16 AVX registers at R = 6). */
#define WS_ROWS_ACC(r) ws_v4 c##r##0 = {0.0, 0.0, 0.0, 0.0}, c##r##1 = c##r##0
#define WS_ROWS_FMA(r) do { const double x = A[(r) * a_row + q]; c##r##0 += x * b0; c##r##1 += x * b1; } while (0)
#define WS_ROWS_STORE(r) do { double *c_ = C + (long)(r) * ldc + j; \
        *(ws_v4 *)(c_) += alpha * c##r##0; *(ws_v4 *)(c_ + 4) += alpha * c##r##1; } while (0)

WS_DOT_BODY void ws_rows4_update(int n8, int k, double alpha, const double *A, long a_row, long a_step,
                                 const double *B, int ldb, double *C, int ldc) {
    int j, p;
    for (j = 0; j < n8; j += 8) {
        WS_ROWS_ACC(0); WS_ROWS_ACC(1); WS_ROWS_ACC(2); WS_ROWS_ACC(3);
        for (p = 0; p < k; p++) {
            const double *b = B + (long)p * ldb + j;
            const ws_v4 b0 = *(const ws_v4 *)(b), b1 = *(const ws_v4 *)(b + 4);
            const long q = p * a_step;
            WS_ROWS_FMA(0); WS_ROWS_FMA(1); WS_ROWS_FMA(2); WS_ROWS_FMA(3);
        }
        WS_ROWS_STORE(0); WS_ROWS_STORE(1); WS_ROWS_STORE(2); WS_ROWS_STORE(3);
    }
}

WS_DOT_BODY void ws_rows6_update(int n8, int k, double alpha, const double *A, long a_row, long a_step,
                                 const double *B, int ldb, double *C, int ldc) {
    int j, p;
    for (j = 0; j < n8; j += 8) {
        WS_ROWS_ACC(0); WS_ROWS_ACC(1); WS_ROWS_ACC(2); WS_ROWS_ACC(3); WS_ROWS_ACC(4); WS_ROWS_ACC(5);
        for (p = 0; p < k; p++) {
            const double *b = B + (long)p * ldb + j;
            const ws_v4 b0 = *(const ws_v4 *)(b), b1 = *(const ws_v4 *)(b + 4);
            const long q = p * a_step;
            WS_ROWS_FMA(0); WS_ROWS_FMA(1); WS_ROWS_FMA(2); WS_ROWS_FMA(3); WS_ROWS_FMA(4); WS_ROWS_FMA(5);
        }
        WS_ROWS_STORE(0); WS_ROWS_STORE(1); WS_ROWS_STORE(2); WS_ROWS_STORE(3); WS_ROWS_STORE(4);
        WS_ROWS_STORE(5);
    }
}
#undef WS_ROWS_ACC
#undef WS_ROWS_FMA
#undef WS_ROWS_STORE
#endif

/* C (m, n) += alpha * op(A) @ B, B not transposed. ``blocked`` (the AVX2 build): rows in
 * blocks of six, then of four, through ws_rows6/4_update over the columns that fill
 * blocks of eight; the other columns of those rows and the last rows (m % 2, or all of
 * them in the baseline build, where eight ws_v4 accumulators would not fit the SSE2
 * registers) through ws_row_update. */
WS_DOT_BODY void ws_gemm_rows(int blocked, int ta, int m, int n, int k, double alpha, const double *A, int lda,
                              const double *B, int ldb, double *C, int ldc) {
    const long a_row = ta ? 1 : lda, a_step = ta ? lda : 1;
    int i = 0, r;
#if WS_HAVE_V4
    const int n8 = n & ~7;
    while (blocked && n8 > 0 && i + 4 <= m) {
        const int rows = i + 6 <= m ? 6 : 4;
        if (rows == 6)
            ws_rows6_update(n8, k, alpha, A + i * a_row, a_row, a_step, B, ldb, C + (long)i * ldc, ldc);
        else
            ws_rows4_update(n8, k, alpha, A + i * a_row, a_row, a_step, B, ldb, C + (long)i * ldc, ldc);
        if (n8 < n)
            for (r = i; r < i + rows; r++)
                ws_row_update(n - n8, k, alpha, A + r * a_row, a_step, B + n8, ldb, C + (long)r * ldc + n8);
        i += rows;
    }
#endif
    for (; i < m; i++)
        ws_row_update(n, k, alpha, A + i * a_row, a_step, B, ldb, C + (long)i * ldc);
}

/* Row-major C (m, n) += alpha * op(A) @ op(B); op(A) is (m, k), op(B) is (k, n). */
WS_DOT_BODY void ws_gemm_body(int blocked, int ta, int tb, int m, int n, int k, double alpha,
                              const double *A, int lda, const double *B, int ldb,
                              double *C, int ldc) {
    int i, j, p;
    if (tb && (long)n * k <= 4096 && m >= 2) {
        /* B used transposed: copy op(B) (k, n) once, then run the row kernel */
        double Bt[4096];
        for (j = 0; j < n; j++)
            for (p = 0; p < k; p++)
                Bt[(long)p * n + j] = B[(long)j * ldb + p];
        ws_gemm_rows(blocked, ta, m, n, k, alpha, A, lda, Bt, n, C, ldc);
        return;
    }
    if (!tb) {
        ws_gemm_rows(blocked, ta, m, n, k, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    /* op(B) = B^T and one row of C (or a large B): dot products along rows of B */
    for (i = 0; i < m; i++)
        for (j = 0; j < n; j++) {
            const double *b = B + (long)j * ldb;
            double s = 0.0;
            if (!ta)
                for (p = 0; p < k; p++)
                    s += A[(long)i * lda + p] * b[p];
            else
                for (p = 0; p < k; p++)
                    s += A[(long)p * lda + i] * b[p];
            C[(long)i * ldc + j] += alpha * s;
        }
}

/* out (cols, rows) = in (rows, cols) transposed. */
static inline void ws_transpose(int rows, int cols, const double *in, double *out) {
    int r, c;
    for (r = 0; r < rows; r++)
        for (c = 0; c < cols; c++)
            out[(long)c * rows + r] = in[(long)r * cols + c];
}

/* The LSTM cell's backward, elementwise (models/recurrent/_lstm.pyx, gate blocks [i, f, o, g]
 * of ``g`` holding the activations): dg (B, 4H) and dc_prev (B, H) from dh, dc (B, H).
 * ``dc`` NULL means zero, ``dc_prev`` NULL skips it, and dc_prev may be dc (updated in
 * place: each element is read before it is written, so ivdep holds). Every product is
 * written in the order of the Cython loop it replaces, and the vector builds have no FMA
 * (target avx2 without fma, or SSE2) to fuse them: the results are bit-identical to it. */
WS_BODY void ws_lstm_cell_backward_rows(const int has_dc, const int has_dc_prev, int B, int H,
                                        const double *WS_RESTRICT g, const double *WS_RESTRICT c_prev,
                                        const double *WS_RESTRICT tanh_c, const double *WS_RESTRICT dh,
                                        const double *dc, double *WS_RESTRICT dg, double *dc_prev) {
    /* long indices and one pointer per gate block: with -fwrapv (Python's CFLAGS) int
     * index arithmetic may wrap, and GCC then does not vectorize the accesses */
    long r, j;
    const long h = H;
    for (r = 0; r < B; r++) {
        const double *gi = g + r * 4 * h, *gf = gi + h, *go = gi + 2 * h, *gg = gi + 3 * h;
        double *di = dg + r * 4 * h, *df = di + h, *d_o = di + 2 * h, *dgg = di + 3 * h;
        const double *cp = c_prev + r * h, *tcr = tanh_c + r * h, *dhr = dh + r * h;
        const double *dcr = has_dc ? dc + r * h : NULL;
        double *dpr = has_dc_prev ? dc_prev + r * h : NULL;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
        for (j = 0; j < h; j++) {
            const double i_t = gi[j], f_t = gf[j], o_t = go[j], g_t = gg[j];
            const double tc = tcr[j], dh_v = dhr[j];
            double dct = (dh_v * o_t) * (1.0 - (tc * tc));
            if (has_dc)
                dct = dct + dcr[j];
            di[j] = ((dct * g_t) * i_t) * (1.0 - i_t);
            df[j] = ((dct * cp[j]) * f_t) * (1.0 - f_t);
            d_o[j] = ((dh_v * tc) * o_t) * (1.0 - o_t);
            dgg[j] = (dct * i_t) * (1.0 - (g_t * g_t));
            if (has_dc_prev)
                dpr[j] = dct * f_t;
        }
    }
}

/* The LSTM cell's state and output, elementwise over B rows (gate blocks [i, f, o, g] of
 * ``g`` holding the activations): c = f c_prev + i g, then h = o tanh(c) given tanh_c.
 * Same products and sums as the Cython loops they replace, no FMA: bit-identical. */
WS_BODY void ws_lstm_cell_state_body(int B, int H, const double *WS_RESTRICT g, const double *WS_RESTRICT c_prev,
                                     double *WS_RESTRICT c) {
    long r, j;
    const long h = H;
    for (r = 0; r < B; r++) {
        const double *gi = g + r * 4 * h, *gf = gi + h, *gg = gi + 3 * h, *cp = c_prev + r * h;
        double *cr = c + r * h;
        for (j = 0; j < h; j++)
            cr[j] = (gf[j] * cp[j]) + (gi[j] * gg[j]);
    }
}

WS_BODY void ws_lstm_cell_output_body(int B, int H, const double *WS_RESTRICT g, const double *WS_RESTRICT tanh_c,
                                      double *WS_RESTRICT out) {
    long r, j;
    const long h = H;
    for (r = 0; r < B; r++) {
        const double *go = g + r * 4 * h + 2 * h, *tc = tanh_c + r * h;
        double *hr = out + r * h;
        for (j = 0; j < h; j++)
            hr[j] = go[j] * tc[j];
    }
}

WS_BODY void ws_lstm_cell_backward_body(int B, int H, const double *g, const double *c_prev, const double *tanh_c,
                                        const double *dh, const double *dc, double *dg, double *dc_prev) {
    if (dc != NULL && dc_prev != NULL)
        ws_lstm_cell_backward_rows(1, 1, B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
    else if (dc != NULL)
        ws_lstm_cell_backward_rows(1, 0, B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
    else if (dc_prev != NULL)
        ws_lstm_cell_backward_rows(0, 1, B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
    else
        ws_lstm_cell_backward_rows(0, 0, B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
}

WS_AVX2 static void ws_sigmoid_avx2(double *a, long n) { ws_sigmoid_body(a, n); }
WS_AVX2 static void ws_tanh_avx2(double *a, long n) { ws_tanh_body(a, n); }
WS_AVX2_DOT static void ws_gemm_avx2(int ta, int tb, int m, int n, int k, double alpha, const double *A,
                                     int lda, const double *B, int ldb, double *C, int ldc) {
    ws_gemm_body(1, ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
}
/* The per-step products on processors with AVX-512: the row blocks of ws_gemm_rows with
 * eight doubles a vector, twelve, eight or four rows by sixteen columns at once (24, 16 or
 * 8 of the 32 zmm registers as accumulators; at batch 16, twelve and four ran the
 * recipe's training step 11-12 % faster than the AVX2 kernels, eight and eight 7 %).
 * Every element is the same sum in the same order as in the AVX2 kernels (p = 0, 1, ...,
 * k-1 fused into a zeroed accumulator, then alpha times it added to C), so the results
 * are bit-identical to theirs: turning this on changes no seeded run. (The large
 * products go to OpenBLAS, whose kernels differ by processor family: across families a
 * seeded training run is not bit-identical anyway, unless OPENBLAS_CORETYPE names the
 * same kernels on both, e.g. Haswell.) The columns past the last block of sixteen,
 * the rows past the last block of four, and op(B) = B^T beyond the copy buffer go to
 * ws_gemm_avx2 itself. */
#if WS_DISPATCH
typedef double ws_v8 __attribute__((vector_size(64), aligned(8)));
#define WS_AVX512_DOT __attribute__((target("avx512f,fma"), optimize("no-trapping-math", "no-signed-zeros", "associative-math")))
#define WS_R8_ACC(r) ws_v8 d##r##0 = {0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0}, d##r##1 = d##r##0
#define WS_R8_FMA(r) do { const double x = A[(r) * a_row + q]; d##r##0 += x * b0; d##r##1 += x * b1; } while (0)
#define WS_R8_STORE(r) do { double *c_ = C + (long)(r) * ldc + j; \
        *(ws_v8 *)(c_) += alpha * d##r##0; *(ws_v8 *)(c_ + 8) += alpha * d##r##1; } while (0)

WS_AVX512_DOT static void ws_rows8_avx512(int n16, int k, double alpha, const double *A, long a_row, long a_step,
                                          const double *B, int ldb, double *C, int ldc) {
    int j, p;
    for (j = 0; j < n16; j += 16) {
        WS_R8_ACC(0); WS_R8_ACC(1); WS_R8_ACC(2); WS_R8_ACC(3); WS_R8_ACC(4); WS_R8_ACC(5); WS_R8_ACC(6);
        WS_R8_ACC(7);
        for (p = 0; p < k; p++) {
            const double *b = B + (long)p * ldb + j;
            const ws_v8 b0 = *(const ws_v8 *)(b), b1 = *(const ws_v8 *)(b + 8);
            const long q = p * a_step;
            WS_R8_FMA(0); WS_R8_FMA(1); WS_R8_FMA(2); WS_R8_FMA(3); WS_R8_FMA(4); WS_R8_FMA(5); WS_R8_FMA(6);
            WS_R8_FMA(7);
        }
        WS_R8_STORE(0); WS_R8_STORE(1); WS_R8_STORE(2); WS_R8_STORE(3); WS_R8_STORE(4); WS_R8_STORE(5);
        WS_R8_STORE(6); WS_R8_STORE(7);
    }
}

WS_AVX512_DOT static void ws_rows12_avx512(int n16, int k, double alpha, const double *A, long a_row, long a_step,
                                           const double *B, int ldb, double *C, int ldc) {
    int j, p;
    for (j = 0; j < n16; j += 16) {
        WS_R8_ACC(0); WS_R8_ACC(1); WS_R8_ACC(2); WS_R8_ACC(3); WS_R8_ACC(4); WS_R8_ACC(5); WS_R8_ACC(6);
        WS_R8_ACC(7); WS_R8_ACC(8); WS_R8_ACC(9); WS_R8_ACC(10); WS_R8_ACC(11);
        for (p = 0; p < k; p++) {
            const double *b = B + (long)p * ldb + j;
            const ws_v8 b0 = *(const ws_v8 *)(b), b1 = *(const ws_v8 *)(b + 8);
            const long q = p * a_step;
            WS_R8_FMA(0); WS_R8_FMA(1); WS_R8_FMA(2); WS_R8_FMA(3); WS_R8_FMA(4); WS_R8_FMA(5); WS_R8_FMA(6);
            WS_R8_FMA(7); WS_R8_FMA(8); WS_R8_FMA(9); WS_R8_FMA(10); WS_R8_FMA(11);
        }
        WS_R8_STORE(0); WS_R8_STORE(1); WS_R8_STORE(2); WS_R8_STORE(3); WS_R8_STORE(4); WS_R8_STORE(5);
        WS_R8_STORE(6); WS_R8_STORE(7); WS_R8_STORE(8); WS_R8_STORE(9); WS_R8_STORE(10); WS_R8_STORE(11);
    }
}

WS_AVX512_DOT static void ws_rows4_avx512(int n16, int k, double alpha, const double *A, long a_row, long a_step,
                                          const double *B, int ldb, double *C, int ldc) {
    int j, p;
    for (j = 0; j < n16; j += 16) {
        WS_R8_ACC(0); WS_R8_ACC(1); WS_R8_ACC(2); WS_R8_ACC(3);
        for (p = 0; p < k; p++) {
            const double *b = B + (long)p * ldb + j;
            const ws_v8 b0 = *(const ws_v8 *)(b), b1 = *(const ws_v8 *)(b + 8);
            const long q = p * a_step;
            WS_R8_FMA(0); WS_R8_FMA(1); WS_R8_FMA(2); WS_R8_FMA(3);
        }
        WS_R8_STORE(0); WS_R8_STORE(1); WS_R8_STORE(2); WS_R8_STORE(3);
    }
}
#undef WS_R8_ACC
#undef WS_R8_FMA
#undef WS_R8_STORE

WS_AVX512_DOT static void ws_gemm_avx512(int ta, int tb, int m, int n, int k, double alpha, const double *A,
                                         int lda, const double *B, int ldb, double *C, int ldc) {
    const long a_row = ta ? 1 : lda, a_step = ta ? lda : 1;
    const int n16 = n & ~15;
    double Bt[4096];
    int i = 0, j, p;
    if (n16 == 0 || m < 4 || (tb && !((long)n * k <= 4096 && m >= 2))) {
        ws_gemm_avx2(ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    if (tb) {                          /* as ws_gemm_body: copy op(B) (k, n) once */
        for (j = 0; j < n; j++)
            for (p = 0; p < k; p++)
                Bt[(long)p * n + j] = B[(long)j * ldb + p];
        B = Bt;
        ldb = n;
    }
    for (; i + 12 <= m; i += 12)
        ws_rows12_avx512(n16, k, alpha, A + i * a_row, a_row, a_step, B, ldb, C + (long)i * ldc, ldc);
    for (; i + 8 <= m; i += 8)
        ws_rows8_avx512(n16, k, alpha, A + i * a_row, a_row, a_step, B, ldb, C + (long)i * ldc, ldc);
    for (; i + 4 <= m; i += 4)
        ws_rows4_avx512(n16, k, alpha, A + i * a_row, a_row, a_step, B, ldb, C + (long)i * ldc, ldc);
    if (n16 < n)
        ws_gemm_avx2(ta, 0, i, n - n16, k, alpha, A, lda, B + n16, ldb, C + n16, ldc);
    if (i < m)
        ws_gemm_avx2(ta, 0, m - i, n, k, alpha, A + i * a_row, lda, B, ldb, C + (long)i * ldc, ldc);
}
#endif

/* avx2 without fma: the cell's products are not fused (bit-identical to the scalar loop) */
__attribute__((target("avx2"), optimize("no-trapping-math"))) static void ws_lstm_cell_state_avx2(
        int B, int H, const double *g, const double *c_prev, double *c) {
    ws_lstm_cell_state_body(B, H, g, c_prev, c);
}
__attribute__((target("avx2"), optimize("no-trapping-math"))) static void ws_lstm_cell_output_avx2(
        int B, int H, const double *g, const double *tanh_c, double *h) {
    ws_lstm_cell_output_body(B, H, g, tanh_c, h);
}
__attribute__((target("avx2"), optimize("no-trapping-math"))) static void ws_lstm_cell_backward_avx2(
        int B, int H, const double *g, const double *c_prev, const double *tanh_c, const double *dh,
        const double *dc, double *dg, double *dc_prev) {
    ws_lstm_cell_backward_body(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
}
WS_BASE static void ws_sigmoid_base(double *a, long n) { ws_sigmoid_body(a, n); }
WS_BASE static void ws_tanh_base(double *a, long n) { ws_tanh_body(a, n); }
WS_BASE static void ws_lstm_cell_state_base(int B, int H, const double *g, const double *c_prev, double *c) {
    ws_lstm_cell_state_body(B, H, g, c_prev, c);
}
WS_BASE static void ws_lstm_cell_output_base(int B, int H, const double *g, const double *tanh_c, double *h) {
    ws_lstm_cell_output_body(B, H, g, tanh_c, h);
}
WS_BASE static void ws_lstm_cell_backward_base(int B, int H, const double *g, const double *c_prev,
                                               const double *tanh_c, const double *dh, const double *dc, double *dg,
                                               double *dc_prev) {
    ws_lstm_cell_backward_body(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
}
WS_BASE_DOT static void ws_gemm_base(int ta, int tb, int m, int n, int k, double alpha, const double *A,
                                     int lda, const double *B, int ldb, double *C, int ldc) {
    ws_gemm_body(0, ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
}

/* Adam on flat vectors (models/core/_updates.pyx): g = scale grad; s1 = h1 s1 + (1 - h1) g;
 * s2 = h2 s2 + (1 - h2) g g; theta -= lr (s1 / c1) / (sqrt(s2 / c2) + eps). The same
 * operations in the same order as the Cython loop, no FMA (target avx2 without fma), the
 * square root and the divisions correctly rounded in the vector units as in the scalar
 * ones: bit-identical to it. (Written with ws_v4: with errno semantics GCC does not
 * vectorize sqrt by itself.) */
#define WS_ADAM_TAIL(i0)                                                              \
    {                                                                                 \
        long k;                                                                       \
        for (k = (i0); k < n; k++) {                                                  \
            const double g = scale * grad[k];                                         \
            s1[k] = (h1 * s1[k]) + ((1.0 - h1) * g);                                  \
            s2[k] = (h2 * s2[k]) + (((1.0 - h2) * g) * g);                            \
            theta[k] = theta[k] - ((lr * (s1[k] / c1)) / (sqrt(s2[k] / c2) + eps));   \
        }                                                                             \
    }
#if WS_DISPATCH
__attribute__((target("avx2"), optimize("no-trapping-math")))
static void ws_adam_avx2(long n, double *WS_RESTRICT theta, const double *WS_RESTRICT grad, double *WS_RESTRICT s1,
                         double *WS_RESTRICT s2, double scale, double lr, double h1, double h2, double eps, double c1,
                         double c2) {
    typedef double ws_v4a __attribute__((vector_size(32)));
    const double a1 = 1.0 - h1, a2 = 1.0 - h2;
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        const ws_v4 g = scale * *(const ws_v4 *)(grad + i);
        const ws_v4 m = (h1 * *(const ws_v4 *)(s1 + i)) + (a1 * g);
        const ws_v4 v = (h2 * *(const ws_v4 *)(s2 + i)) + ((a2 * g) * g);
        const ws_v4a root = __builtin_ia32_sqrtpd256((ws_v4a)(v / c2));
        *(ws_v4 *)(s1 + i) = m;
        *(ws_v4 *)(s2 + i) = v;
        *(ws_v4 *)(theta + i) = *(const ws_v4 *)(theta + i) - ((lr * (m / c1)) / ((ws_v4)root + eps));
    }
    WS_ADAM_TAIL(i)
}
#endif
static void ws_adam_base(long n, double *WS_RESTRICT theta, const double *WS_RESTRICT grad, double *WS_RESTRICT s1,
                         double *WS_RESTRICT s2, double scale, double lr, double h1, double h2, double eps, double c1,
                         double c2) WS_ADAM_TAIL(0)
#undef WS_ADAM_TAIL

static int ws_avx2_state = -1;   /* -1 unknown; set once (a benign race: every thread writes the same) */
static int ws_avx512_state = -1;

static inline int ws_have_avx2(void) {
#if WS_DISPATCH
    if (ws_avx2_state < 0) {
        const char *force = getenv("WORDSTACK_SIMD");      /* "sse2": test the portable path */
        __builtin_cpu_init();
        ws_avx2_state = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")
                        && !(force != NULL && strcmp(force, "sse2") == 0);
    }
    return ws_avx2_state;
#else
    return 0;
#endif
}

/* The AVX-512 per-step products (ws_gemm_avx512): on processors with AVX-512F, unless
 * WORDSTACK_SIMD is "avx2" or "sse2". */
static inline int ws_have_avx512(void) {
#if WS_DISPATCH
    if (ws_avx512_state < 0) {
        const char *force = getenv("WORDSTACK_SIMD");
        ws_avx512_state = ws_have_avx2() && __builtin_cpu_supports("avx512f")
                          && !(force != NULL && strcmp(force, "avx2") == 0);
    }
    return ws_avx512_state;
#else
    return 0;
#endif
}

/* 0: the portable versions run; 1: the AVX2+FMA ones; 2: those and the AVX-512 products
 * (reported by models._kernels.simd_level()). */
static inline int ws_simd_level(void) { return ws_have_avx512() ? 2 : ws_have_avx2(); }

static inline void ws_sigmoid_inplace(double *a, long n) {
    if (ws_have_avx2()) ws_sigmoid_avx2(a, n); else ws_sigmoid_base(a, n);
}

static inline void ws_tanh_inplace(double *a, long n) {
    if (ws_have_avx2()) ws_tanh_avx2(a, n); else ws_tanh_base(a, n);
}

static inline void ws_adam(long n, double *theta, const double *grad, double *s1, double *s2, double scale,
                           double lr, double h1, double h2, double eps, double c1, double c2) {
#if WS_DISPATCH
    if (ws_have_avx2()) ws_adam_avx2(n, theta, grad, s1, s2, scale, lr, h1, h2, eps, c1, c2);
    else
#endif
    ws_adam_base(n, theta, grad, s1, s2, scale, lr, h1, h2, eps, c1, c2);
}

static inline void ws_lstm_cell_state(int B, int H, const double *g, const double *c_prev, double *c) {
    if (ws_have_avx2()) ws_lstm_cell_state_avx2(B, H, g, c_prev, c); else ws_lstm_cell_state_base(B, H, g, c_prev, c);
}

static inline void ws_lstm_cell_output(int B, int H, const double *g, const double *tanh_c, double *h) {
    if (ws_have_avx2()) ws_lstm_cell_output_avx2(B, H, g, tanh_c, h); else ws_lstm_cell_output_base(B, H, g, tanh_c, h);
}

static inline void ws_lstm_cell_backward(int B, int H, const double *g, const double *c_prev, const double *tanh_c,
                                         const double *dh, const double *dc, double *dg, double *dc_prev) {
    if (ws_have_avx2()) ws_lstm_cell_backward_avx2(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
    else ws_lstm_cell_backward_base(B, H, g, c_prev, tanh_c, dh, dc, dg, dc_prev);
}

static inline void ws_gemm_small(int ta, int tb, int m, int n, int k, double alpha, const double *A, int lda,
                                 const double *B, int ldb, double *C, int ldc) {
#if WS_DISPATCH
    if (ws_have_avx512()) ws_gemm_avx512(ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
    else
#endif
    if (ws_have_avx2()) ws_gemm_avx2(ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
    else ws_gemm_base(ta, tb, m, n, k, alpha, A, lda, B, ldb, C, ldc);
}

#endif /* WORDSTACK_MODELS_SIMD_H */
