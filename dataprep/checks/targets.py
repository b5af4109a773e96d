"""The checks of one training target (``dataprep.targets``), computed from a scanned Profile.

* ``file_findings``: the target's file limits (DP107, DP109, DP702), whether it reads the file's
  format (DP700, or DP110 kept), its BOM wish (DP701) and its status (DP703).
* ``row_findings``: the turn order per example (DP704, DP705), from the Profile's ``roles`` column
  (``s,u,a,t``): each distinct pattern is judged once, so a million rows cost a few hundred
  pattern checks, and no line is parsed again.
* ``text_findings``: rules that need the text itself (Bedrock Nova's reserved strings DP707,
  Mistral's 9-character tool-call ids DP706). Only targets with such rules pay for it: one
  streaming read of the example lines, where a byte test skips every line that cannot match
  before it is parsed.
"""

from __future__ import annotations

import numpy as np
import orjson
import polars as pl

from dataprep.checks import formats as F
from dataprep.checks.state import file_level_findings
from dataprep.io.reader import BOM, iter_lines, open_binary
from dataprep.io.targets import NOVA_RESERVED  # the one list of Nova's reserved strings (convert uses it too)
from dataprep.schema.findings import Severity, make_finding
from dataprep.text import content_text, example_format, messages_of

LETTER_ROLE = {"s": "system", "d": "developer", "u": "user", "a": "assistant", "t": "tool", "f": "function",
               "?": "unknown"}


def cited(target, rule: str, message: str) -> str:
    """``message`` with the target's citation (name, date, source) and, for an unverified rule, why."""
    why = target.unverified.get(rule)
    return f"{message} {target.cite}" + (f" UNVERIFIED: {why}" if why else "")


def new_finding(target, rule: str, path: str, line: int, message: str, pointer: str | None = None):
    """A finding of one of the target's own rules, at its severity (None: the target turns it off)."""
    sev = target.rule_severity(rule)
    if sev is None:
        return None
    if rule in target.unverified and sev is Severity.ERROR:
        sev = Severity.WARNING
    return make_finding(rule, path, line, cited(target, rule, message), pointer=pointer, severity=sev)


def file_findings(profile, target, path: str) -> list:
    out = []
    state = profile.state
    fmt = state.format
    by_line = profile.rows.height == state.lines  # a whole-file JSON array has no line state to judge
    if by_line:
        for f in file_level_findings(path, state, profile.size, target.name, limits=target.limits):
            if f.rule in ("DP107", "DP109"):
                out.append(new_finding(target, f.rule, path, f.line, f.message))
        n = state.records
        cap = target.limits.get("max_examples")
        if cap and fmt in target.formats and n > cap:
            out.append(new_finding(target, "DP702", path, 0, f"{n:,} examples; {target.title} accepts at most "
                                   f"{cap:,} per training file. Deduplicate or sample it down, or split the job"))
        first = state.format_lines.get(fmt)
        line = int(first[0]) if first is not None and len(first) else 0
        if fmt not in target.formats and state.records:
            if (fmt in F.CONVERTIBLE or fmt == F.TEXT) and F.OPENAI_CHAT in target.formats:
                how = "run `dataprep convert` to turn it into OpenAI chat JSONL"
            elif target.convert_to:
                how = f"run `dataprep convert --to {target.convert_to}` to write the shape it reads"
            else:
                how = "convert it to a format it reads: " + ", ".join(sorted(F.LABELS[x] for x in target.formats))
            out.append(new_finding(target, "DP700", path, line, f"the file is {F.LABELS[fmt]}, which "
                                   f"{target.title} does not read as it is; {how}"))
    if target.bom == "required" and by_line and fmt in target.formats and state.records \
            and not _starts_with_bom(profile):
        out.append(new_finding(target, "DP701", path, 1, f"no UTF-8 byte-order mark; {target.title}'s docs ask "
                               "for UTF-8 with a BOM. If the upload is refused, add one for this target only"))
    if target.status in ("winding-down", "deprecated"):
        when = (f"takes no new fine-tuning jobs from {target.no_new_jobs_from}" if target.no_new_jobs_from
                else "is deprecated and takes no new fine-tuning jobs")
        out.append(new_finding(target, "DP703", path, 0, f"{target.title} {when}; judge the file against where it "
                               "will train (--target trl, together, azure, ...)"))
    return out


