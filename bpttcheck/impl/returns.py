"""Return unpacking: what the user's function returned, as a loss and gradients under our names.

Accepted: ``(loss, dWxh, dWhh, dWhy, dbh, dby, hlast)`` (another order with
``--impl-order``), ``(loss, grads)`` or ``(loss, grads, hlast)`` with ``grads``
a dict keyed ``Wxh`` or ``dWxh`` (or the user's names). A bias-free model
(``--no-biases``) has three gradients: ``(loss, dWxh, dWhh, dWhy, hlast)``
(``(loss, dU, dW, dV, h)``), the hlast optional. Anything else is an
:class:`ImplError` naming what came back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ImplError
from ..model import PARAM_NAMES, Params

RETURN_HELP = ("(loss, dWxh, dWhh, dWhy, dbh, dby, hlast), (loss, grads) or "
               "(loss, grads, hlast) with grads a dict")


def our_name(key: str, names: Mapping[str, str]) -> str | None:
    """Our parameter name for a returned key (``dWxh``, ``Wxh``, ``dLdWxh``, or theirs)."""
    for candidate in (key, key[1:] if key.startswith("d") else None,
                      key[4:] if key.startswith("dLd") else None):
        if candidate is None:
            continue
        if candidate in names:
            return names[candidate]
        if candidate in PARAM_NAMES:
            return candidate
    return None


def unpack(out: Any, params: Params, name: str, names: Mapping[str, str],
           order: tuple[str, ...] | None) -> tuple[float, dict[str, np.ndarray], Any,
                                                   tuple[str, ...]]:
    """(loss, gradients under our names, hlast, notes) from what ``name`` returned."""
    if not isinstance(out, tuple | list):
        raise ImplError(f"{name} returned a value of type {type(out).__name__}; expected "
                        f"{RETURN_HELP}")
    model = [n for n in PARAM_NAMES if n in params]  # a bias-free model: no bh, no by
    k = len(model)
    positional = not (len(out) in (2, 3) and isinstance(out[1], Mapping))
    if not positional:
        loss, raw, hlast = out[0], dict(out[1]), out[2] if len(out) == 3 else None
        grads: dict[str, Any] = {}
        for key, value in raw.items():
            ours = our_name(str(key), names)
            if ours is not None:
                grads[ours] = value
        missing = [n for n in model if n not in grads]
        if missing:
            raise ImplError(f"{name} returned a gradient dict without "
                            f"{', '.join('d' + m for m in missing)}; its keys: "
                            f"{', '.join(map(str, raw)) or 'none'} (map names with "
                            "--impl-names)")
    elif len(out) in (k + 1, k + 2):
        if order is not None and len(order) != k:
            raise ImplError(f"--impl-order names {len(order)} gradients; this model has {k} "
                            f"({', '.join('d' + n for n in model)})"
                            + ("" if k == len(PARAM_NAMES) else ": it has no biases"))
        order = tuple(n for n in (order or PARAM_NAMES) if n in model)
        loss, hlast = out[0], out[k + 1] if len(out) == k + 2 else None
        grads = dict(zip(order, out[1:k + 1], strict=True))
    elif k == len(PARAM_NAMES) and len(out) in (4, 5):
        raise ImplError(f"{name} returned {len(out)} values; expected 7: {RETURN_HELP}; "
                        "a loss and three gradients is what a model without biases (U, W, V "
                        "only) returns: check that with --no-biases")
    else:
        expected = "7" if k == len(PARAM_NAMES) else "(loss, dWxh, dWhh, dWhy[, hlast]) for a " \
                   "bias-free model: 4 or 5"
        raise ImplError(f"{name} returned {len(out)} values; expected {expected}: "
                        f"{RETURN_HELP}")
    checked = {}
    for n in model:
        try:
            checked[n] = _grad(n, grads[n], params[n], name, names)
        except ImplError as exc:
            hint = _order_hint(n, grads, params, names) if positional else ""
            raise ImplError(f"{exc}{hint}") from None
    return _loss(loss, name), checked, hlast, _dtype_notes(grads, name)


def _order_hint(ours: str, grads: Mapping[str, Any], params: Params,
                names: Mapping[str, str]) -> str:
    """``; that is the shape of dWhy: ...--impl-order`` when a returned shape fits another slot."""
    shape = np.shape(grads[ours])
    fits = [n for n in PARAM_NAMES if n != ours and n in params and params[n].shape == shape]
    if not fits:
        return ""
    theirs = {o: t for t, o in names.items()}
    shown = [f"d{theirs.get(n, n)}" for n in fits]
    return (f"; that is the shape of {' or '.join(shown)}: if your function returns its "
            "gradients in another order, give that order with --impl-order (for example "
            "--impl-order " + ",".join(f"d{theirs.get(n, n)}" for n in _guess(grads, params))
            + ")")


def _guess(grads: Mapping[str, Any], params: Params) -> list[str]:
    """The order the returned shapes suggest (each slot the first unused parameter that fits)."""
    free = [n for n in PARAM_NAMES if n in params]
    out = []
    for n in grads:  # the slots, in the order they were returned
        shape = np.shape(grads[n])
        hit = next((p for p in free if params[p].shape == shape), free[0])
        free.remove(hit)
        out.append(hit)
    return out


def _loss(loss: Any, name: str) -> float:
    arr = np.asarray(loss)
    if arr.size != 1 or not np.issubdtype(arr.dtype, np.number) or np.iscomplexobj(arr):
        raise ImplError(f"{name} returned a loss of type {type(loss).__name__}"
                        f"{' and shape ' + str(arr.shape) if arr.size != 1 else ''}; "
                        "expected one real number")
    return float(arr.reshape(-1)[0])


def _grad(ours: str, value: Any, param: np.ndarray, name: str,
          names: Mapping[str, str]) -> np.ndarray:
    theirs = next((t for t, o in names.items() if o == ours), ours)
    label = f"d{theirs}" if theirs == ours else f"d{theirs} (d{ours})"
    arr = np.asarray(value)
    if arr.shape != param.shape:
        raise ImplError(f"{name} returned {label} of shape {arr.shape}; the "
                        f"parameter has shape {param.shape}")
    if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
        raise ImplError(f"{name} returned {label} of dtype {arr.dtype}; "
                        "expected float64")
    return np.array(arr, dtype=np.float64)


def _dtype_notes(grads: Mapping[str, Any], name: str) -> tuple[str, ...]:
    odd = [f"d{n} is {np.asarray(g).dtype}" for n, g in grads.items()
           if np.asarray(g).dtype != np.float64]
    return (f"{name} returns lower-precision gradients ({', '.join(odd)}); "
            "compared as float64",) if odd else ()


def dtypes(out: Any, count: int = len(PARAM_NAMES)) -> tuple[str, ...]:
    """Floating dtypes among the returned gradients (a dict's values included; not the loss,
    whose precision is measured, nor anything else returned); ``count`` gradients."""
    if len(out) in (2, 3) and isinstance(out[1], Mapping):
        values = list(dict(out[1]).values())
    else:
        values = list(out[1:count + 1])
    found = {np.asarray(v).dtype for v in values if hasattr(v, "dtype")}
    return tuple(sorted(d.name for d in found if np.issubdtype(d, np.floating)))


def extras(out: Any, names: Mapping[str, str]) -> dict[str, Any]:
    """Keys of a returned gradient dict that are not one of the five parameters."""
    if len(out) in (2, 3) and isinstance(out[1], Mapping):
        return {str(k): v for k, v in out[1].items() if our_name(str(k), names) is None}
    return {}
