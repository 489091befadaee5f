"""The object store: share values between stages and runs, in cluster memory where the executor
has it and in artifacts otherwise.

    from flowdapt.compute import object_store

    def train(data):
        object_store.put("model", fit(data))          # the run's namespace, strategy fallback

    def predict(rows):
        model = object_store.get("model")             # ObjectNotFoundError if nowhere
        return model.predict(rows)

Strategies: ``cluster_memory`` (only there), ``artifact`` (only storage: survives the
executor), ``fallback`` (the default, ``services.compute.default_os_strategy``): cluster memory
first, artifacts when cluster memory is unavailable or lacks the key. A missing key raises
ObjectNotFoundError, which is a FileNotFoundError, a KeyError and a
``flowdapt.lib.errors.ResourceNotFoundError``: whatever a plugin catches, it catches this.
"""

from __future__ import annotations

import contextlib
import logging
from enum import StrEnum
from typing import Any

from flowdapt.objects.artifacts import check_if_artifact_exists, get_artifact
from flowdapt.objects.cluster_memory import (
    check_for_key_in_cluster_memory,
    delete_from_cluster_memory,
    get_from_cluster_memory,
    put_in_cluster_memory,
)
from flowdapt.objects.config import current_namespace, default_strategy
from flowdapt.objects.errors import ClusterMemoryValueTooLargeError, ObjectNotFoundError
from flowdapt.objects.hooks import LoadHook, SaveHook, default_load_hook, default_save_hook

logger = logging.getLogger(__name__)


class Strategy(StrEnum):
    """Where values go; plain strings compare equal (``Strategy.ARTIFACT == "artifact"``)."""

    FALLBACK = "fallback"
    ARTIFACT = "artifact"
    CLUSTER_MEMORY = "cluster_memory"


def _strategy(strategy: str | None, artifact_only: bool) -> Strategy:
    if artifact_only:
        # A log line, not warnings.warn: plugin suites may run with warnings as errors.
        logger.warning(
            "DeprecationWarning: artifact_only is deprecated, use strategy='artifact' instead"
        )
        return Strategy.ARTIFACT
    name = strategy or default_strategy()
    try:
        return Strategy(name)
    except ValueError:  # the original treated any other word as fallback
        return Strategy.FALLBACK


def put(
    key: str,
    value: Any,
    *,
    namespace: str = "",
    artifact_only: bool = False,
    strategy: str | None = None,
    executor: str | None = None,
    cluster_memory_params: dict[str, Any] | None = None,
    artifact_params: dict[str, Any] | None = None,
    save_artifact_hook: SaveHook | None = None,
) -> None:
    """Store `value` under `key`: in cluster memory, or in the artifact `key` with the hook."""
    chosen = _strategy(strategy, artifact_only)
    namespace = current_namespace(namespace)
    if chosen is not Strategy.ARTIFACT:
        try:
            put_in_cluster_memory(
                key, value, namespace=namespace, backend=executor, **(cluster_memory_params or {})
            )
            return
        except Exception as exc:  # fallback is the documented answer to any failure here
            _log_failure("ClusterMemoryObjectPutFailed", key, namespace, exc)
            if chosen is Strategy.CLUSTER_MEMORY:
                raise
            if isinstance(exc, ClusterMemoryValueTooLargeError):
                logger.info("%s; stored in the artifact %r instead", exc, key)
            # An older value under this key in cluster memory would shadow the artifact.
            with contextlib.suppress(Exception):
                delete_from_cluster_memory(
                    key, namespace=namespace, backend=executor, **(cluster_memory_params or {})
                )
    artifact = get_artifact(key, namespace, create=True, **(artifact_params or {}))
    (save_artifact_hook or default_save_hook())(artifact, value)


def get(
    key: str,
    *,
    namespace: str = "",
    artifact_only: bool = False,
    strategy: str | None = None,
    executor: str | None = None,
    cluster_memory_params: dict[str, Any] | None = None,
    artifact_params: dict[str, Any] | None = None,
    load_artifact_hook: LoadHook | None = None,
) -> Any:
    """The value under `key`; ObjectNotFoundError (FileNotFoundError, KeyError and
    ResourceNotFoundError) if none."""
    chosen = _strategy(strategy, artifact_only)
    namespace = current_namespace(namespace)
    if chosen is not Strategy.ARTIFACT:
        try:
            return get_from_cluster_memory(
                key, namespace=namespace, backend=executor, **(cluster_memory_params or {})
            )
        except KeyError:
            if chosen is Strategy.CLUSTER_MEMORY:
                raise ObjectNotFoundError(key, namespace) from None
        except Exception as exc:  # fallback is the documented answer to any failure here
            _log_failure("ClusterMemoryObjectGetFailed", key, namespace, exc)
            if chosen is Strategy.CLUSTER_MEMORY:
                raise
    try:
        artifact = get_artifact(key, namespace, **(artifact_params or {}))
    except FileNotFoundError:
        raise ObjectNotFoundError(key, namespace) from None
    return (load_artifact_hook or default_load_hook())(artifact)


def delete(
    key: str,
    *,
    namespace: str = "",
    artifact_only: bool = False,
    strategy: str | None = None,
    executor: str | None = None,
    cluster_memory_params: dict[str, Any] | None = None,
    artifact_params: dict[str, Any] | None = None,
) -> None:
    """Remove `key` wherever the strategy keeps it (both places under fallback); a missing key
    is not an error."""
    chosen = _strategy(strategy, artifact_only)
    namespace = current_namespace(namespace)
    if chosen is not Strategy.ARTIFACT:
        try:
            delete_from_cluster_memory(
                key, namespace=namespace, backend=executor, **(cluster_memory_params or {})
            )
        except Exception as exc:  # fallback is the documented answer to any failure here
            _log_failure("ClusterMemoryObjectDeleteFailed", key, namespace, exc)
            if chosen is Strategy.CLUSTER_MEMORY:
                raise
        if chosen is Strategy.CLUSTER_MEMORY:
            return
    try:
        get_artifact(key, namespace, **(artifact_params or {})).delete()
    except FileNotFoundError:
        return


def exists(
    key: str,
    *,
    namespace: str = "",
    artifact_only: bool = False,
    strategy: str | None = None,
    executor: str | None = None,
    cluster_memory_params: dict[str, Any] | None = None,
    artifact_params: dict[str, Any] | None = None,
) -> bool:
    """Whether `key` holds a value in cluster memory (unless strategy artifact) or an artifact;
    cluster memory that cannot be reached counts as not holding it."""
    chosen = _strategy(strategy, artifact_only)
    namespace = current_namespace(namespace)
    if chosen is not Strategy.ARTIFACT:
        try:
            if check_for_key_in_cluster_memory(
                key, namespace=namespace, backend=executor, **(cluster_memory_params or {})
            ):
                return True
        except Exception as exc:  # unreachable cluster memory holds nothing
            _log_failure("ClusterMemoryObjectExistsFailed", key, namespace, exc)
    return check_if_artifact_exists(key, namespace, **(artifact_params or {}))


def _log_failure(event: str, key: str, namespace: str, exc: Exception) -> None:
    if not isinstance(exc, KeyError):
        logger.debug("%s: key %r in namespace %r: %r", event, key, namespace, exc)
