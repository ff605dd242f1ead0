"""Names that the layout of newsletter text marks: event listings (date | place | group),
credit lines, handles, subreddits and chat channels. Patterns find them where the statistical
model misses them (handles in lower case) or cuts them apart (a listing's fields)."""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterator
from functools import cache
from typing import TYPE_CHECKING, Any

from .names import AMBIGUOUS, CALENDAR_WORDS, generic_key, normalise

if TYPE_CHECKING:
    from .nlp import Gazetteer, RawEntity

# A handle, not a decorator called in code ("@lru_cache(maxsize=2)") or a path ("@scope/pkg").
_HANDLE = re.compile(r"(?<![\w@./:])@([A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9])(?![\w(/-]|\.\w)")
# A forum of its own: a subreddit ("r/rust") or a chat channel ("#rust-style"; a channel's
# name has a hyphen, unlike a hashtag, an issue number or a colour).
_FORUM = re.compile(
    r"(?<![\w/])r/[A-Za-z0-9][A-Za-z0-9_]{1,20}\b|(?<![\w&#/])#[a-z][a-z0-9]*(?:-[a-z0-9]+)+"
)
# "Edited by: ana, bo and Cy Dee" (to the end of the line or sentence); "Thanks to bo for".
# Only a verb of writing or editing credits people ("Sponsored by:" names a company).
_CREDITS = re.compile(
    r"\b(?:edited|written|compiled|curated|maintained|assembled|prepared|produced|translated"
    r"|reviewed|triaged|done) by:[ \t]*([^\n]+?)(?:\.(?:\s|$)|$)",
    flags=re.M | re.I,
)
_THANKS = re.compile(r"\b[Tt]hanks to ([A-Za-z][\w-]*(?: [A-Z][\w'-]*){0,2}) for\b")
_CREDIT_ITEM = re.compile(r"[A-Za-z][\w-]*[A-Za-z0-9]|[A-Z][\w'-]*(?: [A-Z][\w'-]*){1,2}")
# A package named as one, in lower case with a hyphen or an underscore: "the event-stream
# package", "the left-pad npm module", "a crate called fast-float", "node-ipc, a popular
# package" (a word such as "open-source" before "package" only describes it, and one after
# it may be a verb, "the crate re-exports": the article "the", "called" or a comma marks a
# name).
_PACKAGE_WORD = r"(?:package|library|crate|module|gem|plugin)"
_PACKAGE_NAME = r"[a-z][a-z0-9]*(?:[-_][a-z0-9]+)+"
_NAMED_PACKAGE = re.compile(
    rf"\bthe ({_PACKAGE_NAME}) (?:(?:npm|PyPI|Python|Ruby|Rust|Go|JavaScript|Node|Java|PHP) )?"
    rf"{_PACKAGE_WORD}\b"
    rf"|\b{_PACKAGE_WORD} (?:called|named) ({_PACKAGE_NAME})\b(?![-.]\w)"
    rf"|\b({_PACKAGE_NAME}), an? (?:[\w-]+ ){{0,3}}?{_PACKAGE_WORD}\b"
)
# Words of the trade in that shape that describe, not name ("the built-in module").
_NOT_PACKAGES = frozenset(
    {"open-source", "built-in", "third-party", "first-party", "well-known", "so-called"}
    | {"cross-platform", "high-level", "low-level", "general-purpose", "no_std", "meta-variable"}
)


