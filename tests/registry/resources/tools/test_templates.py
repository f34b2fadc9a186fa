"""Saving tools: a Go template the translator cannot carry over is refused with tool, field and construct.

Through the real admin API (PUT /v1/mcp-servers/{id}/tools and the create call's
mcpServerConfig.mcpServerSpec): the answer is a 400 naming the tool, which template (url, body, a header,
the response or error template) and the construct; nothing is stored. The rule itself is
mcpgw.gotemplate's (tests/runtime/test_gotemplate.py covers every form).
"""

from __future__ import annotations

import uuid

import pytest

from tests.registry.conftest import Api

YAML = {"Content-Type": "application/yaml"}


def _document(where: str, template: str) -> str:
    """One tool, `lookup`, whose template at `where` is `template` (the others are plain)."""
    quoted = "'" + template.replace("'", "''") + "'"
    url = quoted if where == "url" else "'{{.config.base}}/items'"
    lines = ["server:", "  name: s", "  config: {base: 'https://api.example.com'}", "tools:",
             "  - name: lookup", "    args: [{name: q}, {name: items, type: array}]", "    requestTemplate:",
             f"      url: {url}", "      method: POST"]
    if where == "header":
        lines.append(f"      headers: [{{key: X-Query, value: {quoted}}}]")
    if where == "body":
        lines.append(f"      body: {quoted}")
    if where in ("body_response", "prependBody", "appendBody"):
        key = "body" if where == "body_response" else where
        lines.append(f"    responseTemplate: {{{key}: {quoted}}}")
    if where == "error":
        lines.append(f"    errorResponseTemplate: {quoted}")
    return "\n".join(lines) + "\n"


FIELDS = {
    "url": "tools[0].requestTemplate.url",
    "header": "tools[0].requestTemplate.headers[0].value",
    "body": "tools[0].requestTemplate.body",
    "body_response": "tools[0].responseTemplate.body",
    "prependBody": "tools[0].responseTemplate.prependBody",
    "appendBody": "tools[0].responseTemplate.appendBody",
    "error": "tools[0].errorResponseTemplate",
}


@pytest.mark.parametrize(("where", "template", "construct"), [
    ("url", "{{.config.base}}/users/{{.users.0.name}}", "template syntax error"),
    ("header", "{{.args.Content-Type}}", "template syntax error"),
    ("body", '{"names": {{gjson "{a:args.q,b:args.items}"}}}', "the GJSON path '{a:args.q,b:args.items}'"),
    ("body", "{{range .args.items}}{{template \"row\" .}}{{end}}", "{{template}} is not supported"),
    ("header", "{{getRealIP}}", "the function getRealIP is not supported"),
    ("body_response", "{{getSocketIP}} {{.result}}", "the function getSocketIP is not supported"),
    ("prependBody", "{{regexReplaceAll \"x\" .args.q \"y\"}}", "the function regexReplaceAll is not supported"),
    ("appendBody", "{{if eq .args.q \"a\" \"b\"}}one of them{{end}}", "eq with more than 2 arguments"),
    ("error", "{{._headers.\\:status}}", "template syntax error"),
    ("error", '{{gjson "_headers|@pretty"}}', "the `|` path separator"),
])
async def test_an_untranslatable_template_is_refused_naming_tool_field_and_construct(
        api: Api, where: str, template: str, construct: str) -> None:
    server_id = await api.create_server(f"refuse-{uuid.uuid4().hex[:8]}")
    path = f"/v1/mcp-servers/{server_id}/tools"
    before = (await api.call("GET", path)).body
    refused = await api.call("PUT", path, data=_document(where, template), headers=YAML)
    assert refused.status == 400, refused.body
    assert refused.body["code"] == "InvalidParameter"
    assert refused.message.startswith(f"{FIELDS[where]}: "), refused.message
    assert "tool 'lookup'" in refused.message and construct in refused.message, refused.message
    assert (await api.call("GET", path)).body == before  # nothing was stored


async def test_translatable_range_and_with_templates_are_saved(api: Api) -> None:
    server_id = await api.create_server("range-with")
    body = ('{"names": [{{range $i, $e := .args.items}}{{if $i}},{{end}}{{toJson $e.name}}{{end}}], '
            '"q": "{{with .args.q}}{{.}}{{else}}all{{end}}"}')
    saved = await api.call("PUT", f"/v1/mcp-servers/{server_id}/tools", data=_document("body", body), headers=YAML)
    assert saved.status == 200, saved.body
    assert saved.data["tools"] == ["lookup"]


async def test_creating_a_server_with_an_untranslatable_template_is_refused(api: Api) -> None:
    spec = _document("body", '{{define "x"}}{{end}}')
    refused = await api.call("POST", "/v1/mcp-servers",
                             json={"name": "born-broken", "mcpServerConfig": {"mcpServerSpec": spec}})
    assert refused.status == 400
    assert refused.message.startswith("mcpServerConfig.mcpServerSpec.tools[0].requestTemplate.body: "), \
        refused.message
    assert "tool 'lookup'" in refused.message and "{{define}} is not supported" in refused.message
