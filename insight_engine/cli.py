"""The one command scheduled jobs call: ``insight-engine generate|build|...``."""

from __future__ import annotations

import logging
import re
import sys
from datetime import date
from pathlib import Path

import click

from insight_engine import generate as gen
from insight_engine import pipeline, runlog
from insight_engine import publish as pub
from insight_engine.exitcodes import MEANING, ExitCode, help_table
from insight_engine.inputs import UnsafeValue, check_path
from insight_engine.runlock import LockHeld, RunLock


class _SafePath(click.Path):
    """A folder or file path this job may put into SQL: refused (exit 2) if it holds a quote, a glob or
    control character (insight_engine/inputs.py)."""

    def convert(self, value, param, ctx):  # type: ignore[no-untyped-def]
        what = param.opts[-1] if param is not None and param.opts else "path"
        try:
            check_path(value, what)  # first: click's own check would crash on a NUL byte (exit 1)
        except UnsafeValue as exc:
            self.fail(str(exc), param, ctx)
        return super().convert(value, param, ctx)


SAFE_PATH = _SafePath(path_type=Path)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """insight_engine: generate data, build, validate, publish and report the RoX warehouse."""
    ctx.obj = {"verbose": verbose}
    runlog.setup("human", verbose=verbose)


def _parse_nps_dip(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, int, float] | None:
    """``TP-DELIVERY:30:4`` -> ("TP-DELIVERY", 30, 4.0)."""
    if value is None:
        return None
    parts = value.rsplit(":", 2)
    try:
        touchpoint, n_days, points = parts
        return touchpoint, int(n_days), float(points)
    except ValueError:
        raise click.BadParameter(
            f"expected TOUCHPOINT:DAYS:POINTS (e.g. TP-DELIVERY:30:4), got {value!r}"
        ) from None


