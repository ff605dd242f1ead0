"""Score topic tagging against the author's own front-matter keywords."""

from __future__ import annotations

import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from .corpus import Corpus
from .topics import about_rows


@dataclass(frozen=True)
class Evaluation:
    """Recall of the author's mapped topics among the topics found in each post.

    Attributes:
        recall: found (post, topic) pairs / expected pairs, over posts with mapped keywords.
        per_topic: topic, expected, found, recall (one row per topic the mapping names).
        misses: post_id, title, keywords, topic: each expected pair that was not found.
        posts: how many posts had at least one mapped keyword.
        untagged_share: share of all sections about no topic (the precision guard).
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
    """Recall of the topics mapped from each post's keywords among the topics the post is
    about (``post_topics`` rows whose role is ``about``).

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
    about = about_rows(corpus.post_topics)
    found = set(zip(about["post_id"], about["topic"], strict=True))
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
    tagged = about_rows(corpus.topics)["section_id"].nunique()
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


# --- scoring against a hand-labelled gold file (the labelling guide's format) -------------

NUMERIC_LABELS = frozenset({"DATE", "TIME", "QUANTITY", "CARDINAL", "ORDINAL", "PERCENT", "MONEY"})
SENTIMENT_LABELS = ("positive", "neutral", "mixed", "negative")
_LEADING_ARTICLE = re.compile(r"^(?:the|a|an)\s+")
_NOT_KEPT = re.compile(r"[^a-z0-9+#]")


@dataclass(frozen=True)
class GoldEvaluation:
    """A build scored against a gold file of labelled sections.

    Attributes:
        sections: gold sections found in the corpus (by section_id, else post_id and heading).
        missing: section ids of the gold file that the corpus does not have.
        topics: precision, recall, f1, predicted, gold, right over (section, topic) pairs.
        per_topic: topic, gold, predicted, right, precision, recall, f1 (one row per topic).
        topic_errors: section_id, topic, error (``extra`` or ``missed``) of every wrong pair.
        entities: precision, recall, predicted, gold, right over unique entities per section.
        entity_errors: section_id, text, error (``extra`` or ``missed``).
        sentiment: accuracy, flips (positive for negative or the reverse) and sections scored.
        confusion: gold label (rows) by predicted label (columns), counts.
        role: the topic role that was counted (``about``; ``None`` counts every row).
        sentiment_fitted: the bundled sentiment model was fitted on this gold file (its
            sentiment figures are in-sample); ``sentiment`` also holds ``rules_accuracy``
            and ``rules_flips``, the rules' labels scored alone.
    """

    sections: int
    missing: list[str]
    topics: dict[str, float]
    per_topic: pd.DataFrame
    topic_errors: pd.DataFrame
    entities: dict[str, float]
    entity_errors: pd.DataFrame
    sentiment: dict[str, float]
    confusion: pd.DataFrame
    role: str | None
    sentiment_fitted: bool = False


def load_gold(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """Read a gold file: one JSON object per line (blank lines skipped); errors name the line."""
    rows: list[dict[str, Any]] = []
    source = Path(path)
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}:{number}: not a JSON object ({error.msg})") from None
        if not isinstance(row, dict) or ("section_id" not in row and "post_id" not in row):
            raise ValueError(f"{source}:{number}: expected an object with a section_id")
        rows.append(row)
    return rows


def normalise_name(text: str) -> str:
    """The guide's normal form of a name: lower case, no leading article or trailing 's,
    then only letters, digits, + and #."""
    lowered = _LEADING_ARTICLE.sub("", str(text).strip().lower())
    for suffix in ("'s", "\u2019s"):
        lowered = lowered.removesuffix(suffix)
    return _NOT_KEPT.sub("", lowered)


def _prf(right: int, predicted: int, gold: int, hits: int | None = None) -> dict[str, float]:
    precision = right / predicted if predicted else float("nan")
    recall = (right if hits is None else hits) / gold if gold else float("nan")
    both = precision + recall
    f1 = 2 * precision * recall / both if both and both == both else float("nan")
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted": predicted,
        "gold": gold,
        "right": right,
    }


def _gold_key(row: dict[str, Any]) -> str:
    return str(row.get("section_id") or f"{row.get('post_id')}#{row.get('heading')}")


def _last_part(section_or_post_id: str) -> str:
    """The file's own part of an id: ``_posts/2024-01-07-week-1#2`` -> ``2024-01-07-week-1#2``
    (a gold file written for the posts folder matches a build of the whole site)."""
    return section_or_post_id.rsplit("/", 1)[-1]


