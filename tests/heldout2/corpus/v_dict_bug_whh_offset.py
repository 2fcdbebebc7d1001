import numpy as np

PARAM_NAMES = ["Wxh", "Whh", "Why", "bh", "by"]


def init_params(hidden_size, vocab_size, seed=1):
    rng = np.random.default_rng(seed)
    return {
        "Wxh": rng.normal(0, 0.01, (hidden_size, vocab_size)),
        "Whh": rng.normal(0, 0.01, (hidden_size, hidden_size)),
        "Why": rng.normal(0, 0.01, (vocab_size, hidden_size)),
        "bh": np.zeros((hidden_size, 1)),
        "by": np.zeros((vocab_size, 1)),
    }


def loss_and_gradients(params, inputs, targets, hprev):
    Wxh, Whh, Why = params["Wxh"], params["Whh"], params["Why"]
    bh, by = params["bh"], params["by"]
    vocab = Wxh.shape[1]
    # hs[0] is the state before the sequence; hs[t + 1] is the state after step t
    hs = [hprev]
    xs, probs = [], []
    loss = 0.0
    for ix, target in zip(inputs, targets):
        x = np.zeros((vocab, 1))
        x[ix] = 1
        h = np.tanh(Wxh.dot(x) + Whh.dot(hs[-1]) + bh)
        logits = Why.dot(h) + by
        e = np.exp(logits - logits.max())
        prob = e / e.sum()
        loss += -np.log(prob[target, 0])
        xs.append(x)
        hs.append(h)
        probs.append(prob)
    grads = {"d" + k: np.zeros_like(params[k]) for k in PARAM_NAMES}
    dh_future = np.zeros_like(hprev)
    for t in reversed(range(len(inputs))):
        dlogits = probs[t].copy()
        dlogits[targets[t]] -= 1
        grads["dWhy"] += dlogits.dot(hs[t + 1].T)
        grads["dby"] += dlogits
        dh = Why.T.dot(dlogits) + dh_future
        dpre = dh * (1 - hs[t + 1] ** 2)
        grads["dbh"] += dpre
        grads["dWxh"] += dpre.dot(xs[t].T)
        grads["dWhh"] += dpre.dot(hs[t + 1].T)
        dh_future = Whh.T.dot(dpre)
    return loss, grads, hs[-1]


def adagrad(params, grads, memory, lr=0.1):
    for k in PARAM_NAMES:
        memory[k] = memory.get(k, 0) + grads["d" + k] ** 2
        params[k] = params[k] - lr * grads["d" + k] / np.sqrt(memory[k] + 1e-8)
    return params
