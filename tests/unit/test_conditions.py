"""The trigger condition language: validation naming the path, evaluation without eval."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdapt.domain.conditions import condition_problems, evaluate, read_path
from flowdapt.domain.documents import validate_resource
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.events import WORKFLOW_FINISHED, Event
from flowdapt.domain.resources import TriggerRuleResource

FAILED_TEST_SIMPLE = {
    "and": [
        {"eq": [{"var": "type"}, WORKFLOW_FINISHED]},
        {"eq": [{"var": "data.workflow"}, "test_simple"]},
        {"eq": [{"var": "data.state"}, "failed"]},
    ]
}


def event(**data) -> dict:
    return Event(type=WORKFLOW_FINISHED, data=data).model_dump(mode="json")


def test_the_spec_example_fires_only_for_a_failed_run_of_that_workflow():
    assert condition_problems(FAILED_TEST_SIMPLE) == []
    assert evaluate(FAILED_TEST_SIMPLE, event(workflow="test_simple", state="failed")) is True
    assert evaluate(FAILED_TEST_SIMPLE, event(workflow="test_simple", state="finished")) is False
    assert evaluate(FAILED_TEST_SIMPLE, event(workflow="other", state="failed")) is False


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        ({"eq": [1, 1]}, True),
        ({"ne": [1, 2]}, True),
        ({"gt": [2, 1]}, True),
        ({"lt": [2, 1]}, False),
        ({"ge": [2, 2]}, True),
        ({"le": [3, 2]}, False),
        ({"or": [False, {"eq": ["a", "a"]}]}, True),
        ({"and": [True, 0]}, False),
        ({"not": {"eq": [1, 2]}}, True),
        ({"not": [True]}, False),
        ({"bool": [[]]}, False),
        ({"bool": "x"}, True),
        ({"gt": ["a", 1]}, False),  # incompatible types: false, not a crash
        ({"eq": [1, True]}, False),  # JSON's true is not 1
        ({"ne": [0, False]}, True),
        ({"gt": [True, 0]}, False),
        ({"eq": [True, True]}, True),
        ({"eq": [{"var": "data.missing.deeper"}, None]}, True),  # missing path: null
        ({"eq": [{"var": "data.n.inner"}, None]}, True),  # var through a non-object: null
        ({"eq": [{"var": "data.items.1"}, "b"]}, True),
    ],
    ids=lambda value: str(value),
)
def test_operators(rule, expected):
    assert condition_problems(rule) == []
    assert evaluate(rule, event(n=5, items=["a", "b"])) is expected


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"like": [1, 2]}, "rule: unknown operator 'like'"),
        ({"eq": [1]}, "rule.eq: takes 2 argument(s), got 1"),
        ({"and": [{"eq": [1, 2]}, {"not": [1, 2]}]}, "rule.and[1].not: takes 1 argument(s)"),
        ({"or": [{"var": 3}]}, "rule.or[0].var: takes a dot path"),
        ({"eq": [1, 2], "ne": [1, 2]}, "exactly one operator"),
        ({"and": []}, "rule.and: takes at least 1 argument(s), got 0"),
    ],
)
def test_invalid_rules_name_the_path(rule, fragment):
    problems = condition_problems(rule)
    assert any(fragment in problem for problem in problems), problems


def test_a_trigger_with_an_invalid_condition_is_refused_with_the_path():
    document = {
        "metadata": {"name": "t"},
        "spec": {
            "type": "condition",
            "rule": {"and": [{"eq": [{"var": "type"}, "x"]}, {"nope": 1}]},
            "action": {"target": "run_workflow", "parameters": {"workflow": "w"}},
        },
    }
    with pytest.raises(InvalidResourceError) as info:
        validate_resource(TriggerRuleResource, document)
    assert info.value.problems == [
        "spec.rule.and[1]: unknown operator 'nope' (expected one of eq, ne, gt, lt, ge, le, "
        "and, or, not, bool, var)"
    ]


def test_read_path():
    assert read_path({"a": {"b": [1, {"c": 2}]}}, "a.b.1.c") == 2
    assert read_path({"a": 1}, "a.b") is None
    assert read_path({"a": [1]}, "a.5") is None


literals = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
expressions = st.recursive(
    literals,
    lambda inner: st.one_of(
        st.builds(lambda a, b: {"eq": [a, b]}, inner, inner),
        st.builds(lambda a, b: {"gt": [a, b]}, inner, inner),
        st.builds(lambda xs: {"and": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"or": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda a: {"not": [a]}, inner),
        st.builds(lambda p: {"var": p}, st.sampled_from(["type", "data.x", "data.x.y", "id"])),
    ),
    max_leaves=12,
)


@given(expressions, st.dictionaries(st.sampled_from(["x", "y"]), literals))
def test_any_valid_expression_evaluates_without_raising(expression, data):
    assert condition_problems(expression) == []
    evaluate(expression, event(**data))
