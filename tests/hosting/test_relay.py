"""What the client sees of an upstream's messages, and how its answers find their way back."""

from __future__ import annotations

import json

import msgspec
from mcpgw_hosting.relay import failure, to_client

from mcpgw.contracts import parse_relay_id, relay_id
from mcpgw.jsonrpc import Message


def test_relay_ids_round_trip_and_keep_the_upstream_ids_type() -> None:
    for upstream_id in (0, 7, "7", "a~b", ""):
        assert parse_relay_id(relay_id("mcp-abc", upstream_id)) == ("mcp-abc", upstream_id)
    assert parse_relay_id(relay_id("mcp-abc", 7)) != parse_relay_id(relay_id("mcp-abc", "7"))


def test_ids_that_are_not_relay_ids_are_not_parsed() -> None:
    for value in (7, None, "7", "mcpgw~", "mcpgw~srv", "mcpgw~srv~{", "mcpgw~srv~true", "mcpgw~srv~[1]",
                  "mcpgw~~1", "mcpgw~srv~" + "[" * 100_000 + "]" * 100_000):
        assert parse_relay_id(value) is None, str(value)[:40]


def test_server_requests_get_a_relay_id_and_their_cancellation_too() -> None:
    request = to_client(b'{"jsonrpc":"2.0","id":3,"method":"sampling/createMessage","params":{"x":1}}', "srv")
    assert json.loads(request) == {"jsonrpc": "2.0", "id": relay_id("srv", 3), "method": "sampling/createMessage",
                                   "params": {"x": 1}}
    cancelled = to_client(b'{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":3,'
                          b'"reason":"too slow"}}', "srv")
    assert json.loads(cancelled)["params"] == {"requestId": relay_id("srv", 3), "reason": "too slow"}


def test_notifications_pass_unchanged() -> None:
    progress = b'{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"t","progress":1}}'
    assert to_client(progress, "srv") is progress
    assert to_client(b"not json", "srv") == b"not json"


def test_a_failed_tool_call_is_an_is_error_result_and_anything_else_an_error() -> None:
    call = msgspec.json.decode(b'{"jsonrpc":"2.0","id":1,"method":"tools/call"}', type=Message)
    answer = json.loads(failure(call, "upstream unreachable"))
    assert answer["result"]["isError"] is True
    assert answer["result"]["content"][0]["text"] == "upstream error: upstream unreachable"
    listing = msgspec.json.decode(b'{"jsonrpc":"2.0","id":"x","method":"resources/list"}', type=Message)
    assert json.loads(failure(listing, "boom"))["error"] == {"code": -32603, "message": "upstream error: boom"}
