"""The checks of a run's `prune` config: its keys are its callback's arguments, and its values
ones the callback can run."""

import inspect

from hydra.utils import get_class
from omegaconf import DictConfig

from lottery_init.pruning.at_init_methods import METHODS_AT_INIT
from lottery_init.pruning.callback import REWINDS
from lottery_init.pruning.masks import SCOPES
from lottery_init.pruning.one_shot import PruningAtInit
from lottery_init.pruning.scores import METHODS

# What the training code passes to every schedule itself.
GIVEN = ("seeds", "reinit")


def check_prune(cfg: DictConfig, layers: int) -> None:
    """Stop, with one sentence, on a `prune` config the schedule cannot run for a model of
    `layers` prunable layers."""
    prune = cfg.prune
    schedule = get_class(prune._target_)
    options = [p for p in inspect.signature(schedule).parameters if p not in GIVEN]
    unknown = [k for k in prune if k != "_target_" and k not in options]
    if unknown:
        raise ValueError(
            f"prune.{unknown[0]} is no option of {schedule.__name__}; its options: "
            f"{', '.join(options)}."
        )
    if schedule is PruningAtInit:
        held_out = cfg.data.get("val_size") or 0
        check_at_init(prune, cfg.epochs, (cfg.data.train_size or cfg.data.sizes.train) - held_out)
        check_per_class(prune)
    else:
        check_iterative(prune, layers)


def _one_of(prune: DictConfig, key: str, allowed: tuple[str, ...]) -> None:
    """Stop unless `prune[key]` is one of `allowed`."""
    if prune[key] not in allowed:
        raise ValueError(f"prune.{key} must be one of {allowed}, got {prune[key]!r}.")


def check_at_init(prune: DictConfig, epochs: int, train_images: int) -> None:
    """Pruning at initialization: a fraction to keep, a known method with its settings, and one
    round over every epoch."""
    if not 0 < prune.remaining < 1:
        raise ValueError(f"prune.remaining must lie in (0, 1), got {prune.remaining}.")
    _one_of(prune, "method", tuple(METHODS_AT_INIT))
    _one_of(prune, "scope", SCOPES)
    _one_of(prune, "rewind", ("init", "reinit"))
    if prune.every_n_epochs != epochs:
        raise ValueError(
            f"pruning at initialization trains one round, so prune.every_n_epochs must be the "
            f"run's epochs ({epochs}), got {prune.every_n_epochs}."
        )
    images = prune.get("images")
    if METHODS_AT_INIT[prune.method].needs_images and (
        images is None or not 1 <= images <= train_images
    ):
        raise ValueError(
            f"prune.method={prune.method} scores on prune.images training images, 1 to "
            f"{train_images}; got {images}."
        )
    if prune.method == "grasp" and not (prune.get("temperature") or 0) > 0:
        raise ValueError(f"prune.temperature must be positive, got {prune.get('temperature')}.")
    if prune.method == "synflow" and not (prune.get("iterations") or 0) >= 1:
        raise ValueError(f"prune.iterations must be 1 or more, got {prune.get('iterations')}.")


def check_per_class(prune: DictConfig) -> None:
    """A class-balanced batch: a positive number of images per class, for a method that scores
    on images."""
    per_class = prune.get("images_per_class")
    if per_class is None:
        return
    if not METHODS_AT_INIT[prune.method].needs_images:
        raise ValueError(f"prune.method={prune.method} scores on no images: no images_per_class.")
    if per_class < 1:
        raise ValueError(f"prune.images_per_class must be 1 or more, got {per_class}.")


def check_iterative(prune: DictConfig, layers: int) -> None:
    """Iterative pruning: rates, scope, method, rewind and its epoch."""
    if not 0 < prune.rate < 1:
        raise ValueError(f"prune.rate must lie in (0, 1), got {prune.rate}.")
    for key, allowed in (("scope", SCOPES), ("method", METHODS), ("rewind", REWINDS)):
        _one_of(prune, key, allowed)
    if prune.rewind == "epoch_k" and not 1 <= prune.rewind_epoch <= prune.every_n_epochs:
        raise ValueError(
            f"prune.rewind_epoch must lie in [1, prune.every_n_epochs = {prune.every_n_epochs}]"
            f" for rewind=epoch_k, got {prune.rewind_epoch}."
        )
    if prune.layer_rates is not None:
        if len(prune.layer_rates) != layers or not all(0 < r < 1 for r in prune.layer_rates):
            raise ValueError(
                f"prune.layer_rates must hold {layers} rates in (0, 1), one per layer, "
                f"got {list(prune.layer_rates)}."
            )
        if prune.scope != "layer":
            raise ValueError("prune.layer_rates needs prune.scope=layer.")
