"""Run the notebooks headless against an archive (papermill) and render them as an HTML report.

The notebooks ship inside the package (``weeknotes_analysis/notebooks``), so the report runs
from any folder after a plain ``pip install``. The index opens with takeaways computed from
the data (:mod:`weeknotes_analysis.takeaways`); each topic has a page of the sections about it
(:mod:`weeknotes_analysis.pages`) that the charts' cells link to.

The helpers the notebooks share (setup, saving a figure) are in
:mod:`weeknotes_analysis.notebook`.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import string
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from .analysis import Freq, PeriodLike, Role, between, item_totals
from .build import build_corpus
from .corpus import Corpus
from .notebook import (  # noqa: F401  (copy_notebooks, locate...: importable from here too)
    NOTEBOOKS,
    copy_notebooks,
    corpus_taxonomy,
    default_freq,
    locate,
    notebook_paths,
    open_archive,
    save_figure,
)
from .pages import page_path, write_item_pages
from .settings import load_settings
from .takeaways import Finding, findings
from .topics import Taxonomy, load_taxonomy

KERNEL = "python3"
INDEX_TEMPLATE = "report-index.html"
# Where a chart's cell links, relative to the report folder (and so to every page in it).
TOPIC_PAGES = "topics/{topic}.html#{period}"
_SVG_METADATA = re.compile(r"<metadata>.*?</metadata>", re.DOTALL)
# The kernel's own log (e.g. ipykernel's note that local TCP is unencrypted) is not the report's
# business; errors in cells still reach the report through papermill.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


class ReportError(RuntimeError):
    """A notebook failed while the report ran; the message names the notebook and the cell."""


@dataclass(frozen=True)
class Page:
    """One rendered notebook: its source, title, executed copy, HTML page and figures."""

    notebook: Path
    title: str
    executed: Path
    html: Path
    figures: tuple[Path, ...]
    seconds: float = 0.0


def notebook_title(notebook: Any, fallback: str) -> str:
    """The first Markdown heading of a notebook, without its ``#``."""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return fallback


def run_notebook(
    notebook: Path, executed: Path, parameters: Mapping[str, Any], *, cwd: Path
) -> Any:
    """Execute ``notebook`` with papermill into ``executed``; the parameters it does not declare
    are left out. Raises :class:`ReportError` naming the notebook and cell that failed."""
    import nbformat
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel

    declared = papermill.inspect_notebook(str(notebook))
    given = {name: value for name, value in parameters.items() if name in declared}
    try:
        papermill.execute_notebook(
            str(notebook),
            str(executed),
            parameters=given,
            kernel_name=KERNEL,
            cwd=str(cwd),
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            extra_arguments=KERNEL_ARGUMENTS,
        )
    except papermill.PapermillExecutionError as error:
        raise ReportError(_describe_failure(notebook, error, executed)) from None
    except NoSuchKernel:
        raise ReportError(
            f"{notebook}: no Jupyter kernel named {KERNEL!r}; install ipykernel into the "
            "environment that runs the report (pip install ipykernel)"
        ) from None
    except (RuntimeError, TimeoutError) as error:
        raise ReportError(f"{notebook}: the kernel stopped: {error}") from error
    result = nbformat.read(executed, as_version=4)
    for number, cell in enumerate(result.cells, start=1):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                raise ReportError(
                    f"{notebook}: cell {number} failed: {output.get('ename')}: "
                    f"{output.get('evalue')} (see {executed})"
                )
    return result


def _describe_failure(notebook: Path, error: Any, executed: Path) -> str:
    import nbformat

    source = nbformat.read(notebook, as_version=4)
    failed = str(error.source or "")
    number = next(
        (index for index, cell in enumerate(source.cells, start=1) if cell.source == failed),
        None,
    )
    where = f"cell {number}" if number else f"cell {error.cell_index} of the executed copy"
    first_line = next((line for line in failed.splitlines() if line.strip()), "")
    return (
        f"{notebook}: {where} failed: {error.ename}: {error.evalue}\n"
        f"    {first_line}\n"
        f"the executed notebook, with the traceback, is {executed}"
    )


