"""`insight-engine report`: one offline HTML file whose every chart draws in headless Chromium.

The xs warehouse of the session (120 days) is published to a serving file, the report is written from it
with the CLI, and Chromium (Debian package `chromium`) renders it with every host name unresolvable: the
DOM it dumps must hold a drawn Plotly chart for every chart the page declares, the page must record no
error, the browser log no console message, and a screenshot lands in build/report/rox_report.png.
"""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from insight_engine.cli import main
from insight_engine.dbt import PROJECT_DIR
from insight_engine.publish import publish

SCREENSHOT = PROJECT_DIR / "build" / "report" / "rox_report.png"
WIDTH = 1400
EXTERNAL_REF = re.compile(r"\b(?:src|href)\s*=\s*[\"']?\s*(?:https?:)?//", re.I)
CHART_TAG = re.compile(r'<div\b[^>]*\bclass="[^"]*\brox-chart\b[^"]*"[^>]*>')


@dataclass(frozen=True)
class Rendered:
    html: str
    dom: str
    log: str


def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail(
            "the report test renders the page in headless Chromium, which is not on PATH: "
            "install chromium: apt-get install chromium"
        )
    return exe


def _chromium_run(page: Path, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        _chromium(),
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={profile}",
        "--host-resolver-rules=MAP * ~NOTFOUND",  # offline: any request to any host fails
        "--virtual-time-budget=10000",
        *args,
        page.resolve().as_uri(),
    ]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=240, check=False)
    assert res.returncode == 0, f"chromium failed ({res.returncode}):\n{res.stderr[-3000:]}"
    return res


def _render(page: Path, profile: Path, screenshot: Path | None = None) -> Rendered:
    """Dump the DOM after the page's scripts ran; optionally screenshot the whole page."""
    dumped = _chromium_run(page, profile, f"--window-size={WIDTH},4000", "--dump-dom")
    log = dumped.stderr
    if screenshot is not None:
        height = re.search(r'data-page-height="(\d+)"', dumped.stdout)
        assert height, "the page did not record its height: its render script did not finish"
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        screenshot.unlink(missing_ok=True)
        shot = _chromium_run(
            page,
            profile,
            f"--window-size={WIDTH},{min(int(height.group(1)) + 40, 16000)}",
            f"--screenshot={screenshot}",
        )
        log += shot.stderr
    return Rendered(html=page.read_text(encoding="utf-8"), dom=dumped.stdout, log=log)


def _without_plotly_bundle(html: str) -> str:
    """The page minus the inlined plotly.js (whose source holds URL strings it never loads)."""
    start = html.index('<script id="plotly-js">')
    end = html.index("</script>", start)
    return html[:start] + html[end:]


def _charts(dom: str) -> dict[str, tuple[str, str]]:
    """chart id -> (its opening tag, the DOM up to the next chart or card)."""
    tags = list(CHART_TAG.finditer(dom))
    out = {}
    for i, m in enumerate(tags):
        stop = tags[i + 1].start() if i + 1 < len(tags) else len(dom)
        card_end = dom.find('class="card"', m.end())
        if card_end != -1:
            stop = min(stop, card_end)
        chart_id = re.search(r'\bid="([^"]+)"', m.group(0))
        assert chart_id, m.group(0)
        out[chart_id.group(1)] = (m.group(0), dom[m.end() : stop])
    return out


def _figure(html: str, chart_id: str) -> dict:
    m = re.search(rf'<script type="application/json" id="fig-{chart_id}">(.*?)</script>', html, re.S)
    assert m, f"no figure data for chart {chart_id}"
    return json.loads(m.group(1))


