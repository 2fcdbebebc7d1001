"""A vanilla RNN without biases: weights as module globals, three gradients returned."""
import numpy as np

Wxh = Whh = Why = None


def lossFun(inputs, targets, hprev):
    h = {-1: hprev[:, 0]}
    p = {}
    loss = 0.0
    for t, k in enumerate(inputs):
        h[t] = np.tanh(Wxh[:, k] + Whh @ h[t - 1])
        z = Why @ h[t]
        q = np.exp(z - np.max(z))
        p[t] = q / np.sum(q)
        loss += -np.log(p[t][targets[t]])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    back = np.zeros_like(h[-1])
    for t in reversed(range(len(inputs))):
        g = p[t].copy()
        g[targets[t]] -= 1
        dWhy += np.outer(g, h[t])
        dpre = (Why.T @ g + back) * (1 - h[t] ** 2)
        dWxh[:, inputs[t]] += dpre
        dWhh += np.outer(dpre, h[t - 1])
        back = Whh.T @ dpre
    return loss, dWxh, dWhh, dWhy, h[len(inputs) - 1][:, None]
