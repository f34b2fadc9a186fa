"""Hypothesis strategies for what a client may POST to the MCP endpoint: JSON-RPC requests,
notifications, responses and batches, valid and not, with either era's headers, odd types, deep
nesting and bytes that are not JSON at all."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

import msgspec
from hypothesis import strategies as st

from mcpgw.untrusted import MAX_DEPTH

MODERN = "2026-07-28"
# How a request presents itself: a session of one handshake version, 2026-07-28's headers, or
# something neither era has.
Era = Literal["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25", "modern", "no session", "unknown session",
              "unknown version"]
HANDSHAKE_VERSIONS: tuple[Era, ...] = ("2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25")
ERAS: tuple[Era, ...] = (*HANDSHAKE_VERSIONS, "modern", "no session", "unknown session", "unknown version")
# What the body is, which decides the error a well-framed request must get.
Kind = Literal["json", "not json", "too deep"]

METHODS = ("tools/call", "tools/list", "ping", "initialize", "server/discover", "subscriptions/listen",
           "resources/list", "resources/read", "prompts/list", "prompts/get", "completion/complete",
           "logging/setLevel", "notifications/initialized", "notifications/cancelled", "notifications/progress",
           "notifications/roots/list_changed", "sampling/createMessage", "elicitation/create")
# `slow` waits for the test to release it: never called.
TOOLS = ("get_pet", "add_pet", "broken", "whoami", "shared", "no_such_tool")


@dataclass
class Post:
    """One POST to a server's MCP endpoint."""

    server: str
    era: Era
    body: bytes
    kind: Kind
    # Headers on top of the era's; a None value leaves the header out.
    headers: dict[str, str | None] = field(default_factory=dict)
    legacy: bool = False  # to the legacy SSE session's message endpoint instead
    # The ids of the requests in the body (int or str), whose answers must carry them.
    request_ids: list[int | str] = field(default_factory=list)


_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                     st.text(max_size=12))
JSON_VALUES: st.SearchStrategy[Any] = st.recursive(
    _SCALARS,
    lambda kids: st.one_of(st.lists(kids, max_size=3), st.dictionaries(st.text(max_size=8), kids, max_size=3)),
    max_leaves=8)


def _nest(value: Any, levels: int, as_list: bool) -> Any:
    for _ in range(levels):
        value = [value] if as_list else {"a": value}
    return value


@st.composite
def _params(draw: st.DrawFn, method: str, server_ids: tuple[str, ...], modern: bool) -> Any:
    choice = draw(st.integers(0, 5))
    if choice == 4:
        return draw(JSON_VALUES)  # any type at all
    meta: dict[str, Any] = {}
    if modern == (draw(st.integers(0, 9)) < 9):  # what a 2026-07-28 request must carry, mostly right
        wrong = draw(st.integers(0, 9)) == 9
        meta = {"io.modelcontextprotocol/protocolVersion": draw(st.sampled_from(("2025-11-25", "x"))) if wrong
                else MODERN,
                "io.modelcontextprotocol/clientCapabilities": draw(st.sampled_from(({}, {"sampling": {}}, None, [1])))}
    if draw(st.integers(0, 3)) == 3:
        meta["progressToken"] = draw(st.one_of(st.integers(), st.text(max_size=5), JSON_VALUES))
    params: dict[str, Any] = {"_meta": meta} if meta else {}
    if method == "initialize":
        params.update(protocolVersion=draw(st.sampled_from((*HANDSHAKE_VERSIONS, MODERN, "1999-01-01", 7))),
                      capabilities=draw(st.sampled_from(({}, {"roots": {}}, None, "x"))),
                      clientInfo=draw(st.sampled_from(({"name": "fuzz", "version": "1"}, {}, 3))))
    elif method == "tools/call":
        params["name"] = draw(st.sampled_from(TOOLS) if draw(st.integers(0, 9)) < 9
                              else st.one_of(st.text(max_size=10), JSON_VALUES))
        params["arguments"] = draw(st.one_of(
            st.fixed_dictionaries({"id": st.one_of(st.integers(), st.text(max_size=5))}),
            st.fixed_dictionaries({"name": st.text(max_size=5), "tag": JSON_VALUES}), JSON_VALUES))
    elif method == "notifications/cancelled":
        params["requestId"] = draw(st.one_of(st.integers(), st.text(max_size=8), _relay_ids(server_ids)))
    elif method == "subscriptions/listen":
        params["notifications"] = draw(st.one_of(st.just({"toolsListChanged": True}), JSON_VALUES))
    else:
        params.update(draw(st.dictionaries(st.sampled_from(("cursor", "name", "uri", "level", "ref")),
                                           JSON_VALUES, max_size=2)))
    if choice == 5 and params:
        key = draw(st.sampled_from(sorted(params)))
        params[key] = _nest(params[key], draw(st.integers(MAX_DEPTH - 4, MAX_DEPTH + 40)), draw(st.booleans()))
    return params


def _relay_ids(server_ids: tuple[str, ...]) -> st.SearchStrategy[str]:
    upstream_id = st.one_of(st.integers().map(str), st.text(max_size=6).map(json.dumps), st.text(max_size=6),
                            st.integers(1, 3000).map(lambda n: "[" * n + "]" * n))
    return st.builds(lambda server, up: f"mcpgw~{server}~{up}", st.sampled_from(server_ids), upstream_id)


