"""The memory-augmented LSTM of ``bench_seq_memory.py`` written with PyTorch ops and
autograd (benchmark only; not collected by pytest): the same network as
:class:`models.MemoryRNN` with a stack, queue or deque, initialised with its weights.

``torch.nn.LSTMCell`` (its own cell) with our weights (gate blocks permuted from our
``[i, f, o, g]`` to torch's ``[i, f, g, o]``); the memories written with torch ops as in
``bench_memory.py`` (running sums by ``cumsum``, ``relu``/``minimum``; the paper's
equations 1-11, pop then push then read); the memory-facing layer's columns
``[push (P), pop (P), values (P*W)]`` and the reads ``[top, bottom]`` of the deque as in
``models/estimators/_memory_rnn_ref.py``; loss summed over steps and averaged over the
batch; a training step is forward, ``loss.backward()``, ``clip_grad_norm_(1.0)``,
``torch.optim.Adam(lr=3e-3)`` (the recipe's optimizer). :func:`check_equivalence`
compares the float64 version's loss and gradients with ours before anything is timed.
"""
from __future__ import annotations

import numpy as np


def _gate_permutation(H):
    import torch

    return torch.cat([torch.arange(0, 2 * H), torch.arange(3 * H, 4 * H), torch.arange(2 * H, 3 * H)])


def torch_model(params, dtype):
    """(cell, leaves): the network in torch, initialised with our parameters (dict of arrays)."""
    import torch

    H = params["W_h"].shape[0]
    t = {k: torch.tensor(v, dtype=dtype) for k, v in params.items()}
    perm = _gate_permutation(H)
    cell = torch.nn.LSTMCell(params["W_x"].shape[0], H).to(dtype)          # gates [i, f, g, o]
    with torch.no_grad():
        cell.weight_ih.copy_(t["W_x"][:, perm].T)
        cell.weight_hh.copy_(t["W_h"][:, perm].T)
        cell.bias_ih.copy_(t["b"][perm])
        cell.bias_hh.zero_()
    leaves = {"E": t["E"], "W_mem": t["W_mem"], "b_mem": t["b_mem"], "W_hy": t["W_hy"], "b_y": t["b_y"]}
    for v in leaves.values():
        v.requires_grad_(True)
    return cell, leaves


def _before(s):
    """Exclusive running sum along dim 1 (the cells before each, in traversal order)."""
    import torch

    return torch.cumsum(s, 1) - s


def _pop(s, u):
    """Pop strength u (B, 1) from the cells s (B, n), first cell first (eqs 2, 4, 7, 8)."""
    import torch

    return torch.relu(s - torch.relu(u - _before(s)))


def _weights(s):
    """Read weights of the cells s (B, n), first cell first (eqs 3, 5, 10, 11)."""
    import torch

    return torch.minimum(s, torch.relu(1.0 - _before(s)))


class _Memory:
    """One memory's state in torch: strengths of the live cells (B, n) and their values."""

    def __init__(self, kind, B, dtype):
        import torch

        self.kind = kind
        self.s = torch.zeros(B, 0, dtype=dtype)         # stack/queue: oldest first; deque: bottom to top
        self.tops, self.bottoms = [], []                # value rows pushed, in push order

    def step(self, t, push, pop, values, W):
        """Pop, push, read; push, pop (B, P), values (B, P*W) -> the reads (B, P*W)."""
        import torch

        if self.kind == "deque":
            if t > 0:
                self.s = _pop(_pop(self.s.flip(1), pop[:, :1]).flip(1), pop[:, 1:2])   # eqs 7, 8
            self.s = torch.cat([push[:, 1:2], self.s, push[:, :1]], 1)                  # eq 9
            self.tops.append(values[:, :W])
            self.bottoms.append(values[:, W:])
            V = torch.cat([torch.stack(self.bottoms[::-1], 1), torch.stack(self.tops, 1)], 1)   # eq 6
            top = torch.einsum("bi,biw->bw", _weights(self.s.flip(1)).flip(1), V)                # eq 10
            bottom = torch.einsum("bi,biw->bw", _weights(self.s), V)                             # eq 11
            return torch.cat([top, bottom], 1)
        stack = self.kind == "stack"
        if t > 0:                                                   # eq 2 (from the top) or 4
            self.s = _pop(self.s.flip(1), pop).flip(1) if stack else _pop(self.s, pop)
        self.s = torch.cat([self.s, push], 1)
        self.tops.append(values)
        w = _weights(self.s.flip(1)).flip(1) if stack else _weights(self.s)     # eq 3 or 5
        return torch.einsum("bi,biw->bw", w, torch.stack(self.tops, 1))


