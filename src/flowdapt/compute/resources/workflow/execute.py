"""``execute_workflow`` at the original's path; the real home is :mod:`flowdapt.execute`."""

from flowdapt.execute import execute_workflow

__all__ = ["execute_workflow"]
