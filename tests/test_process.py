"""One pass per run of files: workers build every table, and the shortcuts change no result."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from weeknotes_analysis import engine as engine_module
from weeknotes_analysis import load_corpus
from weeknotes_analysis.markdown import _normalize_link
from weeknotes_analysis.nlp import build_pipeline, entities, load_gazetteer
from weeknotes_analysis.phrases import phrases
from weeknotes_analysis.sentiment import _analyzer, polarity, sentiment
from weeknotes_analysis.topics import _compile, _TermScanner, load_taxonomy, tag_sections

from .conftest import IGNOREME, SAMPLE, need

EXAMPLES = settings(max_examples=300, deadline=None)


def assert_same_tables(left, right) -> None:
    for name, frame in left.tables().items():
        pd.testing.assert_frame_equal(
            frame.reset_index(drop=True),
            right.tables()[name].reset_index(drop=True),
            check_categorical=False,
            obj=name,
        )


def test_worker_processes_build_the_same_tables_as_one_process(monkeypatch):
    archive = need(IGNOREME)
    pools = []
    real_pool = engine_module.ProcessPoolExecutor

    def counting_pool(*args, **kwargs):
        pools.append(kwargs.get("max_workers"))
        return real_pool(*args, **kwargs)

    monkeypatch.setattr(engine_module, "ProcessPoolExecutor", counting_pool)
    alone = load_corpus(archive, model="none", jobs=1, cache=False)
    assert pools == []
    together = load_corpus(archive, model="none", jobs=2, cache=False)
    assert pools == [2], "82 posts with --jobs 2 should run in two worker processes"
    assert len(together.posts) == 82 and len(together.phrases) > 1000
    assert_same_tables(alone, together)


@pytest.fixture(scope="module")
def sample_with_model():
    return load_corpus(SAMPLE, model="auto", cache=False)


@pytest.mark.slow
def test_one_pass_tables_match_the_table_functions(sample_with_model):
    """The build's single spaCy pass gives what the public functions give one by one."""
    corpus = sample_with_model
    gazetteer = load_gazetteer()
    nlp = build_pipeline("auto", gazetteer=gazetteer)
    own = entities(corpus.sections, nlp, gazetteer=gazetteer)
    pd.testing.assert_frame_equal(own, corpus.entities, check_categorical=False)
    assert set(own["source"]) == {"gazetteer", "model"}
    tagged = tag_sections(corpus.sections, corpus.entities, taxonomy=load_taxonomy())
    pd.testing.assert_frame_equal(tagged, corpus.topics, check_categorical=False)
    pd.testing.assert_frame_equal(
        sentiment(corpus.sections), corpus.sentiment, check_categorical=False
    )
    found = phrases(corpus.sections, nlp, entities=corpus.entities, gazetteer=gazetteer)
    pd.testing.assert_frame_equal(found, corpus.phrases, check_categorical=False)


@pytest.mark.slow
def test_phrase_modes(sample_with_model, tmp_path):
    rules = sample_with_model.phrases
    assert set(rules["kind"]) == {"entity", "term"}, "rules are the default"
    out = tmp_path / "out"
    parsed = load_corpus(SAMPLE, model="auto", phrases="parser", out=out)
    assert set(parsed.phrases["kind"]) == {"entity", "noun_phrase"}
    manifest = json.loads((out / "manifest.json").read_text())
    assert "phrases=parser" in manifest["fingerprints"]["phrases"]
    # The parser runs in the same pass as NER: the entities are those of the rules build.
    pd.testing.assert_frame_equal(
        parsed.entities, sample_with_model.entities, check_categorical=False
    )
    again = load_corpus(SAMPLE, model="auto", phrases="auto", out=out)
    pd.testing.assert_frame_equal(again.phrases, parsed.phrases, check_categorical=False)
    back = load_corpus(SAMPLE, model="auto", phrases="rules", out=out)
    pd.testing.assert_frame_equal(back.phrases, rules, check_categorical=False)
    off = load_corpus(SAMPLE, model="none", phrases="off", cache=False)
    assert off.phrases.empty and not off.entities.empty
    no_model = load_corpus(SAMPLE, model="none", phrases="parser", cache=False)
    assert set(no_model.phrases["kind"]) == {"entity", "term"}, "no parser without a model"
    with pytest.raises(ValueError, match="phrases='nouns'"):
        load_corpus(SAMPLE, model="none", phrases="nouns")


