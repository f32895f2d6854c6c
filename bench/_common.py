"""Helpers shared by the bench scripts: a child process's wall time and the peak memory of its process tree,
the scheduled job's per-stage seconds from its JSON log, what machine the figures come from, and the
daily-load scripts' arguments and landing zone."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
GB = 1024**3


def setup_logging() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S", force=True
    )


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids += [int(c) for c in f.read().split()]
    except OSError:  # the process ended between two reads
        pass
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants, summed (/proc)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(p)
    return total


@dataclass
class Measured:
    """A finished child process: exit code, wall seconds, the peak of its process tree's summed RSS."""

    cmd: list[str]
    returncode: int
    wall_s: float
    peak_rss: int
    stdout: str
    stderr: str
    started_at: float = 0.0  # time.time() at launch
    ended_at: float = 0.0
    peak_at: float = 0.0  # time.time() of the sample that found the peak
    extra: dict = field(default_factory=dict)

    @property
    def peak_rss_gb(self) -> float:
        return self.peak_rss / GB


def measure(
    cmd: list[str], *, env: dict | None = None, cwd: Path | None = None, poll: float = 0.2
) -> Measured:
    """Run ``cmd``; poll /proc every ``poll`` seconds for the summed RSS of its whole process tree."""
    started_at, t = time.time(), time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out: dict[str, str] = {}

    def drain(name: str, stream) -> None:  # read the pipes while polling, or a chatty child blocks
        out[name] = stream.read()

    readers = [
        threading.Thread(target=drain, args=(n, s), daemon=True)
        for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
    ]
    for r in readers:
        r.start()
    peak, peak_at = 0, started_at
    while proc.poll() is None:
        rss = tree_rss(proc.pid)
        if rss > peak:
            peak, peak_at = rss, time.time()
        time.sleep(poll)
    wall = time.perf_counter() - t
    for r in readers:
        r.join()
    ended_at = time.time()
    stdout, stderr = out["stdout"], out["stderr"]
    return Measured(cmd, proc.returncode, wall, peak, stdout, stderr, started_at, ended_at, peak_at)


def _ts(event: dict) -> float:
    return datetime.fromisoformat(event["ts"]).timestamp()


def events(stdout: str) -> list[dict]:
    """The JSON objects of ``insight-engine run --log-format json`` (one per stdout line)."""
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def stage_seconds(run: Measured) -> dict[str, float]:
    """Wall seconds per stage of one `insight-engine run --log-format json`, from its events' timestamps.

    ``startup`` (launch to run_started: imports, crash recovery), ``raw_gate``, ``ledger`` (raw gate's end
    to dbt's start: importing dbt, fingerprinting the landing zone), ``dbt_build``, ``mart_gate``,
    ``publish`` (to run_finished) and ``exit`` (run_finished to the process's end). A stage that did not run
    is absent.
    """
    marks: dict[tuple[str, str], float] = {}
    for e in events(run.stdout):
        key = (e.get("stage"), e.get("event"))
        if key[1] in {"run_started", "run_finished", "stage_started", "stage_finished"}:
            marks.setdefault(key, _ts(e))
    spans = {
        "startup": (run.started_at, marks.get(("run", "run_started"))),
        "raw_gate": (marks.get(("raw_gate", "stage_started")), marks.get(("raw_gate", "stage_finished"))),
        "ledger": (
            marks.get(("raw_gate", "stage_finished"), marks.get(("run", "run_started"))),
            marks.get(("dbt_build", "stage_started")),
        ),
        "dbt_build": (marks.get(("dbt_build", "stage_started")), marks.get(("dbt_build", "stage_finished"))),
        "mart_gate": (marks.get(("mart_gate", "stage_started")), marks.get(("mart_gate", "stage_finished"))),
        "publish": (marks.get(("publish", "stage_started")), marks.get(("run", "run_finished"))),
        "exit": (marks.get(("run", "run_finished")), run.ended_at),
    }
    return {name: round(b - a, 2) for name, (a, b) in spans.items() if a is not None and b is not None}


def stage_at(run: Measured, moment: float) -> str | None:
    """The stage of `insight-engine run --log-format json` (as in :func:`stage_seconds`) at ``moment``."""
    first = run.started_at
    for name, seconds in stage_seconds(run).items():
        if first <= moment < first + seconds:
            return name
        first += seconds
    return None


