// Preloaded into a Node client that cannot report what it does (MCP Inspector's CLI) with
// `NODE_OPTIONS=--import <this file's URL>`: wraps the global fetch and appends one JSON line per
// HTTP exchange to the file named by MCPGW_FETCH_LOG:
//   {"method", "rpc" (the JSON-RPC method of a POST body), "version" (its MCP-Protocol-Version
//    header), "status", "challenge" (the response's WWW-Authenticate)}
import { appendFileSync } from 'node:fs';

const log = process.env.MCPGW_FETCH_LOG;
const original = globalThis.fetch;
if (log && original) {
  globalThis.fetch = async (input, init) => {
    const method = init?.method ?? input?.method ?? 'GET';
    const headers = new Headers(init?.headers ?? input?.headers);
    let rpc = null;
    if (typeof init?.body === 'string') {
      try {
        const body = JSON.parse(init.body);
        rpc = Array.isArray(body) ? body.map((m) => m.method ?? null) : (body.method ?? null);
      } catch {
        rpc = null;
      }
    }
    const response = await original(input, init);
    appendFileSync(log, JSON.stringify({
      method,
      rpc,
      version: headers.get('mcp-protocol-version'),
      status: response.status,
      challenge: response.headers.get('www-authenticate'),
    }) + '\n');
    return response;
  };
}
