"""Discover the topics a taxonomy does not know yet and write them as an editable taxonomy.

The sections no topic is about are described by their heading's words and their key phrases and
entities (TF-IDF), factorised by NMF into candidate topics, and each candidate keeps only the
terms and entities that find its own sections precisely. The result is a taxonomy file that
``extends: bundled``, so that passing it alone to ``--taxonomy`` tags both.
"""

from __future__ import annotations

import json
import math
import os
import re
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeAlias

import numpy as np
import pandas as pd

from .corpus import Corpus, write_parquet
from .nlp import Gazetteer, load_gazetteer
from .topics import (
    DEFAULT_MIN_SCORE,
    REGION_WEIGHTS,
    Taxonomy,
    about_rows,
    default_taxonomy_path,
    extend_taxonomy,
    load_taxonomy,
    tag_sections,
)

Weights = dict[str, float]
SUGGESTIONS = "taxonomy-suggestions.yaml"
CANDIDATES = "topic-candidates.parquet"
GROUP = "discovered"
RANDOM_STATE = 0
MAX_TERMS = 12
MAX_ENTITIES = 8
TOP_FEATURES = 20
MAX_FEATURES = 3000
# The share of the sections a term tags that must belong to its candidate: a heading's words,
# and (stricter, as one is found in any passing sentence) a phrase or entity of the text.
MIN_PRECISION = {"t": 0.8, "p": 0.9, "e": 0.9}
MAX_COMPONENTS = 2  # a feature heavy in more components is not specific to any
MIN_SECTIONS = 3  # a candidate tags at least this many sections
MIN_TERM_SECTIONS = 2  # and each of its terms at least this many of them
# Features whose sections' centroids are at least this close make one candidate.
SAME = 0.4
# A candidate whose sections are less alike than this (mean cosine to their centroid) is a
# bag of one-off sections that happen to share a word, not a topic.
MIN_COHERENCE = 0.6
EXAMPLES = 3
_WORD = re.compile(r"[a-z0-9][a-z0-9+#.'\u2019\-]*[a-z0-9+#]|[a-z0-9]")
_GAP_WORD = re.compile(r"([^a-z0-9]*)(" + _WORD.pattern + ")")
_PLAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 +.\-/']*")
_YAML_WORDS = {"yes", "no", "on", "off", "true", "false", "null", "y", "n", "~"}
# Words that make neither a topic's term nor the edge of one: function words, and words of
# time and sequence that every weekly post repeats whatever it is about.
_FILLER_WORDS = """
    a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself just
    me more most my no nor not now of off on once only or other our ours out over own same she
    should so some such than that the their theirs them then there these they this those through
    to too under until up very was we were what when where which while who whom why will with
    would you your yours via vs etc new today yesterday tomorrow last next first second third one
    two three four five six seven eight nine ten time times part edition number
    post posts link links item items thing things lot bit way"""
_FILLER = frozenset(_FILLER_WORDS.split())


@dataclass
class Discovery:
    """What :func:`discover_topics` found.

    Attributes:
        candidates: one row per candidate topic (id, label, terms, entities, sections, share,
            coherence, periods, examples, first, last), largest first.
        tags: the topics rows of the candidates when the suggestions are merged with the
            taxonomy (post_id, section_id, topic, date, week, ...), for timelines.
        yaml: the text of the suggestions file (``extends: bundled`` and the candidates).
        taxonomy: the taxonomy with the suggestions merged (for charts' labels and colours).
        coverage: the share of sections about some topic with the taxonomy alone
            (``before``) and with the suggestions merged (``after``).
        path: where the suggestions file was written, if it was.
    """

    candidates: pd.DataFrame
    tags: pd.DataFrame
    yaml: str
    taxonomy: Taxonomy
    coverage: dict[str, float] = field(default_factory=dict)
    path: Path | None = None

    def summary(self) -> str:
        """One line: how many candidates and the coverage before and after."""
        return (
            f"{len(self.candidates)} candidate topics; sections about some topic: "
            f"{self.coverage.get('before', 0.0):.1%} -> {self.coverage.get('after', 0.0):.1%}"
        )


def words(text: str) -> list[list[str]]:
    """The lower-case words of ``text``, in runs separated by white space only: a term of the
    taxonomy matches across white space, never across punctuation."""
    runs: list[list[str]] = []
    for gap, word in _GAP_WORD.findall(text.lower()):
        if not runs or gap.strip():
            runs.append([])
        runs[-1].append(word)
    return runs


