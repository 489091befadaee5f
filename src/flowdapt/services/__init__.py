"""Use cases, wired by constructor arguments: resources, compute (runs), core (status, metrics,
plugins)."""
