"""Whole-workflow rules: every problem reported at once, each naming its stage and field."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from flowdapt.domain.documents import validate_resource
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.workflow_rules import stage_groups


def stage(name, *depends_on, **fields):
    return {"name": name, "target": f"mod.{name}", "depends_on": list(depends_on), **fields}


def workflow(*stages):
    return {"metadata": {"name": "w"}, "spec": {"stages": list(stages)}}


def problems_of(*stages):
    with pytest.raises(InvalidResourceError) as info:
        validate_resource(WorkflowResource, workflow(*stages))
    message = str(info.value)
    assert message.startswith("invalid workflow:")
    for line in info.value.problems:
        assert line in message
    return info.value.problems


def cycle_members(line):
    assert "cycle" in line
    return line.split("cycle ", 1)[1].split(" -> ")


CASES = [
    pytest.param(
        [stage("a"), stage("b"), stage("a")],
        "spec.stages[2].name: duplicate stage name 'a'",
        ["spec.stages[0]"],
        id="duplicate-name",
    ),
    pytest.param(
        [stage("a"), stage("b", "ghost")],
        "spec.stages[1] (b).depends_on: unknown stage 'ghost'",
        [],
        id="unknown-dependency",
    ),
    pytest.param(
        [stage("a"), stage("b", "a", "a")],
        "spec.stages[1] (b).depends_on: a listed more than once",
        [],
        id="duplicate-dependency",
    ),
    pytest.param([stage("a", "a")], "spec.stages: dependency cycle a -> a", [], id="self-loop"),
    pytest.param(
        [stage("a", type="map")],
        "spec.stages[0] (a).type: unknown stage type 'map'",
        [],
        id="unknown-type",
    ),
    pytest.param(
        [stage("a", resources={"memory": "lots"})],
        "spec.stages[0] (a).resources.memory:",
        ["'lots'"],
        id="memory-lots",
    ),
    pytest.param(
        [stage("a", resources={"cpus": -1})],
        "spec.stages[0] (a).resources.cpus:",
        ["non-negative", "-1"],
        id="cpus-negative",
    ),
    pytest.param(
        [stage("a", resources={"cpus": "x"})],
        "spec.stages[0] (a).resources.cpus:",
        ["'x'"],
        id="cpus-string",
    ),
    pytest.param(
        [stage("a"), stage("gpu_job", "a", resources={"gpus": True})],
        "spec.stages[1] (gpu_job).resources.gpus:",
        ["True"],
        id="gpus-bool",
    ),
    pytest.param(
        [stage("p", type="parameterized")],
        "spec.stages[0] (p): a parameterized stage needs something to map over",
        ["map_on"],
        id="parameterized-without-input",
    ),
    pytest.param(
        [stage("a", options={"retries": -1})],
        "spec.stages[0] (a).options.retries:",
        ["greater than or equal to 0"],
        id="retries-negative",
    ),
    pytest.param(
        [stage("a", options={"timeout": 0})],
        "spec.stages[0] (a).options.timeout:",
        ["greater than 0"],
        id="timeout-zero",
    ),
    pytest.param(
        [stage("a", options={"pool": "gpu"})],
        "spec.stages[0] (a).options.pool:",
        ["'thread'", "'process'"],
        id="pool-unknown",
    ),
    pytest.param(
        [{"name": "", "target": "pkg."}],
        "spec.stages[0] ().name: a stage needs a name",
        [],
        id="empty-name",
    ),
    pytest.param([], "spec.stages:", ["at least 1"], id="no-stages"),
]


@pytest.mark.parametrize(("stages", "prefix", "also"), CASES)
def test_single_problem_names_stage_and_field(stages, prefix, also):
    [problem] = problems_of(*stages)
    assert problem.startswith(prefix)
    for fragment in also:
        assert fragment in problem


def test_model_validate_raises_validation_error_with_the_same_lines():
    with pytest.raises(ValidationError) as info:
        WorkflowResource.model_validate(workflow(stage("a"), stage("b", "ghost")))
    assert "spec.stages[1] (b).depends_on: unknown stage 'ghost'" in str(info.value)


def test_three_cycle_reports_the_cycle():
    [problem] = problems_of(stage("a", "c"), stage("b", "a"), stage("c", "b"))
    assert problem.startswith("spec.stages: dependency cycle ")
    members = cycle_members(problem)
    assert members[0] == members[-1]
    assert sorted(members[:-1]) == ["a", "b", "c"]
    depends = {"a": "c", "b": "a", "c": "b"}
    for left, right in itertools.pairwise(members):
        assert depends[left] == right  # "x -> y" reads "x depends on y"


def test_several_problems_reported_at_once():
    problems = problems_of(
        stage("a", type="weird"),
        stage("b", "missing"),
        stage("c", "a", resources={"memory": "lots"}, options={"retries": -2}),
        stage("a"),
    )
    assert len(problems) == 5
    assert any(p.startswith("spec.stages[3].name: duplicate stage name 'a'") for p in problems)
    assert any(p.startswith("spec.stages[0] (a).type:") for p in problems)
    assert any(p.startswith("spec.stages[1] (b).depends_on:") for p in problems)
    assert any(p.startswith("spec.stages[2] (c).resources.memory:") for p in problems)
    assert any(p.startswith("spec.stages[2] (c).options.retries:") for p in problems)


def test_cycle_not_reported_alongside_other_problems():
    problems = problems_of(stage("a", "b"), stage("b", "a"), stage("c", "nowhere"))
    assert problems == ["spec.stages[2] (c).depends_on: unknown stage 'nowhere'"]


def test_field_errors_name_the_stage_index():
    [problem] = problems_of(stage("a", priority="high"))
    assert problem.startswith("spec.stages[0].priority: ")


@pytest.mark.parametrize(
    "extra",
    [
        {"type": "parameterized", "options": {"map_on": "items"}},
        {"type": "parameterized", "map_on": "items"},
        {"resources": {"memory": 512, "cpus": 0, "labels_x": 2.5}},
        {"options": {"retries": 3, "timeout": 1.5, "pool": "process", "anything": [1]}},
    ],
    ids=["param-options-map_on", "param-stage-map_on", "resources", "options"],
)
def test_valid_single_stages(extra):
    resource = validate_resource(WorkflowResource, workflow(stage("a", **extra)))
    assert resource.spec.stages[0].name == "a"


def test_nan_cpus_rejected():
    [problem] = problems_of(stage("a", resources={"cpus": float("nan")}))
    assert problem.startswith("spec.stages[0] (a).resources.cpus:")


def test_infinite_memory_is_an_invalid_resource():
    [problem] = problems_of(stage("a", resources={"memory": float("inf")}))
    assert problem.startswith("spec.stages[0] (a).resources.memory:")


@st.composite
def dags(draw, max_stages=15):
    """(stages in shuffled declaration order, {name: depends_on}) for a random DAG."""
    n = draw(st.integers(min_value=1, max_value=max_stages))
    depends = {}
    for i in range(n):
        earlier = draw(st.lists(st.integers(0, i - 1), unique=True)) if i else []
        depends[f"s{i}"] = [f"s{j}" for j in earlier]
    order = draw(st.permutations(list(depends)))
    return [stage(name, *depends[name]) for name in order], depends


@given(dags())
def test_random_dags_validate_and_group(dag):
    stages, depends = dag
    resource = validate_resource(WorkflowResource, workflow(*stages))
    declared = [s["name"] for s in stages]
    assert [s.name for s in resource.spec.stages] == declared
    groups = stage_groups(resource.spec.stages)
    flat = [name for group in groups for name in group]
    assert sorted(flat) == sorted(declared)
    assert len(flat) == len(set(flat))
    group_of = {name: i for i, group in enumerate(groups) for name in group}
    position = {name: i for i, name in enumerate(declared)}
    for name, deps in depends.items():
        for dep in deps:
            assert group_of[dep] < group_of[name]
    for group in groups:
        assert group == sorted(group, key=position.__getitem__)
    # Every stage in a later group waits on something in the group just before it.
    for index, group in enumerate(groups[1:], start=1):
        for name in group:
            assert any(group_of[d] == index - 1 for d in depends[name])


@given(dags(), st.data())
def test_back_edges_are_rejected_as_cycles(dag, data):
    stages, depends = dag
    n = len(depends)
    later = data.draw(st.integers(0, n - 1), label="later")
    earlier = data.draw(st.integers(0, later), label="earlier")
    lo, hi = f"s{earlier}", f"s{later}"
    by_name = {s["name"]: s for s in stages}
    # hi depends on lo (forward edge) and lo depends on hi (back edge): a cycle.
    if lo != hi and lo not in by_name[hi]["depends_on"]:
        by_name[hi]["depends_on"].append(lo)
    by_name[lo]["depends_on"].append(hi)
    problems = problems_of(*stages)
    assert len(problems) == 1
    members = cycle_members(problems[0])
    assert members[0] == members[-1]
    for left, right in itertools.pairwise(members):
        assert right in by_name[left]["depends_on"]
