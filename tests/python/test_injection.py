"""Injection (issue 15, item 5): every CLI argument and dbt var that reaches SQL or a path is validated.

Hostile values (quotes, `; drop`, back-quotes, braces, glob characters, newlines, NUL, `../` where a name is
expected) are refused with a clear message (click usage error, exit 2; a dbt compilation error) and nothing
runs: no landing zone, warehouse, lock, gate report or dbt table is created.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from insight_engine import pipeline
from insight_engine import publish as pub
from insight_engine.cli import main
from insight_engine.exitcodes import ExitCode
from insight_engine.inputs import UnsafeValue, check_dbt_vars, check_path, check_run_id

HOSTILE_PATHS = {
    "quote-drop": "data/x'); drop table t; --",
    "double-quote": 'data/x"y',
    "backquote": "data/x`y",
    "newline": "data/x\nselect 1",
    "nul": "data/x\x00y",
    "format-field": "data/{raw_path}",
    "glob": "data/*",
    "semicolon": "data/x;rm -rf y",
}
HOSTILE_DATES = {
    "quote-drop": "2026-09-30'; drop table t; --",
    "traversal": "../2026-09-30",
    "newline": "2026-09-30\n",
    "nul": "2026-09-30\x00",
    "not-a-day": "2026-02-30",
    "sql-expr": "current_date",
}

# (command, option, other args): every path option of every command
PATH_OPTIONS = [
    ("run", "--raw-root"),
    ("run", "--warehouse-dir"),
    ("run", "--gates-dir"),
    ("run", "--target-path"),
    ("build", "--raw-root"),
    ("build", "--warehouse-dir"),
    ("validate", "--raw-root"),
    ("validate", "--warehouse-dir"),
    ("validate", "--out-dir"),
    ("publish", "--warehouse-dir"),
    ("generate", "--out"),
    ("report", "--serving"),
    ("report", "--out"),
]


def _defaults(command: str, work: Path) -> list[str]:
    """Harmless values for the command's other path options, all inside ``work`` (which must stay absent)."""
    paths = {
        "run": {
            "--raw-root": work / "raw",
            "--warehouse-dir": work / "wh",
            "--gates-dir": work / "gates",
            "--target-path": work / "target",
        },
        "build": {"--raw-root": work / "raw", "--warehouse-dir": work / "wh"},
        "validate": {"--raw-root": work / "raw", "--warehouse-dir": work / "wh", "--out-dir": work / "gates"},
        "publish": {"--warehouse-dir": work / "wh"},
        "generate": {"--out": work / "raw"},
        "report": {"--serving": work / "wh" / "serving.duckdb", "--out": work / "report.html"},
    }[command]
    extra = ["--stage", "raw"] if command == "validate" else []
    return extra + [str(x) for kv in paths.items() for x in kv]


def _invoke(args: list[str]):
    return CliRunner().invoke(main, args)


def _assert_refused(res, option: str, work: Path) -> None:
    assert res.exit_code == ExitCode.USAGE, (res.exit_code, res.output, res.exception)
    assert option in res.output, res.output
    assert not work.exists(), f"something ran: {sorted(p.name for p in work.rglob('*'))}"


@pytest.mark.parametrize("value", HOSTILE_PATHS.values(), ids=HOSTILE_PATHS.keys())
@pytest.mark.parametrize(("command", "option"), PATH_OPTIONS, ids=[f"{c}{o}" for c, o in PATH_OPTIONS])
def test_a_hostile_path_option_is_refused_before_anything_runs(
    tmp_path: Path, command: str, option: str, value: str
) -> None:
    work = tmp_path / "work"
    args = [command, *_defaults(command, work), option, value]
    _assert_refused(_invoke(args), option, work)


@pytest.mark.parametrize("value", HOSTILE_DATES.values(), ids=HOSTILE_DATES.keys())
@pytest.mark.parametrize("option", ["--since", "--load-date"])
def test_a_hostile_load_date_is_refused_before_anything_runs(tmp_path: Path, option: str, value: str) -> None:
    work = tmp_path / "work"
    _assert_refused(_invoke(["run", *_defaults("run", work), option, value]), option, work)


@pytest.mark.parametrize(
    ("command", "option", "value"),
    [
        ("generate", "--end-date", "2026-09-30'; drop table t; --"),
        ("generate", "--scale", "xs'; drop table t; --"),
        ("generate", "--dialect", "iso\nselect 1"),
        ("generate", "--seed", "7 or 1=1"),
        ("generate", "--days", "45; drop"),
        ("generate", "--bad-rate", "0.02'"),
        ("generate", "--nps-dip", "TP-DELIVERY'); drop table t; --:30:4"),
        ("generate", "--nps-dip", "../../etc:30:4"),
        ("run", "--log-format", "json'; drop"),
        ("run", "--keep-versions", "3; rm -rf /"),
        ("build", "--target", "duckdb'; drop"),
        ("validate", "--stage", "raw'; drop"),
    ],
    ids=lambda v: v if v.startswith("-") or v.isalpha() else None,
)
def test_other_hostile_arguments_are_refused(tmp_path: Path, command: str, option: str, value: str) -> None:
    work = tmp_path / "work"
    _assert_refused(_invoke([command, *_defaults(command, work), option, value]), option, work)


