"""What the notebooks share: one ``setup`` call after the parameters cell, finding the
archive from wherever the kernel started, saving a figure, copying the notebooks for JupyterLab.

The notebooks ship inside the package (``weeknotes_analysis/notebooks``); the report runs them
(:mod:`weeknotes_analysis.report`).
"""

from __future__ import annotations

import os
import re
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .analysis import Freq, PeriodLike, Role, between, suggest_freq
from .build import build_corpus
from .corpus import Corpus
from .topics import Taxonomy, load_taxonomy

NOTEBOOKS = Path(str(resources.files("weeknotes_analysis") / "notebooks"))
FREQS = ("week", "month", "quarter", "year")


class Setup(NamedTuple):
    """What a notebook works on: the corpus, its taxonomy, the period and a coarser one (for
    charts that need fewer periods: at most 30)."""

    corpus: Corpus
    taxonomy: Taxonomy
    freq: Freq
    coarse_freq: Freq


def setup(
    archive: str | os.PathLike[str],
    *,
    start: PeriodLike | None = None,
    end: PeriodLike | None = None,
    model: str = "auto",
    phrases: str = "rules",
    freq: str | None = None,
    role: Role = "about",
    config: str | os.PathLike[str] | None = None,
    tables: str | os.PathLike[str] | None = None,
    taxonomy: str | os.PathLike[str] | None = None,
    gazetteer: str | os.PathLike[str] | None = None,
    svg: bool = False,
    quiet: bool = False,
) -> Setup:
    """The cell after every notebook's parameters: the house style, the corpus
    (:func:`open_archive`), its taxonomy and periods; prints the corpus's summary unless
    ``quiet``. ``svg``: the charts will be saved as SVG with links (the report)."""
    from .plots import use_style

    use_style(svg=svg)
    corpus = open_archive(
        archive,
        model=model,
        tables=tables,
        start=start,
        end=end,
        taxonomy=taxonomy,
        gazetteer=gazetteer,
        phrases=phrases,
        config=config,
    )
    chosen = default_freq(corpus, freq)
    coarse = suggest_freq(corpus, max_periods=30, at_least=chosen)
    if not quiet:
        print(corpus.summary())
        print(f"periods: {chosen} (coarse: {coarse}); topics counted: {role or 'any'} role")
    return Setup(corpus, corpus_taxonomy(corpus, taxonomy), chosen, coarse)


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
    phrases: str = "rules",
    config: str | os.PathLike[str] | None = None,
) -> Corpus:
    """The corpus a notebook works on: :func:`load_corpus` (cached in ``tables`` when given,
    with the same ``phrases`` and settings as the build that wrote them), cut to the posts
    from ``start`` to ``end`` (days, both included)."""
    corpus = build_corpus(
        locate(archive),
        model=model,
        out=tables,
        taxonomy=locate(taxonomy) if taxonomy else None,
        gazetteer=locate(gazetteer) if gazetteer else None,
        phrases=phrases,
        config=locate(config) if config else None,
    )
    return between(corpus, start, end)


def corpus_taxonomy(corpus: Corpus, taxonomy: str | os.PathLike[str] | None = None) -> Taxonomy:
    """The taxonomy the corpus was tagged with: ``taxonomy`` when given, else the archive
    settings' one, else the bundled one."""
    if taxonomy:
        return load_taxonomy(locate(taxonomy))
    # The corpus carries its build's taxonomy (read once).
    return corpus.taxonomy


def default_freq(corpus: Corpus, freq: str | None = None) -> Freq:
    """``freq`` when given, else the archive settings' ``freq``, else :func:`suggest_freq`."""
    chosen = freq or (corpus.settings.freq if corpus.settings else None)
    if chosen is None:
        return suggest_freq(corpus)
    if chosen not in FREQS:
        raise ValueError(f"freq must be week, month, quarter or year, not {chosen!r}")
    return chosen  # type: ignore[return-value]


def copy_notebooks(
    target: str | os.PathLike[str],
    *,
    archive: str | os.PathLike[str] | None = None,
    model: str | None = None,
) -> list[Path]:
    """Copy the report's notebooks into ``target`` for JupyterLab, their ``archive`` (and
    ``model``) parameter set to the values given; existing files are not overwritten."""
    import nbformat

    folder = Path(target)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for source in notebook_paths():
        destination = folder / source.name
        if destination.exists():
            raise FileExistsError(f"{destination}: already there; remove it or pick another folder")
        notebook = nbformat.read(source, as_version=4)
        for cell in notebook.cells:
            if "parameters" in cell.metadata.get("tags", []):
                cell.source = _set_parameter(cell.source, "archive", archive)
                cell.source = _set_parameter(cell.source, "model", model)
        nbformat.write(notebook, destination)
        written.append(destination)
    return written


def _set_parameter(source: str, name: str, value: str | os.PathLike[str] | None) -> str:
    if value is None:
        return source
    text = str(Path(value).resolve()) if name == "archive" else str(value)
    pattern = re.compile(rf"^{name} = [^#\n]*?(\s*#.*)?$", re.MULTILINE)
    return pattern.sub(lambda match: f"{name} = {text!r}{match.group(1) or ''}", source, count=1)


def save_figure(figure: Figure | Axes, name: str, folder: str | os.PathLike[str] | None) -> None:
    """Write ``figure`` (or the figure of an Axes) as ``folder/<name>.png``, and as
    ``<name>.svg`` too when any of its artists links somewhere; no folder, no file."""
    if folder is None:
        return
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    owner = figure.get_figure(root=True) if isinstance(figure, Axes) else figure
    if owner is None:
        raise ValueError(f"{name}: the Axes belongs to no figure")
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-.") or "figure"
    owner.savefig(target / f"{slug}.png", dpi=150, bbox_inches="tight", facecolor="white")
    if _links(owner):
        import matplotlib

        with matplotlib.rc_context({"svg.fonttype": "none"}):
            owner.savefig(
                target / f"{slug}.svg",
                bbox_inches="tight",
                facecolor="white",
                metadata={"Date": None},
            )


def _links(figure: Figure) -> bool:
    """True when an artist of ``figure`` carries a URL (a link in SVG output)."""

    def linked(artist: Any) -> bool:
        urls = getattr(artist, "get_urls", None)
        if urls is not None and any(urls()):
            return True
        return bool(getattr(artist, "get_url", lambda: None)())

    return bool(figure.findobj(linked))


def notebook_paths(folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """The report's notebooks (``*.ipynb`` in ``folder``, default those in the package)."""
    source = Path(folder) if folder is not None else NOTEBOOKS
    paths = sorted(p for p in source.glob("*.ipynb") if not p.name.startswith("."))
    if not paths:
        raise FileNotFoundError(f"{source}: no notebooks (*.ipynb) to run")
    return paths
