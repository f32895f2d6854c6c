"""A daily publish writes only what changed (issue 13): the new serving file starts as a copy of the last one,
a table is left, updated in place or written whole, unchanged Parquet files are hard-linked from the last
version. The serving file and the Parquet files must still hold exactly the build's rows: each is compared
with the build warehouse itself and with a publish that writes everything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
from warehouse_state import count_in_duckdb_1x_reader

from insight_engine import publish as pub


def _publish(build: Path, serving: Path, *, reuse: bool = True) -> pub.PublishResult:
    return pub.publish(build, serving, run_id=pub.new_run_id(), reuse=reuse)


def _differences(build: Path, other: str) -> dict[str, tuple[int, int]]:
    """Per table of the build's serving schemas: rows only in the build, rows only in ``other`` (a DuckDB
    file or a published version folder of Parquet files); multisets, so a lost duplicate counts."""
    con = duckdb.connect()
    con.execute(f"attach '{build}' as b (read_only)")
    is_parquet = Path(other).is_dir()
    if not is_parquet:
        con.execute(f"attach '{other}' as o (read_only)")
    out = {}
    for schema, table in pub.publishable_tables(con, "b"):
        theirs = f"read_parquet('{other}/{schema}/{table}.parquet')" if is_parquet else f"o.{schema}.{table}"
        mine = f"b.{schema}.{table}"
        only_mine, only_theirs = (
            con.execute(f"select count(*) from (select * from {x} except all select * from {y})").fetchone()[
                0
            ]
            for x, y in ((mine, theirs), (theirs, mine))
        )
        if only_mine or only_theirs:
            out[f"{schema}.{table}"] = (only_mine, only_theirs)
    con.close()
    return out


def _serving_tables(serving: Path) -> set[str]:
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{s}.{t}" for s, t in rows}


@pytest.fixture()
def build(xs, tmp_path: Path) -> Path:
    path = tmp_path / "build.duckdb"
    shutil.copyfile(xs.warehouse, path)
    return path


@pytest.mark.parametrize("bucketed", [False, True], ids=["every-hash", "bucketed"])
def test_a_daily_publish_writes_what_changed_and_serves_exactly_the_builds_rows(
    build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucketed: bool
):
    # xs tables are far below the size at which the diff goes bucket by bucket first: lower the bar, so
    # the same changes are found both ways
    monkeypatch.setattr(pub, "DELTA_BUCKETED_MIN_ROWS", 0 if bucketed else 10**12)
    serving = tmp_path / "wh" / "serving.duckdb"
    first = _publish(build, serving)
    assert not first.reused_serving and set(first.written.values()) == {"created"}
    assert first.parquet_reused == []

    with duckdb.connect(str(build)) as con:
        (double_column,) = con.execute(
            "select column_name from information_schema.columns where table_schema = 'rox'"
            " and table_name = 'rox_drivers' and data_type = 'DOUBLE' order by ordinal_position limit 1"
        ).fetchone()
        n_events = con.execute("select count(*) from core.fct_journey_events").fetchone()[0]
        n_orders = con.execute("select count(*) from core.fct_orders").fetchone()[0]
        assert n_events > 1000 and n_orders > 100
        con.execute("delete from core.fct_journey_events where rowid % 100 = 0")  # rows gone
        con.execute("update core.fct_orders set order_channel = 'moved' where rowid % 50 = 0")  # rows changed
        # one double moved by its last bit: the serving file must carry it (not the content checksum's
        # 12 digits); and two more copies of an existing row (duplicates must survive the hash delta)
        con.execute(
            f'update rox.rox_drivers set "{double_column}" = nextafter("{double_column}", 1e308)'
            f' where rowid = (select min(rowid) from rox.rox_drivers where "{double_column}" is not null)'
        )
        con.execute("insert into core.dim_touchpoints select * from core.dim_touchpoints limit 1")
        con.execute("insert into core.dim_touchpoints select * from core.dim_touchpoints limit 1")
        con.execute("drop table rox.rox_alerts")  # a mart removed from the project
        con.execute("create table core.fct_new_mart as select 1 as id, 'x' as label")  # and one added
        # a mart whose columns changed: written whole
        con.execute("alter table quality.quality_unmapped_codes add column note varchar")
        # most of a table changed: written whole, not updated in place
        con.execute("delete from core.fct_survey_invitations where rowid % 4 != 0")

    daily = _publish(build, serving)
    assert daily.reused_serving
    changed = {
        "core.fct_journey_events": "updated",
        "core.fct_orders": "updated",
        "rox.rox_drivers": "updated",
        "core.dim_touchpoints": "updated",
        "core.fct_new_mart": "created",
        "quality.quality_unmapped_codes": "rewritten",
        "core.fct_survey_invitations": "rewritten",
    }
    assert {t: w for t, w in daily.written.items() if w != "unchanged"} == changed
    assert "rox.rox_alerts" not in daily.written and "rox.rox_alerts" not in _serving_tables(serving)
    if bucketed:  # the row-by-row diff read a part of the buckets only, and found every change
        assert set(daily.bucketed) == {t for t, w in daily.written.items() if w in ("updated", "unchanged")}
        assert 0 < daily.bucketed["core.fct_journey_events"] < 1
        assert all(daily.bucketed[t] == 0 for t, w in daily.written.items() if w == "unchanged")
    else:
        assert daily.bucketed == {}
    assert "core.fct_new_mart" in _serving_tables(serving)

    # exactly the build's rows, in the serving file and in the Parquet version
    assert _differences(build, str(serving)) == {}
    assert daily.version_dir is not None
    assert _differences(build, str(daily.version_dir)) == {}
    with duckdb.connect(str(serving), read_only=True) as con:
        assert con.execute("select count(*) from core.fct_journey_events").fetchone()[0] == n_events - len(
            range(0, n_events, 100)
        )

    # Parquet: the unchanged tables' files are the last version's (hard links), the changed ones new
    unchanged = {t for t, w in daily.written.items() if w == "unchanged"}
    assert unchanged and set(daily.parquet_reused) == unchanged
    assert first.version_dir is not None
    for name in daily.written:
        schema, table = name.split(".")
        new = daily.version_dir / schema / f"{table}.parquet"
        old = first.version_dir / schema / f"{table}.parquet"
        assert (old.exists() and new.stat().st_ino == old.stat().st_ino) == (name in unchanged), name
    for entry in daily.manifest["tables"]:
        assert pub.sha256_file(daily.version_dir / entry["path"]) == entry["sha256"], entry["path"]

    # an independent publish that writes everything agrees table by table on rows and content
    whole = _publish(build, tmp_path / "whole" / "serving.duckdb", reuse=False)
    assert not whole.reused_serving and set(whole.written.values()) == {"created"}

    def content(manifest: dict) -> dict:
        return {
            (t["schema"], t["table"]): (t["rows"], t["columns"], t["content_checksum"])
            for t in manifest["tables"]
            if t["schema"] != "ops"
        }

    assert content(daily.manifest) == content(whole.manifest)

    # nothing changed: every table left as it is, every file linked
    again = _publish(build, serving)
    assert again.reused_serving and set(again.written.values()) == {"unchanged"}
    assert set(again.parquet_reused) == set(again.written)
    assert _differences(build, str(serving)) == {}

    # the file updated in place still opens in the DuckDB 1.x reader BI drivers embed
    _, count = count_in_duckdb_1x_reader(serving, "core.fct_journey_events")
    assert count == n_events - len(range(0, n_events, 100))


def test_a_serving_file_that_cannot_be_reused_is_written_whole(build: Path, tmp_path: Path):
    serving = tmp_path / "wh" / "serving.duckdb"
    _publish(build, serving)

    # many free blocks (the tables written first dropped, the later ones keep the file's length): copying
    # it day after day would keep the space
    with duckdb.connect(str(serving)) as con:
        for (table,) in con.execute(
            "select table_name from information_schema.tables where table_schema = 'core'"
        ).fetchall():
            con.execute(f"drop table core.{table}")
        con.execute("checkpoint")
        total, free = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    assert free / total > pub.REUSE_MAX_FREE_SHARE, (free, total)  # the case under test
    fresh = _publish(build, serving)
    assert not fresh.reused_serving and set(fresh.written.values()) == {"created"}
    assert _differences(build, str(serving)) == {}
    with duckdb.connect(str(serving), read_only=True) as con:
        total, free = con.execute("select total_blocks, free_blocks from pragma_database_size()").fetchone()
    assert free / total <= pub.REUSE_MAX_FREE_SHARE

    # not a DuckDB file at all (a torn copy by hand): written whole, the publish does not fail
    serving.write_bytes(b"not a database" * 1000)
    broken = _publish(build, serving)
    assert not broken.reused_serving
    assert _differences(build, str(serving)) == {}
    assert not list(serving.parent.glob(".serving.duckdb.*"))  # no temporary file left behind


def test_a_changed_parquet_file_of_the_last_version_is_written_again(build: Path, tmp_path: Path):
    serving = tmp_path / "wh" / "serving.duckdb"
    first = _publish(build, serving)
    assert first.version_dir is not None
    tampered = first.version_dir / "core" / "dim_date.parquet"
    tampered.write_bytes(tampered.read_bytes()[:-10] + b"0123456789")  # no longer its manifest's sha256
    second = _publish(build, serving)
    assert second.version_dir is not None
    assert "core.dim_date" not in second.parquet_reused and "core.fct_customer" in second.parquet_reused
    assert _differences(build, str(second.version_dir)) == {}
    # the manifest of the version a file is linked from is read, not trusted blindly: a broken one is skipped
    (second.version_dir / "manifest.json").write_text(json.dumps({"tables": "not a list"}))
    third = _publish(build, serving)
    assert third.parquet_reused == [] and set(third.written.values()) == {"unchanged"}
    assert _differences(build, str(third.version_dir)) == {}


@pytest.mark.parametrize("as_view", [False, True], ids=["table", "view"])
@pytest.mark.parametrize("bucketed", [False, True], ids=["every-hash", "bucketed"])
def test_an_in_place_update_keeps_duplicates_and_leaves_no_hashes_behind(
    monkeypatch: pytest.MonkeyPatch, bucketed: bool, as_view: bool
):
    # a hand-made pair of tables, no build: the serving side has a row the build lost (3, 'c'), one copy
    # too many of a duplicate (2, 'b') and a row whose value moved (4, 'd'); the build has a new row
    # (5, 'e'), the moved row (4, 'D') and a third copy of (1, 'a')
    monkeypatch.setattr(pub, "DELTA_BUCKETED_MIN_ROWS", 0 if bucketed else 10**12)
    # twelve rows to delete and insert against seven in the table: update in place all the same
    monkeypatch.setattr(pub, "DELTA_MAX_CHANGED_SHARE", 2.0)
    con = duckdb.connect()
    con.execute("attach ':memory:' as src")
    con.execute("attach ':memory:' as dst")
    for catalog in ("src", "dst"):
        con.execute(f"create schema {catalog}.core")
        con.execute(f"create table {catalog}.core.t (id integer, label varchar)")
    con.execute("insert into src.core.t values (1, 'a'), (1, 'a'), (1, 'a'), (2, 'b'), (4, 'D'), (5, 'e')")
    con.execute(
        "insert into dst.core.t values (1, 'a'), (1, 'a'), (2, 'b'), (2, 'b'), (3, 'c'), (4, 'd'), (6, null)"
    )
    con.execute("insert into src.core.t values (6, null)")  # a null survives the hash as a value
    if as_view:  # a mart a user materialized as a view has no rowid: its rows are found by hash
        con.execute("alter table src.core.t rename to t_rows")
        con.execute("create view src.core.t as select * from src.core.t_rows")
    how, deleted, inserted, share = pub._write_table(con, "core", "t")
    # hashes that differ: (1,'a') 3 against 2, (2,'b') 1 against 2, (3,'c'), (4,'d'), (4,'D'), (5,'e');
    # every row of those hashes goes: 2 + 2 + 1 + 1 deleted, 3 + 1 + 1 + 1 inserted
    assert (how, deleted, inserted) == ("updated", 6, 6)
    assert (share is not None) == bucketed
    rows = con.execute("select id, label from dst.core.t order by all").fetchall()
    assert rows == [(1, "a"), (1, "a"), (1, "a"), (2, "b"), (4, "D"), (5, "e"), (6, None)]
    temps = con.execute("select table_name from duckdb_tables() where temporary").fetchall()
    assert temps == []  # the row hashes of a large table are hundreds of MB: dropped after each table
    assert pub._write_table(con, "core", "t")[:3] == ("unchanged", 0, 0)
