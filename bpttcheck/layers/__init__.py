"""Layer functions as a first-class form: a vanilla, LSTM or GRU layer's forward/backward pair.

:mod:`.reference`, :mod:`.lstm_reference` and :mod:`.gru_reference` are the
layers in our layout and their explicit double-sum gradients; :mod:`.styles`
the cs231n and Coursera ways of writing them; :mod:`.check` the check of a
user's pair (``--impl FILE.py:rnn_backward``, ``lstm_backward``,
``gru_backward``); :mod:`.gates` a gated layer's verdict gate by gate.
"""

from __future__ import annotations

from .check import LayerReport, check_layer, is_layer_target, load_pair, partner_name

__all__ = ["LayerReport", "check_layer", "is_layer_target", "load_pair", "partner_name"]
