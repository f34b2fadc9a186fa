"""Tool templates: Higress's Go templates (translated) or Jinja, rendered by jinja2's immutable sandbox.

Operators write Higress's forms (`{{.args.x}}`, `{{range .args.items}}{{.name}}{{end}}`,
`{{toJson .args.x}}`, `{{gjson "users.#(age>30)#.name"}}`) or plain Jinja (`{{ args.x }}`).
`mcpgw.gotemplate.translate` turns the Go forms into Jinja that renders what Higress renders, or
refuses the template with the construct named; the sandbox refuses access to Python internals
(`__class__`, `mro`, ...) and any mutation.

URL templates are stricter: every value an expression yields is percent-encoded unless it comes
straight from the server's `config` (or from `urlquery`, already encoded), and the scheme, host
and port must not depend on arguments (a relative URL's come from the backend address picked for
the call). Both the registry (to validate) and toolexec (to render)
use this module.
"""

from __future__ import annotations

import base64
from collections import ChainMap
from collections.abc import Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlsplit

import jinja2
import jinja2.meta
import msgspec
from jinja2.runtime import new_context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mcpgw import gotemplate
from mcpgw.contracts.errors import invalid
from mcpgw.gotemplate import ROOT, Trusted

_ARG_MARK = "\x00arg\x00"
# Names a translated template reads that are not data: its runtime's and its own.
_GO_NAMES = frozenset({*gotemplate.GLOBALS, ROOT, "_go_ns", "namespace"})


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


# Functions for templates written in Jinja (`{{ toJson(args.x) }}`); Go templates call Sprig's own.
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


def _trust(value: Any) -> Any:
    if isinstance(value, str):
        return Trusted(value)
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
    if isinstance(value, Trusted):
        return str(value)
    return quote(_to_text(value), safe="")


def _environment(finalize: Any) -> ImmutableSandboxedEnvironment:
    env = ImmutableSandboxedEnvironment(
        undefined=jinja2.ChainableUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        finalize=finalize,
        extensions=["jinja2.ext.loopcontrols"],  # Go's {{break}} and {{continue}}
    )
    env.globals.update(FUNCTIONS)
    env.globals.update(gotemplate.GLOBALS)
    env.filters.update({k: v for k, v in FUNCTIONS.items() if k != "default"})
    env.filters["toJson"] = _to_json
    return env


_TEXT_ENV = _environment(_finalize_text)
_URL_ENV = _environment(_finalize_url)


class _Compiled:
    """A template in Jinja form, with what it reads from the data."""

    __slots__ = ("env", "globals", "go", "names", "sorted_keys", "template", "volatile")

    def __init__(self, env: ImmutableSandboxedEnvironment, source: str) -> None:
        translation = gotemplate.translate(source)
        tree = env.parse(translation.source)
        self.template = env.from_string(tree)
        names = jinja2.meta.find_undeclared_variables(tree) - FUNCTIONS.keys() - _GO_NAMES
        if translation.go:
            names |= {"*"} if translation.root_keys is None else translation.root_keys
        self.names = frozenset(names)
        self.go = translation.go
        self.volatile = translation.volatile
        self.env = env
        self.globals = dict(self.template.globals)
        every = not translation.go or translation.root_keys is None
        self.sorted_keys = frozenset({"args", "config"} if every else {"args", "config"} & names)

    def render(self, data: Mapping[str, Any]) -> str:
        # Template.render copies every global and the data into a new dict per call: with the Go
        # runtime's ~120 globals, `Bearer {{.args.token}}` took 239 us (84 us before they were
        # added). A chain of the three mappings costs nothing to build and only the names the
        # template reads are looked up: 17 us (timeit, same machine).
        layers: list[Mapping[str, Any]] = [data, self.globals]
        if self.go:
            layers.insert(0, {ROOT: _go_data(data, self.sorted_keys)})
        context = new_context(self.env, self.template.name, self.template.blocks,
                              ChainMap(*layers), shared=True)  # type: ignore[arg-type]
        return self.env.concat(self.template.root_render_func(context))

    def reads_config_only(self) -> bool:
        return self.names <= {"config"} and not self.volatile


@lru_cache(maxsize=1024)
def _compile_source(url: bool, source: str) -> _Compiled:
    # Jinja's compiler takes milliseconds a template (2-8 ms here), and the registry compiles a
    # document's templates when it validates a save and again when it builds the snapshot: the
    # second time is a lookup. Refusals raise, and are not cached.
    return _Compiled(_URL_ENV if url else _TEXT_ENV, source)


