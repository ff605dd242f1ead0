"""Counts per calendar period, drill-down to the sections behind them, first and last seen.

Every count is of *sections*: a section that names AWS five times counts once for ``aws``. Periods
are calendar periods in UTC (ISO weeks from Monday, months, quarters, years), each labelled by its
first day; every period between the first and the last dated section is present: a count is 0
there, a share is NaN (a period with no posts is a gap, not a zero). Topics count the sections
*about* them by default (``role="about"``); ``role="mention"`` counts those that only name them,
``role=None`` (or ``"any"``) both. Sections under a heading the archive's settings exclude
(``sections.excluded``) are left out of every count. Helpers take a :class:`Corpus` (or a table)
first, so they chain with ``.pipe``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Literal, TypeAlias, get_args

import pandas as pd

from .corpus import Corpus

Freq = Literal["week", "month", "quarter", "year"]
By = Literal["topic", "group", "entity", "domain", "phrase"]
Role = Literal["about", "mention", "any"] | None
ROLES = ("about", "mention", "any")

FREQS: dict[str, str] = {"week": "W-SUN", "month": "M", "quarter": "Q", "year": "Y"}
KEYS: dict[str, str] = {
    "topic": "topic",
    "group": "group",
    "entity": "entity_id",
    "domain": "domain",
    "phrase": "phrase",
}
# What every ``by=`` counts in: each kind of item has its table.
TABLE_OF: dict[str, str] = {
    "topic": "topics",
    "group": "topics",
    "entity": "entities",
    "domain": "links",
    "phrase": "phrases",
}
_LABEL_FORMATS: tuple[tuple[re.Pattern[str], Freq], ...] = (
    (re.compile(r"^(\d{4})-W(\d{1,2})$"), "week"),
    (re.compile(r"^(\d{4})-Q([1-4])$"), "quarter"),
    (re.compile(r"^(\d{4})-(\d{2})$"), "month"),
    (re.compile(r"^(\d{4})$"), "year"),
)

# A period given as a label (2018-W10, 2018-03, 2018-Q1, 2018) or as a date inside it.
PeriodLike: TypeAlias = str | dt.date | pd.Timestamp


def _check_freq(freq: str) -> str:
    if freq not in FREQS:
        raise ValueError(f"freq must be one of {', '.join(FREQS)}, not {freq!r}")
    return FREQS[freq]


def _check_by(by: str) -> str:
    if by not in KEYS:
        raise ValueError(f"by must be one of {', '.join(get_args(By))}, not {by!r}")
    return KEYS[by]


# What a period looks like, for the errors that meet something else.
PERIOD_EXAMPLE = "a period such as 2024-Q1, 2024-03, 2024-W13 or 2024"


def with_role(topics: pd.DataFrame, role: Role = "about") -> pd.DataFrame:
    """The topic rows of ``role``: ``about`` (the section's subject), ``mention`` (only named)
    or None / ``any`` (both). A table without a ``role`` column is all ``about``."""
    if role is None or role == "any":
        return topics
    if role not in ROLES:
        raise ValueError(f"role must be about, mention, any or None, not {role!r}")
    if "role" not in topics.columns:
        return topics if role == "about" else topics.iloc[0:0]
    return topics[topics["role"] == role]


def analysed_sections(data: Corpus | pd.DataFrame) -> pd.DataFrame:
    """The sections that count: those not flagged ``excluded`` by the archive's settings."""
    sections = data.sections if isinstance(data, Corpus) else data
    if "excluded" not in sections.columns:
        return sections
    return sections[~sections["excluded"].fillna(False).astype(bool)]


def table_and_sections(
    data: Corpus | pd.DataFrame, sections: pd.DataFrame | None, table: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A helper's inputs: a corpus's ``table`` and the sections that count
    (:func:`analysed_sections`), or a table and ``sections=`` as given (the older form)."""
    if isinstance(data, Corpus):
        return getattr(data, table), analysed_sections(data)
    if sections is None:
        raise TypeError(f"pass a corpus, or the {table} table and sections= (for the dates)")
    return data, sections


def _utc(value: PeriodLike) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def period_starts(dates: pd.Series, freq: Freq = "week") -> pd.Series:
    """The first day (00:00 UTC) of the calendar period each date falls in; NaT stays NaT."""
    code = _check_freq(freq)
    naive = pd.to_datetime(dates, utc=True).dt.tz_localize(None)
    starts = naive.dt.to_period(code).dt.start_time
    return starts.dt.tz_localize("UTC").astype("datetime64[ns, UTC]")


def period_range(start: PeriodLike, end: PeriodLike, freq: Freq = "week") -> pd.DatetimeIndex:
    """The first day of every period from the one holding ``start`` to the one holding ``end``."""
    code = _check_freq(freq)
    first = _utc(start).tz_localize(None).to_period(code)
    last = _utc(end).tz_localize(None).to_period(code)
    starts = pd.period_range(first, last, freq=code).start_time
    return pd.DatetimeIndex(starts.tz_localize("UTC"), name="period").astype("datetime64[ns, UTC]")


def period_label(start: PeriodLike, freq: Freq = "week") -> str:
    """A period's label: ``2018-W10``, ``2018-03``, ``2018-Q1`` or ``2018``."""
    _check_freq(freq)
    stamp = _utc(start)
    if freq == "week":
        year, week, _ = stamp.isocalendar()
        return f"{year}-W{week:02d}"
    if freq == "month":
        return f"{stamp.year}-{stamp.month:02d}"
    if freq == "quarter":
        return f"{stamp.year}-Q{stamp.quarter}"
    return f"{stamp.year}"


def parse_period(period: PeriodLike, freq: Freq | None = None) -> tuple[pd.Timestamp, Freq]:
    """The first day and the frequency of a period given as a label or as a date in it.

    A label (``2018-W10``, ``2018-03``, ``2018-Q1``, ``2018``) says its own frequency; a date
    (or a period start from a counts table) needs ``freq``. Anything else (``2024-13``, a week
    53 that the year does not have) raises a ValueError saying what was expected.
    """
    if isinstance(period, str):
        for pattern, label_freq in _LABEL_FORMATS:
            match = pattern.match(period.strip())
            if match:
                if freq is not None and freq != label_freq:
                    raise ValueError(f"period {period!r} is a {label_freq}, not a {freq}")
                return _label_start(period, match, label_freq), label_freq
    if freq is None:
        raise ValueError(
            f"period {period!r}: expected {PERIOD_EXAMPLE}, or a date with freq= "
            "(week, month, quarter or year)"
        )
    _check_freq(freq)
    try:
        stamp = _utc(period)
    except (ValueError, TypeError) as error:
        raise ValueError(f"period {period!r}: expected {PERIOD_EXAMPLE}, or a date") from error
    start = period_starts(pd.Series([stamp]), freq).iloc[0]
    return start, freq


def _label_start(period: str, match: re.Match[str], freq: Freq) -> pd.Timestamp:
    """The first day of the period a label names; a ValueError naming the label when there is
    no such period (month 13, week 54)."""
    year = int(match.group(1))
    try:
        if freq == "week":
            day = dt.date.fromisocalendar(year, int(match.group(2)), 1)
        elif freq == "quarter":
            day = dt.date(year, 3 * int(match.group(2)) - 2, 1)
        elif freq == "month":
            day = dt.date(year, int(match.group(2)), 1)
        else:
            day = dt.date(year, 1, 1)
    except ValueError as error:
        raise ValueError(
            f"period {period!r}: no such {freq} ({error}); expected {PERIOD_EXAMPLE}"
        ) from None
    return _utc(day)


def suggest_freq(
    data: Corpus | pd.Series, *, max_periods: int = 60, at_least: Freq | None = None
) -> Freq:
    """The finest of week, month, quarter, year that spans the dates in at most ``max_periods``
    (and is no finer than ``at_least``)."""
    dates = data.posts["date"] if isinstance(data, Corpus) else data
    dates = pd.to_datetime(dates, utc=True).dropna()
    order: list[Freq] = ["week", "month", "quarter", "year"]
    candidates = order[order.index(at_least) :] if at_least is not None else order
    if dates.empty:
        return candidates[0]
    for freq in candidates[:-1]:
        if len(period_range(dates.min(), dates.max(), freq)) <= max_periods:
            return freq
    return candidates[-1]


def between(
    corpus: Corpus, start: PeriodLike | None = None, end: PeriodLike | None = None
) -> Corpus:
    """The posts dated from ``start`` to ``end`` (days, both included) with their rows.

    With neither given the corpus is returned as it is; with either, undated posts are left
    out (they cannot be placed). ``problems`` is kept whole.
    """
    if start is None and end is None:
        return corpus
    dates = corpus.posts["date"]
    keep = dates.notna()
    if start is not None:
        keep &= dates >= _utc(start).normalize()
    if end is not None:
        keep &= dates < _utc(end).normalize() + pd.Timedelta(days=1)
    posts = set(corpus.posts.loc[keep, "post_id"])

    def rows(frame: pd.DataFrame) -> pd.DataFrame:
        return frame[frame["post_id"].isin(posts)].reset_index(drop=True)

    cut = {name: rows(frame) for name, frame in corpus.tables().items() if name != "problems"}
    return replace(corpus, **cut)


def subject_topics(data: Corpus | pd.DataFrame) -> list[str]:
    """The archive's subjects: the topics its build gave every section because the archive
    as a whole is about them (a "This Week in Rust" is about Rust), most sections first.

    They are rows of the topics table marked ``subject`` (none for an archive of many
    subjects, and none for a table written before the mark). A chart of every topic is best
    drawn without them (``exclude=``): a topic in every section leaves the others no room.
    """
    counts = subject_rows(data)["topic"].astype(str).value_counts()
    return sorted(counts.index, key=lambda topic: (-int(counts[topic]), topic))


def subject_rows(data: Corpus | pd.DataFrame) -> pd.DataFrame:
    """The topic rows the build marked ``subject`` (none in a table without the mark)."""
    topics = data.topics if isinstance(data, Corpus) else data
    if "subject" not in topics.columns:
        return topics.iloc[0:0]
    return topics[topics["subject"].fillna(False).astype(bool)]


def subject_phrase(names: Sequence[str], *, titles: bool = False) -> str:
    """ "Rust, the archive's subject" or "Rust and Go, the archive's subjects": how charts and
    findings name the topics they leave out (``names``: the subjects' labels). With
    ``titles``, "Rust, This Week in Rust and @ThisWeekInRust, which the archive's titles name"
    (the :func:`subject_entities`)."""
    listed = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    if titles:
        return f"{listed}, which the archive's titles name"
    return f"{listed}, the archive's {'subject' if len(names) == 1 else 'subjects'}"


# The words of a name or a title, camel case split ("@ThisWeekInRust" and "This Week in Rust
# 512" share "this week in rust"), lower case but for acronyms: "IN" (India) is not the "In"
# of a title.
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")


def _words(text: str) -> tuple[str, ...]:
    """The words of ``text`` (empty when it has letters they miss, such as another
    script's)."""
    words = _WORD.findall(text)
    if "".join(words) != re.sub(r"[\W_]", "", text):
        return ()
    return tuple(word if len(word) > 1 and word.isupper() else word.lower() for word in words)


def subject_entities(corpus: Corpus) -> list[str]:
    """The entities that nearly every post's title names (as many as make a topic the
    archive's subject: ``topics.SUBJECT_SHARE`` of the titled posts, at least
    ``topics.SUBJECT_MIN_POSTS``), most sections first: the archive's subject and its own
    name. The titles "This Week in Rust 512" name Rust, This Week in Rust and, written as one
    word, @ThisWeekInRust. A chart of every entity is best drawn without them (``exclude=``):
    they come up in most sections and leave the others no room. None for an archive whose
    titles name no entity again and again ("Week 12, 2024")."""
    from .topics import is_subject

    titles = [
        _words(title.lower() if title.isupper() else title)
        for title in corpus.posts["title"].fillna("").astype(str)
    ]
    titles = [words for words in titles if words]
    if corpus.entities.empty or not titles:
        return []
    spans: dict[tuple[str, ...], set[int]] = {}
    longest = 8  # words of the longest name looked for
    for number, words in enumerate(titles):
        for start in range(len(words)):
            for end in range(start + 1, min(len(words), start + longest) + 1):
                spans.setdefault(words[start:end], set()).add(number)
    forms = corpus.entities[["entity_id", "text"]].drop_duplicates()
    posts: dict[str, set[int]] = {}
    for entity_id, text in forms.itertuples(index=False):
        found = spans.get(_words(str(text)))
        if found:
            posts.setdefault(str(entity_id), set()).update(found)
    subjects = [item for item, named in posts.items() if is_subject(len(named), len(titles))]
    totals = item_totals(corpus, "entity")
    return sorted(subjects, key=lambda item: (-int(totals.get(item, 0)), item))


def without_items(
    rows: pd.DataFrame, exclude: str | Sequence[str] = (), *, column: str = "topic"
) -> pd.DataFrame:
    """``rows`` without those whose ``column`` is in ``exclude`` (one item or several): topic
    rows without the topics in it, entity rows (``column="entity_id"``) without its entities."""
    if not exclude:
        return rows
    left_out = [exclude] if isinstance(exclude, str) else list(exclude)
    return rows[~rows[column].astype(str).isin(left_out)]


def _counted_rows(
    table: pd.DataFrame, by: str, role: Role, exclude: str | Sequence[str]
) -> pd.DataFrame:
    """The rows of ``by``'s table that count: topic rows of ``role`` without the topics in
    ``exclude``; the rows of another table without its items in ``exclude``."""
    if by in ("topic", "group"):
        return without_items(with_role(table, role), exclude)
    return without_items(table, exclude, column=KEYS[by])


def tagged_sections(
    corpus: Corpus,
    by: By = "topic",
    *,
    role: Role = "about",
    exclude: str | Sequence[str] = (),
) -> pd.DataFrame:
    """(section_id, item) pairs, one per section and item: the rows every count is made of.

    ``item`` is the topic, the group, the entity id, the linked domain (links to the
    site itself and links without a domain are left out) or the key phrase. Topics and groups
    keep the rows of ``role`` and leave out the topics in ``exclude`` (a group then counts
    its other topics); entities, domains and phrases leave out the items in ``exclude``
    (such as the :func:`subject_entities`). Excluded sections are left out.
    """
    key = _check_by(by)
    table = getattr(corpus, TABLE_OF[by])
    if by == "domain":
        table = table[~table["internal"].astype(bool)]
    frame = _counted_rows(table, by, role, exclude)
    pairs = frame[["section_id", key]].dropna().drop_duplicates()
    if "excluded" in corpus.sections.columns:
        pairs = pairs[pairs["section_id"].isin(analysed_sections(corpus)["section_id"])]
    return pairs.rename(columns={key: "item"}).reset_index(drop=True)


def _dated_sections(
    sections: pd.DataFrame, freq: Freq, start: PeriodLike | None, end: PeriodLike | None
) -> tuple[pd.DataFrame, pd.DatetimeIndex]:
    """Sections with their period, and every period of the range (empty when nothing is dated)."""
    sections = analysed_sections(sections)
    dated = sections.loc[sections["date"].notna(), ["section_id", "date"]]
    dated = dated.assign(period=period_starts(dated["date"], freq))
    if dated.empty and (start is None or end is None):
        return dated, pd.DatetimeIndex([], tz="UTC", name="period")
    first = _utc(start) if start is not None else dated["date"].min()
    last = _utc(end) if end is not None else dated["date"].max()
    index = period_range(first, last, freq)
    if len(index):
        dated = dated[(dated["period"] >= index[0]) & (dated["period"] <= index[-1])]
    return dated, index


def period_counts(
    data: Corpus | pd.DataFrame,
    by: By = "topic",
    *,
    freq: Freq = "week",
    share: bool = False,
    sections: pd.DataFrame | None = None,
    items: Sequence[str] | None = None,
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
    role: Role = "about",
    exclude: str | Sequence[str] = (),
) -> pd.DataFrame:
    """Sections per period and item: one row per period (every one), one column per item.

    Args:
        data: a corpus, or a table with ``section_id`` and the ``by`` column (``topics``,
            ``entities``, ``links`` or ``phrases``); a table needs ``sections=`` for the dates.
        by: ``topic``, ``group``, ``entity`` (entity ids), ``domain`` (linked domains) or
            ``phrase`` (key phrases).
        freq: ``week``, ``month``, ``quarter`` or ``year``.
        share: the share of that period's sections instead of the count; NaN for a period
            without sections (a gap, not a zero).
        sections: the sections table when ``data`` is a table.
        items: these columns, in this order (absent ones as 0); default: every item seen,
            most frequent first.
        start, end: the first and last period (default: those of the first and last dated
            section).
        role: for topics and groups: ``about`` (default), ``mention``, or None for both.
        exclude: items left out (for topics and groups: topic ids), such as the archive's
            :func:`subject_topics` or :func:`subject_entities` (the shares stay of every
            section of the period).

    Returns:
        A frame indexed by ``period`` (first day, UTC); ``attrs`` holds freq, by, value and
        ``sections`` (each period's sections, the denominator of a share, as a list).
    """
    key = _check_by(by)
    if isinstance(data, Corpus):
        pairs = tagged_sections(data, by, role=role, exclude=exclude)
        sections = data.sections
    elif sections is None:
        raise TypeError("period_counts(table, ...) needs sections= (the corpus's sections table)")
    else:
        rows = _counted_rows(data, by, role, exclude)
        rows = rows[rows["section_id"].isin(analysed_sections(sections)["section_id"])]
        pairs = rows[["section_id", key]].dropna().drop_duplicates().rename(columns={key: "item"})
    dated, index = _dated_sections(sections, freq, start, end)
    hits = pairs.merge(dated[["section_id", "period"]], on="section_id")
    counts = hits.groupby(["period", "item"]).size().unstack("item", fill_value=0)
    if items is None:
        totals = hits.groupby("item").size()
        columns = sorted(totals.index, key=lambda item: (-int(totals[item]), str(item)))
    else:
        columns = list(items)
    table = counts.reindex(index=index, columns=columns, fill_value=0).astype("int64")
    table.index.name, table.columns.name = "period", by
    totals_per_period = dated.groupby("period").size().reindex(index, fill_value=0)
    if share:
        denominator = totals_per_period.where(totals_per_period > 0)
        table = table.div(denominator, axis=0).astype("float64")
    table.attrs = {
        "freq": freq,
        "by": by,
        "value": "share" if share else "count",
        "sections": [int(total) for total in totals_per_period],
    }
    return table


def section_totals(
    data: Corpus | pd.DataFrame,
    *,
    freq: Freq = "week",
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
) -> pd.Series:
    """Sections per period (every period present, excluded sections left out): the
    denominator of every share."""
    sections = data.sections if isinstance(data, Corpus) else data
    dated, index = _dated_sections(sections, freq, start, end)
    totals = dated.groupby("period").size().reindex(index, fill_value=0).astype("int64")
    return totals.rename("sections").rename_axis("period")


def row_shares(counts: pd.DataFrame) -> pd.DataFrame:
    """Each row divided by its sum (the mix within a period); an all-zero row is NaN."""
    totals = counts.sum(axis=1)
    shares = counts.div(totals.where(totals > 0), axis=0).astype("float64")
    shares.attrs = {**counts.attrs, "value": "mix"}
    return shares


def top_columns(counts: pd.DataFrame, n: int = 10) -> pd.DataFrame:
    """The ``n`` columns with the largest totals, largest first (ties by name)."""
    totals = counts.sum()
    order = sorted(counts.columns, key=lambda item: (-float(totals[item]), str(item)))
    top = counts[order[:n]]
    top.attrs = dict(counts.attrs)
    return top


def item_totals(
    corpus: Corpus, by: By = "topic", *, role: Role = "about", exclude: str | Sequence[str] = ()
) -> pd.Series:
    """Sections per item over the whole corpus, most frequent first (ties by name), without
    the items in ``exclude`` (for topics and groups: topic ids).

    Every count here is of *sections*: ``item_totals(corpus, "domain")`` is the number of
    sections linking to each site (a section with three links to github.com counts once), not
    the number of links (``corpus.links.groupby("domain").size()``); ``"phrase"`` the sections
    using each phrase, where :func:`weeknotes_analysis.phrases.rank_phrases` counts posts.
    """
    pairs = tagged_sections(corpus, by, role=role, exclude=exclude)
    totals = pairs.groupby("item").size().astype("int64")
    order = sorted(totals.index, key=lambda item: (-int(totals[item]), str(item)))
    return totals.reindex(order).rename("sections").rename_axis(by)


def top_items(
    corpus: Corpus,
    by: By = "topic",
    *,
    n: int = 5,
    role: Role = "about",
    exclude: str | Sequence[str] = (),
) -> list[str]:
    """The ``n`` items found in the most sections, without those in ``exclude``."""
    return [str(item) for item in item_totals(corpus, by, role=role, exclude=exclude).index[:n]]


def activity(
    corpus: Corpus,
    *,
    freq: Freq = "week",
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
) -> pd.DataFrame:
    """Posts, sections, words and links per period (every period present, empty ones 0)."""
    _check_freq(freq)
    posts = corpus.posts.loc[corpus.posts["date"].notna(), ["post_id", "date", "word_count"]]
    posts = posts.assign(period=period_starts(posts["date"], freq))
    if posts.empty and (start is None or end is None):
        index = pd.DatetimeIndex([], tz="UTC", name="period")
    else:
        first = _utc(start) if start is not None else posts["date"].min()
        last = _utc(end) if end is not None else posts["date"].max()
        index = period_range(first, last, freq)
    columns = ["posts", "sections", "words", "links"]
    if not len(index):
        empty = pd.DataFrame({name: pd.Series(dtype="int64") for name in columns}, index=index)
        empty.attrs = {"freq": freq, "by": "activity", "value": "count"}
        return empty
    period_of = posts.set_index("post_id")["period"]

    def per_period(frame: pd.DataFrame, column: str | None = None) -> pd.Series:
        periods = frame["post_id"].map(period_of)
        values = frame[column] if column else pd.Series(1, index=frame.index)
        return values.groupby(periods).sum().reindex(index, fill_value=0).astype("int64")

    table = pd.DataFrame(
        {
            "posts": per_period(posts),
            "sections": per_period(corpus.sections),
            "words": per_period(posts, "word_count"),
            "links": per_period(corpus.links),
        },
        index=index,
    ).rename_axis("period")
    table.attrs = {"freq": freq, "by": "activity", "value": "count"}
    return table


def top_cell(counts: pd.DataFrame) -> tuple[str, str] | None:
    """The item and period label of the largest cell of :func:`period_counts` (the earliest
    and first column on ties), or None when every cell is zero."""
    if counts.empty or not (counts.to_numpy() > 0).any():
        return None
    stacked = counts.to_numpy()
    row, column = divmod(int(stacked.argmax()), stacked.shape[1])
    freq = counts.attrs.get("freq", "week")
    return str(counts.columns[column]), period_label(counts.index[row], freq)


def drill_down(
    corpus: Corpus,
    item: str,
    period: PeriodLike | None = None,
    *,
    by: By = "topic",
    freq: Freq | None = None,
    role: Role = "about",
) -> pd.DataFrame:
    """The sections behind one cell of :func:`period_counts`: those about ``item`` in ``period``.

    Args:
        corpus: the corpus the counts came from.
        item: a topic, group, entity id, domain or phrase (as ``by`` says).
        period: a label (``2018-W10``, ``2018-03``, ``2018-Q1``, ``2018``) or a period start
            with ``freq``; default: every period.
        by: what ``item`` is.
        freq: the frequency of ``period`` when it is a date.
        role: for topics and groups: ``about`` (default), ``mention``, or None for both.

    Returns:
        post_id, title, section_id, heading, date, week, word_count and links (the section's
        link URLs), oldest first.
    """
    pairs = tagged_sections(corpus, by, role=role)
    ids = set(pairs.loc[pairs["item"] == item, "section_id"])
    sections = corpus.sections[corpus.sections["section_id"].isin(ids)]
    if period is not None:
        first, period_freq = parse_period(period, freq)
        sections = sections[period_starts(sections["date"], period_freq) == first]
    titles = corpus.posts.set_index("post_id")["title"]
    urls = corpus.links.groupby("section_id")["url"].agg(list)
    rows = sections.assign(
        title=sections["post_id"].map(titles),
        links=[list(urls.get(section_id, [])) for section_id in sections["section_id"]],
    )
    columns = ["post_id", "title", "section_id", "heading", "date", "week", "word_count", "links"]
    return rows[columns].sort_values(["date", "section_id"], kind="stable").reset_index(drop=True)


def first_last_seen(corpus: Corpus, by: By = "topic", *, role: Role = "about") -> pd.DataFrame:
    """When each item first and last appeared: item, first_seen, last_seen, first_post,
    last_post, sections, posts; oldest first. Undated sections count but give no date."""
    pairs = tagged_sections(corpus, by, role=role)
    rows = pairs.merge(corpus.sections[["section_id", "post_id", "date"]], on="section_id")
    columns = ["item", "first_seen", "last_seen", "first_post", "last_post", "sections", "posts"]
    if rows.empty:
        frame = pd.DataFrame({column: pd.Series(dtype=object) for column in columns})
        return frame.astype(
            {"first_seen": "datetime64[ns, UTC]", "last_seen": "datetime64[ns, UTC]"}
            | {"sections": "int64", "posts": "int64"}
        )
    ordered = rows.sort_values(["date", "section_id"], na_position="last", kind="stable")
    dated = ordered[ordered["date"].notna()]
    grouped = ordered.groupby("item", sort=False)
    first = dated.groupby("item").first()
    last = dated.groupby("item").last()
    table = pd.DataFrame(
        {
            "sections": grouped["section_id"].nunique().astype("int64"),
            "posts": grouped["post_id"].nunique().astype("int64"),
        }
    )
    table = table.assign(
        first_seen=first["date"].reindex(table.index),
        last_seen=last["date"].reindex(table.index),
        first_post=first["post_id"].reindex(table.index),
        last_post=last["post_id"].reindex(table.index),
    )
    table = table.rename_axis("item").reset_index()[columns]
    return table.sort_values(["first_seen", "item"], na_position="last", kind="stable").reset_index(
        drop=True
    )


def new_in_period(
    corpus: Corpus,
    period: PeriodLike | None = None,
    *,
    by: By = "topic",
    freq: Freq | None = None,
    min_sections: int = 1,
    role: Role = "about",
) -> pd.DataFrame:
    """The items first seen in ``period``, as :func:`first_last_seen` rows, most sections first.

    Args:
        corpus: the corpus.
        period: a label (``2018-W10``, ``2018-03``, ``2018-Q1``, ``2018``) or a date with
            ``freq``; default: the latest period with a dated post.
        by: ``topic``, ``group``, ``entity``, ``domain`` or ``phrase``.
        freq: the frequency of a date ``period``, or of the latest one (default: month).
        min_sections: leave out items found in fewer sections (2: no one-off mentions).
        role: for topics and groups: ``about`` (default), ``mention``, or None for both.
    """
    seen = first_last_seen(corpus, by, role=role)
    seen = seen[seen["sections"] >= min_sections]
    if period is None:
        dates = corpus.posts["date"].dropna()
        if dates.empty:
            return seen.iloc[0:0]
        period, freq = dates.max(), freq or "month"
    first, period_freq = parse_period(period, freq)
    new = seen[period_starts(seen["first_seen"], period_freq) == first]
    return new.sort_values(
        ["sections", "item"], ascending=[False, True], kind="stable"
    ).reset_index(drop=True)


def entity_names(corpus: Corpus | pd.DataFrame) -> dict[str, str]:
    """Each entity id's most frequent written form (``aws`` -> ``AWS``), for chart labels; a
    country most often written as its ISO code (the "DE" and "CA" of event listings) by its
    English name ("Germany", "Canada")."""
    from .layout import country_codes
    from .names import normalise

    entities = corpus.entities if isinstance(corpus, Corpus) else corpus
    if entities.empty:
        return {}
    forms = entities.groupby(["entity_id", "text"]).size().reset_index(name="n")
    forms = forms.sort_values(["entity_id", "n", "text"], ascending=[True, False, True])
    best = forms.drop_duplicates("entity_id")
    codes = country_codes()
    names = {}
    for key, text in zip(best["entity_id"].astype(str), best["text"].astype(str), strict=True):
        country = codes.get(text)
        names[key] = country if country is not None and normalise(country) == key else text
    return names


def archive_summary(corpus: Corpus) -> pd.Series:
    """What the archive holds: posts (dated and not), first and last date, weeks with a post,
    sections, words, links, distinct entities and topics, problems and errors."""
    dates = corpus.posts["date"].dropna()
    values: dict[str, Any] = {
        "archive": corpus.root or "",
        "posts": len(corpus.posts),
        "undated posts": int(corpus.posts["date"].isna().sum()),
        "first post": dates.min() if len(dates) else pd.NaT,
        "last post": dates.max() if len(dates) else pd.NaT,
        "weeks with a post": int(corpus.posts["week"].dropna().nunique()),
        "sections": len(corpus.sections),
        "words": int(corpus.posts["word_count"].sum()),
        "links": len(corpus.links),
        "distinct entities": int(corpus.entities["entity_id"].nunique()),
        "distinct topics": int(corpus.topics["topic"].nunique()),
        "sections with a topic": int(corpus.topics["section_id"].nunique()),
        "problems": len(corpus.problems),
        "errors (files skipped)": int((corpus.problems["severity"] == "error").sum()),
    }
    return pd.Series(values, dtype=object, name="value")
