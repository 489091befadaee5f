"""Reading resource documents from YAML/JSON files and directories.

A file holds one or more documents (YAML ``---`` separated, or a JSON object or array). A file is
read and checked whole before anything from it is sent, so a malformed file applies nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from flowctl.errors import DocumentError
from flowctl.resources import Kind, Resource, parse_kind

SUFFIXES: Final = (".yaml", ".yml", ".json")


@dataclass(frozen=True)
class Document:
    """One resource document and where it came from."""

    kind: Kind
    name: str
    body: Resource
    source: Path


def resource_files(path: Path) -> list[Path]:
    """The resource files at ``path``: the file itself, or a directory's files recursively.

    Example::

        resource_files(Path("resources/"))  # [.../a.yaml, .../sub/b.json] (sorted)
    """
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    if not path.exists():
        raise DocumentError(path, "no such file or directory")
    return [path]


def load_text(path: Path, text: str) -> list[Any]:
    """The raw documents in one file's text (its suffix says JSON or YAML); syntax errors raise
    :class:`DocumentError`, nothing is checked yet."""
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DocumentError(path, f"invalid JSON: {exc}") from None
        return data if isinstance(data, list) else [data]
    import yaml  # imported here: only apply/delete -p need it

    try:
        return [doc for doc in yaml.safe_load_all(text) if doc is not None]
    except yaml.YAMLError as exc:
        raise DocumentError(path, f"invalid YAML: {exc}") from None


def _check(path: Path, index: int, raw: Any) -> Document:
    where = f"document {index + 1}"
    if not isinstance(raw, dict):
        raise DocumentError(path, f"{where} is not a mapping")
    kind_value = raw.get("kind")
    kind = parse_kind(kind_value) if isinstance(kind_value, str) else None
    if kind is None:
        known = "workflow, config, trigger_rule"
        raise DocumentError(path, f"{where} has unknown kind {kind_value!r} (expected {known})")
    metadata = raw.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if not isinstance(name, str) or not name.strip():
        raise DocumentError(path, f"{where} ({kind}) has no metadata.name")
    if not isinstance(raw.get("spec"), dict):
        raise DocumentError(path, f"{where} ({kind} {name}) has no spec mapping")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if annotations is not None and not isinstance(annotations, dict):
        raise DocumentError(path, f"{where} ({kind} {name}): metadata.annotations is not a map")
    return Document(kind=kind, name=name, body={**raw, "kind": kind}, source=path)


def read_file(path: Path) -> list[Document]:
    """Read and check every document of one file; raise :class:`DocumentError` on any fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DocumentError(path, f"cannot read: {exc}") from None
    return check_documents(path, load_text(path, text))


def check_documents(path: Path, raw_documents: list[Any]) -> list[Document]:
    """Check raw documents (from :func:`load_text`) as resources; any fault raises
    :class:`DocumentError` naming ``path`` and the document."""
    return [_check(path, index, raw) for index, raw in enumerate(raw_documents)]


def read_paths(paths: Iterable[Path]) -> list[Document]:
    """Read every document under ``paths``, in order; all files are checked before returning.

    Example::

        for doc in read_paths([Path("workflows/")]):
            print(doc.kind, doc.name, doc.source)
    """
    return [doc for path in paths for file in resource_files(path) for doc in read_file(file)]
