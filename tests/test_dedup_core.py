"""Core of dedup: normalisation, signatures equal to datasketch, LSH clusters, keep policies,
leakage, DP503 and cluster-preserving splits."""

from __future__ import annotations

import random

import numpy as np
import pytest
from datasketch import MinHash, MinHashLSH
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataprep.dedup import (
    DUP_KINDS,
    EMPTY,
    LEAK_KINDS,
    MinHashConfig,
    UnionFind,
    assign_splits,
    compare_text,
    conflicting_answers,
    exact_hash,
    find_duplicates,
    groups_from_clusters,
    is_empty,
    leakage,
    lsh,
    lsh_params,
    ngram_hashes,
    normalize,
    prompt_and_answer,
    sketch,
)
from dataprep.dedup import minhash as mh
from dataprep.dedup import shingles as sh

WORD = MinHashConfig()
CHAR = MinHashConfig(mode="char")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def words_text(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def replace_word(text: str, pos: int, new: str) -> str:
    ws = text.split()
    ws[pos] = new
    return " ".join(ws)


def assert_same_as_datasketch(texts: list[str], config: MinHashConfig) -> None:
    sigs, exact = sketch(texts, config)
    assert sigs.shape == (len(texts), config.num_perm) and sigs.dtype == np.uint32
    for i, t in enumerate(texts):
        ref = mh.reference_signature(t, config)
        assert np.array_equal(sigs[i], ref), (i, t[:80])
        # a blank text is not compared: it takes the reserved key instead of its hash
        assert int(exact[i]) == (int(mh.UNREAD_EMPTY) if not t.strip() else exact_hash(t))


# ----------------------------------------------------------------------------- normalisation


@FAST
@given(st.text())
def test_normalize_fast_path_equals_definition(text):
    assert normalize(text) == sh.normalize_reference(text)


def test_normalize_examples():
    assert normalize("Hello,  World!\n") == "hello world"
    assert normalize("don't STOP—now…") == "don t stop now"
    assert normalize("zero\u200bwidth soft\u00adhyphen") == "zerowidth softhyphen"
    assert normalize("Ünïcödé 日本語、テスト。") == "ünïcödé 日本語 テスト"
    assert normalize("emoji 😀 ok") == "emoji ok"
    assert normalize("lone \ud800 surrogate") == "lone \ud800 surrogate"
    assert normalize("") == "" and normalize(" \t!?\n") == ""


def test_shingle_rules():
    assert sh.word_shingles("", 5) == []
    assert sh.word_shingles("One", 5) == [(b"one",)]
    assert sh.word_shingles("a b c", 5) == [(b"a", b"b", b"c")]
    assert len(sh.word_shingles(words_text(7), 5)) == 3
    assert sh.char_shingles("Hi!", 24) == ["hi"]
    assert len(sh.char_shingles("x" * 30, 24)) == 7
    h, c = ngram_hashes(["short text", words_text(14)], 13)
    assert c.tolist() == [0, 2] and h.dtype == np.uint64


def test_word_hash_bulk_equals_scalar_at_chunk_boundaries():
    rng = random.Random(9)
    ws = ["a" * k for k in (1, 7, 8, 9, 15, 16, 17, 64, 255, 256, 257, 1000)]
    ws += ["é" * k for k in (4, 5, 8, 9, 200)] + ["日本語テキスト" * 3, "x" * 40 + "😀" + "y" * 9]
    ws += ["".join(rng.choice("abcdefgh12") for _ in range(rng.randint(1, 40))) for _ in range(200)]
    text = " ".join(ws)
    bulk, counts, exact = sh._word_batch([text, "", text.upper()])
    scalar = [sh.word_hash(w) for w in sh.words(text)]
    assert counts.tolist() == [len(scalar), 0, len(scalar)]
    assert bulk[: len(scalar)].tolist() == scalar
    assert int(exact[0]) == int(exact[2]) == exact_hash(text) and int(exact[1]) == exact_hash("")
    assert len(set(scalar)) == len(set(sh.words(text)))


def batch_words(texts: list[str]) -> list[list[bytes]]:
    buf, start = sh.spaced_batch(texts)
    raw = buf.tobytes()
    ends = start[1:].tolist() + [len(raw) + 1]
    return [raw[a:b - 1].split() for a, b in zip(start.tolist(), ends)]


def test_batch_normalisation_equals_per_text_on_every_utf8_length():
    # 1-4 byte characters, breaks (NBSP, em dash, CJK full stop, emoji), format characters cut out
    # (soft hyphen, zero-width space, BOM, a plane-14 tag), lone surrogates, combining marks, the
    # dotted capital I whose lower case is two characters, and texts made only of cut characters.
    texts = ["a\u00a0b\u00adc", "x\u2014y\u200bz\ufeff", "日本。語、", "emoji😀mid\U000e0041tag",
             "lone\ud800 s\udfff", "e\u0301 İstanbul", "\u200b\u200b", "", "\u00ad", "plain ascii, ok!",
             "∑ ∞ ≈ ⟨tag⟩ ſ ﬁ", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \U0001F600\U0001F3FD"]
    assert batch_words(texts) == [sh.words(t) for t in texts]
    assert batch_words(texts[::-1]) == [sh.words(t) for t in texts[::-1]]


@FAST
@given(st.lists(st.text(), max_size=6))
def test_batch_normalisation_equals_per_text_hypothesis(texts):
    assert batch_words(texts) == [sh.words(t) for t in texts]


# ----------------------------------------------------------------------------- signatures


@FAST
@given(st.lists(st.text(max_size=300), max_size=8))
def test_word_signatures_equal_datasketch_hypothesis(texts):
    assert_same_as_datasketch(texts, WORD)


@FAST
@given(st.lists(st.text(max_size=120), max_size=6))
def test_char_signatures_equal_datasketch_hypothesis(texts):
    assert_same_as_datasketch(texts, CHAR)


def random_corpus(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzäöüßéçñøå日本語中文한국어кириллицаالعربية😀🚀"
    vocab = ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 9))) for _ in range(3000)]
    vocab += ["".join(rng.choice(alphabet) for _ in range(rng.randint(10, 400))) for _ in range(30)]
    punct = ["", "", "", ",", ".", "!", "?", "—", "…", "'s", ")", ":"]
    texts = []
    for _ in range(n):
        r = rng.random()
        if r < 0.05:
            texts.append(rng.choice(["", " ", "!!!", "\n\t"]))
        elif r < 0.15:
            texts.append(rng.choice(vocab).upper())
        else:
            k = rng.choice([2, 4, 5, 6, 12, 40, 150])
            texts.append(" ".join(rng.choice(vocab) + rng.choice(punct) for _ in range(k)))
    return texts


