"""Helpers of the trigger end-to-end tests: waiting for triggered runs over HTTP."""

from __future__ import annotations

from typing import Any

import httpx

from tests.e2e.conftest import wait_until


def runs_of(url: str, workflow: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/workflows/{workflow}/run", params={"limit": 1000}, timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json())


def final_runs(url: str, workflow: str, count: int = 1, timeout: float = 20) -> list[Any]:
    def check() -> list[dict[str, Any]] | None:
        runs = [r for r in runs_of(url, workflow) if r["state"] in ("finished", "failed")]
        return runs if len(runs) >= count else None

    return wait_until(check, timeout, f"{count} finished run(s) of {workflow}")


def firings(url: str, rule: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{url}/triggers/{rule}/firings", timeout=10)
    assert response.status_code == 200, response.text
    return list(response.json())
