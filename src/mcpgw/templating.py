"""Tool templates: the Higress (Go text/template) forms, rendered by jinja2's immutable sandbox.

Operators write `{{.args.x}}`, `{{.config.x}}`, `{{toJson .args.x}}` or `{{if .args.x}}…{{end}}` as in
Higress, or plain Jinja (`{{ args.x }}`). `translate` rewrites the Go forms to Jinja; the sandbox then
refuses access to Python internals (`__class__`, `mro`, …) and any mutation.

URL templates are stricter: every value an expression yields is percent-encoded unless it comes
straight from the server's `config`, and the scheme, host and port must not depend on arguments.
Both the registry (to validate) and toolexec (to render) use this module.
"""

from __future__ import annotations

import base64
import re
import shlex
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import jinja2.meta
import msgspec
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mcpgw.contracts.errors import invalid

_ACTION = re.compile(r"\{\{(-?)(.*?)(-?)\}\}", re.S)
_DOT_PATH = re.compile(r"(^|[\s(|,!])\.([A-Za-z_][\w]*)")
_ARG_MARK = "\x00arg\x00"


def _to_json(value: Any) -> str:
    if isinstance(value, jinja2.Undefined):
        return "null"
    return msgspec.json.encode(value).decode()


def _default(fallback: Any, value: Any = None) -> Any:
    """Sprig's `default FALLBACK VALUE`: the value unless it is empty."""
    if value is None or isinstance(value, jinja2.Undefined) or value in ("", [], {}, 0, False):
        return fallback
    return value


def _b64enc(value: Any) -> str:
    return base64.b64encode(str(value).encode()).decode()


def _b64dec(value: Any) -> str:
    return base64.b64decode(str(value).encode()).decode(errors="replace")


def _urlquery(value: Any) -> str:
    return quote(str(value), safe="")


FUNCTIONS: dict[str, Any] = {
    "toJson": _to_json,
    "default": _default,
    "b64enc": _b64enc,
    "b64dec": _b64dec,
    "urlquery": _urlquery,
    "upper": lambda v: str(v).upper(),
    "lower": lambda v: str(v).lower(),
    "trim": lambda v: str(v).strip(),
}
_BLOCK_OPEN = {"if": "if", "with": "if", "range": "for"}


def _translate_expr(expr: str) -> str:
    """One Go template pipeline -> one Jinja expression."""
    expr = _DOT_PATH.sub(lambda m: m.group(1) + m.group(2), expr.strip())
    if "|" in expr:  # Go `x | f` passes x as the last argument of f
        head, *fns = [part.strip() for part in expr.split("|")]
        out = _translate_expr(head)
        for fn in fns:
            words = fn.split(None, 1)
            if words and words[0] in FUNCTIONS:
                extra = _call_args(words[1]) if len(words) > 1 else []
                out = f"{words[0]}({', '.join([*extra, out])})"
            else:
                out = f"{out} | {fn}"
        return out
    words = expr.split(None, 1)
    if len(words) == 2 and words[0] in FUNCTIONS:
        return f"{words[0]}({', '.join(_call_args(words[1]))})"
    return expr


def _call_args(text: str) -> list[str]:
    try:
        parts = shlex.split(text, posix=False)
    except ValueError:
        parts = text.split()
    return [_translate_expr(p) if not p.startswith(("'", '"')) else p for p in parts]


def translate(source: str) -> str:
    """Rewrite Go-template actions into Jinja; text already in Jinja form passes unchanged."""
    stack: list[str] = []

    def action(m: re.Match[str]) -> str:
        left, body, right = m.group(1), m.group(2).strip(), m.group(3)
        word = body.split(None, 1)[0] if body else ""
        rest = body[len(word):].strip()
        if word in _BLOCK_OPEN:
            stack.append(_BLOCK_OPEN[word])
            if word == "range":
                return f"{{%{left} for item in {_translate_expr(rest)} {right}%}}"
            return f"{{%{left} if {_translate_expr(rest)} {right}%}}"
        if word == "else":
            if rest.startswith("if "):
                return f"{{%{left} elif {_translate_expr(rest[3:])} {right}%}}"
            return f"{{%{left} else {right}%}}"
        if word == "end":
            block = stack.pop() if stack else "if"
            return f"{{%{left} end{block} {right}%}}"
        if body == ".":
            return f"{{{{{left} item {right}}}}}"
        return f"{{{{{left} {_translate_expr(body)} {right}}}}}"

    if "{{" not in source:
        return source
    return _ACTION.sub(action, source)


