"""The public API: a small top level, modules by job, one vocabulary across the helpers."""

from __future__ import annotations

import importlib
import subprocess
import sys
import warnings

import pandas as pd
import pytest

import weeknotes_analysis as wa
from weeknotes_analysis import analysis, phrases, sentiment

from .conftest import REPO


def test_the_top_level_is_small_and_dir_lists_what_can_be_imported():
    assert set(wa.__all__) == {
        "__version__",
        "load_corpus",
        "Corpus",
        "build_report",
        "BuildLockedError",
        "OutputError",
        "ReportError",
        "SettingsError",
        "StrictError",
    }
    listed = dir(wa)
    assert set(wa.__all__) <= set(listed)
    for name in listed:
        assert getattr(wa, name) is not None, name
    # Every module of the package is listed, so tab completion finds the charts.
    modules = {p.stem for p in (REPO / "weeknotes_analysis").glob("*.py")} - {"__init__"}
    # (cli is the command line; the engines and the parts of the output are the build's
    # business.)
    assert modules - {"cli", "dask_engine", "dask_build", "engine", "parts"} <= set(listed)
    assert not set(wa.DEPRECATED) & set(listed)


@pytest.mark.parametrize("name", sorted(wa.MODULES))
def test_no_module_is_shadowed_by_a_function(name):
    module = importlib.import_module(f"weeknotes_analysis.{name}")
    assert getattr(wa, name) is module
    assert importlib.import_module(f"weeknotes_analysis.{name}").__name__.endswith(name)


def test_phrases_and_sentiment_are_modules_again():
    import weeknotes_analysis.phrases as phrases_module
    import weeknotes_analysis.sentiment as sentiment_module

    assert phrases_module.__name__ == "weeknotes_analysis.phrases"
    assert sentiment_module.__name__ == "weeknotes_analysis.sentiment"
    assert callable(phrases_module.phrases) and callable(sentiment_module.sentiment)


@pytest.mark.parametrize("name", sorted(wa.DEPRECATED))
def test_an_old_flat_name_warns_and_gives_the_modules_object(name):
    module = importlib.import_module(f"weeknotes_analysis.{wa.DEPRECATED[name]}")
    with pytest.warns(DeprecationWarning, match=f"use weeknotes_analysis.{wa.DEPRECATED[name]}"):
        value = getattr(wa, name)
    assert value is getattr(module, name)


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        _ = wa.nothing_here


def test_importing_the_package_loads_no_chart_library():
    # The command line imports the package: matplotlib and Jupyter wait for a chart.
    code = "import sys, weeknotes_analysis; print('matplotlib' in sys.modules)"
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert shown.stdout.strip() == "False"


def test_every_by_accepts_every_kind_of_item_with_a_table(sample_corpus):
    for by in ("topic", "group", "entity", "domain", "phrase"):
        counts = analysis.period_counts(sample_corpus, by, freq="month")
        totals = analysis.item_totals(sample_corpus, by)
        assert not counts.empty and counts.columns.name == by
        assert int(counts.sum().sum()) == int(totals.sum()), by
        item = str(totals.index[0])
        rows = analysis.drill_down(sample_corpus, item, by=by)
        assert len(rows) == int(totals.iloc[0]), by
        seen = analysis.first_last_seen(sample_corpus, by)
        assert item in set(seen["item"])
        newest = analysis.new_in_period(sample_corpus, by=by, freq="year")
        assert set(newest["item"]) <= set(seen["item"])
    # A phrase counts once per section that uses it, however often.
    pairs = sample_corpus.phrases[["section_id", "phrase"]].drop_duplicates()
    assert analysis.item_totals(sample_corpus, "phrase").sum() == len(pairs)


def test_item_totals_by_domain_counts_sections_not_links(sample_corpus):
    external = sample_corpus.links[~sample_corpus.links["internal"].astype(bool)]
    links = external.groupby("domain").size()
    sections = analysis.item_totals(sample_corpus, "domain")
    by_section = external.drop_duplicates(["section_id", "domain"]).groupby("domain").size()
    assert (sections.sort_index() == by_section.sort_index()).all()
    # The sample has sections with several links to one site: the two counts differ there.
    assert (links.reindex(sections.index) > sections).any()


@pytest.mark.parametrize(
    ("period", "says"),
    [
        ("2024-13", "no such month"),
        ("2024-W54", "no such week"),
        ("kubernetes", "expected a period such as 2024-Q1, 2024-03, 2024-W13"),
    ],
)
def test_a_bad_period_says_what_was_expected(sample_corpus, period, says):
    with pytest.raises(ValueError, match=says) as raised:
        analysis.drill_down(sample_corpus, "kubernetes", period)
    assert "2024-Q1, 2024-03, 2024-W13" in str(raised.value)


def test_by_defaults_to_topic_everywhere():
    import inspect

    for name in ("tagged_sections", "period_counts", "item_totals", "top_items"):
        assert inspect.signature(getattr(analysis, name)).parameters["by"].default == "topic"
    for name in ("drill_down", "first_last_seen", "new_in_period"):
        assert inspect.signature(getattr(analysis, name)).parameters["by"].default == "topic"


def test_helpers_take_the_corpus_and_still_the_old_tables(sample_corpus):
    c = sample_corpus
    counted = analysis.analysed_sections(c)
    pd.testing.assert_frame_equal(
        sentiment.sentiment_by_period(c, freq="quarter"),
        sentiment.sentiment_by_period(c.sentiment, counted, freq="quarter"),
    )
    pd.testing.assert_frame_equal(
        sentiment.sentiment_by_year(c), sentiment.sentiment_by_year(c.sentiment, counted)
    )
    pd.testing.assert_frame_equal(
        sentiment.post_sentiment(c), sentiment.post_sentiment(c.sentiment, c.posts)
    )
    pd.testing.assert_frame_equal(phrases.rank_phrases(c), phrases.rank_phrases(c.phrases))
    pd.testing.assert_frame_equal(
        phrases.first_seen(c, freq="month"),
        phrases.first_seen(c.phrases, counted, freq="month"),
    )
    pd.testing.assert_frame_equal(
        phrases.distinctive(c, by="entity", freq="month"),
        phrases.distinctive(c.entities, counted, freq="month"),
    )
    with pytest.raises(TypeError, match="sections="):
        sentiment.sentiment_by_period(c.sentiment)


def test_the_old_names_in_use_still_work_with_a_warning(sample_corpus):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        counts = wa.period_counts(sample_corpus, "topic", freq="month")
    assert any(issubclass(w.category, DeprecationWarning) for w in caught)
    pd.testing.assert_frame_equal(counts, analysis.period_counts(sample_corpus, freq="month"))


def test_discover_takes_n_topics_and_warns_on_its_old_name(sample_corpus):
    from weeknotes_analysis.discover import discover_topics

    chosen = discover_topics(sample_corpus, n_topics=3)
    with pytest.warns(DeprecationWarning, match="n_topics"):
        old = discover_topics(sample_corpus, topics=3)
    assert chosen.yaml == old.yaml
    assert len(chosen.candidates) <= 3
