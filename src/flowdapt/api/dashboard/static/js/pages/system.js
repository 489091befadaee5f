// The server: version, services, executor, database and event bus health (from /status), and
// charts of the metrics (/metrics, the original's shape) plus CPU and memory over time. Sampled
// every few seconds while the page is open — status is not a run and has no stream.

import { get } from "../api.js";
import { formatBytes, formatDuration, h, replace, table } from "../dom.js";
import { barChart, lineChart } from "../charts.js";

const SAMPLE_MS = 5000;
const KEEP = 120; // samples: ten minutes

function statusBadge(status) {
  const good = ["OK", "up", "running"].includes(status);
  return h("span", { class: `badge ${good ? "state-finished" : status === "disabled" ? "state-skipped" : "state-failed"}` }, status ?? "—");
}

function servicesTable(services) {
  return table([
    { title: "Service", cell: ([name]) => name },
    { title: "Status", cell: ([, s]) => statusBadge(s.status) },
    { title: "Details", cell: ([name, s]) => {
      if (name === "compute" && s.executor) return `executor ${s.executor} (${s.executor_status?.status ?? "?"}) · ${s.active_runs} active run(s)`;
      if (name === "triggers" && "condition_rules" in s) return `${s.condition_rules} condition, ${s.schedule_rules} schedule rule(s) · max depth ${s.max_depth}`;
      return "";
    } },
  ], Object.entries(services || {}));
}

function facts(entries) {
  return h("dl", { class: "facts" }, entries.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

/** Bar labels from the attributes that differ between a metric's series (not the shared ones). */
function labeller(points) {
  const keys = [...new Set(points.flatMap((p) => Object.keys(p.attributes || {})))];
  const varying = keys.filter((k) => new Set(points.map((p) => p.attributes?.[k])).size > 1);
  const shown = varying.length ? varying : keys;
  return (p) => shown.map((k) => p.attributes?.[k]).filter((v) => v !== undefined).join(" / ") || "all";
}

/** Counters as bars by their attributes; histograms as their count and mean per series. */
function metricCharts(metrics) {
  const charts = [];
  for (const [name, points] of Object.entries(metrics)) {
    if (!points.length) continue;
    const label = labeller(points);
    if ("bucket_counts" in points[0]) {
      charts.push(barChart(`${name} — mean by series`, points.map((p) => ({ label: label(p), value: p.count ? p.sum / p.count : 0 })), (v) => formatDuration(v)));
      const merged = points[0].explicit_bounds.map((bound, i) => ({ label: `≤${bound}`, value: points.reduce((n, p) => n + p.bucket_counts[i], 0) }));
      charts.push(barChart(`${name} — distribution (all series)`, merged.filter((b) => b.value), String));
    } else {
      charts.push(barChart(name, points.map((p) => ({ label: label(p), value: p.value })), (v) => String(Math.round(v * 100) / 100)));
    }
  }
  return charts;
}

export async function render(view, _params, page) {
  document.title = "System · Flowdapt";
  const samples = [];
  const box = h("div");
  replace(view, h("h1", null, "System"), box);
  const sample = async () => {
    const [status, metrics, live] = await Promise.all([get("/status"), get("/metrics"), get("/dashboard/api/live").catch(() => null)]);
    if (!page.current) return;
    const sys = status.system || {};
    samples.push({ t: Date.now(), cpu: sys.cpu_pct ?? 0, memory: sys.memory ?? 0, active: status.services?.compute?.active_runs ?? 0 });
    if (samples.length > KEEP) samples.shift();
    const bus = status.event_bus || {};
    replace(box,
      h("div", { class: "cards" },
        h("div", { class: "card", dataset: { testid: "server" } }, h("h2", { style: "margin-top:0" }, "Server"), facts([
          ["Name", status.name], ["Version", status.version], ["Host", status.hostname],
          ["Python", status.python], ["OS", `${status.os?.name} ${status.os?.release}`], ["PID", sys.pid]])),
        h("div", { class: "card", dataset: { testid: "database" } }, h("h2", { style: "margin-top:0" }, "Database"), facts([["Storage", status.database]])),
        h("div", { class: "card", dataset: { testid: "event-bus" } }, h("h2", { style: "margin-top:0" }, "Event bus"), facts([
          ["Kind", bus.kind], ["Status", statusBadge(bus.status)], ["Undelivered", bus.undelivered], ["Dropped", bus.dropped],
          ...(bus.detail ? [["Detail", bus.detail]] : [])])),
        h("div", { class: "card" }, h("h2", { style: "margin-top:0" }, "Process"), facts([
          ["CPU", `${sys.cpu_pct ?? 0} %`], ["Memory", formatBytes(sys.memory)], ["Threads", sys.threads], ["Open files", sys.fds],
          ["Disk used", `${sys.disk_pct ?? "—"} %`], ["Live streams", live ? live.subscribers : "—"]]))),
      h("h2", null, "Services"), h("div", { dataset: { testid: "services" } }, servicesTable(status.services)),
      h("h2", null, "Over time"),
      h("div", { class: "cards" },
        lineChart("Server CPU (%)", samples.map((p) => ({ t: p.t, v: p.cpu })), (v) => v.toFixed(1)),
        lineChart("Server memory (RSS)", samples.map((p) => ({ t: p.t, v: p.memory })), formatBytes),
        lineChart("Active runs", samples.map((p) => ({ t: p.t, v: p.active })), (v) => String(Math.round(v)))),
      h("h2", null, "Metrics"),
      h("div", { class: "cards", dataset: { testid: "metrics" } }, metricCharts(metrics)));
  };
  await sample();
  const timer = setInterval(() => sample().catch(() => {}), SAMPLE_MS);
  page.onLeave(() => clearInterval(timer));
}
