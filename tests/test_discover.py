"""Discovering topics the taxonomy does not know, and taxonomy files that extend another."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml

from weeknotes_analysis import load_corpus
from weeknotes_analysis.cli import main
from weeknotes_analysis.discover import SUGGESTIONS, about_rows, discover_topics, ngrams
from weeknotes_analysis.topics import load_taxonomy, taxonomy_fingerprint

from .conftest import RUST, SAMPLE, need, write

BUNDLED = list(load_taxonomy().topics)

GARDEN = [
    "The tomatoes finally ripened and the compost heap is warm; I moved the raised beds.",
    "Raised beds again: the compost went in, and the tomatoes need stakes before the storm.",
    "Pruned the apple tree and turned the compost heap; the tomatoes are done for the year.",
    "Seed catalogues arrived. Planning the raised beds, more tomatoes and a second compost bin.",
    "Frost on the raised beds this morning; the compost heap steams in the cold.",
    "Sowed tomatoes indoors under a lamp; the raised beds wait for spring and compost.",
]
READING = [
    "Finished a novel about a lighthouse keeper; the paperback was a gift from a friend.",
    "Halfway through a long biography; the library hold finally came in for the novel.",
    "A short novel this time, read on the train; the library has the sequel on hold.",
    "Reread an old paperback novel and returned two books to the library on time.",
    "The library book club picked a novel I already read, so I reread my paperback.",
    "Borrowed a thick novel from the library; the paperback edition is out of print.",
]


def weekly_archive(folder, posts: int = 6):
    """A small weekly archive: a cloud section the bundled taxonomy knows, and two recurring
    personal sections it does not (gardening, reading), under varying headings."""
    for week in range(posts):
        date = pd.Timestamp("2021-01-04") + pd.Timedelta(weeks=week)
        write(
            folder,
            f"2021-{week + 1:02d}.md",
            f"---\ntitle: Week {week + 1}\ndate: {date:%Y-%m-%d}\n---\n\n"
            f"# AWS news\n\nAWS released a new EC2 instance type and Amazon S3 got cheaper.\n\n"
            f"# In the garden\n\n{GARDEN[week % len(GARDEN)]}\n\n"
            f"# On the nightstand\n\n{READING[week % len(READING)]}\n",
        )
    return folder


@pytest.fixture(scope="module")
def garden(tmp_path_factory):
    root = tmp_path_factory.mktemp("garden")
    archive = weekly_archive(root / "archive")
    out = root / "out"
    corpus = load_corpus(archive, model="none", out=out)
    return archive, out, corpus


def test_discovers_the_recurring_sections_and_writes_a_taxonomy_that_extends_bundled(garden):
    archive, out, corpus = garden
    discovery = discover_topics(corpus, out=out)
    assert discovery.path == out / SUGGESTIONS
    text = discovery.path.read_text(encoding="utf-8")
    assert yaml.safe_load(text)["extends"] == "bundled"
    candidates = discovery.candidates
    assert len(candidates) >= 2
    found = {term for terms in candidates["terms"] for term in terms}
    assert found & {"garden", "compost", "raised beds", "compost heap", "tomatoes"}
    assert found & {"nightstand", "library", "novel", "paperback"}
    # The merged taxonomy: the bundled topics first, in their order, then the suggestions.
    merged = load_taxonomy(discovery.path)
    assert list(merged.topics)[: len(BUNDLED)] == BUNDLED
    assert set(merged.topics) - set(BUNDLED) == set(candidates["id"])
    # Building with the file alone tags the personal sections too; the cloud ones keep AWS.
    tagged = load_corpus(archive, model="none", taxonomy=discovery.path).topics
    by_section = tagged.groupby("section_id")["topic"].agg(set)
    assert all("aws" in by_section[f"2021-{w:02d}#1"] for w in range(1, 7))
    assert all(by_section.get(f"2021-{w:02d}#{p}") for w in range(1, 7) for p in (2, 3))
    # Before: the cloud sections (a third); after: every section.
    assert discovery.coverage["before"] < 0.5 < discovery.coverage["after"] == 1.0
    for row in candidates.itertuples():
        assert 0 < row.share <= 1 and row.examples and row.periods == "2021"
        assert -1 <= row.coherence <= 1


def test_two_runs_write_the_same_bytes(garden, tmp_path):
    _, _, corpus = garden
    first = discover_topics(corpus, out=tmp_path / "a").path
    second = discover_topics(corpus, out=tmp_path / "b").path
    assert first is not None and second is not None
    assert first.read_bytes() == second.read_bytes()


def test_all_sections_groups_the_tagged_ones_too(garden):
    _, _, corpus = garden
    only_untagged = discover_topics(corpus)
    everything = discover_topics(corpus, all_sections=True)
    assert len(everything.candidates) >= len(only_untagged.candidates)


def test_the_sample_gives_a_loadable_file(tmp_path):
    corpus = load_corpus(SAMPLE, model="none", out=tmp_path)
    discovery = discover_topics(corpus, out=tmp_path)
    assert discovery.path is not None
    merged = load_taxonomy(discovery.path)
    assert list(merged.topics)[: len(BUNDLED)] == BUNDLED
    assert discovery.coverage["after"] >= discovery.coverage["before"] > 0.5
    again = discover_topics(corpus).yaml
    assert again == discovery.path.read_text(encoding="utf-8")


def test_an_archive_without_entities_or_recurring_sections_gives_an_empty_list(tmp_path):
    archive = tmp_path / "archive"
    write(archive, "2024-05-06.md", "---\ntitle: A\ndate: 2024-05-06\n---\n\n# Tomatoes\n\nRipe.\n")
    write(archive, "2024-05-13.md", "---\ntitle: B\ndate: 2024-05-13\n---\n\n# Soup\n\nHot.\n")
    corpus = load_corpus(archive, model="none")
    assert corpus.entities.empty
    discovery = discover_topics(corpus, out=tmp_path / "out")
    assert discovery.candidates.empty and discovery.tags.empty
    assert discovery.coverage == {"before": 0.0, "after": 0.0}
    assert list(load_taxonomy(tmp_path / "out" / SUGGESTIONS).topics) == BUNDLED


def test_suggestions_extend_the_users_taxonomy_and_never_themselves(garden, tmp_path):
    archive, _, _ = garden
    mine = write(tmp_path, "mine/topics.yaml", "extends: bundled\ntopics: []\n")
    out = tmp_path / "out"
    corpus = load_corpus(archive, model="none", taxonomy=mine)
    discovery = discover_topics(corpus, taxonomy=mine, out=out)
    assert yaml.safe_load(discovery.yaml)["extends"] == "../mine/topics.yaml"
    assert list(load_taxonomy(discovery.path).topics)[: len(BUNDLED)] == BUNDLED
    with pytest.raises(ValueError, match="copy it to another name"):
        discover_topics(corpus, taxonomy=discovery.path, out=out)


def test_what_a_topic_already_counts_is_never_suggested_again(tmp_path):
    corpus = load_corpus(SAMPLE, model="none", out=tmp_path)
    discovery = discover_topics(corpus, all_sections=True)
    suggested = {t for terms in discovery.candidates["terms"] for t in terms}
    suggested |= {e for entities in discovery.candidates["entities"] for e in entities}
    # "Kubernetes" starts several of the sample's headings, and is the bundled topic's.
    assert not suggested & {"kubernetes", "k8s", "aws", "docker", "amazon web services"}


def test_cli_discover_writes_the_suggestions(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["discover", str(SAMPLE), "--out", str(out), "--model", "none"]) == 0
    assert (out / SUGGESTIONS).exists() and (out / "sections.parquet").exists()
    assert "sections about some topic" in capsys.readouterr().out
    assert main(["discover", str(SAMPLE), "--out", str(out), "--topics", "0"]) == 2


def test_a_taxonomy_without_role_is_all_about_and_mentions_do_not_count():
    rows = pd.DataFrame({"section_id": ["a#1", "a#2"], "topic": ["aws", "rust"]})
    assert len(about_rows(rows)) == 2
    assert list(about_rows(rows.assign(role=["about", "mention"]))["section_id"]) == ["a#1"]


def test_heading_ngrams_stop_at_punctuation_and_skip_filler():
    assert "tracking issues" in ngrams("Tracking Issues & PRs")
    assert "issues prs" not in ngrams("Tracking Issues & PRs")
    assert "crate of the week" in ngrams("Crate of the Week")
    assert "of the" not in ngrams("Crate of the Week")


# Taxonomy files that extend another ------------------------------------------------------


def test_extends_a_file_by_relative_path_and_replaces_topics_in_place(tmp_path):
    write(
        tmp_path,
        "base/base.yaml",
        "topics:\n  - id: baking\n    label: Baking\n    group: hobbies\n    terms: [sourdough]\n"
        "  - id: cycling\n    label: Cycling\n    group: hobbies\n    terms: [bike ride]\n",
    )
    child = write(
        tmp_path,
        "mine.yaml",
        "extends: base/base.yaml\ntopics:\n"
        "  - id: baking\n    label: Bread\n    group: hobbies\n    terms: [sourdough, loaf]\n"
        "  - id: garden\n    label: Garden\n    group: hobbies\n    terms: [compost]\n",
    )
    taxonomy = load_taxonomy(child)
    assert list(taxonomy.topics) == ["baking", "cycling", "garden"]
    assert taxonomy.topics["baking"].label == "Bread"
    assert taxonomy.topics["baking"].terms == ("sourdough", "loaf")


def test_an_edited_base_changes_the_fingerprint_and_rebuilds_retag(tmp_path):
    archive = tmp_path / "archive"
    write(
        archive,
        "2020-01.md",
        "---\ntitle: T\ndate: 2020-01-01\n---\n\n# Weekend\n\nA long bike ride, then a "
        "sourdough loaf and a second sourdough loaf.\n",
    )
    base = write(tmp_path, "base.yaml", "topics:\n  - id: baking\n    group: hobbies\n")
    child = write(
        tmp_path,
        "child.yaml",
        "extends: base.yaml\ntopics:\n  - id: cycling\n    group: hobbies\n"
        "    terms: [bike ride]\n    min_score: 1\n",
    )
    before = taxonomy_fingerprint(child)
    out = tmp_path / "out"
    first = load_corpus(archive, model="none", out=out, taxonomy=child).topics
    assert list(first["topic"]) == ["cycling"]
    base.write_text("topics:\n  - id: baking\n    group: hobbies\n    terms: [sourdough]\n")
    assert taxonomy_fingerprint(child) != before
    second = load_corpus(archive, model="none", out=out, taxonomy=child).topics
    assert sorted(second["topic"]) == ["baking", "cycling"]


def test_a_cycle_of_extends_is_an_error_naming_the_files(tmp_path):
    write(tmp_path, "a.yaml", "extends: b.yaml\ntopics: []\n")
    write(tmp_path, "b.yaml", "extends: a.yaml\ntopics: []\n")
    with pytest.raises(ValueError, match=r"cycle: .*a\.yaml -> .*b\.yaml -> .*a\.yaml"):
        load_taxonomy(tmp_path / "a.yaml")
    write(tmp_path, "self.yaml", "extends: self.yaml\ntopics: []\n")
    with pytest.raises(ValueError, match="cycle"):
        load_taxonomy(tmp_path / "self.yaml")


def test_extending_a_missing_file_names_both(tmp_path):
    child = write(tmp_path, "child.yaml", "extends: nowhere.yaml\ntopics: []\n")
    with pytest.raises(FileNotFoundError, match=r"child\.yaml: extends .*nowhere\.yaml"):
        load_taxonomy(child)


# The real archive -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.corpora
def test_this_week_in_rust_suggestions_cover_four_fifths(tmp_path):
    out = tmp_path / "twir"
    corpus = load_corpus(need(RUST), model="none", out=out)
    discovery = discover_topics(corpus, out=out)
    assert discovery.coverage["before"] < 0.7
    assert discovery.coverage["after"] >= 0.8
    assert discover_topics(corpus).yaml == discovery.yaml
    assert discovery.path is not None
    merged = load_corpus(need(RUST), model="none", taxonomy=discovery.path)
    own = about_rows(merged.topics, subjects=False)
    covered = merged.sections["section_id"].isin(own["section_id"]).mean()
    assert covered == pytest.approx(discovery.coverage["after"], abs=0.001)
