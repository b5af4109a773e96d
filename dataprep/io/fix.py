"""Safe, counted repairs of a chat JSONL file; every input line ends in exactly one place.

Each input line is either written to the fixed file, written to the rejects file (original bytes
and every finding that remains after the safe fixes), or dropped as blank or (opt-in) as an exact
duplicate, so::

    lines(fixed) + lines(rejects) + dropped_blank + dropped_duplicate == lines(input)

Safe remediations, each counted per kind:

- ``bom``: strip a UTF-8 byte-order mark at the start of a line (DP106, and the mid-file DP102 case)
- ``crlf``: CRLF (and stray trailing CR) → LF (DP111)
- ``blank``: drop blank / whitespace-only lines (DP105)
- ``trim``: strip whitespace around message content strings and text parts
- ``weight_removed``: remove ``weight`` from non-assistant messages (DP210)
- ``weight_moved``: move a top-level ``weight`` onto the assistant message, only when the example has
  exactly one assistant message and the weight is 0 or 1 (DP201)
- ``args_stringified``: ``tool_calls[].function.arguments`` / ``function_call.arguments`` objects →
  compact JSON strings (DP211)
- ``secret_masked``: API keys, tokens and private key blocks → ``[REDACTED_SECRET]`` (DP305)
- ``duplicate``: exact duplicate lines (after the fixes above), first kept; opt-in

A line nothing applies to is copied byte for byte (its line ending becomes ``\\n``). A changed line
is re-serialised compactly with orjson. After the fixes each line goes through the validator's own
per-line checks (``validate.check_line``); a line with an error left goes to the rejects file, so
the fixed file carries no per-line error at all.
"""

from __future__ import annotations

import tempfile
from array import array
from collections import Counter
from dataclasses import dataclass, field

import orjson
import xxhash

from dataprep.checks import formats as F
from dataprep.checks.base import Sink
from dataprep.checks.parse import is_blank, parse_line
from dataprep.io.atomic import AtomicWriter
from dataprep.io.convert import _finding_dicts, _reasons
from dataprep.io.reader import BOM, InputError, RawLine, iter_lines, open_binary
from dataprep.io.records import parse_failed, raw_text
from dataprep.mask import PLACEHOLDER, mask_secrets
from dataprep.schema.findings import Finding, Severity

# kind → (rule it addresses, what it does); the order is the summary's order.
KINDS = {
    "bom": ("DP106", "strip UTF-8 byte-order mark"),
    "crlf": ("DP111", "normalise CRLF line ending to LF"),
    "blank": ("DP105", "drop blank line"),
    "trim": ("", "trim whitespace around content"),
    "weight_removed": ("DP210", "remove weight from non-assistant message"),
    "weight_moved": ("DP201", "move top-level weight onto the only assistant message"),
    "args_stringified": ("DP211", "stringify tool call arguments object"),
    "secret_masked": ("DP305", f"mask secret as {PLACEHOLDER}"),
    "duplicate": ("", "drop exact duplicate line (first kept)"),
}
EXAMPLES = 5  # line numbers kept per kind / per reject rule

class JSONArrayInputError(InputError):
    """The input is one whole JSON array, not JSON Lines: ``dataprep convert`` is the tool."""


@dataclass
class FixResult:
    in_path: str
    out_path: str | None
    rejects_path: str | None
    dry_run: bool = False
    lines: int = 0
    written: int = 0
    changed: int = 0  # written lines whose bytes differ from the input's (line ending aside)
    rejected: int = 0
    dropped_blank: int = 0
    dropped_duplicate: int = 0
    counts: Counter = field(default_factory=Counter)  # kind → occurrences (in lines that were kept/dropped)
    line_counts: Counter = field(default_factory=Counter)  # kind → lines
    examples: dict[str, list[int]] = field(default_factory=dict)  # kind → first line numbers
    duplicate_of: dict[int, int] = field(default_factory=dict)  # first few dropped line → line it repeats
    reject_rules: Counter = field(default_factory=Counter)  # error rule → rejected lines carrying it
    reject_examples: dict[str, list[int]] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.written + self.rejected + self.dropped_blank + self.dropped_duplicate == self.lines

    def to_dict(self) -> dict:
        return {
            "input": self.in_path, "output": self.out_path, "rejects": self.rejects_path,
            "dry_run": self.dry_run, "lines": self.lines, "written": self.written, "changed": self.changed,
            "rejected": self.rejected, "dropped_blank": self.dropped_blank,
            "dropped_duplicate": self.dropped_duplicate,
            "fixes": {k: {"rule": KINDS[k][0] or None, "occurrences": self.counts[k], "lines": self.line_counts[k],
                          "examples": self.examples.get(k, [])} for k in KINDS if self.counts[k]},
            "rejected_by_rule": dict(self.reject_rules), "reject_examples": self.reject_examples,
        }


