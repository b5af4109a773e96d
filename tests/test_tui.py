"""The terminal inspector, driven through textual's pilot on the real app and real files."""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import re
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from dataprep.cli import app as cli_app
from dataprep.io.reader import iter_lines
from dataprep.tui import line_index as li
from dataprep.tui.app import DataprepApp
from dataprep.tui.duplicates_view import word_diff
from dataprep.tui.line_index import LineIndex, write_lines
from dataprep.tui.screens import PromptScreen, TextScreen
from dataprep.tui.search import FilterError, message_texts, parse_filters

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SIZE = (140, 45)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def run(coro):
    return asyncio.run(coro)


async def settle(pilot) -> None:
    """Wait for every worker (index, scan, analyses, search) and the redraw after them."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def make_app(path, **kw) -> DataprepApp:
    kw.setdefault("jobs", 1)
    kw.setdefault("cache", False)
    kw.setdefault("loader", "thread")  # the child-process loader has its own test below
    return DataprepApp(str(path), **kw)


def body_text(app) -> str:
    """The conversation view as plain text."""
    from rich.console import Console

    console = Console(width=100, record=True, file=io.StringIO(), color_system=None)
    console.print(app.conversation.body.content)
    return console.export_text()


def rendered(widget) -> str:
    """A Static's content as plain text."""
    from rich.console import Console

    console = Console(width=160, record=True, file=io.StringIO(), color_system=None)
    console.print(widget.content)
    return console.export_text()


def list_lines(app) -> list[int]:
    lst = app.examples
    return [lst.line_at(r) for r in range(lst.count)]


# ----------------------------------------------------------------------------- the line index

@pytest.mark.parametrize("data", [b"", b"a", b"a\n", b"a\r\nb", b"\n\n", b"x\ny\n", b"\xef\xbb\xbf{}\n\xff\xfe\n{}"])
def test_line_index_agrees_with_the_reader(tmp_path, data):
    p = tmp_path / "f.jsonl"
    p.write_bytes(data)
    ix = LineIndex(str(p))
    ix.build()
    ref = list(iter_lines(io.BytesIO(data)))
    assert len(ix) == len(ref)
    assert [ix.raw(i) for i in range(len(ix))] == [r.raw for r in ref]
    assert [ix.line(i) for i in range(len(ix))] == [r.data for r in ref]
    ix.close()


def test_line_index_is_progressive_and_small(tmp_path, monkeypatch):
    monkeypatch.setattr(li, "FIRST_CHUNK", 64)
    monkeypatch.setattr(li, "CHUNK", 1000)
    src = (SAMPLES / "support_chat.jsonl").read_bytes()
    p = tmp_path / "f.jsonl"
    p.write_bytes(src)
    ix = LineIndex(str(p))
    seen = []
    ix.build(lambda done, total, lines: seen.append((done, len(ix))))
    assert len(seen) > 50  # many chunks, each reported
    assert [n for _, n in seen] == sorted(n for _, n in seen)  # lines only ever grow
    assert len(ix) == 150 and ix.nbytes / len(ix) == 8.0  # one uint64 per line once built
    assert ix.line(149) == src.split(b"\n")[149]


def test_compressed_input_is_indexed_from_a_temporary_copy(tmp_path):
    src = (SAMPLES / "broken.jsonl").read_bytes()
    p = tmp_path / "b.jsonl.gz"
    p.write_bytes(gzip.compress(src))
    ix = LineIndex(str(p))
    ix.build()
    assert ix.compressed and len(ix) == 47
    assert b"".join(ix.raw(i) for i in range(len(ix))) == src
    tmp = ix._tmp
    ix.close()
    assert not Path(tmp).exists()


