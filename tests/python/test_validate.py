"""The Great Expectations gates: what passes, what is reported, what fails and how the failure reads."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from insight_engine import contract
from insight_engine.generate import UNPARSEABLE, generate
from insight_engine.validate import DEFAULT_SUITES_DIR, GateResult, pii_columns, validate

SEED = 11
NO_WAREHOUSE = Path("/nonexistent/warehouse.duckdb")
RAW_TABLES = sorted(contract.tables())


def _suites(root: Path, stage: str, *tables: str) -> Path:
    """A suites folder holding only the named tables' suites from the project's expectations/."""
    folder = root / stage
    folder.mkdir(parents=True, exist_ok=True)
    for table in tables:
        shutil.copy(DEFAULT_SUITES_DIR / stage / f"{table}.json", folder)
    return root


def _raw_gate(raw_root: Path, out: Path, *tables: str, **kwargs) -> GateResult:
    suites_dir = _suites(out / "suites", "raw", *tables) if tables else None
    kwargs.setdefault("data_docs", False)
    return validate(
        "raw", raw_root=raw_root, warehouse=NO_WAREHOUSE, out_dir=out, suites_dir=suites_dir, **kwargs
    )


def _rewrite(path: Path, change) -> None:
    pq.write_table(change(pq.read_table(path)), path)


def _newest_file(raw_root: Path, table: str) -> Path:
    system, name = table.split(".")
    return sorted((raw_root / system / name).glob("load_date=*/*.parquet"))[-1]


@pytest.fixture(scope="module")
def clean_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("clean") / "raw"
    generate(out, scale="xs", seed=SEED, bad_rate=0.0)
    return out


@pytest.fixture(scope="module")
def bad_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("bad") / "raw"
    generate(out, scale="xs", seed=SEED, bad_rate=0.02)
    return out


@pytest.fixture(scope="module")
def manifest(bad_raw: Path) -> dict:
    return json.loads((bad_raw / "_manifest.json").read_text())


@pytest.fixture(scope="module")
def bad_gate(bad_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> GateResult:
    """The full raw gate, with Data Docs, over a landing zone with 2% planted bad rows."""
    return _raw_gate(bad_raw, tmp_path_factory.mktemp("bad_gate"), data_docs=True)


@pytest.fixture
def broken_raw(bad_raw: Path, tmp_path: Path) -> Path:
    """A private copy of the bad landing zone, to break."""
    return Path(shutil.copytree(bad_raw, tmp_path / "raw"))


# ------------------------------------------------------------------------------------------------- raw gate
def test_clean_landing_zone_passes_the_raw_gate(clean_raw: Path, tmp_path: Path) -> None:
    gate = _raw_gate(clean_raw, tmp_path)
    assert gate.success, gate.failures


def test_raw_gate_has_a_suite_for_every_contract_table(bad_gate: GateResult) -> None:
    assert sorted(t.table for t in bad_gate.tables) == RAW_TABLES


def test_two_percent_bad_rows_pass_the_raw_gate(bad_gate: GateResult) -> None:
    assert bad_gate.success, bad_gate.failures


def test_duplicate_keys_are_reported_with_sample_keys(bad_gate: GateResult, manifest: dict) -> None:
    # unique within a load: a later load re-sending a row is a new version, not a duplicate
    unique = bad_gate.table("web.events").expectation(
        "expect_compound_columns_to_be_unique", "event_id, load_date"
    )
    # every planted duplicate flags both copies
    assert unique.unexpected_count >= 2 * manifest["bad_rows"]["web.events"]["duplicate_id"]
    assert unique.sample_values and all(str(v["event_id"]).startswith("EV-") for v in unique.sample_values)


def test_unparseable_timestamps_are_reported_as_uncastable(bad_gate: GateResult, manifest: dict) -> None:
    castable = bad_gate.table("web.events").expectation(
        "expect_column_values_to_be_castable_to_contract_type", "occurred_at"
    )
    assert (
        castable.success
        and castable.unexpected_count == (manifest["bad_rows"]["web.events"]["unparseable_timestamp"])
    )
    assert castable.sample_values and set(castable.sample_values) <= set(UNPARSEABLE)


def test_out_of_range_scores_are_reported_row_for_row(bad_gate: GateResult, manifest: dict) -> None:
    scores = bad_gate.table("survey.answers").expectation(
        "expect_column_values_to_be_between", "answer_numeric"
    )
    assert scores.unexpected_count == manifest["bad_rows"]["survey.answers"]["out_of_range_score"]
    assert all(not 0 <= v <= 10 for v in scores.sample_values)


def test_orphan_foreign_keys_are_reported(bad_gate: GateResult, manifest: dict) -> None:
    orphans = bad_gate.table("commerce.order_lines").expectation(
        "expect_column_values_to_reference_table", "order_id"
    )
    assert orphans.unexpected_count == manifest["bad_rows"]["commerce.order_lines"]["orphan_fk"]


def test_missing_newest_load_fails_the_row_count_check(broken_raw: Path, tmp_path: Path) -> None:
    newest = _newest_file(broken_raw, "web.events").parent
    shutil.rmtree(newest)
    gate = _raw_gate(broken_raw, tmp_path / "gate", "web.events")
    check = gate.table("web.events").expectation("expect_table_row_count_to_be_within_ratio_of_previous_load")
    assert not gate.success and not check.success
    assert newest.name.split("=")[1] in check.message and "0 rows" in check.message


def test_a_dropped_required_column_fails_naming_file_and_column(broken_raw: Path, tmp_path: Path) -> None:
    path = _newest_file(broken_raw, "commerce.orders")
    _rewrite(path, lambda t: t.drop_columns(["order_id"]))
    gate = _raw_gate(broken_raw, tmp_path / "gate", "commerce.orders")
    assert not gate.success
    assert any(
        "commerce.orders" in f and "required column order_id" in f and path.parent.name in f
        for f in gate.failures
    ), gate.failures


def test_a_dropped_optional_column_is_reported_not_failed(broken_raw: Path, tmp_path: Path) -> None:
    path = _newest_file(broken_raw, "commerce.orders")
    _rewrite(path, lambda t: t.drop_columns(["currency"]))
    gate = _raw_gate(broken_raw, tmp_path / "gate", "commerce.orders")
    assert gate.success, gate.failures
    assert any("currency" in r and path.parent.name in r for r in gate.reported), gate.reported


def test_a_retyped_column_is_read_if_compatible_and_fails_if_not(broken_raw: Path, tmp_path: Path) -> None:
    path = _newest_file(broken_raw, "commerce.order_lines")

    def retype(t: pa.Table, column: str, typ: pa.DataType) -> pa.Table:
        i = t.schema.get_field_index(column)
        return t.set_column(i, column, pc.cast(t[column], typ))

    # numbers as text are numbers (a CSV-minded export)
    _rewrite(path, lambda t: retype(t, "quantity", pa.string()))
    gate = _raw_gate(broken_raw, tmp_path / "text", "commerce.order_lines")
    assert gate.success, gate.failures
    # bytes are not
    _rewrite(path, lambda t: retype(t, "quantity", pa.binary()))
    gate = _raw_gate(broken_raw, tmp_path / "blob", "commerce.order_lines")
    assert not gate.success
    assert any("quantity has type BLOB" in f and path.parent.name in f for f in gate.failures)


def test_an_unreadable_file_fails_naming_the_file(broken_raw: Path, tmp_path: Path) -> None:
    path = _newest_file(broken_raw, "crm.cases")
    path.write_bytes(b"not a parquet file")
    gate = _raw_gate(broken_raw, tmp_path / "gate", "crm.cases")
    assert not gate.success
    assert any("unreadable Parquet file" in f and path.parent.name in f for f in gate.failures)


def test_chunked_validation_gives_the_same_counts_as_one_chunk(bad_raw: Path, tmp_path: Path) -> None:
    # GX's chunked path (the mart gate's, and the raw gate's with row_engine="gx"); the sql row engine reads
    # no chunks, and its counts equal these (test_gate_engines.py)
    one = _raw_gate(bad_raw, tmp_path / "one", "web.events", row_engine="gx").table("web.events")
    many = _raw_gate(bad_raw, tmp_path / "many", "web.events", chunk_rows=1_000, row_engine="gx")
    sql = _raw_gate(bad_raw, tmp_path / "sql", "web.events").table("web.events")
    assert many.table("web.events").chunks > 1 and sql.chunks == 0
    expected = [(r.label, r.success, r.unexpected_count) for r in one.expectations]
    assert [
        (r.label, r.success, r.unexpected_count) for r in many.table("web.events").expectations
    ] == expected
    assert [(r.label, r.success, r.unexpected_count) for r in sql.expectations] == expected


# ------------------------------------------------------------------------------------------------- outputs
def test_results_json_parses_and_names_every_table(bad_gate: GateResult) -> None:
    data = json.loads(bad_gate.results_path.read_text())
    assert data["success"] is True and sorted(t["table"] for t in data["tables"]) == RAW_TABLES


def test_data_docs_are_html_listing_every_table(bad_gate: GateResult) -> None:
    assert bad_gate.docs_path is not None
    html = bad_gate.docs_path.read_text()
    assert html.lstrip().lower().startswith("<!doctype html") or "<html" in html.lower()
    assert all(f"raw.{table}" in html for table in RAW_TABLES)


# ------------------------------------------------------------------------------------------------- mart gate
@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small warehouse with the staging orders model's shape and a table that leaks an e-mail column."""
    path = tmp_path_factory.mktemp("warehouse") / "wh.duckdb"
    with duckdb.connect(str(path)) as con:
        con.execute("create schema staging")
        con.execute(
            """
            create table staging.stg_commerce__orders as
            select * from (values
                ('ORD-1', 'SHP-1', 'web', 'USD', 'delivered',
                 timestamp '2026-01-01 10:00', timestamp '2026-01-03 12:00'),
                ('ORD-2', 'SHP-2', 'store', 'EUR', 'cancelled', timestamp '2026-01-02 09:00', null)
            ) as t(order_id, shop_customer_id, order_channel, currency_code, order_status,
                   ordered_at, delivered_at)
            """
        )
        con.execute("create schema core")
        con.execute("create table core.dim_people as select 'K1' as customer_key, 'a@b.example' as email")
    return path


