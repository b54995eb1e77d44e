"""The dashboard (``lifecycle dashboard``): every page on real serving copies, its figures against
the marts, and the running app in a real browser.

Serving copies: the session's small validated build (test_publish.shared_build) published here,
and two transaction-only exports imported and built with ``make build`` by test_real_exports'
``import_and_build`` (300 customers, fitted CLV, no NPS, spend or events; and 40 one-time buyers,
no CLV model). Streamlit's AppTest runs each page on each copy and must see no exception and no
error; key figures (customers by stage, audience counts, CLV tiers, quarantine counts) must equal
the marts. The browser test starts ``lifecycle dashboard`` on a free port, opens every page in
headless Chromium (Debian's ``chromium``; installed with apt-get when missing and running as root,
else skipped), waits until it is drawn, checks every chart is drawn, no exception or error is shown
and nothing was fetched from outside the app, and saves ``reports/screenshots/<page>.png``.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path

import duckdb
import pytest
import yaml
from chromium import SCREENSHOTS, chromium
from conftest import build_pool, selected_params
from pg_server import PgServer
from streamlit.testing.v1 import AppTest
from test_publish import Build, shared_build
from test_real_exports import import_and_build

from lifecycle import paths
from lifecycle.audience import AUDIENCE_TABLE, audience_query, export_audience
from lifecycle.cli import main
from lifecycle.dashboard.app import APP_TITLE
from lifecycle.dashboard.data import SERVING_URL_ENV, open_serving
from lifecycle.dashboard.pages import PAGES
from lifecycle.dashboard.server import running
from lifecycle.publish import publish

pytestmark = pytest.mark.slow

DEMO = "demo"
IMPORTED = ("shop_300_customers", "no_repeat_buyers")
SOURCES = (DEMO, *IMPORTED)


@pytest.fixture(scope="session")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    return shared_build(tmp_path_factory)


def _publish_demo(factory: pytest.TempPathFactory) -> Path:
    built = shared_build(factory)
    path = factory.mktemp("dashboard_serving") / "serving.duckdb"
    publish(built.db, path, skip_validate=False, dbt_results=built.run_results)
    return path


@pytest.fixture(scope="module")
def servings(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[Path]]]:
    """The serving copy of every source the selected tests use, built side by side."""
    wanted = selected_params(request, "serving")
    with build_pool() as pool:
        futures: dict[str, Future[Path]] = {}
        for name in wanted:
            if name == DEMO:
                futures[name] = pool.submit(_publish_demo, tmp_path_factory)
            else:
                futures[name] = pool.submit(lambda n: import_and_build(n, tmp_path_factory.mktemp(n)).serving, name)
        yield futures


@pytest.fixture()
def serving(request: pytest.FixtureRequest, servings: dict[str, Future[Path]], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The serving copy of the source the test is parametrised with, set as the app's source."""
    path = servings[request.param].result()
    monkeypatch.setenv(SERVING_URL_ENV, str(path))
    return path


def _page_script(key: str) -> None:
    from lifecycle.dashboard.app import render_page

    render_page(key)


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """AppTest leaves ``sys.modules["__main__"]`` pointing at its temporary page script; a later
    test's ``spawn`` process pool (the generator's) would then re-run that script in every worker
    and die (BrokenProcessPool). Put the real ``__main__`` back after each test."""
    main_module = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main_module


def run_page(key: str) -> AppTest:
    """Page ``key`` run by AppTest, as one page view of the app."""
    return AppTest.from_function(_page_script, args=(key,), default_timeout=120).run()


def _problems(at: AppTest) -> list[str]:
    return [f"exception: {e.value}" for e in at.exception] + [f"error: {e.value}" for e in at.error]


