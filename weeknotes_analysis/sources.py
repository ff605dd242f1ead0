"""Find post files under a folder and read their front matter into Post records and problems."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import stat
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from frontmatter.default_handlers import SafeLoader, TOMLHandler, YAMLHandler

# Markdown, in every extension Jekyll reads as Markdown by default.
POST_SUFFIXES = (".md", ".markdown", ".mdown", ".mkdown", ".mkdn", ".mkd")
# Post formats that generators read but this tool does not: listed as problems, never silent.
OTHER_FORMATS = {
    ".html": "HTML",
    ".htm": "HTML",
    ".rst": "reStructuredText",
    ".textile": "Textile",
    ".adoc": "AsciiDoc",
    ".asciidoc": "AsciiDoc",
    ".org": "Org mode",
}
KEYWORD_KEYS = ("keywords", "keyword", "tags")
# Where a post's date is, in the order Hugo looks (its default front matter configuration):
# `date`, else the date it was or will be published (a Jekyll `published: true` is no date).
DATE_KEYS = ("date", "publishdate", "pubdate", "published")
MAX_FRONT_MATTER_CHARS = 200_000
# Aliases (``*name``) let a few lines of YAML stand for billions of values ("billion laughs");
# a front matter may expand to this many characters and values, as much as one with no alias.
MAX_FRONT_MATTER_EXPANSION = 1_000_000
# Deeper YAML overflows libyaml's C stack (a crash, not an exception); no post nests this far.
MAX_FRONT_MATTER_DEPTH = 100
# A post is read whole into memory and parsed; a file larger than this is skipped unread (a
# long weekly post is well under 1 MB, so 20 MB only refuses what is not a post).
MAX_FILE_SIZE = 20_000_000

_YAML = YAMLHandler()
_TOML = TOMLHandler()
_PELICAN_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]{0,40}):(?:\s+(.*?))?\s*$")
_FILENAME_WEEK = re.compile(r"(?<!\d)(\d{4})-W?(\d{2})(?!\d)")
_FILENAME_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
# pandas reads "now", "today" and a bare time as today's date: not a publication date.
_NOT_A_DATE = re.compile(r"\D*|\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?\s*([ap]m)?", re.IGNORECASE)
_TOML_ERROR_LINE = re.compile(r"\s*\(at line (\d+), column \d+\)|\s*\(at end of document\)")
_UTF16_OR_32_BOM = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")


@dataclass(frozen=True)
class Problem:
    """A file that was skipped (``error``) or loaded with a defect (``warning``)."""

    path: str
    severity: str
    code: str
    message: str
    line: int | None = None


@dataclass
class Post:
    """One post as read from disk: normalised front matter plus its Markdown body."""

    post_id: str
    path: str
    format: str
    body: str
    body_line: int
    title: str | None = None
    date: pd.Timestamp | None = None
    date_source: str = "missing"
    slug: str | None = None
    description: str | None = None
    author: str | None = None
    categories: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    metadata: dict[str, Any] = field(default_factory=dict)


class PostError(Exception):
    """A file cannot be read as a post; carries the problem code and line."""

    severity = "error"

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


class Unpublished(PostError):
    """A post its front matter keeps unpublished (a draft): skipped, as its generator skips
    it, with a warning."""

    severity = "warning"


def post_id_for(relative: Path) -> str:
    """``2017-45.md`` -> ``2017-45``; ``2018-01/index.md`` -> ``2018-01``;
    ``_posts/2024-01-07-week-1.md`` -> ``2024-01-07-week-1`` (Jekyll's posts folder is no part
    of a post's name, as it is no part of its address)."""
    stem = relative.with_suffix("")
    if stem.name == "index" and len(stem.parts) > 1:
        stem = stem.parent
    parts = [part for part in stem.parts if part != JEKYLL_POSTS] or [stem.name]
    return "/".join(parts)


# A site's own folder, not an archive of posts: a Jekyll site keeps its posts in ``_posts``
# folders, a Hugo site in ``content`` (beside its configuration), a Pelican site in ``content``
# (beside ``pelicanconf.py``; ``content/pages`` are pages). Generated output, dependencies,
# themes and templates are never read.
JEKYLL_POSTS = "_posts"
HUGO_CONTENT = "content"
HUGO_CONFIGS = ("hugo.toml", "hugo.yaml", "hugo.json", "config.toml", "config.yaml", "config.json")
SITE_TOOL_FOLDERS = frozenset(
    {"_site", "_layouts", "_includes", "_sass", "_data", "vendor", "node_modules", "themes"}
)


@dataclass(frozen=True)
class Site:
    """Where a site's posts are: its generator and its post folders (relative to the root)."""

    generator: str
    folders: tuple[Path, ...]
    skip: tuple[Path, ...] = ()

    def holds(self, relative: Path) -> bool:
        """Whether a file (relative to the root) is one of the site's posts."""
        inside = any(relative.is_relative_to(folder) for folder in self.folders)
        return inside and not any(relative.is_relative_to(folder) for folder in self.skip)


def find_site(root: str | os.PathLike[str]) -> Site | None:
    """The site whose root ``root`` is, or None for a plain folder of posts (read whole)."""
    base = Path(root)
    jekyll = []
    for folder, dirnames, _ in os.walk(base):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in SITE_TOOL_FOLDERS]
        if JEKYLL_POSTS in dirnames:
            jekyll.append(Path(folder).relative_to(base) / JEKYLL_POSTS)
            dirnames.remove(JEKYLL_POSTS)  # a _posts folder holds posts, not another site
    if jekyll:
        return Site("Jekyll", tuple(jekyll))
    if (base / "content").is_dir() and (base / "pelicanconf.py").is_file():
        return Site("Pelican", (Path("content"),), (Path("content/pages"),))
    if (base / HUGO_CONTENT).is_dir() and any((base / name).is_file() for name in HUGO_CONFIGS):
        return Site("Hugo", (Path(HUGO_CONTENT),))
    return None


