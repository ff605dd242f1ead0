"""Load a topic taxonomy and tag each section with the topics it is about."""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from . import schema
from .nlp import SAFE_LOADER, Gazetteer, context_words, fingerprint_of, load_gazetteer

REGION_WEIGHTS = {"heading": 3.0, "text": 1.0, "footnotes": 0.5}
CHILD_WEIGHT = 0.5
DEFAULT_MIN_SCORE = 2.0
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9+#.'\u2019\-]*[A-Za-z0-9+#]|[A-Za-z0-9]")


@dataclass(frozen=True)
class Topic:
    """One topic: id, label, group and the rules that find it."""

    id: str
    label: str
    group: str
    entities: frozenset[str]
    exclude: frozenset[str]
    terms: tuple[str, ...]
    lemmas: tuple[str, ...]
    min_score: float
    pattern: re.Pattern[str] | None
    implies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Taxonomy:
    """The loaded taxonomy: topics by id and a fingerprint of the file's contents."""

    topics: dict[str, Topic]
    fingerprint: str
    path: str

    def groups(self) -> dict[str, list[str]]:
        """Topic ids by group, in file order."""
        grouped: dict[str, list[str]] = defaultdict(list)
        for topic in self.topics.values():
            grouped[topic.group].append(topic.id)
        return dict(grouped)


def default_taxonomy_path() -> Path:
    """The bundled taxonomy YAML."""
    return Path(str(resources.files("weeknotes_analysis") / "resources" / "topics.yaml"))


def load_taxonomy(path: str | os.PathLike[str] | None = None) -> Taxonomy:
    """Load a taxonomy YAML file (default: the bundled one); errors name the topic.

    A file may start with ``extends: bundled`` (or ``extends: other.yaml``, relative to the
    file): its topics are then added to those of the file it extends, and a topic whose id is
    already there replaces it in place.
    """
    source = Path(path) if path is not None else default_taxonomy_path()
    chain = taxonomy_chain(source)
    return _load_taxonomy(tuple((str(file), file.stat().st_mtime_ns) for file in chain))


_EXTENDS = re.compile(rb"^extends[ \t]*:", re.MULTILINE)


def _extended(path: Path, data: bytes) -> Path | None:
    """The file that ``path`` (whose bytes are ``data``) extends, or None."""
    # Most files extend nothing: find out without parsing their YAML.
    if not _EXTENDS.search(data):
        return None
    document = yaml.load(data, Loader=SAFE_LOADER)
    base = document.get("extends") if isinstance(document, dict) else None
    if base is None:
        return None
    if not isinstance(base, str) or not base.strip():
        raise ValueError(f"{path}: `extends` must be `bundled` or the path of a taxonomy file")
    if base.strip() == "bundled":
        return default_taxonomy_path()
    return path.parent / base.strip()


def taxonomy_chain(path: str | os.PathLike[str]) -> list[Path]:
    """The taxonomy files ``path`` is made of, the base first and ``path`` last.

    Raises:
        ValueError: when the files extend each other in a cycle.
        FileNotFoundError: when an extended file does not exist (named with its extender).
    """
    chain: list[Path] = []
    seen: set[Path] = set()
    current: Path | None = Path(path)
    while current is not None:
        resolved = current.resolve()
        if resolved in seen:
            names = " -> ".join(str(file) for file in [*chain, current])
            raise ValueError(f"{chain[-1]}: taxonomy files extend each other in a cycle: {names}")
        if chain and not current.is_file():
            raise FileNotFoundError(f"{chain[-1]}: extends {current}, which does not exist")
        seen.add(resolved)
        chain.append(current)
        current = _extended(current, current.read_bytes())
    return chain[::-1]


