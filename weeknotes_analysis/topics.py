"""Load a topic taxonomy and tag each section with the topics it is about."""

from __future__ import annotations

import os
import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
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
    # Phrases inside which the topic's terms do not count ("container queries" are CSS).
    not_terms: tuple[str, ...] = ()
    not_pattern: re.Pattern[str] | None = None
    # A concern (security, privacy, policy) is a side of the news beside its vendor: about at
    # CONCERN_COVERAGE, however much more evidence the vendor's products give.
    concern: bool = False


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
        for topic_id, match in self.matches(content):
            yield topic_id, match.group(0)

    def matches(self, content: str) -> Iterator[tuple[str, re.Match[str]]]:
        """``(topic id, match)`` of every match, topic by topic, in text order."""
        if not self.topics:
            return
        starts = [match.start() for match in self.scan.finditer(content)]
        if not starts:
            return
        for topic, pattern, allowed in self.topics:
            end = 0
            # Where the topic's not_terms are: its terms inside them do not count.
            excluded = (
                [found.span() for found in topic.not_pattern.finditer(content)]
                if topic.not_pattern
                else []
            )
            for start in starts:
                if start < end or (allowed is not None and content[start] not in allowed):
                    continue
                match = pattern.match(content, start)
                if match is not None and not any(a <= start < z for a, z in excluded):
                    yield topic.id, match
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
        not_terms = tuple(str(term) for term in raw.get("not_terms") or [])
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
            not_terms=not_terms,
            not_pattern=_compile(not_terms, ()),
            concern=bool(raw.get("concern", False)),
        )
    return topics


# A possessive names its owner ("Google Cloud's bad Thursday" is Google Cloud's, "Microsoft's
# security culture" Microsoft's); a contraction ("It's", "Here's") names nothing.
_POSSESSIVE = re.compile(r"(?<=[A-Za-z0-9])['\u2019]s$")
_CONTRACTED = frozenset(["it", "that", "let", "what", "here", "there", "who", "he", "she", "how"])


def _owner(word: str) -> str:
    """``word`` without its possessive ending (a contraction kept whole)."""
    owner = _POSSESSIVE.sub("", word)
    return word if owner.lower() in _CONTRACTED else owner


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
        words = [_owner(word) for word in _TOKEN.findall(heading)]
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


_SENTENCE_BREAK = re.compile(
    r"(?<=[.!?])[\"'\u201d\u2019)\]]*\s+(?=[\"'\u201c(\[]?[A-Z0-9])|\n\s*\n"
)


def sentence_starts(text: str) -> list[int]:
    """Offsets where the sentences of ``text`` start (a light rule: end punctuation followed
    by a capital or digit, or a blank line), always beginning with 0."""
    return [0, *(match.end() for match in _SENTENCE_BREAK.finditer(text))]


@dataclass
class TopicScore:
    """Evidence for one topic in one section, and what the role rule reads from it."""

    score: float = 0.0
    mentions: int = 0
    evidence: set[str] = field(default_factory=set)
    in_heading: bool = False
    sentences: set[int] = field(default_factory=set)
    direct: bool = False

    def absorb(self, other: TopicScore) -> None:
        """Take another topic's evidence as this one's (``implies``)."""
        if other.score > self.score:
            self.score = other.score
            self.mentions = max(self.mentions, other.mentions)
        self.evidence |= other.evidence
        self.in_heading |= other.in_heading
        self.sentences |= other.sentences
        self.direct |= other.direct


