"""Every table's columns and dtypes: the contract, in one place."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

UTC_DATE = "datetime64[ns, UTC]"
STRING = "string"
CATEGORY = "category"
INT = "int64"
BOOL = "bool"
FLOAT = "float64"
OBJECT = "object"  # lists of strings


@dataclass(frozen=True)
class Column:
    """One column of a table: its name, pandas dtype and meaning."""

    name: str
    dtype: str
    doc: str


def _columns(*spec: tuple[str, str, str]) -> tuple[Column, ...]:
    return tuple(Column(*item) for item in spec)


POSTS = _columns(
    ("post_id", STRING, "path relative to the archive root, no extension, no trailing /index"),
    ("path", STRING, "the file's path relative to the archive root"),
    ("title", STRING, "title from the front matter (null when missing)"),
    ("date", UTC_DATE, "publication date, tz-aware UTC"),
    ("week", STRING, "ISO week label, e.g. 2017-W45 (from the date in UTC)"),
    ("week_start", UTC_DATE, "Monday 00:00 UTC of that ISO week"),
    ("slug", STRING, "slug from the front matter (null when missing)"),
    ("description", STRING, "description or summary from the front matter"),
    ("author", STRING, "author from the front matter"),
    ("categories", OBJECT, "list of categories"),
    ("keywords", OBJECT, "list of lower-case keywords (keywords, keyword and tags merged)"),
    ("word_count", INT, "words in all sections' text"),
    ("section_count", INT, "rows of this post in sections"),
    ("link_count", INT, "rows of this post in links"),
    ("format", CATEGORY, "front-matter format: yaml, toml, json, pelican or none"),
    ("date_source", CATEGORY, "where the date came from: front-matter, filename or missing"),
)

SECTIONS = _columns(
    ("section_id", STRING, "{post_id}#{position}"),
    ("post_id", STRING, "the post it belongs to"),
    ("position", INT, "0 is the text before the first heading (only when it has words)"),
    ("heading", STRING, "heading text, null at position 0"),
    ("level", INT, "heading level 1-6, 0 for the intro"),
    ("text", STRING, "plain text: markup removed, link text kept, no footnote markers or code"),
    ("footnotes", STRING, "plain text of the footnotes this section references"),
    ("word_count", INT, "words in text"),
    ("date", UTC_DATE, "the post's date"),
    ("week", STRING, "the post's ISO week label"),
    ("line", INT, "line in the file where the section starts (1-based)"),
)

LINKS = _columns(
    ("post_id", STRING, "the post it belongs to"),
    ("section_id", STRING, "the section it belongs to (footnote links: the referencing section)"),
    ("url", STRING, "the link target as written (reference links resolved)"),
    ("text", STRING, "the link text (alt text for images)"),
    ("host", STRING, "host name, lower-case (null for relative links)"),
    (
        "domain",
        STRING,
        "registered domain from the public suffix list (aws.amazon.com -> amazon.com)",
    ),
    ("kind", CATEGORY, "inline, reference, autolink, image or html"),
    ("in_footnote", BOOL, "the link sits inside a footnote"),
    ("internal", BOOL, "relative or same-site link"),
    ("scheme", STRING, "URL scheme (https, mailto, ...), null for relative links"),
)

PROBLEMS = _columns(
    ("path", STRING, "the file's path relative to the archive root"),
    (
        "severity",
        CATEGORY,
        "error: file skipped, unreadable; warning: loaded with a defect, or left out on "
        "purpose (a link, a site's page)",
    ),
    ("code", STRING, "a stable code, e.g. yaml-invalid, not-utf8, date-missing"),
    ("message", STRING, "what is wrong and what to do about it"),
    ("line", "Int64", "1-based line in the file, null when there is none"),
)

ENTITIES = _columns(
    ("post_id", STRING, "the post it belongs to"),
    ("section_id", STRING, "the section it belongs to"),
    ("text", STRING, "the entity as written"),
    ("label", CATEGORY, "ORG, PRODUCT, PERSON, GPE, ... (one label per entity_id)"),
    ("entity_id", STRING, "the gazetteer id; else a normalised form of the text"),
    ("start_char", INT, "offset into the section's text (or its footnotes when in_footnote)"),
    ("end_char", INT, "end offset, exclusive"),
    ("source", CATEGORY, "gazetteer or model"),
    ("in_footnote", BOOL, "found in the section's footnotes rather than its text"),
    ("model_label", STRING, "the label this mention got before ids were given one label"),
)

TOPICS = _columns(
    ("post_id", STRING, "the post it belongs to"),
    ("section_id", STRING, "the section tagged"),
    ("topic", STRING, "topic id from the taxonomy"),
    ("group", STRING, "the topic's group"),
    ("role", CATEGORY, "about (the section's subject or a substantial part of it) or mention"),
    ("mentions", INT, "how many matches (entities and terms) support the topic"),
    ("evidence", OBJECT, "sorted list of the entity ids and terms that matched"),
    ("date", UTC_DATE, "the post's date"),
    ("week", STRING, "the post's ISO week label"),
    (
        "score",
        FLOAT,
        "the weighted evidence: 3 per match in the heading, 1 in the text, 0.5 in a footnote",
    ),
    ("section_role", CATEGORY, "the role from the section's own evidence"),
    ("subject", BOOL, "about because the post's title names the archive's subject"),
    ("in_heading", BOOL, "the heading names the topic"),
    ("coverage", FLOAT, "share of the text's sentences that hold evidence for the topic"),
    ("share", FLOAT, "the score as a share of the section's leading topic's score"),
)

POST_TOPICS = _columns(
    ("post_id", STRING, "the post"),
    ("topic", STRING, "topic id from the taxonomy"),
    ("group", STRING, "the topic's group"),
    (
        "role",
        CATEGORY,
        "about (a section is about it, the title names it, or enough evidence) or mention",
    ),
    ("score", FLOAT, "the topic's score summed over the post's sections, plus its title's"),
    ("sections", INT, "how many of the post's sections are about the topic"),
    ("date", UTC_DATE, "the post's date"),
    ("week", STRING, "the post's ISO week label"),
    ("in_title", BOOL, "the post's title names the topic"),
    ("subject", BOOL, "about because nearly every post of the archive is about the topic"),
)

SENTIMENT = _columns(
    ("post_id", STRING, "the post it belongs to"),
    ("section_id", STRING, "the section scored (every section has a row)"),
    ("compound", FLOAT, "word-weighted mean of the sentences' VADER compound scores, -1 to 1"),
    ("label", CATEGORY, "positive, negative, neutral or mixed (sentiment_model.py)"),
    ("pos", FLOAT, "word-weighted mean of VADER's positive proportion"),
    ("neg", FLOAT, "word-weighted mean of VADER's negative proportion"),
    ("neu", FLOAT, "word-weighted mean of VADER's neutral proportion"),
    ("sentences", INT, "sentences scored (text and footnotes)"),
    ("positive_sentences", INT, "sentences with compound >= 0.05"),
    ("negative_sentences", INT, "sentences with compound <= -0.05"),
    ("words", INT, "words scored"),
    ("positive_share", FLOAT, "share of words in positive sentences (the author's weigh 3x)"),
    ("negative_share", FLOAT, "share of words in negative sentences (the author's weigh 3x)"),
    ("rule_label", CATEGORY, "the label of the rules alone (label is the learned model's)"),
    (
        "confidence",
        FLOAT,
        "the model's probability of label (of positive and negative together for a section "
        "torn between them; null when labelled by rules)",
    ),
)

PHRASES = _columns(
    ("post_id", STRING, "the post it belongs to"),
    ("section_id", STRING, "the section it belongs to"),
    ("phrase", STRING, "normalised: lemmatised, lower-case, no determiners or filler"),
    ("text", STRING, "the phrase as written"),
    ("kind", CATEGORY, "entity, noun_phrase, or term (no parser: model none)"),
    ("entity_id", STRING, "the entity's id for kind entity, else null"),
    ("start_char", INT, "offset into the section's text (or its footnotes when in_footnote)"),
    ("end_char", INT, "end offset, exclusive"),
    ("in_footnote", BOOL, "found in the section's footnotes rather than its text"),
)

TABLES: Mapping[str, tuple[Column, ...]] = {
    "posts": POSTS,
    "sections": SECTIONS,
    "links": LINKS,
    "problems": PROBLEMS,
    "entities": ENTITIES,
    "topics": TOPICS,
    "post_topics": POST_TOPICS,
    "sentiment": SENTIMENT,
    "phrases": PHRASES,
}


def column_names(table: str) -> list[str]:
    """The contract's column names of ``table``, in order."""
    return [column.name for column in TABLES[table]]


