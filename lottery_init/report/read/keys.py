"""What a run is, as structured keys read from its config: its arm (init method, scale, layer
scales, pruning variant) and its setting (everything else that can change its numbers)."""

import functools
import json
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from omegaconf import OmegaConf

from lottery_init.config.paths import ROOT
from lottery_init.runs.compat import MODEL_BEFORE, NOT_RESULTS, recorded

# Config keys that make up the arm, not the setting, and keys that cannot change a run's numbers:
# where files are read from, and the Trainer's reporting and device choice (a sweep never mixes
# kinds of device: `sweep.folders.conflict` refuses it).
ARM_KEYS = ("init", "seed", "prune.method", "prune.rewind", "prune.rewind_epoch", "prune.shuffle")
TRAINER_NOT_RESULTS = ("accelerator", "devices", "logger", "enable_progress_bar")
TRAINER_NOT_RESULTS += ("enable_checkpointing", "enable_model_summary", "num_sanity_val_steps")
NOT_SETTING = (*NOT_RESULTS, "data.data_dir", *(f"trainer.{k}" for k in TRAINER_NOT_RESULTS))
FORMULA = ("scheme", "distribution", "scale", "gain")


@dataclass(frozen=True)
class Arm:
    """An init method with its scale and layer scales, and the pruning variant it runs."""

    init: str = field(compare=False)  # the file a run named; the formula below is the arm
    scheme: str
    distribution: str
    scale: float = 1.0
    gain: float = 1.0
    layer_scales: tuple[float, ...] | None = None
    method: str = "magnitude"
    rewind: str = "init"
    rewind_epoch: int = 0
    shuffle: bool = False  # pruning at initialization's control: the mask shuffled within layers

    @property
    def family(self) -> str:
        """The formula without its scale, e.g. `xavier_normal`."""
        return f"{self.scheme}_{self.distribution}"

    @property
    def base(self) -> "Arm":
        """The same arm without layer scales or pruning variant: what it is compared with."""
        return Arm(self.init, self.scheme, self.distribution, self.scale, self.gain)

    @property
    def label(self) -> str:
        """The init file whose formula this is (e.g. `xavier_normal_half`), else the family and
        its scale (`xavier_normal ×1/8`), plus the variant when there is one."""
        name = init_name(self.scheme, self.distribution, self.scale, self.gain)
        if name is None:
            name = f"{self.family} {times(self.scale)}"
            name += f", gain {self.gain:g}" if self.gain != 1 else ""
        return f"{name} ({self.variant})" if self.variant else name

    @property
    def variant(self) -> str:
        """What sets the arm apart from the study's protocol: pruning method, its shuffled control
        and rewind (e.g. "random", "snip, shuffled"), and per-layer init scales (e.g. "layer
        scales 1.2027/1/1")."""
        parts = [self.method] if self.method != "magnitude" else []
        parts += ["shuffled"] if self.shuffle else []
        if self.layer_scales is not None:
            parts.append("layer scales " + "/".join(f"{s:g}" for s in self.layer_scales))
        if self.rewind == "reinit":
            parts.append("reinit")
        elif self.rewind == "epoch_k":
            parts.append(f"rewind to epoch {self.rewind_epoch}")
        return ", ".join(parts)


def times(scale: float) -> str:
    """`×1/8` where a small fraction is the scale exactly, else `×0.3`."""
    ratio = Fraction(scale).limit_denominator(64)
    return f"×{ratio}" if float(ratio) == scale else f"×{scale:g}"


@functools.cache
def _init_files() -> dict[tuple, str]:
    """The formula of every `conf/init/*.yaml` file, to its name."""
    files = sorted((ROOT / "conf" / "init").glob("*.yaml"))
    formulas = {f.stem: OmegaConf.to_container(OmegaConf.load(f)) for f in files}
    return {tuple(c.get(k, 1.0) for k in FORMULA): name for name, c in formulas.items()}


def init_name(scheme: str, distribution: str, scale: float, gain: float) -> str | None:
    """The init file stating this formula, or None when no file does."""
    return _init_files().get((scheme, distribution, float(scale), float(gain)))


def arm_of(name: str, config: dict[str, Any]) -> Arm:
    """A run's arm from its config (an old run without a formula in it: its init file's)."""
    init, prune = dict(config.get("init", {})), config.get("prune", {})
    if "scheme" not in init:
        known = {v: k for k, v in _init_files().items()}
        if name not in known:
            raise ValueError(f"a run of init {name!r} records no formula, and conf/init has none")
        init |= dict(zip(FORMULA, known[name], strict=True))
    scales = init.get("layer_scales")
    return Arm(
        name,
        init["scheme"],
        init["distribution"],
        float(init.get("scale", 1.0)),
        float(init.get("gain", 1.0)),
        None if scales is None else tuple(scales),
        prune.get("method", "magnitude"),
        prune.get("rewind", "init"),
        int(prune.get("rewind_epoch", 0)),
        bool(prune.get("shuffle", False)),
    )


def setting_of(config: dict[str, Any]) -> str:
    """The run's setting as a canonical JSON string of flat keys (everything but its arm and
    what cannot change its numbers), with the model config an old run predates."""
    config = config | {"model": MODEL_BEFORE | config.get("model", {})}
    # A key added after a run was recorded reads as the value that reproduces it, so a grown
    # sweep's old and new runs share their setting.
    keep = {
        k: v
        for k, v in recorded(config).items()
        if not any(k == x or k.startswith(f"{x}.") for x in (*ARM_KEYS, *NOT_SETTING))
    }
    return json.dumps(keep, sort_keys=True)
