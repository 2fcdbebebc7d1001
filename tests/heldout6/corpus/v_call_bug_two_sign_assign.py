import numpy as np


class BPTT:
    """Elman network; calling the object runs one truncated-BPTT segment and returns
    (loss, dWxh, dWhh, dWhy, dbh, dby, last hidden state)."""

    def __init__(self, hidden_size, vocab_size):
        self.Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
        self.Whh = np.random.randn(hidden_size, hidden_size) * 0.01
        self.Why = np.random.randn(vocab_size, hidden_size) * 0.01
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def __call__(self, inputs, targets, hprev):
        T = len(inputs)
        state = {-1: hprev}
        prob = {}
        cost = 0.0
        for t in range(T):
            onehot = np.zeros((self.Wxh.shape[1], 1))
            onehot[inputs[t], 0] = 1.0
            state[t] = np.tanh(self.Wxh @ onehot + self.Whh @ state[t - 1] + self.bh)
            logits = self.Why @ state[t] + self.by
            prob[t] = np.exp(logits - logits.max())
            prob[t] /= prob[t].sum()
            cost += -np.log(prob[t][targets[t], 0])
        grads = [np.zeros_like(w) for w in (self.Wxh, self.Whh, self.Why, self.bh, self.by)]
        gWxh, gWhh, gWhy, gbh, gby = grads
        from_future = np.zeros_like(hprev)
        for t, ix, iy in zip(reversed(range(T)), reversed(inputs), reversed(targets)):
            err = prob[t].copy()
            err[iy, 0] -= 1.0
            gWhy += err @ state[t].T
            gby += err
            pre = (self.Why.T @ err - from_future) * (1.0 - state[t] ** 2)
            gWxh[:, ix] += pre[:, 0]
            gWhh += state[t - 1] @ pre.T
            gbh += pre
            from_future = self.Whh.T @ pre
        return (cost, *grads, state[T - 1])
