"""Point at the line: search single edits of the user's function that make its gradient exact.

When ``--impl`` finds the user's backward pass wrong, bpttcheck knows the right
answer exactly (the reference engine), so it can *try* small edits of their own
source and keep only those that turn the gradient into the right one.

**Candidates** (:func:`candidates`) are the mutation harness's operators
(``bench/mutants.py``) run backwards, generated over the AST of the target
function and the helpers it calls in the same file, and written back as the
replacement of ONE whole physical line, as text: only the characters of the
changed node move, so indentation, comments and Python 2 spellings stay as
written. They are: add or remove ``.T``; swap the operands of a matrix product
or an einsum's output; an index ``[t]`` -> ``[t-1]``/``[t+1]`` and back; a loop
bound moved by one (``range``, ``>``/``>=``); a missing ``+ dhnext`` term
(any carried variable of the function); ``=`` <-> ``+=``, ``+=`` <-> ``-=``; a
sign (``-x`` -> ``x``, ``a - b`` <-> ``a + b``); a constant scale removed
(``/ len(x)``, ``* 0.5``); a stray ``np.clip`` removed; a variable swapped with
another of the same role (``dh``/``dhraw``, ``seq_in``/``seq_out``); the loop
direction (``reversed(range(..))`` <-> ``range(..)``); the tanh derivative
``(1 - h)`` or ``(1 - h)**2`` -> ``(1 - h*h)``; one statement deleted.

They are **ranked** by how well they could explain what was measured (the
unedited copy is run first, to see which parameters are wrong): a backward slice
over names, from the lines that write each parameter's gradient (``dNAME``, a
``"NAME"`` key), puts lines that feed only the wrong gradients first and lines
that feed only right ones last; when exactly Wxh, Whh and bh are wrong, the line
that writes the carried gradient gets a bonus; common bug kinds come before rare
ones.

**Verification** (:func:`search`), in two stages, both in a child process through
the same loader as any user code (:meth:`RemoteCode.reload`), on a copy written to a
temporary directory (never over the user's file; a notebook's copy is a notebook,
without its outputs):

1. *screen*: the copy is called at :func:`bpttcheck.model.second_point` first (other
   seed, non-zero biases, random hprev: the stricter point), then at the spec's own;
   it passes when, at both, its loss is the declared loss and every element of its
   gradient agrees with the reference engine within the analytic tolerance.
2. *the whole check*: a copy that passes the screen is checked exactly as ``--impl``
   checks the user's file (:func:`bpttcheck.impl.check.check_impl`, with the run's own
   engines at the spec's point, the user's ``--impl-*`` options and declared loss):
   loss and gradient on every element at both points, numerical differentiation of
   its own loss, determinism, returned states. Only a copy that gets the passing
   verdict there is a *verified* fix.

When no single edit does that, the best *partial* fix makes some wrong parameters
exact and no parameter worse at both points (screen), and the whole check of its copy
names what remains wrong (``remaining``: the parameters with a failing comparison at
either point, and the loss); pairs of edits are tried only with the budget that is
left. A whole check starts only within ``--fix-budget`` (the first partial fix's
excepted) but is never cut short: it takes as long as the user's own check took.
Nothing unverified is ever returned.

**Layer functions** (``--impl FILE.py:rnn_backward``, :func:`search_layer`) are searched
the same way: the backward and the helpers it calls are edited, each copy is screened at
two points (the layer check's seeded point for the spec's seed and for another seed: their
forward against ours, every element of their backward's gradient of L = <G, h> against
the layer reference) and then judged by the whole layer check
(:func:`bpttcheck.layers.check_layer`) at both.

**Every model the check knows** is searched the same way (:class:`.trials.Trials`): the
truth at each point is the reference gradient of the declared model of the spec's cell
(:func:`bpttcheck.impl.declared.declared`), over the parameters the problem has (a
bias-free model's three, an LSTM's or GRU's own), a batch's summed over its columns; the
copy is loaded with the cell, the batch and the bias-free flag as the check loads it. A
gated cell (and a gated layer) adds gate-specific candidates (:mod:`.gated_operators`:
sigmoid and tanh derivative forms, ``c`` for ``tanh(c)``, the forget gate's carry, one
gate's activation for another's, the stacked gates' order, the GRU's ``z`` / ``1 - z``),
ranked up; a gated layer's gradients are compared gate by gate, in the gate order its
forward reads.

**Notebooks** are searched as the loader reads them, their code cells joined (magics
blanked out); each edit is named by the code cell's number, as the loader's messages
count cells, and the line within that cell; ``--fix-out`` writes the whole notebook
with only those lines changed (:func:`patched`).
"""

from .document import Edit, Fix, Outcome, apply, apply_cells, notebook_json, patched, unified
from .operators import Candidate, candidates
from .report import attach, for_layer, heading, section
from .search import BUDGET, GATED_BUDGET, budget_for, ranking, search, search_layer

__all__ = ["BUDGET", "GATED_BUDGET", "Candidate", "Edit", "Fix", "Outcome", "apply",
           "apply_cells", "attach", "budget_for", "candidates", "for_layer", "heading",
           "notebook_json", "patched", "ranking", "search", "search_layer", "section",
           "unified"]