# ---------------------------------------------------------------------------------------------
# Record-level fixes: each mutates the parsed record and counts into ``local``
# ---------------------------------------------------------------------------------------------

def mask_secrets_in_text(s: str) -> tuple[str, int]:
    """Replace every secret DP305 finds in ``s`` by the placeholder; returns (text, secrets masked).

    The one masking function (``dataprep.mask``), in its exact mode: the user's data changes only
    where the validator reports a secret (a private key loses its whole block)."""
    return mask_secrets(s, PLACEHOLDER, exact=True)


def _mask_secrets(rec, local: Counter) -> bool:
    """Mask secrets in every string value of the record (content, arguments, anything)."""
    changed = False
    stack = [rec]
    while stack:
        node = stack.pop()
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for k, v in list(items):
            if isinstance(v, str):
                new, n = mask_secrets_in_text(v)
                if n:
                    node[k] = new
                    local["secret_masked"] += n
                    changed = True
            elif isinstance(v, (dict, list)):
                stack.append(v)
    return changed


def _valid_weight(w) -> bool:
    return not isinstance(w, bool) and isinstance(w, (int, float)) and w in (0, 1)


def _trim(obj: dict, key: str, local: Counter) -> bool:
    v = obj.get(key)
    if isinstance(v, str):
        s = v.strip()
        if s != v:
            obj[key] = s
            local["trim"] += 1
            return True
    return False


def _stringify_args(fn, local: Counter) -> bool:
    if isinstance(fn, dict) and isinstance(fn.get("arguments"), dict):
        try:
            fn["arguments"] = orjson.dumps(fn["arguments"]).decode()
        except (orjson.JSONEncodeError, TypeError):
            return False
        local["args_stringified"] += 1
        return True
    return False


def _fix_messages(msgs: list, local: Counter) -> bool:
    changed = False
    for m in msgs:
        if not isinstance(m, dict):
            continue
        if "weight" in m and m.get("role") != "assistant":
            del m["weight"]
            local["weight_removed"] += 1
            changed = True
        c = m.get("content")
        if isinstance(c, str):
            changed |= _trim(m, "content", local)
        elif isinstance(c, list):
            for part in c:
                if isinstance(part, dict) and part.get("type") == "text":
                    changed |= _trim(part, "text", local)
        calls = m.get("tool_calls")
        if isinstance(calls, list):
            for call in calls:
                if isinstance(call, dict):
                    changed |= _stringify_args(call.get("function"), local)
        changed |= _stringify_args(m.get("function_call"), local)
    return changed


def fix_record(rec: dict, local: Counter) -> bool:
    """Apply every safe record-level fix in place; True when anything changed."""
    changed = _mask_secrets(rec, local)
    msgs = rec.get("messages")
    if isinstance(msgs, list):
        if "weight" in rec and _valid_weight(rec["weight"]):
            assistants = [m for m in msgs if isinstance(m, dict) and m.get("role") == "assistant"]
            if len(assistants) == 1:
                a = assistants[0]
                w = rec["weight"]
                if "weight" not in a or (_valid_weight(a["weight"]) and a["weight"] == w):
                    a["weight"] = w
                    del rec["weight"]
                    local["weight_moved"] += 1
                    changed = True
        changed |= _fix_messages(msgs, local)
    inp = rec.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("messages"), list):
        changed |= _fix_messages(inp["messages"], local)
    for key in ("preferred_output", "non_preferred_output"):
        out = rec.get(key)
        if isinstance(out, list):
            changed |= _fix_messages(out, local)
    return changed


# ---------------------------------------------------------------------------------------------
# The file-level driver
# ---------------------------------------------------------------------------------------------

class _Null:
    def write(self, data: bytes) -> None:
        pass

    def commit(self, keep_empty: bool = True) -> bool:
        return True

    def abort(self) -> None:
        pass


