"""`dataprep audit`: many files without stopping, the readiness verdict, the JSON/HTML/Markdown reports."""

import gzip
import json
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dataprep.audit import audit, file_readiness, split_partners
from dataprep.cli import app
from dataprep.report.html import render_html
from dataprep.report.markdown import render_markdown

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
runner = CliRunner()


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def _head(name: str, n: int) -> bytes:
    return b"".join((SAMPLES / name).read_bytes().splitlines(keepends=True)[:n])


@pytest.fixture(scope="module")
def twenty(tmp_path_factory) -> Path:
    """20 files of mixed formats: chat, tools, DPO, multilingual, gzip, alpaca, prompt-completion,
    plain text, ShareGPT and Alpaca JSON arrays, a broken file, an unreadable one (bzip2 magic)
    and an empty one."""
    d = tmp_path_factory.mktemp("twenty")
    for i in range(6):
        (d / f"chat_{i}.jsonl").write_bytes(b"".join(
            (SAMPLES / "support_chat.jsonl").read_bytes().splitlines(keepends=True)[i * 12:(i + 1) * 12]))
    (d / "chat_big.jsonl").write_bytes(_head("support_chat.jsonl", 60))
    (d / "tools.jsonl").write_bytes(_head("tools.jsonl", 12))
    (d / "dpo.jsonl").write_bytes(_head("dpo.jsonl", 12))
    (d / "multilingual.jsonl").write_bytes(_head("multilingual.jsonl", 14))
    (d / "chat_gz.jsonl.gz").write_bytes(gzip.compress(_head("support_chat.jsonl", 12)))
    (d / "alpaca.jsonl").write_bytes(_head("alpaca.jsonl", 10))
    (d / "prompt_completion.jsonl").write_bytes(_head("prompt_completion.jsonl", 10))
    (d / "text_only.jsonl").write_bytes(_head("text_only.jsonl", 5))
    shutil.copy(SAMPLES / "sharegpt_dpo.json", d / "sharegpt_dpo.json")
    shutil.copy(SAMPLES / "alpaca.json", d / "alpaca.json")
    shutil.copy(SAMPLES / "broken.jsonl", d / "broken.jsonl")
    (d / "unreadable.jsonl").write_bytes(b"BZh91AY&SY" + bytes(range(40)))
    (d / "empty.jsonl").write_bytes(b"")
    (d / "chat_crlf.jsonl").write_bytes(_head("support_chat.jsonl", 11).replace(b"\n", b"\r\n"))
    assert len(list(d.iterdir())) == 20
    return d


@pytest.fixture(scope="module")
def twenty_result(twenty):
    return audit([str(twenty)], "style", jobs=2, cache=False)  # jobs=2: the cross-file process pool


def _by_name(result):
    return {Path(r.path).name: r for r in result.files}


def test_twenty_files_audit_without_stopping(twenty_result):
    r = twenty_result
    assert len(r.files) == 20
    files = _by_name(r)
    bad = files["unreadable.jsonl"]
    assert not bad.readable and bad.findings[0].rule == "DP100" and "bzip2" in bad.findings[0].message
    empty = files["empty.jsonl"]
    assert empty.readable and empty.examples == 0 and any(f.rule == "DP109" for f in empty.findings)
    # the one sentence every command gives an empty file (dataprep.usable), not a volume tier
    assert file_readiness(empty)[0].text.startswith("The file is empty: no example to work on")
    for name in ("chat_0.jsonl", "chat_big.jsonl", "chat_gz.jsonl.gz", "tools.jsonl", "dpo.jsonl", "multilingual.jsonl"):
        fa = files[name]
        assert fa.readable and fa.tokens and fa.tokens["examples"] == fa.volume["valid_examples"], name
        assert fa.dedup["examples"] > 0 and fa.diversity["lexical"]["assistant"]["distinct_2"] > 0, name
    # 60 clean examples: over style's 50 minimum, under its 100 recommendation: a DP600 warning
    assert files["chat_big.jsonl"].verdict == "warn" and files["chat_big.jsonl"].volume["status"] == "low"
    assert files["alpaca.jsonl"].format == "alpaca" and any(f.rule == "DP110" for f in files["alpaca.jsonl"].findings)
    assert any(f.rule == "DP103" for f in files["sharegpt_dpo.json"].findings)
    s = r.summary()
    assert s["files"] == 20 and s["unreadable"] == 1 and r.exit_code() == 2
    assert s["fail"] >= 5


