"""RoX on scale-s data: the marts agree with MetricFlow and with a recomputation from the raw files,
and the generator's truth (promoters are worth more) comes out of the warehouse."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from insight_engine.dbt import PROJECT_DIR, run_dbt


def _segment_nps_from_mart(build) -> dict[str, tuple[int, float]]:
    rows = build.query(
        """
        select segment, sum(n_nps), 100.0 * (sum(n_promoters) - sum(n_detractors)) / sum(n_nps)
        from rox.rox_scorecard_daily
        group by segment
        """
    )
    return {seg: (int(n), float(nps)) for seg, n, nps in rows}


def _latest(df: pd.DataFrame, key: str) -> pd.DataFrame:
    df = df.dropna(subset=[key]).sort_values("_loaded_at")
    return df.drop_duplicates(subset=[key], keep="last")


def _segment_nps_from_raw(raw: Path) -> dict[str, tuple[int, float]]:
    """NPS by CRM segment straight from the landing files, with pandas: no dbt model involved."""
    answers = pd.read_parquet(raw / "survey" / "answers")
    questions = pd.read_parquet(raw / "survey" / "questions").dropna(subset=["question_id"])
    responses = _latest(pd.read_parquet(raw / "survey" / "responses"), "response_id")
    invitations = _latest(pd.read_parquet(raw / "survey" / "invitations"), "invitation_id")
    crm = _latest(pd.read_parquet(raw / "crm" / "customers"), "crm_customer_id")
    nps_q = set(questions.loc[questions["metric"] == "nps", "question_id"])
    a = answers[
        answers["question_id"].isin(nps_q) & answers["response_id"].isin(set(responses["response_id"]))
    ]
    a = a[a["answer_numeric"].between(0, 10) & (a["answer_numeric"] % 1 == 0)]
    a = a.drop_duplicates(subset=["response_id", "question_id"]).merge(
        responses[["response_id", "invitation_id", "email"]], on="response_id"
    )
    crm_by_id = crm.set_index("crm_customer_id")["segment"]
    crm_by_email = crm.assign(e=crm["email"].str.strip().str.lower()).set_index("e")["segment"]
    inv_crm = invitations.set_index("invitation_id")["crm_customer_id"]
    seg = a["invitation_id"].map(inv_crm).map(crm_by_id)
    anon = a["invitation_id"].isna()
    seg[anon] = a.loc[anon, "email"].str.strip().str.lower().map(crm_by_email)
    a["segment"] = seg.fillna("unknown")
    out = {}
    for segment, g in a.groupby("segment"):
        p, d = int((g["answer_numeric"] >= 9).sum()), int((g["answer_numeric"] <= 6).sum())
        out[segment] = (len(g), 100.0 * (p - d) / len(g))
    return out


def test_scorecard_nps_by_segment_matches_raw_recomputation(s_build):
    mart = _segment_nps_from_mart(s_build)
    raw = _segment_nps_from_raw(s_build.raw_root)
    assert set(mart) == set(raw)
    for segment in raw:
        assert mart[segment][0] == raw[segment][0], segment
        assert mart[segment][1] == pytest.approx(raw[segment][1], abs=1e-9), segment


def test_metricflow_nps_by_segment_matches_the_mart(s_build, tmp_path):
    env = {**os.environ, "RAW_ROOT": str(s_build.raw_root), "INSIGHT_WAREHOUSE": str(s_build.warehouse)}
    parsed = run_dbt(
        ["parse"], raw_root=s_build.raw_root, warehouse=s_build.warehouse, target_path=PROJECT_DIR / "target"
    )
    assert parsed.success, parsed.failures
    out = tmp_path / "nps.csv"
    mf = Path(sys.executable).with_name("mf")
    proc = subprocess.run(
        [
            str(mf),
            "query",
            "--metrics",
            "nps,nps_answers_count",
            "--group-by",
            "customer__segment",
            "--csv",
            str(out),
        ],
        cwd=PROJECT_DIR,
        env={**env, "DBT_PROFILES_DIR": str(PROJECT_DIR)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    with out.open() as f:
        rows = list(csv.DictReader(f))
    semantic: dict[str, list[float]] = {}
    for r in rows:
        # responses of unknown people have no customer (null); the scorecard files them as 'unknown'
        seg = r["customer__segment"] or "unknown"
        n, nps = float(r["nps_answers_count"]), float(r["nps"])
        acc = semantic.setdefault(seg, [0.0, 0.0])
        acc[0] += n
        acc[1] += nps * n
    mart = _segment_nps_from_mart(s_build)
    assert set(semantic) == set(mart)
    for seg, (n, weighted) in semantic.items():
        assert n == mart[seg][0], seg
        assert weighted / n == pytest.approx(mart[seg][1], abs=1e-6), seg


def test_promoters_are_worth_more_than_detractors_in_the_12_months_after(s_build):
    rows = dict(
        s_build.query(
            """
            select experience_group, sum(mean_net_revenue_12m_amount * n_complete_windows)
                / sum(n_complete_windows)
            from rox.rox_experience_value
            where experience_metric = 'nps' and segment = 'all' and industry_vertical = 'all'
                and cohort = 'all' and n_complete_windows > 0
            group by 1
            """
        )
    )
    print(f"12-month net revenue by NPS group: {rows}")
    assert rows["promoter"] > rows["detractor"]
