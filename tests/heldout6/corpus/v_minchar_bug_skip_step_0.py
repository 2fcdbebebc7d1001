"""
Minimal character-level vanilla RNN (my rewrite of the min-char-rnn gist, old habits kept).
"""
import numpy as np

# data I/O
data = open('input.txt', 'r').read()
chars = list(set(data))
data_size, vocab_size = len(data), len(chars)
char_to_ix = dict((ch, i) for i, ch in enumerate(chars))
ix_to_char = dict((i, ch) for i, ch in enumerate(chars))

# hyperparameters
hidden_size = 100
seq_length = 25
learning_rate = 1e-1

# model parameters
W_xh = np.random.randn(hidden_size, vocab_size) * 0.01
W_hh = np.random.randn(hidden_size, hidden_size) * 0.01
W_hy = np.random.randn(vocab_size, hidden_size) * 0.01
b_h = np.zeros((hidden_size, 1))
b_y = np.zeros((vocab_size, 1))


def lossFun(inputs, targets, hprev):
  """
  inputs, targets are both lists of integers.
  hprev is a Hx1 array of the initial hidden state
  returns the loss, gradients on the model parameters, and the last hidden state
  """
  x, h, y, p = {}, {}, {}, {}
  h[-1] = np.copy(hprev)
  loss = 0
  # forward pass
  for t in range(len(inputs)):
    x[t] = np.zeros((vocab_size, 1))
    x[t][inputs[t]] = 1
    h[t] = np.tanh(np.dot(W_xh, x[t]) + np.dot(W_hh, h[t-1]) + b_h)
    y[t] = np.dot(W_hy, h[t]) + b_y
    p[t] = np.exp(y[t]) / np.sum(np.exp(y[t]))
    loss += -np.log(p[t][targets[t], 0])
  # backward pass
  dW_xh, dW_hh, dW_hy = np.zeros_like(W_xh), np.zeros_like(W_hh), np.zeros_like(W_hy)
  db_h, db_y = np.zeros_like(b_h), np.zeros_like(b_y)
  dh_next = np.zeros_like(h[0])
  for t in reversed(range(1, len(inputs))):
    dy = p[t].copy()
    dy[targets[t]] -= 1
    dW_hy += np.dot(dy, h[t].T)
    db_y += dy
    dh = np.dot(W_hy.T, dy) + dh_next
    dh_raw = (1 - h[t] * h[t]) * dh
    db_h += dh_raw
    dW_xh += np.dot(dh_raw, x[t].T)
    dW_hh += np.dot(dh_raw, h[t-1].T)
    dh_next = np.dot(W_hh.T, dh_raw)
  return loss, dW_xh, dW_hh, dW_hy, db_h, db_y, h[len(inputs)-1]
