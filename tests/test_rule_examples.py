"""Every rule doc's bad example fires that rule, and its fixed example fires nothing."""

import pytest

from dataprep.io.reader import RawLine
from dataprep.schema.catalog import all_rules
from dataprep.validate import check_line

LINE_RULES = [r for r in all_rules().values() if not r.bad.startswith("# description:")]


def rules_of(text: str) -> set[str]:
    out = check_line(RawLine(2, 0, text.encode("utf-8"), b"\n"), "doc.jsonl")
    return {f.rule for f in out.findings}


def test_most_rules_have_runnable_examples():
    assert len(LINE_RULES) >= 30


@pytest.mark.parametrize("rule", LINE_RULES, ids=lambda r: r.id)
def test_bad_example_fires_exactly_its_rule(rule):
    assert rules_of(rule.bad) == {rule.id}


@pytest.mark.parametrize("rule", LINE_RULES, ids=lambda r: r.id)
def test_fixed_example_is_clean(rule):
    assert rules_of(rule.fixed) == set()
