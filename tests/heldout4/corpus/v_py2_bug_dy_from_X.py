"""
Minimal character-level vanilla RNN, after Andrej Karpathy's min-char-rnn.
My Python 2.7 copy: one-hot matrices built once per sequence, states in a list.
"""
import numpy as np

# data I/O
data = open('input.txt', 'r').read()
chars = sorted(list(set(data)))
data_size, vocab_size = len(data), len(chars)
print 'data has %d characters, %d unique.' % (data_size, vocab_size)
char_to_ix = dict((ch, i) for i, ch in enumerate(chars))
ix_to_char = dict((i, ch) for i, ch in enumerate(chars))

# hyperparameters
hidden_size = 100
seq_length = 25
learning_rate = 1e-1

# model parameters
Wxh = np.random.randn(hidden_size, vocab_size) * 0.01
Whh = np.random.randn(hidden_size, hidden_size) * 0.01
Why = np.random.randn(vocab_size, hidden_size) * 0.01
bh = np.zeros((hidden_size, 1))
by = np.zeros((vocab_size, 1))


def softmax(v):
    e = np.exp(v - np.max(v))
    return e / np.sum(e)


def lossFun(inputs, targets, hprev):
    """
    inputs, targets are lists of integers; hprev is the Hx1 initial state.
    returns the loss, the gradients on the parameters and the last hidden state
    """
    n = len(inputs)
    X = np.eye(vocab_size)[:, inputs]  # one-hot column per step
    Y = np.eye(vocab_size)[:, targets]
    hs = [np.copy(hprev)]  # hs[t + 1] is the state after step t
    ps = []
    loss = 0.0
    # forward pass
    for t in range(n):
        a = np.dot(Wxh, X[:, [t]]) + np.dot(Whh, hs[t]) + bh
        hs.append(np.tanh(a))
        ps.append(softmax(np.dot(Why, hs[t + 1]) + by))
        loss -= np.log(np.sum(ps[t] * Y[:, [t]]))
    # backward pass
    dWxh, dWhh, dWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
    dbh, dby = np.zeros_like(bh), np.zeros_like(by)
    dh_next = np.zeros_like(hs[0])
    for t in reversed(range(n)):
        dy = ps[t] - X[:, [t]]
        dWhy += np.dot(dy, hs[t + 1].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dh_next
        da = (1 - hs[t + 1] ** 2) * dh
        dbh += da
        dWxh += np.dot(da, X[:, [t]].T)
        dWhh += np.dot(da, hs[t].T)
        dh_next = np.dot(Whh.T, da)
    for dparam in [dWxh, dWhh, dWhy, dbh, dby]:
        np.clip(dparam, -25, 25, out=dparam)  # against exploding gradients
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[n]


def sample(h, seed_ix, n):
    """sample a sequence of n integers from the model"""
    x = np.zeros((vocab_size, 1))
    x[seed_ix] = 1
    ixes = []
    for t in xrange(n):
        h = np.tanh(np.dot(Wxh, x) + np.dot(Whh, h) + bh)
        p = softmax(np.dot(Why, h) + by)
        ix = np.random.choice(range(vocab_size), p=p.ravel())
        x = np.zeros((vocab_size, 1))
        x[ix] = 1
        ixes.append(ix)
    return ixes


n, p = 0, 0
mWxh, mWhh, mWhy = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(Why)
mbh, mby = np.zeros_like(bh), np.zeros_like(by)
smooth_loss = -np.log(1.0 / vocab_size) * seq_length
while True:
    if p + seq_length + 1 >= len(data) or n == 0:
        hprev = np.zeros((hidden_size, 1))
        p = 0
    inputs = [char_to_ix[ch] for ch in data[p:p + seq_length]]
    targets = [char_to_ix[ch] for ch in data[p + 1:p + seq_length + 1]]
    if n % 100 == 0:
        sample_ix = sample(hprev, inputs[0], 200)
        print '----\n %s \n----' % (''.join(ix_to_char[ix] for ix in sample_ix), )
    loss, dWxh, dWhh, dWhy, dbh, dby, hprev = lossFun(inputs, targets, hprev)
    smooth_loss = smooth_loss * 0.999 + loss * 0.001
    if n % 100 == 0:
        print 'iter %d, loss: %f' % (n, smooth_loss)
    for param, dparam, mem in zip([Wxh, Whh, Why, bh, by],
                                  [dWxh, dWhh, dWhy, dbh, dby],
                                  [mWxh, mWhh, mWhy, mbh, mby]):
        mem += dparam * dparam
        param += -learning_rate * dparam / np.sqrt(mem + 1e-8)
    p += seq_length
    n += 1