def render_html(notebook: Any, target: Path, *, title: str) -> Path:
    """Write ``notebook`` as a standalone HTML page (figures embedded, code cells hidden)."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    body, _ = exporter.from_notebook_node(
        _svg_inline(notebook), resources={"metadata": {"name": title}}
    )
    target.write_text(body, encoding="utf-8")
    return target


def build_report(
    path: str | os.PathLike[str],
    *,
    out: str | os.PathLike[str],
    model: str = "auto",
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    gazetteer: str | os.PathLike[str] | None = None,
    mapping: str | os.PathLike[str] | None = None,
    gold: str | os.PathLike[str] | None = None,
    jobs: int | None = None,
    notebooks: str | os.PathLike[str] | None = None,
    progress: bool = False,
    phrases: str = "rules",
    config: str | os.PathLike[str] | None = None,
    freq: str | None = None,
    role: Role = "about",
    min_sections: int = 10,
    on_build: Callable[[Corpus], None] | None = None,
) -> Path:
    """Build the tables of ``path``, run every notebook against it and write the HTML report.

    ``out`` receives ``tables/`` (the build and its cache), ``<notebook>.ipynb`` (executed),
    ``<notebook>.html``, ``figures/<notebook>/*.png`` (and ``*.svg`` for the charts whose
    cells link), ``topics/<topic>.html`` (every section about each topic, newest first),
    ``entities/`` and ``sites/`` pages for the items the takeaways name, and ``index.html``,
    whose path is returned. A failing cell raises :class:`ReportError` naming the notebook
    and the cell.

    Args:
        path: the archive folder.
        out: the report folder (created).
        model: spaCy model for entities, as in :func:`load_corpus` (``none``: rules only).
        start, end: keep the posts from ``start`` to ``end`` (days, both included).
        taxonomy, gazetteer: your own YAML files instead of the bundled ones.
        mapping: the author's keyword -> topics YAML for the evaluation (default: bundled).
        gold: a file of hand-labelled sections the evaluation also scores the tags against.
        jobs: worker processes for the build.
        notebooks: the folder of notebooks to run (default: those in the package).
        progress: print a line per notebook.
        phrases: how the build finds key phrases (``rules``, ``parser``, ``off``).
        config: a settings file instead of the archive's ``weeknotes.toml``.
        freq: the period of the charts (default: the settings', else from the dates).
        role: which topic rows count: ``about`` (default), ``mention`` or None (both).
        min_sections: shares from fewer sections than this are hatched.
        on_build: called with the corpus once the tables are built (the CLI prints what the
            build did).
    """
    archive = Path(path).resolve()
    if not archive.is_dir():
        raise FileNotFoundError(f"{path}: no such archive folder")
    folder = Path(out).resolve()
    paths = notebook_paths(notebooks)
    folder.mkdir(parents=True, exist_ok=True)
    config_file = _absolute(config)
    # What every notebook is given (those it does not declare are left out); the build
    # uses the same files and options, so the notebooks read the tables it wrote.
    parameters: dict[str, Any] = {
        "archive": str(archive),
        "start": _text(start),
        "end": _text(end),
        "tables_dir": str(folder / "tables"),
        "model": model,
        "phrases": phrases,
        "config": config_file,
        "role": role,
        "min_sections": min_sections,
        "topic_pages": TOPIC_PAGES,
        "taxonomy": _absolute(taxonomy) or load_settings(archive, config=config_file).taxonomy,
        "gazetteer": _absolute(gazetteer),
        "mapping": _absolute(mapping),
        "gold": _absolute(gold),
    }
    corpus = _build_tables(parameters, jobs=jobs, progress=progress)
    if on_build is not None:
        on_build(corpus)
    corpus = between(corpus, start, end)
    parameters["freq"] = default_freq(corpus, freq)
    pages = [run_page(notebook, folder, parameters, progress=progress) for notebook in paths]
    return write_report_pages(pages, corpus, folder, parameters)


def _build_tables(parameters: Mapping[str, Any], *, jobs: int | None, progress: bool) -> Corpus:
    """The report's build, into its ``tables`` folder, with the notebooks' options."""
    return build_corpus(
        parameters["archive"],
        out=parameters["tables_dir"],
        model=parameters["model"],
        taxonomy=parameters["taxonomy"],
        gazetteer=parameters["gazetteer"],
        jobs=jobs,
        progress=progress,
        phrases=parameters["phrases"],
        config=parameters["config"],
    )


def _absolute(path: str | os.PathLike[str] | None) -> str | None:
    return str(Path(path).resolve()) if path else None


def run_page(
    notebook: Path, folder: Path, parameters: Mapping[str, Any], *, progress: bool = False
) -> Page:
    """Run one notebook of the report (its figures into ``figures/<notebook>/``, the stale
    ones removed first) and render its HTML page."""
    began = time.perf_counter()
    figures = folder / "figures" / notebook.stem
    for stale in [*figures.glob("*.png"), *figures.glob("*.svg")]:
        stale.unlink()
    if progress:
        print(f"running {notebook.name}", flush=True)
    given = {**parameters, "figures_dir": str(figures)}
    with _headless():
        executed = run_notebook(notebook, folder / notebook.name, given, cwd=folder)
    title = notebook_title(executed, notebook.stem)
    page = render_html(executed, folder / f"{notebook.stem}.html", title=title)
    pngs = tuple(sorted(figures.glob("*.png"), key=lambda png: png.stat().st_mtime_ns))
    seconds = time.perf_counter() - began
    if progress:
        print(f"ran {notebook.name} in {seconds:.1f} s", flush=True)
    return Page(notebook, title, folder / notebook.name, page, pngs, seconds)


def write_report_pages(
    pages: Sequence[Page], corpus: Corpus, folder: Path, parameters: Mapping[str, Any]
) -> Path:
    """The takeaways, the drill-down pages and the index of a report whose notebooks ran
    with ``parameters`` (archive, model, start, end, freq, role, taxonomy)."""
    freq, role = parameters["freq"], parameters["role"]
    taxonomy = load_taxonomy(parameters["taxonomy"])
    takeaways = findings(corpus, freq=freq, taxonomy=taxonomy, role=role)
    write_drill_pages(corpus, folder, takeaways, freq=freq, taxonomy=taxonomy, role=role)
    labels = topic_labels_of(taxonomy)
    totals = item_totals(corpus, "topic", role=role)
    topic_list = [(str(t), labels.get(str(t), str(t)), int(n)) for t, n in totals.items()]
    return write_index(
        pages,
        corpus,
        folder / "index.html",
        archive=Path(parameters["archive"]),
        model=parameters["model"],
        start=parameters["start"],
        end=parameters["end"],
        findings=takeaways,
        topics=topic_list,
        role=role,
    )


def write_drill_pages(
    corpus: Corpus,
    folder: Path,
    takeaways: Sequence[Finding],
    *,
    freq: Freq,
    taxonomy: Taxonomy,
    role: Role = "about",
) -> list[Path]:
    """A page per topic with sections about it, and per entity or site a takeaway names."""
    labels = topic_labels_of(taxonomy)
    topics = [str(topic) for topic in item_totals(corpus, "topic", role=role).index]
    for stale in (folder / "topics").glob("*.html"):
        stale.unlink()
    written = write_item_pages(corpus, folder, "topic", topics, labels=labels, freq=freq, role=role)
    for by in ("entity", "domain"):
        named = sorted({item for f in takeaways if f.by == by for item in f.items})
        written += write_item_pages(corpus, folder, by, named, freq=freq)
    return written


def _svg_inline(notebook: Any) -> Any:
    """A copy of ``notebook`` whose SVG figures are HTML outputs, so the page holds them as
    markup (nbconvert would embed them as images, whose links cannot be clicked). The SVG is
    matplotlib's, drawn by the package's own cells; text from the archive in it is escaped."""
    import copy

    inlined = copy.deepcopy(notebook)
    for cell in inlined.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            svg = data.get("image/svg+xml")
            if svg and "<svg" in svg:
                output["data"] = {"text/html": _svg_markup(svg)}
    return inlined


def topic_labels_of(taxonomy: Taxonomy) -> dict[str, str]:
    """Topic id -> label (``google-cloud`` -> ``Google Cloud``)."""
    return {topic.id: topic.label for topic in taxonomy.topics.values()}


@contextmanager
def _headless() -> Iterator[None]:
    """Kernels start with matplotlib's Agg backend (no window); the notebooks switch to inline."""
    before = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        yield
    finally:
        if before is None:
            del os.environ["MPLBACKEND"]
        else:
            os.environ["MPLBACKEND"] = before


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def _text(value: PeriodLike | None) -> str | None:
    return None if value is None else str(value)


def _day(value: Any) -> str:
    return (
        "unknown" if value is None or pd.isna(value) else pd.Timestamp(value).strftime("%Y-%m-%d")
    )


def _figure_id(page: Page, name: str) -> str:
    return f"chart-{page.notebook.stem}-{name}"


def _inline_svg(path: Path) -> str:
    """An SVG file's markup for inlining in a page (its links then resolve from the page)."""
    return _svg_markup(path.read_text(encoding="utf-8"))


def _svg_markup(text: str) -> str:
    """An SVG document as markup to put in a page: no XML prolog, no metadata (its creation
    time is not the report's business)."""
    return _SVG_METADATA.sub("", text[text.index("<svg") :])


def _figures_html(page: Page, base: Path) -> str:
    escape = html.escape
    parts = []
    for png in page.figures:
        svg = png.with_suffix(".svg")
        caption = escape(png.stem.replace("-", " ").capitalize())
        href = escape(png.relative_to(base).as_posix())
        if svg.exists():
            body = _inline_svg(svg)
            note = " (click a cell, bar or point for its sections)"
        else:
            body = f'<a href="{href}"><img src="{href}" alt="{caption}" loading="lazy"></a>'
            note = ""
        parts.append(
            f'<figure id="{escape(_figure_id(page, png.stem))}">{body}'
            f'<figcaption>{caption}{note} · <a href="{href}">PNG</a></figcaption></figure>'
        )
    return "".join(parts)


# How the index says which topic rows its counts are of (the report's ``role``): sections
# about a topic, that only name it, or either.
_COUNTED = {"about": "about a topic", "mention": "that only name a topic"}
_LISTED = {"about": "about each topic", "mention": "that only names each topic"}


def _counted(words: Mapping[str, str], role: Role) -> str:
    return words.get(str(role), words["about"].replace("about", "about or naming"))


def _findings_html(
    takeaways: Sequence[Finding], pages: Sequence[Page], role: Role = "about"
) -> str:
    escape = html.escape
    where = {}
    for page in reversed(pages):  # the first page drawing a chart wins
        for png in page.figures:
            where[png.stem] = _figure_id(page, png.stem)
    items = []
    for finding in takeaways:
        links = []
        if finding.chart in where:
            links.append(f'<a href="#{escape(where[finding.chart])}">chart</a>')
        for position, item in enumerate(finding.items):
            target = page_path(finding.by, item)
            if position == 0 and finding.period:
                target += f"#{finding.period}"
            name = finding.labels[position] if position < len(finding.labels) else item
            label = "sections" if len(finding.items) == 1 else f"sections: {name}"
            links.append(f'<a href="{escape(target)}">{escape(label)}</a>')
        more = f' <span class="links">({" · ".join(links)})</span>' if links else ""
        items.append(f"<li>{escape(finding.text)}{more}</li>")
    if not items:
        return '<section id="findings"><h2>Findings</h2><p>none: no dated posts</p></section>'
    return (
        '<section id="findings"><h2>Findings</h2><ol>' + "".join(items) + "</ol>"
        f'<p class="meta">Computed from the tables; counts are of sections '
        f"{_counted(_COUNTED, role)}, leaving out the headings the archive's settings "
        "exclude.</p></section>"
    )


def _topics_html(topics: Sequence[tuple[str, str, int]], role: Role = "about") -> str:
    """Links to the topic pages: label and sections, most sections first."""
    escape = html.escape
    if not topics:
        return ""
    links = " · ".join(
        f'<a href="{escape(page_path("topic", topic))}">{escape(label)}</a> ({count:,})'
        for topic, label, count in topics
    )
    return (
        '<section id="topics"><h2>Sections by topic</h2><p class="meta">Every section '
        f"{_counted(_LISTED, role)}, newest first (sections in brackets).</p><p>{links}</p>"
        "</section>"
    )


def write_index(
    pages: Sequence[Page],
    corpus: Corpus,
    target: Path,
    *,
    archive: Path,
    model: str,
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
    findings: Sequence[Finding] = (),
    topics: Sequence[tuple[str, str, int]] = (),
    role: Role = "about",
) -> Path:
    """Write ``index.html``: which archive and dates the report covers, the takeaways, and
    each page with its figures (the SVG ones inline, so their cells link to the topic pages).
    ``topics`` lists the topic pages (id, label, sections); ``role`` says which topic rows
    the counts are of. Everything taken from the archive is HTML-escaped."""
    escape = html.escape
    posts = corpus.posts.sort_values("date", na_position="first", kind="stable")
    dated = posts[posts["date"].notna()]
    if dated.empty:
        covers = "no dated posts"
    else:
        first, last = dated.iloc[0], dated.iloc[-1]
        covers = (
            f"{_day(first['date'])} to {_day(last['date'])}; latest post: "
            f"<q>{escape(str(last['title']) if pd.notna(last['title']) else last['post_id'])}</q>"
        )
    undated = int(corpus.posts["date"].isna().sum())
    window = ""
    if start is not None or end is not None:
        window = (
            f" (cut to {escape(_text(start) or 'the start')} to {escape(_text(end) or 'the end')})"
        )
    base = target.parent
    items = []
    for page in pages:
        items.append(
            f'<section><h2><a href="{escape(page.html.name)}">{escape(page.title)}</a></h2>'
            f'<p class="meta">{_count(len(page.figures), "figure")} · executed notebook: '
            f'<a href="{escape(page.executed.name)}">{escape(page.executed.name)}</a></p>'
            f'<div class="figures">{_figures_html(page, base)}</div></section>'
        )
    template = string.Template(
        (resources.files("weeknotes_analysis") / "resources" / INDEX_TEMPLATE).read_text("utf-8")
    )
    text = template.substitute(
        archive=escape(str(archive)),
        posts=_count(len(corpus.posts), "post"),
        undated=f", {undated} undated" if undated else "",
        covers=covers,
        window=window,
        model=escape(model),
        generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        findings=_findings_html(findings, pages, role),
        topics=_topics_html(topics, role),
        pages="\n".join(items),
    )
    target.write_text(text, encoding="utf-8")
    return target
