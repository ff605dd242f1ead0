"""Corpus: build every table from a folder of posts, write them as parquet, read them back."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import output, schema
from .links import describe
from .markdown import count_words, parse_markdown
from .sources import MAX_FILE_SIZE, Post, Problem, find_posts, read_post

if TYPE_CHECKING:
    from .settings import ArchiveSettings
    from .topics import Taxonomy

SITE_KEYS = ("blog", "site", "baseurl", "base_url", "siteurl", "url")


class _Lazy:
    """The value of a table not read yet."""

    def __repr__(self) -> str:
        return "<not read yet>"

    def __reduce__(self) -> str:
        return "LAZY"  # pickled by name: a lazy corpus unpickles lazy


LAZY: Any = _Lazy()


class StrictError(Exception):
    """Raised by a strict build at the first problem; the message names the file and line."""

    def __init__(self, problem: Problem) -> None:
        where = f"{problem.path}:{problem.line}" if problem.line else problem.path
        super().__init__(f"{where}: {problem.severity} {problem.code}: {problem.message}")
        self.problem = problem


@dataclass
class PostTables:
    """Rows of one post (or of one unreadable file) before they join the corpus tables."""

    posts: list[dict[str, Any]] = field(default_factory=list)
    sections: list[dict[str, Any]] = field(default_factory=list)
    links: list[dict[str, Any]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Corpus:
    """All tables of one archive. Each table's columns are listed in ``schema.TABLES`` (the
    contract, checked by the tests) and in the README.

    Attributes:
        posts: one row per post.
        sections: one row per section of a post (the text under one heading).
        links: one row per link of a section (its footnotes included).
        problems: one row per file skipped or degraded, with the reason.
        entities: one row per entity mention of a section.
        topics: one row per (section, topic) with evidence; ``role`` says whether the section
            is ``about`` the topic or only mentions it.
        post_topics: one row per (post, topic): the post's ``role`` and how many of its
            sections are about the topic.
        sentiment: one row per section: the author's tone.
        phrases: one row per key-phrase mention of a section.
        root: the archive folder the tables were built from.
        settings: the archive's settings (``weeknotes.toml``), when read.
        stats: what the build did: model, posts parsed fresh and reused, seconds.
        options: the :class:`~weeknotes_analysis.build.BuildOptions` of the build that made
            the corpus (None for a corpus read from files or put together by hand).

    :attr:`taxonomy` is the taxonomy its topics were tagged with, so that charts colour and
    order topics as the build named them.
    """

    posts: pd.DataFrame
    sections: pd.DataFrame
    links: pd.DataFrame
    problems: pd.DataFrame
    entities: pd.DataFrame = field(default_factory=lambda: schema.empty("entities"))
    topics: pd.DataFrame = field(default_factory=lambda: schema.empty("topics"))
    post_topics: pd.DataFrame = field(default_factory=lambda: schema.empty("post_topics"))
    sentiment: pd.DataFrame = field(default_factory=lambda: schema.empty("sentiment"))
    phrases: pd.DataFrame = field(default_factory=lambda: schema.empty("phrases"))
    root: str | None = None
    settings: ArchiveSettings | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    loader: Callable[[str], pd.DataFrame] | None = field(default=None, repr=False, compare=False)
    options: Any = field(default=None, repr=False, compare=False)

    @property
    def taxonomy(self) -> Taxonomy:
        """The taxonomy the topics were tagged with: the build's ``taxonomy`` option, else
        the archive settings' taxonomy, else the bundled one (read once, on first use)."""
        cached = self.__dict__.get("_taxonomy")
        if cached is None:
            from .topics import load_taxonomy

            chosen = getattr(self.options, "taxonomy", None)
            if chosen is None and self.settings is not None:
                chosen = self.settings.taxonomy
            cached = load_taxonomy(chosen)
            self.__dict__["_taxonomy"] = cached
        return cached

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if value is LAZY:
            # A lazy corpus (see :meth:`read_parquet`): the table is read on first use.
            value = object.__getattribute__(self, "loader")(name)
            object.__setattr__(self, name, value)
        return value

    def copy(self, **fields: Any) -> Corpus:
        """A corpus with copies of the tables read so far (the others still read on first
        use), ``fields`` replaced."""
        tables = {}
        for name in schema.TABLES:
            value = object.__getattribute__(self, name)
            tables[name] = value if value is LAZY else value.copy()
        return replace(self, **tables, **fields)

    def loaded(self) -> list[str]:
        """The tables read so far (all of them, unless the corpus is lazy)."""
        return [name for name in schema.TABLES if object.__getattribute__(self, name) is not LAZY]

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table by name, in the contract's order."""
        return {name: getattr(self, name) for name in schema.TABLES}

    def summary(self) -> str:
        """One line: posts, sections, links, entities, topics and problems."""
        errors = int((self.problems["severity"] == "error").sum())
        about = int((self.topics["role"] == "about").sum()) if "role" in self.topics else 0
        return (
            f"{len(self.posts)} posts, {len(self.sections)} sections, {len(self.links)} links, "
            f"{len(self.entities)} entities, {len(self.topics)} topic tags ({about} about), "
            f"{len(self.phrases)} phrases, "
            f"{len(self.problems)} problems ({errors} errors)"
        )

    def to_parquet(self, folder: str | os.PathLike[str]) -> Path:
        """Write ``<table>.parquet`` for every table into ``folder`` as one new version:
        readers see all the previous tables or all the new ones (see
        :mod:`weeknotes_analysis.output`). Raises :class:`~weeknotes_analysis.output.OutputError`
        when the folder cannot be written, and ``BuildLockedError`` while a build writes there."""
        guard = output.lock(folder)
        output.acquire(guard, folder)
        try:
            return output.write_version(self.tables(), folder)
        finally:
            guard.release()

    @classmethod
    def read_parquet(cls, folder: str | os.PathLike[str], *, lazy: bool = False) -> Corpus:
        """Read the tables written by :meth:`to_parquet` or a build (lists come back as lists),
        all of one version even while a build writes the next one.

        With ``lazy``, each table is read on first use (of the version current now: a lazy
        corpus outlives one newer build, not two)."""
        if lazy:
            manifest, _ = output.read_version(folder, ())
            return cls.lazy(Path(folder), manifest)
        _, tables = output.read_version(folder)
        return cls(**tables)

    @classmethod
    def lazy(cls, folder: Path, manifest: dict[str, Any] | None, **fields: Any) -> Corpus:
        """A corpus of the folder's version named by ``manifest`` whose tables are read on
        first use."""
        reader = _TableReader(folder, (manifest or {}).get("tables") or {})
        return cls(**dict.fromkeys(schema.TABLES, LAZY), loader=reader, **fields)

    def dask_table(self, name: str) -> Any:
        """The table ``name`` as a Dask DataFrame read from the output folder's parquet parts
        (for tables too large for memory); only for a corpus read from a folder."""
        import dask.dataframe as dd

        loader = object.__getattribute__(self, "loader")
        if not isinstance(loader, _TableReader):
            raise ValueError("dask_table needs a corpus read from an output folder (lazy)")
        return dd.read_parquet(str(loader.path(name)))


