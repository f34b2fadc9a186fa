// A small MCP client over Streamable HTTP (protocol 2025-11-25), for the Debug page: it calls the
// edge exactly as any client does, consumer credential and all, and reads JSON or SSE answers.

const PROTOCOL = "2025-11-25";

export class McpError extends Error {
  constructor(message, status, rpc) { super(message); this.status = status; this.rpc = rpc; }
}

function parseSse(text) {
  const messages = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((line) => line.startsWith("data:"))
      .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
    if (data) { try { messages.push(JSON.parse(data)); } catch { /* a keep-alive or comment */ } }
  }
  return messages;
}

export class McpClient {
  constructor(url, credential) {
    this.url = url;
    this.credential = credential;
    this.sessionId = null;
    this.nextId = 1;
  }

  headers() {
    const headers = { "Content-Type": "application/json", Accept: "application/json, text/event-stream",
      "MCP-Protocol-Version": PROTOCOL };
    if (this.credential) headers.Authorization = `Bearer ${this.credential}`;
    if (this.sessionId) headers["Mcp-Session-Id"] = this.sessionId;
    return headers;
  }

  async post(message) {
    let response;
    try {
      response = await fetch(this.url, { method: "POST", headers: this.headers(), body: JSON.stringify(message) });
    } catch (err) {
      throw new McpError(`the MCP endpoint could not be reached (${err.message}); is the edge up, and does it admit this page's origin?`, 0);
    }
    const session = response.headers.get("Mcp-Session-Id");
    if (session) this.sessionId = session;
    const type = (response.headers.get("Content-Type") || "").split(";")[0].trim();
    const text = await response.text();
    const messages = type === "text/event-stream" ? parseSse(text) : text ? [JSON.parse(text)] : [];
    return { status: response.status, messages };
  }

  async request(method, params) {
    const id = this.nextId++;
    const { status, messages } = await this.post({ jsonrpc: "2.0", id, method, params });
    const answer = messages.find((m) => m.id === id) || messages.find((m) => m.error);
    if (!answer) throw new McpError(`HTTP ${status} without a JSON-RPC answer`, status);
    if (answer.error) {
      const http = status >= 400 ? `HTTP ${status}: ` : "";
      throw new McpError(`${http}${answer.error.message} (JSON-RPC ${answer.error.code})`, status, answer.error);
    }
    return answer.result;
  }

  async connect() {
    const result = await this.request("initialize", {
      protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: "mcpgw-console", version: "1" } });
    await this.post({ jsonrpc: "2.0", method: "notifications/initialized" });
    return result;
  }

  async listTools() {
    const tools = [];
    let cursor;
    do {
      const page = await this.request("tools/list", cursor ? { cursor } : {});
      tools.push(...(page.tools || []));
      cursor = page.nextCursor;
    } while (cursor);
    return tools;
  }

  callTool(name, args) { return this.request("tools/call", { name, arguments: args }); }

  async close() {
    if (!this.sessionId) return;
    try { await fetch(this.url, { method: "DELETE", headers: this.headers() }); } catch { /* gone already */ }
    this.sessionId = null;
  }
}
