"""A Hydra callback: every `--multirun` ends by writing its sweep's report."""

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from lottery_init.report.command import write_reports

log = logging.getLogger(__name__)


class ReportAtSweepEnd(Callback):
    """Writes `<sweep dir>/report/` once every job has ended, whichever launcher ran them
    (skipped with `report=false`). A report that fails is logged and changes nothing else: the
    runs' files and the command's exit status stay as the sweep left them."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        if not config.get("report", True):
            return
        sweep_dir = Path(str(config.hydra.sweep.dir))
        try:
            outs = write_reports(sweep_dir)
        except Exception as error:
            log.warning(
                f"The report of {sweep_dir} was not written ({type(error).__name__}: {error}); "
                f"the runs are unaffected. Try: python -m lottery_init.report {sweep_dir}"
            )
            return
        for out in outs:
            print(f"report: {out / 'report.md'}")
