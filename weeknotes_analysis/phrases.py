"""Key phrases: noun phrases and multi-word terms, entities kept whole, variants counted together.

A phrase is a noun chunk of spaCy's dependency parse with the clutter taken out: determiners,
pronouns, possessors ("Dropbox's"), punctuation, numbers, dates and generic leading modifiers
(:data:`MODIFIERS`: "new", "latest", "other", ...). What is left is lemmatised and lower-cased,
hyphens become spaces, and entities are written as their id with spaces for hyphens, so "the new
Kubernetes clusters" and "a Kubernetes cluster" are both ``kubernetes cluster`` and "AWS" and
"Amazon Web Services" are both ``aws``. Every entity is a phrase of its own (kind ``entity``); a
chunk adds a phrase of kind ``noun_phrase`` when two or more words are left that are not all one
entity. A single word that is not an entity ("app", "company", or a stray proper noun) is left
out, and so is filler (:data:`FILLER`, or a phrase ending in one of :data:`FILLER_HEADS`: "a lot",
"things", "a couple", "the same thing").

Entities are those of the entities table when it is passed to :func:`phrases` (the same ids and
offsets); otherwise the pipeline's own, accepted by the entities table's rules.

Without a statistical model (``model="none"``) there is no tagger or parser: phrases are then the
gazetteer's entities and runs of two to four content words between stop words and punctuation,
the last word singularised by rule (kind ``term``): cruder, but free of filler as well.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Collection, Iterator
from typing import Any, Literal

import numpy as np
import pandas as pd

from . import schema
from .analysis import Freq, period_label, period_starts, table_and_sections
from .corpus import Corpus
from .nlp import (
    MODEL_LABELS,
    Gazetteer,
    RawEntity,
    TextItem,
    accepted_entities,
    build_pipeline,
    load_gazetteer,
    raw_entities,
    run_pipeline,
    section_texts,
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


FILLER_HEADS = _word_set(
    """thing stuff lot lots bit couple kind sort way bunch plenty deal amount handful ton tons
    piece something anything everything nothing one ones fact matter reason sense rest while
    moment others variety majority aspect"""
)
FILLER = FILLER_HEADS | _word_set(
    """people person guy folk everyone someone anyone time times day week month year today
    tomorrow yesterday weekend morning evening night place part end start beginning case
    example point idea question world course number area side hand term lot january february
    march april may june july august september october november december monday tuesday
    wednesday thursday friday saturday sunday"""
)
# Stripped from the front of a chunk: they say how the writer sees a thing, not what it is.
MODIFIERS = _word_set(
    """new newer newest latest old older oldest big bigger biggest small smaller smallest large
    larger largest huge great good better best bad worse worst other another same many much few
    several various whole entire own first second third last next previous past recent current
    different little such certain main major minor nice simple quick easy long short more most
    less least only very interesting important similar specific actual usual possible potential
    obvious clear strong weak powerful cool awesome amazing fantastic excellent exciting decent fine
    proper right wrong sure sole multiple numerous additional extra further initial overall
    typical total complete half annual weekly daily monthly yearly upcoming
    above below near original following aforementioned given
    any every each all both either neither no"""
)
# Without tags, these common verbs and adverbs would make terms of "looks like", "years ago".
_NOT_TERM_WORDS = _word_set(
    """like likes liked look looks looked looking sound sounds sounded feel feels felt ago
    forward available easier harder recommend recommended got gets getting thanks thank want
    wants wanted need needs needed know knows knew think thinks thought mean means let lets
    said says try tried tries going went come comes came lot lots bit couple bunch plenty
    handful tons something anything everything nothing today tomorrow yesterday tonight
    weekend held made took gave brought bought sold told found kept left began ran saw seen
    shown known built sent spent paid won lost chose chosen wrote written"""
)
# When, not what: "last week AWS released" is no term "week aws".
_TIME_WORDS = _word_set(
    """time times day days week weeks month months year years today tomorrow yesterday weekend
    morning evening night tonight january february march april may june july august september
    october november december monday tuesday wednesday thursday friday saturday sunday"""
)
_DROP_POS = frozenset({"DET", "PRON", "PUNCT", "SYM", "PART", "CCONJ", "SCONJ", "ADP", "INTJ"})
_LEAD_POS = frozenset({"NUM", "ADV", "AUX", "VERB", "SPACE", "X"})
_HEAD_POS = frozenset({"NOUN", "PROPN"})
# Tokens of these NER labels are dropped from chunks ("last week", "two", "$5", "first").
_NOT_NAMES = frozenset({"DATE", "TIME", "PERCENT", "MONEY", "QUANTITY", "ORDINAL", "CARDINAL"})
# The lemmatizer's Latin singulars, which no tech writer uses.
_LEMMA_FIXES = {"datum": "data", "medium": "media", "criterion": "criteria"}
_STARTS_WITH_WORD = re.compile(r"[a-z0-9]")
PHRASE_EXCLUDE = ["senter"]

# A token of a candidate: (start_char, end_char, normalised form).
Token = tuple[int, int, str]
TextParts = tuple[list[RawEntity], list[tuple[Token, ...]], bool]


def build_phrase_pipeline(
    model: str = "auto", *, gazetteer: Gazetteer | None = None, ner: bool = False
) -> Any:
    """A spaCy pipeline for phrases: the model's tagger, parser and lemmatizer and the gazetteer
    ruler; with ``ner`` the model's NER too (it doubles the time: better pass the entities
    table to :func:`phrases`). ``model="none"``: tokenizer and gazetteer only.

    Loaded once per (model, gazetteer contents, ner) and shared.
    """
    return build_pipeline(
        model, gazetteer=gazetteer, exclude=PHRASE_EXCLUDE + ([] if ner else ["ner"])
    )


def is_filler(phrase: str) -> bool:
    """True for a normalised phrase that says nothing: in :data:`FILLER`, or ending in one of
    :data:`FILLER_HEADS`."""
    words = phrase.split()
    return not words or phrase in FILLER or words[-1] in FILLER_HEADS


def _norm(token: Any) -> str:
    lemma = (token.lemma_ or token.text).lower()
    return _LEMMA_FIXES.get(lemma, lemma)


def _chunk_tokens(chunk: Any) -> tuple[Token, ...] | None:
    possessor: set[int] = set()
    for token in chunk:
        if token.dep_ == "poss":
            possessor.update(child.i for child in token.subtree)
    words = [
        t
        for t in chunk
        if t.i not in possessor and t.pos_ not in _DROP_POS and t.ent_type_ not in _NOT_NAMES
    ]
    while (
        words
        and words[0].ent_type_ not in MODEL_LABELS
        and (
            words[0].pos_ in _LEAD_POS
            or words[0].like_num
            or _norm(words[0]) in MODIFIERS
            or words[0].lower_ in MODIFIERS
        )
    ):
        words.pop(0)
    if not words or not (words[-1].pos_ in _HEAD_POS or words[-1].ent_type_ in MODEL_LABELS):
        return None
    return tuple((t.idx, t.idx + len(t), _norm(t)) for t in words)


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is", "ics")):
        return word[:-1]
    return word


def _runs(doc: Any) -> list[tuple[Token, ...]]:
    """Runs of two to four content words (no parser) between stop words and punctuation, less
    a trailing past participle ("AWS released"); the tokens of a name (an entity other than a
    date, time or number) always count as content.

    Reads the doc as arrays of attribute ids (no Token objects), with whether a word is content
    (:func:`_content_word`) worked out once per distinct word: several times faster on a large
    archive than going token by token."""
    from spacy.attrs import ENT_TYPE, IDX, LENGTH, LOWER, ORTH, SPACY

    if not len(doc):
        return []
    rows = doc.to_array([ORTH, LOWER, ENT_TYPE, IDX, LENGTH, SPACY]).tolist()
    strings = doc.vocab.strings
    hyphen = strings["-"]
    # Tokens of names count as content; dates, times and numbers ("last week") do not.
    not_names = {strings[label] for label in _NOT_NAMES}
    for row in rows:
        if row[2] in not_names:
            row[2] = 0
    runs: list[tuple[Token, ...]] = []
    run: list[list[int]] = []
    for row in [*rows, None]:
        if row is not None and (row[2] or _content_word(doc.vocab, row[0])):
            run.append(row)
            continue
        if row is not None and run and row[0] == hyphen and not run[-1][5]:
            continue  # "open-source": the hyphen joins, it does not end the run
        while run and not run[-1][2] and _participle(strings[run[-1][1]]):
            run.pop()
        if 2 <= len(run) <= 4:
            words = [(start, start + size, strings[lower]) for _, lower, _, start, size, _ in run]
            start, end, last = words[-1]
            words[-1] = (start, end, _singular(last))
            runs.append(tuple(words))
        run = []
    return runs


_CONTENT: dict[int, bool] = {}
_PARTICIPLE = re.compile(r"[^e]ed$")


def _content_word(vocab: Any, orth: int) -> bool:
    """Whether a word outside names can be part of a term when there are no part-of-speech
    tags: alphabetic, longer than one letter, not a stop word, a modifier ("new"), a common verb
    or adverb ("looks", "ago"), a word of time ("week", "may") or an -ly adverb. From its
    lexeme, cached per word."""
    known = _CONTENT.get(orth)
    if known is None:
        lexeme = vocab[orth]
        word = lexeme.lower_
        known = _CONTENT[orth] = (
            lexeme.is_alpha
            and len(word) > 1
            and not lexeme.is_stop
            and word not in MODIFIERS
            and word not in _NOT_TERM_WORDS
            and word not in _TIME_WORDS
            and not (word.endswith("s") and word[:-1] in _TIME_WORDS)
            and not (len(word) > 4 and word.endswith("ly"))
        )
    return known


def _participle(word: str) -> bool:
    return _PARTICIPLE.search(word) is not None


def text_parts(doc: Any) -> TextParts:
    """A doc's raw entities, its phrase candidates (noun chunks, or runs without a parser) and
    whether it was parsed."""
    parsed = doc.has_annotation("DEP")
    candidates = [c for c in map(_chunk_tokens, doc.noun_chunks) if c] if parsed else _runs(doc)
    return raw_entities(doc), candidates, parsed


def run_phrase_pipeline(texts: list[str], nlp: Any, *, jobs: int = 1) -> Iterator[TextParts]:
    """:func:`text_parts` of every text, in order; ``jobs`` > 1 forks workers that inherit the
    loaded pipeline and send back only tuples."""
    return run_pipeline(texts, nlp, jobs=jobs, extract=text_parts)


def entity_phrase(entity_id: str) -> str:
    """The phrase of an entity: its id with hyphens as spaces (``aws-lambda`` -> aws lambda)."""
    return " ".join(entity_id.replace("-", " ").split())


def phrase_rows(
    source_text: str, parts: TextParts, found: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """The phrase rows of one text, in order: its entities ``found`` (dicts with entity_id,
    start_char and end_char, not overlapping) and the phrases of its candidates in ``parts``."""
    _, candidates, parsed = parts
    found = sorted(found, key=lambda row: row["start_char"])
    starts = [row["start_char"] for row in found]
    rows = [
        _row(entity_phrase(row["entity_id"]), "entity", row["entity_id"], row, source_text)
        for row in found
    ]
    for candidate in candidates:
        where = {"start_char": candidate[0][0], "end_char": candidate[-1][1]}
        pieces: list[str] = []
        used: set[int] = set()
        for token_start, _, norm in candidate:
            index = bisect.bisect_right(starts, token_start) - 1
            if index < 0 or found[index]["end_char"] <= token_start:
                pieces.append(norm)
            elif index not in used:
                # An entity is kept whole, even when the chunk holds only part of it.
                used.add(index)
                pieces.append(entity_phrase(found[index]["entity_id"]))
                where["start_char"] = min(where["start_char"], found[index]["start_char"])
                where["end_char"] = max(where["end_char"], found[index]["end_char"])
        if len(pieces) < 2:
            continue
        phrase = " ".join(" ".join(pieces).replace("-", " ").split())
        rows.append(_row(phrase, "noun_phrase" if parsed else "term", None, where, source_text))
    rows = [
        row
        for row in rows
        if not is_filler(row["phrase"]) and _STARTS_WITH_WORD.match(row["phrase"])
    ]
    return sorted(rows, key=lambda row: (row["start_char"], row["kind"] != "entity"))


def _row(
    phrase: str, kind: str, entity_id: str | None, where: dict[str, Any], source_text: str
) -> dict[str, Any]:
    start, end = where["start_char"], where["end_char"]
    return {
        "phrase": phrase,
        "text": source_text[start:end],
        "kind": kind,
        "entity_id": entity_id,
        "start_char": start,
        "end_char": end,
    }


def phrases(
    sections: pd.DataFrame,
    nlp: Any,
    *,
    entities: pd.DataFrame | None = None,
    gazetteer: Gazetteer | None = None,
    labels: Collection[str] = MODEL_LABELS,
    jobs: int = 1,
) -> pd.DataFrame:
    """The phrases table for ``sections`` (their text and footnotes), one row per mention.

    Columns (see ``schema.PHRASES``): post_id, section_id, phrase (normalised), text (as
    written), kind (entity, noun_phrase, or term without a parser), entity_id (for
    entities), start_char and end_char (into the section's ``text``, or its ``footnotes`` when
    ``in_footnote``), in_footnote.

    Args:
        sections: the sections table.
        nlp: a pipeline from :func:`build_phrase_pipeline`.
        entities: the entities table of these sections: its rows are the entities (ids and
            offsets exactly as there), and the pipeline's own are not used. Without it, the
            pipeline's entities are accepted by the rules of :func:`weeknotes_analysis.nlp.entities`
            (gazetteer hits in context; the model's NER when the pipeline has it).
        gazetteer: the gazetteer the pipeline was built with (default: the bundled one).
        labels: the model's entity labels kept as entities.
        jobs: worker processes for the pipeline.
    """
    gazetteer = gazetteer or load_gazetteer()
    items, texts, contexts = section_texts(sections)
    parts = list(run_phrase_pipeline(texts, nlp, jobs=jobs))
    if entities is not None:
        given = _entities_by_text(entities)
        section_ids = sections["section_id"].to_numpy()
        found = [given.get((section_ids[index], note), []) for index, note in items]
    else:
        raws = [raw for raw, _, _ in parts]
        found = accepted_entities(items, texts, contexts, raws, gazetteer=gazetteer, labels=labels)
    return phrase_frame(sections, items, texts, parts, found)


def phrase_frame(
    sections: pd.DataFrame,
    items: list[TextItem],
    texts: list[str],
    parts: list[TextParts],
    found: list[list[dict[str, Any]]],
) -> pd.DataFrame:
    """The phrases table of the texts of ``sections`` (see :func:`weeknotes_analysis.nlp.
    section_texts`), from each text's :func:`text_parts` and its accepted entities."""
    meta = sections[["post_id", "section_id"]].to_numpy()
    rows: list[dict[str, Any]] = []
    for (index, in_footnote), text, parts_of_text, entities_of_text in zip(
        items, texts, parts, found, strict=True
    ):
        for row in phrase_rows(text, parts_of_text, entities_of_text):
            row.update(post_id=meta[index][0], section_id=meta[index][1], in_footnote=in_footnote)
            rows.append(row)
    return schema.conform(pd.DataFrame(rows, columns=schema.column_names("phrases")), "phrases")


def _entities_by_text(entities: pd.DataFrame) -> dict[tuple[str, bool], list[dict[str, Any]]]:
    columns = ["section_id", "in_footnote", "entity_id", "start_char", "end_char"]
    by_text: dict[tuple[str, bool], list[dict[str, Any]]] = {}
    for section_id, in_footnote, entity_id, start, end in entities[columns].itertuples(
        index=False, name=None
    ):
        by_text.setdefault((section_id, bool(in_footnote)), []).append(
            {"entity_id": entity_id, "start_char": int(start), "end_char": int(end)}
        )
    return by_text


def rank_phrases(
    phrases: Corpus | pd.DataFrame,
    *,
    min_posts: int = 2,
    kinds: Collection[str] | None = None,
    top: int | None = None,
) -> pd.DataFrame:
    """Phrases ranked by how widely they recur: posts, then mentions, then the phrase.

    Args:
        phrases: the corpus, or its phrases table.
        min_posts: leave out phrases found in fewer posts (one post is not a recurrence).
        kinds: keep only these kinds (``entity``, ``noun_phrase``, ``term``); default: all.
        top: keep the first ``top`` rows.

    Returns:
        One row per phrase: phrase, kind, entity_id, text (the most frequent written form),
        count (mentions), sections, posts. Filler never appears, even in an old table.
    """
    columns = ["phrase", "kind", "entity_id", "text", "count", "sections", "posts"]
    if isinstance(phrases, Corpus):
        phrases = phrases.phrases
    rows = phrases if kinds is None else phrases[phrases["kind"].isin(list(kinds))]
    rows = rows[~rows["phrase"].map(is_filler)]
    if rows.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    # Recurring phrases first: the per-phrase modes below are the costly part, and most
    # phrases of a large archive occur in one post only.
    posts = rows.groupby("phrase", sort=False)["post_id"].nunique()
    rows = rows[rows["phrase"].isin(posts.index[posts >= min_posts])]
    if rows.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    grouped = rows.groupby("phrase", sort=False)
    table = pd.DataFrame(
        {
            "count": grouped.size(),
            "sections": grouped["section_id"].nunique(),
            "posts": grouped["post_id"].nunique(),
            "kind": _most_frequent(rows, "kind", ties="smallest"),
            "entity_id": grouped["entity_id"].first(),
            "text": _most_frequent(rows, "text", ties="first"),
        }
    )
    table = table.rename_axis("phrase").reset_index()
    table = table.sort_values(
        ["posts", "count", "phrase"], ascending=[False, False, True], kind="stable"
    )
    table = table[columns].astype({"count": "int64", "sections": "int64", "posts": "int64"})
    return table.head(top).reset_index(drop=True) if top else table.reset_index(drop=True)


def _most_frequent(rows: pd.DataFrame, column: str, *, ties: str) -> pd.Series:
    """Each phrase's most frequent ``column`` value; on a tie the smallest value
    (``ties="smallest"``, as ``Series.mode``) or the first written (``"first"``)."""
    values = rows[["phrase", column]].astype({column: str})
    counts = values.groupby(["phrase", column], sort=False).size().rename("n").reset_index()
    if ties == "smallest":
        counts = counts.sort_values(["phrase", "n", column], ascending=[True, False, True])
    else:
        counts = counts.sort_values(["phrase", "n"], ascending=[True, False], kind="stable")
    best = counts.drop_duplicates("phrase")
    return best.set_index("phrase")[column].astype(rows[column].dtype)


ItemKind = Literal["phrase", "entity"]


def _items_and_sections(
    items: Corpus | pd.DataFrame, sections: pd.DataFrame | None, by: ItemKind
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if by not in ("phrase", "entity"):
        raise ValueError(f"by must be phrase or entity, not {by!r}")
    return table_and_sections(items, sections, "phrases" if by == "phrase" else "entities")


def _item_column(items: pd.DataFrame, column: str | None) -> str:
    if column is not None:
        return column
    for name in ("phrase", "entity_id", "topic", "domain"):
        if name in items.columns:
            return name
    raise ValueError("pass column=: the table has none of phrase, entity_id, topic, domain")


def _period_counts(
    items: pd.DataFrame, sections: pd.DataFrame, column: str, freq: Freq
) -> pd.DataFrame:
    """Mentions per (period, item) of dated sections: period, item, count."""
    dates = sections.loc[sections["date"].notna(), ["section_id", "date"]]
    rows = items[["section_id", column]].dropna().merge(dates, on="section_id")
    rows = rows.assign(period=period_starts(rows["date"], freq)).rename(columns={column: "item"})
    return rows.groupby(["period", "item"]).size().rename("count").reset_index()


def first_seen(
    items: Corpus | pd.DataFrame,
    sections: pd.DataFrame | None = None,
    *,
    by: ItemKind = "phrase",
    column: str | None = None,
    freq: Freq = "week",
) -> pd.DataFrame:
    """The items seen for the first time in each period: period, label, item, count (mentions
    in that period); oldest first, then most mentioned.

    ``items`` is the corpus (its ``by`` items: ``phrase`` or ``entity``; the sections that
    count give the dates), or a phrases or entities table with ``sections`` (``column``
    defaults to phrase, else entity_id). Unlike
    :func:`weeknotes_analysis.analysis.first_last_seen` (one row per item, its first and last
    date), this counts mentions per period, for the phrases new in each period."""
    items, sections = _items_and_sections(items, sections, by)
    counts = _period_counts(items, sections, _item_column(items, column), freq)
    first = counts.sort_values("period", kind="stable").drop_duplicates("item")
    first = first.sort_values(["period", "count", "item"], ascending=[True, False, True])
    first.insert(1, "label", [period_label(start, freq) for start in first["period"]])
    return first.reset_index(drop=True)


def distinctive(
    items: Corpus | pd.DataFrame,
    sections: pd.DataFrame | None = None,
    *,
    by: ItemKind = "phrase",
    column: str | None = None,
    freq: Freq = "week",
    top: int = 10,
    prior: float = 1000.0,
) -> pd.DataFrame:
    """Per period, the items most distinctive against the rest of the archive.

    The score is the z-score of the log-odds ratio with an informative Dirichlet prior
    (Monroe, Colaresi and Quinn 2008): an item's mentions in the period against its mentions
    in every other period, smoothed by its share of the whole archive times ``prior`` (the
    prior's weight in mentions), so one stray mention does not outrank a real run.

    Args:
        items: the corpus (its ``by`` items; the sections that count give the dates), or a
            phrases or entities table.
        sections: with a table, the sections table (for the dates).
        by: with a corpus, ``phrase`` (default) or ``entity``.
        column: the item column (default: phrase, else entity_id).
        freq: ``week``, ``month``, ``quarter`` or ``year``.
        top: the number of items kept per period.
        prior: the weight of the archive-wide prior, in mentions.

    Returns:
        One row per (period, item): period (first day, UTC), label, rank (1 is the most
        distinctive), item, count (mentions in the period), rest (mentions elsewhere), score,
        new (True when the period is the first the item was seen in).
    """
    items, sections = _items_and_sections(items, sections, by)
    counts = _period_counts(items, sections, _item_column(items, column), freq)
    columns = ["period", "label", "rank", "item", "count", "rest", "score", "new"]
    if counts.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in columns})
    total = counts.groupby("item")["count"].transform("sum")
    in_period = counts.groupby("period")["count"].transform("sum")
    everything = float(counts["count"].sum())
    alpha = prior * total / everything
    rest = total - counts["count"]
    outside = everything - in_period
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = np.log((counts["count"] + alpha) / (in_period + prior - counts["count"] - alpha))
        delta -= np.log((rest + alpha) / (outside + prior - rest - alpha))
        score = delta / np.sqrt(1 / (counts["count"] + alpha) + 1 / (rest + alpha))
    # Degenerate archives (one item, or one period) have nothing to stand out against.
    score = score.where(np.isfinite(score), 0.0)
    first_period = counts.groupby("item")["period"].transform("min")
    table = counts.assign(rest=rest, score=score, new=counts["period"] == first_period)
    table = table.sort_values(["period", "score", "item"], ascending=[True, False, True])
    table["rank"] = table.groupby("period").cumcount() + 1
    table = table[table["rank"] <= top]
    table.insert(1, "label", [period_label(start, freq) for start in table["period"]])
    return table[columns].astype({"rest": "int64", "count": "int64"}).reset_index(drop=True)
