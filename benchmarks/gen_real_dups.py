"""A heavily duplicated chat corpus made of REAL text, with the truth of every line beside it.

    python benchmarks/gen_real_dups.py OUT.jsonl --examples 1000000 [--originals 24000] [--copies 40]

Real public text (/work/shared/data: alpaca_en_demo, sharegpt_*, dpo_zh_demo, kto_en_demo,
c4_demo; and the project's sample_data/) is converted to OpenAI chat (user + assistant turns).
There are only a few thousand real conversations, so further originals are made by recombining
real sentences: a real prompt, then an answer of 3-9 real sentences drawn from the pool. Each
output line is then one of:

* ``original``: the original itself (every original appears once as such, before its copies);
* ``exact``: the same conversation byte for byte (or only re-cased / re-spaced);
* ``edit``: a few words replaced, inserted or deleted (one edit per ~60 words, at least one);
* ``suffix``: a short real phrase appended to the answer;
* ``shuffle``: the answer's sentences swapped pairwise (most 5-word shingles survive);
* ``distinct``: a fresh recombination appearing once (no planted duplicate).

``OUT.truth.npy`` (int64, 2 columns) holds per line the original's id and the kind index
(``KINDS``); distinct lines have original id -1. Everything is seeded (``--seed``).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import orjson

DATA = Path("/work/shared/data")
SAMPLES = Path(__file__).resolve().parent.parent / "sample_data"
KINDS = ("original", "exact", "edit", "suffix", "shuffle", "distinct")
# Share of each kind among the copies (the originals and distinct lines come on top).
MIX = {"exact": 0.45, "edit": 0.25, "suffix": 0.15, "shuffle": 0.15}
DISTINCT_SHARE = 0.03
WORDS_PER_EDIT = 60
_SENT = re.compile(r"(?<=[.!?。！？])\s+|\n+")


def _sharegpt(turns) -> tuple[str, str] | None:
    user = [t.get("value", "") for t in turns if isinstance(t, dict) and t.get("from") in ("human", "user")]
    bot = [t.get("value", "") for t in turns if isinstance(t, dict) and t.get("from") in ("gpt", "assistant")]
    if not user:
        return None
    return "\n".join(user), "\n".join(bot)


def real_conversations() -> list[tuple[str, str]]:
    """(user text, assistant text) of every real example that has both."""
    out: list[tuple[str, str]] = []

    def add(pair):
        if pair and pair[0].strip() and pair[1].strip():
            out.append((pair[0], pair[1]))

    def load(name):
        p = DATA / name
        return json.loads(p.read_text(encoding="utf-8")) if p.exists() else []

    for r in load("alpaca_en_demo.json"):
        add((r["instruction"] + ("\n\n" + r["input"] if r.get("input") else ""), r["output"]))
    for name in ("sharegpt_dpo_en_demo.json", "dpo_zh_demo.json"):
        for r in load(name):
            u = _sharegpt(r.get("conversations", []))
            ch = r.get("chosen")
            if u and isinstance(ch, dict):
                add((u[0], ch.get("value", "")))
    for r in load("sharegpt_toolcall_en_demo.json"):
        add(_sharegpt(r.get("conversations", [])))
    for r in load("kto_en_demo.json"):
        m = r.get("messages", [])
        add(("\n".join(x["content"] for x in m if x.get("role") == "user"),
             "\n".join(x["content"] for x in m if x.get("role") == "assistant")))
    c4 = DATA / "c4_demo.jsonl"
    if c4.exists():
        for line in c4.read_text(encoding="utf-8").splitlines():
            text = orjson.loads(line).get("text", "")
            sents = [s for s in _SENT.split(text) if s.strip()]
            if len(sents) >= 3:
                add(("Continue this text: " + sents[0], " ".join(sents[1:])))
    for p in sorted(SAMPLES.glob("*.jsonl")):
        if p.name == "broken.jsonl":
            continue
        for line in p.read_text(encoding="utf-8").splitlines():
            try:
                r = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            m = r.get("messages") if isinstance(r, dict) else None
            if isinstance(m, list):
                def text(role, m=m):
                    return "\n".join(x["content"] for x in m if isinstance(x, dict) and x.get("role") == role
                                     and isinstance(x.get("content"), str))
                add((text("user"), text("assistant")))
    return out


class Corpus:
    """Originals (real + recombined) and the perturbations that make their copies."""

    def __init__(self, originals: int, seed: int):
        self.rng = random.Random(seed)
        real = real_conversations()
        self.prompts = [u for u, _ in real]
        self.sentences = sorted({s.strip() for _, a in real for s in _SENT.split(a)
                                 if (len(s.split()) >= 4 or len(s) >= 20) and len(s) <= 240})
        self.suffixes = sorted({s.strip() for s in self.sentences if 2 <= len(s.split()) <= 6 or len(s) <= 24})[:5000] \
            or ["Thanks!"]
        self.originals: list[tuple[str, str]] = list(real[:originals])
        while len(self.originals) < originals:
            self.originals.append(self.fresh())
        self.real = min(len(real), originals)

    def fresh(self) -> tuple[str, str]:
        r = self.rng
        prompt = r.choice(self.prompts)[:300]
        if r.random() < 0.5:  # a recombined prompt as well, so prompts do not repeat ~40 times each
            prompt = " ".join(r.sample(self.sentences, 2)) + "\n" + prompt.split("\n")[0]
        return prompt, " ".join(r.sample(self.sentences, r.randint(2, 6)))

    def perturb(self, conv: tuple[str, str], kind: str) -> tuple[str, str]:
        r = self.rng
        u, a = conv
        if kind == "exact":
            return (u, a) if r.random() < 0.7 else (u.upper() if r.random() < 0.5 else u, "  ".join(a.split(" ")))
        if kind == "edit":
            words = a.split(" ")
            for _ in range(max(1, len(words) // WORDS_PER_EDIT)):
                k = r.randrange(len(words))
                op = r.random()
                if op < 0.5:
                    words[k] = r.choice(r.choice(self.sentences).split())
                elif op < 0.75:
                    words.insert(k, r.choice(r.choice(self.sentences).split()))
                elif len(words) > 1:
                    del words[k]
            return u, " ".join(words)
        if kind == "suffix":
            return u, a + (" " if r.random() < 0.5 else "\n") + r.choice(self.suffixes)
        if kind == "shuffle":
            sents = [s for s in _SENT.split(a) if s]
            if len(sents) >= 2:
                k = r.randrange(len(sents) - 1)
                sents[k], sents[k + 1] = sents[k + 1], sents[k]
            return u, " ".join(sents)
        raise ValueError(kind)


def record(u: str, a: str) -> dict:
    return {"messages": [{"role": "user", "content": u}, {"role": "assistant", "content": a}]}


def generate(out: str, examples: int, originals: int, copies: int, seed: int) -> dict:
    """Write ``out`` and ``out.truth.npy``; returns counts per kind."""
    n_distinct = int(examples * DISTINCT_SHARE)
    n_orig = min(originals, max(1, (examples - n_distinct) // copies))
    c = Corpus(n_orig, seed)
    rng = np.random.default_rng(seed)
    n_copies = examples - n_distinct - n_orig
    kinds = list(MIX)
    kind = np.concatenate([
        np.zeros(n_orig, np.int64),
        1 + rng.choice(len(kinds), n_copies, p=np.array(list(MIX.values())) / sum(MIX.values())),
        np.full(n_distinct, KINDS.index("distinct"), np.int64),
    ])
    orig = np.concatenate([np.arange(n_orig), rng.integers(0, n_orig, n_copies), np.full(n_distinct, -1)])
    order = rng.permutation(examples)
    kind, orig = kind[order], orig[order]
    # Each original's "original" line must come before its copies: swap it to the first position.
    first = {}
    for i, o in enumerate(orig.tolist()):
        if o >= 0 and o not in first:
            first[o] = i
    is_orig = np.flatnonzero(kind == 0)
    for i in is_orig.tolist():
        f = first[int(orig[i])]
        if f != i:
            kind[i], kind[f] = kind[f], kind[i]
    with open(out, "wb") as fh:
        buf = []
        for k, o in zip(kind.tolist(), orig.tolist()):
            name = KINDS[k]
            if name == "distinct":
                u, a = c.fresh()
            elif name == "original":
                u, a = c.originals[o]
            else:
                u, a = c.perturb(c.originals[o], name)
            buf.append(orjson.dumps(record(u, a)))
            if len(buf) >= 8192:
                fh.write(b"\n".join(buf) + b"\n")
                buf.clear()
        if buf:
            fh.write(b"\n".join(buf) + b"\n")
    np.save(out + ".truth.npy", np.stack([orig, kind], axis=1))
    counts = {name: int(np.count_nonzero(kind == k)) for k, name in enumerate(KINDS)}
    return counts | {"real_originals": c.real, "originals": n_orig, "sentences": len(c.sentences)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out")
    ap.add_argument("--examples", type=int, default=1_000_000)
    ap.add_argument("--originals", type=int, default=24_000)
    ap.add_argument("--copies", type=int, default=40, help="lines per original on average (copies included)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    if a.examples < 1 or a.originals < 1 or a.copies < 1:
        print("error: --examples, --originals and --copies must be positive", file=sys.stderr)
        return 2
    t0 = time.perf_counter()
    counts = generate(a.out, a.examples, a.originals, a.copies, a.seed)
    mb = os.path.getsize(a.out) / 1e6
    print(f"wrote {a.out}: {a.examples:,} lines, {mb:,.0f} MB in {time.perf_counter() - t0:.1f}s; "
          + ", ".join(f"{k} {v:,}" for k, v in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
