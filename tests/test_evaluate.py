"""Scoring topic tags against the author's own keywords."""

from __future__ import annotations

import math

import pytest

from weeknotes_analysis import load_corpus
from weeknotes_analysis.cli import main
from weeknotes_analysis.evaluate import evaluate_topics

from .conftest import EVAL_MAPPING, IGNOREME, need, write


def test_recall_counts_post_topic_pairs_and_lists_misses(tmp_path):
    write(
        tmp_path,
        "2020-01.md",
        "---\ntitle: One\ndate: 2020-01-01\nkeywords: [aws, golang]\n---\n\n"
        "# Lambda news\n\nAWS Lambda now runs longer; AWS says serverless users asked for it.\n",
    )
    write(
        tmp_path,
        "2020-02.md",
        "---\ntitle: Two\ndate: 2020-01-08\nkeywords: [cooking]\n---\n\n# Dinner\n\nPasta.\n",
    )
    corpus = load_corpus(tmp_path, model="none")
    result = evaluate_topics(corpus, mapping={"aws": ["aws"], "golang": ["golang"]})
    assert result.posts == 1
    assert math.isclose(result.recall, 0.5)
    assert result.misses[["post_id", "topic"]].values.tolist() == [["2020-01", "golang"]]
    per_topic = result.per_topic.set_index("topic")
    assert per_topic.loc["aws", "recall"] == 1.0 and per_topic.loc["golang", "found"] == 0


@pytest.mark.slow
def test_ignoreme_recall_meets_the_bar(capsys):
    corpus = load_corpus(need(IGNOREME), model="auto")
    result = evaluate_topics(corpus, mapping=need(EVAL_MAPPING))
    assert result.recall >= 0.95, result.misses.to_string()
    # Precision is guarded against the hand-labelled sections in test_gold.py; here only
    # that some sections (personal news, the blog itself) stay about nothing.
    assert result.untagged_share > 0.02


def test_evaluate_command_prints_recall(capsys):
    code = main(
        [
            "evaluate",
            str(need(IGNOREME)),
            "--mapping",
            str(need(EVAL_MAPPING)),
            "--model",
            "none",
            "--quiet",
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert out.startswith("recall ")
    assert float(out.split()[1]) >= 0.9
