"""Installed plugins: packages with an entry point in the ``flowdapt.plugins`` group, their
metadata, their health, and the files they bundle (resource YAML and the like).

    for plugin in discover_plugins():
        print(plugin.name, plugin.status, plugin.error or "")

Each plugin has a ``status``:

- ``ok``: its module can be found, its source compiles and the distributions it requires are
  installed.
- ``broken``: the entry point cannot be imported. The module cannot be found, it has a syntax
  error, a distribution it requires is missing, or its metadata cannot be read. ``error`` says
  which. A broken plugin is still listed, and the other plugins are not affected.
- ``conflict``: another installed distribution declares a plugin with the same name. Both are
  listed, and a lookup by that name raises :class:`PluginConflictError` (409 over HTTP). Which
  package the name means depends on installation details, and applying the wrong plugin's
  resources would be worse than refusing to guess.

Discovery never imports plugin code. A listing has to stay fast and safe. Importing a plugin
runs its module-level code inside the server: heavy dependencies (pandas, torch: seconds),
side effects, and code that can hang. Python also caches a successful import but not a failed
one, so a broken plugin would be imported again on every listing. The checks above use only the
file system (import finders, ``compile``, installed metadata). The one failure they cannot see,
module-level code that raises, shows up when a run imports a stage target: the run fails and
its record says why.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import re
import sys
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from importlib.machinery import ModuleSpec
from importlib.metadata import Distribution, EntryPoint, PackageNotFoundError, distribution
from importlib.metadata import distributions as installed_distributions
from pathlib import Path
from typing import Any, Literal

from packaging.requirements import InvalidRequirement, Requirement

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError

PLUGIN_GROUP = "flowdapt.plugins"
_CODE_SUFFIXES = {".py", ".pyc", ".pyo", ".so", ".pyd"}

PluginStatus = Literal["ok", "broken", "conflict"]

logger = logging.getLogger(__name__)


class PluginConflictError(AlreadyExistsError):
    """Two or more installed distributions declare a plugin with this name."""


@dataclass(frozen=True)
class Plugin:
    """One ``flowdapt.plugins`` entry point: its name, module, distribution metadata and health."""

    name: str
    module: str
    metadata: dict[str, Any]
    root: Path | None = field(default=None, compare=False)
    distribution: str = ""
    status: PluginStatus = "ok"
    error: str | None = None

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
    """Every installed plugin, sorted by name, broken ones and name conflicts included; their
    code is not imported (see the module docstring)."""
    plugins = [plugin for dist in _plugin_distributions() for plugin in _plugins_of(dist)]
    return sorted(_flag_conflicts(plugins), key=lambda plugin: (plugin.name, plugin.distribution))


def find_plugin(name: str) -> Plugin:
    """The plugin called `name`. Raises `NotFoundError` if none is installed and
    `PluginConflictError` if several distributions use that name."""
    plugins = discover_plugins()
    matches = [plugin for plugin in plugins if plugin.name == name]
    if not matches:
        installed = ", ".join(sorted({plugin.name for plugin in plugins})) or "none"
        raise NotFoundError(f"no plugin named {name!r} is installed (installed: {installed})")
    if len(matches) > 1:
        raise PluginConflictError(
            f"plugin name {name!r} is ambiguous: declared by {_declarers(matches)}; "
            "uninstall all but one"
        )
    return matches[0]


def _plugin_distributions() -> Iterator[Distribution]:
    """Installed distributions that declare plugins, one per project name.

    The first copy on ``sys.path`` wins, as it does for ``importlib.metadata.entry_points()``.
    That function is not used because one malformed ``entry_points.txt`` anywhere makes it
    raise, and then no plugin at all would be listed.
    """
    seen: set[str] = set()
    for dist in installed_distributions():
        try:
            text = dist.read_text("entry_points.txt") or ""
        except (OSError, ValueError) as exc:  # not UTF-8, unreadable: it cannot be a plugin
            logger.warning("skipping a distribution with an unreadable entry_points.txt: %s", exc)
            continue
        if f"[{PLUGIN_GROUP}]" not in text:  # cheap: most distributions declare no plugins
            continue
        key = _project_name(dist)
        if key and key in seen:
            continue
        seen.add(key)
        yield dist


def _plugins_of(dist: Distribution) -> list[Plugin]:
    try:
        return [_describe(entry, dist) for entry in dist.entry_points.select(group=PLUGIN_GROUP)]
    except Exception as exc:  # the loop boundary: one distribution must not hide the others
        name = _project_name(dist) or "an unnamed distribution"
        logger.warning("cannot read the plugins that %s declares: %s", name, exc)
        error = f"the plugin entry points of {name} cannot be read: {exc}"
        metadata = {key: "" for key in ("description", "author", "license", "url", "version")}
        return [Plugin(name, "", {**metadata, "requirements": []}, None, name, "broken", error)]


def _describe(entry: EntryPoint, dist: Distribution) -> Plugin:
    module = entry.value.split(":", 1)[0].strip()
    metadata = _metadata_of(dist)
    spec, error = _locate(module)
    if error is None and spec is not None:
        error = _compile_error(spec)
    if error is None:
        error = _missing_requirement(metadata["requirements"])
    return Plugin(
        name=entry.name,
        module=module,
        metadata=metadata,
        root=_package_root(spec),
        distribution=_project_name(dist),
        status="ok" if error is None else "broken",
        error=error,
    )


def _metadata_of(dist: Distribution) -> dict[str, Any]:
    meta = dist.metadata

    def field_of(key: str) -> str:
        return str(meta[key] or "") if key in meta else ""

    project_urls = [value.split(",", 1)[-1].strip() for value in meta.get_all("Project-URL", [])]
    return {
        "description": field_of("Summary"),
        "author": field_of("Author") or field_of("Author-email"),
        "license": field_of("License") or field_of("License-Expression"),
        "url": field_of("Home-page") or next(iter(project_urls), ""),
        "version": field_of("Version"),
        "requirements": list(meta.get_all("Requires-Dist", [])),
    }


def _project_name(dist: Distribution) -> str:
    """The distribution's project name, normalised as PEP 503 does ("" if it declares none)."""
    meta = dist.metadata
    name = str(meta["Name"] or "") if "Name" in meta else ""
    return re.sub(r"[-_.]+", "-", name).lower()


