# Vectorised min-char-rnn: one-hot matrices, one column per time step.
import numpy as np

hidden_size = 100
vocab_size = 65
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def lossFun(inputs, targets, hprev):
    T = len(inputs)
    X = np.eye(vocab_size)[:, inputs]              # (V, T) one-hot inputs
    Y = np.eye(vocab_size)[:, targets]             # (V, T) one-hot targets
    H = np.zeros((hidden_size, T + 1))             # column 0 is hprev, column t+1 is h_t
    H[:, :1] = hprev
    A = Wxh @ X + bh                               # input part of every pre-activation
    for t in range(T):
        H[:, t + 1:t + 2] = np.tanh(A[:, t:t + 1] + Whh @ H[:, t:t + 1])
    Z = Why @ H[:, 1:] + by
    Z = Z - Z.max(axis=0, keepdims=True)
    P = np.exp(Z) / np.exp(Z).sum(axis=0, keepdims=True)
    loss = -np.sum(np.log(P[targets, np.arange(T)]))

    dZ = P - Y
    dWhy = dZ @ H[:, 1:].T
    dby = dZ.sum(axis=1, keepdims=True)
    dHout = Why.T @ dZ                             # what each h_t gets from its own output
    dA = np.zeros((hidden_size, T))
    carry = np.zeros((hidden_size, 1))
    for t in reversed(range(T)):
        dh = dHout[:, t:t + 1] + carry
        dA[:, t:t + 1] = (1 - H[:, t + 1:t + 2] ** 2) * dh
        carry = Whh.T @ dA[:, t:t + 1]
    dWxh = dA @ X.T
    dWhh = dA @ H[:, :-1].T
    dbh = dA.sum(axis=1, keepdims=True)
    return loss, dWxh, dWhh, dWhy, dbh, dby, H[:, T:T + 1]
