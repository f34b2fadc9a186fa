// Add tools to a REST-converted service: an OpenAPI/Swagger document through the import preview
// (review, include or exclude, rename, then confirm), or the tools YAML in an editor that shows
// the server's validation errors at the line they name.

import { api, token } from "../api.js";
import { current } from "../app.js";
import { announce, clearError, errorBox, field, h, mount, showError } from "../dom.js";
import { backendAuthSection } from "./backend_auth.js";

export async function render(serverId, asked) {
  const id = encodeURIComponent(serverId);
  const server = await api("GET", `/mcp-servers/${id}`);
  if (!current(asked)) return;
  const yaml = yamlSection(id, server);
  const auth = backendAuthSection(id, yaml.reload);
  mount(h("h1", {}, `Tools of ${server.name}`),
    h("p", {}, h("a", { href: `#/servers/${id}` }, `Back to ${server.name}`)),
    importSection(id, server, async () => { await yaml.reload(); await auth.load(); }), auth.form, yaml.form);
}

const PREVIEW_SHOWN = 200; // rows rendered at once; the rest behind "Show more" so 1,000 tools stay fast

function importSection(id, server, imported) {
  const file = h("input", { type: "file", accept: ".json,.yaml,.yml,application/json,application/yaml" });
  const paste = h("textarea", { class: "code", rows: "6", spellcheck: "false", placeholder: "or paste the document here" });
  paste.dataset.field = "body";
  const baseUrl = h("input", { type: "text", placeholder: "https://api.example.com (optional)" });
  baseUrl.dataset.field = "baseUrl";
  const previewButton = h("button", { type: "submit", class: "primary" }, "Preview");
  const progress = h("div", { "aria-live": "polite" });
  const review = h("div", {});
  const form = h("form", { class: "card", "aria-labelledby": "import-title" },
    h("h2", { id: "import-title" }, "From OpenAPI / Swagger"),
    field("Document (OpenAPI 3.x or Swagger 2.0, JSON or YAML)", file),
    field("Or paste the document", paste, { field: "body" }),
    field("Base URL", baseUrl, { help: "Where the API is, when the document's servers do not say or say otherwise." }),
    errorBox(), previewButton, progress);
  let text = "";

  async function send(path, extra = {}) {
    const query = { ...(baseUrl.value.trim() ? { baseUrl: baseUrl.value.trim() } : {}), ...extra };
    const contentType = text.trimStart().startsWith("{") ? "application/json" : "application/yaml";
    const started = performance.now();
    const bar = h("progress", { class: "progress", "aria-label": "Import in progress" });
    const elapsed = h("span", {}, "Working…");
    progress.replaceChildren(bar, elapsed);
    const timer = setInterval(() => { elapsed.textContent = `Working… ${((performance.now() - started) / 1000).toFixed(0)} s`; }, 500);
    try {
      return await api("POST", `/mcp-servers/${id}/tools/${path}`, { body: text, contentType, query });
    } finally {
      clearInterval(timer);
      progress.replaceChildren();
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    text = file.files.length ? await file.files[0].text() : paste.value;
    if (!text.trim()) { showError(form, { message: "body: choose a file or paste a document", field: "body" }); return; }
    previewButton.disabled = true;
    try {
      const report = await send("import:preview");
      review.replaceChildren(reviewPanel(report));
    } catch (err) {
      showError(form, err);
    } finally {
      previewButton.disabled = false;
    }
  });

  function reviewPanel(report) {
    const changed = new Map((report.changed || []).map((c) => [c.tool, c.fields]));
    const added = new Set(report.added || []);
    const rows = report.tools.map((name) => {
      const include = h("input", { type: "checkbox", checked: true, "aria-label": `Include ${name}` });
      const newName = h("input", { type: "text", value: name, "aria-label": `Name of ${name}` });
      const description = h("input", { type: "text", value: (report.descriptions || {})[name] || "",
        "aria-label": `Description of ${name}` });
      const tag = added.has(name) ? "added" : changed.has(name) ? `changed: ${changed.get(name).join(", ")}` : "unchanged";
      const row = h("div", { class: "tool-row", dataset: { tool: name } }, include,
        h("div", {}, newName, h("p", { class: "help" }, tag)), description);
      return { name, include, newName, description, row, originalDescription: description.value };
    });
    const list = h("div", {});
    let shown = 0;
    const more = h("button", { type: "button" }, "Show more");
    const showMore = () => {
      const fragment = document.createDocumentFragment();
      for (const r of rows.slice(shown, shown + PREVIEW_SHOWN)) fragment.append(r.row);
      list.append(fragment);
      shown = Math.min(rows.length, shown + PREVIEW_SHOWN);
      more.hidden = shown >= rows.length;
    };
    more.addEventListener("click", showMore);
    showMore();
    const confirm = h("button", { type: "button", class: "primary" }, "Confirm import");
    const panel = h("section", { class: "card", "aria-labelledby": "review-title" },
      h("h2", { id: "review-title" }, "Review"),
      h("p", {}, `${report.operations} operations: ${report.tools.length} tools (${added.size} added, `
        + `${changed.size} changed, ${(report.removed || []).length} removed, ${report.unchanged} unchanged), `
        + `${(report.skipped || []).length} skipped.`),
      group("Removed", (report.removed || []).map((n) => h("li", {}, n))),
      group("Skipped", (report.skipped || []).map((s) => h("li", {}, `${s.operation}: ${s.reason}`))),
      group("Degraded", (report.degraded || []).map((s) => h("li", {}, `${s.operation}: ${s.reason}`))),
      group("Warnings", (report.warnings || []).map((w) => h("li", {}, w))),
      h("h3", {}, "Tools"), h("p", { class: "help" }, "Untick a tool to leave it out; edit a name or description before confirming."),
      list, more, errorBox(), confirm);
    confirm.addEventListener("click", async () => {
      confirm.disabled = true;
      clearError(panel);
      try {
        const patches = [];
        for (const r of rows) {
          const patch = {};
          if (!r.include.checked) patch.disabled = true;
          if (r.newName.value.trim() && r.newName.value.trim() !== r.name) patch.name = r.newName.value.trim();
          if (r.description.value !== r.originalDescription) patch.description = r.description.value;
          if (Object.keys(patch).length) patches.push([r.name, patch]);
        }
        // With edits, the import and the edits are saved as the draft and published once, so a
        // tool left out is never served, not even between the import and its edit.
        const draft = patches.length ? { deploy: "false" } : {};
        const applied = await send("import", draft);
        for (const [name, patch] of patches) {
          await api("PATCH", `/mcp-servers/${id}/tools/${encodeURIComponent(name)}`, { json: patch, query: draft });
        }
        if (patches.length && server.deployStatus === "Deployed") await api("POST", `/mcp-servers/${id}/deploy`);
        const edits = patches.length;
        const excluded = rows.filter((r) => !r.include.checked).length;
        announce(`Imported: ${applied.tools.length - excluded} tools${excluded ? `, ${excluded} left out` : ""}`
          + `${edits ? ` (${edits} edited)` : ""}.`);
        panel.replaceChildren(h("h2", {}, "Imported"), h("p", { class: "done" },
          `${applied.tools.length - excluded} tools are live${excluded ? `; ${excluded} left out (disabled)` : ""}.`));
        await imported();
      } catch (err) {
        showError(panel, err);
        confirm.disabled = false;
      }
    });
    return panel;
  }
  return h("div", {}, form, review);
}

