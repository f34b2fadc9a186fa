"""The parsed Go template -> Jinja source whose every value goes through `runtime`.

Dot is a Jinja name: `_go_root` at the top (the whole data), the element's loop variable in a
`range`, a `{% set %}` name in a `with`. Go variables live in one `namespace()` (`_go_ns.v3`), so
an assignment inside a `range` is seen after it, as in Go. Text is emitted as it is, except where
Jinja would read it as a tag (`{` before `{`, `%`, `#` or an action) or rewrite it (CR).
"""

from __future__ import annotations

import re
from typing import Any

from mcpgw.gotemplate import gjson, sprig
from mcpgw.gotemplate.errors import Refused
from mcpgw.gotemplate.gofmt import FormatRefused, check_format
from mcpgw.gotemplate.parse import (
    Action,
    Block,
    Chain,
    Cmd,
    Dot,
    Field,
    Ident,
    Jinja,
    Literal,
    Loop,
    Paren,
    Pipe,
    Text,
    Var,
)
from mcpgw.gotemplate.runtime import BUILTINS

ROOT = "_go_root"
# How many arguments Higress's engine (gjson_template) reads for its builtins; and/or/print/println
# read all their own and ignore a piped value.
_HIGRESS_ARITY = {"len": 1, "not": 1, "html": 1, "js": 1, "urlquery": 1, "gjson": 1, "index": 2,
                  "eq": 2, "ne": 2, "lt": 2, "le": 2, "gt": 2, "ge": 2}
_VARIADIC = ("print", "println", "and", "or")
_BRACE = re.compile(r"\{(?=[{%#]|$)")


def literal(text: str) -> str:
    """A Jinja string literal that reads back as exactly `text`."""
    return "'" + text.encode("unicode_escape").decode("ascii").replace("'", "\\'") + "'"