def _check_not_array(path: str, stream) -> object:
    """Refuse a whole-file JSON array (with a pointer at convert); returns the stream to read."""
    head = stream.peek(64)[:64] if hasattr(stream, "peek") else b""
    if not head.lstrip(BOM + b" \t\r\n").startswith(b"["):
        return stream
    import io

    data = stream.read()
    stream.close()
    body = data[3:] if data.startswith(BOM) else data
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as e:
        first = body.split(b"\n", 1)[0].strip()
        if first == b"[":
            raise JSONArrayInputError(path, f"looks like a JSON array but is not valid JSON ({e.msg} at line "
                                      f"{e.lineno} column {e.colno}); repair it, then run `dataprep convert "
                                      f"{path} OUT.jsonl`") from None
        return io.BytesIO(data)
    if isinstance(value, list):
        raise JSONArrayInputError(path, f"is one JSON array of {len(value)} records, not JSON Lines; run "
                                  f"`dataprep convert {path} OUT.jsonl` first, then fix the output")
    return io.BytesIO(data)


def fix(in_path: str, out_path: str | None, rejects_path: str | None, *, dry_run: bool = False,
        drop_duplicates: bool = False) -> FixResult:
    """Repair one JSONL file; see the module doc.

    Raises InputError (unreadable input; JSONArrayInputError for a JSON array) and OSError
    (unwritable output). With ``dry_run`` nothing is written (the paths may be None).
    """
    from dataprep.validate import check_line

    if not dry_run:
        if not out_path or not rejects_path:
            raise ValueError("fix needs an output path and a rejects path")
        if out_path != "-" and rejects_path != "-" and _same(out_path, rejects_path):
            raise ValueError("the fixed file and the rejects file must be different files")
    res = FixResult(in_path, out_path, rejects_path, dry_run)
    stream = open_binary(in_path)
    try:
        stream = _check_not_array(in_path, stream)
    except InputError:
        raise
    except Exception as e:  # truncated gzip, zstd frame errors, ...: unreadable as a whole
        if isinstance(e, (OSError, EOFError)):  # truncated/corrupt gzip or zstd
            raise InputError(in_path, f"read failed: {e}") from None
        raise
    if dry_run:
        out, rej = _Null(), _Null()
    else:
        try:
            out = AtomicWriter(out_path)
        except BaseException:
            stream.close()
            raise
        try:
            rej = AtomicWriter(rejects_path)
        except BaseException:
            out.abort()
            stream.close()
            raise
    seen: dict[int, int] = {}
    expected = F.OPENAI_CHAT
    known = False
    # Per written line: its source line number and format, so that lines of a minority format
    # (DP108, a file-level error) can move to the rejects file once the majority is known.
    kept_lines = array("q")
    kept_fmts = bytearray()
    fmt_codes: dict[str, int] = {}
    fmt_totals: Counter = Counter()
    per_fmt: dict[str, FixResult] = {}  # fix counts of the written lines, by format
    spool = None
    if in_path == "-" and not dry_run:
        spool = tempfile.TemporaryFile()  # stdin cannot be read twice

    def note(r: FixResult, kind: str, line: int, n: int = 1) -> None:
        r.counts[kind] += n
        r.line_counts[kind] += 1
        ex = r.examples.setdefault(kind, [])
        if len(ex) < EXAMPLES:
            ex.append(line)

    def reject(number: int, original: bytes, findings: list[Finding]) -> None:
        res.rejected += 1
        errors = [f for f in findings if f.severity is Severity.ERROR]
        for rule in sorted({f.rule for f in errors}):
            res.reject_rules[rule] += 1
            ex = res.reject_examples.setdefault(rule, [])
            if len(ex) < EXAMPLES:
                ex.append(number)
        text, enc = raw_text(original)
        entry = {"source_line": number, "reason": _reasons(errors), "findings": _finding_dicts(findings)}
        entry["raw_base64" if enc else "raw"] = text
        rej.write(orjson.dumps(entry) + b"\n")

    try:
        with stream:
            for line in iter_lines(stream):
                if spool is not None:
                    spool.write(line.raw)
                res.lines += 1
                local: Counter = Counter()
                data = line.data
                while data.startswith(BOM):
                    data = data[3:]
                    local["bom"] += 1
                if line.ending == b"\r\n" or data.endswith(b"\r"):
                    data = data.rstrip(b"\r")
                    local["crlf"] += 1
                if is_blank(data):
                    res.dropped_blank += 1
                    note(res, "blank", line.number)
                    continue
                sink = Sink(in_path, line.number)
                rec = parse_line(data, sink)
                failed = parse_failed(sink.findings)
                if failed or sink.has_error:  # unparseable, or duplicate keys: not ours to guess
                    if not failed:
                        sink.findings = check_line(RawLine(line.number, 0, data, b"\n"), in_path, expected).findings
                    reject(line.number, line.data, sink.findings)
                    continue
                changed = isinstance(rec, dict) and fix_record(rec, local)
                new = data
                if changed:
                    try:
                        new = orjson.dumps(rec)
                    except (orjson.JSONEncodeError, TypeError):  # keep the line as it was; the check decides
                        changed, local = False, Counter({k: v for k, v in local.items() if k in ("bom", "crlf")})
                outcome = check_line(RawLine(line.number, 0, new, b"\n"), in_path, expected)
                if not known and outcome.format in F.TRAINABLE | F.CONVERTIBLE:
                    expected, known = outcome.format, True
                if any(f.severity is Severity.ERROR for f in outcome.findings):
                    reject(line.number, line.data, outcome.findings)
                    continue
                if drop_duplicates:
                    h = xxhash.xxh3_128_intdigest(new)
                    first = seen.get(h)
                    if first is not None:
                        res.dropped_duplicate += 1
                        note(res, "duplicate", line.number)
                        if len(res.duplicate_of) < EXAMPLES:
                            res.duplicate_of[line.number] = first
                        continue
                    seen[h] = line.number
                out.write(new + b"\n")
                res.written += 1
                fmt = outcome.format
                code = fmt_codes.setdefault(fmt, len(fmt_codes))
                kept_lines.append(line.number)
                kept_fmts.append(code)
                fmt_totals[fmt] += 1
                acc = per_fmt.get(fmt)
                if acc is None:
                    acc = per_fmt[fmt] = FixResult(in_path, None, None)
                if new != line.data:
                    acc.changed += 1
                for kind, n in local.items():
                    note(acc, kind, line.number, n)
        moved = _minority_formats(fmt_totals)
        if moved:
            _move_minority(in_path, spool, res, out, rej, reject, moved, fmt_totals, fmt_codes, kept_lines,
                           kept_fmts, dry_run)
            if not dry_run:
                out = out.replacement
        for fmt, acc in per_fmt.items():
            if fmt in moved:
                continue
            res.changed += acc.changed
            res.counts.update(acc.counts)
            res.line_counts.update(acc.line_counts)
            for kind, ex in acc.examples.items():
                res.examples[kind] = sorted(res.examples.get(kind, []) + ex)[:EXAMPLES]
        out.commit(keep_empty=False)
        if not rej.commit(keep_empty=False):
            res.rejects_path = None
    except BaseException as e:
        out.abort()
        rej.abort()
        if isinstance(e, EOFError):  # truncated gzip/zstd (the reader raises EOFError for both)
            raise InputError(in_path, f"read failed: {e}") from None
        raise
    finally:
        if spool is not None:
            spool.close()
    return res


