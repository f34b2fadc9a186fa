// The console's shell: log-in, the hash router, the navigation. Pages are modules under pages/,
// each exporting `render(params)`; a page's work never blocks the others (each route renders
// afresh, and a slow answer for a page the user already left is dropped).

import { api, clearToken, setToken, token, whenUnauthorized } from "./api.js";
import { announce, errorBox, field, h, mount, showError } from "./dom.js";

const ROUTES = [
  [/^\/servers$/, () => import("./pages/servers.js"), "list"],
  [/^\/servers\/new$/, () => import("./pages/server_form.js"), "create"],
  [/^\/servers\/([^/]+)$/, () => import("./pages/server.js"), "render"],
  [/^\/servers\/([^/]+)\/edit$/, () => import("./pages/server_form.js"), "edit"],
  [/^\/servers\/([^/]+)\/tools$/, () => import("./pages/tools.js"), "render"],
  [/^\/servers\/([^/]+)\/debug$/, () => import("./pages/debug.js"), "render"],
  [/^\/servers\/([^/]+)\/stats$/, () => import("./pages/stats.js"), "render"],
  [/^\/consumers$/, () => import("./pages/consumers.js"), "list"],
  [/^\/consumers\/([^/]+)$/, () => import("./pages/consumers.js"), "detail"],
  [/^\/services$/, () => import("./pages/resources.js"), "services"],
  [/^\/domains$/, () => import("./pages/resources.js"), "domains"],
];

let generation = 0;

// True while the page that asked is still the one shown.
export function current(asked) { return asked === generation; }

async function route() {
  generation += 1;
  const asked = generation;
  const path = location.hash.replace(/^#/, "") || "/servers";
  if (!token()) { login(); return; }
  document.getElementById("nav").hidden = false;
  document.getElementById("logout").hidden = false;
  for (const link of document.querySelectorAll("#nav a")) {
    const active = path.startsWith(link.getAttribute("href").slice(1));
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  const found = ROUTES.map(([pattern, load, name]) => [pattern.exec(path), load, name]).find(([m]) => m);
  if (!found) { mount(h("h1", {}, "Not found"), h("p", {}, `No page at ${path}.`)); return; }
  const [match, load, name] = found;
  mount(h("p", { class: "loading" }, "Loading…"));
  try {
    const page = await load();
    if (!current(asked)) return;
    await page[name](...match.slice(1).map(decodeURIComponent), asked);
  } catch (err) {
    if (!current(asked)) return;
    mount(h("h1", {}, "Something went wrong"), h("p", { class: "form-error", role: "alert" }, err.message));
  }
  if (current(asked)) {
    const heading = document.querySelector("main h1");
    if (heading) { heading.tabIndex = -1; heading.focus(); }
  }
}

function login() {
  document.getElementById("nav").hidden = true;
  document.getElementById("logout").hidden = true;
  const input = h("input", { type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { class: "card narrow", "aria-labelledby": "login-title" },
    h("h1", { id: "login-title" }, "Log in"),
    field("Admin token", input, {
      help: "The registry's MCPGW_ADMIN_TOKEN (make up keeps it in .run/admin-token). Kept only in this tab." }),
    errorBox(),
    h("button", { type: "submit", class: "primary" }, "Log in"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    setToken(input.value.trim());
    try {
      await api("GET", "/mcp-servers", { query: { pageSize: 1 }, quiet: true });
    } catch (err) {
      clearToken();
      showError(form, err.status === 401 ? { message: "That token is not the admin token." } : err);
      return;
    }
    announce("Logged in.");
    if (!location.hash || location.hash === "#/login") location.hash = "#/servers"; else route();
  });
  mount(form);
  input.focus();
}

whenUnauthorized(() => { clearToken(); login(); });

document.getElementById("logout").addEventListener("click", () => {
  clearToken();
  announce("Logged out.");
  login();
});

window.addEventListener("hashchange", route);
route();
