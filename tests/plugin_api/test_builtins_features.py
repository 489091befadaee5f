"""flowdapt.builtins.utils: feature/label columns and null handling (PLUGIN-API.md §1.1 to §1.5)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from flowdapt.builtins import utils


@pytest.fixture
def seeded() -> None:
    np.random.seed(20)


def test_features_and_labels_are_matched_by_first_character_in_column_order():
    df = pd.DataFrame(columns=["date", "%-a", "&-t", "x", "a%", "%", "&-u", "%-b"])
    assert utils.find_features(df) == ["%-a", "%", "%-b"]
    assert utils.find_labels(df) == ["&-t", "&-u"]


def test_non_string_column_names_raise_attribute_error():
    with pytest.raises(AttributeError):
        utils.find_features(pd.DataFrame(np.ones((2, 2))))


def test_extract_returns_features_then_labels_with_every_row(seeded):
    df = utils.dummy_pandas_df(100, 200, withnans=False)
    features, labels = utils.extract_features_and_labels(df)
    assert features.shape == (100, 199)
    assert labels.shape == (100, 1)
    assert list(labels.columns) == ["&-a"]
    assert features.index.equals(df.index)


def test_empty_selection_keeps_the_row_count_and_logs_an_error(caplog):
    df = pd.DataFrame({"%-a": [1.0, 2.0, 3.0]}, index=[10, 20, 30])
    with caplog.at_level(logging.ERROR):
        features, labels = utils.extract_features_and_labels(df)
    assert labels.empty and len(labels) == 3
    assert list(labels.index) == [10, 20, 30]
    assert list(features.columns) == ["%-a"]
    assert [r.getMessage() for r in caplog.records] == ["No labels found"]


def test_no_features_is_logged_too(caplog):
    with caplog.at_level(logging.ERROR):
        features, _ = utils.extract_features_and_labels(pd.DataFrame({"&-t": [1]}))
    assert features.shape == (1, 0)
    assert [r.getMessage() for r in caplog.records] == ["No features found"]


def test_shift_adds_shifts_minus_one_lags():
    df = pd.DataFrame(
        {"date": pd.date_range("2024-01-01", periods=4, freq="h"), "%-a": [1, 2, 3, 4]}
    )
    out = utils.shift_and_add_features(df, 3, ["%-a"])
    assert list(out.columns) == ["date", "%-a", "%-a_shift-1", "%-a_shift-2"]
    np.testing.assert_array_equal(out["%-a_shift-1"], [np.nan, 1, 2, 3])
    np.testing.assert_array_equal(out["%-a_shift-2"], [np.nan, np.nan, 1, 2])
    assert list(df.columns) == ["date", "%-a"]  # the input is not changed


def test_shift_orders_columns_by_lag_then_by_cols():
    df = pd.DataFrame({"%-a": [1, 2, 3], "%-b": [4, 5, 6]})
    out = utils.shift_and_add_features(df, 3, pd.Index(["%-a", "%-b"]))
    assert list(out.columns)[2:] == ["%-a_shift-1", "%-b_shift-1", "%-a_shift-2", "%-b_shift-2"]


def test_shift_aligns_on_the_index_and_lags_by_position():
    df = pd.DataFrame({"%-a": [1, 2, 3]}, index=[7, 3, 5])
    out = utils.shift_and_add_features(df, 2, ["%-a"])
    assert list(out.index) == [7, 3, 5]
    np.testing.assert_array_equal(out["%-a_shift-1"], [np.nan, 1, 2])


@pytest.mark.parametrize("shifts", [1, 0, -3])
def test_shift_of_at_most_one_returns_the_input_itself(shifts):
    df = pd.DataFrame({"%-a": [1, 2]})
    assert utils.shift_and_add_features(df, shifts, ["%-a"]) is df


def test_shift_of_a_missing_column_raises_key_error():
    with pytest.raises(KeyError):
        utils.shift_and_add_features(pd.DataFrame({"%-a": [1, 2]}), 2, ["%-missing"])


@pytest.fixture
def nulls() -> pd.DataFrame:
    """5 rows; null counts a: 3, b: 5, c: 0, d: 2 (None and NaT count as null)."""
    return pd.DataFrame(
        {
            "a": [1.0, np.nan, np.nan, np.nan, 5.0],
            "b": [None] * 5,
            "c": [1, 2, 3, 4, 5],
            "d": pd.to_datetime(["2024-01-01", None, "2024-01-03", None, "2024-01-05"]),
        }
    )


@pytest.mark.parametrize(
    ("threshold", "kept"),
    [
        (2, ["c", "d"]),
        (3, ["a", "c", "d"]),  # a null count equal to the threshold is kept
        (0, ["c"]),
        (40, ["a", "c", "d"]),  # only the all-null column goes
        (5, ["a", "c", "d"]),
    ],
)
def test_remove_none_columns_thresholds(nulls, threshold, kept, caplog):
    with caplog.at_level(logging.INFO):
        out = utils.remove_none_columns(nulls, threshold=threshold)
    assert list(out.columns) == kept
    removed = 4 - len(kept)
    assert f"Removed {removed} columns due to NaNs" in caplog.messages


def test_remove_none_columns_logs_even_when_nothing_goes(caplog):
    with caplog.at_level(logging.INFO):
        utils.remove_none_columns(pd.DataFrame({"c": [1, 2]}))
    assert "Removed 0 columns due to NaNs" in caplog.messages


def test_remove_none_columns_of_a_frame_without_rows_removes_all():
    empty = pd.DataFrame({"a": pd.Series([], dtype=float), "b": pd.Series([], dtype=object)})
    assert list(utils.remove_none_columns(empty).columns) == []


def test_remove_rows_with_nans_keeps_infinity_and_the_index(caplog):
    df = pd.DataFrame(
        {
            "a": [1.0, np.nan, 3.0, 4.0, 5.0, np.inf],
            "b": ["x", "y", None, "z", "w", "v"],
            "c": pd.to_datetime(
                ["2024-01-01", "2024-01-02", "2024-01-03", None, "2024-01-05", "2024-01-06"]
            ),
        }
    )
    with caplog.at_level(logging.WARNING):
        out = utils.remove_rows_with_nans(df)
    assert list(out.index) == [0, 4, 5]
    assert caplog.messages == ["Dropped 3 from dataset due to NaNs"]


def test_remove_rows_with_nans_worked_example():
    df = pd.DataFrame({"a": [1, np.nan, np.nan, np.nan, 5], "c": [1, 2, 3, 4, 5]})
    assert list(utils.remove_rows_with_nans(df).index) == [0, 4]


def test_remove_rows_without_nans_logs_nothing(caplog):
    df = pd.DataFrame({"a": [1, 2]})
    with caplog.at_level(logging.DEBUG):
        out = utils.remove_rows_with_nans(df)
    assert out.equals(df) and caplog.records == []
    assert utils.remove_rows_with_nans(df.iloc[:0]).empty


def test_seeded_dummy_frame_matches_the_originals_test(seeded):
    df = utils.dummy_pandas_df(100, 200, withnans=True)
    assert df.shape == (100, 200)
    assert len(utils.remove_rows_with_nans(df)) == 96
    assert len(utils.find_features(df)) == 199 and utils.find_labels(df) == ["&-a"]
    assert list(df.columns[:2]) == ["%-0", "%-1"] and df.columns[-2] == "%-198"


def test_dummy_frame_values_and_nans():
    np.random.seed(3)
    df = utils.dummy_pandas_df(50, 4, withnans=False)
    assert not df.isnull().any().any()
    assert ((df >= 0) & (df < 35)).all().all()
    np.random.seed(3)
    with_nans = utils.dummy_pandas_df(50, 4)
    # Same draw: NaN exactly where the value was below 0.01.
    assert with_nans.isnull().equals(df < 0.01)
