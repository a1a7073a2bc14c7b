"""`masks.npz`: the mask each round of a run trained with, per layer, as packed bits."""

import io
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import torch

from lottery_init.files import atomic_write
from lottery_init.pruning.masks import pack_mask, unpack_mask
from lottery_init.runs.layout import MASKS

# A run's masks.npz arrays by name, as `keep_rounds` and `save_round` return them.
Entries = dict[str, np.ndarray]


def _round(round_: int) -> str:
    return f"round_{round_:03d}"


def _key(round_: int, layer: int) -> str:
    return f"{_round(round_)}/layer_{layer}"


def _entries(run_dir: Path) -> Entries:
    """Every array of a run's `masks.npz`, or none."""
    path = Path(run_dir) / MASKS
    if not path.exists():
        return {}
    with np.load(path) as npz:
        return {name: npz[name] for name in npz.files}


def _save(run_dir: Path, entries: Entries) -> None:
    """Write `masks.npz` whole and atomically, so a kill never leaves half of it."""
    buffer = io.BytesIO()
    np.savez(buffer, **entries)
    atomic_write(Path(run_dir) / MASKS, buffer.getvalue())


def save_round(
    run_dir: Path,
    round_: int,
    masks: Sequence[torch.Tensor | np.ndarray],
    entries: Entries | None = None,
) -> Entries:
    """Add round `round_`'s masks (one boolean `[out, in]` array per layer) to `masks.npz`,
    packed 8 entries to a byte in numpy's `packbits` order, with each layer's shape; return
    the file's arrays. Given `entries`, the arrays it holds (as last returned), the file is not
    read again."""
    entries = dict(_entries(run_dir) if entries is None else entries)
    for layer, mask in enumerate(masks):
        entries[_key(round_, layer)] = pack_mask(mask).numpy()
        entries[f"shape/layer_{layer}"] = np.array(mask.shape)
    _save(run_dir, entries)
    return entries


def keep_rounds(run_dir: Path, rounds: Iterable[int]) -> Entries:
    """Drop the masks of every round not in `rounds` (a resumed run trains those again);
    return the arrays kept."""
    kept = {_round(r) for r in rounds} | {"shape"}
    entries = _entries(run_dir)
    if not entries:
        return {}
    entries = {k: v for k, v in entries.items() if k.split("/")[0] in kept}
    _save(run_dir, entries)
    return entries


def load_masks(run_dir: Path) -> dict[int, list[np.ndarray]]:
    """A run's masks by round: one boolean array per layer."""
    entries = _entries(run_dir)
    layers = sum(k.startswith("shape/") for k in entries)
    shapes = [tuple(entries[f"shape/layer_{layer}"].tolist()) for layer in range(layers)]
    rounds = sorted(
        {int(k[len("round_") :].split("/")[0]) for k in entries if k.startswith("round_")}
    )
    return {
        r: [
            unpack_mask(torch.from_numpy(entries[_key(r, i)]), s).numpy()
            for i, s in enumerate(shapes)
        ]
        for r in rounds
    }
