// Small SVG charts for the system page: a line over samples and vertical bars.

import { h, s } from "./dom.js";

const W = 360, H = 150, L = 58, B = 22, T = 8, R = 8;
const MAX_LABELLED = 8; // more bars than this: names in the tooltips only

function frame(title, svg) {
  return h("div", { class: "chart" }, h("div", { class: "title" }, title), svg);
}

/** Samples [{t (ms), v}] as a line; `format` labels the axis. */
export function lineChart(title, samples, format = String) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}` });
  const values = samples.map((p) => p.v);
  const top = Math.max(...values, 1e-9) * 1.15;
  svg.append(s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  svg.append(s("line", { class: "axis", x1: L, x2: L, y1: T, y2: H - B }));
  svg.append(s("text", { class: "label", x: L - 4, y: T + 8, "text-anchor": "end", text: format(top) }));
  svg.append(s("text", { class: "label", x: L - 4, y: H - B, "text-anchor": "end", text: format(0) }));
  if (samples.length > 1) {
    const t0 = samples[0].t, span = Math.max(samples.at(-1).t - t0, 1);
    const points = samples.map((p) =>
      `${L + ((W - L - R) * (p.t - t0)) / span},${H - B - ((H - B - T) * p.v) / top}`);
    svg.append(s("polyline", { class: "line", points: points.join(" ") }));
    svg.append(s("text", { class: "label", x: W - R, y: H - 6, "text-anchor": "end", text: `last ${Math.round(span / 1000)} s` }));
  } else {
    svg.append(s("text", { class: "label", x: W / 2, y: H / 2, "text-anchor": "middle", text: "collecting samples…" }));
  }
  if (samples.length) svg.append(s("text", { class: "label", x: L + 4, y: T + 8, text: `now ${format(samples.at(-1).v)}` }));
  return frame(title, svg);
}

/** Bars [{label, value}]. */
export function barChart(title, bars, format = String) {
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}` });
  svg.append(s("line", { class: "axis", x1: L, x2: W - R, y1: H - B, y2: H - B }));
  if (!bars.length) {
    svg.append(s("text", { class: "label", x: W / 2, y: H / 2, "text-anchor": "middle", text: "no data yet" }));
    return frame(title, svg);
  }
  const top = Math.max(...bars.map((b) => b.value), 1e-9);
  const slot = (W - L - R) / bars.length, width = Math.max(Math.min(slot * 0.7, 40), 2);
  bars.forEach((bar, i) => {
    const height = ((H - B - T - 12) * bar.value) / top;
    const x = L + i * slot + (slot - width) / 2;
    svg.append(s("rect", { class: "barv", x, y: H - B - height, width, height },
      s("title", { text: `${bar.label}: ${format(bar.value)}` })));
    if (bars.length <= MAX_LABELLED) {
      svg.append(s("text", { class: "label", x: x + width / 2, y: H - B - height - 3, "text-anchor": "middle", text: format(bar.value) }));
      const room = Math.max(Math.floor(slot / 6.5), 3);
      const label = bar.label.length > room ? `${bar.label.slice(0, room - 1)}…` : bar.label;
      svg.append(s("text", { class: "label", x: x + width / 2, y: H - 7, "text-anchor": "middle", text: label }));
    }
  });
  return frame(title, svg);
}