def _not_a_post(relative: Path, site: Site) -> Problem:
    folders = ", ".join(f"{folder.as_posix()}/" for folder in site.folders)
    return Problem(
        relative.as_posix(),
        "warning",
        "not-a-post",
        f"a page of the {site.generator} site, not one of its posts (those are in {folders}); "
        "not read",
    )


def _other_format(relative: Path, name: str) -> Problem:
    return Problem(
        relative.as_posix(),
        "warning",
        "unsupported-format",
        f"a post in {name}, not Markdown; not read (posts are read from "
        f"{', '.join(POST_SUFFIXES)} files: convert it, e.g. with pandoc, to include it)",
    )


def find_posts(root: str | os.PathLike[str]) -> tuple[list[Path], list[Problem]]:
    """Every post file under ``root``, sorted, plus problems for links that were not followed.

    Posts are Markdown files (:data:`POST_SUFFIXES`), page bundles included (``*/index.md``);
    Hugo list pages (``_index.md``, ``_index.en.md``) and hidden folders are skipped; a post
    in another format a generator reads (HTML, reStructuredText, Textile, AsciiDoc, Org) is
    listed as an ``unsupported-format`` problem. Symbolic links are
    followed only when they point to a file inside ``root``. At the root of a site
    (:func:`find_site`), only its post folders are read; its other pages (about, README,
    drafts) are skipped with a ``not-a-post`` problem each, and its generated output,
    dependencies and themes are not walked; nor is a folder this tool's build wrote its
    tables to (:func:`is_build_output`).
    """
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: no such archive folder")
    real_base = base.resolve()
    found: dict[Path, Path] = {}
    problems: list[Problem] = []
    site = find_site(base)

    def unreadable_folder(error: OSError) -> None:
        where = Path(error.filename or base)
        relative = where.relative_to(base).as_posix() if where != base else "."
        problems.append(
            Problem(
                relative,
                "error",
                "unreadable",
                f"cannot list the folder: {error.strerror}; its posts were not read "
                "(check its permissions)",
            )
        )

    for folder, dirnames, filenames in os.walk(base, followlinks=False, onerror=unreadable_folder):
        here = Path(folder)
        for dirname in list(dirnames):
            if (site and dirname in SITE_TOOL_FOLDERS) or is_build_output(here / dirname):
                dirnames.remove(dirname)
            elif dirname.startswith(".") or (here / dirname).is_symlink():
                dirnames.remove(dirname)
                if not dirname.startswith("."):
                    problems.append(_skipped_link(base, here / dirname, real_base))
        dirnames.sort()
        for filename in sorted(filenames):
            target, problem = _post_file(base, here / filename, site, real_base)
            if problem is not None:
                problems.append(problem)
            elif target is not None:
                found.setdefault(target, here / filename)
    return sorted(found.values()), problems


