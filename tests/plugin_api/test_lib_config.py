"""flowdapt.lib.config: the configuration stage code sees, and the FLOWDAPT__ variables (§7)."""

from __future__ import annotations

import pytest

from flowdapt import settings as settings_home
from flowdapt.lib import config
from flowdapt.objects import config as objects_config


@pytest.fixture
def env(clean_environment):
    return clean_environment


def test_defaults_outside_a_stage(env):
    configuration = config.get_configuration()
    assert configuration.storage == config.StorageSettings()
    assert configuration.storage.model_dump() == {
        "protocol": "file",
        "base_path": "",
        "parameters": {},
    }
    assert configuration.services.compute.default_os_strategy == "fallback"
    assert configuration.services.compute.default_namespace == "default"
    assert (configuration.logging.level, configuration.logging.format) == ("info", "console")


def test_storage_and_strategy_from_the_environment(env):
    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    env.setenv("FLOWDAPT__STORAGE__BASE_PATH", "test")
    env.setenv("FLOWDAPT__STORAGE__PARAMETERS__ANON", "true")
    env.setenv("FLOWDAPT__SERVICES__COMPUTE__DEFAULT_OS_STRATEGY", "artifact")
    configuration = config.get_configuration()
    assert configuration.storage.protocol == "memory"
    assert configuration.storage.base_path == "test"
    assert configuration.storage.parameters == {"anon": True}
    assert configuration.services.compute.default_os_strategy == "artifact"
    assert config.storage_settings() == configuration.storage
    assert config.default_strategy() == "artifact"


def test_the_environment_is_read_at_every_call(env):
    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    assert config.get_configuration().storage.protocol == "memory"
    env.delenv("FLOWDAPT__STORAGE__PROTOCOL")
    assert config.get_configuration().storage.protocol == "file"


def test_other_sections_come_from_the_environment_too(env, tmp_path):
    env.setenv("FLOWDAPT__LOGGING__LEVEL", "DEBUG")
    env.setenv("FLOWDAPT__SERVICES__COMPUTE__DEFAULT_NAMESPACE", "research")
    env.setenv("FLOWDAPT__APP_DIR", str(tmp_path))
    configuration = config.get_configuration()
    assert configuration.logging.level == "debug"
    assert configuration.services.compute.default_namespace == "research"
    assert configuration.app_dir == tmp_path
    # protocol file without a base path: under the app dir, not the filesystem root
    assert configuration.storage.root() == str(tmp_path)


def test_text_fields_stay_text(env):
    env.setenv("FLOWDAPT__STORAGE__BASE_PATH", "2024")
    env.setenv("FLOWDAPT__STORAGE__PARAMETERS__TOKEN", "abc=def==")
    storage = config.get_configuration().storage
    assert storage.base_path == "2024"
    assert storage.parameters == {"token": "abc=def=="}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("true", True),
        ("FALSE", False),
        (" True ", True),
        ("null", None),
        ("none", None),
        ("NULL", None),
        ("42", 42),
        ("-7", -7),
        ("010", 10),
        ("2.5", 2.5),
        ("1.5e3", 1500.0),
        ("1e3", "1e3"),
        ("0x10", "0x10"),
        ("yes", "yes"),
        ("off", "off"),
        ("1.2.3", "1.2.3"),
        ("eu-west-1", "eu-west-1"),
        ("http://127.0.0.1:9000/?a=b", "http://127.0.0.1:9000/?a=b"),
    ],
)
def test_untyped_values_are_coerced_as_the_original_did(env, text, value):
    # §7.2, not YAML 1.1 (which reads "yes" as True, "010" as 8 and "0x10" as 16).
    env.setenv("FLOWDAPT__STORAGE__PARAMETERS__OPTION", text)
    assert config.get_configuration().storage.parameters == {"option": value}


def test_in_a_run_the_servers_settings_win(env, in_run):
    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    snapshot = {
        "storage": {"protocol": "s3", "base_path": "bucket", "parameters": {"anon": True}},
        "services": {"compute": {"default_os_strategy": "cluster_memory"}},
    }
    with in_run(settings=snapshot):
        configuration = config.get_configuration()
    assert configuration.storage.model_dump() == snapshot["storage"]
    assert configuration.services.compute.default_os_strategy == "cluster_memory"
    assert config.get_configuration().storage.protocol == "memory"  # after the run


def test_in_a_run_without_server_settings_the_environment_counts(env, in_run):
    env.setenv("FLOWDAPT__STORAGE__PROTOCOL", "memory")
    with in_run():
        assert config.get_configuration().storage.protocol == "memory"


def test_invalid_variables_are_named(env):
    env.setenv("FLOWDAPT__LOGGING__LEVEL", "loud")
    with pytest.raises(config.SettingsError, match=r"logging\.level"):
        config.get_configuration()
    env.delenv("FLOWDAPT__LOGGING__LEVEL")
    env.setenv("FLOWDAPT__SERVICES__COMPUTE__DEFAULT_OS_STRATEGY", "sometimes")
    with pytest.raises(config.StorageSettingsError, match="DEFAULT_OS_STRATEGY"):
        config.get_configuration()


def test_configuration_file_keys_are_not_read(env, tmp_path):
    (tmp_path / "flowdapt.yaml").write_text("storage:\n  protocol: memory\n")
    env.setenv("FLOWDAPT__CONFIG_FILE", str(tmp_path / "flowdapt.yaml"))
    # The CLI's variable: a stage does not read the server's file behind its back.
    assert config.get_configuration().storage.protocol == "file"


def test_re_exports_are_the_real_homes():
    assert config.Configuration is settings_home.Settings
    assert config.StorageSettings is objects_config.StorageSettings
    assert config.load_settings is settings_home.load_settings
    assert config.__all__ == sorted(config.__all__)
    re_exported = set(config.__all__) - {"get_configuration"}
    for name in re_exported:
        assert getattr(config, name).__module__ != "flowdapt.lib.config", name
