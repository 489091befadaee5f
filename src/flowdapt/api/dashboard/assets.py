"""The dashboard's page and its static files, shipped inside the package (no network at run
time). Every path under ``/dashboard/`` that is not an asset or the JSON API answers the page
itself, so the browser's history routing survives a reload or a pasted link."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, Response

STATIC = Path(__file__).parent / "static"
INDEX = STATIC / "index.html"
MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}

router = APIRouter(prefix="/dashboard")


@dataclass(frozen=True)
class _Asset:
    body: bytes
    etag: str
    media_type: str
    mtime_ns: int


_assets: dict[Path, _Asset] = {}


def _load(file: Path) -> _Asset:
    """The file's bytes, read once (about 80 KB in all) and again only if it changed: served
    from memory, a first load's twenty requests cost no file reads or worker threads."""
    mtime = file.stat().st_mtime_ns
    asset = _assets.get(file)
    if asset is None or asset.mtime_ns != mtime:
        body = file.read_bytes()
        etag = '"' + hashlib.blake2b(body, digest_size=12).hexdigest() + '"'
        media_type = MEDIA_TYPES.get(file.suffix, "application/octet-stream")
        asset = _assets[file] = _Asset(body, etag, media_type, mtime)
    return asset


def _serve(request: Request, file: Path) -> Response:
    asset = _load(file)
    # Revalidated on every load (304 when unchanged): assets are not content-hashed, and an
    # upgraded server must not leave a stale page in the browser's cache.
    headers = {"Cache-Control": "no-cache", "ETag": asset.etag}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("")
async def dashboard(request: Request) -> Response:
    return _serve(request, INDEX)


@router.get("/static/{path:path}")
async def static_file(request: Request, path: str) -> Response:
    file = (STATIC / path).resolve()
    if not file.is_relative_to(STATIC.resolve()) or not file.is_file():
        raise HTTPException(404, f"no dashboard asset {path!r}")
    return _serve(request, file)


@router.get("/{path:path}")
async def page_route(request: Request, path: str) -> Response:
    if path == "api" or path.startswith("api/"):  # an unknown API path is a JSON 404
        raise HTTPException(404, f"no dashboard endpoint /dashboard/{path}")
    return _serve(request, INDEX)
