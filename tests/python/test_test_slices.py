"""Tests of incremental models read the rows the run wrote, and only when that is equivalent.

macros/utils/test_slices.sql: after a clean build, an incremental run's not_null / accepted_values tests
read the rows it inserted, and its uniqueness tests the rows sharing a tested value with them. Here, on
the two deliveries of the incremental scenario (DuckDB):

* which tests are sliced, and when (a first build, a run after an untested `dbt run`: none);
* the sliced SQL against hand-made violations in the built warehouse: a new row duplicated by an old
  one and a null in a new row are caught; violations among old rows only are not (that is what the
  clean-build condition is for), while the same test over the whole table catches them;
* staging views, whose tests read their base model's slice: their SQL is checked to be one row per base
  row, a duplicate made in the base is caught through the view, and a view whose definition changed
  since its test passed is tested whole.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import dbt.version
import duckdb
import pytest
import sqlglot
from incremental_scenario import make_deliveries
from sqlglot import exp

from insight_engine.dbt import PROJECT_DIR, run_dbt

BUILD = ["build", "--exclude-resource-type", "unit_test"]
SLICED_TESTS = {"not_null", "accepted_values", "unique", "unique_combination_of_columns"}


@pytest.fixture(scope="module")
def deliveries(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_deliveries(tmp_path_factory.mktemp("slices"))


def _tests(target: Path) -> dict[str, str]:
    """Every test node this invocation ran: unique_id -> compiled SQL."""
    results = json.loads((target / "run_results.json").read_text())["results"]
    return {r["unique_id"]: r["compiled_code"] for r in results if r["unique_id"].startswith("test.")}


def _sliced(target: Path) -> set[str]:
    return {uid for uid, sql in _tests(target).items() if "test_slices" in sql}


def _slices_from_parent(nodes: dict, node: dict | None) -> bool:
    """A view that declares its tests may read its one incremental parent's slice."""
    if node is None or node["config"]["materialized"] != "view":
        return False
    if not (node["config"].get("meta") or {}).get("test_slices_from_parent"):
        return False
    parents = node["depends_on"]["nodes"]
    return len(parents) == 1 and nodes[parents[0]]["config"]["materialized"] == "incremental"


def _sliceable(target: Path) -> set[str]:
    """Tests the rule may slice: the four per-row and uniqueness tests of incremental models and of the
    views that read their parent's slice."""
    manifest = json.loads((target / "manifest.json").read_text())
    nodes, out = manifest["nodes"], set()
    for uid, node in nodes.items():
        meta = node.get("test_metadata") or {}
        attached = nodes.get(node.get("attached_node") or "")
        if (
            uid.startswith("test.")
            and attached is not None
            and (attached["config"]["materialized"] == "incremental" or _slices_from_parent(nodes, attached))
            and meta.get("name") in SLICED_TESTS
        ):
            out.add(uid)
    return out


# what would make a view's row depend on other rows, or on when it is read
ROW_WISE_FORBIDDEN = (exp.Join, exp.AggFunc, exp.Window, exp.Distinct, exp.Union, exp.Intersect, exp.Except)
CLOCKS = ("now", "current_date", "current_timestamp", "random", "uuid", "gen_random_uuid")


def _not_row_wise(sql: str) -> list[str]:
    """What in a view's compiled SQL breaks 'one row per row of its parent'."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    found = [type(node).__name__ for node in tree.walk() if isinstance(node, ROW_WISE_FORBIDDEN)]
    found += [
        f.sql()
        for f in tree.find_all(exp.Func)
        if f.sql_name().lower() in CLOCKS or isinstance(f, exp.CurrentDate | exp.CurrentTimestamp)
    ]
    return found


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def _definitions(warehouse: Path) -> dict[str, str]:
    """The last invocation's passed tests: unique_id -> the definition part of its key."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        rows = con.execute(
            "select test_key from test_slices.passed_tests where invocation_id = "
            "(select invocation_id from test_slices.build_outcomes order by started_at desc limit 1)"
        ).fetchall()
    return {key.split(":")[0]: key.split(":")[2] for (key,) in rows}


def _last_outcome(warehouse: Path) -> tuple[str, int, bool]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(
            "select command, n_sliced_tests, clean from test_slices.build_outcomes "
            "order by started_at desc limit 1"
        ).fetchone()


def _failures(con: duckdb.DuckDBPyConnection, sql: str) -> int:
    (n,) = con.execute(f"select count(*) from ({sql}) as failures").fetchone()
    return int(n)


def _test_sql(tests: dict[str, str], prefix: str) -> str:
    (sql,) = [s for uid, s in tests.items() if uid.split(".")[2] == prefix]
    return sql


