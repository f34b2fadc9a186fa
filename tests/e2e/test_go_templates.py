"""A Higress range/with body template, saved through the admin API and called through the edge.

The whole path: the registry validates (and translates) the template on save, toolexec renders it
for a tools/call that came in through the edge, and the real aiohttp backend receives the body.
Before mcpgw.gotemplate, `{{range .args.items}}{{.name}}{{end}}` and `{{with .x}}{{.}}{{end}}`
rendered nothing, so the backend got an empty list and an empty owner.
"""

from __future__ import annotations

import json

import aiohttp

from tests.backends import Backend
from tests.cluster import Cluster
from tests.edge.raw import Raw

ORDERS_YAML = """\
server:
  name: orders
  config: {{base: "{base}", channel: web}}
tools:
- name: place_order
  description: Place an order
  args:
  - {{name: items, type: array, required: true, items: {{type: object}}}}
  - {{name: owner, type: object}}
  - {{name: note, type: string}}
  requestTemplate:
    url: "{{{{.config.base}}}}/echo"
    method: POST
    headers:
    - {{key: X-Item-Count, value: "{{{{len .args.items}}}}"}}
    body: >-
      {{"lines": [{{{{range $i, $e := .args.items}}}}{{{{if $i}}}},{{{{end}}}}{{"sku": {{{{toJson $e.sku}}}},
      "qty": {{{{$e.qty | default 1}}}}, "channel": "{{{{$.config.channel}}}}"}}{{{{end}}}}],
      "owner": {{{{with .args.owner}}}}{{"name": {{{{toJson .name}}}}, "vip": {{{{.vip}}}}}}{{{{else}}}}null{{{{end}}}},
      "note": {{{{with .args.note}}}}{{{{toJson .}}}}{{{{else}}}}"none"{{{{end}}}}}}
"""


async def test_a_range_and_with_body_reaches_the_backend(
        cluster: Cluster, backend: Backend, http: aiohttp.ClientSession) -> None:
    await cluster.create_server("orders", ORDERS_YAML.format(base=backend.url))
    client = Raw(http, cluster.mcp_url("orders"))
    await client.initialize()

    arguments = {"items": [{"sku": "A-1", "qty": 2}, {"sku": "B-2"}], "owner": {"name": "Ann", "vip": True}}
    answer = await client.call("tools/call", {"name": "place_order", "arguments": arguments}, request_id=2)
    assert answer.json["result"]["isError"] is False, answer.text
    sent = backend.last
    assert (sent.method, sent.path) == ("POST", "/echo")
    assert sent.headers["x-item-count"] == "2"
    assert sent.headers["content-type"] == "application/json; charset=utf-8"
    assert sent.body == (b'{"lines": [{"sku": "A-1", "qty": 2, "channel": "web"},{"sku": "B-2", "qty": 1, '
                         b'"channel": "web"}], "owner": {"name": "Ann", "vip": true}, "note": "none"}')
    assert json.loads(sent.body)["lines"][1] == {"sku": "B-2", "qty": 1, "channel": "web"}

    # The else branches and an empty range: no owner, a note, no items.
    arguments = {"items": [], "note": 'say "hi"'}
    answer = await client.call("tools/call", {"name": "place_order", "arguments": arguments}, request_id=3)
    assert answer.json["result"]["isError"] is False, answer.text
    assert json.loads(backend.last.body) == {"lines": [], "owner": None, "note": 'say "hi"'}
