"""Rate and precision of the warning rules that cried wolf (DP306, DP309) on real data.

Converts ../shared/data (LLaMA-Factory's public demos) to chat JSONL, runs each rule, and scores
its findings against the hand labels in benchmarks/labels/ (labelled before the rules were
narrowed: every finding the old rule gave is there). A finding with no label is printed so that
it can be labelled. DP309 also runs on tests/data/language_mismatch.jsonl (3 planted positives).

    python benchmarks/rule_precision.py [--data ../shared/data] [--markdown]
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOOD = {"DP306": {"cut"}, "DP309": {"unasked"}}
DATASETS = {  # file of ../shared/data -> its dataset_info.json entry
    "alpaca_en_demo.json": "alpaca_en_demo", "dpo_zh_demo.json": "dpo_zh_demo", "kto_en_demo.json": "kto_en_demo",
    "sharegpt_dpo_en_demo.json": "dpo_en_demo", "sharegpt_toolcall_en_demo.json": "glaive_toolcall_en_demo",
}
OUT_NAME = {"sharegpt_dpo_en_demo.json": "sharegpt_dpo_en.jsonl", "sharegpt_toolcall_en_demo.json": "toolcall_en.jsonl"}


def labels(rule: str) -> dict[tuple[str, int], str]:
    path = ROOT / "benchmarks" / "labels" / f"{rule.lower()}.tsv"
    rows = csv.reader((x for x in path.open(encoding="utf-8") if not x.startswith("#")), delimiter="\t")
    next(rows)
    return {(r[0], int(r[1])): r[2] for r in rows}


def convert_all(data: Path, out: Path) -> list[Path]:
    from dataprep.io.convert import convert, dataset_spec

    files = []
    for name, entry in DATASETS.items():
        spec = dataset_spec(str(data / "dataset_info.json"), entry)
        dest = out / OUT_NAME.get(name, Path(name).stem + ".jsonl")
        convert(str(data / name), str(dest), source=spec.source, mapping=spec.mapping)
        files.append(dest)
    return files


def findings(rule: str, files: list[Path]) -> list[tuple[str, int]]:
    if rule == "DP306":
        from dataprep.validate import validate

        res = validate([str(f) for f in files], select=[rule], cache=False)
        return [(Path(f.path).name, f.line) for f in res.findings if f.rule == rule]
    from dataprep.diversity.analyze import analyze
    from dataprep.scan import scan

    out = []
    for f in files:
        prof = scan(str(f), cache=False, sketch=False, content=False)
        res = analyze(prof, full_language=True, jobs=2)
        out += [(f.name, x.line) for x in res.findings if x.rule == rule]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = convert_all(Path(args.data), Path(tmp))
        examples = sum(sum(1 for _ in f.open("rb")) for f in files)
        rows = []
        for rule in ("DP306", "DP309"):
            lab = labels(rule)
            got = findings(rule, files)
            planted = []
            if rule == "DP309":
                planted = findings(rule, [ROOT / "tests" / "data" / "language_mismatch.jsonl"])
            unlabelled = [g for g in got if g not in lab]
            good = sum(1 for g in got if lab.get(g) in GOOD[rule]) + sum(1 for _, line in planted if line <= 3)
            flagged = len(got) + len(planted)
            before_good = sum(1 for v in lab.values() if v in GOOD[rule])
            rows.append({"rule": rule, "conversations": examples, "flagged before": len(lab),
                         "precision before": f"{before_good / len(lab):.0%}" if lab else "n/a",
                         "flagged now": len(got), "planted found": f"{sum(1 for _, ln in planted if ln <= 3)}/3"
                         if rule == "DP309" else "-", "precision now": f"{good / flagged:.0%}" if flagged else "n/a",
                         "unlabelled": unlabelled})
    if args.markdown:
        keys = [k for k in rows[0] if k != "unlabelled"]
        print("| " + " | ".join(keys) + " |")
        print("|" + "---|" * len(keys))
        for r in rows:
            print("| " + " | ".join(str(r[k]) for k in keys) + " |")
    else:
        print(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
