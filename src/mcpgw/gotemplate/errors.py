"""Why a template cannot be used: Go would not parse it, or mcpgw does not translate it."""

from __future__ import annotations


class TemplateSyntax(Exception):
    """Not a valid Go template (Higress refuses it when the configuration loads)."""


class Refused(Exception):
    """Valid Go, but a construct the translator does not carry over faithfully; `construct` names it."""

    def __init__(self, construct: str, why: str = "") -> None:
        super().__init__(f"{construct}{': ' + why if why else ''}")
        self.construct = construct
        self.why = why