def _content(word: str) -> bool:
    return word not in _FILLER and not word.replace(".", "").isdigit() and len(word) > 1


def ngrams(text: str, *, longest: int = 4) -> list[str]:
    """Word n-grams (1 to ``longest`` words) of ``text`` that start and end on content words."""
    grams: list[str] = []
    for run in words(text):
        for start, first in enumerate(run):
            if not _content(first):
                continue
            for size in range(1, min(longest, len(run) - start) + 1):
                if _content(run[start + size - 1]):
                    grams.append(" ".join(run[start : start + size]))
    return grams


def _features(
    sections: pd.DataFrame, phrases: pd.DataFrame, entities: pd.DataFrame
) -> dict[str, Weights]:
    """Per section, weighted counts of what it says: heading n-grams (weight 3), phrases in
    the text (1) and footnotes (0.5), entities by id."""
    features: dict[str, Weights] = defaultdict(lambda: defaultdict(float))
    for section_id, heading in zip(sections["section_id"], sections["heading"], strict=True):
        if isinstance(heading, str):
            for gram in ngrams(heading):
                features[section_id][f"t:{gram}"] += REGION_WEIGHTS["heading"]
    wanted = set(sections["section_id"])
    terms = phrases[phrases["section_id"].isin(wanted) & (phrases["kind"] != "entity")]
    for section_id, phrase, in_footnote in zip(
        terms["section_id"], terms["phrase"], terms["in_footnote"], strict=True
    ):
        text = str(phrase).lower()
        if all(_content(word) for word in (text.split()[0], text.split()[-1])):
            region = "footnotes" if in_footnote else "text"
            features[section_id][f"p:{text}"] += REGION_WEIGHTS[region]
    named = entities[entities["section_id"].isin(wanted)]
    for section_id, entity_id, in_footnote in zip(
        named["section_id"], named["entity_id"], named["in_footnote"], strict=True
    ):
        region = "footnotes" if in_footnote else "text"
        features[section_id][f"e:{entity_id}"] += REGION_WEIGHTS[region]
    return features


def _matrix(
    features: dict[str, Weights],
    section_ids: Sequence[str],
    post_of: dict[str, str],
    *,
    vocabulary: list[str] | None = None,
) -> tuple[Any, list[str]]:
    """A sublinear TF-IDF matrix of ``section_ids`` by feature (rows L2-normalised). Without
    a ``vocabulary``, features seen in fewer than 3 sections or 2 posts are left out."""
    from scipy.sparse import csr_matrix
    from sklearn.feature_extraction.text import TfidfTransformer

    if vocabulary is None:
        sections_with: Counter[str] = Counter()
        posts_with: dict[str, set[str]] = defaultdict(set)
        for section_id in section_ids:
            for feature in features.get(section_id, ()):
                sections_with[feature] += 1
                posts_with[feature].add(post_of[section_id])
        limit = max(3, math.ceil(0.5 * len(section_ids)))
        common = sorted(
            (-count, feature)
            for feature, count in sections_with.items()
            if 3 <= count <= limit and len(posts_with[feature]) >= 2
        )
        # The rarest features cannot make a topic of their own and only slow NMF down.
        vocabulary = sorted(feature for _, feature in common[:MAX_FEATURES])
    index = {feature: number for number, feature in enumerate(vocabulary)}
    rows, columns, values = [], [], []
    for row, section_id in enumerate(section_ids):
        for feature, weight in sorted(features.get(section_id, {}).items()):
            if feature in index:
                rows.append(row)
                columns.append(index[feature])
                values.append(weight)
    counts = csr_matrix((values, (rows, columns)), shape=(len(section_ids), len(vocabulary)))
    if not vocabulary:
        return counts, vocabulary
    return TfidfTransformer(sublinear_tf=True).fit_transform(counts), vocabulary


def default_topic_count(sections: int) -> int:
    """Candidates to look for among ``sections`` sections: half the square root, 3 to 40 (more
    components than topics only splits them; fewer merges them)."""
    return max(3, min(40, round(math.sqrt(sections) / 2)))


def _pool(sections: pd.DataFrame, features: dict[str, Any], skip: set[str]) -> list[str]:
    """The sections to group: those with features, less the ``skip`` ones."""
    return [sid for sid in sections["section_id"] if features.get(sid) and sid not in skip]


