"""Why a CLV model was not fitted, in words a marketer can act on (``clv_model_parameters``).

:func:`lifecycle.clv_pipeline.fit_outcome` fits each model on its own and reports a failure with a
:class:`ModelFailure`: a status of :data:`MODEL_STATUSES`, a plain-words reason built here from the
:class:`lifecycle.clv.ClvFitError` status and facts, and the technical message. The thresholds of
a *degenerate* optimum (one the optimiser accepts but no one should act on) live here, once;
doc block ``clv_model_status`` in ``models/intermediate/clv/_clv__docs.md`` describes them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from lifecycle.clv import ClvFitError, GammaGammaFit
from lifecycle.clv.models import PurchaseModel

#: The statuses of ``clv_model_parameters.model_status`` (and of each model's own status).
MODEL_STATUSES = ("fitted", "insufficient_data", "not_converged", "degenerate")

# Degenerate optima the optimiser accepts but no one should act on (doc block clv_model_status).
# A BG/NBD fit is degenerate when nobody is expected to drop out: the mean dropout probability
# after a purchase, a / (a + b), is below DEGENERATE_MAX_DROPOUT (a -> 0 or b -> infinity), or at
# least DEGENERATE_ALIVE_SHARE of the repeat buyers have p_alive >= DEGENERATE_P_ALIVE. A
# Gamma-Gamma fit is degenerate when the repeat buyers' mean spends hardly vary (coefficient of
# variation below DEGENERATE_MIN_SPEND_CV) or when its population mean spend p gamma / (q - 1)
# is more than DEGENERATE_SPEND_RATIO times the observed mean (q -> 1). Parameters that run to
# the optimiser's bounds are degenerate too (lifecycle.clv), except the homogeneous limits each
# model reaches there as its maximum likelihood answer (BG/NBD b -> infinity, checked here by the
# dropout rule; Gamma-Gamma q, gamma -> infinity, one spend rate for everybody).
DEGENERATE_MAX_DROPOUT = 1e-3
DEGENERATE_P_ALIVE = 0.99
DEGENERATE_ALIVE_SHARE = 0.99
DEGENERATE_MIN_SPEND_CV = 1e-3
DEGENERATE_SPEND_RATIO = 10.0

SPEND_MODEL = "the spend model (Gamma-Gamma)"


def purchase_model_words(label: str) -> str:
    """How the reasons name a purchase model: ``the purchase model (BG/NBD)``."""
    return f"the purchase model ({label})"


@dataclass(frozen=True)
class ModelFailure:
    """Why one model was not fitted: a status of :data:`MODEL_STATUSES`, the reason in plain
    words and the optimiser's own message."""

    status: str
    reason: str
    detail: str
    iterations: int | None = None


@dataclass(frozen=True)
class PurchaseOutcome:
    """One purchase model (of :data:`lifecycle.clv.models.PURCHASE_MODELS`) on one data set: its fit
    and the covariance of its log-parameters, or a :class:`ModelFailure`."""

    model: PurchaseModel
    fit: Any | None
    failure: ModelFailure | None = None
    log_cov: np.ndarray | None = None
    fit_seconds: float = 0.0

    @property
    def status(self) -> str:
        return "fitted" if self.failure is None else self.failure.status

    @property
    def standard_errors(self) -> dict[str, float] | None:
        if self.fit is None or self.log_cov is None:
            return None
        return self.model.standard_errors(self.fit, self.log_cov)