def _parse_survey_metrics(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> tuple[str, ...] | None:
    """``csat,ces`` -> ("csat", "ces"); unknown names are a usage error."""
    if value is None:
        return None
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    try:
        return gen.check_survey_metrics(names, dialect="iso")
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


@main.command()
@click.option("--scale", type=click.Choice(list(gen.SCALES)), default="xs", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--days", type=int, default=None, help="Days of history (default depends on scale).")
@click.option(
    "--end-date",
    type=click.DateTime(["%Y-%m-%d"]),
    default=str(gen.DEFAULT_END_DATE),
    show_default=True,
    help="Last load date.",
)
@click.option(
    "--bad-rate",
    type=float,
    default=0.0,
    show_default=True,
    help="Share of rows added as corrupted copies (counted in _manifest.json).",
)
@click.option("--out", type=SAFE_PATH, default=Path("data/raw"), show_default=True)
@click.option(
    "--nps-dip",
    callback=_parse_nps_dip,
    default=None,
    metavar="TOUCHPOINT:DAYS:POINTS",
    help="Plant an experience dip for alert tests, e.g. TP-DELIVERY:30:4: NPS answers at the "
    "touchpoint in the last DAYS days lose POINTS (CES answers POINTS / 1.5; in a programme without "
    "NPS, CSAT answers POINTS / 2.5).",
)
@click.option(
    "--dialect",
    type=click.Choice(list(gen.DIALECTS)),
    default=gen.DEFAULT_DIALECT,
    show_default=True,
    help="How the same world is written: "
    + "; ".join(f"{name}: {what}" for name, what in gen.DIALECTS.items())
    + ". The manifest's source_timezones is the SOURCE_TIMEZONES a run must set.",
)
@click.option(
    "--survey-metrics",
    callback=_parse_survey_metrics,
    default=None,
    metavar="METRIC[,METRIC...]",
    help="The survey programme: which rating questions are asked, a comma list of "
    + ",".join(gen.SURVEY_METRICS)
    + " (default: all). The same world; the other metrics' questions and answers are not written.",
)
@click.option(
    "--marketplace-penalty",
    type=float,
    default=0.0,
    show_default=True,
    help="Planted driver (tests): answers about marketplace orders lose this many NPS points.",
)
@click.option(
    "--app-for-frequent-buyers",
    is_flag=True,
    help="Confounded driver (tests): frequent buyers order online through the app; the channel does nothing.",
)
@click.option(
    "--experience-effect",
    type=float,
    default=0.0,
    show_default=True,
    help="Causal effect (tests): orders after a promoter experience are worth 1+E times, after a "
    "detractor one 1-E times.",
)
@click.option(
    "--churn-by-satisfaction",
    type=float,
    default=gen.Knobs.churn_by_satisfaction,
    show_default=True,
    help="How strongly latent satisfaction lengthens customer life (0: all churn alike).",
)
def generate(
    scale: str,
    seed: int,
    days: int | None,
    end_date,
    bad_rate: float,
    out: Path,
    nps_dip: tuple[str, int, float] | None,
    dialect: str,
    survey_metrics: tuple[str, ...] | None,
    marketplace_penalty: float,
    app_for_frequent_buyers: bool,
    experience_effect: float,
    churn_by_satisfaction: float,
) -> None:
    """Write a synthetic landing zone (hive-partitioned files, one partition per day)."""
    try:
        result = gen.generate(
            out,
            scale=scale,
            seed=seed,
            days=days,
            bad_rate=bad_rate,
            end_date=date.fromisoformat(end_date.strftime("%Y-%m-%d")),
            nps_dip=nps_dip,
            dialect=dialect,
            survey_metrics=survey_metrics,
            knobs=gen.Knobs(
                marketplace_penalty=marketplace_penalty,
                app_for_frequent_buyers=app_for_frequent_buyers,
                experience_effect=experience_effect,
                churn_by_satisfaction=churn_by_satisfaction,
            ),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"{result.total_rows:,} rows in {result.seconds:.1f}s "
        f"({result.total_rows / max(result.seconds, 1e-9):,.0f} rows/s, {result.dialect}) -> {result.out}"
    )
    if result.source_timezones:
        click.echo(f"naive timestamps: run with SOURCE_TIMEZONES={result.source_timezones}")


def _paths(
    raw_root: Path,
    warehouse_dir: Path,
    gates_dir: Path = Path("build/gates"),
    target_path: Path = Path("target"),
) -> pipeline.Paths:
    return pipeline.Paths(
        raw_root=raw_root,
        build_warehouse=warehouse_dir / "insight_engine.duckdb",
        serving=warehouse_dir / "serving.duckdb",
        publish_log=warehouse_dir / "publish_log.duckdb",
        gates_dir=gates_dir,
        target_path=target_path,
        published_dir=warehouse_dir / pub.PUBLISHED_DIR,
    )


class _LoadDate(click.ParamType):
    """A load date written exactly ``YYYY-MM-DD``; anything else is refused before any SQL runs."""

    name = "YYYY-MM-DD"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        text = str(value)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
        self.fail(f"{text!r} is not a date written YYYY-MM-DD (e.g. 2026-09-30)", param, ctx)


LOAD_DATE = _LoadDate()


def _take_lock(ctx: click.Context, warehouse_dir: Path, run_id: str, command: str) -> RunLock:
    """The warehouse folder's run lock, or exit 7 naming the run that holds it."""
    try:
        lock = RunLock(warehouse_dir, run_id=run_id, command=command).acquire()
    except LockHeld as held:
        holder = held.holder
        runlog.event(
            "lock",
            "locked",
            str(held),
            level=logging.ERROR,
            exit_code=int(ExitCode.LOCKED),
            lock=str(held.path),
            holder_pid=holder.pid if holder else None,
            holder_host=holder.host if holder else None,
            holder_run_id=holder.run_id if holder else None,
            holder_started_at=holder.started_at if holder else None,
        )
        ctx.exit(int(ExitCode.LOCKED))
    if lock.taken_over is not None:
        dead = lock.taken_over
        runlog.event(
            "lock",
            "stale_lock_taken_over",
            f"stale lock {lock.path} taken over: {dead.describe()} ended without releasing it (killed?); "
            "its build warehouse may be half-built, this run rebuilds it (serving is never half-written)",
            level=logging.WARNING,
            dead_pid=dead.pid,
            dead_run_id=dead.run_id,
            dead_started_at=dead.started_at,
            lock=str(lock.path),
        )
    return lock


raw_root_option = click.option(
    "--raw-root",
    type=SAFE_PATH,
    default=Path("data/raw"),
    show_default=True,
    help="Landing zone (data/raw/<system>/<table>/load_date=.../*.parquet).",
)
warehouse_option = click.option(
    "--warehouse-dir",
    type=SAFE_PATH,
    default=Path("warehouse"),
    show_default=True,
    help="Folder of the build warehouse, the serving file and the publish log.",
)


@main.command()
@raw_root_option
@warehouse_option
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option(
    "--target",
    type=click.Choice(["duckdb", "spark_local", "spark_cluster"]),
    default="duckdb",
    show_default=True,
    envvar="DBT_TARGET",
    help="profiles.yml output. Spark targets build and test the warehouse; gates and publish are DuckDB's.",
)
@click.pass_context
def build(ctx: click.Context, raw_root: Path, warehouse_dir: Path, full_refresh: bool, target: str) -> None:
    """dbt build (models, seeds, snapshots and every dbt test) into the build warehouse."""
    from insight_engine.dbt import run_dbt  # slow to import: only the commands that build pay for it

    paths = _paths(raw_root, warehouse_dir)
    if target.startswith("spark") and not raw_root.exists():
        raise click.ClickException(
            f"--raw-root {raw_root} does not exist. For a landing zone on object storage (s3a://, abfss://, "
            "dbfs:/) run dbt directly with RAW_ROOT set (README, 'Running on Spark')."
        )
    lock = _take_lock(ctx, warehouse_dir, pub.new_run_id(), "build") if target == "duckdb" else None
    try:
        res = run_dbt(
            ["build"] + (["--full-refresh"] if full_refresh else []),
            raw_root=raw_root,
            warehouse=paths.build_warehouse,
            target_path=paths.target_path,
            target=target,
        )
    finally:
        if lock is not None:
            lock.release()
    if not res.success:
        raise click.ClickException("dbt build failed:\n  " + "\n  ".join(res.failures[:20]))
    where = paths.build_warehouse if target == "duckdb" else f"target {target}"
    click.echo(f"built {where}: {res.counts}")


@main.command()
@click.option("--stage", type=click.Choice(["raw", "marts"]), required=True)
@raw_root_option
@warehouse_option
@click.option("--out-dir", type=SAFE_PATH, default=Path("build/gates"), show_default=True)
@click.option(
    "--row-engine",
    type=click.Choice(["sql", "gx"]),
    default="sql",
    show_default=True,
    help="row-level checks as DuckDB aggregates with GX's semantics (sql) or in GX's pandas datasource "
    "(gx, the reference)",
)
def validate(stage: str, raw_root: Path, warehouse_dir: Path, out_dir: Path, row_engine: str) -> None:
    """Run a Great Expectations gate; exits non-zero and names what failed."""
    from insight_engine.validate import validate as run_gate

    res = run_gate(
        stage,
        raw_root=raw_root,
        warehouse=warehouse_dir / "insight_engine.duckdb",
        out_dir=out_dir,
        row_engine=row_engine,  # type: ignore[arg-type]
    )
    for line in res.reported[:20]:
        click.echo(f"reported: {line}")
    if not res.success:
        raise click.ClickException(
            f"{stage} gate failed ({len(res.failures)} blocking):\n  "
            + "\n  ".join(res.failures[:20])
            + f"\nDetails and Data Docs in {out_dir}"
        )
    click.echo(f"{stage} gate passed; Data Docs and results in {out_dir}")


keep_versions_option = click.option(
    "--keep-versions",
    type=click.IntRange(min=1),
    default=pub.DEFAULT_KEEP_VERSIONS,
    show_default=True,
    envvar="INSIGHT_KEEP_VERSIONS",
    help="Parquet versions kept under <warehouse-dir>/published/ (env INSIGHT_KEEP_VERSIONS).",
)


@main.command()
@warehouse_option
@keep_versions_option
@click.pass_context
def publish(ctx: click.Context, warehouse_dir: Path, keep_versions: int) -> None:
    """Publish the build warehouse's marts to the serving file and Parquet (no gates: prefer `run`)."""
    paths = _paths(Path("."), warehouse_dir)
    run_id = pub.new_run_id()
    lock = _take_lock(ctx, warehouse_dir, run_id, "publish")
    try:
        for note in pub.recover(
            paths.serving, paths.publish_log, paths.published_dir, by_run=f"publish {run_id}"
        ):
            runlog.event("publish", "recovered", note, level=logging.WARNING)
        res = paths.publish(run_id, keep_versions)
    except Exception as exc:
        click.echo(f"Error: publish failed, serving left as it was: {type(exc).__name__}: {exc}", err=True)
        ctx.exit(int(ExitCode.PUBLISH))
    finally:
        lock.release()
    click.echo(f"published {len(res.row_counts)} tables to {res.serving} and {res.version_dir}")


RUN_EPILOG = (
    "\b\nExit codes (README, 'The scheduled job'):\n"
    + help_table()
    + "\n\n\b\n--since D: the incremental models rewrite every load from D on; --load-date D: only load D;\n"
    "both also take loads newer than the newest already built. Other models rebuild from all loads."
)


@main.command(epilog=RUN_EPILOG)
@raw_root_option
@warehouse_option
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--skip-gates", is_flag=True, help="Skip the Great Expectations gates (dbt tests still run).")
@click.option(
    "--since",
    type=LOAD_DATE,
    default=None,
    help="Incremental models rewrite every load from this date on (instead of the lookback window).",
)
@click.option(
    "--load-date",
    type=LOAD_DATE,
    default=None,
    help="Incremental models rewrite this load (e.g. Airflow's {{ ds }}); it must be in the landing zone.",
)
@click.option(
    "--log-format",
    type=click.Choice(["human", "json"]),
    default="human",
    show_default=True,
    envvar="INSIGHT_LOG_FORMAT",
    help="json: one JSON object per line on stdout (run_id, stage, event, table, rows, seconds, exit_code).",
)
@keep_versions_option
@click.option(
    "--gates-dir",
    type=SAFE_PATH,
    default=Path("build/gates"),
    show_default=True,
    help="Where the gates write their results and Data Docs.",
)
@click.option(
    "--target-path",
    type=SAFE_PATH,
    default=Path("target"),
    show_default=True,
    help="dbt's target folder (relative paths are inside the project).",
)
@click.pass_context
def run(
    ctx: click.Context,
    raw_root: Path,
    warehouse_dir: Path,
    full_refresh: bool,
    skip_gates: bool,
    since: date | None,
    load_date: date | None,
    log_format: runlog.LogFormat,
    keep_versions: int,
    gates_dir: Path,
    target_path: Path,
) -> None:
    """The scheduled job: raw gate, dbt build + tests, mart gate, then atomic publish.

    One run at a time per warehouse folder: a second one exits at once with code 7 and names the
    running one. Exit codes are listed below.
    """
    if since is not None and load_date is not None:
        raise click.UsageError("--since and --load-date exclude each other: pass one")
    if full_refresh and (since is not None or load_date is not None):
        raise click.UsageError(
            "--full-refresh reads every load; --since/--load-date choose loads for an incremental run: "
            "pass one or the other"
        )
    progress = runlog.Progress(sys.stdout) if runlog.wants_progress(log_format) else None
    runlog.setup(log_format, verbose=ctx.obj["verbose"], progress=progress)
    run_id = pub.new_run_id()
    runlog.set_run(run_id)
    lock = _take_lock(ctx, warehouse_dir, run_id, "run")
    if progress is not None:
        progress.start()
    try:
        res = pipeline.run(
            _paths(raw_root, warehouse_dir, gates_dir, target_path),
            full_refresh=full_refresh,
            gates=not skip_gates,
            run_id=run_id,
            since=since,
            load_date=load_date,
            keep_versions=keep_versions,
            dbt_log="events" if log_format == "json" else "quiet" if progress is not None else "console",
        )
    except Exception as exc:
        runlog.event(
            "run",
            "run_crashed",
            f"run {run_id} crashed: {type(exc).__name__}: {exc} (traceback on stderr)",
            level=logging.ERROR,
            exit_code=int(ExitCode.UNEXPECTED),
            error=f"{type(exc).__name__}: {exc}",
        )
        raise
    finally:
        if progress is not None:
            progress.stop()
        lock.release()
    code = res.exit_code
    if log_format == "json":
        ctx.exit(int(code))
    if not res.published:
        meaning, todo = MEANING[code]
        click.echo(
            f"Error: run {res.run_id} not published: {res.failed_gate}: {res.message}. "
            f"The serving warehouse still holds the last good build.\n"
            f"exit {int(code)} ({meaning}): {todo}",
            err=True,
        )
        ctx.exit(int(code))
    click.echo(
        f"run {res.run_id} published {len(res.row_counts)} tables in {res.seconds:.0f}s\n"
        f"  serving file (BI):  {warehouse_dir / 'serving.duckdb'}\n"
        f"  Parquet export:     {res.version_dir} ({warehouse_dir / pub.PUBLISHED_DIR / pub.CURRENT_FILE})"
    )


@main.command()
@click.option(
    "--serving",
    type=SAFE_PATH,
    default=Path("warehouse/serving.duckdb"),
    show_default=True,
    help="Serving warehouse to read (opened read-only).",
)
@click.option(
    "--out",
    type=SAFE_PATH,
    default=Path("build/report/rox_report.html"),
    show_default=True,
    help="HTML file to write (one self-contained file, opens offline).",
)
def report(serving: Path, out: Path) -> None:
    """Write the RoX report for CX leaders: one HTML file with every chart, drawn from the marts."""
    from insight_engine.report import ReportError, write_report  # plotly: only when a report is made

    try:
        res = write_report(serving, out)
    except ReportError as exc:
        raise click.ClickException(str(exc)) from exc
    empty = f"; no data for: {', '.join(res.empty_charts)}" if res.empty_charts else ""
    click.echo(f"wrote {res.out} ({res.n_bytes / 1e6:.1f} MB, {res.n_charts} charts{empty})")


if __name__ == "__main__":
    main()
