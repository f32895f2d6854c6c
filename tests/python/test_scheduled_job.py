"""The scheduled job (`insight-engine run`) as cron or Airflow runs it: one run at a time, an exit code per
way it can end, JSON logs, chosen loads, and a rerun of the same day that changes nothing."""

from __future__ import annotations

import ast
import json
import os
import pty
import re
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from insight_engine import pipeline, runlog
from insight_engine import publish as pub
from insight_engine.cli import main
from insight_engine.exitcodes import MEANING, ExitCode
from insight_engine.runlock import LockHeld, RunLock, read_holder

PROJECT_DIR = Path(__file__).resolve().parents[2]
README = (PROJECT_DIR / "README.md").read_text()


def _cli(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "insight_engine.cli", *map(str, args)]


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "TZ": "UTC", "PYTHONUNBUFFERED": "1"}


def _newest_load(raw: Path) -> str:
    return max(str(d) for d in pipeline.landing_load_dates(raw))


@dataclass
class TwoRuns:
    raw: Path
    work: Path
    warehouse: Path
    load_date: str
    first_pid: int
    first_rc: int
    first_stdout: str
    first_seconds: float
    second_rc: int
    second_stderr: str
    second_seconds: float


def _run_args(raw: Path, work: Path, *extra: str) -> list[str]:
    return _cli(
        "run",
        "--raw-root",
        raw,
        "--warehouse-dir",
        work / "warehouse",
        "--gates-dir",
        work / "gates",
        "--target-path",
        work / "target",
        *extra,
    )


