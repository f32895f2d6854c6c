"""contract.cast_sql(): a landing value cast to its contract representation, and when that counts as failed.

The raw gate judges values with these casts and staging (dbt's read_source) mirrors them, so this table of
cases is the rule both sides keep.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import duckdb
import pytest

from insight_engine import contract

DATA_TYPES = {
    "string": "string",
    "integer": "bigint",
    "number": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
    "date": "date",
}


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("set TimeZone = 'UTC'")
    return c


def cast(
    con: duckdb.DuckDBPyConnection, literal: str, native: str, family: str, zone: str = "UTC"
) -> tuple[Any, bool]:
    """(value, failed) of one raw value, given as a SQL literal of the native type."""
    column = contract.Column("x", DATA_TYPES[family], required=False, pii=False, description="")
    value, failed = contract.cast_sql('"x"', native, column, zone)
    row = con.execute(f'select {value}, {failed} from (select cast({literal} as {native}) as "x")').fetchall()
    return row[0][0], bool(row[0][1])


# (literal of the native type, native type, contract family, expected value, failed): dbt's landing_value
# is held to the same table in test_landing_casts.py
CASES: list[tuple[str, str, str, Any, bool]] = [
    # string: text as is, numbers as integer text where integral
    ("' A-1 '", "VARCHAR", "string", " A-1 ", False),
    ("123", "BIGINT", "string", "123", False),
    ("'123.0'", "DOUBLE", "string", "123", False),
    ("'12.5'", "DOUBLE", "string", "12.5", False),
    ("123.00", "DECIMAL(10,2)", "string", "123", False),
    ("true", "BOOLEAN", "string", "true", False),
    ("null", "VARCHAR", "string", None, False),
    # integer
    ("7", "INTEGER", "integer", 7, False),
    ("'42.0'", "DOUBLE", "integer", 42, False),
    ("'42.5'", "DOUBLE", "integer", None, True),
    ("' 12 '", "VARCHAR", "integer", 12, False),
    ("'12.0'", "VARCHAR", "integer", 12, False),
    ("'1e3'", "VARCHAR", "integer", 1000, False),
    ("'12.5'", "VARCHAR", "integer", None, True),  # DuckDB's try_cast would round it to 13
    ("'twelve'", "VARCHAR", "integer", None, True),
    ("''", "VARCHAR", "integer", None, False),  # blank is missing, not failed
    ("true", "BOOLEAN", "integer", 1, False),
    # number
    ("'3.25'", "VARCHAR", "number", 3.25, False),
    ("'12,5'", "VARCHAR", "number", None, True),
    ("12.50", "DECIMAL(10,2)", "number", 12.5, False),
    ("5", "BIGINT", "number", 5.0, False),
    # non-finite or absurd numbers are row defects, not build crashes (decimal(18, 2) amounts downstream)
    ("'NaN'::double", "DOUBLE", "number", None, True),
    ("'inf'::double", "DOUBLE", "number", None, True),
    ("-1e30", "DOUBLE", "number", None, True),
    ("'1e30'", "VARCHAR", "number", None, True),
    ("' -Infinity '", "VARCHAR", "number", None, True),
    ("99999999999999.5", "DOUBLE", "number", 99999999999999.5, False),
    # boolean
    ("1", "INTEGER", "boolean", True, False),
    ("0", "TINYINT", "boolean", False, False),
    ("2", "INTEGER", "boolean", None, True),
    ("' Yes '", "VARCHAR", "boolean", True, False),
    ("'F'", "VARCHAR", "boolean", False, False),
    ("'true'", "VARCHAR", "boolean", True, False),
    ("'maybe'", "VARCHAR", "boolean", None, True),
    # timestamp: every documented form, naive ones in the zone
    ("'2026-01-01 10:00:00'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 10), False),
    ("'2026-01-01T10:00:00'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 10), False),
    ("'2026-01-01 10:00'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 10), False),
    (
        "'2026-01-01 10:00:00.123456'",
        "VARCHAR",
        "timestamp",
        datetime(2026, 1, 1, 10, 0, 0, 123456),
        False,
    ),
    ("'2026-01-01'", "VARCHAR", "timestamp", datetime(2026, 1, 1), False),
    ("'2026-01-01T10:00:00+03:00'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 7), False),
    ("'2026-01-01T10:00:00+0300'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 7), False),
    ("'2026-01-01T10:00:00Z'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 10), False),
    ("'2026-01-01T10:00:00-03'", "VARCHAR", "timestamp", datetime(2026, 1, 1, 13), False),
    ("'31/02/2025 10:00'", "VARCHAR", "timestamp", None, True),
    ("'2025-13-45T25:61:00'", "VARCHAR", "timestamp", None, True),
    ("'N/A'", "VARCHAR", "timestamp", None, True),
    ("' '", "VARCHAR", "timestamp", None, False),
    ("timestamp '2026-01-01 10:00:00'", "TIMESTAMP", "timestamp", datetime(2026, 1, 1, 10), False),
    ("timestamp '2026-01-01 10:00:00'", "TIMESTAMP_MS", "timestamp", datetime(2026, 1, 1, 10), False),
    ("'2026-01-01 10:00:00+03'", "TIMESTAMP WITH TIME ZONE", "timestamp", datetime(2026, 1, 1, 7), False),
    ("date '2026-01-01'", "DATE", "timestamp", datetime(2026, 1, 1), False),
    # date
    ("'1990-05-01'", "VARCHAR", "date", date(1990, 5, 1), False),
    ("'1990-05-01 10:00:00'", "VARCHAR", "date", date(1990, 5, 1), False),
    ("'01/05/1990'", "VARCHAR", "date", None, True),
    ("timestamp '1990-05-01 23:00:00'", "TIMESTAMP", "date", date(1990, 5, 1), False),
    ("date '1990-05-01'", "DATE", "date", date(1990, 5, 1), False),
]


@pytest.mark.parametrize(("literal", "native", "family", "expected", "failed"), CASES)
def test_cast_sql(
    con: duckdb.DuckDBPyConnection, literal: str, native: str, family: str, expected: Any, failed: bool
) -> None:
    assert cast(con, literal, native, family) == (expected, failed)


ZONE_CASES: list[tuple[str, str, str, datetime]] = [
    # naive wall-clock values are read in the zone; instants ignore it
    ("'2026-01-01 22:30:00'", "VARCHAR", "America/Sao_Paulo", datetime(2026, 1, 2, 1, 30)),
    ("'2026-07-01 02:00:00'", "VARCHAR", "Europe/Istanbul", datetime(2026, 6, 30, 23, 0)),
    ("'2026-01-01'", "VARCHAR", "America/Sao_Paulo", datetime(2026, 1, 1, 3, 0)),
    ("timestamp '2026-01-01 22:30:00'", "TIMESTAMP_NS", "America/Sao_Paulo", datetime(2026, 1, 2, 1, 30)),
    ("'2026-01-01T22:30:00Z'", "VARCHAR", "America/Sao_Paulo", datetime(2026, 1, 1, 22, 30)),
    (
        "'2026-01-01 22:30:00+00'",
        "TIMESTAMP WITH TIME ZONE",
        "America/Sao_Paulo",
        datetime(2026, 1, 1, 22, 30),
    ),
]


@pytest.mark.parametrize(("literal", "native", "zone", "expected"), ZONE_CASES)
def test_naive_timestamps_are_read_in_the_source_zone(
    con: duckdb.DuckDBPyConnection, literal: str, native: str, zone: str, expected: datetime
) -> None:
    assert cast(con, literal, native, "timestamp", zone) == (expected, False)


@pytest.mark.parametrize(
    ("native", "family", "ok"),
    [
        ("VARCHAR", "integer", True),
        ("DECIMAL(18,3)", "integer", True),
        ("BOOLEAN", "number", False),
        ("BIGINT", "boolean", True),
        ("DOUBLE", "boolean", False),
        ("TIMESTAMP_NS", "timestamp", True),
        ("TIMESTAMP WITH TIME ZONE", "date", True),
        ("BIGINT", "timestamp", False),
        ("UUID", "string", True),
        ("BLOB", "string", False),
        ("BIGINT[]", "string", False),
        ("STRUCT(a INTEGER)", "string", False),
        ("MAP(VARCHAR, INTEGER)", "string", False),
        ("NULL", "timestamp", True),  # an all-null column (Arrow null type)
    ],
)
def test_native_types_compatible_with_a_family(native: str, family: str, ok: bool) -> None:
    assert contract.compatible(native, family) is ok  # type: ignore[arg-type]


def test_an_incompatible_type_cannot_be_cast() -> None:
    column = contract.Column("tags", "string", required=False, pii=False, description="")
    with pytest.raises(contract.ContractError, match="BLOB column cannot be read as string"):
        contract.cast_sql('"tags"', "BLOB", column, "UTC")


@pytest.mark.parametrize(
    ("literal", "native", "expected", "failed"),
    [
        (None, None, datetime(2026, 1, 2), False),  # no column: the end of the load day
        ("'2026-01-02T02:00:00Z'", "VARCHAR", datetime(2026, 1, 2, 2), False),
        ("'2026-01-02 02:00:00'", "VARCHAR", datetime(2026, 1, 2, 2), False),  # naive: UTC
        ("''", "VARCHAR", datetime(2026, 1, 2), False),
        ("'soon'", "VARCHAR", None, True),
        ("timestamp '2026-01-02 02:00:00'", "TIMESTAMP", datetime(2026, 1, 2, 2), False),
    ],
)
def test_loaded_at(
    con: duckdb.DuckDBPyConnection, literal: str | None, native: str | None, expected: Any, failed: bool
) -> None:
    value, fails = contract.loaded_at_sql('"x"' if literal else None, native)
    source = f"cast({literal} as {native})" if literal else "null"
    row = con.execute(
        f"select {value}, {fails} from (select {source} as \"x\", date '2026-01-01' as load_date)"
    ).fetchall()[0]
    assert (row[0], bool(row[1])) == (expected, failed)


def test_csv_read_options_are_one_constant() -> None:
    reader = contract.csv_reader_sql(["a.csv", "b.csv.gz"])
    assert reader == f"read_csv(['a.csv', 'b.csv.gz'], {contract.CSV_READ_OPTIONS})"
    assert "all_varchar = true" in contract.CSV_READ_OPTIONS
    assert contract.file_format("x/part-0.csv.gz") == "csv"
    assert contract.file_format("x/part-0.parquet") == "parquet"
    assert contract.file_format("x/_SUCCESS") is None
