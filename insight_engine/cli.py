"""The one command scheduled jobs call: ``insight-engine generate|build|...``."""

from __future__ import annotations

import logging
import sys
from datetime import date
from pathlib import Path

import click

from insight_engine import generate as gen


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


@main.command()
@click.option("--scale", type=click.Choice(list(gen.SCALES)), default="xs", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--days", type=int, default=None, help="Days of history (default depends on scale).")
@click.option("--end-date", type=click.DateTime(["%Y-%m-%d"]), default=str(gen.DEFAULT_END_DATE),
              show_default=True, help="Last load date.")
@click.option("--bad-rate", type=float, default=0.0, show_default=True,
              help="Share of rows added as corrupted copies (counted in _manifest.json).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("data/raw"), show_default=True)
def generate(scale: str, seed: int, days: int | None, end_date, bad_rate: float, out: Path) -> None:
    """Write a synthetic landing zone (hive-partitioned Parquet, one partition per day)."""
    try:
        result = gen.generate(out, scale=scale, seed=seed, days=days, bad_rate=bad_rate,
                              end_date=date.fromisoformat(end_date.strftime("%Y-%m-%d")))
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(
        f"{result.total_rows:,} rows in {result.seconds:.1f}s "
        f"({result.total_rows / max(result.seconds, 1e-9):,.0f} rows/s) -> {result.out}"
    )


if __name__ == "__main__":
    main()
