"""The original's executor package (re-exports only)."""