def _assert_drawn(r: Rendered) -> int:
    declared = re.search(r'<meta name="rox-report-charts" content="(\d+)">', r.html)
    assert declared, "the report does not declare its chart count"
    n_declared = int(declared.group(1))
    assert 'data-report-status="ok"' in r.dom, (
        "the page's render script did not finish cleanly; errors recorded on the page: "
        + (re.search(r'<pre id="report-errors"[^>]*>(.*?)</pre>', r.dom, re.S) or [None, "?"])[1]
    )
    charts = _charts(r.dom)
    assert len(charts) == n_declared, f"{len(charts)} chart divs, {n_declared} declared"
    for chart_id, (tag, inner) in charts.items():
        assert 'data-rendered="true"' in tag, f"{chart_id} was not drawn"
        assert "js-plotly-plot" in tag, f"{chart_id} is not a Plotly plot"
        assert 'class="main-svg"' in inner, f"{chart_id} has no SVG drawn"
    external = EXTERNAL_REF.search(_without_plotly_bundle(r.dom))
    assert not external, f"the drawn page refers to the network: {external.group(0)}"
    console = [line for line in r.log.splitlines() if "CONSOLE" in line]
    assert not console, "browser console messages:\n" + "\n".join(console)
    for bad in ("Uncaught", "ERR_NAME_NOT_RESOLVED", "Content Security Policy"):
        assert bad not in r.log, f"{bad!r} in the browser log:\n{r.log[-3000:]}"
    return n_declared


