"""Training throughput of the memory-augmented LSTM (MemoryRNN with a neural stack, queue
or deque): the fused Cython kernel against (a) the same model written with PyTorch ops
and autograd and (b) our numpy reference backend; one thread each, same run; with the
achieved FLOP/s against the core's float64 peak.

Output, one JSON line each:

1. ``seq_memory_training`` (issue 5's comparison, as before): T = 20 steps, batch 10,
   width 16, the stack; sequences/s of ours, torch float32 and float64 and our numpy
   reference, best of ``--repeats``; then Cython against the numpy reference at the
   recipe's training batches (batch 16, width 32, T = 73) and one sequence at a time.
2. ``core_float64_peak``: the theoretical peak of one core (frequency x FMA units x
   doubles per vector x 2, from /proc/cpuinfo; the assumptions are in the line) and the
   measured one: numpy float64 matmul with one BLAS thread of a large square, and of the
   kernel's per-step product shapes (batch x hidden times hidden x gates).
3. ``seq_memory_training_step``, per shape and memory (issue 13): the two shapes
   ``batch10_T20`` (batch 10, T 20, width 16: the shape of line 1) and
   ``recipe_batch16_T81`` (the training recipe's: batch 16, T 81 = a reversal of source
   length 40, width 32), each with the stack, queue and deque; ours and torch float32 in
   seconds per training step (median and best of ``--repeats``, alternating in the same
   run), the ratio of the medians (the target: >= 10x at both shapes), the flops of one
   step (``_seq_flops.py``: dense, as torch and the numpy reference compute it, and
   executed, the cells our loops reach) and the GFLOP/s and fraction of the peaks that
   gives.
4. ``core_float64_peak`` again at the end (the machine's load may have moved), and a
   ``seq_memory_training_summary``.

The model: one-hot inputs over 17 symbols embedded into 32, an LSTM controller of 64
units reading ``[embedding, r_{t-1}]``, the memory (push and pop sigmoids, values tanh,
the paper's equations 1-11), a softmax output over 16 symbols; loss summed over steps and
averaged over the batch; one training step = forward, backward, gradient clipping to
norm 1, Adam (3e-3). Random batches; no stop-gradient and no auxiliary losses (the torch
model has neither). The PyTorch side (``_seq_torch_memory.py``) checks in float64 that
it computes our loss and gradients on the first batch before it is timed, and is timed
in float32 (its default and fastest; the target is stated against it). Ours: the
kernel's ``run_steps`` over a block of batches, which is what ``fit`` runs. One core
each: one BLAS thread (threadpoolctl, entered once around each line 3's timings:
entering it costs about 4 ms with torch loaded) and ``torch.set_num_threads(1)``. In lines 3 each timed
repetition is preceded by one untimed training step of the same contender, so that
neither is timed on the caches the other left (training runs its steps back to back).

Usage: python benchmarks/bench_seq_memory.py [--repeats 5] [--no-torch] [--batches N]
       [--shapes batch10_T20,recipe_batch16_T81] [--memories stack,queue,deque] [--no-legacy]
Needs torch for the PyTorch side (benchmark only): pip install torch==2.13.0
"""
from __future__ import annotations

import argparse
import json
import os
import statistics

import numpy as np

import models
from models import MemoryRNN, tasks

from _seq_flops import executed_cells, measured_peaks, theoretical_peak, training_flops
from _seq_timing import best_of, random_batches, repeat_times, training_run
from _seq_torch_memory import check_equivalence, pytorch

T, BATCH, HIDDEN, WIDTH, EMBEDDING, VOCAB = 20, 10, 64, 16, 32, 16
TARGET_VS_TORCH, TARGET_VS_NUMPY = 10.0, 20.0


#: More shapes for the numpy comparison: the recipe's training batches (batch 16, width
#: 32, source length 36, so T = 73), and one sequence at a time (batch 1).
NUMPY_SHAPES = {"training_batch16_T73": {"T": 73, "batch": 16, "width": 32, "batches": 8},
                "one_sequence_T73": {"T": 73, "batch": 1, "width": 32, "batches": 24}}

