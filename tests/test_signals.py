"""No process outlives its command: real signals to real `dataprep` processes mid-scan.

Each run is started with a marker in its environment, which every process it starts inherits
(spawned workers, the TUI's analysis process). After the signal, no process carrying the marker
may be alive 2 s later, whatever its parent is by then (an orphan's parent is pid 1).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

from dataprep.lifetime import descendants

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux") or not os.path.isdir("/proc"),
                                reason="reads /proc; POSIX signals")
DEADLINE_S = 2.0


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """200k generated lines (~150 MB): still scanning seconds after the workers have started."""
    p = tmp_path_factory.mktemp("signals") / "big.jsonl"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_chat.py"), str(p), "--examples", "200000",
                    "--seed", "3"], check=True, capture_output=True)
    return p


@pytest.fixture(scope="module")
def small_files(big, tmp_path_factory) -> list[Path]:
    """Four files under the big-file threshold: `audit` runs them on its cross-file process pool."""
    d = tmp_path_factory.mktemp("signals-small")
    lines = big.read_bytes().splitlines(keepends=True)
    out = []
    for i in range(4):
        p = d / f"part{i}.jsonl"
        p.write_bytes(b"".join(lines[i * 30000:(i + 1) * 30000 - i]))
        out.append(p)
    return out


def _dataprep() -> list[str]:
    exe = shutil.which("dataprep", path=str(Path(sys.executable).parent))
    return [exe] if exe else [sys.executable, "-m", "dataprep.cli"]


def _state(pid: int) -> bytes:
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    return stat[stat.rfind(b")") + 2:][:1]


def marked(mark: str) -> list[int]:
    """Live (not zombie) processes whose environment carries ``mark``."""
    out = []
    needle = f"DATAPREP_RUN_MARK={mark}".encode()
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            if _state(int(name)) != b"Z":
                out.append(int(name))
        except OSError:
            continue
    return out


def _env(tmp_path, mark: str) -> dict:
    return dict(os.environ, DATAPREP_RUN_MARK=mark, DATAPREP_CACHE_DIR=str(tmp_path / "cache"))


def _workers(pid: int) -> list[int]:
    """The run's processes below ``pid``, multiprocessing's resource tracker left out."""
    out = []
    for p in descendants(pid):
        try:
            with open(f"/proc/{p}/cmdline", "rb") as f:
                if b"resource_tracker" not in f.read():
                    out.append(p)
        except OSError:
            continue
    return out


def _wait_for_workers(pid: int, n: int, alive, timeout: float = 120.0) -> None:
    t0 = time.monotonic()
    while len(_workers(pid)) < n:
        assert alive(), "the command ended before its workers started: the input is too small"
        assert time.monotonic() - t0 < timeout, "the workers never started"
        time.sleep(0.05)
    time.sleep(0.5)  # all of them busy scanning


def _gone_within(mark: str, deadline: float, reap=lambda: None) -> float:
    t0 = time.monotonic()
    while True:
        reap()
        left = marked(mark)
        if not left:
            return time.monotonic() - t0
        if time.monotonic() - t0 > deadline:
            cmds = []
            for p in left:
                try:
                    cmds.append((p, open(f"/proc/{p}/cmdline", "rb").read().replace(b"\0", b" ")[:120]))
                except OSError:
                    pass
            pytest.fail(f"{len(left)} process(es) of the run still alive {deadline} s after the signal: {cmds}")
        time.sleep(0.02)


def _run_and_signal(args: list[str], tmp_path, sig: int, *, group: bool, workers: int = 2):
    mark = uuid.uuid4().hex
    proc = subprocess.Popen(_dataprep() + args, env=_env(tmp_path, mark), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait_for_workers(proc.pid, workers, lambda: proc.poll() is None)
        (os.killpg if group else os.kill)(proc.pid, sig)
        took = _gone_within(mark, DEADLINE_S, proc.poll)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, err.decode(), took


# -------------------------------------------------------------------------------------- commands

@pytest.mark.parametrize("group", [True, False], ids=["ctrl-c-to-the-group", "kill-int-to-the-parent"])
def test_ctrl_c_in_scan_ends_every_worker_with_130_and_one_line(big, tmp_path, group):
    rc, err, took = _run_and_signal(["scan", str(big), "--no-cache", "-j", "3", "-q"], tmp_path, signal.SIGINT,
                                    group=group)
    assert rc == 130
    assert err.count("\n") == 1 and "Traceback" not in err and "SIGINT" in err, err
    assert took < DEADLINE_S


def test_sigterm_from_ci_ends_audit_and_its_workers(big, tmp_path):
    rc, err, _ = _run_and_signal(["audit", str(big), "--no-cache", "-j", "3", "-q"], tmp_path, signal.SIGTERM,
                                 group=False)
    assert rc == 143 and "Traceback" not in err and err.count("\n") == 1, err


def test_ctrl_c_in_a_many_file_audit_ends_its_file_pool(small_files, tmp_path):
    rc, err, _ = _run_and_signal(["audit", *map(str, small_files), "--no-cache", "-j", "3", "-q"], tmp_path,
                                 signal.SIGINT, group=False)
    assert rc == 130 and "Traceback" not in err and err.count("\n") == 1, err


def test_sighup_of_the_whole_group_ends_dedup_quietly(big, tmp_path):
    # a closing terminal: every process of the job gets SIGHUP, multiprocessing's tracker too
    rc, err, _ = _run_and_signal(["dedup", str(big), "--no-cache", "-j", "3", "-q"], tmp_path, signal.SIGHUP,
                                 group=True)
    assert rc == 129 and "Traceback" not in err and "leaked" not in err and err.count("\n") == 1, err


def test_workers_die_with_a_killed_parent(big, tmp_path):
    """kill -9 runs no handler: the workers must notice on their own (death signal / getppid)."""
    _run_and_signal(["scan", str(big), "--no-cache", "-j", "3", "-q"], tmp_path, signal.SIGKILL, group=False)


# -------------------------------------------------------------------------------------- the TUI

class _Tui:
    """`dataprep tui` on a pseudo-terminal whose output is drained (a full pty would block it)."""

    def __init__(self, path: Path, tmp_path):
        import fcntl
        import pty
        import struct
        import termios

        self.mark = uuid.uuid4().hex
        env = _env(tmp_path, self.mark) | {"TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
        args = _dataprep() + ["tui", str(path), "--no-cache", "-j", "3"]
        pid, fd = pty.fork()
        if pid == 0:  # the child: a new session whose controlling terminal is the pty
            try:
                os.execve(args[0], args, env)
            finally:
                os._exit(127)
        self.pid, self.fd = pid, fd
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
        self.output = bytearray()
        self.status: int | None = None
        self._closing = threading.Event()
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()

    def _drain(self) -> None:
        import select

        # Never blocked in read() when the test closes the terminal: a pending read holds the
        # master open, and the kernel would send no SIGHUP.
        while not self._closing.is_set():
            if not select.select([self.fd], [], [], 0.05)[0]:
                continue
            try:
                data = os.read(self.fd, 65536)
            except OSError:
                return
            if not data:
                return
            self.output += data

    def poll(self) -> int | None:
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def send(self, data: bytes) -> None:
        os.write(self.fd, data)

    def close_terminal(self) -> None:
        self._closing.set()
        self._drainer.join()
        os.close(self.fd)
        self.fd = -1

    def kill(self) -> None:
        if self.poll() is None:
            for p in marked(self.mark):
                with _suppress():
                    os.kill(p, signal.SIGKILL)
            with _suppress():
                os.waitpid(self.pid, 0)
        if self.fd >= 0:
            with _suppress():
                os.close(self.fd)


def _suppress():
    import contextlib

    return contextlib.suppress(OSError)


def _tui_scanning(big, tmp_path) -> _Tui:
    tui = _Tui(big, tmp_path)
    # the app, its analysis process and at least one of the scan's workers
    _wait_for_workers(tui.pid, 2, lambda: tui.poll() is None)
    return tui


@pytest.mark.parametrize("how", ["q", "ctrl-c", "sigterm", "sighup"])
def test_quitting_the_tui_mid_scan_ends_the_analysis_processes(big, tmp_path, how):
    tui = _tui_scanning(big, tmp_path)
    try:
        if how == "q":
            tui.send(b"q")
        elif how == "ctrl-c":
            tui.send(b"\x03")  # what the key sends in raw mode: the app quits, no signal
        elif how == "sigterm":
            os.kill(tui.pid, signal.SIGTERM)
        else:
            tui.close_terminal()  # the kernel sends SIGHUP to the session leader: the app
        _gone_within(tui.mark, DEADLINE_S, tui.poll)
        t0 = time.monotonic()
        while tui.poll() is None and time.monotonic() - t0 < 5:
            time.sleep(0.02)
        expected = {"q": 0, "ctrl-c": 0, "sigterm": 143, "sighup": 129}[how]
        assert tui.poll() == expected
        assert b"leaked semaphore" not in tui.output and b"Traceback" not in tui.output, bytes(tui.output[-2000:])
    finally:
        tui.kill()


def test_the_resource_tracker_cleans_up_after_a_stop_without_printing():
    # A process stopped by Ctrl-C can leave a semaphore registered; multiprocessing's tracker
    # unlinks it and used to print two warnings into the terminal after dataprep's one line.
    code = ("from dataprep.lifetime import ensure_tracker; ensure_tracker()\n"
            "from multiprocessing import resource_tracker\n"
            "resource_tracker.register('/mp-dataprep-test-leak', 'semaphore')\n"
            "import os; os._exit(0)\n")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stderr == "", p.stderr
