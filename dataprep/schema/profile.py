"""The Profile's schema and its row-level invariants, as a pandera (polars) model.

The scan builds rows to this shape; tests check every sample file against it; the gate uses
``failing_lines`` to turn rows that break an invariant back into line numbers.
"""

from __future__ import annotations

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData

from dataprep.checks import formats as F

FORMATS = [F.OPENAI_CHAT, F.OPENAI_DPO, F.ALPACA, F.SHAREGPT, F.SHAREGPT_DPO, F.PROMPT_COMPLETION,
           F.PREFERENCE_COLUMNS, F.TEXT, F.UNKNOWN]


class ProfileSchema(pa.DataFrameModel):
    """One row per input line."""

    line: int = pa.Field(ge=1, unique=True, dtype_kwargs=None)
    offset: int = pa.Field(ge=0)
    length: int = pa.Field(ge=0)
    format: str = pa.Field(isin=FORMATS)
    blank: bool
    parsed: bool
    valid: bool
    errors: pl.Int32 = pa.Field(ge=0)
    warnings: pl.Int32 = pa.Field(ge=0)
    is_example: bool
    roles: str
    turns: pl.Int32 = pa.Field(ge=0)
    tool_calls: pl.Int32 = pa.Field(ge=0)
    has_tools: bool
    system_hash: pl.UInt64
    chars_system: int = pa.Field(ge=0)
    chars_user: int = pa.Field(ge=0)
    chars_assistant: int = pa.Field(ge=0)
    chars_tool: int = pa.Field(ge=0)
    prompt_hash: pl.UInt64 = pa.Field(nullable=True)  # null unless the scan computed the sketch part (DP503)
    # The token columns (and the counter's message/image counts) are null when the scan skipped
    # the tokens part (ScanOptions.tokens=False, e.g. dedup): never a 0 that reads as "no tokens".
    tokens_total: int = pa.Field(ge=0, nullable=True)
    tokens_trainable: int = pa.Field(ge=0, nullable=True)
    tokens_system: int = pa.Field(ge=0, nullable=True)
    tokens_user: int = pa.Field(ge=0, nullable=True)
    tokens_assistant: int = pa.Field(ge=0, nullable=True)
    tokens_tool: int = pa.Field(ge=0, nullable=True)
    tokens_other: int = pa.Field(ge=0, nullable=True)
    tokens_tools: int = pa.Field(ge=0, nullable=True)
    tokens_rejected: int = pa.Field(ge=0, nullable=True)
    n_messages: int = pa.Field(ge=0, nullable=True)
    n_images: int = pa.Field(ge=0, nullable=True)

    class Config:
        strict = True  # a column the model does not know is a bug in the scan
        coerce = False

    @pa.dataframe_check
    def lines_are_consecutive(cls, data: PolarsData) -> pl.LazyFrame:
        # Every input line has exactly one row, in order: line = 1..n.
        return data.lazyframe.select(pl.col("line") == pl.int_range(1, pl.len() + 1))

    @pa.dataframe_check
    def offsets_follow_lengths(cls, data: PolarsData) -> pl.LazyFrame:
        # Each line starts after the previous one ends (line ending is 1 or 2 bytes).
        gap = pl.col("offset") - (pl.col("offset") + pl.col("length")).shift(1)
        return data.lazyframe.select(gap.is_null() | gap.is_between(1, 2))

    @pa.dataframe_check
    def valid_means_parsed_and_no_errors(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("valid") | (pl.col("parsed") & (pl.col("errors") == 0)))

    @pa.dataframe_check
    def blank_lines_are_empty_rows(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("blank") | (~pl.col("parsed") & ~pl.col("valid") & ~pl.col("is_example")))

    @pa.dataframe_check
    def examples_are_parsed(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select(~pl.col("is_example") | pl.col("parsed"))

    @pa.dataframe_check
    def trainable_within_total(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("tokens_trainable") <= pl.col("tokens_total")).fill_null(True))

    @pa.dataframe_check
    def non_examples_have_no_tokens(cls, data: PolarsData) -> pl.LazyFrame:
        return data.lazyframe.select((pl.col("is_example") | (pl.col("tokens_total") == 0)).fill_null(True))

    @pa.dataframe_check
    def role_pattern_matches_message_count(cls, data: PolarsData) -> pl.LazyFrame:
        n_roles = pl.when(pl.col("roles") == "").then(0).otherwise(pl.col("roles").str.count_matches(",") + 1)
        # Valid examples only (a broken message is '?' in the pattern but not counted);
        # DPO rows count input messages + the preferred output differently, so they are exempt.
        return data.lazyframe.select((~pl.col("valid") | ~pl.col("is_example") | (n_roles == pl.col("n_messages"))
                                      | (pl.col("format") == F.OPENAI_DPO)).fill_null(True))


def validate_profile(rows: pl.DataFrame) -> pl.DataFrame:
    """Check rows against the schema; raises pandera's SchemaErrors listing every failure."""
    return ProfileSchema.validate(rows, lazy=True)


def failing_lines(rows: pl.DataFrame) -> dict[str, list[int]]:
    """{check name: line numbers of the rows that fail it} (empty when all rows conform)."""
    try:
        validate_profile(rows)
        return {}
    except pa.errors.SchemaErrors as e:
        out: dict[str, list[int]] = {}
        fc = e.failure_cases
        for rec in fc.iter_rows(named=True) if isinstance(fc, pl.DataFrame) else fc.to_dict("records"):
            check = str(rec.get("check"))
            idx = rec.get("index")
            if idx is not None and 0 <= int(idx) < rows.height:
                out.setdefault(check, []).append(int(rows["line"][int(idx)]))
            else:
                out.setdefault(check, [])
        return out
