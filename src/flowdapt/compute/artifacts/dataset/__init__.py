"""The dataset hooks at the original's path; the real homes are :mod:`flowdapt.objects.dataframes`,
:mod:`flowdapt.objects.arrays` and :mod:`flowdapt.objects.dataset_handlers`.

    from flowdapt.compute.artifacts.dataset import dataframe_to_artifact, dataframe_from_artifact
"""

from flowdapt.objects.arrays import array_from_artifact, array_to_artifact
from flowdapt.objects.dataframes import dataframe_from_artifact, dataframe_to_artifact
from flowdapt.objects.dataset_handlers import get_handler_func, register_handler

__all__ = [
    "array_from_artifact",
    "array_to_artifact",
    "dataframe_from_artifact",
    "dataframe_to_artifact",
    "get_handler_func",
    "register_handler",
]
