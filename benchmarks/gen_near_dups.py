"""Synthetic chat dataset with exact and near duplicates planted at known rates, plus the truth.

    python benchmarks/gen_near_dups.py OUT.jsonl --n 100000 [--truth OUT.truth.json]

Documents are chat examples: an optional system prompt from a small shared pool, a user turn
from a question template around Zipf-sampled topic words, and an assistant answer of Zipf-sampled
sentences (lognormal length, median ~90 words; 15% are short classification-style answers whose
text is dominated by the shared prompt, the hard negatives for precision).

Planted copies of an earlier document (its "group"):

* ``exact``   byte-identical copy;
* ``surface`` casing, punctuation and whitespace changes only (identical after normalisation);
* ``near``    1 word edit per 80 words (at least one; substitute, insert, delete or swap two
  adjacent words) on top of surface noise, only from sources of >= 70 words; 20% of near copies
  copy an earlier near copy, so a group can be a chain.

Why one edit per 80 words: with 5-word shingles one edit replaces about 5 shingles, so a text of
S words with k edits has J ~ (S - 5k) / (S + 5k); one edit in the middle of 40 words is already
J = 0.76, below the default threshold 0.8. At 1 per 80 words planted pairs sit around J = 0.85-0.95.

Every document is generated from (seed, index) alone, so any worker can render any shard.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from dataclasses import dataclass

import numpy as np

BASE, EXACT, SURFACE, NEAR = 0, 1, 2, 3
KIND_NAMES = ("base", "exact", "surface", "near")
NEAR_MIN_WORDS = 70
WORDS_PER_EDIT = 80

_COMMON = """the of and to a in is it you that he was for on are with as i his they be at one have this
from or had by hot word but what some we can out other were all there when up use your how said an each
she which do their time if will way about many then them write would like so these her long make thing see
him two has look more day could go come did number sound no most people my over know water than call first
who may down side been now find any new work part take get place made live where after back little only
round man year came show every good me give our under name very through just form sentence great think say
help low line differ turn cause much mean before move right boy old too same tell does set three want air
well also play small end put home read hand port large spell add even land here must big high such follow
act why ask men change went light kind off need house picture try us again animal point mother world near
build self earth father head stand own page should country found answer school grow study still learn plant
cover food sun four between state keep eye never last let thought city tree cross farm hard start might
story saw far sea draw left late run while press close night real life few north open seem together next
white children begin got walk example ease paper group always music those both mark often letter until mile
river car feet care second book carry took science eat room friend began idea fish mountain stop once base
hear horse cut sure watch color face wood main enough plain girl usual young ready above ever red list though
feel talk bird soon body dog family direct pose leave song measure door product black short numeral class
wind question happen complete ship area half rock order fire south problem piece told knew pass since top
whole king space heard best hour better true during hundred five remember step early hold west ground
interest reach fast verb sing listen six table travel less morning ten simple several vowel toward war lay
against pattern slow center love person money serve appear road map rain rule govern pull cold notice voice
unit power town fine certain fly fall lead cry dark machine note wait plan figure star box noun field rest
correct able pound done beauty drive stood contain front teach week final gave green oh quick develop ocean
warm free minute strong special mind behind clear tail produce fact street inch multiply nothing course stay
wheel full force blue object decide surface deep moon island foot system busy test record boat common gold
possible plane stead dry wonder laugh thousand ago ran check game shape equate miss brought heat snow tire
bring yes distant fill east paint language among grand ball yet wave drop heart am present heavy dance
engine position arm wide sail material size vary settle speak weight general ice matter circle pair include
divide syllable felt perhaps pick sudden count square reason length represent art subject region energy hunt
probable bed brother egg ride cell believe fraction forest sit race window store summer train sleep prove
lone exercise wall catch mount wish sky board joy winter sat written wild instrument kept glass grass cow job
edge sign visit past soft fun bright gas weather month million bear finish happy hope flower clothe strange
gone jump baby eight village meet root buy raise solve metal whether push seven paragraph third shall held
hair describe cook floor either result burn hill safe cat century consider type law bit coast copy phrase
silent tall sand soil roll temperature finger industry value fight lie beat excite natural view sense ear
else quite broke case middle kill son lake moment scale loud spring observe child straight consonant nation
dictionary milk speed method organ pay age section dress cloud surprise quiet stone tiny climb cool design
poor lot experiment bottom key iron single stick flat twenty skin smile crease hole trade melody trip office
receive row mouth exact symbol die least trouble shout except wrote seed tone join suggest clean break lady
yard rise bad blow oil blood touch grew cent mix team wire cost lost brown wear garden equal sent choose fell
fit flow fair bank collect save control decimal gentle woman captain practice separate difficult doctor
please protect noon whose locate ring character insect caught period indicate radio spoke atom human history
effect electric expect crop modern element hit student corner party supply bone rail imagine provide agree
thus capital chair danger fruit rich thick soldier process operate guess necessary sharp wing create
neighbor wash bat rather crowd corn compare poem string bell depend meat rub tube famous dollar stream fear
sight thin triangle planet hurry chief colony clock mine tie enter major fresh search send yellow gun allow
print dead spot desert suit current lift rose continue block chart hat sell success company subtract event
particular deal swim term opposite wife shoe shoulder spread arrange camp invent cotton born determine quart
nine truck noise level chance gather shop stretch throw shine property column molecule select wrong gray
repeat require broad prepare salt nose plural anger claim continent oxygen sugar death pretty skill women
season solution magnet silver thank branch match suffix especially fig afraid huge sister steel discuss
forward similar guide experience score apple bought led pitch coat mass card band rope slip win dream evening
condition feed tool total basic smell valley nor double seat arrive master track parent shore division sheet
substance favor connect post spend chord fat glad original share station dad bread charge proper bar offer
segment slave duck instant market degree populate chick dear enemy reply drink occur support speech nature
range steam motion path liquid log meant quotient teeth shell neck""".split()

_SYSTEM = [
    (
        "You are a helpful assistant. Answer the user's question accurately and concisely, and say so when you "
        "are not sure about something instead of guessing."
    ),
    (
        "You are an expert customer support agent for an online store. Be polite, keep answers short, and "
        "always offer to help with anything else at the end of the conversation."
    ),
    (
        "You are a careful sentiment classifier. Read the review given by the user and reply with exactly one "
        "word: positive, negative or neutral. Do not explain your answer."
    ),
    (
        "You are a patient tutor for high school students. Explain each step of your reasoning in plain "
        "language and check the student's understanding with a short question at the end."
    ),
    (
        "You are a senior software engineer reviewing code. Point out bugs, security problems and unclear names, "
        "and suggest concrete fixes with short code examples where they help."
    ),
    (
        "You translate text from English into simple English for young readers. Keep the meaning, use short "
        "sentences and common words, and never add information that is not in the original."
    ),
]
_QUESTIONS = [
    "Can you explain how {a} and {b} are related?",
    "Write a short story about a {a} who finds a {b} near the {c}.",
    "What is the best way to {a} a {b} without a {c}?",
    "Summarize the following text about {a}: {t}",
    "Classify the sentiment of this review: {t}",
    "Give me three reasons why {a} matters for {b}.",
    "Rewrite this paragraph so that a child can understand it: {t}",
    "How do I fix the {a} when the {b} stops working?",
]


def _vocabulary(size: int = 20000) -> list[str]:
    """Common English words first (high Zipf ranks), then a deterministic long tail."""
    rng = random.Random(12345)
    syl = ["ka", "lo", "mi", "tra", "ben", "sor", "el", "qui", "dan", "ra", "po", "ne", "ust", "vi", "gor", "pha"]
    seen = set(_COMMON)
    words = list(dict.fromkeys(_COMMON))
    while len(words) < size:
        w = "".join(rng.choice(syl) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


VOCAB = _vocabulary()
_ZIPF_CDF = np.cumsum(1.0 / np.arange(1, len(VOCAB) + 1) ** 1.07)
_ZIPF_CDF /= _ZIPF_CDF[-1]


def _zipf_words(rng: random.Random, k: int) -> list[str]:
    u = np.array([rng.random() for _ in range(k)])
    return [VOCAB[i] for i in np.searchsorted(_ZIPF_CDF, u).tolist()]


def _sentences(rng: random.Random, n_words: int) -> str:
    out, left = [], n_words
    while left > 0:
        k = min(left, rng.randint(6, 22))
        ws = _zipf_words(rng, k)
        ws[0] = ws[0].capitalize()
        if k > 8 and rng.random() < 0.4:
            ws[rng.randrange(2, k - 2)] += ","
        out.append(" ".join(ws) + rng.choice([".", ".", ".", "!", "?"]))
        left -= k
    return " ".join(out)


@dataclass
class Plan:
    """What each document is: kind, source document (-1 for bases), group and base lengths."""

    seed: int
    kind: np.ndarray
    source: np.ndarray
    group: np.ndarray
    answer_words: np.ndarray  # planned answer length of the group's base
    words_per_edit: int = WORDS_PER_EDIT


def plan(
    n: int,
    seed: int = 0,
    exact_rate: float = 0.04,
    surface_rate: float = 0.04,
    near_rate: float = 0.08,
    words_per_edit: int = WORDS_PER_EDIT,
) -> Plan:
    rng = random.Random(seed)
    kind = np.zeros(n, dtype=np.uint8)
    source = np.full(n, -1, dtype=np.int64)
    group = np.arange(n, dtype=np.int64)
    answer_words = np.zeros(n, dtype=np.int64)
    eligible: list[int] = []  # documents long enough to be the source of a near copy
    near_docs: list[int] = []
    for i in range(n):
        r = rng.random()
        if i > 0 and r < exact_rate + surface_rate:
            kind[i] = EXACT if r < exact_rate else SURFACE
            source[i] = rng.randrange(i)
        elif i > 0 and eligible and r < exact_rate + surface_rate + near_rate:
            kind[i] = NEAR
            if near_docs and rng.random() < 0.2:
                source[i] = rng.choice(near_docs)
            else:
                source[i] = rng.choice(eligible)
            near_docs.append(i)
        else:
            short = rng.random() < 0.15
            answer_words[i] = (
                rng.randint(1, 12) if short else max(3, min(1500, int(rng.lognormvariate(math.log(90), 0.8))))
            )
            if answer_words[i] >= NEAR_MIN_WORDS:
                eligible.append(i)
            continue
        group[i] = group[source[i]]
        answer_words[i] = answer_words[source[i]]
    return Plan(seed, kind, source, group, answer_words, words_per_edit)


def _base_record(p: Plan, i: int) -> dict:
    i = int(i)
    rng = random.Random(p.seed * 1_000_003 + i)
    msgs = []
    classify = p.answer_words[i] <= 12
    if classify:
        msgs.append({"role": "system", "content": _SYSTEM[2]})
        review = _sentences(rng, rng.randint(20, 60))
        msgs.append({"role": "user", "content": _QUESTIONS[4].format(t=review)})
        answer = rng.choice(["positive", "negative", "neutral"])
        if p.answer_words[i] > 1:
            answer = answer.capitalize() + ". " + _sentences(rng, p.answer_words[i] - 1)
    else:
        if rng.random() < 0.4:
            msgs.append({"role": "system", "content": rng.choice(_SYSTEM)})
        a, b, c = _zipf_words(rng, 3)
        t = _sentences(rng, rng.randint(10, 40))
        msgs.append({"role": "user", "content": rng.choice(_QUESTIONS).format(a=a, b=b, c=c, t=t)})
        answer = _sentences(rng, int(p.answer_words[i]))
    msgs.append({"role": "assistant", "content": answer})
    return {"messages": msgs}


def _surface_noise(rng: random.Random, text: str) -> str:
    out = []
    for w in text.split():
        r = rng.random()
        if r < 0.05:
            w = w.upper()
        elif r < 0.10:
            w = w.capitalize() if w[:1].islower() else w.lower()
        elif r < 0.13:
            w = w + rng.choice([",", ";", "!", " -", "..."])
        elif r < 0.16:
            w = w.rstrip(".,!?;")
        out.append(w)
    sep = rng.choice([" ", " ", "  ", "\n"])
    return sep.join(out)


def _word_edits(rng: random.Random, text: str, k: int) -> str:
    ws = text.split()
    for _ in range(k):
        op = rng.random()
        pos = rng.randrange(len(ws))
        if op < 0.4:
            ws[pos] = _zipf_words(rng, 1)[0]
        elif op < 0.65:
            ws.insert(pos, _zipf_words(rng, 1)[0])
        elif op < 0.9 and len(ws) > 2:
            del ws[pos]
        elif pos + 1 < len(ws):
            ws[pos], ws[pos + 1] = ws[pos + 1], ws[pos]
    return " ".join(ws)


def record(p: Plan, i: int) -> dict:
    """The chat example at index ``i`` of plan ``p``."""
    i = int(i)
    if p.kind[i] == BASE:
        return _base_record(p, i)
    src = record(p, int(p.source[i]))
    if p.kind[i] == EXACT:
        return src
    rng = random.Random(p.seed * 1_000_003 + i)
    msgs = [dict(m) for m in src["messages"]]
    if p.kind[i] == NEAR:
        # Edits go where the words are, in proportion to each message's length; they split on
        # single spaces, so they run before the surface noise (which may join with newlines).
        total = sum(len(m["content"].split()) for m in msgs)
        k = rng.randint(1, max(1, total // p.words_per_edit))
        for _ in range(k):
            m = rng.choices(msgs, weights=[len(x["content"].split()) for x in msgs])[0]
            m["content"] = _word_edits(rng, m["content"], 1)
    for m in msgs:
        m["content"] = _surface_noise(rng, m["content"])
    return {"messages": msgs}


def conversation_text(rec: dict) -> str:
    """The whole conversation as dedup compares it by default: message contents, one per line."""
    return "\n".join(m["content"] for m in rec["messages"])


def truth(p: Plan) -> dict:
    groups: dict[int, list[int]] = {}
    for i, g in enumerate(p.group.tolist()):
        groups.setdefault(g, []).append(i)
    dup_groups = [m for m in groups.values() if len(m) > 1]
    return {
        "n": len(p.kind),
        "seed": p.seed,
        "counts": {name: int(np.count_nonzero(p.kind == k)) for k, name in enumerate(KIND_NAMES)},
        "groups": dup_groups,
        "kind": [KIND_NAMES[k] for k in p.kind.tolist()],
        "source": p.source.tolist(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out", help="output JSONL path")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--exact-rate", type=float, default=0.04)
    ap.add_argument("--surface-rate", type=float, default=0.04)
    ap.add_argument("--near-rate", type=float, default=0.08)
    ap.add_argument(
        "--words-per-edit", type=int, default=WORDS_PER_EDIT, help="near copies: one edit per this many words"
    )
    ap.add_argument("--truth", help="truth JSON path (default: OUT with .truth.json)")
    a = ap.parse_args(argv)
    p = plan(a.n, a.seed, a.exact_rate, a.surface_rate, a.near_rate, a.words_per_edit)
    with open(a.out, "w", encoding="utf-8") as f:
        for i in range(a.n):
            f.write(json.dumps(record(p, i), ensure_ascii=False) + "\n")
    truth_path = a.truth or (a.out.rsplit(".", 1)[0] + ".truth.json")
    t = truth(p)
    with open(truth_path, "w", encoding="utf-8") as f:
        json.dump(t, f)
    print(f"wrote {a.n} examples to {a.out}, truth to {truth_path}: {t['counts']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
