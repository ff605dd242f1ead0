"""The `weeknotes` command: a thin layer that parses arguments and calls the Python API."""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

DEFAULT_ARCHIVE = "data/sample"
DEFAULT_OUT = "data/processed"
DEFAULT_REPORT = "reports"
DEFAULT_MAX_FILE_SIZE = "20MB"
SIZE_UNITS = {"": 1, "B": 1, "K": 10**3, "KB": 10**3, "M": 10**6, "MB": 10**6, "G": 10**9}
SIZE_UNITS["GB"] = SIZE_UNITS["G"]


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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every `weeknotes` sub-command."""
    parser = argparse.ArgumentParser(
        prog="weeknotes",
        description="Analyse an archive of weekly tech-news notes (Hugo, Jekyll or Pelican).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    check = commands.add_parser(
        "check",
        help="list the archive's problems; exit 1 on any error (API: check_archive)",
        description="Read the archive (no NLP) and list every file skipped or degraded.",
    )
    check.add_argument("path", nargs="?", default=DEFAULT_ARCHIVE, help="archive folder")
    _add_size_option(check)

    evaluate = commands.add_parser(
        "evaluate",
        help="score topic tags against the author's keywords (API: evaluate_topics)",
        description="Recall of the topics mapped from each post's keywords among the topics found.",
    )
    _add_build_options(evaluate)
    evaluate.add_argument(
        "--mapping", default=None, help="YAML mapping keyword -> [topic ids] (default: bundled)"
    )

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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `weeknotes` console script."""
    args = build_parser().parse_args(argv)
    # SIGTERM stops a build as Ctrl-C does (only the main thread may set a handler).
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _stop) if main_thread else None
    try:
        handlers = {"build": _build, "check": _check, "evaluate": _evaluate, "report": _report}
        handler = handlers[args.command]
        return handler(args)
    except FileNotFoundError as exc:
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
    try:
        corpus = build_corpus(
            args.path,
            strict=args.strict,
            progress=not args.quiet,
            out=args.out,
            cache=not args.no_cache,
            model=args.model,
            jobs=args.jobs,
            taxonomy=args.taxonomy,
            gazetteer=args.gazetteer,
            phrases=args.phrases,
            engine=args.engine,
            scheduler=args.scheduler,
            workers=args.workers,
            max_file_size=args.max_file_size,
        )
    except (StrictError, BuildLockedError, DaskEngineError, OutputError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 1
    _say(args, f"{corpus.summary()} -> {os.fspath(args.out)}")
    return 0


def _check(args: argparse.Namespace) -> int:
    from .corpus import check_archive

    problems = check_archive(args.path, max_file_size=args.max_file_size)
    if problems.empty:
        print(f"{args.path}: no problems")
        return 0
    with _wide_pandas():
        print(problems.to_string(index=False))
    errors = int((problems["severity"] == "error").sum())
    print(f"{len(problems)} problems, {errors} errors")
    return 1 if errors else 0


def _evaluate(args: argparse.Namespace) -> int:
    from .build import build_corpus
    from .evaluate import evaluate_topics, format_evaluation

    corpus = build_corpus(
        args.path,
        progress=not args.quiet,
        model=args.model,
        jobs=args.jobs,
        taxonomy=args.taxonomy,
        gazetteer=args.gazetteer,
        phrases="off",
    )
    result = evaluate_topics(corpus, mapping=Path(args.mapping) if args.mapping else None)
    print(format_evaluation(result))
    return 0


def _report(args: argparse.Namespace) -> int:
    from .build import BuildLockedError, OutputError
    from .report import ReportError, build_report

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
            jobs=args.jobs,
            progress=not args.quiet,
        )
    except (ReportError, BuildLockedError, OutputError) as exc:
        print(f"weeknotes: {exc}", file=sys.stderr)
        return 1
    print(index)
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
