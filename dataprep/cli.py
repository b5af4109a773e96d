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
