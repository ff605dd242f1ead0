"""The sentiment table: VADER sentence by sentence, labels, post rollup, counts per year."""

from __future__ import annotations

import pandas as pd
import pytest

from weeknotes_analysis import schema
from weeknotes_analysis.sentiment import (
    MIXED_MIN_SHARE,
    label,
    post_sentiment,
    score_text,
    sentences,
    sentiment,
    sentiment_by_period,
    sentiment_by_year,
)

POSITIVE_TEXT = (
    "This release is excellent. The new features are fantastic and I love how fast it is."
)
NEGATIVE_TEXT = "The outage was a disaster. Customers were furious and the support was terrible."
NEUTRAL_TEXT = "The service runs in three regions. It is written in Go and deployed with Terraform."
MIXED_TEXT = (
    "The new release is fantastic, fast and a joy to use. "
    "Sadly the upgrade broke everything and the migration was an awful mess."
)


def sections_of(*texts: str, footnotes: tuple[str, ...] = (), posts: int = 1) -> pd.DataFrame:
    notes = list(footnotes) + [""] * (len(texts) - len(footnotes))
    return pd.DataFrame(
        {
            "post_id": [f"p{i % posts}" for i in range(len(texts))],
            "section_id": [f"p{i % posts}#{i}" for i in range(len(texts))],
            "heading": ["Heading"] * len(texts),
            "text": list(texts),
            "footnotes": notes,
            "date": pd.to_datetime(
                [f"{2016 + i % 3}-03-0{1 + i % 5}" for i in range(len(texts))], utc=True
            ),
        }
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (POSITIVE_TEXT, "positive"),
        (NEGATIVE_TEXT, "negative"),
        (NEUTRAL_TEXT, "neutral"),
        (MIXED_TEXT, "mixed"),
        ("", "neutral"),
    ],
)
def test_hand_written_sections_get_the_expected_label(text, expected):
    assert score_text(text)["label"] == expected


def test_scores_of_clear_cases_point_the_right_way():
    assert score_text(POSITIVE_TEXT)["compound"] > 0.5
    assert score_text(NEGATIVE_TEXT)["compound"] < -0.5
    mixed = score_text(MIXED_TEXT)
    assert mixed["positive_sentences"] == mixed["negative_sentences"] == 1
    assert mixed["positive_share"] >= MIXED_MIN_SHARE and mixed["negative_share"] >= MIXED_MIN_SHARE


def test_label_thresholds_are_vaders_and_mixed_needs_both_sides_in_balance():
    assert label(0.05, 0.5, 0.0) == "positive"
    assert label(0.0499, 0.5, 0.0) == "neutral"
    assert label(-0.05, 0.0, 0.5) == "negative"
    assert label(0.1, 0.5, 0.3) == "mixed"
    # A long section with one sour sentence stays positive.
    assert label(0.3, 0.7, 0.2) == "positive"
    assert label(0.0, 0.1, 0.1) == "neutral", "both sides too small to call it mixed"


def test_an_empty_section_is_neutral_with_compound_zero():
    row = score_text("   \n ")
    assert (row["compound"], row["label"], row["sentences"], row["words"]) == (0.0, "neutral", 0, 0)
    assert row["neu"] == 1.0


def test_long_texts_have_no_length_limit():
    text = "The new dashboard is great. " * 2000 + NEGATIVE_TEXT
    assert len(text) > 50_000
    row = score_text(text)
    assert row["sentences"] == 2002
    assert row["label"] == "positive"


def test_sentences_split_at_ends_and_line_breaks_and_keep_their_quotes():
    text = (
        'It works. Really well!\nA list item\n\n"Quoted." Then (an aside.) v1.2 is out, e.g. now.'
    )
    assert list(sentences(text)) == [
        "It works.",
        "Really well!",
        "A list item",
        '"Quoted."',
        "Then (an aside.) v1.2 is out, e.g. now.",
    ]


def test_every_section_gets_a_row_in_order_and_the_table_keeps_its_contract():
    sections = sections_of(POSITIVE_TEXT, "", NEGATIVE_TEXT, MIXED_TEXT)
    sections.loc[1, "text"] = None
    table = sentiment(sections)
    schema.validate(table, "sentiment")
    assert table["section_id"].tolist() == sections["section_id"].tolist()
    assert table["label"].tolist() == ["positive", "neutral", "negative", "mixed"]
    assert table.loc[1, "compound"] == 0.0


def test_footnotes_count_unless_turned_off():
    sections = sections_of(NEUTRAL_TEXT, footnotes=(NEGATIVE_TEXT,))
    assert sentiment(sections)["label"].tolist() == ["negative"]
    assert sentiment(sections, footnotes=False)["label"].tolist() == ["neutral"]


def test_post_rollup_is_word_weighted_and_labels_by_the_same_rule():
    sections = sections_of(POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT, posts=2)
    table = sentiment(sections)
    posts = post_sentiment(table)
    first = table[table["post_id"] == "p0"]
    expected = (first["compound"] * first["words"]).sum() / first["words"].sum()
    row = posts.set_index("post_id").loc["p0"]
    assert row["compound"] == pytest.approx(expected)
    assert row["sections"] == 2 and row["words"] == first["words"].sum()
    assert row["label"] == label(row["compound"], row["positive_share"], row["negative_share"])
    assert posts.set_index("post_id").loc["p1", "label"] == "negative"


def test_post_rollup_with_posts_adds_title_and_date():
    sections = sections_of(POSITIVE_TEXT, NEGATIVE_TEXT)
    info = pd.DataFrame(
        {"post_id": ["p0"], "title": ["T"], "date": sections["date"][:1], "week": ["2016-W09"]}
    )
    rolled = post_sentiment(sentiment(sections), info)
    assert rolled.columns[:4].tolist() == ["post_id", "title", "date", "week"]
    assert len(rolled) == 1


def test_counts_per_year_cover_every_year_and_shares_add_up():
    sections = sections_of(POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT, MIXED_TEXT, POSITIVE_TEXT)
    sections.loc[4, "date"] = pd.Timestamp("2020-01-01", tz="UTC")
    table = sentiment_by_year(sentiment(sections), sections)
    assert table.index.tolist() == [2016, 2017, 2018, 2019, 2020]
    assert table.loc[2019, "sections"] == 0
    assert table.loc[2016, ["positive", "mixed"]].tolist() == [1, 1]
    shares = table[["positive_share", "negative_share", "neutral_share", "mixed_share"]].sum(axis=1)
    assert shares.round(9).tolist() == [1.0, 1.0, 1.0, 0.0, 1.0]
    monthly = sentiment_by_period(sentiment(sections), sections, freq="month")
    assert monthly["sections"].sum() == 5 and monthly.attrs["freq"] == "month"


@pytest.mark.corpora
def test_every_section_of_ignoreme_has_a_sentiment_row(ignoreme_corpus):
    sections = ignoreme_corpus.sections
    table = sentiment(sections)
    schema.validate(table, "sentiment")
    assert table["section_id"].tolist() == sections["section_id"].tolist()
    assert set(table["label"]) <= {"positive", "negative", "neutral", "mixed"}
    by_year = sentiment_by_year(table, sections)
    assert by_year["sections"].sum() == sections["date"].notna().sum()


def test_every_section_of_the_sample_has_a_sentiment_row(sample_corpus):
    table = sentiment(sample_corpus.sections)
    assert len(table) == len(sample_corpus.sections)
    assert table["compound"].between(-1, 1).all()