def test_mart_suites_pass_on_the_built_xs_warehouse(xs, tmp_path: Path) -> None:
    gate = validate("marts", raw_root=xs.raw_root, warehouse=xs.warehouse, out_dir=tmp_path, data_docs=False)
    assert gate.success, gate.failures
    assert {t.table for t in gate.tables} >= {"core.fct_customer", "core.fct_orders"}


def test_mart_gate_fails_on_a_pii_column(warehouse: Path, tmp_path: Path) -> None:
    folder = tmp_path / "suites" / "marts"
    folder.mkdir(parents=True)
    suite = {
        "name": "marts.core.dim_people",
        "meta": {"insight_engine": {"stage": "marts", "table": "core.dim_people"}},
        "expectations": [{"type": "expect_table_columns_to_contain_no_pii", "kwargs": {}}],
    }
    (folder / "core.dim_people.json").write_text(json.dumps(suite))
    gate = validate(
        "marts",
        raw_root=tmp_path,
        warehouse=warehouse,
        out_dir=tmp_path,
        suites_dir=folder.parent,
        data_docs=False,
    )
    assert not gate.success
    assert any("core.dim_people" in f and "email" in f for f in gate.failures), gate.failures


def test_mart_gate_without_a_warehouse_fails_with_a_clear_message(tmp_path: Path) -> None:
    suites = _suites(tmp_path / "suites", "marts", "core.fct_orders")
    gate = validate(
        "marts",
        raw_root=tmp_path,
        warehouse=tmp_path / "missing.duckdb",
        out_dir=tmp_path,
        suites_dir=suites,
        data_docs=False,
    )
    assert not gate.success and any("missing.duckdb does not exist" in f for f in gate.failures)


@pytest.mark.parametrize(
    ("column", "is_pii"),
    [
        ("email", True),
        ("user_email", True),
        ("phone_number", True),
        ("first_name", True),
        ("last_name", True),
        ("birth_date", True),
        ("name", True),
        ("customer_key", False),
        ("has_email", False),
        ("product_name", False),
        ("segment", False),
    ],
)
def test_pii_column_names(column: str, is_pii: bool) -> None:
    assert bool(pii_columns([column])) is is_pii
