"""How a sweep with failed populations ends: one line that names each and says how to go on."""

from collections.abc import Sequence

from hydra.errors import CompactHydraException


class SweepFailed(CompactHydraException):
    """Populations of a sweep that failed: Hydra ends the multirun with this message alone,
    since each failure's own error was logged when it happened."""


class JobFailed(CompactHydraException):
    """A population's job that failed, in one line (the end of its stderr is logged)."""


def sweep_failed(failures: Sequence[tuple[str, Exception]], total: int) -> SweepFailed:
    """The end of a sweep of `total` populations whose `failures` are (label, error) pairs."""
    named = [
        str(error) if isinstance(error, JobFailed) else f"{label} ({type(error).__name__}, above)"
        for label, error in failures
    ]
    one = len(failures) == 1
    them, checkpoint = ("it", "its checkpoint") if one else ("them", "their checkpoints")
    return SweepFailed(
        f"{len(failures)} of {total} population(s) failed: {'; '.join(named)}. Fix what stopped "
        f"{them} and run the same command again: finished runs are not trained again, and "
        f"stopped ones resume from {checkpoint}."
    )
