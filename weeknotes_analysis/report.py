"""Run the notebooks headless against an archive (papermill) and render them as an HTML report.

Also the few helpers the notebooks share: find the archive from wherever the kernel started,
load it, and save a figure when the report asks for PNGs.
"""

from __future__ import annotations

import datetime as dt
import html
import os
import re
import string
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .analysis import PeriodLike, between
from .build import build_corpus
from .corpus import Corpus

KERNEL = "python3"
NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
INDEX_TEMPLATE = "report-index.html"
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


def locate(path: str | os.PathLike[str]) -> Path:
    """``path`` as given when it exists, else found relative to a parent of the current folder.

    A notebook's kernel starts in the notebook's folder under JupyterLab and nbconvert but in
    the caller's folder under papermill, so ``data/sample`` must work from both.
    """
    given = Path(path).expanduser()
    if given.is_absolute() or given.exists():
        return given
    for parent in Path.cwd().resolve().parents:
        if (parent / given).exists():
            return parent / given
    raise FileNotFoundError(
        f"{given}: not found in {Path.cwd()} or any folder above it; pass an absolute path"
    )


def open_archive(
    archive: str | os.PathLike[str],
    *,
    model: str = "auto",
    tables: str | os.PathLike[str] | None = None,
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    gazetteer: str | os.PathLike[str] | None = None,
) -> Corpus:
    """The corpus a notebook works on: :func:`load_corpus` (cached in ``tables`` when given),
    cut to the posts from ``start`` to ``end`` (days, both included)."""
    corpus = build_corpus(
        locate(archive),
        model=model,
        out=tables,
        taxonomy=locate(taxonomy) if taxonomy else None,
        gazetteer=locate(gazetteer) if gazetteer else None,
    )
    return between(corpus, start, end)


def save_figure(figure: Figure | Axes, name: str, folder: str | os.PathLike[str] | None) -> None:
    """Write ``figure`` (or the figure of an Axes) as ``folder/<name>.png``; no folder, no file."""
    if folder is None:
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    owner = figure.get_figure(root=True) if isinstance(figure, Axes) else figure
    if owner is None:
        raise ValueError(f"{name}: the Axes belongs to no figure")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "figure"
    owner.savefig(target / f"{slug}.png", dpi=150, bbox_inches="tight", facecolor="white")


def notebook_paths(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """The report's notebooks (``*.ipynb`` in ``folder``, default the project's ``notebooks``)."""
    source = Path(folder) if folder is not None else NOTEBOOKS
    paths = sorted(p for p in source.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise FileNotFoundError(f"{source}: no notebooks (*.ipynb) to run")
    return paths


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
    body, _ = exporter.from_notebook_node(notebook, resources={"metadata": {"name": title}})
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
    jobs: int | None = None,
    notebooks: str | os.PathLike[str] | None = None,
    progress: bool = False,
) -> Path:
    """Build the tables of ``path``, run every notebook against it and write the HTML report.

    ``out`` receives ``tables/`` (the build and its cache), ``<notebook>.ipynb`` (executed),
    ``<notebook>.html``, ``figures/<notebook>/*.png`` and ``index.html``, whose path is
    returned. A failing cell raises :class:`ReportError` naming the notebook and the cell.

    Args:
        path: the archive folder.
        out: the report folder (created).
        model: spaCy model for entities, as in :func:`load_corpus` (``none``: rules only).
        start, end: keep the posts from ``start`` to ``end`` (days, both included).
        taxonomy, gazetteer: your own YAML files instead of the bundled ones.
        mapping: the author's keyword -> topics YAML for the evaluation (default: bundled).
        jobs: worker processes for the build.
        notebooks: the folder of notebooks to run (default: the project's ``notebooks``).
        progress: print a line per notebook.
    """
    archive = Path(path).resolve()
    if not archive.is_dir():
        raise FileNotFoundError(f"{path}: no such archive folder")
    folder = Path(out).resolve()
    tables = folder / "tables"
    paths = notebook_paths(notebooks)
    folder.mkdir(parents=True, exist_ok=True)
    taxonomy_file = str(Path(taxonomy).resolve()) if taxonomy else None
    gazetteer_file = str(Path(gazetteer).resolve()) if gazetteer else None
    corpus = build_corpus(
        archive,
        out=tables,
        model=model,
        taxonomy=taxonomy_file,
        gazetteer=gazetteer_file,
        jobs=jobs,
        progress=progress,
    )
    corpus = between(corpus, start, end)
    pages = []
    for notebook in paths:
        figures = folder / "figures" / notebook.stem
        for stale in figures.glob("*.png"):
            stale.unlink()
        if progress:
            print(f"running {notebook.name}", flush=True)
        parameters = {
            "archive": str(archive),
            "start": _text(start),
            "end": _text(end),
            "tables_dir": str(tables),
            "figures_dir": str(figures),
            "model": model,
            "taxonomy": taxonomy_file,
            "gazetteer": gazetteer_file,
            "mapping": str(Path(mapping).resolve()) if mapping else None,
        }
        with _headless():
            executed = run_notebook(notebook, folder / notebook.name, parameters, cwd=folder)
        title = notebook_title(executed, notebook.stem)
        page = render_html(executed, folder / f"{notebook.stem}.html", title=title)
        pngs = tuple(sorted(figures.glob("*.png"), key=lambda png: png.stat().st_mtime_ns))
        pages.append(Page(notebook, title, folder / notebook.name, page, pngs))
    return write_index(
        pages, corpus, folder / "index.html", archive=archive, model=model, start=start, end=end
    )


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


def write_index(
    pages: Sequence[Page],
    corpus: Corpus,
    target: Path,
    *,
    archive: Path,
    model: str,
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
) -> Path:
    """Write ``index.html``: which archive and dates the report covers, and a link and the
    figures of every page. Everything taken from the archive is HTML-escaped."""
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
    items = []
    for page in pages:
        base = target.parent
        links = [
            (escape(png.relative_to(base).as_posix()), escape(png.stem)) for png in page.figures
        ]
        figures = "".join(
            f'<a href="{href}"><img src="{href}" alt="{name}" loading="lazy"></a>'
            for href, name in links
        )
        items.append(
            f'<section><h2><a href="{escape(page.html.name)}">{escape(page.title)}</a></h2>'
            f'<p class="meta">{_count(len(page.figures), "figure")} · executed notebook: '
            f'<a href="{escape(page.executed.name)}">{escape(page.executed.name)}</a></p>'
            f'<div class="figures">{figures}</div></section>'
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
        pages="\n".join(items),
    )
    target.write_text(text, encoding="utf-8")
    return target
