"""The corpus tables: contracts, the sample archive, both real archives, parquet round trips."""

from __future__ import annotations

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, StrictError, load_corpus, schema

from .conftest import write

LOADER_TABLES = ("posts", "sections", "links", "problems")


def assert_contract(corpus: Corpus) -> None:
    for name, frame in corpus.tables().items():
        schema.validate(frame, name)
        assert list(frame.columns[: len(schema.TABLES[name])]) == schema.column_names(name)


def test_sample_tables_keep_their_contract(sample_corpus):
    assert_contract(sample_corpus)


def test_sample_archive_shape(sample_corpus):
    posts = sample_corpus.posts
    assert len(posts) >= 20
    assert set(posts["format"]) >= {"yaml", "toml", "json"}
    assert posts["date"].notna().all() and str(posts["date"].dt.tz) == "UTC"
    assert posts["post_id"].str.fullmatch(r"\d{4}-\d{2}").all(), "post ids are YYYY-WW, bundles too"
    assert (posts["section_count"] >= 3).all()
    assert sample_corpus.problems.empty
    weeks = posts["week"].tolist()
    assert weeks == sorted(weeks) and len({w[:4] for w in weeks}) >= 2, "spans a year boundary"
    assert sample_corpus.links["in_footnote"].any()
    assert {"inline", "reference"} <= set(sample_corpus.links["kind"])


def test_post_counts_match_their_rows(sample_corpus):
    posts = sample_corpus.posts.set_index("post_id")
    sections = sample_corpus.sections.groupby("post_id").size()
    links = sample_corpus.links.groupby("post_id").size()
    words = sample_corpus.sections.groupby("post_id")["word_count"].sum()
    assert (posts["section_count"] == sections.reindex(posts.index, fill_value=0)).all()
    assert (posts["link_count"] == links.reindex(posts.index, fill_value=0)).all()
    assert (posts["word_count"] == words.reindex(posts.index, fill_value=0)).all()
    assert sample_corpus.links["section_id"].isin(sample_corpus.sections["section_id"]).all()


def test_week_and_week_start_agree(sample_corpus):
    posts = sample_corpus.posts
    assert (posts["week_start"].dt.day_of_week == 0).all()
    iso = posts["date"].dt.isocalendar()
    labels = iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    assert (labels == posts["week"]).all()
    assert ((posts["date"] - posts["week_start"]) < pd.Timedelta(days=7)).all()


def test_parquet_round_trip_keeps_everything(sample_corpus, tmp_path):
    sample_corpus.to_parquet(tmp_path)
    back = Corpus.read_parquet(tmp_path)
    for name, frame in sample_corpus.tables().items():
        pd.testing.assert_frame_equal(back.tables()[name], frame, check_categorical=False)
    assert isinstance(back.posts["keywords"].iloc[0], list)


def test_ignoreme_2017_45(ignoreme_corpus):
    corpus = ignoreme_corpus
    assert len(corpus.posts) == 82
    assert (corpus.problems["severity"] != "error").all()
    sections = corpus.sections[corpus.sections["post_id"] == "2017-45"]
    assert sections["heading"].tolist()[1:] == [
        "AWS Direct Connect Gateway",
        "Amazon Key",
        "Azure Brigade",
        "Movember",
    ]
    assert sections["position"].iloc[0] == 0 and pd.isna(sections["heading"].iloc[0])
    links = corpus.links[corpus.links["post_id"] == "2017-45"]
    assert len(links) == 6
    assert set(links["domain"]) == {
        "amazon.com",
        "microsoft.com",
        "github.com",
        "mobro.co",
        "theverge.com",
    }
    verge = links[links["domain"] == "theverge.com"].iloc[0]
    assert verge["in_footnote"]
    key = sections.loc[sections["heading"] == "Amazon Key", "section_id"].iloc[0]
    assert verge["section_id"] == key
    assert "camera" in sections.loc[sections["heading"] == "Amazon Key", "footnotes"].iloc[0]


def test_ignoreme_page_bundles_and_keywords(ignoreme_corpus):
    posts = ignoreme_corpus.posts.set_index("post_id")
    assert {"2018-01", "2018-47", "2019-01"} <= set(posts.index)
    assert posts.loc["2018-01", "path"] == "2018-01/index.md"
    assert posts.loc["2017-45", "keywords"] == ["aws", "azure"]
    assert all(k == k.strip().lower() for ks in posts["keywords"] for k in ks)
    assert_contract(ignoreme_corpus)


