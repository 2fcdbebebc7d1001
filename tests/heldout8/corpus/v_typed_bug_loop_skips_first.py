import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    shifted = np.exp(z - z.max())
    return shifted / shifted.sum()


def one_hot(index: int, size: int) -> np.ndarray:
    v = np.zeros((size, 1))
    v[index, 0] = 1.0
    return v


def forward_step(x: np.ndarray, h_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    h = np.tanh(Wxh @ x + Whh @ h_prev + bh)
    p = softmax(Why @ h + by)
    return h, p


def backward_step(dy: np.ndarray, dh_next: np.ndarray, x: np.ndarray, h: np.ndarray,
                  h_prev: np.ndarray) -> dict[str, np.ndarray]:
    dh = Why.T @ dy + dh_next
    da = (1.0 - h ** 2) * dh
    return {
        "Wxh": da @ x.T,
        "Whh": da @ h_prev.T,
        "Why": dy @ h.T,
        "bh": da,
        "by": dy,
        "dh_prev": Whh.T @ da,
    }


def loss_and_gradients(inputs: list[int], targets: list[int], hprev: np.ndarray):
    xs: list[np.ndarray] = []
    hs: list[np.ndarray] = [hprev]
    ps: list[np.ndarray] = []
    loss = 0.0
    for ix, target in zip(inputs, targets):
        x = one_hot(ix, Wxh.shape[1])
        h, p = forward_step(x, hs[-1])
        xs.append(x)
        hs.append(h)
        ps.append(p)
        loss -= float(np.log(p[target, 0]))
    grads = {name: np.zeros_like(w) for name, w in
             (("Wxh", Wxh), ("Whh", Whh), ("Why", Why), ("bh", bh), ("by", by))}
    dh_next = np.zeros_like(hprev)
    for t in range(len(inputs) - 1, 0, -1):
        dy = ps[t].copy()
        dy[targets[t], 0] -= 1.0
        step = backward_step(dy, dh_next, xs[t], hs[t + 1], hs[t])
        for name in grads:
            grads[name] += step[name]
        dh_next = step["dh_prev"]
    return loss, grads["Wxh"], grads["Whh"], grads["Why"], grads["bh"], grads["by"], hs[-1]
