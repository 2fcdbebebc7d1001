"""Edits a gated cell's backward pass needs beyond the derivative forms: a gate's factor put
back where the forward multiplies by it, a pre-activation gradient named for its gate, a
stacked gradient sliced on the wrong side of its size; and a gradient written into a dict
ranked by the parameter it writes."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from bpttcheck import fix
from bpttcheck.fix.gated_operators import gated_edits, gradient_role
from bpttcheck.fix.rank import flow_score, flows_of
from bpttcheck.impl.source import code_lines

GRU = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")

STEP = textwrap.dedent("""\
    import numpy as np
    def step_back(dh, z, r, n, hp, x, Wn, H):
        a = np.vstack([r * hp, x])
        dn = dh * (1 - z) * (1 - n * n)
        dWn = dn @ np.vstack([hp, x]).T
        drh = Wn[:, :H].T @ dn
        dr = drh * r * (1 - r)
        dhp = dh * z + drh * r
        return dWn, dr, dhp
    """)


def _edits(text: str, line: int) -> list[tuple[str, str]]:
    tree = ast.parse(text)
    func = tree.body[1]
    assert isinstance(func, ast.FunctionDef)
    lines = code_lines(text)
    stmt = next(s for s in func.body if s.lineno == line)
    return [(kind, after.strip()) for _, kind, after in gated_edits(stmt, func, lines, GRU)
            if after is not None]


def test_a_value_the_forward_gates_gets_its_gate_back() -> None:
    # the forward stacks r * hp; the backward's dWn stacks hp bare
    assert ("insert", "dWn = dn @ np.vstack([r * hp, x]).T") in _edits(STEP, 5)
    # where it is gated already, no second gate
    assert not any("r * r * hp" in after for _, after in _edits(STEP, 3))


def test_a_pre_activation_gradient_gets_the_value_its_gate_multiplies() -> None:
    # dr lacks its factor hp (the forward's r * hp): named dr, d_pre_r, dr_raw alike
    for name in ("dr", "d_pre_r", "dr_raw", "da_r"):
        text = STEP.replace("dr = drh", f"{name} = drh").replace("dr, dhp", f"{name}, dhp")
        assert ("insert", f"{name} = drh * r * (1 - r) * hp") in _edits(text, 7), name


def test_gradient_role_reads_gate_and_pre_activation_names() -> None:
    assert [gradient_role("gru", n) for n in ("dr", "dr_pre", "d_pre_r", "da_r", "dz_raw")] \
        == ["r", "r", "r", "r", "z"]
    assert gradient_role("lstm", "dWf") is None and gradient_role("lstm", "f") is None
    assert gradient_role("lstm", "d_net_o") == "o" and gradient_role("lstm", "dh") is None


def test_a_slice_at_a_size_is_tried_on_its_other_side(tmp_path: Path) -> None:
    text = textwrap.dedent("""\
        import numpy as np
        def f(inputs, targets, hprev, W):
            H = hprev.shape[0]
            dz = np.zeros((2 * H, 1))
            for t in reversed(range(len(inputs))):
                dz = dz + W.T @ dz
                carry = dz[H:]
                tail = dz[-H:]
                first = dz[:3]
            return carry, tail, first
        """)
    got = {(c.line, c.after.strip()) for c in fix.candidates(text, tmp_path / "f.py", "f",
                                                             ("Whh",)) if c.kind == "index"}
    assert (7, "carry = dz[:H]") in got and (8, "tail = dz[:-H]") in got
    # a constant bound is shifted by one, not turned over
    assert (9, "first = dz[3:]") not in got


def test_a_gradient_written_into_a_dict_ranks_by_the_parameter_it_writes() -> None:
    """`grads["dWn"] += ...` writes only Wn's gradient, although it also writes into
    `grads`, which every other gradient goes into too."""
    text = textwrap.dedent("""\
        def f(g, dn, dz, hz):
            grads = {}
            grads["dWn"] += dn @ hz.T
            grads["dWz"] += dz @ hz.T
            grads["dbn"] += dn
        """)
    func = ast.parse(text).body[0]
    assert isinstance(func, ast.FunctionDef)
    lines = code_lines(text)
    flows = flows_of(func, lines, {"Wn", "dWn"}, {"Wz", "dWz", "bn", "dbn"})
    scores = [flow_score(s, flows) for s in func.body[1:]]
    assert scores == [5.0, -5.0, -5.0]


LSTM = ("Wf", "Wi", "Wc", "Wo", "bf", "bi", "bc", "bo", "Why", "by")

STACKED = textwrap.dedent("""\
    import numpy as np
    def back(xs, caches, Ws, H, X):
        dhn = np.zeros((H, 1))
        dc_next = np.zeros((H, 1))
        for t in reversed(range(len(xs))):
            f, dc, dpre = caches[t]
            dh = xs[t] * f + dhn
            dc = dc + dc_next
            dstack = np.zeros((H + X, 1))
            for k in range(4):
                dstack += Ws[k].T @ dpre[k]
        return dstack
    """)


def test_a_deleted_carry_update_is_put_back_after_the_loop_body(tmp_path: Path) -> None:
    """Nothing in the loop writes dhn or dc_next: their updates are put back after the last
    statement (a nested loop here), from the function's own names and sizes."""
    cands = fix.candidates(STACKED, tmp_path / "f.py", "back", LSTM[:8], params=LSTM)
    inserted = {c.after.split("\n")[-1].strip() for c in cands
                if c.kind == "insert" and c.line == 11 and c.runnable()}
    assert {"dhn = dstack[:H]", "dc_next = dc * f", "dhn = dh"} <= inserted
    # after the nested loop, at the outer loop's indentation: still Python
    edit = next(c for c in cands if c.after.endswith("dhn = dstack[:H]"))
    assert edit.after.split("\n")[1] == "        dhn = dstack[:H]"
    assert edit.runnable()