def test_a_plain_path_with_spaces_and_dots_is_accepted() -> None:
    assert check_path("../landing zone/raw-2026.09", "raw root") == Path("../landing zone/raw-2026.09")


# ------------------------------------------------------------------------ the Python API the CLI calls
@pytest.mark.parametrize("run_id", ["../../etc", "a/b", "x'; drop", ".hidden", "a\nb", "a\x00b", "a" * 65])
def test_a_hostile_run_id_is_refused_by_publish_and_run(tmp_path: Path, run_id: str) -> None:
    with pytest.raises(UnsafeValue):
        check_run_id(run_id)
    build, out = tmp_path / "build.duckdb", tmp_path / "out"
    duckdb.connect(str(build)).close()
    with pytest.raises(UnsafeValue):
        pub.publish(build, tmp_path / "out" / "serving.duckdb", run_id=run_id)
    with pytest.raises(UnsafeValue):
        pipeline.run(pipeline.Paths(raw_root=tmp_path, build_warehouse=out / "b.db"), run_id=run_id)
    assert not (tmp_path / "out").exists()


def test_generated_run_ids_pass_the_check() -> None:
    assert check_run_id(pub.new_run_id())


def test_pipeline_refuses_a_hostile_path_before_anything_runs(tmp_path: Path) -> None:
    paths = pipeline.Paths(
        raw_root=tmp_path / "raw'); drop table t; --",
        build_warehouse=tmp_path / "out" / "b.duckdb",
        serving=tmp_path / "out" / "s.duckdb",
        publish_log=tmp_path / "out" / "log.duckdb",
        gates_dir=tmp_path / "out" / "gates",
    )
    with pytest.raises(UnsafeValue, match="raw root"):
        pipeline.run(paths)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "dbt_vars",
    [
        {"as_of_date": "2026-09-30'); drop table t; --"},
        {"incremental_from_load_date": "../2026-09-30"},
        {"calendar_start": "1999-01-01\n"},
        {"reporting_currency": "USD'; --"},
        {"churn_days": "180; drop"},
        {"alert_z": True},
        {"x; drop table t": 1},
    ],
    ids=["as_of_date", "incremental_from", "calendar_start", "currency", "churn_days", "bool", "name"],
)
def test_hostile_dbt_vars_are_refused_by_the_pipeline(tmp_path: Path, dbt_vars: dict) -> None:
    with pytest.raises(UnsafeValue):
        check_dbt_vars(dbt_vars)
    paths = pipeline.Paths(raw_root=tmp_path, build_warehouse=tmp_path / "out" / "b.duckdb")
    with pytest.raises(UnsafeValue):
        pipeline.run(paths, dbt_vars=dbt_vars, gates=False)
    assert not (tmp_path / "out").exists()


def test_sane_dbt_vars_pass() -> None:
    check_dbt_vars({"as_of_date": "2026-09-30", "reporting_currency": "EUR", "churn_days": 9, "alert_z": 2.5})


# ---------------------------------------------------------------------- dbt itself (`dbt build --vars`)
@pytest.mark.parametrize(
    ("dbt_vars", "model", "named"),
    [
        ({"as_of_date": "2026-09-30' as timestamp); drop table t; --"}, "int_as_of_date", "as_of_date"),
        ({"churn_days": "180) or (1=1"}, "fct_customer", "churn_days"),
    ],
    ids=["as_of_date", "churn_days"],
)
def test_dbt_refuses_hostile_vars_before_any_sql(
    tmp_path: Path, dbt_vars: dict, model: str, named: str
) -> None:
    """An analytics engineer's `dbt run --vars` goes through the same checks (macros/utils/safe_vars.sql)."""
    from insight_engine.dbt import run_dbt

    warehouse = tmp_path / "wh" / "w.duckdb"
    res = run_dbt(
        ["run", "--select", model, "--vars", json.dumps(dbt_vars)],
        raw_root=tmp_path / "raw",
        warehouse=warehouse,
        target_path=tmp_path / "target",
    )
    assert not res.success
    assert any(named in f for f in res.failures), res.failures
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            assert con.execute("select count(*) from duckdb_tables()").fetchone()[0] == 0
