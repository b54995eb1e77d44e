"""Great Expectations suites for every mart of the warehouse (``lifecycle validate``).

GX cannot validate DuckDB through SQLAlchemy, so each mart is read into a pandas DataFrame with
duckdb and validated in memory (GX 1.x: an ephemeral context, one pandas Data Source with a
DataFrame asset per mart, a whole-dataframe Batch Definition, an Expectation Suite, a
Validation Definition and a Checkpoint whose ``UpdateDataDocsAction`` writes the Data Docs HTML
under ``<reports>/data_docs/``). A JSON summary goes to ``<reports>/validation.json``.

The suites are defined here, in code: :func:`mart_specs` holds the per-mart column contract
(never-null columns, ranges, accepted values, uniqueness) and :class:`Bounds` every plausibility
threshold in one place. Checks across marts (equal row counts of the per-customer marts) and
distribution checks (lifecycle stage shares, every RFM segment present at scale) are expressed
as ordinary expectations: the row count of ``customers`` becomes the expected row count of the
other per-customer marts, and each stage share is the mean of a derived boolean column
(``_share_<stage>``) added to the DataFrame before validation.

A mart found in schema ``marts`` without a spec here (marts are discovered from
information_schema) gets a generic suite derived from the unconditional ``not_null``, ``unique``,
``accepted_values`` and ``accepted_range`` tests of its model yml (and the per-customer checks when
the yml tests ``has_row_count_of ref('customers')``), and the report says so.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Before GX is imported anywhere: no usage statistics, no phoning home.
os.environ["GX_ANALYTICS_ENABLED"] = "False"
os.environ["DO_NOT_TRACK"] = "1"

import duckdb
import pandas as pd

from lifecycle import paths, schema
from lifecycle.build_record import build_invocation_id

MARTS_SCHEMA = "marts"
DATA_DOCS_SITE = "lifecycle_data_docs"

LIFECYCLE_STAGES: tuple[str, ...] = (
    "prospect", "new", "active", "loyal", "advocate", "at_risk", "churned", "reactivated",
)
RFM_BUYER_SEGMENTS: tuple[str, ...] = (
    "Champions", "Loyal", "Potential Loyalist", "New", "Promising", "Need Attention",
    "About To Sleep", "At Risk", "Can't Lose", "Hibernating", "Lost",
)
RFM_SEGMENTS: tuple[str, ...] = (*RFM_BUYER_SEGMENTS, "Prospect")
CHANNEL_MIXES = ("none", "online_only", "store_only", "omnichannel")
PREFERRED_CHANNELS = ("none", "web", "app", "store")
GENDERS = ("female", "male", "other", "unknown")
VALUE_TIERS = ("top_10pct", "high", "medium", "low", "none")
CLV_TIERS = ("top_10pct", "next_20pct", "middle_40pct", "low_30pct", "no_value")
DISCOUNT_AFFINITIES = ("deal_seeker", "occasional", "full_price", "none")
AGE_BANDS = ("under_18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+", "unknown")
ENGAGEMENT_LEVELS = ("high", "medium", "low", "none")
BACKTEST_BREAKDOWNS = ("total", "calibration_frequency", "week")
QUARANTINE_DETECTED_IN = ("import", "staging", "intermediate")
RFM_SCORES = (1, 2, 3, 4, 5)
FLOAT_MAX = sys.float_info.max


@dataclass(frozen=True)
class Bounds:
    """Every plausibility threshold of the suites, in one place."""

    max_stage_share: float = 0.8  # no lifecycle stage holds more than this share of customers
    churned_at_risk_share: tuple[float, float] = (0.05, 0.9)  # churned + at_risk, share of customers
    min_buyers_for_all_segments: int = 1000  # from this many buyers on, all 11 RFM buyer segments exist
    min_probability: float = 0.0
    max_probability: float = 1.0
    min_money: float = 0.0  # CLV, revenue, spend, expected purchases
    min_q: float = 1.0  # Gamma-Gamma q must exceed this (strictly) for the conditional mean to exist
    min_customers: int = 1  # the customers mart must not be empty


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True)
class Range:
    """A value range; None is open. ``strict_min`` excludes the minimum."""

    min_value: float | None = None
    max_value: float | None = None
    strict_min: bool = False


@dataclass(frozen=True)
class MartSpec:
    """The column contract of one mart."""

    not_null: tuple[str, ...] = ()
    not_null_when: dict[str, str] = field(default_factory=dict)  # column -> pandas row condition
    unique: tuple[str, ...] = ()
    ranges: dict[str, Range] = field(default_factory=dict)
    value_sets: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    per_customer: bool = False  # one row per customer: unique customer_id, row count = customers
    exact_rows: int | None = None


def mart_specs(bounds: Bounds = DEFAULT_BOUNDS) -> dict[str, MartSpec]:
    """The suites of the known marts (the never-null columns mirror ``_marts__models.yml``)."""
    prob = Range(bounds.min_probability, bounds.max_probability)
    money = Range(bounds.min_money)
    nonneg = Range(0)
    positive = Range(0, strict_min=True)
    return {
        "customers": MartSpec(
            not_null=(
                "customer_id", "as_of_date", "crm_record_count", "has_loyalty_card", "has_marketing_consent",
                "has_purchased", "purchase_days", "purchase_orders", "net_revenue", "channel_mix",
                "preferred_channel",
            ),
            ranges={
                "crm_record_count": Range(1), "purchase_days": nonneg, "purchase_orders": nonneg,
                "net_revenue": money,
            },
            value_sets={"gender": GENDERS, "channel_mix": CHANNEL_MIXES, "preferred_channel": PREFERRED_CHANNELS},
            per_customer=True,
        ),
        "customer_lifecycle": MartSpec(
            not_null=(
                "customer_id", "as_of_date", "lifecycle_stage", "has_low_p_alive", "has_advocacy_signal",
                "is_new", "is_loyal", "is_at_risk", "is_churned", "is_reactivated",
            ),
            not_null_when={"stage_started_date": 'lifecycle_stage != "prospect"'},
            ranges={
                "churn_probability": prob, "days_since_last_purchase": nonneg, "days_since_first_purchase": nonneg,
                "purchase_days": nonneg, "purchase_days_last_365d": nonneg,
            },
            value_sets={"lifecycle_stage": LIFECYCLE_STAGES},
            per_customer=True,
        ),
        "customer_segments": MartSpec(
            not_null=(
                "customer_id", "rfm_segment", "value_tier", "favourite_category", "discount_affinity", "age_band",
                "country_code", "region", "engagement_level", "engagement_score",
            ),
            ranges={"engagement_score": nonneg},
            value_sets={
                "recency_score": RFM_SCORES, "frequency_score": RFM_SCORES, "monetary_score": RFM_SCORES,
                "rfm_segment": RFM_SEGMENTS, "value_tier": VALUE_TIERS, "channel_mix": CHANNEL_MIXES,
                "preferred_channel": PREFERRED_CHANNELS, "discount_affinity": DISCOUNT_AFFINITIES,
                "age_band": AGE_BANDS, "engagement_level": ENGAGEMENT_LEVELS,
            },
            per_customer=True,
        ),
        "customer_clv": MartSpec(
            not_null=(
                "customer_id", "has_purchased", "historical_revenue", "clv_horizon_days", "predicted_revenue",
                "predicted_clv", "clv_tier",
            ),
            not_null_when={"p_alive": "has_purchased == True", "expected_purchases_90d": "has_purchased == True"},
            ranges={
                "historical_revenue": money, "p_alive": prob, "churn_probability": prob,
                "expected_purchases_90d": money, "expected_purchases": money,
                "expected_avg_order_value": Range(bounds.min_money, strict_min=True),
                "predicted_revenue": money, "predicted_clv": money, "avg_order_value": money,
                "frequency": nonneg, "recency_days": nonneg, "tenure_days": nonneg,
            },
            value_sets={"clv_tier": CLV_TIERS},
            per_customer=True,
        ),
        "clv_model_parameters": MartSpec(
            not_null=(
                "as_of_date", "r", "alpha", "a", "b", "p", "q", "gamma", "bgnbd_log_likelihood",
                "gamma_gamma_log_likelihood", "is_converged",
            ),
            unique=("as_of_date",),
            ranges={
                "r": positive, "alpha": positive, "a": positive, "b": positive, "p": positive, "gamma": positive,
                "q": Range(bounds.min_q, strict_min=True),
                "bgnbd_log_likelihood": Range(-FLOAT_MAX, FLOAT_MAX),
                "gamma_gamma_log_likelihood": Range(-FLOAT_MAX, FLOAT_MAX),
                "population_avg_order_value": positive,
            },
            value_sets={"is_converged": (True,)},
            exact_rows=1,
        ),
        "clv_backtest": MartSpec(
            not_null=("backtest_row_id", "breakdown"),
            unique=("backtest_row_id",),
            ranges={
                "customers": nonneg, "actual_repeat_purchases": nonneg, "predicted_repeat_purchases": nonneg,
                "per_customer_correlation": Range(-1, 1), "per_customer_mean_absolute_error": nonneg,
            },
            value_sets={"breakdown": BACKTEST_BREAKDOWNS},
        ),
        "quarantined_rows": MartSpec(
            not_null=("quarantined_row_id", "source_table", "quarantine_reason"),
            unique=("quarantined_row_id",),
            value_sets={
                "source_table": tuple(schema.TABLES),
                "quarantine_reason": tuple(schema.QUARANTINE_REASONS),
                "detected_in": QUARANTINE_DETECTED_IN,
            },
        ),
    }


PER_CUSTOMER_BASE = "customers"


# ---------------------------------------------------------------------------------------------
# Results


@dataclass
class Failure:
    mart: str
    expectation: str
    column: str | None
    observed: str
    description: str = ""

    def line(self) -> str:
        col = f" column={self.column}" if self.column else ""
        return f"  FAIL {self.mart}: {self.expectation}{col}: {self.observed}"


@dataclass
class MartResult:
    mart: str
    rows: int | None
    evaluated: int
    passed: int
    failures: list[Failure]
    suite_source: str  # "lifecycle/validate.py", "model yml (generic)" or "missing"

    @property
    def failed(self) -> int:
        return len(self.failures)

    @property
    def success(self) -> bool:
        return not self.failures


@dataclass
class ValidationReport:
    db_path: Path
    reports_dir: Path | None
    marts: list[MartResult]
    notes: list[str]
    started_at: datetime
    elapsed_seconds: float
    data_docs_index: Path | None = None
    json_path: Path | None = None

    @property
    def success(self) -> bool:
        return bool(self.marts) and all(m.success for m in self.marts)

    @property
    def evaluated(self) -> int:
        return sum(m.evaluated for m in self.marts)

    @property
    def failed(self) -> int:
        return sum(m.failed for m in self.marts)

    @property
    def failures(self) -> list[Failure]:
        return [f for m in self.marts for f in m.failures]

    def summary_lines(self) -> list[str]:
        lines = [f"Validation of {self.db_path} (schema {MARTS_SCHEMA}):"]
        width = max((len(m.mart) for m in self.marts), default=10)
        for m in self.marts:
            status = "ok  " if m.success else "FAIL"
            rows = "-" if m.rows is None else str(m.rows)
            lines.append(
                f"  {status} {m.mart:<{width}}  {m.passed:>3} passed  {m.failed:>3} failed  rows={rows}"
                + ("" if m.suite_source == "lifecycle/validate.py" else f"  (suite: {m.suite_source})")
            )
        lines.extend(f.line() for f in self.failures)
        lines.extend(f"  note: {n}" for n in self.notes)
        verdict = "PASSED" if self.success else "FAILED"
        lines.append(
            f"{verdict}: {self.evaluated - self.failed}/{self.evaluated} expectations passed "
            f"in {self.elapsed_seconds:.1f}s"
        )
        if self.data_docs_index:
            lines.append(f"Data Docs: {self.data_docs_index}")
        if self.json_path:
            lines.append(f"Summary: {self.json_path}")
        return lines

    def to_dict(self) -> dict[str, Any]:
        return {
            "db": str(self.db_path),
            "success": self.success,
            "started_at": self.started_at.isoformat(),
            "elapsed_seconds": round(self.elapsed_seconds, 3),
            "expectations_evaluated": self.evaluated,
            "expectations_failed": self.failed,
            "data_docs": str(self.data_docs_index) if self.data_docs_index else None,
            "notes": self.notes,
            "marts": [
                {
                    "mart": m.mart,
                    "rows": m.rows,
                    "success": m.success,
                    "evaluated": m.evaluated,
                    "passed": m.passed,
                    "failed": m.failed,
                    "suite": m.suite_source,
                    "failures": [
                        {"expectation": f.expectation, "column": f.column, "observed": f.observed,
                         "description": f.description}
                        for f in m.failures
                    ],
                }
                for m in self.marts
            ],
        }


class ValidationError(Exception):
    """The warehouse could not be validated at all (missing file, locked, no marts schema)."""


# ---------------------------------------------------------------------------------------------
# Building the suites


def _test_name_args(test: Any) -> tuple[str, dict[str, Any], str | None]:
    """(name, arguments, where) of a dbt data test entry in a model yml."""
    name, body = (test, {}) if isinstance(test, str) else next(iter(test.items()))
    body = body or {}
    where = (body.get("config") or {}).get("where")
    args = body.get("arguments", body)
    return str(name), args if isinstance(args, dict) else {}, where


def model_yml_specs() -> dict[str, MartSpec]:
    """Generic specs from the marts' model yml, for marts without a spec in code.

    Translated (unconditional tests only): ``not_null`` (and not_null / primary_key constraints),
    ``unique``, ``accepted_values``, ``accepted_range``; a model tested ``has_row_count_of``
    ``ref('customers')`` is a per-customer mart (unique customer_id, as many rows as customers).
    """
    import yaml

    specs: dict[str, MartSpec] = {}
    for yml in sorted((paths.PROJECT_ROOT / "models" / "marts").rglob("*.yml")):
        try:
            doc = yaml.safe_load(yml.read_text()) or {}
        except (OSError, yaml.YAMLError):
            continue
        for model in doc.get("models") or []:
            not_null: list[str] = []
            unique: list[str] = []
            ranges: dict[str, Range] = {}
            value_sets: dict[str, tuple[Any, ...]] = {}
            per_customer = False
            for test in model.get("data_tests") or model.get("tests") or []:
                tname, args, where = _test_name_args(test)
                compare = str(args.get("compare_model", "")).replace('"', "'").replace(" ", "")
                if tname == "has_row_count_of" and not where and compare == f"ref('{PER_CUSTOMER_BASE}')":
                    per_customer = True
            for col in model.get("columns") or []:
                name = col.get("name")
                constraints = {c.get("type") for c in col.get("constraints") or [] if isinstance(c, dict)}
                if constraints & {"not_null", "primary_key"}:
                    not_null.append(name)
                for test in col.get("data_tests") or col.get("tests") or []:
                    tname, args, where = _test_name_args(test)
                    if where:
                        continue  # conditional tests are not translated
                    if tname == "not_null" and name not in not_null:
                        not_null.append(name)
                    elif tname == "unique":
                        unique.append(name)
                    elif tname == "accepted_values" and isinstance(args.get("values"), list):
                        value_sets[name] = tuple(
                            v.replace("''", "'") if isinstance(v, str) else v for v in args["values"]
                        )
                    elif tname == "accepted_range" and ("min_value" in args or "max_value" in args):
                        inclusive = args.get("inclusive", True) is not False
                        ranges[name] = Range(args.get("min_value"), args.get("max_value"), strict_min=not inclusive)
            if per_customer and "customer_id" in unique:
                unique.remove("customer_id")  # the per-customer checks add it
            specs[model["name"]] = MartSpec(
                not_null=tuple(not_null), unique=tuple(unique), ranges=ranges, value_sets=value_sets,
                per_customer=per_customer,
            )
    return specs


def _expectations_for(
    mart: str, spec: MartSpec, df: pd.DataFrame, ctx: dict[str, Any], bounds: Bounds
) -> list[Any]:
    """The GX expectations of one mart; ``ctx`` carries the facts checks across marts need."""
    import great_expectations.expectations as gxe

    exps: list[Any] = []
    cols = set(df.columns)
    for col in spec.not_null:
        exps.append(gxe.ExpectColumnValuesToNotBeNull(column=col))
    for col, cond in spec.not_null_when.items():
        exps.append(gxe.ExpectColumnValuesToNotBeNull(column=col, row_condition=cond, condition_parser="pandas"))
    for col in spec.unique:
        exps.append(gxe.ExpectColumnValuesToBeUnique(column=col))
    for col, r in spec.ranges.items():
        exps.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=col, min_value=r.min_value, max_value=r.max_value, strict_min=r.strict_min
            )
        )
    for col, values in spec.value_sets.items():
        exps.append(gxe.ExpectColumnValuesToBeInSet(column=col, value_set=list(values)))
    if spec.exact_rows is not None:
        exps.append(gxe.ExpectTableRowCountToEqual(value=spec.exact_rows))

    if spec.per_customer:
        exps.append(gxe.ExpectColumnValuesToBeUnique(column="customer_id"))
        if mart == PER_CUSTOMER_BASE:
            exps.append(gxe.ExpectTableRowCountToBeBetween(min_value=bounds.min_customers))
        elif ctx.get("customers_rows") is not None:
            exps.append(
                gxe.ExpectTableRowCountToEqual(
                    value=int(ctx["customers_rows"]),
                    description=f"One row per customer: as many rows as marts.{PER_CUSTOMER_BASE}",
                )
            )

    # A contract column that is missing: one clear failure instead of an error per expectation.
    missing: list[str] = []
    kept: list[Any] = []
    for exp in exps:
        col = getattr(exp, "column", None)
        if col is not None and col not in cols:
            if col not in missing:
                missing.append(col)
            continue
        kept.append(exp)
    exps = kept + [gxe.ExpectColumnToExist(column=col) for col in missing]

    if mart == "customer_lifecycle" and "lifecycle_stage" in cols:
        for stage in LIFECYCLE_STAGES:
            exps.append(
                gxe.ExpectColumnMeanToBeBetween(
                    column=f"_share_{stage}", min_value=0.0, max_value=bounds.max_stage_share,
                    description=f"Share of customers in stage {stage} is at most {bounds.max_stage_share:.0%}",
                )
            )
        lo, hi = bounds.churned_at_risk_share
        exps.append(
            gxe.ExpectColumnMeanToBeBetween(
                column="_share_churned_or_at_risk", min_value=lo, max_value=hi,
                description=f"Share of customers churned or at risk is within [{lo:.0%}, {hi:.0%}]",
            )
        )
    if mart == "customer_segments" and "rfm_segment" in cols:
        buyers = int((df["rfm_segment"] != "Prospect").sum())
        if buyers >= bounds.min_buyers_for_all_segments:
            exps.append(
                gxe.ExpectColumnDistinctValuesToContainSet(
                    column="rfm_segment", value_set=list(RFM_BUYER_SEGMENTS),
                    description=f"All 11 RFM buyer segments are present ({buyers} buyers >= "
                    f"{bounds.min_buyers_for_all_segments})",
                )
            )
        else:
            ctx.setdefault("notes", []).append(
                f"customer_segments: only {buyers} buyers (< {bounds.min_buyers_for_all_segments}): "
                "the every-RFM-segment-present check was not run"
            )
    return exps


def _prepare(mart: str, df: pd.DataFrame) -> pd.DataFrame:
    """Derived columns some expectations need (shares as means of booleans)."""
    if mart == "customer_lifecycle" and "lifecycle_stage" in df.columns:
        stage = df["lifecycle_stage"]
        derived = {f"_share_{s}": (stage == s).astype(float) for s in LIFECYCLE_STAGES}
        derived["_share_churned_or_at_risk"] = stage.isin(["churned", "at_risk"]).astype(float)
        df = pd.concat([df, pd.DataFrame(derived, index=df.index)], axis=1)
    return df


# ---------------------------------------------------------------------------------------------
# Running


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _exception_message(exc: dict[str, Any]) -> str | None:
    """The first exception message of a result's exception_info (flat, or keyed by metric id)."""
    if exc.get("raised_exception"):
        return str(exc.get("exception_message") or "exception")
    for value in exc.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message") or "exception")
    return None


