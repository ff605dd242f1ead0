"""Charts of topics, entities, links and activity: DataFrames in, matplotlib Axes or Figure out.

Nothing here reads the archive or shows a window: each function draws on ``ax`` (a new figure
when none is given) and returns it. A topic keeps its colour in every chart: colours follow the
taxonomy's order (:func:`topic_colors`). Empty data draws a "no data" note instead of failing.

Honest by default: a period without sections is a gap (blank, and shaded "no posts" where it
lasts), never a zero; a share from fewer than ``min_sections`` sections is hatched; every share
says what it is a share of. Charts of topics across periods take ``link``, a URL pattern with
``{topic}`` (or ``{item}``) and ``{period}`` (its label, ``2019-Q3``): every cell, bar or point
then links there in SVG output (``savefig(..., format="svg")``).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .analysis import FREQS, period_label, row_shares, subject_phrase
from .topics import Taxonomy, load_taxonomy

# A fixed qualitative palette, given out in taxonomy order: tab10 first (orange before blue, so
# the first topic of the bundled taxonomy, AWS, is orange and Azure blue), then strong colours
# chosen to differ from tab10's hues; none is too pale to read as a line on white.
PALETTE: tuple[str, ...] = (
    "#ff7f0e", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#000075", "#469990", "#f032e6", "#222222", "#7cb342", "#800000",
    "#4363d8", "#e6ab02", "#6a3d9a", "#f58231", "#0b6e4f", "#b15928", "#9a6324", "#42d4f4",
    "#a9a9a9", "#808000", "#ff6f91", "#1b9e77", "#5c4d7d", "#c51b7d",
    # Room for a taxonomy of 40 topics before a colour repeats.
    "#b8860b", "#556b2f", "#8b008b", "#cd5c5c", "#2f4f4f", "#9932cc", "#00a087", "#e41a1c",
    "#708090", "#ffb000",
)  # fmt: skip
BAR_COLOR = "#4c72b0"
HEATMAP_CMAP = "Blues"
WIDTH = 11.0
TITLE_SIZE = 13
NOTE_COLOR = "0.4"
ROLLING_WINDOW = {"week": 4, "month": 3, "quarter": 4, "year": 1}
# A share from fewer sections than this is hatched: one post's five sections can make 100%.
MIN_SECTIONS = 10
GAP_COLOR = "0.93"
THIN_HATCH = "////"

STYLE: dict[str, Any] = {
    "figure.dpi": 100,
    "savefig.dpi": 150,
    "font.size": 10,
    "axes.titlesize": TITLE_SIZE,
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
}


def use_style(*, svg: bool = False) -> None:
    """Make every later matplotlib figure look like these charts (fonts, spines, legends).

    With ``svg``, a notebook shows its figures as SVG (text kept as text), so the links of
    charts drawn with ``link=`` can be clicked in the page.
    """
    plt.style.use(STYLE)
    if svg:
        plt.rcParams["svg.fonttype"] = "none"
        try:
            from matplotlib_inline.backend_inline import set_matplotlib_formats
        except ImportError:  # not in a notebook: nothing to switch
            return
        set_matplotlib_formats("svg")


def topic_colors(taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Topic id -> colour, by the topic's place in the taxonomy (default: the bundled one)."""
    topics = (taxonomy or load_taxonomy()).topics
    return {topic: PALETTE[index % len(PALETTE)] for index, topic in enumerate(topics)}


