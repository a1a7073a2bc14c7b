"""The typed schema of a run config, registered in Hydra's ConfigStore as `train_schema`.

`conf/train.yaml` names it first in its defaults, so every composed config, each job of a
sweep included, is checked against these types (and rejects unknown keys) while Hydra composes
it. Values are checked by `lottery_init.config.validate.validate`. Importing it also registers the
`epochs_to_target` resolver that `conf/train.yaml`'s `epochs` calls.
"""

from dataclasses import dataclass, field
from typing import Any

from hydra.core.config_store import ConfigStore
from omegaconf import MISSING, OmegaConf

from lottery_init.pruning.schedule import epochs_to_target


@dataclass
class InitSchema:
    """A `conf/init/*.yaml` file; `name` is the file's name."""

    name: str = MISSING
    scheme: str = MISSING  # xavier or kaiming
    distribution: str = MISSING  # uniform or normal
    scale: float = 1.0
    gain: float = 1.0
    layer_scales: list[float] | None = None  # a multiplier per layer on top of the formula


@dataclass
class DataSchema:
    """A `conf/data/*.yaml` file (a dataset's facts) and how `conf/train.yaml` serves it."""

    _target_: str = MISSING
    name: str = MISSING
    shape: list[int] = MISSING
    classes: int = MISSING
    sizes: dict[str, int] = MISSING
    mean: list[float] = MISSING
    std: list[float] = MISSING
    md5: dict[str, str] = MISSING
    url: str | None = None
    download_md5: dict[str, str] = field(default_factory=dict)
    data_dir: str = MISSING
    batch_size: int = MISSING
    eval_batch_size: int = 10_000
    train_size: int | None = None
    test_size: int | None = None
    chunk: int = 50
    val_size: int | None = None


@dataclass
class IterativeSchema:
    """`conf/prune/imp.yaml` and the files that extend it: iterative pruning with rewinding."""

    _target_: str = MISSING
    rate: float = MISSING
    every_n_epochs: int = MISSING
    scope: str = "layer"  # layer or global
    method: str = "magnitude"  # magnitude, random or magnitude_increase
    rewind: str = "init"  # init, epoch_k or reinit
    rewind_epoch: int = 0  # k, for rewind=epoch_k
    layer_rates: list[float] | None = None
    # Stop once this fraction of the weights remains; `epochs: ${epochs_to_target:100}` then
    # derives the epochs (`lottery_init.pruning.schedule`).
    target_remaining: float | None = None


@dataclass
class AtInitSchema:
    """`conf/prune/magnitude_at_init.yaml` and the files that extend it: pruning at
    initialization, each method's own settings null where it has none."""

    _target_: str = MISSING
    remaining: float = MISSING
    every_n_epochs: int = MISSING
    method: str = MISSING  # magnitude_at_init, snip, grasp or synflow
    scope: str = "global"  # global or layer
    rewind: str = "init"  # init or reinit
    shuffle: bool = False
    images: int | None = None  # SNIP, GraSP
    images_per_class: int | None = None  # SNIP, GraSP: a class-balanced batch instead
    temperature: float | None = None  # GraSP
    iterations: int | None = None  # SynFlow


@dataclass
class CheckpointSchema:
    every_seconds: float = 60.0


@dataclass
class TrainSchema:
    init: InitSchema = MISSING
    data: DataSchema = MISSING
    # A `conf/model/*.yaml` file: its keys are its class's arguments, checked by building it.
    model: Any = MISSING
    # A `conf/prune/*.yaml` file, typed by the schema its defaults name (`prune_schema/`):
    # iterative pruning or pruning at initialization.
    prune: Any = MISSING
    checkpoint: CheckpointSchema = field(default_factory=CheckpointSchema)
    # The Lightning Trainer's own keyword arguments, which Lightning checks itself.
    trainer: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    epochs: int = 100
    lr: float = 0.0012
    batch_size: int = 60
    report: bool = True  # a --multirun ends by writing its sweep's report
    tf32: bool = False  # TF32 matrix products on GPUs; false pins full FP32


ConfigStore.instance().store(name="train_schema", node=TrainSchema)
# In a group of their own, so that `prune='glob(*)'` sweeps only the prune files.
ConfigStore.instance().store(group="prune_schema", name="iterative", node=IterativeSchema)
ConfigStore.instance().store(group="prune_schema", name="at_init", node=AtInitSchema)
# `conf/train.yaml` derives `epochs` through it, so it is registered wherever the schema is.
if not OmegaConf.has_resolver("epochs_to_target"):
    OmegaConf.register_new_resolver("epochs_to_target", epochs_to_target)
