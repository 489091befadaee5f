from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from flowdapt.api.state import Services
from flowdapt.bootstrap import build_app
from flowdapt.settings import Settings


def workflow(name: str, target: str) -> dict[str, Any]:
    return {
        "kind": "workflow",
        "metadata": {"name": name},
        "spec": {"stages": [{"name": "only", "target": f"tests.triggers.stages.{target}"}]},
    }


def trigger(name: str, rule: Any, workflow: str, *, kind: str = "condition", **input: Any):
    return {
        "kind": "trigger_rule",
        "metadata": {"name": name},
        "spec": {
            "type": kind,
            "rule": rule,
            "action": {
                "target": "run_workflow",
                "parameters": {"workflow": workflow, "input": input},
            },
        },
    }


def finished_in_state(workflow: str, state: str) -> dict[str, Any]:
    return {
        "and": [
            {"eq": [{"var": "type"}, "com.event.workflow.workflow_finished"]},
            {"eq": [{"var": "data.workflow"}, workflow]},
            {"eq": [{"var": "data.state"}, state]},
        ]
    }


@dataclass
class System:
    client: httpx.AsyncClient
    services: Services

    async def create(self, path: str, document: dict[str, Any]) -> dict[str, Any]:
        response = await self.client.post(path, json=document)
        assert response.status_code == 200, response.text
        return response.json()

    async def runs(self, workflow: str) -> list[dict[str, Any]]:
        response = await self.client.get(f"/workflows/{workflow}/run", params={"limit": 100})
        assert response.status_code == 200, response.text
        return response.json()

    async def wait_for(self, check: Callable[[], Any], what: str, timeout: float = 10.0) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            value = await check()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"timed out waiting for {what}")
            await asyncio.sleep(0.02)

    async def finished_runs(self, workflow: str, count: int = 1) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            runs = [r for r in await self.runs(workflow) if r["state"] in ("finished", "failed")]
            return runs if len(runs) >= count else None

        return await self.wait_for(check, f"{count} finished run(s) of {workflow}")


@pytest.fixture
async def system(tmp_path) -> AsyncIterator[System]:
    """The whole server in process (memory storage, memory bus, thread executor), started and
    stopped through its own lifespan."""
    settings = Settings(
        app_dir=tmp_path,
        database={"target": "flowdapt.storage.memory.MemoryStorage"},
        services={"triggers": {"max_depth": 3}},
    )
    app = build_app(settings, stop_grace=1)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://flowdapt") as client:
            yield System(client, app.state.services)