def test_readiness_statements_tied_to_figures(twenty_result):
    files = _by_name(twenty_result)
    small = file_readiness(files["chat_0.jsonl"])  # 12 examples: below style
    texts = " ".join(s.text for s in small)
    assert "12 valid examples" in texts and "premature" in texts and "few-shot" in texts and "retrieval" in texts
    vol = next(s for s in small if s.topic == "volume")
    assert vol.figure["valid_examples"] == 12 and vol.level == "bad"
    cost = next(s for s in small if s.topic == "cost" and "estimated_cost_usd" in s.figure)
    assert "estimate" in cost.text and cost.figure["billed_tokens"] > 0
    broken = file_readiness(files["broken.jsonl"])
    q = next(s for s in broken if s.topic == "quality" and s.level == "bad")
    assert q.figure["errors"] > 0 and "dataprep fix" in q.text
    overall = twenty_result.readiness()
    assert overall[0].figure["files"] == 20 and overall[0].figure["unreadable"] == 1


def test_support_chat_readiness():
    r = audit(str(SAMPLES / "support_chat.jsonl"), "style", jobs=1, cache=False)
    st = r.readiness()
    vol = next(s for s in st if s.topic == "volume")
    assert vol.level == "good" and "150 valid examples" in vol.text and "style" in vol.text and "500" in vol.text
    assert not any("premature" in s.text for s in st)
    dup = next(s for s in st if s.topic == "duplicates")
    assert dup.figure["duplicate_share"] == 0.0
    assert r.exit_code() == 0


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack: list[tuple[str, dict]] = []
        self.cards = 0
        self.figures: list[int] = []  # svg count per figure.chart
        self.line_cells: list[str] = []
        self.links: list[str] = []
        self.scripts = 0
        self._in_line = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        cls = (a.get("class") or "").split()
        for k in ("src", "href"):
            if a.get(k):
                self.links.append(a[k])
        if tag == "script":
            self.scripts += 1
        if "card" in cls:
            self.cards += 1
        if tag == "figure" and "chart" in cls:
            self.figures.append(0)
        if tag == "svg" and self.figures is not None and any(t == "figure" for t, _ in self.stack):
            self.figures[-1] += 1
        if tag == "td" and "line" in cls:
            self._in_line = True
            self.line_cells.append("")
        if tag not in ("br", "meta", "line", "rect"):
            self.stack.append((tag, a))

    def handle_endtag(self, tag):
        if tag == "td":
            self._in_line = False
        while self.stack:
            t, _ = self.stack.pop()
            if t == tag:
                break

    def handle_data(self, data):
        if self._in_line:
            self.line_cells[-1] += data


def test_html_report_structure(twenty_result):
    html = render_html(twenty_result)
    p = _Page()
    p.feed(html)
    assert p.cards >= 7 + 4  # summary cards + each file's cards
    assert p.figures and all(n == 1 for n in p.figures), p.figures  # one <svg> per chart
    readable_with_examples = [r for r in twenty_result.files if r.tokens]
    assert len(p.figures) == 6 * len(readable_with_examples)  # tokens, turns, languages, clusters, 2x openings
    # findings table rows carry line numbers: every finding of broken.jsonl at its line
    lines = [c for c in p.line_cells]
    broken = _by_name(twenty_result)["broken.jsonl"]
    expected = [str(f.line) if f.line else "file" for f in broken.findings]
    assert all(x in lines for x in expected)
    assert any(c.isdigit() and int(c) > 1 for c in lines)
    # self-contained: no script, nothing fetched over the network
    assert p.scripts == 0
    assert not [u for u in p.links if re.match(r"(?i)\s*(https?:)?//", u)], p.links
    assert "<style>" in html and "@import" not in html and "url(" not in html


def test_html_context_limit_marked_and_cost_table():
    r = audit(str(SAMPLES / "support_chat.jsonl"), "openai", jobs=1, cache=False)
    html = render_html(r)
    assert 'class="marker"' in html and "context limit 65,536" in html
    from dataprep.tokens import list_models

    for m in list_models():  # one cost row per model of rules/models.toml
        assert f"<td>{m}</td>" in html
    assert "Readiness" in html and "estimate" in html.lower()


def test_markdown_report(twenty_result):
    md = render_markdown(twenty_result)
    assert md.startswith("# dataprep audit: ❌ FAIL")
    assert "## Readiness" in md and "| file |" in md and "unreadable.jsonl" in md and "DP100" in md
    assert "context limit 65,536 tokens" in md and "Opening phrases" in md