# What marks a folder that `weeknotes build --out` wrote (output.MANIFEST, output.VERSIONS).
_BUILD_MARKS = ("manifest.json", ".versions")


def is_build_output(folder: Path) -> bool:
    """Whether ``folder`` holds a build's tables (``--out`` inside the archive): its links
    to the current version are no posts, and no problem either."""
    return (folder / _BUILD_MARKS[0]).is_file() and (folder / _BUILD_MARKS[1]).is_dir()


# A Hugo list page (a section's own page, not a post): _index.md, or _index.en.md in one of a
# multilingual site's languages.
_HUGO_LIST_PAGE = re.compile(r"_index(?:\.[a-z]{2,3}(?:-[a-z0-9]+)?)?\.[a-z]+", re.IGNORECASE)


def _post_file(
    base: Path, path: Path, site: Site | None, real_base: Path
) -> tuple[Path | None, Problem | None]:
    """The real file a post file under ``base`` is, or the problem that keeps it unread;
    ``(None, None)`` for a file that is no post at all."""
    relative = path.relative_to(base)
    suffix = path.suffix.lower()
    if suffix in OTHER_FORMATS and (not site or site.holds(relative)):
        return None, _other_format(relative, OTHER_FORMATS[suffix])
    if not path.name.lower().endswith(POST_SUFFIXES) or _HUGO_LIST_PAGE.fullmatch(path.name):
        return None, None
    if site and not site.holds(relative):
        return None, _not_a_post(relative, site)
    if path.is_symlink():
        target = _resolve(path)
        if target is None or not target.is_relative_to(real_base):
            return None, _skipped_link(base, path, real_base)
    else:
        target = path.resolve()
    if not _is_regular_file(target):
        message = (
            "not a regular file (a named pipe, socket, device or folder); only regular files "
            "are read"
        )
        return None, Problem(relative.as_posix(), "error", "unreadable", message)
    return target, None


def _is_regular_file(path: Path) -> bool:
    # A named pipe called post.md would block a read forever.
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _resolve(path: Path) -> Path | None:
    try:
        return path.resolve(strict=True)
    except (OSError, RuntimeError):
        return None


def _skipped_link(base: Path, path: Path, real_base: Path) -> Problem:
    target = _resolve(path)
    where = "loops or is broken" if target is None else f"points to {target}"
    if target is not None and target.is_relative_to(real_base):
        where = "is a link to a folder inside the archive (read through its real path)"
        return Problem(path.relative_to(base).as_posix(), "warning", "link-not-followed", where)
    return Problem(
        path.relative_to(base).as_posix(),
        "error",
        "link-outside-archive",
        f"symbolic link {where}; links that leave the archive or loop are never followed",
    )


def read_posts(root: str | os.PathLike[str]) -> Iterator[tuple[Post | None, list[Problem]]]:
    """Read every post under ``root``: yields ``(post or None, problems)`` per file."""
    base = Path(root)
    paths, problems = find_posts(base)
    for problem in problems:
        yield None, [problem]
    for path in paths:
        yield read_post(base, path)