def taxonomy_fingerprint(path: str | os.PathLike[str]) -> str:
    """The fingerprint of a taxonomy file and every file it extends (the bytes of a file that
    extends nothing, as :func:`weeknotes_analysis.nlp.file_fingerprint`), so that caches
    re-tag when a base file changes."""
    fingerprint: str | None = None
    for file in taxonomy_chain(path):
        data = file.read_bytes()
        fingerprint = fingerprint_of(data if fingerprint is None else fingerprint.encode() + data)
    assert fingerprint is not None
    return fingerprint


def inflections(lemma: str) -> list[str]:
    """Regular English inflections of a lemma: patch -> patch, patches, patched, patching."""
    word = lemma.lower()
    forms = {word, word + "s", word + "es", word + "ed", word + "ing", word + "d"}
    if word.endswith("y") and len(word) > 2 and word[-2] not in "aeiou":
        forms |= {word[:-1] + "ies", word[:-1] + "ied"}
    if word.endswith("e"):
        forms |= {word[:-1] + "ing", word + "d"}
    if re.search(r"[^aeiou][aeiou][bdgklmnprt]$", word):
        forms |= {word + word[-1] + "ed", word + word[-1] + "ing"}
    return sorted(forms)


def _alternatives(terms: Iterable[str], lemmas: Iterable[str]) -> list[str]:
    """The regular expressions of a topic's terms and inflected lemmas, longest first."""
    alternatives = [re.escape(term.lower()).replace(r"\ ", r"\s+") for term in terms]
    for lemma in lemmas:
        *head, last = lemma.lower().split()
        prefix = "".join(re.escape(word) + r"\s+" for word in head)
        alternatives.append(prefix + "(?:" + "|".join(map(re.escape, inflections(last))) + ")")
    return sorted(alternatives, key=len, reverse=True)


def _first_characters(words: Iterable[str]) -> str:
    r"""A character class of the words' first characters (lower case), or "" when a word starts
    with white space (which ``\s+`` matches in many forms)."""
    lowered = [word.lower() for word in words]
    if not all(word and not word[0].isspace() for word in lowered):
        return ""
    return "[" + "".join(re.escape(char) for char in sorted({word[0] for word in lowered})) + "]"


def _compile(terms: Iterable[str], lemmas: Iterable[str]) -> re.Pattern[str] | None:
    terms, lemmas = list(terms), list(lemmas)
    alternatives = _alternatives(terms, lemmas)
    if not alternatives:
        return None
    # The look-ahead on the alternatives' first characters is redundant, but lets ``re`` reject
    # most positions at once instead of trying every alternative there (30% faster tagging).
    firsts = _first_characters([*terms, *lemmas])
    starts = f"(?={firsts})" if firsts else ""
    return re.compile(starts + r"(?<![\w-])(?:" + "|".join(alternatives) + r")(?![\w-])")


