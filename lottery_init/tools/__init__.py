"""One-off commands (`python -m lottery_init.tools.<name>`)."""
