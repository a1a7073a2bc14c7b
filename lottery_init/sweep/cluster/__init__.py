"""Populations as submitit jobs: on Slurm, or as local processes."""