class _TermScanner:
    """Every topic's term matches in a lower-case text, exactly as each topic's own
    ``pattern.finditer`` finds them, from one scan for the places where any topic's term
    starts: the topics' patterns are then tried only there (twice as fast on a large archive
    as scanning the text once per topic)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.topics: list[tuple[Topic, re.Pattern[str], frozenset[str] | None]] = []
        alternatives: list[str] = []
        words: list[str] = []
        for topic in taxonomy.topics.values():
            if topic.pattern is None:
                continue
            firsts = _first_characters([*topic.terms, *topic.lemmas])
            allowed = frozenset(w.lower()[0] for w in (*topic.terms, *topic.lemmas))
            self.topics.append((topic, topic.pattern, allowed if firsts else None))
            alternatives += _alternatives(topic.terms, topic.lemmas)
            words += [*topic.terms, *topic.lemmas]
        firsts = _first_characters(words)
        body = r"(?<![\w-])(?:" + "|".join(sorted(alternatives, key=len, reverse=True))
        self.scan = re.compile((f"(?={firsts})" if firsts else "") + "(?=" + body + r")(?![\w-]))")

    def find(self, content: str) -> Iterator[tuple[str, str]]:
        """``(topic id, matched text)`` of every match, topic by topic, in text order."""
        if not self.topics:
            return
        starts = [match.start() for match in self.scan.finditer(content)]
        if not starts:
            return
        for topic, pattern, allowed in self.topics:
            end = 0
            for start in starts:
                if start < end or (allowed is not None and content[start] not in allowed):
                    continue
                match = pattern.match(content, start)
                if match is not None:
                    yield topic.id, match.group(0)
                    end = match.end()


@cache
def _load_taxonomy(files: tuple[tuple[str, int], ...]) -> Taxonomy:
    """The merged taxonomy of a chain of files (base first); the mtimes are part of the cache
    key only, so an edited file is read again."""
    taxonomy: Taxonomy | None = None
    for path, _mtime in files:
        taxonomy = extend_taxonomy(taxonomy, Path(path).read_bytes(), path=path)
    assert taxonomy is not None
    return taxonomy


def extend_taxonomy(base: Taxonomy | None, data: bytes, *, path: str) -> Taxonomy:
    """The taxonomy of a file's bytes ``data`` (named ``path`` in errors) on top of ``base``:
    its topics are added, and one whose id ``base`` has replaces that topic in its place.
    The fingerprint covers the base's, so a changed base changes it."""
    topics = dict(base.topics) if base is not None else {}
    topics.update(_read_topics(path, data))
    for topic in topics.values():
        unknown = [implied for implied in topic.implies if implied not in topics]
        if unknown:
            raise ValueError(f"{path}: topic {topic.id!r} implies unknown topics {unknown}")
    contents = data if base is None else base.fingerprint.encode() + data
    return Taxonomy(topics=topics, fingerprint=fingerprint_of(contents), path=path)


def _read_topics(path: str, data: bytes) -> dict[str, Topic]:
    """The topics one taxonomy file defines, in file order."""
    document = yaml.load(data, Loader=SAFE_LOADER) or {}
    raw_topics = document.get("topics") if isinstance(document, dict) else None
    if not isinstance(raw_topics, list):
        raise ValueError(f"{path}: expected a mapping with a `topics:` list")
    defaults = document.get("defaults") or {}
    topics: dict[str, Topic] = {}
    for number, raw in enumerate(raw_topics, start=1):
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("group"):
            raise ValueError(f"{path}: topic {number} needs at least `id` and `group`")
        topic_id = str(raw["id"])
        if topic_id in topics:
            raise ValueError(f"{path}: topic {number}: the id {topic_id!r} is used twice")
        terms = tuple(str(term) for term in raw.get("terms") or [])
        lemmas = tuple(str(lemma) for lemma in raw.get("lemmas") or [])
        topics[topic_id] = Topic(
            id=topic_id,
            label=str(raw.get("label", topic_id)),
            group=str(raw["group"]),
            entities=frozenset(str(entity) for entity in raw.get("entities") or []),
            exclude=frozenset(str(entity) for entity in raw.get("exclude") or []),
            terms=terms,
            lemmas=lemmas,
            min_score=float(raw.get("min_score", defaults.get("min_score", DEFAULT_MIN_SCORE))),
            pattern=_compile(terms, lemmas),
            implies=tuple(str(topic) for topic in raw.get("implies") or []),
        )
    return topics


