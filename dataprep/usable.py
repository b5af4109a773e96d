"""Why a scanned file gives a command no example to work on, and what to do about it.

One place for the sentence every command prints (with exit 2) when a file is empty, is a CSV or a
JSON array, is not UTF-8, or holds records of another format: ``tokens`` used to print
"0 examples, $0.00" and exit 0, ``split`` wrote three empty files. Reads only the profile's
findings and counts, so it costs nothing after a scan.
"""

from __future__ import annotations


def unusable_reason(profile) -> str | None:
    """One short sentence: why ``profile`` has no trainable example, and what to do; None when it has one.

    The caller prefixes the path (an unreadable file's DP100 message names it already).
    """
    has_example = bool(profile.rows.height and profile.rows["is_example"].any()) if profile.readable else False
    return reason_from(profile.readable, has_example, profile.state.lines, profile.findings)


def reason_from(readable: bool, has_example: bool, lines: int, findings) -> str | None:
    """``unusable_reason`` from the figures alone, for a caller that holds no profile (the audit's
    per-file assessments): the same sentence for the same file in every command."""
    if not readable:
        return findings[0].message if findings else "the file cannot be read"
    if has_example:
        return None
    rules: dict[str, object] = {}
    for f in findings:
        rules.setdefault(f.rule, f)
    if lines == 0:
        return ("the file is empty: no example to work on; give a JSONL file with one chat example "
                "(a {\"messages\": [...]} object) per line")
    if "DP103" in rules or "DP110" in rules:  # a JSON array, or Alpaca/ShareGPT/...: convert it
        f = rules.get("DP110") or rules["DP103"]
        return f"not chat JSONL ({f.message.rstrip('.')})"
    if "DP101" in rules:
        f = rules["DP101"]
        return (f"not UTF-8 text (line {f.line}): re-encode it as UTF-8, e.g. "
                "`iconv -f cp1252 -t utf-8 IN > OUT`")
    if "DP102" in rules:
        f = rules["DP102"]
        return (f"no line is a JSON object (line {f.line} is not JSON): give chat JSONL, one example "
                "per line; `dataprep validate` shows why")
    if rules.keys() <= {"DP105", "DP109"}:
        return "no examples: the file holds only blank lines"
    top = ", ".join(f"{r} {f.name}" for r, f in list(rules.items())[:3])
    return f"no example to work on ({top}); `dataprep validate` lists every problem"
