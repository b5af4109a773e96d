"""Snapshots of the inspector's main screens (pytest-textual-snapshot).

Deterministic by construction: fixed terminal size, relative sample paths, no cache, one job,
every worker finished before the shot, and no timings anywhere on screen. Regenerate after an
intended change with ``pytest tests/test_tui_snapshots.py --snapshot-update`` and review the SVGs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dataprep.tui.app import DataprepApp

ROOT = Path(__file__).resolve().parent.parent
SIZE = (120, 40)


@pytest.fixture(autouse=True)
def _at_root(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)  # the title bar shows the path as given: keep it relative
    monkeypatch.setenv("DATAPREP_CACHE_DIR", str(tmp_path / "cache"))


def make(path: str, **kw) -> DataprepApp:
    return DataprepApp(path, jobs=1, cache=False, loader="thread", **kw)


async def settle(pilot) -> None:
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_examples_screen(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("down", "down")
        await pilot.pause()

    assert snap_compare(make("sample_data/support_chat.jsonl"), terminal_size=SIZE, run_before=before)


def test_overview_screen(snap_compare):
    assert snap_compare(make("sample_data/support_chat.jsonl", initial_tab="overview"), terminal_size=SIZE,
                        run_before=settle)


def test_conversation_with_findings_at_their_pointer(snap_compare):
    async def before(pilot):
        await settle(pilot)
        pilot.app.goto(20)  # DP211 on /messages/1/tool_calls/0/function/arguments
        await pilot.pause()

    assert snap_compare(make("sample_data/broken.jsonl"), terminal_size=SIZE, run_before=before)


def test_findings_screen(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("3", "down", "down", "enter", "down")
        await pilot.pause()

    assert snap_compare(make("sample_data/broken.jsonl"), terminal_size=SIZE, run_before=before)


def test_duplicates_screen(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("4")
        await pilot.pause()

    assert snap_compare(make("sample_data/broken.jsonl"), terminal_size=SIZE, run_before=before)


def test_help_screen(snap_compare):
    async def before(pilot):
        await settle(pilot)
        await pilot.press("f1")
        await pilot.pause()

    assert snap_compare(make("sample_data/support_chat.jsonl", scan=False), terminal_size=SIZE, run_before=before)
