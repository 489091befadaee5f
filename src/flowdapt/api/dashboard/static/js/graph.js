// A workflow's stage graph: a layered layout computed from depends_on (layer = longest path from
// a source; order within a layer by the barycentre of the neighbours, a few sweeps), drawn as
// SVG. Parameterized stages are drawn as a stack of cards with an item progress bar.

import { s } from "./dom.js";

const W = 190, H = 58, GAP_X = 70, GAP_Y = 22, PAD = 16;

function layers(stages) {
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const depth = new Map();
  // Iterative longest path (a workflow has no cycles: the server validates that).
  const order = [];
  const seen = new Set();
  const visit = (start) => {
    const stack = [[start, false]];
    while (stack.length) {
      const [name, expanded] = stack.pop();
      if (expanded) { order.push(name); continue; }
      if (seen.has(name)) continue;
      seen.add(name);
      stack.push([name, true]);
      for (const dep of byName.get(name).depends_on || []) {
        if (byName.has(dep) && !seen.has(dep)) stack.push([dep, false]);
      }
    }
  };
  stages.forEach((stage) => visit(stage.name));
  for (const name of order) {
    const deps = (byName.get(name).depends_on || []).filter((d) => byName.has(d));
    depth.set(name, deps.length ? Math.max(...deps.map((d) => depth.get(d) ?? 0)) + 1 : 0);
  }
  // A source feeding only later layers sits just before its first consumer, not in column 0
  // with a long edge across the graph.
  const consumers = new Map();
  for (const stage of stages) {
    for (const dep of stage.depends_on || []) {
      if (byName.has(dep)) consumers.set(dep, [...(consumers.get(dep) || []), stage.name]);
    }
  }
  for (const stage of stages) {
    const next = consumers.get(stage.name);
    const deps = (stage.depends_on || []).filter((d) => byName.has(d));
    if (!deps.length && next) depth.set(stage.name, Math.min(...next.map((n) => depth.get(n))) - 1);
  }
  const result = [];
  for (const stage of stages) {
    const level = depth.get(stage.name);
    (result[level] ||= []).push(stage.name);
  }
  return { result, byName };
}

function reorder(levels, byName) {
  const position = new Map();
  const index = () => levels.forEach((level) => level.forEach((name, i) => position.set(name, i)));
  const children = new Map();
  for (const [name, stage] of byName) {
    for (const dep of stage.depends_on || []) {
      if (byName.has(dep)) (children.get(dep) || children.set(dep, []).get(dep)).push(name);
    }
  }
  const centre = (names) => names.length
    ? names.reduce((sum, n) => sum + position.get(n), 0) / names.length : null;
  const sortBy = (level, neighbours) => {
    const keyed = level.map((name, i) => [name, centre(neighbours(name)) ?? i]);
    keyed.sort((a, b) => a[1] - b[1]);
    return keyed.map(([name]) => name);
  };
  index();
  for (let sweep = 0; sweep < 4; sweep += 1) {
    for (let l = 1; l < levels.length; l += 1) {
      levels[l] = sortBy(levels[l], (n) => (byName.get(n).depends_on || []).filter((d) => byName.has(d)));
      index();
    }
    for (let l = levels.length - 2; l >= 0; l -= 1) {
      levels[l] = sortBy(levels[l], (n) => children.get(n) || []);
      index();
    }
  }
}

/** Positions of every stage and the edges, from [{name, depends_on, type}]. */
export function layout(stages) {
  const { result: levels, byName } = layers(stages);
  reorder(levels, byName);
  const tallest = Math.max(...levels.map((level) => level.length));
  const nodes = new Map();
  levels.forEach((level, l) => {
    const offset = ((tallest - level.length) * (H + GAP_Y)) / 2;
    level.forEach((name, i) => {
      nodes.set(name, { x: PAD + l * (W + GAP_X), y: PAD + offset + i * (H + GAP_Y), stage: byName.get(name) });
    });
  });
  const edges = [];
  for (const stage of stages) {
    for (const dep of stage.depends_on || []) if (nodes.has(dep)) edges.push([dep, stage.name]);
  }
  return {
    nodes, edges,
    width: PAD * 2 + levels.length * W + (levels.length - 1) * GAP_X,
    height: PAD * 2 + tallest * H + (tallest - 1) * GAP_Y + 6,
  };
}

