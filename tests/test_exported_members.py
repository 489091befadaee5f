"""The public surface is pinned: changing it is a decision, not an accident."""

from __future__ import annotations

import importlib

import pytest

import flowdapt
import flowdapt.domain
import flowdapt.engine

SURFACES = {
    "flowdapt": flowdapt,
    "flowdapt.domain": flowdapt.domain,
    "flowdapt.engine": flowdapt.engine,
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


# SPEC §9: the import paths that stage and plugin code written for the original relies on.
ORIGINAL_PATHS = [
    ("flowdapt.compute.resources.workflow.context", "get_run_context"),
    ("flowdapt.compute.resources.workflow.context", "WorkflowRunContext"),
    ("flowdapt.compute.resources.workflow.context", "set_run_context"),
    ("flowdapt.compute.resources.workflow.context", "reset_run_context"),
    ("flowdapt.compute.resources.workflow.execute", "execute_workflow"),
    ("flowdapt.compute.executor.local", "LocalExecutor"),
]


@pytest.mark.parametrize(("module", "name"), ORIGINAL_PATHS)
def test_originals_import_paths_are_thin_re_exports(module, name):
    exported = getattr(importlib.import_module(module), name)
    home = exported.__module__
    assert not home.startswith("flowdapt.compute"), f"{module}.{name} should re-export {home}"