def test_signatures_equal_datasketch_on_thousands_of_texts():
    texts = random_corpus(2500, seed=7)
    assert_same_as_datasketch(texts, WORD)
    assert_same_as_datasketch(texts[:400], CHAR)


def test_very_long_text_and_chunk_boundaries(monkeypatch):
    rng = random.Random(3)
    long = " ".join(f"t{rng.randint(0, 50000)}" for _ in range(40000))  # > one permutation chunk
    texts = ["", long, "a b", "", words_text(30)]
    sigs, _ = sketch(texts, WORD)
    ref = MinHash(num_perm=128, seed=1, hashfunc=sh.word_shingle_hash, scheme="affine32")
    ref.update_batch(sh.word_shingles(long, 5))
    assert np.array_equal(sigs[1], ref.hashvalues)
    # Tiny chunks split every document across chunks: the result must not change.
    monkeypatch.setattr(mh, "_CHUNK", 7)
    small_chunks, _ = sketch(texts[2:] + random_corpus(50, seed=1), WORD)
    monkeypatch.undo()
    assert np.array_equal(small_chunks, sketch(texts[2:] + random_corpus(50, seed=1), WORD)[0])


def test_other_params_equal_datasketch():
    texts = random_corpus(60, seed=11)
    assert_same_as_datasketch(texts, MinHashConfig(num_perm=64, seed=42, ngram=3))


