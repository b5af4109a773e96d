"""The scan's progress line: a percentage, bytes and a rate measured from the start of the scan.

Rendered with a fake clock and a recording console, so nothing here depends on timing."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from dataprep.scan import _Progress, progress_text

GB = 1_000_000_000


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_nothing_but_the_size_before_the_first_shard():
    text = progress_text(0, 3 * GB, 0, elapsed=4.0)
    assert text == "scanning of 3.0 GB: reading the first shards…"
    assert "?" not in text and "0 rows" not in text and "/s" not in text


def test_rate_counts_from_the_start_not_between_shards():
    clock = Clock()
    bar = _Progress(3 * GB, enabled=False, clock=clock)
    clock.now += 10.0  # two shards finish together, 10 s after the start
    bar.advance(GB, 1_000_000)
    bar.advance(GB, 1_000_000)
    assert bar.text() == "scanning 66% · 2.0 GB of 3.0 GB · 2,000,000 rows · 200.0 MB/s · 0:05 left"


def test_percentage_never_claims_100_before_the_end_and_survives_outgrowing_the_size():
    assert progress_text(999, 1000, 5, elapsed=1.0).startswith("scanning 99%")
    assert progress_text(1000, 1000, 5, elapsed=1.0, finished=True).startswith("scanning 100%")
    # a compressed input: more bytes read than the file's size; no percentage, no negative time left
    text = progress_text(5000, 1000, 5, elapsed=1.0)
    assert text == "scanning · 5.0 KB · 5 rows · 5.0 KB/s"


def test_unknown_size_shows_bytes_and_rate():
    assert progress_text(2_500_000, None, 10, elapsed=2.0) == "scanning · 2.5 MB · 10 rows · 1.2 MB/s"


@pytest.mark.parametrize("width", [80, 120])
def test_rendered_bar_on_a_terminal_shows_the_whole_line(width):
    clock = Clock()
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=width, color_system=None)
    bar = _Progress(4 * GB, enabled=True, console=console, clock=clock)
    clock.now += 2.0
    bar.advance(GB, 123_456)
    bar.p.refresh()
    bar.close()
    rendered = out.getvalue()
    assert "scanning 25% · 1.0 GB of 4.0 GB · 123,456 rows · 500.0 MB/s · 0:06 left" in rendered
