"""The seal of a published file: ``<stem>.publish.json`` beside it (SHA-256, size, build id).

Written by the publish for the new file before it is swapped in (:func:`write_seal`), moved with
the file to the rollback copy, and checked by ``publish --rollback`` before a copy is put back and
by ``lifecycle publish --check`` (:func:`verify_seal`): a file changed after it was published (a
read-write client that checkpointed its edits, a stale WAL that would be replayed on open) no
longer matches and is refused in one line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from lifecycle.publish.errors import PublishError
from lifecycle.publish.files import fsync_file, seal_path, sha256_file, wal_path
from lifecycle.publish.serving import build_id_of


@dataclass(frozen=True)
class Seal:
    file: str  # the published file's name when it was sealed
    build_id: str
    sha256: str
    size: int
    published_at: str


def write_seal(db: Path, build_id: str, published_at: str, out: Path) -> Seal:
    """Seal the complete file ``db`` into ``out`` (fsynced); the caller renames it into place."""
    seal = Seal(db.name, build_id, sha256_file(db), db.stat().st_size, published_at)
    out.write_text(json.dumps(asdict(seal), indent=2) + "\n")
    fsync_file(out)
    return seal


def read_seal(db: Path) -> Seal:
    path = seal_path(db)
    if not path.is_file():
        raise PublishError(f"{db.name} has no seal ({path.name}): it was not published by this version; publish again")
    try:
        doc = json.loads(path.read_text())
        return Seal(
            str(doc["file"]), str(doc["build_id"]), str(doc["sha256"]), int(doc["size"]), str(doc["published_at"])
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PublishError(f"cannot read the seal {path}: {exc}") from exc


def verify_seal(db: Path) -> Seal:
    """Check that ``db`` is byte for byte the file its seal names, holds the build it names, and
    has no WAL beside it; raise :class:`PublishError` in one line otherwise."""
    if not db.is_file():
        raise PublishError(f"{db} does not exist")
    seal = read_seal(db)
    wal = wal_path(db)
    if wal.exists():
        raise PublishError(
            f"{wal.name} ({wal.stat().st_size} bytes) would be replayed into {db.name} on open: a read-write "
            "client's edits; the next publish or rollback removes it"
        )
    size = db.stat().st_size
    if size != seal.size or sha256_file(db) != seal.sha256:
        raise PublishError(
            f"{db.name} was modified after it was published (build {seal.build_id}: "
            f"{'size ' + str(size) + ' != ' + str(seal.size) if size != seal.size else 'SHA-256 differs'}): "
            "publish again"
        )
    held = build_id_of(db)
    if held != seal.build_id:
        raise PublishError(f"{db.name} holds {held}, but its seal names build {seal.build_id}: publish again")
    return seal


def seal_tmp_path(tmp: Path) -> Path:
    """Where the seal of the temporary file ``tmp`` is written before the swap (a publish leftover
    if it is killed: ``<serving>.tmp-<build_id>.seal``)."""
    return tmp.with_name(tmp.name + ".seal")