def test_write_lines_copies_bytes_and_never_overwrites(tmp_path):
    src = SAMPLES / "broken.jsonl"
    ix = LineIndex(str(src))
    ix.build()
    out = tmp_path / "sub" / "out.jsonl"
    assert write_lines(ix, [0, 1, 43], str(out)) == 3
    raw = src.read_bytes()
    ref = list(iter_lines(io.BytesIO(raw)))
    assert out.read_bytes() == ref[0].raw + ref[1].raw + ref[43].raw + (b"" if ref[43].raw.endswith(b"\n") else b"\n")
    with pytest.raises(FileExistsError):
        write_lines(ix, [2], str(out))
    with pytest.raises(FileExistsError):
        write_lines(ix, [2], str(src))
    assert src.read_bytes() == raw


# ----------------------------------------------------------------------------- opening files

def test_opens_support_chat_with_rows_conversation_and_overview():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.examples.count == 150
            first = orjson.loads((SAMPLES / "support_chat.jsonl").read_bytes().split(b"\n")[0])
            row = app.dataset.row(0)
            assert row.roles == ",".join(m["role"][0] for m in first["messages"])
            assert row.tokens == int(app.dataset.profile.rows["tokens_total"][0])
            text = body_text(app)
            assert "line 1" in text and "#0 system" in text
            assert first["messages"][1]["content"][:40] in " ".join(text.split())
            verdict = rendered(app.overview.section("verdict"))
            assert "PASS" in verdict and "openai" in verdict
            assert "context limit" in rendered(app.overview.section("tokens"))
            cost = rendered(app.overview.section("cost"))
            assert "gpt-4o-mini-2024-07-18" in cost and "estimates" in cost
            assert "0.0% duplicates" in rendered(app.overview.section("duplicates"))
            assert "distinct-2" in rendered(app.overview.section("diversity"))
            assert "en" in rendered(app.overview.section("languages"))
            # weights: a line whose first assistant turn has weight 0 says so in its title
            raw = (SAMPLES / "support_chat.jsonl").read_bytes().splitlines()
            k = next(i for i, r in enumerate(raw) if b'"weight": 0' in r)
            app.goto(k + 1)
            await pilot.pause()
            assert "weight 0: not trained" in body_text(app)

    run(go())


def test_child_process_loader_fills_the_same_panels():
    async def go():
        app = make_app(SAMPLES / "tools.jsonl", loader="process")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.dataset.scanned and app.dataset.analysis.dedup is not None
            assert "PASS" in rendered(app.overview.section("verdict"))
            assert app.dataset.row(0).tools

    run(go())


def test_navigation_keys_and_go_to_line():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            lst = app.examples
            await pilot.press("G")
            assert lst.current_line == 149
            assert 149 in lst.visible_lines()
            await pilot.press("g")
            assert lst.current_line == 0
            await pilot.press("pagedown")
            assert lst.current_line == lst.size.height - 1
            await pilot.press("down", "down", "up")
            assert lst.current_line == lst.size.height
            await pilot.press("colon")
            assert isinstance(app.screen, PromptScreen)
            await pilot.press("7", "5", "enter")
            await pilot.pause()
            assert lst.current_line == 74 and 74 in lst.visible_lines()
            assert "line 75" in body_text(app)
            await pilot.press("colon", "9", "9", "9", "enter")  # past the end: stays, says so
            await pilot.pause()
            assert lst.current_line == 74

    run(go())


def test_first_screen_before_the_index_is_complete_and_G_follows_it(monkeypatch):
    import threading

    monkeypatch.setattr(li, "FIRST_CHUNK", 4096)
    monkeypatch.setattr(li, "CHUNK", 4096)
    gate = threading.Event()
    build = LineIndex.build

    def held_build(self, progress=None, cancelled=None):
        calls = [0]

        def hold(*a):
            progress(*a)
            calls[0] += 1
            if calls[0] == 1:
                gate.wait(10)  # the rest of the file is "still being indexed"

        return build(self, hold, cancelled)

    monkeypatch.setattr(LineIndex, "build", held_build)

    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", scan=False)
        async with app.run_test(size=SIZE) as pilot:
            lst = app.examples
            for _ in range(200):
                await pilot.pause(0.01)
                if lst.count:
                    break
            assert 0 < lst.count < 150 and not app.dataset.index.done  # rows on screen, index partial
            assert lst.first_paint is not None
            await pilot.press("G")
            assert lst.current_line == lst.count - 1
            gate.set()
            await settle(pilot)
            assert app.dataset.index.done and lst.count == 150
            assert lst.current_line == 149  # followed the index to the real last line

    run(go())