@dataclass(frozen=True)
class FitOutcome:
    """The CLV fits of one build: every purchase model, the spend model (Gamma-Gamma) and which
    purchase model the marts use (``chosen``, None when none can be used).

    The chosen purchase model alone gives p_alive and expected purchases; the spend model alone
    gives the expected spend per purchase; revenue and CLV need both.
    """

    purchase: tuple[PurchaseOutcome, ...]
    gamma_gamma: GammaGammaFit | None
    gamma_gamma_failure: ModelFailure | None = None
    chosen: str | None = None
    choice_reason: str = ""
    fit_seconds: float = 0.0
    #: The model the build asked for (the var clv_model): ``auto`` or a model name.
    setting: str = "auto"
    #: Standard errors of the spend model's p, q, gamma (None when not fitted or singular).
    gamma_gamma_se: dict[str, float] | None = None

    def outcome(self, name: str) -> PurchaseOutcome:
        for o in self.purchase:
            if o.model.name == name:
                return o
        raise KeyError(name)

    @property
    def chosen_outcome(self) -> PurchaseOutcome | None:
        return None if self.chosen is None else self.outcome(self.chosen)

    @property
    def purchase_failure(self) -> ModelFailure | None:
        """Why the build has no purchase model: the pinned model's failure, or (auto) the first
        model's when every model failed; None when a model was chosen."""
        if self.chosen is not None:
            return None
        wanted = self.purchase[0] if self.setting == "auto" else self.outcome(self.setting)
        return wanted.failure

    @property
    def purchase_label(self) -> str:
        if self.chosen is not None:
            return self.outcome(self.chosen).model.label
        return (self.purchase[0] if self.setting == "auto" else self.outcome(self.setting)).model.label

    @property
    def purchase_status(self) -> str:
        failure = self.purchase_failure
        return "fitted" if failure is None else failure.status

    @property
    def gamma_gamma_status(self) -> str:
        return "fitted" if self.gamma_gamma_failure is None else self.gamma_gamma_failure.status

    @property
    def status(self) -> str:
        """``fitted`` when a purchase model was chosen and the spend model fitted; otherwise the
        purchase model's failure, else the spend model's."""
        failure = self.purchase_failure or self.gamma_gamma_failure
        return "fitted" if failure is None else failure.status

    @property
    def reason(self) -> str:
        """What the status means for the marts, in plain words."""
        purchase_failure = self.purchase_failure
        label = self.purchase_label
        if purchase_failure is None and self.gamma_gamma_failure is None:
            return (
                f"{self.choice_reason} Both models were fitted: every buyer has p_alive, expected purchases, "
                "expected spend and CLV."
            ).strip()
        if purchase_failure is not None:
            lost = (
                "No purchase predictions are made (p_alive, expected purchases, revenue and CLV are "
                "empty) and lifecycle stages come from purchase cadence alone."
            )
            if self.gamma_gamma_failure is None:
                lost += " The spend model was fitted: expected spend per purchase is still given."
            return f"{purchase_failure.reason} {lost}"
        assert self.gamma_gamma_failure is not None
        return (
            f"{self.gamma_gamma_failure.reason} The purchase model ({label}) was fitted, so p_alive, "
            "expected purchases and the at-risk rule still apply; expected spend, predicted revenue "
            "and CLV are empty."
        )

    @property
    def detail(self) -> str:
        failures = [(self.purchase_label, self.purchase_failure), ("Gamma-Gamma", self.gamma_gamma_failure)]
        return "; ".join(f"{name}: {f.detail}" for name, f in failures if f is not None)


def plain_reason(model: str, error: ClvFitError) -> str:
    """A marketer's sentence for a failed fit, from the error's status and facts."""
    f = error.facts
    if error.status == "insufficient_data":
        if "repeat_buyers" in f:
            k, n = round(f["repeat_buyers"]), round(f["customers"])
            who = "No customer" if k == 0 else f"Only {k} of {n} customers"
            return (
                f"{who} bought on more than one day; {model} needs at least {f['min_repeat_buyers']} "
                f"repeat buyers (var clv_min_repeat_buyers) and {100 * f['min_repeat_share']:g}% of buyers "
                "to predict future purchases."
            )
        if "min_customers" in f and "spenders" in f:
            k = round(f["spenders"])
            who = "No repeat buyer" if k == 0 else f"Only {k} repeat buyers"
            return (
                f"{who} spent a positive amount on their repeat purchases; {model} needs at least "
                f"{f['min_customers']} (var clv_min_repeat_buyers) to predict how much customers will spend."
            )
        if "min_customers" in f:
            n = round(f["customers"])
            return (
                f"Only {n} customer{'' if n == 1 else 's'} bought anything; {model} needs at least "
                f"{f['min_customers']} buyers to predict future purchases."
            )
        if "customers" in f:
            return (
                "Every customer made their first purchase on the as-of date; there is no purchase history "
                f"yet for {model} to learn from."
            )
        return f"No customer bought anything on or before the as-of date; {model} has nothing to learn from."
    if error.status == "not_converged":
        its = f.get("iterations")
        after = f" after {its} optimiser iterations" if its is not None else ""
        return (
            f"{model[0].upper()}{model[1:]} could not settle on a stable fit{after}; its predictions "
            "would not be trustworthy, so none are made."
        )
    if f.get("no_spend_variation") or f.get("low_spend_variation"):
        return (
            f"Every repeat buyer spends (nearly) the same per purchase day, so {model} cannot tell "
            "big spenders from small ones."
        )
    if "alive_share" in f:
        return (
            f"{model[0].upper()}{model[1:]} sees no customer stop buying: it would call "
            f"{100 * f['alive_share']:.0f}% of repeat buyers still active (p_alive of at least "
            f"{DEGENERATE_P_ALIVE:g}). The history is too short or too regular to tell active "
            "customers from lapsed ones, so no purchase predictions are made."
        )
    if "dropout" in f:
        return (
            f"{model[0].upper()}{model[1:]} concluded that customers (almost) never stop buying "
            f"(a {100 * f['dropout']:.2g}% chance to drop out after a purchase), which the history "
            "cannot really show; its predictions would be meaningless, so none are made."
        )
    if "spend_ratio" in f:
        return (
            f"{model[0].upper()}{model[1:]} puts the average spend per purchase at "
            f"{f['spend_ratio']:.0f} times what customers actually spend (q close to 1): a few very "
            "large orders dominate, so no spend is predicted."
        )
    bound = ", ".join(f.get("at_bound", {})) or "its parameters"
    return (
        f"{model[0].upper()}{model[1:]} reached an extreme answer ({bound} at the limit of what it can "
        "estimate): the data does not pin the model down, so its predictions would be meaningless."
    )


