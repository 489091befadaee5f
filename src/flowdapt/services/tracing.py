"""OpenTelemetry tracing of runs: each run one span, each stage a child span, exported over
OTLP/HTTP or to the console (the optional ``telemetry`` extra).

    tracing = build_tracing(settings.telemetry)   # None unless telemetry.enabled
    observer = tracing.observe(persister, namespace="default")   # one per run, for the runner
    tracing.shutdown()                             # exports what is still batched

Spans are built from the run and stage records with the records' own timestamps, so a trace
shows exactly what the run record says: the run span starts when the run starts running and
ends when it is final; a stage span is made when the stage ends (started_at → finished_at).
Stages that never started (skipped) get no span.

Nothing of OpenTelemetry's SDK is imported by this module: ``build_tracing`` imports it only
when telemetry is enabled, so a server without the extra starts as fast as before.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from flowdapt.domain.errors import FlowdaptError
from flowdapt.domain.runs import ErrorInfo, RunState, StageRun, StageState, WorkflowRun
from flowdapt.engine.runner import RunObserver

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

logger = logging.getLogger(__name__)

INSTALL_HINT = "pip install flowdapt[telemetry]"
_ENDED_STAGE = frozenset(
    {StageState.FINISHED, StageState.FAILED, StageState.CANCELLED, StageState.SKIPPED}
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


class TracingUnavailableError(FlowdaptError):
    """Telemetry is enabled but the OpenTelemetry packages (the ``telemetry`` extra) are not
    installed."""


class TelemetryOptions(Protocol):
    """What tracing reads of the ``telemetry`` settings section (flowdapt.settings)."""

    @property
    def enabled(self) -> bool: ...

    @property
    def exporter(self) -> str: ...

    @property
    def endpoint(self) -> str: ...

    @property
    def service_name(self) -> str: ...


def build_tracing(
    options: TelemetryOptions,
    *,
    service_version: str | None = None,
    exporter: SpanExporter | None = None,
) -> Tracing | None:
    """The tracing the settings ask for, or None when ``telemetry.enabled`` is false.

    `exporter` replaces the configured one (tests pass an ``InMemorySpanExporter``); spans
    reach it through a batch span processor either way.

        tracing = build_tracing(settings.telemetry, service_version="0.2.0")
    """
    if not options.enabled:
        return None
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError as exc:
        raise _unavailable(exc) from None
    attributes: dict[str, str] = {"service.name": options.service_name}
    if service_version is not None:
        attributes["service.version"] = service_version
    # A provider of our own rather than the global one: the global can be set only once per
    # process, and nothing else in the server is meant to export through it.
    provider = TracerProvider(resource=Resource.create(attributes))
    provider.add_span_processor(BatchSpanProcessor(exporter or _exporter(options)))
    return Tracing(provider)


def _exporter(options: TelemetryOptions) -> SpanExporter:
    if options.exporter == "console":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    except ImportError as exc:
        raise _unavailable(exc) from None
    return OTLPSpanExporter(endpoint=options.endpoint)


def _unavailable(exc: ImportError) -> TracingUnavailableError:
    return TracingUnavailableError(
        f"telemetry.enabled: the OpenTelemetry packages are not installed ({exc}); "
        f"install the telemetry extra: {INSTALL_HINT}"
    )


class Tracing:
    """One tracer provider for the server's life; `observe` gives each run its observer."""

    def __init__(self, provider: TracerProvider) -> None:
        self._provider = provider
        self._tracer = provider.get_tracer("flowdapt")
        self._shut_down = False

    def observe(self, inner: RunObserver, *, namespace: str | None = None) -> RunObserver:
        """An observer for one run that tells `inner` everything and records the run's spans."""
        return TracingObserver(inner, self._tracer, namespace=namespace)

    def shutdown(self) -> None:
        """Export the spans still batched and stop the exporter; blocking (network), so the
        compute service calls it in a thread. Idempotent."""
        if self._shut_down:
            return
        self._shut_down = True
        self._provider.shutdown()


