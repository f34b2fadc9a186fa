"""`Mcp-Param-*` headers (MCP 2026-07-28, SEP-2243) checked against a tools/call's arguments."""

from __future__ import annotations

import base64
from typing import Any

import msgspec
import pytest
from mcpgw_edge.mcp.modern import HEADER_MISMATCH, Refusal
from mcpgw_edge.mcp.param_headers import ParamHeader, check_call, check_param_headers, extract, param_headers
from mcpgw_edge.servers import ServerEntry

from mcpgw.contracts.registry import EdgeServer, ToolListing

SQL = {"name": "sql", "description": "d", "inputSchema": {"type": "object", "properties": {
    "region": {"type": "string", "x-mcp-header": "Region"},
    "limit": {"type": "integer", "x-mcp-header": "Limit"},
    "dry": {"type": "boolean", "x-mcp-header": "Dry-Run"},
    "query": {"type": "string"},
    "opts": {"type": "object", "properties": {"tenant": {"type": "string", "x-mcp-header": "Tenant"}}},
}, "required": ["query"]}}
PLAIN = {"name": "plain", "description": "d", "inputSchema": {"type": "object", "properties": {
    "q": {"type": "string"}}}}


def _entry(*tools: dict[str, Any]) -> ServerEntry:
    listing = [ToolListing(name=t["name"], entry=msgspec.Raw(msgspec.json.encode(t))) for t in tools]
    snapshot = EdgeServer(server_id="mcp-1", name="s", revision=1, listing=listing)
    return ServerEntry(snapshot, "subject")


def _check(arguments: dict[str, Any], headers: dict[str, str], entry: ServerEntry | None = None) -> None:
    check_param_headers(entry or _entry(SQL), "sql", msgspec.json.encode(arguments), headers)


def _refused(arguments: dict[str, Any], headers: dict[str, str]) -> str:
    with pytest.raises(Refusal) as caught:
        _check(arguments, headers)
    assert (caught.value.status, caught.value.code) == (400, HEADER_MISMATCH)
    assert caught.value.message.startswith("Header mismatch: ")
    return caught.value.message


def _b64(text: str) -> str:
    return f"=?base64?{base64.b64encode(text.encode()).decode()}?="


# -- what a listing entry declares ---------------------------------------------------------


def test_extract_finds_statically_reachable_primitive_annotations() -> None:
    assert extract(msgspec.json.encode(SQL)) == (
        ParamHeader(("region",), "Region", "string"), ParamHeader(("limit",), "Limit", "integer"),
        ParamHeader(("dry",), "Dry-Run", "boolean"), ParamHeader(("opts", "tenant"), "Tenant", "string"))
    assert extract(msgspec.json.encode(PLAIN)) == ()


def test_extract_ignores_what_may_not_be_mirrored() -> None:
    schema = {"type": "object", "x-mcp-header": "Root", "properties": {
        "n": {"type": "number", "x-mcp-header": "N"},
        "u": {"type": ["string", "null"], "x-mcp-header": "U"},
        "bad": {"type": "string", "x-mcp-header": "Bad Name"},
        "nonstr": {"type": "string", "x-mcp-header": 5},
        "arr": {"type": "array", "items": {"type": "string", "x-mcp-header": "Item"}},
        "any": {"anyOf": [{"type": "string", "x-mcp-header": "Any"}]},
        "first": {"type": "string", "x-mcp-header": "Dup"},
        "second": {"type": "string", "x-mcp-header": "dup"}},
        "$defs": {"D": {"type": "string", "x-mcp-header": "D"}}}
    found = extract(msgspec.json.encode({"name": "t", "inputSchema": schema}))
    assert found == (ParamHeader(("first",), "Dup", "string"),)
    assert extract(b'{"name": "t", "description": "x-mcp-header"}') == ()
    assert extract(b"not json x-mcp-header") == ()


def test_the_table_is_built_once_per_entry_for_the_tools_that_mirror() -> None:
    entry = _entry(SQL, PLAIN)
    assert entry.param_headers is None
    table = param_headers(entry)
    assert list(table) == ["sql"] and entry.param_headers is table
    assert param_headers(entry) is table


# -- the check -----------------------------------------------------------------------------