function group(title, items) {
  if (!items.length) return null;
  return h("details", { class: "preview-group" }, h("summary", {}, `${title} (${items.length})`), h("ul", {}, items));
}

// The line a validation error points at: "line N" in a parse error, or the tool it names
// (tools[<name>] or tools[<index>]) and within it the last key of the path.
export function lineOf(text, message) {
  const explicit = /line (\d+)/i.exec(message);
  if (explicit) return Number(explicit[1]);
  const named = /^tools\[([^\]]+)\]\.?([\w.[\]]*)/.exec(message);
  if (!named) return null;
  const lines = text.split("\n");
  const top = lines.findIndex((l) => /^tools:\s*$/.test(l));
  const items = [];
  let indent = null;
  for (let i = top + 1; top >= 0 && i < lines.length; i += 1) {
    if (/^[^\s#-]/.test(lines[i])) break; // the next top-level key ends the tools list
    const item = /^(\s*)-\s+name:\s*["']?([^"'#]*?)["']?\s*$/.exec(lines[i]);
    if (item && (indent === null || item[1].length === indent)) { indent = item[1].length; items.push([i, item[2]]); }
  }
  const found = /^\d+$/.test(named[1]) ? items[Number(named[1])] : items.find(([, name]) => name === named[1]);
  if (!found) return null;
  const [start] = found;
  const next = items.find(([i]) => i > start);
  const end = next ? next[0] : lines.length;
  const key = named[2].split(".").filter(Boolean).pop();
  if (key) {
    const bare = key.replace(/\[.*$/, "");
    for (let i = start; i < end; i += 1) {
      if (new RegExp(`^\\s*-?\\s*${bare}:`).test(lines[i]) && !(i === start && bare === "name")) return i + 1;
    }
  }
  return start + 1;
}

function yamlSection(id, server) {
  const editor = h("textarea", { class: "code", spellcheck: "false", "aria-label": "Tools YAML" });
  editor.dataset.field = "tools";
  const where = h("p", { class: "field-error", role: "alert", hidden: true });
  const save = h("button", { type: "submit", class: "primary" }, "Save tools");
  const example = h("button", { type: "button" }, "Start from the example");
  const form = h("form", { class: "card", "aria-labelledby": "yaml-title" },
    h("h2", { id: "yaml-title" }, "Tools YAML"),
    h("p", { class: "help" }, "The Higress tool format. Backend authentication (Basic, Bearer, API key in a header "
      + "or the query) goes in server.securitySchemes with a defaultCredential; credentials read back as ******, "
      + "and ****** sent back keeps the stored one."),
    editor, where, errorBox(), h("div", { class: "actions" }, save, example));
  const reload = async () => { editor.value = await fetchText(`/mcp-servers/${id}/tools`); };
  reload();
  example.addEventListener("click", async () => { editor.value = await fetchText("/mcp-servers/tools/import/example"); });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearError(form);
    where.hidden = true;
    save.disabled = true;
    try {
      const data = await api("PUT", `/mcp-servers/${id}/tools`, { body: editor.value, contentType: "application/yaml" });
      announce(`Saved ${data.tools.length} tools of ${server.name}.`);
    } catch (err) {
      showError(form, err);
      const line = lineOf(editor.value, err.message);
      if (line) {
        where.textContent = `At line ${line}: ${err.message}`;
        where.hidden = false;
        const lines = editor.value.split("\n");
        const start = lines.slice(0, line - 1).join("\n").length + (line > 1 ? 1 : 0);
        editor.focus();
        editor.setSelectionRange(start, start + (lines[line - 1] || "").length);
      }
    } finally {
      save.disabled = false;
    }
  });
  return { form, reload };
}

async function fetchText(path) {
  const response = await fetch(`/v1${path}`, { headers: { Authorization: `Bearer ${token()}` }, cache: "no-store" });
  return response.ok ? response.text() : "";
}
