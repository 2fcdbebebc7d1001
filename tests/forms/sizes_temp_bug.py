# Sizes under other names (M, N) and a temperature TEMP, with a bug: the gradient
# misses the 1/TEMP of the softmax input. Needs --impl-names M=vocab,N=hidden and
# --impl-set TEMP=2.0 to show it (with TEMP=1.0 the bug has no effect).
import argparse

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("--vocab", type=int, default=65)
parser.add_argument("--hidden", type=int, default=100)
parser.add_argument("--temp", type=float, default=1.0)
args = parser.parse_args()
M, N, TEMP = args.vocab, args.hidden, args.temp


def lossFun(inputs, targets, hprev):
    h = {-1: hprev.copy()}
    x, p = {}, {}
    loss = 0.0
    for t in range(len(inputs)):
        x[t] = np.zeros((M, 1))
        x[t][inputs[t]] = 1
        h[t] = np.tanh(np.dot(Wxh, x[t]) + np.dot(Whh, h[t - 1]) + bh)
        z = (np.dot(Why, h[t]) + by) / TEMP
        p[t] = np.exp(z) / np.sum(np.exp(z))
        loss += -np.log(p[t][targets[t], 0])
    dWxh, dWhh, dWhy = np.zeros((N, M)), np.zeros((N, N)), np.zeros((M, N))
    dbh, dby = np.zeros((N, 1)), np.zeros((M, 1))
    dhnext = np.zeros((N, 1))
    for t in reversed(range(len(inputs))):
        dy = p[t].copy()
        dy[targets[t]] -= 1
        pass  # forgot: dy /= TEMP
        dWhy += np.dot(dy, h[t].T)
        dby += dy
        dh = np.dot(Why.T, dy) + dhnext
        dhraw = (1 - h[t] * h[t]) * dh
        dbh += dhraw
        dWxh += np.dot(dhraw, x[t].T)
        dWhh += np.dot(dhraw, h[t - 1].T)
        dhnext = np.dot(Whh.T, dhraw)
    return loss, dWxh, dWhh, dWhy, dbh, dby, h[len(inputs) - 1]
