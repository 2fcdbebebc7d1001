"""Return unpacking: what the user's function returned, as a loss and gradients under our names.

Accepted: ``(loss, dWxh, dWhh, dWhy, dbh, dby, hlast)`` (another order with
``--impl-order``), ``(loss, grads)`` or ``(loss, grads, hlast)`` with ``grads``
a dict keyed ``Wxh`` or ``dWxh`` (or the user's names). A bias-free model
(``--no-biases``) has three gradients: ``(loss, dWxh, dWhh, dWhy, hlast)``
(``(loss, dU, dW, dV, h)``), the hlast optional. Anything else is an
:class:`ImplError` naming what came back.

For a gated cell the gradients are the cell's parameters, in its order
(``dWf dWi dWc dWo dbf dbi dbc dbo dWhy dby``, then ``hlast`` and, for the
LSTM, ``clast``), or a dict as above (``clast`` among its other values, or
the tuple's last after the dict). A key matches ignoring case when no key
matches exactly (``dwf``, ``DWf``).

**Gradients only, no loss** (the WildML tutorial's ``return [dLdU, dLdV,
dLdW]``): a list or tuple of exactly as many arrays as the model has
parameters (3 without biases, 5 with; a gated cell's count), or a dict of
them (a dict with a ``loss`` or ``cost`` key is a loss and its gradients).
The loss is then NaN and :func:`returns_loss` is False; the check compares
the gradient with the model's (:mod:`.gradient_only`). Their order
is ``--impl-order``, else the order the function's own ``return`` statement
names them in (:func:`return_order`: ``dLdU, dLdV, dLdW`` is U, V, W), else
ours.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from ..errors import ImplError
from ..model import PARAM_NAMES, Params
from ..prose import plural

RETURN_HELP = ("(loss, dWxh, dWhh, dWhy, dbh, dby, hlast), (loss, grads) or "
               "(loss, grads, hlast) with grads a dict, or the gradients alone "
               "([dWxh, dWhh, dWhy, dbh, dby] or a dict)")


def our_name(key: str, names: Mapping[str, str],
             params: tuple[str, ...] = PARAM_NAMES) -> str | None:
    """Our parameter name for a returned key (``dWxh``, ``Wxh``, ``dLdWxh``, or theirs);
    failing those, the same ignoring case, when exactly one name fits."""
    for candidate in (key, key[1:] if key.startswith("d") else None,
                      key[3:] if key.startswith("dLd") else None):
        if candidate is None:
            continue
        if candidate in names:
            return names[candidate]
        if candidate in params:
            return candidate
    low = key.lower()
    fits = {o for t, o in [*names.items(), *((p, p) for p in params)]
            if low in (t.lower(), "d" + t.lower(), "dld" + t.lower()) and o in params}
    return fits.pop() if len(fits) == 1 else None


LOSS_KEYS = ("loss", "cost")  # a returned dict with one of these keys carries its loss


def returns_loss(out: Any, n_params: int) -> bool:
    """Whether ``out`` has a loss: False for gradients alone, a dict (nothing beside it) or
    a list or tuple of exactly ``n_params`` arrays (each with at least one dimension)."""
    if isinstance(out, Mapping):
        return any(k in out for k in LOSS_KEYS)
    return not (isinstance(out, tuple | list) and len(out) == n_params
                and all(_is_array(v) for v in out))


def _is_array(value: Any) -> bool:
    """An array with at least one dimension (a loss is a number, or a 0-d array)."""
    try:
        return bool(np.ndim(value) >= 1)
    except (TypeError, ValueError):  # a ragged list: no array at all
        return False


def unpack(out: Any, params: Params, name: str, names: Mapping[str, str],
           order: tuple[str, ...] | None,
           returned: Callable[[], tuple[str, ...] | None] = lambda: None
           ) -> tuple[float, dict[str, np.ndarray], Any, tuple[str, ...]]:
    """(loss, gradients under our names, hlast, notes) from what ``name`` returned.

    For the LSTM, ``hlast`` is the pair (hlast, clast) when both were returned. Gradients
    alone (:func:`returns_loss` False) give a NaN loss and no hlast; ``returned`` gives the
    order the function's ``return`` statement names them in (:func:`return_order`), used
    when there is no ``order`` (--impl-order): called only for gradients returned alone as
    a tuple or list, since reading the source costs milliseconds on every copy the fix
    search loads."""
    ours_all = tuple(params)
    n_p = len(ours_all)
    lstm = "Wf" in ours_all
    bias_free = ours_all == PARAM_NAMES[:3]  # --no-biases: Wxh, Whh, Why only
    if not returns_loss(out, n_p):
        return _gradients_only(out, params, name, names, order, returned)
    if isinstance(out, Mapping):  # one dict: the loss under LOSS_KEYS, the gradients beside it
        key = next(k for k in LOSS_KEYS if k in out)
        _, found, _, notes = _gradients_only({k: v for k, v in out.items() if k != key},
                                             params, name, names, order, returned)
        return _loss(out[key], name), found, None, notes
    if not isinstance(out, tuple | list):
        raise ImplError(f"{name} returned a value of type {type(out).__name__}; expected "
                        f"{_help(ours_all)}")
    if out and all(_is_array(v) for v in out):  # arrays only, but not one per parameter
        raise ImplError(_count_error(name, len(out), ours_all))
    positional = not (len(out) in ((2, 3, 4) if lstm else (2, 3))
                      and isinstance(out[1], Mapping))
    if not positional:
        loss, raw = out[0], dict(out[1])
        hlast = out[2] if len(out) >= 3 else None
        if len(out) == 4:
            hlast = (out[2], out[3])
        grads: dict[str, Any] = {}
        for key, value in raw.items():
            ours = our_name(str(key), names, ours_all)
            if ours is not None:
                grads[ours] = value
        missing = [n for n in ours_all if n not in grads]
        if missing:
            raise ImplError(f"{name} returned a gradient dict without "
                            f"{', '.join('d' + m for m in missing)}; its keys: "
                            f"{', '.join(map(str, raw)) or 'none'} (map names with "
                            "--impl-names)")
    elif len(out) in range(n_p + 1, n_p + (4 if lstm else 3)):
        if order is not None and len(order) != n_p:
            raise ImplError(f"--impl-order names {len(order)} gradients; this model has {n_p} "
                            f"({', '.join('d' + n for n in ours_all)})"
                            + (": it has no biases" if bias_free else ""))
        order = order or ours_all
        loss = out[0]
        states = list(out[n_p + 1:])
        hlast = None if not states else states[0] if len(states) == 1 else tuple(states)
        grads = dict(zip(order, out[1:n_p + 1], strict=True))
    elif ours_all == PARAM_NAMES and len(out) in (4, 5):
        raise ImplError(f"{name} returned {len(out)} values; expected 7: {RETURN_HELP}; "
                        "a loss and three gradients is what a model without biases (U, W, V "
                        "only) returns: check that with --no-biases")
    else:
        expected = ("(loss, dWxh, dWhh, dWhy[, hlast]) for a bias-free model: 4 or 5"
                    if bias_free else str(n_p + 2))
        raise ImplError(f"{name} returned {len(out)} values; expected {expected}: "
                        f"{_help(ours_all)}")
    checked = {}
    for n in ours_all:
        try:
            checked[n] = _grad(n, grads[n], params[n], name, names)
        except ImplError as exc:
            hint = _order_hint(n, grads, params, names) if positional else ""
            raise ImplError(f"{exc}{hint}") from None
    return _loss(loss, name), checked, hlast, _dtype_notes(grads, name)


def _gradients_only(out: Any, params: Params, name: str, names: Mapping[str, str],
                    order: tuple[str, ...] | None,
                    returned: Callable[[], tuple[str, ...] | None]
                    ) -> tuple[float, dict[str, np.ndarray], Any, tuple[str, ...]]:
    """A dict of gradients, or one array per parameter: (NaN, gradients, None, notes)."""
    ours_all = tuple(params)
    grads: dict[str, Any] = {}
    notes: tuple[str, ...] = ()
    if isinstance(out, Mapping):
        for key, value in out.items():
            ours = our_name(str(key), names, ours_all)
            if ours is not None:
                grads[ours] = value
        missing = [n for n in ours_all if n not in grads]
        if missing:
            theirs = {o: t for t, o in names.items()}
            shown = [f"d{m}" if theirs.get(m, m) == m else f"d{theirs[m]} (d{m})"
                     for m in missing]
            raise ImplError(f"{name} returned a dict without a loss and without "
                            f"{', '.join(shown)}; its keys: "
                            f"{', '.join(map(str, out)) or 'none'} (map names with "
                            "--impl-names)")
    else:
        if order is not None and len(order) != len(ours_all):
            raise ImplError(f"--impl-order names {len(order)} gradients; this model has "
                            f"{len(ours_all)} ({', '.join('d' + n for n in ours_all)})")
        named = returned() if order is None else None
        if named is not None and named != ours_all:
            theirs = {o: t for t, o in names.items()}
            notes = (f"{name} returns its gradients in the order its return statement names "
                     f"them: {', '.join(theirs.get(n, n) for n in named)} (ours: "
                     f"{', '.join(named)})",)
        order = order or named or ours_all
        grads = dict(zip(order, out, strict=True))
    checked = {}
    for n in ours_all:
        try:
            checked[n] = _grad(n, grads[n], params[n], name, names)
        except ImplError as exc:
            hint = "" if isinstance(out, Mapping) else _order_hint(n, grads, params, names)
            raise ImplError(f"{exc}{hint}") from None
    return float("nan"), checked, None, notes + _dtype_notes(grads, name)


def _count_error(name: str, n: int, params: tuple[str, ...]) -> str:
    """Arrays only, but not one per parameter: say how many a gradient-only return has."""
    text = (f"{name} returned {plural(n, 'array')} and no loss; gradients alone are "
            f"{len(params)} arrays ({', '.join('d' + p for p in params)}, in another order "
            f"with --impl-order) or a dict of them")
    if params == PARAM_NAMES and n == 3:
        text += ("; three gradients is what a model without biases (U, W, V only) returns: "
                 "check that with --no-biases")
    if params == PARAM_NAMES[:3] and n == 5:
        text += "; five gradients is what a model with biases returns: drop --no-biases"
    return text


def return_order(func: Any, names: Mapping[str, str],
                 params: tuple[str, ...]) -> tuple[str, ...] | None:
    """The order of the gradients in ``func``'s ``return`` statements, our names, when each
    statement that returns one name per parameter (``return [dLdU, dLdV, dLdW]``) names
    every parameter once, and all such statements agree; else None (its source cannot be
    read, or the names do not tell)."""
    try:
        source = textwrap.dedent(inspect.getsource(func))
        tree = ast.parse(source)
    except (OSError, TypeError, SyntaxError, ValueError):
        return None
    target = getattr(func, "__name__", None)
    defs = [d for d in ast.walk(tree) if isinstance(d, ast.FunctionDef | ast.AsyncFunctionDef)
            and d.name == target]
    if not defs:
        return None
    found: set[tuple[str, ...]] = set()
    for node in ast.walk(defs[0]):
        if not (isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple | ast.List)
                and len(node.value.elts) == len(params)):
            continue
        named = [_returned_name(e) for e in node.value.elts]
        if any(n is None for n in named):
            continue
        ours = tuple(our_name(n, names, params) for n in named if n is not None)
        if any(o is None for o in ours) or sorted(map(str, ours)) != sorted(params):
            return None
        found.add(tuple(str(o) for o in ours))
    return found.pop() if len(found) == 1 else None


def _returned_name(node: ast.expr) -> str | None:
    """The variable a returned element is: ``dU``, or ``dU`` in ``dU.astype(np.float32)`` or
    ``dU.copy()`` (a copy of it, in another dtype); else None."""
    if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("astype", "copy")):
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else None


def _help(params: tuple[str, ...]) -> str:
    """The accepted returns, in the cell's names."""
    if params == PARAM_NAMES:
        return RETURN_HELP
    states = "hlast, clast" if "Wf" in params else "hlast"
    grads = ", ".join("d" + n for n in params)
    return (f"(loss, {grads}, {states}), (loss, grads) or (loss, grads, {states}) with grads "
            f"a dict, or the gradients alone ([{grads}] or a dict)")


