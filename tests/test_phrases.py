"""Key phrases: normalisation, entities kept whole, filler removal, ranking, what was new."""

from __future__ import annotations

import pandas as pd
import pytest

from weeknotes_analysis import schema
from weeknotes_analysis.phrases import (
    build_phrase_pipeline,
    distinctive,
    first_seen,
    is_filler,
    phrases,
    rank_phrases,
)

from .conftest import IGNOREME, SAMPLE, need


@pytest.fixture(scope="session")
def phrase_nlp():
    return build_phrase_pipeline("auto")


@pytest.fixture(scope="session")
def rules_nlp():
    return build_phrase_pipeline("none")


def sections_of(*texts: str, footnotes: tuple[str, ...] = ()) -> pd.DataFrame:
    notes = list(footnotes) + [""] * (len(texts) - len(footnotes))
    return pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(len(texts))],
            "section_id": [f"p{i}#1" for i in range(len(texts))],
            "heading": ["Heading"] * len(texts),
            "text": list(texts),
            "footnotes": notes,
        }
    )


def phrase_list(frame: pd.DataFrame, section: int = 0) -> list[str]:
    return frame.loc[frame["section_id"] == f"p{section}#1", "phrase"].tolist()


@pytest.mark.slow
def test_the_pipeline_holds_what_phrases_need_and_is_loaded_once(phrase_nlp, rules_nlp):
    assert phrase_nlp.pipe_names == [
        "tok2vec",
        "tagger",
        "parser",
        "attribute_ruler",
        "lemmatizer",
        "gazetteer",
    ]
    assert build_phrase_pipeline("auto") is phrase_nlp
    assert rules_nlp.pipe_names == ["gazetteer"]


@pytest.mark.parametrize(
    "nlp_name", [pytest.param("phrase_nlp", marks=pytest.mark.slow), "rules_nlp"]
)
def test_variants_merge_into_one_normalised_phrase(nlp_name, request):
    nlp = request.getfixturevalue(nlp_name)
    frame = phrases(
        sections_of(
            "We run the new Kubernetes clusters on AWS.",
            "A Kubernetes cluster on Amazon Web Services is easy.",
        ),
        nlp,
    )
    schema.validate(frame, "phrases")
    assert phrase_list(frame, 0) == ["kubernetes", "kubernetes cluster", "aws"]
    assert phrase_list(frame, 1) == ["kubernetes", "kubernetes cluster", "aws"]
    aws = frame[frame["phrase"] == "aws"]
    assert aws["text"].tolist() == ["AWS", "Amazon Web Services"]
    assert aws["entity_id"].tolist() == ["aws", "aws"]
    assert set(aws["kind"]) == {"entity"}


@pytest.mark.slow
def test_text_is_as_written_and_offsets_point_at_it(phrase_nlp):
    texts = ("Dropbox's new desktop app calls Lambda functions.",)
    notes = ("The data centers of the AWS cloud are open-source friendly.",)
    frame = phrases(sections_of(*texts, footnotes=notes), phrase_nlp)
    rows = frame.set_index("phrase")
    assert rows.loc["desktop app", "text"] == "desktop app"
    assert rows.loc["aws lambda", "text"] == "Lambda functions", "an alias stays whole"
    assert rows.loc["data center", "text"] == "data centers"
    assert rows.loc["data center", "in_footnote"]
    for row in frame.itertuples():
        source = notes[0] if row.in_footnote else texts[0]
        assert source[row.start_char : row.end_char] == row.text


@pytest.mark.slow
def test_filler_never_becomes_a_phrase(phrase_nlp, rules_nlp):
    text = (
        "There are a lot of things to say. I spent a bit of time with a couple of people, "
        "and it is the same thing again: something for everyone, the whole stuff, this week."
    )
    for nlp in (phrase_nlp, rules_nlp):
        assert phrases(sections_of(text), nlp).empty
    # Filler words, and phrases ending in one: written out, not read back from FILLER.
    for phrase in ("lot", "thing", "bit", "couple", "people", "time", "week", "same thing"):
        assert is_filler(phrase), phrase
    assert is_filler("a lot") and is_filler("a couple")
    assert is_filler("interesting thing") and not is_filler("kubernetes cluster")


