"""The dashboard in real headless Chromium (Debian's package, driven by Playwright) against a real
server: workflows and their graph, starting a run and watching it live, its logs, editing a
config with errors, cancelling a long run, the 404 page, and the system page. Screenshots of the
main pages go to tests/dashboard/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.dashboard.conftest import screenshot
from tests.e2e.conftest import Server, wait_until

pytestmark = pytest.mark.slow


def open_page(page: Any, path: str) -> None:
    """Go to a dashboard path and wait until the page has drawn itself."""
    page.goto(f"/dashboard/{path}")
    page.wait_for_selector("#view[data-ready]")


def test_the_workflows_list_and_a_workflows_graph(page: Any) -> None:
    open_page(page, "")
    rows = page.locator("tbody tr[data-workflow]")
    assert {rows.nth(i).get_attribute("data-workflow") for i in range(rows.count())} >= {
        "dash-diamond",
        "dash-fanout",
        "dash-long",
    }
    screenshot(page, "01-workflows")
    page.get_by_role("link", name="dash-diamond", exact=True).click()
    page.wait_for_selector("[data-testid=graph] svg .node")
    nodes = page.locator("[data-testid=graph] .node")
    assert nodes.count() == 5
    assert page.locator(".node.parameterized").get_attribute("data-stage") == "square"
    edges = page.locator("[data-testid=graph] path.edge")
    assert edges.count() == 4  # make_items→square→total→combine and settle→combine
    # Layered from depends_on: every edge points rightwards, into a later layer.
    for i in range(edges.count()):
        start, end = re.findall(r"M([\d.]+) .* ([\d.]+) [\d.]+$", edges.nth(i).get_attribute("d"))[
            0
        ]
        assert float(start) < float(end)
    assert "type: parameterized" in page.get_by_test_id("workflow-yaml").inner_text()
    screenshot(page, "02-workflow-graph")


def test_start_a_run_and_watch_its_stages_finish_live(page: Any, dashboard_server: Server) -> None:
    open_page(page, "workflows/dash-diamond")
    page.get_by_test_id("run-input").fill('{"n": 30, "delay": 0.05, "seconds": 1.5}')
    page.get_by_test_id("start-run").click()
    page.wait_for_url(re.compile(r"/dashboard/runs/[\w-]+$"))
    page.wait_for_selector("#view[data-ready] [data-testid=graph] .node")
    # The page was drawn while the run was going on; what follows arrives by the stream alone.
    page.wait_for_selector(".node[data-stage=settle][data-state=running]")
    page.wait_for_selector("[data-testid=run-state] [data-state=running]")
    page.evaluate("window.stillTheSamePage = true")  # gone if anything reloaded the page
    screenshot(page, "03-run-live")
    page.wait_for_selector("[data-testid=run-state] [data-state=finished]", timeout=30_000)
    assert page.evaluate("window.stillTheSamePage") is True
    states = page.eval_on_selector_all(".node", "nodes => nodes.map(n => n.dataset.state)")
    assert states == ["finished"] * 5
    items = page.locator("tr[data-stage=square] .items")
    assert (items.get_attribute("data-done"), items.get_attribute("data-total")) == ("30", "30")
    assert page.locator("[data-testid=gantt] .gantt-row").count() == 5
    assert '"count": 30' in page.get_by_test_id("run-result").inner_text()

    # The run's logs, all stages and then one.
    page.get_by_test_id("logs").get_by_text("making 30 items").wait_for()
    page.get_by_test_id("logs-stage").select_option("total")
    page.get_by_test_id("logs").get_by_text("total of 30 squares").wait_for()
    assert "making 30 items" not in page.get_by_test_id("logs").inner_text()
    screenshot(page, "04-run-finished")


def test_a_failed_run_shows_its_error_and_traceback(page: Any, dashboard_server: Server) -> None:
    with httpx.Client(base_url=dashboard_server.url, timeout=30) as client:
        run = client.post("/workflows/dash-failing/run", json={"n": 2}).json()
    assert run["state"] == "failed"
    open_page(page, f"runs/{run['name']}")
    error = page.get_by_test_id("run-error")
    assert "ValueError: cannot total 2 values today" in error.inner_text()
    assert "in stage explode" in error.inner_text()
    traceback = page.get_by_test_id("traceback").inner_text()
    assert "Traceback" in traceback and "dashboard_stages.py" in traceback
    assert page.locator(".node[data-stage=explode]").get_attribute("data-state") == "failed"
    screenshot(page, "05-run-failed")


def test_the_runs_table_filters_and_pages(page: Any, dashboard_server: Server) -> None:
    with httpx.Client(base_url=dashboard_server.url, timeout=30) as client:
        for n in range(3):
            client.post("/workflows/dash-fanout/run", json={"n": n})
    open_page(page, "runs")
    page.get_by_test_id("filter-workflow").select_option("dash-fanout")
    page.wait_for_url(re.compile(r"runs\?workflow=dash-fanout"))
    page.wait_for_selector("#view[data-ready] tbody tr[data-run]")
    workflows = page.eval_on_selector_all(
        "tbody tr[data-run] td:nth-child(2)", "tds => tds.map(t => t.textContent)"
    )
    assert workflows and set(workflows) == {"dash-fanout"}
    page.get_by_test_id("filter-state").select_option("failed")
    page.wait_for_url(re.compile(r"state=failed"))
    page.get_by_text("No runs match these filters.").wait_for()
    open_page(page, "runs")
    assert re.match("1\u2013\\d+ of \\d+", page.get_by_test_id("runs-count").inner_text())
    screenshot(page, "06-runs")


def test_a_config_edit_with_errors_is_shown_and_not_stored(
    page: Any, dashboard_server: Server
) -> None:
    before = httpx.get(f"{dashboard_server.url}/configs/dash-config", timeout=10).json()
    open_page(page, "configs")
    page.get_by_role("link", name="dash-config").click()
    editor = page.get_by_test_id("yaml-editor")
    editor.wait_for()
    text = editor.input_value()
    editor.fill(text.replace("greeting: hello", "greeting: [unclosed"))
    page.get_by_test_id("apply").click()
    error = page.get_by_test_id("editor-error")
    error.wait_for()
    assert "not valid YAML" in error.inner_text()
    assert "line" in page.get_by_test_id("editor-error-line").inner_text()
    screenshot(page, "07-config-yaml-error")
    editor.fill(text.replace("type: annotation", "type: nonsense"))
    page.get_by_test_id("apply").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=editor-error]')"
        "?.textContent.includes('selector')"
    )
    assert httpx.get(f"{dashboard_server.url}/configs/dash-config", timeout=10).json() == before
    editor.fill(text.replace("greeting: hello", "greeting: hej"))
    page.get_by_test_id("apply").click()
    page.get_by_test_id("editor-ok").wait_for()
    after = httpx.get(f"{dashboard_server.url}/configs/dash-config", timeout=10).json()
    assert after["spec"]["data"] == {"greeting": "hej"}


def test_triggers_show_their_last_and_next_firing(page: Any) -> None:
    open_page(page, "triggers")
    row = page.locator("tr[data-name=dash-new-year]")
    cells = row.locator("td").all_inner_texts()
    assert cells[1] == "schedule" and cells[4] == "never"
    assert cells[5] not in ("", "—")  # a schedule has a next firing
    screenshot(page, "08-triggers")
    row.get_by_role("link", name="dash-new-year").click()
    page.get_by_text("It has not fired yet.").wait_for()


def test_cancel_a_long_run_and_the_stream_is_released(page: Any, dashboard_server: Server) -> None:
    with httpx.Client(base_url=dashboard_server.url, timeout=30) as client:
        run = client.post("/workflows/dash-long/run", params={"wait": "False"}).json()
        open_page(page, f"runs/{run['name']}")
        page.wait_for_selector("[data-testid=run-state] [data-state=running]")
        # The page is drawn from the REST answer; its stream connects right after.
        wait_until(
            lambda: client.get("/dashboard/api/live").json()["subscribers"] >= 1,
            10,
            "the run page's stream to connect",
        )
        page.get_by_test_id("cancel-run").click()
        page.wait_for_selector("[data-testid=run-state] [data-state=cancelled]")
        page.get_by_test_id("run-error").get_by_text("RunCancelledError").wait_for()
        assert client.get(f"/workflows/run/{run['uid']}").json()["state"] == "cancelled"
        screenshot(page, "09-run-cancelled")
        page.close()  # the tab goes away: the server must let go of its streams
        wait_until(
            lambda: client.get("/dashboard/api/live").json()["subscribers"] == 0,
            10,
            "the closed tab's streams to be dropped",
        )


def test_an_unknown_run_shows_a_not_found_page(page: Any) -> None:
    open_page(page, "runs/no-such-run")
    not_found = page.get_by_test_id("not-found")
    assert "no run named" in not_found.inner_text().lower()
    screenshot(page, "10-run-not-found")
    open_page(page, "no/such/page")
    assert page.get_by_test_id("not-found").is_visible()


def test_the_system_page(page: Any) -> None:
    open_page(page, "system")
    assert "up" in page.get_by_test_id("event-bus").inner_text()
    assert "sqlite" in page.get_by_test_id("database").inner_text()
    services = page.get_by_test_id("services").inner_text()
    assert "compute" in services and "executor local" in services
    assert page.get_by_test_id("metrics").locator(".chart").count() >= 1
    screenshot(page, "11-system")