def group_colors(taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Group -> colour: a group named like a topic (``containers``) takes that topic's colour,
    the others the first palette colours no group has taken yet, in taxonomy order."""
    taxonomy = taxonomy or load_taxonomy()
    topics = topic_colors(taxonomy)
    groups = list(taxonomy.groups())
    colors = {group: topics[group] for group in groups if group in topics}
    spare = (color for color in PALETTE if color not in colors.values())
    for group in groups:
        colors.setdefault(group, next(spare, PALETTE[0]))
    return {group: colors[group] for group in groups}


def topic_labels(taxonomy: Taxonomy | None = None) -> dict[str, str]:
    """Topic id -> display label (``google-cloud`` -> ``Google Cloud``), and group labels."""
    taxonomy = taxonomy or load_taxonomy()
    labels = {group: group.replace("-", " ").capitalize() for group in taxonomy.groups()}
    labels.update({topic.id: topic.label for topic in taxonomy.topics.values()})
    return labels


def _colors_for(items: Sequence[str], known: Mapping[str, str]) -> list[str]:
    """Known items keep their colour; others take unused palette colours, in order."""
    spare = iter([color for color in PALETTE if color not in {known.get(i) for i in items}])
    return [known.get(item) or next(spare, PALETTE[0]) for item in items]


def _new_axes(ax: Axes | None, height: float) -> Axes:
    if ax is not None:
        return ax
    _, created = plt.subplots(figsize=(WIDTH, height), layout="constrained")
    return created


def _tidy(ax: Axes, title: str, xlabel: str = "", ylabel: str = "") -> None:
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE, pad=10)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_axisbelow(True)


def _no_data(ax: Axes, title: str, message: str) -> Axes:
    _tidy(ax, title)
    ax.text(
        0.5,
        0.5,
        message,
        ha="center",
        va="center",
        transform=ax.transAxes,
        color=NOTE_COLOR,
        fontsize=11,
        wrap=True,
    )
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)
    for spine in ax.spines.values():
        spine.set_visible(False)
    return ax


def _is_empty(frame: pd.DataFrame | pd.Series) -> bool:
    return frame.size == 0 or not bool((frame.fillna(0) != 0).to_numpy().any())


def _freq(frame: pd.DataFrame | pd.Series) -> str:
    """The frequency of a counts table: from ``attrs``, else from the spacing of its index."""
    freq = frame.attrs.get("freq")
    if freq in FREQS:
        return str(freq)
    if len(frame.index) > 1:
        days = float(np.median(np.diff(frame.index.asi8))) / 86_400e9
        for name, longest in (("week", 8), ("month", 32), ("quarter", 93)):
            if days <= longest:
                return name
        return "year"
    return "week"


def _value_kind(frame: pd.DataFrame | pd.Series) -> str:
    kind = frame.attrs.get("value")
    if kind in ("count", "share", "mix"):
        return str(kind)
    values = frame.to_numpy(dtype=float)
    floats = all(pd.api.types.is_float_dtype(dtype) for dtype in np.atleast_1d(frame.dtypes))
    return "share" if floats and values.size and np.nanmax(values) <= 1 else "count"


def _naive(index: pd.Index) -> pd.DatetimeIndex:
    """Period starts as naive UTC datetimes, which matplotlib places without surprises."""
    stamps = pd.DatetimeIndex(index)
    return stamps.tz_convert("UTC").tz_localize(None) if stamps.tz is not None else stamps


def _period_ends(index: pd.Index, freq: str) -> pd.DatetimeIndex:
    """The first day of the period after each one (the right edge of its cell or bar)."""
    periods = _naive(index).to_period(FREQS[freq])
    return pd.DatetimeIndex((periods + 1).start_time)


def _date_axis(ax: Axes) -> None:
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, show_offset=False))


def _legend_outside(ax: Axes, handles: Sequence[Artist] | None = None) -> None:
    """The legend to the right of the plot, where it covers no data."""
    kwargs = {"handles": handles} if handles is not None else {}
    ax.legend(
        **kwargs, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, borderaxespad=0.0
    )


def _percent_label(value: float, _position: float | None = None) -> str:
    """0.25 -> 25%, 0.005 -> 0.5%: as many decimals as the value needs, at most two."""
    return f"{value * 100:.2f}".rstrip("0").rstrip(".") + "%"


def _percent(ax: Axes, axis: str = "y") -> None:
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(FuncFormatter(_percent_label))


def _share_words(frame: pd.DataFrame | pd.Series) -> str:
    freq = _freq(frame)
    kind = _value_kind(frame)
    if kind == "share":
        return f"share of the {freq}'s sections"
    if kind == "mix":
        return f"share of the {freq}'s tags"
    return f"sections per {freq}"


def period_sections(frame: pd.DataFrame | pd.Series) -> np.ndarray:
    """Each period's sections (the denominator of its shares): from ``attrs["sections"]`` when
    :func:`~weeknotes_analysis.analysis.period_counts` made the frame, else -1 (unknown) per
    period, and 0 where a share frame's whole row is NaN (a gap)."""
    known = frame.attrs.get("sections")
    if known is not None and len(known) == len(frame.index):
        return np.asarray(known, dtype=float)
    values = frame.to_numpy(dtype=float)
    rows = values.reshape(len(frame.index), -1)
    return np.where(np.isnan(rows).all(axis=1), 0.0, -1.0)


def _link(pattern: str | None, item: str, period: str = "") -> str | None:
    if not pattern:
        return None
    url = pattern.format(topic=quote(item), item=quote(item), period=quote(period))
    return url[:-1] if url.endswith("#") else url  # no period: the top of the page


def _mark_periods(
    ax: Axes,
    starts: np.ndarray,
    ends: np.ndarray,
    sections: np.ndarray,
    *,
    min_sections: int,
    label_gaps: bool = True,
) -> str:
    """Shade the periods without sections ("no posts" written in runs of two or more) and
    hatch those with fewer than ``min_sections``; returns a note for the axis label."""
    notes = []
    gaps = sections == 0
    run_start = None
    for index in range(len(sections) + 1):
        if index < len(sections) and gaps[index]:
            run_start = index if run_start is None else run_start
            continue
        if run_start is not None:
            ax.axvspan(starts[run_start], ends[index - 1], color=GAP_COLOR, linewidth=0, zorder=0)
            if label_gaps and index - run_start >= 2:
                ax.text(
                    (starts[run_start] + ends[index - 1]) / 2,
                    0.5,
                    "no posts",
                    transform=ax.get_xaxis_transform(),
                    ha="center",
                    va="center",
                    rotation=90,
                    color=NOTE_COLOR,
                    fontsize=8,
                )
            run_start = None
    if gaps.any():
        notes.append("grey: no posts")
    thin = (sections > 0) & (sections < min_sections)
    for thin_index in np.flatnonzero(thin):
        ax.axvspan(
            starts[thin_index],
            ends[thin_index],
            facecolor="none",
            edgecolor="0.55",
            hatch=THIN_HATCH,
            linewidth=0,
            zorder=3,
        )
    if thin.any():
        notes.append(f"hatched: fewer than {min_sections} sections in the period")
    return "; ".join(notes)


def _section_strip(
    ax: Axes, starts: np.ndarray, ends: np.ndarray, sections: np.ndarray, min_sections: int
) -> None:
    """Bars of each period's sections above a chart, thin periods in grey: the counts behind
    every share, readable at a glance."""
    known = np.where(sections < 0, 0, sections)
    colors = [NOTE_COLOR if 0 < n < min_sections else BAR_COLOR for n in known]
    ax.bar(starts, known, width=ends - starts, align="edge", color=colors, linewidth=0)
    ax.set_ylabel("sections\nper period", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=2, integer=True))
    ax.tick_params(axis="both", labelsize=7)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_xlim(starts[0], ends[-1])


