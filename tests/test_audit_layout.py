"""The audit read by a person: the terminal table at 80, 120 and 200 columns (every value whole,
the verdict always shown), a summary that says what to do per kind of failing file, and the
HTML/Markdown reports (one cost table, no horizontal scrolling, no jargon). Issue 19 items 2 and 6.

The snapshots pin the 80- and 200-column layouts; after an intended change run
``pytest tests/test_audit_layout.py --snapshot-update`` and read the diff of
tests/__snapshots__/test_audit_layout.ambr.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.audit import audit, file_readiness
from dataprep.cli import app
from dataprep.output.numbers import gpu_hours
from dataprep.report.html import cost_table, render_html
from dataprep.report.markdown import render_markdown
from dataprep.tables import fit_table, fits

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()
LONG = "customer_support_conversations_2024_q3_cleaned_v2.jsonl"  # folds in a narrow name column


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """Eight real files (chat, tools, DPO, multilingual, a broken one, an Alpaca and a ShareGPT
    JSON array that need `convert`, a long-named copy) and two usual mistakes: Windows-1252 and
    empty."""
    d = tmp_path_factory.mktemp("layout") / "data"
    d.mkdir()
    for name in ("support_chat.jsonl", "multilingual.jsonl", "tools.jsonl", "dpo.jsonl", "broken.jsonl",
                 "alpaca.json", "sharegpt.json"):
        shutil.copy(SAMPLES / name, d / name)
    shutil.copy(SAMPLES / "support_chat.jsonl", d / LONG)
    (d / "cp1252.jsonl").write_bytes(('{"messages": [{"role": "user", "content": "caf\xe9?"}, '
                                      '{"role": "assistant", "content": "Oui."}]}\n').encode("cp1252"))
    (d / "empty.jsonl").write_bytes(b"")
    return d


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        d = tmp_path_factory.mktemp("cache")
        mp.setenv("DATAPREP_CACHE_DIR", str(d))
        yield d


@pytest.fixture(scope="module")
def result(folder, cache_dir):
    return audit([str(folder)], "openai", jobs=2)


@pytest.fixture(scope="module")
def doc(folder, cache_dir, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("json") / "audit.json"
    r = runner.invoke(app, ["audit", str(folder), "-q", "--json", str(out)])
    assert r.exit_code == 1, r.output  # failing files, every one readable
    return json.loads(out.read_text())


def _run(folder: Path, columns: int) -> tuple[int, str]:
    r = runner.invoke(app, ["audit", str(folder)], env={"COLUMNS": str(columns)})
    return r.exit_code, r.stdout


def _row(lines: list[str], name: str) -> list[str]:
    """The cells of the table row of ``name`` (its first line: a folded name continues below)."""
    head = name[:20]
    line = next(x for x in lines if x.startswith("│ ") and x[2:].startswith(head))
    return [c.strip() for c in line.strip("│").split("│")]


@pytest.mark.parametrize("columns", [80, 120, 200])
def test_table_fits_the_terminal_and_every_count_is_whole(folder, doc, cache_dir, columns):
    code, text = _run(folder, columns)
    assert code == 1
    lines = text.splitlines()
    too_wide = [x for x in lines if len(x.rstrip()) > columns]
    assert not too_wide, too_wide
    assert "…" not in text  # nothing cut ("3,111…")
    for f in doc["files"]:
        name = Path(f["path"]).name
        cells = _row(lines, name)
        v = f["validation"]
        valid = (f["verdict"].get("volume") or {}).get("valid_examples", 0)
        assert cells[1] == f["verdict"]["verdict"].upper(), (name, cells)  # the verdict never falls off
        assert cells[2] == f"{valid:,}/{v['examples']:,}", (name, cells)
        assert cells[3] == f"{v['errors']:,}" and cells[4] == f"{v['warnings']:,}", (name, cells)
        if columns >= 120 and f["tokens"]:
            assert f"{f['tokens']['billed_tokens']:,}" in cells, (name, cells)
    s = doc["summary"]
    flat = " ".join(text.split())
    for total in (f"{s['valid_examples']:,} valid examples", f"{s['errors']:,} error(s)",
                  f"{s['warnings']:,} warning(s)"):
        assert total in flat, total
    assert _name_cell(lines, LONG) == LONG  # the long name is whole: folded, never cut


def _name_cell(lines: list[str], name: str) -> str:
    """The whole first cell of ``name``'s row, across the lines it folds over."""
    i = next(k for k, x in enumerate(lines) if x.startswith("│ ") and x[2:].startswith(name[:20]))
    cells = [c.strip() for c in lines[i].strip("│").split("│")]
    out = cells[0]
    for x in lines[i + 1:]:
        more = [c.strip() for c in x.strip("│").split("│")]
        if not x.startswith("│ ") or any(more[1:]):
            break
        out += more[0]
    return out


def test_dropped_columns_are_named_and_the_reports_have_them(folder, cache_dir):
    _, text = _run(folder, 80)
    flat = " ".join(text.split())
    assert re.search(r"not shown at 80 columns: [a-z0-9 .,-]+; the --html, --markdown and --json reports", flat)
    _, wide = _run(folder, 200)
    assert "not shown at 200" not in wide or "top opening" in wide


def test_a_very_narrow_terminal_gets_one_block_per_file(folder, doc, cache_dir):
    code, text = _run(folder, 44)
    lines = text.splitlines()
    assert code == 1 and max(len(x.rstrip()) for x in lines) <= 44
    for f in doc["files"]:
        name = Path(f["path"]).name
        if len(name) > 44:
            continue
        i = lines.index(name)
        block = " ".join(" ".join(x.split()) for x in lines[i + 1:i + 16])
        assert f"verdict {f['verdict']['verdict'].upper()}" in block, block
        assert f"errors {f['validation']['errors']:,}" in block, block