def model_failure(model: str, error: ClvFitError) -> ModelFailure:
    if error.status == "invalid_input":  # a broken upstream model, not a property of the data
        raise error
    iterations = error.facts.get("iterations")
    return ModelFailure(error.status, plain_reason(model, error), str(error), iterations)


def degenerate_purchase_model(model: PurchaseModel, fit: Any, buyers: pd.DataFrame) -> ClvFitError | None:
    """A converged purchase-model optimum that says nobody ever churns (thresholds above): the
    mean dropout probability after a purchase a / (a + b) (BG/NBD, MBG/NBD) or the expected
    dropouts over the longest tenure, s / beta * max(T) (Pareto/NBD), below DEGENERATE_MAX_DROPOUT;
    or p_alive >= DEGENERATE_P_ALIVE for at least DEGENERATE_ALIVE_SHARE of the repeat buyers."""
    T_all = buyers["tenure_days"].to_numpy(dtype=float)
    if model.name == "pareto_nbd":
        dropout = fit.s / fit.beta * float(T_all.max(initial=0.0))
    else:
        dropout = fit.a / (fit.a + fit.b)
    if dropout < DEGENERATE_MAX_DROPOUT:
        return ClvFitError(
            f"{model.label} mean dropout {dropout:.3g} < {DEGENERATE_MAX_DROPOUT:g}",
            "degenerate",
            {"dropout": dropout, "iterations": fit.iterations},
        )
    x = buyers["frequency"].to_numpy(dtype=float)
    rep = x > 0
    alive = model.p_alive(fit, x[rep], buyers["recency_days"].to_numpy(dtype=float)[rep], T_all[rep])
    share = float((alive >= DEGENERATE_P_ALIVE).mean()) if rep.any() else 1.0
    if share >= DEGENERATE_ALIVE_SHARE:
        return ClvFitError(
            f"{model.label} p_alive >= {DEGENERATE_P_ALIVE:g} for {100 * share:.1f}% of repeat buyers "
            f"(threshold {100 * DEGENERATE_ALIVE_SHARE:g}%)",
            "degenerate",
            {"alive_share": share, "iterations": fit.iterations},
        )
    return None


def degenerate_gamma_gamma(gg: GammaGammaFit, m: np.ndarray) -> ClvFitError | None:
    """A converged Gamma-Gamma optimum that cannot be used (thresholds above)."""
    mean = float(m.mean())
    cv = float(m.std()) / mean
    if cv < DEGENERATE_MIN_SPEND_CV:
        return ClvFitError(
            f"Gamma-Gamma: mean spend varies too little across repeat buyers "
            f"(CV {cv:.2g} < {DEGENERATE_MIN_SPEND_CV:g})",
            "degenerate",
            {"low_spend_variation": True, "iterations": gg.iterations},
        )
    ratio = gg.mean_spend / mean
    if ratio > DEGENERATE_SPEND_RATIO:
        return ClvFitError(
            f"Gamma-Gamma population mean spend {gg.mean_spend:.4g} is {ratio:.3g} x the observed mean "
            f"{mean:.4g} (q = {gg.q:.4g})",
            "degenerate",
            {"spend_ratio": ratio, "iterations": gg.iterations},
        )
    return None
