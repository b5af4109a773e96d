"""Diversity over a scanned Profile: DESIGN's JSON shape, planted language shares inside their
intervals, DP602 for unexpected languages, and the side-by-side compare."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.cli import app
from dataprep.diversity.analyze import analyze
from dataprep.scan import scan

SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def test_json_shape_and_language_intervals():
    r = runner.invoke(app, ["diversity", str(SAMPLES / "multilingual.jsonl"), "--json", "--jobs", "1"])
    assert r.exit_code in (0, 1), r.output
    doc = json.loads(r.stdout)
    assert doc["examples"] == 60
    for role in ("user", "assistant"):
        assert {"distinct_1", "distinct_2", "distinct_3", "mattr", "mtld"} <= set(doc["lexical"][role])
    assert {"openings", "structure", "languages", "language_sample"} <= set(doc)
    langs = doc["languages"]
    # 48 English, 6 German, 6 Spanish planted
    for code, planted in (("en", 48 / 60), ("de", 6 / 60), ("es", 6 / 60)):
        assert langs[code]["ci_low"] <= planted <= langs[code]["ci_high"], (code, langs[code])


def test_unexpected_languages_fire_dp602_and_clean_english_does_not():
    prof = scan(str(SAMPLES / "multilingual.jsonl"), jobs=1, cache=False)
    assert "DP602" in {f.rule for f in analyze(prof, expected_languages=["en"]).findings}
    assert "DP602" not in {f.rule for f in analyze(prof, expected_languages=["en", "de", "es"]).findings}


def test_compare_two_files_side_by_side():
    r = runner.invoke(app, ["diversity", str(SAMPLES / "support_chat.jsonl"), "--compare",
                            str(SAMPLES / "multilingual.jsonl"), "--jobs", "1"])
    assert r.exit_code in (0, 1), r.output
    assert "support_chat.jsonl" in r.stdout and "multilingual.jsonl" in r.stdout


def test_unreadable_exits_2(tmp_path):
    assert runner.invoke(app, ["diversity", str(tmp_path / "nope.jsonl")]).exit_code == 2
