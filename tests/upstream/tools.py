"""The fixture's tools: their registry, the `tools/list` and `tools/call` handlers, and every tool.

Content tools (text, image, audio, embedded resource, mixed), an error, logging, progress, sampling,
elicitation, a JSON Schema 2020-12 input schema and reconnection (an SSE stream closed mid-call);
then the 2026-07-28 scenarios' tools: multi round-trip requests, the stateless scenario's
diagnostics, an `x-mcp-header` parameter, and the Tasks extension's tools. A tool that needs the
client asks through `interaction.gather`, which serves either era; a tool that may run as a task
answers `Deferred(work)` and `call_tool` runs the work as a task or within the call.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, TypeVar

import anyio
import mcp.types as types
from jsonschema import Draft202012Validator
from mcp import MCPError
from mcp.server.subscriptions import PromptsListChanged, ToolsListChanged
from mcp.types.jsonrpc import INTERNAL_ERROR, INVALID_PARAMS

from tests.upstream import tasks
from tests.upstream.interaction import (
    InputRequest,
    InputUnavailable,
    can_ask,
    elicit,
    elicited,
    gather,
    is_modern,
    list_roots,
    request_state,
    require,
    roots,
    sample,
    sampled,
)
from tests.upstream.media import PNG, WAV
from tests.upstream.shared import announce, task_store
from tests.upstream.state import Ctx, log
from tests.upstream.tasks import Deferred, TaskIO, TaskSupport

# The pause the scenarios ask for between a tool's notifications, so that a client sees them arrive
# while the call is still running.
STEP_DELAY = 0.05
# A tool's outcome: its result, or (2026-07-28) what it needs from the client before it can finish.
ToolResult = types.CallToolResult | types.InputRequiredResult
# What a tool that may run as a task (see `tasks`) answers besides: the work that remains.
ToolFn = Callable[[Ctx, dict[str, Any]], Awaitable[ToolResult | Deferred]]


_Outcome = TypeVar("_Outcome")


class ToolFailed(Exception):
    """Ends a tool call as a tool execution error (`isError`) carrying the message."""


@dataclass(frozen=True)
class _Tool:
    definition: types.Tool
    validator: Draft202012Validator
    run: ToolFn
    # Whether (Tasks extension) the tool may run as a task, or must: a client that did not declare
    # the extension is refused a task-only tool (-32021, before it runs).
    task_support: TaskSupport | None = None


TOOLS: dict[str, _Tool] = {}
NO_ARGUMENTS: dict[str, Any] = {"type": "object", "properties": {}}


def _tool(name: str, description: str, input_schema: dict[str, Any] = NO_ARGUMENTS, *,
          task_support: TaskSupport | None = None) -> Callable[[ToolFn], ToolFn]:
    Draft202012Validator.check_schema(input_schema)

    def register(run: ToolFn) -> ToolFn:
        definition = types.Tool(name=name, description=description, input_schema=input_schema)
        TOOLS[name] = _Tool(definition, Draft202012Validator(input_schema), run, task_support)
        return run
    return register


def _text(text: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=text)])


def _string_argument(name: str, description: str) -> dict[str, Any]:
    return {"type": "object", "properties": {name: {"type": "string", "description": description}}, "required": [name]}


def input_schema(name: str) -> dict[str, Any] | None:
    tool = TOOLS.get(name)
    return tool.definition.input_schema if tool is not None else None


async def list_tools(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    return types.ListToolsResult(tools=[tool.definition for tool in TOOLS.values()])


async def call_tool(ctx: Ctx, params: types.CallToolRequestParams) -> ToolResult | dict[str, Any]:
    """The tool's result, what it needs first (InputRequiredResult), or a CreateTaskResult."""
    tool = TOOLS.get(params.name)
    if tool is None:  # a protocol error, unlike a tool that ran and failed
        raise MCPError(INVALID_PARAMS, f"Unknown tool: {params.name}", {"name": params.name})
    as_task = tool.task_support is not None and tasks.negotiated(ctx)
    if tool.task_support == "required" and not as_task and is_modern(ctx):  # the handshake era runs it inline
        raise tasks.missing_extension()
    arguments = params.arguments or {}
    # Invalid arguments are a tool execution error, so that a model can read what it got wrong.
    problems = [error.message for error in tool.validator.iter_errors(arguments)]
    if problems:
        return types.CallToolResult(content=[types.TextContent(text="Invalid arguments: " + "; ".join(problems))],
                                    is_error=True)
    outcome = await _reporting_failure(tool.run(ctx, arguments))
    if not isinstance(outcome, Deferred):
        return outcome
    deferred = Deferred(partial(_deferred_work, outcome.work))
    return tasks.start(task_store(ctx), deferred) if as_task else await tasks.run_inline(ctx, deferred)


