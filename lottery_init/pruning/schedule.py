"""A pruning schedule that stops at a target fraction of weights remaining: how many prune events
and epochs it takes, the `epochs_to_target` resolver that derives `epochs`, and its checks."""

from omegaconf import DictConfig

# A fraction typed as a power, say 0.64 for 0.8², is met although 0.8 ** 2 computes to
# 0.6400000000000001: a relative slack far below any per-layer rounding keeps it met.
SLACK = 1e-9


def prune_events(rate: float, target: float) -> int:
    """The fewest prune events k at `rate` with (1 - rate)^k <= `target`: the nominal fraction
    (per-layer rounding of the counts moves the real one a hair either way)."""
    if not (0 < rate < 1 and 0 < target < 1):
        raise ValueError(f"rate and target must lie in (0, 1), got {rate} and {target}.")
    k = 1
    while (1 - rate) ** k > target * (1 + SLACK):
        k += 1
    return k


def target_epochs(rate: float, every_n_epochs: int, target: float) -> int:
    """Epochs of rounds 0..k, the last one trained at or below `target` (k = `prune_events`)."""
    return (prune_events(rate, target) + 1) * every_n_epochs


# Roots whose epochs are being derived: a read of the interval that comes back for epochs is a
# loop (prune=dense's `every_n_epochs: ${epochs}`).
_DERIVING: set[int] = set()


def epochs_to_target(default: int, *, _root_: DictConfig) -> int:
    """`${epochs_to_target:N}`: N without `prune.target_remaining`, else the epochs that reach it.

    Without a target no other prune key is read, so `prune=dense`'s `every_n_epochs: ${epochs}`
    resolves as before. With one, an interval that leads back to epochs (dense) gives 0 epochs
    and a 0 interval, whichever is resolved first, and `check_target` refuses them; N is given
    for a target or rate out of range, which `check_target` and `validate` refuse too."""
    prune = _root_.get("prune")
    target = None if prune is None else prune.get("target_remaining")
    if target is None or not (0 < prune.rate < 1 and 0 < target < 1):
        return default
    if id(_root_) in _DERIVING:
        return 0
    _DERIVING.add(id(_root_))
    try:
        every = prune.every_n_epochs
    finally:
        _DERIVING.discard(id(_root_))
    return target_epochs(prune.rate, every, target)


def check_target(cfg: DictConfig) -> None:
    """Stop, with one sentence, on a `prune.target_remaining` the schedule cannot stop at, or on
    explicit epochs other than the ones it takes."""
    prune, epochs = cfg.prune, cfg.epochs
    target = prune.get("target_remaining")
    if target is None:
        return
    if not 0 < target < 1:
        raise ValueError(f"prune.target_remaining must lie in (0, 1), or be null, got {target}.")
    if prune.get("layer_rates") is not None:
        raise ValueError(
            "prune.target_remaining needs the one prune.rate that every layer is pruned at, and "
            "prune.layer_rates prunes each layer at its own; set epochs instead."
        )
    if prune.every_n_epochs < 1:
        raise ValueError(
            f"prune.target_remaining={target} needs prune events every prune.every_n_epochs >= 1 "
            f"epochs, got {prune.every_n_epochs}; prune=dense, one round that never prunes, "
            "reaches no target."
        )
    needed = target_epochs(prune.rate, prune.every_n_epochs, target)
    if epochs != needed:
        raise ValueError(
            f"prune.target_remaining={target} at rate {prune.rate} every "
            f"{prune.every_n_epochs} epochs takes {prune_events(prune.rate, target)} prune "
            f"events, so epochs must be {needed}, not {epochs} (or leave epochs unset)."
        )
