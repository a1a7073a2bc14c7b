"""Pruning: the mask maths as pure functions (`masks.py`) and the callback that schedules them
(`callback.py`: iterative pruning with rewinding)."""

from lottery_init.pruning.callback import REWINDS, IterativeMagnitudePruning

__all__ = ["REWINDS", "IterativeMagnitudePruning"]
