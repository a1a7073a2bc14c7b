"""The report's section on pruning at initialization against IMP at equal weights remaining."""
