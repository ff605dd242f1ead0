"""The sentiment table: VADER sentence by sentence, labels, post rollup, counts per year."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis import schema
from weeknotes_analysis.evaluate import evaluate_gold
from weeknotes_analysis.sentiment import (
    FEATURES,
    LABELS,
    LEXICON,
    MIXED_MIN_SHARE,
    NEGATIVE,
    POSITIVE,
    is_listing,
    is_sarcastic,
    label,
    lexicon_changes,
    polarity,
    post_label,
    post_sentiment,
    score_text,
    sentences,
    sentiment,
    sentiment_by_period,
    sentiment_by_year,
)

from .conftest import CORPORA, need

GOLD = CORPORA.parent / "eval" / "gold-dev.jsonl"
GOLD_RUST = CORPORA.parent / "eval" / "gold-dev-twir.jsonl"
HELD_OUT = Path(__file__).parent / "fixtures" / "gold-heldout-ignoreme.jsonl"

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


def test_the_problem_a_release_solves_is_not_the_authors_complaint():
    solved = (
        "Until now you had to poll an SQS queue yourself, which was slow and painful to "
        "maintain. Now Lambda reads the queue for you, and it is a great improvement."
    )
    assert score_text(solved)["label"] == "positive"
    assert score_text(solved)["negative_sentences"] == 0
    # A complaint in the past tense stays a complaint.
    assert (
        score_text("The language had to dedicate so much to one ugly, awful problem.")["label"]
        == "negative"
    )
    assert (
        score_text(
            "The upgrade broke everything and the migration was an awful mess. "
            "The release notes are fantastic and the new features a joy."
        )["label"]
        == "mixed"
    )


def test_the_authors_own_mixed_verdict_makes_a_section_mixed():
    verdict = (
        "The new assistant writes decent code and the demos are impressive. It also invents "
        "APIs with great confidence. I have mixed feelings about it."
    )
    assert score_text(verdict)["label"] == "mixed"
    equal = (
        "Impressive and worrying in about equal parts: it answers well, and it is wrong "
        "with a straight face."
    )
    assert score_text(equal)["label"] == "mixed"
    # A caveat introduced by "on the other hand" is no verdict: the praise carries.
    caveat = (
        "The release is excellent and the new tooling a joy to use. On the other hand, the "
        "docs lag a little."
    )
    assert score_text(caveat)["label"] == "positive"
    # A listing stays informational.
    listing = "\n".join(["Mixed feelings about Rust in 2024", "Async traits", "New lints"])
    assert score_text(listing)["label"] == "neutral"


def test_the_authors_own_sentences_weigh_more_than_the_news_they_comment_on():
    # The announcement's upbeat words weigh as much as the doubt; the author's doubt carries.
    news = (
        "The company announced a premium tier with better dashboards and faster builds, "
        "available from today in every region. It includes support for single sign-on and "
        "audit logs. I am not convinced it is worth the price, and I worry about the lock-in."
    )
    row = score_text(news)
    assert row["label"] == "negative", row
    # The same doubt told as news ("Reviewers were not convinced") weighs its words only.
    told = news.replace("I am not convinced", "Reviewers were not convinced").replace(
        "and I worry", "and they worry"
    )
    other = score_text(told)
    assert other["label"] == "mixed", other
    assert row["compound"] < other["compound"]
    # Words are still counted once: the weight only changes the scores.
    assert row["words"] == other["words"]


def test_scores_of_clear_cases_point_the_right_way():
    assert score_text(POSITIVE_TEXT)["compound"] > 0.5
    assert score_text(NEGATIVE_TEXT)["compound"] < -0.5
    mixed = score_text(MIXED_TEXT)
    assert mixed["positive_sentences"] == mixed["negative_sentences"] == 1
    assert mixed["positive_share"] >= MIXED_MIN_SHARE and mixed["negative_share"] >= MIXED_MIN_SHARE


def test_label_thresholds_and_mixed_needs_both_sides_in_balance():
    assert label(0.05, 0.5, 0.0) == "positive"
    assert label(0.0499, 0.5, 0.0) == "neutral"
    assert label(-0.05, 0.0, 0.5) == "neutral", "a caveat or two is not bad news"
    assert label(-0.15, 0.0, 0.5) == "negative"
    assert label(0.1, 0.5, 0.3) == "mixed"
    assert label(-0.2, 0.3, 0.5) == "negative", "balanced, but the words lean clearly negative"
    # A long section with one sour sentence stays positive.
    assert label(0.3, 0.7, 0.2) == "positive"
    assert label(0.0, 0.1, 0.1) == "neutral", "both sides too small to call it mixed"


def test_the_neutral_band_is_wider_on_the_negative_side():
    assert 0 < POSITIVE < -NEGATIVE


def test_informational_sections_are_neutral_whatever_their_words():
    assert label(0.8, 1.0, 0.0, informational=True) == "neutral"
    assert label(0.1, 0.5, 0.5, informational=True) == "neutral"
    assert label(-0.5, 0.0, 1.0, informational=True) == "neutral"


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


def test_post_rollup_is_word_weighted_and_counts_its_sections_labels():
    sections = sections_of(POSITIVE_TEXT, NEGATIVE_TEXT, NEUTRAL_TEXT, posts=2)
    table = sentiment(sections)
    posts = post_sentiment(table)
    first = table[table["post_id"] == "p0"]
    expected = (first["compound"] * first["words"]).sum() / first["words"].sum()
    row = posts.set_index("post_id").loc["p0"]
    assert row["compound"] == pytest.approx(expected)
    assert row["sections"] == 2 and row["words"] == first["words"].sum()
    # p0 is the praise and the plain description: the praise carries it.
    assert row["label"] == "positive"
    assert posts.set_index("post_id").loc["p1", "label"] == "negative"
    # Each post counts its sections by their own labels (the learned model's).
    counted = posts.set_index("post_id")[[f"{name}_sections" for name in LABELS]]
    expected_counts = pd.crosstab(table["post_id"], table["label"]).reindex(
        columns=list(LABELS), fill_value=0
    )
    assert (counted.to_numpy() == expected_counts.loc[counted.index].to_numpy()).all()
    assert (counted.sum(axis=1) == posts.set_index("post_id")["sections"]).all()


def test_a_posts_label_is_the_stance_its_sections_carry():
    # Words of its sections labelled positive, negative, neutral, mixed.
    assert post_label(300, 0, 500, 0) == "positive"  # one item praised among plain ones
    assert post_label(0, 250, 400, 0) == "negative"
    assert post_label(100, 0, 500, 0) == "neutral"  # the plain items outweigh it five to one
    assert post_label(0, 0, 0, 0) == "neutral"
    assert post_label(300, 200, 100, 0) == "mixed"  # praise and criticism in like weight
    assert post_label(300, 100, 100, 0) == "positive"
    assert post_label(100, 100, 0, 300) == "mixed"
    # Sections that all carry one label give it to their post.
    for index, name in enumerate(LABELS):
        assert post_label(*[400 if i == index else 0 for i in range(len(LABELS))]) == name
    # One praised item and two criticised ones, at more length: the post reads negative.
    sections = sections_of(POSITIVE_TEXT, NEGATIVE_TEXT, NEGATIVE_TEXT + " " + NEGATIVE_TEXT)
    table = sentiment(sections)
    assert table["label"].tolist() == ["positive", "negative", "negative"]
    row = post_sentiment(table).iloc[0]
    assert row["label"] == "negative"
    assert row["rule_label"] in LABELS
    # Where the rolled-up scores read otherwise, the sections decide: a praised item and a
    # longer one of praise and criticism is mixed (the scores: positive); one criticised item
    # among three plain ones of like length is informational (the scores: negative).
    posts = post_sentiment(
        sentiment(
            sections_of(POSITIVE_TEXT, MIXED_TEXT, NEGATIVE_TEXT, *[NEUTRAL_TEXT] * 3)
        ).assign(post_id=["p0", "p0", "p1", "p1", "p1", "p1"])
    ).set_index("post_id")
    assert posts[["label", "rule_label"]].to_dict("index") == {
        "p0": {"label": "mixed", "rule_label": "positive"},
        "p1": {"label": "neutral", "rule_label": "negative"},
    }


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
    # A post is never labelled against all of its sections: praise only where some section
    # praises, criticism only where some section criticises, mixed where both or a mixed one.
    posts = post_sentiment(table).set_index("post_id")
    assert len(posts) == sections["post_id"].nunique()
    for name in ("positive", "negative"):
        assert (posts.loc[posts["label"] == name, f"{name}_sections"] > 0).all(), name
    mixed = posts[posts["label"] == "mixed"]
    both = (mixed["positive_sections"] > 0) & (mixed["negative_sections"] > 0)
    assert (both | (mixed["mixed_sections"] > 0)).all()
    # Every post of the archive opens with an untitled summary before titled items, and a
    # summary is never read positive (its upbeat words are the announcements'), so no post
    # has one label throughout; test_a_posts_label_is_the_stance_its_sections_carry checks
    # that such a post takes it.
    untitled = sections["heading"].fillna("").str.strip().eq("")
    several = sections.groupby("post_id")["post_id"].transform("size").gt(1)
    openings = table.loc[(untitled & several).to_numpy(), "label"]
    assert openings.size == sections["post_id"].nunique()
    assert not openings.eq("positive").any(), openings.value_counts().to_dict()
    single = posts[posts[[f"{n}_sections" for n in LABELS]].max(axis=1) == posts["sections"]]
    for post_id, row in single.iterrows():
        assert row[f"{row['label']}_sections"] == row["sections"], post_id


def test_every_section_of_the_sample_has_a_sentiment_row(sample_corpus):
    table = sentiment(sample_corpus.sections)
    assert len(table) == len(sample_corpus.sections)
    assert table["compound"].between(-1, 1).all()


BAD_NEWS = [
    "A breach at the payment processor exposed the card details of two million customers.",
    "The cloud provider had a six hour outage in its busiest region on Tuesday.",
    "The vendor messed up the rollout and many teams could not deploy for two days.",
    "The streaming service announced a price rise for every plan from next month.",
    "Google is shutting down the messaging app next year, and its users will need to move.",
    "The company announced layoffs of a tenth of its staff after a weak quarter.",
    "A critical vulnerability in the library lets attackers run code on the server.",
    "The old SDK is deprecated and will be discontinued at the end of the year.",
    "Android woes continue: the update drains batteries and reboots phones at random.",
    "A group used a zero-day in the VPN appliance to plant a backdoor on thousands of gateways.",
    "I don\u2019t see the point of these apps. Setting them up is a fiddly process, and the "
    "whole idea is perplexing.",
]
INFORMATION = [
    "Version 3.2 adds support for ARM64 builds and a command to export the configuration. "
    "It supports YAML as well as JSON.",
    "The database is available in three regions, with a free tier of one million requests "
    "per month. Pricing for larger tables follows the usual storage and request charges.",
    "The service runs in three regions. It is written in Go and deployed with Terraform.",
    "Security groups can now be shared between accounts in the same organisation.",
    "The tool allows you to create clusters and helps ensure they stay stable. The release "
    "improves start-up times; this week we highlight tasks for new contributors to join.",
]
PRAISE = [
    "I love this release: the new dashboard is fantastic and setting it up was a joy.",
    "This is a great improvement, and I'm really happy with how well the new scheduler works.",
    "The talks were excellent and I came home inspired with lots of good ideas to try.",
]


@pytest.mark.parametrize("text", BAD_NEWS)
def test_bad_news_of_the_trade_reads_negative(text):
    row = score_text(text)
    assert row["label"] == "negative", row


@pytest.mark.parametrize("text", INFORMATION)
def test_plain_release_notes_read_neutral(text):
    row = score_text(text)
    assert row["label"] == "neutral", row


@pytest.mark.parametrize("text", PRAISE)
def test_praise_reads_positive(text):
    row = score_text(text)
    assert row["label"] == "positive", row


def test_typographic_apostrophes_negate_like_plain_ones():
    # Blogs with smart quotes write "isn\u2019t": VADER only knows "isn't" as a negation.
    plain = polarity("The new keyboard isn't good.")
    assert plain["compound"] < 0
    assert polarity("The new keyboard isn\u2019t good.") == plain
    assert polarity("\u201cGreat\u201d, they said.") == polarity('"Great", they said.')


def test_phrases_count_as_one_word_and_leave_word_counts_alone():
    assert polarity("It supports JSON as well as YAML.")["compound"] == 0.0
    assert polarity("They messed up the migration.")["compound"] < -0.3
    assert polarity("They MESSED   UP the migration.") == polarity("They messed up the migration.")
    assert score_text("It supports JSON as well as YAML.")["words"] == 7


def test_the_authors_liking_is_praise_and_like_meaning_such_as_is_not():
    # "like" is out of the lexicon (it mostly means "such as"); "I like" is the author's praise.
    assert polarity("I like it a lot.")["compound"] > 0.3
    assert polarity("I really like this release.")["compound"] > 0.3
    assert polarity("I don't like the new flags.")["compound"] < -0.3
    assert polarity("I don\u2019t like the new flags.") == polarity("I don't like the new flags.")
    assert polarity("Tools like Terraform and Pulumi manage the state.")["compound"] == 0.0
    assert polarity("I'd like to see more regions.")["compound"] == 0.0
    row = score_text(
        "Kubernetes 1.17 ships volume snapshots in beta. I like it a lot. The kubelet got faster."
    )
    assert row["label"] == "positive", row


LINKS = (
    "Announcing the 1.4 release\n\nBuilding a great parser with combinators\n\n"
    "How we made our CI 40% faster\n\nA tour of the new async traits\n\n"
    "Why I love writing command line tools"
)


def test_a_list_of_links_is_informational_and_neutral():
    assert is_listing(LINKS)
    assert not is_listing(POSITIVE_TEXT) and not is_listing(MIXED_TEXT)
    assert not is_listing("One line\n\nTwo lines"), "too few items to call it a list"
    assert score_text(LINKS)["label"] == "neutral"
    assert score_text(LINKS)["compound"] > POSITIVE, "the words lean positive; the list does not"
    # Short footnotes under prose do not make it a list.
    notes = "See the release notes.\nThe announcement.\nA great talk about it."
    assert sentiment(sections_of(POSITIVE_TEXT, footnotes=(notes,)))["label"].tolist() == [
        "positive"
    ]
    assert score_text(f"{POSITIVE_TEXT}\n{notes}", informational=False)["label"] == "positive"


SUMMARY = (
    "This week Amazon released a useful new database, Docker shipped a great update and "
    "there is an interesting tool for Kubernetes."
)


def test_a_posts_untitled_opening_summary_is_neutral_but_a_titled_section_is_not():
    sections = sections_of(SUMMARY, POSITIVE_TEXT, SUMMARY)
    sections["heading"] = [None, "The release", "Summing up"]
    # The rules' labels (the learned model reads the summary's upbeat announcement words as
    # informational wherever it stands).
    rules = sentiment(sections, method="rules")
    assert rules["label"].tolist() == ["neutral", "positive", "positive"]
    assert rules["label"].tolist() == sentiment(sections)["rule_label"].tolist()
    # A post of one untitled section has no summary: its text is the post.
    alone = sections_of(SUMMARY)
    alone["heading"] = [None]
    assert sentiment(alone, method="rules")["label"].tolist() == ["positive"]
    # A summary that names an outage among the week's news stays informational; the titled
    # section about the outage reads negative.
    news = "A new tool for notebooks, a long outage at the code host, and a database release."
    bad = sections_of(news, BAD_NEWS[1])
    bad["heading"] = [None, "The outage"]
    assert score_text(news)["label"] == "negative"
    assert sentiment(bad)["label"].tolist() == ["neutral", "negative"]


def test_a_heading_that_contradicts_the_text_makes_it_mixed():
    praise = (
        "Luckily the team posted a great, detailed post-mortem within a day. "
        "I really appreciate that kind of openness."
    )
    sections = sections_of(praise, praise, NEGATIVE_TEXT, NEGATIVE_TEXT)
    sections["heading"] = [
        "A long outage at the code host",
        "Post-mortems",
        "A great week for the support team",
        "The new support desk",
    ]
    rules = sentiment(sections, method="rules")["label"].tolist()
    assert rules == ["mixed", "positive", "mixed", "negative"]
    assert score_text(praise, heading="A long outage at the code host")["label"] == "mixed"


def test_every_lexicon_group_says_why_and_scores_its_words(tmp_path):
    words, phrases = lexicon_changes()
    assert words["outage"] < 0 and words["breach"] < 0 and words["support"] == 0
    assert phrases["price rise"] < 0 and phrases["as well"] == 0
    assert all(" " in phrase for phrase in phrases), "a phrase is several words"
    assert all(" " not in word for word in words), "a word with a space belongs to phrases"
    broken = tmp_path / "lexicon.yaml"
    broken.write_text("groups:\n  - words: {outage: -2}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="why"):
        lexicon_changes(broken)
    broken.write_text("groups:\n  - why: talk\n    words: {no: 0}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="quote the word False"):
        lexicon_changes(broken)
    assert words["no"] == words["yes"] == 0, "the bundled file quotes them"
    assert LEXICON.name.endswith(".yaml"), "package data takes resources/*.yaml"


@pytest.mark.corpora
@pytest.mark.parametrize(
    ("archive", "gold", "sections", "floor", "most_flips"),
    [
        # Measured 0.758 with no flip (0.783 before release-note verbs lost their praise);
        # 0.60 with VADER's lexicon and thresholds alone, 0.52 by always saying positive.
        ("ignoreme_corpus", GOLD, 120, 0.74, 2),
        # Mostly lists of links and events: measured 0.817 (0.733 before the release-note
        # verbs), and 0.33 with VADER alone.
        ("rust_corpus", GOLD_RUST, 60, 0.78, 1),
        # Never used to tune the rules: measured 0.617 with no flip (0.600 before), and 0.533
        # with 3 flips with VADER alone.
        ("ignoreme_corpus", HELD_OUT, 60, 0.58, 1),
    ],
)
def test_labels_agree_with_the_hand_labelled_sections(
    request, archive, gold, sections, floor, most_flips
):
    result = evaluate_gold(request.getfixturevalue(archive), need(gold)).sentiment
    assert result["sections"] == sections
    assert result["accuracy"] >= floor
    assert result["flips"] <= most_flips


def test_a_negative_heading_over_a_balanced_text_is_negative():
    text = (
        "I loved this app and its clever snooze feature when it came out. "
        "Sadly the company is shutting it down and the data will be deleted. "
        "It was a great idea. Losing it is a real shame and a bad sign."
    )
    balanced = score_text(text)
    assert balanced["label"] == "mixed"
    assert score_text(text, heading="Mail app shutting down")["label"] == "negative"


def test_ironic_praise_is_negative_and_sincere_praise_is_not():
    sarcastic = (
        "The new checkmark is a bold and simple idea: $8 a month and no identity check, so "
        "everyone can be verified. What could possibly go wrong? Brands will love it."
    )
    short = (
        "The company renamed its app over a weekend and replaced the bird with a letter. "
        "Truly visionary. The brand that took fifteen years to build is gone, and the new one "
        "is great for nobody."
    )
    assert score_text(sarcastic)["label"] == "negative"
    assert score_text(sarcastic.replace("What could possibly go wrong? ", ""))["label"] == (
        "positive"
    )
    assert score_text(short)["label"] == "negative"
    assert score_text(short.replace("Truly visionary.", ""))["label"] != "negative", (
        "the praise is what made it read positive"
    )
    sincere = (
        "The release adds a debugger and a faster compiler. What a great release! How Rust "
        "Achieves Thread Safety. is the talk to watch, and I'm sure the docs will improve."
    )
    assert score_text(sincere)["label"] == "positive"
    assert not is_sarcastic("How Rust Achieves Thread Safety.")
    assert not is_sarcastic("What a mess.")
    assert is_sarcastic("How generous.")


def test_the_authors_short_verdicts_are_features_of_their_own():
    # Tone in the long sentences, the verdict in a short one of its own: the model reads
    # the short verdicts' mean compound and the last one's apart from the rest.
    def verdicts(text: str) -> tuple[float, float]:
        named = dict(zip(FEATURES, score_text(text)["features"], strict=True))
        return named["verdict_compound"], named["last_verdict"]

    news = (
        "The studio in Montreal closes, and about 150 developers lose their jobs this week, "
        "the head of the division told the staff in a short video call on Monday morning."
    )
    assert verdicts(news) == (0.0, 0.0)  # a long sentence tells the news: no verdict
    bad = verdicts(news + " This is bad news.")
    assert bad[0] < -0.3 and bad[1] == bad[0]
    both = verdicts(news + " I love the new games. Sadly, this is a terrible way to end it.")
    assert both[0] < 0 < verdicts(news + " I love the new games.")[1]
    assert both[1] < -0.3  # the last verdict is the closing one
    # A short sentence without a stance, or a strong one neither the author's nor on the
    # news, is no verdict.
    assert verdicts(news + " It ships on Friday.") == (0.0, 0.0)
    assert verdicts(news + " Players love the new games.") == (0.0, 0.0)
