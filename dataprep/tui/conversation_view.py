"""One example, readable: role-coloured messages, system prompt, tools and calls as JSON,
weights, and the example's findings shown at the message their JSON pointer names.

Secrets and personal data are masked (``dataprep.mask.redact``) unless the user asks for the
raw text of the example on screen (R); the next example is masked again."""

from __future__ import annotations

import re

import orjson
from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Static

from dataprep.mask import redact
from dataprep.schema.findings import Finding, Severity
from dataprep.tui.model import Dataset, human_bytes

ROLE_COLOURS = {"system": "magenta", "developer": "magenta", "user": "green", "assistant": "cyan",
                "tool": "yellow", "function": "yellow"}
SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "blue"}
TEXT_LIMIT = 20_000  # characters of one message shown; the rest is summarised
JSON_LIMIT = 8_000
RAW_LIMIT = 4_000
OPEN_LIMIT = 256 << 20  # lines larger than this are shown raw, never parsed
MESSAGE_LIMIT = 200  # messages drawn per section; the rest are counted
_CONTROL = {c: 0x2400 + c for c in range(32) if c not in (9, 10)} | {127: 0x2421}
_QUOTED = re.compile(r"'([^']{3,80})'")


def visible(text: str) -> str:
    """Control characters as their visible symbols (so DP308 damage can be seen)."""
    return text.translate(_CONTROL)


def clip(text: str, limit: int) -> tuple[str, str]:
    if len(text) <= limit:
        return text, ""
    return text[:limit], f"… {len(text) - limit:,} more characters not shown"


def pointer_within(pointer: str | None, prefix: str) -> bool:
    return bool(pointer) and (pointer == prefix or pointer.startswith(prefix + "/"))


def finding_text(f: Finding, with_pointer: bool = True, red=redact) -> Text:
    t = Text()
    t.append("▲ ", style=SEVERITY_COLOURS[f.severity])
    t.append(f"{f.rule} {f.name}", style="bold " + SEVERITY_COLOURS[f.severity])
    t.append(f" ({f.severity.value})")
    if with_pointer and f.pointer:
        t.append(f" at {f.pointer}", style="dim")
    if f.column:
        t.append(f" col {f.column}", style="dim")
    t.append(f": {red(f.message)}")
    return t


def _raw(text: str) -> str:
    return text


def json_block(value, limit: int = JSON_LIMIT, red=redact) -> RenderableType:
    try:
        s = orjson.dumps(value, option=orjson.OPT_INDENT_2).decode()
    except TypeError:
        s = repr(value)
    s, more = clip(red(s), limit)
    syn = Syntax(s, "json", theme="ansi_dark", word_wrap=True, background_color="default")
    return Group(syn, Text(more, style="dim")) if more else syn


def _highlighted(text: str, regex: re.Pattern | None, snippets: list[str], red=redact) -> Text:
    shown, more = clip(red(text), TEXT_LIMIT)
    t = Text(visible(shown))
    for s in snippets:
        start = 0
        while (k := shown.find(s, start)) >= 0:
            t.stylize("bold black on yellow", k, k + len(s))
            start = k + len(s)
    if regex is not None:
        for m in regex.finditer(shown):
            if m.end() > m.start():
                t.stylize("bold black on bright_green", m.start(), m.end())
    if more:
        t.append("\n" + more, style="dim")
    return t


def _content_parts(content, regex, snippets, red=redact) -> list[RenderableType]:
    if content is None:
        return []
    if isinstance(content, str):
        return [_highlighted(content, regex, snippets, red)] if content else [Text("(empty)", style="dim italic")]
    if isinstance(content, list):
        out: list[RenderableType] = []
        for p in content:
            if isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str):
                out.append(_highlighted(p["text"], regex, snippets, red))
            elif isinstance(p, dict) and p.get("type") == "image_url":
                url = p.get("image_url", {}).get("url", "") if isinstance(p.get("image_url"), dict) else ""
                url = red(url)
                url = url if len(url) <= 80 else url[:60] + f"… ({len(url):,} characters)"
                out.append(Text(f"[image] {url}", style="italic"))
            else:
                out.append(json_block(p, red=red))
        return out
    return [json_block(content, red=red)]


def _tool_call(call, red=redact) -> RenderableType:
    if not isinstance(call, dict):
        return json_block(call, red=red)
    fn = call.get("function") if isinstance(call.get("function"), dict) else {}
    args = fn.get("arguments")
    head = Text()
    head.append("call ", style="dim")
    head.append(red(str(fn.get("name", "?"))), style="bold yellow")
    head.append(red(f"  id={call.get('id', '?')}"), style="dim")
    if isinstance(args, str):
        try:
            args = orjson.loads(args)
        except orjson.JSONDecodeError:
            return Group(head, Text("arguments (not JSON): " + clip(red(args), 2000)[0], style="red"))
    return Group(head, json_block(args, red=red))