@pytest.mark.slow
def test_single_common_nouns_and_pronouns_are_left_out(phrase_nlp):
    frame = phrases(sections_of("It was the app that the company shipped to them."), phrase_nlp)
    assert frame.empty


@pytest.mark.slow
def test_ambiguous_aliases_need_their_context_like_in_the_entities_table(phrase_nlp):
    frame = phrases(
        sections_of(
            "Lambda calculus is what the course was about.",
            "The AWS team made Lambda faster for serverless apps.",
        ),
        phrase_nlp,
    )
    assert "aws lambda" not in phrase_list(frame, 0)
    assert "aws lambda" in phrase_list(frame, 1)


@pytest.mark.slow
def test_a_given_entities_table_decides_the_entities(phrase_nlp):
    sections = sections_of("The Weekly Notes team moved to Kubernetes clusters.")
    text = sections.loc[0, "text"]
    start = text.index("Weekly Notes")
    given = pd.DataFrame(
        {
            "section_id": ["p0#1"],
            "in_footnote": [False],
            "entity_id": ["weekly-notes"],
            "start_char": [start],
            "end_char": [start + len("Weekly Notes")],
        }
    )
    frame = phrases(sections, phrase_nlp, entities=given)
    assert phrase_list(frame) == ["weekly notes", "weekly notes team", "kubernetes cluster"]
    assert frame["entity_id"].dropna().tolist() == ["weekly-notes"]


@pytest.mark.slow
def test_workers_give_the_same_table(phrase_nlp):
    texts = [f"Week {i}: the new Kubernetes clusters run Docker containers." for i in range(6)]
    sections = sections_of(*texts)
    pd.testing.assert_frame_equal(
        phrases(sections, phrase_nlp, jobs=2), phrases(sections, phrase_nlp, jobs=1)
    )


def test_rules_only_fallback_finds_multi_word_terms(rules_nlp):
    frame = phrases(
        sections_of("We moved the Docker containers to open-source load balancers yesterday."),
        rules_nlp,
    )
    assert phrase_list(frame) == ["docker", "docker container", "open source load balancer"]
    assert set(frame["kind"]) == {"entity", "term"}


def phrase_table(rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """(post_id, section_id, phrase) rows as a phrases table."""
    frame = pd.DataFrame(rows, columns=["post_id", "section_id", "phrase"])
    return frame.assign(
        text=frame["phrase"],
        kind="noun_phrase",
        entity_id=None,
        start_char=0,
        end_char=1,
        in_footnote=False,
    )


def test_ranking_puts_what_recurs_across_posts_first_and_never_filler():
    table = phrase_table(
        [
            ("a", "a#1", "load balancer"),
            ("b", "b#1", "load balancer"),
            ("c", "c#1", "load balancer"),
            ("a", "a#1", "docker container"),
            ("a", "a#1", "docker container"),
            ("a", "a#2", "docker container"),
            ("a", "a#2", "docker container"),
            ("b", "b#1", "docker container"),
            ("a", "a#1", "lot"),
            ("b", "b#1", "lot"),
            ("c", "c#1", "lot"),
            ("a", "a#1", "one off"),
        ]
    )
    ranked = rank_phrases(table)
    assert ranked["phrase"].tolist() == ["load balancer", "docker container"]
    assert ranked.iloc[1][["count", "sections", "posts"]].tolist() == [5, 3, 2]
    assert rank_phrases(table, min_posts=1)["phrase"].tolist()[-1] == "one off"
    assert rank_phrases(table, kinds=["entity"]).empty


def dated_sections(weeks: dict[str, str]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "section_id": list(weeks),
            "date": pd.to_datetime(list(weeks.values()), utc=True),
        }
    )