def discover_topics(
    corpus: Corpus,
    *,
    n_topics: int | None = None,
    all_sections: bool = False,
    taxonomy: str | os.PathLike[str] | Taxonomy | None = None,
    gazetteer: str | os.PathLike[str] | Gazetteer | None = None,
    method: str = "nmf",
    out: str | os.PathLike[str] | None = None,
    topics: int | None = None,
) -> Discovery:
    """Group the sections no topic is about into candidate topics and name them.

    Args:
        corpus: a built corpus (its sections, phrases, entities and topics).
        n_topics: how many candidates to look for (default: from the number of sections).
            (``topics=`` is its 0.1 name, kept with a warning for one release: elsewhere
            ``topics`` are topic ids.)
        all_sections: group every section, not only those no topic is about.
        taxonomy: the taxonomy the corpus was tagged with (default: the bundled one); the
            suggestions extend it.
        gazetteer: the gazetteer of the build (default: the bundled one).
        method: ``nmf`` (NMF over TF-IDF, the default) or ``kmeans`` (k-means clustering of
            the same vectors; kept for the comparison in benchmarks/RESULTS.md).
        out: a folder to write ``taxonomy-suggestions.yaml`` and ``topic-candidates.parquet``.

    Returns:
        A :class:`Discovery`: the candidates, their tags, the YAML and the coverage.
    """
    if topics is not None:
        warnings.warn(
            "discover_topics(topics=N) is deprecated: pass n_topics=N", DeprecationWarning, 2
        )
        n_topics = topics
    base = taxonomy if isinstance(taxonomy, Taxonomy) else load_taxonomy(taxonomy)
    extends = _extends(base.path if isinstance(taxonomy, Taxonomy) else taxonomy, out)
    names = gazetteer if isinstance(gazetteer, Gazetteer) else load_gazetteer(gazetteer)
    sections = corpus.sections.sort_values("section_id", kind="stable").reset_index(drop=True)
    # A section about nothing but the archive's subject (a This Week in Rust section is about
    # Rust) is still one that no topic of its own describes.
    about = set(about_rows(corpus.topics, subjects=False)["section_id"])
    entities, known = _unclaimed(corpus.entities, base, names)
    features = _features(sections, corpus.phrases, entities)
    pool = _pool(sections, features, set() if all_sections else about)
    found = _find_candidates(
        pool,
        sections,
        features,
        n_topics=n_topics,
        method=method,
        taken=set(base.topics),
        known=known,
        gazetteer=names,
    )
    merged = extend_taxonomy(
        base, suggestions_yaml(found, extends=extends).encode(), path=SUGGESTIONS
    )
    tagged = tag_sections(corpus.sections, corpus.entities, taxonomy=merged, gazetteer=names)
    tagged = about_rows(tagged)
    candidates = _describe(found, tagged, sections)
    text = suggestions_yaml(found, described=candidates, total=len(sections), extends=extends)
    total = max(len(sections), 1)
    coverage = {
        "before": round(len(about & set(sections["section_id"])) / total, 4),
        "after": round(tagged["section_id"].nunique() / total, 4),
    }
    tags = tagged[tagged["topic"].isin([candidate["id"] for candidate in found])].reset_index(
        drop=True
    )
    discovery = Discovery(
        candidates=candidates, tags=tags, yaml=text, taxonomy=merged, coverage=coverage
    )
    if out is not None:
        _write_discovery(discovery, out)
    return discovery


def _find_candidates(
    pool: list[str],
    sections: pd.DataFrame,
    features: dict[str, Weights],
    *,
    n_topics: int | None,
    method: str,
    taken: set[str],
    known: set[str],
    gazetteer: Gazetteer,
) -> list[dict[str, Any]]:
    """Factorise the sections of ``pool`` into components and make candidates of them (none
    when fewer than three sections or two features are left)."""
    if len(pool) < 3:
        return []
    post_of = dict(zip(sections["section_id"], sections["post_id"], strict=True))
    matrix, vocabulary = _matrix(features, pool, post_of)
    if matrix.shape[1] < 2:
        return []
    count = min(n_topics or default_topic_count(len(pool)), len(pool) - 1, matrix.shape[1])
    weights = _factorise(matrix, count, method=method)
    everything, _ = _matrix(features, list(sections["section_id"]), post_of, vocabulary=vocabulary)
    return _candidates(
        weights,
        vocabulary,
        _membership(everything, weights),
        sections=sections,
        features=features,
        vectors=everything,
        taken=taken,
        known=known,
        gazetteer=gazetteer,
    )


