"""`python -m lottery_init.report SWEEP_DIR [--margin POINTS]`."""

from lottery_init.report.command import main

main()
