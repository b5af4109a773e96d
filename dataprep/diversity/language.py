"""Language mix from a deterministic sample, with 95% intervals.

- Input: at most ``INPUT_CAP`` (8,000) characters of a text are looked at, cut before any
  regex runs, so a 50 MB line costs what an 8 KB one does. Cleaning removes fenced and inline
  code, code-like lines (keywords, symbol-dense, or short lines with calls, snake_case,
  assignments...), URLs, e-mail addresses and numbers.
- Script first: the letters of the cleaned text are counted per Unicode script (a Han, Kana or
  Hangul character counts as ``CJK_WEIGHT`` letters: one carries about what a short Latin word
  does). Where the dominant script names one language, that is the answer: Han without Kana
  'zh', Kana (with or without Han) 'ja', Hangul 'ko', Thai, Greek, Hebrew, Armenian, Georgian,
  Bengali, Gurmukhi, Gujarati, Tamil, Telugu, Kannada, Malayalam. Short CJK texts, which
  langdetect's n-grams get wrong (zh read as ko or ja), are decided this way.
- Otherwise langdetect (``DetectorFactory.seed = 0``, so the result depends only on the text)
  on at most 1,000 characters, restricted to the languages written in that script: Arabic
  script to ar/fa/ur, Cyrillic to ru/uk/bg/mk, Devanagari to hi/mr/ne, Latin to the Latin
  languages (an English sentence can no longer come out as Korean). Its best guess is taken.
- Undetermined ('und') only when fewer than ``MIN_LETTERS`` (20) weighted letters remain
  (short or code-only texts), or langdetect finds no feature at all.
- Sample: ``sample_indices(n, k)``, k rows evenly spread over the file (default 2,000; all
  rows with ``full=True``), so the same file always gives the same sample.
- Example language: the reply's (assistant text) when determined, else the prompt's (user
  text), else 'und'. Shares are over sampled examples, 'und' included, each with a Wilson 95%
  interval; when the sample is the whole file the shares are exact and the interval is kept
  only for a uniform output.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_all_start_methods, get_context

import numpy as np

from dataprep.diversity.flags import Flag

SAMPLE_SIZE = 2000
MIN_LETTERS = 20
MIN_PROB = 0.80  # kept for callers that read it; the decision no longer uses it (see the module doc)
MAX_CHARS = 1000
INPUT_CAP = 8 * MAX_CHARS
CJK_WEIGHT = 3
UND = "und"
Z95 = 1.959963984540054
# DP309 reports a prompt/reply language pair only when both detections can be trusted and the
# prompt did not ask for the switch. Measured on 2,087 real conversations (LLaMA-Factory demos):
# without these conditions 47 pairs were flagged, 27 of them wrong (short Latin-script texts such
# as "Amanda, James, John, Maria" read as Indonesian) and 17 of the rest requested translations.
MISMATCH_MIN_LETTERS = 60  # weighted letters in each text (a CJK character counts CJK_WEIGHT)
MISMATCH_MIN_CONFIDENCE = 0.9
_TRANSLATION_REQUEST = re.compile(r"translat|traduc|traduz|übersetz|перев[оеё]д|翻译|翻譯|翻訳|번역", re.I)
LANGUAGE_NAMES = {
    "af": "afrikaans", "ar": "arabic", "bg": "bulgarian", "bn": "bengali", "ca": "catalan", "cs": "czech",
    "cy": "welsh", "da": "danish", "de": "german", "el": "greek", "en": "english", "es": "spanish",
    "et": "estonian", "fa": "persian", "fi": "finnish", "fr": "french", "gu": "gujarati", "he": "hebrew",
    "hi": "hindi", "hr": "croatian", "hu": "hungarian", "id": "indonesian", "it": "italian", "ja": "japanese",
    "kn": "kannada", "ko": "korean", "lt": "lithuanian", "lv": "latvian", "mk": "macedonian", "ml": "malayalam",
    "mr": "marathi", "ne": "nepali", "nl": "dutch", "no": "norwegian", "pa": "punjabi", "pl": "polish",
    "pt": "portuguese", "ro": "romanian", "ru": "russian", "sk": "slovak", "sl": "slovenian", "so": "somali",
    "sq": "albanian", "sv": "swedish", "sw": "swahili", "ta": "tamil", "te": "telugu", "th": "thai",
    "tl": "tagalog", "tr": "turkish", "uk": "ukrainian", "ur": "urdu", "vi": "vietnamese", "zh": "chinese",
}

_FENCE = re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S)
_INLINE = re.compile(r"`[^`\n]*`")
# An e-mail address starts where a run of address characters starts (the lookbehind): tried at
# every position, a long run without '@' would cost quadratic time.
_URL = re.compile(r"(?:https?://|ftp://|www\.)\S+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_NUM = re.compile(r"\d+(?:[.,:/]\d+)*")
_CODE_START = re.compile(
    r"^\s*(?:def |class |import |from \S+ import|return\b|#include|public |private |function |"
    r"var |let |const |SELECT |<\w+[ >/]|</\w+>|\$ |>>> )"
)
_CODE_SYMBOLS = re.compile(r"[{}\[\]()<>;=_*/\\|&^%$#@~+\"']")
_LETTER = re.compile(r"[^\W\d_]")
_SPACES = re.compile(r"\s+")


# calls, snake_case, assignments, comparisons, arrows, statement ends, indented lines
_CODE_HINT = re.compile(r"\w\(|\w_\w|\s=\s|[=!<>]=|->|=>|::|;\s*$|[{}]\s*$|^\s*(?:#|//)|^(?: {4}|\t)\S")

# Unicode scripts (letter blocks). Scripts that name one language decide it; the others narrow
# langdetect down to the languages written in them.
_SCRIPTS = {
    "han": "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef",
    "kana": "\u3040-\u309f\u30a0-\u30ff\u31f0-\u31ff\uff66-\uff9f",
    "hangul": "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af",
    "thai": "\u0e00-\u0e7f",
    "greek": "\u0370-\u03ff\u1f00-\u1fff",
    "hebrew": "\u0590-\u05ff",
    "armenian": "\u0530-\u058f",
    "georgian": "\u10a0-\u10ff",
    "bengali": "\u0980-\u09ff",
    "gurmukhi": "\u0a00-\u0a7f",
    "gujarati": "\u0a80-\u0aff",
    "tamil": "\u0b80-\u0bff",
    "telugu": "\u0c00-\u0c7f",
    "kannada": "\u0c80-\u0cff",
    "malayalam": "\u0d00-\u0d7f",
    "arabic": "\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff",
    "cyrillic": "\u0400-\u052f",
    "devanagari": "\u0900-\u097f",
    "latin": "A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f\u1e00-\u1eff",
}
_SCRIPT_RE = {name: re.compile(f"[{chars}]") for name, chars in _SCRIPTS.items()}
_CJK = frozenset({"han", "kana", "hangul"})
_ONE_LANGUAGE = {
    "hangul": "ko", "thai": "th", "greek": "el", "hebrew": "he", "armenian": "hy", "georgian": "ka",
    "bengali": "bn", "gurmukhi": "pa", "gujarati": "gu", "tamil": "ta", "telugu": "te", "kannada": "kn",
    "malayalam": "ml",
}
# langdetect's languages per script (its profiles); the first is the answer if it finds nothing.
_CANDIDATES = {
    "arabic": ("ar", "fa", "ur"),
    "cyrillic": ("ru", "uk", "bg", "mk"),
    "devanagari": ("hi", "mr", "ne"),
    "latin": ("en", "af", "ca", "cs", "cy", "da", "de", "es", "et", "fi", "fr", "hr", "hu", "id", "it", "lt",
              "lv", "nl", "no", "pl", "pt", "ro", "sk", "sl", "so", "sq", "sv", "sw", "tl", "tr", "vi"),
}


def _is_code_line(line: str) -> bool:
    s = line.strip()
    if not s:
        return False
    if _CODE_START.match(line) or len(_CODE_SYMBOLS.findall(s)) >= 0.2 * len(s.replace(" ", "")):
        return True
    # a hint alone only condemns a short line: a long prose paragraph may mention f(x)
    return len(s) <= 120 and _CODE_HINT.search(line) is not None


def clean_text(text: str) -> str:
    """The prose of ``text``: code, URLs, e-mails and numbers removed, spaces collapsed.

    Only the first ``INPUT_CAP`` characters are read: the cut comes before every regex, so the
    cost is bounded whatever the length of the line.
    """
    t = (text or "")[:INPUT_CAP]
    t = _FENCE.sub(" ", t)
    t = _INLINE.sub(" ", t)
    t = _URL.sub(" ", t)
    t = "\n".join(line for line in t.split("\n") if not _is_code_line(line))
    t = _NUM.sub(" ", t)
    return _SPACES.sub(" ", t).strip()


def script_counts(text: str) -> dict[str, int]:
    """Letters per script in ``text`` (scripts with none are left out)."""
    out = {}
    for name, rx in _SCRIPT_RE.items():
        n = len(rx.findall(text))
        if n:
            out[name] = n
    return out


def _init() -> None:
    from langdetect import DetectorFactory
    from langdetect.detector_factory import init_factory

    DetectorFactory.seed = 0
    init_factory()


class _Languages:
    """What langdetect's ``Detector`` reads from its factory, cut down to some languages.

    Every n-gram stays a key (langdetect samples the text's known n-grams, so the random draws
    stay the same) with its probabilities for the kept languages only, in the factory's order.
    The result is bit for bit langdetect's with a prior of 1 on those languages: a language
    with prior 0 stays at exactly 0.0 and adds exactly nothing to any sum. It only skips them:
    the Latin script keeps 31 of 55 languages (measured: 23% less time per English text).
    """

    def __init__(self, factory, languages: tuple[str, ...]):
        from operator import itemgetter

        keep = [i for i, lang in enumerate(factory.langlist) if lang in languages]
        pick = itemgetter(*keep) if len(keep) > 1 else (lambda probs, i=keep[0]: (probs[i],))
        self.langlist = [factory.langlist[i] for i in keep]
        self.seed = factory.seed
        self.word_lang_prob_map = {w: pick(probs) for w, probs in factory.word_lang_prob_map.items()}


_RESTRICTED: dict[tuple[str, ...], _Languages] = {}


def _langdetect(text: str, candidates: tuple[str, ...]) -> tuple[str, float]:
    """langdetect's best language among ``candidates`` (seeded); (candidates[0], 0.0) when it
    finds no feature."""
    import langdetect.detector_factory as df
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import LangDetectException

    df.DetectorFactory.seed = 0
    if df._factory is None:
        df.init_factory()
    languages = _RESTRICTED.get(candidates)
    if languages is None:
        languages = _RESTRICTED[candidates] = _Languages(df._factory, candidates)
    det = Detector(languages)
    det.append(text)
    try:
        best = det.get_probabilities()[0]
    except (LangDetectException, IndexError):
        return candidates[0], 0.0
    return ("zh" if best.lang.startswith("zh-") else best.lang), float(best.prob)


def detect_one(text: str | None) -> tuple[str, float]:
    """(language, confidence) of one text; ('und', 0.0) when undetermined (see module doc)."""
    t = clean_text(text or "")[: 4 * MAX_CHARS]
    counts = script_counts(t)
    weighted = {k: n * (CJK_WEIGHT if k in _CJK else 1) for k, n in counts.items()}
    if sum(weighted.values()) < MIN_LETTERS:
        return UND, 0.0
    kana, han = counts.get("kana", 0), counts.get("han", 0)
    if kana >= 2 and kana >= 0.1 * (kana + han) and CJK_WEIGHT * (kana + han) >= max(weighted.values()):
        # Japanese mixes kana and kanji; Chinese has no kana (a stray one in a name is not enough)
        return "ja", 1.0
    top = max(weighted, key=lambda k: (weighted[k], k))
    share = weighted[top] / sum(weighted.values())
    if top == "han":
        return "zh", share
    if top == "kana":
        return "ja", share
    if top in _ONE_LANGUAGE:
        return _ONE_LANGUAGE[top], share
    # Scripts shared by several languages: langdetect, restricted to them, on the text.
    return _langdetect(t[:MAX_CHARS], _CANDIDATES[top])


def _detect_chunk(texts: list[str | None]) -> list[tuple[str, float]]:
    return [detect_one(t) for t in texts]


def detect_texts(
    texts: Sequence[str | None], *, jobs: int = 1, chunk: int = 64, executor: Executor | None = None
) -> list[tuple[str, float]]:
    """``detect_one`` over many texts, in ``jobs`` processes or on a caller's ``executor``
    (results never depend on either).

    Own workers are forked after the language profiles are loaded, so they start at once and
    work from any ``__main__`` (spawned ones re-import it, which fails from stdin or a
    notebook); they run pure-Python langdetect only, so threads of the parent do not matter.
    """
    texts = list(texts)
    chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
    if executor is not None:
        return [r for part in executor.map(_detect_chunk, chunks) for r in part]
    _init()
    if jobs <= 1 or len(chunks) < 2:
        return _detect_chunk(texts)
    ctx = get_context("fork" if "fork" in get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init) as ex:
        return [r for part in ex.map(_detect_chunk, chunks) for r in part]


def sample_indices(n: int, k: int = SAMPLE_SIZE, *, full: bool = False) -> np.ndarray:
    """``k`` row indices evenly spread over ``n`` rows (all rows when ``full`` or ``k >= n``)."""
    if full or k >= n:
        return np.arange(n, dtype=np.int64)
    return ((np.arange(k, dtype=np.float64) + 0.5) * n / k).astype(np.int64)


@dataclass
class LanguageSample:
    """Per sampled row: its 0-based ``rows``, and the user, assistant and example languages."""

    rows: np.ndarray
    user: list[str]
    assistant: list[str]
    example: list[str]
    total: int  # examples in the whole dataset
    # indices (into the sample) of rows whose prompt and reply languages differ reliably and
    # unasked (see ``reportable_mismatch``); None: every determined difference counts
    mismatched: list[int] | None = None

    @property
    def size(self) -> int:
        return len(self.rows)


def example_language(user: str, assistant: str) -> str:
    return assistant if assistant != UND else user


def detect_sample(
    user_texts: Sequence[str | None],
    assistant_texts: Sequence[str | None],
    rows: np.ndarray,
    total: int,
    *,
    jobs: int = 1,
    executor: Executor | None = None,
) -> LanguageSample:
    """Languages of the sampled rows; ``user_texts[i]``/``assistant_texts[i]`` belong to ``rows[i]``."""
    res = detect_texts(list(user_texts) + list(assistant_texts), jobs=jobs, executor=executor)
    return sample_from_detections(res, user_texts, assistant_texts, rows, total)


def sample_from_detections(
    res: Sequence[tuple[str, float]],
    user_texts: Sequence[str | None],
    assistant_texts: Sequence[str | None],
    rows: np.ndarray,
    total: int,
) -> LanguageSample:
    """``detect_sample`` from ``detect_one`` of the user texts then the assistant texts, however
    they were computed (the audit detects them in workers while it looks for duplicates)."""
    n = len(rows)
    u = [r[0] for r in res[:n]]
    a = [r[0] for r in res[n:]]
    # only the few rows whose languages differ are looked at again
    mismatched = [i for i in range(n) if u[i] != UND and a[i] != UND and u[i] != a[i]
                  and reportable_mismatch(user_texts[i], res[i], assistant_texts[i], res[n + i])]
    return LanguageSample(np.asarray(rows, dtype=np.int64), u, a, [example_language(x, y) for x, y in zip(u, a)],
                          total, mismatched)


def weighted_letters(text: str | None) -> int:
    """Letters left after cleaning, a CJK character counting ``CJK_WEIGHT``."""
    counts = script_counts(clean_text(text or "")[: 4 * MAX_CHARS])
    return sum(n * (CJK_WEIGHT if k in _CJK else 1) for k, n in counts.items())


def reportable_mismatch(user: str | None, user_lang: tuple[str, float], assistant: str | None,
                        assistant_lang: tuple[str, float]) -> bool:
    """Whether a prompt/reply language difference is worth a DP309 warning: both texts long and
    confidently detected, and the prompt neither asks for a translation nor names the reply's
    language ("Translate to Finnish:", "answer in Spanish")."""
    if min(user_lang[1], assistant_lang[1]) < MISMATCH_MIN_CONFIDENCE:
        return False
    if min(weighted_letters(user), weighted_letters(assistant)) < MISMATCH_MIN_LETTERS:
        return False
    prompt = (user or "")[:INPUT_CAP]
    name = LANGUAGE_NAMES.get(assistant_lang[0])
    return not (_TRANSLATION_REQUEST.search(prompt) or (name and name in prompt.lower()))


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    # at k = 0 or k = n the bound is exactly 0 or 1; the formula leaves rounding noise
    return (0.0 if k == 0 else max(0.0, mid - half)), (1.0 if k == n else min(1.0, mid + half))


def shares(langs: Sequence[str]) -> dict:
    """``{lang: {share, ci_low, ci_high, n}}``, most common first ('und' included)."""
    n = len(langs)
    out = {}
    for lang, k in sorted(Counter(langs).items(), key=lambda kv: (-kv[1], kv[0])):
        lo, hi = wilson(k, n)
        out[lang] = {"share": k / n, "ci_low": lo, "ci_high": hi, "n": k}
    return out


def language_section(sample: LanguageSample) -> dict:
    """The ``languages`` report fields: shares by example and by role, the sample size, a note."""
    full = sample.size >= sample.total
    note = (
        f"all {sample.total} examples" if full else f"deterministic sample of {sample.size} of {sample.total} examples (evenly spread); 95% Wilson intervals"
    )
    return {
        "languages": shares(sample.example),
        "language_sample": sample.size,
        "language_sampled": not full,
        "language_note": note,
        "languages_by_role": {"user": shares(sample.user), "assistant": shares(sample.assistant)},
    }


def language_mismatch(sample: LanguageSample) -> Flag | None:
    """DP309: sampled rows whose reply language differs from the prompt's (both determined, and
    reportable: see ``reportable_mismatch``)."""
    bad = sample.mismatched if sample.mismatched is not None else [
        i for i, (u, a) in enumerate(zip(sample.user, sample.assistant)) if u != UND and a != UND and u != a]
    if not bad:
        return None
    pairs = Counter((sample.user[i], sample.assistant[i]) for i in bad).most_common(3)
    desc = ", ".join(f"{u}->{a} x{c}" for (u, a), c in pairs)
    return Flag(
        "DP309",
        f"reply language differs from the prompt's ({desc}; {len(bad)} of {sample.size} sampled)",
        sample.rows[bad],
        {"count": len(bad), "sample": sample.size},
    )


def language_mix(languages: dict, expected: Sequence[str], *, max_share: float = 0.01) -> Flag | None:
    """DP602: determined languages outside ``expected`` whose share exceeds ``max_share``."""
    exp = {e.lower() for e in expected}
    over = {k: v for k, v in languages.items() if k != UND and k not in exp and v["share"] > max_share}
    if not over:
        return None
    desc = ", ".join(f"{k} {v['share']:.1%} (95% CI {v['ci_low']:.1%}-{v['ci_high']:.1%})" for k, v in over.items())
    return Flag("DP602", f"languages outside {sorted(exp)}: {desc}", None, {"languages": over, "expected": sorted(exp)})
