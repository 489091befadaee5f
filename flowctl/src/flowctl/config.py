"""Named servers, kept in a small YAML file.

The file is ``$FLOWCTL_CONFIG`` when set, else ``config.yaml`` in the user's config directory
(``~/.config/flowctl/`` on Linux)::

    current: prod
    servers:
      default: http://127.0.0.1:8080
      prod: https://flowdapt.example.com

Which server a command talks to: ``--server`` (or ``$FLOWDAPT_SERVER``), else the current named
server, else ``http://127.0.0.1:8080``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from flowctl.errors import FlowctlError

DEFAULT_NAME: Final = "default"
DEFAULT_URL: Final = "http://127.0.0.1:8080"
CONFIG_ENV: Final = "FLOWCTL_CONFIG"


def config_path() -> Path:
    """Where the named servers are stored."""
    override = os.environ.get(CONFIG_ENV)
    if override:
        return Path(override).expanduser()
    from typer import get_app_dir

    return Path(get_app_dir("flowctl")) / "config.yaml"


def normalize_url(url: str) -> str:
    """Return ``url`` with a scheme and without a trailing slash, or raise ``FlowctlError``.

    Example::

        assert normalize_url("localhost:8080/") == "http://localhost:8080"
    """
    url = url.strip().rstrip("/")
    if "://" not in url:
        url = f"http://{url}"
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FlowctlError(f"not a server URL: {url!r} (expected http(s)://HOST[:PORT])")
    return url


@dataclass
class ServerConfig:
    """The named servers and which one is current."""

    path: Path
    current: str = DEFAULT_NAME
    servers: dict[str, str] = field(default_factory=lambda: {DEFAULT_NAME: DEFAULT_URL})

    @classmethod
    def load(cls, path: Path | None = None) -> ServerConfig:
        """Read the config file; a missing file gives the defaults."""
        path = path or config_path()
        if not path.exists():
            return cls(path=path)
        import yaml

        try:
            data: Any = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise FlowctlError(f"{path}: cannot read the flowctl config: {exc}") from None
        servers = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(servers, dict) or not all(
            isinstance(url, str) for url in servers.values()
        ):
            raise FlowctlError(f"{path}: 'servers' must map names to URLs")
        current = data.get("current", DEFAULT_NAME)
        return cls(path=path, current=str(current), servers={str(k): v for k, v in servers.items()})

    def save(self) -> None:
        """Write the file atomically (a crash leaves the old or the new file, never half)."""
        import yaml

        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        data = {"current": self.current, "servers": dict(sorted(self.servers.items()))}
        tmp.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        tmp.replace(self.path)

    def add(self, name: str, url: str) -> str:
        """Add or replace a named server; returns the normalised URL."""
        if not name.strip():
            raise FlowctlError("a server name cannot be empty")
        self.servers[name] = normalize_url(url)
        return self.servers[name]

    def use(self, name: str) -> None:
        """Make ``name`` the current server."""
        self._require(name)
        self.current = name

    def remove(self, name: str) -> None:
        """Forget a named server; removing the current one falls back to the default."""
        self._require(name)
        del self.servers[name]
        if self.current == name:
            self.current = DEFAULT_NAME

    def current_url(self) -> str:
        """The URL of the current server (the default URL if the name is not configured)."""
        return self.servers.get(self.current, DEFAULT_URL)

    def resolve(self, server: str | None) -> str:
        """The URL for a ``--server`` value: a URL, ``HOST:PORT``, a configured name, or None."""
        if server is None or not server.strip():
            return self.current_url()
        if server in self.servers:
            return self.servers[server]
        if "://" not in server and ":" not in server:
            known = ", ".join(sorted(self.servers))
            raise FlowctlError(f"unknown server {server!r}: give a URL or one of: {known}")
        return normalize_url(server)

    def _require(self, name: str) -> None:
        if name not in self.servers:
            known = ", ".join(sorted(self.servers)) or "none"
            raise FlowctlError(f"unknown server {name!r} (configured: {known})")