def _minority_formats(totals: Counter) -> set[str]:
    """Formats to move out: every known format other than the majority (the validator's DP108)."""
    known = [f for f in totals if f != F.UNKNOWN]
    if len(known) < 2:
        return set()
    major = F.majority(totals)
    return {f for f in known if f != major}


def _move_minority(in_path, spool, res: FixResult, out, rej, reject, moved: set[str], totals: Counter,
                   codes: dict[str, int], kept_lines: array, kept_fmts: bytearray, dry_run: bool) -> None:
    """Lines of a minority format go to the rejects file with a DP108 finding and their original bytes."""
    major = F.majority(totals)
    moved_codes = {codes[f] for f in moved}
    names = {c: f for f, c in codes.items()}
    wanted = {n: names[c] for n, c in zip(kept_lines, kept_fmts) if c in moved_codes}
    res.written -= len(wanted)

    def finding(number: int, fmt: str) -> list[Finding]:
        sink = Sink(in_path, number)
        sink.add("DP108", f"this line is {F.LABELS[fmt]} but the file is {F.LABELS[major]} ({totals[major]} "
                 "lines); keep one format per file")
        return sink.findings

    if dry_run:
        for number, _fmt in sorted(wanted.items()):
            res.rejected += 1
            res.reject_rules["DP108"] += 1
            ex = res.reject_examples.setdefault("DP108", [])
            if len(ex) < EXAMPLES:
                ex.append(number)
        return
    originals: dict[int, bytes] = {}
    if spool is not None:
        spool.seek(0)
        src = spool
    else:
        src = open_binary(in_path)
    with src:
        for line in iter_lines(src):
            if line.number in wanted:
                originals[line.number] = line.data
    tmp = out.read_back()
    new_out = AtomicWriter(out.path)
    try:
        with open(tmp, "rb") as f:
            for i, raw in enumerate(f):
                number = kept_lines[i]
                if number in wanted:
                    reject(number, originals.get(number, raw.rstrip(b"\n")), finding(number, wanted[number]))
                else:
                    new_out.write(raw)
    except BaseException:
        new_out.abort()
        raise
    out.abort()  # drops the first temporary file
    out.replacement = new_out


