// Consumers and authorization: create a consumer (its generated API key shown once), JWT identity,
// and grants per service or per tool, revoked from the same page.

import { all, api } from "../api.js";
import { current } from "../app.js";
import { announce, clearError, copyButton, errorBox, field, formatTime, h, mount, showError, table } from "../dom.js";

export async function list(asked) {
  const consumers = await all("/consumers");
  if (!current(asked)) return;
  const rows = consumers.map((c) => h("tr", {},
    h("th", { scope: "row" }, h("a", { href: `#/consumers/${encodeURIComponent(c.consumerId)}` }, c.name)),
    h("td", {}, c.enable ? "enabled" : "disabled"), h("td", {}, c.description || ""),
    h("td", {}, formatTime(c.createTimestamp))));
  mount(h("h1", {}, "Consumers"),
    createForm(),
    consumers.length ? table(["Name", "State", "Description", "Created"], rows) : h("p", {}, "No consumers yet."));
}

function createForm() {
  const name = h("input", { type: "text", required: true, autocomplete: "off" });
  const description = h("input", { type: "text" });
  const kind = h("select", {}, h("option", { value: "apikey" }, "API key (generated)"),
    h("option", { value: "jwt" }, "JWT (shared secret, HS256)"), h("option", { value: "jwks" }, "JWT (remote JWKS URL)"));
  const secret = h("input", { type: "password", autocomplete: "off" });
  const jwksUri = h("input", { type: "text", placeholder: "https://idp.example/.well-known/jwks.json" });
  const issuer = h("input", { type: "text" });
  const secretField = field("Shared secret (at least 32 bytes)", secret, { field: "jwtIdentityConfig.jwks" });
  const uriField = field("JWKS URL", jwksUri, { field: "jwtIdentityConfig.remoteJwks" });
  const issuerField = field("Issuer (iss), optional", issuer, { field: "jwtIdentityConfig.issuer" });
  const show = () => {
    secretField.hidden = kind.value !== "jwt";
    uriField.hidden = kind.value !== "jwks";
    issuerField.hidden = kind.value === "apikey";
  };
  kind.addEventListener("change", show);
  show();
  const result = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Create consumer");
  const form = h("form", { class: "card", "aria-labelledby": "new-consumer" },
    h("h2", { id: "new-consumer" }, "New consumer"),
    field("Name", name, { field: "name" }), field("Description", description, { field: "description" }),
    field("Credential", kind), secretField, uriField, issuerField, errorBox(), submit, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const body = { name: name.value.trim(), description: description.value };
    if (kind.value === "apikey") body.apikeyIdentityConfig = { credentials: [{ generateMode: "System" }] };
    else {
      body.jwtIdentityConfig = kind.value === "jwt" ? { secretType: "Symmetry", jwks: secret.value }
        : { remoteJwks: { uri: jwksUri.value.trim() } };
      if (issuer.value.trim()) body.jwtIdentityConfig.issuer = issuer.value.trim();
    }
    submit.disabled = true;
    try {
      const data = await api("POST", "/consumers", { json: body });
      const key = data.apikeyIdentityConfig && data.apikeyIdentityConfig.credentials[0].apikey;
      announce(`Created consumer ${data.name}.`);
      result.replaceChildren(
        h("p", {}, "Created ", h("a", { href: `#/consumers/${data.consumerId}` }, data.name), "."),
        key ? h("div", { class: "card" }, h("p", {}, h("strong", {}, "Its API key, shown only now:")),
          h("p", {}, h("code", { class: "key", id: "new-key" }, key), " ", copyButton(() => key, "Copy key"))) : null);
      name.value = "";
    } catch (err) {
      showError(form, err);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

export async function detail(consumerId, asked) {
  const id = encodeURIComponent(consumerId);
  const [consumer, grants, servers] = await Promise.all([
    api("GET", `/consumers/${id}`), all(`/consumers/${id}/authorization-rules`), all("/mcp-servers")]);
  if (!current(asked)) return;
  const names = new Map(servers.map((s) => [s.mcpServerId, s.name]));
  const box = errorBox();
  const rows = grants.map((g) => {
    const revoke = h("button", { type: "button", class: "small danger" }, "Revoke");
    revoke.addEventListener("click", async () => {
      try {
        await api("DELETE", `/consumers/${id}/authorization-rules/${g.consumerAuthorizationRuleId}`);
        announce("Grant revoked.");
        await detail(consumerId, asked);
      } catch (err) { showError(page, err); }
    });
    const tools = g.resourceIdentifier.resources;
    return h("tr", {}, h("th", { scope: "row" }, names.get(g.resourceId) || g.resourceId),
      h("td", {}, tools ? tools.join(", ") : "all tools"), h("td", {}, g.expireStatus), h("td", {}, revoke));
  });
  const toggle = h("button", { type: "button" }, consumer.enable ? "Disable" : "Enable");
  toggle.addEventListener("click", async () => {
    try {
      await api("PUT", `/consumers/${id}`, { json: { enable: !consumer.enable } });
      await detail(consumerId, asked);
    } catch (err) { showError(page, err); }
  });
  const page = h("div", {}, h("h1", {}, `Consumer ${consumer.name}`),
    h("p", {}, consumer.enable ? "Enabled. " : "Disabled: its credentials are refused. ", toggle), box,
    h("h2", {}, "Grants"),
    rows.length ? table(["MCP service", "Tools", "State", ""], rows) : h("p", {}, "No grants: it may call nothing behind consumer authentication."),
    grantForm(id, servers, () => detail(consumerId, asked)));
  mount(page);
}

function grantForm(consumerId, servers, done) {
  const server = h("select", {}, h("option", { value: "" }, "choose a service"),
    servers.map((s) => h("option", { value: s.mcpServerId }, s.name)));
  server.dataset.field = "authorizationRules[0].resourceIdentifier.resourceId";
  const whole = h("input", { type: "checkbox", checked: true, id: "grant-all" });
  const toolBoxes = h("fieldset", { hidden: true }, h("legend", {}, "Tools"));
  toolBoxes.dataset.field = "authorizationRules[0].resourceIdentifier.resources";
  let boxes = [];
  server.addEventListener("change", async () => {
    boxes = [];
    toolBoxes.replaceChildren(h("legend", {}, "Tools"));
    if (!server.value) return;
    const data = await api("GET", `/mcp-servers/${server.value}/tool-names`);
    if (!data.tools) { toolBoxes.append(h("p", {}, "Its tools cannot be listed now; grant the whole service.")); return; }
    boxes = data.tools.map((tool) => {
      const box = h("input", { type: "checkbox", value: tool, id: `grant-tool-${tool}` });
      toolBoxes.append(h("div", { class: "field check" }, box, h("label", { for: box.id }, tool)));
      return box;
    });
  });
  whole.addEventListener("change", () => { toolBoxes.hidden = whole.checked; });
  const form = h("form", { class: "card", "aria-labelledby": "grant-title" },
    h("h2", { id: "grant-title" }, "Authorize"),
    field("MCP service", server),
    h("div", { class: "field check" }, whole, h("label", { for: "grant-all" }, "All its tools")),
    toolBoxes, errorBox(), h("button", { type: "submit", class: "primary" }, "Grant"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const identifier = { resourceId: server.value };
    if (!whole.checked) identifier.resources = boxes.filter((b) => b.checked).map((b) => b.value);
    try {
      await api("POST", "/authorization-rules", { json: { authorizationRules: [{
        consumerId: decodeURIComponent(consumerId), resourceType: "MCP", resourceIdentifier: identifier, expireMode: "LongTerm" }] } });
      announce("Granted.");
      await done();
    } catch (err) { showError(form, err); }
  });
  return form;
}