URL_CHARS = "abcAZ09-._~:/?#[]@!$&'()*+,;=% é\"<>\\^`{|}"


@EXAMPLES
@given(
    st.sampled_from(["http://", "https://", "HTTPS://", "ftp://", "mailto:", "", "//"]),
    st.text("abcxyz09.-_É例", min_size=0, max_size=12),
    st.text(URL_CHARS, max_size=30),
)
def test_fast_link_normalising_matches_markdown_it(scheme, host, rest):
    """Plain http(s) URLs skip markdown-it's normalizeLink, which would return them as is."""
    normalize = MarkdownIt("commonmark").normalizeLink
    url = scheme + host + rest
    assert _normalize_link(normalize)(url) == normalize(url)


LEXICON_WORDS = ["good", "bad", "great", "not", "very", "hate", "love", ":)", "no", "but", "kind"]
PLAIN_WORDS = ["aws", "cluster", "the", "a", "of", "release", "k8s", "x", "it's", "ok!", "i"]


@EXAMPLES
@given(
    st.lists(
        st.one_of(
            st.sampled_from(LEXICON_WORDS + PLAIN_WORDS),
            st.text("abcdefghijklmnopqrstuvwxyz!?.,'-:)(", min_size=1, max_size=6),
        ),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from(["", "!", "!!!", "?", "."]),
    st.booleans(),
)
def test_fast_sentence_polarity_matches_vader(words, end, upper):
    sentence = " ".join(words) + end
    if upper:
        sentence = sentence.upper()
    assert polarity(sentence) == _analyzer().polarity_scores(sentence)


def _reference_pattern(terms, lemmas):
    """The topic pattern without the first-character look-ahead."""
    pattern = _compile(terms, lemmas)
    assert pattern is not None
    return re.compile(re.sub(r"^\(\?=\[[^\]]*\]\)", "", pattern.pattern))


TERMS = ["serverless", "ci/cd", "c++", ".net", "node.js", "home automation", "k8s", "x-ray"]


@EXAMPLES
@given(
    st.lists(
        st.one_of(
            st.sampled_from([*TERMS, "clusters", "functions"]), st.text("ak.+-/ #", max_size=5)
        ),
        max_size=15,
    ),
    st.sampled_from(["", "\n", "  ", "-", "."]),
)
def test_topic_pattern_look_ahead_changes_no_match(words, separator):
    pattern = _compile(TERMS, ["cluster", "function"])
    assert pattern is not None and pattern.pattern.startswith("(?=[")
    text = (separator or " ").join(words).lower()
    reference = _reference_pattern(TERMS, ["cluster", "function"])
    found = [(m.start(), m.group(0)) for m in pattern.finditer(text)]
    assert found == [(m.start(), m.group(0)) for m in reference.finditer(text)]


TAXONOMY = load_taxonomy()
TAXONOMY_WORDS = sorted(
    {word.lower() for topic in TAXONOMY.topics.values() for word in (*topic.terms, *topic.lemmas)}
)


@EXAMPLES
@given(
    st.lists(
        st.one_of(
            st.sampled_from(TAXONOMY_WORDS),
            st.sampled_from(TAXONOMY_WORDS).map(lambda word: word + "s"),
            st.text("abcdeiklnorstu-./+# \n", max_size=6),
        ),
        max_size=25,
    ),
    st.sampled_from([" ", "\n", "-", "", ". "]),
)
def test_one_scan_finds_what_every_topic_pattern_finds(words, separator):
    """The term scanner tries the topics' patterns only where some term starts: it must find
    exactly each pattern's own ``finditer`` matches that no phrase of the topic's
    ``not_terms`` holds ("route leak" is networking's, not a security leak), topic by topic,
    in order."""
    scanner = _TermScanner(TAXONOMY)
    text = separator.join(words).lower()

    def outside_not_terms(topic, match) -> bool:
        spans = topic.not_pattern.finditer(text) if topic.not_pattern else ()
        return not any(a <= match.start() < z for a, z in (found.span() for found in spans))

    expected = [
        (topic.id, match.group(0))
        for topic in TAXONOMY.topics.values()
        if topic.pattern is not None
        for match in topic.pattern.finditer(text)
        if outside_not_terms(topic, match)
    ]
    assert list(scanner.find(text)) == expected
