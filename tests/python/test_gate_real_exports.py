"""The raw gate on what real exports send: hand-made landing zones (pyarrow, CSV text) in tmp folders.

Real exports carry integer ids, native timestamps, naive local times, 0/1 booleans, CSV beside Parquet, no
`_loaded_at`, sparse optional columns and whole tables that did not come. None of that is a defect: the gate
passes it and reports what deserves a look. What still blocks: a missing required column, an unreadable file,
an incompatible column type and row defects beyond their threshold.
"""

from __future__ import annotations

import gzip
import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from insight_engine import contract
from insight_engine.validate import DEFAULT_SUITES_DIR, GateResult, load_suites, read_landing_table, validate

NO_WAREHOUSE = Path("/nonexistent/warehouse.duckdb")
DAY = "2026-01-01"
N = 200  # rows per table: one bad row (0.5%) is reported, half of them fail the table


# ------------------------------------------------------------------------------------------------ helpers
def _folder(root: Path, table: str, load_date: str) -> Path:
    system, name = table.split(".")
    folder = root / system / name / f"load_date={load_date}"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def put_parquet(
    root: Path, table: str, columns: dict[str, Any], load_date: str = DAY, name: str = "part-0.parquet"
) -> Path:
    """Write one Parquet file; ``columns`` holds lists (types inferred) or pyarrow arrays."""
    path = _folder(root, table, load_date) / name
    pq.write_table(pa.table(columns), path)
    return path


def put_csv(
    root: Path,
    table: str,
    text: str,
    load_date: str = DAY,
    name: str = "part-0.csv",
    bom: bool = False,
) -> Path:
    """Write one CSV file (UTF-8, optional BOM; gzip when the name ends in .gz)."""
    path = _folder(root, table, load_date) / name
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    path.write_bytes(gzip.compress(data) if name.endswith(".gz") else data)
    return path


def gate(root: Path, out: Path, *tables: str, **kwargs: Any) -> GateResult:
    """The raw gate with only the named tables' suites (the project's own suites, copied)."""
    folder = out / "suites" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        shutil.copy(DEFAULT_SUITES_DIR / "raw" / f"{table}.json", folder)
    kwargs.setdefault("data_docs", False)
    return validate(
        "raw", raw_root=root, warehouse=NO_WAREHOUSE, out_dir=out, suites_dir=folder.parent, **kwargs
    )


def orders(n: int = N, **columns: Any) -> dict[str, Any]:
    """commerce.orders rows as a shop export writes them; keyword arguments replace or drop (None) columns."""
    base: dict[str, Any] = {
        "order_id": [f"ORD-{i}" for i in range(n)],
        "shop_customer_id": [f"SHP-{i % 7}" for i in range(n)],
        "ordered_at": ["2026-01-01T10:00:00Z"] * n,
        "channel": ["web"] * n,
        "currency": ["EUR"] * n,
        "status": ["placed"] * n,
        "discount_amount": [0.0] * n,
        "shipping_amount": [4.5] * n,
        "promised_delivery_at": ["2026-01-05T10:00:00Z"] * n,
        "delivered_at": pa.array([None] * n, pa.string()),
    }
    for key, value in columns.items():
        if value is None:
            base.pop(key, None)
        else:
            base[key] = value
    return base


def cycle(values: list[Any], n: int = N) -> list[Any]:
    return [values[i % len(values)] for i in range(n)]


def result(gate_result: GateResult, table: str, expectation: str, column: str | None = None):
    return gate_result.table(table).expectation(expectation, column)


CASTABLE = "expect_column_values_to_be_castable_to_contract_type"
FUTURE = "expect_column_pair_values_a_to_be_greater_than_b"