def _sample(values: list[Any] | None) -> str:
    return ", ".join(_fmt(v) for v in (values or [])[:5])


def _observed(result: Any) -> str:
    """A readable observed value of one expectation result."""
    msg = _exception_message(result.exception_info or {})
    if msg:
        return "error: " + msg.strip().splitlines()[0][:300]
    res = result.result or {}
    kind = result.expectation_config.type
    if kind == "expect_column_to_exist":
        return "the column is missing"
    if kind == "expect_column_distinct_values_to_contain_set" and res.get("missing_count"):
        return f"{res['missing_count']} expected value(s) missing: {_sample(res.get('partial_missing_list'))}"
    if "observed_value" in res:
        return f"observed {_fmt(res['observed_value'])}"
    if "unexpected_count" in res:
        pct = res.get("unexpected_percent")
        pct_s = f" ({pct:.3g}%)" if isinstance(pct, int | float) and math.isfinite(pct) else ""
        return f"{res['unexpected_count']} unexpected{pct_s}, e.g. {_sample(res.get('partial_unexpected_list'))}"
    return _fmt(res) if res else "failed"


@contextmanager
def _quiet() -> Iterator[None]:
    """GX and pandas are chatty (progress bars, deprecation warnings): keep the summary readable."""
    import logging

    gx_logger = logging.getLogger("great_expectations")
    level = gx_logger.level
    gx_logger.setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            yield
        finally:
            gx_logger.setLevel(level)


