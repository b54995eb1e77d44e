"""Who holds a DuckDB file, and the build lock of a working warehouse.

DuckDB locks a database file with ``fcntl`` record locks over the whole file: a read-write
connection holds a write lock, a read-only one a read lock. :func:`duckdb_holder` asks the kernel
(``F_GETLK``, which takes no lock) whether another process holds a conflicting one and which
process it is, so a command can refuse in one line instead of failing deep inside DuckDB.

:func:`build_lock` is the exclusive ``flock`` on ``<warehouse>.build.lock`` that ``lifecycle dbt``
holds while dbt runs (one build per warehouse; warehouses never share a lock). The lock file names
its holder (pid, command, start time) for the next one to report. The lock's descriptor is handed
to dbt (``pass_fds``) so the lock lasts as long as dbt does, even if ``lifecycle`` itself is killed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

# struct flock: Linux (x86-64, arm64) and macOS lay it out differently.
_FLOCK = "qqihh" if sys.platform == "darwin" else "hhqqi4x"


@dataclass(frozen=True)
class Holder:
    """A process holding a DuckDB file open (``pid`` None when the kernel does not say)."""

    pid: int | None
    writes: bool

    def describe(self) -> str:
        mode = "read-write" if self.writes else "read-only"
        if not self.pid:
            return f"another process ({mode})"
        command = process_command(self.pid)
        return f"pid {self.pid}" + (f": {command}" if command else "") + f" ({mode})"


def process_command(pid: int) -> str | None:
    """The command line of process ``pid`` (Linux ``/proc``), shortened; None when unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w for w in raw.decode(errors="replace").split("\0") if w]
    text = " ".join(" ".join([Path(words[0]).name, *words[1:]]).split()) if words else ""
    return (text[:120] + "...") if len(text) > 120 else (text or None)


def _pack(kind: int) -> bytes:
    if sys.platform == "darwin":
        return struct.pack(_FLOCK, 0, 0, 0, kind, os.SEEK_SET)
    return struct.pack(_FLOCK, kind, os.SEEK_SET, 0, 0, 0)


def _unpack(data: bytes) -> tuple[int, int]:
    """(lock type, pid) of an ``F_GETLK`` answer."""
    if sys.platform == "darwin":
        _start, _len, pid, kind, _whence = struct.unpack(_FLOCK, data)
    else:
        kind, _whence, _start, _len, pid = struct.unpack(_FLOCK, data)
    return kind, pid


def duckdb_holder(path: Path, *, writers_only: bool) -> Holder | None:
    """Another process holding the DuckDB file ``path`` (any lock, or with ``writers_only`` a
    read-write one); None when there is none or the file does not exist.

    Only other processes are seen (a process never conflicts with its own locks). On Linux
    and macOS; elsewhere always None."""
    if not sys.platform.startswith("linux") and sys.platform != "darwin":
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        query = fcntl.F_RDLCK if writers_only else fcntl.F_WRLCK
        kind, pid = _unpack(fcntl.fcntl(fd, fcntl.F_GETLK, _pack(query)))
    except OSError:
        return None
    finally:
        os.close(fd)
    if kind == fcntl.F_UNLCK:
        return None
    return Holder(pid or None, writes=kind == fcntl.F_WRLCK)


class LockHeldError(Exception):
    """The build lock is held by another process (the message says by whom and what to do)."""


def build_lock_path(warehouse: Path) -> Path:
    """``lifecycle.duckdb`` -> ``lifecycle.duckdb.build.lock``."""
    return warehouse.with_name(warehouse.name + ".build.lock")


@contextlib.contextmanager
def build_lock(warehouse: Path, command: str) -> Iterator[int]:
    """Hold the build lock of ``warehouse`` (yields its file descriptor, to pass to dbt).

    Raises :class:`LockHeldError` when another build holds it, or when another process has the
    warehouse file itself open (a reader: dbt could not open it read-write)."""
    lock_path = build_lock_path(warehouse)
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            owner = os.pread(fd, 4096, 0).decode(errors="replace").strip() or "another process"
            raise LockHeldError(
                f"another build of {warehouse} is running ({owner}; lock {lock_path}): "
                "wait for it to finish, or stop it, then run again"
            ) from exc
        holder = duckdb_holder(warehouse, writers_only=False)
        if holder is not None:
            raise LockHeldError(
                f"{warehouse} is open in {holder.describe()}: close that connection and run again "
                "(BI tools and notebooks should read the serving copy 'lifecycle publish' writes, read-only)"
            )
        started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {command}, since {started}\n".encode(), 0)
        yield fd
    finally:
        os.close(fd)
