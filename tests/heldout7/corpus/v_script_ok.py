import numpy as np


def compute_loss_and_gradients(inputs, targets, hprev):
    # ------------------------------------------------------------------
    # sizes
    # ------------------------------------------------------------------
    n_steps = len(inputs)
    n_hidden = Whh.shape[0]
    n_vocab = Wxh.shape[1]
    debug = {"max_pre": 0.0, "loss_per_step": []}

    # ------------------------------------------------------------------
    # forward pass
    # ------------------------------------------------------------------
    states = [np.copy(hprev)]  # states[k] = hidden state BEFORE step k
    probs = []
    h_buf = np.empty((n_hidden, 1))  # scratch buffer for tanh
    loss = 0.0
    for step in range(n_steps):
        x_col = np.zeros((n_vocab, 1))
        x_col[inputs[step]] = 1.0
        a = np.dot(Wxh, x_col)
        a += np.dot(Whh, states[step])
        a += bh
        debug["max_pre"] = max(debug["max_pre"], float(np.abs(a).max()))
        np.tanh(a, out=h_buf)
        states.append(h_buf.copy())
        scores = np.dot(Why, states[step + 1]) + by
        scores -= scores.max()  # for numerical stability
        p = np.exp(scores)
        p /= p.sum()
        probs.append(p)
        step_loss = -np.log(p[targets[step], 0])
        debug["loss_per_step"].append(step_loss)
        loss += step_loss

    # ------------------------------------------------------------------
    # backward pass
    # ------------------------------------------------------------------
    dWxh = np.zeros_like(Wxh)
    dWhh = np.zeros_like(Whh)
    dWhy = np.zeros_like(Why)
    dbh = np.zeros_like(bh)
    dby = np.zeros_like(by)
    dh_carry = np.zeros((n_hidden, 1))  # gradient reaching states[step + 1] from later steps
    dh_total = np.zeros((n_hidden, 1))
    da = np.zeros((n_hidden, 1))
    for step in range(n_steps - 1, -1, -1):
        # output layer: softmax + cross-entropy gives p - onehot(target)
        dscores = np.copy(probs[step])
        dscores[targets[step]] -= 1.0
        dWhy += np.dot(dscores, states[step + 1].T)
        dby += dscores
        # into the hidden state: this step's output plus the future
        np.dot(Why.T, dscores, out=dh_total)
        dh_total += dh_carry
        # through tanh: tanh'(a) = 1 - tanh(a)^2
        h_here = states[step + 1]
        np.multiply(dh_total, 1.0 - h_here * h_here, out=da)
        # weight gradients
        dWxh[:, inputs[step]] += da[:, 0]
        dWhh += np.dot(da, states[step].T)
        dbh += da
        # to the previous state
        np.dot(Whh.T, da, out=dh_carry)

    debug["grad_norm"] = float(sum(np.linalg.norm(g) for g in (dWxh, dWhh, dWhy, dbh, dby)))
    return loss, dWxh, dWhh, dWhy, dbh, dby, states[n_steps]
