"""Prove that a change to the scan changed no result: dump everything a scan produces, compare later.

    python benchmarks/check_identical.py save /tmp/scan_ref.pkl     # before the change
    python benchmarks/check_identical.py compare /tmp/scan_ref.pkl  # after: exit 1 on any difference
    python benchmarks/check_identical.py jobs                       # --jobs 2 (parallel shards) == --jobs 1

The corpus: every sample file, every rule's bad and fixed example (so every rule fires), lines
written to trip the content rules' fast paths (PII, secrets, mojibake, repetition, CJK, lone
surrogates, duplicate keys, CRLF), and the first 20,000 lines of benchmarks/data/chat100k.jsonl
when it exists. Each file is scanned with jobs=1 and no cache, whole and cut into small shards,
with content rules off, with another compare mode and another tokenizer. What is compared:
rows, findings (with line, column, pointer, message), file state, signatures, exact keys,
system prompts, text-feature rows and lexical metrics, and validate()'s JSON.
"""

from __future__ import annotations

import importlib
import os
import pickle
import random
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).parent
ROOT = HERE.parent
S = importlib.import_module("dataprep.scan")

EXTRA = [
    b'{"messages":[{"role":"user","content":"call 555-123-4567 or mail a@b.com, card 4111 1111 1111 1111, ip 8.8.8.8, '
    b'iban GB82 WEST 1234 5698 7654 32"},{"role":"assistant","content":"As an AI language model I cannot help with that, and"}]}',
    b'{"messages":[{"role":"user","content":"key sk-abcdefghijklmnopqrstuvwx1234 AKIAABCDEFGHIJKLMNOP \\u00c3\\u00a9 \\ufffd '
    b'\\u0001"},{"role":"assistant","content":"```python\\nprint(1)"}]}',
    b'{"messages":[{"role":"user","content":"x"},{"role":"user","content":"y"},{"role":"assistant","content":"ok","weight":0}],'
    b'"messages":[]}',
    b'{"messages":[{"role":"user","content":"\\u0022a\\u0022"},{"role":"assistant","content":"fine.", "name":"bob"}]}',
    b'{"messages": [{"role": "system", "content": "Mail ops@example.org <|im_start|>"}, {"role": "user", "content": "hi"},'
    b' {"role": "assistant", "content": "Hello."}]}',
    b'{"a":1, "a" :2}', b'{"a":{"b":1,"b":2}}', b"  ", b"", b"[1,2]", b'"str"', b"{bad json", b"\xff\xfe{}",
    b'{"messages":[{"role":"user","content":[{"type":"text","text":"hi <|im_start|> {{name}}"},{"type":"image_url",'
    b'"image_url":{"url":"https://x/y.png"}}]},{"role":"assistant","content":"done."}]}',
    b'{"messages":[{"role":"user","content":"' + b"loop loop again " * 60 + b'"},{"role":"assistant","content":"'
    + b"again and again we go " * 40 + b'"}]}',
    b'{"messages":[{"role":"user","content":"\\u65e5\\u672c\\u8a9e\\u306e\\u6587\\u7ae0 caf\\u00e9 na\\u00efve \\u200bzero"},'
    b'{"role":"assistant","content":"\\u00dcber stra\\u00dfe \\ud83d\\ude00 ok \\ud800."}]}',
    b'{"messages":[{"role":"user","content":"v 1.2.3.4 and 10.0.0.1, tel +44 (20) 7946 0958, DE89370400440532013000"},'
    b'{"role":"assistant","content":"Noted: 4111-1111-1111-1111 and 123.45."}]}',
]


def corpus(tmp: Path) -> list[str]:
    from dataprep.schema.catalog import all_rules

    lines = []
    for r in all_rules().values():
        if not r.bad.startswith("# description:"):
            lines += [r.bad.encode(), r.fixed.encode()]
    for name in ("broken.jsonl", "dpo.jsonl", "tools.jsonl", "multilingual.jsonl", "support_chat.jsonl"):
        lines += (ROOT / "sample_data" / name).read_bytes().splitlines()
    lines += EXTRA * 3
    rng = random.Random(1)
    lines = lines * 4
    rng.shuffle(lines)
    tricky = tmp / "tricky.jsonl"
    with open(tricky, "wb") as f:
        for i, ln in enumerate(lines):
            f.write(ln + (b"\r\n" if i % 97 == 0 else b"\n"))
    files = [str(tricky)] + [str(ROOT / "sample_data" / n) for n in
                             ("multilingual.jsonl", "dpo.jsonl", "tools.jsonl", "broken.jsonl", "alpaca.jsonl")]
    big = HERE / "data" / "chat100k.jsonl"
    if big.exists():
        part = tmp / "chat20k.jsonl"
        with open(big, "rb") as src, open(part, "wb") as dst:
            for _, ln in zip(range(20_000), src):
                dst.write(ln)
        files.append(str(part))
    return files


