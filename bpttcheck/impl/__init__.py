"""Check the user's own backward pass: load it safely, call it as an engine, diagnose it.

- :mod:`.loader`: parse a script with :mod:`ast` and execute only definitions
  and what they need (Python 2 files block by block);
- :mod:`.adapters`: the three calling conventions (module globals, a method,
  an explicit params dict) behind one ``call(params, batch)``;
- :mod:`.numeric`: numerical differentiation of the user's own loss;
- :mod:`.check`: hygiene, loss comparison, comparisons and diagnosis, for
  :func:`bpttcheck.checker.run`.
"""

from __future__ import annotations

from .adapters import ImplOptions, parse_names, parse_order
from .check import DeclaredLoss, ImplReport, ImplRequest, parse_loss

__all__ = ["DeclaredLoss", "ImplOptions", "ImplReport", "ImplRequest", "parse_loss",
           "parse_names", "parse_order"]
