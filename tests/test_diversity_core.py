"""Diversity core: fast metrics against slow references, and synthetic sets with known properties."""

from __future__ import annotations

import random

import numpy as np
import polars as pl
import pytest

from dataprep.diversity import analyze_texts, render_compare, render_terminal, structure_row
from dataprep.diversity.features import features_in_shards, merge_text_features, text_features
from dataprep.diversity.language import UND, detect_one, sample_indices, shares, wilson
from dataprep.diversity.lexical import lexical_metrics, prev_next, role_lexicon
from dataprep.diversity.openings import opening_stats
from dataprep.diversity.structure import length_skew, missing_system_rows, structure_stats
from dataprep.diversity.vendi import vendi_score
from dataprep.diversity.words import tokenize, word_ids

# ----------------------------------------------------------------- slow references


def ref_distinct(toks: list[list[str]], n: int):
    grams = [tuple(t[i : i + n]) for t in toks for i in range(len(t) - n + 1)]
    return len(set(grams)) / len(grams) if grams else None


def ref_streams(toks: list[list[str]], block) -> list[list[str]]:
    """A role's words as running text: the examples of each block joined. ``block`` is a
    number of rows, or one block id per example."""
    ids = [i // block for i in range(len(toks))] if isinstance(block, int) else list(block)
    streams: dict = {}
    for b, t in zip(ids, toks):
        streams.setdefault(b, []).extend(t)
    return list(streams.values())


def ref_mattr(toks: list[list[str]], w: int = 50, block=32):
    total, windows = 0.0, 0
    for t in ref_streams(toks, block):
        if not t:
            continue
        size = min(w, len(t))
        for i in range(len(t) - size + 1):
            total += len(set(t[i : i + size])) / size
            windows += 1
    return total / windows if windows else None


def ref_factors(t: list[str], thr: float = 0.72) -> float:
    factors, types, count, ttr = 0.0, set(), 0, 1.0
    for x in t:
        count += 1
        types.add(x)
        ttr = len(types) / count
        if ttr <= thr:
            factors += 1
            types, count, ttr = set(), 0, 1.0
    if count:
        factors += (1 - ttr) / (1 - thr)
    return factors


def ref_mtld(toks: list[list[str]], thr: float = 0.72, block=32):
    streams = ref_streams(toks, block)
    words = sum(len(t) for t in streams)
    fwd = sum(ref_factors(t, thr) for t in streams)
    bwd = sum(ref_factors(t[::-1], thr) for t in streams)
    if fwd <= 0 or bwd <= 0:
        return None
    return (words / fwd + words / bwd) / 2


def _close(a, b):
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-9 * max(1.0, abs(b))


def _random_texts(rng: random.Random, n_texts: int, vocab: int, mean_len: float) -> list[str]:
    words = [f"w{i}" for i in range(vocab)]
    out = []
    for _ in range(n_texts):
        k = rng.choice([0, 1, 2, 3, 49, 50, 51, int(rng.expovariate(1 / mean_len))])
        sub = words[: rng.randint(2, vocab)]
        out.append(" ".join(rng.choice(sub) for _ in range(k)))
    return out


@pytest.mark.parametrize("seed,n_texts,block", [(0, 12, 32), (1, 40, 1), (2, 150, 32), (3, 300, 7), (4, 2000, 1), (5, 2000, 32)])
def test_lexical_matches_reference(seed, n_texts, block):
    # thousands of streams exercise the lane walk of MTLD, small sets the factor-wise finish
    rng = random.Random(seed)
    texts = _random_texts(rng, n_texts, vocab=rng.choice([5, 40, 400]), mean_len=70 if n_texts < 1000 else 12)
    toks = tokenize(texts)
    fast = lexical_metrics(role_lexicon(texts, block=block))
    assert fast["vocab"] == len({w for t in toks for w in t})
    assert fast["words"] == sum(len(t) for t in toks)
    for n in (1, 2, 3):
        assert _close(fast[f"distinct_{n}"], ref_distinct(toks, n))
    assert _close(fast["mattr"], ref_mattr(toks, block=block))
    assert _close(fast["mtld"], ref_mtld(toks, block=block))


def test_many_short_streams():
    # more live streams than one 2-D block may hold: the MTLD walk must slice them
    rng = random.Random(8)
    texts = [" ".join(f"w{rng.randrange(6)}" for _ in range(rng.randint(1, 6))) for _ in range(25_000)]
    toks = tokenize(texts)
    m = lexical_metrics(role_lexicon(texts, block=1))
    assert m["mtld"] == pytest.approx(ref_mtld(toks, block=1), rel=1e-12)
    assert m["mattr"] == pytest.approx(ref_mattr(toks, block=1), rel=1e-12)


def test_window_and_threshold_are_parameters():
    rng = random.Random(7)
    texts = _random_texts(rng, 60, vocab=30, mean_len=60)
    toks = tokenize(texts)
    m = lexical_metrics(role_lexicon(texts, window=10, threshold=0.6, block=5))
    assert _close(m["mattr"], ref_mattr(toks, 10, block=5))
    assert _close(m["mtld"], ref_mtld(toks, 0.6, block=5))


def test_prev_next_handles_colliding_prefixes():
    # tiny ids share all their top bits, which forces the exact fallback for every group
    ids = np.array([1, 2, 1, 3, 2, 1, 5, 1, 1], dtype=np.uint64)
    off = np.array([0, 4, 8, 9])
    prev, nxt, uniq = prev_next(ids, off)
    assert prev.tolist() == [-1, -1, 0, -1, -1, -1, -1, 1, -1]
    assert nxt.tolist() == [2, 4, 4, 4, 4, 3, 4, 4, 1]
    assert uniq.tolist() == [1, 2, 3, 5]


@pytest.mark.parametrize("piece", [1, 7, 50])
def test_prev_next_in_pieces_equals_one_piece(monkeypatch, piece):
    # texts are independent: doing runs of whole texts at a time (cache-sized pieces) changes
    # nothing, with empty texts, a text longer than a piece and colliding short ids
    from dataprep.diversity import lexical as L

    rng = np.random.default_rng(3)
    lens = [0, 12, 3, 0, 90, 1, 25, 25, 0, 8, 60]
    off = np.concatenate([[0], np.cumsum(lens)])
    ids = rng.integers(0, 9, off[-1]).astype(np.uint64) * np.uint64(1 << 40) + rng.integers(0, 3, off[-1]).astype(np.uint64)
    whole = L._prev_next(ids, off)
    monkeypatch.setattr(L, "_PREV_NEXT_PIECE", piece)
    pieces = L.prev_next(ids, off)
    for a, b in zip(whole, pieces):
        assert np.array_equal(a, b)


@pytest.mark.parametrize("cuts", [[37], [5, 3, 64, 1, 40, 2], [230]])
def test_shards_merge_exactly(cuts):
    # shards of any size, cut anywhere (also inside one 32-row block), give the same numbers
    rng = random.Random(11)
    users = _random_texts(rng, 230, vocab=300, mean_len=30)
    assistants = _random_texts(rng, 230, vocab=300, mean_len=90)
    whole = text_features(users, assistants)
    bounds, a = [], 0
    while a < 230:
        b = min(230, a + cuts[len(bounds) % len(cuts)])
        bounds.append((a, b))
        a = b
    parts = [text_features(users[a:b], assistants[a:b], start_row=a) for a, b in bounds]
    merged = merge_text_features(parts[::-1])  # completion order does not matter
    # merging in two levels (keeping the sets) is the same as merging once
    mid = len(parts) // 2 or 1
    two_level = merge_text_features(
        [merge_text_features(parts[:mid], keep_sets=True), merge_text_features(parts[mid:], keep_sets=True)]
    )
    for role in ("user", "assistant"):
        x = lexical_metrics(whole.lexicon[role])
        assert x["mattr"] == pytest.approx(ref_mattr(tokenize(users if role == "user" else assistants)), rel=1e-9)
        for other in (merged, two_level):
            y = lexical_metrics(other.lexicon[role])
            assert x.keys() == y.keys()
            assert x == y, role  # exactly: the sums are kept as integer fractions
    assert whole.rows.equals(merged.rows)


def test_byte_blocks_do_not_depend_on_shards():
    # the scan passes each line's byte offset: blocks are 32 KiB windows of the file
    from dataprep.diversity.features import STREAM_BLOCK_BYTES

    rng = random.Random(12)
    users = _random_texts(rng, 300, vocab=200, mean_len=20)
    assistants = _random_texts(rng, 300, vocab=200, mean_len=60)
    sizes = [20 * (len(u) + len(a)) + 60 for u, a in zip(users, assistants)]  # a few lines per window
    offs = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    blocks = (offs // STREAM_BLOCK_BYTES).tolist()
    assert 20 < len(set(blocks)) < 300
    whole = text_features(users, assistants, line_offsets=offs)
    cuts = [0, 17, 18, 140, 141, 299, 300]
    merged = merge_text_features(
        [text_features(users[a:b], assistants[a:b], line_offsets=offs[a:b]) for a, b in zip(cuts, cuts[1:])]
    )
    for role, texts in (("user", users), ("assistant", assistants)):
        x, y = lexical_metrics(whole.lexicon[role]), lexical_metrics(merged.lexicon[role])
        assert x == y
        toks = tokenize(texts)
        assert _close(x["mattr"], ref_mattr(toks, block=blocks))
        assert _close(x["mtld"], ref_mtld(toks, block=blocks))


def test_empty_and_degenerate_inputs():
    m = lexical_metrics(role_lexicon([]))
    assert m["distinct_1"] is None and m["mattr"] is None and m["mtld"] is None and m["vocab"] == 0
    m = lexical_metrics(role_lexicon(["", None, "one"]))
    assert m["distinct_1"] == 1.0 and m["distinct_2"] is None and m["mattr"] == 1.0 and m["mtld"] is None
    tf = features_in_shards([], [])
    assert tf.examples == 0 and tf.rows.height == 0


def test_word_ids_are_the_same_in_another_process():
    # the scan hashes words in its worker processes; their n-gram sets must line up
    import subprocess
    import sys

    code = "from dataprep.diversity.words import word_ids; print(word_ids(['Hello world, grüße 我们'])[0].tolist())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(word_ids(["Hello world, grüße 我们"])[0].tolist())


def test_tokenizer_splits_cjk_and_punctuation():
    assert tokenize(["It's 3.14, Grüße!", "我们明天 OK"]) == [["it", "s", "3", "14", "grüße"], ["我", "们", "明", "天", "ok"]]


# ----------------------------------------------------------------- synthetic sets

_PEOPLE = (
    "neighbour librarian engineer teacher councillor nurse baker grandmother farmer coach student manager pilot "
    "doctor brother sister uncle journalist plumber sailor painter carpenter mayor tailor dentist poet miner "
    "gardener lawyer chemist fisherman shepherd violinist architect cashier driver professor waiter jeweller "
    "astronomer beekeeper blacksmith clerk cousin detective florist glassblower historian inventor juggler "
    "locksmith midwife novelist potter ranger sculptor translator veterinarian weaver"
).split()
_ADJ = (
    "wooden broken ancient red tiny enormous rusty golden quiet noisy fragile heavy crooked shiny dusty frozen "
    "narrow crowded empty forgotten famous secret elegant clumsy bright gloomy muddy polished hollow ragged "
    "velvet marble copper striped fragrant bitter humble peculiar sturdy delicate curious restless patient "
    "stubborn generous nervous cheerful solemn careless clever gentle fierce weary eager lonely proud shy "
    "silver crimson emerald ivory amber scarlet faded damp sticky brittle smooth jagged"
).split()
_NOUN = (
    "bridge bicycle fence map table letter umbrella roof apple schedule lamp bell boot door teapot crane piano "
    "lantern carpet ladder garden violin mirror clock kettle basket telescope compass saddle quilt chimney "
    "hammock wagon barrel candle statue fountain orchard cellar attic greenhouse lighthouse canoe typewriter "
    "wardrobe bakery harbour meadow windmill tunnel anchor blanket bottle cabinet chess diary envelope feather "
    "glove helmet ink jar key kite ledger medal needle notebook oar parcel pebble quiver ribbon scarf shovel "
    "sword thimble ticket trumpet vase wallet whistle yarn zipper acorn badge cart drum flag funnel goblet "
    "hatchet lens mast net pendant pillow rake sail spoon tray trunk wheel"
).split()
_VERB = (
    "repaired painted described sold borrowed moved cleaned photographed measured designed ignored celebrated "
    "inspected rebuilt donated hid polished carried delivered stole tested decorated sketched weighed guarded "
    "restored wrapped counted buried discovered admired assembled bargained for catalogued dismantled "
    "engraved fixed gathered hammered insured juggled knitted labelled mended noticed opened packed questioned "
    "rescued shared traded unlocked varnished washed"
).split()
_PREP = "near behind under beside inside above across beyond around along below past toward against among".split()
_DET = "the a one every that this our my their his her some".split()
_IMPERATIVE = (
    "Describe Explain Imagine Summarise Picture Consider Recall Invent Sketch Outline Narrate Compare Evaluate "
    "Critique Analyse Illustrate Reconstruct Predict Question Defend"
).split()


def _np(rng: random.Random, nouns=_NOUN) -> str:
    return f"{rng.choice(_DET)} {rng.choice(_ADJ)} {rng.choice(nouns)}"


def _sentence(rng: random.Random) -> str:
    return f"{_np(rng, _PEOPLE)} {rng.choice(_VERB)} {_np(rng)} {rng.choice(_PREP)} {_np(rng)}"


def english_example(rng: random.Random) -> tuple[str, str]:
    """A prompt and reply of ordinary English with a large vocabulary and varied openings."""
    user = f"{rng.choice(_IMPERATIVE)} {_np(rng)} that {_sentence(rng)}."
    reply = " ".join(_sentence(rng).capitalize() + "." for _ in range(rng.randint(2, 4)))
    return user, reply


_TEMPLATES = [
    ("Write a short poem about {x}.", "Here is a short poem about {x}. Soft light falls on the quiet hills, the river sings of {x}, and the evening wind carries the song far away over the fields until the stars come out."),
    ("Translate the word {x} into French.", "The French word for {x} is given below, with an example sentence. Remember that French nouns have a gender, so check the article before you use the word in a sentence of your own."),
    ("What is the capital of {x}?", "The capital of {x} is its largest administrative city. It hosts the government, the main museums and most embassies, and it is usually the easiest place to start a visit."),
    ("Give me three facts about {x}.", "Here are three facts about {x}: it is old, it is famous, and it is loved. People have written about it for centuries, and new research keeps adding surprising details."),
    ("Summarise the history of {x}.", "The history of {x} begins long ago and continues to this day. Early records are scarce, but later centuries brought trade, conflict and slow growth into its present form."),
    ("Explain {x} to a child.", "Imagine {x} as a friendly helper that makes life a little easier. Just like a good friend, it is there when you need it, and it is fun to learn more about it together."),
    ("List the pros and cons of {x}.", "Pros of {x}: it is useful, cheap and easy to find. Cons of {x}: it can be slow, noisy and hard to store, so think about how you will use it before you decide."),
    ("Write a tweet about {x}.", "Just discovered {x} and I love it! Highly recommended to everyone who wants something new this week. Share your own favourite tips below and tag a friend who should try it."),
    ("Describe {x} in one sentence.", "{x} is a remarkable thing that many people enjoy, admire and talk about, and it rarely leaves anyone who meets it for the first time without a strong opinion."),
    ("Is {x} healthy?", "In moderation {x} can be part of a balanced and healthy life. As always, variety matters more than any single choice, and a doctor can give advice that fits your own situation."),
]
_SLOTS = "apples|Norway|coffee|rivers|jazz|bicycles|tea|Canada|volcanoes|chess|bread|owls|Peru|rain|music".split("|")


def template_set(n: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    users, replies = [], []
    for _ in range(n):
        u, a = rng.choice(_TEMPLATES)
        x = rng.choice(_SLOTS)
        users.append(u.format(x=x))
        replies.append(a.format(x=x))
    return users, replies


def distinct_set(n: int = 300, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    pairs = [english_example(rng) for _ in range(n)]
    return [p[0] for p in pairs], [p[1] for p in pairs]


def test_template_set_scores_below_distinct_set():
    tu, ta = template_set()
    du, da = distinct_set()
    t = analyze_texts(tu, ta, languages=False).report
    d = analyze_texts(du, da, languages=False).report
    for role in ("user", "assistant"):
        lt, ld = t["lexical"][role], d["lexical"][role]
        for k in ("distinct_1", "distinct_2", "distinct_3", "mattr", "mtld", "vocab"):
            assert lt[k] < ld[k], (role, k, lt[k], ld[k])
        ot = t["openings"][role]["words_3"]
        od = d["openings"][role]["words_3"]
        assert ot["normalized_entropy"] < od["normalized_entropy"]
    assert t["vendi"]["score"] < d["vendi"]["score"] / 3
    assert t["vendi"]["score"] < 40  # about the number of templates (slot words add a little)


def test_opening_concentration_flags_template_set():
    tu, ta = template_set()
    du, da = distinct_set()
    # ten templates used equally: each opening holds 10%, so a floor of 5% catches them
    t = analyze_texts(tu, ta, languages=False, max_top_opening_share=0.05)
    d = analyze_texts(du, da, languages=False, max_top_opening_share=0.05)
    assert "DP601" in {f.rule for f in t.flags}
    assert "DP601" not in {f.rule for f in d.flags}
    # and with one template dominating, the default floor (25%) fires on its own
    skew_u = ["Write a short poem about the sea." if i % 2 else u for i, u in enumerate(du)]
    s = analyze_texts(skew_u, da, languages=False)
    dp601 = [f for f in s.flags if f.rule == "DP601"]
    assert dp601 and "write a short" in dp601[0].message


def test_vendi_bounds():
    same = vendi_score(["the cat sat on the mat"] * 40)
    assert same["score"] == pytest.approx(1.0, abs=1e-6) and same["sample"] == 40
    apart = vendi_score([f"alpha{i} beta{i} gamma{i}" for i in range(40)] + [""])
    assert apart["score"] == pytest.approx(40, rel=0.02) and apart["empty"] == 1
    assert vendi_score([f"t{i}" for i in range(2000)])["sample"] == 500


def test_opening_stats_by_hand():
    o = opening_stats(["write a poem", "write a poem", "write code now", "tell me", ""])
    assert o["texts"] == 4
    assert o["words_1"]["top"][0] == {"opening": "write", "count": 3, "share": 0.75}
    assert o["words_3"]["distinct"] == 3
    p = np.array([2, 1, 1]) / 4
    assert o["words_3"]["entropy"] == pytest.approx(float(-(p * np.log2(p)).sum()))
    assert o["words_3"]["normalized_entropy"] == pytest.approx(1.5 / 2)


# ----------------------------------------------------------------- languages

_DE = [
    "Ich habe gestern einen langen Spaziergang durch den Wald gemacht.",
    "Kannst du mir bitte erklären, wie man einen guten Kuchen backt?",
    "Das Wetter in Berlin war heute überraschend warm und sonnig.",
    "Meine Schwester arbeitet seit drei Jahren in einer kleinen Buchhandlung.",
    "Wir sollten das Projekt bis Freitag fertigstellen, sonst gibt es Ärger.",
    "Der Zug nach München hatte leider wieder eine große Verspätung.",
    "Welche Bücher würdest du einem Anfänger in der Philosophie empfehlen?",
    "Die Kinder spielen jeden Nachmittag im Garten hinter dem Haus.",
    "Ich brauche Hilfe bei der Übersetzung eines wichtigen Briefes.",
    "Natürlich, hier ist eine kurze Zusammenfassung der wichtigsten Punkte.",
    "Zuerst musst du den Ofen auf zweihundert Grad vorheizen.",
    "Es ist wichtig, regelmäßig Pausen zu machen und genug Wasser zu trinken.",
]
_ZH = [
    "我昨天和朋友一起去公园散步，天气非常好。",
    "你能告诉我怎么学习中文吗？",
    "这本书讲述了一个关于勇气和友谊的故事。",
    "请帮我写一封感谢信给我的老师。",
    "北京的冬天很冷，但是夏天非常热。",
    "首先，你需要准备好所有的材料。",
    "我们应该在周五之前完成这个项目。",
    "学习编程需要耐心和大量的练习。",
    "当然可以，下面是一个简单的解释。",
    "他每天早上都会喝一杯咖啡然后去上班。",
]


def language_set(n: int, seed: int) -> tuple[list[str], list[str], int, int]:
    """English set with 5% German and 5% Chinese examples planted at random rows."""
    rng = random.Random(seed)
    users, replies = distinct_set(n, seed)
    rows = rng.sample(range(n), n // 10)
    for k, r in enumerate(rows):
        pool = _DE if k % 2 == 0 else _ZH
        users[r] = " ".join(rng.sample(pool, 2))
        replies[r] = " ".join(rng.sample(pool, 3))
    return users, replies, n // 20, n // 20


def test_planted_languages_full_sample():
    users, replies, n_de, n_zh = language_set(200, seed=3)
    res = analyze_texts(users, replies, languages=True, vendi_sample=50)
    langs = res.report["languages"]
    assert res.report["language_sample"] == 200
    assert langs["de"]["n"] == n_de and langs["zh"]["n"] == n_zh
    for code in ("de", "zh"):
        assert langs[code]["ci_low"] <= 0.05 <= langs[code]["ci_high"]
    assert langs["en"]["share"] == pytest.approx(0.9)
    # per-example languages are kept for the sampled rows
    assert len(res.language.example) == 200
    de_rows = {int(r) for r, lang in zip(res.language.rows, res.language.example) if lang == "de"}
    assert all(any(w in users[r] for w in ("Ich", "Kannst", "Das", "Meine", "Wir", "Der", "Welche", "Die", "Natürlich", "Zuerst", "Es")) for r in de_rows)


def test_planted_languages_in_a_sample_fall_inside_intervals():
    users, replies, _, _ = language_set(1000, seed=5)
    res = analyze_texts(users, replies, languages=True, language_sample=150, vendi_sample=50, expected_languages=["en"])
    rep = res.report
    assert rep["language_sample"] == 150 and rep["language_sampled"]
    assert "sample" in rep["language_note"]
    for code in ("de", "zh"):
        assert rep["languages"][code]["ci_low"] <= 0.05 <= rep["languages"][code]["ci_high"]
    dp602 = [f for f in res.flags if f.rule == "DP602"]
    assert dp602 and "de" in dp602[0].message and "zh" in dp602[0].message


@pytest.mark.parametrize(
    "text",
    [
        "ok thanks",
        "12345 678.9",
        "https://example.com/a/very/long/path/to/something?x=1",
        "```python\ndef add(a, b):\n    return a + b\n\nprint(add(1, 2))\n```",
        "def add(a, b):\n    return a + b\nresult = add(first_value, second_value)\nprint(result)",
        "{\"name\": \"value\", \"items\": [1, 2, 3], \"nested\": {\"key\": \"something\"}}",
        "",
    ],
)
def test_short_or_code_only_is_undetermined(text):
    assert detect_one(text)[0] == UND


def test_prose_around_code_is_detected():
    text = "Hier ist die Lösung. Die Funktion addiert zwei Zahlen und gibt das Ergebnis zurück.\n```python\ndef add(a, b):\n    return a + b\n```"
    assert detect_one(text)[0] == "de"


def test_language_mismatch_dp309():
    users, replies = distinct_set(60, seed=9)
    replies[7] = " ".join(_DE[:3])
    res = analyze_texts(users, replies, languages=True, vendi_sample=20)
    dp309 = [f for f in res.flags if f.rule == "DP309"]
    assert dp309 and dp309[0].rows.tolist() == [7]
    assert res.language.example[7] == "de"


def test_sample_indices_and_wilson():
    idx = sample_indices(10_000, 2000)
    assert len(idx) == 2000 and len(set(idx.tolist())) == 2000 and idx[0] >= 0 and idx[-1] < 10_000
    assert np.array_equal(idx, sample_indices(10_000, 2000))
    assert sample_indices(50, 2000).tolist() == list(range(50))
    assert len(sample_indices(10_000, 10, full=True)) == 10_000
    # the Wilson bounds are the p where the normal test is exactly at z: |k/n - p| = z sqrt(p(1-p)/n)
    for k, n in ((10, 200), (0, 50), (50, 50), (3, 7)):
        lo, hi = wilson(k, n)
        for p in (lo, hi):
            if 1e-9 < p < 1 - 1e-9:
                assert abs(k / n - p) == pytest.approx(1.959964 * (p * (1 - p) / n) ** 0.5, rel=1e-6)
        assert lo <= k / n <= hi
    s = shares(["en"] * 8 + ["und"] * 2)
    assert list(s) == ["en", "und"] and s["en"]["n"] == 8


def test_determinism_and_jobs_do_not_change_results():
    users, replies, _, _ = language_set(160, seed=1)
    a = analyze_texts(users, replies, vendi_sample=80).report
    b = analyze_texts(users, replies, vendi_sample=80).report
    c = analyze_texts(users, replies, vendi_sample=80, jobs=2).report  # language over 2 processes
    assert a == b == c


# ----------------------------------------------------------------- structure


def _frame(examples: list[list[dict]]) -> pl.DataFrame:
    rows = [structure_row(m) for m in examples]
    return pl.DataFrame(
        [{k: v for k, v in r.items() if k != "system_text"} for r in rows],
        schema={"roles": pl.String, "msg_chars": pl.List(pl.Int64), "tool_calls": pl.Boolean, "system_hash": pl.UInt64},
    )


def test_structure_profile():
    sys_a = {"role": "system", "content": "You are terse."}
    sys_b = {"role": "system", "content": "You are verbose."}
    u = {"role": "user", "content": "hello there"}
    a = {"role": "assistant", "content": "hi"}
    call = {"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}
    tool = {"role": "tool", "tool_call_id": "c1", "content": "42"}
    examples = [[sys_a, u, a]] * 6 + [[sys_b, u, a, u, a]] * 2 + [[u, call, tool, a]] * 2
    df = _frame(examples)
    st = structure_stats(df)
    assert st["turns"]["mean"] == pytest.approx((6 + 4 + 2) / 10)
    assert st["role_patterns"]["top"][0] == {"pattern": "s,u,a", "count": 6, "share": 0.6}
    assert st["tool_calling"] == {"examples": 2, "share": 0.2}
    sp = st["system_prompts"]
    assert sp["examples_with_system"] == 8 and sp["distinct"] == 2 and sp["top"][0]["share"] == 0.75
    assert st["lengths"]["chars"]["user"]["count"] == 6 + 4 + 2
    flag = missing_system_rows(df)
    assert flag is not None and flag.rows.tolist() == [8, 9]
    res = analyze_texts(["hello there"] * 10, ["hi"] * 10, df, languages=False)
    assert {"DP310", "DP311"} <= {f.rule for f in res.flags}
    # the scan's per-role character columns stand in for per-message lengths
    per_role = pl.DataFrame({"roles": df["roles"], "chars_user": [11] * 10, "chars_assistant": [2] * 10, "tokens": [9] * 10})
    st2 = structure_stats(per_role)
    assert st2["lengths"]["chars"]["example"]["p50"] == 13 and st2["length_skew"]["basis"] == "tokens"


def test_length_skew():
    rng = np.random.default_rng(0)
    assert not length_skew(rng.lognormal(5, 0.8, 5000))["flagged"]
    assert not length_skew(np.exp(rng.uniform(1, 8, 5000)))["bimodal"]  # flat over decades: no dip
    bi = np.concatenate([rng.lognormal(3, 0.3, 3000), rng.lognormal(6.5, 0.3, 2000)])
    s = length_skew(bi)
    assert s["bimodal"] and s["flagged"]
    assert s["modes"]["low"]["share"] == pytest.approx(0.6, abs=0.01)
    tail = np.concatenate([rng.lognormal(4, 0.3, 4900), rng.lognormal(8, 0.3, 100)])
    assert length_skew(tail)["heavy_tail"]
    assert not length_skew(rng.lognormal(5, 3, 50))["flagged"]  # too few to judge


def _plain(x) -> bool:
    """True when ``x`` is made of JSON's own Python types only (no numpy scalars)."""
    if type(x) in (str, int, float, bool, type(None)):
        return True
    if type(x) is dict:
        return all(type(k) is str and _plain(v) for k, v in x.items())
    if type(x) is list:
        return all(_plain(v) for v in x)
    return False


def test_report_shape_is_plain_json():
    import json

    du, da = distinct_set(120)
    df = _frame([[{"role": "system", "content": "Be brief."}, {"role": "user", "content": x}, {"role": "assistant", "content": y}] for x, y in zip(du, da)])
    rep = analyze_texts(du, da, df, vendi_sample=60).report
    assert _plain(rep)
    json.dumps(rep)
    assert {"examples", "lexical", "openings", "structure", "languages", "language_sample", "vendi"} <= rep.keys()
    for role in ("user", "assistant"):
        assert {"distinct_1", "distinct_2", "distinct_3", "mattr", "mtld", "vocab"} <= rep["lexical"][role].keys()
    assert {"share", "ci_low", "ci_high", "n"} == set(rep["languages"]["en"])


def test_renderers_run():
    from rich.console import Console

    du, da = distinct_set(120)
    tu, ta = template_set(120)
    a = analyze_texts(du, da, _frame([[{"role": "user", "content": x}, {"role": "assistant", "content": y}] for x, y in zip(du, da)])).report
    b = analyze_texts(tu, ta, languages=False).report
    con = Console(record=True, width=100)
    render_terminal(a, con)
    render_compare(a, b, con, labels=("before", "after"))
    out = con.export_text()
    assert "distinct_2" in out and "before" in out and "Vendi" in out and "en" in out


def test_masked_openings_mask_each_copy_and_keep_others_as_they_are():
    from dataprep.diversity.openings import masked_openings
    from dataprep.diversity.words import openings

    key = "AKIAIOSFODNN7EXAMPLE"
    texts = [f"{key} is the key", "plain words here", f"{key} is the key", "call 555 123 4567 now",
             None, f"mail bob@example.com {key}", f"{key} is the key"]
    got = masked_openings(texts, pl.Series(openings(texts), dtype=pl.String)).to_list()
    assert got[0] == got[2] == got[6] and key.lower() not in " ".join(got)
    assert got[0].split()[1:] == ["is", "the"] and got[1] == "plain words here" and got[4] == ""
    assert "example" not in got[5] and "4567" not in got[3]



def test_low_diversity_counts_effective_openings_from_500_texts():
    from dataprep.diversity.openings import low_diversity

    def openings(n_texts: int, n_openings: int) -> dict:
        counts = [n_texts // n_openings] * n_openings
        ent = float(-sum(c / n_texts * np.log2(c / n_texts) for c in counts))
        w3 = {"top": [{"opening": "a b c", "count": counts[0], "share": counts[0] / n_texts}], "entropy": ent,
              "distinct": n_openings, "top_share": counts[0] / n_texts}
        return {"user": {"texts": n_texts, "words_3": w3}}

    flag = low_diversity({}, openings(2000, 10))
    assert flag is not None and flag.data["user_effective_openings"] == 10
    assert "10 effective openings (10 distinct; min 50)" in flag.message
    assert low_diversity({}, openings(2000, 100)) is None  # 100 effective openings, 1% each
    assert low_diversity({}, openings(400, 10), max_top_opening_share=0.5) is None  # too few texts to judge
    assert low_diversity({}, openings(2000, 10), min_effective_openings=5) is None
