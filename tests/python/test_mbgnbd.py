"""Tests for lifecycle.clv.mbgnbd against ``lifetimes``' ModifiedBetaGeoFitter (0.11.3: its fit on
CDNOW, its likelihood and scoring given the same parameters) and 50-digit references."""

from __future__ import annotations

import numpy as np
import pytest
from cdnow_data import calibration_summary_days, datasets_dir, reference_with

from lifecycle import clv
from lifecycle.clv import ClvFitError
from lifecycle.clv.mbgnbd import (
    MbgNbdFit,
    fit_mbgnbd,
    mbgnbd_expected_purchases,
    mbgnbd_expected_purchases_unconditional,
    mbgnbd_log_likelihood,
    mbgnbd_p_alive,
    mbgnbd_standard_errors,
)

pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore::FutureWarning"),
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
]


def _given(r: float, alpha: float, a: float, b: float) -> MbgNbdFit:
    return MbgNbdFit(r, alpha, a, b, 0.0, 0, 0, True, 0, 0.0, "given")


@pytest.fixture(scope="module")
def cdnow() -> clv.RfmSummary:
    return calibration_summary_days()


@pytest.fixture(scope="module")
def cdnow_fit(cdnow: clv.RfmSummary) -> MbgNbdFit:
    return fit_mbgnbd(cdnow.frequency, cdnow.recency, cdnow.T)


@pytest.fixture(scope="module")
def reference():  # type: ignore[no-untyped-def]
    datasets_dir()
    from lifetimes import ModifiedBetaGeoFitter

    return ModifiedBetaGeoFitter


def _ref_model(reference, fit: MbgNbdFit):  # type: ignore[no-untyped-def]
    return reference_with(reference, fit.params)


def test_cdnow_fit_equals_lifetimes_fit(reference, cdnow_fit: MbgNbdFit, cdnow: clv.RfmSummary) -> None:  # type: ignore[no-untyped-def]
    ref = reference().fit(cdnow.frequency, cdnow.recency, cdnow.T)
    for name in ("r", "alpha", "a", "b"):
        assert getattr(cdnow_fit, name) == pytest.approx(float(ref.params_[name]), rel=1e-5), name
    # Days, calibration to 1997-09-30 (lifetimes converges to the same point).
    assert (round(cdnow_fit.r, 4), round(cdnow_fit.alpha, 2), round(cdnow_fit.a, 4), round(cdnow_fit.b, 4)) == (
        0.5248,
        43.28,
        0.8914,
        1.6140,
    )


def test_likelihood_and_gradient(reference, cdnow_fit: MbgNbdFit, cdnow: clv.RfmSummary) -> None:  # type: ignore[no-untyped-def]
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    for p in ([cdnow_fit.r, cdnow_fit.alpha, cdnow_fit.a, cdnow_fit.b], [2.0, 9.0, 0.3, 7.0], [0.1, 300.0, 4.0, 0.5]):
        params = np.array(p)
        ref = -reference._negative_log_likelihood(np.log(params), x, t_x, T, np.ones(x.shape[0]), 0.0) * x.shape[0]
        ll, g = mbgnbd_log_likelihood(params, x, t_x, T, gradient=True)
        assert ll == pytest.approx(ref, rel=1e-10)
        for i in range(4):
            h = 1e-6 * params[i]
            up, down = params.copy(), params.copy()
            up[i] += h
            down[i] -= h
            fd = (mbgnbd_log_likelihood(up, x, t_x, T) - mbgnbd_log_likelihood(down, x, t_x, T)) / (2 * h)
            assert g[i] == pytest.approx(fd, rel=1e-5, abs=1e-4), i


