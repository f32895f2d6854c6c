"""fct_customer: one row per person, no PII, money that reconciles, metrics that match the raw answers."""

from __future__ import annotations

import re
from decimal import Decimal

import pandas as pd

PII_NAME = re.compile(r"(e_?mail|phone|first_name|last_name|birth)", re.IGNORECASE)
EMAIL_VALUE = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.IGNORECASE)


def test_one_row_per_resolved_customer(xs):
    (rows, keys) = xs.query("select count(*), count(distinct customer_key) from core.fct_customer")[0]
    (resolved,) = xs.query("select count(distinct customer_key) from intermediate.int_identities_linked")[0]
    assert rows == keys == resolved


def test_no_pii_column_in_bi_schemas(xs):
    cols = xs.query(
        "select table_name, column_name from information_schema.columns "
        "where table_schema in ('core', 'rox', 'quality')"
    )
    assert cols, "no BI-facing tables found"
    assert [c for c in cols if PII_NAME.search(c[1])] == []


def test_no_email_values_in_bi_schemas(xs):
    cols = xs.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where table_schema in ('core', 'rox', 'quality') and data_type = 'VARCHAR'"
    )
    leaks = []
    for schema, table, column in cols:
        values = xs.query(
            f'select distinct "{column}" from {schema}.{table} where "{column}" like \'%@%\' limit 5'
        )
        leaks += [(table, column, v) for (v,) in values if v and EMAIL_VALUE.search(v)]
    assert leaks == []


def test_customer_revenue_reconciles_with_orders_to_the_cent(xs):
    (customers,) = xs.query("select sum(net_revenue_amount) from core.fct_customer")[0]
    (orders,) = xs.query(
        "select sum(net_revenue_amount) from core.fct_orders where customer_key is not null"
    )[0]
    assert customers == orders
    assert isinstance(customers, Decimal) and customers > 0


def test_nps_matches_an_independent_recomputation_from_raw_answers(xs):
    raw = xs.raw_root
    answers = pd.read_parquet(raw / "survey" / "answers")
    questions = pd.read_parquet(raw / "survey" / "questions").dropna(subset=["question_id"])
    responses = pd.read_parquet(raw / "survey" / "responses")
    nps_questions = set(questions.loc[questions["metric"] == "nps", "question_id"])
    a = answers[
        answers["question_id"].isin(nps_questions)
        & answers["response_id"].isin(set(responses["response_id"]))
    ]
    a = a[a["answer_numeric"].between(0, 10) & (a["answer_numeric"] % 1 == 0)]
    a = a.drop_duplicates(subset=["response_id", "question_id"])
    promoters = int((a["answer_numeric"] >= 9).sum())
    detractors = int((a["answer_numeric"] <= 6).sum())
    expected = 100.0 * (promoters - detractors) / len(a)
    (n, got) = xs.query(
        "select count(nps_score), 100.0 * (count(*) filter (where nps_group = 'promoter') "
        "- count(*) filter (where nps_group = 'detractor')) / count(nps_score) "
        "from core.fct_survey_responses"
    )[0]
    assert n == len(a)
    assert abs(got - expected) < 1e-9


def test_churn_is_censored_when_history_is_shorter_than_churn_days(xs):
    """The xs data spans 120 days < churn_days (180): nobody can have churned yet, everyone is censored."""
    rows = xs.query("select churn_status, count(*) from core.fct_customer where n_orders > 0 group by 1")
    assert rows and dict(rows) == {"censored": dict(rows)["censored"]}