def topic_heatmap(
    shares: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    min_sections: int = MIN_SECTIONS,
    link: str | None = None,
    subjects: Sequence[str] = (),
) -> Axes:
    """A heatmap of topic (rows, in taxonomy order) by period (columns, a date axis).

    Periods without sections are shaded grey (a gap, not a zero); periods with fewer than
    ``min_sections`` sections are hatched. On a new figure a strip above shows each period's
    sections, the denominator of its shares. The rows of ``subjects`` (the archive's
    :func:`~weeknotes_analysis.analysis.subject_topics`, in every section) are marked as such
    and left out of the colour scale, which then spans the other topics (cells above it are
    drawn in its darkest colour).

    Args:
        shares: :func:`~weeknotes_analysis.analysis.period_counts` by topic (or group), usually
            ``share=True``; topics never seen are left out.
        taxonomy: for the row order and labels (default: the bundled one).
        ax: draw here (default: a new figure sized to the rows, with the sections strip).
        title: default "Topics by <period>".
        min_sections: hatch the periods with fewer sections than this.
        link: a URL pattern with ``{topic}`` and ``{period}``; each cell links there (SVG).
        subjects: the archive's subjects: marked, and out of the colour scale.
    """
    freq = _freq(shares)
    title = title or f"Topics by {freq}"
    seen = [column for column in shares.columns if shares[column].fillna(0).any()]
    if _is_empty(shares) or not seen:
        return _no_data(_new_axes(ax, 3.0), title, "No topics found in these posts")
    taxonomy = taxonomy or load_taxonomy()
    by_group = shares.attrs.get("by") == "group"
    order = {
        item: index for index, item in enumerate(taxonomy.groups() if by_group else taxonomy.topics)
    }
    rows = sorted(seen, key=lambda item: (order.get(item, len(order)), item))
    sections = period_sections(shares)
    left = mdates.date2num(_naive(shares.index).to_pydatetime())
    right = mdates.date2num(_period_ends(shares.index, freq).to_pydatetime())
    strip = None
    if ax is None and (sections >= 0).all():
        _, (ax, strip) = plt.subplots(
            2,
            1,
            sharex=True,
            figsize=(WIDTH, 2.4 + 0.3 * len(rows)),
            layout="constrained",
            height_ratios=[max(2.0, 0.3 * len(rows)), 0.9],
        )
        _section_strip(strip, left, right, sections, min_sections)
    ax = _new_axes(ax, 1.6 + 0.3 * len(rows))
    values = shares[rows].to_numpy(dtype=float).T
    scaled = [number for number, row in enumerate(rows) if row not in set(subjects)]
    top = max(float(np.nanmax(values[scaled] if scaled else values)), 1e-9)
    clipped = bool(np.nanmax(values) > top)
    norm = Normalize(vmin=0, vmax=top, clip=True)
    # Only cells with something in them are drawn (a blank cell is zero), one polygon each so
    # that each can link to the sections behind it.
    cells, colors, urls = [], [], []
    labels_of = [period_label(start, freq) for start in shares.index]  # type: ignore[arg-type]
    for (row, column), value in np.ndenumerate(values):
        if np.isnan(value) or value <= 0:
            continue
        x0, x1 = left[column], right[column]
        cells.append([(x0, row), (x1, row), (x1, row + 1), (x0, row + 1)])
        colors.append(value)
        urls.append(_link(link, rows[row], labels_of[column]))
    mesh = PolyCollection(cells, cmap=HEATMAP_CMAP, norm=norm, linewidths=0, antialiaseds=False)
    mesh.set_array(np.asarray(colors))
    if link:
        mesh.set_urls(urls)
    ax.add_collection(mesh)
    ax.set_xlim(left[0], right[-1])
    labels = topic_labels(taxonomy)
    names = [labels.get(row, row) for row in rows]
    names = [
        f"{name} (the archive's subject)" if row in subjects else name
        for name, row in zip(names, rows, strict=True)
    ]
    ax.set_yticks(np.arange(len(rows)) + 0.5, names)
    ax.set_ylim(len(rows), 0)
    groups = {} if by_group else {topic.id: topic.group for topic in taxonomy.topics.values()}
    for position in range(1, len(rows)):
        if groups.get(rows[position]) != groups.get(rows[position - 1]):
            ax.axhline(position, color="0.75", linewidth=0.6)
    note = _mark_periods(ax, left, right, sections, min_sections=min_sections)
    ax.xaxis_date()
    _date_axis(ax)
    ax.tick_params(axis="y", length=0)
    _tidy(ax, title)
    bottom = strip if strip is not None else ax
    _date_axis(bottom)
    bottom.set_xlabel(note, fontsize=8, color=NOTE_COLOR)
    bar = ax.figure.colorbar(
        mesh, ax=ax, pad=0.01, fraction=0.04, aspect=30, extend="max" if clipped else "neither"
    )
    bar.set_label(_share_words(shares))
    if _value_kind(shares) in ("share", "mix"):
        bar.ax.yaxis.set_major_formatter(FuncFormatter(_percent_label))
    return ax


