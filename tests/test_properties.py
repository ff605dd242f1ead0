"""Property-based tests: no input makes the loader raise, and every good post comes out whole."""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from pathlib import Path

import pandas as pd
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from weeknotes_analysis import load_corpus
from weeknotes_analysis.corpus import post_tables
from weeknotes_analysis.markdown import count_words, parse_markdown
from weeknotes_analysis.sources import MAX_FRONT_MATTER_EXPANSION, Problem, load_post

# Modest by default (CI has two cores); WEEKNOTES_HYPOTHESIS_EXAMPLES=5000 for a deeper search.
EXAMPLES = int(os.environ.get("WEEKNOTES_HYPOTHESIS_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None)
# Whole builds: a few examples are enough, each runs the full pipeline (without a model).
FEW = settings(
    max_examples=max(EXAMPLES // 6, 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)

WORD = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=8)
WORDS = st.lists(WORD, min_size=1, max_size=8).map(" ".join)
MARKDOWN_CHARS = "#*_[]()<>!`~-+=|\\:^&;\"' \n\t>.1aZé/"
FRONT_MATTER_OPENINGS = [b"---\n", b"+++\n", b"{", b"Title: x\nDate: ", b"\xef\xbb\xbf---\r\n"]


def check_outcome(post, problems: list[Problem]) -> None:
    """A file is either skipped with exactly one error or loaded with warnings only."""
    if post is None:
        assert [problem.severity for problem in problems] == ["error"]
    else:
        assert all(problem.severity == "warning" for problem in problems)
        rows = post_tables(post, problems)
        assert len(rows.posts) == 1 and rows.posts[0]["section_count"] == len(rows.sections)
    for problem in problems:
        assert problem.code and problem.message and problem.path == "post.md"


@SETTINGS
@given(
    st.one_of(
        st.binary(max_size=3000),
        st.tuples(st.sampled_from(FRONT_MATTER_OPENINGS), st.binary(max_size=2000)).map(
            lambda parts: parts[0] + parts[1]
        ),
    )
)
def test_random_bytes_never_raise(data):
    post, problems = load_post(data, Path("post.md"))
    check_outcome(post, problems)


@SETTINGS
@given(
    st.sampled_from(["", "---\n", "+++\n", "{", "---\ntitle: t\n---\n"]),
    st.text(MARKDOWN_CHARS, max_size=2000),
)
def test_random_markdown_never_raises(opening, text):
    post, problems = load_post((opening + text).encode("utf-8"), Path("post.md"))
    check_outcome(post, problems)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(WORD, inner, max_size=4),
    max_leaves=12,
)
offsets = st.integers(-23 * 60, 23 * 60).map(
    lambda minutes: dt.timezone(dt.timedelta(minutes=minutes))
)
dates = st.datetimes(
    min_value=dt.datetime(1700, 1, 1),
    max_value=dt.datetime(2200, 12, 31),
    timezones=st.none() | offsets,
).map(lambda moment: moment.replace(microsecond=0))
sections = st.lists(st.tuples(WORDS, WORDS), min_size=1, max_size=6)


def front_matter(fmt: str, meta: dict) -> str:
    if fmt == "yaml":
        return "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n"
    if fmt == "toml":
        return (
            "+++\n"
            + "".join(f"{key} = {toml_value(value)}\n" for key, value in meta.items())
            + "+++\n"
        )
    return json.dumps(meta, default=str, indent=2) + "\n"


def toml_value(value: object) -> str:
    """TOML for the few types these tests write (the toml package's writer fails on some text)."""
    if isinstance(value, str):
        return (
            '"'
            + "".join(
                char if char.isprintable() and char not in '"\\' else f"\\U{ord(char):08X}"
                for char in value
            )
            + '"'
        )
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float | dt.datetime):
        return value.isoformat() if isinstance(value, dt.datetime) else repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key} = {toml_value(item)}" for key, item in value.items()) + "}"
    raise TypeError(value)


def holds_none(value: object) -> bool:
    """TOML has no null."""
    if isinstance(value, list):
        return any(holds_none(item) for item in value)
    if isinstance(value, dict):
        return any(holds_none(item) for item in value.values())
    return value is None


def body_of(parts: list[tuple[str, str]]) -> str:
    return "".join(f"\n# {heading}\n\n{text}\n" for heading, text in parts)


def expected_date(moment: dt.datetime) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


