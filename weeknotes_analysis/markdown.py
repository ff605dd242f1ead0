"""One post body -> sections, links and footnotes, through markdown-it-py's CommonMark parser."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from html import unescape
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_block.state_block import StateBlock
from markdown_it.rules_inline.link import link as link_rule
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

_WORD = re.compile(r"\w", re.UNICODE)
# markdown-it's own limit (its CommonMark preset's): past it, it drops the rest of the body.
MAX_NESTING = 20
# Lists open two levels each and footnotes one, so flattening must start two levels earlier.
FLATTEN_LEVEL = MAX_NESTING - 2
_BLOCK_MARKERS = re.compile(
    r"^[ \t]*(?:>[ \t]?|(?:[-+*]|\d{1,9}[.)]|\[\^[^\]\s]+\]:)(?:[ \t]+|$))*"
)


@dataclass
class Section:
    """A heading and the prose under it (position 0: the text before the first heading)."""

    position: int
    heading: str | None
    level: int
    line: int
    blocks: list[str] = field(default_factory=list)
    footnote_ids: list[int] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n\n".join(block for block in self.blocks if block)


@dataclass(frozen=True)
class Defect:
    """Something in a body that was kept in a degraded form (the corpus makes it a warning)."""

    code: str
    message: str
    line: int


@dataclass
class ParsedBody:
    """What :func:`parse_markdown` makes of one body: its sections, its links and its defects."""

    sections: list[Section]
    links: list[Link]
    defects: list[Defect] = field(default_factory=list)


@dataclass
class Link:
    """A link as written: which section it belongs to, where it points, how it was written."""

    position: int
    url: str
    text: str
    kind: str
    in_footnote: bool
    line: int


def _link_with_kind(state: StateInline, silent: bool) -> bool:
    """CommonMark's link rule, recording whether the link was inline or by reference."""
    start, count = state.pos, len(state.tokens)
    matched = link_rule(state, silent)
    if matched and not silent:
        kind = "inline" if state.src[start : state.pos].endswith(")") else "reference"
        for token in state.tokens[count:]:
            if token.type == "link_open":
                token.meta["kind"] = kind
                break
    return matched


def _flatten_too_deep(state: StateBlock, start: int, end: int, silent: bool) -> bool:
    """Past ``FLATTEN_LEVEL``, keep the rest of the nested block as one plain paragraph.

    markdown-it skips everything after its nesting limit; this rule runs first, so the
    text stays (quote and list markers removed) and the body's first line is recorded.
    """
    if silent or state.level < FLATTEN_LEVEL:
        return False
    line = start + 1
    while line < end and (
        state.isEmpty(line) or state.sCount[line] >= state.blkIndent or state.sCount[line] < 0
    ):
        line += 1
    while line > start + 1 and state.isEmpty(line - 1):
        line -= 1
    raw = state.getLines(start, line, state.blkIndent, False)
    state.line = line
    opening = state.push("paragraph_open", "p", 1)
    opening.map = [start, line]
    inline = state.push("inline", "", 0)
    inline.content = "\n".join(_BLOCK_MARKERS.sub("", row) for row in raw.split("\n")).strip()
    inline.map = [start, line]
    inline.children = []
    state.push("paragraph_close", "p", -1)
    state.env.setdefault("flattened", []).append(start)
    return True


# An http(s) URL of these characters only is left as it is by markdown-it's normalizeLink
# (nothing to percent-encode, an ASCII host name): the common case, skipped for speed.
_PLAIN_URL = re.compile(r"https?://[A-Za-z0-9.\-]+(?:[:/?#][A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*)?")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _normalize_link(normalize: Callable[[str], str]) -> Callable[[str], str]:
    def fast(url: str) -> str:
        if _PLAIN_URL.fullmatch(url) and not _ESCAPE.search(url):
            return url
        return normalize(url)

    return fast


@cache
def parser() -> MarkdownIt:
    """The shared CommonMark parser with footnotes, link-kind tracking and deep-text keeping."""
    md = MarkdownIt("commonmark", {"maxNesting": MAX_NESTING}).use(footnote_plugin)
    md.normalizeLink = _normalize_link(md.normalizeLink)  # type: ignore[method-assign,assignment]
    md.inline.ruler.at("link", _link_with_kind)
    md.block.ruler.before("table", "flatten_too_deep", _flatten_too_deep)
    return md


