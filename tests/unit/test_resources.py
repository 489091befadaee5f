"""Loading resource documents (YAML/JSON) and the resource models' field handling."""

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
import yaml

from flowdapt.domain.documents import load_documents, load_resources, parse_resource
from flowdapt.domain.errors import InvalidResourceError
from flowdapt.domain.resources import (
    ConfigResource,
    ResourceMetadata,
    TriggerRuleResource,
    WorkflowResource,
    WorkflowStage,
)

WORKFLOW_YAML = """\
kind: workflow
metadata:
  name: hello
  annotations:
    team: ml
    version: 1
spec:
  stages:
    - name: fetch
      target: mypkg.stages.fetch
    - name: train
      target: mypkg.stages.train
      depends_on: [fetch]
      resources:
        memory: 2GB
        cpus: 2
"""

CONFIG_JSON = json.dumps(
    {
        "kind": "config",
        "metadata": {"name": "cfg"},
        "spec": {"selector": {"type": "name", "value": "hello"}, "data": {"lr": 0.1}},
    }
)


def sample_target(x):
    return x


class Holder:
    @staticmethod
    def run():
        return 1


def workflow(*stages, name="w"):
    return {"kind": "workflow", "metadata": {"name": name}, "spec": {"stages": list(stages)}}


def test_load_yaml_workflow():
    [resource] = load_resources(WORKFLOW_YAML)
    assert isinstance(resource, WorkflowResource)
    assert resource.name == "hello"
    assert [s.name for s in resource.spec.stages] == ["fetch", "train"]
    assert resource.spec.stages[1].depends_on == ["fetch"]
    assert resource.metadata.annotations == {"team": "ml", "version": "1"}


def test_load_json_config():
    [resource] = load_resources(CONFIG_JSON)
    assert isinstance(resource, ConfigResource)
    assert resource.name == "cfg"
    assert resource.spec.data == {"lr": 0.1}
    assert resource.spec.selector.value == "hello"


def test_multi_document_file_skips_empty_documents(tmp_path):
    path = tmp_path / "all.yaml"
    path.write_text(f"---\n{WORKFLOW_YAML}---\n---\n# only a comment\n---\n{CONFIG_JSON}\n")
    resources = load_resources(path)
    assert [type(r) for r in resources] == [WorkflowResource, ConfigResource]
    assert [r.name for r in resources] == ["hello", "cfg"]


def test_load_documents_skips_empty():
    assert load_documents("---\na: 1\n---\n---\nb: 2\n") == [{"a": 1}, {"b": 2}]
    assert load_documents("") == []


def test_kind_is_case_insensitive():
    resource = parse_resource({**workflow({"target": "m.f"}), "kind": "Workflow"})
    assert resource.kind == "workflow"


def test_missing_kind_unless_defaulted():
    doc = workflow({"target": "m.f"})
    del doc["kind"]
    with pytest.raises(InvalidResourceError, match="kind: missing") as info:
        parse_resource(doc)
    assert "workflow, config, trigger_rule" in str(info.value)
    assert isinstance(parse_resource(doc, default_kind="workflow"), WorkflowResource)


@pytest.mark.parametrize("document", [["a", "list"], "text", 42], ids=["list", "str", "int"])
def test_non_mapping_document(document):
    with pytest.raises(InvalidResourceError, match=type(document).__name__):
        parse_resource(document)


def test_load_resources_names_the_bad_document():
    text = f"{WORKFLOW_YAML}---\nkind: nope\nmetadata: {{name: x}}\n"
    with pytest.raises(InvalidResourceError, match="document 2") as info:
        load_resources(text)
    assert "'nope'" in str(info.value)


@pytest.mark.parametrize("text", ["a: [unclosed", "a: b: c", "key: 'open", "\tkey: 1"])
def test_malformed_yaml_becomes_invalid_resource_error(text):
    with pytest.raises(InvalidResourceError, match="not valid YAML or JSON") as info:
        load_documents(text, source="my.yaml")
    assert not isinstance(info.value, yaml.YAMLError)
    assert str(info.value).startswith("my.yaml: ")