def _marts_in(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "select table_name from information_schema.tables where table_schema = ? order by table_name",
        [MARTS_SCHEMA],
    ).fetchall()
    return [r[0] for r in rows]


def _reset_docs_dir(docs_dir: Path) -> None:
    """Data Docs are rebuilt per run; drop pages of earlier runs (only a GX-made folder is removed)."""
    if docs_dir.is_dir() and ((docs_dir / "index.html").exists() or (docs_dir / "static").is_dir()):
        shutil.rmtree(docs_dir)
    docs_dir.mkdir(parents=True, exist_ok=True)


def _run_suite(
    context: Any, source: Any, mart: str, df: pd.DataFrame, exps: list[Any], site_names: list[str]
) -> tuple[int, list[Failure]]:
    """Asset, batch definition, suite, validation definition and checkpoint of one mart; run it."""
    import great_expectations as gx
    import great_expectations.expectations as gxe
    from great_expectations.checkpoint import UpdateDataDocsAction

    if not exps:
        exps = [gxe.ExpectTableRowCountToBeBetween(min_value=0)]
    asset = source.add_dataframe_asset(name=mart)
    batch_def = asset.add_batch_definition_whole_dataframe(f"{mart}_all_rows")
    # Expectations given up front: add_expectation on a stored suite re-saves it each time.
    suite = context.suites.add(gx.ExpectationSuite(name=f"marts.{mart}", expectations=exps))
    vdef = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"validate_{mart}", data=batch_def, suite=suite)
    )
    actions = [UpdateDataDocsAction(name="update_data_docs", site_names=site_names)] if site_names else []
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=f"checkpoint_{mart}", validation_definitions=[vdef], actions=actions,
            result_format={"result_format": "BASIC", "partial_unexpected_count": 5},
        )
    )
    result = checkpoint.run(batch_parameters={"dataframe": df})
    failures: list[Failure] = []
    evaluated = 0
    for vres in result.run_results.values():
        for r in vres.results:
            evaluated += 1
            if not r.success:
                cfg = r.expectation_config
                description = getattr(cfg, "description", None) or ""
                failures.append(Failure(mart, cfg.type, cfg.kwargs.get("column"), _observed(r), description))
    return evaluated, failures