def test_coursera_gate_names_have_their_roles() -> None:
    """Coursera's notation: Gamma for the sigmoid gates (its LSTM's "update" gate is the
    input gate), cct for the LSTM's candidate, c-tilde for the GRU's."""
    assert [gradient_role("lstm", n) for n in ("dgamma_f", "dGamma_u", "dgamma_o", "dcct")] \
        == ["f", "i", "o", "g"]
    assert [gradient_role("gru", n) for n in ("dgamma_u", "dGamma_r", "dc_tilde")] \
        == ["z", "r", "n"]


def test_every_gated_slip_the_diagnosis_names_maps_to_edit_kinds() -> None:
    """The gated diagnosis's causes (one per slip it can reproduce) reorder the candidates
    as the vanilla causes do: each maps to kinds of edit that exist."""
    from bpttcheck.diagnose_gated import kind_of
    from bpttcheck.fix.operators import PRIORITY
    from bpttcheck.fix.rank import CAUSE_EDITS, SPECIFIC
    from bpttcheck.gated_variants import SLIPS

    kinds = {kind_of(slip) for slips in SLIPS.values() for slip in slips}
    assert kinds <= set(CAUSE_EDITS) and kinds <= SPECIFIC
    assert set().union(*CAUSE_EDITS.values()) <= set(PRIORITY)


SPLIT = Path(__file__).resolve().parent / "fix_models" / "gru_split_ok.py"


def _split_func(before: str, after: str) -> tuple[str, ast.FunctionDef]:
    text = SPLIT.read_text(encoding="utf-8")
    assert text.count(before) == 1
    text = text.replace(before, after)
    func = next(n for n in ast.parse(text).body
                if isinstance(n, ast.FunctionDef) and n.name == "gru_loss")
    return text, func


