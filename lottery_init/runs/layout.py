"""Every name a run folder and a sweep folder hold, defined once (as open_lth's
`foundations/paths.py` does): the files a run writes, its checkpoints, its owner's lock, and a
sweep's populations, cluster jobs and report."""

import re

# A run's files: its summary, one row per epoch, the masks of its rounds, TensorBoard's events.
RUN_JSON = "run.json"
METRICS = "metrics.csv"
MASKS = "masks.npz"
TENSORBOARD = "tb"
# A solo run's checkpoint folder, and the checkpoint a run or population resumes from.
CHECKPOINTS = "checkpoints"
LAST = "last.ckpt"
# The lock of the process that trains a run folder, and who that process is.
LOCK, OWNER = ".lock", ".owner"
# In a sweep folder: each population's checkpoint folder, named by its first run; submitit's
# job files (`%j` is the job id); the report.
POPULATIONS = "populations"
SUBMITIT = ".submitit/%j"
# Beside those job folders: which run folders each submitted Slurm job trains.
JOBS_RECORD = "jobs.json"
REPORT = "report"
# Characters a folder name keeps; any other becomes "-" (a path separator, brackets, quotes).
UNSAFE = re.compile(r"[^\w.=+-]")
