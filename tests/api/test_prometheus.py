"""/metrics/prometheus: the same metrics as /metrics in the Prometheus text format, parsed back
with prometheus_client's own parser, plus the gauges read at scrape time."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import workflow_doc


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


async def test_runs_stages_items_and_health_in_the_prometheus_format(api):
    fan = workflow_doc(
        "fan",
        {"name": "make", "target": "tests.api.stages.numbers"},
        {"name": "double", "target": "tests.api.stages.double", "type": "parameterized",
         "depends_on": ["make"]},
    )  # fmt: skip
    assert (await api.post("/workflows/", json=fan)).status_code == 200
    assert (await api.post("/workflows/", json=workflow_doc("broken", {
        "name": "fail", "target": "tests.api.stages.fail"}))).status_code == 200  # fmt: skip
    assert (await api.post("/workflows/fan/run", json={"n": 4})).json()["state"] == "finished"
    assert (await api.post("/workflows/broken/run")).json()["state"] == "failed"

    response = await api.get("/metrics/prometheus")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = _samples(response.text)
    assert samples[("flowdapt_runs_started_total", (("source", "api"), ("workflow", "fan")))] == 1
    failed = (("state", "failed"), ("workflow", "broken"))
    assert samples[("flowdapt_runs_ended_total", failed)] == 1
    assert samples[("flowdapt_runs_duration_seconds_count", (("workflow", "fan"),))] == 1
    double = (("stage", "double"), ("state", "finished"), ("workflow", "fan"))
    assert samples[("flowdapt_stages_duration_seconds_count", double)] == 1
    every = tuple(sorted((*double, ("le", "+Inf"))))
    assert samples[("flowdapt_stages_duration_seconds_bucket", every)] == 1
    assert samples[("flowdapt_stages_items_total", (("outcome", "done"), ("workflow", "fan")))] == 4
    assert samples[("flowdapt_active_runs", ())] == 0
    assert samples[("flowdapt_database_up", ())] == 1
    assert samples[("flowdapt_event_bus_up", ())] == 1
    assert samples[("flowdapt_executor_running", ())] == 1