class _Trusted(str):
    """A string from the operator's `config`: inserted into URLs without encoding."""

    __slots__ = ()


def _trust(value: Any) -> Any:
    if isinstance(value, str):
        return _Trusted(value)
    if isinstance(value, Mapping):
        return {k: _trust(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_trust(v) for v in value]
    return value


def _to_text(value: Any) -> str:
    """Non-strings are JSON-encoded, as Higress does for path/query/header values."""
    if isinstance(value, str):
        return value
    if value is None or isinstance(value, jinja2.Undefined):
        return ""
    if isinstance(value, bool | int | float | list | dict):
        return msgspec.json.encode(value).decode()
    return str(value)


def _finalize_text(value: Any) -> Any:
    if isinstance(value, list | dict):
        return msgspec.json.encode(value).decode()
    if value is None:
        return ""
    return value


def _finalize_url(value: Any) -> str:
    if isinstance(value, _Trusted):
        return str(value)
    return quote(_to_text(value), safe="")


def _environment(finalize: Any) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
    )
    env.globals.update(FUNCTIONS)
    env.filters.update({k: v for k, v in FUNCTIONS.items() if k != "default"})
    env.filters["toJson"] = _to_json
    return env


_TEXT_ENV = _environment(_finalize_text)
_URL_ENV = _environment(_finalize_url)


def _names(env: ImmutableSandboxedEnvironment, source: str, field: str) -> tuple[jinja2.Template, set[str]]:
    try:
        translated = translate(source)
        tree = env.parse(translated)
        return env.from_string(tree), jinja2.meta.find_undeclared_variables(tree) - FUNCTIONS.keys()
    except jinja2.TemplateSyntaxError as exc:
        raise invalid(field, f"template syntax error: {exc.message}") from None


class _ConfigOnly:
    """The output of a template that reads `config` but no argument: rendered once per config."""

    __slots__ = ("config", "text")

    def __init__(self, config: Mapping[str, Any], text: str) -> None:
        self.config = config
        self.text = text


class Template:
    """A compiled text template (header value, body, response body)."""

    __slots__ = ("_cached", "_template", "is_static", "names", "source")

    def __init__(self, source: str, field: str) -> None:
        self.source = source
        self._template, self.names = _names(_TEXT_ENV, source, field)
        self.is_static = "{{" not in source and "{%" not in source
        self._cached: _ConfigOnly | None = None

    def render(self, context: Mapping[str, Any]) -> str:
        if self.is_static:
            return self.source
        if self.names <= {"config"}:
            config = context.get("config", {})
            cached = self._cached
            if cached is None or cached.config is not config:
                cached = self._cached = _ConfigOnly(config, self._template.render(context))
            return cached.text
        return self._template.render(context)


class _Probe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return _ARG_MARK


class UrlTemplate:
    """A compiled URL template whose origin (scheme, host, port) is fixed by config alone."""

    __slots__ = ("_cached", "_template", "names", "origin", "source")

    def __init__(self, source: str, field: str, config: Mapping[str, Any], path_args: set[str]) -> None:
        self.source = source
        self._template, self.names = _names(_URL_ENV, source, field)
        self._cached: _ConfigOnly | None = None
        try:
            probe = self._template.render({"args": _Probe(), "config": _trust(config)})
        except jinja2.TemplateError as exc:
            raise invalid(field, f"template error: {exc}") from None
        parts = urlsplit(probe)
        origin_text = f"{parts.scheme}://{parts.netloc}"
        mark = quote(_ARG_MARK, safe="")
        if mark in origin_text or any("{" + name + "}" in origin_text for name in path_args):
            raise invalid(field, "arguments may not determine the scheme, host or port of the URL")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid(field, f"must be an absolute http or https URL (got {source!r})")
        try:
            port = parts.port
        except ValueError:
            raise invalid(field, "has an invalid port") from None
        self.origin = (parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))

    def render(self, args: Mapping[str, Any], config: Mapping[str, Any]) -> str:
        if self.names <= {"config"}:  # the usual `{{.config.baseUrl}}/pets/{id}`: render once
            cached = self._cached
            if cached is None or cached.config is not config:
                text = self._template.render({"args": {}, "config": _trust(config)})
                cached = self._cached = _ConfigOnly(config, text)
            return cached.text
        return self._template.render({"args": args, "config": _trust(config)})

    def same_origin(self, url: str) -> bool:
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return (parts.scheme, parts.hostname, port) == self.origin


def to_text(value: Any) -> str:
    """How an argument value becomes text in a path, query, header or cookie."""
    return _to_text(value)
