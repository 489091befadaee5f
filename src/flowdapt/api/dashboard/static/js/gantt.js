// A run's timeline: one row per stage, a bar from its start to its end (to now while running),
// on an axis of seconds since the run started.

import { parseTime, s, formatDuration } from "./dom.js";

const LABEL = 170, ROW = 26, PAD = 10, AXIS = 22;

function ticks(span) {
  const steps = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600];
  const step = steps.find((st) => span / st <= 8) ?? Math.ceil(span / 8);
  const result = [];
  for (let t = 0; t <= span + 1e-9; t += step) result.push(t);
  return result;
}

/** An SVG timeline of `run.stages` (width in px). */
export function drawGantt(run, width = 900, now = Date.now()) {
  const start = parseTime(run.started_at)?.getTime() ?? now;
  const end = parseTime(run.finished_at)?.getTime() ?? now;
  const stages = run.stages || [];
  const latest = Math.max(end, ...stages.map((st) => parseTime(st.finished_at)?.getTime() ?? 0));
  const span = Math.max((latest - start) / 1000, 0.001);
  const plot = width - LABEL - PAD * 2;
  const x = (ms) => LABEL + PAD + (plot * (ms - start)) / 1000 / span;
  const height = AXIS + stages.length * ROW + PAD;
  const svg = s("svg", { class: "gantt", width, height, viewBox: `0 0 ${width} ${height}` });
  for (const t of ticks(span)) {
    const tx = LABEL + PAD + (plot * t) / span;
    svg.append(s("line", { class: "tick", x1: tx, x2: tx, y1: AXIS - 4, y2: height - PAD }));
    svg.append(s("text", { class: "tick-label", x: tx, y: 13, "text-anchor": "middle", text: formatDuration(t) }));
  }
  stages.forEach((stage, i) => {
    const y = AXIS + i * ROW;
    const row = s("g", { class: "gantt-row", "data-stage": stage.name, "data-state": stage.state });
    row.append(s("text", { class: "row-label", x: 4, y: y + 17, text: stage.name.length > 24 ? `${stage.name.slice(0, 23)}…` : stage.name }));
    const begun = parseTime(stage.started_at)?.getTime();
    if (begun !== undefined) {
      const finished = parseTime(stage.finished_at)?.getTime() ?? (run.finished_at ? end : now);
      const x1 = x(begun), x2 = Math.max(x(finished), x1 + 2);
      const label = formatDuration((finished - begun) / 1000)
        + (stage.items_total !== null && stage.items_total !== undefined ? ` · ${stage.items_done}/${stage.items_total}` : "");
      row.append(s("rect", { class: `bar state-${stage.state}`, x: x1, y: y + 5, width: x2 - x1, height: ROW - 10, rx: 3 },
        s("title", { text: `${stage.name}: ${stage.state}, ${label}` })));
      // After the bar if it fits, else before it (a late, short stage ends at the right edge),
      // else inside it (a bar across the whole timeline).
      const room = label.length * 6.2 + 6;
      const [lx, anchor] = x2 + room <= width ? [x2 + 6, "start"]
        : x1 - room >= LABEL ? [x1 - 6, "end"] : [x1 + 4, "start"];
      row.append(s("text", { class: "bar-label", x: lx, y: y + 17, "text-anchor": anchor, text: label }));
    }
    svg.append(row);
  });
  return svg;
}
