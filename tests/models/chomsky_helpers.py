"""Shared helpers of the Chomsky-hierarchy task tests: sequences in the tasks' printed
notation, read back from the public batches (so the encoding is under test too)."""
from __future__ import annotations

import numpy as np

from models import tasks

#: Lengths every property test visits (each task keeps the ones its rule allows).
LENGTHS = (1, 2, 3, 4, 7, 40, 41, 500)


def lengths_of(task, lengths=LENGTHS):
    return [L for L in lengths if task._length_ok(L)]


def rows(task, batch):
    """(input texts, output texts over the O output steps, masks as 0/1 lists) of a batch."""
    L = batch.length
    ids = batch.inputs[:L, :, :task.n_symbols].argmax(axis=-1).T                      # (B, L)
    inputs = ["".join(task.input_symbols[i] for i in row) for row in ids]
    outputs = ["".join(task.output_symbols[i] for i in batch.targets[L:, j]) for j in range(batch.batch_size)]
    masks = [batch.mask[L:, j].astype(int).tolist() for j in range(batch.batch_size)]
    return inputs, outputs, masks


def sampled(name, length, n=None, seed=0, **options):
    """(task, inputs, outputs, masks) of ``n`` sequences drawn by ``task.sample``."""
    task = tasks.make_task(name, **options)
    n = n or (40 if length >= 200 else 300)
    return (task, *rows(task, task.sample(np.random.default_rng([seed, length]), n, length)))


def solve(name, text, **options):
    """(output text over the O steps, mask text) of one input given as the command line would."""
    task = tasks.make_task(name, **options)
    batch = task.parse_input([text])
    _, outputs, masks = rows(task, batch)
    return outputs[0], "".join(map(str, masks[0]))


def terminated(output: str, width: int, length: int) -> tuple[str, list[int]]:
    """The paper's padded answer: ``output`` (the answer's symbols), then the termination
    token 2, then zeros to ``length``; the mask up to and including the token."""
    text = output + "2" + "0" * (length - len(output) - 1)
    return text, [1] * (len(output) + 1) + [0] * (length - len(output) - 1)
