"""Benchmark lifecycle.clv against lifetimes 0.11.3 on a simulated 1M-customer summary (days).

Times the BG/NBD fit, the Gamma-Gamma fit and the scoring steps (p_alive, expected purchases in
90 and 365 days, 12-month CLV) of ``lifecycle.clv`` and of ``lifetimes`` on the same summary
table, the same for MBG/NBD and Pareto/NBD, and the per-customer 80 % intervals of every model
(no lifetimes counterpart), checks that both agree, prints a markdown table and writes
``reports/bench_clv.json``.

    .venv/bin/python scripts/bench_clv.py [--customers 1000000] [--lifetimes-max 1000000]

``--lifetimes-max N`` runs lifetimes on a random subsample of N customers only (its times are then
also reported linearly extrapolated to the full table, marked as such); 0 skips lifetimes.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lifecycle import clv
from lifecycle.clv import mbgnbd, pareto_nbd
from lifecycle.clv.intervals import purchase_intervals
from lifecycle.clv.models import PURCHASE_MODELS

TRUE_BGNBD = {"r": 0.5, "alpha": 20.0, "a": 0.8, "b": 2.5}
TRUE_GG = {"p": 6.0, "q": 4.0, "gamma": 15.0}
MONTHLY_RATE = 0.01  # lifetimes' discount_rate (per 30-day month) for the CLV comparison


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def run(n_customers: int, lifetimes_max: int, seed: int) -> dict[str, Any]:
    x, t_x, T = clv.simulate_bgnbd(n_customers, **TRUE_BGNBD, T=(200, 700), seed=seed, integer_days=True)
    m = clv.simulate_gamma_gamma(x, **TRUE_GG, seed=seed + 1)
    xf = x.astype(float)
    rows: dict[str, dict[str, Any]] = {}

    bg, t_bg = _timed(lambda: clv.fit_bgnbd(x, t_x, T))
    gg, t_gg = _timed(lambda: clv.fit_gamma_gamma(x, m))
    _, t_pa = _timed(lambda: clv.p_alive(bg, x, t_x, T))
    _, t_e90 = _timed(lambda: clv.expected_purchases(bg, 90.0, x, t_x, T))
    _, t_e365 = _timed(lambda: clv.expected_purchases(bg, 365.0, x, t_x, T))
    spend = clv.conditional_expected_spend(gg, x, m)
    annual = (1 + MONTHLY_RATE) ** 12 - 1
    _, t_clv = _timed(
        lambda: clv.discounted_value(
            bg, x, t_x, T, clv.conditional_expected_spend(gg, x, m), 360.0, annual, step_days=30.0
        )
    )
    _, t_clv_default = _timed(lambda: clv.discounted_value(bg, x, t_x, T, spend, 365.0, 0.10))
    ours = {
        "bgnbd_fit": t_bg,
        "gamma_gamma_fit": t_gg,
        "p_alive": t_pa,
        "expected_purchases_90d": t_e90,
        "expected_purchases_365d": t_e365,
        "clv_12x30d": t_clv,
    }
    for key, val in ours.items():
        rows[key] = {"ours_s": val}
    rows["clv_365d_julian_months (ours only)"] = {"ours_s": t_clv_default}

    result: dict[str, Any] = {
        "customers": n_customers,
        "seed": seed,
        "true_bgnbd": TRUE_BGNBD,
        "true_gamma_gamma": TRUE_GG,
        "repeat_buyers": int((x > 0).sum()),
        "bgnbd": {
            **bg.params,
            "log_likelihood": bg.log_likelihood,
            "n_patterns": bg.n_patterns,
            "iterations": bg.iterations,
        },
        "gamma_gamma": {**gg.params, "log_likelihood": gg.log_likelihood, "n_customers": gg.n_customers},
        "se_bgnbd": clv.bgnbd_standard_errors(bg, x, t_x, T),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }

    if lifetimes_max > 0:
        warnings.filterwarnings("ignore")
        import pandas as pd
        from lifetimes import BetaGeoFitter, GammaGammaFitter

        n_lt = min(lifetimes_max, n_customers)
        idx = (
            np.sort(np.random.default_rng(seed + 2).choice(n_customers, n_lt, replace=False))
            if n_lt < n_customers
            else np.arange(n_customers)
        )
        lx, ltx, lT, lm = xf[idx], t_x[idx], T[idx], m[idx]
        factor = n_customers / n_lt
        bgf, l_bg = _timed(lambda: BetaGeoFitter().fit(lx, ltx, lT))
        rep = lx > 0
        ggf, l_gg = _timed(lambda: GammaGammaFitter().fit(lx[rep], lm[rep]))
        lt_bg = {k: float(v) for k, v in bgf.params_.items()}
        lt_gg = {"p": float(ggf.params_["p"]), "q": float(ggf.params_["q"]), "gamma": float(ggf.params_["v"])}
        # Our fit on the same sample, for a like-for-like parameter comparison.
        bg_s = clv.fit_bgnbd(lx, ltx, lT) if n_lt < n_customers else bg
        gg_s = clv.fit_gamma_gamma(lx, lm) if n_lt < n_customers else gg
        # Score with OUR parameters in lifetimes so the outputs are comparable.
        bgf.params_ = pd.Series(bg.params)
        ggf.params_ = pd.Series({"p": gg.p, "q": gg.q, "v": gg.gamma})
        pa_lt, l_pa = _timed(lambda: bgf.conditional_probability_alive(lx, ltx, lT))
        e90_lt, l_e90 = _timed(lambda: bgf.conditional_expected_number_of_purchases_up_to_time(90.0, lx, ltx, lT))
        e365_lt, l_e365 = _timed(lambda: bgf.conditional_expected_number_of_purchases_up_to_time(365.0, lx, ltx, lT))
        ser = pd.RangeIndex(n_lt)
        clv_lt, l_clv = _timed(
            lambda: ggf.customer_lifetime_value(
                bgf,
                pd.Series(lx, ser),
                pd.Series(ltx, ser),
                pd.Series(lT, ser),
                pd.Series(lm, ser),
                time=12,
                discount_rate=MONTHLY_RATE,
                freq="D",
            ).to_numpy()
        )
        theirs = {
            "bgnbd_fit": l_bg,
            "gamma_gamma_fit": l_gg,
            "p_alive": l_pa,
            "expected_purchases_90d": l_e90,
            "expected_purchases_365d": l_e365,
            "clv_12x30d": l_clv,
        }
        for key, val in theirs.items():
            rows[key]["lifetimes_s"] = val
            rows[key]["lifetimes_n"] = n_lt
            if n_lt < n_customers:
                rows[key]["lifetimes_extrapolated_s"] = val * factor
        # Agreement on the lifetimes sample (same parameters for scoring).
        ours_clv = clv.discounted_value(
            bg, lx, ltx, lT, clv.conditional_expected_spend(gg, lx, lm), 360.0, annual, step_days=30.0
        )
        result["lifetimes"] = {
            "customers": n_lt,
            "bgnbd_params": lt_bg,
            "gamma_gamma_params": lt_gg,
            "max_rel_diff_params_same_sample": {
                **{k: abs(getattr(bg_s, k) / v - 1) for k, v in lt_bg.items()},
                **{k: abs(getattr(gg_s, k) / v - 1) for k, v in lt_gg.items()},
            },
            "log_likelihood_ours_minus_lifetimes_same_sample": bg_s.log_likelihood
            - clv.bgnbd_log_likelihood([lt_bg[k] for k in ("r", "alpha", "a", "b")], lx, ltx, lT),
            "max_rel_diff_scores_same_params": {
                "p_alive": _rel(clv.p_alive(bg, lx, ltx, lT), pa_lt),
                "expected_purchases_90d": _rel(clv.expected_purchases(bg, 90.0, lx, ltx, lT), e90_lt),
                "expected_purchases_365d": _rel(clv.expected_purchases(bg, 365.0, lx, ltx, lT), e365_lt),
                "clv_12x30d": _rel(ours_clv, clv_lt),
            },
        }
    result["timings"] = rows
    fits: dict[str, Any] = {"bg_nbd": bg}
    result["other_models"] = _other_models(xf, t_x, T, lifetimes_max, seed, rows, fits)
    result["intervals"] = _intervals(fits, xf, t_x, T, m, gg, rows, seed)
    return result


def _intervals(
    fits: dict[str, Any],
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    m: np.ndarray,
    gg: clv.GammaGammaFit,
    rows: dict[str, dict[str, Any]],
    seed: int,
) -> dict[str, Any]:
    """The per-customer 80 % intervals of purchases and CLV over 365 days for every model (the
    covariance of its log-parameters, then the draws; lifetimes has no counterpart)."""
    import tracemalloc

    out: dict[str, Any] = {}
    spend_m = np.where(x > 0, m, np.nan)
    for name, model in PURCHASE_MODELS.items():
        fit = fits[name]
        cov, t_cov = _timed(lambda model=model, fit=fit: model.log_covariance(fit, x, t_x, T))
        tracemalloc.start()
        iv, t_iv = _timed(
            lambda model=model, fit=fit, cov=cov: purchase_intervals(
                model, fit, cov, x, t_x, T, 365.0, spend=gg, mean_spend=spend_m, seed=seed
            )
        )
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        rows[f"{name}_covariance (no lifetimes counterpart)"] = {"ours_s": t_cov}
        rows[f"{name}_intervals_80pct (no lifetimes counterpart)"] = {"ours_s": t_iv}
        out[name] = {
            "covariance_s": t_cov,
            "intervals_s": t_iv,
            "intervals_peak_mib": peak / 2**20,
            "mean_purchases_width": float((iv.purchases_high - iv.purchases_low).mean()),
        }
    return out


def _other_models(
    x: np.ndarray,
    t_x: np.ndarray,
    T: np.ndarray,
    lifetimes_max: int,
    seed: int,
    rows: dict[str, dict[str, Any]],
    fits: dict[str, Any],
) -> dict[str, Any]:
    """Pareto/NBD and MBG/NBD on the same summary: fit, p_alive and 90-day expected purchases,
    each beside lifetimes (ParetoNBDFitter, ModifiedBetaGeoFitter) on a subsample of at most
    ``lifetimes_max`` customers, scored with our parameters."""
    models = {
        "pareto_nbd": (
            pareto_nbd.fit_pareto_nbd,
            pareto_nbd.pareto_nbd_p_alive,
            pareto_nbd.pareto_nbd_expected_purchases,
            "ParetoNBDFitter",
        ),
        "mbg_nbd": (
            mbgnbd.fit_mbgnbd,
            mbgnbd.mbgnbd_p_alive,
            mbgnbd.mbgnbd_expected_purchases,
            "ModifiedBetaGeoFitter",
        ),
    }
    out: dict[str, Any] = {}
    n = x.shape[0]
    n_lt = min(lifetimes_max, n)
    idx = np.sort(np.random.default_rng(seed + 3).choice(n, n_lt, replace=False)) if 0 < n_lt < n else np.arange(n)
    lx, ltx, lT = x[idx], t_x[idx], T[idx]
    for name, (fit_fn, alive_fn, expect_fn, ref_name) in models.items():
        fit, t_fit = _timed(lambda fit_fn=fit_fn: fit_fn(x, t_x, T))
        pa, t_pa = _timed(lambda fit=fit, alive_fn=alive_fn: alive_fn(fit, x, t_x, T))
        e90, t_e90 = _timed(lambda fit=fit, expect_fn=expect_fn: expect_fn(fit, 90.0, x, t_x, T))
        fits[name] = fit
        rows[f"{name}_fit"] = {"ours_s": t_fit}
        rows[f"{name}_p_alive"] = {"ours_s": t_pa}
        rows[f"{name}_expected_purchases_90d"] = {"ours_s": t_e90}
        out[name] = {**fit.params, "log_likelihood": fit.log_likelihood, "n_patterns": fit.n_patterns}
        if n_lt <= 0:
            continue
        warnings.filterwarnings("ignore")
        import lifetimes
        import pandas as pd

        ref, l_fit = _timed(lambda ref_name=ref_name: getattr(lifetimes, ref_name)().fit(lx, ltx, lT))
        ref_params = {k: float(v) for k, v in ref.params_.items()}
        ref.params_ = pd.Series(fit.params)
        l_pa_v, l_pa = _timed(lambda ref=ref: ref.conditional_probability_alive(lx, ltx, lT))
        l_e90_v, l_e90 = _timed(
            lambda ref=ref: ref.conditional_expected_number_of_purchases_up_to_time(90.0, lx, ltx, lT)
        )
        for step, val in (("fit", l_fit), ("p_alive", l_pa), ("expected_purchases_90d", l_e90)):
            row = rows[f"{name}_{step}"]
            row["lifetimes_s"], row["lifetimes_n"] = val, n_lt
            if n_lt < n:
                row["lifetimes_extrapolated_s"] = val * n / n_lt
        out[name]["lifetimes_params_on_subsample"] = ref_params
        out[name]["max_rel_diff_scores_same_params"] = {
            "p_alive": _rel(pa[idx], l_pa_v),
            "expected_purchases_90d": _rel(e90[idx], l_e90_v),
        }
    return out


def _markdown(result: dict[str, Any]) -> str:
    n = result["customers"]
    lines = [
        f"Simulated {n:,} customers (days; r={TRUE_BGNBD['r']}, alpha={TRUE_BGNBD['alpha']}, "
        f"a={TRUE_BGNBD['a']}, b={TRUE_BGNBD['b']}; T ~ U[200, 700] days), "
        f"{result['repeat_buyers']:,} repeat buyers, {result['bgnbd']['n_patterns']:,} distinct patterns.",
        "",
        "| step | lifecycle.clv (s) | lifetimes (s) | lifetimes n | lifetimes at full n (s) | speed-up |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for step, row in result["timings"].items():
        ours = row["ours_s"]
        lt = row.get("lifetimes_s")
        lt_full = row.get("lifetimes_extrapolated_s", lt)
        speed = f"{lt_full / ours:.1f}x" if lt_full is not None and ours > 0 else ""
        lines.append(
            f"| {step} | {ours:.3f} | {'' if lt is None else f'{lt:.3f}'} | "
            f"{row.get('lifetimes_n', '') if lt is not None else ''} | "
            f"{'' if lt_full is None else f'{lt_full:.3f}'} | {speed} |"
        )
    bg, gg = result["bgnbd"], result["gamma_gamma"]
    se = result["se_bgnbd"]
    lines += [
        "",
        "BG/NBD fit: "
        + ", ".join(f"{k}={bg[k]:.4f} (se {se[k]:.4f})" for k in ("r", "alpha", "a", "b"))
        + f", LL={bg['log_likelihood']:.1f}, {bg['iterations']} iterations",
        "Gamma-Gamma fit: " + ", ".join(f"{k}={gg[k]:.4f}" for k in ("p", "q", "gamma")),
    ]
    if "lifetimes" in result:
        lt = result["lifetimes"]
        lines.append(
            "lifetimes agreement: params (same sample) max rel diff "
            + ", ".join(f"{k}={v:.1e}" for k, v in lt["max_rel_diff_params_same_sample"].items())
            + f"; LL(ours) - LL(lifetimes) = {lt['log_likelihood_ours_minus_lifetimes_same_sample']:.2e}"
        )
        lines.append(
            "scores with the same params, max rel diff: "
            + ", ".join(f"{k}={v:.1e}" for k, v in lt["max_rel_diff_scores_same_params"].items())
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-max", type=int, default=1_000_000, help="lifetimes subsample (0: skip)")
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "reports" / "bench_clv.json")
    args = parser.parse_args(argv)
    result = run(args.customers, args.lifetimes_max, args.seed)
    print(_markdown(result))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
