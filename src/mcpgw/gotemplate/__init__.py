"""Higress's Go templates (text/template + GJSON + Sprig) translated to Jinja, or refused.

`translate` is the one home of the rule: the registry calls it (through `mcpgw.templating`) when
tools are saved, toolexec when it compiles them, so a template either renders as Higress renders
it or is refused at save time with the construct named.
"""

from __future__ import annotations

from dataclasses import dataclass

from mcpgw.gotemplate.emit import ROOT, Emitter
from mcpgw.gotemplate.errors import Refused, TemplateSyntax
from mcpgw.gotemplate.functions import KNOWN
from mcpgw.gotemplate.lex import lex
from mcpgw.gotemplate.parse import parse
from mcpgw.gotemplate.runtime import GLOBALS
from mcpgw.gotemplate.values import MISSING, RawFloat, TemplateRuntimeError, Trusted, decode_response

__all__ = ["GLOBALS", "MISSING", "ROOT", "RawFloat", "Refused", "TemplateRuntimeError", "TemplateSyntax",
           "Translation", "Trusted", "decode_response", "translate"]


@dataclass(frozen=True, slots=True)
class Translation:
    source: str  # Jinja
    go: bool  # False: the template was Jinja (or plain text) already
    root_keys: frozenset[str] | None = frozenset()  # top-level data keys a Go template reads; None: any
    volatile: bool = False  # calls now/uuidv4/...: never render once and reuse


def _is_jinja(source: str) -> bool:
    """Jinja statements or comments mark a Jinja template; so do actions that are all Jinja expressions."""
    if "{%" in source or "{#" in source:
        return True
    return all(item.kind in ("text", "jinja", "eof") for item in lex(source, KNOWN))


def translate(source: str) -> Translation:
    """Raise TemplateSyntax (not a Go template) or Refused (a construct mcpgw does not translate)."""
    if "{{" not in source or _is_jinja(source):
        return Translation(source, go=False)
    tree = parse(source)
    emitter = Emitter()
    emitter.nodes(tree, ROOT)
    body = "".join(emitter.out)
    if emitter.uses_ns:
        body = "{% set _go_ns = namespace() %}" + body
    keys = None if emitter.root_keys is None else frozenset(emitter.root_keys)
    return Translation(body, go=True, root_keys=keys, volatile=emitter.volatile)
