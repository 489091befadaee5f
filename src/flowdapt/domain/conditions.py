"""The condition language of trigger rules: a small expression tree evaluated against an event.

An expression is a literal (string, number, boolean, null, list) or a one-key mapping
``{operator: arguments}``. Operators: ``eq ne gt lt ge le`` (two arguments), ``and or`` (one or
more), ``not bool`` (one), ``var`` (a dot path into the event, e.g. ``data.workflow``). Nothing is
ever passed to ``eval``.

    rule = {"and": [
        {"eq": [{"var": "type"}, "com.event.workflow.workflow_finished"]},
        {"eq": [{"var": "data.workflow"}, "test_simple"]},
        {"eq": [{"var": "data.state"}, "failed"]},
    ]}
    condition_problems(rule)             # [] — valid
    evaluate(rule, event.model_dump())   # True for a failed run of test_simple

A path that does not exist reads as null; comparing values of incompatible types is false, not
an error.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

_COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "eq": operator.eq,
    "ne": operator.ne,
    "gt": operator.gt,
    "lt": operator.lt,
    "ge": operator.ge,
    "le": operator.le,
}
# operator -> (fewest, most) arguments; None: no upper bound
ARITY: dict[str, tuple[int, int | None]] = {
    **{name: (2, 2) for name in _COMPARISONS},
    "and": (1, None),
    "or": (1, None),
    "not": (1, 1),
    "bool": (1, 1),
    "var": (1, 1),
}


def _arguments(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


# Deeper rules are refused when applied: evaluating them must never exhaust the stack.
MAX_DEPTH = 64


def condition_problems(expression: Any, where: str = "rule", depth: int = 0) -> list[str]:
    """Every reason `expression` is not a valid condition, each naming its path in the rule."""
    if not isinstance(expression, Mapping):
        return []  # a literal
    if depth >= MAX_DEPTH:
        return [f"{where}: the rule nests deeper than {MAX_DEPTH} operators"]
    if len(expression) != 1:
        return [
            f"{where}: an expression is a mapping with exactly one operator, "
            f"got {sorted(map(str, expression)) or 'none'}"
        ]
    ((name, value),) = expression.items()
    if name not in ARITY:
        return [f"{where}: unknown operator {name!r} (expected one of {', '.join(ARITY)})"]
    arguments = _arguments(value)
    fewest, most = ARITY[name]
    if len(arguments) < fewest or (most is not None and len(arguments) > most):
        wanted = f"{fewest}" if fewest == most else f"at least {fewest}"
        return [f"{where}.{name}: takes {wanted} argument(s), got {len(arguments)}"]
    if name == "var":
        if not isinstance(arguments[0], str) or not arguments[0]:
            return [f"{where}.var: takes a dot path such as 'data.workflow', got {arguments[0]!r}"]
        return []
    problems: list[str] = []
    for index, argument in enumerate(arguments):
        problems += condition_problems(argument, f"{where}.{name}[{index}]", depth + 1)
    return problems


Condition = Callable[[Mapping[str, Any]], Any]


def compile_condition(expression: Any) -> Condition:
    """A (valid) expression turned once into nested closures: evaluating a rule then costs a few
    hundred nanoseconds per operator instead of re-walking the document (the trigger service
    evaluates every rule against every event)."""
    if not isinstance(expression, Mapping):
        return _constant(expression)
    ((name, value),) = expression.items()
    arguments = _arguments(value)
    if name == "var":
        path = arguments[0]
        if "." not in path:
            return lambda event: event.get(path) if isinstance(event, Mapping) else None
        return lambda event: read_path(event, path)
    parts = [compile_condition(argument) for argument in arguments]
    if name == "and":
        return lambda event: all(bool(part(event)) for part in parts)
    if name == "or":
        return lambda event: any(bool(part(event)) for part in parts)
    if name == "not":
        return lambda event: not parts[0](event)
    if name == "bool":
        return lambda event: bool(parts[0](event))
    return _comparison(_COMPARISONS[name], parts[0], parts[1])


def _constant(value: Any) -> Condition:
    return lambda _event: value


def _bool_against_number(left: Any, right: Any) -> bool:
    # JSON's true is not 1: Python's bool is an int, so tell them apart before comparing. The
    # first test settles the common case (values of one type) at once.
    kinds = (type(left), type(right))
    return (
        kinds[0] is not kinds[1]
        and (kinds[0] is bool) != (kinds[1] is bool)
        and isinstance(left, int | float)
        and isinstance(right, int | float)
    )


def _comparison(compare: Callable[[Any, Any], Any], left: Condition, right: Condition) -> Condition:
    unequal = compare is operator.ne  # values of different types are unequal, nothing else

    def condition(event: Mapping[str, Any]) -> bool:
        a, b = left(event), right(event)
        if _bool_against_number(a, b):
            return unequal
        try:
            return bool(compare(a, b))
        except TypeError:  # e.g. "a" > 1: not comparable, so the condition does not hold
            return False

    return condition


def evaluate(expression: Any, event: Mapping[str, Any]) -> Any:
    """The value of a (valid) expression for `event` (the event as a plain mapping)."""
    return compile_condition(expression)(event)


def read_path(value: Any, path: str) -> Any:
    """``read_path(event, "data.state")``; a missing key or a non-object on the way gives None."""
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value
