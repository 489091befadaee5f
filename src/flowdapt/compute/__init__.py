"""The original's import paths for stage and plugin code (SPEC §9); thin re-exports only."""
