"""Lexical and structural diversity, opening phrases, language mix and Vendi score.

Scan side: ``text_features`` per shard (and ``structure_row`` per example). Dataset side:
``merge_text_features``, ``detect_sample`` on ``sample_indices``, ``diversity_report``,
``diversity_flags``, ``render_terminal`` / ``render_compare``.
"""

from dataprep.diversity.features import TextFeatures, combined_texts, merge_text_features, text_features
from dataprep.diversity.flags import Flag, flags_to_findings
from dataprep.diversity.language import LanguageSample, detect_sample, sample_indices
from dataprep.diversity.report import (
    DiversityResult,
    analyze_texts,
    diversity_flags,
    diversity_report,
    render_compare,
    render_terminal,
)
from dataprep.diversity.structure import structure_row, structure_stats

__all__ = [
    "DiversityResult",
    "Flag",
    "LanguageSample",
    "TextFeatures",
    "analyze_texts",
    "combined_texts",
    "detect_sample",
    "diversity_flags",
    "diversity_report",
    "flags_to_findings",
    "merge_text_features",
    "render_compare",
    "render_terminal",
    "sample_indices",
    "structure_row",
    "structure_stats",
    "text_features",
]