def _compile(url: bool, source: str, field: str, tool: str | None) -> _Compiled:
    owner = f"the template of tool {tool!r}" if tool else "the template"
    try:
        return _compile_source(url, source)
    except gotemplate.TemplateSyntax as exc:
        raise invalid(field, f"template syntax error in {owner}: {exc}") from None
    except gotemplate.Refused as exc:
        why = f" ({exc.why})" if exc.why else ""
        raise invalid(field, f"{owner} cannot be translated from Go template syntax: "
                             f"{exc.construct} is not supported{why}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise invalid(field, f"template syntax error in {owner}: {exc.message}") from None


def _go_order(value: Any) -> Any:
    """Objects with their keys sorted: Higress's data is Go maps marshalled to JSON."""
    if type(value) is dict:
        return {k: _go_order(value[k]) for k in sorted(value)}
    if type(value) is list:
        return [_go_order(v) for v in value]
    return value


def _go_data(data: Mapping[str, Any], keys: frozenset[str]) -> Mapping[str, Any]:
    """The data a Go template reads: arguments and config as Higress marshals them (keys sorted).

    Only the ones the template reads (`keys`) are copied in that order: key order shows only when
    an object is printed or ranged over, and a request template reads `args` alone as a rule."""
    if not any(type(data.get(key)) is dict for key in keys):
        return data
    return {k: _go_order(v) if k in keys else v for k, v in data.items()}


class _ConfigOnly:
    """The output of a template that reads `config` but no argument: rendered once per config."""

    __slots__ = ("config", "text")

    def __init__(self, config: Mapping[str, Any], text: str) -> None:
        self.config = config
        self.text = text


class Template:
    """A compiled text template (header value, body, response body)."""

    __slots__ = ("_cached", "_compiled", "is_static", "names", "source")

    def __init__(self, source: str, field: str, tool: str | None = None) -> None:
        self.source = source
        self._compiled = _compile(False, source, field, tool)
        self.names = self._compiled.names
        self.is_static = "{{" not in source and "{%" not in source
        self._cached: _ConfigOnly | None = None

    def render(self, context: Mapping[str, Any]) -> str:
        if self.is_static:
            return self.source
        if self._compiled.reads_config_only():
            config = context.get("config", {})
            cached = self._cached
            if cached is None or cached.config is not config:
                cached = self._cached = _ConfigOnly(config, self._compiled.render(context))
            return cached.text
        return self._compiled.render(context)


class _Probe(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return _ARG_MARK


def is_relative(source: str) -> bool:
    """A tool URL relative to the server's backend (`backendConfig`): a path with a single leading "/"."""
    return source.startswith("/") and not source.startswith("//")


class UrlTemplate:
    """A compiled URL template whose origin (scheme, host, port) arguments can never change.

    Absolute (`https://api.example.com/pets/{id}`, `{{.config.baseUrl}}/pets`): the origin is fixed
    by the text and config alone. Relative (`/items/{{.args.id}}`, see `is_relative`): a path on
    the backend address picked for the call (`origin`, `scheme://host:port`), which `join` puts in
    front of it; the path always starts with "/", so nothing it renders to (`//evil.example/x`
    included) is read as an authority: it stays a path on the picked address.
    """

    __slots__ = ("_cached", "_compiled", "names", "origin", "relative", "source")

    def __init__(self, source: str, field: str, config: Mapping[str, Any], path_args: set[str],
                 tool: str | None = None) -> None:
        self.source = source
        self.relative = is_relative(source)
        if source.startswith("//"):
            raise invalid(field, "must be an absolute http or https URL, or a path starting with a single '/' "
                                 f"(relative to the server's backendConfig); got {source!r}")
        self._compiled = _compile(True, source, field, tool)
        self.names = self._compiled.names
        self._cached: _ConfigOnly | None = None
        try:
            probe = self._compiled.render({"args": _Probe(), "config": _trust(config)})
        except Exception as exc:  # jinja2's or the Go runtime's: either way the URL cannot be checked
            raise invalid(field, f"template error: {exc}") from None
        self.origin: tuple[str, str | None, int] | None = None
        if self.relative:
            return
        parts = urlsplit(probe)
        origin_text = f"{parts.scheme}://{parts.netloc}"
        mark = quote(_ARG_MARK, safe="")
        if mark in origin_text or any("{" + name + "}" in origin_text for name in path_args):
            raise invalid(field, "arguments may not determine the scheme, host or port of the URL")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise invalid(field, "must be an absolute http or https URL, or a path starting with '/' relative "
                                 f"to the server's backendConfig (got {source!r})")
        try:
            port = parts.port
        except ValueError:
            raise invalid(field, "has an invalid port") from None
        self.origin = (parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))

    def render(self, args: Mapping[str, Any], config: Mapping[str, Any]) -> str:
        if self._compiled.reads_config_only():  # the usual `{{.config.baseUrl}}/pets/{id}`: render once
            cached = self._cached
            if cached is None or cached.config is not config:
                text = self._compiled.render({"args": {}, "config": _trust(config)})
                cached = self._cached = _ConfigOnly(config, text)
            return cached.text
        return self._compiled.render({"args": args, "config": _trust(config)})

    @staticmethod
    def join(origin: str, path: str) -> str:
        """A relative template's rendered `path` on the picked `origin` (`scheme://host:port`)."""
        if not path.startswith("/"):
            raise ValueError("the rendered URL of a relative template must start with '/'")
        return origin + path

    def same_origin(self, url: str, origin: str | None = None) -> bool:
        """Whether the final `url` is on the configured origin, or on `origin` (relative templates)."""
        if origin is not None:
            rest = url[len(origin):len(origin) + 1]
            return url.startswith(origin) and rest in ("/", "?", "")
        if self.origin is None:
            return False
        parts = urlsplit(url)
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        return (parts.scheme, parts.hostname, port) == self.origin


def to_text(value: Any) -> str:
    """How an argument value becomes text in a path, query, header or cookie."""
    return _to_text(value)
