"""A correct backward pass written as a class: weights as attributes, 1-D state
vectors in a list (states[0] is hprev), np.outer and @, a gradient dict."""
import numpy as np

TARGET = "CharRNN.loss_and_grads"
GRADS = {"Wxh": "Wxh", "Whh": "Whh", "Why": "Why", "bh": "bh", "by": "by"}
SAME_SHAPE = (("back", "da", "carry"),)


class CharRNN:
    def __init__(self, hidden_size, vocab_size):
        rng = np.random.default_rng(0)
        self.Wxh = rng.normal(0.0, 0.01, (hidden_size, vocab_size))
        self.Whh = rng.normal(0.0, 0.01, (hidden_size, hidden_size))
        self.Why = rng.normal(0.0, 0.01, (vocab_size, hidden_size))
        self.bh = np.zeros((hidden_size, 1))
        self.by = np.zeros((vocab_size, 1))

    def loss_and_grads(self, inputs, targets, hprev):
        h = hprev[:, 0]
        states = [h]
        probs = []
        loss = 0.0
        for i, target in zip(inputs, targets, strict=True):
            h = np.tanh(self.Wxh[:, i] + self.Whh @ h + self.bh[:, 0])
            states.append(h)
            z = self.Why @ h + self.by[:, 0]
            z = z - z.max()
            p = np.exp(z) / np.exp(z).sum()
            probs.append(p)
            loss -= np.log(p[target])
        # backward:begin
        grads = {name: np.zeros_like(getattr(self, name))
                 for name in ("Wxh", "Whh", "Why", "bh", "by")}
        carry = np.zeros_like(h)
        for t in reversed(range(len(inputs))):
            err = probs[t].copy()
            err[targets[t]] -= 1.0
            grads["Why"] += np.outer(err, states[t + 1])
            grads["by"][:, 0] += err
            back = self.Why.T @ err + carry
            da = back * (1.0 - states[t + 1] ** 2)
            grads["bh"][:, 0] += da
            grads["Wxh"][:, inputs[t]] += da
            grads["Whh"] += np.outer(da, states[t])
            carry = self.Whh.T @ da
        # backward:end
        return loss, grads, states[-1][:, None]


def bench_call(params, inputs, targets, hprev):
    """The harness's adapter: build an instance, set its weights, call."""
    model = CharRNN(params["Whh"].shape[0], params["Why"].shape[0])
    for name, value in params.items():
        setattr(model, name, value)
    loss, grads, _ = model.loss_and_grads(inputs, targets, hprev)
    return loss, grads
