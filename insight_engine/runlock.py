"""One run at a time per warehouse folder: an ``fcntl.flock`` on ``<warehouse>/run.lock``, held for the run.

The kernel drops a flock when its process dies, however it dies (SIGKILL, OOM killer, reboot), so a lock
can never be left behind by a dead run. The file keeps a JSON line naming the holder (pid, host, run id,
start time) for the second run's message; a run that ends cleanly empties it. A file that still names a
holder but is not locked was left by a run that was killed: the next run takes it over and logs whose it
was. The file itself is never deleted (deleting a flocked file lets two processes lock two different
inodes under one name).
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

LOCK_NAME = "run.lock"


@dataclass(frozen=True)
class Holder:
    pid: int | None
    host: str | None
    run_id: str | None
    started_at: str | None
    command: str | None = None

    @classmethod
    def parse(cls, text: str) -> Holder | None:
        text = text.strip()
        if not text:
            return None
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            unreadable = f"unreadable: {text[:80]!r}"
            return cls(pid=None, host=None, run_id=None, started_at=None, command=unreadable)
        return cls(
            pid=data.get("pid"),
            host=data.get("host"),
            run_id=data.get("run_id"),
            started_at=data.get("started_at"),
            command=data.get("command"),
        )

    def describe(self) -> str:
        return f"pid {self.pid} on {self.host}, run {self.run_id}, started {self.started_at}" + (
            f" ({self.command})" if self.command else ""
        )


class LockHeld(RuntimeError):
    """Another live process holds the run lock."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        self.path, self.holder = path, holder
        who = holder.describe() if holder else "a process that has not written its name yet"
        if holder is not None and (holder.command or "").endswith("(by hand)"):  # see dbt_guard.py
            super().__init__(
                f"a hand-run dbt command holds {path}: {who}. This run did nothing: rerun when that command "
                "has ended (the lock frees itself when it exits), or point the hand-run dbt at its own "
                "INSIGHT_WAREHOUSE."
            )
            return
        super().__init__(
            f"another insight-engine run holds {path}: {who}. This run did nothing; the running one will "
            "publish. If that process is gone, the lock frees itself (the kernel drops it): rerun."
        )


class RunLock:
    """``with RunLock(warehouse_dir, run_id=...) as lock:`` - raises LockHeld if another run holds it."""

    def __init__(self, warehouse_dir: Path, *, run_id: str, command: str = "run") -> None:
        self.path = Path(warehouse_dir) / LOCK_NAME
        self.run_id, self.command = run_id, command
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self.taken_over: Holder | None = None  # the killed run whose lock this one took over
        self._fd: int | None = None

    def acquire(self) -> RunLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeld(self.path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        # a record left in an unlocked file: its run was killed (the caller logs the takeover)
        self.taken_over = Holder.parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        record = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "run_id": self.run_id,
            "started_at": self.started_at,
            "command": self.command,
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(record) + "\n").encode(), 0)
        os.fsync(fd)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is None:
            return
        try:
            os.ftruncate(self._fd, 0)  # empty: released cleanly (a non-empty unlocked file = killed run)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.release()


def _read_holder(fd: int, attempts: int = 10) -> Holder | None:
    """The holder's record; it may be a moment away when the holder has just taken the lock."""
    for _ in range(attempts):
        holder = Holder.parse(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        if holder is not None:
            return holder
        time.sleep(0.05)
    return None


def read_holder(warehouse_dir: Path) -> Holder | None:
    """Who the lock file names (live or stale), without locking; None when it names nobody."""
    path = Path(warehouse_dir) / LOCK_NAME
    if not path.exists():
        return None
    return Holder.parse(path.read_text(encoding="utf-8", errors="replace"))