def test_this_week_in_rust(rust_corpus):
    posts = rust_corpus.posts
    assert len(posts) == 667
    assert posts["date"].notna().all()
    assert (posts["date_source"] == "front-matter").all()
    assert (rust_corpus.problems["severity"] != "error").all()
    assert set(posts["format"]) == {"pelican"}
    assert posts["title"].notna().all()
    mail = rust_corpus.links[rust_corpus.links["scheme"] == "mailto"]
    assert len(mail) > 0 and not mail["internal"].any()


def test_bad_file_is_recorded_and_the_rest_kept(tmp_path):
    write(
        tmp_path,
        "2020-01.md",
        "---\ntitle: Good\ndate: 2020-01-01\n---\n\n# One\n\nFine [x](https://a.org).\n",
    )
    write(tmp_path, "2020-02.md", "---\ntitle: [broken\n---\nx\n")
    corpus = load_corpus(tmp_path, model="none")
    assert corpus.posts["post_id"].tolist() == ["2020-01"]
    assert len(corpus.links) == 1
    assert corpus.problems[["path", "severity", "code", "line"]].values.tolist() == [
        ["2020-02.md", "error", "yaml-invalid", 2]
    ]


def test_strict_stops_at_the_first_problem_naming_file_and_line(tmp_path):
    write(tmp_path, "2020-01.md", "---\ntitle: Good\ndate: 2020-01-01\n---\nok\n")
    write(tmp_path, "2020-02.md", "---\ntitle: ok\ndate: 2020-01-08\nbad: [\n---\nx\n")
    with pytest.raises(StrictError, match=r"2020-02\.md:4: error yaml-invalid"):
        load_corpus(tmp_path, model="none", strict=True)


def test_internal_links_are_relative_or_same_site(tmp_path):
    write(
        tmp_path,
        "2020-01.md",
        "---\ntitle: T\ndate: 2020-01-01\nblog: ig.nore.me\n---\n\n# A\n\n"
        "[rel](/2019-01/) [same](https://ig.nore.me/x/) "
        "[other](https://aws.amazon.com/) <mailto:a@b.org>\n",
    )
    links = load_corpus(tmp_path, model="none").links
    assert links["internal"].tolist() == [True, True, False, False]
    assert links["domain"].tolist()[1:] == ["nore.me", "amazon.com", "b.org"]


HOBBIES = (
    "topics:\n  - id: baking\n    label: Baking\n    group: hobbies\n    terms: [sourdough]\n"
    "  - id: cycling\n    label: Cycling\n    group: hobbies\n    terms: [bike ride]\n"
)
WEEKEND = (
    "---\ntitle: Weekend\ndate: 2020-01-04\n---\n\n# Bread\n\nA sourdough loaf, then another "
    "sourdough loaf.\n\n# Out\n\nA long bike ride along the river, a bike ride home.\n"
)


def test_a_corpus_carries_the_taxonomy_it_was_tagged_with(tmp_path):
    write(tmp_path / "notes", "2020-01.md", WEEKEND)
    taxonomy = write(tmp_path, "hobbies.yaml", HOBBIES)
    corpus = load_corpus(tmp_path / "notes", model="none", taxonomy=taxonomy)
    assert list(corpus.taxonomy.topics) == ["baking", "cycling"]
    assert set(corpus.topics["topic"]) == {"baking", "cycling"}
    assert corpus.options.taxonomy == taxonomy
    # The findings name its topics without being told the taxonomy.
    from weeknotes_analysis.takeaways import findings

    assert any(
        "Baking" in finding.text or "Cycling" in finding.text for finding in findings(corpus)
    )


def test_a_corpus_carries_the_taxonomy_of_its_archive_settings(tmp_path):
    write(tmp_path / "notes", "2020-01.md", WEEKEND)
    write(tmp_path / "notes", "hobbies.yaml", HOBBIES)
    write(tmp_path / "notes", "weeknotes.toml", 'taxonomy = "hobbies.yaml"\n')
    corpus = load_corpus(tmp_path / "notes", model="none")
    assert list(corpus.taxonomy.topics) == ["baking", "cycling"]
    # A corpus put together by hand has the bundled taxonomy.
    bare = Corpus(
        posts=corpus.posts, sections=corpus.sections, links=corpus.links, problems=corpus.problems
    )
    assert "kubernetes" in bare.taxonomy.topics