def _locate(module: str) -> tuple[ModuleSpec | None, str | None]:
    """The module's spec, found without running code, or why it cannot be found.

    ``importlib.util.find_spec("pkg.mod")`` imports ``pkg`` first, which runs plugin code.
    Here each parent's search locations are handed to the import finders instead.
    """
    parts = module.split(".")
    if not all(part.isidentifier() for part in parts):
        return None, f"entry point names {module!r}, which is not a module name"
    try:
        spec = importlib.util.find_spec(parts[0])  # a top-level name imports nothing
        for depth in range(1, len(parts)):
            if spec is None or spec.submodule_search_locations is None:
                spec = None  # the parent is missing, or is a module rather than a package
                break
            name = ".".join(parts[: depth + 1])
            spec = _find_in(name, list(spec.submodule_search_locations))
    except (ImportError, ValueError) as exc:
        return None, f"module {module!r} cannot be found: {exc}"
    if spec is None:
        return None, f"module {module!r} cannot be found (is the package installed?)"
    return spec, None


def _find_in(name: str, locations: list[str]) -> ModuleSpec | None:
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        spec = find_spec(name, locations) if find_spec is not None else None
        if spec is not None:
            return spec  # type: ignore[no-any-return]
    return None


def _compile_error(spec: ModuleSpec) -> str | None:
    origin = spec.origin
    if not spec.has_location or origin is None or not origin.endswith(".py"):
        return None  # a namespace package, extension or bytecode-only module: nothing to compile
    path = Path(origin)
    try:
        stat = path.stat()
    except OSError as exc:
        return f"cannot read {origin}: {exc}"
    return _compile_source(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=256)
def _compile_source(path: str, mtime_ns: int, size: int) -> str | None:
    """Compile (not run) a module's source. The result is cached per file version, because the
    API lists plugins on every request. The mtime and size are part of the cache key."""
    try:
        source = Path(path).read_bytes()
        compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return f"{exc.filename}:{exc.lineno}: SyntaxError: {exc.msg}"
    except (OSError, ValueError) as exc:
        return f"cannot compile {path}: {exc}"
    return None


def _missing_requirement(requirements: Iterable[str]) -> str | None:
    """The first requirement (that applies here, without extras) that is not installed."""
    for text in requirements:
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            continue  # not ours to police; pip accepted it
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": ""}):
            continue
        try:
            distribution(requirement.name)
        except PackageNotFoundError:
            return f"it requires {text!r}, which is not installed"
    return None


def _package_root(spec: ModuleSpec | None) -> Path | None:
    """Where the plugin's files are: its package, or the package of a submodule entry point."""
    if spec is None:
        return None
    if spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    if "." in spec.name and spec.has_location and spec.origin is not None:
        return Path(spec.origin).parent
    return None  # a top-level single module bundles no files (its folder is site-packages)


def _flag_conflicts(plugins: list[Plugin]) -> list[Plugin]:
    by_name: dict[str, list[Plugin]] = defaultdict(list)
    for plugin in plugins:
        by_name[plugin.name].append(plugin)
    flagged: list[Plugin] = []
    for name, group in by_name.items():
        if len(group) == 1:
            flagged.extend(group)
            continue
        clash = f"plugin name {name!r} is declared by several distributions: {_declarers(group)}"
        for plugin in group:
            error = f"{clash}; {plugin.error}" if plugin.error else clash
            flagged.append(replace(plugin, status="conflict", error=error))
    return flagged


def _declarers(plugins: Iterable[Plugin]) -> str:
    return ", ".join(
        f"{plugin.distribution} {plugin.metadata.get('version', '')} (module {plugin.module})"
        for plugin in plugins
    )
