from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from flowdapt.executors.local import LocalExecutor


def workflow(*stages: dict[str, Any], name: str = "test_workflow") -> dict[str, Any]:
    """A workflow definition dict as plugin tests write them."""
    return {"metadata": {"name": name}, "spec": {"stages": list(stages)}}


@pytest.fixture(scope="session")
async def thread_executor() -> AsyncIterator[LocalExecutor]:
    async with LocalExecutor(use_processes=False) as executor:
        yield executor


@pytest.fixture(scope="session")
async def process_executor() -> AsyncIterator[LocalExecutor]:
    async with LocalExecutor(use_processes=True, cpus=2) as executor:
        yield executor


@pytest.fixture(params=["threads", "processes"])
def executor(request: pytest.FixtureRequest) -> LocalExecutor:
    """Every engine semantics test runs on each executor configuration."""
    name = "thread_executor" if request.param == "threads" else "process_executor"
    return request.getfixturevalue(name)  # type: ignore[no-any-return]
