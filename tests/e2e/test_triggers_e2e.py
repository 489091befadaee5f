"""Triggers on the real server process (SQLite and PostgreSQL, memory bus), driven by flowctl:
the fallback-on-failure scenario, an event sent in from outside, and what `get triggers` shows."""

from __future__ import annotations

import json
import time
from pathlib import Path

from tests.e2e.conftest import Server, flowctl
from tests.e2e.triggers_helpers import final_runs, firings, runs_of

RESOURCES = Path(__file__).with_name("triggers.yaml")


def test_a_failing_workflow_starts_its_fallback_with_the_failure(server: Server):
    applied = flowctl(server, "apply", "-p", str(RESOURCES))
    assert applied.returncode == 0, applied.stderr
    before = len(runs_of(server.url, "fallback_workflow"))

    failed = flowctl(server, "run", "test_simple", "--format", "json")
    assert failed.returncode == 1  # the run failed: flowctl says so with its exit code
    failed_run = json.loads(failed.stdout)

    runs = final_runs(server.url, "fallback_workflow", count=before + 1)
    fallback = next(r for r in runs if r["result"]["event_data"]["name"] == failed_run["name"])
    assert fallback["state"] == "finished" and fallback["source"] == "trigger:on_failure"
    assert fallback["result"]["input"] == {"reason": "upstream failed"}
    assert fallback["result"]["event_data"]["result"] == [
        "ValueError",
        "the upstream data was empty",
    ]
    time.sleep(0.3)  # the fallback's own finish must not start another one
    assert len(runs_of(server.url, "fallback_workflow")) == before + 1


def test_an_event_sent_with_flowctl_starts_a_workflow_with_its_payload(server: Server):
    assert flowctl(server, "apply", "-p", str(RESOURCES)).returncode == 0
    before = len(runs_of(server.url, "ingest"))
    sent = flowctl(
        server, "event", "send", "com.example.data_arrived", "--city", "Oslo", "--rows", "3"
    )
    assert sent.returncode == 0, sent.stderr
    event_id = sent.stdout.strip()

    runs = final_runs(server.url, "ingest", count=before + 1)
    run = next(r for r in runs if r["result"]["event_data"] == {"city": "Oslo", "rows": 3})
    assert run["source"] == "trigger:on_data"
    assert any(f["key"] == f"event:{event_id}" for f in firings(server.url, "on_data"))

    refused = flowctl(server, "event", "send", "com.event.workflow.workflow_finished")
    assert refused.returncode == 1 and "server's own events" in refused.stderr


def test_get_triggers_shows_the_rule_and_its_last_firing(server: Server):
    assert flowctl(server, "apply", "-p", str(RESOURCES)).returncode == 0
    assert flowctl(server, "event", "send", "com.example.data_arrived").returncode == 0
    final_runs(server.url, "ingest")
    listed = flowctl(server, "get", "triggers")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith("on_data"))
    assert 'type == "com.example.data_arrived"' in line
    assert "run_workflow(ingest)" in line and "ago (started)" in line
    history = flowctl(server, "get", "firings", "on_data", "--format", "json")
    assert history.returncode == 0 and json.loads(history.stdout)[0]["state"] == "started"