@pytest.mark.parametrize("params", [None, (0.3, 5.0, 2.0, 4.0), (2.0, 300.0, 0.4, 10.0)])
def test_scoring_equals_lifetimes(reference, cdnow_fit: MbgNbdFit, cdnow: clv.RfmSummary, params) -> None:  # type: ignore[no-untyped-def]
    fit = cdnow_fit if params is None else _given(*params)
    ref = _ref_model(reference, fit)
    x, t_x, T = cdnow.frequency, cdnow.recency, cdnow.T
    np.testing.assert_allclose(mbgnbd_p_alive(fit, x, t_x, T), ref.conditional_probability_alive(x, t_x, T), rtol=1e-9)
    for horizon in (90.0, 365.0):
        np.testing.assert_allclose(
            mbgnbd_expected_purchases(fit, horizon, x, t_x, T),
            ref.conditional_expected_number_of_purchases_up_to_time(horizon, x, t_x, T),
            rtol=1e-6,
        )
    t = np.array([1.0, 30.0, 365.0])
    np.testing.assert_allclose(
        mbgnbd_expected_purchases_unconditional(fit, t), ref.expected_number_of_purchases_up_to_time(t), rtol=1e-9
    )


def _ll_50_digits(r: float, alpha: float, a: float, b: float, x: int, t_x: float, T: float) -> float:
    mp = pytest.importorskip("mpmath")
    mp.mp.dps = 50
    r_, al, a_, b_ = (mp.mpf(v) for v in (r, alpha, a, b))
    head = mp.gamma(r_ + x) / mp.gamma(r_) * al**r_ * mp.beta(a_, b_ + x + 1) / mp.beta(a_, b_)
    return float(mp.log(head * (al + T) ** (-(r_ + x)) * (1 + a_ / (b_ + x) * ((al + T) / (al + t_x)) ** (r_ + x))))


@pytest.mark.parametrize("params", [(0.52, 43.3, 0.89, 1.61), (40.0, 9.0, 30.0, 5e3), (0.2, 1e5, 1e3, 1e4)])
@pytest.mark.parametrize("pattern", [(0, 0.0, 10.0), (0, 0.0, 1e6), (50, 300.0, 305.0), (4000, 100.0, 5000.0)])
def test_likelihood_at_the_extremes_equals_50_digits(params: tuple[float, ...], pattern: tuple[float, ...]) -> None:
    x, t_x, T = pattern
    ours = mbgnbd_log_likelihood(params, [x], [t_x], [T])
    assert ours == pytest.approx(_ll_50_digits(*params, int(x), t_x, T), rel=1e-10, abs=1e-12)


def test_one_time_buyers_fade_with_silence(cdnow_fit: MbgNbdFit) -> None:
    T = np.array([1.0, 30.0, 180.0, 365.0, 730.0])
    pa = mbgnbd_p_alive(cdnow_fit, np.zeros(5), np.zeros(5), T)
    assert (np.diff(pa) < 0).all() and pa[-1] < pa[0] < 1.0


def test_standard_errors_are_the_inverse_information(cdnow_fit: MbgNbdFit, cdnow: clv.RfmSummary) -> None:
    se = mbgnbd_standard_errors(cdnow_fit, cdnow.frequency, cdnow.recency, cdnow.T)
    assert all(0 < se[k] < getattr(cdnow_fit, k) for k in ("r", "alpha", "a", "b"))
    # Doubling the data (weights 2) divides every standard error by sqrt(2).
    se2 = mbgnbd_standard_errors(cdnow_fit, cdnow.frequency, cdnow.recency, cdnow.T, np.full(cdnow.T.shape, 2.0))
    for k in se:
        assert se2[k] == pytest.approx(se[k] / np.sqrt(2.0), rel=1e-4)


def test_too_little_data_is_refused() -> None:
    with pytest.raises(ClvFitError, match="too few customers"):
        fit_mbgnbd([1, 0], [5, 0], [10, 10])
    with pytest.raises(ClvFitError, match="too few repeat buyers"):
        fit_mbgnbd([0] * 50 + [1] * 3, [0] * 50 + [4] * 3, [30] * 53)