def test_a_block_of_a_keyed_gradient_is_that_parameters_and_one_step_cuts_the_carry(
        ) -> None:
    """g["Wr"][:, :H] += ... writes Wr's gradient only; at one step the carry's update
    feeds nothing, so the line computing d_rh feeds Wr's gradient alone there."""
    text, func = _split_func("d_rh = Wn[:, :H].T @ d_tilde", "d_rh = Wn[:, :H] @ d_tilde")
    lines = text.splitlines()

    def aliases(ps: list[str]) -> set[str]:
        return {a for p in ps for a in (p, f"d{p}")}

    loop = func.body[-2]
    assert isinstance(loop, ast.For)
    by_line = {s.lineno: s for s in loop.body}
    rh = next(k for k, line in enumerate(lines, 1) if line.strip().startswith("d_rh ="))
    wr = next(k for k, line in enumerate(lines, 1) if 'g["Wr"][:, :H]' in line)
    wn = next(k for k, line in enumerate(lines, 1) if 'g["Wn"][:, :H]' in line)
    bad, good = aliases(["Wr", "br"]), aliases(["Wz", "Wn", "bz", "bn", "Why", "by"])
    whole = flows_of(func, lines, bad, good)
    one = flows_of(func, lines, bad, good, cut=frozenset({"carry"}))
    assert flow_score(by_line[wr], whole) == 5.0 and flow_score(by_line[wn], whole) == -5.0
    assert flow_score(by_line[rh], whole) == 1.0  # through the carry, it feeds all
    assert flow_score(by_line[rh], one) == 5.0


def test_a_carried_term_gets_the_gate_it_passes_through() -> None:
    text, func = _split_func("d_rh * gamma_r + Wz", "d_rh + Wz")
    lines = code_lines(text)
    line = max(k for k, s in enumerate(lines, 1) if s.strip().startswith("carry ="))
    stmt = next(s for s in ast.walk(func) if isinstance(s, ast.Assign) and s.lineno == line)
    gru = ("Wz", "Wr", "Wn", "bz", "br", "bn", "Why", "by")
    got = {after.strip() for _, kind, after in gated_edits(stmt, func, lines, gru)
           if kind == "insert" and after is not None}
    assert "carry = dh * gamma_u + d_rh * gamma_r + Wz[:, :H].T @ d_u + Wr[:, :H].T @ d_r" \
        in got
    # products already carry their factors: none is added to them
    assert not any("d_u * gamma" in a for a in got)


def test_loop_indices_are_not_gates_but_unpacked_values_are() -> None:
    from bpttcheck.fix.gated_operators import _indices

    func = ast.parse(textwrap.dedent("""\
        def f(steps, xs):
            for i in range(4):
                pass
            for t, x in enumerate(xs):
                pass
            for z, f, i, g, o in reversed(steps):
                pass
            for k in sorted(keys):
                pass
        """)).body[0]
    assert isinstance(func, ast.FunctionDef)
    assert _indices(func) == {"i", "t", "k"}  # the last loop's f, i, g, o are data


def test_the_default_budget_is_the_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    """No --fix-budget: 3 s for a vanilla model, 6 s for an LSTM or GRU; given, as given."""
    import dataclasses as dc

    import bpttcheck.fix.report as report_module
    from bpttcheck.impl import ImplRequest
    from bpttcheck.spec import Spec

    @dc.dataclass(frozen=True)
    class Report:  # the fields of an ImplReport that the search reads
        causes: tuple[object, ...] = ()
        names: dict[str, str] = dc.field(default_factory=dict)
        precision: str = "float64"
        returns_loss: bool = True
        fix: object = None
        fix_reason: str | None = None

    seen: list[float] = []

    def fake(target: str, options: object, spec: object, budget: float,
             *args: object, **kwargs: object) -> fix.Outcome:
        seen.append(budget)
        return fix.Outcome(None, 0, 0, (), 0.0, ())

    monkeypatch.setattr(report_module, "search", fake)
    for cell, given, want in (("rnn", None, 3.0), ("lstm", None, 6.0), ("gru", None, 6.0),
                              ("gru", 1.5, 1.5)):
        request = ImplRequest("f.py:f", fix=True, fix_budget=given)
        report_module.attach(Report(), request, Spec(hidden=4, vocab=3, seq=4, cell=cell))
        assert seen[-1] == want, cell