def tag_sections(
    sections: pd.DataFrame,
    entities: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    gazetteer: Gazetteer | None = None,
) -> pd.DataFrame:
    """The topics table: one row per (section, topic) with evidence, and the topic's ``role``.

    Evidence is weighted by where it sits (heading 3, text 1, footnotes 0.5); an entity that
    only belongs to a topic through its parent (``eks`` for ``aws``) counts half. A topic is
    ``about`` when its score reaches the topic's ``min_score`` (2 by default) and it is the
    section's subject or a substantial part of it: named in the heading, in about a third of
    its sentences or more, or carrying most of the section's evidence. An intro (the text
    before the first heading) is about each item it previews: every topic it names directly,
    and the topics of each later section whose heading it echoes. Every other topic with
    evidence is a ``mention``.
    """
    taxonomy = taxonomy or load_taxonomy()
    rules = _tagging_rules(taxonomy, gazetteer or load_gazetteer())
    mentions = _mentions_by_section(entities)
    columns = ["post_id", "section_id", "heading", "text", "footnotes", "date", "week"]
    rows: list[dict[str, Any]] = []
    post_rows: list[tuple[Any, ...]] = []
    for row in sections[columns].itertuples(index=False, name=None):
        if post_rows and row[0] != post_rows[0][0]:
            rows += _tag_post(post_rows, mentions, rules, taxonomy)
            post_rows = []
        post_rows.append(row)
    if post_rows:
        rows += _tag_post(post_rows, mentions, rules, taxonomy)
    if not rows:
        return schema.empty("topics")
    return _in_order(pd.DataFrame(rows), "section_id", sections["section_id"], taxonomy, "topics")


def _in_order(
    frame: pd.DataFrame, key: str, keys: Iterable[str], taxonomy: Taxonomy, table: str
) -> pd.DataFrame:
    """``frame`` under ``table``'s contract, its rows in the order of ``keys`` (sections or
    posts), then of the topics in the taxonomy."""
    key_order = {value: index for index, value in enumerate(keys)}
    topic_order = {topic_id: index for index, topic_id in enumerate(taxonomy.topics)}
    ordered = frame.assign(
        _key=frame[key].map(key_order), _topic=frame["topic"].map(topic_order)
    ).sort_values(["_key", "_topic"], kind="stable")
    return schema.conform(ordered.drop(columns=["_key", "_topic"]), table)


_Mention = tuple[str, str, str, int]


def _mentions_by_section(entities: pd.DataFrame) -> dict[str, list[_Mention]]:
    """``(entity id, region, text, start)`` of every entity mention, by section."""
    found: dict[str, list[_Mention]] = defaultdict(list)
    for section_id, entity_id, text, in_footnote, start in zip(
        entities["section_id"],
        entities["entity_id"],
        entities["text"],
        entities["in_footnote"],
        entities["start_char"],
        strict=True,
    ):
        region = "footnotes" if in_footnote else "text"
        found[section_id].append((str(entity_id), region, str(text), int(start)))
    return found


def _tag_post(
    post_rows: list[tuple[Any, ...]],
    mentions: dict[str, list[_Mention]],
    rules: _Rules,
    taxonomy: Taxonomy,
) -> list[dict[str, Any]]:
    """The topic rows of one post's sections (in order), with their roles."""
    scored = [_score_section(row, mentions.get(row[1], []), rules, taxonomy) for row in post_rows]
    roles = [_roles(scores, sentences, taxonomy) for scores, sentences in scored]
    if len(post_rows) > 1 and not isinstance(post_rows[0][2], str):
        roles[0] = _intro_roles(scored, taxonomy, post_rows[0][3] or "", post_rows, roles)
    for (scores, _), role_of in zip(scored, roles, strict=True):
        _imply_roles(scores, role_of, taxonomy)
    rows = []
    for (post_id, section_id, _, _, _, date, week), (scores, sentences), role_of in zip(
        post_rows, scored, roles, strict=True
    ):
        top = max((score.score for score in scores.values()), default=0.0)
        for topic_id, score in scores.items():
            rows.append(
                {
                    "post_id": post_id,
                    "section_id": section_id,
                    "topic": topic_id,
                    "group": taxonomy.topics[topic_id].group,
                    "role": role_of.get(topic_id, "mention"),
                    "section_role": role_of.get(topic_id, "mention"),
                    "subject": False,
                    "mentions": score.mentions,
                    "evidence": sorted(score.evidence),
                    "date": date,
                    "week": week,
                    "score": score.score,
                    "in_heading": score.in_heading,
                    "coverage": len(score.sentences) / sentences if sentences else 0.0,
                    "share": score.score / top if top else 0.0,
                }
            )
    return rows


