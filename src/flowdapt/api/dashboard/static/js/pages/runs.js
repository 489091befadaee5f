// Runs of every workflow: filter by workflow and state, page through them; rows change state live
// and new runs appear on the first page as they start.

import { get } from "../api.js";
import { badge, durationOf, encode, formatDuration, formatTime, h, link, replace, table } from "../dom.js";
import { runUpdates } from "../live.js";
import { navigate } from "../nav.js";

const STATES = ["pending", "running", "finished", "failed", "cancelled"];
const PAGE = 50;

const COLUMNS = [
  { title: "Run", cell: (r) => link(`runs/${encode(r.name)}`, r.name) },
  { title: "Workflow", cell: (r) => link(`workflows/${encode(r.workflow)}`, r.workflow) },
  { title: "State", cell: (r) => badge(r.state) },
  { title: "Source", cell: (r) => r.source ?? "—" },
  { title: "Started", cell: (r) => formatTime(r.started_at) },
  { title: "Duration", class: "num", cell: (r) => formatDuration(durationOf(r)) },
];

/**
 * A runs table that follows the runs stream: known rows are redrawn, new runs that `accepts`
 * are put on top (when `prepend`), at most `limit` rows. apply(update) → true if a row was added.
 */
export function liveRunsTable(runs, { limit, accepts = () => true, prepend = true, empty, workflowColumn = true }) {
  const columns = workflowColumn ? COLUMNS : COLUMNS.filter((c) => c.title !== "Workflow");
  const rows = [...runs];
  const wrap = h("div", { class: "runs-table" });
  const draw = () => replace(wrap, table(columns, rows, { empty, rowProps: (r) => ({ dataset: { run: r.name, state: r.state } }) }));
  draw();
  let timer = null;
  const ticking = () => { // durations of running runs advance without asking the server
    const running = rows.some((r) => !r.finished_at);
    if (running && !timer) timer = setInterval(draw, 1000);
    if (!running && timer) { clearInterval(timer); timer = null; }
  };
  ticking();
  const apply = (update) => {
    const index = rows.findIndex((r) => r.uid === update.uid);
    let added = false;
    if (index >= 0) rows[index] = { ...rows[index], ...update };
    else if (prepend && accepts(update)) { rows.unshift(update); rows.length = Math.min(rows.length, limit); added = true; }
    else return false;
    draw();
    ticking();
    return added;
  };
  return { el: wrap, apply, stop: () => timer && clearInterval(timer) };
}

function select(name, options, current, label) {
  return h("label", null, `${label} `, h("select", { name, dataset: { testid: `filter-${name}` } },
    h("option", { value: "" }, "all"),
    options.map((o) => h("option", { value: o, selected: o === current }, o))));
}

export async function render(view, _params, page) {
  document.title = "Runs · Flowdapt";
  const workflow = page.query.get("workflow") || "";
  const state = page.query.get("state") || "";
  const offset = Math.max(0, Number(page.query.get("offset")) || 0);
  const [listing, workflows] = await Promise.all([
    get("/dashboard/api/runs", { workflow, state, limit: PAGE, offset }),
    get("/dashboard/api/workflows"),
  ]);
  if (!page.current) return;
  let total = listing.total;
  const go = (changes) => {
    const query = new URLSearchParams({ workflow, state, offset, ...changes });
    for (const [key, value] of [...query]) if (!value || value === "0") query.delete(key);
    navigate(`/dashboard/runs${query.size ? `?${query}` : ""}`);
  };
  const filters = h("div", { class: "toolbar" },
    select("workflow", workflows.map((w) => w.name), workflow, "Workflow"),
    select("state", STATES, state, "State"));
  filters.addEventListener("change", (event) => go({ [event.target.name]: event.target.value, offset: 0 }));
  const live = liveRunsTable(listing.runs, {
    limit: PAGE, prepend: offset === 0,
    accepts: (r) => (!workflow || r.workflow === workflow) && (!state || r.state === state),
    empty: workflow || state ? "No runs match these filters." : "No runs yet.",
  });
  const counter = h("span", { class: "muted", dataset: { testid: "runs-count" } });
  const showCount = () => {
    const last = Math.min(offset + PAGE, total);
    counter.textContent = total ? `${offset + 1}–${last} of ${total}` : "0 runs";
  };
  showCount();
  const pager = h("div", { class: "pager" },
    h("button", { class: "secondary", disabled: offset === 0, onclick: () => go({ offset: Math.max(0, offset - PAGE) }) }, "← Newer"),
    counter,
    h("button", { class: "secondary", disabled: offset + PAGE >= total, dataset: { testid: "older" }, onclick: () => go({ offset: offset + PAGE }) }, "Older →"));
  replace(view, h("h1", null, "Runs"), filters, live.el, pager);
  page.onLeave(live.stop);
  page.onLeave(runUpdates(null, (run) => {
    if (live.apply(run)) { total += 1; showCount(); }
  }));
}
