"""The file-safety and privacy steps of ``lifecycle publish`` on their own (no dbt build).

The lock hands out the only way to remove leftovers; ``swap_in`` keeps (or drops) the rollback
copy and swaps atomically; ``Erasures.prune_rollback_copies`` drops every published copy that still
holds an erased customer. ``test_publish.py`` runs the same steps end to end.
"""

from __future__ import annotations

import stat
from pathlib import Path

import duckdb
import pytest

from lifecycle.publish import PublishError, previous_path
from lifecycle.publish.files import PUBLISHED_MODE, publish_lock, seal_path, swap_in, wal_path
from lifecycle.publish.privacy import Erasures


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def _published(path: Path, customer_ids: list[str]) -> Path:
    """A minimal serving file: marts.customers with the given customer ids."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema marts")
        con.execute("create table marts.customers (customer_id varchar)")
        con.executemany("insert into marts.customers values (?)", [[c] for c in customer_ids])
    finally:
        con.close()
    return path


def test_leftovers_are_removed_under_the_lock(tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    _write(serving, "current")
    dead = "serving.duckdb.tmp-20260101T000000Z-dead"  # a publish killed before its rename
    _write(tmp_path / dead, "killed")
    _write(tmp_path / f"{dead}.wal", "wal")
    _write(tmp_path / "other.duckdb.tmp-1", "not ours")
    with publish_lock(serving) as lock:
        with pytest.raises(PublishError, match="another publish"), publish_lock(serving):
            pass  # a second publish to the same file is refused while the lock is held
        removed = lock.remove_leftovers()
    assert sorted(removed) == [dead, f"{dead}.wal"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.duckdb.tmp-1", "serving.duckdb", "serving.duckdb.lock"]
    with publish_lock(serving) as lock:  # released: the next publish gets it
        assert lock.remove_leftovers() == []


def test_swap_in_keeps_the_current_file_as_previous(tmp_path: Path) -> None:
    serving = _write(tmp_path / "serving.duckdb", "old")
    inode = serving.stat().st_ino
    tmp = _write(tmp_path / "serving.duckdb.tmp-b2", "new")
    previous = swap_in(tmp, serving, "b2", keep_current=True)
    assert previous == previous_path(serving) == tmp_path / "serving.previous.duckdb"
    assert serving.read_text() == "new" and previous.read_text() == "old"
    assert previous.stat().st_ino == inode  # a hard link, not a copy
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "serving.previous.duckdb"]


def test_swap_in_without_keep_leaves_no_rollback_copy(tmp_path: Path) -> None:
    serving = _write(tmp_path / "serving.duckdb", "old")
    _write(previous_path(serving), "older")
    tmp = _write(tmp_path / "serving.duckdb.tmp-b3", "new")
    assert swap_in(tmp, serving, "b3", keep_current=False) is None
    assert serving.read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb"]


def test_first_swap_in_has_nothing_to_keep(tmp_path: Path) -> None:
    serving = tmp_path / "serving.duckdb"
    tmp = _write(tmp_path / "serving.duckdb.tmp-b1", "new")
    assert swap_in(tmp, serving, "b1", keep_current=True) is None
    assert serving.read_text() == "new" and not previous_path(serving).exists()


def test_prune_drops_the_copies_holding_an_erased_customer(tmp_path: Path) -> None:
    serving = _published(tmp_path / "serving.duckdb", ["c1", "c2"])
    previous = _published(previous_path(serving), ["c2", "c3"])

    assert Erasures([]).prune_rollback_copies(serving) == (True, [])
    assert Erasures(["c9"]).prune_rollback_copies(serving) == (True, [])

    keep, warnings = Erasures(["c1"]).prune_rollback_copies(serving)  # only the current file holds c1
    assert keep is False and previous.is_file() and serving.is_file()
    assert warnings == [
        "serving.duckdb holds 1 customer(s) erased since it was published: it is not kept for rollback"
    ]

    keep, warnings = Erasures(["c3"]).prune_rollback_copies(serving)  # only the rollback copy holds c3
    assert keep is True and not previous.exists() and serving.is_file()
    assert warnings == [
        "serving.previous.duckdb holds 1 customer(s) erased since it was published: it is not kept for rollback"
    ]


def test_prune_counts_every_erased_customer_in_both_copies(tmp_path: Path) -> None:
    serving = _published(tmp_path / "serving.duckdb", ["c1", "c2"])
    previous = _published(previous_path(serving), ["c2", "c3"])
    keep, warnings = Erasures(["c1", "c2", "c3"]).prune_rollback_copies(serving)
    assert keep is False and not previous.exists()
    assert [w.split(" holds ")[1].split(" ")[0] for w in warnings] == ["2", "2"]


def test_swap_in_publishes_read_only_and_moves_the_seals(tmp_path: Path) -> None:
    serving = _write(tmp_path / "serving.duckdb", "old")
    _write(seal_path(serving), "seal of old")
    tmp = _write(tmp_path / "serving.duckdb.tmp-b2", "new")
    seal = _write(tmp_path / "serving.duckdb.tmp-b2.seal", "seal of new")
    previous = swap_in(tmp, serving, "b2", keep_current=True, seal=seal)
    assert previous is not None
    assert stat.S_IMODE(serving.stat().st_mode) == PUBLISHED_MODE == 0o444
    assert seal_path(serving).read_text() == "seal of new" and seal_path(previous).read_text() == "seal of old"
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "serving.duckdb", "serving.previous.duckdb", "serving.previous.publish.json", "serving.publish.json"
    ]
    # Without keeping the current file, no rollback copy and no seal of one are left.
    tmp = _write(tmp_path / "serving.duckdb.tmp-b3", "newer")
    swap_in(tmp, serving, "b3", keep_current=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "serving.publish.json"]


def test_stale_wals_are_removed_under_the_lock(tmp_path: Path) -> None:
    serving = _write(tmp_path / "serving.duckdb", "current")
    _write(wal_path(serving), "a client's edits")
    _write(wal_path(previous_path(serving)), "x")
    with publish_lock(serving) as lock:
        assert lock.remove_stale_wals() == ["serving.duckdb.wal (16 bytes)", "serving.previous.duckdb.wal (1 bytes)"]
        assert lock.remove_stale_wals() == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving.duckdb", "serving.duckdb.lock"]
