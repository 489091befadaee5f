"""A read-through cache in front of a resource repository, for the lookups every run makes.

Starting a run reads its workflow and every config; with the cache those reads cost no database
round trip. Writes made through the cache invalidate it at once; changes written by another server
sharing the database are seen after at most `ttl` seconds.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic

from flowdapt.domain.resources import ConfigResource, WorkflowResource
from flowdapt.storage.base import R, ResourceRepository, Storage


class CachedResourceRepository(Generic[R]):
    """Caches `get` (by name and by uid) and the unpaginated `list()`; everything else passes
    through. Returned objects are copies, so callers cannot change the cached ones."""

    def __init__(
        self,
        inner: ResourceRepository[R],
        *,
        ttl: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._inner, self._ttl, self._clock = inner, ttl, clock
        self._by_key: dict[str, tuple[float, R]] = {}
        self._all: tuple[float, list[R]] | None = None
        # Bumped by every write: a read that began before a write must not cache what it saw.
        self._generation = 0

    def _fresh(self, stamp: float) -> bool:
        return self._clock() - stamp < self._ttl

    def invalidate(self) -> None:
        self._generation += 1
        self._by_key.clear()
        self._all = None

    async def get(self, identifier: str) -> R:
        cached = self._by_key.get(identifier)
        if cached is not None and self._fresh(cached[0]):
            return cached[1].model_copy(deep=True)
        generation = self._generation
        resource = await self._inner.get(identifier)
        if generation != self._generation:
            return resource  # not cached, so no copy needed
        stamp = self._clock()
        self._by_key[resource.name] = self._by_key[str(resource.metadata.uid)] = (stamp, resource)
        if identifier not in (resource.name, str(resource.metadata.uid)):
            self._by_key[identifier] = (stamp, resource)  # another spelling of the uid
        return resource.model_copy(deep=True)

    async def list(self, *, limit: int | None = None, offset: int = 0) -> list[R]:
        if limit is not None or offset:
            return await self._inner.list(limit=limit, offset=offset)
        if self._all is not None and self._fresh(self._all[0]):
            return [resource.model_copy(deep=True) for resource in self._all[1]]
        generation = self._generation
        resources = await self._inner.list()
        if generation == self._generation:
            self._all = (self._clock(), resources)
        return [resource.model_copy(deep=True) for resource in resources]

    async def count(self) -> int:
        return await self._inner.count()

    async def create(self, resource: R) -> R:
        self.invalidate()
        try:
            return await self._inner.create(resource)
        finally:
            self.invalidate()

    async def update(self, resource: R) -> R:
        self.invalidate()
        try:
            return await self._inner.update(resource)
        finally:
            self.invalidate()

    async def delete(self, identifier: str) -> R:
        self.invalidate()
        try:
            return await self._inner.delete(identifier)
        finally:
            self.invalidate()


class CachedStorage:
    """A storage whose workflows and configs are read through `CachedResourceRepository`."""

    def __init__(self, inner: Storage, *, ttl: float = 2.0) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.workflows: ResourceRepository[WorkflowResource] = CachedResourceRepository(
            inner.workflows, ttl=ttl
        )
        self.configs: ResourceRepository[ConfigResource] = CachedResourceRepository(
            inner.configs, ttl=ttl
        )
        self.triggers = inner.triggers
        self.runs = inner.runs
        self.firings = inner.firings  # claims must reach the database: never cached
        self.logs = inner.logs

    async def start(self) -> None:
        await self.inner.start()

    async def close(self) -> None:
        await self.inner.close()

    async def ping(self) -> bool:
        return await self.inner.ping()
