"""Neural Stack/Queue/DeQue forward+backward: Cython kernels vs the numpy reference, and
vs the same formulas in PyTorch with autograd (one thread), same run.

Issue 5 asks the full memory model's Cython backend for >= 20x the numpy reference; this
measures the memory kernels alone (the controller comes later). Every configuration is
batch 10, T in {20, 128}, width in {16, 32}; strengths are sigmoids and values tanh of
standard normals (a controller at initialisation). Timings alternate between the
implementations and the best of the repeats is compared (see ``best_times``). Output:
one JSON line per configuration (milliseconds per forward+backward of the whole batch),
then a summary line.

    python benchmarks/bench_memory.py [--repeats 5] [--no-torch] [--kinds stack,queue,deque]

The PyTorch side (``pip install torch==2.13.0``, benchmark-only) checks that it reads
the same numbers as ours before it is timed.
"""
from __future__ import annotations

import argparse
import time

import numpy as np

from _util import emit, python_info
from models.memory import _memory, _memory_ref
from models import MEMORIES

BATCH = 10


def make_inputs(kind, T, W, seed=0):
    rng = np.random.default_rng(seed)
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))                      # noqa: E731
    if kind == "deque":
        names = ("values_top", "values_bottom", "push_top", "push_bottom", "pop_top",
                 "pop_bottom")
    else:
        names = ("values", "push", "pop")
    return {n: np.tanh(rng.normal(size=(BATCH, T, W))) if n.startswith("values")
            else sig(rng.normal(size=(BATCH, T))) for n in names}


def kernel_runner(kind, module, inputs):
    """forward + backward through the kernel functions with preallocated buffers."""
    first = next(iter(inputs.values()))
    B, T, W = first.shape
    rng = np.random.default_rng(1)
    if kind == "deque":
        vt, vb, dt, db, ut, ub = (inputs[n] for n in ("values_top", "values_bottom",
                                                      "push_top", "push_bottom", "pop_top",
                                                      "pop_bottom"))
        S, wt, wb = (np.zeros((B, T, 2 * T)) for _ in range(3))
        rt, rb = np.zeros((B, T, W)), np.zeros((B, T, W))
        d_rt, d_rb = rng.normal(size=(B, T, W)), rng.normal(size=(B, T, W))
        grads = [np.zeros((B, T, W)), np.zeros((B, T, W))] + [np.zeros((B, T))
                                                              for _ in range(4)]

        def run():
            module.deque_forward(T, vt, vb, dt, db, ut, ub, S, wt, wb, rt, rb)
            module.deque_backward(T, vt, vb, ut, ub, S, d_rt, d_rb, *grads)
        return run
    values, push, pop = inputs["values"], inputs["push"], inputs["pop"]
    S, Wt, R = np.zeros((B, T, T)), np.zeros((B, T, T)), np.zeros((B, T, W))
    d_reads = rng.normal(size=(B, T, W))
    dV, dd, du = np.zeros((B, T, W)), np.zeros((B, T)), np.zeros((B, T))
    forward = getattr(module, f"{kind}_forward")
    backward = getattr(module, f"{kind}_backward")

    def run():
        forward(T, values, push, pop, S, Wt, R)
        backward(T, values, pop, S, d_reads, dV, dd, du)
    return run


def api_runner(kind, inputs, backend="cython"):
    """forward + backward through the public classes (validation and allocation included)."""
    first = next(iter(inputs.values()))
    memory = MEMORIES[kind](width=first.shape[-1], backend=backend)
    rng = np.random.default_rng(1)
    d_reads = [rng.normal(size=first.shape) for _ in range(2 if kind == "deque" else 1)]

    def run():
        memory.forward(**inputs)
        memory.backward(*d_reads)
    return run


# ----------------------------------------------------------------------------- torch


