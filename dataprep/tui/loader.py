"""Loading the Profile and its analyses away from the UI.

The scan of a file under one shard, the token view, the duplicate clusters and the gate's
assessment are CPU-bound Python: run in a thread of the app they would hold the GIL and make
every key press wait. So by default they run in one spawned child process (its own process
group, so that quitting can end it together with the scan's own worker processes), which sends
each result back as soon as it is ready; the app's worker thread only waits on the queue.
``mode="thread"`` runs the same pipeline in the calling thread (tests, where a spawn costs more
than the work).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable, Iterator

from dataprep.tui import analysis


def lean(prof):
    """The Profile without what only the analyses read (MinHash signatures: 512 bytes per line;
    text features), so that a 1M-line profile crosses the process boundary in a fraction."""
    import numpy as np

    return dataclasses.replace(prof, signatures=np.zeros((0, prof.signatures.shape[1]), np.uint32),
                               exact=np.zeros(0, np.uint64), text=None)


def pipeline(path: str, *, jobs: int | None, cache: bool, preset_spec, analyses: bool,
             on_progress: Callable[[int, int | None, int], None] | None = None) -> Iterator[tuple[str, object]]:
    """(kind, payload) results in order: profile, tokens, dups, assessment; notes and errors too.
    ``on_progress(bytes done, total bytes, rows)``: called as the scan's shards complete."""
    from dataprep.scan import default_jobs, scan

    preset = analysis.load_preset(preset_spec)  # None when the gate's presets are not installed
    model = analysis.preset_model(preset)
    try:
        prof = scan(path, jobs=jobs, cache=cache, model=model, progress=on_progress or False)
    except (OSError, EOFError) as e:  # scan promises a DP100 profile for unreadable input; keep it here too
        from dataprep.scan import ScanOptions, _unreadable

        prof = _unreadable(path, f"read failed: {e}", ScanOptions(model=model))
    yield "profile", lean(prof)
    if not analyses:
        return
    try:
        yield "tokens", analysis.token_view(prof, model)
    except Exception as e:
        yield "note", f"tokens not analysed: {e}"
    if prof.rows.height and prof.readable:
        try:
            yield "dups", analysis.duplicate_clusters(prof)
        except Exception as e:
            yield "note", f"duplicates not analysed: {e}"
    yield "status", "assessing…"
    if preset is None:
        yield "note", "no verdict: the gate's presets (dataprep.gate) are not installed"
        yield "assessment", None
        return
    try:
        yield "assessment", analysis.assessment(prof, preset, jobs or default_jobs())
    except Exception as e:
        yield "note", f"no verdict: the assessment failed ({type(e).__name__}: {e})"
        yield "assessment", None


def _leave(signum, frame) -> None:
    """SIGTERM (quit, or our parent is gone): unlink our semaphores (the scan's counter and pool
    queues; left behind, the resource tracker warns of them on the terminal), then go at once.
    The scan's workers get the same SIGTERM from the group kill, or die with us (their death
    signal)."""
    import multiprocessing.util

    multiprocessing.util._run_finalizers(0)  # >= 0: not the queue's join of its feeder thread
    os._exit(128 + signum)


def _child(q, path: str, jobs, cache: bool, preset_spec, analyses: bool) -> None:
    from dataprep.lifetime import watch_parent

    os.setpgrp()  # our own group: quitting kills it and the scan's workers in one call
    signal.signal(signal.SIGTERM, _leave)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the app decides when we stop
    # Die with the app, however it ends (kill -9, a crash): the death signal fires when the
    # app's loader thread ends, which waits on us for as long as we work.
    watch_parent(signal.SIGTERM)
    try:
        def progress(done: int, total: int | None, rows: int) -> None:
            q.put(("progress", (done, total, rows)))

        for item in pipeline(path, jobs=jobs, cache=cache, preset_spec=preset_spec, analyses=analyses,
                             on_progress=progress):
            q.put(item)
    except BaseException as e:  # report, do not die silently
        q.put(("error", f"{type(e).__name__}: {e}"))
    q.put(("done", None))
    q.close()
    q.join_thread()


class BackgroundLoad:
    """The pipeline in a child process; iterate ``results()`` from a worker thread."""

    def __init__(self, path: str, *, jobs: int | None, cache: bool, preset_spec, analyses: bool):
        ctx = multiprocessing.get_context("spawn")
        self.queue = ctx.Queue()
        self.proc = ctx.Process(target=_child, args=(self.queue, path, jobs, cache, preset_spec, analyses),
                                name="dataprep-tui-scan")
        self._stopping = threading.Lock()  # quit, a signal and unmount may all stop us at once

    def start(self) -> None:
        self.proc.start()

    def results(self, cancelled: Callable[[], bool]) -> Iterator[tuple[str, object]]:
        while True:
            try:
                kind, payload = self.queue.get(timeout=0.2)
            except queue.Empty:
                if cancelled():
                    return
                if not self.proc.is_alive() and self.queue.empty():
                    yield "error", f"the scan process ended unexpectedly (exit code {self.proc.exitcode})"
                    return
                continue
            if kind == "done":
                self.proc.join(timeout=5)
                return
            yield kind, payload
            if cancelled():
                return

    def stop(self, grace: float = 1.0) -> None:
        """End the child and every process it started (the scan's pool): SIGTERM to its process
        group, SIGKILL to what is left after ``grace`` seconds."""
        with self._stopping:
            self._stop(grace)

    def _stop(self, grace: float) -> None:
        if self.proc.pid is None or not self.proc.is_alive():
            return
        pid = self.proc.pid
        try:
            os.killpg(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):  # not in its own group yet
            self.proc.terminate()
        self.proc.join(grace)
        try:
            os.killpg(pid, signal.SIGKILL)  # stragglers of the group (workers), or a child stuck in C code
        except (ProcessLookupError, PermissionError):
            pass
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(0.5)
