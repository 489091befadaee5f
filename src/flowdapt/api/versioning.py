"""The original's API versioning: clients send ``X-API-Version: <type>.v1alpha1``; a version
that does not belong to the route is refused with 400, a missing one is fine."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Header, HTTPException

SUPPORTED = {
    "workflow": {"v1alpha1"},
    "config": {"v1alpha1", "v1alpha2"},
    "trigger_rule": {"v1alpha1"},
    "workflow_run": {"v1alpha1"},
}


def api_version(*types: str) -> Callable[[str | None], None]:
    """A dependency checking the header against the resource types a route serves."""
    accepted = {f"{kind}.{version}" for kind in types for version in SUPPORTED[kind]}

    def check(x_api_version: str | None = Header(default=None)) -> None:
        if x_api_version is not None and x_api_version not in accepted:
            raise HTTPException(
                400,
                f"API version {x_api_version!r} is not served here (accepted: "
                f"{', '.join(sorted(accepted))})",
            )

    return check
