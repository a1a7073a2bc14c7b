"""`hydra/sweeper=checked`: Hydra's basic sweeper, checking every job's values before any job."""

from collections.abc import Sequence

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper
from hydra.core.hydra_config import HydraConfig
from hydra.errors import ConfigCompositionException

from lottery_init.config import run_config, validate


class CheckedSweeper(BasicSweeper):
    """Composes and validates every job of a batch before the launcher starts the first one, so
    that a bad value in the last job of a sweep costs seconds, not the hours of the jobs before."""

    def validate_batch_is_legal(self, batch: Sequence[Sequence[str]]) -> None:
        current = HydraConfig.instance().cfg
        try:
            for overrides in batch:
                cfg = self.hydra_context.config_loader.load_sweep_config(
                    self.config, list(overrides)
                )
                try:
                    validate([run_config(cfg)])
                except ValueError as error:
                    # Hydra prints a composition error as its message alone, with no traceback.
                    job = " ".join(overrides)
                    raise ConfigCompositionException(f"{error} (job: {job})") from None
        finally:
            HydraConfig.instance().cfg = current
