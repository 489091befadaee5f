"""The resource half of the storage contract, on every backend and for every resource kind."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta, timezone

import pytest

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.storage import Storage
from tests.storage.samples import RESOURCES, T0, config, workflow

by_kind = pytest.mark.parametrize("kind", sorted(RESOURCES))


def repository(storage: Storage, kind: str):
    return getattr(storage, kind)


@by_kind
async def test_create_then_get_by_name_and_by_uid(storage: Storage, kind: str) -> None:
    resource = RESOURCES[kind]("first")
    repo = repository(storage, kind)

    created = await repo.create(resource)

    assert created.model_dump() == resource.model_dump()
    by_name = await repo.get("first")
    by_uid = await repo.get(str(resource.metadata.uid))
    assert by_name.model_dump() == by_uid.model_dump() == resource.model_dump()
    assert type(by_name) is type(resource)


@by_kind
async def test_uid_is_accepted_in_any_spelling(storage: Storage, kind: str) -> None:
    resource = RESOURCES[kind]("spelled")
    repo = repository(storage, kind)
    await repo.create(resource)

    found = await repo.get(resource.metadata.uid.hex.upper())

    assert found.metadata.name == "spelled"


@by_kind
async def test_duplicate_name_or_uid_is_refused(storage: Storage, kind: str) -> None:
    repo = repository(storage, kind)
    original = RESOURCES[kind]("taken")
    await repo.create(original)

    with pytest.raises(AlreadyExistsError, match="taken"):
        await repo.create(RESOURCES[kind]("taken"))
    same_uid = RESOURCES[kind]("other")
    same_uid.metadata.uid = original.metadata.uid
    with pytest.raises(AlreadyExistsError):
        await repo.create(same_uid)
    assert await repo.count() == 1


@by_kind
async def test_concurrent_creates_of_one_name_have_exactly_one_winner(
    storage: Storage, kind: str
) -> None:
    repo = repository(storage, kind)
    contenders = [RESOURCES[kind]("race") for _ in range(4)]

    outcomes = await asyncio.gather(*(repo.create(r) for r in contenders), return_exceptions=True)

    winners = [o for o in outcomes if not isinstance(o, BaseException)]
    losers = [o for o in outcomes if isinstance(o, BaseException)]
    assert len(winners) == 1
    assert all(isinstance(loser, AlreadyExistsError) for loser in losers)
    assert (await repo.get("race")).metadata.uid == winners[0].metadata.uid


@by_kind
async def test_update_keeps_identity_and_creation_time(storage: Storage, kind: str) -> None:
    repo = repository(storage, kind)
    original = RESOURCES[kind]("evolving")
    original.metadata.created_at = original.metadata.updated_at = T0
    await repo.create(original)
    replacement = RESOURCES[kind]("evolving")
    replacement.metadata.annotations = {"version": "2"}

    updated = await repo.update(replacement)

    assert updated.metadata.uid == original.metadata.uid != replacement.metadata.uid
    assert updated.metadata.created_at == T0
    assert updated.metadata.updated_at > T0 + timedelta(days=1)
    assert updated.metadata.annotations == {"version": "2"}
    assert (await repo.get("evolving")).model_dump() == updated.model_dump()
    assert await repo.count() == 1


@by_kind
async def test_missing_resources_are_not_found(storage: Storage, kind: str) -> None:
    repo = repository(storage, kind)
    await repo.create(RESOURCES[kind]("present"))

    for identifier in ("absent", str(uuid.uuid4())):
        with pytest.raises(NotFoundError, match=identifier):
            await repo.get(identifier)
        with pytest.raises(NotFoundError):
            await repo.delete(identifier)
    with pytest.raises(NotFoundError, match="absent"):
        await repo.update(RESOURCES[kind]("absent"))
    assert await repo.count() == 1


@by_kind
async def test_delete_by_name_or_uid_returns_what_was_stored(storage: Storage, kind: str) -> None:
    repo = repository(storage, kind)
    first, second = RESOURCES[kind]("one"), RESOURCES[kind]("two")
    await repo.create(first)
    await repo.create(second)

    deleted_by_name = await repo.delete("one")
    deleted_by_uid = await repo.delete(str(second.metadata.uid))

    assert deleted_by_name.model_dump() == first.model_dump()
    assert deleted_by_uid.model_dump() == second.model_dump()
    assert await repo.count() == 0
    with pytest.raises(NotFoundError):
        await repo.get("one")
    await repo.create(RESOURCES[kind]("one"))  # the name is free again


@by_kind
async def test_list_orders_by_name_bytewise_and_paginates(storage: Storage, kind: str) -> None:
    repo = repository(storage, kind)
    names = ["b", "a_1", "A", "c", "a-2", "B9", "a"]
    for name in names:
        await repo.create(RESOURCES[kind](name))

    everything = [r.metadata.name for r in await repo.list()]
    first_page = [r.metadata.name for r in await repo.list(limit=3)]
    second_page = [r.metadata.name for r in await repo.list(limit=3, offset=3)]
    tail = [r.metadata.name for r in await repo.list(offset=6)]

    assert everything == sorted(names) == ["A", "B9", "a", "a-2", "a_1", "b", "c"]
    assert first_page + second_page + tail == everything
    assert await repo.count() == len(names)


@by_kind
async def test_timestamps_come_back_as_the_same_aware_utc_instant(
    storage: Storage, kind: str
) -> None:
    repo = repository(storage, kind)
    resource = RESOURCES[kind]("timed")
    plus_two = timezone(timedelta(hours=2))
    resource.metadata.created_at = T0.astimezone(plus_two)
    resource.metadata.updated_at = T0 + timedelta(microseconds=1)
    await repo.create(resource)

    stored = (await repo.list())[0]

    assert stored.metadata.created_at == T0
    assert stored.metadata.created_at.utcoffset() == timedelta(0)
    assert stored.metadata.updated_at == T0 + timedelta(microseconds=1)


async def test_returned_documents_are_copies(storage: Storage) -> None:
    await storage.configs.create(config("c"))
    fetched = await storage.configs.get("c")
    fetched.spec.data["a"].append(2)

    assert (await storage.configs.get("c")).spec.data == {"z": 1, "a": [1]}


async def test_workflow_documents_keep_what_the_user_wrote(storage: Storage) -> None:
    original = workflow("w", target="tests.resources.stages.add", group="g")
    await storage.workflows.create(original)

    stored = await storage.workflows.get("w")

    assert stored.spec.stages[0].target == "tests.resources.stages.add"
    assert stored.spec.stages[0].options == {"retries": 1}
    assert stored.metadata.annotations == {"group": "g"}
    assert stored.stage_groups() == [["a"]]
