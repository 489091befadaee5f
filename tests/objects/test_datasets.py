"""The dataset hooks (PLUGIN-API §2.5): DataFrames and arrays as partitioned files, the handler
registry behind them, ``split_dataframe``, and the Dask executor's handlers."""

from __future__ import annotations

import io
import re

import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal, assert_series_equal

from flowdapt.compute.artifacts import new_artifact
from flowdapt.compute.artifacts.dataset import (
    array_from_artifact,
    array_to_artifact,
    dataframe_from_artifact,
    dataframe_to_artifact,
    get_handler_func,
    register_handler,
)
from flowdapt.compute.artifacts.dataset.utils import split_dataframe
from flowdapt.compute.resources.workflow.execute import execute_workflow
from flowdapt.objects import dataset_handlers
from flowdapt.objects.dataset_handlers import resolve_executor
from tests.conftest import workflow

DF = "pandas.core.frame.DataFrame"
META_DF = b'{"value_type":"pandas.core.frame.DataFrame"}'
S = "tests.objects.dataset_stages"


@pytest.fixture
def registry():
    """The handler registry, restored after the test (built-ins loaded first: their modules
    register only once, when imported)."""
    dataset_handlers._load_builtins("dask")
    state = (dataset_handlers._handlers, dataset_handlers._aliases, dataset_handlers._loaded)
    saved = [container.copy() for container in state]
    yield
    for container, copy in zip(state, saved, strict=True):
        container.clear()
        container.update(copy)


def mixed_frame(rows: int = 10) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "i": np.arange(rows, dtype="int64"),
            "f": np.linspace(0.0, 1.0, rows),
            "s": [f"row{n}" for n in range(rows)],
            "b": [n % 2 == 0 for n in range(rows)],
            "naive": pd.date_range("2024-01-01", periods=rows, freq="h"),
            "aware": pd.date_range("2024-01-01", periods=rows, freq="h", tz="Europe/Berlin"),
            "cat": pd.Categorical(["x", "y"] * (rows // 2)),
        }
    )


def read_partition(storage, name: str, filename: str) -> pd.DataFrame:
    return pd.read_parquet(io.BytesIO(storage.read("default", name, filename)))


# -- DataFrames --------------------------------------------------------------------------------


def test_parquet_round_trip_is_exact(storage):
    artifact = new_artifact("frame")
    frame = mixed_frame()
    dataframe_to_artifact()(artifact, frame)
    assert storage.read("default", "frame", ".artifact.json") == META_DF
    assert [f.name for f in artifact] == ["partition-0.parquet"]
    loaded = dataframe_from_artifact()(artifact)
    assert_frame_equal(loaded, frame)
    assert loaded["naive"].dt.tz is None
    assert str(loaded["aware"].dt.tz) == "Europe/Berlin"


def test_parquet_keeps_a_named_index(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame(
        {"close": [1.0, 2.0]},
        index=pd.DatetimeIndex(["2024-01-01", "2024-01-02"], tz="UTC", name="date"),
    )
    dataframe_to_artifact()(artifact, frame)
    assert_frame_equal(dataframe_from_artifact()(artifact), frame)


def test_num_parts_writes_partitions_of_4_3_3_rows(storage):
    artifact = new_artifact("frame")
    frame = mixed_frame()
    dataframe_to_artifact(num_parts=3)(artifact, frame)
    sizes = [len(read_partition(storage, "frame", f"partition-{i}.parquet")) for i in range(3)]
    assert sizes == [4, 3, 3]
    assert_frame_equal(dataframe_from_artifact()(artifact), frame)


def test_partitions_are_read_in_numeric_order(storage):
    # Listed by name, partition-10 and -11 come before partition-2: the rows must not.
    artifact = new_artifact("frame")
    frame = mixed_frame(24)
    dataframe_to_artifact(num_parts=12)(artifact, frame)
    assert len(list(artifact)) == 12
    assert_frame_equal(dataframe_from_artifact()(artifact), frame)


def test_more_parts_than_rows_writes_empty_partitions(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"a": [1, 2]})
    dataframe_to_artifact(num_parts=3)(artifact, frame)
    assert len(read_partition(storage, "frame", "partition-2.parquet")) == 0
    assert dataframe_from_artifact()(artifact)["a"].tolist() == [1, 2]


def test_csv_keeps_the_bytes_and_reads_the_index_back(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"date": ["2024-01-01", "2024-01-02"], "A": [1, 2]})
    dataframe_to_artifact("csv")(artifact, frame)
    assert storage.read("default", "frame", "partition-0.csv") == frame.to_csv().encode()
    loaded = dataframe_from_artifact("csv")(artifact)
    assert list(loaded.columns) == ["date", "A"]  # no "Unnamed: 0"
    assert_frame_equal(loaded, frame)


