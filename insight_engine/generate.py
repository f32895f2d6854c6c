"""The generator's former single module, kept as the compatibility facade of :mod:`insight_engine.generator`.

Tests, bench scripts and the CLI import ``from insight_engine import generate as gen`` and
``from insight_engine.generate import ...``; every name they use is re-exported here. New code imports from
:mod:`insight_engine.generator` (the package docstring tells which module holds what).

:data:`SHARD_PERSONS` lives in :mod:`insight_engine.generator.world`, which reads it at call time: reading
it here gives that value, and setting it here (``gen.SHARD_PERSONS = 300``) sets it there.
"""

from __future__ import annotations

import sys
import types

from insight_engine.generator import world as _world
from insight_engine.generator.defects import BAD_KINDS_BY_TABLE, KEYS, UNPARSEABLE
from insight_engine.generator.run import GenerationResult, check_survey_metrics, generate
from insight_engine.generator.survey import (
    FOLLOW_UP_MAX_SCORE,
    SURVEY_METRICS,
    SURVEY_TOUCHPOINTS,
    SURVEYS,
    UNRATED_METRICS,
)
from insight_engine.generator.world import (
    COUNTRIES,
    DAY,
    DEFAULT_END_DATE,
    HOUR,
    SCALES,
    SHARED_TABLES,
    Knobs,
    World,
)
from insight_engine.generator.writer import (
    CSV_BOM_TABLES,
    CSV_GZIP_TABLES,
    DEFAULT_DIALECT,
    DIALECTS,
    NAIVE_ZONES,
    NATIVE_DECIMAL,
    NATIVE_WALL_CLOCK_ZONES,
    SPARSE_ABSENT_COLUMNS,
    SPARSE_ABSENT_TABLES,
    SPARSE_LATEST_VERSION_KEYS,
    SPARSE_METRICS,
    UTF8_BOM,
    WRITER_THREADS,
    ContractMismatch,
    _is_amount,
    contract_columns,
    naive_text,
    source_timezones,
)
from insight_engine.generator.writer import write_table as _write_table

__all__ = [
    "BAD_KINDS_BY_TABLE",
    "COUNTRIES",
    "CSV_BOM_TABLES",
    "CSV_GZIP_TABLES",
    "DAY",
    "DEFAULT_DIALECT",
    "DEFAULT_END_DATE",
    "DIALECTS",
    "FOLLOW_UP_MAX_SCORE",
    "HOUR",
    "KEYS",
    "NAIVE_ZONES",
    "NATIVE_DECIMAL",
    "NATIVE_WALL_CLOCK_ZONES",
    "SCALES",
    "SHARED_TABLES",
    "SPARSE_ABSENT_COLUMNS",
    "SPARSE_ABSENT_TABLES",
    "SPARSE_LATEST_VERSION_KEYS",
    "SPARSE_METRICS",
    "SURVEYS",
    "SURVEY_METRICS",
    "SURVEY_TOUCHPOINTS",
    "UNPARSEABLE",
    "UNRATED_METRICS",
    "UTF8_BOM",
    "WRITER_THREADS",
    "ContractMismatch",
    "GenerationResult",
    "Knobs",
    "World",
    "_is_amount",
    "_write_table",
    "check_survey_metrics",
    "contract_columns",
    "generate",
    "naive_text",
    "source_timezones",
]

# settings that have one home in insight_engine.generator.world, read there at call time
_WORLD_SETTINGS = frozenset({"SHARD_PERSONS"})


def __getattr__(name: str) -> object:
    # ``CONTRACT`` is read from the contract on every access: the YAML is the one statement of it
    if name == "CONTRACT":
        return contract_columns()
    if name in _WORLD_SETTINGS:
        return getattr(_world, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class _Facade(types.ModuleType):
    """Setting a world setting here sets it in its home module, so that old callers still take effect."""

    def __setattr__(self, name: str, value: object) -> None:
        if name in _WORLD_SETTINGS:
            setattr(_world, name, value)
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Facade