def _unclaimed(
    entities: pd.DataFrame, base: Taxonomy, names: Gazetteer
) -> tuple[pd.DataFrame, set[str]]:
    """The entity rows no topic of ``base`` counts yet, and the words a suggestion must not
    repeat (the names of the entities a topic counts, the topics' own terms and lemmas)."""
    claimed = {entity for topic in base.topics.values() for entity in topic.entities}
    unclaimed = [not claimed.intersection(names.ancestors(str(e))) for e in entities["entity_id"]]
    # Entities a topic already counts are left out, and so are their names and the topics'
    # own terms as suggested terms: they would only repeat that topic.
    known = {
        alias.lower()
        for entry in names.entries.values()
        if claimed.intersection(names.ancestors(entry.id))
        for alias in entry.aliases
    }
    known |= {word.lower() for t in base.topics.values() for word in (*t.terms, *t.lemmas)}
    return entities.loc[np.array(unclaimed, dtype=bool)], known


def _write_discovery(discovery: Discovery, out: str | os.PathLike[str]) -> None:
    """Write the suggestions (aside, then renamed) and the candidates table into ``out``."""
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    discovery.path = folder / SUGGESTIONS
    partial = folder / f".{SUGGESTIONS}.{os.getpid()}.partial"
    partial.write_text(discovery.yaml, encoding="utf-8")
    os.replace(partial, discovery.path)
    write_parquet(discovery.candidates, folder / CANDIDATES)


def _extends(taxonomy: str | os.PathLike[str] | None, out: str | os.PathLike[str] | None) -> str:
    """What the suggestions file extends: ``bundled``, or the path of the user's taxonomy
    (relative to the output folder when it can be)."""
    if taxonomy is None or Path(taxonomy).resolve() == default_taxonomy_path().resolve():
        return "bundled"
    source = Path(taxonomy).resolve()
    if out is not None and source == (Path(out) / SUGGESTIONS).resolve():
        raise ValueError(
            f"{source}: the suggestions would replace the taxonomy they extend; copy it to "
            "another name (my-topics.yaml) and pass that with --taxonomy"
        )
    if out is None:
        return str(source)
    try:
        return os.path.relpath(source, Path(out).resolve())
    except ValueError:  # another drive on Windows
        return str(source)


def _factorise(matrix: Any, count: int, *, method: str) -> np.ndarray:
    """Each candidate's weight on each feature (candidates x features)."""
    if method == "nmf":
        from sklearn.decomposition import NMF
        from sklearn.exceptions import ConvergenceWarning
        from threadpoolctl import threadpool_limits

        # NNDSVD starts from the SVD, not from random numbers: the same matrix, the same answer.
        # One thread: as fast on a busy machine, and sums always in the same order. A fixed
        # number of rounds: the topics settle long before the error stops moving.
        model = NMF(n_components=count, init="nndsvd", random_state=RANDOM_STATE, max_iter=150)
        with threadpool_limits(1), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(matrix)
        return np.asarray(model.components_)
    if method == "kmeans":
        from sklearn.cluster import KMeans

        kmeans = KMeans(n_clusters=count, n_init=4, random_state=RANDOM_STATE).fit(matrix)
        return np.clip(np.asarray(kmeans.cluster_centers_), 0, None)
    raise ValueError(f"method must be nmf or kmeans, not {method!r}")


def _membership(matrix: Any, weights: np.ndarray, *, least: float = 0.15) -> np.ndarray:
    """The candidate each section of ``matrix`` belongs to (-1: none): the one whose direction
    is closest to the section's vector (cosine, at least ``least``)."""
    norms = np.sqrt((weights**2).sum(axis=1, keepdims=True))
    loadings = np.asarray(matrix @ (weights / np.where(norms > 0, norms, 1)).T)
    best = loadings.argmax(axis=1)
    return np.where(loadings.max(axis=1) >= least, best, -1)