class _TableReader:
    """Reads the tables of one version of an output folder, one at a time."""

    def __init__(self, folder: Path, files: dict[str, str]) -> None:
        self.folder = folder
        self.files = files

    def path(self, name: str) -> Path:
        return self.folder / self.files.get(name, f"{name}.parquet")

    def __call__(self, name: str) -> pd.DataFrame:
        path = self.path(name)
        if not path.exists():
            raise FileNotFoundError(f"{path}: missing; run `weeknotes build` into {self.folder}")
        return output.read_table(path, name)


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` aside, then rename it to ``path``: readers never see half a file."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    frame.to_parquet(partial, index=False)
    os.replace(partial, path)


def iso_week(stamp: pd.Timestamp | None) -> tuple[str | None, pd.Timestamp | None]:
    """ISO week label and that week's Monday (00:00 UTC) for ``stamp``."""
    if stamp is None or pd.isna(stamp):
        return None, None
    year, week, weekday = stamp.isocalendar()
    monday = (stamp.tz_convert("UTC").normalize() - pd.Timedelta(days=weekday - 1)).tz_convert(
        "UTC"
    )
    return f"{year}-W{week:02d}", monday


def site_hosts(post: Post) -> set[str]:
    """Hosts the post's own site lives on, from front-matter keys like ``blog`` or ``baseurl``."""
    hosts = set()
    for key in SITE_KEYS:
        value = post.metadata.get(key)
        if isinstance(value, str) and value.strip():
            text = value.strip()
            host = describe(text if "//" in text else f"//{text}")["host"]
            if isinstance(host, str) and "." in host:
                hosts.add(host)
    return hosts


def post_tables(post: Post, problems: Iterable[Problem] = ()) -> PostTables:
    """Parse one post's body into rows for posts, sections, links and problems."""
    parsed = parse_markdown(post.body, first_line=post.body_line)
    defects = [Problem(post.path, "warning", d.code, d.message, d.line) for d in parsed.defects]
    rows = PostTables(problems=[problem_row(problem) for problem in [*problems, *defects]])
    week, _ = iso_week(post.date)
    rows.sections.extend(_section_row(post, section, week) for section in parsed.sections)
    hosts = site_hosts(post)
    rows.links.extend(_link_row(post, link, hosts) for link in parsed.links)
    word_count = sum(row["word_count"] for row in rows.sections)
    rows.posts.append(_post_row(post, word_count, len(rows.sections), len(rows.links)))
    return rows


def _section_row(post: Post, section: Any, week: str | None) -> dict[str, Any]:
    return {
        "section_id": f"{post.post_id}#{section.position}",
        "post_id": post.post_id,
        "position": section.position,
        "heading": section.heading,
        "level": section.level,
        "text": section.text,
        "footnotes": "\n\n".join(section.footnotes),
        "word_count": count_words(section.text),
        "date": post.date,
        "week": week,
        "line": section.line,
    }


def _link_row(post: Post, link: Any, hosts: set[str]) -> dict[str, Any]:
    return {
        "post_id": post.post_id,
        "section_id": f"{post.post_id}#{link.position}",
        "url": link.url,
        "text": link.text,
        **describe(link.url, site_hosts=hosts),
        "kind": link.kind,
        "in_footnote": link.in_footnote,
        "line": link.line,
    }


def _post_row(post: Post, word_count: int, sections: int, links: int) -> dict[str, Any]:
    week, week_start = iso_week(post.date)
    return {
        "post_id": post.post_id,
        "path": post.path,
        "title": post.title,
        "date": post.date,
        "week": week,
        "week_start": week_start,
        "slug": post.slug,
        "description": post.description,
        "author": post.author,
        "categories": post.categories,
        "keywords": post.keywords,
        "word_count": word_count,
        "section_count": sections,
        "link_count": links,
        "format": post.format,
        "date_source": post.date_source,
    }


def problem_row(problem: Problem) -> dict[str, Any]:
    """A Problem as a row of the problems table."""
    return {
        "path": problem.path,
        "severity": problem.severity,
        "code": problem.code,
        "message": problem.message,
        "line": problem.line,
    }


def read_archive(
    root: str | os.PathLike[str],
    *,
    strict: bool = False,
    progress: bool = False,
    max_file_size: int = MAX_FILE_SIZE,
) -> list[PostTables]:
    """Read and parse every post under ``root``: one PostTables per file or skipped link
    (a file over ``max_file_size`` bytes is a ``file-too-large`` problem, never read)."""
    base = Path(root)
    paths, link_problems = find_posts(base)
    results = [PostTables(problems=[problem_row(problem)]) for problem in link_problems]
    if strict and link_problems:
        raise StrictError(link_problems[0])
    for path in progress_bar(paths, enabled=progress, total=len(paths), desc="reading"):
        post, problems = read_post(base, path, max_file_size=max_file_size)
        if strict and problems:
            raise StrictError(problems[0])
        if post is None:
            results.append(PostTables(problems=[problem_row(problem) for problem in problems]))
        else:
            results.append(post_tables(post, problems))
    return results


LOADER_TABLES = ("posts", "sections", "links", "problems")


def row_tables(results: Iterable[PostTables]) -> dict[str, pd.DataFrame]:
    """Concatenate per-post rows into the loader's contract tables, in the order given."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in LOADER_TABLES}
    for result in results:
        for name, table_rows in rows.items():
            table_rows.extend(getattr(result, name))
    frames = {}
    for name, table_rows in rows.items():
        frame = pd.DataFrame(table_rows, columns=None if table_rows else schema.column_names(name))
        frames[name] = schema.conform(frame, name)
    return frames


def assemble(results: Iterable[PostTables]) -> dict[str, pd.DataFrame]:
    """Concatenate per-post rows into the contract's tables, sorted by date then position."""
    return sort_tables(row_tables(results))


def problem_of_row(row: pd.Series) -> Problem:
    """The :class:`Problem` of a problems-table row (the inverse of :func:`problem_row`)."""
    line = None if pd.isna(row["line"]) else int(row["line"])
    return Problem(row["path"], row["severity"], row["code"], row["message"], line)


def sort_tables(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Posts by date then id; sections and links in their posts' order (stable within a post);
    problems by path and line. Returns the loader tables conformed to their contracts."""
    posts = frames["posts"].sort_values(["date", "post_id"], na_position="last", kind="stable")
    rank = {post_id: index for index, post_id in enumerate(posts["post_id"])}
    result = {"posts": posts.reset_index(drop=True)}
    for name in ("sections", "links"):
        frame = frames[name]
        result[name] = (
            frame.assign(_rank=frame["post_id"].map(rank))
            .sort_values("_rank", kind="stable")
            .drop(columns="_rank")
            .reset_index(drop=True)
        )
    result["problems"] = (
        frames["problems"].sort_values(["path", "line"], kind="stable").reset_index(drop=True)
    )
    return {name: schema.conform(frame, name) for name, frame in result.items()}


def progress_bar(
    items: Iterable[Any], *, enabled: bool, total: int, desc: str, unit: str = "post"
) -> Iterable[Any]:
    """``items`` with a progress bar on a terminal for long runs (50 or more), else as they are."""
    if not enabled or not sys.stderr.isatty() or total < 50:
        return items
    from tqdm import tqdm

    return tqdm(items, total=total, desc=desc, unit=unit, leave=False)


def check_archive(
    path: str | os.PathLike[str], *, max_file_size: int = MAX_FILE_SIZE
) -> pd.DataFrame:
    """Read the archive without NLP and return its problems table."""
    return assemble(read_archive(path, max_file_size=max_file_size))["problems"]