# The role rule, calibrated on hand-labelled sections (tests/test_gold.py keeps it honest):
# a topic with enough evidence is what the section is about when the heading names it, when
# it runs through a third of the sentences or more, or when it carries at least
# ABOUT_SHARE of the evidence of the section's leading topic and shows up in at least a fifth of
# the sentences. (At half the leading topic's evidence, the side topics of long sections came
# in: a Pixel's Play Store in an Android item, the containers an AWS item runs.)
ABOUT_COVERAGE = 1 / 3
ABOUT_SHARE = 0.6
ABOUT_SHARE_COVERAGE = 0.2
# A concern topic (``concern: true``: security, privacy, policy) with enough evidence is about
# when it shows in a fifth of the sentences, whatever the leading topic's evidence: the
# lawsuit against Apple, the leak of a database, are the news, and the vendor's many product
# names do not make them side issues.
CONCERN_COVERAGE = 0.2
# The groups of topics that a company's own lines of business make (the cloud vendors, the
# smart home): a company whose topic excludes them (``exclude``: amazon its cloud and its
# Alexa, Echo and Ring; microsoft and google their clouds), named in an item about them, is
# a mention (see _only_the_company_of_its_line).
COMPANY_LINE_GROUPS = frozenset({"cloud-vendors", "smart-home"})
# The section's leading topic, with a score of three mentions in its text, is its subject in
# a long text too, where it shows in fewer sentences ("VPC" all through a long item on
# networking that wanders through its use cases); in two sentences at least (one sentence of a
# recurring block, "share it on Mastodon or Twitter", makes no subject).
LEAD_SCORE = 3.0
LEAD_COVERAGE = 0.15
LEAD_SENTENCES = 2
# In a note of a few sentences, one direct mention in a third of them is enough, unless the
# note's leading topic has four times its evidence ("Apple HomeKit" in a note on Matter).
SHORT_SENTENCES = 3
SHORT_SHARE = 0.25
# An intro names each item it previews once: one direct mention of a topic that a later
# section is about is enough, or one of the topic's products ("another Chrome zero-day"
# previews an item about Google).
INTRO_MIN_SCORE = CHILD_WEIGHT
# An intro previews a later section when it repeats every word of that heading (the
# topics that heading names are then the intro's too).
INTRO_ECHO = 1.0
_WORD = re.compile(r"[a-z0-9][a-z0-9+#'\u2019.-]*[a-z0-9+#]|[a-z0-9]")
_FILLER = frozenset(
    [
        "a",
        "an",
        "and",
        "the",
        "of",
        "for",
        "to",
        "in",
        "on",
        "at",
        "with",
        "by",
        "from",
        "is",
        "are",
        "was",
        "be",
        "new",
        "now",
        "its",
        "it",
        "this",
        "that",
        "more",
        "some",
        "other",
        "about",
        "into",
        "out",
        "up",
        "via",
        "vs",
    ]
)


def _content_words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _FILLER}


_OWNED_BODIES = frozenset({"vendor", "organisation", "event", "person"})


