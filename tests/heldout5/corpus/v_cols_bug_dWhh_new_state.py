# Character-level RNN loss: every per-step quantity is a column of one preallocated
# array (H[:, t + 1] is the state after step t), the output layer's backward pass is
# done for all steps at once.
import numpy as np

hidden_size = 100
vocab_size = 65
seq_length = 25
rng = np.random.RandomState(1)
Wxh = rng.randn(hidden_size, vocab_size) * 0.01
Whh = rng.randn(hidden_size, hidden_size) * 0.01
Why = rng.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def lossFun(inputs, targets, hprev):
    T = len(inputs)
    steps = np.arange(T)
    X = np.zeros((vocab_size, T))
    X[inputs, steps] = 1.0
    Yt = np.zeros((vocab_size, T))
    Yt[targets, steps] = 1.0
    H = np.zeros((hidden_size, T + 1))
    H[:, 0] = hprev[:, 0]
    P = np.zeros((vocab_size, T))
    for t in range(T):
        H[:, t + 1] = np.tanh(Wxh.dot(X[:, t]) + Whh.dot(H[:, t]) + bh[:, 0])
        s = Why.dot(H[:, t + 1]) + by[:, 0]
        s = s - s.max()
        P[:, t] = np.exp(s) / np.exp(s).sum()
    loss = -np.sum(np.log(P[targets, steps]))
    # output layer, all steps at once
    G = P - Yt
    dWhy = G.dot(H[:, 1:].T)
    dby = G.sum(axis=1, keepdims=True)
    # hidden layer: each step's own loss, plus what flows back from later steps
    Dh = Why.T.dot(G)
    Draw = np.zeros((hidden_size, T))
    carry = np.zeros(hidden_size)
    for t in range(T - 1, -1, -1):
        Draw[:, t] = (1.0 - H[:, t + 1] ** 2) * (Dh[:, t] + carry)
        carry = Whh.T.dot(Draw[:, t])
    dWxh = Draw.dot(X.T)
    dWhh = Draw.dot(H[:, 1:].T)
    dbh = Draw.sum(axis=1, keepdims=True)
    return loss, dWxh, dWhh, dWhy, dbh, dby, H[:, T:]
