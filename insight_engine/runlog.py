"""What a run says while it runs: human log lines (default), JSON lines, and a terminal progress line.

* ``--log-format human``: ``HH:MM:SS LEVEL logger: message`` on stderr, as before.
* ``--log-format json``: one JSON object per line on **stdout** and nothing else there (dbt's console
  output is switched off; its file log ``logs/dbt.log`` stays). Every object has ``ts``, ``level``,
  ``run_id``, ``stage``, ``event`` and ``message``; events add ``table``, ``rows``, ``seconds``, ``counts``,
  ``exit_code`` ... where they apply. Log records of other libraries become ``event: "log"`` objects.
* a progress line (stage, dbt nodes done/total, elapsed) on stdout only when stdout is a terminal and the
  format is human: a cron job or a pipe gets none.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, Literal, TextIO

from insight_engine import failpoints

LogFormat = Literal["human", "json"]
EVENT_LOGGER = "insight_engine.events"
HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_state: dict[str, Any] = {"run_id": None, "stage": "run"}
_listeners: list[Callable[[str, str, dict[str, Any]], None]] = []
_events = logging.getLogger(EVENT_LOGGER)


def set_run(run_id: str | None) -> None:
    _state["run_id"], _state["stage"] = run_id, "run"


def current_stage() -> str:
    return str(_state["stage"])


def event(stage: str, name: str, message: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One structured event: a human line (``message``) or a JSON object (all fields)."""
    _state["stage"] = stage
    for listener in list(_listeners):
        listener(stage, name, fields)
    _events.log(level, message, extra={"ie_stage": stage, "ie_event": name, "ie_fields": fields})
    failpoints.hit(f"{stage}.{name}")  # a crash test's kill point (no-op unless INSIGHT_ENGINE_KILL_AT)


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "run_id": _state["run_id"],
            "stage": getattr(record, "ie_stage", _state["stage"]),
            "event": getattr(record, "ie_event", "log"),
        }
        if obj["event"] == "log":
            obj["logger"] = record.name
        obj["message"] = record.getMessage()
        obj.update(getattr(record, "ie_fields", {}))
        if record.exc_info:
            obj["traceback"] = self.formatException(record.exc_info)
        return json.dumps(obj, default=str)


class Progress:
    """A single redrawn line: ``[ 42s] dbt_build 180/487 nodes``; only for a terminal."""

    def __init__(self, stream: TextIO, *, interval: float = 1.0) -> None:
        self.stream = stream
        self.started = time.monotonic()
        self.stage = "starting"
        self.done = 0
        self.total = 0
        self.lock = threading.RLock()
        self._shown = False
        self._running = False
        self._stop = threading.Event()
        self._interval = interval
        self._thread: threading.Thread | None = None

    def text(self) -> str:
        elapsed = int(time.monotonic() - self.started)
        nodes = f" {self.done}/{self.total} nodes" if self.total else ""
        return f"[{elapsed:>4}s] {self.stage}{nodes}"

    def on_event(self, stage: str, name: str, fields: dict[str, Any]) -> None:
        with self.lock:
            if stage != self.stage:
                self.stage, self.done, self.total = stage, 0, 0
            if "nodes_total" in fields:
                self.total = int(fields["nodes_total"])
            if "nodes_done" in fields:
                self.done = int(fields["nodes_done"])
        self.draw()

    def draw(self) -> None:
        with self.lock:
            if not self._running:
                return
            self.stream.write("\r\x1b[2K" + self.text())
            self.stream.flush()
            self._shown = True

    def clear(self) -> None:
        with self.lock:
            if self._shown:
                self.stream.write("\r\x1b[2K")
                self.stream.flush()
                self._shown = False

    def start(self) -> None:
        def tick() -> None:
            while not self._stop.wait(self._interval):
                self.draw()

        self._running = True
        self._thread = threading.Thread(target=tick, name="progress", daemon=True)
        self._thread.start()
        _listeners.append(self.on_event)

    def stop(self) -> None:
        self._running = False
        self._stop.set()
        if self.on_event in _listeners:
            _listeners.remove(self.on_event)
        if self._thread is not None:
            self._thread.join(timeout=2)
        self.clear()


class _StdHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stdout``/``sys.stderr`` is when a record comes (click's test runner and
    pytest swap them), never to a stream that was closed since."""

    def __init__(self, which: Literal["stdout", "stderr"]) -> None:
        super().__init__()
        self.which = which

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return getattr(sys, self.which)

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ assigns it; the property wins
        pass


class _ProgressAwareHandler(_StdHandler):
    """Clears the progress line before a log line and redraws it after, so the two never mix."""

    def __init__(self, progress: Progress) -> None:
        super().__init__("stderr")
        self.progress = progress

    def emit(self, record: logging.LogRecord) -> None:
        with self.progress.lock:
            self.progress.clear()
            super().emit(record)
            self.progress.draw()


def wants_progress(log_format: LogFormat, stream: TextIO | None = None) -> bool:
    stream = sys.stdout if stream is None else stream
    return log_format == "human" and bool(getattr(stream, "isatty", lambda: False)())


def setup(log_format: LogFormat, *, verbose: bool = False, progress: Progress | None = None) -> None:
    """(Re)configure the root logger for this process."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    handler: logging.Handler
    if log_format == "json":
        handler = _StdHandler("stdout")
        handler.setFormatter(JsonFormatter())
    else:
        handler = _ProgressAwareHandler(progress) if progress is not None else _StdHandler("stderr")
        handler.setFormatter(logging.Formatter(HUMAN_FORMAT, datefmt="%H:%M:%S"))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Great Expectations logs hundreds of INFO lines about its own plugin registry per gate
    logging.getLogger("great_expectations").setLevel(logging.NOTSET if verbose else logging.WARNING)