def _score_section(
    row: tuple[Any, ...], mentions: list[_Mention], rules: _Rules, taxonomy: Taxonomy
) -> tuple[dict[str, TopicScore], int]:
    """Every topic's evidence in one section, and how many sentences its text has."""
    headings, topics_for, names_parent, scanner = rules
    heading = row[2] if isinstance(row[2], str) else ""
    text, notes = row[3] or "", row[4] or ""
    starts = sentence_starts(text)
    context = context_words(" ".join((heading, text, notes)))

    def sentence_at(region: str, offset: int) -> int:
        return bisect_right(starts, offset) - 1 if region == "text" else -1

    found = [(eid, region, said, sentence_at(region, at)) for eid, region, said, at in mentions]
    found += [(eid, "heading", said, -1) for eid, said in headings.find(heading, context)]
    scores: dict[str, TopicScore] = defaultdict(TopicScore)
    entries = names_parent.gazetteer.entries
    for entity_id, region, mention, sentence in found:
        for topic_id, ancestor in topics_for.get(entity_id, ()):
            direct = ancestor is None or names_parent(mention, ancestor)
            weight = REGION_WEIGHTS[region] * (1.0 if direct else CHILD_WEIGHT)
            # A heading naming one of a platform's products (ECS, Aurora) names the platform;
            # one naming a company it owns (Fitbit) does not name the owner.
            product = entity_id in entries and entries[entity_id].kind not in _OWNED_BODIES
            score = scores[topic_id]
            _add(score, region, sentence, weight, entity_id, direct=direct or product)
    for region, content in (("heading", heading), ("text", text), ("footnotes", notes)):
        for topic_id, match in scanner.matches(content.lower()) if content else ():
            evidence = " ".join(match.group(0).split())
            sentence = sentence_at(region, match.start())
            _add(scores[topic_id], region, sentence, REGION_WEIGHTS[region], evidence, direct=True)
    for topic_id in list(scores):
        topic = taxonomy.topics[topic_id]
        if scores[topic_id].score >= topic.min_score:
            for implied in topic.implies:
                scores[implied].absorb(scores[topic_id])
    return dict(scores), len(starts) if text.strip() else 0


def _add(
    score: TopicScore, region: str, sentence: int, weight: float, evidence: str, *, direct: bool
) -> None:
    score.score += weight
    score.mentions += 1
    score.evidence.add(evidence)
    # A heading names a topic only directly: "Fitbit buying Pebble" is not about Google.
    score.in_heading |= region == "heading" and direct
    score.direct |= direct and region != "footnotes"
    if sentence >= 0:
        score.sentences.add(sentence)


def _roles(scores: dict[str, TopicScore], sentences: int, taxonomy: Taxonomy) -> dict[str, str]:
    """``about`` for each topic that is the section's subject or a substantial part of it."""
    top = max((score.score for score in scores.values()), default=0.0)
    about = {}
    for topic_id, score in scores.items():
        coverage = len(score.sentences) / sentences if sentences else 0.0
        short = (
            sentences <= SHORT_SENTENCES
            and score.direct
            and coverage >= ABOUT_COVERAGE
            and score.score >= SHORT_SHARE * top
        )
        if score.score < taxonomy.topics[topic_id].min_score and not short:
            continue
        if score.score >= top and score.score >= LEAD_SCORE:
            leading = coverage >= LEAD_COVERAGE and len(score.sentences) >= LEAD_SENTENCES
        else:
            leading = score.score >= ABOUT_SHARE * top and coverage >= ABOUT_SHARE_COVERAGE
        concern = (
            taxonomy.topics[topic_id].concern and score.direct and coverage >= CONCERN_COVERAGE
        )
        if score.in_heading or coverage >= ABOUT_COVERAGE or leading or concern:
            about[topic_id] = "about"
    for topic_id in [t for t in about if _only_the_company_of_its_line(t, scores, about, taxonomy)]:
        del about[topic_id]
    return about


def _only_the_company_of_its_line(
    topic_id: str, scores: dict[str, TopicScore], about: dict[str, str], taxonomy: Taxonomy
) -> bool:
    """Whether a company's topic has only the company's own name for evidence, outside the
    heading, in a section about the cloud or the smart-home devices it excludes ("Microsoft
    opened two regions" in an item about Azure is about azure, "Amazon's new Echo" in an item
    on smart speakers is about smart-home; the company is a mention)."""
    topic, score = taxonomy.topics[topic_id], scores[topic_id]
    if not topic.exclude or score.in_heading or not score.evidence <= topic.entities:
        return False
    return any(
        taxonomy.topics[other].group in COMPANY_LINE_GROUPS
        and taxonomy.topics[other].entities & topic.exclude
        for other in about
        if other != topic_id
    )