class TracingObserver:
    """The runner's observer for one run: forwards every call to `inner` first (persistence must
    not depend on tracing), then turns the run's changes into spans."""

    def __init__(self, inner: RunObserver, tracer: Tracer, *, namespace: str | None = None) -> None:
        self._inner = inner
        self._tracer = tracer
        self._namespace = namespace
        self._run_span: Span | None = None
        self._run_ended = False
        self._stages_ended: set[str] = set()

    def run_changed(self, run: WorkflowRun) -> None:
        self._inner.run_changed(run)
        if run.state is RunState.RUNNING:
            self._start_run(run)
        elif run.state.is_final:
            self._end_run(run)

    def stage_changed(self, run: WorkflowRun, stage: StageRun) -> None:
        self._inner.stage_changed(run, stage)
        # Fan-outs report progress per item: only the end of a stage is of interest here.
        if stage.state in _ENDED_STAGE and stage.name not in self._stages_ended:
            self._end_stage(run, stage)

    def stage_logs(self, run: WorkflowRun, stage: StageRun, lines: list[Any], dropped: int) -> None:
        forward = getattr(self._inner, "stage_logs", None)  # the run's log (services.run_logs)
        if forward is not None:
            forward(run, stage, lines, dropped)

    def _start_run(self, run: WorkflowRun) -> Span:
        if self._run_span is None:
            self._run_span = self._tracer.start_span(
                f"run {run.workflow}",
                start_time=_nanos(run.started_at),
                attributes=_without_none(
                    {
                        "flowdapt.run.uid": str(run.uid),
                        "flowdapt.run.name": run.name,
                        "flowdapt.run.workflow": run.workflow,
                        "flowdapt.run.source": run.source,
                        "flowdapt.run.state": run.state.value,
                        "flowdapt.run.namespace": self._namespace,
                    }
                ),
            )
        return self._run_span

    def _end_stage(self, run: WorkflowRun, stage: StageRun) -> None:
        self._stages_ended.add(stage.name)
        if stage.started_at is None:  # skipped before it started: nothing ran to show
            return
        from opentelemetry import trace  # the API is there whenever a tracer was built

        parent = trace.set_span_in_context(self._start_run(run))
        counts: dict[str, int] = {}
        if stage.items_total is not None:  # a parameterized stage (fan-out)
            counts = {
                "flowdapt.stage.items_total": stage.items_total,
                "flowdapt.stage.items_done": stage.items_done,
                "flowdapt.stage.items_failed": stage.items_failed,
            }
        span = self._tracer.start_span(
            f"stage {stage.name}",
            context=parent,
            start_time=_nanos(stage.started_at),
            attributes={
                "flowdapt.stage.name": stage.name,
                "flowdapt.stage.state": stage.state.value,
                "flowdapt.stage.attempts": stage.attempts,
                **counts,
            },
        )
        end = stage.finished_at or run.finished_at
        _set_outcome(span, stage.state is StageState.FAILED, stage.error, end)
        span.end(end_time=None if end is None else _nanos(end))

    def _end_run(self, run: WorkflowRun) -> None:
        if self._run_ended:
            return
        self._run_ended = True
        span = self._start_run(run)
        for stage in run.stages:  # any stage whose end was not reported (there should be none)
            if stage.name not in self._stages_ended:
                self._end_stage(run, stage)
        span.set_attribute("flowdapt.run.state", run.state.value)
        _set_outcome(span, run.state is RunState.FAILED, run.error, run.finished_at)
        span.end(end_time=None if run.finished_at is None else _nanos(run.finished_at))


def _set_outcome(span: Span, failed: bool, error: ErrorInfo | None, at: datetime | None) -> None:
    """Error status on failure, and the error as an ``exception`` event (OpenTelemetry's
    semantic convention), as far as the record has it."""
    from opentelemetry.trace import Status, StatusCode

    if error is not None:
        attributes = {"exception.type": error.type, "exception.message": error.message}
        if error.traceback:
            attributes["exception.stacktrace"] = error.traceback
        span.add_event("exception", attributes, timestamp=None if at is None else _nanos(at))
    if failed:
        description = None if error is None else f"{error.type}: {error.message}"
        span.set_status(Status(StatusCode.ERROR, description))


def _nanos(moment: datetime) -> int:
    """Nanoseconds since the epoch, exact to the microsecond (a float would round)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MICROSECOND * 1_000


def _without_none(attributes: Mapping[str, str | None]) -> dict[str, str]:
    # OpenTelemetry refuses None attribute values (and warns about each).
    return {key: value for key, value in attributes.items() if value is not None}
