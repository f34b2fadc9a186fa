"""Description hygiene: HTML out, Markdown kept, bounded length."""

from __future__ import annotations

import html
import re

_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)\b[^<>]*?(/?)\s*>|<!--.*?-->", re.S)
_BLOCK = frozenset({"p", "div", "br", "li", "ul", "ol", "table", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                    "pre", "blockquote", "dl", "dt", "dd", "hr"})
_SPACES = re.compile(r"[ \t]+")
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n){2,}")
ELLIPSIS = " …"


# Only these count as HTML: `List<T>` or `<id>` in prose are not tags.
_HTML = frozenset({"a", "abbr", "article", "b", "big", "blockquote", "br", "caption", "center", "cite", "code",
                   "col", "colgroup", "dd", "del", "details", "dfn", "div", "dl", "dt", "em", "figcaption", "figure",
                   "font", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i", "img", "ins", "kbd",
                   "label", "li", "mark", "nav", "ol", "p", "pre", "q", "s", "samp", "section", "small", "span",
                   "strike", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
                   "tt", "u", "ul", "var"}) | _BLOCK


def _tag(m: re.Match[str]) -> str:
    if m.group(2) is None:
        return ""  # a comment
    name = m.group(2).lower()
    if name not in _HTML:
        return m.group(0)
    if name == "li":
        return "" if m.group(1) else "\n- "
    return "\n" if name in _BLOCK else ""


def strip_html(text: str) -> str:
    """Tags removed (block tags become line breaks), entities decoded, whitespace tidied.

    Only text that looks like HTML is touched, so Markdown such as `a < b` or `<T>` generics
    mostly survives; a `<` that opens a real tag name is taken as HTML.
    """
    tags = 0
    if "<" in text:
        text, tags = _TAG.subn(_tag, text)
    if "&" in text:
        text = html.unescape(text)
    if tags and "\n" in text:
        # Only where tags were: the spaces HTML leaves around them. Markdown indentation elsewhere
        # (nested lists, code blocks) means something.
        text = "\n".join(line.strip() for line in text.split("\n"))
    if "\t" in text or "  " in text:
        text = _SPACES.sub(" ", text) if tags else text
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def truncate(text: str, limit: int) -> str:
    if limit <= 0 or len(text) <= limit:
        return text
    cut = text[: max(limit - len(ELLIPSIS), 0)]
    space = cut.rfind(" ")
    if space > len(cut) * 0.8:  # end on a word boundary when that loses little
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def clean(text: object, limit: int) -> str:
    if not isinstance(text, str) or not text:
        return ""
    return truncate(strip_html(text), limit)


def one_line(text: object, limit: int = 200) -> str:
    return truncate(" ".join(clean(text, 0).split()), limit)


def combine(summary: object, description: object, limit: int) -> str:
    """summary + description, without repeating a description that merely restates the summary."""
    head = one_line(summary, limit)
    body = strip_html(description) if isinstance(description, str) else ""
    if head and body and not body.startswith(head.rstrip(".")):
        return truncate(f"{head}\n\n{body}", limit)
    return truncate(body or head, limit)
