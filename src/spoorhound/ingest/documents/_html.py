"""HTML: visible text and link targets, with the standard library's tolerant parser.

``html.parser`` never raises on malformed markup and needs no native dependency;
on a 100 KB advisory it takes a few milliseconds, well below extraction time.
"""

from __future__ import annotations

from html.parser import HTMLParser

from spoorhound.ingest.documents._model import Document, Segment

__all__ = ["html_to_segments", "load_html"]

_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_BLOCK = frozenset(
    [
        "p",
        "div",
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "td",
        "th",
        "table",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "nav",
        "hr",
        "dd",
        "dt",
        "dl",
        "tbody",
        "thead",
        "figure",
        "figcaption",
        "main",
        "aside",
        "form",
        "option",
    ]
)
_LINK_ATTRS = {"a": "href", "area": "href", "iframe": "src", "form": "action", "frame": "src"}


class _Visible(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self.title: list[str] = []
        self._hidden = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HIDDEN:
            self._hidden += 1
        elif tag == "title":
            self._in_title = True
        if tag in _BLOCK:
            self.parts.append("\n")
        attr = _LINK_ATTRS.get(tag)
        if attr:
            for key, value in attrs:
                if key == attr and value and not value.startswith(("#", "javascript:")):
                    self.links.append(value.strip())

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN and self._hidden:
            self._hidden -= 1
        elif tag == "title":
            self._in_title = False
        if tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        elif not self._hidden:
            self.parts.append(data)


def html_to_segments(markup: str, location: str = "body") -> tuple[str, list[Segment]]:
    """Return (title, segments): the visible text as ``location`` and each link target."""
    parser = _Visible()
    parser.feed(markup)
    parser.close()
    text = "".join(parser.parts)
    segments = [Segment(text, location)]
    seen: set[str] = set()
    for link in parser.links:
        if link not in seen:
            seen.add(link)
            segments.append(
                Segment(link, f"{location} link href" if location != "body" else "link href")
            )
    return " ".join("".join(parser.title).split()), segments


def load_html(text: str, name: str) -> Document:
    """An HTML document: visible text (``body``) plus each distinct link target (``link href``)."""
    title, segments = html_to_segments(text)
    return Document(kind="html", title=title or name, segments=segments)