# ------------------------------------------------------------------------------------- timestamps as sent
def test_every_documented_timestamp_form_passes(tmp_path: Path) -> None:
    forms = [
        "2026-01-01 10:00:00",
        "2026-01-01T10:00:00",
        "2026-01-01 10:00:00.123456",
        "2026-01-01T10:00",
        "2026-01-01",
        "2026-01-01T10:00:00+03:00",
        "2026-01-01T10:00:00+0300",
        "2026-01-01T10:00:00Z",
        " 2026-01-01T10:00:00-02:00 ",
    ]
    put_parquet(tmp_path / "raw", "commerce.orders", orders(ordered_at=cycle(forms)))
    g = gate(tmp_path / "raw", tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    castable = result(g, "commerce.orders", CASTABLE, "ordered_at")
    assert castable.unexpected_count == 0 and castable.element_count == N
    assert result(g, "commerce.orders", FUTURE, "_loaded_at, ordered_at__utc").unexpected_count == 0


def test_native_parquet_timestamp_timestamptz_and_date_columns_pass(tmp_path: Path) -> None:
    at = datetime(2026, 1, 1, 10, 0)
    put_parquet(
        tmp_path / "raw",
        "commerce.orders",
        orders(
            ordered_at=pa.array([at] * N, pa.timestamp("us")),
            promised_delivery_at=pa.array(
                [datetime(2026, 1, 5, tzinfo=UTC)] * N, pa.timestamp("ms", tz="UTC")
            ),
            delivered_at=pa.array([date(2026, 1, 3)] * N, pa.date32()),
        ),
    )
    g = gate(tmp_path / "raw", tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    for column in ("ordered_at", "promised_delivery_at", "delivered_at"):
        assert result(g, "commerce.orders", CASTABLE, column).unexpected_count == 0
    delivered = result(g, "commerce.orders", FUTURE, "delivered_at__utc, ordered_at__utc")
    assert delivered.unexpected_count == 0 and delivered.element_count == N
    rows = read_landing_table(tmp_path / "raw", "commerce.orders").to_pylist()
    assert rows[0]["ordered_at"] == at and rows[0]["delivered_at"] == datetime(2026, 1, 3)


def test_integer_ids_decimal_amounts_and_booleans_pass(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    # orders with integer ids and decimal amounts (Parquet) ...
    put_parquet(
        raw,
        "commerce.orders",
        orders(
            order_id=pa.array(range(1000, 1000 + N), pa.int64()),
            shop_customer_id=pa.array(range(N), pa.int32()),
            discount_amount=pa.array([0] * N, pa.decimal128(12, 2)),
            shipping_amount=pa.array([4.5] * N, pa.float32()),
        ),
    )
    # ... and their lines in CSV, ids and numbers as text: both read as '1000' and join
    lines = "order_line_id,order_id,product_id,quantity,unit_price,unit_cost\n" + "".join(
        f"1,{1000 + i},P-{i % 3},{2 if i % 2 else '2.0'},19.90,\n" for i in range(N)
    )
    put_csv(raw, "commerce.order_lines", lines)
    # invitations: 0/1 integers in Parquet, 'true'/'false' words in CSV
    invitation = {
        "invitation_id": pa.array(range(N), pa.int64()),
        "survey_id": ["S-1"] * N,
        "channel": ["email"] * N,
        "sent_at": ["2026-01-01 09:00:00"] * N,
        "delivered": pa.array(cycle([0, 1]), pa.int8()),
    }
    put_parquet(raw, "survey.invitations", invitation)
    words = "invitation_id,survey_id,channel,sent_at,delivered\n" + "".join(
        f"{N + i},S-1,sms,2026-01-01 09:00,{w}\n" for i, w in enumerate(cycle(["true", "FALSE", "yes", "0"]))
    )
    put_csv(raw, "survey.invitations", words)
    g = gate(raw, tmp_path / "out", "commerce.orders", "commerce.order_lines", "survey.invitations")
    assert g.success, g.failures
    for table, column in [
        ("commerce.orders", "order_id"),
        ("commerce.orders", "discount_amount"),
        ("commerce.order_lines", "quantity"),
        ("commerce.order_lines", "unit_price"),
        ("survey.invitations", "delivered"),
    ]:
        assert result(g, table, CASTABLE, column).unexpected_count == 0, (table, column)
    orphans = result(g, "commerce.order_lines", "expect_column_values_to_reference_table", "order_id")
    assert orphans.unexpected_count == 0 and orphans.element_count == N
    ids = result(g, "commerce.orders", "expect_column_values_to_match_regex", "order_id")
    assert ids.unexpected_count == 0
    invitations = read_landing_table(raw, "survey.invitations").to_pylist()
    assert len(invitations) == 2 * N
    assert {r["invitation_id"] for r in invitations} >= {"0", str(N)}
    assert sum(r["delivered"] for r in invitations) == N // 2 + N // 2  # 1s in Parquet, true/yes in CSV


# ------------------------------------------------------------------------------------------ row defects
@pytest.mark.parametrize(("bad_rows", "passes"), [(1, True), (N // 2, False)])
def test_uncastable_values_are_row_defects(tmp_path: Path, bad_rows: int, passes: bool) -> None:
    ordered = ["2026-01-01T10:00:00Z"] * N
    amounts = [4.5] * N
    for i in range(bad_rows):
        ordered[i] = "not a date"
    lines = "order_line_id,order_id,product_id,quantity,unit_price\n" + "".join(
        f"1,ORD-{i},P-1,{'two' if i < bad_rows else 2},9.5\n" for i in range(N)
    )
    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders(ordered_at=ordered, shipping_amount=amounts))
    put_csv(raw, "commerce.order_lines", lines)
    g = gate(raw, tmp_path / "out", "commerce.orders", "commerce.order_lines")
    timestamp = result(g, "commerce.orders", CASTABLE, "ordered_at")
    quantity = result(g, "commerce.order_lines", CASTABLE, "quantity")
    assert timestamp.unexpected_count == bad_rows and timestamp.sample_values == ["not a date"]
    assert quantity.unexpected_count == bad_rows and quantity.sample_values == ["two"]
    assert g.success is passes, g.failures
    if passes:
        assert any("ordered_at" in r and "not a date" in r for r in g.reported)
    else:
        assert any("ordered_at" in f and "cannot be read as timestamp" in f for f in g.failures)
        assert any("quantity" in f and "cannot be read as integer" in f for f in g.failures)


# --------------------------------------------------------------------------------------- schema
def test_a_missing_required_column_fails_naming_file_table_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders())
    bad = put_parquet(raw, "commerce.orders", orders(order_id=None), load_date="2026-01-02")
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert not g.success
    rel = str(bad.relative_to(raw))
    assert any(
        "commerce.orders" in f and rel in f and "missing required column order_id" in f for f in g.failures
    ), g.failures


def test_schema_checks_judge_each_schema_once_and_name_every_file_in_order(tmp_path: Path) -> None:
    """The schema checks group files by schema (thousands of files of one schema at scale l): a problem
    is still reported for every file that has it, in file order, and the counts cover every file."""
    raw = tmp_path / "raw"
    bad = []
    for day in range(1, 7):
        missing = day in (2, 5, 6)
        columns = orders(order_id=None) if missing else orders()
        path = put_parquet(raw, "commerce.orders", columns, load_date=f"2026-01-0{day}")
        if missing:
            bad.append(str(path.relative_to(raw)))
    # a seventh file with the columns in another order is another schema, with no problem
    put_parquet(raw, "commerce.orders", dict(reversed(list(orders().items()))), load_date="2026-01-07")
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert not g.success
    exists = result(g, "commerce.orders", "expect_column_to_exist", "order_id")
    assert exists.details["problems"] == [f"{rel}: missing required column order_id" for rel in bad]
    assert exists.details["units_checked"] == 7


def test_landing_files_lists_what_rglob_listed(tmp_path: Path) -> None:
    """The raw gate's file listing (one scandir per folder) finds exactly the files, in exactly the order,
    of the ``rglob`` it replaced: hidden and foreign names skipped, linked files kept, linked folders not
    entered, files outside a load folder listed (the gate names them)."""
    from insight_engine.validate import _landing_files

    table = tmp_path / "raw" / "commerce" / "orders"
    for rel in [
        "load_date=2026-01-02/part-1.parquet",
        "load_date=2026-01-02/part-0.parquet",
        "load_date=2026-01-01/part-0.csv.gz",
        "load_date=2026-01-01/.part-0.parquet",
        "load_date=2026-01-01/_SUCCESS",
        "load_date=2026-01-01/notes.txt",
        "load_date=2026-01-01/deeper/part-9.parquet",
        "load_date=2026-01-01-x/part-0.parquet",
        "stray.csv",
    ]:
        (table / rel).parent.mkdir(parents=True, exist_ok=True)
        (table / rel).write_bytes(b"x")
    outside = tmp_path / "elsewhere"
    (outside / "inner").mkdir(parents=True)
    (outside / "inner" / "part-0.parquet").write_bytes(b"x")
    (table / "load_date=2026-01-03").symlink_to(outside / "inner", target_is_directory=True)
    (table / "load_date=2026-01-02" / "linked.parquet").symlink_to(outside / "inner" / "part-0.parquet")
    expected = [
        str(p.relative_to(table))
        for p in sorted(p for p in table.rglob("*") if p.is_file() and contract.file_format(p))
    ]
    assert _landing_files(table) == expected
    assert "load_date=2026-01-02/linked.parquet" in expected and len(expected) == 7
    assert _landing_files(tmp_path / "raw" / "crm" / "nothing") == []


def test_one_schema_reads_the_rows_union_by_name_reads(tmp_path: Path) -> None:
    """``one_schema`` (files the gate found to share one schema) reads what union by name reads."""
    raw = tmp_path / "raw"
    files = [put_parquet(raw, "commerce.orders", orders(), load_date=f"2026-01-0{day}") for day in (1, 2, 3)]
    con = duckdb.connect()
    united, bound = (
        con.execute(
            f"select * from {contract.parquet_reader_sql(files, one_schema=one)} order by load_date, order_id"
        ).fetchall()
        for one in (False, True)
    )
    assert united == bound and len(united) == 3 * N


def test_an_incompatible_column_type_fails_naming_file_and_column(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    bad = put_parquet(raw, "commerce.orders", orders(channel=pa.array([[1, 2]] * N, pa.list_(pa.int64()))))
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert not g.success
    assert any(bad.name in f and "channel has type BIGINT[]" in f for f in g.failures), g.failures


def test_missing_or_empty_optional_columns_pass_with_warnings_and_fill_rates(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    put_parquet(
        raw, "commerce.orders", orders(ordered_at=["2025-12-31T10:00:00Z"] * N), load_date="2025-12-31"
    )
    newest = put_parquet(
        raw, "commerce.orders", orders(currency=None, status=pa.array([None] * N, pa.string()))
    )
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    t = g.table("commerce.orders")
    exists = t.expectation("expect_column_to_exist", "currency")
    assert (
        not exists.success and exists.severity == "warning" and str(newest.relative_to(raw)) in exists.message
    )
    status = t.fill_rates["status"]
    assert status["fill_rate"] == 0.5 and status["newest_load_fill_rate"] == 0.0
    assert status["earlier_loads_fill_rate"] == 1.0 and status["change"] == -1.0
    assert status["severity"] == "warning" and "status" in status["warning"]
    assert t.fill_rates["currency"]["files_without_column"] == 1
    assert t.fill_rates["order_id"] == {**t.fill_rates["order_id"], "fill_rate": 1.0, "required": True}
    # an optional column's not-null expectation only reports, whatever the suite said
    not_null = t.expectation("expect_column_values_to_not_be_null", "status")
    assert not not_null.success and not not_null.blocking and not_null.severity == "warning"
    saved = json.loads(g.results_path.read_text())
    block = next(x for x in saved["tables"] if x["table"] == "commerce.orders")["fill_rates"]
    assert set(block["status"]) >= {
        "rows",
        "filled",
        "fill_rate",
        "newest_load_fill_rate",
        "earlier_loads_fill_rate",
        "change",
    }


def test_an_all_null_optional_column_passes_with_a_warning(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders(shop_customer_id=pa.array([None] * N, pa.null())))
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    rates = g.table("commerce.orders").fill_rates["shop_customer_id"]
    assert rates["filled"] == 0 and rates["rows"] == N
    assert any("shop_customer_id is never filled" in w for w in g.table("commerce.orders").warnings)


def test_a_table_without_files_passes_with_a_warning_and_skips_its_references(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    lines = "order_line_id,order_id,product_id,quantity,unit_price\n" + "".join(
        f"1,ORD-{i},P-1,1,9.5\n" for i in range(N)
    )
    put_csv(raw, "commerce.order_lines", lines)  # no orders, no products, no web data at all
    g = gate(raw, tmp_path / "out", "commerce.order_lines", "commerce.orders", "web.events")
    assert g.success, g.failures
    events = g.table("web.events")
    assert events.rows == 0 and any("no data delivered" in w and "web.events" in w for w in events.warnings)
    assert any("no data delivered" in r and "commerce.orders" in r for r in g.reported)
    orphans = result(g, "commerce.order_lines", "expect_column_values_to_reference_table", "order_id")
    assert orphans.success and "skipped" in orphans.message


def test_a_landing_zone_without_any_file_fails(tmp_path: Path) -> None:
    (tmp_path / "raw" / "commerce").mkdir(parents=True)
    g = gate(tmp_path / "raw", tmp_path / "out", "commerce.orders", "web.events")
    assert not g.success
    assert any("holds no Parquet or CSV file for any table" in f for f in g.failures), g.failures


def test_loaded_at_absent_is_reported_and_as_text_is_parsed(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    # absent: the end of the load day (2026-01-02 00:00 UTC) is used; 23:00 on the load day is not future
    put_parquet(raw, "commerce.orders", orders(ordered_at=["2026-01-01T23:00:00Z"] * N))
    # text: a real instant, with an offset
    put_csv(
        raw,
        "commerce.orders",
        "order_id,ordered_at,_loaded_at\n"
        + "".join(f"C-{i},2026-01-02T01:00:00Z,2026-01-02T06:00:00+03:00\n" for i in range(N)),
        load_date="2026-01-02",
    )
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    loaded = g.table("commerce.orders").expectation("expect_column_to_exist", "_loaded_at")
    assert loaded.severity == "warning" and "end of the load day" in loaded.message
    rows = read_landing_table(raw, "commerce.orders").to_pylist()
    assert {r["_loaded_at"] for r in rows} == {datetime(2026, 1, 2, 0, 0), datetime(2026, 1, 2, 3, 0)}
    assert result(g, "commerce.orders", FUTURE, "_loaded_at, ordered_at__utc").unexpected_count == 0


# --------------------------------------------------------------------------------------------------- CSV
def test_csv_with_bom_embedded_newline_and_doubled_quotes_is_read_right(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    text = (
        "response_id,question_id,answer_numeric,answer_text\r\n"
        'R-1,Q-1,9,"Fast delivery,\r\nfriendly ""courier"""\r\n'
        'R-2,Q-1,,""\r\n'
        "R-3,Q-1,7,\r\n"
        'R-4,Q-2,"10",Çok iyi\r\n'
    )
    path = put_csv(raw, "survey.answers", text, bom=True)
    g = gate(raw, tmp_path / "out", "survey.answers")
    assert g.success, g.failures  # the BOM is not part of the required first column's name
    rows = {r["response_id"]: r for r in read_landing_table(raw, "survey.answers").to_pylist()}
    assert rows["R-1"]["answer_text"] == 'Fast delivery,\r\nfriendly "courier"'
    assert rows["R-2"]["answer_text"] is None and rows["R-2"]["answer_numeric"] is None
    assert rows["R-3"]["answer_text"] is None and rows["R-4"]["answer_numeric"] == 10.0
    assert rows["R-4"]["answer_text"] == "Çok iyi" and len(rows) == 4
    assert rows["R-1"]["load_date"] == date(2026, 1, 1)
    # the same options, read by hand
    with duckdb.connect() as con:
        first = con.execute(f"select * from {contract.csv_reader_sql(path)} limit 1").fetchall()[0]
    assert first[0] == "R-1"


def test_a_gzipped_csv_is_read_beside_parquet(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders(n=N))
    put_csv(
        raw,
        "commerce.orders",
        "order_id,ordered_at,currency\n" + "".join(f"GZ-{i},2026-01-01 08:00,EUR\n" for i in range(N)),
        name="export.csv.gz",
    )
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert g.success, g.failures
    assert g.table("commerce.orders").rows == 2 * N
    ids = {r["order_id"] for r in read_landing_table(raw, "commerce.orders").to_pylist()}
    assert {"GZ-0", "ORD-0"} <= ids


def test_an_unreadable_csv_fails_naming_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    put_parquet(raw, "commerce.orders", orders())
    bad = put_csv(raw, "commerce.orders", 'order_id,currency\n1,"EUR\n', name="broken.csv")
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert not g.success
    assert any(str(bad.relative_to(raw)) in f and "unreadable CSV file" in f for f in g.failures), g.failures


def test_a_ragged_csv_row_deep_in_the_file_fails_naming_the_file(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    rows = [f"ORD-{i},EUR" for i in range(30_000)]
    rows[25_000] = "ORD-x,EUR,surplus"  # beyond the sniffer's sample
    bad = put_csv(raw, "commerce.orders", "order_id,currency\n" + "\n".join(rows) + "\n")
    g = gate(raw, tmp_path / "out", "commerce.orders")
    assert not g.success
    assert any(str(bad.relative_to(raw)) in f for f in g.failures), g.failures


# --------------------------------------------------------------------------------------------- time zones
def test_naive_timestamps_are_compared_in_the_source_zone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """22:30 in Sao Paulo (UTC-3) is 01:30 UTC the next day.

    Orders placed at 00:00 UTC on 2 January (an instant, with `Z`) and delivered at 22:30 local time on
    1 January (naive): delivered after ordered only when the naive value is read in America/Sao_Paulo. The
    suite fails on deliveries before orders, so the gate passes only with the zone applied.
    """
    raw = tmp_path / "raw"
    put_parquet(
        raw,
        "commerce.orders",
        orders(
            ordered_at=["2026-01-02T00:00:00Z"] * N,
            delivered_at=["2026-01-01 22:30:00"] * N,
            _loaded_at=pa.array([datetime(2026, 1, 2, 2, 0)] * N, pa.timestamp("us")),
        ),
    )
    monkeypatch.delenv(contract.TIMEZONE_ENV, raising=False)
    as_utc = gate(raw, tmp_path / "utc", "commerce.orders")
    assert not as_utc.success
    assert (
        result(as_utc, "commerce.orders", FUTURE, "delivered_at__utc, ordered_at__utc").unexpected_count == N
    )

    monkeypatch.setenv(contract.TIMEZONE_ENV, "commerce=America/Sao_Paulo")
    in_zone = gate(raw, tmp_path / "zone", "commerce.orders")
    assert in_zone.success, in_zone.failures
    delivered = result(in_zone, "commerce.orders", FUTURE, "delivered_at__utc, ordered_at__utc")
    assert delivered.unexpected_count == 0 and delivered.element_count == N


def test_a_naive_local_time_is_compared_with_loaded_at_in_utc(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """22:30 local on the load day is 01:30 UTC the next day: after a `_loaded_at` of midnight UTC."""
    raw = tmp_path / "raw"
    put_parquet(
        raw,
        "commerce.orders",
        orders(
            ordered_at=["2026-01-01 22:30:00"] * N,
            _loaded_at=pa.array([datetime(2026, 1, 2, 0, 0)] * N, pa.timestamp("us")),
        ),
    )
    monkeypatch.setenv(contract.TIMEZONE_ENV, "commerce=America/Sao_Paulo")
    g = gate(raw, tmp_path / "zone", "commerce.orders")
    future = result(g, "commerce.orders", FUTURE, "_loaded_at, ordered_at__utc")
    assert future.unexpected_count == N and not g.success
    assert "2026-01-02T01:30:00" in json.dumps(future.sample_values)

    monkeypatch.setenv(contract.TIMEZONE_ENV, "commerce=UTC")
    assert gate(raw, tmp_path / "utc", "commerce.orders").success


# -------------------------------------------------------------------------------------- the suites
def test_raw_suites_may_not_restate_the_contract(tmp_path: Path) -> None:
    folder = tmp_path / "suites" / "raw"
    folder.mkdir(parents=True)
    suite = json.loads((DEFAULT_SUITES_DIR / "raw" / "commerce.orders.json").read_text())
    suite["expectations"].append(
        {
            "type": "expect_column_values_to_be_in_type_list",
            "kwargs": {"column": "order_id", "type_list": ["X"]},
        }
    )
    (folder / "commerce.orders.json").write_text(json.dumps(suite))
    suites, broken = load_suites("raw", folder.parent)
    assert not suites and "the raw schema comes from the contract" in broken[0].errors[0]


def test_project_raw_suites_hold_no_schema_or_timestamp_regex() -> None:
    suites, broken = load_suites("raw")
    assert not broken and len(suites) == len(contract.tables())
    for suite in suites:
        stated = json.loads(suite.path.read_text())["expectations"]
        timestamps = set(suite.contract.of_family("timestamp", "date")) if suite.contract else set()
        for exp in stated:
            assert exp["type"] not in {
                "expect_table_columns_to_match_set",
                "expect_column_values_to_be_in_type_list",
                "expect_column_to_exist",
            }, (suite.table, exp)
            column = exp["kwargs"].get("column")
            assert not (exp["type"] == "expect_column_values_to_match_regex" and column in timestamps)
            if exp["type"] == "expect_column_values_to_be_in_set" and column != "currency":
                assert exp.get("severity") == "warning", (suite.table, column)
