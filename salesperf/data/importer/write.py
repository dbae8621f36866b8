"""Writing a canonical table as CSV: the text pandas ``to_csv(index=False)`` writes (UTF-8, ``\\n`` line ends,
quotes only where a cell needs them, floats in their shortest round-trip form, blanks empty), produced by
DuckDB from Arrow columns: a million order lines in about a second instead of ten.

Columns DuckDB would write differently (booleans, dates, mixed types, empty strings, which DuckDB quotes,
carriage returns, which it does not) send the table to pandas ``to_csv``.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_ARROW_TYPES = {"string": pa.string(), "floating": pa.float64(), "integer": pa.int64(), "empty": pa.null()}


def _arrow_column(values: pd.Series) -> pa.Array | None:
    """The column as Arrow strings, doubles or integers; ``None`` when it holds anything else."""
    if values.dtype == object:
        inferred = pd.api.types.infer_dtype(values, skipna=True)
        if inferred not in _ARROW_TYPES:
            return None
        array = pa.array(values.to_numpy(), type=_ARROW_TYPES[inferred], from_pandas=True)
        if inferred == "string" and (
            pc.any(pc.equal(array, "")).as_py() or pc.any(pc.match_substring(array, "\r")).as_py()
        ):
            return None  # DuckDB quotes an empty string and leaves a lone carriage return unquoted
        return array
    if pd.api.types.is_float_dtype(values.dtype) or pd.api.types.is_integer_dtype(values.dtype):
        if isinstance(values.dtype, pd.api.extensions.ExtensionDtype):
            return None
        return pa.array(values.to_numpy(), from_pandas=True)
    return None


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` (n rows, its columns in order, no index) to ``path`` as pandas ``to_csv`` would.

    Parameters
    ----------
    frame : DataFrame
        n rows; object columns of ``str``/``float``/``int`` (``None`` for blanks), or float/int columns.
    path : Path
        The CSV file, replaced.
    """
    arrays = [_arrow_column(frame[c]) for c in frame.columns] if frame.columns.is_unique else [None]
    if any(a is None for a in arrays) or not len(frame.columns):
        frame.to_csv(path, index=False, encoding="utf-8", lineterminator="\n")
        return
    table = pa.Table.from_arrays(arrays, names=[str(c) for c in frame.columns])
    target = str(path).replace("'", "''")
    with duckdb.connect() as con:
        con.register("frame_to_write", table)
        con.execute(f"COPY frame_to_write TO '{target}' (FORMAT csv, HEADER true, DELIMITER ',')")
