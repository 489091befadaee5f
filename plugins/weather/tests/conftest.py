"""Fixtures as the original's plugin authors write them: one LocalExecutor for the session,
storage on the in-memory filesystem through the environment, the bundled resources by name."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from importlib.resources import files
from typing import Any

import pytest
import yaml

from flowdapt.compute.executor.local import LocalExecutor


def bundled(kind: str) -> dict[str, dict[str, Any]]:
    """The plugin's bundled documents of `kind`, by name."""
    documents: dict[str, dict[str, Any]] = {}
    for path in files("flowdapt_weather").joinpath("resources").iterdir():
        if path.name.endswith(".yaml"):
            for document in yaml.safe_load_all(path.read_text()):
                if document and document.get("kind") == kind:
                    documents[document["metadata"]["name"]] = document
    return documents


@pytest.fixture(scope="session")
def workflows() -> dict[str, dict[str, Any]]:
    return bundled("workflow")


@pytest.fixture(scope="session")
def config() -> dict[str, Any]:
    return dict(bundled("config")["weather"]["spec"]["data"])


@pytest.fixture(autouse=True)
def memory_storage() -> Iterator[None]:
    os.environ["FLOWDAPT__STORAGE__PROTOCOL"] = "memory"
    os.environ["FLOWDAPT__STORAGE__BASE_PATH"] = "weather-tests"
    yield
    del os.environ["FLOWDAPT__STORAGE__PROTOCOL"], os.environ["FLOWDAPT__STORAGE__BASE_PATH"]


@pytest.fixture(scope="session")
async def executor() -> AsyncIterator[LocalExecutor]:
    executor = LocalExecutor(use_processes=False)
    await executor.start()
    yield executor
    await executor.close()