@pytest.fixture(scope="module")
def two_runs(xs45_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> TwoRuns:
    """A run with JSON logs; while it holds the lock a second run starts and must exit at once."""
    work = tmp_path_factory.mktemp("scheduled")
    warehouse = work / "warehouse"
    load_date = _newest_load(xs45_raw)
    started = time.monotonic()
    with (work / "first.jsonl").open("w") as out, (work / "first.err").open("w") as err:
        first = subprocess.Popen(
            _run_args(xs45_raw, work, "--log-format", "json", "--load-date", load_date),
            stdout=out,
            stderr=err,
            env=_env(),
        )
        try:
            deadline = time.monotonic() + 90
            while (holder := read_holder(warehouse)) is None or holder.pid != first.pid:
                assert first.poll() is None, f"the first run ended early: {(work / 'first.err').read_text()}"
                assert time.monotonic() < deadline, "the first run did not take the lock within 90 s"
                time.sleep(0.2)
            t = time.monotonic()
            second = subprocess.run(
                _run_args(xs45_raw, work, "--load-date", load_date),
                capture_output=True,
                text=True,
                env=_env(),
                timeout=120,
            )
            second_seconds = time.monotonic() - t
            assert first.poll() is None, (
                "the first run ended before the second was refused: test proves nothing"
            )
            first_rc = first.wait(timeout=900)
        finally:
            if first.poll() is None:
                first.kill()
    return TwoRuns(
        raw=xs45_raw,
        work=work,
        warehouse=warehouse,
        load_date=load_date,
        first_pid=first.pid,
        first_rc=first_rc,
        first_stdout=(work / "first.jsonl").read_text(),
        first_seconds=time.monotonic() - started,
        second_rc=second.returncode,
        second_stderr=second.stderr,
        second_seconds=second_seconds,
    )


def test_a_second_run_while_one_is_going_exits_locked_at_once_naming_the_first(two_runs: TwoRuns) -> None:
    print(f"\nsecond run refused after {two_runs.second_seconds:.1f}s", end="; ")
    print(f"the first run took {two_runs.first_seconds:.0f}s")
    assert two_runs.second_rc == ExitCode.LOCKED, two_runs.second_stderr
    assert two_runs.second_seconds < 15, "a locked run must give up at once, not wait for the lock"
    assert f"pid {two_runs.first_pid}" in two_runs.second_stderr
    assert "started 20" in two_runs.second_stderr  # the first run's start time
    assert "Traceback" not in two_runs.second_stderr


def test_the_first_run_still_publishes(two_runs: TwoRuns) -> None:
    assert two_runs.first_rc == ExitCode.OK, two_runs.first_stdout[-3000:]
    folder = two_runs.warehouse / pub.PUBLISHED_DIR
    assert (two_runs.warehouse / "serving.duckdb").exists()
    assert len(pub.versions(folder)) == 1 and pub.current_version(folder) == pub.versions(folder)[0]
    assert read_holder(two_runs.warehouse) is None, "a run that ended cleanly leaves the lock empty"


def test_every_line_of_a_json_run_is_one_event_of_that_run(two_runs: TwoRuns) -> None:
    lines = two_runs.first_stdout.splitlines()
    events = [json.loads(line) for line in lines]  # fails on any line that is not JSON
    assert events and all({"ts", "level", "run_id", "stage", "event", "message"} <= e.keys() for e in events)
    run_ids = {e["run_id"] for e in events}
    assert len(run_ids) == 1 and run_ids == {pub.current_version(two_runs.warehouse / pub.PUBLISHED_DIR)}
    finished = {e["stage"]: e for e in events if e["event"] == "stage_finished"}
    assert set(finished) == {"raw_gate", "dbt_build", "mart_gate"}
    assert all(e["success"] and e["seconds"] > 0 for e in finished.values())
    assert finished["dbt_build"]["counts"]["pass"] > 100
    tables = {e["table"]: e["rows"] for e in events if e["event"] == "table_published"}
    assert tables["core.fct_customer"] > 0 and "rox.rox_scorecard_daily" in tables
    nodes = [e for e in events if e["event"] == "node_finished"]
    assert any(e["table"] == "base_web__events" and e["seconds"] >= 0 for e in nodes)
    assert events[-1]["event"] == "run_finished" and events[-1]["exit_code"] == 0
    assert "\x1b" not in two_runs.first_stdout and "\r" not in two_runs.first_stdout  # no progress line


def test_rerunning_the_same_load_date_changes_no_published_table(two_runs: TwoRuns) -> None:
    rerun = subprocess.run(
        _run_args(two_runs.raw, two_runs.work, "--load-date", two_runs.load_date),
        capture_output=True,
        text=True,
        env=_env(),
        timeout=900,
    )
    assert rerun.returncode == ExitCode.OK, rerun.stderr[-3000:]
    assert "serving file (BI):" in rerun.stdout and "Parquet export:" in rerun.stdout
    compiled = next((two_runs.work / "target" / "compiled").rglob("base_web__events.sql")).read_text()
    assert "rewritten_loads" in compiled, "the rerun should have been incremental"
    assert f"cast('{two_runs.load_date}' as date)" in compiled, "the rerun should have chosen the load"
    folder = two_runs.warehouse / pub.PUBLISHED_DIR
    first, second = (json.loads((folder / v / "manifest.json").read_text()) for v in pub.versions(folder))

    def checksums(manifest: dict) -> dict[str, tuple[int, str]]:
        return {
            f"{t['schema']}.{t['table']}": (t["rows"], t["content_checksum"])
            for t in manifest["tables"]
            if t["schema"] != "ops"  # the publish log grows by one row per run, by design
        }

    assert len(checksums(first)) >= 19
    assert checksums(second) == checksums(first)


def test_a_stale_lock_of_a_killed_run_is_taken_over_and_logged(tmp_path: Path) -> None:
    warehouse = tmp_path / "warehouse"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from insight_engine.runlock import RunLock; "
            f"RunLock({str(warehouse)!r}, run_id='killed-run').acquire(); print('locked', flush=True); "
            "time.sleep(600)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    assert holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockHeld, match=f"pid {holder.pid}"):
        RunLock(warehouse, run_id="too-early").acquire()
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=30)
    assert read_holder(warehouse).pid == holder.pid  # the dead run's record is still in the file
    res = CliRunner().invoke(
        main, ["run", "--raw-root", str(tmp_path / "nowhere"), "--warehouse-dir", str(warehouse)]
    )
    assert f"stale lock {warehouse / 'run.lock'} taken over: pid {holder.pid}" in res.output
    assert "killed-run" in res.output
    assert res.exit_code == ExitCode.USAGE  # then it ran, and stopped at the missing landing zone
    assert read_holder(warehouse) is None


