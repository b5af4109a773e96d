"""The command line: each sub-command parses its arguments and calls the library, nothing more."""

from __future__ import annotations

import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated, NoReturn

import typer
import typer.core

from dataprep.io.reader import DIRECTORY_RULE
from dataprep.meta import VERSION, stamped
from dataprep.output import format_enum
from dataprep.schema.findings import Severity


def _placeholder(typer_display, repeat_mark: str):
    def display(self, ctx) -> str | None:
        """Help shows what a value looks like ("<int>", "<path>"), and nothing after a flag: typer
        prints "<bool>" after every --flag (as if it wanted a value) and "<list[str]>" for a
        repeatable value, which is Python, not a command line."""
        if getattr(self, "is_flag", False):
            return None
        label = typer_display(self, ctx)
        if label and label.startswith("<list[") and label.endswith("]>"):
            label = f"<{label[6:-2]}>{repeat_mark}"
        return label
    return display


typer.core.TyperOption.display_type_rich = _placeholder(typer.core.TyperOption.display_type_rich, " (repeatable)")
typer.core.TyperArgument.display_type_rich = _placeholder(typer.core.TyperArgument.display_type_rich, "")

app = typer.Typer(
    name="dataprep",
    help="Decide whether a chat dataset is fit for fine-tuning, show why not, fix it, then train.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"dataprep {VERSION}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="Print the installed version and exit.")] = False,
) -> None:
    """Decide whether a chat dataset is fit for fine-tuning, show why not, fix it, then train."""


# --output-format of every command: the formats registered in dataprep.output (one enum, one list)
OutputFormat = format_enum()


def _err(msg: str) -> None:
    typer.echo(msg, err=True)


def _target_spec(cli: str | None) -> str | None:
    """The target a command judges by: --target, else the project config (dataprep.toml or
    [tool.dataprep] in pyproject.toml here); None leaves it to the preset. Exit 2 on a bad one."""
    from dataprep.targets import TargetError, load_target, project_target

    try:
        spec = cli or project_target()
        if spec:
            load_target(spec)
        return spec
    except TargetError as e:
        _err(f"error: {e}")
        raise typer.Exit(2) from None


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
    paths: Annotated[list[str], typer.Argument(help=f"Files, directories, globs, or - for stdin. {DIRECTORY_RULE}")],
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", help="How findings are printed: text for people; json, github (annotations), junit, sarif (code scanning) or markdown for tools.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here; summary to stderr.")] = None,
    select: Annotated[list[str] | None, typer.Option("--select", help="Only these rules (ids, prefixes, names).")] = None,
    ignore: Annotated[list[str] | None, typer.Option("--ignore", help="Skip these rules (ids, prefixes, names).")] = None,
    max_findings: Annotated[int | None, typer.Option("--max-findings", min=1, help="Print at most N findings per file (counts stay exact).")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Lowest severity that exits 1: error or warning.")] = "error",
    target: Annotated[str | None, typer.Option("--target", "-t", help="Judge by the rules of where the data "
                                                "will train: openai, azure, together, fireworks, vertex, "
                                                "bedrock-nova, trl, axolotl, llamafactory, mistral, or a target "
                                                "TOML (default: dataprep.toml / [tool.dataprep] target, else the "
                                                "preset's).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Scan again instead of reusing the saved profile of an unchanged file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
) -> None:
    """Structural and content rules over every line; every finding, with line numbers.

    Exit 0 clean, 1 findings at or above --fail-on, 2 unreadable input or usage error.
    """
    from dataprep.output import render
    from dataprep.validate import validate as run_validate

    if fail_on not in ("error", "warning"):
        _err("error: --fail-on takes error or warning")
        raise typer.Exit(2)
    try:
        result = run_validate(paths, jobs=jobs, cache=not no_cache, select=_split_rules(select),
                              ignore=_split_rules(ignore), target=_target_spec(target))
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
    rule: Annotated[str | None, typer.Argument(help="A rule id (DP211) or name (invalid-tool-call).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable catalog.")] = False,
) -> None:
    """List every rule, or print one rule's doc with a bad and a fixed example."""
    from dataprep.output.ruledoc import rule_doc
    from dataprep.schema.catalog import all_rules, get_rule

    if rule:
        try:
            r = get_rule(rule)
        except KeyError as e:
            _err(f"error: {e.args[0]}")
            raise typer.Exit(2) from None
        if as_json:
            import orjson

            typer.echo(orjson.dumps(stamped({"id": r.id, "name": r.name, "severity": r.severity.value, "summary": r.summary,
                                     "doc": r.doc, "bad": r.bad, "fixed": r.fixed})).decode())
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
    paths: Annotated[list[str], typer.Argument(metavar="[IN] OUT", help="IN: JSONL, a JSON array, parquet or CSV "
                                               "(.gz/.zst read too), or - for stdin; with --dataset, IN defaults to "
                                               "the entry's file. OUT: the JSONL to write, or - for stdout (then "
                                               "give --rejects).")],
    source: Annotated[str, typer.Option("--from", help="auto, alpaca, sharegpt, sharegpt-dpo, prompt-completion, "
                                        "preference (prompt/chosen/rejected), openai, openai-dpo, llamafactory, "
                                        "llamafactory-dpo, oasst, vertex (Gemini contents/parts or preference "
                                        "completions), bedrock-nova (bedrock-conversation-2024, DPO "
                                        "candidates).")] = "auto",
    target: Annotated[str | None, typer.Option("--to", help="openai or openai-dpo (default: from the data); "
                                               "vertex (Gemini tuning, or preference tuning for preference "
                                               "data), bedrock-nova (Nova SFT or DPO), trl (OpenAI chat with "
                                               "tool-call arguments as objects; prompt/chosen/rejected for "
                                               "preference data). A record the target cannot hold whole is "
                                               "rejected with the reason.")] = None,
    rejects: Annotated[str | None, typer.Option("--rejects", help="Where records that do not convert go "
                                                   "(default: OUTPUT with .rejects.jsonl).")] = None,
    mapping: Annotated[list[str] | None, typer.Option("--map", help="FIELD=COLUMN for custom names, as in "
                                                         "LLaMA-Factory's dataset_info (prompt, query, response, "
                                                         "system, history, messages, tools, chosen, rejected, "
                                                         "kto_tag, role_tag, content_tag, user_tag, assistant_tag, "
                                                         "system_tag, function_tag, observation_tag).")] = None,
    dataset_info: Annotated[str | None, typer.Option("--dataset-info", help="A LLaMA-Factory dataset_info.json: "
                                                     "take the file, format and mapping from its --dataset entry "
                                                     "(--from and --map still override).")] = None,
    dataset: Annotated[str | None, typer.Option("--dataset", help="The entry of --dataset-info to use.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON on stdout.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary on stderr.")] = False,
) -> None:
    """Alpaca / Dolly / question-answer / ShareGPT / OASST / LLaMA-Factory / preference / OpenAI /
    Vertex / Bedrock Nova records, from JSONL, JSON, parquet or CSV → OpenAI chat (or preference)
    JSONL, or with --to the Vertex, Bedrock Nova or TRL shape.

    Every record becomes one output line or one line of the rejects file with its source line (or
    row) and reason; the output passes the validator's per-line rules. Exit 0 all converted, 1
    some rejected, 2 usage error or unreadable input.
    """
    from dataprep.io.convert import DatasetInfoError, MappingError, dataset_spec, parse_mapping, summary_renderables
    from dataprep.io.convert import convert as run_convert
    from dataprep.io.reader import InputError

    map_arg: list[str] | dict | None = mapping
    if (dataset_info is None) != (dataset is None):
        _err("error: --dataset-info FILE and --dataset NAME go together")
        raise typer.Exit(2)
    if dataset_info is not None:
        try:
            spec = dataset_spec(dataset_info, dataset)
            merged = dict(spec.mapping)
            merged.update(parse_mapping(mapping))  # --map wins over the entry
        except (DatasetInfoError, MappingError) as e:
            _err(f"error: {e}")
            raise typer.Exit(2) from None
        map_arg = merged
        if source == "auto":
            source = spec.source
        if len(paths) == 1:
            if spec.file is None:
                _err(f"error: dataset {dataset} is {spec.where}, not a local file; download it and pass it:\n"
                     f"  dataprep convert FILE {paths[0]} --dataset-info {dataset_info} --dataset {dataset}")
                raise typer.Exit(2)
            if not Path(spec.file).exists():
                _err(f"error: dataset {dataset}: its file {spec.file} does not exist; pass the file:\n"
                     f"  dataprep convert FILE {paths[0]} --dataset-info {dataset_info} --dataset {dataset}")
                raise typer.Exit(2)
            paths = [spec.file, paths[0]]
    if len(paths) != 2:
        _err("error: give IN and OUT (IN may be left out only with --dataset-info and --dataset)")
        raise typer.Exit(2)
    input, output = paths
    try:
        res = run_convert(input, output, source=source, target=target, rejects_path=rejects, mapping=map_arg)
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

        text = orjson.dumps(stamped(res.to_dict()), option=orjson.OPT_INDENT_2).decode()
        if output == "-":
            _err(text)
        else:
            typer.echo(text)
    if not quiet:
        from rich.console import Console

        console = Console(stderr=True, highlight=False, soft_wrap=True)
        for r in summary_renderables(res):
            console.print(r)
    if res.records == 0:  # no output file was written: say so, not "0 converted" and exit 0
        _err(f"error: {input}: {'holds only blank lines' if res.blank_lines else 'the file is empty'}: nothing "
             "to convert; give a file of records (JSONL, a JSON array, parquet or CSV)")
        raise typer.Exit(2)
    if res.rejected:
        if not quiet or not res.written:  # nothing converted: say so even under --quiet
            _err(f"{res.rejected} of {res.records} record(s) rejected: see {res.rejects_path}"
                 + ("" if res.written else f"; nothing converted, so {output} was not written"))
        if "invalid-utf8" in res.reject_kinds:  # convert never guesses an encoding: say the one step
            _err("some records are not UTF-8: re-encode the file, e.g. `iconv -f cp1252 -t utf-8 IN > OUT`, "
                 "then convert OUT")
        raise typer.Exit(1)