def read_post(
    root: Path, path: Path, *, max_file_size: int = MAX_FILE_SIZE
) -> tuple[Post | None, list[Problem]]:
    """Read one file; on failure return ``None`` and an ``error`` problem naming the line."""
    relative = path.relative_to(root)
    rel = relative.as_posix()
    try:
        data = read_bytes(path, max_file_size=max_file_size)
    except PostError as exc:
        return None, [Problem(rel, "error", exc.code, str(exc))]
    except OSError as exc:
        return None, [Problem(rel, "error", "unreadable", f"cannot read the file: {exc.strerror}")]
    return load_post(data, relative)


def read_bytes(path: Path, *, max_file_size: int = MAX_FILE_SIZE) -> bytes:
    """The file's bytes; a file over ``max_file_size`` bytes raises :class:`PostError`
    (``file-too-large``) without being read, so memory stays bounded whatever its size."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        # Read one byte past the limit: a file that grew since its size was taken is caught too.
        data = file.read(max_file_size + 1) if size <= max_file_size else b""
    if size > max_file_size or len(data) > max_file_size:
        raise PostError("file-too-large", too_large_message(max(size, len(data)), max_file_size))
    return data


def too_large_message(size: int, limit: int) -> str:
    """What a ``file-too-large`` problem says: the size, the limit and how to raise it."""
    return (
        f"{format_size(size)}, over the limit of {format_size(limit)} for one post: not read; "
        "if it really is a post, raise the limit with --max-file-size (max_file_size= in Python)"
    )


def format_size(size: int) -> str:
    """``20 MB``, ``300.5 MB``, ``1.2 GB``: decimal units, as file managers show them."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:,.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


def load_post(data: bytes, relative: Path) -> tuple[Post | None, list[Problem]]:
    """Parse a file's bytes; on failure return ``None`` and an ``error`` problem naming the line."""
    try:
        return parse_post(data, relative)
    except PostError as exc:
        return None, [Problem(relative.as_posix(), exc.severity, exc.code, str(exc), exc.line)]