@pytest.fixture(scope="module")
def serving(xs, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's xs build (120 days) published to a serving file, as `insight-engine run` does."""
    out = tmp_path_factory.mktemp("report") / "serving.duckdb"
    publish(xs.warehouse, out, run_id="report-test")
    return out


@pytest.fixture(scope="module")
def report(serving: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("report_out") / "rox_report.html"
    res = CliRunner().invoke(main, ["report", "--serving", str(serving), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert f"wrote {out}" in res.output
    return out


def _query(serving: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(serving), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_chart_draws_in_headless_chromium_offline(report: Path, tmp_path: Path) -> None:
    r = _render(report, tmp_path / "profile", screenshot=SCREENSHOT)
    n = _assert_drawn(r)
    assert n >= 6, f"only {n} charts drew on the xs data"
    # the sections that must be charts on xs data (the others may be "no data" notes)
    for chart_id in ("scorecard", "value", "friction", "coverage", "drivers_nps", "closed_loop_counts"):
        assert f'id="chart-{chart_id}"' in r.dom, f"{chart_id} is not a chart"
    png = SCREENSHOT.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "the screenshot is not a PNG"
    width, height = struct.unpack(">II", png[16:24])
    assert width == WIDTH and height > 3000, (width, height)
    assert len(png) > 150_000, f"{len(png)} bytes: the screenshot looks blank"


def test_the_page_opens_offline_and_loads_nothing(report: Path) -> None:
    html = report.read_text(encoding="utf-8")
    assert html.count('<script id="plotly-js">') == 1, "plotly.js must be inlined exactly once"
    own = _without_plotly_bundle(html)
    assert not EXTERNAL_REF.search(own), "the page refers to a resource on the network"
    assert "http://" not in own and "https://" not in own
    assert not re.search(r"<script[^>]*\bsrc=|<link\b|<iframe\b|@import", own, re.I)
    assert "default-src 'none'" in own, "the Content-Security-Policy that blocks every fetch is missing"


def test_no_personal_data_on_the_page(report: Path, serving: Path) -> None:
    own = _without_plotly_bundle(report.read_text(encoding="utf-8"))
    ids = _query(
        serving,
        """
        select customer_key from rox.rox_closed_loop where customer_key is not null
        union select response_id from rox.rox_closed_loop
        union select follow_up_interaction_id from rox.rox_closed_loop
        where follow_up_interaction_id is not null
        """,
    )
    assert ids
    leaked = [i for (i,) in ids if i in own]
    assert not leaked, f"ids of people or answers on the page: {leaked[:5]}"
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", own), "an e-mail address is on the page"


def test_charts_show_mart_values_as_they_are(report: Path, serving: Path) -> None:
    html = report.read_text(encoding="utf-8")
    ranked = _query(
        serving,
        "select friction_score from rox.rox_journey_friction where friction_rank is not null "
        "order by friction_rank, stage_order, touchpoint_id",
    )
    assert _figure(html, "friction")["data"][0]["x"] == [v for (v,) in ranked]

    coverage = _figure(html, "coverage")["data"][0]
    cells = _query(
        serving,
        "select stage_name, data_type, customers_covered_pct, is_gap from rox.rox_data_coverage",
    )
    for stage, dtype, pct, is_gap in cells:
        shown = coverage["z"][coverage["y"].index(stage)][coverage["x"].index(dtype)]
        assert shown == (None if is_gap else pct), (stage, dtype, shown, pct)

    top = _query(
        serving,
        "select difference_of_means from rox.rox_drivers where outcome = 'nps_score' "
        "and effect_rank is not null order by effect_rank limit 8",
    )
    assert _figure(html, "drivers_nps")["data"][0]["x"] == [v for (v,) in top]

    ((as_of,),) = _query(serving, "select distinct as_of_date from rox.rox_data_coverage")
    assert f"As of <b>{as_of}</b>" in html


def test_alerts_are_marked_and_empty_marts_say_no_data(serving: Path, tmp_path: Path) -> None:
    """A serving file with one alert, no drivers and no open backlog: the alert is drawn on its series
    and listed; the empty sections are clear notes, and every remaining chart still draws."""
    edited = tmp_path / "serving.duckdb"
    shutil.copy(serving, edited)
    with duckdb.connect(str(edited)) as con:
        ((touchpoint,),) = con.execute(
            "select touchpoint_id from rox.rox_scorecard_daily order by n_responses_90d desc limit 1"
        ).fetchall()
        con.execute(
            """
            insert into rox.rox_alerts (alert_key, alert_type, dimension, dimension_value, metric_name,
                severity, current_value, baseline_value, value_difference, difference_margin_of_error,
                z_score, n_current, n_baseline, n_breach_days, is_ongoing, breach_start_date, alert_date,
                breach_end_date)
            select 'a1', 'nps_drop', 'touchpoint', ?, 'nps', 'high', -40.5, 20.25, -60.75, 30.5, -6.54,
                   40, 120, 9, true, max(date_day) - 8, max(date_day) - 2, max(date_day)
            from rox.rox_scorecard_daily
            """,
            [touchpoint],
        )
        con.execute("delete from rox.rox_drivers")
        con.execute("delete from rox.rox_closed_loop where follow_up_status <> 'followed_up'")
    out = tmp_path / "report.html"
    res = CliRunner().invoke(main, ["report", "--serving", str(edited), "--out", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")

    layout = _figure(html, "scorecard")["layout"]
    assert layout["updatemenus"][0]["buttons"][0]["label"].endswith("ALERT"), (
        "the alerted series is not first"
    )
    assert any(s["type"] == "rect" for s in layout["shapes"]), "the breach streak is not shaded"
    assert any("NPS alert" in a["text"] and touchpoint in a["text"] for a in layout["annotations"])
    assert "Alerts (rox.rox_alerts)" in html and "-60.75 ± 30.50" in html
    assert 'id="drivers_nps-nodata"' in html and "No data: no ranked driver" in html
    assert 'id="closed_loop_ages-nodata"' in html and "No open backlog" in html

    r = _render(out, tmp_path / "profile")
    _assert_drawn(r)
    assert 'id="chart-drivers_nps"' not in r.dom


def test_a_missing_serving_file_says_what_to_run(tmp_path: Path) -> None:
    res = CliRunner().invoke(main, ["report", "--serving", str(tmp_path / "nope.duckdb")])
    assert res.exit_code != 0
    assert "does not exist" in res.output and "insight-engine run" in res.output
    assert not (tmp_path / "build").exists()
