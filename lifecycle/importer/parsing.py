"""Parsing the values of an export: dates, money, quantities, ids, statuses, consent.

Each parser works on a whole column (pandas/Arrow, vectorised) and returns the parsed values
with a mask of the rows it could not use; deciding what to do with those rows is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from lifecycle.importer.rules import CONSENT_FALSE, CONSENT_TRUE, MAX_QUANTITY, ImportError_

_CURRENCY_SYMBOLS = "[\\s$€£¥'\u00a0\u202f]|US\\$|R\\$|USD|EUR|GBP|CAD|AUD|BRL"  # RE2 syntax, literal NBSPs
# d/m/y or m/d/y with '/', '.' or '-' (a 1-2 digit first field: never ISO), optionally a time.
_DAY_MONTH = r"^(\d{1,2})([/.\-])(\d{1,2})[/.\-](\d{2}|\d{4})(?:[ T](\d{1,2}:\d{2})(:\d{2})?)?$"


# ----------------------------------------------------------------------------- dates


def _format_like(match: pd.Series, day_first: bool) -> str:
    sep, year, time, seconds = match[1], match[3], match[4], match[5]
    parts = ["%d", "%m"] if day_first else ["%m", "%d"]
    fmt = sep.join([*parts, "%Y" if len(year) == 4 else "%y"])
    if isinstance(time, str):
        fmt += " %H:%M" + (":%S" if isinstance(seconds, str) else "")
    return fmt


def refuse_ambiguous_dates(values: pd.Series, col: str) -> None:
    """Without --date-format, dates whose day and month could be swapped are refused, never guessed."""
    parts = values.str.extract(_DAY_MONTH)
    matched = parts[0].notna()
    if not matched.any():
        return
    parts = parts[matched]
    first, second = parts[0].astype(int), parts[2].astype(int)
    day_first, month_first = parts[first > 12], parts[second > 12]
    if len(day_first) and len(month_first):
        raise ImportError_(
            f"column '{col}': mixes day-first dates (like {values[day_first.index[0]]!r}) and month-first "
            f"dates (like {values[month_first.index[0]]!r}); they cannot be read without guessing: fix the export"
        )
    if len(day_first):
        raise ImportError_(
            f"column '{col}': values like {values[day_first.index[0]]!r} are day-first: "
            f"pass --date-format {_format_like(day_first.iloc[0], True)}"
        )
    if len(month_first):
        raise ImportError_(
            f"column '{col}': values like {values[month_first.index[0]]!r} are month-first: "
            f"pass --date-format {_format_like(month_first.iloc[0], False)}"
        )
    example = parts.iloc[0]
    raise ImportError_(
        f"column '{col}': dates like {values[parts.index[0]]!r} could be day-first or month-first: pass "
        f"--date-format {_format_like(example, True)} or --date-format {_format_like(example, False)}"
    )


def parse_dates(values: pd.Series, col: str, date_format: str | None) -> pd.Series:
    """Naive UTC timestamps (NaT where a value does not parse); ISO 8601 unless a format is given."""
    if date_format is not None and date_format.strip().lower() == "mixed":
        raise ImportError_(
            "--date-format mixed is refused: it guesses each value's format and silently swaps day and month; "
            "pass the one strptime format of the column, e.g. %d/%m/%Y"
        )
    if not date_format:
        refuse_ambiguous_dates(values, col)
    try:
        parsed = pd.to_datetime(values, format=date_format or "ISO8601", errors="coerce", utc=True)
    except (ValueError, TypeError) as exc:  # e.g. an invalid format string
        raise ImportError_(f"column '{col}': cannot parse dates with {date_format!r}: {exc}") from exc
    if date_format and "%d" in date_format and "%m" in date_format and parsed.isna().any():
        refuse_swapped_format(values[parsed.isna()], col, date_format)
    return parsed.dt.tz_localize(None).astype("datetime64[us]")


def refuse_swapped_format(failed: pd.Series, col: str, date_format: str) -> None:
    """A value that fails the given format but fits it with day and month swapped means the format
    reads the other values with day and month swapped, silently: refuse."""
    swapped = date_format.replace("%d", "\0").replace("%m", "%d").replace("\0", "%m")
    fits = pd.to_datetime(failed, format=swapped, errors="coerce").notna()
    if fits.any():
        raise ImportError_(
            f"column '{col}': values like {failed[fits].iloc[0]!r} do not fit --date-format {date_format} but fit "
            f"{swapped}: the format swaps day and month; pass --date-format {swapped}"
        )


# ----------------------------------------------------------------------------- money


def normalise_amounts(raw: pa.Array) -> pa.Array:
    """Strip currency symbols and thousands separators; return plain '[-]digits[.digits]' text.

    '1,200.50' and '1.200,50' are both 1200.50 (the later separator is the decimal one),
    '1,200' is 1200 (comma followed by groups of three digits), '12,5' is 12.5 (a lone
    decimal comma), '1.200.000' is 1200000 and '(4.25)' is -4.25 (accounting negative).
    """
    s = pc.utf8_trim_whitespace(raw)
    s = pc.replace_substring_regex(s, r"^\((.*)\)$", r"-\1")
    s = pc.replace_substring_regex(s, _CURRENCY_SYMBOLS, "")
    s = pc.replace_substring_regex(s, r"^-\+|^\+-", "-")
    comma_decimal = pc.match_substring_regex(s, r"\.[^.]*,")  # a comma after the last dot: 1.200,50
    s = pc.if_else(comma_decimal, pc.replace_substring(pc.replace_substring(s, ".", ""), ",", "."), s)
    both = pc.and_(pc.match_substring(s, ","), pc.match_substring(s, "."))  # 1,200.50
    s = pc.if_else(both, pc.replace_substring(s, ",", ""), s)
    thousands = pc.match_substring_regex(s, r"^[+-]?\d{1,3}(?:,\d{3})+$")  # 1,200
    s = pc.if_else(thousands, pc.replace_substring(s, ",", ""), s)
    s = pc.replace_substring_regex(s, r"^([^,.]*),([^,.]*)$", r"\1.\2")  # 12,5
    dotted = pc.match_substring_regex(s, r"^[+-]?\d{1,3}(?:\.\d{3}){2,}$")  # 1.200.000
    return pc.if_else(dotted, pc.replace_substring(s, ".", ""), s)


@dataclass
class Money:
    """A parsed money column: ``price`` = |value| as text with 2+ decimals, ``cents`` = |value| in cents."""

    bad: np.ndarray  # not a number
    negative: np.ndarray
    price: np.ndarray  # object array of text
    magnitude: np.ndarray  # float, inf when beyond what a float holds
    cents: np.ndarray  # int64 (0 where bad or out of range)


def parse_money(values: pd.Series) -> Money:
    clean = normalise_amounts(pa.array(values.to_numpy(dtype=object), type=pa.large_string()))
    parts = pc.extract_regex(clean, r"^(?P<sign>[+-]?)(?P<int>\d*)(?:\.(?P<frac>\d*))?$")
    sign, digits, frac = (pc.struct_field(parts, [i]) for i in range(3))
    bad = pc.or_(pc.is_null(parts), pc.and_(pc.equal(digits, ""), pc.equal(frac, "")))
    bad_np = pc.fill_null(bad, True).to_numpy(zero_copy_only=False)
    digits = pc.utf8_ltrim(pc.fill_null(digits, ""), characters="0")
    digits = pc.if_else(pc.equal(digits, ""), "0", digits)
    frac = pc.utf8_rpad(pc.fill_null(frac, ""), width=2, padding="0")
    price = pc.binary_join_element_wise(digits, frac, pa.scalar(".", pa.large_string()))
    price_np = np.asarray(price.to_numpy(zero_copy_only=False), dtype=object)
    long = pc.greater(pc.utf8_length(digits), 16).to_numpy(zero_copy_only=False)
    safe = np.where(long | bad_np, "0", price_np)
    magnitude = safe.astype(np.float64)
    magnitude[long & ~bad_np] = np.inf
    cents = np.floor(np.where(np.isfinite(magnitude), magnitude, 0.0) * 100 + 0.5 + 1e-7).astype(np.int64)
    negative = (pc.fill_null(pc.equal(sign, "-"), False).to_numpy(zero_copy_only=False)) & (magnitude != 0)
    return Money(bad_np, negative, price_np, magnitude, cents)


# ----------------------------------------------------------------------------- quantities


def parse_quantities(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(signed integer quantity, bad mask): bad = empty, not an integer ('2.5'), zero or beyond int32."""
    parts = values.str.strip().str.extract(r"^([+-]?)(\d+)(?:\.0)?$")  # '3.0' (float-written) is 3
    digits = parts[1].fillna("")
    ok = (digits != "") & (digits.str.lstrip("0").str.len() <= 10)
    magnitude = pd.to_numeric(digits.where(ok, "0")).astype(np.int64).to_numpy()
    ok = ok.to_numpy() & (magnitude > 0) & (magnitude <= MAX_QUANTITY)
    signed = np.where(parts[0].to_numpy() == "-", -magnitude, magnitude)
    return np.where(ok, signed, 0), ~ok