@app.command()
def fix(
    input: Annotated[str, typer.Argument(help="A JSONL file (.gz/.zst read too), or - for stdin.")],
    out: Annotated[str | None, typer.Option("--out", "-o", help="Fixed JSONL (default: IN with .fixed.jsonl).")] = None,
    rejects: Annotated[str | None, typer.Option("--rejects", help="Lines that cannot be fixed safely, with "
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

        typer.echo(orjson.dumps(stamped(res.to_dict()), option=orjson.OPT_INDENT_2).decode())
    # A dry run's plan is its output (stdout, unless --json took stdout); a real run's summary goes to stderr.
    to_stdout = dry_run and not as_json
    if to_stdout or not quiet:
        from rich.console import Console

        console = Console(stderr=not to_stdout, highlight=False, soft_wrap=True)
        for r in summary_renderables(res):
            console.print(r)
    if res.lines == res.dropped_blank:  # nothing but blank lines: no fixed file was written
        _err(f"error: {input}: {'holds only blank lines' if res.lines else 'the file is empty'}: nothing to "
             "fix; give a JSONL file with one chat example per line")
        raise typer.Exit(2)
    if res.rejected:
        if not quiet:
            _err(f"{res.rejected} of {res.lines} line(s) {'would be ' if dry_run else ''}rejected"
                 + ("" if dry_run else f": see {rejects}")
                 + ("" if dry_run or res.written else f"; nothing fixed, so {out} was not written"))
        if "DP101" in res.reject_rules:  # fix never guesses an encoding: say the one step that helps
            _err("some lines are not UTF-8: re-encode the file, e.g. `iconv -f cp1252 -t utf-8 IN > OUT`, "
                 "then fix OUT")
        raise typer.Exit(1)


@app.command()
def tokens(
    paths: Annotated[list[str], typer.Argument(help=f"Files, directories, globs, or - for stdin. {DIRECTORY_RULE}")],
    model: Annotated[str | None, typer.Option("--model", "-m", help="Model id from rules/models.toml.")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Override the default-epochs heuristic.")] = None,
    budget: Annotated[int | None, typer.Option("--budget", min=1, help="Max billed tokens x epochs (DP401).")] = None,
    tokenizer: Annotated[str | None, typer.Option("--tokenizer", help="A model directory (tokenizer.json + "
                                                   "tokenizer_config.json: exact counts through its chat template), "
                                                   "tiktoken:NAME, or qwen2 / qwen3_6 / mistral-*.")] = None,
    max_length: Annotated[int | None, typer.Option("--max-length", min=1, help="The trainer's maximum length: list "
                                                   "the examples it would truncate (exact counts: TRL's 1024 "
                                                   "unless given).")] = None,
    gpu_price: Annotated[float | None, typer.Option("--gpu-price", help="USD per GPU-hour (open models).")] = None,
    method: Annotated[str | None, typer.Option("--method", help="full, lora or qlora (open models' GPU-hours).")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Judge by the rules of where the data "
                                                "will train: openai, azure, together, fireworks, vertex, "
                                                "bedrock-nova, trl, axolotl, llamafactory, mistral, or a target "
                                                "TOML: a trainer's default --max-length (trl: 1024).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout (one object per file).")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Scan again instead of reusing the saved profile of an unchanged file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Token counts, context overflow, epochs and estimated cost per file and in total."""
    import orjson
    from rich.console import Console

    from dataprep.io.reader import expand_inputs
    from dataprep.scan import scan
    from dataprep.tables import fit_table
    from dataprep.tokens.analyze import analyze
    from dataprep.tokens.estimate import render_histogram
    from dataprep.tokens.exact import ExactCountError, exact_counter
    from dataprep.tokens.models import UnknownModelError, get_model
    from dataprep.tokens.vocab import VocabularyError
    from dataprep.usable import unusable_reason

    spec = _target_spec(target)
    if spec and max_length is None:
        from dataprep.targets import load_target

        max_length = load_target(spec).max_length  # the trainer's own cut (TRL: 1024), silently applied
    if spec and model is None:
        from dataprep.targets import load_target

        model = next(iter(load_target(spec).models), None)  # a model the target trains (None: the default)
    files, errors = expand_inputs(paths)
    for e in errors:
        _err(f"error: {e}")
    reports = []
    try:
        get_model(model)  # a misspelt --model: "did you mean ...?" before any scan
        counter = exact_counter(model, tokenizer, max_length=max_length)
        for f in files:
            prof = scan(f, jobs=jobs, cache=not no_cache, progress=not quiet, model=model, tokenizer=tokenizer,
                        sketch=False, text=False)  # tokens read neither: skip their cost
            why = unusable_reason(prof)
            if why is not None:  # no example: say what to do, never "0 examples, $0.00" and exit 0
                _err(f"error: {why}" if not prof.readable else f"error: {f}: {why}")
                errors.append(f)
                continue
            reports.append(analyze(prof, model=model, epochs=epochs, budget=budget, gpu_price=gpu_price,
                                   method=method, tokenizer=tokenizer, max_length=max_length, exact=counter))
    except (UnknownModelError, VocabularyError, ExactCountError, ValueError, KeyError) as e:
        _err(f"error: {e.args[0] if e.args else e}")
        raise typer.Exit(2) from None
    if as_json:
        sys.stdout.write(orjson.dumps(stamped({"version": 1, "files": [r.to_dict() for r in reports]}),
                                      option=orjson.OPT_INDENT_2).decode() + "\n")
    elif not reports:
        pass  # every file was refused above, each with what to do: an empty table says nothing
    else:
        con = Console()
        cols = [("file", "left")] + [(c, "right") for c in ("examples", "total tokens", "trainable", "max/example",
                                                            "over limit", "epochs", "billed x epochs", "est. USD")]
        rows = []
        tot = [0, 0, 0, 0.0]
        for r in reports:
            e = r.estimate
            cost = "n/a" if e.estimated_cost_usd is None else f"{e.estimated_cost_usd:,.2f}"
            rows.append([r.path, f"{e.examples:,}", f"{e.total_tokens:,}", f"{e.trainable_tokens or 0:,}",
                         f"{e.max_example_tokens:,}", f"{len(e.over_limit):,}", str(e.epochs),
                         f"{e.charged_tokens:,}", cost])
            tot[0] += e.examples
            tot[1] += e.total_tokens
            tot[2] += e.charged_tokens
            tot[3] += e.estimated_cost_usd or 0.0
        if len(reports) > 1:
            over = sum(len(r.estimate.over_limit) for r in reports)
            priced = all(r.estimate.estimated_cost_usd is not None for r in reports)  # else a sum would lie
            rows.append(["total", f"{tot[0]:,}", f"{tot[1]:,}", "", "", f"{over:,}", "", f"{tot[2]:,}",
                         f"{tot[3]:,.2f}" if priced else "n/a"])
        con.print(fit_table(cols, rows, con.width,
                            title="Tokens and estimated cost (an estimate: prices from rules/models.toml)"))
        for r in reports:
            e = r.estimate
            con.print(f"[bold]{r.path}[/bold] on {e.model} (context {e.context_limit:,} tokens per example)")
            con.print(render_histogram(r.tokens, e.context_limit), markup=False, highlight=False)
            if e.gpu_hours is not None:
                con.print(f"GPU-hours (estimate, {e.gpu_method}): {e.gpu_hours:,.2f}")
            _print_exact(con, r)
            for w in e.warnings:
                con.print(f"[yellow]note:[/yellow] {w}")
            for f in r.findings[:10]:
                con.print(f"  {f.rule} {f'line {f.line}' if f.line else 'file'}: {f.message}", markup=False)
            if len(r.findings) > 10:
                con.print(f"  ... and {len(r.findings) - 10} more")
    if errors:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(r.findings for r in reports) else 0)


def _lines_text(lines: list[int], limit: int = 20) -> str:
    shown = ", ".join(str(x) for x in lines[:limit])
    return shown + (f" ... and {len(lines) - limit:,} more (--json lists all)" if len(lines) > limit else "")


def _print_exact(con, r) -> None:
    """What `tokens` adds with exact counts or --max-length: template, mask, truncation."""
    x = r.exact
    if x is not None:
        d = x.to_dict()
        con.print(f"exact counts: {d['tokenizer']}, rendered with {d['rendered_with']}", markup=False,
                  highlight=False)
        con.print(f"assistant-only loss mask: {d['assistant_mask_note']}", markup=False, highlight=False)
        con.print(f"trainable tokens: {d['trainable_tokens']:,}; after truncation at {x.max_length:,}: "
                  f"{d['trainable_tokens_after_truncation']:,}", markup=False, highlight=False)
        if x.no_trainable:
            con.print(f"[yellow]{len(x.no_trainable):,} example(s) would train on no token[/yellow] (TRL raises on "
                      "them; other trainers waste the row):")
            for ln, why in x.no_trainable[:10]:
                con.print(f"  line {ln}: {why}", markup=False, highlight=False)
            if len(x.no_trainable) > 10:
                con.print(f"  ... and {len(x.no_trainable) - 10:,} more (--json lists all)")
        if x.errors:
            con.print(f"[yellow]{len(x.errors):,} example(s) could not go through the template[/yellow]; they keep "
                      "the formula estimate:")
            for ln, why in x.errors[:5]:
                con.print(f"  line {ln}: {why}", markup=False, highlight=False)
    if r.max_length is not None:
        over = r.over_max_length
        what = "exact" if x is not None else "estimated (formula)"
        default = " (TRL's default)" if x is not None and r.max_length == 1024 else ""
        if over:
            con.print(f"[yellow]{len(over):,} example(s) are longer than --max-length {r.max_length:,}{default}"
                      f"[/yellow] ({what} counts): a trainer cut there drops their end silently: lines "
                      f"{_lines_text(over)}", highlight=False)
        else:
            con.print(f"every example fits --max-length {r.max_length:,}{default} ({what} counts)")


class KeepPolicy(str, Enum):
    first = "first"
    longest = "longest"
    most_trainable_tokens = "most-trainable-tokens"


class CompareMode(str, Enum):
    conversation = "conversation"
    user = "user"
    assistant = "assistant"


class StratifyBy(str, Enum):
    format = "format"
    language = "language"
    none = "none"


def _job_failed(e) -> NoReturn:
    """A library job's JobError, as every command reports a usage error: `error: ...`, exit 2."""
    _err(f"error: {e}")
    raise typer.Exit(e.exit_code) from None


def _dedup_options(compare, threshold, num_perm, ngram, char_shingles):
    """ScanOptions for dedup/split; None leaves MinHashConfig's default."""
    from dataprep.dedup.job import dedup_options
    from dataprep.jobs import JobError

    try:
        return dedup_options(compare.value, threshold, num_perm, ngram, char_shingles)
    except JobError as e:
        _job_failed(e)


def _dedup_scan(path: str, options, jobs, no_cache: bool, quiet: bool, tmpdir: str, engine=None):
    """Scan one input for dedup/split (stdin spooled first); exit 2 for unreadable input and for a
    whole-file JSON array."""
    from dataprep.dedup.job import scan_input
    from dataprep.jobs import JobError

    try:
        return scan_input(path, options, tmpdir=tmpdir, jobs=jobs, cache=not no_cache, progress=not quiet,
                          engine=engine)
    except JobError as e:
        _job_failed(e)


@app.command()
def dedup(
    paths: Annotated[list[str], typer.Argument(help="The file to deduplicate (or - for stdin); files after "
                                               "--against are more --against files.")],
    against: Annotated[list[str] | None, typer.Option("--against", help="Held-out file(s) checked for leakage "
                                                         "from PATH (DP502): exact, near and word n-gram matches.")] = None,
    out: Annotated[str | None, typer.Option("--out", help="Write the kept examples here (byte-identical lines; "
                                               "lines that are not examples are not written).")] = None,
    removed: Annotated[str | None, typer.Option("--removed", help="Write the lines removed as duplicates here "
                                                   "(byte-identical): every example is in --out or here.")] = None,
    clusters: Annotated[str | None, typer.Option("--clusters", help="Write one JSON line per cluster of 2+ lines.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    keep: Annotated[KeepPolicy, typer.Option("--keep", help="Which line of a cluster is kept.")] = KeepPolicy.first,
    compare: Annotated[CompareMode, typer.Option("--compare", help="What is compared.")] = CompareMode.conversation,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Estimated Jaccard for near duplicates "
                                                       "(default 0.8).")] = None,
    num_perm: Annotated[int | None, typer.Option("--num-perm", min=1, help="MinHash permutations (default 128).")] = None,
    ngram: Annotated[int | None, typer.Option("--ngram", min=1, help="Shingle size (default 5 words, 24 "
                                                 "characters with --char-shingles).")] = None,
    char_shingles: Annotated[bool, typer.Option("--char-shingles", help="Character shingles (short texts).")] = False,
    leak_ngram: Annotated[int, typer.Option("--leak-ngram", min=0, help="Word n-gram size of the --against overlap "
                                            "check (0: off).")] = 13,
    leak_min_share: Annotated[float, typer.Option("--leak-min-share", min=0.0, max=1.0, help="Ignore n-gram-only "
                                                  "matches covering less than this share of a line's n-grams "
                                                  "(default 0: any shared n-gram).")] = 0.0,
    no_conflicts: Annotated[bool, typer.Option("--no-conflicts", help="Skip DP503 (conflicting answers).")] = False,
    index: Annotated[Path | None, typer.Option("--index", help="Local index DIR of data already trained on: "
                                                  "PATH lines found there are DP502.")] = None,
    index_add: Annotated[bool, typer.Option("--index-add", help="Then add PATH's kept examples to the index (exact copies already there are skipped).")] = False,
    redis: Annotated[str | None, typer.Option("--redis", help="HOST:PORT of a Redis-backed index (datasketch "
                                                 "MinHashLSH), instead of or besides --index.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", help="How findings are printed: text for people; json, github (annotations), junit, sarif (code scanning) or markdown for tools.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here; summary to stderr.")] = None,
    fail_on: Annotated[str, typer.Option("--fail-on", help="Lowest severity that exits 1: error or warning.")] = "error",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Scan again instead of reusing the saved profile of an unchanged file.")] = False,
    engine: Annotated[EngineName, typer.Option("--engine", help="local (this machine's cores) or ray (a Ray "
                                                 "cluster; needs the ray extra).")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="With --engine ray: join this cluster "
                                                       "(ray://HOST:10001, HOST:6379, auto); default: a local Ray instance.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
) -> None:
    """Exact and near duplicates (MinHash LSH), conflicting answers, and leakage into held-out files.

    Exit 0 when nothing at or above --fail-on (duplicates are warnings, leakage DP502 is an error),
    1 otherwise, 2 usage error or unreadable input.
    """
    import orjson
    from rich.console import Console

    from dataprep.dedup.job import FAIL_ON
    from dataprep.dedup.job import dedup as run_dedup
    from dataprep.gate.formats import render
    from dataprep.jobs import JobError

    path, extra = paths[0], paths[1:]
    if extra and not against and fail_on in FAIL_ON:  # (a bad --fail-on is reported first, by the job)
        _err("error: dedup takes one PATH (give held-out files with --against)")
        raise typer.Exit(2)
    try:
        res = run_dedup(path, out=out, removed=removed, clusters=clusters, against=list(against or []) + extra,
                        keep=keep.value, compare=compare.value, threshold=threshold, num_perm=num_perm, ngram=ngram,
                        char_shingles=char_shingles, leak_ngram=leak_ngram, leak_min_share=leak_min_share,
                        conflicts=not no_conflicts, index=index, index_add=index_add, redis=redis, fail_on=fail_on,
                        jobs=jobs, engine=EngineName(engine).value, ray_address=ray_address, cache=not no_cache,
                        progress=not quiet)
    except JobError as e:
        _job_failed(e)
    if as_json:
        text = orjson.dumps(res.to_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
    elif output_format is OutputFormat.json:
        text = orjson.dumps(stamped(res.files.to_dict() | {"dedup": res.report.to_dict()}),
                            option=orjson.OPT_INDENT_2).decode() + "\n"
    else:
        text = render(output_format.value, res.files)
    human = output is None and not as_json and output_format is OutputFormat.text
    if human or not quiet:
        con = Console(stderr=not human, highlight=False, soft_wrap=True)
        for r in res.renderables():
            con.print(r)
    if human:
        sys.stdout.write(text)
    else:
        s = res.files.summary()
        _emit(text, output, f"{s['errors']} error(s), {s['warnings']} warning(s): {s['verdict'].upper()}", True)
    raise typer.Exit(res.exit_code)


@app.command()
def split(
    input: Annotated[str, typer.Argument(help="A JSONL file (.gz/.zst read too), or - for stdin.")],
    train: Annotated[float, typer.Option("--train", help="Share of examples for training.")] = 0.8,
    val: Annotated[float, typer.Option("--val", help="Share for validation.")] = 0.1,
    test: Annotated[float, typer.Option("--test", help="Share for test.")] = 0.1,
    seed: Annotated[int, typer.Option("--seed", help="Same seed and input: same files, byte for byte.")] = 0,
    out_dir: Annotated[Path | None, typer.Option("--out-dir", help="Where train/val/test.jsonl and split.json go "
                                                    "(default: IN's folder / IN-stem_split).")] = None,
    stratify: Annotated[StratifyBy, typer.Option("--stratify", help="Balance each format or language across the "
                                                 "splits (language runs langdetect on every example).")] = StratifyBy.format,
    compare: Annotated[CompareMode, typer.Option("--compare", help="What duplicate clusters compare.")] = CompareMode.conversation,
    threshold: Annotated[float | None, typer.Option("--threshold", help="Near-duplicate estimated Jaccard "
                                                       "(default 0.8).")] = None,
    num_perm: Annotated[int | None, typer.Option("--num-perm", min=1, help="MinHash permutations (default 128; more: slower, more exact).")] = None,
    ngram: Annotated[int | None, typer.Option("--ngram", min=1, help="Words per shingle (default 5).")] = None,
    char_shingles: Annotated[bool, typer.Option("--char-shingles", help="Shingle characters, not words (text without spaces: Chinese, Japanese, Thai).")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the split manifest as JSON on stdout.")] = False,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Scan again instead of reusing the saved profile of an unchanged file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
) -> None:
    """Deterministic train/val/test files; no exact or near-duplicate cluster straddles two splits.

    Exit 0 written, 2 usage error (fractions must sum to 1) or unreadable input. Lines that are
    not examples are not written; their count is printed and kept in split.json.
    """
    import tempfile

    import orjson
    from rich.console import Console

    from dataprep.dedup.splitting import check_fractions, summary_renderables, write_split
    from dataprep.dedup.splitting import split as run_split
    from dataprep.scan import default_jobs

    try:
        fractions = check_fractions([train, val, test])
    except ValueError as e:
        _err(f"error: {e}")
        raise typer.Exit(2) from None
    if out_dir is None:
        if input == "-":
            _err("error: reading stdin needs --out-dir DIR")
            raise typer.Exit(2)
        p = Path(input)
        stem = p.name.split(".")[0] or "data"
        out_dir = p.parent / f"{stem}_split"
    options = _dedup_options(compare, threshold, num_perm, ngram, char_shingles)
    with tempfile.TemporaryDirectory(prefix="dataprep-split-") as tmp:
        prof = _dedup_scan(input, options, jobs, no_cache, quiet, tmp)
        res = run_split(prof, fractions, seed=seed, stratify=stratify.value, jobs=jobs or default_jobs())
        if input == "-":
            res.path = "-"
        try:
            paths = write_split(prof, res, out_dir)
        except OSError as e:
            _err(f"error: cannot write {e.filename or out_dir}: {e.strerror or e}")
            raise typer.Exit(2) from None
    if as_json:
        files = {k: v for k, v in paths.items() if k != "manifest"}
        typer.echo(orjson.dumps(stamped(res.manifest(files)), option=orjson.OPT_INDENT_2).decode())
    if not quiet:
        con = Console(stderr=True, highlight=False, soft_wrap=True)
        for r in summary_renderables(res, paths):
            con.print(r)
        con.print(f"manifest: {paths['manifest']}")


def _step_summary(markdown: str) -> None:
    """Append to $GITHUB_STEP_SUMMARY when GitHub Actions provides one."""
    import os

    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(markdown + "\n")
    except OSError as e:
        _err(f"warning: cannot append to GITHUB_STEP_SUMMARY ({target}): {e.strerror or e}")


@app.command()
def gate(
    paths: Annotated[list[str], typer.Argument(help=f"Files, directories, globs, or - for stdin. {DIRECTORY_RULE}")],
    rules_preset: Annotated[str, typer.Option("--rules", "-r", help="A built-in preset (openai, style, task, "
                                              "domain, strict) or a preset TOML file.")] = "openai",
    fail_on: Annotated[str, typer.Option("--fail-on", help="error: only a fail verdict exits 1; warning: "
                                         "a warn verdict exits 1 too.")] = "error",
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", help="How findings are printed: text for people; json, github (annotations), junit, sarif (code scanning) or markdown for tools.")] = OutputFormat.text,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write the report here; summary to stderr.")] = None,
    against: Annotated[list[str] | None, typer.Option("--against", help="Validation/test files checked for "
                                                         "leakage from the gated file (DP502).")] = None,
    max_findings: Annotated[int | None, typer.Option("--max-findings", min=1, help="Print at most N findings "
                                                        "per file (counts stay exact).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the cached Profile.")] = False,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Judge by the rules of where the data "
                                                "will train: openai, azure, together, fireworks, vertex, "
                                                "bedrock-nova, trl, axolotl, llamafactory, mistral, or a target "
                                                "TOML (default: dataprep.toml / [tool.dataprep] target, else the "
                                                "preset's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary or progress on stderr.")] = False,
) -> None:
    """Verdict pass / warn / fail against a rules preset: exit 0 pass or warn, 1 fail (or warn with
    --fail-on warning), 2 unreadable input, bad preset or usage error.

    Runs validation, tokens (DP400/DP401), duplicates, diversity, the volume tier (DP600) and the
    preset's thresholds on one scan per file; each failed threshold is shown with its measured value
    and limit. With $GITHUB_STEP_SUMMARY set, a Markdown summary is appended to it.
    """
    from dataprep.gate.presets import PresetError
    from dataprep.gate.verdict import run_gate
    from dataprep.output import render

    if fail_on not in ("error", "warning"):
        _err("error: --fail-on takes error or warning")
        raise typer.Exit(2)
    try:
        result = run_gate(paths, rules_preset, jobs=jobs, cache=not no_cache, progress=not quiet, against=against,
                          target=_target_spec(target))
    except PresetError as e:
        _err(f"error: preset {e}")
        raise typer.Exit(2) from None
    shown = result.capped(max_findings) if max_findings else result
    fmt = output_format.value
    text = render(fmt, shown)  # text: the findings, then the verdict against the preset
    s = result.summary()
    code = result.exit_code(fail_on)
    failed = "".join(f"; {f.path}: the {name} analysis failed" for f in result.files for name in f.failed)
    on = f", target {s['target']}" if s.get("target") else ""
    summary = (f"gate {s['verdict'].upper()} (preset {s['preset']}{on}): {s['errors']} error(s), {s['warnings']} warning(s), "
               f"{s['infos']} info(s), {s['thresholds_failed']} threshold(s) failed{failed}; exit {code}")
    _step_summary(text if fmt == "markdown" else render("markdown", shown, title="dataprep gate"))
    _emit(text, output, summary, quiet)
    raise typer.Exit(code)


@app.command()
def tui(
    path: Annotated[str, typer.Argument(help="A JSONL file (.gz/.zst read too).")],
    rules_preset: Annotated[str, typer.Option("--rules", "-r", help="A built-in preset (openai, style, task, "
                                              "domain, strict) or a preset TOML file: the verdict shown.")] = "openai",
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the cached Profile.")] = False,
) -> None:
    """The terminal inspector: overview, examples, findings, duplicates; search, filters, export.

    Opens at once on any size (a line index; the scan loads in the background). Read-only: exports
    write new files. Exit 0 on quit, 2 unreadable input, bad preset or no terminal.
    """
    from dataprep.gate.presets import PresetError, load_preset
    from dataprep.io.reader import InputError, open_binary

    if path == "-":
        _err("error: tui reads a file, not stdin (the terminal is its input); save the data to a file first")
        raise typer.Exit(2)
    try:
        open_binary(path).close()
        load_preset(rules_preset)
    except InputError as e:
        _err(f"error: cannot read {e.path}: {e.reason}")
        raise typer.Exit(2) from None
    except PresetError as e:
        _err(f"error: preset {e}")
        raise typer.Exit(2) from None
    if not sys.stdin.isatty() or not sys.stdout.isatty():
        _err("error: tui needs an interactive terminal; use validate, gate or audit in scripts")
        raise typer.Exit(2)
    from dataprep.tui.app import run

    try:
        code = run(path, preset=rules_preset, jobs=jobs, cache=not no_cache)
    except InputError as e:  # vanished between the check and the start
        _err(f"error: cannot read {e.path}: {e.reason}")
        raise typer.Exit(2) from None
    raise typer.Exit(code)


@app.command()
def audit(
    paths: Annotated[list[str], typer.Argument(help=f"Files, directories and globs. {DIRECTORY_RULE}")],
    html: Annotated[Path | None, typer.Option("--html", help="Write a self-contained HTML report here.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the audit JSON here (docs/audit-json.md); "
                                                     "- for stdout.")] = None,
    markdown: Annotated[Path | None, typer.Option("--markdown", help="Write a Markdown report here.")] = None,
    output_format: Annotated[OutputFormat, typer.Option("--output-format", "-f", help="text: the terminal report; "
                                                        "another format goes to stdout and the terminal report to "
                                                        "stderr.")] = OutputFormat.text,
    rules_preset: Annotated[str, typer.Option("--rules", "-r", help="Preset for severities and thresholds "
                                              "(openai, style, task, domain, strict or a TOML file).")] = "openai",
    fail_on: Annotated[str, typer.Option("--fail-on", help="error or warning: the verdict that exits 1; never: "
                                         "report only (exit 0 unless a file is unreadable).")] = "error",
    max_rows: Annotated[int | None, typer.Option("--max-rows", min=1, help="Terminal table: at most N files "
                                                    "(the reports have all).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: all cores).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write cached Profiles.")] = False,
    engine: Annotated[EngineName, typer.Option("--engine", help="local (this machine's cores) or ray (a Ray "
                                                 "cluster; needs the ray extra).")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="With --engine ray: join this cluster "
                                                       "(ray://HOST:10001, HOST:6379, auto); default: a local Ray instance.")] = None,
    target: Annotated[str | None, typer.Option("--target", "-t", help="Judge by the rules of where the data "
                                                "will train: openai, azure, together, fireworks, vertex, "
                                                "bedrock-nova, trl, axolotl, llamafactory, mistral, or a target "
                                                "TOML (default: dataprep.toml / [tool.dataprep] target, else the "
                                                "preset's).")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No terminal report or progress; reports only.")] = False,
) -> None:
    """Everything for many files: validation, tokens and cost, duplicates, diversity, tier verdict.

    Opens with a readiness verdict in plain words, then one row per file. Never stops at a bad file:
    an unreadable or empty file is a row with its finding. Exit 0 all pass/warn, 1 a file fails,
    2 a file could not be read at all (the reports are still written) or a usage error.
    """
    from dataprep.audit import renderables
    from dataprep.gate.presets import PresetError
    from dataprep.output import render

    if fail_on not in ("error", "warning", "never"):
        _err("error: --fail-on takes error, warning or never")
        raise typer.Exit(2)
    json_to_stdout = json_out is not None and str(json_out) == "-"
    if json_to_stdout and output_format is not OutputFormat.text:
        _err(f"error: --json - and --output-format {output_format.value} both write to stdout; "
             "give one, or --json FILE")
        raise typer.Exit(2)
    spec = _target_spec(target)
    try:
        from dataprep.gate.presets import load_preset
        from dataprep.gate.verdict import with_target

        preset = with_target(load_preset(rules_preset), spec)  # the Preset carries the target to every worker
        with _open_engine(engine, ray_address, jobs) as eng:
            result = eng.audit(paths, preset, jobs=jobs, cache=not no_cache, progress=not quiet)
    except PresetError as e:
        _err(f"error: preset {e}")
        raise typer.Exit(2) from None
    to_stdout = json_to_stdout or output_format is not OutputFormat.text
    written = []
    try:
        if json_out is not None:
            from dataprep.output.json import render_bytes

            data = render_bytes(result)
            if json_to_stdout:
                sys.stdout.flush()
                sys.stdout.buffer.write(data)
            else:
                json_out.parent.mkdir(parents=True, exist_ok=True)
                json_out.write_bytes(data)
                written.append(json_out)
            del data
        if html is not None:
            from dataprep.report.html import write_html

            written.append(write_html(result, html))
        if markdown is not None:
            from dataprep.report.markdown import write_markdown

            written.append(write_markdown(result, markdown))
        if output_format is not OutputFormat.text:
            sys.stdout.write(render(output_format.value, result, title="dataprep audit"))
    except OSError as e:
        _err(f"error: cannot write {e.filename}: {e.strerror or e}")
        raise typer.Exit(2) from None
    if not quiet:
        from rich.console import Console

        con = Console(stderr=to_stdout, highlight=False)
        for r in renderables(result, max_files=max_rows, width=con.width):
            con.print(r)
        for w in written:
            _err(f"wrote {w}")
    raise typer.Exit(result.exit_code(fail_on))


@app.command()
def diversity(
    path: Annotated[str, typer.Argument(help="A chat JSONL file (or - for stdin).")],
    compare: Annotated[str | None, typer.Option("--compare", help="A second file shown side by side.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON on stdout.")] = False,
    language_sample: Annotated[int, typer.Option("--language-sample", min=1, help="Examples in the language sample.")] = 2000,
    full_language: Annotated[bool, typer.Option("--full-language", help="Detect the language of every example.")] = False,
    expected: Annotated[str | None, typer.Option("--expected-languages", help="Comma list, e.g. en,de (DP602).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Scan again instead of reusing the saved profile of an unchanged file.")] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress or summary on stderr.")] = False,
) -> None:
    """Lexical diversity, openings, structure and language mix (the language part is a sample).

    Exit 0 no warnings, 1 warning findings, 2 unreadable or unusable input (no examples: empty,
    not JSONL, not UTF-8) or an analysis that failed, with one line saying what to do.
    """
    import orjson

    from dataprep.diversity.analyze import analyze, unusable_reason
    from dataprep.diversity.report import render_compare, render_terminal
    from dataprep.scan import default_jobs, scan

    exp = [x.strip() for x in expected.split(",") if x.strip()] if expected else None
    results = []
    for p in [path] + ([compare] if compare else []):
        # Diversity reads the text features and token lengths: no MinHash, no DP3xx findings.
        prof = scan(p, jobs=jobs, cache=not no_cache, progress=not quiet, sketch=False, content=False)
        why = unusable_reason(prof)
        if why is not None:  # an unreadable file's finding names it already ("cannot read PATH: ...")
            _err(f"error: {why}" if not prof.readable else f"error: {p}: {why}")
            raise typer.Exit(2)
        try:
            res = analyze(prof, language_sample=language_sample, full_language=full_language,
                          expected_languages=exp, jobs=jobs or default_jobs())
        except Exception as e:  # fail closed, in one line: a crashed analysis is never a report
            _err(f"error: {p}: the diversity analysis failed ({type(e).__name__}: {e}); "
                 "please report it with the file")
            raise typer.Exit(2) from None
        results.append(res)
    if as_json:
        doc = results[0].to_dict() if len(results) == 1 else {"a": results[0].to_dict(), "b": results[1].to_dict()}
        sys.stdout.write(orjson.dumps(stamped(doc), option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode() + "\n")
    elif len(results) == 2:
        render_compare(results[0].report, results[1].report, labels=(Path(path).name, Path(compare).name))
    else:
        render_terminal(results[0].report)
        for f in results[0].findings[:15]:
            typer.echo(f"  {f.rule} {f.name} {f'line {f.line}' if f.line else 'file'}: {f.message}")
        if len(results[0].findings) > 15:
            typer.echo(f"  ... and {len(results[0].findings) - 15} more findings")
    failed = [(r.path, part, why) for r in results for part, why in r.failed.items()]
    for p, part, why in failed:  # the report above lacks that part: never exit as if it were complete
        _err(f"error: {p}: the {part} analysis failed ({why}); its figures are missing")
    if failed:
        raise typer.Exit(2)
    raise typer.Exit(1 if any(f.severity.value != "info" for r in results for f in r.findings) else 0)


@app.command()
def train(
    target: Annotated[str, typer.Argument(help="The training file, or status / cancel / list for hosted jobs.")],
    job_id: Annotated[str | None, typer.Argument(help="Job id for status / cancel.")] = None,
    backend: Annotated[str, typer.Option("--backend", "-b", help="trl, openai, together, axolotl or llamafactory.")] = "trl",
    model: Annotated[str | None, typer.Option("--model", "-m", help="Base model (tiny-random: a smoke run).")] = None,
    rules: Annotated[str, typer.Option("--rules", help="Gate preset run first (name or TOML path).")] = "openai",
    val: Annotated[str | None, typer.Option("--val", help="Validation file; without it a cluster-aware split is made.")] = None,
    val_fraction: Annotated[float, typer.Option("--val-fraction", help="Validation share of the split.")] = 0.1,
    output: Annotated[str | None, typer.Option("--output", "-o", help="Run directory.")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Hyperparameters TOML.")] = None,
    method: Annotated[str | None, typer.Option("--method", help="lora, qlora or full (trl).")] = None,
    epochs: Annotated[int | None, typer.Option("--epochs", min=1, help="Training epochs (default: the config's or the backend's).")] = None,
    learning_rate: Annotated[float | None, typer.Option("--learning-rate", help="Learning rate (default: the config's or the backend's).")] = None,
    base_url: Annotated[str | None, typer.Option("--base-url", help="OpenAI-compatible API base URL.")] = None,
    azure_endpoint: Annotated[str | None, typer.Option("--azure-endpoint", help="Azure OpenAI endpoint (https://NAME.openai.azure.com): trains on Azure through the openai backend.")] = None,
    api_key_env: Annotated[str | None, typer.Option("--api-key-env", help="Env var holding the API key.")] = None,
    general_eval: Annotated[str | None, typer.Option("--general-eval", help="Held-out general set (forgetting check).")] = None,
    no_follow: Annotated[bool, typer.Option("--no-follow", help="Hosted: create the job and return.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show what would run, the files it would write and the estimate; launch and write nothing.")] = False,
    force: Annotated[bool, typer.Option("--force", help="Train even if the gate fails (recorded in the run card).")] = False,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the trainer: same seed, same run.")] = 0,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: one per core).")] = None,
    data_target: Annotated[str | None, typer.Option("--target", "-t", help="The gate judges by this training "
                                                     "target's rules (trl, together, azure, ... or a target TOML; "
                                                     "default: the project config's, else the preset's).")] = None,
) -> None:
    """Gate the data, then launch a fine-tuning run (exit 1 when the gate fails, unless --force)."""
    from dataprep.jobs import JobError
    from dataprep.train import api as tr
    from dataprep.train.job import load_config
    from dataprep.train.job import train as run_train

    try:
        cfg = load_config(config, backend=backend, model=model, output_dir=output, method=method, epochs=epochs,
                          learning_rate=learning_rate, base_url=base_url, azure_endpoint=azure_endpoint,
                          api_key_env=api_key_env, general_eval=general_eval, seed=seed)
    except JobError as e:
        _job_failed(e)
    if target in ("status", "cancel", "list"):
        try:
            if target == "list":
                for j in tr.list_jobs(cfg):
                    typer.echo(str(j))
            elif not job_id:
                _err(f"error: train {target} needs a job id")
                raise typer.Exit(2)
            else:
                typer.echo(str((tr.job_status if target == "status" else tr.cancel_job)(job_id, cfg)))
        except typer.Exit:
            raise
        except Exception as e:  # the service's error envelope, a network failure: say it, no traceback
            _err(f"error: {e}")
            raise typer.Exit(2) from None
        return
    try:  # progress lines (gate verdict, estimate, split) and a hosted job's events go to stderr as they happen
        res = run_train(target, config=cfg, rules=rules, target=_target_spec(data_target), val=val,
                        val_fraction=val_fraction, dry_run=dry_run,
                        force=force, follow=not no_follow, jobs=jobs, on_message=_err,
                        on_event=tr.event_printer(cfg.backend))
    except JobError as e:
        _job_failed(e)
    if res.run is not None:
        typer.echo(res.describe())
    raise typer.Exit(res.exit_code)


class EngineName(str, Enum):
    local = "local"
    ray = "ray"


def _open_engine(engine, address: str | None, jobs: int | None):
    """The engine of --engine/--ray-address, started; exit 2 when it cannot be."""
    from dataprep.engines import EngineError, open_engine

    try:
        return open_engine(EngineName(engine).value, address=address, jobs=jobs)
    except EngineError as e:
        _err(f"error: {e}")
        raise typer.Exit(2) from None


@app.command()
def scan(
    path: Annotated[str, typer.Argument(help="A chat JSONL file (- for stdin, .gz/.zst), or with --engine ray an "
                                        "object URI (s3://, gs://).")],
    as_json: Annotated[bool, typer.Option("--json", help="The profile summary as JSON on stdout.")] = False,
    model: Annotated[str | None, typer.Option("--model", help="Model whose tokenizer counts tokens "
                                                 "(rules/models.toml; default: its default).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes, or the local Ray "
                                                "instance's CPUs (default: all cores).")] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Ignore and do not write the cached Profile.")] = False,
    engine: Annotated[EngineName, typer.Option("--engine", help="local (this machine's cores) or ray (a Ray "
                                                 "cluster; needs the ray extra).")] = "local",
    ray_address: Annotated[str | None, typer.Option("--ray-address", help="With --engine ray: join this cluster "
                                                       "(ray://HOST:10001, HOST:6379, auto); default: a local Ray instance.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")] = False,
) -> None:
    """One parallel pass over a file (what every analysis reads): a short summary of its profile.

    Exit 0 no error findings, 1 error findings, 2 unreadable input or usage error.
    """
    import orjson

    from dataprep.engines.summary import profile_summary, render_summary

    with _open_engine(engine, ray_address, jobs) as eng:
        try:
            prof = eng.scan(path, jobs=jobs, cache=not no_cache, progress=not quiet, model=model)
        except (ValueError, KeyError) as e:  # an unknown --model
            _err(f"error: {e}")
            raise typer.Exit(2) from None
    if not prof.readable:
        _err(f"error: {prof.findings[0].message}")
        raise typer.Exit(2)
    d = profile_summary(prof, EngineName(engine).value)
    if path == "-":  # name stdin as the user did, not by its spool file
        d["path"] = "-"
    if as_json:
        sys.stdout.write(orjson.dumps(stamped(d), option=orjson.OPT_INDENT_2).decode() + "\n")
    else:
        sys.stdout.write(render_summary(d))
    raise typer.Exit(1 if d["findings"]["errors"] else 0)


cache_app = typer.Typer(help="The profile cache: what it holds, and trimming it.", no_args_is_help=True)
app.add_typer(cache_app, name="cache")


def _human(n: int) -> str:
    for unit, size in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def _age(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f} {unit}"
    return f"{seconds:.0f} seconds"


@cache_app.command("info")
def cache_info(
    as_json: Annotated[bool, typer.Option("--json", help="The same as JSON on stdout.")] = False,
) -> None:
    """Where the cache is, how big, how many entries, the oldest, and its size cap."""
    import time

    from dataprep import cache

    inv = cache.inventory()
    now = time.time()
    d = {"directory": str(cache.cache_dir()), "entries": len(inv.entries), "bytes": inv.size,
         "max_bytes": cache.max_bytes(), "leftover_files": len(inv.leftovers),
         "oldest_age_seconds": round(now - inv.entries[0].mtime, 1) if inv.entries else None,
         "newest_age_seconds": round(now - inv.entries[-1].mtime, 1) if inv.entries else None}
    if as_json:
        import orjson

        sys.stdout.write(orjson.dumps(stamped(d), option=orjson.OPT_INDENT_2).decode() + "\n")
        return
    lines = [f"profile cache: {d['directory']}",
             f"  entries:  {d['entries']:,}",
             f"  size:     {_human(d['bytes'])}",
             f"  cap:      {_human(d['max_bytes'])} (DATAPREP_CACHE_MAX_BYTES)"]
    if inv.entries:
        lines.append(f"  oldest:   last used {_age(d['oldest_age_seconds'])} ago")
        lines.append(f"  newest:   last used {_age(d['newest_age_seconds'])} ago")
    if inv.leftovers:
        lines.append(f"  leftovers: {len(inv.leftovers):,} file(s) of killed writers or an old format")
        lines.append("             (`dataprep cache prune` removes them)")
    sys.stdout.write("\n".join(lines) + "\n")


@cache_app.command("prune")
def cache_prune(
    max_size: Annotated[str | None, typer.Option("--max-size", help="Keep at most this much, least recently "
                                                 "used entries first to go: bytes, or 500M, 2G.")] = None,
    older_than: Annotated[str | None, typer.Option("--older-than", help="Remove entries not used for this long: "
                                                   "seconds, or 30m, 12h, 7d, 2w.")] = None,
) -> None:
    """Remove cache entries: those not used for --older-than, then the oldest until --max-size fits
    (neither option: down to the size cap). Leftovers of killed writers always go."""
    from dataprep import cache

    try:
        size = cache.parse_size(max_size) if max_size is not None else None
        age = cache.parse_age(older_than) if older_than is not None else None
    except ValueError as e:
        _err(f"error: {e} (sizes: 123, 500M, 2G; ages: 90, 30m, 12h, 7d)")
        raise typer.Exit(2) from None
    if size is None and age is None:
        size = cache.max_bytes()
    removed, freed = cache.prune(max_size=size, older_than=age)
    inv = cache.inventory()
    sys.stdout.write(f"removed {removed:,} entr{'y' if removed == 1 else 'ies'}, freed {_human(freed)}\n"
                     f"{len(inv.entries):,} left, {_human(inv.size)}, in {cache.cache_dir()}\n")


def _interrupt_in(exc: BaseException | None) -> KeyboardInterrupt | None:
    """The KeyboardInterrupt behind an exit (typer turns an unhandled one into exit 130)."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt):
            return exc
        exc = exc.__cause__ or (None if exc.__suppress_context__ else exc.__context__)
        seen += 1
    return None


def main() -> None:
    from dataprep import lifetime

    code = None
    stopped = None
    try:
        # Ctrl-C, SIGTERM (CI, kill) and SIGHUP (terminal closed) unwind the command like an
        # exception, so its cleanups run; whatever still runs below us is ended on the way out.
        with lifetime.command_signals():
            app()
    except KeyboardInterrupt as e:
        stopped = e
    except SystemExit as e:
        code = e.code
        stopped = _interrupt_in(e)
    except BrokenPipeError:  # `dataprep validate big.jsonl | head`
        sys.stderr.close()
        sys.exit(0)
    finally:
        lifetime.end_children()
    if stopped is not None:  # not handled by the command (train saves a checkpoint and says so itself)
        import signal

        signum = getattr(stopped, "signum", None) or lifetime.received or signal.SIGINT
        name = signal.Signals(signum).name
        _err(f"dataprep: stopped by {name}{' (Ctrl-C)' if name == 'SIGINT' else ''}")
        sys.exit(lifetime.exit_code(signum))
    sys.exit(code)


def run() -> None:
    """The ``dataprep`` program: ``main()``, then a fast exit (``_exit_now``)."""
    try:
        main()
    except SystemExit as e:
        _exit_now(e.code)
    _exit_now(0)


def _exit_now(code) -> None:
    """Exit with ``code`` without tearing down every object one by one: after a large run
    (a million findings, a profile of a million rows) the interpreter's teardown alone took
    seconds. Exit handlers (temporary files, the process pool's) still run, and output is flushed."""
    import atexit

    status = code if isinstance(code, int) else (0 if code is None else 1)
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)  # what sys.exit("message") prints
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a pipe whose reader is gone
            pass
    os._exit(status)


if __name__ == "__main__":
    run()