def test_csv_datetimes_come_back_as_strings(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"date": pd.date_range("2024-01-01", periods=2)})
    dataframe_to_artifact("csv")(artifact, frame)
    assert dataframe_from_artifact("csv")(artifact)["date"].tolist() == [
        "2024-01-01",
        "2024-01-02",
    ]


def test_csv_without_an_index_column_is_read_as_it_is(storage):
    artifact = new_artifact("frame")
    artifact["value_type"] = DF
    artifact.new_file("partition-0.csv", "a,b\n1,2\n3,4\n")
    assert_frame_equal(
        dataframe_from_artifact("csv")(artifact), pd.DataFrame({"a": [1, 3], "b": [2, 4]})
    )


def test_csv_partitions_round_trip_in_order(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"a": range(24)})
    dataframe_to_artifact("csv", num_parts=12)(artifact, frame)
    assert_frame_equal(dataframe_from_artifact("csv")(artifact), frame)


def test_orc_is_readable_but_not_writable(storage):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"a": [1, 2], "b": ["x", "y"]})
    with pytest.raises(KeyError, match="frame"):
        dataframe_to_artifact("orc")(artifact, frame)
    artifact["value_type"] = DF
    artifact.new_file("partition-0.orc", frame.to_orc())
    assert_frame_equal(dataframe_from_artifact("orc")(artifact), frame)


def test_an_unknown_format_is_a_key_error(storage):
    artifact = new_artifact("frame")
    with pytest.raises(KeyError, match="'json'"):
        dataframe_to_artifact("json")(artifact, pd.DataFrame({"a": [1]}))
    dataframe_to_artifact()(artifact, pd.DataFrame({"a": [1]}))
    with pytest.raises(KeyError, match="'json'"):
        dataframe_from_artifact("json")(artifact)


def test_the_artifact_is_cleared_before_anything_can_fail(storage):
    artifact = new_artifact("frame")
    dataframe_to_artifact()(artifact, pd.DataFrame({"a": [1]}))
    artifact["extra"] = 1
    with pytest.raises(ValueError, match=r"No handler found.*'pandas\.Series'.*'to_artifact'"):
        dataframe_to_artifact()(artifact, pd.Series([1, 2]))
    assert list(artifact) == []
    assert storage.read("default", "frame", ".artifact.json") == b"{}"


def test_the_handlers_assert_their_types(storage):
    artifact = new_artifact("frame")
    with pytest.raises(AssertionError, match="Series"):
        get_handler_func("*", DF, "to_artifact")(artifact, pd.Series([1]), format="parquet")
    array_to_artifact()(artifact, np.arange(3))
    with pytest.raises(AssertionError, match=r"'numpy\.ndarray', not a DataFrame"):
        get_handler_func("*", DF, "from_artifact")(artifact, format="parquet")


def test_loading_without_files_is_a_value_error(storage):
    artifact = new_artifact("frame")
    artifact["value_type"] = DF
    with pytest.raises(ValueError, match=r"`frame`.*any files ending in '\.parquet'"):
        dataframe_from_artifact()(artifact)


def test_loading_an_artifact_never_saved_is_a_value_error(storage):
    artifact = new_artifact("frame")
    with pytest.raises(ValueError, match=r"`frame`.*No handler found.*data type None"):
        dataframe_from_artifact()(artifact)


def test_the_loaders_take_no_extra_arguments(storage):
    artifact = new_artifact("frame")
    dataframe_to_artifact()(artifact, pd.DataFrame({"a": [1]}))
    with pytest.raises(TypeError):
        dataframe_from_artifact(num_parts=2)(artifact)


@pytest.mark.parametrize("spelling", [DF, "pandas.DataFrame"])
def test_both_spellings_of_the_type_are_read(storage, spelling):
    artifact = new_artifact("frame")
    frame = pd.DataFrame({"a": [1, 2]})
    dataframe_to_artifact()(artifact, frame)
    artifact["value_type"] = spelling
    assert_frame_equal(dataframe_from_artifact()(artifact), frame)


def test_a_dataframe_subclass_is_saved_as_a_dataframe(storage):
    class Prices(pd.DataFrame):
        pass

    artifact = new_artifact("frame")
    dataframe_to_artifact()(artifact, Prices({"a": [1]}))
    assert artifact["value_type"] == DF
    assert_frame_equal(dataframe_from_artifact()(artifact), pd.DataFrame({"a": [1]}))


