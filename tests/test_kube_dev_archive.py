"""A weekly newsletter on one project's development (a Jekyll ``_posts`` archive).

The fixture ``tests/fixtures/kube_dev_weekly`` is written for these tests in the manner of a
weekly digest of Kubernetes development: "Week Ending ..." titles, dates mostly only in the
file names, sections of developer news, release deadlines, featured PRs and long bullet lists
of merged PRs; some weeks are a holiday note and one PR, some have no headings or setext
headings, some never say "Kubernetes". A reader would file every issue under Kubernetes and
under little else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from weeknotes_analysis import Corpus, load_corpus
from weeknotes_analysis.sources import date_from_filename, split_front_matter

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


def test_the_dates_come_from_the_file_names(kube_corpus):
    posts = kube_corpus.posts.set_index("post_id")
    for path in POSTS:
        post = posts.loc[f"_posts/{path.stem}"]
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
        text = prose(ARCHIVE / f"{post_id}.md")
        assert re.search(r"\bGo \d|\bgolang\b", text), post_id
    # Links to the project's repository on GitHub make no post about GitHub.
    assert "github" not in set(about["topic"])