def q(path: Path, sql: str) -> list[tuple[object, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _shown_build(at: AppTest) -> str:
    """The build id the overview's freshness line names."""
    line = next(c.value for c in at.caption if c.value.startswith("Build "))
    return line.split()[1].rstrip(",")


# ------------------------------------------------------------------------------------------ pages


@pytest.mark.parametrize("serving", SOURCES, indirect=True)
@pytest.mark.parametrize("key", list(PAGES))
def test_every_page_runs_without_exception(serving: Path, key: str) -> None:
    at = run_page(key)
    assert not _problems(at), _problems(at)
    assert at.title[0].value == PAGES[key].TITLE
    assert at.caption[0].value == PAGES[key].GUIDE


@pytest.mark.parametrize("serving", [DEMO], indirect=True)
def test_app_navigation_opens_the_overview(serving: Path) -> None:
    at = AppTest.from_file(str(paths.PROJECT_ROOT / "lifecycle" / "dashboard" / "app.py"), default_timeout=120).run()
    assert not _problems(at), _problems(at)
    assert at.title[0].value == PAGES["overview"].TITLE
    assert APP_TITLE


@pytest.mark.parametrize("serving", SOURCES, indirect=True)
def test_overview_stage_counts_equal_the_mart(serving: Path) -> None:
    shown = metrics(run_page("overview"))
    counts = dict(q(serving, "select lifecycle_stage, count(*) from marts.customer_lifecycle group by 1"))
    assert counts
    for stage, n in counts.items():
        assert shown[str(stage).replace("_", " ")] == f"{n:,}"
    (as_of,) = q(serving, "select max(as_of_date) from marts.customers")[0]
    assert shown["Data as of"] == f"{as_of:%Y-%m-%d}"


@pytest.mark.parametrize("serving", SOURCES, indirect=True)
def test_audience_counts_equal_the_mart_and_the_download_is_the_export(serving: Path, tmp_path: Path) -> None:
    at = run_page("audiences")
    ((n, value),) = q(serving, "select count(*), coalesce(sum(value_at_stake), 0) from marts.lifecycle_audiences")
    if n == 0:
        assert any("cannot be known" in i.value or "no rows" in i.value for i in at.info), at.info
        return
    shown = metrics(at)
    assert shown["Customers"] == f"{n:,}" and shown["Value at stake"] == f"{float(value):,.0f}"
    out = tmp_path / "audience.csv"
    export_audience(out, serving=serving)
    with open_serving(str(serving)) as db:
        assert db.csv(audience_query()) == out.read_bytes()


@pytest.mark.parametrize("serving", SOURCES, indirect=True)
def test_clv_and_quality_figures_equal_the_marts(serving: Path) -> None:
    clv = run_page("clv")
    (status,) = q(serving, "select distinct model_status from marts.clv_model_parameters")[0]
    assert any(f"Model status: {status}." in e.value for e in [*clv.success, *clv.warning])
    total = q(
        serving,
        "select customers from marts.clv_backtest where breakdown = 'total' "
        "order by is_chosen_model desc, purchase_model limit 1",
    )
    ((coverage, reason),) = q(serving, "select status, reason from marts.data_coverage where mart = 'clv_backtest'")
    if coverage == "not_meaningful":
        assert any(reason in i.value for i in clv.info)
    elif total:
        assert metrics(clv)["Customers"] == f"{total[0][0]:,}"
    if status != "fitted":
        assert any("Without a fitted model" in i.value for i in clv.info)
    quality = run_page("quality")
    ((evaluated,),) = q(serving, "select distinct expectations_evaluated from meta.publish_manifest")
    assert metrics(quality)["Expectations"] == f"{evaluated:,}"
    ((set_aside,),) = q(serving, "select count(*) from marts.quarantined_rows")
    captions = [c.value for c in quality.caption]
    assert set_aside == 0 or f"{set_aside:,} raw rows set aside, each with its reason." in captions


@pytest.mark.parametrize("serving", IMPORTED, indirect=True)
def test_what_the_data_cannot_support_is_a_sentence(serving: Path) -> None:
    """Transaction-only data has no marketing spend: CLV:CAC is not_meaningful, said in words."""
    ((status, reason),) = q(
        serving, "select status, reason from marts.data_coverage where mart = 'acquisition_channel_value'"
    )
    assert status == "not_meaningful"
    at = run_page("kpis")
    assert any(reason in i.value for i in at.info), [i.value for i in at.info]


def test_the_dashboard_exposure_lists_the_marts_it_reads() -> None:
    sources = (paths.PROJECT_ROOT / "lifecycle" / "dashboard").rglob("*.py")
    read = {m for f in sources for m in re.findall(r"from marts\.([a-z_]+)", f.read_text())}
    read.add(AUDIENCE_TABLE.removeprefix("marts."))
    exposures = yaml.safe_load((paths.PROJECT_ROOT / "models" / "marts" / "_marts__exposures.yml").read_text())
    (dashboard,) = [e for e in exposures["exposures"] if e["name"] == "lifecycle_dashboard"]
    listed = {re.sub(r"ref\('([a-z_]+)'\)", r"\1", d) for d in dashboard["depends_on"]}
    assert read == listed


def test_a_new_publish_shows_at_the_next_view(build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    serving = tmp_path / "serving.duckdb"
    monkeypatch.setenv(SERVING_URL_ENV, str(serving))
    publish(build.db, serving, skip_validate=True, dbt_results=build.run_results)
    first = _shown_build(run_page("overview"))
    held = duckdb.connect(str(serving), read_only=True)  # another reader holding the old copy open
    try:
        publish(build.db, serving, skip_validate=True, dbt_results=build.run_results)
        second = _shown_build(run_page("overview"))
    finally:
        held.close()
    (now,) = q(serving, "select distinct build_id from meta.publish_manifest")[0]
    assert second == now != first


def test_a_missing_serving_copy_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code = main(["dashboard", "--serving", str(tmp_path / "nothing.duckdb")])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "no serving copy" in err
    not_serving = tmp_path / "plain.duckdb"
    duckdb.connect(str(not_serving)).close()
    monkeypatch.setenv(SERVING_URL_ENV, str(not_serving))
    at = run_page("overview")
    assert not at.exception and "not a serving copy" in at.error[0].value


# ---------------------------------------------------------------------------------------- browser


@pytest.fixture()
def running_app(serving: Path) -> Iterator[str]:
    """``lifecycle dashboard`` on a free port, until the test ends; yields its base URL."""
    with running(str(serving), serving.parent / "dashboard.log") as url:
        yield url


@pytest.mark.parametrize("serving", [DEMO], indirect=True)
def test_every_page_draws_in_a_real_browser(running_app: str) -> None:
    from lifecycle.browser import Chromium
    from lifecycle.dashboard.browse import visit

    exe = chromium()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with Chromium(exe) as page:
        for key in PAGES:
            seen = visit(page, running_app, key, SCREENSHOTS)
            assert seen.title == PAGES[key].TITLE
            assert seen.exceptions == 0 and not seen.errors, (key, seen.errors)
            assert seen.charts > 0 and seen.drawn >= seen.charts, (key, seen)
            assert not seen.external_requests, (key, seen.external_requests)
            assert seen.screenshot is not None and seen.screenshot.stat().st_size > 10_000


# ------------------------------------------------------------------------------ PostgreSQL source


@pytest.fixture(scope="module")
def pg_serving(pg_server: PgServer, build: Build) -> str:
    """The demo build published to a fresh PostgreSQL database (``lifecycle publish --to``)."""
    import psycopg

    from lifecycle.publish.postgres import publish_postgres

    with psycopg.connect(pg_server.url(), autocommit=True) as con:
        con.execute('drop database if exists "dashboard_source" with (force)')
        con.execute('create database "dashboard_source"')
    url = str(pg_server.url(dbname="dashboard_source"))
    publish_postgres(build.db, url, skip_validate=True, dbt_results=build.run_results)
    return url


@pytest.mark.parametrize("key", list(PAGES))
def test_every_page_runs_on_the_postgresql_serving_schema(
    pg_serving: str, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SERVING_URL_ENV, pg_serving)
    at = run_page(key)
    assert not _problems(at), _problems(at)
    assert at.title[0].value == PAGES[key].TITLE


def test_postgresql_figures_equal_the_duckdb_copy(
    pg_serving: str, build: Build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same build read from PostgreSQL and from a DuckDB serving copy shows the same figures."""
    duck = tmp_path / "serving.duckdb"
    publish(build.db, duck, skip_validate=True, dbt_results=build.run_results)
    shown = {}
    for source in (pg_serving, str(duck)):
        monkeypatch.setenv(SERVING_URL_ENV, source)
        shown[source] = (metrics(run_page("overview")), metrics(run_page("audiences")))
    assert shown[pg_serving] == shown[str(duck)]
    assert shown[pg_serving][0]  # figures were shown at all


def test_an_unreachable_postgresql_source_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SERVING_URL_ENV, "postgresql://reader:secret@127.0.0.1:1/nowhere")
    at = run_page("overview")
    assert not at.exception and "cannot connect to PostgreSQL" in at.error[0].value
    assert "secret" not in at.error[0].value
