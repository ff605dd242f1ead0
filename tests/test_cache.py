"""The build cache: an edit changes exactly its own rows; fingerprints invalidate a layer."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pandas as pd
import pytest

from weeknotes_analysis import BuildLockedError, Corpus, load_corpus
from weeknotes_analysis import build as build_module
from weeknotes_analysis import process as process_module
from weeknotes_analysis.build import lock

from .conftest import SAMPLE, write

POST = "---\ntitle: Week {n}\ndate: 2020-01-{day:02d}\n---\n\n# Cloud\n\nAWS and AWS Lambda news.\n"


@pytest.fixture
def archive(tmp_path):
    folder = tmp_path / "archive"
    for n, day in ((1, 1), (2, 8), (3, 15)):
        write(folder, f"2020-0{n}.md", POST.format(n=n, day=day))
    return folder


def frames_without(corpus: Corpus, post_id: str) -> dict[str, pd.DataFrame]:
    result = {}
    for name, frame in corpus.tables().items():
        if "post_id" in frame:
            frame = frame[frame["post_id"] != post_id]
        result[name] = frame.reset_index(drop=True)
    return result


def test_edited_post_changes_exactly_its_own_rows(archive, tmp_path):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    write(
        archive,
        "2020-02.md",
        POST.format(n=2, day=8).replace("AWS and AWS Lambda news", "Azure news, Azure"),
    )
    after = load_corpus(archive, model="none", out=out)
    for name, frame in frames_without(after, "2020-02").items():
        pd.testing.assert_frame_equal(
            frame, frames_without(before, "2020-02")[name], check_categorical=False
        )
    changed = after.topics[after.topics["post_id"] == "2020-02"]
    assert changed.loc[changed["role"] == "about", "topic"].tolist() == ["azure"]
    cold = load_corpus(archive, model="none", out=tmp_path / "cold")
    for name, frame in cold.tables().items():
        pd.testing.assert_frame_equal(after.tables()[name], frame, check_categorical=False)


def test_added_and_removed_files(archive, tmp_path):
    out = tmp_path / "out"
    load_corpus(archive, model="none", out=out)
    (archive / "2020-01.md").unlink()
    write(archive, "2020-04.md", POST.format(n=4, day=22))
    after = load_corpus(archive, model="none", out=out)
    assert after.posts["post_id"].tolist() == ["2020-02", "2020-03", "2020-04"]
    assert set(after.sections["post_id"]) == {"2020-02", "2020-03", "2020-04"}


def test_taxonomy_change_retags_without_rerunning_ner(archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    taxonomy = write(
        tmp_path,
        "t.yaml",
        "topics:\n  - id: news\n    group: misc\n    terms: [news]\n    min_score: 1\n",
    )
    calls = []
    monkeypatch.setattr(
        process_module, "analyse_sections", lambda sections, *a: calls.append(len(sections))
    )
    after = load_corpus(archive, model="none", out=out, taxonomy=taxonomy)
    assert calls == [], "NER ran again although only the taxonomy changed"
    assert set(after.topics["topic"]) == {"news"} and set(before.topics["topic"]) != {"news"}
    pd.testing.assert_frame_equal(after.entities, before.entities, check_categorical=False)


@pytest.mark.slow
def test_model_change_reruns_entities(archive, tmp_path):
    out = tmp_path / "out"
    rules = load_corpus(archive, model="none", out=out)
    model = load_corpus(archive, model="auto", out=out)
    assert set(rules.entities["source"]) == {"gazetteer"}
    manifest = (out / "manifest.json").read_text()
    assert "core_web_sm" in manifest
    assert len(model.entities) >= len(rules.entities)


def test_unchanged_rebuild_does_not_import_spacy(tmp_path):
    out = tmp_path / "out"
    load_corpus(SAMPLE, model="none", out=out)
    script = textwrap.dedent(
        f"""
        import sys
        from weeknotes_analysis import load_corpus
        corpus = load_corpus({str(SAMPLE)!r}, model="none", out={str(out)!r})
        assert len(corpus.posts) > 20
        print("spacy" in sys.modules)
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_unchanged_rebuild_reads_no_gazetteer_or_taxonomy(archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)

    def refuse(*args):
        raise AssertionError("an unchanged rebuild parsed the gazetteer or the taxonomy")

    monkeypatch.setattr(build_module, "load_gazetteer", refuse)
    monkeypatch.setattr(build_module, "load_taxonomy", refuse)
    after = load_corpus(archive, model="none", out=out)
    pd.testing.assert_frame_equal(after.topics, before.topics, check_categorical=False)
    write(archive, "2020-02.md", POST.format(n=2, day=8) + "\nMore.\n")
    with pytest.raises(AssertionError, match="parsed the gazetteer"):
        load_corpus(archive, model="none", out=out)


