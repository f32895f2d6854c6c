"""The one command scheduled jobs call: ``insight-engine generate|build|...``."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

from insight_engine import generate as gen
from insight_engine import pipeline
from insight_engine import publish as pub
from insight_engine.dbt import run_dbt


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Debug logging.")
def main(verbose: bool) -> None:
    """insight_engine: generate data, build, validate, publish and report the RoX warehouse."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )


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
@click.option("--out", type=click.Path(path_type=Path), default=Path("data/raw"), show_default=True)
@click.option(
    "--nps-dip",
    callback=_parse_nps_dip,
    default=None,
    metavar="TOUCHPOINT:DAYS:POINTS",
    help="Plant an experience dip for alert tests, e.g. TP-DELIVERY:30:4: NPS answers at the "
    "touchpoint in the last DAYS days lose POINTS (CES answers POINTS / 1.5).",
)
def generate(
    scale: str,
    seed: int,
    days: int | None,
    end_date,
    bad_rate: float,
    out: Path,
    nps_dip: tuple[str, int, float] | None,
) -> None:
    """Write a synthetic landing zone (hive-partitioned Parquet, one partition per day)."""
    try:
        result = gen.generate(
            out,
            scale=scale,
            seed=seed,
            days=days,
            bad_rate=bad_rate,
            end_date=date.fromisoformat(end_date.strftime("%Y-%m-%d")),
            nps_dip=nps_dip,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"{result.total_rows:,} rows in {result.seconds:.1f}s "
        f"({result.total_rows / max(result.seconds, 1e-9):,.0f} rows/s) -> {result.out}"
    )


def _paths(raw_root: Path, warehouse_dir: Path) -> pipeline.Paths:
    return pipeline.Paths(
        raw_root=raw_root,
        build_warehouse=warehouse_dir / "insight_engine.duckdb",
        serving=warehouse_dir / "serving.duckdb",
        publish_log=warehouse_dir / "publish_log.duckdb",
    )


raw_root_option = click.option(
    "--raw-root",
    type=click.Path(path_type=Path),
    default=Path("data/raw"),
    show_default=True,
    help="Landing zone (data/raw/<system>/<table>/load_date=.../*.parquet).",
)
warehouse_option = click.option(
    "--warehouse-dir",
    type=click.Path(path_type=Path),
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
def build(raw_root: Path, warehouse_dir: Path, full_refresh: bool, target: str) -> None:
    """dbt build (models, seeds, snapshots and every dbt test) into the build warehouse."""
    paths = _paths(raw_root, warehouse_dir)
    if target.startswith("spark") and not raw_root.exists():
        raise click.ClickException(
            f"--raw-root {raw_root} does not exist. For a landing zone on object storage (s3a://, abfss://, "
            "dbfs:/) run dbt directly with RAW_ROOT set (README, 'Running on Spark')."
        )
    res = run_dbt(
        ["build"] + (["--full-refresh"] if full_refresh else []),
        raw_root=raw_root,
        warehouse=paths.build_warehouse,
        target_path=paths.target_path,
        target=target,
    )
    if not res.success:
        raise click.ClickException("dbt build failed:\n  " + "\n  ".join(res.failures[:20]))
    where = paths.build_warehouse if target == "duckdb" else f"target {target}"
    click.echo(f"built {where}: {res.counts}")


@main.command()
@click.option("--stage", type=click.Choice(["raw", "marts"]), required=True)
@raw_root_option
@warehouse_option
@click.option("--out-dir", type=click.Path(path_type=Path), default=Path("build/gates"), show_default=True)
def validate(stage: str, raw_root: Path, warehouse_dir: Path, out_dir: Path) -> None:
    """Run a Great Expectations gate; exits non-zero and names what failed."""
    from insight_engine.validate import validate as run_gate

    res = run_gate(
        stage, raw_root=raw_root, warehouse=warehouse_dir / "insight_engine.duckdb", out_dir=out_dir
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


@main.command()
@warehouse_option
def publish(warehouse_dir: Path) -> None:
    """Publish the build warehouse's marts to the serving file (no gates: prefer `run`)."""
    paths = _paths(Path("."), warehouse_dir)
    res = pub.publish(paths.build_warehouse, paths.serving, run_id="manual", publish_log=paths.publish_log)
    click.echo(f"published {len(res.row_counts)} tables to {res.serving}")


@main.command()
@raw_root_option
@warehouse_option
@click.option("--full-refresh", is_flag=True, help="Rebuild incremental models from scratch.")
@click.option("--skip-gates", is_flag=True, help="Skip the Great Expectations gates (dbt tests still run).")
def run(raw_root: Path, warehouse_dir: Path, full_refresh: bool, skip_gates: bool) -> None:
    """The scheduled job: raw gate, dbt build + tests, mart gate, then atomic publish."""
    res = pipeline.run(_paths(raw_root, warehouse_dir), full_refresh=full_refresh, gates=not skip_gates)
    if not res.published:
        raise click.ClickException(
            f"run {res.run_id} not published: {res.failed_gate}: {res.message}. "
            "The serving warehouse still holds the last good build."
        )
    click.echo(
        f"run {res.run_id} published {len(res.row_counts)} tables to {warehouse_dir / 'serving.duckdb'}"
    )


@main.command()
@click.option(
    "--serving",
    type=click.Path(path_type=Path),
    default=Path("warehouse/serving.duckdb"),
    show_default=True,
    help="Serving warehouse to read (opened read-only).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
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
