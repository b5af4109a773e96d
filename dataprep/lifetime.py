"""Process lifetime: no process that dataprep starts outlives the command that started it.

Two halves. In every worker process, :func:`watch_parent` makes the worker die with its parent:
on Linux the kernel sends a signal when the parent goes (``prctl(PR_SET_PDEATHSIG)``), and a
thread that polls ``os.getppid()`` covers the other systems (and a parent that died before the
worker got that far). In the command's own process, :func:`command_signals` turns SIGTERM and
SIGHUP into the same KeyboardInterrupt as Ctrl-C, so every ``finally`` and pool shutdown runs,
and :func:`end_children` ends whatever is still running below the process before it exits.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_watching = False
received: int | None = None  # the signal that interrupted the command, once one has


class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, delivered like Ctrl-C (every ``except KeyboardInterrupt`` sees it)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_code(signum: int) -> int:
    """The shell's convention for a command ended by a signal: 128 + its number (Ctrl-C: 130)."""
    return 128 + int(signum)


def _pdeathsig(sig: int) -> bool:
    """Ask the kernel for ``sig`` when our parent exits; False where that is not available."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def watch_parent(sig: int = signal.SIGKILL, interval: float = 0.25) -> None:
    """Call first thing in a worker process: the worker ends (``sig``) as soon as its parent does.

    The kernel's death signal fires when the thread that started us ends, so it is only asked
    for by pool workers, whose parent thread waits on the pool for as long as they work. The
    polling thread is the portable fallback and catches a parent that died before the prctl.
    """
    global _watching
    if _watching:
        return
    _watching = True
    import multiprocessing

    parent = multiprocessing.parent_process()
    ppid = parent.pid if parent is not None and parent.pid else os.getppid()
    _pdeathsig(sig)
    if os.getppid() != ppid:  # the parent is already gone
        _die(sig)

    def poll() -> None:
        while True:
            time.sleep(interval)
            if os.getppid() != ppid:
                _die(sig)

    threading.Thread(target=poll, name="dataprep-watch-parent", daemon=True).start()


def _die(sig: int) -> None:
    os.kill(os.getpid(), sig)
    time.sleep(1.0)  # a handler for ``sig`` gets a moment to clean up; then leave regardless
    os._exit(exit_code(sig))


def worker_init(initializer=None, *initargs) -> None:
    """ProcessPoolExecutor initializer: watch the parent, leave Ctrl-C to it, then ``initializer``.

    Ctrl-C in a terminal reaches the whole process group; a worker that took it would print a
    traceback. The parent decides, and ends the workers (see ``dataprep.scan._pool``).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent()
    if initializer is not None:
        initializer(*initargs)


def ensure_tracker() -> None:
    """Start multiprocessing's resource tracker (if it is not running) deaf to SIGHUP.

    The tracker unlinks the semaphores that a killed process leaves. It ignores Ctrl-C and SIGTERM
    itself but not SIGHUP, which a closing terminal sends to the whole process group: it would
    die first, and the command's own cleanup would then relaunch it with KeyError tracebacks. A
    signal blocked at its start stays blocked in it (the mask survives exec); this process
    unblocks it again at once, so a SIGHUP meant for it is only delayed, never lost.
    """
    from multiprocessing import resource_tracker

    # The tracker is a Python process of its own: started with this environment, it keeps its
    # warnings about the semaphores it cleans up after a Ctrl-C ("leaked semaphore objects",
    # "No such file or directory") out of the user's terminal, where a stop says one line.
    before = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [before, _QUIET_TRACKER]))
    hup = getattr(signal, "SIGHUP", None)
    old = None
    try:
        if hup is not None and hasattr(signal, "pthread_sigmask"):
            old = signal.pthread_sigmask(signal.SIG_BLOCK, {hup})
        resource_tracker.ensure_running()
    finally:
        if old is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, old)
        if before is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = before


_QUIET_TRACKER = "ignore::UserWarning:multiprocessing.resource_tracker"


