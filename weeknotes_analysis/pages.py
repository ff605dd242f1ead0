"""Drill-down pages of the HTML report: one page per topic (or entity, or site) listing every
section behind it, newest period first, so that a click on a chart's cell lands on its sections.

A page groups the sections by period; each group carries the anchors of its period at every
frequency (``#2019-W36``, ``#2019-09``, ``#2019-Q3``, ``#2019``), so a link from a weekly
heatmap and one from a quarterly bar chart both land on the right group.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from .analysis import By, Freq, Role, period_label, period_starts, tagged_sections
from .corpus import Corpus
from .settings import ArchiveSettings

FOLDERS = {"topic": "topics", "group": "groups", "entity": "entities", "domain": "sites"}
EXCERPT_WORDS = 40
FREQ_ORDER: tuple[Freq, ...] = ("week", "month", "quarter", "year")

PAGE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto;
       max-width: 60rem; padding: 0 1rem; color: #222; line-height: 1.45; }
h2 { border-top: 1px solid #ddd; padding-top: 0.6rem; margin-top: 1.6rem; font-size: 1.15rem; }
h2 .n { color: #666; font-weight: normal; font-size: 0.9rem; }
.section { margin: 0.8rem 0 1rem; }
.section .head { font-weight: 600; }
.meta, .id { color: #666; font-size: 0.85rem; }
.id code { background: #f3f3f3; padding: 0 0.25rem; border-radius: 3px; }
.excerpt { margin: 0.2rem 0; }
:target { background: #fff7d6; }
"""


def page_path(by: By | str, item: str) -> str:
    """The page of ``item`` relative to the report folder: ``topics/aws.html``."""
    return f"{FOLDERS[by]}/{quote(slug(item))}.html"


def slug(item: str) -> str:
    """A file name for an item: the id as it is when safe, else its unsafe characters as ``-``."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", item).strip("-.") or "item"


def post_url(post: Mapping[str, Any], settings: ArchiveSettings | None, root: str | None) -> str:
    """Where a post can be read: the settings' ``post_url`` pattern, else ``site_url`` and the
    post id, else the source file."""
    date = post["date"]
    slug_value = post.get("slug")
    fields = {
        "site_url": (settings.site_url if settings else None) or "",
        "slug": slug_value
        if isinstance(slug_value, str) and slug_value
        else Path(str(post["post_id"])).name,
        "post_id": post["post_id"],
        "year": f"{date:%Y}" if pd.notna(date) else "",
        "month": f"{date:%m}" if pd.notna(date) else "",
        "day": f"{date:%d}" if pd.notna(date) else "",
    }
    if settings is not None and settings.post_url:
        return settings.post_url.format(**fields)
    if settings is not None and settings.site_url:
        return f"{settings.site_url}/{quote(str(post['post_id']))}/"
    if root:
        return (Path(root).resolve() / str(post["path"])).as_uri()
    return ""


def excerpt(text: str, words: int = EXCERPT_WORDS) -> str:
    """The first ``words`` words of a section's text."""
    parts = str(text or "").split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def period_anchors(start: pd.Timestamp, freq: Freq) -> list[str]:
    """The labels of ``start``'s period at ``freq`` and at every coarser frequency."""
    coarser = FREQ_ORDER[FREQ_ORDER.index(freq) :]
    return [period_label(start, other) for other in coarser]


def item_sections(corpus: Corpus, by: By, item: str, *, role: Role = "about") -> pd.DataFrame:
    """The sections behind ``item`` with their post's title, date and URL fields, newest first."""
    pairs = tagged_sections(corpus, by, role=role)
    ids = set(pairs.loc[pairs["item"] == item, "section_id"])
    sections = corpus.sections[corpus.sections["section_id"].isin(ids)]
    posts = corpus.posts.set_index("post_id")
    rows = sections.assign(
        title=sections["post_id"].map(posts["title"]),
        post_date=sections["post_id"].map(posts["date"]),
    )
    return rows.sort_values(
        ["date", "post_id", "position"], ascending=[False, True, True], na_position="last"
    )


def render_item_page(
    corpus: Corpus,
    by: By,
    item: str,
    *,
    label: str,
    freq: Freq,
    role: Role = "about",
    back: str = "../index.html",
) -> str:
    """The HTML of one item's page: every section behind it, grouped by period, newest first."""
    escape = html.escape
    rows = item_sections(corpus, by, item, role=role)
    posts = corpus.posts.set_index("post_id")
    settings = corpus.settings
    starts = period_starts(rows["date"], freq)
    groups: list[str] = []
    seen_anchors: set[str] = set()
    for start, group in rows.groupby(starts, sort=False, dropna=False):
        if pd.isna(start):
            anchors, name = ["undated"], "undated"
        else:
            anchors = period_anchors(pd.Timestamp(start), freq)
            name = anchors[0]
        # Newest first: the first group of a quarter is where a link to that quarter lands.
        ids = [a for a in anchors if a not in seen_anchors]
        seen_anchors.update(ids)
        spans = "".join(f'<span id="{escape(a)}"></span>' for a in ids[1:])
        items = []
        for row in group.itertuples(index=False):
            post = {**posts.loc[row.post_id].to_dict(), "post_id": row.post_id}
            url = post_url(post, settings, corpus.root)
            title = escape(str(row.title) if pd.notna(row.title) else str(row.post_id))
            day = f"{row.date:%Y-%m-%d}" if pd.notna(row.date) else "undated"
            heading = (
                escape(str(row.heading)) if pd.notna(row.heading) else "(before the first heading)"
            )
            link = f'<a href="{escape(url)}">{title}</a>' if url else title
            items.append(
                f'<div class="section"><div class="head">{heading}</div>'
                f'<div class="meta">{link} · {day}</div>'
                f'<p class="excerpt">{escape(excerpt(row.text))}</p>'
                f'<div class="id">section <code>{escape(str(row.section_id))}</code></div></div>'
            )
        count = f"{len(group)} section" + ("" if len(group) == 1 else "s")
        groups.append(
            f'{spans}<h2 id="{escape(ids[0] if ids else name)}">{escape(name)} '
            f'<span class="n">{count}</span></h2>' + "".join(items)
        )
    what = {"topic": "Topic", "group": "Topic group", "entity": "Entity", "domain": "Site"}[by]
    role_note = "" if by not in ("topic", "group") else f" (role: {role or 'any'})"
    body = "\n".join(groups) or "<p>No sections.</p>"
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(what)}: {escape(label)}</title><style>{PAGE_STYLE}</style></head><body>"
        f'<p class="meta"><a href="{escape(back)}">← report</a></p>'
        f"<h1>{escape(what)}: {escape(label)}</h1>"
        f'<p class="meta">{len(rows)} sections{escape(role_note)}, newest first, grouped by '
        f"{freq}.</p>\n{body}\n</body></html>\n"
    )


def write_item_pages(
    corpus: Corpus,
    folder: str | Path,
    by: By,
    items: Iterable[str],
    *,
    labels: dict[str, str] | None = None,
    freq: Freq,
    role: Role = "about",
) -> list[Path]:
    """Write ``<folder>/<topics|entities|sites>/<item>.html`` for each item; returns the paths."""
    written = []
    for item in items:
        target = Path(folder) / page_path(by, item)
        target.parent.mkdir(parents=True, exist_ok=True)
        page = render_item_page(
            corpus, by, item, label=(labels or {}).get(item, item), freq=freq, role=role
        )
        target.write_text(page, encoding="utf-8")
        written.append(target)
    return written
