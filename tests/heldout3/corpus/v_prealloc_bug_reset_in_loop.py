"""RNN loss/gradients with preallocated state arrays.

states[t + 1] is the hidden state after step t (states[0] is the initial state);
vectors are 1-D, the loss uses log-sum-exp, and the output layer's gradients are
computed for all steps at once.
"""
import numpy as np

NAMES = ("Wxh", "Whh", "Why", "bh", "by")


def logsumexp(v):
    m = v.max()
    return m + np.log(np.exp(v - m).sum())


def loss_and_grads(params, inputs, targets, hprev):
    Wxh, Whh, Why, bh, by = (params[k] for k in NAMES)
    n_steps = len(inputs)
    n_hidden = Whh.shape[0]
    states = np.zeros((n_steps + 1, n_hidden))
    P = np.zeros((n_steps, Why.shape[0]))
    states[0] = hprev[:, 0]
    loss = 0.0
    for t in range(n_steps):
        states[t + 1] = np.tanh(Wxh[:, inputs[t]] + Whh @ states[t] + bh[:, 0])
        logits = Why @ states[t + 1] + by[:, 0]
        lse = logsumexp(logits)
        loss += lse - logits[targets[t]]
        P[t] = np.exp(logits - lse)
    D = P.copy()
    D[np.arange(n_steps), targets] -= 1.0
    g = {k: np.zeros_like(v) for k, v in zip(NAMES, (Wxh, Whh, Why, bh, by))}
    g["Why"] = D.T @ states[1:]
    g["by"][:, 0] = D.sum(axis=0)
    dnext = np.zeros(n_hidden)
    for t in reversed(range(n_steps)):
        dnext = np.zeros(n_hidden)
        dh = Why.T @ D[t] + dnext
        dpre = (1.0 - states[t + 1] ** 2) * dh
        g["bh"][:, 0] += dpre
        g["Wxh"][:, inputs[t]] += dpre
        g["Whh"] += np.outer(dpre, states[t])
        dnext = Whh.T @ dpre
    return loss, g, states[n_steps].reshape(-1, 1).copy()