def _match_sections(corpus: Corpus, gold: list[dict[str, Any]]) -> tuple[dict[str, str], list]:
    """Gold section id -> corpus section id (by id, else by post and heading), and misses. Ids
    compare by their last path part when that is unique: a gold file written for the posts
    folder (``2024-01-07-week-1#2``) matches a build of the whole site (``_posts/...``)."""
    headings = corpus.sections["heading"].astype(object).where(corpus.sections["heading"].notna())
    known = set(corpus.sections["section_id"])
    keys: dict[Any, set[str]] = {}
    for post, heading, section in zip(
        corpus.sections["post_id"], headings, corpus.sections["section_id"], strict=True
    ):
        for key in (section, _last_part(section), (post, heading), (_last_part(post), heading)):
            keys.setdefault(key, set()).add(section)
    matched: dict[str, str] = {}
    missing: list[str] = []
    for row in gold:
        gold_id = _gold_key(row)
        post, heading = str(row.get("post_id")), row.get("heading")
        tried = [row["section_id"], _last_part(row["section_id"])] if row.get("section_id") else []
        tried += [(post, heading), (_last_part(post), heading)]
        found = next((keys[key] for key in tried if len(keys.get(key, ())) == 1), None)
        if row.get("section_id") in known:
            matched[gold_id] = row["section_id"]
        elif found:
            matched[gold_id] = next(iter(found))
        else:
            missing.append(gold_id)
    return matched, missing


def evaluate_gold(
    corpus: Corpus, path: str | os.PathLike[str], *, role: str | None = "about"
) -> GoldEvaluation:
    """Score topics, entities and sentiment against a gold file, as the labelling guide says.

    Args:
        corpus: a built corpus.
        path: a JSON-lines gold file (section_id, about, mentions, entities, sentiment).
        role: the topic rows counted as predictions: ``about`` (default), ``mention``, or
            ``None`` for every row (also used when the topics table has no ``role``).
    """
    gold = load_gold(path)
    matched, missing = _match_sections(corpus, gold)
    gold = [row for row in gold if _gold_key(row) in matched]
    ids = {matched[_gold_key(row)] for row in gold}
    topics = corpus.topics[corpus.topics["section_id"].isin(ids)]
    if role is not None and "role" in topics.columns:
        topics = topics[topics["role"] == role]
    predicted = set(zip(topics["section_id"], topics["topic"], strict=True))
    expected = {(matched[_gold_key(r)], str(t)) for r in gold for t in r.get("about", [])}
    topic_errors = pd.DataFrame(
        [(s, t, "extra") for s, t in sorted(predicted - expected)]
        + [(s, t, "missed") for s, t in sorted(expected - predicted)],
        columns=["section_id", "topic", "error"],
    )
    per_topic = pd.DataFrame(
        [
            {"topic": topic, **_prf(right, pred, gold_n)}
            for topic in sorted({t for _, t in predicted | expected})
            for right, pred, gold_n in [
                (
                    sum(1 for pair in predicted & expected if pair[1] == topic),
                    sum(1 for pair in predicted if pair[1] == topic),
                    sum(1 for pair in expected if pair[1] == topic),
                )
            ]
        ],
        columns=["topic", "precision", "recall", "f1", "predicted", "gold", "right"],
    )
    entities, entity_errors = _score_entities(corpus, gold, matched)
    sentiment, confusion = _score_sentiment(corpus, gold, matched)
    return GoldEvaluation(
        sections=len(gold),
        missing=missing,
        topics=_prf(len(predicted & expected), len(predicted), len(expected)),
        per_topic=per_topic,
        topic_errors=topic_errors,
        entities=entities,
        entity_errors=entity_errors,
        sentiment=sentiment,
        confusion=confusion,
        role=role if "role" in corpus.topics.columns else None,
        sentiment_fitted=fitted_on(path),
    )


def _score_entities(
    corpus: Corpus, gold: list[dict[str, Any]], matched: dict[str, str]
) -> tuple[dict[str, float], pd.DataFrame]:
    rows = corpus.entities[corpus.entities["section_id"].isin(set(matched.values()))]
    rows = rows[~rows["label"].astype(str).isin(NUMERIC_LABELS)]
    found: dict[str, dict[str, set[str]]] = defaultdict(dict)
    for section, text, entity_id in zip(
        rows["section_id"], rows["text"], rows["entity_id"], strict=True
    ):
        # One prediction per entity id: the same thing named twice counts once.
        key = str(entity_id) or normalise_name(text)
        found[section].setdefault(key, set()).update(
            form for form in (normalise_name(text), normalise_name(entity_id)) if form
        )
    right = predicted = gold_total = hits = 0
    errors: list[tuple[str, str, str]] = []
    for row in gold:
        section = matched[_gold_key(row)]
        names = []
        for entity in row.get("entities", []):
            forms = {
                normalise_name(entity.get("text", "")),
                normalise_name(entity.get("canonical", "")),
            }
            names.append((entity.get("text", ""), forms - {""}))
        gold_forms = set().union(*(forms for _, forms in names)) if names else set()
        predictions = found.get(section, {})
        predicted += len(predictions)
        for key, forms in predictions.items():
            if forms & gold_forms:
                right += 1
            else:
                errors.append((section, key, "extra"))
        predicted_forms = set().union(*predictions.values()) if predictions else set()
        gold_total += len(names)
        for text, forms in names:
            if forms & predicted_forms:
                hits += 1
            else:
                errors.append((section, text, "missed"))
    return _prf(right, predicted, gold_total, hits), pd.DataFrame(
        errors, columns=["section_id", "text", "error"]
    )


