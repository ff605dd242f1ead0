"""Counts per period, drill-down, first and last seen: exact numbers on a small hand-made corpus."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, schema
from weeknotes_analysis.analysis import (
    activity,
    archive_summary,
    between,
    drill_down,
    entity_names,
    first_last_seen,
    item_totals,
    new_in_period,
    parse_period,
    period_counts,
    period_label,
    period_range,
    period_starts,
    row_shares,
    section_totals,
    subject_entities,
    subject_topics,
    suggest_freq,
    top_cell,
    top_columns,
    top_items,
)

# Three dated posts in ISO weeks 2024-W01 (two) and 2024-W03, none in W02, and one undated post.
POSTS = [
    ("p1", "First", "2024-01-01T09:00:00Z"),
    ("p2", "Second", "2024-01-03T10:00:00Z"),
    ("p3", "Third", "2024-01-17T08:00:00Z"),
    ("p4", "Undated", None),
]
SECTIONS = ["p1#1", "p1#2", "p2#1", "p3#1", "p3#2", "p4#1"]
TOPICS = [
    ("p1#1", "kubernetes", "containers"),
    ("p1#1", "aws", "cloud-vendors"),
    ("p1#2", "kubernetes", "containers"),
    ("p2#1", "aws", "cloud-vendors"),
    ("p3#1", "kubernetes", "containers"),
    ("p4#1", "kubernetes", "containers"),
]
ENTITIES = [
    ("p1#1", "aws", "AWS"),
    ("p1#1", "aws", "Amazon Web Services"),
    ("p1#1", "aws", "AWS"),
    ("p1#2", "docker", "Docker"),
    ("p3#1", "aws", "AWS"),
    ("p3#2", "new-thing", "New Thing"),
]
LINKS = [
    ("p1#1", "https://aws.amazon.com/eks/", "amazon.com", False),
    ("p1#1", "/2023/12/older-post/", None, True),
    ("p3#2", "https://github.com/new/thing", "github.com", False),
]
W01, W02, W03 = (pd.Timestamp(day, tz="UTC") for day in ("2024-01-01", "2024-01-08", "2024-01-15"))


def post_of(section_id: str) -> str:
    return section_id.split("#")[0]


def table(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` under ``name``'s contract; contract columns the test does not care about get a
    neutral value, so columns added to the contract later do not break these tests."""
    neutral = {schema.INT: 0, schema.BOOL: False, schema.FLOAT: 0.0}
    # A hand-made topic row is one the section is about.
    roles = {"role": "about", "section_role": "about"}
    for column in schema.TABLES[name]:
        if column.name not in frame:
            frame[column.name] = roles.get(column.name, neutral.get(column.dtype))
    return schema.conform(frame, name)