def test_distinctive_finds_what_stands_out_in_a_period_and_flags_it_new():
    sections = dated_sections({"a#1": "2018-01-01", "b#1": "2018-01-08", "c#1": "2018-01-15"})
    rows = []
    for post in "abc":
        rows += [(post, f"{post}#1", "docker container")] * 3
    rows += [("b", "b#1", "direct connect")] * 4 + [("c", "c#1", "direct connect")]
    table = distinctive(phrase_table(rows), sections, freq="week", top=2)
    week2 = table[table["label"] == "2018-W02"]
    assert week2["item"].tolist()[0] == "direct connect"
    assert week2.iloc[0][["count", "rest", "new", "rank"]].tolist() == [4, 1, True, 1]
    week3 = table[table["label"] == "2018-W03"].set_index("item")
    assert not week3.loc["direct connect", "new"]
    new = first_seen(phrase_table(rows), sections, freq="week")
    assert new[["label", "item", "count"]].values.tolist() == [
        ["2018-W01", "docker container", 3],
        ["2018-W02", "direct connect", 4],
    ]


def test_distinctive_works_on_entities_too():
    sections = dated_sections({"a#1": "2018-01-01", "b#1": "2018-02-01"})
    entities = pd.DataFrame(
        {"section_id": ["a#1", "a#1", "b#1"], "entity_id": ["aws"] * 2 + ["gcp"]}
    )
    table = distinctive(entities, sections, freq="month", top=1)
    assert table[["label", "item"]].values.tolist() == [["2018-01", "aws"], ["2018-02", "gcp"]]


@pytest.mark.slow
@pytest.mark.corpora
def test_top_phrases_of_ignoreme_are_meaningful_and_recur(phrase_nlp, ignoreme_corpus):
    need(IGNOREME)
    frame = phrases(ignoreme_corpus.sections, phrase_nlp, entities=ignoreme_corpus.entities, jobs=2)
    schema.validate(frame, "phrases")
    by_count = frame.groupby("phrase").agg(count=("phrase", "size"), posts=("post_id", "nunique"))
    top = by_count.sort_values("count", ascending=False).head(10)
    assert not any(is_filler(phrase) for phrase in top.index), top
    assert not set(top.index) & {"a lot", "things", "people", "a couple", "a bit"}
    assert (top["posts"] >= 3).sum() >= 8, top
    terms = rank_phrases(frame, kinds=["noun_phrase"], top=20)["phrase"].tolist()
    assert {"docker container", "ec2 instance", "machine learning"} <= set(terms), terms


@pytest.mark.slow
def test_top_phrases_of_the_sample_are_not_filler(phrase_nlp, sample_corpus):
    need(SAMPLE)
    frame = phrases(sample_corpus.sections, phrase_nlp, entities=sample_corpus.entities)
    ranked = rank_phrases(frame, top=20)
    assert len(ranked) == 20
    assert not ranked["phrase"].map(is_filler).any()


def test_distinctive_survives_a_one_item_one_period_archive():
    sections = dated_sections({"a#1": "2018-01-01"})
    table = distinctive(phrase_table([("a", "a#1", "direct connect")]), sections)
    assert table[["item", "score", "new"]].values.tolist() == [["direct connect", 0.0, True]]
    assert distinctive(phrase_table([]), sections).empty


@pytest.mark.slow
def test_rules_terms_leave_out_dates_and_time_words_found_by_the_model():
    """With the model, NER marks "Last week" a DATE: its words are no part of a term."""
    from weeknotes_analysis.nlp import build_pipeline

    text = (
        "Last week AWS released new EC2 instances. This year the market grew; "
        "the year ended with Docker containers in every data center."
    )
    found = phrases(sections_of(text), build_pipeline("auto"))
    terms = set(found.loc[found["kind"] == "term", "phrase"])
    assert {"ec2 instance", "docker container", "data center"} <= terms
    assert not any(word in phrase.split() for phrase in terms for word in ("week", "year"))