def group_area(
    counts: pd.DataFrame,
    *,
    mix: bool = True,
    taxonomy: Taxonomy | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    min_sections: int = MIN_SECTIONS,
) -> Axes:
    """Stacked areas of topic groups per period: the mix of each period's tags, or counts.

    Args:
        counts: :func:`~weeknotes_analysis.analysis.period_counts` by group (counts).
        mix: stack each period's share of tags (sums to 100% where anything was tagged);
            False stacks the counts.
        taxonomy: for colours, order and labels (default: the bundled one).
        ax: draw here (default: a new figure).
        title: default "Topic groups by <period>".
        min_sections: hatch the periods with fewer sections than this.
    """
    freq = _freq(counts)
    title = title or f"Topic groups by {freq}"
    if _is_empty(counts):
        return _no_data(_new_axes(ax, 4.0), title, "No topics found in these posts")
    taxonomy = taxonomy or load_taxonomy()
    order = list(taxonomy.groups())
    groups = [g for g in order if g in counts.columns and counts[g].any()]
    groups += [g for g in counts.columns if g not in order and counts[g].any()]
    values = row_shares(counts[groups]) if mix else counts[groups].astype(float)
    # Each period is a flat step over its whole length; a period with nothing tagged is left
    # blank rather than drawn as a dip to zero.
    values = values.where(counts[groups].sum(axis=1) > 0, axis=0)
    ax = _new_axes(ax, 4.5)
    labels = topic_labels(taxonomy)
    colors = _colors_for(groups, group_colors(taxonomy))
    starts = mdates.date2num(_naive(values.index).to_pydatetime())
    ends = mdates.date2num(_period_ends(values.index, freq).to_pydatetime())
    x = np.column_stack([starts, ends]).ravel()
    layers = [np.repeat(values[g].to_numpy(dtype=float), 2) for g in groups]
    ax.stackplot(
        x, *layers, colors=colors, labels=[labels.get(g, g) for g in groups], alpha=0.9, linewidth=0
    )
    ax.set_xlim(x[0], x[-1])
    note = _mark_periods(ax, starts, ends, period_sections(counts), min_sections=min_sections)
    ax.xaxis_date()
    _date_axis(ax)
    _tidy(ax, title, xlabel=note, ylabel=_share_words(values))
    ax.xaxis.label.set(fontsize=8, color=NOTE_COLOR)
    if mix:
        ax.set_ylim(0, 1)
        _percent(ax)
    handles, _ = ax.get_legend_handles_labels()
    _legend_outside(ax, handles[::-1])  # top of the stack first
    return ax