def make_corpus() -> Corpus:
    dates = {post_id: date for post_id, _, date in POSTS}
    posts = pd.DataFrame(
        {
            "post_id": [p for p, _, _ in POSTS],
            "path": [f"{p}.md" for p, _, _ in POSTS],
            "title": [t for _, t, _ in POSTS],
            "date": [d for _, _, d in POSTS],
            "week": ["2024-W01", "2024-W01", "2024-W03", None],
            "week_start": ["2024-01-01", "2024-01-01", "2024-01-15", None],
            "slug": None,
            "description": None,
            "author": None,
            "categories": [[] for _ in POSTS],
            "keywords": [[] for _ in POSTS],
            "word_count": [100, 50, 80, 10],
            "section_count": [2, 1, 2, 1],
            "link_count": [2, 0, 1, 0],
            "format": "yaml",
            "date_source": "front-matter",
        }
    )
    sections = pd.DataFrame(
        {
            "section_id": SECTIONS,
            "post_id": [post_of(s) for s in SECTIONS],
            "position": [int(s.split("#")[1]) for s in SECTIONS],
            "heading": [f"Heading {s}" for s in SECTIONS],
            "level": 1,
            "text": "text",
            "footnotes": "",
            "word_count": 10,
            "date": [dates[post_of(s)] for s in SECTIONS],
            "week": None,
            "line": 1,
        }
    )
    topics = pd.DataFrame(
        {
            "post_id": [post_of(s) for s, _, _ in TOPICS],
            "section_id": [s for s, _, _ in TOPICS],
            "topic": [t for _, t, _ in TOPICS],
            "group": [g for _, _, g in TOPICS],
            "mentions": 1,
            "evidence": [[t] for _, t, _ in TOPICS],
            "date": [dates[post_of(s)] for s, _, _ in TOPICS],
            "week": None,
            "score": 3.0,
        }
    )
    entities = pd.DataFrame(
        {
            "post_id": [post_of(s) for s, _, _ in ENTITIES],
            "section_id": [s for s, _, _ in ENTITIES],
            "text": [t for _, _, t in ENTITIES],
            "label": "ORG",
            "entity_id": [e for _, e, _ in ENTITIES],
            "start_char": 0,
            "end_char": 3,
            "source": "gazetteer",
            "in_footnote": False,
        }
    )
    links = pd.DataFrame(
        {
            "post_id": [post_of(s) for s, _, _, _ in LINKS],
            "section_id": [s for s, _, _, _ in LINKS],
            "url": [u for _, u, _, _ in LINKS],
            "text": "link",
            "host": None,
            "domain": [d for _, _, d, _ in LINKS],
            "kind": "inline",
            "in_footnote": False,
            "internal": [i for _, _, _, i in LINKS],
            "scheme": None,
        }
    )
    return Corpus(
        posts=table("posts", posts),
        sections=table("sections", sections),
        links=table("links", links),
        problems=schema.empty("problems"),
        entities=table("entities", entities),
        topics=table("topics", topics),
        root="hand-made",
    )


@pytest.fixture(scope="module")
def corpus() -> Corpus:
    return make_corpus()


def as_lists(frame: pd.DataFrame) -> dict[str, list[float]]:
    return {str(column): frame[column].tolist() for column in frame.columns}


def test_weekly_topic_counts_have_every_week_and_zero_for_the_empty_one(corpus):
    counts = period_counts(corpus, "topic", freq="week")
    assert list(counts.index) == [W01, W02, W03]
    assert counts.index.name == "period"
    assert as_lists(counts) == {"kubernetes": [2, 0, 1], "aws": [2, 0, 0]}
    assert counts.attrs == {"freq": "week", "by": "topic", "value": "count", "sections": [3, 0, 2]}


def test_shares_are_of_that_periods_sections_and_a_gap_for_an_empty_period(corpus):
    shares = period_counts(corpus, "topic", freq="week", share=True)
    assert shares.isna().sum().tolist() == [1, 1]
    assert as_lists(shares.fillna(-1)) == {
        "kubernetes": [2 / 3, -1, 0.5],
        "aws": [2 / 3, -1, 0.0],
    }
    totals = section_totals(corpus, freq="week")
    counts = period_counts(corpus, "topic", freq="week")
    assert totals.tolist() == [3, 0, 2]
    pd.testing.assert_frame_equal(
        shares.mul(totals, axis=0).fillna(0.0), counts.astype(float), check_names=False
    )


def test_each_section_counts_once_however_often_an_entity_is_named(corpus):
    counts = period_counts(corpus, "entity", freq="week")
    assert as_lists(counts) == {
        "aws": [1, 0, 1],
        "docker": [1, 0, 0],
        "new-thing": [0, 0, 1],
    }


def test_domains_leave_out_links_to_the_site_itself(corpus):
    counts = period_counts(corpus, "domain", freq="month")
    assert as_lists(counts) == {"amazon.com": [1], "github.com": [1]}


def test_groups_months_quarters_and_years(corpus):
    assert as_lists(period_counts(corpus, "group", freq="month")) == {
        "containers": [3],
        "cloud-vendors": [2],
    }
    quarters = period_counts(corpus, "topic", freq="quarter", start="2023-12-31")
    assert list(quarters.index) == [
        pd.Timestamp("2023-10-01", tz="UTC"),
        pd.Timestamp("2024-01-01", tz="UTC"),
    ]
    assert as_lists(quarters) == {"kubernetes": [0, 3], "aws": [0, 2]}
    assert period_counts(corpus, "topic", freq="year").index.tolist() == [
        pd.Timestamp("2024-01-01", tz="UTC")
    ]