def _candidates(
    weights: np.ndarray,
    vocabulary: list[str],
    membership: np.ndarray,
    *,
    sections: pd.DataFrame,
    features: dict[str, Weights],
    vectors: Any,
    taken: set[str],
    known: set[str],
    gazetteer: Gazetteer,
) -> list[dict[str, Any]]:
    """Each candidate's terms and entities: among its heaviest features, those whose sections
    (where they would tag, as the tagger scores them) mostly belong to the candidate. A
    component whose terms find sections that do not look alike is split in as many
    candidates."""
    wanted: dict[str, list[int]] = defaultdict(list)
    for number in range(weights.shape[0]):
        order = sorted(range(len(vocabulary)), key=lambda i: (-round(weights[number, i], 9), i))
        for index in order[:TOP_FEATURES]:
            if weights[number, index] > 0:
                wanted[vocabulary[index]].append(number)
    chosen_by, strict = _choose_features(
        wanted,
        weights,
        vocabulary,
        membership,
        sections=sections,
        features=features,
        known=known,
        gazetteer=gazetteer,
    )
    return _group_candidates(
        chosen_by,
        strict,
        sections=sections,
        vectors=vectors,
        taken=taken,
        gazetteer=gazetteer,
    )


Chosen: TypeAlias = dict[int, list[tuple[float, str, set[str]]]]


def _choose_features(
    wanted: dict[str, list[int]],
    weights: np.ndarray,
    vocabulary: list[str],
    membership: np.ndarray,
    *,
    sections: pd.DataFrame,
    features: dict[str, Weights],
    known: set[str],
    gazetteer: Gazetteer,
) -> tuple[Chosen, set[str]]:
    """The features kept, by the component they go to (their share of its weight, the
    feature, the sections it tags), and the strict ones (precise in headings only)."""
    section_ids = list(sections["section_id"])
    headings = sections.set_index("section_id")["heading"]
    scores, headed = _feature_scores(sections, features, set(wanted))
    # A feature is kept when the sections it tags mostly belong to the components it is heavy
    # in (NMF may split one topic in two), and goes to the component it is heaviest in.
    norms = np.sqrt((weights**2).sum(axis=1))
    chosen_by: Chosen = defaultdict(list)
    strict: set[str] = set()
    component_of = dict(zip(section_ids, membership.tolist(), strict=True))
    for feature, numbers in sorted(wanted.items()):
        # Heavy in many components, a feature is specific to none ("project").
        if len(numbers) > MAX_COMPONENTS or feature[2:] in known:
            continue
        needed = MIN_PRECISION[feature[0]]
        hits = {s for s, score in scores.get(feature, {}).items() if score >= 2}
        if feature.startswith("e:") and not _headlined([feature[2:]], hits, headings, gazetteer):
            # Never in the headings: a name the sections share in passing ("follow us on
            # Twitter"), not what they are about.
            continue
        text_only = hits - headed.get(feature, set())
        if len(text_only) >= 3 and _precision(text_only, numbers, component_of) < needed:
            # Precise in headings, not in passing: the candidate needs a heading mention (or
            # three in the text), its `min_score` 3.
            strict.add(feature)
            hits = {s for s, score in scores[feature].items() if score >= 3}
        inside = {s for s in hits if component_of[s] in numbers}
        if len(inside) >= MIN_TERM_SECTIONS and _precision(hits, numbers, component_of) >= needed:
            column = vocabulary.index(feature)
            share = [round(float(weights[n, column] / max(norms[n], 1e-12)), 9) for n in numbers]
            best = numbers[int(np.argmax(share))]
            chosen_by[best].append((-max(share), feature, hits))
    return chosen_by, strict


def _kept_terms(chosen_by: Chosen) -> set[str]:
    """A term inside longer kept ones ("call" in "call for testing") that tag most of its
    sections anyway is dropped: it adds little but whatever else happens to say it."""
    hits_of = {f[2:]: hits for chosen in chosen_by.values() for _, f, hits in chosen}
    kept = set()
    for term, hits in hits_of.items():
        longer = [h for other, h in hits_of.items() if other != term and _inside(term, other)]
        if not longer or len(hits - set().union(*longer)) > 0.5 * len(hits):
            kept.add(term)
    return kept


