"""Bad raw deliveries are stopped by ``lifecycle check-raw`` before anything is built.

Each case damages one thing in a copy of a small generated raw directory and runs the command
line: it must exit non-zero and name the table (and the column, where there is one) on stderr.
An empty optional table is allowed (a warning naming the table); an empty core table is not.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lifecycle.cli import main
from lifecycle.generate import generate
from lifecycle.rawcheck import CORE_TABLES


@pytest.fixture(scope="module")
def pristine_raw(tmp_path_factory: pytest.TempPathFactory) -> Path:
    raw = tmp_path_factory.mktemp("bad_input") / "raw"
    generate(scale="demo", seed=11, out=raw, progress=False, n_customers=200)
    return raw


@pytest.fixture()
def raw(pristine_raw: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "raw"
    shutil.copytree(pristine_raw, copy)
    return copy


def _part(raw: Path, table: str) -> Path:
    parts = sorted((raw / table).glob("*.parquet"))
    assert parts, f"the generator wrote no file for {table}"
    return parts[0]


def _rewrite(raw: Path, table: str, change: Callable[[pa.Table], pa.Table]) -> None:
    path = _part(raw, table)
    pq.write_table(change(pq.read_table(path)), path)


def _check_raw(raw: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-raw", "--raw-dir", str(raw)])
    out, err = capsys.readouterr()
    return code, out, err


def test_pristine_copy_passes(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _check_raw(raw, capsys)
    assert code == 0, err
    assert json.loads(out)["tables"]["shop_orders"]["rows"] > 0


def test_missing_column(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _rewrite(raw, "shop_orders", lambda t: t.drop_columns(["currency"]))
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "shop_orders.currency: column is missing" in err


def test_renamed_column(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def rename(t: pa.Table) -> pa.Table:
        return t.rename_columns(["E_mail" if c == "email" else c for c in t.column_names])

    _rewrite(raw, "crm_customers", rename)
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "crm_customers.email: column is missing" in err
    assert "renamed? found 'E_mail'" in err


def test_wrong_column_type(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def rating_as_text(t: pa.Table) -> pa.Table:
        i = t.column_names.index("rating")
        return t.set_column(i, pa.field("rating", pa.string()), t.column("rating").cast(pa.string()))

    _rewrite(raw, "product_reviews", rating_as_text)
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "product_reviews.rating: expected type int32, found string" in err


def test_timezone_aware_timestamp(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    def tz_loaded_at(t: pa.Table) -> pa.Table:
        i = t.column_names.index("_loaded_at")
        typ = pa.timestamp("us", tz="UTC")
        return t.set_column(i, pa.field("_loaded_at", typ), t.column("_loaded_at").cast(typ))

    _rewrite(raw, "web_events", tz_loaded_at)
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "web_events._loaded_at: expected type timestamp[us], found timestamp[us, tz=UTC]" in err
    assert "timezone-aware" in err


@pytest.mark.parametrize("table", CORE_TABLES)
def test_empty_core_table(raw: Path, capsys: pytest.CaptureFixture[str], table: str) -> None:
    _rewrite(raw, table, lambda t: t.slice(0, 0))
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert f"{table}: table is empty (0 rows); a core table needs data" in err


def test_empty_optional_table_is_a_warning(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # rawcheck's behaviour, kept: a source with no rows this period (no referrals, say) is valid
    # data; the report says so by name.
    _rewrite(raw, "referrals", lambda t: t.slice(0, 0))
    code, out, err = _check_raw(raw, capsys)
    assert code == 0, err
    report = json.loads(out)
    assert report["tables"]["referrals"]["rows"] == 0
    assert "referrals: table is empty (0 rows)" in report["warnings"]


def test_missing_table_folder(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(raw / "pos_transactions")
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "pos_transactions: table folder is missing" in err


def test_corrupt_parquet_file(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _part(raw, "shop_order_lines")
    path.write_bytes(b"PAR1 this is not a parquet file at all")
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert f"shop_order_lines: cannot read Parquet file {path.name}" in err


def test_truncated_parquet_file(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _part(raw, "email_events")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # an interrupted upload: no footer
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert f"email_events: cannot read Parquet file {path.name}" in err


def test_every_problem_is_reported_at_once(raw: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.rmtree(raw / "store_visits")
    _rewrite(raw, "nps_responses", lambda t: t.drop_columns(["score"]))
    code, _, err = _check_raw(raw, capsys)
    assert code != 0
    assert "store_visits: table folder is missing" in err
    assert "nps_responses.score: column is missing" in err
    assert "2 problem(s)" in err


def test_console_script_exit_code_and_stderr(raw: Path) -> None:
    """The installed ``lifecycle`` command, not just main(): non-zero exit, message on stderr."""
    _rewrite(raw, "shop_orders", lambda t: t.drop_columns(["ordered_at"]))
    exe = Path(sys.executable).with_name("lifecycle")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lifecycle.cli"]
    proc = subprocess.run([*cmd, "check-raw", "--raw-dir", str(raw)], capture_output=True, text=True, check=False)
    assert proc.returncode != 0
    assert "shop_orders.ordered_at: column is missing" in proc.stderr
    assert proc.stdout == ""
