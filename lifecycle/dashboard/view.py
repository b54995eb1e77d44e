"""What every page shares: the coverage sentence, the empty-data sentence, the filters and how a
chart is drawn. Charts are Altair (Vega-Lite) or Plotly, both bundled in Streamlit's frontend, so
nothing is fetched from the internet when a page is viewed."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from lifecycle.dashboard.data import Serving
from lifecycle.reference import seed_values

# data_coverage.status values whose mart cannot be read as data (README "Checks").
NOT_READABLE = ("not_meaningful",)


# Colours of the lifecycle stages, in the order of seeds/lifecycle_stages.csv (the first for 'none').
_PALETTE = (
    "#b0b0b0",
    "#9e9e9e",
    "#d62728",
    "#ff7f0e",
    "#9467bd",
    "#17becf",
    "#2ca02c",
    "#1f77b4",
    "#8c564b",
    "#e377c2",
    "#bcbd22",
)
NO_STAGE = "none"  # a customer with no stage yet (lifecycle_transitions.from_stage, segment_migration.from_value)


def stage_order() -> list[str]:
    """The lifecycle stages in the order of their precedence (seeds/lifecycle_stages.csv)."""
    return list(seed_values("lifecycle_stages", "lifecycle_stage"))


def stage_colours() -> dict[str, str]:
    """One colour per stage (and for 'none'), the same on every chart."""
    return dict(zip([NO_STAGE, *stage_order()], itertools.cycle(_PALETTE), strict=False))


def stage_color(field: str, present: list[str], title: str = "stage", legend: bool = True) -> alt.Color:
    """An Altair colour encoding of a stage column: the ``present`` stages in their stage colours."""
    colours = stage_colours()
    shown = [s for s in colours if s in present]
    return alt.Color(
        f"{field}:N",
        title=title,
        scale=alt.Scale(domain=shown, range=[colours[s] for s in shown]),
        legend=alt.Legend() if legend else None,
    )


def coverage(db: Serving, mart: str) -> tuple[str, str]:
    """``(status, reason)`` of ``mart`` in ``marts.data_coverage`` (``unassessed`` when not listed)."""
    df = db.frame("select status, reason from marts.data_coverage where mart = ?", [mart])
    if df.empty:
        return "unassessed", ""
    return str(df.at[0, "status"]), str(df.at[0, "reason"] or "")


def readable(db: Serving, mart: str, frame: pd.DataFrame | None = None) -> bool:
    """Whether ``mart`` can be charted: say why not (its coverage reason, or that it is empty) and
    return False; a ``partial`` mart is charted below a note saying what is missing."""
    status, reason = coverage(db, mart)
    if status in NOT_READABLE:
        st.info(f"`{mart}` cannot be known from this data: {reason}")
        return False
    if frame is not None and frame.empty:
        st.info(f"`{mart}` has no rows for this selection.")
        return False
    if status == "partial" and reason:
        st.caption(f"`{mart}` is partial: {reason}")
    return True


def nothing(message: str) -> None:
    """The sentence shown instead of a chart."""
    st.info(message)


def altair(chart: alt.TopLevelMixin) -> None:
    st.altair_chart(chart, width="stretch")


def table(df: pd.DataFrame, **kwargs: Any) -> None:
    """A table; date columns (DuckDB dates arrive as midnight timestamps) shown as dates."""
    dates = {
        str(c): st.column_config.DateColumn(format="YYYY-MM-DD")
        for c in df.columns
        if pd.api.types.is_datetime64_any_dtype(df[c]) and (df[c].dropna().dt.normalize() == df[c].dropna()).all()
    }
    st.dataframe(df, width="stretch", hide_index=True, column_config=dates or None, **kwargs)


def snapshot_months(db: Serving) -> list[Any]:
    """The snapshot dates of the history (month ends and as_of_date), newest first."""
    df = db.frame("select distinct snapshot_date from marts.customer_lifecycle_history order by snapshot_date desc")
    return list(df["snapshot_date"])


def month_filter(db: Serving, key: str, label: str = "As of month") -> Any | None:
    """A select box of the history's snapshot dates (newest first); None when there is no history."""
    months = snapshot_months(db)
    if not months:
        return None
    return st.selectbox(label, months, index=0, key=key, format_func=_month_label(months[0]))


def _month_label(as_of: Any) -> Any:
    def fmt(d: Any) -> str:
        return f"{d:%Y-%m-%d} (as of date)" if d == as_of else f"{d:%Y-%m}"

    return fmt


def pick(label: str, options: Sequence[str], key: str, all_label: str = "all") -> str | None:
    """A select box with an 'all' choice first; None when 'all' is chosen."""
    choice = st.selectbox(label, [all_label, *options], key=key)
    return None if choice == all_label else str(choice)


def distinct(db: Serving, table_: str, column: str, where: str = "") -> list[str]:
    """The distinct non-null values of ``marts.<table_>.<column>``, sorted."""
    df = db.frame(
        f'select distinct "{column}" as v from marts."{table_}" where "{column}" is not null '
        f"{('and ' + where) if where else ''} order by 1"
    )
    return [str(v) for v in df["v"]]


def metric_delta(now: float | int | None, before: float | int | None) -> str | None:
    """The change shown under a metric, or None when there is nothing to compare with."""
    if now is None or before is None or pd.isna(now) or pd.isna(before):
        return None
    return f"{now - before:+,.0f}"
