"""The notebooks: committed clean with one `parameters` cell, and run headless as the report runs
them on the sample, on the ig.nore.me archive and on an awkward archive nobody wrote them for."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import pytest

from weeknotes_analysis import build_report
from weeknotes_analysis.report import notebook_paths

from .conftest import IGNOREME, REPO, SAMPLE, need, write

NOTEBOOKS = notebook_paths()
REQUIRED_PARAMETERS = {
    "archive",
    "start",
    "end",
    "model",
    "phrases",
    "freq",
    "role",
    "min_sections",
    "config",
    "figures_dir",
    "tables_dir",
    "topic_pages",
}


def test_the_notebooks_ship_in_the_package_and_the_repo_folder_holds_the_same():
    assert NOTEBOOKS[0].parent == REPO / "weeknotes_analysis" / "notebooks"
    copies = notebook_paths(REPO / "notebooks")
    assert [p.name for p in copies] == [p.name for p in NOTEBOOKS]
    for copy, shipped in zip(copies, NOTEBOOKS, strict=True):
        assert copy.read_bytes() == shipped.read_bytes(), (
            f"{copy} differs from {shipped}: edit the one in the package, then copy it over "
            "(cp weeknotes_analysis/notebooks/*.ipynb notebooks/)"
        )


def code_cells(notebook) -> list:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def test_the_notebooks_are_there():
    names = [path.stem for path in NOTEBOOKS]
    assert names == [
        "01-overview",
        "02-topics-across-weeks",
        "03-entities-and-links",
        "04-evaluation",
        "05-sentiment-and-phrases",
        "06-discover-topics",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_committed_notebooks_have_no_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    with_outputs = [i for i, cell in enumerate(code_cells(notebook)) if cell.outputs]
    counted = [i for i, cell in enumerate(code_cells(notebook)) if cell.execution_count]
    assert with_outputs == [] and counted == [], f"{path.name}: strip the outputs before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_the_first_code_cell_is_the_only_parameters_cell_and_holds_literals(path):
    notebook = nbformat.read(path, as_version=4)
    tagged = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1 and tagged[0] is code_cells(notebook)[0]
    values = {}
    for statement in ast.parse(tagged[0].source).body:
        assert isinstance(statement, ast.Assign), "the parameters cell holds assignments only"
        values[statement.targets[0].id] = ast.literal_eval(statement.value)  # type: ignore[attr-defined]
    assert set(values) >= REQUIRED_PARAMETERS
    assert values["archive"] == "data/sample"
    assert values["model"] == "auto"
    assert values["figures_dir"] is None and values["tables_dir"] is None


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_cells_call_into_the_package_and_stay_short(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata.kernelspec.name == "python3"
    cells = code_cells(notebook)[1:]
    # One setup call after the parameters, the same in every notebook (item 4 of issue 14).
    assert "import weeknotes_analysis as wa" in cells[0].source
    assert "= setup(\n    archive, start=start, end=end, model=model," in cells[0].source
    long_cells = [cell.source for cell in cells if len(cell.source.splitlines()) > 15]
    assert long_cells == []
    for cell in cells:
        assert "ignoreme" not in cell.source and "sample" not in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_entity_charts_leave_out_what_the_titles_name(path):
    """Every chart of entity counts is drawn without the archive's subject_entities (This Week
    in Rust's bars were led by Rust, This Week in Rust and @ThisWeekInRust) and says so."""
    for cell in code_cells(nbformat.read(path, as_version=4)):
        source = cell.source
        if "plots." not in source or not re.search(
            r'(item_totals|period_counts)\(corpus, "entity"', source
        ):
            continue
        assert "subject_entities(corpus)" in source or "exclude=subjects" in source, source
        charted = re.findall(r'(?:item_totals|period_counts)\(corpus, "entity"[^)]*\)', source)
        shown = [call for call in charted if "exclude=" in call]
        assert shown, source
        assert "subject_note(" in source, source