def test_malformed_file_names_the_path(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("spec: {stages: [")
    with pytest.raises(InvalidResourceError, match=r"broken\.yaml"):
        load_resources(path)


def test_every_stage_field_of_the_wire_format_is_accepted():
    stage = {
        "type": "parameterized",
        "target": "mypkg.stages.predict",
        "name": "predict",
        "description": "predict all the things",
        "version": "1.2",
        "depends_on": ["fetch"],
        "options": {"retries": 2, "custom_key": "kept"},
        "resources": {"cpus": 1, "gpus": 0.5, "memory": "1GiB", "my_label": 3},
        "priority": 7,
    }
    resource = parse_resource(workflow({"name": "fetch", "target": "m.f"}, stage))
    dumped = resource.spec.stages[1].model_dump()
    assert dumped == stage
    parsed = resource.spec.stages[1]
    assert parsed.parsed_options().retries == 2
    assert parsed.parsed_resources().custom == {"my_label": 3.0}


def test_stage_level_map_on_is_lifted_into_options():
    stage = WorkflowStage.model_validate(
        {"name": "p", "type": "parameterized", "target": "m.f", "map_on": "items"}
    )
    assert stage.options == {"map_on": "items"}
    assert stage.parsed_options().map_on == "items"
    # With map_on it needs no dependency to be a valid parameterized stage.
    resource = parse_resource(workflow(stage.model_dump()))
    assert resource.spec.stages[0].options["map_on"] == "items"


def test_stage_level_map_on_does_not_override_options():
    stage = WorkflowStage.model_validate(
        {"target": "m.f", "map_on": "outer", "options": {"map_on": "inner", "retries": 1}}
    )
    assert stage.options == {"map_on": "inner", "retries": 1}


def test_null_collections_become_defaults_and_name_comes_from_target():
    stage = WorkflowStage.model_validate(
        {"target": "a.b.train_model", "depends_on": None, "options": None, "resources": None}
    )
    assert (stage.depends_on, stage.options, stage.resources) == ([], {}, {})
    assert stage.name == "train_model"


def test_annotations_are_strings():
    meta = ResourceMetadata.model_validate(
        {"name": "n", "annotations": {"version": 1, "ratio": 0.5, "team": "ml"}}
    )
    assert meta.annotations == {"version": "1", "ratio": "0.5", "team": "ml"}


@pytest.mark.parametrize("name", ["bad name!", "a/b", "", "dots.not.ok"])
def test_metadata_name_pattern(name):
    with pytest.raises(InvalidResourceError) as info:
        parse_resource(workflow({"target": "m.f"}, name=name))
    assert info.value.problems[0].startswith("metadata.name: ")
    assert repr(name) in info.value.problems[0]


def test_naive_created_at_becomes_aware_utc():
    meta = ResourceMetadata.model_validate(
        {
            "name": "n",
            "created_at": "2024-01-02T03:04:05",
            "updated_at": datetime(2024, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2))),
        }
    )
    assert meta.created_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert meta.created_at.tzinfo is UTC
    assert meta.updated_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert meta.updated_at.utcoffset() == timedelta(0)


def test_memory_kept_as_written_but_parsed_on_demand():
    [resource] = load_resources(WORKFLOW_YAML)
    train = resource.spec.stages[1]
    assert train.model_dump()["resources"] == {"memory": "2GB", "cpus": 2}
    assert resource.model_dump(mode="json")["spec"]["stages"][1]["resources"]["memory"] == "2GB"
    parsed = train.parsed_resources()
    assert parsed.memory == 2_000_000_000
    assert parsed.cpus == 2.0
    assert parsed.gpus is None


def config(selector):
    return {"kind": "config", "metadata": {"name": "c"}, "spec": {"selector": selector}}


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ({"type": "name", "value": {"team": "ml"}}, "'name' selector takes a workflow name"),
        ({"type": "annotation", "value": "ml"}, "'annotation' selector takes a mapping"),
        ({"type": "annotation"}, "'annotation' selector takes a mapping"),
    ],
    ids=["name-with-dict", "annotation-with-str", "annotation-without-value"],
)
def test_config_selector_value_must_fit_type(selector, message):
    with pytest.raises(InvalidResourceError, match=message) as info:
        parse_resource(config(selector))
    assert info.value.problems[0].startswith("spec.selector")


@pytest.mark.parametrize(
    "selector",
    [{"type": "name", "value": "w"}, {"type": "annotation", "value": {"a": "b"}}, {}],
    ids=["name", "annotation", "defaults"],
)
def test_config_selector_valid(selector):
    resource = parse_resource(config(selector))
    assert resource.spec.selector.type.value == selector.get("type", "name")


def test_annotation_selector_accepts_yaml_numbers_like_annotations():
    resource = parse_resource(config({"type": "annotation", "value": {"version": 1}}))
    assert resource.spec.selector.value == {"version": "1"}


def trigger(rule_type, rule):
    return {
        "kind": "trigger_rule",
        "metadata": {"name": "t"},
        "spec": {"type": rule_type, "rule": rule, "action": {"target": "run_workflow"}},
    }


def test_trigger_rules():
    schedule = parse_resource(trigger("schedule", ["*/5 * * * *"]))
    assert isinstance(schedule, TriggerRuleResource)
    assert schedule.spec.rule == ["*/5 * * * *"]
    condition = parse_resource(trigger("condition", {"eq": [{"var": "type"}, "x"]}))
    assert condition.spec.rule == {"eq": [{"var": "type"}, "x"]}
    assert condition.spec.action.parameters == {}


@pytest.mark.parametrize(
    ("rule_type", "rule", "message"),
    [
        ("schedule", {"cron": "* * * * *"}, "schedule rule is a list"),
        ("condition", ["a", "b"], "condition rule is a mapping"),
    ],
)
def test_trigger_rule_shape_must_fit_type(rule_type, rule, message):
    with pytest.raises(InvalidResourceError, match=message):
        parse_resource(trigger(rule_type, rule))


@pytest.mark.parametrize(
    ("target", "qualname", "name"),
    [(sample_target, "sample_target", "sample_target"), (Holder.run, "Holder.run", "run")],
    ids=["function", "staticmethod"],
)
def test_callable_target_serialises_to_import_path(target, qualname, name):
    resource = WorkflowResource.model_validate(workflow({"target": target}))
    stage = resource.spec.stages[0]
    assert stage.target is target
    assert stage.name == name
    dumped = resource.model_dump(mode="json")["spec"]["stages"][0]
    assert dumped["target"] == f"{__name__}.{qualname}"
    json.dumps(resource.model_dump(mode="json"))  # fully JSON-serialisable
