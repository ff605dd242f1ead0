"""Charts: what a reader sees (titles, labels, one line or bar per topic, colours that stay put),
and a "no data" note rather than a crash on empty data."""

from __future__ import annotations

import inspect

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_hex

from weeknotes_analysis import plots
from weeknotes_analysis.analysis import activity, item_totals, period_counts
from weeknotes_analysis.plots import (
    activity_chart,
    group_area,
    group_colors,
    period_heatmap,
    recall_bars,
    subject_note,
    top_bars,
    topic_colors,
    topic_heatmap,
    topic_labels,
    topic_lines,
    topic_mix,
)
from weeknotes_analysis.topics import load_taxonomy

from .test_analysis import make_corpus

CLOUDS = ["aws", "azure", "google-cloud", "other-clouds"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def corpus():
    return make_corpus()


@pytest.fixture(scope="module")
def weekly(corpus) -> pd.DataFrame:
    return period_counts(corpus, "topic", freq="week", share=True)


def no_data_note(ax) -> str:
    return " ".join(text.get_text() for text in ax.texts)


def test_colours_follow_the_taxonomy_and_differ_within_a_group():
    taxonomy = load_taxonomy()
    colors = topic_colors(taxonomy)
    assert list(colors) == list(taxonomy.topics)
    for members in taxonomy.groups().values():
        assert len({colors[topic] for topic in members}) == len(members)
    groups = group_colors(taxonomy)
    assert len(set(groups.values())) == len(groups)
    assert groups["containers"] == colors["containers"]
    assert topic_labels(taxonomy)["google-cloud"] == "Google Cloud"


def test_heatmap_has_a_row_per_topic_seen_in_taxonomy_order(weekly):
    ax = topic_heatmap(weekly)
    assert ax.get_title(loc="left") == "Topics by week"
    assert [tick.get_text() for tick in ax.get_yticklabels()] == ["AWS", "Kubernetes"]
    cells = next(c for c in ax.collections if isinstance(c, PolyCollection))
    # Only the cells with sections are drawn: AWS in W01, Kubernetes in W01 and W03.
    assert len(cells.get_paths()) == 3
    colorbar = ax.figure.axes[-1]
    assert colorbar.get_ylabel() == "share of the week's sections"
    # The strip below gives each week's sections; W02 had none: a grey gap, noted.
    strip = ax.figure.axes[1]
    assert [bar.get_height() for bar in strip.patches] == [3, 0, 2]
    assert "grey: no posts" in strip.get_xlabel()


def test_the_archives_subject_is_marked_and_out_of_the_heatmaps_colour_scale(weekly):
    # Rust in every section of every week, as This Week in Rust's subject is.
    rusty = weekly.assign(rust=weekly["aws"].notna().map({True: 1.0, False: float("nan")}))
    rusty.attrs = dict(weekly.attrs)
    plain = topic_heatmap(rusty)
    ax = topic_heatmap(rusty, subjects=["rust"])
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    assert labels == ["AWS", "Kubernetes", "Rust (the archive's subject)"]
    cells = next(c for c in ax.collections if isinstance(c, PolyCollection))
    other = float(weekly[["aws", "kubernetes"]].max().max())
    assert cells.norm.vmax == pytest.approx(other) and other < 1.0
    before = next(c for c in plain.collections if isinstance(c, PolyCollection))
    assert before.norm.vmax == 1.0
    assert "Rust (the archive's subject)" not in [t.get_text() for t in plain.get_yticklabels()]
    # Above the scale is drawn in its darkest colour, and the colour bar says so.
    assert cells.norm.clip and cells.norm(1.0) == 1.0 and plain.collections
    assert cells.colorbar.extend == "max"


def test_a_chart_without_the_subject_says_so_in_its_title():
    totals = pd.Series({"rust": 14185, "web": 287}, name="sections")
    assert subject_note([], None, totals) == ""
    note = subject_note(["rust"], None, totals)
    assert note == "\nbesides Rust (14,185 sections), the archive's subject"
    assert subject_note(["rust", "golang"]).endswith("Rust and Go, the archive's subjects")
    # The entities the titles name, by their written names.
    names = {"rust": "Rust", "twir": "This Week in Rust", "handle": "@ThisWeekInRust"}
    counts = pd.Series({"rust": 6470, "twir": 1577, "handle": 938})
    assert subject_note(["rust", "twir", "handle"], totals=counts, labels=names, titles=True) == (
        "\nbesides Rust (6,470 sections), This Week in Rust (1,577 sections) and"
        "\n@ThisWeekInRust (938 sections), which the archive's titles name"
    )


def test_lines_draw_one_rolling_line_per_topic_in_its_colour(weekly):
    ax = topic_lines(weekly, ["kubernetes", "aws", "smart-home"], window=2)
    assert len(ax.lines) == 3  # a rolling mean per topic (the faint points are a scatter)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == ["Kubernetes", "AWS", "Smart home"]
    colors = topic_colors()
    smooth = ax.lines
    assert [to_hex(line.get_color()) for line in smooth] == [
        colors["kubernetes"],
        colors["aws"],
        colors["smart-home"],
    ]
    # W02 had no posts: a gap in the line, and the mean is not carried into it.
    assert smooth[0].get_ydata().tolist() == pytest.approx([2 / 3, np.nan, 0.5], nan_ok=True)
    assert "2-week rolling mean" in ax.get_ylabel()


def test_a_topic_keeps_its_colour_across_charts(corpus, weekly):
    lines = topic_lines(weekly, ["aws", "kubernetes"])
    mix = topic_mix(period_counts(corpus, "topic", freq="week", items=CLOUDS), CLOUDS)
    aws_line = to_hex(lines.lines[0].get_color())
    aws_bars = {to_hex(patch.get_facecolor()) for patch in mix.containers[0]}
    assert aws_line == aws_bars.pop() == topic_colors()["aws"]


def test_topic_mix_stacks_one_bar_per_topic_and_period_to_one(corpus):
    counts = period_counts(corpus, "topic", freq="week", items=CLOUDS)
    ax = topic_mix(counts, CLOUDS, title="Cloud vendors' share")
    assert ax.get_title(loc="left") == "Cloud vendors' share"
    assert len(ax.containers) == len(CLOUDS)
    assert all(len(bars) == len(counts) for bars in ax.containers)
    tops = np.sum([[bar.get_height() for bar in bars] for bars in ax.containers], axis=0)
    assert tops.tolist() == [1.0, 0.0, 0.0]  # only W01 has a cloud section
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "Other clouds",
        "Google Cloud",
        "Azure",
        "AWS",
    ]


