"""An LSTM language model as a class. One step's values are kept in a dict (a "tape"
entry); the backward pass walks the tape from the end and loops over the gates to
accumulate the weight gradients and the gradient of z = [h_prev; x]."""
import numpy as np


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


class LSTM:
    gate_names = ("Wf", "Wi", "Wc", "Wo")

    def __init__(self, hidden_size, vocab_size):
        self.hidden_size = hidden_size
        self.vocab_size = vocab_size
        n = hidden_size + vocab_size
        for name in self.gate_names:
            setattr(self, name, np.random.randn(hidden_size, n) / np.sqrt(n))
        self.bf = np.ones((hidden_size, 1))
        self.bi = np.zeros((hidden_size, 1))
        self.bc = np.zeros((hidden_size, 1))
        self.bo = np.zeros((hidden_size, 1))
        self.Why = np.random.randn(vocab_size, hidden_size) / np.sqrt(hidden_size)
        self.by = np.zeros((vocab_size, 1))

    def step(self, x, h, c):
        z = np.concatenate((h, x), axis=0)
        f = sigmoid(self.Wf @ z + self.bf)
        i = sigmoid(self.Wi @ z + self.bi)
        g = np.tanh(self.Wc @ z + self.bc)
        o = sigmoid(self.Wo @ z + self.bo)
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        return h_new, c_new, dict(z=z, f=f, i=i, g=g, o=o, c_prev=c, c=c_new)

    def loss(self, inputs, targets, hprev, cprev):
        h, c = hprev, cprev
        tape = []
        loss = 0.0
        for ix, tgt in zip(inputs, targets):
            x = np.zeros((self.vocab_size, 1))
            x[ix, 0] = 1.0
            h, c, rec = self.step(x, h, c)
            logits = self.Why @ h + self.by
            shifted = logits - logits.max()
            logp = shifted - np.log(np.exp(shifted).sum())
            loss -= logp[tgt, 0]
            rec.update(h=h, p=np.exp(logp), tgt=tgt)
            tape.append(rec)
        names = self.gate_names + ("bf", "bi", "bc", "bo", "Why", "by")
        grads = {"d" + k: np.zeros_like(getattr(self, k)) for k in names}
        dh_carry = np.zeros_like(h)
        dc_carry = np.zeros_like(c)
        dz = np.zeros((self.hidden_size + self.vocab_size, 1))  # reused at every step
        for rec in tape[::-1]:
            dz.fill(0.0)
            dlogits = rec["p"].copy()
            dlogits[rec["tgt"], 0] -= 1.0
            grads["dWhy"] += dlogits @ rec["h"].T
            grads["dby"] += dlogits
            dh = self.Why.T @ dlogits
            tanh_c = np.tanh(rec["c"])
            do = dh * tanh_c
            dc = dc_carry + dh * rec["o"] * (1.0 - tanh_c ** 2)
            df = dc * rec["c_prev"]
            di = dc * rec["g"]
            dg = dc * rec["i"]
            dc_carry = dc * rec["f"]
            daf = df * rec["f"] * (1.0 - rec["f"])
            dai = di * rec["i"] * (1.0 - rec["i"])
            dag = dg * (1.0 - rec["g"] ** 2)
            dao = do * rec["o"] * (1.0 - rec["o"])
            for W, b, da in (("Wf", "bf", daf), ("Wi", "bi", dai),
                             ("Wc", "bc", dag), ("Wo", "bo", dao)):
                grads["d" + W] += da @ rec["z"].T
                grads["d" + b] += da
                dz += getattr(self, W).T @ da
            dh_carry = dz[:self.hidden_size].copy()
        return loss, grads, h, c
