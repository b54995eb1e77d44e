"""The ``lifecycle`` command line: generate raw data, import a transaction export, run dbt."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
from pathlib import Path

from lifecycle import paths, resources


def _cmd_generate(args: argparse.Namespace) -> int:
    from lifecycle.generate import generate

    try:
        manifest = generate(
            scale=args.scale,
            seed=args.seed,
            out=Path(args.out),
            progress=not args.quiet,
            end_date=args.end_date,
            append=args.append,
        )
    except ValueError as exc:
        print(f"lifecycle generate: {exc}", file=sys.stderr)
        return 2
    totals = {name: t["rows"] for name, t in manifest["tables"].items()}
    summary = {"scale": args.scale, "seed": args.seed, "out": str(args.out), "end_date": manifest["end_date"]}
    print(json.dumps({**summary, "rows": totals}, indent=2))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    from lifecycle.importer import ImportError_, import_transactions
    from lifecycle.importer.report import text

    try:
        report = import_transactions(
            args.inputs,
            out=Path(args.out),
            customer_col=args.customer_col,
            date_col=args.date_col,
            amount_col=args.amount_col,
            quantity_col=args.quantity_col,
            unit_price_col=args.unit_price_col,
            order_id_col=args.order_id_col,
            status_col=args.status_col,
            status_map=",".join(args.status_map or []) or None,
            currency=args.currency,
            currency_col=args.currency_col,
            consent_col=args.consent_col,
            marketing_consent=args.marketing_consent,
            anonymous_values=[v for item in args.anonymous_values or [] for v in item.split(",")],
            date_format=args.date_format,
            delimiter=args.delimiter,
            encoding=args.encoding,
            no_header=args.no_header,
            normalise_ids=args.normalise_ids,
            strict=args.strict,
            loaded_at=args.loaded_at,
        )
    except ImportError_ as exc:
        print(f"lifecycle import-transactions: error: {exc}", file=sys.stderr)
        return 2
    print(text(report))
    return 0


def dbt_env(dbt_args: list[str] | None = None) -> dict[str, str]:
    """The environment dbt runs with: profile dir, warehouse path and raw dir resolved, and the
    target and log paths of THIS warehouse (:func:`lifecycle.paths.artefacts`), so two warehouses
    never overwrite each other's run results, and DuckDB's threads, memory limit and spill
    directory from the machine unless set (:mod:`lifecycle.resources`). ``dbt docs ...`` gets a
    target path of its own: its run_results.json must not replace the build's, which
    ``lifecycle publish`` reads."""
    env = dict(os.environ)
    env.setdefault("DBT_PROFILES_DIR", str(paths.PROJECT_ROOT / "profiles"))
    env["LIFECYCLE_DB"] = str(paths.warehouse_path())
    env["LIFECYCLE_RAW_DIR"] = str(paths.raw_dir())
    artefacts = paths.artefacts()
    command = next((a for a in dbt_args or [] if not a.startswith("-")), None)
    is_docs = command == "docs"
    env["DBT_TARGET_PATH"] = str(artefacts.docs_target if is_docs else artefacts.target)
    env["DBT_LOG_PATH"] = str(artefacts.logs)
    env.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    env.setdefault("DO_NOT_TRACK", "1")
    paths.warehouse_path().parent.mkdir(parents=True, exist_ok=True)
    return resources.resource_env(env, paths.warehouse_path())


# dbt commands that never open the warehouse: they run without the build lock.
DBT_COMMANDS_WITHOUT_WAREHOUSE = frozenset({"parse", "ls", "list", "deps", "clean", "init", "help"})


def run_dbt(dbt_args: list[str], pass_fds: tuple[int, ...] = ()) -> int:
    """Run dbt in the project directory with the project's profile; return its exit code."""
    exe = Path(sys.executable).with_name("dbt")
    cmd = [str(exe) if exe.exists() else "dbt", *dbt_args]
    return subprocess.call(cmd, cwd=paths.PROJECT_ROOT, env=dbt_env(dbt_args), pass_fds=pass_fds)