def test_group_area_stacks_the_groups_seen_with_their_colours(corpus):
    ax = group_area(period_counts(corpus, "group", freq="week"))
    areas = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(areas) == 2
    colors = group_colors()
    assert {to_hex(area.get_facecolor()[0]) for area in areas} == {
        colors["cloud-vendors"],
        colors["containers"],
    }
    assert ax.get_ylim() == (0.0, 1.0)
    assert ax.get_ylabel() == "share of the week's tags"


def test_top_bars_largest_first_with_labels_and_values(corpus):
    totals = item_totals(corpus, "entity")
    ax = top_bars(totals, n=2, labels={"aws": "AWS"}, title="Most mentioned entities")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["AWS", "docker"]
    assert [bar.get_width() for bar in ax.patches] == [2.0, 1.0]
    assert ax.get_xlabel() == "sections"
    assert [t.get_text() for t in ax.texts] == ["2", "1"]


def test_period_heatmap_rows_follow_rank_and_peak(corpus):
    counts = period_counts(corpus, "entity", freq="week")
    ax = period_heatmap(counts, n=2, rank=pd.Series({"new-thing": 5, "aws": 3, "docker": 1}))
    assert [t.get_text() for t in ax.get_yticklabels()] == ["aws", "new-thing"]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "2024-W01\n3 sections",
        "2024-W02\n0 sections",
        "2024-W03\n2 sections",
    ]


def test_activity_chart_has_posts_above_words(corpus):
    fig = activity_chart(activity(corpus, freq="week"))
    posts, words = fig.axes
    assert posts.get_title(loc="left") == "Posts and words per week"
    assert (posts.get_ylabel(), words.get_ylabel()) == ("posts per week", "words per week")
    assert [bar.get_height() for bar in posts.patches] == [2, 0, 1]


def test_recall_bars_one_per_topic():
    per_topic = pd.DataFrame(
        {"topic": ["aws", "kubernetes"], "expected": [4, 2], "found": [2, 2], "recall": [0.5, 1.0]}
    )
    ax = recall_bars(per_topic)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Kubernetes", "AWS"]
    assert [bar.get_width() for bar in ax.patches] == [1.0, 0.5]
    assert [t.get_text() for t in ax.texts] == ["2/2", "2/4"]


EMPTY_WEEKS = pd.DataFrame(index=pd.DatetimeIndex([], tz="UTC", name="period"))


