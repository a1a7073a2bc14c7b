"""Names for a sweep's settings: the model file and dataset, then whatever else differs."""

import functools
import json
from typing import Any

from omegaconf import OmegaConf

from lottery_init.config.paths import ROOT
from lottery_init.runs.compat import MODEL_BEFORE, flat
from lottery_init.runs.layout import UNSAFE

MODEL_DATA = {"shape": MODEL_BEFORE["input_shape"], "classes": MODEL_BEFORE["num_classes"]}
MODEL_FILES = {path.stem for path in (ROOT / "conf" / "model").glob("*.yaml")}


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
    # A model no conf/model file builds is named by its class, so its differing keys are named.
    files = all(model_name(s) in MODEL_FILES for s in settings)
    said = (*_data_facts(), "model.") if files else _data_facts()
    named = [k for k in differ if not k.startswith(said)]
    names = [_name(s, k, named) for s, k in zip(settings, keys, strict=True)]
    if len(set(names)) < len(names):
        # Models of one file built with other arguments: name every key that differs.
        names = [_name(s, k, differ) for s, k in zip(settings, keys, strict=True)]
    return dict(zip(settings, names, strict=True))


def _name(setting: str, keys: dict[str, Any], differ: list[str]) -> str:
    """Model file, dataset, then `key=value` for each of `differ`."""
    extra = [f"{d}={json.dumps(keys.get(d), separators=(',', ':'))}" for d in differ]
    return ", ".join([model_name(setting), keys["data.name"], *extra])


def folder_name(name: str) -> str:
    """A setting's name as a folder name: `lenet_mnist_prune.rate=0.1`."""
    return UNSAFE.sub("-", name.replace(", ", "_"))
