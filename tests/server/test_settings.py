"""Configuration: file, .env, environment, overrides; both target spellings; clear errors."""

from __future__ import annotations

import pytest
import yaml

from flowdapt.settings import SettingsError, load_settings


def test_missing_file_is_written_with_defaults(tmp_path):
    settings = load_settings(tmp_path)
    written = yaml.safe_load((tmp_path / "flowdapt.yaml").read_text())
    assert written["rpc"]["api"]["port"] == 8080 == settings.rpc.api.port
    assert settings.database.target == "flowdapt.storage.sql.SQLStorage"
    assert settings.services.compute.executor.options == {"use_processes": False}


def test_precedence_file_then_env_file_then_environment_then_overrides(tmp_path, monkeypatch):
    (tmp_path / "flowdapt.yaml").write_text("rpc: {api: {port: 1000, host: 0.0.0.0}}\nname: a\n")
    (tmp_path / "x.env").write_text("FLOWDAPT__RPC__API__PORT=2000\nFLOWDAPT__NAME=b\n")
    assert load_settings(tmp_path).rpc.api.port == 1000
    assert load_settings(tmp_path, env_files=[tmp_path / "x.env"]).rpc.api.port == 2000
    monkeypatch.setenv("FLOWDAPT__RPC__API__PORT", "3000")
    settings = load_settings(tmp_path, env_files=[tmp_path / "x.env"])
    assert (settings.rpc.api.port, settings.name, settings.rpc.api.host) == (3000, "b", "0.0.0.0")
    overridden = load_settings(tmp_path, overrides={"rpc.api.port": "4000"})
    assert overridden.rpc.api.port == 4000


def test_json_config_and_the_originals_dunder_target(tmp_path):
    (tmp_path / "flowdapt.yaml").write_text(
        '{"database": {"__target__": "flowdapt.lib.database.storage.tdb.TinyDBStorage"},'
        ' "services": {"compute": {"executor": {"__target__":'
        ' "flowdapt.compute.executor.local.LocalExecutor", "cpus": 2}}}}'
    )
    settings = load_settings(tmp_path)
    assert settings.database.target == "flowdapt.lib.database.storage.tdb.TinyDBStorage"
    assert settings.services.compute.executor.target.endswith("LocalExecutor")
    assert settings.services.compute.executor.options == {"cpus": 2}


def test_the_app_dir_variable_is_not_mistaken_for_a_key(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__APP_DIR", str(tmp_path))
    assert load_settings(tmp_path).app_dir == tmp_path


def test_environment_text_for_executor_options_is_typed(tmp_path, monkeypatch):
    monkeypatch.setenv("FLOWDAPT__SERVICES__COMPUTE__EXECUTOR__USE_PROCESSES", "false")
    monkeypatch.setenv("FLOWDAPT__SERVICES__COMPUTE__EXECUTOR__CPUS", "3")
    options = load_settings(tmp_path).services.compute.executor.options
    assert options == {"use_processes": False, "cpus": 3}


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("rpc: {api: {port: not-a-number}}", "rpc.api.port"),
        ("logging: {level: loud}", "logging.level"),
        ("surprise: 1", "surprise"),
        ("rpc: [1, 2", "not valid YAML"),
        ("- just\n- a list", "mapping"),
    ],
    ids=["bad-port", "bad-level", "unknown-key", "malformed", "not-a-mapping"],
)
def test_invalid_configuration_names_the_key(tmp_path, content, fragment):
    (tmp_path / "flowdapt.yaml").write_text(content)
    with pytest.raises(SettingsError, match=fragment):
        load_settings(tmp_path)
