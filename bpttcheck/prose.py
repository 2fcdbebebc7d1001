"""The sentences people read: verdicts, headlines, counts, with their plurals, in one place.

report.py holds the result as data (JSON, npz); renderers lay it out. Every
sentence a person reads about a result is written here, so that its grammar is
tested in one place and no two places word the same finding differently.
"""

from __future__ import annotations


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 element``, ``2 elements``; ``many`` for irregular plurals (``2 entries``)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def join_names(names: list[str] | tuple[str, ...]) -> str:
    """``Wxh``, ``Wxh and Whh``, ``Wxh, Whh and bh``."""
    names = list(names)
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


# -- User code (--impl): the verdict on a person's own loss and gradient ----------------------
# Every sentence below names only what was measured: the loss, the gradient, the points at
# which they were compared, and what the loss was compared with.

def impl_declared(what: str, flag: str | None) -> str:
    """``the model's summed loss`` or ``the loss you declared with --impl-loss mean=T (...)``."""
    return what if flag is None else f"the loss you declared with --impl-loss {flag} ({what})"


def impl_pass(declared: str, points: str) -> str:
    return f"Yes: its loss and its gradient are those of {declared}, at {points}."


def impl_pass_own(points: str, relation: str) -> str:
    return (f"Yes: its gradient is the gradient of its own loss (--impl-loss own), at {points}; "
            f"that loss is {relation}.")


def impl_fail(part: str, declared: str) -> str:
    """The first line of a failing verdict: which part is wrong (loss, gradient or both)."""
    if part == "loss":
        return f"No: the loss it returns is not {declared}."
    if part == "gradient":
        return f"No: the gradient it returns is not the gradient of {declared}."
    return f"No: neither the loss it returns nor its gradient is that of {declared}."


def impl_fail_other(kinds: list[str]) -> str:
    """Loss and gradient agree, yet the check fails: say what did, not "Yes"."""
    return (f"No: its loss and gradient agree where compared, but the check fails on "
            f"{join_names(kinds)} (below).")


def impl_fail_constant() -> str:
    return "No: the loss it returns is a constant, so there is nothing to differentiate."


def impl_loss_only(gradient_of: str, relation: str) -> str:
    """The model's gradient with a wrong loss, e.g. a mean loss with the summed gradient."""
    return (f"loss: your gradient is {gradient_of}'s; the loss you return is {relation}. They "
            "disagree with each other, so one of them is wrong")


def impl_gradient_only(declared: str) -> str:
    return f"gradient: your loss is {declared}, but the gradient you return is not its gradient"


def impl_both(relation: str, own_ok: bool | None, hint: str | None) -> str:
    own = ("your gradient is the gradient of that loss" if own_ok else
           "and your gradient is not even the gradient of that loss" if own_ok is False else
           "whether your gradient is that loss's was not measured (see the notes)")
    text = f"loss and gradient: the loss you return is {relation}; {own}"
    return text + (f" (if that loss is intended, declare it: --impl-loss {hint})" if hint else "")


def impl_own_fail() -> str:
    return "gradient: the gradient you return is not the gradient of your own loss"


def impl_constant(value: float) -> str:
    return (f"loss: your loss is a constant ({value:.10g} at every point checked): it depends "
            "on no weight, so no gradient can be checked against it")


def impl_ignores(name: str) -> str:
    return (f"loss: your loss does not depend on {name}, but the d{name} you return is not "
            f"zero: is {name} missing from your forward pass?")


def impl_hlast(point: str, detail: str) -> str:
    return f"hlast: at {point} the hidden state you return {detail}"


def impl_dhprev(point: str, detail: str) -> str:
    return f"dhprev: at {point} the gradient with respect to hprev you return {detail}"


def impl_unchecked_keys(keys: list[str]) -> str:
    return (f"returned keys bpttcheck does not know how to check: {join_names(keys)} (only "
            "the five gradients, hlast and dhprev are compared)")


def impl_clip_hint(bound: float) -> str:
    return (f"if clipping at ±{bound:g} is intended, --clip {bound:g} accepts it (clipped "
            "elements are then compared with the clipped true gradient)")


def impl_precision(precision: str, measured: str, worst: float) -> str:
    return (f"your code computes in {precision} ({measured}): it is judged against the "
            "float64 model with per-element error bars measured by running the model's own "
            f"backward pass in that precision (16x its rounding error, plus 8 ulps); the "
            f"widest bar is {worst:.1e} of the parameter's largest gradient")


def impl_precision_own(step: float) -> str:
    return (f"its own loss is differentiated with a step of {step:.1e} (about eps^(1/3) for "
            "its precision, not float64's 1e-5), with the error bar widened to match")


def impl_precision_own_skipped(dtype: str) -> str:
    return (f"its own loss is not differentiated numerically: in {dtype} a finite difference "
            "resolves a gradient only to about eps^(2/3) of |L| / |theta| at its best step, "
            "and not at all where the loss is chaotic; the model's float64 gradient, at both "
            "points, is the truth it is judged against")


def impl_unresolved(dtype: str, names: list[str], own: bool = False) -> str:
    what = (f"numerical differentiation of your {dtype} loss cannot resolve the gradient of "
            f"{join_names(names)} to 10% of its scale" if own else
            f"{dtype} rounding alone changes the gradient of {join_names(names)} by more "
            "than 10% of its scale")
    return (f"precision: at this spec {what}, so a backward pass in {dtype} cannot be "
            "verified here (this is not a bug found in your code); use a smaller "
            "--init-scale or --seq")
