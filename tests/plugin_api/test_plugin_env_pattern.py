"""The plugin-test pattern of §7.3: FLOWDAPT__STORAGE__* set around execute_workflow decide where
the stages' artifacts go, and the run's config has no say in it."""

from __future__ import annotations

from typing import Any

import fsspec
import pytest

from flowdapt.builtins.utils import artifact_name_from_dict
from flowdapt.compute import object_store
from flowdapt.compute.artifacts import get_artifact
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.lib.config import get_configuration
from tests.conftest import workflow


def store_city() -> dict[str, Any]:
    key = artifact_name_from_dict({"city": "Los Angeles"})
    object_store.put(key, {"rows": 24}, artifact_only=True)
    return {
        "storage": get_configuration().storage.model_dump(),
        "uri": get_artifact(key).uri,
        "value": object_store.get(key, artifact_only=True),
    }


@pytest.fixture
def memory_root():
    # fsspec's memory filesystem lives as long as the process: leave nothing behind in it.
    yield "plugin-test"
    memory = fsspec.filesystem("memory")
    if memory.exists("/plugin-test"):
        memory.rm("/plugin-test", recursive=True)


async def test_storage_follows_the_environment_around_each_run(
    clean_environment, tmp_path, memory_root
):
    env = clean_environment
    definition = workflow({"name": "store", "target": store_city}, name="plugin_pattern")
    run_config = {"storage": {"protocol": "file", "base_path": str(tmp_path / "ignored")}}

    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    env.setenv("FLOWDAPT__STORAGE__BASE_PATH", memory_root)
    seen = await execute_workflow(
        definition, namespace="testing", config=run_config, return_result=True
    )
    assert seen["storage"] == {"protocol": "memory", "base_path": "plugin-test", "parameters": {}}
    assert seen["uri"] == "memory://plugin-test/artifacts/testing/Los20Angeles"
    assert seen["value"] == {"rows": 24}
    assert not (tmp_path / "ignored").exists()

    # The next run reads the environment afresh (the original kept its first reading).
    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "file")
    env.setenv("FLOWDAPT__STORAGE__BASE_PATH", str(tmp_path / "disk"))
    seen = await execute_workflow(definition, namespace="testing", return_result=True)
    assert seen["storage"]["protocol"] == "file"
    assert (tmp_path / "disk" / "artifacts" / "testing" / "Los20Angeles").is_dir()
