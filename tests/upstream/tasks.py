"""The Tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663): a tool call answered with a
durable task handle that the client polls, feeds input and cancels.

SDK 2.3.0 has no server side for this extension (its `tasks/*` types are 2025-11-25's experimental
tasks, which 2026-07-28 replaced), so it is written here, on the SDK's lowlevel seams: a tool
returns `Deferred(work)` to say "this may run as a task", and `tools.call_tool` hands it to
`start` (a task, when the request's client capabilities declare the extension) or `run_inline`
(otherwise: the work runs within the call). `tasks/get`, `tasks/update` and `tasks/cancel` are
request handlers registered by `register`.

The wire (SEP-2663): a `CreateTaskResult` is flat (`resultType: "task"`, `taskId`, `status`,
`createdAt`, `lastUpdatedAt`, `ttlMs`, `pollIntervalMs`); `tasks/get` returns the task with
`resultType: "complete"` and, by status, the inlined `result` (completed; a tool error is a
completed task whose result has `isError`), `error` (failed: a JSON-RPC error) or the outstanding
`inputRequests` (input_required), which `tasks/update` answers (partially if it likes; unknown or
malformed answers are ignored); `tasks/update` and `tasks/cancel` answer an empty ack. A client
that did not declare the extension is refused the `tasks/*` methods and the tools that can only run
as tasks with -32021; an unknown task id is -32602; over Streamable HTTP 2026-07-28, `Mcp-Name`
must carry the task id (-32020 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import anyio
import mcp.types as types
from mcp import MCPError
from mcp.server import Server
from mcp.shared.inbound import MCP_NAME_HEADER
from mcp.types.jsonrpc import (
    HEADER_MISMATCH,
    INTERNAL_ERROR,
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    MISSING_REQUIRED_CLIENT_CAPABILITY,
)
from pydantic import ValidationError

from tests.upstream.interaction import Answers, InputRequest, answer_type, gather, is_modern
from tests.upstream.state import Ctx

EXTENSION = "io.modelcontextprotocol/tasks"
TTL_MS = 10 * 60 * 1000  # how long a task stays retrievable after its creation
POLL_INTERVAL_MS = 200

Status = Literal["working", "input_required", "completed", "failed", "cancelled"]
TERMINAL: frozenset[Status] = frozenset({"completed", "failed", "cancelled"})
TaskSupport = Literal["optional", "required"]


class TaskIO:
    """What a tool's work uses to ask the client for input, wherever it runs."""

    async def ask(self, requests: Mapping[str, InputRequest]) -> Answers:
        raise NotImplementedError


Work = Callable[[TaskIO], Awaitable[types.CallToolResult]]


@dataclass(frozen=True)
class Deferred:
    """A tool's answer meaning "the rest is `work`, which may run as a task"."""

    work: Work


def negotiated(ctx: Ctx) -> bool:
    """Whether this 2026-07-28 request's client declared the extension (in the request's `_meta`).

    Tasks are served on that wire only (their results are 2026-07-28 shapes): a handshake-era
    client never gets one, whatever it declared at initialize.
    """
    capabilities = ctx.session.client_capabilities
    return is_modern(ctx) and capabilities is not None and EXTENSION in (capabilities.extensions or {})


