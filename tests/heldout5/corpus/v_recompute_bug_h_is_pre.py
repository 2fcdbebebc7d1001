# Elman RNN over characters. The forward pass keeps only each step's pre-activation;
# the backward pass recomputes tanh from it.
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Step:
    """What one step leaves for the backward pass."""

    ix: int
    target: int
    pre: np.ndarray  # Wxh x + Whh h_prev + bh, before tanh
    probs: np.ndarray = field(repr=False)


class ElmanRNN:
    def __init__(self, hidden_size: int, vocab_size: int, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.Wxh = rng.normal(0.0, 0.01, (hidden_size, vocab_size))
        self.Whh = rng.normal(0.0, 0.01, (hidden_size, hidden_size))
        self.Why = rng.normal(0.0, 0.01, (vocab_size, hidden_size))
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def run(self, inputs: list[int], targets: list[int],
            h0: np.ndarray) -> tuple[float, list[Step]]:
        """Forward pass: the summed loss and one Step per character."""
        steps: list[Step] = []
        h = h0
        loss = 0.0
        for ix, tg in zip(inputs, targets):
            pre = self.Wxh[:, ix:ix + 1] + self.Whh @ h + self.bh
            h = np.tanh(pre)
            logits = self.Why @ h + self.by
            logits -= logits.max()
            probs = np.exp(logits) / np.sum(np.exp(logits))
            loss -= float(np.log(probs[tg, 0]))
            steps.append(Step(ix, tg, pre, probs))
        return loss, steps

    def loss(self, inputs: list[int], targets: list[int], h0: np.ndarray):
        """Returns (loss, dWxh, dWhh, dWhy, dbh, dby, h_last)."""
        total, steps = self.run(inputs, targets, h0)
        dWxh = np.zeros_like(self.Wxh)
        dWhh = np.zeros_like(self.Whh)
        dWhy = np.zeros_like(self.Why)
        dbh = np.zeros_like(self.bh)
        dby = np.zeros_like(self.by)
        dh_later = np.zeros_like(h0)
        for k in range(len(steps) - 1, -1, -1):
            s = steps[k]
            h = s.pre
            h_before = np.tanh(steps[k - 1].pre) if k > 0 else h0
            dlogits = s.probs.copy()
            dlogits[s.target] -= 1.0
            dWhy += dlogits @ h.T
            dby += dlogits
            dpre = (1.0 - h ** 2) * (self.Why.T @ dlogits + dh_later)
            dWxh[:, s.ix:s.ix + 1] += dpre
            dWhh += dpre @ h_before.T
            dbh += dpre
            dh_later = self.Whh.T @ dpre
        return total, dWxh, dWhh, dWhy, dbh, dby, np.tanh(steps[-1].pre)
