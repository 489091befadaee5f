"""The public surface is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

import flowdapt
import flowdapt.builtins.utils
import flowdapt.compute.artifacts
import flowdapt.compute.artifacts.dataset
import flowdapt.compute.artifacts.dataset.arrays
import flowdapt.compute.artifacts.dataset.dataframes
import flowdapt.compute.artifacts.dataset.handler
import flowdapt.compute.artifacts.dataset.utils
import flowdapt.compute.artifacts.misc
import flowdapt.compute.cluster_memory
import flowdapt.compute.object_store
import flowdapt.domain
import flowdapt.engine
import flowdapt.lib.config
import flowdapt.lib.errors
import flowdapt.lib.logger
import flowdapt.lib.utils.misc
import flowdapt.objects
import flowdapt.objects.arrays
import flowdapt.objects.dask_datasets
import flowdapt.objects.dataframes
import flowdapt.objects.dataset_handlers
import flowdapt.objects.partitions

SURFACES = {
    "flowdapt": flowdapt,
    "flowdapt.builtins.utils": flowdapt.builtins.utils,
    "flowdapt.compute.artifacts": flowdapt.compute.artifacts,
    "flowdapt.compute.artifacts.dataset": flowdapt.compute.artifacts.dataset,
    "flowdapt.compute.artifacts.dataset.arrays": flowdapt.compute.artifacts.dataset.arrays,
    "flowdapt.compute.artifacts.dataset.dataframes": flowdapt.compute.artifacts.dataset.dataframes,
    "flowdapt.compute.artifacts.dataset.handler": flowdapt.compute.artifacts.dataset.handler,
    "flowdapt.compute.artifacts.dataset.utils": flowdapt.compute.artifacts.dataset.utils,
    "flowdapt.compute.artifacts.misc": flowdapt.compute.artifacts.misc,
    "flowdapt.compute.cluster_memory": flowdapt.compute.cluster_memory,
    "flowdapt.compute.object_store": flowdapt.compute.object_store,
    "flowdapt.domain": flowdapt.domain,
    "flowdapt.engine": flowdapt.engine,
    "flowdapt.lib.config": flowdapt.lib.config,
    "flowdapt.lib.errors": flowdapt.lib.errors,
    "flowdapt.lib.logger": flowdapt.lib.logger,
    "flowdapt.lib.utils.misc": flowdapt.lib.utils.misc,
    "flowdapt.objects": flowdapt.objects,
    "flowdapt.objects.arrays": flowdapt.objects.arrays,
    "flowdapt.objects.dask_datasets": flowdapt.objects.dask_datasets,
    "flowdapt.objects.dataframes": flowdapt.objects.dataframes,
    "flowdapt.objects.dataset_handlers": flowdapt.objects.dataset_handlers,
    "flowdapt.objects.partitions": flowdapt.objects.partitions,
}


@pytest.mark.parametrize("name", sorted(SURFACES))
def test_all_is_sorted_and_complete(name):
    module = SURFACES[name]
    assert module.__all__ == sorted(module.__all__)
    for member in module.__all__:
        assert hasattr(module, member), member


def test_top_level_surface():
    assert flowdapt.__all__ == [
        "ConfigResource",
        "FlowdaptError",
        "InvalidResourceError",
        "LocalExecutor",
        "RunState",
        "StageState",
        "TriggerRuleResource",
        "WorkflowResource",
        "WorkflowRun",
        "__version__",
        "execute_workflow",
        "get_run_context",
        "load_resources",
    ]


# SPEC §9 and the summary table of PLUGIN-API §0: the import paths that stage and plugin code
# written for the original relies on.
ORIGINAL_PATHS = [
    ("flowdapt.compute.resources.workflow.context", "get_run_context"),
    ("flowdapt.compute.resources.workflow.context", "WorkflowRunContext"),
    ("flowdapt.compute.resources.workflow.context", "set_run_context"),
    ("flowdapt.compute.resources.workflow.context", "reset_run_context"),
    ("flowdapt.compute.resources.workflow.execute", "execute_workflow"),
    ("flowdapt.compute.executor.local", "LocalExecutor"),
    ("flowdapt.compute.executor.local", "LocalClusterMemory"),
    ("flowdapt.compute.executor.dask", "DaskExecutor"),
    ("flowdapt.compute.executor.ray", "RayExecutor"),
    ("flowdapt.compute.artifacts", "Artifact"),
    ("flowdapt.compute.artifacts", "ArtifactFile"),
    ("flowdapt.compute.artifacts", "get_artifact"),
    ("flowdapt.compute.artifacts", "new_artifact"),
    ("flowdapt.compute.artifacts", "list_artifacts"),
    ("flowdapt.compute.artifacts", "check_if_artifact_exists"),
    ("flowdapt.compute.artifacts", "_get_values_from_context"),
    ("flowdapt.compute.artifacts.dataset", "dataframe_to_artifact"),
    ("flowdapt.compute.artifacts.dataset", "dataframe_from_artifact"),
    ("flowdapt.compute.artifacts.dataset", "array_to_artifact"),
    ("flowdapt.compute.artifacts.dataset", "array_from_artifact"),
    ("flowdapt.compute.artifacts.dataset", "register_handler"),
    ("flowdapt.compute.artifacts.dataset", "get_handler_func"),
    ("flowdapt.compute.artifacts.dataset.dataframes", "dataframe_to_artifact"),
    ("flowdapt.compute.artifacts.dataset.dataframes", "dataframe_from_artifact"),
    ("flowdapt.compute.artifacts.dataset.arrays", "array_to_artifact"),
    ("flowdapt.compute.artifacts.dataset.arrays", "array_from_artifact"),
    ("flowdapt.compute.artifacts.dataset.handler", "register_handler"),
    ("flowdapt.compute.artifacts.dataset.handler", "get_handler_func"),
    ("flowdapt.compute.artifacts.dataset.utils", "split_dataframe"),
    ("flowdapt.compute.artifacts.misc", "json_to_artifact"),
    ("flowdapt.compute.artifacts.misc", "json_from_artifact"),
    ("flowdapt.compute.artifacts.misc", "pickle_to_artifact"),
    ("flowdapt.compute.artifacts.misc", "pickle_from_artifact"),
    ("flowdapt.compute.object_store", "put"),
    ("flowdapt.compute.object_store", "get"),
    ("flowdapt.compute.object_store", "delete"),
    ("flowdapt.compute.object_store", "exists"),
    ("flowdapt.compute.object_store", "Strategy"),
    ("flowdapt.compute.object_store", "default_save_hook"),
    ("flowdapt.compute.object_store", "default_load_hook"),
    ("flowdapt.compute.object_store", "put_in_cluster_memory"),
    ("flowdapt.compute.object_store", "get_from_cluster_memory"),
    ("flowdapt.compute.cluster_memory", "ClusterMemory"),
    ("flowdapt.compute.cluster_memory", "get_cluster_memory"),
    ("flowdapt.compute.cluster_memory", "get_cluster_memory_backend"),
    ("flowdapt.compute.cluster_memory", "put_in_cluster_memory"),
    ("flowdapt.compute.cluster_memory", "get_from_cluster_memory"),
    ("flowdapt.compute.cluster_memory", "delete_from_cluster_memory"),
    ("flowdapt.compute.cluster_memory", "check_for_key_in_cluster_memory"),
    ("flowdapt.builtins.utils", "artifact_name_from_dict"),
    ("flowdapt.builtins.utils", "get_data_gap"),
    ("flowdapt.builtins.utils", "merge_dataframes"),
    ("flowdapt.builtins.utils", "find_features"),
    ("flowdapt.builtins.utils", "find_labels"),
    ("flowdapt.builtins.utils", "shift_and_add_features"),
    ("flowdapt.builtins.utils", "remove_none_columns"),
    ("flowdapt.builtins.utils", "remove_rows_with_nans"),
    ("flowdapt.builtins.utils", "extract_features_and_labels"),
    ("flowdapt.builtins.utils", "get_data_frequency"),
    ("flowdapt.builtins.utils", "dummy_pandas_df"),
    ("flowdapt.builtins.utils", "save_historical_data_to_feather"),
    ("flowdapt.builtins.utils", "load_historical_data_from_feather"),
    ("flowdapt.builtins.utils", "update_historic_data"),
    ("flowdapt.builtins.utils", "path_from_string"),
    ("flowdapt.builtins.utils", "get_current_threads_all_procs"),
    ("flowdapt.builtins.utils", "get_total_system_threads"),
    ("flowdapt.builtins.utils", "string_to_uuid"),
    ("flowdapt.lib.config", "StorageSettings"),
    ("flowdapt.lib.config", "get_configuration"),
    ("flowdapt.lib.errors", "APIError"),
    ("flowdapt.lib.errors", "ResourceNotFoundError"),
    ("flowdapt.lib.errors", "DatabaseConnectionError"),
    ("flowdapt.lib.errors", "MethodNotAllowedError"),
    ("flowdapt.lib.errors", "NotAuthorizedError"),
    ("flowdapt.lib.errors", "InvalidCredentialsError"),
    ("flowdapt.lib.errors", "InactiveUserError"),
    ("flowdapt.lib.errors", "InvalidJWTError"),
    ("flowdapt.lib.errors", "UserNotFoundError"),
    ("flowdapt.lib.errors", "NonUniqueValue"),
    ("flowdapt.lib.errors", "BadRequestError"),
    ("flowdapt.lib.errors", "ServiceDrainingError"),
    ("flowdapt.lib.logger", "get_logger"),
    ("flowdapt.lib.utils.misc", "import_from_string"),
    ("flowdapt.lib.utils.misc", "generate_name"),
]


@pytest.mark.parametrize(("module", "name"), ORIGINAL_PATHS)
def test_originals_import_paths_are_thin_re_exports(module, name):
    exported = getattr(importlib.import_module(module), name)
    home = exported.__module__
    assert not home.startswith("flowdapt.compute"), f"{module}.{name} should re-export {home}"


def test_original_artifacts_surface():
    # The original's __all__; its module functions are importable beside it.
    assert flowdapt.compute.artifacts.__all__ == ["Artifact", "ArtifactFile"]


def test_original_object_store_surface():
    assert flowdapt.compute.object_store.__all__ == [
        "ObjectNotFoundError",
        "Strategy",
        "default_load_hook",
        "default_save_hook",
        "delete",
        "exists",
        "get",
        "put",
    ]


def test_original_dataset_surface():
    assert flowdapt.compute.artifacts.dataset.__all__ == [
        "array_from_artifact",
        "array_to_artifact",
        "dataframe_from_artifact",
        "dataframe_to_artifact",
        "get_handler_func",
        "register_handler",
    ]