@pytest.mark.parametrize("columns", [80, 200])
def test_snapshot(folder, cache_dir, snapshot, monkeypatch, columns):
    # run beside the folder: the same "data/" in the title on every machine, whatever tmp is
    monkeypatch.chdir(folder.parent)
    r = runner.invoke(app, ["audit", "data"], env={"COLUMNS": str(columns)})
    assert r.exit_code == 1
    assert re.sub(r"; \d+\.\d s$", "; N s", r.stdout, flags=re.M) == snapshot  # the run time varies


def _texts(result) -> list[str]:
    return [s.text for s in result.readiness()]


def test_summary_counts_and_names_files_that_only_need_convert(result):
    texts = _texts(result)
    conv = next(t for t in texts if "only need `dataprep convert`" in t)
    fails = sum(r.verdict == "fail" for r in result.files)
    assert conv.startswith(f"2 of {fails} failing file(s)") and "alpaca.json" in conv and "sharegpt.json" in conv
    errs = next(t for t in texts if "errors that the provider would reject" in t)
    # only the file with valid examples and errors: not the ones that need convert or re-encoding
    assert errs.startswith("1 file(s)") and "broken.jsonl" in errs and "alpaca.json" not in errs
    assert "cp1252" not in errs and "dataprep fix" in errs


def test_summary_names_the_small_files(result):
    small = next(t for t in _texts(result) if "fewer than 50" in t)
    assert "broken.jsonl (18 valid)" in small and "tools.jsonl (40 valid)" in small
    assert "support_chat.jsonl" not in small


def test_unusable_files_say_what_to_do_not_fix(result):
    texts = _texts(result)
    enc = next(t for t in texts if t.startswith("cp1252.jsonl:"))
    assert "UTF-8" in enc and "iconv" in enc
    assert any(t.startswith("empty.jsonl: the file is empty") for t in texts)
    cp = next(r for r in result.files if r.path.endswith("cp1252.jsonl"))
    own = " ".join(s.text for s in file_readiness(cp))
    assert "UTF-8" in own and "dataprep fix" not in own
    assert result.exit_code() != 0


def test_duplicate_share_says_its_denominator(result):
    by = {Path(r.path).name: r for r in result.files}
    clean = next(s for s in file_readiness(by["support_chat.jsonl"]) if s.topic == "duplicates")
    assert "150 conversations compared" in clean.text or "of the 150 valid examples" in clean.text
    broken = next(s for s in file_readiness(by["broken.jsonl"]) if s.topic == "duplicates")
    n = by["broken.jsonl"].volume["valid_examples"]
    assert f"({n:,} of them valid)" in broken.text or f"of the {n:,} valid examples" in broken.text


# --------------------------------------------------------------------------------------------- reports

def test_html_cost_table_once_no_scrolling_no_jargon(result):
    html = render_html(result)
    assert html.count('<table class="cost">') == 1  # was one per file, the same rows each time
    assert "overflow-x" not in html  # the files table fits the page: no horizontal scrolling
    files = html[html.index('<table class="files">'):]
    files = files[:files.index("</table>")]
    assert len(re.findall(r"<th[ >]", files)) <= 11 and 'class="name"' in files
    assert "overflow-wrap:anywhere" in html  # a long name wraps inside its cell
    assert "undetermined" in html and not re.search(r">und\b|\bund \d", html)
    broken = [r for r in result.files if r.path.endswith("broken.jsonl")]  # trains in seconds
    small = cost_table(broken)
    assert "0.00 (lora)" not in small and "&lt; 0.01 (lora)" in small


def test_html_tier_card_and_advice_give_the_same_number(result):
    html = render_html(result)
    broken = next(r for r in result.files if r.path.endswith("broken.jsonl"))
    advice = " ".join(s.text for s in file_readiness(broken))
    assert "at least 50" in advice
    section = html[html.index(f'id="file-{result.files.index(broken)}"'):]
    section = section[:section.index("</section>")]
    assert "needs at least 50" in section and "style at 100+" not in section


def test_markdown_cost_table_once_and_names_relative(result, folder):
    md = render_markdown(result)
    assert md.count("## Cost of training, per model") == 1 and "Cost of training per model" not in md
    assert f"In `{folder}/`" in md and f"| {LONG} |" in md
    assert "undetermined" in md and "| und |" not in md


def test_gpu_hours_rounded_to_zero_is_never_zero():
    assert gpu_hours(0.0) == "< 0.01" and gpu_hours(0.004) == "< 0.01" and gpu_hours(1234.5) == "1,234.50"


# --------------------------------------------------------------------------------------------- tables

def test_fit_table_never_cuts_a_number_and_falls_back_to_blocks():
    from io import StringIO

    from rich.console import Console

    cols = [("file", "left"), ("total tokens", "right"), ("examples", "right")]
    rows = [["a_rather_long_file_name.jsonl", "1,059,012,345", "3,111,500"], ["b.jsonl", "12", "3"]]
    for width in (120, 60, 40, 30):
        buf = StringIO()
        Console(file=buf, width=width, color_system=None).print(fit_table(cols, rows, width))
        out = buf.getvalue()
        assert max(len(x.rstrip()) for x in out.splitlines()) <= width, (width, out)
        assert "1,059,012,345" in out and "3,111,500" in out, (width, out)
    assert fits(cols, rows, 60) and not fits(cols, rows, 30)
