"""Find post files under a folder and read their front matter into Post records and problems."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import toml
import yaml
from frontmatter.default_handlers import TOMLHandler, YAMLHandler

POST_SUFFIXES = (".md", ".markdown")
KEYWORD_KEYS = ("keywords", "keyword", "tags")
MAX_FRONT_MATTER_CHARS = 200_000

_YAML = YAMLHandler()
_TOML = TOMLHandler()
_PELICAN_LINE = re.compile(r"^([A-Za-z][A-Za-z0-9_ -]{0,40}):(?:\s+(.*?))?\s*$")
_FILENAME_WEEK = re.compile(r"(?<!\d)(\d{4})-W?(\d{2})(?!\d)")
_FILENAME_DAY = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")


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

    def __init__(self, code: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.line = line


def post_id_for(relative: Path) -> str:
    """``2017-45.md`` -> ``2017-45``; ``2018-01/index.md`` -> ``2018-01``."""
    stem = relative.with_suffix("")
    if stem.name == "index" and len(stem.parts) > 1:
        stem = stem.parent
    return stem.as_posix()


def find_posts(root: str | os.PathLike[str]) -> tuple[list[Path], list[Problem]]:
    """Every post file under ``root``, sorted, plus problems for links that were not followed.

    Posts are ``*.md`` and ``*.markdown`` files, page bundles included (``*/index.md``);
    Hugo list pages (``_index.md``) and hidden folders are skipped. Symbolic links are
    followed only when they point to a file inside ``root``.
    """
    base = Path(root)
    if not base.is_dir():
        raise FileNotFoundError(f"{base}: no such archive folder")
    real_base = base.resolve()
    found: dict[Path, Path] = {}
    problems: list[Problem] = []
    for folder, dirnames, filenames in os.walk(base, followlinks=False):
        here = Path(folder)
        for dirname in list(dirnames):
            if dirname.startswith(".") or (here / dirname).is_symlink():
                dirnames.remove(dirname)
                if not dirname.startswith("."):
                    problems.append(_skipped_link(base, here / dirname, real_base))
        dirnames.sort()
        for filename in sorted(filenames):
            path = here / filename
            if not filename.lower().endswith(POST_SUFFIXES) or filename.lower() == "_index.md":
                continue
            if path.is_symlink():
                target = _resolve(path)
                if target is None or not target.is_relative_to(real_base) or not target.is_file():
                    problems.append(_skipped_link(base, path, real_base))
                    continue
                found.setdefault(target, path)
            else:
                found.setdefault(path.resolve(), path)
    return sorted(found.values()), problems


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


def read_post(root: Path, path: Path) -> tuple[Post | None, list[Problem]]:
    """Read one file; on failure return ``None`` and an ``error`` problem naming the line."""
    relative = path.relative_to(root)
    rel = relative.as_posix()
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, [Problem(rel, "error", "unreadable", f"cannot read the file: {exc.strerror}")]
    return load_post(data, relative)


def load_post(data: bytes, relative: Path) -> tuple[Post | None, list[Problem]]:
    """Parse a file's bytes; on failure return ``None`` and an ``error`` problem naming the line."""
    try:
        return parse_post(data, relative)
    except PostError as exc:
        return None, [Problem(relative.as_posix(), "error", exc.code, str(exc), exc.line)]


def decode(data: bytes) -> str:
    """Bytes -> text: UTF-8 (a byte-order mark is dropped), CRLF and CR turned into LF."""
    if b"\x00" in data[:8192] or data.count(b"\x00") > 0:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise PostError("binary", "binary content (NUL bytes) in a Markdown file", line)
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
        raise PostError("empty", "the file is empty", 1)
    fmt, raw_meta, body, body_line = split_front_matter(text)
    meta = {str(key).strip().lower(): value for key, value in raw_meta.items()}
    post = Post(post_id=post_id_for(relative), path=rel, format=fmt, body=body, body_line=body_line)
    problems: list[Problem] = []

    def warn(code: str, message: str, line: int | None = None) -> None:
        problems.append(Problem(rel, "warning", code, message, line))

    post.metadata = meta
    post.title = _text(meta.get("title"))
    post.slug = _text(meta.get("slug"))
    post.description = _text(meta.get("description", meta.get("summary")))
    post.author = _text(meta.get("author", meta.get("authors")))
    post.categories = _string_list(meta.get("categories", meta.get("category")), lower=False)
    keywords: list[str] = []
    for key in KEYWORD_KEYS:
        keywords.extend(_string_list(meta.get(key), lower=True))
    post.keywords = list(dict.fromkeys(keywords))
    raw_date = meta.get("date")
    if raw_date is not None:
        post.date = _timestamp(raw_date)
        if post.date is None:
            warn("date-invalid", f"cannot read the date {str(raw_date)[:60]!r}", 1)
        else:
            post.date_source = "front-matter"
    if post.date is None:
        post.date = date_from_filename(rel)
        if post.date is not None:
            post.date_source = "filename"
        if raw_date is None:
            fallback = "taken from the file name" if post.date is not None else "left empty"
            warn("date-missing", f"no date in the front matter; the date is {fallback}", 1)
    if not body.strip():
        warn("no-body", "front matter but no body text", body_line)
    return post, problems


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
        meta = handler.load(front) if front.strip() else {}
    except yaml.YAMLError as exc:
        # The context mark is where the broken construct opened (an unclosed bracket, say).
        mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
        line = min(mark.line + 2, max(end, 2)) if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise PostError("yaml-invalid", f"invalid YAML front matter: {problem}", line) from None
    except toml.TomlDecodeError as exc:
        raise PostError(
            "toml-invalid", f"invalid TOML front matter: {exc.msg}", exc.lineno + 1
        ) from None
    except (ValueError, TypeError, IndexError) as exc:
        raise PostError(f"{fmt}-invalid", f"invalid {fmt.upper()} front matter: {exc}", 1) from None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        raise PostError(
            "front-matter-not-mapping",
            f"the front matter is a {type(meta).__name__}, not a mapping of keys to values",
            2,
        )
    return meta, "\n".join(lines[end + 1 :]), end + 2


def _json_front_matter(text: str) -> tuple[dict[str, Any], str, int]:
    try:
        meta, end = json.JSONDecoder().raw_decode(text.lstrip())
    except json.JSONDecodeError as exc:
        raise PostError(
            "json-invalid", f"invalid JSON front matter: {exc.msg}", exc.lineno
        ) from None
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


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, list):
        value = ", ".join(str(item) for item in value if isinstance(item, str | int | float))
    if isinstance(value, dict):
        return None
    text = str(value).strip()
    return text or None


def _string_list(value: Any, *, lower: bool) -> list[str]:
    if value is None:
        return []
    items: list[Any] = value if isinstance(value, list) else str(value).split(",")
    result = []
    for item in items:
        if isinstance(item, str | int | float) and not isinstance(item, bool):
            text = str(item).strip()
            if text:
                result.append(text.lower() if lower else text)
    return result


def _timestamp(value: Any) -> pd.Timestamp | None:
    if isinstance(value, dt.datetime | dt.date):
        stamp = pd.Timestamp(value)
    else:
        try:
            stamp = pd.Timestamp(str(value).strip())
        except (ValueError, TypeError, OverflowError):
            return None
    if stamp is pd.NaT or pd.isna(stamp):
        return None
    if stamp.tzinfo is None:
        return stamp.tz_localize("UTC")
    return stamp.tz_convert("UTC")


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
    "load_post",
    "parse_post",
    "post_id_for",
    "read_post",
    "read_posts",
    "split_front_matter",
]