def _group_candidates(
    chosen_by: Chosen,
    strict: set[str],
    *,
    sections: pd.DataFrame,
    vectors: Any,
    taken: set[str],
    gazetteer: Gazetteer,
) -> list[dict[str, Any]]:
    """The candidates: each component's kept features, split into groups whose sections look
    alike, each coherent group named and given a free id."""
    headings = sections.set_index("section_id")["heading"]
    row_of = {section_id: row for row, section_id in enumerate(sections["section_id"])}
    kept = _kept_terms(chosen_by)
    found: list[dict[str, Any]] = []
    used_ids = set(taken)
    for number in sorted(chosen_by):
        chosen = [item for item in chosen_by[number] if item[1][2:] in kept]
        for group in _alike(sorted(chosen, key=lambda item: item[:2]), vectors, row_of):
            hits = set().union(*(hits for _, hits in group))
            terms = _longest({f[2:] for f, _ in group if not f.startswith("e:")})
            entities = sorted({f[2:] for f, _ in group if f.startswith("e:")})
            # Terms name a topic better than the entities that come with it.
            ordered = [f[2:] for f, _ in group if f[2:] in terms] + [
                _name(f[2:], gazetteer) for f, _ in group if f[2:] in entities
            ]
            coherence = _cohesion(vectors, sorted(row_of[s] for s in hits))
            if coherence < MIN_COHERENCE:
                continue
            label = _label(ordered, headings, hits)
            topic_id = _free_id(_slug(label), used_ids)
            used_ids.add(topic_id)
            found.append(
                {
                    "id": topic_id,
                    "label": label,
                    "terms": terms[:MAX_TERMS],
                    "min_score": 3 if any(f in strict for f, _ in group) else DEFAULT_MIN_SCORE,
                    "entities": entities[:MAX_ENTITIES],
                    "top_features": [f[2:] for f, _ in group[:5]],
                    "coherence": coherence,
                }
            )
    return found


def _precision(hits: set[str], numbers: list[int], component_of: dict[str, int]) -> float:
    """The share of ``hits`` that belong to one of the components ``numbers``."""
    return sum(component_of[s] in numbers for s in hits) / max(len(hits), 1)


def _headlined(
    entities: list[str], hits: set[str], headings: pd.Series, gazetteer: Gazetteer
) -> bool:
    """Whether one of the entities is named in the heading of a third of the sections."""
    names = [
        alias.lower()
        for entity in entities
        if entity in gazetteer.entries
        for alias in gazetteer.entries[entity].aliases
    ] or [entity.replace("-", " ") for entity in entities]
    named = sum(any(name in _text(headings.get(s)).lower() for name in names) for s in sorted(hits))
    return named * 3 >= len(hits)


def _inside(term: str, other: str) -> bool:
    """Whether ``term`` is a word sequence inside ``other``."""
    return f" {term} " in f" {other} "


def _alike(
    chosen: list[tuple[float, str, set[str]]], vectors: Any, row_of: dict[str, int]
) -> list[list[tuple[str, set[str]]]]:
    """The chosen features in groups whose sections look alike (the centroids of their
    sections' vectors at cosine ``SAME`` or more), heaviest first."""
    groups: list[list[tuple[str, set[str]]]] = []
    centroids: list[np.ndarray] = []
    for _, feature, hits in chosen:
        centroid = _centroid(vectors, sorted(row_of[s] for s in hits))
        similarities = [float(centroid @ other) for other in centroids]
        best = int(np.argmax(similarities)) if similarities else -1
        if best >= 0 and similarities[best] >= SAME:
            groups[best].append((feature, hits))
            members = set().union(*(h for _, h in groups[best]))
            centroids[best] = _centroid(vectors, sorted(row_of[s] for s in members))
        else:
            groups.append([(feature, hits)])
            centroids.append(centroid)
    return [group for group in groups if len(set().union(*(h for _, h in group))) >= MIN_SECTIONS]


def _centroid(vectors: Any, rows: list[int]) -> np.ndarray:
    """The unit-length mean of the rows' vectors."""
    mean = np.asarray(vectors[rows].mean(axis=0)).ravel()
    norm = float(np.sqrt(mean @ mean))
    return mean / norm if norm > 0 else mean


def _cohesion(vectors: Any, rows: list[int]) -> float:
    """How alike a candidate's sections are: their mean cosine to their centroid (0 to 1)."""
    if not rows:
        return 0.0
    return round(float(np.asarray(vectors[rows] @ _centroid(vectors, rows)).mean()), 2)


def _longest(terms: set[str]) -> list[str]:
    """The terms without those inside a longer one ("comment period" in "final comment
    period"): the longer says more, and tags more precisely. Sorted."""
    return sorted(t for t in terms if not any(o != t and _inside(t, o) for o in terms))


