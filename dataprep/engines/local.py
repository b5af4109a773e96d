"""The local engine: this machine's process pool, i.e. the library functions themselves."""

from __future__ import annotations


class LocalEngine:
    name = "local"

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        pass

    def scan(self, path: str, *, signatures: str = "driver", jobs: int | None = None, **kw):
        """``dataprep.scan.scan`` (``signatures`` only matters to the Ray engine)."""
        from dataprep.scan import scan

        return scan(path, jobs=jobs or self.jobs, **kw)

    def duplicates(self, profile, keep: str = "first"):
        from dataprep.dedup.analyze import duplicates

        return duplicates(profile, keep)

    def analyze(self, profile, **kw):
        from dataprep.dedup.analyze import analyze

        return analyze(profile, **({"jobs": self.jobs} | kw))  # --jobs bounds DP503's workers too

    def audit(self, paths, preset="openai", *, jobs: int | None = None, **kw):
        from dataprep.audit import audit

        return audit(paths, preset, jobs=jobs or self.jobs, **kw)
