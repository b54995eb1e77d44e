"""``lifecycle export-audience``: the contactable customers of lifecycle_audiences, out to a file.

On the session's small validated build (test_publish.shared_build): the export from the serving
copy equals the mart (rows, columns, filters), the manifest's counts and checksum match the file,
no column beyond EXPORT_COLUMNS leaves, and an unvalidated or foreign source is refused in one line
with ``--out`` untouched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import duckdb
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from test_publish import Build, shared_build

from lifecycle import paths
from lifecycle.audience import EXPORT_COLUMNS, AudienceError, export_audience, playbook_actions
from lifecycle.cli import main
from lifecycle.publish import publish

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


@pytest.fixture(scope="module")
def serving(build: Build, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("audience_serving") / "serving.duckdb"
    publish(build.db, path, skip_validate=True, dbt_results=build.run_results)
    return path


def _mart(db: Path, where: str = "") -> list[tuple[object, ...]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        cols = ", ".join(f'"{c}"' for c in EXPORT_COLUMNS)
        return sorted(con.execute(f"select {cols} from marts.lifecycle_audiences {where}").fetchall(), key=str)
    finally:
        con.close()


def _as_rows(table: object) -> list[tuple[object, ...]]:
    cols = table.to_pydict()  # type: ignore[attr-defined]
    return sorted(zip(*(cols[c] for c in EXPORT_COLUMNS), strict=True), key=str)


def test_export_from_serving_copy_equals_the_mart(
    serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "audience.parquet"
    code = main(["export-audience", "--serving", str(serving), "--format", "parquet", "--out", str(out)])
    assert code == 0
    table = pq.read_table(out)
    assert tuple(table.column_names) == EXPORT_COLUMNS
    expected = _mart(serving)
    assert expected, "the small build has contactable customers"
    assert _as_rows(table) == expected

    manifest = json.loads((tmp_path / "audience.parquet.manifest.json").read_text())
    assert manifest["rows"] == len(expected) == sum(r["customers"] for r in manifest["by_action_channel"])
    assert manifest["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest()
    by_action: dict[str, int] = {}
    for row in expected:
        by_action[str(row[2])] = by_action.get(str(row[2]), 0) + 1
    assert {r["action"]: 0 for r in manifest["by_action_channel"]}.keys() == by_action.keys()
    for action, n in by_action.items():
        assert sum(r["customers"] for r in manifest["by_action_channel"] if r["action"] == action) == n
    assert manifest["source"]["kind"] == "serving copy"
    con = duckdb.connect(str(serving), read_only=True)
    try:
        build_id = con.execute("select distinct build_id from meta.publish_manifest").fetchone()
    finally:
        con.close()
    assert build_id is not None and manifest["source"]["build"] == build_id[0]
    assert f"Exported {len(expected)} customers" in capsys.readouterr().out


def test_action_and_channel_filters(serving: Path, tmp_path: Path) -> None:
    rows = _mart(serving)
    action, channel = str(rows[0][2]), str(rows[0][3])
    out = tmp_path / "one.csv"
    manifest = export_audience(out, serving=serving, action=action, channel=channel)
    table = pacsv.read_csv(out, convert_options=pacsv.ConvertOptions(strings_can_be_null=False))
    got = table.to_pydict()
    assert set(got["action"]) == {action} and set(got["channel"]) == {channel}
    expected = [r for r in rows if r[2] == action and r[3] == channel]
    assert manifest["rows"] == len(expected) == table.num_rows
    assert sorted(got["customer_id"]) == sorted(str(r[0]) for r in expected)


def test_known_action_without_customers_writes_an_empty_file(serving: Path, tmp_path: Path) -> None:
    present = {str(r[2]) for r in _mart(serving)}
    absent = sorted(playbook_actions() - present)
    if not absent:
        pytest.skip("every playbook action has customers in this build")
    out = tmp_path / "empty.csv"
    manifest = export_audience(out, serving=serving, action=absent[0])
    assert manifest["rows"] == 0 and manifest["by_action_channel"] == []
    assert out.read_text().splitlines() == [",".join(EXPORT_COLUMNS)]


def test_bad_requests_are_one_line_errors(serving: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "x.csv"
    cases = [
        ["--serving", str(serving), "--action", "no_such_action"],
        ["--serving", str(tmp_path / "missing.duckdb")],
        ["--serving", str(serving), "--out", str(tmp_path / "no" / "such" / "dir.csv")],
    ]
    for extra in cases:
        args = ["export-audience", "--out", str(out), *extra]
        assert main(args) == 1, extra
        err = capsys.readouterr().err.strip()
        assert err.startswith("lifecycle export-audience: error: ") and "\n" not in err, err
    assert not out.exists()


def test_unvalidated_sources_are_refused(build: Build, tmp_path: Path) -> None:
    # A working warehouse that was built but not validated (its own artefacts hold no report).
    unvalidated = tmp_path / "copy" / "warehouse.duckdb"
    unvalidated.parent.mkdir()
    shutil.copy(build.db, unvalidated)
    with pytest.raises(AudienceError, match="no validation report"):
        export_audience(tmp_path / "a.csv", db=unvalidated)
    # The working warehouse itself is validated (shared_build ran lifecycle validate): accepted.
    manifest = export_audience(tmp_path / "b.csv", db=build.db)
    assert manifest["source"]["kind"] == "working warehouse" and manifest["rows"] == len(_mart(build.db))
    assert manifest["source"]["build"] in paths.artefacts(build.db).validation_report.read_text()
    # A DuckDB file that is not a serving copy (no publish manifest) is refused as a serving copy.
    with pytest.raises(AudienceError, match="no publish manifest"):
        export_audience(tmp_path / "c.csv", serving=unvalidated)
    assert not (tmp_path / "a.csv").exists() and not (tmp_path / "c.csv").exists()


def test_serving_copy_that_failed_validation_is_refused(serving: Path, tmp_path: Path) -> None:
    failed = tmp_path / "failed.duckdb"
    shutil.copy(serving, failed)
    con = duckdb.connect(str(failed))
    try:
        con.execute("update meta.publish_manifest set validation_success = false")
    finally:
        con.close()
    with pytest.raises(AudienceError, match="failed validation"):
        export_audience(tmp_path / "x.csv", serving=failed)


def test_no_column_beyond_the_activation_set_leaves() -> None:
    # The export is the customer key plus what the activation needs: no contact details at all.
    pii = {"email", "email_address", "phone", "first_name", "last_name", "name", "address", "postcode", "birth_year"}
    assert not pii & set(EXPORT_COLUMNS)
    assert EXPORT_COLUMNS[0] == "customer_id"