def _feature_scores(
    sections: pd.DataFrame, features: dict[str, Weights], wanted: Iterable[str]
) -> tuple[dict[str, dict[str, float]], dict[str, set[str]]]:
    """For each wanted feature, section -> the score its term (or entity) would give there, the
    tagger's way: 3 per match in the heading, 1 in the text, 0.5 in a footnote; and the
    sections where it is in the heading."""
    wanted = set(wanted)
    terms = {feature[2:] for feature in wanted if not feature.startswith("e:")}
    longest = max((len(term.split()) for term in terms), default=1)
    firsts = {term.split()[0] for term in terms}
    scores: dict[str, dict[str, float]] = defaultdict(dict)
    headed: dict[str, set[str]] = defaultdict(set)
    columns = ["section_id", "heading", "text", "footnotes"]
    for section_id, heading, text, notes in sections[columns].itertuples(index=False, name=None):
        found: Weights = defaultdict(float)
        in_heading: set[str] = set()
        regions = (("heading", heading), ("text", text), ("footnotes", notes))
        for region, content in regions:
            if not isinstance(content, str) or not content:
                continue
            for run in words(content):
                for start, first in enumerate(run):
                    if first not in firsts:
                        continue
                    for size in range(1, min(longest, len(run) - start) + 1):
                        gram = " ".join(run[start : start + size])
                        if gram in terms:
                            found[gram] += REGION_WEIGHTS[region]
                            if region == "heading":
                                in_heading.add(gram)
        for gram, score in found.items():
            for prefix in ("t:", "p:"):
                if prefix + gram in wanted:
                    scores[prefix + gram][section_id] = score
                    if gram in in_heading:
                        headed[prefix + gram].add(section_id)
        for feature, weight in features.get(section_id, {}).items():
            if feature.startswith("e:") and feature in wanted:
                scores[feature][section_id] = weight
    return scores, headed


def _slug(text: str) -> str:
    words_ = re.sub(r"[^a-z0-9]+", " ", text.lower()).split()
    slug = "-".join([w for w in words_ if w not in _SMALL and len(w) > 1][:4])
    return slug or "topic"


def _free_id(slug: str, used: set[str]) -> str:
    if slug not in used:
        return slug
    number = 2
    while f"{slug}-{number}" in used:
        number += 1
    return f"{slug}-{number}"


_SMALL_WORDS = "a an and as at but by for in of on or the to vs via with"
_SMALL = frozenset(_SMALL_WORDS.split())


def _name(entity_id: str, gazetteer: Gazetteer) -> str:
    entry = gazetteer.entries.get(entity_id)
    return entry.name if entry is not None else entity_id


def _label(names: list[str], headings: pd.Series, hits: set[str]) -> str:
    """A display name: the heading 70% of the candidate's sections share, else its heaviest
    terms in title case."""
    counted = Counter(
        " ".join(str(headings[s]).split()) for s in hits if isinstance(headings.get(s), str)
    )
    if counted:
        heading, count = min(counted.items(), key=lambda item: (-item[1], item[0]))
        if count >= 0.7 * len(hits) and len(heading) <= 60:
            return heading
    return ", ".join(
        " ".join(
            word if word in _SMALL and index else word[:1].upper() + word[1:]
            for index, word in enumerate(name.split())
        )
        for name in names[:2]
    )


def _describe(
    found: list[dict[str, Any]], tagged: pd.DataFrame, sections: pd.DataFrame
) -> pd.DataFrame:
    """The candidates table: each candidate with the share of sections it tags, its years and
    its example sections."""
    columns = [
        "id",
        "label",
        "terms",
        "entities",
        "top_features",
        "min_score",
        "sections",
        "share",
        "coherence",
        "periods",
        "first",
        "last",
        "examples",
    ]
    if not found:
        return pd.DataFrame(columns=columns)
    total = max(len(sections), 1)
    headings = dict(zip(sections["section_id"], sections["heading"], strict=True))
    words_of = dict(zip(sections["section_id"], sections["word_count"], strict=True))
    rows = []
    for candidate in found:
        mine = tagged[tagged["topic"] == candidate["id"]]
        dates = pd.to_datetime(mine["date"], utc=True).dropna()
        years = sorted({int(year) for year in dates.dt.year})
        examples = _examples(mine["section_id"], words_of, headings)
        rows.append(
            {
                **candidate,
                "sections": len(mine),
                "share": round(len(mine) / total, 4),
                "periods": _year_ranges(years),
                "first": dates.min() if len(dates) else pd.NaT,
                "last": dates.max() if len(dates) else pd.NaT,
                "examples": [
                    f"{_text(headings.get(s)) or '(untitled)'} ({s.split('#')[0]})"
                    for s in examples
                ],
            }
        )
    frame = pd.DataFrame(rows, columns=columns)
    return frame.sort_values(["sections", "id"], ascending=[False, True]).reset_index(drop=True)


