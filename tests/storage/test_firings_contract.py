"""The firing half of the storage contract, on every backend.

Claims are how a trigger firing happens once when several servers share a database, so they are
tested under concurrency too: within one storage, and (SQLite, PostgreSQL) across two storage
objects on the same database, which is what two servers are.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import timedelta, timezone
from pathlib import Path

import pytest

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.firings import Firing, FiringState
from flowdapt.storage import SQLStorage, Storage, TinyDBStorage
from flowdapt.storage.cache import CachedStorage
from tests.storage.conftest import CreateDatabase
from tests.storage.samples import at

EVENT_KEY = f"event:{uuid.uuid4().hex}"
SCHEDULE_KEY = "schedule:2026-12-02T15:05:00+00:00"


def firing(rule: str = "r", key: str = EVENT_KEY, *, fired: float = 0, **fields: object) -> Firing:
    return Firing.model_validate({"rule": rule, "key": key, "fired_at": at(fired), **fields})


async def test_a_second_claim_of_the_same_rule_and_key_is_refused(storage: Storage) -> None:
    first = firing()

    assert await storage.firings.claim(first) is True
    assert await storage.firings.claim(firing(fired=5, state="started")) is False

    stored = await storage.firings.list("r")
    assert [item.model_dump() for item in stored] == [first.model_dump()]


async def test_claiming_the_same_firing_again_is_refused_not_an_error(storage: Storage) -> None:
    # A retry after a lost connection may repeat a claim that was in fact written.
    claimed = firing()
    assert await storage.firings.claim(claimed)

    assert await storage.firings.claim(claimed) is False


async def test_a_uid_clash_under_another_key_is_an_error(storage: Storage) -> None:
    claimed = firing()
    assert await storage.firings.claim(claimed)

    with pytest.raises(AlreadyExistsError):
        await storage.firings.claim(claimed.model_copy(update={"key": SCHEDULE_KEY}))
    assert len(await storage.firings.list("r")) == 1


async def test_the_same_key_may_fire_each_rule_once(storage: Storage) -> None:
    assert await storage.firings.claim(firing("a", SCHEDULE_KEY))
    assert await storage.firings.claim(firing("b", SCHEDULE_KEY))
    assert await storage.firings.claim(firing("a", EVENT_KEY))

    assert not await storage.firings.claim(firing("b", SCHEDULE_KEY))
    assert len(await storage.firings.list("a")) == 2
    assert len(await storage.firings.list("b")) == 1


async def test_update_writes_state_run_and_error_only(storage: Storage) -> None:
    claimed = firing(fired=1)
    await storage.firings.claim(claimed)

    outcome = {"state": FiringState.FAILED, "run": "brave-otter", "error": "no workflow 'w'"}
    identity = {"key": "event:other", "fired_at": at(99)}  # fixed at the claim
    await storage.firings.update(claimed.model_copy(update={**outcome, **identity}))

    (stored,) = await storage.firings.list("r")
    assert stored.model_dump() == claimed.model_copy(update=outcome).model_dump()
    await storage.firings.update(stored.model_copy(update={"run": None, "error": None}))
    assert (await storage.firings.list("r"))[0].error is None


async def test_update_of_an_unclaimed_firing_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        await storage.firings.update(firing(state="started"))


async def test_latest_is_the_newest_firing_of_each_rule(storage: Storage) -> None:
    for rule, key, fired in [
        ("a", "k1", 10),
        ("a", "k3", 30),
        ("a", "k2", 20),
        ("b", "k1", 5),
        ("c", "k1", 1),
    ]:
        assert await storage.firings.claim(firing(rule, key, fired=fired))

    latest = await storage.firings.latest()
    assert {rule: item.key for rule, item in latest.items()} == {"a": "k3", "b": "k1", "c": "k1"}
    assert latest["a"].fired_at == at(30)

    chosen = await storage.firings.latest(["a", "c", "never-fired"])
    assert {rule: item.key for rule, item in chosen.items()} == {"a": "k3", "c": "k1"}
    assert await storage.firings.latest([]) == {}
    assert await storage.firings.latest({"b"}) == {"b": latest["b"]}


async def test_latest_breaks_ties_in_fired_at_like_list_does(storage: Storage) -> None:
    for key in ("k1", "k2", "k3"):
        await storage.firings.claim(firing("a", key, fired=7))

    (newest, *_) = await storage.firings.list("a")
    assert (await storage.firings.latest())["a"] == newest


async def test_list_is_one_rules_firings_newest_first_and_paginates(storage: Storage) -> None:
    for number in range(5):
        await storage.firings.claim(firing("a", f"k{number}", fired=number))
    await storage.firings.claim(firing("b", "k9", fired=100))

    keys = [item.key for item in await storage.firings.list("a")]
    assert keys == ["k4", "k3", "k2", "k1", "k0"]
    page = await storage.firings.list("a", limit=2, offset=1)
    assert [item.key for item in page] == ["k3", "k2"]
    assert len(await storage.firings.list("a", limit=None, offset=3)) == 2
    assert await storage.firings.list("nobody") == []


async def test_delete_before_removes_only_older_firings(storage: Storage) -> None:
    for number in range(4):
        await storage.firings.claim(firing("a", f"k{number}", fired=number))
    await storage.firings.claim(firing("b", "k", fired=0.5))

    assert await storage.firings.delete_before(at(2)) == 3  # k0, k1 and b's; k2 is not older

    assert [item.key for item in await storage.firings.list("a")] == ["k3", "k2"]
    assert await storage.firings.list("b") == []
    assert await storage.firings.delete_before(at(0)) == 0
    assert await storage.firings.claim(firing("a", "k0"))  # a removed key can fire again


async def test_pending_firings_older_than_the_cutoff_become_failed(storage: Storage) -> None:
    await storage.firings.claim(firing("a", "old", fired=0))  # pending, interrupted
    await storage.firings.claim(firing("a", "new", fired=5))  # pending, still in progress
    done = firing("a", "done", fired=0)
    await storage.firings.claim(done)
    done.state = FiringState.STARTED
    await storage.firings.update(done)

    assert await storage.firings.fail_pending_before(at(2), "interrupted") == 1
    by_key = {item.key: item for item in await storage.firings.list("a")}
    assert by_key["old"].state is FiringState.FAILED and by_key["old"].error == "interrupted"
    assert by_key["new"].state is FiringState.PENDING
    assert by_key["done"].state is FiringState.STARTED and by_key["done"].error is None
    assert await storage.firings.fail_pending_before(at(2), "interrupted") == 0


async def test_fired_at_round_trips_as_aware_utc_to_the_microsecond(storage: Storage) -> None:
    plus_five = timezone(timedelta(hours=5))
    claimed = Firing(rule="r", key=SCHEDULE_KEY, fired_at=at(0.000001).astimezone(plus_five))
    await storage.firings.claim(claimed)

    (stored,) = await storage.firings.list("r")
    assert stored.fired_at == at(0.000001)
    assert stored.fired_at.utcoffset() == timedelta(0)


async def test_concurrent_claims_of_one_key_have_exactly_one_winner(storage: Storage) -> None:
    contenders = [firing(fired=number) for number in range(20)]

    outcomes = await asyncio.gather(*(storage.firings.claim(item) for item in contenders))

    assert outcomes.count(True) == 1
    winner = contenders[outcomes.index(True)]
    assert [item.uid for item in await storage.firings.list("r")] == [winner.uid]


async def test_the_read_cache_passes_firings_through(storage: Storage) -> None:
    cached = CachedStorage(storage)

    assert cached.firings is storage.firings
    assert await cached.firings.claim(firing())
    assert not await cached.firings.claim(firing())


# A restart, and two servers on one database: persistent backends only.

Opener = Callable[[], Storage]


async def make_opener(backend: str, tmp_path: Path, pg_databases: CreateDatabase) -> Opener:
    """Makes new storage objects on one fresh database (each one like a server process)."""
    if backend == "tinydb":
        return lambda: TinyDBStorage(str(tmp_path / "db.json"))
    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path}/flowdapt.db"
    else:
        url = await pg_databases()
    return lambda: SQLStorage(url)


@pytest.mark.parametrize("backend", ["sqlite", "tinydb", "postgresql"])
async def test_a_firing_survives_a_restart(
    backend: str, tmp_path: Path, pg_databases: CreateDatabase
) -> None:
    opener = await make_opener(backend, tmp_path, pg_databases)
    before = opener()
    await before.start()
    claimed = firing(fired=3)
    await before.firings.claim(claimed)
    started = claimed.model_copy(update={"state": FiringState.STARTED, "run": "run-1"})
    await before.firings.update(started)
    await before.close()

    after = opener()
    await after.start()
    try:
        assert await after.firings.latest() == {"r": started}
        assert not await after.firings.claim(firing(fired=4))
    finally:
        await after.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])  # TinyDB is single-process
async def test_two_servers_claiming_the_same_keys_fire_each_once(
    backend: str, tmp_path: Path, pg_databases: CreateDatabase
) -> None:
    opener = await make_opener(backend, tmp_path, pg_databases)
    servers = [opener(), opener()]
    for server in servers:
        await server.start()
    try:
        keys = [f"event:{number}" for number in range(10)]
        attempts = [(key, attempt) for key in keys for attempt in range(6)]

        outcomes = await asyncio.gather(
            *(
                servers[attempt % 2].firings.claim(firing("r", key, fired=attempt))
                for key, attempt in attempts
            )
        )

        winners = [key for (key, _), won in zip(attempts, outcomes, strict=True) if won]
        assert sorted(winners) == sorted(keys)  # every key once, none twice
        stored = await servers[1].firings.list("r", limit=None)
        assert sorted(item.key for item in stored) == sorted(keys)
    finally:
        for server in servers:
            await server.close()
