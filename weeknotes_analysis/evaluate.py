"""Score topic tagging against the author's own front-matter keywords."""

from __future__ import annotations

import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pandas as pd
import yaml

from .corpus import Corpus


@dataclass(frozen=True)
class Evaluation:
    """Recall of the author's mapped topics among the topics found in each post.

    Attributes:
        recall: found (post, topic) pairs / expected pairs, over posts with mapped keywords.
        per_topic: topic, expected, found, recall (one row per topic the mapping names).
        misses: post_id, title, keywords, topic: each expected pair that was not found.
        posts: how many posts had at least one mapped keyword.
        untagged_share: share of all sections that carry no topic (the precision guard).
    """

    recall: float
    per_topic: pd.DataFrame
    misses: pd.DataFrame
    posts: int
    untagged_share: float


def default_mapping_path() -> Path:
    """The bundled keyword -> topic ids mapping."""
    return Path(str(resources.files("weeknotes_analysis") / "resources" / "keyword-topics.yaml"))


def load_mapping(path: str | os.PathLike[str] | None = None) -> dict[str, list[str]]:
    """Read a YAML mapping of keyword -> topic id or list of topic ids (keys lower-cased)."""
    source = Path(path) if path is not None else default_mapping_path()
    document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    if not isinstance(document, dict):
        raise ValueError(f"{source}: expected a mapping of keyword -> [topic ids]")
    mapping: dict[str, list[str]] = {}
    for keyword, topics in document.items():
        values = topics if isinstance(topics, list) else [topics]
        mapping[str(keyword).strip().lower()] = [str(topic) for topic in values]
    return mapping


def evaluate_topics(
    corpus: Corpus, *, mapping: str | os.PathLike[str] | dict[str, list[str]] | None = None
) -> Evaluation:
    """Recall of the topics mapped from each post's keywords among the topics found in it.

    Args:
        corpus: a built corpus (its posts' keywords and its topics table).
        mapping: keyword -> topic ids, as a dict or a YAML file (default: the bundled one).
    """
    table = mapping if isinstance(mapping, dict) else load_mapping(mapping)
    expected = (
        corpus.posts[["post_id", "title", "keywords"]]
        .explode("keywords")
        .dropna(subset=["keywords"])
        .assign(topic=lambda frame: frame["keywords"].map(table))
        .dropna(subset=["topic"])
        .explode("topic")
    )
    pairs = expected.drop_duplicates(["post_id", "topic"])
    found = set(zip(corpus.topics["post_id"], corpus.topics["topic"], strict=True))
    hit = [
        (post, topic) in found for post, topic in zip(pairs["post_id"], pairs["topic"], strict=True)
    ]
    pairs = pairs.assign(found=hit)
    per_topic = (
        pairs.groupby("topic")
        .agg(expected=("found", "size"), found=("found", "sum"))
        .assign(recall=lambda frame: frame["found"] / frame["expected"])
        .sort_values(["recall", "expected"], ascending=[True, False])
        .reset_index()
    )
    keywords = corpus.posts.set_index("post_id")["keywords"]
    misses = (
        pairs.loc[~pairs["found"], ["post_id", "title", "topic"]]
        .assign(keywords=lambda frame: frame["post_id"].map(keywords))
        .reset_index(drop=True)
    )
    tagged = corpus.topics["section_id"].nunique()
    total = len(corpus.sections)
    return Evaluation(
        recall=float(pairs["found"].mean()) if len(pairs) else float("nan"),
        per_topic=per_topic,
        misses=misses,
        posts=int(pairs["post_id"].nunique()),
        untagged_share=(total - tagged) / total if total else float("nan"),
    )


def format_evaluation(result: Evaluation) -> str:
    """A plain-text report: overall recall, per topic, and the misses."""
    lines = [
        f"recall {result.recall:.3f} over {int(result.per_topic['expected'].sum())} "
        f"(post, topic) pairs in {result.posts} posts with mapped keywords",
        f"sections with no topic: {result.untagged_share:.1%}",
        "",
        result.per_topic.to_string(index=False, float_format=lambda value: f"{value:.2f}"),
    ]
    if not result.misses.empty:
        lines += ["", "misses:"]
        for row in result.misses.itertuples(index=False):
            lines.append(f"  {row.post_id}  {row.topic:<24} keywords={list(row.keywords)}")
    return "\n".join(lines)
