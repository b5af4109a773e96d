"""Language identification: per-example accuracy on a labelled mix of real data, with confusion tables.

The mix (labels are the language each source is written in; the multilingual sample's German and
Spanish lines were read and listed by hand):

- en: LLaMA-Factory's alpaca_en_demo (instruction + input / output) and the first user / last
  assistant turn of sharegpt_toolcall_en_demo;
- zh: dpo_zh_demo, first user turn / chosen reply;
- en, de, es: sample_data/multilingual.jsonl (first user / last assistant message).

An example's language is what the diversity report uses: the reply's when determined, else the
prompt's (``language.example_language``). Two detectors run on the same texts in the same run:

- ``script+langdetect``: ``dataprep.diversity.language.detect_one`` (script first, langdetect
  restricted to the script's languages, 'und' only for too few letters);
- ``langdetect (before)``: the previous detector, plain langdetect on the cleaned text, 'und'
  below 20 letters or below probability 0.80 (kept here as the peer).

It also prints the shares a 50/50 English/Chinese mix of real instructions gets (equal numbers
of alpaca_en_demo and dpo_zh_demo examples), and texts per second for both (same-run ratio).

    python benchmarks/bench_language.py [--data ../shared/data] [--per-source N]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dataprep.diversity.language import (  # noqa: E402
    MAX_CHARS,
    MIN_LETTERS,
    UND,
    _init,
    clean_text,
    detect_one,
    example_language,
)

# multilingual.jsonl lines (1-based) by language, read by hand; every other line is English.
MULTILINGUAL = {4: "es", 10: "es", 16: "es", 30: "es", 32: "es", 58: "es",
                15: "de", 31: "de", 35: "de", 40: "de", 48: "de", 59: "de"}


def before_detect_one(text: str | None) -> tuple[str, float]:
    """The detector as it was: plain langdetect, 'und' under 20 letters or probability 0.80."""
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    DetectorFactory.seed = 0
    t = clean_text(text or "")
    if len(t) < MIN_LETTERS:
        return UND, 0.0
    import re

    if len(re.findall(r"[^\W\d_]", t[: 4 * MAX_CHARS])) < MIN_LETTERS:
        return UND, 0.0
    try:
        best = detect_langs(t[:MAX_CHARS])[0]
    except LangDetectException:
        return UND, 0.0
    lang = "zh" if best.lang.startswith("zh-") else best.lang
    return (lang if best.prob >= 0.80 else UND), float(best.prob)


def load_mix(data: Path, per_source: int | None) -> list[tuple[str, str, str, str]]:
    """(source, label, user text, assistant text) per example."""
    out: list[tuple[str, str, str, str]] = []

    def cut(rows):
        return rows[:per_source] if per_source else rows

    for r in cut(json.loads((data / "alpaca_en_demo.json").read_text())):
        user = r["instruction"] + ("\n\n" + r["input"] if r.get("input") else "")
        out.append(("alpaca_en_demo", "en", user, r["output"]))
    for r in cut(json.loads((data / "sharegpt_toolcall_en_demo.json").read_text())):
        turns = r["conversations"]
        user = next(t["value"] for t in turns if t["from"] == "human")
        reply = [t["value"] for t in turns if t["from"] == "gpt"]
        out.append(("sharegpt_toolcall_en_demo", "en", user, reply[-1] if reply else ""))
    for r in cut(json.loads((data / "dpo_zh_demo.json").read_text())):
        user = next(t["value"] for t in r["conversations"] if t["from"] == "human")
        out.append(("dpo_zh_demo", "zh", user, r["chosen"]["value"]))
    for i, line in enumerate((ROOT / "sample_data" / "multilingual.jsonl").read_text().splitlines(), 1):
        msgs = json.loads(line)["messages"]
        user = next(m["content"] for m in msgs if m["role"] == "user")
        reply = [m["content"] for m in msgs if m["role"] == "assistant"][-1]
        out.append(("multilingual", MULTILINGUAL.get(i, "en"), user, reply))
    return out


def run(detector, mix) -> tuple[list[str], float, int, list[str]]:
    """Example languages, seconds, texts detected, and the prompts' own languages."""
    t0 = time.perf_counter()
    langs, prompts = [], []
    for _, _, user, reply in mix:
        u = detector(user)[0]
        a = detector(reply)[0]
        langs.append(example_language(u, a))
        prompts.append(u)
    return langs, time.perf_counter() - t0, 2 * len(mix), prompts


