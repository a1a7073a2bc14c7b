"""The report's statistics: t-tests, equivalence, power; the signed-rank test, simulated."""
