"""A weekly newsletter on one project's development (a Jekyll ``_posts`` archive).

The fixture ``tests/fixtures/kube_dev_weekly`` is written for these tests in the manner of a
weekly digest of Kubernetes development: "Week Ending ..." titles, dates mostly only in the
file names, sections of developer news, release deadlines, featured PRs and long bullet lists
of merged PRs, later ones the releases of subprojects and dependencies (Go, CoreDNS, etcd);
some weeks are a holiday note and one PR, some have no headings or setext headings, some
never say "Kubernetes". A reader would file every issue under Kubernetes and under little
else.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, load_corpus, schema
from weeknotes_analysis.sources import date_from_filename, split_front_matter

from .conftest import write

ARCHIVE = Path(__file__).parent / "fixtures" / "kube_dev_weekly"
POSTS = sorted((ARCHIVE / "_posts").glob("*.md"))
SHARE = 0.97
_LINK_TARGET = re.compile(r"\]\([^)]*\)")


@pytest.fixture(scope="module")
def kube_corpus() -> Corpus:
    return load_corpus(ARCHIVE, model="none")


def about_posts(corpus: Corpus, topic: str) -> set[str]:
    rows = corpus.post_topics
    return set(rows.loc[(rows["topic"] == topic) & (rows["role"] == "about"), "post_id"])


def front_matter(path: Path) -> dict:
    return split_front_matter(path.read_text(encoding="utf-8"))[1]


def prose(path: Path) -> str:
    """A post's body without its link targets (every PR link names the project's repository)."""
    return _LINK_TARGET.sub("]", split_front_matter(path.read_text(encoding="utf-8"))[2])


def test_the_fixture_is_a_varied_archive_of_a_few_years():
    assert 35 <= len(POSTS) <= 45
    assert sum(path.stat().st_size for path in POSTS) < 200_000
    years = {path.name[:4] for path in POSTS}
    assert len(years) >= 3
    undated = [path for path in POSTS if "date" not in front_matter(path)]
    assert 5 <= len(undated) < len(POSTS) - 5
    assert any("tags" in front_matter(path) for path in POSTS)
    assert sum("kubernetes" not in prose(path).lower() for path in POSTS) >= 5
    assert any("Other Merges\n----" in path.read_text(encoding="utf-8") for path in POSTS)
    assert any(not re.search(r"^#|^-{3,}$", prose(path), re.M) for path in POSTS)


@pytest.mark.parametrize("model", ["none", pytest.param("auto", marks=pytest.mark.slow)])
def test_nearly_every_post_is_about_kubernetes(model, kube_corpus):
    corpus = kube_corpus if model == "none" else load_corpus(ARCHIVE, model=model)
    about = about_posts(corpus, "kubernetes")
    posts = set(corpus.posts["post_id"])
    assert len(posts) == len(POSTS)
    assert len(about & posts) >= SHARE * len(posts), sorted(posts - about)


def test_posts_that_never_say_kubernetes_are_about_it_too(kube_corpus):
    about = about_posts(kube_corpus, "kubernetes")
    silent = {path.stem for path in POSTS if "kubernetes" not in prose(path).lower()}
    assert len(silent) >= 5
    assert silent <= about, sorted(silent - about)


def test_the_dates_come_from_the_file_names(kube_corpus):
    posts = kube_corpus.posts.set_index("post_id")
    for path in POSTS:
        post = posts.loc[path.stem]
        assert post["date"].date() == date_from_filename(path.name).date()
        expected = "front-matter" if "date" in front_matter(path) else "filename"
        assert post["date_source"] == expected
    assert kube_corpus.problems.empty, kube_corpus.problems[["path", "code"]]
    assert pd.Series(posts["date"]).is_monotonic_increasing


def test_no_other_topic_is_what_most_posts_are_about(kube_corpus):
    taxonomy = kube_corpus.taxonomy
    implied = set(taxonomy.topics["kubernetes"].implies)
    rows = kube_corpus.post_topics
    about = rows[rows["role"] == "about"]
    shares = about.groupby("topic", observed=True)["post_id"].nunique() / len(kube_corpus.posts)
    others = shares.drop(["kubernetes", *implied], errors="ignore")
    assert (others < 0.5).all(), others[others >= 0.5]
    # The Go toolchain is about a post only where a version bump names it.
    for post_id in about_posts(kube_corpus, "golang"):
        text = prose(ARCHIVE / "_posts" / f"{post_id}.md")
        assert re.search(r"\bGo \d|\bgolang\b", text), post_id
    # Links to the project's repository on GitHub make no post about GitHub.
    assert "github" not in set(about["topic"])


def holiday_issues(corpus: Corpus) -> set[str]:
    """The posts about no topic by their own evidence (about the subject only as such)."""
    rows = corpus.post_topics
    own = rows[(rows["role"] == "about") & ~rows["subject"].astype(bool)]
    return set(corpus.posts["post_id"]) - set(own["post_id"])


def test_an_issue_about_nothing_else_is_about_the_subject_in_every_build(kube_corpus, tmp_path):
    quiet = holiday_issues(kube_corpus)
    assert quiet, "the fixture has an issue (a holiday note and one PR) about no topic"
    rows = kube_corpus.post_topics.set_index(["post_id", "topic"])
    for post_id in quiet:
        assert rows.loc[(post_id, "kubernetes"), "subject"]
        assert rows.loc[(post_id, "kubernetes"), "score"] == 0
    # A rebuild of the quiet issue's year applies the subject from the archive's totals, as
    # a cold build of the edited archive does.
    archive = tmp_path / "archive"
    shutil.copytree(ARCHIVE, archive)
    load_corpus(archive, model="none", out=tmp_path / "out")
    edited = archive / "_posts" / f"{sorted(quiet)[0]}.md"
    edited.write_text(edited.read_text(encoding="utf-8") + "\nSee you next week.\n")
    rebuilt = load_corpus(archive, model="none", out=tmp_path / "out")
    assert rebuilt.loaded() == []  # only the edited year was rebuilt
    cold = load_corpus(archive, model="none", out=tmp_path / "cold")
    for name in schema.TABLES:
        pd.testing.assert_frame_equal(
            getattr(rebuilt, name), getattr(cold, name), check_categorical=False, obj=name
        )
    assert holiday_issues(rebuilt) == quiet
    assert quiet <= about_posts(rebuilt, "kubernetes")


def test_the_subject_goes_only_to_posts_about_no_other_topic(tmp_path):
    posts = tmp_path / "_posts"
    for day in range(1, 11):
        write(
            posts,
            f"2024-02-{day:02d}-update.md",
            f"---\ntitle: Week ending February {day}\n---\n\n## Merges\n\n"
            "* kubelet retries image pulls with a back-off\n* kubeadm prints the etcd version\n",
        )
    write(
        posts,
        "2024-02-11-update.md",
        "---\ntitle: Week ending February 11\n---\n\nA holiday: nothing merged. Back next week.\n",
    )
    write(
        posts,
        "2024-02-12-update.md",
        "---\ntitle: A detour\n---\n\n## Rust\n\nI rewrote a tool in Rust with Cargo and "
        "rustc; the Rust borrow checker caught two bugs.\n",
    )
    corpus = load_corpus(posts, model="none")
    about = about_posts(corpus, "kubernetes")
    assert "2024-02-11-update" in about
    assert "2024-02-12-update" not in about
    assert "2024-02-12-update" in about_posts(corpus, "rust")
    schema.validate(corpus.post_topics, "post_topics")
