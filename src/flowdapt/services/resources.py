"""Creating, reading, updating and deleting resources: validation first, then the repository;
every change is announced on the bus (``com.event.<kind>.<kind>_created|updated|deleted``, data
the resource document)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from flowdapt.bus.base import EventBus
from flowdapt.domain.documents import RESOURCE_MODELS, validate_resource
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.events import Event, resource_event_type
from flowdapt.domain.resources import ResourceBase
from flowdapt.domain.timestamps import utcnow
from flowdapt.storage.base import ResourceRepository, Storage

logger = logging.getLogger(__name__)


class ResourceService:
    """The three resource kinds behind one small interface, keyed by kind name.

    >>> await service.create("workflow", {"metadata": {"name": "w"}, "spec": {...}})
    """

    def __init__(
        self,
        storage: Storage,
        *,
        bus: EventBus | None = None,
        name: str = "flowdapt",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repositories: dict[str, ResourceRepository[Any]] = {
            "workflow": storage.workflows,
            "config": storage.configs,
            "trigger_rule": storage.triggers,
        }
        self._clock = clock
        self._bus = bus
        self._source = f"{name}.resources"

    def parse(self, kind: str, document: Any) -> ResourceBase:
        """Validate a document for `kind`; the client's uid and timestamps are not trusted."""
        if not isinstance(document, Mapping):
            raise InvalidResourceError(
                f"a {kind} is a JSON object with kind, metadata and spec, "
                f"not {type(document).__name__}"
            )
        sent_kind = document.get("kind") or kind
        if sent_kind != kind:
            raise InvalidResourceError(
                f"kind: this endpoint takes {kind!r} resources, not {sent_kind!r}"
            )
        metadata = document.get("metadata")
        if isinstance(metadata, Mapping):
            now = self._clock()
            metadata = {
                **{
                    k: v
                    for k, v in metadata.items()
                    if k not in ("uid", "created_at", "updated_at")
                },
                "uid": uuid.uuid4(),
                "created_at": now,
                "updated_at": now,
            }
        resource = validate_resource(
            RESOURCE_MODELS[kind], {**document, "kind": kind, "metadata": metadata}
        )
        assert isinstance(resource, ResourceBase)
        return resource

    async def create(self, kind: str, document: Any) -> ResourceBase:
        resource: ResourceBase = await self._repositories[kind].create(self.parse(kind, document))
        await self._announce(kind, "created", resource)
        return resource

    async def update(self, kind: str, identifier: str, document: Any) -> ResourceBase:
        resource = self.parse(kind, document)
        repository = self._repositories[kind]
        stored = await repository.get(identifier)  # NotFoundError: nothing to update
        if resource.name != stored.name:
            raise InvalidResourceError(
                f"metadata.name: {resource.name!r} does not match the {kind} being updated "
                f"({stored.name!r}); create a new {kind} to rename"
            )
        updated: ResourceBase = await repository.update(resource)
        await self._announce(kind, "updated", updated)
        return updated

    async def get(self, kind: str, identifier: str) -> ResourceBase:
        resource: ResourceBase = await self._repositories[kind].get(identifier)
        return resource

    async def delete(self, kind: str, identifier: str) -> ResourceBase:
        resource: ResourceBase = await self._repositories[kind].delete(identifier)
        await self._announce(kind, "deleted", resource)
        return resource

    async def list(self, kind: str, *, limit: int | None = None, offset: int = 0) -> list[Any]:
        return await self._repositories[kind].list(limit=limit, offset=offset)

    async def _announce(self, kind: str, change: str, resource: ResourceBase) -> None:
        if self._bus is None:
            return
        event = Event(
            type=resource_event_type(kind, change),
            source=self._source,
            data=resource.model_dump(mode="json"),
        )
        try:
            await self._bus.publish(event)
        except Exception:  # the change is stored; a bus problem must not fail the request
            logger.warning(
                "could not announce %s %s %s", kind, resource.name, change, exc_info=True
            )