def _intro_roles(
    scored: list[tuple[dict[str, TopicScore], int]],
    taxonomy: Taxonomy,
    text: str,
    post_rows: list[tuple[Any, ...]],
    roles: list[dict[str, str]],
) -> dict[str, str]:
    """An intro is about every topic it names directly that a later section is about, and
    the topics named in the heading of each later section whose heading it echoes (added to
    its scores, the heading as evidence)."""
    scores = scored[0][0]
    previewed = {t for role_of in roles[1:] for t, role in role_of.items() if role == "about"}
    about = {
        t
        for t, score in scores.items()
        if score.direct and score.score >= INTRO_MIN_SCORE and t in previewed
    }
    words = _content_words(text)
    for row, (later, _), role_of in zip(post_rows[1:], scored[1:], roles[1:], strict=True):
        heading = _content_words(row[2]) if isinstance(row[2], str) else set()
        if not heading or len(heading & words) < INTRO_ECHO * len(heading):
            continue
        for topic_id, role in role_of.items():
            if role != "about" or not later[topic_id].in_heading:
                continue
            about.add(topic_id)
            if topic_id not in scores:
                scores[topic_id] = TopicScore(score=taxonomy.topics[topic_id].min_score)
            scores[topic_id].evidence.add(str(row[2]))
    return {topic_id: "about" for topic_id in about}


def _imply_roles(
    scores: dict[str, TopicScore], role_of: dict[str, str], taxonomy: Taxonomy
) -> None:
    """A section about a topic is about the topics it implies (a Kubernetes item is about
    containers too), even when the topic's evidence is below the threshold at which its
    scores flow into them (an intro's one clause)."""
    for topic_id in [t for t, role in role_of.items() if role == "about"]:
        for implied in taxonomy.topics[topic_id].implies:
            if implied not in scores:
                scores[implied] = TopicScore()
            if role_of.get(implied) != "about":
                scores[implied].absorb(scores[topic_id])
                role_of[implied] = "about"


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


# A post is about a topic that none of its sections is about when its title names the topic,
# or when the topic's evidence adds up over several sections to POST_MIN_FACTOR times the
# topic's threshold (a newsletter issue of short notes on kubelet, kubeadm and CSI drivers
# is about Kubernetes).
POST_MIN_FACTOR = 2.0
POST_MIN_SECTIONS = 2
# A topic that SUBJECT_SHARE of the posts (at least SUBJECT_MIN_POSTS) are about, or whose
# name is in that share of the titles, is the archive's subject.
SUBJECT_SHARE = 0.8
SUBJECT_MIN_POSTS = 5


def is_subject(count: int, posts: int) -> bool:
    """Whether ``count`` of ``posts`` posts make a topic the archive's subject."""
    return posts >= SUBJECT_MIN_POSTS and count >= SUBJECT_SHARE * posts


