"""Sentiment of every section and post: VADER sentence by sentence, rolled up by words.

VADER (the ``vadersentiment`` package, lexicon shipped inside it, nothing downloads) is built
for sentences, so each section's text and footnotes are split into sentences, each sentence is
scored on its own and the section takes the word-weighted mean of its sentences' scores. Texts of
any length work the same way.

VADER's lexicon was rated on social media; ``resources/sentiment-lexicon.yaml`` adjusts it for
tech news (see :func:`lexicon_changes`): bad news it does not know reads negative (breach, outage,
deprecated, layoffs, "price rise", "messed up"), words that tech prose uses plainly lose their
praise ("support", "security", "like", "as well"). Labels, for a section or a post:

- an *informational* section, a post's untitled opening summary (followed by titled sections)
  or a list of short items (:func:`is_listing`: links, events, changes), is ``neutral``: it
  names the week's news in the upbeat words of announcements (or lists an outage among other
  items) without the author taking a stance; the sections it summarises carry the tone;
- else ``mixed``: at least :data:`MIXED_MIN_SHARE` of the words are in positive sentences and
  as many in negative ones, the smaller side has at least :data:`MIXED_BALANCE` times the
  words of the larger (a long section with one sour sentence stays positive), and the compound
  is above :data:`NEGATIVE` (bad news told with some upbeat words is still bad news), but
  ``negative`` when the heading is negative beyond -:data:`HEADING` ("Mailbox shutting down"
  over a text that weighs its merits against its end: the news is the shutdown);
- else ``positive`` when the compound score is at least :data:`POSITIVE` (VADER's standard
  +0.05), ``negative`` when it is at most :data:`NEGATIVE` (-0.15: the caveats of tech prose,
  "limited", "lower", "hard", pull a section a little below zero without it being bad news), and
  ``neutral`` between, which includes a section without words (compound 0);
- but ``mixed`` when the heading says the opposite of a positive or negative text, its compound
  beyond +-:data:`HEADING` ("GitHub outage" over a text that praises the post-mortem). The
  heading is not scored otherwise: most headings are names.

A section where the author says the news is both good and bad ("mixed feelings", "in equal
parts", "the good and the bad") is ``mixed`` whatever its words weigh; one with ironic praise
(:func:`is_sarcastic`: "What could possibly go wrong?", "Truly visionary.") is ``negative``:
sarcasm counts as what it means.

A sentence in the author's own voice ("I think", "I'm not convinced", "my advice") weighs
:data:`AUTHOR_WEIGHT` times its words: the guide asks for the author's tone, and the sentences
that tell the news ("X released Y with Z") carry the words of the announcement.

A sentence counts as positive or negative at VADER's +-0.05; a negative sentence that tells
how things were before the news ("until now", "previously", "you had to") counts as neutral:
it sets up the problem the news solves. The thresholds were sized on 120
hand-labelled sections of a weekly tech blog and checked on 60 of a Rust newsletter.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import yaml

from . import schema
from .analysis import Freq, period_range, period_starts, table_and_sections
from .corpus import Corpus

SENTENCE_POSITIVE = 0.05
SENTENCE_NEGATIVE = -0.05
POSITIVE = 0.05
NEGATIVE = -0.15
MIXED_MIN_SHARE = 0.25
MIXED_BALANCE = 0.5
HEADING = 0.3
AUTHOR_WEIGHT = 3.0
LISTING_MIN_ITEMS = 3
LISTING_MAX_WORDS = 12
LABELS = ("positive", "negative", "neutral", "mixed")

# A sentence ends at . ! or ? (closing quotes and brackets stay with it) before a space and a
# capital, digit or opening quote; a line break always ends one (paragraphs, list items).
_SENTENCE_END = re.compile(
    r"(?:(?<=[.!?])|(?<=[.!?][\"'\u201d\u2019)\]]))\s+(?=[\"'\u201c\u2018(\[]?[A-Z0-9])"
)
_WORD = re.compile(r"\w+(?:['\u2019]\w+)*")


LEXICON = Path(str(resources.files("weeknotes_analysis") / "resources" / "sentiment-lexicon.yaml"))


def lexicon_changes(
    path: str | os.PathLike[str] = LEXICON,
) -> tuple[dict[str, float], dict[str, float]]:
    """The words and the phrases (lower case) of a lexicon file, each with its valence."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    words: dict[str, float] = {}
    phrases: dict[str, float] = {}
    for number, group in enumerate(document.get("groups") or [], start=1):
        if not isinstance(group, dict) or not str(group.get("why") or "").strip():
            raise ValueError(f"{path}: group {number} needs a `why:` and words or phrases")
        for key, target in (("words", words), ("phrases", phrases)):
            for text, valence in (group.get(key) or {}).items():
                if not isinstance(text, str):
                    # YAML reads a bare yes, no, on or off as a boolean.
                    raise ValueError(f"{path}: group {number}: quote the word {text!r}")
                target[" ".join(text.lower().split())] = float(valence)
    return words, phrases


