"""plan_call: how a stage function is called, decided from its signature."""

import functools

import pytest

from flowdapt.engine.calling import plan_call


def root(a, b=2):
    return ("root", a, b)


def takes_kwargs(a, **kw):
    return ("kw", a, kw)


def two(x, y):
    return ("two", x, y)


def one(x):
    return ("one", x)


def var_args(*args):
    return ("var", args)


def keyword_only(x, *, flag, opt=0):
    return ("ko", x, flag, opt)


def per_item_fn(item, prev):
    return ("item", item, prev)


def item_root(item, scale=1):
    return ("item_root", item, scale)


def item_var(item, *rest):
    return ("item_var", item, rest)


def defaults(x, y=10):
    return ("defaults", x, y)


def positional_only(x, /, y):
    return ("po", x, y)


def need_two(a, b):
    return (a, b)


def needs_x(x):
    return x


def no_positional(*, k=1):
    return k


def nothing():
    return None


PLANS = [
    # (function, plan_call kwargs, expected args, expected kwargs, expected result)
    pytest.param(
        root, {"keywords": {"a": 1, "c": 3}}, (), {"a": 1}, ("root", 1, 2), id="root-filters-input"
    ),
    pytest.param(
        takes_kwargs,
        {"keywords": {"a": 1, "z": 2}},
        (),
        {"a": 1, "z": 2},
        ("kw", 1, {"z": 2}),
        id="var-kwargs-gets-all",
    ),
    pytest.param(
        two, {"positional": (1, 2)}, (1, 2), {}, ("two", 1, 2), id="dependent-positional-in-order"
    ),
    pytest.param(one, {"positional": (1, 2, 3)}, (1,), {}, ("one", 1), id="surplus-dropped"),
    pytest.param(
        defaults, {"positional": (1,)}, (1,), {}, ("defaults", 1, 10), id="defaults-unfilled"
    ),
    pytest.param(
        var_args, {"positional": (1, 2, 3)}, (1, 2, 3), {}, ("var", (1, 2, 3)), id="var-args-all"
    ),
    pytest.param(
        keyword_only,
        {"positional": (1,), "keywords": {"flag": True, "other": 9}},
        (1,),
        {"flag": True},
        ("ko", 1, True, 0),
        id="keyword-only-from-keywords",
    ),
    pytest.param(
        positional_only, {"positional": (1, 2, 3)}, (1, 2), {}, ("po", 1, 2), id="positional-only"
    ),
    pytest.param(
        nothing, {"keywords": {"a": 1}}, (), {}, None, id="root-without-parameters-ignores-input"
    ),
    pytest.param(
        max, {"positional": (3, 7, 2)}, (3, 7, 2), {}, 7, id="builtin-no-signature-positional"
    ),
    pytest.param(
        dict,
        {"keywords": {"a": 1, "b": 2}},
        (),
        {"a": 1, "b": 2},
        {"a": 1, "b": 2},
        id="builtin-no-signature-keywords",
    ),
]


@pytest.mark.parametrize(("function", "call", "args", "kwargs", "result"), PLANS)
def test_plan_call(function, call, args, kwargs, result):
    plan = plan_call(function, stage="s", **call)
    assert plan.function is function
    assert plan.args == args
    assert plan.kwargs == kwargs
    assert plan.is_async is False
    assert plan.call() == result


PER_ITEM = [
    pytest.param(per_item_fn, {"positional": (10, 20)}, (10,), {}, ("item", "I", 10), id="dep"),
    pytest.param(
        item_root,
        {"keywords": {"scale": 3, "junk": 0}},
        (),
        {"scale": 3},
        ("item_root", "I", 3),
        id="root",
    ),
    pytest.param(
        item_var, {"positional": (1, 2)}, (1, 2), {}, ("item_var", "I", (1, 2)), id="var-args"
    ),
    pytest.param(one, {"positional": (5, 6)}, (), {}, ("one", "I"), id="only-the-item"),
]


@pytest.mark.parametrize(("function", "call", "args", "kwargs", "result"), PER_ITEM)
def test_plan_call_per_item_leaves_room_for_the_item(function, call, args, kwargs, result):
    plan = plan_call(function, stage="s", per_item=True, **call)
    assert plan.args == args
    assert plan.kwargs == kwargs
    assert plan.call_with("I") == result


ERRORS = [
    pytest.param(need_two, {"positional": (1,)}, ["'join'", "'b'"], id="missing-positional"),
    pytest.param(needs_x, {"keywords": {"y": 1}}, ["'join'", "'x'"], id="missing-input"),
    pytest.param(
        keyword_only, {"positional": (1,)}, ["'join'", "'flag'"], id="missing-keyword-only"
    ),
    pytest.param(
        no_positional,
        {"positional": (1,)},
        ["'join'", "depends on a previous stage", "no_positional"],
        id="dependent-without-positional",
    ),
    pytest.param(
        no_positional,
        {"per_item": True},
        ["'join'", "is called once per item"],
        id="per-item-without-positional",
    ),
    pytest.param(
        per_item_fn, {"per_item": True}, ["'join'", "'prev'"], id="per-item-missing-dependency"
    ),
]


@pytest.mark.parametrize(("function", "call", "fragments"), ERRORS)
def test_plan_call_errors_name_stage_and_parameter(function, call, fragments):
    with pytest.raises(TypeError) as info:
        plan_call(function, stage="join", **call)
    assert isinstance(info.value, ValueError)  # the original raised ValueError here
    message = str(info.value)
    assert "stage 'join'" in message
    for fragment in fragments:
        assert fragment in message


async def async_fn(x):
    return x


class AsyncCallable:
    async def __call__(self, x):
        return x


class BuildsAsyncCallable:
    def __init__(self, x):
        self.x = x

    async def __call__(self):
        return self.x


class SyncCallable:
    def __call__(self, x):
        return x


@pytest.mark.parametrize(
    ("function", "expected"),
    [
        pytest.param(async_fn, True, id="async-def"),
        pytest.param(AsyncCallable(), True, id="async-call-object"),
        pytest.param(functools.partial(async_fn), True, id="partial-of-async"),
        pytest.param(one, False, id="def"),
        pytest.param(SyncCallable(), False, id="sync-call-object"),
        pytest.param(lambda x: x, False, id="lambda"),
        pytest.param(BuildsAsyncCallable, False, id="class-with-async-call"),
    ],
)
def test_is_async(function, expected):
    assert plan_call(function, stage="s", positional=(1,)).is_async is expected


def test_async_plan_returns_awaitable_result():
    plan = plan_call(async_fn, stage="s", positional=(5, 6))
    assert plan.args == (5,)
    coroutine = plan.call()
    with pytest.raises(StopIteration) as info:
        coroutine.send(None)
    assert info.value.value == 5