def test_in_process_cache_returns_equal_tables(archive):
    first = load_corpus(archive, model="none")
    second = load_corpus(archive, model="none")
    for name, frame in first.tables().items():
        pd.testing.assert_frame_equal(second.tables()[name], frame, check_categorical=False)
    assert second.posts is not first.posts


def test_killed_build_leaves_previous_output_readable(archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    before = load_corpus(archive, model="none", out=out)
    write(archive, "2020-03.md", POST.format(n=3, day=15) + "\n# More\n\nGoogle Cloud, GCP.\n")
    calls = {"n": 0}
    real = build_module.Corpus.to_parquet

    def dying_write(frame, path, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        return original(frame, path, **kwargs)

    original = pd.DataFrame.to_parquet
    monkeypatch.setattr(pd.DataFrame, "to_parquet", dying_write)
    with pytest.raises(KeyboardInterrupt):
        load_corpus(archive, model="none", out=out)
    monkeypatch.setattr(pd.DataFrame, "to_parquet", original)
    del real
    readable = Corpus.read_parquet(out)
    for name, frame in before.tables().items():
        pd.testing.assert_frame_equal(readable.tables()[name], frame, check_categorical=False)
    assert not list(out.glob(".*.partial"))
    again = load_corpus(archive, model="none", out=out)
    assert "google-cloud" in set(again.topics["topic"])


def test_second_build_into_a_locked_folder_fails_clearly(archive, tmp_path):
    out = tmp_path / "out"
    with lock(out), pytest.raises(BuildLockedError, match="another weeknotes build is writing"):
        load_corpus(archive, model="none", out=out)


def test_no_cache_rebuilds_everything(archive, tmp_path, monkeypatch):
    out = tmp_path / "out"
    load_corpus(archive, model="none", out=out)
    seen = []
    real = process_module.parse_file
    monkeypatch.setattr(
        process_module,
        "parse_file",
        lambda root, rel, **options: seen.append(rel) or real(root, rel, **options),
    )
    load_corpus(archive, model="none", out=out, cache=False)
    assert len(seen) == 3
    seen.clear()
    load_corpus(archive, model="none", out=out)
    assert seen == []


def fingerprints_with(monkeypatch, module, name, path):
    """The build's fingerprints with a module's resource file replaced by ``path``."""
    monkeypatch.setattr(module, name, path)
    build_module._lexicon_fingerprint.cache_clear()
    try:
        return build_module.Fingerprints.of("none", "g", "t")
    finally:
        build_module._lexicon_fingerprint.cache_clear()


def test_an_edited_sentiment_lexicon_scores_posts_again(tmp_path, monkeypatch):
    from weeknotes_analysis import sentiment

    before = build_module.Fingerprints.of("none", "g", "t")
    edited = tmp_path / "lexicon.yaml"
    edited.write_text(
        sentiment.LEXICON.read_text(encoding="utf-8") + "\n# one more word\n", encoding="utf-8"
    )
    after = fingerprints_with(monkeypatch, sentiment, "LEXICON", edited)
    assert after.sentiment != before.sentiment
    assert (after.parse, after.ner, after.topics) == (before.parse, before.ner, before.topics)


def test_an_edited_sentiment_model_scores_posts_again(tmp_path, monkeypatch):
    from weeknotes_analysis import sentiment_model

    before = build_module.Fingerprints.of("none", "g", "t")
    edited = tmp_path / "model.json"
    edited.write_text(sentiment_model.MODEL.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    after = fingerprints_with(monkeypatch, sentiment_model, "MODEL", edited)
    assert after.sentiment != before.sentiment
    assert (after.parse, after.ner, after.topics) == (before.parse, before.ner, before.topics)


def test_tables_of_an_older_release_without_todays_columns_are_built_again(tmp_path, monkeypatch):
    """An output folder written before the sentiment table had rule_label and confidence:
    the next release's build scores the posts again and writes the columns, no crash."""
    import pyarrow.parquet as pq

    out = tmp_path / "out"
    load_corpus(SAMPLE, model="none", out=out)
    parts = [path for path in out.rglob("*.parquet") if "sentiment" in path.parts[-2:][0]]
    assert parts
    for path in parts:
        table = pq.read_table(path)
        pq.write_table(table.drop_columns(["rule_label", "confidence"]), path)
    monkeypatch.setattr(build_module, "SENTIMENT_REVISION", "an older release")
    corpus = load_corpus(SAMPLE, model="none", out=out)
    assert {"rule_label", "confidence"} <= set(corpus.sentiment.columns)
    again = Corpus.read_parquet(out)
    assert again.sentiment["confidence"].notna().all()