def test_split_partners_and_leakage(tmp_path):
    lines = (SAMPLES / "support_chat.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "shop_train.jsonl").write_bytes(b"".join(lines[:100]))
    (tmp_path / "shop_val.jsonl").write_bytes(b"".join(lines[95:115]))  # 5 lines leak from train
    (tmp_path / "shop_test.jsonl").write_bytes(b"".join(lines[120:140]))
    files = sorted(str(p) for p in tmp_path.glob("*.jsonl"))
    assert split_partners(files) == {str(tmp_path / "shop_train.jsonl"): [str(tmp_path / "shop_test.jsonl"),
                                                                           str(tmp_path / "shop_val.jsonl")]}
    r = audit([str(tmp_path)], "openai", jobs=1, cache=False)
    train = _by_name(r)["shop_train.jsonl"]
    leaks = [f for f in train.findings if f.rule == "DP502"]
    assert all(f.severity.value == "error" and not f.path.endswith("shop_train.jsonl") for f in leaks)
    # val lines 1-5 are train lines 96-100; the sample's shared support phrasing also gives
    # 13-gram matches elsewhere (the dedup command's DP502 definition), so only the exact ones are pinned
    exact = sorted(f.line for f in leaks if f.path.endswith("shop_val.jsonl") and f.message.startswith("same example"))
    assert exact == [1, 2, 3, 4, 5]
    assert train.verdict == "fail"
    st = {s.figure["against"]: s for s in file_readiness(train) if s.topic == "leakage"}
    assert st[str(tmp_path / "shop_val.jsonl")].figure["leaked"] >= 5 and st[str(tmp_path / "shop_val.jsonl")].level == "bad"


def test_cli_writes_all_reports(twenty, tmp_path):
    html, js, md = tmp_path / "r.html", tmp_path / "r.json", tmp_path / "r.md"
    r = runner.invoke(app, ["audit", str(twenty / "chat_big.jsonl"), str(twenty / "empty.jsonl"),
                            str(twenty / "unreadable.jsonl"), "--html", str(html), "--json", str(js),
                            "--markdown", str(md), "-j", "1"])
    assert r.exit_code == 2, r.output  # one file could not be read; the reports are still written
    assert "Readiness" in r.output and "Traceback" not in r.output
    d = json.loads(js.read_text())
    assert d["version"] == 1 and len(d["files"]) == 3
    f = next(x for x in d["files"] if x["path"].endswith("chat_big.jsonl"))
    for section in ("validation", "tokens", "dedup", "diversity", "verdict"):
        assert f[section], section
    assert f["verdict"]["verdict"] in ("pass", "warn") and f["tokens"]["examples"] == 60
    assert html.read_text().startswith("<!DOCTYPE html>") and md.read_text().startswith("# dataprep audit")
    ok = runner.invoke(app, ["audit", str(twenty / "chat_big.jsonl"), "-j", "1", "-q", "--rules", "style"])
    assert ok.exit_code == 0  # warn
    failing = ["audit", str(twenty / "broken.jsonl"), "-j", "1", "-q"]
    assert runner.invoke(app, failing).exit_code == 1
    assert runner.invoke(app, failing + ["--fail-on", "never"]).exit_code == 0  # report-only run


def test_audit_json_doc_lists_every_key(twenty_result):
    doc = (ROOT / "docs" / "audit-json.md").read_text()
    d = twenty_result.to_dict()
    for k in d:
        assert f"`{k}`" in doc, k
    for k in d["files"][0]:
        assert f"`{k}`" in doc, k


def _png_info(data: bytes) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed image data)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    w, h = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        n = struct.unpack(">I", data[pos:pos + 4])[0]
        kind = data[pos + 4:pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + n]
        pos += 12 + n
    return w, h, len(set(zlib.decompress(idat)))


@pytest.mark.browser
def test_report_renders_in_headless_chromium(twenty_result, tmp_path):
    exe = next((shutil.which(x) for x in ("chromium", "chromium-browser", "google-chrome") if shutil.which(x)), None)
    if exe is None:
        pytest.skip("no headless Chromium on this machine (Debian: apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(render_html(twenty_result))
    shot = tmp_path / "shot.png"
    # no network: nothing on the page may need it
    subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,2000",
                    "--proxy-server=http://127.0.0.1:9", f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120)
    assert shot.exists(), "chromium wrote no screenshot"
    w, h, distinct = _png_info(shot.read_bytes())
    assert (w, h) == (1280, 2000)
    assert distinct > 50  # text, cards and bars, not a blank page


def test_a_model_without_a_published_price_is_never_reported_as_free(tmp_path):
    """The default preset's model has no verified price: the audit says so instead of "$0.00"."""
    from typer.testing import CliRunner

    from dataprep.cli import app

    out = tmp_path / "a.json"
    r = CliRunner().invoke(app, ["audit", str(SAMPLES / "support_chat.jsonl"), "--json", str(out), "--no-cache"])
    assert r.exit_code in (0, 1), r.output
    import orjson

    doc = orjson.loads(out.read_bytes())
    if doc["summary"]["estimated_cost_usd"] is None:
        assert "$0.00" not in r.output and "no published price" in " ".join(r.output.split())
    else:
        assert doc["summary"]["estimated_cost_usd"] > 0