function shorten(text, max = 24) {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function drawNode(name, { x, y, stage }) {
  const parameterized = stage.type === "parameterized";
  const group = s("g", {
    class: `node state-pending${parameterized ? " parameterized" : ""}`,
    transform: `translate(${x},${y})`, "data-stage": name,
  });
  group.append(s("title", { text: `${name}\n${stage.target ?? ""}${parameterized ? "\nparameterized: one call per item" : ""}` }));
  if (parameterized) {
    group.append(s("rect", { class: "stack", x: 6, y: 6, width: W, height: H, rx: 7 }));
    group.append(s("rect", { class: "stack", x: 3, y: 3, width: W, height: H, rx: 7 }));
  }
  group.append(s("rect", { class: "box", width: W, height: H, rx: 7 }));
  group.append(s("text", { class: "name", x: 10, y: 20, text: shorten(name) }));
  const sub = s("text", { class: "sub", x: 10, y: 37, text: parameterized ? "⋯ parameterized" : "simple" });
  group.append(sub);
  if (parameterized) {
    group.append(s("rect", { class: "bar-bg", x: 10, y: 44, width: W - 20, height: 6, rx: 3 }));
    group.append(s("rect", { class: "bar-done", x: 10, y: 44, width: 0, height: 6, rx: 3 }));
    group.append(s("rect", { class: "bar-failed", x: 10, y: 44, width: 0, height: 6, rx: 3 }));
  }
  return { group, sub, parameterized };
}

/** The graph as an SVG, plus update(stageRecords) to colour it by state and progress. */
export function drawGraph(stages) {
  const { nodes, edges, width, height } = layout(stages);
  const svg = s("svg", { class: "graph", width, height, viewBox: `0 0 ${width} ${height}`, role: "img" });
  svg.append(s("defs", null, s("marker", {
    id: "arrow", viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse",
  }, s("path", { d: "M0 0 10 5 0 10z", fill: "#98a2b3" }))));
  for (const [from, to] of edges) {
    const a = nodes.get(from), b = nodes.get(to);
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x - 2, y2 = b.y + H / 2, mid = (x1 + x2) / 2;
    svg.append(s("path", {
      class: "edge", d: `M${x1} ${y1} C${mid} ${y1} ${mid} ${y2} ${x2} ${y2}`,
      "marker-end": "url(#arrow)", "data-from": from, "data-to": to,
    }));
  }
  const drawn = new Map();
  for (const [name, node] of nodes) {
    const parts = drawNode(name, node);
    drawn.set(name, parts);
    svg.append(parts.group);
  }
  const update = (records) => {
    for (const record of records || []) {
      const parts = drawn.get(record.name);
      if (!parts) continue;
      const classes = parts.group.getAttribute("class").replace(/state-\w+/, `state-${record.state}`);
      parts.group.setAttribute("class", classes);
      parts.group.dataset.state = record.state;
      if (parts.parameterized && record.items_total !== null && record.items_total !== undefined) {
        const total = Math.max(record.items_total, 1), span = W - 20;
        const done = (span * record.items_done) / total, failed = (span * record.items_failed) / total;
        parts.group.querySelector(".bar-done").setAttribute("width", done);
        const bad = parts.group.querySelector(".bar-failed");
        bad.setAttribute("x", 10 + done);
        bad.setAttribute("width", failed);
        parts.sub.textContent = `${record.state} · ${record.items_done}/${record.items_total}`
          + (record.items_failed ? ` · ${record.items_failed} failed` : "");
      } else {
        parts.sub.textContent = record.state;
      }
    }
  };
  return { svg, update };
}
