"""The command line: each sub-command parses its arguments and calls the library, nothing more."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from dataprep.schema.findings import Severity

app = typer.Typer(
    name="dataprep",
    help="Decide whether a chat dataset is fit for fine-tuning, show why not, fix it, then train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(str, Enum):
    text = "text"
    json = "json"
    github = "github"
    junit = "junit"
    sarif = "sarif"


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _split_rules(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x for x in v.replace(" ", ",").split(",") if x)
    return out


def _emit(text: str, output: Path | None, summary: str, quiet: bool) -> None:
    """Machine output to --output FILE (human summary to stderr), else everything to stdout."""
    if output is not None:
        try:
            output.parent.mkdir(parents=True, exist_ok=True)
            output.write_text(text, encoding="utf-8")
        except OSError as e:
            _err(f"error: cannot write {output}: {e.strerror or e}")
            raise typer.Exit(2) from None
        if not quiet:
            _err(summary)
    else:
        sys.stdout.write(text)


@app.command()
def validate(
    paths: Annotated[list[str], typer.Argument(help="Files, directories, globs, or - for stdin.")],
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f")] = OutputFormat.text,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write the report here; summary to stderr.")] = None,
    select: Annotated[Optional[list[str]], typer.Option("--select", help="Only these rules (ids, prefixes, names).")] = None,
    ignore: Annotated[Optional[list[str]], typer.Option("--ignore", help="Skip these rules (ids, prefixes, names).")] = None,
    max_findings: Annotated[Optional[int], typer.Option("--max-findings", min=1, help="Print at most N findings per file (counts stay exact).")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Lowest severity that exits 1: error or warning.")] = "error",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
) -> None:
    """Structural and content rules over every line; every finding, with line numbers.

    Exit 0 clean, 1 findings at or above --fail-on, 2 unreadable input or usage error.
    """
    from dataprep.gate.formats import render
    from dataprep.validate import validate as run_validate

    if fail_on not in ("error", "warning"):
        _err("error: --fail-on takes error or warning")
        raise typer.Exit(2)
    try:
        result = run_validate(paths, select=_split_rules(select), ignore=_split_rules(ignore))
    except KeyError as e:
        _err(f"error: {e.args[0]}")
        raise typer.Exit(2) from None
    shown = result.capped(max_findings) if max_findings else result
    text = render(output_format.value, shown)
    s = result.summary()
    summary = f"{s['errors']} error(s), {s['warnings']} warning(s), {s['infos']} info(s): {s['verdict'].upper()}"
    _emit(text, output, summary, quiet)
    raise typer.Exit(result.exit_code(Severity(fail_on)))


@app.command()
def rules(
    rule: Annotated[Optional[str], typer.Argument(help="A rule id (DP211) or name (invalid-tool-call).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalog.")] = False,
) -> None:
    """List every rule, or print one rule's doc with a bad and a fixed example."""
    from dataprep.gate.formats import rule_doc
    from dataprep.schema.catalog import all_rules, get_rule

    if rule:
        try:
            r = get_rule(rule)
        except KeyError as e:
            _err(f"error: {e.args[0]}")
            raise typer.Exit(2) from None
        if as_json:
            import orjson

            typer.echo(orjson.dumps({"id": r.id, "name": r.name, "severity": r.severity.value, "summary": r.summary,
                                     "doc": r.doc, "bad": r.bad, "fixed": r.fixed}).decode())
        else:
            typer.echo(rule_doc(r.id), nl=False)
        return
    rs = all_rules()
    if as_json:
        import orjson

        typer.echo(orjson.dumps([{"id": r.id, "name": r.name, "severity": r.severity.value, "summary": r.summary}
                                 for r in rs.values()], option=orjson.OPT_INDENT_2).decode())
        return
    for r in rs.values():
        typer.echo(f"{r.id}  {r.name:<26} {r.severity.value:<8} {r.summary}")


