"""Broken plugins and plugin-name conflicts, as discovery and the API report them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from flowdapt.domain.errors import NotFoundError
from flowdapt.services.plugins import PluginConflictError, discover_plugins, find_plugin
from tests.api.conftest import api  # noqa: F401 - the in-process app fixture
from tests.plugins.conftest import fake_distribution

WORKFLOW = "kind: workflow\nmetadata: {name: w}\nspec: {stages: [{name: s, target: m.f}]}\n"


def by_name(names: set[str]) -> dict[str, list]:
    found: dict[str, list] = {}
    for plugin in discover_plugins():
        if plugin.name in names:
            found.setdefault(plugin.name, []).append(plugin)
    return found


def good_plugin(site: Path, name: str = "tooling_good") -> None:
    fake_distribution(
        site,
        name.replace("_", "-"),
        plugins={name: name},
        files={f"{name}/__init__.py": "", f"{name}/resources/workflows.yaml": WORKFLOW},
    )


def test_a_missing_module_is_broken_and_the_others_still_work(site: Path) -> None:
    good_plugin(site)
    fake_distribution(site, "tooling-gone", plugins={"tooling_gone": "tooling_gone_pkg"})
    fake_distribution(site, "tooling-deep", plugins={"tooling_deep": "tooling_deep_pkg.sub"})
    (site / "tooling_deep_pkg").mkdir()
    (site / "tooling_deep_pkg" / "__init__.py").write_text("")
    found = by_name({"tooling_good", "tooling_gone", "tooling_deep"})
    [gone], [deep], [good] = found["tooling_gone"], found["tooling_deep"], found["tooling_good"]
    assert gone.status == "broken"
    assert "module 'tooling_gone_pkg' cannot be found" in (gone.error or "")
    assert gone.files() == []
    assert deep.status == "broken" and "'tooling_deep_pkg.sub' cannot be found" in (
        deep.error or ""
    )
    assert (good.status, good.error) == ("ok", None)
    assert good.read_file("resources/workflows.yaml") == WORKFLOW.encode()


def test_a_syntax_error_is_broken_and_says_where(site: Path) -> None:
    fake_distribution(
        site,
        "tooling-typo",
        plugins={"tooling_typo": "tooling_typo"},
        files={
            "tooling_typo/__init__.py": "x = 1\ndef broken(:\n",
            "tooling_typo/resources/workflows.yaml": WORKFLOW,
        },
    )
    [typo] = by_name({"tooling_typo"})["tooling_typo"]
    assert typo.status == "broken"
    assert typo.error is not None
    assert typo.error.startswith(str(site / "tooling_typo" / "__init__.py") + ":2: SyntaxError")
    # Its files are still served: the resources may be wanted before the code is fixed.
    assert typo.files() == ["resources/workflows.yaml"]


def test_a_missing_requirement_is_broken_but_an_unused_extra_is_not(site: Path) -> None:
    for project, requires in {
        "tooling-needy": ["numpy>=1", "tooling-absent-dependency>=2"],
        "tooling-extras": ["numpy", 'tooling-absent-dependency; extra == "gpu"'],
    }.items():
        package = project.replace("-", "_")
        fake_distribution(
            site,
            project,
            plugins={package: package},
            requires=requires,
            files={f"{package}/__init__.py": ""},
        )
    found = by_name({"tooling_needy", "tooling_extras"})
    [needy], [extras] = found["tooling_needy"], found["tooling_extras"]
    assert needy.status == "broken"
    assert needy.error == "it requires 'tooling-absent-dependency>=2', which is not installed"
    assert extras.status == "ok"


def test_listing_never_runs_plugin_code(site: Path, tmp_path: Path) -> None:
    marker = tmp_path / "imported"
    side_effect = f"open({str(marker)!r}, 'w').close()\nraise RuntimeError('boom at import')\n"
    fake_distribution(
        site,
        "tooling-loud",
        plugins={"tooling_loud": "tooling_loud_pkg.plugin"},
        files={
            "tooling_loud_pkg/__init__.py": side_effect,
            "tooling_loud_pkg/plugin.py": side_effect,
        },
    )
    [loud] = by_name({"tooling_loud"})["tooling_loud"]
    find_plugin("tooling_loud").files()
    assert not marker.exists()
    assert "tooling_loud_pkg" not in sys.modules and "tooling_loud_pkg.plugin" not in sys.modules
    # What only running the code would show is not claimed: it fails the run that imports it.
    assert loud.status == "ok"
    assert loud.root == site / "tooling_loud_pkg"


def test_a_malformed_entry_points_file_hides_no_other_plugin(site: Path) -> None:
    good_plugin(site)
    info = fake_distribution(site, "tooling-garbled", plugins={})
    (info / "entry_points.txt").write_text("[flowdapt.plugins]\nno equals sign here\n")
    found = by_name({"tooling_good", "tooling-garbled"})
    assert found["tooling_good"][0].status == "ok"
    [garbled] = found["tooling-garbled"]  # listed under its distribution's name
    assert garbled.status == "broken"
    assert "entry points of tooling-garbled cannot be read" in (garbled.error or "")


def test_two_distributions_with_one_plugin_name_conflict(site: Path) -> None:
    for project in ("tooling-twin-a", "tooling-twin-b"):
        package = project.replace("-", "_")
        fake_distribution(
            site, project, plugins={"tooling_twin": package}, files={f"{package}/__init__.py": ""}
        )
    twins = by_name({"tooling_twin"})["tooling_twin"]
    assert [twin.distribution for twin in twins] == ["tooling-twin-a", "tooling-twin-b"]
    assert {twin.status for twin in twins} == {"conflict"}
    assert all("declared by several distributions" in (twin.error or "") for twin in twins)
    with pytest.raises(PluginConflictError, match="ambiguous") as caught:
        find_plugin("tooling_twin")
    assert "tooling-twin-a 1.0 (module tooling_twin_a)" in str(caught.value)
    assert "tooling-twin-b 1.0 (module tooling_twin_b)" in str(caught.value)


def test_the_same_distribution_twice_on_the_path_is_one_plugin(
    site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    front = tmp_path / "front"  # e.g. a development copy on PYTHONPATH before site-packages
    for folder, version in ((site, "1.0"), (front, "2.0")):
        fake_distribution(
            folder,
            "tooling-copied",
            plugins={"tooling_copied": "tooling_copied"},
            version=version,
            files={"tooling_copied/__init__.py": ""},
        )
    monkeypatch.syspath_prepend(str(front))
    [copied] = by_name({"tooling_copied"})["tooling_copied"]
    # The copy Python would import is the one described: the first on the path.
    assert (copied.status, copied.metadata["version"]) == ("ok", "2.0")
    assert copied.root == front / "tooling_copied"


def test_an_unknown_name_says_what_is_installed(site: Path) -> None:
    good_plugin(site)
    with pytest.raises(NotFoundError, match=r"no plugin named 'tooling_nope'.*tooling_good"):
        find_plugin("tooling_nope")


async def test_the_api_lists_broken_plugins_and_refuses_ambiguous_names(
    api: httpx.AsyncClient,  # noqa: F811 - the imported fixture
    site: Path,
) -> None:
    good_plugin(site)
    fake_distribution(site, "tooling-gone", plugins={"tooling_gone": "tooling_gone_pkg"})
    for project in ("tooling-twin-a", "tooling-twin-b"):
        fake_distribution(site, project, plugins={"tooling_twin": project.replace("-", "_")})

    listing = (await api.get("/plugin/")).json()
    status = {(item["name"], item["distribution"]): item["status"] for item in listing}
    assert status[("tooling_good", "tooling-good")] == "ok"
    assert status[("tooling_gone", "tooling-gone")] == "broken"
    assert status[("tooling_twin", "tooling-twin-a")] == "conflict"
    assert status[("tooling_twin", "tooling-twin-b")] == "conflict"
    good = next(item for item in listing if item["name"] == "tooling_good")
    assert set(good) >= {"name", "metadata", "module"}  # the original's schema still holds
    assert good["metadata"]["version"] == "1.0" and good["error"] is None

    broken = await api.get("/plugin/tooling_gone")
    assert broken.status_code == 200 and "cannot be found" in broken.json()["error"]
    for path in ("/plugin/tooling_twin", "/plugin/tooling_twin/files"):
        refused = await api.get(path)
        assert refused.status_code == 409
        assert refused.json()["status_code"] == 409 and "ambiguous" in refused.json()["detail"]
    files = await api.get("/plugin/tooling_good/files")
    assert files.json() == {"files": ["resources/workflows.yaml"]}
    content = await api.get("/plugin/tooling_good/files/resources/workflows.yaml")
    assert content.content == WORKFLOW.encode()


def test_flowdapt_plugin_list_reports_broken_plugins(site: Path) -> None:
    good_plugin(site)
    fake_distribution(site, "tooling-gone", plugins={"tooling_gone": "tooling_gone_pkg"})
    result = subprocess.run(
        [str(Path(sys.executable).with_name("flowdapt")), "plugin", "list"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(site)},
    )
    assert result.returncode == 1  # scripts can tell that something is wrong
    lines = result.stdout.splitlines()
    assert "tooling_good  1.0  ok  tooling_good" in lines
    assert "tooling_gone  1.0  broken  tooling_gone_pkg" in lines
    assert any("module 'tooling_gone_pkg' cannot be found" in line for line in lines)
