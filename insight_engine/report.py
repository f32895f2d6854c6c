"""The RoX report: one self-contained HTML page for CX leaders, drawn from the serving warehouse.

Every number on the page is a value read from a published mart (schemas ``core``, ``rox``, ``ops``). The
report selects, filters, sorts and keeps the top rows; it computes no metric of its own (the one exception,
named on the page: the closed-loop backlog counts rows of ``rox.rox_closed_loop``). Where a mart lacks a
figure, the page says so instead of working it out. Charts are Plotly figures; plotly.js is inlined once and
a Content-Security-Policy forbids every network request, so the file opens offline and fetches nothing.
"""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

log = logging.getLogger(__name__)

DEFAULT_SERVING = Path("warehouse/serving.duckdb")
DEFAULT_OUT = Path("build/report/rox_report.html")

# The marts the report reads; a serving file without one of them was not built by this project's run.
REQUIRED_TABLES: tuple[str, ...] = (
    "core.dim_touchpoints",
    "rox.rox_scorecard_daily",
    "rox.rox_alerts",
    "rox.rox_experience_value",
    "rox.rox_journey_friction",
    "rox.rox_data_coverage",
    "rox.rox_drivers",
    "rox.rox_closed_loop",
)
SCORECARD_SLICES = 12  # segment x touchpoint x channel series offered in the scorecard's menu
TOP_DRIVERS = 8

# Blocks every fetch (scripts, styles, images, fonts, XHR): the page can only use what it carries.
CSP = (
    "default-src 'none'; script-src 'unsafe-inline' 'unsafe-eval'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:"
)
PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'DejaVu Sans', sans-serif"
BLUE, GREEN, RED, GREY, AMBER = "#1f5fa8", "#2e8b57", "#c0392b", "#9aa3ad", "#d68910"
SEGMENT_COLOURS = {
    "consumer": "#1f5fa8",
    "smb": "#2e8b57",
    "enterprise": "#8e44ad",
    "unknown": "#7f8c8d",
    "no CRM profile": "#7f8c8d",
}
GROUP_ORDER = {
    "nps": ("promoter", "passive", "detractor"),
    "csat": ("satisfied", "neutral", "dissatisfied"),
    "ces": ("easy", "neutral", "difficult"),
}
METRIC_TITLES = {"nps": "NPS group", "csat": "CSAT band", "ces": "CES band"}
DRIVER_NAMES = {
    "late_delivery": "Late delivery",
    "case_count_before_90d": "Support case in the 90 days before",
    "resolution_time": "Slow case resolution",
    "effort_ces": "Effort (CES)",
    "discount_share": "Discount on the order",
    "order_channel": "Order channel",
    "device": "Device",
    "theme_mentioned": "Comment mentions",
}
STATUS_NAMES = {
    "overdue": "overdue (past the SLA)",
    "open_within_sla": "open, within the SLA",
    "followed_up": "followed up",
}
GAP_REASONS = {
    "not_delivered": "not delivered",
    "no_rows_at_stage": "none at this stage",
    "unmapped_codes": "unmapped codes",
}


class ReportError(RuntimeError):
    """The serving warehouse cannot be reported on; the message says why and what to do."""


@dataclass(frozen=True)
class Chart:
    """One chart slot: a figure, or ``figure=None`` and a note saying why there is nothing to draw."""

    chart_id: str
    title: str
    caption: str
    figure: go.Figure | None
    note: str = ""


@dataclass(frozen=True)
class Section:
    section_id: str
    title: str
    intro: str  # plain text
    charts: list[Chart]
    html_before: str = ""  # HTML built here, every value escaped
    html_after: str = ""


@dataclass
class ReportResult:
    out: Path
    n_charts: int
    empty_charts: list[str] = field(default_factory=list)
    n_bytes: int = 0


