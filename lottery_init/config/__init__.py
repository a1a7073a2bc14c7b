"""Run configs: where things are, the typed schema, composing, and the checks before any work."""
