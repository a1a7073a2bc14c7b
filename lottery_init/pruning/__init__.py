"""Pruning: the maths as pure functions (`masks.py`, `scores.py`, `saliency.py`,
`at_init_methods.py`) and the callbacks that schedule them (`callback.py`: iterative pruning
with rewinding; `one_shot.py`: pruning at initialization), both holding their masks through
`masking.MaskedTraining`."""

from lottery_init.pruning.callback import REWINDS, IterativeMagnitudePruning
from lottery_init.pruning.masking import MaskedTraining
from lottery_init.pruning.one_shot import PruningAtInit

__all__ = ["REWINDS", "IterativeMagnitudePruning", "MaskedTraining", "PruningAtInit"]
