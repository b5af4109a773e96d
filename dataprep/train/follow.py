"""The follow loop both hosted tuners share (OpenAI, Together): a module of its own so that the
backends import it without importing the launcher (``api``), which imports them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def poll_until_done(tuner: Any, job_id: str, *, terminal: tuple[str, ...], poll_extras: Callable[[], None],
                    read_errors: tuple[type[BaseException], ...], wrap_error: Callable[[Exception, str], Exception],
                    backend_flag: str = "", timeout_s: float | None = None, detached: Callable[[], Any]) -> Any:
    """The follow loop both hosted tuners share: poll the job's status, emit each change, call
    ``poll_extras`` (new events, checkpoints) and sleep until a status in ``terminal``. A failure to
    read events is reported and the loop goes on (never lose the job over them). Ctrl-C or
    ``timeout_s`` detach: the returned job result has status "detached" and the job keeps running.
    ``backend_flag`` (" --backend together") goes into the commands the detach message suggests."""
    last = None
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    result = None
    try:
        while True:
            result = tuner.status(job_id)
            if result.status != last:
                tuner._emit("status", f"{job_id}: {result.status}", job_id, {"status": result.status})
                last = result.status
            try:
                poll_extras()
            except read_errors as exc:
                tuner._emit("event", f"could not read events: {wrap_error(exc, 'reading events')}", job_id)
            if result.status in terminal:
                break
            if deadline is not None and time.monotonic() >= deadline:
                result.status = "detached"
                tuner._emit("status", f"{job_id}: stopped following after {timeout_s:.0f} s; the job keeps "
                            "running", job_id)
                break
            tuner.sleep(tuner.poll_interval_s)
    except KeyboardInterrupt:
        result = result or detached()
        result.status = "detached"
        tuner._emit("status", f"{job_id}: detached (Ctrl-C); the job keeps running. Check it with `dataprep "
                    f"train status {job_id}{backend_flag}`, stop it with `dataprep train cancel {job_id}"
                    f"{backend_flag}`", job_id)
    return result
