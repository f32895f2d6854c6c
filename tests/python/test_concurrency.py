"""Concurrency (issue 15, item 3): readers while the job builds and publishes, and an analytics engineer's
`dbt build` on the warehouse the scheduled job is building. (Two scheduled runs at once:
`test_scheduled_job.py`: the second exits at once with code 7, naming the first.)

Day A is published; day B's run (different marts) then runs while
* three reader processes read the serving file (every published table, checksummed) and one reads the
  Parquet version `published/CURRENT` names, in a loop, from before the run starts until after it ends;
* an analytics engineer runs `dbt build` on the same build warehouse twice: during the raw gate (when the
  job does not have the DuckDB file open, so DuckDB's own lock would not stop it) and during the job's
  `dbt build`.
Every read must succeed and see a whole version, A or B; both dbt commands must stop with an error that
names the job, before touching the file; the job must publish B as if alone. Then the other way round: a
hand-run `dbt build` first (it takes the run lock), and a scheduled run started meanwhile exits 7 at once
naming it, while the dbt build finishes undisturbed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from warehouse_state import (
    PROJECT_DIR,
    build_checksums,
    copy_zone,
    env,
    job_args,
    landing_loads,
    run_job,
    serving_checksums,
)

from insight_engine.exitcodes import ExitCode

SERVING_READERS = 3
READER = r"""
import json, sys, time
from pathlib import Path
import duckdb
sys.path.insert(0, sys.argv[3])
from warehouse_state import current_version_checksums, serving_checksums
warehouse, kind = Path(sys.argv[1]), sys.argv[2]
stop = warehouse.parent / "stop_readers"
while True:
    last = stop.exists()  # one more whole read after the stop file: the last read starts after the job
    try:
        state = serving_checksums(warehouse) if kind == "serving" else current_version_checksums(warehouse)[1]
        print(json.dumps({"ok": True, "state": {k: list(v) for k, v in state.items()}}), flush=True)
    except Exception as exc:
        print(json.dumps({"ok": False, "error": f"{type(exc).__name__}: {exc}"}), flush=True)
    if last:
        break
    time.sleep(0.05)
"""


@dataclass
class Concurrent:
    state_a: dict
    state_b: dict
    job_rc: int
    job_events: list[dict]
    reads: dict[str, list[dict]] = field(default_factory=dict)
    analyst: dict[str, subprocess.CompletedProcess] = field(default_factory=dict)
    build_after: dict = field(default_factory=dict)


def _analyst_dbt(warehouse: Path, raw: Path, work: Path) -> subprocess.CompletedProcess:
    """`dbt build` as an analytics engineer types it in the project folder, on the job's warehouse."""
    dbt = Path(sys.executable).with_name("dbt")
    return subprocess.run(
        [str(dbt), "build", "--target-path", str(work / "analyst_target"), "--log-path", str(work / "logs")],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        env=env(
            DBT_PROFILES_DIR=str(PROJECT_DIR),
            INSIGHT_WAREHOUSE=str(warehouse / "insight_engine.duckdb"),
            RAW_ROOT=str(raw),
        ),
    )


