"""Go text/template's lexer (text/template/parse/lex.go), for `{{ }}` delimiters.

Besides Go's items it recognises an action written in Jinja (`{{ args.x }}`, `{{ _headers[':status'] }}`):
one that starts with a name Go does not know, followed by something that cannot be a Go argument.
Such an action is kept whole and rendered by Jinja against the template's data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mcpgw.gotemplate.errors import TemplateSyntax

KEYWORDS = frozenset({"block", "break", "continue", "define", "else", "end", "if", "range", "nil",
                      "template", "with"})
_SPACE = " \t\r\n"
_IDENT = re.compile(r"[^\W\d]\w*|_\w*", re.UNICODE)
_NUMBER = re.compile(r"[+-]?(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)i?")
_CHAR = re.compile(r"'(\\.[^']*|[^\\'\n])'")
_WORD = re.compile(r"\w*", re.UNICODE)
_JINJA_WORDS = frozenset({"and", "or", "not", "in", "is", "if", "else"})


@dataclass(slots=True)
class Item:
    kind: str  # text, left, right, space, field, var, ident, keyword, bool, string, number, char,
    # dot, pipe, lparen, rparen, declare, assign, comma, comment, jinja, eof
    val: str
    pos: int


def _starts_jinja(src: str, i: int, known: frozenset[str]) -> bool:
    """Whether the action body starting at `i` is a Jinja expression rather than Go."""
    while i < len(src) and src[i] in _SPACE:
        i += 1
    m = _IDENT.match(src, i)
    if not m or m.group() in KEYWORDS or m.group() in ("true", "false"):
        return False
    after = src[m.end():m.end() + 1]
    if m.group() in known:
        return after == "("  # `toJson(args.x)`: a call Go cannot parse, Jinja's syntax
    if after and after in ".[(|~+*/%=<>!":
        return True
    rest = src[m.end():].lstrip(_SPACE)
    if rest.startswith(("}}", "-}}")):
        return True
    word = _IDENT.match(rest)
    if word and word.group() in _JINJA_WORDS:
        return True
    return bool(rest[:1]) and rest[0] in "[|~+*/%=<>!"


def _jinja_end(src: str, i: int) -> int:
    """Index of the `}}` closing a Jinja expression, skipping its string literals."""
    while i < len(src):
        ch = src[i]
        if ch in "'\"":
            end = i + 1
            while end < len(src) and src[end] != ch:
                end += 2 if src[end] == "\\" else 1
            i = end + 1
            continue
        if src.startswith("}}", i):
            return i
        i += 1
    raise TemplateSyntax("unclosed action")


def lex(src: str, known: frozenset[str]) -> list[Item]:
    items: list[Item] = []
    pos = 0
    trim_next = False
    while True:
        start = src.find("{{", pos)
        chunk = src[pos:] if start < 0 else src[pos:start]
        if trim_next:
            chunk = chunk.lstrip(_SPACE)
        if start < 0:
            if chunk:
                items.append(Item("text", chunk, pos))
            items.append(Item("eof", "", len(src)))
            return items
        i = start + 2
        trim_left = src[i:i + 1] == "-" and src[i + 1:i + 2] != "" and src[i + 1:i + 2] in _SPACE
        if trim_left:
            chunk = chunk.rstrip(_SPACE)
            i += 2
        if chunk:
            items.append(Item("text", chunk, pos))
        pos, trim_next = _action(src, i, start, items, known)


def _right(src: str, i: int) -> tuple[bool, int] | None:
    """At `i`: ` -}}` (trim) or `}}`: (trim, index after the delimiter)."""
    j = i
    while j < len(src) and src[j] in _SPACE:
        j += 1
    if j > i and src.startswith("-}}", j):
        return True, j + 3
    if src.startswith("}}", i):
        return False, i + 2
    return None


def _action(src: str, i: int, start: int, items: list[Item], known: frozenset[str]) -> tuple[int, bool]:
    """Lex one action from `i` (after `{{` and any trim marker); return (next position, trim after)."""
    if src.startswith("/*", i):  # Go: a comment opens right after `{{` or `{{- `
        end = src.find("*/", i)
        if end < 0:
            raise TemplateSyntax("unclosed comment")
        closing = _right(src, end + 2)
        if closing is None:
            raise TemplateSyntax("comment ends before closing delimiter")
        items.append(Item("comment", src[i:end + 2], start))
        return closing[1], closing[0]
    if _starts_jinja(src, i, known):
        end = _jinja_end(src, i)
        expr = src[i:end]
        trim = expr.rstrip(_SPACE).endswith("-")
        if trim:
            expr = expr.rstrip(_SPACE)[:-1]
        items.append(Item("jinja", expr.strip(), start))
        return end + 2, trim
    items.append(Item("left", "{{", start))
    depth = 0
    while True:
        if i >= len(src):
            raise TemplateSyntax("unclosed action")
        closing = _right(src, i)
        if closing is not None:
            if depth:
                raise TemplateSyntax("unclosed left paren")
            items.append(Item("right", "}}", i))
            return closing[1], closing[0]
        ch = src[i]
        if ch in _SPACE:
            j = i
            while j < len(src) and src[j] in _SPACE:
                j += 1
            items.append(Item("space", src[i:j], i))
            i = j
        elif src.startswith(":=", i):
            items.append(Item("declare", ":=", i))
            i += 2
        elif ch == "=":
            items.append(Item("assign", "=", i))
            i += 1
        elif ch == "|":
            items.append(Item("pipe", "|", i))
            i += 1
        elif ch == "(":
            depth += 1
            items.append(Item("lparen", "(", i))
            i += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise TemplateSyntax("unexpected right paren")
            items.append(Item("rparen", ")", i))
            i += 1
        elif ch == '"':
            i = _quoted(src, i, items)
        elif ch == "`":
            end = src.find("`", i + 1)
            if end < 0:
                raise TemplateSyntax("unterminated raw quoted string")
            items.append(Item("string", src[i:end + 1], i))
            i = end + 1
        elif ch == "'":
            m = _CHAR.match(src, i)
            if not m:
                raise TemplateSyntax("unterminated character constant")
            items.append(Item("char", m.group(), i))
            i = m.end()
        elif ch in "$." and (ch == "$" or not src[i + 1:i + 2].isdigit()):
            m = _WORD.match(src, i + 1)
            assert m is not None
            name = m.group()
            if not _terminator(src, m.end()):
                raise TemplateSyntax(f"bad character {src[m.end()]!r}")
            kind = "var" if ch == "$" else ("field" if name else "dot")
            items.append(Item(kind, ch + name, i))
            i = m.end()
        elif ch in "+-." or ch.isdigit():
            m = _NUMBER.match(src, i)
            if not m or not m.group() or m.group() in "+-." or _IDENT.match(src, m.end()):
                raise TemplateSyntax(f"bad number syntax: {src[i:i + 10]!r}")
            items.append(Item("number", m.group(), i))
            i = m.end()
        elif _IDENT.match(src, i):
            m = _IDENT.match(src, i)
            assert m is not None
            word = m.group()
            if not _terminator(src, m.end()):
                raise TemplateSyntax(f"bad character {src[m.end()]!r}")
            kind = "keyword" if word in KEYWORDS else "bool" if word in ("true", "false") else "ident"
            items.append(Item(kind, word, i))
            i = m.end()
        elif ch == ",":
            items.append(Item("comma", ",", i))
            i += 1
        else:
            raise TemplateSyntax(f"unrecognized character in action: {ch!r}")


def _terminator(src: str, i: int) -> bool:
    ch = src[i:i + 1]
    return ch == "" or ch in _SPACE or ch in ".,|:)(" or src.startswith("}}", i)


def _quoted(src: str, i: int, items: list[Item]) -> int:
    j = i + 1
    while j < len(src):
        ch = src[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "\n":
            break
        if ch == '"':
            items.append(Item("string", src[i:j + 1], i))
            return j + 1
        j += 1
    raise TemplateSyntax("unterminated quoted string")