def _message_panel(k: int, m, prefix: str, findings: list[Finding], regex, snippets,
                   red=redact) -> RenderableType:
    mine = [f for f in findings if pointer_within(f.pointer, prefix)]
    if not isinstance(m, dict):
        body: list[RenderableType] = [json_block(m, red=red)]
        role = "?"
    else:
        role = m.get("role") if isinstance(m.get("role"), str) else "?"
        body = []
        content = m.get("content")
        if role in ("tool", "function") and isinstance(content, str) and content[:1] in "{[" and regex is None:
            try:  # a tool result that is JSON reads better pretty-printed
                content_parts = [json_block(orjson.loads(content), red=red)]
            except orjson.JSONDecodeError:
                content_parts = _content_parts(content, regex, snippets, red)
        else:
            content_parts = _content_parts(content, regex, snippets, red)
        body += content_parts
        calls = m.get("tool_calls")
        for call in calls if isinstance(calls, list) else []:
            body.append(_tool_call(call, red))
        if isinstance(m.get("function_call"), dict):
            body.append(_tool_call({"function": m["function_call"]}, red))
        if not body:
            body.append(Text("(no content)", style="dim italic"))
    title = f"#{k} {role}"
    if isinstance(m, dict):
        if m.get("name"):
            title += red(f" ({m['name']})")
        if m.get("tool_call_id"):
            title += red(f" ← {m['tool_call_id']}")
        if "weight" in m:
            w = m["weight"]
            title += " · weight 0: not trained" if w == 0 else f" · weight {w}"
    colour = ROLE_COLOURS.get(role, "white")
    if mine:
        worst = max(mine, key=lambda f: f.severity.rank)
        colour = SEVERITY_COLOURS[worst.severity]
        body += [finding_text(f, red=red) for f in mine]
    return Panel(Group(*body), title=title, title_align="left", border_style=colour, subtitle=prefix,
                 subtitle_align="right", padding=(0, 1))


