"""Vanilla RNN with 1-D state vectors: the input's column of Wxh is looked up instead of
multiplying a one-hot vector, and its gradient is scattered back into that column.
Returns the output layer's gradients first: (loss, dWhy, dby, dWxh, dWhh, dbh, h)."""
import numpy as np

hidden_size = 32
vocab_size = 27

Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.eye(hidden_size) * 0.5
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def loss_and_gradients(inputs, targets, hprev):
    T = len(inputs)
    states = [hprev[:, 0].copy()]
    probs = []
    nll = 0.0
    for t in range(T):
        pre = Wxh[:, inputs[t]].copy()  # the input's column
        pre += Whh.dot(states[-1]) + bh[:, 0]
        states.append(np.tanh(pre))
        logits = Why.dot(states[-1]) + by[:, 0]
        logits -= logits.max()
        prob = np.exp(logits) / np.exp(logits).sum()
        probs.append(prob)
        nll -= np.log(prob[targets[t]])
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros(hidden_size), np.zeros(vocab_size)
    delta = np.zeros(hidden_size)
    for t in range(T - 1, -1, -1):
        dlogits = probs[t].copy()
        dlogits[targets[t]] -= 1.0
        dWhy += np.outer(dlogits, states[t + 1])
        dby += dlogits
        delta = (Why.T.dot(dlogits) + Whh.T.dot(delta)) * (1.0 - states[t] ** 2)
        dWxh[:, inputs[t]] += delta
        dWhh += np.outer(delta, states[t])
        dbh += delta
    return nll, dWhy, dby[:, None], dWxh, dWhh, dbh[:, None], states[-1][:, None]
