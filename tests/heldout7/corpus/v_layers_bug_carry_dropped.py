import numpy as np


class Linear:
    """y = W x + b on column vectors. The layer shares W and b with the model and
    adds its gradients into buffers it is given."""

    def __init__(self, W, b, dW, db):
        self.W, self.b, self.dW, self.db = W, b, dW, db

    def forward(self, x):
        self.x = x
        return self.W @ x + self.b

    def backward(self, dy):
        self.dW += dy @ self.x.T
        self.db += dy
        return self.W.T @ dy


class Tanh:
    def forward(self, a):
        self.y = np.tanh(a)
        return self.y

    def backward(self, dy):
        return dy * (1.0 - self.y ** 2)


class SoftmaxCrossEntropy:
    def forward(self, scores, target):
        shifted = scores - scores.max()
        self.p = np.exp(shifted) / np.exp(shifted).sum()
        self.target = target
        return -np.log(self.p[target, 0])

    def backward(self):
        d = self.p.copy()
        d[self.target, 0] -= 1.0
        return d


def one_hot(ix, n):
    v = np.zeros((n, 1))
    v[ix, 0] = 1.0
    return v


def sequence_loss(inputs, targets, h0, Wxh, Whh, Why, bh, by):
    grads = {"Wxh": np.zeros_like(Wxh), "Whh": np.zeros_like(Whh), "Why": np.zeros_like(Why),
             "bh": np.zeros_like(bh), "by": np.zeros_like(by)}
    no_bias = np.zeros_like(bh)  # the recurrent layer has no bias of its own
    unused = np.zeros_like(bh)
    steps = []
    h = h0
    loss = 0.0
    for ix, tg in zip(inputs, targets):
        inp = Linear(Wxh, bh, grads["Wxh"], grads["bh"])
        rec = Linear(Whh, no_bias, grads["Whh"], unused)
        act = Tanh()
        out = Linear(Why, by, grads["Why"], grads["by"])
        ce = SoftmaxCrossEntropy()
        h = act.forward(inp.forward(one_hot(ix, Wxh.shape[1])) + rec.forward(h))
        loss += ce.forward(out.forward(h), tg)
        steps.append((inp, rec, act, out, ce))

    dh_next = np.zeros_like(h0)
    for inp, rec, act, out, ce in reversed(steps):
        dh = out.backward(ce.backward())
        da = act.backward(dh)
        inp.backward(da)
        dh_next = rec.backward(da)
    return loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"], h
