// The admin API, as the console calls it: the token from the browser session, the envelope
// unwrapped, and errors as ApiError with the field the message names ("field: problem").

const TOKEN = "mcpgw.adminToken";

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    const match = /^([A-Za-z_$][\w$.[\]-]*): /.exec(this.message);
    this.field = match ? match[1] : null;
  }
}

export function token() { return sessionStorage.getItem(TOKEN) || ""; }
export function setToken(value) { sessionStorage.setItem(TOKEN, value); }
export function clearToken() { sessionStorage.removeItem(TOKEN); }

let onUnauthorized = () => {};
export function whenUnauthorized(handler) { onUnauthorized = handler; }

export async function api(method, path, { json, body, contentType, query, quiet } = {}) {
  const url = new URL(`/v1${path}`, location.origin);
  for (const [key, value] of Object.entries(query || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Authorization: `Bearer ${token()}`, Accept: "application/json" };
  let payload = body;
  if (json !== undefined) { payload = JSON.stringify(json); headers["Content-Type"] = "application/json"; }
  else if (contentType) headers["Content-Type"] = contentType;
  let response;
  try {
    response = await fetch(url, { method, headers, body: payload, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, "Network", `the admin API could not be reached (${err.message})`);
  }
  let envelope = null;
  try { envelope = await response.json(); } catch { /* not JSON: the status says enough */ }
  if (response.status === 401 && !quiet) onUnauthorized();
  if (!response.ok) {
    throw new ApiError(response.status, envelope && envelope.code, envelope && envelope.message);
  }
  return envelope ? envelope.data : null;
}

// Every page of a paged list (pageNumber from 1, pageSize up to 100).
export async function all(path, query = {}) {
  const items = [];
  for (let page = 1; ; page += 1) {
    const data = await api("GET", path, { query: { ...query, pageNumber: page, pageSize: 100 } });
    items.push(...(data.items || []));
    if (!data.items || items.length >= (data.totalSize || 0) || data.items.length < 100) return items;
  }
}

let config = null;
export async function consoleConfig() {
  if (!config) config = await (await fetch("config.json", { cache: "no-store" })).json();
  return config;
}

// Runs `task()`s at most `width` at a time: a page of many rows asks for their details without
// flooding the registry (and the browser's six connections to it).
export function queue(width = 4) {
  const waiting = [];
  let running = 0;
  const next = () => {
    if (running >= width || !waiting.length) return;
    running += 1;
    const [task, resolve, reject] = waiting.shift();
    task().then(resolve, reject).finally(() => { running -= 1; next(); });
  };
  return (task) => new Promise((resolve, reject) => { waiting.push([task, resolve, reject]); next(); });
}