def missing_extension() -> MCPError:
    data = types.MissingRequiredClientCapabilityErrorData(
        required_capabilities=types.ClientCapabilities(extensions={EXTENSION: {}}))
    return MCPError(MISSING_REQUIRED_CLIENT_CAPABILITY, f"This request requires the {EXTENSION} extension",
                    data.model_dump(by_alias=True, mode="json", exclude_none=True))


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class _Task(TaskIO):
    task_id: str
    created: float  # monotonic, for the TTL
    created_at: str
    updated_at: str
    status: Status = "working"
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    pending: dict[str, InputRequest] = field(default_factory=dict)
    answers: Answers = field(default_factory=dict)
    answered: asyncio.Event = field(default_factory=asyncio.Event)
    runner: asyncio.Task[None] | None = None

    def _set(self, status: Status) -> None:
        self.status, self.updated_at = status, _now()

    async def ask(self, requests: Mapping[str, InputRequest]) -> Answers:
        # Parks the task as input_required until tasks/update has answered every request.
        self.pending.update(requests)
        self._set("input_required")
        while any(key not in self.answers for key in requests):
            self.answered.clear()
            await self.answered.wait()
        return {key: self.answers.pop(key) for key in requests}

    def update(self, responses: Mapping[str, Any]) -> None:
        for key, raw in responses.items():
            request = self.pending.get(key)
            if request is None:  # never asked, or answered already: ignored, as SEP-2663 advises
                continue
            try:
                self.answers[key] = answer_type(request.method).model_validate(raw, by_name=False)
            except ValidationError:
                continue  # not an answer to this request: it stays outstanding
            del self.pending[key]
        if not self.pending and self.status == "input_required":
            self._set("working")
        self.answered.set()

    def finish(self, status: Status, *, result: dict[str, Any] | None = None,
               error: dict[str, Any] | None = None) -> None:
        if self.status in TERMINAL:
            return
        self.result, self.error = result, error
        self.pending.clear()
        self._set(status)

    def envelope(self) -> dict[str, Any]:
        return {"taskId": self.task_id, "status": self.status, "createdAt": self.created_at,
                "lastUpdatedAt": self.updated_at, "ttlMs": TTL_MS, "pollIntervalMs": POLL_INTERVAL_MS}

    def detailed(self) -> dict[str, Any]:
        found = {"resultType": "complete", **self.envelope()}
        if self.status == "input_required":
            found["inputRequests"] = {key: request.model_dump(by_alias=True, mode="json", exclude_none=True)
                                      for key, request in self.pending.items()}
        elif self.status == "completed":
            found["result"] = self.result
        elif self.status == "failed":
            found["error"] = self.error
        return found


class TaskStore:
    """The server's tasks, by id, and the work running them (in the serving event loop)."""

    def __init__(self) -> None:
        self._tasks: dict[str, _Task] = {}

    def _expire(self) -> None:
        now = anyio.current_time()
        for task_id in [t for t, task in self._tasks.items() if now - task.created > TTL_MS / 1000]:
            task = self._tasks.pop(task_id)
            if task.runner is not None:
                task.runner.cancel()

    def get(self, task_id: str) -> _Task:
        self._expire()
        task = self._tasks.get(task_id)
        if task is None:
            raise MCPError(INVALID_PARAMS, f"Unknown task: {task_id}", {"taskId": task_id})
        return task

    def start(self, work: Work) -> _Task:
        """Create the task (retrievable at once, before the caller answers) and run `work` for it."""
        self._expire()
        stamp = _now()
        task = _Task(task_id=str(uuid.uuid4()), created=anyio.current_time(), created_at=stamp, updated_at=stamp)
        self._tasks[task.task_id] = task
        task.runner = asyncio.get_running_loop().create_task(self._run(task, work))
        return task

    @staticmethod
    async def _run(task: _Task, work: Work) -> None:
        try:
            result = await work(task)
        except asyncio.CancelledError:
            task.finish("cancelled")
            raise
        except MCPError as exc:
            task.finish("failed", error=exc.error.model_dump(by_alias=True, mode="json", exclude_none=True))
        except Exception as exc:  # the work crashed: a protocol-level failure, not a tool error
            task.finish("failed", error={"code": INTERNAL_ERROR, "message": f"Task failed: {exc}"})
        else:
            task.finish("completed", result=result.model_dump(by_alias=True, mode="json", exclude_none=True))

    def cancel(self, task: _Task) -> None:
        if task.status in TERMINAL:
            return  # idempotent: the ack is the same
        task.finish("cancelled")
        if task.runner is not None:
            task.runner.cancel()

    async def close(self) -> None:
        runners = [task.runner for task in self._tasks.values() if task.runner is not None]
        for runner in runners:
            runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*runners, return_exceptions=True)
        self._tasks.clear()