# -- arrays ------------------------------------------------------------------------------------


def test_array_parts_are_4_3_3_and_round_trip(storage):
    artifact = new_artifact("array")
    array_to_artifact(num_parts=3)(artifact, np.arange(10))
    assert storage.read("default", "array", ".artifact.json") == b'{"value_type":"numpy.ndarray"}'
    sizes = [
        len(np.load(io.BytesIO(storage.read("default", "array", f"partition-{i}.npy"))))
        for i in range(3)
    ]
    assert sizes == [4, 3, 3]
    np.testing.assert_array_equal(array_from_artifact()(artifact), np.arange(10))


def test_arrays_keep_shape_and_order_with_many_parts(storage):
    artifact = new_artifact("array")
    value = np.arange(48.0).reshape(24, 2)
    array_to_artifact(num_parts=12)(artifact, value)
    loaded = array_from_artifact()(artifact)
    assert loaded.dtype == value.dtype
    np.testing.assert_array_equal(loaded, value)


def test_object_arrays_load_with_pickle_allowed(storage):
    artifact = new_artifact("array")
    value = np.array([{"a": 1}, None, "x"], dtype=object)
    array_to_artifact()(artifact, value)
    assert array_from_artifact()(artifact).tolist() == [{"a": 1}, None, "x"]


def test_array_errors(storage):
    artifact = new_artifact("array")
    with pytest.raises(KeyError, match=r"'npz'.*`array`"):
        array_to_artifact("npz")(artifact, np.arange(3))
    with pytest.raises(AssertionError, match="list"):
        get_handler_func("*", "numpy.ndarray", "to_artifact")(artifact, [1], format="npy")
    artifact["value_type"] = "numpy.ndarray"
    with pytest.raises(ValueError, match=r"any files ending in '\.npy'"):
        array_from_artifact()(artifact)


def test_a_dataframe_artifact_is_not_an_array(storage):
    artifact = new_artifact("frame")
    dataframe_to_artifact()(artifact, pd.DataFrame({"a": [1]}))
    with pytest.raises(AssertionError, match="not an array"):
        get_handler_func("*", "numpy.ndarray", "from_artifact")(artifact, format="npy")


# -- the registry ------------------------------------------------------------------------------


def test_lookup_tries_the_executor_then_the_wildcard(registry):
    def anywhere(*args, **kwargs):
        return "anywhere"

    def on_ray(*args, **kwargs):
        return "ray"

    register_handler("*", "mylib.Table", "to_artifact", anywhere)
    assert get_handler_func("local", "mylib.Table", "to_artifact") is anywhere
    register_handler("ray", "mylib.Table", "to_artifact", on_ray)
    assert get_handler_func("ray", "mylib.Table", "to_artifact") is on_ray
    assert get_handler_func("dask", "mylib.Table", "to_artifact") is anywhere
    register_handler("ray", "mylib.Table", "to_artifact", anywhere)  # replaces
    assert get_handler_func("ray", "mylib.Table", "to_artifact") is anywhere


def test_a_missing_handler_names_executor_type_and_operation():
    message = (
        "No handler found for executor 'local', data type 'mylib.Missing' "
        "and operation 'from_artifact'"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        get_handler_func("local", "mylib.Missing", "from_artifact")


def test_the_builtin_handlers_are_registered_for_every_executor():
    for data_type in (DF, "pandas.DataFrame", "numpy.ndarray"):
        for operation in ("to_artifact", "from_artifact"):
            assert get_handler_func("local", data_type, operation)


def test_a_registered_type_is_saved_through_the_hooks(storage, registry):
    class Table:
        pass

    saved = []
    register_handler(
        "*", f"{__name__}.{Table.__qualname__}", "to_artifact", lambda a, v, **kw: saved.append(kw)
    )
    dataframe_to_artifact(num_parts=2)(new_artifact("t"), Table())
    assert saved == [{"format": "parquet", "num_parts": 2}]


def test_outside_a_stage_the_executor_is_the_wildcard():
    assert resolve_executor() == "*"
    assert resolve_executor("dask") == "dask"


# -- split_dataframe ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "sizes"),
    [(1, [10]), (2, [5, 5]), (3, [4, 3, 3]), (4, [3, 3, 2, 2]), (12, [1] * 10 + [0, 0])],
)
def test_split_dataframe_sizes(n, sizes):
    parts = split_dataframe(pd.DataFrame({"a": range(10)}), n)
    assert [len(part) for part in parts] == sizes
    assert pd.concat(parts)["a"].tolist() == list(range(10))


