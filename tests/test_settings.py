"""Archive settings (weeknotes.toml): excluded headings flagged and left out, recurring headings
found as candidates, bad files named with what to fix."""

from __future__ import annotations

import pytest

from weeknotes_analysis import SettingsError, load_corpus
from weeknotes_analysis.analysis import item_totals
from weeknotes_analysis.settings import (
    excluded_headings,
    load_settings,
    recurring_headings,
    settings_snippet,
)

from .conftest import RUST, need, write

POST = """---
title: Week {n}
date: 2024-01-{day:02d}
---

A word before the first heading (a section without one).

# Kubernetes news

Kubernetes 1.{n} is out with a new scheduler for the cluster.

# Upcoming Events

## Europe

A Kubernetes meetup and a hack night about security vulnerabilities.

## Virtual

Another security hack night.

# Jobs

Kubernetes engineer wanted.
"""


@pytest.fixture
def archive(tmp_path):
    for n in range(1, 5):
        write(tmp_path / "archive", f"2024-01-{n * 7:02d}-week.md", POST.format(n=n, day=n * 7))
    return tmp_path / "archive"


def test_no_settings_file_gives_the_defaults(archive):
    settings = load_settings(archive)
    assert settings.exclude_headings == () and settings.path is None


def test_excluded_headings_take_their_sub_sections_and_leave_the_counts(archive):
    before = load_corpus(archive, model="none")
    assert not before.sections["excluded"].any()
    write(archive, "weeknotes.toml", 'exclude_headings = ["upcoming events", "Job*"]\n')
    corpus = load_corpus(archive, model="none")
    flagged = corpus.sections.loc[corpus.sections["excluded"], "heading"]
    assert sorted(set(flagged)) == ["Europe", "Jobs", "Upcoming Events", "Virtual"]
    assert len(corpus.sections) == len(before.sections)  # kept in the tables
    kept = corpus.sections.loc[~corpus.sections["excluded"], "heading"]
    assert set(kept.dropna()) == {"Kubernetes news"} and kept.isna().sum() == 4
    # Security came only from the event listings: it is gone from the analysis.
    assert "security" in item_totals(before, "topic", role=None).index
    assert "security" not in item_totals(corpus, "topic", role=None).index
    table = excluded_headings(corpus)
    assert table.set_index("heading")["sections"].to_dict() == {"Upcoming Events": 12, "Jobs": 4}


def test_a_config_file_anywhere_and_its_taxonomy_relative_to_it(archive, tmp_path):
    config = write(
        tmp_path / "elsewhere",
        "settings.toml",
        'site_url = "https://example.org/"\nfreq = "month"\ntaxonomy = "topics.yaml"\n',
    )
    settings = load_settings(archive, config=config)
    assert settings.site_url == "https://example.org"
    assert settings.freq == "month"
    assert settings.taxonomy == str((tmp_path / "elsewhere" / "topics.yaml").resolve())


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('exclude_headings = "Jobs"\n', "must be a list of strings"),
        ('freq = "fortnight"\n', "freq must be one of week, month, quarter, year"),
        ('site = "x"\n', "unknown key(s) site"),
        ('site_url = "x\n', "not valid TOML"),
    ],
)
def test_a_bad_settings_file_is_named_with_what_to_fix(archive, content, says):
    write(archive, "weeknotes.toml", content)
    with pytest.raises(SettingsError, match=r"weeknotes\.toml") as error:
        load_settings(archive)
    assert says in str(error.value)


def test_recurring_headings_are_those_in_more_than_half_of_the_posts(archive):
    corpus = load_corpus(archive, model="none")
    recurring = recurring_headings(corpus.sections)
    assert set(recurring["heading"]) == {"Kubernetes news", "Upcoming Events", "Europe"} | {
        "Virtual",
        "Jobs",
    }
    assert recurring["share"].eq(1.0).all()
    assert settings_snippet(["Jobs", 'Say "hi"']) == 'exclude_headings = ["Jobs", "Say \\"hi\\""]'


@pytest.mark.corpora
def test_this_week_in_rust_listings_are_candidates(rust_corpus):
    need(RUST)
    headings = set(recurring_headings(rust_corpus.sections)["heading"])
    assert {"Upcoming Events", "Call for Participation", "Quote of the Week"} <= headings


def test_the_flags_are_written_with_the_tables_and_follow_the_settings(archive, tmp_path):
    from weeknotes_analysis import Corpus

    out = tmp_path / "tables"
    load_corpus(archive, model="none", out=out)
    assert not Corpus.read_parquet(out).sections["excluded"].any()
    write(archive, "weeknotes.toml", 'exclude_headings = ["Jobs"]\n')
    corpus = load_corpus(archive, model="none", out=out)  # no post changed: settings only
    assert corpus.stats["fresh"] == 0
    back = Corpus.read_parquet(out).sections
    assert back["excluded"].equals(corpus.sections["excluded"]) and back["excluded"].sum() == 4
