"""The report: a sweep's figures, tables, statistics and verdicts, from its files alone."""
