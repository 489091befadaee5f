"""The run half of the storage contract, on every backend."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta, timezone

import pytest

from flowdapt.domain.errors import AlreadyExistsError, NotFoundError
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.storage import Storage
from flowdapt.storage.codec import INTERRUPTED_ERROR_TYPE
from tests.storage.samples import T0, at


class Opaque:
    """A stage result JSON cannot express."""

    def __repr__(self) -> str:
        return "Opaque(42)"


def run(workflow: str = "w", *, started: float = 0, **fields: object) -> WorkflowRun:
    return WorkflowRun.model_validate({"workflow": workflow, "started_at": at(started), **fields})


async def test_create_then_get_by_uid_and_by_name(storage: Storage) -> None:
    new = run(stages=[StageRun(name="a")], source="trigger", server="alpha")

    created = await storage.runs.create(new)

    assert created.model_dump() == new.model_dump()
    assert (await storage.runs.get(str(new.uid))).model_dump() == new.model_dump()
    assert (await storage.runs.get(new.name)).model_dump() == new.model_dump()


async def test_duplicate_run_name_or_uid_is_refused(storage: Storage) -> None:
    first = await storage.runs.create(run())

    with pytest.raises(AlreadyExistsError):
        await storage.runs.create(run(name=first.name))
    with pytest.raises(AlreadyExistsError):
        await storage.runs.create(run(uid=first.uid))
    assert await storage.runs.count() == 1


async def test_concurrent_creates_of_one_run_name_have_exactly_one_winner(
    storage: Storage,
) -> None:
    outcomes = await asyncio.gather(
        *(storage.runs.create(run(name="same")) for _ in range(3)), return_exceptions=True
    )

    assert sum(isinstance(o, WorkflowRun) for o in outcomes) == 1
    assert sum(isinstance(o, AlreadyExistsError) for o in outcomes) == 2


async def test_update_writes_state_result_error_times_and_stages(storage: Storage) -> None:
    stored = await storage.runs.create(run(stages=[StageRun(name="a"), StageRun(name="b")]))
    stored.state = RunState.FAILED
    stored.finished_at = at(5)
    stored.error = ErrorInfo(type="ValueError", message="bad", traceback="tb", stage="b", item=3)
    stored.result = stored.error.as_result()
    stored.stages[0].state = StageState.FINISHED
    stored.stages[0].started_at, stored.stages[0].finished_at = at(1), at(2)
    stored.stages[1].items_total, stored.stages[1].items_failed = 10, 1

    await storage.runs.update(stored)

    again = await storage.runs.get(stored.name)
    assert again.state is RunState.FAILED
    assert again.finished_at == at(5)
    assert again.error == stored.error
    assert again.result == ["ValueError", "bad"]  # tuples come back as JSON arrays
    assert again.stages == stored.stages
    assert again.stage("a").duration == 1.0


async def test_update_of_a_missing_run_is_not_found(storage: Storage) -> None:
    with pytest.raises(NotFoundError):
        await storage.runs.update(run())


async def test_results_json_cannot_express_are_kept_as_their_repr(storage: Storage) -> None:
    stored = await storage.runs.create(run(result={"value": Opaque(), "items": (1, 2)}))
    stored.set_finished([Opaque(), {1, 2}.__class__.__name__])
    await storage.runs.update(stored)

    assert (await storage.runs.get(stored.name)).result == ["Opaque(42)", "set"]
    created = await storage.runs.create(run(result=Opaque()))
    assert (await storage.runs.get(str(created.uid))).result == "Opaque(42)"


async def test_run_times_round_trip_as_aware_utc_to_the_microsecond(storage: Storage) -> None:
    plus_five = timezone(timedelta(hours=5, minutes=30))
    new = run(started_at=T0.astimezone(plus_five), finished_at=at(0.000001), state="finished")
    await storage.runs.create(new)

    stored = await storage.runs.get(new.name)

    assert stored.started_at == T0
    assert stored.started_at.utcoffset() == timedelta(0)
    assert stored.finished_at == T0 + timedelta(microseconds=1)


async def test_list_is_newest_first_filtered_and_paginated(storage: Storage) -> None:
    for second in range(6):
        state = "finished" if second % 2 else "running"
        await storage.runs.create(run("a", started=second, name=f"a{second}", state=state))
    for second in (2.5, 7):
        await storage.runs.create(run("b", started=second, name=f"b{second}"))

    def names(runs: list[WorkflowRun]) -> list[str]:
        return [r.name for r in runs]

    assert names(await storage.runs.list()) == ["b7", "a5", "a4", "a3", "b2.5", "a2", "a1", "a0"]
    assert names(await storage.runs.list(workflow="a", limit=2, offset=1)) == ["a4", "a3"]
    assert names(await storage.runs.list(state=RunState.FINISHED)) == ["a5", "a3", "a1"]
    assert names(await storage.runs.list(workflow="a", state=RunState.RUNNING)) == [
        "a4",
        "a2",
        "a0",
    ]
    assert names(await storage.runs.list(limit=None, offset=7)) == ["a0"]
    assert names(await storage.runs.list(workflow="nothing")) == []
    assert await storage.runs.count() == 8
    assert await storage.runs.count(workflow="b") == 2
    assert await storage.runs.count(workflow="a", state=RunState.FINISHED) == 3


async def test_delete_by_name_or_uid(storage: Storage) -> None:
    first, second = await storage.runs.create(run()), await storage.runs.create(run())

    assert (await storage.runs.delete(first.name)).uid == first.uid
    assert (await storage.runs.delete(str(second.uid))).name == second.name
    for identifier in (first.name, str(uuid.uuid4())):
        with pytest.raises(NotFoundError):
            await storage.runs.delete(identifier)
        with pytest.raises(NotFoundError):
            await storage.runs.get(identifier)
    assert await storage.runs.count() == 0


async def test_fail_unfinished_settles_pending_and_running_runs(storage: Storage) -> None:
    stages = [
        StageRun(name="done", state=StageState.FINISHED, started_at=at(0), finished_at=at(1)),
        StageRun(name="busy", state=StageState.RUNNING, started_at=at(1)),
        StageRun(name="later"),
    ]
    running = await storage.runs.create(run(state="running", stages=stages))
    pending = await storage.runs.create(run(state="pending"))
    finished = await storage.runs.create(run(state="finished", finished_at=at(1), result=7))

    settled = await storage.runs.fail_unfinished("the server stopped", at(60), server=None)

    assert settled == 2
    for uid in (running.uid, pending.uid):
        failed = await storage.runs.get(str(uid))
        assert failed.state is RunState.FAILED
        assert failed.finished_at == at(60)
        assert failed.error == ErrorInfo(type=INTERRUPTED_ERROR_TYPE, message="the server stopped")
        assert failed.result == [INTERRUPTED_ERROR_TYPE, "the server stopped"]
    states = [s.state for s in (await storage.runs.get(running.name)).stages]
    assert states == [StageState.FINISHED, StageState.FAILED, StageState.SKIPPED]
    assert (await storage.runs.get(finished.name)).model_dump() == finished.model_dump()
    assert await storage.runs.fail_unfinished("again", at(61), server=None) == 0


async def test_fail_unfinished_settles_only_the_named_servers_runs_and_ownerless_ones(
    storage: Storage,
) -> None:
    # Servers sharing a database: one starting up must not fail the runs another is executing.
    # Runs without a server were written before runs had an owner; any server settles them.
    mine = [await storage.runs.create(run(state=s, server="a")) for s in ("running", "pending")]
    legacy = await storage.runs.create(run(state="running"))
    theirs = [await storage.runs.create(run(state=s, server="b")) for s in ("running", "pending")]
    done = await storage.runs.create(run(state="finished", finished_at=at(1), server="a"))

    assert await storage.runs.fail_unfinished("a stopped", at(60), server="a") == 3

    for settled in (*mine, legacy):
        stored = await storage.runs.get(str(settled.uid))
        assert stored.state is RunState.FAILED and stored.finished_at == at(60)
        assert stored.server == settled.server
    for untouched in (*theirs, done):
        assert (await storage.runs.get(untouched.name)).model_dump() == untouched.model_dump()
    assert await storage.runs.fail_unfinished("a again", at(61), server="a") == 0
    assert await storage.runs.fail_unfinished("b stopped", at(62), server="b") == 2


async def test_update_keeps_the_server_the_run_was_created_with(storage: Storage) -> None:
    created = await storage.runs.create(run(state="running", server="a"))

    await storage.runs.update(
        created.model_copy(update={"server": "b", "state": RunState.FINISHED})
    )

    stored = await storage.runs.get(created.name)
    assert stored.server == "a" and stored.state is RunState.FINISHED


async def test_delete_finished_before_removes_only_old_final_runs(storage: Storage) -> None:
    old = [
        await storage.runs.create(run(state=state, finished_at=at(10)))
        for state in ("finished", "failed", "cancelled")
    ]
    recent = await storage.runs.create(run(state="finished", finished_at=at(30)))
    running = await storage.runs.create(run(state="running"))
    on_cutoff = await storage.runs.create(run(state="failed", finished_at=at(20)))

    assert await storage.runs.delete_finished_before(at(20)) == len(old)

    remaining = {r.uid for r in await storage.runs.list()}
    assert remaining == {recent.uid, running.uid, on_cutoff.uid}
    assert await storage.runs.delete_finished_before(at(20)) == 0