@contextlib.contextmanager
def sigint_blocked():
    """Ctrl-C held back in this thread while it starts processes: they inherit the mask from
    their first instruction, so a Ctrl-C during their start-up (imports, a second or more) cannot
    raise a KeyboardInterrupt traceback in them. It reaches this process as soon as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


_RELAYED = {int(s) for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", signal.SIGTERM))}
_watchdog: threading.Timer | None = None
WATCHDOG_S = 1.0  # how long a command gets to wind its own processes down after a signal
_last: tuple[int, float] = (0, 0.0)  # (signal, when) the handler last ran


def fresh(signum: int) -> bool:
    """For a signal handler: False when this is the relay's copy of a signal the handler has just
    taken (see ``_relay``), True (and remembered) otherwise."""
    global _last
    now = time.monotonic()
    if _last[0] == signum and now - _last[1] < 0.5:
        return False
    _last = (signum, now)
    return True


def _raise(signum, frame) -> None:
    global received, _watchdog
    if not fresh(signum):
        return
    received = signum
    if _watchdog is None:
        # The command unwinds on the KeyboardInterrupt below, but a library pool's shutdown may
        # wait for its running tasks (seconds on a big file): whatever is left below us after
        # WATCHDOG_S is ended from this thread, so no signal leaves work running for long.
        _watchdog = threading.Timer(WATCHDOG_S, end_children, kwargs={"grace": 0.5, "reap": False})
        _watchdog.daemon = True
        _watchdog.start()
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise Interrupted(signum)


def _relay(rfd: int, main_ident: int) -> None:
    """Make sure the main thread sees each signal.

    The kernel may deliver a signal to any thread that does not block it (polars' and the pools'
    threads included). Python then only flags it for the main thread, which does not wake from a
    wait on a lock (``as_completed``, a pool's shutdown) or a select. Python's C handler writes
    the signal's number to the wakeup fd from whichever thread took it; this thread reads it and,
    unless the main thread's handler has run meanwhile, sends the signal to the main thread
    itself, whose wait is then interrupted and runs the handler.
    """
    while True:
        try:
            data = os.read(rfd, 64)
        except InterruptedError:
            continue
        except OSError:
            return
        if not data:
            return
        for signum in set(data) & _RELAYED:
            time.sleep(0.1)
            if _last[0] == signum and time.monotonic() - _last[1] < 0.5:
                continue  # the main thread has it
            with contextlib.suppress(OSError, ValueError):
                signal.pthread_kill(main_ident, signum)


def reclaim_signals() -> None:
    """Put Python's own C handler back on the signals we handle (main thread only).

    Importing polars installs a SIGINT handler of its own (signal-hook, SA_RESTART): a Ctrl-C
    then no longer interrupts a wait on a lock or a pipe, so a command waiting on its pool never
    sees it (pola-rs/polars#21739). Re-setting the Python handler replaces polars' at the C level.
    Called where a command starts to wait on processes, after polars is imported.
    """
    if threading.current_thread() is not threading.main_thread():
        return
    for s in _RELAYED:
        with contextlib.suppress(OSError, ValueError, TypeError):
            h = signal.getsignal(s)
            if callable(h):
                signal.signal(s, h)


@contextlib.contextmanager
def command_signals():
    """While a command runs: Ctrl-C, SIGTERM and SIGHUP raise KeyboardInterrupt (``Interrupted``)
    in the main thread and are remembered in ``received``; the old handlers come back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {}
    for s in (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if s is None:
            continue
        try:
            old[s] = signal.signal(s, _raise)
        except (OSError, ValueError):
            pass
    old_fd = None
    if hasattr(signal, "pthread_kill"):
        rfd, wfd = os.pipe()
        os.set_blocking(wfd, False)
        old_fd = signal.set_wakeup_fd(wfd, warn_on_full_buffer=False)
        threading.Thread(target=_relay, args=(rfd, threading.get_ident()), name="dataprep-signals",
                         daemon=True).start()
    try:
        yield
    finally:
        if old_fd is not None:
            signal.set_wakeup_fd(old_fd)
            os.close(wfd)  # the relay thread reads EOF and ends
        for s, h in old.items():
            with contextlib.suppress(OSError, ValueError, TypeError):
                signal.signal(s, h)


def _children_map() -> dict[int, list[int]]:
    """ppid -> pids of every process on the system (from /proc); {} where there is no /proc."""
    out: dict[int, list[int]] = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields start after the last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            out.setdefault(int(fields[1]), []).append(int(name))
    return out


def descendants(pid: int | None = None) -> list[int]:
    """Every process below ``pid`` (default: this one), parents before their children."""
    pid = os.getpid() if pid is None else pid
    tree = _children_map()
    out, todo = [], list(tree.get(pid, []))
    while todo:
        p = todo.pop(0)
        out.append(p)
        todo.extend(tree.get(p, []))
    return out


def _is_resource_tracker(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return b"resource_tracker" in f.read()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie has ended; only its parent's wait is missing
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rfind(b")") + 2:][:1] != b"Z"
    except OSError:
        return True


def end_children(grace: float = 1.0, reap: bool = True) -> None:
    """End every process below this one: SIGTERM, then SIGKILL for those left after ``grace`` s.

    multiprocessing's resource tracker is left alone: it ignores SIGTERM, exits by itself as soon
    as this process has, and is what unlinks a semaphore a killed worker could not. ``reap``:
    also collect our exited children (only from the main thread: multiprocessing's bookkeeping).
    """
    import multiprocessing

    pids = [p for p in descendants() if not _is_resource_tracker(p)]
    if not pids:
        if not os.path.isdir("/proc") and reap:  # no /proc: the processes multiprocessing knows of
            for c in multiprocessing.active_children():
                c.terminate()
        return
    for p in pids:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if reap:
            multiprocessing.active_children()  # waits for our own children that have exited
        pids = [p for p in pids if _alive(p)]
        if not pids:
            return
        time.sleep(0.02)
    for p in pids:
        with contextlib.suppress(OSError):
            os.kill(p, signal.SIGKILL)
    if reap:
        multiprocessing.active_children()