@pytest.mark.parametrize(
    "args",
    [
        ["--load-date", "2026-9-30"],
        ["--load-date", "30.09.2026"],
        ["--since", "yesterday"],
        ["--since", "2026-02-30"],
        ["--since", "2026-09-01", "--load-date", "2026-09-30"],
        ["--full-refresh", "--load-date", "2026-09-30"],
    ],
    ids=["no-zero-padding", "dotted", "word", "no-such-day", "both", "with-full-refresh"],
)
def test_bad_dates_exit_2_before_anything_runs(tmp_path: Path, args: list[str]) -> None:
    warehouse = tmp_path / "warehouse"
    res = CliRunner().invoke(
        main, ["run", "--raw-root", str(tmp_path), "--warehouse-dir", str(warehouse), *args]
    )
    assert res.exit_code == ExitCode.USAGE, res.output
    assert "YYYY-MM-DD" in res.output or "pass one" in res.output
    assert not warehouse.exists(), "nothing (lock, publish log, SQL) may run on bad arguments"


def test_a_missing_landing_zone_or_load_exits_2_and_says_what_is_missing(
    xs45_raw: Path, tmp_path: Path
) -> None:
    missing = CliRunner().invoke(
        main, ["run", "--raw-root", str(tmp_path / "nope"), "--warehouse-dir", str(tmp_path / "wh")]
    )
    assert missing.exit_code == ExitCode.USAGE
    assert f"landing zone {tmp_path / 'nope'} does not exist" in missing.output
    not_landed = CliRunner().invoke(
        main,
        [
            "run",
            "--raw-root",
            str(xs45_raw),
            "--warehouse-dir",
            str(tmp_path / "wh"),
            "--load-date",
            "2031-01-01",
        ],
    )
    assert not_landed.exit_code == ExitCode.USAGE
    assert (
        "no load 2031-01-01" in not_landed.output
        and f"newest load: {_newest_load(xs45_raw)}" in not_landed.output
    )
    assert "rerun when it has" in not_landed.output


@pytest.mark.parametrize(
    ("failed_gate", "code"),
    [
        ("raw_gate", ExitCode.RAW_GATE),
        ("dbt_build", ExitCode.BUILD),
        ("mart_gate", ExitCode.MART_GATE),
        ("publish", ExitCode.PUBLISH),
    ],
)
def test_each_failed_stage_has_its_own_exit_code_and_says_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failed_gate: str, code: ExitCode
) -> None:
    """The stages really fail in test_publish.py; here: each failure reaches cron as its own code."""

    def failing_run(paths: pipeline.Paths, **kwargs) -> pipeline.RunResult:
        return pipeline.RunResult(
            run_id=kwargs["run_id"], published=False, failed_gate=failed_gate, message="x"
        )

    monkeypatch.setattr(pipeline, "run", failing_run)
    res = CliRunner().invoke(
        main, ["run", "--raw-root", str(tmp_path), "--warehouse-dir", str(tmp_path / "wh")]
    )
    assert res.exit_code == code
    assert f"exit {int(code)} ({MEANING[code][0]}): {MEANING[code][1]}" in res.output


def test_exit_codes_are_documented_in_readme_and_help() -> None:
    help_text = CliRunner().invoke(main, ["run", "--help"]).output
    for code, (meaning, _) in MEANING.items():
        assert f"{int(code)}  {meaning}" in help_text
        row = re.search(rf"^\| `{int(code)}` \|(.+)$", README, re.MULTILINE)
        assert row, f"README has no exit-code row for {int(code)}"
    assert len(set(ExitCode)) == len({int(c) for c in ExitCode}) == 8


