"""Archive settings (``weeknotes.toml``): what belongs to an archive rather than to one run.

A ``weeknotes.toml`` at the archive's root (or any file given as ``config=`` / ``--config``)
may hold::

    site_url = "https://example.org"          # where the posts are published
    post_url = "{site_url}/{year}/{slug}/"   # one post's address (default: front matter's url)
    taxonomy = "topics.yaml"                  # relative to the settings file
    freq = "month"                            # the default period: week, month, quarter, year
    exclude_headings = ["Upcoming Events", "Jobs"]

Sections under an excluded heading (and the lower-level headings below it) stay in the tables,
flagged in ``sections.excluded``, and are left out of every count, share and drill-down.
"""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from .corpus import Corpus

SETTINGS_FILE = "weeknotes.toml"
FREQ_NAMES = ("week", "month", "quarter", "year")
KNOWN_KEYS = ("site_url", "post_url", "taxonomy", "freq", "exclude_headings")


class SettingsError(ValueError):
    """A settings file that cannot be used; the message names the file and what to fix."""


@dataclass(frozen=True)
class ArchiveSettings:
    """The settings of one archive (all optional).

    Attributes:
        site_url: the site the posts are published on (``https://ig.nore.me``).
        post_url: a post's address, with ``{site_url}``, ``{slug}``, ``{post_id}``,
            ``{year}``, ``{month}``, ``{day}`` filled in.
        taxonomy: a topic taxonomy YAML file.
        freq: the default period of the notebooks and the report.
        exclude_headings: headings (case-insensitive; ``*`` and ``?`` as wildcards) whose
            sections are left out of the analysis.
        path: the settings file read, if any.
    """

    site_url: str | None = None
    post_url: str | None = None
    taxonomy: str | None = None
    freq: str | None = None
    exclude_headings: tuple[str, ...] = field(default_factory=tuple)
    path: str | None = None


def _normal(heading: str) -> str:
    return re.sub(r"\s+", " ", heading).strip().casefold()


def load_settings(
    archive: str | os.PathLike[str] | None, *, config: str | os.PathLike[str] | None = None
) -> ArchiveSettings:
    """The settings in ``config``, else in ``<archive>/weeknotes.toml``, else the defaults.

    Raises:
        SettingsError: the file does not parse or holds an unknown key or a wrong value.
    """
    if config is not None:
        path = Path(config)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such settings file")
    elif archive is not None and (Path(archive) / SETTINGS_FILE).is_file():
        path = Path(archive) / SETTINGS_FILE
    else:
        return ArchiveSettings()
    try:
        values: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SettingsError(
            f"{path}: not valid TOML ({error}); see weeknotes.toml in the README"
        ) from None
    unknown = sorted(set(values) - set(KNOWN_KEYS))
    if unknown:
        raise SettingsError(
            f"{path}: unknown key(s) {', '.join(unknown)}; the keys are {', '.join(KNOWN_KEYS)}"
        )
    for key in ("site_url", "post_url", "taxonomy", "freq"):
        if key in values and not isinstance(values[key], str):
            raise SettingsError(f'{path}: {key} must be a string in quotes, e.g. {key} = "..."')
    if values.get("freq") not in (None, *FREQ_NAMES):
        raise SettingsError(f"{path}: freq must be one of {', '.join(FREQ_NAMES)}")
    headings = values.get("exclude_headings", [])
    if not isinstance(headings, list) or not all(isinstance(h, str) for h in headings):
        raise SettingsError(f'{path}: exclude_headings must be a list of strings, e.g. ["Jobs"]')
    taxonomy = values.get("taxonomy")
    if taxonomy is not None:
        taxonomy = str((path.parent / taxonomy).resolve())
    site = values.get("site_url")
    return ArchiveSettings(
        site_url=site.rstrip("/") if site else None,
        post_url=values.get("post_url"),
        taxonomy=taxonomy,
        freq=values.get("freq"),
        exclude_headings=tuple(headings),
        path=str(path),
    )


