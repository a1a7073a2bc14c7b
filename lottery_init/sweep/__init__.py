"""A sweep of many jobs: folder names, owners, packing into populations, devices and workers."""
