"""Character RNN: loss and gradient for one chunk, parameters passed in a dict."""
import numpy as np


def chunk_grad(theta, seq_in, seq_out, h_init):
    Wx, Wh, Wo = theta["Wxh"], theta["Whh"], theta["Why"]
    bh, bo = theta["bh"].ravel(), theta["by"].ravel()
    n_steps = len(seq_in)
    n_h, n_v = Wh.shape[0], Wo.shape[0]

    states = np.empty((n_steps + 1, n_h))  # row 0 is the state carried in
    states[0] = h_init.ravel()
    probs = np.empty((n_steps, n_v))
    nll = 0.0
    for s in range(n_steps):
        pre = Wx[:, seq_in[s]] + Wh @ states[s] + bh
        states[s + 1] = np.tanh(pre)
        logits = Wo @ states[s + 1] + bo
        logits = logits - logits.max()
        e = np.exp(logits)
        probs[s] = e / e.sum()
        nll -= np.log(probs[s, seq_out[s]])

    # output error of every step, up front
    d_logits = probs.copy()
    d_logits[np.arange(n_steps), seq_out] -= 1.0

    g = {k: np.zeros(np.shape(v)) for k, v in theta.items()}
    carry = np.zeros(n_h)
    s = n_steps - 1
    while s >= 0:
        g["Why"] += np.einsum("i,j->ij", d_logits[s], states[s + 1])
        g["by"][:, 0] += d_logits[s]
        d_state = Wo.T @ d_logits[s] + carry
        d_pre = d_state * (1.0 - states[s + 1] ** 2)
        g["bh"][:, 0] += d_pre
        g["Wxh"][:, seq_in[s]] += d_pre
        g["Whh"] += np.einsum("i,j->ji", d_pre, states[s])
        carry = Wh.T @ d_pre
        s -= 1
    return nll, {"d" + k: v for k, v in g.items()}, states[-1].reshape(-1, 1)