@pytest.fixture(scope="module")
def concurrent(xs45_raw: Path, tmp_path_factory: pytest.TempPathFactory) -> Concurrent:
    work = tmp_path_factory.mktemp("concurrent")
    day_a = copy_zone(xs45_raw, work / "day_a", without=set(landing_loads(xs45_raw)[-2:]))
    first = run_job(day_a, work)
    assert first.returncode == ExitCode.OK, first.stderr[-3000:]
    warehouse = work / "warehouse"
    state_a = serving_checksums(warehouse)

    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(warehouse), kind, str(Path(__file__).parent)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        for kind in ["serving"] * SERVING_READERS + ["parquet"]
    ]
    time.sleep(2)  # the readers are reading before the job starts
    job = subprocess.Popen(
        job_args(xs45_raw, work), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env()
    )
    events: list[dict] = []
    seen = {"raw_gate": threading.Event(), "dbt_build": threading.Event()}

    def follow() -> None:
        for line in job.stdout:
            if line.startswith("{"):
                event = json.loads(line)
                events.append(event)
                if event.get("event") == "stage_started" and event.get("stage") in seen:
                    seen[event["stage"]].set()
                if event.get("event") == "node_finished":
                    seen["dbt_build"].set()

    follower = threading.Thread(target=follow, daemon=True)
    follower.start()
    analyst = {}
    assert seen["raw_gate"].wait(120), "the job never reached its raw gate"
    analyst["during the raw gate"] = _analyst_dbt(warehouse, xs45_raw, work)
    assert seen["dbt_build"].wait(300), "the job never reached dbt build"
    analyst["during the job's dbt build"] = _analyst_dbt(warehouse, xs45_raw, work)
    job_rc = job.wait(timeout=900)
    follower.join(timeout=30)
    job.stderr.read()
    (work / "stop_readers").touch()  # each reader reads once more, after the job ended
    reads = {}
    for i, reader in enumerate(readers):
        out, err = reader.communicate(timeout=120)
        kind = "parquet" if i == SERVING_READERS else f"serving {i + 1}"
        reads[kind] = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        assert reader.returncode == 0, err[-2000:]
    return Concurrent(
        state_a=state_a,
        state_b=serving_checksums(warehouse),
        job_rc=job_rc,
        job_events=events,
        reads=reads,
        analyst=analyst,
        build_after=build_checksums(warehouse),
    )


def test_the_job_published_day_b_while_everything_else_went_on(concurrent: Concurrent) -> None:
    assert concurrent.job_rc == ExitCode.OK, concurrent.job_events[-3:]
    assert concurrent.state_b != concurrent.state_a


def test_every_read_during_the_build_and_the_publish_succeeded_and_saw_a_whole_version(
    concurrent: Concurrent,
) -> None:
    versions = {"A": concurrent.state_a, "B": concurrent.state_b}
    for reader, reads in concurrent.reads.items():
        assert len(reads) >= 20, f"{reader} read only {len(reads)} times: the test proves little"
        failed = [r["error"] for r in reads if not r["ok"]]
        assert not failed, f"{reader}: {failed[:3]}"
        seen = []
        for r in reads:
            state = {k: tuple(v) for k, v in r["state"].items()}
            match = [name for name, version in versions.items() if state == version]
            assert match, f"{reader} saw a state that is neither A nor B"
            seen.append(match[0])
        assert seen[0] == "A" and seen[-1] == "B", (
            f"{reader} should have seen A, then B: {seen[0]} .. {seen[-1]}"
        )
        assert seen == sorted(seen), f"{reader} went back from B to A"
    counts = {reader: len(reads) for reader, reads in concurrent.reads.items()}
    print(f"reads per reader: {counts}, {sum(counts.values())} in all")  # RELIABILITY.md quotes it (-rP)


@pytest.mark.parametrize("when", ["during the raw gate", "during the job's dbt build"])
def test_an_analysts_dbt_build_during_the_job_stops_with_a_clear_error(
    concurrent: Concurrent, when: str
) -> None:
    res = concurrent.analyst[when]
    assert res.returncode != 0
    out = res.stdout + res.stderr
    assert "is being built by the scheduled insight-engine job" in out, out[-3000:]
    assert "this dbt command did nothing" in out
    assert "INSIGHT_WAREHOUSE=" in out  # the way out


def test_the_build_warehouse_holds_exactly_what_was_published(concurrent: Concurrent) -> None:
    # nothing wrote to the build warehouse between the job's build and its end (the analyst's dbt did not)
    assert "staging.base_web__events" in concurrent.build_after
    published = {
        k: v for k, v in concurrent.build_after.items() if k.split(".")[0] in {"core", "rox", "quality"}
    }
    assert published == {k: v for k, v in concurrent.state_b.items() if k in published}