def write_awkward_archive(root: Path) -> Path:
    """Two posts in one week without keywords or any topic, one undated post, hostile titles."""
    archive = root / "hostile <b>archive</b>"
    write(
        archive,
        "2024-05-06.md",
        "---\ntitle: \"<script>alert('x')</script> & Co\"\ndate: 2024-05-06\n---\n\n"
        "# Gardening\n\nTomatoes grew well. [More](https://example.org/tomatoes)\n",
    )
    write(
        archive,
        "2024-05-08.md",
        '---\ntitle: "Second <img src=x onerror=alert(1)>"\ndate: 2024-05-08\n---\n\n'
        "# Cooking\n\nSoup again, and bread.\n",
    )
    write(archive, "notes.md", "---\ntitle: Undated\n---\n\n# Walking\n\nA long walk.\n")
    return archive


def run(archive: Path, out: Path) -> Path:
    return build_report(archive, out=out, model="none")


@pytest.fixture(scope="session")
def sample_report(tmp_path_factory) -> Path:
    return run(SAMPLE, tmp_path_factory.mktemp("sample-report"))


@pytest.fixture(scope="session")
def ignoreme_report(tmp_path_factory) -> Path:
    return run(need(IGNOREME), tmp_path_factory.mktemp("ignoreme-report"))


