"""The unit of work of every engine: read, parse and analyse a run of files in one pass.

A run of files becomes its rows in every table. The Markdown gives posts, sections, links and
problems. One spaCy pass over the section texts gives the raw entities and, from the same docs,
the key phrases; VADER gives sentiment; the taxonomy gives topics. The local engine runs the
runs in forked worker processes that inherit the loaded pipeline, and the Dask engine runs them
on its workers, so nothing but merging is left to the main process. Only label consolidation
(one label per entity id, across the archive) needs every post, and stays with the build.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import schema
from .corpus import LOADER_TABLES, PostTables, post_tables, problem_row, row_tables
from .nlp import (
    NER_ONLY_EXCLUDE,
    Gazetteer,
    accepted_entities,
    build_pipeline,
    dictionary_words,
    entity_frame,
    raw_entities,
    section_texts,
    text_links,
)
from .sources import MAX_FILE_SIZE, PostError, Problem, load_post, read_bytes
from .topics import Taxonomy

ROW_TABLES = LOADER_TABLES
LAYERS = ("topics", "sentiment", "phrases")
PHRASE_MODES = ("rules", "parser", "off")
# The components of the model that the parser's noun chunks need (the senter is redundant).
PARSER_EXCLUDE = ["senter"]


def file_hash(data: bytes) -> str:
    """The content hash that keys a file's cached rows."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class Settings:
    """Everything that shapes a post's analysed rows (it travels to every worker).

    Attributes:
        model: the resolved spaCy package name, or ``none`` for rules only.
        gazetteer: the loaded gazetteer.
        taxonomy: the loaded taxonomy.
        phrases: ``rules`` (runs of content words, no parser), ``parser`` (the model's noun
            chunks; rules when there is no model) or ``off``.
        max_file_size: a file larger than this many bytes is not read (``file-too-large``).
    """

    model: str
    gazetteer: Gazetteer
    taxonomy: Taxonomy
    phrases: str = "rules"
    max_file_size: int = MAX_FILE_SIZE

    @property
    def parsed(self) -> bool:
        """Whether the pipeline runs the model's tagger and parser (phrases from noun chunks)."""
        return self.phrases == "parser" and self.model != "none"

    def pipeline(self) -> Any:
        """The one spaCy pipeline of the build: the gazetteer ruler and the model's NER, plus
        its tagger, parser and lemmatizer when key phrases come from noun chunks."""
        exclude = PARSER_EXCLUDE if self.parsed else NER_ONLY_EXCLUDE
        return build_pipeline(self.model, gazetteer=self.gazetteer, exclude=exclude)


def warm_up(settings: Settings) -> Any:
    """Load the pipeline and build the sentiment and topic rules (and read the dictionary
    words of the link rule) once, so that worker processes forked afterwards inherit them
    instead of each building its own."""
    from .sentiment import _analyzer
    from .topics import _tagging_rules

    _analyzer()
    _tagging_rules(settings.taxonomy, settings.gazetteer)
    dictionary_words()
    return settings.pipeline()


def _entities_only(doc: Any) -> tuple[list[Any], list[Any], bool]:
    return raw_entities(doc), [], False


def analyse_sections(
    sections: pd.DataFrame, nlp: Any, settings: Settings, links: pd.DataFrame | None = None
) -> dict[str, pd.DataFrame]:
    """Raw entities (labels not yet consolidated), topics, sentiment and phrases of
    ``sections``, from one pass of ``nlp`` over their texts; ``links`` (their links table)
    adds the projects that link texts name."""
    from .phrases import phrase_frame, text_parts
    from .sentiment import sentiment
    from .topics import tag_sections

    items, texts, contexts = section_texts(sections)
    extract = _entities_only if settings.phrases == "off" else text_parts
    parts = [extract(doc) for doc in nlp.pipe(texts, batch_size=64)]
    found = accepted_entities(
        items,
        texts,
        contexts,
        [raw for raw, _, _ in parts],
        gazetteer=settings.gazetteer,
        posts=sections["post_id"].tolist(),
        links=text_links(sections, items, links),
    )
    entities = entity_frame(sections, items, found)
    return {
        "entities": entities,
        "topics": tag_sections(
            sections, entities, taxonomy=settings.taxonomy, gazetteer=settings.gazetteer
        ),
        "sentiment": sentiment(sections),
        "phrases": (
            schema.empty("phrases")
            if settings.phrases == "off"
            else phrase_frame(sections, items, texts, parts, found)
        ),
    }


