"""The web dashboard at ``/dashboard``: a build-free page (ES modules and SVG in ``static/``)
and the JSON and live-update endpoints it reads beyond the REST API.

    app.include_router(dashboard.router)
"""

from __future__ import annotations

from fastapi import APIRouter

from flowdapt.api.dashboard import assets, data

router = APIRouter(tags=["dashboard"], include_in_schema=False)
router.include_router(data.router)
router.include_router(assets.router)  # last: its catch-all serves the page for client routes

__all__ = ["router"]
