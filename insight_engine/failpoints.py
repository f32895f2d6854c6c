"""Kill points for the crash tests: ``INSIGHT_ENGINE_KILL_AT=<point>[#<n>]`` sends SIGKILL to this process the
``n``-th time (default 1) the run reaches ``<point>``. Unset (always, outside tests), a point costs one
dictionary lookup.

A point is either a run event, named ``<stage>.<event>`` (``raw_gate.log``, ``dbt_build.node_finished``,
``mart_gate.log``, ``publish.table_published`` ...; every ``runlog.event`` is one), or one of the named
moments of the publish step that emit no event (``publish.before_version_rename``,
``publish.before_serving_rename``, ``publish.after_serving_rename``, ``publish.after_current_switch``).

SIGKILL, not an exception: nothing of this process runs after it (no ``finally``, no ``atexit``, no flush
of DuckDB), which is what a power cut, the OOM killer or ``kill -9`` by an operator leave behind
(RELIABILITY.md, "Crash safety").
"""

from __future__ import annotations

import os
import signal
import sys
from collections import Counter

ENV = "INSIGHT_ENGINE_KILL_AT"
_hits: Counter[str] = Counter()


def _target() -> tuple[str, int] | None:
    spec = os.environ.get(ENV, "").strip()
    if not spec:
        return None
    name, _, nth = spec.partition("#")
    return name, int(nth) if nth.isdigit() and int(nth) > 0 else 1


def hit(point: str) -> None:
    """Die here if ``INSIGHT_ENGINE_KILL_AT`` names this point and this is its n-th hit."""
    target = _target()
    if target is None or target[0] != point:
        return
    _hits[point] += 1
    if _hits[point] == target[1]:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        os.kill(os.getpid(), signal.SIGKILL)
