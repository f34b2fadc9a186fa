"""The pure pieces, checked directly: coercion, header values, excerpts, compile-time refusals."""

from __future__ import annotations

import msgspec
import pytest
import yaml
from mcpgw_toolexec.arguments import coerce
from mcpgw_toolexec.compiled import BrokenTool, compile_tool
from mcpgw_toolexec.failures import ToolFailure
from mcpgw_toolexec.headers import check_value
from mcpgw_toolexec.response import excerpt

from mcpgw.contracts import ToolsDocument


@pytest.mark.parametrize(("kind", "given", "expected"), [
    ("boolean", "true", True), ("boolean", "FALSE", False), ("boolean", "yes", "yes"),
    ("integer", 3.0, 3), ("integer", "42", 42), ("integer", "-7", -7), ("integer", "2.0", 2),
    ("integer", 2.5, 2.5), ("integer", "nan", "nan"), ("integer", True, True),
    ("number", "2.5", 2.5), ("number", "5", 5), ("number", "inf", "inf"), ("number", "x", "x"),
    ("string", 5, 5), (None, "true", "true"),
])
def test_coercion(kind: str | None, given: object, expected: object) -> None:
    value = coerce(kind, given)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("value", ["a\rb", "a\nb", "a\x00b", "a\x7fb", "a\x1bb"])
def test_header_values_with_control_characters_are_refused(value: str) -> None:
    with pytest.raises(ToolFailure, match="header X-A: value contains"):
        check_value("X-A", value)


def test_header_values_may_hold_tabs_and_unicode() -> None:
    assert check_value("X-A", "a\tb café") == "a\tb café"


def test_excerpt_never_splits_a_character() -> None:
    assert excerpt(b"short", 10) == "short"
    assert excerpt("ab€".encode(), 4) == "ab… (truncated)"  # € is 3 bytes: dropped, not mangled
    assert excerpt(b"\xff\xfe", 10) == "\ufffd\ufffd"


def _tool(text: str) -> object:
    doc = msgspec.convert(yaml.safe_load(f"server: {{name: s, config: {{base: 'http://h'}}}}\ntools:\n{text}"),
                          ToolsDocument)
    return compile_tool(doc.tools[0], doc.server)


@pytest.mark.parametrize(("text", "problem"), [
    ("- {name: t, requestTemplate: {url: 'http://{{.args.h}}/'}}", "scheme, host or port"),
    ("- {name: t, args: [{name: Host, position: header}], requestTemplate: {url: 'http://h/'}}",
     "cannot be sent as a header"),
    ("- {name: t, requestTemplate: {url: 'http://h/', headers: [{key: Content-Length, value: '1'}]}}",
     "cannot be sent as a header"),
    ("- {name: t, requestTemplate: {url: 'http://h/', headers: [{key: Host, value: '{{.args.h}}'}]}}",
     "Host header may not depend on arguments"),
    ("- {name: t, requestTemplate: {url: 'http://h/', method: 'GET /x'}}", "is not an HTTP method"),
    ("- {name: t}", "direct response mode must set responseTemplate.body"),
    ("- {name: t, requestTemplate: {url: 'http://h/'}, responseTemplate: {body: x, appendBody: y}}",
     "cannot be combined"),
    ("- {name: t, requestTemplate: {url: 'http://h/{{'}}", "template syntax error"),
])
def test_definitions_that_cannot_run_are_refused_at_compile_time(text: str, problem: str) -> None:
    compiled = _tool(text)
    assert isinstance(compiled, BrokenTool), compiled
    assert problem in compiled.problem