def decode(data: bytes) -> str:
    """Bytes -> text: UTF-8 (a byte-order mark is dropped), CRLF and CR turned into LF."""
    if data.startswith(_UTF16_OR_32_BOM):
        raise PostError(
            "not-utf8",
            "UTF-16 or UTF-32 text (by its byte-order mark); re-save the file as UTF-8",
            1,
        )
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise PostError(
            "binary",
            "binary content (NUL bytes): not a text file, though named like a post; "
            "move it out of the archive",
            line,
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise PostError(
            "not-utf8",
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-save the file as UTF-8",
            line,
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")


def parse_post(data: bytes, relative: Path) -> tuple[Post, list[Problem]]:
    """Parse a file's bytes into a Post; raises PostError when it must be skipped."""
    rel = relative.as_posix()
    text = decode(data)
    if not text.strip():
        raise PostError(
            "empty", "the file is empty or only white space; write the post or delete it", 1
        )
    fmt, raw_meta, body, body_line = split_front_matter(text)
    meta = {str(key).strip().lower(): value for key, value in raw_meta.items()}
    _refuse_a_draft(meta, text)
    post = Post(post_id=post_id_for(relative), path=rel, format=fmt, body=body, body_line=body_line)
    problems: list[Problem] = []

    def warn(code: str, message: str, line: int | None = None) -> None:
        problems.append(Problem(rel, "warning", code, message, line))

    post.metadata = meta
    post.title = _text(meta.get("title")) or jekyll_title(rel)
    post.slug = _text(meta.get("slug"))
    post.description = _text(meta.get("description", meta.get("summary")))
    post.author = _text(_names(meta.get("author", meta.get("authors"))))
    # Jekyll reads a string of `tags` or `categories` as words separated by spaces (not the
    # singular `category`); a post named as Jekyll names them in a Hugo content folder is Hugo's.
    jekyll = JEKYLL_POSTS in relative.parts or (
        is_jekyll_name(rel) and HUGO_CONTENT not in relative.parts
    )
    words = fmt == "yaml" and jekyll
    categories = meta.get("categories")
    post.categories = _string_list(
        meta.get("category") if categories is None else categories,
        lower=False,
        words=words and categories is not None,
    )
    keywords: list[str] = []
    for key in KEYWORD_KEYS:
        keywords.extend(_string_list(meta.get(key), lower=True, words=words and key == "tags"))
    post.keywords = list(dict.fromkeys(keywords))
    problems += _date_post(post, meta)
    if not body.strip():
        warn("no-body", "front matter but no body text: loaded without sections", body_line)
    return post, problems


def _refuse_a_draft(meta: dict[str, Any], text: str) -> None:
    """Raise :class:`Unpublished` for a post its front matter keeps unpublished."""
    unpublished = _unpublished(meta)
    if unpublished is not None:
        key, value, published = unpublished
        raise Unpublished(
            "draft",
            f"a draft ({key}: {value} in its front matter), which its generator does not "
            f"publish: not read (set {key}: {published} to include it)",
            _key_line(text, key),
        )


def _date_post(post: Post, meta: dict[str, Any]) -> list[Problem]:
    """Set the post's date and its source from the front matter (:data:`DATE_KEYS`), else its
    file name; the problems of a date missing or unreadable."""
    rel = post.path
    problems: list[Problem] = []
    date_key = next((key for key in DATE_KEYS if _is_date_value(meta.get(key))), "date")
    raw_date = meta.get(date_key)
    if raw_date is not None:
        post.date = _timestamp(raw_date)
        if post.date is None:
            message = (
                f"cannot read the date {_preview(raw_date)} as a date between 1677 and 2262; "
                "write it as YYYY-MM-DD (a time and offset may follow)"
            )
            problems.append(Problem(rel, "warning", "date-invalid", message, 1))
        else:
            post.date_source = "front-matter"
    if post.date is None:
        post.date = date_from_filename(rel)
        if post.date is not None:
            post.date_source = "filename"
        # A post named as Jekyll names its posts (``YYYY-MM-DD-title.md``) is dated by its
        # name, in a ``_posts`` folder or in that folder handed over on its own: no warning.
        if raw_date is None and not (post.date is not None and is_jekyll_name(rel)):
            fallback = "taken from the file name" if post.date is not None else "left empty"
            message = f"no date in the front matter; the date is {fallback}"
            problems.append(Problem(rel, "warning", "date-missing", message, 1))
    return problems


# What keeps a post unpublished, in its front matter: Hugo's ``draft: true``, Jekyll's
# ``published: false``, Pelican's ``Status: draft`` (each key, the values that keep it a
# draft, and the value that publishes it).
_DRAFT_MARKS = (
    ("draft", frozenset({"true", "yes", "on", "1"}), "false"),
    ("published", frozenset({"false", "no", "off", "0"}), "true"),
    ("status", frozenset({"draft"}), "published"),
)


def _unpublished(meta: dict[str, Any]) -> tuple[str, str, str] | None:
    """``(key, value, the value that publishes)`` of the front matter's mark of a draft, or
    None for a published post."""
    for key, values, published in _DRAFT_MARKS:
        value = meta.get(key)
        if value is not None and str(value).strip().lower() in values:
            return key, str(value).strip().lower(), published
    return None


def _key_line(text: str, key: str) -> int:
    """The line of ``text`` where the front matter sets ``key`` (1 when it is not found)."""
    match = re.search(rf"^[ \t]*[\"']?{re.escape(key)}[\"']?[ \t]*[:=]", text, re.M | re.I)
    return text.count("\n", 0, match.start()) + 1 if match else 1


def split_front_matter(text: str) -> tuple[str, dict[str, Any], str, int]:
    """Return ``(format, metadata, body, body_line)``; raise PostError on bad front matter."""
    first = text.split("\n", 1)[0]
    if _YAML.detect(first) or _TOML.detect(first):
        handler = _YAML if first.startswith("-") else _TOML
        fmt = "yaml" if handler is _YAML else "toml"
        return (fmt, *_fenced(text, handler, fmt))
    if first.lstrip().startswith("{"):
        return ("json", *_json_front_matter(text))
    header = _pelican_header(text)
    if header is not None:
        meta, body, body_line = header
        return "pelican", meta, body, body_line
    return "none", {}, text, 1


# PyYAML's terse complaints, and what the writer of a post can do about each.
_YAML_FIXES: tuple[tuple[str, str], ...] = (
    ("scanning a quoted scalar", "a quoted value is never closed: add its closing quote"),
    ("expected ',' or ']'", "a [list is never closed: add the closing ] (or quote the value)"),
    ("expected ',' or '}'", "a {mapping is never closed: add the closing } (or quote the value)"),
    (
        "mapping values are not allowed",
        'a value holds ": " (a colon and a space): put the whole value in quotes, title: "A: B"',
    ),
    (
        "did not find expected key",
        "a quote inside a quoted value ends it early: write it twice inside single quotes "
        "('it''s') or use the other kind of quotes",
    ),
    ("tab character", "indent with spaces, not tabs"),
    ("could not find expected ':'", "a line is not `key: value`: add the colon, or quote it"),
    (
        "found character that cannot start any token",
        "a value starts with a character YAML reserves (@, `, %, |, >): put it in quotes",
    ),
)


def _yaml_fix(exc: Exception) -> str:
    """What to fix for a YAML error, as "; <advice>" (empty when there is no known advice)."""
    described = f"{getattr(exc, 'context', '') or ''} {getattr(exc, 'problem', '') or ''}"
    for clue, fix in _YAML_FIXES:
        if clue in described:
            return f"; {fix}"
    return "; check the quotes and the indentation around this line"


def _fenced(text: str, handler: Any, fmt: str) -> tuple[dict[str, Any], str, int]:
    lines = text.split("\n")
    fence = lines[0].strip()[0]
    end = next(
        (i for i in range(1, len(lines)) if re.fullmatch(rf"\{fence}{{3,}}\s*", lines[i])), None
    )
    if end is None:
        raise PostError(
            "fence-unclosed",
            f"the {fmt.upper()} front matter opened on line 1 is never closed "
            f"(add a closing {fence * 3} line)",
            1,
        )
    front = "\n".join(lines[1:end])
    if len(front) > MAX_FRONT_MATTER_CHARS:
        raise PostError("front-matter-too-large", "front matter over 200,000 characters", 1)
    try:
        if not front.strip():
            meta = {}
        elif handler is _YAML:
            _check_yaml_size(front)
            meta = handler.load(front)
        else:
            # tomllib reads TOML 1.0 (Hugo's); the toml package behind python-frontmatter's
            # handler is TOML 0.5 and misreads some valid escapes (\U0000005C) without a word.
            meta = tomllib.loads(front)
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct opened (an unclosed bracket, say).
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = min(mark.line + 2, max(end, 2)) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        message = f"invalid YAML front matter: {problem}{_yaml_fix(exc)}"
        raise PostError("yaml-invalid", message, line) from None
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_ERROR_LINE.search(str(exc))
        line = int(where.group(1)) + 1 if where and where.group(1) else max(end, 2)
        message = _TOML_ERROR_LINE.sub("", str(exc)).strip()
        raise PostError("toml-invalid", f"invalid TOML front matter: {message}", line) from None
    except RecursionError:
        raise PostError(
            f"{fmt}-invalid", f"the {fmt.upper()} front matter is nested too deeply", 2
        ) from None
    except ValueError as exc:
        # PyYAML raises a plain ValueError for integers past Python's digit limit.
        raise PostError(f"{fmt}-invalid", f"invalid {fmt.upper()} front matter: {exc}", 2) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostError(
            "front-matter-not-mapping",
            f"the front matter is a {type(meta).__name__}, not a mapping of keys to values",
            2,
        )
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _check_yaml_size(front: str) -> None:
    """Raise PostError when YAML nests too deeply or its aliases expand too far.

    Reads the event stream only (no objects are built): each anchored value's expanded
    size is known when it closes, and each alias adds that size where it is used.
    """
    expanded: dict[str, int] = {}
    open_anchors: set[str] = set()
    stack: list[list[Any]] = [[None, 0]]  # [anchor, expanded size so far] per open collection
    for event in yaml.parse(front, Loader=SafeLoader):
        line = event.start_mark.line + 2 if event.start_mark is not None else 1
        size = 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) > MAX_FRONT_MATTER_DEPTH:
                raise PostError(
                    "front-matter-too-complex",
                    f"the YAML front matter nests more than {MAX_FRONT_MATTER_DEPTH} levels deep",
                    line,
                )
            if event.anchor:
                open_anchors.add(event.anchor)
            stack.append([event.anchor, 1])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                expanded[anchor] = size
                open_anchors.discard(anchor)
        elif isinstance(event, yaml.ScalarEvent):
            size = 1 + len(event.value)
            if event.anchor:
                expanded[event.anchor] = size
        elif isinstance(event, yaml.AliasEvent):
            if event.anchor in open_anchors:
                raise PostError(
                    "front-matter-too-complex",
                    f"the YAML alias *{event.anchor} refers to a value that contains it; "
                    "write the value out instead",
                    line,
                )
            size = expanded.get(event.anchor or "", 1)
        stack[-1][1] += size
        if stack[-1][1] > MAX_FRONT_MATTER_EXPANSION:
            raise PostError(
                "front-matter-too-complex",
                f"the YAML front matter expands to over {MAX_FRONT_MATTER_EXPANSION:,} "
                "characters through aliases (*name); write the values out instead",
                line,
            )


def _json_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    try:
        meta, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError as exc:
        raise PostError(
            "json-invalid", f"invalid JSON front matter: {exc.msg}", exc.lineno
        ) from None
    except RecursionError:
        raise PostError("json-invalid", "the JSON front matter is nested too deeply", 1) from None
    except ValueError as exc:
        # Integers past Python's digit limit raise a plain ValueError.
        raise PostError("json-invalid", f"invalid JSON front matter: {exc}", 1) from None
    if end > MAX_FRONT_MATTER_CHARS:
        raise PostError("front-matter-too-large", "front matter over 200,000 characters", 1)
    if not isinstance(meta, dict):
        raise PostError("front-matter-not-mapping", "the JSON front matter is not an object", 1)
    offset = len(text) - len(text.lstrip()) + end
    body = text[offset:]
    return meta, body, text[:offset].count("\n") + 1


def _pelican_header(text: str) -> tuple[dict[str, Any], str, int] | None:
    head, sep, rest = text.partition("\n\n")
    lines = head.split("\n")
    if len(lines) > 60:
        return None
    meta: dict[str, Any] = {}
    for line in lines:
        match = _PELICAN_LINE.match(line)
        if match is None or match.group(1).lower() in {"http", "https", "note", "update"}:
            return None
        meta[match.group(1).strip()] = (match.group(2) or "").strip()
    keys = {key.lower() for key in meta}
    if not keys & {"title", "date"}:
        return None
    return meta, rest, len(lines) + 2 if sep else len(lines) + 1


_SCALARS = (str, int, float, dt.date, dt.time)


def _text(value: Any) -> str | None:
    """A scalar, or a list's scalars joined; ``None`` for anything else (mappings, bytes)."""
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value if isinstance(item, _SCALARS))
    if not isinstance(value, _SCALARS):
        return None
    text = str(value).strip()
    return text or None


