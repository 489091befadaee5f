"""A new plugin project, rendered from the templates in ``project/`` beside this module.

    from flowdapt.plugin_template import create_plugin

    created = create_plugin("weather_tools", Path("weather-tools"))
    print(created.root, created.files)

The project is a src-layout package with a ``flowdapt.plugins`` entry point, a stages module,
a bundled workflow (+ config) YAML and tests that run that workflow with ``execute_workflow`` on
a session-wide ``LocalExecutor``. It builds with hatchling, the backend Flowdapt itself uses.

Templates are ``*.tmpl`` files (so nothing here lints, type-checks or imports them as code);
``{{ key }}`` in their text and ``__package__`` in their paths are replaced. Every file is rendered
in memory and written to a hidden staging folder beside the target, which is renamed into place
only when complete: a failure leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import importlib.util
import keyword
import re
import secrets
import shutil
import sys
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path, PurePosixPath

from flowdapt import __version__
from flowdapt.domain.errors import FlowdaptError

__all__ = ["NewPlugin", "PluginTemplateError", "create_plugin", "plugin_names", "render"]

TEMPLATE_SUFFIX = ".tmpl"
PACKAGE_PLACEHOLDER = "__package__"
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}")
# Names a plugin package must not take: it would shadow these on the server's import path.
_RESERVED = {"flowdapt", "flowctl", "tests", "test", "user_modules"}


class PluginTemplateError(FlowdaptError, ValueError):
    """The plugin cannot be created: a bad name or an occupied target directory."""


@dataclass(frozen=True)
class NewPlugin:
    """What `create_plugin` wrote."""

    plugin: str  # the entry-point name: `flowctl apply --plugin PLUGIN`
    package: str  # the importable package, under src/
    distribution: str  # the project name in pyproject.toml
    root: Path
    files: tuple[str, ...]  # relative to root, sorted


def plugin_names(name: str) -> dict[str, str]:
    """The names derived from NAME (``plugin``, ``package``, ``distribution``), or
    `PluginTemplateError` saying what is wrong with it.

    >>> plugin_names("Weather-Tools")["package"]
    'weather_tools'
    """
    if not _NAME.fullmatch(name):
        raise PluginTemplateError(
            f"invalid plugin name {name!r}: use letters, digits, '_' or '-', starting with a "
            "letter (for example weather_tools)"
        )
    package = name.lower().replace("-", "_")
    if keyword.iskeyword(package) or package in sys.stdlib_module_names or package in _RESERVED:
        raise PluginTemplateError(
            f"invalid plugin name {name!r}: the package {package!r} would shadow a module of "
            "Python or Flowdapt"
        )
    if _importable(package):
        raise PluginTemplateError(
            f"invalid plugin name {name!r}: a module named {package!r} is already importable "
            "here, and the plugin would shadow it (or be shadowed); pick another name"
        )
    return {"plugin": package, "package": package, "distribution": package.replace("_", "-")}


def render(name: str) -> dict[str, str]:
    """Every file of the new project for NAME, by relative POSIX path, rendered in memory."""
    values = {**plugin_names(name), "flowdapt_version": __version__}
    rendered: dict[str, str] = {}
    for relative, template in _templates(files(__name__).joinpath("project")):
        path = relative.replace(PACKAGE_PLACEHOLDER, values["package"])
        rendered[path.removesuffix(TEMPLATE_SUFFIX)] = _substitute(
            template.read_text(encoding="utf-8"), values, relative
        )
    return rendered


def create_plugin(name: str, target: Path) -> NewPlugin:
    """Write a new plugin project for NAME into `target`, which must be missing or empty."""
    names = plugin_names(name)
    _check_target(target)
    rendered = render(name)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".{target.name}.partial-{secrets.token_hex(4)}"
    staging.mkdir()  # honours the umask, unlike tempfile.mkdtemp's 0700
    complete = False
    try:
        for relative, text in rendered.items():
            path = staging / PurePosixPath(relative)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _check_target(target)  # it may have been filled meanwhile
        if target.exists():
            target.rmdir()  # empty: checked above
        staging.rename(target)
        complete = True
    finally:
        if not complete:  # any failure, a Ctrl-C included: leave nothing half-written
            shutil.rmtree(staging, ignore_errors=True)
    return NewPlugin(
        plugin=names["plugin"],
        package=names["package"],
        distribution=names["distribution"],
        root=target,
        files=tuple(sorted(rendered)),
    )


def _check_target(target: Path) -> None:
    if not target.exists():
        return
    if not target.is_dir():
        raise PluginTemplateError(f"{target} exists and is not a directory")
    if any(target.iterdir()):
        raise PluginTemplateError(f"{target} exists and is not empty; choose another --dir")


def _importable(package: str) -> bool:
    with contextlib.suppress(ImportError, ValueError):
        return importlib.util.find_spec(package) is not None
    return False


def _templates(folder: Traversable, prefix: str = "") -> list[tuple[str, Traversable]]:
    found: list[tuple[str, Traversable]] = []
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.extend(_templates(entry, relative + "/"))
        elif entry.name.endswith(TEMPLATE_SUFFIX):
            found.append((relative, entry))
    return found


def _substitute(text: str, values: dict[str, str], source: str) -> str:
    def value_of(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:  # a template bug, caught by the tests that render every file
            raise KeyError(f"{source}: unknown placeholder {{{{ {key} }}}}")
        return values[key]

    return _TOKEN.sub(value_of, text)
