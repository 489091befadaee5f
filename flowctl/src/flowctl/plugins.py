"""The resource documents a plugin bundles, fetched from the server it is installed on.

Example::

    with FlowdaptClient(url) as client:
        bundle = plugin_resources(client, "weather")
        for doc in bundle.documents:
            client.apply(doc.body)

A plugin's package may also ship data files (CSV, JSON settings, ...). A YAML/JSON file in which
no document has a ``kind`` is not a resource file, so it is skipped and listed in ``skipped``.
A file that does look like resources is checked strictly, as ``apply -p`` checks files: one
malformed document raises :class:`~flowctl.errors.DocumentError`, and nothing is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowctl.documents import SUFFIXES, Document, check_documents, load_text
from flowctl.errors import DocumentError, NotFound

if TYPE_CHECKING:
    from flowctl.client import FlowdaptClient


@dataclass(frozen=True)
class PluginResources:
    """What ``plugin_resources`` found: the plugin as the server describes it, its resource
    documents (file by file, in order), the names of the files they came from, and the
    skipped non-resource files."""

    plugin: dict[str, Any]
    documents: list[Document]
    files: list[str]
    skipped: list[str]

    @property
    def problem(self) -> str | None:
        """The server's note when the plugin is broken or conflicts (our server sends
        ``status``/``error``; the original sends neither)."""
        status = self.plugin.get("status", "ok")
        if status == "ok":
            return None
        return f"{status}: {self.plugin.get('error') or 'no details'}"


def plugin_resources(client: FlowdaptClient, name: str) -> PluginResources:
    """Fetch and check every resource file the plugin `name` bundles.

    Raises :class:`~flowctl.errors.NotFound` for a name the server does not know,
    :class:`DocumentError` for a malformed resource file or a plugin that bundles none, and
    :class:`~flowctl.errors.Conflict` when several installed packages use the name.
    """
    try:
        plugin = client.get_plugin(name)
        listed = client.plugin_files(name)
    except NotFound as exc:
        raise NotFound(exc.status_code, f"unknown plugin {name!r}: {exc.detail}") from None
    documents: list[Document] = []
    used: list[str] = []
    skipped: list[str] = []
    for file in listed:
        if not file.lower().endswith(SUFFIXES):
            continue
        source = Path(f"plugin {name}") / file  # how error messages name the file
        try:
            text = client.plugin_file(name, file).decode("utf-8")
        except UnicodeDecodeError:
            raise DocumentError(source, "is not UTF-8 text") from None
        raw = load_text(source, text)
        if not any(isinstance(doc, dict) and "kind" in doc for doc in raw):
            skipped.append(file)
            continue
        documents.extend(check_documents(source, raw))
        used.append(file)
    if not documents:
        raise DocumentError(Path(f"plugin {name}"), "bundles no resource files (YAML or JSON)")
    return PluginResources(plugin=plugin, documents=documents, files=used, skipped=skipped)
