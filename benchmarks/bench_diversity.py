"""Diversity analysis speed on synthetic data.

    python benchmarks/bench_diversity.py [--n 1000000] [--jobs 2] [--shard 20000] [--scale 1.0]

Synthetic examples (seeded): words drawn from a 50,000-word Zipf(1.07) vocabulary of random
letter strings (a tenth carry a comma or full stop); user text ~ log-normal with median 20
words (sigma 0.8), assistant text median 50 words (sigma 0.9), both capped at 4,000 words, so
about 100 words per example (the project's benchmarks/data/chat100k.jsonl has ~86);
``--scale 1.7`` gives ~170. 1-5 user turns (70% one), a system prompt in 80% (5 distinct),
tool calls in 5%. The language sample uses plain English sentences from a small vocabulary
instead (langdetect on letter soup is slower than on any real text), with 5% German and 5%
Chinese examples.

Timed, each on its own:
  features   ``text_features`` on shards of ``--shard`` rows in ``--jobs`` worker processes,
             each making its shard's texts first (untimed, as parsing would in the scan): the
             per-shard work the scan runs (tokenising, hashing, n-gram sets, MATTR, MTLD; with
             line offsets, so stream blocks are 32 KiB windows as in the scan);
             reported as the workers' summed wall time / jobs, and CPU time
  dataset    ``merge_text_features`` + ``diversity_report`` without language and Vendi: the
             lexical, opening and structural figures of the whole file from the features
  language   langdetect on the default 2,000-example sample (user + assistant text), ``--jobs``
  vendi      the n-gram Vendi score on 500 of those examples
Targets (issue 6): lexical + structural metrics on 1M examples < 15 s on 2 cores; language < 10 s.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import time

import numpy as np

_VOCAB: dict = {}


def _vocab(vocab_size: int = 50_000):
    if "v" not in _VOCAB:
        rng = np.random.default_rng(0)
        letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
        wl = rng.integers(2, 11, size=vocab_size)
        chars = rng.choice(letters, size=int(wl.sum()))
        vocab = ["".join(x) for x in np.split(chars, np.cumsum(wl)[:-1])]
        punct = rng.random(vocab_size)
        vocab = [w + ("," if p < 0.05 else "." if p < 0.1 else "") for w, p in zip(vocab, punct)]
        p = 1.0 / np.arange(1, vocab_size + 1) ** 1.07
        _VOCAB.update(v=np.array(vocab, dtype=object), wlen=np.array([len(v) + 1 for v in vocab]), p=p / p.sum())
    return _VOCAB["v"], _VOCAB["wlen"], _VOCAB["p"]


def make_texts(n: int, median: float, sigma: float, seed: int, max_words: int = 4000) -> list[str]:
    """``n`` texts of Zipf-distributed pseudo-words with log-normal word counts."""
    va, wlen, p = _vocab()
    rng = np.random.default_rng(seed)
    lens = np.clip(rng.lognormal(np.log(median), sigma, size=n).astype(np.int64), 1, max_words)
    widx = rng.choice(len(va), size=int(lens.sum()), p=p)
    big = " ".join(va[widx].tolist()) + " "
    cpos = np.concatenate(([0], np.cumsum(wlen[widx])))
    ends = np.cumsum(lens)
    b = cpos[np.concatenate(([0], ends[:-1]))]
    e = cpos[ends] - 1
    return [big[i:j] for i, j in zip(b.tolist(), e.tolist())]


def make_structure(user_chars: np.ndarray, asst_chars: np.ndarray, seed: int = 3):
    """The Profile's structural columns for the synthetic examples (see diversity/structure.py)."""
    import polars as pl

    n = len(user_chars)
    rng = np.random.default_rng(seed)
    turns = rng.choice([1, 2, 3, 4, 5], size=n, p=[0.7, 0.2, 0.05, 0.03, 0.02])
    has_sys = rng.random(n) < 0.8
    tools = rng.random(n) < 0.05
    sys_id = rng.integers(0, 5, size=n)
    pats = {}
    for t in range(1, 6):
        for s in (False, True):
            for tl in (False, True):
                body = ["u", "a"] * t if not tl else ["u", "a", "t", "a"] + ["u", "a"] * (t - 1)
                pats[(t, s, tl)] = (["s"] if s else []) + body
    msgs = [pats[(int(t), bool(s), bool(tl))] for t, s, tl in zip(turns, has_sys, tools)]
    lens = np.array([len(m) for m in msgs])
    flat = np.array([r for m in msgs for r in m])
    row = np.repeat(np.arange(n), lens)
    n_u = np.bincount(row, weights=flat == "u", minlength=n)
    n_a = np.bincount(row, weights=flat == "a", minlength=n)
    # each role's characters spread evenly over its messages; system prompts 40-160, tools 20
    chars = np.select(
        [flat == "u", flat == "a", flat == "s"],
        [user_chars[row] // n_u[row], asst_chars[row] // n_a[row], 40 + 30 * sys_id[row]],
        20,
    ).astype(np.int64)
    msg_chars = pl.DataFrame({"row": row, "c": chars}).group_by("row", maintain_order=True).agg("c")["c"]
    return pl.DataFrame(
        {
            "roles": [",".join(m) for m in msgs],
            "msg_chars": msg_chars,
            "tool_calls": tools,
            "system_hash": pl.Series(sys_id + 1000, dtype=pl.UInt64),
        }
    ).with_columns(pl.when(pl.Series(has_sys)).then(pl.col("system_hash")).alias("system_hash"))


_WORDS = {
    "people": "teacher doctor farmer pilot student baker nurse painter sailor lawyer engineer writer gardener".split(),
    "adj": "old new quiet busy bright small large careful happy tired clever famous local young patient".split(),
    "noun": "house garden bridge river letter report market station museum kitchen library harbour village".split(),
    "verb": "visited repaired described cleaned painted opened closed found moved checked explained built".split(),
    "when": "yesterday|last week|this morning|after lunch|before the storm|during the holidays|every day".split("|"),
}
_DE = "Ich habe gestern einen langen Spaziergang durch den Wald gemacht. Das Wetter war warm und sonnig, und wir haben viel gelacht. "
_ZH = "我昨天和朋友一起去公园散步，天气非常好。我们聊了很多关于工作和生活的事情。"


def natural_sample(k: int, scale: float) -> tuple[list[str], list[str]]:
    """``k`` prompt/reply pairs of plain English (5% German, 5% Chinese) for timing langdetect."""
    rng = random.Random(7)
    w = _WORDS

    def sentence() -> str:
        return f"The {rng.choice(w['adj'])} {rng.choice(w['people'])} {rng.choice(w['verb'])} the {rng.choice(w['adj'])} {rng.choice(w['noun'])} {rng.choice(w['when'])}."

    users, replies = [], []
    for i in range(k):
        if i % 20 == 7:
            users.append(_DE)
            replies.append(_DE * max(1, int(3 * scale)))
        elif i % 20 == 13:
            users.append(_ZH)
            replies.append(_ZH * max(1, int(3 * scale)))
        else:
            users.append("Please explain why " + sentence().lower() + " " + sentence())
            replies.append(" ".join(sentence() for _ in range(max(1, int(rng.lognormvariate(1.7, 0.6) * scale)))))
    return users, replies


def _shard(job: tuple[int, int, float]):
    """One scan worker: make its shard's texts (untimed, as parsing would), then time the features."""
    os.environ.setdefault("POLARS_MAX_THREADS", "1")  # one single-threaded worker per core
    from dataprep.diversity.features import text_features

    a, b, scale = job
    users = make_texts(b - a, 20 * scale, 0.8, seed=2 * a + 1)
    assistants = make_texts(b - a, 50 * scale, 0.9, seed=2 * a + 2)
    # each line's byte offset, as the scan passes them: texts plus ~120 bytes of JSON around them
    # (shards are spaced 2,000 bytes a row apart; only the order and the 32 KiB windows matter)
    sizes = np.array([len(u) + len(x) + 120 for u, x in zip(users, assistants)])
    offsets = 2000 * a + np.concatenate(([0], np.cumsum(sizes)[:-1]))
    t0, w0 = time.process_time(), time.perf_counter()
    tf = text_features(users, assistants, line_offsets=offsets, start_row=a)
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    chars = (np.array([len(x) for x in users]), np.array([len(x) for x in assistants]))
    return tf, cpu, wall, chars


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--shard", type=int, default=20_000)
    ap.add_argument("--scale", type=float, default=1.0, help="multiply the median text lengths")
    ap.add_argument("--language-sample", type=int, default=2000)
    ap.add_argument("--skip-language", action="store_true")
    args = ap.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores before the run")

    jobs = [(a, min(args.n, a + args.shard), args.scale) for a in range(0, args.n, args.shard)]
    t = time.perf_counter()
    if args.jobs > 1:
        # fork before polars is imported here, so each worker starts its own single-threaded pool
        with mp.get_context("fork").Pool(args.jobs) as pool:
            res = pool.map(_shard, jobs, chunksize=1)
    else:
        res = [_shard(j) for j in jobs]
    pool_s = time.perf_counter() - t
    parts = [r[0] for r in res]
    feat_cpu = sum(r[1] for r in res)
    feat_s = sum(r[2] for r in res) / args.jobs
    uc = np.concatenate([r[3][0] for r in res])
    ac = np.concatenate([r[3][1] for r in res])

    from dataprep.diversity.features import merge_text_features
    from dataprep.diversity.report import diversity_report

    structure = make_structure(uc, ac)
    t = time.perf_counter()
    c0 = time.process_time()
    tf = merge_text_features(parts, jobs=args.jobs)
    merge_s = time.perf_counter() - t
    rep = diversity_report(tf, structure)
    data_s = time.perf_counter() - t
    data_cpu = time.process_time() - c0
    words = tf.lexicon["user"].words + tf.lexicon["assistant"].words

    lang_s = vendi_s = None
    if not args.skip_language:
        from dataprep.diversity.features import combined_texts
        from dataprep.diversity.language import detect_sample, sample_indices
        from dataprep.diversity.vendi import vendi_score

        rows = sample_indices(args.n, args.language_sample)
        su, sa = natural_sample(len(rows), args.scale)
        t = time.perf_counter()
        sample = detect_sample(su, sa, rows, args.n, jobs=args.jobs)
        lang_s = time.perf_counter() - t
        t = time.perf_counter()
        vendi_score(combined_texts(su, sa))
        vendi_s = time.perf_counter() - t

    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    print(f"examples {args.n:,}  words {words:,} ({words / args.n:.0f}/example)  shards {len(jobs)} x {args.shard:,}  jobs {args.jobs}")
    print(f"features (scan side)   {feat_s:7.2f} s wall   {feat_cpu:7.2f} s CPU   {feat_cpu / words * 1e9:5.0f} ns/word CPU  (pool incl. text generation {pool_s:.1f} s)")
    print(f"dataset level          {data_s:7.2f} s wall   {data_cpu:7.2f} s CPU  (merging the shards {merge_s:.2f} s, report {data_s - merge_s:.2f} s)")
    print(f"lexical + structural   {feat_s + data_s:7.2f} s wall in all (target < 15 s at 1M on 2 cores)")
    if lang_s is not None:
        ex = sample.example
        print(f"language, {len(rows):,} sampled  {lang_s:7.2f} s wall (target < 10 s); shares en {ex.count('en') / len(ex):.3f} de {ex.count('de') / len(ex):.3f} zh {ex.count('zh') / len(ex):.3f}")
        print(f"vendi, 500 sampled     {vendi_s:7.2f} s wall")
    print(f"peak RSS (main)        {peak_gb:7.2f} GB; load average {os.getloadavg()[0]:.1f} after the run")
    lx = rep["lexical"]
    print(
        "check: user d1/d2/d3 {:.4f}/{:.4f}/{:.4f} mattr {:.3f} mtld {:.1f}; assistant d2 {:.4f}".format(
            lx["user"]["distinct_1"], lx["user"]["distinct_2"], lx["user"]["distinct_3"], lx["user"]["mattr"], lx["user"]["mtld"], lx["assistant"]["distinct_2"]
        )
    )


if __name__ == "__main__":
    main()