def _cmd_dbt(args: argparse.Namespace) -> int:
    """dbt under the warehouse's build lock (:func:`lifecycle.locks.build_lock`): a second build,
    or a build while another process has the warehouse open, is refused in one line (exit 2)."""
    from lifecycle.locks import LockHeldError, build_lock

    command = next((a for a in args.dbt_args if not a.startswith("-")), None)
    if command is None or command in DBT_COMMANDS_WITHOUT_WAREHOUSE:
        return run_dbt(args.dbt_args)
    try:
        with build_lock(paths.warehouse_path(), " ".join(["lifecycle dbt", *args.dbt_args])[:200]) as fd:
            return run_dbt(args.dbt_args, pass_fds=(fd,))
    except LockHeldError as exc:
        print(f"lifecycle dbt: error: {exc}", file=sys.stderr)
        return 2


def _cmd_mf(args: argparse.Namespace) -> int:
    """MetricFlow's ``mf`` with the environment of ``lifecycle dbt`` (lifecycle/mf.py)."""
    env = dbt_env(["mf"])
    env["DBT_PROJECT_DIR"] = str(paths.PROJECT_ROOT)
    return subprocess.call([sys.executable, "-m", "lifecycle.mf", *args.mf_args], cwd=paths.PROJECT_ROOT, env=env)


def _cmd_artefacts(args: argparse.Namespace) -> int:
    db = Path(args.db).resolve() if args.db else paths.warehouse_path()
    art = paths.artefacts(db)
    doc = {
        "warehouse": str(db),
        "target": str(art.target),
        "logs": str(art.logs),
        "docs": str(art.docs_target),
        "reports": str(art.reports),
    }
    print(json.dumps(doc, indent=2))
    return 0


