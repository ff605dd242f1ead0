"""The report layer: the kernel it runs, failing cells named, an escaped index, the CLI wiring."""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import nbformat
import pandas as pd
import pytest

from weeknotes_analysis import ReportError, build_report
from weeknotes_analysis import report as report_module
from weeknotes_analysis.cli import main
from weeknotes_analysis.notebook import locate, open_archive, save_figure
from weeknotes_analysis.report import Page, write_index

from .conftest import REPO, SAMPLE
from .test_analysis import make_corpus


def test_the_python3_kernel_is_this_interpreter():
    from jupyter_client.kernelspec import KernelSpecManager

    spec = KernelSpecManager().get_kernel_spec(report_module.KERNEL)
    # "python" in a kernelspec is replaced by the interpreter that starts the kernel.
    assert spec.argv[0] in {"python", "python3", sys.executable}
    assert spec.argv[1:3] == ["-m", "ipykernel_launcher"]


def test_locate_finds_a_relative_path_from_a_folder_below(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO / "notebooks")
    assert locate("data/sample").resolve() == SAMPLE.resolve()
    with pytest.raises(FileNotFoundError, match="no-such-archive: not found"):
        locate("no-such-archive")


def test_open_archive_loads_and_cuts_to_the_dates(tmp_path):
    corpus = open_archive(SAMPLE, model="none", tables=tmp_path, start="2024-01-01")
    assert corpus.posts["date"].min() >= pd.Timestamp("2024-01-01", tz="UTC")
    assert (tmp_path / "posts.parquet").exists()


def test_save_figure_writes_a_png_only_when_given_a_folder(tmp_path):
    fig, ax = plt.subplots()
    save_figure(ax, "chart: one/two", None)
    save_figure(ax, "chart: one/two", tmp_path / "figures")
    save_figure(fig, "whole figure", tmp_path / "figures")
    plt.close(fig)
    assert sorted(p.name for p in (tmp_path / "figures").iterdir()) == [
        "chart-one-two.png",
        "whole-figure.png",
    ]


def test_index_escapes_everything_from_the_archive(tmp_path):
    corpus = make_corpus()
    corpus.posts.loc[2, "title"] = "<script>alert('x')</script>"
    png = tmp_path / "figures" / "nb" / "a.png"
    png.parent.mkdir(parents=True)
    png.write_bytes(b"png")
    page = Page(
        tmp_path / "nb.ipynb", "<i>Title</i>", tmp_path / "nb.ipynb", tmp_path / "nb.html", (png,)
    )
    index = write_index(
        [page],
        corpus,
        tmp_path / "index.html",
        archive=Path("/a/<b>x</b>"),
        model="none",
        start="2024-01-01",
    )
    html = index.read_text(encoding="utf-8")
    assert "<script>" not in html and "<i>Title" not in html and "<b>x" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "4 posts, 1 undated, 2024-01-01 to 2024-01-17" in html
    assert "cut to 2024-01-01 to the end" in html
    assert '<img src="figures/nb/a.png"' in html


@pytest.mark.parametrize(
    ("role", "counted", "listed"),
    [
        ("about", "sections about a topic", "Every section about each topic"),
        ("mention", "sections that only name a topic", "Every section that only names each topic"),
        (None, "sections about or naming a topic", "Every section about or naming each topic"),
    ],
)
def test_the_index_says_which_topic_rows_it_counts(tmp_path, role, counted, listed):
    from weeknotes_analysis.takeaways import findings

    corpus = make_corpus()
    html = write_index(
        [],
        corpus,
        tmp_path / "index.html",
        archive=Path("a"),
        model="none",
        findings=findings(corpus, freq="week", role=role),
        topics=[("kubernetes", "Kubernetes", 4)],
        role=role,
    ).read_text(encoding="utf-8")
    assert f"counts are of {counted}," in html and f"{listed}, newest first" in html


def failing_notebooks(folder: Path) -> Path:
    notebook = nbformat.v4.new_notebook()
    parameters = nbformat.v4.new_code_cell('archive = "data/sample"')
    parameters.metadata["tags"] = ["parameters"]
    notebook.cells = [
        nbformat.v4.new_markdown_cell("# Fails"),
        parameters,
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("raise ValueError('the chart has no data')"),
    ]
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    folder.mkdir()
    nbformat.write(notebook, folder / "09-fails.ipynb")
    return folder


@pytest.mark.slow
def test_a_failing_cell_fails_the_report_naming_notebook_and_cell(tmp_path):
    notebooks = failing_notebooks(tmp_path / "notebooks")
    with pytest.raises(ReportError) as failure:
        build_report(SAMPLE, out=tmp_path / "out", model="none", notebooks=notebooks)
    message = str(failure.value)
    assert "09-fails.ipynb: cell 4 failed: ValueError: the chart has no data" in message
    assert "raise ValueError" in message
    assert not (tmp_path / "out" / "index.html").exists()


def test_report_command_calls_build_report_and_prints_the_index(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_build_report(path, **options):
        calls.append((path, options))
        return Path(options["out"]) / "index.html"

    monkeypatch.setattr(report_module, "build_report", fake_build_report)
    out = tmp_path / "r"
    code = main(
        [
            "report",
            str(SAMPLE),
            "--out",
            str(out),
            "--model",
            "none",
            "--quiet",
            "--start",
            "2024-01-01",
        ]
    )
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out / "index.html")
    path, options = calls[0]
    assert path == str(SAMPLE)
    assert options["model"] == "none" and options["start"] == "2024-01-01"
    assert options["progress"] is False


def test_report_command_fails_loudly(tmp_path, monkeypatch, capsys):
    def failing(path, **options):
        raise ReportError("notebooks/02.ipynb: cell 5 failed: KeyError: 'x'")

    monkeypatch.setattr(report_module, "build_report", failing)
    assert main(["report", str(SAMPLE), "--out", str(tmp_path)]) == 1
    assert "02.ipynb: cell 5 failed" in capsys.readouterr().err


def test_missing_archive_is_a_clear_error(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r")]) == 2
    assert "no such archive folder" in capsys.readouterr().err
