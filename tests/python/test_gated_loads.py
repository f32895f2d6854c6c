"""The raw gate reads only the loads it has not validated before (insight_engine.gated), and its verdicts
and counts are still those of a gate over every load.

One xs landing zone (2% planted bad rows) is gated without its two newest loads, then the two loads land
and the gate runs again with the state: every expectation's success, counts and percentages, every fill-rate
block and warning must equal a gate over the whole zone without state, while it reads only the new loads'
rows. A load gated before that changes, a suite that changes, and a gate that fails are the cases where the
state must not stand for the history.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from insight_engine import gated
from insight_engine.generate import generate
from insight_engine.publish import sha256_file
from insight_engine.validate import DEFAULT_SUITES_DIR, GateResult, TableResult, validate

SEED = 23
NO_WAREHOUSE = Path("/nonexistent/warehouse.duckdb")
HELD_BACK = 2


def _gate(raw: Path, out: Path, state: Path | None, **kwargs) -> GateResult:
    return validate(
        "raw",
        raw_root=raw,
        warehouse=NO_WAREHOUSE,
        out_dir=out,
        data_docs=False,
        gated_loads=state,
        **kwargs,
    )


def _verdicts(t: TableResult) -> list[tuple]:
    """Everything of a table's result that must not depend on which loads a run read."""
    rows = [
        (
            r.expectation,
            r.column,
            json.dumps(r.kwargs, sort_keys=True, default=str),
            r.success,
            r.element_count,
            r.unexpected_count,
            r.unexpected_percent,
            r.observed_value,
        )
        for r in t.expectations
    ]
    return [*rows, ("rows", t.rows), ("success", t.success), ("fill", json.dumps(t.fill_rates, default=str))]


def _assert_same_verdicts(incremental: GateResult, full: GateResult) -> None:
    assert [t.table for t in incremental.tables] == [t.table for t in full.tables]
    for a, b in zip(incremental.tables, full.tables, strict=True):
        assert _verdicts(a) == _verdicts(b), a.table
        assert sorted(a.warnings) == sorted(b.warnings), a.table
    assert incremental.success == full.success


def _move_loads(src: Path, dst: Path, names: set[str]) -> None:
    for folder in sorted(src.glob("*/*/load_date=*")):
        if folder.name in names:
            target = dst / folder.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(folder, target)


@pytest.fixture(scope="module")
def zone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("gated") / "raw"
    generate(raw, scale="xs", seed=SEED, days=60, bad_rate=0.02)
    return raw


@pytest.fixture
def day_two(zone: Path, tmp_path: Path) -> tuple[Path, Path, set[str]]:
    """A private copy of the zone whose newest loads are held back: (raw, held-back folder, their names)."""
    raw = Path(shutil.copytree(zone, tmp_path / "raw"))
    newest = sorted({p.name for p in raw.glob("*/*/load_date=*")})[-HELD_BACK:]
    held = tmp_path / "held"
    _move_loads(raw, held, set(newest))
    return raw, held, set(newest)