class Emitter:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.dots = 0
        self.uses_ns = False
        self.root_keys: set[str] | None = set()  # None: the whole data is read
        self.volatile = False

    # statements

    def nodes(self, nodes: list[Any], dot: str) -> None:
        for node in nodes:
            if isinstance(node, Text):
                self.text(node.text)
            elif isinstance(node, Jinja):
                self.root_keys = None
                self.out.append("{{ " + node.expr + " }}")
            elif isinstance(node, Action):
                self.action(node.pipe, dot)
            elif isinstance(node, Block):
                self.block(node, dot)
            elif isinstance(node, Loop):
                self.out.append("{% " + node.kind + " %}")

    def text(self, text: str) -> None:
        if "\r" in text:  # Jinja would turn CR LF into LF in template text; a literal keeps it
            self.out.append("{{ _go_lit(" + literal(text) + ") }}")
        else:
            self.out.append(_BRACE.sub("{% raw %}{{% endraw %}", text))

    def action(self, pipe: Pipe, dot: str) -> None:
        value = self.pipe(pipe, dot)
        if not pipe.decl:
            if value.startswith("_go_field(") and value.endswith(")") and value.count("_go_field(") == 1:
                # `{{.args.x}}`, the commonest action: one runtime call instead of two
                self.out.append("{{ _go_out_field(" + value[len("_go_field("):] + " }}")
                return
            self.out.append("{{ _go_out(" + value + ") }}")
            return
        self.uses_ns = True
        self.out.append("{% set _go_ns." + pipe.decl[-1] + " = " + value + " %}")

    def block(self, block: Block, dot: str) -> None:
        value = self.pipe(block.pipe, dot)
        if block.kind == "range":
            self.range(block, dot, value)
            return
        if block.pipe.decl:
            self.uses_ns = True
            self.out.append("{% set _go_ns." + block.pipe.decl[-1] + " = " + value + " %}")
            value = "_go_ns." + block.pipe.decl[-1]
        inner = dot
        if block.kind == "with":
            self.dots += 1
            inner = f"_go_d{self.dots}"
            self.out.append("{% set " + inner + " = " + value + " %}")
            value = inner
        self.out.append("{% if _go_truth(" + value + ") %}")
        self.nodes(block.body, inner)
        if block.orelse is not None:
            self.out.append("{% else %}")
            self.nodes(block.orelse, dot)
        self.out.append("{% endif %}")

    def range(self, block: Block, dot: str, value: str) -> None:
        self.dots += 1
        key, elem = f"_go_k{self.dots}", f"_go_d{self.dots}"
        decl = block.pipe.decl
        self.out.append("{% for " + key + ", " + elem + " in _go_items(" + value + ", " + str(len(decl)) + ") %}")
        if decl:
            self.uses_ns = True
            targets = [(decl[0], key), (decl[1], elem)] if len(decl) == 2 else [(decl[0], elem)]
            for ref, source in targets:
                self.out.append("{% set _go_ns." + ref + " = " + source + " %}")
        self.nodes(block.body, elem)
        if block.orelse is not None:
            self.out.append("{% else %}")
            self.nodes(block.orelse, dot)
        self.out.append("{% endfor %}")

    # expressions

    def pipe(self, pipe: Pipe, dot: str) -> str:
        value: str | None = None
        for cmd in pipe.cmds:
            value = self.command(cmd, dot, value)
        assert value is not None
        return value

    def command(self, cmd: Cmd, dot: str, final: str | None) -> str:
        first = cmd.args[0]
        if not isinstance(first, Ident):
            if final is not None:
                raise Refused("a value after `|` that is not a function",
                              "Higress fails it (\"is not a method but has arguments\")")
            return self.arg(first, dot)
        name = first.name
        args = [self.arg(a, dot) for a in cmd.args[1:]]
        self.check_builtin(name, cmd, final is not None)
        if name in ("and", "or"):
            return self.logic(name, args)
        final_arg = final if final is not None else "_go_nofinal"
        if name == "gjson":
            self.root_keys = None if dot == ROOT else self.root_keys
            return f"_go_b_gjson({final_arg}, {dot}, {', '.join(args)})"
        if name in BUILTINS:
            return f"_go_b_{name}({', '.join([final_arg, *args])})"
        if name in sprig.VOLATILE:
            self.volatile = True
        return f"_go_call({', '.join([f'_go_s_{name}', final_arg, *args])})"

    def logic(self, name: str, args: list[str]) -> str:
        """`and`/`or`: the first argument that decides, later ones not evaluated (as in Go)."""
        if not args:
            raise Refused(f"{name} without arguments")
        result = args[-1]
        for arg in reversed(args[:-1]):
            test = f"not _go_truth({arg})" if name == "and" else f"_go_truth({arg})"
            result = f"({arg} if {test} else {result})"
        return result

    def check_builtin(self, name: str, cmd: Cmd, piped: bool) -> None:
        """Refuse the calls Higress's engine reads differently from Go: extra arguments it ignores and
        piped values it drops (where it fails instead, Go's meaning is kept)."""
        explicit = cmd.args[1:]
        arity = _HIGRESS_ARITY.get(name)
        if arity is not None and len(explicit) > arity:
            raise Refused(f"{name} with more than {arity} argument{'s' if arity > 1 else ''}",
                          "Higress reads only the first")
        if piped and (name in _VARIADIC or (arity is not None and len(explicit) == arity)
                      or (name == "printf" and len(explicit) > 1)):
            raise Refused(f"a value piped into {name}" + (" with arguments of its own" if explicit else ""),
                          "Higress drops the piped value")
        if name == "printf":
            fmt = explicit[0] if explicit else None
            if not isinstance(fmt, Literal) or not isinstance(fmt.value, str):
                raise Refused("printf without a literal format string")
            try:
                check_format(fmt.value)
            except FormatRefused as exc:
                raise Refused(str(exc)) from None
        if name == "gjson":
            path = explicit[0] if explicit else None
            if not isinstance(path, Literal) or not isinstance(path.value, str):
                raise Refused("gjson without a literal path string")
            try:
                gjson.check(path.value)
            except gjson.PathRefused as exc:
                raise Refused(f"the GJSON path {path.value!r} ({exc})") from None

    def arg(self, node: Any, dot: str) -> str:
        if isinstance(node, Field):
            if dot == ROOT:
                self._root(node.names[0])
            return f"_go_field({dot}, {', '.join(literal(n) for n in node.names)})"
        if isinstance(node, Var):
            if node.ref == "$":
                if not node.names:
                    self.root_keys = None
                    return ROOT
                self._root(node.names[0])
                base = ROOT
            else:
                self.uses_ns = True
                base = "_go_ns." + node.ref
            if not node.names:
                return base
            return f"_go_field({base}, {', '.join(literal(n) for n in node.names)})"
        if isinstance(node, Dot):
            if dot == ROOT:
                self.root_keys = None
            return dot
        if isinstance(node, Literal):
            return _literal_value(node.value)
        if isinstance(node, Paren):
            return "(" + self.pipe(node.pipe, dot) + ")"
        if isinstance(node, Chain):
            return f"_go_field({self.arg(node.node, dot)}, {', '.join(literal(n) for n in node.names)})"
        if isinstance(node, Ident):
            return self.command(Cmd([node]), dot, None)
        raise AssertionError(node)

    def _root(self, key: str) -> None:
        if self.root_keys is not None:
            self.root_keys.add(key)


def _literal_value(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))  # gjson_template stores an integral float constant as an int
        return f"_go_rawfloat({literal(f'{value:f}')})"  # and any other as its %f text
    return literal(value)
