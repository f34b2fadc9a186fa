// One MCP service: its endpoints and client snippets, deploy and undeploy, revisions with their
// diff and a rollback, and the way to its tools, Debug and Statistics pages.

import { api, consoleConfig } from "../api.js";
import { current } from "../app.js";
import { announce, copyButton, errorBox, formatTime, h, mount, showError, table } from "../dom.js";
import { kindOf } from "./servers.js";

const KEY = "<YOUR_CONSUMER_KEY>";

export function endpoints(edgeUrl, name) {
  const base = `${edgeUrl}/mcp-servers/${encodeURIComponent(name)}`;
  return { streamable: base, sse: `${base}/sse` };
}

export function snippets(server, urls) {
  const auth = server.consumerAuthInfo && server.consumerAuthInfo.enable;
  const headerArgs = auth ? ` --header "Authorization: Bearer ${KEY}"` : "";
  const entry = { url: urls.streamable };
  if (auth) entry.headers = { Authorization: `Bearer ${KEY}` };
  const vscode = { type: "http", ...entry };
  return [
    ["MCP Inspector", `npx @modelcontextprotocol/inspector --cli ${urls.streamable} --transport http`
      + `${headerArgs} --method tools/list`],
    ["Claude Desktop / Cursor (mcp.json)", JSON.stringify({ mcpServers: { [server.name]: entry } }, null, 2)],
    ["VS Code (.vscode/mcp.json)", JSON.stringify({ servers: { [server.name]: vscode } }, null, 2)],
    ["Python (mcp SDK)", [
      "import asyncio",
      "from mcp import ClientSession",
      "from mcp.client.streamable_http import streamablehttp_client",
      "",
      "async def main():",
      `    async with streamablehttp_client("${urls.streamable}"${auth ? `, headers={"Authorization": "Bearer ${KEY}"}` : ""}) as (read, write, _):`,
      "        async with ClientSession(read, write) as session:",
      "            await session.initialize()",
      "            print(await session.list_tools())",
      "",
      "asyncio.run(main())",
    ].join("\n")],
  ];
}

function definition(rows) {
  return h("dl", { class: "facts" }, rows.filter(Boolean).flatMap(([term, value]) => [h("dt", {}, term), h("dd", {}, value)]));
}

