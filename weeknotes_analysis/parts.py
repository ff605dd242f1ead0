"""The parts of an output folder and the archive-wide steps over them.

Every table is split by its posts' dates into parts (a year, a quarter or a month: see
:func:`part_span`). A build finishes the rows of some posts as a cold build does
(:func:`finish_rows`); what needs every post (each entity id's one label, the archive's
subjects) is decided from small totals per part (:func:`label_counts`, :func:`about_counts`),
which the manifest keeps, so that a rebuild of some parts (``build``) and the Dask engine's
workers (``dask_build``) need not load whole tables.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from . import schema
from .corpus import sort_tables
from .nlp import finish_entities
from .process import Settings

if TYPE_CHECKING:
    pass

UNDATED = "undated"


WHOLE = "all"


SPANS = ("year", "quarter", "month")


PART_POSTS = 100


def part_span(posts: pd.DataFrame) -> str:
    """The span of a part: the longest of a year, a quarter or a month whose parts hold at
    most about PART_POSTS posts on average, so that a rebuild of one post rewrites a part of
    about the same size however long the archive is."""
    dates = posts["date"].dropna()
    if dates.empty:
        return SPANS[0]
    years = dates.dt.year.max() - dates.dt.year.min() + 1
    for span, per_year in zip(SPANS, (1, 4, 12), strict=True):
        if len(dates) <= PART_POSTS * years * per_year:
            return span
    return SPANS[-1]


def post_parts(posts: pd.DataFrame, span: str) -> dict[str, str]:
    """Each post's part: the year (``2016``), quarter (``2016-Q1``) or month (``2016-03``) of
    its date, or ``undated``. The names sort in date order."""
    dates = posts["date"]
    names = []
    for year, month in zip(dates.dt.year, dates.dt.month, strict=True):
        if pd.isna(year):
            names.append(UNDATED)
        elif span == "year":
            names.append(f"{int(year):04d}")
        elif span == "quarter":
            names.append(f"{int(year):04d}-Q{(int(month) - 1) // 3 + 1}")
        else:
            names.append(f"{int(year):04d}-{int(month):02d}")
    return dict(zip(posts["post_id"], names, strict=True))


def concat(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The frames one after another; empty frames lack the rows' extra columns (the
    contract's are always there), so they are left out unless all are empty."""
    return pd.concat([f for f in parts if not f.empty] or parts[:1], ignore_index=True)


def ordered(frame: pd.DataFrame, sections: pd.DataFrame, table: str) -> pd.DataFrame:
    return schema.conform(order_like(frame, sections), table)


def order_like(frame: pd.DataFrame, sections: pd.DataFrame) -> pd.DataFrame:
    if frame.empty:
        return frame
    order = {section_id: index for index, section_id in enumerate(sections["section_id"])}
    ordered = frame.assign(_order=frame["section_id"].map(order)).sort_values(
        "_order", kind="stable"
    )
    return ordered.drop(columns="_order").reset_index(drop=True)


Labels = dict[str, dict[str, dict[str, int]]]


def sort_posts(posts: pd.DataFrame) -> pd.DataFrame:
    empty = {name: schema.empty(name) for name in ("sections", "links", "problems")}
    return sort_tables({"posts": posts, **empty})["posts"]


def finish_rows(
    rows: dict[str, pd.DataFrame],
    archive_posts: pd.DataFrame,
    *,
    settings: Settings,
    headings: tuple[str, ...] | list[str],
) -> dict[str, pd.DataFrame]:
    """The raw rows of some posts (every table but post_topics) finished as a cold build
    finishes them, given the archive's posts: in the contract's order, sections flagged
    under ``headings``, entities finished (their labels chosen among these rows only),
    the archive's title subjects applied, post_topics before the archive's post subjects
    are applied (see :func:`weeknotes_analysis.topics.subject_rows`)."""
    from .settings import excluded_sections
    from .topics import archive_subjects, post_topics, subject_rows

    names = ("posts", "sections", "links", "problems")
    frames = sort_tables({name: rows[name] for name in names})
    sections = frames["sections"]
    frames["sections"] = sections.assign(excluded=excluded_sections(sections, headings))
    taxonomy, gazetteer = settings.taxonomy, settings.gazetteer
    entities = finish_entities(rows["entities"], gazetteer=gazetteer)
    frames["entities"] = order_like(entities, sections)
    frames["topics"] = archive_subjects(
        ordered(rows["topics"], sections, "topics"),
        archive_posts,
        sections,
        taxonomy=taxonomy,
        gazetteer=gazetteer,
    )
    topics_of_posts = post_topics(
        frames["topics"], frames["posts"], taxonomy=taxonomy, gazetteer=gazetteer
    )
    frames["post_topics"] = subject_rows(topics_of_posts, frames["posts"], set(), taxonomy=taxonomy)
    frames["sentiment"] = ordered(rows["sentiment"], sections, "sentiment")
    frames["phrases"] = ordered(rows["phrases"], sections, "phrases")
    return frames