# Tag and attribute patterns that never look past the next ``<``: html.parser takes
# quadratic time on unclosed tags and comments, which a hostile file can hold by the MB.
_LINK_TAG = re.compile(r"""<(a|img)(?=[\s/>])((?:[^<>"']|"[^"<]*"|'[^'<]*')*)>""", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([^\s"'<>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]*)))?""")
_RAW_TEXT = re.compile(r"<!--|<(script|style)(?=[\s/>])", re.IGNORECASE)


def _outside_raw_text(html: str) -> str:
    """``html`` without comments and script/style content, where tags are not tags."""
    kept: list[str] = []
    position = 0
    while (found := _RAW_TEXT.search(html, position)) is not None:
        kept.append(html[position : found.start()])
        if found.group(1) is None:
            closing = html.find("-->", found.end())
            position = -1 if closing < 0 else closing + 3
        else:
            closing_tag = re.compile(rf"</{found.group(1)}\s*>", re.IGNORECASE)
            after = closing_tag.search(html, found.end())
            position = -1 if after is None else after.end()
        if position < 0:
            return " ".join(kept)
        kept.append(" ")
    kept.append(html[position:])
    return "".join(kept)


def html_links(html: str) -> list[str]:
    """The ``<a href>`` and ``<img src>`` targets in raw HTML, in order (linear time)."""
    urls = []
    for tag in _LINK_TAG.finditer(_outside_raw_text(html)):
        wanted = "href" if tag.group(1).lower() == "a" else "src"
        for attribute in _ATTRIBUTE.finditer(tag.group(2)):
            if attribute.group(1).lower() == wanted:
                value = next((v for v in attribute.groups()[1:] if v is not None), "")
                url = unescape(value).strip()
                # The same test CommonMark applies to its own links: no javascript: and the like.
                if url and parser().validateLink(url):
                    urls.append(url)
                    break
    return urls


def count_words(text: str) -> int:
    """Whitespace-separated tokens holding at least one letter or digit."""
    return sum(1 for token in text.split() if _WORD.search(token))


class _Walker:
    """Walk markdown-it tokens once, filling sections, links and footnotes."""

    def __init__(self, first_line: int) -> None:
        self.first_line = first_line
        self.sections = [Section(0, None, 0, first_line)]
        self.links: list[Link] = []
        self.footnote_text: dict[int, list[str]] = {}
        self.footnote_links: dict[int, list[Link]] = {}
        self.footnote_line: dict[int, int] = {}
        self.claimed: set[int] = set()

    def line_of(self, token: Token) -> int:
        return self.first_line + (token.map[0] if token.map else 0)

    def walk(self, tokens: list[Token]) -> None:
        footnote: int | None = None
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if token.type == "heading_open":
                inline = tokens[index + 1]
                heading, _ = self.inline_text(inline, None)
                heading = _HEADING_ATTRIBUTES.sub("", heading)
                position = len(self.sections)
                level = int(token.tag[1:]) if token.tag[1:].isdigit() else 1
                self.sections.append(Section(position, heading, level, self.line_of(token)))
                self.collect_links(inline, footnote)
                index += 3
                continue
            if token.type == "footnote_open":
                footnote = int(token.meta["id"])
                self.footnote_text.setdefault(footnote, [])
                self.footnote_links.setdefault(footnote, [])
            elif token.type == "footnote_close":
                footnote = None
            elif token.type == "inline":
                text, refs = self.inline_text(token, footnote)
                if footnote is None:
                    self.sections[-1].blocks.append(text)
                    for ref in refs:
                        self.claim(ref)
                else:
                    self.footnote_text[footnote].append(text)
                    self.footnote_line.setdefault(footnote, self.line_of(token))
                self.collect_links(token, footnote)
            elif token.type == "html_block":
                line = self.line_of(token)
                html_heading = _html_heading(token.content)
                if html_heading is not None and footnote is None:
                    level, title = html_heading
                    self.sections.append(Section(len(self.sections), title, level, line))
                for url in html_links(token.content):
                    self.add_link(Link(0, url, "", "html", footnote is not None, line), footnote)
            index += 1
        self.assign_footnotes()

    def claim(self, footnote: int) -> None:
        if footnote not in self.claimed:
            self.claimed.add(footnote)
            self.sections[-1].footnote_ids.append(footnote)

    def inline_text(self, token: Token, footnote: int | None) -> tuple[str, list[int]]:
        parts: list[str] = []
        refs: list[int] = []
        for child in token.children or []:
            if child.type in ("text", "code_inline"):
                parts.append(child.content)
            elif child.type == "softbreak":
                parts.append(" ")
            elif child.type == "hardbreak":
                parts.append("\n")
            elif child.type == "footnote_ref":
                refs.append(int(child.meta["id"]))
        return "".join(parts).strip(), refs

    def collect_links(self, token: Token, footnote: int | None) -> None:
        line = self.line_of(token)
        in_footnote = footnote is not None
        children = token.children or []
        for index, child in enumerate(children):
            if child.type == "link_open":
                url = str(child.attrs.get("href", ""))
                kind = (
                    "autolink" if child.markup == "autolink" else child.meta.get("kind", "inline")
                )
                text = _text_until(children, index + 1, "link_close")
                self.add_link(Link(0, url, text, kind, in_footnote, line), footnote)
            elif child.type == "image":
                url = str(child.attrs.get("src", ""))
                self.add_link(Link(0, url, child.content, "image", in_footnote, line), footnote)
            elif child.type == "html_inline":
                for url in html_links(child.content):
                    text = _text_until(children, index + 1, "html_inline")
                    self.add_link(Link(0, url, text, "html", in_footnote, line), footnote)

    def add_link(self, link: Link, footnote: int | None) -> None:
        if footnote is None:
            link.position = self.sections[-1].position
            self.links.append(link)
        else:
            self.footnote_links[footnote].append(link)

    def assign_footnotes(self) -> None:
        owner: dict[int, Section] = {}
        for section in self.sections:
            for footnote in section.footnote_ids:
                owner.setdefault(footnote, section)
        starts = [section.line for section in self.sections]
        for footnote in self.footnote_text:
            found = owner.get(footnote)
            if found is None:
                found = self.section_at(starts, self.footnote_line.get(footnote, 0))
                found.footnote_ids.append(footnote)
            section = found
            for link in self.footnote_links.get(footnote, []):
                link.position = section.position
                self.links.append(link)
        for section in self.sections:
            section.footnotes = [
                " ".join(self.footnote_text.get(footnote, [])).strip()
                for footnote in section.footnote_ids
            ]

    def section_at(self, starts: list[int], line: int) -> Section:
        """The last section starting at or before ``line`` (``starts``: their lines, sorted)."""
        return self.sections[max(bisect_right(starts, line) - 1, 0)]


def _text_until(children: list[Token], start: int, closing: str) -> str:
    parts = []
    for child in children[start:]:
        if child.type == closing:
            break
        if child.type in ("text", "code_inline"):
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append(" ")
    return "".join(parts).strip()


# Template markup of static-site generators, which is no prose. Every pattern stops at the end
# of its line and at the next tag's opening, so that a line of unclosed tags costs linear time.
# Inside a Liquid tag ({% ... %}) or a Hugo shortcode ({{< ... >}}, {{% ... %}}):
_IN_LIQUID = r"(?:[^\n%{]|%(?!\})|\{(?!%))*"
_IN_SHORTCODE = r"(?:[^\n{>%]|[>%](?!\}\})|\{(?!\{))*"
# Blocks whose inside is code or a comment go whole: Liquid's (Jekyll) {% highlight %},
# {% raw %}, {% comment %}, and Hugo's {{< highlight >}} and {{< code >}}; each opening tag is
# matched to the next closing tag of its kind (see _strip_blocks).
_BLOCK_OPEN = re.compile(
    rf"\{{%-?[ \t]*(highlight|raw|comment)\b{_IN_LIQUID}%\}}"
    rf"|\{{\{{[<%][ \t]*(highlight|code)\b{_IN_SHORTCODE}[>%]\}}\}}"
)
_BLOCK_END = {
    **{
        kind: re.compile(rf"\{{%-?\s*end{kind}\s*-?%\}}")
        for kind in ("highlight", "raw", "comment")
    },
    **{
        f"/{kind}": re.compile(rf"\{{\{{[<%]\s*/\s*{kind}\s*[>%]\}}\}}")
        for kind in ("highlight", "code")
    },
}
# One part of a kramdown attribute list: a class or an id of two letters or more, or a key and
# its value (not the format specs of Rust and Python, "{:?}", "{:#?}", "{:#x}", "{:>8}",
# written in prose as often as in code, nor Ruby's "{:key=>1}"); on one line.
_IAL_PART = r"""(?:[.#][A-Za-z][\w-]+|[A-Za-z][\w-]*=(?!>)(?:"[^"\n]*"|'[^'\n]*'|[^\s{}]+))"""
# Other tags go, the text between a pair stays ({{% notice %}}...{{% /notice %}}): Liquid tags
# ({% include toc.html %}), Hugo shortcodes ({{< figure src=... >}}), Liquid or Go template
# output written with spaces inside ({{ page.title }}; not "{{}}" in a format string), and
# kramdown's attribute lists (Jekyll's Markdown: [a link](url){:target="_blank"}, {: .note}).
_TEMPLATE_TAG = re.compile(
    rf"\{{%{_IN_LIQUID}%\}}|\{{\{{[<%]{_IN_SHORTCODE}[>%]\}}\}}"
    r"|\{\{-?[ \t][^{}\n]*?[ \t]-?\}\}"
    rf"|\{{:[ \t]*{_IAL_PART}(?:[ \t]+{_IAL_PART})*[ \t]*\}}"
)

# A heading's own attribute list at its end, an id or classes for the page ("## Outage {#outage}",
# "## Notes {.aside}", kramdown's "{: #id}"): Hugo, kramdown and Pandoc read it as no part of
# the heading's text.
_HEADING_ATTRIBUTES = re.compile(
    rf"[ \t]*\{{:?[ \t]*{_IAL_PART}(?:[ \t]+{_IAL_PART})*[ \t]*\}}[ \t]*$"
)

# A heading written in HTML (<h2>Outage</h2>, as posts moved from WordPress have them) at the
# start of an HTML block; the tags inside it are no part of its text.
_HTML_HEADING = re.compile(
    r"\s*<h([1-6])(?:\s[^<>]*)?>([^<]*(?:<(?!/h\1\s*>)[^<]*)*)</h\1\s*>", re.IGNORECASE
)
_HTML_TAG = re.compile(r"<[^<>]*>")


def _html_heading(html: str) -> tuple[int, str] | None:
    """``(level, text)`` of the HTML heading an HTML block starts with, when it has words."""
    match = _HTML_HEADING.match(html)
    if match is None:
        return None
    text = " ".join(unescape(_HTML_TAG.sub(" ", match.group(2))).split())
    return (int(match.group(1)), text) if text else None


def _blank(text: str) -> str:
    return "\n" * text.count("\n")


def _strip_blocks(body: str) -> str:
    """``body`` without its code and comment blocks (:data:`_BLOCK_OPEN` to the next closing
    tag of its kind), each left as its line breaks; an opening tag never closed stays (and
    goes as a tag). Each kind's closing tag is looked for once past the last one found."""
    parts: list[str] = []
    done = 0
    unclosed: set[str] = set()
    for opening in _BLOCK_OPEN.finditer(body):
        kind = opening.group(1) or f"/{opening.group(2)}"
        if opening.start() < done or kind in unclosed:
            continue
        closing = _BLOCK_END[kind].search(body, opening.end())
        if closing is None:
            unclosed.add(kind)
            continue
        parts += [body[done : opening.start()], _blank(body[opening.start() : closing.end()])]
        done = closing.end()
    return "".join([*parts, body[done:]])


def strip_templates(body: str) -> str:
    """``body`` without the template markup of Jekyll (Liquid, kramdown's attribute lists) and
    Hugo (shortcodes), each removed tag or block leaving its line breaks, so that lines keep
    their numbers."""
    if "{%" not in body and "{{" not in body and "{:" not in body:
        return body
    return _TEMPLATE_TAG.sub(lambda match: _blank(match.group()), _strip_blocks(body))


def parse_markdown(body: str, *, first_line: int = 1) -> ParsedBody:
    """Split a Markdown body into sections and links, noting what had to be degraded.

    Every heading starts a section; position 0 holds the text before the first heading
    and is dropped when it has no words and no links. Links inside a footnote belong to
    the first section that references the footnote (or, when none does, to the section
    where the footnote is defined). Code blocks, raw HTML and footnote markers are left
    out of the text, as is the template markup of Jekyll and Hugo (:func:`strip_templates`);
    link text is kept. Quotes and lists nested deeper than the parser's
    limit are kept as plain paragraphs, with a ``markdown-too-deep`` defect.

    Args:
        body: the Markdown after the front matter.
        first_line: the file line the body starts on, so sections carry file lines.
    """
    walker = _Walker(first_line)
    env: dict[str, Any] = {}
    walker.walk(parser().parse(strip_templates(body), env))
    sections, links = walker.sections, walker.links
    intro = sections[0]
    if count_words(intro.text) == 0 and len(sections) > 1:
        # The contract keeps position 0 only when it has words; anything it held moves on.
        following = sections[1]
        following.footnote_ids[:0] = intro.footnote_ids
        following.footnotes[:0] = intro.footnotes
        for link in links:
            if link.position == 0:
                link.position = following.position
        sections = sections[1:]
    elif count_words(intro.text) == 0 and not links and not intro.footnotes:
        sections = []
    defects = []
    flattened = env.get("flattened", [])
    if flattened:
        defects.append(
            Defect(
                "markdown-too-deep",
                f"block quotes nested more than {FLATTEN_LEVEL - 1} deep or lists more than "
                f"{FLATTEN_LEVEL // 2 - 1} deep ({len(flattened)} place(s)); the deeper text "
                "is kept as plain paragraphs (un-nest it to keep its structure)",
                first_line + min(flattened),
            )
        )
    return ParsedBody(sections, links, defects)
