"""Takeaways computed from the data: the sentences at the top of the report's index.

Each :class:`Finding` is one sentence with its numbers, the name of the chart that shows it and
the sections behind it (an item and, where it helps, a period). Nothing here knows an archive:
every number comes from the corpus and the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from .analysis import (
    Freq,
    Role,
    analysed_sections,
    entity_names,
    item_totals,
    new_in_period,
    period_counts,
    period_label,
    period_starts,
    subject_phrase,
    subject_rows,
    subject_topics,
    tagged_sections,
)
from .corpus import Corpus
from .topics import Taxonomy

# The group whose split is reported when the taxonomy has it and it was written about.
SPLIT_GROUP = "cloud-vendors"


@dataclass(frozen=True)
class Finding:
    """One takeaway.

    Attributes:
        text: one sentence with its numbers (plain text).
        chart: the figure that shows it (a :func:`~weeknotes_analysis.notebook.save_figure` name).
        by: what ``items`` are: ``topic``, ``entity`` or ``domain``.
        items: the items whose sections are behind it, most important first.
        period: the period label the first item's sections are taken at, if any.
        labels: the items' display names (``AWS`` for ``aws``), in the same order.
    """

    text: str
    chart: str
    by: str = "topic"
    items: tuple[str, ...] = ()
    period: str | None = None
    labels: tuple[str, ...] = ()


def _pct(part: float, whole: float) -> str:
    if not whole:
        return "0%"
    value = 100 * part / whole
    return f"{value:.0f}%" if value >= 10 or value == 0 else f"{value:.1f}%"


def _n(number: int, noun: str) -> str:
    plural = noun[:-1] + "ies" if noun.endswith("y") else noun + "s"
    return f"{number:,} {noun}" if number == 1 else f"{number:,} {plural}"


def _label(taxonomy: Taxonomy, item: str) -> str:
    topic = taxonomy.topics.get(item)
    return topic.label if topic is not None else item


# What the leading topic is, by the role of the rows counted.
_LEADING = {
    "about": "the most written-about topic",
    "mention": "the topic most often named in passing",
    "any": "the topic that comes up most, as a subject or in passing",
}


def leading_topic(
    corpus: Corpus, *, freq: Freq, taxonomy: Taxonomy, role: Role = "about"
) -> Finding | None:
    """The topic in the most sections, and the period it peaked in (by sections); besides
    the archive's subjects (:func:`subject_topics`), which the sentence names first. The
    sentence says which rows it counts (``role``): the most written-about topic, the one
    most often named in passing, or the one that comes up most either way."""
    subjects = subject_topics(corpus)
    sections = analysed_sections(corpus)
    totals = item_totals(corpus, "topic", role=role, exclude=subjects)
    besides = _subject_sentence(corpus, subjects, taxonomy, len(sections))
    if totals.empty:
        if not subjects:
            return None
        return Finding(
            f"{besides} No other topic comes up.", "top-topics", "topic", tuple(subjects)
        )
    topic = str(totals.index[0])
    counts = period_counts(corpus, "topic", freq=freq, items=[topic], role=role)
    peak = int(counts[topic].to_numpy().argmax())
    in_peak = int(counts[topic].iloc[peak])
    of_peak = int(counts.attrs["sections"][peak])
    label = period_label(counts.index[peak], freq)
    if subjects:
        besides += " After " + ("it" if len(subjects) == 1 else "them") + ", "
    return Finding(
        f"{besides}{_label(taxonomy, topic)} is {_LEADING[role or 'any']}: "
        f"{_n(int(totals.iloc[0]), 'section')} of {len(sections):,} "
        f"({_pct(int(totals.iloc[0]), len(sections))}). It peaked in {label} with "
        f"{_n(in_peak, 'section')}, {_pct(in_peak, of_peak)} of that {freq}'s {of_peak:,}.",
        "topic-heatmap",
        "topic",
        (topic,),
        label,
    )


def _subject_sentence(
    corpus: Corpus, subjects: list[str], taxonomy: Taxonomy, sections: int
) -> str:
    """ "Every section is about Rust, the archive's subject." (or how many are, when the
    subjects' rows cover fewer than all of them: the sections about every subject); ""
    without subjects."""
    if not subjects:
        return ""
    counted = set(analysed_sections(corpus)["section_id"])
    rows = subject_rows(corpus)
    topic = rows["topic"].astype(str)
    each = [set(rows.loc[topic == subject, "section_id"]) for subject in subjects]
    covered = len(counted.intersection(*each))
    phrase = subject_phrase([_label(taxonomy, subject) for subject in subjects])
    if covered == sections:
        return f"Every section is about {phrase}."
    return f"{covered:,} of {sections:,} sections are about {phrase}."


def _cutoff(dates: pd.Series) -> pd.Timestamp:
    """The start of the latest year of sections when it holds a fifth of them or more, else
    the date from which the latest quarter of the sections were written (an archive that
    spans little time, or whose latest year is a few posts after a long gap)."""
    year_before = (dates.max() - pd.Timedelta(days=365)).normalize()
    if (dates >= year_before).mean() >= 0.2 and (dates < year_before).mean() >= 0.2:
        return year_before
    return pd.Timestamp(dates.sort_values().iloc[int(len(dates) * 0.75)]).normalize()


def risers_and_fallers(
    corpus: Corpus,
    *,
    taxonomy: Taxonomy,
    role: Role = "about",
    min_sections: int = 3,
) -> list[Finding]:
    """The topic whose share of sections rose most in the latest year against the years
    before, and the one that fell most (each needs ``min_sections`` on its side)."""
    sections = analysed_sections(corpus)
    dated = sections[sections["date"].notna()]
    if dated.empty:
        return []
    cutoff = _cutoff(dated["date"])
    late = dated["date"] >= cutoff
    before, since = int((~late).sum()), int(late.sum())
    if not before or not since:
        return []
    pairs = tagged_sections(corpus, "topic", role=role).merge(
        dated[["section_id", "date"]], on="section_id"
    )
    pairs = pairs.assign(late=pairs["date"] >= cutoff)
    table = pairs.groupby(["item", "late"]).size().unstack("late", fill_value=0)
    table = table.reindex(columns=[False, True], fill_value=0)
    change = table[True] / since - table[False] / before
    day = cutoff.strftime("%Y-%m-%d")
    findings = []
    for word, ordered, side in (
        ("Rising", change.sort_values(ascending=False, kind="stable"), True),
        ("Falling", change.sort_values(kind="stable"), False),
    ):
        candidates = [t for t in ordered.index if table.loc[t, side] >= min_sections]
        if not candidates or (ordered[candidates[0]] <= 0 if side else ordered[candidates[0]] >= 0):
            continue
        topic = str(candidates[0])
        old, new = int(table.loc[topic, False]), int(table.loc[topic, True])
        findings.append(
            Finding(
                f"{word}: {_label(taxonomy, topic)} went from {_pct(old, before)} of sections "
                f"before {day} ({old:,} of {before:,}) to {_pct(new, since)} since "
                f"({new:,} of {since:,}).",
                "topic-heatmap",
                "topic",
                (topic,),
            )
        )
    return findings


def group_split(corpus: Corpus, *, taxonomy: Taxonomy, role: Role = "about") -> Finding | None:
    """How the sections of one topic group split between its topics: the cloud vendors when
    the taxonomy has them and they were written about, else the busiest group of two or more
    topics."""
    totals = item_totals(corpus, "topic", role=role)
    groups = {
        group: [t for t in members if t in totals.index]
        for group, members in taxonomy.groups().items()
    }
    groups = {group: members for group, members in groups.items() if len(members) >= 2}
    if not groups:
        return None
    group = (
        SPLIT_GROUP
        if SPLIT_GROUP in groups
        else max(groups, key=lambda g: int(totals[groups[g]].sum()))
    )
    members = sorted(groups[group], key=lambda t: -int(totals[t]))
    tags = int(totals[members].sum())
    parts = ", ".join(
        f"{_label(taxonomy, t)} {_pct(int(totals[t]), tags)} ({int(totals[t]):,})" for t in members
    )
    name = group.replace("-", " ")
    return Finding(
        f"Among {name}, {tags:,} tags split: {parts}.",
        "cloud-vendors" if group == SPLIT_GROUP else "topic-heatmap",
        "topic",
        tuple(members),
        labels=tuple(_label(taxonomy, t) for t in members),
    )


def new_in_latest_year(corpus: Corpus, *, min_sections: int = 2) -> Finding | None:
    """Entities first seen in the latest year, found in at least ``min_sections`` sections."""
    dates = corpus.posts["date"].dropna()
    if dates.empty:
        return None
    year = str(dates.max().year)
    new = new_in_period(corpus, year, by="entity", min_sections=min_sections)
    if new.empty:
        return Finding(
            f"Nothing first named in {year} came up in {min_sections} sections or more.",
            "entities-by-year",
            "entity",
        )
    top = new.head(3)
    names = entity_names(corpus)
    listed = ", ".join(
        f"{names.get(str(item), str(item))} ({_n(int(n), 'section')})"
        for item, n in zip(top["item"], top["sections"], strict=True)
    )
    return Finding(
        f"New in {year}: {_n(len(new), 'entity')} first named that year came up in "
        f"{min_sections} sections or more, led by {listed}.",
        "entities-by-year",
        "entity",
        tuple(str(item) for item in top["item"]),
        labels=tuple(names.get(str(item), str(item)) for item in top["item"]),
    )


def most_linked(corpus: Corpus) -> Finding | None:
    """The three most linked sites, by sections linking to them."""
    totals = item_totals(corpus, "domain")
    if totals.empty:
        return None
    outside = corpus.links.loc[~corpus.links["internal"].astype(bool), "section_id"]
    with_links = outside[outside.isin(analysed_sections(corpus)["section_id"])].nunique()
    top = totals.head(3)
    listed = ", ".join(
        f"{domain} ({_n(int(n), 'section')}, {_pct(int(n), with_links)})"
        for domain, n in top.items()
    )
    return Finding(
        f"The most linked sites, of {_n(with_links, 'section')} with an outside link: {listed}.",
        "top-domains",
        "domain",
        tuple(str(domain) for domain in top.index),
    )


def longest_gap(corpus: Corpus) -> Finding | None:
    """The archive's span and its longest run of months without a post."""
    dates = corpus.posts["date"].dropna()
    if dates.empty:
        return None
    months = period_starts(dates, "month")
    present = set(months)
    every = pd.date_range(months.min(), months.max(), freq="MS", tz="UTC")
    best: tuple[int, pd.Timestamp | None, pd.Timestamp | None] = (0, None, None)
    run_start, length = None, 0
    for month in every:
        if month in present:
            run_start, length = None, 0
            continue
        run_start = month if run_start is None else run_start
        length += 1
        if length > best[0]:
            best = (length, run_start, month)
    span = (
        f"{_n(len(dates), 'post')} from {dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}"
        f" ({_n(len(present), 'month')} with a post)"
    )
    if best[0] < 2 or best[1] is None or best[2] is None:
        return Finding(f"The archive holds {span}, with no gap of two months or more.", "activity")
    return Finding(
        f"The archive holds {span}; the longest gap runs {_n(best[0], 'month')}, "
        f"{best[1]:%Y-%m} to {best[2]:%Y-%m}, shown as a gap in every chart, never as a zero.",
        "activity",
    )


def findings(
    corpus: Corpus,
    *,
    freq: Freq = "quarter",
    taxonomy: Taxonomy | None = None,
    role: Role = "about",
) -> list[Finding]:
    """The takeaways of the index page: the leading topic and its peak, the fastest riser and
    faller, a group's split, what was new in the latest year, the most linked sites and the
    archive's span and longest gap (those the data supports)."""
    taxonomy = taxonomy or corpus.taxonomy
    found = [
        leading_topic(corpus, freq=freq, taxonomy=taxonomy, role=role),
        *risers_and_fallers(corpus, taxonomy=taxonomy, role=role),
        group_split(corpus, taxonomy=taxonomy, role=role),
        new_in_latest_year(corpus),
        most_linked(corpus),
        longest_gap(corpus),
    ]
    return [finding for finding in found if finding is not None]
