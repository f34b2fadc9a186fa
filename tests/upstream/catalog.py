"""The fixture's catalog: its resources and resource template, its prompts, and completion of their arguments."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

import mcp.types as types
from mcp import MCPError, UriTemplate
from mcp.types.jsonrpc import INVALID_PARAMS, INVALID_REQUEST

from tests.upstream.interaction import InputUnavailable, elicit, gather
from tests.upstream.media import PNG
from tests.upstream.state import Ctx, connection_state

# ---- resources

STATIC_TEXT = "test://static-text"
STATIC_BINARY = "test://static-binary"
WATCHED = "test://watched-resource"
TEMPLATE = "test://template/{id}/data"
_TEMPLATE = UriTemplate.parse(TEMPLATE)

Contents = types.TextResourceContents | types.BlobResourceContents
RESOURCES: dict[str, tuple[types.Resource, Contents]] = {
    STATIC_TEXT: (
        types.Resource(uri=STATIC_TEXT, name="static-text", description="A static text resource",
                       mime_type="text/plain"),
        types.TextResourceContents(uri=STATIC_TEXT, mime_type="text/plain",
                                   text="This is the content of the static text resource."),
    ),
    STATIC_BINARY: (
        types.Resource(uri=STATIC_BINARY, name="static-binary", description="A static binary resource (a PNG)",
                       mime_type="image/png"),
        types.BlobResourceContents(uri=STATIC_BINARY, mime_type="image/png", blob=PNG),
    ),
    WATCHED: (
        types.Resource(uri=WATCHED, name="watched-resource", description="A resource clients may subscribe to",
                       mime_type="text/plain"),
        types.TextResourceContents(uri=WATCHED, mime_type="text/plain", text="Watched resource content"),
    ),
}


def _not_found(uri: str) -> MCPError:
    return MCPError(INVALID_PARAMS, "Resource not found", {"uri": uri})


def _read(uri: str) -> Contents:
    if uri in RESOURCES:
        return RESOURCES[uri][1]
    match = _TEMPLATE.match(uri)
    if match is None:
        raise _not_found(uri)
    item = match["id"]
    text = json.dumps({"id": item, "templateTest": True, "data": f"Data for ID: {item}"}, separators=(",", ":"))
    return types.TextResourceContents(uri=uri, mime_type="application/json", text=text)


async def list_resources(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListResourcesResult:
    return types.ListResourcesResult(resources=[resource for resource, _ in RESOURCES.values()])


async def list_templates(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListResourceTemplatesResult:
    template = types.ResourceTemplate(uri_template=TEMPLATE, name="template-data", mime_type="application/json",
                                      description="A resource template: the data of item {id}")
    return types.ListResourceTemplatesResult(resource_templates=[template])


async def read_resource(ctx: Ctx, params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    return types.ReadResourceResult(contents=[_read(params.uri)])


async def subscribe(ctx: Ctx, params: types.SubscribeRequestParams) -> types.EmptyResult:
    # Recorded per connection; no resource here ever changes, so no update notification is ever due.
    _read(params.uri)  # only what exists can be watched
    connection_state(ctx).subscriptions.add(params.uri)
    return types.EmptyResult()


async def unsubscribe(ctx: Ctx, params: types.UnsubscribeRequestParams) -> types.EmptyResult:
    connection_state(ctx).subscriptions.discard(params.uri)
    return types.EmptyResult()


# ---- prompts

# A prompt's messages, or (2026-07-28) what it needs from the client before it can render them.
Rendered = list[types.PromptMessage] | types.InputRequiredResult
PromptFn = Callable[[Ctx, dict[str, str]], Awaitable[Rendered]]
PROMPTS: dict[str, tuple[types.Prompt, PromptFn]] = {}


def _prompt(name: str, description: str, **arguments: str) -> Callable[[PromptFn], PromptFn]:
    """Register a prompt; `arguments` maps each (required) argument to its description."""
    def register(render: PromptFn) -> PromptFn:
        listed = [types.PromptArgument(name=arg, description=text, required=True) for arg, text in arguments.items()]
        PROMPTS[name] = (types.Prompt(name=name, description=description, arguments=listed or None), render)
        return render
    return register


def _user(content: types.ContentBlock) -> types.PromptMessage:
    return types.PromptMessage(role="user", content=content)


@_prompt("test_simple_prompt", "A simple prompt without arguments")
async def _simple_prompt(ctx: Ctx, args: dict[str, str]) -> list[types.PromptMessage]:
    return [_user(types.TextContent(text="This is a simple prompt for testing."))]


@_prompt("test_prompt_with_arguments", "A prompt with two arguments",
         arg1="First test argument", arg2="Second test argument")
async def _prompt_with_arguments(ctx: Ctx, args: dict[str, str]) -> list[types.PromptMessage]:
    text = f"Prompt with arguments: arg1='{args['arg1']}', arg2='{args['arg2']}'"
    return [_user(types.TextContent(text=text))]


@_prompt("test_prompt_with_embedded_resource", "A prompt embedding a resource",
         resourceUri="URI of the resource to embed")
async def _prompt_with_embedded_resource(ctx: Ctx, args: dict[str, str]) -> list[types.PromptMessage]:
    resource = types.TextResourceContents(uri=args["resourceUri"], mime_type="text/plain",
                                          text="Embedded resource content for testing.")
    return [_user(types.EmbeddedResource(resource=resource)),
            _user(types.TextContent(text="Please process the embedded resource above."))]


@_prompt("test_prompt_with_image", "A prompt with an image")
async def _prompt_with_image(ctx: Ctx, args: dict[str, str]) -> list[types.PromptMessage]:
    return [_user(types.ImageContent(data=PNG, mime_type="image/png")),
            _user(types.TextContent(text="Please analyze the image above."))]


@_prompt("test_input_required_result_prompt", "A prompt that first asks the user what context to use")
async def _input_required_prompt(ctx: Ctx, args: dict[str, str]) -> Rendered:
    form = {"type": "object", "properties": {"context": {"type": "string"}}, "required": ["context"]}
    try:
        answers = await gather(ctx, {"user_context": elicit("What context should the prompt use?", form)})
    except InputUnavailable as exc:
        raise MCPError(INVALID_REQUEST, str(exc)) from exc
    if isinstance(answers, types.InputRequiredResult):
        return answers
    answer: types.ElicitResult = answers["user_context"]
    context = answer.content.get("context") if answer.action == "accept" and answer.content else None
    return [_user(types.TextContent(text=f"Answer with this context in mind: {context or '(none given)'}"))]


async def list_prompts(ctx: Ctx, params: types.PaginatedRequestParams | None) -> types.ListPromptsResult:
    return types.ListPromptsResult(prompts=[prompt for prompt, _ in PROMPTS.values()])


async def get_prompt(ctx: Ctx, params: types.GetPromptRequestParams,
                     ) -> types.GetPromptResult | types.InputRequiredResult:
    found = PROMPTS.get(params.name)
    if found is None:
        raise MCPError(INVALID_PARAMS, f"Unknown prompt: {params.name}", {"name": params.name})
    prompt, render = found
    args = params.arguments or {}
    missing = [arg.name for arg in prompt.arguments or () if arg.required and arg.name not in args]
    if missing:
        raise MCPError(INVALID_PARAMS, f"Missing required arguments: {', '.join(missing)}", {"missing": missing})
    messages = await render(ctx, args)
    if isinstance(messages, types.InputRequiredResult):
        return messages
    return types.GetPromptResult(description=prompt.description, messages=messages)


# ---- completion: suggestions for the prompt's arguments and the template's variable

COMPLETIONS: dict[tuple[str, str], tuple[str, ...]] = {
    ("test_prompt_with_arguments", "arg1"): ("hello", "help", "test", "testValue1"),
    ("test_prompt_with_arguments", "arg2"): ("world", "word", "test", "testValue2"),
    (TEMPLATE, "id"): ("1", "2", "3", "12", "123"),
}
MAX_COMPLETIONS = 100  # the spec's cap on values per response


async def complete(ctx: Ctx, params: types.CompleteRequestParams) -> types.CompleteResult:
    ref = params.ref
    if isinstance(ref, types.PromptReference):
        if ref.name not in PROMPTS:
            raise MCPError(INVALID_PARAMS, f"Unknown prompt: {ref.name}", {"name": ref.name})
        target = ref.name
    else:
        if ref.uri != TEMPLATE:
            raise MCPError(INVALID_PARAMS, f"Unknown resource template: {ref.uri}", {"uri": ref.uri})
        target = ref.uri
    typed = params.argument.value
    values = [v for v in COMPLETIONS.get((target, params.argument.name), ()) if v.startswith(typed)]
    return types.CompleteResult(completion=types.Completion(
        values=values[:MAX_COMPLETIONS], total=len(values), has_more=len(values) > MAX_COMPLETIONS))