def topic_lines(
    shares: pd.DataFrame,
    topics: Sequence[str] | None = None,
    *,
    window: int | None = None,
    taxonomy: Taxonomy | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    min_sections: int = MIN_SECTIONS,
    link: str | None = None,
) -> Axes:
    """Lines of chosen topics per period: faint points per period, a bold rolling mean.

    A period without sections is a gap in both (the mean is not carried across it); points
    from fewer than ``min_sections`` sections are hollow and their periods hatched.

    Args:
        shares: :func:`~weeknotes_analysis.analysis.period_counts` by topic (shares or counts).
        topics: the topics to draw (default: every column); a topic absent from ``shares``
            is drawn as zero.
        window: periods in the rolling mean (default: 4 weeks, 3 months, 4 quarters, 1 year).
        taxonomy: for colours and labels (default: the bundled one).
        ax: draw here (default: a new figure).
        title: default "<the topics' labels> per <period>".
        min_sections: hollow points and hatching below this many sections in the period.
        link: a URL pattern with ``{topic}`` and ``{period}``; each point links there (SVG).
    """
    freq = _freq(shares)
    chosen = list(topics) if topics is not None else [str(c) for c in shares.columns]
    labels = topic_labels(taxonomy)
    names = ", ".join(labels.get(topic, topic) for topic in chosen)
    title = title or f"{names or 'Topics'} per {freq}"
    table = shares.reindex(columns=chosen, fill_value=0)
    if shares.empty or not chosen or _is_empty(table):
        what = names or "these topics"
        return _no_data(_new_axes(ax, 4.0), title, f"No sections about {what} in these posts")
    window = window or ROLLING_WINDOW[freq]
    ax = _new_axes(ax, 4.5)
    x = _naive(table.index)
    sections = period_sections(shares)
    gap = sections == 0
    thin = (sections > 0) & (sections < min_sections)
    period_names = [period_label(start, freq) for start in table.index]  # type: ignore[arg-type]
    colors = _colors_for(chosen, topic_colors(taxonomy))
    for topic, color in zip(chosen, colors, strict=True):
        series = table[topic].astype(float).where(~gap)
        points = ax.scatter(
            x,
            series.to_numpy(),
            s=14,
            facecolors=[("none" if t else color) for t in thin],
            edgecolors=color,
            alpha=0.5,
            linewidths=0.8,
        )
        if link:
            # Only a point with sections behind it links (an empty cell has no page to show).
            points.set_urls(
                [
                    _link(link, topic, name) if value > 0 else None
                    for value, name in zip(series.fillna(0), period_names, strict=True)
                ]
            )
        # The mean of the periods that had posts, never carried into a gap.
        smooth = series.rolling(window, min_periods=1).mean().where(~gap)
        # A single period has no line to draw: show its point instead.
        marker = "o" if len(x) == 1 else None
        label = labels.get(topic, topic)
        ax.plot(x, smooth.to_numpy(), color=color, linewidth=2.2, marker=marker, label=label)
    if len(x) == 1:
        length = _period_ends(table.index, freq)[0] - x[0]
        ax.set_xlim(x[0] - length, x[0] + 2 * length)
    starts = mdates.date2num(x.to_pydatetime())
    ends = mdates.date2num(_period_ends(table.index, freq).to_pydatetime())
    note = _mark_periods(ax, starts, ends, sections, min_sections=min_sections)
    _date_axis(ax)
    kind = _value_kind(shares)
    mean = f", {window}-{freq} rolling mean" if window > 1 else ""
    if thin.any():
        note = note.replace("hatched:", "hatched, hollow points:")
    _tidy(ax, title, xlabel=note, ylabel=f"{_share_words(shares)}{mean}")
    ax.xaxis.label.set(fontsize=8, color=NOTE_COLOR)
    ax.set_ylim(bottom=0)
    if kind in ("share", "mix"):
        _percent(ax)
    ax.grid(axis="y", alpha=0.3)
    _legend_outside(ax)
    return ax


def topic_mix(
    counts: pd.DataFrame,
    topics: Sequence[str],
    *,
    taxonomy: Taxonomy | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    min_sections: int = MIN_SECTIONS,
    link: str | None = None,
) -> Axes:
    """Each topic's share among ``topics`` per period, as stacked bars (e.g. cloud vendors).

    A bar from fewer than ``min_sections`` tags is hatched and paler; a period without any is
    left out (no bar), never drawn as zero.

    Args:
        counts: :func:`~weeknotes_analysis.analysis.period_counts` by topic (counts).
        topics: the topics that share each bar (absent ones count zero).
        taxonomy: for colours and labels (default: the bundled one).
        ax: draw here (default: a new figure).
        title: default "Share of <topics> per <period>".
        min_sections: hatch the bars made of fewer tags than this.
        link: a URL pattern with ``{topic}`` and ``{period}``; each bar links there (SVG).
    """
    freq = _freq(counts)
    labels = topic_labels(taxonomy)
    names = ", ".join(labels.get(topic, topic) for topic in topics) or "these topics"
    title = title or f"Share of {names} per {freq}"
    table = counts.reindex(columns=list(topics), fill_value=0)
    if counts.empty or _is_empty(table):
        return _no_data(_new_axes(ax, 4.0), title, f"No sections about {names} in these posts")
    ax = _new_axes(ax, 4.5)
    shares = row_shares(table)
    starts = _naive(table.index)
    lengths = _period_ends(table.index, freq) - starts
    middles = starts + lengths / 2
    widths = (lengths * 0.8).total_seconds().to_numpy() / 86_400
    colors = _colors_for(list(topics), topic_colors(taxonomy))
    bottom = np.zeros(len(shares))
    totals = table.sum(axis=1).to_numpy()
    thin = (totals > 0) & (totals < min_sections)
    period_names = [period_label(start, freq) for start in table.index]  # type: ignore[arg-type]
    for topic, color in zip(topics, colors, strict=True):
        heights = np.nan_to_num(shares[topic].to_numpy(dtype=float))
        bars = ax.bar(
            middles,
            heights,
            bottom=bottom,
            width=widths,
            color=color,
            label=labels.get(topic, topic),
            linewidth=0,
        )
        for bar, is_thin, name in zip(bars, thin, period_names, strict=True):
            if is_thin:
                bar.set(alpha=0.55, hatch=THIN_HATCH, edgecolor="white")
            if link and bar.get_height() > 0:
                bar.set_url(_link(link, topic, name))
        bottom += heights
    if len(table) <= 40:
        for middle, total in zip(middles, totals, strict=True):
            if total:
                ax.annotate(
                    f"{int(total)}",
                    (mdates.date2num(middle), 1.0),
                    xytext=(0, 2),
                    textcoords="offset points",
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    color=NOTE_COLOR,
                )
    ax.set_ylim(0, 1)
    ax.set_xlim(mdates.date2num(starts[0]), mdates.date2num(starts[-1] + lengths[-1]))
    _percent(ax)
    _date_axis(ax)
    note = (
        "above each bar: tags among these topics (a section about two counts twice)"
        if len(table) <= 40
        else ""
    )
    if thin.any():
        note = "; ".join(filter(None, [note, f"hatched: fewer than {min_sections} tags"]))
    sections = period_sections(counts)
    for start, length, n in zip(starts, lengths, sections, strict=True):
        if n == 0:
            ax.axvspan(start, start + length, color=GAP_COLOR, linewidth=0, zorder=0)
    _tidy(ax, title, xlabel=note, ylabel=f"share of the {freq}'s tags among these")
    ax.xaxis.label.set(fontsize=8, color=NOTE_COLOR)
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE, pad=16)
    handles, _ = ax.get_legend_handles_labels()
    _legend_outside(ax, handles[::-1])
    return ax