def test_empty_documents_get_empty_minhash():
    sigs, _ = sketch(["", "?!", "   ", "word"], WORD)
    assert (sigs[:3] == EMPTY).all()
    assert is_empty(sigs).tolist() == [True, True, True, False]
    empty_ref = MinHash(num_perm=128, seed=1, scheme="affine32")
    assert np.array_equal(sigs[0], empty_ref.hashvalues)


# ----------------------------------------------------------------------------- LSH


def test_lsh_params_come_from_datasketch():
    assert lsh_params(0.8, 128, (0.5, 0.5)) == (9, 13)  # datasketch's default weights
    ref = MinHashLSH(threshold=0.8, num_perm=128, weights=(0.05, 0.95))
    assert WORD.bands_rows == (ref.b, ref.r) == (16, 8)
    assert lsh.candidate_probability(0.8, 16, 8) > 0.94


def test_known_lsh_params_equal_datasketch_optimiser():
    from datasketch.lsh import _optimal_param

    assert lsh.KNOWN_PARAMS
    for (threshold, num_perm, (fp, fn)), answer in lsh.KNOWN_PARAMS.items():
        assert _optimal_param(threshold, num_perm, fp, fn) == answer
    # a question not in the table still goes to datasketch
    assert lsh.bands_rows(0.7, 64, (0.05, 0.95)) == _optimal_param(0.7, 64, 0.05, 0.95)


def _group_verify(group):
    """A verifier for link tests: similarity 1 inside a planted group, 0 across, counting calls."""
    calls = []

    def verify(i, j):
        calls.append(len(i))
        return (group[i] == group[j]).astype(np.float32)

    return verify, calls


def _components(n, i, j):
    uf = UnionFind(n)
    if len(i):
        uf.union(i, j)
    return uf.roots()


def test_link_buckets_members_failing_the_leader_still_meet():
    """One bucket holding a stray leader and two interleaved groups: both groups are found, the
    leader joins neither (a star alone would link nobody: every member fails against it)."""
    group = np.array([9, 1, 2, 1, 2, 1, 2])
    bh = np.zeros((7, 1), dtype=np.uint64)
    verify, calls = _group_verify(group)
    i, j, s, n = lsh.link_buckets(bh, verify, 0.8, UnionFind(7))
    roots = _components(7, i, j)
    assert roots.tolist() == [0, 1, 2, 1, 2, 1, 2]
    assert (s >= 0.8).all() and n == sum(calls) <= 6 + 5 + 2
    # With one round only, the members failing the leader wait for another band.
    i, j, _, _ = lsh.link_buckets(bh, verify, 0.8, UnionFind(7), max_rounds=1)
    assert len(i) == 0


@FAST
@given(st.integers(2, 300), st.integers(1, 12), st.integers(1, 6), st.integers(0, 2**31))
def test_link_buckets_find_every_planted_group(n, groups, bands, seed):
    """Similarity an equivalence (planted groups): two members of a group that share a bucket in
    any band end up in one set, members of different groups never do, and the pairs verified
    stay within max_rounds per bucket member."""
    rng = np.random.default_rng(seed)
    group = rng.integers(0, groups, n)
    bh = rng.integers(0, 4, (n, bands)).astype(np.uint64)  # few buckets: groups mix in each
    verify, calls = _group_verify(group)
    i, j, s, verified = lsh.link_buckets(bh, verify, 0.5, UnionFind(n), max_rounds=groups + 1)
    roots = _components(n, i, j)
    assert (group[i] == group[j]).all() and (s == 1).all()
    expect = np.arange(n)
    for k in range(bands):
        for g in range(groups):
            for v in range(4):
                m = np.flatnonzero((group == g) & (bh[:, k] == v))
                if len(m) > 1:
                    expect = _relabel(expect, m)
    assert np.array_equal(_canon(roots), _canon(expect))
    assert verified <= (groups + 1) * n * bands


