"""The original's ``flowdapt.builtins.utils``: pandas and naming helpers for plugin stages.

Thin re-exports; each helper lives in a module named for what it does
(:mod:`~flowdapt.builtins.features`, :mod:`~flowdapt.builtins.timeseries`,
:mod:`~flowdapt.builtins.naming`, :mod:`~flowdapt.builtins.feather`,
:mod:`~flowdapt.builtins.threads`).

    from flowdapt.builtins import utils

    df = utils.merge_dataframes(df, new_rows)
    features, labels = utils.extract_features_and_labels(utils.remove_rows_with_nans(df))
"""

from flowdapt.builtins.feather import (
    load_historical_data_from_feather,
    save_historical_data_to_feather,
    update_historic_data,
)
from flowdapt.builtins.features import (
    dummy_pandas_df,
    extract_features_and_labels,
    find_features,
    find_labels,
    remove_none_columns,
    remove_rows_with_nans,
    shift_and_add_features,
)
from flowdapt.builtins.naming import (
    artifact_name_from_dict,
    dict_to_list_string,
    path_from_string,
    string_to_uuid,
)
from flowdapt.builtins.threads import get_current_threads_all_procs, get_total_system_threads
from flowdapt.builtins.timeseries import get_data_frequency, get_data_gap, merge_dataframes

__all__ = [
    "artifact_name_from_dict",
    "dict_to_list_string",
    "dummy_pandas_df",
    "extract_features_and_labels",
    "find_features",
    "find_labels",
    "get_current_threads_all_procs",
    "get_data_frequency",
    "get_data_gap",
    "get_total_system_threads",
    "load_historical_data_from_feather",
    "merge_dataframes",
    "path_from_string",
    "remove_none_columns",
    "remove_rows_with_nans",
    "save_historical_data_to_feather",
    "shift_and_add_features",
    "string_to_uuid",
    "update_historic_data",
]
