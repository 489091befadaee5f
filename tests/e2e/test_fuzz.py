"""Schemathesis against the running server's own OpenAPI document: no request gets a 5xx.

Every operation of ``GET /openapi.json`` is fuzzed with a bounded number of schema-conforming
(positive) and schema-violating (negative) examples, derandomized so a run is repeatable. Every
distinct 5xx (per operation and status) is reported with the request as a curl command and the
traceback from the server log.

(Schemathesis' lazy pytest integration, ``schemathesis.pytest.from_fixture``, reads a private
pytest attribute that pytest 9 no longer has, so the operations are driven through its Python
API instead: ``APIOperation.as_strategy`` with Hypothesis.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode

from tests.e2e.conftest import Server, free_port

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]

EXAMPLES = {GenerationMode.POSITIVE: 40, GenerationMode.NEGATIVE: 25}  # per operation
BUDGET = 80.0  # seconds for the whole fuzz run

OFFSET_BUG = (
    "fixed: an `offset` query parameter >= 2**63 reached SQL OFFSET unbounded (500); listings now "
    "bound it (422)"
)


class KnownServerError(AssertionError):
    """Only 5xx already reported (OFFSET_BUG) were found: the xfail below expects exactly this;
    any other 5xx fails the test outright."""


def is_offset_bug(case: schemathesis.Case) -> bool:
    try:
        return int(str((case.query or {}).get("offset"))) >= 2**63
    except ValueError:
        return False


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = Server(tmp_path_factory.mktemp("app-fuzz"), free_port(), None)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def traceback_excerpt(log: str) -> str:
    """The project's frames and the exception line of the last traceback in `log`."""
    lines = log.splitlines()
    start = max((i for i, line in enumerate(lines) if line.startswith("Traceback")), default=0)
    lines = lines[start:]
    keep = [
        f"{line}\n{lines[i + 1] if i + 1 < len(lines) else ''}"
        for i, line in enumerate(lines)
        if "/src/flowdapt/" in line
    ]
    last = next((line for line in reversed(lines) if line and not line[0].isspace()), "")
    return "\n".join([*keep, last])


class ServerErrors:
    """The distinct 5xx seen: the first request per operation and status code."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.found: dict[tuple[str, int], str] = {}
        self.known: dict[tuple[str, int], str] = {}
        self.requests = 0
        self.unsatisfiable: list[str] = []

    def _log_size(self) -> int:
        return (self.server.app_dir / "server.log").stat().st_size

    def _log_since(self, offset: int) -> str:
        with (self.server.app_dir / "server.log").open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def call(self, case: schemathesis.Case, session: requests.Session) -> None:
        offset = self._log_size()
        response = case.call(session=session, timeout=15)
        self.requests += 1
        if response.status_code < 500:
            return
        session.close()  # the server drops the connection after an unhandled error
        key = (case.operation.label, response.status_code)
        found = self.known if is_offset_bug(case) else self.found
        if key not in found:
            time.sleep(0.1)  # let the server finish writing the traceback
            found[key] = (
                f"{case.operation.label} -> {response.status_code}\n"
                f"  {case.as_curl_command()}\n  response: {response.text[:300]}\n"
                f"{traceback_excerpt(self._log_since(offset))}"
            )


def fuzz_operation(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    errors: ServerErrors,
    session: requests.Session,
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: schemathesis.Case) -> None:
        errors.call(case, session)

    try:
        fuzz()
    except Unsatisfiable:
        # Nothing to violate: e.g. an operation without parameters has no negative examples.
        if mode is not GenerationMode.NEGATIVE:
            raise
        errors.unsatisfiable.append(operation.label)


def test_no_request_gets_a_server_error(fuzz_server: Server) -> None:
    schema = schemathesis.openapi.from_url(f"{fuzz_server.url}/openapi.json", timeout=10)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 27  # every route of the wire-compatible API is in the document
    errors = ServerErrors(fuzz_server)
    began = time.monotonic()
    with requests.Session() as session:
        for mode in EXAMPLES:
            for operation in operations:
                if time.monotonic() - began > BUDGET:
                    pytest.fail(f"fuzzing exceeded its {BUDGET}s budget at {operation.label}")
                fuzz_operation(operation, mode, errors, session)
    assert fuzz_server.process is not None and fuzz_server.process.poll() is None
    for found, error in ((errors.found, AssertionError), (errors.known, KnownServerError)):
        if found:
            report = "\n\n".join(found.values())
            raise error(f"{len(found)} distinct 5xx in {errors.requests} requests:\n{report}")


@pytest.mark.parametrize(
    "path", ["/workflows/", "/configs/", "/triggers/", "/workflows/run/", "/workflows/w/run"]
)
def test_an_offset_beyond_int64_is_a_client_error(fuzz_server: Server, path: str) -> None:
    """The fuzz's finding as a plain regression test, on every listing route."""
    workflow = {
        "kind": "workflow",
        "metadata": {"name": "w"},
        "spec": {"stages": [{"name": "only", "target": "tests.e2e.stages.echo"}]},
    }
    with httpx.Client(base_url=fuzz_server.url, timeout=10) as client:
        if client.get("/workflows/w").status_code == 404:
            assert client.post("/workflows/", json=workflow).status_code == 200
        assert client.get(path, params={"offset": 2**62}).status_code == 200
    response = httpx.get(f"{fuzz_server.url}{path}", params={"offset": 2**62 + 1}, timeout=10)
    assert response.status_code == 422, response.text
    assert response.json()["status_code"] == 422