# ----------------------------------------------------------------------------- ids


_FLOAT_ID = r"^([+-]?\d+)\.0+$"
_PADDED_ID = r"^0+(\d)"


def canonical_ids(values: pd.Series) -> pd.Series:
    """'12923.0' -> '12923', '00123' -> '123' (digit ids only); other values unchanged."""
    out = values.str.replace(_FLOAT_ID, r"\1", regex=True)
    digit = out.str.fullmatch(r"\d+")
    return out.where(~digit, out.str.replace(_PADDED_ID, r"\1", regex=True))


def id_warnings(values: pd.Series, col: str, normalised: bool) -> list[str]:
    """Warnings for ids written as floats and for ids written both with and without leading zeros."""
    distinct = pd.Series(values.unique())
    distinct = distinct[distinct != ""]
    floats = int(distinct.str.fullmatch(_FLOAT_ID).sum())
    plain = distinct.str.replace(_FLOAT_ID, r"\1", regex=True)
    digit = plain[plain.str.fullmatch(r"\d+")]
    stripped = digit.str.replace(_PADDED_ID, r"\1", regex=True)
    clashes = int((stripped.duplicated(keep=False) & (stripped != digit)).sum())  # padded ids that collide
    done = "normalised (--normalise-ids)" if normalised else "kept as written: pass --normalise-ids to fix"
    warnings = []
    if floats:
        warnings.append(f"column '{col}': {floats} distinct ids are written as floats (like '12923.0'); {done}")
    if clashes:
        warnings.append(
            f"column '{col}': {clashes} distinct ids with leading zeros also appear without them "
            f"(like '00123' and '123'); {done}"
        )
    return warnings


# ----------------------------------------------------------------------------- statuses, consent


def map_statuses(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """Order status per row (completed / cancelled / returned), NaN where the word is unknown."""
    return values.str.strip().str.lower().map(mapping)


def parse_consent(values: pd.Series) -> tuple[np.ndarray, pd.Series]:
    """(consent per row, the unrecognised values and their counts); unrecognised = no consent."""
    words = values.str.strip().str.lower()
    known = words.isin(CONSENT_TRUE | CONSENT_FALSE)
    unrecognised = values[~known].str.strip().value_counts()
    return words.isin(CONSENT_TRUE).to_numpy(), unrecognised


def is_iso_code(values: pd.Series) -> pd.Series:
    return values.str.fullmatch(r"[A-Z]{3}")


__all__ = [
    "Money",
    "canonical_ids",
    "id_warnings",
    "is_iso_code",
    "map_statuses",
    "normalise_amounts",
    "parse_consent",
    "parse_dates",
    "parse_money",
    "parse_quantities",
]