def marked_names(text: str) -> Iterator[tuple[int, int, str]]:
    """``(start, end, label)`` of the names that a sigil or a credit line marks: @handles, a
    subreddit or a chat channel ("r/rust", "#rust-style"), a package named as one in lower
    case ("the event-stream package", "node-ipc, an npm package"), the comma list after "by:"
    ("edited by: ana, bo and Cy Dee") and the name in "Thanks to bo for"; function words
    ("thanks to everyone for") left out."""
    from spacy.lang.en.stop_words import STOP_WORDS

    for match in _HANDLE.finditer(text):
        yield match.start(), match.end(), "PERSON"
    for match in _FORUM.finditer(text):
        yield match.start(), match.end(), "ORG"
    for match in _NAMED_PACKAGE.finditer(text):
        group = next(index for index in (1, 2, 3) if match.group(index))
        if match.group(group) not in _NOT_PACKAGES:
            yield match.start(group), match.end(group), "PRODUCT"
    spans = [match.span(1) for match in _THANKS.finditer(text)]
    for match in _CREDITS.finditer(text):
        offset = match.start(1)
        for item in re.finditer(r"[^,]+", match.group(1)):
            name = re.sub(r"^\s*(?:(?:and|&)\s+)?|\s+$", "", item.group(0))
            start = offset + item.start() + item.group(0).index(name) if name else 0
            spans.append((start, start + len(name)))
    for start, end in spans:
        name = text[start:end]
        if _CREDIT_ITEM.fullmatch(name) and name.lower() not in STOP_WORDS:
            yield start, end, "PERSON"


_MONTH = "|".join(calendar.month_abbr[1:])
_LISTING_DATE = (
    r"(?:\d{4}-\d\d-\d\d(?:\s*[-\u2013]\s*\d{4}-\d\d-\d\d)?"
    rf"|(?:(?:{_MONTH})[a-z]*\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:\s*[-\u2013]\s*\d{{1,2}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:{_MONTH})[a-z]*)\.?(?:,?\s+\d{{4}})?)"
)
# A line of an event listing: a date, then fields separated by "|" or " - ": the place, the
# group that holds the event, maybe its title ("2024-03-05 | Virtual (Leeds, UK) | Rust Leeds",
# "Mar 5. Leeds, UK - Rust Leeds - Monthly meetup.").
_LISTING = re.compile(
    rf"^[ \t]*(?:[-*][ \t]+)?{_LISTING_DATE}[ \t]*[|,:\u2013\u2014-]?[ \t]+([^\n]+)$", re.M
)
_ONLINE = re.compile(r"\b(?:virtual|online|hybrid|in[- ]person|remote)\b", flags=re.I)
_PLACE_PART = re.compile(r"[A-Z][^\W\d_]*(?:[ ./'\u2019-]+[^\W\d_]+){0,3}")
_CODE_PART = re.compile(r"[A-Z]{2,3}")
_USER_ASSIGNED = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")


def _split_at(text: str, separator: str) -> list[tuple[int, str]]:
    """The pieces of ``text`` between matches of ``separator``, each with its offset."""
    cuts = [0, *(cut for match in re.finditer(separator, text) for cut in match.span()), len(text)]
    return [(cuts[i], text[cuts[i] : cuts[i + 1]]) for i in range(0, len(cuts), 2)]


