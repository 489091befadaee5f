"""Installed plugins: packages with an entry point in the ``flowdapt.plugins`` group, their
metadata, and the files they bundle (resource YAML and the like)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Any

from flowdapt.domain.errors import NotFoundError

PLUGIN_GROUP = "flowdapt.plugins"
_CODE_SUFFIXES = {".py", ".pyc", ".pyo", ".so", ".pyd"}


@dataclass(frozen=True)
class Plugin:
    name: str
    module: str
    metadata: dict[str, Any]
    root: Path | None = field(default=None, compare=False)

    def files(self) -> list[str]:
        """Bundled data files, relative to the package, sorted (code is not listed)."""
        if self.root is None:
            return []
        return sorted(
            str(path.relative_to(self.root))
            for path in self.root.rglob("*")
            if path.is_file()
            and path.suffix not in _CODE_SUFFIXES
            and "__pycache__" not in path.parts
        )

    def read_file(self, name: str) -> bytes:
        if self.root is None:
            raise NotFoundError(f"plugin {self.name!r} bundles no files")
        if "\x00" in name or name not in self.files():  # only files the listing shows
            raise NotFoundError(f"plugin {self.name!r} has no file {name!r}")
        path = (self.root / name).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise NotFoundError(f"plugin {self.name!r} has no file {name!r}")
        return path.read_bytes()


def discover_plugins() -> list[Plugin]:
    """Every installed plugin, by name; their code is not imported."""
    plugins = [_describe(entry) for entry in entry_points(group=PLUGIN_GROUP)]
    return sorted(plugins, key=lambda plugin: plugin.name)


def find_plugin(name: str) -> Plugin:
    for plugin in discover_plugins():
        if plugin.name == name:
            return plugin
    raise NotFoundError(f"no plugin named {name!r} is installed")


def _describe(entry: EntryPoint) -> Plugin:
    module = entry.value.split(":", 1)[0]
    meta: Any = entry.dist.metadata if entry.dist is not None else {}

    def field_of(key: str) -> str:
        return str(meta.get(key) or "")

    def all_of(key: str) -> list[str]:
        return list(meta.get_all(key) or []) if hasattr(meta, "get_all") else []

    project_urls = [value.split(",", 1)[-1].strip() for value in all_of("Project-URL")]
    metadata = {
        "description": field_of("Summary"),
        "author": field_of("Author") or field_of("Author-email"),
        "license": field_of("License") or field_of("License-Expression"),
        "url": field_of("Home-page") or next(iter(project_urls), ""),
        "version": field_of("Version"),
        "requirements": all_of("Requires-Dist"),
    }
    return Plugin(entry.name, module, metadata, _package_root(module))


def _package_root(module: str) -> Path | None:
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return None  # a single-module plugin bundles no files (its folder is site-packages)