def _order_hint(ours: str, grads: Mapping[str, Any], params: Params,
                names: Mapping[str, str]) -> str:
    """``; that is the shape of dWhy: ...--impl-order`` when a returned shape fits another slot."""
    shape = np.shape(grads[ours])
    fits = [n for n in params if n != ours and params[n].shape == shape]
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
    free = list(params)
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


def dtypes(out: Any, n_params: int = len(PARAM_NAMES)) -> tuple[str, ...]:
    """Floating dtypes among the returned gradients (a dict's values included; not the loss,
    whose precision is measured, nor anything else returned); ``n_params`` gradients."""
    if isinstance(out, Mapping):  # one dict: its values but the loss
        values = [v for k, v in out.items() if k not in LOSS_KEYS]
    elif not returns_loss(out, n_params):  # gradients alone, one per parameter
        values = list(out)
    else:
        values = (list(out[1:n_params + 1]) if len(out) > n_params
                  else list(dict(out[1]).values()))
    found = {np.asarray(v).dtype for v in values if hasattr(v, "dtype")}
    return tuple(sorted(d.name for d in found if np.issubdtype(d, np.floating)))


def extras(out: Any, names: Mapping[str, str],
           params: tuple[str, ...] = PARAM_NAMES) -> dict[str, Any]:
    """Keys of a returned gradient dict that are not one of the parameters."""
    if isinstance(out, Mapping):  # one dict: gradients alone, or with its loss
        return {str(k): v for k, v in out.items() if our_name(str(k), names, params) is None
                and k not in LOSS_KEYS}
    if len(out) in (2, 3, 4) and isinstance(out[1], Mapping):
        return {str(k): v for k, v in out[1].items()
                if our_name(str(k), names, params) is None}
    return {}