def test_a_daily_gate_reads_only_new_loads_and_judges_like_a_full_gate(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    raw, held, _ = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    first = _gate(raw, tmp_path / "g1", state)
    assert first.success, first.failures
    assert state.is_file(), "a gate that passed records the loads it validated"
    _move_loads(held, raw, {p.name for p in held.glob("*/*/load_date=*")})

    daily = _gate(raw, tmp_path / "g2", state)
    full = _gate(raw, tmp_path / "g3", None)
    _assert_same_verdicts(daily, full)
    # planted bad rows exist, so the sums are not trivially zero
    assert any(r.unexpected_count for t in daily.tables for r in t.expectations), "no bad row counted"
    read = sum(t.rows_read or 0 for t in daily.tables)
    total = sum(t.rows or 0 for t in daily.tables)
    assert 0 < read < total / 5, (read, total)
    web = daily.table("web.events")
    assert web.scope.startswith(f"{HELD_BACK} new load(s)"), web.scope
    assert full.table("web.events").rows_read == full.table("web.events").rows


def test_a_changed_load_that_was_gated_makes_its_table_read_whole(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    raw, held, _ = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    assert _gate(raw, tmp_path / "g1", state).success
    _move_loads(held, raw, {p.name for p in held.glob("*/*/load_date=*")})
    # an old orders load is re-delivered with a row withdrawn (a real export's backfill)
    old = sorted(raw.glob("commerce/orders/load_date=*/*.parquet"))[3]
    table = pq.read_table(old).slice(1)  # one row withdrawn
    pq.write_table(table, old)

    daily = _gate(raw, tmp_path / "g2", state)
    full = _gate(raw, tmp_path / "g3", None)
    _assert_same_verdicts(daily, full)
    orders = daily.table("commerce.orders")
    assert "changed or disappeared" in orders.scope, orders.scope
    assert orders.rows_read == orders.rows
    assert daily.table("web.events").rows_read < daily.table("web.events").rows


def test_a_changed_suite_makes_its_table_read_whole(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    raw, held, _ = day_two
    suites = Path(shutil.copytree(DEFAULT_SUITES_DIR, tmp_path / "suites"))
    state = tmp_path / "wh" / gated.STATE_NAME
    assert _gate(raw, tmp_path / "g1", state, suites_dir=suites).success
    _move_loads(held, raw, {p.name for p in held.glob("*/*/load_date=*")})
    path = suites / "raw" / "web.events.json"
    suite = json.loads(path.read_text())
    suite["meta"]["changed_for_the_test"] = True
    path.write_text(json.dumps(suite))

    daily = _gate(raw, tmp_path / "g2", state, suites_dir=suites)
    web = daily.table("web.events")
    assert "suite or contract changed" in web.scope, web.scope
    assert web.rows_read == web.rows
    assert daily.table("commerce.orders").rows_read < daily.table("commerce.orders").rows


def test_a_failed_gate_does_not_count_its_loads_as_validated(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    raw, held, newest = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    assert _gate(raw, tmp_path / "g1", state).success
    before = state.read_bytes()
    _move_loads(held, raw, {p.name for p in held.glob("*/*/load_date=*")})
    # the newest orders load loses a required column: the gate fails
    path = sorted(raw.glob(f"commerce/orders/{max(newest)}/*.parquet"))[0]
    good = pq.read_table(path)
    pq.write_table(good.drop_columns(["order_id"]), path)
    failed = _gate(raw, tmp_path / "g2", state)
    assert not failed.success
    assert state.read_bytes() == before, "a failed gate must not record its loads"

    pq.write_table(good, path)  # the export is fixed and delivered again
    fixed = _gate(raw, tmp_path / "g3", state)
    assert fixed.success, fixed.failures
    assert fixed.table("commerce.orders").scope.startswith(f"{HELD_BACK} new load(s)")
    _assert_same_verdicts(fixed, _gate(raw, tmp_path / "g4", None))


def test_full_refresh_reads_every_load(day_two: tuple[Path, Path, set[str]], tmp_path: Path) -> None:
    raw, held, _ = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    assert _gate(raw, tmp_path / "g1", state).success
    _move_loads(held, raw, {p.name for p in held.glob("*/*/load_date=*")})
    again = _gate(raw, tmp_path / "g2", state, regate_all=True)
    assert all(t.rows_read == t.rows for t in again.tables)
    assert all("full refresh" in t.scope for t in again.tables if t.rows)


@pytest.fixture
def footers_read(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every Parquet footer the gate opens to read a file's schema, in order."""
    opened: list[Path] = []
    read_schema = pq.read_schema

    def counting(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(Path(path))
        return read_schema(path, *args, **kwargs)

    monkeypatch.setattr(pq, "read_schema", counting)
    return opened


def _landing_files(raw: Path, folders: set[str] | None = None) -> set[Path]:
    return {p for p in raw.glob("*/*/load_date=*/*.parquet") if folders is None or p.parent.name in folders}


def _gated_then_landed(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> tuple[Path, Path, set[str], GateResult]:
    """Day one gated with a state, then the held-back loads land: (raw, state, their names, day one)."""
    raw, held, newest = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    first = _gate(raw, tmp_path / "g1", state)
    assert first.success, first.failures
    _move_loads(held, raw, newest)
    return raw, state, newest, first


def test_a_daily_gate_reads_the_schema_only_of_files_it_has_not_read(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path, footers_read: list[Path]
) -> None:
    raw, held, newest = day_two
    state = tmp_path / "wh" / gated.STATE_NAME
    assert _gate(raw, tmp_path / "g1", state).success
    history = _landing_files(raw)
    assert set(footers_read) == history, "the first gate reads every file's schema"
    assert len(gated.State.read(state).schemas) == len({sha256_file(p) for p in history})
    _move_loads(held, raw, newest)

    footers_read.clear()
    daily = _gate(raw, tmp_path / "g2", state)
    assert set(footers_read) == _landing_files(raw, newest), "only the new loads' files are opened"
    # the schema check still covers every file: the same verdicts as a gate that reads every footer
    footers_read.clear()
    full = _gate(raw, tmp_path / "g3", None)
    assert set(footers_read) == _landing_files(raw)
    _assert_same_verdicts(daily, full)

    footers_read.clear()
    assert _gate(raw, tmp_path / "g4", state, regate_all=True).success
    assert set(footers_read) == _landing_files(raw), "--full-refresh reads every schema again"


def test_an_old_file_delivered_again_with_another_schema_is_read_and_fails_the_gate(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path, footers_read: list[Path]
) -> None:
    raw, state, _, _ = _gated_then_landed(day_two, tmp_path)
    # an old orders file is re-delivered without a required column: its remembered schema must not stand
    old = sorted(raw.glob("commerce/orders/load_date=*/*.parquet"))[2]
    pq.write_table(pq.read_table(old).drop_columns(["order_id"]), old)

    footers_read.clear()
    daily = _gate(raw, tmp_path / "g2", state)
    assert old in footers_read
    assert not daily.success
    orders = daily.table("commerce.orders")
    assert not orders.success
    assert any("order_id" in f for f in daily.failures), daily.failures
    full = _gate(raw, tmp_path / "g3", None)
    _assert_same_verdicts(daily, full)


def test_remembered_csv_schemas_stand_only_for_the_same_bytes_and_reader(tmp_path: Path) -> None:
    import duckdb

    from insight_engine import ledger
    from insight_engine import validate as v

    raw = tmp_path / "raw"
    generate(raw, scale="xs", seed=SEED, days=30, dialect="csv")
    landing = ledger.fingerprints_of(raw, {})
    table = "commerce.orders"

    first = v._RawSource(duckdb.connect(), raw)
    first.remember_schemas({}, landing)
    units = first.schema_units(table)
    memo = first.schemas_read()
    assert len(memo) == len(units) > 0 and all(m.startswith("csv:") for m in memo.values())

    class Counting:
        """The connection, counting the DESCRIBEs that read a CSV file's header."""

        def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
            self.con, self.describes = con, 0

        def execute(self, sql: str, *args):  # type: ignore[no-untyped-def]
            self.describes += sql.lstrip().lower().startswith("describe")
            return self.con.execute(sql, *args)

    second = v._RawSource(duckdb.connect(), raw)
    counting = Counting(second.con)
    second.con = counting  # type: ignore[assignment]
    second.remember_schemas(memo, landing)
    assert second.schema_units(table) == units
    assert counting.describes == 0

    # a schema described with another reader (DuckDB release or options) is described again
    other = {
        sha: m.replace(f"csv:{v._csv_reader_token()}:", "csv:0000000000000000:") for sha, m in memo.items()
    }
    third = v._RawSource(duckdb.connect(), raw)
    counting = Counting(third.con)
    third.con = counting  # type: ignore[assignment]
    third.remember_schemas(other, landing)
    assert third.schema_units(table) == units
    assert counting.describes == len(units)


def test_a_state_with_a_malformed_schema_memory_reads_as_no_memory(tmp_path: Path) -> None:
    path = tmp_path / gated.STATE_NAME
    gated.State(path, {}, {"a" * 64: "parquet:xyz", "b" * 64: "parquet:xyz"}).write({})
    data = json.loads(path.read_text())
    assert data["schemas"]["values"] == ["parquet:xyz"], "a schema shared by files is kept once"
    assert gated.State.read(path).schemas == {"a" * 64: "parquet:xyz", "b" * 64: "parquet:xyz"}
    data["schemas"] = {"values": [], "files": {"a" * 64: 3}}
    path.write_text(json.dumps(data))
    assert gated.State.read(path).schemas == {}


def test_malformed_kept_orphans_make_the_child_read_whole(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    raw, state, _, _ = _gated_then_landed(day_two, tmp_path)
    data = json.loads(state.read_text())
    for totals in data["tables"].values():
        totals["references"] = {key: {"orphans": "?"} for key in totals["references"] or {}}
    state.write_text(json.dumps(data))
    daily = _gate(raw, tmp_path / "g2", state)
    assert daily.success, daily.failures
    _assert_same_verdicts(daily, _gate(raw, tmp_path / "g3", None))


def test_a_state_without_rows_per_load_counts_every_load_again(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path
) -> None:
    """A state written before the rows per load were kept (or with them lost) must not count 0 for the
    loads it gated: the gate counts the whole zone, with the verdicts of a full gate."""
    raw, state, _, _ = _gated_then_landed(day_two, tmp_path)
    kept = gated.State.read(state)
    orders = kept.tables["commerce.orders"]
    assert orders.load_rows is not None
    assert sum(orders.load_rows.values()) == orders.columns["__rows__"]["n"] > 0
    data = json.loads(state.read_text())
    for totals in data["tables"].values():
        del totals["load_rows"]
    state.write_text(json.dumps(data))

    daily = _gate(raw, tmp_path / "g2", state)
    _assert_same_verdicts(daily, _gate(raw, tmp_path / "g3", None))
    assert daily.table("web.events").rows_read < daily.table("web.events").rows


def _reference_details(result: GateResult) -> list[tuple]:
    return [
        (t.table, r.column, r.element_count, r.unexpected_count, json.dumps(r.details, sort_keys=True))
        for t in result.tables
        for r in t.expectations
        if r.expectation == "expect_column_values_to_reference_table"
    ]


def test_foreign_keys_read_the_new_loads_and_the_kept_orphans_and_a_late_parent_clears_one(
    day_two: tuple[Path, Path, set[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyarrow as pa

    from insight_engine import validate as v

    raw, state, newest, first = _gated_then_landed(day_two, tmp_path)
    lines = gated.State.read(state).tables["commerce.order_lines"]
    assert lines.references is not None
    (kept,) = [r for k, r in lines.references.items() if '"order_id"' in k]
    assert kept["orphans"], "the planted orphan lines are kept"
    orphan = kept["orphans"][0][0]

    # a parent delivered late: the newest orders load brings an order with the orphan lines' id
    path = sorted(raw.glob(f"commerce/orders/{max(newest)}/*.parquet"))[0]
    orders = pq.read_table(path)
    late = orders.slice(0, 1)
    late = late.set_column(late.schema.get_field_index("order_id"), "order_id", pa.array([orphan]))
    pq.write_table(pa.concat_tables([orders, late]), path)

    decided: list[tuple[str, bool]] = []
    incremental = v._references_incremental

    def spy(suite, run, exps, scope):  # type: ignore[no-untyped-def]
        decided.append((suite.table, incremental(suite, run, exps, scope)))
        return decided[-1][1]

    monkeypatch.setattr(v, "_references_incremental", spy)
    daily = _gate(raw, tmp_path / "g2", state)
    assert ("commerce.order_lines", True) in decided, decided
    full = _gate(raw, tmp_path / "g3", None)
    _assert_same_verdicts(daily, full)
    assert _reference_details(daily) == _reference_details(full), "counts and orphan samples exact"
    before, after = (
        next(
            r
            for r in g.table("commerce.order_lines").expectations
            if r.column == "order_id" and r.expectation == "expect_column_values_to_reference_table"
        )
        for g in (first, daily)
    )
    assert after.element_count > before.element_count, "the new loads' lines are counted"
    assert orphan in json.dumps(before.details) and orphan not in json.dumps(after.details), (
        "the late parent cleared the orphan"
    )