def empty(table: str) -> pd.DataFrame:
    """An empty DataFrame with the contract's columns and dtypes."""
    return conform(pd.DataFrame({name: [] for name in column_names(table)}), table)


def conform(frame: pd.DataFrame, table: str) -> pd.DataFrame:
    """Order ``frame``'s contract columns first and cast them to the contract's dtypes.

    Extra columns are kept after the contract's. A missing contract column raises
    ``ValueError`` naming it.
    """
    names = column_names(table)
    missing = [name for name in names if name not in frame.columns]
    if missing:
        raise ValueError(f"table {table!r} lacks contract columns {missing}")
    extra = [name for name in frame.columns if name not in names]
    ordered = frame[names + extra].copy()
    for column in TABLES[table]:
        ordered[column.name] = _cast(ordered[column.name], column.dtype)
    return ordered.reset_index(drop=True)


def _cast(series: pd.Series, dtype: str) -> pd.Series:
    if dtype == UTC_DATE:
        return pd.to_datetime(series, utc=True).astype(UTC_DATE)
    if dtype == OBJECT:
        return series.astype(object)
    if dtype == INT and series.empty:
        return series.astype(INT)
    return series.astype(dtype)


def validate(frame: pd.DataFrame, table: str) -> None:
    """Raise ``ValueError`` when ``frame`` breaks ``table``'s contract (names or dtypes)."""
    for column in TABLES[table]:
        if column.name not in frame.columns:
            raise ValueError(f"table {table!r} lacks column {column.name!r}")
        actual = str(frame[column.name].dtype)
        if actual != column.dtype and not (column.dtype == STRING and actual.startswith("str")):
            raise ValueError(
                f"table {table!r} column {column.name!r} has dtype {actual}, "
                f"the contract says {column.dtype}"
            )
