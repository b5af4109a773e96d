"""The audit as one self-contained HTML file: inline CSS, inline SVG charts, no script and no
network at view time (nothing is loaded from anywhere; sources are cited as plain text).

Layout: the readiness verdict, summary cards, a table of files, the cost of training per model
(all files together, printed once); then per file its readiness, cards, charts (token lengths
with the context limit, turns, languages, duplicate clusters, opening phrases), thresholds, and
the findings with line numbers.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from dataprep.audit import AuditResult, cost_by_model, display_names, file_readiness, language_name, table_row
from dataprep.gate.verdict import FileAssessment, format_value
from dataprep.mask import redact
from dataprep.meta import VERSION as __version__
from dataprep.output.numbers import dollars, gpu_hours
from dataprep.report import svg
from dataprep.report.excerpt import excerpt

MAX_FINDINGS = 1000  # per file; the JSON report has them all

CSS = """
:root{--fg:#1d2330;--muted:#687080;--line:#e3e6ea;--bg:#f6f7f9;--good:#1e7d4f;--warn:#a86500;--bad:#b3261e;--info:#2f5f8f}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 10px}h3{font-size:15px;margin:18px 0 8px}
.sub{color:var(--muted);margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(150px,1fr));gap:10px;margin:12px 0}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:10px 12px}
.card .k{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.03em}
.card .v{font-size:21px;font-weight:600;margin-top:2px}
.card .n{color:var(--muted);font-size:12px}
ul.ready{list-style:none;padding:0;margin:8px 0}
ul.ready li{background:#fff;border:1px solid var(--line);border-left:5px solid var(--info);border-radius:6px;padding:7px 10px;margin:6px 0}
ul.ready li.good{border-left-color:var(--good)}ul.ready li.warn{border-left-color:var(--warn)}ul.ready li.bad{border-left-color:var(--bad)}
ul.ready .t{font-weight:600;text-transform:uppercase;font-size:11px;color:var(--muted);margin-right:6px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid var(--line);margin:8px 0}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3;font-weight:600;font-size:12px}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
td.msg{word-break:break-word}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:700;color:#fff}
.badge.pass{background:var(--good)}.badge.warn{background:var(--warn)}.badge.fail{background:var(--bad)}
.sev-error td.sev{color:var(--bad);font-weight:600}.sev-warning td.sev{color:var(--warn);font-weight:600}.sev-info td.sev{color:var(--info)}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(540px,1fr));gap:12px}
figure.chart{background:#fff;border:1px solid var(--line);border-radius:8px;margin:0;padding:8px 10px}
figure.chart figcaption{font-weight:600;margin-bottom:4px}
figure.chart .note{color:var(--muted);font-size:12px}
section.file{border-top:2px solid var(--line);margin-top:28px}
.muted{color:var(--muted)}
table.files{font-size:12.5px}
table.files td.name{overflow-wrap:anywhere;min-width:9em}
table.files td.num{white-space:nowrap}
code{background:#eef0f3;border-radius:4px;padding:0 4px}
footer{color:var(--muted);font-size:12px;margin:36px 0 12px}
"""


def _e(x) -> str:
    # every text of the page passes here: dataset text (openings, messages) is masked even if
    # whatever built it forgot to; cut to an excerpt first (a 50 MB line is not a table cell)
    return escape(redact(excerpt(x)) if isinstance(x, str) else str(x), quote=True)


def _money(x) -> str:
    return dollars(x, none="n/a")  # a card or table cell: short


def _card(key: str, value: str, note: str = "") -> str:
    return (f'<div class="card"><div class="k">{_e(key)}</div><div class="v">{_e(value)}</div>'
            + (f'<div class="n">{_e(note)}</div>' if note else "") + "</div>")


def _badge(v: str) -> str:
    return f'<span class="badge {_e(v)}">{_e(v.upper())}</span>'


def _statements(stmts) -> str:
    items = "".join(f'<li class="{_e(s.level)}"><span class="t">{_e(s.topic)}</span>{_e(s.text)}</li>' for s in stmts)
    return f'<ul class="ready">{items}</ul>'


def _figure(caption: str, body: str, note: str = "") -> str:
    n = f'<div class="note">{_e(note)}</div>' if note else ""
    return f'<figure class="chart"><figcaption>{_e(caption)}</figcaption>{body}{n}</figure>'


# --------------------------------------------------------------------------------------------- charts

def token_chart(fa: FileAssessment) -> str:
    h = fa.charts.get("token_hist") or {}
    edges, counts, limit = h.get("edges") or [], h.get("counts") or [], h.get("context_limit")
    title = "Tokens per example"
    if not counts:
        return _figure(title, svg.empty(title))
    labels = [f"{_short(edges[i])}-{_short(edges[i + 1] - 1)}" for i in range(len(counts))]
    marker = None
    note = ""
    if limit:
        if limit >= edges[-1]:
            pos = len(counts) + 1
            note = f"every example is under the {limit:,}-token training context"
        else:
            i = max(0, max(j for j in range(len(counts)) if edges[j] <= limit))
            pos = i + math.log2((limit + 1) / edges[i]) / math.log2(edges[i + 1] / edges[i])
            note = f"{h.get('over_limit', 0):,} example(s) over the {limit:,}-token training context (truncated)"
        marker = (pos, f"context limit {limit:,}")
    body = svg.columns(labels, counts, title=title, marker=marker, x_title="tokens (power-of-two bins)",
                       y_title="examples")
    return _figure(f"{title} ({(fa.tokens or {}).get('model', '')})", body, note)


def _short(v: int) -> str:
    return f"{v // 1024}k" if v >= 8192 and v % 1024 == 0 else f"{v:,}"


def turns_chart(fa: FileAssessment) -> str:
    t = fa.charts.get("turns") or {}
    title = "User turns per example"
    if not t:
        return _figure(title, svg.empty(title))
    keys = sorted(t, key=int)
    return _figure(title, svg.columns([str(k) for k in keys], [t[k] for k in keys], title=title, x_title="user turns",
                                      y_title="examples"))


def languages_chart(fa: FileAssessment) -> str:
    div = fa.diversity or {}
    langs = div.get("languages") or {}
    title = "Languages"
    if not langs:
        return _figure(title, svg.empty(title, "languages not analysed"))
    items = list(langs.items())[:10]
    note = (f"deterministic sample of {div.get('language_sample')} examples; 95% Wilson intervals in the JSON"
            if div.get("language_sampled") else f"all {div.get('language_sample')} examples")
    body = svg.bars([language_name(k) for k, _ in items], [v["share"] for _, v in items], title=title,
                    value_labels=[f"{v['share']:.0%} ({v['n']})" for _, v in items], label_width=90)
    if "und" in langs:
        note += "; undetermined: too short, code, or no language with enough confidence"
    return _figure(title, body, note)


def clusters_chart(fa: FileAssessment) -> str:
    cl = fa.charts.get("clusters") or []
    title = "Largest duplicate clusters"
    d = fa.dedup or {}
    if not cl:
        return _figure(title, svg.empty(title, "no duplicate clusters"),
                       f"{d.get('examples', 0):,} examples compared" if d else "")
    labels = [f"lines {', '.join(map(str, c['lines'][:4]))}{'…' if len(c['lines']) > 4 else ''}" for c in cl]
    vals = [c.get("size", len(c["lines"])) for c in cl]
    body = svg.bars(labels, vals, title=title,
                    value_labels=[f"{v} lines, sim ≥ {c['similarity']:.2f}" for v, c in zip(vals, cl)], label_width=200)
    return _figure(title, body, f"{d.get('clusters', 0):,} cluster(s); {d.get('exact_duplicates', 0):,} exact + "
                   f"{d.get('near_duplicates', 0):,} near duplicates of {d.get('examples', 0):,} examples")


def openings_chart(fa: FileAssessment, role: str) -> str:
    o = (((fa.diversity or {}).get("openings") or {}).get(role) or {}).get("words_3") or {}
    title = f"Opening phrases ({role}, first three words)"
    if not o.get("top"):
        return _figure(title, svg.empty(title))
    top = o["top"][:10]
    body = svg.bars([redact(excerpt(t["opening"], 100)) for t in top], [t["count"] for t in top], title=title,
                    value_labels=[f"{t['count']} ({t['share']:.1%})" for t in top])
    texts = (((fa.diversity or {}).get("openings") or {}).get(role) or {}).get("texts", 0)
    return _figure(title, body, f"{o['distinct']:,} distinct openings over {texts:,} texts; "
                   f"normalised entropy {o['normalized_entropy']:.2f}")


# --------------------------------------------------------------------------------------------- tables

# table_row's columns shown in the files table, in this order: the verdict right after the name.
# format, distinct-2 and the top opening are in each file's section (cards and charts); leaving
# them out keeps the table inside the page at 1,400 px without horizontal scrolling.
FILES_COLUMNS = [("file", 0), ("verdict", 13), ("valid/records", 2), ("errors", 3), ("warnings", 4),
                 ("billed tokens", 6), ("est. cost", 7), ("dup share", 8), ("tier", 12), ("languages", 11),
                 ("top rules", 5)]
FILES_NUM = {"valid/records", "errors", "warnings", "billed tokens", "est. cost", "dup share"}


def files_table(files: list[FileAssessment]) -> str:
    """One row per file; the verdict right after the name so a wide table never hides it. Names
    are relative to the folder every file is in (the caption says which)."""
    base, names = display_names([r.path for r in files])
    rows = []
    for i, r in enumerate(files):
        cells = table_row(r, names.get(r.path), money_none="n/a")
        tds = []
        for head, k in FILES_COLUMNS:
            c = cells[k]
            if head == "file":
                tds.append(f'<td class="name"><a href="#file-{i}">{_e(c)}</a></td>')
            elif head == "verdict":
                tds.append(f"<td>{_badge(r.verdict)}</td>")
            else:
                tds.append(f'<td class="{"num" if head in FILES_NUM else ""}">{_e(c)}</td>')
        rows.append("<tr>" + "".join(tds) + "</tr>")
    ths = "".join(f'<th class="{"num" if h in FILES_NUM else ""}">{_e(h)}</th>' for h, _ in FILES_COLUMNS)
    cap = f"<caption>in {_e(base)}/</caption>" if base else ""
    return f'<table class="files">{cap}<thead><tr>{ths}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def findings_table(fa: FileAssessment, limit: int = MAX_FINDINGS) -> str:
    if not fa.findings:
        return '<p class="muted">No findings.</p>'
    rows = []
    for f in fa.findings[:limit]:
        where = f.pointer or ""
        if f.column:
            where = f"col {f.column} {where}".strip()
        rows.append(f'<tr class="sev-{f.severity.value}"><td class="num line">{f.line if f.line else "file"}</td>'
                    f'<td>{_e(f.rule)} {_e(f.name)}</td><td class="sev">{_e(f.severity.value)}</td>'
                    f'<td><code>{_e(where)}</code></td><td class="msg">{_e(f.message)}</td></tr>'
                    if where else
                    f'<tr class="sev-{f.severity.value}"><td class="num line">{f.line if f.line else "file"}</td>'
                    f'<td>{_e(f.rule)} {_e(f.name)}</td><td class="sev">{_e(f.severity.value)}</td>'
                    f'<td></td><td class="msg">{_e(f.message)}</td></tr>')
    more = (f'<p class="muted">{len(fa.findings) - limit:,} more finding(s) not shown here; the JSON report '
            "lists all of them.</p>" if len(fa.findings) > limit else "")
    return ('<table class="findings"><thead><tr><th class="num">line</th><th>rule</th><th>severity</th>'
            f'<th>where</th><th>message</th></tr></thead><tbody>{"".join(rows)}</tbody></table>{more}')


def cost_table(files: list[FileAssessment]) -> str:
    """The cost of training every file, per model: one table for the audit (it used to repeat
    for every file with the same rows)."""
    rows_in = cost_by_model(files)
    if not rows_in:
        return '<p class="muted">No valid examples to price.</p>'
    rows = []
    for c in rows_in:
        approx = "≈ " if c.get("approximate_counts") else ""
        cost = approx + _money(c["estimated_cost_usd"]) if c["estimated_cost_usd"] is not None else "-"
        gpu = f"{gpu_hours(c['gpu_hours'])} ({c['gpu_method']})" if c.get("gpu_hours") is not None else "-"
        price = f"{c['price_per_1m_training_tokens_usd']:g}" if c.get("price_per_1m_training_tokens_usd") else "-"
        rows.append(f"<tr><td>{_e(c['model'])}</td><td>{_e(c['provider'])}</td><td>{_e(c['status'])}</td>"
                    f'<td class="num">{c["context_limit"]:,}</td><td class="num">{_e(c["epochs"])}</td>'
                    f'<td class="num">{approx}{c["billed_tokens"]:,}</td><td class="num">{c["over_limit"]:,}</td>'
                    f'<td class="num">{price}</td><td class="num">{_e(cost)}</td><td class="num">{_e(gpu)}</td>'
                    f"<td>{_e(c['as_of'])}</td></tr>")
    counted = next(((r.tokens or {}).get("counted_with") for r in files if r.tokens), "")
    return ('<table class="cost"><thead><tr><th>model</th><th>provider</th><th>status</th><th class="num">context</th>'
            '<th class="num">epochs</th><th class="num">billed tokens / epoch</th><th class="num">over context</th>'
            '<th class="num">USD / 1M</th><th class="num">est. cost</th><th class="num">GPU-hours (A100)</th>'
            f'<th>as of</th></tr></thead><tbody>{"".join(rows)}</tbody></table>'
            f'<p class="muted">Estimates for all {len(files):,} file(s) together (sums of the per-file figures; '
            "epochs are each file's default, a range when they differ). Tokens counted with "
            f"{_e(counted)} by the OpenAI cookbook formula; ≈ marks "
            "models with another tokenizer (counts approximate). Default epochs by the cookbook heuristic; prices and "
            "GPU throughput from the dated tables in rules/ (models.toml, gpu_throughput.toml). Open models show "
            "GPU-hours only: no GPU price is assumed.</p>")


def thresholds_table(fa: FileAssessment) -> str:
    if not fa.thresholds:
        return ""
    rows = []
    for t in fa.thresholds:
        res = "n/a" if t.measured is None else ("ok" if t.passed else f"FAILED ({t.severity.value if t.severity else 'off'})")
        cls = "" if t.passed else f' class="sev-{t.severity.value if t.severity else "info"}"'
        rows.append(f"<tr{cls}><td>{_e(t.label)} <code>{_e(t.key)}</code></td><td class=\"num\">{_e(format_value(t.key, t.measured))}</td>"
                    f'<td class="num">{_e(t.op)} {_e(format_value(t.key, t.limit))}</td><td class="sev">{_e(res)}</td>'
                    f'<td class="msg">{_e(t.detail)}</td></tr>')
    return ('<table class="thresholds"><thead><tr><th>threshold</th><th class="num">measured</th>'
            f'<th class="num">limit</th><th>result</th><th>detail</th></tr></thead><tbody>{"".join(rows)}</tbody></table>')


# --------------------------------------------------------------------------------------------- page

def _summary_cards(result: AuditResult) -> str:
    s = result.summary()
    files = result.files
    ex = sum((r.dedup or {}).get("examples", 0) for r in files)
    dups = sum((r.dedup or {}).get("exact_duplicates", 0) + (r.dedup or {}).get("near_duplicates", 0) for r in files)
    # the share is of the conversations the dedup compared: say when that is not the valid count
    of = (f"{dups:,} of the {ex:,} valid examples" if ex == s["valid_examples"] else
          f"{dups:,} of {ex:,} conversations compared ({s['valid_examples']:,} valid)")
    return '<div class="cards summary">' + "".join([
        _card("verdict", s["verdict"].upper(), f"preset {s['preset']}"),
        _card("files", f"{s['files']:,}", f"{s['pass']} pass · {s['warn']} warn · {s['fail']} fail"),
        _card("valid examples", f"{s['valid_examples']:,}", f"of {s['examples']:,} records"),
        _card("errors", f"{s['errors']:,}", f"{s['warnings']:,} warnings · {s['infos']:,} infos"),
        _card("billed tokens", f"{s['billed_tokens']:,}", "per epoch, all files"),
        _card("est. cost", _money(s["estimated_cost_usd"]), f"on {s['model']} (estimate)"),
        _card("duplicate share", f"{dups / ex:.1%}" if ex else "-", of),
    ]) + "</div>"


def _file_cards(fa: FileAssessment) -> str:
    tok = fa.tokens or {}
    d = fa.dedup or {}
    div = fa.diversity or {}
    lex = div.get("lexical") or {}
    vol = fa.volume or {}
    c = fa.counts
    cards = [
        _card("verdict", fa.verdict.upper(), f"preset {fa.preset}"),
        _card("valid examples", f"{vol.get('valid_examples', fa.valid_examples):,}", f"of {fa.examples:,} records, "
              f"{fa.lines:,} lines"),
        _card("errors", f"{c.errors:,}", f"{c.warnings:,} warnings · {c.infos:,} infos"),
        _card("tier", vol.get("reached") or (f"low {vol['partly']}" if vol.get("partly") else "below style"),
              _next_tier(vol)),
    ]
    if tok:
        cards += [_card("billed tokens", f"{tok['billed_tokens']:,}", f"x {tok['epochs']} epoch(s); max "
                        f"{tok['max_example_tokens']:,}/example"),
                  _card("est. cost", _money(tok.get("estimated_cost_usd")), f"{tok['model']} (estimate)")]
    if d:
        cards.append(_card("duplicate share", f"{d.get('duplicate_share', 0):.1%}",
                           f"{d['exact_duplicates']:,} exact · {d['near_duplicates']:,} near"))
    if lex:
        a = lex.get("assistant", {}).get("distinct_2")
        u = lex.get("user", {}).get("distinct_2")
        cards.append(_card("distinct-2", f"{a:.3f}" if a is not None else "-",
                           f"assistant; user {u:.3f}" if u is not None else "assistant"))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _next_tier(vol: dict) -> str:
    """The tier card's note, with the number the readiness advice gives: below the smallest tier
    that is its minimum ("come back with at least 50"), not its recommended size."""
    if not vol.get("next"):
        return "top tier reached"
    first = _ladder()[0]
    if not vol.get("reached") and not vol.get("partly") and vol["next"] == first["tier"]:
        return f"next: {first['tier']} needs at least {first['fail_below']:,} ({first['warn_below']:,}+ recommended)"
    return f"next: {vol['next']} at {vol['next_needs']:,}+"


def file_section(i: int, fa: FileAssessment, max_findings: int = MAX_FINDINGS, readiness: bool = True) -> str:
    parts = [f'<section class="file" id="file-{i}"><h2>{_e(fa.path)} {_badge(fa.verdict)}</h2>',
             f'<p class="sub">{_e(fa.format)} · {fa.size or 0:,} bytes</p>',
             _statements(file_readiness(fa)) if readiness else "", _file_cards(fa)]
    if fa.readable and (fa.tokens or fa.diversity or fa.dedup):
        parts.append('<h3>Charts</h3><div class="charts">' + "".join([
            token_chart(fa), turns_chart(fa), languages_chart(fa), clusters_chart(fa),
            openings_chart(fa, "user"), openings_chart(fa, "assistant")]) + "</div>")
    th = thresholds_table(fa)
    if th:
        parts.append(f"<h3>Thresholds (preset {_e(fa.preset)})</h3>{th}")
    parts.append(f"<h3>Findings ({len(fa.findings):,})</h3>{findings_table(fa, max_findings)}")
    if fa.notes:
        parts.append("<p class=\"muted\">" + "<br>".join(_e(n) for n in fa.notes) + "</p>")
    parts.append("</section>")
    return "".join(parts)


def render_html(result: AuditResult, *, title: str = "dataprep audit", max_findings: int = MAX_FINDINGS) -> str:
    """The whole report as one HTML document (a string)."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    s = result.summary()
    p = result.preset
    body = [
        f"<h1>{_e(title)} {_badge(s['verdict'])}</h1>",
        f'<p class="sub">{s["files"]} file(s) · preset <code>{_e(p.name)}</code> ({_e(p.description)}) · '
        f"generated {now} by dataprep {_e(__version__)} in {s['seconds']:.1f} s</p>",
        "<h2>Readiness</h2>", _statements(result.readiness()),
        _summary_cards(result),
        "<h2>Files</h2>", files_table(result.files),
    ]
    if any(fa.cost for fa in result.files):
        body += ["<h2>Cost of training, per model</h2>", cost_table(result.files)]
    # one file: the readiness at the top is already that file's
    body += [file_section(i, fa, max_findings, readiness=len(result.files) > 1) for i, fa in enumerate(result.files)]
    tiers = "; ".join(f"{t['tier']} {t['fail_below']:,} minimum, {t['warn_below']:,}+ recommended" for t in
                      _ladder())
    body.append(f"<footer>Volume tiers ({_e(tiers)}) from the built-in presets in rules/presets/ with their sources. "
                "Token counts, costs and GPU-hours are estimates. Language shares over a sample say so, with its size. "
                "This page loads nothing from the network.</footer>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
            + "\n".join(body) + "</main></body></html>\n")


def _ladder():
    from dataprep.gate.verdict import tier_ladder

    return tier_ladder()


def write_html(result: AuditResult, path: str | Path, **kw) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(render_html(result, **kw), encoding="utf-8")
    return p