def start(store: TaskStore, deferred: Deferred) -> dict[str, Any]:
    """A `CreateTaskResult` for a task running the deferred work."""
    return {"resultType": "task", **store.start(deferred.work).envelope()}


class _Inline(TaskIO):
    """Work run within the call: it asks the client as the request's era does (see `interaction`)."""

    def __init__(self, ctx: Ctx) -> None:
        self.ctx = ctx

    async def ask(self, requests: Mapping[str, InputRequest]) -> Answers:
        answers = await gather(self.ctx, requests)
        if isinstance(answers, types.InputRequiredResult):
            raise _NeedInput(answers)
        return answers


class _NeedInput(Exception):
    def __init__(self, result: types.InputRequiredResult) -> None:
        super().__init__("input required")
        self.result = result


async def run_inline(ctx: Ctx, deferred: Deferred) -> types.CallToolResult | types.InputRequiredResult:
    """The deferred work's result, computed now. On 2026-07-28 a question it asks ends the round
    with an `InputRequiredResult`; the client's retry runs the work again, which finds the answer
    in the retry's `inputResponses` (one round: the work's questions carry no requestState)."""
    try:
        return await deferred.work(_Inline(ctx))
    except _NeedInput as need:
        return need.result


# ---- the tasks/* methods


class UpdateTaskRequestParams(types.RequestParams):
    task_id: str
    # Checked per outstanding request by the task, so that answers it cannot use are ignored.
    input_responses: dict[str, Any]


def register(server: Server[Any], store: Callable[[Ctx], TaskStore]) -> None:
    """Serve tasks/get, tasks/update and tasks/cancel, and advertise the extension in
    `server/discover` (not at initialize: the handshake era gets no tasks)."""

    def lookup(ctx: Ctx, task_id: str) -> _Task:
        if not is_modern(ctx):
            raise MCPError(METHOD_NOT_FOUND, "Method not found", ctx.method)
        request = ctx.request
        if request is not None and getattr(request, "headers", None) is not None:
            named = request.headers.get(MCP_NAME_HEADER)
            if named != task_id:
                raise MCPError(HEADER_MISMATCH, f"{MCP_NAME_HEADER} header must carry the task id",
                               {"header": MCP_NAME_HEADER, "expected": task_id, "got": named})
        if not negotiated(ctx):
            raise missing_extension()
        return store(ctx).get(task_id)

    async def get(ctx: Ctx, params: types.GetTaskRequestParams) -> dict[str, Any]:
        return lookup(ctx, params.task_id).detailed()

    async def update(ctx: Ctx, params: UpdateTaskRequestParams) -> dict[str, Any]:
        task = lookup(ctx, params.task_id)
        if task.status not in TERMINAL:
            task.update(params.input_responses)
        return {}

    async def cancel(ctx: Ctx, params: types.CancelTaskRequestParams) -> dict[str, Any]:
        store(ctx).cancel(lookup(ctx, params.task_id))
        return {}

    server.add_request_handler("tasks/get", types.GetTaskRequestParams, get)
    server.add_request_handler("tasks/update", UpdateTaskRequestParams, update)
    server.add_request_handler("tasks/cancel", types.CancelTaskRequestParams, cancel)
    discover = server.get_request_handler("server/discover")
    assert discover is not None, "the SDK's own server/discover handler"

    async def discover_with_tasks(ctx: Ctx, params: Any) -> types.DiscoverResult:
        found = await discover.handler(ctx, params)
        assert isinstance(found, types.DiscoverResult), found
        if not is_modern(ctx):
            return found
        extensions = {**(found.capabilities.extensions or {}), EXTENSION: {}}
        return found.model_copy(update={"capabilities": found.capabilities.model_copy(
            update={"extensions": extensions})})

    server.add_request_handler("server/discover", discover.params_type, discover_with_tasks)