def test_items_fix_the_columns_and_start_end_the_rows(corpus):
    counts = period_counts(
        corpus,
        "topic",
        freq="week",
        items=["aws", "smart-home"],
        start="2023-12-27",
        end="2024-01-20",
    )
    assert list(counts.index) == [pd.Timestamp("2023-12-25", tz="UTC"), W01, W02, W03]
    assert as_lists(counts) == {"aws": [0, 2, 0, 0], "smart-home": [0, 0, 0, 0]}


def test_a_table_pipes_with_its_sections_and_gives_the_same_counts(corpus):
    from_table = corpus.entities.pipe(period_counts, "entity", sections=corpus.sections)
    pd.testing.assert_frame_equal(from_table, period_counts(corpus, "entity"))
    with pytest.raises(TypeError, match="sections="):
        corpus.topics.pipe(period_counts, "topic")


def test_bad_freq_or_by_is_a_clear_error(corpus):
    with pytest.raises(ValueError, match="freq must be one of week, month, quarter, year"):
        period_counts(corpus, "topic", freq="day")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="by must be one of"):
        period_counts(corpus, "author")  # type: ignore[arg-type]


def test_no_dated_posts_gives_an_empty_table_not_an_error(corpus):
    undated = between(corpus, end="2000-01-01")
    counts = period_counts(undated, "topic")
    assert counts.empty and counts.index.name == "period"
    assert activity(undated).empty
    assert first_last_seen(undated, "topic").empty
    assert new_in_period(undated, by="topic").empty


def test_row_shares_sum_to_one_where_anything_was_counted(corpus):
    mix = row_shares(period_counts(corpus, "group", freq="week"))
    assert mix.sum(axis=1, min_count=1).fillna(-1).tolist() == [1.0, -1, 1.0]
    assert as_lists(mix.fillna(-1)) == {
        "containers": [0.5, -1, 1.0],
        "cloud-vendors": [0.5, -1, 0.0],
    }


def test_top_columns_items_and_totals(corpus):
    counts = period_counts(corpus, "entity", freq="week")
    assert list(top_columns(counts, 2).columns) == ["aws", "docker"]
    assert item_totals(corpus, "topic").to_dict() == {"kubernetes": 4, "aws": 2}
    assert top_items(corpus, "entity", n=2) == ["aws", "docker"]


def test_activity_counts_posts_sections_words_and_links_per_period(corpus):
    table = activity(corpus, freq="week")
    assert table.to_dict("list") == {
        "posts": [2, 0, 1],
        "sections": [3, 0, 2],
        "words": [150, 0, 80],
        "links": [2, 0, 1],
    }


def test_drill_down_returns_the_sections_behind_a_cell(corpus):
    rows = drill_down(corpus, "kubernetes", "2024-W01")
    assert rows["section_id"].tolist() == ["p1#1", "p1#2"]
    assert rows["heading"].tolist() == ["Heading p1#1", "Heading p1#2"]
    assert rows["title"].tolist() == ["First", "First"]
    assert rows["links"].tolist() == [["https://aws.amazon.com/eks/", "/2023/12/older-post/"], []]
    assert list(rows.columns) == [
        "post_id",
        "title",
        "section_id",
        "heading",
        "date",
        "week",
        "word_count",
        "links",
    ]
    assert drill_down(corpus, "aws", "2024-01", by="entity")["section_id"].tolist() == [
        "p1#1",
        "p3#1",
    ]
    assert drill_down(corpus, "github.com", by="domain")["section_id"].tolist() == ["p3#2"]
    assert drill_down(corpus, "kubernetes", W03, freq="week")["section_id"].tolist() == ["p3#1"]


@pytest.mark.parametrize("by", ["topic", "group", "entity", "domain"])
def test_every_cell_count_matches_its_drill_down(corpus, by):
    counts = period_counts(corpus, by, freq="week")
    for period in counts.index:
        for item in counts.columns:
            behind = drill_down(corpus, item, period, by=by, freq="week")
            assert len(behind) == counts.loc[period, item]


