// Backend authentication of a REST-converted service: the security schemes its tools use (those an
// OpenAPI import brought, or one added here: Basic, Bearer, an API key in a header or the query)
// and the default one. Credentials are write-only: a stored one shows as "set", and an empty
// field keeps it.

import { api } from "../api.js";
import { announce, clearError, errorBox, field, h, showError } from "../dom.js";

const KINDS = {
  bearer: { type: "http", scheme: "bearer", label: "Bearer token" },
  basic: { type: "http", scheme: "basic", label: "Basic (user:password)" },
  header: { type: "apiKey", in: "header", label: "API key in a header" },
  query: { type: "apiKey", in: "query", label: "API key in the query" },
  cookie: { type: "apiKey", in: "cookie", label: "API key in a cookie" },
};

function kindOf(scheme) {
  return scheme.type === "http" ? scheme.scheme : scheme.in;
}

export function backendAuthSection(id, saved) {
  const body = h("div", {});
  const form = h("form", { class: "card", "aria-labelledby": "auth-title" },
    h("h2", { id: "auth-title" }, "Backend authentication"),
    h("p", { class: "help" }, "What the gateway presents to the API. Credentials are write-only: leave a field "
      + "empty to keep what is stored."), body, errorBox(),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Save authentication")));
  let rows = [];

  function row(scheme, isNew) {
    const kind = h("select", { "aria-label": `Kind of ${scheme.id || "the new scheme"}` },
      Object.entries(KINDS).map(([value, k]) => h("option", { value }, k.label)));
    kind.value = kindOf(scheme) || "bearer";
    const schemeId = h("input", { type: "text", value: scheme.id || "", readonly: !isNew });
    const name = h("input", { type: "text", value: scheme.name || "", placeholder: "X-Api-Key" });
    const credential = h("input", { type: "password", autocomplete: "off",
      placeholder: scheme.credential ? "set (leave empty to keep)" : "" });
    const isDefault = h("input", { type: "radio", name: "default-scheme", value: scheme.id || "" });
    const nameField = field("Header, query or cookie name", name, { field: `schemes[${rows.length}].name` });
    const showName = () => { nameField.hidden = KINDS[kind.value].type !== "apiKey"; };
    kind.addEventListener("change", showName);
    showName();
    const index = rows.length;
    const el = h("fieldset", {}, h("legend", {}, isNew ? "Add a scheme" : `Scheme ${scheme.id}`),
      isNew ? field("Scheme id", schemeId, { field: `schemes[${index}].id` }) : null,
      field("Kind", kind, { field: `schemes[${index}].type` }), nameField,
      field(`Credential${scheme.credential ? " (set)" : ""}`, credential, { field: `schemes[${index}].credential` }),
      h("div", { class: "field check" }, isDefault, h("label", {}, "Default for tools without a scheme of their own")));
    isDefault.id = `default-${index}`;
    el.querySelector(".field.check label").setAttribute("for", isDefault.id);
    const entry = { scheme, isNew, kind, schemeId, name, credential, isDefault, el };
    rows.push(entry);
    return el;
  }

  async function load() {
    const data = await api("GET", `/mcp-servers/${id}/backend-auth`);
    rows = [];
    const existing = data.schemes.map((s) => row(s, false));
    const added = row({ id: "" }, true);
    for (const r of rows) r.isDefault.checked = !r.isNew && r.scheme.id === data.default;
    const none = h("input", { type: "radio", name: "default-scheme", id: "default-none", checked: data.default === null });
    body.replaceChildren(...existing, added,
      h("div", { class: "field check" }, none, h("label", { for: "default-none" }, "No default scheme")));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    const schemes = [];
    let fallback = null;
    for (const r of rows) {
      const schemeId = r.schemeId.value.trim();
      if (r.isNew && !schemeId) continue;
      const k = KINDS[r.kind.value];
      const scheme = { id: schemeId, type: k.type };
      if (k.type === "http") scheme.scheme = k.scheme; else { scheme.in = k.in; scheme.name = r.name.value.trim(); }
      if (r.credential.value) scheme.credential = r.credential.value;
      schemes.push(scheme);
      if (r.isDefault.checked) fallback = schemeId;
    }
    try {
      await api("PUT", `/mcp-servers/${id}/backend-auth`, { json: { schemes, default: fallback } });
      announce("Backend authentication saved.");
      await load();
      await saved();
    } catch (err) { showError(form, err); }
  });
  load().catch((err) => showError(form, err));
  return { form, load };
}
