"""Who runs the one scan / dedup / audit code path: local processes or a Ray cluster.

    with open_engine("ray", address=None, jobs=4) as eng:   # or "local"
        prof = eng.scan("train.jsonl")                       # a Profile, identical for both engines
        rep = eng.analyze(prof)                              # dedup.analyze's DedupReport
        res = eng.audit(["data/"], "openai")                 # dataprep.audit's AuditResult

The local engine calls ``dataprep.scan.scan``, ``dataprep.dedup.analyze.analyze`` and
``dataprep.audit.audit``. The Ray engine (``ray_engine``, optional extra ``ray``) calls the same
``scan`` with a ``RayExecutor`` (the shards as Ray tasks; the driver, cache and merge are the
scan's own) and the same ``analyze`` with its distributed duplicate finder; see its module doc.
"""

from __future__ import annotations

from .local import LocalEngine

ENGINES = ("local", "ray")


class EngineError(Exception):
    """An engine that cannot be used (unknown name, Ray missing, cluster unreachable)."""


def open_engine(name: str = "local", *, address: str | None = None, jobs: int | None = None):
    """A started engine (use it as a context manager: it shuts down what it started).

    ``address``: a Ray cluster to join (``ray://host:10001``, ``host:6379`` or ``auto``); without
    it the Ray engine starts a local instance with ``jobs`` CPUs (default: all cores).
    """
    if name == "local":
        if address:
            raise EngineError("--ray-address needs --engine ray")
        return LocalEngine(jobs)
    if name == "ray":
        from .ray_engine import RayEngine

        return RayEngine(address=address, num_cpus=jobs).start()
    raise EngineError(f"unknown engine {name!r} (choose {' or '.join(ENGINES)})")


__all__ = ["ENGINES", "EngineError", "LocalEngine", "open_engine"]