def test_progress_line_only_on_a_terminal(tmp_path: Path) -> None:
    """In a terminal the run shows a progress line (stage, elapsed); piped (cron) it shows none."""
    args = _cli("run", "--raw-root", tmp_path / "nope", "--warehouse-dir", tmp_path / "wh")
    piped = subprocess.run(args, capture_output=True, text=True, env=_env(), timeout=120)
    assert piped.returncode == ExitCode.USAGE and "\x1b[2K" not in piped.stdout + piped.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(args, stdout=follower, stderr=subprocess.PIPE, env=_env())
    os.close(follower)
    shown = b""
    while True:
        ready, _, _ = select.select([leader], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the terminal closed: the run ended
            break
        if not chunk:
            break
        shown += chunk
    assert proc.wait(timeout=60) == ExitCode.USAGE
    os.close(leader)
    assert re.search(rb"\x1b\[2K\[\s*\d+s\] (run|landing_zone)", shown), shown


def test_progress_counts_dbt_nodes() -> None:
    class Tty:
        def __init__(self) -> None:
            self.text = ""

        def isatty(self) -> bool:
            return True

        def write(self, s: str) -> None:
            self.text += s

        def flush(self) -> None:
            pass

    tty = Tty()
    progress = runlog.Progress(tty, interval=60)  # type: ignore[arg-type]
    progress.start()
    progress.on_event("dbt_build", "nodes_planned", {"nodes_total": 487, "nodes_done": 0})
    progress.on_event("dbt_build", "node_finished", {"nodes_total": 487, "nodes_done": 180})
    assert runlog.wants_progress("human", tty) and not runlog.wants_progress("json", tty)  # type: ignore[arg-type]
    assert tty.text.endswith("dbt_build 180/487 nodes") and "\r\x1b[2K[" in tty.text
    progress.stop()
    assert tty.text.endswith("\r\x1b[2K")  # the line is wiped when the run ends


def _code_blocks(heading: str, language: str) -> list[str]:
    section = README.split(heading, 1)[1].split("\n## ", 1)[0]
    return re.findall(rf"```{language}\n(.*?)```", section, re.DOTALL)


def test_readme_airflow_and_dagster_snippets_parse_and_call_the_job() -> None:
    snippets = _code_blocks("## The scheduled job", "python")
    assert len(snippets) >= 2
    for code in snippets:
        tree = ast.parse(code)
        assert "insight-engine" in code and "run" in code
        assert any(isinstance(n, ast.Call) for n in ast.walk(tree))
    airflow = next(s for s in snippets if "BashOperator" in s)
    dagster = next(s for s in snippets if "@asset" in s or "dg.asset" in s)
    assert "--load-date" in airflow and "{{ ds }}" in airflow
    assert "skip_on_exit_code" in airflow and str(int(ExitCode.LOCKED)) in airflow
    assert "returncode" in dagster or "check=" in dagster
    cron = [line for line in _code_blocks("## The scheduled job", "cron")[0].splitlines() if line.strip()]
    schedule = [line for line in cron if not line.startswith("#")]
    assert schedule and len(schedule[0].split()[:5]) == 5 and "insight-engine run" in schedule[0]


def test_since_and_load_date_rewrite_the_chosen_old_load(xs45_raw: Path, tmp_path: Path) -> None:
    """A load corrected far back: the lookback misses it, `--since` and `--load-date` pick it up, and the
    incremental table then equals a full refresh of the corrected landing zone."""
    from incremental_scenario import MODELS, SELECT

    from insight_engine.dbt import run_dbt

    day1 = tmp_path / "day1" / "web" / "events"
    shutil.copytree(xs45_raw / "web" / "events", day1)
    loads = sorted(d.name.split("=", 1)[1] for d in day1.glob("load_date=*"))
    old = loads[5]  # far beyond the 3-day lookback
    day2 = tmp_path / "day2" / "web" / "events"
    shutil.copytree(day1, day2)
    for f in (day2 / f"load_date={old}").glob("*.parquet"):
        table = pq.read_table(f, partitioning=None)
        pq.write_table(table.slice(10), f)  # the source re-delivered that load with 10 rows fewer

    def build(raw: Path, warehouse: Path, *args: str) -> list[str]:
        res = run_dbt(
            ["build", *SELECT, *args], raw_root=raw, warehouse=warehouse, target_path=tmp_path / "t"
        )
        return res.failures

    def rows(warehouse: Path) -> int:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            return con.execute(f"select count(*) from {MODELS[0]} where load_date = '{old}'").fetchone()[0]

    first, full = tmp_path / "day1.duckdb", tmp_path / "full.duckdb"
    assert build(day1.parents[1], first) == []
    assert build(day2.parents[1], full) == []
    assert rows(full) == rows(first) - 10
    outcomes = {}
    for name, chosen in {
        "lookback": {},
        "since": pipeline.load_selection_vars(date.fromisoformat(old), None),
        "load_date": pipeline.load_selection_vars(None, date.fromisoformat(old)),
    }.items():
        warehouse = tmp_path / f"{name}.duckdb"
        shutil.copyfile(first, warehouse)
        failures = build(day2.parents[1], warehouse, *(["--vars", json.dumps(chosen)] if chosen else []))
        outcomes[name] = (rows(warehouse), [f.split(".")[2].split("_stg")[0] for f in failures])
    assert outcomes == {
        # the lookback keeps the old version of the load, and raw = clean + quarantined catches it
        "lookback": (rows(first), ["rows_conserved"]),
        "since": (rows(full), []),
        "load_date": (rows(full), []),
    }