export async function render(serverId, asked) {
  const id = encodeURIComponent(serverId);
  const [server, config, revisions] = await Promise.all([
    api("GET", `/mcp-servers/${id}`), consoleConfig(), api("GET", `/mcp-servers/${id}/revisions`)]);
  if (!current(asked)) return;
  const urls = endpoints(config.edgeUrl, server.name);
  const status = errorBox();
  const deployed = server.deployStatus === "Deployed";
  const act = async (what, done) => {
    try {
      await api("POST", `/mcp-servers/${id}/${what}`);
      await render(serverId, asked);
      announce(done);  // after the page shows the new state, so what is announced is on screen
    } catch (err) { showError(page, err); }
  };
  const remove = h("button", { type: "button", class: "danger" }, "Delete");
  remove.addEventListener("click", async () => {
    if (!window.confirm(`Delete MCP service ${server.name}? Its tools, grants and revisions go with it.`)) return;
    try {
      await api("DELETE", `/mcp-servers/${id}`);
      announce(`Deleted ${server.name}.`);
      location.hash = "#/servers";
    } catch (err) { showError(page, err); }
  });
  const pending = Boolean(server.hasUnpublishedChanges);
  const toggle = h("button", { type: "button" }, deployed ? "Undeploy" : "Deploy");
  toggle.addEventListener("click", () => (deployed
    ? act("undeploy", `${server.name} is no longer served.`) : act("deploy", `${server.name} is deployed.`)));
  // A deployed service with a saved draft: publishing the draft is a deploy too.
  const publishDraft = deployed && pending ? h("button", { type: "button", class: "primary" }, "Publish draft") : null;
  if (publishDraft) publishDraft.addEventListener("click", () => act("deploy", `The draft of ${server.name} is published.`));

  const revisionRows = (revisions.items || []).map((rev, index) => {
    const show = h("button", { type: "button", class: "small" }, "Diff");
    const back = h("button", { type: "button", class: "small" }, "Roll back");
    back.disabled = index === 0 && deployed;
    const diffCell = h("td", { class: "diff" });
    show.addEventListener("click", async () => {
      const data = await api("GET", `/mcp-servers/${id}/revisions/${rev.revision}`);
      const fields = Object.entries(data.diff.fields || {}).map(([name, change]) =>
        h("li", {}, `${name}: ${JSON.stringify(change.from)} → ${JSON.stringify(change.to)}`));
      diffCell.replaceChildren(
        data.diff.against === null ? h("p", {}, "The first revision.") : h("p", {}, `Against revision ${data.diff.against}:`),
        fields.length ? h("ul", {}, fields) : null,
        data.diff.tools ? diffView(data.diff.tools) : h("p", {}, "Tools unchanged."));
    });
    back.addEventListener("click", async () => {
      if (!window.confirm(`Publish revision ${rev.revision} of ${server.name} again?`)) return;
      try {
        const data = await api("POST", `/mcp-servers/${id}/revisions/${rev.revision}:rollback`);
        await render(serverId, asked);
        announce(`Rolled back: revision ${rev.revision} is published as revision ${data.published}.`);
      } catch (err) { showError(page, err); }
    });
    return h("tr", {}, h("th", { scope: "row" }, String(rev.revision)), h("td", {}, formatTime(rev.createTimestamp)),
      h("td", {}, rev.rollbackOf ? `rollback of ${rev.rollbackOf}` : ""), h("td", {}, show, " ", back), diffCell);
  });

  const page = h("div", {},
    h("div", { class: "title-row" }, h("h1", {}, server.name),
      h("span", { class: `badge ${server.deployStatus}` }, server.deployStatus)),
    server.description ? h("p", {}, server.description) : null,
    h("nav", { class: "actions", "aria-label": "Service" },
      kindOf(server) === "REST-converted" ? h("a", { class: "button", href: `#/servers/${id}/tools` }, "Tools") : null,
      h("a", { class: "button", href: `#/servers/${id}/debug` }, "Debug"),
      h("a", { class: "button", href: `#/servers/${id}/stats` }, "Statistics"),
      h("a", { class: "button", href: `#/servers/${id}/edit` }, "Edit"), publishDraft, toggle, remove),
    status,
    server.deployError ? h("p", { class: "form-error", role: "alert" },
      `The last deploy failed: ${server.deployError.field ? `${server.deployError.field}: ` : ""}${server.deployError.message}. `
      + "The version published before keeps serving.") : null,
    pending ? h("p", { class: "help" }, server.publishedRevision
      ? `Unpublished changes: what you see is the draft; revision ${server.publishedRevision} is served.`
      : "Not published yet.") : null,
    definition([
      ["Type", kindOf(server)],
      ["Consumer authentication", server.consumerAuthInfo && server.consumerAuthInfo.enable ? "on" : "off"],
      ["Statistics", server.mcpStatisticsEnable ? "counted" : "off"],
      ["Published revision", (revisions.items || []).length ? String(revisions.items[0].revision) : "none yet"],
      ["Updated", formatTime(server.updateTimestamp)],
    ]),
    h("h2", {}, "Endpoints"),
    definition([
      ["Streamable HTTP", [h("code", { class: "endpoint" }, urls.streamable), " ", copyButton(() => urls.streamable)]],
      ["SSE (legacy)", [h("code", { class: "endpoint" }, urls.sse), " ", copyButton(() => urls.sse)]],
    ]),
    h("h2", {}, "Connect a client"),
    server.consumerAuthInfo && server.consumerAuthInfo.enable
      ? h("p", { class: "help" }, `Replace ${KEY} with a consumer's key (Consumers page).`) : null,
    snippets(server, urls).map(([title, text]) => h("section", { class: "snippet" },
      h("h3", {}, title, " ", copyButton(() => text, `Copy ${title}`)), h("pre", {}, h("code", {}, text)))),
    h("h2", {}, "Revisions"),
    revisionRows.length
      ? table(["Revision", "Published", "", "Actions", "Changes"], revisionRows)
      : h("p", {}, "Nothing published yet."));
  mount(page);
}

export function diffView(text) {
  return h("pre", { class: "diff-text" }, text.split("\n").map((line) => h("span", {
    class: line.startsWith("+") && !line.startsWith("+++") ? "add"
      : line.startsWith("-") && !line.startsWith("---") ? "del" : "",
  }, line, "\n")));
}