def label_counts(entities: pd.DataFrame, part_of: dict[str, str]) -> Labels:
    """Per part, how often the model gave each label to each entity id (what the one label
    per entity id is chosen from, across the archive)."""
    model = entities[entities["source"] == "model"]
    counts: Labels = {}
    if model.empty:
        return counts
    parts = model["post_id"].map(part_of).fillna(UNDATED)
    keys = [parts, model["entity_id"], model["model_label"].astype(str)]
    for (part, entity_id, label), size in model.groupby(keys, observed=True).size().items():
        counts.setdefault(str(part), {}).setdefault(str(entity_id), {})[str(label)] = int(size)
    return counts


def majority(counts: Labels) -> dict[str, str]:
    """Each entity id's most frequent model label across the parts (ties: the first label
    in alphabetical order, as :func:`weeknotes_analysis.nlp.finish_entities` chooses)."""
    totals: dict[str, dict[str, int]] = {}
    for per_part in counts.values():
        for entity_id, labels in per_part.items():
            into = totals.setdefault(entity_id, {})
            for label, count in labels.items():
                into[label] = into.get(label, 0) + count
    return {
        entity_id: min(labels.items(), key=lambda item: (-item[1], item[0]))[0]
        for entity_id, labels in totals.items()
    }


def relabel(entities: pd.DataFrame, labels: dict[str, str], gazetteer: Any) -> pd.DataFrame:
    """The model's entity rows labelled with their id's label across the archive (a
    gazetteer id takes the gazetteer's label)."""
    model = entities["source"] == "model"
    if not model.any():
        return entities
    chosen = {
        entity_id: gazetteer.entries[entity_id].label if entity_id in gazetteer.entries else label
        for entity_id, label in labels.items()
    }
    frame = entities.assign(label=entities["label"].astype(str))
    frame.loc[model, "label"] = frame.loc[model, "entity_id"].map(chosen)
    return schema.conform(frame, "entities")


def title_subjects(posts: pd.DataFrame, settings: Settings) -> set[str]:
    """The topics that the titles of most posts name (see
    :func:`weeknotes_analysis.topics.archive_subjects`, whose rule this is)."""
    from .topics import _title_scores, is_subject

    titled = _title_scores(posts, settings.taxonomy, settings.gazetteer)
    with_title = int(posts["title"].fillna("").str.strip().astype(bool).sum())
    named: dict[str, set[str]] = {}
    for (post_id, topic_id), score in titled.items():
        if score >= settings.taxonomy.topics[topic_id].min_score:
            named.setdefault(topic_id, set()).add(post_id)
    return {
        topic_id for topic_id, post_ids in named.items() if is_subject(len(post_ids), with_title)
    }


def about_counts(post_topics: pd.DataFrame, part_of: dict[str, str]) -> dict[str, dict[str, int]]:
    """Per part, how many posts are about each topic by their own evidence (before the
    archive's subjects are applied)."""
    about = post_topics[(post_topics["role"] == "about") & ~post_topics["subject"].astype(bool)]
    counts: dict[str, dict[str, int]] = {}
    parts = about["post_id"].map(part_of).fillna(UNDATED)
    for (part, topic), size in about.groupby([parts, about["topic"]], observed=True).size().items():
        counts.setdefault(str(part), {})[str(topic)] = int(size)
    return counts


def post_subjects(post_about: dict[str, dict[str, int]], posts: int) -> set[str]:
    """The topics nearly every post is about (see ``topics._archive_subject_posts``, whose
    rule this is): the posts that only mention them are about them too."""
    from .topics import is_subject

    totals: dict[str, int] = {}
    for counts in post_about.values():
        for topic, count in counts.items():
            totals[topic] = totals.get(topic, 0) + count
    return {topic for topic, count in totals.items() if is_subject(count, posts)}
