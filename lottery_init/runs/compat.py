"""What a recorded run means today: a `run.json` config as flat keys, with the keys added since
it was written and the classes renamed or moved since, so runs of earlier versions are compared,
grown and reported as they were meant."""

import functools
from typing import Any

from omegaconf import OmegaConf

from lottery_init.config.paths import ROOT

# Settings that cannot change a run's numbers, so a finished run is reused whatever they say.
NOT_RESULTS = ("report", "checkpoint")
# `_target_` paths of classes that moved, old to new, so a sweep written before a move grows.
MOVED = {"lottery_init.data.MNISTDataModule": "lottery_init.data.ImageDataModule"}
# Classes whose name keys state in a checkpoint, by their names before and after a rename.
RENAMED = {"MNISTDataModule": "ImageDataModule"}
# What a run's model config meant before it named its class and its dataset's shape:
# LeNet-300-100 on MNIST.
MODEL_BEFORE = {
    "_target_": "lottery_init.models.LeNet",
    "input_shape": [1, 28, 28],
    "num_classes": 10,
    "hidden": [300, 100],
    "negative_slope": 0.05,
}


def recorded(config: dict[str, Any]) -> dict[str, Any]:
    """A run.json config as flat keys, each key added since it was recorded at the value that
    reproduces it, and classes that moved at their new path."""
    keys = _before_added_keys("name" in config.get("data", {})) | flat(config)
    return {k: MOVED.get(v, v) if k.endswith("_target_") else v for k, v in keys.items()}


@functools.cache
def _before_added_keys(named_data: bool) -> dict[str, Any]:
    """Keys added to the run config after runs were first recorded, with the values that give
    what runs without them did: no validation split, one pruning rate, no target, full FP32; and
    a run.json without `data.name` (`named_data` false) was trained on MNIST, whose facts are
    `conf/data/mnist.yaml`, with a model of MNIST's input shape and classes."""
    before = {"tf32": False, "data.val_size": None}
    before |= {"prune.layer_rates": None, "prune.target_remaining": None}
    before |= {"prune.images_per_class": None}
    if named_data:
        return before
    mnist = OmegaConf.to_container(OmegaConf.load(ROOT / "conf" / "data" / "mnist.yaml"))
    model = {"input_shape": mnist["shape"], "num_classes": mnist["classes"]}
    return before | flat(mnist, "data.") | flat(model, "model.")


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys and leaf values of a nested config, without the settings in NOT_RESULTS."""
    out = {}
    for key, value in config.items():
        if not prefix and key in NOT_RESULTS:
            continue
        if isinstance(value, dict):
            out |= flat(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out