def excluded_sections(sections: pd.DataFrame, headings: tuple[str, ...] | list[str]) -> pd.Series:
    """True for each section under one of ``headings``: the section with that heading and the
    deeper-level sections that follow it in the same post (an "Upcoming Events" heading takes
    its "Europe" and "Virtual" sub-sections with it)."""
    flags = pd.Series(False, index=sections.index, name="excluded")
    if not headings or sections.empty:
        return flags
    patterns = [_normal(heading) for heading in headings]
    # A plain list: a string column would turn a missing heading back into <NA>.
    hit = [
        isinstance(h, str) and any(fnmatch.fnmatchcase(_normal(h), p) for p in patterns)
        for h in sections["heading"]
    ]
    ordered = sections.assign(heading_hit=hit).sort_values(["post_id", "position"], kind="stable")
    under: int | None = None
    post = None
    for index, row in zip(ordered.index, ordered.itertuples(index=False), strict=True):
        if row.post_id != post:
            post, under = row.post_id, None
        level = int(row.level) if pd.notna(row.level) else 0
        if row.heading_hit:
            under = level
            flags.at[index] = True
        elif under is not None and level > under and pd.notna(row.heading):
            flags.at[index] = True
        else:
            under = None
    return flags


def apply_settings(corpus: Corpus, settings: ArchiveSettings) -> Corpus:
    """The corpus carrying ``settings``, its sections flagged in ``excluded``."""
    sections = corpus.sections.assign(
        excluded=excluded_sections(corpus.sections, settings.exclude_headings)
    )
    return replace(corpus, sections=sections, settings=settings)


def recurring_headings(sections: pd.DataFrame, *, share: float = 0.5) -> pd.DataFrame:
    """Headings found in more than ``share`` of the posts (case-insensitive): candidates for
    ``exclude_headings``. Columns: heading (its most frequent spelling), posts, share."""
    posts = sections["post_id"].nunique()
    named = sections[sections["heading"].notna()]
    if named.empty or not posts:
        return pd.DataFrame({"heading": [], "posts": [], "share": []})
    named = named.assign(key=named["heading"].map(_normal))
    spelling = named.groupby("key")["heading"].agg(lambda h: h.value_counts().index[0])
    counts = named.groupby("key")["post_id"].nunique()
    table = pd.DataFrame({"heading": spelling, "posts": counts, "share": counts / posts})
    table = table[table["share"] > share].sort_values(["posts", "heading"], ascending=[False, True])
    return table.reset_index(drop=True)


def settings_snippet(headings: list[str]) -> str:
    """A ``weeknotes.toml`` line that leaves ``headings`` out of the analysis."""
    quoted = ", ".join('"' + h.replace("\\", "\\\\").replace('"', '\\"') + '"' for h in headings)
    return f"exclude_headings = [{quoted}]"


def excluded_headings(corpus: Corpus) -> pd.DataFrame:
    """The headings excluded by the settings as found in the archive: heading, sections
    (with the sub-sections under them), posts; most sections first."""
    sections = corpus.sections
    if "excluded" not in sections.columns or not sections["excluded"].any():
        return pd.DataFrame({"heading": [], "sections": [], "posts": []})
    flagged = sections[sections["excluded"].astype(bool)].sort_values(["post_id", "position"])
    # A sub-section counts under the excluded heading above it.
    top = (
        flagged["heading"]
        .where(flagged["heading"].map(lambda h: _matches(h, corpus.settings)), None)
        .ffill()
    )
    table = (
        flagged.assign(top=top)
        .groupby("top")
        .agg(sections=("section_id", "size"), posts=("post_id", "nunique"))
    )
    table = table.rename_axis("heading").reset_index()
    return table.sort_values(["sections", "heading"], ascending=[False, True]).reset_index(
        drop=True
    )


def _matches(heading: object, settings: ArchiveSettings | None) -> bool:
    if not isinstance(heading, str) or settings is None:
        return False
    normal = _normal(heading)
    return any(fnmatch.fnmatchcase(normal, _normal(p)) for p in settings.exclude_headings)
