// Statistics: calls, errors and latency of a service over time (per minute) and per tool, drawn
// as SVG from the statistics API (the page's own code; no chart library to ship).

import { api } from "../api.js";
import { current } from "../app.js";
import { h, mount, svg, table } from "../dom.js";

const RANGES = [["Last hour", 3600e3], ["Last 24 hours", 86400e3], ["Last 7 days", 7 * 86400e3]];

function chart(points, { title, value, error, unit }) {
  const width = 720, height = 160, pad = 28;
  const max = Math.max(1, ...points.map(value));
  const step = points.length ? (width - pad) / points.length : 0;
  const bars = points.flatMap((p, i) => {
    const x = pad + i * step, v = value(p), e = error ? error(p) : 0;
    const barH = ((height - pad) * v) / max, errH = ((height - pad) * e) / max;
    return [svg("rect", { class: "bar", x, y: height - pad - barH, width: Math.max(1, step - 1), height: barH },
      svg("title", {}, `${new Date(Number(p.key)).toLocaleString()}: ${v}${unit || ""}${error ? `, ${e} errors` : ""}`)),
    errH ? svg("rect", { class: "err", x, y: height - pad - errH, width: Math.max(1, step - 1), height: errH }) : null]
      .filter(Boolean);
  });
  return h("figure", {},
    svg("svg", { class: "chart", viewBox: `0 0 ${width} ${height}`, width: "100%", role: "img", "aria-label": title },
      svg("text", { x: 2, y: 12 }, `${max}${unit || ""}`), svg("text", { x: 2, y: height - pad }, "0"), ...bars),
    h("figcaption", {}, title));
}

export async function render(serverId, asked, range = RANGES[0][1]) {
  const id = encodeURIComponent(serverId);
  const to = Date.now(), from = to - range;
  const [server, byMinute, byTool] = await Promise.all([
    api("GET", `/mcp-servers/${id}`),
    api("GET", `/mcp-servers/${id}/statistics`, { query: { from, to, groupBy: "minute" } }),
    api("GET", `/mcp-servers/${id}/statistics`, { query: { from, to, groupBy: "tool" } })]);
  if (!current(asked)) return;
  const picker = h("select", { "aria-label": "Time range" }, RANGES.map(([label, ms]) => h("option", { value: ms }, label)));
  picker.value = String(range);
  picker.addEventListener("change", () => render(serverId, asked, Number(picker.value)));
  const t = byMinute.totals;
  const ms = (v) => (v === null || v === undefined ? "–" : `${v} ms`);
  const minutes = byMinute.groups || [];
  const tools = (byTool.groups || []).map((g) => h("tr", {}, h("th", { scope: "row" }, g.key),
    h("td", { class: "num" }, String(g.calls)), h("td", { class: "num" }, String(g.toolErrors)),
    h("td", { class: "num" }, String(g.protocolErrors)), h("td", { class: "num" }, ms(g.latencyMs.p50)),
    h("td", { class: "num" }, ms(g.latencyMs.p95)), h("td", { class: "num" }, ms(g.latencyMs.p99))));
  mount(h("h1", {}, `Statistics of ${server.name}`),
    h("p", {}, h("a", { href: `#/servers/${id}` }, `Back to ${server.name}`), " ", picker),
    byMinute.statisticsEnabled ? null
      : h("p", { class: "form-error" }, "Statistics are off for this service: edit it and tick \"Count calls\"."),
    h("dl", { class: "facts", id: "totals" },
      h("dt", {}, "Calls"), h("dd", { dataset: { metric: "calls" } }, String(t.calls)),
      h("dt", {}, "Tool errors"), h("dd", {}, String(t.toolErrors)),
      h("dt", {}, "Protocol errors"), h("dd", { dataset: { metric: "protocolErrors" } }, String(t.protocolErrors)),
      h("dt", {}, "Latency p50 / p95 / p99"), h("dd", {}, `${ms(t.latencyMs.p50)} / ${ms(t.latencyMs.p95)} / ${ms(t.latencyMs.p99)}`)),
    chart(minutes, { title: "Calls per minute (errors in red)", value: (p) => p.calls,
      error: (p) => p.toolErrors + p.protocolErrors }),
    chart(minutes, { title: "Average latency per minute", value: (p) => Math.round(p.latencyMs.avg || 0), unit: " ms" }),
    h("h2", {}, "Per tool"),
    tools.length ? table(["Tool", "Calls", "Tool errors", "Protocol errors", "p50", "p95", "p99"], tools)
      : h("p", {}, "No calls in this range."));
}