def subject_note(
    subjects: Sequence[str],
    taxonomy: Taxonomy | None = None,
    totals: pd.Series | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    titles: bool = False,
) -> str:
    """A second title line for a chart drawn without the archive's subjects
    (:func:`~weeknotes_analysis.analysis.subject_topics`): "besides Rust (14,185 sections),
    the archive's subject", the count from ``totals`` when it has the item; "" without
    subjects. ``labels`` name the items (default: the taxonomy's topic labels); ``titles``
    words it for the :func:`~weeknotes_analysis.analysis.subject_entities`: "besides Rust
    (6,470 sections), ... and @ThisWeekInRust (938 sections), which the archive's titles
    name"."""
    if not subjects:
        return ""
    if labels is None:
        labels = topic_labels(taxonomy or load_taxonomy())
    parts = []
    for item in subjects:
        count = (
            f" ({int(totals[item]):,} sections)"
            if totals is not None and item in totals.index
            else ""
        )
        # Each item with its count stays on one line (a no-break space while wrapping).
        parts.append(f"{labels.get(item, item)}{count}".replace(" ", "\u00a0"))
    # A long note is wrapped, so that the title does not run far past the chart.
    lines = textwrap.wrap(f"besides {subject_phrase(parts, titles=titles)}", 90)
    return "".join(f"\n{line}" for line in lines).replace("\u00a0", " ")


def top_bars(
    totals: pd.Series,
    *,
    n: int = 15,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    title: str = "Most mentioned",
    xlabel: str = "sections",
    colors: Mapping[str, str] | None = None,
    link: str | None = None,
) -> Axes:
    """Horizontal bars of the ``n`` largest values, largest on top, each labelled with its value.

    Args:
        totals: a value per item, e.g. :func:`~weeknotes_analysis.analysis.item_totals`.
        n: how many bars.
        labels: item -> display label (e.g. :func:`~weeknotes_analysis.analysis.entity_names`).
        ax: draw here (default: a new figure sized to the bars).
        title: the chart's title.
        xlabel: what the values count.
        colors: item -> colour (e.g. :func:`topic_colors`); others are drawn in one blue.
        link: a URL pattern with ``{item}`` (or ``{topic}``); each bar links there (SVG).
    """
    top = totals[totals > 0].sort_values(ascending=False, kind="stable").head(n)
    if top.empty:
        return _no_data(_new_axes(ax, 3.0), title, "Nothing to count in these posts")
    ax = _new_axes(ax, 1.2 + 0.32 * len(top))
    names = [(labels or {}).get(str(item), str(item)) for item in top.index]
    positions = np.arange(len(top))
    palette = colors or {}
    bar_colors = [palette.get(str(item), BAR_COLOR) for item in top.index]
    bars = ax.barh(positions, top.to_numpy(dtype=float), color=bar_colors, height=0.7)
    if link:
        for bar, item in zip(bars, top.index, strict=True):
            bar.set_url(_link(link, str(item)))
    ax.set_yticks(positions, names)
    ax.invert_yaxis()
    ax.bar_label(ax.containers[0], fmt="%g", padding=3, fontsize=8, color=NOTE_COLOR)  # type: ignore[arg-type]
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.margins(x=0.08)
    ax.tick_params(axis="y", length=0)
    _tidy(ax, title, xlabel=xlabel)
    ax.grid(axis="x", alpha=0.3)
    return ax