# --------------------------------------------------------------------------- reading


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".")
    (n,) = con.execute(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(n)


def connect(serving: Path) -> duckdb.DuckDBPyConnection:
    """Open the serving file read-only and check it holds every mart the report reads."""
    serving = Path(serving)
    if not serving.exists():
        raise ReportError(
            f"serving warehouse {serving} does not exist: run `insight-engine run` (or `make demo`) "
            "to build and publish it, or pass --serving"
        )
    con = duckdb.connect(str(serving), read_only=True)
    missing = [t for t in REQUIRED_TABLES if not _table_exists(con, t)]
    if missing:
        con.close()
        raise ReportError(
            f"{serving} lacks {', '.join(missing)}: it was not published by `insight-engine run` "
            "of this version; rerun it"
        )
    return con


# --------------------------------------------------------------------------- small helpers


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _layout(fig: go.Figure, *, height: int, **kwargs: Any) -> go.Figure:
    defaults: dict[str, Any] = {
        "template": "plotly_white",
        "font": {"family": FONT, "size": 13, "color": "#1b2631"},
        "margin": {"l": 70, "r": 30, "t": 50, "b": 60},
        "hoverlabel": {"font": {"family": FONT}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "xanchor": "left", "x": 0},
    }
    fig.update_layout(**(defaults | kwargs), height=height)
    return fig


def _money(value: float | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _html_table(headers: Sequence[str], rows: Sequence[Sequence[object]], css: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="data {css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# --------------------------------------------------------------------------- header


def _header(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    (as_of,) = con.execute("select as_of_date from rox.rox_data_coverage limit 1").fetchone() or (None,)
    first_day, last_day = con.execute(
        "select min(date_day), max(date_day) from rox.rox_scorecard_daily"
    ).fetchone()
    run = None
    if _table_exists(con, "ops.publish_log"):
        found = _rows(
            con,
            "select run_id, finished_at from ops.publish_log where outcome = 'published' "
            "order by finished_at desc limit 1",
        )
        run = found[0] if found else None
    freshness = _rows(
        con,
        """
        select
            data_type,
            min(freshness_days) filter (where not is_gap) as freshness_days,
            arg_min(stage_name, freshness_days) filter (where not is_gap) as freshest_stage,
            bool_or(gap_reason = 'not_delivered') as not_delivered
        from rox.rox_data_coverage
        group by data_type, data_type_order
        order by data_type_order
        """,
    )
    return {"as_of": as_of, "first_day": first_day, "last_day": last_day, "run": run, "freshness": freshness}


def _header_html(h: dict[str, Any], source: str, generated_at: datetime) -> str:
    run = h["run"]
    published = (
        f"published by run <code>{_e(run['run_id'])}</code> at {_e(run['finished_at']):.19} UTC"
        if run
        else "publish log not in the serving file"
    )
    items = []
    for f in h["freshness"]:
        if f["freshness_days"] is not None:
            text = f"newest row {f['freshness_days']} d before as-of ({f['freshest_stage']})"
        elif f["not_delivered"]:
            text = "not delivered"
        else:
            text = "no rows"
        cls = "stale" if f["freshness_days"] is None else ""
        items.append(f'<li class="{cls}"><b>{_e(f["data_type"])}</b>: {_e(text)}</li>')
    span = f"{h['first_day']} to {h['last_day']}" if h["first_day"] is not None else "no scorecard days"
    return f"""
<header>
  <h1>Return on Experience: the CX report</h1>
  <p class="meta">As of <b>{_e(h["as_of"])}</b> · survey scorecard {_e(span)} · {published} ·
  page generated {generated_at:%Y-%m-%d %H:%M} UTC from <code>{_e(source)}</code></p>
  <div class="freshness"><span>Data freshness by data type
  (<code>rox.rox_data_coverage.freshness_days</code>, freshest stage):</span><ul>{"".join(items)}</ul></div>
</header>"""


# --------------------------------------------------------------------------- 1. scorecard


def _scorecard_slices(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    """The series in the menu: alerted ones first, then the most answered (largest 90-day n seen)."""
    return _rows(
        con,
        f"""
        with alerted as (select distinct dimension, dimension_value from rox.rox_alerts),
        slices as (
            select segment, touchpoint_id, invitation_channel, max(n_responses_90d) as top_n_90d
            from rox.rox_scorecard_daily
            group by segment, touchpoint_id, invitation_channel
        )
        select
            s.segment, s.touchpoint_id, s.invitation_channel, s.top_n_90d,
            coalesce(t.touchpoint_name, s.touchpoint_id) as touchpoint_name,
            exists (
                select 1 from alerted as a
                where (a.dimension = 'segment' and a.dimension_value = s.segment)
                   or (a.dimension = 'touchpoint' and a.dimension_value = s.touchpoint_id)
            ) as has_alert
        from slices as s
        left join core.dim_touchpoints as t on s.touchpoint_id = t.touchpoint_id
        where s.top_n_90d > 0
        order by has_alert desc, s.top_n_90d desc, s.segment, s.touchpoint_id, s.invitation_channel
        limit {SCORECARD_SLICES}
        """,
    )


def _alerts(con: duckdb.DuckDBPyConnection) -> list[dict[str, Any]]:
    return _rows(
        con,
        """
        select alert_type, metric_name, dimension, dimension_value, severity, current_value,
               baseline_value, value_difference, difference_margin_of_error, z_score, n_current,
               n_baseline, breach_start_date, alert_date, breach_end_date, is_ongoing
        from rox.rox_alerts
        order by alert_date, dimension, dimension_value
        """,
    )


def _alert_marks(alerts: list[dict[str, Any]], sl: dict[str, Any]) -> tuple[list[dict], list[dict]]:
    """Shaded breach streaks and a label at the alert date, on the NPS (row 1) or CES (row 3) panel."""
    shapes, notes = [], []
    for a in alerts:
        if not (
            (a["dimension"] == "segment" and a["dimension_value"] == sl["segment"])
            or (a["dimension"] == "touchpoint" and a["dimension_value"] == sl["touchpoint_id"])
        ):
            continue
        x, y = ("x", "y") if a["metric_name"] == "nps" else ("x3", "y3")
        end = a["breach_end_date"] or a["alert_date"]
        shapes.append(
            {
                "type": "rect",
                "xref": x,
                "yref": f"{y} domain",
                "x0": str(a["breach_start_date"]),
                "x1": str(end),
                "y0": 0,
                "y1": 1,
                "fillcolor": "rgba(192,57,43,0.13)",
                "line": {"width": 0},
                "layer": "below",
            }
        )
        shapes.append(
            {
                "type": "line",
                "xref": x,
                "yref": f"{y} domain",
                "x0": str(a["alert_date"]),
                "x1": str(a["alert_date"]),
                "y0": 0,
                "y1": 1,
                "line": {"color": RED, "width": 2, "dash": "dot"},
            }
        )
        label = "NPS" if a["metric_name"] == "nps" else "CES"
        notes.append(
            {
                "xref": x,
                "yref": f"{y} domain",
                "x": str(a["alert_date"]),
                "y": 0.98,
                "xanchor": "right",
                "yanchor": "top",
                "showarrow": False,
                "text": f"<b>{label} alert</b> ({_e(a['dimension'])} {_e(a['dimension_value'])}, "
                f"{_e(a['severity'])}): {a['current_value']:.1f} vs {a['baseline_value']:.1f} ",
                "font": {"color": RED, "size": 12},
                "bgcolor": "rgba(255,255,255,0.8)",
            }
        )
    return shapes, notes


def _scorecard_figure(
    con: duckdb.DuckDBPyConnection, slices: list[dict[str, Any]], alerts: list[dict[str, Any]]
) -> go.Figure:
    fig = make_subplots(
        rows=3,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.07,
        subplot_titles=(
            "NPS, 30 days rolling, with its 95% margin of error",
            "CSAT % satisfied, 30 days rolling, with its 95% margin of error",
            "CES mean, 30 days rolling (1-7, higher = easier), with its 95% margin of error",
        ),
    )
    titles = [a.to_plotly_json() for a in fig.layout.annotations]
    buttons, first_marks = [], None
    for i, sl in enumerate(slices):
        days = _rows(
            con,
            """
            select date_day, nps_30d, nps_margin_of_error_30d, n_nps_30d, is_low_confidence_30d,
                   csat_pct_30d, csat_margin_of_error_30d, n_csat_30d,
                   ces_mean_30d, ces_margin_of_error_30d, n_ces_30d
            from rox.rox_scorecard_daily
            where segment = ? and touchpoint_id = ? and invitation_channel = ? and has_full_30d_window
            order by date_day
            """,
            [sl["segment"], sl["touchpoint_id"], sl["invitation_channel"]],
        )
        x = [d["date_day"] for d in days]
        thickness = max(1.5, min(6.0, 1000 / max(len(x), 1)))
        visible = i == 0
        series = (
            # (row, metric, hover label, colour, band colour, decimals): columns <metric>_30d,
            # <moe>_margin_of_error_30d and n_<moe>_30d of rox_scorecard_daily
            (1, "nps", "nps", "NPS", BLUE, "31,95,168", 1),
            (2, "csat_pct", "csat", "CSAT %", GREEN, "46,139,87", 1),
            (3, "ces_mean", "ces", "CES", AMBER, "214,137,16", 2),
        )
        for row, metric, base, label, colour, band, decimals in series:
            score, moe, n = f"{metric}_30d", f"{base}_margin_of_error_30d", f"n_{base}_30d"
            hover = f"%{{x|%Y-%m-%d}}: {label} %{{y:.{decimals}f}} ± %{{customdata[1]:.{decimals}f}}"
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=[d[score] for d in days],
                    mode="lines+markers" if row == 1 else "lines",
                    name=f"{label} (30 d)",
                    line={"color": colour, "width": 2},
                    # NPS points with fewer than nps_low_confidence_n answers are grey
                    marker={
                        "size": 4,
                        "color": [GREY if d["is_low_confidence_30d"] else colour for d in days],
                    }
                    if row == 1
                    else None,
                    error_y={
                        "type": "data",
                        "array": [d[moe] for d in days],
                        "visible": True,
                        "width": 0,
                        "thickness": thickness,
                        "color": f"rgba({band},0.18)",
                    },
                    customdata=[[d[n], d[moe]] for d in days],
                    hovertemplate=hover + "<br>n = %{customdata[0]} answers in 30 days<extra></extra>",
                    visible=visible,
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
        shapes, notes = _alert_marks(alerts, sl)
        for row, key, what in (
            (1, "nps_30d", "NPS"),
            (2, "csat_pct_30d", "CSAT"),
            (3, "ces_mean_30d", "CES"),
        ):
            if all(d[key] is None for d in days):
                axis = "" if row == 1 else str(row)
                notes.append(
                    {
                        "xref": f"x{axis} domain",
                        "yref": f"y{axis} domain",
                        "x": 0.5,
                        "y": 0.5,
                        "showarrow": False,
                        "text": f"no {what} answers in this series",
                        "font": {"color": GREY, "size": 14},
                    }
                )
        if first_marks is None:
            first_marks = (shapes, notes)
        mask = [j // 3 == i for j in range(3 * len(slices))]
        label = f"{sl['touchpoint_name']} · {sl['segment']} · {sl['invitation_channel']}" + (
            " · ALERT" if sl["has_alert"] else ""
        )
        buttons.append(
            {
                "label": label,
                "method": "update",
                "args": [{"visible": mask}, {"shapes": shapes, "annotations": titles + notes}],
            }
        )
    shapes, notes = first_marks or ([], [])
    fig.update_layout(
        shapes=shapes,
        annotations=titles + notes,
        updatemenus=[
            {
                "buttons": buttons,
                "direction": "down",
                "x": 0,
                "xanchor": "left",
                "y": 1.09,
                "yanchor": "bottom",
                "showactive": True,
                "bgcolor": "#eef3f9",
                "font": {"size": 13},
            }
        ],
    )
    fig.update_yaxes(title_text="NPS points", row=1, col=1)
    fig.update_yaxes(title_text="% satisfied", row=2, col=1)
    fig.update_yaxes(title_text="mean CES", row=3, col=1)
    fig.update_xaxes(title_text="last day of the 30-day window", row=3, col=1)
    return _layout(fig, height=820, margin={"l": 70, "r": 30, "t": 110, "b": 60})


def _scorecard_section(con: duckdb.DuckDBPyConnection) -> Section:
    slices = _scorecard_slices(con)
    alerts = _alerts(con)
    caption = (
        "Pick a series in the menu (segment x touchpoint x invitation channel, the grain of "
        "rox.rox_scorecard_daily; alerted series first, then the most answered). Lines are the rolling "
        "30-day values on days with a full 30-day window; the shaded bars around each line are its "
        "95% margin of error (nps_, csat_ and ces_margin_of_error_30d), grey NPS points have fewer "
        "than 30 answers. Red "
        "shading is an alert's breach streak, the dotted line the day it fired."
    )
    if slices:
        chart = Chart(
            "scorecard", "NPS, CSAT and CES over time", caption, _scorecard_figure(con, slices, alerts)
        )
    else:
        chart = Chart(
            "scorecard",
            "NPS, CSAT and CES over time",
            caption,
            None,
            "No data: rox.rox_scorecard_daily has no answered survey.",
        )
    if alerts:
        rows = [
            (
                a["alert_date"],
                a["alert_type"],
                f"{a['dimension']} {a['dimension_value']}",
                a["severity"],
                f"{a['current_value']:.2f}",
                f"{a['baseline_value']:.2f}",
                f"{a['value_difference']:.2f} ± {a['difference_margin_of_error']:.2f}",
                f"{a['z_score']:.2f}",
                f"{a['n_current']} / {a['n_baseline']}",
                f"{a['breach_start_date']} to {a['breach_end_date'] or 'now'}"
                + (" (ongoing)" if a["is_ongoing"] else ""),
            )
            for a in alerts
        ]
        after = "<h3>Alerts (rox.rox_alerts)</h3>" + _html_table(
            [
                "fired",
                "type",
                "what",
                "severity",
                "last 30 d",
                "baseline",
                "difference ± 95% MoE",
                "z",
                "n current / baseline",
                "breach",
            ],
            rows,
        )
    else:
        after = (
            '<p class="note">No alerts: rox.rox_alerts has no rows for this data (an alert needs a '
            "sustained drop beyond the margin of error, and enough history for a 30-day window and its "
            "90-day baseline).</p>"
        )
    intro = (
        "How customers rate us, day by day, each score with its 95% margin of error as a shaded band "
        "(rox.rox_scorecard_daily). The marts hold these scores per segment x touchpoint x channel and "
        "no company-wide line, so none is shown (this page computes no metric of its own)."
    )
    return Section("scorecard", "1. Experience over time", intro, [chart], html_after=after)


# --------------------------------------------------------------------------- 2. RoX in money


def _value_section(con: duckdb.DuckDBPyConnection) -> Section:
    groups = _rows(
        con,
        """
        select experience_metric, experience_group, n_customers, n_responses, n_complete_windows,
               n_incomplete_windows, mean_net_revenue_12m_amount::double as revenue_12m,
               mean_clv_predicted_12m_amount::double as clv_12m,
               promoter_detractor_value_ratio, revenue_at_risk_amount::double as revenue_at_risk,
               is_low_confidence
        from rox.rox_experience_value
        where segment = 'all' and industry_vertical = 'all' and cohort = 'all'
        """,
    )
    by_key = {(g["experience_metric"], g["experience_group"]): g for g in groups}
    detractors = by_key.get(("nps", "detractor"))
    promoters = by_key.get(("nps", "promoter"))
    ratio = detractors["promoter_detractor_value_ratio"] if detractors else None
    at_risk = detractors["revenue_at_risk"] if detractors else None
    no_window = not any(g["n_complete_windows"] for g in groups)
    why = "no 12-month window after an answer is complete yet" if no_window else "a part of it is missing"
    tiles = [
        (
            "Promoter / detractor value ratio",
            "—" if ratio is None else f"{ratio:.2f}x",
            "promoters' mean 12-month net revenue over detractors'"
            + ("" if ratio is not None else f" (null: {why})"),
        ),
        (
            "Revenue at risk",
            _money(at_risk),
            "detractors' 12-month revenue lost to their lower retention"
            + ("" if at_risk is not None else f" (null: {why})"),
        ),
        (
            "Detractor customers",
            "—" if detractors is None else f"{detractors['n_customers']:,}",
            "by their latest NPS answer",
        ),
        (
            "Promoter customers",
            "—" if promoters is None else f"{promoters['n_customers']:,}",
            "by their latest NPS answer",
        ),
    ]
    tiles_html = '<div class="tiles">' + "".join(
        f'<div class="tile"><div class="label">{_e(t)}</div><div class="value">{_e(v)}</div>'
        f'<div class="sub">{_e(s)}</div></div>'
        for t, v, s in tiles
    )
    tiles_html += "</div>"

    value_caption = (
        "For each experience group (all customers, all cohorts): dark bars are the mean net revenue in "
        "the 12 months after an answer in that group (complete windows only; the label gives how many), "
        "light bars the mean predicted 12-month CLV of the group's customers today. Reporting currency."
    )
    if groups:
        fig = make_subplots(
            rows=1, cols=3, shared_yaxes=True, subplot_titles=[METRIC_TITLES[m] for m in GROUP_ORDER]
        )
        for col, (metric, order) in enumerate(GROUP_ORDER.items(), start=1):
            present = [by_key[(metric, g)] for g in order if (metric, g) in by_key]
            names = [g["experience_group"] for g in present]
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=[g["revenue_12m"] for g in present],
                    name="12-month net revenue after the answer",
                    marker_color=BLUE,
                    text=[f"n={g['n_complete_windows']}" for g in present],
                    textposition="outside",
                    customdata=[[g["n_complete_windows"], g["n_incomplete_windows"]] for g in present],
                    hovertemplate="%{x}: %{y:,.2f}<br>complete windows %{customdata[0]}, "
                    "incomplete %{customdata[1]}<extra></extra>",
                    legendgroup="revenue",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
            fig.add_trace(
                go.Bar(
                    x=names,
                    y=[g["clv_12m"] for g in present],
                    name="predicted 12-month CLV today",
                    marker_color="#9cc3e6",
                    customdata=[g["n_customers"] for g in present],
                    hovertemplate="%{x}: %{y:,.2f}<br>%{customdata} customers<extra></extra>",
                    legendgroup="clv",
                    showlegend=col == 1,
                ),
                row=1,
                col=col,
            )
        fig.update_yaxes(title_text="amount per customer / answer", row=1, col=1)
        _layout(
            fig,
            height=460,
            barmode="group",
            margin={"l": 80, "r": 30, "t": 100, "b": 50},
            legend={"orientation": "h", "yanchor": "bottom", "y": 1.12, "xanchor": "left", "x": 0},
        )
        note = (
            f"The 12-month net revenue is null in every group: {why}; only the predicted CLV is drawn."
            if all(g["revenue_12m"] is None for g in groups)
            else ""
        )
        value_chart = Chart("value", "12-month value by experience group", value_caption, fig, note)
    else:
        value_chart = Chart(
            "value",
            "12-month value by experience group",
            value_caption,
            None,
            "No data: rox.rox_experience_value is empty (no survey answer with a known customer).",
        )

    segments = _rows(
        con,
        """
        select segment, promoter_detractor_value_ratio, revenue_at_risk_amount::double as revenue_at_risk,
               n_customers
        from rox.rox_experience_value
        where experience_metric = 'nps' and experience_group = 'detractor'
          and industry_vertical = 'all' and cohort = 'all' and segment <> 'all'
        order by segment
        """,
    )
    seg_caption = (
        "The same two RoX figures per CRM segment (rows of rox.rox_experience_value with segment set, "
        "every vertical and cohort). Segment figures are not additive: each has its own retention gap."
    )
    if any(
        s["revenue_at_risk"] is not None or s["promoter_detractor_value_ratio"] is not None for s in segments
    ):
        fig = make_subplots(
            rows=1,
            cols=2,
            subplot_titles=("Promoter / detractor value ratio", "Revenue at risk from detractors"),
            horizontal_spacing=0.12,
        )
        names = [s["segment"] for s in segments]
        colours = [SEGMENT_COLOURS.get(n, GREY) for n in names]
        fig.add_trace(
            go.Bar(
                x=names,
                y=[s["promoter_detractor_value_ratio"] for s in segments],
                marker_color=colours,
                texttemplate="%{y:.2f}x",
                textposition="outside",
                hovertemplate="%{x}: %{y:.2f}x<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=1,
        )
        fig.add_trace(
            go.Bar(
                x=names,
                y=[s["revenue_at_risk"] for s in segments],
                marker_color=colours,
                texttemplate="%{y:,.0f}",
                textposition="outside",
                customdata=[s["n_customers"] for s in segments],
                hovertemplate="%{x}: %{y:,.2f} (%{customdata} detractor customers)<extra></extra>",
                showlegend=False,
            ),
            row=1,
            col=2,
        )
        fig.update_yaxes(title_text="ratio", row=1, col=1)
        fig.update_yaxes(title_text="reporting currency", row=1, col=2)
        _layout(fig, height=380, margin={"l": 80, "r": 30, "t": 60, "b": 50})
        seg_chart = Chart("value_segments", "Value ratio and revenue at risk by segment", seg_caption, fig)
    else:
        seg_chart = Chart(
            "value_segments",
            "Value ratio and revenue at risk by segment",
            seg_caption,
            None,
            f"No data: the ratio and revenue at risk are null in every segment ({why}).",
        )
    intro = (
        "Does experience pay? What customers spent in the 12 months after they answered, by how they "
        "answered, from rox.rox_experience_value."
    )
    return Section("value", "2. The RoX story in money", intro, [value_chart, seg_chart], tiles_html)


# --------------------------------------------------------------------------- 3. friction and coverage


def _friction_chart(con: duckdb.DuckDBPyConnection) -> Chart:
    rows = _rows(
        con,
        """
        select f.touchpoint_id, f.touchpoint_name, coalesce(s.stage_name, f.journey_stage) as stage,
               f.owning_team, f.friction_score, f.friction_rank, f.n_friction_indicators, f.n_responses,
               f.ces_easy_pct, f.csat_pct, f.detractor_share_pct, f.cases_per_1000_orders,
               f.checkout_abandonment_pct, f.late_delivery_pct
        from rox.rox_journey_friction as f
        left join (select distinct journey_stage, stage_name from rox.rox_data_coverage) as s
            on f.journey_stage = s.journey_stage
        order by f.friction_rank nulls last, f.stage_order, f.touchpoint_id
        """,
    )
    ranked = [r for r in rows if r["friction_rank"] is not None]
    unranked = [r for r in rows if r["friction_rank"] is None]
    caption = (
        "Touchpoints ranked by friction score (rox.rox_journey_friction): the mean share of experiences "
        "at the touchpoint that went badly across the signals it has (detractors, difficult effort, "
        "dissatisfied, cases per order, abandoned checkouts, late deliveries), 0-100, higher = worse. "
        "Hover for the signals."
    )
    note = (
        "No friction score (no signal): "
        + ", ".join(f"{r['touchpoint_name']} ({r['stage']})" for r in unranked)
        if unranked
        else ""
    )
    if not ranked:
        return Chart(
            "friction",
            "Journey friction ranking",
            caption,
            None,
            "No data: no touchpoint has a friction score. " + note,
        )

    def fmt(v: float | None, unit: str = "%") -> str:
        return "n/a" if v is None else f"{v:.1f}{unit}"

    hover = [
        f"<b>{_e(r['touchpoint_name'])}</b> ({_e(r['stage'])}, {_e(r['owning_team'])})<br>"
        f"friction {r['friction_score']:.1f} from {r['n_friction_indicators']} signals, "
        f"{r['n_responses']} answers<br>detractors {fmt(r['detractor_share_pct'])} · "
        f"CSAT {fmt(r['csat_pct'])} · easy CES {fmt(r['ces_easy_pct'])}<br>"
        f"cases / 1,000 orders {fmt(r['cases_per_1000_orders'], '')} · abandoned checkouts "
        f"{fmt(r['checkout_abandonment_pct'])} · late deliveries {fmt(r['late_delivery_pct'])}"
        for r in ranked
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["friction_score"] for r in ranked],
            y=[f"{r['friction_rank']}. {r['touchpoint_name']} · {r['stage']}" for r in ranked],
            orientation="h",
            marker_color=[RED if r["friction_rank"] <= 3 else AMBER for r in ranked],
            texttemplate="%{x:.1f}",
            textposition="outside",
            hovertext=hover,
            hoverinfo="text",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text="friction score (0-100, higher = more friction)", rangemode="tozero")
    _layout(fig, height=120 + 34 * len(ranked), margin={"l": 20, "r": 40, "t": 40, "b": 60})
    return Chart("friction", "Journey friction ranking", caption, fig, note)


def _coverage_chart(con: duckdb.DuckDBPyConnection) -> tuple[Chart, str]:
    cells = _rows(
        con,
        """
        select journey_stage, coalesce(stage_name, journey_stage) as stage_name, data_type, stage_order,
               data_type_order, n_rows, n_customers, customers_covered_pct, freshness_days, is_gap,
               gap_reason
        from rox.rox_data_coverage
        order by stage_order nulls last, data_type_order
        """,
    )
    caption = (
        "Journey stage x data type (rox.rox_data_coverage): colour and number = % of customers with at "
        "least one row of that data type at that stage; red cells are gaps (no row at all), with the "
        "reason. An 'unmapped' stage holds rows whose touchpoint the reference data does not know."
    )
    if not cells:
        return Chart(
            "coverage", "Data coverage", caption, None, "No data: rox.rox_data_coverage is empty."
        ), ""
    stages = list(dict.fromkeys(c["stage_name"] for c in cells))
    types = [t for _, t in sorted({(c["data_type_order"], c["data_type"]) for c in cells})]
    grid = {(c["stage_name"], c["data_type"]): c for c in cells}

    def z(stage: str, dtype: str, gaps: bool) -> float | None:
        c = grid.get((stage, dtype))
        if c is None or c["is_gap"] != gaps:
            return None
        return 1.0 if gaps else c["customers_covered_pct"]

    def label(stage: str, dtype: str, gaps: bool) -> str:
        c = grid.get((stage, dtype))
        if c is None or c["is_gap"] != gaps:
            return ""
        if gaps:
            return "GAP<br>" + GAP_REASONS.get(c["gap_reason"] or "", c["gap_reason"] or "")
        return f"{c['customers_covered_pct']:.1f}%<br>{c['n_rows']:,} rows"

    fig = go.Figure()
    fig.add_trace(
        go.Heatmap(
            x=types,
            y=stages,
            z=[[z(s, t, False) for t in types] for s in stages],
            zmin=0,
            zmax=100,
            colorscale="Blues",
            colorbar={"title": {"text": "% of customers"}, "thickness": 14},
            text=[[label(s, t, False) for t in types] for s in stages],
            texttemplate="%{text}",
            hovertemplate="%{y} · %{x}: %{z:.2f}% of customers<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.add_trace(
        go.Heatmap(
            x=types,
            y=stages,
            z=[[z(s, t, True) for t in types] for s in stages],
            zmin=0,
            zmax=1,
            colorscale=[[0, "#f5b7b1"], [1, "#f5b7b1"]],
            showscale=False,
            text=[[label(s, t, True) for t in types] for s in stages],
            texttemplate="%{text}",
            textfont={"color": "#922b21"},
            hovertemplate="%{y} · %{x}: gap<extra></extra>",
            xgap=2,
            ygap=2,
        )
    )
    fig.update_yaxes(autorange="reversed", title_text="journey stage")
    fig.update_xaxes(side="top", title_text="data type")
    _layout(fig, height=140 + 62 * len(stages), margin={"l": 110, "r": 30, "t": 70, "b": 20})
    gaps = [c for c in cells if c["is_gap"]]
    gap_list = ""
    if gaps:
        by_stage: dict[str, dict[str, list[str]]] = {}
        for c in gaps:
            reason = c["gap_reason"] or "gap"
            by_stage.setdefault(c["stage_name"], {}).setdefault(reason, []).append(c["data_type"])
        items = "".join(
            f"<li><b>{_e(stage)}</b>: "
            + "; ".join(
                f"{_e(', '.join(types))} ({_e(GAP_REASONS.get(reason, reason))})"
                for reason, types in reasons.items()
            )
            + "</li>"
            for stage, reasons in by_stage.items()
        )
        gap_list = f'<div class="gaps"><h3>Where we are blind</h3><ul>{items}</ul></div>'
    else:
        gap_list = '<p class="note">No gaps: every stage has every data type.</p>'
    return Chart("coverage", "Data coverage: journey stage x data type", caption, fig), gap_list


def _journey_section(con: duckdb.DuckDBPyConnection) -> Section:
    coverage, gap_list = _coverage_chart(con)
    intro = "Where the journey hurts, and where we cannot see it."
    return Section(
        "journey",
        "3. Journey friction and data coverage",
        intro,
        [_friction_chart(con), coverage],
        html_after=gap_list,
    )


# --------------------------------------------------------------------------- 4. drivers


def _drivers_chart(con: duckdb.DuckDBPyConnection, outcome: str) -> Chart:
    rows = _rows(
        con,
        f"""
        select driver, driver_level, n_responses, n_present, n_absent, mean_when_present,
               mean_when_absent, difference_of_means, pearson_correlation, effect_rank
        from rox.rox_drivers
        where outcome = ? and effect_rank is not null
        order by effect_rank
        limit {TOP_DRIVERS}
        """,
        [outcome],
    )
    (n_unranked,) = con.execute(
        "select count(*) from rox.rox_drivers where outcome = ? and effect_rank is null", [outcome]
    ).fetchone()
    if outcome == "nps_score":
        chart_id, title, unit = "drivers_nps", "Top drivers of the NPS answer", "NPS answer points (0-10)"
        fmt = ".2f"
    else:
        chart_id, title, unit = "drivers_revenue", "Top drivers of 12-month net revenue", "reporting currency"
        fmt = ",.0f"
    caption = (
        f"Effect = mean {unit} of answers with the driver minus without it (rox.rox_drivers, top "
        f"{TOP_DRIVERS} by size; n = answers with / without). Green: goes with a better outcome, red: "
        "worse. Associations, not proof of cause."
    )
    skipped = (
        f"{n_unranked} more driver rows have fewer than 30 answers on one side and are not ranked."
        if n_unranked
        else ""
    )
    if not rows:
        return Chart(chart_id, title, caption, None, f"No data: no ranked driver for this outcome. {skipped}")
    labels = [
        f"{DRIVER_NAMES.get(r['driver'], r['driver'])}: {r['driver_level'].replace('_', ' ')}"
        f"  (n {r['n_present']:,} / {r['n_absent']:,})"
        for r in rows
    ]
    fig = go.Figure(
        go.Bar(
            x=[r["difference_of_means"] for r in rows],
            y=labels,
            orientation="h",
            marker_color=[GREEN if r["difference_of_means"] >= 0 else RED for r in rows],
            texttemplate=f"%{{x:+{fmt}}}",
            textposition="outside",
            cliponaxis=False,
            customdata=[
                [r["mean_when_present"], r["mean_when_absent"], r["pearson_correlation"], r["effect_rank"]]
                for r in rows
            ],
            hovertemplate=f"%{{y}}<br>effect %{{x:{fmt}}} (rank %{{customdata[3]}})<br>"
            f"mean with %{{customdata[0]:{fmt}}}, without %{{customdata[1]:{fmt}}}<br>"
            "correlation %{customdata[2]:.3f}<extra></extra>",
        )
    )
    fig.update_yaxes(autorange="reversed", automargin=True)
    fig.update_xaxes(title_text=f"effect ({unit})", zeroline=True, zerolinecolor="#566573")
    _layout(fig, height=120 + 36 * len(rows), margin={"l": 20, "r": 60, "t": 40, "b": 60})
    return Chart(chart_id, title, caption, fig, skipped)


def _drivers_section(con: duckdb.DuckDBPyConnection) -> Section:
    intro = "What to fix first: the drivers whose presence moves the score or the money most."
    charts = [_drivers_chart(con, "nps_score"), _drivers_chart(con, "net_revenue_12m_amount")]
    return Section("drivers", "4. Top drivers", intro, charts)


# --------------------------------------------------------------------------- 5. closed loop


def _closed_loop_section(con: duckdb.DuckDBPyConnection) -> Section:
    counts = _rows(
        con,
        """
        select follow_up_status, coalesce(segment, 'no CRM profile') as segment, count(*) as n
        from rox.rox_closed_loop
        group by all
        order by follow_up_status, segment
        """,
    )
    (as_of,) = con.execute("select as_of_date from rox.rox_closed_loop limit 1").fetchone() or (None,)
    backlog = _rows(
        con,
        """
        select follow_up_status, coalesce(segment, 'no CRM profile') as segment, nps_score, answered_at,
               follow_up_due_at
        from rox.rox_closed_loop
        where follow_up_status <> 'followed_up'
        order by answered_at
        """,
    )
    count_caption = (
        "Every detractor answer (rox.rox_closed_loop) by follow-up status at the as-of date and CRM "
        "segment. Bar lengths count the mart's rows; no names, ids or contact details are shown."
    )
    statuses = [s for s in STATUS_NAMES if any(c["follow_up_status"] == s for c in counts)]
    if counts:
        fig = go.Figure()
        for seg in dict.fromkeys(c["segment"] for c in counts):
            n_by_status = {c["follow_up_status"]: c["n"] for c in counts if c["segment"] == seg}
            fig.add_trace(
                go.Bar(
                    y=[STATUS_NAMES[s] for s in statuses],
                    x=[n_by_status.get(s) for s in statuses],
                    name=seg,
                    orientation="h",
                    marker_color=SEGMENT_COLOURS.get(seg, GREY),
                    text=[n_by_status.get(s) for s in statuses],
                    textposition="inside",
                    hovertemplate=f"{_e(seg)} · %{{y}}: %{{x}} detractor answers<extra></extra>",
                )
            )
        fig.update_yaxes(autorange="reversed", automargin=True)
        fig.update_xaxes(title_text="detractor answers")
        _layout(fig, height=300, barmode="stack", margin={"l": 20, "r": 30, "t": 50, "b": 60})
        count_chart = Chart("closed_loop_counts", "Closed-loop status", count_caption, fig)
    else:
        count_chart = Chart(
            "closed_loop_counts", "Closed-loop status", count_caption, None, "No data: no detractor answer."
        )
    age_caption = (
        "The open backlog (overdue or still within the SLA), one point per detractor answer, placed on "
        f"the day it was answered; the dashed line is the as-of date ({as_of}), so the distance to it is "
        "the answer's age. Hover for the NPS answer and the follow-up due time."
    )
    if backlog:
        fig = go.Figure()
        for status in ("overdue", "open_within_sla"):
            items = [b for b in backlog if b["follow_up_status"] == status]
            if not items:
                continue
            fig.add_trace(
                go.Scatter(
                    x=[b["answered_at"] for b in items],
                    y=[b["segment"] for b in items],
                    mode="markers",
                    name=STATUS_NAMES[status],
                    marker={
                        "size": 10,
                        "opacity": 0.7,
                        "color": RED if status == "overdue" else AMBER,
                        "line": {"width": 1, "color": "white"},
                    },
                    customdata=[[b["nps_score"], str(b["follow_up_due_at"])[:16]] for b in items],
                    hovertemplate="answered %{x|%Y-%m-%d %H:%M}<br>NPS answer %{customdata[0]}"
                    "<br>follow-up due %{customdata[1]}<extra>%{y}</extra>",
                )
            )
        if as_of is not None:
            fig.add_vline(x=str(as_of), line={"color": "#1b2631", "dash": "dash", "width": 1.5})
            fig.add_annotation(
                x=str(as_of),
                y=1.0,
                yref="paper",
                yanchor="bottom",
                text=f"as of {as_of}",
                showarrow=False,
                xanchor="right",
            )
        fig.update_xaxes(title_text="answered on")
        fig.update_yaxes(title_text="CRM segment", automargin=True)
        _layout(fig, height=320, showlegend=True, margin={"l": 20, "r": 30, "t": 60, "b": 60})
        age_chart = Chart("closed_loop_ages", "Open backlog by age", age_caption, fig)
    else:
        age_chart = Chart(
            "closed_loop_ages",
            "Open backlog by age",
            age_caption,
            None,
            "No open backlog: every detractor answer has been followed up.",
        )
    intro = (
        "Did we call the detractors back? The mart has no age column for open items, so ages are shown "
        "as the answer date against the as-of date rather than computed here."
    )
    return Section("closed_loop", "5. Closed-loop follow-up", intro, [count_chart, age_chart])


# --------------------------------------------------------------------------- page

CSS = """
:root { --ink:#1b2631; --muted:#5d6d7e; --line:#d5dbe1; --bg:#f6f8fa; }
* { box-sizing: border-box; }
body { margin:0; font-family: FONT; color: var(--ink); background: var(--bg); line-height: 1.45; }
header, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 21px; margin: 28px 0 6px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
.meta { color: var(--muted); margin: 0 0 8px; }
.freshness { font-size: 13px; color: var(--muted); }
.freshness ul { display: inline; padding: 0; margin: 0 0 0 6px; }
.freshness li { display: inline; margin-right: 14px; }
.freshness li.stale { color: #922b21; }
nav { max-width: 1280px; margin: 8px auto 0; padding: 0 24px; font-size: 14px; }
nav a { margin-right: 16px; color: #1f5fa8; text-decoration: none; }
.card { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 14px 16px;
        margin: 12px 0; }
.card h3 { margin-top: 0; }
.caption { color: var(--muted); font-size: 13.5px; margin: 2px 0 8px; }
.note { background: #fef5e7; border-left: 4px solid #d68910; padding: 8px 12px; font-size: 14px; }
.nodata { background: #f2f4f4; border: 1px dashed #aab7b8; border-radius: 6px; padding: 28px;
          text-align: center; color: var(--muted); font-size: 15px; }
.tiles { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; margin: 12px 0; }
.tile { background: white; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
.tile .label { font-size: 13px; color: var(--muted); }
.tile .value { font-size: 26px; font-weight: 600; margin: 2px 0; }
.tile .sub { font-size: 12px; color: var(--muted); }
table.data { border-collapse: collapse; font-size: 13px; width: 100%; background: white; }
table.data th, table.data td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; }
table.data th { background: #eef3f9; }
.gaps ul { margin: 4px 0; font-size: 14px; }
footer { color: var(--muted); font-size: 12.5px; padding-top: 16px; padding-bottom: 32px; }
#report-errors { color: #922b21; white-space: pre-wrap; }
""".replace("FONT", FONT)

# Before plotly.js, so that an error anywhere (a bad figure, a blocked request) is kept and shown.
ERROR_CAPTURE = """
window.__roxErrors = [];
window.addEventListener('error', function (e) { window.__roxErrors.push('error: ' + (e.message || e)); });
window.addEventListener('unhandledrejection', function (e) {
  window.__roxErrors.push('rejection: ' + e.reason);
});
document.addEventListener('securitypolicyviolation', function (e) {
  window.__roxErrors.push('blocked by the offline policy: ' + e.blockedURI);
});
(function () {
  var original = console.error;
  console.error = function () {
    window.__roxErrors.push('console.error: ' + Array.prototype.join.call(arguments, ' '));
    return original.apply(console, arguments);
  };
})();
"""

RENDER = """
(function () {
  var config = CONFIG;
  var charts = Array.prototype.slice.call(document.querySelectorAll('div.rox-chart'));
  var drawn = charts.map(function (div) {
    try {
      var fig = JSON.parse(document.getElementById(div.getAttribute('data-figure')).textContent);
      return Plotly.newPlot(div, fig.data, fig.layout, config).then(function () {
        div.setAttribute('data-rendered', 'true');
      });
    } catch (err) {
      window.__roxErrors.push('chart ' + div.id + ': ' + err);
      return Promise.resolve();
    }
  });
  Promise.all(drawn).catch(function (err) {
    window.__roxErrors.push('plot failed: ' + err);
  }).then(function () {
    var out = document.getElementById('report-errors');
    out.textContent = window.__roxErrors.join('\\n');
    out.hidden = window.__roxErrors.length === 0;
    document.body.setAttribute('data-page-height', String(document.documentElement.scrollHeight));
    document.body.setAttribute('data-report-status', window.__roxErrors.length ? 'errors' : 'ok');
  });
})();
""".replace("CONFIG", json.dumps(PLOT_CONFIG))


def _figure_json(fig: go.Figure) -> str:
    # "</" would end the <script> element early; "<\/" is the same JSON string.
    return pio.to_json(fig, validate=True).replace("</", "<\\/")


def _chart_html(chart: Chart) -> tuple[str, str]:
    """The chart's card, and the JSON script element holding its figure ('' for a no-data note)."""
    note = f'<p class="note">{_e(chart.note)}</p>' if chart.note and chart.figure is not None else ""
    if chart.figure is None:
        body = f'<div class="nodata" id="{chart.chart_id}-nodata">{_e(chart.note or "No data.")}</div>'
        data = ""
    else:
        body = f'<div class="rox-chart" id="chart-{chart.chart_id}" data-figure="fig-{chart.chart_id}"></div>'
        data = (
            f'<script type="application/json" id="fig-{chart.chart_id}">{_figure_json(chart.figure)}</script>'
        )
    card = (
        f'<div class="card" id="card-{chart.chart_id}"><h3>{_e(chart.title)}</h3>'
        f'<p class="caption">{_e(chart.caption)}</p>{body}{note}</div>'
    )
    return card, data


def build_sections(con: duckdb.DuckDBPyConnection) -> list[Section]:
    return [
        _scorecard_section(con),
        _value_section(con),
        _journey_section(con),
        _drivers_section(con),
        _closed_loop_section(con),
    ]


def render_html(
    header: dict[str, Any], sections: list[Section], *, source: str, generated_at: datetime
) -> str:
    charts = [c for s in sections for c in s.charts if c.figure is not None]
    body, data = [], []
    for s in sections:
        cards = []
        for chart in s.charts:
            card, fig = _chart_html(chart)
            cards.append(card)
            data.append(fig)
        body.append(
            f'<section id="{s.section_id}"><h2>{_e(s.title)}</h2><p>{_e(s.intro)}</p>'
            f"{s.html_before}{''.join(cards)}{s.html_after}</section>"
        )
    nav = "".join(f'<a href="#{s.section_id}">{_e(s.title)}</a>' for s in sections)
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="rox-report-charts" content="{len(charts)}">
<title>RoX report · as of {_e(header["as_of"])}</title>
<style>{CSS}</style>
<script>{ERROR_CAPTURE}</script>
<script id="plotly-js">{get_plotlyjs()}</script>
</head>
<body data-report-status="loading">
{_header_html(header, source, generated_at)}
<nav>{nav}</nav>
<main>
{"".join(body)}
</main>
<footer>
<p>Every number on this page is a value of a published mart in the serving warehouse (schemas core, rox,
ops); the page selects, sorts and keeps top rows but computes no metric, except the closed-loop bar lengths,
which count rows of rox.rox_closed_loop. Definitions: the dbt docs of each model and DECISIONLOG.md.
Charts: Plotly, included in this file; it opens offline and loads nothing from the network.</p>
<pre id="report-errors" hidden></pre>
</footer>
{"".join(data)}
<script>{RENDER}</script>
</body>
</html>
"""


def write_report(serving: Path = DEFAULT_SERVING, out: Path = DEFAULT_OUT) -> ReportResult:
    """Read the serving warehouse and write the self-contained HTML report to ``out`` (atomically)."""
    con = connect(serving)
    try:
        header = _header(con)
        sections = build_sections(con)
    finally:
        con.close()
    page = render_html(header, sections, source=Path(serving).name, generated_at=datetime.now(UTC))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    charts = [c for s in sections for c in s.charts]
    result = ReportResult(
        out=out,
        n_charts=sum(c.figure is not None for c in charts),
        empty_charts=[c.title for c in charts if c.figure is None],
        n_bytes=out.stat().st_size,
    )
    log.info("wrote %s: %d charts, %d without data", out, result.n_charts, len(result.empty_charts))
    return result
