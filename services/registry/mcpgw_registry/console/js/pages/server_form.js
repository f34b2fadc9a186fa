// Create or edit an MCP service. The form sends what the admin API takes; the API's answer is
// the judge, and its error lands beside the field it names.

import { all, api } from "../api.js";
import { current } from "../app.js";
import { announce, clearError, errorBox, field, h, mount, showError } from "../dom.js";
import { KIND_HELP, kindOf } from "./servers.js";

const NAME_RULE = "Lowercase letters, digits, '-' and '.', starting and ending with a letter or digit; "
  + "at most 64 characters. Clients address the service by it (/mcp-servers/<name>); it cannot change later.";

export async function create(asked) { await form(null, asked); }

export async function edit(serverId, asked) {
  await form(await api("GET", `/mcp-servers/${encodeURIComponent(serverId)}`), asked);
}

function checkbox(label, checked, name, help) {
  const input = h("input", { type: "checkbox", checked });
  const id = `f-${name.replace(/\W/g, "-")}`;
  input.id = id;
  input.dataset.field = name;
  return [h("div", { class: "field check" }, input, h("label", { for: id }, label),
    help ? h("p", { class: "help" }, help) : null,
    h("p", { class: "field-error", id: `${id}-error`, role: "alert", hidden: true })), input];
}