def test_mouse_click_selects_a_row():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.click("#examples-list", offset=(5, 4))
            assert app.examples.current_line == 4
            assert "line 5" in body_text(app)

    run(go())


# ----------------------------------------------------------------------------- search and filters

def _matching(path: Path, pattern: str, role=None) -> list[int]:
    rx = re.compile(pattern, re.IGNORECASE)
    out = []
    for i, raw in enumerate(path.read_bytes().splitlines()):
        rec = orjson.loads(raw)
        if any(rx.search(t) for t in message_texts(rec, role)):
            out.append(i)
    return out


def test_search_lists_exactly_the_matching_lines():
    async def go():
        path = SAMPLES / "support_chat.jsonl"
        app = make_app(path, analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash")
            await pilot.press(*"refund", "enter")
            await settle(pilot)
            want = _matching(path, "refund")
            assert 0 < len(want) < 150
            assert list_lines(app) == want
            assert f"{len(want)} of 150 lines" in rendered(app.query_one("#examples-status"))
            assert app.conversation.regex is not None and app.conversation.regex.pattern == "refund"
            assert re.search("refund", body_text(app), re.IGNORECASE)
            await pilot.press("escape")
            assert app.examples.count == 150

    run(go())


def test_search_with_role_and_a_bad_regex():
    async def go():
        path = SAMPLES / "support_chat.jsonl"
        app = make_app(path, analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash", *"order", "enter")  # a plain word: the raw-bytes prefilter path
            await settle(pilot)
            await pilot.press("f", *"role:user", "enter")
            await settle(pilot)
            assert list_lines(app) == _matching(path, "order", role="user")
            await pilot.press("slash", "ctrl+u", *r"ord(er|ered)\b", "enter")  # a regex: every line parsed
            await settle(pilot)
            want = _matching(path, r"ord(er|ered)\b", role="user")
            assert want and list_lines(app) == want
            before = app.filter
            await pilot.press("slash", "ctrl+u", *"(unclosed", "enter")
            await settle(pilot)
            assert app.filter == before  # a bad regex changes nothing

    run(go())


def test_structural_filters(tmp_path):
    async def go():
        path = SAMPLES / "tools.jsonl"
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            recs = [orjson.loads(x) for x in path.read_bytes().splitlines()]
            await pilot.press("f", *"role:tool", "enter")
            await settle(pilot)
            assert list_lines(app) == [i for i, r in enumerate(recs) if any(m["role"] == "tool" for m in r["messages"])]
            await pilot.press("f", "ctrl+u", *"rule:DP311", "enter")
            await settle(pilot)
            want = sorted(f.line - 1 for f in app.dataset.findings if f.rule == "DP311")
            assert want and list_lines(app) == want
            assert all(r["messages"][0]["role"] != "system" for r in (recs[i] for i in want))
            await pilot.press("escape")
            assert app.examples.count == 40

    run(go())


def test_filter_syntax_errors_are_reported():
    assert parse_filters("role:tool tools rule:DP3 lang:de").describe() == "role:tool tools rule:DP3 lang:de"
    assert parse_filters("rule:refusal-boilerplate").rule == "DP303"
    for bad in ("role:robot", "rule:DP999", "colour:red", "tools:yes"):
        with pytest.raises(FilterError):
            parse_filters(bad)


def test_over_context_filter_with_a_small_context_preset(tmp_path):
    preset = tmp_path / "small.toml"
    preset.write_text('name = "small"\nextends = "openai"\nmodel = "gpt-3.5-turbo-0613"\n')
    data = tmp_path / "long.jsonl"
    lines = (SAMPLES / "support_chat.jsonl").read_bytes().splitlines()[:12]
    long = {"messages": [{"role": "user", "content": "Tell me everything."},
                         {"role": "assistant", "content": " ".join(f"word{i}" for i in range(6000)) + "."}]}
    lines.insert(5, orjson.dumps(long))
    data.write_bytes(b"\n".join(lines) + b"\n")

    async def go():
        app = make_app(data, preset=str(preset))
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.dataset.row(5).over and not app.dataset.row(4).over
            await pilot.press("f", *"over", "enter")
            await settle(pilot)
            assert list_lines(app) == [5]
            assert "DP400" in body_text(app)
            assert "4,096" in rendered(app.overview.section("tokens"))

    run(go())


def test_language_filter_uses_the_language_sample():
    async def go():
        path = SAMPLES / "multilingual.jsonl"
        app = make_app(path, analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f", *"lang:de", "enter")
            await settle(pilot)
            got = list_lines(app)
            assert len(got) == 6  # sample_data/README.md: 6 German conversations
            assert all(app.dataset.row(i).lang == "de" for i in got)

    run(go())


# ----------------------------------------------------------------------------- findings

def test_findings_grouped_by_rule_and_jump_to_the_example():
    async def go():
        app = make_app(SAMPLES / "broken.jsonl")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("3")
            tree = app.query_one("#findings-tree")
            groups = {n.data[1]: n for n in tree.root.children}
            counts = {}
            for f in app.dataset.findings:
                counts[f.rule] = counts.get(f.rule, 0) + 1
            assert set(groups) == set(counts)
            for rule, node in groups.items():
                assert f"×{counts[rule]}" in str(node.label)
            # open DP102 and jump to its first finding
            k = list(groups).index("DP102")
            await pilot.press(*["down"] * (k + 1), "enter")
            await pilot.press("down", "enter")
            await pilot.pause()
            target = app.dataset.by_rule["DP102"][0].line
            assert app.query_one("TabbedContent").active == "examples"
            assert app.examples.current_line == target - 1
            text = body_text(app)
            assert f"line {target}" in text and "DP102" in text and "raw line" in text
            # the pointer: a DP211 finding sits in the panel of the message it names
            app.goto(20)
            await pilot.pause()
            f211 = app.dataset.by_rule["DP211"][0]
            assert f211.line == 20 and f211.pointer.startswith("/messages/1/")
            text = body_text(app)
            assert text.index("#1 assistant") < text.index("DP211") < text.index("#2 ")

    run(go())


def test_rule_doc_on_d():  # ? is help everywhere; d opens the selected rule's doc
    async def go():
        app = make_app(SAMPLES / "broken.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("3", "down", "d")
            await pilot.pause()
            assert isinstance(app.screen, TextScreen)
            doc = rendered(app.screen.query_one("#text-body"))
            assert "Why this is bad" in doc and "Fixed" in doc
            await pilot.press("escape")
            assert not isinstance(app.screen, TextScreen)

    run(go())


def test_next_finding_key_walks_lines_with_findings():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl")
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            lines = sorted(ln for ln in app.dataset.by_line if ln > 0)
            await pilot.press("n")
            assert app.examples.current_line + 1 == lines[0]
            await pilot.press("n")
            assert app.examples.current_line + 1 == lines[1]
            await pilot.press("N")
            assert app.examples.current_line + 1 == lines[0]

    run(go())


# ----------------------------------------------------------------------------- export

def test_export_lines_with_a_finding_is_byte_identical(tmp_path):
    src = SAMPLES / "broken.jsonl"
    before = hashlib.sha256(src.read_bytes()).hexdigest()

    async def go():
        app = make_app(src, analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            cmds = {c.title: c for c in app.get_system_commands(app.screen)}
            cmds["Export lines with finding DP303"].callback()
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            prompt = app.screen.query_one("Input")
            assert prompt.value.endswith("broken.finding-DP303.jsonl")
            prompt.value = str(tmp_path / "dp303.jsonl")
            await pilot.press("enter")
            await settle(pilot)
            return sorted({f.line for f in app.dataset.by_rule["DP303"]})

    lines = run(go())
    ref = list(iter_lines(io.BytesIO(src.read_bytes())))
    assert (tmp_path / "dp303.jsonl").read_bytes() == b"".join(ref[ln - 1].raw for ln in lines)
    assert hashlib.sha256(src.read_bytes()).hexdigest() == before


def test_export_of_the_filtered_view_refuses_an_existing_file(tmp_path):
    existing = tmp_path / "keep.jsonl"
    existing.write_bytes(b"precious\n")

    async def go():
        app = make_app(SAMPLES / "tools.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("f", *"role:tool", "enter")
            await settle(pilot)
            n = app.examples.count
            await pilot.press("e")
            app.screen.query_one("Input").value = str(existing)
            await pilot.press("enter")
            await settle(pilot)
            assert existing.read_bytes() == b"precious\n"
            await pilot.press("e")
            assert app.screen.query_one("Input").value.endswith("tools.role-tool.jsonl")
            app.screen.query_one("Input").value = str(tmp_path / "tool.jsonl")
            await pilot.press("enter")
            await settle(pilot)
            return n

    n = run(go())
    assert len((tmp_path / "tool.jsonl").read_bytes().splitlines()) == n


# ----------------------------------------------------------------------------- duplicates

def test_word_diff_marks_removed_and_added_words():
    a, b, ratio = word_diff("the chain is worn out", "the chain is stretched out")
    removed = [a.plain[s.start:s.end] for s in a.spans if "strike" in str(s.style)]
    added = [b.plain[s.start:s.end] for s in b.spans if "green" in str(s.style)]
    assert [x.strip() for x in removed] == ["worn"] and [x.strip() for x in added] == ["stretched"]
    assert 0.7 < ratio < 0.9


def test_duplicates_tab_shows_clusters_side_by_side(tmp_path):
    lines = (SAMPLES / "support_chat.jsonl").read_bytes().splitlines()[:20]
    rec = orjson.loads(lines[2])
    rec["messages"][-1]["content"] = rec["messages"][-1]["content"].replace(".", " today.", 1)
    data = tmp_path / "dups.jsonl"
    data.write_bytes(b"\n".join(lines + [lines[2], orjson.dumps(rec)]) + b"\n")

    async def go():
        app = make_app(data, analyses=False)
        app.do_analyses = True
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            res = app.dataset.analysis.dedup
            assert res is not None and res.n_clusters == 1
            await pilot.press("4")
            view = app.query_one("#duplicates-view")
            assert view.clusters and sorted(view.clusters[0][1].tolist()) == [2, 20, 21]
            assert str(app.query_one("#dup-pane-0").border_title).startswith("line 3 · kept")
            assert "line 21" in str(app.query_one("#dup-pane-1").border_title)
            assert "line 22" in str(app.query_one("#dup-pane-2").border_title)
            diff = app.query_one("#dup-text-2").content
            assert any("green" in str(s.style) for s in diff.spans)  # the added word
            assert app.dataset.row(20).dup == "exact" and app.dataset.row(21).dup == "near"
            await pilot.press("enter")
            await pilot.pause()
            assert app.examples.current_line == 2

    run(go())


# ----------------------------------------------------------------------------- broken input

def test_broken_sample_opens_and_every_planted_line_is_a_finding():
    expected = orjson.loads((SAMPLES / "broken.expected.txt").read_bytes())

    async def go():
        app = make_app(SAMPLES / "broken.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            found = {(f.rule, f.line) for f in app.dataset.findings}
            for line, rules in expected.items():
                for rule in rules:
                    assert (rule, int(line)) in found
            rows = {app.dataset.row(int(line) - 1).line for line in expected}
            assert rows == {int(line) for line in expected}
            for line in range(1, 45):  # every line renders, in the list and the conversation view
                app.goto(line)
                await pilot.pause()
                assert f"line {line}" in body_text(app)

    run(go())


def test_invalid_utf8_and_a_50_mb_line_open_without_crashing(tmp_path):
    good = (SAMPLES / "support_chat.jsonl").read_bytes().splitlines()[:3]
    big = b'{"messages": [{"role": "user", "content": "' + b"x" * (50 << 20)  # 50 MB, never closed
    bad_utf8 = b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "ok."}]}'
    data = tmp_path / "mixed.jsonl"
    data.write_bytes(b"\n".join([good[0], bad_utf8, big, good[1], good[2]]) + b"\n")

    async def go():
        app = make_app(data, analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            rules = {f.line: f.rule for f in app.dataset.findings}
            assert rules.get(2) == "DP101" and rules.get(3) == "DP102"
            assert app.examples.count == 5
            app.goto(3)
            await pilot.pause()
            text = body_text(app)
            assert "DP102" in text and "more not shown" in text
            assert len(text) < 20_000  # the view shows a bounded head of the line
            app.goto(2)
            await pilot.pause()
            assert "DP101" in body_text(app)
            await pilot.press("G")
            assert app.examples.current_line == 4

    run(go())


def test_gzip_and_json_array_inputs_open(tmp_path):
    gz = tmp_path / "tools.jsonl.gz"
    gz.write_bytes(gzip.compress((SAMPLES / "tools.jsonl").read_bytes()))

    async def go(path, check):
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await check(app, pilot)

    async def gz_check(app, pilot):
        assert app.examples.count == 40 and app.dataset.scanned and app.dataset.row(0).tools
        assert "PASS" in rendered(app.overview.section("verdict"))

    async def array_check(app, pilot):  # a whole-file JSON array: one DP103 with the convert hint
        assert [f.rule for f in app.dataset.findings] == ["DP103"]
        assert "convert" in app.dataset.findings[0].message
        assert "FAIL" in rendered(app.overview.section("verdict"))
        assert "not analysed" in rendered(app.overview.section("duplicates"))
        await pilot.press("G")
        assert app.examples.current_line == app.examples.count - 1

    run(go(gz, gz_check))
    run(go(SAMPLES / "alpaca.json", array_check))


# ----------------------------------------------------------------------------- help, palette, CLI

def test_help_screen_lists_the_bindings():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", scan=False)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("f1")
            assert isinstance(app.screen, TextScreen)
            text = rendered(app.screen.query_one("#text-body"))
            for what in ("Go to line", "Search", "Filter", "Export view", "Rule doc", "Command palette", "role:"):
                assert what in text
            await pilot.press("f1")
            assert not isinstance(app.screen, TextScreen)

    run(go())


def test_command_palette_offers_every_action_and_runs_one():
    async def go():
        app = make_app(SAMPLES / "broken.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            titles = {c.title for c in app.get_system_commands(app.screen)}
            for t in ("Go to line", "Search message text", "Filter examples", "Clear filter", "Export current view",
                      "Help", "Show Findings", "Filter: tools", "Filter: role tool", "Last line",
                      "Filter: finding DP102", "Export lines with finding DP102", "Rule doc DP102"):
                assert t in titles
            await pilot.press("ctrl+p")
            await pilot.pause()
            await pilot.press(*"Go to line")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            await pilot.press(*"30", "enter")
            await pilot.pause()
            assert app.examples.current_line == 29

    run(go())


def test_cli_unreadable_inputs_exit_2_without_a_traceback(tmp_path):
    r = CliRunner()
    for args, msg in ((["tui", str(tmp_path / "missing.jsonl")], "no such file"),
                      (["tui", str(tmp_path)], "is a directory"),
                      (["tui", "-"], "not stdin"),
                      (["tui", str(SAMPLES / "support_chat.jsonl"), "--rules", "no-such-preset"], "preset")):
        res = r.invoke(cli_app, args)
        assert res.exit_code == 2, args
        assert msg in res.output and "Traceback" not in res.output
    res = r.invoke(cli_app, ["tui", str(SAMPLES / "support_chat.jsonl")])  # not a terminal here
    assert res.exit_code == 2 and "interactive terminal" in res.output


def test_empty_file_opens():
    async def go(path):
        app = make_app(path)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            assert app.examples.count == 0
            await pilot.press("G", "g", "down")
            assert "0 lines" in rendered(app.query_one("#examples-status"))

    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "empty.jsonl"
        p.write_bytes(b"")
        run(go(p))
