"""Reading exports: which files, which encoding, which delimiter, and the rows with their line numbers.

Every file-level problem is a one-line :class:`ImportError_` naming the file: a binary file
(ZIP/xlsx, Parquet, gzip, ...), an encoding that is not UTF-8 when no ``--encoding`` is given
(UTF-16/32 are detected by their byte-order mark or NUL pattern and decoded), duplicate column
names, a delimiter that yields a single column (the likely one is suggested), a row with more
fields than the header.
"""

from __future__ import annotations

import csv
import glob
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from lifecycle.importer.rules import ImportError_

SUFFIXES = (".csv", ".txt", ".tsv")
_DELIMITERS = {"whitespace": "whitespace", "tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}
_CANDIDATES = (",", ";", "\t", "|")
_SHOWN = {"\t": "tab", "whitespace": "whitespace"}

# Leading bytes of file formats people export by mistake instead of a text file.
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"PK\x03\x04", "a ZIP archive (an .xlsx/.ods workbook is one: save the sheet as CSV)"),
    (b"PAR1", "a Parquet file (land it in the raw directory directly, or export CSV)"),
    (b"\x1f\x8b", "a gzip-compressed file (decompress it first)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office document (.xls: save the sheet as CSV)"),
    (b"%PDF", "a PDF document"),
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"BZh", "a bzip2-compressed file (decompress it first)"),
)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)


@dataclass
class SourceFile:
    path: Path
    label: str  # the name used in reject ids and reports (the file name, or a relative path if names clash)
    encoding: str = ""
    delimiter: str = ""
    rows: int = 0
    detected: str = ""  # how a non-UTF-8 encoding was recognised, said in the report


def delimiter_of(delimiter: str | None) -> str:
    sep = _DELIMITERS.get((delimiter or ",").lower(), delimiter or ",")
    if sep != "whitespace" and len(sep) != 1:
        raise ImportError_(
            f"unsupported delimiter {delimiter!r}: use one character such as ',' ';' '|' or a tab, "
            "or 'whitespace' for runs of blanks"
        )
    return sep


def expand_inputs(inputs: list[Path | str]) -> list[SourceFile]:
    """Files, globs or folders (every *.csv, *.txt, *.tsv in it) -> the files, sorted, each once."""
    found: list[Path] = []
    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir():
            matched = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in SUFFIXES)
            if not matched:
                raise ImportError_(f"{path}: the folder holds no *.csv, *.txt or *.tsv file")
            found.extend(matched)
        elif path.exists():
            if not path.is_file():
                raise ImportError_(f"{path}: not a file")
            found.append(path)
        elif glob.has_magic(text):
            matched = sorted(Path(p) for p in glob.glob(text) if Path(p).is_file())
            if not matched:
                raise ImportError_(f"{text}: no file matches")
            found.extend(matched)
        else:
            raise ImportError_(f"{path}: file not found")
    if not found:
        raise ImportError_("no input file given")
    unique = sorted({p.resolve() for p in found})
    names = [p.name for p in unique]
    if len(set(names)) == len(names):
        return [SourceFile(p, p.name) for p in unique]
    common = Path(os.path.commonpath([str(p.parent) for p in unique]))
    return [SourceFile(p, p.relative_to(common).as_posix()) for p in unique]


def _likely_8bit(data: bytes) -> str:
    # 0x80-0x9f are control characters in latin-1 but letters and punctuation (€, ’, “) in cp1252.
    if re.search(b"[\x80-\x9f]", data):
        return "cp1252 (Windows Western European)"
    return "latin-1 (ISO-8859-1) or cp1252"


def decode(data: bytes, name: str, encoding: str | None) -> tuple[str, str, str]:
    """Return (text, encoding used, how it was found); refuse binary files and undeclared non-UTF-8."""
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ImportError_(f"{name}: this is not a text export but {what}")
    if encoding:
        try:
            return data.decode(encoding).removeprefix("\ufeff"), encoding, "given with --encoding"
        except LookupError as exc:
            raise ImportError_(f"--encoding {encoding!r}: unknown encoding") from exc
        except UnicodeDecodeError as exc:
            raise ImportError_(
                f"{name}: cannot decode with --encoding {encoding} (byte 0x{data[exc.start]:02x} at offset {exc.start})"
            ) from exc
    used = next((enc for bom, enc in _BOMS if data.startswith(bom)), None)
    how = "detected from its byte-order mark"
    if used is None and b"\x00" in data[:4096]:
        sample = data[:4096]
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        half = len(sample) // 2
        how = "detected from its NUL-byte pattern (no byte-order mark)"
        if odd > 0.4 * half and even < 0.05 * half:
            used = "utf-16-le"
        elif even > 0.4 * half and odd < 0.05 * half:
            used = "utf-16-be"
        else:
            raise ImportError_(f"{name}: this looks like a binary file (NUL bytes), not a text export")
    if used is not None:
        try:
            text = data.decode(used)
        except UnicodeDecodeError as exc:
            raise ImportError_(f"{name}: looks like {used} but cannot be decoded as such: {exc.reason}") from exc
        return text.removeprefix("\ufeff"), used.removesuffix("-sig"), how
    try:
        return data.decode("utf-8"), "utf-8", ""
    except UnicodeDecodeError as exc:
        likely = _likely_8bit(data)
        raise ImportError_(
            f"{name}: not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); it looks like {likely}: "
            f"pass --encoding {likely.split()[0]} (or the encoding the export was saved in)"
        ) from exc


