// Every workflow with its newest run (state and duration), kept current by the runs stream.

import { get } from "../api.js";
import { badge, durationOf, encode, formatDuration, formatTime, h, link, replace, table } from "../dom.js";
import { runUpdates } from "../live.js";

function lastRunCell(run) {
  if (!run) return h("span", { class: "muted" }, "never run");
  return h("span", { class: "last-run", dataset: { run: run.uid } },
    badge(run.state), " ", link(`runs/${encode(run.name)}`, run.name), " ",
    h("span", { class: "muted" }, `${formatTime(run.started_at)} · ${formatDuration(durationOf(run))}`));
}

export async function render(view, _params, page) {
  document.title = "Workflows · Flowdapt";
  const workflows = await get("/dashboard/api/workflows");
  if (!page.current) return;
  const cells = new Map();
  const rows = workflows.map((w) => ({ ...w, cell: h("td", null, lastRunCell(w.last_run)) }));
  const columns = [
    { title: "Workflow", cell: (w) => link(`workflows/${encode(w.name)}`, w.name) },
    { title: "Stages", class: "num", cell: (w) => `${w.stages}${w.parameterized ? ` (${w.parameterized} parameterized)` : ""}` },
    { title: "Annotations", cell: (w) => Object.entries(w.annotations).map(([k, v]) => h("span", { class: "badge tag" }, `${k}: ${v}`)) },
    { title: "Last run", cell: () => null },
  ];
  const built = table(columns, rows, { empty: "No workflows yet: apply one with flowctl apply -p FILE.", rowProps: (w) => ({ dataset: { workflow: w.name } }) });
  // Swap the placeholder "Last run" cells for the live ones.
  built.querySelectorAll("tbody tr[data-workflow]").forEach((tr, i) => {
    tr.lastChild.replaceWith(rows[i].cell);
    cells.set(rows[i].name, rows[i]);
  });
  replace(view, h("h1", null, "Workflows"), built);
  page.onLeave(runUpdates(null, (run) => {
    const row = cells.get(run.workflow);
    if (!row) return;
    const last = row.last_run;
    if (last && last.uid !== run.uid && last.started_at > run.started_at) return; // an older run
    row.last_run = run;
    replace(row.cell, lastRunCell(run));
  }));
}
