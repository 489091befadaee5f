// Building the page from data without innerHTML: every value goes in as text, never as markup.

const SVG_NS = "http://www.w3.org/2000/svg";

function assign(el, props) {
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key in el && !(el instanceof SVGElement)) el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** h("a", {href, class}, "text", child…): an HTML element. */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  assign(el, props);
  append(el, children);
  return el;
}

/** s("rect", {x, y}): an SVG element. */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null) continue;
    if (key === "text") el.textContent = value;
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/** Timestamps on the wire are naive UTC (the original's format): read them as UTC. */
export function parseTime(iso) {
  if (!iso) return null;
  return new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
}

export function formatTime(iso) {
  const date = parseTime(iso);
  if (!date) return "—";
  const sameDay = date.toDateString() === new Date().toDateString();
  return sameDay ? date.toLocaleTimeString() : date.toLocaleString();
}

export function formatDuration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
  const m = Math.floor(seconds / 60), sec = Math.round(seconds % 60);
  if (m < 60) return `${m} min ${sec} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** A run's or stage's duration: until now while it is still going. */
export function durationOf(record, now = Date.now()) {
  const start = parseTime(record.started_at);
  if (!start) return null;
  const end = parseTime(record.finished_at);
  return ((end ? end.getTime() : now) - start.getTime()) / 1000;
}

export function formatBytes(bytes) {
  if (bytes === null || bytes === undefined) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit ? 1 : 0)} ${units[unit]}`;
}

export const FINAL_STATES = new Set(["finished", "failed", "cancelled"]);

export function badge(state) {
  return h("span", { class: `badge state-${state}`, dataset: { state } }, state);
}

export function link(path, text) {
  return h("a", { href: `/dashboard/${path}` }, text);
}

export function encode(name) {
  return encodeURIComponent(name);
}

/** A table from column specs {title, cell(row), class} and rows. */
export function table(columns, rows, { empty = "Nothing here yet.", rowProps } = {}) {
  const head = h("tr", null, columns.map((c) => h("th", { class: c.class }, c.title)));
  const body = rows.length
    ? rows.map((row) => h("tr", rowProps ? rowProps(row) : null,
        columns.map((c) => h("td", { class: c.class }, c.cell(row)))))
    : [h("tr", null, h("td", { class: "empty", colSpan: columns.length }, empty))];
  return h("table", null, h("thead", null, head), h("tbody", null, body));
}

/** Items done / failed / total of a parameterized stage, as a bar and numbers. */
export function progress(stage) {
  if (stage.items_total === null || stage.items_total === undefined) return "—";
  const total = Math.max(stage.items_total, 1);
  const done = (100 * stage.items_done) / total, failed = (100 * stage.items_failed) / total;
  return h("span", { class: "items", dataset: { done: stage.items_done, total: stage.items_total } },
    h("span", { class: "progress" },
      h("span", { class: "done", style: `width:${done}%` }),
      h("span", { class: "failed", style: `width:${failed}%` })),
    `${stage.items_done} done · ${stage.items_failed} failed · ${stage.items_total} total`);
}