def _token(phrase: str) -> str:
    """The one token a phrase is scored as (VADER splits on spaces and keeps inner ``_``)."""
    return phrase.replace(" ", "_")


@cache
def _analyzer() -> Any:
    """VADER with the lexicon changes applied: words of valence 0 are taken out (VADER then
    treats them as any other word), phrases go in as one token each."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    words, phrases = lexicon_changes()
    for word, valence in words.items():
        if valence:
            analyzer.lexicon[word] = valence
        else:
            analyzer.lexicon.pop(word, None)
    for phrase, valence in phrases.items():
        if valence:
            analyzer.lexicon[_token(phrase)] = valence
    return analyzer


@cache
def _phrase_pattern() -> tuple[frozenset[str], re.Pattern[str] | None]:
    """The first words of the phrases, and a pattern that finds any phrase."""
    phrases = sorted(lexicon_changes()[1], key=len, reverse=True)
    if not phrases:
        return frozenset(), None
    alternatives = "|".join(r"\s+".join(map(re.escape, phrase.split())) for phrase in phrases)
    pattern = re.compile(rf"(?<![\w'\u2019])(?:{alternatives})(?![\w'\u2019])", re.IGNORECASE)
    return frozenset(phrase.split()[0] for phrase in phrases), pattern


_PUNCTUATION_TO_SPACE = str.maketrans(string.punctuation, " " * len(string.punctuation))


def _join_phrases(sentence: str) -> str:
    first_words, pattern = _phrase_pattern()
    # A set look-up of the words first: three sentences in four hold no phrase's first word,
    # and the pattern is slow to try at every position.
    if pattern is None or first_words.isdisjoint(
        sentence.lower().translate(_PUNCTUATION_TO_SPACE).split()
    ):
        return sentence
    return pattern.sub(lambda match: _token(" ".join(match.group(0).lower().split())), sentence)


def sentences(text: str | None) -> Iterator[str]:
    """The sentences of a plain text, each with at least one word."""
    for paragraph in re.split(r"\n+", text or ""):
        for sentence in _SENTENCE_END.split(paragraph.strip()):
            if _WORD.search(sentence):
                yield sentence


def is_listing(text: str | None) -> bool:
    """Whether a text is a list of short items (link titles, events, changes): at least
    :data:`LISTING_MIN_ITEMS` paragraphs or list items whose median length is at most
    :data:`LISTING_MAX_WORDS` words."""
    # Words split at spaces: close enough for a median, and cheap.
    sizes = sorted(len(line.split()) for line in (text or "").split("\n"))
    sizes = [size for size in sizes if size]
    return len(sizes) >= LISTING_MIN_ITEMS and sizes[len(sizes) // 2] <= LISTING_MAX_WORDS


def label(
    compound: float,
    positive_share: float,
    negative_share: float,
    *,
    informational: bool = False,
    heading: float = 0.0,
) -> str:
    """The label of a compound score and the shares of words in positive and negative
    sentences (see the module's docstring for the rule); ``informational`` for a listing or
    a post's untitled opening summary, ``heading`` the compound score of its heading."""
    if informational:
        return "neutral"
    low, high = sorted((positive_share, negative_share))
    if low >= MIXED_MIN_SHARE and low >= MIXED_BALANCE * high and compound > NEGATIVE:
        return "negative" if heading <= -HEADING else "mixed"
    if compound >= POSITIVE:
        return "mixed" if heading <= -HEADING else "positive"
    if compound <= NEGATIVE:
        return "mixed" if heading >= HEADING else "negative"
    return "neutral"


# A sentence that tells how things were before the news ("Until now you had to poll the
# queue, which was painful") sets up the problem that the news solves: its bad words are not
# the author's stance, and it counts as neutral.
_BEFORE = re.compile(
    r"\b(?:until now|until recently|until today|until this week|previously|used to|no longer"
    r"|in the past|before this|before now"
    r"|(?:you|we|one|people|users) (?:had|needed|would have|would need|used) to)\b",
    flags=re.IGNORECASE,
)
# The author's own verdict that the news is both good and bad ("I have mixed feelings about
# it", "impressive and worrying in about equal parts"): the words either side of it weigh
# unevenly, the verdict does not. ("On the other hand" and "a mixed bag" are no verdict: they
# introduce a caveat or describe a list.)
_MIXED_VERDICT = re.compile(
    r"\b(?:mixed (?:feelings|emotions)|in (?:about |roughly |more or less )?equal "
    r"(?:parts|measure)|(?:the )?good and (?:the )?bad|love-hate|bittersweet)\b",
    flags=re.IGNORECASE,
)
# Sarcasm says the opposite of its words, and the guide counts what it means: the idioms of
# ironic praise ("What could possibly go wrong?", "I'm sure they'll be back any day now",
# "Nothing says quality like a recall"), and a short sentence of praise on its own, ending
# with a full stop ("Truly visionary.", "How generous.", "What a wonderful design.").
_SARCASM = re.compile(
    r"\b(?:what could possibly go wrong|any day now|who could have (?:seen|guessed|predicted|"
    r"known|imagined)|what a surprise|colou?r me (?:surprised|shocked)|shocking, I know|"
    r"surprise, surprise|yeah, right|because that (?:worked|went) so well|a true masterclass|"
    r"it's touching|nothing says\b.{1,40}\blike|what an? (?:perfectly|totally|completely|"
    r"entirely) \w+ (?:way|thing|idea|move)|I'm sure (?:we all|everyone) (?:believes?|trusts?)|"
    r"I'm sure\b[^.!?]*\bwill (?:love|appreciate|enjoy|be thrilled|be delighted))\b",
    flags=re.IGNORECASE,
)
_SHORT_PRAISE = re.compile(r"(?:Truly|How|What an?)(?:,? [a-z][\w'-]*){1,4}\.")


def is_sarcastic(sentence: str, compound: float | None = None) -> bool:
    """Whether a sentence is ironic praise: one of the idioms of sarcasm, or a short sentence
    of praise in lower-case words that starts with "Truly", "How" or "What a" and ends with a
    full stop (not a title: "How Rust Achieves Thread Safety."). ``compound``: the sentence's
    VADER score, when known."""
    plain = sentence.translate(_QUOTES).strip()
    if _SARCASM.search(plain):
        return True
    if _SHORT_PRAISE.fullmatch(plain) is None:
        return False
    return (polarity(plain)["compound"] if compound is None else compound) > 0


# The author's verdict on the news, in a short sentence of its own: "I love this.", "This is
# bad news, and the way it happened makes it worse.", "Good idea.", "I think this is a good
# ruling". A sentence of at most VERDICT_WORDS words that VADER scores at least
# VERDICT_STRENGTH either way, in the author's voice or opening with what points at the news
# or judges it; the model weighs their mean compound and the last one's (the closing word).
VERDICT_WORDS = 16
VERDICT_STRENGTH = 0.3
_VERDICT_OPENER = re.compile(
    r"[\"'\u201c(]*(?:this|that|it|what an?|good|great|bad|nice|well done|congratulations"
    r"|kudos|sadly|unfortunately|fortunately|thankfully)\b",
    flags=re.IGNORECASE,
)

# The author speaking in the first person singular (a newsletter's "we" is mostly its team or
# its readers doing something: no stance of the author's).
_AUTHOR = re.compile(r"\b(?:I|I'm|I've|I'd|I'll|me|my|mine)(?![\w'])")
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})
_NEUTRAL = {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
_PUNCTUATION = string.punctuation


def polarity(sentence: str) -> dict[str, float]:
    """VADER's scores of one sentence. A sentence of plain ASCII words none of which is in
    VADER's lexicon scores neutral without running VADER: its rules only scale the valence of
    lexicon words (most sentences of tech notes have none, and VADER is pure Python)."""
    analyzer = _analyzer()
    # Typographic quotes as VADER's lexicon and negations spell them: "isn\u2019t good" is
    # "isn't good", not "good".
    sentence = _join_phrases(sentence.translate(_QUOTES))
    if sentence.isascii():
        lexicon = analyzer.lexicon
        long_words = False
        for token in sentence.split():
            lower = token.lower()
            stripped = lower.strip(_PUNCTUATION)
            if lower in lexicon or stripped in lexicon:
                break
            long_words = long_words or len(stripped) > 2
        else:
            if long_words:
                return dict(_NEUTRAL)
    scores: dict[str, float] = analyzer.polarity_scores(sentence)
    return scores


class _Seen(NamedTuple):
    """One sentence as the model's features see it."""

    compound: float
    words: int
    author: bool
    verdict: bool


def _sentence_scores(text: str) -> dict[str, Any]:
    """The word-weighted sums of a text's sentences (the author's own sentences weigh
    :data:`AUTHOR_WEIGHT` times their words): the scores of :func:`score_text` before its
    label, whether a sentence is ironic praise, and ``seen``, each sentence's compound, words,
    whether the author speaks in it and whether it is a verdict (the model's features)."""
    words = count = positive = negative = 0
    # compound, pos, neg, neu, each weighted by the words; and the weighted words, in all,
    # in positive and in negative sentences.
    sums = [0.0, 0.0, 0.0, 0.0]
    weighted = weighted_positive = weighted_negative = 0.0
    sarcastic = False
    seen: list[_Seen] = []
    for sentence in sentences(text):
        scores = polarity(sentence)
        sarcastic = sarcastic or is_sarcastic(sentence, scores["compound"])
        if scores["compound"] < 0 and _BEFORE.search(sentence):
            scores = dict(_NEUTRAL)
        size = len(_WORD.findall(sentence))
        author = _AUTHOR.search(sentence.translate(_QUOTES)) is not None
        verdict = (
            size <= VERDICT_WORDS
            and abs(scores["compound"]) >= VERDICT_STRENGTH
            and (author or _VERDICT_OPENER.match(sentence) is not None)
        )
        seen.append(_Seen(scores["compound"], size, author, verdict))
        weight = size * (AUTHOR_WEIGHT if author else 1.0)
        for index, key in enumerate(("compound", "pos", "neg", "neu")):
            sums[index] += weight * scores[key]
        words += size
        weighted += weight
        count += 1
        if scores["compound"] >= SENTENCE_POSITIVE:
            positive += 1
            weighted_positive += weight
        elif scores["compound"] <= SENTENCE_NEGATIVE:
            negative += 1
            weighted_negative += weight
    compound, pos, neg, neu = (v / weighted for v in sums) if weighted else (0.0, 0.0, 0.0, 1.0)
    return {
        "compound": compound,
        "pos": pos,
        "neg": neg,
        "neu": neu,
        "sentences": count,
        "positive_sentences": positive,
        "negative_sentences": negative,
        "words": words,
        "positive_share": weighted_positive / weighted if weighted else 0.0,
        "negative_share": weighted_negative / weighted if weighted else 0.0,
        "sarcastic": sarcastic,
        "seen": seen,
    }


def score_text(
    text: str, *, heading: str | None = None, informational: bool | None = None
) -> dict[str, Any]:
    """Scores of one text: compound, label, pos, neg, neu, sentences, positive and negative
    sentences, words, positive_share and negative_share (shares of words, the author's own
    sentences counted :data:`AUTHOR_WEIGHT` times); also sarcastic and mixed_verdict (the
    marks of irony and of the author's verdict of both) and the model's :data:`FEATURES`.
    ``heading`` (not scored) only turns a label that it contradicts into mixed;
    ``informational`` labels the text neutral (default: when it :func:`is_listing`)."""
    scored = _sentence_scores(text)
    seen = scored.pop("seen")
    informational = is_listing(text) if informational is None else informational
    heading_compound = polarity(heading)["compound"] if heading else 0.0
    verdict = label(
        scored["compound"],
        scored["positive_share"],
        scored["negative_share"],
        informational=informational,
        heading=heading_compound,
    )
    mixed_verdict = _MIXED_VERDICT.search(text) is not None
    if not informational and mixed_verdict:
        verdict = "mixed"
    if not informational and scored["sarcastic"]:
        verdict = "negative"
    scored.update(label=verdict, mixed_verdict=mixed_verdict)
    scored["features"] = _features(scored, seen, text, heading_compound, informational)
    return scored


# Words that turn or hedge a text ("but", "however"; "maybe", "seems"): the model weighs
# how often they come per sentence.
_CONTRAST = re.compile(
    r"\b(?:but|however|although|though|yet|unfortunately|sadly|still)\b", re.IGNORECASE
)
_HEDGE = re.compile(
    r"\b(?:hope|hopefully|wonder|curious|interesting|seems?|maybe|perhaps|might)\b",
    re.IGNORECASE,
)
# The numbers :mod:`sentiment_model` reads of each text besides its words, in this order.
FEATURES = (
    "compound", "positive_share", "negative_share", "plain_compound", "author_compound",
    "other_compound", "has_author", "author_share", "max_compound", "min_compound",
    "spread", "positive_fraction", "negative_fraction", "strong_negatives",
    "strong_positives", "log_words", "informational", "heading", "contrast", "hedge",
    "questions", "exclamation", "mixed_verdict", "neg", "pos",
    "rule_positive", "rule_negative", "rule_mixed", "rule_neutral",
    "verdict_compound", "last_verdict",
)  # fmt: skip


def _features(
    scored: dict[str, Any],
    seen: list[_Seen],
    text: str,
    heading: float,
    informational: bool,
) -> list[float]:
    """The :data:`FEATURES` of a scored text (``seen``: each sentence's compound, words,
    whether the author speaks in it and whether it is a short verdict)."""
    compounds = np.array([one.compound for one in seen] or [0.0])
    sizes = np.array([float(one.words) for one in seen] or [1.0])
    author = np.array([one.author for one in seen] or [False])
    verdicts = [one.compound for one in seen if one.verdict]
    total = sizes.sum() or 1.0

    def mean(mask: np.ndarray) -> float:
        return (
            float((compounds[mask] * sizes[mask]).sum() / sizes[mask].sum()) if mask.any() else 0.0
        )

    count = max(1, len(seen))
    verdict = scored["label"]
    return [
        scored["compound"], scored["positive_share"], scored["negative_share"],
        float((compounds * sizes).sum() / total), mean(author), mean(~author),
        float(author.any()), float(sizes[author].sum() / total),
        float(compounds.max()), float(compounds.min()), float(compounds.std()),
        float((compounds >= SENTENCE_POSITIVE).mean()),
        float((compounds <= SENTENCE_NEGATIVE).mean()),
        float((compounds <= -0.5).sum()), float((compounds >= 0.5).sum()),
        float(np.log1p(scored["words"])), float(informational), heading,
        len(_CONTRAST.findall(text)) / count, len(_HEDGE.findall(text)) / count,
        text.count("?") / count, float("!" in text), float(scored["mixed_verdict"]),
        scored["neg"], scored["pos"],
        float(verdict == "positive"), float(verdict == "negative"),
        float(verdict == "mixed"), float(verdict == "neutral"),
        float(np.mean(verdicts)) if verdicts else 0.0, verdicts[-1] if verdicts else 0.0,
    ]  # fmt: skip


def _leads(sections: pd.DataFrame) -> list[bool]:
    """Which sections open their post untitled, with titled sections after them: weekly notes
    put their summary there ("this week: X released, Y announced")."""
    if "heading" not in sections:
        return [False] * len(sections)
    untitled = sections["heading"].fillna("").astype(str).str.strip().eq("")
    several = sections.groupby("post_id", sort=False)["post_id"].transform("size").gt(1)
    return (untitled & several).tolist()


def scored_sections(
    sections: pd.DataFrame, *, footnotes: bool = True
) -> tuple[list[str], list[dict[str, Any]]]:
    """The text scored of each section (its text, then its footnotes) and its
    :func:`score_text` scores, informational for a post's untitled opening followed by titled
    sections and for a text (without its footnotes) that :func:`is_listing`."""
    rows = []
    bodies = []
    leads = _leads(sections)
    headings = sections["heading"] if "heading" in sections else [None] * len(sections)
    for text, notes, heading, lead in zip(
        sections["text"], sections["footnotes"], headings, leads, strict=True
    ):
        body = text if isinstance(text, str) else ""
        if footnotes and isinstance(notes, str) and notes.strip():
            body = f"{body}\n{notes}"
        title = heading if isinstance(heading, str) else None
        informational = lead or is_listing(text if isinstance(text, str) else "")
        rows.append(score_text(body, heading=title, informational=informational))
        bodies.append(body)
    return bodies, rows


def sentiment(
    sections: pd.DataFrame, *, footnotes: bool = True, method: str = "model"
) -> pd.DataFrame:
    """The sentiment table: one row for every section of ``sections``, in its order.

    Columns (see ``schema.SENTIMENT``): post_id, section_id, compound (word-weighted mean of
    the sentences' VADER compound, -1 to 1), label (positive, negative, neutral, mixed), pos,
    neg, neu (word-weighted means of VADER's proportions), sentences, positive_sentences,
    negative_sentences, words, positive_share and negative_share (of words). The heading is not
    scored: it only turns a label that it contradicts into mixed. ``footnotes=False`` scores
    the text alone. A post's untitled opening followed by titled sections, and a text (without
    its footnotes) that :func:`is_listing`, are informational.

    ``method="model"`` (the default) labels each section with the learned model of
    :mod:`sentiment_model` (rule_label keeps the rules' label, confidence the model's
    probability of its label); ``method="rules"`` labels by the rules alone (informational
    sections neutral, see the module's docstring).
    """
    if method not in ("model", "rules"):
        raise ValueError(f"method must be 'model' or 'rules', not {method!r}")
    bodies, rows = scored_sections(sections, footnotes=footnotes)
    scores = pd.DataFrame(rows, columns=[c.name for c in schema.SENTIMENT[2:]])
    scores["rule_label"] = scores["label"]
    scores["confidence"] = np.nan
    if method == "model" and rows:
        scores["label"], scores["confidence"] = _model_labels(bodies, rows)
    frame = pd.concat([sections[["post_id", "section_id"]].reset_index(drop=True), scores], axis=1)
    return schema.conform(frame, "sentiment")


def _model_labels(bodies: list[str], rows: list[dict[str, Any]]) -> tuple[list[str], np.ndarray]:
    """The learned model's label of each scored text and its probability; ironic praise
    stays negative and the author's verdict of both good and bad stays mixed (outside
    informational texts)."""
    from .sentiment_model import bundled_model

    model = bundled_model(FEATURES)
    if model is None:
        return [row["label"] for row in rows], np.full(len(rows), np.nan)
    numbers = np.array([row["features"] for row in rows])
    probabilities = model.probabilities(bodies, numbers)
    chosen, confidence = model.decide(probabilities, numbers)
    labels = [model.classes[index] for index in chosen]
    informational = FEATURES.index("informational")
    for number, row in enumerate(rows):
        if row["features"][informational]:
            continue
        if row["sarcastic"]:
            labels[number] = "negative"
        elif row["mixed_verdict"]:
            labels[number] = "mixed"
    return labels, confidence


# A post reads neutral only when its informational sections outweigh (in words) those with a
# stance this many times; positive and negative sections read mixed when the lighter side has
# at least this share of the heavier one's words.
NEUTRAL_POST = 2.0
MIXED_POST = 0.5


def post_label(positive: float, negative: float, neutral: float, mixed: float) -> str:
    """A post's label from the words of its sections of each label (in :data:`LABELS`'
    order; :func:`post_sentiment` counts a section without words as one): the stance its
    sections carry most, ``mixed`` when praise and criticism weigh alike
    (:data:`MIXED_POST`) or the mixed sections weigh at least as much as either, ``neutral``
    when there is no stance or the plain sections outweigh the others
    :data:`NEUTRAL_POST` to one."""
    stance = positive + negative + mixed
    if stance <= 0 or neutral >= NEUTRAL_POST * stance:
        return "neutral"
    if mixed >= max(positive, negative):
        return "mixed"
    if min(positive, negative) >= MIXED_POST * max(positive, negative):
        return "mixed"
    return "positive" if positive > negative else "negative"


def post_sentiment(
    sentiment: Corpus | pd.DataFrame, posts: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per post: the word-weighted rollup of its sections' rows, labelled by its
    sections' labels (:func:`post_label`). Columns: post_id, compound, label, pos, neg, neu,
    sections, sentences, positive_sentences, negative_sentences, words, positive_share,
    negative_share, rule_label (the rules' label of the rolled-up scores), and how many of its
    sections carry each label (positive_sections, negative_sections, neutral_sections,
    mixed_sections: the sections' own ``label``); with a corpus (or a sentiment table and
    ``posts``) also title, date and week (every post, in the posts' order)."""
    if isinstance(sentiment, Corpus):
        sentiment, posts = sentiment.sentiment, sentiment.posts
    words = sentiment["words"].astype("float64")
    means = ["compound", "pos", "neg", "neu", "positive_share", "negative_share"]
    counts = ["sentences", "positive_sentences", "negative_sentences", "words"]
    sums = (
        sentiment[means]
        .mul(words, axis=0)
        .join(sentiment[counts])
        .assign(sections=1, post_id=sentiment["post_id"])
        .groupby("post_id", sort=False)
        .sum()
    )
    total = sums["words"].where(sums["words"] > 0)
    table = (
        sums[means]
        .div(total, axis=0)
        .fillna(0.0)
        .assign(neu=lambda t: t["neu"].where(total.notna(), 1.0))
    )
    table = table.join(sums[["sections", *counts]].astype("int64"))
    table["rule_label"] = [
        label(*values)
        for values in table[["compound", "positive_share", "negative_share"]].itertuples(
            index=False, name=None
        )
    ]
    weights = pd.crosstab(
        sentiment["post_id"], sentiment["label"], values=words.clip(lower=1.0), aggfunc="sum"
    )
    weights = weights.reindex(index=table.index, columns=list(LABELS)).fillna(0.0)
    table["label"] = [post_label(*row) for row in weights.itertuples(index=False, name=None)]
    columns = ["compound", "label", "pos", "neg", "neu", "sections", *counts]
    columns += ["positive_share", "negative_share", "rule_label"]
    labels = pd.crosstab(sentiment["post_id"], sentiment["label"])
    labels = labels.reindex(index=table.index, columns=list(LABELS), fill_value=0)
    for name in LABELS:
        table[f"{name}_sections"] = labels[name].astype("int64")
    columns += [f"{name}_sections" for name in LABELS]
    table = table[columns].reset_index()
    if posts is None:
        return table
    info = posts[["post_id", "title", "date", "week"]]
    return info.merge(table, on="post_id", how="left", validate="one_to_one")


def sentiment_by_period(
    data: Corpus | pd.DataFrame, sections: pd.DataFrame | None = None, *, freq: Freq = "month"
) -> pd.DataFrame:
    """Sections of each label per period (every period present, empty ones 0).

    Args:
        data: the corpus (its sections that count: excluded ones are left out), or the
            sentiment table with ``sections``.
        sections: with a sentiment table, the sections table (for the dates; undated
            sections are left out).
        freq: ``week``, ``month``, ``quarter`` or ``year``.

    Returns:
        A frame indexed by ``period`` (first day, UTC) with sections, compound (word-weighted
        mean; NaN for an empty period), a count per label (positive, negative, neutral, mixed)
        and each label's share of the period's sections (positive_share, ...; 0 when empty).
        ``attrs`` holds freq.
    """
    sentiment, sections = table_and_sections(data, sections, "sentiment")
    dated = sentiment.merge(
        sections.loc[sections["date"].notna(), ["section_id", "date"]], on="section_id"
    )
    periods = period_starts(dated["date"], freq)
    if dated.empty:
        index = pd.DatetimeIndex([], tz="UTC", name="period")
    else:
        index = period_range(dated["date"].min(), dated["date"].max(), freq)
    counts = (
        pd.crosstab(periods, dated["label"].astype(str))
        .reindex(index=index, columns=list(LABELS), fill_value=0)
        .astype("int64")
    )
    weights = dated["words"].astype("float64")
    word_sums = weights.groupby(periods).sum().reindex(index)
    compound = (dated["compound"] * weights).groupby(periods).sum().reindex(index)
    total = counts.sum(axis=1)
    table = pd.DataFrame(
        {"sections": total, "compound": compound / word_sums.where(word_sums > 0)}, index=index
    )
    table = table.join(counts)
    for name in LABELS:
        table[f"{name}_share"] = (counts[name] / total.where(total > 0)).fillna(0.0)
    table = table.rename_axis("period")
    table.attrs = {"freq": freq, "by": "sentiment", "value": "count"}
    return table


def sentiment_by_year(
    data: Corpus | pd.DataFrame, sections: pd.DataFrame | None = None
) -> pd.DataFrame:
    """:func:`sentiment_by_period` by calendar year, indexed by ``year`` (an int)."""
    table = sentiment_by_period(data, sections, freq="year")
    table.index = pd.Index(table.index.year, name="year")
    return table