def period_heatmap(
    counts: pd.DataFrame,
    *,
    n: int = 15,
    rank: pd.Series | None = None,
    labels: Mapping[str, str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    min_sections: int = MIN_SECTIONS,
    link: str | None = None,
) -> Axes:
    """The ``n`` top items, period beside period, as a labelled heatmap.

    Rows are ordered by the period of their peak, so what rose later sits lower. Cells carry
    their value when there are few enough to read. Use it for entities year by year or linked
    domains over time.

    Args:
        counts: :func:`~weeknotes_analysis.analysis.period_counts` (counts or shares).
        n: how many rows.
        rank: a value per item that picks the rows, largest first (e.g.
            :func:`~weeknotes_analysis.analysis.item_totals`, so that one busy week in a quiet
            year does not crowd out what came up all along); default: the column totals of
            ``counts``.
        labels: item -> display label.
        ax: draw here (default: a new figure sized to the rows).
        title: default "Top items by <period>".
        min_sections: hatch the periods with fewer sections than this (each column's label
            gives its sections when known).
        link: a URL pattern with ``{item}`` and ``{period}``; each cell links there (SVG).
    """
    freq = _freq(counts)
    title = title or f"Top items by {freq}"
    if _is_empty(counts):
        return _no_data(_new_axes(ax, 3.0), title, "Nothing to count in these posts")
    present = [column for column in counts.columns if counts[column].any()]
    score = rank if rank is not None else counts.sum()
    chosen = sorted(present, key=lambda item: (-float(score.get(item, 0)), str(item)))[:n]
    peak_at = {item: int(np.argmax(counts[item].to_numpy())) for item in chosen}
    rows = sorted(chosen, key=lambda item: (peak_at[item], -float(score.get(item, 0)), str(item)))
    values = counts[rows].to_numpy(dtype=float).T
    ax = _new_axes(ax, 1.6 + 0.32 * len(rows))
    top = float(np.nanmax(values))
    columns = [period_label(start, freq) for start in counts.index]  # type: ignore[arg-type]
    cells, colors, urls = [], [], []
    for (row, column), value in np.ndenumerate(values):
        if np.isnan(value) or value <= 0:
            continue
        x0, x1, y0, y1 = column - 0.5, column + 0.5, row - 0.5, row + 0.5
        cells.append([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
        colors.append(value)
        urls.append(_link(link, str(rows[row]), columns[column]))
    image = PolyCollection(cells, cmap=HEATMAP_CMAP, norm=Normalize(vmin=0, vmax=top), linewidths=0)
    image.set_array(np.asarray(colors))
    if link:
        image.set_urls(urls)
    ax.add_collection(image)
    ax.set_xlim(-0.5, len(columns) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    sections = period_sections(counts)
    note = _mark_periods(
        ax,
        np.arange(len(columns)) - 0.5,
        np.arange(len(columns)) + 0.5,
        sections,
        min_sections=min_sections,
        label_gaps=False,
    )
    if len(columns) <= 12 and (sections >= 0).all():
        columns = [f"{name}\n{int(n)} sections" for name, n in zip(columns, sections, strict=True)]
    positions, names = _period_ticks(pd.DatetimeIndex(counts.index), columns)
    ax.set_xticks(positions, names)
    ax.set_yticks(np.arange(len(rows)), [(labels or {}).get(str(r), str(r)) for r in rows])
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    kind = _value_kind(counts)
    if values.size <= 400 and len(columns) <= 20:
        for (row, column), value in np.ndenumerate(values):
            if value > 0:
                if kind in ("share", "mix"):
                    text = f"{value:.0%}" if value >= 0.005 else "<1%"
                else:
                    text = f"{value:g}"
                ax.text(
                    column,
                    row,
                    text,
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if value > 0.6 * top else "0.2",
                )
    _tidy(ax, title, xlabel=note)
    ax.xaxis.label.set(fontsize=8, color=NOTE_COLOR)
    bar = ax.figure.colorbar(image, ax=ax, pad=0.01, fraction=0.04, aspect=30)
    bar.set_label(_share_words(counts))
    if kind in ("share", "mix"):
        bar.ax.yaxis.set_major_formatter(FuncFormatter(_percent_label))
    return ax


def _period_ticks(
    starts: pd.DatetimeIndex, labels: Sequence[str], most: int = 14
) -> tuple[list[int], list[str]]:
    """Column ticks a reader can take in: every label when few, else the first period of each
    year labelled with the year (thinned to at most ``most``)."""
    if len(labels) <= 12:
        return list(range(len(labels))), list(labels)
    years = [i for i, start in enumerate(starts) if i == 0 or start.year != starts[i - 1].year]
    if len(years) >= 2:
        # A first, partial year too close to the next label would overlap it.
        if years[1] - years[0] < max(2, len(labels) // most):
            years = years[1:]
        step = max(1, int(np.ceil(len(years) / most)))
        chosen = years[::step]
        return chosen, [str(starts[i].year) for i in chosen]
    step = max(1, int(np.ceil(len(labels) / most)))
    return list(range(0, len(labels), step)), list(labels[::step])


def activity_chart(table: pd.DataFrame, *, title: str | None = None) -> Figure:
    """Posts and words per period, as two bar charts one above the other.

    Args:
        table: :func:`~weeknotes_analysis.analysis.activity`.
        title: default "Posts and words per <period>".
    """
    freq = _freq(table)
    word = freq
    title = title or f"Posts and words per {word}"
    if table.empty or not table["posts"].any():
        fig, ax = plt.subplots(figsize=(WIDTH, 3.0), layout="constrained")
        _no_data(ax, title, "No dated posts")
        return fig
    fig, (posts, words) = plt.subplots(
        2, 1, sharex=True, figsize=(WIDTH, 5.0), layout="constrained"
    )
    starts = _naive(table.index)
    lengths = _period_ends(table.index, freq) - starts
    middles = starts + lengths / 2
    widths = (lengths * 0.85).total_seconds().to_numpy() / 86_400
    for ax, column, label in (
        (posts, "posts", f"posts per {word}"),
        (words, "words", f"words per {word}"),
    ):
        ax.bar(middles, table[column].to_numpy(dtype=float), width=widths, color=BAR_COLOR)
        ax.set_ylabel(label)
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(axis="y", alpha=0.3)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    words.yaxis.set_major_formatter(lambda value, _: f"{value:,.0f}")
    _date_axis(words)
    posts.set_title(title, loc="left", fontsize=TITLE_SIZE, pad=10)
    return fig


def recall_bars(
    per_topic: pd.DataFrame,
    *,
    taxonomy: Taxonomy | None = None,
    ax: Axes | None = None,
    title: str = "Recall of the author's tags, per topic",
) -> Axes:
    """Recall per topic as horizontal bars in the topic's colour, labelled found/expected.

    Args:
        per_topic: ``Evaluation.per_topic`` (topic, expected, found, recall).
        taxonomy: for colours and labels (default: the bundled one).
        ax: draw here (default: a new figure sized to the bars).
        title: the chart's title.
    """
    if per_topic.empty:
        return _no_data(_new_axes(ax, 3.0), title, "No post has a keyword the mapping knows")
    rows = per_topic.sort_values(["recall", "expected"], ascending=[False, False], kind="stable")
    ax = _new_axes(ax, 1.2 + 0.32 * len(rows))
    topics = [str(topic) for topic in rows["topic"]]
    labels = topic_labels(taxonomy)
    positions = np.arange(len(rows))
    colors = _colors_for(topics, topic_colors(taxonomy))
    ax.barh(positions, rows["recall"].to_numpy(dtype=float), color=colors, height=0.7)
    ax.set_yticks(positions, [labels.get(topic, topic) for topic in topics])
    ax.invert_yaxis()
    for position, found, expected in zip(positions, rows["found"], rows["expected"], strict=True):
        ax.annotate(
            f"{int(found)}/{int(expected)}",
            (1.0, position),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize=8,
            color=NOTE_COLOR,
            annotation_clip=False,
        )
    ax.set_xlim(0, 1)
    _percent(ax, "x")
    ax.tick_params(axis="y", length=0)
    _tidy(ax, title, xlabel="recall: posts tagged with the topic / posts the author tagged")
    ax.grid(axis="x", alpha=0.3)
    return ax


SENTIMENT_COLORS = {
    "positive": "#55a868",
    "mixed": "#8172b3",
    "neutral": "#b0b0b0",
    "negative": "#c44e52",
}


def sentiment_chart(
    by_period: pd.DataFrame, *, ax: Axes | None = None, title: str = "Sentiment across time"
) -> Axes:
    """Stacked shares of each sentiment label per period, with the mean compound score as a line.

    Args:
        by_period: :func:`~weeknotes_analysis.sentiment.sentiment_by_period` (``*_share``
            columns and ``compound``, indexed by period start).
        ax: draw here (default: a new figure).
        title: the chart's title.
    """
    ax = _new_axes(ax, 4.2)
    if by_period.empty or not (by_period["sections"] > 0).any():
        return _no_data(ax, title, "No dated sections to score")
    freq = str(by_period.attrs.get("freq", "month"))
    x = _naive(by_period.index)
    bottom = np.zeros(len(by_period))
    width = {"week": 6, "month": 27, "quarter": 85, "year": 350}.get(freq, 27)
    handles: list[Artist] = []
    for label, color in SENTIMENT_COLORS.items():
        values = by_period[f"{label}_share"].to_numpy(dtype=float)
        ax.bar(
            x,
            values,
            bottom=bottom,
            width=width,
            color=color,
            label=label,
            align="edge",
            linewidth=0,
        )
        handles.append(Patch(color=color, label=label))
        bottom += values
    ax.set_ylim(0, 1)
    _percent(ax)
    _date_axis(ax)
    line_ax = ax.twinx()
    compound = by_period["compound"].to_numpy(dtype=float)
    (line,) = line_ax.plot(
        x + pd.Timedelta(days=width / 2),
        compound,
        color="black",
        linewidth=1.4,
        marker=".",
        label="mean compound (right)",
    )
    line_ax.set_ylim(-1, 1)
    line_ax.set_ylabel("mean compound score")
    line_ax.axhline(0, color="0.6", linewidth=0.8, linestyle=":")
    line_ax.spines["top"].set_visible(False)
    handles.append(line)
    _tidy(ax, title, ylabel=f"share of the {freq}'s sections")
    # Further right than _legend_outside: the twin axis' labels sit in between.
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.08, 1.0), frameon=False)
    return ax
