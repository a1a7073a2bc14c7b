"""Seconds per member-epoch of a stacked population of P members, and the speed-up over P = 1.

For each P, two paths train P LeNet-300-100 members on MNIST (fused Adam, batch 60) for a
fixed number of steps, on the default device (CUDA when there is one): a plain stacked loop
(the same model and batches, masks multiplied in after each step) and the project's Trainer
path (`train_population`, validation off, so only training steps are timed). Each path is
timed on its second epoch of `--steps` steps; a full epoch is 1000 steps.
Usage: python benchmarks/population.py [--steps N] [--sizes 1 2 4 ...] [--model lenet5]
"""

import argparse
import tempfile
import time
from pathlib import Path

import torch
from hydra.utils import instantiate
from torch.nn import functional as F

from lottery_init.config.compose import compose
from lottery_init.config.paths import ROOT
from lottery_init.data.batches import PopulationBatches
from lottery_init.models.initializers import InitMethod, initialize_member
from lottery_init.pruning.masks import prunable
from lottery_init.runs.results import read_metrics
from lottery_init.seeding import generator
from lottery_init.training.population import train_population
from lottery_init.training.process import prepare_training_process

STEPS_PER_EPOCH = 1000  # 60,000 images in batches of 60
CHUNK = 50


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def plain_seconds(population: int, steps: int, device: torch.device, model_name: str) -> float:
    """Seconds for `steps` steps of a plain stacked loop (the second of two such epochs)."""
    cfg = compose([f"model={model_name}"])
    data = instantiate(cfg.data, seeds=[0], data_dir=ROOT / "data")
    data.setup()
    x, y = data.train_x.to(device), data.train_y.to(device)
    model = instantiate(cfg.model, population=population).to(device)
    method = InitMethod("xavier_normal", "xavier", "normal")
    for member in range(population):
        initialize_member(model, member, method, member)
    weights = prunable(model)
    masks = [torch.ones_like(w) for w in weights]
    optimizer = torch.optim.Adam(model.parameters(), lr=0.0012, fused=True)
    gens = [generator(member, "data") for member in range(population)]
    for _ in range(2):
        batches = PopulationBatches(x[: steps * 60], y[: steps * 60], 60, gens, CHUNK)
        synchronize(device)
        start = time.perf_counter()
        for chunk in batches:
            for xb, yb in chunk:
                logits = model(xb)
                loss = F.cross_entropy(logits.flatten(0, 1), yb.flatten()) * population
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                with torch.no_grad():
                    torch._foreach_mul_(weights, masks)
        synchronize(device)
        seconds = time.perf_counter() - start
    return seconds


def trainer_seconds(population: int, steps: int, model_name: str) -> float:
    """Seconds for `steps` steps through `train_population` (its second epoch)."""
    overrides = ["epochs=2", "prune.every_n_epochs=2", f"data.train_size={steps * 60}"]
    overrides.append(f"model={model_name}")
    overrides += ["+trainer.limit_val_batches=0", "+trainer.enable_progress_bar=false"]
    cfgs = [compose([*overrides, f"seed={seed}"]) for seed in range(population)]
    with tempfile.TemporaryDirectory() as tmp:
        dirs = [Path(tmp) / str(seed) for seed in range(population)]
        train_population(cfgs, dirs, checkpoint_dir=Path(tmp) / "ckpt")
        return read_metrics(dirs[0])[-1]["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 2, 4, 8, 16, 32, 88])
    parser.add_argument("--model", default="lenet", help="a file of conf/model/ (default lenet)")
    args = parser.parse_args()
    prepare_training_process()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    name = (
        torch.cuda.get_device_name()
        if device.type == "cuda"
        else f"{torch.get_num_threads()} CPU threads"
    )
    print(f"torch {torch.__version__} on {name}, {args.model}, {args.steps} steps per timed epoch")
    print(
        "    P   plain s/member-epoch  speed-up   trainer s/member-epoch  speed-up   trainer/plain"
    )
    base = None
    for size in args.sizes:
        scale = STEPS_PER_EPOCH / args.steps / size
        plain = plain_seconds(size, args.steps, device, args.model) * scale
        ours = trainer_seconds(size, args.steps, args.model) * scale
        base = base or (plain, ours)
        print(
            f"{size:>5}   {plain:>20.3f}  {base[0] / plain:>7.2f}x   {ours:>22.3f}  "
            f"{base[1] / ours:>7.2f}x   {ours / plain:>13.2f}"
        )
    if args.sizes[-1] == 88:
        print(
            f"projected study grid (88 runs x 100 epochs) at P = 88: {ours * 88 * 100 / 60:.1f} min"
        )


if __name__ == "__main__":
    main()