@st.composite
def message(draw: st.DrawFn, server_ids: tuple[str, ...], modern: bool = False) -> dict[str, Any]:
    """A JSON-RPC message: a request, a notification or a response, each member maybe wrong."""
    # Hypothesis draws small integers most: the common, valid case is 0, a fault the largest value.
    out: dict[str, Any] = {}
    if draw(st.integers(0, 9)) < 9:
        out["jsonrpc"] = "2.0"
    elif draw(st.booleans()):
        out["jsonrpc"] = draw(st.one_of(st.just("1.0"), JSON_VALUES))
    shape = draw(st.sampled_from(("request", "request", "request", "notification", "response", "error")))
    if shape != "notification":
        out["id"] = draw(st.integers(0, 10_000) if draw(st.integers(0, 3)) < 2 else st.one_of(
            st.text(max_size=8), _relay_ids(server_ids), st.integers(2**63, 2**80), st.none(), st.booleans(),
            st.floats(allow_nan=False), JSON_VALUES))
    if shape in ("request", "notification"):
        method = draw(st.sampled_from(METHODS) if draw(st.integers(0, 9)) < 8
                      else st.one_of(st.text(max_size=12), JSON_VALUES))
        out["method"] = method
        if draw(st.integers(0, 4)) < 4:
            out["params"] = draw(_params(method if isinstance(method, str) else "", server_ids, modern))
    elif shape == "response":
        out["result"] = draw(JSON_VALUES)
    else:
        out["error"] = draw(st.one_of(st.fixed_dictionaries({"code": st.integers(), "message": st.text(max_size=8)}),
                                      JSON_VALUES))
    return out


# What a client can put in a header value at all: visible ASCII and spaces.
_HEADER_TEXT = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=8)
_GARBAGE = st.one_of(st.binary(max_size=40), st.just(b""), st.just(b"   "), st.just(b'{"jsonrpc":"2.0","id":1,'),
                     st.just(b'\xff\xfe{"jsonrpc":"2.0"}'), st.just(b'{"jsonrpc":"2.0","id":1,"method":NaN}'),
                     st.integers(1, 40).map(lambda n: b"9" * (5000 * n)))


@st.composite
def post(draw: st.DrawFn, servers: tuple[str, ...], server_ids: tuple[str, ...]) -> Post:
    era: Era = draw(st.sampled_from(ERAS))
    headers: dict[str, str | None] = {}
    if draw(st.integers(0, 9)) == 9:
        headers["Content-Type"] = draw(st.sampled_from((None, "text/plain", "application/json; charset=utf-8")))
    if draw(st.integers(0, 9)) == 9:
        headers["Accept"] = draw(st.sampled_from((None, "application/json", "text/event-stream", "*/*")))
    if draw(st.integers(0, 19)) == 19:
        headers["Origin"] = "http://elsewhere.example"
    shape = draw(st.integers(0, 11))
    request_ids: list[int | str] = []
    kind: Kind = "json"
    if shape == 11:
        body = draw(_GARBAGE)
    elif shape == 10:  # written out: json.dumps itself recurses per level
        levels, as_list = draw(st.integers(MAX_DEPTH, 3000)), draw(st.booleans())
        opener, closer = (b"[", b"]") if as_list else (b'{"a":', b"}")
        body, kind = opener * levels + json.dumps(draw(message(server_ids))).encode() + closer * levels, "too deep"
    elif shape == 9:
        body = json.dumps(draw(JSON_VALUES)).encode()  # JSON, but maybe not a message
    elif shape == 8:
        batch = draw(st.lists(message(server_ids), min_size=draw(st.integers(0, 1)) ^ 1, max_size=3))
        body = json.dumps(batch).encode()
        request_ids = [m["id"] for m in batch if isinstance(m, dict) and _is_request(m)]
    else:
        single = draw(message(server_ids, era == "modern"))
        body = json.dumps(single).encode()
        request_ids = [single["id"]] if _is_request(single) else []
        if era == "modern":  # the headers a 2026-07-28 request repeats from its body, mostly right
            headers.update(_modern_headers(single))
            if draw(st.integers(0, 9)) == 9:
                headers[draw(st.sampled_from(("Mcp-Method", "Mcp-Name")))] = draw(_HEADER_TEXT)
    if kind != "too deep":
        kind = _kind(body)
    return Post(draw(st.sampled_from(servers)), era, body, kind, headers, legacy=draw(st.integers(0, 5)) == 5,
                request_ids=request_ids)


def _modern_headers(m: dict[str, Any]) -> dict[str, str | None]:
    method, params = m.get("method"), m.get("params")
    headers: dict[str, str | None] = {"Mcp-Method": method if isinstance(method, str) else None}
    name = params.get("name") if isinstance(params, dict) else None
    if isinstance(name, str):
        headers["Mcp-Name"] = name
    # Only what a header can hold: a client could not send the rest at all.
    return {k: v for k, v in headers.items()
            if v is None or (v.isascii() and v.isprintable() and v == v.strip())}


def _is_request(m: dict[str, Any]) -> bool:
    return isinstance(m.get("method"), str) and isinstance(m.get("id"), int | str) and not isinstance(m["id"], bool) \
        and (not isinstance(m["id"], int) or -(2**63) <= m["id"] < 2**64) and m.get("jsonrpc") == "2.0"


def _kind(body: bytes) -> Kind:
    """JSON or not as RFC 8259 says (a 5000-digit number is JSON, NaN is not); these bodies are
    shallow enough for any decoder."""
    try:
        value = msgspec.json.decode(body)
    except msgspec.ValidationError:  # valid JSON holding a number no Python type takes
        return "json"
    except msgspec.DecodeError:
        return "not json"
    return "too deep" if _depth(value) > MAX_DEPTH else "json"


def _depth(value: Any) -> int:
    best, stack = 0, [(value, 0)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            depth += 1
            best = max(best, depth)
            stack.extend((v, depth) for v in (node.values() if isinstance(node, dict) else node))
    return best
