"""Floating-point operation counts of one training step of the memory-augmented LSTM, and
the core's float64 peak (theoretical and measured); used by ``bench_seq_memory.py``
(not collected by pytest).

Counting rules
--------------
* A matrix product (m, k) @ (k, n) is ``2 m n k`` (a fused multiply-add is two flops);
  the accumulation into an existing output (``beta = 1``) is not counted again.
* An elementwise add, subtract, multiply, divide, comparison, max or min is one flop;
  so is each sigmoid, tanh, exp, log and sqrt (an activation: our vectorised ``exp``
  costs about 30 flops of arithmetic, so the count is a lower bound on the work there).
* Memory-free copies, zeroing and transposes are not counted.

What one training step does (``models/estimators/_memory_rnn.pyx``, one batch of B
sequences of T steps, N = T B rows; I inputs (one-hot symbols), D embedding, H hidden,
G = 4H gates, P ends (1, or 2 for the deque), W width, R = P W reads, K = 2P + R
memory-facing columns, O outputs):

forward: ``PE = E W_x[:D]`` (2 I D G) and ``X PE`` (2 N I G), the bias (N G); per step
t >= 1, ``r_{t-1} W_x[D:]`` and ``h_{t-1} W_h`` (2 B G (R + H)); the LSTM cell (5 H
activations and 4 H arithmetic per row); the memory-facing layer (2 N H K, bias and
activation 2 N K); the memory (below); the output layer (2 N H O, bias N O) and its
softmax cross-entropy (per row 4 O + 4 arithmetic and O exps).
backward: the head (dZ 2 N O, its bias N O, ``dW_hy`` and ``dH`` 2 N H O each); per step
``dh += dH_t`` (B H), ``d r_t`` (B R), the activation derivatives of the memory-facing
layer (3 per column), ``dh += dM_t W_mem^T`` (2 B K H), the LSTM cell backward (22 H per
row), and for t >= 1 ``dh_{t-1} = dg_t W_h^T``, ``d r_{t-1} = dg_t W_x[D:]^T`` (2 B G (H +
R)); the memory's backward (below); the parameter gradients: ``dW_x[D:]`` (2 R G N),
``dPE = X^T dG`` (2 I G N), ``dW_x[:D]``, ``dE`` (2 D G I each), ``dW_h`` (2 H G (N - B)),
``db`` (N G), ``dW_mem`` (2 H K N), ``db_mem`` (N K).
optimizer: the gradient norm (2 per parameter) and Adam (15 per parameter).

The memory (``models/memory/_memory_primitives.pxd``), per sequence and step, counted
per cell the loops visit:

* pop forward, 4 per cell reached (remaining, subtract, max, running sum); pop backward,
  5 per cell reached; a cell past the deletion is copied (0 flops);
* read forward, 3 + 2W per cell reached (room, min, running sum, the weighted value row);
  read backward, 4W + 4 per cell reached (the room pass, the dot product with ``d r``,
  the value-gradient row, the running-sum gradient);
* stack and queue: a pop over the t cells of step t-1 and a read over t + 1 cells; deque:
  two pops over 2t cells (and the top one recomputed in the backward) and two reads over
  2t + 2 cells.

*Dense* counts every cell (what ``_memory_ref.py`` and the torch model compute: the
memory's share grows as T^2) and the input product ``X PE`` as a product; *executed*
counts the cells the Cython loops reach (a pop stops once the deletion is used up, a read
once strength 1 is covered, so the count is read off the strengths of a forward pass,
:func:`executed_cells`) and leaves out ``X PE``, which the kernel gathers (rows of
``PE``) when the inputs are one-hot symbols, as here.
"""
from __future__ import annotations

import platform
import time

import numpy as np

ADAM_FLOPS_PER_PARAMETER = 17            # norm (2) + Adam (15)


def _memory_flops(W, pops, pops_recomputed, reads):
    """Flops of the memory given the cells reached: each argument a total over sequences and steps."""
    return 9 * pops + 4 * pops_recomputed + (4 * W + 4 + 3 + 2 * W) * reads


def dense_cells(memory, T, B):
    """(pops, top pops recomputed in the backward, reads): cells visited, all of them."""
    t = np.arange(T)
    if memory == "deque":
        return B * int(2 * 2 * t.sum()), B * int(2 * t.sum()), B * int(2 * (2 * t + 2).sum())
    return B * int(t.sum()), 0, B * int((t + 1).sum())


def _before(s):
    """Exclusive running sum along axis 1, summed in the kernels' order (first cell first)."""
    out = np.zeros_like(s)
    np.cumsum(s[:, :-1], axis=1, out=out[:, 1:])
    return out


def _reached(s, limit):
    """Cells reached by a traversal of s (B, n, first cell first) that stops once the running
    sum of the cells before reaches ``limit`` (B,): count of cells with sum before < limit."""
    return int((_before(s) < limit[:, None]).sum())


def _pop(s, u):
    return np.maximum(0.0, s - np.maximum(0.0, u[:, None] - _before(s)))


