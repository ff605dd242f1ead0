"""Shared fixtures: the sample archive, the real archives (skipped when absent), tiny archives."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
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


class _NoModel(MutableMapping):
    """The pipeline cache of a test not marked slow: asking it for a statistical model's
    pipeline fails the test (``make test-fast`` leaves slow tests out, so they must say so)."""

    def __init__(self, pipelines: dict, test: str) -> None:
        self.pipelines, self.test = pipelines, test

    def __contains__(self, key: object) -> bool:
        if isinstance(key, tuple) and key and key[0] is not None:
            pytest.fail(f"{self.test} loads the statistical model {key[0]}: mark it slow")
        return key in self.pipelines

    def __getitem__(self, key):  # type: ignore[no-untyped-def]
        return self.pipelines[key]

    def __setitem__(self, key, value) -> None:  # type: ignore[no-untyped-def]
        self.pipelines[key] = value

    def __delitem__(self, key) -> None:  # type: ignore[no-untyped-def]
        del self.pipelines[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self.pipelines)

    def __len__(self) -> int:
        return len(self.pipelines)


@pytest.fixture(autouse=True)
def _slow_work_is_marked_slow(request, monkeypatch):
    """Loading the statistical model, executing notebooks and starting a Dask cluster are
    slow: a test that does one of them without the ``slow`` mark fails, saying so."""
    if request.node.get_closest_marker("slow"):
        return
    from weeknotes_analysis import nlp, report

    test = request.node.nodeid
    if "cluster" in request.fixturenames:
        pytest.fail(f"{test} starts a Dask cluster: mark it slow")
    monkeypatch.setattr(nlp, "_PIPELINES", _NoModel(nlp._PIPELINES, test))

    def no_notebooks(*args, **kwargs):  # type: ignore[no-untyped-def]
        pytest.fail(f"{test} executes a notebook: mark it slow")

    monkeypatch.setattr(report, "run_notebook", no_notebooks)
