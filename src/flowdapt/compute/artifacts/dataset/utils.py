"""``split_dataframe`` at the original's path; the real home is
:mod:`flowdapt.objects.partitions`."""

from flowdapt.objects.partitions import split_dataframe

__all__ = ["split_dataframe"]
