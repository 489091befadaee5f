"""The original's ``flowdapt.compute.resources.workflow`` package (re-exports only)."""
