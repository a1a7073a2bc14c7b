"""What a run is, as structured keys read from its config: its arm (init method, scale, layer
scales, pruning variant) and its setting (everything else that can change its numbers)."""

import functools
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from omegaconf import OmegaConf

from lottery_init.config import ROOT
from lottery_init.jobs import MOVED, NOT_RESULTS, UNSAFE, before_added_keys, flat

# What a run's model config meant before it named its class and its dataset's shape:
# LeNet-300-100 on MNIST.
MODEL_BEFORE = {
    "_target_": "lottery_init.models.LeNet",
    "input_shape": [1, 28, 28],
    "num_classes": 10,
    "hidden": [300, 100],
    "negative_slope": 0.05,
}
# Config keys that make up the arm, not the setting, and keys that cannot change a run's numbers
# (where files are read from, how the Trainer reports progress and on which device it runs).
ARM_KEYS = ("init", "seed", "prune.method", "prune.rewind", "prune.rewind_epoch")
NOT_SETTING = (*NOT_RESULTS, "trainer", "data.data_dir")
FORMULA = ("scheme", "distribution", "scale", "gain")


@dataclass(frozen=True)
class Arm:
    """An init method with its scale and layer scales, and the pruning variant it runs."""

    init: str
    scheme: str
    distribution: str
    scale: float = 1.0
    gain: float = 1.0
    layer_scales: tuple[float, ...] | None = None
    method: str = "magnitude"
    rewind: str = "init"
    rewind_epoch: int = 0

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
            ratio = Fraction(self.scale).limit_denominator(64)
            name = f"{self.family} ×{ratio}" + (f", gain {self.gain:g}" if self.gain != 1 else "")
        return f"{name} ({self.variant})" if self.variant else name

    @property
    def variant(self) -> str:
        """What sets the arm apart from the study's protocol: pruning method and rewind (e.g.
        "random"), and per-layer init scales (e.g. "layer scales 1.2027/1/1")."""
        parts = [self.method] if self.method != "magnitude" else []
        if self.layer_scales is not None:
            parts.append("layer scales " + "/".join(f"{s:g}" for s in self.layer_scales))
        if self.rewind == "reinit":
            parts.append("reinit")
        elif self.rewind == "epoch_k":
            parts.append(f"rewind to epoch {self.rewind_epoch}")
        return ", ".join(parts)


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
    )


def setting_of(config: dict[str, Any]) -> str:
    """The run's setting as a canonical JSON string of flat keys (everything but its arm and
    what cannot change its numbers), with the model config an old run predates."""
    config = config | {"model": MODEL_BEFORE | config.get("model", {})}
    # A key added after a run was recorded reads as the value that reproduces it, so a grown
    # sweep's old and new runs share their setting.
    keys = before_added_keys() | flat(config)
    keys = {k: MOVED.get(v, v) if k.endswith("_target_") else v for k, v in keys.items()}
    keep = {
        k: v
        for k, v in keys.items()
        if not any(k == x or k.startswith(f"{x}.") for x in (*ARM_KEYS, *NOT_SETTING))
    }
    return json.dumps(keep, sort_keys=True)


MODEL_DATA = {"shape": MODEL_BEFORE["input_shape"], "classes": MODEL_BEFORE["num_classes"]}


@functools.cache
def model_name(setting: str) -> str:
    """The `conf/model/*.yaml` file that builds this setting's model, else its class's name."""
    keys = json.loads(setting)
    model = {k.removeprefix("model."): v for k, v in keys.items() if k.startswith("model.")}
    data = {k: keys.get(f"data.{k}", v) for k, v in MODEL_DATA.items()}
    for path in sorted((ROOT / "conf" / "model").glob("*.yaml")):
        built = OmegaConf.create({"data": data, "model": OmegaConf.load(path)})
        if flat(OmegaConf.to_container(built, resolve=True)["model"]) == model:
            return path.stem
    return model["_target_"].rsplit(".", 1)[-1]


@functools.cache
def _data_facts() -> tuple[str, ...]:
    """The keys a `conf/data/*.yaml` file states: a dataset's facts, which its name stands for."""
    facts = OmegaConf.load(ROOT / "conf" / "data" / "mnist.yaml")
    return tuple(f"data.{k}" for k in facts)  # prefixes: `data.md5` covers each file's sum


def setting_names(settings: list[str]) -> dict[str, str]:
    """A short, distinct name per setting: its model and dataset, then every other key whose
    value differs between the settings (e.g. `lenet, mnist, prune.rate=0.1`)."""
    keys = [json.loads(s) for s in settings]
    differ = [
        k for k in sorted(set().union(*keys)) if len({json.dumps(s.get(k)) for s in keys}) > 1
    ]
    named = [k for k in differ if not k.startswith(("model.", *_data_facts()))]
    names = [_name(s, k, named) for s, k in zip(settings, keys, strict=True)]
    if len(set(names)) < len(names):
        # Models of one file built with other arguments: name every key that differs.
        names = [_name(s, k, differ) for s, k in zip(settings, keys, strict=True)]
    return dict(zip(settings, names, strict=True))


def _name(setting: str, keys: dict[str, Any], differ: list[str]) -> str:
    """Model file, dataset, then `key=value` for each of `differ`."""
    extra = [f"{d}={json.dumps(keys.get(d))}" for d in differ]
    return ", ".join([model_name(setting), keys["data.name"], *extra])


def folder_name(name: str) -> str:
    """A setting's name as a folder name: `lenet_mnist_prune.rate=0.1`."""
    return UNSAFE.sub("-", name.replace(", ", "_"))