@pytest.fixture(scope="session")
def awkward_report(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("awkward")
    return run(write_awkward_archive(root), root / "report")


def check_report(index: Path) -> None:
    """Every notebook ran without an error or a warning, and has its page and figures."""
    folder = index.parent
    text = index.read_text(encoding="utf-8")
    for path in NOTEBOOKS:
        executed = nbformat.read(folder / path.name, as_version=4)
        outputs = [output for cell in code_cells(executed) for output in cell.outputs]
        assert [o for o in outputs if o.output_type == "error"] == []
        stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
        assert stderr == [], f"{path.name} wrote to stderr: {stderr}"
        page = folder / f"{path.stem}.html"
        html = page.read_text(encoding="utf-8")
        assert f'href="{page.name}"' in text
        assert "<svg" in html and "Traceback" not in html
        figures = sorted((folder / "figures" / path.stem).glob("*.png"))
        assert figures, f"{path.name} saved no figure"
        for figure in figures:
            assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            # Linked charts are inline SVG (their links work); the others an image.
            assert f'id="chart-{path.stem}-{figure.stem}"' in text
            if not figure.with_suffix(".svg").exists():
                assert f'src="figures/{path.stem}/{figure.name}"' in text
    check_readable(folder)


RAW_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
MISSING = re.compile(r"\bNaN\b|\bNaT\b|&lt;NA&gt;|<NA>|\bnan\b")


def check_readable(folder: Path) -> None:
    """No page shows a raw timestamp, NaN or <NA>; every table has a caption."""
    for page in [*folder.glob("*.html"), *folder.glob("*/*.html")]:
        html = page.read_text(encoding="utf-8")
        assert not RAW_TIMESTAMP.search(html), f"{page.name}: {RAW_TIMESTAMP.search(html)}"
        assert not MISSING.search(html), f"{page.name}: {MISSING.search(html)}"
        assert html.count("<table") == html.count("<caption>"), f"{page.name}: a table lacks one"


def check_findings_and_drill_down(index: Path, archive: Path, *, min_findings: int = 5) -> None:
    """At least five takeaways, each with its links; a page per topic holding >= 95% of the
    sections about it, by section_id; the topic charts' cells link to those pages."""
    from weeknotes_analysis import load_corpus
    from weeknotes_analysis.analysis import item_totals, tagged_sections

    folder = index.parent
    text = index.read_text(encoding="utf-8")
    findings = re.search(r'<section id="findings">(.*?)</section>', text, re.DOTALL)
    assert findings is not None
    items = re.findall(r"<li>(.*?)</li>", findings.group(1), re.DOTALL)
    assert len(items) >= min_findings
    assert all(re.search(r"\d", item) and 'href="' in item for item in items)
    assert sum('href="topics/' in item for item in items) >= 3
    corpus = load_corpus(archive, out=folder / "tables", model="none")
    pairs = tagged_sections(corpus, "topic")
    for topic in item_totals(corpus, "topic").index:
        page = (folder / "topics" / f"{topic}.html").read_text(encoding="utf-8")
        expected = set(pairs.loc[pairs["item"] == topic, "section_id"])
        listed = {s for s in expected if f"<code>{html_escape(s)}</code>" in page}
        assert len(listed) >= 0.95 * len(expected), topic
    heatmap = (folder / "figures" / "02-topics-across-weeks" / "topic-heatmap.svg").read_text()
    links = set(re.findall(r'<a xlink:href="(topics/[^"#]+\.html)#([^"]+)"', heatmap))
    assert links, "the heatmap's cells link nowhere"
    for target, anchor in links:
        page = (folder / target).read_text(encoding="utf-8")
        assert f'id="{anchor}"' in page, f"{target}#{anchor} lands nowhere"


def html_escape(text: str) -> str:
    import html

    return html.escape(text)


@pytest.mark.slow
def test_every_notebook_runs_on_the_sample(sample_report):
    check_report(sample_report)
    check_findings_and_drill_down(sample_report, SAMPLE)
    text = sample_report.read_text(encoding="utf-8")
    assert "26 posts, 2023-09-04 to 2024-04-04" in text
    assert (sample_report.parent / "tables" / "topics.parquet").exists()


@pytest.mark.slow
@pytest.mark.corpora
def test_every_notebook_runs_on_the_ignoreme_archive(ignoreme_report):
    check_report(ignoreme_report)
    check_findings_and_drill_down(ignoreme_report, IGNOREME)
    text = ignoreme_report.read_text(encoding="utf-8")
    assert "82 posts" in text
    # The 2020-2021 gap is named, and the charts mark it rather than drawing zeros.
    assert "the longest gap runs 22 months, 2020-03 to 2021-12" in text
    assert "grey: no posts" in text


@pytest.mark.slow
def test_every_notebook_runs_on_an_awkward_archive_and_nothing_it_holds_is_markup(awkward_report):
    check_report(awkward_report)
    folder = awkward_report.parent
    index = awkward_report.read_text(encoding="utf-8")
    assert "1 undated" in index and "2024-05-06 to 2024-05-08" in index
    assert "&lt;b&gt;archive&lt;/b&gt;" in index and "<b>archive" not in index
    for page in [awkward_report, *folder.glob("*.html")]:
        html = page.read_text(encoding="utf-8")
        assert "<script>alert" not in html and "<img src=x" not in html
    overview = (folder / "01-overview.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert" in overview
    topics = (folder / "02-topics-across-weeks.html").read_text(encoding="utf-8")
    assert "No topic in any period." in topics
    assert "none</p>" in topics  # an empty table says so


def test_make_install_sets_up_nbstripout_and_the_notebooks_pass_through_it_unchanged():
    assert "*.ipynb filter=nbstripout" in (REPO / ".gitattributes").read_text()
    assert "nbstripout --install" in (REPO / "Makefile").read_text()
    nbstripout = pytest.importorskip("nbstripout")
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        stripped = nbstripout.strip_output(
            nbformat.read(path, as_version=4), keep_output=False, keep_count=False, keep_id=False
        )
        assert stripped == notebook, f"{path.name}: run nbstripout on it before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebooks_use_no_deprecated_name(path):
    import weeknotes_analysis as wa

    notebook = nbformat.read(path, as_version=4)
    used = {
        name
        for cell in code_cells(notebook)
        for name in re.findall(r"\bwa\.([A-Za-z_]+)", cell.source)
    }
    assert used <= set(dir(wa)), f"{path.name}: {sorted(used - set(dir(wa)))} are deprecated"