def test_incremental_runs_test_the_rows_they_wrote(deliveries: tuple[Path, Path], tmp_path: Path) -> None:
    day1, day2 = deliveries
    wh = tmp_path / "wh.duckdb"
    first = run_dbt(BUILD, raw_root=day1, warehouse=wh, target_path=tmp_path / "t1")
    assert first.success, first.failures
    # a first build writes whole tables: every test reads them whole, and the build is clean
    assert _sliced(tmp_path / "t1") == set()
    assert _last_outcome(wh) == ("build", 0, True)

    second = run_dbt(BUILD, raw_root=day2, warehouse=wh, target_path=tmp_path / "t2")
    assert second.success, second.failures
    sliced = _sliced(tmp_path / "t2")
    sliceable = _sliceable(tmp_path / "t2")
    assert len(sliceable) > 40
    assert sliced == sliceable, "exactly the per-row and uniqueness tests of incremental models are sliced"
    # staging and quarantine views read their base model's slice; each such view is one row per row of
    # its base model: every base model has its two views, and nothing else is flagged
    manifest_nodes = json.loads((tmp_path / "t2" / "manifest.json").read_text())["nodes"]
    views = {uid for uid, node in manifest_nodes.items() if _slices_from_parent(manifest_nodes, node)}
    bases = {
        node["name"].removeprefix("base_")
        for node in manifest_nodes.values()
        if node["resource_type"] == "model"
        and node["name"].startswith("base_")
        and node["config"]["materialized"] == "incremental"
    }
    assert len(bases) == 14
    assert {uid.split(".")[2] for uid in views} == {f"{p}_{b}" for b in bases for p in ("stg", "qrn")}
    assert "test.insight_engine.unique_stg_web__events_event_id.405a16d784" in sliced
    quarantine_tests = {u for u in _tests(tmp_path / "t2") if ".not_null_qrn_" in u}
    assert len(quarantine_tests) == 14 and quarantine_tests <= sliced, "quarantine tests read the slice"
    compiled = {
        r["unique_id"]: r["compiled_code"]
        for r in json.loads((tmp_path / "t2" / "run_results.json").read_text())["results"]
    }
    assert {uid: _not_row_wise(compiled[uid]) for uid in views} == {uid: [] for uid in views}
    assert _not_row_wise("select a, row_number() over () from t") == ["Window"]
    assert _not_row_wise("select * from t join u using (k) where d < current_date") == [
        "Join",
        "CURRENT_DATE",
    ]
    assert _last_outcome(wh) == ("build", len(sliced), True)
    full_tests, tests = _tests(tmp_path / "t1"), _tests(tmp_path / "t2")
    # a test's record names its definition: the text of this project's `{% test %}` block, else dbt's
    # version (its built-in tests), so an edited test macro reads its whole table once, as a new test does
    source = (PROJECT_DIR / "tests" / "generic" / "unique_combination_of_columns.sql").read_text()
    block = re.search(r"\{% test unique_combination_of_columns\(.*?\{% endtest %\}", source, re.S)
    assert block is not None
    definitions = _definitions(wh)
    combination = [u for u in definitions if ".unique_combination_of_columns_base_commerce__orders_" in u]
    builtin = [u for u in definitions if ".not_null_int_journey_events_unioned_occurred_at" in u]
    assert combination and builtin
    assert {definitions[u] for u in combination} == {_md5(dbt.version.__version__ + block.group(0))}
    assert {definitions[u] for u in builtin} == {_md5(dbt.version.__version__)}
    relationships = [uid for uid in tests if ".relationships_fct_order_lines_order_id" in uid]
    assert relationships and not set(relationships) & sliced, "a parent may change: relationships read all"

    work = tmp_path / "mutated.duckdb"
    shutil.copy(wh, work)
    unique = _test_sql(tests, "unique_int_journey_events_unioned_event_key")
    unique_full = _test_sql(full_tests, "unique_int_journey_events_unioned_event_key")
    not_null = _test_sql(tests, "not_null_int_journey_events_unioned_occurred_at")
    not_null_full = _test_sql(full_tests, "not_null_int_journey_events_unioned_occurred_at")
    orders_unique = _test_sql(tests, "unique_combination_of_columns_base_commerce__orders_order_id")
    stg_orders_unique = _test_sql(tests, "unique_stg_commerce__orders_order_id")
    stg_orders_unique_full = _test_sql(full_tests, "unique_stg_commerce__orders_order_id")
    assert "test_slices" in stg_orders_unique and "base_commerce__orders" in stg_orders_unique
    events = '"mutated".intermediate.int_journey_events_unioned'
    orders = '"mutated".staging.base_commerce__orders'
    with duckdb.connect(str(work)) as con:
        for sql in (unique, not_null, orders_unique):
            assert _failures(con, sql.replace('"wh"', '"mutated"')) == 0
        new = [
            k
            for (k,) in con.execute(
                f"select event_key from {events} where event_key in "
                "(select event_key from test_slices.int_journey_events_unioned) order by event_key"
            ).fetchall()
        ]
        old = [
            k
            for (k,) in con.execute(
                f"select event_key from {events} where event_key not in "
                "(select event_key from test_slices.int_journey_events_unioned) order by event_key limit 4"
            ).fetchall()
        ]
        assert len(new) > 1 and len(old) == 4

        def failures(sql: str) -> int:
            return _failures(con, sql.replace('"wh"', '"mutated"'))

        # an old row takes a new row's key: the sliced uniqueness test sees the pair
        con.execute(f"update {events} set event_key = ? where event_key = ?", [new[0], old[0]])
        assert failures(unique) == 1
        # two old rows share a key: only the whole-table test sees them (the clean-build condition's job)
        con.execute(f"update {events} set event_key = ? where event_key = ?", [old[1], old[2]])
        assert failures(unique) == 1 and failures(unique_full) == 2
        # a new row without a timestamp is caught; an old one is not
        con.execute(f"update {events} set occurred_at = null where event_key = ?", [old[3]])
        assert failures(not_null) == 0 and failures(not_null_full) == 1
        con.execute(f"update {events} set occurred_at = null where event_key = ?", [new[-1]])
        assert failures(not_null) == 1
        # a base model: its slice is (load_date, order_id), its test has a `where` of its own
        (old_order,) = con.execute(
            f"select order_id from {orders} as o where quarantine_reason is null and not exists "
            "(select 1 from test_slices.base_commerce__orders as s where s.order_id = o.order_id) limit 1"
        ).fetchone()
        (new_order,) = con.execute(
            f"select o.order_id from {orders} as o join test_slices.base_commerce__orders as s "
            "on s.order_id = o.order_id and s.load_date = o.load_date "
            "where o.quarantine_reason is null limit 1"
        ).fetchone()
        con.execute(f"update {orders} set order_id = ? where order_id = ?", [new_order, old_order])
        assert failures(orders_unique) == 1

    # the staging view over that base, tested through the base's slice, sees the same pair; its views name
    # their catalog, so the mutated copy is opened under the build's name
    with duckdb.connect(str(wh), read_only=True) as con:
        assert _failures(con, stg_orders_unique) == 0
    (tmp_path / "as_wh").mkdir()
    shutil.copy(work, tmp_path / "as_wh" / "wh.duckdb")
    with duckdb.connect(str(tmp_path / "as_wh" / "wh.duckdb"), read_only=True) as con:
        assert _failures(con, stg_orders_unique) == 1 and _failures(con, stg_orders_unique_full) == 1

    # a test that did not pass in the build before (here: its record removed, as for a new or edited
    # test) reads its whole table once; the others read the slice again
    relisted = _test_sql(
        tests, "accepted_values_int_identities_linked_match_rule__crm_id__email__phone__singleton"
    )
    (relisted_id,) = [uid for uid, sql in tests.items() if sql == relisted]
    with duckdb.connect(str(wh)) as con:
        (removed,) = con.execute(
            "delete from test_slices.passed_tests where test_key like ?", [relisted_id + ":%"]
        ).fetchone()
    assert removed == 2  # passed in both builds so far
    # a view's test is keyed by the view's definition too: as if the view was edited since it passed
    (stg_id,) = [uid for uid, sql in tests.items() if sql == stg_orders_unique]
    with duckdb.connect(str(wh)) as con:
        keys = [
            k
            for (k,) in con.execute(
                "select test_key from test_slices.passed_tests where test_key like ?", [stg_id + ":%"]
            ).fetchall()
        ]
        assert len(keys) == 2 and all(len(k.split(":")) == 4 for k in keys)
        con.execute(
            "update test_slices.passed_tests set test_key = regexp_replace(test_key, ':[0-9a-f]{32}$', ?)"
            " where test_key like ?",
            [":" + _md5("an older view"), stg_id + ":%"],
        )
    again = run_dbt(BUILD, raw_root=day2, warehouse=wh, target_path=tmp_path / "t3")
    assert again.success, again.failures
    assert _sliced(tmp_path / "t3") == sliceable - {relisted_id, stg_id}

    # a `dbt run` writes rows no test read: the next build tests every table whole, and is clean again
    ran = run_dbt(
        ["run", "--select", "base_web__events"], raw_root=day2, warehouse=wh, target_path=tmp_path / "t4"
    )
    assert ran.success, ran.failures
    assert _last_outcome(wh) == ("run", 0, False)
    third = run_dbt(BUILD, raw_root=day2, warehouse=wh, target_path=tmp_path / "t5")
    assert third.success, third.failures
    assert _sliced(tmp_path / "t5") == set()
    assert _last_outcome(wh) == ("build", 0, True)