def _suggest_delimiter(first_line: str, current: str) -> str:
    counts = {c: first_line.count(c) for c in _CANDIDATES if c != current}
    best = max(counts, key=lambda c: counts[c]) if counts else ""
    if best and counts[best] > 0:
        shown = _SHOWN.get(best, repr(best))
        return f"the file looks {shown}-separated: pass --delimiter {shown}"
    if current != "whitespace" and len(first_line.split()) > 1:
        return "the file looks separated by blanks: pass --delimiter whitespace"
    return "pass the file's delimiter with --delimiter"


def _records(text: str, sep: str) -> list[tuple[int, list[str]]]:
    """(1-based line number where the record starts, fields); blank lines skipped."""
    out: list[tuple[int, list[str]]] = []
    if sep == "whitespace":
        for number, line in enumerate(text.splitlines(), start=1):
            fields = line.split()
            if fields:
                out.append((number, fields))
        return out
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    previous = 0
    try:
        for fields in reader:
            start, previous = previous + 1, reader.line_num
            if fields and "".join(fields).strip():
                out.append((start, fields))
    except csv.Error as exc:
        raise ImportError_(f"line {reader.line_num}: cannot split the line with delimiter {sep!r}: {exc}") from exc
    return out


def _table_fast(text: str, sep: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray] | None:
    """pandas' C parser, when every record is one physical line (so row numbers are line numbers)."""
    try:
        table = pd.read_csv(
            io.StringIO(text), sep=sep, header=None, dtype=str, na_filter=False, skip_blank_lines=False, engine="c"
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError):
        return None  # ragged or odd rows: the csv module reads them and says what is wrong
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if len(table) != physical:
        return None  # a quoted value spans lines
    filled = np.logical_or.reduce([table[c].str.strip().ne("").to_numpy() for c in table.columns])
    table = table[filled].reset_index(drop=True)
    table.columns = range(table.shape[1])
    lengths = np.full(len(table), table.shape[1])
    return table, np.arange(1, len(filled) + 1)[filled], lengths


def _table(text: str, sep: str) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Every non-blank record as strings (columns 0..width-1, '' where a record is short), the line
    where each starts (1-based) and its number of fields."""
    fast = None if sep == "whitespace" else _table_fast(text, sep)
    if fast is not None:
        return fast
    records = _records(text, sep)
    if not records:
        return pd.DataFrame(), np.array([], dtype=int), np.array([], dtype=int)
    lengths = np.array([len(f) for _, f in records])
    width = int(lengths.max())
    rows = [f if len(f) == width else f + [""] * (width - len(f)) for _, f in records]
    table = pd.DataFrame(dict(enumerate(map(list, zip(*rows, strict=True)))), dtype=object)
    return table, np.array([n for n, _ in records]), lengths


def read_file(src: SourceFile, delimiter: str | None, encoding: str | None, no_header: bool) -> pd.DataFrame:
    """The rows of one file as strings, one column per field plus '_line' (1-based, header = 1)."""
    data = src.path.read_bytes()
    if not data.strip():
        raise ImportError_(f"{src.label}: the file is empty")
    text, src.encoding, src.detected = decode(data, src.label, encoding)
    sep = delimiter_of(delimiter)
    src.delimiter = _SHOWN.get(sep, sep)
    try:
        table, lines, lengths = _table(text, sep)
    except ImportError_ as exc:
        raise ImportError_(f"{src.label}: {exc}") from None
    if table.empty:
        raise ImportError_(f"{src.label}: the file is empty")
    width = table.shape[1]
    if (width if no_header else lengths[0]) == 1:
        first = text.splitlines()[0]
        raise ImportError_(
            f"{src.label}: the delimiter {src.delimiter!r} yields a single column; {_suggest_delimiter(first, sep)}"
        )
    if no_header:
        header = [f"col{i}" for i in range(1, width + 1)]
    else:
        header = [str(h).strip() or f"unnamed_{i}" for i, h in enumerate(table.iloc[0, : lengths[0]], start=1)]
        seen: dict[str, int] = {}
        for position, name in enumerate(header, start=1):
            if name in seen:
                raise ImportError_(
                    f"{src.label}: the header names column {name!r} twice (columns {seen[name]} and {position}): "
                    "rename one so each column has its own name"
                )
            seen[name] = position
        too_long = np.flatnonzero(lengths[1:] > len(header))
        if len(too_long):
            row = int(too_long[0]) + 1
            raise ImportError_(
                f"{src.label}: line {lines[row]} has {lengths[row]} fields but the header has {len(header)}: "
                "a delimiter inside an unquoted value, or the wrong --delimiter?"
            )
        table, lines = table.iloc[1:, : len(header)], lines[1:]
    if table.empty:
        raise ImportError_(f"{src.label}: the file is empty (no data rows)")
    frame = table.set_axis(header, axis=1).reset_index(drop=True)
    frame["_line"] = lines
    src.rows = len(frame)
    return frame
