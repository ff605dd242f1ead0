"""One post body -> sections, links and footnotes, through markdown-it-py's CommonMark parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.rules_inline.link import link as link_rule
from markdown_it.rules_inline.state_inline import StateInline
from markdown_it.token import Token
from mdit_py_plugins.footnote import footnote_plugin

_WORD = re.compile(r"\w", re.UNICODE)
_SKIP_INLINE = {"html_inline", "footnote_ref", "image"}


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


@cache
def parser() -> MarkdownIt:
    """The shared CommonMark parser with footnotes and link-kind tracking."""
    md = MarkdownIt("commonmark").use(footnote_plugin)
    md.inline.ruler.at("link", _link_with_kind)
    return md


class _Anchors(HTMLParser):
    """Collect ``<a href>`` and ``<img src>`` targets from a piece of raw HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"a": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append((tag, value.strip()))


def html_links(html: str) -> list[str]:
    """The ``href``/``src`` targets in raw HTML, in order."""
    anchors = _Anchors()
    try:
        anchors.feed(html)
        anchors.close()
    except (AssertionError, ValueError):
        return []
    return [url for _, url in anchors.urls]


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
                for url in html_links(token.content):
                    self.add_link(Link(0, url, "", "html", footnote is not None, line), footnote)
            index += 1
        self.assign_footnotes()

    def claim(self, footnote: int) -> None:
        if not any(footnote in section.footnote_ids for section in self.sections):
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
        for footnote in self.footnote_text:
            found = owner.get(footnote)
            if found is None:
                found = self.section_at(self.footnote_line.get(footnote, 0))
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

    def section_at(self, line: int) -> Section:
        chosen = self.sections[0]
        for section in self.sections:
            if section.line <= line:
                chosen = section
        return chosen


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


def parse_body(body: str, *, first_line: int = 1) -> tuple[list[Section], list[Link]]:
    """Split a Markdown body into sections and links.

    Every heading starts a section; position 0 holds the text before the first heading
    and is dropped when it has no words and no links. Links inside a footnote belong to
    the first section that references the footnote (or, when none does, to the section
    where the footnote is defined). Code blocks, raw HTML and footnote markers are left
    out of the text; link text is kept.

    Args:
        body: the Markdown after the front matter.
        first_line: the file line the body starts on, so sections carry file lines.
    """
    walker = _Walker(first_line)
    env: dict[str, Any] = {}
    walker.walk(parser().parse(body, env))
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
    return sections, links