def _names(value: Any) -> Any:
    """An author as a mapping ({name: ..., email: ...}) or a list of them, as their names."""
    if isinstance(value, dict):
        return value.get("name")
    if isinstance(value, list):
        return [item.get("name") if isinstance(item, dict) else item for item in value]
    return value


def _preview(value: Any) -> str:
    """A short quoted form of a front-matter value for a message, never expanding it whole."""
    if isinstance(value, _SCALARS):
        return repr(str(value)[:60])
    return f"(a {type(value).__name__})"


def _string_list(value: Any, *, lower: bool, words: bool = False) -> list[str]:
    """The items of a list, or of a string separated by commas (``words``: by commas, or by
    spaces when it has no comma, as Jekyll reads ``tags: aws lambda``)."""
    if not isinstance(value, (list, *_SCALARS)):
        return []
    if isinstance(value, list):
        items: list[Any] = value
    elif words and "," not in str(value):
        items = str(value).split()
    else:
        items = str(value).split(",")
    result = []
    for item in items:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            text = str(item).strip()
            if text:
                result.append(text.lower() if lower else text)
    return result


# A date with dots is written day first (09.01.2024, 9.1.2024 10:00: the 9th of January), as
# in German and most of Europe; pandas would read it month first.
_DOTTED_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})((?:[ T]\d.*)?)")


