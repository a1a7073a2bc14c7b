"""The stability pair test checked by simulation under a stated noise model:
`python -m lottery_init.report.stability` prints its false-positive rate and power."""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lottery_init.report.statistics.signed_rank import signed_rank_p
from lottery_init.report.statistics.t_tests import ALPHA


@dataclass(frozen=True)
class NoiseModel:
    """Breaking rounds of two methods on the same seeds: per seed a shared effect N(0, shared²)
    (same data order and standard draws), per method and seed its own noise N(0, own²), method
    a shifted by `shift` rounds; rounded to whole rounds and clipped to [0, last]."""

    mean: float = 15.5  # breaking rounds around 14-17 of 19, as in the study's sweeps
    shared: float = 1.0
    own: float = 0.8  # so a method's per-seed sd is sqrt(1.0² + 0.8²) = 1.28 rounds
    last: int = 19

    def draw(
        self, gen: np.random.Generator, seeds: int, shift: float, sims: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """`sims` simulated sweeps: breaking rounds of a and of b, each [sims, seeds]."""
        base = self.mean + gen.normal(0.0, self.shared, (sims, seeds))
        a = base + shift + gen.normal(0.0, self.own, (sims, seeds))
        b = base + gen.normal(0.0, self.own, (sims, seeds))
        return np.clip(np.rint(a), 0, self.last), np.clip(np.rint(b), 0, self.last)


MODEL = NoiseModel()


def rejection_rate(
    seeds: int, shift: float, sims: int = 2000, seed: int = 0, model: NoiseModel = MODEL
) -> float:
    """Share of simulated sweeps in which the pair test rejects at ALPHA; a sweep with too few
    differing seeds for a test counts as not rejected, as in the report."""
    a, b = model.draw(np.random.default_rng(seed), seeds, shift, sims)
    return float(np.mean(signed_rank_p(a - b) < ALPHA))


def main(argv: Sequence[str] | None = None) -> None:
    """Command line: the pair test's false-positive rate and power under the noise model."""
    parser = argparse.ArgumentParser(
        prog="python -m lottery_init.report.stability",
        description="False-positive rate and power of the test on breaking rounds, simulated.",
    )
    parser.add_argument("--sims", type=int, default=2000, help="simulated sweeps per case")
    parser.add_argument("--seed", type=int, default=0, help="the simulation's random seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 20], help="seeds per sweep")
    parser.add_argument("--shift", type=float, default=1.0, help="true shift in rounds")
    args = parser.parse_args(argv)
    m = MODEL
    print(
        f"noise model: breaking round = round({m.mean:g} + seed effect N(0, {m.shared:g}²) "
        f"+ own noise N(0, {m.own:g}²) [+ shift for a]), clipped to [0, {m.last}]; "
        f"{args.sims} simulated sweeps per case, two-sided at p < {ALPHA:g}"
    )
    for n in args.seeds:
        false_positive = rejection_rate(n, 0.0, args.sims, args.seed)
        power = rejection_rate(n, args.shift, args.sims, args.seed)
        print(
            f"{n} seeds: false positives {false_positive:.1%}, "
            f"power for a {args.shift:g}-round shift {power:.1%}"
        )


if __name__ == "__main__":
    main()
