// Debug: list a service's tools and run one through the real MCP endpoint, the normal path of any
// client (consumer authentication and grants included), showing request, result, isError, latency.

import { api, consoleConfig } from "../api.js";
import { current } from "../app.js";
import { clearError, errorBox, field, h, mount, showError } from "../dom.js";
import { McpClient } from "../mcp.js";
import { endpoints } from "./server.js";

function skeleton(schema) {
  const args = {};
  for (const [name, prop] of Object.entries((schema && schema.properties) || {})) {
    if (!(schema.required || []).includes(name)) continue;
    args[name] = prop.default !== undefined ? prop.default
      : prop.type === "integer" || prop.type === "number" ? 0 : prop.type === "boolean" ? false
        : prop.type === "array" ? [] : prop.type === "object" ? {} : "";
  }
  return args;
}

export async function render(serverId, asked) {
  const id = encodeURIComponent(serverId);
  const [server, config] = await Promise.all([api("GET", `/mcp-servers/${id}`), consoleConfig()]);
  if (!current(asked)) return;
  const url = endpoints(config.edgeUrl, server.name).streamable;
  const auth = server.consumerAuthInfo && server.consumerAuthInfo.enable;
  const credential = h("input", { type: "password", autocomplete: "off" });
  const connectButton = h("button", { type: "submit", class: "primary" }, "List tools");
  const toolsArea = h("div", {});
  const connectForm = h("form", { class: "card" },
    h("p", {}, "Calls go to ", h("code", {}, url), " as any MCP client's do."),
    field(auth ? "Consumer key (required: consumer authentication is on)" : "Consumer key (optional)", credential,
      { help: "An API key or a JWT of a consumer; used for this page's calls only and not stored." }),
    errorBox(), connectButton);
  let client = null;

  connectForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    connectButton.disabled = true;
    try {
      if (client) await client.close();
      client = new McpClient(url, credential.value.trim());
      await client.connect();
      const tools = await client.listTools();
      showTools(tools);
    } catch (err) {
      showError(connectForm, err);
      toolsArea.replaceChildren();
    } finally {
      connectButton.disabled = false;
    }
  });

  function showTools(tools) {
    // Free text with the listed tools as suggestions: a tool the consumer was not granted (so not
    // listed) can still be tried, and its refusal seen.
    const options = h("datalist", { id: "debug-tools" }, tools.map((t) => h("option", { value: t.name })));
    const pick = h("input", { type: "text", list: "debug-tools", autocomplete: "off", value: tools.length ? tools[0].name : "" });
    const description = h("p", { class: "help" });
    const args = h("textarea", { class: "code", rows: "8", spellcheck: "false" });
    args.dataset.field = "arguments";
    const run = h("button", { type: "submit", class: "primary" }, "Run");
    const output = h("div", { "aria-live": "polite" });
    // A listed tool fills in its required arguments while the name is typed ("input", not
    // "change", which fires on leaving the field and would overwrite what is typed next), unless
    // the arguments were edited since the last fill.
    let filled = "";
    const choose = () => {
      const tool = tools.find((t) => t.name === pick.value);
      description.textContent = tool ? tool.description || "" : "";
      if (tool && (args.value === filled || !args.value.trim())) {
        args.value = filled = JSON.stringify(skeleton(tool.inputSchema), null, 2);
      }
    };
    pick.addEventListener("input", choose);
    const listed = h("ul", { class: "tool-list" }, tools.map((t) => h("li", {}, h("code", {}, t.name), t.description ? ` – ${t.description}` : "")));
    const callForm = h("form", { class: "card" },
      h("h2", {}, `${tools.length} tool${tools.length === 1 ? "" : "s"}`),
      listed, field("Tool", pick, { field: "name", help: "A listed tool, or any name to see how the gateway answers it." }),
      options, description,
      field("Arguments (JSON)", args), errorBox(), run, output);
    callForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      let parsed;
      try { parsed = JSON.parse(args.value || "{}"); } catch (err) {
        showError(callForm, { message: `arguments: not JSON (${err.message})`, field: "arguments" });
        return;
      }
      clearError(callForm);
      run.disabled = true;
      const request = { name: pick.value, arguments: parsed };
      const started = performance.now();
      try {
        const result = await client.callTool(pick.value, parsed);
        const ms = performance.now() - started;
        output.replaceChildren(
          h("h3", {}, result.isError ? "Tool error (isError: true)" : "Result", ` in ${ms.toFixed(0)} ms`),
          h("h4", {}, "Request"), h("pre", {}, JSON.stringify(request, null, 2)),
          h("h4", {}, "Result"), h("pre", { class: result.isError ? "result error" : "result" },
            JSON.stringify(result, null, 2)));
        output.dataset.outcome = result.isError ? "tool-error" : "ok";
      } catch (err) {
        const ms = performance.now() - started;
        output.replaceChildren(h("h3", {}, `Refused in ${ms.toFixed(0)} ms`),
          h("h4", {}, "Request"), h("pre", {}, JSON.stringify(request, null, 2)),
          h("p", { class: "form-error", role: "alert" }, err.message));
        output.dataset.outcome = "refused";
      } finally {
        run.disabled = false;
      }
    });
    toolsArea.replaceChildren(callForm);
    if (tools.length) choose();
  }

  mount(h("h1", {}, `Debug ${server.name}`),
    h("p", {}, h("a", { href: `#/servers/${id}` }, `Back to ${server.name}`)), connectForm, toolsArea);
  window.addEventListener("hashchange", () => { if (client) client.close(); }, { once: true });
}