#: The shapes of the per-memory comparison (issue 13): ``batches`` per timed repetition.
STEP_SHAPES = {"batch10_T20": {"T": 20, "batch": 10, "width": 16, "batches": 20},
               "recipe_batch16_T81": {"T": 81, "batch": 16, "width": 32, "batches": 6}}
MEMORIES = ("stack", "queue", "deque")


def make_data(n_batches, seed=0, steps=T, batch=BATCH):
    return random_batches(np.random.default_rng(seed), n_batches, steps, batch, VOCAB)


def ours(backend, data, seed=0, width=WIDTH, memory="stack", limit_threads=True):
    """(run, model, kernel): ``run()`` trains one step per bound batch and returns the sequences."""
    batch = data[0].shape[2]
    model = MemoryRNN(memory=memory, hidden_size=HIDDEN, memory_width=width, embedding_size=EMBEDDING,
                      batch_size=batch, stop_gradient=False, backend=backend, seed=seed)
    model._setup(tasks.Copy(vocab_size=VOCAB))
    run, kernel = training_run(model, data, VOCAB, limit_threads)
    return run, model, kernel


def legacy_record(args) -> dict:
    """Line 1: issue 5's comparison at T 20, batch 10, width 16, the stack (as before)."""
    n_batches = args.batches or 40
    data = make_data(n_batches)
    run_cython, model, kernel = ours("cython", data, limit_threads=False)
    contenders = {"ours_cython": run_cython}
    record = {"benchmark": "seq_memory_training", "T": T, "batch": BATCH, "hidden": HIDDEN, "width": WIDTH,
              "embedding": EMBEDDING, "vocabulary": VOCAB, "memory": "stack", "controller": "lstm",
              "threads": 1, "load_average": [round(x, 2) for x in os.getloadavg()]}
    if not args.no_torch:
        import torch

        record["torch"] = torch.__version__
        record["max_abs_difference_vs_torch_float64"] = check_equivalence(model, kernel, data, "stack")
        for name, dtype in (("torch_float32", torch.float32), ("torch_float64", torch.float64)):
            steps = pytorch(model.params_.values, data, dtype, "stack")
            contenders[name] = lambda steps=steps: steps() * BATCH
    # the numpy reference is slow: time it on a quarter of the batches
    run_numpy, _, _ = ours("numpy", tuple(a[:max(1, n_batches // 4)] for a in data), limit_threads=False)
    contenders["ours_numpy"] = run_numpy
    with models.blas_threads(1):                      # entered once, after the kernels are loaded
        for run in contenders.values():
            run()                                                           # warm up
        speed = best_of(contenders, args.repeats)
    for name, v in speed.items():
        record[f"{name}_sequences_per_s"] = round(v["wall"], 1)
    ratio = speed["ours_cython"]["wall"] / speed["ours_numpy"]["wall"]
    record["speedup_vs_numpy_reference"] = round(ratio, 1)
    record["target_vs_numpy"] = TARGET_VS_NUMPY
    ok = ratio >= TARGET_VS_NUMPY
    if not args.no_torch:
        vs32 = speed["ours_cython"]["wall"] / speed["torch_float32"]["wall"]
        record["speedup_vs_torch_float32"] = round(vs32, 1)
        record["speedup_vs_torch_float64"] = round(speed["ours_cython"]["wall"] / speed["torch_float64"]["wall"], 1)
        record["speedup_vs_torch_float32_cpu_time"] = round(
            speed["ours_cython"]["cpu"] / speed["torch_float32"]["cpu"], 1)
        record["target_vs_torch_float32"] = TARGET_VS_TORCH
        ok = ok and vs32 >= TARGET_VS_TORCH
    # more shapes: Cython against the numpy reference only
    for name, shape in NUMPY_SHAPES.items():
        n = args.batches or shape["batches"]
        data2 = make_data(n, steps=shape["T"], batch=shape["batch"])
        runs = {"cython": ours("cython", data2, width=shape["width"], limit_threads=False)[0],
                "numpy": ours("numpy", tuple(a[:max(1, n // 4)] for a in data2), width=shape["width"],
                              limit_threads=False)[0]}
        with models.blas_threads(1):
            for run in runs.values():
                run()
            speed2 = best_of(runs, max(2, args.repeats // 2))
        ratio2 = speed2["cython"]["wall"] / speed2["numpy"]["wall"]
        record[name] = {**{k: v for k, v in shape.items() if k != "batches"}, "hidden": HIDDEN,
                        "ours_cython_sequences_per_s": round(speed2["cython"]["wall"], 1),
                        "ours_numpy_sequences_per_s": round(speed2["numpy"]["wall"], 1),
                        "speedup_vs_numpy_reference": round(ratio2, 1), "target_met": ratio2 >= TARGET_VS_NUMPY}
    record["targets_met"] = ok
    record["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return record


def small_product_shapes():
    """(m, k, n) of the per-step products at each shape: h W_h and dg W_h^T."""
    shapes = []
    for shape in STEP_SHAPES.values():
        shapes += [(shape["batch"], HIDDEN, 4 * HIDDEN), (shape["batch"], 4 * HIDDEN, HIDDEN)]
    return shapes


def peak_record(when: str) -> dict:
    measured = measured_peaks(small_product_shapes())
    return {"benchmark": "core_float64_peak", "when": when, **theoretical_peak(), "measured_gflops": measured,
            "measured": "numpy float64 matmul, one BLAS thread, best of 5",
            "load_average": [round(x, 2) for x in os.getloadavg()]}


def _fraction(gflops, peak):
    return None if not peak else round(100.0 * gflops / peak, 1)


def step_record(shape_name, memory, args, peak) -> dict:
    """Line 3: ours against torch float32 at one shape and memory, with the FLOP/s."""
    shape = STEP_SHAPES[shape_name]
    steps, B, W = shape["T"], shape["batch"], shape["width"]
    n = args.batches or shape["batches"]
    data = make_data(n, steps=steps, batch=B)
    run, model, kernel = ours("cython", data, width=W, memory=memory, limit_threads=False)
    contenders = {"ours": lambda: run() // B}
    one = (np.zeros(1, dtype=np.int64), np.zeros(1), np.zeros(1))
    primers = {"ours": lambda: kernel.run_steps(model.optimizer_.kernel, *one)}
    record = {"benchmark": "seq_memory_training_step", "shape": shape_name, "memory": memory, "T": steps,
              "batch": B, "hidden": HIDDEN, "width": W, "embedding": EMBEDDING, "vocabulary": VOCAB,
              "controller": "lstm", "threads": 1, "batches_per_repeat": n, "repeats": args.repeats,
              "load_average": [round(x, 2) for x in os.getloadavg()]}
    if not args.no_torch:
        import torch

        record["max_abs_difference_vs_torch_float64"] = check_equivalence(model, kernel, data, memory)
        contenders["torch_float32"] = pytorch(model.params_.values, data, torch.float32, memory)
        primers["torch_float32"] = lambda: contenders["torch_float32"](0, 1)
    # one BLAS thread, entered once here (after the kernels, and with them scipy's BLAS, are loaded)
    with models.blas_threads(1):
        for go in contenders.values():
            go()                                                            # warm up
        times = repeat_times(contenders, args.repeats, primers)
    for name, t in times.items():
        record[f"{name}_s_per_step"] = statistics.median(t["wall"])
        record[f"{name}_s_per_step_best"] = min(t["wall"])
        record[f"{name}_cpu_s_per_step"] = statistics.median(t["cpu"])
    if not args.no_torch:
        record["ratio_vs_torch_float32"] = round(record["torch_float32_s_per_step"] / record["ours_s_per_step"], 2)
        record["ratio_vs_torch_float32_best"] = round(
            record["torch_float32_s_per_step_best"] / record["ours_s_per_step_best"], 2)
        record["ratio_vs_torch_float32_cpu_time"] = round(
            record["torch_float32_cpu_s_per_step"] / record["ours_cpu_s_per_step"], 2)
        record["target_vs_torch_float32"] = TARGET_VS_TORCH
        record["target_met"] = record["ratio_vs_torch_float32"] >= TARGET_VS_TORCH
    # flops: the dense count, and the cells the loops reached on the timed batches (final weights)
    cells = np.zeros(3)
    for k in range(n):
        kernel.forward(k)
        cells += executed_cells(memory, kernel.memory_trace())
    sizes = dict(T=steps, B=B, I=VOCAB + 1, D=EMBEDDING, H=HIDDEN, W=W, O=VOCAB, n_params=model.params_.size)
    dense = training_flops(memory, **sizes)
    executed = training_flops(memory, **sizes, cells=tuple(int(round(c / n)) for c in cells), gathered=True)
    record["flops_per_step"] = dense
    record["flops_per_step_executed"] = executed
    best_measured = max(peak["measured_gflops"].values())
    small = peak["measured_gflops"].get(f"matmul_{B}x{HIDDEN}x{4 * HIDDEN}")
    for label, count in (("", dense), ("_executed", executed)):
        gflops = count["total"] / record["ours_s_per_step"] / 1e9
        record[f"gflops{label}"] = round(gflops, 2)
        record[f"percent_of_theoretical_peak{label}"] = _fraction(gflops, peak["theoretical_gflops"])
        record[f"percent_of_measured_peak{label}"] = _fraction(gflops, best_measured)
        record[f"percent_of_small_matmul{label}"] = _fraction(gflops, small)
    if not args.no_torch:
        record["torch_float32_gflops"] = round(dense["total"] / record["torch_float32_s_per_step"] / 1e9, 3)
    record["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="Skip the PyTorch side.")
    parser.add_argument("--batches", type=int, default=0,
                        help="Batches per timed repetition (default: per shape; a small number for a quick check).")
    parser.add_argument("--shapes", default=",".join(STEP_SHAPES), help="Shapes of lines 3 (comma-separated).")
    parser.add_argument("--memories", default=",".join(MEMORIES), help="Memories of lines 3 (comma-separated).")
    parser.add_argument("--no-legacy", action="store_true", help="Skip line 1 (issue 5's comparison).")
    args = parser.parse_args()
    shapes = [s for s in args.shapes.split(",") if s]
    memories = [m for m in args.memories.split(",") if m]
    for name, known, values in (("shape", STEP_SHAPES, shapes), ("memory", MEMORIES, memories)):
        unknown = [v for v in values if v not in known]
        if unknown:
            parser.error(f"unknown {name} {', '.join(unknown)}; choose from {', '.join(known)}")
    if args.repeats < 1 or args.batches < 0:
        parser.error("--repeats must be >= 1 and --batches >= 0")
    if not args.no_torch:
        import torch

        torch.set_num_threads(1)
    if not args.no_legacy:
        print(json.dumps(legacy_record(args)), flush=True)
    peak = peak_record("start")
    print(json.dumps(peak), flush=True)
    records = []
    for shape_name in shapes:
        for memory in memories:
            records.append(step_record(shape_name, memory, args, peak))
            print(json.dumps(records[-1]), flush=True)
    peak_end = peak_record("end")
    print(json.dumps(peak_end), flush=True)
    summary = {"benchmark": "seq_memory_training_summary", "threads": 1}
    if not args.no_torch:
        import torch

        summary["torch"] = torch.__version__
        for shape_name in shapes:
            ratios = {r["memory"]: r["ratio_vs_torch_float32"] for r in records if r["shape"] == shape_name}
            summary[shape_name] = {"ratio_vs_torch_float32": ratios, "min": min(ratios.values()),
                                   "target_met": min(ratios.values()) >= TARGET_VS_TORCH}
    summary["gflops_executed"] = {f"{r['shape']}/{r['memory']}": r["gflops_executed"] for r in records}
    print(json.dumps(summary), flush=True)


if __name__ == "__main__":
    main()
