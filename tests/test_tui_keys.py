"""The keys and cues a new user reaches for first, driven through textual's pilot on the real app:
? is help, Enter opens an example's conversation, Tab shows where the focus is, and the scan's
status line says how far it has got."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from dataprep.tui.app import DataprepApp, scan_status
from dataprep.tui.conversation_view import ConversationView
from dataprep.tui.examples_view import ExamplesList
from dataprep.tui.screens import TextScreen

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_data"
SIZE = (140, 45)


@pytest.fixture(autouse=True)
def _no_user_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def make_app(path, **kw) -> DataprepApp:
    kw.setdefault("jobs", 1)
    kw.setdefault("cache", False)
    kw.setdefault("loader", "thread")
    return DataprepApp(str(path), **kw)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_question_mark_opens_help_from_every_tab():
    async def go():
        app = make_app(SAMPLES / "broken.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            for tab in ("1", "2", "3", "4"):
                await pilot.press(tab, "question_mark")
                await pilot.pause()
                assert isinstance(app.screen, TextScreen), f"tab {tab}: ? did not open help"
                assert app.screen.title_text == "Help: keys"
                await pilot.press("question_mark")  # ? closes it again
                await pilot.pause()
                assert not isinstance(app.screen, TextScreen)

    asyncio.run(go())


def test_enter_on_an_example_opens_its_conversation_and_escape_comes_back():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("down", "down", "enter")
            await pilot.pause()
            assert isinstance(app.focused, ConversationView)
            assert app.conversation.line == 2
            await pilot.press("escape")
            await pilot.pause()
            assert isinstance(app.focused, ExamplesList) and app.examples.current_line == 2

    asyncio.run(go())


def test_tab_moves_focus_with_a_visible_cue():
    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            conv = app.conversation
            assert isinstance(app.focused, ExamplesList)
            unfocused = (conv.styles.background_tint, conv.styles.border_left)
            await pilot.press("tab")
            await pilot.pause()
            assert app.focused is conv
            focused = (conv.styles.background_tint, conv.styles.border_left)
            assert focused != unfocused  # the pane with the keys looks different
            assert conv.styles.border_left[0] != unfocused[1][0]  # its edge lights up
            # and the width stays: focusing never reflows the conversation
            assert conv.styles.border_left[0] and unfocused[1][0]
            await pilot.press("shift+tab")
            await pilot.pause()
            assert isinstance(app.focused, ExamplesList)
            assert conv.styles.border_left == unfocused[1]

    asyncio.run(go())


def test_scan_status_shows_a_percentage():
    assert scan_status(0, 1_000_000, 0) == "scanning 0% of 976.6 KB · 0 rows"
    assert scan_status(500_000, 1_000_000, 1234) == "scanning 50% of 976.6 KB · 1,234 rows"
    assert scan_status(1_000_000, 1_000_000, 9) == "scanning 99% of 976.6 KB · 9 rows"  # 100% is "scanned"
    assert scan_status(3_000, 1_000, 9) == "scanning · 2.9 KB · 9 rows"  # compressed: no share


def test_the_scan_reports_its_share_while_it_runs(tmp_path, monkeypatch):
    # several shards, so the status passes through percentages before "scanned"
    line = json.dumps({"messages": [{"role": "user", "content": "hi " * 40},
                                    {"role": "assistant", "content": "hello " * 40}]})
    path = tmp_path / "many.jsonl"
    path.write_text((line + "\n") * 20_000)
    seen: list[str] = []

    class Recording(DataprepApp):
        def _set_status(self, key, text):
            if key == "scan":
                seen.append(text)
            super()._set_status(key, text)

    monkeypatch.setattr(sys.modules["dataprep.scan"], "SHARD_BYTES", 1 << 20)  # ~6 shards of this 6 MB file

    async def go():
        app = Recording(str(path), jobs=1, cache=False, loader="thread", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)

    asyncio.run(go())
    pcts = [s for s in seen if s.startswith("scanning ") and "%" in s]
    assert pcts and pcts[0].startswith("scanning 0%"), seen
    assert any(not p.startswith("scanning 0%") for p in pcts), seen
    assert seen[-1] == "scanned"


QUIT_MID_SCAN = r"""
import sys
from dataprep.lifetime import ensure_tracker
from dataprep.tui.loader import BackgroundLoad

def main():
    ensure_tracker()
    load = BackgroundLoad(sys.argv[1], jobs=2, cache=False, preset_spec=None, analyses=True)
    load.start()
    for kind, payload in load.results(lambda: False):
        if kind == "progress" and payload[0] > 0:  # a shard is done, the rest are being scanned
            break
    else:
        sys.exit("the scan ended before any progress")
    load.stop()
    print("stopped mid-scan", payload, flush=True)

if __name__ == "__main__":
    main()
"""


def test_quitting_mid_scan_leaves_no_semaphores(tmp_path):
    line = json.dumps({"messages": [{"role": "user", "content": "question " * 30},
                                    {"role": "assistant", "content": "answer " * 30}]})
    path = tmp_path / "big.jsonl"
    path.write_text((line + "\n") * 60_000)
    script = tmp_path / "quit.py"
    script.write_text(QUIT_MID_SCAN)
    # the resource tracker prints its "leaked semaphore objects" warning on our stderr as it exits
    out = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, text=True, timeout=300,
                         cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "stopped mid-scan" in out.stdout
    assert "leaked" not in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_question_mark_types_into_a_prompt_instead_of_opening_help():
    from textual.widgets import Input

    from dataprep.tui.screens import PromptScreen

    async def go():
        app = make_app(SAMPLES / "support_chat.jsonl", analyses=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            await pilot.press("slash", "a", "question_mark", "b")
            await pilot.pause()
            assert isinstance(app.screen, PromptScreen)
            assert app.screen.query_one(Input).value == "a?b"

    asyncio.run(go())
