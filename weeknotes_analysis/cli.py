"""The `weeknotes` command: a thin layer that parses arguments and calls the Python API."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from .build import BuildOptions
    from .corpus import Corpus

DEFAULT_ARCHIVE = "data/sample"
DEFAULT_OUT = "data/processed"
DEFAULT_REPORT = "reports"
DEFAULT_MAX_FILE_SIZE = "20MB"
SIZE_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9}
SIZE_UNITS["GB"] = SIZE_UNITS["G"]
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class _Stopped(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is: the build stops and says so."""


def _stop(signum: int, frame: object) -> None:
    raise _Stopped(signum)


def _size(text: str) -> int:
    """``20MB``, ``500KB``, ``1.5GB`` or a number of bytes -> bytes."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if found is None:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a size such as 20MB or 500KB")
    return int(float(found.group(1)) * SIZE_UNITS[found.group(2)])


def _add_size_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--max-file-size",
        type=_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="SIZE",
        help="skip a file larger than this as a file-too-large problem, unread (default: 20MB)",
    )


def _add_build_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "path", nargs="?", default=DEFAULT_ARCHIVE, help="archive folder (default: data/sample)"
    )
    parser.add_argument(
        "--model",
        default="auto",
        help="spaCy model: auto (default), a package name, or none for rules only (fast)",
    )
    parser.add_argument(
        "--jobs", type=int, default=None, help="worker processes (default: all cores)"
    )
    parser.add_argument("--taxonomy", default=None, help="your own topic taxonomy YAML file")
    parser.add_argument("--gazetteer", default=None, help="your own gazetteer YAML file")
    parser.add_argument(
        "--phrases",
        choices=("rules", "parser", "auto", "off"),
        default="rules",
        help="key phrases: rules (runs of content words, no extra cost; the default), parser "
        "(the model's noun chunks, about twice the build time; auto is the same) or off",
    )
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    parser.add_argument(
        "--config",
        default=None,
        help="settings file (default: weeknotes.toml at the archive's root, if there)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every `weeknotes` sub-command."""
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="weeknotes",
        description="Analyse an archive of weekly tech-news notes (Hugo, Jekyll or Pelican).",
    )
    parser.add_argument("--version", action="version", version=f"weeknotes {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_build_command(commands)
    _add_check_command(commands)
    _add_evaluate_command(commands)
    _add_discover_command(commands)
    _add_report_command(commands)
    _add_notebooks_command(commands)
    return parser


def _add_build_command(commands: Subcommands) -> None:
    """The ``weeknotes build`` sub-command."""
    build = commands.add_parser(
        "build",
        help="build every table as parquet (API: load_corpus(...).to_parquet(out))",
        description="Read the archive and write FOLDER/<table>.parquet for every table.",
    )
    _add_build_options(build)
    build.add_argument("--out", default=DEFAULT_OUT, help="output folder (default: data/processed)")
    build.add_argument("--strict", action="store_true", help="stop at the first problem")
    build.add_argument("--no-cache", action="store_true", help="ignore and rewrite the cache")
    build.add_argument(
        "--engine",
        choices=("local", "dask"),
        default="local",
        help="where files are parsed and NER runs: local (default) or dask (a Dask cluster)",
    )
    build.add_argument(
        "--scheduler",
        default=None,
        help="with --engine dask: a running scheduler, tcp://host:8786 (default: a local cluster)",
    )
    build.add_argument(
        "--workers",
        type=int,
        default=None,
        help="with --engine dask: local cluster workers (default: --jobs), or workers to wait for",
    )
    _add_size_option(build)


def _add_check_command(commands: Subcommands) -> None:
    """The ``weeknotes check`` sub-command."""
    check = commands.add_parser(
        "check",
        help="list the archive's problems; exit 1 on any error (API: corpus.check_archive)",
        description="Read the archive (no NLP) and list every file skipped or degraded, then "
        "the headings found in more than half of the posts (candidates to leave out of the "
        "analysis, with a weeknotes.toml line to copy).",
    )
    check.add_argument("path", nargs="?", default=DEFAULT_ARCHIVE, help="archive folder")
    _add_size_option(check)


def _add_evaluate_command(commands: Subcommands) -> None:
    """The ``weeknotes evaluate`` sub-command."""
    evaluate = commands.add_parser(
        "evaluate",
        help="score the tags against the author's keywords or a gold file "
        "(API: evaluate.evaluate_topics, evaluate_gold)",
        description="Recall of the topics mapped from each post's keywords among the topics "
        "the posts are about; with --gold, topic, entity and sentiment scores against a file "
        "of hand-labelled sections (the labelling guide's format).",
    )
    _add_build_options(evaluate)
    evaluate.add_argument(
        "--mapping", default=None, help="YAML mapping keyword -> [topic ids] (default: bundled)"
    )
    evaluate.add_argument(
        "--gold", default=None, help="a JSON-lines file of labelled sections to score against"
    )


def _add_discover_command(commands: Subcommands) -> None:
    """The ``weeknotes discover`` sub-command."""
    discover = commands.add_parser(
        "discover",
        help="group the sections no topic is about into candidate topics "
        "(API: discover.discover_topics)",
        description="Build the tables (cached in FOLDER), group the sections no topic is about "
        "into candidate topics and write FOLDER/taxonomy-suggestions.yaml, a taxonomy that "
        "extends the one used: pass it to --taxonomy to tag with both.",
    )
    _add_build_options(discover)
    discover.add_argument(
        "--out", default=DEFAULT_OUT, help="output folder (default: data/processed)"
    )
    discover.add_argument(
        "--topics", type=int, default=None, help="candidates to look for (default: from the size)"
    )
    discover.add_argument(
        "--all", action="store_true", help="group every section, not only those no topic is about"
    )


def _add_report_command(commands: Subcommands) -> None:
    """The ``weeknotes report`` sub-command."""
    report = commands.add_parser(
        "report",
        help="run every notebook on the archive and write an HTML report (API: build_report)",
        description="Build the tables (cached in FOLDER/tables), execute every notebook against "
        "the archive and write FOLDER/index.html, one HTML page per notebook and its figures.",
    )
    _add_build_options(report)
    report.add_argument("--out", default=DEFAULT_REPORT, help="report folder (default: reports)")
    report.add_argument("--start", default=None, help="first day to include (YYYY-MM-DD)")
    report.add_argument("--end", default=None, help="last day to include (YYYY-MM-DD)")
    report.add_argument(
        "--mapping", default=None, help="YAML mapping keyword -> [topic ids] for the evaluation"
    )
    report.add_argument(
        "--gold", default=None, help="a JSON-lines file of labelled sections for the evaluation"
    )
    report.add_argument(
        "--freq",
        choices=("week", "month", "quarter", "year"),
        default=None,
        help="the charts' period (default: the settings', else chosen from the dates)",
    )
    report.add_argument(
        "--role",
        choices=("about", "mention", "any"),
        default="about",
        help="topic rows counted: about (the section's subject; default), mention, or any",
    )
    report.add_argument(
        "--min-sections",
        type=int,
        default=10,
        help="hatch shares from fewer sections than this (default: 10)",
    )


def _add_notebooks_command(commands: Subcommands) -> None:
    """The ``weeknotes notebooks`` sub-command."""
    notebooks = commands.add_parser(
        "notebooks",
        help="copy the report's notebooks into a folder for JupyterLab "
        "(API: notebook.copy_notebooks)",
        description="Copy the notebooks shipped with the package into DEST, their archive "
        "parameter pointing at ARCHIVE.",
    )
    notebooks.add_argument("dest", help="folder to copy the notebooks into (created)")
    notebooks.add_argument(
        "--archive", default=None, help="the archive the notebooks open (default: data/sample)"
    )
    notebooks.add_argument("--model", default=None, help="the notebooks' model parameter")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `weeknotes` console script."""
    args = build_parser().parse_args(argv)
    # SIGTERM stops a build as Ctrl-C does (only the main thread may set a handler).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        handlers = {
            "build": _build,
            "check": _check,
            "evaluate": _evaluate,
            "discover": _discover,
            "report": _report,
            "notebooks": _notebooks,
        }
        handler = handlers[args.command]
        return handler(args)
    except (FileNotFoundError, FileExistsError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # a settings file or an option that cannot be used
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader went away (`weeknotes check | head`): nothing left to say.
        sys.stderr.close()
        return 0
    except KeyboardInterrupt as exc:
        number = exc.args[0] if isinstance(exc, _Stopped) else signal.SIGINT
        name = signal.Signals(number).name
        print(f"weeknotes: stopped ({name}); the previous output is left whole", file=sys.stderr)
        return 128 + number
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message)


def build_summary(corpus: Corpus, *, path: str, seconds: float | None = None) -> list[str]:
    """What a build did: its tables, model, posts parsed fresh and reused, time; then, when
    there are problems, the files (ten at most) and the command that lists them all."""
    stats = corpus.stats
    fresh, reused = stats.get("fresh"), stats.get("reused")
    elapsed = seconds if seconds is not None else stats.get("seconds", 0.0)
    parts = [corpus.summary(), f"model {stats.get('model', '?')}"]
    if fresh is not None and reused is not None:
        parts.append(f"{fresh} files parsed, {reused} reused from the cache")
    parts.append(f"{elapsed:.1f} s")
    lines = ["; ".join(parts)]
    problems = corpus.problems
    if not problems.empty:
        worst = problems.sort_values("severity", key=lambda s: s != "error", kind="stable")
        files = worst.drop_duplicates("path")
        lines.append(f"problems in {len(files)} files (error: skipped; warning: loaded):")
        for row in files.head(10).itertuples(index=False):
            lines.append(f"  {row.path}: {row.severity} {row.code}")
        if len(files) > 10:
            lines.append(f"  ... and {len(files) - 10} more")
        lines.append(f"see them all, with what to do: weeknotes check {path}")
    return lines


def build_options(args: argparse.Namespace, **overrides: Any) -> BuildOptions:
    """The :class:`~weeknotes_analysis.build.BuildOptions` of a command's parsed arguments
    (each command has some of the build's options; the others keep their defaults)."""
    from .build import BuildOptions

    names = {field.name for field in fields(BuildOptions)}
    given = {name: getattr(args, name) for name in names if hasattr(args, name)}
    given["progress"] = not getattr(args, "quiet", False)
    if hasattr(args, "no_cache"):
        given["cache"] = not args.no_cache
    return BuildOptions(**{**given, **overrides})


def _build(args: argparse.Namespace) -> int:
    from .build import BuildLockedError, build_corpus
    from .corpus import StrictError
    from .dask_engine import DaskEngineError
    from .output import OutputError

    if args.engine != "dask" and (args.scheduler is not None or args.workers is not None):
        print("weeknotes: --scheduler and --workers need --engine dask", file=sys.stderr)
        return 2
    if args.workers is not None and args.workers < 1:
        print(f"weeknotes: --workers must be at least 1, not {args.workers}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        corpus = build_corpus(args.path, out=args.out, options=build_options(args))
    except (StrictError, BuildLockedError, DaskEngineError, OutputError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 1
    lines = build_summary(corpus, path=args.path, seconds=time.perf_counter() - started)
    lines[0] += f" -> {os.fspath(args.out)}"
    _say(args, "\n".join(lines))
    return 0


def _check(args: argparse.Namespace) -> int:
    from .corpus import assemble, read_archive
    from .settings import load_settings, recurring_headings, settings_snippet

    if not os.path.isdir(args.path):
        raise FileNotFoundError(f"{args.path}: no such archive folder")
    tables = assemble(read_archive(args.path, max_file_size=args.max_file_size))
    problems = tables["problems"]
    if problems.empty:
        print(f"{args.path}: no problems")
        errors = 0
    else:
        with _wide_pandas():
            print(problems.to_string(index=False))
        errors = int((problems["severity"] == "error").sum())
        print(f"{len(problems)} problems, {errors} errors")
    settings = load_settings(args.path)
    recurring = recurring_headings(tables["sections"])
    if not recurring.empty:
        print(
            f"\nheadings in more than half of the {tables['posts']['post_id'].nunique()} posts "
            "(listings and other recurring parts are candidates to leave out of the analysis):"
        )
        for row in recurring.itertuples(index=False):
            excluded = " (excluded)" if row.heading in settings.exclude_headings else ""
            print(f"  {row.heading}: {row.posts} posts ({row.share:.0%}){excluded}")
        print(
            "to leave some out, put their line in weeknotes.toml at the archive's root "
            "(edit the list to taste):"
        )
        print(f"  {settings_snippet(list(recurring['heading']))}")
    return 1 if errors else 0


def _evaluate(args: argparse.Namespace) -> int:
    from .build import build_corpus
    from .corpus import Corpus
    from .evaluate import (
        evaluate_gold,
        evaluate_topics,
        format_evaluation,
        format_gold_evaluation,
    )
    from .sources import is_build_output

    if is_build_output(Path(args.path)):
        # A build's output folder (``--out``): score the tables it holds.
        corpus = Corpus.read_parquet(args.path)
    else:
        corpus = build_corpus(args.path, options=build_options(args, phrases="off"))
    if args.gold:
        try:
            gold = evaluate_gold(corpus, Path(args.gold))
        except (OSError, ValueError) as error:
            print(f"weeknotes: {error}", file=sys.stderr)
            return 1
        if not gold.sections:
            print(
                f"weeknotes: none of the {len(gold.missing)} sections of {args.gold} is in "
                f"{args.path} (posts read: {len(corpus.posts)}): give the archive the gold file "
                "labels, or a build of it (its --out folder)",
                file=sys.stderr,
            )
            return 1
        print(format_gold_evaluation(gold))
        return 0
    result = evaluate_topics(corpus, mapping=Path(args.mapping) if args.mapping else None)
    print(format_evaluation(result))
    return 0


def _discover(args: argparse.Namespace) -> int:
    from .build import BuildLockedError, build_corpus
    from .discover import discover_topics

    if args.topics is not None and args.topics < 1:
        print(f"weeknotes: --topics must be at least 1, not {args.topics}", file=sys.stderr)
        return 2
    try:
        corpus = build_corpus(args.path, out=args.out, options=build_options(args))
        discovery = discover_topics(
            corpus,
            n_topics=args.topics,
            all_sections=args.all,
            taxonomy=args.taxonomy,
            gazetteer=args.gazetteer,
            out=args.out,
        )
    except (BuildLockedError, ValueError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        with _wide_pandas():
            columns = ["id", "label", "sections", "share", "coherence", "periods"]
            print(discovery.candidates[columns].to_string(index=False))
    _say(args, f"{discovery.summary()} -> {discovery.path}")
    return 0


def _report(args: argparse.Namespace) -> int:
    from .build import BuildLockedError, OutputError
    from .report import ReportError, build_report

    started = time.perf_counter()
    try:
        index = build_report(
            args.path,
            out=args.out,
            model=args.model,
            start=args.start,
            end=args.end,
            taxonomy=args.taxonomy,
            gazetteer=args.gazetteer,
            mapping=args.mapping,
            gold=args.gold,
            jobs=args.jobs,
            progress=not args.quiet,
            phrases=args.phrases,
            config=args.config,
            freq=args.freq,
            role=None if args.role == "any" else args.role,
            min_sections=args.min_sections,
            on_build=lambda corpus: _say(args, "\n".join(build_summary(corpus, path=args.path))),
        )
    except (ReportError, BuildLockedError, OutputError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 1
    _say(args, f"report written in {time.perf_counter() - started:.1f} s:")
    print(index)
    return 0


def _notebooks(args: argparse.Namespace) -> int:
    from .notebook import copy_notebooks

    written = copy_notebooks(args.dest, archive=args.archive, model=args.model)
    for path in written:
        print(path)
    return 0


class _wide_pandas:
    def __enter__(self) -> None:
        import pandas as pd

        self._context = pd.option_context("display.width", 200, "display.max_colwidth", 90)
        self._context.__enter__()

    def __exit__(self, *exc: object) -> None:
        self._context.__exit__(*exc)


if __name__ == "__main__":
    raise SystemExit(main())