@cache
def country_codes() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> English name, from the CLDR data that Babel packages
    (the codes ISO leaves to users, "QM".."QZ", "XA".."XZ", "ZZ", left out)."""
    from babel import Locale

    return {
        code: name
        for code, name in Locale("en").territories.items()
        if len(code) == 2 and code.isalpha() and not _USER_ASSIGNED.fullmatch(code)
    }


_Rule = tuple[int, int, str, str]  # start, end, label, entity id


def listing_names(text: str, gazetteer: Gazetteer) -> Iterator[tuple[int, int, list[_Rule]]]:
    """``(start, end, names)`` of the fields of every line of an event listing in ``text``:
    the city (the first name of "Nuremberg/Nürnberg") and a country code after it (an ISO
    3166 code, not a state's or a province's between them: "Dallas, TX, US"), and the
    groups of the field after the place ("Rust Berlin + Rust Hack"); the line's other words
    ("Virtual", the state code) are no entities."""
    places = _aliases(gazetteer, places=True)
    for line in _LISTING.finditer(text):
        body, offset = line.group(1), line.start(1)
        separator = r"\|" if "|" in body else r" [-\u2013\u2014] "
        fields = _split_at(body, separator)
        if len(fields) < 2:
            continue
        found = _listing_place(fields[0][1], offset + fields[0][0], places)
        if found is None:
            continue
        groups = _listing_groups(fields[1][1], offset + fields[1][0], pipe=separator == r"\|")
        # A group known to the gazetteer ("RustConf") keeps its id.
        known = _aliases(gazetteer)
        found += [(s, e, label, known.get(text[s:e], ent_id)) for s, e, label, ent_id in groups]
        # The fields up to the group's name are the listing's; a title after it is text.
        yield line.start(), max([line.start(), *(name[1] for name in found)]), found


_ALIASES: dict[tuple[str, bool], dict[str, str]] = {}


def _aliases(gazetteer: Gazetteer, *, places: bool = False) -> dict[str, str]:
    """The gazetteer's ids by alias as written ("UK" -> united-kingdom), of its places only
    or of every entry; built once per gazetteer."""
    key = (gazetteer.fingerprint, places)
    if key not in _ALIASES:
        _ALIASES[key] = {
            alias: entry.id
            for entry in gazetteer.entries.values()
            if entry.kind == "place" or not places
            for alias in entry.aliases
        }
    return _ALIASES[key]


def _listing_place(field: str, offset: int, places: dict[str, str]) -> list[_Rule] | None:
    """The names of a listing's place field ("Virtual (Dallas, TX, US)", "Leeds, UK + Virtual",
    "Virtual"), or None when the field is no place: every part a capitalised name or a code,
    and either a country (its code or its name) last or an online event."""
    parts = [
        (offset + m.start() + len(m.group(0)) - len(m.group(0).lstrip()), m.group(0).strip())
        for m in re.finditer(r"[^,()+]+", _ONLINE.sub(lambda w: " " * len(w.group(0)), field))
    ]
    parts = [(start, part) for start, part in parts if part]
    country = _country_id(parts[-1][1], places) if parts else None
    if not (country or _ONLINE.search(field)) or len(parts) > 4:
        return None
    found: list[_Rule] = []
    for number, (start, part) in enumerate(parts):
        if number == len(parts) - 1 and country:
            found.append((start, start + len(part), "GPE", country))
        elif _CODE_PART.fullmatch(part):
            continue  # a state's or a province's code: "TX" of "Dallas, TX, US"
        elif _PLACE_PART.fullmatch(part):
            name = part.split("/")[0]  # "Nuremberg/Nürnberg": one city, two spellings
            found.append((start, start + len(name), "GPE", normalise(name)))
        else:
            return None
    return found


def _country_id(name: str, places: dict[str, str]) -> str | None:
    """The id of a country written as its code or its name ("DE", "Germany", "UK"; the
    gazetteer's first), or None."""
    codes = country_codes()
    if name in places:
        return places[name]
    if name in codes:
        return normalise(codes[name])
    return normalise(name) if name in codes.values() else None


# A group's name: capitalised words (or emoji, numbers, "&", "+", "/") and a few joining
# words ("Women in Rust", "Rust and C++ Cardiff"); a talk's title there instead ("Workshop at
# Linux Summit", "Fluence: interface-types for WebAssembly") is no group.
_GROUP_NAME = re.compile(
    r"(?=.*[A-Z])(?:(?:and|of|the|in|de|du|des|la|le|y|und)\b|[^\s:()\[\]<>#a-z][^\s:()\[\]<>#]*+"
    r"|[\s/&+-])+"
)


def _listing_groups(field: str, offset: int, *, pipe: bool) -> list[_Rule]:
    """The groups named in a listing's field after the place: each of "Rust Berlin +
    OpenTechSchool Berlin"; in a line of " - " fields the name ends at a comma, a full stop
    or a month ("Rust Leeds August")."""
    found: list[_Rule] = []
    for at, name in _split_at(field, r" \+ "):
        start = offset + at
        if not pipe:
            name = re.split(r",\s|\.(?:\s|$)", name)[0]
        words = name.split()
        while words and words[-1].rstrip(".") in CALENDAR_WORDS:
            words.pop()
        stripped = " ".join(words).rstrip(".")
        if not _GROUP_NAME.fullmatch(stripped) or len(words) > 8:
            continue
        start += name.index(stripped[:1])
        found.append((start, start + len(stripped), "ORG", normalise(stripped)))
    return found


def _overlaps(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(other_start < end and start < other_end for other_start, other_end in spans)


def layout_rows(
    entities: list[RawEntity], source_text: str, gazetteer: Gazetteer
) -> tuple[list[dict[str, Any]], list[RawEntity]]:
    """The rows of the names that the text's layout marks (:func:`listing_names`,
    :func:`marked_names`) and the pipeline's spans that remain: none on a listing's fields,
    only people and places and gazetteer names on the event's title under it, none over a
    marked name (which gives way to a gazetteer name, and a capitalised one to any)."""
    rows: list[dict[str, Any]] = []
    lines: list[tuple[int, int]] = []
    for line_start, fields_end, names in listing_names(source_text, gazetteer):
        lines.append((line_start, fields_end))
        rows += [_layout_row(source_text, *name, gazetteer=gazetteer) for name in names]
    kept = [entity for entity in entities if not _overlaps(entity[3], entity[4], lines)]
    titles = [_title_after(source_text, end, lines) for _, end in lines]
    kept = [
        (text, label, ent_id, start, end)
        for text, label, ent_id, start, end in kept
        if ent_id or label in TITLE_NAMES or not _overlaps(start, end, titles)
    ]
    known = [(s, e) for _, _, ent_id, s, e in kept if ent_id and not ent_id.endswith(AMBIGUOUS)]
    spans = [(start, end) for _, _, _, start, end in kept]
    credited: list[tuple[int, int]] = []
    for start, end, label in marked_names(source_text):
        # A capitalised name is the model's to label ("Thanks to Acme for": an ORG), a handle
        # in lower case is this rule's; a gazetteer name stays either way.
        taken = spans if source_text[start].isupper() else known
        if _overlaps(start, end, lines + taken + credited):
            continue
        credited.append((start, end))
        name = normalise(source_text[start:end].lstrip("@"))
        rows.append(_layout_row(source_text, start, end, label, name, gazetteer=gazetteer))
    kept = [entity for entity in kept if not _overlaps(entity[3], entity[4], credited)]
    return rows, kept


# An event's title, on the line after its listing, is a headline of Title Case words that the
# model takes for organisations or works ("Social Distancing", "Hack and Learn", "Chapter 5 -
# Project Structure"); the people and places in it are still names.
TITLE_NAMES = frozenset({"PERSON", "GPE", "LOC"})
# More words than this make a paragraph after the listing, not an event's title.
LONGEST_TITLE = 12
_NEXT_LINE = re.compile(r"[^\n]*\n\s*([^\n]+)")


def _title_after(text: str, end: int, lines: list[tuple[int, int]]) -> tuple[int, int]:
    """The span of the next line with text after ``end`` (an empty span when there is
    none, when that line is a listing's too or a paragraph)."""
    following = _NEXT_LINE.match(text, end)
    if (
        following is None
        or _overlaps(*following.span(1), lines)
        or len(following.group(1).split()) > LONGEST_TITLE
    ):
        return (end, end)
    return following.span(1)


def _layout_row(
    text: str, start: int, end: int, label: str, entity_id: str, *, gazetteer: Gazetteer
) -> dict[str, Any]:
    entry = gazetteer.entries.get(entity_id)
    # ``layout`` marks the row for merge_post_variants (never a column: the frame drops it).
    return {
        "text": text[start:end],
        "label": entry.label if entry else label,
        "entity_id": entity_id,
        "start_char": start,
        "end_char": end,
        "source": "gazetteer" if entry else "model",
        "layout": True,
    }


# Links whose address names a project: a forge's repository (/owner/NAME/...) or a package
# index's package. The host and the path part before the name, and the name's place.
_PROJECT_HOSTS: dict[str, tuple[str | None, int]] = {
    "github.com": (None, 1),
    "gitlab.com": (None, 1),
    "codeberg.org": (None, 1),
    "bitbucket.org": (None, 1),
    "git.sr.ht": (None, 1),
    "crates.io": ("crates", 1),
    "lib.rs": ("crates", 1),
    "docs.rs": (None, 0),
    "pypi.org": ("project", 1),
    "www.npmjs.com": ("package", 1),
    "npmjs.com": ("package", 1),
    "pkg.go.dev": (None, 0),
    "rubygems.org": ("gems", 1),
    "hex.pm": ("packages", 1),
}
_LINK_WORD = re.compile(r"(?<![\w./-])[A-Za-z][A-Za-z0-9_.+-]*[A-Za-z0-9+](?![\w/])")
# The shortest project name this rule takes: shorter ones are abbreviations or words.
SHORTEST_PROJECT = 3


def _project_key(name: str) -> str:
    return re.sub(r"[-_.]", "", name.lower())


def _in_dictionary(name: str, words: frozenset[str]) -> bool:
    lower = name.lower()
    return lower in words or (lower.endswith("s") and lower[:-1] in words)


def linked_project(url: str) -> str | None:
    """The project a link points at (``https://github.com/org/gitoxide/issues/1`` ->
    gitoxide, ``https://crates.io/crates/bnum`` -> bnum), or None."""
    match = re.match(r"(?i)https?://([^/?#]+)/([^?#]*)", url or "")
    if not match:
        return None
    rule = _PROJECT_HOSTS.get(match.group(1).lower())
    if rule is None:
        return None
    prefix, place = rule
    path = [part for part in match.group(2).split("/") if part]
    if prefix is not None:
        if not path or path[0] != prefix:
            return None
        path = path[1:]
        place -= 1
    if len(path) <= place:
        return None
    name = path[place].removesuffix(".git")
    return name if len(name) >= SHORTEST_PROJECT else None


def link_rows(
    text: str,
    links: list[tuple[str, str]],
    gazetteer: Gazetteer,
    taken: list[tuple[int, int]],
    dictionary: frozenset[str] = frozenset(),
) -> list[dict[str, Any]]:
    """Rows for the words of a link's text that name the project the link points at
    (``[gitoxide - October 2024](https://github.com/GitoxideLabs/gitoxide/...)``, ``[bnum
    v0.8](https://crates.io/crates/bnum)``): the model misses such names, written in lower
    case or as plain words. ``links`` are the text's (link text, url) pairs in order; words
    the gazetteer knows (its own rows name them) or calls generic, and words over a span in
    ``taken``, are left out; so is a word of ``dictionary`` (English words) after the link
    text's first word (the "Reference" of "Language Reference", a link to the repository
    ``reference``: a headline's word; but "Glues v0.4 - MongoDB support" names its project
    first)."""
    known = _gazetteer_keys(gazetteer)
    rows: list[dict[str, Any]] = []
    spans = list(taken)
    cursor = 0
    for label_text, url in links:
        project = linked_project(url)
        at = text.find(label_text, cursor) if label_text else -1
        if at < 0:
            at = text.find(label_text) if label_text else -1
        if at < 0:
            continue
        cursor = at + len(label_text)
        if project is None:
            continue
        key = _project_key(project)
        for word in _LINK_WORD.finditer(label_text):
            name = word.group()
            if (
                _project_key(name) != key
                or key in known
                or generic_key(name) in gazetteer.not_entities
                or (word.start() > 0 and _in_dictionary(name, dictionary))
            ):
                continue
            start, end = at + word.start(), at + word.end()
            if _overlaps(start, end, spans):
                continue
            spans.append((start, end))
            row = _layout_row(text, start, end, "PRODUCT", normalise(name), gazetteer=gazetteer)
            rows.append(row)
    return rows


_GAZETTEER_KEYS: dict[str, frozenset[str]] = {}


def _gazetteer_keys(gazetteer: Gazetteer) -> frozenset[str]:
    """Every form of every gazetteer entry as :func:`_project_key` compares them."""
    keys = _GAZETTEER_KEYS.get(gazetteer.fingerprint)
    if keys is None:
        keys = frozenset(
            _project_key(form)
            for entry in gazetteer.entries.values()
            for form in (entry.id, entry.name, *entry.aliases, *entry.ambiguous)
        )
        _GAZETTEER_KEYS[gazetteer.fingerprint] = keys
    return keys