def torch_loss(cell, leaves, x, y, memory):
    """Forward of one batch: x (T, B, V+1), y (T*B,) -> loss (sum over steps / B)."""
    import torch

    B = x.shape[1]
    H = cell.hidden_size
    P = 2 if memory == "deque" else 1
    W = (leaves["W_mem"].shape[1] - 2 * P) // P
    emb = x @ leaves["E"]                                                   # (T, B, D)
    h = torch.zeros(B, H, dtype=x.dtype)
    c = torch.zeros(B, H, dtype=x.dtype)
    read = torch.zeros(B, P * W, dtype=x.dtype)
    mem = _Memory(memory, B, x.dtype)
    outputs = []
    for t in range(x.shape[0]):
        h, c = cell(torch.cat([emb[t], read], 1), (h, c))
        m = h @ leaves["W_mem"] + leaves["b_mem"]
        read = mem.step(t, torch.sigmoid(m[:, :P]), torch.sigmoid(m[:, P:2 * P]), torch.tanh(m[:, 2 * P:]), W)
        outputs.append(h)
    logits = torch.stack(outputs) @ leaves["W_hy"] + leaves["b_y"]          # (T, B, O)
    V = logits.shape[-1]
    return torch.nn.functional.cross_entropy(logits.reshape(-1, V), y, reduction="sum") / B


def pytorch(params, data, dtype, memory):
    """``run(first=0, stop=None)``: one training step per batch ``first .. stop-1`` of
    ``data`` (inputs, targets, mask; all of them by default); returns the number of steps."""
    import torch

    inputs, targets, _ = data
    x = torch.tensor(inputs, dtype=dtype)
    y = torch.tensor(targets.reshape(len(targets), -1))
    cell, leaves = torch_model(params, dtype)
    weights = list(cell.parameters()) + list(leaves.values())
    opt = torch.optim.Adam(weights, lr=3e-3)

    def run(first=0, stop=None):
        ks = range(first, len(x) if stop is None else stop)
        for k in ks:
            opt.zero_grad()
            loss = torch_loss(cell, leaves, x[k], y[k], memory)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(weights, 1.0)
            opt.step()
        return len(ks)

    return run


def check_equivalence(model, kernel, data, memory) -> float:
    """Max |difference| between our loss and gradient of batch 0 and torch float64's."""
    import torch

    ours_loss = kernel.loss_and_grad(0)
    grads = model.params_.grads
    cell, leaves = torch_model(model.params_.values, torch.float64)
    inputs, targets, _ = data
    loss = torch_loss(cell, leaves, torch.tensor(inputs[0]), torch.tensor(targets[0].reshape(-1)), memory)
    loss.backward()
    inverse = torch.argsort(_gate_permutation(cell.hidden_size))
    theirs = {"E": leaves["E"].grad, "W_mem": leaves["W_mem"].grad, "b_mem": leaves["b_mem"].grad,
              "W_hy": leaves["W_hy"].grad, "b_y": leaves["b_y"].grad,
              "W_x": cell.weight_ih.grad.T[:, inverse], "W_h": cell.weight_hh.grad.T[:, inverse],
              "b": cell.bias_ih.grad[inverse]}
    diff = abs(float(loss.detach()) - ours_loss)
    for name, g in theirs.items():
        diff = max(diff, float(np.abs(g.numpy() - grads[name]).max()))
    return diff