def torch_runner(kind, inputs):
    """The same formulas with torch ops; forward + autograd backward."""
    import torch

    t_in = {n: torch.tensor(a, requires_grad=True) for n, a in inputs.items()}
    first = next(iter(t_in.values()))
    rng = np.random.default_rng(1)
    d_reads = [torch.tensor(rng.normal(size=tuple(first.shape)))
               for _ in range(2 if kind == "deque" else 1)]

    def before(x):                         # exclusive running sum along dim 1
        return torch.cumsum(x, 1) - x

    def pop(s, u):                         # s (B, n) in traversal order, u (B, 1)
        return torch.relu(s - torch.relu(u - before(s)))

    def weights(s):
        return torch.minimum(s, torch.relu(1.0 - before(s)))

    def forward():
        B, T, W = first.shape
        if kind == "deque":
            vt, vb, dt, db, ut, ub = (t_in[n] for n in ("values_top", "values_bottom",
                                                        "push_top", "push_bottom",
                                                        "pop_top", "pop_bottom"))
            s = vt.new_zeros(B, 0)
            tops, bottoms = [], []
            for t in range(T):
                if t > 0:
                    s = pop(s.flip(1), ut[:, t:t + 1]).flip(1)
                    s = pop(s, ub[:, t:t + 1])
                s = torch.cat([db[:, t:t + 1], s, dt[:, t:t + 1]], 1)
                V = torch.cat([vb[:, :t + 1].flip(1), vt[:, :t + 1]], 1)
                tops.append(torch.einsum("bi,biw->bw", weights(s.flip(1)).flip(1), V))
                bottoms.append(torch.einsum("bi,biw->bw", weights(s), V))
            return torch.stack(tops, 1), torch.stack(bottoms, 1)
        values, push, pop_ = t_in["values"], t_in["push"], t_in["pop"]
        s = values.new_zeros(B, 0)
        reads = []
        for t in range(T):
            if t > 0:
                s = (pop(s.flip(1), pop_[:, t:t + 1]).flip(1) if kind == "stack"
                     else pop(s, pop_[:, t:t + 1]))
            s = torch.cat([s, push[:, t:t + 1]], 1)
            w = weights(s.flip(1)).flip(1) if kind == "stack" else weights(s)
            reads.append(torch.einsum("bi,biw->bw", w, values[:, :t + 1]))
        return (torch.stack(reads, 1),)

    def run():
        for x in t_in.values():
            x.grad = None
        reads = forward()
        loss = sum((r * d).sum() for r, d in zip(reads, d_reads))
        loss.backward()

    def check():
        ours = MEMORIES[kind](width=first.shape[-1]).forward(**inputs)
        ours = (ours,) if kind != "deque" else ours
        with torch.no_grad():
            theirs = forward()
        for a, b in zip(ours, theirs):
            np.testing.assert_allclose(a, b.numpy(), atol=1e-9)
    return run, check


# ----------------------------------------------------------------------------- main


def best_times(runners: dict, repeats: int, sample_seconds: float = 0.05) -> dict:
    """Seconds per run of each runner: the minimum over ``repeats`` samples, each sample
    timing enough back-to-back runs to last about ``sample_seconds``. The runners
    alternate within every round, so load from other processes on this shared machine
    hits all of them alike; the minimum discards the samples such load inflated."""
    numbers = {}
    for name, run in runners.items():                 # warm-up, and runs per sample
        t0 = time.perf_counter()
        run()
        numbers[name] = max(1, int(sample_seconds / max(time.perf_counter() - t0, 1e-6)))
    times = {name: [] for name in runners}
    for _ in range(repeats):
        for name, run in runners.items():
            t0 = time.perf_counter()
            for _ in range(numbers[name]):
                run()
            times[name].append((time.perf_counter() - t0) / numbers[name])
    return {name: min(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch comparison")
    ap.add_argument("--kinds", default="stack,queue,deque")
    args = ap.parse_args()
    use_torch = not args.no_torch
    if use_torch:
        import torch
        torch.set_num_threads(1)

    kernel_ratios, torch_ratios = [], []
    for kind in args.kinds.split(","):
        for T in (20, 128):
            for W in (16, 32):
                inputs = make_inputs(kind, T, W)
                runners = {"cython": kernel_runner(kind, _memory, inputs),
                           "numpy": kernel_runner(kind, _memory_ref, inputs),
                           "cython_api": api_runner(kind, inputs)}
                if use_torch:
                    runners["torch"], check = torch_runner(kind, inputs)
                    check()
                best = best_times(runners, args.repeats)
                record = {"benchmark": "memory_forward_backward", "memory": kind,
                          "batch": BATCH, "T": T, "width": W,
                          "cython_ms": round(1e3 * best["cython"], 4),
                          "numpy_ms": round(1e3 * best["numpy"], 3),
                          "kernel_ratio_vs_numpy": round(best["numpy"] / best["cython"], 1),
                          "cython_api_ms": round(1e3 * best["cython_api"], 4)}
                kernel_ratios.append(best["numpy"] / best["cython"])
                if use_torch:
                    record["torch_ms"] = round(1e3 * best["torch"], 3)
                    record["ratio_vs_torch"] = round(best["torch"] / best["cython_api"], 1)
                    torch_ratios.append(best["torch"] / best["cython_api"])
                emit(record)
    summary = {"benchmark": "memory_summary", **python_info(),
               "min_kernel_ratio_vs_numpy": round(min(kernel_ratios), 1),
               "target": ">= 20 (kernels vs numpy reference)",
               "pass": min(kernel_ratios) >= 20}
    if use_torch:
        summary["min_ratio_vs_torch_autograd"] = round(min(torch_ratios), 1)
    emit(summary)


if __name__ == "__main__":
    main()
