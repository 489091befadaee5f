"""Dashboard fixtures: the app in-process (component tests), a real server process with the test
resources applied, and headless Chromium (Debian's package, driven by Playwright) — each started
once and stopped by its fixture."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from flowdapt.api import Services, create_app
from flowdapt.bootstrap import build_services
from flowdapt.domain.documents import load_documents
from flowdapt.settings import Settings
from tests.e2e.conftest import Server, free_port

RESOURCES = Path(__file__).with_name("resources.yaml")
ARTIFACTS = Path(__file__).with_name("artifacts")
COLLECTIONS = {"workflow": "/workflows/", "config": "/configs/", "trigger_rule": "/triggers/"}


def apply_resources(client: httpx.Client | None, documents: list[dict[str, Any]]) -> None:
    assert client is not None
    for document in documents:
        response = client.post(COLLECTIONS[document["kind"]], json=document)
        assert response.status_code == 200, response.text


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    settings = Settings(
        app_dir=tmp_path, database={"target": "flowdapt.storage.memory.MemoryStorage"}
    )
    built = build_services(settings)
    await built.storage.start()
    assert built.compute is not None
    await built.compute.start()
    yield built
    await built.compute.stop(grace=1)
    await built.storage.close()


@pytest.fixture
async def api(services: Services) -> AsyncIterator[httpx.AsyncClient]:
    """The real app over in-memory storage and a thread executor, called in-process, with the
    dashboard's test resources applied."""
    transport = httpx.ASGITransport(app=create_app(services, version="test"))
    async with httpx.AsyncClient(transport=transport, base_url="http://flowdapt") as client:
        for document in load_documents(RESOURCES.read_text()):
            response = await client.post(COLLECTIONS[document["kind"]], json=document)
            assert response.status_code == 200, response.text
        yield client


@pytest.fixture(scope="session")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One `flowdapt run` process for the browser and stream tests, resources applied."""
    server = Server(tmp_path_factory.mktemp("app-dashboard"), free_port(), None)
    try:
        server.start()
        with httpx.Client(base_url=server.url, timeout=30) as client:
            apply_resources(client, load_documents(RESOURCES.read_text()))
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Debian's Chromium (`make browser` installs it), never a downloaded browser.

    Per module, not per session: Playwright's sync API keeps its own event loop current while
    it is open, and pytest-asyncio cannot run the async tests of other modules meanwhile.
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run `make browser` (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, dashboard_server: Server) -> Iterator[Any]:
    """A fresh tab on the dashboard server; page errors in the app fail the test."""
    context = chromium.new_context(
        base_url=dashboard_server.url, viewport={"width": 1300, "height": 900}
    )
    tab = context.new_page()
    tab.set_default_timeout(20_000)
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    try:
        yield tab
    finally:
        context.close()
    assert errors == [], f"the dashboard raised in the browser: {errors}"


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under tests/dashboard/artifacts/ (git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