def test_split_dataframe_slices_by_position():
    frame = pd.DataFrame({"a": [1, 2, 3]}, index=[30, 10, 20])
    first, second = split_dataframe(frame, 2)
    assert first.index.tolist() == [30, 10]
    assert second.index.tolist() == [20]


@pytest.mark.parametrize("n", [0, -1])
def test_split_dataframe_into_no_parts_is_a_zero_division(n):
    with pytest.raises(ZeroDivisionError):
        split_dataframe(pd.DataFrame({"a": [1]}), n)


# -- Dask --------------------------------------------------------------------------------------


def test_dask_collections_have_no_handler_off_the_dask_executor(storage):
    frame = dd.from_pandas(pd.DataFrame({"a": [1]}), npartitions=1)
    with pytest.raises(ValueError, match="No handler found for executor '\\*'"):
        dataframe_to_artifact(executor="*")(new_artifact("d"), frame)


def test_dask_dataframe_round_trip(storage):
    artifact = new_artifact("d")
    frame = dd.from_pandas(mixed_frame(), npartitions=3)  # dask converts str columns itself
    dataframe_to_artifact(executor="dask")(artifact, frame)
    assert artifact["value_type"] == "dask.dataframe.core.DataFrame"
    assert len(read_partition(storage, "d", "partition-0.parquet")) == 4
    loaded = dataframe_from_artifact(executor="dask")(artifact)
    assert isinstance(loaded, dd.DataFrame)
    assert loaded.npartitions == 3
    assert_frame_equal(loaded.compute(), frame.compute())


def test_dask_dataframe_num_parts_and_csv(storage):
    artifact = new_artifact("d")
    frame = pd.DataFrame({"a": range(24)})
    save = dataframe_to_artifact("csv", executor="dask", num_parts=12)
    save(artifact, dd.from_pandas(frame, npartitions=2))
    assert len(list(artifact)) == 12
    loaded = dataframe_from_artifact("csv", executor="dask")(artifact)
    assert_frame_equal(loaded.compute(), frame)


def test_dask_series_keeps_its_name(storage):
    artifact = new_artifact("d")
    series = pd.Series(range(6), name="volume")
    dataframe_to_artifact(executor="dask")(artifact, dd.from_pandas(series, npartitions=2))
    loaded = dataframe_from_artifact(executor="dask")(artifact)
    assert_series_equal(loaded.compute(), series)


def test_dask_array_blocks_are_partitions(storage):
    artifact = new_artifact("d")
    value = np.arange(20).reshape(10, 2)
    array_to_artifact(executor="dask", num_parts=3)(artifact, da.from_array(value, chunks=(5, 1)))
    assert artifact["value_type"] == "dask.array.core.Array"
    assert [f.name for f in artifact] == [f"partition-{i}.npy" for i in range(3)]
    loaded = array_from_artifact(executor="dask")(artifact)
    assert loaded.chunks == ((4, 3, 3), (2,))
    np.testing.assert_array_equal(loaded.compute(), value)


def test_pandas_on_the_dask_executor_uses_the_wildcard_handler(storage):
    artifact = new_artifact("d")
    frame = pd.DataFrame({"a": [1, 2]})
    dataframe_to_artifact(executor="dask")(artifact, frame)
    assert artifact["value_type"] == DF
    assert_frame_equal(dataframe_from_artifact(executor="dask")(artifact), frame)


# -- in a workflow -----------------------------------------------------------------------------


def save_then_load():
    return workflow(
        {"name": "save", "target": f"{S}.save_prices"},
        {"name": "load", "target": f"{S}.load_prices", "depends_on": ["save"]},
    )


async def test_a_frame_saved_in_one_stage_is_loaded_in_the_next(storage, thread_executor):
    from tests.objects.dataset_stages import prices

    result = await execute_workflow(
        save_then_load(),
        {"num_parts": 2},
        executor=thread_executor,
        namespace="testing",
        return_result=True,
    )
    assert_frame_equal(result, prices())
    assert storage.read("testing", "prices", ".artifact.json") == META_DF
    assert storage.exists("testing", "prices", "partition-1.parquet")


async def test_the_hooks_take_the_executor_of_the_run(storage, thread_executor, registry):
    calls = []

    def local_only(artifact, value, **kwargs):
        calls.append(kwargs)

    register_handler("local", DF, "to_artifact", local_only)
    await execute_workflow(
        save_then_load(),
        executor=thread_executor,
        namespace="testing",
        return_result=False,
    )
    assert calls == [{"format": "parquet", "num_parts": 1}]
