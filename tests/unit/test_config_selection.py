"""Which configs apply to a workflow and how their data merges."""

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from flowdapt.domain.resources import ConfigResource, WorkflowResource
from flowdapt.engine.config_selection import merge_data, resolve_config, select_configs

WORKFLOW = WorkflowResource.model_validate(
    {
        "metadata": {"name": "train", "annotations": {"team": "ml", "env": "prod"}},
        "spec": {"stages": [{"name": "a", "target": "m.f"}]},
    }
)


def config(name, selector=None, data=None):
    spec = {"data": data or {}}
    if selector is not None:
        spec["selector"] = selector
    return ConfigResource.model_validate({"metadata": {"name": name}, "spec": spec})


def by_name(value, **extra):
    return {"type": "name", "value": value, **extra}


def by_annotation(value, **extra):
    return {"type": "annotation", "value": value, **extra}


def selected(*configs):
    return [c.name for c in select_configs(WORKFLOW, configs)]


@pytest.mark.parametrize(
    ("selector", "applies"),
    [
        pytest.param(by_name("train"), True, id="name-match"),
        pytest.param(by_name("other"), False, id="name-mismatch"),
        pytest.param(by_name(None), False, id="name-without-value"),
        pytest.param(by_annotation({"team": "ml"}), True, id="annotation-subset"),
        pytest.param(by_annotation({"team": "ml", "env": "prod"}), True, id="annotation-all"),
        pytest.param(by_annotation({"team": "ml", "env": "dev"}), False, id="annotation-one-off"),
        pytest.param(by_annotation({"missing": "x"}), False, id="annotation-absent-key"),
        pytest.param(by_annotation({"team": "ML"}), False, id="annotation-case-sensitive"),
        pytest.param(by_annotation({}), False, id="annotation-empty"),
        pytest.param(by_name("train", kind="workflow"), True, id="kind-workflow"),
        pytest.param(by_name("train", kind=""), True, id="kind-empty"),
        pytest.param(by_name("train", kind="trigger_rule"), False, id="kind-other"),
        pytest.param(by_annotation({"team": "ml"}, kind="config"), False, id="kind-other-annot"),
        pytest.param(None, False, id="no-selector"),
    ],
)
def test_selector_applies(selector, applies):
    assert selected(config("c", selector)) == (["c"] if applies else [])


def test_merge_order_annotation_by_count_then_name_then_name_selected():
    configs = [
        config("n_zeta", by_name("train")),
        config("a_two", by_annotation({"team": "ml", "env": "prod"})),
        config("z_one", by_annotation({"env": "prod"})),
        config("n_alpha", by_name("train")),
        config("b_one", by_annotation({"team": "ml"})),
        config("skip", by_name("nope")),
        config("unselected"),
    ]
    assert selected(*configs) == ["b_one", "z_one", "a_two", "n_alpha", "n_zeta"]
    assert selected(*reversed(configs)) == ["b_one", "z_one", "a_two", "n_alpha", "n_zeta"]


def test_resolve_config_later_layers_win():
    configs = [
        config("by_name", by_name("train"), {"lr": 3, "source": "name"}),
        config("annot2", by_annotation({"team": "ml", "env": "prod"}), {"lr": 2, "depth": 2}),
        config("annot1", by_annotation({"team": "ml"}), {"lr": 1, "depth": 1, "seed": 7}),
        config("other", by_name("other"), {"lr": 99, "foreign": True}),
    ]
    assert resolve_config(WORKFLOW, configs) == {"lr": 3, "source": "name", "depth": 2, "seed": 7}


def test_resolve_config_without_matches_is_empty():
    assert resolve_config(WORKFLOW, [config("x", by_name("other"), {"a": 1})]) == {}
    assert resolve_config(WORKFLOW, []) == {}


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        pytest.param(
            [{"db": {"host": "h", "port": 1}}, {"db": {"port": 2}}],
            {"db": {"host": "h", "port": 2}},
            id="nested-merge",
        ),
        pytest.param(
            [{"a": {"b": {"c": 1, "d": 2}}}, {"a": {"b": {"d": 3}, "e": 4}}],
            {"a": {"b": {"c": 1, "d": 3}, "e": 4}},
            id="deep-nested-merge",
        ),
        pytest.param([{"a": {"x": 1}}, {"a": 5}], {"a": 5}, id="scalar-replaces-mapping"),
        pytest.param([{"a": 5}, {"a": {"x": 1}}], {"a": {"x": 1}}, id="mapping-replaces-scalar"),
        pytest.param([{"a": [1, 2]}, {"a": [3]}], {"a": [3]}, id="lists-replaced"),
        pytest.param([{"a": 1}, {"a": None}], {"a": None}, id="none-replaces"),
        pytest.param([{"a": 1}, {}, {"b": 2}], {"a": 1, "b": 2}, id="disjoint"),
        pytest.param([], {}, id="no-layers"),
    ],
)
def test_merge_data(layers, expected):
    assert merge_data(layers) == expected


def test_merging_does_not_mutate_sources():
    first = {"db": {"host": "h", "opts": {"a": 1}}, "tags": ["x"]}
    second = {"db": {"opts": {"b": 2}}, "tags": ["y"]}
    snapshot = copy.deepcopy([first, second])
    merged = merge_data([first, second])
    assert merged == {"db": {"host": "h", "opts": {"a": 1, "b": 2}}, "tags": ["y"]}
    assert [first, second] == snapshot
    merged["db"]["opts"]["c"] = 3
    merged["tags"].append("z")
    assert [first, second] == snapshot


def test_resolve_config_does_not_mutate_config_data():
    low = config("low", by_annotation({"team": "ml"}), {"model": {"layers": 2, "act": "relu"}})
    high = config("high", by_name("train"), {"model": {"layers": 4}})
    before = (copy.deepcopy(low.spec.data), copy.deepcopy(high.spec.data))
    resolved = resolve_config(WORKFLOW, [high, low])
    assert resolved == {"model": {"layers": 4, "act": "relu"}}
    resolved["model"]["act"] = "gelu"
    assert (low.spec.data, high.spec.data) == before
    assert resolve_config(WORKFLOW, [high, low]) == {"model": {"layers": 4, "act": "relu"}}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=3),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=3), children, max_size=3)
    ),
    max_leaves=10,
)
MAPPINGS = st.dictionaries(st.text(max_size=3), JSON, max_size=4)


@given(MAPPINGS)
def test_single_layer_is_an_equal_copy(layer):
    merged = merge_data([layer])
    assert merged == layer
    assert merged is not layer


@given(MAPPINGS, MAPPINGS)
def test_later_layer_wins_for_non_mappings(a, b):
    merged = merge_data([a, b])
    assert set(merged) == set(a) | set(b)
    for key, value in merged.items():
        if key not in b:
            assert value == a[key]
        elif isinstance(b[key], dict) and isinstance(a.get(key), dict):
            assert value == merge_data([a[key], b[key]])
        else:
            assert value == b[key]
