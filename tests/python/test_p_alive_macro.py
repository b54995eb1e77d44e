"""The build's p_alive is the SQL macro bgnbd_p_alive (macros/lifecycle_rules.sql): it must equal
the reference implementation of the CLV package (lifecycle.clv.p_alive, itself checked against
lifetimes) on ordinary and extreme customers, and be null when the purchase model was not fitted."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pytest
from conftest import Parsed, run_dbt

from lifecycle import clv
from lifecycle.clv import BgNbdFit

# one-time buyer today, one-time buyer 3 years ago, repeat buyer with tenure 1 day, 5,000 purchase
# days over 20 years (bought today), a repeat buyer lapsed for 270 years, two ordinary buyers.
X = [0, 0, 1, 5000, 3, 2, 7]
T_X = [0, 0, 1, 7300, 100, 30, 200]
TENURE = [0, 1095, 1, 7300, 100_000, 365, 400]
PARAMETERS = [(0.5, 40.0, 0.8, 3.0), (0.243, 30.9, 0.793, 2.426), (2.0, 5.0, 0.05, 500.0)]


@pytest.fixture(scope="module")
def macro_sql(parsed_project: Parsed, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The macro compiled by dbt over columns x, t_x, tenure, r, alpha, a, b (on the session's parse)."""
    target = parsed_project.target_copy(tmp_path_factory.mktemp("p_alive_macro") / "target")
    inline = "select {{ bgnbd_p_alive('x', 't_x', 'tenure', 'r', 'alpha', 'a', 'b') }} as p_alive from rows"
    result = run_dbt(parsed_project.raw_dir, parsed_project.db, "compile", "--inline", inline, "--output", "json",
                     "--log-format", "json", target=target)
    assert result.returncode == 0, result.stdout[-3000:]
    for line in result.stdout.splitlines():
        event = json.loads(line)
        compiled = event.get("data", {}).get("compiled")
        if compiled:
            return str(compiled)
    raise AssertionError(f"dbt printed no compiled SQL: {result.stdout[-2000:]}")


def _macro_p_alive(sql: str, parameters: tuple[float | None, ...]) -> list[float | None]:
    con = duckdb.connect()
    rows = [(i, x, t, n, *parameters) for i, (x, t, n) in enumerate(zip(X, T_X, TENURE, strict=True))]
    con.execute("create table rows (i integer, x double, t_x double, tenure double, "
                "r double, alpha double, a double, b double)")
    con.executemany("insert into rows values (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    ordered = sql.replace("from rows", ", i from rows") + " order by i"
    return [row[0] for row in con.execute(ordered).fetchall()]


@pytest.mark.parametrize("parameters", PARAMETERS)
def test_the_sql_p_alive_equals_the_reference(macro_sql: str, parameters: tuple[float, float, float, float]) -> None:
    fit = BgNbdFit(*parameters, 0.0, 0, 0, True, 0, 0.0, "given")
    expected = clv.p_alive(fit, np.asarray(X, float), np.asarray(T_X, float), np.asarray(TENURE, float))
    got = np.asarray(_macro_p_alive(macro_sql, parameters), dtype=float)
    assert np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-300)
    assert got[0] == got[1] == 1.0
    assert got[3] > 0.99
    assert got[4] < 1e-6


def test_the_sql_p_alive_is_null_without_a_fitted_purchase_model(macro_sql: str) -> None:
    assert _macro_p_alive(macro_sql, (None, None, None, None)) == [None] * len(X)