def test_top_cell_names_the_largest_cell_earliest_first(corpus):
    assert top_cell(period_counts(corpus, "topic", freq="week")) == ("kubernetes", "2024-W01")
    assert top_cell(period_counts(corpus, "topic", freq="month")) == ("kubernetes", "2024-01")
    assert top_cell(period_counts(between(corpus, end="2000-01-01"), "topic")) is None


def test_first_and_last_seen(corpus):
    seen = first_last_seen(corpus, "topic").set_index("item")
    assert seen.loc["kubernetes", "first_seen"] == pd.Timestamp("2024-01-01T09:00:00Z")
    assert seen.loc["kubernetes", "last_seen"] == pd.Timestamp("2024-01-17T08:00:00Z")
    assert (seen.loc["kubernetes", "first_post"], seen.loc["kubernetes", "last_post"]) == (
        "p1",
        "p3",
    )
    assert (seen.loc["kubernetes", "sections"], seen.loc["kubernetes", "posts"]) == (4, 3)
    assert (seen.loc["aws", "last_post"], seen.loc["aws", "sections"]) == ("p2", 2)
    assert list(first_last_seen(corpus, "entity")["item"]) == ["aws", "docker", "new-thing"]


def test_new_in_period(corpus):
    assert new_in_period(corpus, "2024-W03", by="entity")["item"].tolist() == ["new-thing"]
    # Most sections first: kubernetes (4 sections) before aws (2).
    assert new_in_period(corpus, "2024-W01", by="topic")["item"].tolist() == ["kubernetes", "aws"]
    assert new_in_period(corpus, by="entity", min_sections=2)["item"].tolist() == ["aws"]
    assert new_in_period(corpus, "2024-W02", by="entity").empty
    latest_month = new_in_period(corpus, by="entity")
    assert latest_month["item"].tolist() == ["aws", "docker", "new-thing"]
    assert new_in_period(corpus, by="entity", freq="week")["item"].tolist() == ["new-thing"]


def test_between_keeps_whole_days_and_drops_undated_posts(corpus):
    cut = between(corpus, "2024-01-02", "2024-01-03")
    assert cut.posts["post_id"].tolist() == ["p2"]
    assert set(cut.sections["post_id"]) == {"p2"}
    assert set(cut.topics["post_id"]) == {"p2"}
    assert cut.entities.empty and cut.links.empty
    assert between(corpus) is corpus
    assert between(corpus, start="2024-01-10").posts["post_id"].tolist() == ["p3"]


def test_period_labels_and_parsing_round_trip():
    day = pd.Timestamp("2018-03-07", tz="UTC")
    for freq, label in (
        ("week", "2018-W10"),
        ("month", "2018-03"),
        ("quarter", "2018-Q1"),
        ("year", "2018"),
    ):
        start = period_starts(pd.Series([day]), freq).iloc[0]
        assert period_label(start, freq) == label
        assert parse_period(label) == (start, freq)
    assert parse_period("2018-W10")[0] == pd.Timestamp("2018-03-05", tz="UTC")
    assert parse_period(day, "month")[0] == pd.Timestamp("2018-03-01", tz="UTC")
    with pytest.raises(ValueError, match="is a week, not a month"):
        parse_period("2018-W10", "month")
    with pytest.raises(ValueError, match="or a date with freq="):
        parse_period(day)
    assert period_starts(pd.Series([pd.NaT], dtype="datetime64[ns, UTC]")).isna().all()


def test_weeks_start_on_monday_and_cross_years_as_iso_weeks():
    starts = period_range("2020-12-30", "2021-01-12", "week")
    assert [period_label(start, "week") for start in starts] == ["2020-W53", "2021-W01", "2021-W02"]
    assert all(start.day_of_week == 0 for start in starts)


