"""Shared helpers of the MemoryRNN tests: a tiny model bound to one block of data."""
from __future__ import annotations

import numpy as np

from models import MemoryRNN, tasks

CONTROLLERS = ("lstm", "rnn")
MEMORIES = ("stack", "queue", "deque", None)
BACKENDS = ("cython", "numpy")


def tiny_model(controller, memory, backend, *, vocab=3, hidden=3, width=2, embedding=3, batch=2, length=3,
               n_batches=1, stop_gradient=False, aux=0.0, seed=1, scale=0.5, max_length=None, task="reverse",
               sharpen=0.0, controls="sigmoid"):
    """(model, kernel, block) with random parameters (N(0, scale)) away from the memory's
    kinks: push strengths raised and pop strengths lowered, so several cells stay alive
    and the stack and queue differ."""
    task = tasks.make_task(task, vocab_size=vocab)
    model = MemoryRNN(controller=controller, memory=memory, memory_width=width, embedding_size=embedding,
                      hidden_size=hidden, stop_gradient=stop_gradient, aux_hidden=aux,
                      aux_memory=aux if memory else 0.0, backend=backend, batch_size=batch, seed=seed,
                      sharpen=sharpen, controls=controls)
    model._setup(task)
    rng = np.random.default_rng(seed)
    model.params_.theta[:] = rng.normal(0.0, scale, model.params_.size)
    if memory is not None:
        P = 2 if memory == "deque" else 1
        model.params_["b_mem"][:P] += 1.0
        model.params_["b_mem"][P:2 * P] -= 1.5
    block = task.sample_block(rng, n_batches, batch, length)
    T = block.inputs.shape[1]
    kernel = model._new_kernel(batch, max_length or T)
    kernel.sharpen = sharpen                 # fit switches it on in the final phase
    probs = np.zeros(block.inputs.shape[:3] + (task.n_outputs,))
    kernel.bind(block.inputs, block.targets, block.mask, probs)
    return model, kernel, block, probs