@pytest.mark.parametrize(
    ("draw", "note"),
    [
        (lambda: topic_heatmap(EMPTY_WEEKS), "No topics found"),
        (lambda: group_area(EMPTY_WEEKS), "No topics found"),
        (lambda: topic_lines(EMPTY_WEEKS, ["aws"]), "No sections about AWS"),
        (lambda: topic_lines(EMPTY_WEEKS, []), "No sections about these topics"),
        (lambda: topic_mix(EMPTY_WEEKS, CLOUDS), "No sections about AWS, Azure"),
        (lambda: topic_mix(EMPTY_WEEKS, []), "No sections about"),
        (lambda: top_bars(pd.Series(dtype="int64")), "Nothing to count"),
        (lambda: period_heatmap(EMPTY_WEEKS), "Nothing to count"),
        (
            lambda: recall_bars(pd.DataFrame(columns=["topic", "expected", "found", "recall"])),
            "No post has a keyword",
        ),
    ],
)
def test_empty_data_draws_a_note_instead_of_failing(draw, note):
    ax = draw()
    assert note in no_data_note(ax)
    assert ax.get_title(loc="left")


def test_empty_activity_and_topics_that_never_occur(corpus, weekly):
    fig = activity_chart(
        activity(corpus.__class__(**{**corpus.__dict__, "posts": corpus.posts[:0]}))
    )
    assert "No dated posts" in no_data_note(fig.axes[0])
    ax = topic_lines(weekly, ["smart-home"], title="Smart home")
    assert "No sections about Smart home" in no_data_note(ax)


def test_a_single_period_still_draws(corpus):
    one_week = period_counts(corpus, "topic", freq="week", end="2024-01-07")
    assert len(one_week) == 1
    assert topic_heatmap(one_week).get_yticklabels()
    assert len(topic_lines(one_week, ["aws"]).lines) == 1
    areas = group_area(period_counts(corpus, "group", freq="week", end="2024-01-07"))
    assert len([c for c in areas.collections if isinstance(c, PolyCollection)]) == 2
    assert len(topic_mix(one_week, CLOUDS).containers) == len(CLOUDS)


def test_drawing_on_a_given_axes_returns_it(weekly):
    fig, ax = plt.subplots()
    assert topic_lines(weekly, ["aws"], ax=ax) is ax
    assert len(fig.axes) == 1


def test_the_plots_module_reads_no_files_and_shows_no_windows():
    source = inspect.getsource(plots)
    for forbidden in ("plt.show", "read_parquet", "read_csv", "open(", "load_corpus"):
        assert forbidden not in source


def svg_links(ax) -> list[str]:
    import io
    import re

    buffer = io.StringIO()
    ax.figure.savefig(buffer, format="svg")
    return re.findall(r'<a xlink:href="([^"]+)"', buffer.getvalue())


def test_cells_bars_and_points_link_to_the_topic_page_at_their_period(corpus, weekly):
    pattern = "topics/{topic}.html#{period}"
    assert sorted(svg_links(topic_heatmap(weekly, link=pattern))) == [
        "topics/aws.html#2024-W01",
        "topics/kubernetes.html#2024-W01",
        "topics/kubernetes.html#2024-W03",
    ]
    points = svg_links(topic_lines(weekly, ["aws"], link=pattern))
    assert "topics/aws.html#2024-W01" in points
    counts = period_counts(corpus, "topic", freq="week", items=CLOUDS)
    assert "topics/aws.html#2024-W01" in svg_links(topic_mix(counts, CLOUDS, link=pattern))
    assert svg_links(topic_heatmap(weekly)) == []


def test_thin_periods_are_hatched_and_gaps_are_not_zero(weekly):
    ax = topic_lines(weekly, ["kubernetes"], min_sections=3)
    hatched = [p for p in ax.patches if p.get_hatch()]
    assert len(hatched) == 1  # W03: 2 sections; W01 has 3
    assert "fewer than 3 sections" in ax.get_xlabel()
    ax = topic_lines(weekly, ["kubernetes"], min_sections=1)
    assert not [p for p in ax.patches if p.get_hatch()]


def test_only_cells_with_sections_link(corpus, weekly):
    pattern = "topics/{topic}.html#{period}"
    points = svg_links(topic_lines(weekly, ["aws", "smart-home"], link=pattern))
    assert sorted(points) == ["topics/aws.html#2024-W01"]  # not W03 (0), not W02 (a gap)
    counts = period_counts(corpus, "topic", freq="week", items=CLOUDS)
    assert sorted(svg_links(topic_mix(counts, CLOUDS, link=pattern))) == [
        "topics/aws.html#2024-W01"
    ]


def test_a_taxonomy_of_forty_topics_repeats_no_colour():
    from weeknotes_analysis.plots import PALETTE

    assert len(PALETTE) >= 40 and len(set(PALETTE)) == len(PALETTE)
    assert len(load_taxonomy().topics) <= len(PALETTE)
