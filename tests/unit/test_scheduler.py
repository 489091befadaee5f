"""The scheduler: a pure state machine releasing stages once their dependencies finished."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdapt.domain.resources import WorkflowResource
from flowdapt.engine.graph import WorkflowGraph
from flowdapt.engine.scheduler import Scheduler


def stage(name, *depends_on, priority=None):
    return {"name": name, "target": "builtins.dict", "depends_on": list(depends_on),
            "priority": priority}  # fmt: skip


def scheduler(*stages):
    resource = WorkflowResource.model_validate(
        {"metadata": {"name": "w"}, "spec": {"stages": list(stages)}}
    )
    return Scheduler(WorkflowGraph.build(resource))


def names(released):
    return [r.name for r in released]


def test_roots_released_first_with_no_inputs():
    s = scheduler(stage("a"), stage("b", "a"), stage("c"))
    released = s.take_ready()
    assert names(released) == ["a", "c"]
    assert [r.inputs for r in released] == [(), ()]
    assert s.running == {"a", "c"}
    assert s.not_started == {"b"}
    assert s.take_ready() == []  # each stage handed out once


def test_released_only_after_all_dependencies_with_inputs_in_depends_on_order():
    s = scheduler(stage("a"), stage("b"), stage("c", "b", "a"))
    assert names(s.take_ready()) == ["a", "b"]
    s.complete("a", "A")
    assert s.take_ready() == []
    assert not s.done
    s.complete("b", "B")
    [ready] = s.take_ready()
    assert ready.name == "c"
    assert ready.inputs == ("B", "A")
    s.complete("c", "C")
    assert s.done
    assert s.result() == "C"


def test_priority_orders_released_stages_ties_by_declaration():
    s = scheduler(
        stage("low", priority=1),
        stage("high", priority=5),
        stage("none"),
        stage("high2", priority=5),
        stage("neg", priority=-3),
    )
    assert names(s.take_ready()) == ["high", "high2", "low", "none", "neg"]


def test_priority_among_dependents_released_together():
    s = scheduler(
        stage("root"),
        stage("x", "root"),
        stage("y", "root", priority=2),
        stage("z", "root", priority=2),
    )
    s.take_ready()
    s.complete("root", 1)
    released = s.take_ready()
    assert names(released) == ["y", "z", "x"]
    assert all(r.inputs == (1,) for r in released)


def test_several_sinks_give_a_mapping_in_declaration_order():
    s = scheduler(stage("a"), stage("z_sink", "a"), stage("b_sink", "a"), stage("lone"))
    for ready in s.take_ready():
        s.complete(ready.name, ready.name.upper())
    for ready in s.take_ready():
        s.complete(ready.name, (*ready.inputs, ready.name))
    assert s.done
    result = s.result()
    assert result == {"z_sink": ("A", "z_sink"), "b_sink": ("A", "b_sink"), "lone": "LONE"}
    assert list(result) == ["z_sink", "b_sink", "lone"]


def test_sink_result_may_be_none():
    s = scheduler(stage("only"))
    s.take_ready()
    s.complete("only", None)
    assert s.done
    assert s.result() is None


@pytest.mark.parametrize("how", ["stop", "abandon"])
def test_stopping_releases_nothing_more(how):
    s = scheduler(stage("a"), stage("b"), stage("c", "a"), stage("d", "b"))
    assert names(s.take_ready()) == ["a", "b"]
    if how == "stop":
        s.stop()
    else:
        s.abandon("a")
        assert s.running == {"b"}
    assert not s.done  # b still runs
    if how == "stop":
        s.complete("a", 1)
    s.complete("b", 2)
    assert s.take_ready() == []
    assert s.running == frozenset()
    assert s.done
    assert s.not_started == {"c", "d"}


def test_stop_before_anything_runs_is_done_at_once():
    s = scheduler(stage("a"))
    s.stop()
    assert s.done
    assert s.take_ready() == []
    assert s.not_started == {"a"}


def test_not_done_while_stages_remain():
    s = scheduler(stage("a"), stage("b", "a"))
    assert not s.done
    s.take_ready()
    s.complete("a", 0)
    assert not s.done  # b is ready but not yet taken
    s.take_ready()
    assert not s.done
    s.complete("b", 0)
    assert s.done


def test_intermediate_results_are_released():
    s = scheduler(stage("a"), stage("b", "a"), stage("c", "a"), stage("d", "b"))
    s.take_ready()
    s.complete("a", "A")
    [b, c] = s.take_ready()
    assert (b.inputs, c.inputs) == (("A",), ("A",))
    assert "a" not in s._results  # both dependents took it
    s.complete("b", "B")
    s.complete("c", "C")
    assert s._results == {"b": "B", "c": "C"}
    [d] = s.take_ready()
    assert d.inputs == ("B",)
    assert s._results == {"c": "C"}  # c is a sink and keeps its value
    s.complete("d", "D")
    assert s.result() == {"c": "C", "d": "D"}


def test_result_held_until_last_dependent_takes_it():
    s = scheduler(stage("a"), stage("slow"), stage("b", "a"), stage("c", "a", "slow"))
    s.take_ready()
    s.complete("a", "A")
    assert names(s.take_ready()) == ["b"]
    assert s._results["a"] == "A"  # c still needs it
    s.complete("slow", "S")
    [c] = s.take_ready()
    assert c.inputs == ("A", "S")
    assert "a" not in s._results


@st.composite
def dags(draw):
    n = draw(st.integers(min_value=1, max_value=15))
    depends = {}
    for i in range(n):
        earlier = draw(st.lists(st.integers(0, i - 1), unique=True)) if i else []
        depends[f"s{i}"] = [f"s{j}" for j in draw(st.permutations(earlier))]
    order = draw(st.permutations(list(depends)))
    priorities = draw(st.lists(st.none() | st.integers(-3, 3), min_size=n, max_size=n))
    pairs = zip(order, priorities, strict=True)
    return [stage(name, *depends[name], priority=p) for name, p in pairs]


@given(dags(), st.data())
def test_random_completion_order_runs_every_stage_once_in_topological_order(stages, data):
    s = scheduler(*stages)
    depends = {spec["name"]: spec["depends_on"] for spec in stages}
    rank = {spec["name"]: (-(spec["priority"] or 0), i) for i, spec in enumerate(stages)}
    cache = {}

    def value(name):
        if name not in cache:
            cache[name] = (name, tuple(value(d) for d in depends[name]))
        return cache[name]

    finished, running = [], []
    while not s.done:
        batch = s.take_ready()
        assert names(batch) == sorted(names(batch), key=rank.__getitem__)
        for ready in batch:
            assert all(d in finished for d in depends[ready.name])
            assert ready.inputs == tuple(value(d) for d in depends[ready.name])
            running.append(ready)
        assert {r.name for r in running} == s.running
        assert running, "scheduler stalled with stages left"
        ready = running.pop(data.draw(st.integers(0, len(running) - 1), label="complete"))
        s.complete(ready.name, (ready.name, ready.inputs))
        finished.append(ready.name)
    assert sorted(finished) == sorted(depends)
    assert len(finished) == len(set(finished))
    assert s.not_started == frozenset()
    takers = {d for deps in depends.values() for d in deps}
    sinks = [spec["name"] for spec in stages if spec["name"] not in takers]
    assert set(s._results) == set(sinks)  # every intermediate result was dropped
    if len(sinks) == 1:
        assert s.result() == value(sinks[0])
    else:
        assert list(s.result().items()) == [(name, value(name)) for name in sinks]
