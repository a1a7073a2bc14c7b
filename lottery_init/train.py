"""`python -m lottery_init.train`: the Hydra command over a plain, testable
`training.population.train`."""

from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.errors import CompactHydraException, ConfigCompositionException
from omegaconf import DictConfig

from lottery_init.config import schema  # noqa: F401 (registers `train_schema` with Hydra)
from lottery_init.config.validate import validate
from lottery_init.data.dataset import DataError
from lottery_init.sweep.ownership import own_run
from lottery_init.training.population import train
from lottery_init.training.process import prepare_training_process


def round_table(info: dict) -> str:
    """Test accuracy at the end of each round against weights remaining, as text."""
    lines = ["round  remaining  test_acc"]
    lines += [
        f"{r['round']:>5}  {r['remaining']:>8.2%}  {r['test_acc']:>8.2%}" for r in info["rounds"]
    ]
    return "\n".join(lines)


@hydra.main(version_base="1.3", config_path="../conf", config_name="train")
def main(cfg: DictConfig) -> None:
    """Train the configured run into Hydra's output folder and print its round table."""
    prepare_training_process()
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        validate([cfg])
        lock = own_run(run_dir, cfg)
    except ValueError as error:
        # Hydra prints a composition error as its one sentence, without a traceback.
        raise ConfigCompositionException(str(error)) from None
    try:
        info = train(cfg, run_dir)
    except DataError as error:
        # Its sentence says what to do; the tracebacks through Lightning's hooks would not.
        raise CompactHydraException(str(error)) from None
    finally:
        lock.release()
    print(f"\n{round_table(info)}\n\nrun folder: {run_dir}")


if __name__ == "__main__":
    main()
