import numpy as np

data = open("input.txt").read()
chars = sorted(set(data))
vocab_size = len(chars)
char_to_ix = {ch: i for i, ch in enumerate(chars)}
hidden_size = 64
seq_length = 16
learning_rate = 0.1

Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def log_softmax(z):
    z = z - z.max()
    return z - np.log(np.exp(z).sum())


def lossFun(inputs, targets, hprev):
    # 1-D vectors inside, einsum for every product; (n, 1) columns at the boundary
    T = len(inputs)
    onehots = np.eye(vocab_size)[inputs]
    h = [hprev.ravel()]
    logp = []
    loss = 0.0
    for t in range(T):
        z = np.einsum("ij,j->i", Wxh, onehots[t]) + np.einsum("ij,j->i", Whh, h[t]) + bh.ravel()
        h.append(np.tanh(z))
        logp.append(log_softmax(np.einsum("ij,j->i", Why, h[t + 1]) + by.ravel()))
        loss = loss - logp[t][targets[t]]
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros(bh.shape[0]), np.zeros(by.shape[0])
    carry = np.zeros_like(h[0])
    for t in range(T - 1, -1, -1):
        e = np.exp(logp[t])
        e[targets[t]] -= 1
        dWhy += np.einsum("i,j->ij", e, h[t + 1])
        dby += e
        back = np.einsum("ji,j->i", Why, e) + carry
        back *= 1 - h[t + 1] ** 2
        dbh += back
        dWxh += np.einsum("i,j->ij", back, onehots[t - 1])
        dWhh += np.einsum("i,j->ij", back, h[t])
        carry = np.einsum("ij,j->i", Whh, back)
    return loss, dWxh, dWhh, dWhy, dbh[:, None], dby[:, None], h[T][:, None]


n, p = 0, 0
hprev = np.zeros((hidden_size, 1))
while n < 2000:
    if p + seq_length + 1 >= len(data) or n == 0:
        hprev = np.zeros((hidden_size, 1))
        p = 0
    inputs = [char_to_ix[ch] for ch in data[p:p + seq_length]]
    targets = [char_to_ix[ch] for ch in data[p + 1:p + seq_length + 1]]
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
    for param, dparam in zip([Wxh, Whh, Why, bh, by], [dWxh, dWhh, dWhy, dbh, dby]):
        param -= learning_rate * dparam
    if n % 200 == 0:
        print(n, loss)
    p += seq_length
    n += 1