@pytest.mark.parametrize(("arguments", "headers"), [
    ({"query": "q"}, {}),  # nothing mirrored is present: no header expected
    ({"query": "q", "region": None, "limit": None}, {}),  # null counts as absent
    ({"query": "q", "region": "us-west1"}, {"mcp-param-region": "us-west1"}),
    ({"region": "Hello"}, {"mcp-param-region": "=?base64?SGVsbG8=?="}),
    ({"region": "Hello, 世界"}, {"mcp-param-region": _b64("Hello, 世界")}),
    ({"region": " padded "}, {"mcp-param-region": _b64(" padded ")}),
    ({"region": "line1\nline2"}, {"mcp-param-region": _b64("line1\nline2")}),
    ({"region": "=?base64?literal?="}, {"mcp-param-region": _b64("=?base64?literal?=")}),
    ({"region": ""}, {"mcp-param-region": "=?base64??="}),
    # Without the full sentinel a value is literal.
    ({"region": "SGVsbG8="}, {"mcp-param-region": "SGVsbG8="}),
    ({"region": "=?base64?SGVsbG8="}, {"mcp-param-region": "=?base64?SGVsbG8="}),
    ({"region": "a b\tc"}, {"mcp-param-region": "a b\tc"}),
    ({"region": "x"}, {"mcp-param-region": "  x\t"}),  # optional whitespace around a value
    ({"limit": 42}, {"mcp-param-limit": "42"}),
    ({"limit": 42}, {"mcp-param-limit": "42.0"}),
    ({"limit": 42.0}, {"mcp-param-limit": "42"}),
    ({"limit": -7}, {"mcp-param-limit": "-7"}),
    ({"limit": 2**60}, {"mcp-param-limit": str(2**60)}),
    ({"limit": 5}, {"mcp-param-limit": _b64("5")}),
    ({"dry": True, "limit": 0}, {"mcp-param-dry-run": "true", "mcp-param-limit": "0"}),
    ({"dry": False}, {"mcp-param-dry-run": "false"}),
    ({"opts": {"tenant": "acme"}}, {"mcp-param-tenant": "acme"}),
    ({"opts": {}}, {}),
    ({"opts": "not an object"}, {}),
    # Headers no property declares are not this check's business.
    ({"query": "q"}, {"mcp-param-other": "\x01 anything", "mcp-param-query": "zzz"}),
])
def test_agreeing_headers_pass(arguments: dict[str, Any], headers: dict[str, str]) -> None:
    _check(arguments, headers)


