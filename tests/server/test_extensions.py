"""User modules and plugins, as the server finds them."""

from __future__ import annotations

import sys
import textwrap

from flowdapt.bootstrap import prepare_user_modules
from flowdapt.engine.targets import resolve_target
from flowdapt.services.plugins import discover_plugins, find_plugin


def test_user_modules_are_importable_and_new_files_are_picked_up(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "path", list(sys.path))
    folder = prepare_user_modules(tmp_path)
    (folder / "first_mod.py").write_text("def stage():\n    return 'first'\n")
    assert resolve_target("user_modules.first_mod.stage")() == "first"
    (folder / "added_later.py").write_text("def stage():\n    return 'later'\n")
    assert resolve_target("user_modules.added_later.stage")() == "later"
    for name in ("user_modules", "user_modules.first_mod", "user_modules.added_later"):
        sys.modules.pop(name, None)


def test_a_plugin_entry_point_is_listed_with_metadata_and_files(tmp_path, monkeypatch):
    # Not "weather": the example plugin of this repository is installed under that name.
    package = tmp_path / "nowcast_plugin"
    (package / "resources").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "resources" / "workflow.yaml").write_text("kind: workflow\n")
    info = tmp_path / "nowcast_plugin-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        textwrap.dedent("""\
        Metadata-Version: 2.1
        Name: nowcast-plugin
        Version: 1.2.3
        Summary: Nowcasts for many cities
        Author: The weather team
        License: MIT
        Home-page: https://example.org/weather
        Requires-Dist: numpy
        """)
    )
    (info / "entry_points.txt").write_text("[flowdapt.plugins]\nnowcast = nowcast_plugin\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    names = [plugin.name for plugin in discover_plugins()]
    assert "nowcast" in names
    plugin = find_plugin("nowcast")
    assert plugin.module == "nowcast_plugin"
    assert (plugin.status, plugin.error, plugin.distribution) == ("ok", None, "nowcast-plugin")
    assert plugin.metadata["version"] == "1.2.3"
    assert plugin.metadata["description"] == "Nowcasts for many cities"
    assert plugin.metadata["requirements"] == ["numpy"]
    assert plugin.files() == ["resources/workflow.yaml"]
    assert plugin.read_file("resources/workflow.yaml") == b"kind: workflow\n"