def _relabel(labels, members):
    lab = labels[members]
    out = labels.copy()
    out[np.isin(out, lab)] = lab.min()
    return out


def _canon(labels):
    _, first, inv = np.unique(labels, return_index=True, return_inverse=True)
    return first[inv.ravel()]


def test_a_bucket_of_20k_identical_signatures_costs_linear_time_and_memory():
    """20k distinct texts with one signature (a template bucket in every band): the old all-pairs
    step made 200M pairs per band; linking verifies each member once."""
    import time
    import tracemalloc

    k = 20_000
    sigs = np.tile(np.arange(128, dtype=np.uint32), (k, 1))
    exact = np.arange(1, k + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    tracemalloc.start()
    t0 = time.perf_counter()
    r = find_duplicates(sigs, exact)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert r.n_clusters == 1 and r.near_duplicates == k - 1
    assert r.candidate_pairs == k - 1  # one round, then every later band finds them linked
    assert peak < 64 * 2**20, peak  # 20k x 128 signatures alone are 10 MB
    assert seconds < 10


def test_cross_links_one_candidate_per_index_group():
    """A query meets one member per duplicate group of its index bucket, at most max_rounds."""
    group = np.array([0, 0, 0, 0, 1, 1, 2])  # index rows: a 4-copy group, a 2-copy group, a single
    bh_index = np.zeros((7, 1), dtype=np.uint64)
    bh_query = np.zeros((2, 1), dtype=np.uint64)
    truth = {0: 2, 1: 1}  # query 0 is like group 2, query 1 like group 1
    seen = []

    def verify(q, x):
        seen.append((q.tolist(), x.tolist()))
        return np.array([1.0 if group[b] == truth[a] else 0.0 for a, b in zip(q, x)], dtype=np.float32)

    match, sim = lsh.cross_links(bh_query, bh_index, group, verify, 0.8)
    assert match.tolist() == [6, 4] and sim.tolist() == [1.0, 1.0]
    assert seen == [([0, 0, 0, 1, 1, 1], [0, 4, 6, 0, 4, 6])]
    match, _ = lsh.cross_links(bh_query, bh_index, group, verify, 0.8, max_rounds=2)
    assert match.tolist() == [-1, 4]


def test_signatures_work_in_a_datasketch_index():
    texts = [BASE100, replace_word(BASE100, 50, "changed"), UNRELATED[0]]
    sigs, _ = sketch(texts)
    index = mh.datasketch_lsh()
    lean = mh.lean_minhashes(sigs)
    for i, m in enumerate(lean):
        index.insert(i, m)
    assert (index.b, index.r) == WORD.bands_rows
    assert sorted(index.query(lean[1])) == [0, 1]
    assert lean[0].jaccard(lean[1]) == mh.jaccard(sigs[0], sigs[1])


# ----------------------------------------------------------------------------- clusters


BASE100 = words_text(100)
BASE40 = words_text(40, prefix="q")
UNRELATED = [words_text(60, prefix=p) for p in ("x", "y", "z")]


def test_tiny_set_clusters():
    texts = [
        BASE100,  # 0
        UNRELATED[0],  # 1
        BASE100.upper().replace(" ", ",  ") + "!",  # 2 exact dup of 0 after normalisation
        replace_word(BASE100, 50, "changed"),  # 3 near dup of 0 (one word changed in 100)
        UNRELATED[1],  # 4
        BASE40,  # 5
        replace_word(BASE40, 39, "changed"),  # 6 one word changed at the end of 40: J = 35/37
        UNRELATED[2],  # 7
    ]
    sigs, exact = sketch(texts)
    r = find_duplicates(sigs, exact)
    assert r.cluster_id.tolist() == [0, -1, 0, 0, -1, 1, 1, -1]
    assert [DUP_KINDS[k] for k in r.dup_kind] == ["none", "none", "exact", "near", "none", "none", "near", "none"]
    assert r.is_kept.tolist() == [True, True, False, False, True, True, False, True]
    c0, c1 = r.clusters()
    assert c0.members.tolist() == [0, 2, 3] and c0.kept == 0
    assert 0.8 <= c0.similarity < 1.0
    assert c1.members.tolist() == [5, 6] and c1.kept == 5
    s = r.summary()
    assert (s["exact_duplicates"], s["near_duplicates"], s["clusters"], s["kept"]) == (1, 2, 2, 5)
    assert s["params"]["bands"] == 16 and s["params"]["rows"] == 8


def test_one_word_changed_mid_40_words_is_below_default_threshold():
    # With 5-word shingles one changed word removes 5 of 36 shingles: J = 31/41 = 0.76.
    texts = [BASE40, replace_word(BASE40, 20, "changed")]
    sigs, exact = sketch(texts)
    assert find_duplicates(sigs, exact).n_clusters == 0
    r = find_duplicates(sigs, exact, MinHashConfig(threshold=0.65))
    assert r.cluster_id.tolist() == [0, 0]


def test_empty_documents_are_never_near_duplicates():
    texts = ["", "!!!", "", "???", " ", words_text(20)]
    sigs, exact = sketch(texts)
    r = find_duplicates(sigs, exact)
    # "", "" and " " have no text: not compared (never duplicates); "!!!" and "???" are distinct.
    assert r.cluster_id.tolist() == [-1] * 6
    assert r.exact_duplicates == r.near_duplicates == 0
    assert r.not_compared == 3 and r.is_kept.all() and r.kept == 3


def test_union_find_makes_clusters_transitive():
    # One edit a->b, one more b->c: true J(a,b) = J(b,c) = 0.88, J(a,c) = 0.77. 512 permutations
    # keep the estimates within ~3 standard deviations of the 0.82 threshold on each side.
    cfg = MinHashConfig(num_perm=512, threshold=0.82)
    a = words_text(80)
    b = replace_word(a, 30, "zz")
    c = replace_word(b, 55, "yy")
    sigs, exact = sketch([a, b, c], cfg)
    assert mh.jaccard(sigs[0], sigs[2]) < 0.82 <= min(mh.jaccard(sigs[0], sigs[1]), mh.jaccard(sigs[1], sigs[2]))
    r = find_duplicates(sigs, exact, cfg)
    assert r.cluster_id.tolist() == [0, 0, 0]
    assert r.cluster_similarity[0] == pytest.approx(min(mh.jaccard(sigs[0], sigs[1]), mh.jaccard(sigs[1], sigs[2])))


@FAST
@given(
    st.integers(2, 40).flatmap(
        lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
    )
)
def test_union_find_equals_graph_components(case):
    n, edges = case
    uf = UnionFind(n)
    if edges:
        i, j = map(np.array, zip(*edges))
        uf.union(i, j)
    # Reference: repeated relaxation to the smallest reachable index.
    label = list(range(n))
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            m = min(label[a], label[b])
            if label[a] != m or label[b] != m:
                label[a] = label[b] = m
                changed = True
    assert uf.roots().tolist() == label


def test_keep_policies():
    short = BASE100
    longer = BASE100 + "!!!"  # same normalised text, longer raw line
    near = replace_word(BASE100, 50, "other")
    texts = [short, near, longer]
    sigs, exact = sketch(texts)
    assert find_duplicates(sigs, exact, keep="first").cluster_kept.tolist() == [0]
    r = find_duplicates(sigs, exact, keep="longest", lengths=[len(t) for t in texts])
    assert r.cluster_kept.tolist() == [2]
    # The kept doc represents its exact group, so 0 is its exact duplicate and 1 a near one.
    assert [DUP_KINDS[k] for k in r.dup_kind] == ["exact", "near", "none"]
    r = find_duplicates(sigs, exact, keep="most-trainable-tokens", trainable_tokens=[5, 9, 9])
    assert r.cluster_kept.tolist() == [1]  # tie 9/9 goes to the earlier line
    assert [DUP_KINDS[k] for k in r.dup_kind] == ["near", "none", "exact"]
    with pytest.raises(ValueError):
        find_duplicates(sigs, exact, keep="longest")
    with pytest.raises(ValueError):
        find_duplicates(sigs, exact, keep="random")


def test_exact_count_is_n_minus_distinct_keys():
    texts = random_corpus(300, seed=2)
    texts += texts[:100]
    sigs, exact = sketch(texts)
    r = find_duplicates(sigs, exact)
    read = ~mh.is_unread(exact)
    assert r.not_compared == np.count_nonzero(~read)
    assert r.exact_duplicates == np.count_nonzero(read) - len(np.unique(exact[read]))
    assert r.kept == len(texts) - r.exact_duplicates - r.near_duplicates - r.not_compared
    assert (r.cluster_id[r.dup_kind > 0] >= 0).all()


# ----------------------------------------------------------------------------- leakage


def test_leakage_kinds():
    train = [BASE100, words_text(120, prefix="u"), words_text(50, prefix="k")]
    other = [
        BASE100.title(),  # exact
        replace_word(words_text(120, prefix="u"), 60, "changed"),  # near: J = 111/121
        "prefix words " + " ".join(words_text(50, prefix="k").split()[10:24]) + " then other stuff",  # 13-gram
        words_text(30, prefix="fresh"),  # clean
        "",  # empty, clean
    ]
    ts, te = sketch(train)
    os_, oe = sketch(other)
    r = leakage(ts, te, os_, oe, train_ngrams=ngram_hashes(train), other_ngrams=ngram_hashes(other))
    assert [LEAK_KINDS[k] for k in r.kind] == ["exact", "near", "ngram", "none", "none"]
    assert r.match.tolist() == [0, 1, 2, -1, -1]
    assert r.similarity[0] == 1.0 and r.similarity[1] >= 0.8
    assert r.ngram_overlap[2] == 2  # 14 shared words = two 13-grams
    assert r.counts() == {"exact": 1, "near": 1, "ngram": 1}
    without_ngrams = leakage(ts, te, os_, oe)
    assert [LEAK_KINDS[k] for k in without_ngrams.kind] == ["exact", "near", "none", "none", "none"]


# ----------------------------------------------------------------------------- DP503


def test_conflicting_answers():
    long_answer = words_text(40, prefix="a")
    prompts = [
        "What is 2+2?",
        "what is 2 + 2",
        "Capital of France?",
        "capital of france",
        "Explain",
        "explain!",
        "solo",
    ]
    answers = [
        "The answer is 4.",
        "The answer is 5.",
        "Paris.",
        "paris",  # same after normalisation: no conflict
        long_answer,
        replace_word(long_answer, 20, "tweak"),  # one word in 40: not material
        "anything",
    ]
    keys = [exact_hash(p) for p in prompts]
    conflicts = conflicting_answers(keys, answers)
    assert len(conflicts) == 1
    assert conflicts[0].members.tolist() == [0, 1]
    assert conflicts[0].min_similarity < 0.5


def test_conflicting_answers_equal_a_brute_force_reference_in_any_chunking(monkeypatch):
    """Exact Jaccard of the answers' word 3-gram hash sets, min over the compared pairs (all pairs,
    or star from the first member in groups over max_group), computed here the obvious way."""
    from dataprep.dedup import clusters
    from dataprep.dedup.shingles import shingle_hashes

    rng = random.Random(7)
    vocab = "the a answer is four five six seven cat dog blue red green x y z".split()
    keys, texts = [], []
    for g in range(400):
        base = " ".join(rng.choices(vocab, k=rng.randint(0, 25)))
        for _ in range(rng.choice([1, 2, 3, 5, 12])):
            t = base if rng.random() < 0.4 else " ".join(rng.choices(vocab, k=rng.randint(0, 25)))
            keys.append(g)
            texts.append("" if rng.random() < 0.05 else t)
    order = list(range(len(keys)))
    rng.shuffle(order)
    keys, texts = [keys[i] for i in order], [texts[i] for i in order]

    def reference(max_group):
        h, c, exact = shingle_hashes(texts, "word", 3)
        off = np.concatenate([[0], np.cumsum(c)])
        sets = [set(h[off[i]:off[i + 1]].tolist()) for i in range(len(texts))]
        out = []
        for g in sorted(set(keys), key=lambda g: keys.index(g)):
            m = [i for i, k in enumerate(keys) if k == g]
            if len(m) < 2 or len({int(exact[i]) for i in m}) == 1:
                continue
            pairs = [(a, b) for x, a in enumerate(m) for b in m[x + 1:]] if len(m) <= max_group else \
                [(m[0], b) for b in m[1:]]
            sims = [1.0 if not (sets[a] or sets[b]) else len(sets[a] & sets[b]) / len(sets[a] | sets[b])
                    for a, b in pairs if exact[a] != exact[b]]
            if min(sims, default=1.0) < 0.5:
                out.append((m, min(sims)))
        return out

    for chunk in (1, 7, 1 << 15):
        monkeypatch.setattr(clusters, "_CONFLICT_CHUNK", chunk)
        for max_group in (64, 4):
            got = [(c.members.tolist(), c.min_similarity) for c in conflicting_answers(keys, texts,
                                                                                        max_group=max_group)]
            assert got == reference(max_group)
            assert len(got) > 50


# ----------------------------------------------------------------------------- splits


def test_splits_never_straddle_clusters():
    rng = random.Random(4)
    texts = [words_text(rng.randint(20, 80), prefix=f"d{i}_") for i in range(400)]
    texts += [texts[rng.randrange(400)] for _ in range(100)]  # exact copies
    texts += [replace_word(texts[i], 0, "edited") for i in range(50)]  # near copies
    sigs, exact = sketch(texts)
    r = find_duplicates(sigs, exact)
    groups = groups_from_clusters(r.cluster_id)
    split = assign_splits(groups, [0.8, 0.1, 0.1], seed=3)
    assert np.array_equal(split, assign_splits(groups, [0.8, 0.1, 0.1], seed=3))
    for c in r.clusters():
        assert len(set(split[c.members].tolist())) == 1
    frac = np.bincount(split, minlength=3) / len(texts)
    assert np.allclose(frac, [0.8, 0.1, 0.1], atol=0.03)
    # DP502 on the output: no validation/test document leaks from train.
    tr, te_ = split == 0, split != 0
    lk = leakage(sigs[tr], exact[tr], sigs[te_], exact[te_])
    assert lk.leaked.size == 0
    strata = np.array(["en", "de"])[np.arange(len(texts)) % 2]
    s2 = assign_splits(groups, [0.5, 0.5], seed=1, strata=strata)
    for lang in ("en", "de"):
        share = np.mean(s2[strata == lang] == 0)
        assert 0.4 < share < 0.6


# ----------------------------------------------------------------------------- what is compared


def test_compare_text_modes():
    ex = {
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "image_url", "image_url": {}}]},
            {"role": "assistant", "content": None, "tool_calls": [{"function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "content": "42"},
            {"role": "assistant", "content": "It is 42."},
        ]
    }
    # what the scan hashes: user turns, then assistant turns (a tool-calling turn without text is
    # an empty line); no system prompt, tool result or call (dataprep.text.compared_text)
    assert compare_text(ex) == "Hi\n\nIt is 42."
    assert compare_text(ex, "user") == "Hi"
    assert compare_text(ex, "assistant") == "\nIt is 42."
    assert prompt_and_answer(ex) == ("Be brief.\nHi\nf {}\n42", "It is 42.")
    dpo = {
        "input": {"messages": [{"role": "user", "content": "Q"}]},
        "preferred_output": [{"role": "assistant", "content": "A"}],
    }
    assert compare_text(dpo) == "Q\nA"
    assert compare_text("not a dict") == "" and prompt_and_answer({"messages": "x"}) is None
    with pytest.raises(ValueError):
        compare_text(ex, "tool")
