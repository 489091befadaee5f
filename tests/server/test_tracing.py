"""OpenTelemetry tracing (telemetry.*): real runs through the compute service on in-memory
storage and a thread executor, their spans caught by the SDK's in-memory exporter."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from flowdapt.domain.resources import WorkflowResource
from flowdapt.domain.runs import WorkflowRun
from flowdapt.executors.local import LocalExecutor
from flowdapt.services.compute import ComputeService
from flowdapt.services.tracing import build_tracing
from flowdapt.settings import SettingsError, TelemetrySettings, load_settings
from flowdapt.storage.memory import MemoryStorage

S = "tests.resources.stages"
REPO = Path(__file__).resolve().parents[2]


def definition(name: str, *stages: dict[str, Any]) -> WorkflowResource:
    return WorkflowResource.model_validate(
        {"metadata": {"name": name}, "spec": {"stages": list(stages)}}
    )


async def traced_run(
    workflow: WorkflowResource, input: dict[str, Any] | None = None, **options: Any
) -> tuple[WorkflowRun, Sequence[ReadableSpan], MemoryStorage]:
    """Run `workflow` once with tracing on, stop the service (which exports the batched
    spans) and return the run, its spans and the storage."""
    exporter = InMemorySpanExporter()
    tracing = build_tracing(
        TelemetrySettings(enabled=True, service_name="tests"), exporter=exporter
    )
    storage = MemoryStorage()
    await storage.start()
    service = ComputeService(storage, LocalExecutor(use_processes=False), tracing=tracing)
    await service.start()
    try:
        await storage.workflows.create(workflow)
        run = await service.run_workflow(workflow.name, input, **options)
    finally:
        await service.stop(grace=1)
    return run, exporter.get_finished_spans(), storage


def nanos(moment: datetime | None) -> int:
    assert moment is not None
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1_000


def by_name(spans: Sequence[ReadableSpan]) -> dict[str, ReadableSpan]:
    return {span.name: span for span in spans}


async def test_a_run_is_one_span_with_a_child_span_per_stage_timed_as_recorded():
    workflow = definition(
        "chain",
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "sum", "target": f"{S}.total", "depends_on": ["make"]},
    )
    run, spans, storage = await traced_run(workflow, {"n": 3}, namespace="research")

    spans_named = by_name(spans)
    assert sorted(spans_named) == ["run chain", "stage make", "stage sum"]
    root = spans_named["run chain"]
    assert root.parent is None
    assert root.context is not None
    for name in ("make", "sum"):
        stage_span, record = spans_named[f"stage {name}"], run.stage(name)
        assert stage_span.parent is not None
        assert stage_span.parent.span_id == root.context.span_id
        assert stage_span.context is not None
        assert stage_span.context.trace_id == root.context.trace_id
        assert (stage_span.start_time, stage_span.end_time) == (
            nanos(record.started_at),
            nanos(record.finished_at),
        )
        assert dict(stage_span.attributes or {}) == {
            "flowdapt.stage.name": name,
            "flowdapt.stage.state": "finished",
            "flowdapt.stage.attempts": record.attempts,
        }
        assert stage_span.status.status_code is StatusCode.UNSET
    assert (root.start_time, root.end_time) == (nanos(run.started_at), nanos(run.finished_at))
    assert dict(root.attributes or {}) == {
        "flowdapt.run.uid": str(run.uid),
        "flowdapt.run.name": run.name,
        "flowdapt.run.workflow": "chain",
        "flowdapt.run.source": "api",
        "flowdapt.run.state": "finished",
        "flowdapt.run.namespace": "research",
    }
    assert root.status.status_code is StatusCode.UNSET
    assert root.resource.attributes["service.name"] == "tests"
    # The persister behind the tracing observer still got everything.
    stored = await storage.runs.get(str(run.uid))
    assert stored.state.value == "finished" and stored.result == 3


async def test_a_failed_stage_gives_error_status_to_its_span_and_the_run_span():
    workflow = definition(
        "breaks",
        {"name": "make", "target": f"{S}.make_list"},
        {"name": "bad", "target": f"{S}.fail", "depends_on": ["make"]},
        {"name": "after", "target": f"{S}.total", "depends_on": ["bad"]},
    )
    run, spans, storage = await traced_run(workflow)

    assert run.state.value == "failed"
    spans_named = by_name(spans)
    assert "stage after" not in spans_named  # skipped: it never started
    for span in (spans_named["stage bad"], spans_named["run breaks"]):
        assert span.status.status_code is StatusCode.ERROR
        assert span.status.description == "ValueError: boom from stage"
        (event,) = span.events
        assert event.name == "exception"
        assert dict(event.attributes or {})["exception.type"] == "ValueError"
        assert dict(event.attributes or {})["exception.message"] == "boom from stage"
    assert (spans_named["stage bad"].attributes or {})["flowdapt.stage.state"] == "failed"
    assert (spans_named["run breaks"].attributes or {})["flowdapt.run.state"] == "failed"
    assert spans_named["stage make"].status.status_code is StatusCode.UNSET
    # stage_logs reached the run's log through the tracing observer.
    _, lines = await storage.logs.page(run.uid, stage="bad")
    assert any("boom from stage" in line.message for line in lines)


async def test_a_fan_out_span_counts_its_items():
    workflow = definition(
        "fan",
        {
            "name": "picky",
            "target": f"{S}.fail_on_three",
            "type": "parameterized",
            "map_on": "x",
            "options": {"allow_partial_failure": True},
        },
    )
    _, spans, _ = await traced_run(workflow, {"x": [1, 3, 5, 3]})

    attributes = dict(by_name(spans)["stage picky"].attributes or {})
    assert attributes["flowdapt.stage.items_total"] == 4
    assert attributes["flowdapt.stage.items_done"] == 2
    assert attributes["flowdapt.stage.items_failed"] == 2


def test_disabled_tracing_is_none_and_the_settings_read_the_telemetry_section(tmp_path):
    assert build_tracing(TelemetrySettings()) is None
    settings = load_settings(
        tmp_path, overrides={"telemetry.enabled": "true", "telemetry.exporter": "console"}
    )
    assert settings.telemetry == TelemetrySettings(enabled=True, exporter="console")
    assert settings.telemetry.endpoint == "http://localhost:4318/v1/traces"
    with pytest.raises(SettingsError, match=r"telemetry\.exporter"):
        load_settings(tmp_path, overrides={"telemetry.exporter": "zipkin"})


def python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(REPO)},
    )


SETTINGS = """
from flowdapt.settings import Settings
settings = Settings(
    app_dir={app_dir!r},
    database={{"target": "flowdapt.storage.memory.MemoryStorage"}},
    telemetry={telemetry!r},
)
"""


def test_disabled_telemetry_imports_no_opentelemetry_sdk(tmp_path):
    # FastAPI itself imports the OpenTelemetry API; the SDK and exporters are ours to keep out.
    code = SETTINGS.format(app_dir=str(tmp_path), telemetry={}) + textwrap.dedent(
        """
        import sys
        from flowdapt.bootstrap import build_app
        build_app(settings)
        ours = ("opentelemetry.sdk", "opentelemetry.exporter")
        print(sorted(module for module in sys.modules if module.startswith(ours)))
        """
    )
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_enabled_telemetry_without_the_packages_names_the_extra(tmp_path):
    blocker = textwrap.dedent(
        """
        import sys
        class Missing:  # as if the telemetry extra were not installed
            def find_spec(self, name, path=None, target=None):
                if name.startswith(("opentelemetry.sdk", "opentelemetry.exporter")):
                    raise ModuleNotFoundError(f"No module named {name!r}")
        sys.meta_path.insert(0, Missing())
        """
    )
    code = (
        blocker
        + SETTINGS.format(app_dir=str(tmp_path), telemetry={"enabled": True})
        + textwrap.dedent(
            """
            from flowdapt.bootstrap import build_app
            from flowdapt.settings import SettingsError
            try:
                build_app(settings)
            except SettingsError as exc:
                print(exc)
            """
        )
    )
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("telemetry.enabled: the OpenTelemetry packages")
    assert "pip install flowdapt[telemetry]" in result.stdout


def test_the_console_exporter_prints_the_spans_when_the_service_stops(tmp_path):
    code = SETTINGS.format(
        app_dir=str(tmp_path), telemetry={"enabled": True, "exporter": "console"}
    ) + textwrap.dedent(
        """
        import asyncio
        from flowdapt.bootstrap import build_services
        from flowdapt.domain.resources import WorkflowResource

        S = "tests.resources.stages"

        async def main():
            services = build_services(settings)
            await services.storage.start()
            await services.compute.start()
            workflow = WorkflowResource.model_validate({
                "metadata": {"name": "hello"},
                "spec": {"stages": [{"name": "make", "target": f"{S}.make_list"}]},
            })
            await services.storage.workflows.create(workflow)
            await services.compute.run_workflow("hello", {"n": 2})
            await services.compute.stop(grace=1)
            await services.storage.close()

        asyncio.run(main())
        """
    )
    result = python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert '"name": "run hello"' in result.stdout
    assert '"name": "stage make"' in result.stdout
    assert '"service.name": "flowdapt"' in result.stdout
