"""Layer functions as a first-class form: a vanilla RNN layer's forward/backward pair.

:mod:`.reference` is the layer in our layout and its explicit double-sum
gradient; :mod:`.styles` the cs231n and Coursera ways of writing it;
:mod:`.check` the check of a user's pair (``--impl FILE.py:rnn_backward``).
"""

from __future__ import annotations

from .check import LayerReport, check_layer, is_layer_target, load_pair, partner_name

__all__ = ["LayerReport", "check_layer", "is_layer_target", "load_pair", "partner_name"]