def test_suggest_freq_picks_the_finest_that_fits():
    dates = pd.Series(pd.to_datetime(["2015-01-05", "2022-06-01"], utc=True))
    assert suggest_freq(dates) == "quarter"
    assert suggest_freq(dates, max_periods=400) == "week"
    assert suggest_freq(dates, max_periods=5) == "year"
    assert suggest_freq(dates, max_periods=400, at_least="month") == "month"
    assert suggest_freq(pd.Series([], dtype="datetime64[ns, UTC]")) == "week"


def test_entity_names_take_the_most_frequent_written_form(corpus):
    assert entity_names(corpus) == {"aws": "AWS", "docker": "Docker", "new-thing": "New Thing"}
    # A country most often written as its code, as event listings do, goes by its name; a
    # code that is some other thing's id stays as written.
    rows = [("germany", "DE"), ("germany", "DE"), ("germany", "Germany"), ("ca", "CA")]
    listed = pd.DataFrame({"entity_id": [e for e, _ in rows], "text": [t for _, t in rows]})
    assert entity_names(listed) == {"germany": "Germany", "ca": "CA"}


def test_archive_summary(corpus):
    summary = archive_summary(corpus)
    assert summary["posts"] == 4
    assert summary["undated posts"] == 1
    assert summary["first post"] == pd.Timestamp("2024-01-01T09:00:00Z")
    assert summary["last post"] == pd.Timestamp("2024-01-17T08:00:00Z")
    assert summary["distinct topics"] == 2
    assert summary["sections with a topic"] == 5


def test_sample_counts_agree_with_the_topics_table(sample_corpus):
    counts = period_counts(sample_corpus, "topic", freq="month")
    topics = sample_corpus.topics
    tagged = topics[topics["role"] == "about"].drop_duplicates(["section_id", "topic"])
    assert int(counts.to_numpy().sum()) == len(tagged)
    dates = sample_corpus.sections["date"]
    assert len(counts) == len(period_range(dates.min(), dates.max(), "month"))


def test_topics_count_about_by_default_and_mentions_one_parameter_away(corpus):
    # p1#1 only names AWS; the others are about their topics.
    roles = ["about" if (s, t) != ("p1#1", "aws") else "mention" for s, t, _ in TOPICS]
    mixed = replace(corpus, topics=corpus.topics.assign(role=roles))
    assert item_totals(mixed, "topic").to_dict() == {"kubernetes": 4, "aws": 1}
    assert item_totals(mixed, "topic", role="mention").to_dict() == {"aws": 1}
    assert item_totals(mixed, "topic", role=None).to_dict() == {"kubernetes": 4, "aws": 2}
    assert item_totals(mixed, "topic", role="any").to_dict() == {"kubernetes": 4, "aws": 2}
    assert period_counts(mixed, "topic", freq="week")["aws"].tolist() == [1, 0, 0]
    assert drill_down(mixed, "aws", role="mention")["section_id"].tolist() == ["p1#1"]
    # A table without the column is all "about".
    assert item_totals(corpus, "topic", role="mention").empty
    with pytest.raises(ValueError, match="role must be"):
        item_totals(mixed, "topic", role="named")  # type: ignore[arg-type]


def with_subject(corpus: Corpus, topic: str = "rust", group: str = "languages") -> Corpus:
    """``corpus`` as the build leaves an archive whose titles all name ``topic``: every section
    is about it too, its rows marked ``subject``."""
    dates = corpus.sections.set_index("section_id")["date"]
    rows = pd.DataFrame(
        {
            "post_id": [post_of(s) for s in SECTIONS],
            "section_id": SECTIONS,
            "topic": topic,
            "group": group,
            "mentions": 0,
            "evidence": [[] for _ in SECTIONS],
            "date": [dates[s] for s in SECTIONS],
            "week": None,
            "score": 0.0,
            "subject": True,
        }
    )
    topics = pd.concat([corpus.topics, table("topics", rows)], ignore_index=True)
    return replace(corpus, topics=schema.conform(topics, "topics"))


