"""Asking the client for input mid-request (elicitation, sampling, its roots), in either era.

A handshake-era (2025-11-25 and older) request asks by sending the client a request of its own
(`elicitation/create`, `sampling/createMessage`, `roots/list`) on the calling request's stream and
awaiting the answer. A 2026-07-28 request cannot be answered that way (the server has no channel
back to the client): the handler returns an `InputRequiredResult` whose `inputRequests` name what
it needs, and the client retries the same request with `inputResponses` keyed alike, echoing the
result's `requestState`. `gather` does whichever the request's era calls for, so a handler is
written once for both.

`requestState` is plaintext to the handlers here: the SDK's `RequestStateBoundary` middleware
(installed by `fixture_server.build_server`) seals it on the way out, bound to the method, target
and arguments of the request, and refuses a tampered, expired or misdirected echo with -32602
before any handler runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import mcp.types as types
from mcp import MCPError
from mcp.types.jsonrpc import MISSING_REQUIRED_CLIENT_CAPABILITY
from mcp.types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from tests.upstream.state import Ctx, on_this_stream

# How long a handshake-era request waits for the client to answer one of the server's requests.
CLIENT_REQUEST_TIMEOUT = 20.0

InputRequest = types.ElicitRequest | types.CreateMessageRequest | types.ListRootsRequest
Answers = dict[str, Any]  # key -> the client's answer: ElicitResult, CreateMessageResult or ListRootsResult

# What the client must have declared to be asked each kind of request, and how its answer reads.
_NEEDS: dict[str, tuple[str, types.ClientCapabilities]] = {
    "elicitation/create": ("elicitation", types.ClientCapabilities(elicitation=types.ElicitationCapability())),
    "sampling/createMessage": ("sampling", types.ClientCapabilities(sampling=types.SamplingCapability())),
    "roots/list": ("roots", types.ClientCapabilities(roots=types.RootsCapability())),
}
_ANSWERS: dict[str, type[types.Result]] = {
    "elicitation/create": types.ElicitResult,
    "sampling/createMessage": types.CreateMessageResult,
    "roots/list": types.ListRootsResult,
}


def answer_type(method: str) -> type[types.Result]:
    """The kind of result that answers a request of `method`."""
    return _ANSWERS[method]


class InputUnavailable(Exception):
    """A handshake-era client cannot be asked (it lacks the capability) or did not answer."""


def is_modern(ctx: Ctx) -> bool:
    """Whether the request came in the stateless 2026-07-28 era (an `_meta` envelope, no session)."""
    return ctx.protocol_version in MODERN_PROTOCOL_VERSIONS


def can_ask(ctx: Ctx, method: str) -> bool:
    """Whether the client declared the capability to be sent `method` (in this request's `_meta` on 2026-07-28)."""
    return ctx.session.check_client_capability(_NEEDS[method][1])


def require(ctx: Ctx, *methods: str) -> None:
    """Refuse the request unless the client can be asked every one of `methods`.

    2026-07-28: a MissingRequiredClientCapabilityError (-32021, HTTP 400) naming what is missing.
    Earlier: `InputUnavailable`, which a tool reports as a tool execution error.
    """
    missing = [method for method in methods if not can_ask(ctx, method)]
    if not missing:
        return
    names = sorted({_NEEDS[method][0] for method in missing})
    if is_modern(ctx):
        data = types.MissingRequiredClientCapabilityErrorData(
            required_capabilities=types.ClientCapabilities.model_validate({name: {} for name in names}))
        raise MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY, f"Missing required client capability: {', '.join(names)}",
                       data.model_dump(by_alias=True, mode="json", exclude_none=True))
    raise InputUnavailable(f"The client does not support {' or '.join(names)} (no {' or '.join(names)} capability)")


def retry(ctx: Ctx) -> types.InputResponseRequestParams:
    """The MRTR fields of this request: the client's `inputResponses` and the (unsealed) `requestState`."""
    try:
        return types.InputResponseRequestParams.model_validate(ctx.params or {}, by_name=False)
    except ValidationError:  # the method's own params validation has refused anything malformed already
        return types.InputResponseRequestParams()


def request_state(ctx: Ctx) -> str | None:
    return retry(ctx).request_state if is_modern(ctx) else None


async def gather(ctx: Ctx, requests: Mapping[str, InputRequest], *, state: str | None = None,
                 ) -> Answers | types.InputRequiredResult:
    """The client's answers to every one of `requests` (keyed alike), or, on 2026-07-28, an
    `InputRequiredResult` asking for those this request did not bring, carrying `state`.

    On 2026-07-28 the answers come from the request's `inputResponses`: one that is missing, or
    not the kind of answer its request calls for, is asked for again; keys nobody asked for are
    ignored. Earlier, each request is sent to the client now, in order, on the request's stream.
    """
    require(ctx, *(request.method for request in requests.values()))
    if is_modern(ctx):
        given = retry(ctx).input_responses or {}
        answers: Answers = {}
        for key, request in requests.items():
            answer = given.get(key)
            if isinstance(answer, _ANSWERS[request.method]):
                answers[key] = answer
        if len(answers) == len(requests):
            return answers
        return types.InputRequiredResult(input_requests={k: r for k, r in requests.items() if k not in answers},
                                         request_state=state)
    answers = {}
    for key, request in requests.items():
        try:
            answers[key] = await ctx.session.send_request(
                request, _ANSWERS[request.method], request_read_timeout_seconds=CLIENT_REQUEST_TIMEOUT,
                metadata=on_this_stream(ctx))
        except MCPError as exc:
            raise InputUnavailable(f"{request.method} failed: {exc}") from exc
    return answers


# ---- building the requests


def elicit(message: str, schema: dict[str, Any]) -> types.ElicitRequest:
    return types.ElicitRequest(params=types.ElicitRequestFormParams(message=message, requested_schema=schema))


def sample(prompt: str, max_tokens: int = 100) -> types.CreateMessageRequest:
    message = types.SamplingMessage(role="user", content=types.TextContent(text=prompt))
    return types.CreateMessageRequest(params=types.CreateMessageRequestParams(messages=[message],
                                                                              max_tokens=max_tokens))


def list_roots() -> types.ListRootsRequest:
    return types.ListRootsRequest()


# ---- reading the answers


def elicited(result: types.ElicitResult) -> str:
    return f"action={result.action}, content={json.dumps(result.content)}"


def sampled(result: types.CreateMessageResult) -> str:
    return result.content.text if isinstance(result.content, types.TextContent) else f"<{result.content.type}>"


def roots(result: types.ListRootsResult) -> str:
    return ", ".join(str(root.uri) for root in result.roots) or "(none)"