def post_topics(
    topics: pd.DataFrame,
    posts: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    gazetteer: Gazetteer | None = None,
) -> pd.DataFrame:
    """The post_topics table: one row per (post, topic) with evidence in the post.

    ``sections`` counts the post's sections about the topic; ``score`` adds up the topic's
    score over all the post's sections (and 3 for each match in the title). ``role`` is
    ``about`` when a section is about the topic, the title names it, or its evidence spans
    several sections and adds up to twice the topic's threshold; else ``mention``. A topic
    nearly every post is about is the archive's subject (see :func:`subject_rows`).
    """
    taxonomy = taxonomy or load_taxonomy()
    title_scores = _title_scores(posts, taxonomy, gazetteer or load_gazetteer())
    dated = posts.set_index("post_id")[["date", "week"]]
    rows = []
    grouped = topics.groupby(["post_id", "topic"], sort=False, observed=True)
    summary = grouped.agg(
        score=("score", "sum"),
        sections=("role", lambda roles: int((roles == "about").sum())),
        spread=("section_id", "nunique"),
    )
    keys = set(summary.index) | set(title_scores)
    for post_id, topic_id in keys:
        if topic_id not in taxonomy.topics or post_id not in dated.index:
            continue
        score, sections, spread = (
            summary.loc[(post_id, topic_id)] if (post_id, topic_id) in summary.index else (0, 0, 0)
        )
        title = title_scores.get((post_id, topic_id), 0.0)
        threshold = taxonomy.topics[topic_id].min_score
        about = (
            sections > 0
            or title >= threshold
            or (spread >= POST_MIN_SECTIONS and score >= POST_MIN_FACTOR * threshold)
        )
        rows.append(
            {
                "post_id": post_id,
                "topic": topic_id,
                "group": taxonomy.topics[topic_id].group,
                "role": "about" if about else "mention",
                "score": float(score) + title,
                "sections": int(sections),
                "date": dated.at[post_id, "date"],
                "week": dated.at[post_id, "week"],
                "in_title": title > 0,
                "subject": False,
            }
        )
    if not rows:
        return schema.empty("post_topics")
    frame = _in_order(pd.DataFrame(rows), "post_id", posts["post_id"], taxonomy, "post_topics")
    return subject_rows(frame, posts, _post_subjects(rows, len(posts)), taxonomy=taxonomy)


def _post_subjects(rows: list[dict[str, Any]], posts: int) -> set[str]:
    """The topics that nearly every post is about: the archive's subjects."""
    about: dict[str, int] = defaultdict(int)
    for row in rows:
        about[row["topic"]] += row["role"] == "about"
    return {topic_id for topic_id, count in about.items() if is_subject(count, posts)}


def subject_rows(
    post_topics: pd.DataFrame,
    posts: pd.DataFrame,
    subjects: Collection[str],
    *,
    taxonomy: Taxonomy,
) -> pd.DataFrame:
    """post_topics with the archive's ``subjects`` applied (and none other), marked
    ``subject``: the posts that only mention a subject are about it (a short issue of a
    Kubernetes newsletter on kubeadm), and so is every post about no topic at all, which gets
    a row of score 0 (a holiday issue with one PR of the same newsletter: a reader files it
    under the subject). ``posts`` are the posts of ``post_topics``. Rows an earlier pass
    added or promoted are undone first, so the step can run again with other subjects."""
    frame = post_topics[~(post_topics["subject"].astype(bool) & (post_topics["score"] == 0))]
    frame = frame.assign(role=frame["role"].astype(object))
    frame.loc[frame["subject"].astype(bool), "role"] = "mention"
    promoted = frame["topic"].isin(subjects) & (frame["role"] == "mention")
    frame.loc[promoted, "role"] = "about"
    frame = frame.assign(subject=promoted)
    about_nothing = posts[~posts["post_id"].isin(frame.loc[frame["role"] == "about", "post_id"])]
    added = [
        {
            "post_id": post_id,
            "topic": topic_id,
            "group": taxonomy.topics[topic_id].group,
            "role": "about",
            "score": 0.0,
            "sections": 0,
            "date": date,
            "week": week,
            "in_title": False,
            "subject": True,
        }
        for post_id, date, week in zip(
            about_nothing["post_id"], about_nothing["date"], about_nothing["week"], strict=True
        )
        for topic_id in subjects
        if topic_id in taxonomy.topics
    ]
    if not added:
        # An empty table keeps its dtypes (a cast would give its categories another dtype).
        return post_topics if post_topics.empty else schema.conform(frame, "post_topics")
    merged = pd.concat([frame, pd.DataFrame(added)], ignore_index=True)
    return _in_order(merged, "post_id", posts["post_id"], taxonomy, "post_topics")