async def _reporting_failure(running: Awaitable[_Outcome]) -> _Outcome | types.CallToolResult:
    try:
        return await running
    except (ToolFailed, InputUnavailable) as failed:
        return types.CallToolResult(content=[types.TextContent(text=str(failed))], is_error=True)


async def _deferred_work(work: tasks.Work, io: tasks.TaskIO) -> types.CallToolResult:
    return await _reporting_failure(work(io))


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


@_tool("test_logging_tool", "Sends three info log notifications while it runs (2026-07-28: if the call's _meta asks)")
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


# ---- asking the client: each era its own way (see `interaction`)


@_tool("test_sampling", "Asks the client's LLM to answer the prompt (sampling/createMessage)",
       _string_argument("prompt", "The prompt to send to the LLM"))
async def _sampling(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    answers = await gather(ctx, {"answer": sample(args["prompt"])})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"LLM response: {sampled(answers['answer'])}")


def large_text(size: int) -> str:
    """`size` characters of hex that do not compress below half their size (the same for a test
    that checks what arrived): larger than a NATS message even once compressed."""
    return hashlib.shake_256(str(size).encode()).hexdigest(size // 2)


@_tool("test_large_messages", "Logs `size` characters, then asks the client's LLM to repeat them (sampling) "
       "and answers the SHA-256 of what came back (messages larger than the gateway's bus carries at once)",
       {"type": "object", "properties": {"size": {"type": "integer", "minimum": 2, "maximum": 16_000_000}},
        "required": ["size"]})
async def _large_messages(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    text = large_text(args["size"])
    await log(ctx, "info", text)
    answers = await gather(ctx, {"answer": sample(text)})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    echoed = sampled(answers["answer"])
    return _text(f"sampled {len(echoed)} characters, sha256 {hashlib.sha256(echoed.encode()).hexdigest()}")


async def _elicit_form(ctx: Ctx, message: str, schema: dict[str, Any], done: str) -> ToolResult:
    answers = await gather(ctx, {"form": elicit(message, schema)})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"{done}: {elicited(answers['form'])}")


@_tool("test_elicitation", "Asks the user for a username and an email address (elicitation/create)",
       _string_argument("message", "The message to show the user"))
async def _elicitation(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    return await _elicit_form(ctx, args["message"], {
        "type": "object",
        "properties": {
            "username": {"type": "string", "description": "User's response"},
            "email": {"type": "string", "description": "User's email address"},
        },
        "required": ["username", "email"],
    }, "User response")


@_tool("test_elicitation_sep1034_defaults", "Elicits a form whose fields of every primitive type have defaults")
async def _elicitation_defaults(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    return await _elicit_form(ctx, "Please review and update the form fields with defaults", {
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "User name", "default": "John Doe"},
            "age": {"type": "integer", "description": "User age", "default": 30},
            "score": {"type": "number", "description": "User score", "default": 95.5},
            "status": {"type": "string", "description": "User status", "enum": ["active", "inactive", "pending"],
                       "default": "active"},
            "verified": {"type": "boolean", "description": "Verification status", "default": True},
        },
    }, "Elicitation completed")


def _titled(prefix: str, *titles: str) -> list[dict[str, str]]:
    return [{"const": f"{prefix}{n}", "title": title} for n, title in enumerate(titles, 1)]


@_tool("test_elicitation_sep1330_enums", "Elicits a form with each kind of enum field (single and multi select)")
async def _elicitation_enums(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    options = ["option1", "option2", "option3"]
    return await _elicit_form(ctx, "Please pick from the enum fields", {
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
    }, "Elicitation completed")


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


# ---- the 2026-07-28 scenarios' tools: multi round-trip requests (SEP-2322)
# Each asks in the era's own way, so a handshake-era client is sent the same requests mid-call.

_NAME_FORM = {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}


def _content(answer: types.ElicitResult, field: str) -> str:
    """An accepted form's field, or what the user did instead."""
    if answer.action != "accept" or not answer.content or field not in answer.content:
        return f"<{answer.action}>"
    return str(answer.content[field])


@_tool("test_input_required_result_elicitation", "Asks the user's name (elicitation), then greets them")
async def _mrtr_elicitation(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    answers = await gather(ctx, {"user_name": elicit("What is your name?", _NAME_FORM)})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"Hello, {_content(answers['user_name'], 'name')}!")


@_tool("test_input_required_result_sampling", "Asks the client's LLM the capital of France (sampling)")
async def _mrtr_sampling(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    answers = await gather(ctx, {"capital_question": sample("What is the capital of France?")})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"LLM response: {sampled(answers['capital_question'])}")


@_tool("test_input_required_result_list_roots", "Asks the client for its roots (roots/list)")
async def _mrtr_list_roots(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    answers = await gather(ctx, {"client_roots": list_roots()})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"Client roots: {roots(answers['client_roots'])}")


_CONFIRM_STATE = json.dumps({"awaiting": "confirm"})


@_tool("test_input_required_result_request_state", "Asks for a confirmation, keeping requestState across the retry")
async def _mrtr_request_state(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    confirm = elicit("Please confirm", {"type": "object", "properties": {"ok": {"type": "boolean"}},
                                        "required": ["ok"]})
    # The answer counts only with the state this tool minted for it (modern era); else it asks again.
    state = request_state(ctx)
    answers = await gather(ctx, {"confirm": confirm}, state=_CONFIRM_STATE)
    if isinstance(answers, types.InputRequiredResult):
        return answers
    if is_modern(ctx) and state != _CONFIRM_STATE:
        return types.InputRequiredResult(input_requests={"confirm": confirm}, request_state=_CONFIRM_STATE)
    return _text(f"Confirmed: {_content(answers['confirm'], 'ok')}")


@_tool("test_input_required_result_multiple_inputs", "Asks for a name, a greeting (sampling) and the roots at once")
async def _mrtr_multiple_inputs(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    answers = await gather(ctx, {
        "user_name": elicit("What is your name?", _NAME_FORM),
        "greeting": sample("Generate a greeting", max_tokens=50),
        "client_roots": list_roots(),
    }, state=json.dumps({"asked": ["user_name", "greeting", "client_roots"]}))
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"{sampled(answers['greeting'])} {_content(answers['user_name'], 'name')}, "
                 f"your roots: {roots(answers['client_roots'])}")


_COLOR = elicit("Step 2: What is your favorite color?",
                {"type": "object", "properties": {"color": {"type": "string"}}, "required": ["color"]})


@_tool("test_input_required_result_multi_round", "Asks a name, then (a second round) a favourite colour")
async def _mrtr_multi_round(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    # Round 1 asks step1; its answer rides the state into round 2, which asks step2; round 3 completes.
    # A handshake-era client is asked both in turn within the one call.
    state = json.loads(request_state(ctx) or "{}")
    name = state.get("name")
    if name is None:
        first = await gather(ctx, {"step1": elicit("Step 1: What is your name?", _NAME_FORM)},
                             state=json.dumps({"round": 1}))
        if isinstance(first, types.InputRequiredResult):
            return first
        name = _content(first["step1"], "name")
        if is_modern(ctx):
            return types.InputRequiredResult(input_requests={"step2": _COLOR}, request_state=json.dumps(
                {"round": 2, "name": name}))
    second = await gather(ctx, {"step2": _COLOR}, state=json.dumps({"round": 2, "name": name}))
    if isinstance(second, types.InputRequiredResult):
        return second
    return _text(f"{name}'s favourite colour is {_content(second['step2'], 'color')}")


@_tool("test_input_required_result_tampered_state", "Asks a confirmation under integrity-protected requestState")
async def _mrtr_tampered_state(ctx: Ctx, args: dict[str, Any]) -> ToolResult | Deferred:
    # Tampering is refused before this runs (the SDK's RequestStateBoundary answers -32602).
    return await _mrtr_request_state(ctx, args)


@_tool("test_input_required_result_capabilities", "Asks only what the client declared it can answer")
async def _mrtr_capabilities(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    wanted: dict[str, InputRequest] = {
        "user_name": elicit("What is your name?", _NAME_FORM),
        "greeting": sample("Generate a greeting", max_tokens=50),
        "client_roots": list_roots(),
    }
    askable = {key: request for key, request in wanted.items() if can_ask(ctx, request.method)}
    if not askable:
        return _text("The client declared no capability to be asked anything")
    answers = await gather(ctx, askable)
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"Answered: {', '.join(sorted(answers))}")


# ---- the 2026-07-28 stateless scenario's diagnostic tools (SEP-2575)


@_tool("test_missing_capability", "Needs the client's sampling capability: refused (-32021) without it")
async def _missing_capability(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    require(ctx, "sampling/createMessage")
    answers = await gather(ctx, {"answer": sample("Say hello")})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    return _text(f"LLM response: {sampled(answers['answer'])}")


@_tool("test_streaming_elicitation", "Reports progress, then asks the user's name (elicitation)")
async def _streaming_elicitation(ctx: Ctx, args: dict[str, Any]) -> ToolResult | Deferred:
    await ctx.session.report_progress(0, 1)  # a no-op unless the call asked for progress
    return await _mrtr_elicitation(ctx, args)


@_tool("test_trigger_tool_change", "Announces a change of the tool list to subscribers (a diagnostic hook)")
async def _trigger_tool_change(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    await announce(ctx, ToolsListChanged())
    return _text("Announced a tools/list change")


@_tool("test_trigger_prompt_change", "Announces a change of the prompt list to subscribers (a diagnostic hook)")
async def _trigger_prompt_change(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    await announce(ctx, PromptsListChanged())
    return _text("Announced a prompts/list change")


# Its `x-mcp-header` annotation asks 2026-07-28 clients to mirror the argument into an
# `Mcp-Param-Region` header, which the SDK checks against the body before the call is served (SEP-2243).
@_tool("test_header_parameter", "Echoes a region argument that clients also send as the Mcp-Param-Region header", {
    "type": "object",
    "properties": {"region": {"type": "string", "description": "A region name", "x-mcp-header": "Region"}},
    "required": ["region"],
})
async def _header_parameter(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    return _text(f"Region: {args['region']}")


# ---- the Tasks extension scenarios' tools (SEP-2663): each may run as a task (see `tasks`)

FAILING_JOB_DELAY = 0.5


def _seconds_and_label() -> dict[str, Any]:
    return {"type": "object", "properties": {
        "seconds": {"type": "number", "minimum": 0, "description": "How long to compute"},
        "label": {"type": "string", "description": "A name for the computation"},
    }}


@_tool("greet", "Greets by name, at once (never a task)", _string_argument("name", "Whom to greet"))
async def _greet(ctx: Ctx, args: dict[str, Any]) -> ToolResult:
    return _text(f"Hello, {args['name']}!")


@_tool("slow_compute", "Computes for the given seconds; a task when the client supports tasks",
       _seconds_and_label(), task_support="optional")
async def _slow_compute(ctx: Ctx, args: dict[str, Any]) -> Deferred:
    seconds, label = args.get("seconds", 1), args.get("label", "computation")

    async def work(io: TaskIO) -> types.CallToolResult:
        await anyio.sleep(seconds)
        return _text(f"Computed {label} in {seconds}s")
    return Deferred(work)


@_tool("failing_job", "Runs (only as a task) and ends in a tool execution error", task_support="required")
async def _failing_job(ctx: Ctx, args: dict[str, Any]) -> Deferred:
    async def work(io: TaskIO) -> types.CallToolResult:
        await anyio.sleep(FAILING_JOB_DELAY)
        raise ToolFailed("The job failed, as it always does")
    return Deferred(work)


@_tool("protocol_error_job", "Crashes while it runs: a protocol error (a failed task)", task_support="optional")
async def _protocol_error_job(ctx: Ctx, args: dict[str, Any]) -> Deferred:
    async def work(io: TaskIO) -> types.CallToolResult:
        raise MCPError(INTERNAL_ERROR, "The job crashed")
    return Deferred(work)


@_tool("confirm_delete", "Asks the user to confirm deleting a file (a task waiting for input)",
       _string_argument("filename", "The file to delete"), task_support="optional")
async def _confirm_delete(ctx: Ctx, args: dict[str, Any]) -> Deferred:
    filename = args["filename"]

    async def work(io: TaskIO) -> types.CallToolResult:
        answers = await io.ask({"confirm": elicit(f"Delete {filename}?", {
            "type": "object", "properties": {"confirm": {"type": "boolean"}}, "required": ["confirm"]})})
        answer: types.ElicitResult = answers["confirm"]
        confirmed = answer.action == "accept" and bool((answer.content or {}).get("confirm"))
        return _text(f"Deleted {filename}" if confirmed else f"Kept {filename}")
    return Deferred(work)


@_tool("multi_input", "Asks two questions at once (a task waiting for two inputs)", task_support="optional")
async def _multi_input(ctx: Ctx, args: dict[str, Any]) -> Deferred:
    async def work(io: TaskIO) -> types.CallToolResult:
        answers = await io.ask({
            "first_name": elicit("What is your first name?", _NAME_FORM),
            "second_name": elicit("What is your second name?", _NAME_FORM),
        })
        return _text(f"Names: {_content(answers['first_name'], 'name')}, {_content(answers['second_name'], 'name')}")
    return Deferred(work)


@_tool("test_tool_with_task", "Asks the user's name (MRTR), then greets them from a task", task_support="required")
async def _tool_with_task(ctx: Ctx, args: dict[str, Any]) -> ToolResult | Deferred:
    # SEP-2663: input wanted before the task exists is gathered synchronously, by MRTR rounds.
    answers = await gather(ctx, {"user_name": elicit("What is your name?", _NAME_FORM)})
    if isinstance(answers, types.InputRequiredResult):
        return answers
    name = _content(answers["user_name"], "name")

    async def work(io: TaskIO) -> types.CallToolResult:
        await anyio.sleep(STEP_DELAY)
        return _text(f"Hello, {name}, from a task!")
    return Deferred(work)