def _text(value: Any) -> str:
    """A heading as text ("" when there is none)."""
    return value if isinstance(value, str) else ""


def _examples(
    section_ids: Iterable[str], words_of: dict[str, Any], headings: dict[str, Any]
) -> list[str]:
    """A few of the sections, under their most common headings first (one each while there
    are others), the wordiest of each."""
    section_ids = list(section_ids)
    common = Counter(_text(headings.get(s)).lower() for s in section_ids)
    ranked = sorted(
        section_ids,
        key=lambda s: (
            -common[_text(headings.get(s)).lower()],
            -min(int(words_of.get(s) or 0), 200),
            s,
        ),
    )
    chosen: list[str] = []
    seen: set[str] = set()
    for section_id in ranked:
        heading = _text(headings.get(section_id)).lower()
        if heading not in seen:
            chosen.append(section_id)
            seen.add(heading)
        if len(chosen) == EXAMPLES:
            return chosen
    return chosen + [s for s in ranked if s not in chosen][: EXAMPLES - len(chosen)]


def _year_ranges(years: list[int]) -> str:
    """``[2015, 2016, 2017, 2020]`` -> ``2015-2017, 2020``."""
    ranges: list[str] = []
    for year in years:
        if ranges and int(ranges[-1][-4:]) == year - 1:
            ranges[-1] = f"{ranges[-1][:4]}-{year}"
        else:
            ranges.append(str(year))
    return ", ".join(ranges)


def _scalar(text: str) -> str:
    """``text`` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    plain = _PLAIN.fullmatch(text) and text.strip() == text and text not in _YAML_WORDS
    if plain and not re.fullmatch(r"[0-9.+\-]+", text):
        return text
    return json.dumps(text, ensure_ascii=False)


def _flow(items: Iterable[str]) -> str:
    return "[" + ", ".join(_scalar(item) for item in items) + "]"


HEADER = """\
# Topics discovered by `weeknotes discover`: the sections no topic was about, grouped by what
# they say. This file extends another taxonomy (`extends:`, the bundled one by default): pass
# it alone to `--taxonomy` to tag with the topics of both. Edit it freely: rename a topic (id,
# label), merge two (join their entities and terms), delete one.
# Above each topic: the share of sections it tags, the years it is active, its coherence (how
# alike its sections are: their mean cosine to their centroid, 0 to 1) and example sections.
"""


def suggestions_yaml(
    found: list[dict[str, Any]],
    *,
    described: pd.DataFrame | None = None,
    total: int = 0,
    extends: str = "bundled",
) -> str:
    """The suggestions file: ``extends: bundled`` (or ``extends`` another file) and one
    taxonomy entry per candidate."""
    lines = [HEADER, f"extends: {_scalar(extends)}\n"]
    lines.append(f"defaults:\n  min_score: {DEFAULT_MIN_SCORE:g}\n")
    if not found:
        return "".join(lines) + "\ntopics: []\n"
    lines.append("\ntopics:\n")
    info = {row["id"]: row for row in described.to_dict("records")} if described is not None else {}
    order = [row["id"] for row in info.values()] or [c["id"] for c in found]
    by_id = {candidate["id"]: candidate for candidate in found}
    for topic_id in order:
        candidate = by_id[topic_id]
        row = info.get(topic_id)
        if row is not None:
            lines.append(
                f"  # {row['share']:.1%} of sections ({row['sections']} of {total}); "
                f"active {row['periods'] or 'never'}; coherence {row['coherence']:.2f}\n"
            )
            for example in row["examples"]:
                lines.append(f"  #   e.g. {' '.join(str(example).split())}\n")
        lines.append(f"  - id: {_scalar(topic_id)}\n")
        lines.append(f"    label: {_scalar(candidate['label'])}\n")
        lines.append(f"    group: {GROUP}\n")
        if candidate["entities"]:
            lines.append(f"    entities: {_flow(candidate['entities'])}\n")
        if candidate["terms"]:
            lines.append(f"    terms: {_flow(candidate['terms'])}\n")
        if candidate["min_score"] != DEFAULT_MIN_SCORE:
            lines.append(f"    min_score: {candidate['min_score']:g}\n")
    return "".join(lines)
