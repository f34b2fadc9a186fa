"""The fixture's tools: their registry, the `tools/list` and `tools/call` handlers, and every tool.

Content tools (text, image, audio, embedded resource, mixed), an error, logging, progress, sampling,
elicitation, a JSON Schema 2020-12 input schema and reconnection (an SSE stream closed mid-call).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
import mcp.types as types
from jsonschema import Draft202012Validator
from mcp import MCPError
from mcp.types.jsonrpc import INVALID_PARAMS

from tests.upstream.media import PNG, WAV
from tests.upstream.state import Ctx, log, on_this_stream

# The pause the scenarios ask for between a tool's notifications, so that a client sees them arrive
# while the call is still running.
STEP_DELAY = 0.05
# How long a tool waits for the client to answer its sampling or elicitation request.
CLIENT_REQUEST_TIMEOUT = 20.0

ToolFn = Callable[[Ctx, dict[str, Any]], Awaitable[types.CallToolResult]]


class ToolFailed(Exception):
    """Ends a tool call as a tool execution error (`isError`) carrying the message."""


@dataclass(frozen=True)
class _Tool:
    definition: types.Tool
    validator: Draft202012Validator
    run: ToolFn


TOOLS: dict[str, _Tool] = {}
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}


def _tool(name: str, description: str, input_schema: dict[str, Any] = NO_ARGUMENTS) -> Callable[[ToolFn], ToolFn]:
    Draft202012Validator.check_schema(input_schema)

    def register(run: ToolFn) -> ToolFn:
        definition = types.Tool(name=name, description=description, input_schema=input_schema)
        TOOLS[name] = _Tool(definition, Draft202012Validator(input_schema), run)
        return run
    return register


def _text(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)])


def _string_argument(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]}


async def list_tools(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[tool.definition for tool in TOOLS.values()])


async def call_tool(ctx: Ctx, params: types.CallToolRequestParams) -> types.CallToolResult:
    tool = TOOLS.get(params.name)
    if tool is None:  # a protocol error, unlike a tool that ran and failed
        raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}", {"name": params.name})
    arguments = params.arguments or {}
    # Invalid arguments are a tool execution error, so that a model can read what it got wrong.
    problems = [error.message for error in tool.validator.iter_errors(arguments)]
    if problems:
        return types.CallToolResult(content=[types.TextContent(text="Invalid arguments: " + "; ".join(problems))],
                                    is_error=True)
    try:
        return await tool.run(ctx, arguments)
    except ToolFailed as failed:
        return types.CallToolResult(content=[types.TextContent(text=str(failed))], is_error=True)


@_tool("test_simple_text", "Returns a simple text response")
async def _simple_text(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    return _text("This is a simple text response for testing.")


@_tool("test_image_content", "Returns an image (a 1x1 red PNG)")
async def _image_content(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.ImageContent(data=PNG, mime_type="image/png")])


@_tool("test_audio_content", "Returns audio (10 ms of silence as WAV)")
async def _audio_content(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.AudioContent(data=WAV, mime_type="audio/wav")])


@_tool("test_embedded_resource", "Returns an embedded text resource")
async def _embedded_resource(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    resource = types.TextResourceContents(uri="test://embedded-resource", mime_type="text/plain",
                                          text="This is an embedded resource content.")
    return types.CallToolResult(content=[types.EmbeddedResource(resource=resource)])


@_tool("test_multiple_content_types", "Returns text, an image and an embedded resource together")
async def _multiple_content_types(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    resource = types.TextResourceContents(uri="test://mixed-content-resource", mime_type="application/json",
                                          text=json.dumps({"test": "data", "value": 123}, separators=(",", ":")))
    return types.CallToolResult(content=[
        types.TextContent(text="Multiple content types test:"),
        types.ImageContent(data=PNG, mime_type="image/png"),
        types.EmbeddedResource(resource=resource),
    ])


@_tool("test_error_handling", "Always fails, as a tool execution error")
async def _error_handling(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    raise ToolFailed("This tool intentionally returns an error for testing")


@_tool("test_tool_with_logging", "Sends three info log notifications while it runs")
async def _with_logging(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    for step, message in enumerate(("Tool execution started", "Tool processing data", "Tool execution completed")):
        if step:
            await anyio.sleep(STEP_DELAY)
        await log(ctx, "info", message)
    return _text("Tool with logging executed successfully")


@_tool("test_tool_with_progress", "Reports progress 0, 50 and 100 of 100 while it runs")
async def _with_progress(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    for step, progress in enumerate((0, 50, 100)):
        if step:
            await anyio.sleep(STEP_DELAY)
        await ctx.session.report_progress(progress, 100)  # a no-op unless the call asked for progress
    return _text("Tool with progress executed successfully")


@_tool("test_sampling", "Asks the client's LLM to answer the prompt (sampling/createMessage)",
       _string_argument("prompt", "The prompt to send to the LLM"))
async def _sampling(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    if not ctx.session.check_client_capability(types.ClientCapabilities(sampling=types.SamplingCapability())):
        raise ToolFailed("The client does not support sampling (no sampling capability)")
    message = types.SamplingMessage(role="user", content=types.TextContent(text=args["prompt"]))
    request = types.CreateMessageRequest(params=types.CreateMessageRequestParams(messages=[message], max_tokens=100))
    try:
        result = await ctx.session.send_request(request, types.CreateMessageResult,
                                                request_read_timeout_seconds=CLIENT_REQUEST_TIMEOUT,
                                                metadata=on_this_stream(ctx))
    except MCPError as exc:
        raise ToolFailed(f"Sampling failed: {exc}") from exc
    answer = result.content.text if isinstance(result.content, types.TextContent) else f"<{result.content.type}>"
    return _text(f"LLM response: {answer}")


async def _elicit(ctx: Ctx, message: str, schema: dict[str, Any]) -> types.ElicitResult:
    if not ctx.session.check_client_capability(types.ClientCapabilities(elicitation=types.ElicitationCapability())):
        raise ToolFailed("The client does not support elicitation (no elicitation capability)")
    request = types.ElicitRequest(params=types.ElicitRequestFormParams(message=message, requested_schema=schema))
    try:
        return await ctx.session.send_request(request, types.ElicitResult,
                                              request_read_timeout_seconds=CLIENT_REQUEST_TIMEOUT,
                                              metadata=on_this_stream(ctx))
    except MCPError as exc:
        raise ToolFailed(f"Elicitation failed: {exc}") from exc


def _elicited(result: types.ElicitResult) -> str:
    return f"action={result.action}, content={json.dumps(result.content)}"


@_tool("test_elicitation", "Asks the user for a username and an email address (elicitation/create)",
       _string_argument("message", "The message to show the user"))
async def _elicitation(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    result = await _elicit(ctx, args["message"], {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    })
    return _text(f"User response: {_elicited(result)}")


@_tool("test_elicitation_sep1034_defaults", "Elicits a form whose fields of every primitive type have defaults")
async def _elicitation_defaults(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    result = await _elicit(ctx, "Please review and update the form fields with defaults", {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"],
                       "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": True},
        },
    })
    return _text(f"Elicitation completed: {_elicited(result)}")


def _titled(prefix: str, *titles: str) -> list[dict[str, str]]:
    return [{"const": f"{prefix}{n}", "title": title} for n, title in enumerate(titles, 1)]


@_tool("test_elicitation_sep1330_enums", "Elicits a form with each kind of enum field (single and multi select)")
async def _elicitation_enums(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    options = ["option1", "option2", "option3"]
    result = await _elicit(ctx, "Please pick from the enum fields", {
        "type": "object",
        "properties": {
            "untitledSingle": {"type": "string", "description": "Untitled single-select", "enum": options},
            "titledSingle": {"type": "string", "description": "Titled single-select",
                             "oneOf": _titled("value", "First Option", "Second Option", "Third Option")},
            "legacyEnum": {"type": "string", "description": "Legacy titled single-select (enumNames)",
                           "enum": ["opt1", "opt2", "opt3"], "enumNames": ["Option One", "Option Two", "Option Three"]},
            "untitledMulti": {"type": "array", "description": "Untitled multi-select",
                              "items": {"type": "string", "enum": options}},
            "titledMulti": {"type": "array", "description": "Titled multi-select",
                            "items": {"anyOf": _titled("value", "First Choice", "Second Choice", "Third Choice")}},
        },
    })
    return _text(f"Elicitation completed: {_elicited(result)}")


@_tool("json_schema_2020_12_tool", "Tool with JSON Schema 2020-12 features", {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "$defs": {"address": {"$anchor": "addressDef", "type": "object",
                          "properties": {"street": {"type": "string"}, "city": {"type": "string"}}}},
    "properties": {
        "name": {"type": "string"},
        "address": {"$ref": "#/$defs/address"},
        "contactMethod": {"type": "string", "enum": ["phone", "email"]},
        "phone": {"type": "string"},
        "email": {"type": "string"},
    },
    "allOf": [{"anyOf": [{"required": ["phone"]}, {"required": ["email"]}]}],
    "if": {"properties": {"contactMethod": {"const": "phone"}}, "required": ["contactMethod"]},
    "then": {"required": ["phone"]},
    "else": {"required": ["email"]},
    "additionalProperties": False,
})
async def _json_schema_2020_12(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    return _text(f"Received: {json.dumps(args, sort_keys=True)}")


@_tool("test_reconnection", "Closes its SSE response stream mid-call; the result is replayed on reconnection")
async def _reconnection(ctx: Ctx, args: dict[str, Any]) -> types.CallToolResult:
    # Offered only on resumable streams (2025-11-25 or later, and an event store); elsewhere the call
    # simply completes. The pause lets the stream's priming event, the client's resume cursor,
    # reach the client before the stream is cut: a close that won that race would leave it none.
    if ctx.close_sse_stream is not None:
        await anyio.sleep(2 * STEP_DELAY)
        await ctx.close_sse_stream()
    return _text("Reconnection test completed")