@app.command()
def convert(
    input: Annotated[str, typer.Argument(help="A JSON array or JSONL file (.gz/.zst read too), or - for stdin.")],
    output: Annotated[str, typer.Argument(help="The chat JSONL to write, or - for stdout (then give --rejects).")],
    source: Annotated[str, typer.Option("--from", help="auto, alpaca, sharegpt, sharegpt-dpo, prompt-completion, "
                                        "preference (prompt/chosen/rejected), openai, openai-dpo.")] = "auto",
    target: Annotated[Optional[str], typer.Option("--to", help="openai or openai-dpo (default: from the data).")] = None,
    rejects: Annotated[Optional[str], typer.Option("--rejects", help="Where records that do not convert go "
                                                   "(default: OUTPUT with .rejects.jsonl).")] = None,
    mapping: Annotated[Optional[list[str]], typer.Option("--map", help="FIELD=COLUMN for custom names, as in "
                                                         "LLaMA-Factory's dataset_info (prompt, query, response, "
                                                         "system, history, messages, tools, chosen, rejected, "
                                                         "role_tag, content_tag, user_tag, assistant_tag, "
                                                         "system_tag, function_tag, observation_tag).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Alpaca / ShareGPT / prompt-completion / preference / OpenAI records → OpenAI chat (or preference) JSONL.

    Every record becomes one output line or one line of the rejects file with its source line and
    reason; the output passes the validator's per-line rules. Exit 0 all converted, 1 some rejected,
    2 usage error or unreadable input.
    """
    from dataprep.io.convert import MappingError, summary_renderables
    from dataprep.io.convert import convert as run_convert
    from dataprep.io.reader import InputError

    try:
        res = run_convert(input, output, source=source, target=target, rejects_path=rejects, mapping=mapping)
    except (MappingError, ValueError) as e:
        _err(f"error: {e}")
        raise typer.Exit(2) from None
    except InputError as e:
        _err(f"error: cannot read {e.path}: {e.reason}")
        raise typer.Exit(2) from None
    except OSError as e:
        _err(f"error: cannot write {e.filename or output}: {e.strerror or e}")
        raise typer.Exit(2) from None
    if as_json:
        import orjson

        text = orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2).decode()
        if output == "-":
            _err(text)
        else:
            typer.echo(text)
    if not quiet:
        from rich.console import Console

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        for r in summary_renderables(res):
            console.print(r)
    if res.rejected:
        if not quiet:
            _err(f"{res.rejected} of {res.records} record(s) rejected: see {res.rejects_path}")
        raise typer.Exit(1)


@app.command()
def fix(
    input: Annotated[str, typer.Argument(help="A JSONL file (.gz/.zst read too), or - for stdin.")],
    out: Annotated[Optional[str], typer.Option("--out", "-o", help="Fixed JSONL (default: IN with .fixed.jsonl).")] = None,
    rejects: Annotated[Optional[str], typer.Option("--rejects", help="Lines that cannot be fixed safely, with "
                                                   "their findings (default: IN with .rejects.jsonl).")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print what would change; write nothing.")] = False,
    drop_duplicates: Annotated[bool, typer.Option("--drop-duplicates", help="Drop exact duplicate lines "
                                                  "(first kept).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Safe repairs: BOM, CRLF, blank lines, whitespace, misplaced weights, object arguments, secrets.

    Every input line lands in the fixed file or the rejects file (original bytes plus every finding),
    or is counted as a dropped blank / duplicate. Exit 0 nothing rejected, 1 some lines rejected,
    2 usage error or unreadable input (a whole JSON array: run convert first).
    """
    from dataprep.io.fix import default_paths, summary_renderables
    from dataprep.io.fix import fix as run_fix
    from dataprep.io.reader import InputError

    if not dry_run and (out is None or rejects is None):
        if input == "-":
            _err("error: reading stdin needs --out FILE and --rejects FILE")
            raise typer.Exit(2)
        d_out, d_rej = default_paths(input)
        out = out or d_out
        rejects = rejects or d_rej
    try:
        res = run_fix(input, out, rejects, dry_run=dry_run, drop_duplicates=drop_duplicates)
    except ValueError as e:
        _err(f"error: {e}")
        raise typer.Exit(2) from None
    except InputError as e:
        _err(f"error: {e.path} {e.reason}" if e.reason.startswith(("is one JSON array", "looks like"))
             else f"error: cannot read {e.path}: {e.reason}")
        raise typer.Exit(2) from None
    except OSError as e:
        _err(f"error: cannot write {e.filename or out}: {e.strerror or e}")
        raise typer.Exit(2) from None
    if as_json:
        import orjson

        typer.echo(orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2).decode())
    # A dry run's plan is its output (stdout, unless --json took stdout); a real run's summary goes to stderr.
    to_stdout = dry_run and not as_json
    if to_stdout or not quiet:
        from rich.console import Console

        console = Console(stderr=not to_stdout, highlight=False, soft_wrap=True)
        for r in summary_renderables(res):
            console.print(r)
    if res.rejected:
        if not quiet:
            _err(f"{res.rejected} of {res.lines} line(s) {'would be ' if dry_run else ''}rejected"
                 + ("" if dry_run else f": see {rejects}"))
        raise typer.Exit(1)


@app.command()
def tokens(
    paths: Annotated[list[str], typer.Argument(help="Files, directories, globs, or - for stdin.")],
    model: Annotated[Optional[str], typer.Option("--model", "-m", help="Model id from rules/models.toml.")] = None,
    epochs: Annotated[Optional[int], typer.Option("--epochs", min=1, help="Override the default-epochs heuristic.")] = None,
    budget: Annotated[Optional[int], typer.Option("--budget", min=1, help="Max billed tokens x epochs (DP401).")] = None,
    tokenizer: Annotated[Optional[str], typer.Option("--tokenizer", help="tiktoken:NAME or a tokenizer.json for open models.")] = None,
    gpu_price: Annotated[Optional[float], typer.Option("--gpu-price", help="USD per GPU-hour (open models).")] = None,
    method: Annotated[Optional[str], typer.Option("--method", help="full, lora or qlora (open models' GPU-hours).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="DESIGN.md's tokens JSON, one object per file.")] = False,
    jobs: Annotated[Optional[int], typer.Option("--jobs", "-j", min=1)] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q")] = False,
) -> None:
    """Token counts, context overflow, epochs and estimated cost per file and in total."""
    import orjson
    from rich.console import Console
    from rich.table import Table

    from dataprep.io.reader import expand_inputs
    from dataprep.scan import scan
    from dataprep.tokens.analyze import analyze
    from dataprep.tokens.estimate import render_histogram
    from dataprep.tokens.models import UnknownModelError

    files, errors = expand_inputs(paths)
    for e in errors:
        _err(f"error: {e}")
    reports = []
    try:
        for f in files:
            prof = scan(f, jobs=jobs, cache=not no_cache, progress=not quiet, model=model, tokenizer=tokenizer)
            if not prof.readable:
                _err(f"error: {prof.findings[0].message}")
                errors.append(f)
                continue
            reports.append(analyze(prof, model=model, epochs=epochs, budget=budget, gpu_price=gpu_price,
                                   method=method, tokenizer=tokenizer))
    except (UnknownModelError, ValueError, KeyError) as e:
        _err(f"error: {e.args[0] if e.args else e}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(orjson.dumps({"version": 1, "files": [r.to_dict() for r in reports]},
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        con = Console()
        t = Table(title="Tokens and estimated cost (an estimate: prices from rules/models.toml)")
        for col in ("file", "examples", "total tokens", "trainable", "max/example", "over limit", "epochs",
                    "billed x epochs", "est. USD"):
            t.add_column(col, justify="left" if col == "file" else "right")
        tot = [0, 0, 0, 0, 0.0]
        for r in reports:
            e = r.estimate
            cost = "n/a" if e.estimated_cost_usd is None else f"{e.estimated_cost_usd:,.2f}"
            t.add_row(r.path, f"{e.examples:,}", f"{e.total_tokens:,}", f"{e.trainable_tokens or 0:,}",
                      f"{e.max_example_tokens:,}", f"{len(e.over_limit):,}", str(e.epochs), f"{e.charged_tokens:,}", cost)
            tot[0] += e.examples
            tot[1] += e.total_tokens
            tot[2] += e.charged_tokens
            tot[3] += len(e.over_limit)
            tot[4] += e.estimated_cost_usd or 0.0
        if len(reports) > 1:
            t.add_row("total", f"{tot[0]:,}", f"{tot[1]:,}", "", "", f"{tot[3]:,}", "", f"{tot[2]:,}", f"{tot[4]:,.2f}")
        con.print(t)
        for r in reports:
            e = r.estimate
            con.print(f"[bold]{r.path}[/bold] on {e.model} (context {e.context_limit:,} tokens per example)")
            con.print(render_histogram(r.tokens, e.context_limit), markup=False, highlight=False)
            if e.gpu_hours is not None:
                con.print(f"GPU-hours (estimate, {e.gpu_method}): {e.gpu_hours:,.2f}")
            for w in e.warnings:
                con.print(f"[yellow]note:[/yellow] {w}")
            for f in r.findings[:10]:
                con.print(f"  {f.rule} line {f.line}: {f.message}")
            if len(r.findings) > 10:
                con.print(f"  ... and {len(r.findings) - 10} more")
    if errors:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(r.findings for r in reports) else 0)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        _err("interrupted")
        sys.exit(130)
    except BrokenPipeError:  # `dataprep validate big.jsonl | head`
        sys.stderr.close()
        sys.exit(0)


if __name__ == "__main__":
    main()