def validate_connection(
    con: duckdb.DuckDBPyConnection,
    reports_dir: Path | None,
    *,
    db_label: Path,
    bounds: Bounds = DEFAULT_BOUNDS,
) -> ValidationReport:
    """Validate every mart readable through ``con``; write Data Docs and JSON under ``reports_dir``."""
    started_at = datetime.now(UTC)
    t0 = time.perf_counter()
    with _quiet():
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        specs = mart_specs(bounds)
        present = _marts_in(con)
        if not present:
            raise ValidationError(f"no tables in schema '{MARTS_SCHEMA}' of {db_label}: build the warehouse first")
        yml_specs = {k: v for k, v in model_yml_specs().items() if k not in specs}
        notes: list[str] = []
        results: list[MartResult] = []
        ctx: dict[str, Any] = {"notes": notes}

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        site_names: list[str] = []
        docs_dir: Path | None = None
        if reports_dir is not None:
            docs_dir = Path(reports_dir) / "data_docs"
            _reset_docs_dir(docs_dir)
            context.add_data_docs_site(
                site_name=DATA_DOCS_SITE,
                site_config={
                    "class_name": "SiteBuilder",
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                },
            )
            site_names = [DATA_DOCS_SITE]
        source = context.data_sources.add_pandas(name="warehouse_marts")

        # The per-customer base first: its row count is an expectation of the other marts.
        order = sorted(set(present) | set(specs), key=lambda m: (m != PER_CUSTOMER_BASE, m))
        for mart in order:
            if mart not in present:
                results.append(
                    MartResult(mart, None, 1, 0,
                               [Failure(mart, "mart_exists", None, f"marts.{mart} is missing from the warehouse")],
                               "missing")
                )
                continue
            try:
                df = con.execute(f'select * from {MARTS_SCHEMA}."{mart}"').df()
                if mart == PER_CUSTOMER_BASE:
                    ctx["customers_rows"] = len(df)
                if mart in specs:
                    spec, suite_source = specs[mart], "lifecycle/validate.py"
                elif mart in yml_specs:
                    spec, suite_source = yml_specs[mart], "model yml (generic)"
                    notes.append(f"{mart}: no suite in lifecycle/validate.py; generic checks from its model yml")
                else:
                    spec, suite_source = MartSpec(), "none (generic)"
                    notes.append(f"{mart}: no suite in lifecycle/validate.py nor a model yml: only its shape checked")
                df = _prepare(mart, df)
                exps = _expectations_for(mart, spec, df, ctx, bounds)
                evaluated, failures = _run_suite(context, source, mart, df, exps, site_names)
                results.append(MartResult(mart, len(df), evaluated, evaluated - len(failures), failures, suite_source))
            except Exception as exc:  # one mart that cannot be validated must not hide the others
                msg = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
                failure = Failure(mart, "validation_error", None, f"error: {msg}")
                results.append(MartResult(mart, None, 1, 0, [failure], "error"))

    report = ValidationReport(
        db_path=db_label, reports_dir=Path(reports_dir) if reports_dir is not None else None,
        marts=results, notes=notes, started_at=started_at, elapsed_seconds=time.perf_counter() - t0,
    )
    if docs_dir is not None and (docs_dir / "index.html").exists():
        report.data_docs_index = docs_dir / "index.html"
    if reports_dir is not None:
        report.json_path = Path(reports_dir) / paths.VALIDATION_REPORT
        # The dbt invocation whose warehouse this validated: `lifecycle publish` checks it.
        doc = {**report.to_dict(), "dbt_invocation_id": build_invocation_id(con)}
        report.json_path.write_text(json.dumps(doc, indent=2) + "\n")
    return report


def validate_warehouse(
    db_path: Path | str, reports_dir: Path | str | None, *, bounds: Bounds = DEFAULT_BOUNDS
) -> ValidationReport:
    """Validate every mart of the DuckDB file ``db_path`` (opened read-only).

    Writes Data Docs under ``<reports_dir>/data_docs/`` and ``<reports_dir>/validation.json``
    (nothing is written when ``reports_dir`` is None). Raises :class:`ValidationError` when the
    file cannot be opened or holds no marts.
    """
    db = Path(db_path).resolve()
    if not db.is_file():
        raise ValidationError(f"warehouse {db} does not exist: build it first (dbt build)")
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise ValidationError(f"cannot open warehouse {db} read-only: {exc}") from exc
    try:
        return validate_connection(
            con, Path(reports_dir) if reports_dir is not None else None, db_label=db, bounds=bounds
        )
    finally:
        con.close()