def dump(path: str, shard: int | None = None, jobs: int = 1, **kw) -> dict:
    from dataprep.diversity.lexical import lexical_metrics

    old = S.SHARD_BYTES
    if shard:
        S.SHARD_BYTES = shard
    try:
        p = S.scan(path, jobs=jobs, cache=False, **kw)
    finally:
        S.SHARD_BYTES = old
    tf = p.text
    return {
        "format": p.format, "size": p.size, "rows": p.rows.to_dicts(),
        "findings": [(f.to_dict(), f.line, f.column) for f in p.findings],
        "state": (p.state.lines, p.state.blank, p.state.records, p.state.valid, p.state.crlf, p.state.first_crlf,
                  {k: list(v) for k, v in p.state.format_lines.items()}),
        "signatures": p.signatures.copy(), "exact": p.exact.copy(), "system_prompts": p.system_prompts,
        "text": None if tf is None else (
            tf.examples, tf.rows.to_dicts(), {r: lexical_metrics(x) for r, x in tf.lexicon.items()},
            {r: (x.ngrams, x.distinct, x.mattr_windows, x.mtld_full) for r, x in tf.lexicon.items()}),
    }


def collect(files: list[str]) -> dict:
    from dataprep.validate import validate

    tricky = files[0]
    out = {Path(f).name: dump(f) for f in files}
    out["tricky, 50 kB shards"] = dump(tricky, 50_000)
    out["tricky, compare=user, no content rules"] = dump(tricky, compare="user", content=False)
    out["tricky, compare=assistant, gpt-3.5 tokens"] = dump(tricky, compare="assistant", model="gpt-3.5-turbo-0125")
    out["validate"] = validate(files).to_dict()
    for v in out["validate"]["files"]:
        v["path"] = Path(v["path"]).name
        for f in v["findings"]:
            f["path"] = Path(f["path"]).name
    return out


def diff(a, b, where: str = "") -> list[str]:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        ok = isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
        return [] if ok else [f"{where}: arrays differ"]
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return [f"{where}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"]
        return [d for k in a for d in diff(a[k], b[k], f"{where}/{k}")]
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        if len(a) != len(b):
            return [f"{where}: length {len(a)} != {len(b)}"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and isinstance(b, float) and np.isnan(a) and np.isnan(b):
        return []
    return [] if a == b else [f"{where}: {str(a)[:120]!r} != {str(b)[:120]!r}"]


def strip_paths(d: dict, tmp: Path) -> dict:
    """Findings carry the scanned path; the corpus lives in a fresh temporary directory."""
    for v in d.values():
        for f, _, _ in v.get("findings", []) if isinstance(v, dict) else []:
            f["path"] = Path(f["path"]).name
    return d


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("save", "compare", "jobs") or (argv[0] != "jobs" and len(argv) < 2):
        print(__doc__)
        return 2
    with tempfile.TemporaryDirectory() as t:
        tmp = Path(t)
        files = corpus(tmp)
        if argv[0] == "jobs":
            # Force the parallel path on small files: shards of 50 kB, two processes.
            problems = []
            for f in files:
                problems += diff(strip_paths({"x": dump(f)}, tmp), strip_paths({"x": dump(f, 50_000, jobs=2)}, tmp),
                                 Path(f).name)
            print("\n".join(problems[:40]) or f"jobs=2 identical to jobs=1 on {len(files)} files")
            return 1 if problems else 0
        print(f"scanning with {S.__file__}")
        out = strip_paths(collect(files), tmp)
    if argv[0] == "save":
        with open(argv[1], "wb") as f:
            pickle.dump(out, f)
        print(f"saved {len(out)} results to {argv[1]}")
        return 0
    with open(argv[1], "rb") as f:
        ref = pickle.load(f)
    problems = diff(ref, out)
    print("\n".join(problems[:40]) or f"identical: {len(out)} results")
    return 1 if problems else 0


if __name__ == "__main__":
    os.environ.setdefault("POLARS_MAX_THREADS", "1")
    sys.exit(main(sys.argv[1:]))
