// Backend services and domains: what MCP services draw on (where upstreams and APIs are reached,
// and which host names a service answers on).

import { all, api } from "../api.js";
import { current } from "../app.js";
import { announce, clearError, errorBox, field, h, mount, showError, table } from "../dom.js";

function removeButton(path, label, reload) {
  const button = h("button", { type: "button", class: "small danger" }, "Delete");
  button.addEventListener("click", async () => {
    if (!window.confirm(`Delete ${label}?`)) return;
    try {
      await api("DELETE", path);
      announce(`Deleted ${label}.`);
      await reload();
    } catch (err) { announce(err.message, "error"); }
  });
  return button;
}

export async function services(asked) {
  const items = await all("/services");
  if (!current(asked)) return;
  const name = h("input", { type: "text", required: true });
  const source = h("select", {}, h("option", { value: "DNS" }, "DNS names"), h("option", { value: "VIP" }, "IP addresses (VIP)"));
  const addresses = h("input", { type: "text", placeholder: "api.internal:443, api2.internal:443" });
  const protocol = h("select", {}, h("option", { value: "HTTP" }, "HTTP"), h("option", { value: "HTTPS" }, "HTTPS"));
  const form = h("form", { class: "card", "aria-labelledby": "new-service" }, h("h2", { id: "new-service" }, "New backend service"),
    field("Name", name, { field: "serviceConfigs[0].name" }), field("Source", source, { field: "sourceType" }),
    field("Addresses (host:port, comma-separated)", addresses, { field: "serviceConfigs[0].addresses" }),
    field("Protocol", protocol, { field: "serviceConfigs[0].protocol" }), errorBox(),
    h("button", { type: "submit", class: "primary" }, "Add"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    try {
      await api("POST", "/services", { json: { sourceType: source.value, serviceConfigs: [{ name: name.value.trim(),
        addresses: addresses.value.split(",").map((a) => a.trim()).filter(Boolean), protocol: protocol.value }] } });
      announce(`Added ${name.value.trim()}.`);
      await services(asked);
    } catch (err) { showError(form, err); }
  });
  const rows = items.map((s) => h("tr", {}, h("th", { scope: "row" }, s.name), h("td", {}, s.sourceType),
    h("td", {}, (s.addresses || []).join(", ")), h("td", {}, s.protocol),
    h("td", {}, removeButton(`/services/${s.serviceId}`, `service ${s.name}`, () => services(asked)))));
  mount(h("h1", {}, "Backend services"),
    h("p", {}, "Where hosted MCP servers, and the APIs of tools with relative URLs, are reached."),
    rows.length ? table(["Name", "Source", "Addresses", "Protocol", ""], rows) : h("p", {}, "None yet."), form);
}

export async function domains(asked) {
  const items = await all("/domains");
  if (!current(asked)) return;
  const name = h("input", { type: "text", required: true, placeholder: "mcp.example.com" });
  const protocol = h("select", {}, h("option", { value: "HTTP" }, "HTTP"), h("option", { value: "HTTPS" }, "HTTPS"));
  const form = h("form", { class: "card", "aria-labelledby": "new-domain" }, h("h2", { id: "new-domain" }, "New domain"),
    field("Host name", name, { field: "name" }), field("Protocol", protocol, { field: "protocol" }), errorBox(),
    h("button", { type: "submit", class: "primary" }, "Add"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    try {
      await api("POST", "/domains", { json: { name: name.value.trim(), protocol: protocol.value } });
      announce(`Added ${name.value.trim()}.`);
      await domains(asked);
    } catch (err) { showError(form, err); }
  });
  const rows = items.map((d) => h("tr", {}, h("th", { scope: "row" }, d.name), h("td", {}, d.protocol),
    h("td", {}, removeButton(`/domains/${d.domainId}`, `domain ${d.name}`, () => domains(asked)))));
  mount(h("h1", {}, "Domains"),
    h("p", {}, "A service with domains answers only on those hosts; one without answers on every host."),
    rows.length ? table(["Name", "Protocol", ""], rows) : h("p", {}, "None yet."), form);
}