@pytest.mark.parametrize(("arguments", "headers", "message"), [
    ({"region": "us-west1"}, {},
     "Header mismatch: the Mcp-Param-Region header is required: the 'region' argument is 'us-west1'"),
    ({"opts": {"tenant": "acme"}}, {}, "Header mismatch: the Mcp-Param-Tenant header is required: the "
                                       "'opts.tenant' argument is 'acme'"),
    ({"region": "us-west1"}, {"mcp-param-region": "eu-west1"},
     "Header mismatch: Mcp-Param-Region header value 'eu-west1' does not match body value 'us-west1'"),
    ({"region": "Hello"}, {"mcp-param-region": "=?base64?SGVsbG8?="},
     "Header mismatch: malformed base64 header value"),
    ({"region": "Hello"}, {"mcp-param-region": "=?base64?SGVs!!!bG8=?="},
     "Header mismatch: malformed base64 header value"),
    ({"region": "Hello"}, {"mcp-param-region": "=?base64?SGVsbG9=?="},  # non-canonical trailing bits
     "Header mismatch: malformed base64 header value"),
    ({"region": "Hello"}, {"mcp-param-region": "=?base64?" + base64.b64encode(b"\xff").decode() + "?="},
     "Header mismatch: malformed base64 header value"),
    ({"region": "Hello"}, {"mcp-param-region": "SGVsbG8="},  # no sentinel: literal, so no match
     "Header mismatch: Mcp-Param-Region header value 'SGVsbG8=' does not match body value 'Hello'"),
    ({"region": "a\x01b"}, {"mcp-param-region": "a\x01b"},
     "Header mismatch: Mcp-Param-Region header value contains characters not allowed"),
    ({"region": "Hello, 世界"}, {"mcp-param-region": "Hello, 世界"},
     "Header mismatch: Mcp-Param-Region header value contains characters not allowed"),
    ({"region": "caf\xe9"}, {"mcp-param-region": "caf\xe9"},  # latin-1 as the HTTP server decodes it
     "Header mismatch: Mcp-Param-Region header value contains characters not allowed"),
    ({"region": "a\x7fb"}, {"mcp-param-region": "a\x7fb"},
     "Header mismatch: Mcp-Param-Region header value contains characters not allowed"),
    ({}, {"mcp-param-region": "us-west1"},
     "Header mismatch: Mcp-Param-Region header is present but the 'region' argument is absent"),
    ({"region": None}, {"mcp-param-region": "null"},
     "Header mismatch: Mcp-Param-Region header is present but the 'region' argument is absent"),
    ({"region": ["a"]}, {"mcp-param-region": "a"},
     "Header mismatch: Mcp-Param-Region header is present but the 'region' argument is not a string"),
    ({"limit": 42}, {"mcp-param-limit": "43"},
     "Header mismatch: Mcp-Param-Limit header value '43' does not match body value 42"),
    ({"limit": 42}, {"mcp-param-limit": "42.5"}, "Header mismatch: Mcp-Param-Limit header value '42.5'"),
    ({"limit": 42}, {"mcp-param-limit": "4.2e1"}, "Header mismatch: Mcp-Param-Limit header value '4.2e1'"),
    ({"limit": 42}, {"mcp-param-limit": "forty-two"}, "Header mismatch: Mcp-Param-Limit header value"),
    ({"limit": 42}, {"mcp-param-limit": "9" * 5000}, "Header mismatch: Mcp-Param-Limit header value '999"),
    ({"dry": True}, {"mcp-param-dry-run": "True"},
     "Header mismatch: Mcp-Param-Dry-Run header value 'True' does not match body value True"),
    ({"dry": False}, {"mcp-param-dry-run": "0"}, "Header mismatch: Mcp-Param-Dry-Run header value '0'"),
    ({"dry": True}, {}, "Header mismatch: the Mcp-Param-Dry-Run header is required"),
    ({"opts": {"tenant": "acme"}}, {"mcp-param-tenant": "other"},
     "Header mismatch: Mcp-Param-Tenant header value 'other' does not match body value 'acme'"),
])
def test_disagreeing_headers_are_refused(arguments: dict[str, Any], headers: dict[str, str], message: str) -> None:
    got = _refused(arguments, headers)
    assert got.startswith(message), got


def test_long_values_are_shortened_in_the_message() -> None:
    got = _refused({"region": "a" * 500}, {"mcp-param-region": "b" * 500})
    assert len(got) < 250 and got.endswith("…")


def test_a_tool_that_mirrors_nothing_or_an_unknown_tool_is_not_checked() -> None:
    entry = _entry(SQL, PLAIN)
    check_param_headers(entry, "plain", b'{"q": "x"}', {"mcp-param-region": "\x01"})
    check_param_headers(entry, "nope", b'{"region": "x"}', {})
    check_param_headers(entry, "sql", b"not json", {})  # left to the call to refuse
    check_param_headers(entry, "sql", b"null", {})


def test_check_call_reads_the_name_and_arguments_from_params() -> None:
    entry = _entry(SQL, PLAIN)
    params = msgspec.Raw(msgspec.json.encode({"name": "sql", "arguments": {"region": "r1"}, "_meta": {}}))
    check_call(entry, params, {"mcp-param-region": "r1"})
    with pytest.raises(Refusal):
        check_call(entry, params, {})
    # A tool the consumer may not call is left to the call's own refusal (no header names told).
    check_call(entry, params, {}, allowed=frozenset({"plain"}))
    check_call(entry, params, {"mcp-param-region": "r1"}, allowed=frozenset({"sql"}))
    with pytest.raises(Refusal):
        check_call(entry, params, {}, allowed=frozenset({"sql"}))
    for malformed in (b'{"name": 5}', b'{"arguments": {}}', b"[1]", b'{"name": "plain"}', b'{"name": "sql"}'):
        check_call(entry, msgspec.Raw(malformed), {})
    check_call(entry, msgspec.UNSET, {})


def test_check_call_on_a_server_without_mirrored_arguments_decodes_nothing() -> None:
    entry = _entry(PLAIN)
    check_call(entry, msgspec.Raw(b"not even json"), {})
    assert entry.param_headers == {}