def _title_scores(
    posts: pd.DataFrame, taxonomy: Taxonomy, gazetteer: Gazetteer
) -> dict[tuple[str, str], float]:
    """Heading-weighted evidence of each topic in each post's title."""
    headings, topics_for, names_parent, scanner = _tagging_rules(taxonomy, gazetteer)
    weight = REGION_WEIGHTS["heading"]
    scores: dict[tuple[str, str], float] = defaultdict(float)
    for post_id, title in zip(posts["post_id"], posts["title"], strict=True):
        if not isinstance(title, str) or not title.strip():
            continue
        context = context_words(title)
        for entity_id, said in headings.find(title, context):
            for topic_id, ancestor in topics_for.get(entity_id, ()):
                direct = ancestor is None or names_parent(said, ancestor)
                scores[(post_id, topic_id)] += weight * (1.0 if direct else CHILD_WEIGHT)
        for topic_id, _ in scanner.find(title.lower()):
            scores[(post_id, topic_id)] += weight
    return dict(scores)


# A topic that the titles of most posts name (a newsletter called "This Week in Rust") is the
# archive's subject: every section of those posts is about it, as a reader filing them would.
# (SUBJECT_SHARE and SUBJECT_MIN_POSTS are defined with the post-level rules above.)


def archive_subjects(
    topics: pd.DataFrame,
    posts: pd.DataFrame,
    sections: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    gazetteer: Gazetteer | None = None,
) -> pd.DataFrame:
    """``topics`` with the archive's subjects applied: every section of a post whose title
    names a subject is about it (``subject`` marks those rows). Rows an earlier pass added
    are dropped first, so the step can run again on a merged, partly cached table."""
    taxonomy = taxonomy or load_taxonomy()
    added = topics["subject"].astype(bool) & (topics["mentions"] == 0)
    base = topics[~added].assign(role=lambda frame: frame["section_role"], subject=False)
    titled = _title_scores(posts, taxonomy, gazetteer or load_gazetteer())
    with_title = int(posts["title"].fillna("").str.strip().astype(bool).sum())
    named: dict[str, set[str]] = defaultdict(set)
    for (post_id, topic_id), score in titled.items():
        if score >= taxonomy.topics[topic_id].min_score:
            named[topic_id].add(post_id)
    subjects = {
        topic_id: post_ids
        for topic_id, post_ids in named.items()
        if is_subject(len(post_ids), with_title)
    }
    if not subjects:
        return base.reset_index(drop=True)
    extra = []
    for topic_id, post_ids in subjects.items():
        hit = base["topic"].eq(topic_id) & base["post_id"].isin(post_ids)
        base.loc[hit, ["role", "subject"]] = ["about", True]
        have = set(base.loc[hit, "section_id"])
        missing = sections[sections["post_id"].isin(post_ids) & ~sections["section_id"].isin(have)]
        extra.append(
            missing[["post_id", "section_id", "date", "week"]].assign(
                topic=topic_id,
                group=taxonomy.topics[topic_id].group,
                role="about",
                section_role="mention",
                subject=True,
                mentions=0,
                evidence=[["title"]] * len(missing),
                score=0.0,
                in_heading=False,
                coverage=0.0,
                share=0.0,
            )
        )
    merged = pd.concat([base, *extra], ignore_index=True)
    return _in_order(merged, "section_id", sections["section_id"], taxonomy, "topics")


def about_rows(topics: pd.DataFrame, *, subjects: bool = True) -> pd.DataFrame:
    """The rows of a topics or post_topics table whose role is ``about`` (every row of a
    table written before roles existed). ``subjects=False`` leaves out the rows that are about
    only because the archive's subject covers the whole post: what the section (or the post)
    says itself."""
    if "role" not in topics.columns:
        return topics
    rows = topics[topics["role"] == "about"]
    if subjects:
        return rows
    if "section_role" in rows.columns:
        return rows[rows["section_role"] == "about"]
    return rows[~rows["subject"].astype(bool)] if "subject" in rows.columns else rows
