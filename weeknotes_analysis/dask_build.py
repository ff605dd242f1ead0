"""A build on Dask whose workers write the final parts; the driver holds only small things.

Three steps, each a round of tasks:

1. the engine's partitions (:meth:`DaskEngine.session`): each task processes its files into
   a scratch folder and returns only its posts, problems, file list and model label counts;
2. the driver chooses the parts (the span and each post's part, from the posts alone), each
   entity id's label and the archive's title subjects; one task per part reads that part's
   rows from the scratch files, finishes them as a cold build does
   (:func:`weeknotes_analysis.build.finish_rows`), keeps them in the scratch folder and
   returns its totals (posts about each topic, label counts) and its tables' arrow schemas;
3. the driver adds the totals up into the archive's post subjects and one schema per table;
   one task per part applies the subjects to its post_topics and writes its part files into
   the new version folder. The driver writes problems and the manifest: the one rename that
   commits (:func:`weeknotes_analysis.output.write_with`).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from . import __version__, output, schema
from .corpus import (
    Corpus,
    PostTables,
    StrictError,
    assemble,
    problem_of_row,
    problem_row,
    sort_tables,
)
from .engine import Processed
from .output import read_table
from .parts import (
    UNDATED,
    WHOLE,
    Labels,
    about_counts,
    concat,
    finish_rows,
    label_counts,
    majority,
    part_span,
    post_parts,
    post_subjects,
    relabel,
    sort_posts,
    title_subjects,
)
from .process import Settings
from .topics import subject_rows

if TYPE_CHECKING:
    from .build import _Files, _Plan
    from .dask_engine import DaskEngine
    from .topics import Taxonomy

# The tables each part task reads from the scratch files (posts come from the driver).
RAW_TABLES = ("sections", "links", "entities", "topics", "sentiment", "phrases")
FINISHED = "finished"


@dataclass(frozen=True)
class _Archive:
    """What every part task needs of the whole archive (sent once to every worker)."""

    settings: Settings
    headings: tuple[str, ...]
    posts: pd.DataFrame
    labels: dict[str, str]
    scratch: str


@dataclass(frozen=True)
class _Part:
    """One output part: its name, its posts and the scratch files that hold their rows."""

    key: str
    post_ids: tuple[str, ...]
    files: tuple[str, ...]


def build_on_dask(
    plan: _Plan, files: _Files, engine: DaskEngine, out: Path, *, flags: str
) -> Corpus:
    """Process every file of ``files.todo`` on the cluster and write the new version of the
    output folder ``out`` from the workers (``flags``: the settings' key the manifest keeps);
    the build's corpus, read from ``out`` on first use."""
    options = plan.options
    session = engine.session(
        plan.root,
        files.todo,
        settings=plan.settings(),
        jobs=plan.jobs,
        strict=options.strict,
        progress=options.progress,
    )
    with session as (client, run, _, reports):
        _finish_and_write(plan, files, (client, run, reports), out, flags=flags)
    stats = {"fresh": len(files.todo), "reused": 0}
    return Corpus.lazy(out, output.read_manifest(out), root=str(plan.root), stats=stats)


def _finish_and_write(
    plan: _Plan, files: _Files, session: tuple[Any, Path, list[Any]], out: Path, *, flags: str
) -> None:
    """Steps 2 and 3 (see the module's docstring), once the files are processed: ``session``
    is the client, the scratch folder and the partitions' reports."""
    from .dask_engine import run_tasks

    client, run, reports = session
    settings = plan.settings()
    posts, problems, post_of = _gathered(reports, files, strict=plan.options.strict)
    span = part_span(posts)
    part_of = post_parts(posts, span)
    labels = _majority_of([report["labels"] for report in reports])
    headings = tuple(plan.archive_settings.exclude_headings)
    archive = _Archive(settings, headings, posts, labels, str(run))
    (run / FINISHED).mkdir()
    shared = client.scatter(archive, broadcast=True, hash=False)
    jobs = _part_jobs(reports, part_of)
    totals = run_tasks(client, [(f"part {job.key}", _finish_part, (job, shared)) for job in jobs])
    post_about: dict[str, dict[str, int]] = {}
    counts: Labels = {}
    for total in totals:
        post_about.update(total["about"])
        counts.update(total["labels"])
    subjects = post_subjects(post_about, len(posts))
    state = {
        "weeknotes_version": __version__,
        "root": str(plan.root),
        "fingerprints": plan.fingerprints.__dict__,
        "hashes": {rel: files.hashes[rel] for rel in files.relatives},
        "post_of": post_of,
        "flags": flags,
        **{"span": span, "post_part": part_of, "post_about": post_about},
        "subjects": sorted(title_subjects(posts, settings)),
        **{"post_subjects": sorted(subjects), "labels": counts},
    }

    def fill(home: Path, previous: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        schemas, categories = _one_schemas(totals), _all_categories(totals)
        calls = [
            (
                f"part {job.key}",
                _write_part,
                (job, str(run), str(home), schemas, categories, subjects, settings.taxonomy),
            )
            for job in jobs
        ]
        return _table_entries(run_tasks(client, calls), totals, problems, home)

    output.write_with(fill, out, state=state)


def _gathered(
    reports: list[dict[str, Any]], files: _Files, *, strict: bool
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, str]]:
    """The archive's posts (in the contract's order), its problems and each file's post,
    from the partitions' reports; a strict build stops at the first problem."""
    found = concat([report["problems"] for report in reports])
    if strict and not found.empty:
        raise StrictError(problem_of_row(found.iloc[0]))
    posts = sort_posts(concat([report["posts"] for report in reports]))
    link_problems = assemble([PostTables(problems=[problem_row(p)]) for p in files.link_problems])
    empty = {name: schema.empty(name) for name in ("posts", "sections", "links")}
    problems = concat([link_problems["problems"], found])
    problems = sort_tables({**empty, "problems": problems})["problems"]
    return posts, problems, Processed([], {"posts": posts}).post_of()


def _majority_of(counts: list[dict[str, dict[str, int]]]) -> dict[str, str]:
    """Each entity id's most frequent model label across the partitions."""
    return majority({str(index): labels for index, labels in enumerate(counts)})


def _part_jobs(reports: list[dict[str, Any]], part_of: dict[str, str]) -> list[_Part]:
    """One job per output part: its posts and the scratch files that hold them."""
    post_ids: dict[str, list[str]] = {}
    files: dict[str, list[str]] = {}
    for report in reports:
        for post_id in report["posts"]["post_id"]:
            key = part_of.get(post_id, UNDATED)
            post_ids.setdefault(key, []).append(str(post_id))
            if report["file"] not in files.setdefault(key, []):
                files[key].append(report["file"])
    if not post_ids:
        # No posts (every file a problem): one task makes the empty tables as a cold build
        # does, from the scratch files' columns.
        return [_Part(WHOLE, (), tuple(report["file"] for report in reports))]
    return [_Part(key, tuple(post_ids[key]), tuple(files[key])) for key in sorted(post_ids)]


def _finish_part(job: _Part, archive: _Archive) -> dict[str, Any]:
    """On a worker: read a part's rows from the scratch files, finish them and keep them
    there; return the part's totals and its tables' schemas and columns."""
    scratch = Path(archive.scratch)
    # (No posts: the files hold no rows but problems, read as they are.)
    filters = [("post_id", "in", list(job.post_ids))] if job.post_ids else None
    rows = {
        name: concat(
            [
                pd.read_parquet(scratch / name / file, filters=filters)
                if name == "entities"
                else read_table(scratch / name / file, name, filters=filters)
                for file in job.files
            ]
        )
        for name in RAW_TABLES
    }
    posts = archive.posts
    rows["posts"] = posts[posts["post_id"].isin(job.post_ids)].reset_index(drop=True)
    rows["problems"] = schema.empty("problems")
    frames = finish_rows(rows, posts, settings=archive.settings, headings=archive.headings)
    del frames["problems"]
    frames["entities"] = relabel(frames["entities"], archive.labels, archive.settings.gazetteer)
    part_of = dict.fromkeys(job.post_ids, job.key)
    with (scratch / FINISHED / f"{job.key}.pickle").open("wb") as stream:
        pickle.dump(frames, stream, protocol=pickle.HIGHEST_PROTOCOL)
    return {
        "key": job.key,
        "about": about_counts(frames["post_topics"], part_of),
        "labels": label_counts(frames["entities"], part_of),
        "schemas": {
            name: pa.Schema.from_pandas(frame, preserve_index=False)
            for name, frame in frames.items()
            if not frame.empty
        },
        "empty": {name: frame.head(0) for name, frame in frames.items()},
        "categories": {
            name: {
                column: list(frame[column].cat.categories)
                for column, dtype in frame.dtypes.items()
                if isinstance(dtype, pd.CategoricalDtype)
            }
            for name, frame in frames.items()
        },
    }


Categories = dict[str, dict[str, list[Any]]]


def _all_categories(totals: list[dict[str, Any]]) -> Categories:
    """Each category column's values across the parts, sorted: the categories a cold build
    gives the whole table, which every part file of it carries."""
    union: dict[str, dict[str, set[Any]]] = {}
    for total in totals:
        for name, columns in total["categories"].items():
            for column, values in columns.items():
                union.setdefault(name, {}).setdefault(column, set()).update(values)
    return {
        name: {column: sorted(values) for column, values in columns.items()}
        for name, columns in union.items()
    }


def _one_schemas(totals: list[dict[str, Any]]) -> dict[str, pa.Schema]:
    """One arrow schema per table, for all its parts (see :func:`output.one_schema`)."""
    names = {name for total in totals for name in total["schemas"]}
    return {
        name: output.one_schema(
            [total["schemas"][name] for total in totals if name in total["schemas"]], []
        )
        for name in names
    }


def _write_part(
    job: _Part,
    scratch: str,
    home: str,
    schemas: dict[str, pa.Schema],
    categories: Categories,
    subjects: set[str],
    taxonomy: Taxonomy,
) -> dict[str, dict[str, Any]]:
    """On a worker: write a finished part's tables into the version folder ``home`` (its
    post_topics with the archive's post subjects applied); each table's manifest entry."""
    with (Path(scratch) / FINISHED / f"{job.key}.pickle").open("rb") as stream:
        frames: dict[str, pd.DataFrame] = pickle.load(stream)
    frames["post_topics"] = subject_rows(
        frames["post_topics"], frames["posts"], subjects, taxonomy=taxonomy
    )
    entries = {}
    for name, frame in frames.items():
        if frame.empty:
            continue  # as a cold build's parts: a part holds a table's rows, if it has any
        for column, values in categories.get(name, {}).items():
            frame[column] = frame[column].cat.set_categories(values)
        folder = Path(home) / name
        folder.mkdir(exist_ok=True)
        entries[name] = output.write_part(folder, job.key, frame, schemas[name])
    return entries


def _table_entries(
    written: list[dict[str, dict[str, Any]]],
    totals: list[dict[str, Any]],
    problems: pd.DataFrame,
    home: Path,
) -> dict[str, dict[str, Any]]:
    """Every table's part entries in the manifest; a table without rows gets one empty part
    (as a cold build writes it), and problems is written here, whole."""
    entries: dict[str, dict[str, Any]] = {}
    for name in schema.TABLES:
        parts = {
            key: part[name]
            for key, part in zip((t["key"] for t in totals), written, strict=True)
            if name in part
        }
        if name == "problems" or not parts:
            frame = problems if name == "problems" else totals[0]["empty"][name]
            folder = home / name
            folder.mkdir(exist_ok=True)
            one = output.one_schema([pa.Schema.from_pandas(frame, preserve_index=False)], [])
            parts = {WHOLE: output.write_part(folder, WHOLE, frame, one)}
        entries[name] = dict(sorted(parts.items()))
    return entries
