"""The checks of every mart, read from the marts' model yml (the one place they are declared).

Each dbt data test of a mart (each column or expression of a batched test such as
``columns_not_null``: see :mod:`lifecycle.assertions`), each NOT NULL / primary-key constraint of
its contract and each expectation declared in ``meta: {expectations: [...]}`` of the model or a
column (for the few checks dbt has no test for) becomes one :class:`Check`: the Great
Expectations expectation that asserts the same thing, with the test's severity
(``config: {severity: warn}``; otherwise the project default of ``dbt_project.yml``, ``error``).
``lifecycle validate`` runs them.

dbt tests that are SQL over the mart (``expression_is_true``, ``relationships``, ``is_recent``,
``proportion_within``, ``value_share_at_most``, ``not_null_when``, a ``where`` config, ...) become a
derived column computed by DuckDB over the mart in the warehouse (``Check.derived``) and an
expectation on that column. A ``relationships`` test to a seed (a closed value list such as the
lifecycle stages, ``seeds/*.csv``) becomes instead the in-set expectation of ``accepted_values``,
its values read from the seed's CSV file (:mod:`lifecycle.reference`). Values that depend on
another relation (``has_row_count_of``, ``sum_equals``, ``contains_every_value_of``) are queried
from the warehouse at validation time (``Check.queries``). ``ref('x')`` in any of that SQL is
resolved to the relation ``x`` of the warehouse. A test that cannot be translated is listed in
:attr:`MartChecks.untranslated`, never dropped silently.

Meta expectations, on a model or a column (the column is filled in)::

    config:
      meta:
        expectations:
          - expect_column_values_to_be_between: {min_value: 0, severity: warn, where: "x > 0"}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from lifecycle import paths, reference
from lifecycle.assertions import BATCHED, unbatch

SEVERITIES = ("error", "warn")
MARTS_DIR = Path("models") / "marts"
REF_PATTERN = re.compile(r"""\{\{\s*ref\(\s*['"]([\w]+)['"]\s*\)\s*\}\}|ref\(\s*['"]([\w]+)['"]\s*\)""")


@dataclass(frozen=True)
class Check:
    """One check of one mart: a GX expectation (type and kwargs) and where it came from."""

    mart: str
    test: str  # the dbt test name, 'constraint' or 'meta'
    column: str | None
    severity: str  # 'error' blocks publishing, 'warn' is reported
    expectation: str  # GX expectation type, e.g. expect_column_values_to_be_between
    kwargs: dict[str, Any] = field(default_factory=dict)
    derived: dict[str, str] = field(default_factory=dict)  # column name -> SQL over the mart
    queries: dict[str, str] = field(default_factory=dict)  # kwarg -> SQL giving its value (scalar or list)
    columns: tuple[str, ...] = ()  # mart columns the expectation reads (checked to exist)
    description: str = ""

    @property
    def label(self) -> str:
        col = f".{self.column}" if self.column else ""
        return f"{self.test} on {self.mart}{col}"


@dataclass
class MartChecks:
    mart: str
    checks: list[Check]
    untranslated: list[str]


def default_severity(project_root: Path | None = None) -> str:
    """The project-wide severity of data tests (``data_tests: +severity`` of dbt_project.yml)."""
    root = project_root or paths.PROJECT_ROOT
    try:
        project = yaml.safe_load((root / "dbt_project.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return "error"
    name = project.get("name")
    tests = project.get("data_tests") or {}
    value = (tests.get(name) or {}).get("+severity") or tests.get("+severity") or "error"
    return _severity(value)


def _severity(value: Any) -> str:
    text = str(value or "error").strip().lower()
    if text not in SEVERITIES:
        raise ValueError(f"unknown test severity {value!r} (expected error or warn)")
    return text


def resolve_refs(sql: str, relation_of: Any) -> str:
    """Replace ``ref('x')`` / ``{{ ref('x') }}`` in ``sql`` with ``relation_of('x')``."""
    return REF_PATTERN.sub(lambda m: relation_of(m.group(1) or m.group(2)), sql)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _test_parts(test: Any) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """(name, arguments, config) of a data test entry of a model yml."""
    name, body = (test, {}) if isinstance(test, str) else next(iter(test.items()))
    body = dict(body or {})
    config = dict(body.pop("config", None) or {})
    args = body.pop("arguments", None)
    if args is None:  # arguments given at the top level (older dbt style)
        args = {k: v for k, v in body.items() if k not in ("name", "description")}
    return str(name), dict(args or {}), config


class _Builder:
    """Collects the checks of one mart; numbers the derived columns."""

    def __init__(self, mart: str, default: str, project_root: Path | None = None) -> None:
        self.mart = mart
        self.default = default
        self.project_root = project_root
        self.checks: list[Check] = []
        self.untranslated: list[str] = []

    def _seed_values(self, to: Any, field: Any) -> tuple[str, ...] | None:
        """The values of ``field`` of the seed ``to`` names (``ref('seed')``), or None if not a seed."""
        match = REF_PATTERN.fullmatch(str(to or "").strip())
        seed = match and (match.group(1) or match.group(2))
        if not seed or not field or not reference.is_seed(seed, self.project_root):
            return None
        return reference.seed_values(seed, str(field), self.project_root)

    def _derived_name(self) -> str:
        return f"_check_{len(self.checks) + 1}"

    def add(
        self,
        test: str,
        column: str | None,
        severity: str,
        expectation: str,
        kwargs: dict[str, Any] | None = None,
        *,
        where: str | None = None,
        derived_sql: str | None = None,
        measure_sql: str | None = None,
        queries: dict[str, str] | None = None,
        columns: tuple[str, ...] = (),
        description: str = "",
    ) -> None:
        kwargs = dict(kwargs or {})
        derived: dict[str, str] = {}
        name = self._derived_name()
        if derived_sql is not None:
            # A boolean over each row; a `where` config keeps the rows outside it passing.
            sql = f"coalesce({derived_sql}, false)"
            if where:
                sql = f"(not coalesce(({where}), false)) or {sql}"
            derived[name] = sql
            kwargs.setdefault("column", name)
            kwargs.setdefault("value_set", [True])
        if measure_sql is not None:
            # A value per row (a share, an age in days) the expectation aggregates.
            derived[name] = measure_sql
            kwargs["column"] = name
        if where and derived_sql is None:
            derived[f"{name}_where"] = f"coalesce(({where}), false)"
            kwargs["row_condition"] = f"{name}_where == True"
            kwargs["condition_parser"] = "pandas"
        if column and "column" not in kwargs and expectation.startswith("expect_column"):
            kwargs["column"] = column
        if column and column not in columns and not derived_sql:
            columns = (*columns, column)
        scope = f"{self.mart}.{column}" if column else self.mart
        text = description or f"{test} on {scope}" + (f" where {where}" if where else "")
        self.checks.append(
            Check(
                self.mart,
                test,
                column,
                severity,
                expectation,
                kwargs,
                derived,
                dict(queries or {}),
                columns,
                f"[{severity}] {text}",
            )
        )

    def data_test(self, column: str | None, test: Any) -> None:
        name, args, config = _test_parts(test)
        if name in BATCHED:
            # One check per column (or expression) of a batched test, as its one-column test makes.
            for kind, col, kind_args in unbatch(name, column, args):
                self.data_test(col, {kind: {"arguments": kind_args, "config": config}})
            return
        severity = _severity(config.get("severity", self.default))
        where = config.get("where")
        col = column
        q = _quote(col) if col else ""
        if name == "not_null" and col:
            self.add(name, col, severity, "expect_column_values_to_not_be_null", where=where)
        elif name == "unique" and col:
            self.add(name, col, severity, "expect_column_values_to_be_unique", where=where)
        elif name == "accepted_values" and col and isinstance(args.get("values"), list):
            values = [v.replace("''", "'") if isinstance(v, str) else v for v in args["values"]]
            self.add(name, col, severity, "expect_column_values_to_be_in_set", {"value_set": values}, where=where)
        elif name == "accepted_range" and col and ("min_value" in args or "max_value" in args):
            strict = args.get("inclusive", True) is False
            kwargs = {"min_value": args.get("min_value"), "max_value": args.get("max_value")}
            if strict:
                kwargs.update(strict_min=kwargs["min_value"] is not None, strict_max=kwargs["max_value"] is not None)
            self.add(name, col, severity, "expect_column_values_to_be_between", kwargs, where=where)
        elif name == "relationships" and col and self._seed_values(args.get("to"), args.get("field")) is not None:
            # A closed value list held in a seed: the same in-set expectation as accepted_values, with
            # the values read from the seed's CSV (lifecycle/reference.py).
            values = list(self._seed_values(args["to"], args["field"]) or ())
            self.add(name, col, severity, "expect_column_values_to_be_in_set", {"value_set": values}, where=where)
        elif name in ("relationships", "relationships_where") and col and args.get("to") and args.get("field"):
            condition = f" where {args['to_condition']}" if name == "relationships_where" else ""
            sql = f"{q} is null or {q} in (select {args['field']} from {args['to']}{condition})"
            self.add(
                name, col, severity, "expect_column_values_to_be_in_set", where=where, derived_sql=sql, columns=(col,)
            )
        elif name == "not_null_when" and col and args.get("other_model") and args.get("other_condition"):
            sql = f"{q} is not null or not exists (select 1 from {args['other_model']} where {args['other_condition']})"
            self.add(
                name, col, severity, "expect_column_values_to_be_in_set", where=where, derived_sql=sql, columns=(col,)
            )
        elif name == "column_greater_or_equal" and col and args.get("other_column"):
            sql = f"not ({q} < {_quote(args['other_column'])})"
            self.add(
                name,
                col,
                severity,
                "expect_column_values_to_be_in_set",
                where=where,
                derived_sql=f"coalesce({sql}, true)",
                columns=(col, args["other_column"]),
            )
        elif name == "expression_is_true" and args.get("expression"):
            self.add(
                name,
                col,
                severity,
                "expect_column_values_to_be_in_set",
                where=where,
                derived_sql=f"({args['expression']})",
                description=f"expression_is_true on {self.mart}: {args['expression']}"
                + (f" where {where}" if where else ""),
            )
        elif name == "is_recent" and col and args.get("max_days_old") is not None:
            self.add(
                name,
                col,
                severity,
                "expect_column_min_to_be_between",
                {"max_value": args["max_days_old"]},
                where=where,
                measure_sql=f"date_diff('day', {q}, (select max(as_of_date) from ref('int_build_dates')))",
                description=f"is_recent on {self.mart}.{col}: at most {args['max_days_old']} days before as_of_date",
            )
        elif name == "proportion_within" and args.get("condition"):
            lo, hi = args.get("min_share", 0), args.get("max_share", 1)
            self.add(
                name,
                col,
                severity,
                "expect_column_mean_to_be_between",
                {"min_value": lo, "max_value": hi},
                where=where,
                measure_sql=f"case when {args['condition']} then 1.0 else 0.0 end",
                description=f"proportion_within on {self.mart}: share of rows with {args['condition']} "
                f"within [{lo}, {hi}]",
            )
        elif name == "value_share_at_most" and col and args.get("max_share") is not None:
            self.add(
                name,
                col,
                severity,
                "expect_column_max_to_be_between",
                {"max_value": args["max_share"]},
                where=where,
                measure_sql=f"count(*) over (partition by {q}) * 1.0 / count(*) over ()",
                description=f"value_share_at_most on {self.mart}.{col}: no value holds more than "
                f"{args['max_share']} of the rows",
            )
        elif name == "contains_every_value_of" and col and args.get("to") and args.get("field"):
            condition = args.get("to_condition", "true")
            sql = (
                f"select distinct {args['field']} from {args['to']} "
                f"where ({condition}) and {args['field']} is not null order by 1"
            )
            self.add(
                name,
                col,
                severity,
                "expect_column_distinct_values_to_contain_set",
                {},
                where=where,
                queries={"value_set": sql},
                description=f"contains_every_value_of on {self.mart}.{col}: every {args['field']} of "
                f"{args['to']} is present",
            )
        elif name == "distinct_values_equal_set" and col and isinstance(args.get("values"), list):
            self.add(
                name,
                col,
                severity,
                "expect_column_distinct_values_to_equal_set",
                {"value_set": list(args["values"])},
                where=where,
            )
        elif name == "unique_combination_of_columns" and args.get("combination_of_columns"):
            cols = tuple(args["combination_of_columns"])
            self.add(
                name,
                None,
                severity,
                "expect_compound_columns_to_be_unique",
                {"column_list": list(cols)},
                where=where,
                columns=cols,
                description=f"unique_combination_of_columns on {self.mart}: {', '.join(cols)}",
            )
        elif name == "has_row_count" and args.get("expected") is not None:
            self.add(name, None, severity, "expect_table_row_count_to_equal", {"value": int(args["expected"])})
        elif name == "has_row_count_of" and args.get("compare_model") and not where:
            self.add(
                name,
                None,
                severity,
                "expect_table_row_count_to_equal",
                queries={"value": f"select count(*) from {args['compare_model']}"},
                description=f"has_row_count_of on {self.mart}: as many rows as {args['compare_model']}",
            )
        elif name == "sum_equals" and col and args.get("compare_model") and args.get("compare_expression"):
            condition = args.get("compare_condition", "true")
            sql = f"select coalesce({args['compare_expression']}, 0) from {args['compare_model']} where {condition}"
            self.add(
                name,
                col,
                severity,
                "expect_column_sum_to_be_between",
                {},
                where=where,
                queries={"min_value": sql, "max_value": sql},
                description=f"sum_equals on {self.mart}.{col}: equals {args['compare_expression']} "
                f"of {args['compare_model']}" + (f" where {where}" if where else ""),
            )
        else:
            scope = f"{self.mart}.{col}" if col else self.mart
            self.untranslated.append(f"{name} on {scope}")

    def meta_expectations(self, column: str | None, meta: dict[str, Any]) -> None:
        for entry in meta.get("expectations") or []:
            kind, body = next(iter(entry.items())) if isinstance(entry, dict) else (str(entry), {})
            kwargs = dict(body or {})
            severity = _severity(kwargs.pop("severity", self.default))
            where = kwargs.pop("where", None)
            description = kwargs.pop("description", "")
            self.add(
                "meta",
                column,
                severity,
                str(kind),
                kwargs,
                where=where,
                description=description or f"{kind} on {self.mart}" + (f".{column}" if column else ""),
            )


def _meta(node: dict[str, Any]) -> dict[str, Any]:
    meta = dict(node.get("meta") or {})
    meta.update((node.get("config") or {}).get("meta") or {})
    return meta


def _unconditional_not_null(tests: list[Any]) -> set[str]:
    """The columns a batched columns_not_null test without a `where` checks."""
    out: set[str] = set()
    for test in tests:
        name, args, config = _test_parts(test)
        if name == "columns_not_null" and not config.get("where"):
            out.update(col for _, col, _ in unbatch(name, None, args) if col)
    return out


def _model_checks(model: dict[str, Any], default: str, project_root: Path | None = None) -> MartChecks:
    b = _Builder(str(model["name"]), default, project_root)
    model_tests = model.get("data_tests") or model.get("tests") or []
    for test in model_tests:
        b.data_test(None, test)
    not_null_tested = _unconditional_not_null(model_tests)
    b.meta_expectations(None, _meta(model))
    for constraint in model.get("constraints") or []:
        if isinstance(constraint, dict) and constraint.get("type") == "primary_key" and constraint.get("columns"):
            cols = tuple(constraint["columns"])
            for col in cols:
                b.add(
                    "constraint",
                    col,
                    "error",
                    "expect_column_values_to_not_be_null",
                    description=f"primary key of {b.mart}: {col} is never null",
                )
    for col in model.get("columns") or []:
        name = str(col["name"])
        tests = col.get("data_tests") or col.get("tests") or []
        constraints = {c.get("type") for c in col.get("constraints") or [] if isinstance(c, dict)}
        has_not_null_test = name in not_null_tested or any(
            _test_parts(t)[0] == "not_null" and not _test_parts(t)[2].get("where") for t in tests
        )
        if constraints & {"not_null", "primary_key"} and not has_not_null_test:
            b.add(
                "constraint",
                name,
                "error",
                "expect_column_values_to_not_be_null",
                description=f"contract of {b.mart}: {name} is never null",
            )
        for test in tests:
            b.data_test(name, test)
        b.meta_expectations(name, _meta(col))
    return MartChecks(b.mart, b.checks, b.untranslated)


@cache
def _mart_checks_cached(root: str) -> dict[str, MartChecks]:
    base = Path(root)
    default = default_severity(base)
    out: dict[str, MartChecks] = {}
    for yml in sorted((base / MARTS_DIR).rglob("*.yml")):
        doc = yaml.safe_load(yml.read_text()) or {}
        for model in doc.get("models") or []:
            out[str(model["name"])] = _model_checks(model, default, base)
    return out


def mart_checks(project_root: Path | None = None) -> dict[str, MartChecks]:
    """Every mart's checks, from the model yml files under ``models/marts/`` (cached per project)."""
    return _mart_checks_cached(str(project_root or paths.PROJECT_ROOT))
