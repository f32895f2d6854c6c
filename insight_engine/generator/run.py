"""One generation: the arguments checked, the world simulated shard by shard (the steps of each source
system in order), the planted defects added, every table written in the dialect, then the identity truth
and ``<out>/_manifest.json``."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import resource
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insight_engine import contract
from insight_engine.generator import commerce, crm, survey, web
from insight_engine.generator.defects import bad_counts, corrupt
from insight_engine.generator.survey import (
    SURVEY_METRICS,
    SURVEY_TOUCHPOINTS,
    SURVEYS,
    UNRATED_METRICS,
    keep_question_metrics,
)
from insight_engine.generator.world import (
    DEFAULT_END_DATE,
    SCALES,
    SHARED_TABLES,
    Knobs,
    World,
    persons,
    shard_count,
)
from insight_engine.generator.writer import (
    DEFAULT_DIALECT,
    DIALECTS,
    SPARSE_METRICS,
    LoadFiles,
    dialect_notes,
    source_timezones,
    sparse_frames,
    write_table,
)

log = logging.getLogger(__name__)

Frames = dict[str, pd.DataFrame]  # table key -> the frame a shard writes

# The simulation of one shard, in order: each step reads what the steps before it left on the world.
STEPS: list[tuple[str, Callable[[World], None]]] = [
    ("persons", persons),
    ("crm.customers", crm.customers),
    ("commerce.products", commerce.products),
    ("commerce.customers", commerce.customers),
    ("commerce.orders", commerce.orders),
    ("crm.cases", crm.cases),
    ("survey", survey.surveys),
    ("survey.responses", survey.invitations_responses_answers),
    ("experience effect", commerce.experience_effect),
    ("crm.interactions", crm.interactions),
    ("web.events", web.events),
]


@contextlib.contextmanager
def _closing(files: LoadFiles | None) -> Iterator[None]:
    """Close the load files after the last shard (their footers), and on an error too (the descriptors,
    without writing the rows still held: the generation failed, and its error is the one raised)."""
    failed = True
    try:
        yield
        failed = False
    finally:
        if files is not None:
            t = time.perf_counter()
            n = len(files)
            files.close(write_held=not failed)
            log.info("closed %d load files (one per table and load) in %.1fs", n, time.perf_counter() - t)


@contextlib.contextmanager
def _arrow_memory_pool() -> Iterator[None]:
    """Arrow allocates from jemalloc while the world is generated, where pyarrow is built with it.

    pyarrow's default pool on Linux is mimalloc, which hands freed memory back to the kernel soon; the
    generator allocates and frees gigabytes of column buffers a shard, so the kernel zeroed fresh pages
    again and again (a fifth of the generator's CPU time, in ``perf``). With jemalloc the system time of
    three l shards fell from 22-24 s to 12-15 s. The pool the process had is restored afterwards."""
    try:
        pool = pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        yield
        return
    previous = pa.default_memory_pool()
    pa.set_memory_pool(pool)
    try:
        yield
    finally:
        pa.set_memory_pool(previous)


@dataclass
class GenerationResult:
    out: Path
    rows: dict[str, int] = field(default_factory=dict)
    bad: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: float = 0.0
    dialect: str = DEFAULT_DIALECT
    source_timezones: str = ""

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


def check_survey_metrics(survey_metrics: Iterable[str] | str | None, dialect: str) -> tuple[str, ...]:
    """``survey_metrics`` checked and in canonical order (None: every metric); a ValueError names what is
    wrong. The CLI checks --survey-metrics with it before generating."""
    if survey_metrics is None:
        return SURVEY_METRICS
    if isinstance(survey_metrics, str):
        survey_metrics = [survey_metrics]
    asked = [str(m).strip().lower() for m in survey_metrics]
    unknown = sorted(set(asked) - set(SURVEY_METRICS))
    if unknown:
        raise ValueError(
            f"unknown survey metric(s) {', '.join(map(repr, unknown))}: "
            f"choose from {', '.join(SURVEY_METRICS)}"
        )
    if not asked:
        raise ValueError(f"--survey-metrics needs at least one of {', '.join(SURVEY_METRICS)}")
    metrics = tuple(m for m in SURVEY_METRICS if m in asked)
    if dialect == "sparse" and not set(metrics) & SPARSE_METRICS:
        raise ValueError(
            f"the sparse dialect writes only {', '.join(sorted(SPARSE_METRICS - UNRATED_METRICS))}: "
            f"survey metrics {', '.join(metrics)} would leave no rating question"
        )
    return metrics


def _dipped_metrics(survey_metrics: tuple[str, ...]) -> set[str]:
    """The metrics the planted dip lowers: NPS and CES, and CSAT in a programme without NPS."""
    return set(survey_metrics) & ({"nps", "ces"} if "nps" in survey_metrics else {"csat", "ces"})


def _check_dip(
    nps_dip: tuple[str, int, float], days: int, survey_metrics: tuple[str, ...] = SURVEY_METRICS
) -> None:
    touchpoint, n_days, points = nps_dip
    surveyed = sorted(set(SURVEY_TOUCHPOINTS.values()))
    if touchpoint not in surveyed:
        raise ValueError(
            f"--nps-dip touchpoint {touchpoint!r} has no survey: choose one of {', '.join(surveyed)}"
        )
    dipped = _dipped_metrics(survey_metrics)
    asked = {metric for _, _, _, tp, qs in SURVEYS if tp == touchpoint for metric, *_ in qs}
    if not asked & dipped:
        able = sorted({tp for _, _, _, tp, qs in SURVEYS for metric, *_ in qs if metric in dipped})
        raise ValueError(
            f"--nps-dip touchpoint {touchpoint!r} asks none of the metrics the dip lowers in this programme "
            f"({', '.join(sorted(dipped))}): choose one of {', '.join(able)}"
        )
    if not 1 <= n_days <= days:
        raise ValueError(f"--nps-dip days must be between 1 and the {days} days generated, got {n_days}")
    if not 0 < points <= 10:
        raise ValueError(f"--nps-dip points must be in (0, 10], got {points}")


def _simulate(w: World, shard: int, shards: int) -> None:
    """Run the simulation steps of one shard of the world, in order, logging each step's time."""
    part = f"shard {shard + 1}/{shards} " if shards > 1 else ""
    for i, (name, step) in enumerate(STEPS, start=1):
        t = time.perf_counter()
        step(w)
        log.info("%s[%d/%d] simulated %-20s %.1fs", part, i, len(STEPS), name, time.perf_counter() - t)


def _load_files(shards: int, dialect: str, n_tables: int, days: int) -> LoadFiles | None:
    """The one-file-per-load writer of a world in shards (:class:`LoadFiles`), or None: one shard writes
    each file whole, and CSV keeps a file per shard (its header and gzip stream are per file). Every load
    file of every table stays open until the last shard: the open-file limit is raised to fit them, and
    where the hard limit does not allow it each shard writes its own ``part-<n>`` files, as before."""
    if shards == 1 or dialect == "csv":
        return None
    need = n_tables * (days + 7) + 1024  # the loads' files, and room for everything else
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < need:
        target = need if hard == resource.RLIM_INFINITY else min(need, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            target = soft
        if target < need:
            log.warning(
                "each of the %d shards writes its own part file per load: the open-file limit (%d, "
                "hard %d) is below the %d files one file per load keeps open (raise it with ulimit -n)",
                shards,
                soft,
                hard,
                need,
            )
            return None
    return LoadFiles()


def generate(
    out: Path,
    scale: str = "xs",
    seed: int = 42,
    days: int | None = None,
    bad_rate: float = 0.0,
    end_date: date = DEFAULT_END_DATE,
    nps_dip: tuple[str, int, float] | None = None,
    dialect: str = DEFAULT_DIALECT,
    survey_metrics: Iterable[str] | None = None,
    knobs: Knobs = Knobs(),
) -> GenerationResult:
    """Generate the landing zone under ``out``; returns row counts and the bad-row manifest.

    ``nps_dip`` plants a known experience dip for alert tests: ``(touchpoint_id, last_n_days, points)``
    lowers the NPS answers (by ``points``) and CES answers (by ``points / 1.5``) of surveys at that
    touchpoint submitted in the last ``last_n_days`` days of the window; in a programme without NPS it
    lowers the CSAT answers too (by ``points / 2.5``), so a CSAT-only world can show the dip. None (the
    default) leaves the data exactly as without the option.

    ``survey_metrics`` (a subset of :data:`SURVEY_METRICS`; None, the default, is all of them) is the survey
    programme: which rating questions the surveys ask. The world is the same; the questions of the other
    metrics and their answers are not written (comment and 'other' questions are always asked), and
    without NPS the CX team follows up the dissatisfied CSAT and difficult CES answers instead of NPS
    detractors. The default writes exactly what a generation without the option wrote.

    ``dialect`` (one of :data:`DIALECTS`) is how the world is written, never what it is: for one seed every
    dialect holds the same people, orders and answers. ``iso`` (the default) is the generator's own format;
    ``naive``, ``native``, ``csv`` and ``sparse`` write it as real exports do (see :data:`DIALECTS`). The
    manifest names the dialect, the ``SOURCE_TIMEZONES`` a reader must set (``source_timezones``) and what
    the dialect changes (``dialect_notes``).
    """
    if scale not in SCALES:
        raise ValueError(f"unknown scale {scale!r}: choose one of {', '.join(SCALES)}")
    if dialect not in DIALECTS:
        raise ValueError(f"unknown dialect {dialect!r}: choose one of {', '.join(DIALECTS)}")
    if not 0 <= bad_rate < 0.5:
        raise ValueError(f"--bad-rate must be in [0, 0.5), got {bad_rate}")
    days = days or SCALES[scale]["days"]
    if days < 30:
        raise ValueError(f"--days must be at least 30 (got {days}): surveys and orders need a history")
    metrics = check_survey_metrics(survey_metrics, dialect)
    if nps_dip is not None:
        _check_dip(nps_dip, days, metrics)
    knobs.check()
    tables = contract.tables()  # read (and checked) before minutes of simulation, not after
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = GenerationResult(out=out)
    manifest: dict[str, dict[str, int]] = {}
    truth: list[pd.DataFrame] = []
    id_next: dict[str, int] = {}
    shards = shard_count(scale)
    files = _load_files(shards, dialect, len(tables), days)

    def write_shard(shard: int, frames: Frames, shard_bad: dict[str, dict[str, int]]) -> None:
        for key, table in tables.items():
            path = out / table.system / table.name
            if key not in frames:  # a table this dialect's export does not have: no folder at all
                if path.exists():
                    shutil.rmtree(path)
                continue
            if shard > 0 and key in SHARED_TABLES:
                continue
            t = time.perf_counter()
            n = write_table(frames[key], table, path, dialect, end_date, part=shard, files=files)
            result.rows[key] = result.rows.get(key, 0) + n
            if key in shard_bad:
                counts = bad_counts(frames[key], list(shard_bad[key]))
                total = manifest.setdefault(key, dict.fromkeys(counts, 0))
                for kind, count in counts.items():
                    total[kind] = total.get(kind, 0) + count
            dt = time.perf_counter() - t
            log.info("wrote (or held) %-22s %10d rows  %8.0f rows/s", key, n, n / max(dt, 1e-9))
        if files is not None and shard == shards - 1:  # the rows still held, on this thread, not after it
            t = time.perf_counter()
            files.flush()
            log.info("wrote the rows held for the load files in %.1fs", time.perf_counter() - t)

    # A shard is written by one thread while the next is simulated: the simulation is mostly one core of
    # numpy, the writing mostly Arrow encoding that releases the GIL, so the two overlap on two cores. At
    # most two shards are in memory (the one being written, the one being simulated); shards are written in
    # order, one at a time, so shard 0 still replaces each table's folder before the others add to it.
    # The load files close after the writer thread has stopped (contexts exit last to first).
    with (
        _arrow_memory_pool(),
        _closing(files),
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="shard-writer") as writer,
    ):
        writing: Future[None] | None = None
        for shard in range(shards):
            w = World(
                scale,
                seed,
                days,
                end_date,
                metrics,
                nps_dip=nps_dip,
                knobs=knobs,
                shard=shard,
                id_next=id_next,
            )
            _simulate(w, shard, shards)
            if metrics != SURVEY_METRICS:  # before corrupt(): the bad rows are copies of what is written
                w.tables = keep_question_metrics(w.tables, frozenset(metrics) | UNRATED_METRICS)
            shard_bad = corrupt(w, bad_rate)
            frames = sparse_frames(w.tables) if dialect == "sparse" else w.tables
            truth.extend(w.truth)
            start_date = w.start_date
            del w  # the frames live on until their shard is written
            if writing is not None:
                writing.result()  # the previous shard is written (and its error, if any, raised here)
            writing = writer.submit(write_shard, shard, frames, shard_bad)
            del frames
        if writing is not None:
            writing.result()
    truth_dir = out / ".truth"
    truth_dir.mkdir(exist_ok=True)
    pq.write_table(
        pa.Table.from_pandas(pd.concat(truth, ignore_index=True), preserve_index=False),
        truth_dir / "identities.parquet",
    )
    result.bad = manifest
    result.dialect = dialect
    result.source_timezones = source_timezones(dialect)
    result.seconds = time.perf_counter() - started
    dip_note = {} if nps_dip is None else {"nps_dip": list(nps_dip)}
    if knobs != Knobs():
        dip_note["knobs"] = dataclasses.asdict(knobs)
    (out / "_manifest.json").write_text(
        json.dumps(
            {
                **dip_note,
                "scale": scale,
                "seed": seed,
                "days": days,
                "start_date": start_date.isoformat(),
                "end_date": end_date.isoformat(),
                "bad_rate": bad_rate,
                "dialect": dialect,
                "dialect_notes": dialect_notes(dialect),
                "source_timezones": result.source_timezones,
                # the rating metrics written (the sparse dialect writes CSAT only)
                "survey_metrics": [m for m in metrics if dialect != "sparse" or m in SPARSE_METRICS],
                "rows": result.rows,
                "bad_rows": manifest,
                "seconds": round(result.seconds, 2),
            },
            indent=2,
            sort_keys=True,
        )
    )
    log.info(
        "generated %d rows (%s dialect) in %.1fs (%.0f rows/s) into %s",
        result.total_rows,
        dialect,
        result.seconds,
        result.total_rows / max(result.seconds, 1e-9),
        out,
    )
    return result
