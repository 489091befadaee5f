"""flowdapt.builtins.utils: sampling period, data gap and merging (PLUGIN-API.md §1.6 to §1.8)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest

from flowdapt.builtins import utils

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def fixed_clock(now: datetime = NOW):
    def clock(tz):
        return now.astimezone(tz) if tz is not None else now.replace(tzinfo=None)

    return clock


def hourly(start: str, periods: int, values=None, tz=None) -> pd.DataFrame:
    dates = pd.date_range(start, periods=periods, freq="h", tz=tz)
    return pd.DataFrame({"date": dates, "v": values if values is not None else range(periods)})


def ending_at(last: datetime, periods: int = 3, step=timedelta(hours=1)) -> pd.DataFrame:
    naive = last.replace(tzinfo=None)
    return pd.DataFrame({"date": [naive - step * k for k in reversed(range(periods))]})


def test_frequency_uses_only_the_last_two_rows():
    df = pd.DataFrame(
        {"date": pd.to_datetime(["2024-01-01 00:00", "2024-01-01 05:00", "2024-01-01 05:15"])}
    )
    assert utils.get_data_frequency(df) == pd.Timedelta(minutes=15)
    assert isinstance(utils.get_data_frequency(df), pd.Timedelta)


@pytest.mark.parametrize("rows", [0, 1])
def test_frequency_needs_two_rows(rows):
    with pytest.raises(IndexError):
        utils.get_data_frequency(hourly("2024-01-01", rows))


def test_gap_counts_whole_periods_since_the_last_row(caplog):
    df = ending_at(NOW - timedelta(hours=4, minutes=30))
    with caplog.at_level(logging.INFO):
        gap = utils.get_data_gap(df, UTC, clock=fixed_clock())
    assert gap == 4
    assert caplog.messages[0] == "Gap in data, downloading 4 points."
    assert len(caplog.messages) == 2  # plus the detail line


def test_gap_with_the_real_clock():
    df = ending_at(datetime.now(UTC) - timedelta(hours=4, minutes=30))
    assert utils.get_data_gap(df, UTC) == 4


def test_gap_is_truncated_toward_zero_for_future_rows(caplog):
    with caplog.at_level(logging.INFO):
        assert (
            utils.get_data_gap(ending_at(NOW + timedelta(hours=2)), UTC, clock=fixed_clock()) == -2
        )
        # -1.5 periods truncates to -1, not -2 (floor)
        assert (
            utils.get_data_gap(ending_at(NOW + timedelta(minutes=90)), UTC, clock=fixed_clock())
            == -1
        )
    assert caplog.messages == ["No gap in data, pulling from memory/storage."] * 2


@pytest.mark.parametrize(
    ("behind", "expected"), [(timedelta(0), 0), (timedelta(minutes=59), 0), (timedelta(hours=1), 1)]
)
def test_gap_boundaries(behind, expected):
    assert utils.get_data_gap(ending_at(NOW - behind), UTC, clock=fixed_clock()) == expected


def test_gap_without_tz_compares_naive_local_time():
    seen = []

    def clock(tz):
        seen.append(tz)
        return datetime(2024, 5, 1, 12, 0)

    df = ending_at(datetime(2024, 5, 1, 9, 0))
    assert utils.get_data_gap(df, clock=clock) == 3
    assert seen == [None]


def test_gap_accepts_tz_aware_dates_by_converting():
    # 09:00 in UTC+2 is 07:00 UTC: five hours before NOW.
    plus_two = timezone(timedelta(hours=2))
    dates = pd.date_range("2024-05-01 07:00", periods=3, freq="h", tz=plus_two)
    df = pd.DataFrame({"date": dates})
    assert utils.get_data_gap(df, UTC, clock=fixed_clock()) == 5
    assert utils.get_data_gap(df, None, clock=fixed_clock()) == 5


def test_gap_of_equal_last_dates_is_a_zero_division():
    df = pd.DataFrame({"date": pd.to_datetime(["2024-01-01", "2024-01-01"])})
    with pytest.raises(ZeroDivisionError):
        utils.get_data_gap(df, UTC, clock=fixed_clock())


def test_gap_of_a_single_row_is_an_index_error():
    with pytest.raises(IndexError):
        utils.get_data_gap(ending_at(NOW, periods=1), UTC, clock=fixed_clock())


@pytest.fixture
def old() -> pd.DataFrame:
    return hourly("2024-01-01 00:00", 4, [1, 2, 3, 4])


@pytest.fixture
def new() -> pd.DataFrame:
    return hourly("2024-01-01 02:00", 4, [30, 40, 50, 60])


def test_merge_prefer_new_replaces_the_overlap(old, new):
    out = utils.merge_dataframes(old, new)
    assert list(out["date"].dt.hour) == [0, 1, 2, 3, 4, 5]
    assert list(out["v"]) == [1, 2, 30, 40, 50, 60]
    assert list(out.index) == list(range(6))


def test_merge_prefer_old_appends_only_later_rows(old, new):
    out = utils.merge_dataframes(old, new, prefer_new=False)
    assert list(out["date"].dt.hour) == [0, 1, 2, 3, 4, 5]
    assert list(out["v"]) == [1, 2, 3, 4, 50, 60]


def test_merge_prefer_new_drops_old_rows_later_than_the_new_ones():
    old = hourly("2024-01-01 00:00", 6, [1, 2, 3, 4, 5, 6])
    new = hourly("2024-01-01 02:00", 2, [30, 40])
    assert list(utils.merge_dataframes(old, new)["v"]) == [1, 2, 30, 40]


def test_merge_of_new_rows_entirely_before_the_old(caplog):
    old = hourly("2024-01-01 02:00", 3, [1, 2, 3])
    new = hourly("2024-01-01 00:00", 3, [10, 20, 30])
    assert list(utils.merge_dataframes(old, new)["v"]) == [10, 20, 30]
    assert list(utils.merge_dataframes(old, new, prefer_new=False)["v"]) == [1, 2, 3]
    assert "Gap in data, should redownload from scratch." not in caplog.messages


def test_merge_across_a_gap_warns_and_still_merges(old, caplog):
    later = hourly("2024-01-01 07:00", 2, [70, 80])
    with caplog.at_level(logging.WARNING):
        out = utils.merge_dataframes(old, later)
    assert list(out["v"]) == [1, 2, 3, 4, 70, 80]
    assert caplog.messages == ["Gap in data, should redownload from scratch."]


def test_merge_of_the_next_row_is_not_a_gap(old, caplog):
    # one period after the last row: a ratio of exactly 1, which is not "> 1"
    with caplog.at_level(logging.WARNING):
        out = utils.merge_dataframes(old, hourly("2024-01-01 04:00", 1, [5]))
    assert list(out["v"]) == [1, 2, 3, 4, 5] and caplog.messages == []


def test_merge_of_nothing_returns_the_frame_not_a_tuple(caplog):
    old = hourly("2024-01-01 00:00", 3, [1, 2, 3]).set_axis([5, 6, 7])
    with caplog.at_level(logging.WARNING):
        out = utils.merge_dataframes(old, old.iloc[:0])
    assert isinstance(out, pd.DataFrame)
    assert list(out["v"]) == [1, 2, 3] and list(out.index) == [0, 1, 2]
    assert len(caplog.records) == 1 and caplog.records[0].levelno == logging.WARNING


@pytest.mark.parametrize("rows", [0, 1])
def test_merge_into_fewer_than_two_rows_is_an_index_error(rows, new):
    with pytest.raises(IndexError):
        utils.merge_dataframes(hourly("2024-01-01", rows), new)


def test_merge_of_tz_aware_frames():
    old = hourly("2024-01-01 00:00", 3, [1, 2, 3], tz="UTC")
    new = hourly("2024-01-01 02:00", 2, [30, 40], tz="UTC")
    out = utils.merge_dataframes(old, new)
    assert list(out["v"]) == [1, 2, 30, 40]
    assert str(out["date"].dt.tz) == "UTC"
