"""Generate large synthetic chat JSONL files with realistic shapes, for benchmarks.

    python benchmarks/gen_chat.py OUT.jsonl --examples 1000000 [--seed 0] [--tools 0.1]
                                  [--shared-system-words 275]

Lengths follow a log-normal per message (median ~12 words user, ~26 words assistant), 1-4 turn
pairs, a system prompt on 85% of lines drawn from a few templates, 10% tool-calling examples.
About 600 bytes per line on average, like real SFT data (1M lines ~ 600 MB).

``--shared-system-words N``: every example instead starts with one and the same long system
prompt of N words (275 words is ~300 tokens with o200k_base and Qwen's vocabulary), as real
datasets built from one product's prompt do: the case where counting each distinct string once
pays most.
"""

from __future__ import annotations

import argparse
import random
import sys

import orjson

WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they "
    "you were her she there been one all we their has would when if so no will can more about said what out up "
    "them some could him into its then two time my like only other new over these also any may well first way "
    "even because most such where through how after back use our work years just those see people great state "
    "order shipping refund wheel brake chain frame tyre pedal saddle helmet light battery motor warranty invoice "
    "account password delivery tracking parcel size colour stock price discount voucher repair service workshop "
    "model training dataset token example prompt answer question python function error value list string number "
    "table query database server request response client cache memory thread process file path config version"
).split()
SYSTEMS = [
    "You are a helpful customer-support assistant for an online bike shop. Answer briefly and politely.",
    "You are a senior Python engineer. Explain clearly and give short code examples when useful.",
    "You are a friendly tutor. Keep answers simple and check understanding.",
    "You are an assistant that answers questions about orders, deliveries and returns.",
]
TOOLS = [{"type": "function", "function": {"name": "get_order_status", "description": "Look up an order",
                                           "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}},
                                                          "required": ["order_id"]}}}]


def sentence(rng: random.Random, n: int) -> str:
    w = rng.choices(WORDS, k=max(1, n))
    w[0] = w[0].capitalize()
    return " ".join(w) + rng.choice([".", ".", ".", "?", "!"])


def text(rng: random.Random, median_words: int) -> str:
    n = max(3, int(rng.lognormvariate(0, 0.6) * median_words))
    parts, left = [], n
    while left > 0:
        k = min(left, rng.randint(6, 18))
        parts.append(sentence(rng, k))
        left -= k
    return " ".join(parts)


def shared_system(words: int) -> str:
    """One long system prompt of about ``words`` words (its own seed: the same for every file)."""
    rng = random.Random(12345)
    parts, left = ["You are the support assistant of an online bike shop."], words - 10
    while left > 0:
        k = min(left, rng.randint(6, 18))
        parts.append(sentence(rng, k))
        left -= k
    return " ".join(parts)


def example(rng: random.Random, tools_share: float, system: str | None = None) -> dict:
    msgs = []
    if system is not None:
        msgs.append({"role": "system", "content": system})
    elif rng.random() < 0.85:
        msgs.append({"role": "system", "content": rng.choice(SYSTEMS)})
    if rng.random() < tools_share:
        oid = f"A{rng.randint(10000, 99999)}"
        msgs += [{"role": "user", "content": f"Where is order {oid}? " + text(rng, 12)},
                 {"role": "assistant", "content": None, "tool_calls": [
                     {"id": f"call_{rng.randint(1, 10**9)}", "type": "function",
                      "function": {"name": "get_order_status", "arguments": orjson.dumps({"order_id": oid}).decode()}}]}]
        msgs.append({"role": "tool", "tool_call_id": msgs[-1]["tool_calls"][0]["id"], "content": '{"status": "shipped"}'})
        msgs.append({"role": "assistant", "content": text(rng, 30)})
        return {"messages": msgs, "tools": TOOLS}
    for _ in range(rng.choice([1, 1, 1, 2, 2, 3, 4])):
        msgs.append({"role": "user", "content": text(rng, 12)})
        msgs.append({"role": "assistant", "content": text(rng, 26)})
    return {"messages": msgs}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--examples", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tools", type=float, default=0.1)
    ap.add_argument("--shared-system-words", type=int, default=0,
                    help="every example starts with one shared system prompt of about this many words")
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    system = shared_system(args.shared_system_words) if args.shared_system_words > 0 else None
    with open(args.out, "wb") as f:
        buf = []
        for _i in range(args.examples):
            buf.append(orjson.dumps(example(rng, args.tools, system)))
            if len(buf) == 10_000:
                f.write(b"\n".join(buf) + b"\n")
                buf = []
        if buf:
            f.write(b"\n".join(buf) + b"\n")
    print(f"wrote {args.examples} examples to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
