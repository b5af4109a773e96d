"""Persistent indexes of what a model was already trained on: "is this new data in there?"

* ``LocalIndex(DIR)``: a directory with ``manifest.json`` (the MinHash parameters, the files
  added, their content hashes) and, per added file, ``part-NNNNN.{sig,exact,line}.npy`` (the
  signatures, exact keys and 1-based line numbers of its examples). Loading concatenates the
  parts and rebuilds the LSH bands in memory (``leakage``), so the threshold may change between
  runs; the parameters that make signatures comparable (num_perm, seed, shingle mode and size,
  compared text) may not.
* ``RedisIndex(HOST:PORT)``: datasketch's ``MinHashLSH`` on Redis storage (shared by a team),
  plus Redis hashes holding each document's signature (to verify LSH candidates) and exact key.
  Its bands x rows follow the threshold, so the threshold is fixed when the index is created.

Both match by exact key and by estimated Jaccard >= threshold; word 13-grams are not stored
(they would take ~100x the space of the signatures).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from .leakage import L_EXACT, L_NEAR, leakage
from .minhash import SCHEME, MinHashConfig, datasketch_lsh, is_empty, lean_minhashes

INDEX_FORMAT = 1


class IndexUnusable(ValueError):
    """An index that cannot be used with these options (or at all)."""


def index_params(config: MinHashConfig, compare: str) -> dict:
    """The parameters two signatures must share to be comparable."""
    return {"num_perm": config.num_perm, "seed": config.seed, "mode": config.mode, "ngram": config.ngram,
            "scheme": SCHEME, "compare": compare}


def _mismatch(stored: dict, wanted: dict, where: str) -> str | None:
    diff = [f"{k} {stored.get(k)!r} (here {wanted[k]!r})" for k in wanted if stored.get(k) != wanted[k]]
    if diff:
        return f"{where} was built with {', '.join(diff)}; pass the same options"
    return None


def _sources(paths: list[str], file_ids: np.ndarray, lines: np.ndarray) -> list[str]:
    return [f"{paths[f]} line {ln}" for f, ln in zip(file_ids.tolist(), lines.tolist())]


class LocalIndex:
    """A persistent on-disk index (see the module doc)."""

    def __init__(self, directory: str | os.PathLike):
        self.dir = Path(directory)
        self.name = str(directory)
        self.manifest: dict | None = None
        mf = self.dir / "manifest.json"
        if mf.exists():
            try:
                self.manifest = json.loads(mf.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise IndexUnusable(f"{mf} is not a dataprep index manifest: {e}") from None
            if self.manifest.get("format") != INDEX_FORMAT:
                raise IndexUnusable(f"{mf}: unknown index format {self.manifest.get('format')!r}")
        elif self.dir.exists() and any(self.dir.iterdir()):
            raise IndexUnusable(f"{self.dir} exists and is not a dataprep index (no manifest.json)")

    @property
    def documents(self) -> int:
        return int(self.manifest["documents"]) if self.manifest else 0

    def compatible(self, config: MinHashConfig, compare: str) -> str | None:
        """None when signatures made with these options can be compared with the index's."""
        if self.manifest is None:
            return None
        return _mismatch(self.manifest["params"], index_params(config, compare), f"index {self.name}")

    def load(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(signatures, exact keys, file ids, lines) of every indexed document."""
        num_perm = self.manifest["params"]["num_perm"] if self.manifest else 0
        sigs, exact, fid, lines = [np.zeros((0, num_perm), np.uint32)], [np.zeros(0, np.uint64)], \
            [np.zeros(0, np.int32)], [np.zeros(0, np.int64)]
        for p in (self.manifest or {}).get("parts", []):
            stem = self.dir / p["name"]
            sigs.append(np.load(f"{stem}.sig.npy"))
            exact.append(np.load(f"{stem}.exact.npy"))
            lines.append(np.load(f"{stem}.line.npy"))
            fid.append(np.full(len(exact[-1]), p["file"], dtype=np.int32))
        return np.concatenate(sigs), np.concatenate(exact), np.concatenate(fid), np.concatenate(lines)

    def check(self, profile, ex: np.ndarray):
        """A ``Leak`` of ``profile``'s example rows ``ex`` that are already in the index."""
        from .analyze import Leak, no_leak

        profile.require("sketch", "checking against an index")
        if not self.documents or not len(ex):
            return no_leak(profile.path, len(ex), self.name)
        sigs, exact, fid, lines = self.load()
        from .analyze import example_sketch

        res = leakage(sigs, exact, *example_sketch(profile, ex), profile.options.minhash)
        hit = res.leaked
        m = res.match[hit]
        paths = [f["path"] for f in self.manifest["files"]]
        return Leak(profile.path, len(ex), ex[hit] + 1, _sources(paths, fid[m], lines[m]), res.kind[hit],
                    res.similarity[hit], self.name)

    def add(self, profile, rows: np.ndarray, *, source: str | None = None) -> int:
        """Add the example rows ``rows`` (0-based) of ``profile``; returns how many were added.

        A file whose content is already in the index (same content hash) is not added twice.
        """
        from dataprep.cache import content_hash

        profile.require("sketch", "adding to an index")
        params = index_params(profile.options.minhash, profile.options.compare)
        if self.manifest is not None and (msg := _mismatch(self.manifest["params"], params, f"index {self.name}")):
            raise IndexUnusable(msg)
        digest = content_hash(profile.path)
        man = self.manifest or {"format": INDEX_FORMAT, "params": params, "documents": 0, "files": [], "parts": []}
        if any(f["sha"] == digest for f in man["files"]):
            return 0
        rows = np.asarray(rows, dtype=np.int64)
        self.dir.mkdir(parents=True, exist_ok=True)
        file_id = len(man["files"])
        name = f"part-{len(man['parts']) + 1:05d}"
        stem = self.dir / name
        np.save(f"{stem}.sig.npy", np.ascontiguousarray(profile.signatures[rows]))
        np.save(f"{stem}.exact.npy", profile.exact[rows])
        np.save(f"{stem}.line.npy", rows + 1)
        man["files"].append({"path": source or profile.path, "abspath": os.path.abspath(profile.path), "sha": digest,
                             "examples": int(len(rows)), "added": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
        man["parts"].append({"name": name, "file": file_id, "count": int(len(rows))})
        man["documents"] = int(man["documents"]) + int(len(rows))
        tmp = self.dir / "manifest.json.tmp"
        tmp.write_text(json.dumps(man, indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, self.dir / "manifest.json")  # the manifest names a part only once it is complete
        self.manifest = man
        return int(len(rows))


class RedisIndex:
    """datasketch ``MinHashLSH`` on Redis (see the module doc); ``address`` is ``HOST:PORT``."""

    def __init__(self, address: str, config: MinHashConfig, compare: str, basename: str = "dataprep"):
        try:
            import redis
        except ImportError:
            raise IndexUnusable("--redis needs the redis package (pip install redis)") from None
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit():
            raise IndexUnusable(f"--redis takes HOST:PORT, got {address!r}")
        self.name = f"redis://{address}/{basename}"
        self.config = config
        self.base = basename.encode()
        self.client = redis.Redis(host=host, port=int(port))
        try:
            stored = self.client.get(self.base + b":params")
        except redis.exceptions.ConnectionError as e:
            raise IndexUnusable(f"cannot reach redis at {address}: {e}") from None
        params = index_params(config, compare) | {"bands_rows": list(config.bands_rows)}
        if stored is not None and (msg := _mismatch(json.loads(stored), params, self.name)):
            raise IndexUnusable(msg)
        self.params = params
        self.lsh = datasketch_lsh(config, {"type": "redis", "basename": self.base,
                                           "redis": {"host": host, "port": int(port)}})

    def check(self, profile, ex: np.ndarray):
        from .analyze import Leak

        profile.require("sketch", "checking against an index")
        from .analyze import example_sketch

        sigs, exact = example_sketch(profile, ex)
        n = len(ex)
        kind = np.zeros(n, np.uint8)
        sim = np.zeros(n, np.float32)
        src: list[str | None] = [None] * n
        if n:
            found = self.client.hmget(self.base + b":exact", [int(x).to_bytes(8, "little") for x in exact.tolist()])
            for i, v in enumerate(found):
                if v is not None:
                    kind[i], sim[i], src[i] = L_EXACT, 1.0, v.decode()
        todo = np.flatnonzero((kind == 0) & ~is_empty(sigs))
        for i, m in zip(todo.tolist(), lean_minhashes(sigs[todo], self.config)):
            keys = self.lsh.query(m)
            if not keys:
                continue
            cand = self.client.hmget(self.base + b":sig", [k.encode() for k in keys])
            best, best_key = -1.0, None
            for k, raw in zip(keys, cand):
                if raw is None:
                    continue
                s = float(np.count_nonzero(np.frombuffer(raw, dtype=np.uint32) == sigs[i])) / sigs.shape[1]
                if s > best:
                    best, best_key = s, k
            if best_key is not None and best >= self.config.threshold:
                kind[i], sim[i], src[i] = L_NEAR, best, self._describe(best_key)
        hit = np.flatnonzero(kind)
        return Leak(profile.path, n, ex[hit] + 1, [src[i] for i in hit.tolist()], kind[hit], sim[hit], self.name)

    def _describe(self, key: str) -> str:
        sha, _, line = key.rpartition(":")
        path = self.client.hget(self.base + b":files", sha.encode())
        return f"{path.decode() if path else sha} line {line}"

    def add(self, profile, rows: np.ndarray, *, source: str | None = None) -> int:
        from dataprep.cache import content_hash

        profile.require("sketch", "adding to an index")
        digest = content_hash(profile.path)[:32]
        if self.client.hexists(self.base + b":files", digest.encode()):
            return 0
        rows = np.asarray(rows, dtype=np.int64)
        sigs, exact = profile.signatures[rows], profile.exact[rows]
        keys = [f"{digest}:{r + 1}" for r in rows.tolist()]
        with self.lsh.insertion_session() as session:
            for k, m in zip(keys, lean_minhashes(sigs, self.config)):
                session.insert(k, m, check_duplication=False)
        pipe = self.client.pipeline()
        for k, s, e in zip(keys, sigs, exact.tolist()):
            pipe.hset(self.base + b":sig", k.encode(), s.tobytes())
            pipe.hsetnx(self.base + b":exact", int(e).to_bytes(8, "little"), f"{source or profile.path} line {k.rpartition(':')[2]}")
        pipe.hset(self.base + b":files", digest.encode(), source or profile.path)
        pipe.set(self.base + b":params", json.dumps(self.params))
        pipe.execute()
        return int(len(rows))
