// MCP services: one row per server with what an operator looks for first.

import { all, api, queue } from "../api.js";
import { current } from "../app.js";
import { h, mount, table } from "../dom.js";

export function kindOf(server) {
  if (server.type === "AssemblyMCP") return "assembled";
  if (server.protocol === "SSE" || server.protocol === "StreamableHTTP") return "hosted";
  return "REST-converted";
}

export const KIND_HELP = {
  "REST-converted": "tools that call a REST API, from OpenAPI or YAML",
  hosted: "an existing MCP server behind the gateway",
  assembled: "tools drawn from other servers",
};

function startOfToday() {
  const now = new Date();
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).getTime();
}

export async function list(asked) {
  const servers = await all("/mcp-servers");
  if (!current(asked)) return;
  const later = queue(4);
  const rows = servers.map((server) => {
    const calls = h("td", { class: "num" }, server.mcpStatisticsEnable ? "…" : "off");
    const tools = h("td", { class: "num" }, "…");
    const row = h("tr", {},
      h("th", { scope: "row" }, h("a", { href: `#/servers/${encodeURIComponent(server.mcpServerId)}` }, server.name)),
      h("td", {}, kindOf(server)),
      h("td", {}, "Streamable HTTP, SSE"),
      h("td", {}, h("span", { class: `badge ${server.deployStatus}` }, server.deployStatus)),
      h("td", {}, server.consumerAuthInfo && server.consumerAuthInfo.enable ? "on" : "off"),
      tools, calls);
    later(() => api("GET", `/mcp-servers/${server.mcpServerId}/tool-names`))
      .then((data) => { tools.textContent = data.tools ? String(data.tools.length) : "?"; })
      .catch(() => { tools.textContent = "?"; });
    if (server.mcpStatisticsEnable) {
      later(() => api("GET", `/mcp-servers/${server.mcpServerId}/statistics`, { query: { from: startOfToday() } }))
        .then((data) => { calls.textContent = String(data.totals.calls); })
        .catch(() => { calls.textContent = "?"; });
    }
    return row;
  });
  mount(
    h("div", { class: "title-row" }, h("h1", {}, "MCP services"),
      h("a", { class: "button primary", href: "#/servers/new" }, "Create MCP service")),
    servers.length
      ? table(["Name", "Type", "Transports", "Deploy status", "Consumer auth", "Tools", "Calls today"], rows,
        { caption: `${servers.length} MCP service${servers.length === 1 ? "" : "s"}` })
      : h("p", {}, "No MCP services yet. Create one to turn a REST API or an MCP server into tools."));
}
