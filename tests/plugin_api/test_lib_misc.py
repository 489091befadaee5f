"""flowdapt.lib.utils.misc: import by dotted path and random names (§10)."""

from __future__ import annotations

import os.path
import re
import sys

import pytest

from flowdapt.lib.utils import misc


def test_import_attribute_by_dotted_path():
    assert misc.import_from_string("os.path.join") is os.path.join
    assert misc.import_from_string("  os.path.join ") is os.path.join


def test_import_module():
    assert misc.import_from_string("os.path", is_module=True) is os.path


@pytest.mark.parametrize("path", ["join", ""])
def test_a_path_without_a_module_is_an_import_error(path):
    with pytest.raises(ImportError):
        misc.import_from_string(path)


def test_missing_attribute_and_module():
    with pytest.raises(ImportError, match="missing_thing"):
        misc.import_from_string("os.path.missing_thing")
    with pytest.raises(ModuleNotFoundError):
        misc.import_from_string("flowdapt_no_such_module.f")
    with pytest.raises(ModuleNotFoundError):
        misc.import_from_string("flowdapt_no_such_module", is_module=True)


def test_modules_are_not_reloaded(tmp_path, monkeypatch):
    (tmp_path / "plugin_api_counter.py").write_text(
        "import itertools\nloads = itertools.count()\nLOADED = next(loads)\nclass Thing: pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "plugin_api_counter", raising=False)
    thing = misc.import_from_string("plugin_api_counter.Thing")()
    # Reloading (the original's behaviour) would re-create the class and fail this check.
    assert isinstance(thing, misc.import_from_string("plugin_api_counter.Thing"))
    module = misc.import_from_string("plugin_api_counter", is_module=True)
    assert module.LOADED == 0 and next(module.loads) == 1
    monkeypatch.delitem(sys.modules, "plugin_api_counter")


def test_cache_answers_without_importing(monkeypatch):
    first = misc.import_from_string("os.path.join", use_cache=True)
    monkeypatch.setattr(os.path, "join", lambda *parts: "patched")
    assert misc.import_from_string("os.path.join", use_cache=True) is first
    assert misc.import_from_string("os.path.join")() == "patched"  # uncached: looked up anew
    assert misc.import_from_string("os.path", is_module=True, use_cache=True) is os.path


def test_generated_names_are_lowercase_words():
    for size in (2, 3, 4):
        name = misc.generate_name(size)
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert len(name.split("-")) >= size
    assert len(misc.generate_name().split("-")) == 2


def test_denied_words_are_drawn_again():
    draws = iter([["sexy", "otter"], ["brave", "booby"], ["brave", "otter"]])
    calls = []

    def words(size):
        calls.append(size)
        return next(draws)

    assert misc.generate_name(words=words) == "brave-otter"
    assert calls == [2, 2, 2]