@SETTINGS
@given(
    fmt=st.sampled_from(["yaml", "toml", "json"]),
    title=st.text(max_size=40),
    date=dates,
    keywords=st.lists(WORD, max_size=5),
    extra=st.dictionaries(WORD.map(lambda key: f"x_{key}"), values, max_size=5),
    parts=sections,
)
def test_generated_posts_come_out_whole(fmt, title, date, keywords, extra, parts):
    if fmt == "toml":
        extra = {key: value for key, value in extra.items() if not holds_none(value)}
    meta = {"title": title, "date": date, "keywords": keywords, **extra}
    text = front_matter(fmt, meta) + body_of(parts)
    post, problems = load_post(text.encode("utf-8"), Path("post.md"))
    assert post is not None, problems
    assert [problem.code for problem in problems] == []
    assert post.format == fmt
    assert post.title == (title.strip() or None)
    assert post.date == expected_date(date)
    assert post.keywords == list(dict.fromkeys(keywords))
    parsed = parse_markdown(post.body, first_line=post.body_line)
    assert [(section.heading, section.text) for section in parsed.sections] == parts
    assert parsed.defects == []


MARKERS = st.lists(st.sampled_from(["> ", "- ", "* ", "+ ", "1. ", "2) "]), max_size=40)


@st.composite
def nested_markdown(draw) -> tuple[str, list[str]]:
    """Lines of quote and list markers (often far past the nesting limit) and unique words."""
    lines, words = [], []
    for number in range(draw(st.integers(1, 12))):
        word = f"w{number}x"
        words.append(word)
        kind = draw(st.sampled_from(["nested", "heading", "blank", "footnote", "link"]))
        if kind == "heading":
            lines.append(f"# {word}")
        elif kind == "footnote":
            lines.append(f"{word} note[^{number}]\n\n[^{number}]: {word}note")
            words.append(f"{word}note")
        elif kind == "link":
            lines.append("".join(draw(MARKERS)) + f"[{word}](https://example.com/{word})")
        else:
            lines.append("".join(draw(MARKERS)) + word)
        if kind == "blank" or draw(st.booleans()):
            lines.append("")
    return "\n".join(lines) + "\n", words


@SETTINGS
@given(nested_markdown())
def test_no_word_of_nested_markdown_is_lost(case):
    body, words = case
    parsed = parse_markdown(body)
    kept = set()
    for section in parsed.sections:
        for text in (section.heading or "", section.text, *section.footnotes):
            kept.update(text.split())
    assert set(words) <= kept, f"lost {set(words) - kept}"
    assert all(count_words(section.text) >= 0 for section in parsed.sections)


@SETTINGS
@given(levels=st.integers(1, 30), width=st.integers(1, 12), base=st.text("lo", max_size=20))
def test_yaml_aliases_load_or_are_refused_within_bounds(levels, width, base):
    rows = [f'v0: &v0 "{base}"']
    for level in range(1, levels):
        rows.append(f"v{level}: &v{level} [" + ", ".join([f"*v{level - 1}"] * width) + "]")
    rows.append(f"title: *v{levels - 1}\ndate: *v{levels - 1}\nkeywords: *v{levels - 1}")
    text = "---\n" + "\n".join(rows) + "\n---\n# A\n\ntext\n"
    post, problems = load_post(text.encode("utf-8"), Path("post.md"))
    check_outcome(post, problems)
    # Every alias use copies the whole value: about width ** level characters in all.
    expanded = sum(width**level for level in range(levels)) * 4 * (len(base) + 1)
    if expanded < MAX_FRONT_MATTER_EXPANSION // 4:
        assert post is not None
    if width**levels > 4 * MAX_FRONT_MATTER_EXPANSION:
        assert post is None and problems[0].code == "front-matter-too-complex"


@FEW
@given(
    good=st.lists(st.tuples(st.sampled_from(["yaml", "toml", "json"]), sections), max_size=5),
    junk=st.lists(st.binary(max_size=500), max_size=5),
)
def test_every_good_post_of_a_mixed_archive_comes_out(good, junk):
    with tempfile.TemporaryDirectory() as folder:
        archive = Path(folder)
        expected = {}
        for number, (fmt, parts) in enumerate(good):
            meta = {"title": f"Post {number}", "date": dt.datetime(2020, 1, 1 + number)}
            text = front_matter(fmt, meta) + body_of(parts)
            (archive / f"good-{number}.md").write_text(text, encoding="utf-8")
            expected[f"good-{number}"] = len(parts)
        for number, data in enumerate(junk):
            (archive / f"junk-{number}.md").write_bytes(data)
        corpus = load_corpus(archive, model="none", cache=False)
    posts = corpus.posts.set_index("post_id")["section_count"].to_dict()
    assert {post_id: posts.get(post_id) for post_id in expected} == expected
    errors = corpus.problems[corpus.problems["severity"] == "error"]
    skipped = {path.removesuffix(".md") for path in errors["path"]}
    junk_ids = {f"junk-{number}" for number in range(len(junk))}
    assert skipped <= junk_ids and not skipped & set(posts)
    assert junk_ids <= skipped | set(posts), "a file is neither a post nor a problem"
