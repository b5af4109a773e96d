"""Hostile and degenerate corpora for the robustness matrix (bench_robustness.py) and its tests.

    python benchmarks/gen_hostile.py hostile OUT.jsonl [--huge-mb 12]
    python benchmarks/gen_hostile.py templated OUT.jsonl [--examples 2000] [--templates 10]

``hostile``: ordinary chat lines around the lines real users send by accident: one line of
``--huge-mb`` MB of text, 5,000-deep nesting, one character repeated 1M times in a reply, lone
surrogate escapes, a NUL byte, invalid UTF-8, a truncated line, a JSON array, a BOM and CRLF.
``templated``: ``--examples`` examples made from ``--templates`` sentence templates with a number
filled in ("Please summarise ticket 17 about billing."): the degenerate diversity case.
"""

from __future__ import annotations

import argparse
import random

import orjson


def chat(user: str, assistant: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": assistant}]})


def hostile_lines(huge_mb: int = 12) -> list[bytes]:
    ok = [chat(f"How do I reset my password, attempt {i}?", f"Open Settings, choose Security, then Reset ({i}).")
          for i in range(20)]
    huge = chat("Summarise this log.", "word " * (huge_mb * 1024 * 1024 // 5))
    deep = b'{"messages": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    deep_obj = b'{"messages": [{"role": "user", "content": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}]}"
    run = chat("Say something.", "a" * 1_000_000)
    surrogate = b'{"messages": [{"role": "user", "content": "x \\ud800 y"}, {"role": "assistant", "content": "\\udfff"}]}'
    nul = chat("null byte", "before\x00after")
    raw_nul = b'{"messages": [{"role": "user", "content": "a\x00b"}]}'
    bad_utf8 = b'{"messages": [{"role": "user", "content": "caf\xe9"}, {"role": "assistant", "content": "ok"}]}'
    truncated = chat("cut", "this line ends early")[:-7]
    array = b"[" + chat("in an array", "yes") + b"]"
    crlf = chat("windows", "line ending") + b"\r"
    binary = bytes(range(256))
    lines = [b"\xef\xbb\xbf" + ok[0]] + ok[1:5] + [huge, deep, deep_obj, run, surrogate, nul, raw_nul, bad_utf8,
                                                     truncated, array, crlf, binary] + ok[5:]
    return lines


TEMPLATES = [
    "Please summarise ticket {n} about billing.",
    "Translate order {n} into French.",
    "What is the status of shipment {n}?",
    "Write a haiku about invoice {n}.",
    "List the steps to close account {n}.",
    "Explain error code {n} to a customer.",
    "Draft a reply to complaint {n}.",
    "Classify message {n} as spam or not.",
    "Extract the date from note {n}.",
    "Rate review {n} from one to five.",
]


def templated_lines(examples: int = 2000, templates: int = 10, seed: int = 0) -> list[bytes]:
    rng = random.Random(seed)
    out = []
    for i in range(examples):
        t = TEMPLATES[i % min(templates, len(TEMPLATES))]
        n = rng.randrange(1, 10_000)
        out.append(chat(t.format(n=n), f"Done: {t.format(n=n).rstrip('.?')}."))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kind", choices=["hostile", "templated"])
    ap.add_argument("out")
    ap.add_argument("--huge-mb", type=int, default=12)
    ap.add_argument("--examples", type=int, default=2000)
    ap.add_argument("--templates", type=int, default=10)
    a = ap.parse_args()
    lines = hostile_lines(a.huge_mb) if a.kind == "hostile" else templated_lines(a.examples, a.templates)
    with open(a.out, "wb") as fh:
        fh.write(b"\n".join(lines) + b"\n")
    print(f"wrote {len(lines):,} lines to {a.out}")


if __name__ == "__main__":
    main()
