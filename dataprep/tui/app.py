"""``dataprep tui``: the terminal inspector.

It opens at once: a line index (numpy over an mmap, in a worker thread) feeds the examples list
chunk by chunk, so the first screen is drawn after the first megabyte whatever the file's size.
Once that screen is up, the Profile (``scan``, cached when the file is unchanged) and the gate's
assessment run in a child process (:mod:`dataprep.tui.loader`) and the tabs fill in as each
result arrives. The input is never written: exports go to new files.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np
from rich.text import Text
from textual import work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from dataprep.tui import analysis
from dataprep.tui.conversation_view import ConversationView
from dataprep.tui.duplicates_view import ClusterList, DuplicatesView
from dataprep.tui.examples_view import ExamplesHeader, ExamplesList
from dataprep.tui.findings_view import FindingsTree, FindingsView
from dataprep.tui.line_index import LineIndex, write_lines
from dataprep.tui.model import Dataset, index_findings, plural
from dataprep.tui.overview import OverviewPanel
from dataprep.tui.screens import PromptScreen, TextScreen, help_body
from dataprep.tui.search import FLAG_HELP, FLAGS, ROLES, Filter, FilterError, candidates, compile_regex, run_search

TABS = ("overview", "examples", "findings", "duplicates")
FILTER_HELP = ("space-separated, all must hold: role:" + "|".join(ROLES) + " · rule:DP303 (or a prefix: rule:DP3)"
               " · lang:de (the diversity report's language sample) · "
               + " · ".join(f"{k} ({v})" for k, v in FLAG_HELP.items()))


def scan_status(done: int, total: int | None, rows: int) -> str:
    """The status bar's scan part: the share of the file's bytes scanned so far."""
    from dataprep.tui.model import human_bytes

    if total and done <= total:  # a compressed file's bytes outgrow its size on disk: no share
        return f"scanning {min(99, int(100 * done / total))}% of {human_bytes(total)} · {rows:,} rows"
    return f"scanning · {human_bytes(done)} · {rows:,} rows"


class DataprepApp(App):
    """Inspect one chat dataset: overview, examples, findings, duplicates."""

    CSS_PATH = str(Path(__file__).with_name("styles.tcss"))  # absolute: subclasses live elsewhere
    TITLE = "dataprep"
    BINDINGS = [
        Binding("question_mark,f1", "help", "Help"),
        Binding("slash", "search", "Search"),
        Binding("f", "filter", "Filter"),
        Binding("colon", "goto", "Go to line"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        Binding("e", "export", "Export view"),
        Binding("1", "tab('overview')", "Overview", show=False),
        Binding("2", "tab('examples')", "Examples", show=False),
        Binding("3", "tab('findings')", "Findings", show=False),
        Binding("4", "tab('duplicates')", "Duplicates", show=False),
        Binding("n", "next_finding(1)", "Next finding", show=False),
        Binding("N", "next_finding(-1)", "Previous finding", show=False),
        Binding("q", "quit", "Quit"),
        # Ctrl-C quits too (Textual's default only says how to quit); a text selection is still
        # copied first by the screen's own ctrl+c.
        Binding("ctrl+c", "quit", show=False),
    ]

    def __init__(self, path: str, *, preset: str | None = None, jobs: int | None = None, cache: bool = True,
                 scan: bool = True, analyses: bool = True, initial_tab: str = "examples", loader: str = "process"):
        super().__init__()
        self.path = path
        self.preset_spec = preset
        self.preset = analysis.load_preset(preset)  # raises PresetError for a bad preset
        self.jobs = jobs
        self.cache = cache
        self.do_scan = scan
        self.do_analyses = analyses
        self.initial_tab = initial_tab
        self.loader = loader  # "process": scan and analyses in a child process; "thread": in a worker thread
        self._background = None
        self.dataset = Dataset(path, LineIndex(path))  # raises InputError for unreadable input
        # Start multiprocessing's resource tracker now: started later, from inside the app, it
        # would hand the app's captured stderr (no file descriptor) to the child and fail.
        # (and deaf to the SIGHUP of a closing terminal: it must outlive us to unlink semaphores)
        from dataprep.lifetime import ensure_tracker

        ensure_tracker()
        self.filter = Filter()
        self.status = {"index": "indexing…", "scan": "scan waiting" if scan else "scan off", "analysis": "",
                       "search": ""}
        self._index_progress_at = (0, None)
        self._language_pending: Filter | None = None
        self.scan_busy = False  # True while the scan/analysis thread runs
        self._scan_started = False
        self.export_idle = threading.Event()  # cleared while an export is being written
        self.export_idle.set()

    # ------------------------------------------------------------------ layout

    def compose(self) -> ComposeResult:
        ds = self.dataset
        yield Static(Text(self.path, style="bold"), id="titlebar")
        with TabbedContent(initial=self.initial_tab):
            with TabPane("Overview", id="overview"):
                yield OverviewPanel(ds, self.preset_name, id="overview-panel")
            with TabPane("Examples", id="examples"):
                with Horizontal():
                    with Vertical(id="list-pane"):
                        yield ExamplesHeader(id="examples-header")
                        yield ExamplesList(ds, id="examples-list")
                        yield Static("", id="examples-status")
                    yield ConversationView(ds, id="conversation")
            with TabPane("Findings", id="findings"):
                yield FindingsView(ds, id="findings-view")
            with TabPane("Duplicates", id="duplicates"):
                yield DuplicatesView(ds, id="duplicates-view")
        yield Static("", id="status")
        yield Footer()

    @property
    def preset_name(self) -> str:
        return getattr(self.preset, "name", None) or (self.preset_spec or "")

    @property
    def examples(self) -> ExamplesList:
        return self.query_one(ExamplesList)

    @property
    def conversation(self) -> ConversationView:
        return self.query_one(ConversationView)

    @property
    def overview(self) -> OverviewPanel:
        return self.query_one(OverviewPanel)

    def on_mount(self) -> None:
        self.action_tab(self.initial_tab)
        self.overview.show_file()
        self.build_index()
        self._update_status()

    def on_unmount(self) -> None:
        self.workers.cancel_all()
        self.stop_background()

    def stop_background(self) -> None:
        if self._background is not None:
            self._background.stop()

    # ------------------------------------------------------------------ status

    def _update_status(self) -> None:
        parts = [self.status[k] for k in ("index", "scan", "analysis", "search") if self.status[k]]
        self.query_one("#status", Static).update(Text(" · ".join(parts), style="dim"))
        lst = self.examples
        t = Text()
        n = len(self.dataset)
        if self.filter.empty:
            t.append(plural(n, "line"))
        else:
            t.append(f"{lst.count:,} of {n:,} lines", style="bold")
            t.append(f" · filter {self.filter.describe()}")
            t.append(" · Esc clears", style="dim")
        self.query_one("#examples-status", Static).update(t)

    def _set_status(self, key: str, text: str) -> None:
        self.status[key] = text
        self._update_status()

    def _safe_call(self, fn, *args, **kw) -> None:
        """call_from_thread that tolerates an app which is shutting down."""
        try:
            self.call_from_thread(fn, *args, **kw)
        except RuntimeError:
            pass

    # ------------------------------------------------------------------ index

    @work(thread=True, exclusive=True, group="index")
    def build_index(self) -> None:
        worker = get_current_worker()
        last = [0.0]

        def progress(done: int, total: int | None, lines: int) -> None:
            now = time.monotonic()
            if last[0] == 0.0 or now - last[0] >= 0.1 or done == total:
                last[0] = now
                self._safe_call(self._index_progress, done, total)

        self.dataset.index.build(progress, lambda: worker.is_cancelled)
        if not worker.is_cancelled:
            self._safe_call(self._index_done)

    def _index_progress(self, done: int, total: int | None) -> None:
        if self.do_scan and not self._scan_started:
            # after the first rows are on screen: the scan's processes would slow the first frame
            self._scan_started = True
            self.call_after_refresh(self.load_profile)
        self._index_progress_at = (done, total)
        n = len(self.dataset)
        pct = f" {done / total:.0%}" if total else ""
        self._set_status("index", f"indexing{pct} · {plural(n, 'line')}")
        self.query_one(ExamplesHeader).set_width(self.examples.line_w)
        self.examples.refresh_count()
        self.overview.show_file(self._index_progress_at)

    def _index_done(self) -> None:
        if self.do_scan and not self._scan_started:  # an empty file has no progress to report
            self._scan_started = True
            self.load_profile()
        idx = self.dataset.index
        self.query_one(ExamplesHeader).set_width(self.examples.line_w)
        self.examples.refresh_count()
        self.overview.show_file(self._index_progress_at)
        self.overview.show_file()
        self._set_status("index", plural(len(idx), "line") + (f" · {idx.error}" if idx.error else ""))

    # ------------------------------------------------------------------ scan and analyses

    @work(thread=True, exclusive=True, group="scan")
    def load_profile(self) -> None:
        """Receive the background pipeline's results and hand each to the UI as it arrives."""
        from dataprep.tui.loader import BackgroundLoad, pipeline

        worker = get_current_worker()
        self.scan_busy = True
        self._safe_call(self._set_status, "scan", "scanning…")
        kw = dict(jobs=self.jobs, cache=self.cache, preset_spec=self.preset_spec, analyses=self.do_analyses)
        notes: list[str] = []
        prof = None
        try:
            if self.loader == "process":
                self._background = BackgroundLoad(self.path, **kw)
                self._background.start()
                results = self._background.results(lambda: worker.is_cancelled)
            else:
                results = pipeline(self.path, **kw, on_progress=lambda *a: self._safe_call(self._scan_progress, *a))
            for kind, payload in results:
                if worker.is_cancelled:
                    return
                if kind == "progress":
                    self._safe_call(self._scan_progress, *payload)
                elif kind == "profile":
                    prof = payload
                    # grouping findings is plain Python: do it here, off the UI thread
                    self._safe_call(self._profile_ready, prof, index_findings(prof.findings, prof.rows.height))
                elif kind == "tokens":
                    self._safe_call(self._tokens_ready, payload)
                elif kind == "dups":
                    self._safe_call(self._dups_ready, *payload)
                elif kind == "status":
                    self._safe_call(self._set_status, "analysis", payload)
                elif kind == "note":
                    notes.append(payload)
                elif kind == "assessment":
                    fi = index_findings(payload.findings, prof.rows.height) if payload is not None else None
                    self._safe_call(self._assessment_ready, payload, fi, notes)
                elif kind == "error":
                    self._safe_call(self._set_status, "scan" if prof is None else "analysis", f"failed: {payload}")
        except Exception as e:  # the list and the raw lines stay usable without a profile
            self._safe_call(self._set_status, "scan" if prof is None else "analysis",
                            f"failed: {type(e).__name__}: {e}")
        finally:
            self.scan_busy = False

    def _scan_progress(self, done: int, total: int | None, rows: int) -> None:
        if self.dataset.profile is None:  # a late message after the profile: keep "scanned"
            self._set_status("scan", scan_status(done, total, rows))

    def _profile_ready(self, prof, fi) -> None:
        ds = self.dataset
        ds.attach_profile(prof, fi)
        self._set_status("scan", "profile from the cache" if prof.cached else "scanned")
        self.overview.show_file()
        self.query_one(FindingsView).refresh_data()
        self.conversation.refresh_data()
        self.examples.refresh()
        if not self.filter.empty:
            self.apply_filter()
        if not prof.rows.height:
            self.overview.show_tokens(None)
            self.query_one(DuplicatesView).refresh_data()

    def _tokens_ready(self, view) -> None:
        if view is not None:
            self.dataset.set_over(view["over_lines"])
        self.overview.show_tokens(view)
        self.examples.refresh()

    def _dups_ready(self, ex: np.ndarray, res) -> None:
        ds = self.dataset
        ds.analysis.dedup = res
        ds.analysis.dedup_rows = ex
        ds.set_dups(ex, res.dup_kind)
        self.overview.show_duplicates(res, len(ex))
        self.query_one(DuplicatesView).refresh_data()
        self.examples.refresh()

    def _assessment_ready(self, fa, fi, notes: list[str]) -> None:
        ds = self.dataset
        ds.analysis.notes = notes + (list(fa.notes) if fa is not None else [])
        if fa is not None:
            ds.analysis.tier = fa.volume
            ds.set_findings(fi)
            self.overview.show_assessment(fa)
            self.overview.show_file()
            self.query_one(FindingsView).refresh_data()
            self.conversation.refresh_data()
            self.examples.refresh()
            if not self.filter.empty:
                self.apply_filter()
            verdict = f"{fa.verdict.upper()} ({fa.preset})"
        else:
            verdict = "no verdict"
            self.overview.show_diversity(None)
        if fa is None or not fa.dedup:
            self.overview.show_duplicates(ds.analysis.dedup, len(ds.analysis.dedup_rows)
                                          if ds.analysis.dedup_rows is not None else 0)
        self.overview.show_notes(ds.analysis.notes)
        self.query_one(DuplicatesView).refresh_data(final=True)
        self._set_status("analysis", verdict)

    @work(thread=True, exclusive=True, group="language")
    def detect_languages(self) -> None:
        from dataprep.scan import default_jobs

        self._safe_call(self._set_status, "search", "detecting languages of the sample…")
        langs, n = analysis.language_sample(self.dataset, jobs=self.jobs or default_jobs())
        self._safe_call(self._languages_ready, langs, n)

    def _languages_ready(self, langs: dict[int, str], n: int) -> None:
        self.dataset.analysis.languages = langs
        self.dataset.analysis.language_sample = n
        self.dataset.touch()
        self._set_status("search", "")
        if self._language_pending is not None:
            f, self._language_pending = self._language_pending, None
            self.filter = f
            self.apply_filter()

    # ------------------------------------------------------------------ filters and search

    def apply_filter(self, keep_line: int | None = None) -> None:
        lst = self.examples
        f = self.filter
        keep = lst.current_line if keep_line is None else keep_line
        self.conversation.regex = compile_regex(f.regex) if f.regex else None
        if f.empty:
            self.workers.cancel_group(self, "search")
            lst.set_rows(None, keep_line=keep)
            self._set_status("search", "")
            return
        if f.lang and not self.dataset.analysis.languages and self.dataset.scanned:
            self._language_pending = f
            self.detect_languages()
            return
        try:
            cands = candidates(self.dataset, f)
        except FilterError as e:
            self.notify(str(e), severity="warning")
            return
        if f.regex:
            self.search(f, cands, keep)
        else:
            lst.set_rows(cands, keep_line=keep)
            self._set_status("search", "")
            self.conversation.show(lst.current_line, force=True)

    @work(thread=True, exclusive=True, group="search")
    def search(self, f: Filter, lines: np.ndarray, keep: int | None) -> None:
        worker = get_current_worker()
        last = [0.0]
        if not self.dataset.index.done:  # search the whole file, not the part indexed so far
            self._safe_call(self._set_status, "search", "search waits for the line index…")
            while not self.dataset.index.done:
                if worker.is_cancelled:
                    return
                time.sleep(0.05)
            try:
                lines = candidates(self.dataset, f)
            except FilterError as e:
                self._safe_call(self.notify, str(e), severity="warning")
                return

        def progress(done: int, total: int, hits: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.2:
                last[0] = now
                self._safe_call(self._set_status, "search", f"searching {done / max(total, 1):.0%} · {hits:,} hits")

        hits = run_search(self.dataset, f, lines, progress=progress, cancelled=lambda: worker.is_cancelled)
        if hits is not None and not worker.is_cancelled:
            self._safe_call(self._search_done, f, hits, keep)

    def _search_done(self, f: Filter, hits: np.ndarray, keep: int | None) -> None:
        if f != self.filter:
            return
        self.examples.set_rows(hits, keep_line=keep)
        self._set_status("search", f"/{f.regex}/: {len(hits):,} match(es)")
        self.conversation.show(self.examples.current_line, force=True)

    def set_filter(self, f: Filter) -> None:
        self.filter = f
        self.action_tab("examples")
        self.apply_filter()

    def action_search(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            text = text.strip()
            if text:
                try:
                    compile_regex(text)
                except FilterError as e:
                    self.notify(str(e), severity="error")
                    return
            self.set_filter(replace(self.filter, regex=text or None))

        self.push_screen(PromptScreen("Search message text (regex; case-insensitive unless it has capitals)",
                                      self.filter.regex or "", placeholder="refund|return label"), done)

    def action_filter(self) -> None:
        def done(text: str | None) -> None:
            if text is None:
                return
            try:
                f = self.filter.with_filters(text)
            except FilterError as e:
                self.notify(str(e), severity="error")
                return
            self.set_filter(f)

        current = replace(self.filter, regex=None).describe()
        self.push_screen(PromptScreen("Filter examples", current, placeholder="role:tool tools over rule:DP303",
                                      hint=FILTER_HELP), done)

    def action_clear_filter(self) -> None:
        if not self.filter.empty:
            self.filter = Filter()
            self.apply_filter()

    # ------------------------------------------------------------------ navigation

    def action_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab
        target = {"overview": OverviewPanel, "examples": ExamplesList, "findings": FindingsTree,
                  "duplicates": ClusterList}[tab]
        self.query_one(target).focus()

    def goto(self, line: int) -> bool:
        """Show 1-based ``line`` in the Examples tab (clearing a filter that hides it)."""
        n = len(self.dataset)
        if not 1 <= line <= n:
            self.notify(f"no line {line}: the file has {n:,} line(s)" + ("" if self.dataset.index.done else
                                                                         " indexed so far"), severity="warning")
            return False
        self.action_tab("examples")
        lst = self.examples
        if not lst.goto_line(line - 1):
            self.filter = Filter()
            self.apply_filter(keep_line=line - 1)
            lst.goto_line(line - 1)
        return True

    def action_goto(self) -> None:
        def done(text: str | None) -> None:
            if not text or not text.strip():
                return
            t = text.strip().lstrip(":")
            if t in ("$", "end", "last"):
                self.goto(len(self.dataset))
                return
            try:
                self.goto(int(t.replace(",", "").replace("_", "")))
            except ValueError:
                self.notify(f"not a line number: {text!r}", severity="error")

        self.push_screen(PromptScreen("Go to line", placeholder=f"1-{len(self.dataset):,} ($ for the last)"), done)

    def action_next_finding(self, step: int) -> None:
        """Jump to the next (or previous) line with a finding, from the current one."""
        lines = sorted(ln for ln in self.dataset.by_line if ln > 0)
        if not lines:
            self.notify("no findings on any line")
            return
        cur = (self.examples.current_line or 0) + 1
        arr = np.asarray(lines)
        k = int(np.searchsorted(arr, cur, side="right" if step > 0 else "left"))
        k = k if step > 0 else k - 1
        self.goto(int(arr[k % len(arr)]))

    def on_examples_list_highlighted(self, event: ExamplesList.Highlighted) -> None:
        self.conversation.show(event.line)

    def on_examples_list_opened(self, event: ExamplesList.Opened) -> None:
        """Enter on an example: its conversation takes the focus (arrows and page keys scroll it)."""
        if event.line is None:
            return
        self.conversation.show(event.line)
        self.conversation.focus()

    def on_conversation_view_back(self, event: ConversationView.Back) -> None:
        self.examples.focus()

    def on_findings_tree_jump(self, event: FindingsTree.Jump) -> None:
        if event.line <= 0:
            self.notify("a whole-file finding: it has no line")
            return
        self.goto(event.line)

    def on_findings_tree_rule_action(self, event: FindingsTree.RuleAction) -> None:
        if event.action == "doc":
            self.show_rule_doc(event.rule)
        elif event.action == "list":
            self.set_filter(Filter(rule=event.rule))
        elif event.action == "export":
            self.export_lines(self.dataset.rule_lines(event.rule), f"finding-{event.rule}")

    def on_duplicates_view_jump(self, event: DuplicatesView.Jump) -> None:
        self.goto(event.line + 1)

    def show_rule_doc(self, rule: str) -> None:
        from dataprep.gate.formats import rule_doc

        try:
            text = rule_doc(rule)
        except KeyError as e:
            self.notify(str(e), severity="error")
            return
        self.push_screen(TextScreen(f"rule {rule}", Text(text)))

    # ------------------------------------------------------------------ export

    def default_export_path(self, slug: str) -> str:
        p = Path(self.path)
        name = p.name
        for suffix in (".gz", ".zst"):
            name = name.removesuffix(suffix)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        base = p.with_name(f"{stem}.{slug}.jsonl")
        k = 2
        out = base
        while out.exists():
            out = p.with_name(f"{stem}.{slug}.{k}.jsonl")
            k += 1
        return str(out)

    def export_lines(self, lines: np.ndarray | None, slug: str) -> None:
        """Ask for a new file and copy ``lines`` (0-based; None: every line) into it."""
        if lines is not None and not len(lines):
            self.notify("nothing to export: no line matches", severity="warning")
            return

        def done(text: str | None) -> None:
            if text and text.strip():
                self.write_export(lines, text.strip())

        n = len(lines) if lines is not None else len(self.dataset)
        self.push_screen(PromptScreen(f"Export {n:,} line(s), byte-identical, to a new file",
                                      self.default_export_path(slug),
                                      hint="an existing file is never overwritten; the input is never touched"), done)

    @work(thread=True, exclusive=True, group="export")
    def write_export(self, lines: np.ndarray | None, out: str) -> int:
        self.export_idle.clear()
        try:
            return self._write_export(lines, out)
        finally:
            self.export_idle.set()

    def _write_export(self, lines: np.ndarray | None, out: str) -> int:
        rows = range(len(self.dataset)) if lines is None else lines
        try:
            n = write_lines(self.dataset.index, rows, out)
        except FileExistsError:
            self._safe_call(self.notify, f"{out} exists (or is the input): choose a new file name", severity="error")
            return 0
        except OSError as e:
            self._safe_call(self.notify, f"cannot write {out}: {e.strerror or e}", severity="error")
            return 0
        self._safe_call(self.notify, f"wrote {n:,} line(s) to {out}")
        return n

    def action_export(self) -> None:
        lst = self.examples
        self.export_lines(lst.rows, self.filter.slug())

    # ------------------------------------------------------------------ help and palette

    def key_sections(self) -> list[tuple[str, list[tuple[str, str]]]]:
        def rows(bindings: Iterable) -> list[tuple[str, str]]:
            out = []
            for b in bindings:
                if isinstance(b, Binding) and b.description:
                    keys = ", ".join(self.get_key_display(Binding(k.strip(), "")) for k in b.key.split(","))
                    out.append((keys, b.description))
            return out

        return [
            ("Everywhere", rows(self.BINDINGS) + [("ctrl+p", "Command palette: every action by name"),
                                                   ("tab / shift+tab", "Move focus between panes")]),
            ("Examples list", rows(ExamplesList.BINDINGS) + [("mouse", "Click a row to open it; wheel scrolls")]),
            ("Conversation", rows(ConversationView.BINDINGS) + [("up / down / pgup / pgdn", "Scroll it")]),
            ("Findings", rows(FindingsTree.BINDINGS) + [("enter", "Open a rule / jump to the finding's example")]),
            ("Duplicates", rows(ClusterList.BINDINGS) + [("enter", "Open the cluster's kept line in Examples")]),
        ]

    def action_help(self) -> None:
        if isinstance(self.screen, TextScreen):
            self.screen.dismiss(None)
            return
        self.push_screen(TextScreen("Help: keys", help_body(self.key_sections(), FILTER_HELP)))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Help", "Keys and filter syntax (F1)", self.action_help)
        yield SystemCommand("Search message text", "Regex over every message (/)", self.action_search)
        yield SystemCommand("Filter examples", "role, tools, over context, finding, language (f)", self.action_filter)
        yield SystemCommand("Clear filter", "Show every line again (Esc)", self.action_clear_filter)
        yield SystemCommand("Go to line", "Jump to a line number (:)", self.action_goto)
        yield SystemCommand("First line", "Top of the examples list (g)", lambda: self.goto(1))
        yield SystemCommand("Last line", "Bottom of the examples list (G)", lambda: self.goto(len(self.dataset)))
        yield SystemCommand("Next finding", "The next line with a finding (n)", lambda: self.action_next_finding(1))
        yield SystemCommand("Previous finding", "The previous line with a finding (N)",
                            lambda: self.action_next_finding(-1))
        yield SystemCommand("Export current view", "Write the listed lines to a new file (e)", self.action_export)
        for tab in TABS:
            yield SystemCommand(f"Show {tab.title()}", f"Switch to the {tab} tab", lambda t=tab: self.action_tab(t))
        for flag in FLAGS:
            yield SystemCommand(f"Filter: {flag}", FLAG_HELP[flag],
                                lambda fl=flag: self.set_filter(Filter(flags=(fl,))))
        for role in ROLES:
            yield SystemCommand(f"Filter: role {role}", f"Lines with a {role} message",
                                lambda r=role: self.set_filter(Filter(role=r)))
        for lang in sorted(set(self.dataset.analysis.languages.values())):
            yield SystemCommand(f"Filter: language {lang}", "Sampled examples in this language",
                                lambda lg=lang: self.set_filter(Filter(lang=lg)))
        for rule, n, sev in self.dataset.rule_counts():
            yield SystemCommand(f"Filter: finding {rule}", f"{n:,} {sev.value} finding(s)",
                                lambda r=rule: self.set_filter(Filter(rule=r)))
            yield SystemCommand(f"Export lines with finding {rule}", "Byte-identical copy to a new file",
                                lambda r=rule: self.export_lines(self.dataset.rule_lines(r), f"finding-{r}"))
            yield SystemCommand(f"Rule doc {rule}", "Why it matters, a bad and a fixed example",
                                lambda r=rule: self.show_rule_doc(r))


def run(path: str, *, preset: str | None = None, jobs: int | None = None, cache: bool = True) -> int:
    """Run the inspector in the terminal; returns the exit code (or exits the process, see below).

    q and Ctrl-C quit (exit 0). SIGTERM and a real SIGINT (kill -INT) quit the same way, restoring
    the terminal (exit 143, 130); SIGHUP (the terminal is gone) or a second signal end the
    background processes and leave at once (129). Either way no scan process outlives the app.
    """
    import contextlib
    import signal

    from dataprep import lifetime
    from dataprep.lifetime import exit_code

    app = DataprepApp(path, preset=preset, jobs=jobs, cache=cache)
    stopped: list[int] = []

    def on_signal(signum, frame) -> None:
        if not lifetime.fresh(signum):  # a copy that makes sure this thread wakes (dataprep.lifetime)
            return
        first = not stopped
        stopped.append(signum)
        if signum == signal.SIGHUP or not first:
            # No terminal to restore (or asked twice): end the processes and leave now. The line
            # index's spool file goes directly: its lock may be held by the interrupted code.
            app.stop_background()
            tmp = getattr(app.dataset.index, "_tmp", None)
            if tmp:
                with contextlib.suppress(OSError):
                    os.remove(tmp)
            finish(exit_code(signum), quiet=True)
        # In the main thread, which runs the app's event loop: ask it to exit like q does, and
        # end the scan processes meanwhile so they are gone however long the exit takes.
        app.exit(return_code=exit_code(signum))
        threading.Thread(target=app.stop_background, name="dataprep-stop", daemon=True).start()
        hung = threading.Timer(3.0, lambda: finish(exit_code(signum), quiet=True))  # an exit that hangs
        hung.daemon = True
        hung.start()

    import polars  # noqa: F401  its import installs a SIGINT handler that ours must replace (lifetime.reclaim_signals)

    old = {}
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        try:
            old[s] = signal.signal(s, on_signal)
        except (OSError, ValueError):  # not the main thread (tests)
            pass
    try:
        app.run()
    finally:
        app.stop_background()
        app.export_idle.wait(timeout=600)  # let an export being written finish; give up on a hung one
        app.dataset.close()
        for s, h in old.items():
            signal.signal(s, h)
    if stopped:
        import sys

        sys.stderr.write(f"dataprep: stopped by {signal.Signals(stopped[0]).name}\n")
        finish(exit_code(stopped[0]))
    finish(0)
    return 0


def finish(code: int, quiet: bool = False) -> None:
    """Leave at once once the app has quit and the terminal is restored: end a scan still running
    in our own worker processes and skip the interpreter's slow teardown (the scan libraries' thread
    pools take seconds), so quitting is instant even while a huge file is being scanned.
    ``quiet``: the terminal may be gone (SIGHUP): flushing to it could raise or block."""
    import contextlib
    import multiprocessing
    import multiprocessing.util
    import sys

    for child in multiprocessing.active_children():
        child.terminate()
    # unlink our queue's semaphores (os._exit skips it; the resource tracker would warn on the
    # terminal); priority >= 0 leaves out the queue's join of its feeder thread, which could block
    multiprocessing.util._run_finalizers(0)
    if not quiet:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
    os._exit(code)
