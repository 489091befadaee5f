"""The DataFrame hooks at the original's path; the real home is
:mod:`flowdapt.objects.dataframes`."""

from flowdapt.objects.dataframes import dataframe_from_artifact, dataframe_to_artifact

__all__ = ["dataframe_from_artifact", "dataframe_to_artifact"]