class _HeadingMatcher:
    """Gazetteer aliases in headings, without spaCy: a lookup of word n-grams."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.exact: dict[tuple[str, ...], str] = {}
        self.lower: dict[tuple[str, ...], str] = {}
        self.ambiguous: dict[tuple[str, ...], str] = {}
        for entry in gazetteer.entries.values():
            for alias in entry.aliases:
                words = tuple(_TOKEN.findall(alias))
                if entry.case_sensitive:
                    self.exact.setdefault(words, entry.id)
                else:
                    self.lower.setdefault(tuple(w.lower() for w in words), entry.id)
            for alias in entry.ambiguous:
                self.ambiguous.setdefault(tuple(_TOKEN.findall(alias)), entry.id)
        self.longest = max((len(key) for key in (*self.exact, *self.lower)), default=1)

    def find(self, heading: str, context: set[str]) -> list[tuple[str, str]]:
        """``(entity id, text)`` of each gazetteer alias in ``heading``, longest first."""
        words = _TOKEN.findall(heading)
        found: list[tuple[str, str]] = []
        index = 0
        while index < len(words):
            for size in range(min(self.longest, len(words) - index), 0, -1):
                gram = tuple(words[index : index + size])
                entity = self.exact.get(gram) or self.lower.get(tuple(w.lower() for w in gram))
                candidate = self.ambiguous.get(gram)
                if entity is None and candidate is not None:
                    following = words[index + size] if index + size < len(words) else ""
                    versioned = re.fullmatch(r"v?\d+\.\d+.*", following) is not None
                    if versioned or self.gazetteer.entries[candidate].context & context:
                        entity = candidate
                if entity is not None:
                    found.append((entity, " ".join(gram)))
                    index += size
                    break
            else:
                index += 1
        return found


def tag_sections(
    sections: pd.DataFrame,
    entities: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    gazetteer: Gazetteer | None = None,
) -> pd.DataFrame:
    """The topics table: one row per (section, topic) that the section is about.

    Evidence is weighted by where it sits (heading 3, text 1, footnotes 0.5); an entity that
    only belongs to a topic through its parent (``eks`` for ``aws``) counts half. A topic is
    tagged when its score reaches the topic's ``min_score`` (2 by default), so a word that
    merely appears once does not make a section about it.
    """
    taxonomy = taxonomy or load_taxonomy()
    gazetteer = gazetteer or load_gazetteer()
    headings, topics_for, names_parent, scanner = _tagging_rules(taxonomy, gazetteer)
    mentions_by_section: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    for section_id, entity_id, text, in_footnote in zip(
        entities["section_id"],
        entities["entity_id"],
        entities["text"],
        entities["in_footnote"],
        strict=True,
    ):
        mentions_by_section[section_id].append(
            (str(entity_id), "footnotes" if in_footnote else "text", str(text))
        )
    rows: list[dict[str, Any]] = []
    columns = ["post_id", "section_id", "heading", "text", "footnotes", "date", "week"]
    for post_id, section_id, heading, text, notes, date, week in sections[columns].itertuples(
        index=False, name=None
    ):
        heading = heading if isinstance(heading, str) else ""
        regions = {"heading": heading, "text": text or "", "footnotes": notes or ""}
        context = context_words(" ".join(regions.values()))
        found = list(mentions_by_section.get(section_id, []))
        found += [(entity, "heading", text) for entity, text in headings.find(heading, context)]
        scores: dict[str, float] = defaultdict(float)
        counts: dict[str, int] = defaultdict(int)
        evidence: dict[str, set[str]] = defaultdict(set)
        for entity_id, region, mention in found:
            for topic_id, ancestor in topics_for.get(entity_id, ()):
                direct = ancestor is None or names_parent(mention, ancestor)
                weight = REGION_WEIGHTS[region] * (1.0 if direct else CHILD_WEIGHT)
                scores[topic_id] += weight
                counts[topic_id] += 1
                evidence[topic_id].add(entity_id)
        for region, content in regions.items():
            for topic_id, matched in scanner.find(content.lower()) if content else ():
                scores[topic_id] += REGION_WEIGHTS[region]
                counts[topic_id] += 1
                evidence[topic_id].add(" ".join(matched.split()))
        for topic_id in list(scores):
            topic = taxonomy.topics[topic_id]
            if scores[topic_id] >= topic.min_score:
                for implied in topic.implies:
                    if scores.get(implied, 0.0) < scores[topic_id]:
                        scores[implied] = scores[topic_id]
                        counts[implied] = max(counts[implied], counts[topic_id])
                    evidence[implied] |= evidence[topic_id]
        for topic_id, score in scores.items():
            topic = taxonomy.topics[topic_id]
            if score >= topic.min_score:
                rows.append(
                    {
                        "post_id": post_id,
                        "section_id": section_id,
                        "topic": topic_id,
                        "group": topic.group,
                        "mentions": counts[topic_id],
                        "evidence": sorted(evidence[topic_id]),
                        "date": date,
                        "week": week,
                        "score": score,
                    }
                )
    if not rows:
        return schema.empty("topics")
    order = {topic_id: index for index, topic_id in enumerate(taxonomy.topics)}
    frame = pd.DataFrame(rows)
    section_order = {section_id: i for i, section_id in enumerate(sections["section_id"])}
    frame = frame.assign(
        _section=frame["section_id"].map(section_order), _topic=frame["topic"].map(order)
    ).sort_values(["_section", "_topic"])
    return schema.conform(frame.drop(columns=["_section", "_topic"]), "topics")


_RULES: dict[tuple[str, str, str, str], Any] = {}


_Rules = tuple[
    "_HeadingMatcher", dict[str, list[tuple[str, str | None]]], "_NamesParent", _TermScanner
]


def _tagging_rules(taxonomy: Taxonomy, gazetteer: Gazetteer) -> _Rules:
    """The heading matcher, entity-to-topic map, parent-name check and term scanner for a
    taxonomy and a gazetteer, built once per process (a build tags its posts in many runs)."""
    key = (taxonomy.path, taxonomy.fingerprint, gazetteer.path, gazetteer.fingerprint)
    if key not in _RULES:
        _RULES[key] = (
            _HeadingMatcher(gazetteer),
            _entity_topics(taxonomy, gazetteer),
            _NamesParent(gazetteer),
            _TermScanner(taxonomy),
        )
    rules: _Rules = _RULES[key]
    return rules


def _entity_topics(
    taxonomy: Taxonomy, gazetteer: Gazetteer
) -> dict[str, list[tuple[str, str | None]]]:
    """For every known entity id, the topics it supports: ``(topic, None)`` when the id is
    one of the topic's entities, ``(topic, ancestor)`` when it counts through a parent."""
    known = set(gazetteer.entries)
    for topic in taxonomy.topics.values():
        known |= topic.entities
    mapping: dict[str, list[tuple[str, str | None]]] = {}
    for entity_id in known:
        chain = gazetteer.ancestors(entity_id)
        supported: list[tuple[str, str | None]] = []
        for topic in taxonomy.topics.values():
            for depth, ancestor in enumerate(chain):
                if ancestor in topic.exclude:
                    break
                if ancestor in topic.entities:
                    supported.append((topic.id, None if depth == 0 else ancestor))
                    break
        if supported:
            mapping[entity_id] = supported
    return mapping


class _NamesParent:
    """Whether a mention spells out its parent's name ("AWS Lambda", "Azure Brigade")."""

    def __init__(self, gazetteer: Gazetteer) -> None:
        self.gazetteer = gazetteer
        self.patterns: dict[str, re.Pattern[str] | None] = {}
        self.seen: dict[tuple[str, str], bool] = {}

    def __call__(self, text: str, ancestor: str) -> bool:
        key = (text, ancestor)
        if key not in self.seen:
            if ancestor not in self.patterns:
                entry = self.gazetteer.entries.get(ancestor)
                aliases = sorted({alias.lower() for alias in entry.aliases}) if entry else []
                self.patterns[ancestor] = (
                    re.compile(r"(?<![\w-])(?:" + "|".join(map(re.escape, aliases)) + r")(?![\w-])")
                    if aliases
                    else None
                )
            pattern = self.patterns[ancestor]
            self.seen[key] = bool(pattern and pattern.search(text.lower()))
        return self.seen[key]
