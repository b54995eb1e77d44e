"""File safety of the serving file: one publish at a time, fsync, the atomic swap, rollback copies.

The new serving file is written next to the current one (``<serving>.tmp-<build_id>``), fsynced,
and swapped in with ``os.replace`` (:func:`swap_in`); the current file is kept as
``<stem>.previous.duckdb`` (a hard link: the same inode, no copy). One publish or rollback at a time
(an exclusive ``flock`` on ``<serving>.lock``, :func:`publish_lock`); leftovers of a killed publish
are removed under that lock (:meth:`PublishLock.remove_leftovers`).

Nothing beside the file may change what readers see: DuckDB replays ``<file>.wal`` into whatever
file has that name when it is opened, so a read-write client's leftover ``serving.duckdb.wal``
would be replayed into the NEXT published file. Under the lock a publish refuses while a
read-write client holds the serving file (:func:`refuse_writers`), removes stale WALs before and
after the swap (:meth:`PublishLock.remove_stale_wals`), and publishes the new file read-only on disk
(mode 0444). Each published file has a seal, ``<stem>.publish.json`` (:func:`seal_path`, written
and checked by :mod:`lifecycle.publish.seal`), that moves with it to the rollback copy.

Test hooks (seconds to sleep, printed to stderr first, :func:`pause`): ``PAUSE_DURING_COPY`` and
``PAUSE_BEFORE_RENAME``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from lifecycle import paths
from lifecycle.locks import duckdb_holder
from lifecycle.publish.errors import PublishError

PAUSE_DURING_COPY = "LIFECYCLE_PUBLISH_PAUSE_DURING_COPY"
PAUSE_BEFORE_RENAME = "LIFECYCLE_PUBLISH_PAUSE_BEFORE_RENAME"
PUBLISHED_MODE = 0o444  # the published file is read-only on disk


def default_serving_path() -> Path:
    """Env LIFECYCLE_SERVING_DB, else ``serving.duckdb`` next to the working warehouse."""
    env = os.environ.get("LIFECYCLE_SERVING_DB")
    return Path(env).resolve() if env else paths.warehouse_path().parent / "serving.duckdb"


def previous_path(serving: Path) -> Path:
    """The rollback copy of ``serving``: ``serving.duckdb`` -> ``serving.previous.duckdb``."""
    return serving.with_name(f"{serving.stem}.previous{serving.suffix}")


def wal_path(db: Path) -> Path:
    """DuckDB's write-ahead log of ``db``: ``serving.duckdb`` -> ``serving.duckdb.wal``."""
    return db.with_name(db.name + ".wal")


def seal_path(db: Path) -> Path:
    """The seal of a published file: ``serving.duckdb`` -> ``serving.publish.json``."""
    return db.with_name(f"{db.stem}.publish.json")


def refuse_writers(*files: Path) -> None:
    """Raise :class:`PublishError` when another process holds one of ``files`` read-write."""
    for f in files:
        holder = duckdb_holder(f, writers_only=True)
        if holder is not None:
            raise PublishError(
                f"refused: {f} is open read-write in {holder.describe()}: close that client "
                "(BI tools must open the serving file read-only) and publish again"
            )


@dataclass(frozen=True)
class PublishLock:
    """Proof that the publish lock of ``serving`` is held (only :func:`publish_lock` makes one)."""

    serving: Path

    def remove_leftovers(self) -> list[str]:
        """Remove the temporary files of a publish that was killed; return their names."""
        removed = []
        for p in self.serving.parent.glob(f"{self.serving.name}.tmp-*"):
            remove_db(p)
            removed.append(p.name)
        return removed

    def remove_stale_wals(self) -> list[str]:
        """Remove the WALs beside the serving file and its rollback copy (a read-write client's
        edits that were never checkpointed: never part of a validated build); return what went."""
        removed = []
        for db in (self.serving, previous_path(self.serving)):
            wal = wal_path(db)
            with contextlib.suppress(FileNotFoundError):
                size = wal.stat().st_size
                wal.unlink()
                removed.append(f"{wal.name} ({size} bytes)")
        return removed


@contextlib.contextmanager
def publish_lock(serving: Path) -> Iterator[PublishLock]:
    """One publish or rollback at a time per serving file (released when the process dies)."""
    lock_path = serving.with_name(serving.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise PublishError(f"another publish to {serving} is running (lock {lock_path})") from exc
            raise
        yield PublishLock(serving)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every filesystem can fsync a directory
        fsync_file(path)


def remove_db(path: Path) -> None:
    """Delete a DuckDB file and its ``.wal`` sidecar (either may be missing)."""
    for p in (path, wal_path(path)):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def remove_published(path: Path) -> None:
    """Delete a published copy, its WAL and its seal."""
    remove_db(path)
    with contextlib.suppress(FileNotFoundError):
        seal_path(path).unlink()


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def pause(var: str, stage: str) -> None:
    """Test hook: sleep the seconds the environment variable ``var`` names, if any."""
    seconds = os.environ.get(var)
    if seconds:
        print(f"lifecycle publish: test hook: pausing {seconds}s {stage}", file=sys.stderr, flush=True)
        time.sleep(float(seconds))


def _keep_previous(serving: Path, build_id: str) -> Path | None:
    """Keep the current serving file as ``serving.previous.duckdb`` (a hard link; a copy if links fail)."""
    if not serving.exists():
        return None
    previous = previous_path(serving)
    staging = serving.with_name(f"{serving.name}.tmp-{build_id}.previous")
    remove_db(staging)
    try:
        os.link(serving, staging)
    except OSError:
        shutil.copy2(serving, staging)
        fsync_file(staging)
    os.replace(staging, previous)
    if seal_path(serving).exists():
        os.replace(seal_path(serving), seal_path(previous))
    else:
        with contextlib.suppress(FileNotFoundError):
            seal_path(previous).unlink()
    return previous


def swap_in(tmp: Path, serving: Path, build_id: str, *, keep_current: bool, seal: Path | None = None) -> Path | None:
    """Make the complete, fsynced file ``tmp`` the serving file, atomically, read-only on disk;
    ``seal`` (a written seal of ``tmp``) becomes the serving file's seal right after.

    With ``keep_current`` the current serving file becomes the rollback copy (returned, with its
    seal); without it there is no rollback copy afterwards (None).
    """
    os.chmod(tmp, PUBLISHED_MODE)
    if keep_current:
        previous = _keep_previous(serving, build_id)
    else:
        previous = None
        remove_published(previous_path(serving))
    os.replace(tmp, serving)
    if seal is not None:
        os.replace(seal, seal_path(serving))
    fsync_dir(serving.parent)
    return previous
