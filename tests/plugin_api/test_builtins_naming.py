"""flowdapt.builtins.utils: names, feather files and thread counts (PLUGIN-API.md §1.9, §1.10)."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pandas as pd
import pytest

from flowdapt.builtins import utils


@pytest.mark.parametrize(
    ("values", "name"),
    [
        ({"city": "Los Angeles"}, "Los20Angeles"),
        ({"exchange": "okx", "symbol": "ETH-USDT", "interval": "5m"}, "okx_ETH-USDT_5m"),
        (
            {"exchange": "binance", "symbol": "BTC/USDT:USDT", "interval": "1h"},
            "binance_BTCUSDT3AUSDT_1h",
        ),
        (
            {"a": "x.y z", "b": 0, "c": None, "d": "", "e": 1.5, "f": "Saint Paul's"},
            "x_y20z_1_5_Saint20Paul27s",
        ),
        ({"a": "São Paulo"}, "SC3A3o20Paulo"),
        ({"a": "x%20y"}, "x2520y"),
        ({"a": False, "b": True, "c": [1, 2]}, "True_5B12C2025D"),
        ({}, ""),
        # quote() keeps "~"; the name is not a valid artifact name, as in the original
        ({"a": "x~y"}, "x~y"),
        ({"a": "tab\there", "b": "a/b"}, "tab09here_ab"),
    ],
)
def test_artifact_name_from_dict_reproduces_the_originals_names(values, name):
    assert utils.artifact_name_from_dict(values) == name


def test_artifact_names_use_insertion_order():
    assert utils.artifact_name_from_dict({"b": "2", "a": "1"}) == "2_1"


def test_dict_to_list_string_keeps_truthy_values_as_text():
    assert utils.dict_to_list_string({"a": "x", "b": None, "c": 3}) == (["x", "3"], "x_3")
    assert utils.dict_to_list_string({}) == ([], "")


def test_path_from_string_and_string_to_uuid():
    assert utils.path_from_string("a_b_c") == Path("a/b/c")
    assert utils.path_from_string("abc") == Path("abc")
    assert utils.string_to_uuid("Los20Angeles") == "4820c7d7-f08a-5b87-acd2-b7ec21163bed"


METADATA = {"exchange": "okx", "symbol": "ETH", "empty": "", "interval": "5m"}


def candles(start: str, periods: int, first: int = 0) -> pd.DataFrame:
    dates = pd.date_range(start, periods=periods, freq="5min")
    return pd.DataFrame({"date": dates, "close": range(first, first + periods)})


def test_feather_round_trip_at_the_documented_path(tmp_path):
    data = candles("2024-01-01", 10)
    assert utils.save_historical_data_to_feather(data, METADATA, tmp_path) is True
    assert (tmp_path / "okx" / "ETH" / "5m" / "okx_ETH_5m.feather").is_file()
    pd.testing.assert_frame_equal(
        utils.load_historical_data_from_feather(METADATA, str(tmp_path)), data
    )
    tail = utils.load_historical_data_from_feather(METADATA, tmp_path, num_points=3)
    assert list(tail["close"]) == [7, 8, 9]
    assert utils.load_historical_data_from_feather(METADATA, tmp_path, num_points=0).empty


def test_loading_what_is_not_there_warns_and_gives_none(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        assert utils.load_historical_data_from_feather(METADATA, tmp_path) is None
    assert len(caplog.records) == 1


def test_loading_a_corrupt_file_gives_none(tmp_path):
    path = tmp_path / "okx" / "ETH" / "5m" / "okx_ETH_5m.feather"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not feather")
    assert utils.load_historical_data_from_feather(METADATA, tmp_path) is None


def test_update_merges_new_rows_over_the_stored_ones(tmp_path):
    utils.save_historical_data_to_feather(candles("2024-01-01 00:00", 4), METADATA, tmp_path)
    incoming = candles("2024-01-01 00:15", 3, first=100)  # overlaps the last stored row
    updated, difference = utils.update_historic_data(METADATA, incoming, tmp_path)
    assert updated is True
    assert difference == 0.0  # 00:15 - 00:15 in 5-minute periods
    stored = utils.load_historical_data_from_feather(METADATA, tmp_path)
    assert list(stored["close"]) == [0, 1, 2, 100, 101, 102]


def test_update_reports_the_distance_in_periods(tmp_path):
    utils.save_historical_data_to_feather(candles("2024-01-01 00:00", 4), METADATA, tmp_path)
    _, difference = utils.update_historic_data(METADATA, candles("2024-01-01 00:30", 1), tmp_path)
    assert difference == 3.0


def test_update_without_incoming_rows_or_stored_file(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        result = utils.update_historic_data(METADATA, candles("2024-01-01", 2), tmp_path)
    assert result == (False, 0)
    assert caplog.records == []  # no file is not a failure to read one
    utils.save_historical_data_to_feather(candles("2024-01-01", 2), METADATA, tmp_path)
    assert utils.update_historic_data(METADATA, candles("2024-01-01", 0), tmp_path) == (False, 0)


def test_thread_count_sees_a_new_thread():
    before = utils.get_current_threads_all_procs()
    started, release = threading.Event(), threading.Event()

    def wait():
        started.set()
        release.wait()

    thread = threading.Thread(target=wait)
    thread.start()
    try:
        started.wait()
        assert utils.get_current_threads_all_procs() >= before + 1
    finally:
        release.set()
        thread.join()


def test_total_system_threads_appends_to_user_data(tmp_path, monkeypatch, caplog):
    monkeypatch.chdir(tmp_path)
    with caplog.at_level(logging.INFO):
        utils.get_total_system_threads()
        utils.get_total_system_threads()
    lines = (tmp_path / "user_data" / "total_threads.txt").read_text().splitlines()
    assert len(lines) == 2 and all(int(line) >= 1 for line in lines)
    assert any("threads" in message for message in caplog.messages)


def test_the_module_surface():
    assert utils.__all__ == sorted(utils.__all__)
    for name in utils.__all__:
        assert getattr(utils, name).__module__.startswith("flowdapt.builtins.")


def test_importing_the_package_and_the_lib_modules_leaves_pandas_alone():
    # The server imports none of these at start, but a plugin's api module may, and pandas
    # costs a second there.
    code = (
        "import sys, flowdapt.builtins, flowdapt.lib.config, flowdapt.lib.errors, "
        "flowdapt.lib.logger, flowdapt.lib.utils.misc; print('pandas' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"