def _is_date_value(value: Any) -> bool:
    """Whether a front-matter value is meant as a date (not absent, not a yes or no)."""
    return value is not None and not isinstance(value, bool) and str(value).strip() != ""


def _timestamp(value: Any) -> pd.Timestamp | None:
    """A UTC timestamp within pandas' nanosecond range, or ``None`` when there is none."""
    try:
        if isinstance(value, dt.datetime | dt.date):
            stamp = pd.Timestamp(value)
        elif isinstance(value, str | int | float) and not isinstance(value, bool):
            text = str(value).strip()
            if _NOT_A_DATE.fullmatch(text):
                return None
            dotted = _DOTTED_DATE.fullmatch(text)
            if dotted:
                day, month, year, rest = dotted.groups()
                text = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
            stamp = pd.Timestamp(text)
        else:
            return None
        if stamp is pd.NaT or pd.isna(stamp):
            return None
        stamp = stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    except (ValueError, TypeError, OverflowError):
        return None
    if not pd.Timestamp.min.tz_localize("UTC") <= stamp <= pd.Timestamp.max.tz_localize("UTC"):
        return None
    return stamp.as_unit("ns")


_JEKYLL_NAME = re.compile(r"\d{4}-\d{2}-\d{2}-[^/]+$")


def is_jekyll_name(relative: str | Path) -> bool:
    """Whether a file is named as Jekyll names its posts, ``YYYY-MM-DD-title.md`` (Jekyll takes
    the post's date from that name), wherever it is."""
    return _JEKYLL_NAME.match(Path(relative).name) is not None


