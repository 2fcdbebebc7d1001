# float32 character RNN: everything is cast once at the top of the loss, the loops run
# over zip()s and the sums are list comprehensions / generator expressions.
import numpy as np

hidden_size, vocab_size, seq_length = 64, 40, 16
rng = np.random.default_rng(1)
Wxh = (rng.standard_normal((hidden_size, vocab_size)) * 0.01).astype(np.float32)
Whh = (rng.standard_normal((hidden_size, hidden_size)) * 0.01).astype(np.float32)
Why = (rng.standard_normal((vocab_size, hidden_size)) * 0.01).astype(np.float32)
bh = np.zeros((hidden_size, 1), np.float32)
by = np.zeros((vocab_size, 1), np.float32)


def lossFun(inputs, targets, hprev):
    W_in, W_rec, W_out = Wxh.astype(np.float32), Whh.astype(np.float32), Why.astype(np.float32)
    b_h, b_y = bh.astype(np.float32), by.astype(np.float32)
    eye = np.eye(vocab_size, dtype=np.float32)
    xs = [eye[:, i:i + 1] for i in inputs]
    h = hprev.astype(np.float32)
    hs, ps = [], []
    for x in xs:
        h = np.tanh(W_in @ x + W_rec @ h + b_h)
        hs.append(h)
        s = W_out @ h + b_y
        e = np.exp(s - s.max())
        ps.append(e / e.sum())
    loss = -sum(float(np.log(p[y, 0])) for p, y in zip(ps, targets))
    dys = [p - eye[:, y:y + 1] for p, y in zip(ps, targets)]
    dWhy = sum(dy @ h.T for dy, h in zip(dys, hs))
    dby = sum(dys) / len(dys)
    prevs = [hprev.astype(np.float32)] + hs[:-1]
    dWxh, dWhh, dbh = np.zeros_like(W_in), np.zeros_like(W_rec), np.zeros_like(b_h)
    dnext = np.zeros_like(b_h)
    for x, h, h_prev, dy in zip(xs[::-1], hs[::-1], prevs[::-1], dys[::-1]):
        dh = W_out.T @ dy + dnext
        dpre = (1.0 - h * h) * dh
        dWxh += dpre @ x.T
        dWhh += dpre @ h_prev.T
        dbh += dpre
        dnext = W_rec.T @ dpre
    return loss, dWxh, dWhh, dWhy, dbh, dby, hs[-1]
