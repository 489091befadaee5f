"""Property tests: the compiled condition evaluator agrees with a reference written here, for
hypothesis-generated rules and events; every generated rule validates; nothing raises."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from flowdapt.domain.conditions import compile_condition, condition_problems

KEYS = ["type", "data", "state", "workflow", "n", "items", "0", "1"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 5),
    st.floats(allow_nan=False, allow_infinity=False, width=16),
    st.sampled_from(["failed", "finished", "a", ""]),
)
events = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(st.sampled_from(KEYS), children, max_size=4)
    ),
    max_leaves=12,
).map(lambda value: {"type": "t", "data": value, "state": value})
paths = st.lists(st.sampled_from(KEYS), min_size=1, max_size=4).map(".".join)


def rules(depth: int = 3) -> st.SearchStrategy[Any]:
    leaf = st.one_of(scalars, paths.map(lambda path: {"var": path}))
    if depth == 0:
        return leaf
    inner = rules(depth - 1)
    comparison = st.tuples(st.sampled_from(["eq", "ne", "gt", "lt", "ge", "le"]), inner, inner).map(
        lambda t: {t[0]: [t[1], t[2]]}
    )
    logical = st.tuples(st.sampled_from(["and", "or"]), st.lists(inner, min_size=1, max_size=3))
    unary = st.tuples(st.sampled_from(["not", "bool"]), inner)
    return st.one_of(
        leaf,
        comparison,
        logical.map(lambda t: {t[0]: t[1]}),
        unary.map(lambda t: {t[0]: t[1]}),
    )


# --- the reference: a direct reading of the language's definition ------------------------------


def ref_path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def ref_compare(name: str, left: Any, right: Any) -> bool:
    numbers_ = (int, float)
    if (
        isinstance(left, numbers_)
        and isinstance(right, numbers_)
        and isinstance(left, bool) != isinstance(right, bool)
    ):
        return name == "ne"  # JSON's true is not the number 1
    if name == "eq":
        return bool(left == right)
    if name == "ne":
        return bool(left != right)
    numbers = (int, float)
    comparable = (isinstance(left, numbers) and isinstance(right, numbers)) or (
        type(left) is type(right) and isinstance(left, str | list)
    )
    if not comparable:
        return False
    try:
        return bool(
            {"gt": left > right, "lt": left < right, "ge": left >= right, "le": left <= right}[name]
        )
    except TypeError:  # lists holding incomparable items
        return False


def reference(rule: Any, event: dict[str, Any]) -> Any:
    if not isinstance(rule, dict):
        return rule
    ((name, value),) = rule.items()
    args = value if isinstance(value, list) else [value]
    if name == "var":
        return ref_path(event, args[0])
    if name == "and":
        return all(bool(reference(arg, event)) for arg in args)
    if name == "or":
        return any(bool(reference(arg, event)) for arg in args)
    if name == "not":
        return not reference(args[0], event)
    if name == "bool":
        return bool(reference(args[0], event))
    return ref_compare(name, reference(args[0], event), reference(args[1], event))


@settings(max_examples=400, deadline=None)
@given(rule=rules(), event=events)
def test_compiled_rules_agree_with_the_reference(rule: Any, event: dict[str, Any]) -> None:
    assert condition_problems(rule) == []
    assert compile_condition(rule)(event) == reference(rule, event)


@settings(max_examples=200, deadline=None)
@given(
    name=st.text(min_size=1, max_size=8).filter(
        lambda n: n not in {"eq", "ne", "gt", "lt", "ge", "le", "and", "or", "not", "bool", "var"}
    ),
    where=st.integers(0, 2),
)
def test_an_unknown_operator_anywhere_is_named_with_its_path(name: str, where: int) -> None:
    bad = {name: [1, 2]}
    rule = [bad, {"and": [True, bad]}, {"or": [{"not": bad}]}][where]
    expected = ["rule", "rule.and[1]", "rule.or[0].not[0]"][where]
    (problem,) = condition_problems(rule)
    assert problem.startswith(f"{expected}: unknown operator")