def jekyll_title(relative: str | Path) -> str | None:
    """The title Jekyll gives a post named ``YYYY-MM-DD-title.md`` whose front matter has
    none: the name's words, each capitalised (``2020-01-06-week-1-in-k8s.md`` -> "Week 1 In
    K8s"); None for a file named otherwise."""
    name = Path(relative).name
    if not is_jekyll_name(name):
        return None
    words = name[len("YYYY-MM-DD-") :].rsplit(".", 1)[0].split("-")
    return " ".join(word[:1].upper() + word[1:] for word in words if word) or None


def date_from_filename(relative: str) -> pd.Timestamp | None:
    """A date from ``YYYY-MM-DD`` or ``YYYY-WW`` in a path; ``None`` when there is neither."""
    name = relative.rsplit("/", 2)[-2:] if relative.endswith("index.md") else [relative]
    candidate = "/".join(name)
    day = _FILENAME_DAY.search(candidate)
    try:
        if day:
            return pd.Timestamp(dt.date(*map(int, day.groups())), tz="UTC")
        week = _FILENAME_WEEK.search(candidate)
        if week:
            year, number = map(int, week.groups())
            return pd.Timestamp(dt.date.fromisocalendar(year, number, 1), tz="UTC")
    except ValueError:
        return None
    return None


__all__ = [
    "Post",
    "PostError",
    "Problem",
    "date_from_filename",
    "decode",
    "find_posts",
    "jekyll_title",
    "load_post",
    "parse_post",
    "post_id_for",
    "read_post",
    "read_posts",
    "split_front_matter",
]