def _starts_with_bom(profile) -> bool:
    # The scan reports a BOM as DP106 on line 1; a cached or filtered finding list is not trusted:
    # the first three bytes are read (decompressed) instead.
    try:
        with open_binary(profile.path) as f:
            return f.read(3) == BOM
    except Exception:  # noqa: BLE001 - an input gone since the scan: judge by the scan's own finding
        return any(f.rule == "DP106" for f in profile.findings)


# --------------------------------------------------------------------------------------------- turn order

def order_problem(pattern: str, target) -> str | None:
    """Why a role pattern (``s,u,a``) breaks ``target``'s turn order; None when it does not."""
    letters = pattern.split(",") if pattern else []
    for i, x in enumerate(letters):
        role = LETTER_ROLE.get(x, "unknown")
        if x != "?" and role not in target.roles:
            return f"message {i} is a {role} turn, which {target.title} does not take"
    alt = target.alternation
    if alt == "none":
        return None
    for i, x in enumerate(letters):
        if x in "sd" and i > 0:
            return f"{LETTER_ROLE[x]} message at position {i}; {target.title} takes it only first"
    if alt == "system-first":
        return None
    body = letters[1:] if letters and letters[0] in "sd" else letters
    start = len(letters) - len(body)
    if body and body[0] != "u":
        return f"the conversation starts with a {LETTER_ROLE.get(body[0])} turn; {target.title} wants the user first"
    prev = None
    for j, x in enumerate(body):
        i = start + j
        if x in "tf":
            if prev not in ("a", "t", "f"):
                return f"{LETTER_ROLE[x]} message {i} does not follow an assistant call"
        elif x == prev and x in "ua":
            return (f"two {LETTER_ROLE[x]} turns in a row (messages {i - 1} and {i}); {target.title} wants user "
                    "and assistant turns to alternate")
        prev = x
    return None


def llamafactory_drop(pattern: str) -> str | None:
    """Why LLaMA-Factory's converter would skip an SFT row with this role pattern (None: kept).

    Its SharegptDatasetConverter takes one leading system message off, then wants user or
    observation (tool) turns at even indexes and assistant turns at odd ones, and an even count;
    any other row becomes an empty prompt and response, with a log warning only.
    """
    letters = pattern.split(",") if pattern else []
    body = letters[1:] if letters and letters[0] == "s" else letters
    for j, x in enumerate(body):
        want = ("u", "t") if j % 2 == 0 else ("a",)
        if x not in want:
            seen = LETTER_ROLE.get(x, "unknown")
            need = "user or tool" if j % 2 == 0 else "assistant"
            hint = "; merge parallel tool results into one message" if x == "t" and j and body[j - 1] == "t" else ""
            return f"message {j + len(letters) - len(body)} is {seen}, where it needs {need}{hint}"
    if len(body) % 2:
        return f"{len(body)} messages after the system prompt; it keeps only user/assistant pairs (an even count)"
    return None


def row_findings(profile, target, path: str) -> tuple[list, set[int]]:
    """(DP704 / DP705 findings, the lines they cover) from the roles column, one check per pattern."""
    if target.alternation == "none" and set(target.roles) >= set(LETTER_ROLE.values()) - {"unknown"}:
        return [], set()
    rows = profile.rows
    if not rows.height:
        return [], set()
    ex = rows.filter(pl.col("is_example") & ~pl.col("roles").str.contains(r"\?", literal=False)
                     & (pl.col("format") != F.OPENAI_DPO))  # preference rows: LLaMA-Factory's ranking rules differ
    out, covered = [], set()
    checks = []
    if target.alternation == "llamafactory":
        checks.append(("DP705", lambda p: (w := llamafactory_drop(p)) and
                       f"LLaMA-Factory skips this row silently: {w}"))
    checks.append(("DP704", lambda p: order_problem(p, target if target.alternation != "llamafactory"
                                                   else _roles_only(target))))
    verdicts = {}
    for pattern in ex["roles"].unique().to_list():
        verdicts[pattern] = [(rule, why) for rule, check in checks if (why := check(pattern))]
    for line, pattern in zip(ex["line"].to_list(), ex["roles"].to_list()):
        for rule, why in verdicts[pattern]:
            f = new_finding(target, rule, path, line, why, pointer="/messages")
            if f is not None:
                out.append(f)
                covered.add(line)
    return out, covered


class _roles_only:
    """A view of a target that checks only its roles (its order is another rule's business)."""

    alternation = "none"

    def __init__(self, target):
        self.roles, self.title = target.roles, target.title


# --------------------------------------------------------------------------------------------- text rules