def executed_cells(memory, trace):
    """(pops, top pops recomputed, reads) that the Cython loops reach, from a memory trace
    (``kernel.memory_trace()`` after a forward pass: push/pop (T, B, P), strengths (B, T, L))."""
    S, u = trace["strengths"], trace["pop"]
    B, T = S.shape[0], S.shape[1]
    ones = np.ones(B)
    pops = recomputed = reads = 0
    for t in range(T):
        if memory == "deque":
            lo, hi = T - 1 - t, T + t
            if t > 0:
                top_first = S[:, t - 1, lo + 1:hi][:, ::-1]
                n = _reached(top_first, u[t, :, 0])
                after_top = _pop(top_first, u[t, :, 0])[:, ::-1]
                pops += n + _reached(after_top, u[t, :, 1])
                recomputed += n
            live = S[:, t, lo:hi + 1]
            reads += _reached(live[:, ::-1], ones) + _reached(live, ones)
            continue
        order = slice(None, None, -1) if memory == "stack" else slice(None)
        if t > 0:
            pops += _reached(S[:, t - 1, :t][:, order], u[t, :, 0])
        reads += _reached(S[:, t, :t + 1][:, order], ones)
    return pops, recomputed, reads


def training_flops(memory, T, B, I, D, H, W, O, n_params, cells=None, gathered=False):
    """Flops of one training step by part (dict); ``cells`` (from :func:`executed_cells`)
    gives the memory's executed count, ``None`` the dense one; ``gathered``: the inputs are
    one-hot, so the kernel gathers rows of ``PE`` instead of computing ``X PE`` (not counted)."""
    P = 2 if memory == "deque" else 1
    G, R = 4 * H, P * W
    K = 2 * P + R
    N = T * B
    steps = T - 1                                        # steps with a previous h and r
    matmul = (2 * I * D * G + (0 if gathered else 2 * N * I * G) + steps * 2 * B * G * (R + H) + 2 * N * H * K + 2 * N * H * O
              + 2 * 2 * N * H * O + 2 * N * K * H + steps * 2 * B * G * (H + R)
              + 2 * R * G * N + 2 * I * G * N + 2 * 2 * D * G * I + 2 * H * G * steps * B + 2 * H * K * N)
    elementwise = (N * G + N * (5 * H + 4 * H) + 2 * N * K + N * O + N * (5 * O + 4)
                   + N * 2 * O + N * O + N * H + N * R + N * 3 * K + N * 22 * H + N * G + N * K)
    memory_flops = _memory_flops(W, *(cells if cells is not None else dense_cells(memory, T, B)))
    optimizer = ADAM_FLOPS_PER_PARAMETER * n_params
    return {"matmul": matmul, "elementwise": elementwise, "memory": memory_flops, "optimizer": optimizer,
            "total": matmul + elementwise + memory_flops + optimizer}


# ----------------------------------------------------------------------------- peak


def cpu_info():
    """Model name, nominal MHz and SIMD flags of the first core (/proc/cpuinfo on Linux)."""
    info = {"model_name": platform.processor() or platform.machine(), "mhz": None, "flags": set()}
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return info
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key, value = key.strip(), value.strip()
        if key == "model name" and info["model_name"] in (None, "", platform.machine()):
            info["model_name"] = value
        elif key == "cpu MHz" and info["mhz"] is None:
            info["mhz"] = float(value)
        elif key == "flags" and not info["flags"]:
            info["flags"] = set(value.split())
        elif not line.strip() and info["flags"]:
            break
    return info


def theoretical_peak(fma_units=2):
    """One core's float64 peak = frequency x FMA units x doubles per vector x 2.

    Assumptions (stated in the output): ``fma_units`` FMA pipes per core (2 on AMD Zen
    2-4 and Intel Haswell and later), the vector width from the flags (8 doubles with
    avx512f, 4 with avx2/avx, else 2), and the frequency /proc/cpuinfo reports (the
    nominal one in a virtual machine: a core that boosts runs faster).
    """
    info = cpu_info()
    flags = info["flags"]
    doubles = 8 if "avx512f" in flags else 4 if ("avx2" in flags or "avx" in flags) else 2
    per_cycle = fma_units * doubles * 2 if "fma" in flags else fma_units * doubles
    gflops = info["mhz"] * 1e-3 * per_cycle if info["mhz"] else None
    return {"cpu": info["model_name"], "mhz": info["mhz"],
            "simd": "avx512f" if doubles == 8 else "avx2" if "avx2" in flags else "avx" if doubles == 4 else "sse2",
            "fma": "fma" in flags, "fma_units_assumed": fma_units, "doubles_per_vector": doubles,
            "flops_per_cycle": per_cycle, "theoretical_gflops": None if gflops is None else round(gflops, 2)}


def _best_gflops(fn, flops, repeats, seconds=0.05):
    fn()
    calls = 1
    t0 = time.perf_counter()
    fn()
    calls = max(1, int(seconds / max(time.perf_counter() - t0, 1e-7)))
    best = 0.0
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = max(best, flops * calls / (time.perf_counter() - t0))
    return best / 1e9


def measured_peaks(small_shapes, n_large=1536, repeats=5):
    """GFLOP/s of numpy float64 matmul with one BLAS thread (best of ``repeats``): a large
    square (n_large^3: the practical peak) and each of ``small_shapes`` ((m, k, n): the
    kernel's per-step products; numpy's per-call overhead of about a microsecond is
    included there)."""
    import models

    rng = np.random.default_rng(0)
    out = {}
    with models.blas_threads(1):
        a, b = rng.normal(size=(n_large, n_large)), rng.normal(size=(n_large, n_large))
        c = np.empty((n_large, n_large))
        out[f"matmul_{n_large}"] = round(_best_gflops(lambda: np.matmul(a, b, out=c), 2 * n_large ** 3,
                                                      repeats, seconds=0.3), 2)
        for m, k, n in small_shapes:
            a, b, c = rng.normal(size=(m, k)), rng.normal(size=(k, n)), np.empty((m, n))
            out[f"matmul_{m}x{k}x{n}"] = round(_best_gflops(lambda: np.matmul(a, b, out=c), 2 * m * k * n,
                                                            repeats), 2)
    return out