def nodes_running_at(run_results: Path, moment: float) -> list[str]:
    """The dbt nodes (models, tests) whose run spans ``moment`` (a time.time()), from run_results.json."""
    running = []
    for r in json.loads(run_results.read_text())["results"]:
        spans = [t for t in r.get("timing", []) if t.get("started_at") and t.get("completed_at")]
        if not spans:
            continue
        begin = min(datetime.fromisoformat(t["started_at"].replace("Z", "+00:00")).timestamp() for t in spans)
        end = max(datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00")).timestamp() for t in spans)
        if begin <= moment <= end:
            running.append(r["unique_id"].split(".", 2)[-1])
    return running


def machine() -> dict[str, object]:
    """Cores, RAM and CPU model from /proc."""
    info: dict[str, object] = {"cores": os.cpu_count()}
    try:
        mem = Path("/proc/meminfo").read_text()
        kb = next(int(line.split()[1]) for line in mem.splitlines() if line.startswith("MemTotal:"))
        info["ram_gb"] = round(kb / 1024**2, 1)
    except (OSError, StopIteration):
        pass
    try:
        cpu = Path("/proc/cpuinfo").read_text()
        info["cpu"] = next(line.split(":", 1)[1].strip() for line in cpu.splitlines() if "model name" in line)
    except (OSError, StopIteration):
        pass
    try:
        info["affinity_cores"] = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        pass
    return info


def daily_load_bench(
    description: str, prefix: str, more: Callable[[argparse.ArgumentParser], None] | None = None
) -> tuple[argparse.Namespace, Path, Path]:
    """The arguments, working folder and landing zone of a script that times one new load against the rest
    (`--scale`, `--raw`, `--work`, `--rounds`, and what ``more`` adds); the zone is generated when neither
    exists."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--scale", default="m", help="generator scale when --raw is not given")
    parser.add_argument(
        "--raw", type=Path, help="an existing landing zone (its newest load is moved out and back)"
    )
    parser.add_argument("--work", type=Path, help="working folder (default: a temporary one)")
    parser.add_argument("--rounds", type=int, default=2)
    if more is not None:
        more(parser)
    args = parser.parse_args()
    setup_logging()
    logging.getLogger("insight_engine").setLevel(logging.WARNING)
    work = args.work or Path(tempfile.mkdtemp(prefix=prefix))
    work.mkdir(parents=True, exist_ok=True)
    raw = args.raw or work / "raw"
    if not raw.exists():
        from insight_engine.generate import generate

        logging.getLogger("bench").info("generating scale %s into %s", args.scale, raw)
        generate(raw, scale=args.scale)
    return args, work, raw


def newest_load(raw: Path) -> str:
    """The newest `load_date=...` folder name of a landing zone."""
    return sorted({p.name for p in raw.glob("*/*/load_date=*")})[-1]


def move_load(src: Path, dst: Path, name: str) -> int:
    """Move every table's folder ``name`` (a `load_date=...`) from zone ``src`` to ``dst``: how many."""
    moved = 0
    for folder in sorted(src.glob(f"*/*/{name}")):
        target = dst / folder.relative_to(src)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(folder, target)
        moved += 1
    return moved


def job_command(raw: Path, wh: Path, *extra: str) -> list[str]:
    """`insight-engine run` on landing zone ``raw`` into warehouse folder ``wh``, its gates and dbt target
    inside it, logging JSON (what :func:`stage_seconds` reads)."""
    raw, wh = Path(raw).resolve(), Path(wh).resolve()  # the job runs in another folder (run_job)
    cmd = [sys.executable, "-m", "insight_engine.cli", "run", "--raw-root", str(raw)]
    cmd += ["--warehouse-dir", str(wh), "--gates-dir", str(wh / "gates"), "--target-path", str(wh / "target")]
    return [*cmd, "--log-format", "json", *extra]


def job_folder(wh: Path) -> Path:
    """The folder a job runs in: the warehouse folder's parent, never the repository. ``python -m`` puts
    the working folder first on ``sys.path``, so a job started in the repository imported its
    ``insight_engine`` whatever ``PYTHONPATH`` named (and the editable install's finder comes after
    ``PYTHONPATH`` only outside it)."""
    folder = Path(wh).resolve().parent
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def env_pairs(pairs: list[str]) -> dict[str, str]:
    """``NAME=VALUE`` arguments (the ``--a``/``--b`` environments of the A/B scripts) as a dict."""
    env = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise SystemExit(f"expected NAME=VALUE, got {pair!r}")
        env[name] = value
    return env


def imported_from(wh: Path, env: dict[str, str] | None = None) -> Path:
    """The folder of the ``insight_engine`` package a job with ``env`` imports (checked, not assumed)."""
    out = subprocess.run(
        [sys.executable, "-c", "import insight_engine; print(insight_engine.__file__)"],
        env={**os.environ, **(env or {})},
        cwd=job_folder(wh),
        capture_output=True,
        text=True,
        check=True,
    )
    return Path(out.stdout.strip()).parent


def run_job(raw: Path, wh: Path, *extra: str, env: dict[str, str] | None = None) -> dict[str, float]:
    """:func:`job_command` with ``env`` added to this environment: its wall seconds per stage and in
    total, and the peak RSS of its process tree (`peak_rss_gb`)."""
    cmd = job_command(raw, wh, *extra)
    shown = [f"{k}={v}" for k, v in (env or {}).items()] + ["insight-engine", *cmd[3:]]
    logging.getLogger("bench").info("%s", " ".join(shown))
    run = measure(cmd, env={**os.environ, **(env or {})}, cwd=job_folder(wh))
    if run.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({run.returncode}):\n{run.stderr[-3000:]}")
    stages = stage_seconds(run)
    stages["total"] = round(run.wall_s, 2)
    stages["peak_rss_gb"] = round(run.peak_rss_gb, 2)
    logging.getLogger("bench").info("stages (s): %s", stages)
    return stages
