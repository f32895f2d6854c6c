"""Deterministic synthetic landing-zone generator.

Writes every table of the raw-data contract (``../shared/DESIGN.md`` section 2; its columns, their order
and types come from :mod:`insight_engine.contract`) as hive-partitioned files, one partition per day:
``<out>/<system>/<table>/load_date=YYYY-MM-DD/part-0.parquet``. The world is simulated once; a *dialect*
decides only how it is written (:data:`DIALECTS`): ``iso`` (the default: Parquet, ISO-8601 text with
offsets), ``naive`` (wall-clock text in per-system zones), ``native`` (Parquet TIMESTAMP/DATE/DECIMAL/INT),
``csv`` (RFC 4180 CSV, some gzipped, some with a BOM) and ``sparse`` (a small shop's one-load backfill
without costs, phones, web events, cases or NPS/CES). For one seed every dialect holds the same world.

The data is built to have something true to find:

* one latent person appears in CRM, shop, survey and web with differently formatted e-mails and phones;
* a latent satisfaction drives survey scores *and* later behaviour (promoters buy more, churn less and
  refer more), while late deliveries, refunds and support cases lower the scores of the orders they touch;
* mobile-web checkout has friction: more abandoned checkouts and lower effort scores;
* optionally (``nps_dip``), a planted dip: one touchpoint's NPS and CES answers (CSAT answers in a
  programme without NPS) fall in the last N days, for testing alerts. Without it the data is byte-identical
  to a generation without the option;
* optionally (``survey_metrics``), a programme that asks only some of the rating metrics (NPS, CSAT, CES):
  the same world, with the other metrics' questions and answers never written.

Bad rows (``--bad-rate``) are *added* as corrupted copies of good rows, one defect per row, so the clean
data is identical whatever the bad rate, and the count of every defect kind is written to
``<out>/_manifest.json``. The true person behind every source identity goes to
``<out>/.truth/identities.parquet`` (hidden from the warehouse) so identity resolution can be scored.

The code follows the source systems; each simulation step is a function of the :class:`World` (one shard
of it) that draws its random numbers from a stream of its own (``world.rng("<table>")``):

* :mod:`~insight_engine.generator.world`: sizes, people, :class:`Knobs`, the world's state, ``persons``;
* :mod:`~insight_engine.generator.crm`, :mod:`~insight_engine.generator.commerce`,
  :mod:`~insight_engine.generator.survey`, :mod:`~insight_engine.generator.web`: each system's tables;
* :mod:`~insight_engine.generator.defects`: the planted bad rows;
* :mod:`~insight_engine.generator.writer`: the contract's columns, the dialects, the files;
* :mod:`~insight_engine.generator.run`: :func:`generate`, the steps in order, the manifest.

:mod:`insight_engine.generate` re-exports this API for callers that import it from there.
"""

from __future__ import annotations

from insight_engine.generator.defects import BAD_KINDS_BY_TABLE, KEYS, UNPARSEABLE
from insight_engine.generator.run import GenerationResult, check_survey_metrics, generate
from insight_engine.generator.survey import SURVEY_METRICS, SURVEYS, UNRATED_METRICS
from insight_engine.generator.world import DEFAULT_END_DATE, SCALES, SHARED_TABLES, Knobs, World
from insight_engine.generator.writer import (
    CSV_BOM_TABLES,
    CSV_GZIP_TABLES,
    DEFAULT_DIALECT,
    DIALECTS,
    NAIVE_ZONES,
    NATIVE_WALL_CLOCK_ZONES,
    SPARSE_ABSENT_COLUMNS,
    SPARSE_ABSENT_TABLES,
    UTF8_BOM,
    ContractMismatch,
    contract_columns,
    naive_text,
    source_timezones,
)

__all__ = [
    "BAD_KINDS_BY_TABLE",
    "CSV_BOM_TABLES",
    "CSV_GZIP_TABLES",
    "DEFAULT_DIALECT",
    "DEFAULT_END_DATE",
    "DIALECTS",
    "KEYS",
    "NAIVE_ZONES",
    "NATIVE_WALL_CLOCK_ZONES",
    "SCALES",
    "SHARED_TABLES",
    "SPARSE_ABSENT_COLUMNS",
    "SPARSE_ABSENT_TABLES",
    "SURVEYS",
    "SURVEY_METRICS",
    "UNPARSEABLE",
    "UNRATED_METRICS",
    "UTF8_BOM",
    "ContractMismatch",
    "GenerationResult",
    "Knobs",
    "World",
    "check_survey_metrics",
    "contract_columns",
    "generate",
    "naive_text",
    "source_timezones",
]


def __getattr__(name: str) -> object:
    # ``CONTRACT`` (system -> table -> ordered column names) is read from the contract on every access: the
    # YAML is the one statement of it
    if name == "CONTRACT":
        return contract_columns()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