def test_the_archives_subject_is_found_and_left_out_of_counts_on_request(corpus):
    assert subject_topics(corpus) == []  # no section is about a topic only as the subject
    rusty = with_subject(corpus)
    assert subject_topics(rusty) == ["rust"]
    assert subject_topics(rusty.topics) == ["rust"]
    assert item_totals(rusty, "topic").to_dict() == {"rust": 6, "kubernetes": 4, "aws": 2}
    assert item_totals(rusty, "topic", exclude=["rust"]).to_dict() == {"kubernetes": 4, "aws": 2}
    assert top_items(rusty, "topic", n=1, exclude=subject_topics(rusty)) == ["kubernetes"]
    assert item_totals(rusty, "topic", exclude="rust").to_dict() == {"kubernetes": 4, "aws": 2}
    # A group counts its other topics; shares stay of every section of the period.
    groups = period_counts(rusty, "group", freq="week", exclude=["rust"])
    assert "languages" not in groups.columns
    assert as_lists(groups) == as_lists(period_counts(corpus, "group", freq="week"))
    shares = period_counts(
        rusty.topics, "topic", sections=rusty.sections, share=True, exclude=["rust"]
    )
    assert shares["kubernetes"].tolist()[0] == pytest.approx(2 / 3)
    assert top_cell(period_counts(rusty, "topic", freq="week")) == ("rust", "2024-W01")
    assert top_cell(period_counts(rusty, "topic", freq="week", exclude=["rust"])) == (
        "kubernetes",
        "2024-W01",
    )


def test_excluded_sections_are_left_out_of_counts_shares_and_drill_down(corpus):
    flagged = replace(
        corpus, sections=corpus.sections.assign(excluded=corpus.sections["section_id"] == "p1#2")
    )
    assert item_totals(flagged, "topic").to_dict() == {"kubernetes": 3, "aws": 2}
    assert section_totals(flagged, freq="week").tolist() == [2, 0, 2]
    shares = period_counts(flagged, "topic", freq="week", share=True)
    assert shares["kubernetes"].iloc[0] == 0.5
    assert "p1#2" not in set(drill_down(flagged, "kubernetes")["section_id"])


def test_the_entities_nearly_every_title_names_are_left_out_on_request(tmp_path):
    from weeknotes_analysis.build import build_corpus

    for day in range(1, 7):
        text = f"News from AWS and Docker, day {day}. See https://github.com/aws/lambda.\n"
        (tmp_path / f"2024-01-0{day}.md").write_text(
            f"---\ntitle: Notes In AWS {day}\ndate: 2024-01-0{day}\n---\n\n# Item\n\n{text}"
        )
    built = build_corpus(tmp_path, model="none", phrases="off")
    assert {"aws", "docker"} <= set(built.entities["entity_id"])
    # A handle written as one word names it too; an acronym is not the title's word "In",
    # and a name in another script is not the Latin word it holds.
    extra = built.entities[built.entities["entity_id"] == "docker"].assign(
        entity_id="notesinaws", text="@NotesInAWS"
    )
    india = extra.assign(entity_id="india", text="IN")
    meetup = extra.assign(entity_id="meetup", text="Встреча AWS")
    entities = pd.concat([built.entities, extra, india, meetup], ignore_index=True)
    corpus = replace(built, entities=schema.conform(entities, "entities"))
    subjects = subject_entities(corpus)
    assert subjects == ["aws", "notesinaws"]
    totals = item_totals(corpus, "entity", exclude=subjects)
    assert "aws" not in totals.index and totals["docker"] == 6
    counts = period_counts(corpus, "entity", freq="month", exclude=subjects)
    assert list(counts.columns) == ["docker", "india", "meetup"]
    assert (
        period_counts(corpus.entities, "entity", sections=corpus.sections, exclude="aws")[
            "docker"
        ].sum()
        == 6
    )
    assert item_totals(corpus, "domain", exclude="github.com").empty
    assert top_items(corpus, "entity", n=1, exclude=subjects) == ["docker"]
    # Four titles of six name it: too few.
    fewer = corpus.posts.assign(
        title=["Notes In AWS", "Notes In AWS", "Notes In AWS", "Notes In AWS", "Week 5", "Week 6"]
    )
    assert subject_entities(replace(corpus, posts=fewer)) == []
    assert subject_entities(make_corpus()) == []
