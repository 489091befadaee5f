"""The read cache in front of workflows and configs."""

from __future__ import annotations

from flowdapt.domain.resources import WorkflowResource
from flowdapt.storage.cache import CachedResourceRepository
from flowdapt.storage.memory import MemoryStorage


def workflow(name: str, annotation: str = "a") -> WorkflowResource:
    return WorkflowResource.model_validate(
        {
            "metadata": {"name": name, "annotations": {"v": annotation}},
            "spec": {"stages": [{"name": "s", "target": "m.f"}]},
        }
    )


async def test_reads_are_cached_and_writes_through_it_invalidate():
    storage = MemoryStorage()
    await storage.start()
    now = [0.0]
    cached = CachedResourceRepository(storage.workflows, ttl=5, clock=lambda: now[0])
    created = await cached.create(workflow("w"))
    assert (await cached.get("w")).metadata.annotations == {"v": "a"}
    assert (await cached.get(str(created.metadata.uid))).name == "w"
    await storage.workflows.update(workflow("w", "b"))  # behind the cache's back
    assert (await cached.get("w")).metadata.annotations == {"v": "a"}  # still cached
    now[0] = 6.0  # past the ttl: another server's write becomes visible
    assert (await cached.get("w")).metadata.annotations == {"v": "b"}
    await cached.update(workflow("w", "c"))  # through the cache: visible at once
    assert (await cached.get("w")).metadata.annotations == {"v": "c"}
    assert [w.name for w in await cached.list()] == ["w"]
    await cached.delete("w")
    assert await cached.list() == []


async def test_callers_cannot_change_the_cached_objects():
    storage = MemoryStorage()
    await storage.start()
    cached = CachedResourceRepository(storage.workflows)
    await cached.create(workflow("w"))
    first = await cached.get("w")
    first.metadata.annotations["v"] = "mutated"
    assert (await cached.get("w")).metadata.annotations == {"v": "a"}


async def test_a_read_racing_a_write_does_not_cache_the_old_version():
    storage = MemoryStorage()
    await storage.start()
    cached = CachedResourceRepository(storage.workflows)
    await cached.create(workflow("w"))

    class SlowRead:
        """The inner repository, with a write landing while a read is in flight."""

        async def get(self, identifier):
            old = await storage.workflows.get(identifier)
            await cached.update(workflow("w", "new"))
            return old

        def __getattr__(self, name):
            return getattr(storage.workflows, name)

    cached._inner = SlowRead()
    assert (await cached.get("w")).metadata.annotations == {"v": "a"}  # what it read
    cached._inner = storage.workflows
    assert (await cached.get("w")).metadata.annotations == {"v": "new"}  # nothing stale kept