async function form(server, asked) {
  const [services, domains, others] = await Promise.all([all("/services"), all("/domains"), all("/mcp-servers")]);
  if (!current(asked)) return;
  const editing = server !== null;
  // The registry's NAME_RE. Browsers compile `pattern` with the v flag, where a bare "-" in a class
  // is a syntax error (Firefox throws, Chromium logs, and neither checks the field): escaped.
  const name = h("input", { type: "text", required: true, value: editing ? server.name : "", readonly: editing,
    pattern: "[a-z0-9]([a-z0-9\\-]*[a-z0-9])?(\\.[a-z0-9]([a-z0-9\\-]*[a-z0-9])?)*", maxlength: "64",
    autocomplete: "off" });
  const description = h("textarea", { rows: "2" });
  description.value = editing ? server.description || "" : "";
  const kind = h("select", { disabled: editing },
    Object.entries(KIND_HELP).map(([value, help]) => h("option", { value }, `${value}: ${help}`)));
  kind.value = editing ? kindOf(server) : "REST-converted";
  const protocol = h("select", {}, h("option", { value: "StreamableHTTP" }, "Streamable HTTP"),
    h("option", { value: "SSE" }, "SSE (legacy)"));
  if (editing && kindOf(server) === "hosted") protocol.value = server.protocol;
  const path = h("input", { type: "text", value: editing ? server.exposedUriPath || "" : "", placeholder: "/mcp" });
  const service = h("select", {}, h("option", { value: "" }, "none"),
    services.map((s) => h("option", { value: s.serviceId }, `${s.name} (${(s.addresses || []).join(", ")})`)));
  const backend = editing && server.backend && server.backend.services && server.backend.services[0];
  service.value = backend ? backend.serviceId : "";
  const domainBoxes = domains.map((d) => {
    const [row, input] = checkbox(d.name, editing && (server.domainIds || []).includes(d.domainId),
      `domainIds.${d.domainId}`);
    input.value = d.domainId;
    return [row, input];
  });
  const [authRow, auth] = checkbox("Consumer authentication", editing && server.consumerAuthInfo
    && server.consumerAuthInfo.enable, "consumerAuthInfo.enable",
    "On: only consumers with a credential and a grant for this service may list and call its tools.");
  const [statsRow, stats] = checkbox("Count calls (statistics)", editing && server.mcpStatisticsEnable,
    "mcpStatisticsEnable");
  const sourceBoxes = others.filter((o) => kindOf(o) !== "assembled" && (!editing || o.mcpServerId !== server.mcpServerId))
    .map((o) => {
      const chosen = editing && (server.assembledSources || []).some((s) => s.mcpServerId === o.mcpServerId);
      const [row, input] = checkbox(o.name, chosen, `assembledSources.${o.mcpServerId}`);
      input.value = o.mcpServerId;
      return [row, input];
    });

  const hostedPart = h("fieldset", {}, h("legend", {}, "Upstream MCP server"),
    field("Transport", protocol, { field: "protocol" }),
    field("Path on the upstream", path, { field: "exposedUriPath", help: "The upstream server's own path, e.g. /mcp or /sse." }));
  const servicePart = field("Backend service", service, { field: "backendConfig",
    help: "Where the upstream MCP server, or the REST API of tools with relative URLs, is reached. Add one under Backend services." });
  const sourcesPart = h("fieldset", {}, h("legend", {}, "Tools drawn from"),
    sourceBoxes.length ? sourceBoxes.map(([row]) => row) : h("p", {}, "No other MCP services yet."));
  sourcesPart.dataset.field = "assembledSources";
  const showKind = () => {
    hostedPart.hidden = kind.value !== "hosted";
    sourcesPart.hidden = kind.value !== "assembled";
    servicePart.hidden = kind.value === "assembled";
  };
  kind.addEventListener("change", showKind);
  showKind();

  // The console's "Save and Publish" is one click; "Save draft" keeps what the gateway serves and
  // publishes later from the service's page (Deploy).
  const submit = h("button", { type: "submit", class: "primary" }, editing ? "Save and publish" : "Create");
  const draft = h("button", { type: "submit", value: "draft" }, editing ? "Save draft" : "Create as draft");
  const el = h("form", { class: "card", "aria-labelledby": "form-title", novalidate: true },
    h("h1", { id: "form-title" }, editing ? `Edit ${server.name}` : "Create MCP service"),
    field("Name", name, { field: "name", help: NAME_RULE }),
    field("Description", description, { field: "description" }),
    field("Type", kind, { field: "type" }),
    hostedPart, servicePart, sourcesPart,
    domains.length ? h("fieldset", {}, h("legend", {}, "Domains"),
      h("p", { class: "help" }, "None chosen: the service answers on every host."), domainBoxes.map(([row]) => row)) : null,
    authRow, statsRow, errorBox(),
    h("div", { class: "actions" }, submit, draft,
      h("a", { class: "button", href: editing ? `#/servers/${server.mcpServerId}` : "#/servers" }, "Cancel")));

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(el);
    const publish = !(event.submitter && event.submitter.value === "draft");
    const body = {
      description: description.value,
      domainIds: domainBoxes.filter(([, input]) => input.checked).map(([, input]) => input.value),
      consumerAuthInfo: { enable: auth.checked },
      mcpStatisticsEnable: stats.checked,
    };
    if (!editing) {
      body.name = name.value.trim();
      if (kind.value === "assembled") body.type = "AssemblyMCP";
      else if (kind.value === "hosted") body.type = "RealMCP";
    }
    if (kind.value === "hosted") { body.protocol = protocol.value; body.exposedUriPath = path.value.trim(); }
    if (kind.value !== "assembled") {
      body.backendConfig = service.value
        ? { scene: "SingleService", services: [{ serviceId: service.value }] } : null;
      if (!editing && !service.value) delete body.backendConfig;
    } else {
      body.assembledSources = sourceBoxes.filter(([, input]) => input.checked)
        .map(([, input]) => ({ mcpServerId: input.value }));
    }
    if (!publish) body.deploy = false;
    submit.disabled = draft.disabled = true;
    try {
      if (editing) {
        await api("PUT", `/mcp-servers/${server.mcpServerId}`, { json: body });
        announce(publish ? `Saved ${server.name}.` : `Saved a draft of ${server.name}; Deploy publishes it.`);
        location.hash = `#/servers/${server.mcpServerId}`;
      } else {
        const data = await api("POST", "/mcp-servers", { json: body });
        announce(publish ? `Created ${data.name}.` : `Created ${data.name} as a draft; Deploy publishes it.`);
        location.hash = `#/servers/${data.mcpServerId}`;
      }
    } catch (err) {
      showError(el, err);
    } finally {
      submit.disabled = draft.disabled = false;
    }
  });
  mount(el);
}
