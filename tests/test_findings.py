"""Takeaways, drill-down pages and readable tables, on hand-made and real corpora."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd
import pytest

from weeknotes_analysis.analysis import item_totals, tagged_sections
from weeknotes_analysis.display import readable
from weeknotes_analysis.pages import page_path, render_item_page
from weeknotes_analysis.takeaways import findings

from .test_analysis import make_corpus, with_subject


def test_findings_on_the_sample_carry_numbers_charts_and_items(sample_corpus):
    found = findings(sample_corpus, freq="month")
    assert len(found) >= 5
    assert all(re.search(r"\d", f.text) for f in found)
    leading = found[0]
    top = item_totals(sample_corpus, "topic").index[0]
    assert leading.items == (top,) and leading.period and leading.chart == "topic-heatmap"
    assert str(int(item_totals(sample_corpus, "topic").iloc[0])) in leading.text
    assert any(f.by == "domain" for f in found) and any(f.chart == "activity" for f in found)


@pytest.mark.corpora
def test_findings_name_the_gap_of_ignoreme(ignoreme_corpus):
    texts = [f.text for f in findings(ignoreme_corpus, freq="quarter")]
    assert any("2020-03 to 2021-12" in text for text in texts)
    assert texts[0].startswith("AWS is the most written-about topic")
    from weeknotes_analysis.analysis import subject_entities

    assert subject_entities(ignoreme_corpus) == []  # "Week 51, 2015" names no entity


def test_the_leading_topic_is_named_after_the_archives_subject():
    found = findings(with_subject(make_corpus()), freq="week")[0]
    assert found.text.startswith(
        "Every section is about Rust, the archive's subject. After it, Kubernetes is the most "
        "written-about topic: 4 sections of 6 (67%)."
    )
    assert found.items == ("kubernetes",)
    # Counting the rows of topics only named, it says so.
    corpus = make_corpus()
    aws = corpus.topics["topic"] == "aws"
    corpus = replace(
        corpus, topics=corpus.topics.assign(role=aws.map({True: "mention", False: "about"}))
    )
    named = findings(corpus, freq="week", role="mention")[0]
    assert named.items == ("aws",) and "most written-about" not in named.text
    assert "AWS is the topic most often named in passing: 2 sections of 6" in named.text
    either = findings(corpus, freq="week", role="any")[0].text
    assert either.startswith(
        "Kubernetes is the topic that comes up most, as a subject or in passing: 4 sections"
    )
    assert findings(corpus, freq="week")[0].text.startswith(
        "Kubernetes is the most written-about topic: 4 sections of 6"
    )
    # Two subjects, one of them on every section but one; an archive of its subject alone.
    two = with_subject(with_subject(make_corpus()), topic="golang")
    gone = (two.topics["topic"] == "golang") & (two.topics["section_id"] == "p4#1")
    two = replace(two, topics=two.topics[~gone])
    text = findings(two, freq="week")[0].text
    assert text.startswith(
        "5 of 6 sections are about Rust and Go, the archive's subjects. After them, Kubernetes"
    )
    only = with_subject(make_corpus())
    only = replace(only, topics=only.topics[only.topics["topic"] == "rust"])
    assert findings(only, freq="week")[0].text == (
        "Every section is about Rust, the archive's subject. No other topic comes up."
    )


@pytest.mark.corpora
def test_this_week_in_rusts_findings_and_charts_look_past_rust(rust_corpus):
    from weeknotes_analysis.analysis import subject_entities, subject_topics

    assert subject_topics(rust_corpus) == ["rust"]
    # Its titles name Rust and the newsletter itself, as does its handle.
    assert subject_entities(rust_corpus) == ["rust", "this-week-in-rust", "thisweekinrust"]
    entities = item_totals(rust_corpus, "entity", exclude=subject_entities(rust_corpus))
    assert entities.index[0] == "cargo"
    totals = item_totals(rust_corpus, "topic")
    assert totals.index[0] == "rust" and totals["rust"] == len(rust_corpus.sections)
    leading = findings(rust_corpus, freq="quarter")[0]
    after = item_totals(rust_corpus, "topic", exclude=["rust"])
    assert leading.items == (after.index[0],)
    assert leading.text.startswith("Every section is about Rust, the archive's subject.")
    assert f"{int(after.iloc[0]):,} sections of {len(rust_corpus.sections):,}" in leading.text


def test_a_topic_page_lists_every_section_newest_period_first_with_anchors():
    corpus = make_corpus()
    page = render_item_page(corpus, "topic", "kubernetes", label="Kubernetes", freq="week")
    ids = re.findall(r"section <code>([^<]+)</code>", page)
    assert ids == ["p3#1", "p1#1", "p1#2", "p4#1"]  # newest first, the undated last
    assert page.index('id="2024-W03"') < page.index('id="2024-W01"')
    for coarser in ('id="2024-01"', 'id="2024-Q1"', 'id="2024"'):
        assert page.count(coarser) == 1  # where a monthly or quarterly link lands
    assert "Heading p3#1" in page and "Third" in page
    assert page_path("topic", "kubernetes") == "topics/kubernetes.html"


def test_a_page_links_the_post_through_the_site_url_setting():
    from weeknotes_analysis.settings import ArchiveSettings

    corpus = replace(
        make_corpus(),
        settings=ArchiveSettings(site_url="https://example.org", post_url="{site_url}/{post_id}/"),
    )
    page = render_item_page(corpus, "topic", "aws", label="AWS", freq="week")
    assert 'href="https://example.org/p1/"' in page


def test_mentions_are_one_parameter_away_on_a_page():
    corpus = make_corpus()
    roles = ["mention" if s == "p2#1" else "about" for s in corpus.topics["section_id"]]
    corpus = replace(corpus, topics=corpus.topics.assign(role=roles))
    about = render_item_page(corpus, "topic", "aws", label="AWS", freq="week")
    anything = render_item_page(corpus, "topic", "aws", label="AWS", freq="week", role=None)
    assert "p2#1" not in about and "p2#1" in anything
    assert set(tagged_sections(corpus, "topic", role="mention")["section_id"]) == {"p2#1"}


def test_readable_tables_show_dates_rounded_numbers_joined_lists_and_none():
    frame = pd.DataFrame(
        {
            "date": pd.to_datetime(["2015-11-24 10:31:17+00:00", None], utc=True),
            "score": [0.123456, float("nan")],
            "keywords": [["gcp", "jenkins"], []],
            "heading": ["A", pd.NA],
        },
        index=[5, 9],
    )
    table = readable(frame, "Posts")
    html = table._repr_html_()
    assert "<caption>Posts</caption>" in html
    assert "2015-11-24</td>" in html and "10:31" not in html
    assert "0.12</td>" in html and "gcp, jenkins" in html
    assert "NaN" not in html and "NaT" not in html and "&lt;NA&gt;" not in html
    assert ">5<" not in html  # no leftover row numbers
    empty = readable(frame.iloc[0:0], "New entities")
    assert empty._repr_html_() == '<p class="wa-none"><strong>New entities</strong>: none</p>'
    assert repr(empty) == "New entities: none"


def test_readable_tables_write_years_without_a_thousands_separator():
    by_year = pd.DataFrame({"sections": [1200, 7]}, index=pd.Index([2015, 2016], name="year"))
    html = readable(by_year, "Sections by year")._repr_html_()
    assert "<td>2015</td>" in html and "2,015" not in html
    assert "1,200" in html


def test_excluded_sections_stay_out_of_the_takeaways():
    from weeknotes_analysis.takeaways import most_linked

    corpus = make_corpus()
    assert "of 2 sections with an outside link" in most_linked(corpus).text
    flagged = replace(
        corpus, sections=corpus.sections.assign(excluded=corpus.sections["section_id"] == "p3#2")
    )
    linked = most_linked(flagged)
    assert "of 1 section with an outside link" in linked.text
    assert linked.items == ("amazon.com",)
