"""report/at_init"""
