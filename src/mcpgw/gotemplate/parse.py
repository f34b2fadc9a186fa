"""Go text/template's parser (text/template/parse/parse.go) over `lex`'s items, into a small tree.

It enforces what Go's parser does (declared variables, known functions, `break` only in `range`,
no `{{end}}` without a block), so a template Higress would refuse at load is refused here too,
and it refuses the constructs the translator does not carry over (`define`, `template`, `block`,
unsupported functions).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from mcpgw.gotemplate import functions
from mcpgw.gotemplate.errors import Refused, TemplateSyntax
from mcpgw.gotemplate.lex import Item, lex

# -- the tree ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Text:
    text: str


@dataclass(slots=True)
class Jinja:
    expr: str


@dataclass(slots=True)
class Field:
    names: tuple[str, ...]


@dataclass(slots=True)
class Var:
    ref: str  # "$" for the root, else the declaration's unique id
    names: tuple[str, ...] = ()


@dataclass(slots=True)
class Dot:
    pass


@dataclass(slots=True)
class Ident:
    name: str


@dataclass(slots=True)
class Chain:
    node: Any
    names: tuple[str, ...]


@dataclass(slots=True)
class Literal:
    value: Any  # str, int, float, bool or None (nil)


@dataclass(slots=True)
class Cmd:
    args: list[Any]


@dataclass(slots=True)
class Pipe:
    decl: list[str] = field(default_factory=list)  # unique ids
    assign: bool = False
    cmds: list[Cmd] = field(default_factory=list)


@dataclass(slots=True)
class Paren:
    pipe: Pipe


@dataclass(slots=True)
class Action:
    pipe: Pipe


@dataclass(slots=True)
class Block:
    kind: str  # if, with, range
    pipe: Pipe
    body: list[Any]
    orelse: list[Any] | None


@dataclass(slots=True)
class Loop:
    kind: str  # break, continue


# -- the parser --------------------------------------------------------------------------------


class _Parser:
    def __init__(self, items: list[Item]) -> None:
        self.items = items
        self.i = 0
        self.vars: list[tuple[str, str]] = [("$", "$")]  # (Go name, unique id)
        self.ids = 0
        self.range_depth = 0

    def peek(self) -> Item:
        return self.items[self.i]

    def next(self) -> Item:
        item = self.items[self.i]
        self.i += 1
        return item

    def next_non_space(self) -> Item:
        item = self.next()
        while item.kind == "space":
            item = self.next()
        return item

    def peek_non_space(self) -> Item:
        j = self.i
        while self.items[j].kind == "space":
            j += 1
        return self.items[j]

    def expect(self, kind: str, context: str) -> Item:
        item = self.next_non_space()
        if item.kind != kind:
            raise TemplateSyntax(f"unexpected {item.val or item.kind!r} in {context}")
        return item

    # lists and actions

    def parse(self) -> list[Any]:
        nodes, stop = self.item_list()
        if stop is not None:
            raise TemplateSyntax(f"unexpected {{{{{stop}}}}}")
        return nodes

    def item_list(self) -> tuple[list[Any], str | None]:
        """Nodes up to EOF or an `{{end}}`/`{{else ...}}` (returned, with the `else` left to read)."""
        nodes: list[Any] = []
        while True:
            item = self.next()
            if item.kind == "eof":
                self.i -= 1
                return nodes, None
            if item.kind == "text":
                nodes.append(Text(item.val))
            elif item.kind == "jinja":
                nodes.append(Jinja(item.val))
            elif item.kind == "comment":
                continue
            else:
                node = self.action()
                if isinstance(node, str):
                    return nodes, node
                nodes.append(node)

    def action(self) -> Any:
        word = self.peek_non_space()
        if word.kind == "keyword":
            self.next_non_space()
            if word.val in ("if", "with", "range"):
                return self.block(word.val)
            if word.val == "end":
                self.expect("right", "end")
                return "end"
            if word.val == "else":
                return "else"
            if word.val in ("break", "continue"):
                if not self.range_depth:
                    raise TemplateSyntax(f"{{{{{word.val}}}}} outside {{{{range}}}}")
                self.expect("right", word.val)
                return Loop(word.val)
            if word.val in ("define", "template", "block"):
                raise Refused(f"{{{{{word.val}}}}}", "named templates are not translated")
        return Action(self.pipeline("command", allow_decl=True))

    def block(self, kind: str) -> Block:
        mark = len(self.vars)
        if kind == "range":
            self.range_depth += 1
        pipe = self.pipeline(kind, allow_decl=True, multi=kind == "range")
        body, stop = self.item_list()
        orelse: list[Any] | None = None
        if stop == "else":
            after = self.peek_non_space()
            if after.kind == "keyword" and after.val == kind and kind in ("if", "with"):
                self.next_non_space()  # {{else if}} in an if, {{else with}} in a with: they share our {{end}}
                orelse = [self.block(after.val)]
            elif after.kind == "keyword" and after.val in ("if", "with"):
                self.next_non_space()  # anywhere else Go reads {{else}}{{if ...}}: a block of its own
                first = self.block(after.val)
                rest, stop = self.item_list()
                if stop != "end":
                    raise TemplateSyntax(f"expected end; found {{{{{stop or 'EOF'}}}}}")
                orelse = [first, *rest]
            else:
                self.expect("right", "else")
                orelse, stop = self.item_list()
                if stop != "end":
                    raise TemplateSyntax(f"expected end; found {{{{{stop or 'EOF'}}}}}")
        elif stop != "end":
            raise TemplateSyntax(f"unexpected EOF in {kind}")
        if kind == "range":
            self.range_depth -= 1
        del self.vars[mark:]
        return Block(kind, pipe, body, orelse)

    # pipelines

    def declare(self, name: str) -> str:
        self.ids += 1
        ref = f"v{self.ids}"
        self.vars.append((name, ref))
        return ref

    def lookup(self, name: str) -> str:
        for go_name, ref in reversed(self.vars):
            if go_name == name:
                return ref
        raise TemplateSyntax(f"undefined variable {name!r}")

    def pipeline(self, context: str, allow_decl: bool = False, multi: bool = False) -> Pipe:
        pipe = Pipe()
        if allow_decl and self.peek_non_space().kind == "var":
            self._declarations(pipe, context, multi)
        while True:
            item = self.peek_non_space()
            if item.kind in ("right", "rparen"):
                self.next_non_space()
                if (item.kind == "right") != (context != "paren"):
                    raise TemplateSyntax(f"unexpected {item.val!r} in {context}")
                break
            pipe.cmds.append(self.command())
        if not pipe.cmds:
            raise TemplateSyntax(f"missing value for {context}")
        for stage, cmd in enumerate(pipe.cmds[1:], start=2):
            if isinstance(cmd.args[0], Literal | Dot):
                raise TemplateSyntax(f"non executable command in pipeline stage {stage}")
        return pipe

    def _declarations(self, pipe: Pipe, context: str, multi: bool) -> None:
        start = self.i
        names: list[str] = []
        while True:
            var = self.next_non_space()
            if var.kind != "var":
                self.i = start
                return
            names.append(var.val)
            after = self.next_non_space()
            if after.kind == "comma" and multi and len(names) < 2:
                continue
            if after.kind in ("declare", "assign"):
                pipe.assign = after.kind == "assign"
                break
            self.i = start  # a plain use of the variable
            return
        if pipe.assign:
            pipe.decl = [self.lookup(n) for n in names]
        else:
            pipe.decl = [self.declare(n) for n in names]
        if len(names) > 1 and context != "range":
            raise TemplateSyntax("too many declarations in command")

    def command(self) -> Cmd:
        cmd = Cmd([])
        while True:
            self.skip_space()
            cmd.args.append(self.operand())
            item = self.peek()
            if item.kind == "space":
                self.next()
                if self.peek().kind in ("right", "rparen", "pipe"):
                    item = self.peek()
                else:
                    continue
            if item.kind == "pipe":
                self.next()
                break
            if item.kind in ("right", "rparen"):
                break
            raise TemplateSyntax(f"unexpected {item.val!r} in operand")
        first = cmd.args[0]
        if isinstance(first, Literal) and first.value is None:
            raise TemplateSyntax("nil is not a command")
        if len(cmd.args) > 1 and not isinstance(first, Ident):
            raise Refused("arguments after a value that is not a function",
                          "Higress fails such a call (\"is not a method but has arguments\")")
        return cmd

    def skip_space(self) -> None:
        while self.peek().kind == "space":
            self.next()

    def operand(self) -> Any:
        node = self.term()
        names: list[str] = []
        while self.peek().kind == "field":
            names.append(self.next().val[1:])
        if not names:
            return node
        if isinstance(node, Field):
            return Field(node.names + tuple(names))
        if isinstance(node, Var):
            return Var(node.ref, node.names + tuple(names))
        if isinstance(node, Literal | Dot):
            raise TemplateSyntax("unexpected . after term")
        return Chain(node, tuple(names))

    def term(self) -> Any:
        item = self.next()
        kind = item.kind
        if kind == "ident":
            functions.check_known(item.val)
            return Ident(item.val)
        if kind == "dot":
            return Dot()
        if kind == "field":
            return Field((item.val[1:],))
        if kind == "var":
            return Var(self.lookup(item.val))
        if kind == "bool":
            return Literal(item.val == "true")
        if kind == "keyword" and item.val == "nil":
            return Literal(None)
        if kind == "number":
            return Literal(_number(item.val))
        if kind == "char":
            return Literal(ord(ast.literal_eval(item.val)))
        if kind == "string":
            return Literal(_string(item.val))
        if kind == "lparen":
            return Paren(self.pipeline("paren"))
        raise TemplateSyntax(f"unexpected {item.val or kind!r} in operand")


def _string(token: str) -> str:
    if token.startswith("`"):
        return token[1:-1].replace("\r", "")
    try:
        # Go's escapes are a subset of Python's for double-quoted literals, with \u/\U/\x alike.
        value = ast.literal_eval(token)
    except (ValueError, SyntaxError):
        raise TemplateSyntax(f"invalid syntax in string {token}") from None
    assert isinstance(value, str)
    return value


def _number(token: str) -> int | float:
    if token.endswith("i"):
        raise Refused(f"the complex number {token}")
    text = token.replace("_", "")
    try:
        hexadecimal = text.lower().lstrip("+-").startswith("0x")
        return int(text, 0) if hexadecimal or not any(c in text.lower() for c in ".e") else float(text)
    except ValueError:
        if len(text.lstrip("+-")) > 1 and text.lstrip("+-").startswith("0") and text.lstrip("+-").isdigit():
            return int(text.replace("0", "0o", 1), 0)  # Go's legacy octal: 0755
        raise TemplateSyntax(f"bad number syntax: {token!r}") from None


def parse(source: str) -> list[Any]:
    return _Parser(lex(source, functions.KNOWN)).parse()