def render_example(ds: Dataset, i: int, regex: re.Pattern | None = None, reveal: bool = False) -> RenderableType:
    """The whole conversation view of 0-based line ``i``; secrets and personal data masked
    unless ``reveal``."""
    red = _raw if reveal else redact
    line = i + 1
    findings = ds.findings_of(line)
    # content rules quote what they matched ('As an AI language model'): mark it in the text
    snippets = [m.group(1) for f in findings if f.rule.startswith("DP3") for m in _QUOTED.finditer(f.message)]
    size = ds.index.length(i)
    head = Text()
    head.append(f"line {line}", style="bold")
    head.append(f" · {human_bytes(size)}")
    r = ds.row(i)
    if r.tokens is not None:
        head.append(f" · {r.tokens:,} tokens")
        if ds.profile is not None and i < ds.n_rows:
            tr = ds.profile.rows["tokens_trainable"][i]
            head.append(f" ({tr:,} trainable)")
    if r.over:
        head.append(" · over the training context", style="red")
    if r.dup:
        head.append(f" · {r.dup} duplicate", style="bright_cyan")
    if r.lang:
        head.append(f" · language {r.lang} (sampled)")
    parts: list[RenderableType] = [head]
    if ds.profile is None:
        parts.append(Text("scan running: findings appear when it finishes", style="dim italic"))
    if size > OPEN_LIMIT:
        rec, err = None, f"{human_bytes(size)} line: too large to parse here"
    else:
        rec, err = ds.parse(i)
    placed: set[int] = set()
    blocks: list[RenderableType] = []
    if rec is not None and isinstance(rec, dict):
        prefixes = []
        tools_panel = None
        if "tools" in rec:
            tools = rec.get("tools")
            mine = [f for f in findings if pointer_within(f.pointer, "/tools")]
            n = len(tools) if isinstance(tools, list) else 0
            body = [json_block(tools, red=red)] + [finding_text(f, red=red) for f in mine]
            colour = SEVERITY_COLOURS[max(mine, key=lambda f: f.severity.rank).severity] if mine else "bright_black"
            # after the messages: the conversation is what one reads first; a summary line up top
            tools_panel = Panel(Group(*body), title=f"tools ({n} defined)", title_align="left",
                                border_style=colour, subtitle="/tools", subtitle_align="right", padding=(0, 1))
            names = [t.get("function", {}).get("name", "?") for t in tools if isinstance(t, dict)
                     and isinstance(t.get("function"), dict)] if isinstance(tools, list) else []
            head.append(red(f"\ntools: {', '.join(map(str, names)) or '-'} (definitions below)"), style="magenta")
            prefixes.append("/tools")
        sections = []
        if isinstance(rec.get("messages"), list):
            sections.append(("/messages", rec["messages"], None))
        inp = rec.get("input")
        if isinstance(inp, dict) and isinstance(inp.get("messages"), list):
            sections.append(("/input/messages", inp["messages"], "input"))
        for key in ("preferred_output", "non_preferred_output"):
            if isinstance(rec.get(key), list):
                sections.append((f"/{key}", rec[key], key.replace("_", " ")))
        for base, msgs, label in sections:
            if label:
                blocks.append(Text(f"── {label} ──", style="bold"))
            for k, m in enumerate(msgs[:MESSAGE_LIMIT]):
                prefix = f"{base}/{k}"
                blocks.append(_message_panel(k, m, prefix, findings, regex, snippets, red))
                prefixes.append(prefix)
            if len(msgs) > MESSAGE_LIMIT:
                blocks.append(Text(f"… {len(msgs) - MESSAGE_LIMIT:,} more messages not shown", style="dim"))
        for idx, f in enumerate(findings):
            if any(pointer_within(f.pointer, p) for p in prefixes):
                placed.add(idx)
        if tools_panel is not None:
            blocks.append(tools_panel)
        other = {k: v for k, v in rec.items() if k not in ("messages", "tools", "input", "preferred_output",
                                                          "non_preferred_output")}
        if other:
            blocks.append(Panel(json_block(other, red=red), title="other keys", title_align="left",
                                border_style="bright_black", padding=(0, 1)))
    else:
        raw = ds.index.line(i, RAW_LIMIT)
        raw_text = raw.decode("utf-8", errors="replace")
        text = red(raw_text)
        t = Text(visible(text))
        if size > RAW_LIMIT:
            t.append(f"\n… {human_bytes(size - RAW_LIMIT)} more not shown", style="dim")
        col = next((f.column for f in findings if f.column), None)
        if col and col <= len(text) and text[:col] == raw_text[:col]:  # masking moved nothing before it
            t.stylize("bold white on red", col - 1, col)
        what = err or ("not an object" if rec is not None else "")
        blocks.append(Panel(t, title=f"raw line ({what})" if what else "raw line", title_align="left",
                            border_style="red", padding=(0, 1)))
    rest = [f for idx, f in enumerate(findings) if idx not in placed]
    if rest:
        parts += [finding_text(f, red=red) for f in rest]
    elif not findings and ds.profile is not None:
        parts.append(Text("no findings on this line", style="green"))
    if reveal:
        parts.append(Text("raw text shown, secrets and personal data included (R masks them again)",
                          style="bold red"))
    return Group(*parts, *blocks)


class ConversationView(VerticalScroll, can_focus=True):
    """The selected example, re-rendered whenever the selection or the data changes."""

    DEFAULT_CSS = "ConversationView { height: 1fr; } ConversationView > Static { width: 1fr; }"
    BINDINGS = [Binding("R", "toggle_reveal", "Raw text (secrets too)"),
                Binding("escape,left", "back", "Back to the list")]

    class Back(Message):
        """Escape in the conversation: the focus goes back to the examples list."""

    def __init__(self, dataset: Dataset, **kw):
        super().__init__(**kw)
        self.dataset = dataset
        self.line: int | None = None
        self.regex: re.Pattern | None = None
        self.reveal = False  # the raw text of the example on screen, on the user's request only
        self._shown: tuple | None = None

    def compose(self):
        yield Static(Text("no line selected", style="dim"), id="conversation-body")

    @property
    def body(self) -> Static:
        return self.query_one("#conversation-body", Static)

    def show(self, line: int | None, force: bool = False) -> None:
        if line != self.line:
            self.reveal = False  # a request reveals one example, never the next
        key = (line, self.dataset.version, self.regex.pattern if self.regex else None, self.reveal)
        if key == self._shown and not force:
            return
        self._shown = key
        self.line = line
        if line is None or line >= len(self.dataset):
            self.body.update(Text("no line selected", style="dim"))
        else:
            self.body.update(render_example(self.dataset, line, self.regex, reveal=self.reveal))
        self.scroll_home(animate=False)

    def action_back(self) -> None:
        self.post_message(self.Back())

    def action_toggle_reveal(self) -> None:
        self.reveal = not self.reveal
        self.show(self.line, force=True)

    def refresh_data(self) -> None:
        self.show(self.line)
