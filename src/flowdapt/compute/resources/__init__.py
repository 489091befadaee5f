"""The original's ``flowdapt.compute.resources`` package (re-exports only)."""
