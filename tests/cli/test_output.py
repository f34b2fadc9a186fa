"""How the CLI shows answers and reads its small value syntaxes, without a cluster."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from mcpgw.cli.app import parser
from mcpgw.cli.inputs import content_type, expiry_ms, switch
from mcpgw.cli.output import FIRST, Output


def test_tables_in_a_pipe_are_neither_wrapped_nor_padded_and_keep_brackets() -> None:
    stream = io.StringIO()
    long = "word " * 60
    Output(stream=stream).table(("ID", "NAME", "DESCRIPTION"), [("mcp-1", "a[b]", long.strip()), ("mcp-22", "c", "")],
                                empty="none")
    lines = stream.getvalue().splitlines()
    assert lines == ["ID      NAME  DESCRIPTION", f"mcp-1   a[b]  {long.strip()}", "mcp-22  c"]


def test_long_name_lists_are_cut_unless_verbose() -> None:
    names = [f"t{n}" for n in range(FIRST + 5)]
    assert Output().names(names[:FIRST]) == ", ".join(names[:FIRST])
    assert Output().names(names) == ", ".join(names[:FIRST]) + ", … 5 more (--verbose lists all)"
    assert Output(verbose=True).names(names) == ", ".join(names)
    assert Output().lines(names, "  ")[-1] == "  … 5 more (--verbose lists all)"


def test_fields_leave_out_empty_values() -> None:
    stream = io.StringIO()
    Output(stream=stream).fields([("ID", "x"), ("Description", ""), ("Tools (2)", "a, b")])
    assert stream.getvalue() == "ID         x\nTools (2)  a, b\n"


def test_value_syntaxes() -> None:
    assert [switch(v) for v in ("on", "OFF", "true", "no")] == [True, False, True, False]
    with pytest.raises(ValueError):
        switch("maybe")
    assert expiry_ms("2d", now=1000.0) == (1000 + 2 * 86400) * 1000
    assert expiry_ms("2030-01-02T03:04:05Z") == int(datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp() * 1000)
    assert expiry_ms("2030-01-02T03:04:05") == expiry_ms("2030-01-02T03:04:05+00:00")
    with pytest.raises(ValueError):
        expiry_ms("soon")
    assert content_type(b'  {"openapi": "3.0.3"}', "api.txt") == "application/json"
    assert content_type(b"openapi: 3.0.3", "api.JSON") == "application/json"
    assert content_type(b"openapi: 3.0.3", "api.yaml") == "application/yaml"


def test_json_and_verbose_are_taken_before_or_after_the_command() -> None:
    top = parser()
    assert top.parse_args(["--json", "servers", "list"]).json is True
    assert top.parse_args(["servers", "list", "--json"]).json is True
    assert top.parse_args(["servers", "list"]).json is False
    assert top.parse_args(["tools", "import", "s", "f", "-v"]).verbose is True
