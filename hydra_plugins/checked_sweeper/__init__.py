"""The checked sweeper: Hydra finds sweepers in the `hydra_plugins` namespace package."""
