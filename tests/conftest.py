"""Shared fixtures: the sample archive, the real archives (skipped when absent), tiny archives."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from weeknotes_analysis import Corpus, load_corpus

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "data" / "sample"
CORPORA = Path(os.environ.get("WEEKNOTES_CORPORA", REPO.parent / "shared" / "corpora"))
IGNOREME = CORPORA / "ignoreme-weeklynotes"
RUST = CORPORA / "this-week-in-rust"
EVAL_MAPPING = CORPORA.parent / "eval" / "author-keywords-to-topics.yaml"


def need(path: Path) -> Path:
    """Skip the calling test, saying why, when a real archive is not on this machine."""
    if not path.exists():
        pytest.skip(f"{path} is absent: the real archives live in ../shared/corpora (CI has them)")
    return path


@pytest.fixture(scope="session")
def sample_corpus() -> Corpus:
    return load_corpus(SAMPLE, model="none")


@pytest.fixture(scope="session")
def ignoreme_corpus() -> Corpus:
    return load_corpus(need(IGNOREME), model="none")


@pytest.fixture(scope="session")
def rust_corpus() -> Corpus:
    return load_corpus(need(RUST), model="none")


def write(folder: Path, relative: str, content: str | bytes) -> Path:
    """Write a file into a test archive, creating folders."""
    path = folder / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
