"""The import API with a document some of whose operations the converter cannot express: every
other operation imports, and each of those is skipped with its reason (issue 12 item 11)."""

from __future__ import annotations

from typing import Any

from mcpgw_registry.resources.tools.document import parse_tools

from tests.registry.conftest import Api
from tests.registry.openapi_docs import awkward

JSON = {"Content-Type": "application/json"}

TOOLS = ["listUsages", "getReport", "search", "undeclared", "unplaced", "plain"]
SKIPPED = {
    "GET /needs-nameless": "required query parameter '' has an empty name, so no call could succeed",
    "GET /needs-bad-header": "required header parameter 'X Bad' is not a valid HTTP header name, so no call could "
                             "succeed",
    "GET /nameless/{}": "the path has a placeholder without a name ({})",
    "GET /elsewhere": "its server URL 'https://[::1/v1' is not a valid URL",
    "POST /nameless-field": "a required request body property has an empty name, so no call could succeed",
}
DEGRADED = {
    "GET /search": "header parameter 'X Trace' is not a valid HTTP header name; left out; header parameter "
                   "'Content-Length' is a header the HTTP client sets itself; left out; query parameter '' has an "
                   "empty name; left out",
    "GET /undeclared/{thing}": "path placeholder {thing} has no parameter; added as a required string",
    "GET /unplaced": "path parameter 'ghost' does not appear in the path; left out",
}


def _report(data: dict[str, Any]) -> tuple[list[str], dict[str, str], dict[str, str], int]:
    return (data["tools"], {s["operation"]: s["reason"] for s in data["skipped"]},
            {d["operation"]: d["reason"] for d in data["degraded"]}, data["operations"])


async def test_each_operation_is_a_tool_or_skipped_with_its_reason(api: Api) -> None:
    server_id = await api.create_server("awkward")
    path = f"/v1/mcp-servers/{server_id}/tools/import"

    preview = await api.ok("POST", f"{path}:preview", data=awkward(), headers=JSON)
    assert _report(preview) == (TOOLS, SKIPPED, DEGRADED, 11)
    assert preview["applied"] is False

    applied = await api.ok("POST", path, data=awkward(), headers=JSON)
    assert _report(applied) == _report(preview) and applied["added"] == TOOLS
    assert applied["applied"] is True

    # What was stored reads back as a valid document (wire names with a tab and non-ASCII too).
    reply = await api.call("GET", f"/v1/mcp-servers/{server_id}/tools")
    assert reply.status == 200
    tools = {t.name: t for t in parse_tools(reply.body).tools}
    assert list(tools) == TOOLS
    usages = tools["listUsages"]
    assert [(a.name, a.position) for a in usages.args] == [("sub", "path"), ("location", "path")]
    assert usages.request_template.url == \
        "{{.config.baseUrl}}/subscriptions/{sub}/providers/System.{location}/locations/{location}/usages"
    assert tools["getReport"].request_template.url == "{{.config.baseUrl}}/reports/{id}.{format}"
    # Argument names every client accepts; two names that clean alike stay two arguments.
    assert [(a.name, a.wire_name) for a in tools["search"].args] == [
        ("filter_name", "filter[name]"), ("a_b__query", "a b"), ("a_b", None), ("gr_e", "größe"),
        ("tab_name", "tab\tname")]

    again = await api.ok("POST", path, data=awkward(), headers=JSON)
    assert (again["added"], again["changed"], again["removed"], again["applied"]) == ([], [], [], False)
