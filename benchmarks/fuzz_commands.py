"""Every command on files of mutated real examples: no traceback, exit 0/1/2, no planted secret in
any report, bounded time.

    python benchmarks/fuzz_commands.py [--seeds 1 2 3] [--lines 300] [--commands validate ...]

Each seed writes one file: lines of ``sample_data/*.jsonl`` (every format there: chat, tools,
DPO, Alpaca, prompt-completion, text), each changed 1-3 times at random places of its JSON tree
(a value replaced by one of ``VALUES``: wrong types, huge and deep values, lone surrogates, NUL,
secrets, template tokens, odd content parts; a key deleted; a list item duplicated), a few lines
cut short, made invalid UTF-8, NUL-prefixed or blank; ~12% repeated lines; sometimes a BOM and
CRLF. The secrets sit where structure is wrong as well as in text, so a finding that quotes a
value shows whether it is masked. Data files a command writes on purpose (dedup --out, split,
convert, fix, rejects) are the user's lines and are not searched.

Found so far: structural findings quoted a secret used as a role, a key or a schema type in full
(fixed: messages and pointers are masked where findings are made).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_robustness import COMMANDS, run_one  # noqa: E402

SAMPLES = HERE.parent / "sample_data"
SECRETS = ("sk-" + "A" * 48, "AKIAQ3EGUTZ6XMPL4KWJ", "ghp_" + "b7" * 18)


def _deep(n: int, rng: random.Random):
    v: object = "x"
    for _ in range(n):
        v = [v] if rng.random() < 0.5 else {"a": v}
    return v


def values(rng: random.Random) -> list:
    """What a mutation puts in place of a value."""
    return [None, True, 0, -1, 1.5e308, 2**70, "", " ", "x" * 200_000, [], {}, _deep(60, rng),
            {"type": "text"}, {"type": "text", "text": None}, {"type": "image_url", "image_url": None},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
            [{"type": "text", "value": "hi"}], "\ud800 lone", "nul \u0000 char", *SECRETS, "<|im_start|>",
            "{{name}}", {"role": "assistant"}, {"role": "user", "content": []}, [{"role": "tool", "content": "x"}],
            "assistant", "user", {"name": "f", "arguments": "{not json"},
            [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {}}}],
            "日本語のテキストです。" * 20, "مرحبا " * 30, [1, 2, 3], {"messages": []}]


def _paths(v, pre=()):
    yield pre
    if isinstance(v, dict):
        for k in list(v):
            yield from _paths(v[k], pre + (k,))
    elif isinstance(v, list):
        for i, x in enumerate(v[:6]):
            yield from _paths(x, pre + (i,))


def _mutate(rec, rng: random.Random, pool: list) -> None:
    places = [p for p in _paths(rec) if p]
    if not places:
        return
    *head, last = rng.choice(places)
    parent = rec
    for k in head:
        parent = parent[k]
    op = rng.choice(("set", "set", "set", "del", "dup"))
    if op == "del":
        parent.pop(last) if isinstance(parent, list) else parent.pop(last, None)
    elif op == "dup" and isinstance(parent, list):
        parent.insert(last, json.loads(json.dumps(parent[last])))
    else:
        parent[last] = json.loads(json.dumps(rng.choice(pool)))


def fuzz_file(path: Path, seed: int, lines: int = 300) -> Path:
    """Write one fuzzed JSONL file (deterministic for a seed)."""
    rng = random.Random(seed)
    src = []
    for p in sorted(SAMPLES.glob("*.jsonl")):
        if p.name != "broken.jsonl":
            src += [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]
    pool = values(rng)
    out: list[bytes] = []
    for _ in range(lines):
        rec = json.loads(json.dumps(rng.choice(src)))
        for _ in range(rng.choice((1, 1, 2, 3))):
            _mutate(rec, rng, pool)
        b = json.dumps(rec, ensure_ascii=rng.random() < 0.5).encode("utf-8", "surrogatepass")
        x = rng.random()
        if x < 0.03:
            b = b[: rng.randrange(1, max(2, len(b)))]
        elif x < 0.05:
            b = b.replace(b'"', b"\xff", 1)
        elif x < 0.06:
            b = b"\x00" * 10 + b
        elif x < 0.07:
            b = b"   "
        out.append(b)
    out += [rng.choice(out) for _ in range(lines // 8)]
    rng.shuffle(out)
    sep = b"\r\n" if rng.random() < 0.3 else b"\n"
    path.write_bytes((b"\xef\xbb\xbf" if rng.random() < 0.2 else b"") + sep.join(out) + sep)
    return path


DATA_OUTPUTS = ("kept.jsonl", "converted.jsonl", "fixed.jsonl", "rejects.jsonl", "converted.rejects.jsonl")


def leaked(folder: Path, text: str) -> list[str]:
    """Where a planted secret shows: the command's output, or a report file it wrote."""
    found = [f"output: {s[:8]}" for s in SECRETS if s in text]
    for f in folder.rglob("*"):
        if f.is_file() and f.name not in DATA_OUTPUTS and "split" not in f.parts and "data" not in f.parts:
            body = f.read_bytes().decode("utf-8", "replace")
            found += [f"{f.relative_to(folder)}: {s[:8]}" for s in SECRETS if s in body]
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--lines", type=int, default=300)
    ap.add_argument("--commands", nargs="+", default=[c for c in COMMANDS if c != "tui"])
    ap.add_argument("--timeout", type=float, default=60)
    a = ap.parse_args()
    dataprep = str(Path(sys.executable).with_name("dataprep"))
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            data = fuzz_file(Path(tmp) / f"fuzz{seed}.jsonl", seed, a.lines)
            for cmd in a.commands:
                with tempfile.TemporaryDirectory() as o:
                    argv = [dataprep] + [x.format(f=data, o=o) for x in COMMANDS[cmd]]
                    r = run_one(argv, a.timeout, o)
                    leaks = leaked(Path(o), r["output"])
                ok = not r["traceback"] and r["exit"] in (0, 1, 2) and not leaks
                bad += not ok
                print(f"seed {seed:3} {cmd:14} {r['wall_s']:6.1f} s  exit {r['exit']!s:>7}  "
                      f"traceback {'YES' if r['traceback'] else 'no':3}  leaks {', '.join(leaks) or 'none'}")
                if not ok:
                    print("    " + r["tail"].replace("\n", "\n    "))
    print(f"{bad} bad run(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