def parse_file(
    root: str, relative: str, *, max_file_size: int = MAX_FILE_SIZE
) -> tuple[str, str, PostTables]:
    """``(relative, content hash, rows)`` of one file; an unreadable file is a problem row."""
    rel = Path(relative)
    try:
        data = read_bytes(Path(root) / rel, max_file_size=max_file_size)
    except PostError as exc:
        problem = Problem(rel.as_posix(), "error", exc.code, str(exc))
        return relative, "", PostTables(problems=[problem_row(problem)])
    except OSError as exc:
        problem = Problem(rel.as_posix(), "error", "unreadable", f"cannot read: {exc.strerror}")
        return relative, "", PostTables(problems=[problem_row(problem)])
    post, problems = load_post(data, rel)
    if post is None:
        return relative, file_hash(data), PostTables(problems=[problem_row(p) for p in problems])
    return relative, file_hash(data), post_tables(post, problems)


def process_files(
    root: str,
    relatives: Sequence[str],
    settings: Settings,
    pipeline: Callable[[], Any],
    *,
    strict: bool = False,
) -> dict[str, pd.DataFrame]:
    """Every table's rows for ``relatives`` (files under ``root``), plus ``index`` (path and
    content hash of each file). ``pipeline`` is called for the spaCy pipeline only when there
    are sections to read. With ``strict``, a run with a problem stops before the analysis and
    returns its loader tables (the caller raises at the first problem)."""
    parsed = [
        parse_file(root, relative, max_file_size=settings.max_file_size) for relative in relatives
    ]
    tables = row_tables([rows for _, _, rows in parsed])
    tables["index"] = pd.DataFrame(
        {"path": [rel for rel, _, _ in parsed], "hash": [digest for _, digest, _ in parsed]},
        dtype="string",
    )
    if strict and not tables["problems"].empty:
        return tables
    if tables["sections"].empty:
        tables["entities"] = pd.DataFrame(columns=schema.column_names("entities"))
        tables.update({name: schema.empty(name) for name in LAYERS})
        return tables
    tables.update(analyse_sections(tables["sections"], pipeline(), settings, tables["links"]))
    return tables


@dataclass(frozen=True)
class Partition:
    """A contiguous run of files processed by one task."""

    index: int
    relatives: tuple[str, ...]
    size: int

    @property
    def file_name(self) -> str:
        """The partition's file in every table's folder of a scratch dataset."""
        return f"part-{self.index:05d}.parquet"

    def describe(self) -> str:
        """``partition 3 (41 files, 2016-01-05-….md … 2016-10-11-….md)``."""
        files = "file" if len(self.relatives) == 1 else "files"
        span = self.relatives[0]
        if len(self.relatives) > 1:
            span += f" … {self.relatives[-1]}"
        return f"partition {self.index} ({len(self.relatives)} {files}, {span})"


def plan_partitions(
    root: Path, relatives: Sequence[str], *, partition_bytes: int, at_least: int = 1
) -> list[Partition]:
    """Split ``relatives`` (kept in order) into runs of at most about ``partition_bytes`` bytes.

    The runs are of even size, and there are ``at_least`` of them when there are enough
    files, so that a small archive still keeps every worker busy. A file larger than a run
    gets one of its own.
    """
    sizes = [_size(root / relative) for relative in relatives]
    total = sum(sizes) or 1
    count = max(at_least, math.ceil(total / max(1, partition_bytes)), 1)
    runs: dict[int, list[tuple[str, int]]] = {}
    before = 0
    for relative, size in zip(relatives, sizes, strict=True):
        # A file joins the run its middle byte falls in: even runs, cut between files.
        runs.setdefault(min(count - 1, (before + size // 2) * count // total), []).append(
            (relative, size)
        )
        before += size
    return [
        Partition(index, tuple(rel for rel, _ in run), sum(size for _, size in run))
        for index, run in enumerate(runs[key] for key in sorted(runs))
    ]


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def concat_tables(batches: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """The batches' tables joined, table by table, in batch order."""
    if not batches:
        return {}
    joined = {}
    for name in batches[0]:
        frames = [batch[name] for batch in batches if name in batch]
        # Empty parts lack the rows' extra columns (the contract's are always there).
        keep = [frame for frame in frames if not frame.empty] or frames[:1]
        joined[name] = pd.concat(keep, ignore_index=True) if len(keep) > 1 else keep[0]
    return joined
