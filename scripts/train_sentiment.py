"""Fit the sentiment model on the hand-labelled gold files and write it into the package.

    python scripts/train_sentiment.py            # fit, print the figures, write the model
    python scripts/train_sentiment.py --check    # fit, print; fail if the bundled model differs

The gold files are the labels of sections of the two real archives in ``../shared/corpora``
(read, never copied) and of the invented weeklies in ``tests/fixtures``. Before fitting, each
gold file is labelled by a model fitted on the other files (leave one file out): those are the
figures to quote for posts the model has not seen, printed beside the rules' figures. Last,
the model fitted on them all labels the weeklies that no fit uses (``BLIND``): the check on
text that no choice of features or constants was made on.
"""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
FIXTURES = REPO / "tests" / "fixtures"
CORPORA = SHARED / "corpora"
EVAL = SHARED / "eval"

# (gold file, the archive it labels)
GOLD = [
    (EVAL / "gold-dev.jsonl", CORPORA / "ignoreme-weeklynotes"),
    (FIXTURES / "gold-heldout-ignoreme.jsonl", CORPORA / "ignoreme-weeklynotes"),
    (FIXTURES / "gold-heldout2-ignoreme.jsonl", CORPORA / "ignoreme-weeklynotes"),
    (FIXTURES / "gold-heldout3-ignoreme.jsonl", CORPORA / "ignoreme-weeklynotes"),
    (EVAL / "gold-dev-twir.jsonl", CORPORA / "this-week-in-rust"),
    (FIXTURES / "gold-heldout-twir.jsonl", CORPORA / "this-week-in-rust"),
    (FIXTURES / "gold-security-weekly.jsonl", FIXTURES / "security_weekly"),
    (FIXTURES / "gold-devices-data-weekly.jsonl", FIXTURES / "devices_data_weekly"),
    (FIXTURES / "gold-web-weekly.jsonl", FIXTURES / "web_weekly"),
    (FIXTURES / "gold-ops-weekly.jsonl", FIXTURES / "ops_weekly"),
    (FIXTURES / "gold-ai-weekly.jsonl", FIXTURES / "ai_weekly"),
    (FIXTURES / "gold-mobile-weekly.jsonl", FIXTURES / "mobile_weekly"),
    (FIXTURES / "gold-languages-weekly.jsonl", FIXTURES / "languages_weekly"),
    (FIXTURES / "gold-cloud-weekly.jsonl", FIXTURES / "cloud_weekly"),
    (FIXTURES / "gold-data-weekly.jsonl", FIXTURES / "data_weekly"),
    (FIXTURES / "gold-hugo-blog.jsonl", FIXTURES / "hugo_blog"),
    (FIXTURES / "gold-chips-weekly.jsonl", FIXTURES / "chips_weekly"),
    (FIXTURES / "gold-weeknotes-blog.jsonl", FIXTURES / "weeknotes_blog"),
]

# Invented weeklies labelled blind and never fitted on: each choice of features or constants
# is checked on them too, so that what the left-out figures reward is not a fit to the rest.
BLIND = [
    (FIXTURES / f"gold-{name}-weekly.jsonl", FIXTURES / f"{name}_weekly")
    for name in ("netpolicy", "oss", "games", "smarthome", "edge")
]


RULE_ORDER = ("positive", "negative", "mixed", "neutral")


def gold_rows(corpus, gold):
    """The texts, ``sentiment.FEATURES`` and gold labels of the sections of ``corpus`` that
    a gold file labels (matched as ``weeknotes evaluate --gold`` matches them)."""
    from weeknotes_analysis.evaluate import _gold_key, _match_sections, load_gold
    from weeknotes_analysis.sentiment import scored_sections

    rows = load_gold(gold)
    matched, _ = _match_sections(corpus, rows)
    wanted = [(matched[_gold_key(r)], r["sentiment"]) for r in rows if _gold_key(r) in matched]
    ids = {section for section, _ in wanted}
    posts = set(corpus.sections.loc[corpus.sections["section_id"].isin(ids), "post_id"])
    # Leads are told by their post's other sections: score whole posts, keep the gold ones.
    sections = corpus.sections[corpus.sections["post_id"].isin(posts)]
    bodies, scored = scored_sections(sections)
    where = {section: number for number, section in enumerate(sections["section_id"])}
    texts = [bodies[where[section]] for section, _ in wanted]
    numbers = np.array([scored[where[section]]["features"] for section, _ in wanted])
    return texts, numbers, [label for _, label in wanted]


@contextmanager
def without_bundled_model():
    """The fit needs the sections and their features only: the bundled model, which may be
    made for other features (the ones being changed), labels nothing while the archives are
    read (build workers are forked, so they see this too)."""
    from weeknotes_analysis import sentiment_model

    bundled = sentiment_model.bundled_model
    sentiment_model.bundled_model = lambda features=None: None
    try:
        yield
    finally:
        sentiment_model.bundled_model = bundled


def training_data(gold=GOLD):
    """The labelled sections of the ``(gold file, archive)`` pairs, each archive read once
    (no language model: the sections alone)."""
    from weeknotes_analysis.build import build_corpus
    from weeknotes_analysis.sentiment import FEATURES
    from weeknotes_analysis.sentiment_model import TrainingData

    corpora = {}
    texts, numbers, labels, groups = [], [], [], []
    with without_bundled_model():
        for path, archive in gold:
            if str(archive) not in corpora:
                corpora[str(archive)] = build_corpus(archive, model="none", phrases="off")
            found = gold_rows(corpora[str(archive)], path)
            texts += found[0]
            numbers.append(found[1].reshape(len(found[0]), len(FEATURES)))
            labels += found[2]
            groups += [Path(path).name] * len(found[0])
    matrix = np.vstack(numbers)
    rules = matrix[:, [FEATURES.index(f"rule_{name}") for name in RULE_ORDER]].argmax(axis=1)
    return TrainingData(
        FEATURES, texts, matrix, labels, [RULE_ORDER[i] for i in rules], np.array(groups)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the bundled model")
    parser.add_argument("--out", type=Path, default=None, help="where to write the model")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from weeknotes_analysis import sentiment_model

    missing = sorted({str(archive) for _, archive in GOLD if not archive.is_dir()})
    if missing:
        print("the archives are missing: " + ", ".join(missing), file=sys.stderr)
        return 2
    data = training_data(GOLD)
    print(sentiment_model.format_cross_validation(data))
    about = {"gold": {path.name: int((data.groups == path.name).sum()) for path, _ in GOLD}}
    model = sentiment_model.fit(
        data.texts, data.numbers, data.labels, features=data.features, about=about
    )
    blind = training_data(BLIND)
    predicted = model.predict(blind.texts, blind.numbers)
    header = "never fitted: sections, model accuracy / flips, "
    print(sentiment_model.format_scores(blind, predicted, header))
    if args.check:
        bundled = sentiment_model.bundled_model()
        same = np.mean(
            np.array(bundled.predict(data.texts, data.numbers))
            == np.array(model.predict(data.texts, data.numbers))
        )
        print(f"the bundled model agrees with a refit on {same:.1%} of the gold sections")
        return 0 if same >= 0.99 else 1
    out = args.out or sentiment_model.MODEL
    model.save(out)
    print(f"wrote {out} ({out.stat().st_size / 1024:.0f} KiB, {len(model.vocabulary)} terms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
