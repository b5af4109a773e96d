"""The version users can see and pin: `dataprep --version`, and `dataprep_version` in every JSON
document and report; light commands load neither polars nor numpy."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from dataprep.cli import app

SAMPLES = Path(__file__).resolve().parents[1] / "sample_data"
VERSION = version("dataprep-chat")
runner = CliRunner()


def test_version_option_prints_the_installed_distribution_version():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0
    assert r.stdout.strip() == f"dataprep {VERSION}"
    import dataprep

    assert dataprep.__version__ == VERSION


JSON_COMMANDS = [
    ["validate", "{f}", "--output-format", "json"],
    ["gate", "{f}", "--output-format", "json", "--rules", "openai"],
    ["tokens", "{f}", "--json"],
    ["dedup", "{f}", "--json"],
    ["diversity", "{f}", "--json"],
    ["scan", "{f}", "--json"],
    ["split", "{f}", "--json", "--out-dir", "{tmp}/splits"],
    ["fix", "{f}", "--json", "--dry-run"],
    ["rules", "DP101", "--json"],
]


@pytest.mark.parametrize("argv", JSON_COMMANDS, ids=[a[0] for a in JSON_COMMANDS])
def test_every_json_document_carries_the_version(argv, tmp_path):
    f = str(SAMPLES / "support_chat.jsonl")
    args = [a.format(f=f, tmp=tmp_path) for a in argv] + (["--no-cache"] if argv[0] in {"tokens", "dedup",
                                                                                        "diversity", "scan"} else [])
    r = runner.invoke(app, args)
    assert r.exit_code in (0, 1), r.output
    doc = orjson.loads(r.stdout)
    assert doc["dataprep_version"] == VERSION


def test_audit_reports_carry_the_version(tmp_path):
    out = {k: tmp_path / f"a.{k}" for k in ("json", "md", "html")}
    r = runner.invoke(app, ["audit", str(SAMPLES / "support_chat.jsonl"), "--json", str(out["json"]),
                            "--markdown", str(out["md"]), "--html", str(out["html"]), "--no-cache"])
    assert r.exit_code in (0, 1), r.output
    assert orjson.loads(out["json"].read_bytes())["dataprep_version"] == VERSION
    assert f"dataprep {VERSION}" in out["md"].read_text()
    assert f"dataprep {VERSION}" in out["html"].read_text()


@pytest.mark.parametrize("argv", [["rules"], ["rules", "DP101"], ["--help"], ["--version"], ["validate", "--help"]])
def test_light_commands_load_neither_polars_nor_numpy(argv):
    code = ("import sys\nfrom dataprep.cli import main\n"
            f"sys.argv = ['dataprep', *{argv!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', sorted(m for m in ('polars', 'numpy') if m in sys.modules))\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "HEAVY []" in r.stdout, r.stdout[-2000:] + r.stderr[-2000:]


@pytest.mark.parametrize("argv", [["rules"], ["--help"]])
def test_python_m_dataprep_importtime_shows_neither_polars_nor_numpy(argv):
    """What the issue asks to be shown: `python -X importtime -m dataprep rules` (and --help)
    lists every module imported, at any depth; none is polars or numpy."""
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "dataprep", *argv], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr[-2000:]
    imported = [line.rsplit("|", 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith("import time:")]
    assert "dataprep.cli" in imported and "dataprep.schema.catalog" in imported  # the listing is real
    heavy = [m for m in imported if m.split(".")[0] in ("polars", "numpy")]
    assert heavy == [], heavy[:20]
