from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from flowdapt.api import create_app
from flowdapt.bootstrap import build_services
from flowdapt.settings import Settings


@pytest.fixture
async def api(tmp_path) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over in-memory storage and a thread executor, called in-process."""
    settings = Settings(
        app_dir=tmp_path,
        database={"target": "flowdapt.storage.memory.MemoryStorage"},
        rpc={"api": {"max_body_bytes": 64 * 1024}},
    )
    services = build_services(settings)
    await services.storage.start()
    assert services.compute is not None
    await services.compute.start()
    app = create_app(services, version="test", max_body_bytes=settings.rpc.api.max_body_bytes)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdapt") as client:
        yield client
    await services.compute.stop(grace=1)
    await services.storage.close()


def workflow_doc(name: str = "hello", *stages: dict, annotations: dict | None = None) -> dict:
    stages = stages or ({"name": "greet", "target": "tests.api.stages.greet"},)
    metadata = {"name": name, "annotations": annotations or {}}
    return {"kind": "workflow", "metadata": metadata, "spec": {"stages": list(stages)}}