def _cmd_check_raw(args: argparse.Namespace) -> int:
    from lifecycle.rawcheck import RawDataError, check_raw_dir

    try:
        report = check_raw_dir(Path(args.raw_dir) if args.raw_dir else paths.raw_dir())
    except RawDataError as exc:
        print(f"lifecycle check-raw: error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2))
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from lifecycle.validate import ValidationError, validate_warehouse

    db = Path(args.db) if args.db else paths.warehouse_path()
    try:
        report = validate_warehouse(db, Path(args.reports) if args.reports else paths.artefacts(db).reports)
    except ValidationError as exc:
        print(f"lifecycle validate: error: {exc}", file=sys.stderr)
        return 2
    print("\n".join(report.summary_lines()))
    return 0 if report.success else 1


def _publish_postgres(args: argparse.Namespace, url: str) -> int:
    from lifecycle.publish import PublishError
    from lifecycle.publish.postgres import DEFAULT_SWAP_TIMEOUT, is_postgres_url, publish_postgres, rollback_postgres

    swap_timeout = DEFAULT_SWAP_TIMEOUT if args.swap_timeout is None else args.swap_timeout
    try:
        if not is_postgres_url(url):
            raise PublishError(f"--to takes a postgresql:// URL, not {url!r} (the DuckDB serving file is --serving)")
        if args.serving:
            raise PublishError("give --to (PostgreSQL) or --serving (DuckDB file), not both")
        if args.rollback:
            print(rollback_postgres(url, swap_timeout=swap_timeout))
            return 0
        result = publish_postgres(
            Path(args.db) if args.db else paths.warehouse_path(),
            url,
            reader_role=args.reader_role,
            skip_validate=args.skip_validate,
            dbt_results=Path(args.dbt_results) if args.dbt_results else None,
            reports_dir=Path(args.reports) if args.reports else None,
            swap_timeout=swap_timeout,
        )
    except PublishError as exc:
        print(f"lifecycle publish: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result.summary_lines()))
    return 0


def _cmd_publish(args: argparse.Namespace) -> int:
    from lifecycle.publish import PublishError, check, default_serving_path, publish, rollback
    from lifecycle.publish.postgres import SERVING_URL_ENV

    url = args.to or (None if args.serving else os.environ.get(SERVING_URL_ENV))
    if url:
        return _publish_postgres(args, url)
    serving = Path(args.serving) if args.serving else default_serving_path()
    try:
        if args.check:
            print(check(serving))
            return 0
        if args.rollback:
            print(rollback(serving))
            return 0
        result = publish(
            Path(args.db) if args.db else paths.warehouse_path(),
            serving,
            skip_validate=args.skip_validate,
            dbt_results=Path(args.dbt_results) if args.dbt_results else None,
            reports_dir=Path(args.reports) if args.reports else None,
        )
    except PublishError as exc:
        print(f"lifecycle publish: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result.summary_lines()))
    return 0


def _cmd_export_audience(args: argparse.Namespace) -> int:
    from lifecycle.audience import AudienceError, export_audience, summary_lines
    from lifecycle.publish import default_serving_path

    try:
        manifest = export_audience(
            Path(args.out),
            serving=None if args.db else (Path(args.serving) if args.serving else default_serving_path()),
            db=Path(args.db) if args.db else None,
            action=args.action,
            channel=args.channel,
            fmt=args.format,
        )
    except AudienceError as exc:
        print(f"lifecycle export-audience: error: {exc}", file=sys.stderr)
        return 1
    print("\n".join(summary_lines(manifest)))
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from lifecycle.dashboard.data import DataError, serving_location
    from lifecycle.dashboard.server import run

    try:
        return run(args.serving or serving_location(), port=args.port, address=args.address)
    except DataError as exc:
        print(f"lifecycle dashboard: error: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lifecycle", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a realistic raw retail data set as Parquet")
    g.add_argument("--scale", choices=["demo", "s", "m", "l"], default="demo")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--out", default=str(paths.raw_dir()))
    g.add_argument("--quiet", action="store_true", help="no progress bar")
    g.add_argument(
        "--end-date",
        type=dt.date.fromisoformat,
        default=None,
        help="hold the rows loaded by the end of this day, UTC (default: lifecycle.generate.END_DATE)",
    )
    g.add_argument(
        "--append",
        action="store_true",
        help="add the rows loaded after the folder's end date, up to --end-date, as new part files",
    )
    g.set_defaults(func=_cmd_generate)

    i = sub.add_parser(
        "import-transactions",
        help="turn transaction exports (CSV/TSV/text: orders or order lines) into the raw tables",
    )
    i.add_argument("inputs", nargs="+", help="files, globs or folders (every *.csv, *.txt, *.tsv in it)")
    i.add_argument("--customer-col", required=True)
    i.add_argument("--date-col", required=True)
    i.add_argument("--amount-col", help="line or order amount (or give --quantity-col and --unit-price-col)")
    i.add_argument("--quantity-col", help="signed whole quantity of a line (negative = a cancellation or return)")
    i.add_argument("--unit-price-col", help="unit price of a line (line amount = quantity x unit price)")
    i.add_argument("--order-id-col", help="rows sharing an order id are the lines of one order")
    i.add_argument("--status-col", help="order or line status (delivered, canceled, returned, ...)")
    i.add_argument("--status-map", action="append", help="extra status words: 'word=completed|cancelled|returned,...'")
    i.add_argument("--date-format", help="strptime format of the date column, e.g. %%d/%%m/%%Y (default ISO 8601)")
    i.add_argument("--currency", default="USD", help="ISO currency of the amounts (default USD)")
    i.add_argument("--currency-col", help="column holding each row's ISO currency")
    i.add_argument("--consent-col", help="column holding each customer's marketing consent (yes/no, true/false...)")
    i.add_argument(
        "--marketing-consent",
        choices=["none", "all"],
        default="none",
        help="consent of every customer when there is no consent column (default none: audiences are empty)",
    )
    i.add_argument(
        "--anonymous-values", action="append", help="extra customer values meaning 'no customer' (comma list)"
    )
    i.add_argument("--delimiter", default=",", help="field separator; 'whitespace' for runs of blanks, 'tab'")
    i.add_argument("--encoding", help="text encoding when not UTF-8/UTF-16, e.g. cp1252")
    i.add_argument("--no-header", action="store_true", help="the file has no header: name columns col1..colN")
    i.add_argument("--normalise-ids", action="store_true", help="'12923.0' -> '12923', '00123' -> '123' in ids")
    i.add_argument("--strict", action="store_true", help="refuse the whole import if any row is rejected")
    i.add_argument("--loaded-at", help="load time (ISO timestamp, UTC; default now): rows after it are rejected")
    i.add_argument("--out", default=str(paths.raw_dir()))
    i.set_defaults(func=_cmd_import)

    c = sub.add_parser("check-raw", help="check raw files against the landing contract before a build")
    c.add_argument("--raw-dir")
    c.set_defaults(func=_cmd_check_raw)

    v = sub.add_parser(
        "validate",
        help="run the Great Expectations suites on every mart (validation.json, validation.html, Data Docs)",
    )
    v.add_argument("--db", help="warehouse file (default: LIFECYCLE_DB or warehouse/lifecycle.duckdb)")
    v.add_argument("--reports", help="reports directory (default: <warehouse dir>/<warehouse stem>/reports)")
    v.set_defaults(func=_cmd_validate)

    pb = sub.add_parser("publish", help="audit the warehouse (dbt results + validation), then publish the marts")
    pb.add_argument("--db", help="working warehouse (default: LIFECYCLE_DB or warehouse/lifecycle.duckdb)")
    pb.add_argument("--serving", help="serving file (default: LIFECYCLE_SERVING_DB or warehouse/serving.duckdb)")
    pb.add_argument(
        "--dbt-results",
        help="run_results.json of the last dbt build (default: <warehouse dir>/<warehouse stem>/target/)",
    )
    pb.add_argument(
        "--skip-validate",
        action="store_true",
        help="do not re-run the Great Expectations suites (the validation report of this build must still "
        "exist, name this build and have passed)",
    )
    pb.add_argument(
        "--reports", help="reports directory of validation.json (default: <warehouse dir>/<warehouse stem>/reports)"
    )
    pb.add_argument(
        "--to",
        help="publish to this PostgreSQL database instead (postgresql://user[:password]@host:port/db; "
        "default: LIFECYCLE_SERVING_URL when --serving is not given)",
    )
    pb.add_argument(
        "--reader-role",
        help="PostgreSQL role granted read-only access, created when missing "
        "(default: LIFECYCLE_SERVING_ROLE or lifecycle_reader)",
    )
    pb.add_argument(
        "--swap-timeout",
        type=float,
        help="PostgreSQL: seconds to wait for readers holding the marts in open transactions (default 60)",
    )
    pb.add_argument(
        "--rollback",
        action="store_true",
        help="swap the serving file (or, with --to, schema marts) with the previous published build",
    )
    pb.add_argument(
        "--check",
        action="store_true",
        help="verify that the serving file is byte for byte what was published (its seal, <stem>.publish.json)",
    )
    pb.set_defaults(func=_cmd_publish)

    ea = sub.add_parser(
        "export-audience",
        help="write the contactable customers of lifecycle_audiences (CSV or Parquet) with a manifest of counts",
    )
    ea.add_argument("--out", required=True, help="file to write; its manifest is <out>.manifest.json")
    ea.add_argument("--action", help="only this playbook action (e.g. win_back_offer)")
    ea.add_argument("--channel", help="only this channel (email, direct_mail, personal_outreach)")
    ea.add_argument("--format", choices=["csv", "parquet"], default="csv")
    ea.add_argument(
        "--serving", help="serving copy to read (default: LIFECYCLE_SERVING_DB or warehouse/serving.duckdb)"
    )
    ea.add_argument("--db", help="read a validated working warehouse instead of the serving copy")
    ea.set_defaults(func=_cmd_export_audience)

    db = sub.add_parser("dashboard", help="start the Streamlit dashboard on the published serving copy")
    db.add_argument(
        "--serving",
        help="serving copy to read: a DuckDB file or postgresql://... (default: LIFECYCLE_SERVING_URL, "
        "LIFECYCLE_SERVING_DB or warehouse/serving.duckdb)",
    )
    db.add_argument("--port", type=int, help="port to listen on (default 8501)")
    db.add_argument("--address", help="address to listen on (default 127.0.0.1, this machine only; 0.0.0.0 for all)")
    db.set_defaults(func=_cmd_dashboard)

    a = sub.add_parser("artefacts", help="where the dbt target, logs and validation reports of a warehouse live")
    a.add_argument("--db", help="warehouse file (default: LIFECYCLE_DB or warehouse/lifecycle.duckdb)")
    a.set_defaults(func=_cmd_artefacts)

    d = sub.add_parser(
        "dbt", help="run dbt with the project's profile and the warehouse's own target/logs, e.g. lifecycle dbt build"
    )
    d.add_argument("dbt_args", nargs=argparse.REMAINDER)
    d.set_defaults(func=_cmd_dbt)

    m = sub.add_parser(
        "mf",
        help="run MetricFlow (mf) on the warehouse's semantic manifest, e.g. lifecycle mf query --metrics revenue",
    )
    m.add_argument("mf_args", nargs=argparse.REMAINDER)
    m.set_defaults(func=_cmd_mf)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
