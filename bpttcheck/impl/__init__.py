"""Check the user's own backward pass: load it safely, call it as an engine, diagnose it.

- :mod:`.source`: read a file into top-level statements (Python 2 block by block);
- :mod:`.evaluator`: bpttcheck's own interpreter for top-level values (an
  allowlist by object identity, with limits);
- :mod:`.loader`: definitions, evaluated values and imports, never executing
  the script; local modules by the same rules;
- :mod:`.forms`: the three calling conventions (module globals, a method, an
  explicit params dict) behind one ``call(params, batch)``; :mod:`.returns`
  unpacks what a call returned, :mod:`.hygiene` checks what it did;
- :mod:`.runner`: file and module targets run in a child process;
- :mod:`.adapters`: the public names of the above in one place;
- :mod:`.numeric`: numerical differentiation of the user's own loss;
- :mod:`.check`: hygiene, loss comparison, comparisons and diagnosis, for
  :func:`bpttcheck.checker.run`.
"""

from __future__ import annotations

from .adapters import ImplOptions, parse_names, parse_order
from .check import DeclaredLoss, ImplReport, ImplRequest, parse_loss

__all__ = ["DeclaredLoss", "ImplOptions", "ImplReport", "ImplRequest", "parse_loss",
           "parse_names", "parse_order"]