def _score_sentiment(
    corpus: Corpus, gold: list[dict[str, Any]], matched: dict[str, str]
) -> tuple[dict[str, float], pd.DataFrame]:
    pairs = _label_pairs(corpus, "label", gold, matched)
    confusion = (
        pd.crosstab(
            pd.Categorical([g for g, _ in pairs], categories=SENTIMENT_LABELS),
            pd.Categorical([p for _, p in pairs], categories=SENTIMENT_LABELS),
            rownames=["gold"],
            colnames=["predicted"],
            dropna=False,
        )
        if pairs
        else pd.DataFrame(0, index=list(SENTIMENT_LABELS), columns=list(SENTIMENT_LABELS))
    )
    scores = {**_agreement(pairs), "sections": len(pairs)}
    if "rule_label" in corpus.sentiment.columns:
        rules = _agreement(_label_pairs(corpus, "rule_label", gold, matched))
        scores.update({f"rules_{key}": value for key, value in rules.items()})
    return scores, confusion


def _label_pairs(
    corpus: Corpus, column: str, gold: list[dict[str, Any]], matched: dict[str, str]
) -> list[tuple[str, str]]:
    """(gold sentiment, the sentiment table's ``column``) of every gold section labelled."""
    table = corpus.sentiment
    labels = dict(zip(table["section_id"], table[column].astype(str), strict=True))
    return [
        (str(row["sentiment"]), labels.get(matched[_gold_key(row)], "missing"))
        for row in gold
        if row.get("sentiment")
    ]


def _agreement(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Accuracy and polar flips of (gold, predicted) label pairs."""
    flips = sum(1 for g, p in pairs if {g, p} == {"positive", "negative"})
    accuracy = sum(1 for g, p in pairs if g == p) / len(pairs) if pairs else float("nan")
    return {"accuracy": accuracy, "flips": flips}


def fitted_on(path: str | os.PathLike[str]) -> bool:
    """Whether the bundled sentiment model was fitted on a gold file of this name: its
    sentiment figures are then in-sample (``scripts/train_sentiment.py`` prints each gold
    file's figures with the file left out)."""
    from .sentiment_model import bundled_model

    model = bundled_model()
    return model is not None and Path(path).name in (model.about.get("gold") or {})


def format_gold_evaluation(result: GoldEvaluation) -> str:
    """A plain-text report of :func:`evaluate_gold`: topics overall and per topic, entities,
    sentiment with its confusion matrix."""
    topics, entities, sentiment = result.topics, result.entities, result.sentiment
    counted = f"`{result.role}` rows" if result.role else "every topic row"
    lines = [
        f"{result.sections} gold sections matched"
        + (f", {len(result.missing)} not in the corpus" if result.missing else ""),
        f"topics ({counted}): precision {topics['precision']:.3f}  recall {topics['recall']:.3f}"
        f"  F1 {topics['f1']:.3f}  ({int(topics['right'])} right of {int(topics['predicted'])}"
        f" predicted, {int(topics['gold'])} in the gold)",
        f"entities: precision {entities['precision']:.3f}  recall {entities['recall']:.3f}"
        f"  ({int(entities['predicted'])} predicted, {int(entities['gold'])} in the gold)",
        f"sentiment: accuracy {sentiment['accuracy']:.3f} over {int(sentiment['sections'])}"
        f" sections, {int(sentiment['flips'])} flipped between positive and negative"
        + (
            f" (the rules alone: {sentiment['rules_accuracy']:.3f}, "
            f"{int(sentiment['rules_flips'])} flipped)"
            if "rules_accuracy" in sentiment
            else ""
        ),
        *(
            [
                "  the sentiment model was fitted on this gold file: these sentiment figures "
                "are in-sample (scripts/train_sentiment.py prints them with the file left out)"
            ]
            if result.sentiment_fitted
            else []
        ),
        "",
        "per topic:",
        result.per_topic.to_string(index=False, float_format=lambda value: f"{value:.2f}"),
        "",
        "sentiment (rows: gold, columns: predicted):",
        result.confusion.to_string(),
    ]
    return "\n".join(lines)
