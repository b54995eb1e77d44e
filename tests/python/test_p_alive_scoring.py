"""The build's one p_alive (lifecycle.clv_pipeline.reported_p_alive, stored per snapshot pattern by
int_customer_snapshot_patterns_scored): the chosen model's p_alive, itself checked against
lifetimes and 50-digit references in the model tests, finite on extreme customers, null where
the model cannot tell (BG/NBD's one-time buyers) or when no model could be used."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from lifecycle.clv.models import PURCHASE_MODELS
from lifecycle.clv_pipeline import StoredFits, reported_p_alive, score_snapshot_patterns

# one-time buyer today, one-time buyer 3 years ago, repeat buyer with tenure 1 day, 5,000 purchase
# days over 20 years (bought today), a repeat buyer lapsed for 270 years, two ordinary buyers.
X = np.array([0, 0, 1, 5000, 3, 2, 7], dtype=float)
T_X = np.array([0, 0, 1, 7300, 100, 30, 200], dtype=float)
TENURE = np.array([0, 1095, 1, 7300, 100_000, 365, 400], dtype=float)
VALUES = [
    {"r": 0.5, "alpha": 40.0, "a": 0.8, "b": 3.0, "s": 0.6, "beta": 80.0},
    {"r": 0.243, "alpha": 30.9, "a": 0.793, "b": 2.426, "s": 0.606, "beta": 81.68},
    {"r": 2.0, "alpha": 5.0, "a": 0.05, "b": 500.0, "s": 3.0, "beta": 2000.0},
]


def _fit(name: str, values: dict[str, float]) -> object:
    return PURCHASE_MODELS[name].make_fit(values)


@pytest.mark.parametrize("values", VALUES)
@pytest.mark.parametrize("name", list(PURCHASE_MODELS))
def test_reported_p_alive_is_the_models_and_stays_finite_at_the_extremes(name: str, values: dict[str, float]) -> None:
    model = PURCHASE_MODELS[name]
    fit = _fit(name, values)
    got = reported_p_alive(model, fit, X, T_X, TENURE)
    exact = model.p_alive(fit, X, T_X, TENURE)
    if name == "bg_nbd":
        assert np.isnan(got[:2]).all()  # 1 by construction: the model cannot tell
        np.testing.assert_array_equal(got[2:], exact[2:])
    else:
        np.testing.assert_array_equal(got, exact)
        assert got[1] < got[0] <= 1.0  # a one-time buyer fades with her silence
        if name == "mbg_nbd":  # she may have left right after her first purchase: b / (a + b) at T = 0
            assert got[0] == pytest.approx(values["b"] / (values["a"] + values["b"]), rel=1e-12)
        else:
            assert got[0] == 1.0
    finite = got[~np.isnan(got)]
    assert np.isfinite(finite).all() and ((finite >= 0) & (finite <= 1)).all()
    assert got[3] > 0.99  # bought today after 5,000 purchase days
    assert got[4] < 1e-6  # lapsed for 270 years


def test_snapshot_patterns_are_scored_with_the_chosen_model_or_left_null() -> None:
    patterns = pd.DataFrame({"frequency": X, "recency_days": T_X, "tenure_days": TENURE})
    for name in PURCHASE_MODELS:
        fit = _fit(name, VALUES[0])
        out = score_snapshot_patterns(patterns, StoredFits(PURCHASE_MODELS[name], fit, None, None))
        expected = reported_p_alive(PURCHASE_MODELS[name], fit, X, T_X, TENURE)
        np.testing.assert_array_equal(out["p_alive"].to_numpy(dtype=float, na_value=np.nan), expected)
    none = score_snapshot_patterns(patterns, StoredFits(None, None, None, None))
    assert none["p_alive"].isna().all()