def text_findings(profile, target, path: str) -> list:
    """DP707 (reserved strings in user/system text) and DP706 (tool-call id length) for targets
    that have them; nothing for other targets. Only candidate lines are parsed: for DP707 the
    lines where a C-speed search of the file finds a reserved string (or an escaped ``<``), for
    DP706 the examples whose roles show a tool call or a tool message."""
    if not (target.reserved_strings or target.tool_call_id_length):
        return []
    rows = profile.rows
    if not rows.height:
        return []
    ex = rows.with_row_index("_i").filter(pl.col("is_example"))
    if not ex.height:
        return []
    candidates: set[int] = set()  # row indexes
    if target.reserved_strings:
        hit = _rows_containing(profile.path, rows["offset"].to_numpy(), _NOVA_NEEDLES)
        candidates |= hit & set(ex["_i"].to_list())
    if target.tool_call_id_length:
        calls = ex.filter((pl.col("tool_calls") > 0) | pl.col("roles").str.contains("t", literal=True))
        candidates |= set(calls["_i"].to_list())
    if not candidates:
        return []
    out = []
    fmt_col = rows["format"]
    for i, data in _read_rows(profile.path, rows, sorted(candidates)):
        number = i + 1  # rows are the input lines in order (line = row index + 1)
        data = data.removeprefix(BOM) if number == 1 else data
        try:
            rec = orjson.loads(data)
        except orjson.JSONDecodeError:
            continue  # DP102 already says why
        msgs = messages_of(rec, example_format(fmt_col[i], profile.format))
        if target.reserved_strings:
            for j, m in enumerate(msgs):
                if type(m) is not dict or m.get("role") not in ("user", "system", "developer"):
                    continue
                text = content_text(m.get("content")) or ""
                found = [s for s in NOVA_RESERVED if s in text]
                if found:
                    out.append(new_finding(target, "DP707", path, number, f"{m['role']} text holds "
                                           f"{', '.join(repr(h) for h in found)}, reserved by {target.title}: the "
                                           "job fails. Reword it", pointer=f"/messages/{j}/content"))
        if target.tool_call_id_length:
            n = target.tool_call_id_length
            for j, m in enumerate(msgs):
                if type(m) is not dict:
                    continue
                ids = [(f"/messages/{j}/tool_call_id", m.get("tool_call_id"))] if "tool_call_id" in m else []
                calls = m.get("tool_calls")
                if type(calls) is list:
                    ids += [(f"/messages/{j}/tool_calls/{k}/id", c.get("id")) for k, c in enumerate(calls)
                            if type(c) is dict and "id" in c]
                for ptr, cid in ids:
                    if isinstance(cid, str) and (len(cid) != n or not cid.isalnum()):
                        out.append(new_finding(target, "DP706", path, number,
                                               f"id {cid!r} has {len(cid)} characters; {target.title} wants "
                                               f"exactly {n} letters and digits", pointer=ptr))
    return [f for f in out if f is not None]


# The reserved strings as they can appear in a JSON line: as written, or with "<" escaped.
_NOVA_NEEDLES = tuple(s.encode() for s in NOVA_RESERVED) + (b"\\u003c", b"\\u003C")
_BLOCK = 1 << 24


def _rows_containing(path: str, offsets: np.ndarray, needles: tuple[bytes, ...]) -> set[int]:
    """Row indexes of the lines holding any of ``needles``: one pass of bytes.find over 16 MiB
    blocks (C speed; a needle that straddles two blocks is found in the second)."""
    keep = max(len(n) for n in needles) - 1
    hits: list[int] = []
    with open_binary(path) as f:
        pos, tail = 0, b""
        while chunk := f.read(_BLOCK):
            buf = tail + chunk
            base = pos - len(tail)
            for n in needles:
                k = buf.find(n)
                while k >= 0:
                    hits.append(base + k)
                    k = buf.find(n, k + 1)
            pos += len(chunk)
            tail = buf[-keep:]
    if not hits:
        return set()
    return set((np.searchsorted(offsets, np.asarray(hits), side="right") - 1).tolist())


def _read_rows(path: str, rows: pl.DataFrame, indexes: list[int]):
    """(row index, line bytes) of the given rows: by offset in a plain file, else streamed."""
    offsets, lengths = rows["offset"], rows["length"]
    with open_binary(path) as f:
        if f.seekable() and not hasattr(f, "fileobj"):  # a plain file (gzip objects seek by re-reading)
            for i in indexes:
                f.seek(offsets[i])
                yield i, f.read(lengths[i])
            return
        want = set(indexes)
        for line in iter_lines(f):
            if line.number - 1 in want:
                yield line.number - 1, line.data
