"""Doc-block coverage: a column name used by two or more models is documented once, in a doc block.

Every model YAML under models/ is read; for each column name that two or more models declare, every one
of those models must describe it with `{{ doc('<name>') }}` (optionally followed by "Here: ..." for what
the column means in that model), and the block must exist under models/docs/. A shared meaning written
once cannot drift between models; a column that really means something else in one model is either
renamed or given its own words after the shared block. No dbt run needed: the YAML and Markdown only.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[2]
MODELS_DIR = PROJECT_DIR / "models"

# Column names exempt from the rule, each with the reason. Keep it empty: a PII column in a restricted
# model (phone, birth_date ...) still gets a doc block; a column whose meaning differs per model gets
# the shared block plus "Here: ...". Entry form: "column_name": "why it has no shared doc block".
ALLOWED_WITHOUT_DOC_BLOCK: dict[str, str] = {}

DOC_BLOCK = re.compile(r"{%-?\s*docs\s+(\w+)\s*-?%}")


def _model_columns() -> dict[str, list[tuple[str, str, str]]]:
    """Column name -> [(model, yaml path relative to the project, description)] over all model YAMLs."""
    columns: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for path in sorted(MODELS_DIR.rglob("*.yml")):
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in content.get("models") or []:
            for column in model.get("columns") or []:
                columns[column["name"]].append(
                    (model["name"], str(path.relative_to(PROJECT_DIR)), column.get("description") or "")
                )
    return columns


def _doc_blocks() -> set[str]:
    names: set[str] = set()
    for path in MODELS_DIR.rglob("*.md"):
        names.update(DOC_BLOCK.findall(path.read_text(encoding="utf-8")))
    return names


def test_shared_columns_use_their_doc_block() -> None:
    columns = _model_columns()
    shared = {name: uses for name, uses in columns.items() if len(uses) >= 2}
    assert len(shared) > 100, f"only {len(shared)} shared column names found: is MODELS_DIR right?"
    blocks = _doc_blocks()

    failures = []
    for name, uses in sorted(shared.items()):
        if name in ALLOWED_WITHOUT_DOC_BLOCK:
            continue
        reference = re.compile(r"doc\(\s*['\"]" + re.escape(name) + r"['\"]\s*\)")
        if name not in blocks:
            failures.append(f"{name}: no {{% docs {name} %}} block under models/docs/")
        for model, path, description in uses:
            if not reference.search(description):
                failures.append(f"{name} in {model} ({path}): description does not use doc('{name}')")

    for failure in failures:
        print(failure)
    assert not failures, f"{len(failures)} (model, column) pairs without their doc block:\n" + "\n".join(
        failures
    )


def test_allow_list_is_current() -> None:
    """An exemption for a column name no longer shared by two models is stale and should go."""
    columns = _model_columns()
    stale = [name for name in ALLOWED_WITHOUT_DOC_BLOCK if len(columns.get(name, [])) < 2]
    assert not stale, f"allow-listed but not shared by two models: {stale}"
