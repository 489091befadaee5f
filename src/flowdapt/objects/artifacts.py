"""The context-aware artifact functions stage code calls: storage from the environment, the
namespace from the running stage.

    from flowdapt.compute.artifacts import get_artifact, new_artifact

    def save(report: str) -> None:
        artifact = get_artifact("report", create=True)     # in the run's namespace
        artifact.new_file("report.txt").write(report)

Explicit arguments win: ``get_artifact("x", namespace="ns", protocol="memory", base_path="t")``.
Unlike the original, the run context is consulted only when the namespace is not given, and
outside a stage the namespace is ``services.compute.default_namespace`` (``"default"``).
"""

from __future__ import annotations

from typing import Any

from flowdapt.objects.artifact import Artifact
from flowdapt.objects.config import current_namespace, storage_settings


def _get_values_from_context(
    namespace: str = "", protocol: str = "", base_path: str = "", **params: Any
) -> tuple[str, str, str, dict[str, Any]]:
    """``(namespace, protocol, base_path, params)`` with every missing value filled in: the
    run's namespace, the storage settings of the environment; explicit params win over the
    configured ones.

    The configured parameters belong to the configured protocol: with another protocol given
    explicitly only the explicit params are used (S3's ``endpoint_url`` and credentials mean
    nothing to ``file``, and would be an error for filesystems that check their arguments).
    """
    settings = storage_settings()
    configured = settings.parameters if protocol in ("", settings.protocol) else {}
    protocol = protocol or settings.protocol
    if not base_path:
        base_path = settings.model_copy(update={"protocol": protocol}).root()
    return current_namespace(namespace), protocol, base_path, {**configured, **params}


def get_artifact(
    name: str,
    namespace: str = "",
    protocol: str = "",
    base_path: str = "",
    *,
    create: bool = False,
    **params: Any,
) -> Artifact:
    """The artifact `name`; FileNotFoundError when missing, unless `create` makes it."""
    namespace, protocol, base_path, params = _get_values_from_context(
        namespace, protocol, base_path, **params
    )
    arguments: dict[str, Any] = {
        "name": name,
        "namespace": namespace,
        "protocol": protocol,
        "base_path": base_path,
        **params,
    }
    try:
        return Artifact.get_artifact(**arguments)
    except FileNotFoundError:
        if not create:
            raise
    try:
        return Artifact.new_artifact(**arguments)
    except FileExistsError:  # another creator was quicker: use theirs
        return Artifact.get_artifact(**arguments)


def new_artifact(
    name: str, namespace: str = "", protocol: str = "", base_path: str = "", **params: Any
) -> Artifact:
    """Create the artifact `name` (FileExistsError if it exists)."""
    namespace, protocol, base_path, params = _get_values_from_context(
        namespace, protocol, base_path, **params
    )
    return Artifact.new_artifact(
        name=name, namespace=namespace, protocol=protocol, base_path=base_path, **params
    )


def list_artifacts(
    namespace: str = "", protocol: str = "", base_path: str = "", **params: Any
) -> list[Artifact]:
    """The namespace's artifacts, sorted by name."""
    namespace, protocol, base_path, params = _get_values_from_context(
        namespace, protocol, base_path, **params
    )
    return Artifact.list_artifacts(
        namespace=namespace, protocol=protocol, base_path=base_path, **params
    )


def check_if_artifact_exists(
    name: str, namespace: str = "", protocol: str = "", base_path: str = "", **params: Any
) -> bool:
    """Whether the artifact `name` exists."""
    namespace, protocol, base_path, params = _get_values_from_context(
        namespace, protocol, base_path, **params
    )
    return Artifact.does_exist(
        name=name, namespace=namespace, protocol=protocol, base_path=base_path, **params
    )
