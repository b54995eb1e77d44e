"""The CDNOW sample shipped with ``lifetimes`` as the CLV model tests read it (test helper)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from lifecycle import clv


def datasets_dir() -> Path:
    """lifetimes' datasets folder; skips the test when lifetimes is not installed."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or spec.origin is None:
        pytest.skip("lifetimes is not installed (CDNOW data and reference implementation)")
    return Path(spec.origin).parent / "datasets"


def calibration_summary_days() -> clv.RfmSummary:
    """RFM summary in days of the raw CDNOW sample, calibration to 1997-09-30 (distinct purchase days)."""
    raw = np.loadtxt(datasets_dir() / "CDNOW_sample.txt", dtype=str)
    dates = np.array([f"{s[:4]}-{s[4:6]}-{s[6:]}" for s in raw[:, 2]], dtype="datetime64[D]")
    return clv.summary_from_transactions(raw[:, 1].astype(int), dates, np.datetime64("1997-09-30"))


def reference_with(fitter: type, params: dict[str, float]) -> Any:
    """A lifetimes fitter carrying the given parameters (to score with our fit's parameters)."""
    model = fitter()
    model.params_ = pd.Series(params)
    return model