def _same(a: str, b: str) -> bool:
    from pathlib import Path

    return Path(a).resolve() == Path(b).resolve()


def default_paths(in_path: str) -> tuple[str, str]:
    """``data.jsonl`` → (``data.fixed.jsonl``, ``data.rejects.jsonl``) next to the input."""
    from pathlib import Path

    p = Path(in_path)
    name = p.name
    for ext in (".gz", ".zst"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
    for ext in (".jsonl", ".ndjson", ".json"):
        if name.lower().endswith(ext):
            name = name[: -len(ext)]
            break
    return str(p.with_name(name + ".fixed.jsonl")), str(p.with_name(name + ".rejects.jsonl"))


# ---------------------------------------------------------------------------------------------
# Human summary
# ---------------------------------------------------------------------------------------------

def summary_renderables(res: FixResult) -> list:
    """The plan (dry run) or the summary table of ``dataprep fix`` (rich renderables)."""
    from rich.table import Table
    from rich.text import Text

    verb = "would " if res.dry_run else ""
    title = f"dry run of fix on {res.in_path}: nothing written" if res.dry_run else f"fix {res.in_path}"
    t = Table(title=title, title_justify="left")
    t.add_column("fix")
    t.add_column("rule")
    t.add_column("lines", justify="right")
    t.add_column("count", justify="right")
    t.add_column("example lines")
    for kind, (rule, what) in KINDS.items():
        if not res.counts[kind]:
            continue
        ex = ", ".join(map(str, res.examples.get(kind, [])))
        if kind == "duplicate" and res.duplicate_of:
            ex = ", ".join(f"{a} (= {b})" for a, b in list(res.duplicate_of.items())[:3])
        t.add_row(what, rule, str(res.line_counts[kind]), str(res.counts[kind]), ex)
    if not any(res.counts[k] for k in KINDS):
        t.add_row("nothing to fix", "", "", "", "")
    out: list = [t]
    if res.reject_rules:
        r = Table(title=f"lines that {verb}go to the rejects file, by error rule", title_justify="left", box=None)
        r.add_column("rule")
        r.add_column("lines", justify="right")
        r.add_column("example lines")
        for rule, n in res.reject_rules.most_common():
            r.add_row(rule, str(n), ", ".join(map(str, res.reject_examples.get(rule, []))))
        out.append(r)
    s = Table(box=None, show_header=False, pad_edge=False)
    s.add_column()
    s.add_column(justify="right")
    s.add_column()
    s.add_row("input lines", str(res.lines), "")
    s.add_row(f"{verb}write (fixed)", str(res.written),
              (f"{res.changed} changed, the rest byte-exact" if res.written else "") +
              ("" if res.dry_run or not res.out_path else f" → {res.out_path}"))
    s.add_row(f"{verb}reject", str(res.rejected),
              "" if res.dry_run or not res.rejects_path else f"→ {res.rejects_path}")
    s.add_row("blank lines dropped", str(res.dropped_blank), "")
    s.add_row("duplicate lines dropped", str(res.dropped_duplicate), "")
    out.append(s)
    ok = "holds" if res.balanced else "BROKEN"
    total = res.written + res.rejected + res.dropped_blank + res.dropped_duplicate
    out.append(Text(f"fixed + rejected + blank + duplicate = {total} = input lines ({ok})"))
    return out