def confusion(labels: list[str], pred: list[str]) -> str:
    truth = sorted(set(labels))
    cols = [c for c, _ in Counter(pred).most_common()]
    cols = [c for c in truth if c in cols] + [c for c in cols if c not in truth]
    head = "| true \\ detected | " + " | ".join(cols) + " | accuracy |"
    lines = [head, "|" + "---|" * (len(cols) + 2)]
    for t in truth:
        row = Counter(p for lab, p in zip(labels, pred) if lab == t)
        n = sum(row.values())
        lines.append(f"| {t} ({n}) | " + " | ".join(str(row.get(c, 0)) for c in cols)
                     + f" | {row.get(t, 0) / n:.1%} |")
    return "\n".join(lines)


def shares(pred: list[str]) -> str:
    c = Counter(pred)
    return ", ".join(f"{k} {v / len(pred):.1%}" for k, v in c.most_common())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data",
                    help="LLaMA-Factory's demo files (alpaca_en_demo.json, dpo_zh_demo.json, ...)")
    ap.add_argument("--per-source", type=int, default=None, help="at most N examples per source file")
    args = ap.parse_args()
    if not (args.data / "dpo_zh_demo.json").exists():
        sys.exit(f"error: {args.data} has no dpo_zh_demo.json; pass --data DIR")
    _init()
    mix = load_mix(args.data, args.per_source)
    labels = [m[1] for m in mix]
    print(f"labelled mix: {len(mix)} examples ({', '.join(f'{k} {v}' for k, v in Counter(labels).items())}); "
          f"sources: {', '.join(f'{k} {v}' for k, v in Counter(m[0] for m in mix).items())}\n")
    results = {}
    for name, det in (("script+langdetect", detect_one), ("langdetect (before)", before_detect_one)):
        pred, secs, texts, prompts = run(det, mix)
        results[name] = (pred, secs, texts, prompts)
        acc = sum(p == t for p, t in zip(pred, labels)) / len(mix)
        und = pred.count(UND) / len(mix)
        print(f"## {name}: per-example accuracy {acc:.1%}, undetermined {und:.1%}, "
              f"{texts / secs:,.0f} texts/s\n")
        print(confusion(labels, pred))
        p_acc = sum(p == t for p, t in zip(prompts, labels)) / len(mix)
        print(f"\nprompts alone (instructions, often short): accuracy {p_acc:.1%}, "
              f"undetermined {prompts.count(UND) / len(mix):.1%}\n")
        print(confusion(labels, prompts))
        print()
    new_secs = results["script+langdetect"][1]
    old_secs = results["langdetect (before)"][1]
    print(f"speed: script+langdetect takes {new_secs / old_secs:.2f}x the time of the plain detector "
          "(same run, same texts)\n")

    # 50/50 English/Chinese mix of real instructions (equal counts of each source).
    en = [i for i, m in enumerate(mix) if m[0] == "alpaca_en_demo"]
    zh = [i for i, m in enumerate(mix) if m[0] == "dpo_zh_demo"]
    k = min(len(en), len(zh))
    pick = en[:k] + zh[:k]
    print(f"## 50/50 mix: {k} alpaca_en_demo + {k} dpo_zh_demo examples (truth: en 50.0%, zh 50.0%)")
    for name, (pred, _, _, prompts) in results.items():
        print(f"- {name}, examples: {shares([pred[i] for i in pick])}")
        print(f"- {name}, instructions alone: {shares([prompts[i] for i in pick])}")
    wrong = [(mix[i][0], mix[i][1], results["script+langdetect"][0][i], mix[i][3][:70].replace("\n", " "))
             for i in range(len(mix)) if results["script+langdetect"][0][i] != labels[i]]
    if wrong:
        print(f"\nmisses of script+langdetect ({len(wrong)}), first 10: source, label, detected, reply start")
        for w in wrong[:10]:
            print(f"- {w[0]} {w[1]} -> {w[2]}: {w[3]!r}")


if __name__ == "__main__":
    main()
