"""The Overview tab: counts, verdict and tier, token histogram, cost per model, duplicates,
diversity and languages. Each section says "waiting" until its analysis arrives."""

from __future__ import annotations

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from dataprep.output.numbers import dollars
from dataprep.tui.model import Dataset, human_bytes, plural

VERDICT_STYLES = {"pass": "bold green", "warn": "bold yellow", "fail": "bold red"}
SECTIONS = ("file", "verdict", "tokens", "cost", "duplicates", "diversity", "languages", "notes")
TITLES = {"file": "File", "verdict": "Verdict", "tokens": "Tokens", "cost": "Cost per model",
          "duplicates": "Duplicates", "diversity": "Diversity", "languages": "Languages", "notes": "Notes"}


def waiting(what: str = "the scan") -> Text:
    return Text(f"waiting for {what}…", style="dim italic")


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


class OverviewPanel(VerticalScroll, can_focus=True):
    DEFAULT_CSS = """
    OverviewPanel > Static { margin: 0 1 1 1; }
    OverviewPanel > .section { border: round $primary; padding: 0 1; }
    """

    def __init__(self, dataset: Dataset, preset_name: str, **kw):
        super().__init__(**kw)
        self.dataset = dataset
        self.preset_name = preset_name

    def compose(self):
        for s in SECTIONS:
            st = Static(waiting(), id=f"ov-{s}", classes="section")
            st.border_title = TITLES[s]
            yield st

    def section(self, name: str) -> Static:
        return self.query_one(f"#ov-{name}", Static)

    # ------------------------------------------------------------------ updates

    def show_file(self, index_progress: tuple[int, int | None] | None = None) -> None:
        ds = self.dataset
        t = Text()
        t.append(ds.path, style="bold")
        idx = ds.index
        t.append(f"\n{plural(len(idx), 'line')} · {human_bytes(idx.size)}")
        if idx.compressed:
            t.append(" decompressed")
        if not idx.done:
            done, total = index_progress or (0, None)
            t.append(f" · indexing {done / total:.0%}" if total else " · indexing…", style="yellow")
        if idx.error:
            t.append(f"\n{idx.error}", style="red")
        prof = ds.profile
        if prof is None:
            t.append("\nscan running…", style="dim italic")
        else:
            counts = {"error": 0, "warning": 0, "info": 0}
            for f in ds.findings:
                counts[f.severity.value] += 1
            t.append(f"\nformat {prof.format} · {prof.examples:,} examples, {prof.state.valid:,} valid")
            if not prof.readable:
                t.append(" · unreadable", style="bold red")
            t.append("\n")
            t.append(f"{counts['error']:,} error(s)", style="red" if counts["error"] else "")
            t.append(" · ")
            t.append(f"{counts['warning']:,} warning(s)", style="yellow" if counts["warning"] else "")
            t.append(f" · {counts['info']:,} info(s)")
            if prof.cached:
                t.append(" · profile from the cache", style="dim")
        self.section("file").update(t)

    def show_tokens(self, view: dict | None) -> None:
        from dataprep.tokens.estimate import render_histogram

        if view is None:
            self.section("tokens").update(Text("no examples to count", style="dim"))
            return
        tokens = view["tokens"]
        t = Text()
        if len(tokens):
            t.append(f"{len(tokens):,} valid examples · {int(tokens.sum()):,} tokens · median {int(_median(tokens)):,}"
                     f" · max {int(tokens.max()):,} · model {view['model']} (context {view['context_limit']:,})\n")
            over = view["over_lines"]
            if over:
                shown = ", ".join(map(str, over[:10])) + ("…" if len(over) > 10 else "")
                t.append(f"{len(over):,} over the context limit: lines {shown}\n", style="red")
            t.append(render_histogram(tokens, view["context_limit"], width=32))
        else:
            t.append("no valid examples", style="dim")
        t.append("\ncounts follow the OpenAI cookbook formula: an estimate", style="dim")
        self.section("tokens").update(t)

    def show_duplicates(self, res, examples: int) -> None:
        if res is None:
            self.section("duplicates").update(Text("not analysed (no examples to compare)", style="dim"))
            return
        dups = res.exact_duplicates + res.near_duplicates
        t = Text()
        t.append(f"{_pct(dups / examples if examples else 0.0)} duplicates", style="bold" if dups else "bold green")
        t.append(f" · {res.exact_duplicates:,} exact + {res.near_duplicates:,} near of {examples:,} examples · "
                 f"{res.n_clusters:,} cluster(s)")
        p = res.params
        t.append(f"\nMinHash {p.get('num_perm')} perms, word {p.get('ngram')}-grams, Jaccard ≥ {p.get('threshold')}"
                 " (estimated)", style="dim")
        self.section("duplicates").update(t)

    def show_assessment(self, fa) -> None:
        t = Text()
        t.append(f"{fa.verdict.upper()}", style=VERDICT_STYLES.get(fa.verdict, "bold"))
        t.append(f" against preset {fa.preset}")
        c = fa.counts
        t.append(f" · {c.errors:,} error(s), {c.warnings:,} warning(s), {c.infos:,} info(s)")
        v = fa.volume or {}
        if v:
            t.append(f"\nvolume: {v.get('valid_examples', 0):,} valid examples")
            if v.get("tier"):
                t.append(f" · preset tier {v['tier']}: {v.get('status')}")
            if v.get("reached"):
                t.append(f" · reaches the {v['reached']} tier")
            elif v.get("partly"):
                t.append(f" · inside the {v['partly']} tier's warning band")
            if v.get("next"):
                t.append(f" · {v['next']} needs {v['next_needs']:,}+")
        for th in fa.thresholds:
            t.append("\n")
            t.append("✓ " if th.passed else "✗ ", style="green" if th.passed else "red")
            t.append(th.message)
        errs = [f for f in fa.findings if f.severity.value == "error"]
        if errs:
            rules = sorted({f.rule for f in errs})
            t.append(f"\nerrors from {', '.join(rules[:8])}{'…' if len(rules) > 8 else ''} (see Findings)", style="red")
        self.section("verdict").update(t)
        self.show_cost(fa.cost)
        if fa.dedup:
            d = fa.dedup
            t = Text()
            share = d.get("duplicate_share", 0.0)
            t.append(f"{_pct(share)} duplicates", style="bold" if share else "bold green")
            t.append(f" · {d['exact_duplicates']:,} exact + {d['near_duplicates']:,} near of {d['examples']:,} "
                     f"examples · {d['clusters']:,} cluster(s)")
            if d.get("largest_cluster"):
                t.append(f" · largest {d['largest_cluster']}")
            if d.get("conflicts"):
                t.append(f"\n{d['conflicts']:,} prompt(s) with conflicting answers (DP503)", style="yellow")
            p = d.get("params", {})
            t.append(f"\nMinHash {p.get('num_perm')} perms, word {p.get('ngram')}-grams, Jaccard ≥ "
                     f"{p.get('threshold')} (estimated)", style="dim")
            self.section("duplicates").update(t)
        self.show_diversity(fa.diversity)
        notes = list(fa.notes)
        self.show_notes(notes)

    def show_cost(self, cost: list[dict]) -> None:
        if not cost:
            self.section("cost").update(Text("no valid examples", style="dim"))
            return
        table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
        for col, just in (("model", "left"), ("context", "right"), ("epochs", "right"), ("billed tokens", "right"),
                          ("over", "right"), ("cost (USD)", "right")):
            table.add_column(col, justify=just)
        as_of = set()
        for r in cost:
            if r.get("price_per_1m_training_tokens_usd") is None and r.get("gpu_hours") is None:
                continue
            price = r.get("estimated_cost_usd")
            if price is not None:
                cost_s = dollars(price, sign="", cents_from=1.0)  # the column says USD
            elif r.get("gpu_hours") is not None:
                cost_s = f"{r['gpu_hours']:,.3g} GPU-h"
            else:
                cost_s = "-"
            as_of.add(r.get("as_of", ""))
            table.add_row(r["model"], f"{r['context_limit']:,}", str(r["epochs"]), f"{r['billed_tokens']:,}",
                          str(r["over_limit"]), cost_s)
        dates = ", ".join(sorted(a for a in as_of if a))
        note = Text(f"estimates: epochs x billed tokens x price; prices as of {dates}"
                    " (rules/models.toml); open models in GPU-hours", style="dim")
        self.section("cost").update(Group(table, note))

    def show_diversity(self, d: dict | None) -> None:
        if not d:
            self.section("diversity").update(Text("not analysed", style="dim"))
            self.section("languages").update(Text("not analysed", style="dim"))
            return
        t = Text()
        lex = d.get("lexical", {})
        for role in ("user", "assistant"):
            r = lex.get(role) or {}
            if r.get("distinct_2") is None:
                continue
            t.append(f"{role:<9}", style="bold")
            t.append(f" distinct-1 {r['distinct_1']:.3f} · distinct-2 {r['distinct_2']:.3f} · "
                     f"MATTR {r.get('mattr') or 0:.3f} · MTLD {r.get('mtld') or 0:.0f}")
            o = (d.get("openings", {}).get(role) or {}).get("words_3") or {}
            if o.get("top"):
                top = o["top"][0]
                t.append(f" · top opening \"{top['opening']}\" {o['top_share']:.1%}")
            t.append("\n")
        v = d.get("vendi")
        if v and v.get("score") is not None:
            t.append(f"Vendi score {v['score']:.1f} of a {v.get('sample', 0)}-example sample "
                     f"({v.get('normalized', 0):.0%} distinct)\n")
        st = d.get("structure") or {}
        sp = st.get("system_prompts") if isinstance(st, dict) else None
        if isinstance(sp, dict) and sp.get("distinct") is not None:
            t.append(f"{sp['distinct']} distinct system prompt(s)\n")
        t.rstrip()  # in place
        self.section("diversity").update(t if t.plain else Text("no text", style="dim"))
        langs = d.get("languages") or {}
        lt = Text()
        if langs:
            for k, v in sorted(langs.items(), key=lambda kv: -kv[1]["share"])[:8]:
                lt.append(f"{k:<4}", style="bold")
                lt.append(f" {v['share']:6.1%}  [{v['ci_low']:.1%}-{v['ci_high']:.1%}]  n={v['n']}\n")
            n = d.get("language_sample", 0)
            lt.append(f"a sample of {n:,} examples (95% Wilson intervals)" if d.get("language_sampled")
                      else f"all {n:,} examples", style="dim")
        else:
            lt.append(d.get("language_note") or "not analysed", style="dim")
        self.section("languages").update(lt)

    def show_notes(self, notes: list[str]) -> None:
        t = Text("\n".join(f"• {n}" for n in notes) if notes else "none", style="" if notes else "dim")
        self.section("notes").update(t)


def _median(a) -> float:
    import numpy as np

    return float(np.median(a)) if len(a) else 0.0
